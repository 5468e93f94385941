/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A thread's stock of free memory blocks of one size, so that what a
 * request takes and gives back at every exchange (a queue's chunk, a
 * message head's buffer) comes from the last one given back rather than
 * from malloc() and free() each time.
 *
 * A list is bounded: it keeps at most @max blocks, and gives any more back
 * to malloc, so what it holds between bursts is at most @max * @size per
 * thread, whatever the number of connections.  Each thread has lists of
 * its own (declare them FREELIST_THREAD): no lock is taken, and a block
 * may be freed on another thread than the one that took it.  What a thread
 * keeps goes back to malloc when the thread ends (freelist_drain() does it
 * at any time).
 *
 * A block is handed out as it was given back: callers that held secrets
 * in it wipe them before freelist_put(), as they would before free().
 */
#ifndef MF_FREELIST_H
#define MF_FREELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FREELIST_MAX	64

struct freelist {
	size_t size;		/* bytes of every block */
	uint32_t max;		/* kept at most, <= FREELIST_MAX */
	uint32_t n;		/* kept now: obj[0..n) */
	bool linked;		/* on its thread's list to drain at exit */
	struct freelist *next;	/* ... which this links */
	void *obj[FREELIST_MAX];
};

/* A list of blocks of @sz bytes keeping at most @mx, one per thread. */
#define FREELIST_THREAD(name, sz, mx)					\
	static __thread struct freelist name = { .size = (sz), .max = (mx) }

/* A block of fl->size bytes (not zeroed), owned by the caller until
 * freelist_put() or free().  NULL on ENOMEM. */
void *freelist_get(struct freelist *fl);
/* Gives back block @p (NULL: nothing) of fl->size bytes: kept for the next
 * freelist_get() of this thread, or freed when @fl is full. */
void freelist_put(struct freelist *fl, void *p);
/* Frees every block @fl keeps. */
void freelist_drain(struct freelist *fl);

#endif /* MF_FREELIST_H */
