// SPDX-License-Identifier: Apache-2.0
/*
 * MeshLoadBalancingStrategy: how a proxy picks an endpoint of a
 * destination, what it hashes requests on, and whether it prefers
 * endpoints of its own locality.  Only `to` entries.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshLoadBalancingStrategy
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: Mesh}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         default:
 *           localityAwareness:
 *             disabled: false
 *             localZone:
 *               affinityTags:
 *                 - {key: k8s.io/node, weight: 9}
 *                 - {key: k8s.io/az, weight: 1}
 *             crossZone:
 *               failover:
 *                 - from: {zones: [east]}
 *                   to: {type: Only, zones: [west]}
 *                 - to: {type: Any}
 *               failoverThreshold: {percentage: 70}
 *           loadBalancer:
 *             type: RingHash
 *             ringHash:
 *               hashFunction: MurmurHash2
 *               minRingSize: 1024
 *               maxRingSize: 8192
 *           hashPolicies:
 *             - type: Header
 *               header: {name: x-user}
 *               terminal: true
 *             - type: Cookie
 *               cookie: {name: session, ttl: 1h, path: /}
 *             - type: Connection
 *               connection: {sourceIP: true}
 *             - type: QueryParameter
 *               queryParameter: {name: user}
 *             - type: FilterState
 *               filterState: {key: io.istio.peer}
 *       - targetRef: {kind: MeshService, name: cache}
 *         default:
 *           loadBalancer:
 *             type: Maglev
 *             maglev: {tableSize: 65537}
 *       - targetRef: {kind: Mesh}
 *         default:
 *           loadBalancer:
 *             type: LeastRequest
 *             leastRequest: {choiceCount: 3, activeRequestBias: "1.5"}
 *       - targetRef: {kind: MeshHTTPRoute, name: checkout}
 *         default:
 *           hashPolicies: [{type: Cookie, cookie: {name: cart}}]
 *
 * Ranges are Kuma's schema's within Envoy's: choiceCount at least 2 (an
 * int32: least-request compares two or more endpoints), activeRequestBias
 * a decimal of at least 0, ring sizes 1..8000000 entries with min <= max,
 * Maglev table size a prime (Envoy refuses others) up to 5000011.  The settings object written must be the one of `type`:
 * leastRequest only with LeastRequest, and so on.
 *
 * The rest is Kuma's (2.14 and 3.0): a hash policy has the source its type
 * names (SourceIP, which Kuma 2.14 still takes, hashes as Connection); 2.14
 * also takes hashPolicies inside ringHash and maglev, but not together with
 * the root ones; affinity tags have a weight each or none does; a failover
 * of type Any or None lists no zones, Only and AnyExcept list some;
 * failoverThreshold is a percentage above 0; a MeshHTTPRoute entry takes
 * only hashPolicies; under a MeshGateway target a loadBalancer goes to the
 * whole mesh only; crossZone does not apply to a MeshService by labels or
 * sectionName, whose traffic stays in its zone.
 */
#include <stddef.h>
#include <stdint.h>

#include "kinds.h"

#define LB_RING_MAX		8000000u	/* Kuma's, below Envoy's 8M */
#define LB_MAGLEV_MAX		5000011u	/* Envoy's largest table */
#define LB_CHOICE_MAX		INT32_MAX	/* Kuma's int32 */

/*
 * The record a conf belongs to.  pdoc.c reads a conf in place, in its
 * record, after it has written the header's targetRefs, so rules Kuma ties
 * to the policy's targetRef or to the entry's can read them there.
 */
static const struct mf_lbstrategy *lb_rec_of_conf(const void *conf)
{
	return (const void *)((const char *)conf -
			      offsetof(struct mf_lbstrategy, conf));
}

static const char *const lb_type_names[] = {
	/* index + 1 = enum mf_lb_type */
	"RoundRobin", "LeastRequest", "RingHash", "Random", "Maglev", NULL,
};

static const char *const lb_hash_names[] = {
	/* index + 1 = enum mf_lb_hash_function */
	"XXHash", "MurmurHash2", NULL,
};

/* ---- hashPolicies ------------------------------------------------------- */
static const char *const lb_hash_types[] = {
	/* index + 1 = enum mf_lb_hash_type */
	"Header", "Cookie", "Connection", "SourceIP", "QueryParameter",
	"FilterState", NULL,
};

static const struct sch_field lb_hash_header_fields[] = {
	SCH_F_STRING("name", mf_lb_hash_name, name, SCH_REQUIRED,
		     .check = kind_check_header_name),
};
SCH_OBJECT_DEF(lb_hash_header, "hashPolicies header");

static const struct sch_field lb_hash_query_fields[] = {
	SCH_F_STRING("name", mf_lb_hash_name, name, SCH_REQUIRED),
};
SCH_OBJECT_DEF(lb_hash_query, "hashPolicies queryParameter");

static const struct sch_field lb_hash_cookie_fields[] = {
	SCH_F_STRING("name", mf_lb_hash_cookie, name, SCH_REQUIRED,
		     .check = kind_check_header_name),
	SCH_F_DURATION("ttl", mf_lb_hash_cookie, ttl),
	SCH_F_STRING("path", mf_lb_hash_cookie, path,
		     .check = kind_check_abs_path),
};
SCH_OBJECT_DEF(lb_hash_cookie, "hashPolicies cookie");

static const struct sch_field lb_hash_connection_fields[] = {
	SCH_F_BOOL("sourceIP", mf_lb_hash_connection, source_ip),
};
SCH_OBJECT_DEF(lb_hash_connection, "hashPolicies connection");

static const struct sch_field lb_hash_filter_state_fields[] = {
	SCH_F_STRING("key", mf_lb_hash_filter_state, key, SCH_REQUIRED,
		     .check = kind_check_no_space),
};
SCH_OBJECT_DEF(lb_hash_filter_state, "hashPolicies filterState");

enum { HP_TYPE, HP_TERMINAL, HP_HEADER, HP_COOKIE, HP_CONNECTION, HP_QUERY,
       HP_FILTER_STATE };

static const struct sch_field lb_hash_policy_fields[] = {
	[HP_TYPE] = SCH_F_ENUM("type", mf_lb_hash_policy, type, lb_hash_types,
			       SCH_REQUIRED),
	[HP_TERMINAL] = SCH_F_BOOL("terminal", mf_lb_hash_policy, terminal),
	[HP_HEADER] = SCH_F_OBJECT("header", mf_lb_hash_policy, header,
				   &lb_hash_header),
	[HP_COOKIE] = SCH_F_OBJECT("cookie", mf_lb_hash_policy, cookie,
				   &lb_hash_cookie),
	[HP_CONNECTION] = SCH_F_OBJECT("connection", mf_lb_hash_policy,
				       connection, &lb_hash_connection),
	[HP_QUERY] = SCH_F_OBJECT("queryParameter", mf_lb_hash_policy,
				  query_parameter, &lb_hash_query),
	[HP_FILTER_STATE] = SCH_F_OBJECT("filterState", mf_lb_hash_policy,
					 filter_state, &lb_hash_filter_state),
};

/* The sources share one union, so the policy holds exactly the one its
 * type hashes on (Kuma: that one must be defined); a second would have
 * overwritten the first. */
static const char *lb_hash_policy_check(const void *obj, unsigned *field)
{
	static const struct {
		unsigned field;
		const char *msg;
	} want[] = {
		[MF_LB_HASH_HEADER] = { HP_HEADER,
			"must be set for type Header" },
		[MF_LB_HASH_COOKIE] = { HP_COOKIE,
			"must be set for type Cookie" },
		[MF_LB_HASH_CONNECTION] = { HP_CONNECTION,
			"must be set for type Connection" },
		[MF_LB_HASH_SOURCE_IP] = { HP_CONNECTION,
			"must be set for type SourceIP" },
		[MF_LB_HASH_QUERY_PARAMETER] = { HP_QUERY,
			"must be set for type QueryParameter" },
		[MF_LB_HASH_FILTER_STATE] = { HP_FILTER_STATE,
			"must be set for type FilterState" },
	};
	const struct mf_lb_hash_policy *h = obj;
	uint32_t sources = sch_present(h) & ~(1u << HP_TYPE |
					      1u << HP_TERMINAL);

	/* A missing type is the required field's message already. */
	if (h->type < MF_LB_HASH_HEADER || h->type > MF_LB_HASH_FILTER_STATE)
		return NULL;
	*field = want[h->type].field;
	if (!(sources & 1u << *field))
		return want[h->type].msg;
	if (sources != 1u << *field) {
		/* Blame the first other source written. */
		sources &= ~(1u << *field);
		for (*field = HP_HEADER; !(sources & 1u << *field); (*field)++)
			;
		return "must not be set: the policy's type hashes on "
		       "another source";
	}
	return NULL;
}
SCH_OBJECT_DEF(lb_hash_policy, "MeshLoadBalancingStrategy hash policy",
	       .check_field = lb_hash_policy_check);

/* ---- leastRequest ------------------------------------------------------- */
static const struct sch_field lb_least_fields[] = {
	SCH_F_INT("choiceCount", mf_lb_strategy_least_request, choice_count,
		  2, LB_CHOICE_MAX),
	/* Envoy weighs endpoints by 1 / active_requests ^ bias. */
	SCH_F_DECIMAL("activeRequestBias", mf_lb_strategy_least_request,
		      active_request_bias, 0, UINT32_MAX),
};
SCH_OBJECT_DEF(lb_least, "MeshLoadBalancingStrategy leastRequest");

/* ---- ringHash ----------------------------------------------------------- */
enum { RING_HASH_FN, RING_MIN, RING_MAX, RING_POLICIES };

static const struct sch_field lb_ring_fields[] = {
	[RING_HASH_FN] = SCH_F_ENUM("hashFunction", mf_lb_strategy_ring_hash,
				    hash_function, lb_hash_names),
	[RING_MIN] = SCH_F_INT("minRingSize", mf_lb_strategy_ring_hash,
			       min_ring_size, 1, LB_RING_MAX),
	[RING_MAX] = SCH_F_INT("maxRingSize", mf_lb_strategy_ring_hash,
			       max_ring_size, 1, LB_RING_MAX),
	[RING_POLICIES] = SCH_F_LIST("hashPolicies", mf_lb_strategy_ring_hash,
				     hash_policies, &lb_hash_policy),
};

static const char *lb_ring_check(const void *obj)
{
	const struct mf_lb_strategy_ring_hash *r = obj;

	if (sch_has(r, RING_MIN) && sch_has(r, RING_MAX) &&
	    r->min_ring_size > r->max_ring_size)
		return "minRingSize must not be greater than maxRingSize";
	return NULL;
}
SCH_OBJECT_DEF(lb_ring, "MeshLoadBalancingStrategy ringHash",
	       .check = lb_ring_check);

/* ---- maglev ------------------------------------------------------------- */
enum { MAGLEV_SIZE, MAGLEV_POLICIES };

static const struct sch_field lb_maglev_fields[] = {
	[MAGLEV_SIZE] = SCH_F_INT("tableSize", mf_lb_strategy_maglev,
				  table_size, 2, LB_MAGLEV_MAX),
	[MAGLEV_POLICIES] = SCH_F_LIST("hashPolicies", mf_lb_strategy_maglev,
				       hash_policies, &lb_hash_policy),
};

/* Envoy refuses a Maglev table whose size is not prime; say so here, where
 * the user can see the line, rather than in the proxy's log. */
static const char *lb_maglev_check(const void *obj)
{
	const struct mf_lb_strategy_maglev *m = obj;

	if (!sch_has(m, MAGLEV_SIZE) || m->table_size < 2)
		return NULL;	/* range errors are the field's to report */
	return kind_is_prime(m->table_size) ? NULL :
	       "tableSize must be a prime number";
}
SCH_OBJECT_DEF(lb_maglev, "MeshLoadBalancingStrategy maglev",
	       .check = lb_maglev_check);

/* roundRobin: {} and random: {}: Kuma's objects of the types without
 * settings. */
static const struct sch_object lb_empty = {
	.name = "MeshLoadBalancingStrategy loadBalancer (no settings)",
};

/* ---- loadBalancer ------------------------------------------------------- */
enum { LB_TYPE, LB_LEAST, LB_RING, LB_MAGLEV, LB_ROUND_ROBIN, LB_RANDOM };

static const struct sch_field lb_balancer_fields[] = {
	[LB_TYPE] = SCH_F_ENUM("type", mf_lb_balancer, type, lb_type_names,
			       SCH_REQUIRED),
	[LB_LEAST] = SCH_F_OBJECT("leastRequest", mf_lb_balancer,
				  least_request, &lb_least),
	[LB_RING] = SCH_F_OBJECT("ringHash", mf_lb_balancer, ring_hash,
				 &lb_ring),
	[LB_MAGLEV] = SCH_F_OBJECT("maglev", mf_lb_balancer, maglev,
				   &lb_maglev),
	[LB_ROUND_ROBIN] = SCH_F_OBJECT("roundRobin", mf_lb_balancer,
					round_robin, &lb_empty),
	[LB_RANDOM] = SCH_F_OBJECT("random", mf_lb_balancer, random,
				   &lb_empty),
};

/* Settings of another algorithm than `type` would be ignored by the proxy,
 * which is almost surely a mistake in the policy. */
static const char *lb_balancer_check(const void *obj)
{
	const struct mf_lb_balancer *b = obj;

	if (sch_has(b, LB_LEAST) && b->type != MF_LB_LEAST_REQUEST)
		return "leastRequest needs type LeastRequest";
	if (sch_has(b, LB_RING) && b->type != MF_LB_RING_HASH)
		return "ringHash needs type RingHash";
	if (sch_has(b, LB_MAGLEV) && b->type != MF_LB_MAGLEV)
		return "maglev needs type Maglev";
	if (sch_has(b, LB_ROUND_ROBIN) && b->type != MF_LB_ROUND_ROBIN)
		return "roundRobin needs type RoundRobin";
	if (sch_has(b, LB_RANDOM) && b->type != MF_LB_RANDOM)
		return "random needs type Random";
	return NULL;
}
SCH_OBJECT_DEF(lb_balancer, "MeshLoadBalancingStrategy loadBalancer",
	       .check = lb_balancer_check);

/* ---- localityAwareness.localZone ---------------------------------------- */
enum { AFF_KEY, AFF_WEIGHT };

static const struct sch_field lb_affinity_fields[] = {
	[AFF_KEY] = SCH_F_STRING("key", mf_lb_affinity_tag, key,
				 SCH_REQUIRED),
	[AFF_WEIGHT] = SCH_F_INT("weight", mf_lb_affinity_tag, weight, 1,
				 UINT32_MAX),
};
SCH_OBJECT_DEF(lb_affinity, "affinityTags entry");

/* Weights share the local traffic out between the tags; a tag without one
 * would have no share. */
static const char *lb_local_zone_check(const void *obj, unsigned *field)
{
	const struct mf_lb_local_zone *z = obj;
	unsigned weighted = 0;

	for (unsigned i = 0; i < z->naffinity_tags; i++)
		weighted += sch_has(&z->affinity_tags[i], AFF_WEIGHT);
	*field = 0;
	if (weighted && weighted != z->naffinity_tags)
		return "either every entry has a weight or none has";
	return NULL;
}

static const struct sch_field lb_local_zone_fields[] = {
	SCH_F_LIST("affinityTags", mf_lb_local_zone, affinity_tags,
		   &lb_affinity),
};
SCH_OBJECT_DEF(lb_local_zone, "localZone",
	       .check_field = lb_local_zone_check);

/* ---- localityAwareness.crossZone ---------------------------------------- */
static const char *const lb_failover_types[] = {
	/* index + 1 = enum mf_lb_failover_type */
	"None", "Only", "Any", "AnyExcept", NULL,
};

static const struct sch_field lb_zone_names_fields[] = {
	SCH_ITEM(SCH_STRING, MF_NAME_MAX),
};
SCH_OBJECT_DEF(lb_zone_names, "zone name", .scalar = true);

enum { ZONES_FROM_LIST };

static const struct sch_field lb_from_fields[] = {
	[ZONES_FROM_LIST] = SCH_F_LIST("zones", mf_lb_zones, zones,
				       &lb_zone_names, SCH_REQUIRED),
};

static const char *lb_from_check(const void *obj, unsigned *field)
{
	const struct mf_lb_zones *z = obj;

	*field = ZONES_FROM_LIST;
	return z->nzones ? NULL : "must have at least one entry";
}
SCH_OBJECT_DEF(lb_from, "failover from", .check_field = lb_from_check);

enum { ZONES_TO_TYPE, ZONES_TO_LIST };

static const struct sch_field lb_to_fields[] = {
	[ZONES_TO_TYPE] = SCH_F_ENUM("type", mf_lb_zones, type,
				     lb_failover_types, SCH_REQUIRED),
	[ZONES_TO_LIST] = SCH_F_LIST("zones", mf_lb_zones, zones,
				     &lb_zone_names),
};

/* Only and AnyExcept are about the zones listed; Any and None about none. */
static const char *lb_to_check(const void *obj, unsigned *field)
{
	const struct mf_lb_zones *z = obj;

	*field = ZONES_TO_LIST;
	switch (z->type) {
	case MF_LB_FAILOVER_NONE:
		return z->nzones ? "must be empty for type None" : NULL;
	case MF_LB_FAILOVER_ANY:
		return z->nzones ? "must be empty for type Any" : NULL;
	case MF_LB_FAILOVER_ONLY:
		return z->nzones ? NULL : "must not be empty for type Only";
	case MF_LB_FAILOVER_ANY_EXCEPT:
		return z->nzones ? NULL :
				   "must not be empty for type AnyExcept";
	}
	return NULL;
}
SCH_OBJECT_DEF(lb_to, "failover to", .check_field = lb_to_check);

static const struct sch_field lb_failover_fields[] = {
	SCH_F_OBJECT("from", mf_lb_failover, from, &lb_from),
	SCH_F_OBJECT("to", mf_lb_failover, to, &lb_to, SCH_REQUIRED),
};
SCH_OBJECT_DEF(lb_failover, "failover entry");

static const struct sch_field lb_threshold_fields[] = {
	SCH_F_PERCENT("percentage", mf_lb_failover_threshold, percentage,
		      SCH_REQUIRED),
};

/* Kuma: a threshold of 0 would never fail over. */
static const char *lb_threshold_check(const void *obj, unsigned *field)
{
	const struct mf_lb_failover_threshold *t = obj;

	*field = 0;
	return t->percentage ? NULL : "must be above 0";
}
SCH_OBJECT_DEF(lb_threshold, "failoverThreshold",
	       .check_field = lb_threshold_check);

static const struct sch_field lb_cross_zone_fields[] = {
	SCH_F_LIST("failover", mf_lb_cross_zone, failover, &lb_failover),
	SCH_F_OBJECT("failoverThreshold", mf_lb_cross_zone,
		     failover_threshold, &lb_threshold),
};
SCH_OBJECT_DEF(lb_cross_zone, "crossZone");

/* ---- localityAwareness -------------------------------------------------- */
enum { LOC_DISABLED, LOC_LOCAL_ZONE, LOC_CROSS_ZONE };

static const struct sch_field lb_locality_fields[] = {
	[LOC_DISABLED] = SCH_F_BOOL("disabled", mf_lb_locality, disabled),
	[LOC_LOCAL_ZONE] = SCH_F_OBJECT("localZone", mf_lb_locality,
					local_zone, &lb_local_zone),
	[LOC_CROSS_ZONE] = SCH_F_OBJECT("crossZone", mf_lb_locality,
					cross_zone, &lb_cross_zone),
};

/* A MeshService chosen by labels or by a port is a Kuma 2.9+ service of
 * one zone: there is no other zone to fail over to. */
static const char *lb_locality_check(const void *obj, unsigned *field)
{
	const struct mf_lb_locality *l = obj;
	const struct mf_ref *ref = &lb_rec_of_conf(
		(const char *)l - offsetof(struct mf_lb_conf,
					   locality_awareness))->hdr.ref;

	*field = LOC_CROSS_ZONE;
	if (sch_has(l, LOC_CROSS_ZONE) && ref->kind == MF_REF_MESH_SERVICE &&
	    (ref->labels || ref->section[0]))
		return "must not be set for a MeshService by labels or "
		       "sectionName: its traffic stays in its zone";
	return NULL;
}
SCH_OBJECT_DEF(lb_locality, "MeshLoadBalancingStrategy localityAwareness",
	       .check_field = lb_locality_check);

/* ---- default ------------------------------------------------------------ */
enum { CONF_LOCALITY, CONF_BALANCER, CONF_HASH_POLICIES };

static const struct sch_field lb_conf_fields[] = {
	[CONF_LOCALITY] = SCH_F_OBJECT("localityAwareness", mf_lb_conf,
				       locality_awareness, &lb_locality),
	[CONF_BALANCER] = SCH_F_OBJECT("loadBalancer", mf_lb_conf,
				       load_balancer, &lb_balancer),
	[CONF_HASH_POLICIES] = SCH_F_LIST("hashPolicies", mf_lb_conf,
					  hash_policies, &lb_hash_policy),
};

static const char *lb_conf_check(const void *obj, unsigned *field)
{
	const struct mf_lb_conf *c = obj;
	const struct mf_pol_hdr *h = &lb_rec_of_conf(c)->hdr;
	const struct mf_lb_balancer *b = &c->load_balancer;

	/* A route's requests are balanced by its backends' own strategy;
	 * the route only says what to hash them on. */
	if (h->ref.kind == MF_REF_MESH_HTTP_ROUTE) {
		*field = sch_has(c, CONF_LOCALITY) ? CONF_LOCALITY :
						     CONF_BALANCER;
		if (sch_has(c, *field))
			return "must not be set for a MeshHTTPRoute entry: "
			       "it takes hashPolicies only";
		return NULL;
	}
	*field = CONF_BALANCER;
	/* A builtin gateway has one balancer for every service. */
	if (h->target.kind == MF_REF_MESH_GATEWAY && sch_has(c, CONF_BALANCER) &&
	    h->ref.kind != MF_REF_MESH)
		return "under a MeshGateway target is for to[].targetRef "
		       "kind Mesh only";
	if (!sch_has(c, CONF_HASH_POLICIES) || !sch_has(c, CONF_BALANCER))
		return NULL;
	if (sch_has(&b->ring_hash, RING_POLICIES))
		return "ringHash.hashPolicies: hashPolicies are set at the "
		       "root of default already";
	if (sch_has(&b->maglev, MAGLEV_POLICIES))
		return "maglev.hashPolicies: hashPolicies are set at the "
		       "root of default already";
	return NULL;
}
SCH_OBJECT_DEF(lb_conf, "MeshLoadBalancingStrategy default",
	       .check_field = lb_conf_check);

/* A MeshExternalService's traffic leaves through the zone egress, which
 * all of the mesh shares: Kuma 2.14 balances it only for a Mesh target,
 * 3.0 (Mesh and Dataplane targets) for either. */
static uint32_t lb_to_kinds_of(const struct kind_desc *kd,
			       const struct mf_ref *top)
{
	if (top->kind == MF_REF_MESH_GATEWAY)
		return kd->to_kinds_gw;
	if (top->kind == MF_REF_MESH || top->kind == MF_REF_WORKLOAD)
		return kd->to_kinds;
	return kd->to_kinds & ~KIND_REF(MF_REF_MESH_EXTERNAL_SERVICE);
}

/* Kuma 3.0: hash policies at the top of the conf only, and no SourceIP
 * type (Connection with sourceIP says it). */
static const char *const lb_gone_v3[] = {
	"loadBalancer.ringHash.hashPolicies",
	"loadBalancer.maglev.hashPolicies",
	"hashPolicies[].type=SourceIP", NULL };

const struct kind_desc kind_mesh_lb_strategy = {
	.name = "MeshLoadBalancingStrategy",
	.plural = "meshloadbalancingstrategies",
	.form = KIND_FORM_TO_FROM, .sections = KIND_SEC_TO | KIND_SEC_EMPTY_OK,
	.target_kinds = KIND_TARGETS_GATEWAY, .to_kinds = KIND_TO_OUTBOUND_ROUTE,
	.gone_v3 = lb_gone_v3,
	/* A gateway balances over the mesh's own services. */
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY),
	.to_kinds_gw = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SERVICE) |
		       KIND_REF(MF_REF_MESH_MULTI_ZONE_SERVICE),
	.to_kinds_of = lb_to_kinds_of,
	KIND_RECORD(mf_lbstrategy, conf, &lb_conf),
};
