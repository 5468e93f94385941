// SPDX-License-Identifier: Apache-2.0
/*
 * Connection lifetime and the two-way relay (see conn.h for the model).
 *
 * The relay of one direction is driven by conn_dir_pump(), the only place
 * that moves a direction forward: every completion that may unblock a
 * direction (its recv, a send on its sink) calls it, and it does whatever
 * the direction's state allows, so calling it again is always harmless.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "loop.h"
#include "monotime.h"
#include "tls.h"

static const char *conn_state_str(enum conn_state s)
{
	switch (s) {
	case CONN_STATE_FREE:		return "free";
	case CONN_STATE_ACCEPTED:	return "accepted";
	case CONN_STATE_CONNECTING:	return "connecting";
	case CONN_STATE_HANDSHAKE:	return "handshake";
	case CONN_STATE_PROXY_HDR:	return "proxy_header";
	case CONN_STATE_RELAY:		return "relay";
	case CONN_STATE_CLOSING:	return "closing";
	}
	return "?";
}

static const char *conn_dir_state_str(enum conn_dir_state s)
{
	switch (s) {
	case CONN_DIR_IDLE:	return "idle";
	case CONN_DIR_RECV:	return "recv";
	case CONN_DIR_SEND:	return "send";
	case CONN_DIR_FLUSH:	return "flush";
	case CONN_DIR_SHUTDOWN:	return "shutdown";
	case CONN_DIR_DONE:	return "done";
	}
	return "?";
}

const char *conn_addr_str(const struct sockaddr_in *sa, char *buf)
{
	const struct sockaddr_in6 *sa6 = (const void *)sa;
	char ip[INET6_ADDRSTRLEN];

	if (sa->sin_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &sa6->sin6_addr, ip, sizeof(ip)))
		snprintf(buf, CONN_ADDR_STRLEN, "[%s]:%u", ip,
			 ntohs(sa6->sin6_port));
	else if (sa->sin_family == AF_INET &&
		 inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip)))
		snprintf(buf, CONN_ADDR_STRLEN, "%s:%u", ip,
			 ntohs(sa->sin_port));
	else
		snprintf(buf, CONN_ADDR_STRLEN, "-:%u", ntohs(sa->sin_port));
	return buf;
}

/*
 * user_data for op @op of @c on end @side (@flags: CONN_RECV_OWN_BUF), and
 * the op counted in flight, for the connection and for the end.  The aux
 * byte carries the end's epoch: an up end that an L7 connection retired
 * keeps completing under its old epoch while a new one runs.
 */
static uint64_t conn_ud(const struct conn_table *t, struct conn *c,
			enum conn_op op, enum conn_side side,
			unsigned int flags)
{
	struct conn_end *e = &c->end[side];

	c->inflight++;
	e->inflight++;
	return loop_ud(t->op[op], side | flags |
		       (e->epoch & CONN_EPOCH_MASK) << CONN_AUX_EPOCH_SHIFT,
		       c->slot, c->gen);
}

/* Closes end @e's socket, its file-table slot cleared first when it has
 * one.  SO_LINGER is set already when it is to reset. */
static void conn_end_close(struct conn_table *t, struct conn_end *e)
{
	if (e->fd >= 0 && e->fixed)
		loop_close_fixed(t->loop, e->fd, false);
	else if (e->fd >= 0)
		loop_close_fd(t->loop, e->fd, false);
	e->fd = -1;
	e->fixed = false;
}

/* Takes a free slot for socket @fd, accepted on a listener of @flow
 * (ownership of @fd passes to the connection even on failure: then it is
 * closed with RST here).  Returns the connection in CONN_STATE_ACCEPTED,
 * or NULL when the table is full. */
static struct conn *conn_new(struct conn_table *t,
			     const struct conn_flow *flow, int fd)
{
	uint32_t *in_flow = &t->flow_conns[flow - t->flows];
	struct conn *c;
	uint32_t slot, gen;

	if (t->nfree == 0 || *in_flow >= t->flow_budget) {
		loop_close_fd(t->loop, fd, true);
		return NULL;
	}
	(*in_flow)++;
	slot = t->free_slots[--t->nfree];
	c = &t->conns[slot];
	gen = c->gen;
	memset(c, 0, sizeof(*c));
	c->slot = slot;
	c->gen = gen;
	c->flow = flow;
	c->state = CONN_STATE_ACCEPTED;
	c->id = ++t->next_conn_id;
	c->traffic_route = -1;
	c->tcp_route = -1;
	c->end[CONN_DOWN].fd = fd;
	c->end[CONN_DOWN].fixed = loop_fd_fix(t->loop, fd);
	c->end[CONN_UP].fd = -1;
	for (int i = 0; i < 2; i++) {
		c->dir[i].state = CONN_DIR_IDLE;
		c->dir[i].bid = -1;
	}
	t->stats->conns++;
	t->stats->accepted++;
	return c;
}

/* The connection a completion's user_data names, or NULL when the slot is
 * free or has been reused since (a stale completion). */
static struct conn *conn_from_ud(struct conn_table *t, uint64_t ud)
{
	uint32_t slot = loop_ud_slot(ud);
	struct conn *c;

	if (slot >= t->max_conns)
		return NULL;
	c = &t->conns[slot];
	if (c->state == CONN_STATE_FREE ||
	    (c->gen & LOOP_UD_GEN_MASK) != loop_ud_gen(ud))
		return NULL;
	return c;
}

static void conn_retired_cancel(struct conn_table *t, struct conn *c);

/* The end @e is closing: its tag, if any, goes to the table's up_closed
 * (once). */
static void conn_end_untag(struct conn_table *t, struct conn_end *e)
{
	uint64_t tag = e->tag;

	e->tag = 0;
	if (tag && t->up_closed && t->loop)
		t->up_closed(t->up_closed_arg, tag);
}

/* Cancels every op in flight on both fds, so CLOSING can complete. */
static void conn_cancel_all(struct conn_table *t, struct conn *c)
{
	if (c->retiring)
		conn_retired_cancel(t, c);
	for (int i = 0; i < 2; i++) {
		struct conn_end *e = &c->end[i];
		struct io_uring_sqe *sqe;

		if (e->fd < 0)
			continue;
		sqe = loop_sqe(t->loop, 1);
		io_uring_prep_cancel_fd(sqe, e->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_CANCEL, i, 0));
	}
}

/* conn_abort() with the level to log @reason at. */
static void conn_abort_lvl(struct conn_table *t, struct conn *c,
			   enum log_level lvl, const char *reason)
{
	char down[CONN_ADDR_STRLEN], up[CONN_ADDR_STRLEN];

	if (c->state == CONN_STATE_CLOSING || c->state == CONN_STATE_FREE)
		return;
	/* A connection that never relayed is one any peer can make: its
	 * lines come at a bounded rate. */
	if (reason && (c->state == CONN_STATE_RELAY ||
		       log_limit_ok(&t->refuse_log, lvl, "conn_abort")))
		log_msg(lvl, "event=conn_abort conn=%llu kind=%s state=%s "
			"down=%s up=%s down_state=%s up_state=%s reason=\"%s\"",
			(unsigned long long)c->id, conn_flow_name(c),
			conn_state_str(c->state),
			conn_addr_str(&c->down_peer, down),
			conn_addr_str(&c->up_addr, up),
			conn_dir_state_str(c->dir[CONN_DOWN].state),
			conn_dir_state_str(c->dir[CONN_UP].state), reason);
	if (c->state == CONN_STATE_RELAY)
		t->stats->aborted++;
	else
		t->stats->refused++;
	c->state = CONN_STATE_CLOSING;
	for (int i = 0; i < 2; i++)
		if (c->end[i].fd >= 0)
			loop_set_rst(c->end[i].fd);
	if (c->inflight > 0)
		conn_cancel_all(t, c);
}

void conn_abort(struct conn_table *t, struct conn *c, const char *reason)
{
	conn_abort_lvl(t, c, LOG_LVL_WARN, reason);
}

/* A socket error while relaying: usually a peer that reset or went away,
 * which is the peer's business rather than ours, so it logs at info. */
static void conn_abort_io(struct conn_table *t, struct conn *c,
			  const char *reason, int err)
{
	bool peer = c->state == CONN_STATE_RELAY &&
		    (err == ECONNRESET || err == EPIPE || err == ENOTCONN);

	conn_abort_lvl(t, c, peer ? LOG_LVL_INFO : LOG_LVL_WARN, reason);
}

/* Both directions are DONE: close both sockets without RST. */
static void conn_finish(struct conn_table *t, struct conn *c)
{
	log_debug("event=conn_done conn=%llu kind=%s bytes_down_up=%llu "
		  "bytes_up_down=%llu", (unsigned long long)c->id,
		  conn_flow_name(c),
		  (unsigned long long)c->dir[CONN_DOWN].bytes,
		  (unsigned long long)c->dir[CONN_UP].bytes);
	t->stats->finished++;
	c->state = CONN_STATE_CLOSING;
	/* An up end with an op in flight is not idle: it cannot be kept. */
	if (c->end[CONN_UP].inflight > 0)
		c->up_pool_ok = false;
	/* Nothing should be in flight with both directions done; if a TLS
	 * flush still is, it has nowhere to go. */
	if (c->inflight > 0)
		conn_cancel_all(t, c);
}

static void conn_retired_free(struct conn_table *t, struct conn *c);

/* The count of peer @ip; with @make, a free slot becomes it.  NULL when
 * there is none. */
static struct conn_source *conn_source(struct conn_table *t, uint32_t ip,
				       bool make)
{
	uint32_t h = ip * 2654435761u;
	struct conn_source *e, *spare = NULL;

	for (unsigned int i = 0; i < CONN_SOURCE_PROBE; i++) {
		e = &t->sources[(h + i) & (CONN_SOURCE_SLOTS - 1)];
		if (e->n && e->ip == ip)
			return e;
		if (!spare && !e->n)
			spare = e;
	}
	if (make && spare)
		spare->ip = ip;
	return make ? spare : NULL;
}

/* The key of @c's peer in t->sources: its IPv4 address, or an IPv6 one
 * folded to 32 bits (two peers that fold alike share a share). */
static uint32_t conn_source_key(const struct conn *c)
{
	const uint32_t *w = c->down_peer6.sin6_addr.s6_addr32;

	if (c->down_peer.sin_family == AF_INET6)
		return w[0] ^ w[1] ^ w[2] ^ w[3];
	return c->down_peer.sin_addr.s_addr;
}

/* @c, from c->down_peer, counts in its peer's share: false when that is
 * used (or @c is left uncounted when the table has no room to count). */
static bool conn_source_take(struct conn_table *t, struct conn *c)
{
	struct conn_source *e = conn_source(t, conn_source_key(c), true);

	if (!e)
		return true;
	if (e->n >= t->source_budget)
		return false;
	e->n++;
	c->src_held = true;
	return true;
}

static void conn_source_put(struct conn_table *t, struct conn *c)
{
	struct conn_source *e;

	if (!c->src_held)
		return;
	c->src_held = false;
	e = conn_source(t, conn_source_key(c), false);
	if (e)
		e->n--;
}

/* @c no longer counts in the table's handshakes. */
static void conn_hs_put(struct conn_table *t, struct conn *c)
{
	if (c->hs_held) {
		c->hs_held = false;
		t->handshakes--;
	}
}

void conn_no_handshake(struct conn_table *t, struct conn *c)
{
	conn_hs_put(t, c);
}

/* Gives back direction @d's plaintext buffer, wiped as far as plaintext
 * reached. */
static void conn_dir_pbuf_put(struct conn_table *t, struct conn_dir *d)
{
	loop_pbuf_put(t->loop, d->pbuf, d->pbuf_used);
	d->pbuf = NULL;
	d->pbuf_used = 0;
}

/* Frees a passthrough connection's grown first-bytes buffer, wiped as far
 * as the client's bytes reached. */
static void conn_pt_buf_free(struct conn *c)
{
	if (!c->pt_buf)
		return;
	explicit_bzero(c->pt_buf, c->pt_fill);
	free(c->pt_buf);
	c->pt_buf = NULL;
}

/* Releases @c if it is CLOSING and nothing is in flight.  Called after
 * every completion and accept. */
static void conn_reap(struct conn_table *t, struct conn *c)
{
	if (c->state != CONN_STATE_CLOSING || c->inflight > 0)
		return;
	loop_timer_cancel(t->loop, &c->idle_timer);
	loop_timer_cancel(t->loop, &c->input_timer);
	c->idle_ms = 0;
	if (c->retiring)
		conn_retired_free(t, c);
	/* A kept up end may serve another connection: the flow decides,
	 * before the ends are closed. */
	if (c->up_pool_ok && c->end[CONN_UP].fd >= 0 &&
	    c->flow->ops->release_up)
		c->flow->ops->release_up(c->flow->arg, c);
	conn_pt_buf_free(c);
	for (int i = 0; i < 2; i++) {
		struct conn_end *e = &c->end[i];
		struct conn_dir *d = &c->dir[i];

		conn_end_untag(t, e);
		tls_sess_free(e->tls);
		e->tls = NULL;
		bufq_out_free(&e->out);
		/* Whatever a recv left in it: not the data path. */
		loop_pbuf_put(t->loop, e->rbuf, LOOP_PBUF_SIZE);
		e->rbuf = NULL;
		conn_end_close(t, e);
		conn_dir_pbuf_put(t, d);
		if (d->bid >= 0) {
			int bid = d->bid;

			d->bid = -1;
			loop_buf_put(t->loop, (uint16_t)bid, d->len);
		}
	}
	if (c->flow->ops->release)
		c->flow->ops->release(c->flow->arg, c);
	conn_hs_put(t, c);
	conn_source_put(t, c);
	t->flow_conns[c->flow - t->flows]--;
	c->endpoint = NULL;
	c->src_spiffe = NULL;
	c->state = CONN_STATE_FREE;
	c->gen = (c->gen + 1) & LOOP_UD_GEN_MASK;
	t->free_slots[t->nfree++] = c->slot;
	t->stats->conns--;
}

/* What ends a recv that waits too long (conn_submit_recv_into()). */
enum conn_recv_dl {
	CONN_RECV_DL_NONE,
	CONN_RECV_DL_LINKED,	/* the end's deadline, a linked timeout */
	CONN_RECV_DL_INPUT,	/* the L7 input deadline, c->input_timer */
};

/*
 * The L7 input deadline of a down recv (conn_input_deadline()) is a timer
 * of the loop's own, not a linked timeout: it is renewed at every request
 * of a keep-alive connection, and a linked timeout would cost each one a
 * kernel hrtimer armed and cancelled and two more completions.  The timer
 * stays armed across requests at the earliest deadline it was asked for;
 * when it fires early it moves on to the in-flight recv's own deadline,
 * and when that passed it cancels the recv, whose -ECANCELED reports the
 * timeout as a linked one would.
 */
static void conn_input_fire(struct timer *tm, uint64_t now)
{
	struct conn *c = (struct conn *)((char *)tm -
					 offsetof(struct conn, input_timer));
	struct conn_table *t = c->flow->table;
	struct conn_end *e = &c->end[CONN_DOWN];
	struct io_uring_sqe *sqe;

	if (c->state != CONN_STATE_RELAY || !e->recv_busy || !e->input_recv)
		return;	/* armed again by the next deadline recv */
	if (now < c->input_recv_deadline) {
		(void)loop_timer_arm(t->loop, tm, c->input_recv_deadline);
		return;
	}
	sqe = loop_sqe(t->loop, 1);
	io_uring_prep_cancel64(sqe, e->recv_ud, 0);
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_CANCEL, CONN_DOWN,
					     0));
}

/* The down recv being submitted ends at the connection's input deadline. */
static void conn_input_arm(struct conn_table *t, struct conn *c)
{
	c->input_recv_deadline = c->input_deadline;
	if (timer_armed(&c->input_timer) &&
	    c->input_timer.when <= c->input_recv_deadline)
		return;
	if (!timer_armed(&c->input_timer))
		timer_init(&c->input_timer, conn_input_fire);
	if (loop_timer_arm(t->loop, &c->input_timer, c->input_recv_deadline))
		c->input_recv_deadline = UINT64_MAX;	/* no memory: none */
}

/* Submits a recv on end @side: into a ring buffer the kernel selects, or
 * with @own_buf into the end's rbuf.  With @dl it ends at a deadline: the
 * end's, by a linked timeout (setup), or the L7 input one. */
static void conn_submit_recv_into(struct conn_table *t, struct conn *c,
				  enum conn_side side, enum conn_recv_dl dl,
				  bool own_buf)
{
	struct conn_end *e = &c->end[side];
	struct io_uring_sqe *sqe;
	bool linked = dl == CONN_RECV_DL_LINKED;

	sqe = loop_sqe(t->loop, linked ? 2 : 1);
	if (own_buf) {
		io_uring_prep_recv(sqe, e->fd, e->rbuf, CONN_PBUF_SIZE, 0);
	} else {
		io_uring_prep_recv(sqe, e->fd, NULL, t->loop->buf_size, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = LOOP_BGID;
	}
	if (e->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	/* A request-response peer is quiet right after the last read: the
	 * read the kernel would try first is wasted (the socket's lock and
	 * queue check for nothing) before it waits anyway. */
	if (e->drained && t->loop->poll_first)
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	e->recv_ud = conn_ud(t, c, CONN_OP_RECV, side,
			     own_buf ? CONN_RECV_OWN_BUF : 0);
	io_uring_sqe_set_data64(sqe, e->recv_ud);
	e->recv_busy = true;
	e->setup_recv = dl != CONN_RECV_DL_NONE;
	e->input_recv = dl == CONN_RECV_DL_INPUT;
	if (e->input_recv)
		conn_input_arm(t, c);
	if (!linked)
		return;
	/* loop_sqe(.., 2) left room for both: the link cannot be split by a
	 * submit in between. */
	sqe->flags |= IOSQE_IO_LINK;
	sqe = loop_sqe(t->loop, 1);
	io_uring_prep_link_timeout(sqe, &e->deadline, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_LINK_TIMEOUT, side,
					     0));
}

void conn_submit_recv(struct conn_table *t, struct conn *c, enum conn_side side,
		      bool deadline)
{
	conn_submit_recv_into(t, c, side, deadline ? CONN_RECV_DL_LINKED :
						     CONN_RECV_DL_NONE, false);
}

/* Submits a send of @len bytes at @p on end @side. */
static void conn_submit_send(struct conn_table *t, struct conn *c,
			     enum conn_side side, const void *p, uint32_t len)
{
	struct conn_end *e = &c->end[side];
	struct io_uring_sqe *sqe = loop_sqe(t->loop, 1);

	io_uring_prep_send(sqe, e->fd, p, len, MSG_NOSIGNAL);
	if (e->fixed)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_SEND, side, 0));
	e->send_busy = true;
}

void conn_tls_flush(struct conn_table *t, struct conn *c, enum conn_side side)
{
	struct conn_end *e = &c->end[side];
	const void *p;
	size_t n;

	if (!e->tls || e->send_busy || e->fd < 0)
		return;
	n = tls_out_pending(e->tls, &p);
	if (n == 0)
		return;
	if (e->wr_shut) {
		/* Our side of the stream is finished (close_notify and FIN
		 * went out); a late record, such as wolfSSL answering the
		 * peer's close_notify, has nowhere to go. */
		while (n > 0) {
			tls_out_consume(e->tls, n);
			n = tls_out_pending(e->tls, &p);
		}
		return;
	}
	if (n > UINT32_MAX)
		n = UINT32_MAX;
	conn_submit_send(t, c, side, p, (uint32_t)n);
}

/* True while end @e has ciphertext queued or on its way out. */
static bool conn_tls_busy(struct conn_end *e)
{
	const void *p;

	return e->send_busy || tls_out_pending(e->tls, &p) > 0;
}

static void conn_dir_abort_tls(struct conn_table *t, struct conn *c,
			       struct conn_end *e, const char *what)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "%s: %s", what,
		 tls_last_error(e->tls));
	conn_abort(t, c, reason);
}

/* The source of direction @side reached its end: queue the sink's
 * close_notify when it speaks TLS and move to FLUSH. */
static void conn_dir_eof(struct conn_table *t, struct conn *c,
			 enum conn_side side)
{
	struct conn_end *sink = &c->end[!side];
	int err;

	c->dir[side].state = CONN_DIR_FLUSH;
	if (sink->tls) {
		err = tls_close_notify(sink->tls);
		if (err < 0) {
			conn_dir_abort_tls(t, c, sink, "close_notify");
			return;
		}
		conn_tls_flush(t, c, !side);
	}
}

/* FLUSH of direction @side: once its sink has nothing left to send, that
 * sink gets shutdown(SHUT_WR) and the direction moves to SHUTDOWN. */
static void conn_dir_shutdown_sink(struct conn_table *t, struct conn *c,
				   enum conn_side side)
{
	struct conn_end *sink = &c->end[!side];
	struct io_uring_sqe *sqe;

	if (sink->send_busy || (sink->tls && conn_tls_busy(sink))) {
		conn_tls_flush(t, c, !side);
		return;
	}
	/*
	 * shutdown(2) of a TCP socket does not block (it queues the FIN),
	 * but io_uring runs IORING_OP_SHUTDOWN on an io-wq worker thread
	 * whatever the socket: a wake-up and two context switches at every
	 * connection's end (a tenth of the agents' samples in make bench's
	 * new-connection run).  So it is made here, and a NOP carries its
	 * result to conn_on_shutdown(), which runs as it would for the op.
	 */
	sqe = loop_sqe(t->loop, 1);
	io_uring_prep_nop(sqe);
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_SHUTDOWN, !side, 0));
	sink->shut_res = shutdown(sink->fd, SHUT_WR) ? -errno : 0;
	sink->wr_shut = true;
	c->dir[side].state = CONN_DIR_SHUTDOWN;
}

/* What conn_dir_fetch() found. */
enum conn_fetch {
	CONN_FETCH_DATA,	/* plaintext in d->data */
	CONN_FETCH_WAIT,	/* a recv is in flight */
	CONN_FETCH_EOF,		/* the TLS source sent close_notify */
	CONN_FETCH_FAILED,	/* the connection was aborted */
};

/* The next chunk of direction @side, whose previous one is all consumed:
 * what the TLS source has decrypted already, else a recv. */
static enum conn_fetch conn_dir_fetch(struct conn_table *t, struct conn *c,
				      enum conn_side side)
{
	struct conn_dir *d = &c->dir[side];
	struct conn_end *src = &c->end[side];
	ssize_t n;

	if (src->tls) {
		if (!d->pbuf)
			d->pbuf = loop_pbuf_get(t->loop);
		if (!d->pbuf) {
			conn_abort(t, c, "out of memory");
			return CONN_FETCH_FAILED;
		}
		n = tls_read(src->tls, d->pbuf, CONN_PBUF_SIZE);
		/* Reading may queue records of its own (alerts). */
		conn_tls_flush(t, c, side);
		if (n > 0) {
			d->data = d->pbuf;
			d->len = (uint32_t)n;
			if (d->pbuf_used < d->len)
				d->pbuf_used = d->len;
			return CONN_FETCH_DATA;
		}
		/* Nothing to decrypt for now: an idle connection holds no
		 * plaintext buffer. */
		conn_dir_pbuf_put(t, d);
		if (n == 0)
			return CONN_FETCH_EOF;
		if (n != -EAGAIN) {
			conn_dir_abort_tls(t, c, src, "tls read");
			return CONN_FETCH_FAILED;
		}
	}
	d->state = CONN_DIR_RECV;
	conn_submit_recv_into(t, c, side,
			      c->l7_deadline && side == CONN_DOWN ?
			      CONN_RECV_DL_INPUT : CONN_RECV_DL_NONE, false);
	return CONN_FETCH_WAIT;
}

/* Gives back the buffer of the chunk direction @side has consumed. */
static void conn_dir_release_chunk(struct conn_table *t, struct conn *c,
				   enum conn_side side)
{
	struct conn_dir *d = &c->dir[side];
	struct conn_end *src = &c->end[side];

	if (d->bid >= 0) {
		int bid = d->bid;

		d->bid = -1;
		loop_buf_put(t->loop, (uint16_t)bid, d->len);
	} else if (src->rbuf && d->data == src->rbuf) {
		loop_pbuf_put(t->loop, src->rbuf, d->len);
		src->rbuf = NULL;
	} else if (c->pt_buf && d->data == c->pt_buf) {
		conn_pt_buf_free(c);
	}
	d->data = NULL;
	d->off = d->len = 0;
	d->tapped = false;
}

static void conn_l7_run(struct conn_table *t, struct conn *c);

/*
 * Moves direction @side as far as it can go without waiting: hands the
 * chunk it holds to the sink, fetches the next one (decrypting what the
 * TLS source already has before asking the socket for more), and turns an
 * EOF into a shutdown of the sink.  Stops at the first thing to wait for.
 */
static void conn_dir_pump(struct conn_table *t, struct conn *c,
			  enum conn_side side)
{
	struct conn_dir *d = &c->dir[side];
	struct conn_end *sink = &c->end[!side];
	ssize_t n;

	if (c->l7) {
		conn_l7_run(t, c);
		return;
	}
	for (;;) {
		if (c->state != CONN_STATE_RELAY)
			return;
		switch (d->state) {
		case CONN_DIR_SEND:
			if (d->off < d->len) {
				if (c->tap && !d->tapped) {
					d->tapped = true;
					c->flow->ops->tap(c->flow->arg, c, side,
							  d->data + d->off,
							  d->len - d->off);
				}
				if (!sink->tls) {
					if (!sink->send_busy)
						conn_submit_send(t, c, !side,
								 d->data + d->off,
								 d->len - d->off);
					return;
				}
				n = tls_write(sink->tls, d->data + d->off,
					      d->len - d->off);
				if (n == -EAGAIN) {
					/* Queue full: resumes when a send
					 * of the sink completes. */
					conn_tls_flush(t, c, !side);
					return;
				}
				if (n < 0) {
					conn_dir_abort_tls(t, c, sink, "tls write");
					return;
				}
				d->off += (uint32_t)n;
				d->bytes += (uint64_t)n;
				t->stats->relay_bytes[side] += (uint64_t)n;
				conn_tls_flush(t, c, !side);
				continue;
			}
			/* The chunk is all with the sink: its buffer goes
			 * back (pbuf is kept for the next tls_read). */
			conn_dir_release_chunk(t, c, side);
			/* Backpressure: read more only once the sink's
			 * ciphertext has gone out. */
			if (sink->tls && conn_tls_busy(sink))
				return;
			switch (conn_dir_fetch(t, c, side)) {
			case CONN_FETCH_DATA:
				continue;
			case CONN_FETCH_EOF:
				conn_dir_eof(t, c, side);
				continue;
			default:
				return;
			}
		case CONN_DIR_FLUSH:
			conn_dir_shutdown_sink(t, c, side);
			return;
		case CONN_DIR_IDLE:
		case CONN_DIR_RECV:
		case CONN_DIR_SHUTDOWN:
		case CONN_DIR_DONE:
			/* Waiting for a completion. */
			return;
		}
		return;
	}
}

void conn_start_relay(struct conn_table *t, struct conn *c)
{
	for (int i = 0; i < 2; i++)
		c->dir[i].state = CONN_DIR_SEND;
	/* An L7 connection may start with no up end: it opens one for its
	 * first request (conn_up_open()). */
	if (c->end[CONN_UP].fd < 0)
		c->dir[CONN_UP].state = CONN_DIR_IDLE;
	c->state = CONN_STATE_RELAY;
	t->stats->relayed++;
	conn_dir_pump(t, c, CONN_DOWN);
	conn_dir_pump(t, c, CONN_UP);
}

/* ---- L7 relay -------------------------------------------------------------
 *
 * Input goes to the flow's "input" step; output comes from the ends'
 * queues (conn_write()).  A direction feeds the flow only while both
 * queues are under CONN_L7_OUT_HIGH, which bounds what a slow reader on
 * either side makes the agent hold to a chunk over that.  Everything runs
 * from conn_l7_run(), which a step may re-enter (a response that ends
 * resumes the request side): the nested call only asks for another round.
 */
#define CONN_L7_OUT_HIGH	(64u * 1024)

/* Moves what was written for end @side on: into its TLS session (which
 * then sends), or into a send of its own.  Returns false when that failed
 * and the connection was aborted. */
static bool conn_out_push(struct conn_table *t, struct conn *c,
			  enum conn_side side)
{
	struct conn_end *e = &c->end[side];
	const void *p;
	size_t n;
	ssize_t w;

	if (e->fd < 0 || e->wr_shut || e->opening)
		return true;	/* kept until the end is there */
	if (!e->tls) {
		n = bufq_out_peek(&e->out, &p);
		if (n && !e->send_busy)
			conn_submit_send(t, c, side, p,
					 n > UINT32_MAX ? UINT32_MAX :
							  (uint32_t)n);
		return true;
	}
	while ((n = bufq_out_peek(&e->out, &p)) > 0) {
		w = tls_write(e->tls, p, n);
		if (w == -EAGAIN)
			break;		/* on again when a send completes */
		if (w < 0) {
			conn_dir_abort_tls(t, c, e, "tls write");
			return false;
		}
		bufq_out_consume(&e->out, (size_t)w);
		c->dir[!side].bytes += (uint64_t)w;
		t->stats->relay_bytes[!side] += (uint64_t)w;
	}
	conn_tls_flush(t, c, side);
	return true;
}

static bool conn_out_full(const struct conn *c)
{
	return c->end[CONN_DOWN].out.len >= CONN_L7_OUT_HIGH ||
	       c->end[CONN_UP].out.len >= CONN_L7_OUT_HIGH;
}

/* The source of direction @side ended: the flow says whether the end goes
 * on to the sink. */
static void conn_dir_eof_l7(struct conn *c, enum conn_side side)
{
	if (c->flow->ops->input_eof(c->flow->arg, c, side) != 0)
		return;
	if (c->state == CONN_STATE_RELAY &&
	    c->dir[side].state != CONN_DIR_DONE)
		c->dir[side].state = CONN_DIR_FLUSH;
}

/* conn_dir_pump() of an L7 connection: one direction, one round. */
static void conn_dir_pump_l7(struct conn_table *t, struct conn *c,
			     enum conn_side side)
{
	const struct conn_flow_ops *ops = c->flow->ops;
	struct conn_dir *d = &c->dir[side];
	struct conn_end *src = &c->end[side], *sink = &c->end[!side];
	ssize_t n;
	int err;

	for (;;) {
		if (c->state != CONN_STATE_RELAY ||
		    !conn_out_push(t, c, CONN_DOWN) ||
		    !conn_out_push(t, c, CONN_UP))
			return;
		switch (d->state) {
		case CONN_DIR_SEND:
			if (c->l7_ending || src->paused)
				return;
			if (d->off < d->len) {
				if (conn_out_full(c))
					return;	/* on again after a send */
				n = ops->input(c->flow->arg, c, side,
					       d->data + d->off,
					       d->len - d->off);
				if (n < 0)
					return;
				/* The flow retired this end meanwhile
				 * (conn_up_retire()): its chunk went with
				 * it. */
				if (!d->data)
					return;
				d->off += (uint32_t)n;
				continue;
			}
			conn_dir_release_chunk(t, c, side);
			switch (conn_dir_fetch(t, c, side)) {
			case CONN_FETCH_DATA:
				continue;
			case CONN_FETCH_EOF:
				conn_dir_eof_l7(c, side);
				continue;
			default:
				return;
			}
		case CONN_DIR_FLUSH:
			if (sink->fd < 0) {
				/* No up end (an L7 connection between two):
				 * nothing to tell. */
				d->state = CONN_DIR_DONE;
				if (c->dir[!side].state == CONN_DIR_DONE)
					conn_finish(t, c);
				return;
			}
			/* What was written for the sink goes first, then
			 * its close_notify, then FIN. */
			if (sink->out.len > 0)
				return;
			if (sink->tls && !sink->notify_sent) {
				sink->notify_sent = true;
				err = tls_close_notify(sink->tls);
				if (err < 0) {
					conn_dir_abort_tls(t, c, sink,
							   "close_notify");
					return;
				}
			}
			conn_dir_shutdown_sink(t, c, side);
			return;
		case CONN_DIR_IDLE:
		case CONN_DIR_RECV:
		case CONN_DIR_SHUTDOWN:
		case CONN_DIR_DONE:
			return;
		}
		return;
	}
}

/* The one way into the L7 relay: both directions, until a round changes
 * nothing a nested call asked about. */
static void conn_l7_run(struct conn_table *t, struct conn *c)
{
	if (c->l7_busy) {
		c->l7_again = true;
		return;
	}
	c->l7_busy = true;
	do {
		c->l7_again = false;
		conn_dir_pump_l7(t, c, CONN_DOWN);
		conn_dir_pump_l7(t, c, CONN_UP);
	} while (c->l7_again && c->state == CONN_STATE_RELAY);
	c->l7_busy = false;
}

int conn_write(struct conn *c, enum conn_side side, const void *p, size_t n)
{
	return bufq_out_put(&c->end[side].out, p, n);
}

void conn_pause_input(struct conn *c, enum conn_side side)
{
	c->end[side].paused = true;
}

void conn_resume_input(struct conn_table *t, struct conn *c,
		       enum conn_side side)
{
	c->end[side].paused = false;
	c->end[side].watch = false;
	conn_l7_run(t, c);
}

void conn_up_watch(struct conn_table *t, struct conn *c)
{
	struct conn_end *e = &c->end[CONN_UP];

	/* Parking must take its recv back at once: without the kernel's
	 * call for it, the end waits unread as before. */
	if (!t->loop->cancel_now) {
		e->paused = true;
		return;
	}
	e->paused = false;
	e->watch = true;
	conn_l7_run(t, c);
}

void conn_input_deadline(struct conn *c, uint32_t ms)
{
	c->l7_deadline = ms > 0;
	if (ms)
		c->input_deadline = timer_turn_now() + (uint64_t)ms * 1000000u;
}

void conn_end_after_reply(struct conn_table *t, struct conn *c)
{
	struct conn_end *up = &c->end[CONN_UP];

	if (c->state != CONN_STATE_RELAY || c->l7_ending)
		return;
	c->l7_ending = true;
	c->dir[CONN_DOWN].state = CONN_DIR_DONE;
	c->dir[CONN_UP].state = CONN_DIR_FLUSH;
	/* The upstream is told the stream is over, cleanly if it can be:
	 * what was written for it was a whole message or nothing.  Unless
	 * the up end is to outlive the connection. */
	if (up->tls && !up->wr_shut && !up->notify_sent && !c->up_pool_ok) {
		up->notify_sent = true;
		if (tls_close_notify(up->tls) == 0)
			conn_tls_flush(t, c, CONN_UP);
	}
	conn_l7_run(t, c);
}

void conn_table_drain(struct conn_table *t)
{
	for (uint32_t i = 0; i < t->max_conns; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == CONN_STATE_RELAY && c->l7 && !c->l7_ending &&
		    c->flow->ops->drain)
			c->flow->ops->drain(c->flow->arg, c);
	}
}

void conn_kick(struct conn_table *t, struct conn *c)
{
	if (c->state == CONN_STATE_RELAY && c->l7)
		conn_l7_run(t, c);
}

/* ---- L7: the up end, opened, replaced and retired while relaying ----------
 *
 * An L7 connection opens its up end when a request needs one, and may
 * replace it between requests (another endpoint).  The end it leaves is
 * retired: moved aside with its epoch, sent its close_notify, its recv (if
 * any) cancelled, and closed once its last op completed.  Completions
 * carry the epoch of their end, so a retired end's never touch the new
 * one.  One end retires at a time.
 */

static int conn_submit_connect(struct conn_table *t, struct conn *c,
			       char *reason, size_t n);

/* user_data of op @op of the retired end, counted in flight. */
static uint64_t conn_ud_retired(const struct conn_table *t, struct conn *c,
				enum conn_op op)
{
	c->inflight++;
	c->retired.inflight++;
	return loop_ud(t->op[op], CONN_UP |
		       (c->retired.epoch & CONN_EPOCH_MASK) << CONN_AUX_EPOCH_SHIFT,
		       c->slot, c->gen);
}

static void conn_retired_free(struct conn_table *t, struct conn *c)
{
	struct conn_end *r = &c->retired;

	conn_end_untag(t, r);
	tls_sess_free(r->tls);
	loop_pbuf_put(t->loop, r->rbuf, LOOP_PBUF_SIZE);
	bufq_out_free(&r->out);
	conn_end_close(t, r);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	c->retiring = false;
}

static void conn_retired_cancel(struct conn_table *t, struct conn *c)
{
	struct conn_end *r = &c->retired;
	struct io_uring_sqe *sqe;

	if (r->fd < 0 || r->cancelled || r->inflight == 0)
		return;
	r->cancelled = true;
	sqe = loop_sqe(t->loop, 1);
	io_uring_prep_cancel_fd(sqe, r->fd, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, conn_ud_retired(t, c, CONN_OP_CANCEL));
}

/* Moves the retired end on: its close_notify out, then its recv
 * cancelled, then closed. */
static void conn_retired_pump(struct conn_table *t, struct conn *c)
{
	struct conn_end *r = &c->retired;
	struct io_uring_sqe *sqe;
	const void *p;
	size_t n;

	if (r->tls && !r->send_busy && !r->cancelled) {
		n = tls_out_pending(r->tls, &p);
		if (n > 0) {
			sqe = loop_sqe(t->loop, 1);
			io_uring_prep_send(sqe, r->fd, p,
					   n > UINT32_MAX ? UINT32_MAX :
							    (uint32_t)n,
					   MSG_NOSIGNAL);
			if (r->fixed)
				sqe->flags |= IOSQE_FIXED_FILE;
			io_uring_sqe_set_data64(sqe, conn_ud_retired(t, c,
								     CONN_OP_SEND));
			r->send_busy = true;
			return;
		}
	}
	if (r->send_busy)
		return;
	if (r->inflight > 0) {
		conn_retired_cancel(t, c);
		return;
	}
	conn_retired_free(t, c);
}

/* A completion of the retired end. */
static void conn_retired_cqe(struct conn_table *t, struct conn *c,
			     enum conn_op op, const struct io_uring_cqe *cqe)
{
	struct conn_end *r = &c->retired;
	unsigned int epoch = (loop_ud_aux(cqe->user_data) >>
			      CONN_AUX_EPOCH_SHIFT) & CONN_EPOCH_MASK;
	int bid = loop_cqe_bid(cqe);

	if (bid >= 0)
		loop_buf_put(t->loop, (uint16_t)bid,
			     cqe->res > 0 ? (size_t)cqe->res : 0);
	/* The cancelled recv of an end parked since (conn_up_park()), or an
	 * op of the retired end. */
	if (!c->retiring || r->inflight == 0 ||
	    epoch != (r->epoch & CONN_EPOCH_MASK))
		return;
	r->inflight--;
	if (op == CONN_OP_SEND) {
		r->send_busy = false;
		if (cqe->res > 0)
			tls_out_consume(r->tls, (size_t)cqe->res);
		else
			r->cancelled = true;	/* no more sends */
	} else if (op == CONN_OP_RECV) {
		r->recv_busy = false;
	}
	if (c->state != CONN_STATE_CLOSING)
		conn_retired_pump(t, c);
}

int conn_up_retire(struct conn_table *t, struct conn *c)
{
	struct conn_end *e = &c->end[CONN_UP];
	struct conn_dir *d = &c->dir[CONN_UP];
	uint8_t epoch = e->epoch;

	if (e->fd < 0)
		return 0;
	if (c->retiring)
		return -EBUSY;
	/* What the up direction holds came from that end. */
	if (d->data && d->data != d->pbuf)
		conn_dir_release_chunk(t, c, CONN_UP);
	d->data = NULL;
	d->off = d->len = 0;
	d->state = CONN_DIR_IDLE;
	c->retired = *e;
	c->retiring = true;
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->epoch = (uint8_t)(epoch + 1);
	bufq_out_free(&c->retired.out);
	c->retired.opening = false;
	if (c->retired.tls && !c->retired.wr_shut && !c->retired.notify_sent)
		(void)tls_close_notify(c->retired.tls);
	conn_retired_pump(t, c);
	return 0;
}

void conn_up_open(struct conn_table *t, struct conn *c)
{
	struct conn_end *e = &c->end[CONN_UP];
	struct timespec now;
	char reason[64];
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_nsec + (uint64_t)(c->up_timeout_ms ?
						c->up_timeout_ms :
						t->setup_timeout_ms) * 1000000u;
	e->deadline.tv_sec = now.tv_sec + (int64_t)(ns / 1000000000u);
	e->deadline.tv_nsec = (long long)(ns % 1000000000u);
	e->opening = true;
	e->tag = c->up_tag;
	c->up_tag = 0;
	c->dir[CONN_UP].state = CONN_DIR_IDLE;
	if (conn_submit_connect(t, c, reason, sizeof(reason))) {
		/* No socket, no end to retire: the tag goes now. */
		if (e->fd < 0)
			conn_end_untag(t, e);
		conn_up_failed(t, c, reason);
	}
}

void conn_up_ready(struct conn_table *t, struct conn *c)
{
	c->end[CONN_UP].opening = false;
	c->dir[CONN_UP].state = CONN_DIR_SEND;
	conn_l7_run(t, c);
}

void conn_up_failed(struct conn_table *t, struct conn *c, const char *reason)
{
	if (!c->l7 || c->state != CONN_STATE_RELAY || !c->end[CONN_UP].opening) {
		conn_abort(t, c, reason);
		return;
	}
	c->end[CONN_UP].opening = false;
	/* Its fd goes the way of a retired end; the flow answers for it. */
	if (conn_up_retire(t, c)) {
		conn_abort(t, c, reason);
		return;
	}
	c->flow->ops->upstream_failed(c->flow->arg, c, reason);
	conn_kick(t, c);
}

/* ---- the pool of up ends ---------------------------------------------------- */

static bool conn_pool_key_eq(const struct conn_pool_key *a,
			     const struct conn_pool_key *b)
{
	return a->addr.sin_addr.s_addr == b->addr.sin_addr.s_addr &&
	       a->addr.sin_port == b->addr.sin_port &&
	       a->dst_ip == b->dst_ip && a->dst_port == b->dst_port &&
	       a->epoch == b->epoch && !strcmp(a->src, b->src);
}

/* Closes pooled end @p (nothing of it is in flight). */
static void conn_pool_drop(struct conn_table *t, struct conn_pooled *p)
{
	conn_end_untag(t, &p->end);
	tls_sess_free(p->end.tls);
	bufq_out_free(&p->end.out);
	if (t->loop)
		conn_end_close(t, &p->end);
	else if (p->end.fd >= 0)
		close(p->end.fd);	/* never fixed without a loop */
	memset(p, 0, sizeof(*p));
	t->npooled--;
}

/* @c's up end is open, not opening, and has nothing of its own to send. */
static bool conn_up_quiet(const struct conn *c)
{
	const struct conn_end *e = &c->end[CONN_UP];

	return e->fd >= 0 && !e->opening && !e->wr_shut && !e->send_busy &&
	       e->out.len == 0;
}

/* True when a parked end's peer has neither closed it nor sent anything
 * (an idle upstream owes us nothing). */
static bool conn_pool_alive(const struct conn_pooled *p)
{
	char b;

	return recv(p->end.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

bool conn_up_park(struct conn_table *t, struct conn *c,
		  const struct conn_pool_key *k)
{
	struct conn_end *e = &c->end[CONN_UP];
	struct conn_dir *d = &c->dir[CONN_UP];
	struct conn_pooled *slot = NULL, *oldest = NULL;
	const void *q;
	uint8_t epoch = e->epoch;

	/* A watched end's recv goes now, not at the next submission: the
	 * pool holds ends with nothing in flight.  Its -ECANCELED comes
	 * under this end's epoch, which the connection's next up end does
	 * not have: conn_retired_cqe() lets it go.  Taken back, it saw no
	 * close: the socket needs no other look. */
	if (e->watch && e->recv_busy) {
		if (!conn_up_quiet(c) || loop_cancel_now(t->loop, e->recv_ud))
			return false;	/* busy, or it completed: bytes or a
					 * close */
		e->recv_busy = false;
		e->inflight--;
	} else if (!conn_up_reusable(c)) {
		return false;
	}
	e->watch = false;
	if (e->inflight > 0 || e->rbuf ||
	    (e->tls && tls_out_pending(e->tls, &q) > 0) ||
	    (d->data && d->off < d->len))
		return false;
	if (!t->pool) {
		t->pool = calloc(CONN_POOL_MAX, sizeof(*t->pool));
		if (!t->pool)
			return false;
	}
	for (size_t i = 0; i < CONN_POOL_MAX && !slot; i++) {
		if (!t->pool[i].used)
			slot = &t->pool[i];
		else if (!oldest || t->pool[i].parked_ns < oldest->parked_ns)
			oldest = &t->pool[i];
	}
	if (!slot) {
		t->stats->pool_evicted++;
		conn_pool_drop(t, oldest);
		slot = oldest;
	}
	/* What the up direction holds came from that end. */
	if (d->data)
		conn_dir_release_chunk(t, c, CONN_UP);
	conn_dir_pbuf_put(t, d);
	d->state = CONN_DIR_IDLE;
	slot->used = true;
	slot->key = *k;
	slot->end = *e;
	slot->end.paused = false;
	memcpy(slot->peer_spiffe, c->peer_spiffe, sizeof(slot->peer_spiffe));
	slot->parked_ns = mono_ns();
	t->npooled++;
	t->stats->pool_parked++;
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	e->epoch = (uint8_t)(epoch + 1);
	return true;
}

bool conn_up_unpark(struct conn_table *t, struct conn *c,
		    const struct conn_pool_key *k, char *peer_spiffe)
{
	struct conn_end *e = &c->end[CONN_UP];
	uint8_t epoch = e->epoch;

	if (!t->pool || e->fd >= 0)
		return false;
	for (size_t i = 0; i < CONN_POOL_MAX; i++) {
		struct conn_pooled *p = &t->pool[i];

		if (!p->used || !conn_pool_key_eq(&p->key, k))
			continue;
		if (!conn_pool_alive(p)) {
			t->stats->pool_expired++;
			conn_pool_drop(t, p);
			continue;
		}
		*e = p->end;
		/* Its ops from now on are the connection's. */
		e->epoch = epoch;
		e->inflight = 0;
		memcpy(peer_spiffe, p->peer_spiffe, MF_SPIFFE_MAX);
		memset(p, 0, sizeof(*p));
		t->npooled--;
		t->stats->pool_reused++;
		c->dir[CONN_UP].state = CONN_DIR_SEND;
		return true;
	}
	return false;
}

/* loop_user tick: parked ends idle too long, or closed by their peer, go. */
static void conn_pool_tick(void *arg)
{
	struct conn_table *t = arg;
	uint64_t now = mono_ns(), idle = (uint64_t)CONN_POOL_IDLE_MS * 1000000u;

	for (size_t i = 0; t->pool && t->npooled && i < CONN_POOL_MAX; i++) {
		struct conn_pooled *p = &t->pool[i];

		if (p->used && (now - p->parked_ns > idle ||
				!conn_pool_alive(p))) {
			t->stats->pool_expired++;
			conn_pool_drop(t, p);
		}
	}
}

bool conn_up_reusable(const struct conn *c)
{
	const struct conn_end *e = &c->end[CONN_UP];
	char b;

	if (!conn_up_quiet(c))
		return false;
	/* Watched (conn_up_watch()): a close or a byte would have come as
	 * input and retired it. */
	if (e->watch && e->recv_busy)
		return true;
	if (e->recv_busy)
		return false;
	/* An idle upstream owes us nothing: bytes or an end waiting on the
	 * socket mean it closed (or broke framing) meanwhile. */
	return recv(e->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) < 0 &&
	       (errno == EAGAIN || errno == EWOULDBLOCK);
}

/* ---- setup -------------------------------------------------------------- */

/* One step of the TLS handshake of end @side: on to the flow when it
 * ended, else another setup recv. */
static void conn_handshake_step(struct conn_table *t, struct conn *c,
				enum conn_side side)
{
	struct conn_end *e = &c->end[side];
	char reason[256];
	int err;

	err = tls_handshake(e->tls);
	conn_tls_flush(t, c, side);
	if (err == -EAGAIN) {
		if (!e->recv_busy)
			conn_submit_recv(t, c, side, true);
		return;
	}
	if (side == CONN_DOWN)
		conn_hs_put(t, c);
	if (!err) {
		t->stats->tls_ok++;
		t->stats->tls_suites[tls_suite_of(e->tls)]++;
		c->flow->ops->handshake_done(c->flow->arg, c, NULL);
		return;
	}
	t->stats->tls_failed++;
	t->stats->svid_refused[tls_peer_svid_rule(e->tls) % SVID_RULE_MAX]++;
	if (err == -EKEYREVOKED)
		t->stats->tls_revoked++;
	snprintf(reason, sizeof(reason), "tls handshake: %s",
		 tls_last_error(e->tls));
	c->flow->ops->handshake_done(c->flow->arg, c, reason);
}

void conn_handshake_start(struct conn_table *t, struct conn *c,
			  enum conn_side side)
{
	/* An L7 connection's new up end shakes hands while the connection
	 * relays: only that end is in setup. */
	if (c->state != CONN_STATE_RELAY)
		c->state = CONN_STATE_HANDSHAKE;
	conn_handshake_step(t, c, side);
}

/* Ciphertext was fed to end @side before the relay: the handshake's, or
 * the flow's own after it. */
static void conn_setup_recv(struct conn_table *t, struct conn *c,
			    enum conn_side side)
{
	if (c->state == CONN_STATE_HANDSHAKE || c->end[side].opening)
		conn_handshake_step(t, c, side);
	else if (c->flow->ops->setup_recv)
		c->flow->ops->setup_recv(c->flow->arg, c);
}

/* TCP keepalive on @fd: a peer that vanished without a word is found
 * and its connection ended, whatever the policy's timeouts. */
static void conn_keepalive(int fd)
{
	int one = 1, idle = CONN_KEEPALIVE_IDLE_S,
	    intvl = CONN_KEEPALIVE_INTVL_S, cnt = CONN_KEEPALIVE_CNT;

	(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
			 sizeof(intvl));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

/* Creates the up socket and submits its connect to c->up_addr under the
 * up end's deadline.  Returns 0, or -errno with *reason set. */
static int conn_submit_connect(struct conn_table *t, struct conn *c,
			       char *reason, size_t n)
{
	struct io_uring_sqe *sqe;
	int fd, one = 1;

	fd = socket(c->up_addr.sin_family == AF_INET6 ? AF_INET6 : AF_INET,
		    SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(reason, n, "socket: %s", strerror(errno));
		return -errno;
	}
	/* The relay writes whole chunks as they arrive; Nagle would only add
	 * latency to small request/response exchanges. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	conn_keepalive(fd);
	/* What the pods' TC egress program knows the agent's traffic by
	 * (abi.h): under STRICT, only it (and a pod's return traffic)
	 * reaches a pod.  Without CAP_NET_ADMIN the mark cannot be set,
	 * and STRICT would drop the agent's own connections: say so. */
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &(uint32_t){ MF_SKB_MARK_AGENT },
		       sizeof(uint32_t)) < 0 && !t->mark_warned) {
		t->mark_warned = true;
		log_warn("event=socket_mark_failed err=\"%s\" effect=\"under "
			 "STRICT mTLS the pods' TC programs drop this agent's "
			 "connections to them\"", strerror(errno));
	}
	c->end[CONN_UP].fd = fd;
	c->end[CONN_UP].fixed = loop_fd_fix(t->loop, fd);

	sqe = loop_sqe(t->loop, 2);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&c->up_addr6,
			      c->up_addr.sin_family == AF_INET6 ?
			      sizeof(c->up_addr6) : sizeof(c->up_addr));
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_CONNECT, CONN_UP, 0));
	sqe->flags |= IOSQE_IO_LINK;
	sqe = loop_sqe(t->loop, 1);
	io_uring_prep_link_timeout(sqe, &c->end[CONN_UP].deadline,
				   IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_LINK_TIMEOUT,
					     CONN_UP, 0));
	return 0;
}

void conn_connect(struct conn_table *t, struct conn *c)
{
	char reason[64];

	c->state = CONN_STATE_CONNECTING;
	if (conn_submit_connect(t, c, reason, sizeof(reason)))
		conn_abort(t, c, reason);
}

void conn_reconnect(struct conn_table *t, struct conn *c)
{
	conn_end_close(t, &c->end[CONN_UP]);
	conn_connect(t, c);
}

static void conn_on_connect(struct conn_table *t, struct conn *c,
			    const struct io_uring_cqe *cqe)
{
	char reason[96];

	if (c->state == CONN_STATE_RELAY && c->end[CONN_UP].opening) {
		/* An L7 connection's new up end. */
		if (cqe->res < 0) {
			snprintf(reason, sizeof(reason), "connect: %s",
				 cqe->res == -ECANCELED ? "timed out" :
							  strerror(-cqe->res));
			conn_up_failed(t, c, reason);
			return;
		}
		c->flow->ops->connected(c->flow->arg, c);
		return;
	}
	if (c->state != CONN_STATE_CONNECTING)
		return;		/* CLOSING: the abort said it all */
	if (cqe->res < 0) {
		snprintf(reason, sizeof(reason), "connect: %s",
			 cqe->res == -ECANCELED ? "timed out" :
						  strerror(-cqe->res));
		if (c->flow->ops->connect_failed &&
		    c->flow->ops->connect_failed(c->flow->arg, c, reason))
			return;
		conn_abort(t, c, reason);
		return;
	}
	c->flow->ops->connected(c->flow->arg, c);
}

/* ---- the TCP idle timeout ------------------------------------------------- */

/* The relay's bytes are looked at CONN_IDLE_CHECKS times per idle
 * timeout, not at each byte: it ends between the timeout and a quarter
 * more after its last byte, and a busy connection pays nothing. */
#define CONN_IDLE_CHECKS	4

static uint64_t conn_bytes(const struct conn *c)
{
	return c->dir[CONN_DOWN].bytes + c->dir[CONN_UP].bytes;
}

static uint64_t conn_idle_period(const struct conn *c)
{
	return (uint64_t)c->idle_ms * 1000000u / CONN_IDLE_CHECKS;
}

static void conn_idle_fire(struct timer *tm, uint64_t now)
{
	struct conn *c = (struct conn *)((char *)tm -
					 offsetof(struct conn, idle_timer));
	struct conn_table *t = c->flow->table;

	if (c->state != CONN_STATE_RELAY || !c->idle_ms)
		return;
	if (conn_bytes(c) != c->idle_bytes) {
		c->idle_bytes = conn_bytes(c);
		c->idle_quiet = 0;
	} else if (++c->idle_quiet == CONN_IDLE_CHECKS) {
		t->stats->timeouts[STATS_TIMEOUT_TCP_IDLE]++;
		conn_abort(t, c, "idle timeout");
		return;
	}
	(void)loop_timer_arm(t->loop, tm, now + conn_idle_period(c));
}

void conn_idle_timeout(struct conn_table *t, struct conn *c, uint32_t ms)
{
	c->idle_ms = ms;
	if (!ms) {
		loop_timer_cancel(t->loop, &c->idle_timer);
		return;
	}
	timer_init(&c->idle_timer, conn_idle_fire);
	c->idle_bytes = conn_bytes(c);
	c->idle_quiet = 0;
	if (loop_timer_arm(t->loop, &c->idle_timer,
			   timer_now() + conn_idle_period(c)))
		c->idle_ms = 0;	/* out of memory: no idle timeout */
}

void conn_await_first_byte(struct conn_table *t, struct conn *c, uint32_t ms)
{
	struct conn_end *e = &c->end[CONN_DOWN];
	struct __kernel_timespec *d = &c->first_byte_deadline;
	struct io_uring_sqe *sqe;
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_nsec + (uint64_t)ms * 1000000u;
	d->tv_sec = now.tv_sec + (int64_t)(ns / 1000000000u);
	d->tv_nsec = (long long)(ns % 1000000000u);
	if (d->tv_sec > e->deadline.tv_sec ||
	    (d->tv_sec == e->deadline.tv_sec &&
	     d->tv_nsec > e->deadline.tv_nsec))
		*d = e->deadline;
	/* A poll, not a recv: the socket holds the bytes, the agent holds
	 * no buffer and no session for a peer that has sent nothing. */
	sqe = loop_sqe(t->loop, 2);
	io_uring_prep_poll_add(sqe, e->fd, POLLIN);
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_POLL, CONN_DOWN, 0));
	sqe->flags |= IOSQE_IO_LINK;
	sqe = loop_sqe(t->loop, 1);
	io_uring_prep_link_timeout(sqe, d, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, conn_ud(t, c, CONN_OP_LINK_TIMEOUT,
					     CONN_DOWN, 0));
}

static void conn_on_poll(struct conn_table *t, struct conn *c,
			 const struct io_uring_cqe *cqe)
{
	if (c->state != CONN_STATE_ACCEPTED)
		return;
	if (cqe->res == -ECANCELED) {
		t->stats->refused_by[STATS_REFUSE_FIRST_BYTE]++;
		conn_abort(t, c, "no first byte in time");
		return;
	}
	if (cqe->res < 0) {
		conn_abort(t, c, "poll of the first byte failed");
		return;
	}
	/* A flow that waits again for more bytes before its handshake
	 * (conn_await_first_byte() once more) holds its place already. */
	if (!c->hs_held) {
		if (t->handshakes >= t->max_handshakes) {
			t->stats->refused_by[STATS_REFUSE_HANDSHAKES_FULL]++;
			conn_abort(t, c, "TLS handshakes at their cap");
			return;
		}
		c->hs_held = true;
		t->handshakes++;
	}
	c->flow->ops->first_byte(c->flow->arg, c);
}

/* @c, its addresses known, gets its setup deadline and goes to its flow's
 * "accepted" step. */
static void conn_begin(struct conn_table *t, struct conn *c)
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_nsec + (uint64_t)t->setup_timeout_ms * 1000000u;
	c->end[CONN_DOWN].deadline.tv_sec = now.tv_sec +
					    (int64_t)(ns / 1000000000u);
	c->end[CONN_DOWN].deadline.tv_nsec = (long long)(ns % 1000000000u);
	c->end[CONN_UP].deadline = c->end[CONN_DOWN].deadline;
	c->flow->ops->accepted(c->flow->arg, c);
}

/* The accept handler of every conn_listen() listener (@arg: its flow):
 * a slot, the addresses and the setup deadline, then the flow decides. */
static void conn_accept(void *arg, int fd)
{
	const struct conn_flow *f = arg;
	struct conn_table *t = f->table;
	socklen_t len;
	struct conn *c;

	c = conn_new(t, f, fd);
	if (!c) {
		bool full = t->nfree == 0;

		t->stats->refused_by[full ? STATS_REFUSE_TABLE_FULL :
				     STATS_REFUSE_LISTENER_FULL]++;
		if (log_limit_ok(&t->refuse_log, LOG_LVL_WARN, "refused"))
			log_warn("event=refused kind=%s reason=\"%s\"",
				 f->ops->name, full ? "connection table full" :
				 "the listener's connection budget is used");
		return;
	}
	conn_keepalive(fd);
	/* Room for either family (the IPv6 outbound listener's). */
	len = sizeof(c->down_local6);
	if (getsockname(fd, (struct sockaddr *)&c->down_local6, &len) < 0) {
		conn_abort(t, c, "getsockname failed");
		goto out;
	}
	len = sizeof(c->down_peer6);
	if (getpeername(fd, (struct sockaddr *)&c->down_peer6, &len) < 0) {
		/* The client is gone already (reset before we got to it). */
		conn_abort(t, c, NULL);
		goto out;
	}
	if (!conn_source_take(t, c)) {
		t->stats->refused_by[STATS_REFUSE_SOURCE_FULL]++;
		conn_abort(t, c, "the peer's share of the listener is used");
		goto out;
	}
	conn_begin(t, c);
out:
	conn_reap(t, c);
}

/* The flow of @ops and @arg, registered when new; NULL when the table has
 * CONN_FLOWS_MAX already. */
static struct conn_flow *conn_flow_of(struct conn_table *t,
				      const struct conn_flow_ops *ops,
				      void *arg, bool *is_new)
{
	unsigned int i;

	for (i = 0; i < t->nflows; i++)
		if (t->flows[i].ops == ops && t->flows[i].arg == arg)
			break;
	if (i == CONN_FLOWS_MAX)
		return NULL;
	*is_new = i == t->nflows;
	if (*is_new)
		t->flows[i] = (struct conn_flow){ .ops = ops, .arg = arg,
						  .table = t };
	return &t->flows[i];
}

int conn_adopt(struct conn_table *t, const struct conn_flow_ops *ops,
	       void *arg, int fd, const struct sockaddr_in *peer,
	       const struct sockaddr_in *local)
{
	struct conn_flow *f;
	struct conn *c;
	bool is_new;

	f = conn_flow_of(t, ops, arg, &is_new);
	if (!f) {
		loop_close_fd(t->loop, fd, true);
		return -ENOSPC;
	}
	if (is_new)
		t->nflows++;
	c = conn_new(t, f, fd);
	if (!c)
		return -ENOSPC;
	c->down_peer = *peer;
	c->down_local = *local;
	conn_begin(t, c);
	conn_reap(t, c);
	return 0;
}

static const char *conn_side_str(enum conn_side side)
{
	return side == CONN_DOWN ? "down" : "up";
}

/* A recv completed: data for a direction, ciphertext for a setup step,
 * EOF, or an error. */
static void conn_on_recv(struct conn_table *t, struct conn *c,
			 const struct io_uring_cqe *cqe)
{
	unsigned int aux = loop_ud_aux(cqe->user_data);
	enum conn_side side = aux & 1;
	bool own_buf = aux & CONN_RECV_OWN_BUF;
	int res = cqe->res, bid = loop_cqe_bid(cqe);
	struct conn_end *e = &c->end[side];
	struct conn_dir *d = &c->dir[side];
	char reason[96];
	uint8_t *buf;
	int err;

	e->recv_busy = false;
	e->drained = res > 0 && !(cqe->flags & IORING_CQE_F_SOCK_NONEMPTY);
	if (c->state == CONN_STATE_CLOSING) {
		if (bid >= 0)
			loop_buf_put(t->loop, (uint16_t)bid,
				     res > 0 ? (size_t)res : 0);
		return;
	}
	if (res == -ENOBUFS && bid < 0 && !own_buf) {
		/*
		 * The ring ran dry: ring buffers are held by directions whose
		 * sink is slow to take data.  Waiting for one to come back
		 * would let a few stalled peers stall everybody, so this recv
		 * reads into a buffer of the end's own instead.
		 */
		t->stats->ring_empty++;
		if (!e->rbuf)
			e->rbuf = loop_pbuf_get(t->loop);
		if (!e->rbuf) {
			conn_abort(t, c, "out of memory");
			return;
		}
		conn_submit_recv_into(t, c, side,
				      e->input_recv ? CONN_RECV_DL_INPUT :
				      e->setup_recv ? CONN_RECV_DL_LINKED :
				      CONN_RECV_DL_NONE, true);
		return;
	}
	if (res <= 0) {
		if (bid >= 0)
			loop_buf_put(t->loop, (uint16_t)bid, 0);
		if (res == 0 && c->state == CONN_STATE_RELAY &&
		    (!e->tls || tls_eof_is_end(e->tls))) {
			if (c->l7) {
				if (!c->l7_ending)
					conn_dir_eof_l7(c, side);
			} else {
				conn_dir_eof(t, c, side);
			}
			conn_dir_pump(t, c, side);
			return;
		}
		if (e->opening && c->state == CONN_STATE_RELAY) {
			snprintf(reason, sizeof(reason), "%s",
				 res == 0 ? "upstream closed during its handshake" :
				 res == -ECANCELED ? "upstream handshake timed out" :
				 strerror(-res));
			conn_up_failed(t, c, reason);
			return;
		}
		if (side == CONN_UP && c->l7 && c->state == CONN_STATE_RELAY &&
		    !c->l7_ending && res != -ECANCELED) {
			/* An upstream that reset, or closed without
			 * close_notify, is the flow's to answer for as one
			 * that closed: 502 for a request it took, another up
			 * end for the next one. */
			conn_dir_eof_l7(c, side);
			conn_dir_pump(t, c, side);
			return;
		}
		if (res == -ECANCELED && e->setup_recv && c->l7 &&
		    c->state == CONN_STATE_RELAY) {
			/* The flow's input deadline (a request head that
			 * takes too long, an idle keep-alive connection). */
			if (!c->l7_ending)
				c->flow->ops->input_timeout(c->flow->arg, c);
			conn_kick(t, c);
			return;
		}
		if (res == 0)
			snprintf(reason, sizeof(reason), "%s closed %s",
				 conn_side_str(side),
				 e->tls ? "without close_notify" :
					  conn_state_str(c->state));
		else if (res == -ECANCELED && e->setup_recv)
			snprintf(reason, sizeof(reason),
				 "setup timeout in %s", conn_state_str(c->state));
		else
			snprintf(reason, sizeof(reason), "recv %s: %s",
				 conn_side_str(side), strerror(-res));
		conn_abort_io(t, c, reason, -res);
		return;
	}
	if (c->l7_ending) {
		/* The connection ends after a reply of the flow's own:
		 * nothing more of its input is read. */
		if (bid >= 0)
			loop_buf_put(t->loop, (uint16_t)bid, (size_t)res);
		else if (own_buf) {
			loop_pbuf_put(t->loop, e->rbuf, (size_t)res);
			e->rbuf = NULL;
		}
		conn_kick(t, c);
		return;
	}
	if (bid >= 0) {
		buf = loop_buf(t->loop, (uint16_t)bid);
	} else if (own_buf) {
		buf = e->rbuf;
	} else {
		conn_abort(t, c, "recv completed without a buffer");
		return;
	}
	if (e->tls) {
		/* Ciphertext: wolfSSL copies it, the buffer is free again. */
		err = tls_feed(e->tls, buf, (size_t)res);
		if (bid >= 0) {
			loop_buf_put(t->loop, (uint16_t)bid, 0);
		} else {
			loop_pbuf_put(t->loop, e->rbuf, (size_t)res);
			e->rbuf = NULL;
		}
		if (err < 0) {
			snprintf(reason, sizeof(reason), "tls feed: %s",
				 strerror(-err));
			conn_abort(t, c, reason);
			return;
		}
		if (c->state == CONN_STATE_RELAY && !e->opening) {
			d->state = CONN_DIR_SEND;
			conn_dir_pump(t, c, side);
		} else {
			conn_setup_recv(t, c, side);
		}
		return;
	}
	if (c->state != CONN_STATE_RELAY) {
		if (bid >= 0)
			loop_buf_put(t->loop, (uint16_t)bid, (size_t)res);
		conn_abort(t, c, "plaintext recv before relay");	/* reap frees rbuf */
		return;
	}
	/* Plaintext: the buffer itself is the chunk, sent as is, and given
	 * back once all sent (before the next recv). */
	d->bid = bid;
	d->data = buf;
	d->off = 0;
	d->len = (uint32_t)res;
	d->state = CONN_DIR_SEND;
	conn_dir_pump(t, c, side);
}

static void conn_on_send(struct conn_table *t, struct conn *c,
			 const struct io_uring_cqe *cqe)
{
	enum conn_side side = loop_ud_aux(cqe->user_data) & 1;
	int res = cqe->res;
	struct conn_end *e = &c->end[side];
	struct conn_dir *d = &c->dir[!side];
	char reason[96];

	e->send_busy = false;
	if (c->state == CONN_STATE_CLOSING)
		return;
	if (res <= 0) {
		/* A send of a non-empty buffer that moved nothing would only
		 * be resubmitted forever. */
		snprintf(reason, sizeof(reason), "send %s: %s",
			 conn_side_str(side),
			 res ? strerror(-res) : "no progress");
		conn_abort_io(t, c, reason, -res);
		return;
	}
	if (e->tls) {
		tls_out_consume(e->tls, (size_t)res);
		conn_tls_flush(t, c, side);
	} else if (c->l7) {
		bufq_out_consume(&e->out, (size_t)res);
		d->bytes += (uint64_t)res;
		t->stats->relay_bytes[!side] += (uint64_t)res;
	} else {
		d->off += (uint32_t)res;
		d->bytes += (uint64_t)res;
		t->stats->relay_bytes[!side] += (uint64_t)res;
	}
	/* The direction writing to this end may have been waiting for it. */
	conn_dir_pump(t, c, !side);
}

static void conn_on_shutdown(struct conn_table *t, struct conn *c,
			     const struct io_uring_cqe *cqe)
{
	enum conn_side side = loop_ud_aux(cqe->user_data) & 1;
	int res = c->end[side].shut_res;	/* the NOP's own is 0 */
	char reason[96];

	if (c->state == CONN_STATE_CLOSING)
		return;
	if (res < 0) {
		/* ENOTCONN: the peer reset meanwhile, its own business. */
		snprintf(reason, sizeof(reason), "shutdown %s: %s",
			 conn_side_str(side), strerror(-res));
		conn_abort_io(t, c, reason, -res);
		return;
	}
	c->dir[!side].state = CONN_DIR_DONE;
	if (c->dir[CONN_DOWN].state == CONN_DIR_DONE &&
	    c->dir[CONN_UP].state == CONN_DIR_DONE)
		conn_finish(t, c);
}

/* ---- the table ----------------------------------------------------------- */

/* The handler of every conn op (@arg: the op's slot): the connection, its
 * op counted off, the op's own handler, and the release when that was the
 * last thing in flight of a closing connection. */
static void conn_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	const struct conn_op_slot *s = arg;
	struct conn *c = conn_from_ud(s->t, cqe->user_data);
	struct conn_end *e;
	unsigned int aux;
	int bid;

	if (!c) {
		/* Cannot happen while every op is counted in inflight; kept
		 * as the safety net the generation is for. */
		s->t->loop->stats.stale_cqes++;
		bid = loop_cqe_bid(cqe);
		if (bid >= 0)
			loop_buf_put(s->t->loop, (uint16_t)bid,
				     cqe->res > 0 ? (size_t)cqe->res : 0);
		return;
	}
	c->inflight--;
	aux = loop_ud_aux(cqe->user_data);
	e = &c->end[aux & 1];
	if (((aux >> CONN_AUX_EPOCH_SHIFT) & CONN_EPOCH_MASK) !=
	    (e->epoch & CONN_EPOCH_MASK)) {
		/* An op of an up end retired since. */
		conn_retired_cqe(s->t, c, (enum conn_op)(s - s->t->op_slot),
				 cqe);
		conn_reap(s->t, c);
		return;
	}
	if (e->inflight > 0)
		e->inflight--;
	/* No handler: a linked timeout (-ETIME: it fired, and its target
	 * completes with -ECANCELED, whose handler reports the timeout) or a
	 * cancel, which only needed counting. */
	if (s->fn)
		s->fn(s->t, c, cqe);
	conn_reap(s->t, c);
}

static const struct {
	const char *name;
	void (*fn)(struct conn_table *t, struct conn *c,
		   const struct io_uring_cqe *cqe);
} conn_ops[CONN_OP_MAX] = {
	[CONN_OP_CONNECT] = { "conn_connect", conn_on_connect },
	[CONN_OP_RECV] = { "conn_recv", conn_on_recv },
	[CONN_OP_SEND] = { "conn_send", conn_on_send },
	[CONN_OP_SHUTDOWN] = { "conn_shutdown", conn_on_shutdown },
	[CONN_OP_LINK_TIMEOUT] = { "conn_link_timeout", NULL },
	[CONN_OP_CANCEL] = { "conn_cancel", NULL },
	[CONN_OP_POLL] = { "conn_poll", conn_on_poll },
};

/* loop_user: the loop is going away. */
static void conn_abort_all(void *arg)
{
	struct conn_table *t = arg;

	for (uint32_t i = 0; i < t->max_conns; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == CONN_STATE_FREE)
			continue;
		conn_abort(t, c, NULL);
		conn_reap(t, c);
	}
}

static bool conn_busy(void *arg)
{
	const struct conn_table *t = arg;

	return t->stats->conns > 0;
}

/* Ops the kernel never completed: release the slots all the same. */
static void conn_forget(void *arg)
{
	struct conn_table *t = arg;

	for (uint32_t i = 0; i < t->max_conns; i++) {
		struct conn *c = &t->conns[i];

		if (c->state == CONN_STATE_FREE)
			continue;
		log_warn("event=conn_leak conn=%llu inflight=%u",
			 (unsigned long long)c->id, c->inflight);
		c->inflight = 0;
		conn_reap(t, c);
	}
}

int conn_table_init(struct conn_table *t, struct loop *l, struct stats *st,
		    const struct conn_table_config *cfg)
{
	const struct loop_user user = {
		.arg = t, .abort_all = conn_abort_all, .busy = conn_busy,
		.forget = conn_forget, .tick = conn_pool_tick,
	};
	int op;

	memset(t, 0, sizeof(*t));
	t->loop = l;
	t->stats = st;
	t->max_conns = cfg->max_conns ? cfg->max_conns : CONN_DEFAULT_MAX_CONNS;
	t->setup_timeout_ms = cfg->setup_timeout_ms ? cfg->setup_timeout_ms :
			      CONN_DEFAULT_SETUP_TIMEOUT_MS;
	if (t->max_conns > LOOP_MAX_SLOTS)
		return -EINVAL;
	t->flow_budget = cfg->max_conns_per_flow ? cfg->max_conns_per_flow :
			 t->max_conns / 2;
	t->source_budget = cfg->max_conns_per_source ?
			   cfg->max_conns_per_source : t->flow_budget / 2;
	t->max_handshakes = cfg->max_handshakes ? cfg->max_handshakes :
			    CONN_DEFAULT_MAX_HANDSHAKES;
	t->sources = calloc(CONN_SOURCE_SLOTS, sizeof(*t->sources));
	if (!t->sources)
		return -ENOMEM;
	t->refuse_log = (struct log_limit)LOG_LIMIT_INIT(CONN_REFUSE_LOG_BURST);
	t->conns = calloc(t->max_conns, sizeof(*t->conns));
	t->free_slots = calloc(t->max_conns, sizeof(*t->free_slots));
	if (!t->conns || !t->free_slots)
		return -ENOMEM;
	/* Lowest slots first, so a quiet agent touches few pages of the
	 * table (calloc'ed: untouched slots cost no memory). */
	for (uint32_t i = 0; i < t->max_conns; i++)
		t->free_slots[i] = t->max_conns - 1 - i;
	t->nfree = t->max_conns;
	for (int i = 0; i < CONN_OP_MAX; i++) {
		t->op_slot[i].t = t;
		t->op_slot[i].fn = conn_ops[i].fn;
		op = loop_op_add(l, conn_ops[i].name, conn_cqe, &t->op_slot[i]);
		if (op < 0)
			return op;
		t->op[i] = (uint8_t)op;
	}
	return loop_user_add(l, &user);
}

void conn_table_fini(struct conn_table *t)
{
	/* The loop is gone: parked ends are closed here, synchronously. */
	t->loop = NULL;
	for (size_t i = 0; t->pool && i < CONN_POOL_MAX; i++)
		if (t->pool[i].used)
			conn_pool_drop(t, &t->pool[i]);
	free(t->pool);
	t->pool = NULL;
	free(t->conns);
	t->conns = NULL;
	free(t->free_slots);
	t->free_slots = NULL;
	free(t->sources);
	t->sources = NULL;
}

/* conn_listen() and conn_listen6(). */
static int conn_listen_at(struct conn_table *t, const char *name,
			  uint32_t addr, uint16_t port, bool v6,
			  const struct conn_flow_ops *ops, void *arg)
{
	struct conn_flow *f;
	bool is_new;
	int id;

	f = conn_flow_of(t, ops, arg, &is_new);
	if (!f)
		return -ENOSPC;
	id = v6 ? loop_listen6(t->loop, name, port, conn_accept, f) :
		  loop_listen(t->loop, name, addr, port, conn_accept, f);
	if (id < 0)
		return id;
	/* Counted only now: a flow no listener took is no flow. */
	if (is_new)
		t->nflows++;
	t->listener_flow[id] = f;
	return id;
}

int conn_listen(struct conn_table *t, const char *name, uint32_t addr,
		uint16_t port, const struct conn_flow_ops *ops, void *arg)
{
	return conn_listen_at(t, name, addr, port, false, ops, arg);
}

int conn_listen6(struct conn_table *t, const char *name, uint16_t port,
		 const struct conn_flow_ops *ops, void *arg)
{
	return conn_listen_at(t, name, 0, port, true, ops, arg);
}

int conn_unlisten(struct conn_table *t, int id)
{
	if (id < 0 || id >= LOOP_LISTENERS_MAX || !t->listener_flow[id])
		return -ENOENT;
	/* The flow stays: the listener's connections still follow it. */
	t->listener_flow[id] = NULL;
	return loop_unlisten(t->loop, id);
}
