// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHTTPRoute in force (see hroute.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hmatch.h"
#include "hroute.h"
#include "policy/schema.h"
#include "policy/select.h"
#include "polkinds.h"
#include "router.h"

/* One match of a rule that applies, as requests try them. */
struct hroute_pair {
	const struct mf_http_route *rule;
	const struct mf_route_match *m;
	const char *policy;		/* the rule's policy name */
	uint32_t rec;			/* its record, among the kind's */
	uint32_t order;			/* its merge position: later wins */
	uint64_t rank;			/* specificity of @m */
	/* The rule's default merged with those of the less precedent rules
	 * of identical matches (hroute_merge()): where its filters and its
	 * backendRefs come from, and their records. */
	const struct mf_route_default *filters;
	const struct mf_route_default *backends;
	uint32_t filters_rec;
	uint32_t backends_rec;
};

/* mf_route_default's present bits: its schema's fields, in order
 * (lib/policy/kind_mesh_http_route.c). */
#define HROUTE_DEF_FILTERS	(1u << 0)
#define HROUTE_DEF_BACKENDS	(1u << 1)

struct hroute_list {
	size_t n;
	struct hroute_pair p[];
};

/* Counters of a rule's record (policy_ticket()). */
#define HROUTE_CTR_WEIGHT	0
#define HROUTE_CTR_SUBSET	1
#define HROUTE_CTR_MIRROR	2	/* which requests are mirrored */
#define HROUTE_CTR_MIRROR_SUBSET 3	/* the mirror's endpoint */

const char *hroute_str(const struct policy *p, uint32_t id, size_t *len)
{
	const char *s = polkinds_str(policy_kinds(p), id, len);

	if (!s) {
		*len = 0;
		return "";
	}
	return s;
}

/* ---- the rules of a connection --------------------------------------------- */

/* Specificity of a match, higher first (hroute.h, 1). */
static uint64_t hroute_rank(const struct policy *p,
			    const struct mf_route_match *m)
{
	static const enum hmatch_type path_type[] = {
		[MF_PATH_EXACT] = HMATCH_EXACT, [MF_PATH_PREFIX] = HMATCH_PREFIX,
		[MF_PATH_REGEX] = HMATCH_REGEX,
	};
	enum hmatch_type t = m->path.type < sizeof(path_type) /
					    sizeof(path_type[0]) ?
			     path_type[m->path.type] : HMATCH_NONE;
	size_t plen = 0;

	if (t != HMATCH_NONE)
		(void)hroute_str(p, m->path.value, &plen);
	return hmatch_rank(t, plen, m->method, m->nheaders, m->nquery_params);
}

static int hroute_pair_cmp(const void *a, const void *b)
{
	const struct hroute_pair *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->order > y->order ? -1 : x->order < y->order;
}

/* Whether strings @a and @b of the snapshot's pool say the same. */
static bool hroute_str_eq(const struct policy *p, uint32_t a, uint32_t b)
{
	size_t la, lb;
	const char *sa = hroute_str(p, a, &la), *sb = hroute_str(p, b, &lb);

	return la == lb && !memcmp(sa, sb, la);
}

static bool hroute_kv_eq(const struct policy *p,
			 const struct mf_route_kv_match *a,
			 const struct mf_route_kv_match *b)
{
	return a->type == b->type && hroute_str_eq(p, a->name, b->name) &&
	       hroute_str_eq(p, a->value, b->value);
}

static bool hroute_match_eq(const struct policy *p,
			    const struct mf_route_match *a,
			    const struct mf_route_match *b)
{
	if (a->method != b->method || a->nheaders != b->nheaders ||
	    a->nquery_params != b->nquery_params ||
	    a->path.type != b->path.type ||
	    (a->path.type && !hroute_str_eq(p, a->path.value, b->path.value)))
		return false;
	for (size_t i = 0; i < a->nheaders && i < MF_ROUTE_KV_MAX; i++)
		if (!hroute_kv_eq(p, &a->headers[i], &b->headers[i]))
			return false;
	for (size_t i = 0; i < a->nquery_params && i < MF_ROUTE_KV_MAX; i++)
		if (!hroute_kv_eq(p, &a->query_params[i], &b->query_params[i]))
			return false;
	return true;
}

/* Whether rules @a and @b have the same key, as Kuma merges them: the
 * same matches in the same order (and, under a gateway, the same
 * hostnames). */
static bool hroute_key_eq(const struct policy *p,
			  const struct mf_http_route *a,
			  const struct mf_http_route *b)
{
	if (a->rule.nmatches != b->rule.nmatches ||
	    a->entry.nhostnames != b->entry.nhostnames ||
	    memcmp(a->entry.hostnames, b->entry.hostnames,
		   sizeof(a->entry.hostnames)))
		return false;
	for (size_t i = 0; i < a->rule.nmatches && i < MF_ROUTE_MATCHES_MAX; i++)
		if (!hroute_match_eq(p, &a->rule.matches[i], &b->rule.matches[i]))
			return false;
	return true;
}

/*
 * Kuma treats the rules of the policies that apply as a map from their
 * matches to their default, and merges the defaults of identical matches
 * as it merges any conf: field by field, the more precedent winning, a
 * list that is set replacing the whole list.  So rule @i (of the rules in
 * precedence order @c / @order, later wins) takes its filters and its
 * backendRefs from itself if it sets them, else from the most precedent
 * rule before it with its key that does.
 */
static void hroute_merge(const struct policy *p, const struct sel_cand *c,
			 const size_t *order, size_t i, struct hroute_pair *pp)
{
	const struct mf_http_route *r = c[order[i]].val;

	pp->filters = pp->backends = NULL;
	for (size_t k = i + 1; k-- > 0 && (!pp->filters || !pp->backends);) {
		const struct mf_http_route *o = c[order[k]].val;

		if (k != i && !hroute_key_eq(p, r, o))
			continue;
		if (!pp->filters && o->rule.def.present & HROUTE_DEF_FILTERS) {
			pp->filters = &o->rule.def;
			pp->filters_rec = (uint32_t)order[k];
		}
		if (!pp->backends && o->rule.def.present & HROUTE_DEF_BACKENDS) {
			pp->backends = &o->rule.def;
			pp->backends_rec = (uint32_t)order[k];
		}
	}
}

int hroute_list_of(const struct policy *p, const struct sel_cand *c,
		   const size_t *order, size_t m, struct hroute_list **out)
{
	struct hroute_list *l;
	size_t np = 0;

	*out = NULL;
	if (m == 0)
		return 0;
	for (size_t i = 0; i < m; i++) {
		const struct mf_http_route *r = c[order[i]].val;

		np += r->rule.nmatches < MF_ROUTE_MATCHES_MAX ?
		      r->rule.nmatches : MF_ROUTE_MATCHES_MAX;
	}
	l = calloc(1, sizeof(*l) + np * sizeof(l->p[0]));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < m; i++) {
		const struct mf_http_route *r = c[order[i]].val;

		for (size_t j = 0; j < r->rule.nmatches &&
				   j < MF_ROUTE_MATCHES_MAX; j++) {
			struct hroute_pair *pp = &l->p[l->n++];

			pp->rule = r;
			pp->m = &r->rule.matches[j];
			pp->policy = c[order[i]].name;
			pp->rec = (uint32_t)order[i];
			pp->order = (uint32_t)i;
			pp->rank = hroute_rank(p, pp->m);
			hroute_merge(p, c, order, i, pp);
		}
	}
	qsort(l->p, l->n, sizeof(l->p[0]), hroute_pair_cmp);
	*out = l;
	return 0;
}

int hroute_list_build(struct policy *p, const struct mf_endpoint *src,
		      const struct mf_service *dst, struct hroute_list **out)
{
	struct sel_cand *c = NULL;
	size_t *order = NULL;
	int m, err;

	*out = NULL;
	m = router_select_to(p, &kind_mesh_http_route, src, dst, &c, &order);
	err = m < 0 ? m : hroute_list_of(p, c, order, (size_t)(m > 0 ? m : 0),
					 out);
	free(c);
	free(order);
	return err;
}

void hroute_list_free(struct hroute_list *l)
{
	free(l);
}

/* ---- matching ------------------------------------------------------------- */

/* A match of @type on pool string @value, as hmatch takes it, with the
 * regular expression the snapshot compiled for it when there is one. */
static struct hmatch_want hroute_want(const struct policy *p,
				      enum hmatch_type type, uint32_t value)
{
	struct hmatch_want w = { .type = type };

	w.s = hroute_str(p, value, &w.len);
	w.re = polkinds_regex(policy_kinds(p), value);
	return w;
}

/* A path match of the record as hmatch takes it. */
static struct hmatch_want hroute_path_want(const struct policy *p,
					   const struct mf_route_path *m)
{
	static const enum hmatch_type type[] = {
		[MF_PATH_EXACT] = HMATCH_EXACT, [MF_PATH_PREFIX] = HMATCH_PREFIX,
		[MF_PATH_REGEX] = HMATCH_REGEX,
	};

	return hroute_want(p, m->type < sizeof(type) / sizeof(type[0]) ?
			      type[m->type] : HMATCH_NONE, m->value);
}

/* A header or query parameter match of the record as hmatch takes it. */
static struct hmatch_want hroute_kv_want(const struct policy *p,
					 const struct mf_route_kv_match *kv)
{
	static const enum hmatch_type type[] = {
		[MF_MATCH_EXACT] = HMATCH_EXACT,
		[MF_MATCH_PRESENT] = HMATCH_PRESENT,
		[MF_MATCH_REGEX] = HMATCH_REGEX,
		[MF_MATCH_ABSENT] = HMATCH_ABSENT,
		[MF_MATCH_PREFIX] = HMATCH_PREFIX,
	};

	return hroute_want(p, kv->type < sizeof(type) / sizeof(type[0]) ?
			      type[kv->type] : HMATCH_NONE, kv->value);
}

static bool hroute_match(const struct policy *p, const struct mf_route_match *m,
			 const struct hhead *req)
{
	size_t tlen, vlen, wlen;
	const char *t = hhead_target(req, &tlen), *v;
	struct hmatch_want w;

	if (m->path.type) {
		w = hroute_path_want(p, &m->path);
		if (!hmatch_path(&w, t, hmatch_path_len(t, tlen)))
			return false;
	}
	if (!hmatch_method(req, m->method))
		return false;
	for (size_t i = 0; i < m->nheaders && i < MF_ROUTE_KV_MAX; i++) {
		const struct mf_route_kv_match *h = &m->headers[i];

		v = hmatch_header(req, hroute_str(p, h->name, &wlen), &vlen);
		w = hroute_kv_want(p, h);
		if (!hmatch_value(&w, v, vlen))
			return false;
	}
	for (size_t i = 0; i < m->nquery_params && i < MF_ROUTE_KV_MAX; i++) {
		const struct mf_route_kv_match *qp = &m->query_params[i];

		v = hmatch_query(t, tlen, hroute_str(p, qp->name, &wlen),
				 &vlen);
		w = hroute_kv_want(p, qp);
		if (!hmatch_value(&w, v, vlen))
			return false;
	}
	return true;
}

/* ---- filters --------------------------------------------------------------- */

static int hroute_header_mod(const struct policy *p,
			     const struct mf_header_mod *m, struct hhead *h)
{
	size_t nlen, vlen;
	const char *name, *value;
	int err = 0;

	for (size_t i = 0; !err && i < m->nset && i < MF_HEADERS_MAX; i++) {
		name = hroute_str(p, m->set[i].name, &nlen);
		value = hroute_str(p, m->set[i].value, &vlen);
		err = hhead_set(h, name, value);
	}
	for (size_t i = 0; !err && i < m->nadd && i < MF_HEADERS_MAX; i++) {
		name = hroute_str(p, m->add[i].name, &nlen);
		value = hroute_str(p, m->add[i].value, &vlen);
		err = hhead_add(h, name, nlen, value, vlen);
	}
	for (size_t i = 0; !err && i < m->nremove && i < MF_HEADERS_MAX; i++)
		hhead_remove(h, hroute_str(p, m->remove[i], &nlen));
	return err;
}

int hroute_response(const struct policy *p, const struct mf_header_mod *m,
		    struct hhead *rsp)
{
	return m ? hroute_header_mod(p, m, rsp) : 0;
}

/* The request-target after path rewrite @rw of request-target @t (@n
 * bytes) that @m matched (hmatch_rewrite_target()); NULL on ENOMEM. */
static char *hroute_rewrite_target(const struct policy *p,
				   const struct mf_route_path_rewrite *rw,
				   const struct mf_route_match *m,
				   const char *t, size_t n)
{
	size_t wlen, mlen;
	const char *with;

	if (rw->type == MF_REWRITE_FULL_PATH) {
		with = hroute_str(p, rw->replace_full_path, &wlen);
		return hmatch_rewrite_target(t, n, SIZE_MAX, with, wlen);
	}
	if (rw->type == MF_REWRITE_PREFIX && m->path.type == MF_PATH_PREFIX) {
		(void)hroute_str(p, m->path.value, &mlen);
		with = hroute_str(p, rw->replace_prefix_match, &wlen);
		return hmatch_rewrite_target(t, n, mlen, with, wlen);
	}
	return strndup(t, n);
}

static int hroute_rewrite(const struct policy *p,
			  const struct mf_route_rewrite *rw,
			  const struct mf_route_match *m, struct hhead *req)
{
	size_t tlen, hlen;
	const char *t, *host = hroute_str(p, rw->hostname, &hlen);
	int err = 0;

	if (hlen)
		err = hhead_set(req, "Host", host);
	if (err || !rw->path.type)
		return err;
	/* After the Host change: the head's buffer may have moved. */
	t = hhead_target(req, &tlen);
	return hmatch_retarget(req, hroute_rewrite_target(p, &rw->path, m, t,
							  tlen));
}

/* The Location of a redirect: scheme://host[:port]path?query. */
static int hroute_redirect(const struct policy *p,
			   const struct mf_route_redirect *rd,
			   const struct mf_route_match *m,
			   const struct hhead *req, struct hroute_decision *d)
{
	char scheme[sizeof(rd->scheme) + 1], *target = NULL;
	const char *host = NULL, *t;
	size_t hlen = 0, tlen;
	int err;

	if (rd->hostname)
		host = hroute_str(p, rd->hostname, &hlen);
	snprintf(scheme, sizeof(scheme), "%.*s", (int)sizeof(rd->scheme),
		 rd->scheme);
	if (rd->path.type) {
		t = hhead_target(req, &tlen);
		target = hroute_rewrite_target(p, &rd->path, m, t, tlen);
		if (!target)
			return -ENOMEM;
	}
	err = hmatch_location(req, scheme, host, hlen, rd->port, target,
			      &d->location);
	free(target);
	if (err)
		return err;
	d->status = rd->status_code ? rd->status_code : 302;
	d->why = "redirected by route";
	return 0;
}

/* RequestMirror @m of rule record @rec: the endpoint of its backendRef
 * that a copy of this request goes to, into d->mirror, for `percentage`
 * of the requests (field 0; all when it is not written).  The first
 * mirror filter of the rule wins. */
static void hroute_mirror(struct policy *p, const struct mf_route_mirror *m,
			  uint32_t rec, struct hroute_decision *d)
{
	uint32_t pct = m->present & 1u << 0 ? m->percentage : 100000;
	const char *why;

	if (d->mirror || !pct)
		return;
	if (pct < 100000 &&
	    router_point(p, POLICY_TICKET_HTTP_ROUTE, rec, HROUTE_CTR_MIRROR,
			 100000) >= pct)
		return;
	/* No balancer pick for a copy: round robin among the backend's
	 * endpoints, whose health the copy does not need. */
	d->mirror = router_backend(p, NULL, &m->backend_ref,
				   POLICY_TICKET_HTTP_ROUTE, rec,
				   HROUTE_CTR_MIRROR_SUBSET, &why);
}

/* ---- the backend's hostname --------------------------------------------------- */

const char *hroute_backend_hostname(const struct policy *p,
				    const struct mf_endpoint *ep)
{
	const struct mf_mesh_external_service *mes;
	const char *host;
	struct in6_addr a;

	if (!(ep->flags & MF_ENDPOINT_F_EXTERNAL) ||
	    policy_external(p, ep, &mes, &host) || !host || !host[0])
		return NULL;
	/* An address, not a name: the endpoint has no hostname. */
	if (inet_pton(AF_INET, host, &a) == 1 ||
	    inet_pton(AF_INET6, host, &a) == 1)
		return NULL;
	return host;
}

int hroute_backend_host(const struct policy *p, const struct mf_endpoint *ep,
			struct hhead *req)
{
	const char *host = hroute_backend_hostname(p, ep);

	return host ? hhead_set(req, "Host", host) : 0;
}

/* ---- a request --------------------------------------------------------------- */

static int hroute_apply(struct policy *p, const struct balance_pick *bp,
			const struct hroute_pair *pp,
			const struct mf_service *dst, struct hhead *req,
			struct hroute_decision *d)
{
	/* The merged default (hroute_merge()): none set is an empty one. */
	static const struct mf_route_default none;
	const struct mf_route_default *fd = pp->filters ? pp->filters : &none;
	const struct mf_route_default *bd = pp->backends ? pp->backends : &none;
	const struct mf_route_backend *b;
	bool to_backend_host = false;
	int err = 0;

	d->route = pp->policy;
	for (size_t i = 0; !err && i < fd->nfilters &&
			   i < MF_ROUTE_FILTERS_MAX; i++) {
		const struct mf_route_filter *f = &fd->filters[i];

		switch (f->type) {
		case MF_FILTER_REQUEST_HEADER_MODIFIER:
			err = hroute_header_mod(p, &f->request_header_modifier,
						req);
			break;
		case MF_FILTER_RESPONSE_HEADER_MODIFIER:
			d->rsp_mod = &f->response_header_modifier;
			break;
		case MF_FILTER_URL_REWRITE:
			err = hroute_rewrite(p, &f->url_rewrite, pp->m, req);
			to_backend_host |=
				f->url_rewrite.host_to_backend_hostname != 0;
			break;
		case MF_FILTER_REQUEST_REDIRECT:
			/* The client goes elsewhere: no backend. */
			return hroute_redirect(p, &f->request_redirect, pp->m,
					       req, d);
		case MF_FILTER_REQUEST_MIRROR:
			hroute_mirror(p, &f->request_mirror, pp->filters_rec,
				      d);
			break;
		default:
			break;
		}
	}
	if (err)
		return err;
	if (bd->nbackend_refs == 0 && dst) {
		/* A rule without backendRefs keeps the destination. */
		d->ep = router_service_pick(p, bp, dst->id);
		d->why = "the service has no endpoints";
	} else if (bd->nbackend_refs == 0) {
		d->why = "the rule has no backendRefs";
	} else {
		b = router_weigh(p, bd->backend_refs,
				 bd->nbackend_refs < MF_ROUTE_BACKENDS_MAX ?
				 bd->nbackend_refs : MF_ROUTE_BACKENDS_MAX,
				 POLICY_TICKET_HTTP_ROUTE, pp->backends_rec,
				 HROUTE_CTR_WEIGHT);
		d->ep = b ? router_backend(p, bp, b, POLICY_TICKET_HTTP_ROUTE,
					   pp->backends_rec, HROUTE_CTR_SUBSET,
					   &d->why) : NULL;
	}
	if (!d->ep) {
		d->status = 503;
		return 0;
	}
	return to_backend_host ? hroute_backend_host(p, d->ep, req) : 0;
}

int hroute_decide(struct policy *p, const struct balance_pick *bp,
		  const struct hroute_list *l, int tcp, int tr,
		  const struct mf_service *dst, struct hhead *req,
		  struct hroute_decision *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; l && i < l->n; i++)
		if (hroute_match(p, l->p[i].m, req))
			return hroute_apply(p, bp, &l->p[i], dst, req, d);
	if (tcp >= 0) {
		d->ep = router_tcp_pick(p, bp, tcp, &d->why);
		if (!d->ep)
			d->status = 503;
		return 0;
	}
	d->ep = router_pick(p, bp, tr, dst, req);
	if (!d->ep) {
		d->status = 503;
		d->why = tr >= 0 ?
			 "no endpoint for the TrafficRoute's destination" :
			 "the service has no endpoints";
	}
	return 0;
}

/* How well the to[] entry of rule @r serves host @host (@n bytes): the
 * best hmatch_host() rank of its hostnames, that of "any" when it names
 * none; 0: it does not serve it. */
static unsigned int hroute_host_rank(const struct mf_http_route *r,
				     const char *host, size_t n)
{
	const struct mf_route_entry *e = &r->entry;
	char name[MF_ROUTE_HOSTNAME_MAX + 1];
	unsigned int best = 0, rank;

	if (e->nhostnames == 0)
		return hmatch_host("", host, n);
	for (size_t i = 0; i < e->nhostnames && i < MF_ROUTE_HOSTNAMES_MAX;
	     i++) {
		snprintf(name, sizeof(name), "%.*s", MF_ROUTE_HOSTNAME_MAX,
			 e->hostnames[i]);
		rank = hmatch_host(name, host, n);
		if (rank > best)
			best = rank;
	}
	return best;
}

int hroute_decide_host(struct policy *p, const struct balance_pick *bp,
		       const struct hroute_list *l, const char *host,
		       size_t hlen, struct hhead *req,
		       struct hroute_decision *d)
{
	const struct hroute_pair *best = NULL;
	unsigned int best_host = 0, hr;
	int err;

	memset(d, 0, sizeof(*d));
	/* The first match that takes the request, and among those of its
	 * rank, the one of the route whose hostname names the host best
	 * (exact, then the longer wildcard, then none); at equal hostname
	 * ranks the list's order (the more precedent policy). */
	for (size_t i = 0; l && i < l->n; i++) {
		const struct hroute_pair *pp = &l->p[i];

		if (best && pp->rank != best->rank)
			break;
		hr = hroute_host_rank(pp->rule, host, hlen);
		if (hr > best_host && hroute_match(p, pp->m, req)) {
			best = pp;
			best_host = hr;
		}
	}
	if (!best)
		return 0;
	err = hroute_apply(p, bp, best, NULL, req, d);
	return err ? err : 1;
}

void hroute_decision_free(struct hroute_decision *d)
{
	free(d->location);
	d->location = NULL;
}
