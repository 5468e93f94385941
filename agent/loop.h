/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's event loop: one io_uring (SINGLE_ISSUER | DEFER_TASKRUN when
 * the kernel has them), one provided buffer ring every recv selects from,
 * multishot accept on the listeners, and a table of completion handlers by
 * operation.
 *
 * The loop knows no connection, flow or page.  A module that submits ops
 * registers a handler for each of its operations (loop_op_add()), listens
 * with an accept handler of its own (loop_listen(), until loop_unlisten())
 * and says how to end its work at teardown (loop_user_add()).  Every
 * submission carries a user_data that packs the operation, an auxiliary
 * byte, a slot and the slot's generation (the module's to define: a
 * connection side; an index into its table), so a completion finds its
 * object without a pointer in flight and one for a slot reused since (a
 * connection's, a listener's) is recognised and dropped.  Completions are
 * drained in batches and dispatched through the table; each operation's
 * handler owns its error handling.
 *
 * All loop state lives in struct loop, so a thread-per-core agent can run one
 * loop per thread later.  Only the thread that ran loop_init() may use it.
 */
#ifndef MF_LOOP_H
#define MF_LOOP_H

#include <liburing.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "stallhist.h"
#include "timer.h"

/* The loop's own operations; the modules' come from loop_op_add(). */
enum loop_op {
	LOOP_OP_NONE = 0,	/* never submitted: a zeroed user_data */
	LOOP_OP_ACCEPT,		/* multishot accept; slot = listener id,
				 * gen = the listener's generation */
	LOOP_OP_ACCEPT_RETRY,	/* pause before re-arming a failed accept;
				 * slot and gen as the accept's */
	LOOP_OP_SIGNAL,		/* read of the signalfd */
	LOOP_OP_CLOSE,		/* close of a released fd: untracked */
	LOOP_OP_TICK,		/* the once-a-second timer of loop_user.tick */
	LOOP_OP_FILES,		/* a registered descriptor set or cleared:
				 * untracked */
	LOOP_OP_FIRST_FREE,	/* the first one loop_op_add() hands out */
};

#define LOOP_OPS_MAX		32
#define LOOP_LISTENERS_MAX	32
#define LOOP_USERS_MAX		16

/* user_data layout: op 8 bits | aux 8 bits | slot 24 bits | generation 24. */
#define LOOP_UD_SLOT_BITS	24
#define LOOP_UD_GEN_MASK	0xffffffu
#define LOOP_MAX_SLOTS		(1u << LOOP_UD_SLOT_BITS)

static inline uint64_t loop_ud(unsigned int op, unsigned int aux,
			       uint32_t slot, uint32_t gen)
{
	return (uint64_t)(op & 0xff) | (uint64_t)(aux & 0xff) << 8 |
	       (uint64_t)(slot & (LOOP_MAX_SLOTS - 1)) << 16 |
	       (uint64_t)(gen & LOOP_UD_GEN_MASK) << 40;
}

static inline unsigned int loop_ud_op(uint64_t ud) { return ud & 0xff; }
static inline unsigned int loop_ud_aux(uint64_t ud) { return (ud >> 8) & 0xff; }
static inline uint32_t loop_ud_slot(uint64_t ud)
{
	return (ud >> 16) & (LOOP_MAX_SLOTS - 1);
}
static inline uint32_t loop_ud_gen(uint64_t ud) { return ud >> 40; }

/* The provided buffer a completion selected, or -1. */
static inline int loop_cqe_bid(const struct io_uring_cqe *cqe)
{
	return cqe->flags & IORING_CQE_F_BUFFER ?
	       (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT) : -1;
}

struct loop;

/* A completion handler: @arg as registered.  A provided buffer the
 * completion selected (loop_cqe_bid()) is the handler's to give back. */
typedef void loop_cqe_fn(void *arg, const struct io_uring_cqe *cqe);

/* A listener's accept handler: @fd, the accepted socket, is the
 * handler's. */
typedef void loop_accept_fn(void *arg, int fd);

/* What a module that submits ops does when the loop is torn down. */
struct loop_user {
	void *arg;
	/* End everything (with RST): called once, ring still up. */
	void (*abort_all)(void *arg);
	/* True while one of its ops may still complete. */
	bool (*busy)(void *arg);
	/* Its ops did not all complete in time: release what is left
	 * anyway, ring still up.  NULL: nothing to do before the ring goes. */
	void (*forget)(void *arg);
	/* Called about once a second while the loop runs (housekeeping:
	 * idle pooled connections).  NULL: none. */
	void (*tick)(void *arg);
};

struct loop_handler {
	loop_cqe_fn *fn;	/* NULL: no such op */
	void *arg;
	const char *name;
};

/* A listener slot.  Slots are reused once loop_unlisten() has emptied
 * them; @gen tells a completion for the old listener from one for the
 * new.  One loop_listen() may fill several slots: the sockets of an
 * SO_REUSEPORT group a predecessor of more loops handed over, all of them
 * this loop's (@lead: the id loop_listen() returned, which
 * loop_unlisten() removes with them). */
struct loop_listener {
	bool live;		/* holds a listener; false: free slot */
	uint32_t gen;		/* bumped by loop_unlisten(); in the ops'
				 * user_data (LOOP_UD_GEN_MASK bits) */
	const char *name;	/* "outbound", ...: logs and metrics */
	int fd;			/* -1: held, to join its group's sockets
				 * (bound at loop_listen_start()) */
	unsigned int lead;
	uint32_t addr;		/* as loop_listen() was asked */
	uint16_t port;
	bool v6;		/* loop_listen6(): [::]:port, IPv6 only */
	loop_accept_fn *accept;
	void *arg;
	bool armed;		/* multishot accept live */
	bool retry_armed;	/* pause before re-arming it */
	bool released;		/* loop_release(): no accept again */
	bool held;		/* adopted: no accept until
				 * loop_listen_start() */
	uint64_t accepted;	/* accepts so far */
};

struct loop_config {
	bool handle_signals;		/* SIGINT/SIGTERM stop the loop,
					 * SIGHUP calls its reload hook,
					 * SIGUSR2 its upgrade hook */
	bool reuseport;			/* listeners join SO_REUSEPORT groups
					 * (one loop of several) */
	uint32_t nbufs;			/* recv buffers, power of 2; 0: default */
	uint32_t buf_size;		/* bytes each; 0: default */
};

/* 16 MiB of ring buffers.  64 KiB recvs halve the loop iterations of 16
 * KiB ones for bulk transfers (measured on the testbed: 200 x 1 MiB echo,
 * 4.1 s -> 2.1 s); a ring buffer is held only while a plaintext chunk waits
 * for its sink, and a connection that finds the ring empty reads into a
 * loop_pbuf_get() buffer instead (conn_end.rbuf), so 256 go a long way. */
#define LOOP_DEFAULT_NBUFS		256
#define LOOP_DEFAULT_BUF_SIZE		(64 * 1024)

/* The loop's own counters (the connections' are struct stats). */
struct loop_stats {
	uint64_t stale_cqes;		/* completions for a reused slot or
					 * a removed listener */
	uint32_t bufs_out;		/* provided buffers held by the agent now */
	uint32_t bufs_out_max;		/* ... and at most so far */
	/* The longest time one iteration spent on its completions: how
	 * long, at worst, every other connection waited meanwhile. */
	uint64_t stall_max_ns;
	/* Each iteration's work, from io_uring_enter's return to the next
	 * wait (the wait itself excluded): the same time as stall_max_ns,
	 * every turn counted.  And the part of it spent on the completions
	 * of the batch alone, for turns that had any. */
	struct stallhist turn;
	struct stallhist batch;
};

struct loop {
	struct io_uring ring;
	bool stopping;			/* leave loop_run() after this batch,
					 * for good: accepts closed, nothing
					 * re-armed */
	bool pausing;			/* leave loop_run() after this batch,
					 * to run it again (loop_pause()) */

	/* Provided buffer ring (group LOOP_BGID): the ring entries and the
	 * buffers are ours, registered with the kernel. */
	struct io_uring_buf_ring *br;
	size_t br_bytes;
	uint8_t *bufs;
	uint32_t nbufs;
	uint32_t buf_size;
	int br_mask;
	/* Spare LOOP_PBUF_SIZE buffers (decrypted chunks, recvs when the ring
	 * is empty), kept for reuse so connections hold one only while they
	 * use it: an idle connection holds none. */
	uint8_t **pbuf_cache;
	uint32_t pbuf_cached;

	struct loop_handler ops[LOOP_OPS_MAX];	/* by enum loop_op and
						 * loop_op_add() */
	unsigned int nops;
	struct loop_listener listeners[LOOP_LISTENERS_MAX];	/* by id */
	unsigned int nlisteners;	/* slots ever used: live ones and
					 * free ones are below it */
	/* Taken by the loop's thread where it changes a slot's live, fd,
	 * name or released, and by another thread that reads them
	 * (loop_listeners_dup()): the one exception to "one thread". */
	pthread_mutex_t lsn_lock;
	/* Accepts and accept retries of removed listeners that have not
	 * completed yet: teardown waits for them like for any op. */
	unsigned int unlisten_pending;
	struct loop_user users[LOOP_USERS_MAX];
	unsigned int nusers;
	struct __kernel_timespec accept_retry_ts;
	struct __kernel_timespec tick_ts;
	bool tick_armed;			/* the tick timer is in flight */
	/* Registered descriptors (loop_fd_fix()): slots in the table, 0:
	 * none; and the value of each IORING_OP_FILES_UPDATE not yet
	 * submitted, by the index of its sqe (the kernel reads it at
	 * submission).  Owned */
	unsigned int nfixed;
	int *fixed_vals;
	bool cancel_now;	/* loop_cancel_now() works (Linux 6.0) */
	/* The modules' deadlines (loop_timer_arm()): the loop waits for
	 * completions no longer than until the earliest. */
	struct timer_heap timers;

	bool reuseport;			/* as loop_config's */
	/* The ring runs completion work deferred (DEFER_TASKRUN, 6.1), so
	 * recvs take IORING_RECVSEND_POLL_FIRST (5.19) too. */
	bool poll_first;
	int signal_fd;
	bool signal_armed;			/* read of it in flight */
	/* Where loop_listen() looks for a listening socket before it makes
	 * one (loop_on_adopt()); NULL: nowhere. */
	int (*adopt)(void *arg, const char *name, uint32_t addr,
		     uint16_t port);
	void *adopt_arg;
	/* Called once a released listener's last accept has completed
	 * (loop_on_released()); NULL: nothing. */
	void (*released)(void *arg);
	void *released_arg;
	/* What SIGHUP does (loop_on_reload()); NULL: nothing. */
	void (*reload)(void *arg);
	void *reload_arg;
	/* What SIGUSR2 does (loop_on_upgrade()); NULL: nothing. */
	void (*upgrade)(void *arg);
	void *upgrade_arg;
	struct signalfd_siginfo siginfo;	/* target of the signalfd read */

	struct loop_stats stats;
};

/* Arms @t (timer.h) for @when (CLOCK_MONOTONIC ns) on loop @l, whose
 * thread runs it; returns 0 or -ENOMEM.  loop_timer_cancel() disarms it:
 * an owner does before it goes. */
static inline int loop_timer_arm(struct loop *l, struct timer *t,
				 uint64_t when)
{
	return timer_arm(&l->timers, t, when);
}

static inline void loop_timer_cancel(struct loop *l, struct timer *t)
{
	timer_cancel(&l->timers, t);
}

/* Provided buffer group id. */
#define LOOP_BGID 1

/*
 * Size of the loop's own chunk buffers, and how many spare ones it keeps
 * (4 MiB a loop).  A chunk takes four full TLS records of plaintext, each
 * opened straight into it: the record layer does so only where the
 * buffer has room for the record's content type byte as well
 * (tls_read_record()), hence the 64 bytes.  Against one record a chunk,
 * the decrypting agent of a bulk transfer sends a quarter as often and
 * copies and wipes nothing: 17% more download throughput on the testbed
 * (docs/benchmarks.md).
 */
#define LOOP_PBUF_SIZE		(64 * 1024 + 64)
#define LOOP_PBUF_CACHE		64

/*
 * Sets up the ring, the buffers and, when asked, the signalfd per @cfg.
 * Returns 0, or -errno with everything released.
 */
int loop_init(struct loop *l, const struct loop_config *cfg);

/*
 * Adds @fn(@arg, cqe) to the handler table under a new operation, named
 * @name (a static string) in logs.  Returns the operation, for
 * loop_ud(), or -ENOSPC.
 */
int loop_op_add(struct loop *l, const char *name, loop_cqe_fn *fn, void *arg);

/*
 * Listens on @addr:@port (network order address, host order port; port 0
 * picks an ephemeral one) and arms a multishot accept whose sockets go to
 * @fn(@arg, fd).  @name names the listener in logs and metrics; it is kept,
 * not copied, and must stay valid until the listener is removed.  Returns
 * the listener id (the lowest free one: ids of removed listeners are
 * reused), or -errno (logged).
 */
int loop_listen(struct loop *l, const char *name, uint32_t addr,
		uint16_t port, loop_accept_fn *fn, void *arg);

/* loop_listen() on [::]:@port, IPv6 only; the adopt hook below is asked
 * for @name with address 0. */
int loop_listen6(struct loop *l, const char *name, uint16_t port,
		 loop_accept_fn *fn, void *arg);

/*
 * Removes listener @id while the loop runs: its accept is cancelled and
 * its socket shut down and closed before this returns, so the port is free
 * for a new bind at once and a connect to it is refused (connections still
 * in its backlog, not yet accepted, are reset).  Sockets it accepted before
 * are the handler's as ever; none is handed to @fn after this returns (one
 * the kernel accepted meanwhile is closed with RST), so @arg need not
 * outlive the call.  The id may be reused by the next loop_listen().  May
 * be called from any completion handler, the listener's own included.
 * Returns 0, or -ENOENT when @id is no listener.
 */
int loop_unlisten(struct loop *l, int id);

/*
 * Stops accepting on listener @id without touching its socket, which
 * another process shares (handover.h: the fd was handed over, and the
 * successor accepts on it): its accept is cancelled, sockets it accepted
 * until the cancel lands still go to the handler, and then the fd is
 * closed and the id freed.  No shutdown(): that would end the listening
 * socket for the successor too.  Returns 0, or -ENOENT when @id is no
 * listener (or one released already).
 */
int loop_release(struct loop *l, int id);

/*
 * loop_listen() asks @fn(@arg, name, addr, port) first for a listening
 * socket of that name bound to that address (port 0: any): an fd, which
 * the loop then owns, or -ENOENT to make one as usual.  It asks again
 * while it gets fds: each one more slot of the same listener (a group of
 * SO_REUSEPORT sockets a predecessor of more loops held).  -EALREADY
 * means the sockets handed over under that name are other loops' of this
 * process: this loop makes a socket of its own that joins their group,
 * but only at loop_listen_start() (before, a connection the kernel put
 * in its queue would be lost if this process failed; the adopted
 * socket, whose options are the predecessor's, is made to take
 * SO_REUSEPORT with a reuseport loop).  A socket so adopted (or to be
 * made) is held: its accept waits for loop_listen_start(), because the
 * process it came from may still accept on it (handover.h).
 */
static inline void loop_on_adopt(struct loop *l,
				 int (*fn)(void *arg, const char *name,
					   uint32_t addr, uint16_t port),
				 void *arg)
{
	l->adopt = fn;
	l->adopt_arg = arg;
}

/* Arms the accepts of the listeners loop_listen() adopted, and makes the
 * sockets that join them (a failure is logged: the others accept). */
void loop_listen_start(struct loop *l);

/* A listener as another thread sees it (loop_listeners_dup()). */
struct loop_listener_dup {
	char name[32];
	uint16_t port;		/* host order */
	int fd;			/* a dup of the listener's: the caller's */
};

/*
 * Copies into @out (room for @max) the listeners of @l that accept or
 * will (removed and released ones, and those not bound yet, aside), each
 * fd duplicated so that the loop may close its own meanwhile.  The one
 * function of the loop that any thread may call.  Returns how many, or
 * -E2BIG (more than @max) or -errno, with nothing left open.
 */
int loop_listeners_dup(struct loop *l, struct loop_listener_dup *out,
		       unsigned int max);

/* @fn(@arg) is called, on the loop's thread, each time a released
 * listener's accept has completed for the last time: no socket reaches
 * this loop through it from then on. */
static inline void loop_on_released(struct loop *l, void (*fn)(void *arg),
				    void *arg)
{
	l->released = fn;
	l->released_arg = arg;
}

/* True while a released listener's accept may still complete. */
bool loop_releasing(const struct loop *l);

/* Registers what @u->arg's module does at teardown (copied).  Returns 0 or
 * -ENOSPC. */
int loop_user_add(struct loop *l, const struct loop_user *u);

/* SIGHUP (with handle_signals) calls @fn(@arg) on the loop's thread. */
static inline void loop_on_reload(struct loop *l, void (*fn)(void *arg),
				  void *arg)
{
	l->reload = fn;
	l->reload_arg = arg;
}

/* SIGUSR2 (with handle_signals) calls @fn(@arg) on the loop's thread
 * (upgrade.h). */
static inline void loop_on_upgrade(struct loop *l, void (*fn)(void *arg),
				   void *arg)
{
	l->upgrade = fn;
	l->upgrade_arg = arg;
}

/* Runs until loop_stop() or a signal.  Returns 0 or -errno on a ring
 * failure. */
int loop_run(struct loop *l);

/* One iteration of loop_run(): submits, waits for a completion or the
 * earliest timer, handles what completed and runs the timers due, and
 * keeps stats.stall_max_ns.  For a caller that times or bounds
 * iterations itself.  Returns 0 or -errno on a ring failure. */
int loop_turn(struct loop *l);

/* Makes loop_run() return after the current batch, for good: sockets
 * accepted from then on are closed and nothing is armed again. */
void loop_stop(struct loop *l);

/* Makes loop_run() return after the current batch and changes nothing
 * else: a caller that runs the loop in slices (tests) runs it again. */
void loop_pause(struct loop *l);

/* Ends every user's work (loop_user), waits, bounded, for their ops,
 * closes the listeners and frees everything.  The users' own memory stays
 * theirs to free afterwards, when the kernel can no longer write into it. */
void loop_fini(struct loop *l);

/* The port listener @name is bound to (host order), 0 when there is no
 * such listener (removed ones are none). */
uint16_t loop_listen_port(const struct loop *l, const char *name);

/* True when every listener, removed ones aside, has its accept armed (or
 * a retry of it pending). */
bool loop_listening(const struct loop *l);

/* The socket of the live listener named @name ("outbound", ...), or -1
 * (none, or one held that binds at loop_listen_start()). */
int loop_listener_fd(const struct loop *l, const char *name);

/*
 * An SQE, submitting what is queued first when the SQ is full.  @need is
 * how many SQEs the caller is about to take in a row (2 for a linked pair),
 * so a link never straddles a submit.  Never NULL.
 */
struct io_uring_sqe *loop_sqe(struct loop *l, unsigned int need);

/* The memory of provided buffer @bid. */
static inline uint8_t *loop_buf(const struct loop *l, uint16_t bid)
{
	return l->bufs + (size_t)bid * l->buf_size;
}

/* Hands provided buffer @bid back to the kernel, its first @used bytes
 * wiped first: a buffer that held a connection's plaintext goes to any
 * connection's next recv, and no byte of one connection may outlive its
 * use (0 for ciphertext, or when nothing was received). */
void loop_buf_put(struct loop *l, uint16_t bid, size_t used);

/* A LOOP_PBUF_SIZE buffer the caller owns until loop_pbuf_put(); NULL when
 * out of memory. */
uint8_t *loop_pbuf_get(struct loop *l);
/* Gives @p back (NULL is a no-op), its first @used bytes wiped: these
 * buffers carry plaintext, and go on to other connections or back to the
 * heap.  @used is how far data may have reached (LOOP_PBUF_SIZE when the
 * caller cannot tell); not the whole buffer each time, as most uses fill
 * a few hundred bytes of its 64 KiB. */
void loop_pbuf_put(struct loop *l, uint8_t *p, size_t used);

/* Makes the close of socket @fd send RST (SO_LINGER {1, 0}). */
void loop_set_rst(int fd);

/* Closes @fd through the ring (untracked), with RST when @rst. */
void loop_close_fd(struct loop *l, int fd, bool rst);

/*
 * Registered descriptors.  The ring's file table mirrors fd numbers: slot
 * @fd holds socket @fd, so an op on it takes IOSQE_FIXED_FILE and the
 * same number, and the kernel looks up and references no file per op.
 * loop_fd_fix() registers @fd (true), or says it cannot (fd beyond the
 * table, or no table): the ops then use @fd as is.  A registered fd is
 * closed with loop_close_fixed(), which clears its slot first: the table
 * holds a reference that would keep the socket open.
 */
bool loop_fd_fix(struct loop *l, int fd);
void loop_close_fixed(struct loop *l, int fd, bool rst);

/* Cancels the op of user_data @ud now, not at the next submission: 0 when
 * it is (its -ECANCELED completion is then on the way), -ENOENT when it
 * had completed already, or another -errno. */
int loop_cancel_now(struct loop *l, uint64_t ud);

#endif /* MF_LOOP_H */
