// SPDX-License-Identifier: Apache-2.0
/*
 * MeshCircuitBreaker (lib/policy/kind_mesh_circuit_breaker.c) through
 * mfctl's reader and writer: Kuma's example, every limit and detector,
 * parses into the expected records and prints back to the same bytes;
 * ranges (healthyPanicThreshold a percentage, the standard deviation factor
 * any decimal above 0 that fits Envoy's thousandths), unknown fields and
 * the detectors rules each give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char breaker_yaml[] =
	KH_DOC("MeshCircuitBreaker", "web-to-backend")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      default:\n"
	"        connectionLimits:\n"
	"          maxConnections: 1024\n"
	"          maxConnectionPools: 64\n"
	"          maxPendingRequests: 128\n"
	"          maxRequests: 2048\n"
	"          maxRetries: 3\n"
	"        outlierDetection:\n"
	"          disabled: false\n"
	"          interval: 5s\n"
	"          baseEjectionTime: 30s\n"
	"          maxEjectionPercent: 20\n"
	"          splitExternalAndLocalErrors: true\n"
	"          detectors:\n"
	"            totalFailures: {consecutive: 10}\n"
	"            gatewayFailures: {consecutive: 7}\n"
	"            localOriginFailures: {consecutive: 4}\n"
	"            successRate:\n"
	"              minimumHosts: 5\n"
	"              requestVolume: 10\n"
	"              standardDeviationFactor: \"1.9\"\n"
	"            failurePercentage:\n"
	"              requestVolume: 20\n"
	"              minimumHosts: 6\n"
	"              threshold: 85\n"
	"          healthyPanicThreshold: \"12.5\"\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        connectionLimits: {maxConnections: 4096}\n"
	"        outlierDetection:\n"
	"          healthyPanicThreshold: 0\n"
	"          detectors:\n"
	"            successRate: {standardDeviationFactor: 1900}\n";

static bool test_breaker_parse(void)
{
	struct model_set set;
	const struct mf_breaker *r = kh_policy(breaker_yaml, &set,
					       &kind_mesh_circuit_breaker, 2);
	const struct mf_cb_outlier *od = r ? &r[0].conf.outlier_detection :
					     NULL;
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(r[0].conf.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.connection_limits.present, 0x1f) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_connections, 1024) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_connection_pools, 64) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_pending_requests, 128) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_requests, 2048) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_retries, 3) &&
	     ASSERT_EQ(od->present, 0x7f) &&
	     ASSERT_EQ(od->disabled, 0) &&
	     ASSERT_EQ(od->interval, 5000) &&
	     ASSERT_EQ(od->base_ejection_time, 30000) &&
	     ASSERT_EQ(od->max_ejection_percent, 20) &&
	     ASSERT_EQ(od->split_external_and_local_errors, 1) &&
	     ASSERT_EQ(od->detectors.present, 0x1f) &&
	     ASSERT_EQ(od->detectors.total_failures.consecutive, 10) &&
	     ASSERT_EQ(od->detectors.gateway_failures.consecutive, 7) &&
	     ASSERT_EQ(od->detectors.local_origin_failures.consecutive, 4) &&
	     ASSERT_EQ(od->detectors.success_rate.present, 0x7) &&
	     ASSERT_EQ(od->detectors.success_rate.minimum_hosts, 5) &&
	     ASSERT_EQ(od->detectors.success_rate.request_volume, 10) &&
	     ASSERT_EQ(od->detectors.success_rate.standard_deviation_factor,
		       1900) &&
	     ASSERT_EQ(od->detectors.failure_percentage.request_volume, 20) &&
	     ASSERT_EQ(od->detectors.failure_percentage.minimum_hosts, 6) &&
	     ASSERT_EQ(od->detectors.failure_percentage.threshold, 85) &&
	     ASSERT_EQ(od->healthy_panic_threshold, 12500) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].conf.present, 0x3) &&
	     ASSERT_EQ(r[1].conf.connection_limits.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.connection_limits.max_connections, 4096) &&
	     /* Written 0 (panic mode off) is kept apart from unset. */
	     ASSERT_EQ(r[1].conf.outlier_detection.present, 0x60) &&
	     ASSERT_EQ(r[1].conf.outlier_detection.healthy_panic_threshold,
		       0) &&
	     /* Kuma takes any factor above 0, integers as well. */
	     ASSERT_EQ(r[1].conf.outlier_detection.detectors.success_rate
			       .standard_deviation_factor, 1900000);
	return kh_finish(&set, ok);
}

#define BREAKER_HEAD KH_DOC("MeshCircuitBreaker", "b") KH_ENTRY("to")

KH_TEST_BAD(test_breaker_invalid,
	{ BREAKER_HEAD "        outlierDetection:\n"
		       "          maxEjectionPercent: 101\n"
		       "          detectors: {totalFailures: "
		       "{consecutive: 1}}\n",
	  "t.yaml:10:31: spec.to[0].default.outlierDetection."
	  "maxEjectionPercent: must be 0..100" },
	{ BREAKER_HEAD "        connectionLimits: {maxConnections: 0}\n",
	  "t.yaml:9:44: spec.to[0].default.connectionLimits."
	  "maxConnections: must be 1..4294967295" },
	{ BREAKER_HEAD "        connectionLimits: {maxConnection: 5}\n",
	  "t.yaml:9:28: spec.to[0].default.connectionLimits."
	  "maxConnection: unknown field" },
	{ BREAKER_HEAD "        outlierDetection: {interval: 5s}\n",
	  "t.yaml:9:27: spec.to[0].default.outlierDetection.detectors: "
	  "is required" },
	{ BREAKER_HEAD "        outlierDetection: {detectors: {}}\n",
	  "t.yaml:9:39: spec.to[0].default.outlierDetection.detectors: "
	  "needs at least one of totalFailures, gatewayFailures, "
	  "localOriginFailures, successRate, failurePercentage" },
	{ BREAKER_HEAD "        outlierDetection:\n"
		       "          detectors:\n"
		       "            successRate: "
		       "{standardDeviationFactor: 0}\n",
	  "t.yaml:11:52: spec.to[0].default.outlierDetection.detectors."
	  "successRate.standardDeviationFactor: must be "
	  "0.001..4294967.295" },
	{ BREAKER_HEAD "        outlierDetection:\n"
		       "          detectors:\n"
		       "            successRate: "
		       "{standardDeviationFactor: 4294968}\n",
	  "t.yaml:11:52: spec.to[0].default.outlierDetection.detectors."
	  "successRate.standardDeviationFactor: must be "
	  "0.001..4294967.295" },
	{ BREAKER_HEAD "        outlierDetection:\n"
		       "          detectors:\n"
		       "            successRate: "
		       "{standardDeviationFactor: xyz}\n",
	  "t.yaml:11:52: spec.to[0].default.outlierDetection.detectors."
	  "successRate.standardDeviationFactor: must be a number such as "
	  "1.9 (at most 3 decimals)" },
	{ BREAKER_HEAD "        outlierDetection:\n"
		       "          healthyPanicThreshold: 101\n"
		       "          detectors: {totalFailures: "
		       "{consecutive: 1}}\n",
	  "t.yaml:10:34: spec.to[0].default.outlierDetection."
	  "healthyPanicThreshold: must be a percentage 0..100 with at most "
	  "3 decimals" },
	{ BREAKER_HEAD "        outlierDetection:\n"
		       "          healthyPanicThreshold: \"-3\"\n"
		       "          detectors: {totalFailures: "
		       "{consecutive: 1}}\n",
	  "t.yaml:10:34: spec.to[0].default.outlierDetection."
	  "healthyPanicThreshold: must be a percentage 0..100 with at most "
	  "3 decimals" },
	/* Kuma asks for detectors even when outlier detection is off. */
	{ BREAKER_HEAD "        outlierDetection: {disabled: true}\n",
	  "t.yaml:9:27: spec.to[0].default.outlierDetection.detectors: "
	  "is required" },
	{ BREAKER_HEAD "        {}\n",
	  "t.yaml:9:9: spec.to[0].default: needs connectionLimits or "
	  "outlierDetection" },
)

/* Kuma: a Dataplane target names one of its inbounds (sectionName) only in
 * a policy of inbound traffic, one with rules (or Kuma 2.x's from). */
KH_TEST_BAD(test_breaker_section_outbound,
	{ KH_DOC("MeshCircuitBreaker", "b")
	  "  targetRef: {kind: Dataplane, labels: {app: web}, sectionName: http}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      default: {connectionLimits: {maxConnections: 1}}\n",
	  "t.yaml:5:65: spec.targetRef.sectionName: can only be used with "
	  "inbound policies (from or rules entries)" },
)

static bool test_breaker_section_inbound(void)
{
	static const char yaml[] =
		KH_DOC("MeshCircuitBreaker", "b")
		"  targetRef: {kind: Dataplane, labels: {app: web}, sectionName: http}\n"
		"  rules:\n"
		"    - default: {connectionLimits: {maxConnections: 1}}\n";
	struct model_set s;
	const struct mf_breaker *r =
		kh_policy(yaml, &s, &kind_mesh_circuit_breaker, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
	     ASSERT_STREQ(r[0].hdr.target.section, "http");
	return kh_finish(&s, ok);
}

static bool test_breaker_layout(void)
{
	return kh_layout(&kind_mesh_circuit_breaker, breaker_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_breaker_parse);
	TEST_RUN(test_breaker_invalid);
	TEST_RUN(test_breaker_section_outbound);
	TEST_RUN(test_breaker_section_inbound);
	TEST_RUN(test_breaker_layout);
	TEST_MAIN_END();
}
