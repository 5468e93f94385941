// SPDX-License-Identifier: Apache-2.0
/*
 * The traffic kinds' schemas (lib/kind_mesh_retry.c, _circuit_breaker,
 * _health_check, _lb_strategy, _fault_injection) through mfctl's reader and
 * writer: a full Kuma example of each parses without a diagnostic into the
 * expected record bytes; what pemit_yaml() writes parses back to the same
 * bytes; and invalid values, unknown fields, bad enum names and broken
 * cross-field rules each give exactly the expected diagnostic line.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

/* ---- MeshRetry ---------------------------------------------------------- */
static const char retry_yaml[] =
	KH_API
	"kind: MeshRetry\n"
	"metadata: {name: web-to-backend}\n"
	"spec:\n"
	"  targetRef: {kind: MeshService, name: web}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      default:\n"
	"        tcp:\n"
	"          maxConnectAttempt: 3\n"
	"        http:\n"
	"          numRetries: 5\n"
	"          perTryTimeout: 2s\n"
	"          backOff: {baseInterval: 25ms, maxInterval: 1m30s}\n"
	"          retryOn: [5XX, GatewayError, Reset, HttpMethodGet,\n"
	"                    HttpMethodTrace]\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        http: {numRetries: 0}\n";

static bool test_retry_parse(void)
{
	struct model_set set;
	const struct model_obj *o;
	const struct mf_retry *r;
	bool ok;

	if (!kh_parse_ok(retry_yaml, &set))
		return false;
	o = kh_only_policy(&set, &kind_mesh_retry, 2);
	r = o ? (const struct mf_retry *)o->pol.recs : NULL;
	ok = ASSERT_TRUE(r) &&
	     ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(r[0].conf.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.tcp.present, 0x1) &&
	     ASSERT_EQ(r[0].conf.tcp.max_connect_attempt, 3) &&
	     ASSERT_EQ(r[0].conf.http.present, 0xf) &&
	     ASSERT_EQ(r[0].conf.http.num_retries, 5) &&
	     ASSERT_EQ(r[0].conf.http.per_try_timeout, 2000) &&
	     ASSERT_EQ(r[0].conf.http.back_off.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.http.back_off.base_interval, 25) &&
	     ASSERT_EQ(r[0].conf.http.back_off.max_interval, 90000) &&
	     ASSERT_EQ(r[0].conf.http.retry_on,
		       MF_RETRY_5XX | MF_RETRY_GATEWAY_ERROR | MF_RETRY_RESET |
			       MF_RETRY_METHOD_GET | MF_RETRY_METHOD_TRACE) &&
	     /* numRetries: 0 is written, so present, and zero */
	     ASSERT_EQ(r[1].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[1].conf.present, 0x2) &&
	     ASSERT_EQ(r[1].conf.http.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.http.num_retries, 0) &&
	     kh_round_trip(&set, o);
	model_set_free(&set);
	return ok;
}

#define RETRY_HEAD                                                      \
	KH_API "kind: MeshRetry\nmetadata: {name: r}\nspec:\n"            \
	"  targetRef: {kind: Mesh}\n"                                   \
	"  to:\n"                                                       \
	"    - targetRef: {kind: Mesh}\n"                               \
	"      default:\n"
/* RETRY_HEAD is 8 lines: the first line after it is line 9. */

static bool test_retry_invalid(void)
{
	static const struct kh_bad cases[] = {
		{ RETRY_HEAD "        http: {numRetries: 1001}\n",
		  "t.yaml:9:28: spec.to[0].default.http.numRetries: must be 0..1000" },
		{ RETRY_HEAD "        http: {retryOn: [5XX, 5xx]}\n",
		  "t.yaml:9:31: spec.to[0].default.http.retryOn[1]: must be 5XX, "
		  "GatewayError, Reset, Retriable4xx, ConnectFailure, "
		  "EnvoyRatelimited, RefusedStream, Http3PostConnectFailure, "
		  "HttpMethodConnect, HttpMethodDelete, HttpMethodGet, "
		  "HttpMethodHead, HttpMethodOptions, HttpMethodPatch, "
		  "HttpMethodPost, HttpMethodPut or HttpMethodTrace" },
		{ RETRY_HEAD "        http: {numRetrys: 1}\n",
		  "t.yaml:9:16: spec.to[0].default.http.numRetrys: unknown field" },
		{ RETRY_HEAD "        http:\n"
			     "          backOff: {baseInterval: 1s, "
			     "maxInterval: 100ms}\n",
		  "t.yaml:10:20: spec.to[0].default.http.backOff: "
		  "baseInterval must not be greater than maxInterval" },
		{ RETRY_HEAD "        tcp: {}\n",
		  "t.yaml:9:14: spec.to[0].default.tcp.maxConnectAttempt: "
		  "is required" },
		{ RETRY_HEAD "        http: {}\n",
		  "t.yaml:9:15: spec.to[0].default.http: needs at least one "
		  "of numRetries, perTryTimeout, backOff, retryOn" },
		{ KH_API "kind: MeshRetry\nmetadata: {name: r}\nspec:\n"
		       "  targetRef: {kind: Mesh}\n"
		       "  to:\n"
		       "    - targetRef: {kind: Mesh}\n"
		       "      default: {http: {numRetries: 1}}\n"
		       "  from:\n"
		       "    - targetRef: {kind: Mesh}\n"
		       "      default: {http: {numRetries: 1}}\n",
		  "t.yaml:10:5: spec.from: is not allowed in a MeshRetry (it "
		  "has only to)" },
	};

	return kh_expect_all(cases, KH_NCASES(cases));
}

/* ---- MeshCircuitBreaker ------------------------------------------------- */
static const char breaker_yaml[] =
	KH_API
	"kind: MeshCircuitBreaker\n"
	"metadata: {name: web-to-backend}\n"
	"spec:\n"
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
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        connectionLimits: {maxConnections: 4096}\n";

static bool test_breaker_parse(void)
{
	struct model_set set;
	const struct model_obj *o;
	const struct mf_breaker *r;
	const struct mf_cb_outlier *od;
	bool ok;

	if (!kh_parse_ok(breaker_yaml, &set))
		return false;
	o = kh_only_policy(&set, &kind_mesh_circuit_breaker, 2);
	r = o ? (const struct mf_breaker *)o->pol.recs : NULL;
	od = r ? &r[0].conf.outlier_detection : NULL;
	ok = ASSERT_TRUE(r) &&
	     ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(r[0].conf.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.connection_limits.present, 0x1f) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_connections, 1024) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_connection_pools, 64) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_pending_requests, 128) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_requests, 2048) &&
	     ASSERT_EQ(r[0].conf.connection_limits.max_retries, 3) &&
	     ASSERT_EQ(od->present, 0x3f) &&
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
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].conf.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.connection_limits.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.connection_limits.max_connections, 4096) &&
	     kh_round_trip(&set, o);
	model_set_free(&set);
	return ok;
}

#define BREAKER_HEAD                                                    \
	KH_API "kind: MeshCircuitBreaker\nmetadata: {name: b}\nspec:\n"   \
	"  targetRef: {kind: Mesh}\n"                                   \
	"  to:\n"                                                       \
	"    - targetRef: {kind: Mesh}\n"                               \
	"      default:\n"

static bool test_breaker_invalid(void)
{
	static const struct kh_bad cases[] = {
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
		  "successRate.standardDeviationFactor: must be 0.001..1000" },
		{ BREAKER_HEAD "        {}\n",
		  "t.yaml:9:9: spec.to[0].default: needs connectionLimits or "
		  "outlierDetection" },
	};

	return kh_expect_all(cases, KH_NCASES(cases));
}

/* ---- MeshHealthCheck ---------------------------------------------------- */
static const char health_yaml[] =
	KH_API
	"kind: MeshHealthCheck\n"
	"metadata: {name: web-to-backend}\n"
	"spec:\n"
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
	struct model_set set;
	const struct model_obj *o;
	const struct mf_healthcheck *r;
	const struct mf_hc_conf *c;
	const struct mf_tagset *ts;
	bool ok;

	if (!kh_parse_ok(health_yaml, &set))
		return false;
	o = kh_only_policy(&set, &kind_mesh_health_check, 1);
	r = o ? (const struct mf_healthcheck *)o->pol.recs : NULL;
	c = r ? &r->conf : NULL;
	ts = r ? model_tags_get(&set, r->hdr.target.tags) : NULL;
	ok = ASSERT_TRUE(r) &&
	     ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     ASSERT_TRUE(ts) && ASSERT_EQ(ts->n, 1) &&
	     ASSERT_STREQ(ts->tags[0].key, "version") &&
	     ASSERT_STREQ(ts->tags[0].value, "v1") &&
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
	     ASSERT_STREQ(c->tcp.receive[1], "YQ==") &&
	     kh_round_trip(&set, o);
	model_set_free(&set);
	return ok;
}

#define HEALTH_HEAD                                                     \
	KH_API "kind: MeshHealthCheck\nmetadata: {name: h}\nspec:\n"      \
	"  targetRef: {kind: Mesh}\n"                                   \
	"  to:\n"                                                       \
	"    - targetRef: {kind: Mesh}\n"                               \
	"      default:\n"

static bool test_health_invalid(void)
{
	static const struct kh_bad cases[] = {
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
	};

	return kh_expect_all(cases, KH_NCASES(cases));
}

/* ---- MeshLoadBalancingStrategy ----------------------------------------- */
static const char lb_yaml[] =
	KH_API
	"kind: MeshLoadBalancingStrategy\n"
	"metadata: {name: lb}\n"
	"spec:\n"
	"  targetRef: {kind: Dataplane, name: web-1}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      default:\n"
	"        localityAwareness: {disabled: true}\n"
	"        loadBalancer:\n"
	"          type: RingHash\n"
	"          ringHash:\n"
	"            hashFunction: MurmurHash2\n"
	"            minRingSize: 1024\n"
	"            maxRingSize: 8388608\n"
	"    - targetRef: {kind: MeshService, name: cache}\n"
	"      default:\n"
	"        loadBalancer:\n"
	"          type: Maglev\n"
	"          maglev: {tableSize: 65537}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        loadBalancer:\n"
	"          type: LeastRequest\n"
	"          leastRequest: {choiceCount: 2}\n";

static bool test_lb_parse(void)
{
	struct model_set set;
	const struct model_obj *o;
	const struct mf_lbstrategy *r;
	bool ok;

	if (!kh_parse_ok(lb_yaml, &set))
		return false;
	o = kh_only_policy(&set, &kind_mesh_lb_strategy, 3);
	r = o ? (const struct mf_lbstrategy *)o->pol.recs : NULL;
	ok = ASSERT_TRUE(r) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web-1") &&
	     ASSERT_EQ(r[0].conf.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.locality_awareness.present, 0x1) &&
	     ASSERT_EQ(r[0].conf.locality_awareness.disabled, 1) &&
	     ASSERT_EQ(r[0].conf.load_balancer.present, 0x5) &&
	     ASSERT_EQ(r[0].conf.load_balancer.type, MF_LB_RING_HASH) &&
	     ASSERT_EQ(r[0].conf.load_balancer.ring_hash.present, 0x7) &&
	     ASSERT_EQ(r[0].conf.load_balancer.ring_hash.hash_function,
		       MF_LB_HASH_MURMUR2) &&
	     ASSERT_EQ(r[0].conf.load_balancer.ring_hash.min_ring_size, 1024) &&
	     ASSERT_EQ(r[0].conf.load_balancer.ring_hash.max_ring_size,
		       8388608) &&
	     ASSERT_STREQ(r[1].hdr.ref.name, "cache") &&
	     ASSERT_EQ(r[1].conf.present, 0x2) &&
	     ASSERT_EQ(r[1].conf.load_balancer.present, 0x9) &&
	     ASSERT_EQ(r[1].conf.load_balancer.type, MF_LB_MAGLEV) &&
	     ASSERT_EQ(r[1].conf.load_balancer.maglev.table_size, 65537) &&
	     ASSERT_EQ(r[2].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[2].conf.load_balancer.present, 0x3) &&
	     ASSERT_EQ(r[2].conf.load_balancer.type, MF_LB_LEAST_REQUEST) &&
	     ASSERT_EQ(r[2].conf.load_balancer.least_request.choice_count, 2) &&
	     kh_round_trip(&set, o);
	model_set_free(&set);
	return ok;
}

#define LB_HEAD                                                         \
	KH_API "kind: MeshLoadBalancingStrategy\nmetadata: {name: l}\n"   \
	"spec:\n"                                                       \
	"  targetRef: {kind: Mesh}\n"                                   \
	"  to:\n"                                                       \
	"    - targetRef: {kind: Mesh}\n"                               \
	"      default:\n"                                              \
	"        loadBalancer:\n"
/* LB_HEAD is 9 lines: the first line after it is line 10. */

static bool test_lb_invalid(void)
{
	static const struct kh_bad cases[] = {
		{ LB_HEAD "          type: WeightedRoundRobin\n",
		  "t.yaml:10:17: spec.to[0].default.loadBalancer.type: must be "
		  "RoundRobin, LeastRequest, RingHash, Random or Maglev" },
		{ LB_HEAD "          type: RoundRobin\n"
			  "          ringHash: {minRingSize: 8}\n",
		  "t.yaml:10:11: spec.to[0].default.loadBalancer: ringHash "
		  "needs type RingHash" },
		{ LB_HEAD "          type: RingHash\n"
			  "          ringHash: {minRingSize: 2048, "
			  "maxRingSize: 1024}\n",
		  "t.yaml:11:21: spec.to[0].default.loadBalancer.ringHash: "
		  "minRingSize must not be greater than maxRingSize" },
		{ LB_HEAD "          type: Maglev\n"
			  "          maglev: {tableSize: 65536}\n",
		  "t.yaml:11:19: spec.to[0].default.loadBalancer.maglev: "
		  "tableSize must be a prime number" },
		{ LB_HEAD "          type: LeastRequest\n"
			  "          leastRequest: {choiceCount: 1}\n",
		  "t.yaml:11:39: spec.to[0].default.loadBalancer.leastRequest."
		  "choiceCount: must be 2..100" },
		{ LB_HEAD "          ringHash: {hashFunction: XXHash}\n",
		  "t.yaml:10:11: spec.to[0].default.loadBalancer.type: is "
		  "required" },
		{ LB_HEAD "          type: RingHash\n"
			  "          ringHash: {maxRingSize: 8388609}\n",
		  "t.yaml:11:35: spec.to[0].default.loadBalancer.ringHash."
		  "maxRingSize: must be 1..8388608" },
	};

	return kh_expect_all(cases, KH_NCASES(cases));
}

/* ---- MeshFaultInjection ------------------------------------------------- */
static const char fault_yaml[] =
	KH_API
	"kind: MeshFaultInjection\n"
	"metadata: {name: backend-chaos}\n"
	"spec:\n"
	"  targetRef: {kind: MeshService, name: backend}\n"
	"  from:\n"
	"    - targetRef: {kind: MeshServiceSubset, name: web,\n"
	"                  tags: {version: v2}}\n"
	"      default:\n"
	"        http:\n"
	"          - abort: {httpStatus: 503, percentage: \"2.5\"}\n"
	"            delay: {value: 5s, percentage: 5}\n"
	"            responseBandwidth: {limit: 50Mbps, percentage: 50}\n"
	"          - abort: {httpStatus: 500, percentage: 0.125}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        http:\n"
	"          - delay: {value: 250ms, percentage: 100}\n"
	"          - responseBandwidth: {limit: 800kbps, percentage: 1}\n";

static bool test_fault_parse(void)
{
	struct model_set set;
	const struct model_obj *o;
	const struct mf_fault *r;
	const struct mf_fault_http *h;
	const struct mf_tagset *ts;
	bool ok;

	if (!kh_parse_ok(fault_yaml, &set))
		return false;
	o = kh_only_policy(&set, &kind_mesh_fault_injection, 2);
	r = o ? (const struct mf_fault *)o->pol.recs : NULL;
	h = r ? r[0].conf.http : NULL;
	ts = r ? model_tags_get(&set, r[0].hdr.ref.tags) : NULL;
	ok = ASSERT_TRUE(r) &&
	     ASSERT_EQ(r[0].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE_SUBSET) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "web") &&
	     ASSERT_TRUE(ts) && ASSERT_EQ(ts->n, 1) &&
	     ASSERT_STREQ(ts->tags[0].value, "v2") &&
	     ASSERT_EQ(r[0].conf.present, 0x1) &&
	     ASSERT_EQ(r[0].conf.nhttp, 2) &&
	     ASSERT_EQ(h[0].present, 0x7) &&
	     ASSERT_EQ(h[0].abort.present, 0x3) &&
	     ASSERT_EQ(h[0].abort.http_status, 503) &&
	     ASSERT_EQ(h[0].abort.percentage, 2500) &&
	     ASSERT_EQ(h[0].delay.value, 5000) &&
	     ASSERT_EQ(h[0].delay.percentage, 5000) &&
	     ASSERT_EQ(h[0].response_bandwidth.present, 0x3) &&
	     ASSERT_EQ(h[0].response_bandwidth.limit, 50000000) &&
	     ASSERT_EQ(h[0].response_bandwidth.percentage, 50000) &&
	     ASSERT_EQ(h[1].present, 0x1) &&
	     ASSERT_EQ(h[1].abort.http_status, 500) &&
	     ASSERT_EQ(h[1].abort.percentage, 125) &&
	     ASSERT_EQ(r[1].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[1].conf.nhttp, 2) &&
	     ASSERT_EQ(r[1].conf.http[0].present, 0x2) &&
	     ASSERT_EQ(r[1].conf.http[0].delay.value, 250) &&
	     ASSERT_EQ(r[1].conf.http[0].delay.percentage, 100000) &&
	     ASSERT_EQ(r[1].conf.http[1].present, 0x4) &&
	     ASSERT_EQ(r[1].conf.http[1].response_bandwidth.limit, 800000) &&
	     kh_round_trip(&set, o);
	model_set_free(&set);
	return ok;
}

#define FAULT_HEAD                                                      \
	KH_API "kind: MeshFaultInjection\nmetadata: {name: f}\nspec:\n"   \
	"  targetRef: {kind: Mesh}\n"                                   \
	"  from:\n"                                                     \
	"    - targetRef: {kind: Mesh}\n"                               \
	"      default:\n"                                              \
	"        http:\n"
/* FAULT_HEAD is 9 lines: the first line after it is line 10. */

static bool test_fault_invalid(void)
{
	static const struct kh_bad cases[] = {
		{ FAULT_HEAD "          - abort: {httpStatus: 600, "
			     "percentage: 1}\n",
		  "t.yaml:10:33: spec.from[0].default.http[0].abort."
		  "httpStatus: must be 100..599" },
		{ FAULT_HEAD "          - abort: {httpStatus: 500, "
			     "percentage: 100.5}\n",
		  "t.yaml:10:50: spec.from[0].default.http[0].abort."
		  "percentage: must be a percentage 0..100 with at most 3 "
		  "decimals" },
		{ FAULT_HEAD "          - abort: {httpStatus: 500}\n",
		  "t.yaml:10:20: spec.from[0].default.http[0].abort."
		  "percentage: is required" },
		{ FAULT_HEAD "          - responseBandwidth: {limit: 5MBps, "
			     "percentage: 1}\n",
		  "t.yaml:10:40: spec.from[0].default.http[0]."
		  "responseBandwidth.limit: must be a bandwidth such as 800bps, "
		  "10kbps, 5Mbps or 1Gbps" },
		{ FAULT_HEAD "          - {}\n",
		  "t.yaml:10:13: spec.from[0].default.http[0]: needs at least "
		  "one of abort, delay, responseBandwidth" },
		{ FAULT_HEAD "          - delay: {value: 1s, percentage: 1}\n"
			     "          - delay: {value: 1s, percentage: 1}\n"
			     "          - delay: {value: 1s, percentage: 1}\n"
			     "          - delay: {value: 1s, percentage: 1}\n"
			     "          - delay: {value: 1s, percentage: 1}\n",
		  "t.yaml:10:11: spec.from[0].default.http: must have at most 4 "
		  "entries" },
		{ KH_API "kind: MeshFaultInjection\nmetadata: {name: f}\n"
		       "spec:\n"
		       "  targetRef: {kind: Mesh}\n"
		       "  from:\n"
		       "    - targetRef: {kind: Mesh}\n"
		       "      default: {http: [{delay: {value: 1s, "
		       "percentage: 1}}]}\n"
		       "  to:\n"
		       "    - targetRef: {kind: Mesh}\n"
		       "      default: {http: [{delay: {value: 1s, "
		       "percentage: 1}}]}\n",
		  "t.yaml:10:5: spec.to: is not allowed in a MeshFaultInjection "
		  "(it has only from)" },
		{ KH_API "kind: MeshFaultInjection\nmetadata: {name: f}\n"
		       "spec:\n"
		       "  targetRef: {kind: MeshGateway, name: edge}\n"
		       "  from:\n"
		       "    - targetRef: {kind: Mesh}\n"
		       "      default: {http: [{delay: {value: 1s, "
		       "percentage: 1}}]}\n",
		  "t.yaml:5:21: spec.targetRef.kind: must be Mesh, MeshSubset, "
		  "MeshService, MeshServiceSubset or Dataplane" },
	};

	return kh_expect_all(cases, KH_NCASES(cases));
}

/* ---- layout ------------------------------------------------------------- */
/* Fields of one object must not overlap each other or the `present` word
 * (none of these kinds shares storage between fields), list items must
 * hold their object, and nested objects follow the same rules: a wrong
 * offsetof() in a table shows up here rather than as corrupted records. */
static bool layout_ok(const struct sch_object *s)
{
	size_t first = s->scalar ? 0 : sizeof(uint32_t);
	bool ok = ASSERT_TRUE(s->nfields >= 1 && s->nfields <= 32);

	for (size_t i = 0; ok && i < s->nfields; i++) {
		const struct sch_field *f = &s->fields[i];
		size_t a = f->off, ae = a + sch_field_size(f);

		ok = ASSERT_GE(a, first) && ASSERT_TRUE(ae > a);
		for (size_t j = i + 1; ok && j < s->nfields; j++) {
			size_t b = s->fields[j].off;
			size_t be = b + sch_field_size(&s->fields[j]);

			ok = ASSERT_TRUE(ae <= b || be <= a);
		}
		if (ok && f->type == SCH_OBJECT)
			ok = layout_ok(f->sub);
		if (ok && f->type == SCH_LIST)
			ok = ASSERT_GE(f->item_size, sch_object_size(f->sub)) &&
			     ASSERT_TRUE(f->max_items > 0) &&
			     ASSERT_TRUE(f->count_off + 1u <= a ||
					 f->count_off >= ae) &&
			     layout_ok(f->sub);
		if (!ok)
			fprintf(stderr, "  %s.%s\n", s->name,
				f->name ? f->name : "(item)");
	}
	return ok;
}

static bool test_layout(void)
{
	static const struct kind_desc *const kinds[] = {
		&kind_mesh_retry, &kind_mesh_circuit_breaker,
		&kind_mesh_health_check, &kind_mesh_lb_strategy,
		&kind_mesh_fault_injection,
	};
	static const char *const examples[] = {
		retry_yaml, breaker_yaml, health_yaml, lb_yaml, fault_yaml,
	};
	bool ok = true;

	for (size_t k = 0; ok && k < KH_NCASES(kinds); k++) {
		const struct kind_desc *kd = kinds[k];
		struct model_set set;

		ok = ASSERT_TRUE(kd->conf_off + sch_object_size(kd->conf) <=
				 kd->val_size) &&
		     layout_ok(kd->conf);
		/* What the parser writes passes the check records read back
		 * from a map go through. */
		if (ok) {
			ok = kh_parse_ok(examples[k], &set);
			for (size_t i = 0; ok && i < set.objs[0].pol.n; i++) {
				const uint8_t *rec = set.objs[0].pol.recs +
						     i * kd->val_size;
				const char *why = sch_check(kd->conf,
							    rec + kd->conf_off);

				ok = ASSERT_TRUE(!why);
				if (why)
					fprintf(stderr, "  %s: %s\n",
						kd->name, why);
			}
			model_set_free(&set);
		}
		if (!ok)
			fprintf(stderr, "  kind %s\n", kd->name);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_retry_parse);
	TEST_RUN(test_retry_invalid);
	TEST_RUN(test_breaker_parse);
	TEST_RUN(test_breaker_invalid);
	TEST_RUN(test_health_parse);
	TEST_RUN(test_health_invalid);
	TEST_RUN(test_lb_parse);
	TEST_RUN(test_lb_invalid);
	TEST_RUN(test_fault_parse);
	TEST_RUN(test_fault_invalid);
	TEST_RUN(test_layout);
	TEST_MAIN_END();
}
