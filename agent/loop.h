/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's event loop: one io_uring (SINGLE_ISSUER | DEFER_TASKRUN when
 * the kernel has them), multishot accept on the listeners, one provided
 * buffer ring every recv selects from, and a fixed table of connections.
 *
 * Every submission carries a user_data that packs the operation, an
 * auxiliary byte (a connection side or a listener id), the connection slot
 * and the slot's generation, so a completion finds its connection without a
 * pointer in flight and a completion for a slot that has been reused since is
 * recognised and dropped.  Completions are drained in batches and dispatched
 * by one switch; each operation's handler owns its error handling.
 *
 * All loop state lives in struct loop, so a thread-per-core agent can run one
 * loop per thread later.  Only the thread that ran loop_init() may use it.
 */
#ifndef MF_LOOP_H
#define MF_LOOP_H

#include <liburing.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>

#include "meshforge/abi.h"
#include "pmap.h"
#include "stats.h"

struct admin;
struct certs;
struct conn;
struct policy;
struct reload;

/* What a completion belongs to. */
enum loop_op {
	LOOP_OP_NONE = 0,	/* never submitted: a zeroed user_data */
	LOOP_OP_ACCEPT,		/* multishot accept; aux = enum loop_listener */
	LOOP_OP_ACCEPT_RETRY,	/* pause before re-arming a failed accept */
	LOOP_OP_SIGNAL,		/* read of the signalfd */
	LOOP_OP_CONNECT,	/* connect of a connection's upstream end */
	LOOP_OP_RECV,		/* recv on a connection end; aux = side, plus
				 * LOOP_RECV_OWN_BUF when it reads into the
				 * end's own buffer instead of the ring */
	LOOP_OP_SEND,		/* send on a connection end; aux = side */
	LOOP_OP_SHUTDOWN,	/* shutdown(SHUT_WR) of a connection end; aux = side */
	LOOP_OP_LINK_TIMEOUT,	/* deadline linked to a connect or a setup recv */
	LOOP_OP_CANCEL,		/* cancel of every op on a connection end's fd */
	LOOP_OP_CLOSE,		/* close of a released connection's fd: untracked */
	LOOP_OP_ADMIN,		/* an op of an admin connection (admin.h);
				 * aux = enum admin_op, slot and generation
				 * index the admin table, not the conn table */
};

/* The listeners.  The values index loop.listen_fd and go in user_data. */
enum loop_listener {
	LOOP_LISTEN_OUTBOUND = 0,	/* pod traffic steered by mf_pod */
	LOOP_LISTEN_TUNNEL,		/* mTLS from other agents */
	LOOP_LISTEN_FORWARD,		/* plaintext relay to a fixed address:
					 * tests and benchmarks, no policy */
	LOOP_LISTEN_ADMIN,		/* HTTP admin endpoint, 127.0.0.1 only */
	LOOP_LISTEN_MAX,
};

#define LOOP_RECV_OWN_BUF	0x2

/* user_data layout: op 8 bits | aux 8 bits | slot 24 bits | generation 24. */
#define LOOP_UD_SLOT_BITS	24
#define LOOP_UD_GEN_MASK	0xffffffu
#define LOOP_MAX_CONNS		(1u << LOOP_UD_SLOT_BITS)

static inline uint64_t loop_ud(enum loop_op op, unsigned int aux,
			       uint32_t slot, uint32_t gen)
{
	return (uint64_t)(op & 0xff) | (uint64_t)(aux & 0xff) << 8 |
	       (uint64_t)(slot & (LOOP_MAX_CONNS - 1)) << 16 |
	       (uint64_t)(gen & LOOP_UD_GEN_MASK) << 40;
}

static inline enum loop_op loop_ud_op(uint64_t ud) { return ud & 0xff; }
static inline unsigned int loop_ud_aux(uint64_t ud) { return (ud >> 8) & 0xff; }
static inline uint32_t loop_ud_slot(uint64_t ud)
{
	return (ud >> 16) & (LOOP_MAX_CONNS - 1);
}
static inline uint32_t loop_ud_gen(uint64_t ud) { return ud >> 40; }

/* What the loop is asked to do.  Zero ports mean "no such listener". */
struct loop_config {
	const char *node;		/* this node's name (tunnel identity) */
	/* The outbound and tunnel listeners need a node name, certificates,
	 * and policy: the pinned maps, followed by epoch, or else a fixed
	 * snapshot (tests; the loop takes its own reference). */
	const struct pmap *pmap;
	struct policy *policy;
	struct certs *certs;
	uint32_t listen_addr;		/* network order; INADDR_ANY normally */
	uint16_t outbound_port;
	uint16_t tunnel_port;
	/* LOOP_LISTEN_FORWARD is on when forward_to.sin_family is AF_INET;
	 * forward_port 0 then picks an ephemeral port (loop_listen_port()). */
	uint16_t forward_port;
	struct sockaddr_in forward_to;
	bool handle_signals;		/* SIGINT/SIGTERM stop the loop */
	uint32_t max_conns;		/* 0: default */
	uint32_t nbufs;			/* recv buffers, power of 2; 0: default */
	uint32_t buf_size;		/* bytes each; 0: default */
	uint32_t setup_timeout_ms;	/* connect + handshake + header; 0: default */
	/* The admin endpoint (admin.h) listens on 127.0.0.1:admin_port
	 * when admin_on (admin_port 0 then picks an ephemeral port). */
	bool admin_on;
	uint16_t admin_port;
	uint32_t admin_timeout_ms;	/* whole request deadline; 0: default */
};

/* 16 MiB of ring buffers.  64 KiB recvs halve the loop iterations of 16
 * KiB ones for bulk transfers (measured on the testbed: 200 x 1 MiB echo,
 * 4.1 s -> 2.1 s); a ring buffer is held only while a plaintext chunk waits
 * for its sink, and a connection that finds the ring empty reads into a
 * loop_pbuf_get() buffer instead (conn_end.rbuf), so 256 go a long way. */
#define LOOP_DEFAULT_MAX_CONNS		16384
#define LOOP_DEFAULT_NBUFS		256
#define LOOP_DEFAULT_BUF_SIZE		(64 * 1024)
#define LOOP_DEFAULT_SETUP_TIMEOUT_MS	5000

/* The loop's own counters (the connections' are struct stats). */
struct loop_stats {
	uint64_t stale_cqes;		/* completions for a reused slot */
	uint32_t bufs_out;		/* provided buffers held by the agent now */
	uint32_t bufs_out_max;		/* ... and at most so far */
	uint64_t accepted_by[LOOP_LISTEN_MAX];	/* accepts per listener */
};

struct loop {
	struct io_uring ring;
	bool stopping;			/* leave loop_run() after this batch */

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

	int listen_fd[LOOP_LISTEN_MAX];
	struct __kernel_timespec accept_retry_ts;
	bool accept_armed[LOOP_LISTEN_MAX];	/* multishot accept live */
	bool accept_retry_armed[LOOP_LISTEN_MAX];

	int signal_fd;
	bool signal_armed;			/* read of it in flight */
	struct signalfd_siginfo siginfo;	/* target of the signalfd read */

	/* The connection table: slots, their free list (a stack). */
	struct conn *conns;
	uint32_t *free_slots;
	uint32_t nfree;
	uint32_t max_conns;

	const struct pmap *pmap;
	struct reload *reload;		/* the policy snapshots.  Owned */
	struct certs *certs;

	char node[MF_NAME_MAX];
	struct sockaddr_in forward_to;
	uint32_t setup_timeout_ms;
	uint64_t next_conn_id;		/* per-agent id, the PROXY v2 req id */
	struct loop_stats stats;
	struct stats cstats;		/* the connections' counters */
	struct admin *admin;		/* NULL when the admin endpoint is off.
					 * Owned */
};

/* Provided buffer group id. */
#define LOOP_BGID 1

/* Size of the loop's own chunk buffers (one TLS record of plaintext), and
 * how many spare ones it keeps. */
#define LOOP_PBUF_SIZE		(16 * 1024)
#define LOOP_PBUF_CACHE		256

/*
 * Sets up the ring, buffers, connection table and listeners per @cfg (which
 * is copied; cfg->pmap and cfg->certs stay the caller's and must outlive the
 * loop).  Returns 0, or -errno with everything released.
 */
int loop_init(struct loop *l, const struct loop_config *cfg);

/* Runs until loop_stop() or a signal.  Returns 0 or -errno on a ring
 * failure. */
int loop_run(struct loop *l);

/* Makes loop_run() return after the current batch. */
void loop_stop(struct loop *l);

/* Aborts every connection, closes the listeners and frees everything. */
void loop_fini(struct loop *l);

/* "outbound", "tunnel", "forward", "admin". */
const char *loop_listener_name(enum loop_listener which);

/* The port a listener is bound to (host order), 0 when it is off. */
uint16_t loop_listen_port(const struct loop *l, enum loop_listener which);

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

/* Hands provided buffer @bid back to the kernel. */
void loop_buf_put(struct loop *l, uint16_t bid);

/* A LOOP_PBUF_SIZE buffer the caller owns until loop_pbuf_put(); NULL when
 * out of memory. */
uint8_t *loop_pbuf_get(struct loop *l);
/* Gives @p back (NULL is a no-op). */
void loop_pbuf_put(struct loop *l, uint8_t *p);

/* Makes the close of socket @fd send RST (SO_LINGER {1, 0}). */
void loop_set_rst(int fd);

/* Closes @fd through the ring (untracked), with RST when @rst. */
void loop_close_fd(struct loop *l, int fd, bool rst);

/* The current policy snapshot (reload_current(): borrowed, never waits;
 * NULL when none could be loaded). */
struct policy *loop_policy(struct loop *l);

#endif /* MF_LOOP_H */
