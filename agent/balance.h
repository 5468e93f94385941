/* SPDX-License-Identifier: Apache-2.0 */
/*
 * balance: which endpoint of a destination a request (L7) or a connection
 * (L4) goes to, once routing has said which endpoints may take it (a
 * service's, a subset's by tags).
 *
 * In order:
 *   1. availability: endpoints outlier detection ejected (hosts.h) are
 *      left out while it is in force for the destination, and so are
 *      those a health check in force for it finds unhealthy (health.h),
 *      and those whose connect failed a moment ago (hosts_hold()),
 *      whatever is in force;
 *   1b. priority (a MeshExternalService's endpoints, 0 first): only the
 *      lowest priority level that has an endpoint left goes on, so
 *      traffic fails over to the next level while none of the one before
 *      can be had, and returns once one can (its ejection, hold or
 *      health check over); then, within that level, unless fewer than
 *      the panic threshold (50%, or the health check's
 *      healthyPanicThreshold) of it would be left: then all may be
 *      picked, as Envoy does, or none under failTrafficOnPanic;
 *   2. locality (MeshLoadBalancingStrategy localityAwareness, not
 *      disabled): endpoints on the source's node first, then those whose
 *      zone tag (kuma.io/zone, topology.kubernetes.io/zone) is the
 *      source's, then any: the first tier that has one takes the pick, so
 *      traffic fails over when a tier has none;
 *   3. the strategy (lb.h): RoundRobin, Random, LeastRequest (P2C over
 *      requests in flight), RingHash and Maglev (over the request's hash:
 *      its hashPolicies - a header, a cookie, a query parameter, the
 *      source IP - combined; no value to hash: random).  Without a
 *      MeshLoadBalancingStrategy, requests go by peak-EWMA P2C (latency
 *      times requests in flight, as Linkerd balances), connections round
 *      robin.
 *
 * Ring and Maglev tables are built for a set of endpoints the first time
 * it is seen and kept in a small cache per loop, keyed by the strategy and
 * the set's members, so a snapshot that keeps the set keeps the table,
 * and one that changes it (an ejection, a new endpoint) builds anew with
 * little moved.  One loop thread uses a balancer: no locks.
 */
#ifndef MF_AGENT_BALANCE_H
#define MF_AGENT_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hhead.h"
#include "hosts.h"
#include "lb.h"
#include "meshforge/abi.h"
#include "policy.h"

#define BALANCE_CACHE		32	/* ring and Maglev tables kept */
#define BALANCE_CURSORS		1024	/* round robin cursors, by set */
#define BALANCE_PANIC_PCT	50	/* Envoy's healthy panic threshold */
#define BALANCE_PANIC_OFF	UINT32_MAX	/* no panic mode */

/* What MeshLoadBalancingStrategy asks of one connection's picks. */
struct balance_conf {
	const char *policy;		/* the last merged, NULL: none */
	uint8_t type;			/* enum mf_lb_type, 0: the default */
	uint8_t hash_fn;		/* enum lb_hash_fn */
	uint8_t nhash;
	bool locality;
	uint32_t ring_min, ring_max;
	uint32_t maglev_size;
	uint32_t choices, bias_milli;	/* LeastRequest */
	struct mf_lb_hash_policy hash[MF_LB_HASH_POLICIES_MAX];
};

/* The strategy for traffic from endpoint @src to service @dst into @bc
 * (zeroed first: the defaults when none applies).  Returns 0 or -ENOMEM
 * (the defaults then). */
int balance_find(const struct policy *p, const struct mf_endpoint *src,
		 const struct mf_service *dst, struct balance_conf *bc);

struct balance_table {
	uint64_t key;			/* 0: free */
	uint8_t type;			/* MF_LB_RING_HASH or MF_LB_MAGLEV */
	void *t;			/* struct lb_ring or lb_maglev.
					 * Owned */
	uint64_t used;			/* a clock of picks: eviction */
};

/* The per-loop state of the picks. */
struct balancer {
	struct hosts *hosts;		/* owned */
	struct lb_rng rng;
	uint32_t cursor[BALANCE_CURSORS];
	struct balance_table cache[BALANCE_CACHE];
	uint64_t clock;
	/* Scratch for one pick: the candidates.  Owned */
	const struct mf_endpoint **eps;
	struct lb_cand *cand;
	uint8_t *tier;
	size_t cap;
};

int balance_init(struct balancer *b);
void balance_fini(struct balancer *b);

/* The inputs of one pick. */
struct balance_pick {
	struct balancer *b;
	struct policy *p;
	const struct balance_conf *conf;	/* NULL: the defaults */
	const struct hhead *req;	/* NULL: a TCP connection */
	uint32_t src_ip;		/* network order */
	const struct mf_endpoint *src;	/* NULL: unknown (no locality) */
	bool outlier;			/* outlier detection is in force for
					 * the destination: its ejections
					 * count */
	bool health;			/* a health check is in force for it:
					 * its verdicts count */
	uint32_t panic_milli;		/* the panic threshold, thousandths of
					 * a percent; 0: BALANCE_PANIC_PCT,
					 * BALANCE_PANIC_OFF: none */
	bool fail_on_panic;		/* in panic, no endpoint at all */
};

/*
 * One of the @n endpoints at @eps (of @bp->p, in a stable order: the
 * snapshot's), by the steps above; NULL when @n is 0 or the panic fails
 * traffic.  @eps may be balance_scratch()'s.
 */
const struct mf_endpoint *balance_pick(const struct balance_pick *bp,
				       const struct mf_endpoint *const *eps,
				       size_t n);

/* Room for @n candidates in @b's scratch array (valid until the next
 * call), NULL on ENOMEM. */
const struct mf_endpoint **balance_scratch(struct balancer *b, size_t n);

/* The hosts key of endpoint @ep of @p. */
uint64_t balance_key(const struct policy *p, const struct mf_endpoint *ep);

#endif /* MF_AGENT_BALANCE_H */
