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
#include <dirent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/test.h"
#include "../../agent/conn.h"
#include "../../agent/loop.h"
#include "log.h"

struct harness {
	struct loop_config cfg;
	pthread_t thread;
	int init_err;
	uint16_t port;			/* the loop's forward listener */
	struct loop_stats stats;	/* copied when the loop stopped */
	int ready_pipe[2];
};

static void *loop_thread(void *arg)
{
	struct harness *h = arg;
	struct loop l;
	char c = 0;

	h->init_err = loop_init(&l, &h->cfg);
	if (!h->init_err)
		h->port = loop_listen_port(&l, LOOP_LISTEN_FORWARD);
	if (write(h->ready_pipe[1], &c, 1) != 1)
		abort();
	if (h->init_err)
		return NULL;
	loop_run(&l);
	h->stats = l.stats;
	loop_fini(&l);
	return NULL;
}

static int listener(uint16_t *port, int backlog)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Starts a loop forwarding to 127.0.0.1:@to_port. */
static bool start(struct harness *h, uint16_t to_port, uint32_t nbufs,
		  uint32_t timeout_ms)
{
	char c;

	memset(h, 0, sizeof(*h));
	h->cfg.listen_addr = htonl(INADDR_LOOPBACK);
	h->cfg.forward_to.sin_family = AF_INET;
	h->cfg.forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->cfg.forward_to.sin_port = htons(to_port);
	h->cfg.handle_signals = true;
	h->cfg.nbufs = nbufs;
	h->cfg.max_conns = 1024;
	h->cfg.setup_timeout_ms = timeout_ms;
	if (pipe(h->ready_pipe))
		return false;
	if (pthread_create(&h->thread, NULL, loop_thread, h))
		return false;
	if (read(h->ready_pipe[0], &c, 1) != 1)
		return false;
	close(h->ready_pipe[0]);
	close(h->ready_pipe[1]);
	if (!ASSERT_EQ(h->init_err, 0)) {
		pthread_join(h->thread, NULL);
		return false;
	}
	return true;
}

/* Stops the loop through its signalfd, as SIGTERM stops the agent. */
static void stop(struct harness *h)
{
	kill(getpid(), SIGTERM);
	pthread_join(h->thread, NULL);
}

static int client(uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void set_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* accept() with a timeout, so a broken relay fails the test, not hangs it. */
static int accept_timeout(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, ms) != 1)
		return -1;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		set_timeout(fd, 5000);
	return fd;
}

static bool read_exact(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 13));
}

/* Moves @n bytes of pattern from @src to @dst through the relay, with
 * poll so neither side blocks the other.  True when every byte arrived
 * intact. */
static bool pump_bytes(int src, int dst, size_t n)
{
	static uint8_t out[65536], in[65536];
	size_t sent = 0, got = 0;

	fcntl(src, F_SETFL, fcntl(src, F_GETFL) | O_NONBLOCK);
	while (got < n) {
		struct pollfd p[2] = {
			{ .fd = dst, .events = POLLIN },
			{ .fd = src, .events = sent < n ? POLLOUT : 0 },
		};

		if (poll(p, 2, 5000) <= 0)
			return ASSERT_TRUE(!"relay stalled");
		if (p[1].revents & POLLOUT) {
			size_t k = n - sent < sizeof(out) ? n - sent : sizeof(out);
			ssize_t w;

			for (size_t i = 0; i < k; i++)
				out[i] = pattern(sent + i);
			w = write(src, out, k);
			if (w > 0)
				sent += (size_t)w;
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(dst, in, sizeof(in));

			if (r <= 0)
				return ASSERT_TRUE(!"early EOF or error");
			for (ssize_t i = 0; i < r; i++)
				if (in[i] != pattern(got + (size_t)i))
					return ASSERT_TRUE(!"corrupted byte");
			got += (size_t)r;
		}
	}
	fcntl(src, F_SETFL, fcntl(src, F_GETFL) & ~O_NONBLOCK);
	return true;
}

/* recv() result on a socket the relay should have reset: -ECONNRESET. */
static int recv_err(int fd)
{
	char b;
	ssize_t r = recv(fd, &b, 1, 0);

	return r < 0 ? -errno : (int)r;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1;	/* the DIR's own fd */
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
	struct harness h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	char buf[16];
	bool ok = false;

	lfd = listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = client(h.port);
	if (!ASSERT_GE(c, 0))
		goto out;
	set_timeout(c, 5000);
	s = accept_timeout(lfd, 5000);
	if (!ASSERT_GE(s, 0))
		goto out;
	if (!ASSERT_EQ(write(c, "ping", 4), 4) ||
	    !ASSERT_TRUE(read_exact(s, buf, 4)) ||
	    !ASSERT_MEMEQ(buf, "ping", 4) ||
	    !ASSERT_EQ(write(s, "pong!", 5), 5) ||
	    !ASSERT_TRUE(read_exact(c, buf, 5)) ||
	    !ASSERT_MEMEQ(buf, "pong!", 5))
		goto out;
	if (!pump_bytes(c, s, 16u << 20) || !pump_bytes(s, c, 16u << 20))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.relayed, 1) &&
	       ASSERT_EQ(h.stats.stale_cqes, 0);
}

/* EOF travels as FIN one way while the other way keeps flowing. */
static bool test_half_close(void)
{
	struct harness h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	char buf[16];
	bool ok = false;

	lfd = listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = client(h.port);
	s = accept_timeout(lfd, 5000);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0))
		goto out;
	set_timeout(c, 5000);
	if (!ASSERT_EQ(write(c, "request", 7), 7) ||
	    !ASSERT_EQ(shutdown(c, SHUT_WR), 0) ||
	    !ASSERT_TRUE(read_exact(s, buf, 7)) ||
	    /* The server sees the client's EOF ... */
	    !ASSERT_EQ(read(s, buf, sizeof(buf)), 0))
		goto out;
	/* ... and can still answer through the open half. */
	if (!ASSERT_EQ(write(s, "response", 8), 8) ||
	    !ASSERT_TRUE(read_exact(c, buf, 8)) ||
	    !ASSERT_MEMEQ(buf, "response", 8))
		goto out;
	close(s);
	s = -1;
	/* A clean FIN, not a reset. */
	if (!ASSERT_EQ(recv_err(c), 0))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.finished, 1) &&
	       ASSERT_EQ(h.stats.aborted, 0);
}

/* A reset on one side becomes a reset on the other. */
static bool test_reset_propagates(void)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	struct harness h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	char buf[4];
	bool ok = false;

	lfd = listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = client(h.port);
	s = accept_timeout(lfd, 5000);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0))
		goto out;
	set_timeout(c, 5000);
	if (!ASSERT_EQ(write(c, "x", 1), 1) || !ASSERT_TRUE(read_exact(s, buf, 1)))
		goto out;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(s);
	s = -1;
	if (!ASSERT_EQ(recv_err(c), -ECONNRESET))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.aborted, 1);
}

/* Nothing listens upstream: the client is reset, the loop carries on. */
static bool test_connect_refused(void)
{
	struct harness h;
	uint16_t dead_port;
	int lfd, c1 = -1, c2 = -1;
	bool ok = false;

	/* A port that was just free: bind, note it, close. */
	lfd = listener(&dead_port, 1);
	if (!ASSERT_GE(lfd, 0))
		return false;
	close(lfd);
	if (!start(&h, dead_port, 0, 0))
		return false;
	c1 = client(h.port);
	c2 = client(h.port);
	if (!ASSERT_GE(c1, 0) || !ASSERT_GE(c2, 0))
		goto out;
	set_timeout(c1, 5000);
	set_timeout(c2, 5000);
	if (!ASSERT_EQ(recv_err(c1), -ECONNRESET) ||
	    !ASSERT_EQ(recv_err(c2), -ECONNRESET))
		goto out;
	ok = true;
out:
	if (c1 >= 0)
		close(c1);
	if (c2 >= 0)
		close(c2);
	stop(&h);
	return ok && ASSERT_EQ(h.stats.refused, 2);
}

/* An upstream that never answers the SYN: reset after the setup timeout. */
static bool test_connect_timeout(void)
{
	struct timespec t0, t1;
	struct harness h;
	uint16_t up_port;
	int lfd, fill[4], c = -1;
	bool ok = false;
	long ms;

	/* A listener that never accepts, its queue full: SYNs are dropped. */
	lfd = listener(&up_port, 0);
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
	c = client(h.port);
	if (!ASSERT_GE(c, 0))
		goto out;
	set_timeout(c, 5000);
	if (!ASSERT_EQ(recv_err(c), -ECONNRESET))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (!ASSERT_GE(ms, 250) || !ASSERT_GE(3000, ms))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	stop(&h);
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
	struct harness h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	size_t sent;
	bool ok = false;

	lfd = listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	c = client(h.port);
	s = accept_timeout(lfd, 5000);
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
	stop(&h);
	close(lfd);
	return ok && ASSERT_TRUE(h.stats.bufs_out_max <= 2);
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
	struct harness h;
	uint16_t up_port;
	int lfd, c[N + 1], s[N + 1];
	size_t sent[N];
	char buf[8];
	bool ok = false;

	for (int i = 0; i <= N; i++)
		c[i] = s[i] = -1;
	lfd = listener(&up_port, N + 1);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 4, 0))
		return false;
	for (int i = 0; i <= N; i++) {
		c[i] = client(h.port);
		s[i] = accept_timeout(lfd, 5000);
		if (!ASSERT_GE(c[i], 0) || !ASSERT_GE(s[i], 0))
			goto out;
		set_timeout(c[i], 5000);
	}
	for (int i = 0; i < N; i++)
		sent[i] = fill_path(c[i]);
	if (!ASSERT_EQ(write(c[N], "ping", 4), 4) ||
	    !ASSERT_TRUE(read_exact(s[N], buf, 4)) ||
	    !ASSERT_EQ(write(s[N], "pong", 4), 4) ||
	    !ASSERT_TRUE(read_exact(c[N], buf, 4)) ||
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
	stop(&h);
	close(lfd);
	return ok && ASSERT_TRUE(h.stats.bufs_out_max <= 4) &&
	       ASSERT_TRUE(h.stats.ring_empty > 0);
}

/* 200 concurrent connections, then all closed: every fd the relay opened
 * is closed again, the table is empty. */
static bool test_fds_released(void)
{
	enum { N = 200 };
	struct harness h;
	uint16_t up_port;
	int lfd, base, now = -1, c[N], s[N];
	bool ok = false;

	for (int i = 0; i < N; i++)
		c[i] = s[i] = -1;
	lfd = listener(&up_port, N);
	if (!ASSERT_GE(lfd, 0) || !start(&h, up_port, 0, 0))
		return false;
	base = count_fds();
	for (int i = 0; i < N; i++) {
		c[i] = client(h.port);
		s[i] = accept_timeout(lfd, 5000);
		if (!ASSERT_GE(c[i], 0) || !ASSERT_GE(s[i], 0))
			goto out;
		set_timeout(c[i], 5000);
	}
	/* Every connection carries a byte each way; half of them end with a
	 * FIN from the client, half with a reset from the server. */
	for (int i = 0; i < N; i++) {
		char b;

		if (!ASSERT_EQ(write(c[i], "a", 1), 1) ||
		    !ASSERT_TRUE(read_exact(s[i], &b, 1)) ||
		    !ASSERT_EQ(write(s[i], "b", 1), 1) ||
		    !ASSERT_TRUE(read_exact(c[i], &b, 1)))
			goto out;
	}
	if (!ASSERT_GE(count_fds(), base + 3 * N))
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
	for (int tries = 0; tries < 200; tries++) {
		now = count_fds();
		if (now == base)
			break;
		usleep(10 * 1000);
	}
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
	stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.conns, 0) &&
	       ASSERT_EQ(h.stats.accepted, N);
}

static bool test_user_data_roundtrip(void)
{
	uint64_t ud = loop_ud(LOOP_OP_SEND, CONN_UP, 0xabcdef, 0x123456);

	return ASSERT_EQ(loop_ud_op(ud), LOOP_OP_SEND) &&
	       ASSERT_EQ(loop_ud_aux(ud), CONN_UP) &&
	       ASSERT_EQ(loop_ud_slot(ud), 0xabcdef) &&
	       ASSERT_EQ(loop_ud_gen(ud), 0x123456);
}

int main(void)
{
	sigset_t set;

	TEST_MAIN_BEGIN("test_relay");
	/* Every thread inherits the block, so SIGTERM reaches only the
	 * loop's signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	log_level_max = LOG_LVL_WARN;

	TEST_RUN(test_user_data_roundtrip);
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
