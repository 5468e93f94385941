// SPDX-License-Identifier: Apache-2.0
/*
 * A span as Zipkin v2 JSON (tspan.h), through the emitter into a fixed
 * buffer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "zipkin/proto3/zipkin.pb-c.h"
#include "otlp.h"
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

/* ---- OTLP ------------------------------------------------------------- */

typedef Opentelemetry__Proto__Common__V1__AnyValue tspan_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue tspan_kv;
typedef Zipkin__Proto3__Span__TagsEntry tspan_ztag;

/* Room for one span's OTLP attributes: its tags, the remote end's address,
 * port and service. */
#define TSPAN_OTLP_ATTRS	(TSPAN_TAGS_MAX + 3)

/* A protobuf span's strings, made valid UTF-8 (otlp_put_str(): proto3
 * strings must be), and its key-value pairs: one span's worth, OTLP's
 * attributes or Zipkin's tags. */
struct tspan_room {
	char str[TSPAN_JSON_MAX];
	size_t at;
	tspan_kv kv[TSPAN_OTLP_ATTRS];
	tspan_kv *kvp[TSPAN_OTLP_ATTRS];
	tspan_any val[TSPAN_OTLP_ATTRS];
	size_t n;
	tspan_ztag ztag[TSPAN_TAGS_MAX];
	tspan_ztag *ztagp[TSPAN_TAGS_MAX];
};

/* Thread-local: each loop encodes its own spans, and a span's strings and
 * pairs (about 11 KB) are no allocation per span. */
static __thread struct tspan_room tspan_room;

/* @n bytes at @v as a string of @o, NUL-terminated; NULL when there is no
 * room left. */
static char *tspan_room_str(struct tspan_room *o, const char *v, size_t n)
{
	char tmp[1024];
	size_t at = o->at;

	/* A tag's value is bytes with a length; otlp_put_str() takes a
	 * string. */
	if (n >= sizeof(tmp))
		n = sizeof(tmp) - 1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	if (!otlp_put_str(o->str, sizeof(o->str), &o->at, tmp))
		return NULL;
	return o->str + at;
}

/* Attribute @key = @n bytes at @v on @o; false when out of room. */
static bool tspan_otlp_attr(struct tspan_room *o, const char *key,
			    const char *v, size_t n)
{
	char *k = o->n < TSPAN_OTLP_ATTRS ?
		  tspan_room_str(o, key, strlen(key)) : NULL;
	char *s = k ? tspan_room_str(o, v, n) : NULL;

	if (!s)
		return false;
	opentelemetry__proto__common__v1__key_value__init(&o->kv[o->n]);
	opentelemetry__proto__common__v1__any_value__init(&o->val[o->n]);
	o->val[o->n].value_case =
		OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	o->val[o->n].string_value = s;
	o->kv[o->n].key = k;
	o->kv[o->n].value = &o->val[o->n];
	o->kvp[o->n] = &o->kv[o->n];
	o->n++;
	return true;
}

/* @v as 8 bytes, big endian: how OTLP writes ids. */
static void tspan_be64(uint64_t v, uint8_t *out)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (uint8_t)v;
		v >>= 8;
	}
}

int tspan_otlp(const struct tspan *s, uint8_t *buf, size_t cap)
{
	Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest req;
	Opentelemetry__Proto__Trace__V1__ResourceSpans rs, *rsp = &rs;
	Opentelemetry__Proto__Trace__V1__ScopeSpans ss, *ssp = &ss;
	Opentelemetry__Proto__Trace__V1__Span sp, *spp = &sp;
	Opentelemetry__Proto__Trace__V1__Status st;
	Opentelemetry__Proto__Common__V1__InstrumentationScope scope;
	Opentelemetry__Proto__Resource__V1__Resource res;
	struct tspan_room *o = &tspan_room;
	uint8_t trace[16], id[8], parent[8];
	char port[8], ip[INET_ADDRSTRLEN];
	bool ok, error = false;
	size_t size;

	o->at = 0;
	o->n = 0;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__init(&req);
	opentelemetry__proto__trace__v1__resource_spans__init(&rs);
	opentelemetry__proto__trace__v1__scope_spans__init(&ss);
	opentelemetry__proto__trace__v1__span__init(&sp);
	opentelemetry__proto__trace__v1__status__init(&st);
	opentelemetry__proto__common__v1__instrumentation_scope__init(&scope);
	opentelemetry__proto__resource__v1__resource__init(&res);

	/* The resource: the local end's service, its first attribute. */
	ok = !s->local.service ||
	     tspan_otlp_attr(o, "service.name", s->local.service,
			     strlen(s->local.service));
	if (s->local.service) {
		res.attributes = &o->kvp[0];
		res.n_attributes = 1;
	}
	tspan_be64(s->trace_hi, trace);
	tspan_be64(s->trace_lo, trace + 8);
	tspan_be64(s->id, id);
	tspan_be64(s->parent, parent);
	sp.trace_id.data = trace;
	sp.trace_id.len = 16;
	sp.span_id.data = id;
	sp.span_id.len = 8;
	if (s->parent) {
		sp.parent_span_id.data = parent;
		sp.parent_span_id.len = 8;
	}
	sp.name = s->name ? tspan_room_str(o, s->name, strlen(s->name)) : "";
	ok = ok && sp.name;
	/* SpanKind: SERVER 2, CLIENT 3. */
	sp.kind = s->kind == TSPAN_SERVER ? 2 : 3;
	sp.start_time_unix_nano = s->timestamp_us * 1000u;
	sp.end_time_unix_nano = (s->timestamp_us + s->duration_us) * 1000u;
	sp.attributes = &o->kvp[o->n];
	for (size_t i = 0; ok && i < s->ntags; i++) {
		ok = tspan_otlp_attr(o, s->tags[i].key, s->tags[i].value,
				     s->tags[i].len);
		error |= !strcmp(s->tags[i].key, "error");
	}
	if (ok && s->remote.ipv4 &&
	    inet_ntop(AF_INET, &s->remote.ipv4, ip, sizeof(ip)))
		ok = tspan_otlp_attr(o, "net.peer.ip", ip, strlen(ip));
	if (ok && s->remote.port) {
		snprintf(port, sizeof(port), "%u", (unsigned)s->remote.port);
		ok = tspan_otlp_attr(o, "net.peer.port", port, strlen(port));
	}
	if (ok && s->remote.service)
		ok = tspan_otlp_attr(o, "peer.service", s->remote.service,
				     strlen(s->remote.service));
	sp.n_attributes = (size_t)(&o->kvp[o->n] - sp.attributes);
	if (error) {
		st.code = 2;	/* STATUS_CODE_ERROR */
		sp.status = &st;
	}
	scope.name = "meshforge";
	ss.scope = &scope;
	ss.spans = &spp;
	ss.n_spans = 1;
	rs.resource = &res;
	rs.scope_spans = &ssp;
	rs.n_scope_spans = 1;
	req.resource_spans = &rsp;
	req.n_resource_spans = 1;
	size = opentelemetry__proto__collector__trace__v1__export_trace_service_request__get_packed_size(&req);
	if (!ok || size > cap)
		return -ENOSPC;
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__pack(&req, buf);
	return (int)size;
}

/* ---- Zipkin protobuf --------------------------------------------------- */

typedef Zipkin__Proto3__Endpoint tspan_zep;

/* Endpoint @ep as Zipkin's into @z (its ipv4 bytes at @ip4), its service
 * name a string of @o.  NULL when it says nothing, or out of room
 * (*@ok false then). */
static tspan_zep *tspan_zipkin_ep(struct tspan_room *o,
				  const struct tspan_endpoint *ep,
				  tspan_zep *z, uint32_t *ip4, bool *ok)
{
	if (!ep->service && !ep->ipv4)
		return NULL;
	zipkin__proto3__endpoint__init(z);
	if (ep->service) {
		z->service_name = tspan_room_str(o, ep->service,
						 strlen(ep->service));
		*ok = *ok && z->service_name;
	}
	if (ep->ipv4) {
		*ip4 = ep->ipv4;	/* network order: the bytes as sent */
		z->ipv4.data = (uint8_t *)ip4;
		z->ipv4.len = 4;
	}
	z->port = ep->port;
	return z;
}

int tspan_zipkin_proto(const struct tspan *s, uint8_t *buf, size_t cap)
{
	Zipkin__Proto3__ListOfSpans list;
	Zipkin__Proto3__Span sp, *spp = &sp;
	tspan_zep local, remote;
	struct tspan_room *o = &tspan_room;
	uint8_t trace[16], id[8], parent[8];
	uint32_t lip, rip;
	bool ok = true;
	size_t size;

	o->at = 0;
	zipkin__proto3__list_of_spans__init(&list);
	zipkin__proto3__span__init(&sp);
	/* Ids as the bytes of their length: a 64-bit trace id is 8. */
	tspan_be64(s->trace_hi, trace);
	tspan_be64(s->trace_lo, trace + 8);
	tspan_be64(s->id, id);
	tspan_be64(s->parent, parent);
	sp.trace_id.data = s->trace_128 ? trace : trace + 8;
	sp.trace_id.len = s->trace_128 ? 16 : 8;
	sp.id.data = id;
	sp.id.len = 8;
	if (s->parent) {
		sp.parent_id.data = parent;
		sp.parent_id.len = 8;
	}
	sp.kind = s->kind == TSPAN_SERVER ? ZIPKIN__PROTO3__SPAN__KIND__SERVER :
					    ZIPKIN__PROTO3__SPAN__KIND__CLIENT;
	if (s->name) {
		sp.name = tspan_room_str(o, s->name, strlen(s->name));
		ok = sp.name != NULL;
	}
	sp.timestamp = s->timestamp_us;
	sp.duration = s->duration_us;
	sp.shared = s->shared;
	sp.local_endpoint = tspan_zipkin_ep(o, &s->local, &local, &lip, &ok);
	sp.remote_endpoint = tspan_zipkin_ep(o, &s->remote, &remote, &rip,
					     &ok);
	for (size_t i = 0; ok && i < s->ntags; i++) {
		tspan_ztag *t = &o->ztag[i];

		zipkin__proto3__span__tags_entry__init(t);
		t->key = tspan_room_str(o, s->tags[i].key,
					strlen(s->tags[i].key));
		t->value = t->key ? tspan_room_str(o, s->tags[i].value,
						   s->tags[i].len) : NULL;
		ok = t->value != NULL;
		o->ztagp[i] = t;
	}
	sp.tags = o->ztagp;
	sp.n_tags = s->ntags;
	list.spans = &spp;
	list.n_spans = 1;
	size = zipkin__proto3__list_of_spans__get_packed_size(&list);
	if (!ok || size > cap)
		return -ENOSPC;
	zipkin__proto3__list_of_spans__pack(&list, buf);
	return (int)size;
}

/* ---- Datadog ------------------------------------------------------------ */

/* One span of a Datadog chunk. */
static void tspan_datadog_one(struct emit *e, const struct tspan *s)
{
	bool error = false;
	char hi[17];

	emit_map_begin(e);
	emit_key(e, "trace_id");
	emit_uint(e, s->trace_lo);
	emit_key(e, "span_id");
	emit_uint(e, s->id);
	emit_key(e, "parent_id");
	emit_uint(e, s->parent);
	emit_key(e, "name");
	emit_str(e, TSPAN_DATADOG_NAME);
	emit_key(e, "resource");
	emit_str(e, s->name ? s->name : "-");
	emit_key(e, "service");
	emit_str(e, s->local.service ? s->local.service : "unknown");
	emit_key(e, "type");
	emit_str(e, "web");
	emit_key(e, "start");
	emit_uint(e, s->timestamp_us * 1000u);
	emit_key(e, "duration");
	emit_uint(e, s->duration_us * 1000u);
	for (size_t i = 0; i < s->ntags; i++)
		error |= !strcmp(s->tags[i].key, "error");
	emit_key(e, "error");
	emit_uint(e, error);
	emit_key(e, "meta");
	emit_map_begin(e);
	emit_key(e, "span.kind");
	emit_str(e, s->kind == TSPAN_SERVER ? "server" : "client");
	if (s->trace_128) {
		/* The trace id's high half, as Datadog's tracers carry it. */
		tspan_hex64(s->trace_hi, hi);
		emit_key(e, "_dd.p.tid");
		emit_str(e, hi);
	}
	for (size_t i = 0; i < s->ntags; i++) {
		emit_key(e, s->tags[i].key);
		emit_strn(e, s->tags[i].value, s->tags[i].len);
	}
	emit_map_end(e);
	/* Kept: the agent already sampled the trace (1 is the tracer's own
	 * keep); without it the Datadog agent would sample it again. */
	emit_key(e, "metrics");
	emit_map_begin(e);
	emit_key(e, "_sampling_priority_v1");
	emit_uint(e, 1);
	emit_map_end(e);
	emit_map_end(e);
}

int tspan_datadog(const struct tspan *const *s, size_t n, char *buf,
		  size_t cap)
{
	struct tspan_out o = { .p = buf, .cap = cap };
	struct emit e;

	if (!cap)
		return -ENOSPC;
	emit_init(&e, EMIT_JSON, tspan_write, &o);
	emit_list_begin(&e);
	for (size_t i = 0; i < n; i++)
		tspan_datadog_one(&e, s[i]);
	emit_list_end(&e);
	if (o.full || e.err)
		return -ENOSPC;
	buf[o.len] = '\0';
	return (int)o.len;
}
