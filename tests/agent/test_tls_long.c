// SPDX-License-Identifier: Apache-2.0
/*
 * A long-lived session: 2^24 + 1 one-byte records each way, one past
 * where a traffic key used to end its session, with the record layer's
 * own limits (no lowered thresholds: test_tls_record lowers them to
 * reach a key update in a few records).  Every byte is checked, and both
 * ends must still agree on their keys at the end.
 *
 * Each way is 2^24 + 1 seals and as many opens: with AES-GCM about 2.5 s
 * on the machine this was written on, with ChaCha20-Poly1305 about 20 s,
 * which runs only when asked (below).  The times go to stderr.
 */
#include <time.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"

#define LONG_RECORDS	((1ul << 24) + 1)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sends @n one-byte records from @a to @b, each its own tls_write(), and
 * checks every byte @b reads. */
static bool records_one_way(struct tls_sess *a, struct tls_sess *b,
			    size_t n, unsigned seed)
{
	static uint8_t buf[1 << 16];
	size_t sent, got = 0;
	ssize_t r;
	uint8_t c;

	for (sent = 0; sent < n; sent++) {
		c = th_pattern(sent, seed);
		if (!ASSERT_EQ(tls_write(a, &c, 1), 1))
			return false;
		/* Hand over in batches: the output queue holds ~11,000 of
		 * them before it reaches half its bound. */
		if (a->out.len < TLS_OUT_SOFT_MAX / 2 && sent + 1 < n)
			continue;
		th_pump(a, b, 0);
		while ((r = tls_read(b, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				if (!ASSERT_EQ(buf[i],
					       th_pattern(got + (size_t)i,
							  seed)))
					return false;
			got += (size_t)r;
		}
		if (!ASSERT_EQ(r, -EAGAIN) || !ASSERT_EQ(a->out.len, 0))
			return false;
	}
	return ASSERT_EQ(got, n);
}

static bool long_session(struct th_pair *p)
{
	double t0, t1, t2;

	t0 = now_s();
	if (!records_one_way(p->c, p->s, LONG_RECORDS, 1))
		return false;
	t1 = now_s();
	if (!records_one_way(p->s, p->c, LONG_RECORDS, 2))
		return false;
	t2 = now_s();
	fprintf(stderr, "  %s: %lu one-byte records client to server in "
		"%.1f s, server to client in %.1f s\n", tls_cipher_name(p->c),
		LONG_RECORDS, t1 - t0, t2 - t1);
	/* Past 2^24 on the handshake's keys: AES-GCM's limit is in blocks,
	 * and 2^25 of them is far below it. */
	return ASSERT_EQ(p->c->rec.wr.seq, LONG_RECORDS) &&
	       ASSERT_EQ(p->s->rec.rd.seq, LONG_RECORDS) &&
	       ASSERT_EQ(p->s->rec.wr.seq, LONG_RECORDS) &&
	       ASSERT_EQ(p->c->rec.rd.seq, LONG_RECORDS) &&
	       ASSERT_MEMEQ(p->c->rec.wr.secret, p->s->rec.rd.secret,
			    TLS_SECRET_LEN) &&
	       ASSERT_MEMEQ(p->s->rec.wr.secret, p->c->rec.rd.secret,
			    TLS_SECRET_LEN) &&
	       ASSERT_EQ(tls_write(p->c, "end", 3), 3);
}

TH_CASE_AS(records_past_2_24_aesgcm, long_session,
	   "TLS13-AES128-GCM-SHA256", TH_SHAKEN)

/* wolfCrypt's ChaCha20-Poly1305 takes about 1.3 us a record where AES-GCM
 * takes 0.15: some 45 s, too long for every run of the unit suite. */
static bool test_records_past_2_24_chacha(void)
{
	if (!getenv("MF_TEST_LONG"))
		TEST_SKIP("about 45 s; MF_TEST_LONG=1 runs it");
	return th_run("client", "server", "TLS13-CHACHA20-POLY1305-SHA256",
		      TH_SHAKEN, long_session);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls_long/tls_global_init\n");
		return 1;
	}
	th_have_certs = ph_make_pki(th_dir, sizeof(th_dir), "tls-long");
	TEST_RUN(test_records_past_2_24_aesgcm);
	TEST_RUN(test_records_past_2_24_chacha);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
