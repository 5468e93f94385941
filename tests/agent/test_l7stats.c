// SPDX-License-Identifier: Apache-2.0
/*
 * The L7 engine's labelled counters: a series per (source, destination,
 * route) counting status classes, a histogram per destination whose
 * buckets take each duration once, and bounded tables that count what
 * finds no room instead of growing.
 */
#include <stdio.h>

#include "harness/test.h"
#include "../../agent/l7stats.h"

static const struct l7stats_series *find(const struct l7stats *s,
					 const char *src, const char *dst,
					 const char *route)
{
	for (size_t i = 0; s->series && i < L7STATS_SERIES_MAX; i++) {
		const struct l7stats_series *x = &s->series[i];

		if (x->src[0] && !strcmp(x->src, src) && !strcmp(x->dst, dst) &&
		    !strcmp(x->route, route))
			return x;
	}
	return NULL;
}

static const struct l7stats_dest *dest(const struct l7stats *s, const char *d)
{
	for (size_t i = 0; s->dests && i < L7STATS_DESTS_MAX; i++)
		if (!strcmp(s->dests[i].dst, d))
			return &s->dests[i];
	return NULL;
}

static bool test_series_and_histogram(void)
{
	struct l7stats s = { 0 };
	const struct l7stats_series *x;
	const struct l7stats_dest *d;
	bool ok;

	l7stats_count(&s, "spiffe://td/a", "web", "r1", 200, 0.0004);
	l7stats_count(&s, "spiffe://td/a", "web", "r1", 204, 0.003);
	l7stats_count(&s, "spiffe://td/a", "web", "r1", 503, 0.003);
	l7stats_count(&s, "spiffe://td/a", "web", NULL, 301, 9.0);
	l7stats_count(&s, "spiffe://td/b", "api", "r1", 0, 0.2);
	x = find(&s, "spiffe://td/a", "web", "r1");
	ok = ASSERT_TRUE(x != NULL) && ASSERT_EQ(x->by_class[2], 2) &&
	     ASSERT_EQ(x->by_class[5], 1) && ASSERT_EQ(x->by_class[3], 0);
	x = find(&s, "spiffe://td/a", "web", "");
	ok = ok && ASSERT_TRUE(x != NULL) && ASSERT_EQ(x->by_class[3], 1);
	x = find(&s, "spiffe://td/b", "api", "r1");
	ok = ok && ASSERT_TRUE(x != NULL) && ASSERT_EQ(x->by_class[0], 1) &&
	     ASSERT_EQ(s.nseries, 3);
	d = dest(&s, "web");
	/* 0.0004 <= 0.0005: first bucket; 0.003: (0.0025, 0.005]; 9 s: +Inf */
	ok = ok && ASSERT_TRUE(d != NULL) && ASSERT_EQ(d->count, 4) &&
	     ASSERT_EQ(d->buckets[0], 1) && ASSERT_EQ(d->buckets[3], 2) &&
	     ASSERT_EQ(d->buckets[L7STATS_BUCKETS - 1], 1) &&
	     ASSERT_TRUE(d->sum > 9.006 && d->sum < 9.0066) &&
	     ASSERT_EQ(s.dropped, 0);
	l7stats_free(&s);
	return ok;
}

/* More label sets than room: the rest is counted as dropped, the table
 * stays at its bound, and the series already there still count. */
static bool test_bounded(void)
{
	struct l7stats s = { 0 };
	char src[64];
	size_t first_full = 0;
	bool ok = true;

	for (size_t i = 0; i < L7STATS_SERIES_MAX + 100; i++) {
		snprintf(src, sizeof(src), "spiffe://td/ns/x/sa/%zu", i);
		l7stats_count(&s, src, "web", "", 200, 0.001);
		if (!first_full && s.dropped)
			first_full = i;
	}
	ok = ASSERT_TRUE(first_full > 0) &&
	     ASSERT_EQ(s.nseries, L7STATS_SERIES_MAX * 3 / 4) &&
	     ASSERT_EQ(s.dropped, L7STATS_SERIES_MAX + 100 - s.nseries) &&
	     ASSERT_EQ(dest(&s, "web")->count, L7STATS_SERIES_MAX + 100);
	l7stats_count(&s, "spiffe://td/ns/x/sa/0", "web", "", 500, 0.001);
	ok = ok && ASSERT_EQ(find(&s, "spiffe://td/ns/x/sa/0", "web", "")->by_class[5], 1);
	l7stats_free(&s);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_series_and_histogram);
	TEST_RUN(test_bounded);
	TEST_MAIN_END();
}
