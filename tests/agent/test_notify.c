// SPDX-License-Identifier: Apache-2.0
/*
 * The service manager's readiness protocol (agent/notify.c): a state goes
 * as one datagram to the socket $NOTIFY_SOCKET names, a path or an
 * abstract name ('@'); without the variable nothing is sent and it is no
 * error; a relative path is refused.  And the capabilities the agent
 * keeps (agent/caps.c): in a child, caps_keep() leaves exactly the kept
 * ones in the effective, permitted and bounding sets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/capability.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/notify_harness.h"
#include "../../agent/caps.h"
#include "../../agent/notify.h"

static bool received(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	if (!ASSERT_GE(n, 0))
		return false;
	buf[n] = '\0';
	return ASSERT_STREQ(buf, want);
}

static bool test_notify(void)
{
	char path[64], abs[64];
	int fd, afd;
	bool ok;

	snprintf(path, sizeof(path), "/tmp/mf-notify-%d.sock", getpid());
	snprintf(abs, sizeof(abs), "@mf-notify-%d", getpid());
	unlink(path);
	fd = nh_listener(path);
	afd = nh_listener(abs);
	ok = ASSERT_GE(fd, 0) && ASSERT_GE(afd, 0);
	unsetenv("NOTIFY_SOCKET");
	ok = ok && ASSERT_EQ(notify_send("READY=1"), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	ok = ok && ASSERT_EQ(notify_sendf("READY=1\nSTATUS=node %s", "n1"), 0) &&
	     received(fd, "READY=1\nSTATUS=node n1");
	setenv("NOTIFY_SOCKET", abs, 1);
	ok = ok && ASSERT_EQ(notify_send("STOPPING=1"), 0) &&
	     received(afd, "STOPPING=1");
	setenv("NOTIFY_SOCKET", "relative.sock", 1);
	ok = ok && ASSERT_EQ(notify_send("READY=1"), -EINVAL);
	unsetenv("NOTIFY_SOCKET");
	if (fd >= 0)
		close(fd);
	if (afd >= 0)
		close(afd);
	unlink(path);
	return ok;
}

/* The hex of the line @key in /proc/self/status. */
static unsigned long long status_caps(const char *key)
{
	char line[256];
	unsigned long long v = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtoull(line + strlen(key), NULL, 16);
	if (f)
		fclose(f);
	return v;
}

static bool test_caps_keep(void)
{
	unsigned long long want = 1ull << CAP_NET_ADMIN | 1ull << CAP_BPF |
				  1ull << CAP_NET_BIND_SERVICE |
				  1ull << CAP_PERFMON;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		TEST_SKIP("not root: no capabilities to drop");
	pid = fork();
	if (pid == 0) {
		/* In the child: this process gives its capabilities up. */
		if (caps_keep_agent() ||
		    status_caps("CapEff:") != want ||
		    status_caps("CapPrm:") != want ||
		    status_caps("CapBnd:") != want ||
		    status_caps("CapInh:") != 0)
			_exit(1);
		_exit(0);
	}
	return ASSERT_GE(pid, 0) && ASSERT_EQ(waitpid(pid, &status, 0), pid) &&
	       ASSERT_TRUE(WIFEXITED(status)) &&
	       ASSERT_EQ(WEXITSTATUS(status), 0);
}

/* Started without CAP_SETPCAP, as under systemd's CapabilityBoundingSet=
 * or a container's capability list: the bounding set is the manager's,
 * and the effective and permitted sets still narrow to the kept ones. */
static bool test_caps_keep_no_setpcap(void)
{
	unsigned long long want = 1ull << CAP_NET_ADMIN | 1ull << CAP_BPF |
				  1ull << CAP_NET_BIND_SERVICE |
				  1ull << CAP_PERFMON;
	int status;
	pid_t pid;

	if (geteuid() != 0)
		TEST_SKIP("not root: no capabilities to drop");
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct hdr = {
			.version = _LINUX_CAPABILITY_VERSION_3,
		};
		struct __user_cap_data_struct data[2] = { 0 };
		unsigned long long bnd;

		/* What the manager would give: the agent's unit's set. */
		if (syscall(SYS_capget, &hdr, data))
			_exit(2);
		data[0].effective &= ~(1u << CAP_SETPCAP);
		data[0].permitted &= ~(1u << CAP_SETPCAP);
		if (syscall(SYS_capset, &hdr, data))
			_exit(2);
		bnd = status_caps("CapBnd:");
		if (caps_keep_agent() ||
		    status_caps("CapEff:") != want ||
		    status_caps("CapPrm:") != want ||
		    status_caps("CapBnd:") != bnd ||
		    status_caps("CapInh:") != 0)
			_exit(1);
		_exit(0);
	}
	return ASSERT_GE(pid, 0) && ASSERT_EQ(waitpid(pid, &status, 0), pid) &&
	       ASSERT_TRUE(WIFEXITED(status)) &&
	       ASSERT_EQ(WEXITSTATUS(status), 0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_notify);
	TEST_RUN(test_caps_keep);
	TEST_RUN(test_caps_keep_no_setpcap);
	TEST_MAIN_END();
}
