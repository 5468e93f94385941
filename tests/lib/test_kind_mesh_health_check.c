// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHealthCheck (lib/policy/kind_mesh_health_check.c) through mfctl's
 * reader and writer: Kuma's example, every field, parses into the
 * expected record and prints back to the same bytes; status codes, paths,
 * header names, base64 payloads, ranges, list bounds and the "http, tcp or
 * grpc" rule each give exactly the expected diagnostic.
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
	"        eventLogPath: /tmp/health-check.log\n"
	"        alwaysLogHealthCheckFailures: true\n"
	"        reuseConnection: false\n"
	"        http:\n"
	"          disabled: false\n"
	"          path: /health\n"
	"          expectedStatuses: [200, 201, 599]\n"
	"          requestHeadersToAdd:\n"
	"            set: [{name: content-type, value: application/json}]\n"
	"            add:\n"
	"              - {name: accept, value: application/json}\n"
	"              - {name: x-probe, value: mesh}\n"
	"        tcp:\n"
	"          disabled: true\n"
	"          send: Zm9v\n"
	"          receive: [YmFy, YQ==]\n"
	"        grpc:\n"
	"          disabled: false\n"
	"          serviceName: grpc.health.v1.Health\n"
	"          authority: backend.mesh:8080\n";

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
	     ASSERT_EQ(c->present, 0xffff) &&
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
	     ASSERT_STREQ(c->event_log_path, "/tmp/health-check.log") &&
	     ASSERT_EQ(c->http.present, 0xf) &&
	     ASSERT_EQ(c->http.disabled, 0) &&
	     ASSERT_STREQ(c->http.path, "/health") &&
	     ASSERT_EQ(c->http.nexpected_statuses, 3) &&
	     ASSERT_EQ(c->http.expected_statuses[0], 200) &&
	     ASSERT_EQ(c->http.expected_statuses[1], 201) &&
	     ASSERT_EQ(c->http.expected_statuses[2], 599) &&
	     ASSERT_EQ(c->http.request_headers_to_add.present, 0x3) &&
	     ASSERT_EQ(c->http.request_headers_to_add.nset, 1) &&
	     ASSERT_STREQ(c->http.request_headers_to_add.set[0].name,
			  "content-type") &&
	     ASSERT_STREQ(c->http.request_headers_to_add.set[0].value,
			  "application/json") &&
	     ASSERT_EQ(c->http.request_headers_to_add.nadd, 2) &&
	     ASSERT_STREQ(c->http.request_headers_to_add.add[0].name,
			  "accept") &&
	     ASSERT_STREQ(c->http.request_headers_to_add.add[1].name,
			  "x-probe") &&
	     ASSERT_STREQ(c->http.request_headers_to_add.add[1].value,
			  "mesh") &&
	     ASSERT_EQ(c->tcp.present, 0x7) &&
	     ASSERT_EQ(c->tcp.disabled, 1) &&
	     ASSERT_STREQ(c->tcp.send, "Zm9v") &&
	     ASSERT_EQ(c->tcp.nreceive, 2) &&
	     ASSERT_STREQ(c->tcp.receive[0], "YmFy") &&
	     ASSERT_STREQ(c->tcp.receive[1], "YQ==") &&
	     ASSERT_EQ(c->grpc.present, 0x7) &&
	     ASSERT_EQ(c->grpc.disabled, 0) &&
	     ASSERT_STREQ(c->grpc.service_name, "grpc.health.v1.Health") &&
	     ASSERT_STREQ(c->grpc.authority, "backend.mesh:8080");
	return kh_finish(&set, ok);
}

#define HEALTH_HEAD KH_DOC("MeshHealthCheck", "h") KH_ENTRY("to")

/* Kuma takes grpc serviceName and authority as "", their defaults (the
 * server's overall health, the cluster's name): read as left out, and
 * so printed back without them. */
static bool test_health_grpc_empty_strings(void)
{
	struct model_set set;
	const struct mf_healthcheck *r = kh_policy(
		HEALTH_HEAD "        grpc: {serviceName: \"\", authority: ''}\n",
		&set, &kind_mesh_health_check, 1);
	const struct mf_hc_conf *c = r ? &r->conf : NULL;

	return kh_finish(&set, r && ASSERT_EQ(c->grpc.present, 0) &&
				   ASSERT_STREQ(c->grpc.service_name, "") &&
				   ASSERT_STREQ(c->grpc.authority, "") &&
				   kh_round_trip(&set, &set.objs[0]));
}

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
	  "t.yaml:9:9: spec.to[0].default: needs http, tcp or grpc" },
	{ HEALTH_HEAD "        grpc: {serviceNam: x}\n",
	  "t.yaml:9:16: spec.to[0].default.grpc.serviceNam: unknown field" },
	{ HEALTH_HEAD "        grpc: {authority: \"a\\tb\"}\n",
	  "t.yaml:9:27: spec.to[0].default.grpc.authority: must not contain "
	  "control characters" },
	{ HEALTH_HEAD "        eventLogPath: \"#not_valid_path\"\n"
		      "        grpc: {}\n",
	  "t.yaml:9:23: spec.to[0].default.eventLogPath: must be an absolute "
	  "path" },
	{ HEALTH_HEAD "        unhealthyThreshold: 2147483648\n"
		      "        grpc: {}\n",
	  "t.yaml:9:29: spec.to[0].default.unhealthyThreshold: must be "
	  "1..2147483647" },
	{ HEALTH_HEAD "        healthyThreshold: 0\n"
		      "        grpc: {}\n",
	  "t.yaml:9:27: spec.to[0].default.healthyThreshold: must be "
	  "1..2147483647" },
	{ HEALTH_HEAD "        http:\n"
		      "          requestHeadersToAdd:\n"
		      "            set: [{name: Content-Type, value: a}]\n",
	  "t.yaml:11:26: spec.to[0].default.http.requestHeadersToAdd.set[0]."
	  "name: must be lower case" },
	{ HEALTH_HEAD "        http:\n"
		      "          requestHeadersToAdd:\n"
		      "            add: [{name: accept}]\n",
	  "t.yaml:11:19: spec.to[0].default.http.requestHeadersToAdd.add[0]."
	  "value: is required" },
	{ HEALTH_HEAD "        http:\n"
		      "          requestHeadersToAdd:\n"
		      "            add: [{name: a, value: v}, {name: b, "
		      "value: v}, {name: c, value: v},"
		      " {name: d, value: v}, {name: e, value: v}]\n",
	  "t.yaml:11:18: spec.to[0].default.http.requestHeadersToAdd.add: "
	  "must have at most 4 entries" },
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
	return ASSERT_TRUE(sizeof(struct mf_healthcheck) < 4096) &&
	       kh_layout(&kind_mesh_health_check, health_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_health_parse);
	TEST_RUN(test_health_invalid);
	TEST_RUN(test_health_grpc_empty_strings);
	TEST_RUN(test_health_layout);
	TEST_MAIN_END();
}
