// SPDX-License-Identifier: Apache-2.0
/*
 * MeshOpenTelemetryBackend (lib/policy/kind_mesh_otel_backend.c): a full
 * spec and an empty one parse, the full one into the expected record, and
 * both print back to the same bytes; addresses, ports, paths and enums
 * each give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static bool test_otel_backend_parse(void)
{
	struct model_set set;
	const struct mf_otel_backend *b = kh_policy(
		KH_DOC("MeshOpenTelemetryBackend", "otel")
		"  endpoint: {address: 10.0.0.7, port: 4318, path: /v1}\n"
		"  protocol: http\n"
		"  env: {mode: Disabled, precedence: EnvFirst,\n"
		"        allowSignalOverrides: false}\n",
		&set, &kind_mesh_otel_backend, 1);
	bool ok;

	ok = b && ASSERT_EQ(b->present, 0x7) &&
	     ASSERT_STREQ(b->endpoint.address, "10.0.0.7") &&
	     ASSERT_EQ(b->endpoint.port, 4318) &&
	     ASSERT_STREQ(b->endpoint.path, "/v1") &&
	     ASSERT_EQ(b->protocol, MF_OTEL_HTTP) &&
	     ASSERT_EQ(b->env.mode, 1) && ASSERT_EQ(b->env.precedence, 2) &&
	     ASSERT_EQ(b->env.present, 0x7) &&
	     ASSERT_EQ(b->env.allow_signal_overrides, 0);
	if (!kh_finish(&set, ok))
		return false;
	/* An empty spec: the collector's defaults. */
	b = kh_policy(KH_DOC("MeshOpenTelemetryBackend", "d") "  {}\n", &set,
		      &kind_mesh_otel_backend, 1);
	return kh_finish(&set, b && ASSERT_EQ(b->present, 0));
}

#define OB KH_DOC("MeshOpenTelemetryBackend", "o")

KH_TEST_BAD(test_otel_backend_invalid,
	{ OB "  endpoint: {address: \"\"}\n",
	  "t.yaml:5:23: spec.endpoint.address: must not be empty" },
	{ OB "  endpoint: {address: \"not a host\"}\n",
	  "t.yaml:5:23: spec.endpoint.address: must be an IP address or a "
	  "host name" },
	{ OB "  endpoint: {port: 0}\n",
	  "t.yaml:5:20: spec.endpoint.port: must be 1..65535" },
	{ OB "  endpoint: {path: /v1}\n",
	  "t.yaml:5:13: spec.endpoint: path must not be set when protocol "
	  "is grpc (the default)" },
	{ OB "  endpoint: {path: v1}\n  protocol: http\n",
	  "t.yaml:5:20: spec.endpoint.path: must start with /" },
	{ OB "  endpoint: {path: /v1?x=1}\n  protocol: http\n",
	  "t.yaml:5:20: spec.endpoint.path: must not have a query or a "
	  "fragment" },
	{ OB "  protocol: tcp\n",
	  "t.yaml:5:13: spec.protocol: must be grpc or http" },
	{ OB "  env: {mode: Sometimes}\n",
	  "t.yaml:5:15: spec.env.mode: must be Disabled, Optional or "
	  "Required" },
	{ OB "  env: {precedence: First}\n",
	  "t.yaml:5:21: spec.env.precedence: must be ExplicitFirst or "
	  "EnvFirst" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_otel_backend_parse);
	TEST_RUN(test_otel_backend_invalid);
	TEST_MAIN_END();
}
