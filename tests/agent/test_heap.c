// SPDX-License-Identifier: Apache-2.0
/*
 * Transient heap accounting (agent/heap.c): a thread's grows and shrinks
 * reach the shared total in steps of HEAP_BATCH, so that the churn of an
 * exchange (a chunk taken and given back) touches no shared counter; a
 * burst is counted all the same, raises the peak, and its end (the total
 * back under a sixteenth of a peak of HEAP_TRIM_PEAK or more) trims and
 * starts the peak over.  The file is included to read its counters.
 */
#include <pthread.h>

#include "harness/test.h"
#include "../../agent/heap.c"

static int64_t live(void)
{
	return __atomic_load_n(&heap_live, __ATOMIC_RELAXED);
}

static int64_t peak(void)
{
	return __atomic_load_n(&heap_peak, __ATOMIC_RELAXED);
}

static bool test_churn_stays_local(void)
{
	int64_t l0 = live(), p0 = peak();
	bool ok = true;

	/* An exchange's chunk, many times over: nothing reaches the total. */
	for (int i = 0; ok && i < 10000; i++) {
		heap_grow(32 * 1024 + 24);
		heap_shrink(32 * 1024 + 24);
		ok = ASSERT_EQ(live(), l0) && ASSERT_EQ(heap_pending, 0);
	}
	/* Below a batch either way it waits; at a batch it is passed on. */
	heap_grow(HEAP_BATCH - 1);
	ok = ok && ASSERT_EQ(live(), l0) &&
	     ASSERT_EQ(heap_pending, HEAP_BATCH - 1);
	heap_grow(1);
	ok = ok && ASSERT_EQ(live(), l0 + HEAP_BATCH) &&
	     ASSERT_EQ(heap_pending, 0) &&
	     ASSERT_EQ(peak(), p0 > l0 + HEAP_BATCH ? p0 : l0 + HEAP_BATCH);
	heap_shrink(HEAP_BATCH);
	return ok && ASSERT_EQ(live(), l0) && ASSERT_EQ(heap_pending, 0);
}

static bool test_burst_counted_then_trimmed(void)
{
	const int64_t step = 80 * 1024;	/* a handshake's, about */
	const int n = (int)(2 * HEAP_TRIM_PEAK / step);
	int64_t l0 = live(), top;
	bool ok;

	for (int i = 0; i < n; i++)
		heap_grow((size_t)step);
	/* All of it but what waits for a batch. */
	top = peak();
	ok = ASSERT_GE(live(), l0 + n * step - HEAP_BATCH) &&
	     ASSERT_GE(top, live()) &&
	     ASSERT_GE(top, (int64_t)HEAP_TRIM_PEAK);
	/* Down to under a sixteenth: the burst is over, and the peak starts
	 * over from what was left then. */
	for (int i = 0; i < n; i++)
		heap_shrink((size_t)step);
	ok = ok && ASSERT_TRUE(peak() <= top / 16) &&
	     ASSERT_TRUE(live() - l0 < HEAP_BATCH && l0 - live() < HEAP_BATCH);
	return ok;
}

/* Another thread's pending sum is its own. */
static void *grower(void *arg)
{
	heap_grow(1000);
	*(int64_t *)arg = heap_pending;
	return NULL;
}

static bool test_pending_per_thread(void)
{
	int64_t theirs = 0, mine = heap_pending;
	pthread_t th;

	return ASSERT_EQ(pthread_create(&th, NULL, grower, &theirs), 0) &&
	       ASSERT_EQ(pthread_join(th, NULL), 0) &&
	       ASSERT_EQ(theirs, 1000) && ASSERT_EQ(heap_pending, mine);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_churn_stays_local);
	TEST_RUN(test_burst_counted_then_trimmed);
	TEST_RUN(test_pending_per_thread);
	TEST_MAIN_END();
}
