// SPDX-License-Identifier: Apache-2.0
/*
 * The span reporter (tracew.h): a ring of queued spans under one mutex,
 * and the collectors' state and the curl handle, which only the reporter
 * thread touches.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "meshforge/abi.h"
#include "otlp.h"
#include "tracew.h"

#define TRACEW_CONNECT_MS	1000
#define TRACEW_TIMEOUT_MS	2000

struct tracew_span {
	uint8_t fmt;			/* enum tracew_fmt */
	char url[TRACEW_URL_MAX];
	size_t n;
	char b[];
};

/* A collector: its back off after a failure. */
struct tracew_target {
	char url[TRACEW_URL_MAX];	/* "": a free slot */
	struct otlp_client *otlp;	/* an OTLP one's, once used */
	uint64_t retry_ns;		/* down until then */
	uint32_t backoff_ms;
	uint64_t used_ns;		/* its last batch, for reuse */
};

struct tracew {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;			/* under lock */
	struct tracew_span *q[TRACEW_QUEUE_MAX];	/* under lock */
	size_t head, len;
	/* The reporter thread's own. */
	CURL *curl;
	struct curl_slist *hdrs;
	struct tracew_target targets[TRACEW_TARGETS_MAX];
	char *body;			/* a batch's JSON array */
	size_t body_cap;
	/* Written by the reporter, read atomically. */
	uint64_t reported, failed;
};

static uint64_t tracew_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The target of @url: the one there is, else a free slot or the least
 * recently used, forgotten. */
static struct tracew_target *tracew_target(struct tracew *w, const char *url)
{
	struct tracew_target *lru = &w->targets[0];

	for (size_t i = 0; i < TRACEW_TARGETS_MAX; i++) {
		struct tracew_target *t = &w->targets[i];

		if (t->url[0] && !strcmp(t->url, url))
			return t;
		if (!t->url[0] || (lru->url[0] && t->used_ns < lru->used_ns))
			lru = t;
	}
	otlp_client_free(lru->otlp);
	memset(lru, 0, sizeof(*lru));
	snprintf(lru->url, sizeof(lru->url), "%s", url);
	return lru;
}

/* Target @t down for its back off, doubled: its spans are dropped until
 * then, and it says so once per failure, not once per span. */
static void tracew_down(struct tracew_target *t, uint64_t now,
			const char *why)
{
	t->backoff_ms = t->backoff_ms ? t->backoff_ms * 2 :
			TRACEW_BACKOFF_MIN_MS;
	if (t->backoff_ms > TRACEW_BACKOFF_MAX_MS)
		t->backoff_ms = TRACEW_BACKOFF_MAX_MS;
	t->retry_ns = now + (uint64_t)t->backoff_ms * 1000000u;
	log_warn("event=trace_collector_down url=\"%s\" err=\"%s\" "
		 "retry_ms=%u", t->url, why, t->backoff_ms);
}

/* The answer's body is of no use: read and dropped. */
static size_t tracew_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The body of spans @s[0..@n), all of one format, into w->body: Zipkin's
 * JSON array; OTLP's requests one after the other, after OTLP_HEAD bytes
 * for otlp_send().  Returns its length, or 0 out of memory. */
static size_t tracew_body(struct tracew *w, struct tracew_span *const *s,
			  int n)
{
	bool otlp = s[0]->fmt != TRACEW_ZIPKIN;
	size_t need = OTLP_HEAD + 2, len = 0;

	for (int i = 0; i < n; i++)
		need += s[i]->n + 1;
	if (need > w->body_cap) {
		char *b = realloc(w->body, need);

		if (!b)
			return 0;
		w->body = b;
		w->body_cap = need;
	}
	if (otlp) {
		len = OTLP_HEAD;
		for (int i = 0; i < n; i++) {
			memcpy(w->body + len, s[i]->b, s[i]->n);
			len += s[i]->n;
		}
		return len;
	}
	w->body[len++] = '[';
	for (int i = 0; i < n; i++) {
		if (i)
			w->body[len++] = ',';
		memcpy(w->body + len, s[i]->b, s[i]->n);
		len += s[i]->n;
	}
	w->body[len++] = ']';
	return len;
}

/* Body @len bytes of w->body to OTLP collector @t.  Returns 0 or why it
 * failed into @why. */
static int tracew_send_otlp(struct tracew *w, struct tracew_target *t,
			    enum tracew_fmt fmt, size_t len, char *why,
			    size_t cap)
{
	int err = 0;

	if (!t->otlp)
		err = otlp_client_new(&t->otlp, fmt == TRACEW_OTLP_GRPC ?
				      OTLP_GRPC : OTLP_HTTP, t->url);
	if (!err)
		err = otlp_send(t->otlp, (uint8_t *)w->body, len);
	if (err)
		snprintf(why, cap, "%s", strerror(-err));
	return err;
}

/* Spans @s[0..@n), all for one collector in one format, in one POST. */
static void tracew_send(struct tracew *w, struct tracew_span *const *s, int n)
{
	struct tracew_target *t = tracew_target(w, s[0]->url);
	uint64_t now = tracew_now_ns();
	char why[128];
	long code = 0;
	CURLcode rc;
	size_t len;

	t->used_ns = now;
	if (now < t->retry_ns || !w->curl) {
		__atomic_add_fetch(&w->failed, (uint64_t)n, __ATOMIC_RELAXED);
		return;
	}
	len = tracew_body(w, s, n);
	if (!len) {
		__atomic_add_fetch(&w->failed, (uint64_t)n, __ATOMIC_RELAXED);
		return;
	}
	if (s[0]->fmt != TRACEW_ZIPKIN) {
		rc = tracew_send_otlp(w, t, s[0]->fmt, len, why, sizeof(why)) ?
		     CURLE_SEND_ERROR : CURLE_OK;
		code = 200;
	} else {
		curl_easy_setopt(w->curl, CURLOPT_URL, t->url);
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDS, w->body);
		curl_easy_setopt(w->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
		rc = curl_easy_perform(w->curl);
		if (rc == CURLE_OK)
			curl_easy_getinfo(w->curl, CURLINFO_RESPONSE_CODE,
					  &code);
		if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s",
				 curl_easy_strerror(rc));
		else
			snprintf(why, sizeof(why), "HTTP %ld", code);
	}
	if (rc != CURLE_OK || code < 200 || code > 299) {
		tracew_down(t, now, why);
		__atomic_add_fetch(&w->failed, (uint64_t)n, __ATOMIC_RELAXED);
		return;
	}
	t->backoff_ms = 0;
	__atomic_add_fetch(&w->reported, (uint64_t)n, __ATOMIC_RELAXED);
}

/* Waits, under w->lock, until a batch is due: TRACEW_BATCH spans wait,
 * the flush interval passed with some waiting, or the reporter stops. */
static void tracew_wait(struct tracew *w)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += TRACEW_FLUSH_MS / 1000;
	until.tv_nsec += (long)(TRACEW_FLUSH_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	while (!w->stop && w->len < TRACEW_BATCH) {
		if (pthread_cond_timedwait(&w->cond, &w->lock, &until) ==
		    ETIMEDOUT && w->len)
			break;
		if (!w->len) {
			/* Nothing to flush: the interval starts with the
			 * first span. */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += TRACEW_FLUSH_MS / 1000;
		}
	}
}

static void *tracew_thread(void *arg)
{
	struct tracew *w = arg;
	struct tracew_span *batch[TRACEW_BATCH];

	pthread_mutex_lock(&w->lock);
	for (;;) {
		int k = 0;

		tracew_wait(w);
		if (!w->len && w->stop)
			break;	/* stopped, and nothing left */
		while (w->len && k < TRACEW_BATCH) {
			batch[k++] = w->q[w->head];
			w->q[w->head] = NULL;
			w->head = (w->head + 1) % TRACEW_QUEUE_MAX;
			w->len--;
		}
		pthread_mutex_unlock(&w->lock);
		/* In order; each run of one collector's spans in one POST. */
		for (int i = 0, j; i < k; i = j) {
			for (j = i + 1; j < k && batch[i]->fmt == batch[j]->fmt &&
			     !strcmp(batch[i]->url, batch[j]->url); j++)
				;
			tracew_send(w, batch + i, j - i);
		}
		for (int i = 0; i < k; i++)
			free(batch[i]);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

/* The curl handle every POST reuses (its connections with it). */
static int tracew_curl(struct tracew *w)
{
	w->curl = curl_easy_init();
	w->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	if (!w->curl || !w->hdrs)
		return -ENOMEM;
	/* A thread of its own: no signal may cut a resolve short. */
	curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(w->curl, CURLOPT_HTTPHEADER, w->hdrs);
	curl_easy_setopt(w->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)TRACEW_CONNECT_MS);
	curl_easy_setopt(w->curl, CURLOPT_TIMEOUT_MS, (long)TRACEW_TIMEOUT_MS);
	curl_easy_setopt(w->curl, CURLOPT_WRITEFUNCTION, tracew_discard);
	curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	return 0;
}

static void tracew_free(struct tracew *w)
{
	for (size_t i = 0; i < TRACEW_TARGETS_MAX; i++)
		otlp_client_free(w->targets[i].otlp);
	curl_slist_free_all(w->hdrs);
	if (w->curl)
		curl_easy_cleanup(w->curl);
	free(w->body);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

int tracew_start(struct tracew **out)
{
	struct tracew *w = calloc(1, sizeof(*w));
	int err;

	*out = NULL;
	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	err = tracew_curl(w);
	if (!err)
		err = -pthread_create(&w->thread, NULL, tracew_thread, w);
	if (err) {
		tracew_free(w);
		return err;
	}
	*out = w;
	return 0;
}

void tracew_stop(struct tracew *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	tracew_free(w);
}

int tracew_push(struct tracew *w, enum tracew_fmt fmt, const char *url,
		const void *b, size_t n)
{
	struct tracew_span *s;
	int err = 0;

	if (strlen(url) >= TRACEW_URL_MAX)
		return -ENAMETOOLONG;
	/* Full: dropped before anything is copied. */
	pthread_mutex_lock(&w->lock);
	if (w->len == TRACEW_QUEUE_MAX || w->stop)
		err = -ENOBUFS;
	pthread_mutex_unlock(&w->lock);
	if (err)
		return err;
	s = malloc(sizeof(*s) + n);
	if (!s)
		return -ENOMEM;
	s->fmt = (uint8_t)fmt;
	snprintf(s->url, sizeof(s->url), "%s", url);
	s->n = n;
	memcpy(s->b, b, n);
	pthread_mutex_lock(&w->lock);
	if (w->len == TRACEW_QUEUE_MAX || w->stop) {
		err = -ENOBUFS;
	} else {
		w->q[(w->head + w->len) % TRACEW_QUEUE_MAX] = s;
		w->len++;
		s = NULL;	/* the queue's now */
		/* A batch is due: the reporter need not wait for the
		 * interval. */
		if (w->len == TRACEW_BATCH)
			pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	free(s);
	return err;
}

uint64_t tracew_reported(const struct tracew *w)
{
	return w ? __atomic_load_n(&w->reported, __ATOMIC_RELAXED) : 0;
}

uint64_t tracew_failed(const struct tracew *w)
{
	return w ? __atomic_load_n(&w->failed, __ATOMIC_RELAXED) : 0;
}
