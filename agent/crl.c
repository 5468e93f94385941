// SPDX-License-Identifier: Apache-2.0
/*
 * The revocation list (crl.h).  The signature is checked with wolfCrypt
 * on the DER lib/der.c walks, not by wolfSSL's CRL store: that store
 * would refuse every peer of a CA that has no list (the MeshTrust CAs of
 * other domains, a previous root), and takes no list past its nextUpdate,
 * which would turn a list nobody renewed into a refusal of every
 * certificate it does not name.  Here a list only ever adds refusals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "crl.h"
#include "der.h"
#include "fsio.h"
#include "grow.h"
#include "tls.h"

struct crl {
	int refs;			/* atomic */
	char *der;			/* the list as read, served at
					 * /ca.crl (admin.c).  Owned */
	size_t der_len;
	uint8_t *issuer;		/* Name, whole TLV.  Owned */
	size_t issuer_len;
	int64_t this_update, next_update;
	uint64_t number;
	struct crl_entry *v;		/* sorted by crl_cmp().  Owned */
	size_t n;
};

/* ecdsa-with-SHA256, content octets. */
static const uint8_t crl_oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d,
						0x04, 0x03, 0x02 };

static int crl_cmp(const uint8_t *s, size_t len, const struct crl_entry *e)
{
	if (len != e->len)
		return len < e->len ? -1 : 1;
	return memcmp(s, e->serial, len);
}

static int crl_sort_cmp(const void *a, const void *b)
{
	const struct crl_entry *x = a;

	return crl_cmp(x->serial, x->len, b);
}

/* Whether CA certificate @der (@len bytes) is @c's issuer and signed it. */
static bool crl_signed_by(const struct der_crl *c, const uint8_t *der,
			  size_t len)
{
	struct der_cert ca;
	uint8_t hash[WC_SHA256_DIGEST_SIZE];
	word32 idx = 0;
	ecc_key key;
	int res = 0;

	if (der_cert_parse(der, len, &ca) ||
	    ca.subject.len != c->issuer.len ||
	    memcmp(ca.subject.p, c->issuer.p, c->issuer.len) ||
	    wc_Sha256Hash(c->tbs.p, (word32)c->tbs.len, hash) ||
	    wc_ecc_init(&key))
		return false;
	if (wc_EccPublicKeyDecode(ca.spki.p, &idx, &key,
				  (word32)ca.spki.len) ||
	    wc_ecc_verify_hash(c->sig.p, (word32)c->sig.len, hash,
			       sizeof(hash), &res, &key))
		res = 0;
	wc_ecc_free(&key);
	return res == 1;
}

/* Whether a certificate among the PEM blocks of @pem signed @c. */
static bool crl_signed_by_pem(const struct der_crl *c, const char *pem,
			      size_t len)
{
	const char *p = pem, *end = pem + len;
	uint8_t *der = malloc(len + 1);
	bool ok = false;
	int n;

	if (!der)
		return false;
	while (!ok && (n = tls_pem_cert_next(&p, end, der, len + 1)) != 0)
		ok = n > 0 && crl_signed_by(c, der, (size_t)n);
	free(der);
	return ok;
}

int crl_load(struct crl **out, const char *path,
	     const char *const *ca_files, size_t n_ca)
{
	struct der_crl_entry e;
	struct der_crl c;
	struct der_rd alg, oid, it;
	struct crl *l = NULL;
	char *buf = NULL;
	size_t len, cap = 0;
	bool signed_ok = false;
	int ret;

	ret = fsio_read_all(path, &buf, &len);
	if (ret)
		return ret;
	ret = -EBADMSG;
	if (der_crl_parse((const uint8_t *)buf, len, &c))
		goto out;
	/* The one algorithm the mesh CA signs with. */
	it = c.sig_alg;
	if (der_expect(&it, DER_SEQUENCE, &alg) ||
	    der_expect(&alg, DER_OID, &oid) ||
	    !der_oid_is(oid, crl_oid_ecdsa_sha256,
			sizeof(crl_oid_ecdsa_sha256)))
		goto out;
	for (size_t i = 0; i < n_ca && !signed_ok; i++) {
		char *pem = NULL;
		size_t pem_len;

		if (fsio_read_all(ca_files[i], &pem, &pem_len))
			continue;
		signed_ok = crl_signed_by_pem(&c, pem, pem_len);
		free(pem);
	}
	if (!signed_ok) {
		ret = -EKEYREJECTED;
		goto out;
	}
	ret = -ENOMEM;
	l = calloc(1, sizeof(*l));
	if (!l)
		goto out;
	l->refs = 1;
	/* The bytes checked, kept whole: what is served is what the
	 * signature covers. */
	l->der = buf;
	l->der_len = len;
	buf = NULL;
	l->issuer = malloc(c.issuer.len);
	if (!l->issuer)
		goto out;
	memcpy(l->issuer, c.issuer.p, c.issuer.len);
	l->issuer_len = c.issuer.len;
	l->this_update = (int64_t)c.this_update;
	l->next_update = (int64_t)c.next_update;
	l->number = c.number;
	while ((ret = der_crl_next(&c.revoked, &e)) > 0) {
		struct crl_entry *v;

		if (e.serial.len > CRL_SERIAL_MAX) {
			ret = -EBADMSG;
			break;
		}
		v = grow_room(l->v, l->n, &cap, sizeof(*v), 16);
		if (!v) {
			ret = -ENOMEM;
			break;
		}
		l->v = v;
		v = &l->v[l->n++];
		memset(v, 0, sizeof(*v));
		memcpy(v->serial, e.serial.p, e.serial.len);
		v->len = (uint8_t)e.serial.len;
		v->reason = e.reason;
		v->when = (int64_t)e.when;
	}
	if (ret < 0)
		goto out;
	if (l->n)
		qsort(l->v, l->n, sizeof(l->v[0]), crl_sort_cmp);
	*out = l;
	l = NULL;
	ret = 0;
out:
	crl_put(l);
	free(buf);
	return ret;
}

struct crl *crl_get(struct crl *l)
{
	__atomic_fetch_add(&l->refs, 1, __ATOMIC_RELAXED);
	return l;
}

void crl_put(struct crl *l)
{
	if (!l || __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(l->v);
	free(l->issuer);
	free(l->der);
	free(l);
}

const struct crl_entry *crl_find(const struct crl *l, const uint8_t *der,
				 size_t len)
{
	struct der_cert c;
	size_t lo = 0, hi;

	if (!l || !l->n || der_cert_parse(der, len, &c) ||
	    c.issuer.len != l->issuer_len ||
	    memcmp(c.issuer.p, l->issuer, l->issuer_len))
		return NULL;
	hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = crl_cmp(c.serial.p, c.serial.len, &l->v[mid]);

		if (r == 0)
			return &l->v[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const uint8_t *crl_der(const struct crl *l, size_t *len)
{
	*len = l->der_len;
	return (const uint8_t *)l->der;
}

size_t crl_count(const struct crl *l)
{
	return l ? l->n : 0;
}

int64_t crl_this_update(const struct crl *l)
{
	return l ? l->this_update : 0;
}

int64_t crl_next_update(const struct crl *l)
{
	return l ? l->next_update : 0;
}

uint64_t crl_number(const struct crl *l)
{
	return l ? l->number : 0;
}
