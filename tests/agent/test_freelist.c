// SPDX-License-Identifier: Apache-2.0
/*
 * A thread's free list: a block given back is the next one handed out, no
 * more than its bound are kept (the rest go back to malloc), draining
 * gives every kept block back, and so does the end of the thread that kept
 * them.  The last two are measured as malloc counts them: blocks above
 * the mmap threshold are mapped one each, and mallinfo2()'s hblkhd is
 * their total, so a block freed is a block's bytes less.
 */
#include <malloc.h>
#include <pthread.h>

#include "harness/test.h"
#include "../../agent/freelist.h"


/* Above the threshold test_main sets: each block is an mmap of its own. */
#define FL_BIG	(256u * 1024)
#define FL_KEEP	3

FREELIST_THREAD(fl_small, 100, 4);
FREELIST_THREAD(fl_big, FL_BIG, FL_KEEP);

/* Bytes of the blocks malloc has mmap'ed and not yet unmapped. */
static size_t mapped(void)
{
	return mallinfo2().hblkhd;
}

static bool test_reuse(void)
{
	void *a = freelist_get(&fl_small), *b = freelist_get(&fl_small);
	bool ok;

	ok = ASSERT_TRUE(a && b && a != b) && ASSERT_EQ(fl_small.n, 0);
	freelist_put(&fl_small, a);
	freelist_put(&fl_small, b);
	freelist_put(&fl_small, NULL);	/* nothing */
	/* Last given back, first handed out: the block still in cache. */
	ok = ok && ASSERT_EQ(fl_small.n, 2) &&
	     ASSERT_TRUE(freelist_get(&fl_small) == b) &&
	     ASSERT_TRUE(freelist_get(&fl_small) == a) &&
	     ASSERT_EQ(fl_small.n, 0);
	free(a);	/* a block may also go straight to free() */
	freelist_put(&fl_small, b);
	freelist_drain(&fl_small);
	return ok && ASSERT_EQ(fl_small.n, 0);
}

static bool test_bound_and_drain(void)
{
	void *p[FL_KEEP + 2];
	size_t base = mapped();
	bool ok = true;

	if (TEST_ASAN)
		TEST_SKIP("built with AddressSanitizer, whose allocator "
			  "mallinfo2() does not see");
	for (unsigned int i = 0; ok && i < FL_KEEP + 2; i++)
		ok = ASSERT_TRUE((p[i] = freelist_get(&fl_big)) != NULL);
	if (!ok)
		return false;
	ok = ASSERT_GE(mapped(), base + (FL_KEEP + 2) * FL_BIG);
	for (unsigned int i = 0; i < FL_KEEP + 2; i++)
		freelist_put(&fl_big, p[i]);
	/* FL_KEEP kept, the two over the bound freed. */
	ok = ok && ASSERT_EQ(fl_big.n, FL_KEEP) &&
	     ASSERT_GE(mapped(), base + FL_KEEP * FL_BIG) &&
	     ASSERT_TRUE(mapped() < base + (FL_KEEP + 1) * FL_BIG);
	freelist_drain(&fl_big);
	return ok && ASSERT_EQ(fl_big.n, 0) && ASSERT_EQ(mapped(), base);
}

/* A thread that keeps FL_KEEP blocks, then ends. */
static void *keeper(void *arg)
{
	void *p[FL_KEEP];

	for (unsigned int i = 0; i < FL_KEEP; i++)
		p[i] = freelist_get(&fl_big);
	for (unsigned int i = 0; i < FL_KEEP; i++)
		freelist_put(&fl_big, p[i]);
	*(size_t *)arg = fl_big.n;
	return NULL;
}

static bool test_thread_end_returns(void)
{
	size_t base = mapped(), kept = 0;
	pthread_t th;

	if (TEST_ASAN)
		TEST_SKIP("built with AddressSanitizer, whose allocator "
			  "mallinfo2() does not see");
	if (!ASSERT_EQ(pthread_create(&th, NULL, keeper, &kept), 0) ||
	    !ASSERT_EQ(pthread_join(th, NULL), 0))
		return false;
	/* The thread's list was its own (this thread's is empty), and its
	 * blocks went back when it ended. */
	return ASSERT_EQ(kept, FL_KEEP) && ASSERT_EQ(fl_big.n, 0) &&
	       ASSERT_EQ(mapped(), base);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	/* A fixed threshold: a freed mapped block would raise it, and later
	 * ones would come from the heap. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	TEST_RUN(test_reuse);
	TEST_RUN(test_bound_and_drain);
	TEST_RUN(test_thread_end_returns);
	TEST_MAIN_END();
}
