// SPDX-License-Identifier: Apache-2.0
/*
 * The schema engine: the text forms of durations, decimals and bandwidths;
 * YAML -> records (lib/policy/pdoc.c) with every class of problem giving
 * its exact "file:line:col: path: message"; records -> YAML (render.c)
 * that reads back to the same bytes; records -> JSON; Kuma's merge; the
 * walk over tags and refs; and the layout rules every kind's tables must
 * keep.
 *
 * Most cases use a test kind of their own (every field type once), so they
 * do not move when a real kind's table changes; MeshTimeout goes through
 * the whole document path, with kinds_harness.h.
 */
#include <stddef.h>

#include "harness/test.h"
#include "harness/kinds_harness.h"

#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/docfield.h"
#include "policy/model.h"
#include "policy/pdoc.h"
#include "policy/render.h"
#include "policy/ytree.h"
#include "policy/kinds.h"
#include "policy/schema.h"

/* ---- the test kind ----------------------------------------------------- */

struct t_sub {
	uint32_t present;
	uint8_t active;
	uint8_t _pad[3];
	uint32_t limit;
};

struct t_item {
	uint32_t present;
	struct mf_ref ref;
	uint16_t port;
	uint16_t _pad;
	uint32_t weight;
};

struct t_conf {
	uint32_t present;
	uint8_t enabled;
	uint8_t mode;
	uint16_t port;
	uint32_t timeout;
	uint32_t percent;
	uint32_t factor;
	uint32_t retry_on;
	uint64_t rate;
	uint32_t match;
	char path[16];
	struct t_sub sub;
	uint8_t nbackends, nnames, _pad[2];
	struct t_item backends[2];
	char names[3][8];
	struct mf_ref peer;
	uint64_t big;
	uint32_t idle;
	uint32_t note;			/* mf_strings id */
};

struct t_rec {
	struct mf_pol_hdr hdr;
	struct t_conf conf;
};

static const char *t_path_check(const char *s)
{
	return s[0] == '/' ? NULL : "must start with /";
}

static const struct sch_field t_sub_fields[] = {
	SCH_F_BOOL("active", t_sub, active),
	SCH_F_INT("limit", t_sub, limit, 0, 0),
};

static const char *t_sub_check(const void *obj)
{
	return sch_has(obj, 1) && !sch_has(obj, 0) ? "limit requires active" :
						     NULL;
}

static const struct sch_object t_sub_obj =
	SCH_OBJECT_INIT("sub", t_sub_fields, .check = t_sub_check);

/* An inline ref, as in Kuma's backendRefs: kind, name and tags are keys
 * of the item itself. */
static const struct sch_field t_item_fields[] = {
	SCH_F(NULL, SCH_REF, t_item, ref, SCH_REQUIRED,
	      .ref_kinds = KIND_REF(MF_REF_MESH_SERVICE) |
			   KIND_REF(MF_REF_MESH_SERVICE_SUBSET)),
	SCH_F_INT("port", t_item, port, 0, 0),
	SCH_F_INT("weight", t_item, weight, 1, 100),
};

static const struct sch_object t_item_obj =
	SCH_OBJECT_INIT("backend", t_item_fields);

static const struct sch_field t_name_item[] = {
	SCH_ITEM(SCH_STRING, SCH_SIZEOF(t_conf, names[0])),
};

static const struct sch_object t_names_obj =
	SCH_OBJECT_INIT("name", t_name_item, .scalar = true);

static const char *const t_modes[] = { "Fast", "Slow", NULL };
static const char *const t_retry_on[] = { "5xx", "reset", "connect-failure",
					  NULL };

/* The field that keeps its string out of line. */
enum { T_NOTE = 16 };

/* Field i is bit i of `present`, which the cases below spell out; the
 * order is not quite the struct's (rate before retryOn). */
static const struct sch_field t_conf_fields[] = {
	SCH_F_BOOL("enabled", t_conf, enabled),
	SCH_F_ENUM("mode", t_conf, mode, t_modes),
	SCH_F_PORT("port", t_conf, port),
	SCH_F_DURATION("timeout", t_conf, timeout, SCH_RANGE(1000, 3600000)),
	SCH_F_PERCENT("percent", t_conf, percent),
	SCH_F_DECIMAL("factor", t_conf, factor, 1000, 10000),
	SCH_F_BANDWIDTH("rate", t_conf, rate),
	SCH_F_FLAGS("retryOn", t_conf, retry_on, t_retry_on),
	SCH_F_TAGS("match", t_conf, match),
	SCH_F_STRING("path", t_conf, path, .check = t_path_check),
	SCH_F_OBJECT("sub", t_conf, sub, &t_sub_obj),
	SCH_F_LIST("backends", t_conf, backends, &t_item_obj),
	SCH_F_LIST("names", t_conf, names, &t_names_obj),
	SCH_F("peer", SCH_REF, t_conf, peer,
	      .ref_kinds = KIND_REF(MF_REF_MESH_SERVICE) |
			   KIND_REF(MF_REF_MESH_SUBSET)),
	SCH_F_INT("big", t_conf, big, 0, 0),
	SCH_F_DURATION("idle", t_conf, idle),
	[T_NOTE] = SCH_F_STRREF("note", t_conf, note, .check = t_path_check),
};

/* A rule that reads the string a field keeps out of line. */
static const char *t_conf_strs_check(const void *obj,
				     const struct sch_ids *ids)
{
	const struct t_conf *c = obj;
	size_t len = 0;
	const char *note = sch_has(c, T_NOTE) ? sch_str(ids, c->note, &len) :
						NULL;

	return note && len == 4 && !strcmp(note, "/etc") ?
		       "note must not be /etc" : NULL;
}

static const struct sch_object t_conf_obj =
	SCH_OBJECT_INIT("TestKind default", t_conf_fields,
			.check_strs = t_conf_strs_check);

/* The test kind in form @form_ with sections @sec_: the forms and the
 * section rules each need a kind of their own. */
#define T_KIND(form_, sec_)                                                   \
	{                                                                     \
		.name = "TestKind", .plural = "testkinds", .form = (form_),   \
		.sections = (sec_),                                           \
		.target_kinds = KIND_REF(MF_REF_MESH) |                       \
				KIND_REF(MF_REF_MESH_SUBSET) |                \
				KIND_REF(MF_REF_MESH_SERVICE) |               \
				KIND_REF(MF_REF_WORKLOAD),                    \
		.to_kinds = KIND_TO_SERVICE,                                  \
		.from_kinds = KIND_REF(MF_REF_MESH),                          \
		KIND_RECORD(t_rec, conf, &t_conf_obj),                        \
	}
#define T_TO_FROM (KIND_SEC_TO | KIND_SEC_FROM)

static const struct kind_desc t_kind = T_KIND(KIND_FORM_TO_FROM, T_TO_FROM),
	t_from_only = T_KIND(KIND_FORM_TO_FROM, KIND_SEC_FROM),
	t_to_only = T_KIND(KIND_FORM_TO_FROM, KIND_SEC_TO),
	t_route = T_KIND(KIND_FORM_ROUTE, T_TO_FROM),
	t_route_no_rules = T_KIND(KIND_FORM_ROUTE,
				  T_TO_FROM | KIND_SEC_ENTRY_NO_RULES),
	t_default = T_KIND(KIND_FORM_DEFAULT, T_TO_FROM),
	t_sources = T_KIND(KIND_FORM_SOURCES, T_TO_FROM),
	t_selectors = T_KIND(KIND_FORM_SELECTORS, T_TO_FROM);

/* ---- helpers ----------------------------------------------------------- */

/*
 * Parses @yaml as a policy of @kd.  The test kinds are not registered, so
 * their documents are a bare `spec` that goes to pdoc_parse() directly,
 * into @o ("s.yaml"); a real kind's is a whole document, which
 * doc_parse_buffer() adds to @set (KH_FILE), and @o stays empty.
 */
static int t_parse(const struct kind_desc *kd, const char *yaml,
		   struct model_set *set, struct model_obj *o, struct diag *d)
{
	struct doc_ctx c = { .d = d };
	struct ytree t;
	const struct ynode *spec;
	int err;

	memset(o, 0, sizeof(*o));
	if (kd->conf != &t_conf_obj)
		return doc_parse_buffer(set, KH_FILE, yaml, strlen(yaml), d);
	o->kind = MODEL_GEN_FIRST;
	strcpy(o->name, "p");
	o->pol.kd = kd;
	err = ytree_parse(&t, "s.yaml", yaml, strlen(yaml), d);
	if (err)
		return err;
	spec = doc_get(t.docs[0].root, "spec");
	err = spec ? pdoc_parse(&c, set, o, spec) : -EINVAL;
	ytree_free(&t);
	if (err)
		return err;
	return c.errors ? -EINVAL : 0;
}

static void t_pol_free(struct model_obj *o)
{
	free(o->pol.recs);
	free(o->pol.refs);
	o->pol.recs = NULL;
	o->pol.refs = NULL;
}

/* @yaml fails for @kd with exactly the one message @want, and adds no
 * object to the set. */
static bool t_expect(const struct kind_desc *kd, const char *yaml,
		     const char *want)
{
	struct model_set set;
	struct model_obj o;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(t_parse(kd, yaml, &set, &o, &d), -EINVAL) &&
	     ASSERT_EQ(diag_count(&d), 1) && ASSERT_STREQ(d.msgs[0], want) &&
	     ASSERT_EQ(set.n, 0);
	if (!ok) {
		fprintf(stderr, "  want: %s\n", want);
		kh_print_diag(&d);
	}
	t_pol_free(&o);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

struct t_bad {
	const char *yaml;
	const char *want;		/* the one message it gives */
	const struct kind_desc *kd;
};

/* Defines test @fn: each struct t_bad of the arguments fails with its
 * one message.  All are run, so one run shows every mismatch. */
#define T_TEST_BAD(fn, ...)                                                   \
	static bool fn(void)                                                  \
	{                                                                     \
		static const struct t_bad c_[] = { __VA_ARGS__ };             \
		bool ok = true;                                               \
                                                                              \
		for (size_t i = 0; i < KH_NCASES(c_); i++)                    \
			ok &= t_expect(c_[i].kd, c_[i].yaml, c_[i].want);     \
		return ok;                                                    \
	}

/* @yaml parses for @kd into @o without any problem. */
static bool t_ok(const struct kind_desc *kd, const char *yaml,
		 struct model_set *set, struct model_obj *o)
{
	struct diag d;
	int err;

	diag_init(&d);
	err = t_parse(kd, yaml, set, o, &d);
	kh_print_diag(&d);
	diag_free(&d);
	return ASSERT_EQ(err, 0);
}

/* The spec of @o, rendered, into a malloc'ed string: JSON, or the YAML
 * lines under "spec:" (indented). */
static char *t_emit(const struct model_set *set, const struct model_obj *o,
		    bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct emit e;

	if (!f)
		return NULL;
	emit_init(&e, json ? EMIT_JSON : EMIT_YAML, emit_to_file, f);
	if (!json) {
		emit_map_begin(&e);
		emit_key(&e, "spec");
	}
	render_spec(&e, set, o);
	if (!json)
		emit_map_end(&e);
	fclose(f);
	if (!json && buf && !strncmp(buf, "spec:\n", 6))
		memmove(buf, buf + 6, strlen(buf + 6) + 1);
	return buf;
}

/* The spec of @o renders (as t_emit()) to @want. */
static bool t_emit_is(const struct model_set *set, const struct model_obj *o,
		      bool json, const char *want)
{
	char *text = t_emit(set, o, json);
	bool ok = ASSERT_TRUE(text) && ASSERT_STREQ(text, want);

	if (!ok && text)
		fprintf(stderr, "  emitted:\n%s\n", text);
	free(text);
	return ok;
}

/*
 * @yaml parses for @kd; its YAML, which is @want unless that is NULL,
 * reads back to the same records, and that YAML's own YAML is the same
 * text.  *@text gets that text (caller frees) when @text is not NULL.
 */
static bool t_round_trip(const struct kind_desc *kd, const char *yaml,
			 const char *want, char **text)
{
	struct model_set set;
	struct model_obj a, b;
	char *y1 = NULL, *y2 = NULL, *doc = NULL;
	bool ok;

	model_set_init(&set);
	memset(&b, 0, sizeof(b));
	ok = t_ok(kd, yaml, &set, &a);
	y1 = ok ? t_emit(&set, &a, false) : NULL;
	if (y1 && asprintf(&doc, "spec:\n%s", y1) < 0)
		doc = NULL;
	ok = ok && ASSERT_TRUE(doc) && t_ok(kd, doc, &set, &b) &&
	     ASSERT_EQ(a.pol.n, b.pol.n) &&
	     ASSERT_MEMEQ(a.pol.recs, b.pol.recs, a.pol.n * kd->val_size);
	y2 = ok ? t_emit(&set, &b, false) : NULL;
	ok = ok && ASSERT_TRUE(y2) && ASSERT_STREQ(y1, y2) &&
	     (!want || ASSERT_STREQ(y1, want));
	if (!ok && y1)
		fprintf(stderr, "  emitted:\n%s", y1);
	if (ok && text) {
		*text = y1;
		y1 = NULL;
	}
	free(y1);
	free(y2);
	free(doc);
	t_pol_free(&a);
	t_pol_free(&b);
	model_set_free(&set);
	return ok;
}

/* ---- text forms -------------------------------------------------------- */

/* Durations (ms), thousandths and bandwidths (bits/s), all as uint64_t so
 * that one loop checks the three. */
enum t_form { T_DURATION, T_MILLI, T_BANDWIDTH };

struct t_text {
	const char *s;
	int err;	/* what parsing @s returns */
	uint64_t v;	/* and the value it gives, when err is 0 */
};

/* @v is written as @s, which parses back to @v. */
struct t_fmt {
	uint64_t v;
	const char *s;
};

static int t_form_parse(enum t_form form, const char *s, uint64_t *v)
{
	uint32_t u = 7;
	int err;

	if (form == T_BANDWIDTH)
		return sch_parse_bandwidth(s, v);
	err = form == T_DURATION ? sch_parse_duration(s, &u) :
				   sch_parse_milli(s, &u);
	*v = u;
	return err;
}

static const char *t_form_fmt(enum t_form form, char *buf, size_t n,
			      uint64_t v)
{
	if (form == T_BANDWIDTH)
		return sch_fmt_bandwidth(buf, n, v);
	return form == T_DURATION ? sch_fmt_duration(buf, n, v) :
				    sch_fmt_milli(buf, n, v);
}

/* Every case of @cases and @fmt holds; all are run. */
static bool t_form_check(enum t_form form, const struct t_text *cases,
			 size_t ncases, const struct t_fmt *fmt, size_t nfmt)
{
	char buf[32];
	bool ok = true;

	for (size_t i = 0; i < ncases; i++) {
		uint64_t v = 7;
		int err = t_form_parse(form, cases[i].s, &v);

		if (!ASSERT_EQ(err, cases[i].err) ||
		    (!err && !ASSERT_EQ(v, cases[i].v))) {
			fprintf(stderr, "  case \"%s\"\n", cases[i].s);
			ok = false;
		}
	}
	for (size_t i = 0; i < nfmt; i++) {
		uint64_t back = 7;

		if (!ASSERT_STREQ(t_form_fmt(form, buf, sizeof(buf), fmt[i].v),
				  fmt[i].s) ||
		    !ASSERT_EQ(t_form_parse(form, buf, &back), 0) ||
		    !ASSERT_EQ(back, fmt[i].v))
			ok = false;
	}
	return ok;
}

#define T_FORM_CHECK(form, cases, fmt)                                        \
	t_form_check(form, cases, KH_NCASES(cases), fmt, KH_NCASES(fmt))

static bool test_duration(void)
{
	static const struct t_text cases[] = {
		{ "10s", 0, 10000 },	    { "1m30s", 0, 90000 },
		{ "250ms", 0, 250 },	    { "1h", 0, 3600000 },
		{ "0s", 0, 0 },		    { "0", 0, 0 },
		{ "1h1m1s1ms", 0, 3661001 }, { "1.5s", 0, 1500 },
		{ "0.5h", 0, 1800000 },	    { "4294967295ms", 0, UINT32_MAX },
		{ "4294967296ms", -ERANGE, 0 }, { "1194h", -ERANGE, 0 },
		{ "99999999999999999999h", -ERANGE, 0 },
		{ "", -EINVAL, 0 },	    { "10", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },	    { "1.5ms", -EINVAL, 0 },
		{ "0.0001s", -EINVAL, 0 },	    { "10us", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },	    { "1d", -EINVAL, 0 },
		{ "1s ", -EINVAL, 0 },	    { " 1s", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 },	    { "1m30", -EINVAL, 0 },
	};
	static const struct t_fmt fmt[] = {
		{ 3600000, "1h" }, { 90000, "90s" }, { 1500, "1500ms" },
		{ 0, "0s" }, { 60000, "1m" }, { 5400000, "90m" },
		{ 7200000, "2h" }, { 1000, "1s" }, { 1, "1ms" },
		{ UINT32_MAX, "4294967295ms" },
	};

	return T_FORM_CHECK(T_DURATION, cases, fmt);
}

static bool test_milli(void)
{
	static const struct t_text cases[] = {
		{ "12.5", 0, 12500 },	{ "12", 0, 12000 },
		{ "0.001", 0, 1 },	{ "100", 0, 100000 },
		{ "1.25", 0, 1250 },	{ "0", 0, 0 },
		{ "4294967.295", 0, UINT32_MAX },
		{ "4294967.296", -ERANGE, 0 }, { "99999999999", -ERANGE, 0 },
		{ "1.2345", -EINVAL, 0 },	{ "", -EINVAL, 0 },
		{ ".5", -EINVAL, 0 },	{ "5.", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },	{ "1e3", -EINVAL, 0 },
		{ "12%", -EINVAL, 0 },	{ "1.2.3", -EINVAL, 0 },
	};
	static const struct t_fmt fmt[] = {
		{ 12500, "12.5" }, { 100000, "100" }, { 1, "0.001" },
		{ 1900, "1.9" },   { 0, "0" },	      { 1230, "1.23" },
	};

	return T_FORM_CHECK(T_MILLI, cases, fmt);
}

static bool test_bandwidth(void)
{
	static const struct t_text cases[] = {
		{ "10kbps", 0, 10000 },	      { "5Mbps", 0, 5000000 },
		{ "1Gbps", 0, 1000000000 },   { "800bps", 0, 800 },
		{ "0bps", 0, 0 },	      { "5mbps", 0, 5000000 },
		{ "18446744073709551615bps", 0, UINT64_MAX },
		{ "18446744073709551616bps", -ERANGE, 0 },
		{ "18446744074Gbps", -ERANGE, 0 },
		{ "5", -EINVAL, 0 },	      { "Mbps", -EINVAL, 0 },
		{ "5 Mbps", -EINVAL, 0 },	      { "5MB", -EINVAL, 0 },
		{ "1.5Mbps", -EINVAL, 0 },	      { "", -EINVAL, 0 },
	};
	static const struct t_fmt fmt[] = {
		{ 10000, "10kbps" },	 { 5000000, "5Mbps" },
		{ 1000000000, "1Gbps" }, { 800, "800bps" },
		{ 0, "0bps" },		 { 1500000, "1500kbps" },
		{ 2000000000000ull, "2000Gbps" },
	};

	return T_FORM_CHECK(T_BANDWIDTH, cases, fmt);
}

/* ---- parse, emit, JSON ------------------------------------------------- */

static const char t_full[] =
	"spec:\n"
	"  targetRef:\n"
	"    kind: MeshSubset\n"
	"    tags: {zone: a, version: v1}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        enabled: true\n"
	"        mode: Slow\n"
	"        port: 8080\n"
	"        timeout: 1m30s\n"
	"        percent: 12.5\n"
	"        factor: \"1.9\"\n"
	"        rate: 5Mbps\n"
	"        retryOn: [reset, 5xx]\n"
	"        match: {kuma.io/service: web, version: \"*\"}\n"
	"        path: /api\n"
	"        sub: {active: false, limit: 7}\n"
	"        backends:\n"
	"          - {kind: MeshService, name: b1, weight: 90}\n"
	"          - {kind: MeshServiceSubset, name: b2,\n"
	"             tags: {version: v2}, port: 81, weight: 10}\n"
	"        names: [a, \"b c\"]\n"
	"        peer: {kind: MeshService, name: peer}\n"
	"        big: 18446744073709551615\n"
	"        idle: 0s\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {sub: {}, backends: []}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {}\n";

static bool test_parse_records(void)
{
	struct model_set set;
	struct model_obj o;
	const struct t_rec *r;
	const struct mf_tagset *ts;
	bool ok;

	model_set_init(&set);
	ok = t_ok(&t_kind, t_full, &set, &o) && ASSERT_EQ(o.pol.n, 3);
	if (!ok)
		goto out;
	r = (const struct t_rec *)o.pol.recs;
	ts = model_tags_get(&set, r[0].hdr.target.tags);
	ok = ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.entry, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     ASSERT_TRUE(ts) && ASSERT_EQ(ts->n, 2) &&
	     ASSERT_STREQ(ts->tags[0].key, "version") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "web") &&
	     ASSERT_EQ(r[0].conf.present, 0xffff) &&
	     ASSERT_EQ(r[0].conf.enabled, 1) && ASSERT_EQ(r[0].conf.mode, 2) &&
	     ASSERT_EQ(r[0].conf.port, 8080) &&
	     ASSERT_EQ(r[0].conf.timeout, 90000) &&
	     ASSERT_EQ(r[0].conf.percent, 12500) &&
	     ASSERT_EQ(r[0].conf.factor, 1900) &&
	     ASSERT_EQ(r[0].conf.rate, 5000000) &&
	     ASSERT_EQ(r[0].conf.retry_on, 3) &&
	     ASSERT_NE(r[0].conf.match, 0) &&
	     ASSERT_STREQ(r[0].conf.path, "/api") &&
	     ASSERT_EQ(r[0].conf.sub.present, 3) &&
	     ASSERT_EQ(r[0].conf.sub.active, 0) &&
	     ASSERT_EQ(r[0].conf.sub.limit, 7) &&
	     ASSERT_EQ(r[0].conf.nbackends, 2) &&
	     ASSERT_EQ(r[0].conf.backends[0].present, 5) &&
	     ASSERT_STREQ(r[0].conf.backends[0].ref.name, "b1") &&
	     ASSERT_EQ(r[0].conf.backends[1].present, 7) &&
	     ASSERT_EQ(r[0].conf.backends[1].ref.kind,
		       MF_REF_MESH_SERVICE_SUBSET) &&
	     ASSERT_NE(r[0].conf.backends[1].ref.tags, 0) &&
	     ASSERT_EQ(r[0].conf.backends[1].port, 81) &&
	     ASSERT_EQ(r[0].conf.nnames, 2) &&
	     ASSERT_STREQ(r[0].conf.names[1], "b c") &&
	     ASSERT_STREQ(r[0].conf.peer.name, "peer") &&
	     ASSERT_TRUE(r[0].conf.big == UINT64_MAX) &&
	     ASSERT_EQ(r[0].conf.idle, 0) &&
	     /* to[1]: an empty object and an empty list are present */
	     ASSERT_EQ(r[1].hdr.entry, 1) &&
	     ASSERT_EQ(r[1].conf.present, (1u << 10) | (1u << 11)) &&
	     ASSERT_EQ(r[2].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[2].hdr.entry, 0) && ASSERT_EQ(r[2].conf.present, 0) &&
	     /* spec.targetRef is in every record */
	     ASSERT_EQ(r[2].hdr.target.tags, r[0].hdr.target.tags);
	if (!ok)
		goto out;
	/* Where each ref was written: target + entry ref per record, then
	 * the 3 refs of record 0's conf. */
	ok = ASSERT_EQ(o.pol.nrefs, 9);
	for (size_t i = 0; ok && i < o.pol.nrefs; i++) {
		const struct model_ref_loc *l = &o.pol.refs[i];

		if (l->rec == 0 && l->off == offsetof(struct t_rec, hdr.target))
			ok = ASSERT_STREQ(l->path, "spec.targetRef") &&
			     ASSERT_EQ(l->loc.line, 3) &&
			     ASSERT_EQ(l->loc.col, 5);
		if (l->rec == 0 && l->off == offsetof(struct t_rec, hdr.ref))
			ok = ASSERT_STREQ(l->path, "spec.to[0].targetRef") &&
			     ASSERT_EQ(l->loc.line, 6) &&
			     ASSERT_EQ(l->loc.col, 18);
		if (l->rec == 0 &&
		    l->off == offsetof(struct t_rec, conf.backends[1].ref))
			ok = ASSERT_STREQ(l->path,
					  "spec.to[0].default.backends[1]") &&
			     ASSERT_EQ(l->loc.line, 21) &&
			     ASSERT_EQ(l->loc.col, 13);
		if (l->rec == 0 && l->off == offsetof(struct t_rec, conf.peer))
			ok = ASSERT_STREQ(l->path, "spec.to[0].default.peer");
		if (l->rec == 2 && l->off == offsetof(struct t_rec, hdr.ref))
			ok = ASSERT_STREQ(l->path, "spec.from[0].targetRef");
	}
out:
	t_pol_free(&o);
	model_set_free(&set);
	return ok;
}

static bool test_emit_yaml(void)
{
	static const char want[] =
		"  targetRef:\n"
		"    kind: MeshSubset\n"
		"    tags:\n"
		"      version: v1\n"
		"      zone: a\n"
		"  to:\n"
		"    - targetRef:\n"
		"        kind: MeshService\n"
		"        name: web\n"
		"      default:\n"
		"        enabled: true\n"
		"        mode: Slow\n"
		"        port: 8080\n"
		"        timeout: 90s\n"
		"        percent: 12.5\n"
		"        factor: 1.9\n"
		"        rate: 5Mbps\n"
		"        retryOn:\n"
		"          - 5xx\n"
		"          - reset\n"
		"        match:\n"
		"          kuma.io/service: web\n"
		"          version: \"*\"\n"
		"        path: /api\n"
		"        sub:\n"
		"          active: false\n"
		"          limit: 7\n"
		"        backends:\n"
		"          - kind: MeshService\n"
		"            name: b1\n"
		"            weight: 90\n"
		"          - kind: MeshServiceSubset\n"
		"            name: b2\n"
		"            tags:\n"
		"              version: v2\n"
		"            port: 81\n"
		"            weight: 10\n"
		"        names:\n"
		"          - a\n"
		"          - \"b c\"\n"
		"        peer:\n"
		"          kind: MeshService\n"
		"          name: peer\n"
		"        big: 18446744073709551615\n"
		"        idle: 0s\n"
		"    - targetRef:\n"
		"        kind: Mesh\n"
		"      default:\n"
		"        sub: {}\n"
		"        backends: []\n"
		"  from:\n"
		"    - targetRef:\n"
		"        kind: Mesh\n"
		"      default: {}\n";

	return t_round_trip(&t_kind, t_full, want, NULL);
}

static bool test_emit_json(void)
{
	static const char want[] =
		"{\"targetRef\": {\"kind\": \"MeshSubset\", \"tags\": "
		"{\"version\": \"v1\", \"zone\": \"a\"}}, \"to\": ["
		"{\"targetRef\": {\"kind\": \"MeshService\", \"name\": \"web\"}, "
		"\"default\": {\"enabled\": true, \"mode\": \"Slow\", "
		"\"port\": 8080, \"timeout\": \"90s\", \"percent\": 12.5, "
		"\"factor\": 1.9, \"rate\": \"5Mbps\", "
		"\"retryOn\": [\"5xx\", \"reset\"], \"match\": "
		"{\"kuma.io/service\": \"web\", \"version\": \"*\"}, "
		"\"path\": \"/api\", \"sub\": {\"active\": false, \"limit\": 7}, "
		"\"backends\": [{\"kind\": \"MeshService\", \"name\": \"b1\", "
		"\"weight\": 90}, {\"kind\": \"MeshServiceSubset\", "
		"\"name\": \"b2\", \"tags\": {\"version\": \"v2\"}, "
		"\"port\": 81, \"weight\": 10}], \"names\": [\"a\", \"b c\"], "
		"\"peer\": {\"kind\": \"MeshService\", \"name\": \"peer\"}, "
		"\"big\": 18446744073709551615, \"idle\": \"0s\"}}, "
		"{\"targetRef\": {\"kind\": \"Mesh\"}, \"default\": "
		"{\"sub\": {}, \"backends\": []}}], "
		"\"from\": [{\"targetRef\": {\"kind\": \"Mesh\"}, "
		"\"default\": {}}]}";
	struct model_set set;
	struct model_obj o;
	bool ok;

	model_set_init(&set);
	ok = t_ok(&t_kind, t_full, &set, &o) && t_emit_is(&set, &o, true, want);
	t_pol_free(&o);
	model_set_free(&set);
	return ok;
}

/* sch_emit escapes strings and, without a tags resolver, prints ids. */
static bool test_json_escape(void)
{
	struct t_conf c;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct emit e;
	bool ok;

	memset(&c, 0, sizeof(c));
	c.present = (1u << 9) | (1u << 8) | (1u << 1);
	strcpy(c.path, "/a\"b\\c\n");
	c.match = 42;
	c.mode = 9;	/* not a name: printed as the number */
	if (!ASSERT_TRUE(f))
		return false;
	emit_init(&e, EMIT_JSON, emit_to_file, f);
	sch_emit(&e, &t_conf_obj, &c, NULL);
	fclose(f);
	ok = ASSERT_STREQ(buf, "{\"mode\": 9, \"match\": 42, "
			       "\"path\": \"/a\\\"b\\\\c\\u000a\"}");
	free(buf);
	return ok;
}

/* A string that needs quotes and escapes reads back the same. */
static bool test_emit_quoting(void)
{
	char *text = NULL;
	bool ok;

	ok = t_round_trip(&t_kind,
			  "spec:\n  to:\n    - targetRef: {kind: Mesh}\n"
			  "      default:\n"
			  "        path: \"/a: b\\\"#\\t\"\n"
			  "        names: [\"true\", \"12\", \"y\"]\n",
			  NULL, &text) &&
	     ASSERT_TRUE(strstr(text, "path: \"/a: b\\\"#\\x09\"\n")) &&
	     ASSERT_TRUE(strstr(text, "- \"true\"\n")) &&
	     ASSERT_TRUE(strstr(text, "- \"12\"\n")) &&
	     ASSERT_TRUE(strstr(text, "- \"y\"\n"));
	free(text);
	return ok;
}

/* Every form writes YAML that reads back to the same records. */
static bool test_forms_round_trip(void)
{
	static const struct {
		const struct kind_desc *kd;
		const char *yaml, *want;
	} forms[] = {
		{ &t_route,
		  "spec:\n  targetRef: {kind: Workload, name: w-1}\n"
		  "  to:\n"
		  "    - targetRef: {kind: MeshService, name: a}\n"
		  "      rules:\n"
		  "        - {port: 1, sub: {active: true}}\n"
		  "        - {}\n"
		  "    - targetRef: {kind: Mesh}\n"
		  "      rules: [{names: [x]}]\n",
		  "  targetRef:\n"
		  "    kind: Dataplane\n"
		  "    name: w-1\n"
		  "  to:\n"
		  "    - targetRef:\n"
		  "        kind: MeshService\n"
		  "        name: a\n"
		  "      rules:\n"
		  "        - port: 1\n"
		  "          sub:\n"
		  "            active: true\n"
		  "        - {}\n"
		  "    - targetRef:\n"
		  "        kind: Mesh\n"
		  "      rules:\n"
		  "        - names:\n"
		  "            - x\n" },
		{ &t_default, "spec:\n  default: {port: 9}\n",
		  "  targetRef:\n    kind: Mesh\n  default:\n    port: 9\n" },
		{ &t_sources,
		  "spec:\n  sources: [{match: {a: b}}, {match: {c: d}}]\n"
		  "  destinations: [{match: {e: f}}]\n"
		  "  conf: {port: 9}\n",
		  "  sources:\n"
		  "    - match:\n        a: b\n"
		  "    - match:\n        c: d\n"
		  "  destinations:\n"
		  "    - match:\n        e: f\n"
		  "  conf:\n    port: 9\n" },
		{ &t_selectors,
		  "spec:\n  selectors: [{match: {a: b}}]\n  conf: {}\n",
		  "  selectors:\n    - match:\n        a: b\n  conf: {}\n" },
	};
	bool ok = true;

	for (size_t i = 0; i < KH_NCASES(forms); i++)
		ok &= t_round_trip(forms[i].kd, forms[i].yaml, forms[i].want,
				   NULL);
	return ok;
}

/* Every key a targetRef may have comes back as written: labels instead
 * of a name, a namespace with one, sectionName and proxyTypes. */
static bool test_ref_shapes_round_trip(void)
{
	return t_round_trip(&t_kind,
		"spec:\n"
		"  targetRef: {kind: Dataplane, labels: {app: web}, "
		"sectionName: http}\n"
		"  to:\n"
		"    - targetRef: {kind: MeshService, name: api, namespace: "
		"shop, sectionName: \"8080\"}\n"
		"      default: {}\n"
		"  from:\n"
		"    - targetRef: {kind: Mesh, proxyTypes: [Gateway, Sidecar]}\n"
		"      default: {}\n",
		"  targetRef:\n"
		"    kind: Dataplane\n"
		"    labels:\n"
		"      app: web\n"
		"    sectionName: http\n"
		"  to:\n"
		"    - targetRef:\n"
		"        kind: MeshService\n"
		"        name: api\n"
		"        namespace: shop\n"
		"        sectionName: \"8080\"\n"
		"      default: {}\n"
		"  from:\n"
		"    - targetRef:\n"
		"        kind: Mesh\n"
		"        proxyTypes:\n"
		"          - Sidecar\n"
		"          - Gateway\n"
		"      default: {}\n", NULL) &&
	       t_round_trip(&t_kind,
		"spec:\n  targetRef: {kind: MeshSubset}\n"
		"  from: [{targetRef: {kind: Mesh}, default: {}}]\n",
		"  targetRef:\n    kind: MeshSubset\n"
		"  from:\n    - targetRef:\n        kind: Mesh\n"
		"      default: {}\n", NULL);
}

/* A route kind whose entries may have no rules: one record for such an
 * entry (`rules: []`), marked MF_ROUTE_NO_RULES, with a zero conf; the
 * other entries keep a record per rule.  rules itself is required, as in
 * Kuma's schema. */
static bool test_route_entry_no_rules(void)
{
	struct model_set set;
	struct model_obj o;
	const struct t_rec *r;
	bool ok;

	model_set_init(&set);
	memset(&o, 0, sizeof(o));
	ok = t_ok(&t_route_no_rules,
		  "spec:\n  to:\n"
		  "    - targetRef: {kind: MeshService, name: a}\n"
		  "      rules: []\n"
		  "    - targetRef: {kind: Mesh}\n"
		  "      rules: [{port: 3}]\n"
		  "    - targetRef: {kind: MeshService, name: b}\n"
		  "      rules: []\n",
		  &set, &o) &&
	     ASSERT_EQ(o.pol.n, 3);
	r = ok ? (const struct t_rec *)o.pol.recs : NULL;
	ok = ok && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.entry, 0) &&
	     ASSERT_EQ(r[0].hdr.rule, MF_ROUTE_NO_RULES) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "a") &&
	     ASSERT_EQ(r[0].conf.present, 0) &&
	     ASSERT_EQ(r[1].hdr.entry, 1) && ASSERT_EQ(r[1].hdr.rule, 0) &&
	     ASSERT_EQ(r[1].conf.port, 3) &&
	     ASSERT_EQ(r[2].hdr.entry, 2) &&
	     ASSERT_EQ(r[2].hdr.rule, MF_ROUTE_NO_RULES) &&
	     ASSERT_STREQ(r[2].hdr.ref.name, "b") &&
	     ASSERT_EQ(r[2].conf.present, 0) &&
	     ASSERT_TRUE(!kind_rec_check(&t_route_no_rules, &r[0]));
	t_pol_free(&o);
	model_set_free(&set);
	return ok;
}

/* The records of each form: headers, sections, indices. */
static bool test_forms_records(void)
{
	struct model_set set;
	struct model_obj o, p;
	const struct t_rec *r;
	bool ok;

	model_set_init(&set);
	memset(&p, 0, sizeof(p));
	ok = t_ok(&t_route,
		  "spec:\n  to:\n"
		  "    - targetRef: {kind: MeshService, name: a}\n"
		  "      rules: [{port: 1}, {port: 2}]\n"
		  "    - targetRef: {kind: Mesh}\n"
		  "      rules: [{port: 3}]\n",
		  &set, &o) &&
	     ASSERT_EQ(o.pol.n, 3);
	r = ok ? (const struct t_rec *)o.pol.recs : NULL;
	ok = ok && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[1].hdr.entry, 0) && ASSERT_EQ(r[1].hdr.rule, 1) &&
	     ASSERT_STREQ(r[1].hdr.ref.name, "a") &&
	     ASSERT_EQ(r[1].conf.port, 2) && ASSERT_EQ(r[2].hdr.entry, 1) &&
	     ASSERT_EQ(r[2].hdr.rule, 0) &&
	     ASSERT_EQ(r[2].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[2].hdr.section, MF_SEC_TO);
	ok = ok && t_ok(&t_sources,
			"spec:\n  sources: [{match: {a: b}}, {match: {c: d}}]\n"
			"  destinations: [{match: {a: b}}]\n  conf: {}\n",
			&set, &p) &&
	     ASSERT_EQ(p.pol.n, 1);
	r = ok ? (const struct t_rec *)p.pol.recs : NULL;
	ok = ok && ASSERT_EQ(r->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(r->hdr.nsources, 2) &&
	     ASSERT_EQ(r->hdr.ndestinations, 1) &&
	     ASSERT_EQ(r->hdr.sources[0], r->hdr.destinations[0]) &&
	     ASSERT_NE(r->hdr.sources[0], r->hdr.sources[1]) &&
	     ASSERT_EQ(r->hdr.target.kind, 0);
	t_pol_free(&o);
	t_pol_free(&p);
	model_set_free(&set);
	return ok;
}

/* ---- MeshTimeout through the whole document path ----------------------- */

static const char mt_doc[] =
	KH_DOC("MeshTimeout", "t1")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        connectionTimeout: 2s\n"
	"        idleTimeout: 1h\n"
	"        http: {requestTimeout: 15s, streamIdleTimeout: 30m,\n"
	"               maxStreamDuration: 1500ms}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {idleTimeout: 90s}\n";

/* mt_doc's spec as render_spec() writes it, after a header of its own, so
 * that the whole reads back as the same policy. */
#define MT_HEAD                                                               \
	"apiVersion: meshforge.io/v1alpha1\nkind: MeshTimeout\n"              \
	"metadata:\n  name: t1\nspec:\n"

static const char mt_again[] =
	MT_HEAD
	"  targetRef:\n"
	"    kind: Mesh\n"
	"  to:\n"
	"    - targetRef:\n"
	"        kind: MeshService\n"
	"        name: web\n"
	"      default:\n"
	"        connectionTimeout: 2s\n"
	"        idleTimeout: 1h\n"
	"        http:\n"
	"          requestTimeout: 15s\n"
	"          streamIdleTimeout: 30m\n"
	"          maxStreamDuration: 1500ms\n"
	"  from:\n"
	"    - targetRef:\n"
	"        kind: Mesh\n"
	"      default:\n"
	"        idleTimeout: 90s\n";

static bool test_mesh_timeout_round_trip(void)
{
	const char *spec = mt_again + strlen(MT_HEAD);
	const struct mf_timeout *r, *back = NULL;
	struct model_set a, b;
	bool ok;

	model_set_init(&b);
	r = kh_policy(mt_doc, &a, &kind_mesh_timeout, 2);
	ok = r && ASSERT_EQ(r[0].conf.connection_timeout, 2000) &&
	     ASSERT_EQ(r[0].conf.idle_timeout, 3600000) &&
	     ASSERT_EQ(r[0].conf.http.request_timeout, 15000) &&
	     ASSERT_EQ(r[0].conf.http.stream_idle_timeout, 1800000) &&
	     ASSERT_EQ(r[0].conf.http.max_stream_duration, 1500) &&
	     ASSERT_EQ(r[0].conf.http.present, 7) &&
	     ASSERT_EQ(r[0].conf.present, 7) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].conf.present, 2) &&
	     ASSERT_EQ(r[1].conf.idle_timeout, 90000) &&
	     t_emit_is(&a, &a.objs[0], false, spec);
	if (ok)
		back = kh_policy(mt_again, &b, &kind_mesh_timeout, 2);
	ok = back && ASSERT_MEMEQ(back, r, 2 * sizeof(*r)) &&
	     ASSERT_TRUE(model_obj_equal(&a.objs[0], &b.objs[0])) &&
	     t_emit_is(&b, &b.objs[0], false, spec);
	model_set_free(&a);
	model_set_free(&b);
	return ok;
}

static bool test_mesh_timeout_json(void)
{
	struct model_set a;
	bool ok;

	ok = kh_policy(mt_doc, &a, &kind_mesh_timeout, 2) &&
	     t_emit_is(&a, &a.objs[0], true,
		       "{\"targetRef\": {\"kind\": \"Mesh\"}, \"to\": ["
		       "{\"targetRef\": {\"kind\": \"MeshService\", "
		       "\"name\": \"web\"}, \"default\": "
		       "{\"connectionTimeout\": \"2s\", "
		       "\"idleTimeout\": \"1h\", \"http\": "
		       "{\"requestTimeout\": \"15s\", "
		       "\"streamIdleTimeout\": \"30m\", "
		       "\"maxStreamDuration\": \"1500ms\"}}}], "
		       "\"from\": [{\"targetRef\": {\"kind\": \"Mesh\"}, "
		       "\"default\": {\"idleTimeout\": \"90s\"}}]}");
	model_set_free(&a);
	return ok;
}

static bool test_mesh_timeout_errors(void)
{
	return t_expect(&kind_mesh_timeout,
			KH_DOC("MeshTimeout", "t1")
			"  to:\n"
			"    - targetRef: {kind: Mesh}\n"
			"      default: {connectionTimeout: 10}\n",
			"t.yaml:7:36: spec.to[0].default.connectionTimeout: "
			"must be a duration such as 10s, 1m30s or 250ms");
}

/* Workload tags go through pdoc_tags (doc.c). */
static bool test_workload_tags(void)
{
	static const char *const tags[] = { "version", "v1", "zone", "b" };
	struct model_set s;
	bool ok;

	ok = kh_parse_ok("apiVersion: meshforge.io/v1alpha1\n"
			 "kind: Workload\n"
			 "metadata: {name: w1}\n"
			 "spec: {node: n1, ip: 10.0.0.1, port: 80,\n"
			 "       service: web,\n"
			 "       identity: \"spiffe://m/web\",\n"
			 "       tags: {zone: b, version: v1}}\n",
			 &s) &&
	     ASSERT_EQ(s.n, 1) &&
	     kh_tags_are(&s, ((const struct core_workload *)
			      model_spec(&s.objs[0]))->tags, tags, 2);
	model_set_free(&s);
	return ok;
}

/* ---- problems ---------------------------------------------------------- */

/* A case of t_kind whose to[0].default is the one line @conf (line 5,
 * from column 9): it fails at column @col with @msg, about a field of
 * to[0].default. */
#define T_DEF(conf, col, msg)                                                 \
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n      default:\n"     \
	  "        " conf "\n",                                               \
	  "s.yaml:5:" #col ": spec.to[0].default." msg, &t_kind }

#define T_NOT_DURATION "must be a duration such as 10s, 1m30s or 250ms"
#define T_NOT_PERCENT "must be a percentage 0..100 with at most 3 decimals"

T_TEST_BAD(test_errors_fields,
	T_DEF("bogus: 1", 9, "bogus: unknown field"),
	T_DEF("enabled: yes", 18, "enabled: must be true or false"),
	T_DEF("enabled: \"true\"", 18, "enabled: must be true or false"),
	T_DEF("port: 0", 15, "port: must be 1..65535"),
	T_DEF("port: \"80\"", 15, "port: must be an integer 1..65535"),
	T_DEF("port: {a: 1}", 15, "port: must be an integer 1..65535"),
	T_DEF("big: 18446744073709551616", 14,
	      "big: must be 0..18446744073709551615"),
	T_DEF("sub: {limit: 4294967296, active: true}", 22,
	      "sub.limit: must be 0..4294967295"),
	T_DEF("timeout: 10", 18, "timeout: " T_NOT_DURATION),
	T_DEF("timeout: [1s]", 18, "timeout: " T_NOT_DURATION),
	T_DEF("timeout: 2h", 18, "timeout: must be 1s..1h"),
	T_DEF("timeout: 999ms", 18, "timeout: must be 1s..1h"),
	T_DEF("idle: 5000000h", 15, "idle: must be 0s..4294967295ms"),
	T_DEF("percent: 100.5", 18, "percent: " T_NOT_PERCENT),
	T_DEF("percent: \"1.2345\"", 18, "percent: " T_NOT_PERCENT),
	T_DEF("factor: 0.5", 17, "factor: must be 1..10"),
	T_DEF("factor: abc", 17,
	      "factor: must be a number such as 1.9 (at most 3 decimals)"),
	T_DEF("rate: 5MB", 15,
	      "rate: must be a bandwidth such as 800bps, 10kbps, "
	      "5Mbps or 1Gbps"),
	T_DEF("mode: Medium", 15, "mode: must be Fast or Slow"),
	T_DEF("retryOn: [reset, bogus]", 26,
	      "retryOn[1]: must be 5xx, reset or connect-failure"),
	T_DEF("retryOn: reset", 18,
	      "retryOn: must be a list of 5xx, reset or "
	      "connect-failure, not a scalar"),
	T_DEF("path: api", 15, "path: must start with /"),
	T_DEF("path: \"\"", 15, "path: must not be empty"),
	T_DEF("path: /0123456789abcde", 15,
	      "path: must be at most 15 characters"),
)

T_TEST_BAD(test_errors_structure,
	T_DEF("sub: {limit: 3}", 14, "sub: limit requires active"),
	T_DEF("sub: [1]", 14, "sub: must be a mapping, not a list"),
	T_DEF("sub: {active: true, x: 1}", 29, "sub.x: unknown field"),
	T_DEF("names: [a, b, c, d]", 16, "names: must have at most 3 entries"),
	T_DEF("names: a", 16, "names: must be a list, not a scalar"),
	T_DEF("names: [a, toolongname]", 20,
	      "names[1]: must be at most 7 characters"),
	T_DEF("backends: [{weight: 1}]", 20, "backends[0].kind: is required"),
	T_DEF("backends: [{kind: MeshService, name: a, weight: 0}]", 57,
	      "backends[0].weight: must be 1..100"),
	T_DEF("backends: [{kind: MeshService, name: a, x: 0}]", 49,
	      "backends[0].x: unknown field"),
	T_DEF("match: {\"bad key!\": v}", 17,
	      "match.bad key!: tag keys must be 1..63 characters of "
	      "A-Z, a-z, 0-9, '.', '_', '/' and '-'"),
	T_DEF("match: {a: \"b c\"}", 20,
	      "match.a: tag values must be \"*\" or 1..63 characters "
	      "of A-Z, a-z, 0-9, '.', '_', '/', ':' and '-'"),
	T_DEF("match: {}", 16, "match: must have 1..8 tags"),
	T_DEF("match: {a: b, a: c}", 23,
	      "match.a: duplicate key (first at line 5)"),
	T_DEF("match: [a]", 16, "match: must be a mapping of tags, not a list"),
)

T_TEST_BAD(test_errors_refs,
	T_DEF("peer: {kind: Mesh}", 22,
	      "peer.kind: must be MeshSubset or MeshService"),
	T_DEF("peer: {kind: Service}", 22,
	      "peer.kind: must be MeshSubset or MeshService"),
	T_DEF("peer: {name: a}", 15, "peer.kind: is required"),
	T_DEF("peer: {kind: MeshService}", 15,
	      "peer: needs name or labels for kind MeshService"),
	T_DEF("peer: {kind: MeshService, name: Web}", 41,
	      "peer.name: " DOC_NAME_RULE),
	T_DEF("peer: {kind: MeshSubset, name: a, tags: {a: b}}", 40,
	      "peer.name: must not be set for kind MeshSubset"),
	T_DEF("peer: {kind: MeshService, name: a, labels: {app: a}}", 52,
	      "peer.labels: must not be set with name or namespace: a "
	      "targetRef names its objects or selects them by labels"),
	T_DEF("peer: {kind: MeshService, name: a, mesh: m}", 50,
	      "peer.mesh: must not be set"),
	T_DEF("peer: {kind: MeshService, name: a, proxyTypes: [Sidecar]}",
	      56,
	      "peer.proxyTypes: must not be set for kind MeshService"),
	T_DEF("peer: {kind: MeshSubset, proxyTypes: []}", 46,
	      "peer.proxyTypes: must be a list of Sidecar or Gateway, "
	      "not empty"),
	T_DEF("peer: {kind: MeshSubset, proxyTypes: [Ingress]}", 47,
	      "peer.proxyTypes[0]: must be Sidecar or Gateway"),
	T_DEF("peer: {kind: MeshService, name: a, sectionName: \"\"}", 57,
	      "peer.sectionName: must not be empty"),
	T_DEF("peer: {kind: MeshService, name: a, tags: {a: b}}", 50,
	      "peer.tags: must not be set for kind MeshService"),
	T_DEF("peer: {kind: MeshService, name: a, port: 1}", 44,
	      "peer.port: unknown field"),
	{ "spec:\n  targetRef: {kind: MeshGateway, name: g}\n"
	  "  from: [{targetRef: {kind: Mesh}, default: {}}]\n",
	  "s.yaml:2:21: spec.targetRef.kind: must be Mesh, MeshSubset, "
	  "MeshService or Dataplane", &t_kind },
	{ "spec:\n  targetRef: {kind: Workload, namespace: ns}\n"
	  "  from: [{targetRef: {kind: Mesh}, default: {}}]\n",
	  "s.yaml:2:42: spec.targetRef.namespace: needs name", &t_kind },
	{ "spec:\n  to:\n"
	  "    - targetRef: {kind: MeshSubset, tags: {a: b}}\n"
	  "      default: {}\n",
	  "s.yaml:3:25: spec.to[0].targetRef.kind: must be Mesh or "
	  "MeshService", &t_kind },
	{ "spec:\n  from:\n"
	  "    - targetRef: {kind: MeshService, name: a}\n"
	  "      default: {}\n",
	  "s.yaml:3:25: spec.from[0].targetRef.kind: must be Mesh", &t_kind },
)

/* The shape of spec in each form: sections, entries, required keys. */
T_TEST_BAD(test_errors_spec,
	{ "spec: {}\n",
	  "s.yaml:1:7: spec: must have at least one of to, from", &t_kind },
	{ "spec: {to: [], from: []}\n",
	  "s.yaml:1:7: spec: must have at least one of to, from", &t_kind },
	{ "spec: {}\n", "s.yaml:1:7: spec: must have at least one to entry",
	  &t_to_only },
	{ "spec: []\n", "s.yaml:1:7: spec: must be a mapping, not a list",
	  &t_kind },
	{ "spec:\n  bogus: 1\n"
	  "  from: [{targetRef: {kind: Mesh}, default: {}}]\n",
	  "s.yaml:2:3: spec.bogus: unknown field", &t_kind },
	{ "spec:\n  to: [{targetRef: {kind: Mesh}, default: {}}]\n"
	  "  from: [{targetRef: {kind: Mesh}, default: {}}]\n",
	  "s.yaml:2:7: spec.to: is not allowed in a TestKind (it has only "
	  "from)", &t_from_only },
	{ "spec:\n  to: {a: b}\n",
	  "s.yaml:2:7: spec.to: must be a list, not a mapping", &t_kind },
	{ "spec:\n  to:\n    - default: {}\n",
	  "s.yaml:3:7: spec.to[0].targetRef: is required", &t_kind },
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n",
	  "s.yaml:3:7: spec.to[0].default: is required", &t_kind },
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n"
	  "      default: {}\n      rules: []\n",
	  "s.yaml:5:7: spec.to[0].rules: unknown field", &t_kind },
	{ "spec: {}\n", "s.yaml:1:7: spec: must have at least one to entry",
	  &t_route },
	{ "spec: {to: []}\n",
	  "s.yaml:1:12: spec.to: must have at least one entry", &t_route },
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n      rules: []\n",
	  "s.yaml:4:14: spec.to[0].rules: must have at least one entry",
	  &t_route },
	/* Kuma's schema wants rules in every entry, even where an empty
	 * list is taken. */
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n",
	  "s.yaml:3:7: spec.to[0].rules: is required", &t_route },
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n",
	  "s.yaml:3:7: spec.to[0].rules: is required", &t_route_no_rules },
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n"
	  "      rules: [{port: 0}]\n",
	  "s.yaml:4:22: spec.to[0].rules[0].port: must be 1..65535",
	  &t_route },
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n"
	  "      rules: [{}]\n      default: {}\n",
	  "s.yaml:5:7: spec.to[0].default: unknown field", &t_route },
	{ "spec: {targetRef: {kind: Mesh}}\n",
	  "s.yaml:1:7: spec.default: is required", &t_default },
	/* Kuma: only a policy with from or rules entries is inbound. */
	{ "spec:\n  targetRef: {kind: Dataplane, sectionName: http}\n"
	  "  default: {}\n",
	  "s.yaml:2:45: spec.targetRef.sectionName: can only be used "
	  "with inbound policies (from or rules entries)", &t_default },
	{ "spec:\n  targetRef: {kind: Dataplane, sectionName: http}\n"
	  "  to: [{targetRef: {kind: Mesh}, default: {}}]\n",
	  "s.yaml:2:45: spec.targetRef.sectionName: can only be used "
	  "with inbound policies (from or rules entries)", &t_kind },
	{ "spec:\n  targetRef: {kind: Dataplane, sectionName: http}\n"
	  "  to: [{targetRef: {kind: Mesh}, rules: [{}]}]\n",
	  "s.yaml:2:45: spec.targetRef.sectionName: can only be used "
	  "with inbound policies (from or rules entries)", &t_route },
	{ "spec:\n  sources: [{match: {a: b}}]\n  conf: {}\n",
	  "s.yaml:2:3: spec.destinations: is required", &t_sources },
	{ "spec:\n  sources: []\n  destinations: [{match: {a: b}}]\n"
	  "  conf: {}\n",
	  "s.yaml:2:12: spec.sources: must have 1..4 entries", &t_sources },
	{ "spec:\n  selectors: [{match: {a: b}}, {match: {a: b}},\n"
	  "    {match: {a: b}}, {match: {a: b}}, {match: {a: b}}]\n"
	  "  conf: {}\n",
	  "s.yaml:2:14: spec.selectors: must have 1..4 entries",
	  &t_selectors },
	{ "spec:\n  selectors: [{}]\n  conf: {}\n",
	  "s.yaml:2:15: spec.selectors[0].match: is required", &t_selectors },
	{ "spec:\n  selectors: [{match: {a: b}}]\n",
	  "s.yaml:2:3: spec.conf: is required", &t_selectors },
	{ "spec:\n  targetRef: {kind: Mesh}\n"
	  "  selectors: [{match: {a: b}}]\n  conf: {}\n",
	  "s.yaml:2:3: spec.targetRef: unknown field", &t_selectors },
)

/* At most 1024 records per policy; 1024 itself is fine. */
static bool test_errors_too_many(void)
{
	static const char head[] = "spec:\n  from:\n";
	static const char entry[] =
		"    - {targetRef: {kind: Mesh}, default: {}}\n";
	size_t n = 1025;
	char *yaml = malloc(sizeof(head) + n * (sizeof(entry) - 1));
	struct model_set set;
	struct model_obj o;
	bool ok;

	if (!ASSERT_TRUE(yaml))
		return false;
	strcpy(yaml, head);
	for (size_t i = 0; i < n; i++)
		strcat(yaml, entry);
	ok = t_expect(&t_kind, yaml,
		      "s.yaml:1027:7: spec.from[1024]: is one entry too many: "
		      "a policy makes at most 1024 records (to/from entries, "
		      "route rules)");
	/* drop the last entry: exactly 1024 */
	yaml[strlen(yaml) - (sizeof(entry) - 1)] = 0;
	model_set_init(&set);
	ok = ok && t_ok(&t_kind, yaml, &set, &o) &&
	     ASSERT_EQ(o.pol.n, 1024);
	t_pol_free(&o);
	model_set_free(&set);
	free(yaml);
	return ok;
}

/* ---- merge and walk ---------------------------------------------------- */

static bool test_merge(void)
{
	struct t_conf dst, src, want;

	memset(&dst, 0, sizeof(dst));
	memset(&src, 0, sizeof(src));
	/* dst: timeout, sub.active, 2 backends, names */
	dst.present = (1u << 3) | (1u << 10) | (1u << 11) | (1u << 12);
	dst.timeout = 5000;
	dst.sub.present = 1;
	dst.sub.active = 1;
	dst.nbackends = 2;
	dst.backends[0].present = 4;
	dst.backends[0].weight = 1;
	dst.backends[1].present = 4;
	dst.backends[1].weight = 2;
	dst.nnames = 1;
	strcpy(dst.names[0], "d");
	/* src: percent, sub.limit, 1 backend, no names */
	src.present = (1u << 4) | (1u << 10) | (1u << 11);
	src.percent = 50000;
	src.sub.present = 2;
	src.sub.limit = 9;
	src.nbackends = 1;
	src.backends[0].present = 4;
	src.backends[0].weight = 7;

	want = dst;
	want.present |= src.present;
	want.percent = 50000;
	want.sub.present = 3;	/* objects merge field by field */
	want.sub.limit = 9;
	want.nbackends = 1;	/* lists are replaced whole */
	memcpy(want.backends, src.backends, sizeof(want.backends));
	sch_merge(&t_conf_obj, &dst, &src);
	if (!ASSERT_MEMEQ(&dst, &want, sizeof(want)))
		return false;

	/* an absent dst object takes src's; a present src field that is
	 * 0 still overrides */
	memset(&dst, 0, sizeof(dst));
	dst.present = 1u << 2;
	dst.port = 80;
	src.present = (1u << 2) | (1u << 10);
	src.port = 0;
	sch_merge(&t_conf_obj, &dst, &src);
	return ASSERT_EQ(dst.present, (1u << 2) | (1u << 10)) &&
	       ASSERT_EQ(dst.port, 0) && ASSERT_EQ(dst.sub.present, 2) &&
	       ASSERT_EQ(dst.sub.limit, 9);
}

/* Union members: the one src sets replaces the one dst had. */
struct t_union {
	uint32_t present;
	union {
		struct t_sub a;
		struct t_sub b;
	};
};

static const struct sch_field t_union_fields[] = {
	SCH_F_OBJECT("a", t_union, a, &t_sub_obj),
	SCH_F_OBJECT("b", t_union, b, &t_sub_obj),
};

static const struct sch_object t_union_obj =
	SCH_OBJECT_INIT("union", t_union_fields);

static bool test_merge_union(void)
{
	struct t_union dst, src;

	memset(&dst, 0, sizeof(dst));
	memset(&src, 0, sizeof(src));
	dst.present = 1;
	dst.a.present = 1;
	dst.a.active = 1;
	src.present = 2;
	src.b.present = 2;
	src.b.limit = 4;
	sch_merge(&t_union_obj, &dst, &src);
	return ASSERT_EQ(dst.present, 2) && ASSERT_EQ(dst.b.present, 2) &&
	       ASSERT_EQ(dst.b.limit, 4) && ASSERT_EQ(dst.b.active, 0);
}

struct t_walk {
	unsigned tags, refs, strs;
	uint32_t ids[8];
	char names[8][MF_NAME_MAX];
};

static void t_walk_cb(void *arg, const struct sch_field *f, const void *p)
{
	struct t_walk *w = arg;

	if (f->type == SCH_TAGS && w->tags < 8)
		w->ids[w->tags++] = *(const uint32_t *)p;
	if (f->type == SCH_REF && w->refs < 8)
		strcpy(w->names[w->refs++], ((const struct mf_ref *)p)->name);
	if (f->type == SCH_STRREF)
		w->strs++;
}

static bool test_walk(void)
{
	struct t_conf c;
	struct t_walk w;

	memset(&c, 0, sizeof(c));
	memset(&w, 0, sizeof(w));
	c.present = (1u << 8) | (1u << 11) | (1u << 13);
	c.match = 5;
	c.nbackends = 2;
	c.backends[0].present = 1;
	strcpy(c.backends[0].ref.name, "b0");
	c.backends[1].present = 4;	/* no ref: not walked */
	strcpy(c.backends[1].ref.name, "b1");
	c.backends[1].ref.kind = MF_REF_MESH_SERVICE;
	strcpy(c.peer.name, "p");
	sch_walk(&t_conf_obj, &c, t_walk_cb, &w);
	if (!ASSERT_EQ(w.tags, 1) || !ASSERT_EQ(w.ids[0], 5) ||
	    !ASSERT_EQ(w.refs, 2) || !ASSERT_STREQ(w.names[0], "b0") ||
	    !ASSERT_STREQ(w.names[1], "p"))
		return false;
	/* a count beyond max_items is clamped; absent fields are skipped */
	memset(&w, 0, sizeof(w));
	c.present = 1u << 11;
	c.nbackends = 200;
	c.backends[1].present = 1;
	sch_walk(&t_conf_obj, &c, t_walk_cb, &w);
	return ASSERT_EQ(w.tags, 0) && ASSERT_EQ(w.refs, 2);
}

/* ---- strings kept out of line (SCH_STRREF) ----------------------------- */

T_TEST_BAD(test_errors_strref,
	T_DEF("note: api", 15, "note: must start with /"),
	T_DEF("note: \"\"", 15, "note: must not be empty"),
	T_DEF("note: {a: 1}", 15, "note: must be a string, not a mapping"),
	T_DEF("note: \"/a\\0b\"", 15,
	      "note: must not contain a NUL character"),
	/* A rule across fields that reads the string: at the mapping. */
	{ "spec:\n  to:\n    - targetRef: {kind: Mesh}\n      default:\n"
	  "        note: /etc\n",
	  "s.yaml:5:9: spec.to[0].default: note must not be /etc", &t_kind },
)

/* A note of @n bytes ("/" then 'a's), as the one field of to[0].default,
 * into @buf. */
static const char *t_note_doc(char *buf, size_t size, size_t n)
{
	int len = snprintf(buf, size, "spec:\n  to:\n    - targetRef: {kind: "
			   "Mesh}\n      default:\n        note: /");

	for (size_t i = 1; i < n && (size_t)len + 2 < size; i++)
		buf[len++] = 'a';
	buf[len++] = '\n';
	buf[len] = 0;
	return buf;
}

/* Up to MF_STRING_MAX bytes: the longest reads back whole, one more is
 * refused where it was written. */
static bool test_strref_limit(void)
{
	static char doc[MF_STRING_MAX + 128];
	struct model_set set;
	struct model_obj o;
	const struct t_rec *r;
	const struct mf_string *str;
	char *text = NULL;
	bool ok;

	ok = t_expect(&t_kind, t_note_doc(doc, sizeof(doc), MF_STRING_MAX + 1),
		      "s.yaml:5:15: spec.to[0].default.note: must be at most "
		      "1024 characters") &&
	     t_round_trip(&t_kind, t_note_doc(doc, sizeof(doc), MF_STRING_MAX),
			  NULL, &text) &&
	     ASSERT_TRUE(strstr(text, "note: /aaa")) &&
	     /* 99 bytes of keys up to the value, the value, its newline */
	     ASSERT_EQ(strlen(text), 99 + MF_STRING_MAX + 1);
	free(text);
	if (!ok)
		return false;
	model_set_init(&set);
	ok = t_ok(&t_kind, doc, &set, &o);
	r = ok ? (const struct t_rec *)o.pol.recs : NULL;
	str = r ? model_str_get(&set, r->conf.note) : NULL;
	ok = ok && ASSERT_TRUE(str) && ASSERT_EQ(str->len, MF_STRING_MAX) &&
	     ASSERT_EQ(str->s[0], '/') && ASSERT_EQ(str->s[MF_STRING_MAX], 0) &&
	     ASSERT_TRUE(!sch_str_check(str));
	t_pol_free(&o);
	model_set_free(&set);
	return ok;
}

/* The id is the string's: the same string twice is one pooled string,
 * in every set; JSON shows the string, or the id when nothing resolves
 * it; the walk finds it; a record read back with id 0 is refused. */
static bool test_strref_records(void)
{
	static const char yaml[] =
		"spec:\n  to:\n"
		"    - targetRef: {kind: Mesh}\n      default: {note: /x}\n"
		"    - targetRef: {kind: Mesh}\n      default: {note: /x}\n"
		"  from:\n"
		"    - targetRef: {kind: Mesh}\n      default: {note: /y}\n";
	struct model_set set, other;
	struct model_obj o, p;
	const struct t_rec *r;
	const struct sch_ids ids = { 0 };
	struct t_conf bad;
	struct t_walk w;
	char *json = NULL;
	size_t len = 0;
	FILE *f;
	struct emit e;
	bool ok;

	model_set_init(&set);
	model_set_init(&other);
	memset(&p, 0, sizeof(p));
	ok = t_ok(&t_kind, yaml, &set, &o) && ASSERT_EQ(o.pol.n, 3) &&
	     t_ok(&t_kind, "spec:\n  to:\n    - targetRef: {kind: Mesh}\n"
		  "      default: {note: /y}\n", &other, &p);
	if (!ok)
		goto out;
	r = (const struct t_rec *)o.pol.recs;
	ok = ASSERT_EQ(r[0].conf.present, 1u << T_NOTE) &&
	     ASSERT_NE(r[0].conf.note, 0) &&
	     ASSERT_EQ(r[1].conf.note, r[0].conf.note) &&
	     ASSERT_NE(r[2].conf.note, r[0].conf.note) &&
	     ASSERT_EQ(set.strs.n, 2) &&
	     ASSERT_STREQ(model_str_get(&set, r[2].conf.note)->s, "/y") &&
	     ASSERT_EQ(((const struct t_rec *)p.pol.recs)->conf.note,
		       r[2].conf.note) &&
	     t_emit_is(&set, &o, true,
		       "{\"targetRef\": {\"kind\": \"Mesh\"}, \"to\": "
		       "[{\"targetRef\": {\"kind\": \"Mesh\"}, \"default\": "
		       "{\"note\": \"/x\"}}, {\"targetRef\": {\"kind\": "
		       "\"Mesh\"}, \"default\": {\"note\": \"/x\"}}], "
		       "\"from\": [{\"targetRef\": {\"kind\": \"Mesh\"}, "
		       "\"default\": {\"note\": \"/y\"}}]}");
	if (!ok)
		goto out;
	f = open_memstream(&json, &len);
	ok = ASSERT_TRUE(f);
	if (!ok)
		goto out;
	emit_init(&e, EMIT_JSON, emit_to_file, f);
	sch_emit(&e, &t_conf_obj, &r[0].conf, &ids);
	fclose(f);
	memset(&w, 0, sizeof(w));
	sch_walk(&t_conf_obj, &r[0].conf, t_walk_cb, &w);
	bad = r[0].conf;
	bad.note = 0;
	ok = ASSERT_TRUE(json) &&
	     ASSERT_TRUE(!strncmp(json, "{\"note\": ", 9)) &&
	     ASSERT_EQ(strtoul(json + 9, NULL, 10),
					    r[0].conf.note) &&
	     ASSERT_EQ(w.strs, 1) &&
	     ASSERT_STREQ(sch_check(&t_conf_obj, &bad), "a string's id is 0") &&
	     ASSERT_TRUE(!sch_check(&t_conf_obj, &r[0].conf));
out:
	free(json);
	t_pol_free(&o);
	t_pol_free(&p);
	model_set_free(&set);
	model_set_free(&other);
	return ok;
}

/* The pooled form: exact bytes, and what a map may not hold. */
static bool test_strref_form(void)
{
	static char big[MF_STRING_MAX + 1];
	struct mf_string v;

	memset(big, 'x', sizeof(big));
	if (!ASSERT_EQ(sch_str_make(&v, "", 0), -EINVAL) ||
	    !ASSERT_EQ(sch_str_make(&v, big, MF_STRING_MAX + 1), -EINVAL) ||
	    !ASSERT_EQ(sch_str_make(&v, "a\0b", 3), -EINVAL) ||
	    !ASSERT_EQ(sch_str_make(&v, big, MF_STRING_MAX), 0) ||
	    !ASSERT_EQ(v.len, MF_STRING_MAX) ||
	    !ASSERT_TRUE(!sch_str_check(&v)))
		return false;
	if (!ASSERT_EQ(sch_str_make(&v, "abc", 3), 0) ||
	    !ASSERT_EQ(v.len, 3) || !ASSERT_STREQ(v.s, "abc") ||
	    !ASSERT_TRUE(!sch_str_check(&v)))
		return false;
	v.len = 2;
	if (!ASSERT_STREQ(sch_str_check(&v),
			  "its length is not where its NUL is"))
		return false;
	v.len = 3;
	v.s[10] = 'z';
	if (!ASSERT_STREQ(sch_str_check(&v), "bytes past its NUL are not zero"))
		return false;
	v.s[10] = 0;
	v.len = 0;
	return ASSERT_STREQ(sch_str_check(&v), "its length is out of range");
}

/* A string whose id the set it goes to holds for another string (two
 * sets hashed two strings to one id) takes a new id there, in the copied
 * or moved records too; the records it came from keep theirs. */
static bool test_strref_copy_collision(void)
{
	static const char yaml[] =
		"spec:\n  to:\n    - targetRef: {kind: Mesh}\n"
		"      default: {note: /x}\n";
	struct model_set from, to, to2;
	struct model_obj o, *added;
	struct mf_string y;
	uint32_t id, got;
	bool ok;

	model_set_init(&from);
	model_set_init(&to);
	model_set_init(&to2);
	ok = t_ok(&t_kind, yaml, &from, &o) &&
	     ASSERT_EQ(sch_str_make(&y, "/y", 2), 0);
	if (!ok)
		goto out;
	id = ((const struct t_rec *)o.pol.recs)->conf.note;
	ok = ASSERT_EQ(model_str_insert(&to, id, &y), 0) &&
	     ASSERT_EQ(model_str_insert(&to, id, &y), 0) &&
	     ASSERT_EQ(model_str_insert(&to, id, model_str_get(&from, id)),
		       -EEXIST) &&
	     ASSERT_EQ(model_str_insert(&to2, id, &y), 0) &&
	     ASSERT_EQ(model_set_add_copy(&to, &from, &o), 0) &&
	     ASSERT_EQ(to.n, 1);
	if (!ok)
		goto out;
	got = ((const struct t_rec *)to.objs[0].pol.recs)->conf.note;
	ok = ASSERT_NE(got, id) &&
	     ASSERT_STREQ(model_str_get(&to, got)->s, "/x") &&
	     ASSERT_STREQ(model_str_get(&to, id)->s, "/y") &&
	     ASSERT_EQ(((const struct t_rec *)o.pol.recs)->conf.note, id);
	if (!ok)
		goto out;
	/* Moved: @from gives its object up. */
	added = model_set_add(&from, o.kind);
	ok = ASSERT_TRUE(added);
	if (!ok)
		goto out;
	*added = o;
	memset(&o, 0, sizeof(o));
	ok = ASSERT_EQ(model_set_take(&to2, &from), 0) &&
	     ASSERT_EQ(from.n, 0) && ASSERT_EQ(to2.n, 1) &&
	     ASSERT_EQ(((const struct t_rec *)to2.objs[0].pol.recs)->conf.note,
		       got) &&
	     ASSERT_STREQ(model_str_get(&to2, got)->s, "/x");
out:
	t_pol_free(&o);
	model_set_free(&from);
	model_set_free(&to);
	model_set_free(&to2);
	return ok;
}

/* ---- layout of every kind's tables ------------------------------------- */

static bool lay_object(const struct kind_desc *kd, const struct sch_object *s,
		       size_t size, int depth);

/* Field @f of an object of @size bytes. */
static bool lay_field(const struct kind_desc *kd, const struct sch_object *s,
		      const struct sch_field *f, size_t size, int depth)
{
	size_t fs = sch_field_size(f);
	bool ok = true;

	if (!ASSERT_TRUE(f->off + fs <= size))
		ok = false;
	if (!s->scalar && !ASSERT_GE(f->off, 4))
		ok = false;	/* the presence mask is not a field */
	switch (f->type) {
	case SCH_INT:
		ok = ok && ASSERT_TRUE(f->size == 1 || f->size == 2 ||
				       f->size == 4 || f->size == 8);
		break;
	case SCH_STRING:
		ok = ok && ASSERT_GE(f->size, 2);
		break;
	case SCH_ENUM:
	case SCH_FLAGS:
		ok = ok && ASSERT_TRUE(f->names && f->names[0]);
		break;
	case SCH_REF:
		ok = ok && ASSERT_NE(f->ref_kinds, 0) &&
		     ASSERT_EQ(f->ref_kinds & ~((1u << MF_REF_KIND_MAX) - 2), 0);
		break;
	case SCH_OBJECT:
		ok = ok && ASSERT_TRUE(f->sub && !f->sub->scalar) &&
		     lay_object(kd, f->sub, size - f->off, depth + 1);
		break;
	case SCH_LIST:
		ok = ok && ASSERT_TRUE(f->sub) && ASSERT_GE(f->max_items, 1) &&
		     ASSERT_TRUE(f->max_items <= 255) &&
		     ASSERT_TRUE(f->count_off + 1u <= size) &&
		     ASSERT_TRUE(!s->scalar) &&
		     lay_object(kd, f->sub, f->item_size, depth + 1);
		break;
	default:
		break;
	}
	if (!ok)
		fprintf(stderr, "  %s: %s.%s (off %u size %zu in %zu)\n",
			kd->name, s->name ? s->name : "?",
			f->name ? f->name : "(inline)", f->off, fs, size);
	return ok;
}

static bool lay_object(const struct kind_desc *kd, const struct sch_object *s,
		       size_t size, int depth)
{
	const char *names[32 + 3];
	size_t nn = 0;

	if (!ASSERT_TRUE(depth < 16) || !ASSERT_TRUE(s->nfields <= 32) ||
	    !ASSERT_TRUE(s->nfields == 0 || s->fields))
		return false;
	if (s->scalar)
		return ASSERT_EQ(s->nfields, 1) &&
		       ASSERT_TRUE(!s->fields[0].name) &&
		       ASSERT_EQ(s->fields[0].off, 0) &&
		       ASSERT_TRUE(s->fields[0].type != SCH_OBJECT &&
				   s->fields[0].type != SCH_LIST) &&
		       lay_field(kd, s, &s->fields[0], size, depth);
	if (!ASSERT_GE(size, 4))
		return false;
	for (size_t i = 0; i < s->nfields; i++) {
		const struct sch_field *f = &s->fields[i];

		if (!f->name && !ASSERT_EQ(f->type, SCH_REF))
			return false;
		if (f->name) {
			names[nn++] = f->name;
		} else {
			names[nn++] = "kind";
			names[nn++] = "name";
			names[nn++] = "tags";
		}
		if (!lay_field(kd, s, f, size, depth))
			return false;
	}
	for (size_t i = 0; i < nn && i < 35; i++)
		for (size_t j = 0; j < i; j++)
			if (!ASSERT_TRUE(strcmp(names[i], names[j]))) {
				fprintf(stderr, "  %s: %s: \"%s\" twice\n",
					kd->name, s->name, names[i]);
				return false;
			}
	return true;
}

static bool test_layout_all_kinds(void)
{
	if (!ASSERT_TRUE(lay_object(&t_kind, t_kind.conf,
				    t_kind.val_size - t_kind.conf_off, 0)))
		return false;
	for (size_t k = 0; k < kinds_count; k++) {
		const struct kind_desc *kd = kinds_all[k];

		/* A policy record starts with its header; a spec-form
		 * record (MeshOpenTelemetryBackend, ...) is all spec. */
		if (!ASSERT_TRUE(kd->conf) ||
		    !ASSERT_TRUE(kd->form == KIND_FORM_SPEC ?
				 kd->conf_off == 0 :
				 kd->conf_off >= sizeof(struct mf_pol_hdr)) ||
		    !ASSERT_TRUE(kd->val_size > kd->conf_off) ||
		    !lay_object(kd, kd->conf, kd->val_size - kd->conf_off, 0) ||
		    /* An entry's keys are a route's, apart from its conf. */
		    (kd->entry &&
		     (!ASSERT_EQ(kd->form, KIND_FORM_ROUTE) ||
		      !ASSERT_TRUE(kd->entry_off >=
				   kd->conf_off + sch_object_size(kd->conf)) ||
		      !ASSERT_TRUE(kd->val_size > kd->entry_off) ||
		      !lay_object(kd, kd->entry, kd->val_size - kd->entry_off,
				  0)))) {
			fprintf(stderr, "  kind %s\n", kd->name);
			return false;
		}
	}
	return true;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_duration);
	TEST_RUN(test_milli);
	TEST_RUN(test_bandwidth);
	TEST_RUN(test_parse_records);
	TEST_RUN(test_emit_yaml);
	TEST_RUN(test_emit_json);
	TEST_RUN(test_json_escape);
	TEST_RUN(test_emit_quoting);
	TEST_RUN(test_forms_round_trip);
	TEST_RUN(test_forms_records);
	TEST_RUN(test_route_entry_no_rules);
	TEST_RUN(test_mesh_timeout_round_trip);
	TEST_RUN(test_ref_shapes_round_trip);
	TEST_RUN(test_mesh_timeout_json);
	TEST_RUN(test_mesh_timeout_errors);
	TEST_RUN(test_workload_tags);
	TEST_RUN(test_errors_fields);
	TEST_RUN(test_errors_structure);
	TEST_RUN(test_errors_refs);
	TEST_RUN(test_errors_spec);
	TEST_RUN(test_errors_too_many);
	TEST_RUN(test_merge);
	TEST_RUN(test_merge_union);
	TEST_RUN(test_walk);
	TEST_RUN(test_errors_strref);
	TEST_RUN(test_strref_limit);
	TEST_RUN(test_strref_records);
	TEST_RUN(test_strref_form);
	TEST_RUN(test_strref_copy_collision);
	TEST_RUN(test_layout_all_kinds);
	TEST_MAIN_END();
}
