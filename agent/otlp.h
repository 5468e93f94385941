/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp: what the agent sends an OpenTelemetry collector, in OpenTelemetry's
 * protocol (OTLP): requests packed by libprotobuf-c from the messages
 * protoc-c makes of proto/ (otlp_logs.h for MeshAccessLog's records,
 * tspan.h for MeshTrace's spans, otlp_metrics.h for MeshMetric's), sent
 * by the writer thread (telw.h) to a collector (collector.h) over gRPC
 * (the signal's service's Export) or OTLP/HTTP (a POST to the signal's
 * path).  Here: where a collector takes
 * a signal, and strings as OTLP wants them, valid UTF-8.
 */
#ifndef MF_AGENT_OTLP_H
#define MF_AGENT_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#include "collector.h"

/* An OTLP signal: where its Export is, over each protocol. */
struct otlp_signal {
	const char *grpc_path;		/* its service's Export */
	const char *http_path;		/* OTLP/HTTP's, after a base path */
};

extern const struct otlp_signal otlp_logs_signal, otlp_traces_signal,
	otlp_metrics_signal;

/* A collector's port when its address names none. */
#define OTLP_GRPC_PORT		4317
#define OTLP_HTTP_PORT		4318

struct mf_otel_backend;

/* The URL of signal @sig at collector endpoint @ep ("host[:port]", an
 * IPv6 address in brackets; OTLP_GRPC_PORT when it names none), which
 * speaks gRPC, into @url (@cap bytes).  Returns COLLECTOR_GRPC. */
enum collector_proto otlp_endpoint_url(const char *ep,
				       const struct otlp_signal *sig,
				       char *url, size_t cap);

/* The same for MeshOpenTelemetryBackend @ob (it names an address): gRPC
 * at address:port (OTLP_GRPC_PORT by default), or with protocol http
 * OTLP/HTTP at address:port (OTLP_HTTP_PORT), its base path and the
 * signal's.  Returns COLLECTOR_GRPC or COLLECTOR_PROTOBUF. */
enum collector_proto otlp_backend_url(const struct mf_otel_backend *ob,
				      const struct otlp_signal *sig,
				      char *url, size_t cap);

/* @s (NULL: "") into @b at *@at (@cap bytes in all), NUL-terminated, *@at
 * past it, as valid UTF-8: a byte that does not start or continue a
 * well-formed sequence is written '?'.  False when it does not fit. */
bool otlp_put_str(char *b, size_t cap, size_t *at, const char *s);

#endif /* MF_AGENT_OTLP_H */
