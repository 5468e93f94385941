// SPDX-License-Identifier: Apache-2.0
/*
 * Trust anchors by trust domain (tls.h, "Trust anchors").
 *
 * A context's WOLFSSL_CTX holds every CA of its trust, so that wolfSSL
 * verifies a chain to any of them during the handshake.  What wolfSSL
 * cannot know is which domain a CA speaks for; so once the handshake is
 * done, the peer's chain is verified again, with a certificate manager
 * that holds only the CAs of the trust domain of the SPIFFE ID in its leaf.
 * Intermediates the peer sent are taken only once they verify against
 * that domain's CAs, one after the other from the top.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "crl.h"
#include "fsio.h"
#include "spiffe.h"
#include "tls-int.h"

/* The CAs of one trust domain. */
struct trust_domain {
	char td[MF_NAME_MAX];		/* "": every domain */
	char *pem;			/* their PEM blocks, concatenated */
	size_t len;
	WOLFSSL_CERT_MANAGER *cm;	/* holds them */
};

struct tls_trust {
	int refs;			/* atomic */
	struct trust_domain *v;
	size_t n;
	struct crl *crl;		/* a reference; NULL: none */
};

int tls_trust_new(struct tls_trust **out)
{
	struct tls_trust *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->refs = 1;
	*out = t;
	return 0;
}

struct tls_trust *tls_trust_get(struct tls_trust *t)
{
	__atomic_fetch_add(&t->refs, 1, __ATOMIC_RELAXED);
	return t;
}

void tls_trust_put(struct tls_trust *t)
{
	if (!t || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		wolfSSL_CertManagerFree(t->v[i].cm);
		free(t->v[i].pem);
	}
	free(t->v);
	crl_put(t->crl);
	free(t);
}

/* The entry of @td, added when @add. */
static struct trust_domain *trust_domain(struct tls_trust *t, const char *td,
					 bool add)
{
	struct trust_domain *v;

	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].td, td))
			return &t->v[i];
	if (!add || strlen(td) >= MF_NAME_MAX)
		return NULL;
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return NULL;
	t->v = v;
	v = &t->v[t->n];
	memset(v, 0, sizeof(*v));
	strcpy(v->td, td);
	v->cm = wolfSSL_CertManagerNew();
	if (!v->cm)
		return NULL;
	t->n++;
	return v;
}

int tls_trust_add_pem(struct tls_trust *t, const char *td, const char *pem,
		      size_t len)
{
	struct trust_domain *d = trust_domain(t, td, true);
	char *all;

	if (!d)
		return strlen(td) >= MF_NAME_MAX ? -EINVAL : -ENOMEM;
	if (wolfSSL_CertManagerLoadCABuffer(d->cm, (const unsigned char *)pem,
					    (long)len, WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS)
		return -EINVAL;
	/* Kept as PEM for every context's store; a newline between blocks
	 * of two sources. */
	all = realloc(d->pem, d->len + len + 2);
	if (!all)
		return -ENOMEM;
	d->pem = all;
	memcpy(d->pem + d->len, pem, len);
	d->len += len;
	d->pem[d->len++] = '\n';
	d->pem[d->len] = '\0';
	return 0;
}

int tls_trust_add_file(struct tls_trust *t, const char *td, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	int err = fsio_read_all(path, &pem, &len);

	if (err)
		return -ENOENT;
	err = tls_trust_add_pem(t, td, pem, len);
	free(pem);
	return err;
}

int tls_trust_load(const struct tls_trust *t, WOLFSSL_CTX *wctx)
{
	for (size_t i = 0; i < t->n; i++)
		if (wolfSSL_CTX_load_verify_buffer(
			    wctx, (const unsigned char *)t->v[i].pem,
			    (long)t->v[i].len, WOLFSSL_FILETYPE_PEM) !=
		    WOLFSSL_SUCCESS)
			return -EINVAL;
	return 0;
}

/* Whether DER certificate @c says it is a CA (basicConstraints cA), as
 * wolfSSL reads it. */
static bool trust_is_ca(const struct svid_cert *c)
{
	WOLFSSL_X509 *x = wolfSSL_X509_d2i(NULL, c->der, (int)c->len);
	bool ca = x && wolfSSL_X509_get_isCA(x);

	wolfSSL_X509_free(x);
	return ca;
}

/* Verifies chain @v (@n certificates, leaf first) with @cm, which holds
 * the CAs that may vouch for it: the signing certificates from the top,
 * each added to @cm once it verifies, then the leaf.  One that is not a
 * CA is not added, as the handshake does not add it (the manager would:
 * it takes what it is given to trust), so what it signed has no signer.
 * Returns 0, or wolfSSL's error for the first certificate that does not
 * verify. */
static int trust_walk(WOLFSSL_CERT_MANAGER *cm, const struct svid_cert *v,
		      size_t n)
{
	int ret = n ? 0 : NO_PEER_CERT;

	for (size_t i = n; ret == 0 && i-- > 0;) {
		if (!v[i].der || !v[i].len || v[i].len > INT_MAX)
			return ASN_PARSE_E;
		ret = wolfSSL_CertManagerVerifyBuffer(cm, v[i].der,
						      (long)v[i].len,
						      WOLFSSL_FILETYPE_ASN1);
		if (ret == WOLFSSL_SUCCESS)
			ret = 0;
		else if (ret >= 0)
			ret = VERIFY_CERT_ERROR;
		if (ret == 0 && i > 0 && trust_is_ca(&v[i]) &&
		    wolfSSL_CertManagerLoadCABuffer(cm, v[i].der,
						    (long)v[i].len,
						    WOLFSSL_FILETYPE_ASN1) !=
			    WOLFSSL_SUCCESS)
			ret = VERIFY_CERT_ERROR;
	}
	return ret;
}

/* A certificate manager of its own holding the CAs of @d (every domain's
 * when NULL), for a walk that adds a chain's signing certificates to it:
 * the shared ones never hold what a peer sent.  NULL when out of memory
 * or they do not load. */
static WOLFSSL_CERT_MANAGER *trust_cm(const struct tls_trust *t,
				      const struct trust_domain *d)
{
	WOLFSSL_CERT_MANAGER *cm = wolfSSL_CertManagerNew();

	for (size_t i = 0; cm && i < t->n; i++) {
		const struct trust_domain *e = d ? d : &t->v[i];

		if (wolfSSL_CertManagerLoadCABuffer(
			    cm, (const unsigned char *)e->pem, (long)e->len,
			    WOLFSSL_FILETYPE_PEM) != WOLFSSL_SUCCESS) {
			wolfSSL_CertManagerFree(cm);
			return NULL;
		}
		if (d)
			break;
	}
	return cm;
}

/* Verifies chain @v (@n, leaf first) against the CAs of @d: with its own
 * store (d->cm) when the leaf comes alone, else a copy the walk adds the
 * intermediates to. */
static bool trust_chain_ok(const struct tls_trust *t,
			   const struct trust_domain *d,
			   const struct svid_cert *v, size_t n)
{
	WOLFSSL_CERT_MANAGER *tmp = NULL;
	bool ok;

	if (n > 1) {
		tmp = trust_cm(t, d);
		if (!tmp)
			return false;
	}
	ok = trust_walk(tmp ? tmp : d->cm, v, n) == 0;
	wolfSSL_CertManagerFree(tmp);
	return ok;
}

int tls_trust_chain(const struct tls_trust *t, const struct svid_cert *v,
		    size_t n)
{
	WOLFSSL_CERT_MANAGER *cm = trust_cm(t, NULL);
	int ret;

	if (!cm)
		return MEMORY_E;
	ret = trust_walk(cm, v, n);
	wolfSSL_CertManagerFree(cm);
	return ret;
}

const char *tls_trust_verify(const struct tls_trust *t, const char *spiffe,
			     const struct svid_cert *v, size_t nv, char *buf,
			     size_t n)
{
	struct tls_trust *tt = (struct tls_trust *)t;
	struct spiffe_id id;
	struct trust_domain *d;

	if (spiffe_parse(spiffe, &id))
		return "the peer's certificate has no SPIFFE ID";
	d = trust_domain(tt, id.trust_domain, false);
	if (!d)
		d = trust_domain(tt, "", false);
	if (!d) {
		snprintf(buf, n, "no CA is trusted for trust domain %s (the "
			 "peer's %s)", id.trust_domain, spiffe);
		return buf;
	}
	if (!trust_chain_ok(t, d, v, nv)) {
		snprintf(buf, n, "the peer's certificate (%s) is not from a "
			 "CA of trust domain %s", spiffe, id.trust_domain);
		return buf;
	}
	return NULL;
}

int tls_pem_cert_next(const char **p, const char *end, uint8_t *der,
		      size_t cap)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	const char *at;
	int n;

	at = *p < end ? memmem(*p, (size_t)(end - *p), begin,
			       sizeof(begin) - 1) : NULL;
	if (!at) {
		*p = end;
		return 0;
	}
	/* wc_CertPemToDer() takes the first block it finds: this one. */
	n = wc_CertPemToDer((const unsigned char *)at, (int)(end - at), der,
			    cap > INT_MAX ? INT_MAX : (int)cap, CERT_TYPE);
	*p = at + sizeof(begin) - 1;
	return n > 0 ? n : -EBADMSG;
}

void tls_trust_set_crl(struct tls_trust *t, struct crl *crl)
{
	crl_put(t->crl);
	t->crl = crl ? crl_get(crl) : NULL;
}

const struct crl *tls_trust_crl(const struct tls_trust *t)
{
	return t->crl;
}
