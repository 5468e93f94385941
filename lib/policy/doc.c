// SPDX-License-Identifier: Apache-2.0
/*
 * The policy schema, field by field.  Every check names the field by its
 * path from the document root ("spec.from[1].targetRef.name") and points at
 * the value that is wrong, or at the mapping that lacks a required field.
 * A document with any problem adds no object, but the next document is
 * still checked, so one run reports every problem of the input.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fsio.h"
#include "spiffe.h"
#include "ytree.h"

#include "docfield.h"
#include "pdoc.h"

/*
 * A certificate lifetime such as "1d", "12h", "90m" or "3600s" (Kuma
 * writes dpCert.rotation.expiration in days or hours), into seconds.
 */
static bool doc_lifetime(struct doc_ctx *c, const struct ynode *v,
			 const char *path, uint32_t *secs)
{
	unsigned long n = 0, unit;
	const char *p;

	if (v->type != YNODE_SCALAR || !v->len || v->str[0] < '0' ||
	    v->str[0] > '9')
		goto bad;
	for (p = v->str; *p >= '0' && *p <= '9'; p++) {
		n = n * 10 + (unsigned long)(*p - '0');
		if (n > 100000000ul)
			goto bad;
	}
	if (!strcmp(p, "d"))
		unit = 86400;
	else if (!strcmp(p, "h"))
		unit = 3600;
	else if (!strcmp(p, "m"))
		unit = 60;
	else if (!strcmp(p, "s"))
		unit = 1;
	else
		goto bad;
	if (n == 0 || n * unit > 10ul * 365 * 86400)
		goto bad;
	*secs = (uint32_t)(n * unit);
	return true;
bad:
	doc_err(c, v, path,
		"must be a lifetime such as 1d, 12h, 90m or 3600s "
		"(1s to 10 years)");
	return false;
}

/* A Kuma data source; meshforge reads files only: {file: PATH}. */
static void doc_file_source(struct doc_ctx *c, const struct ynode *v,
			    const char *path, char out[MF_PATH_MAX])
{
	static const char *const known[] = { "file", NULL };
	char p[DOC_PATH_MAX];
	const struct ynode *f;

	if (!doc_check_map(c, v, path, known))
		return;
	f = doc_need(c, v, path, "file");
	if (f && doc_str(c, f, doc_path(p, path, "file"), out, MF_PATH_MAX) &&
	    out[0] != '/')
		doc_err(c, f, p, "must be an absolute path");
}

/* One entry of spec.mtls.backends. */
static void doc_mtls_backend(struct doc_ctx *c, const struct ynode *e,
			     const char *path, struct mf_mtls_backend *b)
{
	static const char *const known[] = { "name", "type", "mode", "dpCert",
					     "conf", NULL };
	static const char *const dp_known[] = { "rotation", NULL };
	static const char *const rot_known[] = { "expiration", NULL };
	static const char *const conf_known[] = { "cert", "key", NULL };
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX], tmp[32];
	const struct ynode *v, *w;

	if (!doc_check_map(c, e, path, known))
		return;
	v = doc_need(c, e, path, "name");
	if (v)
		doc_name(c, v, doc_path(p, path, "name"), b->name);
	v = doc_need(c, e, path, "type");
	if (v && doc_str(c, v, doc_path(p, path, "type"), tmp, sizeof(tmp))) {
		if (!strcmp(tmp, "builtin"))
			b->type = MF_MTLS_BUILTIN;
		else if (!strcmp(tmp, "provided"))
			b->type = MF_MTLS_PROVIDED;
		else
			doc_err(c, v, p, "must be builtin or provided");
	}
	b->mode = MF_MTLS_STRICT;
	v = doc_get(e, "mode");
	if (v && doc_str(c, v, doc_path(p, path, "mode"), tmp, sizeof(tmp))) {
		if (!strcmp(tmp, "STRICT"))
			b->mode = MF_MTLS_STRICT;
		else if (!strcmp(tmp, "PERMISSIVE"))
			b->mode = MF_MTLS_PERMISSIVE;
		else
			doc_err(c, v, p, "must be STRICT or PERMISSIVE");
	}
	v = doc_get(e, "dpCert");
	if (v && doc_check_map(c, v, doc_path(p, path, "dpCert"), dp_known) &&
	    (w = doc_get(v, "rotation")) &&
	    doc_check_map(c, w, doc_path(q, p, "rotation"), rot_known) &&
	    (v = doc_get(w, "expiration")))
		doc_lifetime(c, v, doc_path(p, q, "expiration"),
			     &b->cert_validity_s);
	v = doc_get(e, "conf");
	if (b->type == MF_MTLS_BUILTIN && v) {
		doc_err(c, v, doc_path(p, path, "conf"),
			"builtin backends take no conf (the mesh CA is made "
			"by `mfctl ca init`)");
	} else if (b->type == MF_MTLS_PROVIDED) {
		if (!v) {
			doc_err(c, e, doc_path(p, path, "conf"),
				"is required for a provided backend");
			return;
		}
		if (!doc_check_map(c, v, doc_path(p, path, "conf"), conf_known))
			return;
		w = doc_need(c, v, p, "cert");
		if (w)
			doc_file_source(c, w, doc_path(q, p, "cert"),
					b->cert_file);
		w = doc_need(c, v, p, "key");
		if (w)
			doc_file_source(c, w, doc_path(q, p, "key"),
					b->key_file);
	}
}

/* Mesh spec.mtls: enabledBackend names one of backends. */
static void doc_mtls(struct doc_ctx *c, const struct ynode *m,
		     struct model_mtls *mesh)
{
	static const char *const known[] = { "enabledBackend", "backends",
					     NULL };
	char p[DOC_PATH_MAX];
	const struct ynode *v, *en;
	bool found = false;

	if (!doc_check_map(c, m, "spec.mtls", known))
		return;
	v = doc_get(m, "backends");
	if (v && v->type != YNODE_SEQ) {
		doc_err(c, v, "spec.mtls.backends", "must be a list");
	} else if (v) {
		if (v->nkids > MF_MTLS_BACKENDS_MAX)
			doc_err(c, v, "spec.mtls.backends",
				"must have at most %d entries",
				MF_MTLS_BACKENDS_MAX);
		for (size_t i = 0; i < v->nkids && i < MF_MTLS_BACKENDS_MAX;
		     i++) {
			struct mf_mtls_backend *b = &mesh->backends[i];

			snprintf(p, sizeof(p), "spec.mtls.backends[%zu]", i);
			doc_mtls_backend(c, v->kids[i], p, b);
			for (size_t j = 0; j < i; j++)
				if (b->name[0] &&
				    !strcmp(mesh->backends[j].name, b->name))
					doc_err(c, v->kids[i], p,
						"backend \"%s\" is defined "
						"twice", b->name);
		}
		mesh->nbackends = v->nkids < MF_MTLS_BACKENDS_MAX ?
					       (uint32_t)v->nkids :
					       MF_MTLS_BACKENDS_MAX;
	}
	en = doc_get(m, "enabledBackend");
	if (!en)
		return;
	if (!doc_name(c, en, "spec.mtls.enabledBackend", mesh->enabled))
		return;
	mesh->enabled_loc = en->loc;
	for (uint32_t i = 0; i < mesh->nbackends; i++)
		if (!strcmp(mesh->backends[i].name, mesh->enabled))
			found = true;
	if (!found)
		doc_err(c, en, "spec.mtls.enabledBackend",
			"names no backend of spec.mtls.backends");
}

/* Mesh spec.  Returns 0 or -ENOMEM; problems go to @c. */
static int doc_mesh(struct doc_ctx *c, const struct ynode *spec,
		     struct model_obj *o)
{
	static const char *const known[] = { "trustDomain", "mtls", NULL };
	const struct ynode *v;

	if (!doc_check_map(c, spec, "spec", known))
		return 0;
	v = doc_get(spec, "mtls");
	if (v) {
		o->u.mesh.mtls = calloc(1, sizeof(*o->u.mesh.mtls));
		if (!o->u.mesh.mtls)
			return -ENOMEM;
		doc_mtls(c, v, o->u.mesh.mtls);
	}
	v = doc_need(c, spec, "spec", "trustDomain");
	if (v && doc_str(c, v, "spec.trustDomain", o->u.mesh.trust_domain,
			 sizeof(o->u.mesh.trust_domain))) {
		if (spiffe_check_trust_domain(o->u.mesh.trust_domain))
			doc_err(c, v, "spec.trustDomain",
				"must be a trust domain: a-z, 0-9, '.', '-' "
				"and '_' only");
		o->u.mesh.trust_domain_loc = v->loc;
	}
	return 0;
}

static void doc_node(struct doc_ctx *c, const struct ynode *spec,
		     struct model_obj *o)
{
	static const char *const known[] = { "address", "tunnelPort", NULL };
	struct model_node *n = &o->u.node;
	const struct ynode *v;

	if (!doc_check_map(c, spec, "spec", known))
		return;
	v = doc_need(c, spec, "spec", "address");
	if (v && doc_ipv4(c, v, "spec.address", n->ip))
		n->address_loc = v->loc;
	n->tunnel_port = MF_PORT_TUNNEL;
	v = doc_get(spec, "tunnelPort");
	if (v)
		doc_port(c, v, "spec.tunnelPort", &n->tunnel_port);
}

static void doc_service(struct doc_ctx *c, const struct ynode *spec,
			struct model_obj *o)
{
	static const char *const known[] = { "vip", "port", "protocol", NULL };
	struct model_service *s = &o->u.service;
	const struct ynode *v;

	if (!doc_check_map(c, spec, "spec", known))
		return;
	v = doc_need(c, spec, "spec", "vip");
	if (v && doc_ipv4(c, v, "spec.vip", s->vip))
		s->vip_loc = v->loc;
	v = doc_need(c, spec, "spec", "port");
	if (v)
		doc_port(c, v, "spec.port", &s->port);
	s->proto = MF_PROTO_TCP;
	v = doc_get(spec, "protocol");
	if (v && (v->type != YNODE_SCALAR || strcmp(v->str, "tcp")))
		doc_err(c, v, "spec.protocol", "must be tcp");
}

static int doc_workload(struct doc_ctx *c, struct model_set *set,
			const struct ynode *spec, struct model_obj *o)
{
	static const char *const known[] = { "node", "ip", "port", "service",
					     "identity", "tags", NULL };
	struct model_workload *w = &o->u.workload;
	const struct ynode *v;
	int err;

	if (!doc_check_map(c, spec, "spec", known))
		return 0;
	v = doc_get(spec, "tags");
	if (v) {
		err = pdoc_tags(c, set, v, "spec.tags", &w->tags);
		if (err)
			return err;
	}
	v = doc_need(c, spec, "spec", "node");
	if (v && doc_name(c, v, "spec.node", w->node))
		w->node_loc = v->loc;
	v = doc_need(c, spec, "spec", "ip");
	if (v && doc_ipv4(c, v, "spec.ip", w->ip))
		w->ip_loc = v->loc;
	v = doc_need(c, spec, "spec", "port");
	if (v)
		doc_port(c, v, "spec.port", &w->port);
	v = doc_need(c, spec, "spec", "service");
	if (v && doc_name(c, v, "spec.service", w->service))
		w->service_loc = v->loc;
	v = doc_need(c, spec, "spec", "identity");
	if (v && doc_str(c, v, "spec.identity", w->identity,
			 sizeof(w->identity))) {
		err = spiffe_parse(w->identity, NULL);
		if (err)
			doc_err(c, v, "spec.identity",
				"must be a SPIFFE ID "
				"(spiffe://<trust-domain>/<path>)");
		w->identity_loc = v->loc;
	}
	return 0;
}

/* One entry of a MeshTrafficPermission's spec.from. */
static void doc_from(struct doc_ctx *c, const struct ynode *e,
		     const char *path, struct model_from *f)
{
	static const char *const known[] = { "targetRef", "default", NULL };
	static const char *const ref_known[] = { "kind", "name", NULL };
	static const char *const def_known[] = { "action", NULL };
	char p[DOC_PATH_MAX], rp[DOC_PATH_MAX], tmp[DOC_PATH_MAX];
	const struct ynode *ref, *def, *v, *name;

	f->loc = e->loc;
	f->name_loc = e->loc;
	if (!doc_check_map(c, e, path, known))
		return;

	ref = doc_need(c, e, path, "targetRef");
	doc_path(rp, path, "targetRef");
	if (ref && doc_check_map(c, ref, rp, ref_known)) {
		v = doc_need(c, ref, rp, "kind");
		name = doc_get(ref, "name");
		doc_path(p, rp, "kind");
		if (v && doc_str(c, v, p, tmp, sizeof(tmp))) {
			if (!strcmp(tmp, "SpiffeID"))
				f->kind = MODEL_FROM_SPIFFE_ID;
			else if (!strcmp(tmp, "SpiffeIDPrefix"))
				f->kind = MODEL_FROM_SPIFFE_PREFIX;
			else if (!strcmp(tmp, "Mesh"))
				f->kind = MODEL_FROM_MESH;
			else
				doc_err(c, v, p,
					"must be SpiffeID, SpiffeIDPrefix or "
					"Mesh");
		}
		doc_path(p, rp, "name");
		if (f->kind == MODEL_FROM_MESH && name) {
			doc_err(c, name, p, "must not be set for kind Mesh");
		} else if (f->kind == MODEL_FROM_SPIFFE_ID ||
			   f->kind == MODEL_FROM_SPIFFE_PREFIX) {
			if (!name)
				doc_err(c, ref, p, "is required for kind %s",
					model_from_kind_name(f->kind));
			else if (doc_str(c, name, p, f->name,
					 sizeof(f->name))) {
				f->name_loc = name->loc;
				if (f->kind == MODEL_FROM_SPIFFE_ID &&
				    spiffe_parse(f->name, NULL))
					doc_err(c, name, p,
						"must be a SPIFFE ID "
						"(spiffe://<trust-domain>/"
						"<path>)");
				if (f->kind == MODEL_FROM_SPIFFE_PREFIX &&
				    spiffe_check_prefix(f->name))
					doc_err(c, name, p,
						"must be a SPIFFE ID prefix "
						"(spiffe://<trust-domain>/"
						"...)");
			}
		}
	}

	def = doc_need(c, e, path, "default");
	doc_path(rp, path, "default");
	if (def && doc_check_map(c, def, rp, def_known)) {
		v = doc_need(c, def, rp, "action");
		doc_path(p, rp, "action");
		if (v && doc_str(c, v, p, tmp, sizeof(tmp))) {
			if (!strcmp(tmp, "Allow"))
				f->action = MF_AUTHZ_ALLOW;
			else if (!strcmp(tmp, "Deny"))
				f->action = MF_AUTHZ_DENY;
			else if (!strcmp(tmp, "AllowWithShadowDeny"))
				f->action = MF_AUTHZ_ALLOW_SHADOW_DENY;
			else
				doc_err(c, v, p, "must be Allow, Deny or "
					"AllowWithShadowDeny");
		}
	}
}

/*
 * One match of Kuma's `rules` form: {spiffeID: {type: Exact|Prefix,
 * value}}, into @f with @action.
 */
static void doc_rule_match(struct doc_ctx *c, const struct ynode *e,
			   const char *path, uint8_t action,
			   struct model_from *f)
{
	static const char *const known[] = { "spiffeID", NULL };
	static const char *const id_known[] = { "type", "value", NULL };
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX], tmp[32];
	const struct ynode *id, *v;

	f->loc = e->loc;
	f->name_loc = e->loc;
	f->action = action;
	if (!doc_check_map(c, e, path, known))
		return;
	id = doc_need(c, e, path, "spiffeID");
	doc_path(p, path, "spiffeID");
	if (!id || !doc_check_map(c, id, p, id_known))
		return;
	v = doc_need(c, id, p, "type");
	if (v && doc_str(c, v, doc_path(q, p, "type"), tmp, sizeof(tmp))) {
		if (!strcmp(tmp, "Exact"))
			f->kind = MODEL_FROM_SPIFFE_ID;
		else if (!strcmp(tmp, "Prefix"))
			f->kind = MODEL_FROM_SPIFFE_PREFIX;
		else
			doc_err(c, v, q, "must be Exact or Prefix");
	}
	v = doc_need(c, id, p, "value");
	doc_path(q, p, "value");
	if (!v || !doc_str(c, v, q, f->name, sizeof(f->name)))
		return;
	f->name_loc = v->loc;
	if (f->kind == MODEL_FROM_SPIFFE_ID && spiffe_parse(f->name, NULL))
		doc_err(c, v, q,
			"must be a SPIFFE ID (spiffe://<trust-domain>/<path>)");
	if (f->kind == MODEL_FROM_SPIFFE_PREFIX && spiffe_check_prefix(f->name))
		doc_err(c, v, q,
			"must be a SPIFFE ID prefix (spiffe://<trust-domain>/"
			"...)");
}

/*
 * Kuma's `rules` form: [{default: {allow: [...], deny: [...],
 * allowWithShadowDeny: [...]}}].  Entries go into m->from grouped by
 * action (allow, deny, shadow), each group in the order written across
 * rules.  Returns 0 or -ENOMEM.
 */
static int doc_mtp_rules(struct doc_ctx *c, const struct ynode *rules,
			 struct model_mtp *m)
{
	static const char *const known[] = { "default", NULL };
	static const char *const def_known[] = { "allow", "deny",
						 "allowWithShadowDeny", NULL };
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX];
	size_t total = 0;

	if (rules->type != YNODE_SEQ) {
		doc_err(c, rules, "spec.rules", "must be a list, not %s",
			doc_kind_str(rules->type));
		return 0;
	}
	/* First pass: check shapes and count. */
	for (size_t i = 0; i < rules->nkids; i++) {
		const struct ynode *r = rules->kids[i], *def, *l;

		snprintf(p, sizeof(p), "spec.rules[%zu]", i);
		if (!doc_check_map(c, r, p, known))
			continue;
		def = doc_need(c, r, p, "default");
		doc_path(q, p, "default");
		if (!def || !doc_check_map(c, def, q, def_known))
			continue;
		for (size_t a = 0; a < MODEL_RULE_LISTS; a++) {
			l = doc_get(def, model_rule_lists[a].key);
			if (!l)
				continue;
			if (l->type != YNODE_SEQ)
				doc_err(c, l, doc_path(p, q,
						       model_rule_lists[a].key),
					"must be a list, not %s",
					doc_kind_str(l->type));
			else
				total += l->nkids;
		}
	}
	if (!total) {
		/* A policy with no rules would compile to nothing and so
		 * vanish from the applied state. */
		doc_err(c, rules, "spec.rules",
			"must have at least one allow, deny or "
			"allowWithShadowDeny entry");
		return 0;
	}
	m->from = calloc(total, sizeof(*m->from));
	if (!m->from)
		return -ENOMEM;
	m->rules_form = true;
	for (size_t a = 0; a < MODEL_RULE_LISTS; a++)
		for (size_t i = 0; i < rules->nkids; i++) {
			const struct ynode *def, *l;

			if (rules->kids[i]->type != YNODE_MAP ||
			    !(def = doc_get(rules->kids[i], "default")) ||
			    def->type != YNODE_MAP ||
			    !(l = doc_get(def, model_rule_lists[a].key)) ||
			    l->type != YNODE_SEQ)
				continue;
			for (size_t j = 0; j < l->nkids; j++) {
				snprintf(p, sizeof(p),
					 "spec.rules[%zu].default.%s[%zu]", i,
					 model_rule_lists[a].key, j);
				doc_rule_match(c, l->kids[j], p,
					       model_rule_lists[a].action,
					       &m->from[m->nfrom++]);
			}
		}
	return 0;
}

/* Returns 0 or -ENOMEM; problems go to @c. */
static int doc_mtp(struct doc_ctx *c, const struct ynode *spec,
		   struct model_obj *o)
{
	static const char *const known[] = { "targetRef", "from", "rules",
					     NULL };
	static const char *const ref_known[] = { "kind", "name", NULL };
	struct model_mtp *m = &o->u.mtp;
	const struct ynode *ref, *from, *rules, *v, *name;
	char tmp[DOC_PATH_MAX];

	if (!doc_check_map(c, spec, "spec", known))
		return 0;
	ref = doc_need(c, spec, "spec", "targetRef");
	if (ref && doc_check_map(c, ref, "spec.targetRef", ref_known)) {
		v = doc_need(c, ref, "spec.targetRef", "kind");
		name = doc_get(ref, "name");
		if (v && doc_str(c, v, "spec.targetRef.kind", tmp,
				 sizeof(tmp))) {
			if (!strcmp(tmp, "Mesh"))
				m->mesh_target = true;
			else if (strcmp(tmp, "MeshService"))
				doc_err(c, v, "spec.targetRef.kind",
					"must be Mesh or MeshService");
		}
		if (m->mesh_target && name)
			doc_err(c, name, "spec.targetRef.name",
				"must not be set for kind Mesh");
		else if (!m->mesh_target && !name)
			doc_err(c, ref, "spec.targetRef.name", "is required");
		else if (name && doc_name(c, name, "spec.targetRef.name",
					  m->target))
			m->target_loc = name->loc;
	}
	from = doc_get(spec, "from");
	rules = doc_get(spec, "rules");
	if (from && rules) {
		doc_err(c, rules, "spec.rules", "cannot be used with spec.from "
			"in one policy");
		return 0;
	}
	if (rules)
		return doc_mtp_rules(c, rules, m);
	from = doc_need(c, spec, "spec", "from");
	if (!from)
		return 0;
	if (from->type != YNODE_SEQ) {
		doc_err(c, from, "spec.from", "must be a list, not %s",
			doc_kind_str(from->type));
		return 0;
	}
	if (from->nkids == 0) {
		/* A policy with no rules would compile to nothing and so
		 * vanish from the applied state. */
		doc_err(c, from, "spec.from", "must have at least one entry");
		return 0;
	}
	m->from = calloc(from->nkids, sizeof(*m->from));
	if (!m->from)
		return -ENOMEM;
	m->nfrom = from->nkids;
	for (size_t i = 0; i < from->nkids; i++) {
		char p[DOC_PATH_MAX];

		snprintf(p, sizeof(p), "spec.from[%zu]", i);
		doc_from(c, from->kids[i], p, &m->from[i]);
	}
	return 0;
}

/*
 * One document into one object appended to @set.  Returns 0 (problems, if
 * any, are in @c) or -ENOMEM.
 */
static int doc_one(struct doc_ctx *c, struct model_set *set,
		   const struct ytree_doc *yd)
{
	static const char *const known[] = { "apiVersion", "kind", "metadata",
					     "spec", NULL };
	static const char *const meta_known[] = { "name", NULL };
	const struct ynode *root = yd->root, *v, *meta, *spec;
	struct model_obj obj, *o;
	char tmp[DOC_PATH_MAX];
	unsigned before = c->errors;
	int kind = -1, err = 0;

	memset(&obj, 0, sizeof(obj));
	obj.loc = root->loc;
	if (root->type != YNODE_MAP) {
		doc_err(c, root, NULL,
			"a document must be a mapping with apiVersion, kind, "
			"metadata and spec");
		return 0;
	}
	doc_check_map(c, root, "", known);

	v = doc_need(c, root, "", "apiVersion");
	if (v && doc_str(c, v, "apiVersion", tmp, sizeof(tmp)) &&
	    strcmp(tmp, MODEL_API_MESHFORGE) && strcmp(tmp, MODEL_API_KUMA))
		doc_err(c, v, "apiVersion", "must be %s or %s",
			MODEL_API_MESHFORGE, MODEL_API_KUMA);

	v = doc_need(c, root, "", "kind");
	if (v && doc_str(c, v, "kind", tmp, sizeof(tmp))) {
		kind = model_kind_parse(tmp);
		if (kind < 0)
			doc_err(c, v, "kind", "unknown kind \"%s\" (%s)", tmp,
				MODEL_KINDS_WANT);
	}

	meta = doc_need(c, root, "", "metadata");
	if (meta && doc_check_map(c, meta, "metadata", meta_known)) {
		v = doc_need(c, meta, "metadata", "name");
		if (v && doc_name(c, v, "metadata.name", obj.name))
			obj.name_loc = v->loc;
	}

	spec = doc_need(c, root, "", "spec");
	if (kind < 0 || !spec)
		return 0;
	obj.kind = kind;
	switch (obj.kind) {
	case MODEL_MESH:
		err = doc_mesh(c, spec, &obj);
		break;
	case MODEL_NODE:
		doc_node(c, spec, &obj);
		break;
	case MODEL_SERVICE:
		doc_service(c, spec, &obj);
		break;
	case MODEL_WORKLOAD:
		err = doc_workload(c, set, spec, &obj);
		break;
	case MODEL_MTP:
		err = doc_mtp(c, spec, &obj);
		break;
	default:
		err = pdoc_parse(c, set, &obj, spec);
		break;
	}
	if (err || c->errors != before)
		goto out;

	/* Names defined twice are found once the whole input is read
	 * (doc_check_twice()), with one sort instead of a search per
	 * object. */
	o = model_set_add(set, obj.kind);
	if (!o) {
		err = -ENOMEM;
		goto out;
	}
	/* The set takes obj, including its from array. */
	*o = obj;
	return 0;
out:
	if (obj.kind == MODEL_MTP)
		free(obj.u.mtp.from);
	if (obj.kind == MODEL_MESH)
		free(obj.u.mesh.mtls);
	if (obj.kind >= MODEL_GEN_FIRST) {
		free(obj.u.pol.recs);
		free(obj.u.pol.refs);
	}
	return err;
}

/* Position-then-arrival order within one (kind, name). */
static int doc_twice_cmp(const void *a, const void *b)
{
	const struct model_obj *x = *(const struct model_obj *const *)a;
	const struct model_obj *y = *(const struct model_obj *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x < y ? -1 : x > y;	/* objs[] order = input order */
}

/*
 * Reports every object from objs[@first] on whose (kind, name) an earlier
 * object of @set already has.  Objects before @first were checked by an
 * earlier call.  Returns 0 or -ENOMEM.
 */
static int doc_check_twice(struct doc_ctx *c, const struct model_set *set,
			   size_t first)
{
	const struct model_obj **v;

	if (set->n == first)
		return 0;
	v = calloc(set->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++)
		v[i] = &set->objs[i];
	qsort(v, set->n, sizeof(*v), doc_twice_cmp);
	for (size_t i = 1, g = 0; i < set->n; i++) {
		if (v[i]->kind != v[g]->kind || strcmp(v[i]->name, v[g]->name)) {
			g = i;
			continue;
		}
		if ((size_t)(v[i] - set->objs) < first)
			continue;
		diag_add(c->d, &v[i]->name_loc, NULL, "metadata.name",
			 "%s \"%s\" is defined twice (first at %s:%u:%u)",
			 model_kind_name(v[i]->kind), v[i]->name,
			 v[g]->loc.file, v[g]->loc.line, v[g]->loc.col);
		c->errors++;
	}
	free(v);
	return 0;
}

int doc_parse_buffer(struct model_set *set, const char *file,
		     const char *buf, size_t len, struct diag *d)
{
	struct doc_ctx c = { .d = d };
	size_t first = set->n;
	struct ytree t;
	const char *name;
	int err;

	name = model_set_file(set, file);
	if (!name)
		return -ENOMEM;
	err = ytree_parse(&t, name, buf, len, d);
	if (err)
		return err;
	for (size_t i = 0; i < t.ndocs && !err; i++) {
		/* "---" with nothing after it, or a trailing "---". */
		if (ynode_is_null(t.docs[i].root))
			continue;
		err = doc_one(&c, set, &t.docs[i]);
	}
	ytree_free(&t);
	if (!err)
		err = doc_check_twice(&c, set, first);
	if (err)
		return err;
	return c.errors ? -EINVAL : 0;
}

int doc_parse_file(struct model_set *set, const char *path, struct diag *d)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	size_t len;
	char *buf;
	int err;

	err = fsio_read_all(path, &buf, &len);
	if (err) {
		diag_add(d, NULL, NULL, name, "cannot read: %s", strerror(-err));
		return err == -EINVAL ? -EIO : err;
	}
	err = doc_parse_buffer(set, name, buf, len, d);
	free(buf);
	return err;
}
