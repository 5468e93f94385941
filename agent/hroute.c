// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHTTPRoute in force (see hroute.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
};

struct hroute_list {
	size_t n;
	struct hroute_pair p[];
};

/* Counters of a rule's record (policy_ticket()). */
#define HROUTE_CTR_WEIGHT	0
#define HROUTE_CTR_SUBSET	1

/* A string of a record, held in the snapshot's pool (mf_strings) by @id:
 * "" for none (the snapshot dropped every record that names a string it
 * does not have). */
static const char *hroute_s(const struct policy *p, uint32_t id, size_t *len)
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
	static const uint8_t path_rank[] = {
		[MF_PATH_EXACT] = 3, [MF_PATH_PREFIX] = 2, [MF_PATH_REGEX] = 1,
	};
	uint64_t kind = m->path.type < sizeof(path_rank) ?
			path_rank[m->path.type] : 0;
	size_t plen = 0;
	uint64_t len;

	if (kind)
		(void)hroute_s(p, m->path.value, &plen);
	len = plen;

	return kind << 56 | (len & 0xffffff) << 32 | (uint64_t)!!m->method << 24 |
	       (uint64_t)m->nheaders << 12 | m->nquery_params;
}

static int hroute_pair_cmp(const void *a, const void *b)
{
	const struct hroute_pair *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank > y->rank ? -1 : 1;
	return x->order > y->order ? -1 : x->order < y->order;
}

int hroute_list_build(struct policy *p, const struct mf_endpoint *src,
		      const struct mf_service *dst, struct hroute_list **out)
{
	struct hroute_list *l = NULL;
	struct sel_cand *c = NULL;
	size_t *order = NULL, np = 0;
	int m, err = -ENOMEM;

	*out = NULL;
	m = router_select_to(p, &kind_mesh_http_route, src, dst, &c, &order);
	if (m <= 0) {
		err = m;
		goto out;
	}
	for (int i = 0; i < m; i++) {
		const struct mf_http_route *r = c[order[i]].val;

		np += r->rule.nmatches < MF_ROUTE_MATCHES_MAX ?
		      r->rule.nmatches : MF_ROUTE_MATCHES_MAX;
	}
	l = calloc(1, sizeof(*l) + np * sizeof(l->p[0]));
	if (!l)
		goto out;
	for (int i = 0; i < m; i++) {
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
		}
	}
	qsort(l->p, l->n, sizeof(l->p[0]), hroute_pair_cmp);
	*out = l;
	l = NULL;
	err = 0;
out:
	free(l);
	free(c);
	free(order);
	return err;
}

void hroute_list_free(struct hroute_list *l)
{
	free(l);
}

/* ---- matching ------------------------------------------------------------- */

/* The path of a request-target: up to '?'. */
static size_t hroute_path_len(const char *t, size_t n)
{
	const char *q = memchr(t, '?', n);

	return q ? (size_t)(q - t) : n;
}

/* A compiled regular expression of the snapshot against @n bytes at @v,
 * which are not NUL-terminated: copied into a string first (REG_STARTEND
 * would spare the copy, but not every reader of regexec()'s argument
 * honours it). */
static bool hroute_regex(const struct policy *p, uint32_t id, const char *v,
			 size_t n)
{
	const regex_t *re = polkinds_regex(policy_kinds(p), id);
	char small[256], *s = small;
	bool ok;

	if (!re || memchr(v, '\0', n))
		return false;
	if (n >= sizeof(small)) {
		s = malloc(n + 1);
		if (!s)
			return false;
	}
	memcpy(s, v, n);
	s[n] = '\0';
	ok = regexec(re, s, 0, NULL, 0) == 0;
	if (s != small)
		free(s);
	return ok;
}

static bool hroute_path_match(const struct policy *p,
			      const struct mf_route_path *m, const char *path,
			      size_t n)
{
	size_t len;
	const char *v = hroute_s(p, m->value, &len);

	switch (m->type) {
	case MF_PATH_EXACT:
		return n == len && !memcmp(path, v, len);
	case MF_PATH_PREFIX:
		/* Whole segments: /api is /api, /api/ and /api/x, never
		 * /apix.  "/" is every path. */
		if (len == 1 && v[0] == '/')
			return true;
		return n >= len && !memcmp(path, v, len) &&
		       (n == len || path[len] == '/');
	case MF_PATH_REGEX:
		return hroute_regex(p, m->value, path, n);
	default:
		return false;
	}
}

/* A value against an Exact, Prefix, Present or Absent match; @v NULL when
 * the request has none.  (RegularExpression: hroute_kv_match().) */
static bool hroute_value_match(uint8_t type, const char *want, size_t wlen,
			       const char *v, size_t vlen)
{
	switch (type) {
	case MF_MATCH_EXACT:
		return v && vlen == wlen && !memcmp(v, want, wlen);
	case MF_MATCH_PREFIX:
		return v && vlen >= wlen && !memcmp(v, want, wlen);
	case MF_MATCH_PRESENT:
		return v != NULL;
	case MF_MATCH_ABSENT:
		return v == NULL;
	default:
		return false;
	}
}

/* Match @kv against value @v (@vlen bytes, NULL: absent). */
static bool hroute_kv_match(const struct policy *p,
			    const struct mf_route_kv_match *kv, const char *v,
			    size_t vlen)
{
	size_t wlen;
	const char *want;

	if (kv->type == MF_MATCH_REGEX)
		return v && hroute_regex(p, kv->value, v, vlen);
	want = hroute_s(p, kv->value, &wlen);
	return hroute_value_match(kv->type, want, wlen, v, vlen);
}

/* The first value of query parameter @name in query @q (@n bytes, after
 * '?'), NULL when it has none. */
static const char *hroute_query(const char *q, size_t n, const char *name,
				size_t *vlen)
{
	size_t nlen = strlen(name);

	while (n > 0) {
		const char *amp = memchr(q, '&', n);
		size_t plen = amp ? (size_t)(amp - q) : n;

		if (plen >= nlen && !memcmp(q, name, nlen) &&
		    (plen == nlen || q[nlen] == '=')) {
			*vlen = plen > nlen ? plen - nlen - 1 : 0;
			return plen > nlen ? q + nlen + 1 : q + plen;
		}
		if (!amp)
			break;
		n -= plen + 1;
		q = amp + 1;
	}
	return NULL;
}

static bool hroute_match(const struct policy *p, const struct mf_route_match *m,
			 const struct hhead *req)
{
	size_t tlen, plen, vlen = 0, wlen;
	const char *t = hhead_target(req, &tlen), *v;

	plen = hroute_path_len(t, tlen);
	if (m->path.type && !hroute_path_match(p, &m->path, t, plen))
		return false;
	if (m->method && (m->method > MF_METHOD_TRACE ||
			  strlen(kind_http_methods[m->method - 1]) !=
			  req->method.len ||
			  memcmp(kind_http_methods[m->method - 1],
				 req->buf + req->method.off, req->method.len)))
		return false;
	for (size_t i = 0; i < m->nheaders && i < MF_ROUTE_KV_MAX; i++) {
		const struct mf_route_kv_match *h = &m->headers[i];
		const char *name = hroute_s(p, h->name, &wlen);
		bool has = hhead_get(req, name, &v, &vlen);

		if (!hroute_kv_match(p, h, has ? v : NULL, vlen))
			return false;
	}
	for (size_t i = 0; i < m->nquery_params && i < MF_ROUTE_KV_MAX; i++) {
		const struct mf_route_kv_match *qp = &m->query_params[i];
		const char *name = hroute_s(p, qp->name, &wlen);

		v = plen < tlen ? hroute_query(t + plen + 1, tlen - plen - 1,
					       name, &vlen) : NULL;
		if (!hroute_kv_match(p, qp, v, vlen))
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
		name = hroute_s(p, m->set[i].name, &nlen);
		value = hroute_s(p, m->set[i].value, &vlen);
		err = hhead_set(h, name, value);
	}
	for (size_t i = 0; !err && i < m->nadd && i < MF_HEADERS_MAX; i++) {
		name = hroute_s(p, m->add[i].name, &nlen);
		value = hroute_s(p, m->add[i].value, &vlen);
		err = hhead_add(h, name, nlen, value, vlen);
	}
	for (size_t i = 0; !err && i < m->nremove && i < MF_HEADERS_MAX; i++)
		hhead_remove(h, hroute_s(p, m->remove[i], &nlen));
	return err;
}

int hroute_response(const struct policy *p, const struct mf_header_mod *m,
		    struct hhead *rsp)
{
	return m ? hroute_header_mod(p, m, rsp) : 0;
}

/*
 * The path after a rewrite @rw of path @path (@n bytes) matched by @m,
 * into a new buffer with @rest (the query, '?' included) after it.
 * Returns the buffer (caller frees) or NULL on ENOMEM.
 */
static char *hroute_rewrite_path(const struct policy *p,
				 const struct mf_route_path_rewrite *rw,
				 const struct mf_route_match *m,
				 const char *path, size_t n, const char *rest,
				 size_t rlen)
{
	const char *head = path, *tail = "";
	size_t hlen = n, tlen = 0, mlen;
	char *out;

	if (rw->type == MF_REWRITE_FULL_PATH) {
		head = hroute_s(p, rw->replace_full_path, &hlen);
	} else if (rw->type == MF_REWRITE_PREFIX &&
		   m->path.type == MF_PATH_PREFIX) {
		/* The matched prefix goes, what follows it stays; "/" for
		 * a prefix replaced by nothing. */
		(void)hroute_s(p, m->path.value, &mlen);
		if (mlen == 1)
			mlen = 0;
		head = hroute_s(p, rw->replace_prefix_match, &hlen);
		tail = path + mlen;
		tlen = n - mlen;
		if (hlen > 0 && head[hlen - 1] == '/' && tlen > 0 &&
		    tail[0] == '/')
			hlen--;
		if (hlen == 0 && tlen == 0)
			head = "/", hlen = 1;
	}
	out = malloc(hlen + tlen + rlen + 1);
	if (!out)
		return NULL;
	memcpy(out, head, hlen);
	memcpy(out + hlen, tail, tlen);
	memcpy(out + hlen + tlen, rest, rlen);
	out[hlen + tlen + rlen] = '\0';
	return out;
}

static int hroute_rewrite(const struct policy *p,
			  const struct mf_route_rewrite *rw,
			  const struct mf_route_match *m, struct hhead *req)
{
	size_t tlen, plen, hlen;
	const char *t, *host = hroute_s(p, rw->hostname, &hlen);
	char *nt;
	int err = 0;

	if (hlen)
		err = hhead_set(req, "Host", host);
	if (err || !rw->path.type)
		return err;
	/* After the Host change: the head's buffer may have moved. */
	t = hhead_target(req, &tlen);
	plen = hroute_path_len(t, tlen);
	nt = hroute_rewrite_path(p, &rw->path, m, t, plen, t + plen,
				 tlen - plen);
	if (!nt)
		return -ENOMEM;
	err = hhead_set_target(req, nt, strlen(nt));
	free(nt);
	return err;
}

/* The Location of a redirect: scheme://host[:port]path?query. */
static int hroute_redirect(const struct policy *p,
			   const struct mf_route_redirect *rd,
			   const struct mf_route_match *m,
			   const struct hhead *req, struct hroute_decision *d)
{
	size_t tlen, plen, hlen = 0;
	const char *t = hhead_target(req, &tlen), *host = "";
	char scheme[sizeof(rd->scheme) + 1], port[8] = "", *path;
	size_t need;

	if (!hhead_get(req, "host", &host, &hlen))
		host = "", hlen = 0;
	if (rd->hostname) {
		host = hroute_s(p, rd->hostname, &hlen);
	} else {
		/* The request's host, without its port. */
		const char *colon = memchr(host, ':', hlen);

		if (colon)
			hlen = (size_t)(colon - host);
	}
	snprintf(scheme, sizeof(scheme), "%.*s", (int)sizeof(rd->scheme),
		 rd->scheme[0] ? rd->scheme : "http");
	if (rd->port)
		snprintf(port, sizeof(port), ":%u", rd->port);
	plen = hroute_path_len(t, tlen);
	path = rd->path.type ?
	       hroute_rewrite_path(p, &rd->path, m, t, plen, t + plen,
				   tlen - plen) :
	       strndup(t, tlen);
	if (!path)
		return -ENOMEM;
	need = strlen(scheme) + 3 + hlen + strlen(port) + strlen(path) + 1;
	d->location = malloc(need);
	if (!d->location) {
		free(path);
		return -ENOMEM;
	}
	snprintf(d->location, need, "%s://%.*s%s%s", scheme, (int)hlen, host,
		 port, path);
	free(path);
	d->status = rd->status_code ? rd->status_code : 302;
	d->why = "redirected by route";
	return 0;
}

/* ---- a request --------------------------------------------------------------- */

static int hroute_apply(struct policy *p, const struct hroute_pair *pp,
			const struct mf_service *dst, struct hhead *req,
			struct hroute_decision *d)
{
	const struct mf_route_default *def = &pp->rule->rule.def;
	const struct mf_route_backend *b;
	int err = 0;

	d->route = pp->policy;
	for (size_t i = 0; !err && i < def->nfilters &&
			   i < MF_ROUTE_FILTERS_MAX; i++) {
		const struct mf_route_filter *f = &def->filters[i];

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
			break;
		case MF_FILTER_REQUEST_REDIRECT:
			/* The client goes elsewhere: no backend. */
			return hroute_redirect(p, &f->request_redirect, pp->m,
					       req, d);
		default:
			break;	/* RequestMirror: not yet */
		}
	}
	if (err)
		return err;
	if (def->nbackend_refs == 0) {
		/* A rule without backendRefs keeps the destination. */
		d->ep = policy_pick_endpoint(p, dst->id);
		d->why = "the service has no endpoints";
	} else {
		b = router_weigh(p, def->backend_refs,
				 def->nbackend_refs < MF_ROUTE_BACKENDS_MAX ?
				 def->nbackend_refs : MF_ROUTE_BACKENDS_MAX,
				 POLICY_TICKET_HTTP_ROUTE, pp->rec,
				 HROUTE_CTR_WEIGHT);
		d->ep = b ? router_backend(p, b, POLICY_TICKET_HTTP_ROUTE,
					   pp->rec, HROUTE_CTR_SUBSET,
					   &d->why) : NULL;
	}
	if (!d->ep)
		d->status = 503;
	return 0;
}

int hroute_decide(struct policy *p, const struct hroute_list *l, int tcp,
		  int tr, const struct mf_service *dst, struct hhead *req,
		  struct hroute_decision *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t i = 0; l && i < l->n; i++)
		if (hroute_match(p, l->p[i].m, req))
			return hroute_apply(p, &l->p[i], dst, req, d);
	if (tcp >= 0) {
		d->ep = router_tcp_pick(p, tcp, &d->why);
		if (!d->ep)
			d->status = 503;
		return 0;
	}
	d->ep = router_pick(p, tr, dst, req);
	if (!d->ep) {
		d->status = 503;
		d->why = tr >= 0 ?
			 "no endpoint for the TrafficRoute's destination" :
			 "the service has no endpoints";
	}
	return 0;
}

void hroute_decision_free(struct hroute_decision *d)
{
	free(d->location);
	d->location = NULL;
}
