// SPDX-License-Identifier: Apache-2.0
/*
 * The builtin gateways this node runs (see gwroute.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gwroute.h"
#include "hmatch.h"
#include "hroute.h"
#include "log.h"
#include "policy/gw_attach.h"
#include "policy/kinds.h"
#include "policy/select.h"
#include "polkinds.h"
#include "router.h"

/* The regular expressions of one match: its path's, then its headers',
 * then its query parameters'. */
#define GW_RE_PATH		0
#define GW_RE_HEADER(i)		(1 + (i))
#define GW_RE_QUERY(i)		(1 + MF_GWR_HEADERS_MAX + (i))
#define GW_RES			(1 + MF_GWR_HEADERS_MAX + MF_GWR_QUERY_MAX)

/* One match of a rule of a listener's routes, as requests try them. */
struct gw_match {
	const struct mf_gateway_route *route;
	const char *name;		/* the route's policy name */
	uint32_t rec;			/* its record, among the kind's */
	uint32_t rule;			/* the rule's index in it */
	const struct mf_gwr_match_s *m;
	const char *path;		/* @m's path (snapshot's), "": none */
	size_t path_len;
	uint64_t rank;			/* specificity of @m, higher first */
	uint32_t order;			/* at equal rank, lower first */
	uint32_t re_ok;			/* bit i: re[i] compiled */
	regex_t re[GW_RES];
};

struct gw_listener {
	const char *instance;		/* its gateway instance's name */
	const char *src_id;		/* ... and SPIFFE ID */
	const char *gateway;		/* its MeshGateway's name */
	const struct mf_gw_listener *l;
	struct gwa_listener v;		/* as selectors see it */
	size_t nmatches;
	struct gw_match *matches;	/* owned */
	/* TCP: the route whose first rule takes its connections, NULL:
	 * none selects it; its name and record among the kind's. */
	const struct mf_gateway_route *tcp;
	const char *tcp_name;
	uint32_t tcp_rec;
	/* Kuma's newer form: the MeshHTTPRoute rules attached to it (HTTP,
	 * HTTPS; owned, NULL: none), the MeshTCPRoute record whose
	 * backendRefs take its connections (TCP, TLS; -1: none) and its
	 * name. */
	struct hroute_list *hroutes;
	int mtcp;
	const char *mtcp_name;
};

struct gw_table {
	int refs;
	struct policy *p;		/* a reference */
	size_t nlisteners;
	struct gw_listener *ls;		/* owned */
	size_t nports;
	struct gw_port *ports;		/* owned, ascending */
};

/* Counters of a route's record (policy_ticket(), which gives this kind
 * POLICY_TICKETS_GW_ROUTE a record): rule i's weight pick, then its
 * backend's round robin; after those of every rule, rule i's mirror pick
 * (which requests get a copy), then its mirror's round robin. */
#define GW_CTR_WEIGHT(i)	(2 * (i))
#define GW_CTR_BACKEND(i)	(2 * (i) + 1)
#define GW_CTR_MIRROR(i)	(2 * MF_GWR_RULES_MAX + 2 * (i))
#define GW_CTR_MIRROR_BACKEND(i) (2 * MF_GWR_RULES_MAX + 2 * (i) + 1)
_Static_assert(GW_CTR_MIRROR_BACKEND(MF_GWR_RULES_MAX - 1) <
		       POLICY_TICKETS_GW_ROUTE,
	       "a route's counters fit its tickets");

/* ---- building --------------------------------------------------------------- */

static enum hmatch_type gw_type(uint8_t match);

/* Specificity of match @g, higher first (gwroute.h). */
static uint64_t gw_rank(const struct gw_match *g)
{
	const struct mf_gwr_match_s *m = g->m;
	bool path = g->path_len;

	return hmatch_rank(path ? gw_type(m->path.match) : HMATCH_NONE,
			   g->path_len, m->method, m->nheaders,
			   m->nquery_parameters);
}

static int gw_match_cmp(const void *a, const void *b)
{
	const struct gw_match *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Compiles regular expression @s into slot @i of @g. */
static void gw_re(struct gw_match *g, unsigned int i, const char *s)
{
	if (!kind_regex_compile(&g->re[i], s))
		g->re_ok |= 1u << i;
	else
		log_warn("event=policy_regex_dropped route=%s", g->name);
}

static void gw_match_regexes(const struct policy *p, struct gw_match *g)
{
	const struct mf_gwr_match_s *m = g->m;
	size_t n;

	if (g->path_len && m->path.match == MF_GWR_REGEX)
		gw_re(g, GW_RE_PATH, g->path);
	for (unsigned int i = 0; i < m->nheaders && i < MF_GWR_HEADERS_MAX;
	     i++)
		if (m->headers[i].match == MF_GWR_REGEX)
			gw_re(g, GW_RE_HEADER(i),
			      hroute_str(p, m->headers[i].value, &n));
	for (unsigned int i = 0; i < m->nquery_parameters &&
				 i < MF_GWR_QUERY_MAX; i++)
		if (m->query_parameters[i].match == MF_GWR_REGEX)
			gw_re(g, GW_RE_QUERY(i),
			      hroute_str(p, m->query_parameters[i].value, &n));
}

/* The matches of the routes of listener @gl, in the order requests try
 * them. */
static int gw_listener_routes(const struct policy *p, struct gw_listener *gl,
			      const struct sel_cand *c, size_t n)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	size_t cnt = 0;

	for (size_t i = 0; i < n; i++) {
		const struct mf_gateway_route *r = c[i].val;

		if (!kind_gwr_http(r) || !gwa_gwr_selects(r, &gl->v, &ctx))
			continue;
		for (size_t j = 0; j < r->conf.http.nrules &&
				   j < MF_GWR_RULES_MAX; j++)
			cnt += r->conf.http.rules[j].nmatches;
	}
	gl->matches = calloc(cnt ? cnt : 1, sizeof(*gl->matches));
	if (!gl->matches)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct mf_gateway_route *r = c[i].val;

		if (!kind_gwr_http(r) || !gwa_gwr_selects(r, &gl->v, &ctx))
			continue;
		for (size_t j = 0; j < r->conf.http.nrules &&
				   j < MF_GWR_RULES_MAX; j++) {
			const struct mf_gwr_rule *rule = &r->conf.http.rules[j];

			for (size_t k = 0; k < rule->nmatches &&
					   k < MF_GWR_MATCHES_MAX &&
					   gl->nmatches < cnt; k++) {
				struct gw_match *g =
					&gl->matches[gl->nmatches];

				g->route = r;
				g->name = c[i].name;
				g->rec = (uint32_t)i;
				g->rule = (uint32_t)j;
				g->m = &rule->matches[k];
				g->path = hroute_str(p, g->m->path.value,
						     &g->path_len);
				g->rank = gw_rank(g);
				g->order = (uint32_t)gl->nmatches++;
				gw_match_regexes(p, g);
			}
		}
	}
	qsort(gl->matches, gl->nmatches, sizeof(*gl->matches), gw_match_cmp);
	return 0;
}

/* The TCP route of listener @gl: the first by name (@c is in name order)
 * of the tcp routes one of whose selectors matches it. */
static void gw_listener_tcp(const struct policy *p, struct gw_listener *gl,
			    const struct sel_cand *c, size_t n)
{
	const struct sel_ctx ctx = router_sel_ctx(p);

	for (size_t i = 0; i < n; i++) {
		const struct mf_gateway_route *r = c[i].val;

		if (kind_gwr_http(r) || !r->conf.tcp.nrules ||
		    !gwa_gwr_selects(r, &gl->v, &ctx))
			continue;
		gl->tcp = r;
		gl->tcp_name = c[i].name;
		gl->tcp_rec = (uint32_t)i;
		return;
	}
}

/* The MeshHTTPRoute rules attached to HTTP listener @gl (hroute.h's
 * order), @hc/@nhc the kind's records, @order room for them. */
static int gw_listener_hroutes(const struct policy *p, struct gw_listener *gl,
			       const struct sel_cand *hc, size_t nhc,
			       size_t *order)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	int m = gwa_attached(&kind_mesh_http_route, hc, nhc, &gl->v, &ctx,
			     order);

	if (m <= 0)
		return m == -ENOMEM ? m : 0;
	return hroute_list_of(p, hc, order, (size_t)m, &gl->hroutes);
}

/* The MeshTCPRoute of TCP listener @gl: merged, the most precedent record
 * with backendRefs decides (router_tcp_route()'s rule). */
static int gw_listener_mtcp(const struct policy *p, struct gw_listener *gl,
			    const struct sel_cand *tc, size_t ntc,
			    size_t *order)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	int m = gwa_attached(&kind_mesh_tcp_route, tc, ntc, &gl->v, &ctx,
			     order);

	if (m < 0)
		return m;
	gl->mtcp = gwa_tcp_decider(tc, order, m);
	gl->mtcp_name = gl->mtcp >= 0 ? tc[gl->mtcp].name : NULL;
	return 0;
}

static int gw_port_cmp(const void *a, const void *b)
{
	const struct gw_port *x = a, *y = b;

	return (x->port > y->port) - (x->port < y->port);
}

/* The port of @t for listener @gl: its own, or the one an earlier
 * listener of the same instance and protocol opened.  NULL (logged) when
 * another took it. */
static struct gw_port *gw_port_take(struct gw_table *t,
				    const struct gw_listener *gl)
{
	const struct mf_gw_listener *l = gl->l;
	struct gw_port *pt;

	for (size_t i = 0; i < t->nports; i++) {
		pt = &t->ports[i];
		if (pt->port != l->port)
			continue;
		if (strcmp(pt->instance, gl->instance) ||
		    pt->protocol != l->protocol) {
			log_warn("event=gateway_port_conflict port=%u "
				 "instance=%s taken_by=%s", l->port,
				 gl->instance, pt->instance);
			return NULL;
		}
		return pt;
	}
	pt = &t->ports[t->nports++];
	pt->port = l->port;
	pt->protocol = l->protocol;
	pt->gateway = gl->gateway;
	pt->instance = gl->instance;
	return pt;
}

/* Listener @l of port @pt terminates TLS: its certificates go with the
 * port's (the first, and a second the client may take instead,
 * tls_ctx_sni_add()).  A PASSTHROUGH one presents none. */
static void gw_port_cert(struct gw_port *pt, const struct mf_gw_listener *l)
{
	struct gw_cert *c;

	if ((l->protocol != MF_GW_HTTPS && l->protocol != MF_GW_TLS) ||
	    l->tls.mode != MF_GW_TLS_TERMINATE ||
	    l->tls.ncertificates == 0 || pt->ncerts >= MF_GW_LISTENERS_MAX)
		return;
	c = &pt->certs[pt->ncerts++];
	c->hostname = l->hostname;
	for (size_t i = 0; i < l->tls.ncertificates && i < MF_GW_CERTS_MAX;
	     i++) {
		c->file[i] = kind_gw_cert_file(&l->tls.certificates[i]);
		c->secret[i] = kind_gw_cert_secret(&l->tls.certificates[i]);
	}
}

/* The route records of a snapshot, as selection candidates. */
/* The routes of the listeners @t->ls[@first..] of one instance, which
 * runs @gw (@gw_name): MeshHTTPRoutes or MeshGatewayRoutes' http rules on
 * its HTTP and HTTPS listeners, MeshTCPRoute or theirs tcp rules on its
 * TCP and TLS ones, by Kuma's rule (gw_attach.h). */
static int gw_instance_routes(struct gw_table *t, size_t first,
			      const struct mf_gw_instance *inst,
			      const struct mf_gateway *gw, const char *gw_name,
			      const struct gwa_cands *rc)
{
	const struct sel_ctx ctx = router_sel_ctx(t->p);
	struct gwa_forms forms;
	int err;

	err = gwa_forms(&forms, &ctx, inst->name,
			polkinds_tags(policy_kinds(t->p), inst->tags), gw,
			gw_name, rc->http, rc->nhttp, rc->tcp, rc->ntcp,
			rc->order);
	for (size_t i = first; !err && i < t->nlisteners; i++) {
		struct gw_listener *gl = &t->ls[i];
		bool http = gwa_is_http(gl->l);

		if (http && forms.http)
			err = gw_listener_hroutes(t->p, gl, rc->http,
						  rc->nhttp, rc->order);
		else if (http)
			err = gw_listener_routes(t->p, gl, rc->gwr, rc->ngwr);
		else if (forms.tcp)
			err = gw_listener_mtcp(t->p, gl, rc->tcp, rc->ntcp,
					       rc->order);
		else
			gw_listener_tcp(t->p, gl, rc->gwr, rc->ngwr);
	}
	return err;
}

/* The listeners of instance @inst, which runs gateway @gw (record of
 * policy @gw_name), into @t. */
static int gw_instance_add(struct gw_table *t, const struct mf_gw_instance *inst,
			   const struct mf_gateway *gw, const char *gw_name,
			   const struct gwa_cands *rc)
{
	const struct sel_ctx ctx = router_sel_ctx(t->p);
	const char *id = policy_identity(t->p, inst->identity_id);
	size_t first = t->nlisteners;
	struct gw_port *pt;

	if (!id || !id[0]) {
		log_warn("event=gateway_skipped instance=%s reason=\"no "
			 "identity\"", inst->name);
		return 0;
	}
	for (size_t i = 0; i < gw->conf.nlisteners &&
			   i < MF_GW_LISTENERS_MAX; i++) {
		const struct mf_gw_listener *l = &gw->conf.listeners[i];
		struct gw_listener *gl = &t->ls[t->nlisteners];

		memset(gl, 0, sizeof(*gl));
		gl->instance = inst->name;
		gl->src_id = id;
		gl->gateway = gw_name;
		gl->l = l;
		gl->mtcp = -1;
		gwa_listener(&gl->v, &ctx, inst->name,
			     polkinds_tags(policy_kinds(t->p), inst->tags), gw,
			     gw_name, l);
		pt = gw_port_take(t, gl);
		if (!pt)
			continue;
		gw_port_cert(pt, l);
		t->nlisteners++;	/* its routes are the table's now */
	}
	return gw_instance_routes(t, first, inst, gw, gw_name, rc);
}

int gwroute_build(struct policy *p, const char *node, struct gw_table **out)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_cand *gc = NULL;
	struct gwa_cands rc = { 0 };
	size_t ngc = 0, nls = 0, ninst = policy_gw_instance_count(p), most;
	struct gw_table *t;
	int err = -ENOMEM;

	*out = NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->refs = 1;
	t->p = policy_get(p);
	if (router_cands(p, &kind_mesh_gateway, &gc, &ngc) ||
	    router_cands(p, &kind_mesh_gateway_route, &rc.gwr, &rc.ngwr) ||
	    router_cands(p, &kind_mesh_http_route, &rc.http, &rc.nhttp) ||
	    router_cands(p, &kind_mesh_tcp_route, &rc.tcp, &rc.ntcp))
		goto out;
	most = rc.nhttp > rc.ntcp ? rc.nhttp : rc.ntcp;
	rc.order = calloc(most ? most : 1, sizeof(*rc.order));
	if (!rc.order)
		goto out;
	for (size_t i = 0; i < ngc; i++)
		nls += ((const struct mf_gateway *)gc[i].val)->conf.nlisteners;
	t->ls = calloc(nls * ninst + 1, sizeof(*t->ls));
	t->ports = calloc(nls * ninst + 1, sizeof(*t->ports));
	if (!t->ls || !t->ports)
		goto out;
	err = 0;
	for (size_t i = 0; !err && i < ninst; i++) {
		const struct mf_gw_instance *inst = policy_gw_instance_at(p, i);
		int best;

		if (strncmp(inst->node, node, sizeof(inst->node)))
			continue;
		best = gwa_gateway(gc, ngc, inst->name,
				   polkinds_tags(policy_kinds(p), inst->tags),
				   &ctx);
		if (best < 0) {
			log_warn("event=gateway_skipped instance=%s reason=\"no "
				 "MeshGateway selects it\"", inst->name);
			continue;
		}
		err = gw_instance_add(t, inst, gc[best].val, gc[best].name,
				      &rc);
	}
	if (!err)
		qsort(t->ports, t->nports, sizeof(*t->ports), gw_port_cmp);
out:
	free(gc);
	gwa_cands_free(&rc);
	if (err) {
		gwroute_put(t);
		return err;
	}
	*out = t;
	return 0;
}

struct gw_table *gwroute_get(struct gw_table *t)
{
	if (t)
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

void gwroute_put(struct gw_table *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL))
		return;
	for (size_t i = 0; i < t->nlisteners; i++) {
		struct gw_listener *gl = &t->ls[i];

		for (size_t j = 0; j < gl->nmatches; j++)
			for (unsigned int r = 0; r < GW_RES; r++)
				if (gl->matches[j].re_ok & 1u << r)
					regfree(&gl->matches[j].re[r]);
		free(gl->matches);
		hroute_list_free(gl->hroutes);
	}
	free(t->ls);
	free(t->ports);
	policy_put(t->p);
	free(t);
}

struct policy *gwroute_policy(const struct gw_table *t)
{
	return t->p;
}

size_t gwroute_nports(const struct gw_table *t)
{
	return t->nports;
}

const struct gw_port *gwroute_port(const struct gw_table *t, size_t i)
{
	return i < t->nports ? &t->ports[i] : NULL;
}

const struct gw_port *gwroute_port_find(const struct gw_table *t,
					uint16_t port)
{
	for (size_t i = 0; i < t->nports; i++)
		if (t->ports[i].port == port)
			return &t->ports[i];
	return NULL;
}

/* ---- a request -------------------------------------------------------------- */

/* The listener of @port that takes host @host (@n bytes) best, NULL when
 * none does. */
static const struct gw_listener *gw_listener_for(const struct gw_table *t,
						 uint16_t port,
						 const char *host, size_t n)
{
	const struct gw_listener *best = NULL;
	unsigned int best_rank = 0;

	for (size_t i = 0; i < t->nlisteners; i++) {
		const struct gw_listener *gl = &t->ls[i];
		unsigned int r;

		if (gl->l->port != port)
			continue;
		r = hmatch_host(gl->l->hostname, host, n);
		if (r > best_rank)
			best = gl, best_rank = r;
	}
	return best;
}

static enum hmatch_type gw_type(uint8_t match)
{
	switch (match) {
	case MF_GWR_PREFIX:
		return HMATCH_PREFIX;
	case MF_GWR_REGEX:
		return HMATCH_REGEX;
	case MF_GWR_ABSENT:
		return HMATCH_ABSENT;
	case MF_GWR_PRESENT:
		return HMATCH_PRESENT;
	default:		/* EXACT, Kuma's default */
		return HMATCH_EXACT;
	}
}

static struct hmatch_want gw_want(const struct gw_match *g, unsigned int re,
				  uint8_t match, const char *value,
				  size_t len)
{
	struct hmatch_want w = {
		.type = gw_type(match),
		.s = value,
		.len = len,
		.re = g->re_ok & 1u << re ? &g->re[re] : NULL,
	};

	return w;
}

static bool gw_match(const struct policy *p, const struct gw_match *g,
		     const struct hhead *req)
{
	const struct mf_gwr_match_s *m = g->m;
	size_t tlen, vlen, n, wn;
	const char *t = hhead_target(req, &tlen), *v, *s;
	struct hmatch_want w;

	if (g->path_len) {
		w = gw_want(g, GW_RE_PATH, m->path.match, g->path,
			    g->path_len);
		if (!hmatch_path(&w, t, hmatch_path_len(t, tlen)))
			return false;
	}
	if (!hmatch_method(req, m->method))
		return false;
	for (unsigned int i = 0; i < m->nheaders && i < MF_GWR_HEADERS_MAX;
	     i++) {
		const struct mf_gwr_header *h = &m->headers[i];

		v = hmatch_header(req, hroute_str(p, h->name, &n), &vlen);
		s = hroute_str(p, h->value, &wn);
		w = gw_want(g, GW_RE_HEADER(i), h->match, s, wn);
		if (!hmatch_value(&w, v, vlen))
			return false;
	}
	for (unsigned int i = 0; i < m->nquery_parameters &&
				 i < MF_GWR_QUERY_MAX; i++) {
		const struct mf_gwr_header *q = &m->query_parameters[i];

		v = hmatch_query(t, tlen, hroute_str(p, q->name, &n), &vlen);
		s = hroute_str(p, q->value, &wn);
		w = gw_want(g, GW_RE_QUERY(i), q->match, s, wn);
		if (!hmatch_value(&w, v, vlen))
			return false;
	}
	return true;
}

/* Whether route @r serves host @host (@n bytes): it names no hostnames,
 * or one of them matches. */
static bool gw_route_host(const struct mf_gateway_route *r, const char *host,
			  size_t n)
{
	const struct mf_gwr_http *h = &r->conf.http;

	if (h->nhostnames == 0)
		return true;
	for (size_t i = 0; i < h->nhostnames && i < MF_GWR_HOSTNAMES_MAX; i++)
		if (hmatch_host(h->hostnames[i], host, n))
			return true;
	return false;
}

static int gw_header_filter(const struct policy *p,
			    const struct mf_gwr_header_filter *f,
			    struct hhead *h)
{
	size_t nl, vl;
	int err = 0;

	for (size_t i = 0; !err && i < f->nset && i < MF_GWR_HEADER_MODS_MAX;
	     i++)
		err = hhead_set(h, hroute_str(p, f->set[i].name, &nl),
				hroute_str(p, f->set[i].value, &vl));
	for (size_t i = 0; !err && i < f->nadd && i < MF_GWR_HEADER_MODS_MAX;
	     i++) {
		const char *name = hroute_str(p, f->add[i].name, &nl);
		const char *value = hroute_str(p, f->add[i].value, &vl);

		err = hhead_add(h, name, nl, value, vl);
	}
	for (size_t i = 0; !err && i < f->nremove &&
			   i < MF_GWR_HEADER_MODS_MAX; i++)
		hhead_remove(h, hroute_str(p, f->remove[i], &nl));
	return err;
}

int gwroute_response(const struct gw_table *t,
		     const struct mf_gwr_header_filter *f,
		     const struct mf_header_mod *m, struct hhead *rsp)
{
	if (m)
		return hroute_response(t->p, m, rsp);
	return f ? gw_header_filter(t->p, f, rsp) : 0;
}

/* The request-target after path rewrite @rw of @req, which match @g
 * accepted; NULL on ENOMEM. */
static char *gw_rewrite_target(const struct gw_match *g,
			       const struct mf_gwr_rewrite *rw,
			       const struct hhead *req)
{
	const char *with = rw->path;
	size_t tlen, wlen = strnlen(rw->path, sizeof(rw->path));
	const char *t = hhead_target(req, &tlen);

	switch (kind_gwr_rewrite_path(rw)) {
	case KIND_GWR_PATH_FULL:
		return hmatch_rewrite_target(t, tlen, SIZE_MAX, with, wlen);
	case KIND_GWR_PATH_PREFIX:
		/* Apply checked the match is a PREFIX one. */
		return hmatch_rewrite_target(t, tlen, g->path_len, with,
					     wlen);
	default:
		return strndup(t, tlen);
	}
}

static int gw_rewrite(const struct gw_match *g,
		      const struct mf_gwr_rewrite *rw, struct hhead *req)
{
	if (kind_gwr_rewrite_path(rw) == KIND_GWR_PATH_NONE)
		return 0;
	return hmatch_retarget(req, gw_rewrite_target(g, rw, req));
}

static int gw_redirect(const struct gw_match *g,
		       const struct mf_gwr_redirect *rd,
		       const struct hhead *req, struct gw_decision *d)
{
	char scheme[sizeof(rd->scheme) + 1], *target = NULL;
	size_t hlen = strnlen(rd->hostname, sizeof(rd->hostname));
	int err;

	snprintf(scheme, sizeof(scheme), "%.*s", (int)sizeof(rd->scheme),
		 rd->scheme);
	if (kind_gwr_rewrite_path(&rd->path) != KIND_GWR_PATH_NONE) {
		target = gw_rewrite_target(g, &rd->path, req);
		if (!target)
			return -ENOMEM;
	}
	err = hmatch_location(req, scheme, hlen ? rd->hostname : NULL, hlen,
			      rd->port, target, &d->location);
	free(target);
	if (err)
		return err;
	d->status = rd->status_code ? (int)rd->status_code : 301;
	d->why = "redirected by route";
	return 0;
}

/* Mirror filter @m of the rule of match @g: the endpoint of its backend
 * that a copy of this request goes to, into d->mirror, for `percentage`
 * of the requests (thousandths of a percent), picked by the golden-ratio
 * sequence of the weights so the share is exact.  The rule's first mirror
 * filter wins, as with RequestMirror (hroute.c). */
static void gw_mirror(struct gw_table *t, const struct gw_match *g,
		      const struct mf_gwr_mirror *m, struct gw_decision *d)
{
	if (d->mirror || !m->percentage)
		return;
	if (m->percentage < 100000 &&
	    router_point(t->p, POLICY_TICKET_GW_ROUTE, g->rec,
			 GW_CTR_MIRROR(g->rule), 100000) >= m->percentage)
		return;
	/* No balancer pick for a copy: round robin among the backend's
	 * endpoints, whose health the copy does not need. */
	d->mirror = router_tags_endpoint(t->p, NULL, POLICY_TICKET_GW_ROUTE,
					 g->rec, GW_CTR_MIRROR_BACKEND(g->rule),
					 m->backend.destination);
}

/* One of the @n backends @b of rule @rule of route record @rec by weight,
 * then an endpoint of it (@bp's pick), into d->ep; else a 503 in @d. */
static void gw_backend(struct gw_table *t, const struct balance_pick *bp,
		       uint32_t rec, uint32_t rule,
		       const struct mf_gwr_backend *b, size_t n,
		       struct gw_decision *d)
{
	uint64_t total = 0, x;
	size_t i;

	if (n > MF_ROUTE_BACKENDS_MAX)
		n = MF_ROUTE_BACKENDS_MAX;
	for (i = 0; i < n; i++)
		total += kind_gwr_backend_weight(&b[i]);
	if (total == 0) {
		d->status = 503;
		d->why = "the route has no backend with a weight";
		return;
	}
	x = router_point(t->p, POLICY_TICKET_GW_ROUTE, rec, GW_CTR_WEIGHT(rule),
			 total);
	for (i = 0; i + 1 < n; i++) {
		uint32_t w = kind_gwr_backend_weight(&b[i]);

		if (x < w)
			break;
		x -= w;
	}
	d->ep = router_tags_endpoint(t->p, bp, POLICY_TICKET_GW_ROUTE, rec,
				     GW_CTR_BACKEND(rule), b[i].destination);
	if (!d->ep) {
		d->status = 503;
		d->why = "the backend has no endpoints";
	}
}

/* The rule of match @g decides request @req. */
static int gw_apply(struct gw_table *t, const struct balance_pick *bp,
		    const struct gw_match *g,
		    struct hhead *req, struct gw_decision *d)
{
	const struct mf_gwr_rule *rule = &g->route->conf.http.rules[g->rule];
	bool to_backend_host = false;
	size_t i;
	int err = 0;

	d->route = g->name;
	for (i = 0; !err && i < rule->nfilters && i < MF_GWR_FILTERS_MAX;
	     i++) {
		const struct mf_gwr_filter *f = &rule->filters[i];

		switch (kind_gwr_filter_type(f)) {
		case KIND_GWR_REQUEST_HEADER:
			err = gw_header_filter(t->p, &f->request_header, req);
			break;
		case KIND_GWR_RESPONSE_HEADER:
			d->rsp_mod = &f->response_header;
			break;
		case KIND_GWR_REWRITE:
			err = gw_rewrite(g, &f->rewrite, req);
			to_backend_host |= f->rewrite.host_to_backend_hostname;
			break;
		case KIND_GWR_REDIRECT:
			/* The client goes elsewhere: no backend, no copy. */
			d->mirror = NULL;
			return gw_redirect(g, &f->redirect, req, d);
		case KIND_GWR_MIRROR:
			gw_mirror(t, g, &f->mirror, d);
			break;
		default:
			break;
		}
	}
	if (err)
		return err;
	gw_backend(t, bp, g->rec, g->rule, rule->backends, rule->nbackends, d);
	/* The Host names the backend picked (hroute.h). */
	return d->ep && to_backend_host ?
	       hroute_backend_host(t->p, d->ep, req) : 0;
}

/* A request of a listener that MeshHTTPRoutes route (hroute.h): the
 * first of their rules that serves @host and accepts it decides. */
static int gw_decide_hroute(struct gw_table *t, const struct balance_pick *bp,
			    const struct gw_listener *gl, const char *host,
			    size_t hlen, struct hhead *req,
			    struct gw_decision *d)
{
	struct hroute_decision hd;
	int rc = hroute_decide_host(t->p, bp, gl->hroutes, host, hlen, req,
				    &hd);

	if (rc < 0)
		return rc;
	if (rc == 0) {
		d->status = 404;
		d->why = "no gateway route for this request";
		return 0;
	}
	d->ep = hd.ep;
	d->status = hd.status;
	d->why = hd.why;
	d->location = hd.location;	/* now the decision's */
	d->rsp_http = hd.rsp_mod;
	d->route = hd.route;
	d->mirror = hd.mirror;
	return 0;
}

int gwroute_decide(struct gw_table *t, const struct balance_pick *bp,
		   uint16_t port, const char *sni,
		   struct hhead *req, struct gw_decision *d)
{
	const struct gw_listener *gl;
	const struct gw_port *pt;
	struct balance_pick pick;
	const char *host = "";
	size_t hlen = 0;

	memset(d, 0, sizeof(*d));
	/* The endpoints are the table's snapshot's. */
	if (bp) {
		pick = *bp;
		pick.p = t->p;
		bp = &pick;
	}
	if (!hhead_get(req, "host", &host, &hlen))
		host = "", hlen = 0;
	pt = gwroute_port_find(t, port);
	if (pt && pt->protocol == MF_GW_HTTPS) {
		/* The listener the client asked for by name, whose
		 * certificate it got (no name: the one without hostname). */
		if (!sni)
			sni = "";
		gl = gw_listener_for(t, port, sni, strlen(sni));
	} else {
		gl = gw_listener_for(t, port, host, hlen);
	}
	if (!gl) {
		d->status = 404;
		d->why = "no gateway listener for this host";
		return 0;
	}
	d->listener = gl->gateway;
	d->self = &gl->v.w;
	d->src_id = gl->src_id;
	/* Its requests are for its host: another host's went on a
	 * connection made for another name. */
	if (pt && pt->protocol == MF_GW_HTTPS &&
	    !hmatch_host(gl->l->hostname, host, hlen)) {
		d->status = 421;
		d->why = "the request's host is not the TLS server name's";
		return 0;
	}
	if (gl->hroutes)
		return gw_decide_hroute(t, bp, gl, host, hlen, req, d);
	for (size_t i = 0; i < gl->nmatches; i++) {
		const struct gw_match *g = &gl->matches[i];

		if (gw_route_host(g->route, host, hlen) &&
		    gw_match(t->p, g, req))
			return gw_apply(t, bp, g, req, d);
	}
	d->status = 404;
	d->why = "no gateway route for this request";
	return 0;
}

void gwroute_tcp_decide(struct gw_table *t, const struct balance_pick *bp,
			uint16_t port, const char *sni,
			struct gw_decision *d)
{
	const struct gw_port *pt = gwroute_port_find(t, port);
	const struct gw_listener *gl = NULL;
	struct balance_pick pick;

	memset(d, 0, sizeof(*d));
	if (bp) {
		pick = *bp;
		pick.p = t->p;
		bp = &pick;
	}
	if (pt && pt->protocol == MF_GW_TLS) {
		/* The listener whose certificate the client got. */
		if (!sni)
			sni = "";
		gl = gw_listener_for(t, port, sni, strlen(sni));
	}
	/* A TCP port has one listener: the first that took it. */
	for (size_t i = 0; !gl && pt && pt->protocol == MF_GW_TCP &&
			   i < t->nlisteners; i++)
		if (t->ls[i].l->port == port)
			gl = &t->ls[i];
	if (!gl) {
		d->status = 404;
		d->why = "no gateway TCP or TLS listener for this "
			 "connection";
		return;
	}
	d->listener = gl->gateway;
	d->self = &gl->v.w;
	d->src_id = gl->src_id;
	if (gl->mtcp >= 0) {
		/* A MeshTCPRoute's backendRefs, by weight per connection. */
		d->route = gl->mtcp_name;
		d->ep = router_tcp_pick(t->p, bp, gl->mtcp, &d->why);
		if (!d->ep)
			d->status = 503;
		return;
	}
	if (!gl->tcp) {
		d->status = 404;
		d->why = "no gateway route for this TCP listener";
		return;
	}
	d->route = gl->tcp_name;
	gw_backend(t, bp, gl->tcp_rec, 0, gl->tcp->conf.tcp.rules[0].backends,
		   gl->tcp->conf.tcp.rules[0].nbackends, d);
}

int gwroute_tls_mode(struct gw_table *t, uint16_t port, const char *sni)
{
	const struct gw_port *pt = gwroute_port_find(t, port);
	const struct gw_listener *gl;

	if (!pt || pt->protocol != MF_GW_TLS)
		return 0;
	if (!sni)
		sni = "";
	gl = gw_listener_for(t, port, sni, strlen(sni));
	return gl ? gl->l->tls.mode : 0;
}

void gwroute_decision_free(struct gw_decision *d)
{
	free(d->location);
	d->location = NULL;
}
