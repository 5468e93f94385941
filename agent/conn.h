/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A proxied connection: two ends (the accepted "down" socket and the
 * connected "up" socket), either of which may speak TLS, and two relay
 * directions, each an explicit state machine.
 *
 * Direction i reads from end i and writes to end 1 - i, so dir[CONN_DOWN]
 * carries client-to-server bytes and dir[CONN_UP] server-to-client bytes.
 * A direction holds at most one chunk of data at a time and asks for the
 * next recv only when that chunk is fully handed to the other end, and for
 * a TLS sink only when its ciphertext queue has drained: that is the
 * backpressure.  A plaintext chunk is sent straight from the ring buffer it
 * was received into (no copy); ciphertext is handed to wolfSSL and its ring
 * buffer returned at once.  A recv'd EOF (or close_notify) travels as shutdown(SHUT_WR)
 * (or close_notify, then shutdown) on the other end; the connection ends
 * cleanly once both directions are DONE.  Any error aborts: both sockets are
 * closed with SO_LINGER {1, 0}, which sends RST.
 *
 * Lifetime: a connection lives in a slot of the loop's table from accept to
 * release.  Every submitted op counts in @inflight; the slot is released
 * (fds closed, TLS sessions, buffers and the policy reference dropped) only
 * when the connection is CLOSING and nothing is in flight, so no completion
 * or kernel write can land in released memory.
 */
#ifndef MF_CONN_H
#define MF_CONN_H

#include <linux/time_types.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "meshforge/abi.h"

/* Plaintext buffer of a direction whose source speaks TLS: one full
 * record's worth, so each tls_read() can return a whole record. */
#define CONN_PBUF_SIZE	LOOP_PBUF_SIZE

struct loop;
struct policy;
struct tls_ctx;
struct tls_sess;

enum conn_side {
	CONN_DOWN = 0,		/* the accepted socket */
	CONN_UP = 1,		/* the socket we connected */
};

/* Which flow the connection follows (and so which setup steps it takes). */
enum conn_kind {
	CONN_KIND_OUTBOUND = 0,	/* pod -> this agent -> mTLS tunnel to a node */
	CONN_KIND_INBOUND,	/* mTLS tunnel from an agent -> local pod */
	CONN_KIND_FORWARD,	/* plaintext to a fixed address (tests) */
};

/* The connection as a whole. */
enum conn_state {
	CONN_STATE_FREE = 0,	/* slot unused, on the free list */
	CONN_STATE_ACCEPTED,	/* accepted, deciding where it goes */
	CONN_STATE_CONNECTING,	/* connect() of the up end in flight */
	CONN_STATE_HANDSHAKE,	/* TLS handshake on the tunnel end in progress */
	CONN_STATE_PROXY_HDR,	/* tunnel server: reading the PROXY v2 header */
	CONN_STATE_RELAY,	/* relaying; each direction has its own state */
	CONN_STATE_CLOSING,	/* done or aborted: waiting for in-flight ops
				 * to complete before the fds are closed */
};

/* One relay direction: reads its source end, writes its sink end. */
enum conn_dir_state {
	CONN_DIR_IDLE = 0,	/* not relaying yet (setup in progress) */
	CONN_DIR_RECV,		/* a recv is in flight on the source */
	CONN_DIR_SEND,		/* holding data for the sink: a send is in
				 * flight, or the sink's TLS queue is full, or
				 * ready to fetch more */
	CONN_DIR_FLUSH,		/* source ended: waiting for the sink's queued
				 * bytes (close_notify included) to go out */
	CONN_DIR_SHUTDOWN,	/* shutdown(SHUT_WR) of the sink in flight */
	CONN_DIR_DONE,		/* EOF delivered to the sink: finished */
};

struct conn_end {
	int fd;			/* -1 when not open */
	struct tls_sess *tls;	/* NULL: plaintext end.  Owned */
	uint8_t *rbuf;		/* loop_pbuf_get() buffer for a recv when the
				 * ring is empty, held until its bytes are
				 * consumed.  Owned */
	bool recv_busy;		/* a recv is in flight */
	bool send_busy;		/* a send is in flight */
	bool wr_shut;		/* shutdown(SHUT_WR) submitted: no more sends */
	bool setup_recv;	/* the in-flight recv is a setup recv (TLS
				 * handshake or PROXY header) */
};

struct conn_dir {
	enum conn_dir_state state;
	int32_t bid;		/* provided buffer holding data[], or -1 */
	uint8_t *data;		/* the chunk being relayed: a provided buffer
				 * or the source's rbuf (plaintext source), or
				 * pbuf (TLS source) */
	uint32_t off;		/* bytes of data[] already handed to the sink */
	uint32_t len;		/* bytes in data[] */
	uint8_t *pbuf;		/* plaintext out of a TLS source, from
				 * loop_pbuf_get(), held only while there is
				 * plaintext to decrypt or send.  Owned */
	uint64_t bytes;		/* plaintext bytes relayed */
};

struct conn {
	enum conn_state state;
	enum conn_kind kind;
	uint32_t slot;
	uint32_t gen;		/* bumped at release: stale completions */
	uint32_t inflight;	/* ops submitted and not yet completed */
	uint64_t id;		/* per-agent connection id (PROXY v2 req id) */
	struct conn_end end[2];
	struct conn_dir dir[2];

	struct policy *policy;	/* the snapshot it started with.  Reference */
	struct sockaddr_in down_peer;	/* who connected to us */
	struct sockaddr_in down_local;	/* where they connected (VIP:port) */
	struct sockaddr_in up_addr;	/* where we connect */
	struct __kernel_timespec deadline;	/* end of setup, CLOCK_MONOTONIC */
	uint32_t hdr_fill;	/* PROXY_HDR: plaintext bytes in dir pbuf */
	uint64_t peer_req_id;	/* inbound: request id from the header */
	uint32_t service_id;	/* the service it reaches, 0 if none yet */
	/* Outbound: chosen endpoint and the client's identity; both point
	 * into @policy, which the connection holds. */
	const struct mf_endpoint *endpoint;
	const char *src_spiffe;
	struct tls_ctx *tls_ctx;	/* borrowed from the loop's certs */
	char peer_spiffe[MF_SPIFFE_MAX];	/* verified TLS peer identity */
};

const char *conn_state_str(enum conn_state s);
const char *conn_dir_state_str(enum conn_dir_state s);
const char *conn_kind_str(enum conn_kind k);

/*
 * Takes a free slot for an accepted socket @fd (ownership of @fd passes to
 * the connection even on failure: then it is closed with RST here).
 * Returns the connection in CONN_STATE_ACCEPTED, or NULL when the table is
 * full.
 */
struct conn *conn_new(struct loop *l, enum conn_kind kind, int fd);

/* The connection a completion's user_data names, or NULL when the slot is
 * free or has been reused since (a stale completion). */
struct conn *conn_from_ud(struct loop *l, uint64_t ud);

/* user_data for an op on @c. */
uint64_t conn_ud(const struct conn *c, int op, unsigned int aux);

/*
 * Ends @c with RST on both sockets, logging @reason (at warn unless the
 * connection is refused on purpose: the caller logs those itself and passes
 * NULL).  Cancels everything in flight; the slot is released once the
 * cancellations complete (conn_reap()).  Idempotent.
 */
void conn_abort(struct loop *l, struct conn *c, const char *reason);

/* Releases @c if it is CLOSING and nothing is in flight.  Called by the
 * dispatcher after every completion and accept. */
void conn_reap(struct loop *l, struct conn *c);

/* Moves @c (both ends open, TLS done) into RELAY and starts both
 * directions.  Bytes already in dir[i] (pbuf, off < len) go out first. */
void conn_start_relay(struct loop *l, struct conn *c);

/* Submits a recv on end @side selecting a provided buffer; when @deadline,
 * it is linked to c->deadline (setup phase).  */
void conn_submit_recv(struct loop *l, struct conn *c, enum conn_side side,
		      bool deadline);

/* Sends whatever ciphertext end @side's TLS session has queued, unless a
 * send is in flight already or the write side is shut. */
void conn_tls_flush(struct loop *l, struct conn *c, enum conn_side side);

/* Completion handlers, called by the dispatcher with the completion's
 * result; @bid is the selected ring buffer or -1, @own_buf says the recv
 * read into the end's rbuf. */
void conn_on_recv(struct loop *l, struct conn *c, enum conn_side side,
		  int res, int bid, bool own_buf);
void conn_on_send(struct loop *l, struct conn *c, enum conn_side side,
		  int res);
void conn_on_shutdown(struct loop *l, struct conn *c, enum conn_side side,
		      int res);

/* "a.b.c.d:port" of @sa into @buf (at least 22 bytes); returns @buf. */
const char *conn_addr_str(const struct sockaddr_in *sa, char *buf);
#define CONN_ADDR_STRLEN 24

#endif /* MF_CONN_H */
