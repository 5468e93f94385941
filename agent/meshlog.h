/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meshlog: the MeshAccessLog backends in force for one outbound
 * connection, found once when it is accepted (its source and destination
 * are fixed), and its lines handed to the writer (telw.h).
 *
 * Kuma writes a request's lines on both proxies: the source's, by its
 * `to` entries (the source workload as the proxy, the destination service
 * as the peer), and the destination's, by its inbound entries (`rules`
 * matched on the source's SPIFFE ID and the SNI, the destination
 * service's name, which win; else `from`).  This agent is both ends, so a
 * request goes to the union of the two sides' backends; a backend both
 * list (same kind, target and format) gets one line, the outbound one.
 * %KUMA_TRAFFIC_DIRECTION% says which side's a line is.
 *
 * Backends written: file, tcp, and openTelemetry (otlp.h): by its
 * `endpoint`, a collector over gRPC; by `backendRef`, the
 * MeshOpenTelemetryBackend it selects, over its protocol, at its address
 * or the one the agent's OTEL_EXPORTER_OTLP_* variables give (its `env`,
 * otlp.h).
 */
#ifndef MF_AGENT_MESHLOG_H
#define MF_AGENT_MESHLOG_H

#include <stdint.h>
#include <time.h>

#include "alogfmt.h"
#include "telw.h"
#include "meshforge/abi.h"
#include "policy.h"

struct sel_workload;

#define MESHLOG_BACKENDS_MAX	(2 * MF_LOG_BACKENDS_MAX)

enum meshlog_side {
	MESHLOG_OUTBOUND = 0,
	MESHLOG_INBOUND,
};

struct meshlog_backend {
	enum meshlog_side side;
	struct mf_log_backend be;
	/* openTelemetry by backendRef: the MeshOpenTelemetryBackend it
	 * selects (the snapshot's, which the connection holds). */
	const struct mf_otel_backend *otel;
	/* Where its lines go, decided once with the connection: the
	 * writer's sink (telw.h) and its target, the file's path, the tcp
	 * address or the collector's URL (into @url). */
	enum telw_kind sink;
	const char *target;
	char url[TELW_TARGET_MAX];
	/* openTelemetry's body, in the form of lib/policy/otlpval.h (the
	 * snapshot's string); NULL: Kuma's default plain format. */
	const char *body;
	size_t body_len;
	/* Its MeshOpenTelemetryBackend's env mode Required found none of
	 * the agent's OTEL_EXPORTER_OTLP_*: its lines are counted, not
	 * written. */
	bool env_missing;
};

struct meshlog {
	uint8_t n;
	struct meshlog_backend b[MESHLOG_BACKENDS_MAX];
	/* What every line of the connection says; the strings point into
	 * the snapshot the connection holds. */
	const char *mesh, *src_service, *dst_service;
	struct timespec start;		/* CLOCK_REALTIME at accept */
	uint64_t start_ns;		/* CLOCK_MONOTONIC at accept */
};

/* The backends in force from endpoint @src (speaking as @src_id, NULL:
 * unknown) to service @dst, into @m (zeroed first; m->n 0: none).  With
 * no MeshAccessLog at all, no selection is run.  Returns 0 or -ENOMEM. */
int meshlog_find(const struct policy *p, const struct mf_endpoint *src,
		 const char *src_id, const struct mf_service *dst,
		 struct meshlog *m);

/* The backends in force for a request of a builtin gateway's listener
 * @gw (as selectors see it, gwroute.h) to service @dst (NULL: none, an
 * answer of the gateway's own), into @m (zeroed first): the `to` entries
 * with the gateway as the proxy (a MeshAccessLog targeting its
 * MeshGateway, or the Mesh).  The gateway is the source; no agent of
 * this mesh plays an inbound proxy for it.  Returns 0 or -ENOMEM. */
int meshlog_find_gateway(const struct policy *p, const struct sel_workload *gw,
			 const struct mf_service *dst, struct meshlog *m);

/* @v's line for each of @m's backends, by its format, pushed to @w; the
 * lines dropped (queue full) are added to *@dropped, those of a backend
 * whose env requires variables the agent lacks to *@env_missing.  @v's
 * direction, mesh and services are @m's. */
void meshlog_write(const struct meshlog *m, struct alogfmt_vals *v,
		   struct telw *w, uint64_t *dropped, uint64_t *env_missing);

/* Where backend @b (its be and otel set) writes: b->sink, b->target and
 * b->url.  meshlog_find() does it for the backends it finds.  Returns 0,
 * or for a MeshOpenTelemetryBackend whose collector nothing names (its
 * `env`, otlp_backend_url()) -ENOENT or -ENODATA: @b writes nowhere. */
int meshlog_sink(struct meshlog_backend *b);

/* "OUTBOUND" or "INBOUND". */
const char *meshlog_side_str(enum meshlog_side s);

#endif /* MF_AGENT_MESHLOG_H */
