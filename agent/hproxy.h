/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hproxy: the HTTP/1.1 proxy of one L7 connection, between a client on
 * the down end and an upstream on the up end.
 *
 * Requests are taken one at a time: the request parser stops after each
 * message and reads the next only once its response has been delivered,
 * so pipelined requests get their responses in order and a reply of the
 * proxy's own (400, 408, 502) can never overtake an upstream's.  Each
 * message is re-framed on the way: its head rendered anew by hhead (no
 * hop-by-hop field, X-Forwarded-For and x-request-id added), a chunked
 * body re-chunked piece by piece as it arrives, never buffered whole.
 *
 * What the client sends that breaks HTTP/1.1 or a framing rule (http1.h)
 * gets 400 (414, 431 for the limits) and the connection closes; nothing of
 * that request reaches the upstream, because a head is forwarded only
 * once it is whole and valid.  A response that breaks framing before its
 * head went out gets 502; after, the client connection is reset, since a
 * half-delivered body cannot be finished honestly.  A request head that
 * is not whole within the header timeout of its first byte gets 408.  A
 * connection idle before or between requests closes after the idle
 * timeout.  An Upgrade that the
 * upstream accepts with 101 turns both directions into a byte relay.
 *
 * The connection's relay (conn.h, L7) calls in through the flow steps of
 * tunnel.c; hproxy writes with conn_write() and holds or resumes the
 * client's input.
 */
#ifndef MF_AGENT_HPROXY_H
#define MF_AGENT_HPROXY_H

#include <stdint.h>
#include <sys/types.h>

#include "conn.h"
#include "hhead.h"
#include "http1.h"
#include "lb.h"
#include "resil.h"
#include "stats.h"

#define HPROXY_HEADER_TIMEOUT_MS	10000
#define HPROXY_IDLE_TIMEOUT_MS		60000
/* A request may be tried again only while all of its body is kept. */
#define HPROXY_REPLAY_MAX		(64 * 1024)

/* What every L7 connection of an agent shares. */
struct hproxy_shared {
	struct http1_limits lim;	/* request and response heads */
	uint32_t header_timeout_ms;	/* a request head, from its first
					 * byte */
	uint32_t idle_timeout_ms;	/* between requests */
	struct stats *stats;		/* borrowed */
	struct lb_rng rng;		/* request ids, jitter, faults */
	struct rbudget *budget;		/* retries' budget, NULL: none.
					 * Borrowed */
	bool draining;			/* the agent hands over (handover.h):
					 * each response says Connection:
					 * close, and its connection ends */
};

/* What kind of reply of the proxy's own a route's status is, for its
 * counter. */
enum hproxy_reply_kind {
	HPROXY_REPLY_BY_STATUS = 0,	/* a redirect, a 503 ... */
	HPROXY_REPLY_LIMITED,		/* a rate limit's */
	HPROXY_REPLY_FAULT,		/* a fault injected */
};

/* What the flow's route step says of a request. */
struct hproxy_route {
	int status;		/* 0: it goes upstream; else the status to
				 * answer with (a redirect, 503) */
	const char *why;	/* ... and why, for the log and the body */
	char *location;		/* a redirect's Location.  malloc'ed by the
				 * flow, hproxy's once returned */
	char *headers;		/* more header lines of the answer, each
				 * ending in CRLF (a rate limit's), NULL:
				 * none.  As @location */
	const char *name;	/* the route that decided, NULL: none */
	enum hproxy_reply_kind kind;	/* of @status */
	uint32_t delay_ms;	/* hold the request this long before it goes
				 * (a fault's delay), 0: none */
	uint64_t bandwidth_bps;	/* its response goes to the client no
				 * faster (a fault's), 0: no limit */
	/* In: the request's try, 0 for its first.  Another try is routed
	 * afresh (from the head as the client sent it) but is not counted
	 * against rate limits, nor given faults, again. */
	unsigned int attempt;
	/* A copy of the request goes to @mirror_ip:@mirror_port too (network
	 * order address, host order port), its answer dropped
	 * (RequestMirror); port 0: none.  A first try's only. */
	uint32_t mirror_ip;
	uint16_t mirror_port;
};

/* One request and its answer, when it is over (the flow's "done"). */
struct hproxy_exchange {
	const struct hhead *req;	/* the head as forwarded (the route's
					 * changes made); NULL when it was
					 * never whole */
	const struct hhead *rsp;	/* the final response's head as
					 * forwarded; NULL: none went (a reply
					 * of the proxy's own) */
	const char *request_id;		/* its x-request-id, NULL: none */
	size_t request_id_len;
	const char *route;		/* the route that decided, NULL: none */
	int status;			/* the final status the client got */
	bool local;			/* ... from the proxy itself */
	uint64_t req_bytes, rsp_bytes;	/* body bytes each way */
	double seconds;			/* first request byte to the end */
};

/*
 * The steps of the flow an L7 connection belongs to.
 *
 * route: where request @req goes, decided at the end of its head.  The
 * flow may change @req (a route's header modifiers and rewrites), makes
 * sure the connection's up end is the right one (reused, or a new one
 * opened with conn_up_open()) and fills @r.  Returns 0 or -ENOMEM.
 *
 * response: the head of the final response to the request (a route's
 * response header modifiers), before it goes to the client.  Returns 0 or
 * -ENOMEM.  NULL: nothing to do.
 */
struct hproxy_flow {
	int (*route)(void *arg, struct conn *c, struct hhead *req,
		     struct hproxy_route *r);
	int (*response)(void *arg, struct conn *c, struct hhead *rsp);
	/* done: a request was answered, by the upstream or the proxy (its
	 * metrics, its access log line).  NULL: nothing to do. */
	void (*done)(void *arg, struct conn *c,
		     const struct hproxy_exchange *x);
	/* try_done: a try of the request ended, with a response of @status
	 * (its head), or 0 when none came (connect failure, reset, timeout).
	 * Once per try.  NULL: nothing to do. */
	void (*try_done)(void *arg, struct conn *c, int status);
	/* retry_ok: a retry of the request may go (the flow's limits): true
	 * holds it until its try ends.  NULL: it may. */
	bool (*retry_ok)(void *arg, struct conn *c);
	/* release_up: the client is gone between requests, the connection
	 * ends: its up end, idle, may serve another (the pool).  NULL: it
	 * closes with the connection. */
	void (*release_up)(void *arg, struct conn *c);
	/* mirror: @n bytes at @p, a whole request, go to @ip:@port (as in
	 * hproxy_route) on a connection of their own whose answer nobody
	 * reads.  NULL: requests are not mirrored. */
	void (*mirror)(void *arg, struct conn *c, uint32_t ip, uint16_t port,
		       const void *p, size_t n);
};

/* Defaults (the limits and timeouts above), counting into @st, with a
 * random request id seed. */
void hproxy_shared_init(struct hproxy_shared *sh, struct stats *st);

/* A uniform random 64-bit number (xorshift128+ over @sh's state): request
 * ids, back off jitter, fault percentages.  Not for secrets. */
uint64_t hproxy_rand(struct hproxy_shared *sh);

struct hproxy;

/* The proxy of L7 connection @c of table @t, which is in its relay or
 * about to be, its requests routed by @flow's steps with @arg (both must
 * outlive it).  Returns 0 and *out, or -ENOMEM. */
int hproxy_new(struct hproxy **out, struct hproxy_shared *sh,
	       struct conn_table *t, struct conn *c,
	       const struct hproxy_flow *flow, void *arg);
void hproxy_free(struct hproxy *hp);

/* The connection's relay is about to start (its setup, with a deadline of
 * its own, is over): the header timeout of the first request runs. */
void hproxy_start(struct hproxy *hp);

/*
 * The timeouts and retries of the connection's requests (resil.h), NULL:
 * none; @rs must outlive @hp.  Before hproxy_start().
 *
 * Timeouts answer 504 (a reset once the response has begun) with a body
 * naming the one that ran out: requestTimeout from the request's end,
 * maxStreamDuration from its first byte, streamIdleTimeout with no byte
 * either way, a try's perTryTimeout from when it went.  idleTimeout ends
 * the connection between requests; requestHeadersTimeout replaces the
 * header timeout (408).
 *
 * A request whose try failed (a connect failure, a reset or close before
 * its response, a per-try timeout, or a response status retryOn names,
 * before any of it went to the client) goes again, after a jittered
 * exponential back off or the response's Retry-After, up to numRetries
 * times, when: its method may be retried, its body (HPROXY_REPLAY_MAX at
 * most, no trailers) is whole and kept, and the retry budget has room.
 * The failed try's up end is closed; the next is routed afresh.
 */
void hproxy_set_resil(struct hproxy *hp, const struct resil *rs,
		      uint64_t budget_key);

/* The conn_flow_ops L7 steps (conn.h), for the flow to call. */
ssize_t hproxy_input(struct hproxy *hp, enum conn_side side,
		     const uint8_t *p, size_t n);
/* The EOF of end @side: 0 passes it on (an upgraded connection's), 1
 * means hproxy took care of it, -errno that the connection was ended. */
int hproxy_input_eof(struct hproxy *hp, enum conn_side side);
void hproxy_input_timeout(struct hproxy *hp);
/* The agent drains: a kept-alive connection between two requests ends
 * now, cleanly; any other goes on (its next response closes it). */
void hproxy_drain(struct hproxy *hp);
/* The up end the route step opened failed (conn.h "upstream_failed"):
 * 503 for the request, unless its response had begun. */
void hproxy_upstream_failed(struct hproxy *hp, const char *reason);

#endif /* MF_AGENT_HPROXY_H */
