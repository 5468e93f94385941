// SPDX-License-Identifier: Apache-2.0
/*
 * Mutual TLS 1.3 over memory with wolfSSL.
 *
 * wolfSSL's I/O callbacks are pointed at two queues the session owns:
 *  - in:  ciphertext the event loop received, appended by tls_feed() and
 *         taken by the recv callback (WANT_READ when empty);
 *  - out: ciphertext wolfSSL produced, appended by the send callback and
 *         drained by the loop through tls_out_pending()/tls_out_consume().
 *
 * The output queue is a list of fixed-size chunks, so that bytes never move
 * once written: the pointer tls_out_pending() hands out stays valid while an
 * io_uring send of it is in flight, even if more records are appended
 * meanwhile.  A chunk is freed only when all of it has been consumed.
 *
 * Output is bounded twice.  tls_write() stops at TLS_OUT_SOFT_MAX, sizing
 * each wolfSSL_write() so its record fits; control messages (alerts, the
 * handshake, close_notify) may go up to TLS_OUT_HARD_MAX.  The send callback
 * says WANT_WRITE only past the hard bound, which the soft bound keeps
 * tls_write() from reaching, because wolfSSL wants a write that hit
 * WANT_WRITE repeated with the same buffer, a contract we do not want to
 * hand to the event loop.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "log.h"
#include "tls.h"

#define TLS_CIPHERS	"TLS13-AES128-GCM-SHA256:TLS13-CHACHA20-POLY1305-SHA256"

#define TLS_IN_MAX		(256u * 1024)
#define TLS_OUT_SOFT_MAX	(256u * 1024)
#define TLS_OUT_HARD_MAX	(TLS_OUT_SOFT_MAX + 64u * 1024)
#define TLS_OUT_CHUNK		(32u * 1024)
/* Largest plaintext of one TLS record, and an upper bound on what TLS 1.3
 * adds to it: 5-byte header, 1-byte inner content type, 16-byte AEAD tag,
 * rounded up generously. */
#define TLS_RECORD_MAX		16384u
#define TLS_RECORD_OVERHEAD	64u
/* Do not cut a write into records smaller than this when the queue is
 * nearly full: wait for it to drain instead. */
#define TLS_WRITE_MIN		1024u

struct tls_ctx {
	WOLFSSL_CTX *wctx;
	enum tls_role role;
};

/* Contiguous FIFO for received ciphertext; only wolfSSL reads it. */
struct tls_inq {
	uint8_t *buf;
	size_t head, tail, cap;
};

struct tls_chunk {
	struct tls_chunk *next;
	size_t head, tail;	/* unconsumed bytes are data[head..tail) */
	uint8_t data[TLS_OUT_CHUNK];
};

/* FIFO of chunks for ciphertext to send. */
struct tls_outq {
	struct tls_chunk *first, *last;
	struct tls_chunk *spare;	/* one free chunk kept for reuse */
	size_t len;			/* unconsumed bytes over all chunks */
};

struct tls_sess {
	WOLFSSL *ssl;
	struct tls_ctx *ctx;
	struct tls_inq in;
	struct tls_outq out;
	bool hs_done;
	bool peer_closed;	/* peer's close_notify seen */
	bool sent_close;	/* our close_notify queued */
	bool failed;		/* fatal error: the session is unusable */
	int peer_rc;		/* result of the SPIFFE ID extraction */
	char peer_id[MF_SPIFFE_MAX];
	char err[160];
};

/* ---- queues ------------------------------------------------------------ */

static size_t tls_inq_len(const struct tls_inq *q)
{
	return q->tail - q->head;
}

static int tls_inq_put(struct tls_inq *q, const void *p, size_t n)
{
	size_t len = tls_inq_len(q);

	if (n > TLS_IN_MAX - len)
		return -ENOBUFS;
	if (n == 0)
		return 0;
	if (q->tail + n > q->cap && q->head > 0) {
		memmove(q->buf, q->buf + q->head, len);
		q->head = 0;
		q->tail = len;
	}
	if (q->tail + n > q->cap) {
		size_t cap = q->cap ? q->cap : 16384;
		uint8_t *nb;

		while (cap < q->tail + n)
			cap *= 2;
		if (cap > TLS_IN_MAX)
			cap = TLS_IN_MAX;
		nb = realloc(q->buf, cap);
		if (!nb)
			return -ENOMEM;
		q->buf = nb;
		q->cap = cap;
	}
	memcpy(q->buf + q->tail, p, n);
	q->tail += n;
	return 0;
}

static size_t tls_inq_take(struct tls_inq *q, void *p, size_t n)
{
	size_t len = tls_inq_len(q);

	if (n > len)
		n = len;
	if (n == 0)
		return 0;
	memcpy(p, q->buf + q->head, n);
	q->head += n;
	if (q->head == q->tail) {
		/* Drained: give the memory back, idle sessions hold none. */
		free(q->buf);
		q->buf = NULL;
		q->head = q->tail = q->cap = 0;
	}
	return n;
}

/* A fresh empty chunk: the spare if there is one.  NULL on ENOMEM. */
static struct tls_chunk *tls_chunk_get(struct tls_outq *q)
{
	struct tls_chunk *c = q->spare;

	if (c)
		q->spare = NULL;
	else
		c = malloc(sizeof(*c));
	if (c) {
		c->next = NULL;
		c->head = c->tail = 0;
	}
	return c;
}

/*
 * Appends @n bytes.  Every chunk needed is obtained before any byte is
 * queued, so a record is queued whole or not at all: a half-queued record
 * would corrupt the stream.  Returns 0 or -ENOMEM.
 */
static int tls_outq_put(struct tls_outq *q, const uint8_t *p, size_t n)
{
	struct tls_chunk *fresh = NULL, **tailp = &fresh, *c;
	size_t room = q->last ? TLS_OUT_CHUNK - q->last->tail : 0, need = 0;

	if (n > room)
		need = (n - room + TLS_OUT_CHUNK - 1) / TLS_OUT_CHUNK;
	while (need-- > 0) {
		c = tls_chunk_get(q);
		if (!c) {
			while (fresh) {
				c = fresh->next;
				free(fresh);
				fresh = c;
			}
			return -ENOMEM;
		}
		*tailp = c;
		tailp = &c->next;
	}

	c = q->last;
	while (n > 0) {
		size_t k;

		if (!c || c->tail == TLS_OUT_CHUNK) {
			struct tls_chunk *nc = fresh;

			fresh = nc->next;
			nc->next = NULL;
			if (c)
				c->next = nc;
			else
				q->first = nc;
			q->last = c = nc;
		}
		k = TLS_OUT_CHUNK - c->tail;
		if (k > n)
			k = n;
		memcpy(c->data + c->tail, p, k);
		c->tail += k;
		q->len += k;
		p += k;
		n -= k;
	}
	return 0;
}

static void tls_outq_free(struct tls_outq *q)
{
	struct tls_chunk *c = q->first, *next;

	while (c) {
		next = c->next;
		free(c);
		c = next;
	}
	free(q->spare);
	memset(q, 0, sizeof(*q));
}

/* ---- wolfSSL I/O callbacks -------------------------------------------- */

static int tls_cb_recv(WOLFSSL *ssl, char *buf, int sz, void *arg)
{
	struct tls_sess *s = arg;
	size_t n;

	(void)ssl;
	if (sz <= 0)
		return 0;
	n = tls_inq_take(&s->in, buf, (size_t)sz);
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
	if (tls_outq_put(&s->out, (const uint8_t *)buf, (size_t)sz) < 0)
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

/* ---- SPIFFE ID from a certificate ------------------------------------- */

/*
 * A bounds-checked DER cursor: just enough ASN.1 to walk a certificate to
 * its subjectAltName extension.  Each read either advances within [p, end)
 * or fails; nothing is trusted about lengths.
 */
struct der {
	const uint8_t *p, *end;
};

/* Reads one TLV.  Returns 0 and its tag and value, or -EBADMSG. */
static int der_next(struct der *d, uint8_t *tag, struct der *val)
{
	size_t avail = d->end - d->p, len, nlen, i;
	const uint8_t *p = d->p;

	if (avail < 2)
		return -EBADMSG;
	*tag = p[0];
	if ((*tag & 0x1f) == 0x1f)	/* high tag numbers: not in X.509 */
		return -EBADMSG;
	len = p[1];
	p += 2;
	avail -= 2;
	if (len & 0x80) {
		nlen = len & 0x7f;
		/* 0x80 is BER's indefinite length, never valid DER. */
		if (nlen == 0 || nlen > 4 || nlen > avail)
			return -EBADMSG;
		len = 0;
		for (i = 0; i < nlen; i++)
			len = len << 8 | p[i];
		p += nlen;
		avail -= nlen;
	}
	if (len > avail)
		return -EBADMSG;
	val->p = p;
	val->end = p + len;
	d->p = p + len;
	return 0;
}

/* Enters the next TLV, which must have tag @want. */
static int der_expect(struct der *d, uint8_t want, struct der *val)
{
	uint8_t tag;
	int ret = der_next(d, &tag, val);

	if (ret < 0)
		return ret;
	return tag == want ? 0 : -EBADMSG;
}

#define DER_SEQUENCE	0x30
#define DER_OID		0x06
#define DER_BOOLEAN	0x01
#define DER_OCTETS	0x04
#define DER_EXTENSIONS	0xa3	/* [3] EXPLICIT, constructed */
#define DER_GN_URI	0x86	/* GeneralName uniformResourceIdentifier [6] */

/* id-ce-subjectAltName, 2.5.29.17 */
static const uint8_t oid_san[] = { 0x55, 0x1d, 0x11 };

/* Counts URI SANs in a GeneralNames value; copies the first spiffe:// one
 * into @id.  Returns 0 or -EBADMSG. */
static int san_uris(struct der gns, int *n_uri, int *n_spiffe, char *id,
		    size_t n)
{
	struct der seq, v;
	uint8_t tag;

	if (der_expect(&gns, DER_SEQUENCE, &seq) < 0)
		return -EBADMSG;
	while (seq.p < seq.end) {
		size_t len;

		if (der_next(&seq, &tag, &v) < 0)
			return -EBADMSG;
		if (tag != DER_GN_URI)
			continue;
		(*n_uri)++;
		len = v.end - v.p;
		if (len < 9 || memcmp(v.p, "spiffe://", 9) != 0)
			continue;
		if ((*n_spiffe)++ == 0) {
			/* An embedded NUL would let "spiffe://a\0..." pass
			 * as a shorter ID: refuse it. */
			if (memchr(v.p, 0, len))
				return -EBADMSG;
			if (len >= n) {
				id[0] = '\0';
				*n_spiffe = -1;	/* too long, reported below */
				return 0;
			}
			memcpy(id, v.p, len);
			id[len] = '\0';
		}
	}
	return 0;
}

/*
 * The SPIFFE ID of certificate @der (@len bytes) into @buf.  An X.509-SVID
 * has exactly one URI SAN, and it is the SPIFFE ID.  Returns 0, -ENOENT
 * (no spiffe:// URI SAN), -EINVAL (more than one URI SAN), -ENAMETOOLONG,
 * or -EBADMSG for a certificate we cannot walk.
 */
static int tls_der_spiffe(const uint8_t *der, size_t len, char *buf, size_t n)
{
	struct der d = { der, der + len }, cert, tbs, v, exts, ext;
	int n_uri = 0, n_spiffe = 0;
	uint8_t tag;

	if (der_expect(&d, DER_SEQUENCE, &cert) < 0 ||
	    der_expect(&cert, DER_SEQUENCE, &tbs) < 0)
		return -EBADMSG;
	/* Skip version, serial, signature, issuer, validity, subject, spki
	 * and the optional unique IDs: the extensions are the only [3]. */
	for (;;) {
		if (tbs.p >= tbs.end)
			return -ENOENT;	/* no extensions at all */
		if (der_next(&tbs, &tag, &v) < 0)
			return -EBADMSG;
		if (tag == DER_EXTENSIONS)
			break;
	}
	if (der_expect(&v, DER_SEQUENCE, &exts) < 0)
		return -EBADMSG;
	while (exts.p < exts.end) {
		struct der oid, val;

		if (der_expect(&exts, DER_SEQUENCE, &ext) < 0 ||
		    der_expect(&ext, DER_OID, &oid) < 0)
			return -EBADMSG;
		if ((size_t)(oid.end - oid.p) != sizeof(oid_san) ||
		    memcmp(oid.p, oid_san, sizeof(oid_san)) != 0)
			continue;
		if (der_next(&ext, &tag, &val) < 0)
			return -EBADMSG;
		if (tag == DER_BOOLEAN && der_next(&ext, &tag, &val) < 0)
			return -EBADMSG;
		if (tag != DER_OCTETS)
			return -EBADMSG;
		if (san_uris(val, &n_uri, &n_spiffe, buf, n) < 0)
			return -EBADMSG;
	}
	if (n_spiffe < 0)
		return n_uri > 1 ? -EINVAL : -ENAMETOOLONG;
	if (n_uri > 1)
		return -EINVAL;
	if (n_spiffe == 0)
		return -ENOENT;
	return 0;
}

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
	return tls_der_spiffe(der, (size_t)len, buf, n);
}

/* ---- sessions ------------------------------------------------------------ */

int tls_sess_new(struct tls_sess **out, struct tls_ctx *ctx)
{
	struct tls_sess *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ctx = ctx;
	s->peer_rc = -ENOTCONN;
	s->ssl = wolfSSL_new(ctx->wctx);
	if (!s->ssl) {
		free(s);
		return -ENOMEM;
	}
	wolfSSL_SetIOReadCtx(s->ssl, s);
	wolfSSL_SetIOWriteCtx(s->ssl, s);
	if (ctx->role == TLS_ROLE_CLIENT &&
	    wolfSSL_UseKeyShare(s->ssl, WOLFSSL_ECC_X25519) != WOLFSSL_SUCCESS) {
		/* Without it the first flight could carry a share for a group
		 * the server refuses, costing a HelloRetryRequest. */
		wolfSSL_free(s->ssl);
		free(s);
		return -ENOMEM;
	}
	*out = s;
	return 0;
}

void tls_sess_free(struct tls_sess *s)
{
	if (!s)
		return;
	wolfSSL_free(s->ssl);
	free(s->in.buf);
	tls_outq_free(&s->out);
	free(s);
}

int tls_feed(struct tls_sess *s, const void *cipher, size_t n)
{
	return tls_inq_put(&s->in, cipher, n);
}

size_t tls_in_space(const struct tls_sess *s)
{
	return TLS_IN_MAX - tls_inq_len(&s->in);
}

size_t tls_out_pending(struct tls_sess *s, const void **p)
{
	struct tls_chunk *c = s->out.first;

	if (!c || c->head == c->tail) {
		*p = NULL;
		return 0;
	}
	*p = c->data + c->head;
	return c->tail - c->head;
}

void tls_out_consume(struct tls_sess *s, size_t n)
{
	struct tls_outq *q = &s->out;

	while (n > 0 && q->first) {
		struct tls_chunk *c = q->first;
		size_t k = c->tail - c->head;

		if (k > n)
			k = n;
		c->head += k;
		q->len -= k;
		n -= k;
		if (c->head < c->tail)
			break;
		/* Drained: keep one chunk as the spare while more is queued
		 * (streaming), free the rest. */
		q->first = c->next;
		if (!q->first)
			q->last = NULL;
		if (!q->spare)
			q->spare = c;
		else
			free(c);
	}
	/* An idle connection holds no buffers: thousands of them wait most
	 * of the time. */
	if (q->len == 0)
		tls_outq_free(q);
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
 * Maps the result of a wolfSSL call that returned @ret to -errno, and
 * records why in s->err.  @what names the operation for the message.
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

		snprintf(s->err, sizeof(s->err),
			 "%s: %s (%d); peer alert: %s (%d)", what, msg, err,
			 desc ? desc : "?", ah.last_rx.code);
	}
	else
		snprintf(s->err, sizeof(s->err), "%s: %s (%d)", what, msg,
			 err);
	s->failed = true;
	if (tls_err_is_cert(err))
		return -EACCES;
	if (err == WOLFSSL_ERROR_ZERO_RETURN || err == ZERO_RETURN ||
	    err == SOCKET_PEER_CLOSED_E)
		return -ECONNRESET;
	return -EPROTO;
}

int tls_handshake(struct tls_sess *s)
{
	const unsigned char *der;
	WOLFSSL_X509_CHAIN *chain;
	int ret, len;

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

	s->hs_done = true;
	/* Take the identity now, from the leaf wolfSSL verified: later calls
	 * into wolfSSL (a bidirectional shutdown) may reset its state. */
	chain = wolfSSL_get_peer_chain(s->ssl);
	if (chain && wolfSSL_get_chain_count(chain) > 0) {
		der = wolfSSL_get_chain_cert(chain, 0);
		len = wolfSSL_get_chain_length(chain, 0);
		s->peer_rc = der && len > 0 ?
			tls_der_spiffe(der, (size_t)len, s->peer_id,
				       sizeof(s->peer_id)) : -ENOENT;
	} else {
		s->peer_rc = -ENOENT;
	}
	return 0;
}

ssize_t tls_read(struct tls_sess *s, void *buf, size_t n)
{
	int ret;

	if (s->peer_closed)
		return 0;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->failed)
		return -EPROTO;
	if (n > INT32_MAX)
		n = INT32_MAX;
	ret = wolfSSL_read(s->ssl, buf, (int)n);
	if (ret > 0)
		return ret;
	if (wolfSSL_get_error(s->ssl, ret) == WOLFSSL_ERROR_ZERO_RETURN) {
		s->peer_closed = true;
		return 0;
	}
	return tls_fail(s, ret, "read");
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
		size_t want = n - done, room, k;
		int ret;

		room = s->out.len < TLS_OUT_SOFT_MAX ?
			TLS_OUT_SOFT_MAX - s->out.len : 0;
		room = room > TLS_RECORD_OVERHEAD ?
			room - TLS_RECORD_OVERHEAD : 0;
		k = want < TLS_RECORD_MAX ? want : TLS_RECORD_MAX;
		if (k > room)
			k = room;
		/* One record per call, sized to fit: the send callback then
		 * never says WANT_WRITE in the middle of our data. */
		if (k == 0 || (k < want && k < TLS_WRITE_MIN))
			break;
		ret = wolfSSL_write(s->ssl, p + done, (int)k);
		if (ret <= 0) {
			ret = tls_fail(s, ret, "write");
			if (ret == -EAGAIN)	/* cannot happen, see above */
				s->failed = true;
			return done ? (ssize_t)done : ret == -EAGAIN ? -EIO : ret;
		}
		done += (size_t)ret;
	}
	return done ? (ssize_t)done : -EAGAIN;
}

int tls_close_notify(struct tls_sess *s)
{
	int ret;

	if (s->sent_close)
		return 0;
	if (!s->hs_done)
		return -ENOTCONN;
	if (s->failed)
		return -EPROTO;
	/* The first call queues close_notify and returns "not done"; if the
	 * peer's close_notify came first it returns success after resetting
	 * the WOLFSSL for reuse, which is why s->peer_closed and s->peer_id
	 * are kept outside it. */
	ret = wolfSSL_shutdown(s->ssl);
	if (ret != WOLFSSL_SUCCESS && ret != WOLFSSL_SHUTDOWN_NOT_DONE)
		return tls_fail(s, ret, "close_notify");
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
	return s->err[0] ? s->err : "no error";
}

const char *tls_version_name(struct tls_sess *s)
{
	return wolfSSL_get_version(s->ssl);
}

const char *tls_cipher_name(struct tls_sess *s)
{
	const char *c = wolfSSL_get_cipher_name(s->ssl);

	return c ? c : "none";
}

const char *tls_group_name(struct tls_sess *s)
{
	const char *g = wolfSSL_get_curve_name(s->ssl);

	return g ? g : "none";
}
