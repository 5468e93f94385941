// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTLS (lib/policy/kind_mesh_tls.c) through mfctl's reader and writer:
 * Kuma 3.0's rules form and Kuma 2.x's from form parse into the expected
 * records and print back to the same bytes; a target narrower than the
 * mesh sets the mode only; TLSAuto orders against no version; a policy
 * without rules keeps its target; enums, the version order, the
 * mesh-only fields, the entry kinds and the sections each give exactly
 * the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char tls_yaml[] =
	KH_DOC("MeshTLS", "strict")
	"  targetRef: {kind: Mesh}\n"
	"  rules:\n"
	"    - default:\n"
	"        tlsVersion: {min: TLS12, max: TLS13}\n"
	"        tlsCiphers: [ECDHE-RSA-CHACHA20-POLY1305,\n"
	"                     ECDHE-ECDSA-AES128-GCM-SHA256,\n"
	"                     ECDHE-RSA-CHACHA20-POLY1305]\n"
	"        mode: Strict\n";

static bool test_tls_rules_parse(void)
{
	struct model_set set;
	const struct mf_mesh_tls *r = kh_policy(tls_yaml, &set,
						&kind_mesh_tls, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_RULE) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[0].hdr.match.spiffe_type, 0) &&
	     ASSERT_EQ(r[0].conf.present, 0x7) &&
	     ASSERT_EQ(r[0].conf.tls_version.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.tls_version.min, MF_TLS_12) &&
	     ASSERT_EQ(r[0].conf.tls_version.max, MF_TLS_13) &&
	     /* in the order written, a repeat kept */
	     ASSERT_EQ(r[0].conf.ntls_ciphers, 3) &&
	     ASSERT_EQ(r[0].conf.tls_ciphers[0],
		       MF_TLS_ECDHE_RSA_CHACHA20_POLY1305) &&
	     ASSERT_EQ(r[0].conf.tls_ciphers[1],
		       MF_TLS_ECDHE_ECDSA_AES128_GCM_SHA256) &&
	     ASSERT_EQ(r[0].conf.tls_ciphers[2],
		       MF_TLS_ECDHE_RSA_CHACHA20_POLY1305) &&
	     ASSERT_EQ(r[0].conf.mode, MF_TLS_STRICT);
	return kh_finish(&set, ok);
}

/* Kuma 2.x: from[] entries for the whole mesh; no targetRef is Mesh. */
static bool test_tls_from_parse(void)
{
	struct model_set set;
	const struct mf_mesh_tls *r = kh_policy(
		KH_DOC("MeshTLS", "legacy")
		"  from:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default: {mode: Permissive}\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default:\n"
		"        tlsVersion: {min: TLS10}\n"
		"        tlsCiphers: [ECDHE-ECDSA-AES256-GCM-SHA384]\n",
		&set, &kind_mesh_tls, 2);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[0].conf.present, 0x4) &&
	     ASSERT_EQ(r[0].conf.mode, MF_TLS_PERMISSIVE) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].hdr.entry, 1) &&
	     ASSERT_EQ(r[1].conf.present, 0x3) &&
	     ASSERT_EQ(r[1].conf.tls_version.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.tls_version.min, MF_TLS_10) &&
	     ASSERT_EQ(r[1].conf.ntls_ciphers, 1) &&
	     ASSERT_EQ(r[1].conf.tls_ciphers[0],
		       MF_TLS_ECDHE_ECDSA_AES256_GCM_SHA384);
	return kh_finish(&set, ok);
}

/* A subset or a Dataplane sets the mode; an empty cipher list sets no
 * cipher, so it may stand there too. */
static bool test_tls_narrow_target(void)
{
	struct model_set set;
	const struct mf_mesh_tls *r = kh_policy(
		KH_DOC("MeshTLS", "web")
		"  targetRef: {kind: Dataplane, labels: {app: web},\n"
		"              sectionName: http}\n"
		"  rules:\n"
		"    - default: {mode: Permissive, tlsCiphers: []}\n",
		&set, &kind_mesh_tls, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
	     ASSERT_STREQ(r[0].hdr.target.section, "http") &&
	     ASSERT_EQ(r[0].conf.present, 0x6) &&
	     ASSERT_EQ(r[0].conf.ntls_ciphers, 0) &&
	     ASSERT_EQ(r[0].conf.mode, MF_TLS_PERMISSIVE);
	if (!kh_finish(&set, ok))
		return false;
	r = kh_policy(KH_DOC("MeshTLS", "subset")
		      "  targetRef: {kind: MeshSubset, tags: {zone: a}}\n"
		      "  rules: [{default: {mode: Strict}}]\n",
		      &set, &kind_mesh_tls, 1);
	return kh_finish(&set, r &&
			 ASSERT_EQ(r[0].hdr.target.kind,
				   MF_REF_MESH_SUBSET) &&
			 ASSERT_EQ(r[0].conf.mode, MF_TLS_STRICT));
}

/* TLSAuto is Envoy's choice: it is above or below nothing. */
static bool test_tls_version_bounds(void)
{
	struct model_set set;
	const struct mf_mesh_tls *r = kh_policy(
		KH_DOC("MeshTLS", "auto")
		"  rules:\n"
		"    - default: {tlsVersion: {min: TLS13, max: TLSAuto}}\n"
		"    - default: {tlsVersion: {min: TLS11, max: TLS11}}\n",
		&set, &kind_mesh_tls, 2);
	bool ok;

	ok = r && ASSERT_EQ(r[0].conf.tls_version.min, MF_TLS_13) &&
	     ASSERT_EQ(r[0].conf.tls_version.max, MF_TLS_AUTO) &&
	     ASSERT_EQ(r[1].conf.tls_version.min, MF_TLS_11) &&
	     ASSERT_EQ(r[1].conf.tls_version.max, MF_TLS_11);
	return kh_finish(&set, ok);
}

/* Kuma 3.0 requires no rules: the policy keeps its target and one record
 * of no section.  (Printing it back is render.c's: it writes `to: []`,
 * which a MeshTLS does not take, so no round trip here.) */
static bool test_tls_no_rules(void)
{
	struct model_set set;
	const struct mf_mesh_tls *r = kh_policy(
		KH_DOC("MeshTLS", "none")
		"  targetRef: {kind: Dataplane, labels: {app: web}}\n",
		&set, &kind_mesh_tls, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
	     ASSERT_EQ(r[0].conf.present, 0);
	if (r)
		model_set_free(&set);
	return ok;
}

/* TLS_RULE is 6 lines: the first line after it is line 7. */
#define TLS_RULE KH_DOC("MeshTLS", "t") "  rules:\n    - default:\n"
#define TLS_ONLY_MESH                                                        \
	"can only be set when spec.targetRef is kind Mesh: versions and "    \
	"ciphers hold for the whole mesh"
/* A block list item of tlsCiphers, and four of them. */
#define TLS_CIPHER "          - ECDHE-RSA-AES128-GCM-SHA256\n"
#define TLS_CIPHERS_4 TLS_CIPHER TLS_CIPHER TLS_CIPHER TLS_CIPHER

KH_TEST_BAD(test_tls_invalid,
	{ TLS_RULE "        mode: Lax\n",
	  "t.yaml:7:15: spec.rules[0].default.mode: must be Permissive or "
	  "Strict" },
	{ TLS_RULE "        tlsVersion: {min: TLS15}\n",
	  "t.yaml:7:27: spec.rules[0].default.tlsVersion.min: must be "
	  "TLSAuto, TLS10, TLS11, TLS12 or TLS13" },
	{ TLS_RULE "        tlsVersion: {max: TLS1.3}\n",
	  "t.yaml:7:27: spec.rules[0].default.tlsVersion.max: must be "
	  "TLSAuto, TLS10, TLS11, TLS12 or TLS13" },
	{ TLS_RULE "        tlsVersion: {min: TLS13, max: TLS12}\n",
	  "t.yaml:7:27: spec.rules[0].default.tlsVersion.min: must not be "
	  "above max" },
	{ TLS_RULE "        tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256, "
		   "AES128-SHA]\n",
	  "t.yaml:7:51: spec.rules[0].default.tlsCiphers[1]: must be "
	  "ECDHE-ECDSA-AES128-GCM-SHA256, ECDHE-ECDSA-AES256-GCM-SHA384, "
	  "ECDHE-ECDSA-CHACHA20-POLY1305, ECDHE-RSA-AES128-GCM-SHA256, "
	  "ECDHE-RSA-AES256-GCM-SHA384 or ECDHE-RSA-CHACHA20-POLY1305" },
	{ TLS_RULE "        tlsCiphers:\n" TLS_CIPHERS_4 TLS_CIPHERS_4
		   TLS_CIPHERS_4 TLS_CIPHERS_4 TLS_CIPHER,
	  "t.yaml:8:11: spec.rules[0].default.tlsCiphers: must have at most "
	  "16 entries" },
	{ TLS_RULE "        tlsSuites: []\n",
	  "t.yaml:7:9: spec.rules[0].default.tlsSuites: unknown field" },
	/* Versions and ciphers are the mesh's. */
	{ KH_DOC("MeshTLS", "t")
	  "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	  "  rules:\n"
	  "    - default: {tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256]}\n",
	  "t.yaml:7:16: spec.rules[0].default.tlsCiphers: " TLS_ONLY_MESH },
	{ KH_DOC("MeshTLS", "t")
	  "  targetRef: {kind: Dataplane}\n"
	  "  from:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      default: {mode: Strict, tlsVersion: {}}\n",
	  "t.yaml:8:16: spec.from[0].default.tlsVersion: " TLS_ONLY_MESH },
	/* The entries and their targets. */
	{ KH_DOC("MeshTLS", "t")
	  "  from:\n"
	  "    - targetRef: {kind: MeshService, name: web}\n"
	  "      default: {mode: Strict}\n",
	  "t.yaml:6:25: spec.from[0].targetRef.kind: must be Mesh" },
	{ KH_DOC("MeshTLS", "t")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  rules: [{default: {mode: Strict}}]\n",
	  "t.yaml:5:21: spec.targetRef.kind: must be Mesh, MeshSubset or "
	  "Dataplane" },
	{ KH_DOC("MeshTLS", "t")
	  "  from: [{targetRef: {kind: Mesh}, default: {mode: Strict}}]\n"
	  "  rules: [{default: {mode: Strict}}]\n",
	  "t.yaml:6:10: spec.rules: cannot be used with spec.from in one "
	  "policy" },
	{ KH_DOC("MeshTLS", "t")
	  "  rules:\n"
	  "    - matches: [{spiffeID: {type: Prefix, "
	  "value: \"spiffe://mesh.local/\"}}]\n"
	  "      default: {mode: Strict}\n",
	  "t.yaml:6:16: spec.rules[0].matches: is not allowed in a MeshTLS" },
)

static bool test_tls_layout(void)
{
	return kh_layout(&kind_mesh_tls, tls_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_tls_rules_parse);
	TEST_RUN(test_tls_from_parse);
	TEST_RUN(test_tls_narrow_target);
	TEST_RUN(test_tls_version_bounds);
	TEST_RUN(test_tls_no_rules);
	TEST_RUN(test_tls_invalid);
	TEST_RUN(test_tls_layout);
	TEST_MAIN_END();
}
