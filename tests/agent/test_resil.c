// SPDX-License-Identifier: Apache-2.0
/*
 * What MeshTimeout, MeshRetry and MeshFaultInjection ask of a connection's
 * requests (agent/resil.c), on snapshots compiled from YAML as mfctl
 * compiles them: `to` entries by destination, the most precedent winning
 * field by field; retryOn read into conditions, statuses and methods
 * (idempotent ones when none is named); Kuma's defaults; faults selected
 * on the destination by source.  And the retry budget (agent/rbudget.c):
 * retries over the window held to the ratio plus the minimum.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/rbudget.h"
#include "../../agent/resil.h"

static const char *const policy_yaml =
	RH_MESH4
	/* Every service: a 2 s request timeout; web: 300 ms, and a connect
	 * timeout. */
	RH_KUMA("MeshTimeout", "all-timeout")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n    - targetRef: {kind: Mesh}\n      default:\n"
	"        idleTimeout: 1h\n"
	"        http: {requestTimeout: 2s, streamIdleTimeout: 30s}\n"
	RH_KUMA("MeshTimeout", "web-timeout")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n        connectionTimeout: 250ms\n"
	"        http: {requestTimeout: 300ms, maxStreamDuration: 5s}\n"
	/* web: retries on 5xx, 409 and 429, GET and POST only. */
	RH_KUMA("MeshRetry", "web-retry")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n        tcp: {maxConnectAttempt: 3}\n"
	"        http:\n          numRetries: 4\n          perTryTimeout: 1s\n"
	"          backOff: {baseInterval: 20ms, maxInterval: 100ms}\n"
	"          retryOn: [5xx, Retriable4xx, \"429\", HttpMethodGet,"
	" HttpMethodPost]\n"
	/* api: an http section with a try timeout alone: Kuma's defaults for
	 * the rest. */
	RH_KUMA("MeshRetry", "api-retry")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n    - targetRef: {kind: MeshService, name: api}\n"
	"      default:\n        http: {perTryTimeout: 2s}\n"
	/* other: aborts for client's traffic only, delays for anyone. */
	RH_KUMA("MeshFaultInjection", "other-fault")
	"  targetRef: {kind: MeshService, name: other}\n"
	"  from:\n"
	"    - targetRef: {kind: MeshService, name: client}\n"
	"      default:\n        http:\n"
	"          - abort: {httpStatus: 503, percentage: \"2.5\"}\n"
	"            delay: {value: 1s, percentage: 50}\n";

static bool find(struct policy *p, const char *src, const char *vip,
		 struct resil *r)
{
	const struct mf_endpoint *ep = policy_endpoint_by_ip(p, rh_ip4(src));
	const struct mf_service *s = policy_service_by_vip(p, rh_ip4(vip), 80);

	return ASSERT_TRUE(ep && s) &&
	       ASSERT_EQ(resil_find(p, ep, policy_identity(p, ep->identity_id),
				    s, r), 0);
}

#define ID(sa) "spiffe://mesh.local/ns/default/sa/" sa

/* The destination's inbound entries: Kuma 3.0's `rules`, matched on the
 * peer's SPIFFE ID and the SNI it asks for, and 2.x `from`. */
static const char *const inbound_yaml =
	RH_MESH4
	RH_KUMA("MeshTimeout", "all-timeout")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n    - targetRef: {kind: Mesh}\n      default:\n"
	"        idleTimeout: 1h\n"
	"        http: {requestTimeout: 2s}\n"
	/* api: client's requests end at 100 ms, another peer's at 700; any
	 * peer asking for api by name idles at most 20 s. */
	RH_KUMA("MeshTimeout", "api-inbound")
	"  targetRef: {kind: MeshService, name: api}\n"
	"  rules:\n"
	"    - matches:\n"
	"        - spiffeID: {type: Exact, value: \"" ID("client") "\"}\n"
	"      default:\n        http: {requestTimeout: 100ms}\n"
	"    - matches:\n"
	"        - sni: {type: Exact, value: api}\n"
	"      default: {idleTimeout: 20s}\n"
	"    - default:\n        http: {requestTimeout: 700ms}\n"
	/* web: an inbound timeout longer than the source's (idle) does not
	 * lengthen it; a shorter one (request) shortens it. */
	RH_KUMA("MeshTimeout", "web-inbound")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  from:\n    - targetRef: {kind: Mesh}\n      default:\n"
	"        idleTimeout: 2h\n"
	"        http: {requestTimeout: 1500ms, streamIdleTimeout: 9s}\n"
	/* other: faults for peers under /ns/default/sa/c..., by prefix. */
	RH_KUMA("MeshFaultInjection", "other-rules")
	"  targetRef: {kind: MeshService, name: other}\n"
	"  rules:\n"
	"    - matches:\n"
	"        - spiffeID: {type: Prefix, value: \"" ID("c") "\"}\n"
	"      default:\n        http:\n"
	"          - abort: {httpStatus: 418, percentage: 100}\n";

static bool test_inbound_rules(void)
{
	struct policy *p = rh_yaml_snapshot(inbound_yaml, 1);
	struct resil r;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	/* client -> api: its rule by SPIFFE ID (and the SNI rule merged
	 * over it), under the source's 2 s and 1 h. */
	ok = find(p, "10.1.0.9", "10.96.0.13", &r) &&
	     ASSERT_STREQ(r.timeout_policy, "api-inbound") &&
	     ASSERT_EQ(r.request_ms, 100) && ASSERT_EQ(r.idle_ms, 20000);
	/* other -> api: not client: the rule for every peer. */
	ok = ok && find(p, "10.1.0.10", "10.96.0.13", &r) &&
	     ASSERT_EQ(r.request_ms, 700) && ASSERT_EQ(r.idle_ms, 20000);
	/* client -> web: `from`; the shorter of each pair. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.10", &r) &&
	     ASSERT_STREQ(r.timeout_policy, "web-inbound") &&
	     ASSERT_EQ(r.request_ms, 1500) && ASSERT_EQ(r.idle_ms, 3600000) &&
	     ASSERT_EQ(r.stream_idle_ms, 9000);
	/* client -> other: the source's alone. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.12", &r) &&
	     ASSERT_STREQ(r.timeout_policy, "all-timeout") &&
	     ASSERT_EQ(r.request_ms, 2000);
	/* Faults by SPIFFE ID prefix: client's ID has it, api's not. */
	ok = ok && ASSERT_STREQ(r.fault_policy, "other-rules") &&
	     ASSERT_EQ(r.nfaults, 1) &&
	     ASSERT_EQ(r.faults[0].abort.http_status, 418);
	ok = ok && find(p, "10.1.0.5", "10.96.0.12", &r) &&
	     ASSERT_TRUE(!r.fault_policy) && ASSERT_EQ(r.nfaults, 0);
	/* An unknown peer identity: only rules without a match apply. */
	{
		const struct mf_endpoint *ep = policy_endpoint_by_ip(p,
							rh_ip4("10.1.0.9"));
		const struct mf_service *s = policy_service_by_vip(p,
							rh_ip4("10.96.0.13"), 80);

		ok = ok && ASSERT_EQ(resil_find(p, ep, NULL, s, &r), 0) &&
		     ASSERT_EQ(r.request_ms, 700);
	}
	policy_put(p);
	return ok;
}

static bool test_timeouts_by_precedence(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	struct resil r;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	/* web: its own entry wins where it says something, the Mesh-wide
	 * one fills in the rest. */
	ok = find(p, "10.1.0.9", "10.96.0.10", &r) &&
	     ASSERT_STREQ(r.timeout_policy, "web-timeout") &&
	     ASSERT_EQ(r.request_ms, 300) && ASSERT_EQ(r.connect_ms, 250) &&
	     ASSERT_EQ(r.max_stream_ms, 5000) &&
	     ASSERT_EQ(r.stream_idle_ms, 30000) &&
	     ASSERT_EQ(r.idle_ms, 3600000);
	/* other: the Mesh-wide one alone. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.12", &r) &&
	     ASSERT_STREQ(r.timeout_policy, "all-timeout") &&
	     ASSERT_EQ(r.request_ms, 2000) && ASSERT_EQ(r.connect_ms, 0) &&
	     ASSERT_EQ(r.retries, 0) && ASSERT_TRUE(!r.retry_policy);
	policy_put(p);
	return ok;
}

static bool test_retry_on(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	struct resil r;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	ok = find(p, "10.1.0.9", "10.96.0.10", &r) &&
	     ASSERT_STREQ(r.retry_policy, "web-retry") &&
	     ASSERT_EQ(r.retries, 4) && ASSERT_EQ(r.per_try_ms, 1000) &&
	     ASSERT_EQ(r.backoff_base_ms, 20) &&
	     ASSERT_EQ(r.backoff_max_ms, 100) &&
	     ASSERT_EQ(r.tcp_connect_attempts, 3) &&
	     ASSERT_EQ(r.on, RESIL_ON_5XX | RESIL_ON_4XX) &&
	     ASSERT_EQ(r.methods, 1u << RESIL_M_GET | 1u << RESIL_M_POST);
	/* 5xx, 409 and the 429 named; not 404, nor 429 without it. */
	ok = ok && ASSERT_TRUE(resil_status_retriable(&r, 500)) &&
	     ASSERT_TRUE(resil_status_retriable(&r, 503)) &&
	     ASSERT_TRUE(resil_status_retriable(&r, 409)) &&
	     ASSERT_TRUE(resil_status_retriable(&r, 429)) &&
	     ASSERT_FALSE(resil_status_retriable(&r, 404)) &&
	     ASSERT_FALSE(resil_status_retriable(&r, 200));
	/* api: Kuma's defaults; only idempotent methods, no POST. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.13", &r) &&
	     ASSERT_STREQ(r.retry_policy, "api-retry") &&
	     ASSERT_EQ(r.retries, RESIL_DEFAULT_RETRIES) &&
	     ASSERT_EQ(r.backoff_base_ms, 25) &&
	     ASSERT_EQ(r.backoff_max_ms, 250) &&
	     ASSERT_TRUE(r.methods & (1u << RESIL_M_GET)) &&
	     ASSERT_TRUE(r.methods & (1u << RESIL_M_PUT)) &&
	     ASSERT_FALSE(r.methods & (1u << RESIL_M_POST)) &&
	     ASSERT_FALSE(r.methods & (1u << RESIL_M_PATCH)) &&
	     ASSERT_TRUE(resil_status_retriable(&r, 503)) &&
	     ASSERT_FALSE(resil_status_retriable(&r, 500));
	policy_put(p);
	return ok;
}

static bool test_faults_by_source(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	struct resil r;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	ok = find(p, "10.1.0.9", "10.96.0.12", &r) &&
	     ASSERT_STREQ(r.fault_policy, "other-fault") &&
	     ASSERT_EQ(r.nfaults, 1) &&
	     ASSERT_EQ(r.faults[0].abort.http_status, 503) &&
	     ASSERT_EQ(r.faults[0].abort.percentage, 2500) &&
	     ASSERT_EQ(r.faults[0].delay.value, 1000) &&
	     ASSERT_EQ(r.faults[0].delay.percentage, 50000);
	/* api's traffic to other is not client's: no fault. */
	ok = ok && find(p, "10.1.0.5", "10.96.0.12", &r) &&
	     ASSERT_TRUE(!r.fault_policy) && ASSERT_EQ(r.nfaults, 0);
	policy_put(p);
	return ok;
}

static bool test_backoff(void)
{
	struct resil r = { .backoff_base_ms = 20, .backoff_max_ms = 100 };
	uint32_t top[5] = { 0 };
	bool ok = true;

	srandom(3);
	for (int i = 0; i < 20000; i++) {
		for (unsigned int n = 1; n <= 5; n++) {
			uint64_t rnd = (uint64_t)random() << 31 ^
				       (uint64_t)random();
			uint32_t ms = resil_backoff_ms(&r, n, rnd);

			if (ms > top[n - 1])
				top[n - 1] = ms;
		}
	}
	/* Fully jittered: up to base * 2^(n-1), capped at the max. */
	ok = ASSERT_EQ(top[0], 20) && ASSERT_EQ(top[1], 40) &&
	     ASSERT_EQ(top[2], 80) && ASSERT_EQ(top[3], 100) &&
	     ASSERT_EQ(top[4], 100);
	return ok;
}

static bool test_budget(void)
{
	struct rbudget *b = malloc(sizeof(*b));
	const uint64_t s = 1000000000ull, t0 = 1000 * s;
	unsigned int allowed = 0, other = 0;
	bool ok;

	if (!ASSERT_TRUE(b))
		return false;
	/* 0.2 and 1 a second: over a 10 s window, 1,000 failing requests
	 * get 0.2 * 1000 + 10 retries, whatever they ask. */
	rbudget_init(b, 200, 1);
	for (int i = 0; i < 1000; i++) {
		uint64_t now = t0 + (uint64_t)i * 5000000ull;	/* 5 s */

		rbudget_request(b, 7, now);
		for (int k = 0; k < 3; k++)
			allowed += rbudget_retry(b, 7, now);
	}
	/* Another service has a budget of its own. */
	for (int k = 0; k < 20; k++)
		other += rbudget_retry(b, 8, t0);
	ok = ASSERT_EQ(allowed, 210) && ASSERT_EQ(other, 10);
	/* A window later, the old retries no longer count. */
	rbudget_request(b, 7, t0 + 20 * s);
	ok = ok && ASSERT_TRUE(rbudget_retry(b, 7, t0 + 20 * s));
	free(b);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_timeouts_by_precedence);
	TEST_RUN(test_retry_on);
	TEST_RUN(test_faults_by_source);
	TEST_RUN(test_inbound_rules);
	TEST_RUN(test_backoff);
	TEST_RUN(test_budget);
	TEST_MAIN_END();
}
