/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workers: the agent as N event loops, one per thread (--threads N).
 *
 * Each loop is a whole struct agent (agent.h) of its own: its io_uring,
 * provided buffers, connection table, tunnel flows, upstream pool, L7
 * engine, rate-limit buckets, circuit-breaker counts and health checks.
 * Its listeners are in SO_REUSEPORT groups with the other loops', so the
 * kernel spreads connections over the loops by their 4-tuple hash, and a
 * connection lives and dies on the loop that accepted it.  Nothing of a
 * connection is ever touched by another thread.
 *
 * What the loops share, and how (docs/agent.md, "One loop per core"):
 *   - policy snapshots: one reloader builds each once and hands every
 *     loop a reference of its own (reload_open_group()); read-only;
 *   - certificates (certs.h): one store behind its mutex, taken once per
 *     handshake, never per byte; TLS contexts reference-counted with
 *     atomics, so a reload on loop 0 is seen by every loop's next
 *     handshake and a context goes when its last session does;
 *   - the pinned maps (read through their fds), and the logs (a line is
 *     one write);
 *   - counters: each loop's own, summed by admin when it renders
 *     (struct ctx_loops).
 * Loop 0 alone runs on the caller's thread and does what is the node's
 * once: signals (SIGTERM stops every loop), the admin endpoint, pod
 * interfaces (podwatch), the XDP firewall's tick and the certificates'
 * watch.
 *
 * With N = 1 this is exactly one agent_init() on the caller's thread, and
 * no SO_REUSEPORT.
 *
 * The hand-over (handover.h), for any N on either side: before any loop
 * starts, the sockets of a running agent are fetched, and each loop
 * adopts its share; once every loop is up, the commit, then each loop
 * arms its accepts on its own thread.  Loop 0 then serves the path for
 * every loop: when a successor takes over, each loop releases its
 * listeners and drains on its own thread, and says so to loop 0.
 * Commands pass between the loops through an eventfd each (struct
 * workers_mbox), as the stop does.
 */
#ifndef MF_WORKERS_H
#define MF_WORKERS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent.h"
#include "ctx.h"

#define WORKERS_MAX	CTX_LOOPS_MAX

struct reload;

/* What one loop asks another (bits of workers_mbox.cmds). */
enum workers_cmd {
	WORKERS_CMD_STOP = 1 << 0,	/* loop_stop() */
	WORKERS_CMD_LISTEN = 1 << 1,	/* the hand-over committed: accept
					 * on the sockets adopted */
	WORKERS_CMD_RELEASE = 1 << 2,	/* a successor took the listeners:
					 * release them, drain */
	WORKERS_CMD_RELEASED = 1 << 3,	/* to loop 0: another loop's
					 * release is over */
};

/* A loop's commands from other threads. */
struct workers_mbox {
	struct workers *w;
	struct loop *loop;
	unsigned int index;		/* the loop's */
	int fd;				/* eventfd; -1: none */
	uint64_t val;			/* target of its read */
	unsigned int cmds;		/* enum workers_cmd bits; atomic */
	bool armed;			/* its read in flight */
	bool released;			/* RELEASE done and told */
};

/* One loop other than 0, on a thread of its own. */
struct worker {
	struct workers *w;
	unsigned int index;
	struct agent agent;
	struct agent_config cfg;	/* loop 0's, ports made concrete */
	pthread_t thread;
	bool thread_up;
	int init_err;			/* agent_init()'s, for the caller */
	int run_err;			/* loop_run()'s */
	struct stats final;		/* its counters when it stopped */
};

struct workers {
	unsigned int n;
	struct agent *agent0;		/* loop 0, the caller's.  Owned */
	struct worker *w;		/* loops 1..n-1 at w[0..n-2].  Owned */
	struct reload *reload[WORKERS_MAX];	/* every loop's end */
	struct ctx_loops loops;
	struct workers_mbox mbox[WORKERS_MAX];	/* by loop (loop 0's with
						 * several only) */
	/* The sockets a predecessor handed over (the loops adopt them). */
	struct handover_in hin;
	/* Loops other than 0 whose release is over (atomic), and how many
	 * of those loop 0 has passed on to the hand-over. */
	unsigned int nreleased;
	unsigned int nreleased_seen;
	bool drop_caps;			/* each thread keeps only the agent's
					 * capabilities once its loop is up */
	/* Start-up: each thread says when its agent_init() returned. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int started;
};

/*
 * The number of online CPUs, at least 1: the default of --threads.
 */
unsigned int workers_default_count(void);

/*
 * Whether this kernel steers a pod's connection to one socket of an
 * SO_REUSEPORT group with bpf_sk_assign() (Linux 6.5: before, the helper
 * refuses such a socket and the program drops the packet).  Several loops
 * need it when the outbound listener is intercepted.
 */
bool workers_reuseport_steering(void);

/*
 * Starts @n loops (1 to WORKERS_MAX) per @cfg: loop 0 on the calling
 * thread, which must then call workers_run(); each other one initialised
 * and run on a thread of its own, with its ports those loop 0 bound (port
 * 0 picks one for them all).  With @drop_caps each thread gives up the
 * capabilities the agent does not keep (caps.h) once its loop is up.
 * Returns 0, or -errno with everything released.
 */
int workers_init(struct workers *w, const struct agent_config *cfg,
		 unsigned int n, bool drop_caps);

/* Runs loop 0 until a signal or loop_stop(); then stops every other
 * loop and waits for them.  Returns 0 or loop 0's -errno. */
int workers_run(struct workers *w);

/* Stops and joins the other loops (when workers_run() did not), tears
 * down loop 0 and the shared reloader.  */
void workers_fini(struct workers *w);

/* The connection counters of every loop, summed into *@out: accepted,
 * relayed, refused, aborted and finished (for the log line at the end;
 * call once workers_run() returned). */
void workers_totals(const struct workers *w, struct stats *out);

/* Loop 0. */
static inline struct agent *workers_agent0(struct workers *w)
{
	return w->agent0;
}

#endif /* MF_WORKERS_H */
