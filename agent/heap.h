/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transient heap: the malloc memory a connection holds for a while only
 * (a handshake's ~80 KB for a few milliseconds, queue buffers while data
 * is on its way).  A burst of new connections grows the heap by that many
 * times over, and free() only gives back the top of the heap, while the
 * burst's memory is mostly below what was allocated meanwhile: without
 * help an agent would keep the size of its busiest second for ever, and
 * its resident size with thousands of idle connections would say more
 * about how they were opened than about what they hold.
 *
 * So the bytes held this way are counted (by their holders, some at an
 * estimate), and when they fall to a sixteenth of a peak of at least
 * HEAP_TRIM_PEAK, the burst is over: malloc_trim() returns the free pages
 * to the system.  A trim needs a new peak of that size after it, which
 * bounds how often it can happen to far less than the allocations it
 * follows.  Thread-safe: each thread's counts reach the total in steps
 * (heap.c), which leaves it off by less than 128 KiB a thread.
 */
#ifndef MF_HEAP_H
#define MF_HEAP_H

#include <stddef.h>

#define HEAP_TRIM_PEAK	(8u << 20)

/* Counts @n more transient bytes. */
void heap_grow(size_t n);
/* Counts @n transient bytes given back; trims when a burst is over. */
void heap_shrink(size_t n);

#endif /* MF_HEAP_H */
