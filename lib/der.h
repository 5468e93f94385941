/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Just enough DER (X.690) and X.509 (RFC 5280) for meshforge, the one copy
 * both binaries use: mfctl writes certificates and reads its CA back, the
 * agent reads the SPIFFE ID out of a certificate.
 *
 * mfctl encodes certificates itself instead of through wc_MakeCert()
 * because wolfSSL 5.5.4 (without the ASN template code) cannot mark
 * basicConstraints critical, which RFC 5280 4.2.1.9 requires of a CA, and
 * always backdates notBefore by a day.  wolfCrypt still does every
 * cryptographic step (keys, hashes, signatures).
 *
 * Reading trusts no length: every read stays inside its cursor or fails
 * with -EBADMSG, so a certificate can be walked before anything verified
 * it.  Only the structure is checked, never a signature.
 */
#ifndef MF_DER_H
#define MF_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define DER_BOOLEAN	0x01
#define DER_INTEGER	0x02
#define DER_BIT_STRING	0x03
#define DER_OCTET_STRING 0x04
#define DER_OID		0x06
#define DER_ENUMERATED	0x0a
#define DER_UTF8_STRING	0x0c
#define DER_UTC_TIME	0x17
#define DER_GEN_TIME	0x18
#define DER_SEQUENCE	0x30
#define DER_SET		0x31
#define DER_CTX(n)	(0xa0 | (n))	/* [n] constructed (EXPLICIT) */
#define DER_CTX_PRIM(n)	(0x80 | (n))	/* [n] primitive (IMPLICIT) */

/*
 * A growing output buffer.  Writers never fail on their own: the first
 * allocation failure sticks in @err and every later write is a no-op, so
 * an encoder checks once at the end.
 */
struct der {
	uint8_t *p;		/* owned */
	size_t len, cap;
	int err;		/* 0, -ENOMEM, or -EOVERFLOW from der_time() */
};

void der_init(struct der *d);
void der_free(struct der *d);

/* Opens a constructed TLV (or any TLV whose content follows) with @tag.
 * Returns the mark der_end() needs. */
size_t der_begin(struct der *d, uint8_t tag);
/* Closes the TLV opened at @mark, writing its final length. */
void der_end(struct der *d, size_t mark);

void der_raw(struct der *d, const void *p, size_t n);
void der_tlv(struct der *d, uint8_t tag, const void *p, size_t n);
/* A non-negative INTEGER from big-endian bytes (minimal encoding). */
void der_uint_bytes(struct der *d, const uint8_t *p, size_t n);
void der_uint(struct der *d, uint64_t v);
void der_bool(struct der *d, bool v);
/* A BIT STRING of whole bytes; @unused trailing bits of the last byte. */
void der_bits(struct der *d, const uint8_t *p, size_t n, unsigned unused);
/* UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
void der_time(struct der *d, time_t t);

/* Object identifiers readers and writers of certificates share, content
 * octets only. */
extern const uint8_t der_oid_san[3];		/* subjectAltName 2.5.29.17 */
extern const uint8_t der_oid_key_usage[3];	/* keyUsage 2.5.29.15 */
extern const uint8_t der_oid_basic[3];		/* basicConstraints 2.5.29.19 */
extern const uint8_t der_oid_eku[3];		/* extKeyUsage 2.5.29.37 */
extern const uint8_t der_oid_crl_dp[3];		/* cRLDistributionPoints
						 * 2.5.29.31 */
extern const uint8_t der_oid_server_auth[8];	/* id-kp-serverAuth */
extern const uint8_t der_oid_client_auth[8];	/* id-kp-clientAuth */

/* keyUsage bits (RFC 5280 4.2.1.3) as the first byte of its BIT STRING:
 * digitalSignature is bit 0, the byte's top bit. */
#define DER_KU_DIGITAL_SIGNATURE 0x80
#define DER_KU_KEY_CERT_SIGN	0x04
#define DER_KU_CRL_SIGN		0x02

/* A read cursor over DER. */
struct der_rd {
	const uint8_t *p;
	size_t len;
};

/*
 * Takes the next TLV off @r: its tag, its content in *content, and the
 * whole TLV (header included) in *whole (may be NULL).  Returns 0, or
 * -EBADMSG for a malformed, high-tag or indefinite-length encoding or at
 * the end.
 */
int der_next(struct der_rd *r, uint8_t *tag, struct der_rd *content,
	     struct der_rd *whole);
/* der_next() of a TLV that must have tag @want.  Returns 0 or -EBADMSG. */
int der_expect(struct der_rd *r, uint8_t want, struct der_rd *content);
/* True when OBJECT IDENTIFIER content @oid is the @n bytes at @want. */
bool der_oid_is(struct der_rd oid, const uint8_t *want, size_t n);

/* Where the fields a certificate's readers need are, in its DER. */
struct der_cert {
	struct der_rd validity;	/* Validity, its content */
	struct der_rd serial;	/* serialNumber, INTEGER content */
	struct der_rd issuer;	/* Name, whole TLV */
	struct der_rd subject;	/* Name, whole TLV */
	struct der_rd spki;	/* SubjectPublicKeyInfo, whole TLV */
	struct der_rd exts;	/* the Extension items; empty without any */
};

/* Walks certificate @der (@len bytes) to its fields.  Returns 0 or
 * -EBADMSG. */
int der_cert_parse(const uint8_t *der, size_t len, struct der_cert *out);

/*
 * Takes the next Extension off @exts (from der_cert_parse()): its extnID
 * content in *oid, its extnValue content in *val, and in *critical (may be
 * NULL) whether it is marked critical.  Returns 1, 0 when @exts is used
 * up, or -EBADMSG.
 */
int der_cert_ext(struct der_rd *exts, struct der_rd *oid, struct der_rd *val,
		 bool *critical);

/*
 * The next Time (UTCTime or GeneralizedTime, RFC 5280 4.1.2.5: seconds,
 * 'Z', no fraction) off @r, the reader of what der_time() writes, into
 * *t.  Returns 0 or -EBADMSG.
 */
int der_time_read(struct der_rd *r, time_t *t);

/*
 * The SPIFFE ID of certificate @der into @buf (@n bytes): its URI SAN, of
 * which an X.509-SVID has exactly one.  Returns 0, -ENOENT (no spiffe://
 * URI SAN), -EINVAL (more than one URI SAN), -ENAMETOOLONG (does not fit
 * @n with its NUL), or -EBADMSG for a certificate that cannot be walked.
 */
int der_cert_spiffe(const uint8_t *der, size_t len, char *buf, size_t n);

/*
 * Revocation: a CertificateList (RFC 5280 5), as `mfctl ca revoke` writes
 * it and the agent reads it.  Its entries name certificates by serial
 * number under the list's issuer; a reason is the CRLReason of the
 * entry's reasonCode extension.
 */
enum der_crl_reason {
	DER_CRL_UNSPECIFIED = 0,
	DER_CRL_KEY_COMPROMISE = 1,
	DER_CRL_CA_COMPROMISE = 2,
	DER_CRL_AFFILIATION_CHANGED = 3,
	DER_CRL_SUPERSEDED = 4,
	DER_CRL_CESSATION = 5,
	DER_CRL_CERTIFICATE_HOLD = 6,
	/* 7 is not used */
	DER_CRL_REMOVE_FROM_CRL = 8,
	DER_CRL_PRIVILEGE_WITHDRAWN = 9,
	DER_CRL_AA_COMPROMISE = 10,
	DER_CRL_REASON_MAX,
};

/* RFC 5280's name of @reason ("keyCompromise"), "unknown" for none. */
const char *der_crl_reason_name(int reason);
/* The reason named @name (RFC 5280's spelling), or -EINVAL. */
int der_crl_reason_parse(const char *name);

/* id-ce-cRLNumber (2.5.29.20) and id-ce-cRLReasons (2.5.29.21). */
extern const uint8_t der_oid_crl_number[3];
extern const uint8_t der_oid_crl_reason[3];

/* Where a CRL's fields are, in its DER. */
struct der_crl {
	struct der_rd tbs;	/* TBSCertList, whole TLV: what is signed */
	struct der_rd sig_alg;	/* signatureAlgorithm, whole TLV */
	struct der_rd sig;	/* signatureValue, without the unused-bits
				 * byte */
	struct der_rd issuer;	/* Name, whole TLV */
	time_t this_update;
	time_t next_update;	/* 0: absent */
	struct der_rd revoked;	/* the revokedCertificates items; empty
				 * when there are none */
	uint64_t number;	/* cRLNumber, 0: absent or too large */
};

/* Walks CRL @der (@len bytes) to its fields.  Returns 0 or -EBADMSG. */
int der_crl_parse(const uint8_t *der, size_t len, struct der_crl *out);

/* One revokedCertificates item. */
struct der_crl_entry {
	struct der_rd serial;	/* INTEGER content */
	time_t when;		/* revocationDate */
	int reason;		/* enum der_crl_reason; -1: no reasonCode */
};

/* Takes the next item off @revoked (from der_crl_parse()).  Returns 1, 0
 * when it is used up, or -EBADMSG. */
int der_crl_next(struct der_rd *revoked, struct der_crl_entry *e);

/* Serial number @serial (INTEGER content, @len bytes) in hex, without
 * a sign byte, into @buf (@n bytes; 43 hold RFC 5280's largest). */
void der_serial_hex(const uint8_t *serial, size_t len, char *buf, size_t n);


#endif /* MF_DER_H */
