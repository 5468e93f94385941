// SPDX-License-Identifier: Apache-2.0
/*
 * TrafficRoute, the legacy kind of source/destination selectors
 * (lib/policy/kind_traffic_route.c), through mfctl's reader and printer: a
 * split and a single destination, with every load balancer, parse into the
 * expected records and print back to the same bytes; the exactly-one
 * rules, weights and balancer settings each give exactly the expected
 * diagnostic.
 */
#include <stdio.h>

#include "harness/test.h"
#include "harness/kinds_harness.h"

#define TR_HEAD KH_API "kind: TrafficRoute\nmetadata:\n  name: route\nspec:\n"

static const char tr_full[] =
	TR_HEAD
	"  sources:\n"
	"    - match:\n"
	"        kuma.io/service: '*'\n"
	"    - match:\n"
	"        kuma.io/service: frontend\n"
	"        kuma.io/zone: east\n"
	"  destinations:\n"
	"    - match:\n"
	"        kuma.io/service: web\n"
	"  conf:\n"
	"    split:\n"
	"      - weight: 90\n"
	"        destination:\n"
	"          kuma.io/service: web\n"
	"          version: v1\n"
	"      - weight: 0\n"
	"        destination: {kuma.io/service: web, version: v2}\n"
	"    loadBalancer:\n"
	"      ringHash:\n"
	"        hashFunction: MURMUR_HASH_2\n"
	"        minRingSize: 64\n"
	"        maxRingSize: 1024\n";

static const char *const web[] = { "kuma.io/service", "web" };

static bool test_traffic_route_full(void)
{
	static const char *const any[] = { "kuma.io/service", "*" };
	static const char *const front[] = { "kuma.io/service", "frontend",
					     "kuma.io/zone", "east" };
	static const char *const v1[] = { "kuma.io/service", "web",
					  "version", "v1" };
	static const char *const v2[] = { "kuma.io/service", "web",
					  "version", "v2" };
	struct model_set s;
	const struct mf_traffic_route *r = kh_policy(tr_full, &s,
						     &kind_traffic_route, 1);
	const struct mf_tr_conf *c = r ? &r->conf : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(r->hdr.nsources, 2) &&
	     ASSERT_EQ(r->hdr.ndestinations, 1) &&
	     kh_tags_are(&s, r->hdr.sources[0], any, 1) &&
	     kh_tags_are(&s, r->hdr.sources[1], front, 2) &&
	     kh_tags_are(&s, r->hdr.destinations[0], web, 1) &&
	     ASSERT_EQ(c->nsplit, 2) &&
	     ASSERT_EQ(c->split[0].weight, 90) &&
	     kh_tags_are(&s, c->split[0].destination, v1, 2) &&
	     ASSERT_EQ(c->split[1].weight, 0) &&
	     ASSERT_EQ(c->split[1].present, 3) &&
	     kh_tags_are(&s, c->split[1].destination, v2, 2) &&
	     ASSERT_EQ(c->destination, 0) &&
	     ASSERT_EQ(c->load_balancer.present, 1u << 2) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.hash_function,
		       MF_LB_HASH_MURMUR2) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.min_ring_size, 64) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.max_ring_size, 1024);
	return kh_finish(&s, ok);
}

/* destination instead of split, and the balancers without settings. */
static bool test_traffic_route_destination(void)
{
	static const char *const lbs[] = { "roundRobin: {}", "random: {}",
					   "leastRequest: {choiceCount: 3}",
					   "maglev: {tableSize: 65537}" };

	for (size_t i = 0; i < KH_NCASES(lbs); i++) {
		struct model_set s;
		const struct mf_traffic_route *r;
		char *doc;
		bool ok;

		if (!ASSERT_TRUE(asprintf(&doc, TR_HEAD
				"  sources: [{match: {kuma.io/service: '*'}}]\n"
				"  destinations:\n"
				"    - match: {kuma.io/service: web}\n"
				"  conf:\n"
				"    destination: {kuma.io/service: web}\n"
				"    loadBalancer: {%s}\n", lbs[i]) > 0))
			return false;
		r = kh_policy(doc, &s, &kind_traffic_route, 1);
		free(doc);
		ok = r && kh_tags_are(&s, r->conf.destination, web, 1) &&
		     ASSERT_EQ(r->conf.nsplit, 0) &&
		     ASSERT_EQ(__builtin_popcount(
				       r->conf.load_balancer.present), 1);
		if (!kh_finish(&s, ok))
			return false;
	}
	return true;
}

#define TR_CONF(conf)                                                         \
	TR_HEAD "  sources:\n    - match: {kuma.io/service: '*'}\n"           \
		"  destinations:\n    - match: {kuma.io/service: web}\n"      \
		"  conf:\n" conf
/* conf.destination and the loadBalancer (line 12) @lb. */
#define TR_LB(lb)                                                             \
	TR_CONF("    destination: {kuma.io/service: web}\n"                   \
		"    loadBalancer:" lb "\n")

KH_TEST_BAD(test_traffic_route_invalid,
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    split:\n"
	          "      - {weight: 1, destination: {kuma.io/service: web}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "must have exactly one of split, destination" },
	{ TR_CONF("    loadBalancer: {random: {}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "must have exactly one of split, destination" },
	{ TR_CONF("    split:\n"
	          "      - {weight: 0, destination: {kuma.io/service: a}}\n"
	          "      - {weight: 0, destination: {kuma.io/service: b}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "split must have at least one weight above 0" },
	{ TR_CONF("    split: []\n"),
	  "t.yaml:11:5: spec.conf: "
	  "split must have at least one entry" },
	{ TR_CONF("    split:\n"
	          "      - {destination: {kuma.io/service: a}}\n"),
	  "t.yaml:12:9: spec.conf.split[0].weight: "
	  "is required" },
	{ TR_LB(" {random: {}, roundRobin: {}}"),
	  "t.yaml:12:19: spec.conf.loadBalancer: "
	  "must have exactly one of roundRobin, leastRequest, ringHash, "
	  "random, maglev" },
	{ TR_LB(" {}"),
	  "t.yaml:12:19: spec.conf.loadBalancer: "
	  "must have exactly one of roundRobin, leastRequest, ringHash, "
	  "random, maglev" },
	{ TR_LB("\n      ringHash: {hashFunction: XX_HASH, "
	        "minRingSize: 2048, maxRingSize: 1024}"),
	  "t.yaml:13:17: spec.conf.loadBalancer.ringHash: "
	  "minRingSize must not be above maxRingSize" },
	{ TR_LB(" {ringHash: {minRingSize: 8}}"),
	  "t.yaml:12:30: spec.conf.loadBalancer.ringHash.hashFunction: "
	  "is required" },
	{ TR_LB(" {maglev: {tableSize: 1000}}"),
	  "t.yaml:12:28: spec.conf.loadBalancer.maglev: "
	  "tableSize must be a prime number" },
	{ TR_LB(" {leastRequest: {choiceCount: 1}}"),
	  "t.yaml:12:48: spec.conf.loadBalancer.leastRequest.choiceCount: "
	  "must be 2..4294967295" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_traffic_route_full);
	TEST_RUN(test_traffic_route_destination);
	TEST_RUN(test_traffic_route_invalid);
	TEST_MAIN_END();
}
