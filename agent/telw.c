// SPDX-License-Identifier: Apache-2.0
/*
 * The telemetry writer (telw.h): a ring of queued items under one mutex,
 * and the sinks, which only the writer thread touches.
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

#include "collector.h"
#include "log.h"
#include "monotime.h"
#include "otlp_logs.h"
#include "telw.h"

struct telw_item {
	uint8_t kind;			/* enum telw_kind */
	uint32_t count;			/* what it holds, for the counters */
	char target[TELW_TARGET_MAX];
	size_t n;
	char b[];
};

struct telw_sink {
	uint8_t kind;			/* 0: a free slot */
	char target[TELW_TARGET_MAX];
	int fd;				/* file, tcp: -1 when not open */
	struct collector *coll;		/* the others: NULL until used */
	uint64_t retry_ns;		/* down until then */
	uint32_t backoff_ms;
	uint64_t used_ns;		/* its last run, for reuse */
};

struct telw {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;			/* under lock */
	struct telw_item *q[TELW_QUEUE_MAX];	/* under lock */
	size_t head, len;
	/* The writer thread's own. */
	struct telw_sink sinks[TELW_SINKS_MAX];
	uint8_t *body;			/* a run's request body */
	size_t body_cap;
	/* Written by the writer, read atomically. */
	uint64_t failed[TELW_SIGNALS], delivered[TELW_SIGNALS];
};

static enum telw_signal telw_signal_of(uint8_t kind)
{
	switch (kind) {
	case TELW_ZIPKIN:
	case TELW_ZIPKIN_PROTO:
	case TELW_DATADOG:
	case TELW_OTLP_TRACES_GRPC:
	case TELW_OTLP_TRACES_HTTP:
		return TELW_SPANS;
	case TELW_OTLP_METRICS_GRPC:
	case TELW_OTLP_METRICS_HTTP:
		return TELW_METRICS;
	default:
		return TELW_LOGS;
	}
}

static const char *telw_kind_str(uint8_t kind)
{
	switch (kind) {
	case TELW_FILE: return "file";
	case TELW_TCP: return "tcp";
	case TELW_OTLP_LOGS_GRPC: return "otlp_grpc";
	case TELW_OTLP_LOGS_HTTP: return "otlp_http";
	case TELW_ZIPKIN: return "zipkin";
	case TELW_ZIPKIN_PROTO: return "zipkin_proto";
	case TELW_DATADOG: return "datadog";
	case TELW_OTLP_TRACES_GRPC: return "otlp_grpc";
	case TELW_OTLP_TRACES_HTTP: return "otlp_http";
	case TELW_OTLP_METRICS_GRPC: return "otlp_grpc";
	case TELW_OTLP_METRICS_HTTP: return "otlp_http";
	default: return "?";
	}
}

/* How a collector sink's requests go (collector.h). */
static enum collector_proto telw_proto(uint8_t kind)
{
	switch (kind) {
	case TELW_OTLP_LOGS_GRPC:
	case TELW_OTLP_TRACES_GRPC:
	case TELW_OTLP_METRICS_GRPC:
		return COLLECTOR_GRPC;
	case TELW_ZIPKIN:
	case TELW_DATADOG:
		return COLLECTOR_JSON;
	default:
		return COLLECTOR_PROTOBUF;
	}
}

/* The OTLP signal of a collector sink's items, NULL for the others (whose
 * collectors take no options). */
static const struct otlp_signal *telw_otlp_signal(uint8_t kind)
{
	switch (kind) {
	case TELW_OTLP_LOGS_GRPC:
	case TELW_OTLP_LOGS_HTTP:
		return &otlp_logs_signal;
	case TELW_OTLP_TRACES_GRPC:
	case TELW_OTLP_TRACES_HTTP:
		return &otlp_traces_signal;
	case TELW_OTLP_METRICS_GRPC:
	case TELW_OTLP_METRICS_HTTP:
		return &otlp_metrics_signal;
	default:
		return NULL;
	}
}

static void telw_close(struct telw_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	collector_free(s->coll);
	s->coll = NULL;
}

/* The sink of @kind at @target: the one there is, else a free slot or the
 * least recently used, closed. */
static struct telw_sink *telw_sink(struct telw *w, uint8_t kind,
				   const char *target)
{
	struct telw_sink *lru = &w->sinks[0];

	for (size_t i = 0; i < TELW_SINKS_MAX; i++) {
		struct telw_sink *s = &w->sinks[i];

		if (s->kind == kind && !strcmp(s->target, target))
			return s;
		if (!s->kind || (lru->kind && s->used_ns < lru->used_ns))
			lru = s;
	}
	telw_close(lru);
	memset(lru, 0, sizeof(*lru));
	lru->kind = kind;
	lru->fd = -1;
	snprintf(lru->target, sizeof(lru->target), "%s", target);
	return lru;
}

/* Sink @s down for its back off, doubled: its items are dropped until
 * then, and it says so once per failure, not once per item. */
static void telw_down(struct telw_sink *s, uint64_t now, int err)
{
	static const char *const event[TELW_SIGNALS] = {
		[TELW_LOGS] = "access_log_backend_down",
		[TELW_SPANS] = "trace_collector_down",
		[TELW_METRICS] = "metrics_collector_down",
	};

	telw_close(s);
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 :
			TELW_BACKOFF_MIN_MS;
	if (s->backoff_ms > TELW_BACKOFF_MAX_MS)
		s->backoff_ms = TELW_BACKOFF_MAX_MS;
	s->retry_ns = now + (uint64_t)s->backoff_ms * 1000000u;
	log_warn("event=%s kind=%s target=\"%s\" err=\"%s\" retry_ms=%u",
		 event[telw_signal_of(s->kind)],
		 telw_kind_str(s->kind), s->target, strerror(-err),
		 s->backoff_ms);
}

/* ---- lines: file and tcp ------------------------------------------------- */

static int telw_open_file(struct telw_sink *s)
{
	s->fd = open(s->target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		     0640);
	return s->fd < 0 ? -errno : 0;
}

/* connect() of @fd to @ai within TELW_DIAL_MS. */
static int telw_dial_one(int fd, const struct addrinfo *ai)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	if (!connect(fd, ai->ai_addr, ai->ai_addrlen))
		return 0;
	if (errno != EINPROGRESS)
		return -errno;
	if (poll(&pfd, 1, TELW_DIAL_MS) <= 0)
		return -ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return -errno;
	return -err;
}

static int telw_dial(struct telw_sink *s)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	char host[TELW_TARGET_MAX];
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
		err = telw_dial_one(fd, ai);
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
static int telw_write_all(int fd, struct iovec *iov, int n, bool sock)
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

static int telw_write_tcp(struct telw_sink *s, struct iovec *iov, int n)
{
	int err = 0;

	if (s->fd < 0)
		err = telw_dial(s);
	if (!err)
		err = telw_write_all(s->fd, iov, n, true);
	return err;
}

static int telw_write_file(struct telw_sink *s, struct iovec *iov, int n)
{
	struct iovec again[TELW_BATCH];
	int err = 0;

	/* Kept whole for the second attempt: the first consumes @iov. */
	memcpy(again, iov, sizeof(*iov) * (size_t)n);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->fd < 0 && (err = telw_open_file(s)))
			break;
		err = telw_write_all(s->fd, attempt ? again : iov, n, false);
		if (!err)
			return 0;
		/* Gone, or the disk said no: the file once more (a line
		 * that half went may then be written twice, never lost). */
		telw_close(s);
	}
	return err;
}

/* Lines @l[0..@n) of one file or tcp sink @s, in one write. */
static int telw_lines(struct telw_sink *s, struct telw_item *const *l, int n)
{
	struct iovec iov[TELW_BATCH];

	for (int i = 0; i < n; i++) {
		iov[i].iov_base = l[i]->b;
		iov[i].iov_len = l[i]->n;
	}
	return s->kind == TELW_TCP ? telw_write_tcp(s, iov, n) :
				     telw_write_file(s, iov, n);
}

/* ---- requests: collectors ------------------------------------------------ */

/* Room for @need bytes in w->body.  False out of memory. */
static bool telw_body_room(struct telw *w, size_t need)
{
	uint8_t *b;

	if (need <= w->body_cap)
		return true;
	b = realloc(w->body, need);
	if (!b)
		return false;
	w->body = b;
	w->body_cap = need;
	return true;
}

/* The request of items @l[0..@n) (spans, metrics) for one collector,
 * into w->body after COLLECTOR_HEAD bytes: a JSON array of them (Zipkin's
 * spans, Datadog's chunks), or protobuf messages one after the other
 * (which is one message, tspan.h).
 * Returns its length, or 0 out of memory. */
static size_t telw_requests_body(struct telw *w, struct telw_item *const *l,
				 int n)
{
	bool json = l[0]->kind == TELW_ZIPKIN || l[0]->kind == TELW_DATADOG;
	size_t need = COLLECTOR_HEAD + 2, len = COLLECTOR_HEAD;

	for (int i = 0; i < n; i++)
		need += l[i]->n + 1;
	if (!telw_body_room(w, need))
		return 0;
	if (json)
		w->body[len++] = '[';
	for (int i = 0; i < n; i++) {
		if (json && i)
			w->body[len++] = ',';
		memcpy(w->body + len, l[i]->b, l[i]->n);
		len += l[i]->n;
	}
	if (json)
		w->body[len++] = ']';
	return len;
}

/* Items @l[0..@n) of collector sink @s, in one request. */
static int telw_request(struct telw *w, struct telw_sink *s,
			struct telw_item *const *l, int n)
{
	struct otlp_log r[TELW_BATCH];
	size_t k = 0, len;
	int err = 0;

	if (!s->coll) {
		const struct otlp_signal *sig = telw_otlp_signal(s->kind);
		struct otlp_export x;

		/* An OTLP collector's headers, timeout, compression and
		 * certificates: as the exporter variables its URL names set
		 * them (otlp.h). */
		err = collector_new(&s->coll, telw_proto(s->kind), s->target,
				    sig ? otlp_target_opts(s->target, sig, &x) :
					  NULL);
	}
	if (err)
		return err;
	if (telw_signal_of(s->kind) != TELW_LOGS) {
		len = telw_requests_body(w, l, n);
		return len ? collector_send(s->coll, w->body, len) : -ENOMEM;
	}
	/* A line that is not a record (never: the loops write them) is
	 * left out. */
	for (int i = 0; i < n; i++)
		if (!otlp_log_decode(l[i]->b, l[i]->n, &r[k]))
			k++;
	return otlp_export_logs(s->coll, r, k);
}

/* ---- the thread ---------------------------------------------------------- */

/* Items @l[0..@n), all for one sink, delivered at once, or counted
 * failed. */
static void telw_deliver(struct telw *w, struct telw_item *const *l, int n)
{
	struct telw_sink *s = telw_sink(w, l[0]->kind, l[0]->target);
	enum telw_signal sig = telw_signal_of(s->kind);
	uint64_t now = mono_ns(), count = 0;
	int err;

	s->used_ns = now;
	if (now < s->retry_ns) {
		err = -EAGAIN;
	} else {
		err = s->kind == TELW_FILE || s->kind == TELW_TCP ?
		      telw_lines(s, l, n) : telw_request(w, s, l, n);
		if (err)
			telw_down(s, now, err);
		else
			s->backoff_ms = 0;
	}
	for (int i = 0; i < n; i++)
		count += l[i]->count;
	__atomic_add_fetch(err ? &w->failed[sig] : &w->delivered[sig], count,
			   __ATOMIC_RELAXED);
}

static bool telw_same_sink(const struct telw_item *a,
			   const struct telw_item *b)
{
	return a->kind == b->kind && !strcmp(a->target, b->target);
}

/* Waits, under w->lock, until a batch is due: TELW_BATCH items wait, the
 * flush interval passed since the first of them came, or the writer
 * stops. */
static void telw_wait(struct telw *w)
{
	struct timespec until;
	bool timed = false;

	while (!w->stop && w->len < TELW_BATCH) {
		if (!w->len) {
			pthread_cond_wait(&w->cond, &w->lock);
			timed = false;
			continue;
		}
		if (!timed) {
			/* The interval starts with the first item. */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += (long)TELW_FLUSH_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			timed = true;
		}
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) ==
		    ETIMEDOUT)
			break;
	}
}

static void *telw_thread(void *arg)
{
	struct telw *w = arg;
	struct telw_item *batch[TELW_BATCH];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int k = 0;

		telw_wait(w);
		if (!w->len && w->stop)
			break;	/* stopped, and nothing left */
		while (w->len && k < TELW_BATCH) {
			batch[k++] = w->q[w->head];
			w->q[w->head] = NULL;
			w->head = (w->head + 1) % TELW_QUEUE_MAX;
			w->len--;
		}
		pthread_mutex_unlock(&w->lock);
		/* In order; each run of one sink's items at once. */
		for (int i = 0, j; i < k; i = j) {
			for (j = i + 1; j < k && telw_same_sink(batch[i],
								batch[j]); j++)
				;
			telw_deliver(w, batch + i, j - i);
		}
		for (int i = 0; i < k; i++)
			free(batch[i]);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void telw_free(struct telw *w)
{
	for (size_t i = 0; i < TELW_SINKS_MAX; i++)
		telw_close(&w->sinks[i]);
	free(w->body);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int telw_start(struct telw **out)
{
	struct telw *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	for (size_t i = 0; i < TELW_SINKS_MAX; i++)
		w->sinks[i].fd = -1;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = -pthread_create(&w->thread, NULL, telw_thread, w);
	if (err) {
		telw_free(w);
		return err;
	}
	*out = w;
	return 0;
}

void telw_stop(struct telw *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	telw_free(w);
}

int telw_push(struct telw *w, enum telw_kind kind, const char *target,
	      const void *b, size_t n)
{
	return telw_push_n(w, kind, target, b, n, 1);
}

int telw_push_n(struct telw *w, enum telw_kind kind, const char *target,
		const void *b, size_t n, uint32_t count)
{
	struct telw_item *l;
	int err = 0;

	if (strlen(target) >= TELW_TARGET_MAX)
		return -ENAMETOOLONG;
	/* Full: dropped before anything is copied. */
	pthread_mutex_lock(&w->lock);
	if (w->len == TELW_QUEUE_MAX || w->stop)
		err = -ENOBUFS;
	pthread_mutex_unlock(&w->lock);
	if (err)
		return err;
	l = malloc(sizeof(*l) + n);
	if (!l)
		return -ENOMEM;
	l->kind = (uint8_t)kind;
	l->count = count;
	snprintf(l->target, sizeof(l->target), "%s", target);
	l->n = n;
	memcpy(l->b, b, n);
	pthread_mutex_lock(&w->lock);
	if (w->len == TELW_QUEUE_MAX || w->stop) {
		err = -ENOBUFS;
	} else {
		w->q[(w->head + w->len) % TELW_QUEUE_MAX] = l;
		w->len++;
		l = NULL;	/* the queue's now */
		/* The writer waits for a first item, then for a batch or
		 * the flush interval: only those two wake it. */
		if (w->len == 1 || w->len == TELW_BATCH)
			pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	free(l);
	return err;
}

uint64_t telw_failed(const struct telw *w, enum telw_signal s)
{
	return w ? __atomic_load_n(&w->failed[s], __ATOMIC_RELAXED) : 0;
}

uint64_t telw_delivered(const struct telw *w, enum telw_signal s)
{
	return w ? __atomic_load_n(&w->delivered[s], __ATOMIC_RELAXED) : 0;
}
