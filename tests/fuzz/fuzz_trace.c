// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the trace context reader (agent/trace.c).  The input is a
 * request's header section, "name: value" lines.  Whatever it holds, the
 * reader must not read past a value, and a context it accepts has ids
 * that are not 0.  Then the property that matters to the next hop: the
 * ids decided for the request (with both sides traced, shared or not),
 * written on the head by trace_headers(), are read back by trace_read()
 * exactly as decided: trace id, span, parent and sampled flag.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/hhead.h"
#include "../../agent/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The head of a GET / with the input's "name: value" lines as fields. */
static bool fz_head(struct hhead *h, const char *p, size_t n)
{
	static const struct http1_start rl = { .method = "GET", .method_len = 3,
					       .target = "/", .target_len = 1,
					       .major = 1, .minor = 1 };
	const char *end = p + n;

	if (hhead_start(h, true, &rl))
		return false;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *colon = memchr(p, ':', (size_t)(le - p));

		if (colon && colon > p) {
			const char *v = colon + 1;

			while (v < le && *v == ' ')
				v++;
			if (hhead_add(h, p, (size_t)(colon - p), v,
				      (size_t)(le - v)))
				return false;
		}
		p = nl ? nl + 1 : end;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hhead h = { 0 };
	struct trace_conn t;
	struct trace_in in, back;
	struct lb_rng rng;

	if (!size || !fz_head(&h, (const char *)data + 1, size - 1))
		goto out;
	trace_read(&h, &in);
	if (in.ctx && (!in.span || (!in.hi && !in.lo)))
		abort();
	/* The first byte says which sides are traced and how. */
	memset(&t, 0, sizeof(t));
	t.out.on = data[0] & 1;
	t.in.on = !t.out.on || (data[0] & 2);
	t.in.shared = data[0] & 4;
	t.out.id128 = t.in.id128 = data[0] & 8;
	lb_rng_seed(&rng, data[0]);
	if (trace_request(&t, &h, 0, &rng))
		goto out;
	trace_read(&h, &back);
	if (!back.ctx || back.hi != t.req.hi || back.lo != t.req.lo ||
	    back.id128 != t.req.id128 || back.span != t.req.up_id ||
	    back.parent != t.req.up_parent ||
	    back.sampled != (int)t.req.sampled)
		abort();
out:
	hhead_free(&h);
	return 0;
}
