// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the head the proxy forwards (agent/hhead.c) must be read by
 * the next hop exactly as the proxy read the original.  The first input
 * byte picks a request or a response; the rest is parsed by http1 as the
 * agent parses it.  When a head is accepted, it is rendered as hproxy
 * renders it, and the rendering is parsed again by a fresh parser: it must
 * be accepted, with the same start line, the same body framing and length,
 * the fields kept in order, and no hop-by-hop field but the proxy's own.
 * A forwarded head that a second parser reads differently is how requests
 * get smuggled.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../agent/bufq.h"
#include "../../agent/hhead.h"
#include "../../agent/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_first {
	struct hhead head;
	struct http1_head h;
	bool done;		/* the first head was seen */
	struct bufq_out out;	/* its rendering */
};

struct fz_second {
	struct hhead head;
	struct http1_head h;
	bool done;
};

static int fz1_start(void *arg, const struct http1_start *sl)
{
	struct fz_first *f = arg;

	return f->done ? 0 : hhead_start(&f->head, sl->method != NULL, sl);
}

static int fz1_header(void *arg, const char *n, size_t nl, const char *v,
		      size_t vl)
{
	struct fz_first *f = arg;

	return f->done ? 0 : hhead_add(&f->head, n, nl, v, vl);
}

static int fz1_head(void *arg, const struct http1_head *h)
{
	struct fz_first *f = arg;
	struct hhead_fwd fw = {
		.upgrade = h->upgrade,
		.xff = f->head.request ? "192.0.2.7" : NULL,
		.request_id = f->head.request ? "fz-id" : NULL,
		.connection = h->keep_alive ? NULL : "close",
	};

	if (f->done)
		return 0;
	f->done = true;
	f->h = *h;
	if (hhead_render(&f->head, &fw, &f->out))
		abort();
	return 0;
}

static int fz2_start(void *arg, const struct http1_start *sl)
{
	struct fz_second *s = arg;

	return hhead_start(&s->head, sl->method != NULL, sl);
}

static int fz2_header(void *arg, const char *n, size_t nl, const char *v,
		      size_t vl)
{
	struct fz_second *s = arg;

	return hhead_add(&s->head, n, nl, v, vl);
}

static int fz2_head(void *arg, const struct http1_head *h)
{
	struct fz_second *s = arg;

	s->done = true;
	s->h = *h;
	return 0;
}

static const struct http1_cbs fz1_cbs = {
	.on_start = fz1_start, .on_header = fz1_header, .on_head = fz1_head,
};
static const struct http1_cbs fz2_cbs = {
	.on_start = fz2_start, .on_header = fz2_header, .on_head = fz2_head,
};

static bool fz_span_eq(const struct hhead *a, struct hhead_span x,
		       const struct hhead *b, struct hhead_span y)
{
	return x.len == y.len && !memcmp(a->buf + x.off, b->buf + y.off, x.len);
}

static bool fz_is(const struct hhead *h, const struct hhead_field *f,
		  const char *name)
{
	return f->name.len == strlen(name) &&
	       !strncasecmp(h->buf + f->name.off, name, f->name.len);
}

/* The second reading against the first. */
static void fz_compare(const struct fz_first *f, const struct fz_second *s)
{
	const struct hhead *a = &f->head, *b = &s->head;
	uint32_t j = 0;

	if (!s->done || a->request != b->request)
		abort();
	if (a->request && (!fz_span_eq(a, a->method, b, b->method) ||
			   !fz_span_eq(a, a->target, b, b->target) ||
			   a->major != b->major || a->minor != b->minor))
		abort();
	if (!a->request && a->status != b->status)
		abort();
	if (f->h.body != s->h.body || f->h.content_length != s->h.content_length ||
	    f->h.upgrade != s->h.upgrade)
		abort();
	/* Every field of the rendering is one the first head had, in the
	 * same order, or one of the proxy's own; none is hop-by-hop unless
	 * the proxy wrote it. */
	for (uint32_t i = 0; i < b->nf; i++) {
		const struct hhead_field *g = &b->f[i];

		if (fz_is(b, g, "keep-alive") || fz_is(b, g, "te") ||
		    fz_is(b, g, "trailer") || fz_is(b, g, "proxy-connection"))
			abort();
		if (fz_is(b, g, "x-forwarded-for") || fz_is(b, g, "connection") ||
		    (fz_is(b, g, "x-request-id") &&
		     g->value.len == 5 && !memcmp(b->buf + g->value.off, "fz-id", 5)) ||
		    (f->h.upgrade && fz_is(b, g, "upgrade")))
			continue;
		while (j < a->nf && !(fz_span_eq(a, a->f[j].name, b, g->name) &&
				      fz_span_eq(a, a->f[j].value, b, g->value)))
			j++;
		if (j == a->nf)
			abort();
		j++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum http1_kind kind;
	struct fz_first f;
	struct fz_second s;
	struct http1_limits lim;
	struct http1 p, q;
	const void *r;
	size_t n;
	char *buf;

	if (size < 1 || size > 65536)
		return 0;
	kind = data[0] & 1 ? HTTP1_RESPONSE : HTTP1_REQUEST;
	memset(&f, 0, sizeof(f));
	memset(&s, 0, sizeof(s));
	http1_init(&p, kind, NULL, &fz1_cbs, &f);
	(void)http1_feed(&p, (const char *)data + 1, size - 1);
	http1_fini(&p);
	if (f.done) {
		/* The rendering, contiguous, then parsed again. */
		buf = malloc(f.out.len ? f.out.len : 1);
		if (!buf)
			abort();
		n = 0;
		while (f.out.len) {
			size_t k = bufq_out_peek(&f.out, &r);

			memcpy(buf + n, r, k);
			n += k;
			bufq_out_consume(&f.out, k);
		}
		/* The proxy adds fields: the next hop's limits are its
		 * own, and not what this checks. */
		http1_limits_default(&lim);
		lim.line_max *= 2;
		lim.headers_max *= 2;
		lim.header_count_max += 8;
		http1_init(&q, kind, &lim, &fz2_cbs, &s);
		if (http1_feed(&q, buf, n) < 0)
			abort();
		fz_compare(&f, &s);
		http1_fini(&q);
		free(buf);
	}
	bufq_out_free(&f.out);
	hhead_free(&f.head);
	hhead_free(&s.head);
	return 0;
}
