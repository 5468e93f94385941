// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog lines (alogfmt.h): the operators are looked up by name in
 * one table, their values are spans (or none), and the line is written
 * into the caller's buffer, plain with its own escaping of control bytes,
 * json through the one JSON emitter.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "alogfmt.h"
#include "emit.h"

const char alogfmt_default_http[] =
	"[%START_TIME%] %KUMA_MESH% \"%REQ(:METHOD)% "
	"%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" %RESPONSE_CODE% "
	"%RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
	"%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% \"%REQ(X-FORWARDED-FOR)%\" "
	"\"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
	"\"%REQ(:AUTHORITY)%\" "
	"\"%KUMA_SOURCE_SERVICE%\" \"%KUMA_DESTINATION_SERVICE%\" "
	"\"%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%\" \"%UPSTREAM_HOST%\"";

const char alogfmt_default_tcp[] =
	"[%START_TIME%] %RESPONSE_FLAGS% %KUMA_MESH% "
	"%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%(%KUMA_SOURCE_SERVICE%)->"
	"%UPSTREAM_HOST%(%KUMA_DESTINATION_SERVICE%) took %DURATION%ms, "
	"sent %BYTES_SENT% bytes, received: %BYTES_RECEIVED% bytes";

/* Where a line or a value is written: full once a byte did not fit. */
struct alogfmt_out {
	char *b;
	size_t n, cap;
	bool full;
};

static void alogfmt_put(struct alogfmt_out *o, const char *p, size_t n)
{
	if (o->n + n > o->cap) {
		n = o->cap - o->n;
		o->full = true;
	}
	memcpy(o->b + o->n, p, n);
	o->n += n;
}

static void alogfmt_emit_put(void *arg, const char *p, size_t n)
{
	alogfmt_put(arg, p, n);
}

/* @p as plain text: control bytes escaped, so that a header with CR or LF
 * can never end the line or start another. */
static void alogfmt_put_safe(struct alogfmt_out *o, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];
		char esc[4] = { '\\', 0, 0, 0 };
		size_t k = 2;

		if (ch >= 0x20 && ch != 0x7f) {
			alogfmt_put(o, &p[i], 1);
			continue;
		}
		if (ch == '\n') {
			esc[1] = 'n';
		} else if (ch == '\r') {
			esc[1] = 'r';
		} else if (ch == '\t') {
			esc[1] = 't';
		} else {
			esc[1] = 'x';
			esc[2] = hex[ch >> 4];
			esc[3] = hex[ch & 15];
			k = 4;
		}
		alogfmt_put(o, esc, k);
	}
}

/* An operator's value: a span, NULL when it has none. */
struct alogfmt_val {
	const char *p;
	size_t n;
	char tmp[64];		/* the bytes of a value made here */
};

static void alogfmt_str(struct alogfmt_val *r, const char *s)
{
	r->p = s;
	r->n = s ? strlen(s) : 0;
}

static void alogfmt_u64(struct alogfmt_val *r, uint64_t v)
{
	snprintf(r->tmp, sizeof(r->tmp), "%" PRIu64, v);
	alogfmt_str(r, r->tmp);
}

/* "ip:port" without its port. */
static void alogfmt_no_port(struct alogfmt_val *r, const char *s)
{
	const char *colon = s ? strrchr(s, ':') : NULL;

	r->p = s;
	r->n = colon ? (size_t)(colon - s) : s ? strlen(s) : 0;
}

/* %START_TIME%: ISO 8601 in UTC with ms, as Envoy's default; with an
 * argument, that strftime() format (in UTC). */
static void alogfmt_time(struct alogfmt_val *r, const struct timespec *ts,
			 const char *arg, size_t alen)
{
	char fmt[64];
	struct tm tm;
	size_t n;

	gmtime_r(&ts->tv_sec, &tm);
	if (arg && alen && alen < sizeof(fmt)) {
		memcpy(fmt, arg, alen);
		fmt[alen] = '\0';
		n = strftime(r->tmp, sizeof(r->tmp), fmt, &tm);
	} else {
		n = strftime(r->tmp, sizeof(r->tmp), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(r->tmp + n, sizeof(r->tmp) - n,
				      ".%03ldZ", ts->tv_nsec / 1000000);
	}
	r->p = n ? r->tmp : NULL;
	r->n = n;
}

/* One name of %REQ(..)% / %RESP(..)% in head @h: a pseudo-header or a
 * field.  False: none. */
static bool alogfmt_head_one(struct alogfmt_val *r, const struct hhead *h,
			     const char *name, size_t len)
{
	char field[MF_HDR_NAME_MAX];

	if (!h || !len || len >= sizeof(field))
		return false;
	if (name[0] == ':') {
		if (h->request && len == 7 &&
		    !strncasecmp(name, ":method", 7)) {
			r->p = h->buf + h->method.off;
			r->n = h->method.len;
		} else if (h->request && len == 5 &&
			   !strncasecmp(name, ":path", 5)) {
			r->p = hhead_target(h, &r->n);
		} else if (h->request && len == 10 &&
			   !strncasecmp(name, ":authority", 10)) {
			return hhead_get(h, "host", &r->p, &r->n);
		} else if (h->request && len == 7 &&
			   !strncasecmp(name, ":scheme", 7)) {
			alogfmt_str(r, "http");
		} else if (!h->request && len == 7 &&
			   !strncasecmp(name, ":status", 7)) {
			alogfmt_u64(r, (uint64_t)h->status);
		} else {
			return false;
		}
		return true;
	}
	memcpy(field, name, len);
	field[len] = '\0';
	return hhead_get(h, field, &r->p, &r->n);
}

/* %REQ(X?Y)%: X, else Y. */
static void alogfmt_head(struct alogfmt_val *r, const struct hhead *h,
			 const char *arg, size_t alen)
{
	const char *q = arg ? memchr(arg, '?', alen) : NULL;
	size_t first = q ? (size_t)(q - arg) : alen;

	if (!arg || alogfmt_head_one(r, h, arg, first))
		return;
	if (q && alogfmt_head_one(r, h, q + 1, alen - first - 1))
		return;
	r->p = NULL;
}

/* The value of operator @name (@len bytes; its argument @arg, NULL: none)
 * into @r; r->p NULL when it has none. */
static void alogfmt_op(const struct alogfmt_vals *v, const char *name,
		       size_t len, const char *arg, size_t alen,
		       struct alogfmt_val *r)
{
#define IS(s) (len == sizeof(s) - 1 && !memcmp(name, s, len))
	r->p = NULL;
	r->n = 0;
	if (IS("START_TIME"))
		alogfmt_time(r, &v->start, arg, alen);
	else if (IS("RESPONSE_CODE"))
		alogfmt_u64(r, (uint64_t)(v->status > 0 ? v->status : 0));
	else if (IS("RESPONSE_FLAGS"))
		alogfmt_str(r, v->flags && *v->flags ? v->flags : NULL);
	else if (IS("BYTES_RECEIVED"))
		alogfmt_u64(r, v->bytes_received);
	else if (IS("BYTES_SENT"))
		alogfmt_u64(r, v->bytes_sent);
	else if (IS("DURATION"))
		alogfmt_u64(r, v->duration_ms);
	else if (IS("REQ"))
		alogfmt_head(r, v->req, arg, alen);
	else if (IS("RESP"))
		alogfmt_head(r, v->rsp, arg, alen);
	else if (IS("PROTOCOL"))
		alogfmt_str(r, v->protocol);
	else if (IS("UPSTREAM_HOST"))
		alogfmt_str(r, v->upstream_host);
	else if (IS("UPSTREAM_CLUSTER"))
		alogfmt_str(r, v->cluster);
	else if (IS("DOWNSTREAM_REMOTE_ADDRESS"))
		alogfmt_str(r, v->downstream);
	else if (IS("DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT"))
		alogfmt_no_port(r, v->downstream);
	else if (IS("KUMA_MESH"))
		alogfmt_str(r, v->mesh && *v->mesh ? v->mesh : NULL);
	else if (IS("KUMA_SOURCE_SERVICE"))
		alogfmt_str(r, v->src_service);
	else if (IS("KUMA_DESTINATION_SERVICE"))
		alogfmt_str(r, v->dst_service);
	else if (IS("KUMA_SOURCE_ADDRESS"))
		alogfmt_str(r, v->src_address);
	else if (IS("KUMA_SOURCE_ADDRESS_WITHOUT_PORT"))
		alogfmt_no_port(r, v->src_address);
	else if (IS("KUMA_TRAFFIC_DIRECTION"))
		alogfmt_str(r, v->direction ? v->direction : "UNSPECIFIED");
#undef IS
	if (r->p && r->n > ALOGFMT_VALUE_MAX)
		r->n = ALOGFMT_VALUE_MAX;
}

/*
 * The operator at @s (just past its opening '%', @end the format's end):
 * NAME, NAME(ARG) or either with ":LEN" (the value cut at LEN bytes),
 * then '%'.  Returns the bytes it takes past the opening '%' (0: not an
 * operator, the '%' is text) and its value in @r.
 */
static size_t alogfmt_parse_op(const struct alogfmt_vals *v, const char *s,
			       const char *end, struct alogfmt_val *r)
{
	const char *p = s, *arg = NULL;
	size_t len, alen = 0, cut = SIZE_MAX;

	while (p < end && ((*p >= 'A' && *p <= 'Z') || *p == '_' ||
			   (*p >= '0' && *p <= '9')))
		p++;
	len = (size_t)(p - s);
	if (!len || p == end)
		return 0;
	if (*p == '(') {
		const char *close = memchr(p, ')', (size_t)(end - p));

		if (!close)
			return 0;
		arg = p + 1;
		alen = (size_t)(close - arg);
		p = close + 1;
	}
	if (p < end && *p == ':') {
		cut = 0;
		for (p++; p < end && *p >= '0' && *p <= '9'; p++)
			cut = cut * 10 + (size_t)(*p - '0');
	}
	if (p == end || *p != '%')
		return 0;
	alogfmt_op(v, s, len, arg, alen, r);
	if (r->p && r->n > cut)
		r->n = cut;
	return (size_t)(p + 1 - s);
}

/* Format string @fmt (@n bytes) of @v into @o: an operator without a
 * value is "-", "" with @omit; control bytes escaped, unless @raw (a json
 * value, which the emitter escapes).  Returns the operators written and,
 * in *@lone, the value of the format when it is one operator alone. */
static unsigned int alogfmt_render(const struct alogfmt_vals *v,
				   const char *fmt, size_t n, bool omit,
				   bool raw, struct alogfmt_out *o,
				   struct alogfmt_val *lone, bool *is_lone)
{
	void (*put)(struct alogfmt_out *, const char *, size_t) =
		raw ? alogfmt_put : alogfmt_put_safe;
	const char *p = fmt, *end = fmt + n;
	unsigned int ops = 0;

	*is_lone = false;
	while (p < end) {
		const char *pct = memchr(p, '%', (size_t)(end - p));
		struct alogfmt_val r;
		size_t took;

		if (!pct) {
			put(o, p, (size_t)(end - p));
			break;
		}
		put(o, p, (size_t)(pct - p));
		took = alogfmt_parse_op(v, pct + 1, end, &r);
		if (!took) {
			alogfmt_put(o, "%", 1);
			p = pct + 1;
			continue;
		}
		ops++;
		if (r.p)
			put(o, r.p, r.n);
		else if (!omit)
			alogfmt_put(o, "-", 1);
		if (pct == fmt && pct + 1 + took == end) {
			*lone = r;
			if (r.p == r.tmp)
				lone->p = lone->tmp;
			*is_lone = true;
		}
		p = pct + 1 + took;
	}
	return ops;
}

/* The plain format @fmt: one line, a line break the format ends with
 * left out (the line gets its own). */
static void alogfmt_plain(const struct alogfmt_vals *v, const char *fmt,
			  bool omit, struct alogfmt_out *o)
{
	size_t n = strlen(fmt);
	struct alogfmt_val lone;
	bool is_lone;

	while (n && (fmt[n - 1] == '\n' || fmt[n - 1] == '\r'))
		n--;
	alogfmt_render(v, fmt, n, omit, false, o, &lone, &is_lone);
}

static void alogfmt_json(const struct mf_log_format *f,
			 const struct alogfmt_vals *v, struct alogfmt_out *o)
{
	char vbuf[ALOGFMT_VALUE_MAX + 1];
	struct emit e;

	emit_init(&e, EMIT_JSON, alogfmt_emit_put, o);
	emit_map_begin(&e);
	for (size_t i = 0; i < f->njson && i < MF_LOG_JSON_MAX; i++) {
		const struct mf_log_json_field *j = &f->json[i];
		struct alogfmt_out vo = { vbuf, 0, ALOGFMT_VALUE_MAX, false };
		struct alogfmt_val lone;
		bool is_lone;

		alogfmt_render(v, j->value, strnlen(j->value, sizeof(j->value)),
			       f->omit_empty_values, true, &vo, &lone,
			       &is_lone);
		vbuf[vo.n] = '\0';
		if (is_lone && !lone.p && f->omit_empty_values)
			continue;
		if (f->omit_empty_values && !vo.n)
			continue;
		emit_key(&e, j->key);
		if (is_lone && !lone.p)
			emit_num(&e, "null");
		else
			emit_strn(&e, vbuf, vo.n);
	}
	emit_map_end(&e);
}

size_t alogfmt_text(const char *fmt, bool omit, const struct alogfmt_vals *v,
		    char *buf, size_t cap)
{
	/* One byte kept for the NUL. */
	struct alogfmt_out o = { buf, 0, cap - 1, false };

	alogfmt_plain(v, fmt, omit, &o);
	buf[o.n] = '\0';
	return o.n;
}

size_t alogfmt_line(const struct mf_log_format *f,
		    const struct alogfmt_vals *v, char *buf, size_t cap)
{
	/* One byte kept for the line's end. */
	struct alogfmt_out o = { buf, 0, cap - 1, false };

	/* `type` may be left out: the list or the string says which. */
	if (f && f->present && f->njson)
		alogfmt_json(f, v, &o);
	else if (f && f->present)
		alogfmt_plain(v, f->plain, f->omit_empty_values, &o);
	else
		alogfmt_plain(v, v->http ? alogfmt_default_http :
					   alogfmt_default_tcp, false, &o);
	buf[o.n++] = '\n';
	return o.n;
}
