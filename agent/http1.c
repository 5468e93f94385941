// SPDX-License-Identifier: Apache-2.0
/*
 * http1: streaming HTTP/1.1 parser on llhttp (strict) with the proxy's
 * framing rules.  See http1.h for the contract.
 *
 * llhttp reports spans (pieces of the method, target, names, values...) as
 * they arrive; we gather a span in p->buf until its *_complete callback and
 * then check and report it whole.  Two pauses give us exact byte positions
 * that llhttp otherwise keeps to itself: at the end of a head (so the head's
 * byte count is exact and the limits hold to the byte) and at the end of a
 * message (so pipelined heads are counted each on its own).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "http1.h"

void http1_limits_default(struct http1_limits *lim)
{
	lim->line_max = HTTP1_LINE_MAX;
	lim->headers_max = HTTP1_HEADERS_MAX;
	lim->header_count_max = HTTP1_HEADER_COUNT_MAX;
	lim->require_host = true;
}

static struct http1 *http1_of(llhttp_t *ll)
{
	return ll->data;
}

/* Stops the parser with a named rule; returns what a llhttp callback
 * returns to abort (HPE_USER). */
static int http1_fail_cb(struct http1 *p, enum http1_reason r, int err)
{
	if (p->reason == HTTP1_R_NONE) {
		p->reason = r;
		p->err = err;
	}
	return HPE_USER;
}

/* The span buffer never outgrows the larger limit: a head's bytes are
 * capped before llhttp sees them and trailers are counted here. */
static int http1_append(struct http1 *p, const char *at, size_t n)
{
	size_t max = p->lim.line_max > p->lim.headers_max ?
		     p->lim.line_max : p->lim.headers_max;
	size_t want = p->len + n, cap;
	char *nb;

	if (want > max + 2)
		return http1_fail_cb(p, p->line_done ? HTTP1_R_HEAD_TOO_BIG :
					HTTP1_R_LINE_TOO_LONG, -EMSGSIZE);
	if (want > p->cap) {
		cap = p->cap ? p->cap : 256;
		while (cap < want)
			cap *= 2;
		nb = realloc(p->buf, cap);
		if (!nb)
			return http1_fail_cb(p, HTTP1_R_CALLBACK, -ENOMEM);
		p->buf = nb;
		p->cap = cap;
	}
	if (n)		/* llhttp may report an empty span at NULL */
		memcpy(p->buf + p->len, at, n);
	p->len = want;
	return 0;
}

static bool http1_is_ows(char c)
{
	return c == ' ' || c == '\t';
}

bool http1_list_next(const char *v, size_t len, size_t *pos,
		     const char **tok, size_t *tok_len)
{
	size_t i = *pos, s, e;

	while (i < len) {
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		if (i < len)
			i++;
		while (s < e && http1_is_ows(v[s]))
			s++;
		while (e > s && http1_is_ows(v[e - 1]))
			e--;
		if (e > s) {
			*tok = v + s;
			*tok_len = e - s;
			*pos = i;
			return true;
		}
	}
	*pos = i;
	return false;
}

/* RFC 9110 5.6.2 tchar. */
static bool http1_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

static bool http1_is_token(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!http1_is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* A value may hold VCHAR, obs-text, SP and HTAB: no CR, LF, NUL, no other
 * control byte.  CRLF followed by SP or HTAB is an obs-fold, named apart
 * because it is the classic way to hide a header from one parser. */
static enum http1_reason http1_check_value(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = v[i];

		if (c == '\r' && i + 2 < n && v[i + 1] == '\n' &&
		    http1_is_ows(v[i + 2]))
			return HTTP1_R_OBS_FOLD;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return HTTP1_R_BAD_VALUE;
	}
	return HTTP1_R_NONE;
}

/* Content-Length = 1*DIGIT, no sign, no list, below 2^63. */
static bool http1_parse_cl(const char *v, size_t n, uint64_t *out)
{
	uint64_t x = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		if (x > (UINT64_MAX / 2 - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return true;
}

/* Transfer-Encoding elements, across every TE field of the message: the
 * last must be chunked and chunked may appear once (RFC 9112 6.1). */
static enum http1_reason http1_check_te(struct http1 *p, const char *v,
					 size_t n)
{
	size_t pos = 0, tl, k;
	const char *t;
	bool any = false;

	while (http1_list_next(v, n, &pos, &t, &tl)) {
		/* A coding may carry parameters; its name ends at ';'. */
		for (k = 0; k < tl && t[k] != ';'; k++)
			;
		while (k && http1_is_ows(t[k - 1]))
			k--;
		if (!http1_is_token(t, k))
			return HTTP1_R_TE_INVALID;
		any = true;
		p->te_last_chunked = http1_token_eq(t, k, "chunked");
		if (p->te_last_chunked && k != tl)
			return HTTP1_R_TE_INVALID;
		if (p->te_last_chunked && ++p->te_chunked > 1)
			return HTTP1_R_TE_INVALID;
	}
	return any ? HTTP1_R_NONE : HTTP1_R_TE_INVALID;
}

static void http1_conn_tokens(struct http1 *p, const char *v, size_t n)
{
	size_t pos = 0, tl;
	const char *t;

	while (http1_list_next(v, n, &pos, &t, &tl)) {
		if (http1_token_eq(t, tl, "close"))
			p->connection |= HTTP1_CONN_CLOSE;
		else if (http1_token_eq(t, tl, "keep-alive"))
			p->connection |= HTTP1_CONN_KEEP_ALIVE;
		else if (http1_token_eq(t, tl, "upgrade"))
			p->connection |= HTTP1_CONN_UPGRADE;
	}
}

/* One field, name and value whole.  Returns 0 or a llhttp abort. */
static int http1_field(struct http1 *p)
{
	const char *name = p->buf, *v = p->buf + p->name_len;
	size_t nl = p->name_len, vl = p->len - p->name_len;
	bool trailer = p->phase == HTTP1_P_BODY;
	enum http1_reason r;
	int err;

	if (++p->fields > p->lim.header_count_max)
		return http1_fail_cb(p, HTTP1_R_TOO_MANY, -EMSGSIZE);
	if (!http1_is_token(name, nl))
		return http1_fail_cb(p, HTTP1_R_BAD_NAME, -EPROTO);
	/* Check before trimming: OWS is only SP and HTAB, and what llhttp
	 * leaves around a value must not hide a fold or a bare CR. */
	r = http1_check_value(v, vl);
	if (r != HTTP1_R_NONE)
		return http1_fail_cb(p, r, -EPROTO);
	while (vl && http1_is_ows(v[0])) {
		v++;
		vl--;
	}
	while (vl && http1_is_ows(v[vl - 1]))
		vl--;

	if (trailer) {
		/* Framing fields in trailers would come too late to frame
		 * anything; a peer sending one is trying something. */
		if (http1_token_eq(name, nl, "content-length") ||
		    http1_token_eq(name, nl, "transfer-encoding") ||
		    http1_token_eq(name, nl, "host"))
			return http1_fail_cb(p, HTTP1_R_BAD_NAME, -EPROTO);
		err = p->cbs->on_trailer ?
		      p->cbs->on_trailer(p->arg, name, nl, v, vl) : 0;
		goto out;
	}

	/* Most fields are none of those below: their first letter says so
	 * before any comparison of the name.  (OR-ing 0x20 maps no byte of a
	 * token but a letter's two cases to that letter in lower case.) */
	switch (name[0] | 0x20) {
	case 'c': case 'e': case 'h': case 'p': case 't':
		break;
	default:
		goto deliver;
	}
	if (http1_token_eq(name, nl, "host")) {
		if (++p->host_count > 1 && p->kind == HTTP1_REQUEST)
			return http1_fail_cb(p, HTTP1_R_HOST_DUP, -EPROTO);
	} else if (http1_token_eq(name, nl, "content-length")) {
		if (++p->cl_count > 1)
			return http1_fail_cb(p, HTTP1_R_CL_DUP, -EPROTO);
		if (!http1_parse_cl(v, vl, &p->content_length))
			return http1_fail_cb(p, HTTP1_R_CL_INVALID, -EPROTO);
	} else if (http1_token_eq(name, nl, "transfer-encoding")) {
		p->te_count++;
		r = http1_check_te(p, v, vl);
		if (r != HTTP1_R_NONE)
			return http1_fail_cb(p, r, -EPROTO);
	} else if (http1_token_eq(name, nl, "connection") ||
		   http1_token_eq(name, nl, "proxy-connection")) {
		/* Proxy-Connection is not standard but clients and llhttp
		 * honour its close; closing when either says so is safe. */
		http1_conn_tokens(p, v, vl);
	} else if (http1_token_eq(name, nl, "expect")) {
		p->expect_continue = http1_token_eq(v, vl, "100-continue");
	}
deliver:
	err = p->cbs->on_header ? p->cbs->on_header(p->arg, name, nl, v, vl) :
	      0;
out:
	if (err)
		return http1_fail_cb(p, HTTP1_R_CALLBACK, err);
	p->len = 0;
	p->name_len = 0;
	return 0;
}

/* ---- llhttp callbacks --------------------------------------------------- */

static int http1_cb_message_begin(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);

	p->phase = HTTP1_P_HEAD;
	p->len = 0;
	p->name_len = 0;
	p->fields = 0;
	p->start_sent = false;
	p->start_parts[0] = p->start_parts[1] = 0;
	p->in_trailers = false;
	p->trailer_used = 0;
	p->host_count = p->cl_count = p->te_count = p->te_chunked = 0;
	p->te_last_chunked = false;
	p->content_length = 0;
	p->connection = 0;
	p->expect_continue = false;
	return 0;
}

static int http1_cb_span(llhttp_t *ll, const char *at, size_t n)
{
	return http1_append(http1_of(ll), at, n);
}

static int http1_cb_method_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);

	p->start_parts[0] = p->len;
	return 0;
}

static int http1_cb_url_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);

	p->start_parts[1] = p->len;
	return 0;
}

static int http1_deliver_start(struct http1 *p)
{
	struct http1_start sl = {
		.major = p->ll.http_major,
		.minor = p->ll.http_minor,
	};
	int err;

	if (p->kind == HTTP1_REQUEST && !p->start_parts[1])
		p->start_parts[1] = p->len;	/* HTTP/0.9: no version */
	if (p->kind == HTTP1_REQUEST) {
		sl.method = p->buf;
		sl.method_len = p->start_parts[0];
		sl.target = p->buf + p->start_parts[0];
		sl.target_len = p->start_parts[1] - p->start_parts[0];
		/* A target is VCHARs (RFC 9112 3.2); llhttp 8.1 lets raw
		 * UTF-8 through, which upstreams split differently. */
		for (size_t i = 0; i < sl.target_len; i++) {
			unsigned char c = sl.target[i];

			if (c <= 0x20 || c >= 0x7f)
				return http1_fail_cb(p, HTTP1_R_BAD_TARGET,
						     -EPROTO);
		}
	} else {
		sl.status = p->ll.status_code;
		if (sl.status < 100 || sl.status > 999)
			return http1_fail_cb(p, HTTP1_R_BAD_STATUS, -EPROTO);
		sl.reason = p->buf + p->start_parts[0];
		sl.reason_len = p->len - p->start_parts[0];
	}
	err = p->cbs->on_start ? p->cbs->on_start(p->arg, &sl) : 0;
	if (err)
		return http1_fail_cb(p, HTTP1_R_CALLBACK, err);
	p->start_sent = true;
	p->len = 0;
	return 0;
}

static int http1_cb_version_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);

	if (p->kind == HTTP1_REQUEST)
		return http1_deliver_start(p);
	/* A status line goes on with the code and the reason. */
	p->start_parts[0] = p->len;
	return 0;
}

static int http1_cb_status_complete(llhttp_t *ll)
{
	return http1_deliver_start(http1_of(ll));
}

static int http1_cb_header_field(llhttp_t *ll, const char *at, size_t n)
{
	struct http1 *p = http1_of(ll);

	if (p->phase == HTTP1_P_BODY) {
		p->trailer_used += n;
		if (p->trailer_used > p->lim.headers_max)
			return http1_fail_cb(p, HTTP1_R_HEAD_TOO_BIG,
					     -EMSGSIZE);
	} else if (!p->line_done) {
		/* The first name of a head ends its start line. */
		p->line_done = true;
		p->line_len = p->exec_before + (size_t)(at - p->exec_base);
		if (p->line_len > p->lim.line_max)
			return http1_fail_cb(p, HTTP1_R_LINE_TOO_LONG,
					     -EMSGSIZE);
	}
	return http1_append(p, at, n);
}

static int http1_cb_header_value(llhttp_t *ll, const char *at, size_t n)
{
	struct http1 *p = http1_of(ll);
	uint64_t pos = p->stream_off + (uint64_t)(at - p->exec_base);

	/* llhttp hands a value over in one span per piece of input, and in
	 * two when a line fold cuts it: a gap between the spans of one value
	 * is an obs-fold, which strict llhttp 8.1 still takes. */
	if (p->val_spans && pos != p->val_end)
		return http1_fail_cb(p, HTTP1_R_OBS_FOLD, -EPROTO);
	p->val_spans = true;
	p->val_end = pos + n;

	if (p->phase == HTTP1_P_BODY) {
		p->trailer_used += n;
		if (p->trailer_used > p->lim.headers_max)
			return http1_fail_cb(p, HTTP1_R_HEAD_TOO_BIG,
					     -EMSGSIZE);
	}
	return http1_append(p, at, n);
}

static int http1_cb_header_field_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);

	p->name_len = p->len;
	return 0;
}

static int http1_cb_header_value_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);

	p->val_spans = false;
	return http1_field(p);
}

/* The framing rules that need the whole head. */
static enum http1_reason http1_check_head(struct http1 *p)
{
	bool v11 = p->ll.http_major > 1 ||
		   (p->ll.http_major == 1 && p->ll.http_minor >= 1);

	if (p->kind == HTTP1_REQUEST && v11 && p->lim.require_host &&
	    !p->host_count)
		return HTTP1_R_HOST_MISSING;
	if (!p->te_count)
		return HTTP1_R_NONE;
	/* HTTP/1.0 has no chunked coding: a 1.0 hop could read the body
	 * another way than we do (RFC 9112 6.1). */
	if (!v11)
		return HTTP1_R_TE_HTTP10;
	if (p->cl_count)
		return HTTP1_R_TE_AND_CL;
	if (!p->te_last_chunked)
		return HTTP1_R_TE_NOT_CHUNKED;
	return HTTP1_R_NONE;
}

static enum http1_body http1_body_of(struct http1 *p)
{
	int st = p->ll.status_code;

	if (p->kind == HTTP1_RESPONSE &&
	    (st / 100 == 1 || st == 204 || st == 304 || p->skip_body))
		return HTTP1_BODY_NONE;
	if (p->ll.upgrade && (p->ll.method == HTTP_CONNECT ||
			      p->kind == HTTP1_RESPONSE))
		return HTTP1_BODY_NONE;
	if (p->te_count)
		return HTTP1_BODY_CHUNKED;
	if (p->cl_count)
		return HTTP1_BODY_LENGTH;
	return p->kind == HTTP1_REQUEST ? HTTP1_BODY_NONE :
	       HTTP1_BODY_UNTIL_CLOSE;
}

/* Persistence from the tokens we read ourselves (RFC 9112 9.3): llhttp
 * 8.1 misses "close" followed by HTAB. */
static bool http1_keep_alive(const struct http1 *p,
			     const struct http1_head *h)
{
	bool v11 = h->major > 1 || (h->major == 1 && h->minor >= 1);

	if (h->upgrade || h->body == HTTP1_BODY_UNTIL_CLOSE ||
	    (p->connection & HTTP1_CONN_CLOSE))
		return false;
	return v11 || (p->connection & HTTP1_CONN_KEEP_ALIVE);
}

static int http1_cb_headers_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);
	struct http1_head h = { 0 };
	enum http1_reason r;
	int err;

	if (p->phase == HTTP1_P_BODY)
		return 0;	/* the end of trailers */
	if (!p->start_sent && http1_deliver_start(p))
		return HPE_USER;
	r = http1_check_head(p);
	if (r != HTTP1_R_NONE)
		return http1_fail_cb(p, r, -EPROTO);
	h.body = http1_body_of(p);
	/* Same effect as returning 1, but we pause here.  1xx, 204 and 304
	 * have no body whatever their headers say (RFC 9112 6.3), which
	 * llhttp 8.1 forgets when they carry a length. */
	if (p->kind == HTTP1_RESPONSE && h.body == HTTP1_BODY_NONE)
		ll->flags |= F_SKIPBODY;
	h.content_length = h.body == HTTP1_BODY_LENGTH ? p->content_length :
			   0;
	h.major = ll->http_major;
	h.minor = ll->http_minor;
	h.method = ll->method;
	h.status = ll->status_code;
	h.connection = p->connection;
	h.upgrade = ll->upgrade;
	h.keep_alive = http1_keep_alive(p, &h);
	p->keep_alive = h.keep_alive;
	h.expect_continue = p->expect_continue;
	p->phase = HTTP1_P_BODY;
	p->head_pending = true;
	err = p->cbs->on_head ? p->cbs->on_head(p->arg, &h) : 0;
	if (err < 0)
		return http1_fail_cb(p, HTTP1_R_CALLBACK, err);
	p->stop = err == HTTP1_STOP;
	return HPE_PAUSED;
}

static int http1_cb_body(llhttp_t *ll, const char *at, size_t n)
{
	struct http1 *p = http1_of(ll);
	int err;

	err = p->cbs->on_body ? p->cbs->on_body(p->arg, at, n) : 0;
	return err ? http1_fail_cb(p, HTTP1_R_CALLBACK, err) : 0;
}

static int http1_cb_message_complete(llhttp_t *ll)
{
	struct http1 *p = http1_of(ll);
	int err;

	err = p->cbs->on_end ? p->cbs->on_end(p->arg) : 0;
	if (err < 0)
		return http1_fail_cb(p, HTTP1_R_CALLBACK, err);
	p->stop = err == HTTP1_STOP;
	p->skip_body = false;
	p->head_used = 0;
	p->line_len = 0;
	p->line_done = false;
	if (ll->upgrade) {
		/* llhttp stops right after with HPE_PAUSED_UPGRADE. */
		p->stop = false;
		p->phase = HTTP1_P_UPGRADED;
		return 0;
	}
	p->phase = p->keep_alive ? HTTP1_P_IDLE : HTTP1_P_CLOSED;
	return HPE_PAUSED;
}

int http1_init(struct http1 *p, enum http1_kind kind,
	       const struct http1_limits *lim, const struct http1_cbs *cbs,
	       void *arg)
{
	static const struct http1_cbs none;

	memset(p, 0, sizeof(*p));
	llhttp_settings_init(&p->settings);
	p->settings.on_message_begin = http1_cb_message_begin;
	p->settings.on_method = http1_cb_span;
	p->settings.on_url = http1_cb_span;
	p->settings.on_version = http1_cb_span;
	p->settings.on_status = http1_cb_span;
	p->settings.on_method_complete = http1_cb_method_complete;
	p->settings.on_url_complete = http1_cb_url_complete;
	p->settings.on_version_complete = http1_cb_version_complete;
	p->settings.on_status_complete = http1_cb_status_complete;
	p->settings.on_header_field = http1_cb_header_field;
	p->settings.on_header_value = http1_cb_header_value;
	p->settings.on_header_field_complete = http1_cb_header_field_complete;
	p->settings.on_header_value_complete = http1_cb_header_value_complete;
	p->settings.on_headers_complete = http1_cb_headers_complete;
	p->settings.on_body = http1_cb_body;
	p->settings.on_message_complete = http1_cb_message_complete;
	llhttp_init(&p->ll, kind == HTTP1_REQUEST ? HTTP_REQUEST :
			    HTTP_RESPONSE, &p->settings);
	/* Strict: llhttp_init leaves every lenient flag off, and we never
	 * call llhttp_set_lenient_*(). */
	p->ll.data = p;
	p->kind = kind;
	p->cbs = cbs ? cbs : &none;
	p->arg = arg;
	if (lim)
		p->lim = *lim;
	else
		http1_limits_default(&p->lim);
	p->phase = HTTP1_P_IDLE;
	return 0;
}

void http1_fini(struct http1 *p)
{
	free(p->buf), p->buf = NULL;
	p->cap = p->len = 0;
}

void http1_expect_head_response(struct http1 *p)
{
	p->skip_body = true;
}

/* Names what llhttp refused, for logs and for the tests. */
static enum http1_reason http1_map_llhttp(const llhttp_t *ll)
{
	const char *why = ll->reason ? ll->reason : "";

	switch (ll->error) {
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return strstr(why, "Duplicate") ? HTTP1_R_CL_DUP :
		       HTTP1_R_TE_AND_CL;
	case HPE_INVALID_CONTENT_LENGTH:
		return strstr(why, "Transfer-Encoding") ? HTTP1_R_TE_AND_CL :
		       HTTP1_R_CL_INVALID;
	case HPE_INVALID_TRANSFER_ENCODING:
		return strstr(why, "Content-Length") ? HTTP1_R_TE_AND_CL :
		       HTTP1_R_TE_NOT_CHUNKED;
	case HPE_INVALID_CHUNK_SIZE:
		return HTTP1_R_CHUNK_SIZE;
	case HPE_CLOSED_CONNECTION:
		return HTTP1_R_AFTER_CLOSE;
	case HPE_PAUSED_H2_UPGRADE:
		return HTTP1_R_H2_PREFACE;
	case HPE_INVALID_HEADER_TOKEN:
		return strstr(why, "value") ? HTTP1_R_BAD_VALUE :
		       HTTP1_R_BAD_NAME;
	default:
		return HTTP1_R_SYNTAX;
	}
}

static int http1_fail(struct http1 *p, enum http1_reason r, int err)
{
	http1_fail_cb(p, r, err);
	p->phase = HTTP1_P_FAILED;
	return p->err;
}

/* The head budget left: the start line's until it is done, then the
 * header section's. */
static size_t http1_head_left(const struct http1 *p)
{
	size_t budget = p->line_done ?
			p->line_len + p->lim.headers_max : p->lim.line_max;

	return budget > p->head_used ? budget - p->head_used : 0;
}

static int http1_check_limits(struct http1 *p)
{
	if (!p->line_done && p->head_used > p->lim.line_max) {
		/* A head without fields ends in CRLF CRLF; only the first
		 * CRLF belongs to the line. */
		if (!p->head_pending || p->head_used > p->lim.line_max + 2)
			return http1_fail(p, HTTP1_R_LINE_TOO_LONG,
					  -EMSGSIZE);
	}
	if (p->line_done &&
	    p->head_used - p->line_len > p->lim.headers_max)
		return http1_fail(p, HTTP1_R_HEAD_TOO_BIG, -EMSGSIZE);
	return 0;
}

/* How many bytes of s can go to llhttp before a CR that is not followed
 * by LF (n when none).  A CR at the end is carried to the next piece:
 * *tail_cr says so, and the caller keeps it only if llhttp takes the
 * piece whole (a pause at a message's end leaves the rest unread). */
static size_t http1_bare_cr(struct http1 *p, const char *s, size_t n,
			    bool *tail_cr)
{
	size_t i = 0;

	*tail_cr = false;
	if (p->head_cr) {
		if (s[0] != '\n')
			return 0;
		p->head_cr = false;
		i = 1;
	}
	/* memchr(): the bytes scanned may run on into a body. */
	while (i < n) {
		const char *cr = memchr(s + i, '\r', n - i);

		if (!cr)
			break;
		i = (size_t)(cr - s);
		if (i + 1 == n) {
			*tail_cr = true;
			break;
		}
		if (s[i + 1] != '\n')
			return i;
		i += 2;
	}
	return n;
}

int http1_feed(struct http1 *p, const char *data, size_t len)
{
	size_t off = 0, n, used;
	llhttp_errno_t e;
	bool in_head, resumed = false, tail_cr = false;
	int err;

	if (p->phase == HTTP1_P_FAILED)
		return p->err;
	if (p->phase == HTTP1_P_UPGRADED)
		return 0;
	if (p->phase == HTTP1_P_CLOSED && len)
		return http1_fail(p, HTTP1_R_AFTER_CLOSE, -EPIPE);

	/* After a pause llhttp still owes the steps that need no byte (the
	 * end of a bodiless message, the stop at an upgrade, the state that
	 * makes a close safe): one more call with what is left, maybe
	 * nothing. */
	/* Stopped at a head last time: what llhttp owes after it is done
	 * now. */
	resumed = p->owed;
	p->owed = false;
	while (off < len || resumed) {
		resumed = false;
		tail_cr = false;
		n = len - off;
		in_head = p->phase == HTTP1_P_IDLE ||
			  p->phase == HTTP1_P_HEAD;
		/* Never hand llhttp more of a head than the limit allows.
		 * A start line gets one byte more: its end shows only at
		 * the first byte of a field.  The header section gets not
		 * one: that byte could end the head and report it. */
		if (in_head && !p->line_done && n > http1_head_left(p) + 1)
			n = http1_head_left(p) + 1;
		if (in_head && p->line_done) {
			if (!http1_head_left(p))
				return http1_fail(p, HTTP1_R_HEAD_TOO_BIG,
						  -EMSGSIZE);
			if (n > http1_head_left(p))
				n = http1_head_left(p);
		}
		if (in_head && n) {
			/* A CR in a head must start CRLF; llhttp 8.1 takes a
			 * bare one at the end of a line.  Stop llhttp before
			 * the offending byte; it is refused on the next turn
			 * if the head is still going on there. */
			size_t k = http1_bare_cr(p, data + off, n, &tail_cr);

			if (k == 0)
				return http1_fail(p, HTTP1_R_BARE_CR, -EPROTO);
			n = k;
		}
		p->exec_base = data + off;
		p->exec_before = p->head_used;
		p->stream_off = p->stream_base + off;
		e = llhttp_execute(&p->ll, data + off, n);
		used = e == HPE_OK ? n :
		       (size_t)(llhttp_get_error_pos(&p->ll) - (data + off));
		if (tail_cr && used == n)
			p->head_cr = true;
		if (p->reason != HTTP1_R_NONE)
			return http1_fail(p, p->reason, p->err);
		if (in_head && p->phase != HTTP1_P_IDLE) {
			p->head_used += used;
			err = http1_check_limits(p);
			if (err)
				return err;
		}
		off += used;
		switch (e) {
		case HPE_OK:
			break;
		case HPE_PAUSED:
			llhttp_resume(&p->ll);
			resumed = true;
			if (p->head_pending) {
				p->head_pending = false;
				p->line_done = true;
			}
			if (p->stop) {
				/* The caller takes one message at a time, or
				 * holds this one after its head: the rest
				 * waits for the next feed. */
				p->stop = false;
				p->owed = p->phase == HTTP1_P_BODY;
				p->stream_base += off;
				return (int)off;
			}
			break;
		case HPE_PAUSED_UPGRADE:
			p->phase = HTTP1_P_UPGRADED;
			p->stream_base += off;
			return (int)off;
		default:
			return http1_fail(p, http1_map_llhttp(&p->ll),
					  e == HPE_CLOSED_CONNECTION ?
					  -EPIPE : -EPROTO);
		}
		if (p->phase == HTTP1_P_CLOSED && off < len)
			return http1_fail(p, HTTP1_R_AFTER_CLOSE, -EPIPE);
	}
	p->stream_base += off;
	return (int)off;
}

int http1_finish(struct http1 *p)
{
	llhttp_errno_t e;

	if (p->phase == HTTP1_P_FAILED)
		return p->err;
	if (p->phase == HTTP1_P_UPGRADED || p->phase == HTTP1_P_CLOSED)
		return 0;
	e = llhttp_finish(&p->ll);
	if (p->reason != HTTP1_R_NONE)
		return http1_fail(p, p->reason, p->err);
	if (e == HPE_PAUSED) {
		llhttp_resume(&p->ll);
		e = HPE_OK;
	}
	if (e != HPE_OK)
		return http1_fail(p, HTTP1_R_TRUNCATED, -EPROTO);
	p->phase = HTTP1_P_CLOSED;
	return 0;
}

int http1_status(const struct http1 *p)
{
	if (p->kind == HTTP1_RESPONSE)
		return 502;
	switch (p->reason) {
	case HTTP1_R_LINE_TOO_LONG:
		return 414;
	case HTTP1_R_HEAD_TOO_BIG:
	case HTTP1_R_TOO_MANY:
		return 431;
	default:
		return 400;
	}
}

enum http1_reason http1_reason(const struct http1 *p)
{
	return p->reason;
}

const char *http1_reason_str(enum http1_reason r)
{
	switch (r) {
	case HTTP1_R_NONE: return "none";
	case HTTP1_R_SYNTAX: return "syntax";
	case HTTP1_R_TE_AND_CL: return "transfer-encoding-and-content-length";
	case HTTP1_R_CL_DUP: return "content-length-duplicate";
	case HTTP1_R_CL_INVALID: return "content-length-invalid";
	case HTTP1_R_TE_NOT_CHUNKED: return "transfer-encoding-not-chunked";
	case HTTP1_R_TE_HTTP10: return "transfer-encoding-in-http10";
	case HTTP1_R_TE_INVALID: return "transfer-encoding-invalid";
	case HTTP1_R_OBS_FOLD: return "obs-fold";
	case HTTP1_R_BAD_NAME: return "bad-header-name";
	case HTTP1_R_BAD_VALUE: return "bad-header-value";
	case HTTP1_R_HOST_MISSING: return "host-missing";
	case HTTP1_R_HOST_DUP: return "host-duplicate";
	case HTTP1_R_CHUNK_SIZE: return "chunk-size";
	case HTTP1_R_LINE_TOO_LONG: return "line-too-long";
	case HTTP1_R_HEAD_TOO_BIG: return "headers-too-big";
	case HTTP1_R_TOO_MANY: return "too-many-headers";
	case HTTP1_R_AFTER_CLOSE: return "data-after-close";
	case HTTP1_R_H2_PREFACE: return "http2-preface";
	case HTTP1_R_CALLBACK: return "callback";
	case HTTP1_R_TRUNCATED: return "truncated";
	case HTTP1_R_BARE_CR: return "bare-cr";
	case HTTP1_R_BAD_TARGET: return "bad-target";
	case HTTP1_R_BAD_STATUS: return "bad-status";
	}
	return "?";
}

const char *http1_phase_str(enum http1_phase ph)
{
	switch (ph) {
	case HTTP1_P_IDLE: return "idle";
	case HTTP1_P_HEAD: return "head";
	case HTTP1_P_BODY: return "body";
	case HTTP1_P_UPGRADED: return "upgraded";
	case HTTP1_P_CLOSED: return "closed";
	case HTTP1_P_FAILED: return "failed";
	}
	return "?";
}

const char *http1_body_str(enum http1_body b)
{
	switch (b) {
	case HTTP1_BODY_NONE: return "none";
	case HTTP1_BODY_LENGTH: return "content-length";
	case HTTP1_BODY_CHUNKED: return "chunked";
	case HTTP1_BODY_UNTIL_CLOSE: return "until-close";
	}
	return "?";
}
