// SPDX-License-Identifier: Apache-2.0
/*
 * Request copies for RequestMirror (see hmirror.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hmirror.h"
#include "loop.h"
#include "timer.h"
#include "tunnel.h"

/* Closes the oldest end held. */
static void hmirror_pop(struct hmirror *m)
{
	close(m->fd[m->head]);
	m->head = (m->head + 1) % HMIRROR_MAX;
	m->n--;
}

/* Whether the connection at the other side of @fd is over: it closed its
 * end (EOF) or reset it.  What came is read and dropped on the way. */
static bool hmirror_over(int fd)
{
	char sink[4096];
	ssize_t r;

	for (;;) {
		r = recv(fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (r > 0)
			continue;
		return r == 0 || (errno != EAGAIN && errno != EINTR);
	}
}

/* Once a second: the ends whose copy is over, or that were held long
 * enough, are closed.  Oldest first; a held end that is not over yet
 * keeps those behind it for the next tick (they are younger). */
static void hmirror_tick(void *arg)
{
	struct hmirror *m = arg;
	uint64_t now = timer_now();

	while (m->n && (now - m->since[m->head] >= HMIRROR_HOLD_NS ||
			hmirror_over(m->fd[m->head])))
		hmirror_pop(m);
}

static void hmirror_abort_all(void *arg)
{
	hmirror_fini(arg);
}

static bool hmirror_busy(void *arg)
{
	(void)arg;
	return false;		/* no op of its own in the ring */
}

int hmirror_init(struct hmirror *m, struct loop *l, struct tunnel *tu,
		 struct stats *st)
{
	const struct loop_user u = {
		.arg = m,
		.abort_all = hmirror_abort_all,
		.busy = hmirror_busy,
		.tick = hmirror_tick,
	};

	memset(m, 0, sizeof(*m));
	m->tunnel = tu;
	m->stats = st;
	return loop_user_add(l, &u);
}

int hmirror_send(struct hmirror *m, const struct tunnel_src *src,
		 uint32_t ip, uint16_t port, const void *p, size_t n)
{
	int sv[2], buf = (int)n + 4096, err;
	unsigned int tail;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
		       sv))
		return -errno;
	/* The whole copy into the pair now: there is no later write. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	if (send(sv[0], p, n, MSG_NOSIGNAL) != (ssize_t)n) {
		close(sv[0]);
		close(sv[1]);
		return -ENOBUFS;
	}
	err = tunnel_probe(m->tunnel, sv[1], src, ip, port,
			   HMIRROR_TIMEOUT_MS);
	if (err) {
		close(sv[0]);
		return err;
	}
	if (m->n == HMIRROR_MAX)
		hmirror_pop(m);
	tail = (m->head + m->n) % HMIRROR_MAX;
	m->fd[tail] = sv[0];
	m->since[tail] = timer_now();
	m->n++;
	return 0;
}

void hmirror_fini(struct hmirror *m)
{
	while (m->n)
		hmirror_pop(m);
}
