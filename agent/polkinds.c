// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pmap.h"
#include "polkinds.h"
#include "policy/model.h"
#include "policy/render.h"
#include "policy/select.h"

struct pk_kind {
	struct mf_pol_key *keys;	/* owned */
	uint8_t *vals;			/* owned */
	size_t n;
};

struct pk_tag {
	uint32_t id;
	struct mf_tagset ts;
};

struct pk_str {
	uint32_t id;
	struct mf_string str;
};

/* A route's regular expression, compiled once per snapshot. */
struct pk_regex {
	uint32_t id;			/* its mf_strings id */
	bool ok;			/* compiled: @re is to be used */
	regex_t re;
};

struct polkinds {
	struct pk_kind kinds[MF_KIND_MAP_COUNT];
	struct pk_tag *tags;		/* owned, sorted by id */
	size_t ntags;
	struct pk_str *strs;		/* owned, sorted by id */
	size_t nstrs;
	struct pk_regex *regexes;	/* owned, sorted by string id */
	size_t nregexes;
	uint32_t *routes;		/* owned: HTTP route record indexes,
					 * sorted by destination name */
	size_t nroutes;
	size_t http_kind;		/* index of MeshHTTPRoute */
	size_t otel_kind;		/* index of MeshOpenTelemetryBackend */
	uint32_t *otel_labels;		/* owned: its records' metadata.labels
					 * tag sets, in record order (0:
					 * none) */
};

/* Sorting records through an index array; the context is the table. */
static int pk_key_cmp(const void *a, const void *b, void *arg)
{
	const struct rec_set *rs = ((const void **)arg)[0];
	enum rec_map m = (enum rec_map)(uintptr_t)((const void **)arg)[1];
	const struct mf_pol_key *x = rec_key(rs, m, *(const uint32_t *)a);
	const struct mf_pol_key *y = rec_key(rs, m, *(const uint32_t *)b);
	int r = strncmp(x->name, y->name, sizeof(x->name));

	if (r)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int pk_tag_cmp(const void *a, const void *b)
{
	const struct pk_tag *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int pk_str_cmp(const void *a, const void *b)
{
	const struct pk_str *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* The strings of @rs that are in the form apply writes, sorted by id; a
 * malformed one is dropped with a log line (and so are the records that
 * refer to it, pk_kind_build()).  Returns 0 or -ENOMEM. */
static int pk_strs_build(struct polkinds *k, const struct rec_set *rs)
{
	size_t total = rec_count(rs, REC_STRINGS), n = 0;

	k->strs = malloc((total ? total : 1) * sizeof(*k->strs));
	if (!k->strs)
		return -ENOMEM;
	for (size_t i = 0; i < total; i++) {
		const struct mf_string_key *sk = rec_key(rs, REC_STRINGS, i);
		const struct mf_string *v = rec_val(rs, REC_STRINGS, i);
		const char *why = sch_str_check(v);

		if (why) {
			log_warn("event=policy_string_dropped id=%u "
				 "reason=\"%s\"", sk->id, why);
			continue;
		}
		k->strs[n].id = sk->id;
		k->strs[n++].str = *v;
	}
	k->nstrs = n;
	qsort(k->strs, n, sizeof(*k->strs), pk_str_cmp);
	return 0;
}

/* A record's strings must all be in the snapshot: the router reads them
 * without looking twice. */
struct pk_str_walk {
	const struct polkinds *k;
	uint32_t missing;		/* the first id not there, 0: none */
};

static void pk_str_cb(void *arg, const void *at)
{
	struct pk_str_walk *w = arg;
	uint32_t id = kind_str_id(at);
	size_t len;

	if (!w->missing && !polkinds_str(w->k, id, &len))
		w->missing = id;
}

/* Copies the valid records of map @m of @rs, kind @kd, in (name, index)
 * order; valid: their schema check passes and every string they refer
 * to is among @k's. */
static int pk_kind_build(const struct polkinds *k, struct pk_kind *pk,
			 const struct kind_desc *kd, const struct rec_set *rs,
			 enum rec_map m)
{
	size_t total = rec_count(rs, m), n = 0;
	const void *ctx[2] = { rs, (const void *)(uintptr_t)m };
	uint32_t *order;

	if (!total)
		return 0;
	order = malloc(total * sizeof(*order));
	pk->keys = malloc(total * sizeof(*pk->keys));
	pk->vals = malloc(total * kd->val_size);
	if (!order || !pk->keys || !pk->vals) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < total; i++) {
		const struct mf_pol_key *key = rec_key(rs, m, i);
		const uint8_t *v = rec_val(rs, m, i);
		const char *why = kind_rec_check(kd, v);
		struct pk_str_walk sw = { .k = k };

		if (!why && !memchr(key->name, 0, MF_NAME_MAX))
			why = "unterminated policy name";
		if (!why) {
			kind_rec_strs(kd, v, pk_str_cb, &sw);
			if (sw.missing)
				why = "it refers to a string that is not "
				      "there";
		}
		if (why) {
			log_warn("event=policy_record_dropped kind=%s "
				 "index=%u reason=\"%s\"", kd->name,
				 key->index, why);
			continue;
		}
		order[n++] = (uint32_t)i;
	}
	qsort_r(order, n, sizeof(*order), pk_key_cmp, ctx);
	for (size_t i = 0; i < n; i++) {
		memcpy(&pk->keys[i], rec_key(rs, m, order[i]),
		       sizeof(pk->keys[i]));
		memcpy(pk->vals + i * kd->val_size, rec_val(rs, m, order[i]),
		       kd->val_size);
	}
	pk->n = n;
	free(order);
	return 0;
}

static const char *pk_route_dest(const struct polkinds *k, uint32_t i)
{
	const struct pk_kind *pk = &k->kinds[k->http_kind];
	const struct mf_pol_hdr *h =
		(const void *)(pk->vals + (size_t)i *
						  kinds_all[k->http_kind]->val_size);

	return h->ref.kind == MF_REF_MESH ? "" : h->ref.name;
}

static int pk_route_cmp(const void *a, const void *b, void *arg)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = strcmp(pk_route_dest(arg, x), pk_route_dest(arg, y));

	if (r)
		return r;
	return x < y ? -1 : x > y;
}

static int pk_regex_cmp(const void *a, const void *b)
{
	const struct pk_regex *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Adds string @id to the regexes to compile (once). */
static int pk_regex_want(struct polkinds *k, size_t *cap, uint32_t id)
{
	struct pk_regex *r;

	if (!id)
		return 0;
	for (size_t i = 0; i < k->nregexes; i++)
		if (k->regexes[i].id == id)
			return 0;
	if (k->nregexes == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		r = realloc(k->regexes, *cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		k->regexes = r;
	}
	memset(&k->regexes[k->nregexes], 0, sizeof(k->regexes[0]));
	k->regexes[k->nregexes++].id = id;
	return 0;
}

/* Compiles every regular expression the HTTP routes match with, once: a
 * request then runs them, never compiles them.  One that does not compile
 * (a record from an older mfctl, say) matches nothing. */
static int pk_regexes_build(struct polkinds *k)
{
	const struct pk_kind *http = &k->kinds[k->http_kind];
	size_t cap = 0;
	int err = 0;

	for (size_t i = 0; !err && i < http->n; i++) {
		const struct mf_http_route *r = (const void *)(http->vals +
			i * kinds_all[k->http_kind]->val_size);

		for (size_t j = 0; !err && j < r->rule.nmatches &&
				   j < MF_ROUTE_MATCHES_MAX; j++) {
			const struct mf_route_match *m = &r->rule.matches[j];

			if (m->path.type == MF_PATH_REGEX)
				err = pk_regex_want(k, &cap, m->path.value);
			for (size_t h = 0; !err && h < m->nheaders &&
					   h < MF_ROUTE_KV_MAX; h++)
				if (m->headers[h].type == MF_MATCH_REGEX)
					err = pk_regex_want(k, &cap,
							    m->headers[h].value);
			for (size_t h = 0; !err && h < m->nquery_params &&
					   h < MF_ROUTE_KV_MAX; h++)
				if (m->query_params[h].type == MF_MATCH_REGEX)
					err = pk_regex_want(k, &cap,
							    m->query_params[h].value);
		}
	}
	if (err)
		return err;
	for (size_t i = 0; i < k->nregexes; i++) {
		struct pk_regex *x = &k->regexes[i];
		size_t len;
		const char *s = polkinds_str(k, x->id, &len);

		x->ok = s && !kind_regex_compile(&x->re, s);
		if (!x->ok)
			log_warn("event=policy_regex_dropped id=%u", x->id);
	}
	if (k->nregexes)	/* qsort() wants a base, even for nothing */
		qsort(k->regexes, k->nregexes, sizeof(*k->regexes),
		      pk_regex_cmp);
	return 0;
}

const regex_t *polkinds_regex(const struct polkinds *k, uint32_t id)
{
	size_t lo = 0, hi = k ? k->nregexes : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->regexes[mid].id == id)
			return k->regexes[mid].ok ? &k->regexes[mid].re : NULL;
		if (k->regexes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The metadata.labels of each MeshOpenTelemetryBackend record (a
 * backendRef selects one by them): mfctl writes every object's labels in
 * REC_LABELS, by its model kind and name. */
static int pk_otel_labels_build(struct polkinds *k, const struct rec_set *rs)
{
	const struct pk_kind *ob = &k->kinds[k->otel_kind];
	uint8_t model = (uint8_t)(MODEL_GEN_FIRST + k->otel_kind);

	k->otel_labels = calloc(ob->n ? ob->n : 1, sizeof(*k->otel_labels));
	if (!k->otel_labels)
		return -ENOMEM;
	for (size_t i = 0; i < rec_count(rs, REC_LABELS); i++) {
		const struct mf_labels_key *lk = rec_key(rs, REC_LABELS, i);
		const struct mf_labels *lv = rec_val(rs, REC_LABELS, i);

		if (lk->kind != model || lk->meta != MF_META_LABELS)
			continue;
		for (size_t r = 0; r < ob->n; r++)
			if (!strncmp(ob->keys[r].name, lk->name,
				     sizeof(lk->name)))
				k->otel_labels[r] = lv->tags;
	}
	return 0;
}

const struct mf_otel_backend *
polkinds_otel_backend(const struct polkinds *k, const struct mf_otel_ref *ref)
{
	const struct pk_kind *ob = &k->kinds[k->otel_kind];
	const struct mf_tagset *sel = polkinds_tags(k, ref->labels);

	if (!ref->present || !sel)
		return NULL;
	for (size_t r = 0; r < ob->n; r++)
		if (sel_labels_match(sel, ob->keys[r].name,
				     polkinds_tags(k, k->otel_labels[r])))
			return polkinds_record(k, k->otel_kind, r, NULL);
	return NULL;
}

int polkinds_build(struct polkinds **out, const struct rec_set *rs)
{
	struct polkinds *k = calloc(1, sizeof(*k));
	size_t ntags = rec_count(rs, REC_TAGSETS);
	const struct pk_kind *http;
	int err = -ENOMEM;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	/* Strings first: a record whose strings are not all there is
	 * dropped. */
	err = pk_strs_build(k, rs);
	if (err)
		goto fail;
	for (size_t i = 0; i < kinds_count; i++) {
		if (kinds_all[i] == &kind_mesh_http_route)
			k->http_kind = i;
		if (kinds_all[i] == &kind_mesh_otel_backend)
			k->otel_kind = i;
		err = pk_kind_build(k, &k->kinds[i], kinds_all[i], rs,
				    REC_KIND_FIRST + i);
		if (err)
			goto fail;
	}
	err = -ENOMEM;
	k->tags = malloc((ntags ? ntags : 1) * sizeof(*k->tags));
	if (!k->tags)
		goto fail;
	for (size_t i = 0; i < ntags; i++) {
		const struct mf_tagset_key *tk = rec_key(rs, REC_TAGSETS, i);

		k->tags[i].id = tk->id;
		memcpy(&k->tags[i].ts, rec_val(rs, REC_TAGSETS, i),
		       sizeof(k->tags[i].ts));
	}
	k->ntags = ntags;
	qsort(k->tags, ntags, sizeof(*k->tags), pk_tag_cmp);

	http = &k->kinds[k->http_kind];
	k->routes = malloc((http->n ? http->n : 1) * sizeof(*k->routes));
	if (!k->routes)
		goto fail;
	for (size_t i = 0; i < http->n; i++)
		k->routes[i] = (uint32_t)i;
	k->nroutes = http->n;
	qsort_r(k->routes, k->nroutes, sizeof(*k->routes), pk_route_cmp, k);
	err = pk_regexes_build(k);
	if (!err)
		err = pk_otel_labels_build(k, rs);
	if (err)
		goto fail;
	*out = k;
	return 0;
fail:
	polkinds_free(k);
	return err;
}

void polkinds_free(struct polkinds *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < MF_KIND_MAP_COUNT; i++) {
		free(k->kinds[i].keys);
		free(k->kinds[i].vals);
	}
	free(k->tags);
	free(k->otel_labels);
	free(k->strs);
	for (size_t i = 0; i < k->nregexes; i++)
		if (k->regexes[i].ok)
			regfree(&k->regexes[i].re);
	free(k->regexes);
	free(k->routes);
	free(k);
}

size_t polkinds_count(const struct polkinds *k, size_t kind)
{
	return k && kind < kinds_count ? k->kinds[kind].n : 0;
}

const void *polkinds_record(const struct polkinds *k, size_t kind, size_t i,
			    const struct mf_pol_key **key)
{
	if (!k || kind >= kinds_count || i >= k->kinds[kind].n)
		return NULL;
	if (key)
		*key = &k->kinds[kind].keys[i];
	return k->kinds[kind].vals + i * kinds_all[kind]->val_size;
}

const struct mf_tagset *polkinds_tags(const struct polkinds *k, uint32_t id)
{
	size_t lo = 0, hi = k ? k->ntags : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->tags[mid].id == id)
			return &k->tags[mid].ts;
		if (k->tags[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *polkinds_str(const struct polkinds *k, uint32_t id, size_t *len)
{
	size_t lo = 0, hi = k ? k->nstrs : 0;

	*len = 0;
	if (!id)
		return "";
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->strs[mid].id == id) {
			*len = k->strs[mid].str.len;
			return k->strs[mid].str.s;
		}
		if (k->strs[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

size_t polkinds_http_routes(const struct polkinds *k, const char *service,
			    const uint32_t **idx)
{
	size_t lo = 0, hi = k ? k->nroutes : 0, first;

	*idx = NULL;
	/* lower bound of @service, then upper bound */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(pk_route_dest(k, k->routes[mid]), service) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	hi = k ? k->nroutes : 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(pk_route_dest(k, k->routes[mid]), service) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > first)
		*idx = &k->routes[first];
	return lo - first;
}

/* ---- rendering ------------------------------------------------------- */

static const struct mf_tagset *pk_tags_get(void *arg, uint32_t id)
{
	return polkinds_tags(arg, id);
}

static const char *pk_str_get(void *arg, uint32_t id, size_t *len)
{
	return polkinds_str(arg, id, len);
}

bool polkinds_emit_next(const struct polkinds *k, struct emit *e,
			struct polkinds_cursor *c)
{
	const struct sch_ids tags = { .tags = pk_tags_get, .str = pk_str_get,
				      .arg = (void *)k };

	if (c->done)
		return false;
	if (!c->begun) {
		emit_map_begin(e);
		c->begun = true;
	}
	for (; k && c->kind < kinds_count; c->kind++, c->i = 0) {
		const struct kind_desc *kd = kinds_all[c->kind];
		const struct pk_kind *pk = &k->kinds[c->kind];

		if (c->i >= pk->n)
			continue;
		if (!c->i) {
			emit_key(e, kd->name);
			emit_list_begin(e);
		}
		render_record(e, kd, &pk->keys[c->i],
			      pk->vals + c->i * kd->val_size, &tags);
		if (++c->i == pk->n)
			emit_list_end(e);
		return true;
	}
	emit_map_end(e);
	c->done = true;
	return false;
}

void polkinds_emit(const struct polkinds *k, struct emit *e)
{
	struct polkinds_cursor c = { 0 };

	while (polkinds_emit_next(k, e, &c))
		;
}
