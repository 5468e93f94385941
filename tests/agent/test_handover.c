// SPDX-License-Identifier: Apache-2.0
/*
 * handover (agent/handover.c) in one process: an "old" agent of one or two
 * loops, each in a thread of its own, listens on 127.0.0.1 (two loops: an
 * SO_REUSEPORT group of two sockets) and loop 0 serves the hand-over path
 * (/tmp/mf-test-ho-<pid>.sock); a "new" agent of one or two loops on the
 * test's thread fetches the listening sockets, each loop adopts its share
 * through loop_on_adopt(), and it commits.  For 1 to 1, 2 to 2, 1 to 2
 * and 2 to 1 loops, checked by what clients see and which loop accepted
 * them:
 *   - nobody at the path: nothing is handed over, and no error;
 *   - every socket of the group is handed over, the ones adopted are the
 *     old ones (same port), and until the commit only the old loops
 *     accept on them (the new ones' accepts are held);
 *   - the commit returns once every old loop's accept is over; clients
 *     that come before the new loops start accepting are queued in
 *     whichever socket of the group, not refused, and the new loops take
 *     every one; the old agent is told which process took over (this
 *     one, by the socket's credentials) before anything else of the
 *     take-over, then on_taken, and each of its loops
 *     accepts no more and frees its listener; every later client goes to
 *     the new loops, and to each of them, also once the old agent is
 *     gone (one to two: the second loop's socket joins the group);
 *   - the path is the new agent's once it serves it: the old one does not
 *     unlink it when it goes;
 *   - an answer that is not the protocol's is refused (-EPROTO);
 *   - two whole agents (workers_init() with a hand-over path, of 1 or 2
 *     loops each, in both orders, the forward listener proxying
 *     HTTP/1.1): the new one takes the old one's listeners (same port);
 *     a keep-alive
 *     client of the old one idle between requests gets the end of its
 *     connection at once (a FIN: recv() says 0); one with a request
 *     upstream gets its response with Connection: close and then the end
 *     of the connection, after which the old agent's loops end by
 *     themselves (drained) well before their deadline; new clients are
 *     served by the new agent.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "../../agent/handover.h"
#include "paths.h"

#define WAIT_MS 10000	/* a bound on waits for what must come; a loaded
			 * machine under ASan takes seconds */

static char path[64];

#define LOOPS_MAX 2

struct old_agent;

/* One loop of the old agent, in a thread of its own. */
struct old_loop {
	struct old_agent *o;
	unsigned int index;
	pthread_t thread;
	bool thread_up;
	struct loop l;
	int accepted;		/* atomic */
	int up;			/* atomic: listening (or failed: err) */
	int released;		/* atomic: its listener is gone */
	bool releasing;		/* loops but 0: asked to release */
	bool told;		/* loop 0 passed its release on */
	int err;
};

/* The old agent: @n loops, their listeners in an SO_REUSEPORT group when
 * more than one, loop 0 serving the path for all.  What workers.c does
 * between the loops is done here by flags the loop threads poll. */
struct old_agent {
	struct old_loop loops[LOOPS_MAX];
	unsigned int n;
	struct handover_srv srv;
	uint16_t port;		/* loop 0's, once listening */
	int taken;		/* atomic: on_taken ran */
	/* Who took over, as handover_on_successor() said (atomic), and
	 * whether it said so before on_taken and RELEASED. */
	int successor;
	int successor_first;
	int release;		/* atomic: the other loops release */
	int stop;		/* atomic */
	bool v6;		/* one loop, listening on [::] too
				 * ("outbound6") */
};

static void old_accept(void *arg, int fd)
{
	struct old_loop *ol = arg;

	__atomic_add_fetch(&ol->accepted, 1, __ATOMIC_RELEASE);
	close(fd);
}

/* on_taken: loop 0's listeners are released; the others are asked to. */
static void old_taken(void *arg)
{
	struct old_agent *o = arg;

	__atomic_store_n(&o->taken, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&o->release, 1, __ATOMIC_RELEASE);
}

/* handover_on_successor(): the pid of the process that took over. */
static void old_successor(void *arg, pid_t pid)
{
	struct old_agent *o = arg;

	__atomic_store_n(&o->successor_first,
			 !__atomic_load_n(&o->taken, __ATOMIC_ACQUIRE) &&
			 !o->srv.taken, __ATOMIC_RELEASE);
	__atomic_store_n(&o->successor, (int)pid, __ATOMIC_RELEASE);
}

/* A turn of old loop @ol's own duties besides its loop. */
static void old_loop_duties(struct old_loop *ol)
{
	struct old_agent *o = ol->o;
	struct loop *l = &ol->l;

	if (ol->index && !ol->releasing &&
	    __atomic_load_n(&o->release, __ATOMIC_ACQUIRE)) {
		ol->releasing = true;
		for (unsigned int i = 0; i < l->nlisteners; i++)
			if (l->listeners[i].live)
				loop_release(l, (int)i);
	}
	if (!loop_listen_port(l, "outbound") && !loop_releasing(l))
		__atomic_store_n(&ol->released, 1, __ATOMIC_RELEASE);
	/* Loop 0 hears of the others' release on its thread. */
	for (unsigned int k = 1; !ol->index && k < o->n; k++) {
		struct old_loop *other = &o->loops[k];

		if (!other->told &&
		    __atomic_load_n(&other->released, __ATOMIC_ACQUIRE)) {
			other->told = true;
			handover_loop_released(&o->srv);
		}
	}
}

static void *old_thread(void *arg)
{
	struct old_loop *ol = arg;
	struct old_agent *o = ol->o;
	const struct loop_config lc = {
		.nbufs = 8, .buf_size = 4096, .reuseport = o->n > 1,
	};
	struct loop *loops[LOOPS_MAX];

	ol->err = loop_init(&ol->l, &lc);
	if (!ol->err && loop_listen(&ol->l, "outbound", htonl(INADDR_LOOPBACK),
				    ol->index ? o->port : 0, old_accept,
				    ol) < 0)
		ol->err = -EADDRINUSE;
	if (!ol->err && o->v6 &&
	    loop_listen6(&ol->l, "outbound6", 0, old_accept, ol) < 0)
		ol->err = -EADDRINUSE;
	for (unsigned int k = 0; k < o->n; k++)
		loops[k] = &o->loops[k].l;
	/* Every loop's listeners go, the others' as they are at GET. */
	if (!ol->err && ol->index == 0)
		ol->err = handover_serve(&o->srv, loops, o->n, path, old_taken,
					 o);
	if (!ol->err && ol->index == 0) {
		o->port = loop_listen_port(&ol->l, "outbound");
		handover_on_successor(&o->srv, old_successor, o);
	}
	__atomic_store_n(&ol->up, 1, __ATOMIC_RELEASE);
	while (!ol->err && !__atomic_load_n(&o->stop, __ATOMIC_ACQUIRE)) {
		lh_run_for(&ol->l, 10);
		old_loop_duties(ol);
	}
	if (ol->l.ring.ring_fd > 0)
		loop_fini(&ol->l);
	if (ol->index == 0)
		handover_srv_close(&o->srv);
	return NULL;
}

/* Starts the old agent's @n loops, one after the other: loop 0 binds
 * (an ephemeral port) and serves the path, the others join its port.  A
 * new agent connects only once all are up. */
static bool old_start(struct old_agent *o, unsigned int n, bool v6)
{
	memset(o, 0, sizeof(*o));
	o->n = n;
	o->v6 = v6;
	for (unsigned int k = 0; k < n; k++) {
		o->loops[k].o = o;
		o->loops[k].index = k;
	}
	for (unsigned int step = 0; step < n; step++) {
		struct old_loop *ol = &o->loops[step];

		if (!ASSERT_EQ(pthread_create(&ol->thread, NULL, old_thread,
					      ol), 0))
			return false;
		ol->thread_up = true;
		for (int i = 0; i < 300 && !__atomic_load_n(&ol->up,
							    __ATOMIC_ACQUIRE); i++)
			usleep(10000);
		if (!ASSERT_EQ(ol->err, 0) || !ASSERT_TRUE(ol->up) ||
		    !ASSERT_TRUE(o->port > 0))
			return false;
	}
	return true;
}

static void old_stop(struct old_agent *o)
{
	__atomic_store_n(&o->stop, 1, __ATOMIC_RELEASE);
	for (unsigned int k = 0; k < o->n; k++)
		if (o->loops[k].thread_up)
			pthread_join(o->loops[k].thread, NULL);
	for (unsigned int k = 0; k < o->n; k++)
		o->loops[k].thread_up = false;
}

static int old_accepted(struct old_agent *o)
{
	int n = 0;

	for (unsigned int k = 0; k < o->n; k++)
		n += __atomic_load_n(&o->loops[k].accepted, __ATOMIC_ACQUIRE);
	return n;
}

static bool old_all_released(struct old_agent *o)
{
	for (unsigned int k = 0; k < o->n; k++)
		if (!__atomic_load_n(&o->loops[k].released, __ATOMIC_ACQUIRE))
			return false;
	return true;
}

/* The new agent: @n loops driven on the test's thread, each adopting
 * its share of @in. */
struct new_loop {
	struct loop l;
	unsigned int index;
	unsigned int n;
	struct handover_in *in;
	int accepted;
	bool up;
};

static int new_adopt(void *arg, const char *name, uint32_t addr,
		     uint16_t port)
{
	struct new_loop *nl = arg;

	return handover_adopt_loop(nl->in, nl->index, nl->n, name, addr, port);
}

static void new_accept(void *arg, int fd)
{
	struct new_loop *nl = arg;

	nl->accepted++;
	close(fd);
}

static int new_accepted(struct new_loop *nl, unsigned int n)
{
	int sum = 0;

	for (unsigned int k = 0; k < n; k++)
		sum += nl[k].accepted;
	return sum;
}

/* Runs the @n new loops for about @ms. */
static void new_run(struct new_loop *nl, unsigned int n, long ms)
{
	for (long t = 0; t < ms; t += 10)
		for (unsigned int k = 0; k < n; k++)
			lh_run_for(&nl[k].l, 10 / (long)n);
}

/* Runs the new loops until @want were accepted by them, or WAIT_MS. */
static bool new_run_until(struct new_loop *nl, unsigned int n, int want)
{
	for (int t = 0; t < WAIT_MS / 10 && new_accepted(nl, n) < want; t++)
		new_run(nl, n, 10);
	return ASSERT_EQ(new_accepted(nl, n), want);
}

/* Connects @n clients to @port; false when one is refused. */
static bool connect_n(uint16_t port, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = lh_client(port);

		if (!ASSERT_TRUE(fd >= 0))
			return false;
		close(fd);
	}
	return true;
}

static bool test_nobody_there(void)
{
	struct handover_in in;

	unlink(path);
	return ASSERT_EQ(handover_fetch(&in, path), 0) && ASSERT_EQ(in.n, 0) &&
	       ASSERT_EQ(in.conn, -1) &&
	       ASSERT_EQ(handover_adopt(&in, "outbound", htonl(INADDR_LOOPBACK),
					0), -ENOENT);
}

/*
 * An old agent of @old_n loops hands its listeners to a new one of
 * @new_n: every socket of the group handed over; until the commit only
 * the old loops accept; clients that come between the commit and the
 * start, queued in any socket of the group, are all taken by the new
 * loops; every old loop releases its own, and then only the new loops
 * accept, each of them (with several) once the old agent is gone too.
 */
static bool handover_loops(unsigned int old_n, unsigned int new_n)
{
	static struct old_agent o;
	static struct new_loop nl[LOOPS_MAX];
	struct loop *nloops[LOOPS_MAX];
	struct handover_srv nsrv;
	struct handover_in in;
	struct stat st;
	bool ok = false;
	unsigned int nl_up = 0;
	uint16_t port;

	memset(&nsrv, 0, sizeof(nsrv));
	memset(&in, 0, sizeof(in));
	memset(nl, 0, sizeof(nl));
	in.conn = -1;
	if (!old_start(&o, old_n, false))
		goto out;

	if (!ASSERT_EQ(handover_fetch(&in, path), 0) ||
	    !ASSERT_EQ(in.n, old_n))
		goto out;
	for (unsigned int i = 0; i < in.n; i++)
		if (!ASSERT_EQ(in.socks[i].port, o.port))
			goto out;
	for (unsigned int k = 0; k < new_n; k++) {
		const struct loop_config lc = {
			.nbufs = 8, .buf_size = 4096, .reuseport = new_n > 1,
		};

		nl[k] = (struct new_loop){ .index = k, .n = new_n, .in = &in };
		if (!ASSERT_EQ(loop_init(&nl[k].l, &lc), 0))
			goto out;
		nl_up++;
		nloops[k] = &nl[k].l;
		loop_on_adopt(&nl[k].l, new_adopt, &nl[k]);
		/* Loop 0 by name alone, the others on its port, as
		 * workers.c does. */
		if (!ASSERT_TRUE(loop_listen(&nl[k].l, "outbound",
					     htonl(INADDR_LOOPBACK),
					     k ? o.port : 0, new_accept,
					     &nl[k]) >= 0))
			goto out;
	}
	port = loop_listen_port(&nl[0].l, "outbound");
	if (!ASSERT_EQ(port, o.port) || !ASSERT_EQ(in.adopted, old_n))
		goto out;
	/* Until the commit the old loops alone accept: 20 clients, none
	 * refused, all the old ones', though the new loops run. */
	if (!connect_n(port, 20))
		goto out;
	for (int t = 0; t < WAIT_MS / 10 && old_accepted(&o) < 20; t++)
		new_run(nl, new_n, 10);
	if (!ASSERT_EQ(old_accepted(&o), 20) ||
	    !ASSERT_EQ(new_accepted(nl, new_n), 0))
		goto out;

	/* The commit returns once every old loop's accept is over: clients
	 * that come before the new loops accept wait in the backlog of
	 * whichever socket of the group, and they take them all once they
	 * start. */
	if (!ASSERT_EQ(handover_commit(&in), 0) ||
	    !ASSERT_EQ(in.conn, -1) ||
	    !ASSERT_EQ(__atomic_load_n(&o.taken, __ATOMIC_ACQUIRE), 1) ||
	    !connect_n(port, 10))
		goto out;
	/* The old agent was told who took over (this process, by its
	 * socket's credentials), before anything else of the take-over. */
	if (!ASSERT_EQ(__atomic_load_n(&o.successor, __ATOMIC_ACQUIRE),
		       (int)getpid()) ||
	    !ASSERT_EQ(__atomic_load_n(&o.successor_first, __ATOMIC_ACQUIRE), 1))
		goto out;
	for (unsigned int k = 0; k < new_n; k++)
		loop_listen_start(&nl[k].l);
	if (!new_run_until(nl, new_n, 10) || !ASSERT_EQ(old_accepted(&o), 20))
		goto out;
	/* Every old loop has let its listener go (its threads note it
	 * between turns). */
	for (int t = 0; t < WAIT_MS / 10 && !old_all_released(&o); t++)
		new_run(nl, new_n, 10);
	if (!ASSERT_TRUE(old_all_released(&o)))
		goto out;
	for (unsigned int k = 0; k < new_n; k++)
		loop_on_adopt(&nl[k].l, NULL, NULL);
	if (!ASSERT_EQ(handover_serve(&nsrv, nloops, new_n, path, old_taken,
				      &o), 0))
		goto out;
	/* Only the new loops accept now. */
	if (!connect_n(port, 40) || !new_run_until(nl, new_n, 50) ||
	    !ASSERT_EQ(old_accepted(&o), 20))
		goto out;
	/* The old one gone: the sockets live on, the path is the new one's,
	 * and each new loop accepts (40 4-tuples over two sockets, all on
	 * one: 1 in 2^39). */
	old_stop(&o);
	for (unsigned int k = 0; k < new_n; k++)
		nl[k].accepted = 0;
	if (!connect_n(port, 40) || !new_run_until(nl, new_n, 40))
		goto out;
	for (unsigned int k = 0; k < new_n; k++)
		if (!ASSERT_GE(nl[k].accepted, 1) ||
		    !ASSERT_EQ(loop_listen_port(&nl[k].l, "outbound"), port))
			goto out;
	ok = ASSERT_EQ(stat(path, &st), 0) && ASSERT_EQ(st.st_ino, nsrv.ino);
out:
	old_stop(&o);
	for (unsigned int k = 0; k < nl_up; k++)
		loop_fini(&nl[k].l);
	handover_srv_close(&nsrv);
	handover_in_close(&in);
	/* The last one serving the path unlinks it. */
	return ok && ASSERT_TRUE(access(path, F_OK) != 0);
}

static bool test_listener_taken_over(void)
{
	return handover_loops(1, 1);
}

/* Two loops to two: each new loop takes one socket of the group. */
static bool test_two_loops_to_two(void)
{
	return handover_loops(2, 2);
}

/* One loop to two: loop 1 gets no socket, and makes one that joins the
 * group (the old socket takes SO_REUSEPORT) once the old agent has
 * released it. */
static bool test_one_loop_to_two(void)
{
	return handover_loops(1, 2);
}

/* Two loops to one: the one loop accepts on both sockets of the group,
 * so what either had queued is taken. */
static bool test_two_loops_to_one(void)
{
	return handover_loops(2, 1);
}

/*
 * An IPv6 listener on [::] (loop_listen6(), the agent's "outbound6") is
 * handed over beside the IPv4 one: the new loop's loop_listen6() of that
 * name adopts the very socket (its port), and once started accepts an
 * IPv6 client on it.
 */
static bool test_ipv6_listener_taken_over(void)
{
	static struct old_agent o;
	const struct loop_config lc = { .nbufs = 8, .buf_size = 4096 };
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct new_loop nl = { .index = 0, .n = 1 };
	struct handover_in in;
	uint16_t port6 = 0;
	bool ok = false, nl_up = false;
	int fd = -1;

	unlink(path);
	memset(&in, 0, sizeof(in));
	in.conn = -1;
	nl.in = &in;
	if (!old_start(&o, 1, true) ||
	    !ASSERT_EQ(handover_fetch(&in, path), 0) || !ASSERT_EQ(in.n, 2))
		goto out;
	for (unsigned int i = 0; i < in.n; i++)
		if (!strcmp(in.socks[i].name, "outbound6"))
			port6 = in.socks[i].port;
	if (!ASSERT_NE(port6, 0) || !ASSERT_NE(port6, o.port) ||
	    !ASSERT_EQ(loop_init(&nl.l, &lc), 0))
		goto out;
	nl_up = true;
	loop_on_adopt(&nl.l, new_adopt, &nl);
	if (!ASSERT_TRUE(loop_listen6(&nl.l, "outbound6", 0, new_accept,
				      &nl) >= 0) ||
	    !ASSERT_EQ(loop_listen_port(&nl.l, "outbound6"), port6) ||
	    !ASSERT_EQ(in.adopted, 1) || !ASSERT_EQ(handover_commit(&in), 0))
		goto out;
	loop_listen_start(&nl.l);
	sa.sin6_port = htons(port6);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_TRUE(fd >= 0) ||
	    !ASSERT_EQ(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0))
		goto out;
	ok = new_run_until(&nl, 1, 1);
out:
	if (fd >= 0)
		close(fd);
	old_stop(&o);
	if (nl_up)
		loop_fini(&nl.l);
	handover_in_close(&in);
	return ok;
}

/* A server that answers GET with something else. */
static void *bad_server(void *arg)
{
	int lfd = *(int *)arg, fd;
	char buf[64];

	fd = accept(lfd, NULL, NULL);
	if (fd >= 0) {
		(void)!recv(fd, buf, sizeof(buf), 0);
		(void)!send(fd, "HTTP/1.1 200 OK\r\n", 17, MSG_NOSIGNAL);
		(void)!recv(fd, buf, sizeof(buf), 0);
		close(fd);
	}
	return NULL;
}

static bool test_other_protocol_refused(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct handover_in in;
	pthread_t th;
	int lfd;
	bool ok;

	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (!ASSERT_TRUE(lfd >= 0) ||
	    !ASSERT_EQ(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0) ||
	    !ASSERT_EQ(listen(lfd, 1), 0) ||
	    !ASSERT_EQ(pthread_create(&th, NULL, bad_server, &lfd), 0)) {
		close(lfd);
		return false;
	}
	ok = ASSERT_EQ(handover_fetch(&in, path), -EPROTO) &&
	     ASSERT_EQ(in.n, 0) && ASSERT_EQ(in.conn, -1);
	handover_in_close(&in);
	pthread_join(th, NULL);
	close(lfd);
	unlink(path);
	return ok;
}

/* recv() of @fd, again when a signal interrupted it: with a timeout, the
 * kernel does not restart it, and this thread's io_uring task work (its
 * rings of the cases before, torn down) counts as one. */
static ssize_t recv_more(int fd, char *buf, size_t cap)
{
	ssize_t n;

	while ((n = recv(fd, buf, cap, 0)) < 0 && errno == EINTR)
		;
	return n;
}

/* Reads from @fd until @want has come (true) or 3 s pass. */
static bool read_until(int fd, char *buf, size_t cap, const char *want)
{
	size_t len = 0;
	ssize_t n;

	lh_set_timeout(fd, 3000);
	while (len + 1 < cap) {
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "recv: %s\n",
				n ? strerror(errno) : "end of stream");
			break;
		}
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, want))
			return true;
	}
	buf[len] = '\0';
	fprintf(stderr, "read '%s', waiting for '%s'\n", buf, want);
	return false;
}

static void agent_cfg(struct agent_config *cfg, uint16_t up_port)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen_addr = htonl(INADDR_LOOPBACK);
	cfg->forward_to.sin_family = AF_INET;
	cfg->forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg->forward_to.sin_port = htons(up_port);
	cfg->forward_http = true;
	cfg->handle_signals = true;
	cfg->max_conns = 64;
	cfg->handover_path = path;
	cfg->drain_timeout_ms = 10000;
}

/* Stops the agents of @hs.  Both read SIGTERM through a signalfd in this
 * one process, and a signal stops whichever loop reads it first: signal
 * until each has stopped, then take back a signal no loop read, which
 * would stop the next case's loop at once. */
static void stop_agents(struct lh_loop *const *hs, int n)
{
	struct timespec zero = { 0 }, ts;
	sigset_t term;

	for (int i = 0; i < n; i++) {
		for (;;) {
			kill(getpid(), SIGTERM);
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 200000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			if (!pthread_timedjoin_np(hs[i]->thread, NULL, &ts))
				break;
		}
	}
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	while (sigtimedwait(&term, NULL, &zero) > 0)
		;
}

/* Each loop of the agent of @h accepts clients of @port: 24 clients
 * (their 4-tuples over two sockets, all on one: 1 in 2^23), until each
 * loop's count has grown, bounded. */
static bool every_loop_accepts(struct lh_loop *h, uint16_t port)
{
	const struct ctx_loops *ls = &h->w.loops;
	uint64_t before[LOOPS_MAX];
	unsigned int grown = 0;

	for (unsigned int i = 0; i < ls->n; i++)
		before[i] = __atomic_load_n(&ls->ctx[i]->stats.accepted,
					    __ATOMIC_RELAXED);
	if (!connect_n(port, 24))
		return false;
	for (int t = 0; t < 300 && grown < ls->n; t++) {
		grown = 0;
		for (unsigned int i = 0; i < ls->n; i++)
			grown += __atomic_load_n(&ls->ctx[i]->stats.accepted,
						 __ATOMIC_RELAXED) > before[i];
		usleep(10000);
	}
	return ASSERT_EQ(grown, ls->n);
}

/* Old agent of @old_n loops, new one of @new_n. */
static bool agents_drain_http(unsigned int old_n, unsigned int new_n)
{
	static struct lh_loop ha, hb;
	const char *req = "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";
	const char *rsp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	char buf[2048];
	struct timespec ts;
	uint16_t up_port;
	int lfd, c = -1, s = -1, c2 = -1, s2 = -1, c3 = -1, s3 = -1;
	bool ok = false, a_up = false, b_up = false;

	unlink(path);
	memset(&ha, 0, sizeof(ha));
	memset(&hb, 0, sizeof(hb));
	ha.threads = old_n;
	hb.threads = new_n;
	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_GE(lfd, 0))
		return false;
	agent_cfg(&ha.cfg, up_port);
	if (!lh_loop_start(&ha))
		goto out;
	a_up = true;
	/* A keep-alive client of the old agent, one exchange done. */
	c = lh_client(ha.fwd_port);
	if (!ASSERT_GE(c, 0) || !ASSERT_TRUE(send(c, req, strlen(req), 0) > 0))
		goto out;
	s = lh_accept_timeout(lfd, 3000);
	if (!ASSERT_GE(s, 0) || !read_until(s, buf, sizeof(buf), "\r\n\r\n") ||
	    !ASSERT_TRUE(send(s, rsp, strlen(rsp), 0) > 0) ||
	    !read_until(c, buf, sizeof(buf), "ok") ||
	    !ASSERT_TRUE(strstr(buf, "Connection: close") == NULL))
		goto out;
	/* Another, idle between requests once its exchange is done. */
	c3 = lh_client(ha.fwd_port);
	if (!ASSERT_GE(c3, 0) ||
	    !ASSERT_TRUE(send(c3, req, strlen(req), 0) > 0))
		goto out;
	s3 = lh_accept_timeout(lfd, 3000);
	if (!ASSERT_GE(s3, 0) ||
	    !read_until(s3, buf, sizeof(buf), "\r\n\r\n") ||
	    !ASSERT_TRUE(send(s3, rsp, strlen(rsp), 0) > 0) ||
	    !read_until(c3, buf, sizeof(buf), "ok"))
		goto out;
	/* The first one's next request is upstream when the hand-over
	 * comes. */
	if (!ASSERT_TRUE(send(c, req, strlen(req), 0) > 0) ||
	    !read_until(s, buf, sizeof(buf), "\r\n\r\n"))
		goto out;

	agent_cfg(&hb.cfg, up_port);
	if (!lh_loop_start(&hb))
		goto out;
	b_up = true;
	if (!ASSERT_EQ(hb.fwd_port, ha.fwd_port))
		goto out;
	/* The idle one is closed at once, cleanly (a FIN, not a reset): it
	 * would hold the drain until its deadline. */
	if (!ASSERT_EQ(recv_more(c3, buf, sizeof(buf)), 0))
		goto out;
	/* The old agent drains: the response in flight closes the
	 * connection. */
	if (!ASSERT_TRUE(send(s, rsp, strlen(rsp), 0) > 0) ||
	    !read_until(c, buf, sizeof(buf), "ok") ||
	    !ASSERT_TRUE(strstr(buf, "Connection: close") != NULL) ||
	    !ASSERT_EQ(recv_more(c, buf, sizeof(buf)), 0))
		goto out;
	/* ... and once it has none left, its loop ends by itself. */
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	if (!ASSERT_EQ(pthread_timedjoin_np(ha.thread, NULL, &ts), 0))
		goto out;
	a_up = false;
	/* The new agent serves the port. */
	c2 = lh_client(hb.fwd_port);
	if (!ASSERT_GE(c2, 0) || !ASSERT_TRUE(send(c2, req, strlen(req), 0) > 0))
		goto out;
	s2 = lh_accept_timeout(lfd, 3000);
	ok = ASSERT_GE(s2, 0) && read_until(s2, buf, sizeof(buf), "\r\n\r\n") &&
	     ASSERT_TRUE(send(s2, rsp, strlen(rsp), 0) > 0) &&
	     read_until(c2, buf, sizeof(buf), "ok") &&
	     every_loop_accepts(&hb, hb.fwd_port);
out:
	for (int *fd = (int[]){ c, s, c2, s2, c3, s3 }, i = 0; i < 6; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	if (a_up && b_up)
		stop_agents((struct lh_loop *const[]){ &hb, &ha }, 2);
	else if (b_up)
		lh_loop_stop(&hb);
	else if (a_up)
		lh_loop_stop(&ha);
	close(lfd);
	return ok;
}

static bool test_agent_drains_http(void)
{
	return agents_drain_http(1, 1);
}

static bool test_agents_two_loops_drain_http(void)
{
	return agents_drain_http(2, 2);
}

static bool test_agents_one_to_two_loops_drain_http(void)
{
	return agents_drain_http(1, 2);
}

static bool test_agents_two_to_one_loop_drain_http(void)
{
	return agents_drain_http(2, 1);
}

static bool test_path_per_pin_root(void)
{
	char buf[128];

	return ASSERT_EQ(mf_handover_path(buf, sizeof(buf), "/run/meshforge",
				       "/sys/fs/bpf/meshforge/"), 0) &&
	       ASSERT_STREQ(buf, "/run/meshforge/agent-meshforge.sock") &&
	       ASSERT_EQ(mf_handover_path(buf, sizeof(buf), "/r",
				       "/sys/fs/bpf/mf-tb/mf-node-a"), 0) &&
	       ASSERT_STREQ(buf, "/r/agent-mf-node-a.sock") &&
	       ASSERT_EQ(mf_handover_path(buf, 8, "/r", "/x/y"), -ENAMETOOLONG);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	snprintf(path, sizeof(path), "/tmp/mf-test-ho-%d.sock", (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	TEST_RUN(test_path_per_pin_root);
	TEST_RUN(test_nobody_there);
	TEST_RUN(test_listener_taken_over);
	TEST_RUN(test_two_loops_to_two);
	TEST_RUN(test_one_loop_to_two);
	TEST_RUN(test_two_loops_to_one);
	TEST_RUN(test_ipv6_listener_taken_over);
	TEST_RUN(test_other_protocol_refused);
	lh_signals_setup();
	TEST_RUN(test_agent_drains_http);
	TEST_RUN(test_agents_two_loops_drain_http);
	TEST_RUN(test_agents_one_to_two_loops_drain_http);
	TEST_RUN(test_agents_two_to_one_loop_drain_http);
	unlink(path);
	TEST_MAIN_END();
}
