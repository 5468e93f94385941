// SPDX-License-Identifier: Apache-2.0
/*
 * A span as Zipkin v2 JSON (tspan.h), through the emitter into a fixed
 * buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
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
	if (s->trace_128) {
		tspan_hex64(s->trace_hi, id);
		tspan_hex64(s->trace_lo, id + 16);
	} else {
		tspan_hex64(s->trace_lo, id);
	}
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
