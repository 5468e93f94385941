/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tracew: the thread that reports finished spans to their Zipkin
 * collectors, so that the io_uring loops never wait on one.
 *
 * A loop encodes a span (tspan.h) and pushes it with its collector's URL
 * and format;
 * the push copies it into a queue of at most TRACEW_QUEUE_MAX spans and
 * never blocks: when the queue is full the span is dropped and the push
 * says so (the caller counts it).  The reporter wakes when
 * TRACEW_BATCH spans wait, or TRACEW_FLUSH_MS after it last did, takes
 * them in order, and POSTs each run of one URL's spans in one body with
 * libcurl (Content-Type: application/json; 1 s to connect, 2 s in all),
 * reusing its connections: Zipkin's a JSON array of the spans.  An OTLP
 * collector's run goes in one request too, the packed requests of its
 * spans one after the other (which is one request, tspan.h), sent by
 * otlp_send() over gRPC or HTTP.
 *
 * A collector that refuses, times out or answers other than 2xx is down
 * for a back off (100 ms doubling up to 5 s, one warning each time),
 * during which its spans are dropped; spans taken and not delivered are
 * counted in tracew_failed(), delivered ones in tracew_reported().
 *
 * Ownership: a pushed span is the queue's, then the reporter's, which
 * frees it.  tracew_stop() lets the reporter send what is queued, joins
 * it and frees everything.  Loops may push concurrently.
 */
#ifndef MF_AGENT_TRACEW_H
#define MF_AGENT_TRACEW_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define TRACEW_QUEUE_MAX	4096
#define TRACEW_BATCH		64
#define TRACEW_FLUSH_MS		1000
#define TRACEW_TARGETS_MAX	16
#define TRACEW_BACKOFF_MIN_MS	100
#define TRACEW_BACKOFF_MAX_MS	5000

/* A collector URL's room. */
#define TRACEW_URL_MAX		(3 * MF_PATH_MAX)

/* What a pushed span is, and how its collector takes it. */
enum tracew_fmt {
	TRACEW_ZIPKIN = 1,		/* a Zipkin v2 span object, POSTed
					 * in a JSON array */
	TRACEW_OTLP_GRPC,		/* a packed ExportTraceServiceRequest
					 * (tspan_otlp()), over gRPC ... */
	TRACEW_OTLP_HTTP,		/* ... or OTLP/HTTP (otlp.h) */
};

struct tracew;

/* Starts the reporter into *@out.  Returns 0 or -errno. */
int tracew_start(struct tracew **out);

/* Sends what is queued, stops the reporter and frees it.  NULL:
 * nothing. */
void tracew_stop(struct tracew *w);

/* Queues span @b (@n bytes, in format @fmt) for the collector at @url
 * (NUL-terminated).  Returns 0, -ENOBUFS when the queue is full,
 * -ENAMETOOLONG for a URL of TRACEW_URL_MAX bytes or more, or -ENOMEM:
 * the span is dropped. */
int tracew_push(struct tracew *w, enum tracew_fmt fmt, const char *url,
		const void *b, size_t n);

/* Spans the collectors took (a 2xx answer). */
uint64_t tracew_reported(const struct tracew *w);
/* Spans the reporter took and could not deliver (a collector down). */
uint64_t tracew_failed(const struct tracew *w);

#endif /* MF_AGENT_TRACEW_H */
