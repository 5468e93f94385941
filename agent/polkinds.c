// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pmap.h"
#include "polkinds.h"
#include "policy/render.h"

struct pk_kind {
	struct mf_pol_key *keys;	/* owned */
	uint8_t *vals;			/* owned */
	size_t n;
};

struct pk_tag {
	uint32_t id;
	struct mf_tagset ts;
};

struct polkinds {
	struct pk_kind kinds[PMAP_KIND_MAPS];
	struct pk_tag *tags;		/* owned, sorted by id */
	size_t ntags;
	uint32_t *routes;		/* owned: HTTP route record indexes,
					 * sorted by destination name */
	size_t nroutes;
	size_t http_kind;		/* index of MeshHTTPRoute */
};

/* Sorting records through an index array keeps keys and values in
 * step; the context is the kind being sorted. */
static int pk_key_cmp(const void *a, const void *b, void *arg)
{
	const struct mf_pol_key *keys = arg;
	const struct mf_pol_key *x = &keys[*(const uint32_t *)a];
	const struct mf_pol_key *y = &keys[*(const uint32_t *)b];
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

/* Copies one kind's valid records in (name, index) order. */
static int pk_kind_build(struct pk_kind *pk, const struct kind_desc *kd,
			 const struct polkinds_input *in)
{
	uint32_t *order;
	size_t n = 0;

	if (!in->n)
		return 0;
	order = malloc(in->n * sizeof(*order));
	pk->keys = malloc(in->n * sizeof(*pk->keys));
	pk->vals = malloc(in->n * kd->val_size);
	if (!order || !pk->keys || !pk->vals) {
		free(order);
		return -ENOMEM;
	}
	for (size_t i = 0; i < in->n; i++) {
		const uint8_t *v = in->vals + i * kd->val_size;
		const char *why = sch_check(kd->conf, v + kd->conf_off);

		if (!why && !memchr(in->keys[i].name, 0, MF_NAME_MAX))
			why = "unterminated policy name";
		if (why) {
			log_warn("event=policy_record_dropped kind=%s "
				 "index=%u reason=\"%s\"", kd->name,
				 in->keys[i].index, why);
			continue;
		}
		order[n++] = (uint32_t)i;
	}
	qsort_r(order, n, sizeof(*order), pk_key_cmp, (void *)in->keys);
	for (size_t i = 0; i < n; i++) {
		pk->keys[i] = in->keys[order[i]];
		memcpy(pk->vals + i * kd->val_size,
		       in->vals + (size_t)order[i] * kd->val_size,
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

int polkinds_build(struct polkinds **out, const struct polkinds_input *in,
		   const struct mf_tagset_key *tag_keys,
		   const struct mf_tagset *tags, size_t ntags)
{
	struct polkinds *k = calloc(1, sizeof(*k));
	const struct pk_kind *http;
	int err = -ENOMEM;

	*out = NULL;
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < kinds_count && i < PMAP_KIND_MAPS; i++) {
		if (kinds_all[i] == &kind_mesh_http_route)
			k->http_kind = i;
		err = pk_kind_build(&k->kinds[i], kinds_all[i], &in[i]);
		if (err)
			goto fail;
	}
	k->tags = malloc((ntags ? ntags : 1) * sizeof(*k->tags));
	if (!k->tags)
		goto fail;
	for (size_t i = 0; i < ntags; i++) {
		k->tags[i].id = tag_keys[i].id;
		k->tags[i].ts = tags[i];
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
	for (size_t i = 0; i < PMAP_KIND_MAPS; i++) {
		free(k->kinds[i].keys);
		free(k->kinds[i].vals);
	}
	free(k->tags);
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

void polkinds_emit(const struct polkinds *k, struct emit *e)
{
	const struct sch_tags tags = { pk_tags_get, (void *)k };

	emit_map_begin(e);
	for (size_t kind = 0; k && kind < kinds_count; kind++) {
		const struct kind_desc *kd = kinds_all[kind];
		const struct pk_kind *pk = &k->kinds[kind];

		if (!pk->n)
			continue;
		emit_key(e, kd->name);
		emit_list_begin(e);
		for (size_t i = 0; i < pk->n; i++)
			render_record(e, kd, &pk->keys[i],
				      pk->vals + i * kd->val_size, &tags);
		emit_list_end(e);
	}
	emit_map_end(e);
}
