// SPDX-License-Identifier: Apache-2.0
/*
 * The access log line (see accesslog.h), written through the JSON
 * emitter into a buffer of its own, then out in one write.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accesslog.h"
#include "emit.h"

/* Each field is cut at ALOG_FIELD_MAX bytes (emit_strn(): still valid
 * JSON), which escaped take at most six times as many; the line has room
 * for every field at that worst. */
#define ALOG_FIELD_MAX	2048
#define ALOG_LINE_MAX	(12 * 6 * ALOG_FIELD_MAX)

struct alog_buf {
	char b[ALOG_LINE_MAX];
	size_t n;
	bool full;
};

static void alog_put(void *arg, const char *p, size_t n)
{
	struct alog_buf *a = arg;

	if (a->full || a->n + n > sizeof(a->b) - 1) {
		a->full = true;
		return;
	}
	memcpy(a->b + a->n, p, n);
	a->n += n;
}

static void alog_field(struct emit *e, const char *key, struct alog_str s)
{
	if (!s.p)
		return;
	emit_key(e, key);
	emit_strn(e, s.p, s.n < ALOG_FIELD_MAX ? s.n : ALOG_FIELD_MAX);
}

void alog_write(const struct alog_entry *x)
{
	static struct alog_buf a;	/* the loop thread's only */
	char when[40], num[32];
	struct timespec ts;
	struct tm tm;
	struct emit e;

	a.n = 0;
	a.full = false;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, 24, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%03ldZ",
		 ts.tv_nsec / 1000000);
	emit_init(&e, EMIT_JSON, alog_put, &a);
	emit_map_begin(&e);
	alog_field(&e, "time", alog_cstr(when));
	alog_field(&e, "level", alog_cstr("info"));
	alog_field(&e, "event", alog_cstr("http_access"));
	alog_field(&e, "request_id", x->request_id);
	alog_field(&e, "src_identity", x->src_identity);
	alog_field(&e, "dst_identity", x->dst_identity);
	alog_field(&e, "method", x->method);
	alog_field(&e, "authority", x->authority);
	alog_field(&e, "path", x->path);
	alog_field(&e, "route", x->route);
	alog_field(&e, "upstream", x->upstream);
	emit_key(&e, "status");
	emit_uint(&e, (uint64_t)(x->status > 0 ? x->status : 0));
	if (x->local) {
		emit_key(&e, "local");
		emit_bool(&e, true);
	}
	emit_key(&e, "bytes_in");
	emit_uint(&e, x->bytes_in);
	emit_key(&e, "bytes_out");
	emit_uint(&e, x->bytes_out);
	snprintf(num, sizeof(num), "%.3f", x->seconds * 1000.0);
	emit_key(&e, "duration_ms");
	emit_num(&e, num);
	emit_map_end(&e);
	if (a.full)
		return;	/* cannot be, with the bounds above: never half a line */
	a.b[a.n++] = '\n';
	/* One write per line: lines never interleave. */
	(void)!write(STDERR_FILENO, a.b, a.n);
}
