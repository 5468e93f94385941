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
 * Setup: each listener's connections follow a flow (struct conn_flow_ops)
 * that another module registers with conn_listen(): conn.c accepts, runs
 * connects, TLS handshakes and setup recvs under the setup deadline, and
 * calls the flow's steps ("accepted": decide where it goes; "connected";
 * "handshake_done"; "setup_recv"), which call back into conn.c to connect,
 * handshake, relay or refuse.  conn.c knows no flow by name.  Several
 * listeners may share a flow, and a listener may go while the loop runs
 * (conn_unlisten()): the connections it accepted run on to their end, and
 * the flow they follow stays registered for the table's life.
 *
 * L7: a flow may put a connection's relay through its own code (its
 * "input" step; tunnel.c does for HTTP services).  Then what a direction
 * reads goes to the flow rather than to the other end; the flow writes
 * what each end is to get with conn_write() (queued in the end's @out, and
 * sent, or handed to TLS, by conn.c), may hold a direction's input while
 * it waits for the other (conn_pause_input(), conn_resume_input()), and
 * ends the connection after a reply of its own (conn_end_after_reply()).
 * The L4 relay never goes through that code: a plain connection's bytes
 * move as they always did.
 *
 * Lifetime: a connection lives in a slot of its table from accept to
 * release.  Every submitted op counts in @inflight; the slot is released
 * (fds closed, TLS sessions and buffers freed, the flow's "release" step
 * run) only when the connection is CLOSING and nothing is in flight, so no
 * completion or kernel write can land in released memory.
 */
#ifndef MF_CONN_H
#define MF_CONN_H

#include <linux/time_types.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bufq.h"
#include "log.h"
#include "loop.h"
#include "meshforge/abi.h"
#include "stats.h"

/* Plaintext buffer of a direction whose source speaks TLS: one full
 * record's worth, so each tls_read() can return a whole record. */
#define CONN_PBUF_SIZE	LOOP_PBUF_SIZE

/* An op's aux byte: the side (bit 0); for a recv, CONN_RECV_OWN_BUF when it
 * reads into the end's own buffer instead of the ring; and the end's epoch
 * (bits 2..7). */
#define CONN_RECV_OWN_BUF	0x2
#define CONN_AUX_EPOCH_SHIFT	2
#define CONN_EPOCH_MASK		0x3f

#define CONN_DEFAULT_MAX_CONNS		16384
#define CONN_DEFAULT_SETUP_TIMEOUT_MS	5000
/* TLS handshakes of down ends at once: each holds a session of ~80 KB, so
 * 1024 bound them near 80 MB, and a node's peers rarely need more than a
 * few at a time. */
#define CONN_DEFAULT_MAX_HANDSHAKES	1024
/* Lines of refusals and setup failures a second. */
#define CONN_REFUSE_LOG_BURST		20
/* Peer addresses counted at once (a power of 2), and how far a lookup
 * goes; one that finds no room is not counted. */
#define CONN_SOURCE_SLOTS		8192
#define CONN_SOURCE_PROBE		16
/* TCP keepalive of every socket: idle, then probes every interval, and
 * the connection is dead after that many unanswered (2 min in all). */
#define CONN_KEEPALIVE_IDLE_S		60
#define CONN_KEEPALIVE_INTVL_S		10
#define CONN_KEEPALIVE_CNT		6
/* Distinct flows (ops and arg) a table registers in its life. */
#define CONN_FLOWS_MAX			8

struct conn;
struct conn_table;
struct policy;
struct mf_endpoint;
struct wmstats_series;
struct tls_ctx;
struct tls_sess;

enum conn_side {
	CONN_DOWN = 0,		/* the accepted socket */
	CONN_UP = 1,		/* the socket we connected */
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

/* The ops a connection submits; each has its loop operation (conn_table.op)
 * and handler. */
enum conn_op {
	CONN_OP_CONNECT = 0,	/* connect of the up end */
	CONN_OP_RECV,		/* aux = side | CONN_RECV_OWN_BUF */
	CONN_OP_SEND,		/* aux = side */
	CONN_OP_SHUTDOWN,	/* shutdown(SHUT_WR) of an end; aux = side */
	CONN_OP_LINK_TIMEOUT,	/* deadline linked to a connect or setup recv */
	CONN_OP_CANCEL,		/* cancel of every op on an end's fd */
	CONN_OP_POLL,		/* the down end's first byte, awaited */
	CONN_OP_MAX,
};

/*
 * How one kind of connection is set up before it relays: the steps a flow
 * module registers (conn_listen()), called with the @arg it registered.
 * Each step either moves the connection on (conn_connect(),
 * conn_handshake_start(), conn_start_relay(), conn_submit_recv()) or ends
 * it (conn_abort()).
 */
struct conn_flow_ops {
	const char *name;	/* "outbound", ...: the kind in logs */
	/* Accepted; addresses and setup deadline known: decide where it
	 * goes. */
	void (*accepted)(void *arg, struct conn *c);
	/* The up end's connect succeeded. */
	void (*connected)(void *arg, struct conn *c);
	/* It failed, for @reason: true when the flow aimed it elsewhere and
	 * called conn_reconnect(); false (or NULL): the connection is
	 * aborted. */
	bool (*connect_failed)(void *arg, struct conn *c, const char *reason);
	/* The handshake of conn_handshake_start() ended: @failed is NULL,
	 * or why it failed (the flow resets the connection).  NULL for a
	 * flow without TLS. */
	void (*handshake_done)(void *arg, struct conn *c, const char *failed);
	/* The first byte of conn_await_first_byte() is there to read (or
	 * the peer closed, which the next recv tells): the flow sets the
	 * down end up now (its TLS session, then the handshake). */
	void (*first_byte)(void *arg, struct conn *c);
	/* Ciphertext was fed to a TLS end in a setup state after the
	 * handshake (a header to read).  NULL: nothing to do then. */
	void (*setup_recv)(void *arg, struct conn *c);
	/* The connection is released: drop what the flow holds for it (its
	 * policy reference).  NULL: nothing. */
	void (*release)(void *arg, struct conn *c);

	/* L4 connections with c->tap set: each chunk the relay moves from
	 * end @side, shown once before it goes to the other end, for a
	 * flow that watches the bytes and never changes them. */
	void (*tap)(void *arg, struct conn *c, enum conn_side side,
		    const uint8_t *p, size_t n);

	/* L7 connections only (c->l7 set by the flow before the relay).
	 * Relayed bytes read from end @side: returns how many it took (all
	 * unless it paused the direction), or -errno once it has ended the
	 * connection itself (conn_abort()). */
	ssize_t (*input)(void *arg, struct conn *c, enum conn_side side,
			 const uint8_t *p, size_t n);
	/* End @side's peer ended its stream: 0 passes the end on to the
	 * other end once what was written to it has gone out, 1 means the
	 * flow took care of it, -errno that it ended the connection. */
	int (*input_eof)(void *arg, struct conn *c, enum conn_side side);
	/* The deadline of conn_input_deadline() passed with no byte from the
	 * down end. */
	void (*input_timeout)(void *arg, struct conn *c);
	/* The connection is released and its up end, which the flow said may
	 * outlive it (conn_up_keep_at_end()), is idle: the flow may take it
	 * (conn_up_park()); what it leaves is closed.  NULL: closed. */
	void (*release_up)(void *arg, struct conn *c);
	/* The up end conn_up_open() asked for could not be had: connect,
	 * handshake or its deadline failed with @reason.  The connection
	 * relays on without an up end. */
	void (*upstream_failed)(void *arg, struct conn *c, const char *reason);
	/* The agent drains (handover.h): end @c now if it owes nobody
	 * anything (an HTTP connection between requests), cleanly.  NULL:
	 * it runs on to its end or the drain deadline. */
	void (*drain)(void *arg, struct conn *c);
};

struct conn_flow {
	const struct conn_flow_ops *ops;
	void *arg;
	struct conn_table *table;
};

struct conn_end {
	int fd;			/* -1 when not open */
	bool fixed;		/* registered in the loop's file table
				 * (loop_fd_fix()): recvs and sends take
				 * IOSQE_FIXED_FILE */
	struct tls_sess *tls;	/* NULL: plaintext end.  Owned */
	uint8_t *rbuf;		/* loop_pbuf_get() buffer for a recv when the
				 * ring is empty, held until its bytes are
				 * consumed.  Owned */
	bool recv_busy;		/* a recv is in flight */
	bool drained;		/* the last recv left the socket empty: the
				 * next one waits for data before it reads
				 * (IORING_RECVSEND_POLL_FIRST) rather than
				 * first trying a read that finds nothing */
	bool send_busy;		/* a send is in flight */
	bool wr_shut;		/* shutdown(SHUT_WR) submitted: no more sends */
	int shut_res;		/* that shutdown's result, 0 or -errno, for
				 * conn_on_shutdown() */
	bool setup_recv;	/* the in-flight recv has a deadline:
				 * @deadline, linked (setup), or the L7
				 * input deadline (@input_recv) */
	bool input_recv;	/* ... the L7 input deadline, kept by
				 * the connection's input_timer */
	uint64_t recv_ud;	/* the in-flight recv's user_data */
	uint8_t epoch;		/* bumped each time an L7 connection opens a
				 * new up end; in every op's aux byte */
	uint32_t inflight;	/* ops of this end not yet completed */
	struct __kernel_timespec deadline;	/* of its linked ops
						 * (setup).
						 * CLOCK_MONOTONIC */
	bool paused;		/* L7: the flow holds this end's input */
	bool watch;		/* L7: a kept up end between exchanges, read
				 * only to see it close (conn_up_watch()) */
	bool notify_sent;	/* L7: close_notify queued on this end */
	bool opening;		/* L7: an up end connecting and shaking hands
				 * while the connection relays */
	bool cancelled;		/* retired: its ops were cancelled */
	uint64_t tag;		/* an up end's mark from its flow (c->up_tag
				 * when it opened), handed to the table's
				 * up_closed when it closes; 0: none */
	struct bufq_out out;	/* L7: plaintext the flow wrote for this end,
				 * not yet sent (or handed to TLS).  Owned */
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
	uint32_t pbuf_used;	/* how far into pbuf plaintext has reached
				 * (tls_read() writes none past what it
				 * returns): wiped when it goes back */
	uint64_t bytes;		/* plaintext bytes relayed */
	bool tapped;		/* the chunk was shown to the flow's tap */
};

struct conn {
	enum conn_state state;
	const struct conn_flow *flow;	/* its listener's; the table's, so
					 * it outlives the listener */
	uint32_t slot;
	uint32_t gen;		/* bumped at release: stale completions */
	uint32_t inflight;	/* ops submitted and not yet completed */
	uint64_t id;		/* per-agent connection id (PROXY v2 req id) */
	struct conn_end end[2];
	struct conn_dir dir[2];

	struct policy *policy;	/* the snapshot it started with.  Reference */
	/* Addresses are IPv4 but for a connection the pods' TC program
	 * steered to the IPv6 outbound listener (a MeshPassthrough Domain
	 * match over IPv6): its sin_family (sin6_family, at the same place)
	 * says AF_INET6, and the *6 views hold them.  Copy an address
	 * through its *6 view, which covers both. */
	union {
		struct sockaddr_in down_peer;	/* who connected to us */
		struct sockaddr_in6 down_peer6;
	};
	union {
		struct sockaddr_in down_local;	/* where they connected
						 * (VIP:port) */
		struct sockaddr_in6 down_local6;
	};
	union {
		struct sockaddr_in up_addr;	/* where we connect */
		struct sockaddr_in6 up_addr6;
	};
	uint32_t hdr_fill;	/* PROXY_HDR: plaintext bytes in dir pbuf */
	uint64_t peer_req_id;	/* inbound: request id from the header */
	bool ack_owed;		/* inbound: the header asked for PP2_ACK
				 * once the endpoint is connected */
	bool hs_held;		/* counts in the table's handshakes */
	bool src_held;		/* counts in its peer's (t->sources) */
	struct __kernel_timespec first_byte_deadline;	/* of its
						 * CONN_OP_POLL */
	uint32_t service_id;	/* the service it reaches, 0 if none yet */
	bool passthrough;	/* outbound: to a destination outside the
				 * mesh, for a MeshPassthrough Domain match
				 * (passthru.h): no service, no tunnel */
	uint32_t pt_src4;	/* ... over IPv6: the IPv4 address
				 * (network order) of the pod the kernel
				 * noted for it (pt6src.h), 0: none */
	uint32_t pt_fill;	/* ... the client's first bytes read so far
				 * into end[CONN_DOWN].rbuf, relayed first */
	uint8_t *pt_buf;	/* ... or into this, PASSTHRU_H2_ROOM bytes,
				 * once an HTTP/2 request outgrew rbuf;
				 * freed once relayed.  Owned */
	int32_t traffic_route;	/* outbound: the TrafficRoute in force for
				 * it (router.h), -1: none */
	int32_t tcp_route;	/* outbound: its MeshTCPRoute record, -1:
				 * none */
	void *routes;		/* outbound L7: its MeshHTTPRoute rules
				 * (hroute.h), NULL: none.  The flow's */
	void *limit;		/* outbound L7: its HTTP rate limit
				 * (ratelimit.h), NULL: none.  The
				 * flow's */
	void *resil;		/* outbound: its timeouts, retries and
				 * faults (resil.h), NULL: none.  The
				 * flow's */
	void *alog;		/* outbound: its MeshAccessLog backends
				 * (meshlog.h), NULL: none.  The flow's */
	void *trace;		/* outbound L7: its MeshTraces and its
				 * request's ids (trace.h), NULL: none.
				 * The flow's */
	struct wmstats_series *wm;	/* its local workload's counters
				 * (wmstats.h), found once; NULL: none.
				 * Borrowed from the loop's table */
	struct wmstats_series *wm_in;	/* outbound to a pod of this node:
				 * that pod's inbound counters, found
				 * again only when the endpoint changes
				 * (wm_in_ep); NULL: none.  Borrowed */
	const struct mf_endpoint *wm_in_ep;	/* ... for this endpoint */
	uint64_t try_key;	/* L7: the hosts key (hosts.h) of the
				 * endpoint a try of its request is on, 0:
				 * none */
	uint64_t try_ns;	/* ... since then */
	uint64_t svc_key;	/* its service's key (breaker.h), once
				 * counted there */
	uint8_t breaker_held;	/* 1 << breaker_kind it counts in */
	uint8_t connects;	/* L4: connects of its up end so far */
	uint64_t up_tag;	/* L7: the tag of the next up end
				 * conn_up_open() opens */
	uint32_t up_timeout_ms;	/* L7: an up end's connect and handshake
				 * (conn_up_open()), 0: the table's setup
				 * timeout.  A probe's: its timeout */
	/* conn_idle_timeout(): the relay ends when no byte moved either way
	 * for @idle_ms. */
	struct timer idle_timer;
	uint32_t idle_ms;
	uint64_t idle_bytes;	/* bytes relayed at the last check */
	uint8_t idle_quiet;	/* checks in a row that saw none move */
	const struct mf_header_mod *rsp_mod;	/* outbound L7: the response
						 * header modifier of the
						 * request's rule */
	/* Outbound: chosen endpoint and the client's identity; both point
	 * into @policy, which the connection holds. */
	const struct mf_endpoint *endpoint;
	const char *src_spiffe;
	struct tls_ctx *tls_ctx;	/* a reference (certs_client_ctx), put
					 * at release */
	char peer_spiffe[MF_SPIFFE_MAX];	/* verified TLS peer identity */

	void *tap;		/* L4: what the flow's "tap" step watches
				 * the relayed bytes with, NULL: none.  The
				 * flow's */
	void *l7;		/* the flow's L7 state, NULL: an L4 relay.
				 * The flow's (freed in its release step) */
	bool l7_ending;		/* L7: the connection ends once the down end
				 * has what was written to it */
	bool l7_deadline;	/* L7: down recvs end at @input_deadline */
	uint64_t input_deadline;	/* L7: conn_input_deadline()'s, ns
					 * of timer_now() */
	uint64_t input_recv_deadline;	/* ... the in-flight down recv's */
	struct timer input_timer;	/* ... fires at or before it */
	struct conn_end retired;	/* L7: an up end left behind, until
					 * its last op completed */
	bool retiring;		/* @retired holds one */
	bool up_pool_ok;	/* L7: the up end is between exchanges and
				 * may outlive the connection (the flow's
				 * "release_up" step at release) */
	bool l7_busy;		/* L7: inside conn_l7_run() */
	bool l7_again;		/* L7: run again: something changed inside */
};

/*
 * Up ends of L7 connections kept for the next connection that goes the
 * same way: a keep-alive mTLS connection to a node's agent, for one
 * endpoint (its PROXY header named it) and one source identity (its
 * certificate), under one policy epoch.  A parked end has nothing in
 * flight; one that idles CONN_POOL_IDLE_MS, or whose peer closed it, is
 * closed by the table's tick.
 */
#define CONN_POOL_MAX		256
#define CONN_POOL_IDLE_MS	30000

struct conn_pool_key {
	struct sockaddr_in addr;	/* where it is connected */
	uint32_t dst_ip;		/* the endpoint it reaches (network
					 * order) ... */
	uint16_t dst_port;		/* ... and its port (host order) */
	uint64_t epoch;			/* the policy epoch it was set up in */
	char src[MF_SPIFFE_MAX];	/* the identity it speaks for */
};

struct conn_pooled {
	bool used;
	struct conn_pool_key key;
	struct conn_end end;		/* its fd and TLS session.  Owned */
	char peer_spiffe[MF_SPIFFE_MAX];	/* verified when it was made */
	uint64_t parked_ns;		/* CLOCK_MONOTONIC */
};

/* The connections of one loop. */
struct conn_table {
	struct loop *loop;
	struct stats *stats;		/* borrowed */
	struct conn *conns;		/* max_conns slots.  Owned */
	uint32_t *free_slots;		/* a stack of free slots.  Owned */
	uint32_t nfree;
	uint32_t max_conns;
	uint32_t setup_timeout_ms;
	uint64_t next_conn_id;
	uint8_t op[CONN_OP_MAX];	/* loop operation of each conn_op */
	/* What the loop calls for each op: this table and the op's own
	 * handler (conn.c). */
	struct conn_op_slot {
		struct conn_table *t;
		void (*fn)(struct conn_table *t, struct conn *c,
			   const struct io_uring_cqe *cqe);
	} op_slot[CONN_OP_MAX];
	/* One per (ops, arg) that conn_listen() was given, never removed:
	 * connections point to them after their listener is gone. */
	struct conn_flow flows[CONN_FLOWS_MAX];
	unsigned int nflows;
	/* By loop listener id: the flow of a conn_listen() listener, NULL
	 * for one that is not the table's or was removed. */
	const struct conn_flow *listener_flow[LOOP_LISTENERS_MAX];
	struct conn_pooled *pool;	/* CONN_POOL_MAX slots, at the first
					 * park.  Owned */
	/* An up end with a tag closed (wherever it was: a connection's,
	 * retired or parked), while the loop runs.  NULL: nobody asks. */
	void (*up_closed)(void *arg, uint64_t tag);
	void *up_closed_arg;
	uint32_t npooled;
	bool mark_warned;		/* SO_MARK failed once, said so */
	/* Admission: each flow (a listener, or the listeners sharing it)
	 * holds at most flow_budget slots; at most max_handshakes down ends
	 * are in a TLS handshake at once. */
	uint32_t flow_conns[CONN_FLOWS_MAX];	/* by index in @flows */
	uint32_t flow_budget;
	/* ... and one peer address at most source_budget of them on a
	 * listener (a pod, a node's agent, a host), so that one peer cannot
	 * take a listener's budget from the others. */
	struct conn_source {
		uint32_t ip;			/* network order */
		uint32_t n;			/* 0: free */
	} *sources;				/* CONN_SOURCE_SLOTS.  Owned */
	uint32_t source_budget;
	uint32_t handshakes, max_handshakes;
	/* Lines a peer can cause at will (refusals, setup failures), at a
	 * bounded rate. */
	struct log_limit refuse_log;
};

struct conn_table_config {
	uint32_t max_conns;		/* 0: default */
	uint32_t setup_timeout_ms;	/* connect + handshake + header; 0:
					 * default */
	uint32_t max_conns_per_flow;	/* 0: half of max_conns */
	uint32_t max_conns_per_source;	/* 0: half of the flow's */
	uint32_t max_handshakes;	/* 0: CONN_DEFAULT_MAX_HANDSHAKES */
};

/*
 * Allocates the table per @cfg and registers its ops and teardown with
 * loop @l; counts into @st.  Both must outlive the table.  Returns 0 or
 * -errno (the caller then still calls conn_table_fini()).
 */
int conn_table_init(struct conn_table *t, struct loop *l, struct stats *st,
		    const struct conn_table_config *cfg);

/* Frees the table; after loop_fini(), which has ended every connection. */
void conn_table_fini(struct conn_table *t);

/*
 * Listens on @addr:@port (loop_listen(); @name for logs and metrics, kept
 * until the listener is removed): its connections follow @ops with @arg,
 * which must outlive the table.  Listeners given the same @ops and @arg
 * share one flow.  Returns the listener id, or -ENOSPC when that would be
 * one flow more than CONN_FLOWS_MAX, or loop_listen()'s -errno.
 */
int conn_listen(struct conn_table *t, const char *name, uint32_t addr,
		uint16_t port, const struct conn_flow_ops *ops, void *arg);

/* conn_listen() on [::]:@port, IPv6 only (loop_listen6()). */
int conn_listen6(struct conn_table *t, const char *name, uint16_t port,
		 const struct conn_flow_ops *ops, void *arg);

/*
 * Removes listener @id of conn_listen() (loop_unlisten(): its port is free
 * when this returns; such a listener goes through here, never straight
 * through loop_unlisten(), or the table would keep a stale id).  The
 * connections it accepted go on to their own end, with their flow.
 * Returns 0, or -ENOENT when @id is no listener of the table's.
 */
int conn_unlisten(struct conn_table *t, int id);

/*
 * A connection the agent makes itself (a health check's): @fd, which this
 * takes, is its down end, as if accepted from @peer on @local, and it
 * follows @ops with @arg (a flow as conn_listen()'s, shared likewise) from
 * its "accepted" step on, under the setup deadline.  Returns 0, or
 * -ENOSPC (the table or its flows are full; @fd is closed).
 */
int conn_adopt(struct conn_table *t, const struct conn_flow_ops *ops,
	       void *arg, int fd, const struct sockaddr_in *peer,
	       const struct sockaddr_in *local);

/* The connection's flow: "outbound", ... */
static inline const char *conn_flow_name(const struct conn *c)
{
	return c->flow->ops->name;
}

/*
 * Ends @c with RST on both sockets, logging @reason (at warn unless the
 * connection is refused on purpose: the caller logs those itself and passes
 * NULL).  Cancels everything in flight; the slot is released once the
 * cancellations complete.  Idempotent.
 */
void conn_abort(struct conn_table *t, struct conn *c, const char *reason);

/* The down end of @c waits for its first byte, @ms at most (and within
 * the setup deadline), holding no buffer: the flow's "first_byte" step
 * follows, unless TLS handshakes are at their cap (then @c is refused).
 * A peer that sends nothing in time is refused, counted. */
void conn_await_first_byte(struct conn_table *t, struct conn *c, uint32_t ms);

/* After its first bytes, @c turns out to shake no hands (its bytes are
 * relayed as they are, or a name was read from plaintext): it no longer
 * counts among the handshakes conn_await_first_byte() holds it in.  A
 * flow that needs more bytes first calls conn_await_first_byte() again
 * (the place it holds is kept). */
void conn_no_handshake(struct conn_table *t, struct conn *c);

/* Creates the up socket and connects it to c->up_addr, under the setup
 * deadline; the flow's "connected" step follows. */
void conn_connect(struct conn_table *t, struct conn *c);

/* From the flow's "connect_failed" step: closes the failed up socket and
 * connects again, to c->up_addr as the flow has set it, under what is
 * left of the setup deadline. */
void conn_reconnect(struct conn_table *t, struct conn *c);

/* Starts the TLS handshake of end @side, whose session the flow made: the
 * first flight goes out, setup recvs follow under the deadline, and the
 * flow's "handshake_done" step gets the outcome. */
void conn_handshake_start(struct conn_table *t, struct conn *c,
			  enum conn_side side);

/* Moves @c (both ends open, TLS done) into RELAY and starts both
 * directions.  Bytes already in dir[i] (pbuf, off < len) go out first. */
void conn_start_relay(struct conn_table *t, struct conn *c);

/* An L4 relay with no byte either way for @ms ends (both ends reset,
 * counted as a TCP idle timeout), within a quarter of @ms after; 0:
 * never. */
void conn_idle_timeout(struct conn_table *t, struct conn *c, uint32_t ms);

/* Submits a recv on end @side selecting a provided buffer; when @deadline,
 * it is linked to c->deadline (setup phase).  */
void conn_submit_recv(struct conn_table *t, struct conn *c,
		      enum conn_side side, bool deadline);

/* Sends whatever ciphertext end @side's TLS session has queued, unless a
 * send is in flight already or the write side is shut. */
void conn_tls_flush(struct conn_table *t, struct conn *c, enum conn_side side);

/* ---- L7 (see the top of this file) ---------------------------------------- */

/* Queues @n bytes for end @side.  Returns 0 or -ENOMEM. */
int conn_write(struct conn *c, enum conn_side side, const void *p, size_t n);

/* The queue of end @side, for a writer that renders in place
 * (hhead_render()). */
static inline struct bufq_out *conn_out(struct conn *c, enum conn_side side)
{
	return &c->end[side].out;
}

/* Holds the input of end @side: what it read stays unconsumed and nothing
 * more is read until conn_resume_input(). */
void conn_pause_input(struct conn *c, enum conn_side side);
void conn_resume_input(struct conn_table *t, struct conn *c,
		       enum conn_side side);

/* Between exchanges, the kept up end of @c stays read instead of paused:
 * a close of its peer (or bytes it should not send) comes as input, and
 * the recv armed for it serves the next response.  conn_up_reusable()
 * then needs no look at the socket, and conn_up_park() cancels it.  On a
 * kernel without IORING_REGISTER_SYNC_CANCEL (before 6.0) the end is
 * paused instead, and looked at before it is used. */
void conn_up_watch(struct conn_table *t, struct conn *c);

/* Down recvs from now on end at @ms from now with the flow's
 * input_timeout step (0: no deadline).  A recv in flight keeps the
 * deadline it was submitted with. */
void conn_input_deadline(struct conn *c, uint32_t ms);

/* Calls every relaying L7 connection's drain step (conn_flow_ops). */
void conn_table_drain(struct conn_table *t);

/* Ends @c once the down end has had everything written to it: no more
 * input is read, the down end gets FIN after its queue, then both sockets
 * close. */
void conn_end_after_reply(struct conn_table *t, struct conn *c);

/* The up end of @c is between exchanges: when the connection ends, it is
 * not told so (no close_notify) and, idle, goes to the flow's
 * "release_up" step instead of being closed. */
static inline void conn_up_keep_at_end(struct conn *c)
{
	c->up_pool_ok = true;
}

/* Sends what was written since the last call, from outside a step of the
 * connection's own (a step's writes go out when it returns). */
void conn_kick(struct conn_table *t, struct conn *c);

/*
 * The up end of an L7 connection in its relay.  conn_up_open() connects to
 * c->up_addr under the setup timeout (the flow's "connected" step follows,
 * and conn_handshake_start() on CONN_UP for TLS); what was written for the
 * up end waits until the flow calls conn_up_ready().  A failure goes to
 * the flow's "upstream_failed" step, or the flow's own conn_up_failed().
 * conn_up_retire() leaves the current up end (closed once its ops are
 * done; -EBUSY while the previous one still is).  conn_up_reusable() says
 * whether the current one, idle, is still good for another request.
 */
void conn_up_open(struct conn_table *t, struct conn *c);
void conn_up_ready(struct conn_table *t, struct conn *c);
void conn_up_failed(struct conn_table *t, struct conn *c, const char *reason);
int conn_up_retire(struct conn_table *t, struct conn *c);
bool conn_up_reusable(const struct conn *c);

/*
 * conn_up_park() parks the up end of @c in the pool under @k, when it is
 * idle (nothing in flight or queued; conn_up_reusable()), evicting the
 * longest parked end when the pool is full; @c is left without one.
 * False when it is not idle: then it stays.  conn_up_unpark() gives @c,
 * which has no up end, a parked one for @k that is still good, with the
 * peer identity verified when it was made into @peer_spiffe
 * (MF_SPIFFE_MAX); false when there is none.
 */
bool conn_up_park(struct conn_table *t, struct conn *c,
		  const struct conn_pool_key *k);
bool conn_up_unpark(struct conn_table *t, struct conn *c,
		    const struct conn_pool_key *k, char *peer_spiffe);

/* "a.b.c.d:port", or "[v6]:port" for an AF_INET6 @sa (which then sits in
 * room for a sockaddr_in6, as struct conn's addresses do), into @buf
 * (CONN_ADDR_STRLEN bytes); returns @buf. */
const char *conn_addr_str(const struct sockaddr_in *sa, char *buf);
#define CONN_ADDR_STRLEN 56

#endif /* MF_CONN_H */
