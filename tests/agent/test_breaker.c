// SPDX-License-Identifier: Apache-2.0
/*
 * MeshCircuitBreaker's connection limits (agent/breaker.c): a kind is
 * counted up to its limit and refused past it, freed room is taken again,
 * services and kinds are counted apart, and no limit means none.
 * maxConnectionPools: ends of a pool that exists always open, a new pool
 * past the limit does not, and a pool goes with its last end (its room
 * then taken by another); tags differ by service, endpoint and identity.
 */
#include <stdlib.h>

#include "harness/test.h"
#include "../../agent/breaker.h"

static bool test_limits(void)
{
	struct breaker *b = calloc(1, sizeof(*b));
	unsigned int took = 0;
	bool ok;

	if (!ASSERT_TRUE(b))
		return false;
	for (int i = 0; i < 10; i++)
		took += breaker_take(b, 42, BREAKER_REQUESTS, 3);
	ok = ASSERT_EQ(took, 3);
	/* Another kind, another service: their own counts. */
	ok = ok && ASSERT_TRUE(breaker_take(b, 42, BREAKER_RETRIES, 1)) &&
	     ASSERT_FALSE(breaker_take(b, 42, BREAKER_RETRIES, 1)) &&
	     ASSERT_TRUE(breaker_take(b, 43, BREAKER_REQUESTS, 3));
	/* One goes: one may come. */
	breaker_put(b, 42, BREAKER_REQUESTS);
	ok = ok && ASSERT_TRUE(breaker_take(b, 42, BREAKER_REQUESTS, 3)) &&
	     ASSERT_FALSE(breaker_take(b, 42, BREAKER_REQUESTS, 3));
	/* 0: no limit. */
	for (int i = 0; ok && i < 1000; i++)
		ok = ASSERT_TRUE(breaker_take(b, 44, BREAKER_CONNS, 0));
	free(b);
	return ok;
}

/* One loop of three (workers.h): its share of a limit of 7 is 3, of a
 * limit of 1 still 1; 0 is still no limit. */
static bool test_loop_share(void)
{
	struct breaker *b = calloc(1, sizeof(*b));
	unsigned int took = 0;
	bool ok;

	if (!ASSERT_TRUE(b))
		return false;
	b->loops = 3;
	for (int i = 0; i < 10; i++)
		took += breaker_take(b, 42, BREAKER_REQUESTS, 7);
	ok = ASSERT_EQ(took, 3) &&
	     ASSERT_TRUE(breaker_take(b, 43, BREAKER_RETRIES, 1)) &&
	     ASSERT_FALSE(breaker_take(b, 43, BREAKER_RETRIES, 1)) &&
	     ASSERT_TRUE(breaker_take(b, 44, BREAKER_CONNS, 0));
	free(b);
	return ok;
}

static bool test_pools(void)
{
	struct breaker *b = calloc(1, sizeof(*b));
	uint64_t a = breaker_pool_tag(42, 1, "spiffe://td/a");
	uint64_t a2 = breaker_pool_tag(42, 2, "spiffe://td/a");
	uint64_t a3 = breaker_pool_tag(42, 1, "spiffe://td/b");
	bool ok;

	if (!ASSERT_TRUE(b))
		return false;
	ok = ASSERT_TRUE(a != a2 && a != a3 && a2 != a3 &&
			 a != breaker_pool_tag(43, 1, "spiffe://td/a"));
	/* Limit 2: pools a and a2, with several ends each. */
	for (int i = 0; ok && i < 3; i++)
		ok = ASSERT_TRUE(breaker_pool_open(b, a, 42, 2)) &&
		     ASSERT_TRUE(breaker_pool_open(b, a2, 42, 2));
	/* A third pool: no. */
	ok = ok && ASSERT_FALSE(breaker_pool_open(b, a3, 42, 2));
	/* a2 loses two of three ends: still a pool. */
	breaker_pool_close(b, a2);
	breaker_pool_close(b, a2);
	ok = ok && ASSERT_FALSE(breaker_pool_open(b, a3, 42, 2));
	/* Its last: gone, and a3 takes its room; then a2 may not. */
	breaker_pool_close(b, a2);
	ok = ok && ASSERT_TRUE(breaker_pool_open(b, a3, 42, 2)) &&
	     ASSERT_FALSE(breaker_pool_open(b, a2, 42, 2)) &&
	     ASSERT_TRUE(breaker_pool_open(b, a, 42, 2));
	/* Another service counts its own. */
	ok = ok && ASSERT_TRUE(breaker_pool_open(b, breaker_pool_tag(43, 2, ""),
						 43, 1));
	free(b);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_pools);
	TEST_RUN(test_limits);
	TEST_RUN(test_loop_share);
	TEST_MAIN_END();
}
