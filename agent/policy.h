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
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "pmap.h"
#include "policy/records.h"
#include "polkinds.h"

struct policy;

/* Reads the half in force of every policy map through the one reader of
 * the two halves (mapio_read()).  Returns 0 and *out (refcount 1), or
 * -errno (-EAGAIN when the epoch kept changing while it read). */
int policy_load(struct policy **out, const struct pmap *pm);

/* Builds a snapshot from the records of one policy (copied; @rs may go
 * after).  Returns 0 and *out (refcount 1), or -ENOMEM. */
int policy_from_rec_set(struct policy **out, const struct rec_set *rs);

struct policy *policy_get(struct policy *p);	/* +1 reference */
void policy_put(struct policy *p);		/* -1; frees at zero */

uint64_t policy_epoch(const struct policy *p);
/* The mesh store revision the policy was synced from (0: none). */
uint64_t policy_store_rev(const struct policy *p);
/* mf_config.flags of the snapshot (MF_CONFIG_F_*). */
uint32_t policy_config_flags(const struct policy *p);
/* "" when no Mesh has been applied. */
const char *policy_trust_domain(const struct policy *p);
/* The mesh's trust domains besides the Mesh's (mf_config.mid_domains,
 * its MeshIdentities'): how many, domain @i of them (NUL-terminated), and
 * whether the mesh CA vouches for it (meshTrustCreation). */
size_t policy_mid_domain_count(const struct policy *p);
const char *policy_mid_domain(const struct policy *p, size_t i);
bool policy_mid_domain_ca(const struct policy *p, size_t i);
/* Whether SPIFFE ID @id is of one of the mesh's trust domains: the
 * Mesh's (every one before a Mesh is applied) or its MeshIdentities'. */
bool policy_mesh_member(const struct policy *p, const char *id);
/* The TLS the agents speak to each other (mf_config.tls, from the
 * mesh's MeshTLS; all 0: the default, TLS 1.3 only). */
const struct mf_tls_profile *policy_tls_profile(const struct policy *p);
/* Kuma 2.x's Mesh.metrics: the conf of its enabled backend when that is
 * a prometheus one, else NULL; *@mtls whether the Mesh's mTLS is on. */
const struct mf_prom_conf *policy_mesh_prometheus(const struct policy *p,
						  bool *mtls);
/* The Mesh object's name; "" when no Mesh has been applied. */
const char *policy_mesh(const struct policy *p);

/* @vip is in network order, @port in host order.  NULL when not a service. */
const struct mf_service *policy_service_by_vip(const struct policy *p,
					       uint32_t vip, uint16_t port);
const struct mf_service *policy_service_by_id(const struct policy *p,
					      uint32_t id);
/* @ip in network order.  NULL when no workload has that IP. */
const struct mf_endpoint *policy_endpoint_by_ip(const struct policy *p,
						uint32_t ip);
/* The IP (network order) of endpoint @ep, which must have come from @p
 * (struct mf_endpoint does not carry its own key).  Needed by the outbound
 * flow for the PROXY v2 destination after policy_pick_endpoint(). */
uint32_t policy_endpoint_ip(const struct policy *p,
			    const struct mf_endpoint *ep);
/* NULL when unknown. */
const char *policy_identity(const struct policy *p, uint32_t identity_id);
/* The node called @name (its agent's address and tunnel port; a zero
 * tunnel_port means MF_PORT_TUNNEL).  NULL when unknown. */
const struct mf_node *policy_node(const struct policy *p, const char *name);
/* The name of the node whose address is @ip (4 bytes, network order, as
 * mf_endpoint.node_ip): an endpoint names its node that way.  O(log n).
 * The string is owned by @p.  NULL when no node has that address. */
const char *policy_node_name_by_ip(const struct policy *p,
				   const uint8_t ip[4]);

/*
 * A MeshExternalService's endpoint (MF_ENDPOINT_F_EXTERNAL, from @p):
 * its service's spec into *mes and the address as its spec writes it (a
 * host name or an IP) into *host.  The snapshot makes one such endpoint
 * per spec.endpoints entry (policy_endpoint_priority() says its
 * priority), whose address it resolved when it was built (a host name to its first IPv4 address; one
 * that does not resolve is left out, and logged): ep->node_ip:ep->port is
 * where to connect.  Returns 0 or -ENOENT (not such an endpoint).
 */
struct mf_mesh_external_service;
int policy_external(const struct policy *p, const struct mf_endpoint *ep,
		    const struct mf_mesh_external_service **mes,
		    const char **host);

/* The priority of endpoint @ep (from @p): a MeshExternalService's as its
 * spec says, 0 first; any other endpoint's 0. */
unsigned int policy_endpoint_priority(const struct policy *p,
				      const struct mf_endpoint *ep);

/* Round robin over the service's endpoints (of its lowest priority).  Returns NULL when it has none.
 * The cursor is the only mutable state of a snapshot. */
const struct mf_endpoint *policy_pick_endpoint(struct policy *p,
					       uint32_t service_id);

/*
 * Decides whether @spiffe may reach service @service_id at its endpoint
 * @endpoint (an IPv4 address, network order; NULL: every rule counts)
 * (semantics in include/meshforge/abi.h, struct mf_authz_key; rules for
 * other endpoints do not count, and with none left the service is as
 * one no permission names).  Returns MF_AUTHZ_ALLOW or
 * MF_AUTHZ_DENY; *why (may be NULL) gets a static or snapshot-owned string
 * naming the deciding rule ("no-permissions", "policy=<name> rule=<spiffe>",
 * "no-matching-rule").
 */
enum mf_authz_action policy_authorize(const struct policy *p,
				      uint32_t service_id,
				      const uint8_t endpoint[4],
				      const char *spiffe, const char **why);

/* The same for a connection whose TLS asked for server name @sni (NULL:
 * none): rules by SNI (MF_AUTHZ_SNI_EXACT) count only when it is theirs,
 * and then beat those that do not look at it at the same SPIFFE ID
 * specificity (Kuma's order); *why then ends in " sni=<name>". */
enum mf_authz_action policy_authorize_sni(const struct policy *p,
					  uint32_t service_id,
					  const uint8_t endpoint[4],
					  const char *spiffe, const char *sni,
					  const char **why);

/* How many endpoints of service @service_id its MeshService's
 * spec.identities leave out (MF_ENDPOINT_F_UNLISTED): no client uses
 * them. */
size_t policy_service_unlisted(const struct policy *p, uint32_t service_id);

/* Every endpoint, in IP order: count and the one at @i (NULL past the
 * last). */
size_t policy_endpoint_count(const struct policy *p);
const struct mf_endpoint *policy_endpoint_at(const struct policy *p, size_t i);

/* The builtin gateway instances of the policy (mf_gw_instances), by name:
 * count and the one at @i (NULL past the last).  An instance's identity
 * is policy_identity(p, identity_id), its tags a tag set of
 * polkinds_tags(). */
size_t policy_gw_instance_count(const struct policy *p);
const struct mf_gw_instance *policy_gw_instance_at(const struct policy *p,
						   size_t i);

/* The service called @name (a MeshService's first port), NULL when
 * none.  O(log n). */
const struct mf_service *policy_service_by_name(const struct policy *p,
						const char *name);

/*
 * Counters of the records router.c picks by (their splits and weights),
 * per record of the kind in polkinds order: a ticket from counter
 * @counter of record @rec, 0, 1, 2, ... as it is called.  Like the round
 * robin cursor, the only mutable state of a snapshot, shared by threads
 * (atomic).
 */
enum policy_ticket_kind {
	POLICY_TICKET_TR = 0,		/* TrafficRoute */
	POLICY_TICKET_HTTP_ROUTE,	/* MeshHTTPRoute */
	POLICY_TICKET_TCP_ROUTE,	/* MeshTCPRoute */
	POLICY_TICKET_GW_ROUTE,		/* MeshGatewayRoute */
	POLICY_TICKET_KINDS,
};
/* Counters per record: POLICY_TICKETS for every kind but
 * MeshGatewayRoute, whose one record holds up to 16 rules of 4 counters
 * each (gwroute.c asserts they fit). */
#define POLICY_TICKETS	8
#define POLICY_TICKETS_GW_ROUTE	64
uint32_t policy_ticket(struct policy *p, enum policy_ticket_kind kind,
		       size_t rec, unsigned int counter);

/* The next ticket of the round robin cursor of service record @s of @p
 * (one a lookup of @p gave): for a destination whose endpoints are not
 * its own run (a MeshMultiZoneService's). */
uint32_t policy_service_ticket(struct policy *p, const struct mf_service *s);

/* The port of service @s, a service of @p (a MeshService's first port, as
 * policy_service_by_id() and _by_name() give it). */
uint16_t policy_service_port(const struct policy *p,
			     const struct mf_service *s);

/* The schema-driven policy kinds of the snapshot (owned by @p). */
const struct polkinds *policy_kinds(const struct policy *p);

/*
 * Iteration over a snapshot, for the admin endpoint's config dump (never on
 * the data path).  Every pointer returned is owned by @p and lives as long
 * as the caller's reference to it.
 */
size_t policy_service_count(const struct policy *p);

/* Service @i (0..count-1, in (vip, port, proto) order), its key into *key
 * (may be NULL).  NULL when @i is out of range. */
const struct mf_service *policy_service_at(const struct policy *p, size_t i,
					   struct mf_service_key *key);
/* The endpoints of service @service_id a client may use (its
 * MeshService's identities leave none of them out), by priority then IP
 * (policy_endpoint_ip() gives each one's address).  NULL when @i is out
 * of range. */
const struct mf_endpoint *policy_service_endpoint_at(const struct policy *p,
						     uint32_t service_id,
						     size_t i);
/* Authorization rule @i of service @service_id, in index order; NULL past
 * the last one. */
const struct mf_authz_rule *policy_authz_rule_at(const struct policy *p,
						 uint32_t service_id, size_t i);

#endif /* MF_POLICY_H */
