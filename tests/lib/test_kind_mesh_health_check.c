// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHealthCheck (lib/policy/kind_mesh_health_check.c) through mfctl's
 * reader and writer: Kuma's example, every field, parses into the
 * expected record and prints back to the same bytes; status codes, paths,
 * base64 payloads, ranges, list bounds and the http-or-tcp rule each give
 * exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char health_yaml[] =
	KH_DOC("MeshHealthCheck", "web-to-backend")
	"  targetRef: {kind: MeshSubset, tags: {version: v1}}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      default:\n"
	"        interval: 10s\n"
	"        timeout: 2s\n"
	"        unhealthyThreshold: 3\n"
	"        healthyThreshold: 1\n"
	"        initialJitter: 5s\n"
	"        intervalJitter: 6s\n"
	"        intervalJitterPercent: 10\n"
	"        healthyPanicThreshold: 60.5\n"
	"        failTrafficOnPanic: true\n"
	"        noTrafficInterval: 1m\n"
	"        alwaysLogHealthCheckFailures: true\n"
	"        reuseConnection: false\n"
	"        http:\n"
	"          disabled: false\n"
	"          path: /health\n"
	"          expectedStatuses: [200, 201, 599]\n"
	"        tcp:\n"
	"          disabled: true\n"
	"          send: Zm9v\n"
	"          receive: [YmFy, YQ==]\n";

static bool test_health_parse(void)
{
	static const char *const v1[] = { "version", "v1" };
	struct model_set set;
	const struct mf_healthcheck *r = kh_policy(health_yaml, &set,
						   &kind_mesh_health_check, 1);
	const struct mf_hc_conf *c = r ? &r->conf : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     kh_tags_are(&set, r->hdr.target.tags, v1, 1) &&
	     ASSERT_EQ(c->present, 0x3fff) &&
	     ASSERT_EQ(c->interval, 10000) &&
	     ASSERT_EQ(c->timeout, 2000) &&
	     ASSERT_EQ(c->unhealthy_threshold, 3) &&
	     ASSERT_EQ(c->healthy_threshold, 1) &&
	     ASSERT_EQ(c->initial_jitter, 5000) &&
	     ASSERT_EQ(c->interval_jitter, 6000) &&
	     ASSERT_EQ(c->interval_jitter_percent, 10) &&
	     ASSERT_EQ(c->healthy_panic_threshold, 60500) &&
	     ASSERT_EQ(c->fail_traffic_on_panic, 1) &&
	     ASSERT_EQ(c->no_traffic_interval, 60000) &&
	     ASSERT_EQ(c->always_log_health_check_failures, 1) &&
	     ASSERT_EQ(c->reuse_connection, 0) &&
	     ASSERT_EQ(c->http.present, 0x7) &&
	     ASSERT_EQ(c->http.disabled, 0) &&
	     ASSERT_STREQ(c->http.path, "/health") &&
	     ASSERT_EQ(c->http.nexpected_statuses, 3) &&
	     ASSERT_EQ(c->http.expected_statuses[0], 200) &&
	     ASSERT_EQ(c->http.expected_statuses[1], 201) &&
	     ASSERT_EQ(c->http.expected_statuses[2], 599) &&
	     ASSERT_EQ(c->tcp.present, 0x7) &&
	     ASSERT_EQ(c->tcp.disabled, 1) &&
	     ASSERT_STREQ(c->tcp.send, "Zm9v") &&
	     ASSERT_EQ(c->tcp.nreceive, 2) &&
	     ASSERT_STREQ(c->tcp.receive[0], "YmFy") &&
	     ASSERT_STREQ(c->tcp.receive[1], "YQ==");
	return kh_finish(&set, ok);
}

#define HEALTH_HEAD KH_DOC("MeshHealthCheck", "h") KH_ENTRY("to")

KH_TEST_BAD(test_health_invalid,
	{ HEALTH_HEAD "        http: {expectedStatuses: [200, 600]}\n",
	  "t.yaml:9:40: spec.to[0].default.http.expectedStatuses[1]: "
	  "must be 100..599" },
	{ HEALTH_HEAD "        http: {path: health}\n",
	  "t.yaml:9:22: spec.to[0].default.http.path: must start with "
	  "'/'" },
	{ HEALTH_HEAD "        tcp: {send: abc}\n",
	  "t.yaml:9:21: spec.to[0].default.tcp.send: must be base64" },
	{ HEALTH_HEAD "        interval: 10s\n",
	  "t.yaml:9:9: spec.to[0].default: needs http or tcp" },
	{ HEALTH_HEAD "        http: {}\n        grpc: {}\n",
	  "t.yaml:10:9: spec.to[0].default.grpc: unknown field" },
	{ HEALTH_HEAD "        intervalJitterPercent: 101\n"
		      "        tcp: {}\n",
	  "t.yaml:9:32: spec.to[0].default.intervalJitterPercent: "
	  "must be 0..100" },
	{ HEALTH_HEAD "        http:\n"
		      "          expectedStatuses: [200, 201, 202, 203,"
		      " 204, 205, 206, 207, 208]\n",
	  "t.yaml:10:29: spec.to[0].default.http.expectedStatuses: "
	  "must have at most 8 entries" },
)

static bool test_health_layout(void)
{
	return kh_layout(&kind_mesh_health_check, health_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_health_parse);
	TEST_RUN(test_health_invalid);
	TEST_RUN(test_health_layout);
	TEST_MAIN_END();
}
