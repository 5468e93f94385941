// SPDX-License-Identifier: Apache-2.0
/*
 * handover (agent/handover.c) in one process: an "old" loop in a thread of
 * its own listens on 127.0.0.1 and serves the hand-over path
 * (/tmp/mf-test-ho-<pid>.sock); a "new" loop on the test's thread fetches
 * the listening socket, adopts it through loop_on_adopt() and commits.
 * Checked, by what clients see and which loop accepted them:
 *   - nobody at the path: nothing is handed over, and no error;
 *   - the socket adopted is the old one (same port), and until the commit
 *     only the old loop accepts on it (the new one's accept is held);
 *   - the commit returns once the old loop's accept is over; clients that
 *     come before the new loop starts accepting are queued, not refused,
 *     and it takes every one; the old loop is told (on_taken), accepts no
 *     more and frees its listener; every later client goes to the new
 *     loop, also once the old loop is gone;
 *   - the path is the new agent's once it serves it: the old one does not
 *     unlink it when it goes;
 *   - an answer that is not the protocol's is refused (-EPROTO);
 *   - two whole agents (agent_init() with a hand-over path, each loop in
 *     a thread of its own, the forward listener proxying HTTP/1.1): the
 *     new one takes the old one's listener (same port); a keep-alive
 *     client of the old one idle between requests gets the end of its
 *     connection at once (a FIN: recv() says 0); one with a request
 *     upstream gets its response with Connection: close and then the end
 *     of the connection, after which the old
 *     agent's loop ends by itself (drained) well before its deadline;
 *     a new client is served by the new agent.
 */
#include <pthread.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "../../agent/handover.h"

#define WAIT_MS 10000	/* a bound on waits for what must come; a loaded
			 * machine under ASan takes seconds */

static char path[64];

struct old_agent {
	pthread_t thread;
	struct loop l;
	struct handover_srv srv;
	uint16_t port;		/* published once listening */
	int accepted;		/* atomic */
	int taken;		/* atomic: on_taken ran */
	int released;		/* atomic: its listener is gone */
	int stop;		/* atomic */
	int err;
};

static void old_accept(void *arg, int fd)
{
	struct old_agent *o = arg;

	__atomic_add_fetch(&o->accepted, 1, __ATOMIC_RELEASE);
	close(fd);
}

static void old_taken(void *arg)
{
	struct old_agent *o = arg;

	__atomic_store_n(&o->taken, 1, __ATOMIC_RELEASE);
}

static void *old_thread(void *arg)
{
	const struct loop_config lc = { .nbufs = 8, .buf_size = 4096 };
	struct old_agent *o = arg;

	o->err = loop_init(&o->l, &lc);
	if (!o->err && loop_listen(&o->l, "outbound", htonl(INADDR_LOOPBACK), 0,
				   old_accept, o) < 0)
		o->err = -EADDRINUSE;
	if (!o->err)
		o->err = handover_serve(&o->srv, &o->l, path, old_taken, o);
	if (!o->err)
		__atomic_store_n(&o->port, loop_listen_port(&o->l, "outbound"),
				 __ATOMIC_RELEASE);
	else
		__atomic_store_n(&o->port, 1, __ATOMIC_RELEASE);
	while (!o->err && !__atomic_load_n(&o->stop, __ATOMIC_ACQUIRE)) {
		lh_run_for(&o->l, 10);
		if (!loop_listen_port(&o->l, "outbound"))
			__atomic_store_n(&o->released, 1, __ATOMIC_RELEASE);
	}
	if (o->l.ring.ring_fd > 0)
		loop_fini(&o->l);
	handover_srv_close(&o->srv);
	return NULL;
}

static int new_accepted;

static void new_accept(void *arg, int fd)
{
	(void)arg;
	new_accepted++;
	close(fd);
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

/* Runs @l until @flag (atomic) is set or @ms pass. */
static bool run_until(struct loop *l, const int *flag, int want, long ms)
{
	for (long t = 0; t < ms; t += 10) {
		if (__atomic_load_n(flag, __ATOMIC_ACQUIRE) >= want)
			return true;
		lh_run_for(l, 10);
	}
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE) >= want;
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

static bool test_listener_taken_over(void)
{
	const struct loop_config lc = { .nbufs = 8, .buf_size = 4096 };
	static struct old_agent o;
	struct handover_srv nsrv;
	struct handover_in in;
	struct loop nl;
	struct stat st;
	bool ok = false, nl_up = false, o_up = false;
	uint16_t port;
	int before;

	memset(&o, 0, sizeof(o));
	memset(&nsrv, 0, sizeof(nsrv));
	memset(&in, 0, sizeof(in));
	in.conn = -1;
	new_accepted = 0;
	if (!ASSERT_EQ(pthread_create(&o.thread, NULL, old_thread, &o), 0))
		return false;
	o_up = true;
	for (int i = 0; i < 300 && !__atomic_load_n(&o.port, __ATOMIC_ACQUIRE); i++)
		usleep(10000);
	if (!ASSERT_EQ(o.err, 0) || !ASSERT_TRUE(o.port > 1))
		goto out;

	if (!ASSERT_EQ(handover_fetch(&in, path), 0) || !ASSERT_EQ(in.n, 1) ||
	    !ASSERT_EQ(in.socks[0].port, o.port) ||
	    !ASSERT_EQ(loop_init(&nl, &lc), 0))
		goto out;
	nl_up = true;
	loop_on_adopt(&nl, handover_adopt, &in);
	if (!ASSERT_TRUE(loop_listen(&nl, "outbound", htonl(INADDR_LOOPBACK), 0,
				     new_accept, NULL) >= 0))
		goto out;
	port = loop_listen_port(&nl, "outbound");
	if (!ASSERT_EQ(port, o.port) || !ASSERT_EQ(in.adopted, 1))
		goto out;
	/* Until the commit the old loop alone accepts: 20 clients, none
	 * refused, all the old one's, though the new loop runs. */
	if (!connect_n(port, 20))
		goto out;
	for (int t = 0; t < WAIT_MS / 10 &&
	     __atomic_load_n(&o.accepted, __ATOMIC_ACQUIRE) < 20; t++)
		lh_run_for(&nl, 10);
	if (!ASSERT_EQ(__atomic_load_n(&o.accepted, __ATOMIC_ACQUIRE), 20) ||
	    !ASSERT_EQ(new_accepted, 0))
		goto out;

	/* The commit returns once the old loop's accept is over: clients
	 * that come before the new loop accepts wait in the backlog, and
	 * it takes them all once it starts. */
	if (!ASSERT_EQ(handover_commit(&in), 0) ||
	    !ASSERT_EQ(in.conn, -1) || !connect_n(port, 5))
		goto out;
	before = __atomic_load_n(&o.accepted, __ATOMIC_ACQUIRE);
	loop_listen_start(&nl);
	for (int t = 0; t < WAIT_MS / 10 && new_accepted < 5; t++)
		lh_run_for(&nl, 10);
	if (!ASSERT_EQ(new_accepted, 5) || !ASSERT_EQ(before, 20) ||
	    !run_until(&nl, &o.taken, 1, WAIT_MS) ||
	    !run_until(&nl, &o.released, 1, WAIT_MS))
		goto out;
	loop_on_adopt(&nl, NULL, NULL);
	if (!ASSERT_EQ(handover_serve(&nsrv, &nl, path, old_taken, &o), 0))
		goto out;
	/* Only the new loop accepts now. */
	before = __atomic_load_n(&o.accepted, __ATOMIC_ACQUIRE);
	new_accepted = 0;
	if (!connect_n(port, 20))
		goto out;
	for (int t = 0; t < WAIT_MS / 10 && new_accepted < 20; t++)
		lh_run_for(&nl, 10);
	if (!ASSERT_EQ(new_accepted, 20) ||
	    !ASSERT_EQ(__atomic_load_n(&o.accepted, __ATOMIC_ACQUIRE), before))
		goto out;
	/* The old one gone: the socket lives on, the path is the new one's. */
	__atomic_store_n(&o.stop, 1, __ATOMIC_RELEASE);
	pthread_join(o.thread, NULL);
	o_up = false;
	if (!connect_n(port, 1))
		goto out;
	for (int t = 0; t < WAIT_MS / 10 && new_accepted < 21; t++)
		lh_run_for(&nl, 10);
	ok = ASSERT_EQ(new_accepted, 21) && ASSERT_EQ(stat(path, &st), 0) &&
	     ASSERT_EQ(st.st_ino, nsrv.ino);
out:
	if (o_up) {
		__atomic_store_n(&o.stop, 1, __ATOMIC_RELEASE);
		pthread_join(o.thread, NULL);
	}
	if (nl_up)
		loop_fini(&nl);
	handover_srv_close(&nsrv);
	handover_in_close(&in);
	/* The last one serving the path unlinks it. */
	return ok && ASSERT_TRUE(access(path, F_OK) != 0);
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

static bool test_agent_drains_http(void)
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
	if (!ASSERT_EQ(recv(c3, buf, sizeof(buf), 0), 0))
		goto out;
	/* The old agent drains: the response in flight closes the
	 * connection. */
	if (!ASSERT_TRUE(send(s, rsp, strlen(rsp), 0) > 0) ||
	    !read_until(c, buf, sizeof(buf), "ok") ||
	    !ASSERT_TRUE(strstr(buf, "Connection: close") != NULL) ||
	    !ASSERT_EQ(recv(c, buf, sizeof(buf), 0), 0))
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
	     read_until(c2, buf, sizeof(buf), "ok");
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

static bool test_path_per_pin_root(void)
{
	char buf[128];

	return ASSERT_EQ(handover_path(buf, sizeof(buf), "/run/meshforge",
				       "/sys/fs/bpf/meshforge/"), 0) &&
	       ASSERT_STREQ(buf, "/run/meshforge/agent-meshforge.sock") &&
	       ASSERT_EQ(handover_path(buf, sizeof(buf), "/r",
				       "/sys/fs/bpf/mf-tb/mf-node-a"), 0) &&
	       ASSERT_STREQ(buf, "/r/agent-mf-node-a.sock") &&
	       ASSERT_EQ(handover_path(buf, 8, "/r", "/x/y"), -ENAMETOOLONG);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	snprintf(path, sizeof(path), "/tmp/mf-test-ho-%d.sock", (int)getpid());
	signal(SIGPIPE, SIG_IGN);
	TEST_RUN(test_path_per_pin_root);
	TEST_RUN(test_nobody_there);
	TEST_RUN(test_listener_taken_over);
	TEST_RUN(test_other_protocol_refused);
	lh_signals_setup();
	TEST_RUN(test_agent_drains_http);
	unlink(path);
	TEST_MAIN_END();
}
