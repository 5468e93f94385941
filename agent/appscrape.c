// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMetric applications' metrics (appscrape.h): the scraper thread, its
 * targets and their last good labelled texts.
 *
 * The agent links libcurl for this alone: an HTTP client with timeouts,
 * size bounds and chunked bodies is what Debian's libcurl already is (and
 * mfctl uses it for the mesh store), where the agent's own HTTP code is a
 * proxy on its io_uring loop, which must never wait on an application.
 *
 * Ownership: @s owns its targets and texts; the thread reads the targets
 * it copied under the mutex, fetches without it, and swaps a new text in
 * under it.  appscrape_copy() copies out under it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "appscrape.h"
#include "log.h"
#include "promtext.h"

struct appscrape_entry {
	struct appscrape_target t;
	char *text;			/* the last good copy, NULL: none.
					 * Owned */
	size_t len;
};

struct appscrape {
	pthread_mutex_t mu;
	pthread_cond_t cv;		/* new targets, or stop */
	bool started, stop, changed;
	pthread_t thread;
	struct appscrape_entry *e;	/* Owned */
	size_t n;
	uint64_t ok, failed;		/* fetches (appscrape_counts()) */
};

/* The labels MeshMetric adds: a sample of the application's that has one
 * already would carry it twice. */
static const char *const appscrape_added[] = {
	"mesh", "workload", "kuma_io_service", "kuma_io_application",
};

/* A growing output, bounded by APPSCRAPE_TEXT_MAX. */
struct appscrape_out {
	char *p;
	size_t len, cap;
	int err;
};

static void appscrape_put(struct appscrape_out *o, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (o->err)
		return;
	if (o->len + n > APPSCRAPE_TEXT_MAX) {
		o->err = -EFBIG;
		return;
	}
	if (o->len + n > o->cap) {
		cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n)
			cap *= 2;
		np = realloc(o->p, cap);
		if (!np) {
			o->err = -ENOMEM;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

long appscrape_label(const char *body, size_t n, const char *labels,
		     char **out, size_t *out_len)
{
	struct appscrape_out o = { 0 };
	const char *p = body, *end = body + n, *eol;
	struct promtext_sample x;
	long dropped = 0;
	bool dup;

	*out = NULL;
	*out_len = 0;
	for (; p < end && !o.err; p = eol + 1) {
		eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		switch (promtext_line(p, (size_t)(eol - p), &x)) {
		case PROMTEXT_BLANK:
			continue;
		case PROMTEXT_SAMPLE:
			break;
		case PROMTEXT_COMMENT:	/* see appscrape.h */
		default:
			dropped++;
			continue;
		}
		dup = false;
		for (size_t k = 0; k < sizeof(appscrape_added) /
				       sizeof(appscrape_added[0]) && !dup; k++)
			dup = promtext_has_label(&x, appscrape_added[k]);
		if (dup) {
			dropped++;
			continue;
		}
		appscrape_put(&o, x.name, x.name_len);
		appscrape_put(&o, "{", 1);
		appscrape_put(&o, labels, strlen(labels));
		if (x.labels_len) {
			appscrape_put(&o, ",", 1);
			appscrape_put(&o, x.labels, x.labels_len);
		}
		appscrape_put(&o, "} ", 2);
		appscrape_put(&o, x.rest, x.rest_len);
		appscrape_put(&o, "\n", 1);
	}
	if (o.err) {
		free(o.p);
		return o.err;
	}
	*out = o.p;
	*out_len = o.len;
	return dropped;
}

/* ---- fetching ------------------------------------------------------------ */

struct appscrape_body {
	char *p;
	size_t len;
	bool big;
};

/* CURLOPT_WRITEFUNCTION: appends, up to APPSCRAPE_BODY_MAX (past it the
 * transfer is aborted). */
static size_t appscrape_write(char *data, size_t size, size_t nmemb,
			      void *arg)
{
	struct appscrape_body *b = arg;
	size_t n = size * nmemb;
	char *np;

	if (b->len + n > APPSCRAPE_BODY_MAX) {
		b->big = true;
		return 0;
	}
	np = realloc(b->p, b->len + n + 1);
	if (!np)
		return 0;
	b->p = np;
	memcpy(b->p + b->len, data, n);
	b->len += n;
	return n;
}

/* One fetch of a round: its target (a copy) and its transfer. */
struct appscrape_job {
	struct appscrape_target t;
	CURL *curl;			/* NULL: could not be made.  Owned */
	struct appscrape_body b;	/* Owned */
};

/* @j's transfer, for its target's URL: HTTP only, within
 * APPSCRAPE_TIMEOUT_MS, its body bounded.  Returns 0 or -ENOMEM. */
static int appscrape_job_init(struct appscrape_job *j)
{
	j->curl = curl_easy_init();
	if (!j->curl)
		return -ENOMEM;
	curl_easy_setopt(j->curl, CURLOPT_URL, j->t.url);
	curl_easy_setopt(j->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(j->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->curl, CURLOPT_TIMEOUT_MS,
			 (long)APPSCRAPE_TIMEOUT_MS);
	curl_easy_setopt(j->curl, CURLOPT_WRITEFUNCTION, appscrape_write);
	curl_easy_setopt(j->curl, CURLOPT_WRITEDATA, &j->b);
	curl_easy_setopt(j->curl, CURLOPT_USERAGENT, "meshforge-agent");
	curl_easy_setopt(j->curl, CURLOPT_PRIVATE, (char *)j);
	return 0;
}

/* Finished job @j (curl's result @rc): its labelled text into *text
 * (the caller's).  Returns 0 or -errno, logged at debug level (an
 * application that is down is no news each 5 s). */
static int appscrape_job_text(struct appscrape_job *j, CURLcode rc,
			      char **text, size_t *len)
{
	long status = 0, dropped;

	if (rc == CURLE_OK)
		curl_easy_getinfo(j->curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK || status < 200 || status > 299) {
		log_debug("event=app_scrape_failed workload=%s app=%s url=%s "
			  "err=\"%s\" status=%ld", j->t.workload, j->t.app,
			  j->t.url, j->b.big ? "body too large" :
			  curl_easy_strerror(rc), status);
		return j->b.big ? -EFBIG : -EIO;
	}
	dropped = appscrape_label(j->b.p ? j->b.p : "", j->b.len,
				  j->t.labels, text, len);
	if (dropped < 0) {
		log_debug("event=app_scrape_failed workload=%s app=%s err=\"%s\"",
			  j->t.workload, j->t.app, strerror((int)-dropped));
		return (int)dropped;
	}
	return 0;
}

/* The entry of @workload's @app, or NULL.  Under the mutex. */
static struct appscrape_entry *appscrape_entry(struct appscrape *s,
					       const char *workload,
					       const char *app)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].t.workload, workload) &&
		    !strcmp(s->e[i].t.app, app))
			return &s->e[i];
	return NULL;
}

/* Job @j's outcome: a new copy (@text, given to the entry when its
 * target is still the same), or a failure; counted either way. */
static void appscrape_keep(struct appscrape *s, const struct appscrape_job *j,
			   int err, char *text, size_t len)
{
	struct appscrape_entry *e;

	pthread_mutex_lock(&s->mu);
	if (err) {
		s->failed++;
	} else {
		s->ok++;
		e = appscrape_entry(s, j->t.workload, j->t.app);
		if (e && !strcmp(e->t.url, j->t.url)) {
			free(e->text);
			e->text = text;
			e->len = len;
			text = NULL;
		}
	}
	pthread_mutex_unlock(&s->mu);
	free(text);
}

/* A round: every job of @jobs (@n) at once on @m, each within its
 * timeout, so one application that does not answer costs the others
 * nothing; then each one's outcome kept. */
static void appscrape_round(struct appscrape *s, CURLM *m,
			    struct appscrape_job *jobs, size_t n)
{
	struct appscrape_job *j;
	CURLMcode mc = CURLM_OK;
	int running = 0, left;
	CURLMsg *msg;

	for (size_t i = 0; i < n; i++)
		if (appscrape_job_init(&jobs[i]) ||
		    curl_multi_add_handle(m, jobs[i].curl) != CURLM_OK)
			appscrape_keep(s, &jobs[i], -ENOMEM, NULL, 0);
	do {
		mc = curl_multi_perform(m, &running);
		if (mc == CURLM_OK && running)
			mc = curl_multi_poll(m, NULL, 0, 1000, NULL);
	} while (mc == CURLM_OK && running);
	while ((msg = curl_multi_info_read(m, &left))) {
		char *text = NULL;
		size_t len = 0;
		int err;

		if (msg->msg != CURLMSG_DONE)
			continue;
		j = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
				  (char **)&j);
		if (!j)
			continue;
		err = appscrape_job_text(j, msg->data.result, &text, &len);
		appscrape_keep(s, j, err, text, len);
	}
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].curl) {
			curl_multi_remove_handle(m, jobs[i].curl);
			curl_easy_cleanup(jobs[i].curl);
		}
		free(jobs[i].b.p);
	}
}

static void *appscrape_main(void *arg)
{
	struct appscrape *s = arg;
	struct appscrape_job *jobs;
	CURLM *m = curl_multi_init();
	struct timespec until;
	size_t n;

	if (!m) {
		log_warn("event=app_scrape_unavailable err=\"curl_multi_init\"");
		return NULL;
	}
	pthread_mutex_lock(&s->mu);
	while (!s->stop) {
		/* The targets of this round, copied: fetched unlocked. */
		n = s->n;
		jobs = calloc(n ? n : 1, sizeof(*jobs));
		for (size_t i = 0; jobs && i < n; i++)
			jobs[i].t = s->e[i].t;
		s->changed = false;
		pthread_mutex_unlock(&s->mu);
		if (jobs)
			appscrape_round(s, m, jobs, n);
		free(jobs);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += APPSCRAPE_INTERVAL_MS / 1000;
		pthread_mutex_lock(&s->mu);
		while (!s->stop && !s->changed &&
		       pthread_cond_timedwait(&s->cv, &s->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&s->mu);
	curl_multi_cleanup(m);
	return NULL;
}

int appscrape_open(struct appscrape **out)
{
	struct appscrape *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	*out = s;
	return 0;
}

void appscrape_close(struct appscrape *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->thread, NULL);
	}
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].text);
	free(s->e);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int appscrape_targets(struct appscrape *s, const struct appscrape_target *t,
		      size_t n)
{
	struct appscrape_entry *ne, *old;
	int err;

	if (n > APPSCRAPE_TARGETS_MAX)
		return -E2BIG;
	ne = calloc(n ? n : 1, sizeof(*ne));
	if (!ne)
		return -ENOMEM;
	pthread_mutex_lock(&s->mu);
	/* A target that stays (same workload, app and URL) keeps its
	 * text. */
	for (size_t i = 0; i < n; i++) {
		ne[i].t = t[i];
		old = appscrape_entry(s, t[i].workload, t[i].app);
		if (old && !strcmp(old->t.url, t[i].url) &&
		    !strcmp(old->t.labels, t[i].labels)) {
			ne[i].text = old->text;
			ne[i].len = old->len;
			old->text = NULL;
		}
	}
	for (size_t i = 0; i < s->n; i++)
		free(s->e[i].text);
	free(s->e);
	s->e = ne;
	s->n = n;
	s->changed = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (n && !s->started) {
		err = -pthread_create(&s->thread, NULL, appscrape_main, s);
		if (err) {
			log_warn("event=app_scrape_unavailable err=\"%s\"",
				 strerror(-err));
			return err;
		}
		s->started = true;
	}
	return 0;
}

size_t appscrape_copy(struct appscrape *s, const char *workload,
		      const char *app, emit_write_fn *write, void *arg)
{
	const struct appscrape_entry *e;
	size_t n = 0;

	pthread_mutex_lock(&s->mu);
	e = appscrape_entry(s, workload, app);
	if (e && e->text) {
		write(arg, e->text, e->len);
		n = e->len;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

void appscrape_counts(struct appscrape *s, uint64_t *ok, uint64_t *failed)
{
	pthread_mutex_lock(&s->mu);
	*ok = s->ok;
	*failed = s->failed;
	pthread_mutex_unlock(&s->mu);
}
