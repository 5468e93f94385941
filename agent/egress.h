/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Egress to MeshExternalServices: who may reach one, and the TLS the
 * source's agent originates to its endpoint.
 *
 * A pod dials a MeshExternalService's VIP (mf_services, flagged
 * MF_SERVICE_F_EXTERNAL); its agent picks one of the service's endpoints
 * (policy_external(): the spec's, resolved in the snapshot) as it picks a
 * workload, and connects to it itself, with no tunnel to another agent.
 * With spec.tls.enabled the up end is a TLS client (tls_ctx_new_origin())
 * whose checks follow spec.tls.verification.mode:
 *   Secured  the chain to caCert (inline, or a Secret: <config
 *            dir>/secrets/<name>.pem), else the system's bundle; and a
 *            name: one of subjectAltNames (Exact, Prefix), else
 *            serverName, else the endpoint's host name (its address for
 *            an IP endpoint);
 *   SkipSAN  the chain only;  SkipCA  the name only;  SkipAll  neither.
 * SNI is serverName, else the endpoint's host name (none for an IP).
 * clientCert and clientKey (Secrets) are sent when given; version.min and
 * max bound the versions (TLSAuto: 1.2 to 1.3).
 *
 * Access (Kuma's): a MeshExternalService that MeshTrafficPermissions
 * target is reached by the sources they allow; one that none targets by
 * every source, unless the Mesh's
 * routing.defaultForbidMeshExternalServiceAccess is true.
 *
 * Each agent thread keeps the TLS contexts it made, per snapshot epoch
 * and service: the first connection of an epoch pays for loading the CAs.
 */
#ifndef MF_EGRESS_H
#define MF_EGRESS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

struct policy;
struct tls_ctx;
struct tls_sess;

#define EGRESS_SLOTS	32	/* contexts kept, direct-mapped by service */

struct egress_slot {
	uint64_t epoch;
	uint32_t svc_id;	/* 0: empty */
	struct tls_ctx *ctx;	/* a reference; NULL: it failed (why) */
	char why[160];
};

struct egress {
	char secrets_dir[PATH_MAX];	/* "": no Secrets to read */
	struct egress_slot slots[EGRESS_SLOTS];
};

/* Secrets are read under @config_dir (NULL: none). */
void egress_init(struct egress *eg, const char *config_dir);
void egress_fini(struct egress *eg);

/* Whether the source of identity @src_id may reach external service @svc
 * of @p; *why says which rule (or default) decided. */
bool egress_allowed(const struct policy *p, const struct mf_service *svc,
		    const char *src_id, const char **why);

/*
 * The up end's TLS to external endpoint @ep of @p: 0 with *out a new
 * session (the caller's) or NULL (plaintext: tls.enabled is false), or
 * -errno with why in @why (@n bytes).
 */
int egress_session(struct egress *eg, struct policy *p,
		   const struct mf_endpoint *ep, struct tls_sess **out,
		   char *why, size_t n);

#endif /* MF_EGRESS_H */
