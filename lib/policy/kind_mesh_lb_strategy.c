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
	{ .name = "choiceCount", .type = SCH_INT,
	  .off = offsetof(struct mf_lb_least_request, choice_count),
	  .size = sizeof(__u32), .min = 2, .max = LB_CHOICE_MAX },
};

static const struct sch_object lb_least = {
	.name = "MeshLoadBalancingStrategy leastRequest",
	.fields = lb_least_fields,
	.nfields = SCH_NFIELDS(lb_least_fields),
};

/* ---- ringHash ----------------------------------------------------------- */
enum { RING_HASH_FN, RING_MIN, RING_MAX };

static const struct sch_field lb_ring_fields[] = {
	[RING_HASH_FN] = { .name = "hashFunction", .type = SCH_ENUM,
	  .off = offsetof(struct mf_lb_ring_hash, hash_function),
	  .names = lb_hash_names },
	[RING_MIN] = { .name = "minRingSize", .type = SCH_INT,
	  .off = offsetof(struct mf_lb_ring_hash, min_ring_size),
	  .size = sizeof(__u32), .min = 1, .max = LB_RING_MAX },
	[RING_MAX] = { .name = "maxRingSize", .type = SCH_INT,
	  .off = offsetof(struct mf_lb_ring_hash, max_ring_size),
	  .size = sizeof(__u32), .min = 1, .max = LB_RING_MAX },
};

static const char *lb_ring_check(const void *obj)
{
	const struct mf_lb_ring_hash *r = obj;

	if (sch_has(r, RING_MIN) && sch_has(r, RING_MAX) &&
	    r->min_ring_size > r->max_ring_size)
		return "minRingSize must not be greater than maxRingSize";
	return NULL;
}

static const struct sch_object lb_ring = {
	.name = "MeshLoadBalancingStrategy ringHash",
	.fields = lb_ring_fields,
	.nfields = SCH_NFIELDS(lb_ring_fields),
	.check = lb_ring_check,
};

/* ---- maglev ------------------------------------------------------------- */
static const struct sch_field lb_maglev_fields[] = {
	{ .name = "tableSize", .type = SCH_INT,
	  .off = offsetof(struct mf_lb_maglev, table_size),
	  .size = sizeof(__u32), .min = 2, .max = LB_MAGLEV_MAX },
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

static const struct sch_object lb_maglev = {
	.name = "MeshLoadBalancingStrategy maglev",
	.fields = lb_maglev_fields,
	.nfields = SCH_NFIELDS(lb_maglev_fields),
	.check = lb_maglev_check,
};

/* ---- loadBalancer ------------------------------------------------------- */
enum { LB_TYPE, LB_LEAST, LB_RING, LB_MAGLEV };

static const struct sch_field lb_balancer_fields[] = {
	[LB_TYPE] = { .name = "type", .type = SCH_ENUM,
	  .off = offsetof(struct mf_lb_balancer, type),
	  .names = lb_type_names, .required = true },
	[LB_LEAST] = { .name = "leastRequest", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_lb_balancer, least_request),
	  .sub = &lb_least },
	[LB_RING] = { .name = "ringHash", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_lb_balancer, ring_hash),
	  .sub = &lb_ring },
	[LB_MAGLEV] = { .name = "maglev", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_lb_balancer, maglev),
	  .sub = &lb_maglev },
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

static const struct sch_object lb_balancer = {
	.name = "MeshLoadBalancingStrategy loadBalancer",
	.fields = lb_balancer_fields,
	.nfields = SCH_NFIELDS(lb_balancer_fields),
	.check = lb_balancer_check,
};

/* ---- localityAwareness -------------------------------------------------- */
static const struct sch_field lb_locality_fields[] = {
	{ .name = "disabled", .type = SCH_BOOL,
	  .off = offsetof(struct mf_lb_locality, disabled) },
};

static const struct sch_object lb_locality = {
	.name = "MeshLoadBalancingStrategy localityAwareness",
	.fields = lb_locality_fields,
	.nfields = SCH_NFIELDS(lb_locality_fields),
};

/* ---- default ------------------------------------------------------------ */
static const struct sch_field lb_conf_fields[] = {
	{ .name = "localityAwareness", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_lb_conf, locality_awareness),
	  .sub = &lb_locality },
	{ .name = "loadBalancer", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_lb_conf, load_balancer),
	  .sub = &lb_balancer },
};

static const struct sch_object lb_conf = {
	.name = "MeshLoadBalancingStrategy default",
	.fields = lb_conf_fields,
	.nfields = SCH_NFIELDS(lb_conf_fields),
};

const struct kind_desc kind_mesh_lb_strategy = {
	.name = "MeshLoadBalancingStrategy",
	.plural = "meshloadbalancingstrategies",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.to_kinds = KIND_TO_SERVICE,
	.val_size = sizeof(struct mf_lbstrategy),
	.conf_off = offsetof(struct mf_lbstrategy, conf),
	.conf = &lb_conf,
};
