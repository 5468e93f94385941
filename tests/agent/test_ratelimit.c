// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP request rates (agent/ratelimit.c) on snapshots compiled from YAML as
 * mfctl compiles them: which limit a connection gets (Kuma's RateLimit by
 * best match, else MeshRateLimit's local.http), the seed's 100 requests per
 * 10 s held as Envoy holds it (the 101st refused until the interval is up,
 * with when to come back), a source counted apart when the RateLimit
 * selects by source, the answer's headers, configured ones included, and a
 * rate held within 5% over 10 s.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/ratelimit.h"

static const char *const policy_yaml =
	RH_MESH4
	/* The seed's: 100 requests per 10 s to web, from anyone. */
	"---\ntype: RateLimit\nmesh: default\nname: web-rl\n"
	"sources: [{match: {kuma.io/service: '*'}}]\n"
	"destinations: [{match: {kuma.io/service: web}}]\n"
	"conf:\n  http:\n    requests: 100\n    interval: 10s\n"
	"    onRateLimit:\n      headers: [{key: x-limited, value: 'yes'}]\n"
	/* api: 2 per second from client, counted per source. */
	"---\ntype: RateLimit\nmesh: default\nname: api-rl\n"
	"sources: [{match: {kuma.io/service: client}}]\n"
	"destinations: [{match: {kuma.io/service: api}}]\n"
	"conf:\n  http:\n    requests: 2\n    interval: 1s\n"
	/* other: MeshRateLimit, 5 per second, 423 with a header. */
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshRateLimit\n"
	"metadata: {name: other-rl}\nspec:\n"
	"  targetRef: {kind: MeshService, name: other}\n"
	"  from:\n    - targetRef: {kind: Mesh}\n      default:\n"
	"        local:\n          http:\n"
	"            requestRate: {num: 5, interval: 1s}\n"
	"            onRateLimit:\n              status: 423\n"
	"              headers: {set: [{name: x-why, value: slow-down}]}\n";

struct rl {
	struct policy *p;
	struct rl_table *t;
};

static bool find(struct rl *r, const char *src, const char *vip,
		 struct rl_limit *l)
{
	const struct mf_endpoint *ep = policy_endpoint_by_ip(r->p, rh_ip4(src));
	const struct mf_service *s = policy_service_by_vip(r->p, rh_ip4(vip), 80);

	return ep && s &&
	       ratelimit_find(r->p, ep, policy_identity(r->p, ep->identity_id),
			      s, l);
}

/* Kuma 3.0's `rules` form: a rate for one peer by SPIFFE ID, another for
 * any peer. */
static const char *const rules_yaml =
	RH_MESH4
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshRateLimit\n"
	"metadata: {name: web-rules}\nspec:\n"
	"  targetRef: {kind: MeshService, name: web}\n"
	"  rules:\n"
	"    - matches:\n"
	"        - spiffeID: {type: Exact, value: "
	"\"spiffe://mesh.local/ns/default/sa/client\"}\n"
	"      default:\n        local:\n          http:\n"
	"            requestRate: {num: 3, interval: 1s}\n"
	"    - default:\n        local:\n          http:\n"
	"            requestRate: {num: 50, interval: 1s}\n";

static bool test_rules_by_peer(void)
{
	struct rl r = { rh_yaml_snapshot(rules_yaml, 1), NULL };
	struct rl_limit l, o;
	bool ok;

	if (!ASSERT_TRUE(r.p))
		return false;
	/* client: its own rule; other: the rule for any peer, counted
	 * apart (another rate, another bucket). */
	ok = ASSERT_TRUE(find(&r, "10.1.0.9", "10.96.0.10", &l)) &&
	     ASSERT_STREQ(l.policy, "web-rules") && ASSERT_EQ(l.requests, 3) &&
	     ASSERT_TRUE(find(&r, "10.1.0.10", "10.96.0.10", &o)) &&
	     ASSERT_EQ(o.requests, 50) && ASSERT_NE(l.key, o.key);
	policy_put(r.p);
	return ok;
}

static bool test_seed_100_per_10s(void)
{
	struct rl r = { rh_yaml_snapshot(policy_yaml, 1),
			calloc(1, sizeof(struct rl_table)) };
	const uint64_t t0 = 1000000000000ull;
	unsigned int passed = 0;
	struct rl_limit l;
	uint64_t retry = 0;
	char *h = NULL;
	bool ok;

	if (!ASSERT_TRUE(r.p && r.t))
		return false;
	ok = ASSERT_TRUE(find(&r, "10.1.0.9", "10.96.0.10", &l)) &&
	     ASSERT_STREQ(l.policy, "web-rl") &&
	     ASSERT_EQ(l.requests, 100) && ASSERT_EQ(l.interval_ms, 10000) &&
	     ASSERT_EQ(l.status, 429) && ASSERT_FALSE(l.per_source);
	for (int i = 0; ok && i < 100; i++)
		passed += ratelimit_take(r.t, &l, t0 + (uint64_t)i, &retry);
	/* The 101st, 5 s later, is refused until the 10 s are up; then the
	 * 100 are back. */
	ok = ok && ASSERT_EQ(passed, 100) &&
	     ASSERT_FALSE(ratelimit_take(r.t, &l, t0 + 5000000000ull,
					 &retry)) &&
	     ASSERT_EQ(retry, 5000) &&
	     ASSERT_TRUE(ratelimit_take(r.t, &l, t0 + 10000000000ull,
					&retry));
	if (ok) {
		h = ratelimit_headers(r.p, &l, 5000);
		ok = ASSERT_TRUE(h != NULL) &&
		     ASSERT_TRUE(strstr(h, "retry-after: 5\r\n") != NULL) &&
		     ASSERT_TRUE(strstr(h, "x-ratelimit-limit: 100\r\n") != NULL) &&
		     ASSERT_TRUE(strstr(h, "x-ratelimit-remaining: 0\r\n") != NULL) &&
		     ASSERT_TRUE(strstr(h, "x-limited: yes\r\n") != NULL);
	}
	free(h);
	free(r.t);
	policy_put(r.p);
	return ok;
}

/* One loop of two (workers.h) lets 50 of the seed's 100 per 10 s through,
 * the other loop its own 50, and says the node's limit in its headers. */
static bool test_loop_share(void)
{
	struct rl r = { rh_yaml_snapshot(policy_yaml, 1),
			calloc(1, sizeof(struct rl_table)) };
	const uint64_t t0 = 1000000000000ull;
	unsigned int passed = 0;
	struct rl_limit l;
	uint64_t retry = 0;
	char *h = NULL;
	bool ok;

	if (!ASSERT_TRUE(r.p && r.t))
		return false;
	r.t->loops = 2;
	ok = ASSERT_TRUE(find(&r, "10.1.0.9", "10.96.0.10", &l));
	for (int i = 0; ok && i < 100; i++)
		passed += ratelimit_take(r.t, &l, t0 + (uint64_t)i, &retry);
	ok = ok && ASSERT_EQ(passed, 50) &&
	     ASSERT_TRUE(ratelimit_take(r.t, &l, t0 + 10000000000ull,
					&retry));
	if (ok) {
		h = ratelimit_headers(r.p, &l, 5000);
		ok = ASSERT_TRUE(h != NULL) &&
		     ASSERT_TRUE(strstr(h, "x-ratelimit-limit: 100\r\n") != NULL);
	}
	free(h);
	free(r.t);
	policy_put(r.p);
	return ok;
}

static bool test_per_source_and_mesh_rate_limit(void)
{
	struct rl r = { rh_yaml_snapshot(policy_yaml, 1),
			calloc(1, sizeof(struct rl_table)) };
	struct rl_limit a, b, m;
	uint64_t retry = 0, t0 = 5000000000000ull;
	char *h = NULL;
	bool ok;

	if (!ASSERT_TRUE(r.p && r.t))
		return false;
	ok = ASSERT_TRUE(find(&r, "10.1.0.9", "10.96.0.13", &a)) &&
	     ASSERT_TRUE(a.per_source) &&
	     /* other's source does not match api-rl's selectors */
	     ASSERT_FALSE(find(&r, "10.1.0.10", "10.96.0.13", &b)) &&
	     ASSERT_TRUE(ratelimit_take(r.t, &a, t0, &retry)) &&
	     ASSERT_TRUE(ratelimit_take(r.t, &a, t0 + 1, &retry)) &&
	     ASSERT_FALSE(ratelimit_take(r.t, &a, t0 + 2, &retry)) &&
	     ASSERT_TRUE(find(&r, "10.1.0.9", "10.96.0.12", &m)) &&
	     ASSERT_STREQ(m.policy, "other-rl") &&
	     ASSERT_EQ(m.requests, 5) && ASSERT_EQ(m.status, 423);
	for (int i = 0; ok && i < 5; i++)
		ok = ASSERT_TRUE(ratelimit_take(r.t, &m, t0 + (uint64_t)i,
						&retry));
	ok = ok && ASSERT_FALSE(ratelimit_take(r.t, &m, t0 + 9, &retry));
	if (ok) {
		h = ratelimit_headers(r.p, &m, retry);
		ok = ASSERT_TRUE(h && strstr(h, "x-why: slow-down\r\n"));
	}
	free(h);
	free(r.t);
	policy_put(r.p);
	return ok;
}

/* Held to its rate over 10 s: MeshRateLimit's 5 per second (other-rl)
 * offered a request every 2 ms lets 50 through, within 5%, whatever the
 * offered load (its clock is the caller's: exact, not timed). */
static bool test_rate_over_10s(void)
{
	struct rl r = { rh_yaml_snapshot(policy_yaml, 1),
			calloc(1, sizeof(struct rl_table)) };
	const uint64_t t0 = 7000000000000ull;
	unsigned int passed = 0, offered = 0;
	struct rl_limit l;
	uint64_t retry;

	if (!ASSERT_TRUE(r.p && r.t) ||
	    !ASSERT_TRUE(find(&r, "10.1.0.9", "10.96.0.12", &l))) {
		free(r.t);
		policy_put(r.p);
		return false;
	}
	for (uint64_t t = t0; t < t0 + 10000000000ull; t += 2000000ull) {
		offered++;
		passed += ratelimit_take(r.t, &l, t, &retry);
	}
	free(r.t);
	policy_put(r.p);
	return ASSERT_EQ(offered, 5000) &&
	       ASSERT_TRUE(passed >= 48 && passed <= 52);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_seed_100_per_10s);
	TEST_RUN(test_loop_share);
	TEST_RUN(test_per_source_and_mesh_rate_limit);
	TEST_RUN(test_rate_over_10s);
	TEST_RUN(test_rules_by_peer);
	TEST_MAIN_END();
}
