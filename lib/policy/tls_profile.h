/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh's TLS between agents (struct mf_tls_profile, in mf_config):
 * the tlsVersion and tlsCiphers of the MeshTLS policies that target the
 * Mesh, merged as Kuma merges them, and checked against what the agents
 * can speak.
 *
 *  - Merge: the Kuma 2.x `from` entries, then the 3.0 `rules`, which win;
 *    within each, least precedent first (select.h), a later policy
 *    overriding the fields it sets: tlsVersion's min and max each, the
 *    tlsCiphers list whole.
 *  - TLSAuto (or no bound) leaves a bound at the agents' default: TLS 1.3
 *    for both, stricter than Envoy's minimum of 1.2; a min so left goes
 *    down to a max written below it (as Envoy's 1.2 would).
 *  - The agents speak the part of the range that can be agreed: TLS 1.2
 *    and 1.3 (none of MeshTLS's ciphers runs below 1.2), so TLS10 and
 *    TLS11 bounds are raised to TLS 1.2.
 *  - The agents' TLS 1.3 suites are theirs; tlsCiphers chooses among
 *    TLS 1.2's, in the order written.  The mesh's certificates are ECDSA
 *    P-256, so only the ECDHE-ECDSA suites can be agreed: the others are
 *    left out, and a list without one leaves TLS 1.3 alone in the range.
 *    Kuma accepts all these, and `mfctl inspect` shows what is left.
 *  - Refused (in the diagnostics, -EINVAL), when nothing can be agreed: a
 *    range that two policies cross; a max below TLS 1.2; a tlsCiphers
 *    without an ECDHE-ECDSA suite when TLS 1.2 is all the range holds.
 *    Each message names the field and the policy that set it.
 */
#ifndef MF_POLICY_TLS_PROFILE_H
#define MF_POLICY_TLS_PROFILE_H

#include <stddef.h>

#include "meshforge/abi.h"

struct diag;
struct model_obj;
struct model_set;
struct sel_cand;

/* Fields of struct mf_tls_versions and struct mf_tls_conf, as the schema
 * numbers them (their present bits). */
enum { MESH_TLS_VER_MIN, MESH_TLS_VER_MAX };
enum { MESH_TLS_CONF_VERSION, MESH_TLS_CONF_CIPHERS, MESH_TLS_CONF_MODE };

/* The agents' bounds when no MeshTLS sets one. */
#define TLSPROF_DEFAULT_MIN	MF_TLS_13
#define TLSPROF_DEFAULT_MAX	MF_TLS_13

/*
 * The profile of the MeshTLS records @c (@n, sel_model_cands() of the
 * kind) into @out (zeroed first; all 0 when no policy that targets the
 * Mesh sets a version or a cipher).  @sorted (@nsorted) finds a refused
 * policy for its location.  Returns 0, -EINVAL (said in @d), -ENOMEM.
 */
int tlsprof_compile(const struct model_set *set, const struct sel_cand *c,
		    size_t n, const struct model_obj **sorted, size_t nsorted,
		    struct mf_tls_profile *out, struct diag *d);

/* The names MeshTLS writes (kind_mesh_tls.c): "TLSAuto".."TLS13" of an
 * enum mf_tls_version, and "ECDHE-ECDSA-AES128-GCM-SHA256".. of an enum
 * mf_tls_cipher, which are also wolfSSL's and OpenSSL's.  NULL: none. */
const char *tlsprof_version_name(unsigned int v);
const char *tlsprof_cipher_name(unsigned int c);

/* Whether cipher @c (enum mf_tls_cipher) authenticates with ECDSA. */
static inline int tlsprof_cipher_ecdsa(unsigned int c)
{
	return c >= MF_TLS_ECDHE_ECDSA_AES128_GCM_SHA256 &&
	       c <= MF_TLS_ECDHE_ECDSA_CHACHA20_POLY1305;
}

#endif /* MF_POLICY_TLS_PROFILE_H */
