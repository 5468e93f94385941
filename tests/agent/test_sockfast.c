// SPDX-License-Identifier: Apache-2.0
/*
 * The same-node fast path (agent/sockfast.c, bpf/mf_fast.bpf.c, included
 * to reach its maps) with real sockets.  sockops and sk_msg cannot be
 * test-run, so the test mounts a cgroup2 of its own under /run/meshforge,
 * moves itself into a cgroup there, attaches the programs to it and makes
 * loopback connections that the self-test's port marks as a mesh path:
 * the connecting end plays the pod (its sends are moved to the peer), the
 * accepting end the agent (its sends take TCP).  What each case asserts is
 * what the receiving socket read, and what the counters say took which
 * path:
 *  - the self-test passes, and fails for a process outside the cgroup;
 *  - 200 concurrent connections carry their bytes intact, moved;
 *  - a full SOCKHASH leaves connections on TCP, intact;
 *  - a denied pair never takes the fast path, and is counted as denied;
 *  - 10,000 connections opened and closed leave the SOCKHASH empty;
 *  - a blocking receiver in a thread of its own, no timeout, sees no error
 *    while its peer streams to it and its own sends are moved;
 *  - a peer closing mid-message ends the sender's send with an error, no
 *    hang; half-close is relayed; a 4 MiB send() arrives whole;
 *  - a receiver that reads nothing holds the sender back: what is moved
 *    to it and not read stays bounded;
 *  - the agent's own connection to a pod of its node (a Workload at
 *    POD_IP in an applied policy; the agent's socket carries its mark):
 *    the pod's answers are moved into the agent's socket, its requests
 *    take TCP, and the same pod answering an unmarked client is not moved.
 * With --bench it times request and response round trips instead, moved
 * and by TCP (no assertion: figures for docs/benchmarks.md).
 * Needs root, bpffs and cgroup2.  It runs in a network namespace of its
 * own, its loopback up, with the pod's address 10.250.0.2 on it.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/ioctl.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"

#include "../../agent/sockfast.c"

static char cg_mount[96];	/* our cgroup2 mount; "" when none */
static char cg_dir[128];	/* our cgroup under it */
static bool made_run_dir;	/* MF_RUN_DIR_DEFAULT was ours to make */
static struct sockfast *sf;
static const char *skip_reason;

/* The pod of the upstream case: a Workload's address, which may not be
 * a loopback one. */
#define POD_IP		0x0afa0002	/* 10.250.0.2 */

/* A network namespace of our own: loopback up, POD_IP on it (an alias of
 * lo: the kernel adds its local route).  0 or -errno. */
static int netns_setup(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(POD_IP) };
	struct ifreq ifr;
	int fd, err = 0;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr))
			err = -errno;
	} else {
		err = -errno;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo:mf");
	memcpy(&ifr.ifr_addr, &a, sizeof(a));
	if (!err && ioctl(fd, SIOCSIFADDR, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/* Writes @text to file @path; 0 or -errno. */
static int put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

static void cg_cleanup(void)
{
	char path[160], pid[32];

	sockfast_close(sf);
	sf = NULL;
	if (!cg_mount[0])
		return;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_mount);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	put_file(path, pid);
	rmdir(cg_dir);
	umount(cg_mount);
	rmdir(cg_mount);
	cg_mount[0] = '\0';
	if (made_run_dir)
		rmdir(MF_RUN_DIR_DEFAULT);
}

/* Our own cgroup2 mount and cgroup, with this process in it. */
static int cg_setup(void)
{
	char path[160], pid[32];

	if (mkdir(MF_RUN_DIR_DEFAULT, 0755) == 0)
		made_run_dir = true;
	else if (errno != EEXIST)
		return -errno;
	snprintf(cg_mount, sizeof(cg_mount), MF_RUN_DIR_DEFAULT
		 "/mf-test-sockfast-%d", (int)getpid());
	if (mkdir(cg_mount, 0700))
		return cg_mount[0] = '\0', -errno;
	if (mount("none", cg_mount, "cgroup2", 0, NULL)) {
		int err = -errno;

		rmdir(cg_mount);
		cg_mount[0] = '\0';
		return err;
	}
	snprintf(cg_dir, sizeof(cg_dir), "%s/mf-test", cg_mount);
	if (mkdir(cg_dir, 0755))
		return -errno;
	snprintf(path, sizeof(path), "%s/cgroup.procs", cg_dir);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return put_file(path, pid);
}

static int open_fast(uint32_t max_sockets)
{
	const struct sockfast_config c = {
		.pin_root = ch_root, .cgroup = cg_dir, .any_netns = false,
		.max_sockets = max_sockets,
	};

	sockfast_close(sf);
	sf = NULL;
	return sockfast_open(&sf, &c);
}

/* ---- connections on the probe port ---------------------------------- */

static int lfd = -1;
static struct sockaddr_in laddr;

/* A listener on 127.0.0.1 whose port marks its connections. */
static bool probe_listen(void)
{
	socklen_t len = sizeof(laddr);
	uint32_t zero = 0, port;
	int one = 1;

	if (lfd >= 0)
		close(lfd);
	memset(&laddr, 0, sizeof(laddr));
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (!ASSERT_TRUE(lfd >= 0) ||
	    !ASSERT_EQ(bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)), 0) ||
	    !ASSERT_EQ(listen(lfd, 1024), 0) ||
	    !ASSERT_EQ(getsockname(lfd, (struct sockaddr *)&laddr, &len), 0))
		return false;
	port = ntohs(laddr.sin_port);
	return ASSERT_EQ(bpf_map_update_elem(
		bpf_map__fd(sf->skel->maps.mf_fast_probe), &zero, &port,
		BPF_ANY), 0);
}

static bool set_verdict(uint8_t action)
{
	return ASSERT_EQ(sockfast_verdict(sf, 0, MF_FAST_SRC_PROBE, action, 0),
			 0);
}

/* A connected pair: *@cli the pod's end, *@srv the agent's. */
static bool pair(int *cli, int *srv)
{
	*cli = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_TRUE(*cli >= 0) ||
	    !ASSERT_EQ(connect(*cli, (struct sockaddr *)&laddr, sizeof(laddr)), 0))
		return false;
	*srv = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	return ASSERT_TRUE(*srv >= 0);
}

static uint64_t stat_of(int k)
{
	uint64_t v[MF_FAST_STAT_MAX];

	return sockfast_stats(sf, v) ? 0 : v[k];
}

static uint8_t pat(unsigned int conn, size_t i)
{
	return (uint8_t)(i * 7u + conn * 13u + (i >> 10));
}

/* Sends all of @n bytes of connection @conn's pattern, blocking. */
static bool send_all(int fd, unsigned int conn, size_t n)
{
	uint8_t buf[65536];
	size_t off = 0;

	while (off < n) {
		size_t len = n - off < sizeof(buf) ? n - off : sizeof(buf);
		ssize_t w;

		for (size_t i = 0; i < len; i++)
			buf[i] = pat(conn, off + i);
		w = send(fd, buf, len, MSG_NOSIGNAL);
		if (!ASSERT_TRUE(w > 0))
			return false;
		off += (size_t)w;
	}
	return true;
}

/* Reads @n bytes of @conn's pattern, blocking; false on a difference. */
static bool recv_all(int fd, unsigned int conn, size_t n)
{
	uint8_t buf[65536];
	size_t off = 0;

	while (off < n) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		if (!ASSERT_TRUE(r > 0))
			return false;
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != pat(conn, off + (size_t)i)) {
				fprintf(stderr, "conn %u: byte %zu differs\n",
					conn, off + (size_t)i);
				return false;
			}
		off += (size_t)r;
	}
	return true;
}

/* ---- cases ---------------------------------------------------------- */

static bool test_selftest(void)
{
	pid_t pid;
	int st;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!ASSERT_EQ(sockfast_selftest(sf, 256 * 1024), 0) ||
	    !ASSERT_STREQ(sockfast_selftest_str(sf), "pass"))
		return false;
	/* A process outside the cgroup: its bytes take TCP, and the
	 * self-test says so. */
	pid = fork();
	if (pid == 0) {
		char path[160], me[32];

		snprintf(path, sizeof(path), "%s/cgroup.procs", cg_mount);
		snprintf(me, sizeof(me), "%d", (int)getpid());
		if (put_file(path, me))
			_exit(2);
		_exit(sockfast_selftest(sf, 64 * 1024) == -EPROTO ? 0 : 1);
	}
	return ASSERT_TRUE(pid > 0) && ASSERT_EQ(waitpid(pid, &st, 0), pid) &&
	       ASSERT_TRUE(WIFEXITED(st)) && ASSERT_EQ(WEXITSTATUS(st), 0);
}

#define N_CONC	200
#define CONC_BYTES	(64 * 1024)

/* 200 connections at once: every client writes its pattern, one poll
 * loop reads them all. */
static bool test_integrity_200(void)
{
	int cli[N_CONC], srv[N_CONC];
	size_t got[N_CONC] = { 0 };
	uint64_t before;
	bool ok = true;
	int done = 0;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW))
		return false;
	for (int i = 0; i < N_CONC; i++)
		cli[i] = srv[i] = -1;
	before = stat_of(MF_FAST_STAT_ALLOW_BYTES);
	for (int i = 0; ok && i < N_CONC; i++)
		ok = pair(&cli[i], &srv[i]);
	/* Each send is one message moved whole into the peer's queue. */
	for (int i = 0; ok && i < N_CONC; i++)
		ok = send_all(cli[i], (unsigned int)i, CONC_BYTES);
	while (ok && done < N_CONC) {
		struct pollfd p[N_CONC];
		uint8_t buf[16384];

		for (int i = 0; i < N_CONC; i++) {
			p[i].fd = got[i] < CONC_BYTES ? srv[i] : -1;
			p[i].events = POLLIN;
		}
		if (!ASSERT_TRUE(poll(p, N_CONC, 5000) > 0)) {
			ok = false;
			break;
		}
		for (int i = 0; ok && i < N_CONC; i++) {
			ssize_t r;

			if (!(p[i].revents & POLLIN))
				continue;
			r = recv(srv[i], buf, sizeof(buf), MSG_DONTWAIT);
			ok = ASSERT_TRUE(r > 0);
			for (ssize_t k = 0; ok && k < r; k++)
				ok = ASSERT_EQ(buf[k], pat((unsigned int)i,
							   got[i] + (size_t)k));
			if (ok)
				got[i] += (size_t)r;
			if (ok && got[i] == CONC_BYTES)
				done++;
		}
	}
	ok = ok && ASSERT_GE(stat_of(MF_FAST_STAT_ALLOW_BYTES) - before,
			     (uint64_t)N_CONC * CONC_BYTES);
	for (int i = 0; i < N_CONC; i++) {
		if (cli[i] >= 0)
			close(cli[i]);
		if (srv[i] >= 0)
			close(srv[i]);
	}
	return ok;
}

/* A SOCKHASH of 4: the connections it cannot hold stay on TCP, intact. */
static bool test_map_full_fallback(void)
{
	int cli[10], srv[10], n = 0;
	uint64_t allow;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!ASSERT_EQ(open_fast(4), 0))
		return false;
	ok = probe_listen() && set_verdict(MF_AUTHZ_ALLOW);
	allow = stat_of(MF_FAST_STAT_ALLOW_BYTES);
	for (; ok && n < 10; n++)
		ok = pair(&cli[n], &srv[n]);
	for (int i = 0; ok && i < n; i++)
		ok = send_all(cli[i], (unsigned int)i, 100000) &&
		     recv_all(srv[i], (unsigned int)i, 100000) &&
		     send_all(srv[i], (unsigned int)i + 50, 1000) &&
		     recv_all(cli[i], (unsigned int)i + 50, 1000);
	/* The first two pairs fill it and are moved; the eight others
	 * (16 sockets) were not taken, and went by TCP. */
	ok = ok && ASSERT_EQ(sockfast_sockets(sf), 4) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_FULL), 16) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_ALLOW_BYTES) - allow, 2 * 100000);
	while (n-- > 0) {
		close(cli[n]);
		close(srv[n]);
	}
	return ASSERT_EQ(open_fast(0), 0) && ok;
}

/* A denied pair: bytes arrive (the agent refuses the connection, not
 * the kernel), by TCP, counted as denied. */
static bool test_deny(void)
{
	uint64_t allow, deny;
	int cli, srv;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_DENY))
		return false;
	allow = stat_of(MF_FAST_STAT_ALLOW_BYTES);
	deny = stat_of(MF_FAST_STAT_DENY_BYTES);
	ok = pair(&cli, &srv) && send_all(cli, 1, 200000) &&
	     recv_all(srv, 1, 200000) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_ALLOW_BYTES), allow) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_DENY_BYTES) - deny, 200000);
	close(cli);
	close(srv);
	return ok;
}

/* 10,000 connections, each with a message, opened and closed: nothing
 * is left in the SOCKHASH. */
static bool test_close_removes(void)
{
	uint64_t ins;
	bool ok = true;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW))
		return false;
	ins = stat_of(MF_FAST_STAT_INSERTED);
	for (int i = 0; ok && i < 10000; i++) {
		int cli, srv;
		uint8_t b;

		ok = pair(&cli, &srv) && ASSERT_EQ(send(cli, "x", 1, 0), 1) &&
		     ASSERT_EQ(recv(srv, &b, 1, 0), 1);
		close(cli);
		close(srv);
	}
	return ok && ASSERT_GE(stat_of(MF_FAST_STAT_INSERTED) - ins, 20000) &&
	       ASSERT_EQ(sockfast_sockets(sf), 0);
}

/* A pod of the node at POD_IP:@port, in a policy applied under the pin
 * root the fast path reads. */
static bool apply_local_pod(unsigned int port)
{
	struct ctl_opts o = ch_opts(false);
	char text[1024], path[128], *apply[] = { "apply", "-f", path, NULL };
	struct ch_run r = { 0 };
	bool ok;

	snprintf(text, sizeof(text),
		 "apiVersion: meshforge.io/v1alpha1\n"
		 "kind: Mesh\nmetadata: {name: default}\n"
		 "spec: {trustDomain: mesh.local}\n---\n"
		 "apiVersion: meshforge.io/v1alpha1\n"
		 "kind: Node\nmetadata: {name: n1}\nspec: {address: 10.250.0.1}\n---\n"
		 "apiVersion: meshforge.io/v1alpha1\n"
		 "kind: Service\nmetadata: {name: web}\n"
		 "spec: {vip: 10.96.0.50, port: 80}\n---\n"
		 "apiVersion: meshforge.io/v1alpha1\n"
		 "kind: Workload\nmetadata: {name: w1}\n"
		 "spec: {node: n1, ip: 10.250.0.2, port: %u, service: web, "
		 "identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n", port);
	ok = ch_write_file("local-pod.yaml", text, path, sizeof(path)) &&
	     ch_capture(&o, apply, &r) && ASSERT_EQ(r.rc, CTL_EXIT_OK);
	if (!ok)
		fprintf(stderr, "apply: %s%s\n", r.out ? r.out : "", r.err ? r.err : "");
	ch_run_free(&r);
	return ok;
}

/* The agent's connection to a pod of this node: the pod answers 1 MiB
 * in 16 answers, moved into the agent's socket and read intact; the agent's request
 * took TCP; an unmarked client of the same pod gets its answer by TCP. */
static bool test_upstream_answers_moved(void)
{
	struct sockaddr_in pod = { .sin_family = AF_INET };
	uint64_t up, agent, up_after;
	socklen_t len = sizeof(pod);
	int pl = -1, up_fd = -1, pod_fd = -1, other = -1, pod2 = -1;
	uint32_t mark = MF_SKB_MARK_AGENT;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	pod.sin_addr.s_addr = htonl(POD_IP);
	pl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = ASSERT_TRUE(pl >= 0) &&
	     ASSERT_EQ(bind(pl, (struct sockaddr *)&pod, sizeof(pod)), 0) &&
	     ASSERT_EQ(listen(pl, 16), 0) &&
	     ASSERT_EQ(getsockname(pl, (struct sockaddr *)&pod, &len), 0) &&
	     apply_local_pod(ntohs(pod.sin_port));
	up = stat_of(MF_FAST_STAT_UPSTREAM_BYTES);
	agent = stat_of(MF_FAST_STAT_AGENT_BYTES);

	/* The agent's end: its mark, as conn.c sets it. */
	up_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = ok && ASSERT_TRUE(up_fd >= 0) &&
	     ASSERT_EQ(setsockopt(up_fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0) &&
	     ASSERT_EQ(connect(up_fd, (struct sockaddr *)&pod, sizeof(pod)), 0) &&
	     ASSERT_TRUE((pod_fd = accept4(pl, NULL, NULL, SOCK_CLOEXEC)) >= 0) &&
	     send_all(up_fd, 3, 1000) && recv_all(pod_fd, 3, 1000) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_AGENT_BYTES) - agent, 1000);
	/* As a relay reads: each answer taken before the next (one sent
	 * whole first would be held back by the receiver's buffer, by
	 * design: test_slow_receiver_bounded). */
	for (unsigned int i = 0; ok && i < 16; i++)
		ok = send_all(pod_fd, 4 + i, 65536) && recv_all(up_fd, 4 + i, 65536);
	ok = ok && ASSERT_EQ(stat_of(MF_FAST_STAT_UPSTREAM_BYTES) - up, 1u << 20) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_AGENT_BYTES) - agent, 1000);
	up_after = stat_of(MF_FAST_STAT_UPSTREAM_BYTES);

	/* Anyone else's connection to the pod: its answers take TCP. */
	other = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = ok && ASSERT_TRUE(other >= 0) &&
	     ASSERT_EQ(connect(other, (struct sockaddr *)&pod, sizeof(pod)), 0) &&
	     ASSERT_TRUE((pod2 = accept4(pl, NULL, NULL, SOCK_CLOEXEC)) >= 0) &&
	     send_all(pod2, 5, 200000) && recv_all(other, 5, 200000) &&
	     ASSERT_EQ(stat_of(MF_FAST_STAT_UPSTREAM_BYTES), up_after);
	for (int *fd = (int[]){ pl, up_fd, pod_fd, other, pod2 }, i = 0; i < 5; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return ok;
}

struct reader {
	int fd;
	size_t want;
	size_t got;
	int err;		/* errno of a failed recv; 0: none */
	bool bad;		/* a byte differed */
};

/* A plain blocking reader: no timeout, no poll. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[8192];

	while (r->got < r->want) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r->err = errno;
			break;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(7, r->got + (size_t)i))
				r->bad = true;
		r->got += (size_t)n;
	}
	return NULL;
}

/* The pod's end reads in a blocking thread of its own while the agent's
 * end streams 8 MiB to it and the pod's own sends are moved: recv()
 * never fails (it got EAGAIN on this kernel with bytes moved into it). */
static bool test_blocking_receiver(void)
{
	struct reader r = { .want = 8u << 20 };
	pthread_t th;
	int cli, srv;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW) || !pair(&cli, &srv))
		return false;
	r.fd = cli;
	if (!ASSERT_EQ(pthread_create(&th, NULL, reader_main, &r), 0))
		return false;
	ok = true;
	for (int round = 0; ok && round < 64; round++) {
		ok = send_all(srv, 7, 0) &&	/* nothing */
		     send_all(cli, 3, 4096) && recv_all(srv, 3, 4096);
		/* The agent's end: 128 KiB of the reader's stream. */
		if (ok) {
			uint8_t buf[131072];

			for (size_t i = 0; i < sizeof(buf); i++)
				buf[i] = pat(7, (size_t)round * sizeof(buf) + i);
			ok = ASSERT_EQ(send(srv, buf, sizeof(buf), MSG_NOSIGNAL),
				       (ssize_t)sizeof(buf));
		}
	}
	pthread_join(th, NULL);
	ok = ok && ASSERT_EQ(r.err, 0) && ASSERT_FALSE(r.bad) &&
	     ASSERT_EQ(r.got, r.want);
	close(cli);
	close(srv);
	return ok;
}

/* The agent's end closes having read part of a 1 MiB message: the
 * sender's next sends fail (or it is told at once), never hang. */
static bool test_peer_close_mid_message(void)
{
	static uint8_t big[1 << 20];
	uint8_t buf[4096];
	int cli, srv, err = 0;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW) || !pair(&cli, &srv))
		return false;
	ok = ASSERT_EQ(send(cli, big, sizeof(big), MSG_NOSIGNAL),
		       (ssize_t)sizeof(big)) &&
	     ASSERT_EQ(recv(srv, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	close(srv);
	for (int i = 0; ok && i < 100 && !err; i++) {
		struct pollfd p = { .fd = cli, .events = POLLOUT };

		ok = ASSERT_TRUE(poll(&p, 1, 2000) > 0);
		if (ok && send(cli, buf, sizeof(buf),
			       MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN)
			err = errno;
	}
	close(cli);
	return ok && ASSERT_TRUE(err == EPIPE || err == ECONNRESET);
}

/* shutdown(SHUT_WR) of the pod's end after moved bytes: the agent's end
 * reads them all, then end of file; its answer still reaches the pod. */
static bool test_half_close(void)
{
	uint8_t b;
	int cli, srv;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW) || !pair(&cli, &srv))
		return false;
	ok = send_all(cli, 4, 100000) && ASSERT_EQ(shutdown(cli, SHUT_WR), 0) &&
	     recv_all(srv, 4, 100000) && ASSERT_EQ(recv(srv, &b, 1, 0), 0) &&
	     send_all(srv, 5, 5000) && ASSERT_EQ(shutdown(srv, SHUT_WR), 0) &&
	     recv_all(cli, 5, 5000) && ASSERT_EQ(recv(cli, &b, 1, 0), 0);
	close(cli);
	close(srv);
	return ok;
}

/* One send() of 4 MiB, blocking, read by the other end in a thread: the
 * whole message arrives, each of its pieces judged (moved while the
 * receiver has room, TCP once a piece would pass its buffer). */
static void *big_reader(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[65536];

	while (r->got < r->want) {
		ssize_t n = recv(r->fd, buf, sizeof(buf), 0);

		if (n <= 0) {
			r->err = n < 0 ? errno : EPIPE;
			break;
		}
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pat(9, r->got + (size_t)i))
				r->bad = true;
		r->got += (size_t)n;
	}
	return NULL;
}

static bool test_large_write(void)
{
	static uint8_t big[4u << 20];
	struct reader r = { .want = sizeof(big) };
	uint64_t before;
	pthread_t th;
	int cli, srv;
	bool ok;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW) || !pair(&cli, &srv))
		return false;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = pat(9, i);
	before = stat_of(MF_FAST_STAT_ALLOW_BYTES) +
		 stat_of(MF_FAST_STAT_UNKNOWN_BYTES);
	r.fd = srv;
	if (!ASSERT_EQ(pthread_create(&th, NULL, big_reader, &r), 0))
		return false;
	ok = ASSERT_EQ(send(cli, big, sizeof(big), MSG_NOSIGNAL),
		       (ssize_t)sizeof(big));
	pthread_join(th, NULL);
	ok = ok && ASSERT_EQ(r.err, 0) && ASSERT_FALSE(r.bad) &&
	     ASSERT_EQ(r.got, sizeof(big)) &&
	     ASSERT_GE(stat_of(MF_FAST_STAT_ALLOW_BYTES) +
		       stat_of(MF_FAST_STAT_UNKNOWN_BYTES) - before, sizeof(big));
	close(cli);
	close(srv);
	return ok;
}

/* The agent's end reads nothing: the pod's non-blocking sends stop being
 * taken (EAGAIN) before 64 MiB wait in the receiver, and what was taken
 * is all read, intact, afterwards. */
static bool test_slow_receiver_bounded(void)
{
	static uint8_t buf[65536];
	size_t taken = 0;
	int cli, srv;
	bool ok, held = false;

	if (skip_reason)
		TEST_SKIP(skip_reason);
	if (!probe_listen() || !set_verdict(MF_AUTHZ_ALLOW) || !pair(&cli, &srv))
		return false;
	while (taken < (64u << 20)) {
		ssize_t w;

		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pat(11, taken + i);
		w = send(cli, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0) {
			held = errno == EAGAIN;
			break;
		}
		taken += (size_t)w;
	}
	fprintf(stderr, "slow receiver: %zu bytes taken before the sender was held\n",
		taken);
	ok = ASSERT_TRUE(held) && recv_all(srv, 11, taken);
	close(cli);
	close(srv);
	return ok;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* --bench: 64-byte request and response round trips on one connection:
 * plain TCP (not in the SOCKHASH), in it but denied (TCP, through
 * sk_msg), its requests moved (allow); one JSON line each: round trips a
 * second and p99 in microseconds.  Not a test. */
static int bench(void)
{
	enum { N = 20000 };
	static uint64_t lat[N];
	static const char *const names[3] = { "plain", "sockmap_tcp",
					      "sockmap_moved" };
	const uint8_t actions[3] = { MF_AUTHZ_DENY, MF_AUTHZ_DENY,
				     MF_AUTHZ_ALLOW };
	uint32_t zero = 0, none = 0;

	for (int a = 0; a < 3; a++) {
		struct timespec t0, t1, s, e;
		uint8_t buf[64] = { 0 };
		int cli, srv;

		if (!probe_listen() || !set_verdict(actions[a]))
			return 1;
		/* Plain: the port marks nothing, no socket is taken. */
		if (a == 0 && bpf_map_update_elem(
			bpf_map__fd(sf->skel->maps.mf_fast_probe), &zero,
			&none, BPF_ANY))
			return 1;
		if (!pair(&cli, &srv))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int i = 0; i < N; i++) {
			clock_gettime(CLOCK_MONOTONIC, &s);
			if (send(cli, buf, sizeof(buf), 0) != sizeof(buf) ||
			    recv(srv, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf) ||
			    send(srv, buf, sizeof(buf), 0) != sizeof(buf) ||
			    recv(cli, buf, sizeof(buf), MSG_WAITALL) != sizeof(buf))
				return 1;
			clock_gettime(CLOCK_MONOTONIC, &e);
			lat[i] = (uint64_t)(e.tv_sec - s.tv_sec) * 1000000000u +
				 (uint64_t)(e.tv_nsec - s.tv_nsec);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		qsort(lat, N, sizeof(lat[0]), cmp_u64);
		printf("{\"path\":\"%s\",\"round_trips_per_s\":%.0f,\"p99_us\":%.1f}\n",
		       names[a],
		       N / ((double)(t1.tv_sec - t0.tv_sec) +
			    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9),
		       (double)lat[N * 99 / 100] / 1000.0);
		close(cli);
		close(srv);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int err;

	TEST_MAIN_BEGIN();
	signal(SIGPIPE, SIG_IGN);
	if (ch_setup("/sys/fs/bpf/mf-test-sockfast", "/tmp/mf-test-sockfast-XXXXXX"))
		return 1;
	atexit(cg_cleanup);
	skip_reason = ch_skip_reason;
	if (!skip_reason && kreq_fast_path() <= 0)
		skip_reason = "the kernel lacks sockops, sk_msg or SOCKHASH";
	if (!skip_reason && (err = netns_setup())) {
		fprintf(stderr, "network namespace: %s\n", strerror(-err));
		skip_reason = "cannot make a network namespace of our own";
	}
	if (!skip_reason && (err = cg_setup())) {
		fprintf(stderr, "cgroup2: %s\n", strerror(-err));
		skip_reason = "cannot mount and enter a cgroup2 of our own";
	}
	if (!skip_reason && open_fast(0)) {
		fprintf(stderr, "sockfast_open failed\n");
		return 1;
	}
	if (argc > 1 && !strcmp(argv[1], "--bench")) {
		err = skip_reason ? 2 : bench();
		if (lfd >= 0)
			close(lfd);
		cg_cleanup();
		return err;
	}
	TEST_RUN(test_selftest);
	TEST_RUN(test_integrity_200);
	TEST_RUN(test_map_full_fallback);
	TEST_RUN(test_deny);
	TEST_RUN(test_close_removes);
	TEST_RUN(test_blocking_receiver);
	TEST_RUN(test_peer_close_mid_message);
	TEST_RUN(test_half_close);
	TEST_RUN(test_large_write);
	TEST_RUN(test_slow_receiver_bounded);
	TEST_RUN(test_upstream_answers_moved);
	if (lfd >= 0)
		close(lfd);
	cg_cleanup();
	TEST_MAIN_END();
}
