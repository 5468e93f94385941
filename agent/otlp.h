/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp: MeshAccessLog's records for an OpenTelemetry collector, in
 * OpenTelemetry's protocol (OTLP): an ExportLogsServiceRequest
 * (proto/opentelemetry/proto/collector/logs/v1/logs_service.proto),
 * packed by libprotobuf-c, and its export by libcurl, over gRPC
 * (LogsService/Export on an HTTP/2 connection without TLS, as Envoy's
 * collector cluster dials it) or over HTTP (a POST of the same bytes).
 *
 * A loop describes a record (struct otlp_log) and queues it as one buffer
 * (otlp_log_encode()); the writer thread (alogw.h) reads its run of
 * records for one collector back (otlp_log_decode()), packs them into one
 * request and exports it.
 *
 * Strings go out as OTLP requires them, valid UTF-8: a byte that does not
 * start or continue a well-formed sequence is written as '?'.
 */
#ifndef MF_AGENT_OTLP_H
#define MF_AGENT_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

/* A queued record's room: its strings and their lengths. */
#define OTLP_LOG_MAX		8192
#define OTLP_ATTRS_MAX		MF_LOG_ATTRS_MAX
#define OTLP_EXPORT_TIMEOUT_MS	2000
#define OTLP_CONNECT_TIMEOUT_MS	1000

/* The path of LogsService/Export, after a gRPC collector's host:port. */
#define OTLP_GRPC_LOGS_PATH \
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export"
/* An HTTP collector's path when its backend names none. */
#define OTLP_HTTP_LOGS_PATH	"/v1/logs"

enum otlp_transport {
	OTLP_GRPC = 1,
	OTLP_HTTP,
};

/* One log record.  Strings are NUL-terminated; NULL: none. */
struct otlp_log {
	uint64_t time_ns;		/* CLOCK_REALTIME: the request's
					 * start */
	const char *service;		/* the resource's service.name: the
					 * proxy's service */
	const char *body;
	size_t nattrs;
	const char *key[OTLP_ATTRS_MAX];
	const char *value[OTLP_ATTRS_MAX];
};

/* @r as one buffer of at most @cap bytes at @buf.  Returns its length, or
 * 0 when it does not fit. */
size_t otlp_log_encode(const struct otlp_log *r, char *buf, size_t cap);

/* The record of buffer @b (@n bytes, from otlp_log_encode()) into @r, its
 * strings pointing into @b.  Returns 0, or -EINVAL for a buffer that is
 * not one. */
int otlp_log_decode(const char *b, size_t n, struct otlp_log *r);

/* The ExportLogsServiceRequest of records @r[0..@n): one resource per
 * service, one scope ("meshforge"), the records in order.  Into *@out
 * (malloc'd, the caller frees it) of *@len bytes, after @head bytes left
 * for the caller's framing.  Returns 0 or -ENOMEM. */
int otlp_logs_pack(const struct otlp_log *r, size_t n, size_t head,
		   uint8_t **out, size_t *len);

struct otlp_client;

/* A client for the collector at @url (http://host:port/path), exporting
 * over @t.  Returns 0 and *@out, or -ENOMEM. */
int otlp_client_new(struct otlp_client **out, enum otlp_transport t,
		    const char *url);
void otlp_client_free(struct otlp_client *c);

/* Exports records @r[0..@n) in one request, within
 * OTLP_EXPORT_TIMEOUT_MS, on a connection of its own.  Returns 0;
 * -ECONNREFUSED and the like when the collector could not be reached or
 * the exchange failed; -EPROTO when it answered with an error (an HTTP
 * status not 2xx, a gRPC status not OK); -ENOMEM. */
int otlp_export_logs(struct otlp_client *c, const struct otlp_log *r,
		     size_t n);

#endif /* MF_AGENT_OTLP_H */
