/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router: where a connection (L4) or a request (L7) to a service goes, per
 * the routing policies of the snapshot it started with.
 *
 * TrafficRoute (Kuma's legacy kind): the one that applies to a connection
 * is found once, when it is accepted, by Kuma's rule for legacy policies
 * (sel_legacy_best(): the best source and destination selector match).
 * Its conf then decides each pick:
 *   - conf.http[i], for a request its match accepts (method, path, headers:
 *     prefix or exact; the first such entry wins), with its own split or
 *     destination;
 *   - else conf.split: a destination by weight, or conf.destination;
 *   - a destination is a tag set: one of the endpoints whose tags it
 *     matches, round robin.
 * Without a TrafficRoute, round robin over the service's endpoints.
 *
 * Weights are followed exactly, not by chance: a split's n-th pick takes
 * the entry in whose share of the total weight the fractional part of
 * n times the golden ratio falls.  That sequence spreads over [0, 1) as
 * evenly as any can, so 1,000 picks of a 90/10 split land within a few of
 * 900 and 100, whatever runs in parallel with them (the counters are the
 * snapshot's, atomic).
 */
#ifndef MF_AGENT_ROUTER_H
#define MF_AGENT_ROUTER_H

#include <stdint.h>

#include "hhead.h"
#include "meshforge/abi.h"
#include "policy.h"

/* The TrafficRoute that applies to traffic from endpoint @src to service
 * @dst: its index among the kind's records in @p, or -1.  O(n) in
 * TrafficRoutes: once per connection. */
int router_traffic_route(const struct policy *p, const struct mf_endpoint *src,
			 const struct mf_service *dst);

/* The policy name of TrafficRoute @tr of @p, NULL for -1. */
const char *router_traffic_route_name(const struct policy *p, int tr);

/*
 * An endpoint for one request @req (NULL: a TCP connection) to service
 * @dst under TrafficRoute @tr (-1: none).  NULL when the destination
 * picked has no endpoint.
 */
const struct mf_endpoint *router_pick(struct policy *p, int tr,
				      const struct mf_service *dst,
				      const struct hhead *req);

#endif /* MF_AGENT_ROUTER_H */
