// SPDX-License-Identifier: Apache-2.0
/*
 * MeshCircuitBreaker's connection limits (agent/breaker.c): a kind is
 * counted up to its limit and refused past it, freed room is taken again,
 * services and kinds are counted apart, and no limit means none.
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

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_limits);
	TEST_MAIN_END();
}
