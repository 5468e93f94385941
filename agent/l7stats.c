// SPDX-License-Identifier: Apache-2.0
/*
 * The L7 engine's labelled counters (see l7stats.h): two open-addressing
 * tables, linear probing on an FNV-1a hash of the labels.  Slots are
 * never removed, so a probe ends at the first unused one.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "l7stats.h"

const double l7stats_bounds[L7STATS_BUCKETS - 1] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	5,
};

static uint64_t l7stats_hash(uint64_t h, const char *s)
{
	return hash_fnv_str(h, s);	/* its NUL separates the labels */
}

/* Copies @s into @dst of @n bytes; false when it does not fit (a label
 * longer than policy allows: not counted under a cut name). */
static bool l7stats_copy(char *dst, size_t n, const char *s)
{
	size_t len = strlen(s);

	if (len >= n)
		return false;
	memcpy(dst, s, len + 1);
	return true;
}

static struct l7stats_series *l7stats_series(struct l7stats *s, const char *src,
					     const char *dst, const char *route)
{
	uint64_t h = l7stats_hash(l7stats_hash(l7stats_hash(
			HASH_FNV_INIT, src), dst), route);

	for (size_t i = 0; i < L7STATS_SERIES_MAX; i++) {
		struct l7stats_series *x =
			&s->series[(h + i) % L7STATS_SERIES_MAX];

		if (!x->src[0]) {
			/* Keep a probe short: a table this full is one a
			 * label explosion filled. */
			if (s->nseries >= L7STATS_SERIES_MAX * 3 / 4 ||
			    !l7stats_copy(x->src, sizeof(x->src), src) ||
			    !l7stats_copy(x->dst, sizeof(x->dst), dst) ||
			    !l7stats_copy(x->route, sizeof(x->route), route)) {
				memset(x, 0, sizeof(*x));
				return NULL;
			}
			s->nseries++;
			return x;
		}
		if (!strcmp(x->src, src) && !strcmp(x->dst, dst) &&
		    !strcmp(x->route, route))
			return x;
	}
	return NULL;
}

static struct l7stats_dest *l7stats_dest(struct l7stats *s, const char *dst)
{
	uint64_t h = l7stats_hash(HASH_FNV_INIT, dst);

	for (size_t i = 0; i < L7STATS_DESTS_MAX; i++) {
		struct l7stats_dest *x = &s->dests[(h + i) % L7STATS_DESTS_MAX];

		if (!x->dst[0]) {
			if (s->ndests >= L7STATS_DESTS_MAX * 3 / 4 ||
			    !l7stats_copy(x->dst, sizeof(x->dst), dst)) {
				memset(x, 0, sizeof(*x));
				return NULL;
			}
			s->ndests++;
			return x;
		}
		if (!strcmp(x->dst, dst))
			return x;
	}
	return NULL;
}

void l7stats_count(struct l7stats *s, const char *src, const char *dst,
		   const char *route, int status, double seconds)
{
	struct l7stats_series *x;
	struct l7stats_dest *d;
	size_t b = 0;

	if (!s->series) {
		x = calloc(L7STATS_SERIES_MAX, sizeof(*s->series));
		d = calloc(L7STATS_DESTS_MAX, sizeof(*s->dests));
		if (!x || !d) {
			free(x);
			free(d);
			s->dropped++;
			return;
		}
		/* Published whole, zeroed first: with several loops, admin
		 * reads them from another thread (ctx.h). */
		__atomic_store_n(&s->dests, d, __ATOMIC_RELEASE);
		__atomic_store_n(&s->series, x, __ATOMIC_RELEASE);
	}
	x = l7stats_series(s, src && *src ? src : "-", dst && *dst ? dst : "-",
			   route ? route : "");
	if (x)
		x->by_class[status >= 100 && status < 600 ? status / 100 : 0]++;
	else
		s->dropped++;
	d = l7stats_dest(s, dst && *dst ? dst : "-");
	if (!d) {
		s->dropped++;
		return;
	}
	while (b < L7STATS_BUCKETS - 1 && seconds > l7stats_bounds[b])
		b++;
	d->buckets[b]++;
	d->count++;
	d->sum += seconds;
}

void l7stats_free(struct l7stats *s)
{
	free(s->series);
	free(s->dests);
	s->series = NULL;
	s->dests = NULL;
	s->nseries = s->ndests = 0;
}
