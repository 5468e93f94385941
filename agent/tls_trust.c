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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Verifies @chain (leaf first) against the CAs of @d: its intermediates
 * from the top, each added once it verifies, then the leaf. */
static bool trust_chain_ok(const struct trust_domain *d,
			   WOLFSSL_X509_CHAIN *chain)
{
	int n = wolfSSL_get_chain_count(chain);
	WOLFSSL_CERT_MANAGER *cm = d->cm, *tmp = NULL;
	bool ok = n > 0;

	if (ok && n > 1) {
		tmp = wolfSSL_CertManagerNew();
		ok = tmp && wolfSSL_CertManagerLoadCABuffer(
				    tmp, (const unsigned char *)d->pem,
				    (long)d->len, WOLFSSL_FILETYPE_PEM) ==
				    WOLFSSL_SUCCESS;
		cm = tmp;
	}
	for (int i = n - 1; ok && i >= 0; i--) {
		const unsigned char *der = wolfSSL_get_chain_cert(chain, i);
		int len = wolfSSL_get_chain_length(chain, i);

		ok = der && len > 0 &&
		     wolfSSL_CertManagerVerifyBuffer(cm, der, len,
						     WOLFSSL_FILETYPE_ASN1) ==
			     WOLFSSL_SUCCESS;
		if (ok && i > 0)
			ok = wolfSSL_CertManagerLoadCABuffer(
				     cm, der, len, WOLFSSL_FILETYPE_ASN1) ==
			     WOLFSSL_SUCCESS;
	}
	wolfSSL_CertManagerFree(tmp);
	return ok;
}

const char *tls_trust_verify(const struct tls_trust *t, const char *spiffe,
			     WOLFSSL_X509_CHAIN *chain, char *buf, size_t n)
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
	if (!chain || !trust_chain_ok(d, chain)) {
		snprintf(buf, n, "the peer's certificate (%s) is not from a "
			 "CA of trust domain %s", spiffe, id.trust_domain);
		return buf;
	}
	return NULL;
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
