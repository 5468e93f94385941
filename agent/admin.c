// SPDX-License-Identifier: Apache-2.0
/*
 * The admin endpoint (admin.h): connection handling on the loop's ring,
 * the strict request parser, the small answers, and the pages of
 * admin_page.h sent a chunk at a time.
 *
 * An admin connection takes at most three ops at once: its deadline timer
 * (armed at accept), and a recv or a send.  It is released only when all
 * of them have completed, so no completion finds a reused slot; the
 * generation in user_data is the safety net, as for the conn table.
 *
 * A page is rendered ADMIN_CHUNK bytes at a time, the next chunk only once
 * the last one is all sent (ac->render_due), and never in the completion
 * handler that learns it: the renders due run from a loop timer armed for
 * the next turn, ADMIN_TURN_BUDGET bytes a turn over all pages, round
 * robin.  That is what admin adds to a turn of the loop, whatever the
 * size of the snapshot or the number of pages in flight; a loop with
 * nothing else to do turns again at once, so a page still goes as fast
 * as it renders.  ac->out is only written while no send of it is in
 * flight, so the kernel never reads memory a render has moved.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <linux/time_types.h>

#include "admin.h"
#include "admin_page.h"
#include "appscrape.h"
#include "certs.h"
#include "crl.h"
#include "ctx.h"
#include "log.h"
#include "tlsfile.h"
#include "loop.h"
#include "policy.h"
#include "reload.h"
#include "otlp_metrics.h"
#include "telw.h"
#include "tls.h"
#include "wmplan.h"

/* The size line of a chunk, of fixed width so it can be written after the
 * chunk's bytes into the room kept before them: 8 hex digits (leading
 * zeros are allowed, RFC 9112 7.1) and CRLF. */
#define ADMIN_CHUNK_LINE	10

struct admin_conn {
	int fd;			/* -1: the slot is free.  Owned */
	uint32_t gen;		/* bumped at release: stale completions */
	uint32_t inflight;	/* ops submitted and not completed */
	bool recv_busy;
	bool send_busy;
	bool timer_armed;
	bool closing;		/* waiting for inflight to drain */
	bool rst;		/* close with RST */
	bool chunked;		/* the page goes in HTTP/1.1 chunks; else
				 * its end is the connection's (HTTP/1.0) */
	bool render_due;	/* the page's next chunk is for the next
				 * render turn (admin_on_render()) */
	uint64_t accepted_ns;	/* CLOCK_MONOTONIC */
	uint64_t progress_ns;	/* the last send that took bytes, else
				 * accepted_ns: see admin_deadline_ns() */
	struct __kernel_timespec deadline;	/* of the timer op */
	/* A page with more to render; NULL: none, or all of it rendered.
	 * Owned, with the snapshot reference it holds. */
	struct apage *page;
	/* What goes out now: a whole answer, or a page's head and first
	 * chunk, then each next chunk in turn.  Owned */
	struct apage_buf out;
	size_t out_off;		/* bytes of it sent */
	size_t req_len;		/* bytes of req[] received */
	uint16_t mport;		/* accepted on MeshMetric port mport; 0:
				 * on the admin port */
	/* TLS (a MeshMetric port of ProvidedTLS or ActiveMTLSBackend):
	 * the session, NULL: plain.  Owned.  What is received goes into
	 * cin, and through the session into req; ac->out goes through the
	 * session (admin_send_out()), and what is sent is its output. */
	struct tls_sess *tls;
	bool hs_done;		/* its handshake completed */
	bool answered;		/* the head is in and answered: a send that
				 * ends leads to the answer's next part,
				 * not to another recv */
	bool tls_fin;		/* close_notify or an alert queued: the
				 * connection ends once it is sent */
	size_t wire_in;		/* ciphertext received (ADMIN_TLS_IN_MAX) */
	char req[ADMIN_HEAD_MAX];
	uint8_t cin[ADMIN_TLS_RECV];
};

/* A MeshMetric Prometheus port the endpoint listens on (wmplan.h). */
struct admin_mport {
	struct admin *a;	/* back-pointer, for the accept handler */
	uint16_t port;		/* 0: a free entry */
	int id;			/* its loop listener, -1: none (the listen
				 * failed; tried again each tick) */
	bool warned;		/* its failure is in the log already */
	uint8_t tls;		/* how it speaks: enum mf_metric_tls_mode
				 * (wmplan.h), for connections accepted
				 * from now on */
	char name[24];		/* "metrics:PORT", the listener's name */
};

struct admin {
	struct loop *loop;		/* borrowed */
	struct ctx *ctx;		/* borrowed */
	uint8_t op;			/* the loop operation of admin ops */
	uint32_t timeout_ms;
	uint32_t nconns;	/* slots in use */
	uint32_t nrenders;	/* conns with a page (ac->page) */
	/* ... of them, those of MeshMetric ports (ADMIN_MPORT_CONNS_MAX,
	 * ADMIN_MPORT_RENDERS_MAX) */
	uint32_t nmconns, nmrenders;
	struct apage_env env;	/* what the pages read */
	struct timer render_timer;	/* armed while a render is due */
	uint32_t render_next;	/* where the next render turn starts */
	/* MeshMetric: the plan of the snapshot last seen (NULL: none yet),
	 * which snapshot that was, and the ports its Prometheus backends
	 * are served on, at metrics_addr (network order). */
	struct wmplan *plan;	/* a reference.  Owned */
	const struct policy *plan_pol;	/* compared only, never read */
	uint64_t plan_epoch;
	uint32_t metrics_addr;
	struct admin_mport mports[ADMIN_MPORTS_MAX];
	/* ProvidedTLS ports' certificate (--metrics-tls-cert and -key),
	 * borrowed; NULL: none given, such ports are not served. */
	struct tlsfile *provided;
	/* TLS connections taken in the second that began at tls_window
	 * (timer_now() ns): ADMIN_TLS_ACCEPTS_PER_S; whether the refusals
	 * of that second are in the log. */
	uint64_t tls_window;
	uint32_t tls_accepts;
	bool tls_refusal_said;
	struct appscrape *apps;	/* the plan's applications.  Owned */
	/* MeshMetric's OpenTelemetry backends: when each of the plan's
	 * workloads pushes next to each (CLOCK_MONOTONIC ns, 0: at the next
	 * tick), and when the counters began (CLOCK_REALTIME ns, the
	 * pushes' start time). */
	uint64_t *otel_due;	/* [plan->n * MF_METRIC_BACKENDS_MAX].  Owned */
	uint64_t start_ns;
	struct admin_conn conns[ADMIN_MAX_CONNS];
};

/* ---- answers ------------------------------------------------------------- */

/* Listeners up (every one has its accept armed, or a retry of it
 * pending) and a policy snapshot loaded. */
static bool admin_is_ready(struct admin *a)
{
	return loop_listening(a->loop) && reload_current(a->ctx->reload);
}

/* ---- the request --------------------------------------------------------- */

static bool admin_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool admin_name_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

/*
 * Parses request head @h (@len bytes, ending in CRLFCRLF): method and path
 * (the target up to '?') point into @h, *http11 says the version.
 * Returns 0 or -EPROTO.
 */
static int admin_parse(const char *h, size_t len, const char **method,
		       size_t *mlen, const char **path, size_t *plen,
		       bool *http11)
{
	const char *p = h, *end = h + len, *eol, *colon, *v;
	bool host = false;
	size_t n;

	eol = p;
	while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
		eol++;
	if (eol + 1 >= end)
		return -EPROTO;
	/* method SP target SP HTTP/1.x */
	for (n = 0; p + n < eol && p[n] >= 'A' && p[n] <= 'Z'; n++)
		;
	if (n == 0 || n > 16 || p + n >= eol || p[n] != ' ')
		return -EPROTO;
	*method = p;
	*mlen = n;
	p += n + 1;
	if (p >= eol || *p != '/')
		return -EPROTO;
	for (n = 0; p + n < eol && p[n] > 0x20 && p[n] < 0x7f; n++)
		;
	if (p + n >= eol || p[n] != ' ')
		return -EPROTO;
	*path = p;
	*plen = n;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '?') {
			*plen = i;
			break;
		}
	p += n + 1;
	if ((size_t)(eol - p) != 8 || (memcmp(p, "HTTP/1.1", 8) != 0 &&
				       memcmp(p, "HTTP/1.0", 8) != 0))
		return -EPROTO;
	*http11 = p[7] == '1';
	p = eol + 2;

	/* Header fields, up to the empty line. */
	for (;;) {
		eol = p;
		while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (eol + 1 >= end)
			return -EPROTO;
		if (eol == p)
			break;
		for (colon = p; colon < eol && admin_tchar((unsigned char)*colon);
		     colon++)
			;
		/* No name, or a space before the colon, or obs-fold. */
		if (colon == p || colon >= eol || *colon != ':')
			return -EPROTO;
		for (v = colon + 1; v < eol; v++)
			if ((unsigned char)*v < 0x20 && *v != '\t')
				return -EPROTO;
			else if ((unsigned char)*v == 0x7f)
				return -EPROTO;
		n = (size_t)(colon - p);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		if (admin_name_is(p, n, "host"))
			host = true;
		/* GET has no body here: one would be unread bytes of an
		 * unknown length, so refuse rather than guess. */
		if (admin_name_is(p, n, "transfer-encoding"))
			return -EPROTO;
		if (admin_name_is(p, n, "content-length") &&
		    !(eol - v >= 1 && *v == '0' &&
		      (eol - v == 1 || v[1] == ' ' || v[1] == '\t')))
			return -EPROTO;
		p = eol + 2;
	}
	/* RFC 9112 3.2: an HTTP/1.1 request without Host is bad. */
	if (*http11 && !host)
		return -EPROTO;
	return 0;
}

/* A whole answer of @status with body @body (@n bytes) into ac->out;
 * @extra is more header fields, each ending in CRLF. */
static void admin_answer_n(struct admin_conn *ac, const char *status,
			   const char *ctype, const char *extra,
			   const void *body, size_t n)
{
	apage_buf_printf(&ac->out, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n"
			 "Cache-Control: no-store\r\n\r\n", status, ctype, n,
			 extra);
	apage_buf_put(&ac->out, body, n);
}

/* admin_answer_n() of a text @body. */
static void admin_answer(struct admin_conn *ac, const char *status,
			 const char *ctype, const char *extra,
			 const char *body)
{
	admin_answer_n(ac, status, ctype, extra, body, strlen(body));
}

/* GET /ca.crl: the CA's revocation list in force, DER as read from the
 * config dir (RFC 5280 4.2.1.13: one DER CRL at an http URI), so a
 * certificate's cRLDistributionPoints may name an agent. */
static void admin_crl(struct admin *a, struct admin_conn *ac)
{
	struct crl *l = a->ctx->certs ? certs_crl(a->ctx->certs) : NULL;
	const uint8_t *der;
	size_t n;

	if (!l) {
		admin_answer(ac, "404 Not Found", "text/plain; charset=utf-8",
			     "", "no revocation list (ca.crl) in force\n");
		return;
	}
	der = crl_der(l, &n);
	admin_answer_n(ac, "200 OK", "application/pkix-crl", "", der, n);
	crl_put(l);
}

/* Lets @ac's page go (its snapshot reference with it).  NULL-safe. */
static void admin_page_end(struct admin *a, struct admin_conn *ac)
{
	if (!ac->page)
		return;
	apage_close(ac->page);
	free(ac->page);
	ac->page = NULL;
	a->nrenders--;
	if (ac->mport)
		a->nmrenders--;
}

/*
 * Appends the next ADMIN_CHUNK bytes (about) of @ac's page to ac->out,
 * framed as a chunk when the page is chunked; after the last, the end of
 * the body, and the page goes (admin_page_end()).  Returns 0 or -ENOMEM.
 */
static int admin_page_chunk(struct admin *a, struct admin_conn *ac)
{
	static const char hex[] = "0123456789abcdef";
	struct apage_buf *b = &ac->out;
	size_t at = b->len, n;
	int r;

	/* Room for the size line, which is known once the chunk is. */
	if (ac->chunked)
		apage_buf_put(b, "00000000\r\n", ADMIN_CHUNK_LINE);
	r = apage_step(ac->page, ADMIN_CHUNK);
	if (r < 0 || b->oom)
		return -ENOMEM;
	if (ac->chunked) {
		n = b->len - at - ADMIN_CHUNK_LINE;
		if (n) {
			/* A step is ADMIN_CHUNK and one unit: far below the
			 * 4 GiB that 8 digits hold. */
			for (int k = 7; k >= 0; k--, n >>= 4)
				b->p[at + k] = hex[n & 0xf];
			apage_buf_put(b, "\r\n", 2);
		} else {
			/* A chunk of 0 would end the body. */
			b->len = at;
		}
		if (r == 1)
			apage_buf_put(b, "0\r\n\r\n", 5);
	}
	if (r == 1)
		admin_page_end(a, ac);
	return b->oom ? -ENOMEM : 0;
}

static void admin_render_soon(struct admin *a);
static int admin_page_begin(struct admin *a, struct admin_conn *ac,
			    struct apage *pg, const char *ctype, bool http11);

/*
 * Starts page @kind for @ac: its head (chunked for HTTP/1.1, else with
 * no length: the body ends at the close) into ac->out, and its first
 * chunk due.  Returns 0, -ENOENT when the page has nothing to show (no
 * snapshot for a dump), or -ENOMEM.
 */
static int admin_page_start(struct admin *a, struct admin_conn *ac,
			    enum apage_kind kind, const char *ctype,
			    bool http11)
{
	struct apage *pg = calloc(1, sizeof(*pg));
	int err;

	if (!pg)
		return -ENOMEM;
	err = apage_open(pg, kind, &a->env, &ac->out);
	if (err) {
		free(pg);
		return err;
	}
	return admin_page_begin(a, ac, pg, ctype, http11);
}

/* Page @pg (opened, owned from here) for @ac: its head, and its first
 * chunk due.  Returns 0 or -ENOMEM. */
static int admin_page_begin(struct admin *a, struct admin_conn *ac,
			    struct apage *pg, const char *ctype, bool http11)
{
	ac->page = pg;
	a->nrenders++;
	if (ac->mport)
		a->nmrenders++;
	ac->chunked = http11;
	apage_buf_printf(&ac->out, "HTTP/1.1 200 OK\r\nContent-Type: %s\r\n"
			 "%sConnection: close\r\nCache-Control: no-store\r\n"
			 "\r\n", ctype,
			 http11 ? "Transfer-Encoding: chunked\r\n" : "");
	ac->render_due = true;
	admin_render_soon(a);
	return ac->out.oom ? -ENOMEM : 0;
}

static void admin_plan_sync(struct admin *a);

/*
 * A GET on MeshMetric port ac->mport for @path (@plen bytes): the page of
 * the workloads the plan serves there (admin_page.h), 404 when none.
 * Returns 0 or -ENOMEM.
 */
static int admin_respond_mport(struct admin *a, struct admin_conn *ac,
			       const char *path, size_t plen, bool http11)
{
	const char *ctype = "text/plain; version=0.0.4; charset=utf-8";
	struct apage *pg;
	int err = -ENOENT;

	admin_plan_sync(a);
	if (a->nrenders >= ADMIN_RENDERS_MAX ||
	    a->nmrenders >= ADMIN_MPORT_RENDERS_MAX) {
		log_warn("event=admin_busy renders=%u", a->nrenders);
		admin_answer(ac, "503 Service Unavailable",
			     "text/plain; charset=utf-8", "Retry-After: 1\r\n",
			     "busy: too many pages being rendered\n");
		return ac->out.oom ? -ENOMEM : 0;
	}
	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return -ENOMEM;
	if (a->plan)
		err = apage_open_workloads(pg, &a->env, &ac->out, a->plan,
					   ac->mport, path, plen);
	if (err) {
		free(pg);
		admin_answer(ac, "404 Not Found", "text/plain; charset=utf-8",
			     "", "not found\n");
		return ac->out.oom ? -ENOMEM : 0;
	}
	return admin_page_begin(a, ac, pg, ctype, http11);
}

/*
 * Answers request head ac->req[0..@len) (ending in CRLFCRLF) into ac->out:
 * a whole small answer, or a page's head (its chunks to come from the
 * render turns: ac->render_due).  Returns 0,
 * -EPROTO for a malformed head (the caller resets the connection instead
 * of answering), or -ENOMEM.
 */
static int admin_respond(struct admin *a, struct admin_conn *ac, size_t len)
{
	const char *method, *path, *status = "200 OK",
		   *ctype = "text/plain; charset=utf-8", *extra = "",
		   *body = "";
	enum apage_kind kind = 0;
	size_t mlen, plen;
	bool http11;
	int err;

	err = admin_parse(ac->req, len, &method, &mlen, &path, &plen,
			  &http11);
	if (err)
		return err;
	if (ac->mport && !(mlen != 3 || memcmp(method, "GET", 3)))
		return admin_respond_mport(a, ac, path, plen, http11);
	if (mlen != 3 || memcmp(method, "GET", 3)) {
		status = "405 Method Not Allowed";
		extra = "Allow: GET\r\n";
		body = "method not allowed\n";
	} else if (plen == 6 && !memcmp(path, "/ready", 6)) {
		if (admin_is_ready(a)) {
			body = "ready\n";
		} else {
			status = "503 Service Unavailable";
			body = "not ready\n";
		}
	} else if (plen == 5 && !memcmp(path, "/live", 5)) {
		/* The loop turned to answer: what a liveness probe asks.  Not
		 * ready is no reason to be restarted (a node with no policy
		 * yet waits for one). */
		body = "alive\n";
	} else if (plen == 8 && !memcmp(path, "/metrics", 8)) {
		kind = APAGE_METRICS;
		ctype = "text/plain; version=0.0.4; charset=utf-8";
	} else if (plen == 12 && !memcmp(path, "/config_dump", 12)) {
		kind = APAGE_CONFIG_DUMP;
		ctype = "application/json";
	} else if (plen == 7 && !memcmp(path, "/ca.crl", 7)) {
		admin_crl(a, ac);
		return ac->out.oom ? -ENOMEM : 0;
	} else {
		status = "404 Not Found";
		body = "not found\n";
	}
	if (kind && a->nrenders >= ADMIN_RENDERS_MAX) {
		/* Each page in flight may add a step to every loop turn. */
		log_warn("event=admin_busy renders=%u", a->nrenders);
		status = "503 Service Unavailable";
		ctype = "text/plain; charset=utf-8";
		extra = "Retry-After: 1\r\n";
		body = "busy: too many pages being rendered\n";
	} else if (kind) {
		err = admin_page_start(a, ac, kind, ctype, http11);
		if (err != -ENOENT)
			return err;
		status = "503 Service Unavailable";
		body = "{\"error\": \"no policy loaded\"}\n";
	}
	admin_answer(ac, status, ctype, extra, body);
	return ac->out.oom ? -ENOMEM : 0;
}

/* ---- connections --------------------------------------------------------- */

static uint64_t admin_ud(const struct admin *a, const struct admin_conn *ac,
			 enum admin_op op)
{
	return loop_ud(a->op, op, (uint32_t)(ac - a->conns), ac->gen);
}

/*
 * When @ac is reset unless it has ended: timeout_ms after accept while
 * the head arrives and the answer has not started to go; then timeout_ms
 * after the last send that took bytes, so a page goes on as long as its
 * client reads, but no later than ADMIN_PAGE_MAX_MS after accept, so a
 * client that reads a trickle cannot keep an old snapshot alive.
 *
 * A send waiting for room completes once half the socket's send buffer
 * has drained; ADMIN_SNDBUF keeps that small, so a client that reads
 * steadily (ADMIN_SNDBUF / 2 per timeout_ms) is seen to make progress.
 */
static uint64_t admin_deadline_ns(const struct admin *a,
				  const struct admin_conn *ac)
{
	uint64_t ms = a->timeout_ms > ADMIN_PAGE_MAX_MS ? a->timeout_ms :
			ADMIN_PAGE_MAX_MS;
	uint64_t idle = ac->progress_ns + (uint64_t)a->timeout_ms * 1000000u;
	uint64_t cap = ac->accepted_ns + ms * 1000000u;

	return idle < cap ? idle : cap;
}

/* Arms @ac's deadline timer for admin_deadline_ns(). */
static void admin_arm_deadline(struct admin *a, struct admin_conn *ac)
{
	uint64_t ns = admin_deadline_ns(a, ac);
	struct io_uring_sqe *sqe = loop_sqe(a->loop, 1);

	ac->deadline.tv_sec = (long long)(ns / 1000000000u);
	ac->deadline.tv_nsec = (long long)(ns % 1000000000u);
	io_uring_prep_timeout(sqe, &ac->deadline, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, admin_ud(a, ac, ADMIN_OP_TIMEOUT));
	ac->timer_armed = true;
	ac->inflight++;
}

/* A recv of the head's next bytes: into req, or into cin under TLS (the
 * session's input queue, 256 KiB, always has room for it: what came
 * before was handed on, and ADMIN_TLS_IN_MAX bounds the whole). */
static void admin_submit_recv(struct admin *a, struct admin_conn *ac)
{
	struct io_uring_sqe *sqe = loop_sqe(a->loop, 1);

	if (ac->tls)
		io_uring_prep_recv(sqe, ac->fd, ac->cin, sizeof(ac->cin), 0);
	else
		io_uring_prep_recv(sqe, ac->fd, ac->req + ac->req_len,
				   sizeof(ac->req) - ac->req_len, 0);
	io_uring_sqe_set_data64(sqe, admin_ud(a, ac, ADMIN_OP_RECV));
	ac->recv_busy = true;
	ac->inflight++;
}

/* A send of what is left of ac->out, or under TLS of the session's
 * output (whose bytes stay put until consumed, tls.h). */
static void admin_submit_send(struct admin *a, struct admin_conn *ac)
{
	struct io_uring_sqe *sqe = loop_sqe(a->loop, 1);
	const void *p;
	size_t n;

	if (ac->tls) {
		n = tls_out_pending(ac->tls, &p);
		io_uring_prep_send(sqe, ac->fd, p, n, MSG_NOSIGNAL);
	} else {
		io_uring_prep_send(sqe, ac->fd, ac->out.p + ac->out_off,
				   ac->out.len - ac->out_off, MSG_NOSIGNAL);
	}
	io_uring_sqe_set_data64(sqe, admin_ud(a, ac, ADMIN_OP_SEND));
	ac->send_busy = true;
	ac->inflight++;
}

/* Ends @ac: cancels its ops; the slot goes once they have completed
 * (admin_reap()).  Idempotent. */
static void admin_conn_close(struct admin *a, struct admin_conn *ac,
			     bool rst)
{
	struct io_uring_sqe *sqe;

	if (ac->closing)
		return;
	ac->closing = true;
	ac->rst = rst;
	ac->render_due = false;
	if (ac->recv_busy || ac->send_busy) {
		sqe = loop_sqe(a->loop, 1);
		io_uring_prep_cancel_fd(sqe, ac->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, admin_ud(a, ac,
						      ADMIN_OP_CANCEL));
		ac->inflight++;
	}
	if (ac->timer_armed) {
		sqe = loop_sqe(a->loop, 1);
		io_uring_prep_timeout_remove(sqe, admin_ud(a, ac,
							   ADMIN_OP_TIMEOUT), 0);
		io_uring_sqe_set_data64(sqe, admin_ud(a, ac,
						      ADMIN_OP_CANCEL));
		ac->inflight++;
	}
}

/* Releases @ac's slot once it is closing and none of its ops is left:
 * what it owns goes here, and only here.  Idempotent. */
static void admin_reap(struct admin *a, struct admin_conn *ac)
{
	if (ac->fd < 0 || !ac->closing || ac->inflight)
		return;
	loop_close_fd(a->loop, ac->fd, ac->rst);
	admin_page_end(a, ac);
	apage_buf_free(&ac->out);
	tls_sess_free(ac->tls);
	ac->tls = NULL;
	ac->fd = -1;
	ac->gen = (ac->gen + 1) & LOOP_UD_GEN_MASK;
	a->nconns--;
	if (ac->mport)
		a->nmconns--;
}

/*
 * A TLS session for a connection to a MeshMetric port of mode @tls into
 * *out (owned by the caller), on the context that mode serves with:
 * ProvidedTLS the certificate given, ActiveMTLSBackend this node's mesh
 * certificate under the trust of the snapshot in force (its MeshTrusts).
 * Returns 0, -ENOENT (nothing to serve the mode with), or -errno.
 */
static int admin_tls_sess(struct admin *a, uint8_t tls, struct tls_sess **out)
{
	const struct policy *p = reload_current(a->ctx->reload);
	char id[MF_SPIFFE_MAX];
	struct tls_ctx *ctx = NULL;
	int err = -ENOENT;

	if (tls == MF_METRIC_TLS_PROVIDED && a->provided) {
		ctx = tls_ctx_get(tlsfile_ctx(a->provided));
		err = 0;
	} else if (tls == MF_METRIC_TLS_ACTIVE_MTLS && a->ctx->certs && p) {
		err = certs_node_spiffe(id, sizeof(id), policy_trust_domain(p),
					a->ctx->node);
		if (!err)
			err = certs_server_ctx(a->ctx->certs, id, p, &ctx);
	}
	if (err)
		return err;
	err = tls_sess_new(out, ctx);
	tls_ctx_put(ctx);	/* the session holds its own reference */
	return err;
}

/* Whether a TLS connection may be taken now (ADMIN_TLS_ACCEPTS_PER_S): a
 * fixed window of a second, the first refusal of each logged. */
static bool admin_tls_admit(struct admin *a, uint16_t port)
{
	uint64_t now = timer_now();

	if (now - a->tls_window >= 1000000000u) {
		a->tls_window = now;
		a->tls_accepts = 0;
		a->tls_refusal_said = false;
	}
	if (a->tls_accepts < ADMIN_TLS_ACCEPTS_PER_S) {
		a->tls_accepts++;
		return true;
	}
	if (!a->tls_refusal_said)
		log_warn("event=admin_refused reason=tls_rate port=%u "
			 "limit_per_s=%u", port, ADMIN_TLS_ACCEPTS_PER_S);
	a->tls_refusal_said = true;
	return false;
}

/* Serves @fd, accepted on MeshMetric port @mport (0: the admin port) of
 * mode @tls, or resets it when the table is full, TLS connections are
 * over their rate, or no TLS session can be had. */
static void admin_accept_on(struct admin *a, int fd, uint16_t mport,
			    uint8_t tls)
{
	struct admin_conn *ac = NULL;
	struct tls_sess *sess = NULL;
	int sndbuf = ADMIN_SNDBUF;
	int err;

	/* Whoever reaches a MeshMetric port from the wire can take half the
	 * table at most: the rest stays for the node's probes. */
	if (mport && a->nmconns >= ADMIN_MPORT_CONNS_MAX) {
		log_warn("event=admin_refused reason=metrics_conns_full "
			 "port=%u", mport);
		loop_close_fd(a->loop, fd, true);
		return;
	}
	for (int i = 0; i < ADMIN_MAX_CONNS; i++)
		if (a->conns[i].fd < 0) {
			ac = &a->conns[i];
			break;
		}
	if (!ac) {
		log_warn("event=admin_refused reason=table_full");
		loop_close_fd(a->loop, fd, true);
		return;
	}
	if (mport && tls != MF_METRIC_TLS_DISABLED) {
		if (!admin_tls_admit(a, mport)) {
			loop_close_fd(a->loop, fd, true);
			return;
		}
		err = admin_tls_sess(a, tls, &sess);
		if (err) {
			log_warn("event=admin_refused reason=tls_session "
				 "port=%u tls=%s err=\"%s\"", mport,
				 wmplan_tls_str(tls), strerror(-err));
			loop_close_fd(a->loop, fd, true);
			return;
		}
	}
	/* Not a blocking call.  Failing, it leaves the default, whose
	 * autotuning lets a slow client look stalled (admin_deadline_ns()). */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	ac->fd = fd;
	ac->inflight = 0;
	ac->recv_busy = ac->send_busy = ac->closing = ac->rst = false;
	ac->chunked = ac->render_due = false;
	ac->page = NULL;
	ac->out = (struct apage_buf){ 0 };
	ac->out_off = ac->req_len = 0;
	ac->mport = mport;
	ac->tls = sess;
	ac->hs_done = ac->tls_fin = false;
	/* A plain connection's head is answered as soon as it is in. */
	ac->answered = false;
	ac->wire_in = 0;
	ac->accepted_ns = ac->progress_ns = timer_now();
	a->nconns++;
	if (mport)
		a->nmconns++;
	admin_arm_deadline(a, ac);
	admin_submit_recv(a, ac);
}

/* The admin listener's accept handler. */
static void admin_accept(void *arg, int fd)
{
	admin_accept_on(arg, fd, 0, MF_METRIC_TLS_DISABLED);
}

static void admin_plan_refresh(struct admin *a);
static uint8_t admin_port_tls(const struct admin *a, const struct wmplan *pl,
			      uint16_t port);
static void admin_mport_mode(struct admin_mport *mp, uint8_t tls);

/* A MeshMetric port's accept handler: @arg is its struct admin_mport.
 * The connection speaks as the snapshot in force says, even before the
 * tick makes the listeners follow it (a port it no longer serves
 * refuses). */
static void admin_mport_accept(void *arg, int fd)
{
	struct admin_mport *mp = arg;
	struct admin *a = mp->a;
	uint8_t tls;

	admin_plan_refresh(a);
	tls = a->plan ? admin_port_tls(a, a->plan, mp->port) : 0;
	if (!tls) {
		log_warn("event=admin_refused reason=port_not_served port=%u",
			 mp->port);
		loop_close_fd(a->loop, fd, true);
		return;
	}
	admin_mport_mode(mp, tls);
	admin_accept_on(a, fd, mp->port, tls);
}

/* ---- MeshMetric ports ---------------------------------------------------- */

/* Stops listening on @mp and frees the entry. */
static void admin_mport_drop(struct admin *a, struct admin_mport *mp)
{
	if (mp->id >= 0)
		(void)loop_unlisten(a->loop, mp->id);
	log_info("event=metrics_port_closed port=%u", mp->port);
	mp->port = 0;
	mp->id = -1;
}

/* Listens on @mp's port at metrics_addr; a failure (the port taken: by
 * another process, or by the agent this one takes over from, for a
 * while) is logged once and tried again at the next tick. */
static void admin_mport_listen(struct admin *a, struct admin_mport *mp)
{
	char addr[INET_ADDRSTRLEN];
	int id;

	inet_ntop(AF_INET, &a->metrics_addr, addr, sizeof(addr));
	id = loop_listen(a->loop, mp->name, a->metrics_addr, mp->port,
			 admin_mport_accept, mp);
	mp->id = id < 0 ? -1 : id;
	if (id < 0 && !mp->warned)
		log_warn("event=metrics_port_failed address=%s port=%u "
			 "err=\"%s\"", addr, mp->port, strerror(-id));
	else if (id >= 0)
		log_info("event=metrics_port_open address=%s port=%u tls=%s",
			 addr, mp->port, wmplan_tls_str(mp->tls));
	mp->warned = id < 0;
}

/* Listens on @port at metrics_addr, speaking as @tls says, in a free
 * entry (a full table is logged and the port left out). */
static void admin_mport_add(struct admin *a, uint16_t port, uint8_t tls)
{
	struct admin_mport *mp = NULL;

	for (size_t i = 0; i < ADMIN_MPORTS_MAX && !mp; i++)
		if (!a->mports[i].port)
			mp = &a->mports[i];
	if (!mp) {
		log_warn("event=metrics_port_failed port=%u reason=too_many",
			 port);
		return;
	}
	mp->a = a;
	mp->port = port;
	mp->tls = tls;
	mp->warned = false;
	snprintf(mp->name, sizeof(mp->name), "metrics:%u", port);
	admin_mport_listen(a, mp);
}

/* name="@v" (escaped) into @b, a comma before it unless first. */
static void admin_label(struct apage_buf *b, const char *name, const char *v)
{
	apage_buf_printf(b, "%s%s=\"", b->len ? "," : "", name);
	emit_prom_escape(apage_buf_write, b, v, strlen(v));
	apage_buf_put(b, "\"", 1);
}

/* The applications of the plan's workloads, as the scraper's targets,
 * with the labels their samples get. */
static void admin_apps_sync(struct admin *a)
{
	struct appscrape_target *t;
	size_t n = 0;
	int err;

	if (!a->apps)
		return;
	t = calloc(APPSCRAPE_TARGETS_MAX, sizeof(*t));
	if (!t) {
		log_warn("event=app_scrape_targets_failed err=\"out of memory\"");
		return;
	}
	for (size_t i = 0; i < a->plan->n; i++) {
		const struct wmplan_wl *w = &a->plan->wl[i];

		for (size_t k = 0; k < w->napps && n < APPSCRAPE_TARGETS_MAX;
		     k++) {
			struct apage_buf lb = { 0 };

			snprintf(t[n].workload, sizeof(t[n].workload), "%s",
				 w->name);
			snprintf(t[n].app, sizeof(t[n].app), "%s",
				 w->apps[k].name);
			snprintf(t[n].url, sizeof(t[n].url), "%s",
				 w->apps[k].url);
			admin_label(&lb, "mesh", w->mesh);
			admin_label(&lb, "workload", w->name);
			admin_label(&lb, "kuma_io_service", w->service);
			admin_label(&lb, "kuma_io_application",
				    w->apps[k].name);
			/* Names and values of policy: they fit, escaped
			 * at worst twice as long; else the app is left
			 * out rather than labelled in part. */
			if (!lb.oom && lb.len < sizeof(t[n].labels)) {
				memcpy(t[n].labels, lb.p, lb.len);
				t[n].labels[lb.len] = '\0';
				n++;
			}
			apage_buf_free(&lb);
		}
	}
	err = appscrape_targets(a->apps, t, n);
	if (err)
		log_warn("event=app_scrape_targets_failed err=\"%s\"",
			 strerror(-err));
	free(t);
}

/* Why the endpoint cannot serve a port of mode @tls (NULL: it can). */
static const char *admin_tls_lacks(const struct admin *a, uint8_t tls)
{
	if (tls == MF_METRIC_TLS_PROVIDED && !a->provided)
		return "no certificate given (--metrics-tls-cert, "
		       "--metrics-tls-key)";
	if (tls == MF_METRIC_TLS_ACTIVE_MTLS &&
	    (!a->ctx->certs || !a->ctx->node[0]))
		return "no mesh certificate (the agent has no node identity)";
	return NULL;
}

/* How the endpoint serves @port under plan @pl: its mode, 0 when not at
 * all (not in the plan, or a mode it has nothing to serve with). */
static uint8_t admin_port_tls(const struct admin *a, const struct wmplan *pl,
			      uint16_t port)
{
	uint8_t tls = wmplan_port_tls(pl, port);

	return tls && !admin_tls_lacks(a, tls) ? tls : 0;
}

/* @mp speaks @tls to the connections it accepts from now on. */
static void admin_mport_mode(struct admin_mport *mp, uint8_t tls)
{
	if (tls == mp->tls)
		return;
	log_info("event=metrics_port_tls port=%u tls=%s was=%s", mp->port,
		 wmplan_tls_str(tls), wmplan_tls_str(mp->tls));
	mp->tls = tls;
}

/*
 * The plan of the snapshot in force, built when it is one this endpoint
 * has not seen yet; what it cannot serve logged then, once per snapshot.
 * Touches no listener, so an accept handler may call it.  A plan that
 * cannot be built keeps the old one (tried again at the next call).
 */
static void admin_plan_refresh(struct admin *a)
{
	struct policy *p = reload_current(a->ctx->reload);
	struct wmplan *pl;
	const char *why;

	if (!p || (a->plan && p == a->plan_pol &&
		   policy_epoch(p) == a->plan_epoch))
		return;
	if (wmplan_build(&pl, p, a->ctx->node)) {
		log_warn("event=metrics_plan_failed err=\"out of memory\"");
		return;
	}
	wmplan_put(a->plan);
	a->plan = pl;
	a->plan_pol = p;
	a->plan_epoch = policy_epoch(p);
	/* A new plan pushes at its first tick; out of memory, it pushes
	 * nothing until the next plan. */
	free(a->otel_due);
	a->otel_due = calloc(pl->n ? pl->n * MF_METRIC_BACKENDS_MAX : 1,
			     sizeof(*a->otel_due));
	admin_apps_sync(a);
	if (pl->tls_conflicts)
		log_warn("event=metrics_tls_conflict backends=%zu "
			 "reason=\"a port speaks the strictest tls.mode its "
			 "backends ask for; the others are not served on it\"",
			 pl->tls_conflicts);
	for (size_t k = 0; k < pl->nports; k++) {
		why = admin_tls_lacks(a, pl->ports[k].tls);
		/* Never in plain text instead: not at all. */
		if (why)
			log_warn("event=metrics_port_not_served port=%u tls=%s "
				 "reason=\"%s\"", pl->ports[k].port,
				 wmplan_tls_str(pl->ports[k].tls), why);
	}
}

/*
 * The plan refreshed, and the listeners made to follow it: a port no
 * longer named (or named with a mode that cannot be served) is closed,
 * a new one opened, one that failed tried again, and one whose mode
 * changed speaks the new way to the connections it accepts from now on
 * (which admin_mport_accept() sees at once).  Runs on the loop's tick
 * and before a MeshMetric page.
 */
static void admin_plan_sync(struct admin *a)
{
	const struct wmplan *pl;

	admin_plan_refresh(a);
	pl = a->plan;
	if (!pl)
		return;
	for (size_t i = 0; i < ADMIN_MPORTS_MAX; i++) {
		struct admin_mport *mp = &a->mports[i];
		uint8_t tls = mp->port ? admin_port_tls(a, pl, mp->port) : 0;

		if (!mp->port)
			continue;
		if (!tls) {
			admin_mport_drop(a, mp);
			continue;
		}
		admin_mport_mode(mp, tls);
		if (mp->id < 0)
			admin_mport_listen(a, mp);
	}
	for (size_t k = 0; k < pl->nports; k++) {
		uint16_t port = pl->ports[k].port;
		bool have = false;

		if (admin_tls_lacks(a, pl->ports[k].tls))
			continue;
		for (size_t i = 0; i < ADMIN_MPORTS_MAX && !have; i++)
			have = a->mports[i].port == port;
		if (!have)
			admin_mport_add(a, port, pl->ports[k].tls);
	}
}

static uint64_t admin_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Each workload's metrics to those of its OpenTelemetry backends whose
 * refreshInterval has passed (otlp_metrics.h), through the telemetry
 * writer; a push the writer's queue refuses is counted. */
static void admin_otel_push(struct admin *a)
{
	struct wmstats_series *s = NULL;
	uint64_t now = admin_clock_ns(CLOCK_MONOTONIC);

	for (size_t i = 0; a->otel_due && i < a->plan->n; i++) {
		const struct wmplan_wl *w = &a->plan->wl[i];
		size_t n = 0;

		for (size_t k = 0; k < w->notel; k++) {
			uint64_t *due = &a->otel_due[i * MF_METRIC_BACKENDS_MAX +
						     k];
			uint8_t *buf = NULL;
			size_t len = 0;
			int err;

			if (now < *due)
				continue;
			*due = now + (uint64_t)w->otel[k].refresh_ms * 1000000u;
			if (!s) {
				s = malloc(WMSTATS_SERIES_MAX * sizeof(*s));
				if (!s) {
					a->ctx->stats.metric_pushes_dropped++;
					continue;
				}
			}
			if (!n)
				n = apage_wm_workload(&a->env, w->name, s,
						      WMSTATS_SERIES_MAX);
			err = otlp_metrics_pack(w, s, n, a->start_ns,
						admin_clock_ns(CLOCK_REALTIME),
						&buf, &len);
			if (err == -ENODATA)
				continue;	/* nothing counted yet */
			if (err || !a->ctx->telw ||
			    telw_push(a->ctx->telw, w->otel[k].kind,
				      w->otel[k].url, buf, len))
				a->ctx->stats.metric_pushes_dropped++;
			free(buf);
		}
	}
	free(s);
}

/* loop_user: about once a second. */
static void admin_tick(void *arg)
{
	struct admin *a = arg;

	admin_plan_sync(a);
	if (a->plan)
		admin_otel_push(a);
	if (a->provided && tlsfile_changed(a->provided))
		(void)tlsfile_reload(a->provided);
}

void admin_reload_tls(struct admin *a)
{
	if (a && a->provided)
		(void)tlsfile_reload(a->provided);
}

/*
 * Sends ac->out from ac->out_off: as it is, or under TLS sealed into the
 * session's output (as much as its queue takes: the rest once that is
 * sent, admin_on_send()).  A session that fails resets the connection.
 */
static void admin_send_out(struct admin *a, struct admin_conn *ac)
{
	const void *p;
	ssize_t w;

	while (ac->tls && ac->out_off < ac->out.len) {
		w = tls_write(ac->tls, ac->out.p + ac->out_off,
			      ac->out.len - ac->out_off);
		if (w == -EAGAIN)
			break;
		if (w < 0) {
			log_warn("event=admin_refused reason=tls_write "
				 "err=\"%s\"", tls_last_error(ac->tls));
			admin_conn_close(a, ac, true);
			return;
		}
		ac->out_off += (size_t)w;
	}
	if (!ac->tls || tls_out_pending(ac->tls, &p))
		admin_submit_send(a, ac);
}

/* The answer is all out: the end, a plain close (FIN after the
 * answer), after a close_notify under TLS. */
static void admin_finish(struct admin *a, struct admin_conn *ac)
{
	const void *p;

	if (ac->tls && !ac->tls_fin) {
		ac->tls_fin = true;
		if (!tls_close_notify(ac->tls) && tls_out_pending(ac->tls, &p)) {
			admin_submit_send(a, ac);
			return;
		}
	}
	admin_conn_close(a, ac, false);
}

/* Bytes up to req_len are in req, those from @from on new: answers the
 * head once it is whole, else receives more. */
static void admin_head_in(struct admin *a, struct admin_conn *ac, size_t from)
{
	size_t i, head = 0;
	int err;

	from = from >= 3 ? from - 3 : 0;
	for (i = from; i + 4 <= ac->req_len; i++)
		if (!memcmp(ac->req + i, "\r\n\r\n", 4)) {
			head = i + 4;
			break;
		}
	if (!head) {
		if (ac->req_len == sizeof(ac->req)) {
			log_warn("event=admin_refused reason=head_too_large");
			admin_conn_close(a, ac, true);
			return;
		}
		admin_submit_recv(a, ac);
		return;
	}
	ac->answered = true;
	err = admin_respond(a, ac, head);
	if (err) {
		log_warn("event=admin_refused reason=%s",
			 err == -EPROTO ? "malformed_request" : "out_of_memory");
		admin_conn_close(a, ac, true);
		return;
	}
	/* A page's head goes with its first chunk (a page that could not
	 * have one is closing already). */
	ac->out_off = 0;
	if (!ac->render_due && !ac->closing)
		admin_send_out(a, ac);
}

/* A refused handshake: its alert, when the session queued one, goes to
 * the client before the close, which tells it why. */
static void admin_tls_refuse(struct admin *a, struct admin_conn *ac,
			     int err)
{
	const void *p;

	log_warn("event=admin_refused reason=tls_handshake port=%u err=\"%s\" "
		 "why=\"%s\"", ac->mport, strerror(-err),
		 tls_last_error(ac->tls));
	if (tls_out_pending(ac->tls, &p)) {
		ac->tls_fin = true;
		admin_submit_send(a, ac);
		return;
	}
	admin_conn_close(a, ac, true);
}

/*
 * @n bytes of ciphertext in ac->cin: through the handshake while it
 * runs (its answer sent, more received), then decrypted into req up to
 * a whole head (admin_head_in()).
 */
static void admin_tls_in(struct admin *a, struct admin_conn *ac, size_t n)
{
	size_t from = ac->req_len;
	char peer[MF_SPIFFE_MAX];
	const void *p;
	ssize_t r;
	int err;

	ac->wire_in += n;
	if (ac->wire_in > ADMIN_TLS_IN_MAX) {
		log_warn("event=admin_refused reason=tls_too_large port=%u "
			 "bytes_received=%zu", ac->mport, ac->wire_in);
		admin_conn_close(a, ac, true);
		return;
	}
	if (tls_feed(ac->tls, ac->cin, n)) {
		admin_conn_close(a, ac, true);
		return;
	}
	if (!ac->hs_done) {
		err = tls_handshake(ac->tls);
		if (err && err != -EAGAIN) {
			admin_tls_refuse(a, ac, err);
			return;
		}
		if (err == -EAGAIN) {
			/* Our flight first, then the client's next one
			 * (admin_on_send()). */
			if (tls_out_pending(ac->tls, &p))
				admin_submit_send(a, ac);
			else
				admin_submit_recv(a, ac);
			return;
		}
		ac->hs_done = true;
		if (!tls_peer_spiffe(ac->tls, peer, sizeof(peer)))
			log_debug("event=metrics_scrape_tls port=%u peer=%s",
				  ac->mport, peer);
	}
	while (ac->req_len < sizeof(ac->req)) {
		r = tls_read(ac->tls, ac->req + ac->req_len,
			     sizeof(ac->req) - ac->req_len);
		if (r == -EAGAIN)
			break;
		if (r <= 0) {
			/* close_notify before a whole head, or our
			 * certificate refused, or a bad record. */
			log_warn("event=admin_refused reason=tls_read port=%u "
				 "err=\"%s\"", ac->mport,
				 r ? tls_last_error(ac->tls) : "closed");
			admin_conn_close(a, ac, true);
			return;
		}
		ac->req_len += (size_t)r;
	}
	/* What reading queued (a KeyUpdate's answer) goes out before more
	 * is received; the head's answer carries it otherwise. */
	if (ac->req_len == from && tls_out_pending(ac->tls, &p)) {
		admin_submit_send(a, ac);
		return;
	}
	admin_head_in(a, ac, from);
}

static void admin_on_recv(struct admin *a, struct admin_conn *ac, int res)
{
	size_t from = ac->req_len;

	if (ac->closing)
		return;
	if (res <= 0) {
		/* Gone, or an error, before a whole head arrived. */
		admin_conn_close(a, ac, true);
		return;
	}
	if (ac->tls) {
		admin_tls_in(a, ac, (size_t)res);
		return;
	}
	ac->req_len += (size_t)res;
	admin_head_in(a, ac, from);
}

static void admin_on_send(struct admin *a, struct admin_conn *ac, int res)
{
	const void *p;

	if (ac->closing)
		return;
	if (res <= 0) {
		admin_conn_close(a, ac, true);
		return;
	}
	/* Progress moves the deadline on once the answer goes: until
	 * then (a handshake's flights), the head's deadline stands. */
	if (ac->answered)
		ac->progress_ns = timer_now();
	if (ac->tls) {
		tls_out_consume(ac->tls, (size_t)res);
		if (tls_out_pending(ac->tls, &p)) {
			admin_submit_send(a, ac);
			return;
		}
		if (ac->tls_fin) {
			/* close_notify out, or a refusal's alert: a FIN
			 * after it, which a reset could overtake. */
			admin_conn_close(a, ac, false);
			return;
		}
		if (!ac->answered) {
			/* A flight of the handshake: the client's turn. */
			admin_submit_recv(a, ac);
			return;
		}
	} else {
		ac->out_off += (size_t)res;
	}
	if (ac->out_off < ac->out.len) {
		admin_send_out(a, ac);
		return;
	}
	if (ac->page) {
		/* All of it out: the next chunk, in the same buffer, at the
		 * next render turn. */
		ac->out.len = ac->out_off = 0;
		ac->render_due = true;
		admin_render_soon(a);
		return;
	}
	admin_finish(a, ac);
}

/* Renders the next chunk of @ac's page and sends it; the end of the page
 * once all of it is out.  Returns the bytes rendered. */
static size_t admin_render_one(struct admin *a, struct admin_conn *ac)
{
	ac->render_due = false;
	if (admin_page_chunk(a, ac)) {
		/* Half a page cannot be taken back: the reset says it is
		 * not whole. */
		log_warn("event=admin_page_failed reason=out_of_memory");
		admin_conn_close(a, ac, true);
		admin_reap(a, ac);
		return 0;
	}
	if (!ac->out.len) {
		admin_finish(a, ac);
		admin_reap(a, ac);
		return 0;
	}
	admin_send_out(a, ac);
	return ac->out.len;
}

/*
 * A render turn: the loop timer, due at the first turn after a render
 * became due.  Renders chunks, round robin from where the last turn
 * stopped, until ADMIN_TURN_BUDGET bytes; arms itself for the next turn
 * when some are still due.
 */
static void admin_on_render(struct timer *t, uint64_t now)
{
	struct admin *a = (struct admin *)((char *)t -
					   offsetof(struct admin,
						    render_timer));
	size_t spent = 0;
	uint32_t i = a->render_next;

	(void)now;
	for (uint32_t k = 0; k < ADMIN_MAX_CONNS; k++) {
		struct admin_conn *ac = &a->conns[i];

		i = (i + 1) % ADMIN_MAX_CONNS;
		if (ac->fd < 0 || !ac->render_due)
			continue;
		if (spent >= ADMIN_TURN_BUDGET) {
			admin_render_soon(a);
			break;
		}
		spent += admin_render_one(a, ac);
		a->render_next = i;
	}
}

/* Makes sure a render turn comes: the timer, armed for the next turn (a
 * deadline past now: timer_run() of this turn has started).  Without it
 * (no memory for the timer heap), the pages due cannot go on and are
 * reset. */
static void admin_render_soon(struct admin *a)
{
	if (timer_armed(&a->render_timer))
		return;
	if (!loop_timer_arm(a->loop, &a->render_timer, timer_now() + 1))
		return;
	for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
		struct admin_conn *ac = &a->conns[i];

		if (ac->fd < 0 || !ac->render_due)
			continue;
		log_warn("event=admin_page_failed reason=out_of_memory");
		admin_conn_close(a, ac, true);
		admin_reap(a, ac);
	}
}

/* The deadline timer went off: a reset, unless sends took bytes since it
 * was armed and the deadline moved on (armed again for it then). */
static void admin_on_deadline(struct admin *a, struct admin_conn *ac)
{
	if (ac->closing)
		return;
	if (timer_now() < admin_deadline_ns(a, ac)) {
		admin_arm_deadline(a, ac);
		return;
	}
	log_warn("event=admin_refused reason=timeout bytes_received=%zu "
		 "page=%s", ac->req_len,
		 ac->page ? apage_state_str(ac->page->state) : "none");
	admin_conn_close(a, ac, true);
}

/* The handler of the admin operation: aux is the enum admin_op. */
static void admin_on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct admin *a = arg;
	uint64_t ud = cqe->user_data;
	uint32_t slot = loop_ud_slot(ud);
	struct admin_conn *ac;
	int res = cqe->res;

	if (slot >= ADMIN_MAX_CONNS)
		return;
	ac = &a->conns[slot];
	if (ac->fd < 0 || ac->gen != loop_ud_gen(ud)) {
		a->loop->stats.stale_cqes++;
		return;
	}
	ac->inflight--;
	switch (loop_ud_aux(ud)) {
	case ADMIN_OP_RECV:
		ac->recv_busy = false;
		admin_on_recv(a, ac, res);
		break;
	case ADMIN_OP_SEND:
		ac->send_busy = false;
		admin_on_send(a, ac, res);
		break;
	case ADMIN_OP_TIMEOUT:
		ac->timer_armed = false;
		if (res == -ETIME)
			admin_on_deadline(a, ac);
		break;
	case ADMIN_OP_CANCEL:
		/* A kernel without cancel-by-fd: a shutdown completes the
		 * recv or send instead (the peer then sees FIN before the
		 * RST, which is still an end without an answer). */
		if (res == -EINVAL && (ac->recv_busy || ac->send_busy))
			shutdown(ac->fd, SHUT_RDWR);
		break;
	default:
		break;
	}
	admin_reap(a, ac);
}

/* loop_user: the loop is going away. */
static void admin_abort_all(void *arg)
{
	struct admin *a = arg;

	/* The timer heap goes with the loop. */
	loop_timer_cancel(a->loop, &a->render_timer);
	for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
		if (a->conns[i].fd < 0)
			continue;
		admin_conn_close(a, &a->conns[i], true);
		admin_reap(a, &a->conns[i]);
	}
}

static bool admin_busy(void *arg)
{
	const struct admin *a = arg;

	return a->nconns > 0;
}

int admin_open(struct admin **out, struct loop *l, struct ctx *ctx,
	       uint16_t port, uint32_t timeout_ms, uint32_t metrics_addr,
	       struct tlsfile *metrics_tls)
{
	struct loop_user u = {
		.abort_all = admin_abort_all, .busy = admin_busy,
		.tick = admin_tick,
	};
	struct admin *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = l;
	a->ctx = ctx;
	a->timeout_ms = timeout_ms ? timeout_ms : ADMIN_DEFAULT_TIMEOUT_MS;
	a->metrics_addr = metrics_addr;
	a->provided = metrics_tls;
	a->start_ns = admin_clock_ns(CLOCK_REALTIME);
	/* No thread until a MeshMetric names an application. */
	err = appscrape_open(&a->apps);
	if (err)
		goto fail;
	for (int i = 0; i < ADMIN_MPORTS_MAX; i++)
		a->mports[i].id = -1;
	a->env = (struct apage_env){
		.loop = l, .ctx = ctx, .ncpu = libbpf_num_possible_cpus(),
		.apps = a->apps,
	};
	timer_init(&a->render_timer, admin_on_render);
	for (int i = 0; i < ADMIN_MAX_CONNS; i++)
		a->conns[i].fd = -1;
	u.arg = a;
	err = loop_op_add(l, "admin", admin_on_cqe, a);
	if (err < 0)
		goto fail;
	a->op = (uint8_t)err;
	err = loop_user_add(l, &u);
	if (err)
		goto fail;
	/* The admin endpoint answers the node only, whatever address the
	 * data path listens on. */
	err = loop_listen(l, "admin", htonl(INADDR_LOOPBACK), port,
			  admin_accept, a);
	if (err < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	/* What was registered stays in the loop until loop_fini(), which
	 * the caller runs next, and finds the admin table empty. */
	*out = a;
	return err;
}

void admin_close(struct admin *a)
{
	if (!a)
		return;
	/* Normally empty by now (loop_fini() waited); anything left has an
	 * op the kernel never completed, and its fd goes synchronously. */
	for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
		struct admin_conn *ac = &a->conns[i];

		if (ac->fd < 0)
			continue;
		log_warn("event=admin_conn_leak slot=%d inflight=%u", i,
			 ac->inflight);
		loop_set_rst(ac->fd);
		close(ac->fd);
		admin_page_end(a, ac);
		apage_buf_free(&ac->out);
		tls_sess_free(ac->tls);
		ac->tls = NULL;
	}
	/* The listeners went with the loop. */
	wmplan_put(a->plan);
	free(a->otel_due);
	appscrape_close(a->apps);
	free(a);
}
