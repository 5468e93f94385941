// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: a MeshAccessLog line (agent/alogfmt.c) is always one line,
 * whatever the format and whatever a request carries.  The first byte
 * picks plain or json, omitEmptyValues and the buffer's size; the rest,
 * split at NUL bytes, is the format (the plain string, or a json value)
 * and the values of a request's target and two fields.  The line must end
 * with its only '\n', hold no CR, fit the buffer, and in json, given room,
 * be one object.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/alogfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_line[ALOGFMT_LINE_MAX];

/* The next NUL-separated piece of the input, at most @max bytes. */
static const char *fz_piece(const uint8_t **p, const uint8_t *end,
			    size_t *n, size_t max)
{
	const uint8_t *s = *p, *nul = memchr(s, 0, (size_t)(end - s));
	const uint8_t *e = nul ? nul : end;

	*n = (size_t)(e - s) < max ? (size_t)(e - s) : max;
	*p = nul ? nul + 1 : end;
	return (const char *)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mf_log_format f;
	const uint8_t *p = data + 1, *end = data + size;
	struct http1_start rl = { .method = "POST", .method_len = 4,
				  .major = 1, .minor = 1 };
	struct alogfmt_vals v = { .http = true, .status = 200,
				  .mesh = "default", .src_service = "client",
				  .dst_service = "web", .direction = "OUTBOUND",
				  .downstream = "10.0.0.1:5000" };
	struct hhead req = { 0 };
	const char *fmt, *val, *ua;
	size_t nf, nv, nu, cap, n;
	bool json;

	if (size < 1)
		return 0;
	json = data[0] & 1;
	memset(&f, 0, sizeof(f));
	f.present = 1u << (json ? 2 : 1);
	f.omit_empty_values = (data[0] >> 1) & 1;
	/* A short buffer one time in four: the line is cut, still one. */
	cap = (data[0] >> 2) & 3 ? sizeof(fz_line) :
				       2 + (size_t)(data[0] >> 4);
	fmt = fz_piece(&p, end, &nf, json ? MF_HDR_VALUE_MAX - 1 :
					   MF_LOG_PLAIN_MAX - 1);
	rl.target = fz_piece(&p, end, &rl.target_len, 4096);
	val = fz_piece(&p, end, &nv, 4096);
	ua = fz_piece(&p, end, &nu, 4096);
	if (json) {
		f.njson = 2;
		memcpy(f.json[0].key, "a", 2);
		memcpy(f.json[0].value, fmt, nf);
		memcpy(f.json[1].key, "b", 2);
		memcpy(f.json[1].value, "%REQ(X-F)% %REQ(:PATH)%", 24);
	} else {
		memcpy(f.plain, fmt, nf);
	}
	if (hhead_start(&req, true, &rl) ||
	    hhead_add(&req, "X-F", 3, val, nv) ||
	    hhead_add(&req, "User-Agent", 10, ua, nu))
		goto out;
	v.req = &req;
	n = alogfmt_line(&f, &v, fz_line, cap);
	if (n < 1 || n > cap || fz_line[n - 1] != '\n' ||
	    memchr(fz_line, '\n', n - 1) || memchr(fz_line, '\r', n))
		abort();
	if (json && cap == sizeof(fz_line) &&
	    (fz_line[0] != '{' || n < 3 || fz_line[n - 2] != '}'))
		abort();
out:
	hhead_free(&req);
	return 0;
}
