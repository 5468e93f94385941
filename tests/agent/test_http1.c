// SPDX-License-Identifier: Apache-2.0
/*
 * agent/http1: the llhttp conformance corpus and the proxy's own framing
 * rules.
 *
 * Corpus: every vector of the *.md files in $MF_HTTP1_CORPUS/request and
 * .../response (default ../shared/corpus/http1/llhttp, beside the
 * repository), read at run time, fed whole and byte by byte; without it
 * the corpus case skips.  A strict
 * vector must be accepted or rejected as its log says and, when accepted,
 * frame as logged: method, target, version, status, fields, body bytes,
 * Content-Length or chunked, keep-alive, upgrade.  A lenient-* vector must
 * be rejected.  The corpus is llhttp 9.4.2 and Debian ships 8.1; a vector
 * on which the two differ, or on which the proxy's rules are stricter than
 * llhttp, is named in http1_exceptions[] with why.  The corpus has no Host
 * in most HTTP/1.1 requests (it tests framing), so the corpus parsers run
 * with require_host off; the Host rule has its own cases below.
 */
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>

#include "harness/test.h"
#include "../../agent/http1.h"

/* ---- recording what the parser reports --------------------------------- */

#define REC_MAX_MSG	8
#define REC_MAX_HDR	64
#define REC_STR		2048

struct rec_msg {
	char method[64], target[REC_STR], reason[256];
	int status;
	int major, minor;
	int nhdr;
	char name[REC_MAX_HDR][128];
	char value[REC_MAX_HDR][REC_STR];
	bool have_head;
	struct http1_head head;
	uint64_t body_len;
	char body[256];
	bool ended;
};

struct rec {
	int n;			/* messages begun */
	struct rec_msg m[REC_MAX_MSG];
	int ntrailer;
	bool overflow;
};

static struct rec_msg *rec_cur(struct rec *r)
{
	return r->n ? &r->m[r->n - 1] : NULL;
}

static void copy_span(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static int rec_start(void *arg, const struct http1_start *sl)
{
	struct rec *r = arg;
	struct rec_msg *m;

	if (r->n == REC_MAX_MSG) {
		r->overflow = true;
		return -ENOSPC;
	}
	m = &r->m[r->n++];
	memset(m, 0, sizeof(*m));
	copy_span(m->method, sizeof(m->method), sl->method ? sl->method : "",
		  sl->method_len);
	copy_span(m->target, sizeof(m->target), sl->target ? sl->target : "",
		  sl->target_len);
	copy_span(m->reason, sizeof(m->reason), sl->reason ? sl->reason : "",
		  sl->reason_len);
	m->status = sl->status;
	m->major = sl->major;
	m->minor = sl->minor;
	return 0;
}

static int rec_header(void *arg, const char *n, size_t nl, const char *v,
		      size_t vl)
{
	struct rec_msg *m = rec_cur(arg);

	if (!m || m->nhdr == REC_MAX_HDR)
		return -ENOSPC;
	copy_span(m->name[m->nhdr], sizeof(m->name[0]), n, nl);
	copy_span(m->value[m->nhdr], sizeof(m->value[0]), v, vl);
	m->nhdr++;
	return 0;
}

static int rec_head(void *arg, const struct http1_head *h)
{
	struct rec_msg *m = rec_cur(arg);

	if (!m)
		return -EINVAL;
	m->have_head = true;
	m->head = *h;
	return 0;
}

static int rec_body(void *arg, const char *p, size_t n)
{
	struct rec_msg *m = rec_cur(arg);

	if (!m)
		return -EINVAL;
	for (size_t i = 0; i < n && m->body_len + i < sizeof(m->body) - 1;
	     i++)
		m->body[m->body_len + i] = p[i];
	m->body_len += n;
	return 0;
}

static int rec_trailer(void *arg, const char *n, size_t nl, const char *v,
		       size_t vl)
{
	struct rec *r = arg;

	(void)n, (void)nl, (void)v, (void)vl;
	r->ntrailer++;
	return 0;
}

static int rec_end(void *arg)
{
	struct rec_msg *m = rec_cur(arg);

	if (!m)
		return -EINVAL;
	m->ended = true;
	return 0;
}

static const struct http1_cbs rec_cbs = {
	.on_start = rec_start,
	.on_header = rec_header,
	.on_head = rec_head,
	.on_body = rec_body,
	.on_trailer = rec_trailer,
	.on_end = rec_end,
};

/*
 * Feeds msg to a fresh parser whole (step 0) or in pieces of step bytes,
 * records into r and returns the first error, 0, or with finish the result
 * of http1_finish().  *p is left for the caller to inspect and fini.
 */
static int feed(struct http1 *p, enum http1_kind kind,
		const struct http1_limits *lim, const char *msg, size_t len,
		size_t step, bool finish, bool head_resp, struct rec *r)
{
	size_t off = 0, n;
	int ret;

	memset(r, 0, sizeof(*r));
	http1_init(p, kind, lim, &rec_cbs, r);
	if (head_resp)
		http1_expect_head_response(p);
	while (off < len) {
		n = step && len - off > step ? step : len - off;
		ret = http1_feed(p, msg + off, n);
		if (ret < 0)
			return ret;
		if (p->phase == HTTP1_P_UPGRADED)
			return 0;
		if ((size_t)ret != n)
			return -EFAULT;	/* the contract says all of it */
		off += n;
	}
	return finish ? http1_finish(p) : 0;
}

/* ---- holding a message after its head ------------------------------------ */

static int stop_head(void *arg, const struct http1_head *h)
{
	int err = rec_head(arg, h);

	return err ? err : HTTP1_STOP;
}

static const struct http1_cbs stop_cbs = {
	.on_start = rec_start,
	.on_header = rec_header,
	.on_head = stop_head,
	.on_body = rec_body,
	.on_trailer = rec_trailer,
	.on_end = rec_end,
};

/* on_head's HTTP1_STOP: the feed returns right after the head, the body
 * unread; the next feed goes on from there, and a feed of no bytes ends a
 * bodiless message whose end llhttp owed. */
static bool test_stop_at_head(void)
{
	static const char post[] = "POST /a HTTP/1.1\r\nHost: h\r\n"
				   "Content-Length: 5\r\n\r\nhello";
	static const char get[] = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	size_t head = sizeof(post) - 1 - 5;
	struct http1 p;
	struct rec r;
	int n;
	bool ok;

	memset(&r, 0, sizeof(r));
	http1_init(&p, HTTP1_REQUEST, NULL, &stop_cbs, &r);
	n = http1_feed(&p, post, sizeof(post) - 1);
	ok = ASSERT_EQ(n, (int)head) && ASSERT_EQ(r.n, 1) &&
	     ASSERT_TRUE(r.m[0].have_head) && ASSERT_EQ(r.m[0].body_len, 0) &&
	     ASSERT_FALSE(r.m[0].ended);
	n = ok ? http1_feed(&p, post + head, 5) : -1;
	ok = ok && ASSERT_EQ(n, 5) && ASSERT_EQ(r.m[0].body_len, 5) &&
	     ASSERT_MEMEQ(r.m[0].body, "hello", 5) && ASSERT_TRUE(r.m[0].ended);
	http1_fini(&p);

	memset(&r, 0, sizeof(r));
	http1_init(&p, HTTP1_REQUEST, NULL, &stop_cbs, &r);
	n = http1_feed(&p, get, sizeof(get) - 1);
	ok = ok && ASSERT_EQ(n, (int)sizeof(get) - 1) &&
	     ASSERT_FALSE(r.m[0].ended);
	n = ok ? http1_feed(&p, "", 0) : -1;
	ok = ok && ASSERT_EQ(n, 0) && ASSERT_TRUE(r.m[0].ended) &&
	     ASSERT_EQ(p.phase, HTTP1_P_IDLE);
	http1_fini(&p);
	return ok;
}

/* ---- the corpus --------------------------------------------------------- */

struct exc {
	const char *file;	/* "request/invalid.md" */
	const char *title;	/* the vector's heading */
	const char *why;
};

/*
 * Vectors whose outcome here differs from the corpus, one by one.  Each
 * says whether the cause is llhttp 8.1 (Debian) against 9.4.2 (corpus) or a
 * rule of the proxy that is deliberately stricter than llhttp.
 */
#define V81 "llhttp 8.1: "
#define PROXY "proxy rule: "
static const struct exc http1_exceptions[] = {
	{ "request/content-length.md", "Tabs in `Content-Length` (surrounding)",
	  V81 "HTAB around a Content-Length value is refused (9.x takes it "
	  "as OWS); refusing is the safe side" },
	{ "response/content-length.md",
	  "Tabs in `Content-Length` (surrounding)",
	  V81 "as for the request vector of the same name" },
	{ "request/method.md", "QUERY request",
	  V81 "no QUERY method (added in 9.x)" },
	{ "request/transfer-encoding.md", "Chunk extensions",
	  V81 "refuses this chunk-extension syntax that 9.x accepts" },
	{ "request/transfer-encoding.md", "Chunk extensions quoting",
	  V81 "no quoted chunk-extension values" },
	{ "response/sample.md", "RTSP response",
	  V81 "HTTP only, no RTSP/ status line (added in 9.x)" },
	{ "response/sample.md", "ICE response",
	  V81 "HTTP only, no ICE/ status line (added in 9.x)" },
	{ "request/content-length.md",
	  "Content-Length reset when no body is received",
	  "runner mode: skipBody makes llhttp's runner skip every body; "
	  "a proxy never skips a request body" },
	{ "response/content-length.md",
	  "Content-Length reset when no body is received",
	  "runner mode: skipBody skips every body of the stream; the "
	  "proxy skips one response per HEAD request it sent" },
	{ "response/transfer-encoding.md", "`chunked` before other transfer-encoding",
	  PROXY "a response whose last coding is not chunked gets 502 "
	  "(llhttp reads it until close)" },
	{ "response/transfer-encoding.md",
	  "multiple transfer-encoding where chunked is not the last one",
	  PROXY "as above: last coding not chunked" },
	{ "response/transfer-encoding.md",
	  "`chunkedchunked` transfer-encoding does not enable chunked enconding",
	  PROXY "as above: the only coding is not chunked" },
	{ NULL, NULL, NULL },
};

static const char *exc_find(const char *file, const char *title)
{
	for (const struct exc *e = http1_exceptions; e->file; e++)
		if (!strcmp(e->file, file) && !strcmp(e->title, title))
			return e->why;
	return NULL;
}

/* What a log says about one message. */
struct want_msg {
	char method[64], target[REC_STR], version[16];
	int status;
	int nhdr;
	char name[REC_MAX_HDR][128];
	char value[REC_MAX_HDR][REC_STR];
	bool have_head;
	unsigned int flags;
	uint64_t content_length;
	uint64_t body_len;
	bool ended;
};

struct want {
	int n;
	struct want_msg m[REC_MAX_MSG];
	int error;		/* llhttp code, 0 when none */
	bool overflow;
};

/* llhttp's flag bits, as its logs print them (hex). */
#define LF_KEEP_ALIVE	0x1
#define LF_CLOSE	0x2
#define LF_CHUNKED	0x8
#define LF_CONTENT_LEN	0x20

struct vec {
	char file[64];
	char title[256];
	char type[64];
	bool skip_body;
	char *raw;
	size_t raw_len;
	char *log;
};

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The raw message of a ```http block, as llhttp's own test runner reads
 * it: lines joined with CRLF, "\" at a line's end joins the next line, then
 * the escapes \r \n \t \xNN.
 */
static void decode_raw(const char *src, struct vec *v)
{
	size_t n = strlen(src), o = 0;
	char *out = malloc(2 * n + 1);

	for (size_t i = 0; i < n; i++) {
		if (src[i] == '\\' && src[i + 1] == '\n') {
			i++;
			continue;
		}
		if (src[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			continue;
		}
		if (src[i] == '\\' && src[i + 1] && strchr("rntf", src[i + 1])) {
			out[o++] = src[i + 1] == 'r' ? '\r' :
				   src[i + 1] == 'n' ? '\n' :
				   src[i + 1] == 't' ? '\t' : '\f';
			i++;
			continue;
		}
		if (src[i] == '\\' && src[i + 1] == 'x' &&
		    hexval(src[i + 2]) >= 0 && hexval(src[i + 3]) >= 0) {
			unsigned int c = hexval(src[i + 2]) * 16 +
					 hexval(src[i + 3]);

			/* llhttp's runner makes a character of it and sends
			 * it UTF-8 encoded; the logs count those bytes. */
			if (c < 0x80) {
				out[o++] = (char)c;
			} else {
				out[o++] = (char)(0xc0 | c >> 6);
				out[o++] = (char)(0x80 | (c & 0x3f));
			}
			i += 3;
			continue;
		}
		out[o++] = src[i];
	}
	v->raw = out;
	v->raw_len = o;
}

static void trim_ows(char *s)
{
	size_t n = strlen(s), b = 0;

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	while (b < n && (s[b] == ' ' || s[b] == '\t'))
		b++;
	memmove(s, s + b, n - b);
	s[n - b] = '\0';
}

static void append_raw(char *dst, size_t cap, const struct vec *v,
		       size_t off, size_t len)
{
	size_t have = strlen(dst);

	if (off > v->raw_len || len > v->raw_len - off)
		return;
	if (have + len >= cap)
		len = cap - 1 - have;
	memcpy(dst + have, v->raw + off, len);
	dst[have + len] = '\0';
}

/* Reads a log: spans are taken from the raw bytes by off and len, so
 * nothing depends on how the log quotes them. */
static void parse_log(const struct vec *v, struct want *w)
{
	char *save = NULL, *copy = strdup(v->log);
	struct want_msg *m = NULL;
	bool in_value = false, in_name = false;

	memset(w, 0, sizeof(*w));
	for (char *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		unsigned long off, len;
		char kind[64];
		const char *s;

		if (sscanf(l, "off=%lu len=%lu span[%63[^]]]", &off, &len,
			   kind) == 3) {
			if (!m)
				continue;
			if (!strcmp(kind, "method"))
				append_raw(m->method, sizeof(m->method), v,
					   off, len);
			else if (!strcmp(kind, "url"))
				append_raw(m->target, sizeof(m->target), v,
					   off, len);
			else if (!strcmp(kind, "version"))
				append_raw(m->version, sizeof(m->version), v,
					   off, len);
			else if (!strcmp(kind, "body"))
				m->body_len += len;
			else if (!strcmp(kind, "header_field") &&
				 !m->have_head) {
				if (!in_name) {
					if (m->nhdr == REC_MAX_HDR) {
						w->overflow = true;
						continue;
					}
					m->name[m->nhdr][0] = '\0';
					m->value[m->nhdr][0] = '\0';
					m->nhdr++;
					in_name = true;
				}
				append_raw(m->name[m->nhdr - 1],
					   sizeof(m->name[0]), v, off, len);
			} else if (!strcmp(kind, "header_value") &&
				   !m->have_head && m->nhdr) {
				in_value = true;
				append_raw(m->value[m->nhdr - 1],
					   sizeof(m->value[0]), v, off, len);
			}
			continue;
		}
		s = strchr(l, ' ');
		if (!s)
			continue;
		s++;
		if (!strncmp(s, "message begin", 13)) {
			if (w->n == REC_MAX_MSG) {
				w->overflow = true;
				break;
			}
			m = &w->m[w->n++];
			in_name = in_value = false;
		} else if (m && !strncmp(s, "header_field complete", 21)) {
			in_name = false;
		} else if (m && !strncmp(s, "header_value complete", 21)) {
			if (in_value && m->nhdr)
				trim_ows(m->value[m->nhdr - 1]);
			in_value = false;
		} else if (m && !strncmp(s, "headers complete", 16)) {
			const char *f = strstr(s, "flags="),
				   *cl = strstr(s, "content_length="),
				   *st = strstr(s, "status=");

			m->have_head = true;
			m->flags = f ? strtoul(f + 6, NULL, 16) : 0;
			m->content_length = cl ? strtoull(cl + 15, NULL, 10) :
					    0;
			m->status = st ? atoi(st + 7) : 0;
		} else if (m && !strncmp(s, "message complete", 16)) {
			m->ended = true;
		} else if (!strncmp(s, "error code=", 11)) {
			w->error = atoi(s + 11);
		}
	}
	free(copy);
}

static bool is_lenient(const struct vec *v)
{
	return strstr(v->type, "lenient") != NULL;
}

/* Why r does not frame message i as w says, or NULL. */
static const char *compare_msg(const struct vec *v, const struct want_msg *w,
			       const struct rec_msg *r, bool upgrade_end,
			       bool last)
{
	bool finish = strstr(v->type, "-finish") != NULL;
	static char why[512];
	char ver[16];
	bool v11, chunked, cl, want_ka, needs_eof;
	enum http1_body want_body;

	if (!w->have_head)
		return NULL;	/* the log stops inside the head */
	if (!r->have_head)
		return "head not reported";
	snprintf(ver, sizeof(ver), "%d.%d", r->major, r->minor);
	if (v->type[2] == 'q' && (strcmp(w->method, r->method) ||
				  strcmp(w->target, r->target)))
		return "method or target";
	if (w->version[0] && strcmp(w->version, ver))
		return "version";
	if (v->type[2] == 's' && w->status != r->status)
		return "status";
	if (w->nhdr != r->nhdr)
		return "number of header fields";
	for (int i = 0; i < w->nhdr; i++) {
		if (strcmp(w->name[i], r->name[i]) ||
		    strcmp(w->value[i], r->value[i])) {
			snprintf(why, sizeof(why),
				 "field %d: want '%s: %s' got '%s: %s'", i,
				 w->name[i], w->value[i], r->name[i],
				 r->value[i]);
			return why;
		}
	}
	chunked = w->flags & LF_CHUNKED;
	cl = w->flags & LF_CONTENT_LEN;
	if (v->type[2] == 's' && (r->status / 100 == 1 || r->status == 204 ||
				  r->status == 304 || v->skip_body))
		want_body = HTTP1_BODY_NONE;
	else if (chunked)
		want_body = HTTP1_BODY_CHUNKED;
	else if (cl)
		want_body = HTTP1_BODY_LENGTH;
	else
		want_body = v->type[2] == 'q' ? HTTP1_BODY_NONE :
			    HTTP1_BODY_UNTIL_CLOSE;
	/* CONNECT and a 101 end the message at the head. */
	if (upgrade_end && last && (v->type[2] == 's' ||
				    !strcmp(w->method, "CONNECT")))
		want_body = HTTP1_BODY_NONE;
	if (r->head.body != want_body) {
		snprintf(why, sizeof(why), "framing %s, corpus %s",
			 http1_body_str(r->head.body),
			 http1_body_str(want_body));
		return why;
	}
	if (want_body == HTTP1_BODY_LENGTH &&
	    r->head.content_length != w->content_length)
		return "content-length";
	/* A finish log stops before the close ends the message. */
	if (w->ended != r->ended && !(finish && last && r->ended))
		return "message end";
	if (w->body_len != r->body_len)
		return "body length";
	if (upgrade_end && last) {
		if (!r->head.upgrade)
			return "upgrade not reported";
		return NULL;
	}
	v11 = !strcmp(ver, "1.1") || r->major > 1;
	needs_eof = v->type[2] == 's' && !chunked && !cl &&
		    !(r->status / 100 == 1 || r->status == 204 ||
		      r->status == 304 || v->skip_body);
	want_ka = (v11 ? !(w->flags & LF_CLOSE) : !!(w->flags & LF_KEEP_ALIVE))
		  && !needs_eof;
	if (want_ka != r->head.keep_alive)
		return "keep-alive";
	return NULL;
}

/* Runs one vector fed in pieces of step bytes; NULL when it behaves as
 * the corpus says, else why not. */
static const char *run_vec(const struct vec *v, size_t step)
{
	static char why[600];
	struct http1_limits lim;
	struct http1 p;
	struct rec *r = calloc(1, sizeof(*r));
	struct want *w = calloc(1, sizeof(*w));
	bool finish = strstr(v->type, "-finish") != NULL;
	bool upgrade_end;
	const char *res = NULL;
	int ret;

	http1_limits_default(&lim);
	lim.require_host = false;
	parse_log(v, w);
	ret = feed(&p, v->type[2] == 'q' ? HTTP1_REQUEST : HTTP1_RESPONSE,
		   &lim, v->raw, v->raw_len, step, finish, v->skip_body, r);
	if (w->overflow || r->overflow) {
		res = "vector too big for the runner";
		goto out;
	}
	if (is_lenient(v)) {
		if (ret >= 0)
			res = "lenient vector accepted";
		goto out;
	}
	/* A finish log stops before llhttp_finish(): the title says if the
	 * close is safe there. */
	if (finish && !!strstr(v->title, "unsafe") != (ret < 0)) {
		res = ret < 0 ? "close refused" : "unsafe close accepted";
		goto out;
	}
	if (finish && ret < 0)
		goto out;
	upgrade_end = w->error == HPE_PAUSED_UPGRADE;
	if (w->error && !upgrade_end) {
		if (ret >= 0) {
			snprintf(why, sizeof(why),
				 "accepted, corpus rejects with code %d",
				 w->error);
			res = why;
		}
		goto out;
	}
	if (ret < 0) {
		snprintf(why, sizeof(why), "rejected (%d, %s, llhttp: %s)",
			 ret, http1_reason_str(http1_reason(&p)),
			 p.ll.reason ? p.ll.reason : "-");
		res = why;
		goto out;
	}
	if (upgrade_end && p.phase != HTTP1_P_UPGRADED) {
		res = "did not stop at the upgrade";
		goto out;
	}
	if (w->n != r->n && !(w->n == r->n + 1 && !w->m[w->n - 1].have_head)) {
		snprintf(why, sizeof(why), "%d messages, corpus %d", r->n,
			 w->n);
		res = why;
		goto out;
	}
	for (int i = 0; i < r->n && !res; i++) {
		res = compare_msg(v, &w->m[i], &r->m[i], upgrade_end,
				  i == r->n - 1);
		if (res) {
			snprintf(why, sizeof(why), "message %d: %s", i, res);
			res = why;
		}
	}
out:
	http1_fini(&p);
	free(r);
	free(w);
	return res;
}

struct corpus_stats {
	int run, passed, excepted, failed, unused_exc;
};

/* Runs every vector of one file. */
static void corpus_file(const char *dir, const char *sub, const char *name,
			struct corpus_stats *st)
{
	char path[1024], line[8192], title[256] = "";
	FILE *f;
	struct vec v;
	enum { OUT, WANT_HTTP, IN_HTTP, WANT_LOG, IN_LOG } s = OUT;
	char *http = NULL, *log = NULL;
	size_t hl = 0, ll = 0;

	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		st->failed++;
		return;
	}
	memset(&v, 0, sizeof(v));
	while (fgets(line, sizeof(line), f)) {
		if (s == OUT && line[0] == '#' && strchr(line, ' ')) {
			snprintf(title, sizeof(title), "%s",
				 strchr(line, ' ') + 1);
			title[strcspn(title, "\n")] = '\0';
		} else if (s == OUT && strstr(line, "<!-- meta=")) {
			const char *t = strstr(line, "\"type\"");

			memset(&v, 0, sizeof(v));
			snprintf(v.file, sizeof(v.file), "%s/%s", sub, name);
			snprintf(v.title, sizeof(v.title), "%s", title);
			if (t && (t = strchr(t + 6, '"')))
				sscanf(t + 1, "%63[^\"]", v.type);
			v.skip_body = strstr(line, "\"skipBody\": true");
			s = WANT_HTTP;
		} else if (s == WANT_HTTP && !strncmp(line, "```http", 7)) {
			s = IN_HTTP;
			hl = 0;
			http = realloc(http, 1);
			http[0] = '\0';
		} else if (s == IN_HTTP && !strncmp(line, "```", 3)) {
			/* The block's text ends before its last newline. */
			if (hl && http[hl - 1] == '\n')
				http[--hl] = '\0';
			s = WANT_LOG;
		} else if (s == IN_HTTP) {
			size_t n = strlen(line);

			http = realloc(http, hl + n + 1);
			memcpy(http + hl, line, n + 1);
			hl += n;
		} else if (s == WANT_LOG && !strncmp(line, "```log", 6)) {
			s = IN_LOG;
			ll = 0;
			log = realloc(log, 1);
			log[0] = '\0';
		} else if (s == IN_LOG && !strncmp(line, "```", 3)) {
			const char *why, *exc;
			bool bad = false;

			decode_raw(http, &v);
			v.log = log;
			st->run++;
			exc = exc_find(v.file, v.title);
			why = run_vec(&v, 0);
			if (!why)
				why = run_vec(&v, 1);
			if (why && exc) {
				st->excepted++;
			} else if (why) {
				fprintf(stderr, "corpus %s \"%s\" (%s): %s\n",
					v.file, v.title, v.type, why);
				bad = true;
			} else if (exc) {
				fprintf(stderr, "corpus %s \"%s\": listed as "
					"an exception but passes\n", v.file,
					v.title);
				bad = true;
				st->unused_exc++;
			} else {
				st->passed++;
			}
			if (bad)
				st->failed++;
			free(v.raw), v.raw = NULL;
			s = OUT;
		} else if (s == IN_LOG) {
			size_t n = strlen(line);

			log = realloc(log, ll + n + 1);
			memcpy(log + ll, line, n + 1);
			ll += n;
		}
	}
	free(http);
	free(log);
	fclose(f);
}

static const char *corpus_dir(void)
{
	static const char *const tries[] = {
		"../shared/corpus/http1/llhttp",
	};
	const char *env = getenv("MF_HTTP1_CORPUS");
	struct stat sb;

	if (env)
		return env;
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++)
		if (!stat(tries[i], &sb) && S_ISDIR(sb.st_mode))
			return tries[i];
	return NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool corpus_run(const char *sub)
{
	static char skip[1300];
	const char *dir = corpus_dir();
	struct corpus_stats st = { 0 };
	char path[1024], *names[64];
	int nn = 0;
	struct dirent *de;
	DIR *d;

	if (!dir)
		TEST_SKIP("llhttp corpus not found (set MF_HTTP1_CORPUS)");
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	d = opendir(path);
	if (!d) {
		snprintf(skip, sizeof(skip), "%s: %s", path, strerror(errno));
		TEST_SKIP(skip);
	}
	while ((de = readdir(d)) && nn < 64) {
		size_t l = strlen(de->d_name);

		if (l > 3 && !strcmp(de->d_name + l - 3, ".md"))
			names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp_str);
	for (int i = 0; i < nn; i++) {
		corpus_file(dir, sub, names[i], &st);
		free(names[i]);
	}
	fprintf(stderr, "corpus %s: %d vectors, %d passed, %d excepted, "
		"%d failed\n", sub, st.run, st.passed, st.excepted, st.failed);
	return ASSERT_TRUE(st.run > 0) && ASSERT_EQ(st.failed, 0);
}

static bool test_corpus_request(void)
{
	return corpus_run("request");
}

static bool test_corpus_response(void)
{
	return corpus_run("response");
}

/* ---- the proxy's own rules ---------------------------------------------- */

/* Feeds msg whole and byte by byte; both must fail with err and reason. */
static bool refuses(enum http1_kind kind, const struct http1_limits *lim,
		    const char *msg, int err, enum http1_reason why)
{
	static const size_t steps[] = { 0, 1 };
	struct rec *r = calloc(1, sizeof(*r));
	bool ok = true;

	for (size_t i = 0; ok && i < 2; i++) {
		struct http1 p;
		int ret = feed(&p, kind, lim, msg, strlen(msg), steps[i],
			       false, false, r);

		if (!ASSERT_EQ(ret, err) ||
		    !ASSERT_STREQ(http1_reason_str(http1_reason(&p)),
				  http1_reason_str(why)) ||
		    !ASSERT_EQ(http1_status(&p),
			       kind == HTTP1_RESPONSE ? 502 :
			       why == HTTP1_R_LINE_TOO_LONG ? 414 :
			       why == HTTP1_R_HEAD_TOO_BIG ||
			       why == HTTP1_R_TOO_MANY ? 431 : 400)) {
			fprintf(stderr, "  step %zu, message: %s\n", steps[i],
				msg);
			ok = false;
		}
		/* A head refused by a head rule never reaches the proxy as
		 * a complete head (body rules fire after it, of course). */
		if (ok && r->n && why != HTTP1_R_AFTER_CLOSE &&
		    why != HTTP1_R_CHUNK_SIZE &&
		    !ASSERT_FALSE(r->m[r->n - 1].have_head))
			ok = false;
		http1_fini(&p);
	}
	free(r);
	return ok;
}

#define REQ_REFUSED(msg, why) \
	refuses(HTTP1_REQUEST, NULL, msg, -EPROTO, why)
#define RESP_REFUSED(msg, why) \
	refuses(HTTP1_RESPONSE, NULL, msg, -EPROTO, why)

static bool test_te_and_cl(void)
{
	return REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: chunked\r\n"
			   "Content-Length: 3\r\n\r\n0\r\n\r\n",
			   HTTP1_R_TE_AND_CL) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length: 3\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			   HTTP1_R_TE_AND_CL) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			    HTTP1_R_TE_AND_CL);
}

static bool test_content_length_dup_invalid(void)
{
	return REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length: 3\r\nContent-Length: 3\r\n\r\n"
			   "abc", HTTP1_R_CL_DUP) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length: 3, 3\r\n\r\nabc",
			   HTTP1_R_CL_INVALID) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length: +3\r\n\r\nabc",
			   HTTP1_R_CL_INVALID) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length: 99999999999999999999999\r\n\r\n",
			   HTTP1_R_CL_INVALID) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
			    "Content-Length: 2\r\n\r\nab", HTTP1_R_CL_DUP);
}

static bool test_te_last_not_chunked(void)
{
	return REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: chunked, gzip\r\n\r\n",
			   HTTP1_R_TE_NOT_CHUNKED) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: chunked\r\n"
			   "Transfer-Encoding: identity\r\n\r\n",
			   HTTP1_R_TE_NOT_CHUNKED) &&
	       /* chunked twice: llhttp refuses it first, as a request
		* whose Transfer-Encoding does not end in one chunked. */
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: chunked, chunked\r\n\r\n",
			   HTTP1_R_TE_NOT_CHUNKED) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\n"
			    "Transfer-Encoding: gzip\r\n\r\nxyz",
			    HTTP1_R_TE_NOT_CHUNKED);
}

static bool test_te_in_http10(void)
{
	return REQ_REFUSED("POST / HTTP/1.0\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			   HTTP1_R_TE_HTTP10) &&
	       RESP_REFUSED("HTTP/1.0 200 OK\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
			    HTTP1_R_TE_HTTP10);
}

static bool test_obs_fold(void)
{
	return REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\nX-A: one\r\n"
			   " two\r\n\r\n", HTTP1_R_OBS_FOLD) &&
	       REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: gzip,\r\n\tchunked\r\n\r\n",
			   HTTP1_R_OBS_FOLD) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\n"
			    "Content-Length: 0\r\n\r\n", HTTP1_R_OBS_FOLD);
}

static bool test_control_chars(void)
{
	/* A NUL cannot sit in a C string literal's middle: feed() takes
	 * strlen, so the NUL case goes through its own buffer. */
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX-A: a\0b\r\n\r\n";
	struct http1 p;
	struct rec *r = calloc(1, sizeof(*r));
	bool ok;

	ok = ASSERT_EQ(feed(&p, HTTP1_REQUEST, NULL, nul, sizeof(nul) - 1, 0,
			    false, false, r), -EPROTO) &&
	     ASSERT_TRUE(http1_reason(&p) == HTTP1_R_BAD_VALUE ||
			 http1_reason(&p) == HTTP1_R_SYNTAX);
	http1_fini(&p);
	free(r);
	return ok &&
	       REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n",
			   HTTP1_R_BARE_CR) &&
	       REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x01" "b\r\n\r\n",
			   HTTP1_R_BAD_VALUE) &&
	       REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\nX-A: a\x7f" "b\r\n\r\n",
			   HTTP1_R_BAD_VALUE) &&
	       REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\nX\x01" "A: b\r\n\r\n",
			   HTTP1_R_BAD_NAME) &&
	       REQ_REFUSED("GET / HTTP/1.1\rHost: a\r\n\r\n",
			   HTTP1_R_BARE_CR) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\nX-A: a\x0b" "b\r\n\r\n",
			    HTTP1_R_BAD_VALUE);
}

static bool test_space_before_colon(void)
{
	return REQ_REFUSED("GET / HTTP/1.1\r\nHost : a\r\n\r\n",
			   HTTP1_R_BAD_NAME) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Content-Length\t: 3\r\n\r\nabc", HTTP1_R_BAD_NAME) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\nabc",
			    HTTP1_R_BAD_NAME);
}

static bool test_host_missing_dup(void)
{
	struct http1 p;
	struct rec *r = calloc(1, sizeof(*r));
	bool ok;

	ok = REQ_REFUSED("GET / HTTP/1.1\r\n\r\n", HTTP1_R_HOST_MISSING) &&
	     REQ_REFUSED("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
			 HTTP1_R_HOST_DUP) &&
	     REQ_REFUSED("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
			 HTTP1_R_HOST_DUP);
	/* HTTP/1.0 may leave Host out. */
	ok = ok && ASSERT_EQ(feed(&p, HTTP1_REQUEST, NULL,
				  "GET / HTTP/1.0\r\n\r\n", 18, 0, false,
				  false, r), 0) &&
	     ASSERT_EQ(r->n, 1) && ASSERT_TRUE(r->m[0].ended) &&
	     ASSERT_FALSE(r->m[0].head.keep_alive);
	http1_fini(&p);
	free(r);
	return ok;
}

/* The fields http1 acts on are known in any case (it tells most others
 * apart by their first letter first), and a name that only starts like
 * one is not that one. */
static bool test_field_names_any_case(void)
{
	struct http1 p;
	struct rec *r = calloc(1, sizeof(*r));
	static const char ok_req[] =
		"POST / HTTP/1.1\r\nX-Host: a\r\nhOST: b\r\n"
		"Hosts: c\r\neXPECT: 100-continue\r\n"
		"content-LENGTH: 2\r\nPROXY-connection: close\r\n\r\nab";
	bool ok;

	ok = REQ_REFUSED("GET / HTTP/1.1\r\nHOST: a\r\nhost: b\r\n\r\n",
			 HTTP1_R_HOST_DUP) &&
	     REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			 "CONTENT-LENGTH: 1\r\ncontent-length: 1\r\n\r\na",
			 HTTP1_R_CL_DUP) &&
	     REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			 "TRANSFER-ENCODING: gzip\r\n\r\n",
			 HTTP1_R_TE_NOT_CHUNKED);
	ok = ok && ASSERT_TRUE(r != NULL) &&
	     ASSERT_EQ(feed(&p, HTTP1_REQUEST, NULL, ok_req,
			    sizeof(ok_req) - 1, 0, false, false, r), 0) &&
	     ASSERT_EQ(r->n, 1) && ASSERT_TRUE(r->m[0].have_head) &&
	     ASSERT_TRUE(r->m[0].head.expect_continue) &&
	     ASSERT_FALSE(r->m[0].head.keep_alive) &&
	     ASSERT_EQ(r->m[0].body_len, 2) && ASSERT_TRUE(r->m[0].ended);
	http1_fini(&p);
	free(r);
	return ok;
}

static bool test_chunk_size_overflow(void)
{
	return REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n"
			   "10000000000000000\r\n", HTTP1_R_CHUNK_SIZE) &&
	       REQ_REFUSED("POST / HTTP/1.1\r\nHost: a\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n"
			   "-1\r\n", HTTP1_R_CHUNK_SIZE) &&
	       RESP_REFUSED("HTTP/1.1 200 OK\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n"
			    "fffffffffffffffff\r\n", HTTP1_R_CHUNK_SIZE);
}

/* A head exactly at a limit passes; one byte more is refused, as the
 * bytes arrive. */
static bool test_limits(void)
{
	struct http1_limits lim;
	char msg[512], name[32];
	struct http1 p;
	struct rec *r = calloc(1, sizeof(*r));
	size_t n;
	bool ok;

	http1_limits_default(&lim);
	ok = ASSERT_EQ(lim.line_max, 8192) &&
	     ASSERT_EQ(lim.headers_max, 65536) &&
	     ASSERT_EQ(lim.header_count_max, 100);
	lim.line_max = 32;
	lim.headers_max = 64;
	lim.header_count_max = 3;
	/* "GET /<pad> HTTP/1.1\r\n" is 32 bytes with a 17-byte target. */
	ok = ok && ASSERT_EQ(feed(&p, HTTP1_REQUEST, &lim,
			       "GET /aaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
			       43, 1, false, false, r), 0);
	http1_fini(&p);
	ok = ok && refuses(HTTP1_REQUEST, &lim,
			   "GET /aaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
			   -EMSGSIZE, HTTP1_R_LINE_TOO_LONG);
	/* A line that never ends is refused after line_max + 1 bytes. */
	memset(msg, 'a', sizeof(msg));
	memcpy(msg, "GET /", 5);
	ok = ok && ASSERT_EQ(feed(&p, HTTP1_REQUEST, &lim, msg, sizeof(msg),
				  0, false, false, r), -EMSGSIZE) &&
	     ASSERT_EQ(p.head_used, 33);
	http1_fini(&p);
	/* Header section (after the line, with the last CRLF): 64 bytes
	 * pass, 65 do not.  16 bytes are not the value. */
	n = (size_t)snprintf(msg, sizeof(msg),
			     "GET / HTTP/1.1\r\nHost: a\r\nX: %.*s\r\n\r\n",
			     64 - 16, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	ok = ok && ASSERT_EQ(feed(&p, HTTP1_REQUEST, &lim, msg, n, 1, false,
				  false, r), 0) && ASSERT_EQ(r->n, 1);
	http1_fini(&p);
	snprintf(msg, sizeof(msg),
		 "GET / HTTP/1.1\r\nHost: a\r\nX: %.*s\r\n\r\n",
		 64 - 16 + 1, "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	ok = ok && refuses(HTTP1_REQUEST, &lim, msg, -EMSGSIZE,
			   HTTP1_R_HEAD_TOO_BIG);
	/* Count: Host and three more are four fields, one over three. */
	strcpy(msg, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "X%d: y\r\n", i);
		strcat(msg, name);
	}
	strcat(msg, "\r\n");
	ok = ok && refuses(HTTP1_REQUEST, &lim, msg, -EMSGSIZE,
			   HTTP1_R_TOO_MANY);
	free(r);
	return ok;
}

/* What the proxy builds on: framing, keep-alive, Connection tokens, body
 * streamed, pipelining and an upgrade, byte by byte and whole. */
static bool test_framing_and_pipelining(void)
{
	static const char msg[] =
		"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
		"POST /b HTTP/1.1\r\nHost: h\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"2\r\nde\r\n1;x=y\r\nf\r\n0\r\nT: v\r\n\r\n"
		"GET /c HTTP/1.1\r\nHost: h\r\n"
		"Connection: Upgrade, close\r\nUpgrade: websocket\r\n\r\n"
		"tunnel";
	struct rec *r = calloc(1, sizeof(*r));
	bool ok = true;

	for (size_t step = 0; ok && step < 2; step++) {
		struct http1 p;

		ok = ASSERT_EQ(feed(&p, HTTP1_REQUEST, NULL, msg,
				    sizeof(msg) - 1, step, false, false, r),
			       0) &&
		     ASSERT_EQ(p.phase, HTTP1_P_UPGRADED) &&
		     ASSERT_EQ(r->n, 3) &&
		     ASSERT_STREQ(r->m[0].method, "POST") &&
		     ASSERT_STREQ(r->m[0].target, "/a") &&
		     ASSERT_EQ(r->m[0].head.body, HTTP1_BODY_LENGTH) &&
		     ASSERT_EQ(r->m[0].head.content_length, 3) &&
		     ASSERT_TRUE(r->m[0].head.keep_alive) &&
		     ASSERT_STREQ(r->m[0].body, "abc") &&
		     ASSERT_TRUE(r->m[0].ended) &&
		     ASSERT_EQ(r->m[1].head.body, HTTP1_BODY_CHUNKED) &&
		     ASSERT_STREQ(r->m[1].body, "def") &&
		     ASSERT_EQ(r->ntrailer, 1) &&
		     ASSERT_TRUE(r->m[1].ended) &&
		     ASSERT_STREQ(r->m[2].target, "/c") &&
		     ASSERT_TRUE(r->m[2].head.upgrade) &&
		     ASSERT_EQ(r->m[2].head.connection,
			       HTTP1_CONN_UPGRADE | HTTP1_CONN_CLOSE) &&
		     ASSERT_FALSE(r->m[2].head.keep_alive);
		http1_fini(&p);
	}
	free(r);
	return ok;
}

static bool test_response_framing(void)
{
	struct rec *r = calloc(1, sizeof(*r));
	struct http1 p;
	bool ok;

	/* A response to HEAD has no body whatever it says. */
	ok = ASSERT_EQ(feed(&p, HTTP1_RESPONSE, NULL,
			    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
			    38, 1, false, true, r), 0) &&
	     ASSERT_EQ(r->m[0].head.body, HTTP1_BODY_NONE) &&
	     ASSERT_TRUE(r->m[0].ended);
	http1_fini(&p);
	/* No length: until close, then the close ends it. */
	ok = ok && ASSERT_EQ(feed(&p, HTTP1_RESPONSE, NULL,
				  "HTTP/1.1 200 OK\r\n\r\nxyz", 22, 1, true,
				  false, r), 0) &&
	     ASSERT_EQ(r->m[0].head.body, HTTP1_BODY_UNTIL_CLOSE) &&
	     ASSERT_FALSE(r->m[0].head.keep_alive) &&
	     ASSERT_EQ(r->m[0].body_len, 3) && ASSERT_TRUE(r->m[0].ended);
	http1_fini(&p);
	/* A close inside a length-delimited body is a truncation. */
	ok = ok && ASSERT_EQ(feed(&p, HTTP1_RESPONSE, NULL,
				  "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
				  40, 0, true, false, r), -EPROTO) &&
	     ASSERT_EQ(http1_reason(&p), HTTP1_R_TRUNCATED) &&
	     ASSERT_EQ(http1_status(&p), 502);
	http1_fini(&p);
	/* Bytes after a message that closes are refused. */
	ok = ok && refuses(HTTP1_REQUEST, NULL,
			   "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n"
			   "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", -EPIPE,
			   HTTP1_R_AFTER_CLOSE);
	free(r);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_stop_at_head);
	TEST_RUN(test_corpus_request);
	TEST_RUN(test_corpus_response);
	TEST_RUN(test_te_and_cl);
	TEST_RUN(test_content_length_dup_invalid);
	TEST_RUN(test_te_last_not_chunked);
	TEST_RUN(test_te_in_http10);
	TEST_RUN(test_obs_fold);
	TEST_RUN(test_control_chars);
	TEST_RUN(test_space_before_colon);
	TEST_RUN(test_host_missing_dup);
	TEST_RUN(test_field_names_any_case);
	TEST_RUN(test_chunk_size_overflow);
	TEST_RUN(test_limits);
	TEST_RUN(test_framing_and_pipelining);
	TEST_RUN(test_response_framing);
	TEST_MAIN_END();
}
