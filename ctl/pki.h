/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh PKI: ECDSA P-256 keys and X.509 certificates for the root CA and
 * for workload and node identities (SPIFFE X509-SVIDs: the SPIFFE ID is the
 * only URI SAN).  Certificates are encoded by lib/der.c and signed by
 * wolfCrypt.
 */
#ifndef CTL_PKI_H
#define CTL_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/random.h>

#define PKI_KEY_ID_LEN	20	/* SHA-1, RFC 5280 4.2.1.2 method (1) */
#define PKI_BACKDATE	300	/* seconds notBefore lies in the past, so a
				 * peer whose clock is a little behind still
				 * accepts a fresh certificate */
#define PKI_CA_DAYS	3650
#define PKI_LEAF_DAYS	365
#define PKI_MAX_DAYS	3650
#define PKI_CRL_DAYS	30	/* how long a CRL is current (nextUpdate) */
#define PKI_SERIAL_MAX	21	/* a serial's INTEGER content: RFC 5280's
				 * 20 octets, and a sign byte */

/* An ECDSA P-256 key.  Zero it, then pki_key_generate() or
 * pki_key_load(); pki_key_free() is safe on a zeroed key. */
struct pki_key {
	ecc_key k;
	bool init;
};

/* Returns 0 or -errno (-EIO for a wolfCrypt failure). */
int pki_key_generate(struct pki_key *key, WC_RNG *rng);
/* Reads a PEM private key ("EC PRIVATE KEY" or "PRIVATE KEY") from @path.
 * Returns 0, -EBADMSG when it is not a P-256 key, or -errno. */
int pki_key_load(struct pki_key *key, const char *path);
void pki_key_free(struct pki_key *key);

/* The private key as PEM ("EC PRIVATE KEY"), malloc'ed, caller frees.
 * Returns 0 or -errno. */
int pki_key_pem(struct pki_key *key, char **pem, size_t *len);

/* The key's SubjectPublicKeyInfo DER into @out (@cap bytes).  Returns its
 * length or -errno. */
int pki_key_spki(struct pki_key *key, uint8_t *out, size_t cap);

/* The key identifier: SHA-1 of the public key's BIT STRING contents.
 * Returns 0 or -errno. */
int pki_key_id(struct pki_key *key, uint8_t id[PKI_KEY_ID_LEN]);

/* An address of an iPAddress SAN, in network order: 4 bytes (IPv4) or
 * 16 (IPv6). */
struct pki_ip {
	uint8_t addr[16];
	size_t len;
};

/* @s (an IPv4 or IPv6 address, as inet_pton() reads it) into *out.
 * Returns 0 or -EINVAL. */
int pki_ip_parse(const char *s, struct pki_ip *out);

/* The longest CRL URI a certificate carries. */
#define PKI_CRL_URI_MAX	255

/* Whether @uri may be a certificate's CRL distribution point: http://,
 * a host, then printable ASCII without spaces, at most PKI_CRL_URI_MAX
 * characters.  Returns 0 or -EINVAL. */
int pki_crl_uri_check(const char *uri);

/* What a certificate says, apart from its key. */
struct pki_cert_req {
	bool is_ca;
	const char *common_name;	/* NULL: empty subject (SAN critical) */
	const char *uri_san;		/* NULL: no subjectAltName */
	/* More names of the subjectAltName, after the URI: dNSNames and
	 * iPAddresses (checked by the caller). */
	const char *const *dns_sans;
	size_t n_dns;
	const struct pki_ip *ip_sans;
	size_t n_ip;
	/* Where the CA publishes its CRL (pki_crl_uri_check()), for a
	 * cRLDistributionPoints extension; NULL: none. */
	const char *crl_uri;
	time_t not_before, not_after;
	/* The issuer: NULL for a self-signed certificate, else the CA's
	 * subject Name (DER) and key identifier. */
	const uint8_t *issuer_name;
	size_t issuer_name_len;
	const uint8_t *issuer_key_id;	/* PKI_KEY_ID_LEN bytes */
};

/*
 * Makes a certificate for @subject's public key, signed with @signer (the
 * same key when self-signed), with a random positive 128-bit serial.
 * Returns 0 and *der / *len (malloc'ed, caller frees), or -errno.
 */
int pki_cert_make(const struct pki_cert_req *req, struct pki_key *subject,
		  struct pki_key *signer, WC_RNG *rng, uint8_t **der,
		  size_t *len);

/* DER certificate -> PEM ("CERTIFICATE"), malloc'ed, caller frees.
 * Returns 0 or -errno. */
int pki_cert_pem(const uint8_t *der, size_t len, char **pem, size_t *pem_len);

/* Reads a PEM certificate file into DER (malloc'ed, caller frees).
 * Returns 0, -EBADMSG when it holds no certificate, or -errno. */
int pki_cert_load(const char *path, uint8_t **der, size_t *len);

/* The most certificates pki_chain_load() takes from one file. */
#define PKI_CHAIN_MAX	16

/* A chain read from PEM: the DER of each CERTIFICATE block in file order
 * (each malloc'ed; pki_chain_free() frees them). */
struct pki_chain {
	uint8_t *der[PKI_CHAIN_MAX];
	size_t len[PKI_CHAIN_MAX];
	size_t n;
};

/* Reads every CERTIFICATE block of PEM file @path into @c.  Returns 0,
 * -EBADMSG when a block does not decode or there is none, -E2BIG past
 * PKI_CHAIN_MAX, or -errno. */
int pki_chain_load(const char *path, struct pki_chain *c);
void pki_chain_free(struct pki_chain *c);

/* The parts of a CA certificate that issuing needs; pointers into the DER
 * passed to pki_cert_parse(). */
struct pki_cert_info {
	const uint8_t *subject;		/* Name, whole TLV */
	size_t subject_len;
	const uint8_t *spki;		/* SubjectPublicKeyInfo, whole TLV */
	size_t spki_len;
	uint8_t key_id[PKI_KEY_ID_LEN];	/* subjectKeyIdentifier */
	bool has_key_id;
	bool is_ca;			/* basicConstraints cA */
};

/* Walks a DER certificate.  Returns 0 or -EBADMSG. */
int pki_cert_parse(const uint8_t *der, size_t len, struct pki_cert_info *out);

/* Whether a CA certificate of the PEM file @ca_path (one or several)
 * signed certificate @der.  Returns 0, -ENOENT (none did, or no such
 * file), or -errno. */
int pki_cert_issued_by(const uint8_t *der, size_t len, const char *ca_path);

/*
 * A serial number as DER INTEGER content (what der_cert_parse() gives),
 * from hex ("4f1a...", "0x4f1a...") into @out (PKI_SERIAL_MAX bytes),
 * minimal and positive; returns 0 or -EINVAL.  der_serial_hex() is the
 * way back.
 */
int pki_serial_parse(const char *hex, uint8_t *out, size_t *len);

/* One revoked certificate. */
struct pki_crl_entry {
	uint8_t serial[PKI_SERIAL_MAX];	/* INTEGER content */
	size_t serial_len;
	time_t when;			/* revocationDate */
	int reason;			/* enum der_crl_reason; <= 0: no
					 * reasonCode */
};

/* What a CRL says. */
struct pki_crl_req {
	const uint8_t *issuer_name;	/* the CA's subject Name (DER) */
	size_t issuer_name_len;
	const uint8_t *issuer_key_id;	/* PKI_KEY_ID_LEN bytes */
	time_t this_update, next_update;
	uint64_t number;		/* cRLNumber, grows with each list */
	const struct pki_crl_entry *entries;
	size_t n;
};

/*
 * Makes a v2 CRL (RFC 5280 5) signed with the CA key @signer.  Returns 0
 * and *der / *len (malloc'ed, caller frees), or -errno.
 */
int pki_crl_make(const struct pki_crl_req *req, struct pki_key *signer,
		 WC_RNG *rng, uint8_t **der, size_t *len);

#endif /* CTL_PKI_H */
