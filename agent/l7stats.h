/* SPDX-License-Identifier: Apache-2.0 */
/*
 * l7stats: the L7 engine's labelled counters for /metrics.
 *
 *   - requests by (source identity, destination service, route, status
 *     class): meshforge_http_route_requests_total;
 *   - a latency histogram per destination service, from the first byte of
 *     a request to the last of its response:
 *     meshforge_http_request_duration_seconds.
 *
 * Label sets come from policy (identities, services, route names), so they
 * are bounded by it; still, the tables have fixed room (L7STATS_SERIES_MAX
 * and L7STATS_DESTS_MAX), and what finds none is counted in
 * meshforge_http_stats_dropped_total rather than growing memory without
 * bound.  Written by one loop thread only; admin reads it from loop 0,
 * the tables once published whole (ctx.h).
 */
#ifndef MF_AGENT_L7STATS_H
#define MF_AGENT_L7STATS_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define L7STATS_SERIES_MAX	4096
#define L7STATS_DESTS_MAX	1024
#define L7STATS_BUCKETS		13	/* the last one is +Inf */

/* Upper bounds of the histogram's buckets, in seconds (admin prints
 * them), +Inf last. */
extern const double l7stats_bounds[L7STATS_BUCKETS - 1];

struct l7stats_series {
	char src[MF_SPIFFE_MAX];	/* "": unused slot */
	char dst[MF_NAME_MAX];
	char route[MF_NAME_MAX];	/* "": no route decided */
	uint64_t by_class[6];		/* 1xx..5xx by first digit, 0: other */
};

struct l7stats_dest {
	char dst[MF_NAME_MAX];		/* "": unused slot */
	uint64_t buckets[L7STATS_BUCKETS];	/* not cumulative */
	uint64_t count;
	double sum;			/* seconds */
};

struct l7stats {
	struct l7stats_series *series;	/* L7STATS_SERIES_MAX slots, calloc'ed
					 * at the first request.  Owned */
	struct l7stats_dest *dests;	/* L7STATS_DESTS_MAX.  Owned */
	size_t nseries, ndests;		/* slots in use */
	uint64_t dropped;		/* counts that found no slot */
};

/* Counts one finished request: from identity @src to service @dst,
 * decided by @route (NULL or "": none), answered @status, after @seconds. */
void l7stats_count(struct l7stats *s, const char *src, const char *dst,
		   const char *route, int status, double seconds);

void l7stats_free(struct l7stats *s);

#endif /* MF_AGENT_L7STATS_H */
