/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp_logs: MeshAccessLog's records for an OpenTelemetry collector, as
 * OTLP's ExportLogsServiceRequest
 * (proto/opentelemetry/proto/collector/logs/v1/logs_service.proto), sent
 * to a collector (collector.h).
 *
 * A loop describes a record (struct otlp_log) and queues it as one buffer
 * (otlp_log_encode()); the writer thread (telw.h) reads its run of
 * records for one collector back (otlp_log_decode()) and exports them in
 * one request.
 */
#ifndef MF_AGENT_OTLP_LOGS_H
#define MF_AGENT_OTLP_LOGS_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "otlp.h"

/* A queued record's room: its strings and their lengths. */
#define OTLP_LOG_MAX		8192
#define OTLP_ATTRS_MAX		MF_LOG_ATTRS_MAX

/* One log record.  Strings are NUL-terminated; NULL: none. */
struct otlp_log {
	uint64_t time_ns;		/* CLOCK_REALTIME: the request's
					 * start */
	const char *service;		/* the resource's service.name: the
					 * proxy's service */
	/* An OTLP value in the form of lib/policy/otlpval.h, its strings
	 * rendered: 's' len ':' text for a string body. */
	const char *body;
	size_t nattrs;
	const char *key[OTLP_ATTRS_MAX];
	const char *value[OTLP_ATTRS_MAX];
};

/* @r as one buffer of at most @cap bytes at @buf, its strings made valid
 * UTF-8.  Returns its length, or 0 when it does not fit. */
size_t otlp_log_encode(const struct otlp_log *r, char *buf, size_t cap);

/* The record of buffer @b (@n bytes, from otlp_log_encode()) into @r, its
 * strings pointing into @b.  Returns 0, or -EINVAL for a buffer that is
 * not one. */
int otlp_log_decode(const char *b, size_t n, struct otlp_log *r);

/* The ExportLogsServiceRequest of records @r[0..@n): one resource per
 * service, one scope ("meshforge"), the records in order, each body the
 * AnyValue its form says (a body not well formed is left out).  Into *@out
 * (malloc'd, the caller frees it) of *@len bytes, the first
 * COLLECTOR_HEAD of them left for collector_send().  Returns 0 or
 * -ENOMEM. */
int otlp_logs_pack(const struct otlp_log *r, size_t n, uint8_t **out,
		   size_t *len);

/* Exports records @r[0..@n) to collector @c in one request
 * (collector_send()).  Returns as it does, or -ENOMEM. */
int otlp_export_logs(struct collector *c, const struct otlp_log *r,
		     size_t n);

#endif /* MF_AGENT_OTLP_LOGS_H */
