// SPDX-License-Identifier: Apache-2.0
/*
 * hobs: counts the HTTP/1.1 exchanges of a relayed connection (hobs.h).
 * Two http1 parsers, one per direction, and a ring of the requests whose
 * final response has not ended yet, in the order they were sent, which is
 * the order their responses come in (RFC 9112 9.3.2).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "hobs.h"
#include "http1.h"
#include "timer.h"

struct hobs_req {
	uint64_t start_ns;	/* timer_turn_now() */
	bool head;		/* a HEAD: its response has no body */
};

struct hobs {
	struct http1 req, rsp;
	struct wmstats_series *x;
	struct hobs_req ring[HOBS_PIPELINE];
	unsigned first, count;	/* requests awaiting their final response */
	int status;		/* of the response being read */
	bool upgrading;		/* the last request asked for another
				 * protocol: no request follows it */
	const char *stopped;	/* why it stopped; NULL while it observes */
};

static void hobs_stop(struct hobs *o, const char *why)
{
	if (!o->stopped)
		o->stopped = why;
}

static int hobs_req_start(void *arg, const struct http1_start *sl)
{
	struct hobs *o = arg;
	struct hobs_req *r;

	if (o->count == HOBS_PIPELINE) {
		hobs_stop(o, "too many requests in flight");
		return -ENOBUFS;
	}
	r = &o->ring[(o->first + o->count++) % HOBS_PIPELINE];
	r->start_ns = timer_turn_now();
	r->head = http1_token_eq(sl->method, sl->method_len, "HEAD");
	return 0;
}

/* After an Upgrade or a CONNECT the bytes are another protocol: its
 * response is the last one counted. */
static int hobs_req_head(void *arg, const struct http1_head *h)
{
	struct hobs *o = arg;

	if (h->upgrade)
		o->upgrading = true;
	return 0;
}

static int hobs_rsp_start(void *arg, const struct http1_start *sl)
{
	struct hobs *o = arg;

	if (!o->count) {
		hobs_stop(o, "a response without a request");
		return -EPROTO;
	}
	o->status = sl->status;
	if (o->ring[o->first].head)
		http1_expect_head_response(&o->rsp);
	return 0;
}

/* A response ended: a final one ends its request, which is counted. */
static int hobs_rsp_end(void *arg)
{
	struct hobs *o = arg;
	const struct hobs_req *r = &o->ring[o->first];

	if (o->status >= 100 && o->status < 200 && o->status != 101)
		return 0;
	wmstats_request(o->x, o->status,
			(double)(timer_turn_now() - r->start_ns) / 1e9);
	o->first = (o->first + 1) % HOBS_PIPELINE;
	o->count--;
	if (o->status == 101 || (o->upgrading && !o->count))
		hobs_stop(o, "upgraded");
	return 0;
}

static const struct http1_cbs hobs_req_cbs = {
	.on_start = hobs_req_start,
	.on_head = hobs_req_head,
};

static const struct http1_cbs hobs_rsp_cbs = {
	.on_start = hobs_rsp_start,
	.on_end = hobs_rsp_end,
};

struct hobs *hobs_new(struct wmstats_series *x)
{
	struct hobs *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->x = x;
	http1_init(&o->req, HTTP1_REQUEST, NULL, &hobs_req_cbs, o);
	http1_init(&o->rsp, HTTP1_RESPONSE, NULL, &hobs_rsp_cbs, o);
	return o;
}

void hobs_free(struct hobs *o)
{
	if (!o)
		return;
	http1_fini(&o->req);
	http1_fini(&o->rsp);
	free(o);
}

void hobs_feed(struct hobs *o, bool to_dest, const uint8_t *p, size_t n)
{
	struct http1 *h = to_dest ? &o->req : &o->rsp;
	int ret;

	if (o->stopped || !n || (to_dest && o->upgrading))
		return;
	ret = http1_feed(h, (const char *)p, n);
	if (ret < 0)
		hobs_stop(o, http1_reason_str(http1_reason(h)));
	else if ((size_t)ret < n && !to_dest)
		hobs_stop(o, "upgraded");
	/* Once stopped, the parsers' buffers are no longer needed (a
	 * second http1_fini() frees nothing). */
	if (o->stopped) {
		http1_fini(&o->req);
		http1_fini(&o->rsp);
	}
}

const char *hobs_stopped(const struct hobs *o)
{
	return o->stopped ? o->stopped : "";
}
