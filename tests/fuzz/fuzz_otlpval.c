// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: an OTLP value in the form a policy record pools it
 * (lib/policy/otlpval.h), which the agent and mfctl read back from the
 * maps.  On any input the check keeps its contract (0 or -EINVAL); what
 * it accepts is written as YAML and as JSON, and read value by value and
 * written again, is accepted again with as many values; and the agent
 * packs it as an OTLP log record's body (agent/otlp_logs.c), which
 * protobuf-c reads back.  The same input as a free-form JSON value
 * (which may hold nulls) keeps the same contract, is written whole as
 * YAML and JSON, and copied is accepted again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/otlp_logs.h"
#include "emit.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "policy/otlpval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_discard(void *arg, const char *buf, size_t n)
{
	(void)arg;
	(void)buf;
	(void)n;
}

/* The value at @c written again into @o, value by value. */
static void fz_copy(struct otlpv_cur *c, struct otlpv_out *o)
{
	struct otlpv_val v;
	const char *k;
	size_t klen;

	if (otlpv_next(c, &v))
		abort();	/* checked whole before */
	switch (v.type) {
	case OTLPV_STRING:
	case OTLPV_BYTES:
		otlpv_put_text(o, v.type, v.s, v.len);
		return;
	case OTLPV_BOOL:
		otlpv_put_bool(o, v.b);
		return;
	case OTLPV_INT:
		otlpv_put_int(o, v.i);
		return;
	case OTLPV_DOUBLE:
		otlpv_put_double(o, v.d);
		return;
	case OTLPV_NULL:
		otlpv_put_null(o);
		return;
	case OTLPV_ARRAY:
	case OTLPV_KVLIST:
		otlpv_put_list(o, v.type, v.count);
		for (size_t i = 0; i < v.count; i++) {
			if (v.type == OTLPV_KVLIST) {
				if (otlpv_next_key(c, &k, &klen))
					abort();
				otlpv_put_key(o, k, klen);
			}
			fz_copy(c, o);
		}
		return;
	}
	abort();
}

/* @s (@size bytes) as a JSON value: the copy of one is one again. */
static void fz_json(const char *s, size_t size)
{
	struct otlpv_cur c = { s, size, 0 };
	struct otlpv_out o;
	struct emit e;
	int err = otlpv_check_json(s, size);

	if (err && err != -EINVAL)
		abort();
	if (err)
		return;
	/* Written whole: every container closed, every key one emit
	 * takes. */
	emit_init(&e, EMIT_YAML, fz_discard, NULL);
	otlpv_emit_json(&e, s, size);
	if (e.err || e.depth)
		abort();
	emit_init(&e, EMIT_JSON, fz_discard, NULL);
	otlpv_emit_json(&e, s, size);
	if (e.err || e.depth)
		abort();
	o = (struct otlpv_out){ malloc(2 * size + 64), 2 * size + 64, 0,
				false };
	if (!o.p)
		return;
	fz_copy(&c, &o);
	if (o.over || otlpv_check_json(o.p, o.at))
		abort();
	free(o.p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	size_t nodes, again;
	struct otlpv_cur c = { s, size, 0 };
	struct otlp_log r = { .time_ns = 1 };
	struct otlpv_out o;
	struct emit e;
	uint8_t *buf;
	char *copy;
	size_t len;
	int err = otlpv_check(s, size, &nodes);

	if (err && err != -EINVAL)
		abort();
	fz_json(s, size);
	if (err)
		return 0;
	if (!nodes || nodes > OTLPV_NODES_MAX)
		abort();
	emit_init(&e, EMIT_YAML, fz_discard, NULL);
	otlpv_emit(&e, s, size);
	emit_init(&e, EMIT_JSON, fz_discard, NULL);
	otlpv_emit(&e, s, size);
	/* Numbers may be written shorter ("i007;"), so the size may
	 * change; the values may not. */
	o = (struct otlpv_out){ malloc(2 * size + 64), 2 * size + 64, 0,
				false };
	if (!o.p)
		return 0;
	fz_copy(&c, &o);
	if (o.over || otlpv_check(o.p, o.at, &again) || again != nodes)
		abort();
	free(o.p);
	/* The agent's queue holds it NUL-terminated. */
	if (memchr(s, '\0', size))
		return 0;
	copy = strndup(s, size);
	if (!copy)
		return 0;
	r.body = copy;
	if (otlp_logs_pack(&r, 1, &buf, &len) == 0) {
		Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest *q =
			opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(
				NULL, len - COLLECTOR_HEAD, buf + COLLECTOR_HEAD);

		if (!q)
			abort();
		opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(
			q, NULL);
		free(buf);
	}
	free(copy);
	return 0;
}
