// SPDX-License-Identifier: Apache-2.0
/*
 * A MeshMultiZoneService as a destination of its own in the agent, on
 * snapshots compiled from YAML as mfctl compiles them: a connection to its
 * VIP:port goes round robin over the endpoints of its member MeshServices
 * at that port (never an Unavailable one's, nor one it does not select);
 * the policies whose `to` targets it by kind MeshMultiZoneService select it
 * (MeshHTTPRoute, MeshTCPRoute, MeshTimeout, MeshRetry,
 * MeshCircuitBreaker, MeshLoadBalancingStrategy), over a Mesh-wide entry
 * (Kuma's precedence: the more specific targetRef kind wins), while those
 * that target one of its member MeshServices do not, and no TrafficRoute
 * does.
 */
#include <arpa/inet.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/balance.h"
#include "../../agent/hhead.h"
#include "../../agent/hroute.h"
#include "../../agent/resil.h"
#include "../../agent/router.h"

#define WL_APP(name, ip, app)                                                 \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"           \
	"metadata: {name: " name ", labels: {app: " app "}}\n"               \
	"spec: {node: n1, ip: " ip ", port: 8080, "                           \
	"identity: \"spiffe://mesh.local/ns/default/sa/" app "\"}\n"
#define MS(name, app, group, ports)                                           \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"             \
	"metadata: {name: " name ", labels: {group: " group "}}\n"           \
	"spec:\n  selector: {dataplaneLabels: {matchLabels: {app: " app "}}}\n" \
	"  ports: " ports "\n"
/* MeshMultiZoneService "backend" (VIP 243.0.0.1) over be-east (e1, e2)
 * and be-west (w1) at 8080, be-west alone at 9090; be-gone (g1) is
 * Unavailable, be-else (x1) another group's.  c1 is the client. */
#define BASE                                                                  \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"          \
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"                    \
	RH_DOC("Service", "client") "spec: {vip: 10.96.0.11, port: 80}\n"     \
	RH_DOC("Workload", "c1")                                              \
	"spec: {node: n1, ip: 10.1.0.9, port: 8080, service: client, "       \
	"identity: \"spiffe://mesh.local/ns/default/sa/client\"}\n"          \
	MS("be-east", "east", "backend", "[{port: 8080, targetPort: 8080}]")  \
	MS("be-west", "west", "backend",                                      \
	   "[{port: 8080, targetPort: 8080}, {port: 9090, targetPort: 8080}]") \
	MS("be-gone", "gone", "backend", "[{port: 8080, targetPort: 8080}]")  \
	"  state: Unavailable\n"                                              \
	MS("be-else", "else", "other", "[{port: 8080, targetPort: 8080}]")    \
	WL_APP("e1", "10.1.1.1", "east") WL_APP("e2", "10.1.1.2", "east")     \
	WL_APP("w1", "10.1.1.3", "west") WL_APP("g1", "10.1.1.4", "gone")     \
	WL_APP("x1", "10.1.1.5", "else")                                      \
	RH_KUMA("MeshMultiZoneService", "backend")                               \
	"  selector: {meshService: {matchLabels: {group: backend}}}\n"       \
	"  ports: [{port: 8080, appProtocol: http}, {port: 9090}]\n"

struct mz {
	struct policy *p;
	const struct mf_endpoint *src;
	const struct mf_service *http, *tcp;	/* 243.0.0.1:8080, :9090 */
};

static bool mz_open(struct mz *m, const char *yaml)
{
	memset(m, 0, sizeof(*m));
	m->p = rh_yaml_snapshot(yaml, 1);
	if (!ASSERT_TRUE(m->p))
		return false;
	m->src = policy_endpoint_by_ip(m->p, rh_ip4("10.1.0.9"));
	m->http = policy_service_by_vip(m->p, rh_ip4("243.0.0.1"), 8080);
	m->tcp = policy_service_by_vip(m->p, rh_ip4("243.0.0.1"), 9090);
	return ASSERT_TRUE(m->src) && ASSERT_TRUE(m->http) &&
	       ASSERT_TRUE(m->tcp) &&
	       ASSERT_TRUE(m->http->flags & MF_SERVICE_F_MULTI_ZONE) &&
	       ASSERT_TRUE(m->http->flags & MF_SERVICE_F_HTTP) &&
	       ASSERT_FALSE(m->tcp->flags & MF_SERVICE_F_HTTP);
}

/* How many of @n picks by @pick went to each of e1, e2, w1 and to any
 * other endpoint (or none). */
struct tally {
	unsigned int e1, e2, w1, other;
};

static void tally(struct tally *t, const struct mf_endpoint *ep)
{
	if (ep && !strcmp(ep->name, "e1"))
		t->e1++;
	else if (ep && !strcmp(ep->name, "e2"))
		t->e2++;
	else if (ep && !strcmp(ep->name, "w1"))
		t->w1++;
	else
		t->other++;
}

/* A connection to the VIP: round robin over e1, e2 and w1 at 8080
 * (never g1 of the Unavailable be-gone, nor x1 of be-else), w1 alone at
 * 9090; the same with the balancer.  No TrafficRoute takes it, even a
 * Mesh-wide one. */
static bool test_vip_pick(void)
{
	struct balancer bal;
	struct balance_pick bp;
	struct tally a = { 0 }, b = { 0 }, c = { 0 };
	struct mz m;
	bool ok = mz_open(&m, BASE
		RH_KUMA("TrafficRoute", "all")
		"  sources: [{match: {kuma.io/service: \"*\"}}]\n"
		"  destinations: [{match: {kuma.io/service: \"*\"}}]\n"
		"  conf: {destination: {kuma.io/service: be-else}}\n");

	memset(&bal, 0, sizeof(bal));
	ok = ok && ASSERT_EQ(balance_init(&bal), 0);
	memset(&bp, 0, sizeof(bp));
	bp.b = &bal;
	bp.p = m.p;
	bp.src = m.src;
	for (int i = 0; ok && i < 30; i++)
		tally(&a, router_pick(m.p, NULL, -1, m.http, NULL));
	for (int i = 0; ok && i < 10; i++)
		tally(&b, router_pick(m.p, NULL, -1, m.tcp, NULL));
	for (int i = 0; ok && i < 30; i++)
		tally(&c, router_pick(m.p, &bp, -1, m.http, NULL));
	ok = ok && ASSERT_EQ(a.e1, 10u) && ASSERT_EQ(a.e2, 10u) &&
	     ASSERT_EQ(a.w1, 10u) && ASSERT_EQ(a.other, 0u) &&
	     ASSERT_EQ(b.w1, 10u) && ASSERT_EQ(b.other, 0u) &&
	     ASSERT_EQ(c.e1, 10u) && ASSERT_EQ(c.e2, 10u) &&
	     ASSERT_EQ(c.w1, 10u) && ASSERT_EQ(c.other, 0u) &&
	     ASSERT_EQ(router_traffic_route(m.p, m.src, m.http), -1);
	balance_fini(&bal);
	if (m.p)
		policy_put(m.p);
	return ok;
}

/* A request head for @target. */
static bool req(struct hhead *h, const char *target)
{
	struct http1_start sl = {
		.method = "GET", .method_len = 3,
		.target = target, .target_len = strlen(target),
		.major = 1, .minor = 1,
	};

	memset(h, 0, sizeof(*h));
	return ASSERT_EQ(hhead_start(h, true, &sl), 0) &&
	       ASSERT_EQ(hhead_add(h, "Host", 4, "backend", 7), 0);
}

/* MeshHTTPRoute: the rules of the one whose `to` is the
 * MeshMultiZoneService take its requests (/east to be-east, and a header
 * set); those of one whose `to` is one of its member MeshServices do
 * not; a request no rule takes goes over its members. */
static bool test_http_route(void)
{
	struct hroute_list *l = NULL;
	struct hroute_decision d;
	struct tally t = { 0 };
	struct hhead h;
	const char *v;
	size_t vlen;
	struct mz m;
	bool ok = mz_open(&m, BASE
		RH_KUMA("MeshHTTPRoute", "to-mzs")
		"  targetRef: {kind: Mesh}\n"
		"  to:\n    - targetRef: {kind: MeshMultiZoneService, "
		"name: backend}\n      rules:\n"
		"        - matches: [{path: {type: PathPrefix, value: /east}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: RequestHeaderModifier\n"
		"                requestHeaderModifier:\n"
		"                  set: [{name: x-route, value: to-mzs}]\n"
		"            backendRefs: [{kind: MeshService, name: be-east, "
		"port: 8080}]\n"
		RH_KUMA("MeshHTTPRoute", "to-member")
		"  targetRef: {kind: Mesh}\n"
		"  to:\n    - targetRef: {kind: MeshService, name: be-west}\n"
		"      rules:\n"
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshService, name: be-else, "
		"port: 8080}]\n");

	ok = ok && ASSERT_EQ(hroute_list_build(m.p, m.src, m.http, &l), 0);
	for (int i = 0; ok && i < 10; i++) {
		ok = req(&h, "/east/x") &&
		     ASSERT_EQ(hroute_decide(m.p, NULL, l, -1, -1, m.http, &h,
					     &d), 0);
		if (ok) {
			tally(&t, d.ep);
			ok = ASSERT_STREQ(d.route, "to-mzs") &&
			     ASSERT_TRUE(hhead_get(&h, "x-route", &v, &vlen)) &&
			     ASSERT_EQ(vlen, 6u) &&
			     ASSERT_EQ(memcmp(v, "to-mzs", 6), 0);
			hroute_decision_free(&d);
		}
		hhead_free(&h);
	}
	ok = ok && ASSERT_EQ(t.e1 + t.e2, 10u) && ASSERT_EQ(t.w1, 0u) &&
	     ASSERT_EQ(t.other, 0u);
	memset(&t, 0, sizeof(t));
	for (int i = 0; ok && i < 30; i++) {
		ok = req(&h, "/other") &&
		     ASSERT_EQ(hroute_decide(m.p, NULL, l, -1, -1, m.http, &h,
					     &d), 0);
		if (ok) {
			tally(&t, d.ep);
			hroute_decision_free(&d);
		}
		hhead_free(&h);
	}
	ok = ok && ASSERT_EQ(t.e1, 10u) && ASSERT_EQ(t.e2, 10u) &&
	     ASSERT_EQ(t.w1, 10u) && ASSERT_EQ(t.other, 0u);
	hroute_list_free(l);
	if (m.p)
		policy_put(m.p);
	return ok;
}

/* MeshTCPRoute: the one whose `to` is the MeshMultiZoneService decides
 * its connections (to be-west); one whose `to` is a member MeshService
 * (to be-else) does not apply to it. */
static bool test_tcp_route(void)
{
	struct tally t = { 0 };
	const char *why;
	struct mz m;
	int rec;
	bool ok = mz_open(&m, BASE
		RH_KUMA("MeshTCPRoute", "to-mzs")
		"  targetRef: {kind: Mesh}\n"
		"  to:\n    - targetRef: {kind: MeshMultiZoneService, "
		"name: backend}\n      rules:\n"
		"        - default:\n"
		"            backendRefs: [{kind: MeshService, name: be-west, "
		"port: 8080}]\n"
		RH_KUMA("MeshTCPRoute", "to-member")
		"  targetRef: {kind: Mesh}\n"
		"  to:\n    - targetRef: {kind: MeshService, name: be-west}\n"
		"      rules:\n"
		"        - default:\n"
		"            backendRefs: [{kind: MeshService, name: be-else, "
		"port: 8080}]\n");

	rec = ok ? router_tcp_route(m.p, m.src, m.tcp) : -1;
	ok = ok && ASSERT_TRUE(rec >= 0);
	for (int i = 0; ok && i < 5; i++)
		tally(&t, router_tcp_pick(m.p, NULL, rec, &why));
	ok = ok && ASSERT_EQ(t.w1, 5u) && ASSERT_EQ(t.other, 0u);
	if (m.p)
		policy_put(m.p);
	return ok;
}

#define OUT_POLICIES \
	RH_KUMA("MeshTimeout", "all") \
	"  targetRef: {kind: Mesh}\n" \
	"  to:\n    - targetRef: {kind: Mesh}\n      default:\n" \
	"        connectionTimeout: 1s\n        idleTimeout: 1h\n" \
	RH_KUMA("MeshTimeout", "member") \
	"  targetRef: {kind: Mesh}\n" \
	"  to:\n    - targetRef: {kind: MeshService, name: be-east}\n" \
	"      default:\n        connectionTimeout: 3s\n"

#define OUT_MZS \
	RH_KUMA("MeshTimeout", "mzs") \
	"  targetRef: {kind: Mesh}\n" \
	"  to:\n    - targetRef: {kind: MeshMultiZoneService, " \
	"name: backend}\n" \
	"      default:\n        connectionTimeout: 7s\n" \
	RH_KUMA("MeshRetry", "mzs-retry") \
	"  targetRef: {kind: Mesh}\n" \
	"  to:\n    - targetRef: {kind: MeshMultiZoneService, " \
	"name: backend}\n" \
	"      default:\n        http: {numRetries: 6}\n" \
	RH_KUMA("MeshCircuitBreaker", "mzs-cb") \
	"  targetRef: {kind: Mesh}\n" \
	"  to:\n    - targetRef: {kind: MeshMultiZoneService, " \
	"name: backend}\n" \
	"      default:\n        connectionLimits: {maxConnections: 9}\n" \
	RH_KUMA("MeshLoadBalancingStrategy", "mzs-lb") \
	"  targetRef: {kind: Mesh}\n" \
	"  to:\n    - targetRef: {kind: MeshMultiZoneService, " \
	"name: backend}\n" \
	"      default:\n        loadBalancer: {type: RoundRobin}\n"

/* The outbound kinds: a `to` entry of kind MeshMultiZoneService wins over
 * a Mesh-wide one, field by field (Kuma's merge, the more specific kind
 * last); a `to` of a member MeshService does not apply to it.  Without
 * the multi-zone entries, the Mesh-wide ones apply. */
static bool test_outbound_kinds(void)
{
	struct resil r, r0;
	struct mz m, m0;
	bool ok = mz_open(&m, BASE OUT_POLICIES OUT_MZS) &&
		  mz_open(&m0, BASE OUT_POLICIES);

	ok = ok && ASSERT_EQ(resil_find(m.p, m.src, NULL, m.http, &r), 0) &&
	     ASSERT_EQ(r.connect_ms, 7000u) &&
	     ASSERT_EQ(r.idle_ms, 3600u * 1000) &&
	     ASSERT_STREQ(r.timeout_policy, "mzs") &&
	     ASSERT_EQ(r.retries, 6u) &&
	     ASSERT_STREQ(r.retry_policy, "mzs-retry") &&
	     ASSERT_STREQ(r.breaker_policy, "mzs-cb") &&
	     ASSERT_EQ(r.limits.max_connections, 9u) &&
	     ASSERT_STREQ(r.lb.policy, "mzs-lb");
	ok = ok && ASSERT_EQ(resil_find(m0.p, m0.src, NULL, m0.http, &r0), 0) &&
	     ASSERT_EQ(r0.connect_ms, 1000u) &&
	     ASSERT_STREQ(r0.timeout_policy, "all") &&
	     ASSERT_TRUE(r0.retry_policy == NULL) &&
	     ASSERT_TRUE(r0.lb.policy == NULL);
	if (m.p)
		policy_put(m.p);
	if (m0.p)
		policy_put(m0.p);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_vip_pick);
	TEST_RUN(test_http_route);
	TEST_RUN(test_tcp_route);
	TEST_RUN(test_outbound_kinds);
	TEST_MAIN_END();
}
