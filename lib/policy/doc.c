// SPDX-License-Identifier: Apache-2.0
/*
 * Policy documents: the envelope (apiVersion, kind, metadata) here, the
 * spec by its kind's schema (pdoc.c).  Every check names the field by its
 * path from the document root ("spec.from[1].targetRef.name") and points at
 * the value that is wrong, or at the mapping that lacks a required field.
 * A document with any problem adds no object, but the next document is
 * still checked, so one run reports every problem of the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc.h"
#include "fsio.h"
#include "ytree.h"

#include "docfield.h"
#include "pdoc.h"
#include "select.h"

/* Where meshforge keeps a Kuma object's mesh (universal `mesh`). */
#define DOC_MESH_LABEL "kuma.io/mesh"

/*
 * The name @v (at @path) as label @key of @o: metadata.namespace as
 * SEL_NAMESPACE_LABEL, since objects are keyed by name alone and the
 * label is what a targetRef's namespace is matched against (select.c), as
 * Kuma labels every object of a namespace so; a universal document's
 * mesh as DOC_MESH_LABEL.  A label that says another value is refused.
 * Returns 0 (problems through @c) or -ENOMEM.
 */
static int doc_label(struct doc_ctx *c, struct model_set *set,
		     const struct ynode *v, const char *path, const char *key,
		     struct model_obj *o)
{
	const struct mf_tagset *have;
	char val[MF_NAME_MAX];
	struct mf_tagset ts;

	if (!doc_name(c, v, path, val))
		return 0;
	have = o->labels ? model_tags_get(set, o->labels) : NULL;
	memset(&ts, 0, sizeof(ts));
	if (have)
		ts = *have;
	for (uint32_t i = 0; i < ts.n && i < MF_TAGS_MAX; i++) {
		if (strcmp(ts.tags[i].key, key))
			continue;
		if (strcmp(ts.tags[i].value, val))
			doc_err(c, v, path, "is not what label %s says "
				"(\"%s\")", key, ts.tags[i].value);
		return 0;
	}
	if (ts.n >= MF_TAGS_MAX) {
		doc_err(c, v, path, "is kept as label %s, and the labels are "
			"%d already (at most %d)", key, MF_TAGS_MAX,
			MF_TAGS_MAX);
		return 0;
	}
	strcpy(ts.tags[ts.n].key, key);
	strcpy(ts.tags[ts.n].value, val);
	ts.n++;
	if (model_tags_canon(&ts))
		return 0;	/* the key was not there: cannot repeat */
	o->labels = model_tags_intern(set, &ts);
	return o->labels ? 0 : -ENOMEM;
}

/* An RFC 1035 label: a letter, then letters, digits and '-', ending with
 * a letter or digit, at most 63 characters (what Kuma's
 * NameIsDNS1035Label takes). */
static bool doc_rfc1035_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] < 'a' || s[0] > 'z' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

/* Kuma 3.0: the name @v (at @path, read into @name) of an object of @kind
 * whose names become DNS labels (kind_desc.name_rfc1035) must be an
 * RFC 1035 label; 2.14 took others with a deprecation warning. */
static void doc_name_v3(struct doc_ctx *c, int kind, const struct ynode *v,
			const char *path, const char *name)
{
	const struct kind_desc *kd = kind < 0 ? NULL : model_kind_desc(kind);

	if (c->kuma != KUMA_3_0 || !kd || !kd->name_rfc1035 || !name[0] ||
	    doc_rfc1035_ok(name))
		return;
	doc_err(c, v, path, "must be an RFC 1035 label for a %s (a-z, 0-9 and "
		"'-', starting with a letter, no dots) "
		KUMA_3_0_ONLY, kd->name);
}

/*
 * The metadata of @o from mapping @meta (at @path, its keys checked):
 * name, labels, namespace (kept as a label, doc_namespace()) and
 * annotations (a tag set of their own).  Returns 0 (problems through @c)
 * or -ENOMEM.
 */
static int doc_meta(struct doc_ctx *c, struct model_set *set,
		    const struct ynode *meta, const char *path,
		    struct model_obj *o)
{
	const struct ynode *v;
	char p[DOC_PATH_MAX];
	int err = 0;

	v = doc_need(c, meta, path, "name");
	if (v && doc_name(c, v, doc_path(p, path, "name"), o->name))
		o->name_loc = v->loc;
	v = doc_get(meta, "labels");
	if (v)
		err = pdoc_tags(c, set, v, doc_path(p, path, "labels"),
				&o->labels);
	v = doc_get(meta, "namespace");
	if (v && !err)
		err = doc_label(c, set, v, doc_path(p, path, "namespace"),
				SEL_NAMESPACE_LABEL, o);
	v = doc_get(meta, "annotations");
	if (v && !err)
		err = pdoc_tags(c, set, v, doc_path(p, path, "annotations"),
				&o->annotations);
	return err;
}

/*
 * spec.trustDomain of Mesh @o (spec @spec).  meshforge's Mesh must say
 * it.  Kuma's Mesh has no such field: Kuma's builtin CA names a
 * workload spiffe://<mesh>/<service>, so the trust domain of a Kuma
 * Mesh (@kuma) that does not say one is the mesh's name, which the name
 * rule keeps within a trust domain's characters.
 */
static void doc_mesh_trust_domain(struct doc_ctx *c, struct model_obj *o,
				  const struct ynode *spec, bool kuma)
{
	struct core_mesh *m = model_spec(o);

	/* A spec that is no mapping was reported as such. */
	if (!m || spec->type != YNODE_MAP ||
	    sch_has(m, CORE_MESH_TRUST_DOMAIN))
		return;
	if (!kuma) {
		doc_err(c, spec, "spec.trustDomain", "is required");
		return;
	}
	/* A bad name was reported already; the document is refused. */
	if (!o->name[0])
		return;
	memcpy(m->trust_domain, o->name, sizeof(m->trust_domain));
	m->present |= 1u << CORE_MESH_TRUST_DOMAIN;
}

/*
 * The spec @spec of @o (its kind, name and metadata read; @before the
 * error count before the document) into its records, and @o into @set
 * when the document had no problem.  @kuma: a Kuma document.  Returns 0
 * (problems through @c) or -ENOMEM.
 */
static int doc_spec(struct doc_ctx *c, struct model_set *set,
		    struct model_obj *obj, const struct ynode *spec,
		    bool kuma, unsigned before)
{
	struct model_obj *o;
	int err;

	err = pdoc_parse(c, set, obj, spec);
	if (!err && obj->kind == MODEL_MESH)
		doc_mesh_trust_domain(c, obj, spec, kuma);
	if (err || c->errors != before)
		goto out;

	/* Names defined twice are found once the whole input is read
	 * (doc_check_twice()), with one sort instead of a search per
	 * object. */
	o = model_set_add(set, obj->kind);
	if (!o) {
		err = -ENOMEM;
		goto out;
	}
	/* The set takes obj, with its records. */
	*o = *obj;
	return 0;
out:
	free(obj->pol.recs);
	free(obj->pol.refs);
	return err;
}

/* The keys of Kuma's universal envelope (creationTime and
 * modificationTime: `kumactl get` prints them; the store sets them). */
static const char *const doc_uni_meta[] = { "type", "name", "mesh", "labels",
					    "creationTime",
					    "modificationTime", NULL };

static bool doc_uni_is_meta(const char *key)
{
	for (const char *const *k = doc_uni_meta; *k; k++)
		if (!strcmp(*k, key))
			return true;
	return false;
}

/*
 * A document in Kuma's universal form, as `kumactl apply` reads it:
 * `type` is the kind, `name` and `labels` the metadata, `mesh` the mesh
 * (kept as the label kuma.io/mesh, as Kuma labels a policy on
 * Kubernetes).  A kind whose Kuma resource is a protobuf message
 * (kd->kuma_inline: Mesh, Dataplane, TrafficRoute...) has its spec's
 * fields at the top level; the others have `spec`.  Problems in top-level
 * spec fields are reported at their own paths ("conf.http", not
 * "spec.conf.http").  Returns 0 (problems through @c) or -ENOMEM.
 */
static int doc_universal(struct doc_ctx *c, struct model_set *set,
			 const struct ynode *root)
{
	const char *known[16];
	const struct kind_desc *kd = NULL;
	const struct ynode *v, *spec = NULL;
	struct ynode inl = { .type = YNODE_MAP, .loc = root->loc };
	struct model_obj obj;
	char tmp[DOC_PATH_MAX];
	unsigned before = c->errors;
	size_t nk = 0;
	int kind = -1, err = 0;

	memset(&obj, 0, sizeof(obj));
	obj.loc = root->loc;
	v = doc_get(root, "type");
	if (doc_str(c, v, "type", tmp, sizeof(tmp))) {
		kind = model_kind_parse(tmp);
		if (kind < 0)
			doc_err(c, v, "type", "unknown kind \"%s\" (%s)", tmp,
				model_kinds_want());
		else
			kd = model_kind_desc(kind);
	}
	for (const char *const *k = doc_uni_meta; *k; k++)
		known[nk++] = *k;
	known[nk++] = "spec";
	known[nk] = NULL;
	/* An unknown type: its fields cannot be told from typos. */
	if (kd && !kd->kuma_inline)
		doc_check_map(c, root, "", known);

	v = doc_need(c, root, "", "name");
	if (v && doc_name(c, v, "name", obj.name)) {
		obj.name_loc = v->loc;
		doc_name_v3(c, kind, v, "name", obj.name);
	}
	v = doc_get(root, "labels");
	if (v)
		err = pdoc_tags(c, set, v, "labels", &obj.labels);
	v = doc_get(root, "mesh");
	if (v && !err && kind == MODEL_MESH)
		doc_err(c, v, "mesh", "must not be set: a Mesh is in no mesh");
	else if (v && !err)
		err = doc_label(c, set, v, "mesh", DOC_MESH_LABEL, &obj);
	if (err || !kd)
		return err;

	obj.kind = kind;
	if (!kd->kuma_inline) {
		spec = doc_need(c, root, "", "spec");
		return spec ? doc_spec(c, set, &obj, spec, true, before) : 0;
	}
	/* The spec is the document without its envelope: a mapping of
	 * those nodes of the tree, for the spec's reader to check. */
	inl.kids = calloc(root->nkids ? root->nkids : 1, sizeof(*inl.kids));
	if (!inl.kids)
		return -ENOMEM;
	for (size_t i = 0; i < ynode_map_len(root); i++) {
		const struct ynode *k = root->kids[2 * i];

		if (k->type == YNODE_SCALAR && doc_uni_is_meta(k->str))
			continue;
		inl.kids[inl.nkids++] = root->kids[2 * i];
		inl.kids[inl.nkids++] = root->kids[2 * i + 1];
	}
	c->strip = "spec.";
	err = doc_spec(c, set, &obj, &inl, true, before);
	c->strip = NULL;
	free(inl.kids);
	return err;
}

/*
 * One document into one object appended to @set.  Returns 0 (problems, if
 * any, are in @c) or -ENOMEM.
 */
static int doc_one(struct doc_ctx *c, struct model_set *set,
		   const struct ytree_doc *yd)
{
	/* `mesh`: Kuma's Kubernetes form of its legacy kinds (TrafficRoute,
	 * ...) names the mesh at the top level. */
	static const char *const known[] = { "apiVersion", "kind", "metadata",
					     "spec", "mesh", NULL };
	static const char *const meta_known[] = { "name", "namespace", "labels",
						  "annotations", NULL };
	const struct ynode *root = yd->root, *v, *meta, *spec;
	struct ynode empty = { .type = YNODE_MAP };
	struct model_obj obj;
	char tmp[DOC_PATH_MAX];
	unsigned before = c->errors;
	int kind = -1, err = 0;
	bool kuma;

	memset(&obj, 0, sizeof(obj));
	obj.loc = root->loc;
	if (root->type != YNODE_MAP) {
		doc_err(c, root, NULL,
			"a document must be a mapping with apiVersion, kind, "
			"metadata and spec");
		return 0;
	}
	if (doc_get(root, "type") && !doc_get(root, "kind"))
		return doc_universal(c, set, root);
	doc_check_map(c, root, "", known);

	v = doc_need(c, root, "", "apiVersion");
	if (v && doc_str(c, v, "apiVersion", tmp, sizeof(tmp)) &&
	    strcmp(tmp, MODEL_API_MESHFORGE) && strcmp(tmp, MODEL_API_KUMA))
		doc_err(c, v, "apiVersion", "must be %s or %s",
			MODEL_API_MESHFORGE, MODEL_API_KUMA);
	kuma = v && !strcmp(tmp, MODEL_API_KUMA);

	v = doc_need(c, root, "", "kind");
	if (v && doc_str(c, v, "kind", tmp, sizeof(tmp))) {
		kind = model_kind_parse(tmp);
		if (kind < 0)
			doc_err(c, v, "kind", "unknown kind \"%s\" (%s)", tmp,
				model_kinds_want());
	}

	meta = doc_need(c, root, "", "metadata");
	if (meta && doc_check_map(c, meta, "metadata", meta_known)) {
		err = doc_meta(c, set, meta, "metadata", &obj);
		if (err)
			return err;
		doc_name_v3(c, kind, doc_get(meta, "name"), "metadata.name",
			    obj.name);
	}
	/* Kept as the universal form keeps it: the label kuma.io/mesh. */
	v = doc_get(root, "mesh");
	if (v && kind == MODEL_MESH)
		doc_err(c, v, "mesh", "must not be set: a Mesh is in no mesh");
	else if (v && (err = doc_label(c, set, v, "mesh", DOC_MESH_LABEL,
					&obj)))
		return err;

	/* Kuma's Mesh may be all defaults, and is often written so. */
	if (kind == MODEL_MESH && kuma && !doc_get(root, "spec")) {
		empty.loc = root->loc;
		spec = &empty;
	} else {
		spec = doc_need(c, root, "", "spec");
	}
	if (kind < 0 || !spec)
		return 0;
	obj.kind = kind;
	return doc_spec(c, set, &obj, spec, kuma, before);
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

int doc_check_unique(const struct model_set *set, size_t first,
		     struct diag *d)
{
	struct doc_ctx c = { .d = d };
	int err = doc_check_twice(&c, set, first);

	return err ? err : c.errors ? -EINVAL : 0;
}

/* doc_parse_buffer(), or with @many doc_parse_one_of_many(). */
static int doc_parse_named(struct model_set *set, const char *file,
			   const char *buf, size_t len, struct diag *d,
			   bool many)
{
	struct doc_ctx c = {
		.d = d,
		.kuma = set->kuma,
		.validate = set->validate,
		.warn = set->warnings,
	};
	size_t first = set->n;
	struct ytree t;
	const char *name;
	int err;

	name = many ? model_set_file_new(set, file) : model_set_file(set, file);
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
	if (!err && !many)
		err = doc_check_twice(&c, set, first);
	if (err)
		return err;
	return c.errors ? -EINVAL : 0;
}

int doc_parse_buffer(struct model_set *set, const char *file,
		     const char *buf, size_t len, struct diag *d)
{
	return doc_parse_named(set, file, buf, len, d, false);
}

int doc_parse_one_of_many(struct model_set *set, const char *file,
			  const char *buf, size_t len, struct diag *d)
{
	return doc_parse_named(set, file, buf, len, d, true);
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
