// SPDX-License-Identifier: Apache-2.0
/*
 * The event loop without any module: completions dispatched through the
 * handler table by op, accepts through each listener's own handler,
 * listeners removed and added while the loop runs, registered descriptors,
 * the turn's clock,
 * plaintext buffers and
 * ring buffers wiped as they come back, and a teardown that waits for its users'
 * ops.  Then the policy reloader: the
 * hand-over of snapshots between the reloader and the loop thread
 * (reload.c included, to publish by hand), a fixed snapshot, and a
 * reloader thread following mf_config.epoch in real pinned maps under a
 * pin root of the test's own.
 */
#include <sys/resource.h>
#include <sys/vfs.h>

#include <bpf/bpf.h>
#include <linux/magic.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "harness/records_harness.h"
#include "../../agent/loop.h"
#include "../../agent/reload.c"

/* ---- the loop ------------------------------------------------------------ */

/* What the test handlers saw. */
struct seen {
	struct loop *l;
	int calls;
	int stop_after;		/* loop_stop() at this many calls */
	uint64_t ud;		/* of the last call */
	int res;
	int fd;			/* accept handlers: the socket */
	bool timed_out;		/* the guard fired */
};

static void on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct seen *s = arg;

	s->ud = cqe->user_data;
	s->res = cqe->res;
	if (++s->calls == s->stop_after)
		loop_stop(s->l);
}

static void on_accept(void *arg, int fd)
{
	struct seen *s = arg;

	s->fd = fd;
	if (++s->calls == s->stop_after)
		loop_stop(s->l);
}

static void on_guard(void *arg, const struct io_uring_cqe *cqe)
{
	struct seen *s = arg;

	if (cqe->res != -ETIME)
		return;		/* cancelled at teardown */
	s->timed_out = true;
	loop_stop(s->l);
}

/* A loop without signals, and a 10 s timer that stops it, so a handler
 * that is never called fails the case instead of hanging it. */
static bool start(struct loop *l, struct seen *guard)
{
	static struct __kernel_timespec ts = { .tv_sec = 10 };
	const struct loop_config cfg = { .nbufs = 4, .buf_size = 4096 };
	struct io_uring_sqe *sqe;
	int op;

	if (!ASSERT_EQ(loop_init(l, &cfg), 0))
		return false;
	*guard = (struct seen){ .l = l };
	op = loop_op_add(l, "guard", on_guard, guard);
	if (!ASSERT_GE(op, LOOP_OP_FIRST_FREE))
		return false;
	sqe = loop_sqe(l, 1);
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, loop_ud((unsigned int)op, 0, 0, 0));
	return true;
}

static struct io_uring_sqe *nop(struct loop *l, uint64_t ud)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 2);

	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, ud);
	return sqe;
}

static bool test_user_data_roundtrip(void)
{
	uint64_t ud = loop_ud(0xab, 0x5a, 0xabcdef, 0x123456);

	return ASSERT_EQ(loop_ud_op(ud), 0xab) &&
	       ASSERT_EQ(loop_ud_aux(ud), 0x5a) &&
	       ASSERT_EQ(loop_ud_slot(ud), 0xabcdef) &&
	       ASSERT_EQ(loop_ud_gen(ud), 0x123456);
}

/* Each completion goes to the handler registered for its op, with its
 * user_data whole; an op nobody registered reaches no handler. */
static bool test_dispatch_by_op(void)
{
	struct loop l;
	struct seen guard, a = { .l = &l }, b = { .l = &l, .stop_after = 1 };
	int op_a, op_b, n;
	bool ok = false;

	if (!start(&l, &guard))
		return false;
	op_a = loop_op_add(&l, "a", on_cqe, &a);
	op_b = loop_op_add(&l, "b", on_cqe, &b);
	if (!ASSERT_GE(op_a, LOOP_OP_FIRST_FREE) || !ASSERT_NE(op_a, op_b))
		goto out;
	nop(&l, loop_ud(LOOP_OP_NONE, 0, 0, 0));
	nop(&l, loop_ud(LOOP_OPS_MAX + 3, 0, 0, 0));
	/* Linked, so that b's comes last and stops the loop. */
	nop(&l, loop_ud((unsigned int)op_a, 3, 77, 99))->flags |= IOSQE_IO_LINK;
	nop(&l, loop_ud((unsigned int)op_b, 4, 5, 6));
	if (!ASSERT_EQ(loop_run(&l), 0) || !ASSERT_FALSE(guard.timed_out) ||
	    !ASSERT_EQ(a.calls, 1) || !ASSERT_EQ(b.calls, 1) ||
	    !ASSERT_EQ(a.ud, loop_ud((unsigned int)op_a, 3, 77, 99)) ||
	    !ASSERT_EQ(a.res, 0) ||
	    !ASSERT_EQ(loop_ud_aux(b.ud), 4))
		goto out;
	/* The table is bounded. */
	for (n = 0; loop_op_add(&l, "more", on_cqe, &a) >= 0; n++)
		;
	ok = ASSERT_EQ(n + op_b + 1, LOOP_OPS_MAX);
out:
	loop_fini(&l);
	return ok;
}

/* A registered socket takes ops by its number with IOSQE_FIXED_FILE, and
 * loop_close_fixed() closes it for good: the peer reads the end, which the
 * file table's own reference would hold back if its slot were left set.
 * An fd beyond the table is not registered. */
static bool test_fixed_files(void)
{
	struct loop l;
	struct seen guard, a = { .l = &l, .stop_after = 1 };
	struct pollfd p;
	struct io_uring_sqe *sqe;
	char buf[4];
	int sv[2] = { -1, -1 }, op;
	bool ok = false;

	if (!start(&l, &guard))
		return false;
	op = loop_op_add(&l, "a", on_cqe, &a);
	if (!ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0) ||
	    !ASSERT_TRUE(loop_fd_fix(&l, sv[0])) ||
	    !ASSERT_FALSE(loop_fd_fix(&l, 1 << 20)) ||
	    !ASSERT_FALSE(loop_fd_fix(&l, -1)))
		goto out;
	sqe = loop_sqe(&l, 1);
	io_uring_prep_send(sqe, sv[0], "hi", 2, MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, loop_ud((unsigned int)op, 0, 0, 0));
	if (!ASSERT_EQ(loop_run(&l), 0) || !ASSERT_EQ(a.res, 2) ||
	    !ASSERT_EQ(read(sv[1], buf, sizeof(buf)), 2) ||
	    !ASSERT_TRUE(memcmp(buf, "hi", 2) == 0))
		goto out;
	loop_close_fixed(&l, sv[0], false);
	sv[0] = -1;
	if (!ASSERT_EQ(loop_turn(&l), 0))
		goto out;
	p = (struct pollfd){ .fd = sv[1], .events = POLLIN };
	ok = ASSERT_EQ(poll(&p, 1, 2000), 1) &&
	     ASSERT_EQ(read(sv[1], buf, sizeof(buf)), 0);
out:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	loop_fini(&l);
	return ok;
}

/* A connection to a listener goes to that listener's own handler, which
 * owns the socket. */
static bool test_listener_handlers(void)
{
	struct loop l;
	struct seen guard, one = { .l = &l };
	struct seen two = { .l = &l, .stop_after = 1 };
	int id1, id2, c = -1;
	uint16_t port;
	bool ok = false;

	if (!start(&l, &guard))
		return false;
	id1 = loop_listen(&l, "one", htonl(INADDR_LOOPBACK), 0, on_accept, &one);
	id2 = loop_listen(&l, "two", htonl(INADDR_LOOPBACK), 0, on_accept, &two);
	port = loop_listen_port(&l, "two");
	if (!ASSERT_EQ(id1, 0) || !ASSERT_EQ(id2, 1) ||
	    !ASSERT_TRUE(loop_listening(&l)) || !ASSERT_NE(port, 0) ||
	    !ASSERT_EQ(loop_listen_port(&l, "three"), 0) ||
	    !ASSERT_GE(c = lh_client(port), 0))
		goto out;
	ok = ASSERT_EQ(loop_run(&l), 0) && ASSERT_FALSE(guard.timed_out) &&
	     ASSERT_EQ(two.calls, 1) && ASSERT_EQ(one.calls, 0) &&
	     ASSERT_GE(two.fd, 0) && ASSERT_EQ(l.listeners[id2].accepted, 1) &&
	     ASSERT_EQ(l.listeners[id1].accepted, 0);
out:
	if (two.calls)
		close(two.fd);
	if (c >= 0)
		close(c);
	loop_fini(&l);
	return ok;
}

/* ---- listeners that come and go ------------------------------------------ */

/* An accept handler that closes the socket at once. */
static void on_accept_close(void *arg, int fd)
{
	on_accept(arg, fd);
	close(fd);
}

/* Runs @l until @s has seen @calls calls, bounded.  True when it has. */
static bool run_until_calls(struct loop *l, struct seen *s, int calls)
{
	for (int i = 0; i < 500 && s->calls < calls; i++)
		if (!lh_run_for(l, 10))
			return false;
	return ASSERT_EQ(s->calls, calls);
}

/* Runs @l until no op of a removed listener is left, bounded. */
static bool run_until_unlistened(struct loop *l)
{
	for (int i = 0; i < 500 && l->unlisten_pending; i++)
		if (!lh_run_for(l, 10))
			return false;
	return ASSERT_EQ(l->unlisten_pending, 0);
}

/* connect() to 127.0.0.1:@port; 0 or -errno.  The socket is closed. */
static int connect_err(uint16_t port)
{
	int c = lh_client(port), err = c < 0 ? -errno : 0;

	if (c >= 0)
		close(c);
	return err;
}

/*
 * A listener removed while the loop runs: its port refuses connections
 * and can be bound again as soon as loop_unlisten() returns; a new
 * listener there, in the old one's slot, gets the next connection; the
 * old handler gets nothing more.  A removed or unknown id is -ENOENT.
 */
static bool test_unlisten(void)
{
	struct loop l;
	struct seen guard, one = { .l = &l, .stop_after = 1 };
	struct seen two = { .l = &l, .stop_after = 1 };
	int id, id2, c = -1;
	uint16_t port;
	bool ok = false;

	if (!start(&l, &guard))
		return false;
	id = loop_listen(&l, "one", htonl(INADDR_LOOPBACK), 0,
			 on_accept_close, &one);
	port = loop_listen_port(&l, "one");
	if (!ASSERT_GE(id, 0) || !ASSERT_NE(port, 0) ||
	    !ASSERT_GE(c = lh_client(port), 0) ||
	    !run_until_calls(&l, &one, 1))
		goto out;
	close(c);
	c = -1;
	if (!ASSERT_EQ(loop_unlisten(&l, id), 0) ||
	    !ASSERT_EQ(loop_listen_port(&l, "one"), 0) ||
	    !ASSERT_TRUE(loop_listening(&l)) ||
	    !ASSERT_EQ(connect_err(port), -ECONNREFUSED) ||
	    !ASSERT_EQ(loop_unlisten(&l, id), -ENOENT) ||
	    !ASSERT_EQ(loop_unlisten(&l, -1), -ENOENT) ||
	    !ASSERT_EQ(loop_unlisten(&l, LOOP_LISTENERS_MAX), -ENOENT) ||
	    !ASSERT_EQ(loop_unlisten(&l, 5), -ENOENT))
		goto out;
	/* The same port at once, before the loop has run again. */
	id2 = loop_listen(&l, "two", htonl(INADDR_LOOPBACK), port,
			  on_accept_close, &two);
	if (!ASSERT_EQ(id2, id) ||
	    !ASSERT_EQ(loop_listen_port(&l, "two"), port) ||
	    !ASSERT_GE(c = lh_client(port), 0) ||
	    !run_until_calls(&l, &two, 1) || !run_until_unlistened(&l))
		goto out;
	ok = ASSERT_EQ(one.calls, 1) && ASSERT_FALSE(guard.timed_out) &&
	     ASSERT_EQ(l.listeners[id2].accepted, 1);
out:
	if (c >= 0)
		close(c);
	loop_fini(&l);
	return ok;
}

/* What the op of test_unlisten_late_accept does in the loop. */
struct swap {
	struct loop *l;
	int id;
	uint16_t port;
	struct seen *next;
	int id2;
};

/* Removes listener s->id and listens on its port again with s->next. */
static void on_swap(void *arg, const struct io_uring_cqe *cqe)
{
	struct swap *s = arg;

	(void)cqe;
	loop_unlisten(s->l, s->id);
	s->id2 = loop_listen(s->l, "two", htonl(INADDR_LOOPBACK), s->port,
			     on_accept_close, s->next);
}

/*
 * An accept of the old listener that completes after loop_unlisten(), in
 * the same batch as the op that removed it, when its slot already holds a
 * new listener: the socket is reset, not handed to the new handler.  The
 * next connection reaches the new one.
 */
static bool test_unlisten_late_accept(void)
{
	struct loop l;
	struct seen guard, one = { .l = &l }, two = { .l = &l };
	struct swap sw = { .l = &l, .next = &two, .id2 = -1 };
	int op, c = -1, c2 = -1;
	bool ok = false;

	if (!start(&l, &guard))
		return false;
	op = loop_op_add(&l, "swap", on_swap, &sw);
	if (!ASSERT_GE(op, LOOP_OP_FIRST_FREE))
		goto out;
	/* Queued before the accept, so it completes first. */
	nop(&l, loop_ud((unsigned int)op, 0, 0, 0));
	sw.id = loop_listen(&l, "one", htonl(INADDR_LOOPBACK), 0,
			    on_accept_close, &one);
	sw.port = loop_listen_port(&l, "one");
	/* In the backlog before the accept is submitted: the accept takes it
	 * at once, in the batch of the nop. */
	if (!ASSERT_GE(sw.id, 0) || !ASSERT_GE(c = lh_client(sw.port), 0))
		goto out;
	lh_set_timeout(c, 5000);
	if (!lh_run_for(&l, 20) || !ASSERT_EQ(sw.id2, sw.id) ||
	    !ASSERT_EQ(lh_recv_err(c), -ECONNRESET) ||
	    !ASSERT_EQ(one.calls, 0) || !ASSERT_EQ(two.calls, 0) ||
	    !ASSERT_GE(l.stats.stale_cqes, 1) ||
	    !ASSERT_GE(c2 = lh_client(sw.port), 0) ||
	    !run_until_calls(&l, &two, 1) || !run_until_unlistened(&l))
		goto out;
	ok = ASSERT_EQ(one.calls, 0) && ASSERT_FALSE(guard.timed_out);
out:
	if (c >= 0)
		close(c);
	if (c2 >= 0)
		close(c2);
	loop_fini(&l);
	return ok;
}

/*
 * Listened, removed and listened again before the ring saw the first
 * accept: the new socket likely has the old one's fd number, and the old
 * accept, submitted late, must not take the new listener's connection.
 */
static bool test_unlisten_before_submit(void)
{
	struct loop l;
	struct seen guard, one = { .l = &l };
	struct seen two = { .l = &l, .stop_after = 1 };
	int id, c = -1;
	uint16_t port;
	bool ok = false;

	if (!start(&l, &guard))
		return false;
	id = loop_listen(&l, "one", htonl(INADDR_LOOPBACK), 0,
			 on_accept_close, &one);
	port = loop_listen_port(&l, "one");
	if (!ASSERT_GE(id, 0) || !ASSERT_EQ(loop_unlisten(&l, id), 0) ||
	    !ASSERT_EQ(loop_listen(&l, "two", htonl(INADDR_LOOPBACK), port,
				   on_accept_close, &two), id) ||
	    !ASSERT_GE(c = lh_client(port), 0) ||
	    !run_until_calls(&l, &two, 1) || !run_until_unlistened(&l))
		goto out;
	lh_set_timeout(c, 5000);
	/* Closed by the handler with a FIN: not reset by a stray accept. */
	ok = ASSERT_EQ(lh_recv_err(c), 0) && ASSERT_EQ(one.calls, 0) &&
	     ASSERT_FALSE(guard.timed_out);
out:
	if (c >= 0)
		close(c);
	loop_fini(&l);
	return ok;
}

/*
 * A listener removed while its accept waits to be re-armed (out of fds):
 * the retry does not re-arm it.
 */
static bool test_unlisten_during_retry(void)
{
	struct loop l;
	struct seen guard, one = { .l = &l };
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct rlimit saved, low;
	int id, c, lowest;
	bool ok = false, limited = false;

	if (!start(&l, &guard))
		return false;
	id = loop_listen(&l, "one", htonl(INADDR_LOOPBACK), 0, on_accept_close,
			 &one);
	sa.sin_port = htons(loop_listen_port(&l, "one"));
	c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_GE(id, 0) || !ASSERT_GE(c, 0) ||
	    !ASSERT_EQ(connect(c, (struct sockaddr *)&sa, sizeof(sa)), 0) ||
	    !ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0))
		goto out;
	/* No fd free below the limit when the accept is submitted (it reads
	 * the limit then): it fails with EMFILE. */
	lowest = dup(c);
	if (!ASSERT_GE(lowest, 0))
		goto out;
	close(lowest);
	low = saved;
	low.rlim_cur = (rlim_t)lowest;
	if (!ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0))
		goto out;
	limited = true;
	for (int i = 0; i < 20 && !l.listeners[id].retry_armed; i++)
		if (!lh_run_for(&l, 5))
			goto out;
	setrlimit(RLIMIT_NOFILE, &saved);
	limited = false;
	if (!ASSERT_TRUE(l.listeners[id].retry_armed) ||
	    !ASSERT_EQ(loop_unlisten(&l, id), 0) ||
	    /* Past the retry's pause, had the cancel not ended it. */
	    !lh_run_for(&l, 150) || !run_until_unlistened(&l))
		goto out;
	ok = ASSERT_FALSE(l.listeners[id].live) &&
	     ASSERT_FALSE(l.listeners[id].armed) &&
	     ASSERT_FALSE(l.listeners[id].retry_armed) &&
	     ASSERT_EQ(one.calls, 0) && ASSERT_FALSE(guard.timed_out);
out:
	if (limited)
		setrlimit(RLIMIT_NOFILE, &saved);
	if (c >= 0)
		close(c);
	loop_fini(&l);
	return ok;
}

/*
 * 200 listeners in a row on one port, each removed after it accepted a
 * connection: no fd is left behind.  And LOOP_LISTENERS_MAX live at once,
 * one more only once one of them is removed.
 */
static bool test_unlisten_cycles(void)
{
	struct loop l;
	struct seen guard, s = { .l = &l };
	int base, id, ids[LOOP_LISTENERS_MAX], n = 0, c;
	uint16_t port = 0;
	bool ok = false, got;

	if (!start(&l, &guard))
		return false;
	base = lh_count_fds();
	for (int i = 0; i < 200; i++) {
		id = loop_listen(&l, "cycle", htonl(INADDR_LOOPBACK), port,
				 on_accept_close, &s);
		if (!port)
			port = loop_listen_port(&l, "cycle");
		if (!ASSERT_GE(id, 0) || !ASSERT_GE(c = lh_client(port), 0))
			goto out;
		s.stop_after = i + 1;
		got = run_until_calls(&l, &s, i + 1);
		close(c);
		if (!got || !ASSERT_EQ(loop_unlisten(&l, id), 0))
			goto out;
	}
	if (!run_until_unlistened(&l))
		goto out;
	/* A socket a late accept brought is closed through the ring. */
	for (int i = 0; i < 100 && lh_count_fds() != base; i++)
		if (!lh_run_for(&l, 10))
			goto out;
	if (!ASSERT_EQ(lh_count_fds(), base) || !ASSERT_EQ(l.nlisteners, 1))
		goto out;
	for (n = 0; n < LOOP_LISTENERS_MAX; n++) {
		ids[n] = loop_listen(&l, "many", htonl(INADDR_LOOPBACK), 0,
				     on_accept_close, &s);
		if (!ASSERT_EQ(ids[n], n))
			goto out;
	}
	if (!ASSERT_EQ(loop_listen(&l, "many", htonl(INADDR_LOOPBACK), 0,
				   on_accept_close, &s), -ENOSPC) ||
	    !ASSERT_EQ(loop_unlisten(&l, 7), 0) ||
	    !ASSERT_EQ(ids[7] = loop_listen(&l, "many",
					    htonl(INADDR_LOOPBACK), 0,
					    on_accept_close, &s), 7))
		goto out;
	for (; n > 0; n--)
		if (!ASSERT_EQ(loop_unlisten(&l, ids[n - 1]), 0))
			goto out;
	ok = run_until_unlistened(&l) && ASSERT_EQ(lh_count_fds(), base) &&
	     ASSERT_FALSE(guard.timed_out);
out:
	while (n > 0)
		loop_unlisten(&l, ids[--n]);
	loop_fini(&l);
	return ok;
}

/* The longest iteration shows in the stall gauge. */
static void on_slow_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	usleep(20 * 1000);
	on_cqe(arg, cqe);
}

static bool test_stall_gauge(void)
{
	struct loop l;
	struct seen guard, s = { .l = &l, .stop_after = 1 };
	bool ok;
	int op;

	if (!start(&l, &guard))
		return false;
	op = loop_op_add(&l, "slow", on_slow_cqe, &s);
	if (ASSERT_GE(op, LOOP_OP_FIRST_FREE))
		nop(&l, loop_ud((unsigned int)op, 0, 0, 0));
	ok = ASSERT_EQ(l.stats.stall_max_ns, 0) &&
	     ASSERT_EQ(loop_run(&l), 0) && ASSERT_EQ(s.calls, 1) &&
	     ASSERT_GE(l.stats.stall_max_ns, 20 * 1000000ull);
	loop_fini(&l);
	return ok;
}

/* What two handlers of one turn read from the turn's clock, 5 ms of work
 * apart. */
static uint64_t turn_seen[2];
static unsigned int turn_calls;

static void on_turn_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	if (turn_calls < 2)
		turn_seen[turn_calls++] = timer_turn_now();
	usleep(5 * 1000);
	on_cqe(arg, cqe);
}

/* Every completion of a turn stamps with the time the loop woke, however
 * long the turn's work took; outside a turn the clock is read afresh. */
static bool test_turn_clock(void)
{
	struct loop l;
	struct seen guard, s = { .l = &l, .stop_after = 2 };
	uint64_t before, outside;
	bool ok = false;
	int op;

	turn_calls = 0;
	if (!start(&l, &guard))
		return false;
	op = loop_op_add(&l, "turn", on_turn_cqe, &s);
	if (!ASSERT_GE(op, LOOP_OP_FIRST_FREE))
		goto out;
	nop(&l, loop_ud((unsigned int)op, 0, 0, 0));
	nop(&l, loop_ud((unsigned int)op, 0, 0, 0));
	before = timer_now();
	if (!ASSERT_EQ(loop_turn(&l), 0) || !ASSERT_EQ(turn_calls, 2))
		goto out;
	outside = timer_turn_now();
	ok = ASSERT_GE(turn_seen[0], before) &&
	     ASSERT_EQ(turn_seen[1], turn_seen[0]) &&
	     ASSERT_GE(outside, turn_seen[0] + 10 * 1000000ull) &&
	     ASSERT_GE(timer_turn_now(), outside);
out:
	loop_fini(&l);
	return ok;
}

/* Turns over 10 ms in histogram @h (the buckets past that bound). */
static uint64_t slow_turns(const struct stallhist *h)
{
	const uint64_t *b = stallhist_bounds();
	uint64_t n = 0;

	for (int i = 0; i < STALLHIST_BUCKETS; i++)
		if (i == STALLHIST_BUCKETS - 1 || b[i] > 10000000)
			n += h->buckets[i];
	return n;
}

/* The histograms count every turn's work and every batch's: a handler
 * that holds the thread 20 ms lands in a bucket past 10 ms in both, fast
 * turns in the first ones, and the sums add up to at least the stall. */
static bool test_stall_histograms(void)
{
	struct loop l;
	struct seen guard, fast = { .l = &l }, s = { .l = &l, .stop_after = 1 };
	uint64_t all = 0;
	bool ok = false;
	int op, fop;

	if (!start(&l, &guard))
		return false;
	fop = loop_op_add(&l, "fast", on_cqe, &fast);
	op = loop_op_add(&l, "slow", on_slow_cqe, &s);
	if (!ASSERT_GE(op, LOOP_OP_FIRST_FREE) ||
	    !ASSERT_GE(fop, LOOP_OP_FIRST_FREE))
		goto out;
	for (int i = 0; i < 3; i++) {
		nop(&l, loop_ud((unsigned int)fop, 0, 0, 0));
		if (!ASSERT_EQ(loop_turn(&l), 0))
			goto out;
	}
	if (!ASSERT_EQ(fast.calls, 3) || !ASSERT_EQ(slow_turns(&l.stats.turn), 0))
		goto out;
	nop(&l, loop_ud((unsigned int)op, 0, 0, 0));
	if (!ASSERT_EQ(loop_run(&l), 0))
		goto out;
	for (int i = 0; i < STALLHIST_BUCKETS; i++)
		all += l.stats.turn.buckets[i];
	ok = ASSERT_EQ(s.calls, 1) && ASSERT_GE(l.stats.turn.count, 4) &&
	     ASSERT_EQ(all, l.stats.turn.count) &&
	     ASSERT_GE(l.stats.batch.count, 4) &&
	     ASSERT_GE(l.stats.turn.count, l.stats.batch.count) &&
	     ASSERT_EQ(slow_turns(&l.stats.turn), 1) &&
	     ASSERT_EQ(slow_turns(&l.stats.batch), 1) &&
	     ASSERT_GE(l.stats.turn.sum_ns, 20 * 1000000ull) &&
	     ASSERT_GE(l.stats.turn.sum_ns, l.stats.batch.sum_ns);
out:
	loop_fini(&l);
	return ok;
}

/* A plaintext buffer comes back wiped as far as its user says data
 * reached, and no further; the cache hands it out again. */
static bool test_pbuf_wiped(void)
{
	struct loop l;
	struct seen guard;
	uint8_t *p, *q;
	bool ok;

	if (!start(&l, &guard))
		return false;
	p = loop_pbuf_get(&l);
	if (!ASSERT_TRUE(p)) {
		loop_fini(&l);
		return false;
	}
	memset(p, 0xa5, LOOP_PBUF_SIZE);
	loop_pbuf_put(&l, p, 100);
	q = loop_pbuf_get(&l);		/* the one just cached */
	ok = ASSERT_TRUE(q == p) && ASSERT_ZEROED(q, 100) &&
	     ASSERT_EQ(q[100], 0xa5) && ASSERT_EQ(q[LOOP_PBUF_SIZE - 1], 0xa5);
	/* More than the buffer holds: all of it. */
	loop_pbuf_put(&l, q, LOOP_PBUF_SIZE + 1);
	q = loop_pbuf_get(&l);
	ok = ok && ASSERT_TRUE(q == p) && ASSERT_ZEROED(q, LOOP_PBUF_SIZE);
	loop_pbuf_put(&l, q, 0);
	loop_fini(&l);
	return ok;
}

/* A provided buffer that held received bytes goes back to the ring wiped
 * as far as its user says they reached, and no further. */
static bool test_ring_buf_wiped(void)
{
	struct io_uring_cqe *cqe = NULL;
	struct io_uring_sqe *sqe;
	struct loop l;
	struct seen guard;
	uint8_t secret[300], *b = NULL;
	int sv[2], bid = -1;
	bool ok;

	memset(secret, 0x5a, sizeof(secret));
	if (!start(&l, &guard))
		return false;
	ok = ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0) &&
	     ASSERT_EQ(send(sv[1], secret, sizeof(secret), 0),
		       (ssize_t)sizeof(secret));
	if (ok) {
		/* A recv of the ring's, as a connection's: the kernel picks
		 * the buffer. */
		sqe = io_uring_get_sqe(&l.ring);
		io_uring_prep_recv(sqe, sv[0], NULL, 4096, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = LOOP_BGID;
		io_uring_sqe_set_data64(sqe, 0);
		ok = ASSERT_GE(io_uring_submit(&l.ring), 1);
		while (ok) {
			ok = ASSERT_EQ(io_uring_wait_cqe(&l.ring, &cqe), 0);
			if (ok && cqe->user_data == 0)
				break;
			if (ok)
				io_uring_cqe_seen(&l.ring, cqe);
		}
		ok = ok && ASSERT_EQ(cqe->res, (int)sizeof(secret));
		if (ok)
			bid = loop_cqe_bid(cqe);
		if (cqe)
			io_uring_cqe_seen(&l.ring, cqe);
		ok = ok && ASSERT_GE(bid, 0);
	}
	if (ok) {
		b = loop_buf(&l, (uint16_t)bid);
		ok = ASSERT_EQ(b[0], 0x5a) && ASSERT_EQ(b[299], 0x5a);
		b[300] = 0x77;		/* past what came: left alone */
		l.stats.bufs_out++;	/* as the loop counts it out */
		loop_buf_put(&l, (uint16_t)bid, sizeof(secret));
		ok = ok && ASSERT_ZEROED(b, sizeof(secret)) &&
		     ASSERT_EQ(b[300], 0x77);
	}
	close(sv[0]);
	close(sv[1]);
	loop_fini(&l);
	return ok;
}

/* A module with an op in flight at teardown. */
struct user {
	struct loop *l;
	int op;
	bool aborted;
	int inflight;
};

static void user_abort_all(void *arg)
{
	struct user *u = arg;

	u->aborted = true;
	nop(u->l, loop_ud((unsigned int)u->op, 0, 0, 0));
	u->inflight++;
}

static bool user_busy(void *arg)
{
	return ((struct user *)arg)->inflight > 0;
}

static void user_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	(void)cqe;
	((struct user *)arg)->inflight--;
}

/* Teardown asks every user to end its work and waits for its ops. */
static bool test_teardown_waits_for_users(void)
{
	struct loop l;
	struct seen guard;
	struct user u = { .l = &l };
	bool ok;

	if (!start(&l, &guard))
		return false;
	u.op = loop_op_add(&l, "user", user_cqe, &u);
	ok = ASSERT_GE(u.op, LOOP_OP_FIRST_FREE) &&
	     ASSERT_EQ(loop_user_add(&l, &(const struct loop_user){
			.arg = &u, .abort_all = user_abort_all,
			.busy = user_busy }), 0);
	loop_fini(&l);
	return ok && ASSERT_TRUE(u.aborted) && ASSERT_EQ(u.inflight, 0);
}

/* ---- the reloader -------------------------------------------------------- */

/* An empty snapshot of epoch @epoch. */
static struct policy *snap(uint64_t epoch)
{
	struct rec_set rs;

	rec_set_init(&rs);
	rs.config.epoch = epoch;
	return rh_snapshot(&rs, true);
}

static bool test_fixed_snapshot(void)
{
	struct policy *p = snap(3);
	struct reload *r = NULL;
	bool ok;

	if (!ASSERT_TRUE(p) || !ASSERT_EQ(reload_open(&r, NULL, p), 0))
		return false;
	/* The reloader holds a reference of its own. */
	policy_put(p);
	ok = ASSERT_TRUE(reload_current(r) == p) &&
	     ASSERT_EQ(policy_epoch(reload_current(r)), 3) &&
	     ASSERT_TRUE(!r->thread_up);
	reload_close(r);
	if (!ok || !ASSERT_EQ(reload_open(&r, NULL, NULL), 0))
		return false;
	ok = ASSERT_TRUE(reload_current(r) == NULL);
	reload_close(r);
	return ok;
}

/* References handed back and not dropped yet. */
static unsigned int retired(const struct reload *r)
{
	return r->retire_head - r->retire_tail;
}

/*
 * Snapshots published by hand (no thread): the loop takes the newest, a
 * connection's reference outlives the switch, one never taken is dropped
 * by the publisher, and the references the loop lets go of wait in the
 * retire ring for the reloader, unless they are to the current snapshot.
 * Every reference is accounted for: the sanitizer build fails on a leak or
 * a double put.
 */
static bool test_handover(void)
{
	struct policy *a = snap(1), *held;
	struct reload *r = NULL;
	bool ok = false;

	if (!ASSERT_TRUE(a) || !ASSERT_EQ(reload_open(&r, NULL, a), 0))
		return false;
	policy_put(a);
	held = policy_get(reload_current(r));	/* a connection's */
	reload_publish(r, snap(2));
	if (!ASSERT_EQ(policy_epoch(reload_current(r)), 2) ||
	    !ASSERT_EQ(retired(r), 1) || !ASSERT_TRUE(r->retire[0] == a) ||
	    !ASSERT_TRUE(r->fresh == NULL))
		goto out;
	/* Two publications before the loop looks: 3 is never seen. */
	reload_publish(r, snap(3));
	reload_publish(r, snap(4));
	if (!ASSERT_EQ(policy_epoch(r->fresh), 4) ||
	    !ASSERT_EQ(policy_epoch(reload_current(r)), 4) ||
	    !ASSERT_EQ(retired(r), 2) ||
	    !ASSERT_EQ(policy_epoch(r->retire[1]), 2) ||
	    /* Nothing new: the same snapshot, no exchange. */
	    !ASSERT_EQ(policy_epoch(reload_current(r)), 4) ||
	    /* The connection's snapshot is still whole. */
	    !ASSERT_EQ(policy_epoch(held), 1))
		goto out;
	/* A connection's reference to an old snapshot goes to the ring, one
	 * to the current snapshot is dropped at once. */
	reload_release(r, held);
	held = NULL;
	reload_release(r, policy_get(reload_current(r)));
	reload_release(r, NULL);
	if (!ASSERT_EQ(retired(r), 3))
		goto out;
	/* A full ring cannot wait: the loop drops the reference itself. */
	while (retired(r) < RELOAD_RETIRE_MAX)
		reload_release(r, policy_get(r->retire[1]));
	reload_release(r, policy_get(r->retire[1]));
	ok = ASSERT_EQ(retired(r), RELOAD_RETIRE_MAX);
out:
	policy_put(held);
	reload_close(r);
	return ok;
}

static bool set_epoch(const struct pmap *pm, uint64_t epoch)
{
	struct mf_config cfg;
	__u32 zero = 0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.epoch = epoch;
	cfg.flags = MF_CONFIG_F_MESH;
	snprintf(cfg.trust_domain, sizeof(cfg.trust_domain), "td%llu.local",
		 (unsigned long long)epoch);
	return ASSERT_EQ(bpf_map_update_elem(pm->config_fd, &zero, &cfg,
					     BPF_ANY), 0);
}

/* The reloader thread follows the epoch of real maps: the loop sees epoch
 * 2 once it is built, while a reference to epoch 1 stays valid. */
static bool test_thread_follows_epoch(void)
{
	struct reload *r = NULL;
	struct policy *old;
	struct statfs st;
	struct pmap pm;
	char root[64];
	bool ok = false;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		TEST_SKIP("bpffs is not mounted at /sys/fs/bpf");
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-loop-%d",
		 (int)getpid());
	pmap_unpin_all(root);
	if (!ASSERT_EQ(pmap_open(&pm, root, true), 0))
		goto out_unpin;
	if (!set_epoch(&pm, 1) || !ASSERT_EQ(reload_open(&r, &pm, NULL), 0))
		goto out;
	old = policy_get(reload_current(r));
	if (!ASSERT_EQ(policy_epoch(old), 1) || !ASSERT_TRUE(r->thread_up) ||
	    !set_epoch(&pm, 2))
		goto out_old;
	/* Bounded, so a reloader that never publishes fails rather than
	 * hangs: there is nothing to wait on but the pointer itself. */
	for (int i = 0; i < 1000 && policy_epoch(reload_current(r)) != 2; i++)
		usleep(RELOAD_POLL_MS * 1000);
	ok = ASSERT_EQ(policy_epoch(reload_current(r)), 2) &&
	     ASSERT_STREQ(policy_trust_domain(reload_current(r)), "td2.local") &&
	     ASSERT_STREQ(policy_trust_domain(old), "td1.local");
out_old:
	policy_put(old);
out:
	reload_close(r);
	pmap_close(&pm);
out_unpin:
	if (!ASSERT_EQ(pmap_unpin_all(root), 0))
		ok = false;
	return ok;
}

/* Two loops' ends of one reloader, by hand: a publication reaches both,
 * each takes it on its own time and keeps its own reference, and what
 * each lets go of waits in its own ring.  Every reference is accounted
 * for (the sanitizer build fails on a leak or a double put). */
static bool test_group_handover(void)
{
	struct policy *a = snap(1), *held;
	struct reload *r[2] = { NULL, NULL };
	bool ok = false;

	if (!ASSERT_TRUE(a) || !ASSERT_EQ(reload_open_group(r, 2, NULL, a), 0))
		return false;
	policy_put(a);
	if (!ASSERT_TRUE(reload_current(r[0]) == reload_current(r[1])))
		goto out_close;
	held = policy_get(reload_current(r[1]));	/* loop 1's connection */
	reload_publish_all(r[0], snap(2));
	ok = ASSERT_EQ(policy_epoch(reload_current(r[0])), 2) &&
	     /* Loop 1 has not looked yet: its own slot still holds it. */
	     ASSERT_EQ(policy_epoch(r[1]->fresh), 2) &&
	     ASSERT_EQ(policy_epoch(r[1]->cur), 1) &&
	     ASSERT_EQ(retired(r[0]), 1) && ASSERT_EQ(retired(r[1]), 0) &&
	     ASSERT_EQ(policy_epoch(reload_current(r[1])), 2) &&
	     ASSERT_TRUE(reload_current(r[0]) == reload_current(r[1])) &&
	     ASSERT_EQ(retired(r[1]), 1) && ASSERT_EQ(policy_epoch(held), 1);
	reload_release(r[1], held);
	ok = ok && ASSERT_EQ(retired(r[1]), 2);
out_close:
	/* Closing by the second end closes the group. */
	reload_close(r[1]);
	return ok;
}

/* Two loops' ends in real pinned maps: one apply (an epoch flip) reaches
 * both, built once. */
static bool test_group_follows_epoch(void)
{
	struct reload *r[2] = { NULL, NULL };
	struct statfs st;
	struct pmap pm;
	char root[64];
	bool ok = false;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		TEST_SKIP("bpffs is not mounted at /sys/fs/bpf");
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-loopg-%d",
		 (int)getpid());
	pmap_unpin_all(root);
	if (!ASSERT_EQ(pmap_open(&pm, root, true), 0))
		goto out_unpin;
	if (!set_epoch(&pm, 1) ||
	    !ASSERT_EQ(reload_open_group(r, 2, &pm, NULL), 0))
		goto out;
	if (!ASSERT_EQ(policy_epoch(reload_current(r[0])), 1) ||
	    !ASSERT_EQ(policy_epoch(reload_current(r[1])), 1) ||
	    !ASSERT_TRUE(r[0]->thread_up) || !ASSERT_TRUE(!r[1]->thread_up) ||
	    !set_epoch(&pm, 2))
		goto out_close;
	for (int i = 0; i < 1000 && (policy_epoch(reload_current(r[0])) != 2 ||
				     policy_epoch(reload_current(r[1])) != 2);
	     i++)
		usleep(RELOAD_POLL_MS * 1000);
	ok = ASSERT_EQ(policy_epoch(reload_current(r[0])), 2) &&
	     ASSERT_EQ(policy_epoch(reload_current(r[1])), 2) &&
	     /* Built once, shared read-only. */
	     ASSERT_TRUE(reload_current(r[0]) == reload_current(r[1]));
out_close:
	reload_close(r[0]);
out:
	pmap_close(&pm);
out_unpin:
	if (!ASSERT_EQ(pmap_unpin_all(root), 0))
		ok = false;
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	log_level_max = LOG_LVL_WARN;

	TEST_RUN(test_user_data_roundtrip);
	TEST_RUN(test_dispatch_by_op);
	TEST_RUN(test_fixed_files);
	TEST_RUN(test_listener_handlers);
	TEST_RUN(test_unlisten);
	TEST_RUN(test_unlisten_late_accept);
	TEST_RUN(test_unlisten_before_submit);
	TEST_RUN(test_unlisten_during_retry);
	TEST_RUN(test_unlisten_cycles);
	TEST_RUN(test_teardown_waits_for_users);
	TEST_RUN(test_stall_gauge);
	TEST_RUN(test_stall_histograms);
	TEST_RUN(test_turn_clock);
	TEST_RUN(test_pbuf_wiped);
	TEST_RUN(test_ring_buf_wiped);
	TEST_RUN(test_fixed_snapshot);
	TEST_RUN(test_handover);
	TEST_RUN(test_thread_follows_epoch);
	TEST_RUN(test_group_handover);
	TEST_RUN(test_group_follows_epoch);
	TEST_MAIN_END();
}
