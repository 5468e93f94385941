// SPDX-License-Identifier: Apache-2.0
/*
 * mfctl's policy reader: YAML -> objects, field by field.  Valid documents
 * of every kind give the expected objects; every class of invalid input
 * gives exactly the expected "file:line:col: field.path: message".
 */
#include <arpa/inet.h>

#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/docfield.h"
#include "policy/ytree.h"

#define API "apiVersion: meshforge.io/v1alpha1\n"

static int parse(const char *yaml, struct model_set *set, struct diag *d)
{
	return doc_parse_buffer(set, "t.yaml", yaml, strlen(yaml), d);
}

/* Parses @yaml, which must fail with exactly the one message @want. */
static bool expect1(const char *yaml, const char *want)
{
	struct model_set set;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(parse(yaml, &set, &d), -EINVAL) &&
	     ph_diag_is(&d, (const char *const[]){ want, NULL });
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* Parses valid @yaml into @set. */
static bool parse_ok(const char *yaml, struct model_set *set)
{
	struct diag d;
	int err;

	model_set_init(set);
	diag_init(&d);
	err = parse(yaml, set, &d);
	for (size_t i = 0; i < d.n; i++)
		fprintf(stderr, "  unexpected: %s\n", d.msgs[i]);
	diag_free(&d);
	return ASSERT_EQ(err, 0);
}

static bool ip_is(const uint8_t ip[4], const char *want)
{
	struct in_addr a;

	inet_pton(AF_INET, want, &a);
	return ASSERT_MEMEQ(ip, &a, 4);
}

static bool test_mesh(void)
{
	struct model_set s;
	bool ok = parse_ok(API "kind: Mesh\nmetadata: {name: default}\n"
			   "spec: {trustDomain: mesh.local}\n", &s) &&
		  ASSERT_EQ(s.n, 1) && ASSERT_EQ(s.objs[0].kind, MODEL_MESH) &&
		  ASSERT_STREQ(s.objs[0].name, "default") &&
		  ASSERT_STREQ(((struct core_mesh *)model_spec(&s.objs[0]))
			       ->trust_domain, "mesh.local") &&
		  ASSERT_STREQ(s.objs[0].loc.file, "t.yaml") &&
		  ASSERT_EQ(s.objs[0].name_loc.line, 3) &&
		  ASSERT_EQ(s.objs[0].name_loc.col, 18);

	model_set_free(&s);
	return ok;
}

static bool test_node_default_port(void)
{
	struct model_set s;
	bool ok;

	if (!parse_ok(API "kind: Node\nmetadata: {name: mf-node-a}\n"
		      "spec: {address: 10.77.0.1}\n---\n"
		      API "kind: Node\nmetadata: {name: mf-node-b}\n"
		      "spec: {address: 10.77.0.2, tunnelPort: 16008}\n", &s))
		return false;
	const struct core_node *n0 = model_spec(&s.objs[0]);
	const struct core_node *n1 = model_spec(&s.objs[1]);

	ok = ASSERT_EQ(s.n, 2) && ASSERT_EQ(s.objs[0].kind, MODEL_NODE) &&
	     ip_is(n0->address, "10.77.0.1") &&
	     ASSERT_EQ(n0->tunnel_port, 15008) &&
	     ip_is(n1->address, "10.77.0.2") &&
	     ASSERT_EQ(n1->tunnel_port, 16008);
	model_set_free(&s);
	return ok;
}

static bool test_service(void)
{
	struct model_set s;
	bool ok;

	if (!parse_ok(API "kind: Service\nmetadata: {name: web}\n"
		      "spec: {vip: 10.96.0.10, port: 80}\n---\n"
		      API "kind: Service\nmetadata: {name: api}\n"
		      "spec: {vip: 10.96.0.11, port: 8080, protocol: tcp}\n",
		      &s))
		return false;
	const struct core_service *s0 = model_spec(&s.objs[0]);
	const struct core_service *s1 = model_spec(&s.objs[1]);
	const struct model_ref_loc *vip =
		model_note(&s.objs[0], 0, offsetof(struct core_service, vip));

	ok = ASSERT_EQ(s.n, 2) && ASSERT_EQ(s.objs[0].kind, MODEL_SERVICE) &&
	     ip_is(s0->vip, "10.96.0.10") && ASSERT_EQ(s0->port, 80) &&
	     /* Left out: no default, its endpoints decide. */
	     ASSERT_FALSE(sch_has(s0, CS_PROTOCOL)) &&
	     ASSERT_EQ(s0->protocol, 0) &&
	     ASSERT_TRUE(sch_has(s1, CS_PROTOCOL)) &&
	     ASSERT_EQ(s1->protocol, CS_PROTOCOL_TCP) &&
	     ASSERT_TRUE(vip != NULL) && ASSERT_EQ(vip->loc.line, 4) &&
	     ASSERT_EQ(vip->loc.col, 13) && ASSERT_EQ(s1->port, 8080);
	model_set_free(&s);
	return ok;
}

static bool test_workload_block_style_kuma(void)
{
	struct model_set s;
	const struct core_workload *w;
	const struct model_ref_loc *id;
	bool ok;

	if (!parse_ok("# a comment\n"
		      "apiVersion: kuma.io/v1alpha1\n"
		      "kind: Workload\n"
		      "metadata:\n"
		      "  name: b1\n"
		      "spec:\n"
		      "  node: mf-node-b\n"
		      "  ip: 10.78.2.11\n"
		      "  port: 8080\n"
		      "  service: web\n"
		      "  identity: spiffe://mesh.local/ns/default/sa/web\n",
		      &s))
		return false;
	w = model_spec(&s.objs[0]);
	id = model_note(&s.objs[0], 0, offsetof(struct core_workload,
						 identity));
	ok = ASSERT_EQ(s.n, 1) && ASSERT_EQ(s.objs[0].kind, MODEL_WORKLOAD) &&
	     ASSERT_STREQ(s.objs[0].name, "b1") &&
	     ASSERT_STREQ(w->node, "mf-node-b") && ip_is(w->ip, "10.78.2.11") &&
	     ASSERT_EQ(w->port, 8080) && ASSERT_STREQ(w->service, "web") &&
	     ASSERT_STREQ(w->identity, "spiffe://mesh.local/ns/default/sa/web") &&
	     ASSERT_TRUE(id != NULL) && ASSERT_EQ(id->loc.line, 11) &&
	     ASSERT_EQ(id->loc.col, 13);
	model_set_free(&s);
	return ok;
}

/* Notes' paths are kept once for the process: two objects' notes of the
 * same field point at one string, which says the field; a path past
 * MODEL_NOTE_PATH_MAX is cut there. */
static bool test_note_paths_kept_once(void)
{
	char longp[200];
	const struct model_ref_loc *a, *b;
	const char *cut;
	struct model_set s;
	bool ok;

	if (!parse_ok(API "kind: Workload\nmetadata: {name: b1}\n"
		      "spec: {node: n, ip: 10.78.2.11, port: 8080, service: web,"
		      " identity: spiffe://mesh.local/ns/default/sa/web}\n"
		      "---\n"
		      API "kind: Workload\nmetadata: {name: b2}\n"
		      "spec: {node: n, ip: 10.78.2.12, port: 8080, service: web,"
		      " identity: spiffe://mesh.local/ns/default/sa/web}\n", &s))
		return false;
	a = model_note(&s.objs[0], 0, offsetof(struct core_workload, identity));
	b = model_note(&s.objs[1], 0, offsetof(struct core_workload, identity));
	memset(longp, 'x', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	cut = model_note_path(longp);
	ok = ASSERT_EQ(s.n, 2) && ASSERT_TRUE(a && b) &&
	     ASSERT_STREQ(a->path, "spec.identity") &&
	     ASSERT_TRUE(a->path == b->path) &&
	     ASSERT_TRUE(model_note_path("spec.identity") == a->path) &&
	     ASSERT_TRUE(cut != NULL) &&
	     ASSERT_EQ(strlen(cut), MODEL_NOTE_PATH_MAX) &&
	     ASSERT_TRUE(model_note_path(longp) == cut);
	model_set_free(&s);
	return ok;
}

static const char mtp_yaml[] =
	API "kind: MeshTrafficPermission\nmetadata:\n  name: web-allow\n"
	PH_WEB_ALLOW_SPEC;

static bool test_mtp(void)
{
	struct model_set s;
	const struct mf_mtp *m;
	const struct model_ref_loc *n1;
	bool ok;

	if (!parse_ok(mtp_yaml, &s))
		return false;
	m = (const struct mf_mtp *)s.objs[0].pol.recs;
	n1 = model_note(&s.objs[0], 1, offsetof(struct mf_mtp,
						 conf.target_ref.name));
	ok = ASSERT_EQ(s.n, 1) && ASSERT_EQ(s.objs[0].kind, MODEL_MTP) &&
	     ASSERT_EQ(m[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(m[0].hdr.target.name, "web") &&
	     ASSERT_EQ(s.objs[0].pol.n, 3) &&
	     ASSERT_EQ(m[0].conf.target_ref.kind, MF_MTP_SPIFFE_ID) &&
	     ASSERT_STREQ(m[0].conf.target_ref.name,
			  "spiffe://mesh.local/ns/default/sa/client") &&
	     ASSERT_EQ(m[0].conf.def.action, MF_AUTHZ_ALLOW) &&
	     ASSERT_EQ(m[1].conf.target_ref.kind, MF_MTP_SPIFFE_PREFIX) &&
	     ASSERT_STREQ(m[1].conf.target_ref.name,
			  "spiffe://mesh.local/ns/batch/") &&
	     ASSERT_EQ(m[1].conf.def.action, MF_AUTHZ_DENY) &&
	     ASSERT_EQ(m[2].conf.target_ref.kind, MF_MTP_MESH) &&
	     ASSERT_STREQ(m[2].conf.target_ref.name, "") &&
	     ASSERT_EQ(m[2].conf.def.action, MF_AUTHZ_ALLOW) &&
	     ASSERT_TRUE(n1 != NULL) && ASSERT_EQ(n1->loc.line, 10) &&
	     ASSERT_EQ(n1->loc.col, 47);
	model_set_free(&s);
	return ok;
}

/* Empty documents, a leading "---", comments and a trailing "---". */
static bool test_empty_documents(void)
{
	struct model_set s;
	bool ok;

	ok = parse_ok("---\n# nothing\n---\n" API
		      "kind: Mesh\nmetadata: {name: m}\nspec: {trustDomain: td}\n"
		      "---\n---\n", &s) && ASSERT_EQ(s.n, 1);
	model_set_free(&s);
	ok = ok && parse_ok("", &s) && ASSERT_EQ(s.n, 0);
	model_set_free(&s);
	return ok;
}

/* A Service with block-style @spec (from line 5); one with VIP @vip (line
 * 5, column 8); one with port @port (line 6, column 9). */
#define SVC(spec) API "kind: Service\nmetadata: {name: web}\nspec:\n" spec
#define VIP(vip) SVC("  vip: " vip "\n  port: 80\n")
#define PORT(port) SVC("  vip: 10.96.0.10\n  port: " port "\n")

#define VIP_NOT_IPV4 "t.yaml:5:8: spec.vip: must be an IPv4 address (a.b.c.d)"
#define VIP_NOT_UNICAST                                                       \
	"t.yaml:5:8: spec.vip: must be a unicast address outside 0/8 and 127/8"
#define PORT_RANGE "t.yaml:6:9: spec.port: must be 1..65535"
#define PORT_NOT_INT "t.yaml:6:9: spec.port: must be an integer 1..65535"

static bool test_bad_ports(void)
{
	return expect1(PORT("70000"), PORT_RANGE) &&
	       expect1(PORT("0"), PORT_RANGE) &&
	       expect1(PORT("\"80\""), PORT_NOT_INT) &&
	       expect1(PORT("080"), PORT_NOT_INT) &&
	       expect1(PORT("-1"), PORT_NOT_INT) &&
	       expect1(PORT("99999999999999999999999"), PORT_RANGE) &&
	       expect1(PORT("[80]"), PORT_NOT_INT) &&
	       expect1(API "kind: Node\nmetadata: {name: n}\n"
		       "spec: {address: 10.0.0.1, tunnelPort: 65536}\n",
		       "t.yaml:4:39: spec.tunnelPort: must be 1..65535");
}

static bool test_bad_addresses(void)
{
	return expect1(VIP("10.96.0"), VIP_NOT_IPV4) &&
	       expect1(VIP("10.96.0.010"), VIP_NOT_IPV4) &&
	       expect1(VIP("224.0.0.1"), VIP_NOT_UNICAST) &&
	       expect1(VIP("127.0.0.1"), VIP_NOT_UNICAST) &&
	       expect1(API "kind: Node\nmetadata: {name: n}\nspec: {address: {a: 1}}\n",
		       "t.yaml:4:17: spec.address: must be an IPv4 address (a.b.c.d)");
}

/* Which plain scalars YAML (Go's reader, as Kuma and kubectl use it)
 * reads as something other than a string; quoted ones are strings. */
static bool test_plain_types(void)
{
	static const struct {
		const char *s;
		bool plain;
		const char *want;	/* NULL: a string */
	} cases[] = {
		{ "503", true, "a number" },	{ "-1", true, "a number" },
		{ "+7", true, "a number" },	{ "1_000", true, "a number" },
		{ "0x1F", true, "a number" },	{ "0o17", true, "a number" },
		{ "0b101", true, "a number" },	{ "1.5", true, "a number" },
		{ ".5", true, "a number" },	{ "1e3", true, "a number" },
		{ "2.5E-3", true, "a number" },	{ "-.inf", true, "a number" },
		{ ".NaN", true, "a number" },	{ "true", true, "a boolean" },
		{ "False", true, "a boolean" },	{ "yes", true, "a boolean" },
		{ "OFF", true, "a boolean" },	{ "y", true, "a boolean" },
		{ "N", true, "a boolean" },	{ "null", true, "null" },
		{ "~", true, "null" },		{ "", true, "null" },
		{ "503", false, NULL },		{ "true", false, NULL },
		{ "5xx", true, NULL },		{ "10.0.0.1", true, NULL },
		{ "1.2.3", true, NULL },	{ "0x1g", true, NULL },
		{ "e5", true, NULL },		{ "1e", true, NULL },
		{ "-", true, NULL },		{ ".", true, NULL },
		{ "tRue", true, NULL },		{ "yes-no", true, NULL },
		{ "v1", true, NULL },		{ "10s", true, NULL },
		{ "+", true, NULL },		{ "0x", true, NULL },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ynode v = {
			.type = YNODE_SCALAR, .str = (char *)cases[i].s,
			.len = strlen(cases[i].s), .plain = cases[i].plain,
		};
		const char *got = doc_plain_type(&v);

		if (cases[i].want ? !got || strcmp(got, cases[i].want) : !!got) {
			fprintf(stderr, "  %s%s%s: got %s, want %s\n",
				cases[i].plain ? "" : "\"", cases[i].s,
				cases[i].plain ? "" : "\"",
				got ? got : "a string",
				cases[i].want ? cases[i].want : "a string");
			ok = false;
		}
	}
	return ok;
}

/* Tag and label values are strings: a plain number is refused with the
 * quoted spelling to use; quoted, it is taken. */
static bool test_tag_values_are_strings(void)
{
	return expect1(API "kind: Workload\nmetadata: {name: w}\n"
		       "spec: {node: n, ip: 10.0.0.2, port: 80, service: s,\n"
		       "       identity: \"spiffe://td/w\", tags: {version: 1}}\n",
		       "t.yaml:5:51: spec.tags.version: must be a string, not "
		       "a number (quote it: \"1\")") &&
	       expect1(API "kind: Mesh\nmetadata: {name: m, labels: {on: yes}}\n"
		       "spec: {trustDomain: td}\n",
		       "t.yaml:3:34: metadata.labels.on: must be a string, not "
		       "a boolean (quote it: \"yes\")");
}

/* A Mesh whose metadata is @meta (line 3); the spec most of them have. */
#define MESH(meta) API "kind: Mesh\nmetadata: " meta "\n"
#define TD "spec: {trustDomain: td}\n"

static bool test_unknown_fields(void)
{
	return expect1(SVC("  vip: 10.96.0.10\n  port: 80\n  colour: blue\n"),
		       "t.yaml:7:3: spec.colour: unknown field") &&
	       expect1(MESH("{name: m, uid: x}") TD,
		       "t.yaml:3:21: metadata.uid: unknown field") &&
	       expect1(MESH("{name: m}") TD "status: {}\n",
		       "t.yaml:5:1: status: unknown field") &&
	       expect1(API "kind: MeshTrafficPermission\nmetadata: {name: p}\n"
		       "spec:\n  targetRef: {kind: MeshService, name: web}\n"
		       "  from:\n  - targetRef: {kind: Mesh}\n"
		       "    default: {action: Allow, weight: 1}\n",
		       "t.yaml:8:30: spec.from[0].default.weight: unknown field");
}


/* An unknown kind's message lists every kind there is, in kind order. */
static bool expect_unknown_kind(void)
{
	char want[2048];

	snprintf(want, sizeof(want), "t.yaml:2:7: kind: unknown kind "
		 "\"MeshUnknown\" (%s)", model_kinds_want());
	return ASSERT_TRUE(strstr(model_kinds_want(), "want Mesh, Node, "
				  "Service, Workload, MeshTrafficPermission, "
				  "MeshTimeout, ")) &&
	       ASSERT_TRUE(strstr(model_kinds_want(), " or ")) &&
	       expect1(API "kind: MeshUnknown\nmetadata: {name: m}\nspec: {}\n",
		       want);
}

static bool test_document_shape(void)
{
	return expect1("- a\n- b\n",
		       "t.yaml:1:1: a document must be a mapping with "
		       "apiVersion, kind, metadata and spec") &&
	       expect1(MESH("{name: m}") "spec: [1]\n",
		       "t.yaml:4:7: spec: must be a mapping, not a list") &&
	       expect1(MESH("{name: m}"), "t.yaml:1:1: spec: is required") &&
	       expect1(MESH("{}") TD,
		       "t.yaml:3:11: metadata.name: is required") &&
	       expect1(MESH("{name: }") TD,
		       "t.yaml:3:11: metadata.name: is required") &&
	       expect1("kind: Mesh\nmetadata: {name: m}\n" TD,
		       "t.yaml:1:1: apiVersion: is required") &&
	       expect1("apiVersion: v1\nkind: Mesh\nmetadata: {name: m}\n" TD,
		       "t.yaml:1:13: apiVersion: must be meshforge.io/v1alpha1 "
		       "or kuma.io/v1alpha1") &&
	       expect_unknown_kind() &&
	       expect1(API "kind: Mesh\nkind: Mesh\nmetadata: {name: m}\n" TD,
		       "t.yaml:3:1: kind: duplicate key (first at line 2)") &&
	       expect1(MESH("{name: m}") TD "? [a]\n: b\n",
		       "t.yaml:5:3: keys must be scalars, not a list");
}

/* The name rule, said of field @what at "line:col" @at. */
#define BAD_NAME(at, what)                                                    \
	"t.yaml:" at ": " what ": must be 1..63 characters of a-z, 0-9, "    \
	"'-' and '.', starting and ending with a letter or digit"

/* A MeshTimeout of Kuma's with metadata @meta (flow style). */
#define KUMA_MT(meta)                                                         \
	"apiVersion: kuma.io/v1alpha1\nkind: MeshTimeout\nmetadata: " meta     \
	"\nspec: {to: [{targetRef: {kind: Mesh}, "                            \
	"default: {idleTimeout: 5s}}]}\n"

/* The value of label @key of @o, or NULL. */
static const char *label_of(const struct model_set *s, uint32_t id,
			    const char *key)
{
	const struct mf_tagset *ts = id ? model_tags_get(s, id) : NULL;

	for (uint32_t i = 0; ts && i < ts->n; i++)
		if (!strcmp(ts->tags[i].key, key))
			return ts->tags[i].value;
	return NULL;
}

/* metadata.namespace is the label k8s.kuma.io/namespace (what a
 * targetRef's namespace is matched against); annotations are kept as a
 * tag set of their own. */
static bool test_namespace_and_annotations(void)
{
	struct model_set s;
	const struct model_obj *o;
	bool ok;

	ok = parse_ok(KUMA_MT("\n  name: t\n  namespace: kuma-system\n"
			      "  labels: {kuma.io/mesh: default}\n"
			      "  annotations: {kuma.io/description: slow}"),
		      &s);
	o = ok ? &s.objs[0] : NULL;
	ok = ok && ASSERT_EQ(s.n, 1) &&
	     ASSERT_STREQ(label_of(&s, o->labels, "k8s.kuma.io/namespace"),
			  "kuma-system") &&
	     ASSERT_STREQ(label_of(&s, o->labels, "kuma.io/mesh"), "default") &&
	     ASSERT_STREQ(label_of(&s, o->annotations, "kuma.io/description"),
			  "slow") &&
	     ASSERT_EQ(label_of(&s, o->labels, "kuma.io/description"), NULL);
	model_set_free(&s);
	if (!ok)
		return false;
	/* Without labels; and with the label saying the same. */
	ok = parse_ok(KUMA_MT("{name: t, namespace: ns1}"), &s) &&
	     ASSERT_STREQ(label_of(&s, s.objs[0].labels,
				   "k8s.kuma.io/namespace"), "ns1") &&
	     ASSERT_EQ(s.objs[0].annotations, 0);
	model_set_free(&s);
	if (!ok)
		return false;
	ok = parse_ok(KUMA_MT("{name: t, namespace: ns1, labels: "
			      "{k8s.kuma.io/namespace: ns1}}"), &s) &&
	     ASSERT_EQ(model_tags_get(&s, s.objs[0].labels)->n, 1);
	model_set_free(&s);
	return ok;
}

static bool test_bad_namespace_and_annotations(void)
{
	return expect1(KUMA_MT("{name: t, namespace: Kuma}"),
		       BAD_NAME("3:32", "metadata.namespace")) &&
	       expect1(KUMA_MT("{name: t, namespace: a, labels: "
			       "{k8s.kuma.io/namespace: b}}"),
		       "t.yaml:3:32: metadata.namespace: is not what label "
		       "k8s.kuma.io/namespace says (\"b\")") &&
	       expect1(KUMA_MT("{name: t, namespace: a, labels: {a: v, b: v, "
			       "c: v, d: v, e: v, f: v, g: v, h: v}}"),
		       "t.yaml:3:32: metadata.namespace: is kept as label "
		       "k8s.kuma.io/namespace, and the labels are 8 already "
		       "(at most 8)") &&
	       expect1(KUMA_MT("{name: t, annotations: {a: \"x y\"}}"),
		       "t.yaml:3:38: metadata.annotations.a: tag values must "
		       "be \"*\" or 1..63 characters of A-Z, a-z, 0-9, '.', "
		       "'_', '/', ':' and '-'") &&
	       expect1(KUMA_MT("{name: t, annotations: [a]}"),
		       "t.yaml:3:34: metadata.annotations: must be a mapping "
		       "of tags, not a list");
}

/* Kuma's universal form, as `kumactl apply` reads it: newer kinds with
 * `spec`, protobuf kinds (TrafficRoute, Mesh...) with their spec's fields
 * at the top level; `mesh` is kept as the label kuma.io/mesh. */
#define UNI_TR                                                                \
	"type: TrafficRoute\nname: route-all\nmesh: default\n"                \
	"labels: {team: a}\n"                                                  \
	"sources: [{match: {kuma.io/service: '*'}}]\n"                         \
	"destinations: [{match: {kuma.io/service: '*'}}]\n"                    \
	"conf:\n  destination: {kuma.io/service: '*'}\n"

static bool test_universal(void)
{
	struct model_set s;
	const struct model_obj *o;
	bool ok;

	ok = parse_ok("type: MeshTimeout\nname: t\nmesh: default\n"
		      "creationTime: \"2024-01-01T00:00:00Z\"\n"
		      "spec:\n  targetRef: {kind: Mesh}\n"
		      "  to: [{targetRef: {kind: Mesh}, "
		      "default: {idleTimeout: 5s}}]\n---\n" UNI_TR
		      "---\ntype: Mesh\nname: default\n", &s) &&
	     ASSERT_EQ(s.n, 3);
	if (!ok)
		goto out;
	o = model_set_find(&s, MODEL_MESH, "default");
	ok = ASSERT_TRUE(o != NULL) &&
	     ASSERT_STREQ(((struct core_mesh *)model_spec(o))->trust_domain,
			  "default") &&
	     ASSERT_EQ(o->labels, 0) &&
	     ASSERT_EQ(o->name_loc.line, 19) && ASSERT_EQ(o->name_loc.col, 7);
	o = model_set_find(&s, model_kind_parse("TrafficRoute"), "route-all");
	ok = ok && ASSERT_TRUE(o != NULL) && ASSERT_EQ(o->pol.n, 1) &&
	     ASSERT_STREQ(label_of(&s, o->labels, "kuma.io/mesh"), "default") &&
	     ASSERT_STREQ(label_of(&s, o->labels, "team"), "a");
	o = model_set_find(&s, model_kind_parse("MeshTimeout"), "t");
	ok = ok && ASSERT_TRUE(o != NULL) && ASSERT_EQ(o->pol.n, 1) &&
	     ASSERT_STREQ(label_of(&s, o->labels, "kuma.io/mesh"), "default");
out:
	model_set_free(&s);
	return ok;
}

/* Kuma's Kubernetes form of its legacy kinds has `mesh` at the top
 * level, as `kubectl apply` takes it: kept as the universal form keeps
 * it; a Mesh has none. */
static bool test_kubernetes_top_level_mesh(void)
{
	struct model_set s;
	const struct model_obj *o;
	bool ok;

	ok = parse_ok("apiVersion: kuma.io/v1alpha1\nkind: TrafficRoute\n"
		      "mesh: default\nmetadata: {name: route-all}\nspec:\n"
		      "  sources: [{match: {kuma.io/service: '*'}}]\n"
		      "  destinations: [{match: {kuma.io/service: '*'}}]\n"
		      "  conf: {destination: {kuma.io/service: '*'}}\n", &s);
	o = ok ? model_set_find(&s, model_kind_parse("TrafficRoute"),
				"route-all") : NULL;
	ok = ok && ASSERT_TRUE(o != NULL) &&
	     ASSERT_STREQ(label_of(&s, o->labels, "kuma.io/mesh"), "default");
	model_set_free(&s);
	return ok &&
	       expect1("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
		       "mesh: default\nmetadata: {name: default}\n",
		       "t.yaml:3:7: mesh: must not be set: a Mesh is in no "
		       "mesh");
}

static bool test_bad_universal(void)
{
	char want[2048];

	snprintf(want, sizeof(want), "t.yaml:1:7: type: unknown kind "
		 "\"Gadget\" (%s)", model_kinds_want());
	return expect1("type: TrafficRoute\nname: r\nmesh: default\n"
		       "sources: [{match: {kuma.io/service: '*'}}]\n"
		       "destinations: [{match: {kuma.io/service: '*'}}]\n"
		       "conf:\n  destination: {kuma.io/service: '*'}\n"
		       "  colour: blue\n",
		       "t.yaml:8:3: conf.colour: unknown field") &&
	       expect1("type: TrafficRoute\nname: r\n"
		       "sources: [{match: {kuma.io/service: '*'}}]\n"
		       "conf:\n  destination: {kuma.io/service: '*'}\n",
		       "t.yaml:1:1: destinations: is required") &&
	       expect1("type: MeshTimeout\nname: t\ncolour: blue\n"
		       "spec: {to: [{targetRef: {kind: Mesh}, "
		       "default: {idleTimeout: 5s}}]}\n",
		       "t.yaml:3:1: colour: unknown field") &&
	       expect1("type: MeshTimeout\nname: t\n",
		       "t.yaml:1:1: spec: is required") &&
	       expect1("type: Mesh\nname: m\nmesh: default\n",
		       "t.yaml:3:7: mesh: must not be set: a Mesh is in no "
		       "mesh") &&
	       expect1("type: Mesh\n",
		       "t.yaml:1:1: name: is required") &&
	       expect1("type: Mesh\nname: Default\n",
		       BAD_NAME("2:7", "name")) &&
	       expect1("type: MeshTimeout\nname: t\nmesh: Default\n"
		       "spec: {to: [{targetRef: {kind: Mesh}, "
		       "default: {idleTimeout: 5s}}]}\n",
		       BAD_NAME("3:7", "mesh")) &&
	       expect1("type: Gadget\nname: g\n", want);
}

static bool test_bad_names(void)
{
	return expect1(MESH("{name: Default}") TD,
		       BAD_NAME("3:18", "metadata.name")) &&
	       expect1(MESH("{name: -x}") TD,
		       BAD_NAME("3:18", "metadata.name")) &&
	       expect1(MESH("{name: a234567890123456789012345678901234567890"
			    "123456789012345678901234}") TD,
		       BAD_NAME("3:18", "metadata.name")) &&
	       expect1(MESH("{name: \"a\\0b\"}") TD,
		       "t.yaml:3:18: metadata.name: must not contain a NUL "
		       "character");
}

static bool test_bad_mesh(void)
{
	return expect1(MESH("{name: m}") "spec: {trustDomain: Mesh.Local}\n",
		       "t.yaml:4:21: spec.trustDomain: must be a trust domain: "
		       "a-z, 0-9, '.', '-' and '_' only") &&
	       expect1(MESH("{name: m}") "spec: {}\n",
		       "t.yaml:4:7: spec.trustDomain: is required");
}

/* A Workload with block-style @spec; one whose identity is @id (line 9,
 * column 13). */
#define WL(spec) API "kind: Workload\nmetadata: {name: w}\nspec:\n" spec
#define WL_ID(id)                                                             \
	WL("  node: n\n  ip: 10.1.1.1\n  port: 1\n  service: s\n"           \
	   "  identity: " id "\n")
#define NOT_SPIFFE_ID                                                         \
	"t.yaml:9:13: spec.identity: must be a SPIFFE ID "                    \
	"(spiffe://<trust-domain>/<path>)"

static bool test_bad_workload(void)
{
	return expect1(WL_ID("spiffe://td/"), NOT_SPIFFE_ID) &&
	       expect1(WL_ID("https://td/x"), NOT_SPIFFE_ID) &&
	       /* spec.service and spec.identity may be implied by a
		* MeshService or MeshIdentity: validation requires them
		* (test_mesh_service.c, test_identity.c). */
	       expect1(WL("  ip: 10.1.1.1\n  port: 1\n  service: s\n"
			  "  identity: spiffe://td/x\n"),
		       "t.yaml:5:3: spec.node: is required") &&
	       expect1(WL("  node: N\n  ip: 10.1.1.1\n  port: 1\n"
			  "  service: s\n  identity: spiffe://td/x\n"),
		       BAD_NAME("5:9", "spec.node"));
}

/* A MeshTrafficPermission targeting @target (line 5), then @rest; one
 * targeting web's proxies with the entries @from (from line 7); one entry
 * allowing the whole mesh. */
#define MTP_TO(target, rest)                                                  \
	API "kind: MeshTrafficPermission\nmetadata: {name: p}\n"              \
	"spec:\n  targetRef: " target "\n" rest
#define MTP(from) MTP_TO("{kind: MeshService, name: web}", "  from:\n" from)
#define ALLOW_MESH "  - targetRef: {kind: Mesh}\n    default: {action: Allow}\n"

static bool test_bad_mtp(void)
{
	return expect1(MTP_TO("{kind: MeshGateway, name: web}",
			      "  from:\n" ALLOW_MESH),
		       "t.yaml:5:21: spec.targetRef.kind: must be Mesh, "
		       "MeshSubset, MeshService, MeshServiceSubset, "
		       "Dataplane or MeshExternalService") &&
	       expect1(MTP_TO("{kind: Mesh, name: web}",
			      "  from:\n" ALLOW_MESH),
		       "t.yaml:5:33: spec.targetRef.name: must not be set for "
		       "kind Mesh") &&
	       expect1(MTP_TO("{kind: MeshService}", "  from:\n" ALLOW_MESH),
		       "t.yaml:5:14: spec.targetRef: needs name or labels for "
		       "kind MeshService") &&
	       expect1(MTP_TO("{kind: Mesh}",
			      "  from: [{targetRef: {kind: Mesh}, default: "
			      "{action: Allow}}]\n"
			      "  rules: [{default: {allow: []}}]\n"),
		       "t.yaml:7:10: spec.rules: cannot be used with spec.from "
		       "in one policy") &&
	       expect1(MTP_TO("{kind: Mesh}",
			      "  rules: [{default: {deny: [{}]}}]\n"),
		       "t.yaml:6:29: spec.rules[0].default.deny[0]: must have "
		       "spiffeID, sni or both") &&
	       expect1(MTP_TO("{kind: Mesh}",
			      "  rules: [{default: {deny: [{sni: {type: Prefix, "
			      "value: a}}]}}]\n"),
		       "t.yaml:6:42: spec.rules[0].default.deny[0].sni.type: "
		       "must be Exact") &&
	       expect1(MTP_TO("{kind: Mesh}",
			      "  rules: [{default: {deny: []}}]\n"),
		       "t.yaml:6:10: spec.rules: must have at least one allow, "
		       "deny or allowWithShadowDeny entry") &&
	       expect1(MTP_TO("{kind: Mesh}",
			      "  rules: [{default: {deny: [{spiffeID: {type: "
			      "Regex, value: x}}]}}]\n"),
		       "t.yaml:6:47: spec.rules[0].default.deny[0].spiffeID.type: "
		       "must be Exact or Prefix") &&
	       expect1(MTP("  - targetRef: {kind: MeshGateway, name: x}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:23: spec.from[0].targetRef.kind: must be "
		       "SpiffeID, SpiffeIDPrefix, Mesh, MeshSubset, MeshService "
		       "or MeshServiceSubset") &&
	       expect1(MTP("  - targetRef: {kind: MeshSubset, name: x}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:41: spec.from[0].targetRef.name: must not be "
		       "set for kind MeshSubset") &&
	       expect1(MTP("  - targetRef: {kind: MeshService, name: a, "
			   "tags: {v: b}}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:51: spec.from[0].targetRef.tags: must not be "
		       "set for kind MeshService") &&
	       expect1(MTP("  - targetRef: {kind: MeshServiceSubset, "
			   "tags: {v: b}}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:16: spec.from[0].targetRef.name: is required "
		       "for kind MeshServiceSubset") &&
	       expect1(MTP("  - targetRef: {kind: Mesh, name: x}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:35: spec.from[0].targetRef.name: must not be "
		       "set for kind Mesh") &&
	       expect1(MTP(ALLOW_MESH "  - targetRef: {kind: SpiffeID}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:9:16: spec.from[1].targetRef.name: is required "
		       "for kind SpiffeID") &&
	       expect1(MTP("  - targetRef: {kind: SpiffeID, name: \"spiffe://td/a/\"}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:39: spec.from[0].targetRef.name: must be a "
		       "SPIFFE ID (spiffe://<trust-domain>/<path>)") &&
	       /* a bare trust domain is a prefix (Kuma), an empty segment
		* is not */
	       expect1(MTP("  - targetRef: {kind: SpiffeIDPrefix, name: \"spiffe://td//\"}\n"
			   "    default: {action: Allow}\n"),
		       "t.yaml:7:45: spec.from[0].targetRef.name: must be a "
		       "SPIFFE ID prefix (spiffe://<trust-domain>/...)") &&
	       expect1(MTP("  - targetRef: {kind: Mesh}\n"
			   "    default: {action: allow}\n"),
		       "t.yaml:8:23: spec.from[0].default.action: must be Allow, "
		       "Deny or AllowWithShadowDeny") &&
	       expect1(MTP("  - targetRef: {kind: Mesh}\n"),
		       "t.yaml:7:5: spec.from[0].default: is required") &&
	       expect1(MTP("    []\n"),
		       "t.yaml:7:5: spec.from: must have at least one entry") &&
	       expect1(MTP("    targetRef: {kind: Mesh}\n"),
		       "t.yaml:7:5: spec.from: must be a list, not a mapping");
}

static bool test_bad_protocol(void)
{
	return expect1(SVC("  vip: 10.96.0.10\n  port: 53\n  protocol: udp\n"),
		       "t.yaml:7:13: spec.protocol: must be tcp or http");
}

static bool test_defined_twice(void)
{
	return expect1(API "kind: Service\nmetadata: {name: web}\n"
		       "spec: {vip: 10.96.0.10, port: 80}\n---\n"
		       API "kind: Service\nmetadata: {name: web}\n"
		       "spec: {vip: 10.96.0.11, port: 80}\n",
		       "t.yaml:8:18: metadata.name: Service \"web\" is defined "
		       "twice (first at t.yaml:1:1)");
}

/* Many one-object inputs (a store's keys): no search per input, one check
 * for twice-defined objects at the end, which names both inputs. */
static bool test_one_of_many(void)
{
	const char *svc = API "kind: Service\nmetadata: {name: web}\n"
			  "spec: {vip: 10.96.0.10, port: 80}\n";
	struct model_set set;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_one_of_many(&set, "/m/a", svc, strlen(svc),
					     &d), 0) &&
	     ASSERT_EQ(doc_parse_one_of_many(&set, "/m/b", svc, strlen(svc),
					     &d), 0) &&
	     ASSERT_EQ(set.n, 2) && ASSERT_EQ(d.n, 0) &&
	     ASSERT_EQ(model_set_count(&set, MODEL_SERVICE), 2) &&
	     ASSERT_EQ(doc_check_unique(&set, 0, &d), -EINVAL) &&
	     ASSERT_EQ(d.n, 1) &&
	     ASSERT_STREQ(d.msgs[0], "/m/b:3:18: metadata.name: Service "
				     "\"web\" is defined twice (first at "
				     "/m/a:1:1)") &&
	     ASSERT_EQ(doc_check_unique(&set, 2, &d), 0);
	model_set_free(&set);
	diag_free(&d);
	return ok;
}

/* A copy of a one-object input's object that outlives the set it came
 * from: its locations on its own copy of the input's name. */
/* An object moved out of its set takes its arrays and its input's name
 * along: the set it left can go first, and holds nothing of it after. */
static bool test_move_own(void)
{
	const char *svc = API "kind: Service\nmetadata: {name: web}\n"
			  "spec: {vip: 10.96.0.10, port: 80}\n";
	struct model_set from, to;
	const uint8_t *recs;
	struct diag d;
	bool ok;

	model_set_init(&from);
	model_set_init(&to);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_one_of_many(&from, "/m/policy/Service/web",
					     svc, strlen(svc), &d), 0);
	recs = ok ? from.objs[0].pol.recs : NULL;
	ok = ok && ASSERT_TRUE(recs != NULL) &&
	     ASSERT_EQ(model_set_add_move_own(&to, &from, &from.objs[0]), 0) &&
	     ASSERT_TRUE(from.objs[0].pol.recs == NULL) &&
	     ASSERT_EQ(from.objs[0].pol.n, 0) &&
	     ASSERT_TRUE(to.objs[0].pol.recs == recs);
	model_set_free(&from);
	ok = ok && ASSERT_EQ(to.n, 1) &&
	     ASSERT_STREQ(to.objs[0].loc.file, "/m/policy/Service/web") &&
	     ASSERT_TRUE(to.objs[0].name_loc.file == to.objs[0].loc.file) &&
	     ASSERT_EQ(to.objs[0].name_loc.line, 3) &&
	     ASSERT_EQ(to.objs[0].pol.n, 1) &&
	     ASSERT_EQ(model_set_count(&to, MODEL_SERVICE), 1);
	model_set_free(&to);
	diag_free(&d);
	return ok;
}

static bool test_yaml_errors(void)
{
	return expect1(API "kind: [Mesh\n",
		       "t.yaml:3:1: YAML: while parsing a flow sequence: did not "
		       "find expected ',' or ']'") &&
	       expect1(API "kind: &k Mesh\nmetadata: {name: *k}\n" TD,
		       "t.yaml:3:18: YAML: aliases (*k) are not supported") &&
	       expect1("a: \"\\q\"\n",
		       "t.yaml:1:5: YAML: while parsing a quoted scalar: found "
		       "unknown escape character");
}

/* One problem per field, all reported in one run, in reading order. */
static bool test_all_problems_reported(void)
{
	struct model_set set;
	struct diag d;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(parse(SVC("  vip: 300.1.1.1\n  port: 0\n  x: 1\n"
				 "---\n" API "kind: Node\nmetadata: {name: n}\n"
				 "spec: {address: 10.0.0.1}\n"), &set, &d),
		       -EINVAL);
	diag_sort(&d);
	ok = ok && ph_diag_is(&d, (const char *const[]){
		VIP_NOT_IPV4, PORT_RANGE, "t.yaml:7:3: spec.x: unknown field",
		NULL }) &&
	     /* The valid document after the broken one still parses. */
	     ASSERT_EQ(set.n, 1) && ASSERT_EQ(set.objs[0].kind, MODEL_NODE);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

static bool test_deep_nesting_refused(void)
{
	char buf[512];
	size_t n = 0;

	for (int i = 0; i <= YTREE_MAX_DEPTH; i++)
		buf[n++] = '[';
	buf[n] = '\0';
	return expect1(buf, "t.yaml:1:65: YAML: nested deeper than 64 levels");
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mesh);
	TEST_RUN(test_node_default_port);
	TEST_RUN(test_service);
	TEST_RUN(test_workload_block_style_kuma);
	TEST_RUN(test_mtp);
	TEST_RUN(test_empty_documents);
	TEST_RUN(test_bad_ports);
	TEST_RUN(test_bad_addresses);
	TEST_RUN(test_plain_types);
	TEST_RUN(test_tag_values_are_strings);
	TEST_RUN(test_unknown_fields);
	TEST_RUN(test_document_shape);
	TEST_RUN(test_namespace_and_annotations);
	TEST_RUN(test_bad_namespace_and_annotations);
	TEST_RUN(test_universal);
	TEST_RUN(test_bad_universal);
	TEST_RUN(test_kubernetes_top_level_mesh);
	TEST_RUN(test_bad_names);
	TEST_RUN(test_bad_mesh);
	TEST_RUN(test_bad_workload);
	TEST_RUN(test_bad_mtp);
	TEST_RUN(test_bad_protocol);
	TEST_RUN(test_defined_twice);
	TEST_RUN(test_one_of_many);
	TEST_RUN(test_move_own);
	TEST_RUN(test_note_paths_kept_once);
	TEST_RUN(test_yaml_errors);
	TEST_RUN(test_all_problems_reported);
	TEST_RUN(test_deep_nesting_refused);
	TEST_MAIN_END();
}
