/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alogfmt: one MeshAccessLog line of a request (HTTP) or a connection
 * (TCP), by a backend's format: Kuma's `plain` string or `json` list,
 * whose values hold Envoy command operators (%START_TIME%, %REQ(X?Y)%...)
 * and Kuma's own (%KUMA_MESH%...).  docs/policy.md, "Access logs
 * (MeshAccessLog)", lists the operators; an unknown one, or one without
 * a value here, is "-".
 *
 *  - plain: the string with each operator replaced.  omitEmptyValues:
 *    an operator without a value is "" instead of "-".
 *  - json: one object per line, through the JSON emitter (emit.h).  Each
 *    value is a string, as Kuma writes them ("bytes_received": "154"); a
 *    value that is one operator alone without a value is null (left out
 *    with omitEmptyValues).
 *  - no format: Kuma's default plain format, the HTTP one or the TCP one.
 *
 * A line never breaks: bytes under 0x20 and 0x7f out of a header or the
 * format are written escaped (\r, \n, \t, \xHH) in plain, by the emitter
 * in json; an operator's value is cut at ALOGFMT_VALUE_MAX bytes and the
 * line at the buffer's end, and the line always ends with one '\n'.
 */
#ifndef MF_AGENT_ALOGFMT_H
#define MF_AGENT_ALOGFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "hhead.h"
#include "meshforge/abi.h"

#define ALOGFMT_VALUE_MAX	1024
/* Room for the longest json line: its keys and values escaped at worst
 * (six bytes a byte). */
#define ALOGFMT_LINE_MAX						\
	(MF_LOG_JSON_MAX * 6 * (ALOGFMT_VALUE_MAX + MF_HDR_NAME_MAX + 8) + 64)

/* Kuma's default formats (its MeshAccessLog docs). */
extern const char alogfmt_default_http[];
extern const char alogfmt_default_tcp[];

/* What a line may tell.  NULL strings and heads: not known ("-"). */
struct alogfmt_vals {
	struct timespec start;		/* CLOCK_REALTIME: the first byte */
	bool http;			/* a request, else a TCP connection */
	int status;			/* the response's, 0: none */
	const char *flags;		/* Envoy's response flags, NULL:
					 * none */
	uint64_t bytes_received;	/* from the client (request body) */
	uint64_t bytes_sent;		/* to the client (response body) */
	uint64_t duration_ms;
	const struct hhead *req, *rsp;	/* heads, NULL: none */
	const char *protocol;		/* "HTTP/1.1", NULL: TCP */
	const char *upstream_host;	/* "ip:port" */
	const char *downstream;		/* the client's "ip:port" */
	const char *mesh;
	const char *src_service, *dst_service;
	const char *src_address;	/* the source workload's "ip:port" */
	const char *direction;		/* "OUTBOUND" or "INBOUND" */
	const char *cluster;		/* the upstream cluster: the
					 * destination service */
};

/* The line of @v by format @f (NULL or not present: Kuma's default for
 * v->http) into @buf of @cap bytes (at least 2), '\n'-terminated, not
 * NUL-terminated.  Returns its length. */
size_t alogfmt_line(const struct mf_log_format *f,
		    const struct alogfmt_vals *v, char *buf, size_t cap);

/* Format string @fmt alone, rendered as a plain format is (omit: as
 * omitEmptyValues), into @buf of @cap bytes (at least 1), NUL-terminated:
 * an openTelemetry backend's body or attribute value.  Returns its
 * length. */
size_t alogfmt_text(const char *fmt, bool omit, const struct alogfmt_vals *v,
		    char *buf, size_t cap);

#endif /* MF_AGENT_ALOGFMT_H */
