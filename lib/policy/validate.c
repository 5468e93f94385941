// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "dataplane.h"
#include "endpoint.h"
#include "gw_instance.h"
#include "identity.h"
#include "kinds.h"
#include "mesh_kuma.h"
#include "mesh_service.h"
#include "svcname.h"
#include "select.h"
#include "select_model.h"
#include "tls_profile.h"
#include "spiffe.h"
#include "validate.h"

struct val_ctx {
	const struct model_set *set;
	struct diag *d;
	const struct model_obj **sorted;	/* by kind, then name */
	size_t kind_first[MODEL_KIND_MAX];	/* range of each kind */
	size_t kind_n[MODEL_KIND_MAX];
	const char *td;				/* NULL: no Mesh */
	/* The mesh's trust domains besides td, and which the mesh CA
	 * vouches for (identity_domains(); compile refuses more). */
	char mid_domains[MF_MID_DOMAINS_MAX][MF_NAME_MAX];
	size_t nmid_domains;
	uint32_t mid_domain_ca;
	bool mesh_missing_reported;
	unsigned errors;
};

static void val_err(struct val_ctx *c, const struct model_obj *o,
		    const struct diag_loc *loc, const char *path,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void val_err(struct val_ctx *c, const struct model_obj *o,
		    const struct diag_loc *loc, const char *path,
		    const char *fmt, ...)
{
	char msg[512], what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(what, sizeof(what), "applied %s %s", model_kind_name(o->kind),
		 o->name);
	/* An object from a file whose field was never set (it has a
	 * default) has no position of its own: point at the document. */
	if (o->loc.file && (!loc || !loc->file))
		loc = &o->loc;
	diag_add(c->d, o->loc.file ? loc : NULL, what, path, "%s", msg);
	c->errors++;
}

/* Where @o came from, for "(at ...)" notes. */
static const char *val_where(const struct model_obj *o, char *buf, size_t n)
{
	if (o->loc.file)
		snprintf(buf, n, "at %s:%u:%u", o->loc.file, o->loc.line,
			 o->loc.col);
	else
		snprintf(buf, n, "applied");
	return buf;
}

static const struct model_obj *val_find(const struct val_ctx *c,
					enum model_kind kind, const char *name)
{
	return model_sorted_find(c->sorted, c->set->n, kind, name);
}

/* The trust domain of @set's Mesh, or NULL when it has none. */
static const char *validate_trust_domain(const struct model_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->objs[i].kind == MODEL_MESH)
			return ((const struct core_mesh *)
					model_spec(&set->objs[i]))->trust_domain;
	return NULL;
}

static void val_meshes(struct val_ctx *c)
{
	size_t first = c->kind_first[MODEL_MESH], n = c->kind_n[MODEL_MESH];
	const struct model_obj *applied = NULL;
	bool reported = false;
	char where[300];

	if (n <= 1)
		return;
	for (size_t i = first; i < first + n; i++)
		if (!c->sorted[i]->loc.file)
			applied = c->sorted[i];
	for (size_t i = first; i < first + n; i++) {
		const struct model_obj *m = c->sorted[i];
		const struct model_obj *other = applied && applied != m ?
			applied : c->sorted[i == first ? first + 1 : first];

		if (!m->loc.file)
			continue;
		val_err(c, m, &m->name_loc, "metadata.name",
			"only one Mesh is supported, and Mesh \"%s\" is "
			"also defined (%s)", other->name,
			val_where(other, where, sizeof(where)));
		reported = true;
	}
	if (!reported)
		val_err(c, c->sorted[first], NULL, "metadata.name",
			"only one Mesh is supported");
}

/* The trust domain an identity must be in, or NULL after reporting (once)
 * that there is no Mesh to take it from. */
static const char *val_need_td(struct val_ctx *c, const struct model_obj *o,
			       const struct diag_loc *loc, const char *path)
{
	if (c->td)
		return c->td;
	if (!c->mesh_missing_reported)
		val_err(c, o, loc, path,
			"needs the trust domain of a Mesh, and no Mesh is "
			"defined or applied");
	c->mesh_missing_reported = true;
	return NULL;
}

/* Sorting helpers for the uniqueness checks: equal keys end up adjacent,
 * the applied object (no file) or the earlier one in the input first. */
struct val_keyed {
	const struct model_obj *o;
	uint8_t key[8];
	size_t order;
};

static int val_keyed_cmp(const void *a, const void *b)
{
	const struct val_keyed *x = a, *y = b;
	int r = memcmp(x->key, y->key, sizeof(x->key));

	if (r)
		return r;
	if (!x->o->loc.file != !y->o->loc.file)
		return x->o->loc.file ? 1 : -1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The key of kind @kd's unique fields in record @rec (an address, and a
 * port after it), and how it reads ("10.96.0.10:80") into @text unless it
 * is NULL (only a duplicate is said). */
static void val_key(const struct kind_desc *kd, const uint8_t *rec,
		    uint8_t key[8], char *text, size_t n)
{
	size_t at = 0, len = 0;

	memset(key, 0, 8);
	if (text)
		text[0] = 0;
	for (unsigned i = 0; i < kd->nunique; i++) {
		const struct sch_field *f = &kd->conf->fields[kd->unique[i]];
		const uint8_t *p = rec + f->off;
		size_t sz = sch_field_size(f);

		memcpy(key + at, p, sz);
		at += sz;
		if (!text)
			continue;
		if (f->type == SCH_IPV4)
			len += (size_t)snprintf(text + len, n - len,
						"%u.%u.%u.%u", p[0], p[1],
						p[2], p[3]);
		else
			len += (size_t)snprintf(text + len, n - len, ":%llu",
						(unsigned long long)
							sch_get_uint(p, sz));
	}
}

/*
 * Reports objects of @kind whose unique fields another object of that
 * kind already has.  Returns 0 or -ENOMEM.
 */
static int val_unique(struct val_ctx *c, enum model_kind kind)
{
	const struct kind_desc *kd = model_kind_desc(kind);
	size_t first = c->kind_first[kind], n = c->kind_n[kind];
	const struct sch_field *f0 = &kd->conf->fields[kd->unique[0]];
	struct val_keyed *k;
	char where[300], text[64], path[64];

	if (n < 2 || !kd->nunique)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		k[i].o = c->sorted[first + i];
		val_key(kd, model_spec(k[i].o), k[i].key, NULL, 0);
		/* Input order: position in the set. */
		k[i].order = (size_t)(k[i].o - c->set->objs);
	}
	qsort(k, n, sizeof(*k), val_keyed_cmp);
	snprintf(path, sizeof(path), "spec.%s", f0->name);
	for (size_t i = 1, g = 0; i < n; i++) {
		const struct model_ref_loc *at;

		if (memcmp(k[i].key, k[g].key, sizeof(k[g].key))) {
			g = i;
			continue;
		}
		val_key(kd, model_spec(k[i].o), k[i].key, text, sizeof(text));
		at = model_note(k[i].o, 0, f0->off);
		val_err(c, k[i].o, at ? &at->loc : NULL, path,
			"%s is already used by %s \"%s\" (%s)", text,
			kd->name, k[g].o->name,
			val_where(k[g].o, where, sizeof(where)));
	}
	free(k);
	return 0;
}

/* The MeshTrust kind's model kind. */
static enum model_kind val_mesh_trust_kind(void)
{
	return (enum model_kind)(MODEL_GEN_FIRST + REC_MESH_TRUSTS -
				 REC_KIND_FIRST);
}

/* The index of trust domain @td (@n bytes) among the mesh's besides the
 * Mesh's (its MeshIdentities'), or -1. */
static int val_mid_domain(const struct val_ctx *c, const char *td, size_t n)
{
	for (size_t i = 0; i < c->nmid_domains; i++)
		if (strlen(c->mid_domains[i]) == n &&
		    !strncmp(c->mid_domains[i], td, n))
			return (int)i;
	return -1;
}

/* Whether a MeshTrust is for trust domain @td. */
static bool val_mesh_trust_for(const struct val_ctx *c, const char *td)
{
	const enum model_kind mt = val_mesh_trust_kind();

	for (size_t i = 0; i < c->kind_n[mt]; i++) {
		const struct model_obj *o = c->sorted[c->kind_first[mt] + i];
		const struct mf_mesh_trust *m = (const void *)o->pol.recs;

		if (o->pol.n && !strncmp(m->trust_domain, td,
					 sizeof(m->trust_domain)))
			return true;
	}
	return false;
}

/* Whether @spiffe (a SPIFFE ID or prefix) names one of the mesh's trust
 * domains besides the Mesh's. */
static bool val_in_other_td(const struct val_ctx *c, const char *spiffe)
{
	const char *td = spiffe + strlen("spiffe://"), *end;

	if (strncmp(spiffe, "spiffe://", strlen("spiffe://")))
		return false;
	end = strchr(td, '/');
	return val_mid_domain(c, td, end ? (size_t)(end - td) :
					   strlen(td)) >= 0;
}

/* @spiffe (an identity, or with @prefix the start of some) is in the
 * trust domain of the Mesh, or in another of the mesh's (its
 * MeshIdentities'); else says so at where it was written (the note of
 * @o's record @rec at @off, else @path).  The note is looked up only to
 * say something: 100k Workloads each check one identity. */
static void val_in_td(struct val_ctx *c, const struct model_obj *o,
		      size_t rec, size_t off, const char *path,
		      const char *spiffe, bool prefix)
{
	const char *also = " or one its MeshIdentities give";
	const struct model_ref_loc *at;
	char want[MF_NAME_MAX + 16];
	const char *td = c->td;
	bool in;

	if (td) {
		if (!prefix) {
			in = spiffe_in_trust_domain(spiffe, td);
		} else {
			/* A prefix may be the trust domain itself,
			 * without its '/'. */
			snprintf(want, sizeof(want), "spiffe://%s/", td);
			in = !strncmp(spiffe, want, strlen(want)) ||
			     (strlen(spiffe) == strlen(want) - 1 &&
			      !strncmp(spiffe, want, strlen(spiffe)));
		}
		if (in || val_in_other_td(c, spiffe))
			return;
	}
	at = model_note(o, rec, off);
	if (at)
		path = at->path;
	if (!val_need_td(c, o, at ? &at->loc : NULL, path))
		return;
	/* Said as before when the Mesh's is the only domain there is. */
	if (!c->nmid_domains)
		also = "";
	if (!prefix)
		val_err(c, o, at ? &at->loc : NULL, path,
			"must be in the Mesh's trust domain \"%s\"%s", td,
			also);
	else
		val_err(c, o, at ? &at->loc : NULL, path,
			"must start with \"%s\" (the Mesh's trust "
			"domain)%s", want, also);
}

/* Identity @id, which MeshIdentity @mid gives @o (a @what), is in a trust
 * domain some CA of the mesh vouches for; else says which and why not. */
static void val_mid_td(struct val_ctx *c, const struct model_obj *o,
		       const char *what, const char *path, const char *id,
		       const struct model_obj *mid)
{
	const struct mf_mid_provider *pv =
		&((const struct mf_mesh_identity *)mid->pol.recs)->provider;
	struct spiffe_id sid;

	int i;

	if (!c->td || spiffe_in_trust_domain(id, c->td) ||
	    spiffe_parse(id, &sid))
		return;
	i = val_mid_domain(c, sid.trust_domain, strlen(sid.trust_domain));
	if ((i >= 0 && c->mid_domain_ca & 1u << i) ||
	    val_mesh_trust_for(c, sid.trust_domain))
		return;
	val_err(c, o, NULL, path,
		"\"%s\", which MeshIdentity \"%s\" gives this %s, is in "
		"trust domain \"%s\", which no CA of the mesh vouches for "
		"(%s): apply a MeshTrust for it", id, mid->name, what,
		sid.trust_domain,
		pv->type && pv->type != MF_MID_BUNDLED ?
		"its provider's CA is not the mesh CA" :
		"its meshTrustCreation is Disabled");
}

/* A Workload's identity is its spec.identity or its MeshIdentity's
 * (identity.h); with both, they agree. */
static void val_workload(struct val_ctx *c, const struct model_obj *o)
{
	const size_t off = offsetof(struct core_workload, identity);
	const struct core_workload *w = model_spec(o);
	const struct model_obj *mid = identity_select(c->set, o);
	const struct model_ref_loc *at;
	char id[MF_SPIFFE_MAX], why[160];

	if (!mid) {
		if (!w->identity[0])
			val_err(c, o, NULL, "spec.identity",
				"is required unless a MeshIdentity selects "
				"this Workload (by its metadata.labels)");
		else
			val_in_td(c, o, 0, off, "spec.identity", w->identity,
				  false);
		return;
	}
	if (identity_render(c->set, mid, o, id, sizeof(id), why,
			    sizeof(why))) {
		at = model_note(o, 0, off);
		val_err(c, o, at ? &at->loc : NULL, "spec.identity",
			"MeshIdentity \"%s\" selects this Workload, but %s",
			mid->name, why);
		return;
	}
	if (w->identity[0] && strcmp(w->identity, id)) {
		at = model_note(o, 0, off);
		val_err(c, o, at ? &at->loc : NULL, "spec.identity",
			"must be \"%s\", the identity MeshIdentity \"%s\" "
			"gives this Workload, or be left out", id, mid->name);
		return;
	}
	val_mid_td(c, o, "Workload", "spec.identity", id, mid);
}

/* A Workload is the endpoint of one service: its spec.service, or the
 * one MeshService that selects it. */
static void val_workload_service(struct val_ctx *c, const struct model_obj *o)
{
	const struct core_workload *w = model_spec(o);
	unsigned n = 0;
	const struct model_obj *ms = msvc_of_workload(c->set, o, &n);

	if (!w->service[0] && !ms)
		val_err(c, o, NULL, "spec.service",
			"is required unless a MeshService with ports "
			"selects this Workload");
	else if (n > 1)
		val_err(c, o, NULL, "spec.service",
			"%u MeshServices select this Workload (\"%s\" and "
			"more); a Workload is the endpoint of one service", n,
			ms->name);
	else if (w->service[0] && ms && strcmp(w->service, ms->name))
		val_err(c, o, NULL, "spec.service",
			"names \"%s\", but MeshService \"%s\" selects this "
			"Workload; a Workload is the endpoint of one service",
			w->service, ms->name);
}

/* The kuma.io/service value of tag set @ts, or NULL.  Tag values are
 * NUL-padded arrays that may fill theirs: copied to @buf. */
static const char *val_service_tag(const struct mf_tagset *ts,
				   char buf[MF_TAG_VALUE_MAX + 1])
{
	for (uint32_t i = 0; ts && i < ts->n && i < MF_TAGS_MAX; i++) {
		if (strncmp(ts->tags[i].key, SEL_SERVICE_TAG, MF_TAG_KEY_MAX))
			continue;
		memcpy(buf, ts->tags[i].value, MF_TAG_VALUE_MAX);
		buf[MF_TAG_VALUE_MAX] = '\0';
		return buf;
	}
	return NULL;
}

/*
 * kuma.io/service value @v of @o (at @path) names one service at most
 * (svcname_resolve()).  "*" selects every service; a value that names none
 * selects nothing yet, as in Kuma.
 */
static void val_service_value(struct val_ctx *c, const struct model_obj *o,
			      const char *path, const char *v)
{
	const struct model_obj *a, *b = NULL;
	int err;

	if (!strcmp(v, "*"))
		return;
	err = svcname_resolve(c->set, v, &a, &b);
	if (err == -EEXIST)
		val_err(c, o, NULL, path,
			"kuma.io/service \"%s\" names both %s \"%s\" and "
			"%s \"%s\": a value must name one service", v,
			model_kind_name(a->kind), a->name,
			model_kind_name(b->kind), b->name);
}

/* A builtin gateway instance (gw_instance.h) is named by its tags'
 * kuma.io/service and has an identity: its MeshIdentity's, in the Mesh's
 * trust domain, or the one its service makes. */
static void val_gw_instance(struct val_ctx *c, const struct model_obj *o)
{
	const struct model_obj *mid;
	char id[MF_SPIFFE_MAX], why[160];
	int err;

	if (!dp_gateway_service(c->set, o)) {
		val_err(c, o, NULL, "spec.networking.gateway.tags",
			"needs kuma.io/service: a builtin gateway that a Node "
			"runs is the service it names (its MeshGateway "
			"selects it by its tags)");
		return;
	}
	err = gwi_identity(c->set, o, id, &mid, why, sizeof(why));
	if (err == -ENOENT)
		val_need_td(c, o, NULL, "spec.networking.gateway.tags");
	else if (err && mid)
		val_err(c, o, NULL, "metadata.labels",
			"MeshIdentity \"%s\" selects this Dataplane, but %s",
			mid->name, why);
	else if (err)
		val_err(c, o, NULL, "spec.networking.gateway.tags",
			"kuma.io/service is its identity without a "
			"MeshIdentity, and %s", why);
	else if (mid)
		val_mid_td(c, o, "Dataplane", "metadata.labels", id, mid);
}

/* A Dataplane labelled meshforge.io/node is a Workload (dataplane.h): it
 * needs a Node, an IPv4 address, a service and a MeshIdentity; or with a
 * builtin gateway, a gateway instance. */
static void val_dataplane(struct val_ctx *c, const struct model_obj *o)
{
	const char *node = dp_node(c->set, o), *why, *svc;
	const struct model_obj *mid;
	struct ep_view v;
	char id[MF_SPIFFE_MAX], reason[160];
	uint16_t port;
	uint8_t ip[4];

	if (!node)
		return;
	if (!val_find(c, MODEL_NODE, node))
		val_err(c, o, NULL, "metadata.labels." DP_NODE_LABEL,
			"no Node \"%s\" is defined or applied", node);
	if (dp_gateway_type(o) == MF_DP_GATEWAY_BUILTIN) {
		val_gw_instance(c, o);
		return;
	}
	if (dp_gateway_type(o)) {
		val_err(c, o, NULL, "metadata.labels." DP_NODE_LABEL,
			"a DELEGATED gateway is a proxy of its own, which no "
			"agent runs: a Node serves a Dataplane with an "
			"inbound, or runs a BUILTIN gateway");
		return;
	}
	why = dp_endpoint_addr(o, ip, &port);
	if (why)
		val_err(c, o, NULL, "spec.networking", "%s", why);
	svc = dp_inbound_service(c->set, o);
	if (svc && svcname_resolve(c->set, svc, &mid, NULL) == -ENOENT)
		val_err(c, o, NULL, "spec.networking.inbound[0].tags",
			"kuma.io/service: no Service or MeshService \"%s\" "
			"is defined or applied", svc);
	else if (svc)
		val_service_value(c, o, "spec.networking.inbound[0].tags",
				  svc);
	ep_view(c->set, o, &v, id);
	if (!svc && !v.service[0])
		val_err(c, o, NULL, "spec.networking.inbound[0].tags",
			"needs kuma.io/service (a Service or MeshService), "
			"unless a MeshService selects this Dataplane");
	mid = identity_select(c->set, o);
	if (!mid) {
		val_err(c, o, NULL, "metadata.labels",
			"a Dataplane's identity comes from a MeshIdentity, and "
			"none selects this one");
		return;
	}
	if (identity_render(c->set, mid, o, id, sizeof(id), reason,
			    sizeof(reason)))
		val_err(c, o, NULL, "metadata.labels",
			"MeshIdentity \"%s\" selects this Dataplane, but %s",
			mid->name, reason);
	else if (c->td && !spiffe_in_trust_domain(id, c->td))
		val_err(c, o, NULL, "metadata.labels",
			"\"%s\", which MeshIdentity \"%s\" gives this "
			"Dataplane, must be in the Mesh's trust domain \"%s\"",
			id, mid->name, c->td);
}

/* An endpoint's address, for val_endpoint_ips(). */
struct val_ep_ip {
	uint8_t ip[4];
	const struct model_obj *o;
};

/* By address, then by name, then a Workload before a Dataplane of the
 * same name: one order whatever the set's. */
static int val_ep_ip_cmp(const void *a, const void *b)
{
	const struct val_ep_ip *x = a, *y = b;
	int r = memcmp(x->ip, y->ip, 4);

	if (!r)
		r = strcmp(x->o->name, y->o->name);
	if (!r && x->o->kind != y->o->kind)
		r = x->o->kind == MODEL_WORKLOAD ? -1 : 1;
	return r;
}

/* No two endpoints share an address (the Workloads' own rule covers two
 * Workloads).  Their addresses alone (ep_addr()): the whole view of each
 * (its service, its identity rendered) was most of this check's time. */
static int val_endpoint_ips(struct val_ctx *c)
{
	struct val_ep_ip *v;
	size_t n = 0;

	v = calloc(c->set->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->set->n; i++) {
		const struct model_obj *o = &c->set->objs[i];
		uint16_t port;

		if ((o->kind != MODEL_WORKLOAD && o->kind != dp_kind()) ||
		    !ep_addr(c->set, o, v[n].ip, &port))
			continue;
		v[n++].o = o;
	}
	qsort(v, n, sizeof(*v), val_ep_ip_cmp);
	for (size_t i = 1; i < n; i++) {
		const struct val_ep_ip *a = &v[i - 1], *b = &v[i];
		bool a_dp = a->o->kind != MODEL_WORKLOAD;

		if (memcmp(a->ip, b->ip, 4) ||
		    (!a_dp && b->o->kind == MODEL_WORKLOAD) ||
		    !(a->ip[0] | a->ip[1] | a->ip[2] | a->ip[3]))
			continue;
		val_err(c, b->o, NULL, "spec.networking",
			"its address %u.%u.%u.%u is %s %s's too", b->ip[0],
			b->ip[1], b->ip[2], b->ip[3],
			a_dp ? "Dataplane" : "Workload", a->o->name);
	}
	free(v);
	return 0;
}

/* The Mesh's constraints.dataplaneProxy: Kuma refuses the control-plane
 * connection of a proxy whose tags they do not admit; here the apply is
 * the admission, so the endpoint is refused.  Its tags are its own
 * (a Workload's spec.tags, a Dataplane's inbound's) with its service as
 * kuma.io/service, as a Kuma proxy's are. */
static int val_constraints(struct val_ctx *c)
{
	const struct core_mesh *m =
		model_spec(c->sorted[c->kind_first[MODEL_MESH]]);
	const struct mf_mesh_dp_constraints *dp =
		&m->constraints.dataplane_proxy;
	struct ep_list eps;
	const struct ep_view *v;
	int err;

	if (!dp->nrequirements && !dp->nrestrictions)
		return 0;
	err = ep_views(c->set, &eps);
	if (err)
		return err;
	v = eps.v;
	for (size_t i = 0; i < eps.n; i++) {
		const struct mf_tagset *own = model_tags_get(c->set, v[i].tags);
		struct mf_tagset ts = { .n = 0 };
		char why[320];

		if (own)
			ts = *own;
		if (v[i].service[0] && ts.n < MF_TAGS_MAX &&
		    !kind_tag_value(&ts, "kuma.io/service")) {
			snprintf(ts.tags[ts.n].key, MF_TAG_KEY_MAX, "%s",
				 "kuma.io/service");
			snprintf(ts.tags[ts.n].value, MF_TAG_VALUE_MAX, "%s",
				 v[i].service);
			ts.n++;
		}
		if (mesh_kuma_admit(&m->constraints, &ts, why, sizeof(why)))
			val_err(c, v[i].o, NULL, v[i].dataplane ?
				"spec.networking.inbound[0].tags" : "spec.tags",
				"%s", why);
	}
	ep_list_free(&eps);
	return 0;
}

/* A MeshService: a name no Service has; a numeric targetPort is the
 * port of every Workload it selects (they listen on one port). */
/* A MeshExternalService is a destination in the services' name space
 * (mesh_service.h): no Service or MeshService may share its name. */
static void val_mes(struct val_ctx *c, const struct model_obj *o)
{
	if (val_find(c, MODEL_SERVICE, o->name) ||
	    val_find(c, msvc_kind(), o->name))
		val_err(c, o, &o->name_loc, "metadata.name",
			"a Service or MeshService is named \"%s\" too: they "
			"and MeshExternalServices share one name space",
			o->name);
}

/* A MeshMultiZoneService too has a VIP and an id of the services' (its
 * traffic's policies find it by name): no other destination may share its
 * name. */
static void val_mzs(struct val_ctx *c, const struct model_obj *o)
{
	if (val_find(c, MODEL_SERVICE, o->name) ||
	    val_find(c, msvc_kind(), o->name) ||
	    val_find(c, mes_kind(), o->name))
		val_err(c, o, &o->name_loc, "metadata.name",
			"a Service, MeshService or MeshExternalService is "
			"named \"%s\" too: they and MeshMultiZoneServices "
			"share one name space", o->name);
}

static void val_msvc(struct val_ctx *c, const struct model_obj *o)
{
	const struct mf_mesh_service *m = (const void *)o->pol.recs;

	if (val_find(c, MODEL_SERVICE, o->name))
		val_err(c, o, &o->name_loc, "metadata.name",
			"a Service is named \"%s\" too: Services and "
			"MeshServices share one name space", o->name);
	for (size_t i = 0; o->pol.n && i < m->nports; i++) {
		const char *tp = m->ports[i].target_port;
		char *end;
		unsigned long port = strtoul(tp, &end, 10);
		char path[48];

		if (!tp[0] || *end)
			continue;	/* a port name: the Workload's port */
		for (size_t j = 0; j < c->kind_n[MODEL_WORKLOAD]; j++) {
			const struct model_obj *w =
				c->sorted[c->kind_first[MODEL_WORKLOAD] + j];
			const struct core_workload *cw = model_spec(w);

			if (cw->port == port || !msvc_selects(c->set, o, w))
				continue;
			snprintf(path, sizeof(path), "spec.ports[%zu].targetPort",
				 i);
			val_err(c, o, NULL, path,
				"%lu is not the port of Workload \"%s\" (%u), "
				"which it selects", port, w->name, cw->port);
			break;
		}
	}
}

/* Every identity a permission names is of the mesh's trust domain; its
 * rules are stored per Service, so a Mesh-wide one needs a Service. */
static void val_mtp(struct val_ctx *c, const struct model_obj *o)
{
	const struct mf_mtp *r = (const void *)o->pol.recs;
	char path[64];

	if (o->pol.n && r->hdr.target.kind == MF_REF_MESH &&
	    !c->kind_n[MODEL_SERVICE])
		val_err(c, o, &o->loc, "spec.targetRef",
			"a Mesh-wide policy needs at least one Service");
	for (size_t i = 0; i < o->pol.n; i++) {
		const struct mf_mtp_conf *f = &r[i].conf;

		if (r[i].hdr.section == MF_MTP_SEC_RULES) {
			if (!(f->present & MF_MTP_ITEM_SPIFFE_ID))
				continue;
			val_in_td(c, o, i, offsetof(struct mf_mtp,
				  conf.spiffe_id.value), "spec.rules",
				  f->spiffe_id.value,
				  f->spiffe_id.type == MF_AUTHZ_MATCH_PREFIX);
			continue;
		}
		snprintf(path, sizeof(path), "spec.from[%zu].targetRef.%s", i,
			 f->target_ref.kind == MF_MTP_MESH ? "kind" : "name");
		if (f->target_ref.kind == MF_MTP_MESH)
			val_need_td(c, o, NULL, path);
		else if (f->target_ref.kind == MF_MTP_SPIFFE_ID ||
			 f->target_ref.kind == MF_MTP_SPIFFE_PREFIX)
			val_in_td(c, o, i, offsetof(struct mf_mtp,
				  conf.target_ref.name), path,
				  f->target_ref.name,
				  f->target_ref.kind == MF_MTP_SPIFFE_PREFIX);
	}
}

struct val_pol_walk {
	struct val_ctx *c;
	const struct model_obj *o;
	const uint8_t *rec;
	size_t index;
};

/* What a reference names must exist: @what named @name, at byte @p of
 * the record being walked; @where is its path when the input did not
 * note one (applied state), if known. */
static void val_exists(struct val_pol_walk *w, const char *what,
		       const char *name, const void *p, bool ref,
		       const char *where)
{
	const struct model_ref_loc *rl;
	int want = model_kind_parse(what);
	char path[96];

	if (want >= 0 && val_find(w->c, (enum model_kind)want, name))
		return;
	/* A MeshService is a service as well (mesh_service.h). */
	if (want == MODEL_SERVICE && val_find(w->c, msvc_kind(), name))
		return;
	rl = model_note(w->o, w->index, (size_t)((const uint8_t *)p - w->rec));
	if (rl || where) {
		snprintf(path, sizeof(path), "%s%s", rl ? rl->path : where,
			 ref ? ".name" : "");
		val_err(w->c, w->o, rl ? &rl->loc : NULL, path,
			"no %s \"%s\" is defined or applied", what, name);
	} else {
		val_err(w->c, w->o, NULL, NULL,
			"entry %zu names %s \"%s\", which is not defined or "
			"applied", w->index, what, name);
	}
}

static void val_tags(struct val_pol_walk *w, uint32_t id)
{
	if (id && !model_tags_get(w->c->set, id))
		val_err(w->c, w->o, NULL, NULL,
			"record %zu refers to tag set %u, which is not there",
			w->index, id);
}

/* A legacy selector (sources[@j] or destinations[@j]): its tag set
 * exists, and a kuma.io/service in it does not name two services.  One
 * that names none selects nothing yet, as in Kuma. */
static void val_selector(struct val_pol_walk *w, const char *side,
			 unsigned j, uint32_t id)
{
	char buf[MF_TAG_VALUE_MAX + 1], path[48];
	const char *v = val_service_tag(model_tags_get(w->c->set, id), buf);

	val_tags(w, id);
	if (!v)
		return;
	/* MeshGateway and MeshGatewayRoute keep theirs as destinations. */
	if (w->o->pol.kd->form == KIND_FORM_SELECTORS)
		side = "selectors";
	snprintf(path, sizeof(path), "spec.%s[%u].match", side, j);
	val_service_value(w->c, w->o, path, v);
}

/* One targetRef of a policy: what it names must exist. */
static void val_pol_ref(struct val_pol_walk *w, const struct mf_ref *r)
{
	static const char *const what[MF_REF_KIND_MAX] = {
		[MF_REF_MESH_SERVICE] = "Service",
		[MF_REF_MESH_SERVICE_SUBSET] = "Service",
		[MF_REF_WORKLOAD] = "Workload",
		[MF_REF_MESH_GATEWAY] = "MeshGateway",
		[MF_REF_MESH_HTTP_ROUTE] = "MeshHTTPRoute",
	};

	val_tags(w, r->tags);
	val_tags(w, r->labels);
	/* Labels select whatever carries them, maybe nothing yet; kinds
	 * without objects here (MeshExternalService, ...) are not looked
	 * up. */
	if (r->kind >= MF_REF_KIND_MAX || !what[r->kind] || !r->name[0])
		return;
	/* A permission's own targetRef has one place to be. */
	val_exists(w, what[r->kind], r->name, r, true,
		   w->o->kind == MODEL_MTP ? "spec.targetRef" : NULL);
}

static void val_pol_walk_cb(void *arg, const struct sch_field *f,
			    const void *p)
{
	struct val_pol_walk *w = arg;

	if (f->type == SCH_REF)
		val_pol_ref(w, p);
	else if (f->type == SCH_TAGS) {
		uint32_t id = *(const uint32_t *)p;
		char buf[MF_TAG_VALUE_MAX + 1], path[64];
		const char *v;

		val_tags(w, id);
		/* A destination (the fields that require kuma.io/service)
		 * names one service at most; one it names none of sends
		 * nowhere yet, as in Kuma, whose Service may come later. */
		v = val_service_tag(model_tags_get(w->c->set, id), buf);
		if (v && f->check_tags == kind_check_tags_service) {
			snprintf(path, sizeof(path), "%s (record %zu)",
				 f->name, w->index);
			val_service_value(w->c, w->o, path, v);
		}
	}
	else if (f->type == SCH_STRREF || f->type == SCH_OTLPVAL ||
		 f->type == SCH_JSONVAL) {
		uint32_t id;

		memcpy(&id, p, sizeof(id));
		if (!model_str_get(w->c->set, id))
			val_err(w->c, w->o, NULL, NULL,
				"record %zu refers to string %u, which is not "
				"there", w->index, id);
	}
	else if (f->type == SCH_NAME && f->refers) {
		char path[64];

		/* The core kinds' names are top-level fields of the spec. */
		snprintf(path, sizeof(path), "spec.%s", f->name);
		val_exists(w, f->refers, p, p, false,
			   w->o->pol.kd->form == KIND_FORM_SPEC ? path : NULL);
	}
}

/* Every object its references (targetRefs at the top, of to/from
 * entries, inside the conf such as backendRefs, names of other objects)
 * name exists, and so does every tag set and string. */
static void val_policy(struct val_ctx *c, const struct model_obj *o)
{
	const struct model_policy *p = &o->pol;
	struct val_pol_walk w = { .c = c, .o = o };

	for (size_t i = 0; i < p->n; i++) {
		const struct mf_pol_hdr *h;

		w.rec = p->recs + i * p->kd->val_size;
		w.index = i;
		h = (const struct mf_pol_hdr *)w.rec;
		if (kind_has_hdr(p->kd)) {
			val_pol_ref(&w, &h->target);
			val_pol_ref(&w, &h->ref);
			for (unsigned j = 0;
			     j < h->nsources && j < MF_SELECTORS_MAX; j++)
				val_selector(&w, "sources", j, h->sources[j]);
			for (unsigned j = 0;
			     j < h->ndestinations && j < MF_SELECTORS_MAX; j++)
				val_selector(&w, "destinations", j,
					     h->destinations[j]);
		}
		if (p->kd->spec_tags)
			val_tags(&w, *(const uint32_t *)(w.rec +
							 p->kd->spec_tags->off));
		sch_walk(p->kd->conf, w.rec + p->kd->conf_off, val_pol_walk_cb,
			 &w);
	}
}

/* The mesh's TLS profile, as compile_set() will make it (tls_profile.h):
 * one the agents cannot speak is refused here, before anything is
 * written.  Returns 0 (problems counted in c->errors) or -ENOMEM. */
static int val_tls_profile(struct val_ctx *c)
{
	const enum model_kind kind = (enum model_kind)(MODEL_GEN_FIRST +
					REC_TLS - REC_KIND_FIRST);
	struct mf_tls_profile prof;
	struct sel_cand *tc;
	size_t n = 0;
	int err;

	tc = sel_model_cands(c->set, kind, &n);
	if (!tc)
		return -ENOMEM;
	err = tlsprof_compile(c->set, tc, n, c->sorted, c->set->n, &prof,
			      c->d);
	free(tc);
	if (err == -EINVAL) {
		c->errors++;
		err = 0;
	}
	return err;
}

int validate_set(const struct model_set *set, struct diag *d)
{
	struct val_ctx c = { .set = set, .d = d };
	int err = 0, n;

	c.sorted = calloc(set->n ? set->n : 1, sizeof(*c.sorted));
	if (!c.sorted)
		return -ENOMEM;
	model_set_sorted(set, c.sorted);
	for (size_t i = set->n; i-- > 0;) {
		c.kind_first[c.sorted[i]->kind] = i;
		c.kind_n[c.sorted[i]->kind]++;
	}
	/* With two Meshes there is no one trust domain to check against;
	 * the Mesh error says what to fix. */
	c.td = c.kind_n[MODEL_MESH] > 1 ? NULL : validate_trust_domain(set);
	c.mesh_missing_reported = c.kind_n[MODEL_MESH] > 1;
	n = identity_domains(set, c.td, c.mid_domains, MF_MID_DOMAINS_MAX,
			     &c.mid_domain_ca);
	c.nmid_domains = n < 0 ? MF_MID_DOMAINS_MAX : (size_t)n;

	val_meshes(&c);
	for (int k = 0; k < MODEL_KIND_MAX && !err; k++)
		err = val_unique(&c, k);
	for (size_t i = 0; i < set->n && !err; i++) {
		const struct model_obj *o = &set->objs[i];

		val_policy(&c, o);
		if (o->kind == MODEL_WORKLOAD) {
			val_workload(&c, o);
			val_workload_service(&c, o);
		} else if (o->kind == msvc_kind()) {
			val_msvc(&c, o);
		} else if (o->kind == mes_kind()) {
			val_mes(&c, o);
		} else if (o->kind == mzs_kind()) {
			val_mzs(&c, o);
		} else if (o->kind == dp_kind()) {
			val_dataplane(&c, o);
		} else if (o->kind == MODEL_MTP)
			val_mtp(&c, o);
	}
	if (!err)
		err = val_endpoint_ips(&c);
	if (!err && c.kind_n[MODEL_MESH] == 1)
		err = val_tls_profile(&c);
	if (!err && c.kind_n[MODEL_MESH] == 1)
		err = val_constraints(&c);
	free(c.sorted);
	if (err)
		return err;
	return c.errors ? -EINVAL : 0;
}
