// SPDX-License-Identifier: Apache-2.0
/*
 * The io_uring event loop (loop.h): ring and provided buffer ring setup,
 * the handler table and the completion dispatcher, listeners, signals and
 * teardown.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "loop.h"

#define LOOP_SQ_ENTRIES		1024
/* Registered descriptors at most: 1 MiB of kernel table a loop. */
#define LOOP_FIXED_MAX		65536
#define LOOP_CQ_ENTRIES		8192
#define LOOP_LISTEN_BACKLOG	4096
/* After an accept failed for lack of fds or memory, wait this long before
 * asking again instead of spinning on the same error. */
#define LOOP_ACCEPT_RETRY_MS	100

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

/* ---- registered descriptors --------------------------------------------- */

/* Sets slot @slot of the file table to @fd (-1: clears it). */
static void loop_files_update(struct loop *l, int slot, int fd)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 1);
	int *val = &l->fixed_vals[sqe - l->ring.sq.sqes];

	*val = fd;
	io_uring_prep_files_update(sqe, val, 1, slot);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_FILES, 0, 0, 0));
}

bool loop_fd_fix(struct loop *l, int fd)
{
	if (fd < 0 || (unsigned int)fd >= l->nfixed)
		return false;
	loop_files_update(l, fd, fd);
	return true;
}

void loop_close_fixed(struct loop *l, int fd, bool rst)
{
	/* In submission order: the slot is empty before the number can be
	 * handed out again. */
	loop_files_update(l, fd, -1);
	loop_close_fd(l, fd, rst);
}

int loop_cancel_now(struct loop *l, uint64_t ud)
{
	struct io_uring_sync_cancel_reg reg = {
		.addr = ud,
		.timeout = { .tv_sec = -1, .tv_nsec = -1 },
	};

	return io_uring_register_sync_cancel(&l->ring, &reg);
}

static void loop_cqe_files(void *arg, const struct io_uring_cqe *cqe)
{
	(void)arg;
	/* An fd that could not be set leaves its slot empty: the ops on it
	 * fail with EBADF and its connection ends. */
	if (cqe->res < 0)
		log_warn("event=files_update_error err=\"%s\"",
			 strerror(-cqe->res));
}

/* The file table: as many slots as fds may be open, up to a bound that
 * keeps the kernel's table (16 bytes a slot) small. */
static void loop_files_init(struct loop *l)
{
	struct rlimit rl;
	unsigned int n = LOOP_FIXED_MAX;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < n)
		n = (unsigned int)rl.rlim_cur;
	l->fixed_vals = calloc(l->ring.sq.ring_entries,
			       sizeof(*l->fixed_vals));
	if (!l->fixed_vals || io_uring_register_files_sparse(&l->ring, n)) {
		free(l->fixed_vals);
		l->fixed_vals = NULL;
		log_info("event=io_uring_no_file_table");
		return;
	}
	l->nfixed = n;
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

void loop_buf_put(struct loop *l, uint16_t bid, size_t used)
{
	if (used)
		explicit_bzero(loop_buf(l, bid),
			       used < l->buf_size ? used : l->buf_size);
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

void loop_pbuf_put(struct loop *l, uint8_t *p, size_t used)
{
	if (!p)
		return;
	explicit_bzero(p, used < LOOP_PBUF_SIZE ? used : LOOP_PBUF_SIZE);
	if (l->pbuf_cache && l->pbuf_cached < LOOP_PBUF_CACHE)
		l->pbuf_cache[l->pbuf_cached++] = p;
	else
		free(p);
}

/* ---- the handler table -------------------------------------------------- */

int loop_op_add(struct loop *l, const char *name, loop_cqe_fn *fn, void *arg)
{
	if (l->nops >= LOOP_OPS_MAX)
		return -ENOSPC;
	l->ops[l->nops] = (struct loop_handler){ fn, arg, name };
	return (int)l->nops++;
}

int loop_user_add(struct loop *l, const struct loop_user *u)
{
	if (l->nusers >= LOOP_USERS_MAX)
		return -ENOSPC;
	l->users[l->nusers++] = *u;
	return 0;
}

static void loop_dispatch(struct loop *l, const struct io_uring_cqe *cqe)
{
	unsigned int op = loop_ud_op(cqe->user_data);
	int bid = loop_cqe_bid(cqe);

	if (bid >= 0 && ++l->stats.bufs_out > l->stats.bufs_out_max)
		l->stats.bufs_out_max = l->stats.bufs_out;
	if (op >= l->nops || !l->ops[op].fn) {
		log_error("event=unknown_completion user_data=%llu res=%d",
			  (unsigned long long)cqe->user_data, cqe->res);
		if (bid >= 0)
			loop_buf_put(l, (uint16_t)bid,
				     cqe->res > 0 ? (size_t)cqe->res : 0);
		return;
	}
	l->ops[op].fn(l->ops[op].arg, cqe);
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

/* ---- listeners ----------------------------------------------------------- */

/* A listening socket on @addr:@port (network order address, host order
 * port), or with @v6 on [::]:@port, IPv6 only (an IPv4 connection is the
 * IPv4 listener's).  Returns the fd or -errno. */
static int loop_socket_listen(uint32_t addr, uint16_t port, bool reuseport,
			      bool v6)
{
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa = { .in = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = addr,
	} };
	socklen_t salen = sizeof(sa.in);
	int fd, one = 1, err;

	if (v6) {
		sa.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
						.sin6_port = htons(port),
						.sin6_addr = in6addr_any };
		salen = sizeof(sa.in6);
	}
	fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
			     sizeof(one))) {
		err = -errno;
		close(fd);
		return err;
	}
	/* SO_REUSEPORT only when several loops share the port (the kernel
	 * spreads connections over their sockets by 4-tuple hash): with one
	 * loop it would only let a second agent start silently next to the
	 * first and split its traffic (workers.c checks the port is free
	 * before the loops bind it). */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    (reuseport &&
	     setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) ||
	    /* Accepted sockets inherit it. */
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sa, salen) ||
	    listen(fd, LOOP_LISTEN_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static void loop_arm_accept(struct loop *l, unsigned int id)
{
	struct loop_listener *ls = &l->listeners[id];
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_multishot_accept(sqe, ls->fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_ACCEPT, 0, id, ls->gen));
	ls->armed = true;
}

/* Fills free slot @id (a new one when @id is nlisteners). */
static void loop_slot_set(struct loop *l, unsigned int id,
			  const struct loop_listener *ls)
{
	/* The generation survives the slot's reuse: it is what tells the
	 * old listener's late completions from the new one's. */
	pthread_mutex_lock(&l->lsn_lock);
	l->listeners[id] = *ls;
	if (id == l->nlisteners)
		l->nlisteners++;
	pthread_mutex_unlock(&l->lsn_lock);
}

/* Empties slot @id, its generation bumped, and returns the fd it held
 * (the caller's to close: after, so that another thread's
 * loop_listeners_dup() never dups a number reused meanwhile). */
static int loop_slot_clear(struct loop *l, unsigned int id)
{
	struct loop_listener *ls = &l->listeners[id];
	int fd = ls->fd;

	pthread_mutex_lock(&l->lsn_lock);
	*ls = (struct loop_listener){
		.gen = (ls->gen + 1) & LOOP_UD_GEN_MASK, .fd = -1,
	};
	pthread_mutex_unlock(&l->lsn_lock);
	return fd;
}

/* The lowest free slot, or LOOP_LISTENERS_MAX. */
static unsigned int loop_slot_free(const struct loop *l)
{
	unsigned int id;

	for (id = 0; id < l->nlisteners && l->listeners[id].live; id++)
		;
	return id;
}

/* A socket handed over keeps the options it was made with: one of a
 * lone loop has no SO_REUSEPORT, which a reuseport loop gives it so that
 * the sockets of the other loops join it (a listening socket's group is
 * made when another joins it).  Failure: they cannot, and bind() says
 * so. */
static void loop_adopted(struct loop *l, int fd)
{
	int one = 1;

	if (l->reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)))
		log_warn("event=adopt_reuseport_failed err=\"%s\"",
			 strerror(errno));
}

/* loop_listen() and loop_listen6(): @v6 listens on [::]:@port (@addr 0,
 * as the adopt hook is asked). */
static int loop_listen_at(struct loop *l, const char *name, uint32_t addr,
			  uint16_t port, bool v6, loop_accept_fn *fn,
			  void *arg)
{
	struct loop_listener ls = {
		.live = true, .name = name, .accept = fn, .arg = arg,
		.addr = addr, .port = port, .v6 = v6,
	};
	unsigned int id = loop_slot_free(l), more;
	int fd;

	if (id >= LOOP_LISTENERS_MAX)
		return -ENOSPC;
	fd = l->adopt ? l->adopt(l->adopt_arg, name, addr, port) : -ENOENT;
	ls.held = fd >= 0 || fd == -EALREADY;
	if (fd == -EALREADY)
		fd = -1;	/* joins at loop_listen_start() */
	else if (fd == -ENOENT)
		fd = loop_socket_listen(addr, port, l->reuseport, v6);
	else if (fd >= 0)
		loop_adopted(l, fd);
	if (fd < 0 && !ls.held) {
		log_error("event=listen_failed listener=%s port=%u err=\"%s\"",
			  name, port, strerror(-fd));
		return fd;
	}
	ls.fd = fd;
	ls.lead = id;
	ls.gen = l->listeners[id].gen;
	loop_slot_set(l, id, &ls);
	if (!ls.held)
		loop_arm_accept(l, id);
	/* The group's other sockets handed to this loop, each in a slot of
	 * its own: all accept (one closed would reset what it queued). */
	while (ls.fd >= 0 && l->adopt &&
	       (more = loop_slot_free(l)) < LOOP_LISTENERS_MAX &&
	       (fd = l->adopt(l->adopt_arg, name, addr, port)) >= 0) {
		loop_adopted(l, fd);
		ls.fd = fd;
		ls.gen = l->listeners[more].gen;
		loop_slot_set(l, more, &ls);
	}
	return (int)id;
}

int loop_listen(struct loop *l, const char *name, uint32_t addr,
		uint16_t port, loop_accept_fn *fn, void *arg)
{
	return loop_listen_at(l, name, addr, port, false, fn, arg);
}

int loop_listen6(struct loop *l, const char *name, uint16_t port,
		 loop_accept_fn *fn, void *arg)
{
	return loop_listen_at(l, name, 0, port, true, fn, arg);
}

void loop_listen_start(struct loop *l)
{
	for (unsigned int i = 0; i < l->nlisteners; i++) {
		struct loop_listener *ls = &l->listeners[i];
		int fd;

		if (!ls->live || !ls->held)
			continue;
		if (ls->fd < 0) {
			/* Its group's sockets are other loops': this one
			 * joins them now that they accept. */
			fd = loop_socket_listen(ls->addr, ls->port,
						l->reuseport, ls->v6);
			if (fd < 0) {
				log_error("event=listen_failed listener=%s "
					  "port=%u err=\"%s\" effect=\"the "
					  "other loops accept its "
					  "connections\"", ls->name, ls->port,
					  strerror(-fd));
				loop_slot_clear(l, i);
				continue;
			}
			pthread_mutex_lock(&l->lsn_lock);
			ls->fd = fd;
			pthread_mutex_unlock(&l->lsn_lock);
		}
		ls->held = false;
		loop_arm_accept(l, i);
	}
}

int loop_listeners_dup(struct loop *l, struct loop_listener_dup *out,
		       unsigned int max)
{
	unsigned int n = 0;
	int err = 0;

	pthread_mutex_lock(&l->lsn_lock);
	for (unsigned int i = 0; i < l->nlisteners && !err; i++) {
		const struct loop_listener *ls = &l->listeners[i];
		struct sockaddr_in6 sa;	/* sin6_port is where sin_port is */
		socklen_t len = sizeof(sa);

		if (!ls->live || ls->released || ls->fd < 0 ||
		    getsockname(ls->fd, (struct sockaddr *)&sa, &len))
			continue;
		if (n == max) {
			err = -E2BIG;
			break;
		}
		out[n].fd = fcntl(ls->fd, F_DUPFD_CLOEXEC, 0);
		if (out[n].fd < 0) {
			err = -errno;
			break;
		}
		snprintf(out[n].name, sizeof(out[n].name), "%s", ls->name);
		out[n].port = ntohs(sa.sin6_port);
		n++;
	}
	pthread_mutex_unlock(&l->lsn_lock);
	if (err) {
		while (n > 0)
			close(out[--n].fd);
		return err;
	}
	return (int)n;
}

/* Asks the kernel to cancel the op submitted with @ud.  The cancel's own
 * completion needs nothing: it goes to the untracked close handler. */
static void loop_cancel_ud(struct loop *l, uint64_t ud)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_cancel64(sqe, ud, 0);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_CLOSE, 0, 0, 0));
}

/* loop_unlisten() of one slot. */
static void loop_unlisten_slot(struct loop *l, unsigned int id)
{
	struct loop_listener *ls = &l->listeners[id];
	const char *name = ls->name;
	uint64_t accepted = ls->accepted;
	int fd;

	/* Their last completions come later, and find the generation
	 * changed: counted here so teardown waits for them. */
	if (ls->armed) {
		loop_cancel_ud(l, loop_ud(LOOP_OP_ACCEPT, 0, id, ls->gen));
		l->unlisten_pending++;
	}
	if (ls->retry_armed) {
		loop_cancel_ud(l, loop_ud(LOOP_OP_ACCEPT_RETRY, 0, id,
					  ls->gen));
		l->unlisten_pending++;
	}
	/* An accept still in the SQ names the socket by its fd number, which
	 * close() below frees for the next socket (a new listener's, likely):
	 * submitted now, it and its cancel are on the socket meant. */
	io_uring_submit(&l->ring);
	/*
	 * Until the accept has completed (with DEFER_TASKRUN, not before the
	 * loop next waits) the ring holds a reference to the socket: close()
	 * alone would leave it listening, its port taken and connections
	 * queued to it.  shutdown() takes a listening socket out of LISTEN
	 * now (its backlog is reset, the port can be bound again:
	 * SO_REUSEADDR, as every listener has, ignores a socket that no
	 * longer listens) and wakes the accept, which then ends by itself if
	 * the cancel has not ended it first.
	 */
	fd = loop_slot_clear(l, id);
	if (fd >= 0 && shutdown(fd, SHUT_RDWR) < 0)
		log_warn("event=unlisten_shutdown_failed listener=%s err=%s",
			 name, strerror(errno));
	if (fd >= 0)
		close(fd);
	log_info("event=unlisten listener=%s accepted=%llu", name,
		 (unsigned long long)accepted);
}

int loop_unlisten(struct loop *l, int id)
{
	if (id < 0 || (unsigned int)id >= l->nlisteners ||
	    !l->listeners[id].live)
		return -ENOENT;
	/* The other sockets of its group, handed over with it. */
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (i != (unsigned int)id && l->listeners[i].live &&
		    l->listeners[i].lead == (unsigned int)id)
			loop_unlisten_slot(l, i);
	loop_unlisten_slot(l, (unsigned int)id);
	return 0;
}

/* The slot of released listener @id, its ops all completed: its fd
 * closed, the slot free. */
static void loop_release_done(struct loop *l, unsigned int id)
{
	struct loop_listener *ls = &l->listeners[id];
	int fd;

	log_info("event=listener_released listener=%s accepted=%llu",
		 ls->name, (unsigned long long)ls->accepted);
	fd = loop_slot_clear(l, id);
	if (fd >= 0)
		close(fd);
	if (l->released)
		l->released(l->released_arg);
}

bool loop_releasing(const struct loop *l)
{
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live && l->listeners[i].released)
			return true;
	return false;
}

int loop_release(struct loop *l, int id)
{
	struct loop_listener *ls;

	if (id < 0 || (unsigned int)id >= l->nlisteners ||
	    !l->listeners[id].live || l->listeners[id].released)
		return -ENOENT;
	ls = &l->listeners[id];
	pthread_mutex_lock(&l->lsn_lock);
	ls->released = true;
	pthread_mutex_unlock(&l->lsn_lock);
	/* Their completions find the listener live and released, and the
	 * last one frees the slot. */
	if (ls->armed)
		loop_cancel_ud(l, loop_ud(LOOP_OP_ACCEPT, 0, (uint32_t)id,
					  ls->gen));
	if (ls->retry_armed)
		loop_cancel_ud(l, loop_ud(LOOP_OP_ACCEPT_RETRY, 0,
					  (uint32_t)id, ls->gen));
	if (!ls->armed && !ls->retry_armed)
		loop_release_done(l, (unsigned int)id);
	return 0;
}

uint16_t loop_listen_port(const struct loop *l, const char *name)
{
	struct sockaddr_in6 sa;	/* sin6_port is where sin_port is */
	socklen_t len = sizeof(sa);

	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live &&
		    !strcmp(l->listeners[i].name, name) &&
		    !getsockname(l->listeners[i].fd, (struct sockaddr *)&sa,
				 &len))
			return ntohs(sa.sin6_port);
	return 0;
}

int loop_listener_fd(const struct loop *l, const char *name)
{
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live && l->listeners[i].fd >= 0 &&
		    !strcmp(l->listeners[i].name, name))
			return l->listeners[i].fd;
	return -1;
}

bool loop_listening(const struct loop *l)
{
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live && !l->listeners[i].armed &&
		    !l->listeners[i].retry_armed)
			return false;
	return true;
}

/* The listener an accept or accept-retry completion belongs to, or NULL
 * when that listener was removed (its slot free or reused since). */
static struct loop_listener *loop_listener_of(struct loop *l, uint64_t ud)
{
	uint32_t id = loop_ud_slot(ud);

	if (id >= l->nlisteners || !l->listeners[id].live ||
	    l->listeners[id].gen != loop_ud_gen(ud))
		return NULL;
	return &l->listeners[id];
}

/* A completion of a removed listener's op, @last when the op will not
 * complete again.  A socket it accepted has nobody to go to. */
static void loop_cqe_unlistened(struct loop *l, int res, bool accepted,
				bool last)
{
	if (accepted)
		loop_close_fd(l, res, true);
	if (last)
		l->unlisten_pending--;
}

static void loop_cqe_accept(void *arg, const struct io_uring_cqe *cqe)
{
	struct loop *l = arg;
	struct loop_listener *ls = loop_listener_of(l, cqe->user_data);
	unsigned int id = loop_ud_slot(cqe->user_data);
	bool more = cqe->flags & IORING_CQE_F_MORE;
	struct io_uring_sqe *sqe;
	int res = cqe->res;

	if (!ls) {
		l->stats.stale_cqes++;
		loop_cqe_unlistened(l, res, res >= 0, !more);
		return;
	}
	if (res >= 0) {
		ls->accepted++;
		if (l->stopping) {
			loop_close_fd(l, res, true);
		} else {
			ls->accept(ls->arg, res);
			/* The handler may have removed this listener (and
			 * even added another in its slot): this op is then
			 * one of unlisten_pending. */
			if (!loop_listener_of(l, cqe->user_data)) {
				loop_cqe_unlistened(l, res, false, !more);
				return;
			}
		}
	} else if (res != -ECANCELED) {
		log_warn("event=accept_error listener=%s err=%s", ls->name,
			 strerror(-res));
	}
	if (more)
		return;
	ls->armed = false;
	if (ls->released) {
		if (!ls->retry_armed)
			loop_release_done(l, id);
		return;
	}
	if (l->stopping)
		return;
	/* Multishot ended (an error, or the kernel's own reasons): ask
	 * again, after a pause when the error means "out of resources". */
	if (res == -EMFILE || res == -ENFILE || res == -ENOBUFS ||
	    res == -ENOMEM) {
		sqe = loop_sqe(l, 1);
		io_uring_prep_timeout(sqe, &l->accept_retry_ts, 0, 0);
		io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_ACCEPT_RETRY, 0,
						     id, ls->gen));
		ls->retry_armed = true;
		return;
	}
	loop_arm_accept(l, id);
}

static void loop_cqe_accept_retry(void *arg, const struct io_uring_cqe *cqe)
{
	struct loop *l = arg;
	struct loop_listener *ls = loop_listener_of(l, cqe->user_data);

	if (!ls) {
		/* Removed while it waited: no accept to re-arm. */
		l->stats.stale_cqes++;
		loop_cqe_unlistened(l, cqe->res, false, true);
		return;
	}
	ls->retry_armed = false;
	if (ls->released) {
		if (!ls->armed)
			loop_release_done(l, loop_ud_slot(cqe->user_data));
		return;
	}
	if (!l->stopping)
		loop_arm_accept(l, loop_ud_slot(cqe->user_data));
}

/* ---- signals ------------------------------------------------------------- */

static void loop_arm_signal(struct loop *l)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_read(sqe, l->signal_fd, &l->siginfo, sizeof(l->siginfo),
			   0);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_SIGNAL, 0, 0, 0));
	l->signal_armed = true;
}

static void loop_cqe_signal(void *arg, const struct io_uring_cqe *cqe)
{
	struct loop *l = arg;

	l->signal_armed = false;
	if (cqe->res == (int)sizeof(l->siginfo)) {
		log_info("event=signal signo=%u", l->siginfo.ssi_signo);
		if (l->siginfo.ssi_signo == SIGUSR2) {
			if (l->upgrade)
				l->upgrade(l->upgrade_arg);
		} else if (l->siginfo.ssi_signo != SIGHUP) {
			l->stopping = true;
			return;
		} else if (l->reload) {
			l->reload(l->reload_arg);
		}
		loop_arm_signal(l);
		return;
	}
	if (cqe->res == -ECANCELED || l->stopping)
		return;
	loop_arm_signal(l);
}

/* ---- the tick ------------------------------------------------------------- */

static void loop_arm_tick(struct loop *l)
{
	struct io_uring_sqe *sqe = loop_sqe(l, 1);

	io_uring_prep_timeout(sqe, &l->tick_ts, 0, 0);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_TICK, 0, 0, 0));
	l->tick_armed = true;
}

static void loop_cqe_tick(void *arg, const struct io_uring_cqe *cqe)
{
	struct loop *l = arg;

	(void)cqe;
	l->tick_armed = false;
	if (l->stopping)
		return;
	for (unsigned int i = 0; i < l->nusers; i++)
		if (l->users[i].tick)
			l->users[i].tick(l->users[i].arg);
	loop_arm_tick(l);
}

static void loop_cqe_close(void *arg, const struct io_uring_cqe *cqe)
{
	(void)arg;
	if (cqe->res < 0)
		log_debug("event=close_error err=%s", strerror(-cqe->res));
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
	l->poll_first = !err;
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
	l->signal_fd = -1;
	l->reuseport = cfg->reuseport;
	l->nbufs = cfg->nbufs ? cfg->nbufs : LOOP_DEFAULT_NBUFS;
	l->buf_size = cfg->buf_size ? cfg->buf_size : LOOP_DEFAULT_BUF_SIZE;
	l->accept_retry_ts.tv_nsec = LOOP_ACCEPT_RETRY_MS * 1000000LL;
	l->tick_ts.tv_sec = 1;
	l->ops[LOOP_OP_ACCEPT] = (struct loop_handler){ loop_cqe_accept, l,
							"accept" };
	l->ops[LOOP_OP_ACCEPT_RETRY] = (struct loop_handler){
		loop_cqe_accept_retry, l, "accept_retry" };
	l->ops[LOOP_OP_SIGNAL] = (struct loop_handler){ loop_cqe_signal, l,
							"signal" };
	l->ops[LOOP_OP_CLOSE] = (struct loop_handler){ loop_cqe_close, l,
						       "close" };
	l->ops[LOOP_OP_TICK] = (struct loop_handler){ loop_cqe_tick, l,
						      "tick" };
	l->ops[LOOP_OP_FILES] = (struct loop_handler){ loop_cqe_files, l,
						       "files" };
	l->nops = LOOP_OP_FIRST_FREE;

	/* Buffer ids are 16 bits and the ring size a power of two. */
	if (l->nbufs > 32768 || (l->nbufs & (l->nbufs - 1)))
		return -EINVAL;

	pthread_mutex_init(&l->lsn_lock, NULL);
	err = loop_ring_init(l);
	if (err)
		goto fail;
	ring_up = true;
	loop_files_init(l);
	/* No op has this user_data: a kernel that knows the call says so. */
	l->cancel_now = loop_cancel_now(l, loop_ud(LOOP_OP_NONE, 0, 0, 0)) ==
			-ENOENT;
	err = loop_bufs_init(l);
	if (err)
		goto fail;
	l->pbuf_cache = calloc(LOOP_PBUF_CACHE, sizeof(*l->pbuf_cache));
	if (!l->pbuf_cache) {
		err = -ENOMEM;
		goto fail;
	}

	if (cfg->handle_signals) {
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGHUP);
		sigaddset(&set, SIGUSR2);
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
	return 0;

fail:
	if (ring_up) {
		loop_fini(l);
	} else {
		pthread_mutex_destroy(&l->lsn_lock);
		memset(l, 0, sizeof(*l));
	}
	return err;
}

/* Submits and waits for a completion, or until the earliest timer is
 * due. */
static int loop_wait(struct loop *l)
{
	uint64_t next = timer_next(&l->timers), now;
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;

	if (next == UINT64_MAX)
		return io_uring_submit_and_wait(&l->ring, 1);
	now = timer_now();
	next = next > now ? next - now : 0;
	ts.tv_sec = (long long)(next / 1000000000u);
	ts.tv_nsec = (long long)(next % 1000000000u);
	return io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
}

int loop_turn(struct loop *l)
{
	uint64_t t0, t1, dt;
	unsigned int n;
	int ret;

	if (!l->tick_armed && !l->stopping)
		loop_arm_tick(l);
	ret = loop_wait(l);
	if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY &&
	    ret != -ETIME) {
		log_error("event=ring_error err=%s", strerror(-ret));
		return ret;
	}
	/* Two vDSO clock reads an iteration, for the stall gauge and
	 * histograms (a third when timers ran); the first is the turn's
	 * clock, which the requests handled in it stamp with. */
	t0 = timer_now();
	timer_turn_begin(t0);
	n = loop_drain(l);
	t1 = timer_now();
	if (n > 0)
		stallhist_add(&l->stats.batch, t1 - t0);
	if (timer_run(&l->timers, t0) > 0)
		t1 = timer_now();
	timer_turn_end();
	dt = t1 - t0;
	stallhist_add(&l->stats.turn, dt);
	if (dt > l->stats.stall_max_ns)
		l->stats.stall_max_ns = dt;
	return 0;
}

int loop_run(struct loop *l)
{
	int ret = 0;

	while (!l->stopping && !l->pausing && !ret)
		ret = loop_turn(l);
	l->pausing = false;
	return ret;
}

void loop_stop(struct loop *l)
{
	l->stopping = true;
}

void loop_pause(struct loop *l)
{
	l->pausing = true;
}

/* True while a listener, signal or timer op, or a user's, may still
 * complete. */
static bool loop_pending(const struct loop *l)
{
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].armed || l->listeners[i].retry_armed)
			return true;
	for (unsigned int i = 0; i < l->nusers; i++)
		if (l->users[i].busy(l->users[i].arg))
			return true;
	return l->signal_armed || l->tick_armed || l->unlisten_pending;
}

void loop_fini(struct loop *l)
{
	struct __kernel_timespec ts = { .tv_nsec = 100 * 1000000LL };
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;

	l->stopping = true;
	for (unsigned int i = 0; i < l->nusers; i++)
		l->users[i].abort_all(l->users[i].arg);
	/* Cancel what is left (accepts, the signal read, timers) and wait
	 * for the cancellations to land: an accept in flight holds its
	 * listener open past close(), and a listener that lingers would keep
	 * its port (EADDRINUSE for a successor) and take connections only to
	 * reset them. */
	sqe = loop_sqe(l, 1);
	io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
	io_uring_sqe_set_data64(sqe, loop_ud(LOOP_OP_CLOSE, 0, 0, 0));
	for (int tries = 0; tries < 50 && loop_pending(l); tries++) {
		io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
		loop_drain(l);
	}
	for (unsigned int i = 0; i < l->nusers; i++)
		if (l->users[i].forget && l->users[i].busy(l->users[i].arg))
			l->users[i].forget(l->users[i].arg);
	io_uring_submit(&l->ring);
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live && l->listeners[i].fd >= 0)
			close(loop_slot_clear(l, i));
	if (l->signal_fd >= 0)
		close(l->signal_fd);
	if (l->br)
		io_uring_unregister_buf_ring(&l->ring, LOOP_BGID);
	io_uring_queue_exit(&l->ring);
	if (l->bufs)
		munmap(l->bufs, (size_t)l->nbufs * l->buf_size);
	if (l->br)
		munmap(l->br, l->br_bytes);
	timer_heap_fini(&l->timers);
	while (l->pbuf_cached > 0)
		free(l->pbuf_cache[--l->pbuf_cached]);
	free(l->pbuf_cache);
	free(l->fixed_vals);
	pthread_mutex_destroy(&l->lsn_lock);
	memset(l, 0, sizeof(*l));
	l->signal_fd = -1;
}
