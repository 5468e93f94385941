// SPDX-License-Identifier: Apache-2.0
/*
 * The router on snapshots compiled from YAML as mfctl compiles them: which
 * TrafficRoute applies (Kuma's legacy selection), a 90/10 split followed
 * to within a request or two over 1,000 picks, conf.destination, conf.http
 * routes by path, method and header, a destination with no endpoint, and
 * round robin without a TrafficRoute.
 */
#include <arpa/inet.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/hhead.h"
#include "../../agent/router.h"

#define MESH                                                                  \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"          \
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"                    \
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"        \
	RH_DOC("Service", "client") "spec: {vip: 10.96.0.11, port: 80}\n"     \
	RH_DOC("Service", "other") "spec: {vip: 10.96.0.12, port: 80}\n"      \
	WL("v1a", "10.1.0.1", "web", "version: v1")                           \
	WL("v1b", "10.1.0.2", "web", "version: v1")                           \
	WL("v2a", "10.1.0.3", "web", "version: v2")                           \
	WL("c1", "10.1.0.9", "client", "team: a")                             \
	WL("o1", "10.1.0.10", "other", "team: b")

#define WL(name, ip, svc, tags)                                               \
	RH_DOC("Workload", name)                                              \
	"spec: {node: n1, ip: " ip ", port: 8080, service: " svc ", "         \
	"identity: \"spiffe://mesh.local/ns/default/sa/" svc "\", "           \
	"tags: {" tags "}}\n"

#define SPLIT                                                                 \
	"---\napiVersion: kuma.io/v1alpha1\nkind: TrafficRoute\n"              \
	"metadata: {name: canary}\nmesh: default\nspec:\n"                    \
	"  sources: [{match: {kuma.io/service: '*'}}]\n"                      \
	"  destinations: [{match: {kuma.io/service: web}}]\n"                 \
	"  conf:\n    split:\n"                                                \
	"      - {weight: 90, destination: {kuma.io/service: web, version: v1}}\n" \
	"      - {weight: 10, destination: {kuma.io/service: web, version: v2}}\n"

static const struct mf_service *svc(struct policy *p, const char *vip)
{
	return policy_service_by_vip(p, rh_ip4(vip), 80);
}

static const struct mf_endpoint *ep(struct policy *p, const char *ip)
{
	return policy_endpoint_by_ip(p, rh_ip4(ip));
}

/* A request head as hproxy keeps it. */
static bool head(struct hhead *h, const char *method, const char *target,
		 const char *hname, const char *hvalue)
{
	struct http1_start sl = {
		.method = method, .method_len = strlen(method),
		.target = target, .target_len = strlen(target),
		.major = 1, .minor = 1,
	};

	memset(h, 0, sizeof(*h));
	return ASSERT_EQ(hhead_start(h, true, &sl), 0) &&
	       ASSERT_EQ(hhead_add(h, "Host", 4, "web", 3), 0) &&
	       (!hname || ASSERT_EQ(hhead_add(h, hname, strlen(hname), hvalue,
					      strlen(hvalue)), 0));
}

static bool test_split_90_10(void)
{
	struct policy *p = rh_yaml_snapshot(MESH SPLIT, 1);
	unsigned int v1 = 0, v2 = 0, a = 0, b = 0;
	const struct mf_service *web;
	int tr;
	bool ok = true;

	if (!ASSERT_TRUE(p))
		return false;
	web = svc(p, "10.96.0.10");
	tr = router_traffic_route(p, ep(p, "10.1.0.9"), web);
	ok = ASSERT_GE(tr, 0) &&
	     ASSERT_STREQ(router_traffic_route_name(p, tr), "canary");
	for (int i = 0; ok && i < 1000; i++) {
		const struct mf_endpoint *e = router_pick(p, NULL, tr, web, NULL);

		ok = ASSERT_TRUE(e != NULL);
		if (!ok)
			break;
		if (!strcmp(e->name, "v2a"))
			v2++;
		else
			v1++;
		a += !strcmp(e->name, "v1a");
		b += !strcmp(e->name, "v1b");
	}
	policy_put(p);
	/* Exact to a request or two, and v1's share spread over both. */
	return ok && ASSERT_GE(v2, 98) && ASSERT_GE(102, v2) &&
	       ASSERT_EQ(v1 + v2, 1000) && ASSERT_GE(a, 440) &&
	       ASSERT_GE(b, 440);
}

/* The destination selector decides which TrafficRoute applies; the most
 * specific source wins. */
static bool test_selection(void)
{
	struct policy *p = rh_yaml_snapshot(
		MESH SPLIT
		"---\napiVersion: kuma.io/v1alpha1\nkind: TrafficRoute\n"
		"metadata: {name: team-a-v2}\nmesh: default\nspec:\n"
		"  sources: [{match: {kuma.io/service: client, team: a}}]\n"
		"  destinations: [{match: {kuma.io/service: web}}]\n"
		"  conf: {destination: {kuma.io/service: web, version: v2}}\n", 1);
	const struct mf_service *web, *other;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	web = svc(p, "10.96.0.10");
	other = svc(p, "10.96.0.12");
	ok = ASSERT_STREQ(router_traffic_route_name(p,
			  router_traffic_route(p, ep(p, "10.1.0.9"), web)),
			  "team-a-v2") &&
	     ASSERT_STREQ(router_traffic_route_name(p,
			  router_traffic_route(p, ep(p, "10.1.0.10"), web)),
			  "canary") &&
	     ASSERT_EQ(router_traffic_route(p, ep(p, "10.1.0.9"), other), -1);
	for (int i = 0; ok && i < 10; i++)
		ok = ASSERT_STREQ(router_pick(p, NULL, router_traffic_route(p,
				  ep(p, "10.1.0.9"), web), web, NULL)->name, "v2a");
	policy_put(p);
	return ok;
}

/* conf.http: a request its match accepts takes that route's destination,
 * the others the split; a TCP pick never takes an http route. */
static bool test_http_routes(void)
{
	struct policy *p = rh_yaml_snapshot(
		MESH
		"---\napiVersion: kuma.io/v1alpha1\nkind: TrafficRoute\n"
		"metadata: {name: by-request}\nmesh: default\nspec:\n"
		"  sources: [{match: {kuma.io/service: '*'}}]\n"
		"  destinations: [{match: {kuma.io/service: web}}]\n"
		"  conf:\n"
		"    destination: {kuma.io/service: web, version: v1}\n"
		"    http:\n"
		"      - match: {path: {prefix: /v2}, method: {exact: GET}}\n"
		"        destination: {kuma.io/service: web, version: v2}\n"
		"      - match: {headers: {x-canary: {exact: 'yes'}}}\n"
		"        destination: {kuma.io/service: web, version: v2}\n", 1);
	const struct mf_service *web;
	struct hhead h;
	bool ok;
	int tr;

	if (!ASSERT_TRUE(p))
		return false;
	web = svc(p, "10.96.0.10");
	tr = router_traffic_route(p, ep(p, "10.1.0.9"), web);
	ok = ASSERT_GE(tr, 0) &&
	     head(&h, "GET", "/v2/x?y=1", NULL, NULL) &&
	     ASSERT_STREQ(router_pick(p, NULL, tr, web, &h)->name, "v2a");
	hhead_free(&h);
	ok = ok && head(&h, "POST", "/v2/x", NULL, NULL) &&
	     ASSERT_TRUE(strncmp(router_pick(p, NULL, tr, web, &h)->name, "v1", 2) == 0);
	hhead_free(&h);
	ok = ok && head(&h, "GET", "/v1", "X-Canary", "yes") &&
	     ASSERT_STREQ(router_pick(p, NULL, tr, web, &h)->name, "v2a");
	hhead_free(&h);
	ok = ok && head(&h, "GET", "/v1", "X-Canary", "no") &&
	     ASSERT_TRUE(strncmp(router_pick(p, NULL, tr, web, &h)->name, "v1", 2) == 0) &&
	     ASSERT_TRUE(strncmp(router_pick(p, NULL, tr, web, NULL)->name, "v1", 2) == 0);
	hhead_free(&h);
	policy_put(p);
	return ok;
}

/* A destination no endpoint matches: nothing (the caller answers 503 or
 * refuses); no TrafficRoute: round robin over the service. */
static bool test_no_endpoint_and_default(void)
{
	struct policy *p = rh_yaml_snapshot(
		MESH
		"---\napiVersion: kuma.io/v1alpha1\nkind: TrafficRoute\n"
		"metadata: {name: nowhere}\nmesh: default\nspec:\n"
		"  sources: [{match: {kuma.io/service: client}}]\n"
		"  destinations: [{match: {kuma.io/service: web}}]\n"
		"  conf: {destination: {kuma.io/service: web, version: v9}}\n", 1);
	const struct mf_service *web;
	unsigned int seen = 0;
	bool ok;
	int tr;

	if (!ASSERT_TRUE(p))
		return false;
	web = svc(p, "10.96.0.10");
	tr = router_traffic_route(p, ep(p, "10.1.0.9"), web);
	ok = ASSERT_GE(tr, 0) && ASSERT_TRUE(router_pick(p, NULL, tr, web, NULL) == NULL) &&
	     ASSERT_EQ(router_traffic_route(p, ep(p, "10.1.0.10"), web), -1);
	for (int i = 0; ok && i < 3; i++) {
		const struct mf_endpoint *e = router_pick(p, NULL, -1, web, NULL);

		ok = ASSERT_TRUE(e != NULL);
		if (ok)
			seen |= 1u << (e->name[1] == '1' ? e->name[2] - 'a' : 2);
	}
	policy_put(p);
	return ok && ASSERT_EQ(seen, 7);
}

/* MeshTCPRoute: per connection by weight between subsets; its selection
 * follows its targetRef and to[] entry. */
static bool test_tcp_route(void)
{
	struct policy *p = rh_yaml_snapshot(
		MESH
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshTCPRoute\n"
		"metadata: {name: tcp-canary}\nspec:\n"
		"  targetRef: {kind: MeshSubset, tags: {team: a}}\n"
		"  to:\n    - targetRef: {kind: MeshService, name: web}\n"
		"      rules:\n        - default:\n            backendRefs:\n"
		"              - {kind: MeshServiceSubset, name: web, "
		"tags: {version: v1}, weight: 90}\n"
		"              - {kind: MeshServiceSubset, name: web, "
		"tags: {version: v2}, weight: 10}\n", 1);
	const struct mf_service *web;
	unsigned int v2 = 0, n = 0;
	const char *why;
	bool ok;
	int rec;

	if (!ASSERT_TRUE(p))
		return false;
	web = svc(p, "10.96.0.10");
	rec = router_tcp_route(p, ep(p, "10.1.0.9"), web);
	ok = ASSERT_GE(rec, 0) &&
	     /* o1 has team b: not selected */
	     ASSERT_EQ(router_tcp_route(p, ep(p, "10.1.0.10"), web), -1) &&
	     ASSERT_EQ(router_tcp_route(p, ep(p, "10.1.0.9"),
					svc(p, "10.96.0.12")), -1);
	for (int i = 0; ok && i < 1000; i++) {
		const struct mf_endpoint *e = router_tcp_pick(p, NULL, rec, &why);

		ok = ASSERT_TRUE(e != NULL);
		if (ok) {
			v2 += !strcmp(e->name, "v2a");
			n++;
		}
	}
	policy_put(p);
	return ok && ASSERT_EQ(n, 1000) && ASSERT_GE(v2, 98) &&
	       ASSERT_GE(102, v2);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_split_90_10);
	TEST_RUN(test_selection);
	TEST_RUN(test_http_routes);
	TEST_RUN(test_no_endpoint_and_default);
	TEST_RUN(test_tcp_route);
	TEST_MAIN_END();
}
