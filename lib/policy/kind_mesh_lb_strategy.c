// SPDX-License-Identifier: Apache-2.0
/*
 * MeshLoadBalancingStrategy: how a proxy picks an endpoint of a
 * destination, and whether it prefers endpoints of its own locality.  Only
 * `to` entries.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshLoadBalancingStrategy
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: Mesh}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         default:
 *           localityAwareness: {disabled: true}
 *           loadBalancer:
 *             type: RingHash
 *             ringHash:
 *               hashFunction: MurmurHash2
 *               minRingSize: 1024
 *               maxRingSize: 8192
 *       - targetRef: {kind: MeshService, name: cache}
 *         default:
 *           loadBalancer:
 *             type: Maglev
 *             maglev: {tableSize: 65537}
 *
 * Ranges are Envoy's: choiceCount at least 2 (least-request compares two or
 * more endpoints; we stop at 100), ring sizes 1..8M entries with min <= max,
 * Maglev table size a prime up to 5000011.  The settings object written must
 * be the one of `type`: leastRequest only with LeastRequest, and so on.
 */
#include <stddef.h>

#include "kinds.h"

#define LB_RING_MAX		8388608u	/* Envoy: 8M entries */
#define LB_MAGLEV_MAX		5000011u	/* Envoy's largest table */
#define LB_CHOICE_MAX		100

static const char *const lb_type_names[] = {
	/* index + 1 = enum mf_lb_type */
	"RoundRobin", "LeastRequest", "RingHash", "Random", "Maglev", NULL,
};

static const char *const lb_hash_names[] = {
	/* index + 1 = enum mf_lb_hash_function */
	"XXHash", "MurmurHash2", NULL,
};

/* ---- leastRequest ------------------------------------------------------- */
static const struct sch_field lb_least_fields[] = {
	SCH_F_INT("choiceCount", mf_lb_least_request, choice_count, 2,
		  LB_CHOICE_MAX),
};
SCH_OBJECT_DEF(lb_least, "MeshLoadBalancingStrategy leastRequest");

/* ---- ringHash ----------------------------------------------------------- */
enum { RING_HASH_FN, RING_MIN, RING_MAX };

static const struct sch_field lb_ring_fields[] = {
	[RING_HASH_FN] = SCH_F_ENUM("hashFunction", mf_lb_ring_hash,
				    hash_function, lb_hash_names),
	[RING_MIN] = SCH_F_INT("minRingSize", mf_lb_ring_hash, min_ring_size,
			       1, LB_RING_MAX),
	[RING_MAX] = SCH_F_INT("maxRingSize", mf_lb_ring_hash, max_ring_size,
			       1, LB_RING_MAX),
};

static const char *lb_ring_check(const void *obj)
{
	const struct mf_lb_ring_hash *r = obj;

	if (sch_has(r, RING_MIN) && sch_has(r, RING_MAX) &&
	    r->min_ring_size > r->max_ring_size)
		return "minRingSize must not be greater than maxRingSize";
	return NULL;
}
SCH_OBJECT_DEF(lb_ring, "MeshLoadBalancingStrategy ringHash",
	       .check = lb_ring_check);

/* ---- maglev ------------------------------------------------------------- */
static const struct sch_field lb_maglev_fields[] = {
	SCH_F_INT("tableSize", mf_lb_maglev, table_size, 2, LB_MAGLEV_MAX),
};

/* Envoy refuses a Maglev table whose size is not prime; say so here, where
 * the user can see the line, rather than in the proxy's log. */
static const char *lb_maglev_check(const void *obj)
{
	const struct mf_lb_maglev *m = obj;

	if (!sch_has(m, 0) || m->table_size < 2)
		return NULL;	/* range errors are the field's to report */
	return kind_is_prime(m->table_size) ? NULL :
	       "tableSize must be a prime number";
}
SCH_OBJECT_DEF(lb_maglev, "MeshLoadBalancingStrategy maglev",
	       .check = lb_maglev_check);

/* ---- loadBalancer ------------------------------------------------------- */
enum { LB_TYPE, LB_LEAST, LB_RING, LB_MAGLEV };

static const struct sch_field lb_balancer_fields[] = {
	[LB_TYPE] = SCH_F_ENUM("type", mf_lb_balancer, type, lb_type_names,
			       SCH_REQUIRED),
	[LB_LEAST] = SCH_F_OBJECT("leastRequest", mf_lb_balancer,
				  least_request, &lb_least),
	[LB_RING] = SCH_F_OBJECT("ringHash", mf_lb_balancer, ring_hash,
				 &lb_ring),
	[LB_MAGLEV] = SCH_F_OBJECT("maglev", mf_lb_balancer, maglev,
				   &lb_maglev),
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
	return NULL;
}
SCH_OBJECT_DEF(lb_balancer, "MeshLoadBalancingStrategy loadBalancer",
	       .check = lb_balancer_check);

/* ---- localityAwareness -------------------------------------------------- */
static const struct sch_field lb_locality_fields[] = {
	SCH_F_BOOL("disabled", mf_lb_locality, disabled),
};
SCH_OBJECT_DEF(lb_locality, "MeshLoadBalancingStrategy localityAwareness");

/* ---- default ------------------------------------------------------------ */
static const struct sch_field lb_conf_fields[] = {
	SCH_F_OBJECT("localityAwareness", mf_lb_conf, locality_awareness,
		     &lb_locality),
	SCH_F_OBJECT("loadBalancer", mf_lb_conf, load_balancer, &lb_balancer),
};
SCH_OBJECT_DEF(lb_conf, "MeshLoadBalancingStrategy default");

const struct kind_desc kind_mesh_lb_strategy = {
	.name = "MeshLoadBalancingStrategy",
	.plural = "meshloadbalancingstrategies",
	.form = KIND_FORM_TO_FROM, .sections = KIND_SEC_TO | KIND_SEC_EMPTY_OK,
	.target_kinds = KIND_TARGETS_GATEWAY, .to_kinds = KIND_TO_OUTBOUND_ROUTE,
	/* A gateway balances over the mesh's own services. */
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY),
	.to_kinds_gw = KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SERVICE) |
		       KIND_REF(MF_REF_MESH_MULTI_ZONE_SERVICE),
	KIND_RECORD(mf_lbstrategy, conf, &lb_conf),
};
