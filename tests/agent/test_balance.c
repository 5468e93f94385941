// SPDX-License-Identifier: Apache-2.0
/*
 * The endpoint picks (agent/balance.c) on snapshots compiled from YAML as
 * mfctl compiles them: MeshLoadBalancingStrategy read per destination;
 * RingHash and Maglev send one header, cookie or query value to one
 * endpoint every time; ejected endpoints are left out while outlier
 * detection is in force, all of them in panic; locality prefers the
 * source's node, then its zone, and fails over; peak EWMA shuns a slow
 * endpoint; connections go round robin; a MeshExternalService's lowest
 * priority level takes the picks while one of it can be had.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/balance.h"
#include "../../agent/router.h"
#include "../../agent/timer.h"

#define WL(name, node, ip, svc, tags)                                         \
	RH_DOC("Workload", name)                                              \
	"spec: {node: " node ", ip: " ip ", port: 8080, service: " svc ", "   \
	"identity: \"spiffe://mesh.local/ns/default/sa/" svc "\"" tags "}\n"

static const char *const policy_yaml =
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"
	RH_DOC("Node", "n2") "spec: {address: 10.0.0.2}\n"
	RH_DOC("Node", "n3") "spec: {address: 10.0.0.3}\n"
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.13, port: 80}\n"
	RH_DOC("Service", "client") "spec: {vip: 10.96.0.11, port: 80}\n"
	WL("w1", "n1", "10.1.0.1", "web", ", tags: {kuma.io/zone: east}")
	WL("w2", "n2", "10.1.0.2", "web", ", tags: {kuma.io/zone: east}")
	WL("w3", "n3", "10.1.0.3", "web", ", tags: {kuma.io/zone: west}")
	WL("w4", "n3", "10.1.0.4", "web", ", tags: {kuma.io/zone: west}")
	WL("a1", "n2", "10.1.0.5", "api", "")
	WL("a2", "n3", "10.1.0.6", "api", "")
	WL("c1", "n1", "10.1.0.9", "client", ", tags: {kuma.io/zone: east}")
	RH_KUMA("MeshLoadBalancingStrategy", "lb")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        loadBalancer:\n          type: RingHash\n"
	"          ringHash:\n            hashFunction: MurmurHash2\n"
	"            minRingSize: 2048\n"
	"        hashPolicies:\n"
	"          - {type: Header, header: {name: x-user}}\n"
	"          - {type: Cookie, cookie: {name: session}}\n"
	"          - {type: QueryParameter, queryParameter: {name: u}}\n"
	"    - targetRef: {kind: MeshService, name: api}\n"
	"      default:\n"
	"        localityAwareness: {disabled: false}\n"
	"        loadBalancer:\n          type: Maglev\n"
	"          maglev:\n            tableSize: 251\n"
	"            hashPolicies:\n"
	"              - {type: Connection, connection: {sourceIP: true}}\n";

struct bt {
	struct policy *p;
	struct balancer b;
	const struct mf_endpoint *client;
	const struct mf_endpoint *web[4];
	struct balance_conf web_lb, api_lb;
};

static bool bt_init(struct bt *t)
{
	const struct mf_service *web, *api;
	bool ok;

	memset(t, 0, sizeof(*t));
	t->p = rh_yaml_snapshot(policy_yaml, 1);
	if (!ASSERT_TRUE(t->p) || !ASSERT_EQ(balance_init(&t->b), 0))
		return false;
	web = policy_service_by_vip(t->p, rh_ip4("10.96.0.10"), 80);
	api = policy_service_by_vip(t->p, rh_ip4("10.96.0.13"), 80);
	t->client = policy_endpoint_by_ip(t->p, rh_ip4("10.1.0.9"));
	ok = ASSERT_TRUE(web && api && t->client);
	for (size_t i = 0; ok && i < 4; i++)
		t->web[i] = policy_service_endpoint_at(t->p, web->id, i);
	return ok && ASSERT_TRUE(t->web[3] != NULL) &&
	       ASSERT_EQ(balance_find(t->p, t->client, web, &t->web_lb), 0) &&
	       ASSERT_EQ(balance_find(t->p, t->client, api, &t->api_lb), 0);
}

static void bt_fini(struct bt *t)
{
	balance_fini(&t->b);
	policy_put(t->p);
}

/* A request head with one header. */
static bool head_with(struct hhead *h, const char *target, const char *name,
		      const char *value)
{
	struct http1_start sl = {
		.method = "GET", .method_len = 3,
		.target = target, .target_len = strlen(target),
		.major = 1, .minor = 1,
	};

	memset(h, 0, sizeof(*h));
	return !hhead_start(h, true, &sl) &&
	       (!name || !hhead_add(h, name, strlen(name), value,
				    strlen(value)));
}

static bool test_find(void)
{
	struct bt t;
	bool ok = bt_init(&t);

	ok = ok && ASSERT_STREQ(t.web_lb.policy, "lb") &&
	     ASSERT_EQ(t.web_lb.type, MF_LB_RING_HASH) &&
	     ASSERT_EQ(t.web_lb.hash_fn, LB_HASH_MURMUR2) &&
	     ASSERT_EQ(t.web_lb.ring_min, 2048) && ASSERT_EQ(t.web_lb.nhash, 3) &&
	     ASSERT_FALSE(t.web_lb.locality) &&
	     ASSERT_EQ(t.api_lb.type, MF_LB_MAGLEV) &&
	     ASSERT_EQ(t.api_lb.maglev_size, 251) &&
	     ASSERT_TRUE(t.api_lb.locality) && ASSERT_EQ(t.api_lb.nhash, 1);
	bt_fini(&t);
	return ok;
}

/* The same value, 1,000 times: one endpoint; twenty values: more than
 * one.  By header, cookie and query parameter. */
static bool test_ring_hash_sticks(void)
{
	static const char *const how[][3] = {
		{ "/x", "x-user", "alice" },
		{ "/x", "cookie", "a=1; session=s-42; b=2" },
		{ "/x?a=1&u=bob", NULL, NULL },
	};
	struct bt t;
	bool ok = bt_init(&t);

	for (size_t k = 0; ok && k < 3; k++) {
		struct balance_pick bp = { .b = &t.b, .p = t.p,
					   .conf = &t.web_lb,
					   .src = t.client };
		const struct mf_endpoint *first = NULL, *e;
		unsigned int same = 0;
		struct hhead h;

		ok = ASSERT_TRUE(head_with(&h, how[k][0], how[k][1],
					   how[k][2]));
		bp.req = &h;
		for (int i = 0; ok && i < 1000; i++) {
			e = balance_pick(&bp, t.web, 4);
			first = first ? first : e;
			same += e == first;
		}
		hhead_free(&h);
		ok = ok && ASSERT_EQ(same, 1000);
	}
	if (ok) {
		struct balance_pick bp = { .b = &t.b, .p = t.p,
					   .conf = &t.web_lb };
		const struct mf_endpoint *seen[4] = { 0 };
		unsigned int distinct = 0;
		char v[16];

		for (int u = 0; ok && u < 20; u++) {
			struct hhead h;
			const struct mf_endpoint *e;

			snprintf(v, sizeof(v), "user-%d", u);
			ok = ASSERT_TRUE(head_with(&h, "/", "x-user", v));
			bp.req = &h;
			e = balance_pick(&bp, t.web, 4);
			hhead_free(&h);
			for (size_t i = 0; i < 4; i++) {
				if (seen[i] == e)
					break;
				if (!seen[i]) {
					seen[i] = e;
					distinct++;
					break;
				}
			}
		}
		ok = ok && ASSERT_TRUE(distinct >= 2);
	}
	bt_fini(&t);
	return ok;
}

/* Ejected endpoints are left out while outlier detection is on; with
 * more than half of them out, all come back (panic). */
static bool test_ejected_and_panic(void)
{
	struct bt t;
	bool ok = bt_init(&t);
	struct balance_pick bp = { .b = &t.b, .p = t.p, .outlier = true };
	uint64_t now = timer_now();
	unsigned int hits[4] = { 0 };
	struct host *h;

	if (!ok)
		return false;
	h = hosts_get(t.b.hosts, balance_key(t.p, t.web[0]), now);
	h->ejected_until_ns = now + 60000000000ull;
	for (int i = 0; i < 300; i++) {
		const struct mf_endpoint *e = balance_pick(&bp, t.web, 4);

		for (size_t k = 0; k < 4; k++)
			hits[k] += e == t.web[k];
	}
	ok = ASSERT_EQ(hits[0], 0) && ASSERT_EQ(hits[1], 100) &&
	     ASSERT_EQ(hits[2], 100) && ASSERT_EQ(hits[3], 100);
	/* Outlier detection off for this destination: ejections do not
	 * count. */
	bp.outlier = false;
	memset(hits, 0, sizeof(hits));
	for (int i = 0; ok && i < 400; i++)
		hits[balance_pick(&bp, t.web, 4) == t.web[0]]++;
	ok = ok && ASSERT_EQ(hits[1], 100);
	/* Three of four out: panic, all four again. */
	bp.outlier = true;
	for (size_t k = 1; ok && k < 3; k++) {
		h = hosts_get(t.b.hosts, balance_key(t.p, t.web[k]), now);
		h->ejected_until_ns = now + 60000000000ull;
	}
	memset(hits, 0, sizeof(hits));
	for (int i = 0; ok && i < 400; i++)
		hits[balance_pick(&bp, t.web, 4) == t.web[0]]++;
	ok = ok && ASSERT_EQ(hits[1], 100);
	bt_fini(&t);
	return ok;
}

/* Endpoints a health check finds unhealthy are left out where a health
 * check is in force; the panic threshold is the check's, 0 turns panic
 * off, and failTrafficOnPanic fails the pick. */
static bool test_unhealthy_and_panic(void)
{
	struct bt t;
	bool ok = bt_init(&t);
	struct balance_pick bp = { .b = &t.b, .p = t.p, .health = true };
	uint64_t now = timer_now();
	unsigned int hits[4] = { 0 };
	struct host *h;

	if (!ok)
		return false;
	h = hosts_get(t.b.hosts, balance_key(t.p, t.web[1]), now);
	h->hc_down = 1;
	for (int i = 0; i < 300; i++) {
		const struct mf_endpoint *e = balance_pick(&bp, t.web, 4);

		for (size_t k = 0; k < 4; k++)
			hits[k] += e == t.web[k];
	}
	ok = ASSERT_EQ(hits[1], 0) && ASSERT_EQ(hits[0], 100) &&
	     ASSERT_EQ(hits[2], 100) && ASSERT_EQ(hits[3], 100);
	/* No health check for this destination: the verdict does not
	 * count. */
	bp.health = false;
	memset(hits, 0, sizeof(hits));
	for (int i = 0; ok && i < 400; i++)
		hits[balance_pick(&bp, t.web, 4) == t.web[1]]++;
	ok = ok && ASSERT_EQ(hits[1], 100);
	/* Two of four down: 50% left, at the default threshold no panic;
	 * at a threshold of 60%, panic: all four. */
	bp.health = true;
	h = hosts_get(t.b.hosts, balance_key(t.p, t.web[2]), now);
	h->hc_down = 1;
	memset(hits, 0, sizeof(hits));
	for (int i = 0; ok && i < 400; i++)
		hits[balance_pick(&bp, t.web, 4) == t.web[2]]++;
	ok = ok && ASSERT_EQ(hits[1], 0);
	bp.panic_milli = 60000;
	memset(hits, 0, sizeof(hits));
	for (int i = 0; ok && i < 400; i++)
		hits[balance_pick(&bp, t.web, 4) == t.web[2]]++;
	ok = ok && ASSERT_EQ(hits[1], 100);
	/* ... or none under failTrafficOnPanic. */
	bp.fail_on_panic = true;
	ok = ok && ASSERT_TRUE(balance_pick(&bp, t.web, 4) == NULL);
	/* All down with panic off: no endpoint; with it on: any. */
	bp.fail_on_panic = false;
	for (size_t k = 0; k < 4; k++)
		hosts_get(t.b.hosts, balance_key(t.p, t.web[k]), now)->hc_down =
			1;
	bp.panic_milli = BALANCE_PANIC_OFF;
	ok = ok && ASSERT_TRUE(balance_pick(&bp, t.web, 4) == NULL) &&
	     ASSERT_TRUE(balance_pick(&bp, t.web, 1) == NULL);
	bp.panic_milli = 0;
	ok = ok && ASSERT_TRUE(balance_pick(&bp, t.web, 4) != NULL) &&
	     ASSERT_TRUE(balance_pick(&bp, t.web, 1) == t.web[0]);
	bt_fini(&t);
	return ok;
}

/* Locality: the source's node first, then its zone, then any. */
static bool test_locality(void)
{
	struct bt t;
	bool ok = bt_init(&t);
	struct balance_conf lc = { .locality = true,
				   .type = MF_LB_ROUND_ROBIN };
	struct balance_pick bp = { .b = &t.b, .p = t.p, .conf = &lc,
				   .outlier = true };
	uint64_t now = timer_now();
	unsigned int hits[4] = { 0 };
	struct host *h;

	if (!ok)
		return false;
	bp.src = t.client;	/* n1, zone east */
	for (int i = 0; i < 100; i++)
		hits[0] += balance_pick(&bp, t.web, 4) == t.web[0];
	ok = ASSERT_EQ(hits[0], 100);
	/* w1 (its node) ejected: w2 (its zone) takes all. */
	h = hosts_get(t.b.hosts, balance_key(t.p, t.web[0]), now);
	h->ejected_until_ns = now + 60000000000ull;
	for (int i = 0; ok && i < 100; i++)
		hits[1] += balance_pick(&bp, t.web, 4) == t.web[1];
	ok = ok && ASSERT_EQ(hits[1], 100);
	/* Only the other zone's: they take it, both. */
	for (int i = 0; ok && i < 100; i++) {
		const struct mf_endpoint *e = balance_pick(&bp, t.web + 2, 2);

		hits[2] += e == t.web[2];
		hits[3] += e == t.web[3];
	}
	ok = ok && ASSERT_EQ(hits[2], 50) && ASSERT_EQ(hits[3], 50);
	bt_fini(&t);
	return ok;
}

/* No strategy: a request shuns an endpoint ten times slower; a connection
 * goes round robin. */
static bool test_defaults(void)
{
	struct bt t;
	bool ok = bt_init(&t);
	struct balance_pick bp = { .b = &t.b, .p = t.p };
	uint64_t now = timer_now();
	unsigned int slow = 0, conns[4] = { 0 };
	struct hhead hd;

	if (!ok)
		return false;
	for (size_t k = 0; k < 4; k++) {
		struct host *h = hosts_get(t.b.hosts,
					   balance_key(t.p, t.web[k]), now);

		h->ewma_ns = k == 0 ? 10000000 : 1000000;
		h->ewma_at_ns = now;
	}
	ok = ASSERT_TRUE(head_with(&hd, "/", NULL, NULL));
	bp.req = &hd;
	for (int i = 0; ok && i < 1000; i++)
		slow += balance_pick(&bp, t.web, 4) == t.web[0];
	hhead_free(&hd);
	ok = ok && ASSERT_TRUE(slow < 50);
	bp.req = NULL;
	for (int i = 0; ok && i < 400; i++) {
		const struct mf_endpoint *e = balance_pick(&bp, t.web, 4);

		for (size_t k = 0; k < 4; k++)
			conns[k] += e == t.web[k];
	}
	ok = ok && ASSERT_EQ(conns[0], 100) && ASSERT_EQ(conns[1], 100) &&
	     ASSERT_EQ(conns[2], 100) && ASSERT_EQ(conns[3], 100);
	bt_fini(&t);
	return ok;
}

/* A MeshExternalService with two endpoints of priority 0 and one of
 * priority 1 (written first: the order is the priority's, not the
 * spec's). */
static const char *const mes_yaml =
	RH_DOC("Mesh", "default")
	"spec: {trustDomain: mesh.local, meshExternalServices: "
	"{vipRange: 10.201.0.0/29}}\n"
	RH_KUMA("MeshExternalService", "ext")
	"  match: {type: HostnameGenerator, port: 443, protocol: tcp}\n"
	"  endpoints:\n"
	"    - {address: 192.0.2.3, port: 443, priority: 1}\n"
	"    - {address: 192.0.2.1, port: 443}\n"
	"    - {address: 192.0.2.2, port: 8443, priority: 0}\n";

/* @n picks of @bp among @eps (3) counted into @hits. */
static void pick_n(const struct balance_pick *bp,
		   const struct mf_endpoint *const *eps, int n,
		   unsigned int hits[3])
{
	memset(hits, 0, 3 * sizeof(*hits));
	for (int i = 0; i < n; i++) {
		const struct mf_endpoint *e = balance_pick(bp, eps, 3);

		for (size_t k = 0; k < 3; k++)
			hits[k] += e == eps[k];
	}
}

/* Priority failover: the lowest level takes every pick while one of it
 * can be had; a held (connect failed), ejected or unhealthy endpoint
 * is passed over; with the whole level gone the next takes them, and
 * they come back once the level's hold runs out.  All down: the lowest
 * level (panic).  Without the balancer: the lowest level. */
static bool test_priority_failover(void)
{
	struct policy *p = rh_yaml_snapshot(mes_yaml, 1);
	const struct mf_endpoint *eps[3] = { 0 };
	const struct mf_service *svc = NULL;
	struct balancer b;
	struct balance_pick bp = { .b = &b };
	uint64_t now = timer_now();
	unsigned int hits[3];
	struct host *h;
	bool ok = ASSERT_TRUE(p) && ASSERT_EQ(balance_init(&b), 0);

	if (ok) {
		bp.p = p;
		svc = policy_service_by_name(p, "ext");
		ok = ASSERT_TRUE(svc != NULL);
	}
	for (size_t i = 0; ok && i < 3; i++) {
		eps[i] = policy_service_endpoint_at(p, svc->id, i);
		ok = ASSERT_TRUE(eps[i] != NULL) &&
		     ASSERT_EQ(policy_endpoint_priority(p, eps[i]),
			       i < 2 ? 0 : 1);
	}
	ok = ok && ASSERT_TRUE(policy_service_endpoint_at(p, svc->id, 3) ==
			       NULL) &&
	     ASSERT_EQ(policy_endpoint_ip(p, eps[0]), rh_ip4("192.0.2.1")) &&
	     ASSERT_EQ(policy_endpoint_ip(p, eps[1]), rh_ip4("192.0.2.2")) &&
	     ASSERT_EQ(eps[1]->port, 8443) &&
	     ASSERT_EQ(policy_endpoint_ip(p, eps[2]), rh_ip4("192.0.2.3"));
	if (!ok)
		goto out;
	/* All up: priority 0 only, round robin. */
	pick_n(&bp, eps, 100, hits);
	ok = ASSERT_EQ(hits[0], 50) && ASSERT_EQ(hits[1], 50) &&
	     ASSERT_EQ(hits[2], 0);
	for (int i = 0; ok && i < 10; i++)
		ok = ASSERT_TRUE(policy_pick_endpoint(p, svc->id) != eps[2]);
	/* One of level 0 held: the other of level 0. */
	hosts_hold(b.hosts, balance_key(p, eps[0]), now, HOSTS_HOLD_MS);
	pick_n(&bp, eps, 50, hits);
	ok = ok && ASSERT_EQ(hits[1], 50);
	/* Both: level 1. */
	hosts_hold(b.hosts, balance_key(p, eps[1]), now, HOSTS_HOLD_MS);
	pick_n(&bp, eps, 50, hits);
	ok = ok && ASSERT_EQ(hits[2], 50);
	/* The hold of one is over: back to level 0. */
	h = hosts_get(b.hosts, balance_key(p, eps[1]), now);
	h->held_until_ns = now - 1;
	pick_n(&bp, eps, 50, hits);
	ok = ok && ASSERT_EQ(hits[1], 50);
	/* Ejected by outlier detection in force: level 1 again; not in
	 * force: level 0. */
	h->ejected_until_ns = now + 60000000000ull;
	bp.outlier = true;
	pick_n(&bp, eps, 50, hits);
	ok = ok && ASSERT_EQ(hits[2], 50);
	bp.outlier = false;
	pick_n(&bp, eps, 50, hits);
	ok = ok && ASSERT_EQ(hits[1], 50);
	/* Unhealthy by a health check in force: level 1. */
	h->hc_down = 1;
	bp.health = true;
	pick_n(&bp, eps, 50, hits);
	ok = ok && ASSERT_EQ(hits[2], 50);
	/* Level 1 held too: nothing is up, the lowest level takes them. */
	hosts_hold(b.hosts, balance_key(p, eps[2]), now, HOSTS_HOLD_MS);
	pick_n(&bp, eps, 100, hits);
	ok = ok && ASSERT_EQ(hits[2], 0) && ASSERT_EQ(hits[0] + hits[1], 100);
out:
	balance_fini(&b);
	policy_put(p);
	return ok;
}

/* A MeshService listing one identity, with one workload that presents
 * it and one that does not. */
static const char *const ids_yaml =
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"
	RH_KUMA("MeshService", "db")
	"  selector: {dataplaneLabels: {matchLabels: {app: db}}}\n"
	"  ports: [{port: 5432, targetPort: 5432}]\n"
	"  identities:\n"
	"    - {type: SpiffeID, value: \"spiffe://mesh.local/ns/default/sa/db\"}\n"
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
	"metadata: {name: d1, labels: {app: db}}\n"
	"spec: {node: n1, ip: 10.1.0.1, port: 5432, "
	"identity: \"spiffe://mesh.local/ns/default/sa/db\"}\n"
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
	"metadata: {name: d2, labels: {app: db}}\n"
	"spec: {node: n1, ip: 10.1.0.2, port: 5432, "
	"identity: \"spiffe://mesh.local/ns/default/sa/rogue\"}\n";

/* The endpoint whose workload is not among its MeshService's identities
 * is never picked, by the balancer or round robin; it is still the
 * workload at its address (a source). */
static bool test_identities_unlisted(void)
{
	struct policy *p = rh_yaml_snapshot(ids_yaml, 1);
	const struct mf_service *svc = p ? policy_service_by_name(p, "db") :
				       NULL;
	const struct mf_endpoint *d1, *d2;
	struct balancer b;
	struct balance_pick bp = { .b = &b, .p = p };
	bool ok = ASSERT_TRUE(svc != NULL) && ASSERT_EQ(balance_init(&b), 0);

	if (!ok) {
		policy_put(p);
		return false;
	}
	d1 = policy_endpoint_by_ip(p, rh_ip4("10.1.0.1"));
	d2 = policy_endpoint_by_ip(p, rh_ip4("10.1.0.2"));
	ok = ASSERT_TRUE(d1 && d2) &&
	     ASSERT_EQ(d2->flags & MF_ENDPOINT_F_UNLISTED,
		       MF_ENDPOINT_F_UNLISTED) &&
	     ASSERT_EQ(policy_service_unlisted(p, svc->id), 1) &&
	     ASSERT_TRUE(policy_service_endpoint_at(p, svc->id, 0) == d1) &&
	     ASSERT_TRUE(policy_service_endpoint_at(p, svc->id, 1) == NULL);
	for (int i = 0; ok && i < 20; i++)
		ok = ASSERT_TRUE(router_service_pick(p, &bp, svc->id) == d1) &&
		     ASSERT_TRUE(policy_pick_endpoint(p, svc->id) == d1);
	balance_fini(&b);
	policy_put(p);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_find);
	TEST_RUN(test_ring_hash_sticks);
	TEST_RUN(test_ejected_and_panic);
	TEST_RUN(test_unhealthy_and_panic);
	TEST_RUN(test_locality);
	TEST_RUN(test_defaults);
	TEST_RUN(test_priority_failover);
	TEST_RUN(test_identities_unlisted);
	TEST_MAIN_END();
}
