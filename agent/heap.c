// SPDX-License-Identifier: Apache-2.0
/* Transient heap accounting and trimming: see heap.h. */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>

#include "heap.h"

/* Signed: a thread's shrinks may reach the total before another thread's
 * grows do (below). */
static int64_t heap_live;
static int64_t heap_peak;

/*
 * What a thread grew or shrank by and the total has not heard of yet.  A
 * keep-alive exchange takes a queue chunk and gives it back (a grow and a
 * shrink of 32 KiB each), and two atomic operations on shared counters
 * each time cost more than the rest of the accounting: a thread passes
 * its sum on when it reaches HEAP_BATCH either way, so the total is off by
 * less than that per thread, far below HEAP_TRIM_PEAK / 16, and a burst
 * is counted all the same.
 */
#define HEAP_BATCH	(128 * 1024)
static __thread int64_t heap_pending;

static void heap_flush(void)
{
	int64_t d = heap_pending, live, peak;

	heap_pending = 0;
	live = __atomic_add_fetch(&heap_live, d, __ATOMIC_RELAXED);
	peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
	if (d > 0) {
		while (live > peak &&
		       !__atomic_compare_exchange_n(&heap_peak, &peak, live,
						    true, __ATOMIC_RELAXED,
						    __ATOMIC_RELAXED))
			;
		return;
	}
	if (peak < (int64_t)HEAP_TRIM_PEAK || live > peak / 16)
		return;
	/* The thread that resets the peak trims. */
	if (__atomic_compare_exchange_n(&heap_peak, &peak, live > 0 ? live : 0,
					false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED))
		malloc_trim(0);
}

void heap_grow(size_t n)
{
	heap_pending += (int64_t)n;
	if (heap_pending >= HEAP_BATCH)
		heap_flush();
}

void heap_shrink(size_t n)
{
	heap_pending -= (int64_t)n;
	if (heap_pending <= -HEAP_BATCH)
		heap_flush();
}
