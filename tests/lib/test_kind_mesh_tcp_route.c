// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTCPRoute (lib/policy/kind_mesh_tcp_route.c) through mfctl's reader
 * and printer: weighted backendRefs parse into the expected records (one
 * per rule) and print back to the same bytes; weights, backendRef kinds,
 * tags, ports (required for a MeshMultiZoneService), the required default
 * and backendRefs, and the one rule of an entry each give exactly the
 * expected "file:line:col: path: message"; an entry may have no rules.
 */
#define KH_FILE "r.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char tcp_yaml[] =
	KH_DOC("MeshTCPRoute", "web-to-db")
	"  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: db}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs:\n"
	"              - {kind: MeshServiceSubset, name: db, tags: {version: v1}, weight: 90}\n"
	"              - {kind: MeshServiceSubset, name: db, tags: {version: v2}, weight: 10}\n"
	"    - targetRef: {kind: MeshService, name: db-ro}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs:\n"
	"              - {kind: MeshMultiZoneService, name: db-all, port: 5432, weight: 4294967295}\n"
	"    - targetRef: {kind: MeshService, name: cache}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs: [{kind: MeshService, name: cache-v2, port: 6379}]\n";

static bool test_tcp_full(void)
{
	struct model_set s;
	const struct mf_tcp_route *r = kh_policy(tcp_yaml, &s,
						 &kind_mesh_tcp_route, 3);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     ASSERT_STREQ(kh_tag(&s, r[0].hdr.target.tags, "app"), "web") &&
	     ASSERT_EQ(r[0].hdr.entry, 0) && ASSERT_EQ(r[0].hdr.rule, 0) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "db") &&
	     ASSERT_EQ(r[0].rule.def.nbackend_refs, 2) &&
	     ASSERT_STREQ(kh_tag(&s, r[0].rule.def.backend_refs[1].ref.tags,
				 "version"), "v2") &&
	     ASSERT_EQ(r[0].rule.def.backend_refs[1].weight, 10) &&
	     ASSERT_EQ(r[1].hdr.entry, 1) && ASSERT_EQ(r[1].hdr.rule, 0) &&
	     ASSERT_STREQ(r[1].hdr.ref.name, "db-ro") &&
	     ASSERT_EQ(r[1].rule.def.backend_refs[0].ref.kind,
		       MF_REF_MESH_MULTI_ZONE_SERVICE) &&
	     ASSERT_STREQ(r[1].rule.def.backend_refs[0].ref.name, "db-all") &&
	     ASSERT_EQ(r[1].rule.def.backend_refs[0].port, 5432) &&
	     /* Kuma's weights are uint32s. */
	     ASSERT_EQ(r[1].rule.def.backend_refs[0].weight, 4294967295u) &&
	     ASSERT_EQ(r[2].hdr.entry, 2) && ASSERT_EQ(r[2].hdr.rule, 0) &&
	     ASSERT_STREQ(r[2].hdr.ref.name, "cache") &&
	     ASSERT_EQ(r[2].rule.def.backend_refs[0].port, 6379);
	return kh_finish(&s, ok);
}

#define TCP_HEAD                                                              \
	KH_DOC("MeshTCPRoute", "t")                                           \
	"  to:\n"                                                             \
	"    - targetRef: {kind: MeshService, name: db}\n"                    \
	"      rules:\n"

KH_TEST_BAD(test_tcp_invalid,
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, weight: 0}]\n",
	  "r.yaml:9:13: spec.to[0].rules[0].default: backendRefs need at least one weight above 0" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: Mesh}]\n",
	  "r.yaml:9:34: spec.to[0].rules[0].default.backendRefs[0].kind: "
	  "must be MeshService, MeshServiceSubset, MeshExternalService or "
	  "MeshMultiZoneService" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, tags: {v: x}}]\n",
	  "r.yaml:9:62: spec.to[0].rules[0].default.backendRefs[0].tags: "
	  "must not be set for kind MeshService" },
	{ TCP_HEAD
	  "        - {}\n",
	  "r.yaml:8:11: spec.to[0].rules[0].default: is required" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, port: 0}]\n",
	  "r.yaml:9:62: spec.to[0].rules[0].default.backendRefs[0].port: must be 1..65535" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshMultiZoneService, name: a}]\n",
	  "r.yaml:9:27: spec.to[0].rules[0].default.backendRefs[0].port: "
	  "is required for kind MeshMultiZoneService" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, weight: 4294967296}]\n",
	  "r.yaml:9:64: spec.to[0].rules[0].default.backendRefs[0].weight: "
	  "must be 0..4294967295" },
	{ TCP_HEAD
	  "        - default: {}\n",
	  "r.yaml:8:20: spec.to[0].rules[0].default.backendRefs: is required" },
	{ TCP_HEAD
	  "        - default: {backendRefs: []}\n",
	  "r.yaml:8:34: spec.to[0].rules[0].default.backendRefs: must have "
	  "at least one entry" },
	{ TCP_HEAD
	  "        - default: {backendRefs: [{kind: MeshService, name: a}]}\n"
	  "        - default: {backendRefs: [{kind: MeshService, name: b}]}\n",
	  "r.yaml:9:11: spec.to[0].rules[1]: is one rule too many: a "
	  "MeshTCPRoute to[] entry has one rule" },
)

/* Under a MeshGateway target (Kuma 2.14) the entry is the whole mesh, and
 * the backendRefs say where its connections go. */
static bool test_tcp_gateway(void)
{
	static const char yaml[] =
		KH_DOC("MeshTCPRoute", "gw")
		"  targetRef: {kind: MeshGateway, name: edge, tags: {port: \"6000\"}}\n"
		"  to:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      rules:\n"
		"        - default:\n"
		"            backendRefs: [{kind: MeshService, name: other}]\n";
	struct model_set s;
	const struct mf_tcp_route *r = kh_policy(yaml, &s,
						 &kind_mesh_tcp_route, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_GATEWAY) &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_STREQ(r[0].rule.def.backend_refs[0].ref.name, "other");
	return kh_finish(&s, ok);
}

/* Kuma takes a to[] entry with `rules: []`: one record for the entry,
 * printed back as `rules: []`.  rules itself is required (Kuma's schema
 * wants it in every entry). */
static bool test_tcp_entry_without_rules(void)
{
	static const char yaml[] =
		KH_DOC("MeshTCPRoute", "r")
		"  to:\n"
		"    - targetRef: {kind: MeshService, name: db}\n"
		"      rules: []\n"
		"    - targetRef: {kind: MeshService, name: cache}\n"
		"      rules: []\n"
		"    - targetRef: {kind: MeshService, name: web}\n"
		"      rules:\n"
		"        - default: {backendRefs: [{kind: MeshService, name: a}]}\n";
	struct model_set s;
	const struct mf_tcp_route *r = kh_policy(yaml, &s,
						 &kind_mesh_tcp_route, 3);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.entry, 0) &&
	     ASSERT_EQ(r[0].hdr.rule, MF_ROUTE_NO_RULES) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "db") &&
	     ASSERT_EQ(r[0].rule.present, 0) &&
	     ASSERT_EQ(r[1].hdr.entry, 1) &&
	     ASSERT_EQ(r[1].hdr.rule, MF_ROUTE_NO_RULES) &&
	     ASSERT_STREQ(r[1].hdr.ref.name, "cache") &&
	     ASSERT_EQ(r[1].rule.present, 0) &&
	     ASSERT_EQ(r[2].hdr.entry, 2) && ASSERT_EQ(r[2].hdr.rule, 0) &&
	     ASSERT_EQ(r[2].rule.def.nbackend_refs, 1) &&
	     ASSERT_TRUE(!kind_rec_check(&kind_mesh_tcp_route, &r[0]));
	return kh_finish(&s, ok);
}

KH_TEST_BAD(test_tcp_rules_not_a_list,
	{ KH_DOC("MeshTCPRoute", "t")
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: db}\n"
	  "      rules: {default: {}}\n",
	  "r.yaml:7:14: spec.to[0].rules: must be a list, not a mapping" },
)

/* A route is outbound traffic's: its Dataplane target names no inbound
 * (Kuma refuses sectionName there). */
KH_TEST_BAD(test_tcp_rules_required,
	{ KH_DOC("MeshTCPRoute", "t")
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: db}\n"
	  "      rules: []\n"
	  "    - targetRef: {kind: MeshService, name: cache}\n",
	  "r.yaml:8:7: spec.to[1].rules: is required" },
	{ KH_DOC("MeshTCPRoute", "t")
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: db}\n"
	  "      rules:\n",		/* null, as good as left out */
	  "r.yaml:6:7: spec.to[0].rules: is required" },
)

KH_TEST_BAD(test_tcp_target_section,
	{ KH_DOC("MeshTCPRoute", "t")
	  "  targetRef: {kind: Dataplane, labels: {app: web}, sectionName: http}\n"
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: db}\n"
	  "      rules: []\n",
	  "r.yaml:5:65: spec.targetRef.sectionName: can only be used with "
	  "inbound policies (from or rules entries)" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_tcp_full);
	TEST_RUN(test_tcp_invalid);
	TEST_RUN(test_tcp_entry_without_rules);
	TEST_RUN(test_tcp_rules_not_a_list);
	TEST_RUN(test_tcp_rules_required);
	TEST_RUN(test_tcp_target_section);
	TEST_RUN(test_tcp_gateway);
	TEST_MAIN_END();
}
