/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The in-process harness the loop tests share (test_relay, test_tunnel,
 * test_admin): the agent's io_uring loop run in its own thread with a
 * config the test fills in (lh_loop_start / lh_loop_stop, the listener
 * ports and the loop's stats read back), plus the plain-socket helpers
 * those tests drive it with: loopback listeners and clients, socket
 * timeouts, accept and read with a deadline so a broken loop fails a test
 * rather than hanging it, moving checked pattern bytes through the loop,
 * counting this process's open fds to catch leaks, and the signal setup
 * that lets lh_loop_stop() stop a loop with SIGTERM.  For a loop the test
 * drives on its own thread instead: running it for a while
 * (lh_run_for()), or until a socket has something to read.
 *
 * Include after "harness/test.h".  Everything is static inline so a test that
 * uses only part of it still builds with -Werror.
 */
#ifndef MF_LOOP_HARNESS_H
#define MF_LOOP_HARNESS_H

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "../../agent/agent.h"
#include "../../agent/workers.h"

/* One loop in its own thread.  The test owns the struct; cfg is read by
 * the loop thread from lh_loop_start() until lh_loop_stop() returns. */
struct lh_loop {
	struct agent_config cfg;
	/* Loops (workers.h); 0: $MF_TEST_THREADS when set, else 1.  With
	 * more than one, or a hand-over path (which workers_init() serves),
	 * stats holds the sums workers_totals() makes and loop_stats loop
	 * 0's, and @w is live until the loop stops. */
	unsigned int threads;
	struct workers w;
	/* Times each iteration (loop_turn()) on the loop thread's CPU
	 * clock as well, into turn_cpu_max_ns when the loop stopped: the
	 * loop's own work, where the stall gauge (wall clock) also counts
	 * the time other processes of a shared machine had the CPU.  A read
	 * of that clock is a system call: for the tests that time the loop
	 * only. */
	bool cpu_timed;
	uint64_t turn_cpu_max_ns;
	pthread_t thread;
	int init_err;
	uint16_t fwd_port;		/* forward listener, 0 when off */
	uint16_t admin_port;		/* admin listener, 0 when off */
	struct stats stats;		/* copied when the loop stopped: the
					 * connections' counters ... */
	struct loop_stats loop_stats;	/* ... and the loop's own */
	int ready_pipe[2];
};

/* CLOCK_THREAD_CPUTIME_ID now, in ns. */
static inline uint64_t lh_cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* loop_run() of @l, a turn at a time, each timed on this thread's CPU
 * clock (the wait's system call included: its task work is the loop's
 * too). */
static inline void lh_run_cpu_timed(struct lh_loop *h, struct loop *l)
{
	uint64_t c0, dc;
	int ret = 0;

	while (!l->stopping && !ret) {
		c0 = lh_cpu_now();
		ret = loop_turn(l);
		dc = lh_cpu_now() - c0;
		if (dc > h->turn_cpu_max_ns)
			h->turn_cpu_max_ns = dc;
	}
}

/* lh_loop_thread() with several loops. */
static inline void *lh_workers_thread(struct lh_loop *h)
{
	struct agent *a0;
	char c = 0;

	h->init_err = workers_init(&h->w, &h->cfg,
				   h->threads ? h->threads : 1, false);
	if (!h->init_err) {
		a0 = workers_agent0(&h->w);
		h->admin_port = loop_listen_port(&a0->loop, "admin");
		h->fwd_port = loop_listen_port(&a0->loop, "forward");
	}
	if (write(h->ready_pipe[1], &c, 1) != 1)
		abort();
	if (h->init_err)
		return NULL;
	workers_run(&h->w);
	workers_totals(&h->w, &h->stats);
	h->loop_stats = workers_agent0(&h->w)->loop.stats;
	workers_fini(&h->w);
	return NULL;
}

static inline void *lh_loop_thread(void *arg)
{
	struct lh_loop *h = arg;
	struct agent a;
	char c = 0;

	if (h->threads > 1 || h->cfg.handover_path)
		return lh_workers_thread(h);

	h->init_err = agent_init(&a, &h->cfg);
	if (!h->init_err) {
		h->admin_port = loop_listen_port(&a.loop, "admin");
		h->fwd_port = loop_listen_port(&a.loop, "forward");
	}
	/* The starter waits for this byte, so it sees init_err and the
	 * ports only once they are final. */
	if (write(h->ready_pipe[1], &c, 1) != 1)
		abort();
	if (h->init_err)
		return NULL;
	if (h->cpu_timed)
		lh_run_cpu_timed(h, &a.loop);
	else
		loop_run(&a.loop);
	h->stats = a.ctx.stats;
	h->loop_stats = a.loop.stats;
	agent_fini(&a);
	return NULL;
}

/* Starts the loop of @h with the config the caller put in h->cfg and waits
 * until loop_init() is done.  True when it runs (stop it with
 * lh_loop_stop()); false, with the thread joined when it got that far,
 * when it could not start or loop_init() failed (an assertion). */
static inline bool lh_loop_start(struct lh_loop *h)
{
	const char *env = getenv("MF_TEST_THREADS");
	char c;

	if (!h->threads && env)
		h->threads = (unsigned int)atoi(env);
	if (pipe(h->ready_pipe))
		return false;
	if (pthread_create(&h->thread, NULL, lh_loop_thread, h))
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

/* Stops the loop through its signalfd, as SIGTERM stops the agent, and
 * joins it; h->stats and h->loop_stats then hold its final counters. */
static inline void lh_loop_stop(struct lh_loop *h)
{
	kill(getpid(), SIGTERM);
	pthread_join(h->thread, NULL);
}

static inline void lh_on_stop(void *arg, const struct io_uring_cqe *cqe)
{
	(void)cqe;
	loop_pause(arg);
}

/*
 * Runs @l, on the caller's thread, for @ms, or less when a handler stops
 * it (a timer of an earlier call that was cut short may then stop this one
 * early: callers run it until what they wait for is there, bounded).
 */
static inline bool lh_run_for(struct loop *l, long ms)
{
	struct __kernel_timespec ts = { .tv_nsec = ms * 1000000L };
	struct io_uring_sqe *sqe;
	int op = -1;

	/* One stop op per loop: the table is bounded and a case runs the
	 * loop many times. */
	for (unsigned int i = LOOP_OP_FIRST_FREE; i < l->nops; i++)
		if (l->ops[i].fn == lh_on_stop)
			op = (int)i;
	if (op < 0)
		op = loop_op_add(l, "stop", lh_on_stop, l);
	if (!ASSERT_GE(op, LOOP_OP_FIRST_FREE))
		return false;
	sqe = loop_sqe(l, 1);
	/* @ts is read at submission, which loop_run() does first. */
	io_uring_prep_timeout(sqe, &ts, 0, 0);
	io_uring_sqe_set_data64(sqe, loop_ud((unsigned int)op, 0, 0, 0));
	/* loop_stop() is for good; here the loop runs again. */
	l->stopping = false;
	return ASSERT_EQ(loop_run(l), 0);
}

/* Runs @l (lh_run_for()) until @fd is readable, bounded at about 5 s.
 * True when it is. */
static inline bool lh_run_until_readable(struct loop *l, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (int i = 0; i < 500; i++) {
		if (poll(&p, 1, 0) == 1)
			return true;
		if (!lh_run_for(l, 10))
			return false;
	}
	return ASSERT_TRUE(!"nothing came to read");
}

/* A listening socket on 127.0.0.1, ephemeral port stored in @port.
 * Returns the fd (the caller closes it) or -1. */
static inline int lh_listener(uint16_t *port, int backlog)
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

/*
 * A port that was free a moment ago (0 when none could be had), for a
 * listener the test starts next.  Taken below the kernel's ephemeral
 * range (ip_local_port_range, 32768 and up by default), which a port the
 * kernel picks for bind(0) is in: between the probe and the listen(),
 * any connect() of the test (or of another program) could take such a
 * port as its own source port, and the listener would then fail with
 * EADDRINUSE.  Each call starts further on, so that two calls before
 * either port is bound give two ports.
 */
#define LH_PORT_FIRST	20000
#define LH_PORT_SPAN	12000
static inline uint16_t lh_free_port(void)
{
	static unsigned int next;
	unsigned int start;

	if (!next)
		next = (unsigned int)getpid() * 7919u;
	start = next;
	next += 17;
	for (unsigned int i = 0; i < LH_PORT_SPAN; i++) {
		struct sockaddr_in sa = {
			.sin_family = AF_INET,
			.sin_port = htons((uint16_t)(LH_PORT_FIRST +
					  (start + i) % LH_PORT_SPAN)),
		};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool free_now;

		if (fd < 0)
			return 0;
		free_now = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (free_now)
			return ntohs(sa.sin_port);
	}
	return 0;
}

/* A blocking socket connected to 127.0.0.1:@port (the caller closes it),
 * or -1. */
static inline int lh_client(uint16_t port)
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

/* Send and receive timeouts of @ms on @fd. */
static inline void lh_set_timeout(int fd, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* accept() with a timeout, so a broken loop fails the test, not hangs it.
 * The accepted fd (caller closes it) gets 5 s I/O timeouts; -1 when none
 * came within @ms. */
static inline int lh_accept_timeout(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&p, 1, ms) != 1)
		return -1;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		lh_set_timeout(fd, 5000);
	return fd;
}

/* Reads an HTTP/1.1 head from @fd into @buf (@cap bytes, NUL-terminated),
 * a byte at a time so nothing after it is taken.  True when a whole head
 * came. */
static inline bool lh_read_head(int fd, char *buf, size_t cap)
{
	size_t n = 0;

	while (n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4)) {
		if (n + 1 >= cap || read(fd, buf + n, 1) != 1) {
			buf[n] = '\0';
			return false;
		}
		n++;
	}
	buf[n] = '\0';
	return true;
}

/* Reads @fd to its end (or @cap - 1 bytes) into @buf, NUL-terminated. */
static inline void lh_read_all(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;

	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
}

/* True when exactly @n bytes were read from @fd into @buf. */
static inline bool lh_read_exact(int fd, void *buf, size_t n)
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

/* Moves @n bytes of @pattern from @src to @dst through the loop, with poll
 * so neither side blocks the other.  True when every byte arrived intact;
 * each way it can fail is an assertion. */
static inline bool lh_pump_bytes(int src, int dst, size_t n,
				 uint8_t (*pattern)(size_t))
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
			return ASSERT_TRUE(!"bytes stalled in the loop");
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

/* Writes @pattern bytes to @fd, made non-blocking, until the path behind
 * it stays full (100 ms without progress) or 256 MiB went in: a path that
 * takes that much holds no bound.  Returns how many were written. */
static inline size_t lh_fill(int fd, uint8_t (*pattern)(size_t))
{
	static uint8_t out[65536];
	size_t sent = 0;

	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	for (int idle = 0; idle < 20 && sent < (256u << 20);) {
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

/* Reads @n bytes of @pattern from blocking @fd, each checked. */
static inline bool lh_read_pattern(int fd, size_t n,
				   uint8_t (*pattern)(size_t))
{
	static uint8_t in[65536];
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, in, sizeof(in));

		if (!ASSERT_TRUE(r > 0))
			return false;
		for (ssize_t i = 0; i < r; i++)
			if (!ASSERT_EQ(in[i], pattern(got + (size_t)i)))
				return false;
		got += (size_t)r;
	}
	return true;
}

/* recv() result on a socket the loop should have reset: -ECONNRESET. */
static inline int lh_recv_err(int fd)
{
	char b;
	ssize_t r = recv(fd, &b, 1, 0);

	return r < 0 ? -errno : (int)r;
}

/* How many fds this process has open, or -1. */
static inline int lh_count_fds(void)
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

/* Waits, bounded by @tries polls 10 ms apart, for this process's fd count
 * to come back to @want: the loop closes asynchronously.  Returns the last
 * count seen, for the caller to assert on. */
static inline int lh_wait_fds(int want, int tries)
{
	int now = -1;

	for (int i = 0; i < tries; i++) {
		now = lh_count_fds();
		if (now == want)
			break;
		usleep(10 * 1000);
	}
	return now;
}

/* Process setup for a test that runs loops: SIGTERM and SIGINT blocked in
 * every thread (threads inherit the mask), so lh_loop_stop()'s SIGTERM
 * reaches only the loop's signalfd, and SIGPIPE ignored so a write to a
 * reset socket fails instead of killing the test.  Call first in main(). */
static inline void lh_signals_setup(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

#endif /* MF_LOOP_HARNESS_H */
