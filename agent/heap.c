// SPDX-License-Identifier: Apache-2.0
/* Transient heap accounting and trimming: see heap.h. */
#include <malloc.h>
#include <stdbool.h>

#include "heap.h"

static size_t heap_live, heap_peak;

void heap_grow(size_t n)
{
	size_t live = __atomic_add_fetch(&heap_live, n, __ATOMIC_RELAXED);
	size_t peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);

	while (live > peak &&
	       !__atomic_compare_exchange_n(&heap_peak, &peak, live, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void heap_shrink(size_t n)
{
	size_t live = __atomic_sub_fetch(&heap_live, n, __ATOMIC_RELAXED);
	size_t peak = __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);

	if (peak < HEAP_TRIM_PEAK || live > peak / 16)
		return;
	/* The thread that resets the peak trims. */
	if (__atomic_compare_exchange_n(&heap_peak, &peak, live, false,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		malloc_trim(0);
}
