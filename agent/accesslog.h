/* SPDX-License-Identifier: Apache-2.0 */
/*
 * accesslog: one JSON line per HTTP request the agent proxied, at info
 * level, on the log stream (stderr) with the other lines, when the agent
 * runs with --http-access-log:
 *
 *   {"time": "2026-12-05T16:20:01.123Z", "level": "info",
 *    "event": "http_access", "request_id": "...",
 *    "src_identity": "spiffe://...", "dst_identity": "spiffe://...",
 *    "method": "GET", "authority": "web", "path": "/api?x=1",
 *    "route": "web-routes", "upstream": "b1 10.78.2.11:8080",
 *    "status": 200, "bytes_in": 0, "bytes_out": 42, "duration_ms": 1.234}
 *
 * Fields the request does not have are left out.  Strings go through the
 * one JSON escaper (emit.h), so a hostile header cannot break the line.
 */
#ifndef MF_AGENT_ACCESSLOG_H
#define MF_AGENT_ACCESSLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A span of bytes, not NUL-terminated; NULL ptr: absent. */
struct alog_str {
	const char *p;
	size_t n;
};

struct alog_entry {
	struct alog_str request_id, src_identity, dst_identity, method,
			authority, path, route, upstream;
	int status;
	bool local;			/* answered by the agent itself */
	uint64_t bytes_in, bytes_out;	/* body bytes */
	double seconds;
};

/* Writes @e's line to stderr, one write for the whole line. */
void alog_write(const struct alog_entry *e);

/* A span of the NUL-terminated @s (NULL: absent). */
static inline struct alog_str alog_cstr(const char *s)
{
	struct alog_str v = { s, s ? __builtin_strlen(s) : 0 };

	return v;
}

#endif /* MF_AGENT_ACCESSLOG_H */
