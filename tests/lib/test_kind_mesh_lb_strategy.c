// SPDX-License-Identifier: Apache-2.0
/*
 * MeshLoadBalancingStrategy (lib/policy/kind_mesh_lb_strategy.c) through
 * mfctl's reader and writer: ring hash, Maglev and least-request entries,
 * hash policies of every type (at the root and, as Kuma 2.14 has them, in
 * ringHash and maglev), locality awareness with affinity tags and cross-zone
 * failover, and a MeshHTTPRoute entry with hash policies only, parse into
 * the expected records and print back to the same bytes; type names,
 * settings of another type, ring and table sizes, hash sources, affinity
 * weights, failover zones and thresholds, and the rules that depend on the
 * policy's or the entry's targetRef each give exactly the expected
 * diagnostic.
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
	"            maxRingSize: 8000000\n"
	"    - targetRef: {kind: MeshService, name: cache}\n"
	"      default:\n"
	"        loadBalancer:\n"
	"          type: Maglev\n"
	"          maglev: {tableSize: 65537}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        loadBalancer:\n"
	"          type: LeastRequest\n"
	"          leastRequest: {choiceCount: 1000}\n";

static const char lb_full_yaml[] =
	KH_DOC("MeshLoadBalancingStrategy", "lb-full")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      default:\n"
	"        localityAwareness:\n"
	"          localZone:\n"
	"            affinityTags:\n"
	"              - {key: k8s.io/node, weight: 9}\n"
	"              - {key: k8s.io/az, weight: 1}\n"
	"          crossZone:\n"
	"            failover:\n"
	"              - from: {zones: [east, north]}\n"
	"                to: {type: Only, zones: [west]}\n"
	"              - to: {type: AnyExcept, zones: [south]}\n"
	"              - to: {type: None}\n"
	"            failoverThreshold: {percentage: \"70.5\"}\n"
	"        loadBalancer: {type: RingHash}\n"
	"        hashPolicies:\n"
	"          - type: Header\n"
	"            header: {name: x-user}\n"
	"            terminal: true\n"
	"          - type: Cookie\n"
	"            cookie: {name: session, ttl: 1h, path: /}\n"
	"          - type: QueryParameter\n"
	"            queryParameter: {name: user}\n"
	"          - type: FilterState\n"
	"            filterState: {key: io.istio.peer}\n"
	"    - targetRef: {kind: MeshService, name: cache}\n"
	"      default:\n"
	"        loadBalancer:\n"
	"          type: Maglev\n"
	"          maglev:\n"
	"            hashPolicies:\n"
	"              - type: SourceIP\n"
	"                connection: {sourceIP: true}\n"
	"    - targetRef: {kind: MeshService, name: db}\n"
	"      default:\n"
	"        loadBalancer:\n"
	"          type: RingHash\n"
	"          ringHash:\n"
	"            hashPolicies: [{type: Connection, connection: {}}]\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        localityAwareness: {localZone: {affinityTags: [{key: zone}]}}\n"
	"        loadBalancer:\n"
	"          type: LeastRequest\n"
	"          leastRequest: {activeRequestBias: \"1.3\"}\n"
	"    - targetRef: {kind: MeshService, name: api}\n"
	"      default:\n"
	"        loadBalancer: {type: RoundRobin, roundRobin: {}}\n"
	"    - targetRef: {kind: MeshService, name: img}\n"
	"      default:\n"
	"        loadBalancer: {type: Random, random: {}}\n"
	"    - targetRef: {kind: MeshHTTPRoute, name: checkout}\n"
	"      default:\n"
	"        hashPolicies: [{type: Cookie, cookie: {name: cart}}]\n"
	"---\n"
	KH_API "kind: MeshHTTPRoute\nmetadata: {name: checkout}\n"
	"spec:\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      rules: [{matches: [{path: {type: PathPrefix, value: /}}], "
	"default: {}}]\n";

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
		       8000000) &&
	     ASSERT_STREQ(r[1].hdr.ref.name, "cache") &&
	     ASSERT_EQ(r[1].conf.present, 0x2) &&
	     ASSERT_EQ(r[1].conf.load_balancer.present, 0x9) &&
	     ASSERT_EQ(r[1].conf.load_balancer.type, MF_LB_MAGLEV) &&
	     ASSERT_EQ(r[1].conf.load_balancer.maglev.table_size, 65537) &&
	     ASSERT_EQ(r[2].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[2].conf.load_balancer.present, 0x3) &&
	     ASSERT_EQ(r[2].conf.load_balancer.type, MF_LB_LEAST_REQUEST) &&
	     ASSERT_EQ(r[2].conf.load_balancer.least_request.choice_count,
		       1000);
	return kh_finish(&set, ok);
}

static bool test_lb_full(void)
{
	struct model_set set;
	const struct mf_lbstrategy *r;
	const struct mf_lb_locality *l;
	const struct mf_lb_conf *c;
	const struct model_obj *o;
	bool ok;

	if (!kh_parse_ok(lb_full_yaml, &set))
		return false;
	o = model_set_find(&set, model_kind_parse("MeshLoadBalancingStrategy"),
			   "lb-full");
	ok = ASSERT_TRUE(o != NULL) && ASSERT_EQ(o->pol.n, 7);
	if (!ok)
		goto out;
	r = (const void *)o->pol.recs;
	c = &r[0].conf;
	l = &c->locality_awareness;
	ok = ASSERT_EQ(c->present, 0x7) &&
	     ASSERT_EQ(l->present, 0x6) &&
	     ASSERT_EQ(l->local_zone.naffinity_tags, 2) &&
	     ASSERT_STREQ(l->local_zone.affinity_tags[0].key, "k8s.io/node") &&
	     ASSERT_EQ(l->local_zone.affinity_tags[0].weight, 9) &&
	     ASSERT_EQ(l->local_zone.affinity_tags[1].weight, 1) &&
	     ASSERT_EQ(l->cross_zone.nfailover, 3) &&
	     ASSERT_EQ(l->cross_zone.failover[0].present, 0x3) &&
	     ASSERT_EQ(l->cross_zone.failover[0].from.nzones, 2) &&
	     ASSERT_STREQ(l->cross_zone.failover[0].from.zones[1], "north") &&
	     ASSERT_EQ(l->cross_zone.failover[0].to.type,
		       MF_LB_FAILOVER_ONLY) &&
	     ASSERT_STREQ(l->cross_zone.failover[0].to.zones[0], "west") &&
	     ASSERT_EQ(l->cross_zone.failover[1].present, 0x2) &&
	     ASSERT_EQ(l->cross_zone.failover[1].to.type,
		       MF_LB_FAILOVER_ANY_EXCEPT) &&
	     ASSERT_EQ(l->cross_zone.failover[2].to.type,
		       MF_LB_FAILOVER_NONE) &&
	     ASSERT_EQ(l->cross_zone.failover[2].to.nzones, 0) &&
	     ASSERT_EQ(l->cross_zone.failover_threshold.percentage, 70500) &&
	     ASSERT_EQ(c->load_balancer.type, MF_LB_RING_HASH) &&
	     ASSERT_EQ(c->nhash_policies, 4) &&
	     ASSERT_EQ(c->hash_policies[0].type, MF_LB_HASH_HEADER) &&
	     ASSERT_EQ(c->hash_policies[0].terminal, 1) &&
	     ASSERT_STREQ(c->hash_policies[0].header.name, "x-user") &&
	     ASSERT_EQ(c->hash_policies[1].type, MF_LB_HASH_COOKIE) &&
	     ASSERT_STREQ(c->hash_policies[1].cookie.name, "session") &&
	     ASSERT_EQ(c->hash_policies[1].cookie.ttl, 3600000) &&
	     ASSERT_STREQ(c->hash_policies[1].cookie.path, "/") &&
	     ASSERT_EQ(c->hash_policies[2].type, MF_LB_HASH_QUERY_PARAMETER) &&
	     ASSERT_STREQ(c->hash_policies[2].query_parameter.name, "user") &&
	     ASSERT_EQ(c->hash_policies[3].type, MF_LB_HASH_FILTER_STATE) &&
	     ASSERT_STREQ(c->hash_policies[3].filter_state.key,
			  "io.istio.peer");
	if (!ok)
		goto out;
	c = &r[1].conf;
	ok = ASSERT_EQ(c->load_balancer.maglev.nhash_policies, 1) &&
	     ASSERT_EQ(c->load_balancer.maglev.hash_policies[0].type,
		       MF_LB_HASH_SOURCE_IP) &&
	     ASSERT_EQ(c->load_balancer.maglev.hash_policies[0].connection
			       .source_ip, 1) &&
	     ASSERT_EQ(r[2].conf.load_balancer.ring_hash.nhash_policies, 1) &&
	     ASSERT_EQ(r[2].conf.load_balancer.ring_hash.hash_policies[0]
			       .connection.present, 0) &&
	     ASSERT_EQ(r[3].conf.locality_awareness.local_zone
			       .affinity_tags[0].weight, 0) &&
	     ASSERT_EQ(r[3].conf.load_balancer.least_request.present, 0x2) &&
	     ASSERT_EQ(r[3].conf.load_balancer.least_request
			       .active_request_bias, 1300) &&
	     ASSERT_EQ(r[4].conf.load_balancer.present, 0x11) &&
	     ASSERT_EQ(r[5].conf.load_balancer.present, 0x21) &&
	     ASSERT_EQ(r[6].hdr.ref.kind, MF_REF_MESH_HTTP_ROUTE) &&
	     ASSERT_EQ(r[6].conf.present, 0x4) &&
	     ASSERT_STREQ(r[6].conf.hash_policies[0].cookie.name, "cart");
	ok = ok && kh_round_trip(&set, o);
out:
	model_set_free(&set);
	return ok;
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
	  "choiceCount: must be 2..2147483647" },
	{ LB_HEAD "          ringHash: {hashFunction: XXHash}\n",
	  "t.yaml:10:11: spec.to[0].default.loadBalancer.type: is "
	  "required" },
	{ LB_HEAD "          type: RingHash\n"
		  "          ringHash: {maxRingSize: 8000001}\n",
	  "t.yaml:11:35: spec.to[0].default.loadBalancer.ringHash."
	  "maxRingSize: must be 1..8000000" },
	{ LB_HEAD "          type: RingHash\n"
		  "          random: {}\n",
	  "t.yaml:10:11: spec.to[0].default.loadBalancer: random "
	  "needs type Random" },
	{ LB_HEAD "          type: LeastRequest\n"
		  "          leastRequest: {activeRequestBias: \"-1\"}\n",
	  "t.yaml:11:45: spec.to[0].default.loadBalancer.leastRequest."
	  "activeRequestBias: must be a number such as 1.9 (at most 3 "
	  "decimals)" },
	/* Kuma 2.14 refuses hashPolicies in two places at once. */
	{ LB_HEAD "          type: Maglev\n"
		  "          maglev:\n"
		  "            hashPolicies: [{type: Header, "
		  "header: {name: x-a}}]\n"
		  "        hashPolicies: [{type: Header, "
		  "header: {name: x-b}}]\n",
	  "t.yaml:10:11: spec.to[0].default.loadBalancer: "
	  "maglev.hashPolicies: hashPolicies are set at the root of "
	  "default already" },
)

/* HASH_HEAD is 9 lines: the first line after it is line 10. */
#define HASH_HEAD                                                             \
	KH_DOC("MeshLoadBalancingStrategy", "l") KH_ENTRY("to")               \
	"        hashPolicies:\n"

KH_TEST_BAD(test_lb_hash_invalid,
	{ HASH_HEAD "          - type: Header\n",
	  "t.yaml:10:13: spec.to[0].default.hashPolicies[0].header: "
	  "must be set for type Header" },
	{ HASH_HEAD "          - type: SourceIP\n",
	  "t.yaml:10:13: spec.to[0].default.hashPolicies[0].connection: "
	  "must be set for type SourceIP" },
	{ HASH_HEAD "          - type: FilterState\n"
		    "            header: {name: x-a}\n",
	  "t.yaml:10:13: spec.to[0].default.hashPolicies[0].filterState: "
	  "must be set for type FilterState" },
	{ HASH_HEAD "          - type: Header\n"
		    "            header: {name: x-a}\n"
		    "            cookie: {name: c}\n",
	  "t.yaml:12:21: spec.to[0].default.hashPolicies[0].cookie: "
	  "must not be set: the policy's type hashes on another source" },
	{ HASH_HEAD "          - type: Cookie\n"
		    "            cookie: {name: c, path: relative}\n",
	  "t.yaml:11:37: spec.to[0].default.hashPolicies[0].cookie.path: "
	  "must start with '/'" },
	{ HASH_HEAD "          - type: QueryParameter\n"
		    "            queryParameter: {}\n",
	  "t.yaml:11:29: spec.to[0].default.hashPolicies[0]."
	  "queryParameter.name: is required" },
	{ HASH_HEAD "          - type: Hash\n",
	  "t.yaml:10:19: spec.to[0].default.hashPolicies[0].type: must be "
	  "Header, Cookie, Connection, SourceIP, QueryParameter or "
	  "FilterState" },
)

/* LOC_HEAD is 9 lines: the first line after it is line 10. */
#define LOC_HEAD                                                              \
	KH_DOC("MeshLoadBalancingStrategy", "l") KH_ENTRY("to")               \
	"        localityAwareness:\n"

KH_TEST_BAD(test_lb_locality_invalid,
	{ LOC_HEAD "          localZone:\n"
		   "            affinityTags: [{key: a, weight: 2}, "
		   "{key: b}]\n",
	  "t.yaml:11:27: spec.to[0].default.localityAwareness.localZone."
	  "affinityTags: either every entry has a weight or none has" },
	{ LOC_HEAD "          localZone:\n"
		   "            affinityTags: [{key: a, weight: 0}]\n",
	  "t.yaml:11:45: spec.to[0].default.localityAwareness.localZone."
	  "affinityTags[0].weight: must be 1..4294967295" },
	{ LOC_HEAD "          localZone:\n"
		   "            affinityTags: [{key: \"\"}]\n",
	  "t.yaml:11:34: spec.to[0].default.localityAwareness.localZone."
	  "affinityTags[0].key: must not be empty" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{from: {zones: []}, "
		   "to: {type: Any}}]\n",
	  "t.yaml:11:39: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].from.zones: must have at least one entry" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{from: {zones: [a, \"\"]}, "
		   "to: {type: Any}}]\n",
	  "t.yaml:11:43: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].from.zones[1]: must not be empty" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{to: {type: None, zones: [a]}}]\n",
	  "t.yaml:11:49: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].to.zones: must be empty for type None" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{to: {type: Any, zones: [a]}}]\n",
	  "t.yaml:11:48: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].to.zones: must be empty for type Any" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{to: {type: Only}}]\n",
	  "t.yaml:11:29: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].to.zones: must not be empty for type Only" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{to: {type: AnyExcept, zones: []}}]\n",
	  "t.yaml:11:54: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].to.zones: must not be empty for type AnyExcept" },
	{ LOC_HEAD "          crossZone:\n"
		   "            failover: [{to: {type: Some}}]\n",
	  "t.yaml:11:36: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].to.type: must be None, Only, Any or AnyExcept" },
	{ LOC_HEAD "          crossZone: {failover: [{from: {zones: [a]}}]}\n",
	  "t.yaml:10:34: spec.to[0].default.localityAwareness.crossZone."
	  "failover[0].to: is required" },
	{ LOC_HEAD "          crossZone: {failoverThreshold: "
		   "{percentage: 0}}\n",
	  "t.yaml:10:55: spec.to[0].default.localityAwareness.crossZone."
	  "failoverThreshold.percentage: must be above 0" },
	{ LOC_HEAD "          crossZone: {failoverThreshold: "
		   "{percentage: hello}}\n",
	  "t.yaml:10:55: spec.to[0].default.localityAwareness.crossZone."
	  "failoverThreshold.percentage: must be a percentage 0..100 with "
	  "at most 3 decimals" },
)

/* Rules on default that depend on the policy's or the entry's targetRef,
 * which Kuma checks with the entry. */
KH_TEST_BAD(test_lb_target_invalid,
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, labels: {app: db}}\n"
	  "      default:\n"
	  "        localityAwareness: {crossZone: {}}\n",
	  "t.yaml:8:40: spec.to[0].default.localityAwareness.crossZone: "
	  "must not be set for a MeshService by labels or sectionName: its "
	  "traffic stays in its zone" },
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: db, sectionName: http}\n"
	  "      default:\n"
	  "        localityAwareness: {crossZone: {}}\n",
	  "t.yaml:8:40: spec.to[0].default.localityAwareness.crossZone: "
	  "must not be set for a MeshService by labels or sectionName: its "
	  "traffic stays in its zone" },
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  to:\n"
	  "    - targetRef: {kind: MeshHTTPRoute, name: r}\n"
	  "      default:\n"
	  "        loadBalancer: {type: RoundRobin}\n",
	  "t.yaml:8:23: spec.to[0].default.loadBalancer: must not be set "
	  "for a MeshHTTPRoute entry: it takes hashPolicies only" },
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  to:\n"
	  "    - targetRef: {kind: MeshHTTPRoute, name: r}\n"
	  "      default:\n"
	  "        localityAwareness: {disabled: true}\n"
	  "        hashPolicies: [{type: Header, header: {name: x-a}}]\n",
	  "t.yaml:8:28: spec.to[0].default.localityAwareness: must not be "
	  "set for a MeshHTTPRoute entry: it takes hashPolicies only" },
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  targetRef: {kind: MeshGateway, name: edge}\n"
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: svc}\n"
	  "      default:\n"
	  "        loadBalancer: {type: LeastRequest}\n",
	  "t.yaml:9:23: spec.to[0].default.loadBalancer: under a "
	  "MeshGateway target is for to[].targetRef kind Mesh only" },
)

/*
 * kh_layout_ok()'s rules, except that the sources of a hash policy share
 * one union (its check allows one of them): they must start together,
 * after type and terminal, and each must fit the policy.
 */
static bool lb_layout_ok(const struct sch_object *s)
{
	bool hash = !strcmp(s->name, "MeshLoadBalancingStrategy hash policy");
	size_t first = s->scalar ? 0 : sizeof(uint32_t);
	bool ok = ASSERT_TRUE(s->nfields >= 1 && s->nfields <= 32);

	for (size_t i = 0; ok && i < s->nfields; i++) {
		const struct sch_field *f = &s->fields[i];
		size_t a = f->off, ae = a + sch_field_size(f);

		ok = ASSERT_GE(a, first) && ASSERT_TRUE(ae > a);
		if (ok && hash && f->type == SCH_OBJECT)
			ok = ASSERT_EQ(a, offsetof(struct mf_lb_hash_policy,
						   header)) &&
			     ASSERT_TRUE(ae <= sizeof(struct mf_lb_hash_policy));
		for (size_t j = i + 1; ok && j < s->nfields; j++) {
			size_t b = s->fields[j].off;
			size_t be = b + sch_field_size(&s->fields[j]);

			if (hash && f->type == SCH_OBJECT &&
			    s->fields[j].type == SCH_OBJECT)
				continue;	/* the union */
			ok = ASSERT_TRUE(ae <= b || be <= a);
		}
		if (ok && f->type == SCH_OBJECT && f->sub->nfields)
			ok = lb_layout_ok(f->sub);
		if (ok && f->type == SCH_LIST)
			ok = ASSERT_GE(f->item_size, sch_object_size(f->sub)) &&
			     ASSERT_TRUE(f->max_items > 0) &&
			     ASSERT_TRUE(f->count_off + 1u <= a ||
					 f->count_off >= ae) &&
			     lb_layout_ok(f->sub);
		if (!ok)
			fprintf(stderr, "  %s.%s\n", s->name,
				f->name ? f->name : "(item)");
	}
	return ok;
}

static bool test_lb_layout(void)
{
	const struct kind_desc *kd = &kind_mesh_lb_strategy;
	struct model_set set;
	bool ok = ASSERT_TRUE(kd->conf_off + sch_object_size(kd->conf) <=
			      kd->val_size) &&
		  ASSERT_TRUE(kd->val_size < 4096) &&
		  lb_layout_ok(kd->conf);

	for (int d = 0; ok && d < 2; d++) {
		const struct model_obj *o;

		ok = kh_parse_ok(d ? lb_full_yaml : lb_yaml, &set);
		o = ok ? &set.objs[0] : NULL;
		for (size_t i = 0; ok && i < o->pol.n; i++)
			ok = ASSERT_TRUE(!sch_check(kd->conf, o->pol.recs +
							      i * kd->val_size +
							      kd->conf_off));
		if (o)
			model_set_free(&set);
	}
	return ok;
}

/* A MeshExternalService entry goes with a Mesh target (Kuma 2.14) or a
 * Dataplane one (3.0); a narrower target of 2.14 is refused at the entry's
 * kind. */
KH_TEST_BAD(test_lb_external_needs_mesh,
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  to:\n"
	  "    - targetRef: {kind: MeshExternalService, name: ext}\n"
	  "      default: {loadBalancer: {type: Random}}\n",
	  "t.yaml:7:25: spec.to[0].targetRef.kind: must be Mesh, "
	  "MeshService, MeshHTTPRoute or MeshMultiZoneService" },
	{ KH_DOC("MeshLoadBalancingStrategy", "l")
	  "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	  "  to:\n"
	  "    - targetRef: {kind: MeshExternalService, name: ext}\n"
	  "      default: {loadBalancer: {type: Random}}\n",
	  "t.yaml:7:25: spec.to[0].targetRef.kind: must be Mesh, "
	  "MeshService, MeshHTTPRoute or MeshMultiZoneService" },
)

static bool test_lb_external_mesh_or_dataplane(void)
{
	static const char yaml[] =
		KH_DOC("MeshLoadBalancingStrategy", "l")
		"  targetRef: {kind: Dataplane, labels: {app: web}}\n"
		"  to:\n"
		"    - targetRef: {kind: MeshExternalService, labels: {a: b}}\n"
		"      default: {loadBalancer: {type: Random}}\n";
	struct model_set s;
	const struct mf_lbstrategy *r =
		kh_policy(yaml, &s, &kind_mesh_lb_strategy, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.target.kind, MF_REF_WORKLOAD) &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_EXTERNAL_SERVICE);
	return kh_finish(&s, ok);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_lb_parse);
	TEST_RUN(test_lb_full);
	TEST_RUN(test_lb_invalid);
	TEST_RUN(test_lb_hash_invalid);
	TEST_RUN(test_lb_locality_invalid);
	TEST_RUN(test_lb_target_invalid);
	TEST_RUN(test_lb_external_needs_mesh);
	TEST_RUN(test_lb_external_mesh_or_dataplane);
	TEST_RUN(test_lb_layout);
	TEST_MAIN_END();
}
