// SPDX-License-Identifier: Apache-2.0
/*
 * Mutual TLS 1.3 over memory: wolfSSL for the handshake, our own record
 * layer after it.
 *
 * Why two parts: a WOLFSSL object of this wolfSSL build holds about 80 KB
 * for as long as it lives (the object itself, a WOLFSSL_SESSION with room
 * for two peer chains of nine 2 KiB certificates, the parsed peer
 * certificate with its public key, handshake arrays and hashes), and the
 * agent keeps one session per tunnelled connection, most of them idle.  So
 * wolfSSL does what is hard (the handshake, certificate verification) and,
 * once the handshake is complete, hands over: we take the application
 * traffic secrets and sequence numbers, cache the peer's SPIFFE ID and the
 * names for logs, and free the WOLFSSL.  What stays per session is struct
 * tls_sess, about 2.9 KB, most of it the two AEAD contexts of the record
 * layer that takes over (tls_record.c).
 *
 * The secrets, not just the keys, because KeyUpdate (RFC 8446 4.6.3)
 * derives each next key from the secret of the last: without them a
 * session could not follow its peer's update nor keep its own keys under
 * their limits, and would have to end.  This wolfSSL build gives out
 * keys and IVs (ATOMIC_USER) but no secrets (HAVE_SECRET_CALLBACK is not
 * in Debian's build).  It does let a context derive TLS 1.3's labels
 * itself (HAVE_PK_CALLBACKS: HKDF-Expand-Label), so we do: the derivation
 * is the same wolfCrypt function wolfSSL would call, and the outputs
 * labelled "c ap traffic" and "s ap traffic" are the two secrets, kept
 * for the session whose handshake step runs on this thread.  At the
 * hand-over the keys and IVs derived from them must equal wolfSSL's, so
 * a wolfSSL that derived otherwise fails handshakes, loudly, rather than
 * letting a session run on wrong secrets.
 *
 * The mesh's MeshTLS may let TLS 1.2 in (struct tls_profile,
 * tls_ctx_new_mesh()): a session that agrees it has its peer checked as
 * any other, then keeps the WOLFSSL and wolfSSL's record layer, as an
 * origin session does; ours is TLS 1.3's.
 *
 * Where the memory goes matters as much as how much: sessions live in
 * slabs of their own (slab.h), and the heap that bursts of handshakes grow
 * is trimmed once a burst is over (heap.h), so that an agent's resident
 * size follows its idle sessions, not its busiest second.
 *
 * For the handover to be exact, wolfSSL must not read past the record that
 * completes its handshake, so that whatever follows (application data the
 * peer sent right after its Finished) is still in our queue when we take
 * over.  wolfSSL 5.5.4 asks its receive callback for exactly the bytes it
 * needs; the callback also hands it at most the rest of the current record
 * (boundaries from the 5-byte headers in our queue), so that this holds
 * whatever a wolfSSL version does, and the handover checks that no record
 * was left half-read.
 *
 * Queues the session owns (bufq.h):
 *  - in:  ciphertext the event loop received, appended by tls_feed();
 *         read by wolfSSL's receive callback during the handshake, and by
 *         the record layer (tls_record.c) after;
 *  - out: ciphertext to send, appended by wolfSSL's send callback during
 *         the handshake, which says WANT_WRITE only past TLS_OUT_HARD_MAX,
 *         and by the record layer after; drained by the loop through
 *         tls_out_pending()/tls_out_consume().
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wolfssl/options.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/openssl/x509v3.h>	/* XKU_* */

#include "crl.h"
#include "der.h"
#include "fsio.h"
#include "heap.h"
#include "log.h"
#include "slab.h"
#include "svid.h"
#include "tls-int.h"

#define TLS_CIPHERS	"TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256"

/* ---- session pool -------------------------------------------------------- */

/* What a handshake holds on the heap, counted as transient (heap.h): the
 * WOLFSSL with its session, peer certificate and handshake state. */
#define TLS_HS_HEAP	(80u * 1024)

/* Sessions outlive the bursts of handshakes that open them: off the heap
 * (slab.h). */
static struct slab_pool tls_pool = SLAB_POOL_INIT(sizeof(struct tls_sess));

/* ---- errors -------------------------------------------------------------- */

void tls_failf(struct tls_sess *s, const char *fmt, ...)
{
	va_list ap;

	s->failed = true;
	if (s->err)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s->err, fmt, ap) < 0)
		s->err = NULL;	/* tls_last_error() then says so */
	va_end(ap);
}

/* ---- wolfSSL I/O callbacks (handshake only) ------------------------------ */

/* Hands wolfSSL ciphertext, never past the end of the current record: see
 * the top of the file for why. */
/* Most of a ClientHello kept for tls_sni_pick(): a client's is well
 * under this; of a longer one the signature_algorithms may be cut off,
 * and then the first certificate goes. */
#define TLS_KEEP_HELLO	4096u

/* Keeps @n more bytes of the first record @s reads (tls_sess.hello). */
static void tls_keep_hello(struct tls_sess *s, const char *p, size_t n)
{
	size_t k;

	if (!s->hello) {
		s->hello = malloc(TLS_KEEP_HELLO);
		if (!s->hello) {
			s->hello_whole = true;	/* without: the first */
			return;
		}
	}
	k = TLS_KEEP_HELLO - s->hello_len < n ? TLS_KEEP_HELLO - s->hello_len :
						 n;
	memcpy(s->hello + s->hello_len, p, k);
	s->hello_len += k;
	if (s->rec_left == 0 || s->hello_len == TLS_KEEP_HELLO)
		s->hello_whole = true;
}

int tls_cb_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct tls_sess *s = arg;
	struct bufq_in *q = &s->in;
	size_t n = bufq_in_len(q);

	(void)ssl;
	if (sz <= 0)
		return 0;
	if (s->rec_left == 0) {
		if (n < TLS_HDR_LEN)
			return WOLFSSL_CBIO_ERR_WANT_READ;
		s->rec_left = TLS_HDR_LEN + ((size_t)bufq_in_data(q)[3] << 8 |
					     bufq_in_data(q)[4]);
	}
	if (n > s->rec_left)
		n = s->rec_left;
	if (n > (size_t)sz)
		n = (size_t)sz;
	n = bufq_in_take(q, buf, n);
	s->rec_left -= n;
	if (s->ctx->sni_alt && !s->hello_whole)
		tls_keep_hello(s, buf, n);
	return n ? (int)n : WOLFSSL_CBIO_ERR_WANT_READ;
}

int tls_cb_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct tls_sess *s = arg;

	(void)ssl;
	if (sz <= 0)
		return 0;
	if (s->out.len + (size_t)sz > TLS_OUT_HARD_MAX)
		return WOLFSSL_CBIO_ERR_WANT_WRITE;
	if (bufq_out_put(&s->out, buf, (size_t)sz) < 0)
		return WOLFSSL_CBIO_ERR_GENERAL;
	return sz;
}

/* ---- traffic secrets (handshake only) ------------------------------------ */

/* The session whose wolfSSL_connect() or wolfSSL_accept() runs on this
 * thread: the label callback below has no argument to tell it.  Set only
 * for the length of that call (tls_handshake()). */
static _Thread_local struct tls_sess *tls_hs_cur;

int tls_cb_expand_label(byte *okm, word32 okm_len, const byte *prk,
			word32 prk_len, const byte *protocol,
			word32 protocol_len, const byte *label,
			word32 label_len, const byte *info, word32 info_len,
			int digest, int side)
{
	static const char client_ap[] = "c ap traffic";
	static const char server_ap[] = "s ap traffic";
	struct tls_sess *s = tls_hs_cur;
	struct tls_dir *d = NULL;
	int ret;

	(void)side;
	ret = wc_Tls13_HKDF_Expand_Label(okm, okm_len, prk, prk_len, protocol,
					 protocol_len, label, label_len, info,
					 info_len, digest);
	if (ret != 0 || !s || okm_len != TLS_SECRET_LEN ||
	    label_len != sizeof(client_ap) - 1)
		return ret;
	if (memcmp(label, client_ap, label_len) == 0)
		d = s->ctx->role == TLS_ROLE_CLIENT ? &s->rec.wr : &s->rec.rd;
	else if (memcmp(label, server_ap, label_len) == 0)
		d = s->ctx->role == TLS_ROLE_CLIENT ? &s->rec.rd : &s->rec.wr;
	if (d)
		memcpy(d->secret, okm, TLS_SECRET_LEN);
	return 0;
}

/* ---- contexts ------------------------------------------------------------ */

int tls_global_init(void)
{
	return wolfSSL_Init() == WOLFSSL_SUCCESS ? 0 : -EIO;
}

void tls_global_fini(void)
{
	wolfSSL_Cleanup();
}

int tls_ctx_new(struct tls_ctx **out, enum tls_role role, const char *ca_file,
		const char *cert_file, const char *key_file)
{
	struct tls_trust *t;
	int ret = tls_trust_new(&t);

	if (ret)
		return ret;
	ret = tls_trust_add_file(t, "", ca_file);
	if (ret) {
		log_error("event=tls_ctx_error what=ca file=%s", ca_file);
		tls_trust_put(t);
		return -ENOENT;
	}
	ret = tls_ctx_new_trust(out, role, t, cert_file, key_file);
	tls_trust_put(t);
	return ret;
}

/* wolfSSL's number of TLS version @v (0x0301..0x0304) for
 * wolfSSL_CTX_SetMinVersion(), or -1. */
static int tls_min_version(int v)
{
	switch (v) {
	case 0x0301: return WOLFSSL_TLSV1;
	case 0x0302: return WOLFSSL_TLSV1_1;
	case 0x0303: return WOLFSSL_TLSV1_2;
	case 0x0304: return WOLFSSL_TLSV1_3;
	default: return -1;
	}
}

/* A context of @role with one reference, its settings still to make:
 * TLS 1.3 only, or with @any_version every version wolfSSL speaks (for
 * the caller to bound).  Returns 0 and *out, or -EINVAL (no such role),
 * -ENOMEM. */
static int tls_ctx_alloc(struct tls_ctx **out, enum tls_role role,
			 bool any_version)
{
	WOLFSSL_METHOD *method;
	struct tls_ctx *ctx;

	if (role == TLS_ROLE_CLIENT)
		method = any_version ? wolfSSLv23_client_method() :
				       wolfTLSv1_3_client_method();
	else if (role == TLS_ROLE_SERVER)
		method = any_version ? wolfSSLv23_server_method() :
				       wolfTLSv1_3_server_method();
	else
		return -EINVAL;
	if (!method)
		return -ENOMEM;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;	/* wolfSSL_CTX_new would have freed method */
	ctx->role = role;
	ctx->refs = 1;
	ctx->wctx = wolfSSL_CTX_new(method);	/* takes ownership of method */
	if (!ctx->wctx) {
		free(ctx);
		return -ENOMEM;
	}
	pthread_mutex_init(&ctx->held.lock, NULL);
	*out = ctx;
	return 0;
}

/* What every context does alike: no session resumption, the agent's own
 * I/O over memory. */
/* A server keeps the name its client asked for: wolfSSL stores it only
 * when a callback wants it.  Any name is fine here: a public listener is
 * picked by it, the tunnel's permissions match it, after the handshake. */
static int tls_sni_keep(WOLFSSL *ssl, int *alert, void *arg)
{
	(void)ssl;
	(void)alert;
	(void)arg;
	return 0;
}

static void tls_ctx_common(struct tls_ctx *ctx)
{
	if (ctx->role == TLS_ROLE_SERVER) {
		wolfSSL_CTX_set_servername_callback(ctx->wctx, tls_sni_keep);
		/* No resumption yet: a resumed TLS 1.3 session carries no
		 * client certificate, so the server would not learn the
		 * client's identity for authorization.  Do not spend a ticket
		 * encryption and ~250 bytes per connection on tickets nobody
		 * can use. */
		wolfSSL_CTX_no_ticket_TLSv13(ctx->wctx);
	}
	/* Nothing resumes (see above), so the session cache would only cost:
	 * wolfSSL copies every finished session, ~37 KB with this build's
	 * room for peer chains, into it. */
	wolfSSL_CTX_set_session_cache_mode(ctx->wctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_SetIORecv(ctx->wctx, tls_cb_recv);
	wolfSSL_CTX_SetIOSend(ctx->wctx, tls_cb_send);
	wolfSSL_CTX_SetHKDFExpandLabelCb(ctx->wctx, tls_cb_expand_label);
}

/* One of the contexts a public server context picks by SNI. */
struct tls_sni {
	char *pattern;			/* owned */
	struct tls_ctx *ctx;		/* a reference */
	struct tls_ctx *alt;		/* a reference, NULL: none */
	unsigned int key, alt_key;	/* TLS_SIG_* of their keys */
};

/* The TLS_SIG_* of the key of @ctx's certificate, 0: unknown. */
static unsigned int tls_ctx_key(struct tls_ctx *ctx)
{
	WOLFSSL_X509 *x = wolfSSL_CTX_get0_certificate(ctx->wctx);
	WOLFSSL_EVP_PKEY *k = x ? wolfSSL_X509_get_pubkey(x) : NULL;
	int id = k ? wolfSSL_EVP_PKEY_base_id(k) : 0;

	wolfSSL_EVP_PKEY_free(k);
	return id == EVP_PKEY_EC ? TLS_SIG_ECDSA :
	       id == EVP_PKEY_RSA ? TLS_SIG_RSA : 0;
}

/* Which of choice @c's certificates session @s presents: the first,
 * unless the client's signature_algorithms take only the other's key
 * (Envoy's rule, as Kuma's gateway presents them).  The ClientHello
 * kept for it goes. */
static struct tls_ctx *tls_sni_cert(const struct tls_sni *c,
				    struct tls_sess *s)
{
	unsigned int take = 0;

	if (s && s->hello)
		take = tls_hello_sigalgs(s->hello, s->hello_len);
	if (s) {
		free(s->hello);
		s->hello = NULL;
		s->hello_whole = true;
	}
	if (!c->alt || !take || (take & c->key) || !(take & c->alt_key))
		return c->ctx;
	return c->alt;
}

/* The servername callback of a context with SNI choices: the session
 * goes on with the context whose pattern ranks highest against the name
 * the client sent.  wolfSSL calls it once it has read the ClientHello's
 * extensions and before it picks a certificate, so switching the
 * WOLFSSL's context here changes the certificate and key it presents and
 * nothing else (wolfSSL_set_SSL_CTX(), which takes its own reference on
 * the new WOLFSSL_CTX for as long as the WOLFSSL lives).  After a
 * HelloRetryRequest the second ClientHello comes to the picked context,
 * whose callback (tls_sni_keep()) keeps it. */
static int tls_sni_pick(WOLFSSL *ssl, int *alert, void *arg)
{
	const struct tls_ctx *front = arg;
	const char *name = wolfSSL_get_servername(ssl, WOLFSSL_SNI_HOST_NAME);
	const struct tls_sni *best = NULL;
	unsigned int best_rank = 0;

	if (!name)
		name = "";
	for (size_t i = 0; i < front->n_sni; i++) {
		unsigned int r = front->sni_rank(front->sni[i].pattern, name,
						 strlen(name));

		if (r > best_rank) {
			best = &front->sni[i];
			best_rank = r;
		}
	}
	if (!best) {
		*alert = unrecognized_name;
		return fatal_return;
	}
	if (!wolfSSL_set_SSL_CTX(ssl, tls_sni_cert(best, tls_hs_cur)->wctx)) {
		*alert = internal_error;
		return fatal_return;
	}
	return 0;
}

int tls_ctx_sni_add(struct tls_ctx *front, tls_sni_rank_fn rank,
		    const char *pattern, struct tls_ctx *ctx,
		    struct tls_ctx *alt)
{
	struct tls_sni *v;
	char *copy;

	copy = strdup(pattern);
	v = realloc(front->sni, (front->n_sni + 1) * sizeof(*v));
	if (!copy || !v) {
		free(copy);
		if (v)
			front->sni = v;
		return -ENOMEM;
	}
	front->sni = v;
	v[front->n_sni].pattern = copy;
	v[front->n_sni].ctx = tls_ctx_get(ctx);
	v[front->n_sni].key = tls_ctx_key(ctx);
	v[front->n_sni].alt = alt ? tls_ctx_get(alt) : NULL;
	v[front->n_sni].alt_key = alt ? tls_ctx_key(alt) : 0;
	front->sni_alt |= alt != NULL;
	front->n_sni++;
	front->sni_rank = rank;
	wolfSSL_CTX_set_servername_callback(front->wctx, tls_sni_pick);
	wolfSSL_CTX_set_servername_arg(front->wctx, front);
	return 0;
}

int tls_hello_sni(const void *p, size_t n, char *buf, size_t size)
{
	word32 len = size > 1 ? (word32)(size - 1) : 0;
	int rc;

	if (n > UINT32_MAX || size < 2)
		return -EPROTO;
	rc = wolfSSL_SNI_GetFromBuffer(p, (word32)n, WOLFSSL_SNI_HOST_NAME,
				       (byte *)buf, &len);
	if (rc == INCOMPLETE_DATA)
		return -EAGAIN;
	if (rc == 0) {
		buf[0] = '\0';
		return 0;
	}
	/* The name is copied cut to the room: one that fills it may be
	 * longer, and a name cut short could match what it is not. */
	if (rc != WOLFSSL_SUCCESS)
		return -EPROTO;
	if (len >= size - 1)
		return -ENAMETOOLONG;
	buf[len] = '\0';
	return len == 0 || memchr(buf, '\0', len) ? -EILSEQ : 1;
}

/* Reads 2 bytes (big endian) at *@p if there are 2 before @end. */
static bool tls_get16(const uint8_t **p, const uint8_t *end, size_t *v)
{
	if (end - *p < 2)
		return false;
	*v = (size_t)(*p)[0] << 8 | (*p)[1];
	*p += 2;
	return true;
}

/* Skips a vector of @lenlen length bytes at *@p. */
static bool tls_skip_vec(const uint8_t **p, const uint8_t *end, int lenlen)
{
	size_t n;

	if (lenlen == 1) {
		if (end - *p < 1)
			return false;
		n = (*p)[0];
		*p += 1;
	} else if (!tls_get16(p, end, &n)) {
		return false;
	}
	if ((size_t)(end - *p) < n)
		return false;
	*p += n;
	return true;
}

unsigned int tls_hello_sigalgs(const void *hello, size_t n)
{
	const uint8_t *p = hello, *end = p + n, *ext_end;
	size_t len, type, list;
	unsigned int take = 0;

	/* Record header, handshake header: a ClientHello (1). */
	if (n < 9 || p[0] != 22 || p[5] != 1)
		return 0;
	p += 9;
	/* legacy_version, random, session id, suites, compression. */
	if (end - p < 34)
		return 0;
	p += 34;
	if (!tls_skip_vec(&p, end, 1) || !tls_skip_vec(&p, end, 2) ||
	    !tls_skip_vec(&p, end, 1) || !tls_get16(&p, end, &len))
		return 0;
	ext_end = (size_t)(end - p) < len ? end : p + len;
	while (tls_get16(&p, ext_end, &type) && tls_get16(&p, ext_end, &len) &&
	       (size_t)(ext_end - p) >= len) {
		const uint8_t *q = p, *qend = p + len;
		size_t alg;

		p += len;
		if (type != 13 || !tls_get16(&q, qend, &list))
			continue;
		if ((size_t)(qend - q) < list)
			return 0;
		for (qend = q + list; tls_get16(&q, qend, &alg);) {
			/* ecdsa_secp*_sha* (0x0403..), rsa_pss_* (0x0804..
			 * 0x080b), rsa_pkcs1_* (0x0401..: a certificate's
			 * own signature only, in TLS 1.3; a client listing
			 * it takes RSA keys). */
			if ((alg & 0xff) == 0x03 && alg >= 0x0403 &&
			    alg <= 0x0603)
				take |= TLS_SIG_ECDSA;
			else if ((alg >= 0x0804 && alg <= 0x080b) ||
				 ((alg & 0xff) == 0x01 && alg >= 0x0401 &&
				  alg <= 0x0601))
				take |= TLS_SIG_RSA;
		}
		return take;
	}
	return 0;
}

/* The SNI choices of @ctx go, with their references. */
static void tls_ctx_sni_free(struct tls_ctx *ctx)
{
	for (size_t i = 0; i < ctx->n_sni; i++) {
		free(ctx->sni[i].pattern);
		tls_ctx_put(ctx->sni[i].ctx);
		if (ctx->sni[i].alt)
			tls_ctx_put(ctx->sni[i].alt);
	}
	free(ctx->sni);
	ctx->sni = NULL;
	ctx->n_sni = 0;
}

/* Frees a context tls_ctx_alloc() made that no session uses yet. */
static void tls_ctx_drop(struct tls_ctx *ctx)
{
	tls_ctx_sni_free(ctx);
	wolfSSL_CTX_free(ctx->wctx);
	free(ctx->own);
	free(ctx->own_der);
	pthread_mutex_destroy(&ctx->held.lock);
	free(ctx);
}

int tls_ctx_new_trust(struct tls_ctx **out, enum tls_role role,
		      struct tls_trust *trust, const char *cert_file,
		      const char *key_file)
{
	char *crt = NULL, *key = NULL;
	size_t crt_len = 0, key_len = 0;
	int ret;

	if (fsio_read_all(cert_file, &crt, &crt_len)) {
		log_error("event=tls_ctx_error what=cert file=%s", cert_file);
		ret = -ENOENT;
		goto out;
	}
	if (fsio_read_all(key_file, &key, &key_len)) {
		log_error("event=tls_ctx_error what=key file=%s", key_file);
		ret = -ENOENT;
		goto out;
	}
	ret = tls_ctx_new_pem(out, role, trust, crt, crt_len, key, key_len);
	if (ret)
		log_error("event=tls_ctx_error cert=%s key=%s err=\"%s\"",
			  cert_file, key_file, strerror(-ret));
out:
	if (key)
		explicit_bzero(key, key_len);
	free(key);
	free(crt);
	return ret;
}

/* Most certificates a chain holds that we look at: wolfSSL keeps
 * MAX_CHAIN_DEPTH (9) of a peer's. */
#define TLS_CHAIN_MAX	16

/* Keeps the certificates of PEM chain @crt (@len bytes), ours, as DER in
 * ctx->own: wolfSSL gives no way to read them back but one that this
 * version frees wrongly (wolfSSL_CTX_get_extra_chain_certs()).  Returns 0,
 * -EINVAL (a block that does not decode, or none) or -ENOMEM. */
static int tls_ctx_own_chain(struct tls_ctx *ctx, const char *crt, size_t len)
{
	const char *p = crt, *end = crt + len;
	size_t used = 0;
	int n;

	/* DER is shorter than its PEM: @len bytes hold them all. */
	ctx->own_der = malloc(len + 1);
	ctx->own = calloc(TLS_CHAIN_MAX, sizeof(*ctx->own));
	if (!ctx->own_der || !ctx->own)
		return -ENOMEM;
	while (ctx->n_own < TLS_CHAIN_MAX &&
	       (n = tls_pem_cert_next(&p, end, ctx->own_der + used,
				      len + 1 - used)) != 0) {
		if (n < 0)
			return -EINVAL;
		ctx->own[ctx->n_own].der = ctx->own_der + used;
		ctx->own[ctx->n_own++].len = (size_t)n;
		used += (size_t)n;
	}
	return ctx->n_own ? 0 : -EINVAL;
}

int tls_ctx_new_pem(struct tls_ctx **out, enum tls_role role,
		    struct tls_trust *trust, const char *crt, size_t crt_len,
		    const char *key, size_t key_len)
{
	return tls_ctx_new_mesh(out, role, trust, crt, crt_len, key, key_len,
				NULL);
}

/* TLS 1.2's suites when a profile lets TLS 1.2 in and names none: those
 * of the mesh's ECDSA certificates, TLS 1.3's two first, as there. */
#define TLS_CIPHERS12	"ECDHE-ECDSA-AES128-GCM-SHA256:" \
			"ECDHE-ECDSA-CHACHA20-POLY1305:" \
			"ECDHE-ECDSA-AES256-GCM-SHA384"

/* Bounds @ctx (made with any_version) to @prof's versions and gives it
 * TLS 1.3's suites and then @prof's of TLS 1.2.  Returns 0 or -EINVAL. */
static int tls_ctx_profile(struct tls_ctx *ctx, const struct tls_profile *prof)
{
	int min = prof->min_version ? prof->min_version : 0x0304;
	int max = prof->max_version ? prof->max_version : 0x0304;
	char list[sizeof(TLS_CIPHERS) + 1 + sizeof(prof->ciphers12)];

	if (min < 0x0303 || min > max || max > 0x0304 ||
	    wolfSSL_CTX_SetMinVersion(ctx->wctx, tls_min_version(min)) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_max_proto_version(ctx->wctx, max) !=
	    WOLFSSL_SUCCESS)
		return -EINVAL;
	snprintf(list, sizeof(list), "%s%s%s", max == 0x0304 ? TLS_CIPHERS : "",
		 max == 0x0304 ? ":" : "",
		 prof->ciphers12[0] ? prof->ciphers12 : TLS_CIPHERS12);
	if (wolfSSL_CTX_set_cipher_list(ctx->wctx, list) != WOLFSSL_SUCCESS)
		return -EINVAL;
	if (ctx->role == TLS_ROLE_SERVER) {
		/* Our order, as written in the MeshTLS, not the client's. */
		wolfSSL_CTX_set_options(ctx->wctx,
					WOLFSSL_OP_CIPHER_SERVER_PREFERENCE);
		/* A resumed session carries no client certificate (see
		 * tls_ctx_common()): no TLS 1.2 tickets either. */
		wolfSSL_CTX_NoTicketTLSv12(ctx->wctx);
	}
	return 0;
}

static void tls_ctx_crl(struct tls_ctx *ctx, const struct tls_trust *trust);

int tls_ctx_new_mesh(struct tls_ctx **out, enum tls_role role,
		     struct tls_trust *trust, const char *crt, size_t crt_len,
		     const char *key, size_t key_len,
		     const struct tls_profile *prof)
{
	int groups[] = { WOLFSSL_ECC_X25519 };
	struct tls_ctx *ctx;
	int ret;

	/* The default, TLS 1.3 only, keeps its TLS 1.3 method. */
	if (prof && prof->min_version == 0x0304)
		prof = NULL;
	ret = tls_ctx_alloc(&ctx, role, prof != NULL);
	if (ret)
		return ret;
	ret = -EINVAL;

	if (tls_trust_load(trust, ctx->wctx)) {
		log_error("event=tls_ctx_error what=ca");
		ret = -ENOENT;
		goto err_ctx;
	}
	if (wolfSSL_CTX_use_certificate_chain_buffer(
		    ctx->wctx, (const unsigned char *)crt, (long)crt_len) !=
	    WOLFSSL_SUCCESS || tls_ctx_own_chain(ctx, crt, crt_len)) {
		log_error("event=tls_ctx_error what=cert");
		goto err_ctx;
	}
	if (wolfSSL_CTX_use_PrivateKey_buffer(ctx->wctx,
					      (const unsigned char *)key,
					      (long)key_len,
					      WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=key");
		goto err_ctx;
	}
	/* A certificate beside a key that is not its own fails here, not
	 * at the first handshake. */
	if (wolfSSL_CTX_check_private_key(ctx->wctx) != WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=key_mismatch");
		goto err_ctx;
	}
	if ((prof ? tls_ctx_profile(ctx, prof) :
	     wolfSSL_CTX_set_cipher_list(ctx->wctx, TLS_CIPHERS) !=
	     WOLFSSL_SUCCESS) ||
	    wolfSSL_CTX_set_groups(ctx->wctx, groups, 1) != WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=profile");
		ret = -EINVAL;
		goto err_ctx;
	}
	/* Both ends must present a certificate chaining to the mesh CA. */
	wolfSSL_CTX_set_verify(ctx->wctx,
			       WOLFSSL_VERIFY_PEER |
			       WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (prof && prof->min_version && prof->min_version < 0x0304)
		tls_ctx_crl(ctx, trust);
	tls_ctx_common(ctx);
	ctx->trust = tls_trust_get(trust);
	*out = ctx;
	return 0;

err_ctx:
	tls_ctx_drop(ctx);
	return ret;
}

int tls_ctx_new_public(struct tls_ctx **out, const char *pem_file)
{
	return tls_ctx_new_public_pair(out, pem_file, pem_file);
}

int tls_ctx_new_public_pair(struct tls_ctx **out, const char *cert_file,
			    const char *key_file)
{
	int groups[] = { WOLFSSL_ECC_X25519, WOLFSSL_ECC_SECP256R1 };
	struct tls_ctx *ctx;
	int ret;

	ret = tls_ctx_alloc(&ctx, TLS_ROLE_SERVER, false);
	if (ret)
		return ret;
	ret = -EINVAL;
	if (wolfSSL_CTX_use_certificate_chain_file(ctx->wctx, cert_file) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_use_PrivateKey_file(ctx->wctx, key_file,
					    WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=cert_and_key cert=%s "
			  "key=%s", cert_file, key_file);
		ret = -ENOENT;
		goto err_ctx;
	}
	if (wolfSSL_CTX_check_private_key(ctx->wctx) != WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=key_mismatch cert=%s "
			  "key=%s", cert_file, key_file);
		goto err_ctx;
	}
	if (wolfSSL_CTX_set_cipher_list(ctx->wctx, TLS_CIPHERS) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_groups(ctx->wctx, groups, 2) != WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=profile");
		goto err_ctx;
	}
	/* Clients from outside the mesh present no certificate. */
	wolfSSL_CTX_set_verify(ctx->wctx, WOLFSSL_VERIFY_NONE, NULL);
	tls_ctx_common(ctx);
	*out = ctx;
	return 0;

err_ctx:
	tls_ctx_drop(ctx);
	return ret;
}

int tls_ctx_new_origin(struct tls_ctx **out, const struct tls_origin *o)
{
	WOLFSSL_METHOD *method = wolfSSLv23_client_method();
	int min = o->min_version ? o->min_version : 0x0303;
	int max = o->max_version ? o->max_version : 0x0304;
	struct tls_ctx *ctx;
	int ret = -EINVAL;

	if (!method)
		return -ENOMEM;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;	/* wolfSSL_CTX_new would have freed method */
	ctx->role = TLS_ROLE_CLIENT;
	ctx->origin = true;
	ctx->refs = 1;
	ctx->wctx = wolfSSL_CTX_new(method);	/* takes ownership */
	if (!ctx->wctx) {
		free(ctx);
		return -ENOMEM;
	}
	/* Each connection is to a server of its own choosing, once: no
	 * resumption to keep sessions for. */
	wolfSSL_CTX_set_session_cache_mode(ctx->wctx, WOLFSSL_SESS_CACHE_OFF);
	wolfSSL_CTX_SetIORecv(ctx->wctx, tls_cb_recv);
	wolfSSL_CTX_SetIOSend(ctx->wctx, tls_cb_send);
	if (min > max || tls_min_version(min) < 0 || tls_min_version(max) < 0 ||
	    wolfSSL_CTX_SetMinVersion(ctx->wctx, tls_min_version(min)) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_max_proto_version(ctx->wctx, max) !=
	    WOLFSSL_SUCCESS)
		goto fail;
	if (o->skip_ca) {
		wolfSSL_CTX_set_verify(ctx->wctx, WOLFSSL_VERIFY_NONE, NULL);
	} else {
		wolfSSL_CTX_set_verify(ctx->wctx, WOLFSSL_VERIFY_PEER, NULL);
		if (o->ca_pem) {
			if (wolfSSL_CTX_load_verify_buffer(
				    ctx->wctx, (const unsigned char *)o->ca_pem,
				    (long)o->ca_len, WOLFSSL_FILETYPE_PEM) !=
			    WOLFSSL_SUCCESS)
				goto fail;
		} else if (wolfSSL_CTX_load_system_CA_certs(ctx->wctx) !=
			   WOLFSSL_SUCCESS) {
			ret = -ENOENT;
			goto fail;
		}
	}
	if (o->crt && o->key &&
	    (wolfSSL_CTX_use_certificate_chain_buffer(
		     ctx->wctx, (const unsigned char *)o->crt,
		     (long)o->crt_len) != WOLFSSL_SUCCESS ||
	     wolfSSL_CTX_use_PrivateKey_buffer(
		     ctx->wctx, (const unsigned char *)o->key,
		     (long)o->key_len, WOLFSSL_FILETYPE_PEM) !=
	     WOLFSSL_SUCCESS ||
	     wolfSSL_CTX_check_private_key(ctx->wctx) != WOLFSSL_SUCCESS))
		goto fail;
	*out = ctx;
	return 0;
fail:
	tls_ctx_drop(ctx);
	return ret;
}

struct tls_ctx *tls_ctx_get(struct tls_ctx *ctx)
{
	__atomic_fetch_add(&ctx->refs, 1, __ATOMIC_RELAXED);
	return ctx;
}

void tls_ctx_put(struct tls_ctx *ctx)
{
	if (!ctx || __atomic_sub_fetch(&ctx->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	tls_ctx_sni_free(ctx);
	wolfSSL_CTX_free(ctx->wctx);
	tls_trust_put(ctx->trust);
	tls_trust_put(ctx->held.trust);
	free(ctx->own);
	free(ctx->own_der);
	pthread_mutex_destroy(&ctx->held.lock);
	free(ctx);
}

/* ---- identities ---------------------------------------------------------- */

int tls_ctx_spiffe(struct tls_ctx *ctx, char *buf, size_t n)
{
	WOLFSSL_X509 *x;
	const unsigned char *der;
	int len = 0;

	/* The X509 is owned and cached by the WOLFSSL_CTX. */
	x = wolfSSL_CTX_get0_certificate(ctx->wctx);
	if (!x)
		return -ENOENT;
	der = wolfSSL_X509_get_der(x, &len);
	if (!der || len <= 0)
		return -ENOENT;
	return der_cert_spiffe(der, (size_t)len, buf, n);
}

int tls_ctx_svid_rule(struct tls_ctx *ctx)
{
	WOLFSSL_X509 *x = wolfSSL_CTX_get0_certificate(ctx->wctx);
	struct svid_cert v = { NULL, 0 };
	int len = 0;

	if (x)
		v.der = wolfSSL_X509_get_der(x, &len);
	v.len = v.der && len > 0 ? (size_t)len : 0;
	return svid_check(&v, 1, ctx->role == TLS_ROLE_CLIENT ? SVID_CLIENT :
							       SVID_SERVER,
			  time(NULL), NULL);
}

/* An ASN1 time of wolfSSL's as seconds since the epoch. */
static int tls_asn1_time(const WOLFSSL_ASN1_TIME *at, int64_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (!at || wolfSSL_ASN1_TIME_to_tm(at, &tm) != WOLFSSL_SUCCESS)
		return -EINVAL;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int tls_ctx_validity(struct tls_ctx *ctx, int64_t *not_before,
		     int64_t *not_after)
{
	/* The X509 is owned and cached by the WOLFSSL_CTX. */
	WOLFSSL_X509 *x = wolfSSL_CTX_get0_certificate(ctx->wctx);

	if (!x)
		return -ENOENT;
	if (tls_asn1_time(wolfSSL_X509_get_notBefore(x), not_before) ||
	    tls_asn1_time(wolfSSL_X509_get_notAfter(x), not_after))
		return -EINVAL;
	return 0;
}

/* ---- sessions ------------------------------------------------------------ */

int tls_sess_new(struct tls_sess **out, struct tls_ctx *ctx)
{
	struct tls_sess *s;

	s = slab_get(&tls_pool);
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->peer_rc = -ENOTCONN;
	s->ssl = wolfSSL_new(ctx->wctx);
	if (!s->ssl) {
		slab_put(&tls_pool, s);
		return -ENOMEM;
	}
	tls_ctx_get(ctx);
	heap_grow(TLS_HS_HEAP);
	wolfSSL_SetIOReadCtx(s->ssl, s);
	wolfSSL_SetIOWriteCtx(s->ssl, s);
	if (ctx->role == TLS_ROLE_CLIENT &&
	    wolfSSL_UseKeyShare(s->ssl, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS) {
		/* Without it the first flight could carry a share for a group
		 * the server refuses, costing a HelloRetryRequest. */
		wolfSSL_free(s->ssl);
		heap_shrink(TLS_HS_HEAP);
		slab_put(&tls_pool, s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

int tls_sess_new_origin(struct tls_sess **out, struct tls_ctx *ctx,
			const char *sni, const struct tls_name *names,
			size_t n)
{
	struct tls_sess *s;
	size_t len = 0, off = 0;
	int err;

	if (!ctx->origin)
		return -EINVAL;
	err = tls_sess_new(&s, ctx);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		len += 2 + strlen(names[i].value);
	if (len) {
		s->names = malloc(len);
		if (!s->names) {
			tls_sess_free(s);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++) {
			size_t l = strlen(names[i].value) + 1;

			s->names[off++] = (char)names[i].type;
			memcpy(s->names + off, names[i].value, l);
			off += l;
		}
		s->names_len = len;
	}
	err = tls_sess_use_sni(s, sni);
	if (err) {
		tls_sess_free(s);
		return err;
	}
	*out = s;
	return 0;
}

int tls_sess_use_sni(struct tls_sess *s, const char *sni)
{
	if (!sni || !sni[0])
		return 0;
	if (!s->ssl || s->ctx->role != TLS_ROLE_CLIENT ||
	    strlen(sni) > UINT16_MAX)
		return -EINVAL;
	return wolfSSL_UseSNI(s->ssl, WOLFSSL_SNI_HOST_NAME, sni,
			      (unsigned short)strlen(sni)) == WOLFSSL_SUCCESS ?
	       0 : -ENOMEM;
}

void tls_sess_free(struct tls_sess *s)
{
	if (!s)
		return;
	if (s->ssl) {
		wolfSSL_free(s->ssl);
		heap_shrink(TLS_HS_HEAP);
	}
	tls_rec_free(&s->rec, s->keys);
	/* Plaintext not read out yet (tls_record.c wipes what is). */
	if (s->plain_left)
		explicit_bzero(bufq_in_data(&s->in), s->plain_left);
	bufq_in_free(&s->in);
	bufq_out_free(&s->out);
	free(s->err);
	free(s->names);
	free(s->sni);
	free(s->hello);
	tls_ctx_put(s->ctx);
	slab_put(&tls_pool, s);
}

int tls_feed(struct tls_sess *s, const void *cipher, size_t n)
{
	return bufq_in_put(&s->in, cipher, n, TLS_IN_MAX);
}

size_t tls_in_space(const struct tls_sess *s)
{
	return TLS_IN_MAX - bufq_in_len(&s->in);
}

size_t tls_out_pending(struct tls_sess *s, const void **p)
{
	return bufq_out_peek(&s->out, p);
}

void tls_out_consume(struct tls_sess *s, size_t n)
{
	bufq_out_consume(&s->out, n);
}

static bool tls_err_is_cert(int err)
{
	switch (err) {
	case ASN_NO_SIGNER_E:
	case ASN_AFTER_DATE_E:
	case ASN_BEFORE_DATE_E:
	case ASN_SIG_CONFIRM_E:
	case ASN_SELF_SIGNED_E:
	case ASN_PATHLEN_INV_E:
	case ASN_PATHLEN_SIZE_E:
	case NO_PEER_CERT:
	case VERIFY_CERT_ERROR:
	case VERIFY_SIGN_ERROR:
	case KEYUSE_SIGNATURE_E:
	case KEYUSE_ENCIPHER_E:
	case EXTKEYUSE_AUTH_E:
	case ASN_CRIT_EXT_E:
		return true;
	default:
		return false;
	}
}

/* The certificates of @chain (a peer's, leaf first) into @v, at most
 * TLS_CHAIN_MAX.  Returns how many. */
static size_t tls_chain_certs(WOLFSSL_X509_CHAIN *chain, struct svid_cert *v)
{
	int n = chain ? wolfSSL_get_chain_count(chain) : 0;

	if (n <= 0)
		return 0;
	if (n > TLS_CHAIN_MAX)
		n = TLS_CHAIN_MAX;
	for (int i = 0; i < n; i++) {
		int len = wolfSSL_get_chain_length(chain, i);

		v[i].der = wolfSSL_get_chain_cert(chain, i);
		v[i].len = v[i].der && len > 0 ? (size_t)len : 0;
	}
	return (size_t)n;
}

/* The roles a peer of @ctx is held to: a client's when we serve, a
 * server's when we dial. */
static unsigned int tls_peer_roles(const struct tls_ctx *ctx)
{
	return ctx->role == TLS_ROLE_CLIENT ? SVID_SERVER : SVID_CLIENT;
}

/*
 * Holds a peer's chain @v (@n certificates, leaf first) to the X.509-SVID
 * rules, its leaf in @roles, at @now.  Returns SVID_OK, or the rule
 * broken, and then why in @buf (@len bytes), followed by "; @why" when
 * @why.  No chain is no rule broken: there is nothing to check, and a
 * peer without a certificate is refused for that.
 */
static enum svid_rule tls_svid_why(const struct svid_cert *v, size_t n,
				   unsigned int roles, time_t now,
				   const char *why, char *buf, size_t len)
{
	enum svid_rule r;
	size_t at;

	if (!n)
		return SVID_OK;
	r = svid_check(v, n, roles, now, &at);
	if (r == SVID_OK)
		return r;
	if (at)
		snprintf(buf, len, "the peer's certificate %zu (of the chain it "
			 "sent, 0: its own) breaks X.509-SVID rule %s: %s%s%s",
			 at, svid_rule_name(r), svid_rule_text(r),
			 why ? "; " : "", why ? why : "");
	else
		snprintf(buf, len, "the peer's certificate breaks X.509-SVID "
			 "rule %s: %s%s%s", svid_rule_name(r),
			 svid_rule_text(r), why ? "; " : "", why ? why : "");
	return r;
}

/*
 * Holds the chain the peer sent on @ssl (kept as it arrived, before
 * wolfSSL verified it) to the X.509-SVID rules, its leaf as the peer's
 * role needs (tls_peer_roles()).  Returns SVID_OK, or the rule broken,
 * recorded in s->svid_rule and as the session's failure reason after
 * "@what: ", with "; @why" when @why.
 */
static enum svid_rule tls_peer_svid(struct tls_sess *s, WOLFSSL *ssl,
				    const char *what, const char *why)
{
	struct svid_cert v[TLS_CHAIN_MAX];
	size_t n = tls_chain_certs(wolfSSL_get_peer_chain(ssl), v);
	char buf[TLS_HELD_WHY];
	enum svid_rule r;

	r = tls_svid_why(v, n, tls_peer_roles(s->ctx), time(NULL), why, buf,
			 sizeof(buf));
	if (r == SVID_OK)
		return r;
	s->svid_rule = (unsigned char)r;
	tls_failf(s, "%s: %s", what, buf);
	return r;
}

/*
 * During the handshake: maps the result of a wolfSSL call that returned
 * @ret to -errno, and records why.  @what names the operation.  A
 * certificate wolfSSL refused is held to the X.509-SVID rules too, so
 * that the reason names the rule it breaks where it breaks one (wolfSSL
 * checks some of them itself: keyUsage, extendedKeyUsage, dates, path
 * length).
 */
static int tls_fail(struct tls_sess *s, int ret, const char *what)
{
	int err = wolfSSL_get_error(s->ssl, ret);
	WOLFSSL_ALERT_HISTORY ah;
	char msg[WOLFSSL_MAX_ERROR_SZ], wmsg[WOLFSSL_MAX_ERROR_SZ + 32];

	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	/* The verify callback said why (tls_verify_crl()). */
	if (s->revoked)
		return -EKEYREVOKED;
	wolfSSL_ERR_error_string_n(err, msg, sizeof(msg));
	if (tls_err_is_cert(err)) {
		snprintf(wmsg, sizeof(wmsg), "wolfSSL: %s (%d)", msg, err);
		if (tls_peer_svid(s, s->ssl, what, wmsg) != SVID_OK)
			return -EACCES;
	}
	memset(&ah, 0, sizeof(ah));
	wolfSSL_get_alert_history(s->ssl, &ah);
	if (ah.last_rx.code > 0 && ah.last_rx.level == alert_fatal) {
		const char *desc = wolfSSL_alert_desc_string_long(ah.last_rx.code);

		tls_failf(s, "%s: %s (%d); peer alert: %s (%d)", what, msg,
			  err, desc ? desc : "?", ah.last_rx.code);
	} else {
		tls_failf(s, "%s: %s (%d)", what, msg, err);
	}
	if (tls_err_is_cert(err))
		return -EACCES;
	if (err == WOLFSSL_ERROR_ZERO_RETURN || err == ZERO_RETURN ||
	    err == SOCKET_PEER_CLOSED_E)
		return -ECONNRESET;
	return -EPROTO;
}

/* ---- hand-over ----------------------------------------------------------- */

/*
 * The record layer of @s from wolfSSL's @ssl, whose handshake just
 * completed: the suite checked to be one we run, the traffic secrets kept
 * during the handshake checked against wolfSSL's keys, and the sequence
 * numbers where wolfSSL left them (see the top of the file).  @ssl is
 * s->ssl, or in tests a session of the same handshake that goes on with
 * wolfSSL's own record layer.  Returns 0, or -EPROTO (reason recorded)
 * when the session is not in a state we can take over, -EIO.
 */
static int tls_handoff_keys(struct tls_sess *s, WOLFSSL *ssl)
{
	const unsigned char *rkey, *riv, *wkey, *wiv;
	int cipher, klen, ret;
	word64 rseq = 0, wseq = 0;
	bool client = s->ctx->role == TLS_ROLE_CLIENT;

	cipher = wolfSSL_GetBulkCipher(ssl);
	klen = wolfSSL_GetKeySize(ssl);
	if (wolfSSL_version(ssl) != TLS1_3_VERSION ||
	    wolfSSL_GetCipherType(ssl) != WOLFSSL_AEAD_TYPE ||
	    wolfSSL_GetAeadMacSize(ssl) != (int)TLS_TAG_LEN ||
	    wolfSSL_GetIVSize(ssl) != (int)TLS_NONCE_LEN ||
	    !((cipher == wolfssl_aes_gcm &&
	       (klen == 16 || klen == 24 || klen == 32)) ||
	      (cipher == wolfssl_chacha &&
	       klen == CHACHA20_POLY1305_AEAD_KEYSIZE)) ||
	    wolfSSL_GetSide(ssl) !=
		(client ? WOLFSSL_CLIENT_END : WOLFSSL_SERVER_END)) {
		tls_failf(s, "handshake: cannot take over the record layer "
			  "(version %s, cipher %s)", wolfSSL_get_version(ssl),
			  wolfSSL_get_cipher_name(ssl));
		return -EPROTO;
	}
	/* wolfSSL must hold nothing of the stream: no decrypted data, no
	 * part of a record. */
	if (wolfSSL_has_pending(ssl) || s->rec_left != 0) {
		tls_failf(s, "handshake: data inside wolfSSL at the end of "
			  "the handshake");
		return -EPROTO;
	}
	wolfSSL_GetSequenceNumber(ssl, &wseq);
	wolfSSL_GetPeerSequenceNumber(ssl, &rseq);
	if (client) {
		wkey = wolfSSL_GetClientWriteKey(ssl);
		wiv = wolfSSL_GetClientWriteIV(ssl);
		rkey = wolfSSL_GetServerWriteKey(ssl);
		riv = wolfSSL_GetServerWriteIV(ssl);
	} else {
		wkey = wolfSSL_GetServerWriteKey(ssl);
		wiv = wolfSSL_GetServerWriteIV(ssl);
		rkey = wolfSSL_GetClientWriteKey(ssl);
		riv = wolfSSL_GetClientWriteIV(ssl);
	}
	if (!wkey || !wiv || !rkey || !riv) {
		tls_failf(s, "handshake: no traffic keys");
		return -EPROTO;
	}
	/* wolfSSL's keys check the secrets we kept (top of the file). */
	ret = tls_rec_keys(&s->rec, cipher, klen, rkey, riv, rseq, wkey, wiv,
			   wseq);
	if (ret == -EPROTO) {
		tls_failf(s, "handshake: the traffic secrets seen do not give "
			  "wolfSSL's keys");
		return -EPROTO;
	}
	if (ret < 0) {
		tls_failf(s, "handshake: cannot set up the traffic keys");
		return -EIO;
	}
	s->keys = true;
	return 0;
}

/* Leaf @leaf of a peer whose SPIFFE ID is @id (NULL: none) against
 * @t's revocation list: the same refusal on either end of a tunnel.
 * Returns true, with the serial, identity and the list's reason in @buf
 * (@len bytes), when it is revoked. */
static bool tls_revoked_why(const struct tls_trust *t,
			    const struct svid_cert *leaf, const char *id,
			    char *buf, size_t len)
{
	const struct crl_entry *r;
	char hex[2 * CRL_SERIAL_MAX + 1], when[32];
	struct tm tm;
	time_t at;

	r = t && leaf->der && leaf->len ?
	    crl_find(tls_trust_crl(t), leaf->der, leaf->len) : NULL;
	if (!r)
		return false;
	der_serial_hex(r->serial, r->len, hex, sizeof(hex));
	at = (time_t)r->when;
	gmtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(buf, len, "the peer's certificate (serial %s, %s) is "
		 "revoked: %s since %s", hex, id ? id : "no SPIFFE ID",
		 r->reason >= 0 ? der_crl_reason_name(r->reason) :
		 "no reason given", when);
	return true;
}

/* The peer's leaf of @v (@n) against the trust's revocation list, once
 * the keys are taken over (tls_handoff()).  Returns 0, or -EKEYREVOKED
 * with the reason recorded and a certificate_revoked alert queued for the
 * peer (sent before the close, conn.c): it learns why, as a peer
 * refused for another certificate problem does from wolfSSL. */
static int tls_check_revoked(struct tls_sess *s, const struct svid_cert *v,
			     size_t n)
{
	char buf[TLS_HELD_WHY];

	if (!n || !tls_revoked_why(s->ctx->trust, &v[0],
				   s->peer_rc == 0 ? s->peer_id : NULL, buf,
				   sizeof(buf)))
		return 0;
	/* A TLS 1.2 session keeps wolfSSL's record layer, which has no way
	 * to send an alert of ours: its peer sees the connection close. */
	if (s->keys)
		(void)tls_rec_alert(s, TLS_AD_CERTIFICATE_REVOKED);
	tls_failf(s, "handshake: %s", buf);
	return -EKEYREVOKED;
}

/*
 * A session that agrees TLS 1.2 keeps wolfSSL's record layer, which has no
 * way to send an alert of ours once the handshake is over
 * (tls_check_revoked()).  So a context that may agree it has wolfSSL check
 * the peer's leaf against the CA's list itself, in the handshake, and
 * refuse a listed one with a certificate_revoked alert, as
 * tls_check_revoked() does at TLS 1.3.  What wolfSSL cannot judge comes
 * back as "no list" (CRL_MISSING): a leaf of another issuer (a MeshTrust's
 * CA), a list past its nextUpdate (whose certificates stay refused here,
 * certs.c), and is let through to tls_check_revoked(), which judges every
 * session after the handshake anyway.
 */
static int tls_verify_crl(int ok, WOLFSSL_X509_STORE_CTX *st)
{
	int err = wolfSSL_X509_STORE_CTX_get_error(st);
	struct tls_sess *s = tls_hs_cur;
	struct svid_cert leaf = { 0 };
	char why[TLS_HELD_WHY], id[MF_SPIFFE_MAX];
	WOLFSSL_X509 *x;
	int len = 0;

	if (ok || wolfSSL_X509_STORE_CTX_get_error_depth(st) != 0)
		return ok;
	if (err == CRL_MISSING)
		return 1;
	if (err != CRL_CERT_REVOKED || !s)
		return ok;
	x = wolfSSL_X509_STORE_CTX_get_current_cert(st);
	leaf.der = x ? wolfSSL_X509_get_der(x, &len) : NULL;
	leaf.len = len > 0 ? (size_t)len : 0;
	if (tls_revoked_why(s->ctx->trust, &leaf,
			    leaf.der && !der_cert_spiffe(leaf.der, leaf.len, id,
							 sizeof(id)) ?
			    id : NULL, why, sizeof(why)))
		tls_failf(s, "handshake: %s", why);
	else
		tls_failf(s, "handshake: the peer's certificate is revoked");
	s->revoked = true;
	return 0;
}

/* The CA's list of @trust into @ctx's wolfSSL, for tls_verify_crl().  A
 * list wolfSSL does not take is left to tls_check_revoked() alone. */
static void tls_ctx_crl(struct tls_ctx *ctx, const struct tls_trust *trust)
{
	const struct crl *l = tls_trust_crl(trust);
	const uint8_t *der;
	size_t len;

	if (!l)
		return;
	der = crl_der(l, &len);
	if (wolfSSL_CTX_EnableCRL(ctx->wctx, 0) != WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_LoadCRLBuffer(ctx->wctx, der, (long)len,
				      WOLFSSL_FILETYPE_ASN1) !=
	    WOLFSSL_SUCCESS) {
		(void)wolfSSL_CTX_DisableCRL(ctx->wctx);
		log_warn("event=tls_ctx_crl_not_loaded effect=\"a revoked "
			 "TLS 1.2 peer is refused after its handshake, with "
			 "no alert\"");
		return;
	}
	wolfSSL_CTX_set_verify(ctx->wctx,
			       WOLFSSL_VERIFY_PEER |
			       WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			       tls_verify_crl);
}

/*
 * The handshake of @s just completed: takes the record layer over from
 * wolfSSL (see the top of the file) and frees the WOLFSSL, or, when the
 * profile let TLS 1.2 in and it was agreed, checks the peer alike and
 * keeps wolfSSL's record layer (our own is TLS 1.3's).  Returns 0, or
 * -EPROTO (reason recorded) when the session is not in a state we can take
 * over, -EACCES (the peer's chain is not of its trust domain), -EIO.
 */
static int tls_handoff(struct tls_sess *s)
{
	WOLFSSL *ssl = s->ssl;
	struct svid_cert v[TLS_CHAIN_MAX];
	size_t n;
	int ret;
	bool client = s->ctx->role == TLS_ROLE_CLIENT;
	/* Only a context whose profile lets TLS 1.2 in can agree it.  This
	 * wolfSSL has no renegotiation (HAVE_SECURE_RENEGOTIATION is not in
	 * its build), so the peer checked here stays the session's peer. */
	bool keep = wolfSSL_version(ssl) == TLS1_2_VERSION;

	ret = keep ? 0 : tls_handoff_keys(s, ssl);
	if (ret < 0)
		return ret;
	/* wolfSSL verified the chain; the profile is ours to check. */
	if (s->ctx->trust && tls_peer_svid(s, ssl, "handshake", NULL) != SVID_OK)
		return -EACCES;

	/* The identity, from the leaf wolfSSL verified. */
	n = tls_chain_certs(wolfSSL_get_peer_chain(ssl), v);
	s->peer_rc = n && v[0].len ?
		der_cert_spiffe(v[0].der, v[0].len, s->peer_id,
				sizeof(s->peer_id)) : -ENOENT;
	/* wolfSSL verified the chain to one of the trust's CAs; it must be
	 * one of the peer's own trust domain.  (Only tests make contexts
	 * without a trust.) */
	if (s->peer_rc == 0 && s->ctx->trust) {
		char why[MF_SPIFFE_MAX + 96];
		const char *bad = tls_trust_verify(s->ctx->trust, s->peer_id,
						   v, n, why, sizeof(why));

		if (bad) {
			tls_failf(s, "handshake: %s", bad);
			return -EACCES;
		}
	}
	ret = tls_check_revoked(s, v, n);
	if (ret < 0)
		return ret;
	if (!client) {
		void *name = NULL;
		unsigned short nlen = wolfSSL_SNI_GetRequest(
			ssl, WOLFSSL_SNI_HOST_NAME, &name);

		if (nlen > 0 && name)
			s->sni = strndup(name, nlen);
	}
	s->version_name = wolfSSL_get_version(ssl);
	s->cipher_name = wolfSSL_get_cipher_name(ssl);
	s->group_name = wolfSSL_get_curve_name(ssl);
	if (keep)
		return 0;

	wolfSSL_free(ssl);	/* zeroes its copies of the keys */
	s->ssl = NULL;
	heap_shrink(TLS_HS_HEAP);
	return 0;
}

/* ---- a held certificate judged as a peer's ------------------------------ */

/* The times around @now at which a verdict on chain @v (@n) may change:
 * *from the last notBefore or end of a notAfter at or before @now,
 * *until the first after it.  A date that does not read moves neither:
 * the chain is refused as it stands whatever the time. */
static void tls_chain_window(const struct svid_cert *v, size_t n, time_t now,
			     int64_t *from, int64_t *until)
{
	*from = INT64_MIN;
	*until = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		struct der_cert c;
		struct der_rd val;
		time_t t[2];

		if (!v[i].der || der_cert_parse(v[i].der, v[i].len, &c))
			continue;
		val = c.validity;
		if (der_time_read(&val, &t[0]) || der_time_read(&val, &t[1]))
			continue;
		/* Valid for notBefore <= now <= notAfter: the verdict
		 * changes at notBefore and one second past notAfter. */
		t[1]++;
		for (int j = 0; j < 2; j++) {
			if (t[j] <= now && t[j] > *from)
				*from = t[j];
			if (t[j] > now && t[j] < *until)
				*until = t[j];
		}
	}
}

/* What wolfSSL's handshake asks of a peer's leaf @leaf beyond the
 * verification its certificate manager does: an extendedKeyUsage, when
 * there is one, that allows the peer's role in @roles (or any purpose),
 * read by wolfSSL as the handshake reads it.  Returns 0 or wolfSSL's
 * error (EXTKEYUSE_AUTH_E). */
static int tls_leaf_eku(const struct svid_cert *leaf, unsigned int roles)
{
	unsigned int want = roles & SVID_CLIENT ? XKU_SSL_CLIENT :
						  XKU_SSL_SERVER;
	WOLFSSL_X509 *x;
	int ret = 0;

	if (!leaf->der || !leaf->len || leaf->len > INT_MAX)
		return ASN_PARSE_E;
	x = wolfSSL_X509_d2i(NULL, leaf->der, (int)leaf->len);
	if (!x)
		return ASN_PARSE_E;
	if (wolfSSL_X509_get_ext_by_NID(x, NID_ext_key_usage, -1) >= 0 &&
	    !(wolfSSL_X509_get_extended_key_usage(x) & (want | XKU_ANYEKU)))
		ret = EXTKEYUSE_AUTH_E;
	wolfSSL_X509_free(x);
	return ret;
}

/*
 * Judges chain @v (@n) as @judge's handshake and tls_handoff() judge a
 * peer's, in their order: wolfSSL's verification to any CA of the trust
 * and its extendedKeyUsage check (a certificate error named by the
 * X.509-SVID rule it breaks where it breaks one, as tls_fail() names it),
 * the rules, the CAs of the leaf's
 * own trust domain, the revocation list.  Returns 0, -EACCES or
 * -EKEYREVOKED, with the reason tls_last_error() would give after
 * "handshake: " in @why (TLS_HELD_WHY bytes) and the rule in *rule.
 */
static int tls_held_judge(const struct tls_ctx *judge,
			  const struct svid_cert *v, size_t n, time_t now,
			  char *why, unsigned char *rule)
{
	unsigned int roles = tls_peer_roles(judge);
	char msg[WOLFSSL_MAX_ERROR_SZ], wmsg[WOLFSSL_MAX_ERROR_SZ + 32];
	char id[MF_SPIFFE_MAX], buf[MF_SPIFFE_MAX + 96];
	const char *bad;
	enum svid_rule r;
	int err;

	*rule = SVID_OK;
	err = tls_trust_chain(judge->trust, v, n);
	if (!err)
		err = tls_leaf_eku(&v[0], roles);
	if (err) {
		wolfSSL_ERR_error_string_n(err, msg, sizeof(msg));
		snprintf(wmsg, sizeof(wmsg), "wolfSSL: %s (%d)", msg, err);
		r = tls_err_is_cert(err) ?
		    tls_svid_why(v, n, roles, now, wmsg, why, TLS_HELD_WHY) :
		    SVID_OK;
		*rule = (unsigned char)r;
		if (r == SVID_OK)
			snprintf(why, TLS_HELD_WHY, "%s (%d)", msg, err);
		return -EACCES;
	}
	r = tls_svid_why(v, n, roles, now, NULL, why, TLS_HELD_WHY);
	if (r != SVID_OK) {
		*rule = (unsigned char)r;
		return -EACCES;
	}
	err = der_cert_spiffe(v[0].der, v[0].len, id, sizeof(id));
	if (err) {
		snprintf(why, TLS_HELD_WHY, "peer has no usable SPIFFE ID: %s",
			 strerror(-err));
		return -EACCES;
	}
	bad = tls_trust_verify(judge->trust, id, v, n, buf, sizeof(buf));
	if (bad) {
		snprintf(why, TLS_HELD_WHY, "%s", bad);
		return -EACCES;
	}
	if (tls_revoked_why(judge->trust, &v[0], id, why, TLS_HELD_WHY))
		return -EKEYREVOKED;
	return 0;
}

int tls_ctx_check_held(struct tls_ctx *judge, struct tls_ctx *held,
		       char *why, size_t n, int *rule)
{
	struct tls_held *h = &held->held;
	time_t now = time(NULL);
	int rc;

	if (!judge->trust || !held->n_own)
		return -EINVAL;
	pthread_mutex_lock(&h->lock);
	if (h->trust != judge->trust || now < h->from || now >= h->until) {
		/* A signature check or more: once per held certificate,
		 * judge's trust and stretch of its dates. */
		h->rc = tls_held_judge(judge, held->own, held->n_own, now,
				       h->why, &h->rule);
		tls_chain_window(held->own, held->n_own, now, &h->from,
				 &h->until);
		if (h->trust != judge->trust) {
			tls_trust_put(h->trust);
			h->trust = tls_trust_get(judge->trust);
		}
	}
	rc = h->rc;
	*rule = h->rule;
	if (rc)
		snprintf(why, n, "%s", h->why);
	pthread_mutex_unlock(&h->lock);
	return rc;
}

/* ---- wolfSSL's record layer throughout: origin sessions, and mesh
 * sessions that agreed TLS 1.2 (tls_handoff()) ---------------------------- */

/* Whether the certificate @x has the name @type, @name (tls.h). */
static bool tls_origin_has(WOLFSSL_X509 *x, enum tls_name_type type,
			   const char *name)
{
	size_t len = strlen(name);
	char *alt;

	switch (type) {
	case TLS_NAME_EXACT:
		return wolfSSL_X509_check_host(x, name, len, 0, NULL) ==
		       WOLFSSL_SUCCESS;
	case TLS_NAME_IP:
		return wolfSSL_X509_check_ip_asc(x, name, 0) ==
		       WOLFSSL_SUCCESS;
	case TLS_NAME_PREFIX:
		/* The iterator walks the DNS SANs of @x once. */
		while ((alt = wolfSSL_X509_get_next_altname(x)))
			if (!strncmp(alt, name, len))
				return true;
		return false;
	}
	return false;
}

/* The handshake of origin session @s succeeded: the server's certificate
 * must have one of the names asked for; wolfSSL keeps the session.
 * Returns 0 or -EACCES (reason recorded). */
static int tls_origin_done(struct tls_sess *s)
{
	WOLFSSL_X509 *x;
	bool ok = !s->names;

	if (s->names) {
		x = wolfSSL_get_peer_certificate(s->ssl);
		for (size_t off = 0; x && !ok && off < s->names_len;) {
			const char *name = s->names + off + 1;

			ok = tls_origin_has(x, (enum tls_name_type)
					    s->names[off], name);
			off += 2 + strlen(name);
		}
		wolfSSL_X509_free(x);
		if (!ok) {
			tls_failf(s, "handshake: the server's certificate "
				  "has none of the names asked for (first: "
				  "%s)", s->names + 1);
			return -EACCES;
		}
	}
	s->hs_done = true;
	return 0;
}

/* tls_read() of a session on wolfSSL's record layer. */
static ssize_t tls_wolf_read(struct tls_sess *s, void *buf, size_t n)
{
	int ret, err;

	ret = wolfSSL_read(s->ssl, buf, n > INT_MAX ? INT_MAX : (int)n);
	if (ret > 0)
		return ret;
	err = wolfSSL_get_error(s->ssl, ret);
	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	if (err == WOLFSSL_ERROR_ZERO_RETURN) {
		s->peer_closed = true;
		return 0;
	}
	return tls_fail(s, ret, "read");
}

/* tls_write() of a session on wolfSSL's record layer: records of at
 * most 16 KiB while the output queue is under its soft bound, so wolfSSL
 * never meets a full queue (which it would have us call again with the
 * same bytes). */
static ssize_t tls_wolf_write(struct tls_sess *s, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t done = 0;
	int ret;

	while (done < n && s->out.len < TLS_OUT_SOFT_MAX) {
		size_t k = n - done < 16384 ? n - done : 16384;

		ret = wolfSSL_write(s->ssl, p + done, (int)k);
		if (ret <= 0)
			return done ? (ssize_t)done : tls_fail(s, ret, "write");
		done += (size_t)ret;
	}
	return done ? (ssize_t)done : -EAGAIN;
}

int tls_handshake(struct tls_sess *s)
{
	int ret;

	if (s->hs_done)
		return 0;
	if (s->failed)
		return -EPROTO;
	tls_hs_cur = s;		/* for tls_cb_expand_label() */
	if (s->ctx->role == TLS_ROLE_CLIENT)
		ret = wolfSSL_connect(s->ssl);
	else
		ret = wolfSSL_accept(s->ssl);
	tls_hs_cur = NULL;
	if (ret != WOLFSSL_SUCCESS)
		return tls_fail(s, ret, "handshake");
	if (s->ctx->origin)
		return tls_origin_done(s);
	ret = tls_handoff(s);
	if (ret < 0)
		return ret;
	s->hs_done = true;
	return 0;
}

ssize_t tls_read(struct tls_sess *s, void *buf, size_t n)
{
	if (s->peer_closed)
		return 0;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->failed)
		return -EPROTO;
	return s->ssl ? tls_wolf_read(s, buf, n) : tls_rec_read(s, buf, n);
}

ssize_t tls_write(struct tls_sess *s, const void *buf, size_t n)
{
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->sent_close)
		return -EPIPE;
	if (s->failed)
		return -EPROTO;
	return s->ssl ? tls_wolf_write(s, buf, n) :
			tls_rec_write(s, buf, n);
}

int tls_close_notify(struct tls_sess *s)
{
	if (s->sent_close)
		return 0;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->failed)
		return -EPROTO;
	if (s->ssl) {
		/* Sends close_notify; the peer's comes as a read's 0. */
		wolfSSL_shutdown(s->ssl);
		s->sent_close = true;
		return 0;
	}
	return tls_rec_close(s);
}

int tls_peer_spiffe(struct tls_sess *s, char *buf, size_t n)
{
	size_t len;

	if (s->peer_rc < 0)
		return s->peer_rc;
	len = strlen(s->peer_id);
	if (len >= n)
		return -ENAMETOOLONG;
	memcpy(buf, s->peer_id, len + 1);
	return 0;
}

int tls_peer_svid_rule(const struct tls_sess *s)
{
	return s->svid_rule;
}

bool tls_eof_is_end(const struct tls_sess *s)
{
	return s->ctx->origin && s->hs_done && !s->failed;
}

const char *tls_sni(const struct tls_sess *s)
{
	return s->sni;
}

const char *tls_last_error(struct tls_sess *s)
{
	if (s->err)
		return s->err;
	return s->failed ? "failed (no memory for the reason)" : "no error";
}

const char *tls_version_name(struct tls_sess *s)
{
	const char *v = s->ssl ? wolfSSL_get_version(s->ssl) :
		s->version_name;

	return v ? v : "none";
}

const char *tls_cipher_name(struct tls_sess *s)
{
	const char *c = s->ssl ? wolfSSL_get_cipher_name(s->ssl) :
		s->cipher_name;

	return c ? c : "none";
}

const char *tls_group_name(struct tls_sess *s)
{
	const char *g = s->ssl ? wolfSSL_get_curve_name(s->ssl) :
		s->group_name;

	return g ? g : "none";
}

/* ---- what a handshake agreed ------------------------------------------- */

static const struct {
	const char *version, *cipher;
} tls_suites[TLS_SUITE_MAX] = {
	[TLS_SUITE_OTHER] = { "other", "other" },
	[TLS_SUITE_13_AES128_GCM] = { "TLSv1.3", "TLS13-AES128-GCM-SHA256" },
	[TLS_SUITE_13_CHACHA20] = { "TLSv1.3",
				    "TLS13-CHACHA20-POLY1305-SHA256" },
	[TLS_SUITE_12_ECDSA_AES128_GCM] = { "TLSv1.2",
					    "ECDHE-ECDSA-AES128-GCM-SHA256" },
	[TLS_SUITE_12_ECDSA_AES256_GCM] = { "TLSv1.2",
					    "ECDHE-ECDSA-AES256-GCM-SHA384" },
	[TLS_SUITE_12_ECDSA_CHACHA20] = { "TLSv1.2",
					  "ECDHE-ECDSA-CHACHA20-POLY1305" },
};

enum tls_suite tls_suite_of(struct tls_sess *s)
{
	const char *v = tls_version_name(s), *c = tls_cipher_name(s);

	for (int k = TLS_SUITE_OTHER + 1; k < TLS_SUITE_MAX; k++)
		if (!strcmp(v, tls_suites[k].version) &&
		    !strcmp(c, tls_suites[k].cipher))
			return (enum tls_suite)k;
	return TLS_SUITE_OTHER;
}

const char *tls_suite_version(enum tls_suite k)
{
	return tls_suites[k < TLS_SUITE_MAX ? k : TLS_SUITE_OTHER].version;
}

const char *tls_suite_cipher(enum tls_suite k)
{
	return tls_suites[k < TLS_SUITE_MAX ? k : TLS_SUITE_OTHER].cipher;
}
