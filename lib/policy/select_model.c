// SPDX-License-Identifier: Apache-2.0
/*
 * What selection (select.h) asks of a policy's objects: the labels of the
 * object a targetRef names by kind and name, in a model set.
 */
#include <stdlib.h>

#include "dataplane.h"
#include "kinds.h"
#include "mesh_service.h"
#include "select_model.h"

const struct mf_tagset *sel_model_labels(const struct model_set *set,
					 uint8_t kind, const char *name)
{
	enum model_kind k, alt;
	const struct model_obj *o;

	/* Either spelling of a service (Service, MeshService) or of an
	 * endpoint (Workload, Dataplane). */
	switch (kind) {
	case MF_REF_MESH_SERVICE:
		k = MODEL_SERVICE;
		alt = msvc_kind();
		break;
	case MF_REF_WORKLOAD:
		k = MODEL_WORKLOAD;
		alt = dp_kind();
		break;
	case MF_REF_MESH_HTTP_ROUTE:
		k = alt = (enum model_kind)model_kind_parse("MeshHTTPRoute");
		break;
	default:
		return NULL;
	}
	o = model_set_find(set, k, name);
	if (!o)
		o = model_set_find(set, alt, name);
	return o ? model_tags_get(set, o->labels) : NULL;
}

static const struct mf_tagset *sel_model_tags_cb(void *arg, uint32_t id)
{
	return model_tags_get(arg, id);
}

static const struct mf_tagset *sel_model_labels_cb(void *arg, uint8_t kind,
						   const char *name)
{
	return sel_model_labels(arg, kind, name);
}

struct sel_ctx sel_model_ctx(const struct model_set *set)
{
	const struct sel_ctx ctx = {
		.tags = sel_model_tags_cb,
		.labels = sel_model_labels_cb,
		.arg = (void *)set,
	};

	return ctx;
}

struct sel_cand *sel_model_cands(const struct model_set *set,
				 enum model_kind k, size_t *n)
{
	const struct kind_desc *kd = model_kind_desc(k);
	struct sel_cand *c;
	size_t cnt = 0;

	*n = 0;
	for (size_t i = 0; i < set->n; i++)
		if (set->objs[i].kind == k)
			cnt += set->objs[i].pol.n;
	c = calloc(cnt ? cnt : 1, sizeof(*c));
	if (!c)
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct model_obj *o = &set->objs[i];

		if (o->kind != k)
			continue;
		for (size_t r = 0; r < o->pol.n; r++) {
			c[*n].val = o->pol.recs + r * kd->val_size;
			c[*n].name = o->name;
			c[*n].index = (uint32_t)r;
			c[*n].labels = model_tags_get(set, o->labels);
			(*n)++;
		}
	}
	return c;
}
