/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upgrade: the running agent starts its successor itself (SIGUSR2), so a
 * new binary takes over inside the same service unit without a gap.
 *
 * On SIGUSR2 the agent starts the binary at the path it was started from
 * (read from disk again: a new version installed there runs), with the
 * same arguments and environment, as its own child: under systemd it is
 * then in the unit's cgroup.  The child is an ordinary new agent: it takes
 * the listeners over by the hand-over (handover.h) and only then says
 * READY=1.  When the peer that commits the hand-over (TAKEN) is that
 * child, the old agent, still the unit's main process, first sends
 * MAINPID=<child> to $NOTIFY_SOCKET (NotifyAccess=main accepts it from the
 * main process only, and only then accepts the child's READY=1, which
 * follows the hand-over's RELEASED, sent after MAINPID=), then drains and
 * exits 0 as after any hand-over; it sends no STOPPING=1, as it is no
 * longer the unit's main process.
 *
 * A child that exits before it took the listeners (a broken binary, a
 * start that fails) changes nothing: the old agent is told by a pidfd
 * polled on its loop, reaps it, logs event=upgrade_failed and says so in
 * STATUS=, and goes on serving.  One upgrade at a time: a SIGUSR2 while a
 * child starts is logged and ignored.  Once the child took over, the old
 * agent no longer waits for it: its exit is the service manager's to see
 * (the child is reparented to it when the old agent exits).  A child that
 * has not taken over after UPGRADE_START_TIMEOUT_MS, and has not been
 * handed the sockets yet, is killed and reported the same way.
 *
 * Why SIGUSR2: SIGHUP is the certificate reload (ExecReload=), SIGTERM the
 * stop; SIGUSR2 is what nginx and HAProxy use for the same binary
 * upgrade, so operators and their tooling know it, and systemctl kill -s
 * USR2 --kill-whom=main sends it to the main process only.
 */
#ifndef MF_AGENT_UPGRADE_H
#define MF_AGENT_UPGRADE_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "handover.h"
#include "loop.h"
#include "timer.h"

/* How long a child has to take the listeners over before it is killed
 * (and the upgrade reported failed): the unit's TimeoutStartSec=.  One
 * whose hand-over is under way (it has the sockets) is given more. */
#define UPGRADE_START_TIMEOUT_MS	30000

struct upgrade {
	struct loop *loop;		/* loop 0: signals, the pidfd poll */
	const struct handover_srv *hsrv;	/* loop 0's; NULL: none */
	char path[PATH_MAX];		/* the binary, absolute */
	char *const *argv;		/* borrowed: the agent's own */
	pid_t child;			/* starting; 0: none */
	int pidfd;			/* the child's; -1: none */
	int op;				/* the poll's loop op */
	bool poll_armed;
	struct timer deadline;		/* the child's start, on loop 0 */
	uint32_t timeout_ms;		/* UPGRADE_START_TIMEOUT_MS */
	bool timed_out;			/* the child was killed for it */
	unsigned int started, failed, done;	/* counts, for the logs */
};

/*
 * Resolves the path the agent was started from: @argv[0] when it holds a
 * '/' (made absolute against the current directory), else the binary the
 * kernel ran (/proc/self/exe).  @argv (NULL-terminated, a copy the caller
 * keeps until upgrade_fini()) is what the child gets.  From then on,
 * SIGUSR2 on loop @l (its handle_signals) starts the child, unless one is
 * starting already.  @hs (loop 0's hand-over server, or NULL) tells
 * whether a child that is late has the sockets already.  Returns 0 or
 * -errno.
 */
int upgrade_init(struct upgrade *u, struct loop *l, char *const *argv,
		 const struct handover_srv *hs);

/* handover_on_successor()'s function, @arg the struct upgrade: the
 * hand-over was committed by process @pid; when it is the child, tells
 * the service manager that it is the main process now. */
void upgrade_successor(void *arg, pid_t pid);

/* True once a child of ours took over (the service manager was told). */
static inline bool upgrade_handed_over(const struct upgrade *u)
{
	return u->done > 0;
}

/* Closes the pidfd; the loop must be finished.  Safe on a zeroed struct
 * whose pidfd is -1. */
void upgrade_fini(struct upgrade *u);

#endif /* MF_AGENT_UPGRADE_H */
