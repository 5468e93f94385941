// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP/1.1 proxy of one L7 connection (see hproxy.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hhead.h"
#include "hproxy.h"
#include "lb.h"
#include "log.h"
#include "rbudget.h"
#include "timer.h"

/* Where the exchange of the connection stands. */
enum hproxy_state {
	HP_IDLE = 0,	/* between requests */
	HP_REQUEST,	/* a request is being read and forwarded */
	HP_RESPONSE,	/* the request is whole upstream; its response is
			 * on its way (the request side holds its input) */
	HP_UPGRADED,	/* 101: both directions relay bytes */
};

struct hproxy {
	struct hproxy_shared *sh;
	const struct hproxy_flow *flow;
	void *flow_arg;
	struct conn_table *t;
	struct conn *c;
	enum hproxy_state state;
	struct http1 req, rsp;
	struct hhead req_head, rsp_head;

	/* The exchange in progress. */
	bool req_sent;		/* its head went upstream */
	bool req_done;		/* ... and all of it */
	bool req_chunked;	/* its body goes upstream in chunks */
	bool req_held;		/* its head waits for the first chunk */
	bool req_upgrade;	/* it asks for an Upgrade (or is CONNECT) */
	bool req_trailers;	/* the last chunk went out, trailers follow */
	bool client_keep_alive;	/* the client may send another */
	uint8_t client_minor;	/* HTTP/1.<minor> of the client */
	bool rsp_sent;		/* the final response head went downstream */
	bool rsp_interim;	/* the response being read is a 1xx */
	bool rsp_upgrade;	/* ... is a 101 to the Upgrade asked for */
	bool rsp_chunked;	/* its body goes downstream in chunks */
	bool rsp_trailers;
	bool rsp_drop_trailers;	/* an HTTP/1.0 client reads no trailers */
	bool keep;		/* the connection carries another exchange */
	bool up_keep;		/* ... and so may the up end */
	bool replied;		/* a reply of the proxy's own went out */
	struct hproxy_route route;	/* the route step's word on the
					 * request (its location owned) */
	char req_id[37];	/* x-request-id generated for the request */
	bool head_whole;	/* req_head holds its whole head */
	int final_status;	/* of the final response sent, 0: none */
	uint64_t req_bytes, rsp_bytes;
	bool req_method_head;	/* it is a HEAD */
	struct hhead_fwd fw;	/* what its forwarded head gets */
	char client[INET_ADDRSTRLEN];	/* fw.xff: the text of ... */
	struct in_addr client_addr;	/* ... this address, once written */
	uint64_t exchanges;

	/* Timeouts and retries (hproxy_set_resil()). */
	const struct resil *rs;		/* NULL: none */
	uint64_t budget_key;		/* its destination's retry budget */
	uint32_t idle_ms;		/* between requests */
	uint32_t header_ms;		/* a request head, from its first
					 * byte */
	struct timer t_req;		/* the request's deadlines */
	struct timer t_try;		/* a try's deadline, a back off, a
					 * fault's delay: @wait says which */
	enum {
		HP_WAIT_NONE = 0,
		HP_WAIT_TRY,		/* the try's response */
		HP_WAIT_BACKOFF,	/* before the next try */
		HP_WAIT_DELAY,		/* a fault holds the request */
		HP_WAIT_BANDWIDTH,	/* a fault holds the response */
	} wait;
	unsigned int tries;		/* of the request, so far */
	bool try_open;			/* a try is on: its end is owed to
					 * the flow (try_done) */
	uint64_t start_ns;		/* its first byte */
	uint64_t whole_ns;		/* its end, 0: not yet */
	uint64_t io_ns;			/* the last byte either way */
	bool replay;			/* it can go again: @orig and all of
					 * its body in @body */
	bool mirror;			/* a copy goes at its end
					 * (route.mirror_*): its body is kept
					 * in @body for it */
	struct hhead orig;		/* its head as the client sent it */
	char *body;			/* its body (unchunked).  Owned */
	size_t body_len, body_cap;
	uint32_t retry_after_ms;	/* the failed try's Retry-After */
	uint64_t bw_bps;		/* a fault's response bandwidth, 0:
					 * none */
	uint64_t bw_start_ns;		/* ... from the response's head */
};

static void hproxy_deadlines(struct hproxy *hp);

/* The try in progress ended with a response of @status (0: none). */
static void hproxy_try_end(struct hproxy *hp, int status)
{
	if (!hp->try_open)
		return;
	hp->try_open = false;
	if (hp->flow->try_done)
		hp->flow->try_done(hp->flow_arg, hp->c, status);
}
static bool hproxy_retry(struct hproxy *hp, unsigned int cond, int status,
			 const char *why);
static ssize_t hproxy_req_failed(struct hproxy *hp, int err);

/* ---- shared --------------------------------------------------------------- */

void hproxy_shared_init(struct hproxy_shared *sh, struct stats *st)
{
	memset(sh, 0, sizeof(*sh));
	http1_limits_default(&sh->lim);
	sh->header_timeout_ms = HPROXY_HEADER_TIMEOUT_MS;
	sh->idle_timeout_ms = HPROXY_IDLE_TIMEOUT_MS;
	sh->stats = st;
	/* Request ids need to be unique, not secret: a seed from the
	 * kernel, then a fast generator. */
	lb_rng_seed_kernel(&sh->rng);
}

uint64_t hproxy_rand(struct hproxy_shared *sh)
{
	return lb_rng_next(&sh->rng);
}

/* A random (version 4) UUID into @buf, 37 bytes. */
static void hproxy_uuid(struct hproxy_shared *sh, char *buf)
{
	uint64_t hi = hproxy_rand(sh), lo = hproxy_rand(sh);

	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	hi = (hi & ~0xf000ull) | 0x4000ull;
	lo = (lo & ~(3ull << 62)) | (2ull << 62);
	/* 8-4-4-4-12 hex digits, hi's 16 then lo's 16, most significant
	 * first (one per request: no printf). */
	for (int i = 0; i < 32; i++) {
		uint64_t w = i < 16 ? hi : lo;

		if (i == 8 || i == 12 || i == 16 || i == 20)
			buf[o++] = '-';
		buf[o++] = hex[(w >> (60 - 4 * (i % 16))) & 0xf];
	}
	buf[o] = '\0';
}

/* ---- replies of the proxy's own ------------------------------------------ */

static const char *hproxy_status_text(int status)
{
	switch (status) {
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 414: return "URI Too Long";
	case 421: return "Misdirected Request";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Error";
}

/* The request is over, or goes again: what was kept for it goes. */
static void hproxy_request_over(struct hproxy *hp, bool again)
{
	struct loop *l = hp->t->loop;

	loop_timer_cancel(l, &hp->t_try);
	hp->wait = HP_WAIT_NONE;
	if (again)
		return;
	loop_timer_cancel(l, &hp->t_req);
	hhead_free(&hp->orig);
	free(hp->body);
	hp->body = NULL;
	hp->body_len = hp->body_cap = 0;
	hp->replay = false;
	hp->mirror = false;
	hp->tries = 0;
	hp->whole_ns = 0;
}

/* The request is over: the flow hears of it, and its head goes. */
static void hproxy_done(struct hproxy *hp, int status, bool local)
{
	struct hproxy_exchange x = {
		.req = hp->head_whole ? &hp->req_head : NULL,
		.rsp = hp->rsp_sent && !local ? &hp->rsp_head : NULL,
		.route = hp->route.name,
		.status = status,
		.local = local,
		.req_bytes = hp->req_bytes,
		.rsp_bytes = hp->rsp_bytes,
		.seconds = (double)(timer_turn_now() - hp->start_ns) / 1e9,
	};

	if (x.req && !hhead_get(x.req, "x-request-id", &x.request_id,
				&x.request_id_len) && hp->req_id[0]) {
		x.request_id = hp->req_id;
		x.request_id_len = strlen(hp->req_id);
	}
	if (hp->flow->done)
		hp->flow->done(hp->flow_arg, hp->c, &x);
	hproxy_request_over(hp, false);
	hhead_free(&hp->req_head);
	hhead_free(&hp->rsp_head);
	hp->head_whole = false;
	hp->req_bytes = hp->rsp_bytes = 0;
}

/* Answers the client with @status and ends the connection after it.
 * @why goes in the log and, as text, in the body; @kind says what it
 * counts as. */
static void hproxy_reply_as(struct hproxy *hp, int status, const char *why,
			    int kind)
{
	struct stats *st = hp->sh->stats;
	const char *loc = hp->route.location;
	char buf[512];
	int n;

	/* A redirect's Location may be long: it goes on its own. */
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n%s", status,
		     hproxy_status_text(status), loc ? "location: " : "");
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)conn_write(hp->c, CONN_DOWN, buf, (size_t)n);
	if (loc) {
		(void)conn_write(hp->c, CONN_DOWN, loc, strlen(loc));
		(void)conn_write(hp->c, CONN_DOWN, "\r\n", 2);
	}
	if (hp->route.headers)
		(void)conn_write(hp->c, CONN_DOWN, hp->route.headers,
				 strlen(hp->route.headers));
	n = snprintf(buf, sizeof(buf),
		     "content-type: text/plain\r\ncontent-length: %zu\r\n"
		     "connection: close\r\n\r\n%s\n", strlen(why) + 1, why);
	if (n > 0 && (size_t)n < sizeof(buf))
		(void)conn_write(hp->c, CONN_DOWN, buf, (size_t)n);
	hp->replied = true;
	hproxy_done(hp, status, true);
	log_info("event=http_reply conn=%llu status=%d reason=\"%s\"",
		 (unsigned long long)hp->c->id, status, why);
	if (kind >= 0)
		st->http_local[kind]++;
	else if (status < 400)
		st->http_status[status / 100]++;	/* a route's answer */
	else
		st->http_local[status == 503 ? STATS_HTTP_LOCAL_503 :
			       status >= 500 ? STATS_HTTP_LOCAL_5XX :
			       status == 408 ? STATS_HTTP_LOCAL_408 :
					       STATS_HTTP_LOCAL_4XX]++;
	conn_end_after_reply(hp->t, hp->c);
}

static void hproxy_reply(struct hproxy *hp, int status, const char *why)
{
	hproxy_reply_as(hp, status, why, -1);
}

/* ---- chunked output ------------------------------------------------------- */

/* A piece of body for end @side, in a chunk of its own when @chunked. */
static int hproxy_body_out(struct hproxy *hp, enum conn_side side,
			   bool chunked, const char *p, size_t n)
{
	char size[24];
	int err, k;

	if (!chunked || n == 0)
		return n ? conn_write(hp->c, side, p, n) : 0;
	k = snprintf(size, sizeof(size), "%zx\r\n", n);
	err = conn_write(hp->c, side, size, (size_t)k);
	if (!err)
		err = conn_write(hp->c, side, p, n);
	if (!err)
		err = conn_write(hp->c, side, "\r\n", 2);
	return err;
}

/* A trailer field for end @side; the last chunk goes first. */
static int hproxy_trailer_out(struct hproxy *hp, enum conn_side side,
			      bool *started, const char *name,
			      size_t name_len, const char *value,
			      size_t value_len)
{
	int err = 0;

	if (!*started) {
		*started = true;
		err = conn_write(hp->c, side, "0\r\n", 3);
	}
	if (!err)
		err = conn_write(hp->c, side, name, name_len);
	if (!err)
		err = conn_write(hp->c, side, ": ", 2);
	if (!err)
		err = conn_write(hp->c, side, value, value_len);
	if (!err)
		err = conn_write(hp->c, side, "\r\n", 2);
	return err;
}

/* The end of a chunked body: the last chunk unless trailers sent it. */
static int hproxy_chunked_end(struct hproxy *hp, enum conn_side side,
			      bool *started)
{
	int err = 0;

	if (!*started)
		err = conn_write(hp->c, side, "0\r\n", 3);
	*started = false;
	return err ? err : conn_write(hp->c, side, "\r\n", 2);
}

static const struct http1_cbs hproxy_rsp_cbs;

/* ---- requests -------------------------------------------------------------- */

static int hproxy_req_start(void *arg, const struct http1_start *sl)
{
	struct hproxy *hp = arg;

	return hhead_start(&hp->req_head, true, sl);
}

static int hproxy_req_header(void *arg, const char *name, size_t name_len,
			     const char *value, size_t value_len)
{
	struct hproxy *hp = arg;

	return hhead_add(&hp->req_head, name, name_len, value, value_len);
}

/* A try of the request goes: its head rendered for the up end, and its
 * deadline runs. */
static int hproxy_req_send(struct hproxy *hp)
{
	const struct resil *rs = hp->rs;
	int err;

	/* The head stays until the exchange is over: its access log line
	 * tells it as forwarded. */
	err = hhead_render(&hp->req_head, &hp->fw, conn_out(hp->c, CONN_UP));
	if (err)
		return err;
	hp->req_sent = true;
	hp->try_open = true;
	hp->tries++;
	hp->sh->stats->http_requests++;
	if (rs && rs->per_try_ms) {
		hp->wait = HP_WAIT_TRY;
		err = loop_timer_arm(hp->t->loop, &hp->t_try,
				     timer_now() +
				     (uint64_t)rs->per_try_ms * 1000000u);
	}
	return err;
}

/*
 * The request goes: routed (the flow picks the up end, or answers itself),
 * then its head rendered for the up end, unless a fault holds it back
 * (then 1, the request parser stops after the head and the client's input
 * waits).  Returns 0, 1 or -errno (-ECANCELED when the route answered:
 * hproxy_req_failed() replies).
 */
static int hproxy_req_forward(struct hproxy *hp)
{
	int err;

	hp->req_held = false;
	/* A response parser that saw its up end close starts over for the
	 * next one. */
	if (hp->rsp.phase != HTTP1_P_IDLE) {
		http1_fini(&hp->rsp);
		http1_init(&hp->rsp, HTTP1_RESPONSE, &hp->sh->lim,
			   &hproxy_rsp_cbs, hp);
	}
	if (hp->req_method_head)
		http1_expect_head_response(&hp->rsp);
	free(hp->route.location);
	free(hp->route.headers);
	memset(&hp->route, 0, sizeof(hp->route));
	hp->route.attempt = hp->tries;
	err = hp->flow->route(hp->flow_arg, hp->c, &hp->req_head, &hp->route);
	if (err)
		return err;
	if (hp->route.status || hp->replied)
		return -ECANCELED;
	/* A copy is made of the whole request, head as forwarded and body
	 * kept as it goes (HPROXY_REPLAY_MAX at most): a chunked body would
	 * need its framing kept too, an upgrade has no end. */
	if (hp->route.mirror_port && hp->flow->mirror && hp->tries == 0) {
		hp->mirror = !hp->req_chunked && !hp->req_upgrade;
		if (!hp->mirror)
			hp->sh->stats->http_mirror_skipped++;
	}
	if (hp->route.delay_ms && !hp->req_chunked) {
		/* A chunked request is forwarded from its first chunk, past
		 * its head: a fault cannot hold it there. */
		hp->wait = HP_WAIT_DELAY;
		hp->sh->stats->http_fault_delays++;
		conn_pause_input(hp->c, CONN_DOWN);
		err = loop_timer_arm(hp->t->loop, &hp->t_try,
				     timer_now() + (uint64_t)hp->route.delay_ms *
						   1000000u);
		return err ? err : 1;
	}
	return hproxy_req_send(hp);
}

static int hproxy_req_head(void *arg, const struct http1_head *h)
{
	struct hproxy *hp = arg;
	struct hhead_fwd *fw = &hp->fw;
	const char *v;
	size_t vlen;
	int err;

	if (h->method == HTTP_CONNECT)
		return -EOPNOTSUPP;	/* a VIP is no place to tunnel from */
	hp->head_whole = true;
	hp->client_minor = h->minor;
	hp->client_keep_alive = h->keep_alive;
	hp->req_upgrade = h->upgrade;
	hp->req_chunked = h->body == HTTP1_BODY_CHUNKED;
	hp->req_method_head = h->method == HTTP_HEAD;
	memset(fw, 0, sizeof(*fw));
	/* The client's address is the connection's: written once, not at
	 * every request (inet_ntop() goes through sprintf()). */
	if (!hp->client[0] ||
	    hp->client_addr.s_addr != hp->c->down_peer.sin_addr.s_addr) {
		hp->client_addr = hp->c->down_peer.sin_addr;
		if (!inet_ntop(AF_INET, &hp->client_addr, hp->client,
			       sizeof(hp->client)))
			strcpy(hp->client, "unknown");
	}
	fw->xff = hp->client;
	fw->upgrade = h->upgrade;
	if (!hhead_get(&hp->req_head, "x-request-id", &v, &vlen)) {
		hproxy_uuid(hp->sh, hp->req_id);
		fw->request_id = hp->req_id;
	}
	/* Connection is hop by hop: the up end's life is the proxy's
	 * business, not the client's, and it is kept (a client that closes
	 * leaves it to the pool).  HTTP/1.0 needs asking. */
	if (h->minor == 0 && h->major == 1 && !h->upgrade)
		fw->connection = "keep-alive";
	/* The head is in: the header timeout is over, and the body has no
	 * deadline of its own here (request timeouts are policy). */
	conn_input_deadline(hp->c, 0);
	if (hp->rs) {
		const struct resil *rs = hp->rs;
		size_t mlen;
		const char *m = hp->req_head.buf + hp->req_head.method.off;

		mlen = hp->req_head.method.len;
		/* As the client sent it: each try is routed afresh. */
		hp->replay = rs->retries && !h->upgrade &&
			     (rs->methods & (1u << resil_method(m, mlen))) &&
			     (h->body != HTTP1_BODY_LENGTH ||
			      h->content_length <= HPROXY_REPLAY_MAX) &&
			     !hhead_copy(&hp->orig, &hp->req_head);
		if (hp->replay && hp->sh->budget)
			rbudget_request(hp->sh->budget, hp->budget_key,
					hp->start_ns);
		hproxy_deadlines(hp);
	}
	/* A chunked request waits for its first chunk size to be read: one
	 * that cannot be leaves the upstream with nothing of the request,
	 * not even a connection.  Unless the client waits for 100 Continue,
	 * which needs the head upstream first. */
	if (hp->req_chunked && !h->expect_continue) {
		hp->req_held = true;
		return 0;
	}
	err = hproxy_req_forward(hp);
	return err == 1 ? HTTP1_STOP : err;
}

/* A held head goes on: the body that follows is well framed so far. */
static int hproxy_req_release(struct hproxy *hp)
{
	return hp->req_held ? hproxy_req_forward(hp) : 0;
}

/* The request will not be mirrored after all (its body does not fit). */
static void hproxy_mirror_skip(struct hproxy *hp)
{
	if (!hp->mirror)
		return;
	hp->mirror = false;
	hp->sh->stats->http_mirror_skipped++;
}

/* The request is whole: its copy goes to the mirror.  The head is the one
 * forwarded but for Host, which gets "-shadow" appended so that the
 * mirror's logs tell copies from requests (Envoy's mirrors do the same),
 * and "Connection: close": the copy's connection carries nothing else. */
static void hproxy_mirror_send(struct hproxy *hp)
{
	struct hhead copy = { 0 };
	struct hhead_fwd fw = hp->fw;
	struct bufq_out out = { 0 };
	char *host = NULL, *flat = NULL;
	const char *v;
	size_t vlen, n = 0;
	const void *chunk;
	size_t clen;

	hp->mirror = false;
	if (hhead_copy(&copy, &hp->req_head))
		goto fail;
	if (hhead_get(&copy, "host", &v, &vlen)) {
		host = malloc(vlen + sizeof("-shadow"));
		if (!host)
			goto fail;
		memcpy(host, v, vlen);
		memcpy(host + vlen, "-shadow", sizeof("-shadow"));
		if (hhead_set(&copy, "host", host))
			goto fail;
	}
	fw.connection = "close";
	fw.upgrade = false;
	if (hhead_render(&copy, &fw, &out) ||
	    (hp->body_len && bufq_out_put(&out, hp->body, hp->body_len)))
		goto fail;
	flat = malloc(out.len);
	if (!flat)
		goto fail;
	while ((clen = bufq_out_peek(&out, &chunk)) > 0) {
		memcpy(flat + n, chunk, clen);
		n += clen;
		bufq_out_consume(&out, clen);
	}
	hp->flow->mirror(hp->flow_arg, hp->c, hp->route.mirror_ip,
			 hp->route.mirror_port, flat, n);
	hp->sh->stats->http_mirrored++;
	goto out;
fail:
	hp->sh->stats->http_mirror_skipped++;
out:
	free(flat);
	free(host);
	bufq_out_free(&out);
	hhead_free(&copy);
}

/* Keeps @n bytes of the request's body for another try, or for its
 * mirror, while they fit. */
static void hproxy_keep_body(struct hproxy *hp, const char *p, size_t n)
{
	size_t cap;
	char *b;

	if (!hp->replay && !hp->mirror)
		return;
	if (hp->body_len + n > HPROXY_REPLAY_MAX) {
		hp->replay = false;	/* too long to go again */
		hproxy_mirror_skip(hp);
		return;
	}
	if (hp->body_len + n > hp->body_cap) {
		cap = hp->body_cap ? hp->body_cap : 1024;
		while (cap < hp->body_len + n)
			cap *= 2;
		b = realloc(hp->body, cap);
		if (!b) {
			hp->replay = false;
			hproxy_mirror_skip(hp);
			return;
		}
		hp->body = b;
		hp->body_cap = cap;
	}
	memcpy(hp->body + hp->body_len, p, n);
	hp->body_len += n;
}

static int hproxy_req_body(void *arg, const char *p, size_t n)
{
	struct hproxy *hp = arg;
	int err = hproxy_req_release(hp);

	hp->req_bytes += n;
	hproxy_keep_body(hp, p, n);
	return err ? err : hproxy_body_out(hp, CONN_UP, hp->req_chunked, p, n);
}

static int hproxy_req_trailer(void *arg, const char *name, size_t name_len,
			      const char *value, size_t value_len)
{
	struct hproxy *hp = arg;
	int err = hproxy_req_release(hp);

	hp->replay = false;	/* trailers are not kept */
	return err ? err : hproxy_trailer_out(hp, CONN_UP, &hp->req_trailers,
					      name, name_len, value,
					      value_len);
}

static int hproxy_req_end(void *arg)
{
	struct hproxy *hp = arg;
	int err = hproxy_req_release(hp);

	if (!err && hp->req_chunked)
		err = hproxy_chunked_end(hp, CONN_UP, &hp->req_trailers);
	if (err)
		return err;
	hp->req_done = true;
	if (hp->mirror)
		hproxy_mirror_send(hp);
	if (hp->state == HP_REQUEST)
		hp->state = HP_RESPONSE;
	if (hp->rs) {
		hp->whole_ns = timer_now();
		hproxy_deadlines(hp);
	}
	/* The next request waits for this one's response. */
	conn_pause_input(hp->c, CONN_DOWN);
	return HTTP1_STOP;
}

static const struct http1_cbs hproxy_req_cbs = {
	.on_start = hproxy_req_start,
	.on_header = hproxy_req_header,
	.on_head = hproxy_req_head,
	.on_body = hproxy_req_body,
	.on_trailer = hproxy_req_trailer,
	.on_end = hproxy_req_end,
};

/* ---- responses ------------------------------------------------------------- */

static int hproxy_rsp_start(void *arg, const struct http1_start *sl)
{
	struct hproxy *hp = arg;

	return hhead_start(&hp->rsp_head, false, sl);
}

static int hproxy_rsp_header(void *arg, const char *name, size_t name_len,
			     const char *value, size_t value_len)
{
	struct hproxy *hp = arg;

	return hhead_add(&hp->rsp_head, name, name_len, value, value_len);
}

static int hproxy_rsp_head(void *arg, const struct http1_head *h)
{
	struct hproxy *hp = arg;
	struct stats *st = hp->sh->stats;
	struct hhead_fwd fw = { 0 };
	bool unchunk;
	int err;

	if (h->status == 101 && !hp->req_upgrade)
		return -EPROTO;		/* nothing asked to switch */
	hp->rsp_interim = h->status < 200 && h->status != 101;
	hp->rsp_upgrade = h->status == 101;
	if (!hp->rsp_interim)
		hproxy_try_end(hp, h->status);
	if (hp->rs && !hp->rsp_interim && !hp->rsp_upgrade &&
	    hproxy_retry(hp, 0, h->status, NULL))
		return -EAGAIN;	/* the parser goes with this try */
	if (hp->rsp_interim) {
		/* 100 Continue, 103 Early Hints: on to the client as they
		 * are; the final response follows. */
		err = hhead_render(&hp->rsp_head, &fw,
				   conn_out(hp->c, CONN_DOWN));
		hhead_free(&hp->rsp_head);
		return err;
	}
	/* An HTTP/1.0 client cannot read chunks: the body goes to it as
	 * it is and its end is the end of the connection. */
	unchunk = h->body == HTTP1_BODY_CHUNKED && hp->client_minor == 0;
	hp->rsp_chunked = h->body == HTTP1_BODY_CHUNKED && !unchunk;
	hp->rsp_drop_trailers = unchunk;
	/* An Upgrade refused leaves the request parser past a message it
	 * cannot go on from: that connection ends with the answer. */
	hp->keep = hp->client_keep_alive && hp->req_done && !unchunk &&
		   !hp->req_upgrade && !hp->sh->draining;
	/* An upstream that closes after its response leaves the client's
	 * connection open: the next request gets another up end. */
	hp->up_keep = h->keep_alive;
	fw.upgrade = h->status == 101;
	fw.drop_te = unchunk;
	if (hp->flow->response) {
		err = hp->flow->response(hp->flow_arg, hp->c, &hp->rsp_head);
		if (err)
			return err;
	}
	if (!fw.upgrade)
		fw.connection = !hp->keep ? "close" :
				hp->client_minor == 0 ? "keep-alive" : NULL;
	/* The head stays until the exchange is done, for its access log
	 * line (%RESP(...)%). */
	err = hhead_render(&hp->rsp_head, &fw, conn_out(hp->c, CONN_DOWN));
	if (err)
		return err;
	hp->rsp_sent = true;
	hp->final_status = h->status;
	hp->bw_bps = hp->route.bandwidth_bps;
	if (hp->bw_bps)
		hp->bw_start_ns = timer_now();
	/* The response is the client's now: no try follows it. */
	if (hp->wait == HP_WAIT_TRY) {
		loop_timer_cancel(hp->t->loop, &hp->t_try);
		hp->wait = HP_WAIT_NONE;
	}
	st->http_status[h->status / 100 < STATS_HTTP_CLASSES ?
			h->status / 100 : 0]++;
	return 0;
}

static int hproxy_rsp_body(void *arg, const char *p, size_t n)
{
	struct hproxy *hp = arg;

	hp->rsp_bytes += n;
	return hproxy_body_out(hp, CONN_DOWN, hp->rsp_chunked, p, n);
}

static int hproxy_rsp_trailer(void *arg, const char *name, size_t name_len,
			      const char *value, size_t value_len)
{
	struct hproxy *hp = arg;

	if (hp->rsp_drop_trailers)
		return 0;
	return hproxy_trailer_out(hp, CONN_DOWN, &hp->rsp_trailers, name,
				  name_len, value, value_len);
}

/* The exchange is over: the next request, or the end of the
 * connection. */
static void hproxy_exchange_done(struct hproxy *hp)
{
	hproxy_done(hp, hp->final_status, false);
	hp->exchanges++;
	hp->req_sent = hp->req_done = hp->rsp_sent = false;
	if (!hp->keep) {
		/* The client is done; a kept up end may serve another once
		 * the connection is released (its last bytes are still in
		 * the relay's hands now). */
		if (hp->up_keep) {
			conn_pause_input(hp->c, CONN_UP);
			conn_up_keep_at_end(hp->c);
		}
		conn_end_after_reply(hp->t, hp->c);
		return;
	}
	/* An up end that stays is read between requests: its close comes
	 * as input and retires it (hproxy_input_eof()), so the next request
	 * finds it good or gone without a look at its socket; the recv armed
	 * for it serves the next response. */
	if (!hp->up_keep) {
		if (conn_up_retire(hp->t, hp->c)) {
			conn_end_after_reply(hp->t, hp->c);
			return;
		}
	} else {
		conn_up_watch(hp->t, hp->c);
	}
	hp->state = HP_IDLE;
	hp->req_upgrade = false;
	hp->req_id[0] = '\0';
	conn_input_deadline(hp->c, hp->idle_ms);
	conn_resume_input(hp->t, hp->c, CONN_DOWN);
}

static int hproxy_rsp_end(void *arg)
{
	struct hproxy *hp = arg;
	int err;

	if (hp->rsp_interim)
		return 0;
	if (hp->rsp_chunked) {
		err = hproxy_chunked_end(hp, CONN_DOWN, &hp->rsp_trailers);
		if (err)
			return err;
	}
	if (hp->rsp_upgrade) {
		/* 101: from here on both directions are bytes. */
		hp->state = HP_UPGRADED;
		hproxy_done(hp, 101, false);
		conn_resume_input(hp->t, hp->c, CONN_DOWN);
		return 0;
	}
	hproxy_exchange_done(hp);
	return HTTP1_STOP;
}

static const struct http1_cbs hproxy_rsp_cbs = {
	.on_start = hproxy_rsp_start,
	.on_header = hproxy_rsp_header,
	.on_head = hproxy_rsp_head,
	.on_body = hproxy_rsp_body,
	.on_trailer = hproxy_rsp_trailer,
	.on_end = hproxy_rsp_end,
};

/* ---- timeouts and retries --------------------------------------------------- */

/* What calls for another try, besides a response status: no response
 * (reset, closed, a try's timeout), and no up end at all. */
#define HPROXY_ON_RESET	 (RESIL_ON_5XX | RESIL_ON_GATEWAY | RESIL_ON_RESET)
#define HPROXY_ON_CONNECT (HPROXY_ON_RESET | RESIL_ON_CONNECT)

#define HPROXY_OF(ptr, member)						\
	((struct hproxy *)((char *)(ptr) - offsetof(struct hproxy, member)))

/* The route step's own answer to the request. */
static void hproxy_route_reply(struct hproxy *hp)
{
	static const int kinds[] = {
		[HPROXY_REPLY_BY_STATUS] = -1,
		[HPROXY_REPLY_LIMITED] = STATS_HTTP_LOCAL_LIMITED,
		[HPROXY_REPLY_FAULT] = STATS_HTTP_LOCAL_FAULT,
	};

	hproxy_reply_as(hp, hp->route.status,
			hp->route.why ? hp->route.why : "no route",
			kinds[hp->route.kind]);
}

/* A deadline of the request ran out: 504 naming it, or a reset once the
 * response has begun. */
static void hproxy_timed_out(struct hproxy *hp, enum stats_timeout which,
			     const char *why)
{
	hproxy_try_end(hp, 0);
	hp->sh->stats->timeouts[which]++;
	if (!hp->rsp_sent && !hp->replied) {
		hproxy_reply_as(hp, 504, why, STATS_HTTP_LOCAL_TIMEOUT);
		return;
	}
	hp->sh->stats->http_local[STATS_HTTP_LOCAL_TIMEOUT]++;
	conn_abort(hp->t, hp->c, why);
}

/* The request's earliest deadline and which it is; UINT64_MAX: none. */
static uint64_t hproxy_deadline(const struct hproxy *hp,
				enum stats_timeout *which, const char **why)
{
	const struct resil *rs = hp->rs;
	uint64_t d = UINT64_MAX, x;

	if (rs->max_stream_ms) {
		d = hp->start_ns + (uint64_t)rs->max_stream_ms * 1000000u;
		*which = STATS_TIMEOUT_MAX_STREAM;
		*why = "max stream duration reached";
	}
	if (rs->request_ms && hp->whole_ns) {
		x = hp->whole_ns + (uint64_t)rs->request_ms * 1000000u;
		if (x < d) {
			d = x;
			*which = STATS_TIMEOUT_REQUEST;
			*why = "upstream request timeout";
		}
	}
	if (rs->stream_idle_ms) {
		x = hp->io_ns + (uint64_t)rs->stream_idle_ms * 1000000u;
		if (x < d) {
			d = x;
			*which = STATS_TIMEOUT_STREAM_IDLE;
			*why = "stream idle timeout";
		}
	}
	return d;
}

/* (Re)arms the request's timer for its earliest deadline. */
static void hproxy_deadlines(struct hproxy *hp)
{
	enum stats_timeout which;
	const char *why;
	uint64_t d = hproxy_deadline(hp, &which, &why);

	if (d == UINT64_MAX ||
	    loop_timer_arm(hp->t->loop, &hp->t_req, d))
		loop_timer_cancel(hp->t->loop, &hp->t_req);
}

static void hproxy_req_timer(struct timer *t, uint64_t now)
{
	struct hproxy *hp = HPROXY_OF(t, t_req);
	enum stats_timeout which = STATS_TIMEOUT_REQUEST;
	const char *why = "timeout";
	uint64_t d;

	if (hp->c->state != CONN_STATE_RELAY || hp->state == HP_IDLE ||
	    hp->state == HP_UPGRADED)
		return;
	d = hproxy_deadline(hp, &which, &why);
	if (d > now) {
		/* Bytes moved since it was armed: the stream is not idle. */
		if (d != UINT64_MAX)
			(void)loop_timer_arm(hp->t->loop, t, d);
		return;
	}
	hproxy_timed_out(hp, which, why);
}

/*
 * The try in progress failed (@status: with that response; 0: @cond, no
 * response): true when the request goes again, after its back off; its up
 * end is then retired and its response parser starts over.  False when
 * it may not (see hproxy_set_resil()): the caller answers as it would
 * without retries.
 */
static bool hproxy_retry(struct hproxy *hp, unsigned int cond, int status,
			 const char *why)
{
	const struct resil *rs = hp->rs;
	struct stats *st = hp->sh->stats;
	uint64_t now, ms;

	if (!rs || !hp->replay || !hp->req_done || hp->rsp_sent ||
	    hp->replied || hp->tries > rs->retries ||
	    hp->c->state != CONN_STATE_RELAY)
		return false;
	if (status ? !resil_status_retriable(rs, status) : !(rs->on & cond))
		return false;
	/* The up end is retired below: not while the one before still is
	 * (conn_up_retire()'s -EBUSY). */
	if (hp->c->retiring && hp->c->end[CONN_UP].fd >= 0)
		return false;
	now = timer_now();
	if (hp->sh->budget &&
	    !rbudget_retry(hp->sh->budget, hp->budget_key, now)) {
		st->http_retry_budget++;
		return false;
	}
	if (hp->flow->retry_ok && !hp->flow->retry_ok(hp->flow_arg, hp->c))
		return false;
	if (status && !hp->retry_after_ms) {
		const char *v;
		size_t n;

		/* Retry-After in seconds; an HTTP-date is not honoured. */
		if (hhead_get(&hp->rsp_head, "retry-after", &v, &n) && n &&
		    n < 8 && strspn(v, "0123456789") == n)
			hp->retry_after_ms = (uint32_t)strtoul(v, NULL, 10) *
					     1000u;
	}
	if (conn_up_retire(hp->t, hp->c))
		return false;
	hhead_free(&hp->rsp_head);
	hp->req_sent = false;
	hp->rsp_interim = hp->rsp_upgrade = false;
	loop_timer_cancel(hp->t->loop, &hp->t_try);
	ms = hp->retry_after_ms ? (hp->retry_after_ms < rs->retry_after_max_ms ?
				   hp->retry_after_ms : rs->retry_after_max_ms) :
	     resil_backoff_ms(rs, hp->tries, hproxy_rand(hp->sh));
	hp->retry_after_ms = 0;
	hp->wait = HP_WAIT_BACKOFF;
	if (loop_timer_arm(hp->t->loop, &hp->t_try, now + ms * 1000000u)) {
		hp->wait = HP_WAIT_NONE;
		hproxy_reply(hp, 503, "out of memory");
		return true;
	}
	st->http_retries++;
	log_info("event=http_retry conn=%llu try=%u backoff_ms=%llu "
		 "reason=\"%s%s%d\"", (unsigned long long)hp->c->id,
		 hp->tries + 1, (unsigned long long)ms, why ? why : "",
		 why ? "" : "status ", why ? 0 : status);
	return true;
}

/* The back off is over: the request goes again, routed afresh from its
 * head as the client sent it, its body from what was kept. */
static void hproxy_try_again(struct hproxy *hp)
{
	int err;

	err = hhead_copy(&hp->req_head, &hp->orig);
	if (!err)
		err = hproxy_req_forward(hp);
	if (err == -ECANCELED) {
		if (!hp->replied)
			hproxy_route_reply(hp);
		return;
	}
	if (!err)
		err = hproxy_body_out(hp, CONN_UP, hp->req_chunked, hp->body,
				      hp->body_len);
	if (!err && hp->req_chunked)
		err = hproxy_chunked_end(hp, CONN_UP, &hp->req_trailers);
	if (err) {
		hproxy_reply(hp, 503, "out of memory");
		return;
	}
	conn_kick(hp->t, hp->c);
}

/* A fault's delay is over: the request goes, and the client's input is
 * read again (the steps its parser owes after the head first). */
static void hproxy_delay_over(struct hproxy *hp)
{
	int rc = hproxy_req_send(hp);

	if (rc) {
		hproxy_reply(hp, 503, "out of memory");
		return;
	}
	rc = http1_feed(&hp->req, "", 0);
	if (rc < 0) {
		hproxy_req_failed(hp, rc);
		return;
	}
	if (!hp->req_done)
		conn_resume_input(hp->t, hp->c, CONN_DOWN);
	conn_kick(hp->t, hp->c);
}

static void hproxy_try_timer(struct timer *t, uint64_t now)
{
	struct hproxy *hp = HPROXY_OF(t, t_try);
	int wait = hp->wait;

	(void)now;
	hp->wait = HP_WAIT_NONE;
	if (hp->c->state != CONN_STATE_RELAY || hp->replied)
		return;
	switch (wait) {
	case HP_WAIT_TRY:
		hproxy_try_end(hp, 0);
		if (hproxy_retry(hp, HPROXY_ON_RESET, 0, "per-try timeout")) {
			hp->sh->stats->timeouts[STATS_TIMEOUT_TRY]++;
			conn_kick(hp->t, hp->c);
			return;
		}
		hproxy_timed_out(hp, STATS_TIMEOUT_TRY, "per-try timeout");
		return;
	case HP_WAIT_BACKOFF:
		hproxy_try_again(hp);
		return;
	case HP_WAIT_DELAY:
		hproxy_delay_over(hp);
		return;
	case HP_WAIT_BANDWIDTH:
		conn_resume_input(hp->t, hp->c, CONN_UP);
		return;
	default:
		return;
	}
}

/* A paced response's bytes are fed a slice at a time (hproxy_input()):
 * 16 KiB, 160 ms at 800 kbit/s. */
#define HP_BW_SLICE	(16u * 1024)

/* A fault's response bandwidth: true, with the up end's input held until
 * the bytes sent so far are due, when they are ahead of it.  The pace is
 * kept a slice at a time. */
static bool hproxy_paced(struct hproxy *hp)
{
	uint64_t now = timer_now();
	uint64_t due = hp->bw_start_ns +
		       (uint64_t)((unsigned __int128)hp->rsp_bytes * 8 *
				  1000000000u / hp->bw_bps);

	if (due <= now)
		return false;
	conn_pause_input(hp->c, CONN_UP);
	hp->wait = HP_WAIT_BANDWIDTH;
	if (loop_timer_arm(hp->t->loop, &hp->t_try, due)) {
		hp->wait = HP_WAIT_NONE;
		conn_resume_input(hp->t, hp->c, CONN_UP);
		return false;
	}
	return true;
}

/* ---- the steps --------------------------------------------------------------- */

int hproxy_new(struct hproxy **out, struct hproxy_shared *sh,
	       struct conn_table *t, struct conn *c,
	       const struct hproxy_flow *flow, void *arg)
{
	struct hproxy *hp = calloc(1, sizeof(*hp));

	if (!hp)
		return -ENOMEM;
	hp->sh = sh;
	hp->t = t;
	hp->c = c;
	hp->flow = flow;
	hp->flow_arg = arg;
	hp->idle_ms = sh->idle_timeout_ms;
	hp->header_ms = sh->header_timeout_ms;
	timer_init(&hp->t_req, hproxy_req_timer);
	timer_init(&hp->t_try, hproxy_try_timer);
	http1_init(&hp->req, HTTP1_REQUEST, &sh->lim, &hproxy_req_cbs, hp);
	http1_init(&hp->rsp, HTTP1_RESPONSE, &sh->lim, &hproxy_rsp_cbs, hp);
	*out = hp;
	return 0;
}

void hproxy_set_resil(struct hproxy *hp, const struct resil *rs,
		      uint64_t budget_key)
{
	hp->rs = rs;
	hp->budget_key = budget_key;
	if (rs && rs->idle_ms)
		hp->idle_ms = rs->idle_ms;
	if (rs && rs->headers_ms)
		hp->header_ms = rs->headers_ms;
}

void hproxy_start(struct hproxy *hp)
{
	/* Before its first request a connection is as one between requests:
	 * the idle timeout; the header timeout runs from a head's first
	 * byte. */
	conn_input_deadline(hp->c, hp->idle_ms);
}

void hproxy_free(struct hproxy *hp)
{
	if (!hp)
		return;
	hproxy_request_over(hp, false);
	http1_fini(&hp->req);
	http1_fini(&hp->rsp);
	hhead_free(&hp->req_head);
	hhead_free(&hp->rsp_head);
	free(hp->route.location);
	free(hp->route.headers);
	free(hp);
}

/* The client is gone between requests: the flow may keep the up end. */
static void hproxy_release_up(struct hproxy *hp)
{
	if (hp->state == HP_IDLE && hp->flow->release_up)
		hp->flow->release_up(hp->flow_arg, hp->c);
}

/* The request parser failed: 4xx before anything of the request went
 * upstream, else a reset (half a request is upstream already). */
static ssize_t hproxy_req_failed(struct hproxy *hp, int err)
{
	char why[128];

	if (hp->replied)
		return err;	/* the route answered already */
	if (err == -EOPNOTSUPP) {
		hproxy_reply(hp, 405, "CONNECT is not served here");
		return err;
	}
	if (hp->route.status) {
		hproxy_route_reply(hp);
		return err;
	}
	snprintf(why, sizeof(why), "bad request: %s",
		 http1_reason_str(http1_reason(&hp->req)));
	/* Part of the request may be upstream already: it is cut off there
	 * by the end of that connection, and cannot be read as whole. */
	if (!hp->rsp_sent) {
		hproxy_reply(hp, http1_status(&hp->req), why);
		return err;
	}
	hp->sh->stats->http_local[STATS_HTTP_LOCAL_4XX]++;
	conn_abort(hp->t, hp->c, why);
	return err;
}

/* The response parser failed: 502 before the response head went down,
 * else a reset. */
static ssize_t hproxy_rsp_failed(struct hproxy *hp, int err)
{
	char why[128];

	if (hp->replied || err == -EAGAIN)
		return err;	/* answered, or tried again */
	snprintf(why, sizeof(why), "bad response from upstream: %s",
		 err == -EPROTO || err == -EMSGSIZE || err == -EPIPE ?
		 http1_reason_str(http1_reason(&hp->rsp)) :
		 err == -ECONNRESET ? "closed before its response" :
		 strerror(-err));
	hproxy_try_end(hp, 0);
	if (hproxy_retry(hp, HPROXY_ON_RESET, 0, why))
		return -EAGAIN;
	if (!hp->rsp_sent) {
		hproxy_reply(hp, 502, why);
		return err;
	}
	hp->sh->stats->http_local[STATS_HTTP_LOCAL_5XX]++;
	conn_abort(hp->t, hp->c, why);
	return err;
}

ssize_t hproxy_input(struct hproxy *hp, enum conn_side side,
		     const uint8_t *p, size_t n)
{
	int rc;

	if (hp->state == HP_UPGRADED) {
		rc = conn_write(hp->c, !side, p, n);
		if (rc) {
			conn_abort(hp->t, hp->c, "out of memory");
			return rc;
		}
		return (ssize_t)n;
	}
	if (hp->rs && hp->rs->stream_idle_ms && hp->state != HP_IDLE)
		hp->io_ns = timer_turn_now();
	if (side == CONN_UP) {
		/* A response is due only once a request head went up;
		 * anything else would be read as the next request's.  A kept
		 * end watched between requests (conn_up_watch()) goes, and
		 * the next request gets another. */
		if (!hp->req_sent && hp->c->end[CONN_UP].watch) {
			log_info("event=http_upstream_unasked conn=%llu "
				 "bytes=%zu", (unsigned long long)hp->c->id, n);
			if (conn_up_retire(hp->t, hp->c))
				conn_end_after_reply(hp->t, hp->c);
			return (ssize_t)n;
		}
		if (!hp->req_sent) {
			conn_abort(hp->t, hp->c,
				   "upstream sent bytes with no request");
			return -EPROTO;
		}
		if (hp->bw_bps && hp->rsp_sent && hproxy_paced(hp))
			return 0;
		/* A paced response moves a slice at a time, so its pace is
		 * kept to within a slice whatever the chunks it comes in. */
		if (hp->bw_bps && n > HP_BW_SLICE)
			n = HP_BW_SLICE;
		rc = http1_feed(&hp->rsp, (const char *)p, n);
		return rc < 0 ? hproxy_rsp_failed(hp, rc) : rc;
	}
	if (hp->state == HP_IDLE) {
		hp->state = HP_REQUEST;
		hp->start_ns = timer_turn_now();
		hp->io_ns = hp->start_ns;
		conn_input_deadline(hp->c, hp->header_ms);
	}
	rc = http1_feed(&hp->req, (const char *)p, n);
	if (rc < 0)
		return hproxy_req_failed(hp, rc);
	return rc;
}

int hproxy_input_eof(struct hproxy *hp, enum conn_side side)
{
	int err;

	if (hp->state == HP_UPGRADED)
		return 0;
	if (side == CONN_DOWN) {
		/* Between requests the client may go; within one it cut the
		 * request short, and nobody is left to answer. */
		if (hp->req.phase == HTTP1_P_IDLE ||
		    hp->req.phase == HTTP1_P_CLOSED) {
			hproxy_release_up(hp);
			conn_end_after_reply(hp->t, hp->c);
			return 1;
		}
		conn_abort(hp->t, hp->c, NULL);
		return -EPIPE;
	}
	if (!hp->req_sent) {
		/* The upstream closed between requests: the next one gets
		 * another up end. */
		if (conn_up_retire(hp->t, hp->c))
			conn_end_after_reply(hp->t, hp->c);
		return 1;
	}
	/* A body read until the close ends with it (hproxy_rsp_end() then
	 * ends the exchange); any other close cuts the response short. */
	err = http1_finish(&hp->rsp);
	if (err < 0)
		return (int)hproxy_rsp_failed(hp, err);
	if (hp->req_sent)
		return (int)hproxy_rsp_failed(hp, -ECONNRESET);
	return 1;
}

void hproxy_upstream_failed(struct hproxy *hp, const char *reason)
{
	char why[160];

	snprintf(why, sizeof(why), "upstream unavailable: %s", reason);
	hproxy_try_end(hp, 0);
	if (hproxy_retry(hp, HPROXY_ON_CONNECT, 0, why)) {
		conn_kick(hp->t, hp->c);
		return;
	}
	if (!hp->rsp_sent && !hp->replied)
		hproxy_reply(hp, 503, why);
	else
		conn_abort(hp->t, hp->c, why);
}

void hproxy_drain(struct hproxy *hp)
{
	/* Between requests: the client has all it asked for, and a close
	 * now is one it must expect of any kept-alive connection.  One that
	 * has not sent its first yet is served it (with Connection: close):
	 * a new connection closed unanswered is an error to most clients. */
	if (hp->state != HP_IDLE || !hp->exchanges)
		return;
	hproxy_release_up(hp);
	conn_end_after_reply(hp->t, hp->c);
}

void hproxy_input_timeout(struct hproxy *hp)
{
	if (hp->req.phase == HTTP1_P_HEAD) {
		hproxy_reply(hp, 408, "request head not received in time");
		return;
	}
	/* Idle: nothing is owed to anybody. */
	if (hp->rs && hp->rs->idle_ms)
		hp->sh->stats->timeouts[STATS_TIMEOUT_IDLE]++;
	hproxy_release_up(hp);
	conn_end_after_reply(hp->t, hp->c);
}
