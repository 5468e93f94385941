// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrace in the agent: the Zipkin v2 span encoder (agent/tspan.c:
 * every field, 64- and 128-bit trace ids, escaping, what is left out, a
 * buffer too small), the OTLP one, Zipkin's protobuf one and Datadog's;
 * the B3 and W3C context reader, the sampling
 * arithmetic, the ids of both spans and the headers sent upstream
 * (agent/trace.c); the selection of both sides from snapshots compiled
 * from YAML as mfctl compiles them; and the writer (agent/telw.c)
 * POSTing the spans trace_done() builds to a collector on loopback (a
 * Zipkin array, an OTLP request, a ListOfSpans, Datadog's chunks at
 * /v0.4/traces), and counting those a
 * collector that is down cannot take.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/otlp_harness.h"
#include "harness/records_harness.h"
#include "../../agent/trace.h"
#include "../../agent/telw.h"
#include "../../agent/tspan.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"
#include "zipkin/proto3/zipkin.pb-c.h"

/* ---- the encoder ---------------------------------------------------------- */

static bool test_span_json(void)
{
	struct tspan s = {
		.trace_hi = 0x0123456789abcdefULL, .trace_lo = 0xfedcba9876543210ULL,
		.trace_128 = true, .id = 0x1a, .parent = 0xb2,
		.kind = TSPAN_SERVER, .name = "web:80",
		.timestamp_us = 1796487601123456ULL, .duration_us = 2500,
		.shared = true,
		.local = { "web", 0, 8080 },
		.remote = { "client", 0, 0 },
	};
	char buf[1024];
	int n;
	bool ok;

	s.local.ipv4 = rh_ip4("10.1.0.1");
	s.remote.ipv4 = rh_ip4("10.1.0.9");
	tspan_tag(&s, "http.method", "GET", 3);
	/* A quote, a backslash and a control byte, escaped by JSON's rule;
	 * the value's length counts, not a NUL. */
	tspan_tag(&s, "team", "a\"b\\c\x01" "dXXX", 7);
	n = tspan_json(&s, buf, sizeof(buf));
	ok = ASSERT_TRUE(n > 0) && ASSERT_EQ((size_t)n, strlen(buf)) &&
	     ASSERT_STREQ(buf,
		"{\"traceId\": \"0123456789abcdeffedcba9876543210\", "
		"\"id\": \"000000000000001a\", \"parentId\": \"00000000000000b2\", "
		"\"kind\": \"SERVER\", \"name\": \"web:80\", "
		"\"timestamp\": 1796487601123456, \"duration\": 2500, "
		"\"shared\": true, "
		"\"localEndpoint\": {\"serviceName\": \"web\", "
		"\"ipv4\": \"10.1.0.1\", \"port\": 8080}, "
		"\"remoteEndpoint\": {\"serviceName\": \"client\", "
		"\"ipv4\": \"10.1.0.9\"}, "
		"\"tags\": {\"http.method\": \"GET\", "
		"\"team\": \"a\\\"b\\\\c\\u0001d\"}}");

	/* 64 bits: 16 digits; a root CLIENT span: no parentId, no shared,
	 * no remote endpoint, no tags. */
	memset(&s, 0, sizeof(s));
	s.trace_lo = 0xabc;
	s.id = 0xdef;
	s.kind = TSPAN_CLIENT;
	s.timestamp_us = 1;
	s.duration_us = 0;
	s.local.service = "client";
	n = tspan_json(&s, buf, sizeof(buf));
	ok = ok && ASSERT_TRUE(n > 0) &&
	     ASSERT_STREQ(buf,
		"{\"traceId\": \"0000000000000abc\", \"id\": \"0000000000000def\", "
		"\"kind\": \"CLIENT\", \"timestamp\": 1, \"duration\": 0, "
		"\"localEndpoint\": {\"serviceName\": \"client\"}}");
	/* Too small a buffer: refused, never cut. */
	ok = ok && ASSERT_EQ(tspan_json(&s, buf, 40), -ENOSPC);
	return ok;
}

typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest
	treq_t;

static treq_t *treq_unpack(const void *b, size_t n)
{
	return opentelemetry__proto__collector__trace__v1__export_trace_service_request__unpack(NULL, n, b);
}

static void treq_free(treq_t *q)
{
	opentelemetry__proto__collector__trace__v1__export_trace_service_request__free_unpacked(q, NULL);
}

/* OTLP, as a collector unpacks it: the resource's service.name, the ids
 * as bytes (a 64-bit trace id in the low half of 16), kind, times in ns,
 * the tags (a byte no UTF-8 string has made '?') and the peer as
 * attributes, status ERROR with an error tag; two requests one after the
 * other read as one with both spans. */
static bool test_span_otlp(void)
{
	struct tspan s = {
		.trace_lo = 0xabc, .id = 0x1a, .parent = 0xb2,
		.kind = TSPAN_CLIENT, .name = "web",
		.timestamp_us = 1796487601123456ULL, .duration_us = 2500,
		.local = { "client", 0, 0 },
		.remote = { "web", 0, 8080 },
	};
	static const uint8_t trace[16] = { [14] = 0x0a, [15] = 0xbc };
	static const uint8_t id[8] = { [7] = 0x1a }, parent[8] = { [7] = 0xb2 };
	Opentelemetry__Proto__Trace__V1__Span *sp;
	uint8_t buf[4096];
	treq_t *q = NULL;
	int n, n2;
	bool ok;

	s.remote.ipv4 = rh_ip4("10.1.0.1");
	tspan_tag(&s, "team", "a\"b\xff", 4);
	tspan_tag(&s, "error", "true", 4);
	n = tspan_otlp(&s, buf, sizeof(buf));
	ok = ASSERT_TRUE(n > 0) && ASSERT_TRUE((q = treq_unpack(buf, n))) &&
	     ASSERT_EQ(q->n_resource_spans, 1) &&
	     ASSERT_STREQ(otlp_attr(q->resource_spans[0]->resource->attributes,
			       q->resource_spans[0]->resource->n_attributes,
			       "service.name"), "client") &&
	     ASSERT_EQ(q->resource_spans[0]->n_scope_spans, 1) &&
	     ASSERT_STREQ(q->resource_spans[0]->scope_spans[0]->scope->name,
			  "meshforge") &&
	     ASSERT_EQ(q->resource_spans[0]->scope_spans[0]->n_spans, 1);
	if (!ok) {
		if (q)
			treq_free(q);
		return false;
	}
	sp = q->resource_spans[0]->scope_spans[0]->spans[0];
	ok = ASSERT_EQ(sp->trace_id.len, 16) &&
	     ASSERT_MEMEQ(sp->trace_id.data, trace, 16) &&
	     ASSERT_EQ(sp->span_id.len, 8) &&
	     ASSERT_MEMEQ(sp->span_id.data, id, 8) &&
	     ASSERT_EQ(sp->parent_span_id.len, 8) &&
	     ASSERT_MEMEQ(sp->parent_span_id.data, parent, 8) &&
	     ASSERT_STREQ(sp->name, "web") && ASSERT_EQ(sp->kind, 3) &&
	     ASSERT_EQ(sp->start_time_unix_nano, 1796487601123456000ULL) &&
	     ASSERT_EQ(sp->end_time_unix_nano, 1796487601125956000ULL) &&
	     ASSERT_EQ(sp->n_attributes, 5) &&
	     ASSERT_STREQ(otlp_attr(sp->attributes, 5, "team"), "a\"b?") &&
	     ASSERT_STREQ(otlp_attr(sp->attributes, 5, "error"), "true") &&
	     ASSERT_STREQ(otlp_attr(sp->attributes, 5, "net.peer.ip"),
			  "10.1.0.1") &&
	     ASSERT_STREQ(otlp_attr(sp->attributes, 5, "net.peer.port"), "8080") &&
	     ASSERT_STREQ(otlp_attr(sp->attributes, 5, "peer.service"), "web") &&
	     ASSERT_TRUE(sp->status) && ASSERT_EQ(sp->status->code, 2);
	treq_free(q);
	q = NULL;
	/* A SERVER span after it: one request of two resources. */
	s.kind = TSPAN_SERVER;
	s.local.service = "web";
	s.ntags = 0;
	n2 = ok ? tspan_otlp(&s, buf + n, sizeof(buf) - (size_t)n) : -1;
	ok = ok && ASSERT_TRUE(n2 > 0) &&
	     ASSERT_TRUE((q = treq_unpack(buf, (size_t)(n + n2)))) &&
	     ASSERT_EQ(q->n_resource_spans, 2) &&
	     ASSERT_EQ(q->resource_spans[1]->scope_spans[0]->spans[0]->kind,
		       2) &&
	     ASSERT_TRUE(!q->resource_spans[1]->scope_spans[0]->spans[0]
				   ->status);
	if (q)
		treq_free(q);
	return ok && ASSERT_EQ(tspan_otlp(&s, buf, 40), -ENOSPC);
}


typedef Zipkin__Proto3__ListOfSpans zlist_t;

static zlist_t *zlist_unpack(const void *b, size_t n)
{
	return zipkin__proto3__list_of_spans__unpack(NULL, n, b);
}

/* Tag @key of Zipkin span @sp, NULL when it has none. */
static const char *ztag(const Zipkin__Proto3__Span *sp, const char *key)
{
	for (size_t i = 0; i < sp->n_tags; i++)
		if (!strcmp(sp->tags[i]->key, key))
			return sp->tags[i]->value;
	return NULL;
}

/* Zipkin's protobuf, as a collector unpacks it: ids as the bytes of
 * their length (a 64-bit trace id is 8, a 128-bit one 16), kind, times
 * in us, both endpoints (ipv4 as 4 bytes), the tags (a byte no UTF-8
 * string has made '?'), shared; no parent for a root span; two lists one
 * after the other read as one of both spans; too small a buffer refused. */
static bool test_span_zipkin_proto(void)
{
	struct tspan s = {
		.trace_hi = 0x0123456789abcdefULL, .trace_lo = 0xfedcba9876543210ULL,
		.trace_128 = true, .id = 0x1a, .parent = 0xb2,
		.kind = TSPAN_SERVER, .name = "web:80",
		.timestamp_us = 1796487601123456ULL, .duration_us = 2500,
		.shared = true,
		.local = { "web", 0, 8080 },
		.remote = { "client", 0, 0 },
	};
	static const uint8_t trace[16] = {
		0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
		0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10 };
	static const uint8_t id[8] = { [7] = 0x1a }, parent[8] = { [7] = 0xb2 };
	static const uint8_t lip[4] = { 10, 1, 0, 1 }, rip[4] = { 10, 1, 0, 9 };
	static const uint8_t trace64[8] = { [6] = 0x0a, [7] = 0xbc };
	uint8_t buf[4096];
	Zipkin__Proto3__Span *sp;
	zlist_t *q = NULL;
	int n, n2;
	bool ok;

	s.local.ipv4 = rh_ip4("10.1.0.1");
	s.remote.ipv4 = rh_ip4("10.1.0.9");
	tspan_tag(&s, "http.method", "GET", 3);
	tspan_tag(&s, "team", "a\"b\xff" "XX", 4);
	n = tspan_zipkin_proto(&s, buf, sizeof(buf));
	ok = ASSERT_TRUE(n > 0) && ASSERT_TRUE((q = zlist_unpack(buf, n))) &&
	     ASSERT_EQ(q->n_spans, 1);
	if (!ok)
		goto out;
	sp = q->spans[0];
	ok = ASSERT_EQ(sp->trace_id.len, 16) &&
	     ASSERT_MEMEQ(sp->trace_id.data, trace, 16) &&
	     ASSERT_EQ(sp->id.len, 8) && ASSERT_MEMEQ(sp->id.data, id, 8) &&
	     ASSERT_EQ(sp->parent_id.len, 8) &&
	     ASSERT_MEMEQ(sp->parent_id.data, parent, 8) &&
	     ASSERT_EQ(sp->kind, ZIPKIN__PROTO3__SPAN__KIND__SERVER) &&
	     ASSERT_STREQ(sp->name, "web:80") &&
	     ASSERT_EQ(sp->timestamp, 1796487601123456ULL) &&
	     ASSERT_EQ(sp->duration, 2500) && ASSERT_TRUE(sp->shared) &&
	     ASSERT_TRUE(sp->local_endpoint && sp->remote_endpoint) &&
	     ASSERT_STREQ(sp->local_endpoint->service_name, "web") &&
	     ASSERT_EQ(sp->local_endpoint->ipv4.len, 4) &&
	     ASSERT_MEMEQ(sp->local_endpoint->ipv4.data, lip, 4) &&
	     ASSERT_EQ(sp->local_endpoint->port, 8080) &&
	     ASSERT_STREQ(sp->remote_endpoint->service_name, "client") &&
	     ASSERT_MEMEQ(sp->remote_endpoint->ipv4.data, rip, 4) &&
	     ASSERT_EQ(sp->remote_endpoint->port, 0) &&
	     ASSERT_EQ(sp->n_tags, 2) &&
	     ASSERT_STREQ(ztag(sp, "http.method"), "GET") &&
	     ASSERT_STREQ(ztag(sp, "team"), "a\"b?");
	zipkin__proto3__list_of_spans__free_unpacked(q, NULL);
	q = NULL;
	/* 64 bits, a root CLIENT span without endpoints nor tags; after the
	 * first: one list of both. */
	memset(&s, 0, sizeof(s));
	s.trace_lo = 0xabc;
	s.id = 0x1a;
	s.kind = TSPAN_CLIENT;
	s.timestamp_us = 1;
	n2 = ok ? tspan_zipkin_proto(&s, buf + n, sizeof(buf) - (size_t)n) : -1;
	ok = ok && ASSERT_TRUE(n2 > 0) &&
	     ASSERT_TRUE((q = zlist_unpack(buf, (size_t)(n + n2)))) &&
	     ASSERT_EQ(q->n_spans, 2);
	if (!ok)
		goto out;
	sp = q->spans[1];
	ok = ASSERT_EQ(sp->trace_id.len, 8) &&
	     ASSERT_MEMEQ(sp->trace_id.data, trace64, 8) &&
	     ASSERT_EQ(sp->parent_id.len, 0) &&
	     ASSERT_EQ(sp->kind, ZIPKIN__PROTO3__SPAN__KIND__CLIENT) &&
	     ASSERT_TRUE(sp->local_endpoint == NULL) &&
	     ASSERT_TRUE(sp->remote_endpoint == NULL) &&
	     ASSERT_EQ(sp->n_tags, 0) && ASSERT_FALSE(sp->shared) &&
	     ASSERT_EQ(q->spans[0]->kind, ZIPKIN__PROTO3__SPAN__KIND__SERVER) &&
	     ASSERT_EQ(tspan_zipkin_proto(&s, buf, 10), -ENOSPC);
out:
	if (q)
		zipkin__proto3__list_of_spans__free_unpacked(q, NULL);
	return ok;
}

/* Zipkin's protobuf byte for byte: each field under the number Zipkin's
 * published zipkin.proto3 gives it (trace_id 1, parent_id 2, id 3, kind
 * 4, name 5, timestamp 6 as fixed64, duration 7, local_endpoint 8, tags
 * 11 as a map entry, shared 13; Endpoint.service_name 1), whatever our
 * own .proto says: a collector reads these numbers. */
static bool test_span_zipkin_proto_wire(void)
{
	struct tspan s = {
		.trace_lo = 0xabc, .id = 0x1a, .parent = 0xb2,
		.kind = TSPAN_SERVER, .name = "w",
		.timestamp_us = 1, .duration_us = 2, .shared = true,
		.local = { "a", 0, 0 },
	};
	static const uint8_t want[] = {
		0x0a, 0x3d,					/* spans */
		0x0a, 0x08, 0, 0, 0, 0, 0, 0, 0x0a, 0xbc,	/* trace_id */
		0x12, 0x08, 0, 0, 0, 0, 0, 0, 0, 0xb2,		/* parent_id */
		0x1a, 0x08, 0, 0, 0, 0, 0, 0, 0, 0x1a,		/* id */
		0x20, 0x02,					/* kind */
		0x2a, 0x01, 'w',				/* name */
		0x31, 1, 0, 0, 0, 0, 0, 0, 0,			/* timestamp */
		0x38, 0x02,					/* duration */
		0x42, 0x03, 0x0a, 0x01, 'a',			/* local */
		0x5a, 0x06, 0x0a, 0x01, 'k', 0x12, 0x01, 'v',	/* tags */
		0x68, 0x01,					/* shared */
	};
	uint8_t buf[256];
	int n;

	tspan_tag(&s, "k", "v", 1);
	n = tspan_zipkin_proto(&s, buf, sizeof(buf));
	return ASSERT_EQ(n, (int)sizeof(want)) &&
	       ASSERT_MEMEQ(buf, want, sizeof(want));
}

/* Datadog: a chunk of a trace's two spans, every field; ids as unsigned
 * numbers (the low 64 bits of a 128-bit trace id, its high half in
 * _dd.p.tid), times in ns, error 1 with an error tag, the tags escaped as
 * JSON; a root span's parent_id 0; too small a buffer refused. */
static bool test_span_datadog(void)
{
	struct tspan c = {
		.trace_hi = 0x0123456789abcdefULL, .trace_lo = 0xfedcba9876543210ULL,
		.trace_128 = true, .id = 0x1a, .parent = 0,
		.kind = TSPAN_CLIENT, .name = "web:80",
		.timestamp_us = 1796487601123456ULL, .duration_us = 2500,
		.local = { "client_OUTBOUND_web", 0, 0 },
	}, sv;
	const struct tspan *chunk[2] = { &c, &sv };
	char buf[2048];
	int n;
	bool ok;

	sv = c;
	sv.kind = TSPAN_SERVER;
	sv.id = 0x2b;
	sv.parent = 0x1a;
	sv.duration_us = 2000;
	sv.local.service = "web_INBOUND";
	tspan_tag(&c, "http.status_code", "503", 3);
	tspan_tag(&c, "error", "true", 4);
	tspan_tag(&sv, "team", "a\"b", 3);
	n = tspan_datadog(chunk, 2, buf, sizeof(buf));
	ok = ASSERT_TRUE(n > 0) && ASSERT_EQ((size_t)n, strlen(buf)) &&
	     ASSERT_STREQ(buf,
		"[{\"trace_id\": 18364758544493064720, \"span_id\": 26, "
		"\"parent_id\": 0, \"name\": \"envoy.proxy\", "
		"\"resource\": \"web:80\", \"service\": \"client_OUTBOUND_web\", "
		"\"type\": \"web\", \"start\": 1796487601123456000, "
		"\"duration\": 2500000, \"error\": 1, "
		"\"meta\": {\"span.kind\": \"client\", "
		"\"_dd.p.tid\": \"0123456789abcdef\", "
		"\"http.status_code\": \"503\", \"error\": \"true\"}, "
		"\"metrics\": {\"_sampling_priority_v1\": 1}}, "
		"{\"trace_id\": 18364758544493064720, \"span_id\": 43, "
		"\"parent_id\": 26, \"name\": \"envoy.proxy\", "
		"\"resource\": \"web:80\", \"service\": \"web_INBOUND\", "
		"\"type\": \"web\", \"start\": 1796487601123456000, "
		"\"duration\": 2000000, \"error\": 0, "
		"\"meta\": {\"span.kind\": \"server\", "
		"\"_dd.p.tid\": \"0123456789abcdef\", "
		"\"team\": \"a\\\"b\"}, "
		"\"metrics\": {\"_sampling_priority_v1\": 1}}]");
	/* 64 bits: no _dd.p.tid. */
	c.trace_128 = false;
	c.ntags = 0;
	n = tspan_datadog(chunk, 1, buf, sizeof(buf));
	ok = ok && ASSERT_TRUE(n > 0) &&
	     ASSERT_TRUE(strstr(buf, "\"meta\": {\"span.kind\": \"client\"}, ") != NULL) &&
	     ASSERT_TRUE(strstr(buf, "\"error\": 0, ") != NULL) &&
	     ASSERT_EQ(tspan_datadog(chunk, 2, buf, 100), -ENOSPC);
	return ok;
}

/* ---- the context reader --------------------------------------------------- */

static struct hhead hd;

/* A GET / whose fields are @kv's name/value pairs (NULL-terminated). */
static bool head_of(const char *const *kv)
{
	struct http1_start rl = { .method = "GET", .method_len = 3,
				  .target = "/p?q=1", .target_len = 6,
				  .major = 1, .minor = 1 };

	hhead_free(&hd);
	memset(&hd, 0, sizeof(hd));
	if (hhead_start(&hd, true, &rl))
		return false;
	for (; kv[0]; kv += 2)
		if (hhead_add(&hd, kv[0], strlen(kv[0]), kv[1], strlen(kv[1])))
			return false;
	return true;
}

static bool read_of(const char *const *kv, struct trace_in *in)
{
	if (!ASSERT_TRUE(head_of(kv)))
		return false;
	trace_read(&hd, in);
	return true;
}

#define KV(...) ((const char *const[]){ __VA_ARGS__, NULL })

static bool test_read(void)
{
	struct trace_in in;
	bool ok;

	/* B3, 64 bits, with parent and sampled. */
	ok = read_of(KV("X-B3-TraceId", "463ac35c9f6413ad",
			"x-b3-spanid", "a2fb4a1d1a96d312",
			"x-b3-parentspanid", "0020000000000001",
			"x-b3-sampled", "1"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_FALSE(in.id128) &&
	     ASSERT_EQ(in.hi, 0) && ASSERT_EQ(in.lo, 0x463ac35c9f6413adULL) &&
	     ASSERT_EQ(in.span, 0xa2fb4a1d1a96d312ULL) &&
	     ASSERT_EQ(in.parent, 0x0020000000000001ULL) &&
	     ASSERT_EQ(in.sampled, 1);
	/* 128 bits, sampled 0, no parent. */
	ok = ok && read_of(KV("x-b3-traceid",
			      "463ac35c9f6413ad48485a3953bb6124",
			      "x-b3-spanid", "a2fb4a1d1a96d312",
			      "x-b3-sampled", "0"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_TRUE(in.id128) &&
	     ASSERT_EQ(in.hi, 0x463ac35c9f6413adULL) &&
	     ASSERT_EQ(in.lo, 0x48485a3953bb6124ULL) && ASSERT_EQ(in.parent, 0) &&
	     ASSERT_EQ(in.sampled, 0);
	/* Malformed: not hex, 15 digits, a zero span, a bad parent: no
	 * context (a new trace); the sampled flag still counts. */
	ok = ok && read_of(KV("x-b3-traceid", "463ac35c9f6413aZ",
			      "x-b3-spanid", "a2fb4a1d1a96d312",
			      "x-b3-sampled", "0"), &in) &&
	     ASSERT_FALSE(in.ctx) && ASSERT_EQ(in.sampled, 0);
	ok = ok && read_of(KV("x-b3-traceid", "463ac35c9f6413a",
			      "x-b3-spanid", "a2fb4a1d1a96d312"), &in) &&
	     ASSERT_FALSE(in.ctx) && ASSERT_EQ(in.sampled, -1);
	ok = ok && read_of(KV("x-b3-traceid", "463ac35c9f6413ad",
			      "x-b3-spanid", "0000000000000000"), &in) &&
	     ASSERT_FALSE(in.ctx);
	ok = ok && read_of(KV("x-b3-traceid", "463ac35c9f6413ad",
			      "x-b3-spanid", "a2fb4a1d1a96d312",
			      "x-b3-parentspanid", "xyz"), &in) &&
	     ASSERT_FALSE(in.ctx);
	/* x-b3-flags: 1 is debug, sampled. */
	ok = ok && read_of(KV("x-b3-flags", "1"), &in) &&
	     ASSERT_FALSE(in.ctx) && ASSERT_EQ(in.sampled, 1);
	/* The single header: T-S-s-P, T-S, and a decision alone. */
	ok = ok && read_of(KV("b3", "80f198ee56343ba864fe8b2a57d3eff7-"
			      "e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_TRUE(in.id128) &&
	     ASSERT_EQ(in.lo, 0x64fe8b2a57d3eff7ULL) &&
	     ASSERT_EQ(in.span, 0xe457b5a2e4d86bd1ULL) &&
	     ASSERT_EQ(in.parent, 0x05e3ac9a4f6e3b90ULL) &&
	     ASSERT_EQ(in.sampled, 1);
	ok = ok && read_of(KV("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1"),
			   &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_EQ(in.sampled, -1) &&
	     ASSERT_EQ(in.parent, 0);
	ok = ok && read_of(KV("b3", "0"), &in) && ASSERT_FALSE(in.ctx) &&
	     ASSERT_EQ(in.sampled, 0);
	ok = ok && read_of(KV("b3", "64fe8b2a57d3eff7-e457b5a2e4d86bd1-x"),
			   &in) && ASSERT_FALSE(in.ctx);
	/* W3C traceparent, sampled and not; malformed ones. */
	ok = ok && read_of(KV("traceparent", "00-0af7651916cd43dd8448eb211c80319c"
			      "-b7ad6b7169203331-01"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_EQ(in.hi, 0x0af7651916cd43ddULL) &&
	     ASSERT_EQ(in.lo, 0x8448eb211c80319cULL) &&
	     ASSERT_EQ(in.span, 0xb7ad6b7169203331ULL) &&
	     ASSERT_EQ(in.sampled, 1);
	ok = ok && read_of(KV("traceparent", "00-0af7651916cd43dd8448eb211c80319c"
			      "-b7ad6b7169203331-00"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_EQ(in.sampled, 0);
	ok = ok && read_of(KV("traceparent", "00-00000000000000000000000000000000"
			      "-b7ad6b7169203331-01"), &in) &&
	     ASSERT_FALSE(in.ctx);
	ok = ok && read_of(KV("traceparent", "00-0af7651916cd43dd8448eb211c80319c"
			      "-b7ad6b7169203331-01-extra"), &in) &&
	     ASSERT_FALSE(in.ctx);
	/* Datadog's: decimal ids, the priority as the decision; the high
	 * half of a 128-bit id in x-datadog-tags. */
	ok = ok && read_of(KV("x-datadog-trace-id", "12345678901234567890",
			      "x-datadog-parent-id", "987654321",
			      "x-datadog-sampling-priority", "2"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_FALSE(in.id128) &&
	     ASSERT_EQ(in.hi, 0) && ASSERT_EQ(in.lo, 12345678901234567890ULL) &&
	     ASSERT_EQ(in.span, 987654321) && ASSERT_EQ(in.parent, 0) &&
	     ASSERT_EQ(in.sampled, 1);
	ok = ok && read_of(KV("x-datadog-trace-id", "5",
			      "x-datadog-parent-id", "6",
			      "x-datadog-sampling-priority", "-1",
			      "x-datadog-tags",
			      "_dd.p.dm=-1,_dd.p.tid=640cfd8d00000000"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_TRUE(in.id128) &&
	     ASSERT_EQ(in.hi, 0x640cfd8d00000000ULL) && ASSERT_EQ(in.lo, 5) &&
	     ASSERT_EQ(in.sampled, 0);
	ok = ok && read_of(KV("x-datadog-trace-id", "5",
			      "x-datadog-parent-id", "6",
			      "x-datadog-sampling-priority", "0",
			      "x-datadog-tags", "_dd.p.tid=640cfd8d"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_FALSE(in.id128) &&
	     ASSERT_EQ(in.hi, 0) && ASSERT_EQ(in.sampled, 0);
	/* Malformed: past 2^64, a sign, a zero id, no parent: no context. */
	ok = ok && read_of(KV("x-datadog-trace-id", "18446744073709551616",
			      "x-datadog-parent-id", "6"), &in) &&
	     ASSERT_FALSE(in.ctx);
	ok = ok && read_of(KV("x-datadog-trace-id", "+5",
			      "x-datadog-parent-id", "6"), &in) &&
	     ASSERT_FALSE(in.ctx);
	ok = ok && read_of(KV("x-datadog-trace-id", "5",
			      "x-datadog-parent-id", "0"), &in) &&
	     ASSERT_FALSE(in.ctx);
	ok = ok && read_of(KV("x-datadog-trace-id", "5",
			      "x-datadog-sampling-priority", "1"), &in) &&
	     ASSERT_FALSE(in.ctx) && ASSERT_EQ(in.sampled, -1);
	/* B3's decision wins over Datadog's priority; Datadog's context over
	 * traceparent. */
	ok = ok && read_of(KV("x-b3-sampled", "0",
			      "x-datadog-trace-id", "5",
			      "x-datadog-parent-id", "6",
			      "x-datadog-sampling-priority", "1",
			      "traceparent", "00-0af7651916cd43dd8448eb211c80319c"
			      "-b7ad6b7169203331-01"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_EQ(in.lo, 5) && ASSERT_EQ(in.span, 6) &&
	     ASSERT_EQ(in.sampled, 0);
	/* B3 wins over traceparent. */
	ok = ok && read_of(KV("traceparent", "00-0af7651916cd43dd8448eb211c80319c"
			      "-b7ad6b7169203331-01",
			      "x-b3-traceid", "0000000000000005",
			      "x-b3-spanid", "0000000000000006"), &in) &&
	     ASSERT_TRUE(in.ctx) && ASSERT_EQ(in.lo, 5) && ASSERT_EQ(in.span, 6);
	hhead_free(&hd);
	return ok;
}

/* ---- sampling ------------------------------------------------------------- */

static bool test_sample(void)
{
	struct mf_trace_sampling none = { 0 };
	struct mf_trace_sampling s = { .present = 7, .overall = 80000,
				       .client = 40000, .random = 60000 };
	struct mf_trace_sampling zero = { .present = 1, .overall = 0 };
	bool ok;

	/* Nothing set: 100% each, every draw traced. */
	ok = ASSERT_TRUE(trace_sample(&none, false, false, 0)) &&
	     ASSERT_TRUE(trace_sample(&none, false, false, TRACE_PCT_ALL - 1));
	/* random 60: below 60% traced; client 40 adds nothing then. */
	ok = ok && ASSERT_TRUE(trace_sample(&s, false, false, 59999)) &&
	     ASSERT_FALSE(trace_sample(&s, false, false, 60000)) &&
	     ASSERT_TRUE(trace_sample(&s, true, false, 39999)) &&
	     ASSERT_FALSE(trace_sample(&s, true, false, 60000));
	/* Forced, then overall still caps it at 80%. */
	ok = ok && ASSERT_TRUE(trace_sample(&s, false, true, 79999)) &&
	     ASSERT_FALSE(trace_sample(&s, false, true, 80000));
	/* overall 0: nothing, forced or not. */
	ok = ok && ASSERT_FALSE(trace_sample(&zero, false, false, 0)) &&
	     ASSERT_FALSE(trace_sample(&zero, true, true, 0));
	return ok;
}

/* ---- ids and headers ------------------------------------------------------ */

static bool hdr_is(const char *name, const char *want)
{
	const char *v;
	size_t n;

	if (!want)
		return ASSERT_FALSE(hhead_get(&hd, name, &v, &n));
	return ASSERT_TRUE(hhead_get(&hd, name, &v, &n)) &&
	       ASSERT_EQ(n, strlen(want)) && ASSERT_MEMEQ(v, want, n);
}

static bool test_decide(void)
{
	struct trace_conn t;
	struct lb_rng rng;
	char sid[17], pid[17];
	bool ok;

	lb_rng_seed(&rng, 42);
	memset(&t, 0, sizeof(t));
	t.out.on = t.in.on = true;
	t.in.shared = true;
	/* A new trace, 64 bits: CLIENT root; SERVER shares it; upstream
	 * is told the shared span, no parent. */
	ok = ASSERT_TRUE(head_of(KV("b3", "1"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0) &&
	     ASSERT_TRUE(t.req.on) && ASSERT_TRUE(t.req.sampled) &&
	     ASSERT_FALSE(t.req.id128) && ASSERT_EQ(t.req.hi, 0) &&
	     ASSERT_NE(t.req.lo, 0) && ASSERT_NE(t.req.client_id, 0) &&
	     ASSERT_EQ(t.req.client_parent, 0) &&
	     ASSERT_EQ(t.req.server_id, t.req.client_id) &&
	     ASSERT_TRUE(t.req.shared) && ASSERT_EQ(t.req.server_parent, 0);
	tspan_hex64(t.req.client_id, sid);
	ok = ok && hdr_is("b3", NULL) && hdr_is("x-b3-spanid", sid) &&
	     hdr_is("x-b3-parentspanid", NULL) && hdr_is("x-b3-sampled", "1");
	if (ok) {
		char tid[17], tp[64];

		tspan_hex64(t.req.lo, tid);
		snprintf(tp, sizeof(tp), "00-0000000000000000%s-%s-01", tid,
			 sid);
		ok = hdr_is("x-b3-traceid", tid) && hdr_is("traceparent", tp);
	}
	/* A second try: the same ids, set again on the client's head. */
	if (ok) {
		struct trace_req first = t.req;

		ok = ASSERT_TRUE(head_of(KV("x-b3-sampled", "0"))) &&
		     ASSERT_EQ(trace_request(&t, &hd, 1, &rng), 0) &&
		     ASSERT_MEMEQ(&t.req, &first, sizeof(first)) &&
		     hdr_is("x-b3-spanid", sid) && hdr_is("x-b3-sampled", "1");
	}
	/* Continued, not shared: CLIENT child of the request's span,
	 * SERVER child of CLIENT; upstream told the SERVER span. */
	t.in.shared = false;
	ok = ok && ASSERT_TRUE(head_of(KV("x-b3-traceid",
					  "463ac35c9f6413ad48485a3953bb6124",
					  "x-b3-spanid", "a2fb4a1d1a96d312",
					  "x-b3-sampled", "1"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0) &&
	     ASSERT_TRUE(t.req.id128) &&
	     ASSERT_EQ(t.req.hi, 0x463ac35c9f6413adULL) &&
	     ASSERT_EQ(t.req.lo, 0x48485a3953bb6124ULL) &&
	     ASSERT_EQ(t.req.client_parent, 0xa2fb4a1d1a96d312ULL) &&
	     ASSERT_FALSE(t.req.shared) &&
	     ASSERT_EQ(t.req.server_parent, t.req.client_id) &&
	     ASSERT_NE(t.req.server_id, t.req.client_id);
	if (ok) {
		tspan_hex64(t.req.server_id, sid);
		tspan_hex64(t.req.client_id, pid);
		ok = hdr_is("x-b3-traceid", "463ac35c9f6413ad48485a3953bb6124") &&
		     hdr_is("x-b3-spanid", sid) &&
		     hdr_is("x-b3-parentspanid", pid) &&
		     hdr_is("x-b3-sampled", "1");
	}
	/* sampled=0 from the client: not sampled, and 0 goes on. */
	ok = ok && ASSERT_TRUE(head_of(KV("x-b3-sampled", "0"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0) &&
	     ASSERT_FALSE(t.req.sampled) && hdr_is("x-b3-sampled", "0");
	/* Outbound side only, 128-bit by its traceId128bit, overall 0:
	 * not sampled, upstream told the CLIENT span with sampled 0. */
	memset(&t, 0, sizeof(t));
	t.out.on = true;
	t.out.id128 = true;
	t.out.sampling.present = 1;
	ok = ok && ASSERT_TRUE(head_of(KV("x-client-trace-id", "x"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0) &&
	     ASSERT_FALSE(t.req.sampled) && ASSERT_TRUE(t.req.id128) &&
	     ASSERT_NE(t.req.hi, 0) && ASSERT_EQ(t.req.server_id, 0) &&
	     ASSERT_EQ(t.req.up_id, t.req.client_id) &&
	     hdr_is("x-b3-sampled", "0");
	/* Inbound side only, shared, continuing: the SERVER span is the
	 * request's own span. */
	memset(&t, 0, sizeof(t));
	t.in.on = true;
	t.in.shared = true;
	ok = ok && ASSERT_TRUE(head_of(KV("x-b3-traceid", "0000000000000005",
					  "x-b3-spanid", "0000000000000006",
					  "x-b3-parentspanid",
					  "0000000000000007"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0) &&
	     ASSERT_TRUE(t.req.sampled) && ASSERT_EQ(t.req.server_id, 6) &&
	     ASSERT_EQ(t.req.server_parent, 7) && ASSERT_TRUE(t.req.shared);
	hhead_free(&hd);
	return ok;
}

/* ---- selection ------------------------------------------------------------ */

static const char *const policy_yaml =
	RH_MESH4
	/* client's proxy: Zipkin, 128-bit, a literal and a header tag. */
	RH_KUMA("MeshTrace", "client-trace")
	"  targetRef: {kind: MeshService, name: client}\n"
	"  default:\n    backends:\n"
	"      - type: Zipkin\n        zipkin:\n"
	"          url: http://127.0.0.1:9411/api/v2/spans\n"
	"          traceId128bit: true\n"
	"    tags:\n      - {name: team, literal: core}\n"
	"      - name: env\n        header: {name: x-env, default: prod}\n"
	"    sampling: {overall: 50}\n"
	/* web's: Zipkin, not shared. */
	RH_KUMA("MeshTrace", "web-trace")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  default:\n    backends:\n"
	"      - zipkin:\n          url: http://10.0.0.2:9411/api/v2/spans\n"
	"          sharedSpanContext: false\n"
	/* api's: Datadog, its service split. */
	RH_KUMA("MeshTrace", "api-trace")
	"  targetRef: {kind: MeshService, name: api}\n"
	"  default:\n    backends:\n"
	"      - datadog: {url: 'http://127.0.0.1:8126', splitService: true}\n"
	/* other's: Zipkin over protobuf. */
	RH_KUMA("MeshTrace", "other-trace")
	"  targetRef: {kind: MeshService, name: other}\n"
	"  default:\n    backends:\n"
	"      - zipkin: {url: 'http://z:9411/api/v2/spans', "
	"apiVersion: httpProto}\n";

static bool find(struct policy *p, const char *src, const char *vip,
		 struct trace_conn *t)
{
	const struct mf_endpoint *ep = policy_endpoint_by_ip(p, rh_ip4(src));
	const struct mf_service *s = policy_service_by_vip(p, rh_ip4(vip), 80);

	return ASSERT_TRUE(ep && s) &&
	       ASSERT_EQ(trace_find(p, ep, rh_ip4(src), s, t), 0);
}

static bool test_select(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	struct trace_conn *t = malloc(sizeof(*t));
	bool ok;

	if (!ASSERT_TRUE(p && t))
		return false;
	/* client -> web: both sides, each its own. */
	ok = find(p, "10.1.0.9", "10.96.0.10", t) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_TRUE(t->in.on) &&
	     ASSERT_STREQ(t->out.url, "http://127.0.0.1:9411/api/v2/spans") &&
	     ASSERT_EQ(t->out.fmt, TELW_ZIPKIN) &&
	     ASSERT_TRUE(t->out.id128) && ASSERT_TRUE(t->out.shared) &&
	     ASSERT_EQ(t->out.ntags, 2) &&
	     ASSERT_STREQ(t->out.tags[0].literal, "core") &&
	     ASSERT_STREQ(t->out.tags[1].header.name, "x-env") &&
	     ASSERT_EQ(t->out.sampling.overall, 50000) &&
	     ASSERT_STREQ(t->in.url, "http://10.0.0.2:9411/api/v2/spans") &&
	     ASSERT_FALSE(t->in.shared) && ASSERT_FALSE(t->in.id128) &&
	     ASSERT_EQ(t->in.ntags, 0) &&
	     ASSERT_STREQ(t->src_service, "client") &&
	     ASSERT_STREQ(t->src_name, "c1") &&
	     ASSERT_STREQ(t->dst_service, "web") &&
	     ASSERT_STREQ(t->mesh, "default");
	/* client -> api: api's Datadog, at its agent's trace intake, 64-bit
	 * and never shared. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.13", t) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_TRUE(t->in.on) &&
	     ASSERT_EQ(t->in.fmt, TELW_DATADOG) &&
	     ASSERT_STREQ(t->in.url, "http://127.0.0.1:8126/v0.4/traces") &&
	     ASSERT_TRUE(t->in.split) && ASSERT_FALSE(t->out.split) &&
	     ASSERT_FALSE(t->in.id128) && ASSERT_FALSE(t->in.shared);
	/* other -> api: Zipkin's protobuf to its URL, and Datadog. */
	ok = ok && find(p, "10.1.0.10", "10.96.0.13", t) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_TRUE(t->in.on) &&
	     ASSERT_EQ(t->out.fmt, TELW_ZIPKIN_PROTO) &&
	     ASSERT_STREQ(t->out.url, "http://z:9411/api/v2/spans") &&
	     ASSERT_TRUE(t->out.shared);
	/* api -> web: api's Datadog as the outbound side, web's Zipkin. */
	ok = ok && find(p, "10.1.0.5", "10.96.0.10", t) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_EQ(t->out.fmt, TELW_DATADOG) &&
	     ASSERT_TRUE(t->out.split) && ASSERT_TRUE(t->in.on) &&
	     ASSERT_EQ(t->in.fmt, TELW_ZIPKIN);
	policy_put(p);
	/* A MeshTrace for other only: none for client -> web. */
	p = rh_yaml_snapshot(RH_MESH4 RH_KUMA("MeshTrace", "other-only")
			     "  targetRef: {kind: MeshService, name: other}\n"
			     "  default:\n    backends:\n"
			     "      - zipkin: {url: 'http://z:9411/'}\n", 1);
	ok = ok && ASSERT_TRUE(p) && find(p, "10.1.0.9", "10.96.0.10", t) &&
	     ASSERT_FALSE(t->out.on) && ASSERT_FALSE(t->in.on) &&
	     find(p, "10.1.0.10", "10.96.0.10", t) && ASSERT_TRUE(t->out.on);
	policy_put(p);
	/* OpenTelemetry: an endpoint is reported to over OTLP/gRPC (4317
	 * when it names no port), 128-bit, never shared; a backendRef over
	 * the protocol of the MeshOpenTelemetryBackend it selects. */
	p = rh_yaml_snapshot(RH_MESH4 RH_KUMA("MeshTrace", "otel")
			     "  targetRef: {kind: Mesh}\n"
			     "  default:\n    backends:\n"
			     "      - type: OpenTelemetry\n"
			     "        openTelemetry: {endpoint: otel-collector}\n"
			     RH_KUMA("MeshTrace", "otel-ref")
			     "  targetRef: {kind: MeshService, name: web}\n"
			     "  default:\n    backends:\n"
			     "      - type: OpenTelemetry\n"
			     "        openTelemetry:\n"
			     "          backendRef:\n"
			     "            kind: MeshOpenTelemetryBackend\n"
			     "            labels: {app: otel}\n"
			     "---\napiVersion: kuma.io/v1alpha1\n"
			     "kind: MeshOpenTelemetryBackend\n"
			     "metadata: {name: collector, labels: {app: otel}}\n"
			     "spec:\n"
			     "  endpoint: {address: 10.0.0.5, path: /otlp}\n"
			     "  protocol: http\n", 1);
	ok = ok && ASSERT_TRUE(p) && find(p, "10.1.0.9", "10.96.0.10", t) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_TRUE(t->in.on) &&
	     ASSERT_EQ(t->out.fmt, TELW_OTLP_TRACES_GRPC) &&
	     ASSERT_STREQ(t->out.url, "http://otel-collector:4317/"
			  "opentelemetry.proto.collector.trace.v1.TraceService/"
			  "Export") &&
	     ASSERT_TRUE(t->out.id128) && ASSERT_FALSE(t->in.shared) &&
	     ASSERT_EQ(t->in.fmt, TELW_OTLP_TRACES_HTTP) &&
	     ASSERT_STREQ(t->in.url, "http://10.0.0.5:4318/otlp/v1/traces");
	policy_put(p);
	/* No MeshTrace at all: none. */
	p = rh_yaml_snapshot(RH_MESH4, 1);
	ok = ok && ASSERT_TRUE(p) && find(p, "10.1.0.9", "10.96.0.10", t) &&
	     ASSERT_FALSE(trace_any(t));
	policy_put(p);
	free(t);
	return ok;
}

/* A builtin gateway's listener: a MeshTrace targeting its MeshGateway
 * applies to its requests, as the outbound side, whatever their
 * destination (none, for an answer of its own); one for another gateway
 * does not. */
static bool test_select_gateway(void)
{
	static const char yaml[] =
		RH_MESH4 RH_GW2
		RH_KUMA("MeshTrace", "edge-trace")
		"  targetRef: {kind: MeshGateway, name: edge}\n"
		"  default:\n    backends:\n"
		"      - zipkin: {url: 'http://z:9411/api/v2/spans'}\n";
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	const struct sel_workload edge = { .name = "edge-1", .gateway = "edge",
					   .service = "edge-gateway",
					   .port = 8080 },
				  nogw = { .name = "x-1", .gateway = "other",
					   .service = "x-gateway",
					   .port = 8080 };
	const struct mf_service *web;
	struct trace_conn *t = malloc(sizeof(*t));
	bool ok;

	if (!ASSERT_TRUE(p && t))
		return false;
	web = policy_service_by_vip(p, rh_ip4("10.96.0.10"), 80);
	ok = ASSERT_TRUE(web) &&
	     ASSERT_EQ(trace_find_gateway(p, &edge, rh_ip4("192.0.2.1"), web,
					  t), 0) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_FALSE(t->in.on) &&
	     ASSERT_STREQ(t->out.url, "http://z:9411/api/v2/spans") &&
	     ASSERT_STREQ(t->src_service, "edge-gateway") &&
	     ASSERT_STREQ(t->src_name, "edge-1") &&
	     ASSERT_STREQ(t->dst_service, "web");
	ok = ok && ASSERT_EQ(trace_find_gateway(p, &edge, 0, NULL, t), 0) &&
	     ASSERT_TRUE(t->out.on) && ASSERT_TRUE(t->dst_service == NULL);
	ok = ok && ASSERT_EQ(trace_find_gateway(p, &nogw, 0, web, t), 0) &&
	     ASSERT_FALSE(trace_any(t));
	policy_put(p);
	free(t);
	return ok;
}

/* ---- the writer ----------------------------------------------------------- */

/* A Zipkin collector on loopback: reads POSTs, answers 202, keeps their
 * bodies. */
#define COLLECTOR_CONNS	4

/* One connection of the collector: what it read and not yet took. */
struct collector_conn {
	int fd;				/* -1: none */
	char buf[16384];
	size_t have;
};

/* An HTTP/1.1 collector on loopback: every POST's body kept, one after
 * the other (each followed by '\n'), and where each starts; it answers
 * 202 and keeps the connection.  Several connections at once (the
 * writer's kept-alive one, and OTLP's, one per export). */
struct collector {
	int ls;
	uint16_t port;
	pthread_t th;
	pthread_mutex_t lock;
	bool stop;
	struct collector_conn conns[COLLECTOR_CONNS];
	char bodies[16384];
	size_t len;
	int posts;
	size_t off[16], blen[16];	/* the first 16 POSTs' bodies */
	char head[16][512];		/* ... and their heads (cut) */
};

/* The requests whole in @cc's buffer, taken: their bodies kept.  False
 * when the connection is to be closed. */
static bool collector_take(struct collector *c, struct collector_conn *cc)
{
	static const char rsp[] = "HTTP/1.1 202 Accepted\r\n"
				  "Content-Length: 0\r\n\r\n";

	for (;;) {
		char *end, *cl;
		size_t head, body;

		cc->buf[cc->have] = '\0';
		end = strstr(cc->buf, "\r\n\r\n");
		cl = strcasestr(cc->buf, "content-length:");
		if (!end || !cl)
			return true;
		head = (size_t)(end + 4 - cc->buf);
		body = strtoul(cl + 15, NULL, 10);
		if (cc->have < head + body)
			return true;
		pthread_mutex_lock(&c->lock);
		if (c->len + body + 2 < sizeof(c->bodies)) {
			if (c->posts < 16) {
				c->off[c->posts] = c->len;
				c->blen[c->posts] = body;
				snprintf(c->head[c->posts],
					 sizeof(c->head[0]), "%.*s",
					 (int)head, cc->buf);
			}
			memcpy(c->bodies + c->len, cc->buf + head, body);
			c->len += body;
			c->bodies[c->len++] = '\n';
			c->bodies[c->len] = '\0';
		}
		c->posts++;
		pthread_mutex_unlock(&c->lock);
		if (write(cc->fd, rsp, sizeof(rsp) - 1) < 0)
			return false;
		memmove(cc->buf, cc->buf + head + body,
			cc->have - head - body);
		cc->have -= head + body;
	}
}

static void *collector_run(void *arg)
{
	struct collector *c = arg;

	for (;;) {
		struct pollfd pfd[COLLECTOR_CONNS + 1];
		bool stop;

		pthread_mutex_lock(&c->lock);
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			break;
		pfd[0] = (struct pollfd){ .fd = c->ls, .events = POLLIN };
		for (int i = 0; i < COLLECTOR_CONNS; i++)
			pfd[i + 1] = (struct pollfd){ .fd = c->conns[i].fd,
						      .events = POLLIN };
		if (poll(pfd, COLLECTOR_CONNS + 1, 50) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int fd = accept(c->ls, NULL, NULL);

			for (int i = 0; fd >= 0 && i < COLLECTOR_CONNS; i++)
				if (c->conns[i].fd < 0) {
					c->conns[i].fd = fd;
					c->conns[i].have = 0;
					fd = -1;
				}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < COLLECTOR_CONNS; i++) {
			struct collector_conn *cc = &c->conns[i];
			ssize_t k;

			if (cc->fd < 0 || !(pfd[i + 1].revents &
					    (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(cc->fd, cc->buf + cc->have,
				 sizeof(cc->buf) - 1 - cc->have);
			if (k <= 0 || (cc->have += (size_t)k,
				       !collector_take(c, cc))) {
				close(cc->fd);
				cc->fd = -1;
			}
		}
	}
	return NULL;
}

static bool collector_start(struct collector *c)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	memset(c, 0, sizeof(*c));
	for (int i = 0; i < COLLECTOR_CONNS; i++)
		c->conns[i].fd = -1;
	pthread_mutex_init(&c->lock, NULL);
	c->ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->ls < 0 || bind(c->ls, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(c->ls, 4) ||
	    getsockname(c->ls, (struct sockaddr *)&a, &alen))
		return false;
	c->port = ntohs(a.sin_port);
	return !pthread_create(&c->th, NULL, collector_run, c);
}

/* The collector goes away: its listener and its connections close. */
static void collector_stop(struct collector *c)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->th, NULL);
	close(c->ls);
	for (int i = 0; i < COLLECTOR_CONNS; i++)
		if (c->conns[i].fd >= 0)
			close(c->conns[i].fd);
	pthread_mutex_destroy(&c->lock);
}

/* A sampled request of client to web through trace_done(): one POST of
 * both spans to the collector (the two sides name one URL), with the
 * ids trace_request() decided, the tags of each side; and a collector
 * that is down: its spans counted failed, the agent's counters only. */
static bool test_report(void)
{
	const char *hv;
	size_t hn;
	struct collector col;
	struct trace_conn t;
	struct telw *w = NULL;
	struct lb_rng rng;
	uint64_t dropped = 0;
	char want[256], tid[17], cid[17];
	struct trace_vals v = { .status = 503, .request_id = "rid-7",
				.request_id_len = 5, .seconds = 0.25,
				.up_port = 8080, .up_name = "w1" };
	bool ok;

	lb_rng_seed(&rng, 7);
	memset(&t, 0, sizeof(t));
	t.out.on = t.in.on = true;
	t.out.fmt = t.in.fmt = TELW_ZIPKIN;
	t.in.shared = true;
	t.out.ntags = 1;
	t.out.tags[0].present = 1u << 1;
	snprintf(t.out.tags[0].name, sizeof(t.out.tags[0].name), "team");
	snprintf(t.out.tags[0].literal, sizeof(t.out.tags[0].literal), "core");
	t.in.ntags = 1;
	t.in.tags[0].present = 1u << 2;
	snprintf(t.in.tags[0].name, sizeof(t.in.tags[0].name), "env");
	snprintf(t.in.tags[0].header.name, sizeof(t.in.tags[0].header.name),
		 "x-env");
	t.mesh = "default";
	t.src_service = "client";
	t.src_name = "c1";
	t.dst_service = "web";
	t.src_ip = rh_ip4("10.1.0.9");
	v.up_ip = rh_ip4("10.1.0.1");
	ok = ASSERT_TRUE(collector_start(&col)) &&
	     ASSERT_EQ(telw_start(&w), 0);
	snprintf(t.out.url, sizeof(t.out.url),
		 "http://127.0.0.1:%u/api/v2/spans", col.port);
	memcpy(t.in.url, t.out.url, sizeof(t.in.url));
	ok = ok && ASSERT_TRUE(head_of(KV("Host", "web", "x-env", "qa\"1"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	/* Zipkin's sides: B3 and W3C upstream, not Datadog's headers. */
	ok = ok && ASSERT_TRUE(hhead_get(&hd, "x-b3-traceid", &hv, &hn)) &&
	     ASSERT_FALSE(hhead_get(&hd, "x-datadog-trace-id", &hv, &hn));
	v.req = &hd;
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_delivered(w, TELW_SPANS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(dropped, 0) && ASSERT_EQ(telw_delivered(w, TELW_SPANS), 2) &&
	     ASSERT_EQ(telw_failed(w, TELW_SPANS), 0) && ASSERT_FALSE(t.req.on);
	pthread_mutex_lock(&col.lock);
	tspan_hex64(t.req.lo, tid);
	tspan_hex64(t.req.client_id, cid);
	/* One POST, a JSON array of the two. */
	ok = ok && ASSERT_EQ(col.posts, 1) && ASSERT_TRUE(col.bodies[0] == '[');
	snprintf(want, sizeof(want), "{\"traceId\": \"%s\", \"id\": \"%s\", "
		 "\"kind\": \"CLIENT\", \"name\": \"web\"", tid, cid);
	ok = ok && ASSERT_TRUE(strstr(col.bodies, want) != NULL);
	snprintf(want, sizeof(want), "{\"traceId\": \"%s\", \"id\": \"%s\", "
		 "\"kind\": \"SERVER\", \"name\": \"web\"", tid, cid);
	ok = ok && ASSERT_TRUE(strstr(col.bodies, want) != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"duration\": 250000, "
			"\"shared\": true, \"localEndpoint\": {\"serviceName\": "
			"\"web\", \"ipv4\": \"10.1.0.1\", \"port\": 8080}") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"http.url\": \"http://web/p?q=1\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"http.status_code\": \"503\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"guid:x-request-id\": \"rid-7\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"error\": \"true\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"node_id\": \"default.c1\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"node_id\": \"default.w1\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"upstream_cluster\": \"localhost:8080\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"team\": \"core\"}") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"env\": \"qa\\\"1\"}") != NULL);
	pthread_mutex_unlock(&col.lock);
	collector_stop(&col);
	/* The collector is gone: both spans of the next request fail,
	 * counted; nothing is counted dropped at the push. */
	ok = ok && ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_failed(w, TELW_SPANS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_failed(w, TELW_SPANS), 2) &&
	     ASSERT_EQ(telw_delivered(w, TELW_SPANS), 2) && ASSERT_EQ(dropped, 0);
	telw_stop(w);
	/* No writer: the spans are counted dropped. */
	ok = ok && ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	if (ok)
		trace_done(&t, &v, NULL, &dropped);
	ok = ok && ASSERT_EQ(dropped, 2);
	hhead_free(&hd);
	return ok;
}

/* An OpenTelemetry side over OTLP/HTTP: its span in an
 * ExportTraceServiceRequest POSTed apart from the Zipkin side's array,
 * as a collector unpacks it. */
static bool test_report_otlp(void)
{
	struct collector col;
	struct trace_conn t;
	struct telw *w = NULL;
	struct lb_rng rng;
	uint64_t dropped = 0;
	struct trace_vals v = { .status = 200, .seconds = 0.001,
				.up_port = 8080, .up_name = "w1" };
	treq_t *q = NULL;
	uint8_t sid[8];
	bool ok;

	lb_rng_seed(&rng, 9);
	memset(&t, 0, sizeof(t));
	t.out.on = t.in.on = true;
	t.out.fmt = TELW_ZIPKIN;
	t.in.fmt = TELW_OTLP_TRACES_HTTP;
	t.in.id128 = true;
	t.mesh = "default";
	t.src_service = "client";
	t.dst_service = "web";
	ok = ASSERT_TRUE(collector_start(&col)) &&
	     ASSERT_EQ(telw_start(&w), 0);
	snprintf(t.out.url, sizeof(t.out.url),
		 "http://127.0.0.1:%u/api/v2/spans", col.port);
	snprintf(t.in.url, sizeof(t.in.url), "http://127.0.0.1:%u/v1/traces",
		 col.port);
	ok = ok && ASSERT_TRUE(head_of(KV("Host", "web"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	v.req = &hd;
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_delivered(w, TELW_SPANS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_delivered(w, TELW_SPANS), 2) && ASSERT_EQ(dropped, 0);
	pthread_mutex_lock(&col.lock);
	for (int i = 7; i >= 0; i--)
		sid[7 - i] = (uint8_t)(t.req.server_id >> (i * 8));
	ok = ok && ASSERT_EQ(col.posts, 2) &&
	     ASSERT_TRUE(strncmp(col.bodies, "[{\"traceId\"", 11) == 0) &&
	     ASSERT_TRUE((q = treq_unpack(col.bodies + col.off[1],
					  col.blen[1]))) &&
	     ASSERT_EQ(q->n_resource_spans, 1) &&
	     ASSERT_STREQ(otlp_attr(q->resource_spans[0]->resource->attributes,
			       q->resource_spans[0]->resource->n_attributes,
			       "service.name"), "web") &&
	     ASSERT_EQ(q->resource_spans[0]->scope_spans[0]->spans[0]->kind,
		       2) &&
	     ASSERT_MEMEQ(q->resource_spans[0]->scope_spans[0]->spans[0]
				  ->span_id.data, sid, 8);
	pthread_mutex_unlock(&col.lock);
	if (q)
		treq_free(q);
	collector_stop(&col);
	telw_stop(w);
	hhead_free(&hd);
	return ok;
}

/* Side @s of @t named to the collector at @port, path @path, as @fmt. */
static void side_at(struct trace_side *s, enum telw_kind fmt, uint16_t port,
		    const char *path)
{
	s->on = true;
	s->fmt = fmt;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u%s", port, path);
}

/* Zipkin's protobuf on both sides (one URL): one POST of
 * application/x-protobuf, a ListOfSpans of both spans with the ids
 * trace_request() decided (the SERVER span sharing the CLIENT's id) and
 * each side's tags, as a collector unpacks it. */
static bool test_report_zipkin_proto(void)
{
	struct collector col;
	struct trace_conn t;
	struct telw *w = NULL;
	struct lb_rng rng;
	uint64_t dropped = 0;
	struct trace_vals v = { .status = 503, .seconds = 0.25,
				.up_port = 8080, .up_name = "w1" };
	Zipkin__Proto3__Span *c = NULL, *sv = NULL;
	zlist_t *q = NULL;
	uint8_t tid[8], cid[8];
	bool ok;

	lb_rng_seed(&rng, 11);
	memset(&t, 0, sizeof(t));
	t.in.shared = true;
	t.mesh = "default";
	t.src_service = "client";
	t.src_name = "c1";
	t.dst_service = "web";
	t.src_ip = rh_ip4("10.1.0.9");
	v.up_ip = rh_ip4("10.1.0.1");
	ok = ASSERT_TRUE(collector_start(&col)) &&
	     ASSERT_EQ(telw_start(&w), 0);
	side_at(&t.out, TELW_ZIPKIN_PROTO, col.port, "/api/v2/spans");
	side_at(&t.in, TELW_ZIPKIN_PROTO, col.port, "/api/v2/spans");
	ok = ok && ASSERT_TRUE(head_of(KV("Host", "web"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	v.req = &hd;
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_delivered(w, TELW_SPANS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_delivered(w, TELW_SPANS), 2) &&
	     ASSERT_EQ(dropped, 0);
	for (int i = 7; i >= 0; i--) {
		tid[7 - i] = (uint8_t)(t.req.lo >> (i * 8));
		cid[7 - i] = (uint8_t)(t.req.client_id >> (i * 8));
	}
	pthread_mutex_lock(&col.lock);
	ok = ok && ASSERT_EQ(col.posts, 1) &&
	     ASSERT_TRUE(strncmp(col.head[0], "POST /api/v2/spans ", 19) == 0) &&
	     ASSERT_TRUE(strcasestr(col.head[0], "\r\nContent-Type: "
				    "application/x-protobuf\r\n") != NULL) &&
	     ASSERT_TRUE((q = zlist_unpack(col.bodies + col.off[0],
					   col.blen[0]))) &&
	     ASSERT_EQ(q->n_spans, 2);
	pthread_mutex_unlock(&col.lock);
	for (size_t i = 0; ok && i < q->n_spans; i++) {
		if (q->spans[i]->kind == ZIPKIN__PROTO3__SPAN__KIND__CLIENT)
			c = q->spans[i];
		else
			sv = q->spans[i];
	}
	ok = ok && ASSERT_TRUE(c && sv) &&
	     ASSERT_EQ(c->trace_id.len, 8) &&
	     ASSERT_MEMEQ(c->trace_id.data, tid, 8) &&
	     ASSERT_MEMEQ(sv->trace_id.data, tid, 8) &&
	     ASSERT_MEMEQ(c->id.data, cid, 8) &&
	     ASSERT_MEMEQ(sv->id.data, cid, 8) && ASSERT_TRUE(sv->shared) &&
	     ASSERT_STREQ(c->local_endpoint->service_name, "client") &&
	     ASSERT_STREQ(sv->local_endpoint->service_name, "web") &&
	     ASSERT_EQ(sv->local_endpoint->port, 8080) &&
	     ASSERT_EQ(sv->duration, 250000) &&
	     ASSERT_STREQ(ztag(c, "http.status_code"), "503") &&
	     ASSERT_STREQ(ztag(sv, "error"), "true") &&
	     ASSERT_STREQ(ztag(c, "node_id"), "default.c1") &&
	     ASSERT_STREQ(ztag(sv, "upstream_cluster"), "localhost:8080");
	if (q)
		zipkin__proto3__list_of_spans__free_unpacked(q, NULL);
	collector_stop(&col);
	telw_stop(w);
	hhead_free(&hd);
	return ok;
}

/* Datadog on both sides, at one agent, splitService on: one POST to
 * /v0.4/traces of application/json, one chunk of the request's two spans
 * (the SERVER span a child of the CLIENT span, not shared), their
 * services client_OUTBOUND_web and web_INBOUND; both spans counted
 * reported.  Without splitService, the services as they are; a
 * gateway's answer of its own, split: <service>_OUTBOUND; and the agent
 * down: both spans counted failed. */
/* Whether head @h has header @name with the value printf makes of
 * @fmt. */
static bool header_is(const struct hhead *h, const char *name,
		      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static bool header_is(const struct hhead *h, const char *name,
		      const char *fmt, ...)
{
	char want[128];
	const char *v;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	return hhead_get(h, name, &v, &n) && n == strlen(want) &&
	       !memcmp(v, want, n);
}

static bool test_report_datadog(void)
{
	const char *hv;
	size_t hn;
	struct collector col;
	struct trace_conn t;
	struct telw *w = NULL;
	struct lb_rng rng;
	uint64_t dropped = 0;
	struct trace_vals v = { .status = 200, .seconds = 0.001,
				.up_port = 8080, .up_name = "w1" };
	char want[512];
	bool ok;

	lb_rng_seed(&rng, 13);
	memset(&t, 0, sizeof(t));
	t.mesh = "default";
	t.src_service = "client";
	t.dst_service = "web";
	ok = ASSERT_TRUE(collector_start(&col)) &&
	     ASSERT_EQ(telw_start(&w), 0);
	side_at(&t.out, TELW_DATADOG, col.port, "/v0.4/traces");
	side_at(&t.in, TELW_DATADOG, col.port, "/v0.4/traces");
	t.out.split = t.in.split = true;
	ok = ok && ASSERT_TRUE(head_of(KV("Host", "web"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0) &&
	     ASSERT_FALSE(t.req.shared) &&
	     ASSERT_EQ(t.req.server_parent, t.req.client_id);
	/* The upstream is told the SERVER span in Datadog's headers too. */
	ok = ok && ASSERT_TRUE(header_is(&hd, "x-datadog-trace-id", "%llu",
					 (unsigned long long)t.req.lo)) &&
	     ASSERT_TRUE(header_is(&hd, "x-datadog-parent-id", "%llu",
				   (unsigned long long)t.req.server_id)) &&
	     ASSERT_TRUE(header_is(&hd, "x-datadog-sampling-priority", "1")) &&
	     ASSERT_FALSE(hhead_get(&hd, "x-datadog-tags", &hv, &hn));
	v.req = &hd;
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_delivered(w, TELW_SPANS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_delivered(w, TELW_SPANS), 2) &&
	     ASSERT_EQ(dropped, 0);
	pthread_mutex_lock(&col.lock);
	snprintf(want, sizeof(want),
		 "[[{\"trace_id\": %llu, \"span_id\": %llu, \"parent_id\": 0, "
		 "\"name\": \"envoy.proxy\", \"resource\": \"web\", "
		 "\"service\": \"client_OUTBOUND_web\", \"type\": \"web\", ",
		 (unsigned long long)t.req.lo,
		 (unsigned long long)t.req.client_id);
	ok = ok && ASSERT_EQ(col.posts, 1) &&
	     ASSERT_TRUE(strncmp(col.head[0], "POST /v0.4/traces ", 18) == 0) &&
	     ASSERT_TRUE(strcasestr(col.head[0], "\r\nContent-Type: "
				    "application/json\r\n") != NULL) &&
	     ASSERT_TRUE(strncmp(col.bodies, want, strlen(want)) == 0);
	snprintf(want, sizeof(want),
		 "}, {\"trace_id\": %llu, \"span_id\": %llu, \"parent_id\": %llu, "
		 "\"name\": \"envoy.proxy\", \"resource\": \"web\", "
		 "\"service\": \"web_INBOUND\", \"type\": \"web\", ",
		 (unsigned long long)t.req.lo,
		 (unsigned long long)t.req.server_id,
		 (unsigned long long)t.req.client_id);
	ok = ok && ASSERT_TRUE(strstr(col.bodies, want) != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "\"http.status_code\": \"200\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies, "}]]\n") != NULL);
	pthread_mutex_unlock(&col.lock);
	/* Not split: each side's own service. */
	t.out.split = t.in.split = false;
	ok = ok && ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_delivered(w, TELW_SPANS) < 4; i++)
		usleep(10000);
	pthread_mutex_lock(&col.lock);
	ok = ok && ASSERT_EQ(col.posts, 2) &&
	     ASSERT_TRUE(strstr(col.bodies + col.off[1],
				"\"service\": \"client\", \"type\"") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies + col.off[1],
				"\"service\": \"web\", \"type\"") != NULL);
	pthread_mutex_unlock(&col.lock);
	/* A builtin gateway's answer of its own (no destination), split:
	 * <service>_OUTBOUND, a chunk of its one span. */
	t.out.split = true;
	t.in.on = false;
	t.src_service = "edge-gateway";
	t.dst_service = NULL;
	ok = ok && ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_delivered(w, TELW_SPANS) < 5; i++)
		usleep(10000);
	pthread_mutex_lock(&col.lock);
	ok = ok && ASSERT_EQ(col.posts, 3) &&
	     ASSERT_TRUE(strstr(col.bodies + col.off[2],
				"\"service\": \"edge-gateway_OUTBOUND\", ") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies + col.off[2], "}}]]\n") != NULL) &&
	     ASSERT_TRUE(strstr(col.bodies + col.off[2], "}}, {") == NULL);
	pthread_mutex_unlock(&col.lock);
	collector_stop(&col);
	t.in.on = true;
	ok = ok && ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	if (ok)
		trace_done(&t, &v, w, &dropped);
	for (int i = 0; ok && i < 500 && telw_failed(w, TELW_SPANS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_failed(w, TELW_SPANS), 2) &&
	     ASSERT_EQ(telw_delivered(w, TELW_SPANS), 5) &&
	     ASSERT_EQ(dropped, 0);
	telw_stop(w);
	hhead_free(&hd);
	return ok;
}

/* The queue is bounded: with the writer held in a POST (a collector
 * that reads and never answers), TELW_QUEUE_MAX spans are queued and
 * the next is refused, counted dropped by trace_done(); once the
 * collector is gone, every span taken is counted failed. */
static bool test_queue_full(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct pollfd pfd = { .events = POLLIN };
	struct trace_conn t;
	struct telw *w = NULL;
	struct lb_rng rng;
	struct trace_vals v = { .status = 200 };
	uint64_t dropped = 0;
	char url[64], b[256];
	int ls, cs = -1;
	bool ok;

	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = ASSERT_TRUE(ls >= 0) &&
	     ASSERT_EQ(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0) &&
	     ASSERT_EQ(listen(ls, 1), 0) &&
	     ASSERT_EQ(getsockname(ls, (struct sockaddr *)&a, &alen), 0) &&
	     ASSERT_EQ(telw_start(&w), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v2/spans",
		 ntohs(a.sin_port));
	/* A batch: the writer takes it at once and POSTs it. */
	for (int i = 0; ok && i < TELW_BATCH; i++)
		ok = ASSERT_EQ(telw_push(w, TELW_ZIPKIN, url, "{}", 2), 0);
	pfd.fd = ls;
	ok = ok && ASSERT_EQ(poll(&pfd, 1, 5000), 1);
	if (ok)
		cs = accept(ls, NULL, NULL);
	pfd.fd = cs;
	ok = ok && ASSERT_TRUE(cs >= 0) && ASSERT_EQ(poll(&pfd, 1, 5000), 1) &&
	     ASSERT_TRUE(read(cs, b, sizeof(b)) > 0);
	/* Held there (2 s at most): the queue fills, then refuses. */
	for (int i = 0; ok && i < TELW_QUEUE_MAX; i++)
		ok = ASSERT_EQ(telw_push(w, TELW_ZIPKIN, url, "{}", 2), 0);
	ok = ok && ASSERT_EQ(telw_push(w, TELW_ZIPKIN, url, "{}", 2),
			     -ENOBUFS);
	memset(&t, 0, sizeof(t));
	t.out.on = t.in.on = true;
	t.out.fmt = t.in.fmt = TELW_ZIPKIN;
	t.dst_service = "web";
	lb_rng_seed(&rng, 3);
	ok = ok && ASSERT_TRUE(head_of(KV("Host", "web"))) &&
	     ASSERT_EQ(trace_request(&t, &hd, 0, &rng), 0);
	v.req = &hd;
	if (ok)
		trace_done(&t, &v, w, &dropped);
	ok = ok && ASSERT_EQ(dropped, 2);
	/* The collector goes: the batch in flight and all that was queued
	 * fail, counted. */
	if (cs >= 0)
		close(cs);
	close(ls);
	for (int i = 0; ok && i < 1000 &&
	     telw_failed(w, TELW_SPANS) < TELW_BATCH + TELW_QUEUE_MAX; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_failed(w, TELW_SPANS), TELW_BATCH + TELW_QUEUE_MAX) &&
	     ASSERT_EQ(telw_delivered(w, TELW_SPANS), 0);
	telw_stop(w);
	hhead_free(&hd);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_span_json);
	TEST_RUN(test_span_otlp);
	TEST_RUN(test_span_zipkin_proto);
	TEST_RUN(test_span_zipkin_proto_wire);
	TEST_RUN(test_span_datadog);
	TEST_RUN(test_read);
	TEST_RUN(test_sample);
	TEST_RUN(test_decide);
	TEST_RUN(test_select);
	TEST_RUN(test_select_gateway);
	TEST_RUN(test_report);
	TEST_RUN(test_report_otlp);
	TEST_RUN(test_report_zipkin_proto);
	TEST_RUN(test_report_datadog);
	TEST_RUN(test_queue_full);
	TEST_MAIN_END();
}
