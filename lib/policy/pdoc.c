// SPDX-License-Identifier: Apache-2.0
/*
 * The spec of a schema-driven policy -> its records (see pdoc.h for the
 * shapes).  The kind's schema (lib/kind_*.c) says which keys exist and what
 * each holds; this file checks every value against it and writes the
 * record bytes, reporting each problem at its line:column with the field's
 * path from the document root.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "otlpval.h"
#include "pdoc.h"

/* Records one policy may make (to/from entries, route rules): beyond this
 * a single document could fill most of a kind's map. */
#define PDOC_MAX_RECORDS 1024

/* One policy being read. */
struct pd {
	struct doc_ctx *c;
	struct model_set *set;
	struct model_obj *o;
	const struct kind_desc *kd;
	uint8_t *rec;			/* the record being filled */
	size_t refs_cap;
	bool too_many;			/* PDOC_MAX_RECORDS reported */
	int err;			/* -ENOMEM, once it happened */
};

/* A targetRef as read, before it is copied into records. */
struct pd_ref {
	struct mf_ref ref;
	bool set;			/* written in the document */
	struct diag_loc loc;
	char path[DOC_PATH_MAX];
};

/* "@path[@i]" into @buf (DOC_PATH_MAX). */
static const char *pd_item_path(char *buf, const char *path, size_t i)
{
	int n = snprintf(buf, DOC_PATH_MAX, "%s[%zu]", path, i);

	/* Only a hostile document nests this deep; show that it was cut. */
	if (n >= DOC_PATH_MAX)
		strcpy(buf + DOC_PATH_MAX - 4, "...");
	return buf;
}

/* ---- tags -------------------------------------------------------------- */

static bool pd_tag_key_ok(const char *s, size_t len)
{
	if (len == 0 || len >= MF_TAG_KEY_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '/' || ch == '-'))
			return false;
	}
	return true;
}

static bool pd_tag_value_ok(const char *s, size_t len)
{
	if (len == 1 && s[0] == '*')
		return true;
	if (len == 0 || len >= MF_TAG_VALUE_MAX || strlen(s) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		      ch == '/' || ch == ':' || ch == '-'))
			return false;
	}
	return true;
}

int pdoc_tags(struct doc_ctx *c, struct model_set *set, const struct ynode *v,
	      const char *path, uint32_t *id)
{
	struct mf_tagset ts;
	unsigned before = c->errors;
	char p[DOC_PATH_MAX];
	size_t n;

	*id = 0;
	if (v->type != YNODE_MAP) {
		doc_err(c, v, path, "must be a mapping of tags, not %s",
			doc_kind_str(v->type));
		return 0;
	}
	n = ynode_map_len(v);
	if (n == 0 || n > MF_TAGS_MAX) {
		doc_err(c, v, path, "must have 1..%d tags", MF_TAGS_MAX);
		return 0;
	}
	memset(&ts, 0, sizeof(ts));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *k = v->kids[2 * i], *val = v->kids[2 * i + 1];
		bool dup = false;

		if (k->type != YNODE_SCALAR) {
			doc_err(c, k, path, "keys must be scalars, not %s",
				doc_kind_str(k->type));
			continue;
		}
		doc_path(p, path, k->str);
		for (size_t j = 0; j < i && !dup; j++) {
			const struct ynode *prev = v->kids[2 * j];

			if (prev->type == YNODE_SCALAR &&
			    !strcmp(prev->str, k->str)) {
				doc_err(c, k, p,
					"duplicate key (first at line %u)",
					prev->loc.line);
				dup = true;
			}
		}
		if (dup)
			continue;
		if (!pd_tag_key_ok(k->str, k->len)) {
			doc_err(c, k, p,
				"tag keys must be 1..%d characters of A-Z, "
				"a-z, 0-9, '.', '_', '/' and '-'",
				MF_TAG_KEY_MAX - 1);
			continue;
		}
		if (!doc_is_text(c, val, p))
			continue;
		if (val->type != YNODE_SCALAR || ynode_is_null(val) ||
		    !pd_tag_value_ok(val->str, val->len)) {
			doc_err(c, val, p,
				"tag values must be \"*\" or 1..%d "
				"characters of A-Z, a-z, 0-9, '.', '_', '/', "
				"':' and '-'",
				MF_TAG_VALUE_MAX - 1);
			continue;
		}
		strcpy(ts.tags[ts.n].key, k->str);
		strcpy(ts.tags[ts.n].value, val->str);
		ts.n++;
	}
	if (c->errors != before)
		return 0;
	if (model_tags_canon(&ts)) {
		/* Duplicates were reported above; this is a safety net. */
		doc_err(c, v, path, "a tag key repeats");
		return 0;
	}
	*id = model_tags_intern(set, &ts);
	return *id ? 0 : -ENOMEM;
}

/* ---- refs -------------------------------------------------------------- */

/* "A, B or C" of the ref kinds in @mask, into @buf. */
static const char *pd_kind_list(char *buf, size_t n, uint32_t mask)
{
	size_t len = 0, total = 0, seen = 0;

	for (int k = 1; k < MF_REF_KIND_MAX; k++)
		if (mask & (1u << k))
			total++;
	buf[0] = 0;
	for (int k = 1; k < MF_REF_KIND_MAX && len < n; k++) {
		if (!(mask & (1u << k)))
			continue;
		seen++;
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					seen == 1 ? "" :
					seen == total ? " or " : ", ",
					abi_name(&abi_ref_kind, k));
	}
	return buf;
}

/* "A, B or C" of a NULL-ended name list, into @buf. */
static const char *pd_name_list(char *buf, size_t n,
				const char *const *names)
{
	size_t len = 0, total = 0;

	while (names && names[total])
		total++;
	buf[0] = 0;
	for (size_t i = 0; i < total && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s",
					i == 0 ? "" :
					i + 1 == total ? " or " : ", ",
					names[i]);
	return buf;
}

static int pd_ref_kind_parse(const char *s)
{
	if (!strcmp(s, "Workload"))	/* meshforge's name for a Dataplane */
		return MF_REF_WORKLOAD;
	return abi_value(&abi_ref_kind, s);
}

/* The fields a targetRef may have besides its kind, as bits. */
enum {
	PD_RF_NAME = 1u << 0,
	PD_RF_NAMESPACE = 1u << 1,
	PD_RF_LABELS = 1u << 2,
	PD_RF_TAGS = 1u << 3,
	PD_RF_SECTION = 1u << 4,
	PD_RF_PROXY_TYPES = 1u << 5,
};

/*
 * Which fields each kind of targetRef takes, and whether it needs a name
 * (PD_RF_NAME) or a name or labels (PD_RF_NAME | PD_RF_LABELS), as Kuma's
 * ValidateTargetRef has it.  A name and labels exclude each other.
 */
static const struct {
	uint8_t allowed, needs;
} pd_ref_rules[MF_REF_KIND_MAX] = {
	[MF_REF_MESH] = { PD_RF_PROXY_TYPES, 0 },
	[MF_REF_MESH_SUBSET] = { PD_RF_TAGS | PD_RF_PROXY_TYPES, 0 },
	[MF_REF_MESH_SERVICE] = { PD_RF_NAME | PD_RF_NAMESPACE | PD_RF_LABELS |
				  PD_RF_SECTION, PD_RF_NAME | PD_RF_LABELS },
	[MF_REF_MESH_SERVICE_SUBSET] = { PD_RF_NAME | PD_RF_TAGS, PD_RF_NAME },
	/* No name and no labels: every Workload. */
	[MF_REF_WORKLOAD] = { PD_RF_NAME | PD_RF_NAMESPACE | PD_RF_LABELS |
			      PD_RF_SECTION, 0 },
	[MF_REF_MESH_GATEWAY] = { PD_RF_NAME | PD_RF_TAGS, PD_RF_NAME },
	[MF_REF_MESH_HTTP_ROUTE] = { PD_RF_NAME | PD_RF_NAMESPACE |
				     PD_RF_LABELS, PD_RF_NAME | PD_RF_LABELS },
	[MF_REF_MESH_EXTERNAL_SERVICE] = { PD_RF_NAME | PD_RF_NAMESPACE |
					   PD_RF_LABELS,
					   PD_RF_NAME | PD_RF_LABELS },
	/* Kuma checks none of its fields. */
	[MF_REF_MESH_MULTI_ZONE_SERVICE] = { PD_RF_NAME | PD_RF_NAMESPACE |
					     PD_RF_LABELS | PD_RF_SECTION |
					     PD_RF_PROXY_TYPES, 0 },
};

/* The keys of a targetRef, in a mapping of its own or inline. */
static const char *const pd_ref_keys[] = { "kind", "name", "namespace",
					   "labels", "tags", "sectionName",
					   "proxyTypes", "mesh", NULL };
#define PD_REF_NKEYS 8

/* targetRef.proxyTypes: a list of Sidecar and Gateway, not empty. */
static void pd_proxy_types(struct pd *pd, const struct ynode *v,
			   const char *path, uint8_t *out)
{
	char p[DOC_PATH_MAX], tmp[16];

	if (v->type != YNODE_SEQ || !v->nkids) {
		doc_err(pd->c, v, path, "must be a list of Sidecar or Gateway, "
			"not empty");
		return;
	}
	for (size_t i = 0; i < v->nkids; i++) {
		int t;

		pd_item_path(p, path, i);
		if (!doc_str(pd->c, v->kids[i], p, tmp, sizeof(tmp)))
			continue;
		t = abi_value(&abi_proxy_type, tmp);
		if (t < 0)
			doc_err(pd->c, v->kids[i], p,
				"must be Sidecar or Gateway");
		else
			*out |= (uint8_t)(1u << t);
	}
}

/*
 * Reads a targetRef {kind, name, namespace, labels, tags, sectionName,
 * proxyTypes} from mapping @m (@path) into @r, @allowed being the kinds it
 * may name.  @inl: the keys sit in an enclosing mapping that checked its
 * own keys.  Returns 0 or -ENOMEM.
 */
static int pd_ref(struct pd *pd, const struct ynode *m, const char *path,
		  uint32_t allowed, bool inl, struct pd_ref *r)
{
	/* The PD_RF_ fields, in bit order. */
	static const char *const field[] = { "name", "namespace", "labels",
					     "tags", "sectionName",
					     "proxyTypes" };
	struct doc_ctx *c = pd->c;
	const struct ynode *kv, *f[6];
	char p[DOC_PATH_MAX], tmp[DOC_PATH_MAX], list[256];
	unsigned given = 0;
	const char *kname;
	int k, err = 0;

	memset(r, 0, sizeof(*r));
	r->loc = m->loc;
	memcpy(r->path, path, strnlen(path, sizeof(r->path) - 1));
	if (!inl && !doc_check_map(c, m, path, pd_ref_keys))
		return 0;
	kv = doc_need(c, m, path, "kind");
	if (!kv || !doc_str(c, kv, doc_path(p, path, "kind"), tmp,
			    sizeof(tmp)))
		return 0;
	k = pd_ref_kind_parse(tmp);
	if (k < 0 || !(allowed & (1u << k))) {
		doc_err(c, kv, p, "must be %s",
			pd_kind_list(list, sizeof(list), allowed));
		return 0;
	}
	kname = abi_name(&abi_ref_kind, k);
	r->ref.kind = (uint8_t)k;
	r->set = true;

	/* Kuma reserves it: a ref never crosses meshes. */
	if ((kv = doc_get(m, "mesh")))
		doc_err(c, kv, doc_path(p, path, "mesh"), "must not be set");
	for (unsigned i = 0; i < 6; i++) {
		f[i] = doc_get(m, field[i]);
		if (!f[i])
			continue;
		given |= 1u << i;
		if (!(pd_ref_rules[k].allowed & (1u << i)))
			doc_err(c, f[i], doc_path(p, path, field[i]),
				"must not be set for kind %s", kname);
	}
	if (given & ~pd_ref_rules[k].allowed)
		return 0;
	if ((given & PD_RF_LABELS) && (given & (PD_RF_NAME | PD_RF_NAMESPACE)))
		doc_err(c, f[2], doc_path(p, path, "labels"),
			"must not be set with name or namespace: a targetRef "
			"names its objects or selects them by labels");
	else if (pd_ref_rules[k].needs && !(given & pd_ref_rules[k].needs))
		doc_err(c, m, pd_ref_rules[k].needs & PD_RF_LABELS ? path :
			doc_path(p, path, "name"),
			pd_ref_rules[k].needs & PD_RF_LABELS ?
			"needs name or labels for kind %s" :
			"is required for kind %s", kname);
	else if ((given & PD_RF_NAMESPACE) && !(given & PD_RF_NAME))
		doc_err(c, f[1], doc_path(p, path, "namespace"),
			"needs name");

	if (f[0])
		doc_name(c, f[0], doc_path(p, path, "name"), r->ref.name);
	if (f[1])
		doc_name(c, f[1], doc_path(p, path, "namespace"),
			 r->ref.namespace);
	if (f[4] && doc_is_text(c, f[4], doc_path(p, path, "sectionName")) &&
	    doc_str(c, f[4], p, r->ref.section, sizeof(r->ref.section)) &&
	    !r->ref.section[0])
		doc_err(c, f[4], p, "must not be empty");
	if (f[5])
		pd_proxy_types(pd, f[5], doc_path(p, path, "proxyTypes"),
			       &r->ref.proxy_types);
	if (f[2])
		err = pdoc_tags(c, pd->set, f[2], doc_path(p, path, "labels"),
				&r->ref.labels);
	if (f[3] && !err)
		err = pdoc_tags(c, pd->set, f[3], doc_path(p, path, "tags"),
				&r->ref.tags);
	return err;
}

/*
 * A policy's targetRef (spec.targetRef, or an entry's) at @m (@path): as
 * pd_ref() with @kinds, the kinds the kind takes, and under Kuma 3.0 with
 * @kinds3, refusing too what 3.0's refs do not have (TopLevelTargetRef,
 * OutboundTargetRef: kind, labels and sectionName).  Returns 0 or -ENOMEM.
 */
static int pd_target_ref(struct pd *pd, const struct ynode *m,
			 const char *path, uint32_t kinds, uint32_t kinds3,
			 struct pd_ref *r)
{
	static const char *const gone[] = { "name", "namespace", "tags",
					    "proxyTypes" };
	const struct ynode *kv = m->type == YNODE_MAP ? doc_get(m, "kind") :
							 NULL;
	char p[DOC_PATH_MAX], list[256];
	int k;

	if (pd->c->kuma != KUMA_3_0)
		return pd_ref(pd, m, path, kinds, false, r);
	k = kv && kv->type == YNODE_SCALAR ? pd_ref_kind_parse(kv->str) : -1;
	if (k >= 0 && (kinds & (1u << k)) && !(kinds3 & (1u << k))) {
		memset(r, 0, sizeof(*r));
		doc_err(pd->c, kv, doc_path(p, path, "kind"), "must be %s "
			KUMA_3_0_ONLY,
			pd_kind_list(list, sizeof(list), kinds3));
		return 0;
	}
	for (size_t i = 0; m->type == YNODE_MAP && i < 4; i++) {
		const struct ynode *v = doc_get(m, gone[i]);

		if (v)
			doc_err(pd->c, v, doc_path(p, path, gone[i]),
				"is not a field of a targetRef, which has "
				"kind, labels and sectionName "
				KUMA_3_0_ONLY);
	}
	return pd_ref(pd, m, path, kinds3, false, r);
}

/* Notes that the record being read holds at byte @at a value written at
 * @loc (@path), so validation can point at it.  Returns 0 or -ENOMEM. */
static int pd_note(struct pd *pd, const void *at, const struct diag_loc *loc,
		   const char *path)
{
	struct model_policy *pol = &pd->o->pol;
	struct model_ref_loc *l;
	/* A cut path still locates the problem; the position says it all. */
	const char *kept = model_note_path(doc_user_path(pd->c, path));

	if (!kept)
		return -ENOMEM;
	if (pol->nrefs == pd->refs_cap) {
		size_t cap = pd->refs_cap ? pd->refs_cap * 2 : 8;

		l = realloc(pol->refs, cap * sizeof(*l));
		if (!l)
			return -ENOMEM;
		pol->refs = l;
		pd->refs_cap = cap;
	}
	pol->refs[pol->nrefs++] = (struct model_ref_loc){
		.rec = (uint32_t)pol->n,
		.off = (uint32_t)((const uint8_t *)at - pd->rec),
		.loc = *loc,
		.path = kept,
	};
	return 0;
}

/* Notes the ref read as @r at byte @at of the record being read. */
static int pd_note_ref(struct pd *pd, const void *at, const struct pd_ref *r)
{
	return r->set ? pd_note(pd, at, &r->loc, r->path) : 0;
}

/* ---- values ------------------------------------------------------------ */

static int pd_object(struct pd *pd, const struct sch_object *s,
		     const struct ynode *m, const char *path, uint8_t *obj);

/*
 * Reports what pattern @pat (kind_desc.gone_v3) names under mapping @m (at
 * @path): keys Kuma 3.0 removed from the kind's conf, or a value of one.
 */
static void pd_gone_v3(struct pd *pd, const struct ynode *m,
		       const char *path, const char *pat)
{
	const char *dot = strchr(pat, '.'), *eq;
	char key[64], p[DOC_PATH_MAX], q[DOC_PATH_MAX];
	size_t n = dot ? (size_t)(dot - pat) : strlen(pat);
	const struct ynode *v;
	bool list;

	if (n >= sizeof(key) || m->type != YNODE_MAP)
		return;
	memcpy(key, pat, n);
	key[n] = 0;
	list = n > 2 && !strcmp(key + n - 2, "[]");
	if (list)
		key[n - 2] = 0;
	eq = strchr(key, '=');
	if (eq)
		key[eq++ - key] = 0;
	v = doc_get(m, key);
	if (!v)
		return;
	doc_path(p, path, key);
	if (eq && (v->type != YNODE_SCALAR || strcmp(v->str, eq)))
		return;
	if (!dot && eq)
		doc_err(pd->c, v, p, "%s was removed from %s " KUMA_3_0_ONLY,
			eq, pd->kd->name);
	else if (!dot)
		doc_err(pd->c, v, p, "was removed from %s " KUMA_3_0_ONLY,
			pd->kd->name);
	else if (list && v->type == YNODE_SEQ)
		for (size_t i = 0; i < v->nkids; i++)
			pd_gone_v3(pd, v->kids[i], pd_item_path(q, p, i),
				   dot + 1);
	else if (!list)
		pd_gone_v3(pd, v, p, dot + 1);
}

/* The conf of the record being read, from @m (a `default`, at @path):
 * under Kuma 3.0 without what 3.0 removed.  Returns 0 or -ENOMEM. */
static int pd_conf(struct pd *pd, const struct ynode *m, const char *path)
{
	const struct kind_desc *kd = pd->kd;

	for (const char *const *g = kd->gone_v3;
	     g && *g && pd->c->kuma == KUMA_3_0; g++)
		pd_gone_v3(pd, m, path, *g);
	return pd_object(pd, kd->conf, m, path, pd->rec + kd->conf_off);
}

static bool pd_scalar_text(const struct ynode *v, char *buf, size_t n)
{
	if (v->type != YNODE_SCALAR || v->len >= n || strlen(v->str) != v->len)
		return false;
	memcpy(buf, v->str, v->len + 1);
	return true;
}

static uint64_t pd_int_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
}

static void pd_int(struct pd *pd, const struct sch_field *f,
		   const struct ynode *v, const char *path, uint8_t *p)
{
	uint64_t min = f->min, max = f->max;
	unsigned long val;

	if (!min && !max)
		max = pd_int_max(f->size);
	/* doc_uint stops accumulating past max, which for the full 64-bit
	 * range would be after the wrap: refuse over-long digit strings. */
	if (max > UINT64_MAX / 10 && v->type == YNODE_SCALAR &&
	    (v->len > 20 ||
	     (v->len == 20 && strcmp(v->str, "18446744073709551615") > 0))) {
		doc_err(pd->c, v, path, "must be %llu..%llu",
			(unsigned long long)min, (unsigned long long)max);
		return;
	}
	if (doc_uint(pd->c, v, path, min, max, &val))
		sch_put_uint(p, f->size, val);
}

static void pd_duration(struct pd *pd, const struct sch_field *f,
			const struct ynode *v, const char *path, uint8_t *p)
{
	char tmp[64], a[24], b[24];
	uint64_t max = f->max;
	uint32_t ms = 0;
	int err = -EINVAL;

	if (!f->min && !f->max)
		max = UINT32_MAX;
	if (pd_scalar_text(v, tmp, sizeof(tmp)))
		err = sch_parse_duration(tmp, &ms);
	if (err == -EINVAL) {
		doc_err(pd->c, v, path,
			"must be a duration such as 10s, 1m30s or 250ms");
		return;
	}
	if (err || ms < f->min || ms > max) {
		doc_err(pd->c, v, path, "must be %s..%s",
			sch_fmt_duration(a, sizeof(a), (uint32_t)f->min),
			sch_fmt_duration(b, sizeof(b), (uint32_t)max));
		return;
	}
	sch_put_uint(p, 4, ms);
}

/* A number with up to 3 decimals: plain (50, 12.5) or quoted ("12.5"). */
static void pd_milli(struct pd *pd, const struct sch_field *f,
		     const struct ynode *v, const char *path, uint8_t *p)
{
	char tmp[64], a[24], b[24];
	uint64_t min = f->min, max = f->max;
	uint32_t val = 0;
	int err = -EINVAL;

	if (f->type == SCH_PERCENT) {
		min = 0;
		max = 100000;
	} else if (!min && !max) {
		max = UINT32_MAX;
	}
	if (pd_scalar_text(v, tmp, sizeof(tmp)))
		err = sch_parse_milli(tmp, &val);
	if (f->type == SCH_PERCENT && (err || val > max)) {
		doc_err(pd->c, v, path,
			"must be a percentage 0..100 with at most 3 decimals");
		return;
	}
	if (err == -EINVAL) {
		doc_err(pd->c, v, path,
			"must be a number such as 1.9 (at most 3 decimals)");
		return;
	}
	if (err || val < min || val > max) {
		doc_err(pd->c, v, path, "must be %s..%s",
			sch_fmt_milli(a, sizeof(a), (uint32_t)min),
			sch_fmt_milli(b, sizeof(b), (uint32_t)max));
		return;
	}
	sch_put_uint(p, 4, val);
}

/*
 * A certificate lifetime such as "1d", "12h", "90m" or "3600s" (Kuma
 * writes dpCert.rotation.expiration in days or hours), into seconds.
 * Kuma's reader also takes weeks and years of 365 days ("2y"); below a
 * second (its "ms") is not a certificate's lifetime.
 */
static void pd_lifetime(struct pd *pd, const struct ynode *v,
			const char *path, uint8_t *p)
{
	static const struct {
		char unit;
		unsigned long secs;
	} units[] = { { 'y', 365 * 86400 }, { 'w', 7 * 86400 },
		      { 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	unsigned long n = 0;
	const char *s = v->str;

	if (v->type != YNODE_SCALAR || !v->len || *s < '0' || *s > '9')
		goto bad;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (unsigned long)(*s - '0');
		/* 10 years in seconds is what get prints for "10y". */
		if (n > 10ul * 365 * 86400)
			goto bad;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s[0] != units[i].unit || s[1] || !n ||
		    n * units[i].secs > 10ul * 365 * 86400)
			continue;
		sch_put_uint(p, 4, n * units[i].secs);
		return;
	}
bad:
	doc_err(pd->c, v, path,
		"must be a lifetime such as 1y, 2w, 1d, 12h, 90m or 3600s "
		"(1s to 10 years)");
}

static void pd_bandwidth(struct pd *pd, const struct ynode *v,
			 const char *path, uint8_t *p)
{
	char tmp[64];
	uint64_t bps;

	if (!pd_scalar_text(v, tmp, sizeof(tmp)) ||
	    sch_parse_bandwidth(tmp, &bps)) {
		doc_err(pd->c, v, path,
			"must be a bandwidth such as 800bps, 10kbps, 5Mbps "
			"or 1Gbps");
		return;
	}
	sch_put_uint(p, 8, bps);
}

/* Index of @s in @names, or -1. */
static int pd_enum_index(const char *const *names, const struct ynode *v)
{
	for (int i = 0; names && names[i]; i++)
		if (v->type == YNODE_SCALAR && strlen(v->str) == v->len &&
		    !strcmp(v->str, names[i]))
			return i;
	return -1;
}

static void pd_enum(struct pd *pd, const struct sch_field *f,
		    const struct ynode *v, const char *path, uint8_t *p)
{
	char list[512];
	int i = pd_enum_index(f->names, v);

	if (i < 0) {
		doc_err(pd->c, v, path, "must be %s",
			pd_name_list(list, sizeof(list), f->names));
		return;
	}
	sch_put_uint(p, sch_field_size(f), (uint64_t)i + 1);
}

static void pd_flags(struct pd *pd, const struct sch_field *f,
		     const struct ynode *v, const char *path, uint8_t *p)
{
	char list[512], ip[DOC_PATH_MAX];
	uint32_t bits = 0;

	if (v->type != YNODE_SEQ) {
		doc_err(pd->c, v, path, "must be a list of %s, not %s",
			pd_name_list(list, sizeof(list), f->names),
			doc_kind_str(v->type));
		return;
	}
	for (size_t k = 0; k < v->nkids; k++) {
		int i = pd_enum_index(f->names, v->kids[k]);

		pd_item_path(ip, path, k);
		if (i < 0 || i >= 32)
			doc_err(pd->c, v->kids[k], ip, "must be %s",
				pd_name_list(list, sizeof(list), f->names));
		else
			bits |= 1u << i;
	}
	sch_put_uint(p, 4, bits);
}

static void pd_string(struct pd *pd, const struct sch_field *f,
		      const struct ynode *v, const char *path, uint8_t *p)
{
	const char *why;

	if ((!f->number_ok && !doc_is_text(pd->c, v, path)) ||
	    !doc_str(pd->c, v, path, (char *)p, f->size))
		return;
	if (!p[0]) {
		doc_err(pd->c, v, path, "must not be empty");
		return;
	}
	if (f->check && (why = f->check((const char *)p)))
		doc_err(pd->c, v, path, "%s", why);
}

/* A string kept out of line: read and checked as a string field is, up to
 * MF_STRING_MAX bytes, then interned into the set, its id at @p.  Returns
 * 0 or -ENOMEM. */
static int pd_strref(struct pd *pd, const struct sch_field *f,
		     const struct ynode *v, const char *path, uint8_t *p)
{
	struct mf_string str;
	const char *why;
	uint32_t id;

	/* doc_str() says what is wrong with a string that cannot be one
	 * (not a scalar, a NUL in it, too long); sch_str_make() then
	 * refuses nothing it took but the empty one. */
	if (!doc_is_text(pd->c, v, path) ||
	    !doc_str(pd->c, v, path, str.s, sizeof(str.s)))
		return 0;
	if (sch_str_make(&str, v->str, v->len)) {
		doc_err(pd->c, v, path, "must not be empty");
		return 0;
	}
	if (f->check && (why = f->check(str.s))) {
		doc_err(pd->c, v, path, "%s", why);
		return 0;
	}
	id = model_str_intern(pd->set, &str);
	sch_put_uint(p, 4, id);
	return id ? 0 : -ENOMEM;
}

/* An OTLP value or a JSON value (@json; otlpval.h): read and checked,
 * pooled as a string is, its id at @p.  Returns 0 or -ENOMEM. */
static int pd_otlpval(struct pd *pd, const struct ynode *v,
		      const char *path, uint8_t *p, bool json)
{
	char buf[MF_STRING_MAX];
	struct otlpv_out o = { buf, sizeof(buf), 0, false };
	struct mf_string str;
	uint32_t id;

	if (json ? !otlpv_read_json(pd->c, v, path, &o) :
		   !otlpv_read_yaml(pd->c, v, path, &o))
		return 0;
	if (sch_str_make(&str, buf, o.at)) {
		doc_err(pd->c, v, path, "must not be empty");
		return 0;
	}
	id = model_str_intern(pd->set, &str);
	sch_put_uint(p, 4, id);
	return id ? 0 : -ENOMEM;
}

static int pd_value(struct pd *pd, const struct sch_field *f,
		    const struct ynode *v, const char *path, uint8_t *p,
		    uint8_t *obj);

/* List @f whose object is keyed, written as mapping @v (at @path): each
 * key is an item's field 0 and its value the item's field 1. */
static int pd_keyed(struct pd *pd, const struct sch_field *f,
		    const struct ynode *v, const char *path, uint8_t *p,
		    uint8_t *obj)
{
	const struct sch_field *kf = &f->sub->fields[0];
	const struct sch_field *vf = &f->sub->fields[1];
	const uint32_t both = 3;
	char ip[DOC_PATH_MAX];
	size_t n, out = 0;
	int err = 0;

	if (v->type != YNODE_MAP) {
		doc_err(pd->c, v, path, "must be a mapping, not %s",
			doc_kind_str(v->type));
		return 0;
	}
	n = ynode_map_len(v);
	if (n > f->max_items) {
		doc_err(pd->c, v, path, "must have at most %u entries",
			f->max_items);
		n = f->max_items;
	}
	for (size_t i = 0; i < n && !err; i++) {
		const struct ynode *k = v->kids[2 * i];
		uint8_t *item = p + out * f->item_size;
		bool dup = false;

		if (k->type != YNODE_SCALAR) {
			doc_err(pd->c, k, path, "keys must be scalars, not %s",
				doc_kind_str(k->type));
			continue;
		}
		doc_path(ip, path, k->str);
		for (size_t j = 0; j < i && !dup; j++) {
			const struct ynode *prev = v->kids[2 * j];

			dup = prev->type == YNODE_SCALAR &&
			      !strcmp(prev->str, k->str);
			if (dup)
				doc_err(pd->c, k, ip,
					"duplicate key (first at line %u)",
					prev->loc.line);
		}
		if (dup)
			continue;
		err = pd_value(pd, kf, k, ip, item + kf->off, item);
		if (!err)
			err = pd_value(pd, vf, v->kids[2 * i + 1], ip,
				       item + vf->off, item);
		memcpy(item, &both, sizeof(both));
		out++;
	}
	obj[f->count_off] = (uint8_t)out;
	return err;
}

static int pd_list(struct pd *pd, const struct sch_field *f,
		   const struct ynode *v, const char *path, uint8_t *p,
		   uint8_t *obj)
{
	char ip[DOC_PATH_MAX];
	size_t n;
	int err = 0;

	if (f->sub->keyed)
		return pd_keyed(pd, f, v, path, p, obj);
	if (v->type != YNODE_SEQ) {
		doc_err(pd->c, v, path, "must be a list, not %s",
			doc_kind_str(v->type));
		return 0;
	}
	n = v->nkids;
	if (n > f->max_items) {
		doc_err(pd->c, v, path, "must have at most %u entries",
			f->max_items);
		n = f->max_items;
	}
	for (size_t i = 0; i < n && !err; i++) {
		uint8_t *item = p + i * f->item_size;

		pd_item_path(ip, path, i);
		if (f->sub->scalar) {
			if (ynode_is_null(v->kids[i]))
				doc_err(pd->c, v->kids[i], ip,
					"must not be empty");
			else
				err = pd_value(pd, &f->sub->fields[0],
					       v->kids[i], ip, item, NULL);
		} else {
			err = pd_object(pd, f->sub, v->kids[i], ip, item);
		}
	}
	obj[f->count_off] = (uint8_t)n;
	return err;
}

/* The rule @f adds to tag set @id, read from mapping @v at @path: its
 * message points at the value of the key it names, else at @v. */
static void pd_check_tags(struct pd *pd, const struct sch_field *f,
			  const struct ynode *v, const char *path, uint32_t id)
{
	const struct mf_tagset *ts = model_tags_get(pd->set, id);
	const char *key = NULL, *why;
	char kp[DOC_PATH_MAX];

	if (!ts || !(why = f->check_tags(ts, &key)))
		return;
	for (size_t i = 0; key && i < ynode_map_len(v); i++) {
		const struct ynode *k = v->kids[2 * i];

		if (k->type == YNODE_SCALAR && !strcmp(k->str, key)) {
			doc_err(pd->c, v->kids[2 * i + 1],
				doc_path(kp, path, key), "%s", why);
			return;
		}
	}
	doc_err(pd->c, v, path, "%s", why);
}

/* Reads value @v of field @f (at @path) into @p, which is in object @obj
 * (NULL for a scalar list item).  Returns 0 or -ENOMEM. */
static int pd_value(struct pd *pd, const struct sch_field *f,
		    const struct ynode *v, const char *path, uint8_t *p,
		    uint8_t *obj)
{
	struct pd_ref r;
	uint32_t id;
	int err;

	switch (f->type) {
	case SCH_BOOL:
		if (v->type != YNODE_SCALAR || !v->plain ||
		    (strcmp(v->str, "true") && strcmp(v->str, "false")))
			doc_err(pd->c, v, path, "must be true or false");
		else
			sch_put_uint(p, sch_field_size(f),
				     !strcmp(v->str, "true"));
		return 0;
	case SCH_INT:
		pd_int(pd, f, v, path, p);
		return 0;
	case SCH_DURATION:
		pd_duration(pd, f, v, path, p);
		return 0;
	case SCH_PERCENT:
	case SCH_DECIMAL:
		pd_milli(pd, f, v, path, p);
		return 0;
	case SCH_BANDWIDTH:
		pd_bandwidth(pd, v, path, p);
		return 0;
	case SCH_STRING:
		pd_string(pd, f, v, path, p);
		return 0;
	case SCH_ENUM:
		pd_enum(pd, f, v, path, p);
		return 0;
	case SCH_FLAGS:
		pd_flags(pd, f, v, path, p);
		return 0;
	case SCH_OBJECT:
		return pd_object(pd, f->sub, v, path, p);
	case SCH_LIST:
		if (!obj) {
			doc_err(pd->c, v, path, "lists of lists are not "
						"supported");
			return 0;
		}
		return pd_list(pd, f, v, path, p, obj);
	case SCH_TAGS:
		err = pdoc_tags(pd->c, pd->set, v, path, &id);
		sch_put_uint(p, 4, id);
		if (!err && id && f->check_tags)
			pd_check_tags(pd, f, v, path, id);
		return err;
	case SCH_REF:
		err = pd_ref(pd, v, path, f->ref_kinds, false, &r);
		if (err)
			return err;
		memcpy(p, &r.ref, sizeof(r.ref));
		return pd_note_ref(pd, p, &r);
	case SCH_IPV4:
		doc_ipv4(pd->c, v, path, p);
		return 0;
	case SCH_NAME:
		doc_name(pd->c, v, path, (char *)p);
		return 0;
	case SCH_LIFETIME:
		pd_lifetime(pd, v, path, p);
		return 0;
	case SCH_STRREF:
		return pd_strref(pd, f, v, path, p);
	case SCH_OTLPVAL:
		return pd_otlpval(pd, v, path, p, false);
	case SCH_JSONVAL:
		return pd_otlpval(pd, v, path, p, true);
	}
	return 0;
}

static int pd_fields(struct pd *pd, const struct sch_object *s,
		     const struct ynode *m, const char *path, uint8_t *obj,
		     unsigned before);

/*
 * Field @f of mapping @m, written as a YAML null (`key:` with nothing
 * after it): whether that is refused, reported then.  Kuma's schema has no nullable field,
 * so its apply refuses a null wherever a value has a type; and a null is
 * most often a mapping indented one step too little, whose fields would
 * otherwise be read as fields of the parent.  Only a field that holds any
 * JSON value may be null.
 */
static bool pd_null(struct pd *pd, const struct sch_field *f,
		    const struct ynode *m, const char *path)
{
	if (f->type == SCH_JSONVAL || f->type == SCH_OTLPVAL)
		return false;
	doc_err(pd->c, doc_key(m, f->name), path,
		"is null: leave it out, or write %s",
		f->type == SCH_OBJECT || f->type == SCH_TAGS ? "{} for none" :
		f->type == SCH_LIST ? "[] for none" : "a value");
	return true;
}

/* Reads mapping @m (at @path) described by @s into @obj, which is zero.
 * Returns 0 or -ENOMEM. */
static int pd_object(struct pd *pd, const struct sch_object *s,
		     const struct ynode *m, const char *path, uint8_t *obj)
{
	const char *known[32 + PD_REF_NKEYS + 1];
	unsigned before = pd->c->errors;
	size_t nk = 0;

	for (size_t i = 0; i < s->nfields && i < 32; i++) {
		if (s->fields[i].name) {
			known[nk++] = s->fields[i].name;
		} else if (s->fields[i].type == SCH_REF) {
			for (size_t j = 0; j < PD_REF_NKEYS; j++)
				known[nk++] = pd_ref_keys[j];
		}
		if (nk > 32)
			nk = 32;	/* a schema bug; the layout test says */
	}
	known[nk] = NULL;
	if (!doc_check_map(pd->c, m, path, known))
		return 0;
	return pd_fields(pd, s, m, path, obj, before);
}

/* The fields of @s in mapping @m, which may have other keys (its caller
 * checked them); the rules across fields are checked unless the error
 * count has grown past @before. */
static int pd_fields(struct pd *pd, const struct sch_object *s,
		     const struct ynode *m, const char *path, uint8_t *obj,
		     unsigned before)
{
	const struct ynode *vals[32] = { NULL };
	unsigned at = 0;
	uint32_t present = 0;
	char fp[DOC_PATH_MAX];
	const char *why;
	int err = 0;

	for (size_t i = 0; i < s->nfields && i < 32 && !err; i++) {
		const struct sch_field *f = &s->fields[i];
		const struct ynode *v, *raw;

		if (!f->name && f->type == SCH_REF) {
			struct pd_ref r;

			size_t j = 0;

			while (pd_ref_keys[j] && !doc_get(m, pd_ref_keys[j]))
				j++;
			/* None of its keys: an optional ref left out. */
			if (!pd_ref_keys[j] && !f->required)
				continue;
			err = pd_ref(pd, m, path, f->ref_kinds, true, &r);
			if (err)
				break;
			memcpy(obj + f->off, &r.ref, sizeof(r.ref));
			err = pd_note_ref(pd, obj + f->off, &r);
			present |= 1u << i;
			continue;
		}
		if (!f->name)
			continue;
		raw = doc_get_raw(m, f->name);
		v = vals[i] = raw && !ynode_is_null(raw) ? raw : NULL;
		if (v && f->empty_ok && v->type == YNODE_MAP &&
		    !ynode_map_len(v))
			v = NULL;
		if (v && f->empty_ok && f->type == SCH_STRING &&
		    v->type == YNODE_SCALAR && !v->plain && !v->len)
			v = NULL;
		if (raw && ynode_is_null(raw) &&
		    pd_null(pd, f, m, doc_path(fp, path, f->name)))
			continue;
		if (!v) {
			if (f->required)
				doc_err(pd->c, m, doc_path(fp, path, f->name),
					"is required");
			else if (f->def) {
				sch_put_uint(obj + f->off, sch_field_size(f),
					     f->def);
				present |= 1u << i;
			}
			continue;
		}
		err = pd_value(pd, f, v, doc_path(fp, path, f->name),
			       obj + f->off, obj);
		if (!err && (f->note || (f->type == SCH_NAME && f->refers)))
			err = pd_note(pd, obj + f->off, &v->loc, fp);
		present |= 1u << i;
	}
	memcpy(obj, &present, sizeof(present));
	/* Rules across fields only make sense once every field read. */
	if (err || pd->c->errors != before)
		return err;
	if (s->check && (why = s->check(obj))) {
		doc_err(pd->c, m, path, "%s", why);
	} else if (s->check_field && (why = s->check_field(obj, &at)) &&
		   at < s->nfields) {
		doc_err(pd->c, vals[at] ? vals[at] : m,
			doc_path(fp, path, s->fields[at].name), "%s", why);
	} else if (s->check_strs) {
		const struct sch_ids ids = model_ids(pd->set);

		if ((why = s->check_strs(obj, &ids)))
			doc_err(pd->c, m, path, "%s", why);
	}
	return err;
}

/* ---- records ----------------------------------------------------------- */

/* A zeroed record to fill, or NULL (after reporting, or on -ENOMEM in
 * pd->err) when the policy has its maximum already.  @at/@path: the entry
 * that would make it. */
static uint8_t *pd_rec_begin(struct pd *pd, const struct ynode *at,
			     const char *path)
{
	if (pd->o->pol.n >= PDOC_MAX_RECORDS) {
		if (!pd->too_many)
			doc_err(pd->c, at, path,
				"is one entry too many: a policy makes at "
				"most %d records (to/from entries, route "
				"rules)", PDOC_MAX_RECORDS);
		pd->too_many = true;
		return NULL;
	}
	pd->rec = calloc(1, pd->kd->val_size);
	if (!pd->rec)
		pd->err = -ENOMEM;
	return pd->rec;
}

/* Appends the record being filled to the policy.  Returns 0 or -ENOMEM. */
static int pd_rec_end(struct pd *pd)
{
	struct model_policy *pol = &pd->o->pol;
	size_t sz = pd->kd->val_size;
	uint8_t *recs;

	recs = realloc(pol->recs, (pol->n + 1) * sz);
	if (!recs) {
		free(pd->rec);
		pd->rec = NULL;
		return -ENOMEM;
	}
	memcpy(recs + pol->n * sz, pd->rec, sz);
	pol->recs = recs;
	pol->n++;
	free(pd->rec);
	pd->rec = NULL;
	return 0;
}

/* Copies targetRefs @target and @ref (either may be NULL) into the header
 * of the record being filled. */
static int pd_rec_refs(struct pd *pd, const struct pd_ref *target,
		       const struct pd_ref *ref)
{
	struct mf_pol_hdr *h = (struct mf_pol_hdr *)pd->rec;
	int err = 0;

	if (target) {
		h->target = target->ref;
		err = pd_note_ref(pd, &h->target, target);
	}
	if (ref && !err) {
		h->ref = ref->ref;
		err = pd_note_ref(pd, &h->ref, ref);
	}
	return err;
}

/* spec.targetRef, {kind: Mesh} when absent (and allowed). */
static int pd_target(struct pd *pd, const struct ynode *spec,
		     struct pd_ref *t)
{
	const struct ynode *v = doc_get(spec, "targetRef");
	int err;

	if (v) {
		err = pd_target_ref(pd, v, "spec.targetRef",
				    pd->kd->target_kinds,
				    kind_target_kinds(pd->kd, pd->c->kuma), t);
		if (!err && (pd->kd->sections & KIND_SEC_GATEWAY_NO_TAGS) &&
		    t->ref.kind == MF_REF_MESH_GATEWAY && t->ref.tags)
			doc_err(pd->c, doc_get(v, "tags"), "spec.targetRef.tags",
				"must not be set with kind MeshGateway for a "
				"%s: it applies to a gateway as a whole",
				pd->kd->name);
		return err;
	}
	memset(t, 0, sizeof(*t));
	if (pd->kd->target_kinds & KIND_REF(MF_REF_MESH))
		t->ref.kind = MF_REF_MESH;
	else
		doc_err(pd->c, spec, "spec.targetRef", "is required");
	return 0;
}

/* spec.to or spec.from: a list, or NULL after saying why not. */
static const struct ynode *pd_section(struct pd *pd, const struct ynode *spec,
				      const char *key, unsigned bit,
				      unsigned allowed)
{
	const struct ynode *v = doc_get(spec, key);
	char p[DOC_PATH_MAX];

	if (!v)
		return NULL;
	doc_path(p, "spec", key);
	if (!(allowed & bit) && (pd->kd->sections & bit)) {
		doc_err(pd->c, v, p, "was removed from %s " KUMA_3_0_ONLY,
			pd->kd->name);
		return NULL;
	}
	if (!(allowed & bit)) {
		doc_err(pd->c, v, p, "is not allowed in a %s (it has only %s)",
			pd->kd->name, (allowed & KIND_SEC_TO) ? "to" : "from");
		return NULL;
	}
	if (v->type != YNODE_SEQ) {
		doc_err(pd->c, v, p, "must be a list, not %s",
			doc_kind_str(v->type));
		return NULL;
	}
	return v;
}

/* Reports a spec with no to/from entry at all. */
static void pd_no_entries(struct pd *pd, const struct ynode *spec,
			  unsigned sections)
{
	if ((pd->kd->sections & KIND_SEC_EMPTY_OK) &&
	    (sections & KIND_SEC_RULES))
		doc_err(pd->c, spec, "spec",
			"must have at least one of %s " KUMA_3_0_ONLY,
			(sections & KIND_SEC_FROM) ? "to, from, rules" :
						     "to, rules");
	else if (sections & KIND_SEC_RULES)
		doc_err(pd->c, spec, "spec",
			"must have at least one of %s",
			(sections & KIND_SEC_FROM) ? "to, from, rules" :
						     "to, rules");
	else if ((sections & KIND_SEC_TO) && (sections & KIND_SEC_FROM))
		doc_err(pd->c, spec, "spec",
			"must have at least one of to, from");
	else
		doc_err(pd->c, spec, "spec", "must have at least one %s entry",
			(sections & KIND_SEC_FROM) ? "from" : "to");
}

/* KIND_FORM_TO_FROM: a record per to[] entry, then per from[] entry. */
/* One of a match's {type, value} (@what: spiffeID or sni) into @type and
 * @value (@vsize bytes), @types the types it may have. */
static void pd_match_value(struct pd *pd, const struct ynode *m,
			   const char *path, const char *const *types,
			   uint8_t *type, char *value, size_t vsize)
{
	static const char *const known[] = { "type", "value", NULL };
	char p[DOC_PATH_MAX], tmp[16], list[64];
	const struct ynode *v;
	int t;

	if (!doc_check_map(pd->c, m, path, known))
		return;
	v = doc_need(pd->c, m, path, "type");
	if (v && doc_str(pd->c, v, doc_path(p, path, "type"), tmp,
			 sizeof(tmp))) {
		for (t = 0; types[t] && strcmp(types[t], tmp); t++)
			;
		if (types[t])
			*type = (uint8_t)(t + 1);
		else
			doc_err(pd->c, v, p, "must be %s",
				pd_name_list(list, sizeof(list), types));
	}
	v = doc_need(pd->c, m, path, "value");
	if (v && doc_str(pd->c, v, doc_path(p, path, "value"), value, vsize) &&
	    !value[0])
		doc_err(pd->c, v, p, "must not be empty");
}

/* The kind's rules across the header and conf of the record being read,
 * whose default (@def, at @path) parsed cleanly. */
static void pd_rec_check(struct pd *pd, const struct ynode *def,
			 const char *path, unsigned before)
{
	const struct kind_desc *kd = pd->kd;
	const char *field = NULL, *why;
	char p[DOC_PATH_MAX];

	if (!kd->rec_check || pd->c->errors != before)
		return;
	why = kd->rec_check((const struct mf_pol_hdr *)pd->rec,
			    pd->rec + kd->conf_off, &field);
	if (why)
		doc_err(pd->c, def, field ? doc_path(p, path, field) : path,
			"%s", why);
}

/* rules[].matches[] item @m (@path) into @out: a spiffeID, an sni, or
 * both (both must hold). */
static void pd_rule_match(struct pd *pd, const struct ynode *m,
			  const char *path, struct mf_rule_match *out)
{
	static const char *const known[] = { "spiffeID", "sni", NULL };
	static const char *const spiffe_types[] = { "Exact", "Prefix", NULL };
	static const char *const sni_types[] = { "Exact", NULL };
	const struct ynode *id, *sni;
	char p[DOC_PATH_MAX];
	const char *why = NULL;
	unsigned before = pd->c->errors;

	if (!doc_check_map(pd->c, m, path, known))
		return;
	id = doc_get(m, "spiffeID");
	sni = doc_get(m, "sni");
	if (!id && !sni) {
		doc_err(pd->c, m, path, "must have a spiffeID or an sni");
		return;
	}
	if (id)
		pd_match_value(pd, id, doc_path(p, path, "spiffeID"),
			       spiffe_types, &out->spiffe_type, out->spiffe,
			       sizeof(out->spiffe));
	if (id && pd->c->errors == before)
		why = out->spiffe_type == MF_AUTHZ_MATCH_EXACT ?
		      kind_check_spiffe_id(out->spiffe) :
		      kind_check_spiffe_prefix(out->spiffe);
	if (why)
		doc_err(pd->c, doc_get(id, "value"),
			doc_path(p, path, "spiffeID.value"), "%s", why);
	before = pd->c->errors;
	if (sni)
		pd_match_value(pd, sni, doc_path(p, path, "sni"), sni_types,
			       &out->sni_type, out->sni, sizeof(out->sni));
	if (sni && pd->c->errors == before &&
	    (strlen(out->sni) > 253 || !kind_dns_name_ok(out->sni)))
		doc_err(pd->c, doc_get(sni, "value"),
			doc_path(p, path, "sni.value"),
			"must be a lower-case DNS name (RFC 1123)");
}

/*
 * spec.rules (Kuma's inbound form): each rule {matches?, default} becomes
 * one record per match (hdr.rule its index), or one record when it has
 * none, all with the rule's default as their conf.
 */
static int pd_rules(struct pd *pd, const struct ynode *list,
		    const struct pd_ref *target)
{
	static const char *const known[] = { "matches", "default", NULL };
	const struct kind_desc *kd = pd->kd;
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX], mp[DOC_PATH_MAX];
	int err = 0;

	for (size_t i = 0; i < list->nkids && !err; i++) {
		const struct ynode *r = list->kids[i], *ms, *def;
		size_t n;

		snprintf(p, sizeof(p), "spec.rules[%zu]", i);
		if (!doc_check_map(pd->c, r, p, known))
			continue;
		ms = doc_get(r, "matches");
		if (ms && !(kd->sections & KIND_SEC_RULE_MATCHES)) {
			doc_err(pd->c, ms, doc_path(q, p, "matches"),
				"is not allowed in a %s", kd->name);
			continue;
		}
		if (ms && ms->type != YNODE_SEQ) {
			doc_err(pd->c, ms, doc_path(q, p, "matches"),
				"must be a list, not %s",
				doc_kind_str(ms->type));
			continue;
		}
		def = doc_need(pd->c, r, p, "default");
		n = ms && ms->nkids ? ms->nkids : 1;
		for (size_t j = 0; j < n && !err && def; j++) {
			unsigned before = pd->c->errors;
			struct mf_pol_hdr *h;

			if (!pd_rec_begin(pd, r, p))
				return pd->err;
			h = (struct mf_pol_hdr *)pd->rec;
			h->section = MF_SEC_RULE;
			h->entry = (uint16_t)i;
			h->rule = (uint16_t)j;
			if (ms && ms->nkids)
				pd_rule_match(pd, ms->kids[j],
					      pd_item_path(mp, doc_path(q, p,
							"matches"), j),
					      &h->match);
			err = pd_rec_refs(pd, target, NULL);
			if (!err)
				err = pd_conf(pd, def,
					      doc_path(q, p, "default"));
			if (!err)
				pd_rec_check(pd, def, q, before);
			if (err)
				free(pd->rec);
			else
				err = pd_rec_end(pd);
		}
	}
	return err;
}

/* A policy without entries, where its kind allows that: one record of no
 * section, which keeps its name and target in the maps and applies to
 * nothing (get prints it back with `to: []`). */
static int pd_empty(struct pd *pd, const struct ynode *spec,
		    const struct pd_ref *target)
{
	int err;

	if (!pd_rec_begin(pd, spec, "spec"))
		return pd->err;
	err = pd_rec_refs(pd, target, NULL);
	if (err) {
		free(pd->rec);
		return err;
	}
	return pd_rec_end(pd);
}

/* Whether targetRef @t takes in builtin gateways (Kuma 2.14's
 * IncludesGateways): a MeshGateway or a route does, and so does the mesh
 * or a subset unless its proxyTypes leave Gateway out. */
static bool pd_includes_gateways(const struct mf_ref *t)
{
	switch (t->kind) {
	case MF_REF_MESH_GATEWAY:
	case MF_REF_MESH_HTTP_ROUTE:
		return true;
	case MF_REF_MESH:
	case MF_REF_MESH_SUBSET:
		return !t->proxy_types || (t->proxy_types & MF_PROXY_GATEWAY);
	default:
		return false;
	}
}

/* KIND_SEC_GATEWAY_SCOPED: `from` (and, with RULES_NO_GATEWAY, `rules`)
 * for sidecars only, `to` for a scope with gateways only; @count the
 * to and from entries. */
static void pd_gateway_scope(struct pd *pd, const struct ynode *spec,
			     const struct pd_ref *t, const size_t *count,
			     const struct ynode *rules)
{
	unsigned sec = pd->kd->sections;
	bool gw = pd_includes_gateways(&t->ref);

	/* A target that did not parse has said what is wrong already. */
	if (!(sec & KIND_SEC_GATEWAY_SCOPED) || !t->ref.kind)
		return;
	if (gw && count[1])
		doc_err(pd->c, doc_get(spec, "from"), "spec.from",
			"must not be used when the target includes gateways: "
			"select proxyTypes [Sidecar], or use spec.to");
	if (!gw && count[0])
		doc_err(pd->c, doc_get(spec, "to"), "spec.to",
			"must only be used when the target includes gateways");
	if (gw && rules && rules->nkids && (sec & KIND_SEC_RULES_NO_GATEWAY))
		doc_err(pd->c, rules, "spec.rules",
			"must not be used when the target includes gateways: "
			"select proxyTypes [Sidecar]");
}

/* Kuma: a Dataplane target names one of its inbounds (sectionName) only
 * for a policy of inbound traffic, one with from or rules entries
 * (@inbound). */
static void pd_target_section(struct pd *pd, const struct ynode *spec,
			      const struct pd_ref *t, bool inbound)
{
	const struct ynode *r = doc_get(spec, "targetRef");
	const struct ynode *v = r && r->type == YNODE_MAP ?
					doc_get(r, "sectionName") : NULL;

	if (!inbound && v && t->ref.kind == MF_REF_WORKLOAD &&
	    t->ref.section[0])
		doc_err(pd->c, v, "spec.targetRef.sectionName",
			"can only be used with inbound policies (from or "
			"rules entries)");
}

/* The kinds a to[].targetRef may name under spec.targetRef @t. */
static uint32_t pd_to_kinds(const struct kind_desc *kd, const struct pd_ref *t)
{
	if (kd->to_kinds_of)
		return kd->to_kinds_of(kd, &t->ref);
	return (kd->gw_tops & KIND_REF(t->ref.kind)) ? kd->to_kinds_gw :
						       kd->to_kinds;
}

static int pd_to_from(struct pd *pd, const struct ynode *spec)
{
	static const char *const known[] = { "targetRef", "to", "from",
					     "rules", NULL };
	static const char *const entry_known[] = { "targetRef", "default",
						   NULL };
	static const struct {
		const char *key;
		unsigned bit;
		uint8_t section;
	} secs[] = { { "to", KIND_SEC_TO, MF_SEC_TO },
		     { "from", KIND_SEC_FROM, MF_SEC_FROM } };
	const struct kind_desc *kd = pd->kd;
	const unsigned sec = kind_sections(kd, pd->c->kuma);
	struct pd_ref target, ref;
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX];
	const struct ynode *rules;
	size_t total = 0, count[2] = { 0, 0 };
	bool bad = false;	/* a section was written, but wrong */
	int err;

	if (!doc_check_map(pd->c, spec, "spec", known))
		return 0;
	err = pd_target(pd, spec, &target);
	for (size_t s = 0; s < 2 && !err; s++) {
		const struct ynode *list = pd_section(pd, spec, secs[s].key,
						      secs[s].bit, sec);
		uint32_t kinds = s ? kd->from_kinds :
				     pd_to_kinds(kd, &target);

		if (!list) {
			bad |= doc_get(spec, secs[s].key) != NULL;
			continue;
		}
		total += list->nkids;
		count[s] = list->nkids;
		for (size_t i = 0; i < list->nkids && !err; i++) {
			const struct ynode *e = list->kids[i], *v;
			unsigned before = pd->c->errors;
			struct mf_pol_hdr *h;

			snprintf(p, sizeof(p), "spec.%s[%zu]", secs[s].key, i);
			if (!doc_check_map(pd->c, e, p, entry_known))
				continue;
			if (!pd_rec_begin(pd, e, p))
				break;
			h = (struct mf_pol_hdr *)pd->rec;
			h->section = secs[s].section;
			h->entry = (uint16_t)i;
			memset(&ref, 0, sizeof(ref));
			v = doc_need(pd->c, e, p, "targetRef");
			if (v)
				err = pd_target_ref(pd, v,
						    doc_path(q, p, "targetRef"),
						    kinds, kinds, &ref);
			if (!err)
				err = pd_rec_refs(pd, &target, &ref);
			v = doc_need(pd->c, e, p, "default");
			if (v && !err)
				err = pd_conf(pd, v,
					      doc_path(q, p, "default"));
			if (v && !err)
				pd_rec_check(pd, v, q, before);
			if (err)
				free(pd->rec);
			else
				err = pd_rec_end(pd);
		}
	}
	rules = err ? NULL : pd_section(pd, spec, "rules", KIND_SEC_RULES,
					sec);
	if (!err)
		pd_gateway_scope(pd, spec, &target, count, rules);
	bad |= !rules && doc_get(spec, "rules") != NULL;
	if (rules && count[1])
		doc_err(pd->c, rules, "spec.rules",
			"cannot be used with spec.from in one policy");
	else if (rules && count[0] &&
		 !(kd->sections & KIND_SEC_RULES_WITH_TO))
		doc_err(pd->c, rules, "spec.rules",
			"cannot be used with spec.to in one policy");
	else if (rules)
		err = pd_rules(pd, rules, &target);
	if (rules)
		total += rules->nkids;
	if (!err)
		pd_target_section(pd, spec, &target,
				  count[1] || (rules && rules->nkids));
	if (!err && !total && !bad) {
		if (sec & KIND_SEC_EMPTY_OK)
			err = pd_empty(pd, spec, &target);
		else
			pd_no_entries(pd, spec, sec);
	}
	return err ? err : pd->err;
}

/* KIND_FORM_ROUTE: a record per rule of every to[] entry. */
static int pd_route(struct pd *pd, const struct ynode *spec)
{
	static const char *const known[] = { "targetRef", "to", NULL };
	const struct kind_desc *kd = pd->kd;
	const char *entry_known[2 + 32 + 1] = { "targetRef", "rules" };
	size_t nk = 2, entry_size = 0;
	uint8_t *entry = NULL;	/* the entry's keys, read with rule 0 */
	const struct ynode *list;
	struct pd_ref target, ref;
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX];
	int err;

	if (!doc_check_map(pd->c, spec, "spec", known))
		return 0;
	if (kd->entry) {
		for (size_t i = 0; i < kd->entry->nfields && i < 32; i++)
			if (kd->entry->fields[i].name)
				entry_known[nk++] = kd->entry->fields[i].name;
		entry_size = sch_object_size(kd->entry);
		entry = calloc(1, entry_size);
		if (!entry)
			return -ENOMEM;
	}
	entry_known[nk] = NULL;
	err = pd_target(pd, spec, &target);
	if (!err)
		pd_target_section(pd, spec, &target, false);
	/* Routes have only `to`, whatever kd->sections says. */
	list = err ? NULL : pd_section(pd, spec, "to", KIND_SEC_TO,
				       KIND_SEC_TO);
	if (!err && !doc_get(spec, "to"))
		pd_no_entries(pd, spec, KIND_SEC_TO);
	else if (list && !list->nkids && (kd->sections & KIND_SEC_EMPTY_OK))
		err = pd_empty(pd, spec, &target);
	else if (list && !list->nkids)
		doc_err(pd->c, list, "spec.to", "must have at least one entry");
	for (size_t i = 0; list && i < list->nkids && !err && !pd->too_many;
	     i++) {
		const struct ynode *e = list->kids[i], *rules, *v;
		size_t nrules;
		bool norules;

		snprintf(p, sizeof(p), "spec.to[%zu]", i);
		if (!doc_check_map(pd->c, e, p, entry_known))
			continue;
		memset(&ref, 0, sizeof(ref));
		v = doc_need(pd->c, e, p, "targetRef");
		if (v)
			err = pd_target_ref(pd, v, doc_path(q, p, "targetRef"),
					    pd_to_kinds(kd, &target),
					    pd_to_kinds(kd, &target), &ref);
		/* Kuma's schema wants rules in every entry, even where an
		 * empty list is taken (`rules: []`). */
		rules = doc_need(pd->c, e, p, "rules");
		if (err || !rules)
			continue;
		doc_path(q, p, "rules");
		if (rules && rules->type != YNODE_SEQ) {
			doc_err(pd->c, rules, q, "must be a list, not %s",
				doc_kind_str(rules->type));
			continue;
		}
		norules = !rules->nkids;
		if (norules && !(kd->sections & KIND_SEC_ENTRY_NO_RULES))
			doc_err(pd->c, rules, q, "must have at least one entry");
		/* An entry without rules: one record, for the entry. */
		nrules = norules && (kd->sections & KIND_SEC_ENTRY_NO_RULES) ?
				 1 : rules->nkids;
		for (size_t j = 0; j < nrules && !err; j++) {
			const struct ynode *at = norules ? e : rules->kids[j];
			struct mf_pol_hdr *h;
			char rp[DOC_PATH_MAX];

			pd_item_path(rp, q, j);
			if (!pd_rec_begin(pd, at, norules ? p : rp))
				break;
			h = (struct mf_pol_hdr *)pd->rec;
			h->section = MF_SEC_TO;
			h->entry = (uint16_t)i;
			h->rule = norules ? MF_ROUTE_NO_RULES : (uint16_t)j;
			err = pd_rec_refs(pd, &target, &ref);
			/* The entry's own keys, read once (with its first
			 * rule, whose header its checks may read) and the
			 * same in every rule's record. */
			if (!err && kd->entry && !j) {
				err = pd_fields(pd, kd->entry, e, p,
						pd->rec + kd->entry_off,
						pd->c->errors);
				memcpy(entry, pd->rec + kd->entry_off,
				       entry_size);
			} else if (!err && kd->entry) {
				memcpy(pd->rec + kd->entry_off, entry,
				       entry_size);
			}
			if (!err && !norules)
				err = pd_object(pd, kd->conf, rules->kids[j],
						rp, pd->rec + kd->conf_off);
			if (err)
				free(pd->rec);
			else
				err = pd_rec_end(pd);
		}
	}
	free(entry);
	return err ? err : pd->err;
}

/* KIND_FORM_DEFAULT: one record. */
static int pd_default(struct pd *pd, const struct ynode *spec)
{
	static const char *const known[] = { "targetRef", "default", NULL };
	const struct ynode *v;
	struct pd_ref target;
	int err;

	if (!doc_check_map(pd->c, spec, "spec", known))
		return 0;
	err = pd_target(pd, spec, &target);
	if (!err)
		pd_target_section(pd, spec, &target, false);
	if (err || !pd_rec_begin(pd, spec, "spec"))
		return err ? err : pd->err;
	((struct mf_pol_hdr *)pd->rec)->section = MF_SEC_DEFAULT;
	err = pd_rec_refs(pd, &target, NULL);
	v = doc_need(pd->c, spec, "spec", "default");
	if (v && !err)
		err = pd_conf(pd, v, "spec.default");
	if (err) {
		free(pd->rec);
		return err;
	}
	return pd_rec_end(pd);
}

/* spec.<key>: 1..MF_SELECTORS_MAX entries {match: TAGS} into @ids. */
static int pd_selectors(struct pd *pd, const struct ynode *spec,
			const char *key, uint32_t *ids, uint8_t *n)
{
	static const char *const known[] = { "match", NULL };
	const struct ynode *list = doc_need(pd->c, spec, "spec", key);
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX];
	int err = 0;

	if (!list)
		return 0;
	doc_path(p, "spec", key);
	if (list->type != YNODE_SEQ) {
		doc_err(pd->c, list, p, "must be a list, not %s",
			doc_kind_str(list->type));
		return 0;
	}
	if (!list->nkids || list->nkids > MF_SELECTORS_MAX) {
		doc_err(pd->c, list, p, "must have 1..%d entries",
			MF_SELECTORS_MAX);
		return 0;
	}
	for (size_t i = 0; i < list->nkids && !err; i++) {
		const struct ynode *e = list->kids[i], *m;

		snprintf(p, sizeof(p), "spec.%s[%zu]", key, i);
		if (!doc_check_map(pd->c, e, p, known))
			continue;
		m = doc_need(pd->c, e, p, "match");
		if (m)
			err = pdoc_tags(pd->c, pd->set, m,
					doc_path(q, p, "match"), &ids[i]);
	}
	*n = (uint8_t)list->nkids;
	return err;
}

/* KIND_FORM_SOURCES and KIND_FORM_SELECTORS: one record. */
static int pd_legacy(struct pd *pd, const struct ynode *spec, bool sources)
{
	static const char *const src_known[] = { "sources", "destinations",
						 "conf", NULL };
	static const char *const sel_known[] = { "selectors", "conf", NULL };
	static const char *const sel_tags_known[] = { "selectors", "tags",
						      "conf", NULL };
	struct kind_own own = { 0 };
	struct mf_pol_hdr *h;
	const struct ynode *v;
	int err;

	if (!doc_check_map(pd->c, spec, "spec",
			   sources ? src_known :
			   pd->kd->spec_tags ? sel_tags_known : sel_known))
		return 0;
	if (!pd_rec_begin(pd, spec, "spec"))
		return pd->err;
	h = (struct mf_pol_hdr *)pd->rec;
	h->section = MF_SEC_CONF;
	err = pd_selectors(pd, spec, sources ? "sources" : "selectors",
			   h->sources, &h->nsources);
	if (!err && sources)
		err = pd_selectors(pd, spec, "destinations", h->destinations,
				   &h->ndestinations);
	v = pd->kd->spec_tags ? doc_get(spec, "tags") : NULL;
	if (v && pd->kd->spec_tags->empty_ok && v->type == YNODE_MAP &&
	    !ynode_map_len(v))
		v = NULL;
	if (v && !err)
		err = pd_value(pd, pd->kd->spec_tags, v, "spec.tags",
			       pd->rec + pd->kd->spec_tags->off, NULL);
	v = doc_need(pd->c, spec, "spec", "conf");
	if (v && !err && pd->kd->conf_canon) {
		v = pd->kd->conf_canon(v, &own);
		if (!v)
			err = -ENOMEM;
	}
	if (v && !err)
		err = pd_object(pd, pd->kd->conf, v, "spec.conf",
				pd->rec + pd->kd->conf_off);
	kind_own_free(&own);
	if (err) {
		free(pd->rec);
		return err;
	}
	return pd_rec_end(pd);
}

/* KIND_FORM_SPEC: the spec is the conf of one record. */
static int pd_spec(struct pd *pd, const struct ynode *spec)
{
	int err;

	if (!pd_rec_begin(pd, spec, "spec"))
		return pd->err;
	err = pd_object(pd, pd->kd->conf, spec, "spec", pd->rec);
	if (err) {
		free(pd->rec);
		return err;
	}
	return pd_rec_end(pd);
}

/* A record of a MeshTrafficPermission: @e read by @s as its conf (with
 * the action of @list for a `rules` item), into section @sec. */
static int pd_mtp_rec(struct pd *pd, const struct pd_ref *target,
		      const struct sch_object *s, const struct ynode *e,
		      const char *path, uint8_t sec,
		      const struct model_rule_list *list)
{
	struct mf_mtp *r;
	int err;

	if (!pd_rec_begin(pd, e, path))
		return pd->err;
	r = (struct mf_mtp *)pd->rec;
	r->hdr.section = sec;
	if (list)
		r->conf.def.action = list->action;
	err = pd_rec_refs(pd, target, NULL);
	if (!err)
		err = pd_object(pd, s, e, path, pd->rec + pd->kd->conf_off);
	if (err) {
		free(pd->rec);
		return err;
	}
	return pd_rec_end(pd);
}

/*
 * Kuma's `rules` form: [{default: {allow: [...], deny: [...],
 * allowWithShadowDeny: [...]}}].  Records go grouped by action (allow,
 * deny, shadow), each group in the order written across rules, which is
 * the order they compile in and print back.
 */
static int pd_mtp_rules(struct pd *pd, const struct pd_ref *target,
			const struct ynode *rules)
{
	static const char *const known[] = { "default", NULL };
	static const char *const def_known[] = { "allow", "deny",
						 "allowWithShadowDeny", NULL };
	char p[DOC_PATH_MAX], q[DOC_PATH_MAX];
	size_t total = 0;
	int err = 0;

	if (rules->type != YNODE_SEQ) {
		doc_err(pd->c, rules, "spec.rules", "must be a list, not %s",
			doc_kind_str(rules->type));
		return 0;
	}
	/* First pass: check shapes and count. */
	for (size_t i = 0; i < rules->nkids; i++) {
		const struct ynode *r = rules->kids[i], *def, *l;

		snprintf(p, sizeof(p), "spec.rules[%zu]", i);
		if (!doc_check_map(pd->c, r, p, known))
			continue;
		def = doc_need(pd->c, r, p, "default");
		doc_path(q, p, "default");
		if (!def || !doc_check_map(pd->c, def, q, def_known))
			continue;
		for (size_t a = 0; a < MODEL_RULE_LISTS; a++) {
			l = doc_get(def, model_rule_lists[a].key);
			if (l && l->type != YNODE_SEQ)
				doc_err(pd->c, l,
					doc_path(p, q, model_rule_lists[a].key),
					"must be a list, not %s",
					doc_kind_str(l->type));
			else if (l)
				total += l->nkids;
		}
	}
	if (!total) {
		/* A policy with no rules would compile to nothing and so
		 * vanish from the applied state. */
		doc_err(pd->c, rules, "spec.rules",
			"must have at least one allow, deny or "
			"allowWithShadowDeny entry");
		return 0;
	}
	for (size_t a = 0; a < MODEL_RULE_LISTS && !err; a++)
		for (size_t i = 0; i < rules->nkids && !err; i++) {
			const struct ynode *def, *l;

			if (rules->kids[i]->type != YNODE_MAP ||
			    !(def = doc_get(rules->kids[i], "default")) ||
			    def->type != YNODE_MAP ||
			    !(l = doc_get(def, model_rule_lists[a].key)) ||
			    l->type != YNODE_SEQ)
				continue;
			for (size_t j = 0; j < l->nkids && !err; j++) {
				snprintf(p, sizeof(p),
					 "spec.rules[%zu].default.%s[%zu]", i,
					 model_rule_lists[a].key, j);
				err = pd_mtp_rec(pd, target, pd->kd->alt,
						 l->kids[j], p,
						 MF_MTP_SEC_RULES,
						 &model_rule_lists[a]);
			}
		}
	return err;
}

/* KIND_FORM_PERMISSION: spec.targetRef and spec.from or spec.rules. */
static int pd_permission(struct pd *pd, const struct ynode *spec)
{
	static const char *const known[] = { "targetRef", "from", "rules",
					     NULL };
	const struct ynode *from, *rules, *v;
	char p[DOC_PATH_MAX];
	struct pd_ref target;
	int err = 0;

	if (!doc_check_map(pd->c, spec, "spec", known))
		return 0;
	memset(&target, 0, sizeof(target));
	v = doc_need(pd->c, spec, "spec", "targetRef");
	if (v)
		err = pd_target_ref(pd, v, "spec.targetRef",
				    pd->kd->target_kinds,
				    kind_target_kinds(pd->kd, pd->c->kuma),
				    &target);
	from = doc_get(spec, "from");
	rules = doc_get(spec, "rules");
	/* Kuma 3.0 removed `from`: `rules` says it all. */
	if (!err && pd->c->kuma == KUMA_3_0 && from) {
		doc_err(pd->c, from, "spec.from", "was removed from %s "
			KUMA_3_0_ONLY, pd->kd->name);
		return 0;
	}
	if (!err && pd->c->kuma == KUMA_3_0 && !rules) {
		doc_err(pd->c, spec, "spec.rules", "is required " KUMA_3_0_ONLY);
		return 0;
	}
	if (err || (from && rules)) {
		if (!err)
			doc_err(pd->c, rules, "spec.rules", "cannot be used "
				"with spec.from in one policy");
		return err;
	}
	if (rules)
		return pd_mtp_rules(pd, &target, rules);
	from = doc_need(pd->c, spec, "spec", "from");
	if (!from)
		return 0;
	if (from->type != YNODE_SEQ || !from->nkids) {
		/* A policy with no rules would compile to nothing and so
		 * vanish from the applied state. */
		if (from->type != YNODE_SEQ)
			doc_err(pd->c, from, "spec.from",
				"must be a list, not %s",
				doc_kind_str(from->type));
		else
			doc_err(pd->c, from, "spec.from",
				"must have at least one entry");
		return 0;
	}
	for (size_t i = 0; i < from->nkids && !err; i++) {
		pd_item_path(p, "spec.from", i);
		err = pd_mtp_rec(pd, &target, pd->kd->conf, from->kids[i], p,
				 MF_SEC_FROM, NULL);
	}
	return err;
}

/* Reads @spec by its kind's form. */
static int pd_form(struct pd *pd, const struct ynode *spec)
{
	struct doc_ctx *c = pd->c;
	struct model_obj *o = pd->o;

	/* A kd already set wins: tests parse kinds of their own. */
	pd->kd = o->pol.kd ? o->pol.kd : model_kind_desc(o->kind);
	if (!pd->kd) {
		doc_err(c, spec, "spec", "kind %s has no schema",
			model_kind_name(o->kind));
		return 0;
	}
	memset(&o->pol, 0, sizeof(o->pol));
	o->pol.kd = pd->kd;
	/* Kuma's legacy kinds, the only ones of these two forms. */
	if (c->kuma == KUMA_3_0 && (pd->kd->form == KIND_FORM_SOURCES ||
				    pd->kd->form == KIND_FORM_SELECTORS)) {
		doc_err(c, spec, "spec", "kind %s was removed " KUMA_3_0_ONLY,
			pd->kd->name);
		return 0;
	}
	switch (pd->kd->form) {
	case KIND_FORM_TO_FROM:
		return pd_to_from(pd, spec);
	case KIND_FORM_DEFAULT:
		return pd_default(pd, spec);
	case KIND_FORM_ROUTE:
		return pd_route(pd, spec);
	case KIND_FORM_SOURCES:
		return pd_legacy(pd, spec, true);
	case KIND_FORM_SELECTORS:
		return pd_legacy(pd, spec, false);
	case KIND_FORM_SPEC:
		return pd_spec(pd, spec);
	case KIND_FORM_PERMISSION:
		return pd_permission(pd, spec);
	}
	doc_err(c, spec, "spec", "kind %s has an unknown form",
		pd->kd->name);
	return 0;
}

/* The notes' array, grown by doubling, is cut to what it holds: a mesh
 * keeps one per object, most with a note or two. */
static void pd_refs_fit(struct pd *pd)
{
	struct model_policy *pol = &pd->o->pol;
	struct model_ref_loc *l;

	if (!pd->refs_cap || pol->nrefs == pd->refs_cap)
		return;	/* none made here, or full */
	if (!pol->nrefs) {
		free(pol->refs);
		pol->refs = NULL;
		return;
	}
	l = realloc(pol->refs, pol->nrefs * sizeof(*l));
	if (l)
		pol->refs = l;	/* else the larger one stays, as good */
}

int pdoc_parse(struct doc_ctx *c, struct model_set *set, struct model_obj *o,
	       const struct ynode *spec)
{
	struct pd pd = { .c = c, .set = set, .o = o };
	int err;

	err = pd_form(&pd, spec);
	pd_refs_fit(&pd);
	return err;
}
