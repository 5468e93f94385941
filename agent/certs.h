/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The identity store: TLS contexts for the workload and node identities
 * whose certificates sit in the config dir (docs/files.md):
 *   <config_dir>/ca.crt                 mesh root CA (PEM)
 *   <config_dir>/ca.crl                 what it revoked (DER, crl.h),
 *                                       read again with the CA
 *   <config_dir>/certs/<stem>.crt|.key  leaf and key, stem from
 *                                       spiffe_file_stem(); both read
 *                                       from one version of certs/
 *                                       (certdir.h)
 * A context is loaded on first use and cached by (SPIFFE ID, role) for the
 * life of the store, which owns it.  Loading reads files: the first
 * connection of an identity pays for it, later ones do not.
 * Thread-safe: contexts may be looked up from several loop threads.
 */
#ifndef MF_CERTS_H
#define MF_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls.h"

struct certs;
struct crl;
struct policy;

/* Opens the store over @config_dir (copied).  Returns 0 and *out (caller
 * owns, certs_close()), -ENOENT when <config_dir>/ca.crt is not readable,
 * -ENAMETOOLONG, -ENOMEM. */
int certs_open(struct certs **out, const char *config_dir);

/*
 * The context for acting as @spiffe in the client (server) role under
 * policy @p (NULL: before one is loaded): peers are verified against the
 * mesh CA, for the mesh's trust domain, and the CA bundles of @p's
 * MeshTrusts, each for its trust domain (tls.h, "Trust anchors").  When
 * those change, the store makes new contexts; sessions keep theirs.  *out
 * is a reference the caller puts (tls_ctx_put).  The certificate's own
 * URI SAN must be @spiffe.  Returns 0, -EINVAL (not a SPIFFE ID, or the
 * certificate names another identity, or cert and key do not match),
 * -ENOENT (no certificate or key for it, or no CA), -ENOMEM.
 */
/* Namespace of node agent identities: spiffe://<td>/ns/<this>/sa/<node>. */
#define CERTS_NODE_NS	"meshforge-system"

/* Node @node's agent identity in trust domain @td into @buf (@n bytes):
 * the tunnel's server identity, and what serves a MeshMetric port under
 * ActiveMTLSBackend.  Returns 0 or -ENAMETOOLONG. */
int certs_node_spiffe(char *buf, size_t n, const char *td, const char *node);

int certs_client_ctx(struct certs *c, const char *spiffe,
		     const struct policy *p, struct tls_ctx **out);
int certs_server_ctx(struct certs *c, const char *spiffe,
		     const struct policy *p, struct tls_ctx **out);

/*
 * Reads the CA and every certificate in use again (SIGHUP, or a change
 * certs_changed() saw), under policy @p's trust: new handshakes use what
 * was read, established sessions keep theirs.  A CA that does not load
 * leaves the store as it was; a pair that does not load keeps the one in
 * use.  Returns 0, or -errno when anything was kept.
 */
int certs_reload(struct certs *c, const struct policy *p);

/* Watches the config dir (inotify) for a new CA, trust domain or
 * certificate directory.  Returns 0 or -errno. */
int certs_watch(struct certs *c);

/* Whether the config dir changed since the last call (non-blocking). */
bool certs_changed(struct certs *c);

/* Calls @fn for each certificate in use, with its validity (seconds
 * since the epoch), under the store's lock. */
void certs_each(struct certs *c,
		void (*fn)(void *arg, const char *spiffe, enum tls_role role,
			   int64_t not_before, int64_t not_after),
		void *arg);

/* Logs, once per certificate in use, that it has less than a fifth of
 * its life left at @now (a warning) or has ended (an error).  Returns
 * how many it logged about. */
unsigned int certs_check_expiry(struct certs *c, int64_t now);

/* The revocation list in force (crl.h), read again with the CA: its
 * entries and nextUpdate (0: none said), and how many lists were not
 * taken since the start.  Returns whether there is one. */
bool certs_crl_info(struct certs *c, size_t *entries, int64_t *next_update,
		    uint64_t *refused);

/* The revocation list in force, a reference the caller puts
 * (crl_put()), read now when no trust was made yet (nothing verified
 * since the start); NULL: none. */
struct crl *certs_crl(struct certs *c);

/* Frees every cached context, then the store.  NULL is a no-op. */
void certs_close(struct certs *c);

#endif /* MF_CERTS_H */
