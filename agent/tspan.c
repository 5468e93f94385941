// SPDX-License-Identifier: Apache-2.0
/*
 * A span as Zipkin v2 JSON (tspan.h), through the emitter into a fixed
 * buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "emit.h"
#include "tspan.h"

const char *tspan_kind_str(enum tspan_kind k)
{
	return k == TSPAN_SERVER ? "SERVER" : "CLIENT";
}

void tspan_hex64(uint64_t v, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 0xf];
	out[16] = '\0';
}

bool tspan_tag(struct tspan *s, const char *key, const char *value,
	       size_t len)
{
	if (s->ntags == TSPAN_TAGS_MAX)
		return false;
	s->tags[s->ntags++] = (struct tspan_tag){ key, value, len };
	return true;
}

/* The emitter's sink: a fixed buffer that says when it ran out. */
struct tspan_out {
	char *p;
	size_t len, cap;
	bool full;
};

static void tspan_write(void *arg, const char *buf, size_t n)
{
	struct tspan_out *o = arg;

	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, buf, n);
	o->len += n;
}

static void tspan_endpoint(struct emit *e, const char *key,
			   const struct tspan_endpoint *ep)
{
	char ip[INET_ADDRSTRLEN];

	if (!ep->service && !ep->ipv4)
		return;
	emit_key(e, key);
	emit_map_begin(e);
	if (ep->service) {
		emit_key(e, "serviceName");
		emit_str(e, ep->service);
	}
	if (ep->ipv4 && inet_ntop(AF_INET, &ep->ipv4, ip, sizeof(ip))) {
		emit_key(e, "ipv4");
		emit_str(e, ip);
	}
	if (ep->port) {
		emit_key(e, "port");
		emit_uint(e, ep->port);
	}
	emit_map_end(e);
}

/* The trace id as written: 16 or 32 digits (@wide: always 32), into @out
 * (33 bytes). */
static void tspan_trace_hex(const struct tspan *s, bool wide, char *out)
{
	if (s->trace_128 || wide) {
		tspan_hex64(s->trace_hi, out);
		tspan_hex64(s->trace_lo, out + 16);
	} else {
		tspan_hex64(s->trace_lo, out);
	}
}

int tspan_json(const struct tspan *s, char *buf, size_t cap)
{
	struct tspan_out o = { .p = buf, .cap = cap };
	char id[33];
	struct emit e;

	if (!cap)
		return -ENOSPC;
	emit_init(&e, EMIT_JSON, tspan_write, &o);
	emit_map_begin(&e);
	emit_key(&e, "traceId");
	tspan_trace_hex(s, false, id);
	emit_str(&e, id);
	emit_key(&e, "id");
	tspan_hex64(s->id, id);
	emit_str(&e, id);
	if (s->parent) {
		emit_key(&e, "parentId");
		tspan_hex64(s->parent, id);
		emit_str(&e, id);
	}
	emit_key(&e, "kind");
	emit_str(&e, tspan_kind_str(s->kind));
	if (s->name) {
		emit_key(&e, "name");
		emit_str(&e, s->name);
	}
	emit_key(&e, "timestamp");
	emit_uint(&e, s->timestamp_us);
	emit_key(&e, "duration");
	emit_uint(&e, s->duration_us);
	if (s->shared) {
		emit_key(&e, "shared");
		emit_bool(&e, true);
	}
	tspan_endpoint(&e, "localEndpoint", &s->local);
	tspan_endpoint(&e, "remoteEndpoint", &s->remote);
	if (s->ntags) {
		emit_key(&e, "tags");
		emit_map_begin(&e);
		for (size_t i = 0; i < s->ntags; i++) {
			emit_key(&e, s->tags[i].key);
			emit_strn(&e, s->tags[i].value, s->tags[i].len);
		}
		emit_map_end(&e);
	}
	emit_map_end(&e);
	if (o.full || e.err)
		return -ENOSPC;
	buf[o.len] = '\0';
	return (int)o.len;
}

/* An OTLP attribute {"key": @key, "value": {"stringValue": @n bytes at
 * @v}}. */
static void tspan_otlp_attr(struct emit *e, const char *key, const char *v,
			    size_t n)
{
	emit_map_begin(e);
	emit_key(e, "key");
	emit_str(e, key);
	emit_key(e, "value");
	emit_map_begin(e);
	emit_key(e, "stringValue");
	emit_strn(e, v, n);
	emit_map_end(e);
	emit_map_end(e);
}

/* The address of endpoint @ep as attributes @ip_key and @port_key. */
static void tspan_otlp_endpoint(struct emit *e, const struct tspan_endpoint *ep,
				const char *ip_key, const char *port_key)
{
	char ip[INET_ADDRSTRLEN], port[8];

	if (ep->ipv4 && inet_ntop(AF_INET, &ep->ipv4, ip, sizeof(ip)))
		tspan_otlp_attr(e, ip_key, ip, strlen(ip));
	if (ep->port) {
		snprintf(port, sizeof(port), "%u", (unsigned)ep->port);
		tspan_otlp_attr(e, port_key, port, strlen(port));
	}
}

/* A time in ns as proto3 JSON writes a 64-bit integer: a decimal
 * string. */
static void tspan_otlp_ns(struct emit *e, const char *key, uint64_t us)
{
	char ns[24];

	snprintf(ns, sizeof(ns), "%" PRIu64 "000", us);
	emit_key(e, key);
	emit_str(e, ns);
}

int tspan_otlp_json(const struct tspan *s, char *buf, size_t cap)
{
	struct tspan_out o = { .p = buf, .cap = cap };
	bool error = false;
	char id[33];
	struct emit e;

	if (!cap)
		return -ENOSPC;
	emit_init(&e, EMIT_JSON, tspan_write, &o);
	emit_map_begin(&e);
	emit_key(&e, "resource");
	emit_map_begin(&e);
	emit_key(&e, "attributes");
	emit_list_begin(&e);
	if (s->local.service)
		tspan_otlp_attr(&e, "service.name", s->local.service,
				strlen(s->local.service));
	emit_list_end(&e);
	emit_map_end(&e);
	emit_key(&e, "scopeSpans");
	emit_list_begin(&e);
	emit_map_begin(&e);
	emit_key(&e, "scope");
	emit_map_begin(&e);
	emit_key(&e, "name");
	emit_str(&e, "meshforge");
	emit_map_end(&e);
	emit_key(&e, "spans");
	emit_list_begin(&e);
	emit_map_begin(&e);
	emit_key(&e, "traceId");
	tspan_trace_hex(s, true, id);
	emit_str(&e, id);
	emit_key(&e, "spanId");
	tspan_hex64(s->id, id);
	emit_str(&e, id);
	if (s->parent) {
		emit_key(&e, "parentSpanId");
		tspan_hex64(s->parent, id);
		emit_str(&e, id);
	}
	if (s->name) {
		emit_key(&e, "name");
		emit_str(&e, s->name);
	}
	/* SpanKind: SERVER 2, CLIENT 3. */
	emit_key(&e, "kind");
	emit_uint(&e, s->kind == TSPAN_SERVER ? 2 : 3);
	tspan_otlp_ns(&e, "startTimeUnixNano", s->timestamp_us);
	tspan_otlp_ns(&e, "endTimeUnixNano", s->timestamp_us + s->duration_us);
	emit_key(&e, "attributes");
	emit_list_begin(&e);
	for (size_t i = 0; i < s->ntags; i++) {
		tspan_otlp_attr(&e, s->tags[i].key, s->tags[i].value,
				s->tags[i].len);
		error |= !strcmp(s->tags[i].key, "error");
	}
	tspan_otlp_endpoint(&e, &s->remote, "net.peer.ip", "net.peer.port");
	if (s->remote.service)
		tspan_otlp_attr(&e, "peer.service", s->remote.service,
				strlen(s->remote.service));
	emit_list_end(&e);
	if (error) {
		/* STATUS_CODE_ERROR */
		emit_key(&e, "status");
		emit_map_begin(&e);
		emit_key(&e, "code");
		emit_uint(&e, 2);
		emit_map_end(&e);
	}
	emit_map_end(&e);
	emit_list_end(&e);
	emit_map_end(&e);
	emit_list_end(&e);
	emit_map_end(&e);
	if (o.full || e.err)
		return -ENOSPC;
	buf[o.len] = '\0';
	return (int)o.len;
}
