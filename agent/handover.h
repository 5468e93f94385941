/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handover: a new agent takes the listening sockets of the running one,
 * which then drains and exits, so a restart or an upgrade refuses no
 * connection.
 *
 * Every agent serves a unix socket (SOCK_SEQPACKET) in the run dir,
 * mf_handover_path() (lib/paths.h): <run-dir>/agent-<last part of the pin
 * root>.sock, one per pin root as there is one agent per pin root.  A new agent for the
 * same pin root connects to it at start, before it listens:
 *
 *   new -> old   "MFHO 1 GET"
 *   old -> new   "MFHO 1 FDS <n>" and a line "<name> <port>" per listening
 *                socket of every loop (loop 0's first), the n sockets
 *                with SCM_RIGHTS
 *   new -> old   "MFHO 1 TAKEN", once its listeners (the sockets it got,
 *                looked up by name and address through loop_on_adopt())
 *                are set up and its programs are on the pods
 *   old -> new   "MFHO 1 RELEASED", once the last accept of every loop
 *                has completed
 *
 * Several loops (workers.h) hold a socket each per listener, in an
 * SO_REUSEPORT group, each with its own queue of connections: every
 * socket of the group is handed over, and none is closed, as a closed
 * one would reset what it queued.  A new agent's loop k of N takes the
 * sockets of a name whose rank among those of that name is k modulo N
 * (handover_adopt_loop()): with fewer loops than sockets a loop accepts
 * on several; with more, a loop that gets none makes a socket of its own
 * that joins the group once the old agent has released it
 * (loop_listen_start()).
 *
 * Until TAKEN the old agent accepts alone, as ever; a new agent that
 * fails before it (or hangs up) leaves the old one as it was.  At TAKEN
 * the old agent stops accepting without closing the sockets
 * (loop_release()).  Only at RELEASED (or when the old agent hangs up, or
 * after HANDOVER_IO_MS) does the new agent arm its accepts
 * (loop_listen_start()): never two accepts on one socket, as the kernel
 * wakes one waiter per connection and one whose accept is being cancelled
 * would leave that connection queued until the next came.  Connections
 * that come meanwhile wait in the backlog.  The old agent leaves the TC
 * filters to the new agent (kern_keep()) and drains (on_taken): its
 * connections go on to their end,
 * HTTP/1.1 responses say Connection: close, and at the drain deadline the
 * loop stops and what is left is ended.  The listening sockets are the
 * same, so the TC programs' socket lookup (bpf_skc_lookup_tcp, then
 * bpf_sk_assign) finds the new agent's listener without a change.
 *
 * No old agent (nobody at the path, a stale path): the new one listens
 * afresh.  Then it serves the path itself (unlinked first: the old agent
 * never unlinks a path that is no longer its own).  The old agent's side
 * runs on its loop (one op: a poll of the socket or of the new agent's
 * connection); the new agent's side blocks, bounded by HANDOVER_IO_MS,
 * before its loop runs.
 */
#ifndef MF_AGENT_HANDOVER_H
#define MF_AGENT_HANDOVER_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"
#include "loop.h"

/* The sockets of one message: SCM_MAX_FD, what the kernel passes. */
#define HANDOVER_MAX_FDS	253
#define HANDOVER_NAME_MAX	32
/* How long the new agent waits for each answer of the old one. */
#define HANDOVER_IO_MS		2000

/* One listening socket handed over. */
struct handover_sock {
	char name[HANDOVER_NAME_MAX];
	uint16_t port;
	uint32_t addr;		/* bound to (network order) */
	int fd;			/* -1 once adopted (the loop's) */
};

/* The new agent's side. */
struct handover_in {
	int conn;		/* to the old agent; -1: none */
	struct handover_sock socks[HANDOVER_MAX_FDS];
	unsigned int n;
	unsigned int adopted;
	/* The loops adopt from their threads (handover_adopt_loop()). */
	pthread_mutex_t lock;
};

/* The running agent's side. */
struct handover_srv {
	struct loop *loop;		/* loops[0]: the one serving */
	struct loop *loops[CTX_LOOPS_MAX];	/* whose listeners go */
	unsigned int nloops;
	unsigned int pending;		/* loops yet to release, after
					 * TAKEN, loops[0] aside */
	char path[PATH_MAX];
	int lfd;		/* the unix socket; -1: none */
	dev_t dev;		/* its inode: the path is still ours */
	ino_t ino;
	int conn;		/* a new agent connected; -1: none */
	pid_t conn_pid;		/* its process (SO_PEERCRED); 0: unknown */
	uint32_t conn_gen;	/* tells a completion of a past one */
	bool sent;		/* the fds went to it */
	bool taken;		/* it has taken them over */
	bool lpoll_armed, cpoll_armed;
	int op;			/* its loop op */
	/* What the agent does once the fds are taken (drain). */
	void (*on_taken)(void *arg);
	void *arg;
	/* Told first at TAKEN which process took over
	 * (handover_on_successor()); NULL: nothing. */
	void (*on_successor)(void *arg, pid_t pid);
	void *successor_arg;
};

/*
 * Asks the agent serving @path for its listening sockets.  Returns 0 with
 * them in @in (none when nobody serves the path: then in->n is 0 and the
 * agent listens afresh), or -errno when an agent answered and the
 * exchange failed (-EPROTO: it speaks another protocol); @in is then
 * empty.  handover_in_close() ends it either way.
 */
int handover_fetch(struct handover_in *in, const char *path);

/*
 * Loop @index of @n takes a socket handed over under @name bound to
 * @addr:@port (port 0: any) whose rank among those is @index modulo @n:
 * returns its fd (the caller's), -EALREADY when there are such sockets
 * but none is left for this loop, or -ENOENT when there is none.  Any
 * thread.
 */
int handover_adopt_loop(struct handover_in *in, unsigned int index,
			unsigned int n, const char *name, uint32_t addr,
			uint16_t port);

/* loop_on_adopt()'s function for a lone loop, @arg a struct handover_in
 * (handover_adopt_loop() of loop 0 of 1: every socket of @name). */
int handover_adopt(void *arg, const char *name, uint32_t addr, uint16_t port);

/* True when a socket bound to @port (host order) was handed over. */
bool handover_has_port(const struct handover_in *in, uint16_t port);

/* Tells the old agent that its sockets are taken (it stops accepting and
 * drains) and waits, bounded, until it has; closes the sockets handed over
 * that no listener took (this agent does not listen there).  The caller
 * then arms its accepts (loop_listen_start()).  Returns 0 or -errno
 * (logged). */
int handover_commit(struct handover_in *in);

/* Closes what is left of @in.  Idempotent. */
void handover_in_close(struct handover_in *in);

/*
 * Serves @path on loop @loops[0], from its thread: hands the listeners of
 * the @n loops at @loops (1 to CTX_LOOPS_MAX; borrowed, they must outlive
 * @s) to a new agent.  Once it has taken them, releases @loops[0]'s and
 * calls @on_taken(@arg) there, which has each other loop release its own
 * on its thread and then call handover_loop_released() on @loops[0]'s.
 * Returns 0 or -errno (logged: the agent then cannot be restarted without
 * a gap, which is no reason not to run).
 */
int handover_serve(struct handover_srv *s, struct loop *const *loops,
		   unsigned int n, const char *path,
		   void (*on_taken)(void *arg), void *arg);

/* At TAKEN, before anything else (before RELEASED can go), calls
 * @fn(@arg, pid of the process that took over; 0 when unknown) on
 * @s->loop's thread.  Set after handover_serve(), before the loop runs. */
void handover_on_successor(struct handover_srv *s,
			   void (*fn)(void *arg, pid_t pid), void *arg);

/* On @s->loop's thread: another loop's listeners are released (no accept
 * of its own is left).  RELEASED goes once all are. */
void handover_loop_released(struct handover_srv *s);

/* True from TAKEN until RELEASED has gone (or the new agent hung up): a
 * loop may still accept a connection. */
bool handover_releasing(const struct handover_srv *s);

/* Stops serving: the path is unlinked while it is still ours.  Call once
 * the loop is gone.  Safe on a zeroed struct. */
void handover_srv_close(struct handover_srv *s);

#endif /* MF_AGENT_HANDOVER_H */
