/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the fuzz targets that run after a TLS handshake share:
 *   fz_tls_init()   once per process, at the first input (the seed
 *                   runner calls no LLVMFuzzerInitialize): wolfSSL, and
 *                   a mesh PKI made in memory by the project's own
 *                   ctl/pki.c (a CA of trust domain FZ_TD, a client and
 *                   a server leaf with SPIFFE IDs), so no input waits on
 *                   a shell, a file or an expiry date;
 *   fz_tls_ctx()    the agent's contexts on that PKI (tls_ctx_new_pem),
 *                   a client one restricted to one suite when asked;
 *   fz_pump()       ciphertext from one session's output to another's
 *                   input, in pieces of at most a given size;
 *   fz_discard()    drops what a session has to send.
 * Setup that fails is not a finding: it aborts with why, so that no input
 * runs on a half-made session.
 *
 * Include after agent/tls-int.h (or the .c files that include it).
 */
#ifndef MF_FZ_TLS_H
#define MF_FZ_TLS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../ctl/pki.h"

#define FZ_TD		"mesh.local"
#define FZ_ID_CLIENT	"spiffe://" FZ_TD "/ns/default/sa/client"
#define FZ_ID_SERVER	"spiffe://" FZ_TD "/ns/meshforge-system/sa/node-b"

/* A leaf or the CA, as the agent reads them (certdir.h): PEM. */
struct fz_pem {
	char *crt, *key;
	size_t crt_len, key_len;
};

static struct tls_trust *fz_trust;
static struct fz_pem fz_client, fz_server;

static void fz_die(const char *what) __attribute__((noreturn));
static void fz_die(const char *what)
{
	fprintf(stderr, "fuzz setup: %s\n", what);
	abort();
}

/* Certificate @req for a new key, signed by @signer (NULL: itself), into
 * @out; the key stays in *key for signing others. */
static void fz_issue(struct pki_cert_req *req, struct pki_key *key,
		     struct pki_key *signer, WC_RNG *rng, struct fz_pem *out,
		     uint8_t **der, size_t *der_len)
{
	if (pki_key_generate(key, rng) ||
	    pki_cert_make(req, key, signer ? signer : key, rng, der,
			  der_len) ||
	    pki_cert_pem(*der, *der_len, &out->crt, &out->crt_len) ||
	    pki_key_pem(key, &out->key, &out->key_len))
		fz_die("cannot make a certificate");
}

static void fz_tls_init(void)
{
	static bool done;
	struct pki_key ca_key, leaf_key;
	struct pki_cert_info ca_info;
	struct fz_pem ca;
	uint8_t *ca_der = NULL, *der = NULL;
	size_t ca_der_len, der_len;
	time_t now = time(NULL);
	struct pki_cert_req req = {
		.is_ca = true,
		.common_name = "meshforge fuzz CA",
		.not_before = now - PKI_BACKDATE,
		.not_after = now + 30 * 86400,
	};
	WC_RNG rng;

	if (done)
		return;
	done = true;
	if (tls_global_init() || wc_InitRng(&rng))
		fz_die("cannot initialise wolfSSL");
	memset(&ca_key, 0, sizeof(ca_key));
	memset(&ca, 0, sizeof(ca));
	fz_issue(&req, &ca_key, NULL, &rng, &ca, &ca_der, &ca_der_len);
	if (pki_cert_parse(ca_der, ca_der_len, &ca_info) ||
	    !ca_info.has_key_id)
		fz_die("cannot read the CA certificate back");
	req.is_ca = false;
	req.issuer_name = ca_info.subject;
	req.issuer_name_len = ca_info.subject_len;
	req.issuer_key_id = ca_info.key_id;

	req.common_name = "client";
	req.uri_san = FZ_ID_CLIENT;
	memset(&leaf_key, 0, sizeof(leaf_key));
	fz_issue(&req, &leaf_key, &ca_key, &rng, &fz_client, &der, &der_len);
	pki_key_free(&leaf_key);
	free(der);

	req.common_name = "node-b";
	req.uri_san = FZ_ID_SERVER;
	memset(&leaf_key, 0, sizeof(leaf_key));
	fz_issue(&req, &leaf_key, &ca_key, &rng, &fz_server, &der, &der_len);
	pki_key_free(&leaf_key);
	free(der);

	if (tls_trust_new(&fz_trust) ||
	    tls_trust_add_pem(fz_trust, FZ_TD, ca.crt, ca.crt_len))
		fz_die("cannot make the trust");
	pki_key_free(&ca_key);
	free(ca_der);
	free(ca.crt);
	free(ca.key);
	wc_FreeRng(&rng);
}

/* A context of @role with its leaf, offering only @ciphers when not NULL
 * (a client picks the suite that way). */
static struct tls_ctx *fz_tls_ctx(enum tls_role role, const char *ciphers)
{
	const struct fz_pem *p = role == TLS_ROLE_CLIENT ? &fz_client :
							   &fz_server;
	struct tls_ctx *ctx;

	if (tls_ctx_new_pem(&ctx, role, fz_trust, p->crt, p->crt_len, p->key,
			    p->key_len))
		fz_die("cannot make a TLS context");
	if (ciphers &&
	    wolfSSL_CTX_set_cipher_list(ctx->wctx, ciphers) != WOLFSSL_SUCCESS)
		fz_die("cannot restrict the suites");
	return ctx;
}

/* Moves @a's pending ciphertext to @b, at most @step bytes a feed (0: as
 * much as lies together).  Returns bytes moved. */
static size_t fz_pump(struct tls_sess *a, struct tls_sess *b, size_t step)
{
	size_t moved = 0, n;
	const void *p;

	while ((n = tls_out_pending(a, &p)) > 0) {
		if (step && n > step)
			n = step;
		if (n > tls_in_space(b))
			n = tls_in_space(b);
		if (n == 0 || tls_feed(b, p, n) != 0)
			break;
		tls_out_consume(a, n);
		moved += n;
	}
	return moved;
}

/* Drops what @s has queued to send: the peer of these targets does not
 * read it. */
static void fz_discard(struct tls_sess *s)
{
	const void *p;
	size_t n;

	while ((n = tls_out_pending(s, &p)) > 0)
		tls_out_consume(s, n);
}

#endif /* MF_FZ_TLS_H */
