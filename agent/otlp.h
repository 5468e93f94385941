/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp: how the agent sends an OpenTelemetry collector what it asks for,
 * in OpenTelemetry's protocol (OTLP): a request packed by libprotobuf-c
 * from the messages protoc-c makes of proto/ (otlp_logs.h), posted by
 * libcurl over gRPC (the signal's service's Export on an HTTP/2
 * connection without TLS, as Envoy's collector cluster dials it) or over
 * HTTP (a POST of the same bytes to the signal's path).
 *
 * Strings go out as OTLP requires them, valid UTF-8: otlp_put_str()
 * writes a byte that does not start or continue a well-formed sequence as
 * '?'.
 */
#ifndef MF_AGENT_OTLP_H
#define MF_AGENT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTLP_EXPORT_TIMEOUT_MS	2000
#define OTLP_CONNECT_TIMEOUT_MS	1000
/* Room a packed request leaves before itself, for gRPC's framing of one
 * message (a flag, its length). */
#define OTLP_HEAD		5

enum otlp_transport {
	OTLP_GRPC = 1,
	OTLP_HTTP,
};

/* An OTLP signal: where its Export is, over each transport. */
struct otlp_signal {
	const char *grpc_path;		/* its service's Export */
	const char *http_path;		/* OTLP/HTTP's, after a base path */
};

extern const struct otlp_signal otlp_logs_signal, otlp_traces_signal;

/* A collector's port when its address names none. */
#define OTLP_GRPC_PORT		4317
#define OTLP_HTTP_PORT		4318

struct mf_otel_backend;

/* The URL of signal @sig at collector endpoint @ep ("host[:port]", an
 * IPv6 address in brackets; OTLP_GRPC_PORT when it names none), which
 * speaks gRPC, into @url (@cap bytes).  Returns OTLP_GRPC. */
enum otlp_transport otlp_endpoint_url(const char *ep,
				      const struct otlp_signal *sig,
				      char *url, size_t cap);

/* The same for MeshOpenTelemetryBackend @ob (it names an address): gRPC
 * at address:port (OTLP_GRPC_PORT by default), or with protocol http
 * OTLP/HTTP at address:port (OTLP_HTTP_PORT), its base path and the
 * signal's.  Returns which. */
enum otlp_transport otlp_backend_url(const struct mf_otel_backend *ob,
				     const struct otlp_signal *sig,
				     char *url, size_t cap);

/* @s (NULL: "") into @b at *@at (@cap bytes in all), well-formed UTF-8,
 * NUL-terminated, *@at past it.  False when it does not fit. */
bool otlp_put_str(char *b, size_t cap, size_t *at, const char *s);

struct otlp_client;

/* A client for the collector at @url (http://host:port/path), exporting
 * over @t.  Returns 0 and *@out, or -ENOMEM. */
int otlp_client_new(struct otlp_client **out, enum otlp_transport t,
		    const char *url);
void otlp_client_free(struct otlp_client *c);

/*
 * Sends request @buf of @len bytes, its first OTLP_HEAD bytes room for the
 * framing (written here), within OTLP_EXPORT_TIMEOUT_MS on a connection of
 * its own.  Returns 0; -ECONNREFUSED and the like when the collector could
 * not be reached or the exchange failed; -EPROTO when it answered with an
 * error (an HTTP status not 2xx, a gRPC status not OK).
 */
int otlp_send(struct otlp_client *c, uint8_t *buf, size_t len);

#endif /* MF_AGENT_OTLP_H */
