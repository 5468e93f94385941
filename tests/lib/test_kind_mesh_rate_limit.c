// SPDX-License-Identifier: Apache-2.0
/*
 * MeshRateLimit (lib/policy/kind_mesh_rate_limit.c) through mfctl's reader
 * and printer: HTTP and TCP local limits with their onRateLimit headers
 * parse into the expected records and print back to the same bytes;
 * rates, intervals, statuses and the at-least-one rules each give exactly
 * the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define MRL_HEAD KH_API "kind: MeshRateLimit\nmetadata:\n  name: limit\nspec:\n"

static const char mrl_full[] =
	MRL_HEAD
	"  targetRef: {kind: MeshService, name: backend}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        local:\n"
	"          http:\n"
	"            requestRate: {num: 100, interval: 10s}\n"
	"            onRateLimit:\n"
	"              status: 429\n"
	"              headers:\n"
	"                set:\n"
	"                  - {name: x-kuma-rate-limited, value: 'true'}\n"
	"                add:\n"
	"                  - {name: x-limit, value: 100/10s}\n"
	"          tcp:\n"
	"            connectionRate: {num: 50, interval: 250ms}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        local:\n"
	"          tcp: {disabled: true}\n";

static bool test_mesh_rate_limit_full(void)
{
	struct model_set s;
	const struct mf_ratelimit *r = kh_policy(mrl_full, &s,
						 &kind_mesh_rate_limit, 2);
	const struct mf_mrl_local *l = r ? &r[0].conf.local : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_EQ(l->http.request_rate.num, 100) &&
	     ASSERT_EQ(l->http.request_rate.interval, 10000) &&
	     ASSERT_EQ(l->http.on_rate_limit.status, 429) &&
	     ASSERT_EQ(l->http.on_rate_limit.headers.nset, 1) &&
	     ASSERT_STREQ(kh_str(&s, l->http.on_rate_limit.headers.set[0].name),
			  "x-kuma-rate-limited") &&
	     ASSERT_STREQ(kh_str(&s, l->http.on_rate_limit.headers.set[0]
					     .value), "true") &&
	     ASSERT_EQ(l->http.on_rate_limit.headers.nadd, 1) &&
	     ASSERT_STREQ(kh_str(&s, l->http.on_rate_limit.headers.add[0]
					     .value), "100/10s") &&
	     ASSERT_EQ(l->tcp.connection_rate.num, 50) &&
	     ASSERT_EQ(l->tcp.connection_rate.interval, 250) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].conf.local.present, 1u << 1) &&
	     ASSERT_EQ(r[1].conf.local.tcp.disabled, 1);
	return kh_finish(&s, ok);
}

/* Sidecars only: Kuma takes `from` for no target with gateways. */
#define MRL_FROM(local)                                                       \
	MRL_HEAD "  targetRef: {kind: Mesh, proxyTypes: [Sidecar]}\n"         \
		 "  from:\n"                                                  \
		 "    - targetRef: {kind: Mesh}\n"                            \
		 "      default:\n" local

KH_TEST_BAD(test_mesh_rate_limit_invalid,
	{ MRL_FROM("        local:\n"
	           "          http:\n"
	           "            requestRate: {num: 5, interval: 10ms}\n"),
	  "t.yaml:12:45: spec.from[0].default.local.http.requestRate.interval: "
	  "must be 50ms..4294967295ms" },
	{ MRL_FROM("        local:\n"
	           "          tcp:\n"
	           "            connectionRate: {num: 0, interval: 1s}\n"),
	  "t.yaml:12:35: spec.from[0].default.local.tcp.connectionRate.num: "
	  "must be 1..4294967295" },
	{ MRL_FROM("        local:\n"
	           "          http:\n"
	           "            requestRate: {num: 5}\n"),
	  "t.yaml:12:26: spec.from[0].default.local.http.requestRate.interval: "
	  "is required" },
	{ MRL_FROM("        local: {}\n"),
	  "t.yaml:10:16: spec.from[0].default.local: "
	  "must have at least one of http, tcp" },
	{ MRL_FROM("        local:\n"
	           "          http: {}\n"),
	  "t.yaml:11:17: spec.from[0].default.local.http: "
	  "must have at least one of disabled, requestRate, onRateLimit" },
	{ MRL_FROM("        local:\n"
	           "          http:\n"
	           "            onRateLimit: {status: 600}\n"),
	  "t.yaml:12:35: spec.from[0].default.local.http.onRateLimit.status: "
	  "must be 100..599" },
	{ MRL_FROM("        {}\n"),
	  "t.yaml:10:9: spec.from[0].default.local: "
	  "is required" },
	{ MRL_HEAD "  from:\n    - targetRef: {kind: Mesh}\n"
	  "      default: {local: {tcp: {disabled: true}}}\n",
	  "t.yaml:7:5: spec.from: must not be used when the target includes "
	  "gateways: select proxyTypes [Sidecar], or use spec.to" },
	{ MRL_HEAD "  targetRef: {kind: MeshService, name: backend}\n"
	  "  to:\n    - targetRef: {kind: Mesh}\n"
	  "      default: {local: {tcp: {disabled: true}}}\n",
	  "t.yaml:8:5: spec.to: must only be used when the target includes "
	  "gateways" },
	{ MRL_HEAD "  targetRef: {kind: Dataplane}\n  rules:\n"
	  "    - matches: [{spiffeID: {type: Exact, value: \"spiffe://a/b\"}}]\n"
	  "      default: {local: {tcp: {disabled: true}}}\n",
	  "t.yaml:9:16: spec.rules[0].default.local.tcp: cannot be set in a "
	  "rule that matches a spiffeID: a connection is limited before the "
	  "peer's identity is known" },
	{ MRL_HEAD "  rules:\n    - default: {local: {tcp: {disabled: true}}}\n",
	  "t.yaml:7:5: spec.rules: must not be used when the target includes "
	  "gateways: select proxyTypes [Sidecar]" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mesh_rate_limit_full);
	TEST_RUN(test_mesh_rate_limit_invalid);
	TEST_MAIN_END();
}
