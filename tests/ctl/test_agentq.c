// SPDX-License-Identifier: Apache-2.0
/*
 * ctl/agentq.c, asking the agent what it serves, against a stand-in admin
 * endpoint on loopback that answers each connection with the next page of
 * a script: the epoch and version read off /metrics, answers it refuses,
 * --wait's polling until the agent serves an epoch, and `mfctl apply
 * --wait` end to end against the memory store.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/ctl_harness.h"
#include "harness/policy_harness.h"
#include "../../ctl/agentq.h"

#define PAGE(epoch)                                                           \
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"                \
	"# TYPE meshforge_policy_epoch gauge\n"                               \
	"meshforge_policy_epoch " epoch "\n"                                  \
	"meshforge_build_info{version=\"9.8.7\"} 1\n"

/* The stand-in: page i of @pages for its i-th connection, the last one
 * for every connection after. */
static struct {
	int lfd;
	char addr[32];
	const char *const *pages;
	size_t npages, served;
	pthread_t th;
} srv;

static void *srv_run(void *arg)
{
	(void)arg;
	for (;;) {
		const char *page;
		char req[512];
		int fd = accept(srv.lfd, NULL, NULL);

		if (fd < 0)
			return NULL;
		page = srv.pages[srv.served < srv.npages ? srv.served :
							   srv.npages - 1];
		__atomic_add_fetch(&srv.served, 1, __ATOMIC_RELAXED);
		/* One read holds the whole of agentq's tiny request. */
		if (read(fd, req, sizeof(req)) > 0 &&
		    write(fd, page, strlen(page)) < 0)
			perror("write");
		close(fd);
	}
}

static bool srv_start(const char *const *pages, size_t n)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	srv.pages = pages;
	srv.npages = n;
	srv.served = 0;
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!ASSERT_GE(srv.lfd, 0) ||
	    !ASSERT_EQ(bind(srv.lfd, (struct sockaddr *)&sa, sizeof(sa)), 0) ||
	    !ASSERT_EQ(listen(srv.lfd, 16), 0) ||
	    !ASSERT_EQ(getsockname(srv.lfd, (struct sockaddr *)&sa, &len), 0))
		return false;
	snprintf(srv.addr, sizeof(srv.addr), "127.0.0.1:%u",
		 ntohs(sa.sin_port));
	return ASSERT_EQ(pthread_create(&srv.th, NULL, srv_run, NULL), 0);
}

/* Stops the stand-in: shutdown() wakes its accept(). */
static void srv_stop(void)
{
	shutdown(srv.lfd, SHUT_RDWR);
	pthread_join(srv.th, NULL);
	close(srv.lfd);
}

/* Starts the stand-in on a case's static script @pages (an array). */
#define SRV_START(pages) srv_start(pages, sizeof(pages) / sizeof(pages[0]))

static bool test_fetch_reads_epoch_and_version(void)
{
	static const char *const pages[] = { PAGE("42") };
	struct agentq_info ai;
	bool ok;

	if (!SRV_START(pages))
		return false;
	ok = ASSERT_EQ(agentq_fetch(srv.addr, 2000, &ai), 0) &&
	     ASSERT_TRUE(ai.has_epoch) && ASSERT_EQ(ai.epoch, 42) &&
	     ASSERT_STREQ(ai.version, "9.8.7");
	srv_stop();
	return ok;
}

/* What is not a metrics page of an agent, and addresses that are not. */
static bool test_fetch_refuses(void)
{
	static const char *const pages[] = {
		"HTTP/1.1 503 Service Unavailable\r\n\r\nnot ready\n",
		"HTTP/1.1 200 OK\r\n\r\nsome_other_metric 1\n",
		"garbage",
	};
	struct agentq_info ai;
	int port;
	char closed[32];
	bool ok;

	if (!SRV_START(pages))
		return false;
	ok = ASSERT_EQ(agentq_fetch(srv.addr, 2000, &ai), -EPROTO) &&
	     ASSERT_EQ(agentq_fetch(srv.addr, 2000, &ai), -EPROTO) &&
	     ASSERT_EQ(agentq_fetch(srv.addr, 2000, &ai), -EPROTO);
	srv_stop();
	/* The stand-in's port, now closed. */
	port = atoi(strchr(srv.addr, ':') + 1);
	snprintf(closed, sizeof(closed), "127.0.0.1:%d", port);
	return ok && ASSERT_EQ(agentq_fetch(closed, 2000, &ai), -ECONNREFUSED) &&
	       ASSERT_EQ(agentq_fetch("localhost:15000", 2000, &ai), -EINVAL) &&
	       ASSERT_EQ(agentq_addr_check("127.0.0.1:0"), -EINVAL) &&
	       ASSERT_EQ(agentq_addr_check("127.0.0.1"), -EINVAL) &&
	       ASSERT_EQ(agentq_addr_check("127.0.0.1:15000"), 0);
}

/* The agent takes the new epoch a few pages later: the wait asks until it
 * does, then stops asking. */
static bool test_wait_until_served(void)
{
	static const char *const pages[] = {
		PAGE("6"), "HTTP/1.1 503 x\r\n\r\n", PAGE("6"), PAGE("7"),
	};
	uint64_t last;
	bool ok;

	if (!SRV_START(pages))
		return false;
	ok = ASSERT_EQ(agentq_wait_epoch(srv.addr, 7, 5000, &last), 0) &&
	     ASSERT_EQ(last, 7) && ASSERT_EQ(srv.served, 4);
	srv_stop();
	return ok;
}

/* An agent that never gets there: the wait ends at its bound and says
 * what the agent served last. */
static bool test_wait_times_out(void)
{
	static const char *const pages[] = { PAGE("6") };
	uint64_t last;
	bool ok;

	if (!SRV_START(pages))
		return false;
	ok = ASSERT_EQ(agentq_wait_epoch(srv.addr, 7, 200, &last), -ETIMEDOUT) &&
	     ASSERT_EQ(last, 6) && ASSERT_GE(srv.served, 2);
	srv_stop();
	return ok;
}

/* mfctl apply --wait writes epoch 1, then asks the agent at --admin until
 * it serves it; a dry run does not ask. */
static bool test_apply_waits(void)
{
	char *dry[] = { "apply", "-f", NULL, "--dry-run", "--wait", "--admin",
			srv.addr, NULL };
	char *run[] = { "apply", "-f", NULL, "--wait", "--admin", srv.addr,
			NULL };
	static const char *const pages[] = { PAGE("0"), PAGE("1") };
	struct ctl_opts o;
	char path[160];
	bool ok;

	snprintf(path, sizeof(path), "%s/mesh.yaml", ch_tmpdir);
	dry[2] = run[2] = path;
	/* A fresh store first: the options point at it. */
	if (!ASSERT_TRUE(ch_mem_reset()))
		return false;
	o = ch_opts(true);
	if (!ASSERT_EQ(fsio_write_atomic(path, PH_MESH, strlen(PH_MESH), 0644),
		       0) || !SRV_START(pages))
		return false;
	ok = ph_run(o, CTL_EXIT_OK, dry) && ASSERT_EQ(srv.served, 0) &&
	     ph_run(o, CTL_EXIT_OK, run) &&
	     ph_has(ph_out.out, "applied epoch 1:") &&
	     ph_has(ph_out.out, "serves epoch 1") && ASSERT_EQ(srv.served, 2);
	srv_stop();
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-agentq",
		     "/tmp/mf-test-ctl-agentq.XXXXXX"))
		return 1;
	TEST_RUN(test_fetch_reads_epoch_and_version);
	TEST_RUN(test_fetch_refuses);
	TEST_RUN(test_wait_until_served);
	TEST_RUN(test_wait_times_out);
	TEST_RUN(test_apply_waits);
	ch_cleanup();
	TEST_MAIN_END();
}
