// SPDX-License-Identifier: Apache-2.0
/*
 * The agent as two event loops (workers.h), in this process: connections
 * to one port are spread by the kernel over both loops' SO_REUSEPORT
 * listeners and each is relayed whole by the loop that took it, as the
 * per-loop counters of /metrics show; a policy apply (an epoch flip in
 * real pinned maps) reaches both loops; a port another socket holds stops
 * the start rather than joining it; and each loop holds to its share of a
 * node-wide limit.
 *
 * What is seen is what a client and the admin endpoint see: bytes back
 * through the relay, and the /metrics text.
 */
#include <sys/vfs.h>

#include <bpf/bpf.h>
#include <linux/magic.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "harness/pki_harness.h"
#include "../../agent/certs.h"
#include "../../agent/loopshare.h"
#include "../../agent/reload.h"
#include "../../agent/tls.h"
#include "pmap.h"

#define NCONNS	64

/* GET @path of the admin endpoint on @port, HTTP/1.0 (no chunks, the
 * close ends it), into @buf of @n bytes, NUL-terminated.  True when the
 * answer was read whole and is a 200. */
static bool admin_get(uint16_t port, const char *path, char *buf, size_t n)
{
	size_t len = 0;
	char req[128];
	ssize_t r;
	int fd = lh_client(port);

	if (!ASSERT_GE(fd, 0))
		return false;
	lh_set_timeout(fd, 5000);
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
	if (!ASSERT_EQ(write(fd, req, strlen(req)), (ssize_t)strlen(req))) {
		close(fd);
		return false;
	}
	while (len + 1 < n && (r = read(fd, buf + len, n - 1 - len)) > 0)
		len += (size_t)r;
	close(fd);
	buf[len] = '\0';
	return ASSERT_TRUE(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
}

/* The value of sample @series (name and labels, whole) in @text, or -1. */
static long long metric(const char *text, const char *series)
{
	char key[160];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", series);
	p = strstr(text, key);
	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

/* ---- connections on both loops -------------------------------------------- */

static bool test_two_loops_serve(void)
{
	static char text[256 * 1024];
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c[NCONNS], s[NCONNS];
	long long l0, l1;
	bool ok = false;
	int i, n = 0;

	lfd = lh_listener(&up_port, NCONNS);
	if (!ASSERT_GE(lfd, 0))
		return false;
	memset(&h, 0, sizeof(h));
	h.threads = 2;
	h.cfg.listen_addr = htonl(INADDR_LOOPBACK);
	h.cfg.forward_to.sin_family = AF_INET;
	h.cfg.forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h.cfg.forward_to.sin_port = htons(up_port);
	h.cfg.handle_signals = true;
	h.cfg.admin_on = true;
	h.cfg.nbufs = 16;
	if (!lh_loop_start(&h)) {
		close(lfd);
		return false;
	}
	/* Each connection relays its own bytes both ways, whichever loop
	 * has it. */
	for (n = 0; n < NCONNS; n++) {
		char q[16], a[16];

		c[n] = lh_client(h.fwd_port);
		if (!ASSERT_GE(c[n], 0))
			goto out;
		s[n] = lh_accept_timeout(lfd, 5000);
		if (!ASSERT_GE(s[n], 0)) {
			close(c[n]);
			goto out;
		}
		lh_set_timeout(c[n], 5000);
		lh_set_timeout(s[n], 5000);
		snprintf(q, sizeof(q), "q%05d", n);
		snprintf(a, sizeof(a), "a%05d", n);
		if (!ASSERT_EQ(write(c[n], q, 6), 6) ||
		    !ASSERT_TRUE(lh_read_exact(s[n], q, 6)) ||
		    !ASSERT_EQ(memcmp(q + 1, a + 1, 5), 0) ||
		    !ASSERT_EQ(write(s[n], a, 6), 6) ||
		    !ASSERT_TRUE(lh_read_exact(c[n], q, 6)) ||
		    !ASSERT_EQ(memcmp(q, a, 6), 0)) {
			n++;
			goto out;
		}
	}
	if (!admin_get(h.admin_port, "/metrics", text, sizeof(text)))
		goto out;
	l0 = metric(text, "meshforge_loop_connections_accepted_total{loop=\"0\"}");
	l1 = metric(text, "meshforge_loop_connections_accepted_total{loop=\"1\"}");
	/* 64 4-tuples over two sockets all on one: 1 in 2^63. */
	ok = ASSERT_GE(l0, 1) && ASSERT_GE(l1, 1) &&
	     ASSERT_EQ(l0 + l1, NCONNS) &&
	     ASSERT_EQ(metric(text, "meshforge_connections_accepted_total"
				    "{listener=\"forward\"}"), NCONNS) &&
	     ASSERT_EQ(metric(text, "meshforge_connections_active"), NCONNS) &&
	     ASSERT_GE(metric(text, "meshforge_loop_turn_seconds_count"
				    "{loop=\"1\"}"), 1) &&
	     ASSERT_GE(metric(text, "meshforge_loop_batch_seconds_count"
				    "{loop=\"0\"}"), 1);
out:
	for (i = 0; i < n; i++) {
		close(c[i]);
		close(s[i]);
	}
	lh_loop_stop(&h);
	close(lfd);
	return ok && ASSERT_EQ(h.stats.accepted, NCONNS) &&
	       ASSERT_EQ(h.stats.relayed, NCONNS);
}

/* A port another socket listens on: the loops do not join it (as
 * SO_REUSEPORT of the same user would let them), the start fails. */
static bool test_port_taken(void)
{
	struct workers w;
	struct agent_config cfg;
	uint16_t port;
	int lfd = lh_listener(&port, 4);
	bool ok;

	if (!ASSERT_GE(lfd, 0))
		return false;
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen_addr = htonl(INADDR_LOOPBACK);
	cfg.forward_to.sin_family = AF_INET;
	cfg.forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg.forward_to.sin_port = htons(port);
	cfg.forward_port = port;
	ok = ASSERT_EQ(workers_init(&w, &cfg, 2, false), -EADDRINUSE);
	close(lfd);
	return ok;
}

/* Each loop's share of a limit: the node's never more than the limit plus
 * loops - 1, never 0 where there is one. */
static bool test_loopshare(void)
{
	return ASSERT_EQ(loopshare(100, 1), 100) &&
	       ASSERT_EQ(loopshare(100, 0), 100) &&
	       ASSERT_EQ(loopshare(100, 2), 50) &&
	       ASSERT_EQ(loopshare(101, 2), 51) &&
	       ASSERT_EQ(loopshare(1, 4), 1) &&
	       ASSERT_EQ(loopshare(0, 4), 0) &&
	       ASSERT_EQ(loopshare(UINT32_MAX, 2), 2147483648u);
}

/* ---- a policy apply reaches both loops --------------------------------- */

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

/* Opens (and closes) @n connections to @port: each is taken, on
 * whichever loop, with the snapshot that loop has now. */
static bool poke(uint16_t port, int n)
{
	for (int i = 0; i < n; i++) {
		int fd = lh_client(port);
		char b;

		if (!ASSERT_GE(fd, 0))
			return false;
		lh_set_timeout(fd, 5000);
		/* Refused (no such service): the reset or close says the
		 * loop has handled it. */
		(void)!read(fd, &b, 1);
		close(fd);
	}
	return true;
}

static bool both_at(uint16_t admin, uint16_t out, uint64_t epoch)
{
	static char text[256 * 1024];
	char want0[64], want1[64];

	snprintf(want0, sizeof(want0), "meshforge_loop_policy_epoch{loop=\"0\"}");
	snprintf(want1, sizeof(want1), "meshforge_loop_policy_epoch{loop=\"1\"}");
	/* A loop takes the new snapshot at its next connection: connections
	 * until both have had one, bounded. */
	for (int i = 0; i < 100; i++) {
		if (!poke(out, 8) || !admin_get(admin, "/metrics", text,
						 sizeof(text)))
			return false;
		if (metric(text, want0) == (long long)epoch &&
		    metric(text, want1) == (long long)epoch)
			return true;
		usleep(RELOAD_POLL_MS * 1000);
	}
	return ASSERT_EQ(metric(text, want0), (long long)epoch) &&
	       ASSERT_EQ(metric(text, want1), (long long)epoch);
}

static bool test_apply_reaches_both(void)
{
	char dir[64] = "", root[64];
	struct certs *certs = NULL;
	struct statfs st;
	struct lh_loop h;
	struct pmap pm;
	bool ok = false;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)
		TEST_SKIP("bpffs is not mounted at /sys/fs/bpf");
	if (!ph_make_pki(dir, sizeof(dir), "workers"))
		TEST_SKIP("no openssl to make certificates");
	if (!ASSERT_EQ(tls_global_init(), 0) ||
	    !ASSERT_EQ(certs_open(&certs, dir), 0))
		goto out_pki;
	snprintf(root, sizeof(root), "/sys/fs/bpf/mf-test-workers-%d",
		 (int)getpid());
	pmap_unpin_all(root);
	if (!ASSERT_EQ(pmap_open(&pm, root, true), 0))
		goto out_unpin;
	if (!set_epoch(&pm, 1))
		goto out_pmap;
	memset(&h, 0, sizeof(h));
	h.threads = 2;
	h.cfg.node = "mf-node-w";
	h.cfg.pmap = &pm;
	h.cfg.certs = certs;
	h.cfg.listen_addr = htonl(INADDR_LOOPBACK);
	h.cfg.outbound_port = lh_free_port();
	h.cfg.handle_signals = true;
	h.cfg.admin_on = true;
	h.cfg.nbufs = 16;
	if (!lh_loop_start(&h))
		goto out_pmap;
	ok = both_at(h.admin_port, h.cfg.outbound_port, 1) &&
	     set_epoch(&pm, 2) &&
	     both_at(h.admin_port, h.cfg.outbound_port, 2);
	lh_loop_stop(&h);
	/* Both loops refused what the policy did not know, on the new
	 * snapshot as on the old. */
	ok = ok && ASSERT_GE(h.stats.refused, 2);
out_pmap:
	pmap_close(&pm);
out_unpin:
	if (!ASSERT_EQ(pmap_unpin_all(root), 0))
		ok = false;
out_pki:
	certs_close(certs);
	ph_remove(dir);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	lh_signals_setup();
	log_level_max = getenv("MF_TEST_DEBUG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR;

	TEST_RUN(test_loopshare);
	TEST_RUN(test_port_taken);
	TEST_RUN(test_two_loops_serve);
	TEST_RUN(test_apply_reaches_both);
	TEST_MAIN_END();
}
