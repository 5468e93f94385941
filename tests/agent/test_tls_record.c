// SPDX-License-Identifier: Apache-2.0
/*
 * The record layer that takes over from wolfSSL after the handshake.
 *
 * Between two of our ends: data both ways at once, half-closes, and the
 * bounds of the queues.  The strongest check that it speaks TLS 1.3 is wolfSSL's own record
 * layer: a "raw" peer is a session whose WOLFSSL the test drives directly
 * (wolfSSL_accept/connect/read/write), so it never hands over.  Data,
 * close_notify and alerts must cross between the two in both roles and
 * with both cipher suites.  Then what the record layer must refuse:
 * tampered, reordered and unprotected records, and key updates, which it
 * does not support.
 *
 * Reaches the session internals and the raw WOLFSSL through tls-int.h.
 */
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"

#define CHACHA	  "TLS13-CHACHA20-POLY1305-SHA256"
#define AESGCM	  "TLS13-AES128-GCM-SHA256"

static bool have_certs;

/* ---- helpers ------------------------------------------------------------- */

/* Client and server on CA "ca"; @raw_c, @raw_s: see th_handshake(). */
static bool pair_open(struct th_pair *p, bool raw_c, bool raw_s,
		      const char *client_ciphers)
{
	if (!th_pair_open(p, "client", "server", client_ciphers))
		return false;
	p->raw_c = raw_c;
	p->raw_s = raw_s;
	return true;
}

static bool handshake(struct th_pair *p)
{
	int rc, rs;

	th_handshake(p, &rc, &rs);
	return ASSERT_EQ(rc, 0) && ASSERT_EQ(rs, 0);
}

static size_t pump(struct tls_sess *a, struct tls_sess *b)
{
	return th_pump(a, b, 0);
}

/* Reads everything @s has decrypted, checking it against the pattern and
 * advancing *got.  Returns the last tls_read result (-EAGAIN, 0 or error). */
static ssize_t drain_check(struct tls_sess *s, size_t *got, unsigned seed,
			   bool *ok)
{
	uint8_t buf[20000];
	ssize_t r;
	size_t i;

	while ((r = tls_read(s, buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)r; i++) {
			if (buf[i] != th_pattern(*got + i, seed)) {
				fprintf(stderr, "mismatch at %zu\n", *got + i);
				*ok = false;
				return -EBADMSG;
			}
		}
		*got += r;
	}
	return r;
}

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

/*
 * Sends @total bytes from @a to @b in writes of up to @wchunk, fed @step
 * bytes at a time and read with a @rbuf-byte buffer, and checks them.
 */
static bool transfer(struct tls_sess *a, bool raw_a, struct tls_sess *b,
		     bool raw_b, size_t total, size_t wchunk, size_t step,
		     size_t rbuf, unsigned seed)
{
	static uint8_t wbuf[70000], r[70000];
	size_t sent = 0, got = 0, i;
	int rounds = 0;
	ssize_t n;

	while (got < total && rounds++ < 100000) {
		if (sent < total) {
			size_t k = total - sent < wchunk ? total - sent : wchunk;

			n = xwrite(a, raw_a, wbuf, fill(wbuf, sent, k, seed));
			if (n != -EAGAIN && !ASSERT_TRUE(n > 0))
				return false;
			if (n > 0)
				sent += (size_t)n;
		}
		th_pump(a, b, step);
		while ((n = xread(b, raw_b, r, rbuf)) > 0) {
			for (i = 0; i < (size_t)n; i++)
				if (!ASSERT_EQ(r[i], th_pattern(got + i, seed)))
					return false;
			got += (size_t)n;
		}
		if (!ASSERT_EQ(n, -EAGAIN))
			return false;
		/* A raw reader may answer (nothing expected, but deliver). */
		pump(b, a);
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
	pump(a, b);
	if (!ASSERT_EQ(xread(b, raw_b, buf, sizeof(buf)), 0) ||
	    !xclose(b, raw_b))
		return false;
	pump(b, a);
	return ASSERT_EQ(xread(a, raw_a, buf, sizeof(buf)), 0);
}

/* Our end @ours against wolfSSL's record layer at the other end. */
static bool interop(bool our_client, const char *ciphers)
{
	struct th_pair p;
	bool ok = false;
	struct tls_sess *ours, *raw;
	char id[MF_SPIFFE_MAX];

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!pair_open(&p, !our_client, our_client, ciphers) || !handshake(&p))
		goto out;
	ours = our_client ? p.c : p.s;
	raw = our_client ? p.s : p.c;
	/* Ours has handed over and freed its WOLFSSL; the raw one has not. */
	if (!ASSERT_TRUE(ours->ssl == NULL && ours->keys) ||
	    !ASSERT_TRUE(raw->ssl != NULL && !raw->keys) ||
	    !ASSERT_STREQ(tls_cipher_name(ours), ciphers) ||
	    !ASSERT_STREQ(tls_version_name(ours), "TLSv1.3") ||
	    !ASSERT_STREQ(tls_group_name(ours), "X25519") ||
	    !ASSERT_EQ(tls_peer_spiffe(ours, id, sizeof(id)), 0) ||
	    !ASSERT_STREQ(id, our_client ? PH_ID_SERVER : PH_ID_CLIENT))
		goto out;
	/* Small, record-sized and multi-record writes, each way, read with
	 * big and tiny buffers and fed whole or byte by byte. */
	ok = transfer(ours, false, raw, true, 1, 1, 0, 4096, 1) &&
	     transfer(raw, true, ours, false, 1, 1, 0, 4096, 2) &&
	     transfer(ours, false, raw, true, 200000, 65536, 0, 65536, 3) &&
	     transfer(raw, true, ours, false, 200000, 16384, 0, 16384, 4) &&
	     transfer(raw, true, ours, false, 50000, 20000, 0, 7, 5) &&
	     transfer(raw, true, ours, false, 3000, 1000, 1, 16384, 6) &&
	     transfer(ours, false, raw, true, 3000, 1000, 1, 999, 7) &&
	     close_both(ours, false, raw, true);
out:
	th_pair_close(&p);
	return ok;
}

/* ---- tests --------------------------------------------------------------- */

/* 1 MiB each way, written in uneven pieces while both sides drain. */
static bool test_bulk_both_ways(void)
{
	const size_t total = 1u << 20;
	static uint8_t wbuf[70000];
	size_t c_sent = 0, s_sent = 0, c_got = 0, s_got = 0;
	struct th_pair p;
	int rounds = 0;
	bool ok = false, data_ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	while ((c_got < total || s_got < total) && rounds++ < 10000) {
		ssize_t w;
		size_t chunk = 1 + (rounds * 7919) % sizeof(wbuf);

		if (c_sent < total) {
			size_t n = total - c_sent < chunk ? total - c_sent : chunk;

			w = tls_write(p.c, wbuf, fill(wbuf, c_sent, n, 1));
			if (w != -EAGAIN && !ASSERT_GE(w, 1))
				goto out;
			if (w > 0)
				c_sent += w;
		}
		if (s_sent < total) {
			size_t n = total - s_sent < chunk ? total - s_sent : chunk;

			w = tls_write(p.s, wbuf, fill(wbuf, s_sent, n, 2));
			if (w != -EAGAIN && !ASSERT_GE(w, 1))
				goto out;
			if (w > 0)
				s_sent += w;
		}
		pump(p.c, p.s);
		pump(p.s, p.c);
		if (!ASSERT_EQ(drain_check(p.s, &s_got, 1, &data_ok), -EAGAIN) ||
		    !ASSERT_EQ(drain_check(p.c, &c_got, 2, &data_ok), -EAGAIN))
			goto out;
	}
	ok = ASSERT_TRUE(data_ok) && ASSERT_EQ(s_got, total) &&
	     ASSERT_EQ(c_got, total) &&
	     /* Drained sessions keep no queue memory. */
	     ASSERT_TRUE(!p.c->out.first && !p.c->out.spare && !p.c->in.buf) &&
	     ASSERT_TRUE(!p.s->out.first && !p.s->out.spare && !p.s->in.buf);
out:
	th_pair_close(&p);
	return ok;
}

/* @first closes, then keeps reading what @second still sends; then @second
 * closes.  Both see 0 from tls_read on the other's close_notify. */
static bool half_close(struct tls_sess *first, struct tls_sess *second,
		       struct th_pair *p)
{
	uint8_t buf[4096];
	size_t got = 0;
	bool data_ok = true;
	ssize_t r;

	if (!ASSERT_EQ(tls_close_notify(first), 0) ||
	    !ASSERT_EQ(tls_close_notify(first), 0) ||	/* idempotent */
	    !ASSERT_EQ(tls_write(first, "x", 1), -EPIPE))
		return false;
	pump(p->c, p->s);
	pump(p->s, p->c);
	if (!ASSERT_EQ(tls_read(second, buf, sizeof(buf)), 0) ||
	    !ASSERT_EQ(tls_read(second, buf, sizeof(buf)), 0))
		return false;
	/* The other direction is still open. */
	if (!ASSERT_EQ(tls_write(second, buf, fill(buf, 0, 3000, 7)), 3000))
		return false;
	pump(p->c, p->s);
	pump(p->s, p->c);
	r = drain_check(first, &got, 7, &data_ok);
	if (!ASSERT_EQ(r, -EAGAIN) || !ASSERT_TRUE(data_ok) ||
	    !ASSERT_EQ(got, 3000))
		return false;
	if (!ASSERT_EQ(tls_close_notify(second), 0))
		return false;
	pump(p->c, p->s);
	pump(p->s, p->c);
	return ASSERT_EQ(tls_read(first, buf, sizeof(buf)), 0);
}

static bool test_half_close_client_first(void)
{
	struct th_pair p;
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	ok = half_close(p.c, p.s, &p);
out:
	th_pair_close(&p);
	return ok;
}

static bool test_half_close_server_first(void)
{
	struct th_pair p;
	char id[MF_SPIFFE_MAX];
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	ok = half_close(p.s, p.c, &p) &&
	     /* Closing after the peer resets wolfSSL's state inside; the
	      * identity must survive that. */
	     ASSERT_EQ(tls_peer_spiffe(p.s, id, sizeof(id)), 0) &&
	     ASSERT_STREQ(id, PH_ID_CLIENT);
out:
	th_pair_close(&p);
	return ok;
}

/* The output queue is bounded, and bytes handed out never move. */
static bool test_output_bounded_and_stable(void)
{
	static uint8_t big[1u << 20], copy[BUFQ_CHUNK];
	size_t n, got = 0, total = 0;
	const void *q;
	struct th_pair p;
	bool ok = false, data_ok = true;
	ssize_t w;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	fill(big, 0, sizeof(big), 3);
	w = tls_write(p.c, big, 1000);
	if (!ASSERT_EQ(w, 1000))
		goto out;
	total = 1000;
	n = tls_out_pending(p.c, &q);
	if (!ASSERT_TRUE(n > 1000 && n < 1100))
		goto out;
	memcpy(copy, q, n);
	/* Fill the queue: takes at most ~256 KiB, then refuses. */
	w = tls_write(p.c, big + total, sizeof(big) - total);
	if (!ASSERT_TRUE(w > 200000 && w <= (ssize_t)TLS_OUT_SOFT_MAX))
		goto out;
	total += w;
	if (!ASSERT_EQ(tls_write(p.c, big + total, sizeof(big) - total),
		       -EAGAIN))
		goto out;
	if (!ASSERT_TRUE(p.c->out.len <= TLS_OUT_SOFT_MAX))
		goto out;
	/* The first pending bytes are where they were, unchanged. */
	{
		const void *q2;
		size_t n2 = tls_out_pending(p.c, &q2);

		if (!ASSERT_TRUE(q2 == q) || !ASSERT_TRUE(n2 >= n) ||
		    !ASSERT_MEMEQ(q2, copy, n))
			goto out;
	}
	/* Input is bounded too. */
	{
		static uint8_t junk[TLS_IN_MAX + 1];

		if (!ASSERT_EQ(tls_feed(p.s, junk, sizeof(junk)), -ENOBUFS))
			goto out;
	}
	/* Everything still arrives, in order. */
	while (got < total) {
		size_t moved = pump(p.c, p.s);

		if (!ASSERT_EQ(drain_check(p.s, &got, 3, &data_ok), -EAGAIN))
			goto out;
		if (moved == 0 && got < total) {
			ASSERT_TRUE(moved > 0);
			goto out;
		}
	}
	ok = ASSERT_TRUE(data_ok) && ASSERT_EQ(got, total);
out:
	th_pair_close(&p);
	return ok;
}

static bool test_interop_our_client_aesgcm(void)
{
	return interop(true, AESGCM);
}

static bool test_interop_our_server_aesgcm(void)
{
	return interop(false, AESGCM);
}

static bool test_interop_our_client_chacha(void)
{
	return interop(true, CHACHA);
}

static bool test_interop_our_server_chacha(void)
{
	return interop(false, CHACHA);
}

/* Both ends ours, ChaCha20-Poly1305, with a close by the raw end's rules
 * replaced by ours: like the AES-GCM runs above. */
static bool test_ours_both_chacha(void)
{
	struct th_pair p;
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!pair_open(&p, false, false, CHACHA) || !handshake(&p))
		goto out;
	ok = ASSERT_STREQ(tls_cipher_name(p.c), CHACHA) &&
	     ASSERT_STREQ(tls_cipher_name(p.s), CHACHA) &&
	     transfer(p.c, false, p.s, false, 300000, 70000, 0, 16384, 8) &&
	     transfer(p.s, false, p.c, false, 300000, 70000, 0, 100, 9) &&
	     close_both(p.s, false, p.c, false);
out:
	th_pair_close(&p);
	return ok;
}

/* The client writes the moment its handshake ends, so the server gets the
 * client's Finished and application data in one feed: wolfSSL must stop
 * at the Finished record and leave the data to the record layer. */
static bool test_data_right_after_finished(void)
{
	struct th_pair p;
	uint8_t buf[256];
	int rc, rs = -EAGAIN;
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!pair_open(&p, false, false, NULL))
		goto out;
	rc = tls_handshake(p.c);			/* ClientHello */
	pump(p.c, p.s);
	rs = tls_handshake(p.s);			/* ServerHello.. */
	pump(p.s, p.c);
	if (!ASSERT_EQ(rc, -EAGAIN) || !ASSERT_EQ(rs, -EAGAIN) ||
	    !ASSERT_EQ(tls_handshake(p.c), 0) ||	/* ..Finished */
	    !ASSERT_EQ(tls_write(p.c, "early bird", 10), 10) ||
	    !ASSERT_EQ(tls_close_notify(p.c), 0))
		goto out;
	pump(p.c, p.s);		/* Finished, data, close_notify: one feed */
	if (!ASSERT_EQ(tls_handshake(p.s), 0) ||
	    !ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), 10) ||
	    !ASSERT_MEMEQ(buf, "early bird", 10) ||
	    !ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), 0))
		goto out;
	ok = true;
out:
	th_pair_close(&p);
	return ok;
}

/* A flipped bit in a record: the reader fails (bad_record_mac), keeps
 * failing, and tells the peer with a fatal alert wolfSSL understands. */
static bool test_tampered_record_refused(void)
{
	struct th_pair p;
	uint8_t buf[256];
	WOLFSSL_ALERT_HISTORY ah;
	const void *q;
	size_t n;
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	/* Raw client, our server. */
	if (!pair_open(&p, true, false, NULL) || !handshake(&p))
		goto out;
	if (!ASSERT_EQ(xwrite(p.c, true, "hello", 5), 5))
		goto out;
	n = tls_out_pending(p.c, &q);
	if (!ASSERT_TRUE(n > 20))
		goto out;
	((uint8_t *)q)[n - 3] ^= 0x01;	/* in the tag */
	pump(p.c, p.s);
	if (!ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p.s), "authentication")) ||
	    !ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_EQ(tls_write(p.s, "x", 1), -EPROTO))
		goto out;
	/* The alert reaches wolfSSL as bad_record_mac (20). */
	if (!ASSERT_TRUE(pump(p.s, p.c) > 0) ||
	    !ASSERT_EQ(xread(p.c, true, buf, sizeof(buf)), -EPROTO))
		goto out;
	memset(&ah, 0, sizeof(ah));
	wolfSSL_get_alert_history(p.c->ssl, &ah);
	ok = ASSERT_EQ(ah.last_rx.code, 20) &&
	     ASSERT_EQ(ah.last_rx.level, alert_fatal);
out:
	th_pair_close(&p);
	return ok;
}

/* Records delivered out of order fail: each is bound to its sequence
 * number through the nonce. */
static bool test_reordered_records_refused(void)
{
	struct th_pair p;
	uint8_t buf[256], first[64];
	const void *q;
	size_t n1, n2;
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	if (!ASSERT_EQ(tls_write(p.c, "one", 3), 3))
		goto out;
	n1 = tls_out_pending(p.c, &q);
	if (!ASSERT_TRUE(n1 <= sizeof(first)))
		goto out;
	memcpy(first, q, n1);
	tls_out_consume(p.c, n1);
	if (!ASSERT_EQ(tls_write(p.c, "two", 3), 3))
		goto out;
	n2 = pump(p.c, p.s);		/* "two" first */
	if (!ASSERT_EQ(n2, n1) ||
	    !ASSERT_EQ(tls_feed(p.s, first, n1), 0) ||
	    !ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), -EPROTO))
		goto out;
	ok = true;
out:
	th_pair_close(&p);
	return ok;
}

/* A plaintext record after the handshake (e.g. an injected unprotected
 * alert) is refused, not obeyed. */
static bool test_unprotected_record_refused(void)
{
	static const uint8_t close_alert[] = { 21, 3, 3, 0, 2, 1, 0 };
	struct th_pair p;
	uint8_t buf[64];
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	if (!ASSERT_EQ(tls_feed(p.c, close_alert, sizeof(close_alert)), 0) ||
	    !ASSERT_EQ(tls_read(p.c, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p.c), "unprotected")))
		goto out;
	ok = true;
out:
	th_pair_close(&p);
	return ok;
}

/* A KeyUpdate from the peer fails the session with a clear reason: we do
 * not have the traffic secrets to follow it. */
static bool test_key_update_refused(void)
{
	struct th_pair p;
	uint8_t buf[64];
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	/* Raw server, our client. */
	if (!pair_open(&p, false, true, NULL) || !handshake(&p))
		goto out;
	if (!ASSERT_EQ(wolfSSL_update_keys(p.s->ssl), WOLFSSL_SUCCESS))
		goto out;
	pump(p.s, p.c);
	if (!ASSERT_EQ(tls_read(p.c, buf, sizeof(buf)), -EPROTO) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p.c), "key update")))
		goto out;
	ok = true;
out:
	th_pair_close(&p);
	return ok;
}

/* A traffic key protects at most TLS_KEY_RECORDS_MAX records each way:
 * the record that reaches the limit goes through, the next one fails the
 * session on the writer and on the reader, since nothing here can rekey. */
static bool test_key_record_limit(void)
{
	struct th_pair p;
	uint8_t buf[64];
	bool ok = false;

	if (!have_certs)
		TEST_SKIP("openssl CLI unavailable or certificate setup failed");
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	/* Jump both ends to the last record the key may protect; the nonces
	 * stay in step because both sides count the same records. */
	p.c->rec.wr.seq = TLS_KEY_RECORDS_MAX - 1;
	p.s->rec.rd.seq = TLS_KEY_RECORDS_MAX - 1;
	if (!ASSERT_EQ(tls_write(p.c, "last", 4), 4))
		goto out;
	pump(p.c, p.s);
	if (!ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), 4) ||
	    !ASSERT_MEMEQ(buf, "last", 4) ||
	    !ASSERT_EQ(tls_write(p.c, "over", 4), -EKEYEXPIRED) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p.c), "record limit")))
		goto out;
	/* The writer stays failed. */
	if (!ASSERT_TRUE(tls_write(p.c, "more", 4) < 0))
		goto out;
	th_pair_close(&p);
	/* A reader whose key has opened its last record refuses the next,
	 * whatever it holds (a writer that failed to stop). */
	if (!pair_open(&p, false, false, NULL) || !handshake(&p))
		goto out;
	p.s->rec.rd.seq = TLS_KEY_RECORDS_MAX;
	if (!ASSERT_EQ(tls_write(p.c, "more", 4), 4))
		goto out;
	pump(p.c, p.s);
	if (!ASSERT_EQ(tls_read(p.s, buf, sizeof(buf)), -EKEYEXPIRED) ||
	    !ASSERT_TRUE(strstr(tls_last_error(p.s), "record limit")))
		goto out;
	ok = true;
out:
	th_pair_close(&p);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls_record/tls_global_init\n");
		return 1;
	}
	have_certs = ph_make_pki(th_dir, sizeof(th_dir), "tls-rec");
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
	TEST_RUN(test_key_update_refused);
	TEST_RUN(test_key_record_limit);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
