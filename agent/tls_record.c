// SPDX-License-Identifier: Apache-2.0
/*
 * The TLS 1.3 record layer (RFC 8446 section 5) of a session after wolfSSL
 * handed it over (tls.c): AEAD records of type application_data carrying
 * application data, alerts, or post-handshake handshake messages, sealed
 * and opened here with wolfCrypt's AES-GCM or ChaCha20-Poly1305.
 *
 * A received record is opened where it lies in the input queue: straight
 * into the caller's buffer when that holds it whole, else in place, the
 * plaintext then read from the queue.  A record to send is sealed in place
 * in the output queue, whole inside one of its chunks (bufq.h).
 *
 * Keys change by KeyUpdate (RFC 8446 4.6.3), each direction on its own:
 * application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N,
 * "traffic upd", "", 32), and the key and IV from it (7.3).  The first
 * secrets are the handshake's, kept as wolfSSL derives them (tls.c).  We
 * update our writing key before it passes its limits (tls-int.h:
 * AES-GCM's blocks, the sequence number) and when the peer asks, and we
 * follow the peer's updates of its own.  So a session lasts as long as
 * its connection, whatever that carries.
 *
 * Plaintext does not outlive its use here: what was decrypted in place is
 * wiped from the input queue as it is read out, control messages once
 * handled, a record that failed to open or to seal at once.  Of the
 * caller's buffer, only the bytes tls_rec_read() returns hold plaintext.
 *
 * Not supported (our agents never send them): post-handshake
 * authentication, and handshake messages split over records.  Each fails
 * the session with a clear reason rather than being misread.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tls-int.h"

/* Largest plaintext of one record. */
#define TLS_RECORD_MAX		16384u
/* Largest protected record body the peer may send: a TLSInnerPlaintext of
 * 2^14 + 1 bytes at most, content type and padding included (RFC 8446
 * 5.4), and the tag.  The 2^14 + 256 of 5.2 leaves room for AEADs that
 * expand more than our two do; with theirs a record past this holds more
 * than 5.4 allows, which 6.2 calls record_overflow. */
#define TLS_CIPHER_MAX		(TLS_RECORD_MAX + 1u + TLS_TAG_LEN)
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
#define TLS_AD_ILLEGAL_PARAM	47
#define TLS_AD_DECODE_ERROR	50
#define TLS_AD_INTERNAL_ERROR	80
#define TLS_AD_USER_CANCELED	90
#define TLS_HS_NEW_TICKET	4
#define TLS_HS_KEY_UPDATE	24
#define TLS_HS_HDR_LEN		4u	/* type, 24-bit length */
/* KeyUpdate.request_update */
#define TLS_KU_NOT_REQUESTED	0
#define TLS_KU_REQUESTED	1

/* ---- keys and AEAD ------------------------------------------------------- */

int tls_expand_label(uint8_t *out, size_t n, const uint8_t *secret,
		     const char *label, const uint8_t *ctx, size_t ctx_len)
{
	static const uint8_t proto[] = "tls13 ";

	return wc_Tls13_HKDF_Expand_Label(out, (word32)n, secret,
					  TLS_SECRET_LEN, proto,
					  sizeof(proto) - 1,
					  (const uint8_t *)label,
					  (word32)strlen(label), ctx,
					  (word32)ctx_len, WC_SHA256) ? -EIO : 0;
}

/*
 * Keys direction @d of @r from its traffic secret d->secret: the key and
 * IV of RFC 8446 7.3, a fresh count of what the key protects.  With
 * @want_key, they must be @want_key and @want_iv.  The sequence number is
 * the caller's.  Returns 0, -EPROTO (not the wanted ones), -EIO.
 */
static int tls_dir_key(struct tls_rec *r, struct tls_dir *d,
		       const uint8_t *want_key, const uint8_t *want_iv)
{
	/* The largest key: AES-256's, ChaCha20's. */
	uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE], iv[TLS_NONCE_LEN];
	int ret = -EIO;

	if (tls_expand_label(key, (size_t)r->klen, d->secret, "key", NULL,
			     0) < 0 ||
	    tls_expand_label(iv, sizeof(iv), d->secret, "iv", NULL, 0) < 0)
		goto out;
	if (want_key && (memcmp(key, want_key, (size_t)r->klen) != 0 ||
			 memcmp(iv, want_iv, sizeof(iv)) != 0)) {
		ret = -EPROTO;
		goto out;
	}
	if (r->cipher == wolfssl_aes_gcm) {
		if (wc_AesGcmSetKey(&d->k.aes, key, (word32)r->klen) != 0)
			goto out;
	} else {
		memcpy(d->k.key, key, (size_t)r->klen);
	}
	memcpy(d->iv, iv, sizeof(iv));
	d->blocks = 0;
	d->spent = false;
	ret = 0;
out:
	explicit_bzero(key, sizeof(key));
	explicit_bzero(iv, sizeof(iv));
	return ret;
}

/* Moves direction @d of @r to its next traffic secret and key, sequence
 * number 0 (4.6.3).  Returns 0 or -EIO. */
static int tls_dir_next(struct tls_rec *r, struct tls_dir *d)
{
	uint8_t next[TLS_SECRET_LEN];
	int ret;

	ret = tls_expand_label(next, sizeof(next), d->secret, "traffic upd",
			       NULL, 0);
	if (ret == 0) {
		/* The old secret goes: it would decrypt the past. */
		memcpy(d->secret, next, sizeof(next));
		ret = tls_dir_key(r, d, NULL, NULL);
		d->seq = 0;
	}
	explicit_bzero(next, sizeof(next));
	return ret;
}

int tls_rec_keys(struct tls_rec *r, int cipher, int klen,
		 const uint8_t *rkey, const uint8_t *riv, uint64_t rseq,
		 const uint8_t *wkey, const uint8_t *wiv, uint64_t wseq)
{
	bool aes = cipher == wolfssl_aes_gcm;
	int ret;

	r->cipher = cipher;
	r->klen = klen;
	r->key_blocks = aes ? TLS_GCM_KEY_BLOCKS : UINT64_MAX;
	if (aes && wc_AesInit(&r->rd.k.aes, NULL, INVALID_DEVID) != 0)
		return -EIO;
	if (aes && wc_AesInit(&r->wr.k.aes, NULL, INVALID_DEVID) != 0) {
		wc_AesFree(&r->rd.k.aes);
		return -EIO;
	}
	ret = tls_dir_key(r, &r->rd, rkey, riv);
	if (ret == 0)
		ret = tls_dir_key(r, &r->wr, wkey, wiv);
	if (ret < 0 && aes) {
		wc_AesFree(&r->rd.k.aes);
		wc_AesFree(&r->wr.k.aes);
	}
	r->rd.seq = rseq;
	r->wr.seq = wseq;
	return ret;
}

void tls_rec_free(struct tls_rec *r, bool keys)
{
	if (keys && r->cipher == wolfssl_aes_gcm) {
		wc_AesFree(&r->rd.k.aes);
		wc_AesFree(&r->wr.k.aes);
	}
	/* Traffic keys and secrets: do not leave them in freed memory. */
	explicit_bzero(r, sizeof(*r));
}

/* What a record of @n bytes of inner plaintext adds to an AES-GCM key's
 * q + s (tls-int.h): its 16-byte blocks, and itself. */
static inline uint64_t tls_gcm_cost(size_t n)
{
	return (n + 15) / 16 + 1;
}

/*
 * Seals or opens one record with the next nonce of its direction: @seal
 * encrypts the @n bytes at @in into @out and puts the tag right after
 * them, else the @n bytes at @in, tag right after them, are decrypted into
 * @out.  @out may be @in; @hdr (TLS_HDR_LEN bytes) is the additional data.
 * Returns 0, -EKEYEXPIRED when the key has used its last sequence number,
 * -EIO when sealing fails, -EBADMSG when the record is not authentic
 * (then @out holds garbage, or worse, plaintext: the caller wipes it).
 */
static int tls_crypt(struct tls_rec *r, bool seal, const uint8_t *hdr,
		     const uint8_t *in, size_t n, uint8_t *out)
{
	struct tls_dir *d = seal ? &r->wr : &r->rd;
	uint8_t nonce[TLS_NONCE_LEN];
	int i, ret;

	if (d->spent)
		return -EKEYEXPIRED;
	/* The static IV XOR the sequence number (5.3). */
	memcpy(nonce, d->iv, TLS_NONCE_LEN);
	for (i = 0; i < 8; i++)
		nonce[TLS_NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
	if (r->cipher == wolfssl_aes_gcm && seal)
		ret = wc_AesGcmEncrypt(&d->k.aes, out, in, (word32)n, nonce,
				       TLS_NONCE_LEN, out + n, TLS_TAG_LEN, hdr,
				       TLS_HDR_LEN);
	else if (r->cipher == wolfssl_aes_gcm)
		ret = wc_AesGcmDecrypt(&d->k.aes, out, in, (word32)n, nonce,
				       TLS_NONCE_LEN, in + n, TLS_TAG_LEN, hdr,
				       TLS_HDR_LEN);
	else if (seal)
		ret = wc_ChaCha20Poly1305_Encrypt(d->k.key, nonce, hdr,
						  TLS_HDR_LEN, in, (word32)n,
						  out, out + n);
	else
		ret = wc_ChaCha20Poly1305_Decrypt(d->k.key, nonce, hdr,
						  TLS_HDR_LEN, in, (word32)n,
						  in + n, out);
	if (ret != 0)
		return seal ? -EIO : -EBADMSG;
	if (r->cipher == wolfssl_aes_gcm)
		d->blocks += tls_gcm_cost(n);
	/* The sequence number must not wrap (5.3): past 2^64 - 1 only a
	 * KeyUpdate, which starts again at 0, may follow. */
	if (d->seq == UINT64_MAX)
		d->spent = true;
	else
		d->seq++;
	return 0;
}

/* ---- writing ------------------------------------------------------------- */

/*
 * Queues one record of content @type with the @n (<= TLS_RECORD_MAX)
 * bytes at @p, sealed in place in the output queue with the writing key
 * as it is: one copy, no intermediate buffer.  Queued whole or not at
 * all.  Returns 0 or -errno.
 */
static int tls_seal_record(struct tls_sess *s, uint8_t type, const void *p,
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
	ret = tls_crypt(&s->rec, true, dst, dst + TLS_HDR_LEN, n + 1,
			dst + TLS_HDR_LEN);
	if (ret < 0) {
		/* The plaintext must not stay in the queue's spare room. */
		explicit_bzero(dst + TLS_HDR_LEN, n + 1);
		bufq_out_recycle(&s->out, fresh);
		if (ret == -EKEYEXPIRED)
			tls_failf(s, "write: the traffic key is spent");
		return ret;
	}
	bufq_out_commit(&s->out, fresh, total);
	return 0;
}

/* Queues our KeyUpdate, then writes with the next key (see
 * tls_rec_update()).  Returns 0 or -errno. */
static int tls_send_update(struct tls_sess *s, bool request)
{
	const uint8_t msg[TLS_HS_HDR_LEN + 1] = {
		TLS_HS_KEY_UPDATE, 0, 0, 1,
		request ? TLS_KU_REQUESTED : TLS_KU_NOT_REQUESTED,
	};
	int ret;

	ret = tls_seal_record(s, TLS_CT_HANDSHAKE, msg, sizeof(msg));
	if (ret < 0)
		return ret;
	/* The peer reads what follows with the next key: we cannot go on
	 * without it. */
	ret = tls_dir_next(&s->rec, &s->rec.wr);
	if (ret < 0) {
		tls_failf(s, "write: cannot derive the next traffic key");
		return ret;
	}
	/* Only an update_not_requested answers the peer (4.6.3). */
	if (!request)
		s->update_owed = false;
	return 0;
}

/*
 * Queues one record of content @type with the @n (<= TLS_RECORD_MAX)
 * bytes at @p (tls_seal_record()), after a KeyUpdate when the peer asked
 * for one, or when the record would take the writing key past its limits
 * (tls-int.h): its last sequence number, AES-GCM's blocks.  Returns 0 or
 * -errno.
 */
static int tls_write_record(struct tls_sess *s, uint8_t type, const void *p,
			    size_t n)
{
	const struct tls_rec *r = &s->rec;
	int ret;

	if (s->update_owed || r->wr.seq == UINT64_MAX ||
	    r->wr.blocks + tls_gcm_cost(n + 1) > r->key_blocks) {
		ret = tls_send_update(s, false);
		if (ret < 0)
			return ret;
	}
	return tls_seal_record(s, type, p, n);
}

/* Why writing failed, from its -errno. */
static const char *tls_write_why(int ret)
{
	switch (ret) {
	case -ENOMEM:
		return "out of memory";
	case -EKEYEXPIRED:
		return "the traffic key is spent";
	default:
		return "encryption failed";
	}
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
	tls_failf(s, "%s: %s", what, why);
	return ret;
}

int tls_rec_update(struct tls_sess *s, bool request)
{
	int ret = tls_send_update(s, request);

	if (ret < 0)
		return tls_rec_fail(s, ret, 0, "key update",
				    tls_write_why(ret));
	return 0;
}

ssize_t tls_rec_write(struct tls_sess *s, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	size_t done = 0;

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
			tls_rec_fail(s, ret, 0, "write", tls_write_why(ret));
			return done ? (ssize_t)done : ret;
		}
		done += k;
	}
	return done ? (ssize_t)done : -EAGAIN;
}

int tls_rec_alert(struct tls_sess *s, uint8_t desc)
{
	uint8_t alert[2] = { TLS_ALERT_FATAL, desc };

	return tls_write_record(s, TLS_CT_ALERT, alert, sizeof(alert));
}

int tls_rec_close(struct tls_sess *s)
{
	static const uint8_t alert[2] = { TLS_ALERT_WARNING,
					  TLS_AD_CLOSE_NOTIFY };
	int ret;

	ret = tls_write_record(s, TLS_CT_ALERT, alert, sizeof(alert));
	if (ret < 0)
		return tls_rec_fail(s, ret, 0, "close_notify",
				    tls_write_why(ret));
	s->sent_close = true;
	return 0;
}

/* ---- reading ------------------------------------------------------------- */

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
	tls_failf(s, "read: peer alert: %s (%u)", desc ? desc : "?", p[1]);
	return tls_alert_is_cert(p[1]) ? -EACCES : -EPROTO;
}

/*
 * The peer's KeyUpdate, whose body is the @len bytes at @p, the last
 * message of its record: from the next record on, the peer writes with
 * its next key.  Returns 0 or -errno.
 */
static int tls_on_key_update(struct tls_sess *s, const uint8_t *p,
			     size_t len, bool last)
{
	if (len != 1)
		return tls_rec_fail(s, -EPROTO, TLS_AD_DECODE_ERROR, "read",
				    "malformed key update");
	/* A key changes at a record boundary (5.1). */
	if (!last)
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "key update not at the end of its record");
	if (p[0] != TLS_KU_NOT_REQUESTED && p[0] != TLS_KU_REQUESTED)
		return tls_rec_fail(s, -EPROTO, TLS_AD_ILLEGAL_PARAM, "read",
				    "key update with a bad request_update");
	if (tls_dir_next(&s->rec, &s->rec.rd) < 0)
		return tls_rec_fail(s, -EIO, TLS_AD_INTERNAL_ERROR, "read",
				    "cannot derive the peer's next traffic "
				    "key");
	/* Ours goes before our next record (tls_write_record()): one
	 * answers any number of requests.  None after our close_notify. */
	if (p[0] == TLS_KU_REQUESTED && !s->sent_close)
		s->update_owed = true;
	return 0;
}

/*
 * Whether the body of a NewSessionTicket (RFC 8446 4.6.1), @len bytes at
 * @p, parses: ticket_lifetime, ticket_age_add, ticket_nonce<0..255>,
 * ticket<1..2^16-1>, extensions<0..2^16-2> ending with the message, each
 * an extension_type and extension_data<0..2^16-1>.  Nothing resumes (see
 * tls_ctx_new) and no extension of a ticket means anything to us, so the
 * ticket is of no use; but a message that does not parse is a
 * decode_error (6), whatever it is for.
 */
static bool tls_ticket_parses(const uint8_t *p, size_t len)
{
	size_t off, n;

	if (len < 9 || len - 9 < p[8])
		return false;
	off = 9 + (size_t)p[8];
	if (len - off < 2)
		return false;
	n = (size_t)p[off] << 8 | p[off + 1];
	off += 2;
	if (n == 0 || len - off < n)
		return false;
	off += n;
	if (len - off < 2)
		return false;
	n = (size_t)p[off] << 8 | p[off + 1];
	off += 2;
	if (n != len - off)
		return false;
	while (off < len) {
		if (len - off < 4)
			return false;
		n = (size_t)p[off + 2] << 8 | p[off + 3];
		off += 4;
		if (len - off < n)
			return false;
		off += n;
	}
	return true;
}

/* Post-handshake handshake messages, @len bytes at @p.  Returns 0 or
 * -errno. */
static int tls_on_handshake(struct tls_sess *s, const uint8_t *p, size_t len)
{
	char why[96];
	int ret;

	if (len == 0)
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "empty handshake record");
	while (len > 0) {
		size_t mlen = len < TLS_HS_HDR_LEN ? 0 :
			      (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];

		if (len < TLS_HS_HDR_LEN || mlen > len - TLS_HS_HDR_LEN)
			return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED,
					    "read", "handshake message split "
					    "over records (unsupported)");
		switch (p[0]) {
		case TLS_HS_NEW_TICKET:
			/* Read for its syntax, then dropped; a server never
			 * receives one. */
			if (s->ctx->role == TLS_ROLE_CLIENT &&
			    !tls_ticket_parses(p + TLS_HS_HDR_LEN, mlen))
				return tls_rec_fail(s, -EPROTO,
						    TLS_AD_DECODE_ERROR, "read",
						    "malformed new session "
						    "ticket");
			if (s->ctx->role == TLS_ROLE_CLIENT)
				break;
			/* fallthrough */
		default:
			snprintf(why, sizeof(why),
				 "unexpected post-handshake message %u", p[0]);
			return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED,
					    "read", why);
		case TLS_HS_KEY_UPDATE:
			ret = tls_on_key_update(s, p + TLS_HS_HDR_LEN, mlen,
						len == TLS_HS_HDR_LEN + mlen);
			if (ret < 0)
				return ret;
			break;
		}
		p += TLS_HS_HDR_LEN + mlen;
		len -= TLS_HS_HDR_LEN + mlen;
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
	ret = tls_crypt(&s->rec, false, hdr, body, ctlen, pt);
	if (ret == -EKEYEXPIRED)
		return tls_rec_fail(s, -EKEYEXPIRED, 0, "read",
				    "the peer's traffic key is spent (its "
				    "sequence number would wrap)");
	if (ret < 0) {
		/* Decrypted before the tag was found wrong, perhaps: a
		 * forger must not get plaintext into anyone's memory. */
		explicit_bzero(pt, ctlen);
		return tls_rec_fail(s, -EPROTO, TLS_AD_BAD_RECORD_MAC, "read",
				    "record authentication failed");
	}
	/* TLSInnerPlaintext: content, type, zero padding (5.2). */
	len = ctlen;
	while (len > 0 && pt[len - 1] == 0)
		len--;
	if (len == 0)
		return tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				    "record without a content type");
	/* At most TLS_RECORD_MAX bytes of content: blen is bounded. */
	type = pt[--len];
	if (type == TLS_CT_APPDATA) {
		if (direct) {
			bufq_in_drop(q, TLS_HDR_LEN + blen);
			return (ssize_t)len;
		}
		if (len == 0) {
			bufq_in_drop(q, TLS_HDR_LEN + blen);
			return 0;
		}
		/* Cannot drain the queue: the record is still behind.
		 * tls_rec_read() wipes the window as it reads it out. */
		bufq_in_drop(q, TLS_HDR_LEN);
		s->plain_left = len;
		s->plain_skip = blen - len;
		return 0;
	} else if (type == TLS_CT_ALERT) {
		ret = tls_on_alert(s, pt, len);
	} else if (type == TLS_CT_HANDSHAKE) {
		ret = tls_on_handshake(s, pt, len);
	} else {
		ret = tls_rec_fail(s, -EPROTO, TLS_AD_UNEXPECTED, "read",
				   "unexpected content type");
	}
	/* Handled or refused: no plaintext left behind, in the queue or in
	 * @dst, which is to hold only data for the caller.  Cheap: control
	 * records are a few bytes, and the rest end the session. */
	explicit_bzero(pt, ctlen);
	if (ret < 0)
		return ret;
	bufq_in_drop(q, TLS_HDR_LEN + blen);
	return 0;
}

ssize_t tls_rec_read(struct tls_sess *s, void *buf, size_t n)
{
	struct bufq_in *q = &s->in;
	uint8_t *out = buf;
	size_t done = 0;
	ssize_t r;

	while (done < n && !s->peer_closed) {
		if (s->plain_left > 0) {
			size_t k = s->plain_left < n - done ?
				   s->plain_left : n - done;

			memcpy(out + done, bufq_in_data(q), k);
			/* Plaintext decrypted in place: wiped from the queue
			 * as it leaves, bytes that held data only (the rest
			 * of the record is type, padding and tag). */
			explicit_bzero(bufq_in_data(q), k);
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
