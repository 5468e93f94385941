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

#include "balance.h"
#include "hhead.h"
#include "meshforge/abi.h"
#include "policy.h"
#include "policy/select.h"

/* The index of kind @kd in kinds_all (polkinds' order), SIZE_MAX when it
 * is none. */
size_t router_kind(const struct kind_desc *kd);

/* Endpoint @ep of @p as selectors see it (its Workload name, service,
 * tags and port); NULL @ep: a source with no Workload, all empty. */
void router_view(const struct policy *p, const struct mf_endpoint *ep,
		 struct sel_workload *w);

/* Service @dst of @p as the peer of a `to` entry sees it: by its name
 * and port; a MeshMultiZoneService's record (MF_SERVICE_F_MULTI_ZONE)
 * by its name as a MeshMultiZoneService, which only `to` targetRefs of
 * that kind (and Mesh) select. */
void router_dest_view(const struct policy *p, const struct mf_service *dst,
		      struct sel_workload *w);

/*
 * The selections of one connection from @src (speaking as @src_id, NULL:
 * unknown) to @dst: @to, the source's `to` entries (the source as the
 * proxy, the destination as the peer); @from and @rule, the
 * destination's inbound ones (`from`, and Kuma 3.0 `rules` matched on
 * @src_id and the SNI the tunnel asks for, @dst's name, as the
 * destination's agent sees them).  The queries point into the struct,
 * which must stay where router_conn_queries() filled it.
 */
struct router_conn_q {
	struct sel_workload src, dst;
	struct sel_query to, from, rule;
};

void router_conn_queries(const struct policy *p, const struct mf_endpoint *src,
			 const char *src_id, const struct mf_service *dst,
			 struct router_conn_q *q);

/*
 * The records of route kind @kd (a targetRef kind: MeshHTTPRoute,
 * MeshTCPRoute) in @p that apply to traffic from endpoint @src to service
 * @dst, by Kuma's selection: the records as candidates in *c, the indexes
 * of those that apply in merge order (least precedent first) in *order
 * (both for the caller to free, whatever is returned).  Returns how many
 * apply, or -ENOMEM.
 */
int router_select_to(const struct policy *p, const struct kind_desc *kd,
		     const struct mf_endpoint *src,
		     const struct mf_service *dst, struct sel_cand **c,
		     size_t **order);

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
 * picked has no endpoint.  @dst a MeshMultiZoneService's record of one
 * port: an endpoint of one of its members at that port, round robin by
 * the record's own cursor when @bp is NULL.
 *
 * Here and below, the endpoint among those a destination has is @bp's
 * balancer's pick (balance.h); with @bp NULL, round robin.
 */
const struct mf_endpoint *router_pick(struct policy *p,
				      const struct balance_pick *bp, int tr,
				      const struct mf_service *dst,
				      const struct hhead *req);

/* An endpoint of service @svc_id (NULL when it has none). */
const struct mf_endpoint *router_service_pick(struct policy *p,
					      const struct balance_pick *bp,
					      uint32_t svc_id);

/*
 * The weighted picks: a point in [0, @total) from the sequence above,
 * counter @ctr of record @rec of @kind; the caller walks its weights
 * with it.
 */
uint64_t router_point(struct policy *p, enum policy_ticket_kind kind,
		      uint32_t rec, unsigned int ctr, uint64_t total);

/* One of the endpoints tag set @ts_id matches (kuma.io/service: a
 * service's, with the other tags: a subset), round robin by counter @ctr
 * of record @rec of @kind; NULL when none does. */
const struct mf_endpoint *router_tags_endpoint(struct policy *p,
					       const struct balance_pick *bp,
					       enum policy_ticket_kind kind,
					       uint32_t rec, unsigned int ctr,
					       uint32_t ts_id);

/* How many records of kind @kd snapshot @p holds: 0 says no selection of
 * that kind can apply, without gathering candidates. */
size_t router_count(const struct policy *p, const struct kind_desc *kd);

/* The records of kind @kd of @p as selection candidates, into *out
 * (caller frees) and *n.  Returns 0 or -ENOMEM. */
int router_cands(const struct policy *p, const struct kind_desc *kd,
		 struct sel_cand **out, size_t *n);

/* The conf of kind @kd in force for query @q, merged into @conf (zeroed
 * by the caller): its last merged policy's name, NULL when none applies
 * (or out of memory).  No candidates: nothing is asked of selection. */
const char *router_effective(const struct policy *p,
			     const struct kind_desc *kd,
			     const struct sel_query *q, void *conf);

/* A destination's inbound conf of @kd (@conf of @size bytes, zeroed
 * here): a `rules` entry's when one applies to the peer of @rule (its
 * SPIFFE ID and the SNI it asks for), which wins, else the `from`
 * entries' of @from.  Its last merged policy's name, NULL: none. */
const char *router_inbound(const struct policy *p,
			   const struct kind_desc *kd,
			   const struct sel_query *from,
			   const struct sel_query *rule, void *conf,
			   size_t size);

/* How selection resolves @p's tag sets: router_sel_ctx(). */
const struct mf_tagset *router_tags_of(void *arg, uint32_t id);

/* How selection resolves @p's tag sets. */
static inline struct sel_ctx router_sel_ctx(const struct policy *p)
{
	const struct sel_ctx ctx = { .tags = router_tags_of,
				     .arg = (void *)policy_kinds(p) };

	return ctx;
}

/*
 * backendRefs, as MeshHTTPRoute and MeshTCPRoute rules give them: one of
 * the @n at @b by weight (the sequence above, counter @ctr of record @rec
 * of @kind); NULL when no weight is above 0.
 */
const struct mf_route_backend *router_weigh(struct policy *p,
					    const struct mf_route_backend *b,
					    size_t n, enum policy_ticket_kind kind,
					    uint32_t rec, unsigned int ctr);

/*
 * An endpoint of backendRef @b: a MeshService's (or a
 * MeshExternalService's), round robin; a MeshServiceSubset's among those
 * with its tags, or a MeshMultiZoneService's among those of the
 * MeshServices it selects at its port (mesh_service.h), round robin by
 * counter @ctr of record @rec of @kind.  NULL, *why saying why, when there
 * is none.
 */
const struct mf_endpoint *router_backend(struct policy *p,
					 const struct balance_pick *bp,
					 const struct mf_route_backend *b,
					 enum policy_ticket_kind kind,
					 uint32_t rec, unsigned int ctr,
					 const char **why);

/*
 * MeshTCPRoute: the record whose backendRefs decide for traffic from
 * endpoint @src to service @dst (Kuma's selection; merged, the most
 * precedent rule with backendRefs wins), -1 when none; and an endpoint by
 * it, NULL (*why) when it has none.  Connections of a TCP service go by it
 * before a TrafficRoute, requests of an HTTP service when no MeshHTTPRoute
 * rule took them.
 */
int router_tcp_route(const struct policy *p, const struct mf_endpoint *src,
		     const struct mf_service *dst);
const struct mf_endpoint *router_tcp_pick(struct policy *p,
					  const struct balance_pick *bp,
					  int rec, const char **why);

#endif /* MF_AGENT_ROUTER_H */
