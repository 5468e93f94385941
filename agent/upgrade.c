// SPDX-License-Identifier: Apache-2.0
/*
 * The agent starting its successor in place (upgrade.h).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "upgrade.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

extern char **environ;

static void upgrade_cqe(void *arg, const struct io_uring_cqe *cqe);
static void upgrade_start(void *arg);
static void upgrade_late(struct timer *t, uint64_t now);

static void upgrade_abort(void *arg)
{
	(void)arg;
}

static bool upgrade_busy(void *arg)
{
	const struct upgrade *u = arg;

	return u->poll_armed;
}

int upgrade_init(struct upgrade *u, struct loop *l, char *const *argv,
		 const struct handover_srv *hs)
{
	const struct loop_user lu = {
		.arg = u,
		.abort_all = upgrade_abort,
		.busy = upgrade_busy,
	};
	const char *a0 = argv[0];
	char cwd[PATH_MAX];
	ssize_t n;
	int err;

	memset(u, 0, sizeof(*u));
	u->pidfd = -1;
	u->argv = argv;
	u->hsrv = hs;
	u->timeout_ms = UPGRADE_START_TIMEOUT_MS;
	timer_init(&u->deadline, upgrade_late);
	/* The path, not the inode: a new version installed over it (or a
	 * symlink switched to one) is what runs. */
	if (a0 && strchr(a0, '/')) {
		if (a0[0] == '/') {
			n = snprintf(u->path, sizeof(u->path), "%s", a0);
		} else if (getcwd(cwd, sizeof(cwd))) {
			n = snprintf(u->path, sizeof(u->path), "%s/%s", cwd, a0);
		} else {
			return -errno;
		}
		if (n < 0 || (size_t)n >= sizeof(u->path))
			return -ENAMETOOLONG;
	} else {
		n = readlink("/proc/self/exe", u->path, sizeof(u->path) - 1);
		if (n < 0)
			return -errno;
		if ((size_t)n >= sizeof(u->path) - 1)
			return -ENAMETOOLONG;
		u->path[n] = '\0';
	}
	u->op = loop_op_add(l, "upgrade", upgrade_cqe, u);
	if (u->op < 0)
		return u->op;
	err = loop_user_add(l, &lu);
	if (err)
		return err;
	u->loop = l;
	loop_on_upgrade(l, upgrade_start, u);
	return 0;
}

/* The child is gone before it took over: nothing changed, say so. */
static void upgrade_child_failed(struct upgrade *u, const siginfo_t *si)
{
	char how[64];

	loop_timer_cancel(u->loop, &u->deadline);
	if (u->timed_out)
		snprintf(how, sizeof(how), "a kill, after %u ms without taking "
			 "over", u->timeout_ms);
	else if (si->si_code == CLD_EXITED)
		snprintf(how, sizeof(how), "exit status %d", si->si_status);
	else
		snprintf(how, sizeof(how), "signal %d", si->si_status);
	u->timed_out = false;
	u->failed++;
	log_error("event=upgrade_failed child=%d path=%s reason=\"%s\" "
		  "effect=\"this agent (pid %d) goes on serving\"", (int)u->child,
		  u->path, how, (int)getpid());
	/* The path cut short: the line must fit one notification. */
	notify_sendf("STATUS=upgrade failed: new agent %d (%.256s) ended with "
		     "%s before taking over; pid %d serves", (int)u->child,
		     u->path, how, (int)getpid());
	u->child = 0;
}

static void upgrade_arm(struct upgrade *u)
{
	struct io_uring_sqe *sqe = loop_sqe(u->loop, 1);

	io_uring_prep_poll_add(sqe, u->pidfd, POLLIN);
	io_uring_sqe_set_data64(sqe, loop_ud((unsigned int)u->op, 0, 0, 0));
	u->poll_armed = true;
}

static void upgrade_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct upgrade *u = arg;
	siginfo_t si;

	u->poll_armed = false;
	/* Cancelled at the loop's end, or a child that took over: its
	 * exit is the service manager's to see, not ours to reap. */
	if (cqe->res < 0 || !u->child || u->pidfd < 0) {
		if (cqe->res < 0 && cqe->res != -ECANCELED && u->child &&
		    !u->loop->stopping)
			upgrade_arm(u);
		return;
	}
	memset(&si, 0, sizeof(si));
	if (waitid((idtype_t)P_PIDFD, (id_t)u->pidfd, &si, WEXITED | WNOHANG) ||
	    si.si_pid == 0) {
		/* Not gone after all: wait again. */
		if (!u->loop->stopping)
			upgrade_arm(u);
		return;
	}
	close(u->pidfd);
	u->pidfd = -1;
	upgrade_child_failed(u, &si);
}

/* The child's start is late: killed, unless its hand-over is under way
 * (it has the sockets, and may be about to commit). */
static void upgrade_late(struct timer *t, uint64_t now)
{
	struct upgrade *u = (struct upgrade *)((char *)t -
					       offsetof(struct upgrade, deadline));
	const struct handover_srv *hs = u->hsrv;

	if (!u->child)
		return;
	if (hs && hs->conn >= 0 && hs->sent && hs->conn_pid == u->child) {
		(void)loop_timer_arm(u->loop, t,
				     now + (uint64_t)u->timeout_ms * 1000000ull);
		return;
	}
	log_warn("event=upgrade_timeout child=%d after_ms=%u", (int)u->child,
		 u->timeout_ms);
	u->timed_out = true;
	/* By the pidfd: the pid cannot be another process's.  Reaped and
	 * reported when the pidfd says it is gone. */
	if (u->pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, u->pidfd, SIGKILL, NULL, 0))
		log_warn("event=upgrade_kill_failed child=%d err=\"%s\"",
			 (int)u->child, strerror(errno));
}

/* SIGUSR2: starts the child, unless one is starting already. */
static void upgrade_start(void *arg)
{
	struct upgrade *u = arg;
	pid_t pid;
	int err, fd;

	if (!u->loop || u->loop->stopping)
		return;
	if (u->child) {
		log_warn("event=upgrade_ignored reason=\"new agent %d is still "
			 "starting\"", (int)u->child);
		return;
	}
	if (upgrade_handed_over(u)) {
		log_warn("event=upgrade_ignored reason=\"handed over already: "
			 "this agent drains\"");
		return;
	}
	/* The calling thread's mask goes with it: SIGINT, SIGTERM, SIGHUP
	 * and SIGUSR2 blocked, as the agent blocks them before anything
	 * else, so a stop during its start-up still waits for its loop. */
	err = posix_spawn(&pid, u->path, NULL, NULL, u->argv, environ);
	if (err) {
		u->failed++;
		log_error("event=upgrade_failed path=%s err=\"%s\" "
			  "effect=\"this agent goes on serving\"", u->path,
			  strerror(err));
		notify_sendf("STATUS=upgrade failed: cannot start %.256s: %s; "
			     "pid %d serves", u->path, strerror(err),
			     (int)getpid());
		return;
	}
	u->started++;
	u->child = pid;
	/* Not reaped until we wait for it: the pid cannot be reused. */
	fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0) {
		/* Still upgrades; a failure is then only seen by the child's
		 * own log. */
		log_warn("event=upgrade_unwatched child=%d err=\"%s\"", (int)pid,
			 strerror(errno));
	} else {
		u->pidfd = fd;
		upgrade_arm(u);
		/* Without the pidfd, no deadline either: nothing tells us
		 * that a kill was done, nor that the pid is still the
		 * child's. */
		if (loop_timer_arm(u->loop, &u->deadline, timer_now() +
				   (uint64_t)u->timeout_ms * 1000000ull))
			log_warn("event=upgrade_unwatched child=%d "
				 "err=\"no deadline\"", (int)pid);
	}
	log_info("event=upgrade_started child=%d path=%s", (int)pid, u->path);
	notify_sendf("STATUS=upgrading: new agent %d starting from %.256s",
		     (int)pid, u->path);
}

void upgrade_successor(void *arg, pid_t pid)
{
	struct upgrade *u = arg;
	int err;

	if (!u->child || pid != u->child)
		return;
	/* Before the hand-over's RELEASED, after which the child says
	 * READY=1: the service manager hears MAINPID= from the main process
	 * first, and then takes the child's word. */
	err = notify_sendf("MAINPID=%d", (int)pid);
	if (err)
		log_warn("event=notify_failed what=mainpid err=\"%s\"",
			 strerror(-err));
	u->done++;
	log_info("event=upgrade_handed_over child=%d pid=%d", (int)pid,
		 (int)getpid());
	/* Its end is no longer ours to wait for. */
	loop_timer_cancel(u->loop, &u->deadline);
	u->child = 0;
	if (u->pidfd >= 0)
		close(u->pidfd);
	u->pidfd = -1;
}

void upgrade_fini(struct upgrade *u)
{
	if (u->pidfd >= 0)
		close(u->pidfd);
	u->pidfd = -1;
	u->loop = NULL;
}
