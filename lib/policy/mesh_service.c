// SPDX-License-Identifier: Apache-2.0
/*
 * MeshService as a service that carries traffic (mesh_service.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core.h"
#include "dataplane.h"
#include "endpoint.h"
#include "kinds.h"
#include "mesh_service.h"
#include "records.h"
#include "select.h"

/* Presence bits of struct mf_msvc_selector (kind_mesh_service.c's field
 * order: dataplaneTags, dataplaneRef, dataplaneLabels). */
#define MSVC_SEL_LABELS		(1u << 2)

enum model_kind msvc_kind(void)
{
	return (enum model_kind)(MODEL_GEN_FIRST + REC_MESH_SERVICES -
				 REC_KIND_FIRST);
}

enum model_kind mes_kind(void)
{
	return (enum model_kind)(MODEL_GEN_FIRST + REC_EXT_SERVICES -
				 REC_KIND_FIRST);
}

enum model_kind mzs_kind(void)
{
	return (enum model_kind)(MODEL_GEN_FIRST + REC_MZ_SERVICES -
				 REC_KIND_FIRST);
}

bool mzs_selects(const struct model_set *set, const struct model_obj *mz,
		 const struct model_obj *ms)
{
	const struct mf_mesh_multi_zone_service *z = (const void *)mz->pol.recs;
	const struct mf_tagset *sel;

	if (!mz->pol.n || ms->kind != msvc_kind())
		return false;
	sel = z->selector.mesh_service.match_labels ?
	      model_tags_get(set, z->selector.mesh_service.match_labels) :
	      NULL;
	/* matchLabels is required and not empty: no selector, nothing. */
	return sel && sel->n &&
	       sel_labels_match(sel, ms->name, model_tags_get(set, ms->labels));
}

bool msvc_has_port(const struct model_obj *ms, uint16_t port)
{
	const struct mf_mesh_service *m = (const void *)ms->pol.recs;

	for (size_t i = 0; ms->pol.n && i < m->nports &&
			   i < MF_MSVC_PORTS_MAX; i++)
		if (m->ports[i].port == port)
			return true;
	return false;
}

bool msvc_available(const struct model_obj *ms)
{
	const struct mf_mesh_service *m = (const void *)ms->pol.recs;

	return ms->pol.n && m->state != MF_MSVC_UNAVAILABLE;
}

bool msvc_selects(const struct model_set *set, const struct model_obj *ms,
		  const struct model_obj *w)
{
	const struct mf_mesh_service *s = (const void *)ms->pol.recs;
	const struct mf_tagset *sel, *have;
	/* A Workload's tags, or a Dataplane's inbound's. */
	uint32_t tags = w->kind == MODEL_WORKLOAD ?
			((const struct core_workload *)model_spec(w))->tags :
			dp_inbound_tags(w);

	if (!ms->pol.n)
		return false;
	if (s->selector.dataplane_ref.name[0])
		return !strcmp(s->selector.dataplane_ref.name, w->name);
	if (s->selector.dataplane_tags) {
		sel = model_tags_get(set, s->selector.dataplane_tags);
		have = model_tags_get(set, tags);
		for (uint32_t i = 0; sel && i < sel->n; i++) {
			bool found = false;

			for (uint32_t j = 0; have && j < have->n; j++)
				if (!strcmp(sel->tags[i].key,
					    have->tags[j].key) &&
				    !strcmp(sel->tags[i].value,
					    have->tags[j].value))
					found = true;
			if (!found)
				return false;
		}
		return sel != NULL;
	}
	if (s->selector.present & MSVC_SEL_LABELS) {
		sel = s->selector.dataplane_labels.match_labels ?
		      model_tags_get(set,
				     s->selector.dataplane_labels.match_labels) :
		      NULL;
		return sel_labels_match(sel, w->name,
					model_tags_get(set, w->labels));
	}
	return false;	/* no selector: no endpoints, as in Kuma */
}

const struct model_obj *msvc_of_workload(const struct model_set *set,
					 const struct model_obj *w,
					 unsigned *n)
{
	const struct model_obj *first = NULL;
	unsigned cnt = 0;

	for (size_t i = 0; model_set_count(set, msvc_kind()) && i < set->n;
	     i++) {
		const struct model_obj *o = &set->objs[i];

		if (o->kind != msvc_kind() || !msvc_service_port(o) ||
		    !msvc_selects(set, o, w))
			continue;
		cnt++;
		if (!first || strcmp(o->name, first->name) < 0)
			first = o;
	}
	if (n)
		*n = cnt;
	return first;
}

const char *msvc_workload_service(const struct model_set *set,
				  const struct model_obj *w)
{
	const struct core_workload *cw = model_spec(w);
	const struct model_obj *ms;

	if (cw->service[0])
		return cw->service;
	ms = msvc_of_workload(set, w, NULL);
	return ms ? ms->name : "";
}

bool msvc_is_service(const struct model_obj *o)
{
	return o->kind == MODEL_SERVICE || o->kind == msvc_kind();
}

uint16_t msvc_service_port(const struct model_obj *o)
{
	const struct mf_mesh_service *m = (const void *)o->pol.recs;

	if (o->kind == MODEL_SERVICE)
		return ((const struct core_service *)model_spec(o))->port;
	return o->pol.n && m->nports ? m->ports[0].port : 0;
}

uint32_t msvc_port_flags(const struct model_obj *o, size_t port, size_t neps,
			 size_t nhttp)
{
	const struct mf_mesh_service *m = (const void *)o->pol.recs;
	const struct core_service *cs;

	if (o->kind != MODEL_SERVICE) {
		bool http = o->pol.n && port < m->nports &&
			    !strcasecmp(m->ports[port].app_protocol, "http");

		return MF_SERVICE_F_MESH_SERVICE |
		       (http ? MF_SERVICE_F_HTTP : 0);
	}
	cs = model_spec(o);
	if (sch_has(cs, CS_PROTOCOL))
		return MF_SERVICE_F_PROTOCOL_SPEC |
		       (cs->protocol == CS_PROTOCOL_HTTP ?
			MF_SERVICE_F_HTTP : 0);
	/* Kuma's InferServiceProtocol: what all endpoints agree on, else
	 * tcp. */
	return neps && nhttp == neps ? MF_SERVICE_F_HTTP : 0;
}

int msvc_parse_range(const char *s, uint8_t net[4], uint8_t *prefix)
{
	uint32_t h;

	if (kind_parse_cidr4(s, net, prefix) || *prefix < 8 || *prefix > 30)
		return -EINVAL;
	/* Not "this network", loopback or multicast: no unicast VIP lives
	 * there.  240/4 is fine (Kuma's default is in it). */
	h = net[0];
	if (h == 0 || h == 127 || (h >= 224 && h <= 239))
		return -EINVAL;
	return 0;
}

static int msvc_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t msvc_h(const uint8_t ip[4])
{
	uint32_t n;

	memcpy(&n, ip, 4);
	return ntohl(n);
}

static void msvc_ip(uint8_t ip[4], uint32_t h)
{
	uint32_t n = htonl(h);

	memcpy(ip, &n, 4);
}

/* Whether @h is in sorted @used (@n). */
static bool msvc_used(const uint32_t *used, size_t n, uint32_t h)
{
	return bsearch(&h, used, n, sizeof(*used), msvc_u32_cmp) != NULL;
}

/* The VIP @prev's records flagged @flag gave service @name, or 0. */
static uint32_t msvc_prev_vip(const struct rec_set *prev, uint32_t flag,
			      const char *name)
{
	for (size_t i = 0; prev && i < rec_count(prev, REC_SERVICES); i++) {
		const struct mf_service_key *k = rec_key(prev, REC_SERVICES, i);
		const struct mf_service *v = rec_val(prev, REC_SERVICES, i);

		if ((v->flags & flag) &&
		    !strncmp(v->name, name, sizeof(v->name)))
			return msvc_h(k->vip);
	}
	return 0;
}

const char *msvc_default_range(uint32_t flag)
{
	return flag == MF_SERVICE_F_EXTERNAL ? MES_VIP_RANGE_DEFAULT :
	       flag == MF_SERVICE_F_MULTI_ZONE ? MZS_VIP_RANGE_DEFAULT :
						 MSVC_VIP_RANGE_DEFAULT;
}

int msvc_alloc_vips(const char *range, uint32_t flag,
		    const struct rec_set *prev, const char *const *names, size_t n,
		    const uint8_t (*taken)[4], size_t ntaken,
		    uint8_t (*vips)[4], size_t *failed)
{
	uint8_t net[4], prefix;
	uint32_t first, last, next, *used;
	size_t nused = 0;
	int err = 0;

	if (!range[0])
		range = msvc_default_range(flag);
	if (msvc_parse_range(range, net, &prefix))
		return -EINVAL;
	first = msvc_h(net) + 1;
	last = (msvc_h(net) | ~(~0u << (32 - prefix))) - 1;
	used = calloc(ntaken + n + 1, sizeof(*used));
	if (!used)
		return -ENOMEM;
	for (size_t i = 0; i < ntaken; i++)
		used[nused++] = msvc_h(taken[i]);
	qsort(used, nused, sizeof(*used), msvc_u32_cmp);

	/* Kept addresses first, so a new MeshService never takes one. */
	for (size_t i = 0; i < n; i++) {
		uint32_t h = msvc_prev_vip(prev, flag, names[i]);

		memset(vips[i], 0, 4);
		if (!h || h < first || h > last || msvc_used(used, nused, h))
			continue;
		msvc_ip(vips[i], h);
		used[nused++] = h;
		qsort(used, nused, sizeof(*used), msvc_u32_cmp);
	}
	next = first;
	for (size_t i = 0; i < n && !err; i++) {
		if (msvc_h(vips[i]))
			continue;
		while (next <= last && msvc_used(used, nused, next))
			next++;
		if (next > last) {
			*failed = i;
			err = -ENOSPC;
			break;
		}
		msvc_ip(vips[i], next++);
	}
	free(used);
	return err;
}

bool msvc_identity_listed(const struct model_set *set,
			  const struct model_obj *o, const struct ep_view *e)
{
	const struct mf_mesh_service *m = (const void *)o->pol.recs;
	const char *spiffe = e->id, *tag;

	if (o->kind != msvc_kind() || !o->pol.n || !m->nidentities)
		return true;
	tag = kind_tag_value(model_tags_get(set, e->tags), "kuma.io/service");
	if (!tag)
		tag = e->service;
	for (unsigned i = 0; i < m->nidentities &&
			     i < MF_MSVC_IDENTITIES_MAX; i++) {
		const struct mf_msvc_identity *id = &m->identities[i];

		if (id->type == MF_MSVC_ID_SPIFFE_ID ?
		    spiffe && !strcmp(spiffe, id->value) :
		    !strcmp(tag, id->value))
			return true;
	}
	return false;
}
