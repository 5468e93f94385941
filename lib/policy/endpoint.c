// SPDX-License-Identifier: Apache-2.0
/*
 * The endpoints of a policy (endpoint.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "dataplane.h"
#include "endpoint.h"
#include "identity.h"
#include "kinds.h"
#include "mesh_service.h"
#include "svcname.h"

const char *ep_addr(const struct model_set *set, const struct model_obj *o,
		   uint8_t ip[4], uint16_t *port)
{
	const char *node;

	if (o->kind == MODEL_WORKLOAD) {
		const struct core_workload *w = model_spec(o);

		memcpy(ip, w->ip, 4);
		*port = w->port;
		return w->node;
	}
	node = dp_node(set, o);
	/* A gateway has no inbound: a builtin one is a gateway instance
	 * (gw_instance.h), a delegated one nothing the Node serves. */
	if (!node || dp_gateway_type(o))
		return NULL;
	if (dp_endpoint_addr(o, ip, port)) {
		memset(ip, 0, 4);
		*port = 0;
	}
	return node;
}

bool ep_view(const struct model_set *set, const struct model_obj *o,
	     struct ep_view *v, char id_buf[MF_SPIFFE_MAX])
{
	const struct model_obj *ms, *mid;
	char why[8];

	memset(v, 0, sizeof(*v));
	v->o = o;
	v->node = ep_addr(set, o, v->ip, &v->port);
	if (!v->node)
		return false;
	if (o->kind == MODEL_WORKLOAD) {
		const struct core_workload *w = model_spec(o);

		v->service = msvc_workload_service(set, o);
		if (w->identity[0])
			v->id = w->identity;
		else if (identity_of_workload(set, o, id_buf))
			v->id = id_buf;
		v->tags = w->tags;
		return true;
	}
	v->dataplane = true;
	v->service = dp_inbound_service(set, o);
	/* The inbound may name its service as Kuma generates it: the
	 * endpoint belongs to the Service that name resolves to. */
	if (v->service && !svcname_resolve(set, v->service, &ms, NULL))
		v->service = ms->name;
	if (!v->service) {
		ms = msvc_of_workload(set, o, NULL);
		v->service = ms ? ms->name : "";
	}
	mid = identity_select(set, o);
	if (mid && !identity_render(set, mid, o, id_buf, MF_SPIFFE_MAX, why,
				    sizeof(why)))
		v->id = id_buf;
	v->tags = dp_inbound_tags(o);
	return true;
}

bool ep_http(const struct model_set *set, const struct ep_view *v)
{
	const char *p = kind_tag_value(model_tags_get(set, v->tags),
				       KIND_PROTOCOL_TAG);

	return p && !strcasecmp(p, "http");
}

static int ep_obj_cmp(const void *a, const void *b)
{
	const struct model_obj *x = *(const struct model_obj *const *)a;
	const struct model_obj *y = *(const struct model_obj *const *)b;

	if (x->kind != y->kind)
		return x->kind == MODEL_WORKLOAD ? -1 : 1;
	return strcmp(x->name, y->name);
}

int ep_views(const struct model_set *set, struct ep_list *out)
{
	const struct model_obj **objs;
	char id_buf[MF_SPIFFE_MAX];
	size_t cnt = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < set->n; i++)
		if (set->objs[i].kind == MODEL_WORKLOAD ||
		    set->objs[i].kind == dp_kind())
			cnt++;
	objs = malloc((cnt + 1) * sizeof(*objs));
	out->v = malloc((cnt + 1) * sizeof(*out->v));
	if (!objs || !out->v)
		goto nomem;
	cnt = 0;
	for (size_t i = 0; i < set->n; i++)
		if (set->objs[i].kind == MODEL_WORKLOAD ||
		    set->objs[i].kind == dp_kind())
			objs[cnt++] = &set->objs[i];
	qsort(objs, cnt, sizeof(*objs), ep_obj_cmp);
	for (size_t i = 0; i < cnt; i++) {
		struct ep_view *v = &out->v[out->n];

		if (!ep_view(set, objs[i], v, id_buf))
			continue;
		if (v->id == id_buf && !(v->id = arena_strdup(&out->ids,
							      id_buf)))
			goto nomem;
		out->n++;
	}
	free(objs);
	return 0;
nomem:
	free(objs);
	ep_list_free(out);
	return -ENOMEM;
}

void ep_list_free(struct ep_list *l)
{
	free(l->v);
	arena_free(&l->ids);
	memset(l, 0, sizeof(*l));
}
