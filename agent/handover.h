/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handover: a new agent takes the listening sockets of the running one,
 * which then drains and exits, so a restart or an upgrade refuses no
 * connection.
 *
 * Every agent serves a unix socket (SOCK_SEQPACKET) in the run dir,
 * handover_path(): <run-dir>/agent-<last part of the pin root>.sock, one
 * per pin root as there is one agent per pin root.  A new agent for the
 * same pin root connects to it at start, before it listens:
 *
 *   new -> old   "MFHO 1 GET"
 *   old -> new   "MFHO 1 FDS <n>" and a line "<name> <port>" per listener,
 *                the n listening sockets with SCM_RIGHTS
 *   new -> old   "MFHO 1 TAKEN", once its listeners (the sockets it got,
 *                looked up by name and address through loop_on_adopt())
 *                are set up and its programs are on the pods
 *   old -> new   "MFHO 1 RELEASED", once its last accept has completed
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
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

#define HANDOVER_MAX_FDS	LOOP_LISTENERS_MAX
#define HANDOVER_NAME_MAX	32
/* How long the new agent waits for each answer of the old one. */
#define HANDOVER_IO_MS		2000

/* One listening socket handed over. */
struct handover_sock {
	char name[HANDOVER_NAME_MAX];
	uint16_t port;
	int fd;			/* -1 once adopted (the loop's) */
};

/* The new agent's side. */
struct handover_in {
	int conn;		/* to the old agent; -1: none */
	struct handover_sock socks[HANDOVER_MAX_FDS];
	unsigned int n;
	unsigned int adopted;
};

/* The running agent's side. */
struct handover_srv {
	struct loop *loop;
	char path[PATH_MAX];
	int lfd;		/* the unix socket; -1: none */
	dev_t dev;		/* its inode: the path is still ours */
	ino_t ino;
	int conn;		/* a new agent connected; -1: none */
	uint32_t conn_gen;	/* tells a completion of a past one */
	bool sent;		/* the fds went to it */
	bool taken;		/* it has taken them over */
	bool lpoll_armed, cpoll_armed;
	int op;			/* its loop op */
	/* What the agent does once the fds are taken (drain). */
	void (*on_taken)(void *arg);
	void *arg;
};

/* <run_dir>/agent-<basename of bpf_root>.sock into @buf.  Returns 0 or
 * -ENAMETOOLONG. */
int handover_path(char *buf, size_t n, const char *run_dir,
		  const char *bpf_root);

/*
 * Asks the agent serving @path for its listening sockets.  Returns 0 with
 * them in @in (none when nobody serves the path: then in->n is 0 and the
 * agent listens afresh), or -errno when an agent answered and the
 * exchange failed (-EPROTO: it speaks another protocol); @in is then
 * empty.  handover_in_close() ends it either way.
 */
int handover_fetch(struct handover_in *in, const char *path);

/* loop_on_adopt()'s function for @arg, a struct handover_in: the socket
 * handed over under @name bound to @addr:@port, or -ENOENT. */
int handover_adopt(void *arg, const char *name, uint32_t addr, uint16_t port);

/* Tells the old agent that its sockets are taken (it stops accepting and
 * drains) and waits, bounded, until it has; closes the sockets handed over
 * that no listener took (this agent does not listen there).  The caller
 * then arms its accepts (loop_listen_start()).  Returns 0 or -errno
 * (logged). */
int handover_commit(struct handover_in *in);

/* Closes what is left of @in.  Idempotent. */
void handover_in_close(struct handover_in *in);

/*
 * Serves @path on loop @l: hands the loop's listeners to a new agent, and
 * calls @on_taken(@arg) once it has them (on the loop's thread).  Returns
 * 0 or -errno (logged: the agent then cannot be restarted without a
 * gap, which is no reason not to run).
 */
int handover_serve(struct handover_srv *s, struct loop *l, const char *path,
		   void (*on_taken)(void *arg), void *arg);

/* Stops serving: the path is unlinked while it is still ours.  Call once
 * the loop is gone.  Safe on a zeroed struct. */
void handover_srv_close(struct handover_srv *s);

#endif /* MF_AGENT_HANDOVER_H */
