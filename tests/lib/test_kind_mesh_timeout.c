// SPDX-License-Identifier: Apache-2.0
/*
 * Kuma's inbound `rules` form and policies without entries, on the kinds
 * that take them (lib/policy/pdoc.c, render.c): MeshTimeout's rules with
 * spiffeID and sni matches become one record per match and print back as
 * written; a rule without matches is one record; MeshCircuitBreaker's
 * rules (no matches) stand next to `to`; a MeshRetry with `to: []` keeps
 * its place; every misuse of the form gives exactly the expected
 * diagnostic.  (MeshTimeout's fields are tested in test_schema.c.)
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char rules_yaml[] =
	KH_DOC("MeshTimeout", "inbound")
	"  targetRef: {kind: Dataplane, labels: {app: web}}\n"
	"  rules:\n"
	"    - matches:\n"
	"        - spiffeID: {type: Exact, "
	"value: \"spiffe://mesh.local/ns/a/sa/b\"}\n"
	"        - spiffeID: {type: Prefix, value: \"spiffe://mesh.local/ns/\"}\n"
	"          sni: {type: Exact, value: web.mesh}\n"
	"      default: {http: {requestTimeout: 20s}}\n"
	"    - default:\n"
	"        idleTimeout: 2s\n";

static bool test_rules_parse(void)
{
	struct model_set set;
	const struct mf_timeout *r = kh_policy(rules_yaml, &set,
					       &kind_mesh_timeout, 3);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_RULE) &&
	     ASSERT_EQ(r[0].hdr.entry, 0) && ASSERT_EQ(r[0].hdr.rule, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
	     ASSERT_EQ(r[0].hdr.match.spiffe_type, MF_AUTHZ_MATCH_EXACT) &&
	     ASSERT_STREQ(r[0].hdr.match.spiffe,
			  "spiffe://mesh.local/ns/a/sa/b") &&
	     ASSERT_EQ(r[0].hdr.match.sni_type, 0) &&
	     ASSERT_EQ(r[0].conf.http.request_timeout, 20000) &&
	     /* the second match of the same rule: its own record, the same
	      * conf */
	     ASSERT_EQ(r[1].hdr.entry, 0) && ASSERT_EQ(r[1].hdr.rule, 1) &&
	     ASSERT_EQ(r[1].hdr.match.spiffe_type, MF_AUTHZ_MATCH_PREFIX) &&
	     ASSERT_EQ(r[1].hdr.match.sni_type, MF_AUTHZ_MATCH_EXACT) &&
	     ASSERT_STREQ(r[1].hdr.match.sni, "web.mesh") &&
	     ASSERT_EQ(r[1].conf.http.request_timeout, 20000) &&
	     /* a rule without matches, for every peer */
	     ASSERT_EQ(r[2].hdr.section, MF_SEC_RULE) &&
	     ASSERT_EQ(r[2].hdr.entry, 1) &&
	     ASSERT_EQ(r[2].hdr.match.spiffe_type, 0) &&
	     ASSERT_EQ(r[2].conf.idle_timeout, 2000);
	return kh_finish(&set, ok);
}

/* MeshCircuitBreaker: rules without matches, next to `to` (Kuma 3.0). */
static bool test_rules_with_to(void)
{
	struct model_set set;
	const struct mf_breaker *r = kh_policy(
		KH_DOC("MeshCircuitBreaker", "cb")
		"  to:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default: {connectionLimits: {maxConnections: 2}}\n"
		"  rules:\n"
		"    - default: {connectionLimits: {maxConnections: 3}}\n",
		&set, &kind_mesh_circuit_breaker, 2);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_RULE) &&
	     ASSERT_EQ(r[1].conf.connection_limits.max_connections, 3);
	return kh_finish(&set, ok);
}

/* Kinds Kuma checks no entries of keep a policy without any. */
static bool test_empty_to(void)
{
	struct model_set set;
	const struct mf_retry *r = kh_policy(
		KH_DOC("MeshRetry", "none")
		"  targetRef: {kind: MeshService, name: web}\n"
		"  to: []\n", &set, &kind_mesh_retry, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE);
	return kh_finish(&set, ok);
}

#define MT_RULES KH_DOC("MeshTimeout", "t") "  rules:\n"
#define MT_DEF "      default: {idleTimeout: 1s}\n"

KH_TEST_BAD(test_rules_invalid,
	{ MT_RULES "    - matches: [{}]\n" MT_DEF,
	  "t.yaml:6:17: spec.rules[0].matches[0]: must have a spiffeID or "
	  "an sni" },
	{ MT_RULES "    - matches: [{spiffeID: {type: Regex, value: x}}]\n"
	  MT_DEF,
	  "t.yaml:6:35: spec.rules[0].matches[0].spiffeID.type: must be "
	  "Exact or Prefix" },
	{ MT_RULES "    - matches: [{spiffeID: {type: Exact, value: x}}]\n"
	  MT_DEF,
	  "t.yaml:6:49: spec.rules[0].matches[0].spiffeID.value: must be a "
	  "SPIFFE ID (spiffe://<trust-domain>/<path>)" },
	{ MT_RULES "    - matches: [{sni: {type: Prefix, value: a.b}}]\n"
	  MT_DEF,
	  "t.yaml:6:30: spec.rules[0].matches[0].sni.type: must be Exact" },
	{ MT_RULES "    - matches: [{sni: {type: Exact, value: A_B}}]\n"
	  MT_DEF,
	  "t.yaml:6:44: spec.rules[0].matches[0].sni.value: must be a "
	  "lower-case DNS name (RFC 1123)" },
	{ MT_RULES "    - matches: [{sni: {type: Exact}}]\n" MT_DEF,
	  "t.yaml:6:23: spec.rules[0].matches[0].sni.value: is required" },
	{ MT_RULES "    - matches: []\n",
	  "t.yaml:6:7: spec.rules[0].default: is required" },
	{ KH_DOC("MeshCircuitBreaker", "c") "  rules:\n"
	  "    - matches: [{sni: {type: Exact, value: a}}]\n"
	  "      default: {connectionLimits: {maxConnections: 1}}\n",
	  "t.yaml:6:16: spec.rules[0].matches: is not allowed in a "
	  "MeshCircuitBreaker" },
	{ KH_DOC("MeshTimeout", "t")
	  "  from: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1s}}]\n"
	  "  rules: [{default: {idleTimeout: 1s}}]\n",
	  "t.yaml:6:10: spec.rules: cannot be used with spec.from in one "
	  "policy" },
	{ KH_DOC("MeshTimeout", "t")
	  "  to: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1s}}]\n"
	  "  rules: [{default: {idleTimeout: 1s}}]\n",
	  "t.yaml:6:10: spec.rules: cannot be used with spec.to in one "
	  "policy" },
	{ KH_DOC("MeshTimeout", "t") "  to: []\n",
	  "t.yaml:5:3: spec: must have at least one of to, from, rules" },
	{ KH_DOC("MeshHealthCheck", "h") "  rules: []\n",
	  "t.yaml:5:10: spec.rules: is not allowed in a MeshHealthCheck (it "
	  "has only to)" },
)

/* Kuma's rules on what a MeshTimeout sets. */
KH_TEST_BAD(test_timeout_fields_invalid,
	{ MT_RULES "    - default: {}\n",
	  "t.yaml:6:16: spec.rules[0].default: needs at least one of "
	  "connectionTimeout, idleTimeout, http" },
	{ MT_RULES "    - default: {http: {requestHeadersTimeout: 1s}}\n",
	  "t.yaml:6:23: spec.rules[0].default.http: needs at least one of "
	  "requestTimeout, streamIdleTimeout, maxStreamDuration, "
	  "maxConnectionDuration" },
	{ MT_RULES "    - matches: [{spiffeID: {type: Prefix, "
	  "value: \"spiffe://a/\"}}]\n"
	  "      default: {http: {requestTimeout: 1s, "
	  "maxStreamDuration: 1s}}\n",
	  "t.yaml:7:16: spec.rules[0].default.http.maxStreamDuration: cannot "
	  "be set in a rule that matches a spiffeID: it is fixed before the "
	  "peer's identity is known" },
	{ KH_DOC("MeshTimeout", "t")
	  "  targetRef: {kind: MeshHTTPRoute, name: r}\n"
	  "  to: [{targetRef: {kind: Mesh}, default: {idleTimeout: 1s}}]\n",
	  "t.yaml:6:43: spec.to[0].default.idleTimeout: cannot be set for a "
	  "MeshHTTPRoute target: a route has request timeouts only" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_rules_parse);
	TEST_RUN(test_rules_with_to);
	TEST_RUN(test_empty_to);
	TEST_RUN(test_rules_invalid);
	TEST_RUN(test_timeout_fields_invalid);
	TEST_MAIN_END();
}
