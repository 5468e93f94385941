/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trace: MeshTrace in force for one outbound L7 connection, and the
 * spans of its requests.
 *
 * Selection.  MeshTrace has a top-level targetRef and a `default` only:
 * it applies to a proxy as a whole.  Kuma's two proxies of a request each
 * report a span by their own MeshTrace: the source's a CLIENT span, the
 * destination's a SERVER span.  This agent plays both, so it selects both
 * once, when the connection is accepted (its source workload and
 * destination service are fixed), and reports both spans, each to its own
 * side's backend, with its own side's tags.  With no MeshTrace in the
 * snapshot (router_count()) nothing is selected nor allocated.
 *
 * Backends.  A side is on when its merged conf's backend is Zipkin, with
 * apiVersion httpJson (the default; tspan_json()) or httpProto
 * (tspan_zipkin_proto(), POSTed to the same URL); Datadog, to the agent's
 * <url>/v0.4/traces (tspan_datadog(); the spans' service the side's, with
 * splitService as Kuma names it: <service>_INBOUND for the inbound side,
 * <service>_OUTBOUND_<destination> for the outbound one; 64-bit trace
 * ids and no shared span, as Envoy's Datadog tracer); or OpenTelemetry,
 * to which spans go in OTLP (otlp.h, tspan_otlp()): at its `endpoint`
 * (host[:port], 4317 when left out) over gRPC, or at the
 * MeshOpenTelemetryBackend its `backendRef` selects, over that one's
 * protocol.  The OpenTelemetry
 * side's trace ids are 128 bits and its SERVER span a child of the CLIENT
 * span (Envoy's OpenTelemetry tracer shares no span).
 *
 * Propagation (B3, as Envoy's Zipkin tracer, and W3C):
 *   - read: x-b3-traceid + x-b3-spanid (+ x-b3-parentspanid,
 *     x-b3-sampled, x-b3-flags: 1 is debug, sampled), else the single
 *     `b3` header (T-S[-s[-P]], or 0/1/d alone), else Datadog's
 *     x-datadog-trace-id + x-datadog-parent-id (decimal; the high half
 *     of a 128-bit id in x-datadog-tags' _dd.p.tid, and
 *     x-datadog-sampling-priority), else `traceparent`
 *     (00-<32 hex>-<16 hex>-<flags>).  Malformed ids are no context: a
 *     new trace starts (a sampled flag that was valid still counts);
 *   - sampled: the request's own decision when it carries one (0: no
 *     span, and 0 goes on upstream); else the sampling of the side that
 *     decides, the outbound one when it is on, else the inbound one
 *     (Kuma's inbound proxy would see the outbound's decision);
 *   - ids: the trace continues, or a new one starts (128 bits when the
 *     deciding side's traceId128bit says so); the CLIENT span is a child
 *     of the request's span.  The SERVER span shares the CLIENT span's
 *     id and parent (Zipkin's shared) when the inbound side's
 *     sharedSpanContext is true, the default, else is its child;
 *   - upstream: x-b3-traceid, x-b3-spanid, x-b3-parentspanid (removed
 *     when none), x-b3-sampled and traceparent name the last span (the
 *     SERVER's when the inbound side is on, else the CLIENT's); a `b3`
 *     header the client sent is removed, since it names the old span.
 *     When a side reports to Datadog, Datadog's headers name it too
 *     (x-datadog-trace-id, -parent-id, -sampling-priority 1 or 0, and
 *     x-datadog-tags with _dd.p.tid for a 128-bit trace that brought
 *     none), as Envoy's Datadog tracer writes them, so that a Datadog
 *     tracer upstream continues the trace.
 *
 * Sampling, as Envoy's (Kuma's overall, client, random; 100 each when
 * not set): one uniform draw r in [0, 100%) per request; traced when
 * (x-client-trace-id is present and r < client) or x-envoy-force-trace
 * is present or r < random; and then only when r < overall.
 *
 * Ids come from the loop's generator (lb.h, seeded from the kernel), and
 * are never 0.
 */
#ifndef MF_AGENT_TRACE_H
#define MF_AGENT_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hhead.h"
#include "lb.h"
#include "meshforge/abi.h"
#include "policy.h"
#include "policy/select.h"
#include "telw.h"

/* Percentages in thousandths of a percent, as mf_trace_sampling. */
#define TRACE_PCT_ALL	100000u

/* One side's conf, when on. */
struct trace_side {
	bool on;			/* a backend that reports applies */
	enum telw_kind fmt;		/* ... Zipkin's (JSON, protobuf),
					 * Datadog's or OTLP's */
	bool split;			/* Datadog's splitService */
	bool id128;			/* traceId128bit */
	bool shared;			/* sharedSpanContext (default true) */
	char url[TELW_TARGET_MAX];	/* where the spans go */
	struct mf_trace_sampling sampling;
	uint8_t ntags;
	struct mf_trace_tag tags[MF_TRACE_TAGS_MAX];
};

/* A trace context as a request carries it. */
struct trace_in {
	bool ctx;			/* trace and span ids were read */
	uint64_t hi, lo;		/* trace id; hi 0 for 64 bits */
	bool id128;			/* ... written with 32 digits */
	uint64_t span, parent;		/* parent 0: none */
	int sampled;			/* -1: not said, 0 or 1 */
};

/* The ids of one request's spans, decided at its first try. */
struct trace_req {
	bool on;			/* a request is in progress */
	bool sampled;
	uint64_t hi, lo;
	bool id128;
	uint64_t client_id, client_parent;	/* outbound side on */
	uint64_t server_id, server_parent;	/* inbound side on */
	bool shared;
	uint64_t up_id, up_parent;	/* what the upstream is told */
	bool dd;			/* ... in Datadog's headers too */
};

struct trace_conn {
	struct trace_side out, in;
	/* What the spans say; the strings point into the snapshot the
	 * connection holds. */
	const char *mesh, *src_service, *src_name;
	const char *dst_service;	/* NULL: none (a gateway's answer) */
	uint32_t src_ip;		/* network order, 0: unknown */
	struct trace_req req;
};

/* What trace_done() needs of a request that is over. */
struct trace_vals {
	const struct hhead *req;	/* as forwarded; NULL: none */
	int status;
	const char *request_id;		/* NULL: none */
	size_t request_id_len;
	double seconds;			/* first request byte to the end */
	uint32_t up_ip;			/* the endpoint, network order; 0:
					 * none (a reply of the proxy's own) */
	uint16_t up_port;
	const char *up_name;		/* its Workload, NULL: none */
};

/* The MeshTraces in force from endpoint @src (speaking as @src_id, NULL:
 * unknown, from @src_ip) to service @dst, into @t (zeroed first; neither
 * side on: none).  No MeshTrace in @p: no selection.  Returns 0 or
 * -ENOMEM. */
int trace_find(const struct policy *p, const struct mf_endpoint *src,
	       uint32_t src_ip, const struct mf_service *dst,
	       struct trace_conn *t);

/* The MeshTrace in force for a request of a builtin gateway's listener
 * @gw (as selectors see it, gwroute.h) from @src_ip to service @dst
 * (NULL: none, an answer of the gateway's own), into @t (zeroed first):
 * the gateway is the proxy that reports, as the outbound side (its span
 * a CLIENT one); no agent of this mesh plays an inbound proxy for it, as
 * for MeshAccessLog.  Returns 0 or -ENOMEM. */
int trace_find_gateway(const struct policy *p, const struct sel_workload *gw,
		       uint32_t src_ip, const struct mf_service *dst,
		       struct trace_conn *t);

static inline bool trace_any(const struct trace_conn *t)
{
	return t->out.on || t->in.on;
}

/* Side @s of merged conf @conf in snapshot @p (as trace_find() reads
 * it). */
void trace_side_of(const struct policy *p, const struct mf_trace_conf *conf,
		   struct trace_side *s);

/* The trace context request head @h carries, into @in. */
void trace_read(const struct hhead *h, struct trace_in *in);

/* Whether a request is traced by sampling @s with draw @r (in [0,
 * TRACE_PCT_ALL)), @client when it has x-client-trace-id, @forced when
 * x-envoy-force-trace. */
bool trace_sample(const struct mf_trace_sampling *s, bool client, bool forced,
		  uint32_t r);

/* The ids of a request of @t carrying @in, into @r (@rng for new ids and
 * the sampling draw; @client, @forced as trace_sample()). */
void trace_decide(const struct trace_conn *t, const struct trace_in *in,
		  bool client, bool forced, struct lb_rng *rng,
		  struct trace_req *r);

/* @r's headers on request head @h.  Returns 0 or -ENOMEM. */
int trace_headers(const struct trace_req *r, struct hhead *h);

/* The route step of try @attempt of request @h of @t: at its first, its
 * ids decided (trace_read(), trace_decide()); at each, its headers set.
 * Returns 0 or -ENOMEM. */
int trace_request(struct trace_conn *t, struct hhead *h, unsigned int attempt,
		  struct lb_rng *rng);

/* The request of @t is over (@v): its sampled spans pushed to @w, those
 * that could not be (queue full, @w NULL) added to *@dropped. */
void trace_done(struct trace_conn *t, const struct trace_vals *v,
		struct telw *w, uint64_t *dropped);

#endif /* MF_AGENT_TRACE_H */
