// SPDX-License-Identifier: Apache-2.0
/*
 * MeshLoadBalancingStrategy (lib/policy/kind_mesh_lb_strategy.c) through
 * mfctl's reader and writer: ring hash, Maglev and least-request entries
 * parse into the expected records and print back to the same bytes; type
 * names, settings of another type, ring and table sizes each give exactly
 * the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char lb_yaml[] =
	KH_DOC("MeshLoadBalancingStrategy", "lb")
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
	const struct mf_lbstrategy *r = kh_policy(lb_yaml, &set,
						  &kind_mesh_lb_strategy, 3);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
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
	     ASSERT_EQ(r[2].conf.load_balancer.least_request.choice_count, 2);
	return kh_finish(&set, ok);
}

/* LB_HEAD is 9 lines: the first line after it is line 10. */
#define LB_HEAD                                                               \
	KH_DOC("MeshLoadBalancingStrategy", "l") KH_ENTRY("to")               \
	"        loadBalancer:\n"

KH_TEST_BAD(test_lb_invalid,
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
)

static bool test_lb_layout(void)
{
	return kh_layout(&kind_mesh_lb_strategy, lb_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_lb_parse);
	TEST_RUN(test_lb_invalid);
	TEST_RUN(test_lb_layout);
	TEST_MAIN_END();
}
