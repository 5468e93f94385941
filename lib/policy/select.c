// SPDX-License-Identifier: Apache-2.0
/*
 * Policy selection and precedence (lib/select.h has the rules).  Pure
 * functions over caller-owned records: no state, no logging, one temporary
 * allocation per sel_select() call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "select.h"
#include "svcname.h"

/* Record names and tag strings are fixed arrays that are NUL-padded but
 * may fill the array: compare them with a C string without reading past. */
static bool sel_fixed_eq(const char *arr, size_t cap, const char *s,
			 size_t slen)
{
	size_t len = strnlen(arr, cap);

	return len == slen && memcmp(arr, s, len) == 0;
}

int sel_kind_rank(uint8_t kind)
{
	switch (kind) {
	case MF_REF_MESH:			return 1;
	case MF_REF_WORKLOAD:			return 2;
	case MF_REF_MESH_SUBSET:		return 3;
	case MF_REF_MESH_GATEWAY:		return 4;
	case MF_REF_MESH_SERVICE:		return 5;
	case MF_REF_MESH_EXTERNAL_SERVICE:	return 6;
	case MF_REF_MESH_MULTI_ZONE_SERVICE:	return 7;
	case MF_REF_MESH_SERVICE_SUBSET:	return 8;
	case MF_REF_MESH_HTTP_ROUTE:		return 9;
	default:				return 0;
	}
}

/* Compares one key of two ranks: a lower one merges first. */
#define SEL_CMP_KEY(a, b, key)                                                \
	do {                                                                  \
		if ((a)->key != (b)->key)                                     \
			return (a)->key < (b)->key ? -1 : 1;                  \
	} while (0)

int sel_cmp(const struct sel_rank *a, const struct sel_rank *b)
{
	int d;

	SEL_CMP_KEY(a, b, target);
	SEL_CMP_KEY(a, b, target_sub);
	SEL_CMP_KEY(a, b, origin);
	SEL_CMP_KEY(a, b, role);
	SEL_CMP_KEY(a, b, entry);
	SEL_CMP_KEY(a, b, entry_sub);
	/* Reverse byte order: the name that sorts first is merged last, so
	 * it wins (Kuma: "inverted lexicographical order"). */
	d = strncmp(a->name, b->name, MF_NAME_MAX);
	if (d != 0)
		return d > 0 ? -1 : 1;
	SEL_CMP_KEY(a, b, index);
	return 0;
}

/* The value of tag @key (@klen bytes) on @w, or NULL; *@vlen gets its
 * length.  The implicit kuma.io/service tag comes first: the Service a
 * workload belongs to is authoritative, whatever its own tags say. */
static const char *sel_tag_value(const struct sel_workload *w, const char *key,
				 size_t klen, size_t *vlen)
{
	const struct mf_tagset *ts = w->tags;

	if (w->service && klen == strlen(SEL_SERVICE_TAG) &&
	    memcmp(key, SEL_SERVICE_TAG, klen) == 0) {
		*vlen = strlen(w->service);
		return w->service;
	}
	if (!ts)
		return NULL;
	for (uint32_t i = 0; i < ts->n && i < MF_TAGS_MAX; i++) {
		if (sel_fixed_eq(ts->tags[i].key, MF_TAG_KEY_MAX, key, klen)) {
			*vlen = strnlen(ts->tags[i].value, MF_TAG_VALUE_MAX);
			return ts->tags[i].value;
		}
	}
	return NULL;
}

/* Matches @sel against @w; on a match, counts its tags and exact values
 * into @rank (may be NULL). */
static bool sel_tags_rank(const struct mf_tagset *sel,
			  const struct sel_workload *w,
			  struct sel_legacy_rank *rank)
{
	struct sel_legacy_rank r = { 0, 0 };

	for (uint32_t i = 0; sel && i < sel->n && i < MF_TAGS_MAX; i++) {
		const struct mf_tag *t = &sel->tags[i];
		size_t klen = strnlen(t->key, MF_TAG_KEY_MAX);
		size_t slen = strnlen(t->value, MF_TAG_VALUE_MAX);
		size_t vlen;
		const char *v = sel_tag_value(w, t->key, klen, &vlen);

		/* "*" matches any value, but the key must be there. */
		if (!v)
			return false;
		r.tags++;
		if (slen == 1 && t->value[0] == '*')
			continue;
		/* The implicit service tag: any name the Service answers
		 * to, so a selector written for Kuma selects it. */
		if (v == w->service) {
			if (!svcname_answers(t->value, slen, w->service,
					     w->service_ns, w->service_port))
				return false;
		} else if (vlen != slen || memcmp(v, t->value, slen) != 0)
			return false;
		r.exact++;
	}
	if (rank)
		*rank = r;
	return true;
}

bool sel_tags_match(const struct mf_tagset *sel, const struct sel_workload *w)
{
	return sel_tags_rank(sel, w, NULL);
}

/* The ref's tags match @w; no tags (id 0) always match, an id the context
 * cannot resolve never does. */
static bool sel_ref_tags(const struct mf_ref *r, const struct sel_workload *w,
			 const struct sel_ctx *ctx)
{
	const struct mf_tagset *ts;

	if (r->tags == 0)
		return true;
	ts = ctx->tags ? ctx->tags(ctx->arg, r->tags) : NULL;
	return ts && sel_tags_match(ts, w);
}

static bool sel_name_is(const struct mf_ref *r, const char *s)
{
	return s && sel_fixed_eq(r->name, MF_NAME_MAX, s, strlen(s));
}

/* The value of label @key in @labels (NULL: none), or NULL. */
static const char *sel_label(const struct mf_tagset *labels, const char *key,
			     size_t *vlen)
{
	size_t klen = strlen(key);

	for (uint32_t i = 0; labels && i < labels->n && i < MF_TAGS_MAX; i++) {
		if (sel_fixed_eq(labels->tags[i].key, MF_TAG_KEY_MAX, key,
				 klen)) {
			*vlen = strnlen(labels->tags[i].value,
					MF_TAG_VALUE_MAX);
			return labels->tags[i].value;
		}
	}
	return NULL;
}

bool sel_labels_match(const struct mf_tagset *sel, const char *name,
		      const struct mf_tagset *labels)
{
	for (uint32_t i = 0; sel && i < sel->n && i < MF_TAGS_MAX; i++) {
		const struct mf_tag *t = &sel->tags[i];
		size_t slen = strnlen(t->value, MF_TAG_VALUE_MAX), vlen;
		const char *v = sel_label(labels, t->key, &vlen);

		if (!v && name && sel_fixed_eq(t->key, MF_TAG_KEY_MAX,
					       SEL_DISPLAY_NAME_LABEL,
					       strlen(SEL_DISPLAY_NAME_LABEL))) {
			v = name;
			vlen = strlen(name);
		}
		if (!v || vlen != slen || memcmp(v, t->value, slen) != 0)
			return false;
	}
	return true;
}

/* Whether the object @name of targetRef kind @kind is what @r names (by
 * name and namespace) or selects (by labels); a ref with neither selects
 * every object. */
static bool sel_ref_object(const struct mf_ref *r, uint8_t kind,
			   const char *name, const struct sel_ctx *ctx)
{
	const struct mf_tagset *labels, *sel;
	size_t len;
	const char *ns;

	if (!name)
		return false;
	if (!r->name[0] && !r->labels)
		return true;
	labels = ctx->labels ? ctx->labels(ctx->arg, kind, name) : NULL;
	if (r->name[0]) {
		if (!sel_name_is(r, name))
			return false;
		if (!r->namespace[0])
			return true;
		ns = sel_label(labels, SEL_NAMESPACE_LABEL, &len);
		return ns && sel_fixed_eq(r->namespace, MF_NAME_MAX, ns, len);
	}
	/* A selector that cannot be resolved selects nothing. */
	sel = ctx->tags ? ctx->tags(ctx->arg, r->labels) : NULL;
	return sel && sel_labels_match(sel, name, labels);
}

/* The ref's sectionName, when it has one, is @w's port. */
static bool sel_ref_section(const struct mf_ref *r,
			    const struct sel_workload *w)
{
	char port[8];

	if (!r->section[0])
		return true;
	snprintf(port, sizeof(port), "%u", w->port);
	return w->port && sel_fixed_eq(r->section, MF_SECTION_MAX, port,
				       strlen(port));
}

/* The ref's proxyTypes, when it has some, include @w's: a workload that
 * serves a MeshGateway is a Gateway, any other a Sidecar. */
static bool sel_ref_proxy_type(const struct mf_ref *r,
			       const struct sel_workload *w)
{
	if (!r->proxy_types || !w)
		return true;
	return r->proxy_types & (w->gateway ? MF_PROXY_GATEWAY :
					      MF_PROXY_SIDECAR);
}

bool sel_ref_selects(const struct mf_ref *r, const struct sel_workload *w,
		     const char *route, const struct sel_ctx *ctx)
{
	const struct mf_ref *rt;

	if (r->kind == MF_REF_MESH)
		return sel_ref_proxy_type(r, w);
	if (!w)
		return false;
	switch (r->kind) {
	case MF_REF_MESH_SUBSET:
		return sel_ref_tags(r, w, ctx) && sel_ref_proxy_type(r, w);
	case MF_REF_MESH_SERVICE:
		return sel_ref_object(r, MF_REF_MESH_SERVICE, w->service,
				      ctx) && sel_ref_section(r, w);
	case MF_REF_MESH_SERVICE_SUBSET:
		return sel_name_is(r, w->service) && sel_ref_tags(r, w, ctx);
	case MF_REF_MESH_MULTI_ZONE_SERVICE:
		return sel_ref_object(r, MF_REF_MESH_MULTI_ZONE_SERVICE,
				      w->multi_zone, ctx) &&
		       sel_ref_section(r, w);
	case MF_REF_WORKLOAD:
		return sel_ref_object(r, MF_REF_WORKLOAD, w->name, ctx) &&
		       sel_ref_tags(r, w, ctx) && sel_ref_section(r, w);
	case MF_REF_MESH_GATEWAY:
		return sel_name_is(r, w->gateway) && sel_ref_tags(r, w, ctx);
	case MF_REF_MESH_HTTP_ROUTE:
		if (!route || (!r->name[0] && !r->labels) ||
		    !sel_ref_object(r, MF_REF_MESH_HTTP_ROUTE, route, ctx))
			return false;
		if (!ctx->route_target)
			return true;
		rt = ctx->route_target(ctx->arg, route);
		/* A route's own targetRef is never a route: stop there rather
		 * than recurse on a malformed one. */
		return rt && rt->kind != MF_REF_MESH_HTTP_ROUTE &&
		       sel_ref_selects(rt, w, NULL, ctx);
	default:
		return false;
	}
}

/* A policy without spec.targetRef targets the whole mesh, as in Kuma. */
static const struct mf_ref sel_mesh_ref = { .kind = MF_REF_MESH };

static const struct mf_ref *sel_target(const struct mf_pol_hdr *hdr)
{
	return hdr->target.kind ? &hdr->target : &sel_mesh_ref;
}

/* Whether inbound rule match @m holds for the peer of @q. */
static bool sel_match(const struct mf_rule_match *m, const struct sel_query *q)
{
	size_t n;

	if (m->spiffe_type) {
		n = strnlen(m->spiffe, MF_SPIFFE_MAX);
		if (!q->peer_id ||
		    (m->spiffe_type == MF_AUTHZ_MATCH_EXACT ?
		     strlen(q->peer_id) != n : strlen(q->peer_id) < n) ||
		    memcmp(q->peer_id, m->spiffe, n) != 0)
			return false;
	}
	return !m->sni_type ||
	       (q->sni && sel_fixed_eq(m->sni, MF_SNI_MAX, q->sni,
				       strlen(q->sni)));
}

/* Whether record @hdr applies to @q (rule 1 of select.h). */
static bool sel_applies(const struct kind_desc *kd,
			const struct mf_pol_hdr *hdr,
			const struct sel_query *q, const struct sel_ctx *ctx)
{
	if (hdr->section != q->section)
		return false;
	if (!sel_ref_selects(sel_target(hdr), q->self, q->route, ctx))
		return false;
	if (kd->form == KIND_FORM_DEFAULT)
		return true;
	if (hdr->section == MF_SEC_RULE)
		return sel_match(&hdr->match, q);
	return sel_ref_selects(&hdr->ref, q->peer, q->route, ctx);
}

/* Whether label @key of @labels (NULL: none) is @value. */
static bool sel_label_is(const struct mf_tagset *labels, const char *key,
			 const char *value)
{
	size_t len;
	const char *v = sel_label(labels, key, &len);

	return v && len == strlen(value) && !memcmp(v, value, len);
}

/* The rank of the first of @names (1..) that label @key of @labels has,
 * @none when it has none of them. */
static uint8_t sel_label_rank(const struct mf_tagset *labels, const char *key,
			      const char *const *names, uint8_t none)
{
	for (uint8_t i = 0; names[i]; i++)
		if (sel_label_is(labels, key, names[i]))
			return (uint8_t)(i + 1);
	return none;
}

/* The precedence of candidate @c of kind @kd (rule 2 of select.h). */
static void sel_rank_of(const struct kind_desc *kd, const struct sel_cand *c,
			struct sel_rank *r)
{
	static const char *const origins[] = { "global", "", "zone", NULL };
	static const char *const roles[] = { "system", "producer", "consumer",
					     "workload-owner", NULL };
	const struct mf_pol_hdr *hdr = c->val;
	const struct mf_ref *t = sel_target(hdr);

	memset(r, 0, sizeof(*r));
	r->target = (uint8_t)sel_kind_rank(t->kind);
	if (t->kind == MF_REF_WORKLOAD)
		r->target_sub = (uint8_t)((t->name[0] ? 2 : 0) +
					  (t->section[0] ? 1 : 0));
	r->origin = sel_label_rank(c->labels, "kuma.io/origin", origins, 2);
	r->role = sel_label_rank(c->labels, "kuma.io/policy-role", roles, 1);
	if (hdr->section == MF_SEC_RULE) {
		r->entry = (uint8_t)(2 * (hdr->match.spiffe_type ==
					  MF_AUTHZ_MATCH_EXACT ? 2 :
					  hdr->match.spiffe_type ? 1 : 0) +
				     (hdr->match.sni_type ? 1 : 0));
	} else if (kd->form != KIND_FORM_DEFAULT) {
		r->entry = (uint8_t)sel_kind_rank(hdr->ref.kind);
		r->entry_sub = hdr->ref.section[0] ? 1 : 0;
	}
	r->name = c->name;
	r->index = c->index;
}

struct sel_item {
	struct sel_rank rank;
	size_t idx;
};

static int sel_item_cmp(const void *pa, const void *pb)
{
	const struct sel_item *a = pa, *b = pb;
	int d = sel_cmp(&a->rank, &b->rank);

	/* Keep the input order for full ties: a stable, repeatable result. */
	if (d == 0 && a->idx != b->idx)
		d = a->idx < b->idx ? -1 : 1;
	return d;
}

int sel_select(const struct kind_desc *kd, const struct sel_cand *c, size_t n,
	       const struct sel_query *q, const struct sel_ctx *ctx,
	       size_t *order)
{
	struct sel_item *items;
	size_t m = 0;

	if (!q->self)
		return -EINVAL;
	switch (kd->form) {
	case KIND_FORM_TO_FROM:
		if (q->section != MF_SEC_TO && q->section != MF_SEC_FROM &&
		    q->section != MF_SEC_RULE)
			return -EINVAL;
		break;
	case KIND_FORM_ROUTE:
		if (q->section != MF_SEC_TO)
			return -EINVAL;
		break;
	case KIND_FORM_DEFAULT:
		if (q->section != MF_SEC_DEFAULT)
			return -EINVAL;
		break;
	default:
		/* Legacy forms pick one winner: sel_legacy_best(). */
		return -EINVAL;
	}
	if (n == 0)
		return 0;
	/* The result is an int: refuse counts it could not carry. */
	if (n > (size_t)INT32_MAX)
		return -EINVAL;
	items = calloc(n, sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct mf_pol_hdr *hdr = c[i].val;

		if (sel_label_is(c[i].labels, "kuma.io/effect", "shadow") ||
		    !sel_applies(kd, hdr, q, ctx))
			continue;
		sel_rank_of(kd, &c[i], &items[m].rank);
		items[m].idx = i;
		m++;
	}
	qsort(items, m, sizeof(*items), sel_item_cmp);
	for (size_t i = 0; i < m; i++)
		order[i] = items[i].idx;
	free(items);
	return (int)m;
}

int sel_effective(const struct kind_desc *kd, const struct sel_cand *c,
		  size_t n, const struct sel_query *q,
		  const struct sel_ctx *ctx, void *conf_out,
		  const char **names, size_t max_names)
{
	size_t *order = NULL;
	int m;

	memset(conf_out, 0, kd->val_size - kd->conf_off);
	if (n > 0) {
		order = calloc(n, sizeof(*order));
		if (!order)
			return -ENOMEM;
	}
	m = sel_select(kd, c, n, q, ctx, order);
	for (int i = 0; i < m; i++) {
		const char *val = c[order[i]].val;

		sch_merge(kd->conf, conf_out, val + kd->conf_off);
		if (names && (size_t)i < max_names)
			names[i] = c[order[i]].name;
	}
	free(order);
	return m;
}

/* The best rank among @nsel selectors of @ids matching @w; false when
 * none matches. */
static bool sel_legacy_side(const __u32 *ids, uint8_t nsel,
			    const struct sel_workload *w,
			    const struct sel_ctx *ctx,
			    struct sel_legacy_rank *best)
{
	bool found = false;

	for (uint8_t i = 0; i < nsel && i < MF_SELECTORS_MAX; i++) {
		const struct mf_tagset *ts;
		struct sel_legacy_rank r;

		ts = ids[i] && ctx->tags ? ctx->tags(ctx->arg, ids[i]) : NULL;
		/* An unresolvable selector matches nothing; id 0 is no tags,
		 * which would match everything: never written, so refuse. */
		if (!ts || !sel_tags_rank(ts, w, &r))
			continue;
		if (!found || r.tags > best->tags ||
		    (r.tags == best->tags && r.exact > best->exact))
			*best = r;
		found = true;
	}
	return found;
}

static int sel_legacy_cmp(const struct sel_legacy_rank *a,
			  const struct sel_legacy_rank *b)
{
	if (a->tags != b->tags)
		return a->tags < b->tags ? -1 : 1;
	if (a->exact != b->exact)
		return a->exact < b->exact ? -1 : 1;
	return 0;
}

int sel_legacy_best(const struct sel_cand *c, size_t n,
		    const struct sel_workload *src,
		    const struct sel_workload *dst, const struct sel_ctx *ctx,
		    struct sel_legacy_rank *rank)
{
	struct sel_legacy_rank best_rank = { 0, 0 };
	int best = -ENOENT;

	for (size_t i = 0; i < n && i <= (size_t)INT32_MAX; i++) {
		const struct mf_pol_hdr *hdr = c[i].val;
		struct sel_legacy_rank s = { 0, 0 }, d = { 0, 0 }, r;
		int cmp;

		if (src && !sel_legacy_side(hdr->sources, hdr->nsources, src,
					    ctx, &s))
			continue;
		if (dst && !sel_legacy_side(hdr->destinations,
					    hdr->ndestinations, dst, ctx, &d))
			continue;
		r.tags = s.tags + d.tags;
		r.exact = s.exact + d.exact;
		if (best >= 0) {
			cmp = sel_legacy_cmp(&r, &best_rank);
			/* Equal rank: the name that sorts first wins, as with
			 * targetRef policies. */
			if (cmp == 0)
				cmp = strncmp(c[best].name, c[i].name,
					      MF_NAME_MAX) > 0 ? 1 : -1;
			if (cmp <= 0)
				continue;
		}
		best = (int)i;
		best_rank = r;
	}
	if (best >= 0 && rank)
		*rank = best_rank;
	return best;
}
