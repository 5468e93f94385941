/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tspan: one finished span as Zipkin's v2 JSON object (the items of the
 * array POSTed to /api/v2/spans), written with the project's emitter
 * (emit.h), so every string is escaped by its one JSON rule.
 *
 *   {"traceId": "<16 or 32 hex>", "id": "<16 hex>", "parentId": ...,
 *    "kind": "CLIENT", "name": "web:80", "timestamp": <us since epoch>,
 *    "duration": <us>, "shared": true,
 *    "localEndpoint": {"serviceName": "client", "ipv4": "10.0.0.1",
 *                      "port": 80},
 *    "remoteEndpoint": {...}, "tags": {"http.method": "GET", ...}}
 *
 * Ids are lower-case hex, as Zipkin wants them: a trace id of 64 bits
 * (16 digits) or 128 (32), span ids of 64.  A parentId of 0, an endpoint
 * with neither a service name nor an address and a "shared" that is false
 * are left out.
 *
 * The same span as OTLP's ExportTraceServiceRequest of one resource (the
 * local endpoint's service as its service.name), one scope ("meshforge")
 * and the span (proto/opentelemetry/proto/trace/v1/trace.proto), packed
 * by libprotobuf-c: ids as bytes, big endian (a 64-bit trace id as the
 * low half of 16), kind 2 (SERVER) or 3 (CLIENT), start and end in ns, the
 * tags and the remote end's address, port and service as string
 * attributes (valid UTF-8, otlp.h), and status ERROR when the tags say
 * error.  Requests packed alike join into one by concatenation: a
 * message's repeated field read twice appends, so the writer (telw.h)
 * sends a batch as one request without unpacking it.
 *
 * The same span in Zipkin's protobuf (proto/zipkin/proto3/zipkin.proto,
 * MeshTrace's `apiVersion: httpProto`): a ListOfSpans of the one span, ids
 * as the bytes of their length (a trace id 8 or 16, big endian), kind
 * CLIENT 1 or SERVER 2, times in us, the endpoints (ipv4 as 4 bytes), the
 * tags as its map, shared; lists join by concatenation as OTLP's do.
 *
 * Spans for a Datadog agent's trace intake (PUT or POST /v0.4/traces, which
 * takes JSON as application/json): a chunk of one trace, a JSON array
 * of span objects
 *
 *   [{"trace_id": <low 64 bits>, "span_id": .., "parent_id": <0: root>,
 *     "name": "envoy.proxy", "resource": <the span's name>,
 *     "service": <local endpoint's service>, "type": "web",
 *     "start": <ns since the epoch>, "duration": <ns>, "error": 0 or 1,
 *     "meta": {"span.kind": "client", "_dd.p.tid": <high 64 bits, hex,
 *              a 128-bit trace id only>, <the tags>},
 *     "metrics": {"_sampling_priority_v1": 1}}, ...]
 *
 * ids as unsigned 64-bit numbers; error 1 when the tags say error.  The
 * body of a request is an array of such chunks (telw.h).
 *
 * Pure: no I/O, no clock.
 */
#ifndef MF_AGENT_TSPAN_H
#define MF_AGENT_TSPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSPAN_TAGS_MAX		24
/* The longest object tspan_json() writes: what a span may cost. */
#define TSPAN_JSON_MAX		8192

enum tspan_kind {
	TSPAN_CLIENT = 1,
	TSPAN_SERVER,
};

struct tspan_endpoint {
	const char *service;		/* NULL: none */
	uint32_t ipv4;			/* network order, 0: none */
	uint16_t port;			/* host order, 0: none */
};

struct tspan_tag {
	const char *key;		/* NUL-terminated, < 64 bytes */
	const char *value;		/* @len bytes, any */
	size_t len;
};

struct tspan {
	uint64_t trace_hi;		/* the high 64 bits of the trace id */
	uint64_t trace_lo;
	bool trace_128;			/* 32 hex digits, else 16 (trace_lo) */
	uint64_t id, parent;		/* parent 0: a root span */
	enum tspan_kind kind;
	const char *name;		/* NULL: none */
	uint64_t timestamp_us;		/* start, since the epoch */
	uint64_t duration_us;
	bool shared;			/* a SERVER span that shares the
					 * CLIENT's id */
	struct tspan_endpoint local, remote;
	size_t ntags;
	struct tspan_tag tags[TSPAN_TAGS_MAX];
};

/* "CLIENT" or "SERVER". */
const char *tspan_kind_str(enum tspan_kind k);

/* @v as 16 lower-case hex digits into @out (17 bytes). */
void tspan_hex64(uint64_t v, char *out);

/* Adds tag @key = @len bytes at @value to @s; false when it has
 * TSPAN_TAGS_MAX already. */
bool tspan_tag(struct tspan *s, const char *key, const char *value,
	       size_t len);

/* @s as one JSON object into @buf (@cap bytes, NUL-terminated).  Returns
 * its length, or -ENOSPC when it does not fit (nothing usable then). */
int tspan_json(const struct tspan *s, char *buf, size_t cap);

/* @s as OTLP's ExportTraceServiceRequest into @buf (@cap bytes).  Returns
 * its length, or -ENOSPC when it does not fit. */
int tspan_otlp(const struct tspan *s, uint8_t *buf, size_t cap);

/* @s as Zipkin's ListOfSpans of one span into @buf (@cap bytes).
 * Returns its length, or -ENOSPC when it does not fit. */
int tspan_zipkin_proto(const struct tspan *s, uint8_t *buf, size_t cap);

/* Datadog's operation name of every span: Envoy's Datadog tracer's (the
 * tracer names a span's operation in its resource), so that what a
 * Datadog account keys on (its trace.<name>.* metrics) is what it was. */
#define TSPAN_DATADOG_NAME	"envoy.proxy"

/* Spans @s[0..@n), of one trace, as one Datadog chunk (a JSON array) into
 * @buf (@cap bytes, NUL-terminated).  Returns its length, or -ENOSPC. */
int tspan_datadog(const struct tspan *const *s, size_t n, char *buf,
		  size_t cap);

#endif /* MF_AGENT_TSPAN_H */
