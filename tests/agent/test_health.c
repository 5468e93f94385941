// SPDX-License-Identifier: Apache-2.0
/*
 * The parts of MeshHealthCheck's checker that need no connection
 * (agent/health.c): the thresholds, and the TCP check's fuzzy match.
 * Thresholds: unhealthyThreshold failures in a row make a healthy
 * endpoint unhealthy and a success in between starts the count over;
 * healthyThreshold successes in a row bring it back; the verdict moves
 * once per crossing.  The match: each block found in order, not
 * necessarily contiguous, whatever the pieces the bytes come in (one at
 * a time, a block split across two); blocks out of order or missing do
 * not match; no block matches at once ("connect only").  The probes
 * themselves go over the tunnel: tests/integration/test_health_check.sh.
 */
#include <string.h>

#include "harness/test.h"
#include "../../agent/health.h"

static bool test_thresholds(void)
{
	struct health_run r = { 0 };
	int moved = 0;

	/* 3 to go down: fail, fail, ok, then three fails. */
	moved += health_verdict(&r, false, 3, 2);
	moved += health_verdict(&r, false, 3, 2);
	if (!ASSERT_EQ(moved, 0) || !ASSERT_FALSE(r.down))
		return false;
	health_verdict(&r, true, 3, 2);
	health_verdict(&r, false, 3, 2);
	health_verdict(&r, false, 3, 2);
	if (!ASSERT_FALSE(r.down) ||
	    !ASSERT_EQ(health_verdict(&r, false, 3, 2), -1) ||
	    !ASSERT_TRUE(r.down) ||
	    !ASSERT_EQ(health_verdict(&r, false, 3, 2), 0))
		return false;
	/* 2 to come back: ok, fail, ok, ok. */
	return ASSERT_EQ(health_verdict(&r, true, 3, 2), 0) &&
	       ASSERT_EQ(health_verdict(&r, false, 3, 2), 0) &&
	       ASSERT_EQ(health_verdict(&r, true, 3, 2), 0) &&
	       ASSERT_TRUE(r.down) &&
	       ASSERT_EQ(health_verdict(&r, true, 3, 2), 1) &&
	       ASSERT_FALSE(r.down) &&
	       ASSERT_EQ(health_verdict(&r, true, 3, 2), 0);
}

static void matcher(struct health_match *m, const char *a, const char *b)
{
	memset(m, 0, sizeof(*m));
	if (a) {
		m->len[m->nblocks] = (uint16_t)strlen(a);
		memcpy(m->block[m->nblocks++], a, strlen(a));
	}
	if (b) {
		m->len[m->nblocks] = (uint16_t)strlen(b);
		memcpy(m->block[m->nblocks++], b, strlen(b));
	}
}

/* Feeds @s in pieces of @piece bytes; whether it matched. */
static bool feed(struct health_match *m, const char *s, size_t piece)
{
	size_t n = strlen(s);
	bool done = false;

	for (size_t i = 0; i < n; i += piece)
		done = health_match_feed(m, (const uint8_t *)s + i,
					 n - i < piece ? n - i : piece);
	return done;
}

static bool test_match(void)
{
	static const char *answer = "+OK hello world, PONG and more";
	struct health_match m;

	for (size_t piece = 1; piece <= strlen(answer); piece++) {
		matcher(&m, "hello", "PONG");
		if (!ASSERT_TRUE(feed(&m, answer, piece))) {
			fprintf(stderr, "  pieces of %zu\n", piece);
			return false;
		}
		/* Out of order: PONG first, then hello (which came before
		 * it) is not found after it. */
		matcher(&m, "PONG", "hello");
		if (!ASSERT_FALSE(feed(&m, answer, piece)) ||
		    !ASSERT_EQ(m.found, 1))
			return false;
		matcher(&m, "world", "PANG");
		if (!ASSERT_FALSE(feed(&m, answer, piece)))
			return false;
	}
	/* Both blocks in one piece, and the second one's first byte right
	 * after the first. */
	matcher(&m, "ab", "cd");
	if (!ASSERT_TRUE(feed(&m, "xxabcdyy", 8)))
		return false;
	/* A long answer before the block. */
	matcher(&m, "needle", NULL);
	{
		char big[10000];

		memset(big, 'x', sizeof(big));
		memcpy(big + 9000, "needle", 6);
		big[sizeof(big) - 1] = '\0';
		if (!ASSERT_TRUE(feed(&m, big, 1000)))
			return false;
	}
	/* No block: matched at once, with no byte. */
	matcher(&m, NULL, NULL);
	return ASSERT_TRUE(health_match_feed(&m, NULL, 0));
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_thresholds);
	TEST_RUN(test_match);
	TEST_MAIN_END();
}
