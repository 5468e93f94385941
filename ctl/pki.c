// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>
#include <wolfssl/wolfcrypt/random.h>

#include "der.h"
#include "fsio.h"
#include "pki.h"

/* Object identifiers, content octets only. */
static const uint8_t pki_oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
						0x04, 0x03, 0x02 };
static const uint8_t pki_oid_cn[] = { 0x55, 0x04, 0x03 };
static const uint8_t pki_oid_skid[] = { 0x55, 0x1d, 0x0e };
static const uint8_t pki_oid_akid[] = { 0x55, 0x1d, 0x23 };

int pki_ip_parse(const char *s, struct pki_ip *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, s, out->addr) == 1) {
		out->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, out->addr) == 1) {
		out->len = 16;
		return 0;
	}
	return -EINVAL;
}

int pki_crl_uri_check(const char *uri)
{
	size_t n = strlen(uri);

	if (n > PKI_CRL_URI_MAX || strncmp(uri, "http://", 7) != 0 ||
	    n == 7 || uri[7] == '/' || uri[7] == '?' || uri[7] == '#')
		return -EINVAL;
	/* An IA5String, and one that reads back as one URI: no spaces,
	 * no controls. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)uri[i] <= 0x20 ||
		    (unsigned char)uri[i] >= 0x7f)
			return -EINVAL;
	return 0;
}

int pki_key_generate(struct pki_key *key, WC_RNG *rng)
{
	if (wc_ecc_init(&key->k))
		return -EIO;
	key->init = true;
	if (wc_ecc_make_key_ex(rng, 32, &key->k, ECC_SECP256R1))
		return -EIO;
	return 0;
}

void pki_key_free(struct pki_key *key)
{
	if (key->init)
		wc_ecc_free(&key->k);
	key->init = false;
}

/* The first PEM block of @type in @path, as DER; *@cap is the size of the
 * buffer, wiped by a caller that loaded a key. */
static int pki_pem_load(const char *path, int type, uint8_t **der_out,
			size_t *len_out, size_t *cap)
{
	uint8_t *der;
	char *pem;
	size_t pem_len;
	int n, err;

	err = fsio_read_all(path, &pem, &pem_len);
	if (err)
		return err;
	der = malloc(pem_len + 1);
	if (!der)
		n = -ENOMEM;
	else if (type == PRIVATEKEY_TYPE)
		n = wc_KeyPemToDer((const unsigned char *)pem, (int)pem_len,
				   der, (int)pem_len + 1, NULL);
	else
		n = wc_CertPemToDer((const unsigned char *)pem, (int)pem_len,
				    der, (int)pem_len + 1, type);
	/* The PEM of a key holds the key: wipe it before freeing. */
	memset(pem, 0, pem_len);
	free(pem);
	if (n <= 0) {
		if (der)
			memset(der, 0, pem_len + 1);
		free(der);
		return n == -ENOMEM ? n : -EBADMSG;
	}
	*der_out = der;
	*len_out = (size_t)n;
	*cap = pem_len + 1;
	return 0;
}

int pki_key_load(struct pki_key *key, const char *path)
{
	uint8_t *der;
	size_t len, cap;
	word32 idx = 0;
	int err;

	err = pki_pem_load(path, PRIVATEKEY_TYPE, &der, &len, &cap);
	if (err)
		return err;
	if (wc_ecc_init(&key->k)) {
		err = -EIO;
		goto out;
	}
	key->init = true;
	if (wc_EccPrivateKeyDecode(der, &idx, &key->k, (word32)len) ||
	    wc_ecc_get_curve_id(key->k.idx) != ECC_SECP256R1)
		err = -EBADMSG;
out:
	memset(der, 0, cap);
	free(der);
	return err;
}

int pki_key_pem(struct pki_key *key, char **pem, size_t *len)
{
	uint8_t der[256];
	size_t cap;
	char *out;
	int n, m;

	n = wc_EccKeyToDer(&key->k, der, sizeof(der));
	if (n <= 0)
		return -EIO;
	cap = (size_t)n * 2 + 128;
	out = malloc(cap);
	if (!out) {
		memset(der, 0, sizeof(der));
		return -ENOMEM;
	}
	m = wc_DerToPem(der, (word32)n, (byte *)out, (word32)cap - 1,
			ECC_PRIVATEKEY_TYPE);
	memset(der, 0, sizeof(der));
	if (m <= 0) {
		free(out);
		return -EIO;
	}
	out[m] = '\0';
	*pem = out;
	*len = (size_t)m;
	return 0;
}

int pki_key_spki(struct pki_key *key, uint8_t *out, size_t cap)
{
	int n = wc_EccPublicKeyToDer(&key->k, out, (word32)cap, 1);

	return n > 0 ? n : -EIO;
}

int pki_key_id(struct pki_key *key, uint8_t id[PKI_KEY_ID_LEN])
{
	uint8_t point[1 + 2 * 32];
	word32 len = sizeof(point);

	if (wc_ecc_export_x963(&key->k, point, &len))
		return -EIO;
	if (wc_ShaHash(point, len, id))
		return -EIO;
	return 0;
}

/* Name: one RDN with one commonName, or the empty sequence. */
static void pki_name(struct der *d, const char *cn)
{
	size_t seq = der_begin(d, DER_SEQUENCE);

	if (cn) {
		size_t set = der_begin(d, DER_SET);
		size_t atv = der_begin(d, DER_SEQUENCE);

		der_tlv(d, DER_OID, pki_oid_cn, sizeof(pki_oid_cn));
		der_tlv(d, DER_UTF8_STRING, cn, strlen(cn));
		der_end(d, atv);
		der_end(d, set);
	}
	der_end(d, seq);
}

/* Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue };
 * opens the OCTET STRING that holds the value and returns both marks. */
static void pki_ext_begin(struct der *d, const uint8_t *oid, size_t oid_len,
			  bool critical, size_t marks[2])
{
	marks[0] = der_begin(d, DER_SEQUENCE);
	der_tlv(d, DER_OID, oid, oid_len);
	if (critical)	/* DER leaves out a value equal to the DEFAULT */
		der_bool(d, true);
	marks[1] = der_begin(d, DER_OCTET_STRING);
}

static void pki_ext_end(struct der *d, size_t marks[2])
{
	der_end(d, marks[1]);
	der_end(d, marks[0]);
}

static void pki_extensions(struct der *d, const struct pki_cert_req *req,
			   const uint8_t key_id[PKI_KEY_ID_LEN])
{
	size_t ctx, seq, m[2], inner;
	uint8_t ku;

	ctx = der_begin(d, DER_CTX(3));
	seq = der_begin(d, DER_SEQUENCE);

	/* basicConstraints, critical for CA and leaf alike. */
	pki_ext_begin(d, der_oid_basic, sizeof(der_oid_basic), true, m);
	inner = der_begin(d, DER_SEQUENCE);
	if (req->is_ca)
		der_bool(d, true);
	der_end(d, inner);
	pki_ext_end(d, m);

	/* keyUsage, critical.  The BIT STRING drops trailing zero bits:
	 * digitalSignature alone leaves 7 unused, keyCertSign|cRLSign 1. */
	pki_ext_begin(d, der_oid_key_usage, sizeof(der_oid_key_usage), true, m);
	if (req->is_ca) {
		ku = DER_KU_KEY_CERT_SIGN | DER_KU_CRL_SIGN;
		der_bits(d, &ku, 1, 1);
	} else {
		ku = DER_KU_DIGITAL_SIGNATURE;
		der_bits(d, &ku, 1, 7);
	}
	pki_ext_end(d, m);

	if (!req->is_ca) {
		pki_ext_begin(d, der_oid_eku, sizeof(der_oid_eku), false, m);
		inner = der_begin(d, DER_SEQUENCE);
		der_tlv(d, DER_OID, der_oid_server_auth,
			sizeof(der_oid_server_auth));
		der_tlv(d, DER_OID, der_oid_client_auth,
			sizeof(der_oid_client_auth));
		der_end(d, inner);
		pki_ext_end(d, m);
	}

	/* subjectAltName: GeneralNames with one uniformResourceIdentifier
	 * ([6] IMPLICIT IA5String), then any dNSName ([2] IA5String) and
	 * iPAddress ([7] OCTET STRING).  Critical when the subject is empty
	 * (RFC 5280 4.2.1.6). */
	if (req->uri_san) {
		pki_ext_begin(d, der_oid_san, sizeof(der_oid_san),
			      !req->common_name, m);
		inner = der_begin(d, DER_SEQUENCE);
		der_tlv(d, DER_CTX_PRIM(6), req->uri_san, strlen(req->uri_san));
		for (size_t i = 0; i < req->n_dns; i++)
			der_tlv(d, DER_CTX_PRIM(2), req->dns_sans[i],
				strlen(req->dns_sans[i]));
		for (size_t i = 0; i < req->n_ip; i++)
			der_tlv(d, DER_CTX_PRIM(7), req->ip_sans[i].addr,
				req->ip_sans[i].len);
		der_end(d, inner);
		pki_ext_end(d, m);
	}

	/* cRLDistributionPoints (RFC 5280 4.2.1.13): one DistributionPoint
	 * whose distributionPoint [0] is a fullName [0] of one URI.  [0] of
	 * the CHOICE DistributionPointName is explicit, fullName's implicit,
	 * hence the two constructed [0] around the GeneralName. */
	if (req->crl_uri) {
		size_t dp, name, full;

		pki_ext_begin(d, der_oid_crl_dp, sizeof(der_oid_crl_dp), false,
			      m);
		inner = der_begin(d, DER_SEQUENCE);
		dp = der_begin(d, DER_SEQUENCE);
		name = der_begin(d, DER_CTX(0));
		full = der_begin(d, DER_CTX(0));
		der_tlv(d, DER_CTX_PRIM(6), req->crl_uri, strlen(req->crl_uri));
		der_end(d, full);
		der_end(d, name);
		der_end(d, dp);
		der_end(d, inner);
		pki_ext_end(d, m);
	}

	pki_ext_begin(d, pki_oid_skid, sizeof(pki_oid_skid), false, m);
	der_tlv(d, DER_OCTET_STRING, key_id, PKI_KEY_ID_LEN);
	pki_ext_end(d, m);

	/* authorityKeyIdentifier { keyIdentifier [0] }; a self-signed
	 * certificate names itself through its subjectKeyIdentifier. */
	if (req->issuer_key_id) {
		pki_ext_begin(d, pki_oid_akid, sizeof(pki_oid_akid), false, m);
		inner = der_begin(d, DER_SEQUENCE);
		der_tlv(d, DER_CTX_PRIM(0), req->issuer_key_id,
			PKI_KEY_ID_LEN);
		der_end(d, inner);
		pki_ext_end(d, m);
	}

	der_end(d, seq);
	der_end(d, ctx);
}

static void pki_sig_alg(struct der *d)
{
	size_t m = der_begin(d, DER_SEQUENCE);

	/* ecdsa-with-SHA256 takes no parameters (RFC 5758 3.2). */
	der_tlv(d, DER_OID, pki_oid_ecdsa_sha256, sizeof(pki_oid_ecdsa_sha256));
	der_end(d, m);
}

/*
 * The signed object (a certificate, a CRL: SEQUENCE { tbs, algorithm,
 * signature }) of @tbs, signed by @signer.  Returns 0 and *der / *len
 * (malloc'ed, caller frees), or -errno (@tbs's own error among them).
 */
static int pki_sign(const struct der *tbs, struct pki_key *signer,
		    WC_RNG *rng, uint8_t **der_out, size_t *len_out)
{
	uint8_t hash[32], sig[128];
	word32 sig_len = sizeof(sig);
	struct der out;
	size_t m;
	int err = 0;

	if (tbs->err)
		return tbs->err;
	if (wc_Sha256Hash(tbs->p, (word32)tbs->len, hash) ||
	    wc_ecc_sign_hash(hash, sizeof(hash), sig, &sig_len, rng,
			     &signer->k))
		return -EIO;
	der_init(&out);
	m = der_begin(&out, DER_SEQUENCE);
	der_raw(&out, tbs->p, tbs->len);
	pki_sig_alg(&out);
	der_bits(&out, sig, sig_len, 0);
	der_end(&out, m);
	if (out.err) {
		err = out.err;
		der_free(&out);
		return err;
	}
	/* Ownership of the buffer moves to the caller. */
	*der_out = out.p;
	*len_out = out.len;
	return 0;
}

int pki_cert_make(const struct pki_cert_req *req, struct pki_key *subject,
		  struct pki_key *signer, WC_RNG *rng, uint8_t **der_out,
		  size_t *len_out)
{
	uint8_t serial[16], key_id[PKI_KEY_ID_LEN], spki[256];
	struct der tbs;
	size_t m, v;
	int spki_len, err;

	der_init(&tbs);
	spki_len = pki_key_spki(subject, spki, sizeof(spki));
	if (spki_len < 0)
		return spki_len;
	err = pki_key_id(subject, key_id);
	if (err)
		return err;
	if (wc_RNG_GenerateBlock(rng, serial, sizeof(serial)))
		return -EIO;
	/* Positive (top bit clear) and minimal (first byte non-zero). */
	serial[0] = (serial[0] & 0x7f) | 0x40;

	m = der_begin(&tbs, DER_SEQUENCE);
	v = der_begin(&tbs, DER_CTX(0));
	der_uint(&tbs, 2);			/* v3 */
	der_end(&tbs, v);
	der_uint_bytes(&tbs, serial, sizeof(serial));
	pki_sig_alg(&tbs);
	if (req->issuer_name)
		der_raw(&tbs, req->issuer_name, req->issuer_name_len);
	else
		pki_name(&tbs, req->common_name);
	v = der_begin(&tbs, DER_SEQUENCE);
	der_time(&tbs, req->not_before);
	der_time(&tbs, req->not_after);
	der_end(&tbs, v);
	pki_name(&tbs, req->common_name);
	der_raw(&tbs, spki, (size_t)spki_len);
	pki_extensions(&tbs, req, key_id);
	der_end(&tbs, m);
	err = pki_sign(&tbs, signer, rng, der_out, len_out);
	der_free(&tbs);
	return err;
}

int pki_cert_pem(const uint8_t *der, size_t len, char **pem, size_t *pem_len)
{
	size_t cap = len * 2 + 128;
	char *out = malloc(cap);
	int n;

	if (!out)
		return -ENOMEM;
	n = wc_DerToPem(der, (word32)len, (byte *)out, (word32)cap - 1,
			CERT_TYPE);
	if (n <= 0) {
		free(out);
		return -EIO;
	}
	out[n] = '\0';
	*pem = out;
	*pem_len = (size_t)n;
	return 0;
}

int pki_cert_load(const char *path, uint8_t **der, size_t *len)
{
	size_t cap;

	return pki_pem_load(path, CERT_TYPE, der, len, &cap);
}

int pki_chain_load(const char *path, struct pki_chain *c)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	char *pem, *at, *stop;
	size_t len, n;
	int m, err;

	memset(c, 0, sizeof(*c));
	err = fsio_read_all(path, &pem, &len);
	if (err)
		return err;
	/* fsio_read_all() ends the buffer with a NUL. */
	for (at = strstr(pem, begin); at; at = strstr(stop, begin)) {
		stop = strstr(at, end);
		if (!stop) {
			err = -EBADMSG;
			break;
		}
		stop += sizeof(end) - 1;
		if (c->n == PKI_CHAIN_MAX) {
			err = -E2BIG;
			break;
		}
		n = (size_t)(stop - at);
		c->der[c->n] = malloc(n);
		if (!c->der[c->n]) {
			err = -ENOMEM;
			break;
		}
		m = wc_CertPemToDer((const unsigned char *)at, (int)n,
				    c->der[c->n], (int)n, CERT_TYPE);
		if (m <= 0) {
			free(c->der[c->n]);
			c->der[c->n] = NULL;
			err = -EBADMSG;
			break;
		}
		c->len[c->n++] = (size_t)m;
	}
	if (!err && !c->n)
		err = -EBADMSG;
	free(pem);
	if (err)
		pki_chain_free(c);
	return err;
}

void pki_chain_free(struct pki_chain *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->der[i]);
	memset(c, 0, sizeof(*c));
}

int pki_cert_parse(const uint8_t *der, size_t len, struct pki_cert_info *info)
{
	struct der_rd oid, val, in, inner;
	struct der_cert c;
	int ret;

	memset(info, 0, sizeof(*info));
	if (der_cert_parse(der, len, &c))
		return -EBADMSG;
	info->subject = c.subject.p;
	info->subject_len = c.subject.len;
	info->spki = c.spki.p;
	info->spki_len = c.spki.len;
	while ((ret = der_cert_ext(&c.exts, &oid, &val, NULL)) > 0) {
		if (der_oid_is(oid, pki_oid_skid, sizeof(pki_oid_skid))) {
			/* Another form than ours: issuing computes its own. */
			if (der_expect(&val, DER_OCTET_STRING, &in) ||
			    in.len != PKI_KEY_ID_LEN)
				continue;
			memcpy(info->key_id, in.p, PKI_KEY_ID_LEN);
			info->has_key_id = true;
		} else if (der_oid_is(oid, der_oid_basic,
				      sizeof(der_oid_basic))) {
			if (der_expect(&val, DER_SEQUENCE, &in))
				return -EBADMSG;
			/* cA is absent (DEFAULT FALSE) from a leaf's. */
			if (!der_expect(&in, DER_BOOLEAN, &inner) &&
			    inner.len == 1 && inner.p[0])
				info->is_ca = true;
		}
	}
	return ret < 0 ? ret : 0;
}

int pki_serial_parse(const char *hex, uint8_t *out, size_t *len)
{
	uint8_t raw[PKI_SERIAL_MAX];
	size_t n = strlen(hex), odd, k, i;

	if (n > 2 && hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X')) {
		hex += 2;
		n -= 2;
	}
	/* An odd count of digits reads as if a 0 came first. */
	odd = n % 2;
	k = (n + odd) / 2;
	if (!n || k > sizeof(raw))
		return -EINVAL;
	for (size_t j = 0; j < n + odd; j++) {
		char ch = j < odd ? '0' : hex[j - odd];
		int v = ch >= '0' && ch <= '9' ? ch - '0' :
			ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
			ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;

		if (v < 0)
			return -EINVAL;
		if (j % 2 == 0)
			raw[j / 2] = (uint8_t)(v << 4);
		else
			raw[j / 2] |= (uint8_t)v;
	}
	/* As a DER INTEGER's content: minimal, positive. */
	for (i = 0; i + 1 < k && raw[i] == 0; i++)
		;
	n = raw[i] & 0x80 ? 1 : 0;
	if (n + k - i > PKI_SERIAL_MAX)
		return -EINVAL;
	out[0] = 0;
	memcpy(out + n, raw + i, k - i);
	*len = n + k - i;
	return 0;
}

int pki_crl_make(const struct pki_crl_req *req, struct pki_key *signer,
		 WC_RNG *rng, uint8_t **der_out, size_t *len_out)
{
	struct der tbs;
	size_t m, seq, ext, item, mk[2], inner;
	int err;

	der_init(&tbs);
	m = der_begin(&tbs, DER_SEQUENCE);
	der_uint(&tbs, 1);			/* v2 */
	pki_sig_alg(&tbs);
	der_raw(&tbs, req->issuer_name, req->issuer_name_len);
	der_time(&tbs, req->this_update);
	der_time(&tbs, req->next_update);
	/* An empty list leaves revokedCertificates out (RFC 5280 5.1.2.6). */
	if (req->n) {
		seq = der_begin(&tbs, DER_SEQUENCE);
		for (size_t i = 0; i < req->n; i++) {
			const struct pki_crl_entry *e = &req->entries[i];

			item = der_begin(&tbs, DER_SEQUENCE);
			der_tlv(&tbs, DER_INTEGER, e->serial, e->serial_len);
			der_time(&tbs, e->when);
			/* reasonCode is left out rather than unspecified
			 * (5.3.1). */
			if (e->reason > DER_CRL_UNSPECIFIED) {
				uint8_t r = (uint8_t)e->reason;

				inner = der_begin(&tbs, DER_SEQUENCE);
				pki_ext_begin(&tbs, der_oid_crl_reason,
					      sizeof(der_oid_crl_reason), false,
					      mk);
				der_tlv(&tbs, DER_ENUMERATED, &r, 1);
				pki_ext_end(&tbs, mk);
				der_end(&tbs, inner);
			}
			der_end(&tbs, item);
		}
		der_end(&tbs, seq);
	}
	/* crlExtensions [0]: authorityKeyIdentifier and cRLNumber, which a
	 * conforming CA includes (5.2.1, 5.2.3). */
	ext = der_begin(&tbs, DER_CTX(0));
	seq = der_begin(&tbs, DER_SEQUENCE);
	pki_ext_begin(&tbs, pki_oid_akid, sizeof(pki_oid_akid), false, mk);
	inner = der_begin(&tbs, DER_SEQUENCE);
	der_tlv(&tbs, DER_CTX_PRIM(0), req->issuer_key_id, PKI_KEY_ID_LEN);
	der_end(&tbs, inner);
	pki_ext_end(&tbs, mk);
	pki_ext_begin(&tbs, der_oid_crl_number, sizeof(der_oid_crl_number),
		      false, mk);
	der_uint(&tbs, req->number);
	pki_ext_end(&tbs, mk);
	der_end(&tbs, seq);
	der_end(&tbs, ext);
	der_end(&tbs, m);
	err = pki_sign(&tbs, signer, rng, der_out, len_out);
	der_free(&tbs);
	return err;
}

/* Whether the certificate @der (@len bytes) carries a signature of the
 * key in SubjectPublicKeyInfo @spki. */
static bool pki_cert_verify(const uint8_t *der, size_t len,
			    const uint8_t *spki, size_t spki_len)
{
	struct der_rd r = { der, len }, cert, tbs, f, sig;
	uint8_t hash[32], tag;
	word32 idx = 0;
	ecc_key key;
	int res = 0;

	if (der_expect(&r, DER_SEQUENCE, &cert) ||
	    der_next(&cert, &tag, &f, &tbs) || tag != DER_SEQUENCE ||
	    der_expect(&cert, DER_SEQUENCE, &f) ||
	    der_expect(&cert, DER_BIT_STRING, &sig) || sig.len < 2 ||
	    sig.p[0] != 0 || wc_Sha256Hash(tbs.p, (word32)tbs.len, hash) ||
	    wc_ecc_init(&key))
		return false;
	if (wc_EccPublicKeyDecode(spki, &idx, &key, (word32)spki_len) ||
	    wc_ecc_verify_hash(sig.p + 1, (word32)sig.len - 1, hash,
			       sizeof(hash), &res, &key))
		res = 0;
	wc_ecc_free(&key);
	return res == 1;
}

int pki_cert_issued_by(const uint8_t *der, size_t len, const char *ca_path)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	struct pki_cert_info ca;
	uint8_t *ca_der = NULL;
	char *pem, *p, *end;
	size_t pem_len;
	int n, err, ret = -ENOENT;

	err = fsio_read_all(ca_path, &pem, &pem_len);
	if (err)
		return err;
	ca_der = malloc(pem_len + 1);
	if (!ca_der) {
		free(pem);
		return -ENOMEM;
	}
	/* Each certificate of the file in turn: wc_CertPemToDer() takes
	 * the first one it finds. */
	end = pem + pem_len;
	for (p = pem; ret && (p = memmem(p, (size_t)(end - p), begin,
					 sizeof(begin) - 1));
	     p += sizeof(begin) - 1) {
		n = wc_CertPemToDer((const unsigned char *)p, (int)(end - p),
				    ca_der, (int)pem_len + 1, CERT_TYPE);
		if (n > 0 && !pki_cert_parse(ca_der, (size_t)n, &ca) &&
		    pki_cert_verify(der, len, ca.spki, ca.spki_len))
			ret = 0;
	}
	free(ca_der);
	free(pem);
	return ret;
}
