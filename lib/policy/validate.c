// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spiffe.h"
#include "validate.h"

struct val_ctx {
	const struct model_set *set;
	struct diag *d;
	const struct model_obj **sorted;	/* by kind, then name */
	size_t kind_first[MODEL_KIND_MAX];	/* range of each kind */
	size_t kind_n[MODEL_KIND_MAX];
	const char *td;				/* NULL: no Mesh */
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
	size_t lo = c->kind_first[kind], hi = lo + c->kind_n[kind];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->sorted[mid]->name, name);

		if (r == 0)
			return c->sorted[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const char *validate_trust_domain(const struct model_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->objs[i].kind == MODEL_MESH)
			return set->objs[i].u.mesh.trust_domain;
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

/*
 * Reports objects of @kind whose key (from @keyof) another object of that
 * kind already has.  Returns 0 or -ENOMEM.
 */
static int val_unique(struct val_ctx *c, enum model_kind kind,
		      void (*keyof)(const struct model_obj *, uint8_t[8]),
		      const char *path,
		      const struct diag_loc *(*locof)(const struct model_obj *),
		      void (*describe)(const uint8_t[8], char *, size_t))
{
	size_t first = c->kind_first[kind], n = c->kind_n[kind];
	struct val_keyed *k;
	char where[300], key[64];

	if (n < 2)
		return 0;
	k = calloc(n, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		k[i].o = c->sorted[first + i];
		keyof(k[i].o, k[i].key);
		/* Input order: position in the set. */
		k[i].order = (size_t)(k[i].o - c->set->objs);
	}
	qsort(k, n, sizeof(*k), val_keyed_cmp);
	for (size_t i = 1, g = 0; i < n; i++) {
		if (memcmp(k[i].key, k[g].key, sizeof(k[g].key))) {
			g = i;
			continue;
		}
		describe(k[i].key, key, sizeof(key));
		val_err(c, k[i].o, locof(k[i].o), path,
			"%s is already used by %s \"%s\" (%s)", key,
			model_kind_name(kind), k[g].o->name,
			val_where(k[g].o, where, sizeof(where)));
	}
	free(k);
	return 0;
}

static void val_service_key(const struct model_obj *o, uint8_t key[8])
{
	memset(key, 0, 8);
	memcpy(key, o->u.service.vip, 4);
	key[4] = o->u.service.port >> 8;
	key[5] = o->u.service.port & 0xff;
	key[6] = o->u.service.proto;
}

static const struct diag_loc *val_service_loc(const struct model_obj *o)
{
	return &o->u.service.vip_loc;
}

static void val_service_describe(const uint8_t key[8], char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u:%u", key[0], key[1], key[2], key[3],
		 (unsigned)key[4] << 8 | key[5]);
}

static void val_workload_key(const struct model_obj *o, uint8_t key[8])
{
	memset(key, 0, 8);
	memcpy(key, o->u.workload.ip, 4);
}

static const struct diag_loc *val_workload_loc(const struct model_obj *o)
{
	return &o->u.workload.ip_loc;
}

static void val_ip_describe(const uint8_t key[8], char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", key[0], key[1], key[2], key[3]);
}

/* A Node's address names it in mf_endpoint records (node_ip): two Nodes
 * with one address could not be told apart there. */
static void val_node_key(const struct model_obj *o, uint8_t key[8])
{
	memset(key, 0, 8);
	memcpy(key, o->u.node.ip, 4);
}

static const struct diag_loc *val_node_loc(const struct model_obj *o)
{
	return &o->u.node.address_loc;
}

static void val_workload(struct val_ctx *c, const struct model_obj *o)
{
	const struct model_workload *w = &o->u.workload;
	const char *td;

	if (!val_find(c, MODEL_NODE, w->node))
		val_err(c, o, &w->node_loc, "spec.node",
			"no Node \"%s\" is defined or applied", w->node);
	if (!val_find(c, MODEL_SERVICE, w->service))
		val_err(c, o, &w->service_loc, "spec.service",
			"no Service \"%s\" is defined or applied", w->service);
	td = val_need_td(c, o, &w->identity_loc, "spec.identity");
	if (td && !spiffe_in_trust_domain(w->identity, td))
		val_err(c, o, &w->identity_loc, "spec.identity",
			"must be in the Mesh's trust domain \"%s\"", td);
}

static void val_mtp(struct val_ctx *c, const struct model_obj *o)
{
	const struct model_mtp *m = &o->u.mtp;
	char path[64], prefix[MF_NAME_MAX + 16];

	/* Its rules are stored per service: with none, the policy would
	 * vanish from the applied state. */
	if (m->mesh_target && !c->kind_n[MODEL_SERVICE])
		val_err(c, o, &o->loc, "spec.targetRef",
			"a Mesh-wide policy needs at least one Service");
	if (!m->mesh_target && !val_find(c, MODEL_SERVICE, m->target))
		val_err(c, o, &m->target_loc, "spec.targetRef.name",
			"no Service \"%s\" is defined or applied", m->target);
	for (size_t i = 0; i < m->nfrom; i++) {
		const struct model_from *f = &m->from[i];
		const char *td;

		snprintf(path, sizeof(path), "spec.from[%zu].targetRef%s", i,
			 f->kind == MODEL_FROM_MESH ? ".kind" : ".name");
		td = val_need_td(c, o, &f->name_loc, path);
		if (!td)
			continue;
		snprintf(prefix, sizeof(prefix), "spiffe://%s/", td);
		if (f->kind == MODEL_FROM_SPIFFE_ID &&
		    !spiffe_in_trust_domain(f->name, td))
			val_err(c, o, &f->name_loc, path,
				"must be in the Mesh's trust domain \"%s\"",
				td);
		if (f->kind == MODEL_FROM_SPIFFE_PREFIX &&
		    strncmp(f->name, prefix, strlen(prefix)))
			val_err(c, o, &f->name_loc, path,
				"must start with \"%s\" (the Mesh's trust "
				"domain)", prefix);
	}
}

/* Where ref @off of record @rec of @p was written, if the input says. */
static const struct model_ref_loc *val_ref_loc(const struct model_policy *p,
					       size_t rec, size_t off)
{
	for (size_t i = 0; i < p->nrefs; i++)
		if (p->refs[i].rec == rec && p->refs[i].off == off)
			return &p->refs[i];
	return NULL;
}

struct val_pol_walk {
	struct val_ctx *c;
	const struct model_obj *o;
	const uint8_t *rec;
	size_t index;
};

/* One targetRef of a policy: what it names must exist. */
static void val_pol_ref(struct val_pol_walk *w, const struct mf_ref *r)
{
	const struct model_ref_loc *rl;
	int want;
	const char *what;
	char path[128];

	switch (r->kind) {
	case MF_REF_MESH_SERVICE:
	case MF_REF_MESH_SERVICE_SUBSET:
		want = MODEL_SERVICE;
		what = "Service";
		break;
	case MF_REF_WORKLOAD:
		want = MODEL_WORKLOAD;
		what = "Workload";
		break;
	case MF_REF_MESH_GATEWAY:
		what = "MeshGateway";
		want = model_kind_parse(what);
		break;
	case MF_REF_MESH_HTTP_ROUTE:
		what = "MeshHTTPRoute";
		want = model_kind_parse(what);
		break;
	default:
		return;
	}
	if (r->tags && !model_tags_get(w->c->set, r->tags)) {
		val_err(w->c, w->o, NULL, NULL,
			"record %zu refers to tag set %u, which is not there",
			w->index, r->tags);
	}
	if (want >= 0 && val_find(w->c, (enum model_kind)want, r->name))
		return;
	rl = val_ref_loc(&w->o->u.pol, w->index,
			 (size_t)((const uint8_t *)r - w->rec));
	if (rl) {
		snprintf(path, sizeof(path), "%s.name", rl->path);
		val_err(w->c, w->o, &rl->loc, path,
			"no %s \"%s\" is defined or applied", what, r->name);
	} else {
		val_err(w->c, w->o, NULL, NULL,
			"entry %zu names %s \"%s\", which is not defined or "
			"applied", w->index, what, r->name);
	}
}

static void val_pol_walk_cb(void *arg, const struct sch_field *f,
			    const uint32_t *tags_id, const struct mf_ref *ref)
{
	struct val_pol_walk *w = arg;

	(void)f;
	if (ref)
		val_pol_ref(w, ref);
	else if (*tags_id && !model_tags_get(w->c->set, *tags_id))
		val_err(w->c, w->o, NULL, NULL,
			"record %zu refers to tag set %u, which is not there",
			w->index, *tags_id);
}

/* A schema-driven policy: every object its targetRefs (top level,
 * to/from entries, and inside its conf, such as backendRefs) name
 * exists, and so does every tag set. */
static void val_policy(struct val_ctx *c, const struct model_obj *o)
{
	const struct model_policy *p = &o->u.pol;
	struct val_pol_walk w = { .c = c, .o = o };

	for (size_t i = 0; i < p->n; i++) {
		const struct mf_pol_hdr *h;

		w.rec = p->recs + i * p->kd->val_size;
		w.index = i;
		h = (const struct mf_pol_hdr *)w.rec;
		val_pol_ref(&w, &h->target);
		val_pol_ref(&w, &h->ref);
		for (unsigned j = 0; j < h->nsources && j < MF_SELECTORS_MAX; j++)
			val_pol_walk_cb(&w, NULL, &h->sources[j], NULL);
		for (unsigned j = 0;
		     j < h->ndestinations && j < MF_SELECTORS_MAX; j++)
			val_pol_walk_cb(&w, NULL, &h->destinations[j], NULL);
		sch_walk(p->kd->conf, w.rec + p->kd->conf_off, val_pol_walk_cb,
			 &w);
	}
}

int validate_set(const struct model_set *set, struct diag *d)
{
	struct val_ctx c = { .set = set, .d = d };
	int err = 0;

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

	val_meshes(&c);
	err = val_unique(&c, MODEL_SERVICE, val_service_key, "spec.vip",
			 val_service_loc, val_service_describe);
	if (!err)
		err = val_unique(&c, MODEL_WORKLOAD, val_workload_key,
				 "spec.ip", val_workload_loc,
				 val_ip_describe);
	if (!err)
		err = val_unique(&c, MODEL_NODE, val_node_key, "spec.address",
				 val_node_loc, val_ip_describe);
	for (size_t i = 0; i < set->n && !err; i++) {
		const struct model_obj *o = &set->objs[i];

		if (o->kind == MODEL_WORKLOAD)
			val_workload(&c, o);
		else if (o->kind == MODEL_MTP)
			val_mtp(&c, o);
		else if (o->kind >= MODEL_GEN_FIRST)
			val_policy(&c, o);
	}
	free(c.sorted);
	if (err)
		return err;
	return c.errors ? -EINVAL : 0;
}
