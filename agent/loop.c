// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring event loop (loop.h): ring and provided buffer ring setup,
 * listeners, the completion dispatcher and the policy snapshot.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "reload.h"
#include "tunnel.h"

#define LOOP_SQ_ENTRIES		1024
#define LOOP_CQ_ENTRIES		8192
#define LOOP_LISTEN_BACKLOG	4096
/* After an accept failed for lack of fds or memory, wait this long before
 * asking again instead of spinning on the same error. */
#define LOOP_ACCEPT_RETRY_MS	100

static const char *const loop_listener_names[LOOP_LISTEN_MAX] = {
	[LOOP_LISTEN_OUTBOUND] = "outbound",
	[LOOP_LISTEN_TUNNEL] = "tunnel",
	[LOOP_LISTEN_FORWARD] = "forward",
	[LOOP_LISTEN_ADMIN] = "admin",
};

const char *loop_listener_name(enum loop_listener which)
{
	return (unsigned int)which < LOOP_LISTEN_MAX ?
	       loop_listener_names[which] : "?";
}

struct io_uring_sqe *loop_sqe(struct loop *l, unsigned int need)
{
	struct io_uring_sqe *sqe;

	if (io_uring_sq_space_left(&l->ring) < need)
		io_uring_submit(&l->ring);
	sqe = io_uring_get_sqe(&l->ring);
	while (!sqe) {
		/* The SQ is shared with nobody: after a submit it has room
		 * unless the kernel refuses outright, which only happens on
		 * a broken ring. */
		io_uring_submit(&l->ring);
		sqe = io_uring_get_sqe(&l->ring);
	}
	return sqe;
}

void loop_set_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	/* Not a blocking call.  Failure only loses the RST (the peer then
	 * sees a FIN), which is not worth failing over. */
	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

void loop_close_fd(struct loop *l, int fd, bool rst)
{
	struct io_uring_sqe *sqe;

	if (rst)
		loop_set_rst(fd);
	sqe = loop_sqe(l, 1);
	io_uring_prep_close(sqe, fd);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_CLOSE, 0, 0, 0));
}

/* ---- provided buffers ---------------------------------------------------- */

static int loop_bufs_init(struct loop *l)
{
	struct io_uring_buf_reg reg;
	long page = sysconf(_SC_PAGESIZE);
	size_t bytes;
	int err;

	l->br_bytes = (l->nbufs * sizeof(struct io_uring_buf) + page - 1) &
		      ~((size_t)page - 1);
	l->br = mmap(NULL, l->br_bytes, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l->br == MAP_FAILED) {
		l->br = NULL;
		return -errno;
	}
	/* mmap rather than malloc: pages are only made resident when a recv
	 * first lands in them, and a late kernel write after teardown can
	 * never hit memory malloc has handed to someone else. */
	bytes = (size_t)l->nbufs * l->buf_size;
	l->bufs = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (l->bufs == MAP_FAILED) {
		l->bufs = NULL;
		return -errno;
	}

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uintptr_t)l->br;
	reg.ring_entries = l->nbufs;
	reg.bgid = LOOP_BGID;
	err = io_uring_register_buf_ring(&l->ring, &reg, 0);
	if (err)
		return err;

	io_uring_buf_ring_init(l->br);
	l->br_mask = io_uring_buf_ring_mask(l->nbufs);
	for (uint32_t i = 0; i < l->nbufs; i++)
		io_uring_buf_ring_add(l->br, loop_buf(l, (uint16_t)i),
				      l->buf_size, (uint16_t)i, l->br_mask,
				      (int)i);
	io_uring_buf_ring_advance(l->br, (int)l->nbufs);

	return 0;
}

void loop_buf_put(struct loop *l, uint16_t bid)
{
	io_uring_buf_ring_add(l->br, loop_buf(l, bid), l->buf_size, bid,
			      l->br_mask, 0);
	io_uring_buf_ring_advance(l->br, 1);
	l->stats.bufs_out--;
}

uint8_t *loop_pbuf_get(struct loop *l)
{
	if (l->pbuf_cached > 0)
		return l->pbuf_cache[--l->pbuf_cached];
	return malloc(LOOP_PBUF_SIZE);
}

void loop_pbuf_put(struct loop *l, uint8_t *p)
{
	if (!p)
		return;
	if (l->pbuf_cache && l->pbuf_cached < LOOP_PBUF_CACHE)
		l->pbuf_cache[l->pbuf_cached++] = p;
	else
		free(p);
}

/* ---- listeners and signals ---------------------------------------------- */

/* A listening socket on @addr:@port (network order address, host order
 * port).  Returns the fd or -errno. */
static int loop_listen(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = addr,
	};
	int fd, one = 1, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* No SO_REUSEPORT yet: with one loop it would only let a second
	 * agent start silently next to the first and split its traffic.  It
	 * comes with one loop per core and listener hand-over. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    /* Accepted sockets inherit it. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, LOOP_LISTEN_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Opens the listeners @cfg asks for.  Returns 0 or -errno (logged). */
static int loop_listeners_open(struct loop *l, const struct loop_config *cfg)
{
	const uint16_t ports[LOOP_LISTEN_MAX] = {
		[LOOP_LISTEN_OUTBOUND] = cfg->outbound_port,
		[LOOP_LISTEN_TUNNEL] = cfg->tunnel_port,
		[LOOP_LISTEN_FORWARD] = cfg->forward_port,
		[LOOP_LISTEN_ADMIN] = cfg->admin_port,
	};
	const bool on[LOOP_LISTEN_MAX] = {
		[LOOP_LISTEN_OUTBOUND] = cfg->outbound_port != 0,
		[LOOP_LISTEN_TUNNEL] = cfg->tunnel_port != 0,
		[LOOP_LISTEN_FORWARD] = cfg->forward_to.sin_family == AF_INET,
		[LOOP_LISTEN_ADMIN] = cfg->admin_on,
	};
	int fd;

	for (int i = 0; i < LOOP_LISTEN_MAX; i++) {
		if (!on[i])
			continue;
		/* The admin endpoint answers the node only, whatever
		 * address the data path listens on. */
		fd = loop_listen(i == LOOP_LISTEN_ADMIN ?
				 htonl(INADDR_LOOPBACK) : cfg->listen_addr,
				 ports[i]);
		if (fd < 0) {
			log_error("event=listen_failed listener=%s port=%u "
				  "err=\"%s\"", loop_listener_names[i], ports[i],
				  strerror(-fd));
			return fd;
		}
		l->listen_fd[i] = fd;
	}
	return 0;
}

static void loop_arm_accept(struct loop *l, enum loop_listener which)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_multishot_accept(sqe, l->listen_fd[which], NULL, NULL,
				       SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_ACCEPT, which, 0, 0));
	l->accept_armed[which] = true;
}

static void loop_arm_signal(struct loop *l)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_read(sqe, l->signal_fd, &l->siginfo, sizeof(l->siginfo),
			   0);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_SIGNAL, 0, 0, 0));
	l->signal_armed = true;
}

uint16_t loop_listen_port(const struct loop *l, enum loop_listener which)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (l->listen_fd[which] < 0 ||
	    getsockname(l->listen_fd[which], (struct sockaddr *)&sa, &len))
		return 0;
	return ntohs(sa.sin_port);
}

/* ---- policy -------------------------------------------------------------- */

struct policy *loop_policy(struct loop *l)
{
	return reload_current(l->reload);
}

/* ---- setup and teardown ------------------------------------------------- */

static int loop_ring_init(struct loop *l)
{
	struct io_uring_params p;
	int err;

	memset(&p, 0, sizeof(p));
	/* One thread submits and reaps: let the kernel skip the locking and
	 * run completion work when we ask for events, not by interrupting. */
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		  IORING_SETUP_CQSIZE;
	p.cq_entries = LOOP_CQ_ENTRIES;
	err = io_uring_queue_init_params(LOOP_SQ_ENTRIES, &l->ring, &p);
	if (err == -EINVAL) {
		log_info("event=io_uring_fallback reason=\"no SINGLE_ISSUER or "
			 "DEFER_TASKRUN\"");
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_CQSIZE;
		p.cq_entries = LOOP_CQ_ENTRIES;
		err = io_uring_queue_init_params(LOOP_SQ_ENTRIES, &l->ring, &p);
	}
	return err;
}

int loop_init(struct loop *l, const struct loop_config *cfg)
{
	bool ring_up = false;
	sigset_t set;
	int err;

	memset(l, 0, sizeof(*l));
	for (int i = 0; i < LOOP_LISTEN_MAX; i++)
		l->listen_fd[i] = -1;
	l->signal_fd = -1;
	l->pmap = cfg->pmap;
	l->certs = cfg->certs;
	if (cfg->node)
		snprintf(l->node, sizeof(l->node), "%s", cfg->node);
	l->forward_to = cfg->forward_to;
	l->max_conns = cfg->max_conns ? cfg->max_conns : LOOP_DEFAULT_MAX_CONNS;
	l->nbufs = cfg->nbufs ? cfg->nbufs : LOOP_DEFAULT_NBUFS;
	l->buf_size = cfg->buf_size ? cfg->buf_size : LOOP_DEFAULT_BUF_SIZE;
	l->setup_timeout_ms = cfg->setup_timeout_ms ? cfg->setup_timeout_ms :
				LOOP_DEFAULT_SETUP_TIMEOUT_MS;
	l->accept_retry_ts.tv_nsec = LOOP_ACCEPT_RETRY_MS * 1000000LL;

	/* Buffer ids are 16 bits and the ring size a power of two. */
	if (l->nbufs > 32768 || (l->nbufs & (l->nbufs - 1)) ||
	    l->max_conns > LOOP_MAX_CONNS ||
	    ((cfg->outbound_port || cfg->tunnel_port) &&
	     ((!cfg->pmap && !cfg->policy) || !cfg->certs || !cfg->node)))
		return -EINVAL;

	err = loop_ring_init(l);
	if (err)
		goto fail;
	ring_up = true;
	err = loop_bufs_init(l);
	if (err)
		goto fail;

	l->conns = calloc(l->max_conns, sizeof(*l->conns));
	l->free_slots = calloc(l->max_conns, sizeof(*l->free_slots));
	l->pbuf_cache = calloc(LOOP_PBUF_CACHE, sizeof(*l->pbuf_cache));
	if (!l->conns || !l->free_slots || !l->pbuf_cache) {
		err = -ENOMEM;
		goto fail;
	}
	/* Lowest slots first, so a quiet agent touches few pages of the
	 * table (calloc'ed: untouched slots cost no memory). */
	for (uint32_t i = 0; i < l->max_conns; i++)
		l->free_slots[i] = l->max_conns - 1 - i;
	l->nfree = l->max_conns;

	err = reload_open(&l->reload, cfg->pmap, cfg->policy);
	if (err)
		goto fail;

	if (cfg->admin_on) {
		err = admin_init(l, cfg->admin_timeout_ms);
		if (err)
			goto fail;
	}
	err = loop_listeners_open(l, cfg);
	if (err)
		goto fail;

	if (cfg->handle_signals) {
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		/* Blocked so they queue for the signalfd instead of killing
		 * us; threads created later inherit the mask. */
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		l->signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
		if (l->signal_fd < 0) {
			err = -errno;
			goto fail;
		}
		loop_arm_signal(l);
	}
	for (int i = 0; i < LOOP_LISTEN_MAX; i++)
		if (l->listen_fd[i] >= 0)
			loop_arm_accept(l, i);
	io_uring_submit(&l->ring);
	return 0;

fail:
	if (ring_up)
		loop_fini(l);
	else
		memset(l, 0, sizeof(*l));
	return err;
}

/* ---- dispatch ------------------------------------------------------------ */

static void loop_on_accept(struct loop *l, enum loop_listener which, int res,
			   bool more)
{
	struct io_uring_sqe *sqe;
	struct conn *c;

	if (res >= 0) {
		l->stats.accepted_by[which]++;
		if (l->stopping) {
			loop_close_fd(l, res, true);
		} else if (which == LOOP_LISTEN_ADMIN) {
			admin_accept(l, res);
		} else {
			c = tunnel_accept(l, which, res);
			if (c)
				conn_reap(l, c);
		}
	} else if (res != -ECANCELED) {
		log_warn("event=accept_error listener=%s err=%s",
			 loop_listener_names[which], strerror(-res));
	}
	if (more)
		return;
	l->accept_armed[which] = false;
	if (l->stopping)
		return;
	/* Multishot ended (an error, or the kernel's own reasons): ask
	 * again, after a pause when the error means "out of resources". */
	if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS ||
	    res == -ENOMEM) {
		sqe = loop_sqe(l, 1);
		io_uring_prep_timeout(sqe, &l->accept_retry_ts, 0, 0);
		io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_ACCEPT_RETRY,
						     which, 0, 0));
		l->accept_retry_armed[which] = true;
		return;
	}
	loop_arm_accept(l, which);
}

static void loop_on_signal(struct loop *l, int res)
{
	l->signal_armed = false;
	if (res == (int)sizeof(l->siginfo)) {
		log_info("event=signal signo=%u", l->siginfo.ssi_signo);
		l->stopping = true;
		return;
	}
	if (res == -ECANCELED || l->stopping)
		return;
	loop_arm_signal(l);
}

static void loop_dispatch(struct loop *l, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	unsigned int aux = loop_ud_aux(ud);
	int res = cqe->res, bid = -1;
	struct conn *c;

	if (cqe->flags & IORING_CQE_F_BUFFER) {
		bid = (int)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
		if (++l->stats.bufs_out > l->stats.bufs_out_max)
			l->stats.bufs_out_max = l->stats.bufs_out;
	}

	switch (loop_ud_op(ud)) {
	case LOOP_OP_ACCEPT:
		loop_on_accept(l, aux, res, cqe->flags & IORING_CQE_F_MORE);
		return;
	case LOOP_OP_ACCEPT_RETRY:
		l->accept_retry_armed[aux] = false;
		if (!l->stopping)
			loop_arm_accept(l, aux);
		return;
	case LOOP_OP_SIGNAL:
		loop_on_signal(l, res);
		return;
	case LOOP_OP_CLOSE:
		if (res < 0)
			log_debug("event=close_error err=%s", strerror(-res));
		return;
	case LOOP_OP_ADMIN:
		admin_on_cqe(l, ud, res);
		return;
	case LOOP_OP_NONE:
		log_error("event=unknown_completion user_data=%llu res=%d",
			  (unsigned long long)ud, res);
		return;
	case LOOP_OP_CONNECT:
	case LOOP_OP_RECV:
	case LOOP_OP_SEND:
	case LOOP_OP_SHUTDOWN:
	case LOOP_OP_LINK_TIMEOUT:
	case LOOP_OP_CANCEL:
		break;
	}

	c = conn_from_ud(l, ud);
	if (!c) {
		/* Cannot happen while every op is counted in inflight; kept
		 * as the safety net the generation is for. */
		l->stats.stale_cqes++;
		if (bid >= 0)
			loop_buf_put(l, (uint16_t)bid);
		return;
	}
	c->inflight--;
	switch (loop_ud_op(ud)) {
	case LOOP_OP_CONNECT:
		tunnel_on_connect(l, c, res);
		break;
	case LOOP_OP_RECV:
		conn_on_recv(l, c, aux & 1, res, bid, aux & LOOP_RECV_OWN_BUF);
		break;
	case LOOP_OP_SEND:
		conn_on_send(l, c, aux & 1, res);
		break;
	case LOOP_OP_SHUTDOWN:
		conn_on_shutdown(l, c, aux & 1, res);
		break;
	case LOOP_OP_LINK_TIMEOUT:
		/* -ETIME: it fired, and its target completes with
		 * -ECANCELED, whose handler reports the timeout. */
	case LOOP_OP_CANCEL:
	default:
		break;
	}
	conn_reap(l, c);
}

/* Drains every completion that is ready.  Returns how many. */
static unsigned int loop_drain(struct loop *l)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&l->ring, head, cqe) {
		loop_dispatch(l, cqe);
		n++;
	}
	io_uring_cq_advance(&l->ring, n);
	return n;
}

int loop_run(struct loop *l)
{
	int ret;

	while (!l->stopping) {
		ret = io_uring_submit_and_wait(&l->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY && ret != -ETIME) {
			log_error("event=ring_error err=%s", strerror(-ret));
			return ret;
		}
		loop_drain(l);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stopping = true;
}

/* True while a listener, signal or timer op may still complete. */
static bool loop_fixed_ops_pending(const struct loop *l)
{
	for (int i = 0; i < LOOP_LISTEN_MAX; i++)
		if (l->accept_armed[i] || l->accept_retry_armed[i])
			return true;
	return l->signal_armed || admin_pending(l);
}

void loop_fini(struct loop *l)
{
	struct __kernel_timespec ts = { .tv_nsec = 100 * 1000000LL };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	l->stopping = true;
	if (l->conns) {
		for (uint32_t i = 0; i < l->max_conns; i++) {
			struct conn *c = &l->conns[i];

			if (c->state == CONN_STATE_FREE)
				continue;
			conn_abort(l, c, NULL);
			conn_reap(l, c);
		}
	}
	admin_abort_all(l);
	/* Cancel what is left (accepts, the signal read, timers) and wait
	 * for the cancellations to land: an accept in flight holds its
	 * listener open past close(), and a listener that lingers would keep
	 * its port (EADDRINUSE for a successor) and take connections only to
	 * reset them. */
	sqe = loop_sqe(l, 1);
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_CLOSE, 0, 0, 0));
	for (int tries = 0; tries < 50; tries++) {
		if (l->cstats.conns == 0 && !loop_fixed_ops_pending(l))
			break;
		io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
		loop_drain(l);
	}
	if (l->conns) {
		for (uint32_t i = 0; i < l->max_conns; i++) {
			struct conn *c = &l->conns[i];

			if (c->state == CONN_STATE_FREE)
				continue;
			log_warn("event=conn_leak conn=%llu inflight=%u",
				 (unsigned long long)c->id, c->inflight);
			c->inflight = 0;
			conn_reap(l, c);
		}
	}
	io_uring_submit(&l->ring);
	for (int i = 0; i < LOOP_LISTEN_MAX; i++)
		if (l->listen_fd[i] >= 0)
			close(l->listen_fd[i]);
	if (l->signal_fd >= 0)
		close(l->signal_fd);
	if (l->br)
		io_uring_unregister_buf_ring(&l->ring, LOOP_BGID);
	io_uring_queue_exit(&l->ring);
	/* After the ring: no recv can land in an admin buffer any more. */
	admin_fini(l);
	if (l->bufs)
		munmap(l->bufs, (size_t)l->nbufs * l->buf_size);
	if (l->br)
		munmap(l->br, l->br_bytes);
	free(l->free_slots);
	free(l->conns);
	while (l->pbuf_cached > 0)
		free(l->pbuf_cache[--l->pbuf_cached]);
	free(l->pbuf_cache);
	reload_close(l->reload);
	memset(l, 0, sizeof(*l));
	for (int i = 0; i < LOOP_LISTEN_MAX; i++)
		l->listen_fd[i] = -1;
	l->signal_fd = -1;
}
