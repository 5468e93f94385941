/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's connection counters, and why a connection is refused before
 * it relays.  A leaf header: the modules that count (conn, tunnel) and the
 * one that shows the counts (admin) all include it, none of them each
 * other.
 */
#ifndef MF_STATS_H
#define MF_STATS_H

#include <stdint.h>

#include "svid.h"
#include "tls.h"

/* Why a connection was refused before any relaying (stats.refused_by);
 * names from stats_refuse_name(). */
enum stats_refuse {
	STATS_REFUSE_NO_POLICY = 0,	/* no policy snapshot loaded */
	STATS_REFUSE_UNKNOWN_SERVICE,	/* destination is not a service VIP */
	STATS_REFUSE_UNKNOWN_SOURCE,	/* source IP is not a workload */
	STATS_REFUSE_NO_IDENTITY,	/* source workload has no identity */
	STATS_REFUSE_NO_TRUST_DOMAIN,	/* no Mesh applied */
	STATS_REFUSE_NO_ENDPOINTS,	/* service has no endpoints */
	STATS_REFUSE_NO_CERTIFICATE,	/* no certificate for the identity */
	STATS_REFUSE_TLS_SESSION,	/* TLS session could not be made */
	STATS_REFUSE_TABLE_FULL,	/* connection table full */
	STATS_REFUSE_GATEWAY_PORT,	/* a gateway port no longer served */
	STATS_REFUSE_GATEWAY_TLS,	/* a gateway client's TLS failed */
	STATS_REFUSE_FOREIGN_SOURCE,	/* source workload of another node */
	STATS_REFUSE_CIRCUIT_BREAKER,	/* past a maxConnections */
	STATS_REFUSE_LISTENER_FULL,	/* the listener's slot budget used */
	STATS_REFUSE_SOURCE_FULL,	/* the peer's share of it used */
	STATS_REFUSE_HANDSHAKES_FULL,	/* TLS handshakes at their cap */
	STATS_REFUSE_FIRST_BYTE,	/* nothing sent within the first-byte
					 * deadline */
	STATS_REFUSE_EGRESS_DENIED,	/* a MeshExternalService the source
					 * may not reach (egress.h) */
	STATS_REFUSE_IDENTITY_UNLISTED,	/* a MeshService whose endpoints all
					 * present an identity its
					 * spec.identities does not list */
	STATS_REFUSE_PASSTHROUGH_DENIED, /* outside the mesh, and no
					 * MeshPassthrough Domain match
					 * admits the name (passthru.h) */
	STATS_REFUSE_MAX,
};

/* "no_policy", ...: a Prometheus label value.  "other" when out of range.
 * A function-local table, so the header defines no object of its own. */
static inline const char *stats_refuse_name(enum stats_refuse r)
{
	static const char *const names[STATS_REFUSE_MAX] = {
		[STATS_REFUSE_NO_POLICY] = "no_policy",
		[STATS_REFUSE_UNKNOWN_SERVICE] = "unknown_service",
		[STATS_REFUSE_UNKNOWN_SOURCE] = "unknown_source",
		[STATS_REFUSE_NO_IDENTITY] = "no_identity",
		[STATS_REFUSE_NO_TRUST_DOMAIN] = "no_trust_domain",
		[STATS_REFUSE_NO_ENDPOINTS] = "no_endpoints",
		[STATS_REFUSE_NO_CERTIFICATE] = "no_certificate",
		[STATS_REFUSE_TLS_SESSION] = "tls_session",
		[STATS_REFUSE_TABLE_FULL] = "table_full",
		[STATS_REFUSE_GATEWAY_PORT] = "gateway_port",
		[STATS_REFUSE_GATEWAY_TLS] = "gateway_tls",
		[STATS_REFUSE_FOREIGN_SOURCE] = "foreign_source",
		[STATS_REFUSE_CIRCUIT_BREAKER] = "circuit_breaker",
		[STATS_REFUSE_LISTENER_FULL] = "listener_full",
		[STATS_REFUSE_SOURCE_FULL] = "source_full",
		[STATS_REFUSE_HANDSHAKES_FULL] = "handshakes_full",
		[STATS_REFUSE_FIRST_BYTE] = "first_byte_timeout",
		[STATS_REFUSE_EGRESS_DENIED] = "egress_denied",
		[STATS_REFUSE_IDENTITY_UNLISTED] = "identity_unlisted",
		[STATS_REFUSE_PASSTHROUGH_DENIED] = "passthrough_denied",
	};

	return (unsigned int)r < STATS_REFUSE_MAX ? names[r] : "other";
}

/* Replies of the L7 proxy's own (stats.http_local). */
enum stats_http_local {
	STATS_HTTP_LOCAL_4XX = 0,	/* a request refused (400, 405, 414,
					 * 431) */
	STATS_HTTP_LOCAL_408,		/* a request head not in in time */
	STATS_HTTP_LOCAL_5XX,		/* an upstream response refused (502) */
	STATS_HTTP_LOCAL_503,		/* no upstream to be had (503) */
	STATS_HTTP_LOCAL_LIMITED,	/* over a rate limit (429) */
	STATS_HTTP_LOCAL_TIMEOUT,	/* a MeshTimeout's (504) */
	STATS_HTTP_LOCAL_FAULT,		/* a MeshFaultInjection abort */
	STATS_HTTP_LOCAL_MAX,
};

/* The MeshTimeout deadlines that ran out. */
enum stats_timeout {
	STATS_TIMEOUT_REQUEST = 0,	/* requestTimeout */
	STATS_TIMEOUT_TRY,		/* MeshRetry's perTryTimeout */
	STATS_TIMEOUT_STREAM_IDLE,	/* streamIdleTimeout */
	STATS_TIMEOUT_MAX_STREAM,	/* maxStreamDuration */
	STATS_TIMEOUT_IDLE,		/* idleTimeout: an HTTP connection
					 * between requests */
	STATS_TIMEOUT_TCP_IDLE,		/* idleTimeout: a TCP connection */
	STATS_TIMEOUT_MAX,
};

#define STATS_HTTP_CLASSES	6	/* status classes 1xx..5xx by first
					 * digit; 0: out of range */

/* How an up end reaches a workload of the mesh. */
enum stats_path {
	STATS_PATH_TUNNEL = 0,	/* mTLS to its node's agent */
	STATS_PATH_LOCAL,	/* a pod of this node, dialled directly once
				 * this agent authorized it as the
				 * destination's agent would */
};

/* Connection counters, for /metrics, logs and tests.  Written by the loop
 * thread only. */
struct stats {
	uint64_t accepted;		/* connections accepted */
	uint64_t refused;		/* closed with RST before relaying */
	uint64_t relayed;		/* reached the relay state */
	uint64_t aborted;		/* ended with RST after relay began */
	uint64_t finished;		/* ended cleanly, both halves closed */
	uint64_t ring_empty;		/* recvs that found no ring buffer */
	uint32_t conns;			/* connections open now */
	uint64_t refused_by[STATS_REFUSE_MAX];	/* policy refusals by reason */
	uint64_t authorized;		/* inbound tunnels admitted */
	uint64_t shadow_denied;		/* admitted by AllowWithShadowDeny */
	uint64_t denied;		/* inbound tunnels refused (authz, peer
					 * identity, PROXY header) */
	uint64_t up_connects[2];	/* up ends connected to a workload of
					 * the mesh, by path (enum
					 * stats_path) */
	uint64_t tls_ok;		/* TLS handshakes completed */
	uint64_t tls_failed;		/* TLS handshakes that failed */
	uint64_t tls_suites[TLS_SUITE_MAX];	/* of those completed, by the
					 * version and suite agreed */
	uint64_t svid_refused[SVID_RULE_MAX];	/* of those, peers whose
					 * certificate chain broke an
					 * X.509-SVID rule, by rule */
	uint64_t tls_revoked;		/* ... of them, for a peer
					 * certificate the CA revoked */
	uint64_t relay_bytes[2];	/* plaintext relayed, by direction
					 * (index enum conn_side of the
					 * source: CONN_DOWN = client to
					 * server) */
	uint64_t http_requests;		/* L7 requests forwarded upstream */
	uint64_t http_status[STATS_HTTP_CLASSES];	/* final responses
					 * forwarded, by class */
	uint64_t http_local[STATS_HTTP_LOCAL_MAX];	/* replies or resets
					 * of the proxy's own, by kind */
	uint64_t http_retries;		/* tries after a request's first */
	uint64_t http_retry_budget;	/* tries the retry budget refused */
	uint64_t http_fault_delays;	/* requests a fault held back */
	uint64_t http_mirrored;		/* request copies sent to a mirror */
	uint64_t http_mirror_skipped;	/* requests a mirror was asked for
					 * but not sent (chunked, upgrade,
					 * body over HPROXY_REPLAY_MAX) */
	uint64_t access_log_dropped;	/* MeshAccessLog lines the writer's
					 * queue had no room for (telw.h) */
	uint64_t access_log_env_missing; /* MeshAccessLog lines of a
					 * MeshOpenTelemetryBackend whose
					 * env mode Required found no
					 * OTEL_EXPORTER_OTLP_* (otlp.h) */
	uint64_t metric_pushes_dropped;	/* MeshMetric OpenTelemetry pushes
					 * the writer's queue had no room
					 * for (admin.c) */
	uint64_t trace_spans_dropped;	/* MeshTrace spans the writer's
					 * queue had no room for (telw.h) */
	uint64_t timeouts[STATS_TIMEOUT_MAX];	/* deadlines run out */
	uint64_t outlier_ejections;	/* endpoints outlier detection
					 * ejected */
	uint64_t tcp_connect_retries;	/* MeshRetry tcp.maxConnectAttempt:
					 * connects tried again elsewhere */
	uint64_t egress_failovers;	/* connects to a MeshExternalService's
					 * endpoint that failed and went to
					 * another (priority failover) */
	uint64_t health_checks[2];	/* MeshHealthCheck probes: succeeded,
					 * failed */
	uint64_t health_transitions[2];	/* endpoints found healthy again,
					 * unhealthy */
	uint32_t health_unhealthy;	/* (check, endpoint) pairs unhealthy
					 * now */
	uint64_t breaker_overflows[5];	/* connections, tries, retries,
					 * pending requests and pools past a
					 * MeshCircuitBreaker limit (enum
					 * breaker_kind) */
	/* The pool of upstream connections (conn.h): ends taken from it,
	 * parked in it, and closed from it (evicted for room, or idle or
	 * closed by their peer). */
	uint64_t pool_reused, pool_parked, pool_evicted, pool_expired;
	/* Pod interfaces (podwatch.h): attached now; attaches, detaches
	 * and failed attaches so far; dumps of the links after events were
	 * lost. */
	uint32_t pod_ifaces;
	uint64_t pod_attached, pod_detached, pod_attach_failed, pod_resyncs;
};

#endif /* MF_STATS_H */
