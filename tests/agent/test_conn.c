// SPDX-License-Identifier: Apache-2.0
/*
 * The event loop and the plaintext relay, on loopback: a loop runs in its own
 * thread with the forward listener (accept, connect to a fixed address,
 * relay), and the test plays both client and upstream server with ordinary
 * sockets.  Covers data integrity both ways, half-close, RST propagation,
 * connect failure and timeout, backpressure, running out of ring buffers,
 * and that every fd is released when connections end.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "../../agent/conn.h"
#include "../../agent/loop.h"
#include "log.h"

/* Starts a loop forwarding to 127.0.0.1:@to_port. */
static bool start(struct lh_loop *h, uint16_t to_port, uint32_t nbufs,
		  uint32_t timeout_ms)
{
	memset(h, 0, sizeof(*h));
	h->cfg.listen_addr = htonl(INADDR_LOOPBACK);
	h->cfg.forward_to.sin_family = AF_INET;
	h->cfg.forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->cfg.forward_to.sin_port = htons(to_port);
	h->cfg.handle_signals = true;
	h->cfg.nbufs = nbufs;
	h->cfg.max_conns = 1024;
	h->cfg.setup_timeout_ms = timeout_ms;
	return lh_loop_start(h);
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 13));
}

/* Writes pattern bytes to non-blocking @fd until the path stays full.
 * Returns how many were written. */
static size_t fill_path(int fd)
{
	static uint8_t out[65536];
	size_t sent = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (int idle = 0; idle < 20;) {
		ssize_t w;

		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = pattern(sent + i);
		w = write(fd, out, sizeof(out));
		if (w > 0) {
			sent += (size_t)w;
			idle = 0;
		} else {
			idle++;
			usleep(5 * 1000);
		}
	}
	return sent;
}

static bool read_pattern(int fd, size_t n)
{
	static uint8_t in[65536];
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, in, sizeof(in));

		if (!ASSERT_TRUE(r > 0))
			return false;
		for (ssize_t i = 0; i < r; i++)
			if (in[i] != pattern(got + (size_t)i))
				return ASSERT_TRUE(!"corrupted byte");
		got += (size_t)r;
	}
	return true;
}

static bool test_relay_both_ways(void)
{
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	char buf[16];
	bool ok = false;

	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = lh_client(h.fwd_port);
	if (!ASSERT_GE(c, 0))
		goto out;
	lh_set_timeout(c, 5000);
	s = lh_accept_timeout(lfd, 5000);
	if (!ASSERT_GE(s, 0))
		goto out;
	if (!ASSERT_EQ(write(c, "ping", 4), 4) ||
	    !ASSERT_TRUE(lh_read_exact(s, buf, 4)) ||
	    !ASSERT_MEMEQ(buf, "ping", 4) ||
	    !ASSERT_EQ(write(s, "pong!", 5), 5) ||
	    !ASSERT_TRUE(lh_read_exact(c, buf, 5)) ||
	    !ASSERT_MEMEQ(buf, "pong!", 5))
		goto out;
	if (!lh_pump_bytes(c, s, 16u << 20, pattern) ||
	    !lh_pump_bytes(s, c, 16u << 20, pattern))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.relayed, 1) &&
	       ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

/* EOF travels as FIN one way while the other way keeps flowing. */
static bool test_half_close(void)
{
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	char buf[16];
	bool ok = false;

	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = lh_client(h.fwd_port);
	s = lh_accept_timeout(lfd, 5000);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0))
		goto out;
	lh_set_timeout(c, 5000);
	if (!ASSERT_EQ(write(c, "request", 7), 7) ||
	    !ASSERT_EQ(shutdown(c, SHUT_WR), 0) ||
	    !ASSERT_TRUE(lh_read_exact(s, buf, 7)) ||
	    /* The server sees the client's EOF ... */
	    !ASSERT_EQ(read(s, buf, sizeof(buf)), 0))
		goto out;
	/* ... and can still answer through the open half. */
	if (!ASSERT_EQ(write(s, "response", 8), 8) ||
	    !ASSERT_TRUE(lh_read_exact(c, buf, 8)) ||
	    !ASSERT_MEMEQ(buf, "response", 8))
		goto out;
	close(s);
	s = -1;
	/* A clean FIN, not a reset. */
	if (!ASSERT_EQ(lh_recv_err(c), 0))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.finished, 1) &&
	       ASSERT_EQ(h.stats.aborted, 0);
}

/* A reset on one side becomes a reset on the other. */
static bool test_reset_propagates(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	char buf[4];
	bool ok = false;

	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = lh_client(h.fwd_port);
	s = lh_accept_timeout(lfd, 5000);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0))
		goto out;
	lh_set_timeout(c, 5000);
	if (!ASSERT_EQ(write(c, "x", 1), 1) ||
	    !ASSERT_TRUE(lh_read_exact(s, buf, 1)))
		goto out;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	s = -1;
	if (!ASSERT_EQ(lh_recv_err(c), -ECONNRESET))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.aborted, 1);
}

/* Nothing listens upstream: the client is reset, the loop carries on. */
static bool test_connect_refused(void)
{
	struct lh_loop h;
	uint16_t dead_port;
	int lfd, c1 = -1, c2 = -1;
	bool ok = false;

	/* A port that was just free: bind, note it, close. */
	lfd = lh_listener(&dead_port, 1);
	if (!ASSERT_GE(lfd, 0))
		return false;
	close(lfd);
	if (!start(&h, dead_port, 0, 0))
		return false;
	c1 = lh_client(h.fwd_port);
	c2 = lh_client(h.fwd_port);
	if (!ASSERT_GE(c1, 0) || !ASSERT_GE(c2, 0))
		goto out;
	lh_set_timeout(c1, 5000);
	lh_set_timeout(c2, 5000);
	if (!ASSERT_EQ(lh_recv_err(c1), -ECONNRESET) ||
	    !ASSERT_EQ(lh_recv_err(c2), -ECONNRESET))
		goto out;
	ok = true;
out:
	if (c1 >= 0)
		close(c1);
	if (c2 >= 0)
		close(c2);
	lh_loop_stop(&h);
	return ok && ASSERT_EQ(h.stats.refused, 2);
}

/* An upstream that never answers the SYN: reset after the setup timeout. */
static bool test_connect_timeout(void)
{
	struct timespec t0, t1;
	struct lh_loop h;
	uint16_t up_port;
	int lfd, fill[4], c = -1;
	bool ok = false;
	long ms;

	/* A listener that never accepts, its queue full: SYNs are dropped. */
	lfd = lh_listener(&up_port, 0);
	if (!ASSERT_GE(lfd, 0))
		return false;
	for (int i = 0; i < 4; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(up_port),
					  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	usleep(100 * 1000);
	if (!start(&h, up_port, 0, 300))
		goto out_fill;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c = lh_client(h.fwd_port);
	if (!ASSERT_GE(c, 0))
		goto out;
	lh_set_timeout(c, 5000);
	if (!ASSERT_EQ(lh_recv_err(c), -ECONNRESET))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (!ASSERT_GE(ms, 250) || !ASSERT_GE(3000, ms))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	lh_loop_stop(&h);
out_fill:
	for (int i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	return ok;
}

/*
 * A reader that does not read: the relay must stop reading the writer
 * rather than buffer.  At most one provided buffer per direction is ever
 * held, and everything arrives once the reader reads.
 */
static bool test_backpressure(void)
{
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	size_t sent;
	bool ok = false;

	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = lh_client(h.fwd_port);
	s = lh_accept_timeout(lfd, 5000);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0))
		goto out;
	/* Fill the whole path (two socket buffer pairs and the relay) until
	 * it stays full, then let the reader catch up. */
	sent = fill_path(c);
	if (!ASSERT_TRUE(sent > 0) || !ASSERT_TRUE(sent < (256u << 20)) ||
	    !read_pattern(s, sent))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_TRUE(h.loop_stats.bufs_out_max <= 2);
}

/*
 * Four ring buffers, and eight connections whose readers stall, each
 * holding what it read last: a ninth connection must still be served (the
 * relay reads into a connection's own buffer when the ring is empty rather
 * than wait for a stalled one), and the stalled ones lose nothing.
 */
static bool test_ring_exhaustion(void)
{
	enum { N = 8 };
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c[N + 1], s[N + 1];
	size_t sent[N];
	char buf[8];
	bool ok = false;

	for (int i = 0; i <= N; i++)
		c[i] = s[i] = -1;
	lfd = lh_listener(&up_port, N + 1);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 4, 0))
		return false;
	for (int i = 0; i <= N; i++) {
		c[i] = lh_client(h.fwd_port);
		s[i] = lh_accept_timeout(lfd, 5000);
		if (!ASSERT_GE(c[i], 0) || !ASSERT_GE(s[i], 0))
			goto out;
		lh_set_timeout(c[i], 5000);
	}
	for (int i = 0; i < N; i++)
		sent[i] = fill_path(c[i]);
	if (!ASSERT_EQ(write(c[N], "ping", 4), 4) ||
	    !ASSERT_TRUE(lh_read_exact(s[N], buf, 4)) ||
	    !ASSERT_EQ(write(s[N], "pong", 4), 4) ||
	    !ASSERT_TRUE(lh_read_exact(c[N], buf, 4)) ||
	    !ASSERT_MEMEQ(buf, "pong", 4))
		goto out;
	for (int i = 0; i < N; i++)
		if (!read_pattern(s[i], sent[i]))
			goto out;
	ok = true;
out:
	for (int i = 0; i <= N; i++) {
		if (c[i] >= 0)
			close(c[i]);
		if (s[i] >= 0)
			close(s[i]);
	}
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_TRUE(h.loop_stats.bufs_out_max <= 4) &&
	       ASSERT_TRUE(h.stats.ring_empty > 0);
}

/* 200 concurrent connections, then all closed: every fd the relay opened
 * is closed again, the table is empty. */
static bool test_fds_released(void)
{
	enum { N = 200 };
	struct lh_loop h;
	uint16_t up_port;
	int lfd, base, now = -1, c[N], s[N];
	bool ok = false;

	for (int i = 0; i < N; i++)
		c[i] = s[i] = -1;
	lfd = lh_listener(&up_port, N);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	base = lh_count_fds();
	for (int i = 0; i < N; i++) {
		c[i] = lh_client(h.fwd_port);
		s[i] = lh_accept_timeout(lfd, 5000);
		if (!ASSERT_GE(c[i], 0) || !ASSERT_GE(s[i], 0))
			goto out;
		lh_set_timeout(c[i], 5000);
	}
	/* Every connection carries a byte each way; half of them end with a
	 * FIN from the client, half with a reset from the server. */
	for (int i = 0; i < N; i++) {
		char b;

		if (!ASSERT_EQ(write(c[i], "a", 1), 1) ||
		    !ASSERT_TRUE(lh_read_exact(s[i], &b, 1)) ||
		    !ASSERT_EQ(write(s[i], "b", 1), 1) ||
		    !ASSERT_TRUE(lh_read_exact(c[i], &b, 1)))
			goto out;
	}
	if (!ASSERT_GE(lh_count_fds(), base + 3 * N))
		goto out;
	for (int i = 0; i < N; i++) {
		if (i % 2) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			setsockopt(s[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(c[i]);
		close(s[i]);
		c[i] = s[i] = -1;
	}
	/* The relay closes asynchronously: wait for it, bounded. */
	now = lh_wait_fds(base, 200);
	if (!ASSERT_EQ(now, base))
		goto out;
	ok = true;
out:
	for (int i = 0; i < N; i++) {
		if (c[i] >= 0)
			close(c[i]);
		if (s[i] >= 0)
			close(s[i]);
	}
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.conns, 0) &&
	       ASSERT_EQ(h.stats.accepted, N);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	lh_signals_setup();
	log_level_max = LOG_LVL_WARN;

	TEST_RUN(test_relay_both_ways);
	TEST_RUN(test_half_close);
	TEST_RUN(test_reset_propagates);
	TEST_RUN(test_connect_refused);
	TEST_RUN(test_connect_timeout);
	TEST_RUN(test_backpressure);
	TEST_RUN(test_ring_exhaustion);
	TEST_RUN(test_fds_released);
	TEST_MAIN_END();
}
