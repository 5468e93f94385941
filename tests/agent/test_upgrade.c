// SPDX-License-Identifier: Apache-2.0
/*
 * The upgrade in place (agent/upgrade.c), on a loop that takes signals as
 * the agent's loop 0 does, with a notify socket of the test's and a shell
 * script at the binary's path:
 *  - SIGUSR2 starts the path as a child with the same arguments; a second
 *    SIGUSR2 while it starts is ignored; the hand-over committed by
 *    another process changes nothing, by the child sends MAINPID=<child>;
 *    a child that took over is not reaped (its end is the service
 *    manager's);
 *  - a child that exits 3 before it took over is reaped and reported
 *    (STATUS=upgrade failed ... exit status 3), and another SIGUSR2 then
 *    starts a child again;
 *  - a child that hangs is killed at the deadline and reported, but not
 *    while it has the sockets (its hand-over is under way);
 *  - a path that cannot be run is reported, nothing starts.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/notify_harness.h"
#include "harness/loop_harness.h"
#include "../../agent/upgrade.h"

struct fixture {
	char dir[64];
	char bin[96];
	char out[96];
	char sock[96];
	int nfd;
	struct loop l;
	/* What upgrade.c reads of the hand-over: whether the child has the
	 * sockets (set by the test). */
	struct handover_srv hs;
	struct upgrade u;
};

/* The script at @f->bin: @body after the shebang. */
static bool write_bin(struct fixture *f, const char *body)
{
	char tmp[128];
	FILE *fp;

	/* Renamed over the path, as a package installs a binary. */
	snprintf(tmp, sizeof(tmp), "%s.new", f->bin);
	fp = fopen(tmp, "w");
	if (!ASSERT_TRUE(fp != NULL))
		return false;
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	fclose(fp);
	return ASSERT_EQ(chmod(tmp, 0755), 0) &&
	       ASSERT_EQ(rename(tmp, f->bin), 0);
}

static bool setup(struct fixture *f, char **argv)
{
	const struct loop_config cfg = {
		.handle_signals = true, .nbufs = 4, .buf_size = 4096,
	};

	memset(f, 0, sizeof(*f));
	f->nfd = -1;
	f->hs.conn = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/mf-upgrade-%d", getpid());
	snprintf(f->bin, sizeof(f->bin), "%s/agent", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/argv", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s/notify.sock", f->dir);
	if (!ASSERT_EQ(mkdir(f->dir, 0700), 0))
		return false;
	f->nfd = nh_listener(f->sock);
	if (!ASSERT_GE(f->nfd, 0))
		return false;
	setenv("NOTIFY_SOCKET", f->sock, 1);
	argv[0] = f->bin;
	return ASSERT_EQ(loop_init(&f->l, &cfg), 0) &&
	       ASSERT_EQ(upgrade_init(&f->u, &f->l, argv, &f->hs), 0) &&
	       ASSERT_STREQ(f->u.path, f->bin);
}

static void teardown(struct fixture *f)
{
	char p[128];

	loop_fini(&f->l);
	upgrade_fini(&f->u);
	unsetenv("NOTIFY_SOCKET");
	if (f->nfd >= 0)
		close(f->nfd);
	unlink(f->sock);
	unlink(f->out);
	unlink(f->bin);
	snprintf(p, sizeof(p), "%s.new", f->bin);
	unlink(p);
	rmdir(f->dir);
}

/* The next notification, the loop run until it comes: true when it
 * starts with @prefix and holds @part (NULL: anything). */
static bool next_note(struct fixture *f, const char *prefix, const char *part)
{
	char buf[512];
	ssize_t n;

	if (!lh_run_until_readable(&f->l, f->nfd))
		return false;
	n = recv(f->nfd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (!ASSERT_GE(n, 0))
		return false;
	buf[n] = '\0';
	if (strncmp(buf, prefix, strlen(prefix)) ||
	    (part && !strstr(buf, part))) {
		fprintf(stderr, "notification: '%s', want '%s'...'%s'\n", buf,
			prefix, part ? part : "");
		return ASSERT_TRUE(!"another notification");
	}
	return true;
}

/* What the script wrote of its arguments, once it has. */
static bool child_argv_is(struct fixture *f, const char *want)
{
	char buf[256] = "";

	for (int i = 0; i < 500; i++) {
		int fd = open(f->out, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		if (n > 0 && buf[n - 1] == '\n') {
			buf[n] = '\0';
			break;
		}
		usleep(10000);
	}
	return ASSERT_STREQ(buf, want);
}

static bool test_upgrade_hands_over(void)
{
	char *argv[] = { NULL, "--node", "n1", "--threads", "1", NULL };
	char mainpid[32];
	struct fixture f;
	pid_t child = 0;
	int status;
	bool ok;

	ok = setup(&f, argv) &&
	     write_bin(&f, "echo \"$@\" >\"$(dirname \"$0\")/argv\"; exec sleep 30") &&
	     ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     next_note(&f, "STATUS=upgrading: new agent ", f.bin) &&
	     ASSERT_EQ(f.u.started, 1u) && ASSERT_TRUE(f.u.child > 0);
	if (ok)
		child = f.u.child;
	ok = ok && child_argv_is(&f, "--node n1 --threads 1\n");
	/* Starting still: the second is ignored. */
	ok = ok && ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     lh_run_for(&f.l, 50) && ASSERT_EQ(f.u.started, 1u) &&
	     ASSERT_EQ(f.u.child, child);
	/* Another process took the listeners: not our upgrade. */
	if (ok)
		upgrade_successor(&f.u, child + 1);
	ok = ok && ASSERT_FALSE(upgrade_handed_over(&f.u)) &&
	     ASSERT_EQ(recv(f.nfd, mainpid, sizeof(mainpid), MSG_DONTWAIT), -1);
	if (ok)
		upgrade_successor(&f.u, child);
	snprintf(mainpid, sizeof(mainpid), "MAINPID=%d", (int)child);
	ok = ok && ASSERT_TRUE(upgrade_handed_over(&f.u)) &&
	     next_note(&f, mainpid, NULL);
	/* Its end is not ours to report, nor to reap. */
	if (child > 0)
		kill(child, SIGKILL);
	ok = ok && lh_run_for(&f.l, 100) && ASSERT_EQ(f.u.failed, 0u) &&
	     ASSERT_EQ(recv(f.nfd, mainpid, sizeof(mainpid), MSG_DONTWAIT), -1);
	if (child > 0)
		ok = ASSERT_EQ(waitpid(child, &status, 0), child) && ok &&
		     ASSERT_TRUE(WIFSIGNALED(status));
	/* Handed over: this agent drains, it upgrades no more. */
	ok = ok && ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     lh_run_for(&f.l, 50) && ASSERT_EQ(f.u.started, 1u);
	teardown(&f);
	return ok;
}

static bool test_upgrade_child_fails(void)
{
	char *argv[] = { NULL, "--node", "n1", NULL };
	struct fixture f;
	bool ok;

	ok = setup(&f, argv) && write_bin(&f, "exit 3") &&
	     ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     next_note(&f, "STATUS=upgrading: new agent ", NULL) &&
	     next_note(&f, "STATUS=upgrade failed: new agent ",
		       "ended with exit status 3 before taking over") &&
	     ASSERT_EQ(f.u.failed, 1u) && ASSERT_EQ(f.u.child, 0) &&
	     ASSERT_EQ(f.u.pidfd, -1) && ASSERT_FALSE(upgrade_handed_over(&f.u));
	/* Reaped: no child of ours is left. */
	ok = ok && ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1) &&
	     ASSERT_EQ(errno, ECHILD);
	/* Fixed: the next SIGUSR2 starts it again. */
	ok = ok && write_bin(&f, "exit 4") &&
	     ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     next_note(&f, "STATUS=upgrading: new agent ", NULL) &&
	     next_note(&f, "STATUS=upgrade failed: new agent ", "exit status 4") &&
	     ASSERT_EQ(f.u.started, 2u) && ASSERT_EQ(f.u.failed, 2u);
	teardown(&f);
	return ok;
}

/* A child that hangs: killed at the deadline and reported, but not
 * while its hand-over is under way. */
static bool test_upgrade_late(void)
{
	char *argv[] = { NULL, "--node", "n1", NULL };
	struct fixture f;
	pid_t child = 0;
	bool ok;

	ok = setup(&f, argv) && write_bin(&f, "exec sleep 30");
	f.u.timeout_ms = 200;
	ok = ok && ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     next_note(&f, "STATUS=upgrading: new agent ", NULL);
	if (ok) {
		child = f.u.child;
		/* It has the sockets: given more time. */
		f.hs.conn = f.nfd;
		f.hs.sent = true;
		f.hs.conn_pid = child;
	}
	ok = ok && lh_run_for(&f.l, 500) && ASSERT_EQ(kill(child, 0), 0) &&
	     ASSERT_EQ(f.u.failed, 0u) && ASSERT_EQ(f.u.child, child);
	/* It hung up without taking over: the next deadline kills it. */
	f.hs.conn = -1;
	f.hs.sent = false;
	ok = ok && next_note(&f, "STATUS=upgrade failed: new agent ",
			     "ended with a kill, after 200 ms without taking over") &&
	     ASSERT_EQ(f.u.failed, 1u) && ASSERT_EQ(f.u.child, 0) &&
	     ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1) && ASSERT_EQ(errno, ECHILD);
	if (!ok && child > 0 && kill(child, SIGKILL) == 0)
		waitpid(child, NULL, 0);
	teardown(&f);
	return ok;
}

static bool test_upgrade_not_runnable(void)
{
	char *argv[] = { NULL, "--node", "n1", NULL };
	struct fixture f;
	bool ok;

	/* No file at the path. */
	ok = setup(&f, argv) && ASSERT_EQ(kill(getpid(), SIGUSR2), 0) &&
	     next_note(&f, "STATUS=upgrade failed: cannot start ",
		       "No such file or directory") &&
	     ASSERT_EQ(f.u.started, 0u) && ASSERT_EQ(f.u.failed, 1u) &&
	     ASSERT_EQ(f.u.child, 0);
	teardown(&f);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_upgrade_hands_over);
	TEST_RUN(test_upgrade_child_fails);
	TEST_RUN(test_upgrade_late);
	TEST_RUN(test_upgrade_not_runnable);
	TEST_MAIN_END();
}
