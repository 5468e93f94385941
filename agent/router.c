// SPDX-License-Identifier: Apache-2.0
/*
 * Where a connection or a request goes (see router.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/schema.h"
#include "policy/select.h"
#include "polkinds.h"
#include "router.h"

/* 2^64 / the golden ratio: multiples of it, taken mod 2^64, are the
 * fractional parts of n times the ratio, in fixed point. */
#define ROUTER_GOLDEN	0x9e3779b97f4a7c15ull

/* The counters of a TrafficRoute's splits (policy_ticket()): a split
 * list's weight pick, then its destination's round robin. */
#define ROUTER_CTR_SPLIT	0
#define ROUTER_CTR_HTTP(i)	(2 + 2 * (i))

size_t router_kind(const struct kind_desc *kd)
{
	for (size_t i = 0; i < kinds_count; i++)
		if (kinds_all[i] == kd)
			return i;
	return SIZE_MAX;
}

static size_t router_tr_kind(void)
{
	return router_kind(&kind_traffic_route);
}

const struct mf_tagset *router_tags_of(void *arg, uint32_t id)
{
	return polkinds_tags(arg, id);
}

void router_conn_queries(const struct policy *p, const struct mf_endpoint *src,
			 const char *src_id, const struct mf_service *dst,
			 struct router_conn_q *q)
{
	router_view(p, src, &q->src);
	router_dest_view(p, dst, &q->dst);
	q->to = (struct sel_query){ .self = &q->src, .section = MF_SEC_TO,
				    .peer = &q->dst };
	q->from = (struct sel_query){ .self = &q->dst,
				      .section = MF_SEC_FROM,
				      .peer = &q->src };
	/* The tunnel's ClientHello asks for the destination service's
	 * name: the SNI its agent sees. */
	q->rule = (struct sel_query){ .self = &q->dst,
				      .section = MF_SEC_RULE,
				      .peer = &q->src, .peer_id = src_id,
				      .sni = dst->name };
}

size_t router_count(const struct policy *p, const struct kind_desc *kd)
{
	return polkinds_count(policy_kinds(p), router_kind(kd));
}

int router_cands(const struct policy *p, const struct kind_desc *kd,
		 struct sel_cand **out, size_t *n)
{
	const struct polkinds *k = policy_kinds(p);
	size_t kind = router_kind(kd);
	struct sel_cand *c;

	*n = polkinds_count(k, kind);
	*out = c = calloc(*n ? *n : 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < *n; i++) {
		const struct mf_pol_key *key;

		c[i].val = polkinds_record(k, kind, i, &key);
		c[i].name = key->name;
		c[i].index = key->index;
	}
	return 0;
}

int router_select_to(const struct policy *p, const struct kind_desc *kd,
		     const struct mf_endpoint *src,
		     const struct mf_service *dst, struct sel_cand **c,
		     size_t **order)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_workload self, peer;
	const struct sel_query q = {
		.self = &self, .section = MF_SEC_TO, .peer = &peer,
	};
	size_t n;

	*order = NULL;
	if (router_cands(p, kd, c, &n))
		return -ENOMEM;
	if (n == 0 || !src)
		return 0;
	*order = calloc(n, sizeof(**order));
	if (!*order)
		return -ENOMEM;
	router_view(p, src, &self);
	router_dest_view(p, dst, &peer);
	return sel_select(kd, *c, n, &q, &ctx, *order);
}

void router_dest_view(const struct policy *p, const struct mf_service *dst,
		      struct sel_workload *w)
{
	memset(w, 0, sizeof(*w));
	/* A MeshMultiZoneService is no MeshService: only `to` entries of
	 * its own kind (or Mesh) select it. */
	if (dst->flags & MF_SERVICE_F_MULTI_ZONE) {
		w->multi_zone = dst->name;
		return;
	}
	w->service = dst->name;
	w->service_port = policy_service_port(p, dst);
}

void router_view(const struct policy *p, const struct mf_endpoint *ep,
		 struct sel_workload *w)
{
	const struct mf_service *s;

	memset(w, 0, sizeof(*w));
	/* No Workload (a front door's cgroup): only the policies that
	 * select every source match it. */
	if (!ep)
		return;
	s = policy_service_by_id(p, ep->service_id);
	w->name = ep->name;
	w->service = s ? s->name : NULL;
	/* Kuma's generated name of the service answers too (svcname.h);
	 * the agent knows no namespaces: "default". */
	w->service_port = s ? policy_service_port(p, s) : 0;
	w->tags = polkinds_tags(policy_kinds(p), ep->tags);
	w->port = ep->port;
}

int router_traffic_route(const struct policy *p, const struct mf_endpoint *src,
			 const struct mf_service *dst)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_workload ws, wd = { .service = dst->name };
	struct sel_cand *c;
	size_t n;
	int best = -1;

	/* Out of memory: the default route then, degraded, not down.  A
	 * MeshMultiZoneService has no kuma.io/service for a legacy
	 * selector to name. */
	if (!src || (dst->flags & MF_SERVICE_F_MULTI_ZONE) ||
	    router_cands(p, &kind_traffic_route, &c, &n))
		return -1;
	if (n > 0) {
		router_view(p, src, &ws);
		best = sel_legacy_best(c, n, &ws, &wd, &ctx, NULL);
	}
	free(c);
	return best >= 0 ? best : -1;
}

const char *router_traffic_route_name(const struct policy *p, int tr)
{
	const struct mf_pol_key *key;

	if (tr < 0 || !polkinds_record(policy_kinds(p), router_tr_kind(),
				       (size_t)tr, &key))
		return NULL;
	return key->name;
}

/*
 * One of the endpoints of service @svc (0: of any service) that tag set @ts
 * matches (NULL: all of @svc's), none its MeshService's identities leave
 * out: by @bp's balancer when there is one, else
 * round robin, by ticket @ctr of record @rec of @kind (a service's own
 * cursor when @ts is NULL).  NULL when there is none.
 */
static const struct mf_endpoint *router_choose(struct policy *p,
					       const struct balance_pick *bp,
					       uint32_t svc,
					       const struct mf_tagset *ts,
					       enum policy_ticket_kind kind,
					       uint32_t rec, unsigned int ctr)
{
	size_t n = policy_endpoint_count(p), m = 0, want;
	const struct mf_endpoint **eps = NULL;
	const struct mf_endpoint *ep;
	struct sel_workload w;

	if (!ts && !bp)
		return policy_pick_endpoint(p, svc);
	if (bp)
		eps = balance_scratch(bp->b, n);
	if (!ts) {
		for (size_t i = 0; eps &&
		     (ep = policy_service_endpoint_at(p, svc, i)); i++)
			eps[m++] = ep;
		return eps ? balance_pick(bp, eps, m) :
			     policy_pick_endpoint(p, svc);
	}
	for (size_t i = 0; i < n; i++) {
		ep = policy_endpoint_at(p, i);
		if ((svc && ep->service_id != svc) ||
		    (ep->flags & MF_ENDPOINT_F_UNLISTED))
			continue;
		router_view(p, ep, &w);
		if (!sel_tags_match(ts, &w))
			continue;
		if (eps)
			eps[m] = ep;
		m++;
	}
	if (eps)
		return balance_pick(bp, eps, m);
	if (!m)
		return NULL;
	want = policy_ticket(p, kind, rec, ctr) % m;
	for (size_t i = 0; i < n; i++) {
		ep = policy_endpoint_at(p, i);
		if ((svc && ep->service_id != svc) ||
		    (ep->flags & MF_ENDPOINT_F_UNLISTED))
			continue;
		router_view(p, ep, &w);
		if (sel_tags_match(ts, &w) && want-- == 0)
			return ep;
	}
	return NULL;
}

const struct mf_endpoint *router_service_pick(struct policy *p,
					      const struct balance_pick *bp,
					      uint32_t svc_id)
{
	return router_choose(p, bp, svc_id, NULL, 0, 0, 0);
}

const struct mf_endpoint *router_tags_endpoint(struct policy *p,
					       const struct balance_pick *bp,
					       enum policy_ticket_kind kind,
					       uint32_t rec, unsigned int ctr,
					       uint32_t ts_id)
{
	const struct mf_tagset *ts = polkinds_tags(policy_kinds(p), ts_id);

	return ts ? router_choose(p, bp, 0, ts, kind, rec, ctr) : NULL;
}

uint64_t router_point(struct policy *p, enum policy_ticket_kind kind,
		      uint32_t rec, unsigned int ctr, uint64_t total)
{
	uint64_t u = (uint64_t)(policy_ticket(p, kind, rec, ctr) + 1) *
		     ROUTER_GOLDEN;

	/* (u / 2^64) * total, in [0, total) */
	return (uint64_t)(((unsigned __int128)u * total) >> 64);
}

/* The destination of a split list by weight (see router.h), or
 * @destination without one; then its endpoint.  @ctr: the list's first
 * counter. */
static const struct mf_endpoint *router_dest(struct policy *p,
					     const struct balance_pick *bp,
					     int tr, unsigned int ctr,
					     const struct mf_tr_split *split,
					     size_t nsplit, uint32_t destination)
{
	uint64_t total = 0, x;
	size_t i;

	if (nsplit == 0)
		return router_tags_endpoint(p, bp, POLICY_TICKET_TR,
					    (uint32_t)tr, ctr + 1, destination);
	for (i = 0; i < nsplit; i++)
		total += split[i].weight;
	if (total == 0)
		return NULL;
	x = router_point(p, POLICY_TICKET_TR, (uint32_t)tr, ctr, total);
	for (i = 0; i + 1 < nsplit && x >= split[i].weight; i++)
		x -= split[i].weight;
	return router_tags_endpoint(p, bp, POLICY_TICKET_TR, (uint32_t)tr,
				    ctr + 1, split[i].destination);
}

/* Kuma's StringMatcher against @n bytes at @s.  A regex matches nothing
 * yet: the agent has no safe engine for one. */
static bool router_str_match(const struct mf_tr_matcher *m, const char *s,
			     size_t n)
{
	size_t len = strnlen(m->value, sizeof(m->value));

	if (sch_has(m, MF_TR_SM_PREFIX))
		return n >= len && !memcmp(s, m->value, len);
	if (sch_has(m, MF_TR_SM_EXACT))
		return n == len && !memcmp(s, m->value, len);
	return false;
}

static bool router_http_match(const struct mf_tr_match *m,
			      const struct hhead *req)
{
	const char *target = req->buf + req->target.off, *q, *v;
	size_t plen = req->target.len, vlen;

	q = memchr(target, '?', plen);
	if (q)
		plen = (size_t)(q - target);
	if (sch_has(m, MF_TR_M_METHOD) &&
	    !router_str_match(&m->method, req->buf + req->method.off,
			      req->method.len))
		return false;
	if (sch_has(m, MF_TR_M_PATH) &&
	    !router_str_match(&m->path, target, plen))
		return false;
	for (size_t i = 0; sch_has(m, MF_TR_M_HEADERS) && i < m->nheaders &&
			   i < MF_TR_MATCH_HEADERS_MAX; i++) {
		const struct mf_tr_header_match *h = &m->headers[i];

		if (!hhead_get(req, h->name, &v, &vlen) ||
		    !router_str_match(&h->matcher, v, vlen))
			return false;
	}
	return true;
}

static const struct mf_endpoint *router_mzs_vip(struct policy *p,
						const struct balance_pick *bp,
						const struct mf_service *dst);

const struct mf_endpoint *router_pick(struct policy *p,
				      const struct balance_pick *bp, int tr,
				      const struct mf_service *dst,
				      const struct hhead *req)
{
	const struct mf_traffic_route *r;
	const struct mf_tr_conf *conf;

	/* A MeshMultiZoneService's VIP: its members' endpoints at that
	 * port (no TrafficRoute selects it). */
	if (dst->flags & MF_SERVICE_F_MULTI_ZONE)
		return router_mzs_vip(p, bp, dst);

	r = tr < 0 ? NULL : polkinds_record(policy_kinds(p), router_tr_kind(),
					    (size_t)tr, NULL);
	if (!r)
		return router_choose(p, bp, dst->id, NULL, 0, 0, 0);
	conf = &r->conf;
	for (size_t i = 0; req && sch_has(conf, MF_TR_C_HTTP) &&
			   i < conf->nhttp && i < MF_TR_HTTP_MAX; i++) {
		const struct mf_tr_http *h = &conf->http[i];

		if (!sch_has(h, MF_TR_H_MATCH) ||
		    !router_http_match(&h->match, req))
			continue;
		return router_dest(p, bp, tr, ROUTER_CTR_HTTP(i), h->split,
				   !sch_has(h, MF_TR_H_SPLIT) ? 0 :
				   h->nsplit < MF_TR_HTTP_SPLIT_MAX ? h->nsplit :
				   MF_TR_HTTP_SPLIT_MAX, h->destination);
	}
	if (sch_has(conf, MF_TR_C_SPLIT) && conf->nsplit)
		return router_dest(p, bp, tr, ROUTER_CTR_SPLIT, conf->split,
				   conf->nsplit < MF_SPLIT_MAX ? conf->nsplit :
								 MF_SPLIT_MAX,
				   0);
	if (sch_has(conf, MF_TR_C_DESTINATION))
		return router_dest(p, bp, tr, ROUTER_CTR_SPLIT, NULL, 0,
				   conf->destination);
	return router_choose(p, bp, dst->id, NULL, 0, 0, 0);
}

/* ---- backendRefs (MeshHTTPRoute, MeshTCPRoute) ---------------------------- */

const struct mf_route_backend *router_weigh(struct policy *p,
					    const struct mf_route_backend *b,
					    size_t n, enum policy_ticket_kind kind,
					    uint32_t rec, unsigned int ctr)
{
	uint64_t total = 0, x;
	size_t i;

	for (i = 0; i < n; i++)
		total += kind_route_backend_weight(&b[i]);
	if (total == 0)
		return NULL;
	x = router_point(p, kind, rec, ctr, total);
	for (i = 0; i + 1 < n; i++) {
		uint32_t w = kind_route_backend_weight(&b[i]);

		if (x < w)
			break;
		x -= w;
	}
	return &b[i];
}

/* MeshMultiZoneService @name's record, NULL when there is none. */
static const struct mf_mesh_multi_zone_service *
router_mzs_find(const struct policy *p, const char *name)
{
	const struct polkinds *k = policy_kinds(p);
	size_t kind = router_kind(&kind_mesh_multi_zone_service);
	const struct mf_pol_key *key;
	const void *v;

	for (size_t i = 0; i < polkinds_count(k, kind); i++) {
		v = polkinds_record(k, kind, i, &key);
		if (v && !strncmp(key->name, name, sizeof(key->name)))
			return v;
	}
	return NULL;
}

/* The endpoints of the members of @z at @port, in member order, then IP
 * order: the @want-th, or with @want SIZE_MAX none, *n saying how many
 * there are; each into @eps[] too (NULL: not kept). */
static const struct mf_endpoint *
router_mzs_walk(const struct policy *p,
		const struct mf_mesh_multi_zone_service *z, uint16_t port,
		size_t want, const struct mf_endpoint **eps, size_t *n)
{
	const struct mf_endpoint *ep;
	size_t m = 0;

	/* The count is the map's: bounded, as anything read from it. */
	for (size_t k = 0; k < z->nmembers && k < MF_MZS_MEMBERS_MAX; k++) {
		if (z->members[k].port != port)
			continue;
		for (size_t j = 0; (ep = policy_service_endpoint_at(
				p, z->members[k].service_id, j)); j++) {
			if (eps)
				eps[m] = ep;
			if (m++ == want)
				return ep;
		}
	}
	*n = m;
	return NULL;
}

/* An endpoint of MeshMultiZoneService @z at @port: of the MeshServices
 * mfctl found it selects (mesh_service.h), by @bp's balancer, else (no
 * balancer, or no room for its list) the @ticket-th mod how many there
 * are.  NULL when there is none. */
static const struct mf_endpoint *
router_mzs_choose(const struct policy *p, const struct balance_pick *bp,
		  const struct mf_mesh_multi_zone_service *z, uint16_t port,
		  uint32_t ticket)
{
	const struct mf_endpoint **eps;
	size_t n = 0;

	router_mzs_walk(p, z, port, SIZE_MAX, NULL, &n);
	if (!n)
		return NULL;
	eps = bp ? balance_scratch(bp->b, n) : NULL;
	if (eps) {
		router_mzs_walk(p, z, port, SIZE_MAX, eps, &n);
		return balance_pick(bp, eps, n);
	}
	return router_mzs_walk(p, z, port, ticket % n, NULL, &n);
}

/* An endpoint of MeshMultiZoneService backendRef @b (named @name), at the
 * port it names, round robin without a balancer by counter @ctr of record
 * @rec of @kind. */
static const struct mf_endpoint *router_mzs(struct policy *p,
					    const struct balance_pick *bp,
					    const struct mf_route_backend *b,
					    enum policy_ticket_kind kind,
					    uint32_t rec, unsigned int ctr,
					    const char *name, const char **why)
{
	const struct mf_mesh_multi_zone_service *z = router_mzs_find(p, name);

	if (!z) {
		*why = "backendRef names no MeshMultiZoneService";
		return NULL;
	}
	*why = "backendRef has no endpoints";
	return router_mzs_choose(p, bp, z, b->port,
				 bp ? 0 : policy_ticket(p, kind, rec, ctr));
}

/* An endpoint for a connection to the VIP:port of MeshMultiZoneService
 * @dst (its mf_services record of that port), round robin without a
 * balancer by the record's own cursor. */
static const struct mf_endpoint *router_mzs_vip(struct policy *p,
						const struct balance_pick *bp,
						const struct mf_service *dst)
{
	char name[MF_NAME_MAX + 1];
	const struct mf_mesh_multi_zone_service *z;

	snprintf(name, sizeof(name), "%.*s", (int)sizeof(dst->name),
		 dst->name);
	z = router_mzs_find(p, name);
	return z ? router_mzs_choose(p, bp, z, policy_service_port(p, dst),
				     bp ? 0 : policy_service_ticket(p, dst)) :
		   NULL;
}

const struct mf_endpoint *router_backend(struct policy *p,
					 const struct balance_pick *bp,
					 const struct mf_route_backend *b,
					 enum policy_ticket_kind kind,
					 uint32_t rec, unsigned int ctr,
					 const char **why)
{
	const struct mf_service *s;
	const struct mf_tagset *ts = NULL;
	char name[MF_NAME_MAX + 1];

	if (b->ref.kind == MF_REF_MESH_MULTI_ZONE_SERVICE) {
		snprintf(name, sizeof(name), "%.*s", (int)sizeof(b->ref.name),
			 b->ref.name);
		return router_mzs(p, bp, b, kind, rec, ctr, name, why);
	}

	/* A MeshExternalService is a service whose endpoints are its
	 * spec's (policy_external()). */
	if (b->ref.kind != MF_REF_MESH_SERVICE &&
	    b->ref.kind != MF_REF_MESH_EXTERNAL_SERVICE &&
	    b->ref.kind != MF_REF_MESH_SERVICE_SUBSET) {
		*why = "backendRef kind not served yet";
		return NULL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(b->ref.name),
		 b->ref.name);
	s = policy_service_by_name(p, name);
	if (!s) {
		*why = "backendRef names no service";
		return NULL;
	}
	*why = "backendRef has no endpoints";
	if (b->ref.kind == MF_REF_MESH_SERVICE_SUBSET) {
		ts = polkinds_tags(policy_kinds(p), b->ref.tags);
		if (!ts)
			return NULL;
	}
	return router_choose(p, bp, s->id, ts, kind, rec, ctr);
}

/* ---- MeshTCPRoute ------------------------------------------------------------ */

static size_t router_tcp_kind(void)
{
	return router_kind(&kind_mesh_tcp_route);
}

int router_tcp_route(const struct policy *p, const struct mf_endpoint *src,
		     const struct mf_service *dst)
{
	struct sel_cand *c;
	size_t *order;
	int m, best = -1;

	/* Out of memory: the other routes then, degraded, not down. */
	m = router_select_to(p, &kind_mesh_tcp_route, src, dst, &c, &order);
	/* Merged, the most precedent rule's backendRefs replace the
	 * others': the last that has some decides. */
	for (int i = m - 1; i >= 0 && best < 0; i--) {
		const struct mf_tcp_route *r = c[order[i]].val;

		if (r->rule.def.nbackend_refs)
			best = (int)order[i];
	}
	free(c);
	free(order);
	return best;
}

const struct mf_endpoint *router_tcp_pick(struct policy *p,
					  const struct balance_pick *bp,
					  int rec, const char **why)
{
	const struct mf_tcp_route *r;
	const struct mf_route_backend *b;
	size_t n;

	r = rec < 0 ? NULL : polkinds_record(policy_kinds(p), router_tcp_kind(),
					     (size_t)rec, NULL);
	if (!r) {
		*why = "no MeshTCPRoute";
		return NULL;
	}
	n = r->rule.def.nbackend_refs < MF_ROUTE_BACKENDS_MAX ?
	    r->rule.def.nbackend_refs : MF_ROUTE_BACKENDS_MAX;
	b = router_weigh(p, r->rule.def.backend_refs, n,
			 POLICY_TICKET_TCP_ROUTE, (uint32_t)rec, 0);
	*why = "no backendRef with a weight";
	return b ? router_backend(p, bp, b, POLICY_TICKET_TCP_ROUTE,
				  (uint32_t)rec, 1, why) : NULL;
}

/* ---- a kind's conf in force ------------------------------------------ */

#define ROUTER_NAMES	16

/* The conf of @kd that applies to query @q into @conf; its last merged
 * policy's name, NULL when none applies (or out of memory). */
const char *router_effective(const struct policy *p,
			     const struct kind_desc *kd,
			     const struct sel_query *q, void *conf)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	const char *names[ROUTER_NAMES], *name = NULL;
	struct sel_cand *c;
	size_t n;
	int got;

	/* Most kinds have no record in most meshes: then nothing applies,
	 * and nothing is gathered for each connection. */
	if (!router_count(p, kd) || router_cands(p, kd, &c, &n))
		return NULL;
	got = sel_effective(kd, c, n, q, &ctx, conf, names, ROUTER_NAMES);
	/* The names point into the snapshot, which outlives @c. */
	if (got > 0)
		name = names[got < ROUTER_NAMES ? got - 1 : ROUTER_NAMES - 1];
	free(c);
	return name;
}

/* The inbound conf of @kd for the destination of @from and @rule: a
 * `rules` entry's when one applies to the peer (its SPIFFE ID and the SNI
 * it asks for), which wins, else the `from` entries'.  Its last merged
 * policy's name, NULL: none. */
const char *router_inbound(const struct policy *p,
			   const struct kind_desc *kd,
			   const struct sel_query *from,
			   const struct sel_query *rule, void *conf,
			   size_t size)
{
	const char *name;

	memset(conf, 0, size);
	name = router_effective(p, kd, rule, conf);
	if (name)
		return name;
	memset(conf, 0, size);
	return router_effective(p, kd, from, conf);
}
