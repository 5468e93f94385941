/* SPDX-License-Identifier: Apache-2.0 */
/*
 * telw: the thread that delivers the telemetry the loops make, so that
 * the io_uring loops never wait on a disk or a collector: MeshAccessLog's
 * lines and records (meshlog.h), MeshTrace's spans (trace.h).
 *
 * A loop encodes an item and pushes it with its sink's kind and target;
 * the push copies it into a queue of at most TELW_QUEUE_MAX items and
 * never blocks: when the queue is full the item is dropped and the push
 * says so (the caller counts it).  The writer wakes when TELW_BATCH items
 * wait, or TELW_FLUSH_MS after the first of them came, takes up to
 * TELW_BATCH in order, and delivers each run of one sink's items at once:
 *
 *  - TELW_FILE: lines appended to the file at the target path, created
 *    0640 when missing, in one writev(); a failed write closes it and the
 *    lines are tried once more on the file opened again.
 *  - TELW_TCP: lines to "host:port" (resolved with getaddrinfo(), dialled
 *    within TELW_DIAL_MS), in one sendmsg() on one connection kept.
 *  - TELW_OTLP_LOGS_GRPC, _HTTP: otlp_log_encode() records, packed into
 *    one OTLP request for the collector at the target URL
 *    (otlp_logs.h), over gRPC or OTLP/HTTP (collector.h).
 *  - TELW_ZIPKIN: Zipkin v2 span objects (tspan.h), POSTed to the target
 *    URL as one JSON array.
 *  - TELW_ZIPKIN_PROTO: tspan_zipkin_proto() lists, POSTed to the target
 *    URL one after the other as one ListOfSpans (application/x-protobuf).
 *  - TELW_DATADOG: tspan_datadog() chunks, POSTed to the target URL (a
 *    Datadog agent's /v0.4/traces) as one JSON array of them.
 *  - TELW_OTLP_TRACES_GRPC, _HTTP: tspan_otlp() requests, sent one after
 *    the other as one request (tspan.h), over gRPC or OTLP/HTTP.
 *  - TELW_OTLP_METRICS_GRPC, _HTTP: otlp_metrics_pack() requests, alike.
 *
 * An OTLP collector's headers, timeout, compression and certificates are
 * those of the exporter variables its target's fragment names
 * (otlp_target_opts()), taken when its client is made.
 *
 * A file that cannot be opened or written, a dial that fails, a broken
 * connection or a collector that does not take a request leave the sink
 * down for a back off (TELW_BACKOFF_MIN_MS doubling up to
 * TELW_BACKOFF_MAX_MS, one warning each time) during which its items are
 * dropped; the items lost are counted in telw_failed(), those delivered
 * in telw_delivered(), each by what they are (a log line or record, a
 * span, a workload's metrics).
 *
 * Ownership: a pushed item is the queue's, then the writer's, which frees
 * it; sinks and their connections are the writer's.  telw_stop() lets the
 * writer deliver what is queued, joins it and frees everything.  Loops may
 * push concurrently.
 */
#ifndef MF_AGENT_TELW_H
#define MF_AGENT_TELW_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define TELW_QUEUE_MAX		8192
#define TELW_BATCH		64
#define TELW_FLUSH_MS		250
#define TELW_SINKS_MAX		32
#define TELW_DIAL_MS		1000
#define TELW_BACKOFF_MIN_MS	100
#define TELW_BACKOFF_MAX_MS	5000
/* A target's room: a path, host:port, or a collector's URL (an address,
 * a port, a base path and OTLP's own path). */
#define TELW_TARGET_MAX		(3 * MF_PATH_MAX)

enum telw_kind {
	TELW_FILE = 1,
	TELW_TCP,
	TELW_OTLP_LOGS_GRPC,
	TELW_OTLP_LOGS_HTTP,
	TELW_ZIPKIN,
	TELW_OTLP_TRACES_GRPC,
	TELW_OTLP_TRACES_HTTP,
	TELW_OTLP_METRICS_GRPC,
	TELW_OTLP_METRICS_HTTP,
	TELW_ZIPKIN_PROTO,
	TELW_DATADOG,
};

/* What items are, for the counters. */
enum telw_signal {
	TELW_LOGS = 0,			/* file, tcp, OTLP logs */
	TELW_SPANS,			/* Zipkin, Datadog, OTLP traces;
					 * a Datadog chunk counts its
					 * spans */
	TELW_METRICS,			/* OTLP metrics: a workload's
					 * families once */
	TELW_SIGNALS,
};

struct telw;

/* Starts the writer into *@out.  Returns 0 or -errno. */
int telw_start(struct telw **out);

/* Delivers what is queued, stops the writer and frees it.  NULL:
 * nothing. */
void telw_stop(struct telw *w);

/* Queues item @b (@n bytes) for the sink of @kind at @target
 * (NUL-terminated).  Returns 0, -ENOBUFS when the queue is full,
 * -ENAMETOOLONG for a target of TELW_TARGET_MAX bytes or more, or
 * -ENOMEM: the item is dropped. */
int telw_push(struct telw *w, enum telw_kind kind, const char *target,
	      const void *b, size_t n);

/* telw_push() of an item that holds @count of what its signal counts (a
 * Datadog chunk of two spans: 2). */
int telw_push_n(struct telw *w, enum telw_kind kind, const char *target,
		const void *b, size_t n, uint32_t count);

/* Items of signal @s the writer took and could not deliver (a sink
 * down), and those a sink took. */
uint64_t telw_failed(const struct telw *w, enum telw_signal s);
uint64_t telw_delivered(const struct telw *w, enum telw_signal s);

#endif /* MF_AGENT_TELW_H */
