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

#define DOC_PATH_MAX 256

/* One document being read: where problems go and how many it had. */
struct doc_ctx {
	struct diag *d;
	unsigned errors;
};

static void doc_err(struct doc_ctx *c, const struct ynode *at,
		    const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void doc_err(struct doc_ctx *c, const struct ynode *at,
		    const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(c->d, &at->loc, NULL, path, "%s", msg);
	c->errors++;
}

/* "@prefix.@key", or "@key" at the root. */
static const char *doc_path(char *buf, const char *prefix, const char *key)
{
	int n;

	if (!prefix || !*prefix)
		n = snprintf(buf, DOC_PATH_MAX, "%s", key);
	else
		n = snprintf(buf, DOC_PATH_MAX, "%s.%s", prefix, key);
	/* Only a hostile key gets this long; show that it was cut. */
	if (n >= DOC_PATH_MAX)
		strcpy(buf + DOC_PATH_MAX - 4, "...");
	return buf;
}

static const char *doc_kind_str(enum ynode_type t)
{
	switch (t) {
	case YNODE_SCALAR:
		return "a scalar";
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	}
	return "?";
}

/*
 * Checks the keys of mapping @map (at @path): each must be a scalar, appear
 * once and be one of @known (NULL-terminated).  Returns true when @map is a
 * mapping at all (so its fields can be read), after reporting its problems.
 */
static bool doc_check_map(struct doc_ctx *c, const struct ynode *map,
			  const char *path, const char *const *known)
{
	char p[DOC_PATH_MAX];

	if (map->type != YNODE_MAP) {
		doc_err(c, map, path, "must be a mapping, not %s",
			doc_kind_str(map->type));
		return false;
	}
	for (size_t i = 0; i < ynode_map_len(map); i++) {
		const struct ynode *k = map->kids[2 * i];
		bool ok = false;

		if (k->type != YNODE_SCALAR) {
			doc_err(c, k, path, "keys must be scalars, not %s",
				doc_kind_str(k->type));
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct ynode *prev = map->kids[2 * j];

			if (prev->type == YNODE_SCALAR &&
			    !strcmp(prev->str, k->str)) {
				doc_err(c, k, doc_path(p, path, k->str),
					"duplicate key (first at line %u)",
					prev->loc.line);
				ok = true;	/* reported once is enough */
				break;
			}
		}
		if (ok)
			continue;
		for (const char *const *kn = known; *kn; kn++)
			if (!strcmp(*kn, k->str))
				ok = true;
		if (!ok)
			doc_err(c, k, doc_path(p, path, k->str),
				"unknown field");
	}
	return true;
}

/* The value of @key in mapping @map, or NULL (also for a YAML null). */
static const struct ynode *doc_get(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i < ynode_map_len(map); i++) {
		const struct ynode *k = map->kids[2 * i];

		if (k->type == YNODE_SCALAR && !strcmp(k->str, key)) {
			const struct ynode *v = map->kids[2 * i + 1];

			return ynode_is_null(v) ? NULL : v;
		}
	}
	return NULL;
}

/* The value of required field @key, or NULL after reporting it missing. */
static const struct ynode *doc_need(struct doc_ctx *c, const struct ynode *map,
				    const char *path, const char *key)
{
	const struct ynode *v = doc_get(map, key);
	char p[DOC_PATH_MAX];

	if (!v)
		doc_err(c, map, doc_path(p, path, key), "is required");
	return v;
}

/*
 * Copies string value @v into @out (@outsz bytes, NUL-padded).  Returns
 * true, or false after reporting a non-scalar, a NUL byte or an overlong
 * value.
 */
static bool doc_str(struct doc_ctx *c, const struct ynode *v, const char *path,
		    char *out, size_t outsz)
{
	if (v->type != YNODE_SCALAR) {
		doc_err(c, v, path, "must be a string, not %s",
			doc_kind_str(v->type));
		return false;
	}
	if (strlen(v->str) != v->len) {
		doc_err(c, v, path, "must not contain a NUL character");
		return false;
	}
	if (v->len >= outsz) {
		doc_err(c, v, path, "must be at most %zu characters", outsz - 1);
		return false;
	}
	memset(out, 0, outsz);
	memcpy(out, v->str, v->len);
	return true;
}

/* Object names: what Kubernetes calls a DNS subdomain, capped to fit the
 * map's name fields. */
static bool doc_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && ((i == 0 || i == n - 1) ||
			       (ch != '-' && ch != '.')))
			return false;
	}
	return true;
}

#define DOC_NAME_RULE                                                         \
	"must be 1..63 characters of a-z, 0-9, '-' and '.', starting and "    \
	"ending with a letter or digit"

/* A name field (metadata.name, or a reference to a named object). */
static bool doc_name(struct doc_ctx *c, const struct ynode *v,
		     const char *path, char out[MF_NAME_MAX])
{
	char tmp[DOC_PATH_MAX];

	/* Read into a roomy buffer first so an overlong name gets the
	 * name rule, not a bare length complaint. */
	if (!doc_str(c, v, path, tmp, sizeof(tmp)))
		return false;
	if (!doc_name_ok(tmp)) {
		doc_err(c, v, path, DOC_NAME_RULE);
		return false;
	}
	memset(out, 0, MF_NAME_MAX);
	strcpy(out, tmp);
	return true;
}

/* An unsigned decimal integer in [@min, @max], written plain (80, not
 * "80": a quoted number is a string in YAML). */
static bool doc_uint(struct doc_ctx *c, const struct ynode *v,
		     const char *path, unsigned long min, unsigned long max,
		     unsigned long *out)
{
	unsigned long val = 0;
	bool digits = v->type == YNODE_SCALAR && v->plain && v->len > 0 &&
		      v->len == strlen(v->str);

	for (size_t i = 0; digits && i < v->len; i++) {
		if (v->str[i] < '0' || v->str[i] > '9')
			digits = false;
		else if (val <= max)	/* stops growing once out of range */
			val = val * 10 + (unsigned long)(v->str[i] - '0');
	}
	/* "08" is octal to some YAML readers and decimal to others. */
	if (digits && v->len > 1 && v->str[0] == '0')
		digits = false;
	if (!digits) {
		doc_err(c, v, path, "must be an integer %lu..%lu", min, max);
		return false;
	}
	if (val < min || val > max) {
		doc_err(c, v, path, "must be %lu..%lu", min, max);
		return false;
	}
	*out = val;
	return true;
}

static bool doc_port(struct doc_ctx *c, const struct ynode *v,
		     const char *path, uint16_t *out)
{
	unsigned long val;

	if (!doc_uint(c, v, path, 1, 65535, &val))
		return false;
	*out = (uint16_t)val;
	return true;
}

/* A dotted-quad unicast IPv4 address, into network order. */
static bool doc_ipv4(struct doc_ctx *c, const struct ynode *v,
		     const char *path, uint8_t out[4])
{
	char tmp[32];
	struct in_addr a;

	if (v->type != YNODE_SCALAR || v->len >= sizeof(tmp) ||
	    strlen(v->str) != v->len) {
		doc_err(c, v, path, "must be an IPv4 address (a.b.c.d)");
		return false;
	}
	strcpy(tmp, v->str);
	/* inet_pton() takes only the strict dotted quad: no octal, no
	 * shorthand like "10.1". */
	if (inet_pton(AF_INET, tmp, &a) != 1) {
		doc_err(c, v, path, "must be an IPv4 address (a.b.c.d)");
		return false;
	}
	memcpy(out, &a, 4);
	if (out[0] == 0 || out[0] >= 224 || out[0] == 127) {
		doc_err(c, v, path,
			"must be a unicast address outside 0/8 and 127/8");
		return false;
	}
	return true;
}

/* Mesh spec. */
static void doc_mesh(struct doc_ctx *c, const struct ynode *spec,
		     struct model_obj *o)
{
	static const char *const known[] = { "trustDomain", NULL };
	const struct ynode *v;

	if (!doc_check_map(c, spec, "spec", known))
		return;
	v = doc_need(c, spec, "spec", "trustDomain");
	if (v && doc_str(c, v, "spec.trustDomain", o->u.mesh.trust_domain,
			 sizeof(o->u.mesh.trust_domain))) {
		if (spiffe_check_trust_domain(o->u.mesh.trust_domain))
			doc_err(c, v, "spec.trustDomain",
				"must be a trust domain: a-z, 0-9, '.', '-' "
				"and '_' only");
		o->u.mesh.trust_domain_loc = v->loc;
	}
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

static void doc_workload(struct doc_ctx *c, const struct ynode *spec,
			 struct model_obj *o)
{
	static const char *const known[] = { "node", "ip", "port", "service",
					     "identity", NULL };
	struct model_workload *w = &o->u.workload;
	const struct ynode *v;
	int err;

	if (!doc_check_map(c, spec, "spec", known))
		return;
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
			else
				doc_err(c, v, p, "must be Allow or Deny");
		}
	}
}

/* Returns 0 or -ENOMEM; problems go to @c. */
static int doc_mtp(struct doc_ctx *c, const struct ynode *spec,
		   struct model_obj *o)
{
	static const char *const known[] = { "targetRef", "from", NULL };
	static const char *const ref_known[] = { "kind", "name", NULL };
	struct model_mtp *m = &o->u.mtp;
	const struct ynode *ref, *from, *v;
	char tmp[DOC_PATH_MAX];

	if (!doc_check_map(c, spec, "spec", known))
		return 0;
	ref = doc_need(c, spec, "spec", "targetRef");
	if (ref && doc_check_map(c, ref, "spec.targetRef", ref_known)) {
		v = doc_need(c, ref, "spec.targetRef", "kind");
		if (v && doc_str(c, v, "spec.targetRef.kind", tmp,
				 sizeof(tmp)) && strcmp(tmp, "MeshService"))
			doc_err(c, v, "spec.targetRef.kind",
				"must be MeshService");
		v = doc_need(c, ref, "spec.targetRef", "name");
		if (v && doc_name(c, v, "spec.targetRef.name", m->target))
			m->target_loc = v->loc;
	}
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
			doc_err(c, v, "kind",
				"unknown kind \"%s\" (want Mesh, Node, "
				"Service, Workload or MeshTrafficPermission)",
				tmp);
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
		doc_mesh(c, spec, &obj);
		break;
	case MODEL_NODE:
		doc_node(c, spec, &obj);
		break;
	case MODEL_SERVICE:
		doc_service(c, spec, &obj);
		break;
	case MODEL_WORKLOAD:
		doc_workload(c, spec, &obj);
		break;
	case MODEL_MTP:
		err = doc_mtp(c, spec, &obj);
		break;
	case MODEL_KIND_MAX:
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
