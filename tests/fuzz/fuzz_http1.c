// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the HTTP/1.1 parser the agent runs on bytes from clients
 * and upstreams (agent/http1.c).  The first input byte picks requests or
 * responses; the rest is the stream.  It is parsed twice, whole and one
 * byte at a time, and both must report the same events and the same end:
 * framing must not depend on how bytes arrive.  Each feed keeps its
 * contract (consumed <= n; a failed parser stays failed with an answer to
 * send).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A running hash of every event and its bytes. */
struct fz_log {
	uint64_t h;
	unsigned long events;
};

static void fz_mix(struct fz_log *l, int tag, const void *p, size_t n)
{
	const uint8_t *b = p;

	l->h = (l->h ^ (uint64_t)tag) * 0x100000001b3ull;
	for (size_t i = 0; i < n; i++)
		l->h = (l->h ^ b[i]) * 0x100000001b3ull;
	l->events++;
}

static int fz_start(void *arg, const struct http1_start *sl)
{
	fz_mix(arg, 1, sl->method, sl->method_len);
	fz_mix(arg, 2, sl->target, sl->target_len);
	fz_mix(arg, 3, &sl->status, sizeof(sl->status));
	return 0;
}

static int fz_header(void *arg, const char *n, size_t nl, const char *v,
		     size_t vl)
{
	fz_mix(arg, 4, n, nl);
	fz_mix(arg, 5, v, vl);
	return 0;
}

static int fz_head(void *arg, const struct http1_head *h)
{
	fz_mix(arg, 6, &h->body, sizeof(h->body));
	fz_mix(arg, 7, &h->content_length, sizeof(h->content_length));
	fz_mix(arg, 8, &h->keep_alive, sizeof(h->keep_alive));
	return 0;
}

/* Body bytes are hashed as a stream: pieces differ between the runs. */
static int fz_body(void *arg, const char *p, size_t n)
{
	struct fz_log *l = arg;

	for (size_t i = 0; i < n; i++)
		l->h = (l->h ^ (uint8_t)p[i]) * 0x100000001b3ull;
	return 0;
}

static int fz_end(void *arg)
{
	fz_mix(arg, 9, NULL, 0);
	return 0;
}

static const struct http1_cbs fz_cbs = {
	.on_start = fz_start, .on_header = fz_header, .on_head = fz_head,
	.on_body = fz_body, .on_trailer = fz_header, .on_end = fz_end,
};

/* Parses @data in pieces of @step bytes (0: whole).  Returns the final
 * result: the first error, or the consumed total. */
static long fz_run(enum http1_kind kind, const uint8_t *data, size_t size,
		   size_t step, struct fz_log *log)
{
	struct http1 p;
	size_t off = 0;
	long total = 0;

	memset(log, 0, sizeof(*log));
	if (http1_init(&p, kind, NULL, &fz_cbs, log))
		abort();
	while (off < size) {
		size_t n = step && size - off > step ? step : size - off;
		int r = http1_feed(&p, (const char *)data + off, n);

		if (r < 0) {
			int st = http1_status(&p);

			if (st != 400 && st != 414 && st != 431 && st != 502)
				abort();
			/* Failed stays failed. */
			if (http1_feed(&p, "x", 1) >= 0)
				abort();
			http1_fini(&p);
			return r;
		}
		if ((size_t)r > n)
			abort();
		total += r;
		if ((size_t)r < n)	/* upgraded: the rest is not HTTP */
			break;
		off += n;
	}
	http1_fini(&p);
	return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_log whole, bytes;
	enum http1_kind kind;
	long a, b;

	if (size < 1 || size > 65536)
		return 0;
	kind = data[0] & 1 ? HTTP1_RESPONSE : HTTP1_REQUEST;
	a = fz_run(kind, data + 1, size - 1, 0, &whole);
	b = fz_run(kind, data + 1, size - 1, 1, &bytes);
	/* The same verdict either way.  (An error's reason may differ: a
	 * limit can trip before a syntax error seen later in one piece.) */
	if ((a < 0) != (b < 0))
		abort();
	if (a >= 0 && (a != b || whole.h != bytes.h ||
		       whole.events != bytes.events))
		abort();
	return 0;
}
