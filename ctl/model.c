// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const char *const model_kind_names[MODEL_KIND_MAX] = {
	[MODEL_MESH] = "Mesh",
	[MODEL_NODE] = "Node",
	[MODEL_SERVICE] = "Service",
	[MODEL_WORKLOAD] = "Workload",
	[MODEL_MTP] = "MeshTrafficPermission",
};

const char *model_kind_name(enum model_kind kind)
{
	return (unsigned)kind < MODEL_KIND_MAX ? model_kind_names[kind] : "?";
}

int model_kind_parse(const char *name)
{
	for (int k = 0; k < MODEL_KIND_MAX; k++)
		if (!strcmp(name, model_kind_names[k]))
			return k;
	return -1;
}

const char *model_from_kind_name(enum model_from_kind kind)
{
	switch (kind) {
	case MODEL_FROM_SPIFFE_ID:
		return "SpiffeID";
	case MODEL_FROM_SPIFFE_PREFIX:
		return "SpiffeIDPrefix";
	case MODEL_FROM_MESH:
		return "Mesh";
	}
	return "?";
}

const char *model_action_name(uint8_t action)
{
	switch (action) {
	case MF_AUTHZ_ALLOW:
		return "Allow";
	case MF_AUTHZ_DENY:
		return "Deny";
	}
	return "?";
}

void model_set_init(struct model_set *s)
{
	memset(s, 0, sizeof(*s));
}

static void model_obj_release(struct model_obj *o)
{
	if (o->kind == MODEL_MTP) {
		free(o->u.mtp.from);
		o->u.mtp.from = NULL;
		o->u.mtp.nfrom = 0;
	}
}

void model_set_free(struct model_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		model_obj_release(&s->objs[i]);
	free(s->objs);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	memset(s, 0, sizeof(*s));
}

const char *model_set_file(struct model_set *s, const char *name)
{
	char **files, *copy;

	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i], name))
			return s->files[i];
	copy = strdup(name);
	if (!copy)
		return NULL;
	files = realloc(s->files, (s->nfiles + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	files[s->nfiles++] = copy;
	s->files = files;
	return copy;
}

struct model_obj *model_set_add(struct model_set *s, enum model_kind kind)
{
	struct model_obj *o;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		o = realloc(s->objs, cap * sizeof(*o));
		if (!o)
			return NULL;
		s->objs = o;
		s->cap = cap;
	}
	o = &s->objs[s->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	return o;
}

int model_set_add_copy(struct model_set *s, const struct model_obj *src)
{
	struct model_from *from = NULL;
	struct model_obj *o;

	if (src->kind == MODEL_MTP && src->u.mtp.nfrom) {
		from = calloc(src->u.mtp.nfrom, sizeof(*from));
		if (!from)
			return -ENOMEM;
		memcpy(from, src->u.mtp.from,
		       src->u.mtp.nfrom * sizeof(*from));
	}
	o = model_set_add(s, src->kind);
	if (!o) {
		free(from);
		return -ENOMEM;
	}
	*o = *src;
	if (src->kind == MODEL_MTP)
		o->u.mtp.from = from;	/* ownership moves to the set */
	return 0;
}

struct model_obj *model_set_find(const struct model_set *s,
				 enum model_kind kind, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->objs[i].kind == kind && !strcmp(s->objs[i].name, name))
			return &s->objs[i];
	return NULL;
}

static int model_cmp(const void *a, const void *b)
{
	const struct model_obj *x = *(const struct model_obj *const *)a;
	const struct model_obj *y = *(const struct model_obj *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

void model_set_sorted(const struct model_set *s,
		      const struct model_obj **out)
{
	for (size_t i = 0; i < s->n; i++)
		out[i] = &s->objs[i];
	if (s->n)
		qsort(out, s->n, sizeof(*out), model_cmp);
}

const struct model_obj *model_sorted_find(const struct model_obj **sorted,
					  size_t n, enum model_kind kind,
					  const char *name)
{
	struct model_obj key = { .kind = kind };
	const struct model_obj *kp = &key, **r;

	/* Names that do not fit cannot be in the set. */
	if (strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.name, name);
	r = n ? bsearch(&kp, sorted, n, sizeof(*sorted), model_cmp) : NULL;
	return r ? *r : NULL;
}

static bool model_from_equal(const struct model_from *a,
			     const struct model_from *b)
{
	return a->kind == b->kind && a->action == b->action &&
	       !strcmp(a->name, b->name);
}

bool model_obj_equal(const struct model_obj *a, const struct model_obj *b)
{
	if (a->kind != b->kind || strcmp(a->name, b->name))
		return false;
	switch (a->kind) {
	case MODEL_MESH:
		return !strcmp(a->u.mesh.trust_domain, b->u.mesh.trust_domain);
	case MODEL_NODE:
		return !memcmp(a->u.node.ip, b->u.node.ip, 4) &&
		       a->u.node.tunnel_port == b->u.node.tunnel_port;
	case MODEL_SERVICE:
		return !memcmp(a->u.service.vip, b->u.service.vip, 4) &&
		       a->u.service.port == b->u.service.port &&
		       a->u.service.proto == b->u.service.proto;
	case MODEL_WORKLOAD: {
		const struct model_workload *x = &a->u.workload;
		const struct model_workload *y = &b->u.workload;

		return !strcmp(x->node, y->node) && !memcmp(x->ip, y->ip, 4) &&
		       x->port == y->port && !strcmp(x->service, y->service) &&
		       !strcmp(x->identity, y->identity);
	}
	case MODEL_MTP: {
		const struct model_mtp *x = &a->u.mtp, *y = &b->u.mtp;

		if (strcmp(x->target, y->target) || x->nfrom != y->nfrom)
			return false;
		for (size_t i = 0; i < x->nfrom; i++)
			if (!model_from_equal(&x->from[i], &y->from[i]))
				return false;
		return true;
	}
	case MODEL_KIND_MAX:
		break;
	}
	return false;
}
