// SPDX-License-Identifier: Apache-2.0
/*
 * Builtin gateway instances (gw_instance.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "dataplane.h"
#include "gw_instance.h"
#include "identity.h"
#include "spiffe.h"

bool gwi_is(const struct model_set *set, const struct model_obj *o)
{
	return dp_gateway_type(o) == MF_DP_GATEWAY_BUILTIN &&
	       dp_node(set, o);
}

/* Kuma's identity of a proxy that has no MeshIdentity: its service's
 * under the trust domain of the Mesh. */
static int gwi_default_identity(const struct model_set *set,
				const struct model_obj *o, char *buf,
				char *why, size_t whyn)
{
	const char *svc = dp_gateway_service(set, o);
	const struct core_mesh *m = NULL;

	for (size_t i = 0; i < set->n && !m; i++)
		if (set->objs[i].kind == MODEL_MESH)
			m = model_spec(&set->objs[i]);
	if (!svc) {
		snprintf(why, whyn, "it has no kuma.io/service to name it");
		return -EINVAL;
	}
	if (!m) {
		snprintf(why, whyn, "it needs the trust domain of a Mesh, and "
			 "no Mesh is defined or applied");
		return -ENOENT;
	}
	/* A tag value may hold ':', which no SPIFFE path does. */
	if (snprintf(buf, MF_SPIFFE_MAX, "spiffe://%s/%s", m->trust_domain,
		     svc) >= MF_SPIFFE_MAX || spiffe_parse(buf, NULL)) {
		snprintf(why, whyn, "\"%s\" makes no SPIFFE ID (its path "
			 "segment is letters, digits, '.', '-' and '_')", svc);
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

int gwi_identity(const struct model_set *set, const struct model_obj *o,
		 char *buf, const struct model_obj **mid, char *why,
		 size_t whyn)
{
	buf[0] = '\0';
	*mid = identity_select(set, o);
	if (!*mid)
		return gwi_default_identity(set, o, buf, why, whyn);
	if (identity_render(set, *mid, o, buf, MF_SPIFFE_MAX, why, whyn)) {
		buf[0] = '\0';
		return -EINVAL;
	}
	return 0;
}

bool gwi_view(const struct model_set *set, const struct model_obj *o,
	      struct gwi_view *v)
{
	const struct model_obj *mid;
	char why[8];

	memset(v, 0, sizeof(*v));
	if (!gwi_is(set, o))
		return false;
	v->o = o;
	v->node = dp_node(set, o);
	v->tags = dp_gateway_tags(o);
	gwi_identity(set, o, v->id, &mid, why, sizeof(why));
	return true;
}

static int gwi_view_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gwi_view *)a)->o->name,
		      ((const struct gwi_view *)b)->o->name);
}

int gwi_views(const struct model_set *set, struct gwi_view **out, size_t *n)
{
	struct gwi_view *v;
	size_t cnt = 0, k = 0;

	for (size_t i = 0; i < set->n; i++)
		cnt += gwi_is(set, &set->objs[i]);
	v = calloc(cnt + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < set->n && k < cnt; i++)
		k += gwi_view(set, &set->objs[i], &v[k]);
	qsort(v, k, sizeof(*v), gwi_view_cmp);
	*out = v;
	*n = k;
	return 0;
}
