/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The X.509-SVID rules (SPIFFE "X509-SVID" sections 3 to 5), in one place
 * for both binaries: the agent checks every peer's chain with them on both
 * ends of a tunnel, and `mfctl cert issue` checks what it made before it
 * writes it, so mfctl never issues a certificate the agent refuses.
 *
 * A chain is the leaf first, then the signing certificates above it in
 * order (what a TLS peer sends, possibly up to its root).  The rules:
 *
 * leaf (the identity):
 *   - basicConstraints present, cA false;
 *   - keyUsage present and critical, with digitalSignature, without
 *     keyCertSign and cRLSign;
 *   - exactly one URI SAN, a valid SPIFFE ID with a path; DNS names and
 *     IP addresses allowed beside it (for clients that check the address
 *     they dial; meshforge authorizes by the SPIFFE ID alone), no name of
 *     another type (e-mail, otherName, directoryName...);
 *   - the SAN extension critical when the subject is empty (RFC 5280
 *     4.2.1.6);
 *   - extendedKeyUsage, when present, with clientAuth for a client and
 *     serverAuth for a server (both for a certificate that may be either);
 * signing certificates (every one after the leaf):
 *   - basicConstraints present, cA true;
 *   - keyUsage present and critical, with keyCertSign;
 *   - a pathLenConstraint, when present, no smaller than the number of
 *     signing certificates between it and the leaf;
 *   - a SPIFFE ID is allowed on them, and is nobody's identity;
 * every certificate:
 *   - notBefore <= now <= notAfter;
 *   - basicConstraints, keyUsage, extendedKeyUsage and subjectAltName each
 *     at most once (RFC 5280 4.2), and DER that walks.
 *
 * Signatures and the way to a trust anchor are not checked here: that is
 * path validation (wolfSSL in the agent).  Only the profile is.
 */
#ifndef MF_SVID_H
#define MF_SVID_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The rules, one value each; SVID_OK is none broken. */
enum svid_rule {
	SVID_OK = 0,
	SVID_MALFORMED,		/* not DER X.509 we can walk, or an
				 * extension twice */
	SVID_LEAF_NO_BASIC,	/* leaf: basicConstraints absent */
	SVID_LEAF_CA,		/* leaf: cA true */
	SVID_NO_KEY_USAGE,	/* keyUsage absent */
	SVID_KEY_USAGE_NOT_CRITICAL,
	SVID_LEAF_NO_DIGITAL_SIGNATURE,
	SVID_LEAF_CERT_SIGN,	/* leaf: keyCertSign or cRLSign */
	SVID_LEAF_NO_URI,	/* leaf: no URI SAN */
	SVID_LEAF_URIS,		/* leaf: more than one URI SAN */
	SVID_LEAF_BAD_ID,	/* leaf: the URI is not a SPIFFE ID with a
				 * path */
	SVID_LEAF_OTHER_NAME,	/* leaf: a SAN of a type other than URI,
				 * DNS and IP */
	SVID_LEAF_SAN_NOT_CRITICAL,	/* empty subject, SAN not critical */
	SVID_LEAF_NO_CLIENT_AUTH,	/* EKU without clientAuth */
	SVID_LEAF_NO_SERVER_AUTH,	/* EKU without serverAuth */
	SVID_NOT_YET_VALID,
	SVID_EXPIRED,
	SVID_CA_NOT_CA,		/* signing cert: basicConstraints absent or
				 * cA false */
	SVID_CA_NO_CERT_SIGN,	/* signing cert: no keyCertSign */
	SVID_CA_PATH_LEN,	/* signing cert: pathLenConstraint too
				 * small for the chain below it */
	SVID_RULE_MAX,
};

/* The roles a leaf is checked for (its extendedKeyUsage). */
#define SVID_CLIENT	(1u << 0)
#define SVID_SERVER	(1u << 1)

/* One DER certificate of a chain. */
struct svid_cert {
	const uint8_t *der;
	size_t len;
};

/*
 * Checks chain @v (@n >= 1 certificates, the leaf first) against the
 * rules above, for a leaf in @roles (SVID_CLIENT, SVID_SERVER or both), at
 * time @now.  Returns SVID_OK, or the first rule broken, and then in *at
 * (may be NULL) the index in @v of the certificate that breaks it.
 */
enum svid_rule svid_check(const struct svid_cert *v, size_t n,
			  unsigned int roles, time_t now, size_t *at);

/* A short stable name for logs and metric labels ("leaf_ca"). */
const char *svid_rule_name(enum svid_rule r);
/* What the rule asks, for people ("the leaf's basicConstraints says cA
 * true; an X.509-SVID leaf must say false"). */
const char *svid_rule_text(enum svid_rule r);

#endif /* MF_SVID_H */
