// SPDX-License-Identifier: Apache-2.0
/*
 * The access log writer (alogw.h): a ring of queued lines under one
 * mutex, and the sinks, which only the writer thread touches.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "alogw.h"
#include "log.h"
#include "otlp_logs.h"
#include "meshforge/abi.h"

#define ALOGW_DIAL_MS	1000
/* Lines taken off the queue at once; consecutive ones for one sink go
 * out in one writev(). */
#define ALOGW_BATCH	64

struct alogw_line {
	uint8_t kind;			/* enum alogw_kind */
	char target[ALOGW_TARGET_MAX];
	size_t n;
	char b[];
};

struct alogw_sink {
	uint8_t kind;			/* 0: a free slot */
	char target[ALOGW_TARGET_MAX];
	int fd;				/* -1: not open */
	struct otlp_client *otlp;	/* otlp: NULL until the first
					 * export */
	uint64_t retry_ns;		/* down until then (tcp) */
	uint32_t backoff_ms;
	uint64_t used_ns;		/* its last line, for reuse */
};

struct alogw {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;			/* under lock */
	struct alogw_line *q[ALOGW_QUEUE_MAX];	/* under lock */
	size_t head, len;
	/* The writer thread's own. */
	struct alogw_sink sinks[ALOGW_SINKS_MAX];
	uint64_t failed;		/* written by the writer, read
					 * atomically */
};

static uint64_t alogw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void alogw_close(struct alogw_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	otlp_client_free(s->otlp);
	s->otlp = NULL;
}

static bool alogw_is_otlp(uint8_t kind)
{
	return kind == ALOGW_OTLP_GRPC || kind == ALOGW_OTLP_HTTP;
}

static const char *alogw_kind_str(uint8_t kind)
{
	switch (kind) {
	case ALOGW_FILE: return "file";
	case ALOGW_TCP: return "tcp";
	case ALOGW_OTLP_GRPC: return "otlp_grpc";
	case ALOGW_OTLP_HTTP: return "otlp_http";
	default: return "?";
	}
}

/* The sink of @kind at @target: the one there is, else a free slot or the
 * least recently used, closed. */
static struct alogw_sink *alogw_sink(struct alogw *w, uint8_t kind,
				     const char *target)
{
	struct alogw_sink *lru = &w->sinks[0];

	for (size_t i = 0; i < ALOGW_SINKS_MAX; i++) {
		struct alogw_sink *s = &w->sinks[i];

		if (s->kind == kind && !strcmp(s->target, target))
			return s;
		if (!s->kind || (lru->kind && s->used_ns < lru->used_ns))
			lru = s;
	}
	alogw_close(lru);
	memset(lru, 0, sizeof(*lru));
	lru->kind = kind;
	lru->fd = -1;
	snprintf(lru->target, sizeof(lru->target), "%s", target);
	return lru;
}

static int alogw_open_file(struct alogw_sink *s)
{
	s->fd = open(s->target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		     0640);
	return s->fd < 0 ? -errno : 0;
}

/* connect() of @fd to @ai within ALOGW_DIAL_MS. */
static int alogw_dial_one(int fd, const struct addrinfo *ai)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if (poll(&pfd, 1, ALOGW_DIAL_MS) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

static int alogw_dial(struct alogw_sink *s)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char host[ALOGW_TARGET_MAX];
	char *colon;
	int err = -EINVAL;

	snprintf(host, sizeof(host), "%s", s->target);
	colon = strrchr(host, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	/* [v6]:port */
	if (host[0] == '[' && colon[-1] == ']') {
		colon[-1] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	if (getaddrinfo(host, colon + 1, &hints, &res))
		return -EHOSTUNREACH;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		struct timeval tv = { .tv_sec = 1 };
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
				SOCK_NONBLOCK, 0);

		if (fd < 0) {
			err = -errno;
			continue;
		}
		err = alogw_dial_one(fd, ai);
		if (err) {
			close(fd);
			continue;
		}
		/* Blocking from here, but never for long: a collector that
		 * reads nothing costs its own lines, not the others'. */
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		s->fd = fd;
		break;
	}
	freeaddrinfo(res);
	return err;
}

/* All of the @n buffers at @iov to @fd (@iov is consumed). */
static int alogw_write_all(int fd, struct iovec *iov, int n, bool sock)
{
	while (n) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t k = sock ? sendmsg(fd, &mh, MSG_NOSIGNAL) :
				   writev(fd, iov, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return k < 0 ? -errno : -EIO;
		/* Past what went out: a short write resumes mid-buffer. */
		while (n && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

/* Sink @s down for its back off, doubled: its lines are dropped until
 * then, and it says so once per failure, not once per line. */
static void alogw_down(struct alogw_sink *s, uint64_t now, int err)
{
	alogw_close(s);
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 :
			ALOGW_BACKOFF_MIN_MS;
	if (s->backoff_ms > ALOGW_BACKOFF_MAX_MS)
		s->backoff_ms = ALOGW_BACKOFF_MAX_MS;
	s->retry_ns = now + (uint64_t)s->backoff_ms * 1000000u;
	log_warn("event=access_log_backend_down kind=%s target=\"%s\" "
		 "err=\"%s\" retry_ms=%u",
		 alogw_kind_str(s->kind), s->target,
		 strerror(-err), s->backoff_ms);
}

static int alogw_write_tcp(struct alogw_sink *s, struct iovec *iov, int n)
{
	uint64_t now = alogw_now_ns();
	int err;

	if (s->fd < 0) {
		if (now < s->retry_ns)
			return -EAGAIN;
		err = alogw_dial(s);
		if (err) {
			alogw_down(s, now, err);
			return err;
		}
	}
	err = alogw_write_all(s->fd, iov, n, true);
	if (err) {
		alogw_down(s, now, err);
		return err;
	}
	s->backoff_ms = 0;
	return 0;
}

static int alogw_write_file(struct alogw_sink *s, struct iovec *iov, int n)
{
	struct iovec again[ALOGW_BATCH];
	uint64_t now = alogw_now_ns();
	int err = 0;

	if (s->fd < 0 && now < s->retry_ns)
		return -EAGAIN;
	/* Kept whole for the second attempt: the first consumes @iov. */
	memcpy(again, iov, sizeof(*iov) * (size_t)n);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->fd < 0 && (err = alogw_open_file(s)))
			break;
		err = alogw_write_all(s->fd, attempt ? again : iov, n, false);
		if (!err) {
			s->backoff_ms = 0;
			return 0;
		}
		/* Gone, or the disk said no: the file once more (a line
		 * that half went may then be written twice, never lost). */
		alogw_close(s);
	}
	alogw_down(s, now, err);
	return err;
}

/* Records @l[0..@n), all for one collector, in one export; a line that
 * is not a record (never: the loops write them) is left out. */
static int alogw_write_otlp(struct alogw_sink *s,
			    struct alogw_line *const *l, int n)
{
	struct otlp_log r[ALOGW_BATCH];
	uint64_t now = alogw_now_ns();
	size_t k = 0;
	int err;

	if (!s->otlp && now < s->retry_ns)
		return -EAGAIN;
	for (int i = 0; i < n; i++)
		if (!otlp_log_decode(l[i]->b, l[i]->n, &r[k]))
			k++;
	if (!s->otlp) {
		err = otlp_client_new(&s->otlp, s->kind == ALOGW_OTLP_GRPC ?
				      OTLP_GRPC : OTLP_HTTP, s->target);
		if (err)
			return err;
	}
	err = otlp_export_logs(s->otlp, r, k);
	if (err) {
		alogw_down(s, now, err);
		return err;
	}
	s->backoff_ms = 0;
	return 0;
}

/* Lines @l[0..@n), all for one sink, in one write. */
static void alogw_write(struct alogw *w, struct alogw_line *const *l, int n)
{
	struct alogw_sink *s = alogw_sink(w, l[0]->kind, l[0]->target);
	struct iovec iov[ALOGW_BATCH];
	int err;

	for (int i = 0; i < n; i++) {
		iov[i].iov_base = l[i]->b;
		iov[i].iov_len = l[i]->n;
	}
	s->used_ns = alogw_now_ns();
	if (alogw_is_otlp(s->kind))
		err = alogw_write_otlp(s, l, n);
	else if (s->kind == ALOGW_TCP)
		err = alogw_write_tcp(s, iov, n);
	else
		err = alogw_write_file(s, iov, n);
	if (err)
		__atomic_add_fetch(&w->failed, (uint64_t)n, __ATOMIC_RELAXED);
}

static bool alogw_same_sink(const struct alogw_line *a,
			    const struct alogw_line *b)
{
	return a->kind == b->kind && !strcmp(a->target, b->target);
}

static void *alogw_thread(void *arg)
{
	struct alogw *w = arg;
	struct alogw_line *batch[ALOGW_BATCH];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int k = 0;

		while (!w->len && !w->stop)
			pthread_cond_wait(&w->cond, &w->lock);
		if (!w->len)
			break;	/* stopped, and nothing left */
		while (w->len && k < ALOGW_BATCH) {
			batch[k++] = w->q[w->head];
			w->q[w->head] = NULL;
			w->head = (w->head + 1) % ALOGW_QUEUE_MAX;
			w->len--;
		}
		pthread_mutex_unlock(&w->lock);
		/* In order; each run of one sink's lines in one write. */
		for (int i = 0, j; i < k; i = j) {
			for (j = i + 1; j < k && alogw_same_sink(batch[i],
								 batch[j]); j++)
				;
			alogw_write(w, batch + i, j - i);
		}
		for (int i = 0; i < k; i++)
			free(batch[i]);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int alogw_start(struct alogw **out)
{
	struct alogw *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < ALOGW_SINKS_MAX; i++)
		w->sinks[i].fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = -pthread_create(&w->thread, NULL, alogw_thread, w);
	if (err) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		return err;
	}
	*out = w;
	return 0;
}

void alogw_stop(struct alogw *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	for (size_t i = 0; i < ALOGW_SINKS_MAX; i++)
		alogw_close(&w->sinks[i]);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int alogw_push(struct alogw *w, enum alogw_kind kind, const char *target,
	       const char *line, size_t n)
{
	struct alogw_line *l;
	int err = 0;

	if (strlen(target) >= ALOGW_TARGET_MAX)
		return -ENAMETOOLONG;
	/* Full: dropped before anything is copied. */
	pthread_mutex_lock(&w->lock);
	if (w->len == ALOGW_QUEUE_MAX || w->stop)
		err = -ENOBUFS;
	pthread_mutex_unlock(&w->lock);
	if (err)
		return err;
	l = malloc(sizeof(*l) + n);
	if (!l)
		return -ENOMEM;
	l->kind = (uint8_t)kind;
	snprintf(l->target, sizeof(l->target), "%s", target);
	l->n = n;
	memcpy(l->b, line, n);
	pthread_mutex_lock(&w->lock);
	if (w->len == ALOGW_QUEUE_MAX || w->stop) {
		err = -ENOBUFS;
	} else {
		w->q[(w->head + w->len) % ALOGW_QUEUE_MAX] = l;
		w->len++;
		l = NULL;	/* the queue's now */
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	free(l);
	return err;
}

uint64_t alogw_failed(const struct alogw *w)
{
	return w ? __atomic_load_n(&w->failed, __ATOMIC_RELAXED) : 0;
}
