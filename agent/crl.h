/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh CA's revocation list, as the agent holds it: <config-dir>/
 * ca.crl (DER, `mfctl ca revoke`), checked against the CA certificates
 * beside it and kept as a sorted array of serial numbers under the list's
 * issuer.  A peer certificate of that issuer whose serial is listed is
 * refused in the TLS verify path (tls.c), on both ends of a tunnel.
 *
 * Built once, then shared read-only and reference-counted, like the trust
 * it hangs from (tls_trust_set_crl()).
 *
 * What happens to a list that is not current is the caller's (certs.c):
 * one past its nextUpdate still lists what it lists, so its certificates
 * stay refused, and is said loudly; one whose signature no CA gives is
 * not taken at all.
 */
#ifndef MF_CRL_H
#define MF_CRL_H

#include <stddef.h>
#include <stdint.h>

#define CRL_SERIAL_MAX	21	/* RFC 5280's 20 octets and a sign byte */

struct crl;

struct crl_entry {
	uint8_t serial[CRL_SERIAL_MAX];	/* INTEGER content */
	uint8_t len;
	int reason;			/* enum der_crl_reason; -1: none */
	int64_t when;			/* revocationDate */
};

/*
 * Reads the CRL in @path and checks its signature with the CA
 * certificates (PEM) in the @n_ca files @ca_files: one whose subject is
 * the list's issuer must have signed it.  Returns 0 and *out (one
 * reference, the caller's), -ENOENT (no file), -EBADMSG (not a CRL we
 * read: DER, ecdsa-with-SHA256, entries of at most CRL_SERIAL_MAX bytes),
 * -EKEYREJECTED (no CA there signed it), -ENOMEM.
 */
int crl_load(struct crl **out, const char *path,
	     const char *const *ca_files, size_t n_ca);

struct crl *crl_get(struct crl *l);	/* +1 reference */
void crl_put(struct crl *l);		/* -1; frees at 0; NULL is a no-op */

/* The entry revoking certificate @der (@len bytes, DER), or NULL when @l
 * is NULL, the certificate is another issuer's, or it is not listed. */
const struct crl_entry *crl_find(const struct crl *l, const uint8_t *der,
				 size_t len);

/* The list's DER, as read and checked, in *len bytes: @l's, valid while
 * a reference is held. */
const uint8_t *crl_der(const struct crl *l, size_t *len);

/* What the list says of itself: entries, thisUpdate, nextUpdate (s since
 * the epoch, 0: none), cRLNumber. */
size_t crl_count(const struct crl *l);
int64_t crl_this_update(const struct crl *l);
int64_t crl_next_update(const struct crl *l);
uint64_t crl_number(const struct crl *l);

#endif /* MF_CRL_H */
