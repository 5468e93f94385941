// SPDX-License-Identifier: Apache-2.0
/*
 * The listening sockets handed from the running agent to a new one
 * (handover.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "handover.h"
#include "log.h"

#define HANDOVER_GET	"MFHO 1 GET"
#define HANDOVER_TAKEN	"MFHO 1 TAKEN"
#define HANDOVER_RELEASED	"MFHO 1 RELEASED"
#define HANDOVER_FDS	"MFHO 1 FDS "
/* The FDS message's text: a head and a line per listener. */
#define HANDOVER_MSG_MAX	(64 + HANDOVER_MAX_FDS * (HANDOVER_NAME_MAX + 8))

/* aux of the server's op: which poll completed. */
enum handover_poll {
	HANDOVER_POLL_LISTEN = 0,	/* the unix socket: a new agent */
	HANDOVER_POLL_CONN,		/* its connection: a message */
};

static int handover_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* ---- the new agent's side ---------------------------------------------- */

void handover_in_close(struct handover_in *in)
{
	for (unsigned int i = 0; i < in->n; i++) {
		if (in->socks[i].fd >= 0)
			close(in->socks[i].fd);
		in->socks[i].fd = -1;
	}
	in->n = 0;
	if (in->conn >= 0)
		close(in->conn);
	in->conn = -1;
}

/* Reads the FDS answer: @text (@len bytes) and the @nfds fds at @fds,
 * every one of which becomes @in's.  Returns 0 or -EPROTO. */
static int handover_parse(struct handover_in *in, char *text, size_t len,
			  const int *fds, unsigned int nfds)
{
	unsigned int n = 0, port;
	char *line, *save = NULL;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa;
	socklen_t salen = sizeof(sa);
	int err = 0;

	for (unsigned int i = 0; i < nfds; i++)
		in->socks[i].fd = fds[i];
	in->n = nfds;
	text[len] = '\0';
	line = strtok_r(text, "\n", &save);
	if (!line || strncmp(line, HANDOVER_FDS, strlen(HANDOVER_FDS)) ||
	    sscanf(line + strlen(HANDOVER_FDS), "%u", &n) != 1 || n != nfds)
		return -EPROTO;
	for (unsigned int i = 0; i < n; i++) {
		struct handover_sock *hs = &in->socks[i];
		char name[HANDOVER_NAME_MAX];

		line = strtok_r(NULL, "\n", &save);
		if (!line || sscanf(line, "%31s %u", name, &port) != 2 ||
		    port > 65535)
			return -EPROTO;
		snprintf(hs->name, sizeof(hs->name), "%s", name);
		hs->port = (uint16_t)port;
		/* What it is bound to, for handover_adopt_loop(): an IPv4
		 * listening socket, or an IPv6 one on [::] (loop_listen6(),
		 * address 0), or none of ours. */
		if (getsockname(hs->fd, (struct sockaddr *)&sa, &salen))
			return -EPROTO;
		if (sa.in.sin_family == AF_INET)
			hs->addr = sa.in.sin_addr.s_addr;
		else if (sa.in.sin_family == AF_INET6 &&
			 IN6_IS_ADDR_UNSPECIFIED(&sa.in6.sin6_addr))
			hs->addr = 0;
		else
			return -EPROTO;
		salen = sizeof(sa);
	}
	return err;
}

int handover_fetch(struct handover_in *in, const char *path)
{
	const struct timeval tv = {
		.tv_sec = HANDOVER_IO_MS / 1000,
		.tv_usec = (HANDOVER_IO_MS % 1000) * 1000,
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * HANDOVER_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	char text[HANDOVER_MSG_MAX + 1];
	struct iovec iov = { .iov_base = text, .iov_len = HANDOVER_MSG_MAX };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	int fds[HANDOVER_MAX_FDS];
	unsigned int nfds = 0;
	struct sockaddr_un sa;
	struct cmsghdr *cm;
	ssize_t len;
	int fd, err;

	memset(in, 0, sizeof(*in));
	in->conn = -1;
	in->lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	err = handover_addr(&sa, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		err = -errno;
		goto fail;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		/* Nobody there, or a path its agent left behind. */
		if (err == -ENOENT || err == -ECONNREFUSED)
			return 0;
		log_warn("event=handover_connect_failed path=%s err=\"%s\"",
			 path, strerror(-err));
		return err;
	}
	/* A blocking call with a timeout is not restarted after a signal
	 * (or the task work of an io_uring of this thread): retried here. */
	while ((len = send(fd, HANDOVER_GET, strlen(HANDOVER_GET),
			   MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (len < 0) {
		err = -errno;
		goto fail;
	}
	while ((len = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC)) < 0 &&
	       errno == EINTR)
		;
	if (len < 0) {
		err = -errno;
		goto fail;
	}
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		size_t k;

		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int one;

			memcpy(&one, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (nfds < HANDOVER_MAX_FDS)
				fds[nfds++] = one;
			else
				close(one);
		}
	}
	err = handover_parse(in, text, (size_t)len, fds, nfds);
	if (err || (msg.msg_flags & (MSG_CTRUNC | MSG_TRUNC))) {
		err = -EPROTO;
		handover_in_close(in);
		goto fail;
	}
	in->conn = fd;
	log_info("event=handover_received path=%s listeners=%u", path, in->n);
	return 0;
fail:
	log_error("event=handover_failed path=%s err=\"%s\" "
		  "effect=\"the running agent keeps its listeners\"", path,
		  strerror(-err));
	close(fd);
	return err;
}

int handover_adopt_loop(struct handover_in *in, unsigned int index,
			unsigned int n, const char *name, uint32_t addr,
			uint16_t port)
{
	unsigned int rank = 0;
	int fd = -ENOENT;

	pthread_mutex_lock(&in->lock);
	for (unsigned int i = 0; i < in->n && fd < 0; i++) {
		struct handover_sock *hs = &in->socks[i];

		/* The address it is bound to, not only its name and port.
		 * One adopted already keeps its rank. */
		if (strcmp(hs->name, name) || (port && hs->port != port) ||
		    hs->addr != addr)
			continue;
		if (rank++ % n != index || hs->fd < 0) {
			fd = -EALREADY;
			continue;
		}
		fd = hs->fd;
		hs->fd = -1;
		in->adopted++;
		log_info("event=listener_adopted listener=%s port=%u loop=%u",
			 name, hs->port, index);
	}
	pthread_mutex_unlock(&in->lock);
	return fd;
}

int handover_adopt(void *arg, const char *name, uint32_t addr, uint16_t port)
{
	return handover_adopt_loop(arg, 0, 1, name, addr, port);
}

bool handover_has_port(const struct handover_in *in, uint16_t port)
{
	for (unsigned int i = 0; i < in->n; i++)
		if (in->socks[i].port == port)
			return true;
	return false;
}

/* Waits, bounded by the socket's timeout, for the old agent to say that
 * its accepts are over.  An old agent that hangs up instead has no more
 * accepts either (it ended, or it predates the message). */
static void handover_wait_released(struct handover_in *in)
{
	char buf[64];
	ssize_t len;

	while ((len = recv(in->conn, buf, sizeof(buf) - 1, 0)) < 0 &&
	       errno == EINTR)
		;
	if (len > 0) {
		buf[len] = '\0';
		if (!strcmp(buf, HANDOVER_RELEASED)) {
			log_info("event=handover_released");
			return;
		}
		log_warn("event=handover_bad_message len=%zd", len);
	} else if (len < 0) {
		log_warn("event=handover_release_unconfirmed err=\"%s\" "
			 "effect=\"both agents may accept for a moment\"",
			 strerror(errno));
	}
}

int handover_commit(struct handover_in *in)
{
	ssize_t n;
	int err = 0;

	if (in->conn < 0)
		return 0;
	for (unsigned int i = 0; i < in->n; i++) {
		if (in->socks[i].fd < 0)
			continue;
		/* Closed on both sides, it is gone: connections queued to it
		 * are reset. */
		log_warn("event=listener_not_adopted listener=%s port=%u",
			 in->socks[i].name, in->socks[i].port);
		close(in->socks[i].fd);
		in->socks[i].fd = -1;
	}
	while ((n = send(in->conn, HANDOVER_TAKEN, strlen(HANDOVER_TAKEN),
			 MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0) {
		err = -errno;
		log_error("event=handover_commit_failed err=\"%s\"",
			  strerror(-err));
	} else {
		log_info("event=handover_taken listeners=%u", in->adopted);
		handover_wait_released(in);
	}
	handover_in_close(in);
	return err;
}

/* ---- the running agent's side ------------------------------------------ */

static void handover_arm(struct handover_srv *s, enum handover_poll which)
{
	struct io_uring_sqe *sqe = loop_sqe(s->loop, 1);
	bool listen = which == HANDOVER_POLL_LISTEN;

	io_uring_prep_poll_add(sqe, listen ? s->lfd : s->conn, POLLIN);
	io_uring_sqe_set_data64(sqe, loop_ud((unsigned int)s->op, which, 0,
					     listen ? 0 : s->conn_gen));
	if (listen)
		s->lpoll_armed = true;
	else
		s->cpoll_armed = true;
}

static void handover_conn_end(struct handover_srv *s)
{
	if (s->conn >= 0)
		close(s->conn);
	s->conn = -1;
	s->conn_pid = 0;
	s->conn_gen = (s->conn_gen + 1) & LOOP_UD_GEN_MASK;
	s->sent = false;
}

/* Sends every loop's listeners to the new agent.  Returns 0 or -errno. */
static int handover_send(struct handover_srv *s)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * HANDOVER_MAX_FDS)];
		struct cmsghdr align;
	} cbuf;
	struct loop_listener_dup dups[HANDOVER_MAX_FDS];
	char text[HANDOVER_MSG_MAX];
	int fds[HANDOVER_MAX_FDS];
	struct iovec iov = { .iov_base = text };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int n = 0;
	struct cmsghdr *cm;
	size_t off;
	int got, err = 0;

	/* Each loop's own, from this thread: duplicated under the loop's
	 * lock, as the loop may remove one meanwhile. */
	for (unsigned int i = 0; i < s->nloops; i++) {
		got = loop_listeners_dup(s->loops[i], dups + n,
					 HANDOVER_MAX_FDS - n);
		if (got < 0) {
			err = got;
			goto out;
		}
		n += (unsigned int)got;
	}
	off = (size_t)snprintf(text, sizeof(text), HANDOVER_FDS "%u\n", n);
	for (unsigned int i = 0; i < n; i++) {
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"%.*s %u\n", HANDOVER_NAME_MAX - 1,
					dups[i].name, dups[i].port);
		fds[i] = dups[i].fd;
	}
	iov.iov_len = off < sizeof(text) ? off : sizeof(text) - 1;
	if (n) {
		msg.msg_control = cbuf.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	if (sendmsg(s->conn, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		err = -errno;
	else
		log_info("event=handover_sent listeners=%u loops=%u", n,
			 s->nloops);
out:
	/* The message holds its own references. */
	while (n > 0)
		close(dups[--n].fd);
	return err;
}

/* Tells the new agent that no accept of any loop is left (so its own,
 * armed now, see every connection), once that holds. */
static void handover_released(void *arg)
{
	struct handover_srv *s = arg;

	if (!handover_releasing(s) || s->pending || loop_releasing(s->loop))
		return;
	if (send(s->conn, HANDOVER_RELEASED, strlen(HANDOVER_RELEASED),
		 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_warn("event=handover_release_unsent err=\"%s\"",
			 strerror(errno));
	handover_conn_end(s);
}

bool handover_releasing(const struct handover_srv *s)
{
	return s->taken && s->conn >= 0;
}

void handover_loop_released(struct handover_srv *s)
{
	if (s->pending)
		s->pending--;
	handover_released(s);
}

/* The new agent has the sockets: accept no more on them, serve the path
 * no more (it is the new agent's now), and drain.  Its accepts wait for
 * ours to be over: with two on one socket, a connection whose wake-up went
 * to an accept being cancelled would wait for the next one to come. */
static void handover_taken(struct handover_srv *s)
{
	struct loop *l = s->loop;

	/* First: what goes to the service manager about the successor
	 * precedes RELEASED, after which the successor says it is ready. */
	if (s->on_successor)
		s->on_successor(s->successor_arg, s->conn_pid);
	s->taken = true;
	s->pending = s->nloops - 1;
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live)
			loop_release(l, (int)i);
	/* Only now: one whose accept was not armed is released at once,
	 * while the next ones are not released yet. */
	loop_on_released(l, handover_released, s);
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	log_info("event=handed_over loops=%u", s->nloops);
	/* The other loops release theirs: each says so through
	 * handover_loop_released(). */
	s->on_taken(s->arg);
	handover_released(s);
}

/* A message of the new agent. */
static void handover_on_message(struct handover_srv *s)
{
	char buf[64];
	ssize_t len = recv(s->conn, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	int err;

	if (len < 0 && (errno == EAGAIN || errno == EINTR)) {
		handover_arm(s, HANDOVER_POLL_CONN);
		return;
	}
	if (len <= 0) {
		log_warn("event=handover_abandoned effect=\"this agent goes on "
			 "accepting\"");
		handover_conn_end(s);
		return;
	}
	buf[len] = '\0';
	if (!s->sent && !strcmp(buf, HANDOVER_GET)) {
		err = handover_send(s);
		if (err) {
			log_error("event=handover_send_failed err=\"%s\"",
				  strerror(-err));
			handover_conn_end(s);
			return;
		}
		s->sent = true;
		handover_arm(s, HANDOVER_POLL_CONN);
	} else if (s->sent && !strcmp(buf, HANDOVER_TAKEN)) {
		handover_taken(s);
	} else {
		log_warn("event=handover_bad_message len=%zd", len);
		handover_conn_end(s);
	}
}

static void handover_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct handover_srv *s = arg;
	int fd;

	if (loop_ud_aux(cqe->user_data) == HANDOVER_POLL_LISTEN) {
		s->lpoll_armed = false;
		if (cqe->res < 0 || s->loop->stopping || s->lfd < 0)
			return;
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		/* One new agent at a time: one that has the fds goes on;
		 * one that said nothing yet gives way (it may never speak). */
		if (fd >= 0 && s->conn >= 0 && !s->sent)
			handover_conn_end(s);
		if (fd >= 0 && s->conn >= 0) {
			close(fd);
		} else if (fd >= 0) {
			struct ucred cr;
			socklen_t crlen = sizeof(cr);

			s->conn = fd;
			/* Who asks: the agent's own child, for an upgrade in
			 * place (upgrade.h), or another. */
			s->conn_pid = getsockopt(fd, SOL_SOCKET, SO_PEERCRED,
						 &cr, &crlen) ? 0 : cr.pid;
			log_info("event=handover_requested peer_pid=%d",
				 (int)s->conn_pid);
			handover_arm(s, HANDOVER_POLL_CONN);
		}
		handover_arm(s, HANDOVER_POLL_LISTEN);
		return;
	}
	s->cpoll_armed = false;
	/* A poll of a connection that has ended since. */
	if (loop_ud_gen(cqe->user_data) != s->conn_gen || s->conn < 0)
		return;
	if (cqe->res < 0 || s->loop->stopping) {
		if (cqe->res != -ECANCELED)
			handover_conn_end(s);
		return;
	}
	handover_on_message(s);
}

int handover_serve(struct handover_srv *s, struct loop *const *loops,
		   unsigned int n, const char *path,
		   void (*on_taken)(void *arg), void *arg)
{
	struct sockaddr_un sa;
	struct stat st;
	int err;

	memset(s, 0, sizeof(*s));
	s->lfd = -1;
	s->conn = -1;
	s->loop = loops[0];
	s->on_taken = on_taken;
	s->arg = arg;
	if (n < 1 || n > CTX_LOOPS_MAX) {
		err = -EINVAL;
		goto fail;
	}
	memcpy(s->loops, loops, n * sizeof(*loops));
	s->nloops = n;
	err = handover_addr(&sa, path);
	if (err)
		goto fail;
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	if (s->lfd < 0) {
		err = -errno;
		goto fail;
	}
	/* A predecessor's path, or one left by a killed agent: this agent
	 * is the one for this pin root now. */
	(void)unlink(path);
	if (bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(path, 0600) || listen(s->lfd, 1) || fstat(s->lfd, &st) ||
	    stat(path, &st)) {
		err = -errno;
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->op = loop_op_add(s->loop, "handover", handover_cqe, s);
	if (s->op < 0) {
		err = s->op;
		goto fail;
	}
	handover_arm(s, HANDOVER_POLL_LISTEN);
	log_info("event=handover_serving path=%s", path);
	return 0;
fail:
	log_warn("event=handover_unavailable path=%s err=\"%s\" "
		 "effect=\"a new agent cannot take the listeners over\"",
		 path, strerror(-err));
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	s->path[0] = '\0';
	return err;
}

void handover_on_successor(struct handover_srv *s,
			   void (*fn)(void *arg, pid_t pid), void *arg)
{
	s->on_successor = fn;
	s->successor_arg = arg;
}

void handover_srv_close(struct handover_srv *s)
{
	struct stat st;

	if (!s->loop)
		return;		/* never served */
	handover_conn_end(s);
	if (s->lfd >= 0)
		close(s->lfd);
	s->lfd = -1;
	/* Only our own: a successor serves the same path. */
	if (s->path[0] && !s->taken && !stat(s->path, &st) &&
	    st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	s->loop = NULL;
}
