// SPDX-License-Identifier: Apache-2.0
/*
 * The event loop and the plaintext relay, on loopback: a loop runs in its own
 * thread with the forward listener (accept, connect to a fixed address,
 * relay), and the test plays both client and upstream server with ordinary
 * sockets.  Covers data integrity both ways, half-close, RST propagation,
 * connect failure and timeout, backpressure, running out of ring buffers,
 * and that every fd is released when connections end.  Then a listener
 * removed while a connection it accepted relays, on a loop and connection
 * table the case drives itself.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "../../agent/conn.h"
#include "../../agent/loop.h"
#include "log.h"

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 13));
}

/* The most connections a case opens through one loop. */
#define RELAY_MAX	200

/*
 * A loop forwarding to an upstream listener of the test's on up_port, and
 * the connections opened through it: c[i] the client's end, s[i] the end
 * the upstream accepted, -1 when not open.
 */
struct relay {
	struct lh_loop h;
	uint16_t up_port;
	int lfd;
	int c[RELAY_MAX], s[RELAY_MAX];
};

/* The relay of the case that runs: one at a time. */
static struct relay relay;

/* Opens connections 0 to @n - 1 through @r's loop, each accepted by the
 * upstream, the client's end with 5 s timeouts. */
static bool relay_connect(struct relay *r, int n)
{
	for (int i = 0; i < n; i++) {
		r->c[i] = lh_client(r->h.fwd_port);
		r->s[i] = lh_accept_timeout(r->lfd, 5000);
		if (!ASSERT_GE(r->c[i], 0) || !ASSERT_GE(r->s[i], 0))
			return false;
		lh_set_timeout(r->c[i], 5000);
	}
	return true;
}

/*
 * Runs @body on relay over @n connections through a new loop forwarding
 * to an upstream listener of its own, with @nbufs ring buffers and a
 * connection setup timeout of @setup_ms (0: the defaults).  Then closes
 * what is open and stops the loop, whose final counters stay in relay.h.
 * The verdict of all of it.
 */
static bool relay_run(int n, uint32_t nbufs, uint32_t setup_ms,
		      bool (*body)(struct relay *r))
{
	struct relay *r = &relay;
	struct agent_config *cfg = &r->h.cfg;
	bool ok;

	for (int i = 0; i < RELAY_MAX; i++)
		r->c[i] = r->s[i] = -1;
	r->lfd = lh_listener(&r->up_port, RELAY_MAX);
	if (!ASSERT_GE(r->lfd, 0))
		return false;
	memset(&r->h, 0, sizeof(r->h));
	cfg->listen_addr = htonl(INADDR_LOOPBACK);
	cfg->forward_to.sin_family = AF_INET;
	cfg->forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg->forward_to.sin_port = htons(r->up_port);
	cfg->handle_signals = true;
	cfg->nbufs = nbufs;
	cfg->max_conns = 1024;
	cfg->setup_timeout_ms = setup_ms;
	if (!lh_loop_start(&r->h)) {
		close(r->lfd);
		return false;
	}
	ok = relay_connect(r, n) && body(r);
	for (int i = 0; i < RELAY_MAX; i++) {
		if (r->c[i] >= 0)
			close(r->c[i]);
		if (r->s[i] >= 0)
			close(r->s[i]);
	}
	lh_loop_stop(&r->h);
	if (r->lfd >= 0)
		close(r->lfd);
	return ok;
}

/* Closes upstream end @i of @r: with a reset rather than a FIN when
 * @rst. */
static void close_upstream(struct relay *r, int i, bool rst)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (rst)
		setsockopt(r->s[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(r->s[i]);
	r->s[i] = -1;
}

/* @req from client end @c to upstream end @s, and @resp back, each
 * checked as it arrives. */
static bool round_trip(int c, int s, const char *req, const char *resp)
{
	size_t nq = strlen(req), np = strlen(resp);
	char buf[16];

	return ASSERT_EQ(write(c, req, nq), nq) &&
	       ASSERT_TRUE(lh_read_exact(s, buf, nq)) &&
	       ASSERT_MEMEQ(buf, req, nq) &&
	       ASSERT_EQ(write(s, resp, np), np) &&
	       ASSERT_TRUE(lh_read_exact(c, buf, np)) &&
	       ASSERT_MEMEQ(buf, resp, np);
}

/* ---- tests ------------------------------------------------------------- */

static bool relay_both_ways(struct relay *r)
{
	int c = r->c[0], s = r->s[0];

	return round_trip(c, s, "ping", "pong!") &&
	       lh_pump_bytes(c, s, 16u << 20, pattern) &&
	       lh_pump_bytes(s, c, 16u << 20, pattern);
}

static bool test_relay_both_ways(void)
{
	return relay_run(1, 0, 0, relay_both_ways) &&
	       ASSERT_EQ(relay.h.stats.relayed, 1) &&
	       ASSERT_EQ(relay.h.loop_stats.stale_cqes, 0);
}

/* EOF travels as FIN one way while the other way keeps flowing. */
static bool half_close(struct relay *r)
{
	int c = r->c[0], s = r->s[0];
	char buf[16];

	if (!ASSERT_EQ(write(c, "request", 7), 7) ||
	    !ASSERT_EQ(shutdown(c, SHUT_WR), 0) ||
	    !ASSERT_TRUE(lh_read_exact(s, buf, 7)) ||
	    /* The server sees the client's EOF ... */
	    !ASSERT_EQ(read(s, buf, sizeof(buf)), 0))
		return false;
	/* ... and can still answer through the open half. */
	if (!ASSERT_EQ(write(s, "response", 8), 8) ||
	    !ASSERT_TRUE(lh_read_exact(c, buf, 8)) ||
	    !ASSERT_MEMEQ(buf, "response", 8))
		return false;
	close_upstream(r, 0, false);
	/* A clean FIN, not a reset. */
	return ASSERT_EQ(lh_recv_err(c), 0);
}

static bool test_half_close(void)
{
	return relay_run(1, 0, 0, half_close) &&
	       ASSERT_EQ(relay.h.stats.finished, 1) &&
	       ASSERT_EQ(relay.h.stats.aborted, 0);
}

/* A reset on one side becomes a reset on the other. */
static bool reset_propagates(struct relay *r)
{
	char buf[4];

	if (!ASSERT_EQ(write(r->c[0], "x", 1), 1) ||
	    !ASSERT_TRUE(lh_read_exact(r->s[0], buf, 1)))
		return false;
	close_upstream(r, 0, true);
	return ASSERT_EQ(lh_recv_err(r->c[0]), -ECONNRESET);
}

static bool test_reset_propagates(void)
{
	return relay_run(1, 0, 0, reset_propagates) &&
	       ASSERT_EQ(relay.h.stats.aborted, 1);
}

/* Nothing listens upstream: the client is reset, the loop carries on. */
static bool connect_refused(struct relay *r)
{
	/* The port the loop forwards to was just free. */
	close(r->lfd);
	r->lfd = -1;
	for (int i = 0; i < 2; i++) {
		r->c[i] = lh_client(r->h.fwd_port);
		if (!ASSERT_GE(r->c[i], 0))
			return false;
		lh_set_timeout(r->c[i], 5000);
	}
	return ASSERT_EQ(lh_recv_err(r->c[0]), -ECONNRESET) &&
	       ASSERT_EQ(lh_recv_err(r->c[1]), -ECONNRESET);
}

static bool test_connect_refused(void)
{
	return relay_run(0, 0, 0, connect_refused) &&
	       ASSERT_EQ(relay.h.stats.refused, 2);
}

/* An upstream that never answers the SYN: reset after the setup timeout. */
static bool connect_timeout(struct relay *r)
{
	struct sockaddr_in up = { .sin_family = AF_INET,
				  .sin_port = htons(r->up_port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timespec t0, t1;
	long ms;

	/* The upstream never accepts, and its queue, cut to the least (a
	 * second listen() only sets the backlog), is full of connections
	 * straight to it, c[1] to c[4]: SYNs are dropped. */
	if (!ASSERT_EQ(listen(r->lfd, 0), 0))
		return false;
	for (int i = 1; i <= 4; i++) {
		r->c[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(r->c[i], (struct sockaddr *)&up, sizeof(up));
	}
	usleep(100 * 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r->c[0] = lh_client(r->h.fwd_port);
	if (!ASSERT_GE(r->c[0], 0))
		return false;
	lh_set_timeout(r->c[0], 5000);
	if (!ASSERT_EQ(lh_recv_err(r->c[0]), -ECONNRESET))
		return false;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	return ASSERT_GE(ms, 250) && ASSERT_GE(3000, ms);
}

static bool test_connect_timeout(void)
{
	return relay_run(0, 0, 300, connect_timeout);
}

/*
 * A reader that does not read: the relay must stop reading the writer
 * rather than buffer.  At most one provided buffer per direction is ever
 * held, and everything arrives once the reader reads.
 */
static bool backpressure(struct relay *r)
{
	/* Fill the whole path (two socket buffer pairs and the relay) until
	 * it stays full, then let the reader catch up. */
	size_t sent = lh_fill(r->c[0], pattern);

	return ASSERT_TRUE(sent > 0) && ASSERT_TRUE(sent < (256u << 20)) &&
	       lh_read_pattern(r->s[0], sent, pattern);
}

static bool test_backpressure(void)
{
	return relay_run(1, 0, 0, backpressure) &&
	       ASSERT_TRUE(relay.h.loop_stats.bufs_out_max <= 2);
}

/* Connections stalled by test_ring_exhaustion. */
#define RING_STALLED	8

/*
 * Four ring buffers, and eight connections whose readers stall, each
 * holding what it read last: a ninth connection must still be served (the
 * relay reads into a connection's own buffer when the ring is empty rather
 * than wait for a stalled one), and the stalled ones lose nothing.
 */
static bool ring_exhaustion(struct relay *r)
{
	size_t sent[RING_STALLED];

	for (int i = 0; i < RING_STALLED; i++)
		sent[i] = lh_fill(r->c[i], pattern);
	if (!round_trip(r->c[RING_STALLED], r->s[RING_STALLED], "ping", "pong"))
		return false;
	for (int i = 0; i < RING_STALLED; i++)
		if (!lh_read_pattern(r->s[i], sent[i], pattern))
			return false;
	return true;
}

static bool test_ring_exhaustion(void)
{
	return relay_run(RING_STALLED + 1, 4, 0, ring_exhaustion) &&
	       ASSERT_TRUE(relay.h.loop_stats.bufs_out_max <= 4) &&
	       ASSERT_TRUE(relay.h.stats.ring_empty > 0);
}

/* 200 concurrent connections, then all closed: every fd the relay opened
 * is closed again, the table is empty. */
static bool fds_released(struct relay *r)
{
	int base = lh_count_fds();

	if (!relay_connect(r, RELAY_MAX))
		return false;
	/* Every connection carries a byte each way; half of them end with a
	 * FIN from the client, half with a reset from the server. */
	for (int i = 0; i < RELAY_MAX; i++)
		if (!round_trip(r->c[i], r->s[i], "a", "b"))
			return false;
	if (!ASSERT_GE(lh_count_fds(), base + 3 * RELAY_MAX))
		return false;
	for (int i = 0; i < RELAY_MAX; i++) {
		close(r->c[i]);
		r->c[i] = -1;
		close_upstream(r, i, i % 2);
	}
	/* The relay closes asynchronously: wait for it, bounded. */
	return ASSERT_EQ(lh_wait_fds(base, 200), base);
}

static bool test_fds_released(void)
{
	/* fds_released() connects once it has counted the fds. */
	return relay_run(0, 0, 0, fds_released) &&
	       ASSERT_EQ(relay.h.stats.conns, 0) &&
	       ASSERT_EQ(relay.h.stats.accepted, RELAY_MAX);
}

/* ---- listeners removed under their connections --------------------------- */

/* A flow of the case's own: every connection to the upstream at @to. */
struct fwd {
	struct conn_table *t;
	struct sockaddr_in to;
};

static void fwd_accepted(void *arg, struct conn *c)
{
	struct fwd *f = arg;

	c->up_addr = f->to;
	conn_connect(f->t, c);
}

static void fwd_connected(void *arg, struct conn *c)
{
	conn_start_relay(((struct fwd *)arg)->t, c);
}

static const struct conn_flow_ops fwd_ops = {
	.name = "fwd",
	.accepted = fwd_accepted,
	.connected = fwd_connected,
};

/* Reads exactly @n bytes of @want from @fd, running @l while it waits. */
static bool relay_expect(struct loop *l, int fd, const char *want, size_t n)
{
	char buf[16];
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		if (!lh_run_until_readable(l, fd))
			return false;
		r = read(fd, buf + got, n - got);
		if (!ASSERT_TRUE(r > 0))
			return false;
		got += (size_t)r;
	}
	return ASSERT_MEMEQ(buf, want, n);
}

/* @req from @c to @s and @resp back, through @l. */
static bool relay_round_trip(struct loop *l, int c, int s, const char *req,
			     const char *resp)
{
	size_t nq = strlen(req), np = strlen(resp);

	return ASSERT_EQ(write(c, req, nq), nq) &&
	       relay_expect(l, s, req, nq) &&
	       ASSERT_EQ(write(s, resp, np), np) &&
	       relay_expect(l, c, resp, np);
}

/* The upstream's end of the next connection to @lfd, running @l while it
 * comes, or -1. */
static int relay_upstream(struct loop *l, int lfd)
{
	if (!lh_run_until_readable(l, lfd))
		return -1;
	return lh_accept_timeout(lfd, 0);
}

/* The connection of @t that relays, with its flow, or NULL. */
static const struct conn *relaying(const struct conn_table *t)
{
	for (uint32_t i = 0; i < t->max_conns; i++)
		if (t->conns[i].state == CONN_STATE_RELAY)
			return &t->conns[i];
	return NULL;
}

/*
 * Two listeners of one flow share it.  One of them is removed while a
 * connection it accepted relays: the connection relays on with its flow,
 * the port refuses connections, and a new listener there with the same
 * flow takes the next one.  Only a listener of the table's can be removed
 * through it.
 */
static bool unlisten_relay(void)
{
	const struct loop_config lc = { .nbufs = 16, .buf_size = 4096 };
	const struct conn_table_config tc = { .max_conns = 16 };
	struct stats st = { 0 };
	struct conn_table t;
	struct loop l;
	struct fwd f = { .t = &t, .to = { .sin_family = AF_INET,
			 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) } };
	const struct conn *live;
	int lfd, id, id2, other, c = -1, s = -1, c2 = -1, s2 = -1;
	uint16_t up_port, port;
	bool ok = false;

	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0))
		return false;
	f.to.sin_port = htons(up_port);
	if (!ASSERT_EQ(loop_init(&l, &lc), 0))
		goto out_lfd;
	if (!ASSERT_EQ(conn_table_init(&t, &l, &st, &tc), 0))
		goto out;
	id = conn_listen(&t, "fwd", htonl(INADDR_LOOPBACK), 0, &fwd_ops, &f);
	id2 = conn_listen(&t, "fwd2", htonl(INADDR_LOOPBACK), 0, &fwd_ops, &f);
	port = loop_listen_port(&l, "fwd");
	if (!ASSERT_GE(id, 0) || !ASSERT_GE(id2, 0) ||
	    !ASSERT_EQ(t.nflows, 1) ||
	    !ASSERT_GE(c = lh_client(port), 0) ||
	    !ASSERT_GE(s = relay_upstream(&l, lfd), 0) ||
	    !relay_round_trip(&l, c, s, "ping", "pong"))
		goto out;
	live = relaying(&t);
	if (!ASSERT_TRUE(live != NULL) ||
	    !ASSERT_EQ(conn_unlisten(&t, id), 0) ||
	    !ASSERT_EQ(conn_unlisten(&t, id), -ENOENT) ||
	    !ASSERT_EQ(conn_unlisten(&t, -1), -ENOENT) ||
	    !ASSERT_EQ(conn_unlisten(&t, LOOP_LISTENERS_MAX), -ENOENT) ||
	    !ASSERT_EQ(lh_client(port), -1) || !ASSERT_EQ(errno, ECONNREFUSED))
		goto out;
	/* The connection relays on, its flow whole. */
	if (!relay_round_trip(&l, c, s, "after", "still") ||
	    !ASSERT_TRUE(live->flow == &t.flows[0]) ||
	    !ASSERT_TRUE(live->flow->ops == &fwd_ops) ||
	    !ASSERT_TRUE(live->flow->arg == &f))
		goto out;
	/* The port again, the flow again: no second flow. */
	if (!ASSERT_EQ(conn_listen(&t, "fwd", htonl(INADDR_LOOPBACK), port,
				   &fwd_ops, &f), id) ||
	    !ASSERT_EQ(t.nflows, 1) ||
	    !ASSERT_GE(c2 = lh_client(port), 0) ||
	    !ASSERT_GE(s2 = relay_upstream(&l, lfd), 0) ||
	    !relay_round_trip(&l, c2, s2, "new", "one") ||
	    !relay_round_trip(&l, c, s, "old", "too") ||
	    !ASSERT_EQ(st.accepted, 2) || !ASSERT_EQ(st.conns, 2))
		goto out;
	/* A listener of the loop's that is not the table's. */
	other = loop_listen(&l, "other", htonl(INADDR_LOOPBACK), 0, NULL, NULL);
	if (!ASSERT_GE(other, 0) ||
	    !ASSERT_EQ(conn_unlisten(&t, other), -ENOENT) ||
	    !ASSERT_EQ(loop_unlisten(&l, other), 0))
		goto out;
	/* Both end cleanly. */
	close(c);
	close(c2);
	c = c2 = -1;
	if (!ASSERT_EQ(shutdown(s, SHUT_WR), 0) ||
	    !ASSERT_EQ(shutdown(s2, SHUT_WR), 0))
		goto out;
	for (int i = 0; i < 500 && st.conns; i++)
		if (!lh_run_for(&l, 10))
			goto out;
	ok = ASSERT_EQ(st.conns, 0) && ASSERT_EQ(st.finished, 2) &&
	     ASSERT_EQ(st.aborted, 0);
out:
	if (c >= 0)
		close(c);
	if (c2 >= 0)
		close(c2);
	if (s >= 0)
		close(s);
	if (s2 >= 0)
		close(s2);
	loop_fini(&l);
	conn_table_fini(&t);
out_lfd:
	close(lfd);
	return ok;
}

static void *unlisten_relay_thread(void *arg)
{
	*(bool *)arg = unlisten_relay();
	return NULL;
}

/* On a thread of its own: the thread that tore a ring down is left io_uring
 * work that cuts short its next blocking socket call with a timeout
 * (EINTR), and the other cases make those on this thread. */
static bool test_unlisten_relay(void)
{
	pthread_t th;
	bool ok = false;

	if (!ASSERT_EQ(pthread_create(&th, NULL, unlisten_relay_thread, &ok),
		       0))
		return false;
	pthread_join(th, NULL);
	return ok;
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
	TEST_RUN(test_unlisten_relay);
	TEST_MAIN_END();
}
