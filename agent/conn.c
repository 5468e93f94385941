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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "tls.h"
#include "tunnel.h"

const char *conn_state_str(enum conn_state s)
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

const char *conn_dir_state_str(enum conn_dir_state s)
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

const char *conn_kind_str(enum conn_kind k)
{
	switch (k) {
	case CONN_KIND_OUTBOUND:	return "outbound";
	case CONN_KIND_INBOUND:		return "inbound";
	case CONN_KIND_FORWARD:		return "forward";
	}
	return "?";
}

const char *conn_addr_str(const struct sockaddr_in *sa, char *buf)
{
	char ip[INET_ADDRSTRLEN];

	if (sa->sin_family != AF_INET ||
	    !inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip)))
		strcpy(ip, "-");
	snprintf(buf, CONN_ADDR_STRLEN, "%s:%u", ip, ntohs(sa->sin_port));
	return buf;
}

uint64_t conn_ud(const struct conn *c, int op, unsigned int aux)
{
	return loop_ud(op, aux, c->slot, c->gen);
}

struct conn *conn_new(struct loop *l, enum conn_kind kind, int fd)
{
	struct conn *c;
	uint32_t slot, gen;

	if (l->nfree == 0) {
		loop_close_fd(l, fd, true);
		return NULL;
	}
	slot = l->free_slots[--l->nfree];
	c = &l->conns[slot];
	gen = c->gen;
	memset(c, 0, sizeof(*c));
	c->slot = slot;
	c->gen = gen;
	c->kind = kind;
	c->state = CONN_STATE_ACCEPTED;
	c->id = ++l->next_conn_id;
	c->end[CONN_DOWN].fd = fd;
	c->end[CONN_UP].fd = -1;
	for (int i = 0; i < 2; i++) {
		c->dir[i].state = CONN_DIR_IDLE;
		c->dir[i].bid = -1;
	}
	l->cstats.conns++;
	l->cstats.accepted++;
	return c;
}

struct conn *conn_from_ud(struct loop *l, uint64_t ud)
{
	uint32_t slot = loop_ud_slot(ud);
	struct conn *c;

	if (slot >= l->max_conns)
		return NULL;
	c = &l->conns[slot];
	if (c->state == CONN_STATE_FREE ||
	    (c->gen & LOOP_UD_GEN_MASK) != loop_ud_gen(ud))
		return NULL;
	return c;
}

/* Cancels every op in flight on both fds, so CLOSING can complete. */
static void conn_cancel_all(struct loop *l, struct conn *c)
{
	for (int i = 0; i < 2; i++) {
		struct conn_end *e = &c->end[i];
		struct io_uring_sqe *sqe;

		if (e->fd < 0)
			continue;
		sqe = loop_sqe(l, 1);
		io_uring_prep_cancel_fd(sqe, e->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, conn_ud(c, LOOP_OP_CANCEL, i));
		c->inflight++;
	}
}

/* conn_abort() with the level to log @reason at. */
static void conn_abort_lvl(struct loop *l, struct conn *c,
			   enum log_level lvl, const char *reason)
{
	char down[CONN_ADDR_STRLEN], up[CONN_ADDR_STRLEN];

	if (c->state == CONN_STATE_CLOSING || c->state == CONN_STATE_FREE)
		return;
	if (reason)
		log_msg(lvl, "event=conn_abort conn=%llu kind=%s state=%s "
			"down=%s up=%s down_state=%s up_state=%s reason=\"%s\"",
			(unsigned long long)c->id, conn_kind_str(c->kind),
			conn_state_str(c->state),
			conn_addr_str(&c->down_peer, down),
			conn_addr_str(&c->up_addr, up),
			conn_dir_state_str(c->dir[CONN_DOWN].state),
			conn_dir_state_str(c->dir[CONN_UP].state), reason);
	if (c->state == CONN_STATE_RELAY)
		l->cstats.aborted++;
	else
		l->cstats.refused++;
	c->state = CONN_STATE_CLOSING;
	for (int i = 0; i < 2; i++)
		if (c->end[i].fd >= 0)
			loop_set_rst(c->end[i].fd);
	if (c->inflight > 0)
		conn_cancel_all(l, c);
}

void conn_abort(struct loop *l, struct conn *c, const char *reason)
{
	conn_abort_lvl(l, c, LOG_LVL_WARN, reason);
}

/* A socket error while relaying: usually a peer that reset or went away,
 * which is the peer's business rather than ours, so it logs at info. */
static void conn_abort_io(struct loop *l, struct conn *c, const char *reason,
			  int err)
{
	bool peer = c->state == CONN_STATE_RELAY &&
		    (err == ECONNRESET || err == EPIPE);

	conn_abort_lvl(l, c, peer ? LOG_LVL_INFO : LOG_LVL_WARN, reason);
}

/* Both directions are DONE: close both sockets without RST. */
static void conn_finish(struct loop *l, struct conn *c)
{
	log_debug("event=conn_done conn=%llu kind=%s bytes_down_up=%llu "
		  "bytes_up_down=%llu", (unsigned long long)c->id,
		  conn_kind_str(c->kind),
		  (unsigned long long)c->dir[CONN_DOWN].bytes,
		  (unsigned long long)c->dir[CONN_UP].bytes);
	l->cstats.finished++;
	c->state = CONN_STATE_CLOSING;
	/* Nothing should be in flight with both directions done; if a TLS
	 * flush still is, it has nowhere to go. */
	if (c->inflight > 0)
		conn_cancel_all(l, c);
}

void conn_reap(struct loop *l, struct conn *c)
{
	if (c->state != CONN_STATE_CLOSING || c->inflight > 0)
		return;
	for (int i = 0; i < 2; i++) {
		struct conn_end *e = &c->end[i];
		struct conn_dir *d = &c->dir[i];

		tls_sess_free(e->tls);
		e->tls = NULL;
		loop_pbuf_put(l, e->rbuf);
		e->rbuf = NULL;
		if (e->fd >= 0)
			loop_close_fd(l, e->fd, false);	/* linger set already */
		e->fd = -1;
		loop_pbuf_put(l, d->pbuf);
		d->pbuf = NULL;
		if (d->bid >= 0) {
			int bid = d->bid;

			d->bid = -1;
			loop_buf_put(l, (uint16_t)bid);
		}
	}
	if (c->policy) {
		policy_put(c->policy);
		c->policy = NULL;
	}
	c->endpoint = NULL;
	c->src_spiffe = NULL;
	c->state = CONN_STATE_FREE;
	c->gen = (c->gen + 1) & LOOP_UD_GEN_MASK;
	l->free_slots[l->nfree++] = c->slot;
	l->cstats.conns--;
}

/* Submits a recv on end @side: into a ring buffer the kernel selects, or
 * with @own_buf into the end's rbuf.  With @deadline it is linked to
 * c->deadline. */
static void conn_submit_recv_into(struct loop *l, struct conn *c,
				  enum conn_side side, bool deadline,
				  bool own_buf)
{
	struct conn_end *e = &c->end[side];
	struct io_uring_sqe *sqe;

	sqe = loop_sqe(l, deadline ? 2 : 1);
	if (own_buf) {
		io_uring_prep_recv(sqe, e->fd, e->rbuf, CONN_PBUF_SIZE, 0);
	} else {
		io_uring_prep_recv(sqe, e->fd, NULL, l->buf_size, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = LOOP_BGID;
	}
	io_uring_sqe_set_data64(sqe, conn_ud(c, LOOP_OP_RECV,
					     side | (own_buf ? LOOP_RECV_OWN_BUF : 0)));
	c->inflight++;
	e->recv_busy = true;
	e->setup_recv = deadline;
	if (!deadline)
		return;
	/* loop_sqe(l, 2) left room for both: the link cannot be split by a
	 * submit in between. */
	sqe->flags |= IOSQE_IO_LINK;
	sqe = loop_sqe(l, 1);
	io_uring_prep_link_timeout(sqe, &c->deadline, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, conn_ud(c, LOOP_OP_LINK_TIMEOUT, side));
	c->inflight++;
}

void conn_submit_recv(struct loop *l, struct conn *c, enum conn_side side,
		      bool deadline)
{
	conn_submit_recv_into(l, c, side, deadline, false);
}

/* Submits a send of @len bytes at @p on end @side. */
static void conn_submit_send(struct loop *l, struct conn *c,
			     enum conn_side side, const void *p, uint32_t len)
{
	struct conn_end *e = &c->end[side];
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_send(sqe, e->fd, p, len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, conn_ud(c, LOOP_OP_SEND, side));
	c->inflight++;
	e->send_busy = true;
}

void conn_tls_flush(struct loop *l, struct conn *c, enum conn_side side)
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
	conn_submit_send(l, c, side, p, (uint32_t)n);
}

/* True while end @e has ciphertext queued or on its way out. */
static bool conn_tls_busy(struct conn_end *e)
{
	const void *p;

	return e->send_busy || tls_out_pending(e->tls, &p) > 0;
}

static void conn_dir_abort_tls(struct loop *l, struct conn *c,
			       struct conn_end *e, const char *what)
{
	char reason[256];

	snprintf(reason, sizeof(reason), "%s: %s", what,
		 tls_last_error(e->tls));
	conn_abort(l, c, reason);
}

/* The source of direction @side reached its end: queue the sink's
 * close_notify when it speaks TLS and move to FLUSH. */
static void conn_dir_eof(struct loop *l, struct conn *c, enum conn_side side)
{
	struct conn_end *sink = &c->end[!side];
	int err;

	c->dir[side].state = CONN_DIR_FLUSH;
	if (sink->tls) {
		err = tls_close_notify(sink->tls);
		if (err < 0) {
			conn_dir_abort_tls(l, c, sink, "close_notify");
			return;
		}
		conn_tls_flush(l, c, !side);
	}
}

/*
 * Moves direction @side as far as it can go without waiting: hands the
 * chunk it holds to the sink, fetches the next one (decrypting what the
 * TLS source already has before asking the socket for more), and turns an
 * EOF into a shutdown of the sink.  Stops at the first thing to wait for.
 */
static void conn_dir_pump(struct loop *l, struct conn *c, enum conn_side side)
{
	struct conn_dir *d = &c->dir[side];
	struct conn_end *src = &c->end[side], *sink = &c->end[!side];
	struct io_uring_sqe *sqe;
	ssize_t n;

	for (;;) {
		if (c->state != CONN_STATE_RELAY)
			return;
		switch (d->state) {
		case CONN_DIR_SEND:
			if (d->off < d->len) {
				if (!sink->tls) {
					if (!sink->send_busy)
						conn_submit_send(l, c, !side,
								 d->data + d->off,
								 d->len - d->off);
					return;
				}
				n = tls_write(sink->tls, d->data + d->off,
					      d->len - d->off);
				if (n == -EAGAIN) {
					/* Queue full: resumes when a send
					 * of the sink completes. */
					conn_tls_flush(l, c, !side);
					return;
				}
				if (n < 0) {
					conn_dir_abort_tls(l, c, sink, "tls write");
					return;
				}
				d->off += (uint32_t)n;
				d->bytes += (uint64_t)n;
				l->cstats.relay_bytes[side] += (uint64_t)n;
				conn_tls_flush(l, c, !side);
				continue;
			}
			/* The chunk is all with the sink: its buffer goes
			 * back (pbuf is kept for the next tls_read). */
			if (d->bid >= 0) {
				int bid = d->bid;

				d->bid = -1;
				loop_buf_put(l, (uint16_t)bid);
			} else if (src->rbuf && d->data == src->rbuf) {
				loop_pbuf_put(l, src->rbuf);
				src->rbuf = NULL;
			}
			d->data = NULL;
			d->off = d->len = 0;
			/* Backpressure: read more only once the sink's
			 * ciphertext has gone out. */
			if (sink->tls && conn_tls_busy(sink))
				return;
			if (src->tls) {
				if (!d->pbuf)
					d->pbuf = loop_pbuf_get(l);
				if (!d->pbuf) {
					conn_abort(l, c, "out of memory");
					return;
				}
				n = tls_read(src->tls, d->pbuf, CONN_PBUF_SIZE);
				/* Reading may queue records of its own
				 * (alerts, key updates). */
				conn_tls_flush(l, c, side);
				if (n > 0) {
					d->data = d->pbuf;
					d->len = (uint32_t)n;
					continue;
				}
				/* Nothing to decrypt for now: an idle
				 * connection holds no plaintext buffer. */
				loop_pbuf_put(l, d->pbuf);
				d->pbuf = NULL;
				if (n == 0) {
					conn_dir_eof(l, c, side);
					continue;
				}
				if (n != -EAGAIN) {
					conn_dir_abort_tls(l, c, src, "tls read");
					return;
				}
			}
			d->state = CONN_DIR_RECV;
			conn_submit_recv(l, c, side, false);
			return;
		case CONN_DIR_FLUSH:
			if (sink->send_busy ||
			    (sink->tls && conn_tls_busy(sink))) {
				conn_tls_flush(l, c, !side);
				return;
			}
			sqe = loop_sqe(l, 1);
			io_uring_prep_shutdown(sqe, sink->fd, SHUT_WR);
			io_uring_sqe_set_data64(sqe, conn_ud(c, LOOP_OP_SHUTDOWN,
							     !side));
			c->inflight++;
			sink->wr_shut = true;
			d->state = CONN_DIR_SHUTDOWN;
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

void conn_start_relay(struct loop *l, struct conn *c)
{
	for (int i = 0; i < 2; i++)
		c->dir[i].state = CONN_DIR_SEND;
	c->state = CONN_STATE_RELAY;
	l->cstats.relayed++;
	conn_dir_pump(l, c, CONN_DOWN);
	conn_dir_pump(l, c, CONN_UP);
}

static const char *conn_side_str(enum conn_side side)
{
	return side == CONN_DOWN ? "down" : "up";
}

void conn_on_recv(struct loop *l, struct conn *c, enum conn_side side,
		  int res, int bid, bool own_buf)
{
	struct conn_end *e = &c->end[side];
	struct conn_dir *d = &c->dir[side];
	char reason[96];
	uint8_t *buf;
	int err;

	e->recv_busy = false;
	if (c->state == CONN_STATE_CLOSING) {
		if (bid >= 0)
			loop_buf_put(l, (uint16_t)bid);
		return;
	}
	if (res == -ENOBUFS && bid < 0 && !own_buf) {
		/*
		 * The ring ran dry: ring buffers are held by directions whose
		 * sink is slow to take data.  Waiting for one to come back
		 * would let a few stalled peers stall everybody, so this recv
		 * reads into a buffer of the end's own instead.
		 */
		l->cstats.ring_empty++;
		if (!e->rbuf)
			e->rbuf = loop_pbuf_get(l);
		if (!e->rbuf) {
			conn_abort(l, c, "out of memory");
			return;
		}
		conn_submit_recv_into(l, c, side, e->setup_recv, true);
		return;
	}
	if (res <= 0) {
		if (bid >= 0)
			loop_buf_put(l, (uint16_t)bid);
		if (res == 0 && c->state == CONN_STATE_RELAY && !e->tls) {
			conn_dir_eof(l, c, side);
			conn_dir_pump(l, c, side);
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
		conn_abort_io(l, c, reason, -res);
		return;
	}
	if (bid >= 0) {
		buf = loop_buf(l, (uint16_t)bid);
	} else if (own_buf) {
		buf = e->rbuf;
	} else {
		conn_abort(l, c, "recv completed without a buffer");
		return;
	}
	if (e->tls) {
		/* Ciphertext: wolfSSL copies it, the buffer is free again. */
		err = tls_feed(e->tls, buf, (size_t)res);
		if (bid >= 0) {
			loop_buf_put(l, (uint16_t)bid);
		} else {
			loop_pbuf_put(l, e->rbuf);
			e->rbuf = NULL;
		}
		if (err < 0) {
			snprintf(reason, sizeof(reason), "tls feed: %s",
				 strerror(-err));
			conn_abort(l, c, reason);
			return;
		}
		if (c->state == CONN_STATE_RELAY) {
			d->state = CONN_DIR_SEND;
			conn_dir_pump(l, c, side);
		} else {
			tunnel_setup_step(l, c);
		}
		return;
	}
	if (c->state != CONN_STATE_RELAY) {
		if (bid >= 0)
			loop_buf_put(l, (uint16_t)bid);
		conn_abort(l, c, "plaintext recv before relay");	/* reap frees rbuf */
		return;
	}
	/* Plaintext: the buffer itself is the chunk, sent as is, and given
	 * back once all sent (before the next recv). */
	d->bid = bid;
	d->data = buf;
	d->off = 0;
	d->len = (uint32_t)res;
	d->state = CONN_DIR_SEND;
	conn_dir_pump(l, c, side);
}

void conn_on_send(struct loop *l, struct conn *c, enum conn_side side,
		  int res)
{
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
		conn_abort_io(l, c, reason, -res);
		return;
	}
	if (e->tls) {
		tls_out_consume(e->tls, (size_t)res);
		conn_tls_flush(l, c, side);
	} else {
		d->off += (uint32_t)res;
		d->bytes += (uint64_t)res;
		l->cstats.relay_bytes[!side] += (uint64_t)res;
	}
	/* The direction writing to this end may have been waiting for it. */
	conn_dir_pump(l, c, !side);
}

void conn_on_shutdown(struct loop *l, struct conn *c, enum conn_side side,
		      int res)
{
	char reason[96];

	if (c->state == CONN_STATE_CLOSING)
		return;
	if (res < 0) {
		snprintf(reason, sizeof(reason), "shutdown %s: %s",
			 conn_side_str(side), strerror(-res));
		conn_abort(l, c, reason);
		return;
	}
	c->dir[!side].state = CONN_DIR_DONE;
	if (c->dir[CONN_DOWN].state == CONN_DIR_DONE &&
	    c->dir[CONN_UP].state == CONN_DIR_DONE)
		conn_finish(l, c);
}
