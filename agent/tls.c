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
 * once the handshake is complete, hands over: we copy out the application
 * traffic keys, IVs and sequence numbers (wolfSSL's ATOMIC_USER accessors),
 * cache the peer's SPIFFE ID and the names for logs, and free the WOLFSSL.
 * What stays per session is struct tls_sess, about 2.8 KB, most of it the
 * two AEAD contexts.  The record layer after the handover is TLS 1.3
 * (RFC 8446 section 5): AEAD records of type application_data carrying
 * application data, alerts, or post-handshake handshake messages.
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
 * Queues the session owns (bufq.h, which says how they keep bytes in
 * place and give memory back):
 *  - in:  ciphertext the event loop received, appended by tls_feed();
 *         read by wolfSSL's receive callback during the handshake, and by
 *         tls_read() after, which decrypts in place or straight into the
 *         caller's buffer;
 *  - out: ciphertext to send, appended by wolfSSL's send callback during
 *         the handshake and by our record writer after, which seals each
 *         record in place, whole inside one chunk; drained by the loop
 *         through tls_out_pending()/tls_out_consume().
 *
 * Output is bounded twice.  tls_write() stops at TLS_OUT_SOFT_MAX, sizing
 * each record so it fits; control messages (alerts, the handshake,
 * close_notify) may go up to TLS_OUT_HARD_MAX.  During the handshake the
 * send callback says WANT_WRITE only past the hard bound.
 *
 * Not supported after the handshake (our agents never send them): KeyUpdate
 * (wolfSSL does not give out the traffic secrets it would need; wolfSSL
 * itself sends one only when asked to), post-handshake authentication, and
 * handshake messages split over records.  Each fails the session with a
 * clear reason rather than being misread.  So a connection's keys never
 * change: as before the handover (wolfSSL never updates keys on its own),
 * AES-GCM's usage limit of 2^24.5 records per key (RFC 8446 5.5, about
 * 390 GB of full records in one direction of one connection) is not
 * enforced.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "bufq.h"
#include "der.h"
#include "heap.h"
#include "log.h"
#include "slab.h"
#include "tls.h"

#define TLS_CIPHERS	"TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256"

#define TLS_IN_MAX		(256u * 1024)
#define TLS_OUT_SOFT_MAX	(256u * 1024)
#define TLS_OUT_HARD_MAX	(TLS_OUT_SOFT_MAX + 64u * 1024)

/* TLS 1.3 record layer (RFC 8446 5.1, 5.2). */
#define TLS_HDR_LEN		5u
#define TLS_TAG_LEN		16u
#define TLS_NONCE_LEN		12u
/* Largest plaintext of one record. */
#define TLS_RECORD_MAX		16384u
/* Largest protected record body the peer may send: 2^14 + 256. */
#define TLS_CIPHER_MAX		(TLS_RECORD_MAX + 256u)
/* What a record adds to its plaintext: header, inner content type, tag. */
#define TLS_RECORD_OVERHEAD	(TLS_HDR_LEN + 1u + TLS_TAG_LEN)
/* Do not cut a write into records smaller than this when the queue is
 * nearly full: wait for it to drain instead. */
#define TLS_WRITE_MIN		1024u

/* Content types and alerts we deal in. */
#define TLS_CT_ALERT		21
#define TLS_CT_HANDSHAKE	22
#define TLS_CT_APPDATA		23
#define TLS_ALERT_WARNING	1
#define TLS_ALERT_FATAL		2
#define TLS_AD_CLOSE_NOTIFY	0
#define TLS_AD_UNEXPECTED	10
#define TLS_AD_BAD_RECORD_MAC	20
#define TLS_AD_RECORD_OVERFLOW	22
#define TLS_AD_DECODE_ERROR	50
#define TLS_AD_INTERNAL_ERROR	80
#define TLS_AD_USER_CANCELED	90
#define TLS_HS_NEW_TICKET	4
#define TLS_HS_KEY_UPDATE	24

struct tls_ctx {
	WOLFSSL_CTX *wctx;
	enum tls_role role;
};

/* One direction of the record layer after the handshake. */
struct tls_dir {
	union {
		Aes aes;	/* AES-GCM: the expanded key */
		uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE];
	} k;
	uint8_t iv[TLS_NONCE_LEN];	/* per-direction static IV */
	uint64_t seq;			/* next record's sequence number */
};

struct tls_rec {
	int cipher;			/* wolfssl_aes_gcm or wolfssl_chacha */
	struct tls_dir rd, wr;
};

struct tls_sess {
	WOLFSSL *ssl;		/* until the handshake completes */
	struct tls_ctx *ctx;
	struct bufq_in in;	/* ciphertext received; after the handshake
				 * its first plain_left bytes may be plaintext
				 * decrypted in place, followed by plain_skip
				 * bytes of that record to drop (inner type,
				 * padding, tag) */
	struct bufq_out out;	/* ciphertext to send */
	size_t rec_left;	/* handshake: bytes of the current record not
				 * yet handed to wolfSSL */
	size_t plain_left;	/* see in */
	size_t plain_skip;
	bool hs_done;
	bool peer_closed;	/* peer's close_notify seen */
	bool sent_close;	/* our close_notify queued */
	bool failed;		/* fatal error: the session is unusable */
	bool keys;		/* rec holds set-up keys (free them) */
	int peer_rc;		/* result of the SPIFFE ID extraction */
	/* For logs after the WOLFSSL is gone; wolfSSL's static strings. */
	const char *version_name, *cipher_name, *group_name;
	char *err;		/* why it failed; NULL until then.  Owned */
	struct tls_rec rec;	/* keys, valid once hs_done */
	char peer_id[MF_SPIFFE_MAX];	/* when peer_rc == 0 */
};

/* ---- session pool -------------------------------------------------------- */

/* What a handshake holds on the heap, counted as transient (heap.h): the
 * WOLFSSL with its session, peer certificate and handshake state. */
#define TLS_HS_HEAP	(80u * 1024)

/* Sessions outlive the bursts of handshakes that open them: off the heap
 * (slab.h). */
static struct slab_pool tls_pool = SLAB_POOL_INIT(sizeof(struct tls_sess));

/* ---- errors -------------------------------------------------------------- */

/* Records why @s failed (the first reason wins: later ones are fallout). */
static void tls_set_err(struct tls_sess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tls_set_err(struct tls_sess *s, const char *fmt, ...)
{
	va_list ap;

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
static int tls_cb_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
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
	return n ? (int)n : WOLFSSL_CBIO_ERR_WANT_READ;
}

static int tls_cb_send(WOLFSSL *ssl, char *buf, int sz, void *arg)
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
	int groups[] = { WOLFSSL_ECC_X25519 };
	WOLFSSL_METHOD *method;
	struct tls_ctx *ctx;
	int ret = -EINVAL;

	if (role == TLS_ROLE_CLIENT)
		method = wolfTLSv1_3_client_method();
	else if (role == TLS_ROLE_SERVER)
		method = wolfTLSv1_3_server_method();
	else
		return -EINVAL;
	if (!method)
		return -ENOMEM;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;	/* wolfSSL_CTX_new would have freed method */
	ctx->role = role;
	ctx->wctx = wolfSSL_CTX_new(method);	/* takes ownership of method */
	if (!ctx->wctx) {
		ret = -ENOMEM;
		goto err_free;
	}

	if (wolfSSL_CTX_load_verify_locations(ctx->wctx, ca_file, NULL) !=
	    WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=ca file=%s", ca_file);
		ret = -ENOENT;
		goto err_ctx;
	}
	if (wolfSSL_CTX_use_certificate_chain_file(ctx->wctx, cert_file) !=
	    WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=cert file=%s", cert_file);
		ret = -ENOENT;
		goto err_ctx;
	}
	if (wolfSSL_CTX_use_PrivateKey_file(ctx->wctx, key_file,
					    WOLFSSL_FILETYPE_PEM) !=
	    WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=key file=%s", key_file);
		ret = -ENOENT;
		goto err_ctx;
	}
	if (wolfSSL_CTX_check_private_key(ctx->wctx) != WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=key_mismatch cert=%s key=%s",
			  cert_file, key_file);
		ret = -EINVAL;
		goto err_ctx;
	}
	if (wolfSSL_CTX_set_cipher_list(ctx->wctx, TLS_CIPHERS) !=
	    WOLFSSL_SUCCESS ||
	    wolfSSL_CTX_set_groups(ctx->wctx, groups, 1) != WOLFSSL_SUCCESS) {
		log_error("event=tls_ctx_error what=profile");
		ret = -EINVAL;
		goto err_ctx;
	}
	/* Both ends must present a certificate chaining to the mesh CA. */
	wolfSSL_CTX_set_verify(ctx->wctx,
			       WOLFSSL_VERIFY_PEER |
			       WOLFSSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	if (role == TLS_ROLE_SERVER) {
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

	*out = ctx;
	return 0;

err_ctx:
	wolfSSL_CTX_free(ctx->wctx);
err_free:
	free(ctx);
	return ret;
}

void tls_ctx_free(struct tls_ctx *ctx)
{
	if (!ctx)
		return;
	wolfSSL_CTX_free(ctx->wctx);
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

void tls_sess_free(struct tls_sess *s)
{
	if (!s)
		return;
	if (s->ssl) {
		wolfSSL_free(s->ssl);
		heap_shrink(TLS_HS_HEAP);
	}
	if (s->keys && s->rec.cipher == wolfssl_aes_gcm) {
		wc_AesFree(&s->rec.rd.k.aes);
		wc_AesFree(&s->rec.wr.k.aes);
	}
	/* Traffic keys: do not leave them in freed memory. */
	explicit_bzero(&s->rec, sizeof(s->rec));
	bufq_in_free(&s->in);
	bufq_out_free(&s->out);
	free(s->err);
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
		return true;
	default:
		return false;
	}
}

/*
 * During the handshake: maps the result of a wolfSSL call that returned
 * @ret to -errno, and records why.  @what names the operation.
 */
static int tls_fail(struct tls_sess *s, int ret, const char *what)
{
	int err = wolfSSL_get_error(s->ssl, ret);
	WOLFSSL_ALERT_HISTORY ah;
	char msg[WOLFSSL_MAX_ERROR_SZ];

	if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	wolfSSL_ERR_error_string_n(err, msg, sizeof(msg));
	memset(&ah, 0, sizeof(ah));
	wolfSSL_get_alert_history(s->ssl, &ah);
	if (ah.last_rx.code > 0 && ah.last_rx.level == alert_fatal) {
		const char *desc = wolfSSL_alert_desc_string_long(ah.last_rx.code);

		tls_set_err(s, "%s: %s (%d); peer alert: %s (%d)", what, msg,
			    err, desc ? desc : "?", ah.last_rx.code);
	} else {
		tls_set_err(s, "%s: %s (%d)", what, msg, err);
	}
	s->failed = true;
	if (tls_err_is_cert(err))
		return -EACCES;
	if (err == WOLFSSL_ERROR_ZERO_RETURN || err == ZERO_RETURN ||
	    err == SOCKET_PEER_CLOSED_E)
		return -ECONNRESET;
	return -EPROTO;
}

/* ---- record layer after the handshake ------------------------------------ */

/*
 * Records one traffic key may protect.  RFC 8446 5.5 lets AES-GCM protect
 * 2^24.5 full-size records per key and expects a KeyUpdate before that.
 * This record layer cannot rekey, so a session fails, in either direction,
 * once its key has protected 2^24 records (256 GiB of full records): the
 * connection ends with an error rather than wearing the key out.
 */
#define TLS_KEY_RECORDS_MAX (1ull << 24)

/* The per-record nonce: the static IV XOR the sequence number (5.3). */
static void tls_nonce(const struct tls_dir *d, uint8_t nonce[TLS_NONCE_LEN])
{
	int i;

	memcpy(nonce, d->iv, TLS_NONCE_LEN);
	for (i = 0; i < 8; i++)
		nonce[TLS_NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

/* Encrypts the @n bytes at @p in place and puts the tag right after them;
 * @hdr (TLS_HDR_LEN bytes) is the additional data.  Returns 0, -EIO, or
 * -EKEYEXPIRED when the key has protected TLS_KEY_RECORDS_MAX records. */
static int tls_seal(struct tls_rec *r, const uint8_t *hdr, uint8_t *p,
		    size_t n)
{
	uint8_t nonce[TLS_NONCE_LEN];
	int ret;

	if (r->wr.seq >= TLS_KEY_RECORDS_MAX)
		return -EKEYEXPIRED;
	tls_nonce(&r->wr, nonce);
	if (r->cipher == wolfssl_aes_gcm)
		ret = wc_AesGcmEncrypt(&r->wr.k.aes, p, p, (word32)n, nonce,
				       TLS_NONCE_LEN, p + n, TLS_TAG_LEN, hdr,
				       TLS_HDR_LEN);
	else
		ret = wc_ChaCha20Poly1305_Encrypt(r->wr.k.key, nonce, hdr,
						  TLS_HDR_LEN, p, (word32)n, p,
						  p + n);
	if (ret != 0)
		return -EIO;
	r->wr.seq++;
	return 0;
}

/* Decrypts the @n bytes at @in (tag right after them) into @out, which may
 * be @in.  Returns 0, -EBADMSG when they are not authentic (then @out
 * holds garbage), or -EKEYEXPIRED when the key has opened
 * TLS_KEY_RECORDS_MAX records. */
static int tls_open(struct tls_rec *r, const uint8_t *hdr, const uint8_t *in,
		    size_t n, uint8_t *out)
{
	uint8_t nonce[TLS_NONCE_LEN];
	int ret;

	if (r->rd.seq >= TLS_KEY_RECORDS_MAX)
		return -EKEYEXPIRED;
	tls_nonce(&r->rd, nonce);
	if (r->cipher == wolfssl_aes_gcm)
		ret = wc_AesGcmDecrypt(&r->rd.k.aes, out, in, (word32)n, nonce,
				       TLS_NONCE_LEN, in + n, TLS_TAG_LEN, hdr,
				       TLS_HDR_LEN);
	else
		ret = wc_ChaCha20Poly1305_Decrypt(r->rd.k.key, nonce, hdr,
						  TLS_HDR_LEN, in, (word32)n,
						  in + n, out);
	if (ret != 0)
		return -EBADMSG;
	r->rd.seq++;
	return 0;
}

/*
 * Queues one record of content @type with the @n (<= TLS_RECORD_MAX)
 * bytes at @p, sealed in place in the output queue: one copy, no
 * intermediate buffer.  Queued whole or not at all.  Returns 0 or -errno.
 */
static int tls_write_record(struct tls_sess *s, uint8_t type, const void *p,
			    size_t n)
{
	size_t blen = n + 1 + TLS_TAG_LEN, total = TLS_HDR_LEN + blen;
	struct bufq_chunk *fresh;
	uint8_t *dst;
	int ret;

	dst = bufq_out_reserve(&s->out, total, &fresh);
	if (!dst)
		return -ENOMEM;
	dst[0] = TLS_CT_APPDATA;	/* the outer type of every record */
	dst[1] = 0x03;
	dst[2] = 0x03;
	dst[3] = (uint8_t)(blen >> 8);
	dst[4] = (uint8_t)blen;
	memcpy(dst + TLS_HDR_LEN, p, n);
	dst[TLS_HDR_LEN + n] = type;
	ret = tls_seal(&s->rec, dst, dst + TLS_HDR_LEN, n + 1);
	if (ret < 0) {
		bufq_out_recycle(&s->out, fresh);
		if (ret == -EKEYEXPIRED)
			tls_set_err(s, "write: the traffic key reached its record limit");
		return ret;
	}
	bufq_out_commit(&s->out, fresh, total);
	return 0;
}

/*
 * Fails @s after the handshake: records "@what: @why", queues the fatal
 * alert @desc for the peer unless @desc is 0 (best effort: the session is
 * lost anyway), and returns @ret.
 */
static int tls_rec_fail(struct tls_sess *s, int ret, uint8_t desc,
			const char *what, const char *why)
{
	if (desc && !s->failed && !s->sent_close) {
		uint8_t alert[2] = { TLS_ALERT_FATAL, desc };

		(void)tls_write_record(s, TLS_CT_ALERT, alert, sizeof(alert));
	}
	tls_set_err(s, "%s: %s", what, why);
	s->failed = true;
	return ret;
}

static bool tls_alert_is_cert(uint8_t desc)
{
	switch (desc) {
	case 42:	/* bad_certificate */
	case 43:	/* unsupported_certificate */
	case 44:	/* certificate_revoked */
	case 45:	/* certificate_expired */
	case 46:	/* certificate_unknown */
	case 48:	/* unknown_ca */
	case 49:	/* access_denied */
	case 116:	/* certificate_required */
		return true;
	default:
		return false;
	}
}

/* An alert from the peer.  Returns 0 or -errno. */
static int tls_on_alert(struct tls_sess *s, const uint8_t *p, size_t len)
{
	const char *desc;

	/* Alerts are never fragmented nor coalesced (5.1). */
	if (len != 2)
		return tls_rec_fail(s, -EPROTO, TLS_AD_DECODE_ERROR, "read",
				    "malformed alert");
	if (p[1] == TLS_AD_CLOSE_NOTIFY) {
		s->peer_closed = true;
		return 0;
	}
	if (p[1] == TLS_AD_USER_CANCELED)
		return 0;	/* a close_notify follows (6.1) */
	/* Every other alert is fatal in TLS 1.3 whatever its level (6). */
	desc = wolfSSL_alert_desc_string_long(p[1]);
	if (!desc && p[1] == 116)	/* TLS 1.3's, unknown to wolfSSL */
		desc = "certificate_required";
	tls_set_err(s, "read: peer alert: %s (%u)", desc ? desc : "?", p[1]);
	s->failed = true;
	return tls_alert_is_cert(p[1]) ? -EACCES : -EPROTO;
}

/* Post-handshake handshake messages, @len bytes at @p.  Returns 0 or
 * -errno. */
static int tls_on_handshake(struct tls_sess *s, const uint8_t *p, size_t len)
{
	char why[96];

	if (len == 0)
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "empty handshake record");
	while (len > 0) {
		size_t mlen;

		if (len < 4)
			return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED,
					    "read", "handshake message split "
					    "over records (unsupported)");
		mlen = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
		if (mlen > len - 4)
			return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED,
					    "read", "handshake message split "
					    "over records (unsupported)");
		switch (p[0]) {
		case TLS_HS_NEW_TICKET:
			/* Nothing resumes (see tls_ctx_new): a ticket is of
			 * no use; a server never receives one. */
			if (s->ctx->role == TLS_ROLE_CLIENT)
				break;
			/* fallthrough */
		default:
			snprintf(why, sizeof(why),
				 "unexpected post-handshake message %u", p[0]);
			return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED,
					    "read", why);
		case TLS_HS_KEY_UPDATE:
			return tls_rec_fail(s, -EPROTO, TLS_AD_INTERNAL_ERROR,
					    "read", "peer key update "
					    "(unsupported)");
		}
		p += 4 + mlen;
		len -= 4 + mlen;
	}
	return 0;
}

/*
 * Opens the record at the front of the input queue.  Application data goes
 * straight into @dst when its @room holds the whole record (the common
 * case with 16 KiB read buffers), else it is decrypted in place and left
 * in the queue as the plaintext window (s->plain_left).  Returns the bytes
 * put in @dst (possibly 0: a control record, an empty record, or data left
 * in the window), -EAGAIN when no whole record is queued, other -errno on
 * failure.
 */
static ssize_t tls_read_record(struct tls_sess *s, uint8_t *dst, size_t room)
{
	struct bufq_in *q = &s->in;
	size_t avail = bufq_in_len(q), blen, ctlen, len;
	uint8_t *hdr, *body, *pt, type;
	bool direct;
	int ret;

	if (avail < TLS_HDR_LEN)
		return -EAGAIN;
	hdr = bufq_in_data(q);
	blen = (size_t)hdr[3] << 8 | hdr[4];
	/* After the handshake every record is protected (5.2); the legacy
	 * version is not checked (5.1) but authenticated as part of @hdr. */
	if (hdr[0] != TLS_CT_APPDATA)
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "unprotected record after the handshake");
	if (blen > TLS_CIPHER_MAX)
		return tls_rec_fail(s, -EPROTO, TLS_AD_RECORD_OVERFLOW, "read",
				    "record too long");
	if (blen < TLS_TAG_LEN + 1)
		return tls_rec_fail(s, -EPROTO, TLS_AD_DECODE_ERROR, "read",
				    "record too short");
	if (avail < TLS_HDR_LEN + blen)
		return -EAGAIN;
	body = hdr + TLS_HDR_LEN;
	ctlen = blen - TLS_TAG_LEN;
	direct = room >= ctlen;
	pt = direct ? dst : body;
	ret = tls_open(&s->rec, hdr, body, ctlen, pt);
	if (ret == -EKEYEXPIRED)
		return tls_rec_fail(s, -EKEYEXPIRED, 0, "read",
				    "the traffic key reached its record limit");
	if (ret < 0)
		return tls_rec_fail(s, -EPROTO, TLS_AD_BAD_RECORD_MAC, "read",
				    "record authentication failed");
	/* TLSInnerPlaintext: content, type, zero padding (5.2). */
	len = ctlen;
	while (len > 0 && pt[len - 1] == 0)
		len--;
	if (len == 0)
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "record without a content type");
	type = pt[--len];
	if (len > TLS_RECORD_MAX)
		return tls_rec_fail(s, -EPROTO, TLS_AD_RECORD_OVERFLOW, "read",
				    "record plaintext too long");
	switch (type) {
	case TLS_CT_APPDATA:
		if (direct) {
			bufq_in_drop(q, TLS_HDR_LEN + blen);
			return (ssize_t)len;
		}
		if (len == 0) {
			bufq_in_drop(q, TLS_HDR_LEN + blen);
			return 0;
		}
		/* Cannot drain the queue: the record is still behind. */
		bufq_in_drop(q, TLS_HDR_LEN);
		s->plain_left = len;
		s->plain_skip = blen - len;
		return 0;
	case TLS_CT_ALERT:
		ret = tls_on_alert(s, pt, len);
		break;
	case TLS_CT_HANDSHAKE:
		ret = tls_on_handshake(s, pt, len);
		break;
	default:
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "unexpected content type");
	}
	if (ret < 0)
		return ret;
	bufq_in_drop(q, TLS_HDR_LEN + blen);
	return 0;
}

static int tls_dir_init(struct tls_dir *d, int cipher, const uint8_t *key,
			int klen, const uint8_t *iv, uint64_t seq)
{
	memcpy(d->iv, iv, TLS_NONCE_LEN);
	d->seq = seq;
	if (cipher != wolfssl_aes_gcm) {
		memcpy(d->k.key, key, (size_t)klen);
		return 0;
	}
	if (wc_AesInit(&d->k.aes, NULL, INVALID_DEVID) != 0)
		return -EIO;
	if (wc_AesGcmSetKey(&d->k.aes, key, (word32)klen) != 0) {
		wc_AesFree(&d->k.aes);
		return -EIO;
	}
	return 0;
}

/*
 * The handshake of @s just completed: takes the record layer over from
 * wolfSSL (see the top of the file) and frees the WOLFSSL.  Returns 0, or
 * -EPROTO (reason recorded) when the session is not in a state we can take
 * over, -EIO.
 */
static int tls_handoff(struct tls_sess *s)
{
	WOLFSSL *ssl = s->ssl;
	const unsigned char *rkey, *riv, *wkey, *wiv, *der;
	WOLFSSL_X509_CHAIN *chain;
	int cipher, klen, len;
	word64 rseq = 0, wseq = 0;
	bool client = s->ctx->role == TLS_ROLE_CLIENT;
	struct tls_rec *r = &s->rec;

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
		tls_set_err(s, "handshake: cannot take over the record layer "
			    "(version %s, cipher %s)", wolfSSL_get_version(ssl),
			    wolfSSL_get_cipher_name(ssl));
		s->failed = true;
		return -EPROTO;
	}
	/* wolfSSL must hold nothing of the stream: no decrypted data, no
	 * part of a record. */
	if (wolfSSL_has_pending(ssl) || s->rec_left != 0) {
		tls_set_err(s, "handshake: data inside wolfSSL at the end of "
			    "the handshake");
		s->failed = true;
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
		tls_set_err(s, "handshake: no traffic keys");
		s->failed = true;
		return -EPROTO;
	}
	r->cipher = cipher;
	if (tls_dir_init(&r->rd, cipher, rkey, klen, riv, rseq) < 0) {
		tls_set_err(s, "handshake: cannot set up the traffic keys");
		s->failed = true;
		return -EIO;
	}
	if (tls_dir_init(&r->wr, cipher, wkey, klen, wiv, wseq) < 0) {
		if (cipher == wolfssl_aes_gcm)
			wc_AesFree(&r->rd.k.aes);
		tls_set_err(s, "handshake: cannot set up the traffic keys");
		s->failed = true;
		return -EIO;
	}
	s->keys = true;

	/* The identity, from the leaf wolfSSL verified. */
	chain = wolfSSL_get_peer_chain(ssl);
	if (chain && wolfSSL_get_chain_count(chain) > 0) {
		der = wolfSSL_get_chain_cert(chain, 0);
		len = wolfSSL_get_chain_length(chain, 0);
		s->peer_rc = der && len > 0 ?
			der_cert_spiffe(der, (size_t)len, s->peer_id,
					sizeof(s->peer_id)) : -ENOENT;
	} else {
		s->peer_rc = -ENOENT;
	}
	s->version_name = wolfSSL_get_version(ssl);
	s->cipher_name = wolfSSL_get_cipher_name(ssl);
	s->group_name = wolfSSL_get_curve_name(ssl);

	wolfSSL_free(ssl);	/* zeroes its copies of the keys */
	s->ssl = NULL;
	heap_shrink(TLS_HS_HEAP);
	return 0;
}

int tls_handshake(struct tls_sess *s)
{
	int ret;

	if (s->hs_done)
		return 0;
	if (s->failed)
		return -EPROTO;
	if (s->ctx->role == TLS_ROLE_CLIENT)
		ret = wolfSSL_connect(s->ssl);
	else
		ret = wolfSSL_accept(s->ssl);
	if (ret != WOLFSSL_SUCCESS)
		return tls_fail(s, ret, "handshake");
	ret = tls_handoff(s);
	if (ret < 0)
		return ret;
	s->hs_done = true;
	return 0;
}

ssize_t tls_read(struct tls_sess *s, void *buf, size_t n)
{
	struct bufq_in *q = &s->in;
	uint8_t *out = buf;
	size_t done = 0;
	ssize_t r;

	if (s->peer_closed)
		return 0;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->failed)
		return -EPROTO;
	while (done < n && !s->peer_closed) {
		if (s->plain_left > 0) {
			size_t k = s->plain_left < n - done ?
				   s->plain_left : n - done;

			memcpy(out + done, bufq_in_data(q), k);
			done += k;
			s->plain_left -= k;
			if (s->plain_left == 0) {
				k += s->plain_skip;
				s->plain_skip = 0;
			}
			bufq_in_drop(q, k);
			continue;
		}
		r = tls_read_record(s, out + done, n - done);
		if (r == -EAGAIN)
			break;
		if (r < 0) {
			/* What came before the failure is good: hand it
			 * out; the next call reports the failure. */
			return done ? (ssize_t)done : r;
		}
		done += (size_t)r;
	}
	if (done > 0)
		return (ssize_t)done;
	return s->peer_closed ? 0 : -EAGAIN;
}

ssize_t tls_write(struct tls_sess *s, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t done = 0;

	if (!s->hs_done)
		return -ENOTCONN;
	if (s->sent_close)
		return -EPIPE;
	if (s->failed)
		return -EPROTO;
	while (done < n) {
		size_t want = n - done, room, tail, k;
		int ret;

		room = s->out.len < TLS_OUT_SOFT_MAX ?
			TLS_OUT_SOFT_MAX - s->out.len : 0;
		room = room > TLS_RECORD_OVERHEAD ?
			room - TLS_RECORD_OVERHEAD : 0;
		k = want < TLS_RECORD_MAX ? want : TLS_RECORD_MAX;
		if (k > room)
			k = room;
		/* A record lives in one chunk: rather than leave the end of
		 * the last chunk empty, fill it with a shorter record. */
		tail = bufq_out_room(&s->out);
		tail = tail > TLS_RECORD_OVERHEAD ?
			tail - TLS_RECORD_OVERHEAD : 0;
		if (k > tail && tail >= TLS_WRITE_MIN)
			k = tail;
		if (k == 0 || (k < want && k < TLS_WRITE_MIN))
			break;
		ret = tls_write_record(s, TLS_CT_APPDATA, p + done, k);
		if (ret < 0) {
			tls_rec_fail(s, ret, 0, "write", ret == -ENOMEM ?
				     "out of memory" : "encryption failed");
			return done ? (ssize_t)done : ret;
		}
		done += k;
	}
	return done ? (ssize_t)done : -EAGAIN;
}

int tls_close_notify(struct tls_sess *s)
{
	static const uint8_t alert[2] = { TLS_ALERT_WARNING,
					  TLS_AD_CLOSE_NOTIFY };
	int ret;

	if (s->sent_close)
		return 0;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->failed)
		return -EPROTO;
	ret = tls_write_record(s, TLS_CT_ALERT, alert, sizeof(alert));
	if (ret < 0)
		return tls_rec_fail(s, ret, 0, "close_notify",
				    ret == -ENOMEM ? "out of memory" :
				    "encryption failed");
	s->sent_close = true;
	return 0;
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
