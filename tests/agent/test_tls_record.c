// SPDX-License-Identifier: Apache-2.0
/*
 * The record layer that takes over from wolfSSL after the handshake.
 *
 * Between two of our ends: data both ways at once, half-closes, and the
 * bounds of the queues.  The strongest check that it speaks TLS 1.3 is
 * wolfSSL's own record layer: a "raw" peer is a session whose WOLFSSL the
 * test drives directly (wolfSSL_accept/connect/read/write), so it never
 * hands over.  Data, close_notify and alerts must cross between the two in
 * both roles and with both cipher suites, across key updates each end
 * starts.  Then what the record layer must refuse: tampered, reordered
 * and unprotected records, plaintext past 2^14 + 1 bytes, malformed key
 * updates and session tickets, a sequence number that would wrap.  Keys are updated at their limits, which the cases lower to
 * reach them in a few records (a real 2^24 + 1 records is
 * test_tls_long's); plaintext does not stay behind in the queues or in
 * the reader's buffer.
 *
 * Reaches the session internals and the raw WOLFSSL through tls-int.h,
 * and the record layer's statics (a record of any content, sealed as it
 * is) by including tls_record.c.
 */
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/tls_record.c"
#include "../../agent/loop.h"
#include "harness/tls_harness.h"

#define CHACHA	  "TLS13-CHACHA20-POLY1305-SHA256"
#define AESGCM	  "TLS13-AES128-GCM-SHA256"

/* ---- helpers ------------------------------------------------------------- */

/* The largest write and read the cases make at once. */
#define XFER_MAX	70000

static size_t fill(uint8_t *buf, size_t off, size_t n, unsigned seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = th_pattern(off + i, seed);
	return n;
}

/* Writes @n bytes through @s, ours or raw.  Returns bytes taken or <0. */
static ssize_t xwrite(struct tls_sess *s, bool raw, const void *buf, size_t n)
{
	int ret;

	if (!raw)
		return tls_write(s, buf, n);
	ret = wolfSSL_write(s->ssl, buf, (int)n);
	return ret > 0 ? ret : -EPROTO;
}

/* Reads into @buf, ours or raw: >0, 0 on close_notify, -EAGAIN, -EPROTO. */
static ssize_t xread(struct tls_sess *s, bool raw, void *buf, size_t n)
{
	int ret;

	if (!raw)
		return tls_read(s, buf, n);
	ret = wolfSSL_read(s->ssl, buf, (int)n);
	if (ret > 0)
		return ret;
	ret = wolfSSL_get_error(s->ssl, ret);
	if (ret == WOLFSSL_ERROR_WANT_READ)
		return -EAGAIN;
	return ret == WOLFSSL_ERROR_ZERO_RETURN ? 0 : -EPROTO;
}

/* Writes the next pattern bytes of @total through @s, at most @chunk,
 * advancing *sent.  A full queue is no failure: the write comes again. */
static bool write_next(struct tls_sess *s, bool raw, size_t *sent,
		       size_t total, size_t chunk, unsigned seed)
{
	static uint8_t buf[XFER_MAX];
	size_t n = total - *sent < chunk ? total - *sent : chunk;
	ssize_t w;

	if (n == 0)
		return true;
	w = xwrite(s, raw, buf, fill(buf, *sent, n, seed));
	if (w != -EAGAIN && !ASSERT_GE(w, 1))
		return false;
	if (w > 0)
		*sent += (size_t)w;
	return true;
}

/* Reads everything @s (ours or raw) has decrypted, @rbuf bytes at a time,
 * checking it against the pattern and advancing *got.  Returns the last
 * read's result (-EAGAIN, 0 or an error), or -EBADMSG after a failed
 * check of a byte. */
static ssize_t drain(struct tls_sess *s, bool raw, size_t rbuf, size_t *got,
		     unsigned seed)
{
	static uint8_t buf[XFER_MAX];
	ssize_t r;
	size_t i;

	while ((r = xread(s, raw, buf, rbuf)) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (!ASSERT_EQ(buf[i], th_pattern(*got + i, seed)))
				return -EBADMSG;
		*got += (size_t)r;
	}
	return r;
}

/*
 * Sends @total bytes from @a to @b in writes of up to @wchunk, fed @step
 * bytes at a time and read with a @rbuf-byte buffer, and checks them.
 */
static bool transfer(struct tls_sess *a, bool raw_a, struct tls_sess *b,
		     bool raw_b, size_t total, size_t wchunk, size_t step,
		     size_t rbuf, unsigned seed)
{
	size_t sent = 0, got = 0;
	int rounds = 0;

	while (got < total && rounds++ < 100000) {
		if (!write_next(a, raw_a, &sent, total, wchunk, seed))
			return false;
		th_pump(a, b, step);
		if (!ASSERT_EQ(drain(b, raw_b, rbuf, &got, seed), -EAGAIN))
			return false;
		/* A raw reader may answer (nothing expected, but deliver). */
		th_pump(b, a, 0);
	}
	return ASSERT_EQ(got, total);
}

/* Queues @s's close_notify, ours or raw. */
static bool xclose(struct tls_sess *s, bool raw)
{
	int ret;

	if (!raw)
		return ASSERT_EQ(tls_close_notify(s), 0);
	ret = wolfSSL_shutdown(s->ssl);
	return ASSERT_TRUE(ret == WOLFSSL_SHUTDOWN_NOT_DONE ||
			   ret == WOLFSSL_SUCCESS);
}

/* @a closes; @b reads 0 and answers with its own close_notify. */
static bool close_both(struct tls_sess *a, bool raw_a, struct tls_sess *b,
		       bool raw_b)
{
	uint8_t buf[64];

	if (!xclose(a, raw_a))
		return false;
	th_pump(a, b, 0);
	if (!ASSERT_EQ(xread(b, raw_b, buf, sizeof(buf)), 0) ||
	    !xclose(b, raw_b))
		return false;
	th_pump(b, a, 0);
	return ASSERT_EQ(xread(a, raw_a, buf, sizeof(buf)), 0);
}

/* ---- tests --------------------------------------------------------------- */

/* 1 MiB each way, written in uneven pieces while both sides drain. */
static bool bulk_both_ways(struct th_pair *p)
{
	const size_t total = 1u << 20;
	size_t c_sent = 0, s_sent = 0, c_got = 0, s_got = 0;
	int rounds = 0;

	while ((c_got < total || s_got < total) && rounds++ < 10000) {
		size_t chunk = 1 + (rounds * 7919) % XFER_MAX;

		if (!write_next(p->c, false, &c_sent, total, chunk, 1) ||
		    !write_next(p->s, false, &s_sent, total, chunk, 2))
			return false;
		th_pump(p->c, p->s, 0);
		th_pump(p->s, p->c, 0);
		if (!ASSERT_EQ(drain(p->s, false, 20000, &s_got, 1), -EAGAIN) ||
		    !ASSERT_EQ(drain(p->c, false, 20000, &c_got, 2), -EAGAIN))
			return false;
	}
	return ASSERT_EQ(s_got, total) && ASSERT_EQ(c_got, total) &&
	       /* Drained sessions keep no queue memory. */
	       ASSERT_TRUE(!p->c->out.first && !p->c->out.spare &&
			   !p->c->in.buf) &&
	       ASSERT_TRUE(!p->s->out.first && !p->s->out.spare &&
			   !p->s->in.buf);
}

TH_CASE(bulk_both_ways, NULL, TH_SHAKEN)

/* One end closes, then keeps reading what the other still sends; then the
 * other closes.  Both see 0 from tls_read on the other's close_notify. */
static bool half_close(struct th_pair *p, bool client_first)
{
	struct tls_sess *first = client_first ? p->c : p->s;
	struct tls_sess *second = client_first ? p->s : p->c;
	uint8_t buf[4096];
	size_t got = 0;

	if (!ASSERT_EQ(tls_close_notify(first), 0) ||
	    !ASSERT_EQ(tls_close_notify(first), 0) ||	/* idempotent */
	    !ASSERT_EQ(tls_write(first, "x", 1), -EPIPE))
		return false;
	th_pump(p->c, p->s, 0);
	th_pump(p->s, p->c, 0);
	if (!ASSERT_EQ(tls_read(second, buf, sizeof(buf)), 0) ||
	    !ASSERT_EQ(tls_read(second, buf, sizeof(buf)), 0))
		return false;
	/* The other direction is still open. */
	if (!ASSERT_EQ(tls_write(second, buf, fill(buf, 0, 3000, 7)), 3000))
		return false;
	th_pump(p->c, p->s, 0);
	th_pump(p->s, p->c, 0);
	if (!ASSERT_EQ(drain(first, false, 20000, &got, 7), -EAGAIN) ||
	    !ASSERT_EQ(got, 3000))
		return false;
	if (!ASSERT_EQ(tls_close_notify(second), 0))
		return false;
	th_pump(p->c, p->s, 0);
	th_pump(p->s, p->c, 0);
	return ASSERT_EQ(tls_read(first, buf, sizeof(buf)), 0);
}

static bool half_close_client_first(struct th_pair *p)
{
	return half_close(p, true);
}

TH_CASE(half_close_client_first, NULL, TH_SHAKEN)

static bool half_close_server_first(struct th_pair *p)
{
	char id[MF_SPIFFE_MAX];

	return half_close(p, false) &&
	       /* Closing after the peer resets wolfSSL's state inside; the
		* identity must survive that. */
	       ASSERT_EQ(tls_peer_spiffe(p->s, id, sizeof(id)), 0) &&
	       ASSERT_STREQ(id, PH_ID_CLIENT);
}

TH_CASE(half_close_server_first, NULL, TH_SHAKEN)

/* The output queue is bounded, and bytes handed out never move. */
static bool output_bounded_and_stable(struct th_pair *p)
{
	static uint8_t big[1u << 20], copy[BUFQ_CHUNK], junk[TLS_IN_MAX + 1];
	size_t n, n2, got = 0, total = 0;
	const void *q, *q2;
	ssize_t w;

	fill(big, 0, sizeof(big), 3);
	w = tls_write(p->c, big, 1000);
	if (!ASSERT_EQ(w, 1000))
		return false;
	total = 1000;
	n = tls_out_pending(p->c, &q);
	if (!ASSERT_TRUE(n > 1000 && n < 1100))
		return false;
	memcpy(copy, q, n);
	/* Fill the queue: takes at most ~256 KiB, then refuses. */
	w = tls_write(p->c, big + total, sizeof(big) - total);
	if (!ASSERT_TRUE(w > 200000 && w <= (ssize_t)TLS_OUT_SOFT_MAX))
		return false;
	total += w;
	if (!ASSERT_EQ(tls_write(p->c, big + total, sizeof(big) - total),
		       -EAGAIN))
		return false;
	if (!ASSERT_TRUE(p->c->out.len <= TLS_OUT_SOFT_MAX))
		return false;
	/* The first pending bytes are where they were, unchanged. */
	n2 = tls_out_pending(p->c, &q2);
	if (!ASSERT_TRUE(q2 == q) || !ASSERT_TRUE(n2 >= n) ||
	    !ASSERT_MEMEQ(q2, copy, n))
		return false;
	/* Input is bounded too. */
	if (!ASSERT_EQ(tls_feed(p->s, junk, sizeof(junk)), -ENOBUFS))
		return false;
	/* Everything still arrives, in order. */
	while (got < total) {
		size_t moved = th_pump(p->c, p->s, 0);

		if (!ASSERT_EQ(drain(p->s, false, 20000, &got, 3), -EAGAIN) ||
		    !ASSERT_TRUE(moved > 0 || got >= total))
			return false;
	}
	return ASSERT_EQ(got, total);
}

TH_CASE(output_bounded_and_stable, NULL, TH_SHAKEN)

/* Our end against wolfSSL's record layer at the other end: ours is the
 * client when the server is raw. */
static bool interop(struct th_pair *p)
{
	struct tls_sess *ours = p->raw_s ? p->c : p->s;
	struct tls_sess *raw = p->raw_s ? p->s : p->c;
	char id[MF_SPIFFE_MAX];

	/* Ours has handed over and freed its WOLFSSL; the raw one has not. */
	if (!ASSERT_TRUE(ours->ssl == NULL && ours->keys) ||
	    !ASSERT_TRUE(raw->ssl != NULL && !raw->keys) ||
	    !ASSERT_STREQ(tls_cipher_name(ours), p->ciphers) ||
	    !ASSERT_STREQ(tls_version_name(ours), "TLSv1.3") ||
	    !ASSERT_STREQ(tls_group_name(ours), "X25519") ||
	    !ASSERT_EQ(tls_peer_spiffe(ours, id, sizeof(id)), 0) ||
	    !ASSERT_STREQ(id, p->raw_s ? PH_ID_SERVER : PH_ID_CLIENT))
		return false;
	/* Small, record-sized and multi-record writes, each way, read with
	 * big and tiny buffers and fed whole or byte by byte. */
	return transfer(ours, false, raw, true, 1, 1, 0, 4096, 1) &&
	       transfer(raw, true, ours, false, 1, 1, 0, 4096, 2) &&
	       transfer(ours, false, raw, true, 200000, 65536, 0, 65536, 3) &&
	       transfer(raw, true, ours, false, 200000, 16384, 0, 16384, 4) &&
	       transfer(raw, true, ours, false, 50000, 20000, 0, 7, 5) &&
	       transfer(raw, true, ours, false, 3000, 1000, 1, 16384, 6) &&
	       transfer(ours, false, raw, true, 3000, 1000, 1, 999, 7) &&
	       close_both(ours, false, raw, true);
}

/* Ours in either role, with either suite; the other end raw. */
TH_CASE_AS(interop_our_client_aesgcm, interop, AESGCM, TH_RAW_S | TH_SHAKEN)
TH_CASE_AS(interop_our_server_aesgcm, interop, AESGCM, TH_RAW_C | TH_SHAKEN)
TH_CASE_AS(interop_our_client_chacha, interop, CHACHA, TH_RAW_S | TH_SHAKEN)
TH_CASE_AS(interop_our_server_chacha, interop, CHACHA, TH_RAW_C | TH_SHAKEN)

/* Both ends ours, ChaCha20-Poly1305, with a close by the raw end's rules
 * replaced by ours: like the AES-GCM runs above. */
static bool ours_both_chacha(struct th_pair *p)
{
	return ASSERT_STREQ(tls_cipher_name(p->c), CHACHA) &&
	       ASSERT_STREQ(tls_cipher_name(p->s), CHACHA) &&
	       transfer(p->c, false, p->s, false, 300000, 70000, 0, 16384, 8) &&
	       transfer(p->s, false, p->c, false, 300000, 70000, 0, 100, 9) &&
	       close_both(p->s, false, p->c, false);
}

TH_CASE(ours_both_chacha, CHACHA, TH_SHAKEN)

/* The client writes the moment its handshake ends, so the server gets the
 * client's Finished and application data in one feed: wolfSSL must stop
 * at the Finished record and leave the data to the record layer. */
static bool data_right_after_finished(struct th_pair *p)
{
	uint8_t buf[256];
	int rc, rs;

	rc = tls_handshake(p->c);			/* ClientHello */
	th_pump(p->c, p->s, 0);
	rs = tls_handshake(p->s);			/* ServerHello.. */
	th_pump(p->s, p->c, 0);
	if (!ASSERT_EQ(rc, -EAGAIN) || !ASSERT_EQ(rs, -EAGAIN) ||
	    !ASSERT_EQ(tls_handshake(p->c), 0) ||	/* ..Finished */
	    !ASSERT_EQ(tls_write(p->c, "early bird", 10), 10) ||
	    !ASSERT_EQ(tls_close_notify(p->c), 0))
		return false;
	/* Finished, data and close_notify in one feed. */
	th_pump(p->c, p->s, 0);
	return ASSERT_EQ(tls_handshake(p->s), 0) &&
	       ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), 10) &&
	       ASSERT_MEMEQ(buf, "early bird", 10) &&
	       ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), 0);
}

TH_CASE(data_right_after_finished, NULL, 0)

/* A flipped bit in a record: the reader fails (bad_record_mac), keeps
 * failing, and tells the peer with a fatal alert wolfSSL understands. */
static bool tampered_record_refused(struct th_pair *p)
{
	uint8_t buf[256];
	WOLFSSL_ALERT_HISTORY ah;
	const void *q;
	size_t n;

	if (!ASSERT_EQ(xwrite(p->c, true, "hello", 5), 5))
		return false;
	n = tls_out_pending(p->c, &q);
	if (!ASSERT_TRUE(n > 20))
		return false;
	((uint8_t *)q)[n - 3] ^= 0x01;	/* in the tag */
	th_pump(p->c, p->s, 0);
	if (!ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p->s), "authentication")) ||
	    !ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_EQ(tls_write(p->s, "x", 1), -EPROTO))
		return false;
	/* The alert reaches wolfSSL as bad_record_mac (20). */
	if (!ASSERT_TRUE(th_pump(p->s, p->c, 0) > 0) ||
	    !ASSERT_EQ(xread(p->c, true, buf, sizeof(buf)), -EPROTO))
		return false;
	memset(&ah, 0, sizeof(ah));
	wolfSSL_get_alert_history(p->c->ssl, &ah);
	return ASSERT_EQ(ah.last_rx.code, 20) &&
	       ASSERT_EQ(ah.last_rx.level, alert_fatal);
}

/* Raw client, our server. */
TH_CASE(tampered_record_refused, NULL, TH_RAW_C | TH_SHAKEN)

/* Records delivered out of order fail: each is bound to its sequence
 * number through the nonce. */
static bool reordered_records_refused(struct th_pair *p)
{
	uint8_t buf[256], first[64];
	const void *q;
	size_t n1, n2;

	if (!ASSERT_EQ(tls_write(p->c, "one", 3), 3))
		return false;
	n1 = tls_out_pending(p->c, &q);
	if (!ASSERT_TRUE(n1 <= sizeof(first)))
		return false;
	memcpy(first, q, n1);
	tls_out_consume(p->c, n1);
	if (!ASSERT_EQ(tls_write(p->c, "two", 3), 3))
		return false;
	n2 = th_pump(p->c, p->s, 0);		/* "two" first */
	return ASSERT_EQ(n2, n1) &&
	       ASSERT_EQ(tls_feed(p->s, first, n1), 0) &&
	       ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -EPROTO);
}

TH_CASE(reordered_records_refused, NULL, TH_SHAKEN)

/* A plaintext record after the handshake (e.g. an injected unprotected
 * alert) is refused, not obeyed. */
static bool unprotected_record_refused(struct th_pair *p)
{
	static const uint8_t close_alert[] = { 21, 3, 3, 0, 2, 1, 0 };
	uint8_t buf[64];

	return ASSERT_EQ(tls_feed(p->c, close_alert, sizeof(close_alert)), 0) &&
	       ASSERT_EQ(tls_read(p->c, buf, sizeof(buf)), -EPROTO) &&
	       ASSERT_TRUE(strstr(tls_last_error(p->c), "unprotected"));
}

TH_CASE(unprotected_record_refused, NULL, TH_SHAKEN)

/* Seals a record of application data from @p's client to its server as
 * it is, past any limit: @n pattern bytes from @off, then @pad zeros. */
static bool seal_padded(struct th_pair *p, size_t off, size_t n, size_t pad)
{
	static uint8_t rec[TLS_HDR_LEN + 2 * TLS_RECORD_MAX + TLS_TAG_LEN];
	size_t inner = n + 1 + pad, blen = inner + TLS_TAG_LEN;
	uint8_t *body = rec + TLS_HDR_LEN;

	if (!ASSERT_TRUE(TLS_HDR_LEN + blen <= sizeof(rec)))
		return false;
	rec[0] = TLS_CT_APPDATA;
	rec[1] = 0x03;
	rec[2] = 0x03;
	rec[3] = (uint8_t)(blen >> 8);
	rec[4] = (uint8_t)blen;
	fill(body, off, n, 15);
	body[n] = TLS_CT_APPDATA;
	memset(body + n + 1, 0, pad);
	return ASSERT_EQ(tls_crypt(&p->c->rec, true, rec, body, inner, body),
			 0) &&
	       ASSERT_EQ(tls_feed(p->s, rec, TLS_HDR_LEN + blen), 0);
}

/* A TLSInnerPlaintext holds 2^14 + 1 bytes at most, padding included
 * (RFC 8446 5.4): up to that a record is read whatever its padding, past
 * it refused with record_overflow, although within 5.2's 2^14 + 256. */
static bool inner_plaintext_limit(struct th_pair *p)
{
	size_t got = 0;

	if (!seal_padded(p, 0, TLS_RECORD_MAX, 0) ||
	    !seal_padded(p, TLS_RECORD_MAX, TLS_RECORD_MAX - 1, 1) ||
	    !seal_padded(p, 2 * TLS_RECORD_MAX - 1, 0, TLS_RECORD_MAX) ||
	    !ASSERT_EQ(drain(p->s, false, 20000, &got, 15), -EAGAIN) ||
	    !ASSERT_EQ(got, 2 * TLS_RECORD_MAX - 1))
		return false;
	if (!seal_padded(p, got, TLS_RECORD_MAX, 1) ||
	    !ASSERT_EQ(drain(p->s, false, 20000, &got, 15), -EPROTO) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p->s), "record too long")))
		return false;
	th_pump(p->s, p->c, 0);
	return ASSERT_EQ(drain(p->c, false, 20000, &got, 15), -EPROTO) &&
	       ASSERT_TRUE(strstr(tls_last_error(p->c), "(22)"));
}

TH_CASE(inner_plaintext_limit, NULL, TH_SHAKEN)

/* ---- key updates -------------------------------------------------------- */

/* Direction @d's secret is @old moved on @n KeyUpdates (RFC 8446 4.6.3),
 * @n < 1000.  Returns @n, or -1 when no count of updates up to 1000
 * gives it. */
static int updates_since(const uint8_t *old, const struct tls_dir *d)
{
	uint8_t sec[TLS_SECRET_LEN], next[TLS_SECRET_LEN];
	int n;

	memcpy(sec, old, sizeof(sec));
	for (n = 0; n < 1000; n++) {
		if (memcmp(sec, d->secret, sizeof(sec)) == 0)
			return n;
		if (tls_expand_label(next, sizeof(next), sec, "traffic upd",
				     NULL, 0) < 0)
			return -1;
		memcpy(sec, next, sizeof(sec));
	}
	return -1;
}

/* Both our ends of @p are on the same keys, each way. */
static bool keys_agree(struct th_pair *p)
{
	return ASSERT_MEMEQ(p->c->rec.wr.secret, p->s->rec.rd.secret,
			    TLS_SECRET_LEN) &&
	       ASSERT_MEMEQ(p->s->rec.wr.secret, p->c->rec.rd.secret,
			    TLS_SECRET_LEN) &&
	       ASSERT_EQ(p->c->rec.wr.seq, p->s->rec.rd.seq) &&
	       ASSERT_EQ(p->s->rec.wr.seq, p->c->rec.rd.seq);
}

/* Our end against wolfSSL's across key updates: the raw end's
 * (wolfSSL_update_keys() asks for ours in return), ours unasked and
 * asking, and both at once. */
static bool interop_updates(struct th_pair *p)
{
	struct tls_sess *ours = p->raw_s ? p->c : p->s;
	struct tls_sess *raw = p->raw_s ? p->s : p->c;
	uint8_t rd0[TLS_SECRET_LEN], wr0[TLS_SECRET_LEN];
	int required = -1;

	memcpy(rd0, ours->rec.rd.secret, sizeof(rd0));
	memcpy(wr0, ours->rec.wr.secret, sizeof(wr0));
	/* The raw end updates and asks: we follow, and answer before our
	 * next record. */
	if (!ASSERT_EQ(wolfSSL_update_keys(raw->ssl), WOLFSSL_SUCCESS) ||
	    !transfer(raw, true, ours, false, 40000, 16384, 0, 16384, 1) ||
	    !ASSERT_EQ(updates_since(rd0, &ours->rec.rd), 1) ||
	    !ASSERT_TRUE(ours->update_owed) ||
	    !ASSERT_EQ(updates_since(wr0, &ours->rec.wr), 0) ||
	    !transfer(ours, false, raw, true, 40000, 16384, 0, 16384, 2) ||
	    !ASSERT_EQ(updates_since(wr0, &ours->rec.wr), 1) ||
	    !ASSERT_TRUE(!ours->update_owed) ||
	    !ASSERT_EQ(wolfSSL_key_update_response(raw->ssl, &required), 0) ||
	    !ASSERT_EQ(required, 0))
		return false;
	/* Ours, not asking: only our writing key changes. */
	if (!ASSERT_EQ(tls_rec_update(ours, false), 0) ||
	    !transfer(ours, false, raw, true, 3000, 1000, 1, 999, 3) ||
	    !transfer(raw, true, ours, false, 3000, 1000, 0, 7, 4) ||
	    !ASSERT_EQ(updates_since(wr0, &ours->rec.wr), 2) ||
	    !ASSERT_EQ(updates_since(rd0, &ours->rec.rd), 1))
		return false;
	/* Ours, asking: wolfSSL answers as it reads. */
	if (!ASSERT_EQ(tls_rec_update(ours, true), 0) ||
	    !transfer(ours, false, raw, true, 20000, 7000, 0, 4096, 5) ||
	    !transfer(raw, true, ours, false, 20000, 7000, 0, 4096, 6) ||
	    !ASSERT_EQ(updates_since(wr0, &ours->rec.wr), 3) ||
	    !ASSERT_EQ(updates_since(rd0, &ours->rec.rd), 2) ||
	    !ASSERT_TRUE(!ours->update_owed))
		return false;
	/* Both ask at once: each answers the other's too. */
	if (!ASSERT_EQ(wolfSSL_update_keys(raw->ssl), WOLFSSL_SUCCESS) ||
	    !ASSERT_EQ(tls_rec_update(ours, true), 0) ||
	    !transfer(ours, false, raw, true, 20000, 7000, 0, 4096, 7) ||
	    !transfer(raw, true, ours, false, 20000, 7000, 0, 4096, 8) ||
	    !transfer(ours, false, raw, true, 20000, 7000, 0, 4096, 9) ||
	    !transfer(raw, true, ours, false, 20000, 7000, 0, 4096, 10) ||
	    !ASSERT_EQ(updates_since(wr0, &ours->rec.wr), 5) ||
	    !ASSERT_EQ(updates_since(rd0, &ours->rec.rd), 4))
		return false;
	return close_both(ours, false, raw, true);
}

TH_CASE_AS(interop_updates_our_client_aesgcm, interop_updates, AESGCM,
	   TH_RAW_S | TH_SHAKEN)
TH_CASE_AS(interop_updates_our_server_aesgcm, interop_updates, AESGCM,
	   TH_RAW_C | TH_SHAKEN)
TH_CASE_AS(interop_updates_our_client_chacha, interop_updates, CHACHA,
	   TH_RAW_S | TH_SHAKEN)
TH_CASE_AS(interop_updates_our_server_chacha, interop_updates, CHACHA,
	   TH_RAW_C | TH_SHAKEN)

/* Both ends ours: a request answered before the next data, and requests
 * that cross, after which both ends still agree on every key. */
static bool ours_updates(struct th_pair *p)
{
	uint8_t c_wr0[TLS_SECRET_LEN], s_wr0[TLS_SECRET_LEN];

	memcpy(c_wr0, p->c->rec.wr.secret, sizeof(c_wr0));
	memcpy(s_wr0, p->s->rec.wr.secret, sizeof(s_wr0));
	if (!ASSERT_EQ(tls_rec_update(p->c, true), 0) ||
	    !transfer(p->c, false, p->s, false, 5000, 5000, 0, 16384, 1) ||
	    !ASSERT_TRUE(p->s->update_owed) ||
	    !transfer(p->s, false, p->c, false, 5000, 5000, 0, 16384, 2) ||
	    !ASSERT_TRUE(!p->s->update_owed) ||
	    !ASSERT_EQ(updates_since(c_wr0, &p->c->rec.wr), 1) ||
	    !ASSERT_EQ(updates_since(s_wr0, &p->s->rec.wr), 1) ||
	    !keys_agree(p))
		return false;
	if (!ASSERT_EQ(tls_rec_update(p->c, true), 0) ||
	    !ASSERT_EQ(tls_rec_update(p->s, true), 0) ||
	    !transfer(p->c, false, p->s, false, 5000, 5000, 0, 16384, 3) ||
	    !transfer(p->s, false, p->c, false, 5000, 5000, 0, 16384, 4) ||
	    !transfer(p->c, false, p->s, false, 5000, 5000, 0, 16384, 5))
		return false;
	return ASSERT_EQ(updates_since(c_wr0, &p->c->rec.wr), 3) &&
	       ASSERT_EQ(updates_since(s_wr0, &p->s->rec.wr), 3) &&
	       keys_agree(p) && close_both(p->c, false, p->s, false);
}

TH_CASE_AS(ours_updates_aesgcm, ours_updates, AESGCM, TH_SHAKEN)
TH_CASE_AS(ours_updates_chacha, ours_updates, CHACHA, TH_SHAKEN)

/* Sends @n one-byte records from @a to @b and reads them back. */
static bool one_byte_records(struct tls_sess *a, struct tls_sess *b,
			     size_t n)
{
	static uint8_t buf[1 << 16];
	size_t i, got = 0;

	for (i = 0; i < n; i++) {
		buf[0] = th_pattern(i, 11);
		if (!ASSERT_EQ(tls_write(a, buf, 1), 1))
			return false;
		if (a->out.len > TLS_OUT_SOFT_MAX / 2 || i + 1 == n) {
			th_pump(a, b, 0);
			if (!ASSERT_EQ(drain(b, false, sizeof(buf), &got, 11),
				       -EAGAIN))
				return false;
		}
	}
	return ASSERT_EQ(got, n);
}

/* AES-GCM: the writer updates its key before a record would take the
 * key's q + s past the limit, in blocks whatever the record sizes;
 * lowered here from 2^34 to a few records' worth. */
static bool update_at_block_limit(struct th_pair *p)
{
	uint8_t wr0[TLS_SECRET_LEN];

	/* One-byte records cost 2 (a block, a record): 50 to a key, so
	 * 1000 of them take 19 updates. */
	p->c->rec.key_blocks = 100;
	memcpy(wr0, p->c->rec.wr.secret, sizeof(wr0));
	if (!one_byte_records(p->c, p->s, 1000) ||
	    !ASSERT_EQ(updates_since(wr0, &p->c->rec.wr), 19) ||
	    !ASSERT_EQ(p->c->rec.wr.blocks, 100) ||
	    !keys_agree(p))
		return false;
	/* Full records cost 1026: 3 to a key of 3078 (the KeyUpdate's 2 go
	 * over it).  Records vary in size with the queue's chunks, but a
	 * key never carries more than 3078 blocks of them, about 48 KiB:
	 * 1 MiB takes more than 20 updates. */
	p->c->rec.key_blocks = 3 * 1026;
	memcpy(wr0, p->c->rec.wr.secret, sizeof(wr0));
	return transfer(p->c, false, p->s, false, 1u << 20, 65536, 0, 65536,
			12) &&
	       ASSERT_GE(updates_since(wr0, &p->c->rec.wr), 21) &&
	       ASSERT_TRUE(p->c->rec.wr.blocks <= 3 * 1026) &&
	       keys_agree(p);
}

TH_CASE(update_at_block_limit, AESGCM, TH_SHAKEN)

/* ChaCha20-Poly1305 counts no blocks: no update however much goes
 * through. */
static bool chacha_no_block_limit(struct th_pair *p)
{
	uint8_t wr0[TLS_SECRET_LEN];

	memcpy(wr0, p->c->rec.wr.secret, sizeof(wr0));
	return ASSERT_EQ(p->c->rec.key_blocks, UINT64_MAX) &&
	       one_byte_records(p->c, p->s, 1000) &&
	       transfer(p->c, false, p->s, false, 1u << 20, 65536, 0, 65536,
			13) &&
	       ASSERT_EQ(updates_since(wr0, &p->c->rec.wr), 0) &&
	       ASSERT_EQ(p->c->rec.wr.blocks, 0);
}

TH_CASE(chacha_no_block_limit, CHACHA, TH_SHAKEN)

/* Records are not what a key is counted in: past 2^24 of them each way,
 * the session goes on, on the same keys (both ends jumped there). */
static bool no_record_limit(struct th_pair *p)
{
	uint8_t c_wr0[TLS_SECRET_LEN], s_wr0[TLS_SECRET_LEN];

	memcpy(c_wr0, p->c->rec.wr.secret, sizeof(c_wr0));
	memcpy(s_wr0, p->s->rec.wr.secret, sizeof(s_wr0));
	p->c->rec.wr.seq = p->s->rec.rd.seq = (1ull << 24) - 2;
	p->s->rec.wr.seq = p->c->rec.rd.seq = (1ull << 24) - 2;
	return one_byte_records(p->c, p->s, 5) &&
	       one_byte_records(p->s, p->c, 5) &&
	       ASSERT_EQ(p->c->rec.wr.seq, (1ull << 24) + 3) &&
	       ASSERT_EQ(updates_since(c_wr0, &p->c->rec.wr), 0) &&
	       ASSERT_EQ(updates_since(s_wr0, &p->s->rec.wr), 0) &&
	       keys_agree(p);
}

TH_CASE_AS(no_record_limit_aesgcm, no_record_limit, AESGCM, TH_SHAKEN)
TH_CASE_AS(no_record_limit_chacha, no_record_limit, CHACHA, TH_SHAKEN)

/* The last sequence number, 2^64 - 1, goes to a KeyUpdate: the data
 * after it is on the next key, from 0. */
static bool update_at_last_seq(struct th_pair *p)
{
	uint8_t wr0[TLS_SECRET_LEN];

	memcpy(wr0, p->c->rec.wr.secret, sizeof(wr0));
	p->c->rec.wr.seq = p->s->rec.rd.seq = UINT64_MAX - 1;
	return one_byte_records(p->c, p->s, 3) &&
	       ASSERT_EQ(updates_since(wr0, &p->c->rec.wr), 1) &&
	       ASSERT_EQ(p->c->rec.wr.seq, 2) &&
	       ASSERT_TRUE(!p->c->rec.wr.spent && !p->s->rec.rd.spent) &&
	       keys_agree(p);
}

TH_CASE_AS(update_at_last_seq_aesgcm, update_at_last_seq, AESGCM, TH_SHAKEN)
TH_CASE_AS(update_at_last_seq_chacha, update_at_last_seq, CHACHA, TH_SHAKEN)

/* A key whose last sequence number is used is spent: a reader refuses
 * the record after it, unless that was a KeyUpdate (a writer that
 * wraps), and a writer refuses to seal with it. */
static bool spent_key_refused(struct th_pair *p)
{
	uint8_t buf[64];

	p->c->rec.wr.seq = p->s->rec.rd.seq = UINT64_MAX;
	/* Sealed as it is, not after the KeyUpdate tls_write() sends. */
	if (!ASSERT_EQ(tls_seal_record(p->c, TLS_CT_APPDATA, "x", 1), 0) ||
	    !ASSERT_TRUE(p->c->rec.wr.spent))
		return false;
	th_pump(p->c, p->s, 0);
	if (!ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), 1) ||
	    !ASSERT_TRUE(p->s->rec.rd.spent))
		return false;
	/* The writer wraps to 0. */
	p->c->rec.wr.spent = false;
	p->c->rec.wr.seq = 0;
	if (!ASSERT_EQ(tls_seal_record(p->c, TLS_CT_APPDATA, "y", 1), 0))
		return false;
	th_pump(p->c, p->s, 0);
	if (!ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -EKEYEXPIRED) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p->s), "spent")))
		return false;
	/* A writer's own guard, should the KeyUpdate not have come. */
	p->c->rec.wr.seq = UINT64_MAX;
	p->c->rec.wr.spent = true;
	return ASSERT_EQ(tls_write(p->c, "z", 1), -EKEYEXPIRED) &&
	       ASSERT_TRUE(strstr(tls_last_error(p->c), "spent")) &&
	       ASSERT_TRUE(tls_write(p->c, "more", 4) < 0);
}

TH_CASE(spent_key_refused, NULL, TH_SHAKEN)

/* @msg, @n bytes, sealed as a handshake record from @a to @b, must fail
 * @b's read with @why and reach @a as the fatal alert @desc. */
static bool bad_message(struct tls_sess *a, struct tls_sess *b,
			const uint8_t *msg, size_t n, const char *why,
			int desc)
{
	char want[32];
	uint8_t buf[64];

	if (!ASSERT_EQ(tls_seal_record(a, TLS_CT_HANDSHAKE, msg, n), 0))
		return false;
	th_pump(a, b, 0);
	if (!ASSERT_EQ(tls_read(b, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_TRUE(strstr(tls_last_error(b), why)))
		return false;
	th_pump(b, a, 0);
	snprintf(want, sizeof(want), "(%d)", desc);
	return ASSERT_EQ(tls_read(a, buf, sizeof(buf)), -EPROTO) &&
	       ASSERT_TRUE(strstr(tls_last_error(a), want));
}

/* The same from client to server. */
static bool bad_update(struct th_pair *p, const uint8_t *msg, size_t n,
		       const char *why, int desc)
{
	return bad_message(p->c, p->s, msg, n, why, desc);
}

static bool update_too_long(struct th_pair *p)
{
	static const uint8_t m[] = { 24, 0, 0, 2, 0, 0 };

	return bad_update(p, m, sizeof(m), "malformed key update", 50);
}

TH_CASE(update_too_long, NULL, TH_SHAKEN)

static bool update_bad_request(struct th_pair *p)
{
	static const uint8_t m[] = { 24, 0, 0, 1, 2 };

	return bad_update(p, m, sizeof(m), "bad request_update", 47);
}

TH_CASE(update_bad_request, NULL, TH_SHAKEN)

static bool update_not_last(struct th_pair *p)
{
	static const uint8_t m[] = { 24, 0, 0, 1, 0, 24, 0, 0, 1, 0 };

	return bad_update(p, m, sizeof(m), "not at the end of its record",
			  10);
}

TH_CASE(update_not_last, NULL, TH_SHAKEN)

/* ---- session tickets ------------------------------------------------------ */

/* A NewSessionTicket (RFC 8446 4.6.1) of @tlen ticket bytes, nonce "n",
 * and extensions @ext (@elen bytes) into @m.  Returns its length. */
static size_t ticket(uint8_t *m, size_t tlen, const uint8_t *ext,
		     size_t elen)
{
	size_t body = 4 + 4 + 2 + 2 + tlen + 2 + elen, off = 0;

	m[off++] = TLS_HS_NEW_TICKET;
	m[off++] = 0;
	m[off++] = (uint8_t)(body >> 8);
	m[off++] = (uint8_t)body;
	memcpy(m + off, "\0\0\x1c\x20" "\1\2\3\4", 8);	/* 7200 s */
	off += 8;
	m[off++] = 1;
	m[off++] = 'n';
	m[off++] = (uint8_t)(tlen >> 8);
	m[off++] = (uint8_t)tlen;
	memset(m + off, 't', tlen);
	off += tlen;
	m[off++] = (uint8_t)(elen >> 8);
	m[off++] = (uint8_t)elen;
	if (elen)	/* memcpy from NULL is undefined even for 0 bytes */
		memcpy(m + off, ext, elen);
	return off + elen;
}

/* A client drops the tickets a server sends, after reading them for their
 * syntax: one that does not parse is a decode_error. */
static bool tickets_dropped(struct th_pair *p)
{
	/* early_data (max_early_data_size), an extension unknown to us. */
	static const uint8_t ext[] = { 0, 42, 0, 4, 0, 0, 0x40, 0,
				       0x7a, 0x7a, 0, 0 };
	uint8_t m[256], buf[64];
	size_t n;

	n = ticket(m, 32, ext, sizeof(ext));
	if (!ASSERT_EQ(tls_seal_record(p->s, TLS_CT_HANDSHAKE, m, n), 0))
		return false;
	n = ticket(m, 1, NULL, 0);
	if (!ASSERT_EQ(tls_seal_record(p->s, TLS_CT_HANDSHAKE, m, n), 0) ||
	    !ASSERT_EQ(tls_write(p->s, "after", 5), 5))
		return false;
	th_pump(p->s, p->c, 0);
	if (!ASSERT_EQ(tls_read(p->c, buf, sizeof(buf)), 5) ||
	    !ASSERT_MEMEQ(buf, "after", 5))
		return false;
	/* No ticket in it. */
	n = ticket(m, 0, NULL, 0);
	return bad_message(p->s, p->c, m, n, "malformed new session ticket",
			   50);
}

TH_CASE(tickets_dropped, NULL, TH_SHAKEN)

/* Tickets that do not parse, each on a pair of its own. */
static bool ticket_bad(struct th_pair *p, const uint8_t *m, size_t n)
{
	return bad_message(p->s, p->c, m, n, "malformed new session ticket",
			   50);
}

static bool ticket_empty(struct th_pair *p)
{
	static const uint8_t m[] = { TLS_HS_NEW_TICKET, 0, 0, 0 };

	return ticket_bad(p, m, sizeof(m));
}

TH_CASE(ticket_empty, NULL, TH_SHAKEN)

/* The extensions' length says one byte more than the message holds. */
static bool ticket_extensions_overrun(struct th_pair *p)
{
	static const uint8_t ext[] = { 0x7a, 0x7a, 0, 0 };
	uint8_t m[64];
	size_t n = ticket(m, 4, ext, sizeof(ext));

	m[n - sizeof(ext) - 1]++;
	return ticket_bad(p, m, n);
}

TH_CASE(ticket_extensions_overrun, NULL, TH_SHAKEN)

/* An extension whose data runs past the block. */
static bool ticket_extension_cut(struct th_pair *p)
{
	static const uint8_t ext[] = { 0x7a, 0x7a, 0, 3, 0, 0 };
	uint8_t m[64];

	return ticket_bad(p, m, ticket(m, 4, ext, sizeof(ext)));
}

TH_CASE(ticket_extension_cut, NULL, TH_SHAKEN)

/* ---- the reader's chunk --------------------------------------------------- */

/* A loop chunk (LOOP_PBUF_SIZE) takes four records of up to 16 KiB, each
 * opened straight into it: one read returns them all, and none was
 * decrypted in place in the input queue to be copied out. */
static bool chunk_takes_four_records(struct th_pair *p)
{
	static uint8_t want[4 * 16384], buf[LOOP_PBUF_SIZE];

	fill(want, 0, sizeof(want), 15);
	if (!ASSERT_EQ(tls_write(p->c, want, sizeof(want)), sizeof(want)))
		return false;
	th_pump(p->c, p->s, 0);
	return ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), sizeof(want)) &&
	       ASSERT_MEMEQ(buf, want, sizeof(want)) &&
	       ASSERT_EQ(p->s->plain_left, 0) &&
	       ASSERT_EQ(bufq_in_len(&p->s->in), 0);
}

TH_CASE(chunk_takes_four_records, NULL, TH_SHAKEN)

/* ---- plaintext left behind ----------------------------------------------- */

/* A record read out in pieces was decrypted in place: what has been read
 * of it is wiped from the input queue, what has not is still there. */
static bool window_wiped(struct th_pair *p)
{
	uint8_t buf[3000], want[3000];
	struct bufq_in *q = &p->s->in;

	fill(want, 0, sizeof(want), 14);
	if (!ASSERT_EQ(tls_write(p->c, want, sizeof(want)), 3000))
		return false;
	th_pump(p->c, p->s, 0);
	if (!ASSERT_EQ(tls_read(p->s, buf, 1000), 1000) ||
	    !ASSERT_MEMEQ(buf, want, 1000) ||
	    !ASSERT_EQ(p->s->plain_left, 2000) ||
	    !ASSERT_ZEROED(q->buf + q->head - 1000, 1000) ||
	    !ASSERT_MEMEQ(bufq_in_data(q), want + 1000, 2000))
		return false;
	return ASSERT_EQ(tls_read(p->s, buf, 1500), 1500) &&
	       ASSERT_ZEROED(q->buf + q->head - 2500, 2500) &&
	       ASSERT_EQ(tls_read(p->s, buf + 1500, 1500), 500) &&
	       ASSERT_MEMEQ(buf, want + 1000, 2000);
}

TH_CASE(window_wiped, NULL, TH_SHAKEN)

/* A control record opened in the reader's buffer is wiped from it once
 * handled; a record that fails to open leaves nothing there either. */
static bool reader_buffer_clean(struct th_pair *p)
{
	uint8_t buf[256];
	const void *q;
	size_t n;

	memset(buf, 0xa5, sizeof(buf));
	if (!ASSERT_EQ(tls_rec_update(p->c, false), 0))
		return false;
	th_pump(p->c, p->s, 0);
	/* KeyUpdate: 5 bytes and its type, decrypted into buf. */
	if (!ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -EAGAIN) ||
	    !ASSERT_ZEROED(buf, 6) || !ASSERT_EQ(buf[6], 0xa5))
		return false;
	if (!ASSERT_EQ(tls_write(p->c, "secret!!", 8), 8))
		return false;
	n = tls_out_pending(p->c, &q);
	((uint8_t *)q)[n - 1] ^= 0x01;	/* in the tag */
	th_pump(p->c, p->s, 0);
	memset(buf, 0xa5, sizeof(buf));
	return ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -EPROTO) &&
	       ASSERT_ZEROED(buf, 9) && ASSERT_EQ(buf[9], 0xa5);
}

TH_CASE_AS(reader_buffer_clean_aesgcm, reader_buffer_clean, AESGCM,
	   TH_SHAKEN)
TH_CASE_AS(reader_buffer_clean_chacha, reader_buffer_clean, CHACHA,
	   TH_SHAKEN)

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls_record/tls_global_init\n");
		return 1;
	}
	th_have_certs = ph_make_pki(th_dir, sizeof(th_dir), "tls-rec");
	TEST_RUN(test_bulk_both_ways);
	TEST_RUN(test_half_close_client_first);
	TEST_RUN(test_half_close_server_first);
	TEST_RUN(test_output_bounded_and_stable);
	TEST_RUN(test_interop_our_client_aesgcm);
	TEST_RUN(test_interop_our_server_aesgcm);
	TEST_RUN(test_interop_our_client_chacha);
	TEST_RUN(test_interop_our_server_chacha);
	TEST_RUN(test_ours_both_chacha);
	TEST_RUN(test_data_right_after_finished);
	TEST_RUN(test_tampered_record_refused);
	TEST_RUN(test_reordered_records_refused);
	TEST_RUN(test_unprotected_record_refused);
	TEST_RUN(test_inner_plaintext_limit);
	TEST_RUN(test_interop_updates_our_client_aesgcm);
	TEST_RUN(test_interop_updates_our_server_aesgcm);
	TEST_RUN(test_interop_updates_our_client_chacha);
	TEST_RUN(test_interop_updates_our_server_chacha);
	TEST_RUN(test_ours_updates_aesgcm);
	TEST_RUN(test_ours_updates_chacha);
	TEST_RUN(test_update_at_block_limit);
	TEST_RUN(test_chacha_no_block_limit);
	TEST_RUN(test_no_record_limit_aesgcm);
	TEST_RUN(test_no_record_limit_chacha);
	TEST_RUN(test_update_at_last_seq_aesgcm);
	TEST_RUN(test_update_at_last_seq_chacha);
	TEST_RUN(test_spent_key_refused);
	TEST_RUN(test_update_too_long);
	TEST_RUN(test_update_bad_request);
	TEST_RUN(test_update_not_last);
	TEST_RUN(test_tickets_dropped);
	TEST_RUN(test_ticket_empty);
	TEST_RUN(test_ticket_extensions_overrun);
	TEST_RUN(test_ticket_extension_cut);
	TEST_RUN(test_chunk_takes_four_records);
	TEST_RUN(test_window_wiped);
	TEST_RUN(test_reader_buffer_clean_aesgcm);
	TEST_RUN(test_reader_buffer_clean_chacha);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
