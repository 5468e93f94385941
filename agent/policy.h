/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An immutable in-memory snapshot of the node-local policy map at one epoch.
 * The agent loads a snapshot at start and whenever mf_config.epoch changes,
 * and a connection keeps the snapshot it started with (reference counted),
 * so an apply never changes the rules under a connection in flight.
 */
#ifndef MF_POLICY_H
#define MF_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "pmap.h"

struct policy;

/* Reads every policy map.  Returns 0 and *out (refcount 1), or -errno. */
int policy_load(struct policy **out, const struct pmap *pm);

struct policy *policy_get(struct policy *p);	/* +1 reference */
void policy_put(struct policy *p);		/* -1; frees at zero */

uint64_t policy_epoch(const struct policy *p);
/* "" when no Mesh has been applied. */
const char *policy_trust_domain(const struct policy *p);

/* @vip is in network order, @port in host order.  NULL when not a service. */
const struct mf_service *policy_service_by_vip(const struct policy *p,
					       uint32_t vip, uint16_t port);
const struct mf_service *policy_service_by_id(const struct policy *p,
					      uint32_t id);
/* @ip in network order.  NULL when no workload has that IP. */
const struct mf_endpoint *policy_endpoint_by_ip(const struct policy *p,
						uint32_t ip);
/* NULL when unknown. */
const char *policy_identity(const struct policy *p, uint32_t identity_id);

/* Round robin over the service's endpoints.  Returns NULL when it has none.
 * The cursor is the only mutable state of a snapshot. */
const struct mf_endpoint *policy_pick_endpoint(struct policy *p,
					       uint32_t service_id);

/*
 * Decides whether @spiffe may reach service @service_id (semantics in
 * include/meshforge/abi.h, struct mf_authz_key).  Returns MF_AUTHZ_ALLOW or
 * MF_AUTHZ_DENY; *why (may be NULL) gets a static or snapshot-owned string
 * naming the deciding rule ("no-permissions", "policy=<name> rule=<spiffe>",
 * "no-matching-rule").
 */
enum mf_authz_action policy_authorize(const struct policy *p,
				      uint32_t service_id, const char *spiffe,
				      const char **why);

#endif /* MF_POLICY_H */
