// SPDX-License-Identifier: Apache-2.0
/*
 * The admin endpoint's long pages, a step at a time (admin_page.h): the
 * growing buffer they are written to, /metrics, and /config_dump.
 *
 * Each page is a walk that can stop after any unit and resume: struct
 * apage holds the state (which part comes next) and the cursors into it
 * (a service and its endpoint or rule; a slot of an L7 table; the policy
 * records' own cursor), and the dump's emitter keeps the JSON nesting
 * between steps.  What the walk reads by index (services, endpoints,
 * rules, records of one snapshot; the L7 tables, whose slots never move)
 * is found again at the next step in O(1) or O(log n).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "abi_names.h"
#include "telw.h"
#include "admin_page.h"
#include "certs.h"
#include "ctx.h"
#include "log.h"
#include "loop.h"
#include "meshforge/abi.h"
#include "meshforge/version.h"
#include "policy.h"
#include "reload.h"
#include "xdp.h"
#include "sockfast.h"
#include "meshforge/abi_sock.h"
#include "appscrape.h"
#include "wmplan.h"

/* ---- a growing buffer ---------------------------------------------------- */

/* Room for @more bytes and a NUL after them; sets oom when there is
 * none to be had. */
static void apage_buf_reserve(struct apage_buf *b, size_t more)
{
	size_t cap;
	char *np;

	if (b->oom || b->len + more + 1 <= b->cap)
		return;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more + 1)
		cap *= 2;
	np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return;
	}
	b->p = np;
	b->cap = cap;
}

void apage_buf_put(struct apage_buf *b, const char *s, size_t n)
{
	apage_buf_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void apage_buf_write(void *arg, const char *s, size_t n)
{
	apage_buf_put(arg, s, n);
}

void apage_buf_printf(struct apage_buf *b, const char *fmt, ...)
{
	size_t room;
	va_list ap;
	int n;

	apage_buf_reserve(b, 0);
	if (b->oom)
		return;
	room = b->cap - b->len;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, room, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n >= room) {
		apage_buf_reserve(b, (size_t)n);
		if (b->oom)
			return;
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

void apage_buf_free(struct apage_buf *b)
{
	free(b->p);
	*b = (struct apage_buf){ 0 };
}

const char *apage_state_str(enum apage_state s)
{
	switch (s) {
	case APAGE_S_START:	return "start";
	case APAGE_S_SERVICE:	return "service";
	case APAGE_S_ENDPOINT:	return "endpoint";
	case APAGE_S_RULE:	return "rule";
	case APAGE_S_POLICIES:	return "policies";
	case APAGE_S_SERIES:	return "series";
	case APAGE_S_DEST:	return "dest";
	case APAGE_S_WORKLOAD:	return "workload";
	case APAGE_S_APPS:	return "apps";
	case APAGE_S_DONE:	return "done";
	}
	return "?";
}

/* ---- /metrics ------------------------------------------------------------ */

static void apage_metric_head(struct apage_buf *b, const char *name,
			      const char *type, const char *help)
{
	apage_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			 type);
}

/* @s as a label value (escaped), then @after. */
static void apage_label(struct apage_buf *b, const char *s, const char *after)
{
	emit_prom_escape(apage_buf_write, b, s, strlen(s));
	apage_buf_put(b, after, strlen(after));
}

/* The counters of struct stats with one sample per label, in the order
 * /metrics lists them; a family's help goes with its first sample. */
static const struct apage_counter {
	const char *name, *label, *help;
	size_t off;
} apage_counters[] = {
#define APAGE_COUNTER(name, label, member, help)                               \
	{ name, label, help, offsetof(struct stats, member) }
	APAGE_COUNTER("meshforge_connections_setup_failed_total", "", refused,
		      "Connections reset before relaying, any cause (refusals, denials, connect and handshake failures)."),
	APAGE_COUNTER("meshforge_connections_relayed_total", "", relayed,
		      "Connections that reached the relay state."),
	APAGE_COUNTER("meshforge_connections_closed_total", "{how=\"clean\"}",
		      finished,
		      "Relayed connections ended, by how (clean: both halves closed; reset: aborted)."),
	APAGE_COUNTER("meshforge_connections_closed_total", "{how=\"reset\"}",
		      aborted, NULL),
	APAGE_COUNTER("meshforge_authz_decisions_total",
		      "{decision=\"allow\"}", authorized,
		      "Connections to a workload of this node authorized or denied: inbound tunnels, and same-node ones this agent dials itself."),
	APAGE_COUNTER("meshforge_authz_decisions_total",
		      "{decision=\"deny\"}", denied, NULL),
	APAGE_COUNTER("meshforge_authz_shadow_denied_total", "", shadow_denied,
		      "Inbound tunnels admitted by AllowWithShadowDeny: "
		      "they would be denied (counted in allow too)."),
	APAGE_COUNTER("meshforge_relayed_bytes_total",
		      "{direction=\"client_to_server\"}", relay_bytes[0],
		      "Plaintext bytes relayed, by direction."),
	APAGE_COUNTER("meshforge_relayed_bytes_total",
		      "{direction=\"server_to_client\"}", relay_bytes[1], NULL),
	APAGE_COUNTER("meshforge_upstream_connects_total",
		      "{path=\"tunnel\"}", up_connects[STATS_PATH_TUNNEL],
		      "Upstream connections to workloads of the mesh, by path (tunnel: mTLS to the endpoint's node agent; local: straight to a pod of this node, no handshake)."),
	APAGE_COUNTER("meshforge_upstream_connects_total",
		      "{path=\"local\"}", up_connects[STATS_PATH_LOCAL], NULL),
	APAGE_COUNTER("meshforge_tls_handshakes_total", "{result=\"ok\"}",
		      tls_ok, "TLS handshakes of tunnel connections, by result; failed also counts a source certificate refused on the same-node path, where the handshake it stands for does not happen."),
	APAGE_COUNTER("meshforge_tls_handshakes_total", "{result=\"failed\"}",
		      tls_failed, NULL),
	APAGE_COUNTER("meshforge_tls_peer_revoked_total", "", tls_revoked,
		      "TLS handshakes refused because the peer's certificate is on the CA's revocation list (counted in failed too)."),
	APAGE_COUNTER("meshforge_upstream_pool_total", "{event=\"reused\"}",
		      pool_reused,
		      "Keep-alive upstream connections of the L7 engine, by event: taken from the pool for a new client connection or request, parked in it, closed from it to make room or because idle or closed by the peer."),
	APAGE_COUNTER("meshforge_upstream_pool_total", "{event=\"parked\"}",
		      pool_parked, NULL),
	APAGE_COUNTER("meshforge_upstream_pool_total", "{event=\"evicted\"}",
		      pool_evicted, NULL),
	APAGE_COUNTER("meshforge_upstream_pool_total", "{event=\"expired\"}",
		      pool_expired, NULL),
	APAGE_COUNTER("meshforge_http_requests_total", "", http_requests,
		      "HTTP requests forwarded upstream by the L7 proxy."),
	APAGE_COUNTER("meshforge_http_responses_total", "{class=\"1xx\"}",
		      http_status[1],
		      "Final HTTP responses forwarded to clients, by status class (1xx: 101)."),
	APAGE_COUNTER("meshforge_http_responses_total", "{class=\"2xx\"}",
		      http_status[2], NULL),
	APAGE_COUNTER("meshforge_http_responses_total", "{class=\"3xx\"}",
		      http_status[3], NULL),
	APAGE_COUNTER("meshforge_http_responses_total", "{class=\"4xx\"}",
		      http_status[4], NULL),
	APAGE_COUNTER("meshforge_http_responses_total", "{class=\"5xx\"}",
		      http_status[5], NULL),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"bad_request\"}",
		      http_local[STATS_HTTP_LOCAL_4XX],
		      "Requests answered or reset by the proxy itself, by reason (bad_request: 4xx; timeout: 408; bad_response: 502; unavailable: 503, no upstream to be had; rate_limited: over a rate limit; upstream_timeout: 504, a MeshTimeout ran out; fault: a MeshFaultInjection abort)."),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"timeout\"}", http_local[STATS_HTTP_LOCAL_408],
		      NULL),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"bad_response\"}",
		      http_local[STATS_HTTP_LOCAL_5XX], NULL),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"unavailable\"}",
		      http_local[STATS_HTTP_LOCAL_503], NULL),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"rate_limited\"}",
		      http_local[STATS_HTTP_LOCAL_LIMITED], NULL),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"upstream_timeout\"}",
		      http_local[STATS_HTTP_LOCAL_TIMEOUT], NULL),
	APAGE_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"fault\"}",
		      http_local[STATS_HTTP_LOCAL_FAULT], NULL),
	APAGE_COUNTER("meshforge_http_retries_total", "", http_retries,
		      "Tries of HTTP requests after their first (MeshRetry)."),
	APAGE_COUNTER("meshforge_http_retry_budget_exhausted_total", "",
		      http_retry_budget,
		      "Retries the retry budget refused during a failure storm."),
	APAGE_COUNTER("meshforge_tcp_connect_retries_total", "",
		      tcp_connect_retries,
		      "TCP connections whose connect failed and went to another endpoint (MeshRetry tcp.maxConnectAttempt)."),
	APAGE_COUNTER("meshforge_egress_failovers_total", "",
		      egress_failovers,
		      "Connects to a MeshExternalService endpoint that failed and went to another endpoint, of the same priority or the next."),
	APAGE_COUNTER("meshforge_outlier_ejections_total", "",
		      outlier_ejections,
		      "Endpoints ejected by outlier detection (MeshCircuitBreaker)."),
	APAGE_COUNTER("meshforge_health_checks_total", "{result=\"success\"}",
		      health_checks[0],
		      "Active health check probes (MeshHealthCheck), by result."),
	APAGE_COUNTER("meshforge_health_checks_total", "{result=\"failure\"}",
		      health_checks[1], NULL),
	APAGE_COUNTER("meshforge_health_transitions_total",
		      "{health=\"healthy\"}", health_transitions[0],
		      "Endpoints a health check found healthy again, or unhealthy."),
	APAGE_COUNTER("meshforge_health_transitions_total",
		      "{health=\"unhealthy\"}", health_transitions[1], NULL),
	APAGE_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_connections\"}", breaker_overflows[0],
		      "Connections refused, requests answered 503 and retries not made past a MeshCircuitBreaker connection limit, by limit."),
	APAGE_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_requests\"}", breaker_overflows[1], NULL),
	APAGE_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_retries\"}", breaker_overflows[2], NULL),
	APAGE_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_pending_requests\"}", breaker_overflows[3],
		      NULL),
	APAGE_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_connection_pools\"}", breaker_overflows[4],
		      NULL),
	APAGE_COUNTER("meshforge_http_fault_delays_total", "",
		      http_fault_delays,
		      "Requests held back by a MeshFaultInjection delay."),
	APAGE_COUNTER("meshforge_http_mirror_requests_total",
		      "{result=\"sent\"}", http_mirrored,
		      "Copies of requests for a RequestMirror: sent, or skipped (a chunked or upgrade request, a body over 64 KiB, no memory)."),
	APAGE_COUNTER("meshforge_http_mirror_requests_total",
		      "{result=\"skipped\"}", http_mirror_skipped, NULL),
	APAGE_COUNTER("meshforge_access_log_dropped_total",
		      "{reason=\"queue_full\"}", access_log_dropped,
		      "MeshAccessLog lines dropped: the writer's queue was full, the backend (file, tcp collector) could not take them, or its MeshOpenTelemetryBackend requires OTEL_EXPORTER_OTLP_* variables the agent lacks."),
	APAGE_COUNTER("meshforge_access_log_dropped_total",
		      "{reason=\"env_required_missing\"}",
		      access_log_env_missing, NULL),
	APAGE_COUNTER("meshforge_trace_spans_dropped_total",
		      "{reason=\"queue_full\"}", trace_spans_dropped,
		      "MeshTrace spans dropped: the telemetry writer's queue was full, or the collector could not take them (down, or an answer other than 2xx or gRPC OK)."),
	APAGE_COUNTER("meshforge_metric_pushes_dropped_total",
		      "{reason=\"queue_full\"}", metric_pushes_dropped,
		      "MeshMetric pushes of a workload's metrics to an OpenTelemetry backend dropped: the telemetry writer's queue was full, or the collector could not take them."),
	APAGE_COUNTER("meshforge_pod_interface_events_total",
		      "{event=\"attached\"}", pod_attached,
		      "Pod interfaces the TC programs were attached to, detached from (deleted or renamed), failed to attach to; and dumps of the links after netlink events were lost (resync)."),
	APAGE_COUNTER("meshforge_pod_interface_events_total",
		      "{event=\"detached\"}", pod_detached, NULL),
	APAGE_COUNTER("meshforge_pod_interface_events_total",
		      "{event=\"attach_failed\"}", pod_attach_failed, NULL),
	APAGE_COUNTER("meshforge_pod_interface_events_total",
		      "{event=\"resync\"}", pod_resyncs, NULL),
	APAGE_COUNTER("meshforge_timeouts_total", "{timeout=\"request\"}",
		      timeouts[STATS_TIMEOUT_REQUEST],
		      "MeshTimeout and MeshRetry deadlines that ran out, by kind."),
	APAGE_COUNTER("meshforge_timeouts_total", "{timeout=\"per_try\"}",
		      timeouts[STATS_TIMEOUT_TRY], NULL),
	APAGE_COUNTER("meshforge_timeouts_total",
		      "{timeout=\"stream_idle\"}",
		      timeouts[STATS_TIMEOUT_STREAM_IDLE], NULL),
	APAGE_COUNTER("meshforge_timeouts_total",
		      "{timeout=\"max_stream_duration\"}",
		      timeouts[STATS_TIMEOUT_MAX_STREAM], NULL),
	APAGE_COUNTER("meshforge_timeouts_total", "{timeout=\"http_idle\"}",
		      timeouts[STATS_TIMEOUT_IDLE], NULL),
	APAGE_COUNTER("meshforge_timeouts_total", "{timeout=\"tcp_idle\"}",
		      timeouts[STATS_TIMEOUT_TCP_IDLE], NULL),
#undef APAGE_COUNTER
};
#define APAGE_NCOUNTERS (sizeof(apage_counters) / sizeof(apage_counters[0]))

/* How many loops the agent runs, and loop @i's ring and context: the
 * env's own when it runs one. */
static unsigned int apage_nloops(const struct apage_env *env)
{
	return env->ctx->loops ? env->ctx->loops->n : 1;
}

static const struct loop *apage_loop(const struct apage_env *env,
				     unsigned int i)
{
	return env->ctx->loops ? env->ctx->loops->loop[i] : env->loop;
}

static const struct ctx *apage_ctx(const struct apage_env *env,
				   unsigned int i)
{
	return env->ctx->loops ? env->ctx->loops->ctx[i] : env->ctx;
}

/* A counter of another loop's: read once, a word at a time (ctx.h). */
static uint64_t apage_load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The counter at offset @off of struct stats, summed over the loops. */
static uint64_t apage_sum(const struct apage_env *env, size_t off)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < apage_nloops(env); i++)
		v += apage_load((const uint64_t *)
				((const char *)&apage_ctx(env, i)->stats + off));
	return v;
}

/* Connections listener @name accepted, over the loops (each has its own
 * socket of that name, SO_REUSEPORT).  Another loop's listener names are
 * read while it may rename a slot: they are static strings or a gateway
 * port's fixed buffer, which stays mapped and NUL-terminated, so a scrape
 * at worst misses one count. */
static uint64_t apage_accepted(const struct apage_env *env, const char *name)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < apage_nloops(env); i++) {
		const struct loop *l = apage_loop(env, i);

		for (unsigned int k = 0; k < l->nlisteners; k++)
			if (l->listeners[k].live &&
			    !strcmp(l->listeners[k].name, name))
				v += apage_load(&l->listeners[k].accepted);
	}
	return v;
}

/* Histogram @name of every loop, labelled by loop: stallhist @h of struct
 * loop_stats (by offset). */
static void apage_stallhist(const struct apage_env *env, struct apage_buf *b,
			    const char *name, const char *help, size_t off)
{
	const uint64_t *bounds = stallhist_bounds();

	apage_metric_head(b, name, "histogram", help);
	for (unsigned int i = 0; i < apage_nloops(env); i++) {
		const struct stallhist *h = (const struct stallhist *)
			((const char *)&apage_loop(env, i)->stats + off);
		uint64_t cum = 0, count = apage_load(&h->count);

		for (int k = 0; k < STALLHIST_BUCKETS; k++) {
			cum += apage_load(&h->buckets[k]);
			/* Buckets read one by one while the loop adds: the
			 * last never says less than the ones before it. */
			if (k == STALLHIST_BUCKETS - 1 && cum < count)
				cum = count;
			if (k < STALLHIST_BUCKETS - 1)
				apage_buf_printf(b, "%s_bucket{loop=\"%u\",le=\"%g\"} %llu\n",
						 name, i, (double)bounds[k] / 1e9,
						 (unsigned long long)cum);
			else
				apage_buf_printf(b, "%s_bucket{loop=\"%u\",le=\"+Inf\"} %llu\n",
						 name, i, (unsigned long long)cum);
		}
		apage_buf_printf(b, "%s_sum{loop=\"%u\"} %.9f\n", name, i,
				 (double)apage_load(&h->sum_ns) / 1e9);
		apage_buf_printf(b, "%s_count{loop=\"%u\"} %llu\n", name, i,
				 (unsigned long long)cum);
	}
}

/* The families of fixed size, up to the L7 engine's labelled ones.
 * Counters are summed over the loops; what is per loop says so with a
 * loop label. */
static void apage_metrics_head(const struct apage_env *env,
			       struct apage_buf *b)
{
	struct policy *p = reload_current(env->ctx->reload);
	const struct loop *l = env->loop;
	unsigned int unhealthy = 0;
	uint64_t stall_max = 0, conns = 0;

	apage_metric_head(b, "meshforge_connections_accepted_total", "counter",
			  "Connections accepted, by listener.");
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live)
			apage_buf_printf(b, "meshforge_connections_accepted_total{listener=\"%s\"} %llu\n",
					 l->listeners[i].name,
					 (unsigned long long)apage_accepted(env,
						l->listeners[i].name));
	apage_metric_head(b, "meshforge_loop_connections_accepted_total",
			  "counter",
			  "Proxied connections accepted, by event loop (--threads).");
	for (unsigned int i = 0; i < apage_nloops(env); i++)
		apage_buf_printf(b, "meshforge_loop_connections_accepted_total{loop=\"%u\"} %llu\n",
				 i, (unsigned long long)apage_load(
					&apage_ctx(env, i)->stats.accepted));
	apage_metric_head(b, "meshforge_connections_active", "gauge",
			  "Proxied connections open now.");
	for (unsigned int i = 0; i < apage_nloops(env); i++)
		conns += __atomic_load_n(&apage_ctx(env, i)->stats.conns,
					 __ATOMIC_RELAXED);
	apage_buf_printf(b, "meshforge_connections_active %llu\n",
			 (unsigned long long)conns);
	apage_metric_head(b, "meshforge_health_unhealthy_endpoints", "gauge",
			  "Endpoints a health check of this node finds unhealthy now (once per check that does).");
	/* Every loop checks on its own (docs/agent.md): the most any sees. */
	for (unsigned int i = 0; i < apage_nloops(env); i++) {
		unsigned int u = __atomic_load_n(
			&apage_ctx(env, i)->stats.health_unhealthy,
			__ATOMIC_RELAXED);

		if (u > unhealthy)
			unhealthy = u;
	}
	apage_buf_printf(b, "meshforge_health_unhealthy_endpoints %u\n",
			 unhealthy);
	apage_metric_head(b, "meshforge_pod_interfaces_attached", "gauge",
			  "Pod interfaces the TC programs are attached to now.");
	apage_buf_printf(b, "meshforge_pod_interfaces_attached %u\n",
			 __atomic_load_n(&apage_ctx(env, 0)->stats.pod_ifaces,
					 __ATOMIC_RELAXED));
	apage_metric_head(b, "meshforge_connections_refused_total", "counter",
			  "Connections refused by policy or capacity before any relaying, by reason.");
	for (int i = 0; i < STATS_REFUSE_MAX; i++)
		apage_buf_printf(b, "meshforge_connections_refused_total{reason=\"%s\"} %llu\n",
				 stats_refuse_name(i),
				 (unsigned long long)apage_sum(env,
					offsetof(struct stats, refused_by) +
					(size_t)i * sizeof(uint64_t)));
	apage_metric_head(b, "meshforge_tls_negotiated_total", "counter",
			  "TLS handshakes completed (meshforge_tls_handshakes_total ok), by the version and cipher suite agreed; other: a suite of a connection to a server outside the mesh.");
	for (int i = 0; i < TLS_SUITE_MAX; i++)
		apage_buf_printf(b, "meshforge_tls_negotiated_total{version=\"%s\",cipher=\"%s\"} %llu\n",
				 tls_suite_version(i), tls_suite_cipher(i),
				 (unsigned long long)apage_sum(env,
					offsetof(struct stats, tls_suites) +
					(size_t)i * sizeof(uint64_t)));
	apage_metric_head(b, "meshforge_tls_peer_svid_refused_total", "counter",
			  "TLS handshakes of tunnel connections refused because the peer's certificate chain broke an X.509-SVID rule, by rule (counted in meshforge_tls_handshakes_total failed too).");
	for (int i = SVID_OK + 1; i < SVID_RULE_MAX; i++)
		apage_buf_printf(b, "meshforge_tls_peer_svid_refused_total{rule=\"%s\"} %llu\n",
				 svid_rule_name(i),
				 (unsigned long long)apage_sum(env,
					offsetof(struct stats, svid_refused) +
					(size_t)i * sizeof(uint64_t)));
	for (size_t i = 0; i < APAGE_NCOUNTERS; i++) {
		const struct apage_counter *c = &apage_counters[i];

		if (!i || strcmp(c->name, apage_counters[i - 1].name))
			apage_metric_head(b, c->name, "counter", c->help);
		apage_buf_printf(b, "%s%s %llu\n", c->name, c->label,
				 (unsigned long long)apage_sum(env, c->off));
		/* The writer's own count, one for the agent, in the same
		 * family. */
		if (c->off == offsetof(struct stats, access_log_dropped))
			apage_buf_printf(b, "%s{reason=\"backend_failed\"} "
					 "%llu\n", c->name, (unsigned long long)
					 telw_failed(env->ctx->telw, TELW_LOGS));
		if (c->off == offsetof(struct stats, trace_spans_dropped))
			apage_buf_printf(b, "%s{reason=\"backend_failed\"} "
					 "%llu\n", c->name, (unsigned long long)
					 telw_failed(env->ctx->telw, TELW_SPANS));
		if (c->off == offsetof(struct stats, metric_pushes_dropped))
			apage_buf_printf(b, "%s{reason=\"backend_failed\"} "
					 "%llu\n", c->name, (unsigned long long)
					 telw_failed(env->ctx->telw,
						     TELW_METRICS));
	}
	for (unsigned int i = 0; i < apage_nloops(env); i++) {
		uint64_t m = apage_load(&apage_loop(env, i)->stats.stall_max_ns);

		if (m > stall_max)
			stall_max = m;
	}
	apage_metric_head(b, "meshforge_trace_spans_reported_total", "counter",
			  "MeshTrace spans a collector took (a 2xx answer, and gRPC status OK for OTLP over gRPC).");
	apage_buf_printf(b, "meshforge_trace_spans_reported_total %llu\n",
			 (unsigned long long)telw_delivered(env->ctx->telw,
							 TELW_SPANS));
	apage_metric_head(b, "meshforge_metric_pushes_reported_total",
			  "counter",
			  "MeshMetric pushes of a workload's metrics an OpenTelemetry collector took.");
	apage_buf_printf(b, "meshforge_metric_pushes_reported_total %llu\n",
			 (unsigned long long)telw_delivered(env->ctx->telw,
							 TELW_METRICS));
	apage_metric_head(b, "meshforge_loop_stall_seconds_max", "gauge",
			  "Longest time one loop iteration spent handling its completions since start, over the loops: every connection of that loop waited that long.");
	apage_buf_printf(b, "meshforge_loop_stall_seconds_max %.6f\n",
			 (double)stall_max / 1e9);
	apage_stallhist(env, b, "meshforge_loop_turn_seconds",
			"Work of each loop iteration, from io_uring_enter's return to the next wait, by loop.",
			offsetof(struct loop_stats, turn));
	apage_stallhist(env, b, "meshforge_loop_batch_seconds",
			"Time a loop iteration spent on its batch of completions (iterations that had any), by loop.",
			offsetof(struct loop_stats, batch));
	apage_metric_head(b, "meshforge_build_info", "gauge",
			  "The agent's version, as a label (value 1).");
	apage_buf_printf(b, "meshforge_build_info{version=\"%s\"} 1\n",
			 MF_VERSION);
	apage_metric_head(b, "meshforge_policy_epoch", "gauge",
			  "Epoch of the policy snapshot in force (0: none loaded).");
	apage_buf_printf(b, "meshforge_policy_epoch %llu\n",
			 (unsigned long long)(p ? policy_epoch(p) : 0));
	apage_metric_head(b, "meshforge_store_revision", "gauge",
			  "The mesh store revision the policy in force was synced from (0: applied by hand, or none).");
	apage_buf_printf(b, "meshforge_store_revision %llu\n",
			 (unsigned long long)(p ? policy_store_rev(p) : 0));
	apage_metric_head(b, "meshforge_loop_policy_epoch", "gauge",
			  "Epoch of the policy snapshot each loop gives its new connections: a loop takes a new one at its next connection.");
	for (unsigned int i = 0; i < apage_nloops(env); i++)
		apage_buf_printf(b, "meshforge_loop_policy_epoch{loop=\"%u\"} %llu\n",
				 i, (unsigned long long)reload_epoch_taken(
					apage_ctx(env, i)->reload));
	apage_metric_head(b, "meshforge_http_route_requests_total", "counter",
			  "HTTP requests answered, by source identity, destination service, route (\"\": none) and status class.");
}

/* The samples of L7 series @x, one per status class it has seen. */
static void apage_metrics_series(const struct l7stats_series *x,
				 const char *lbl, struct apage_buf *b)
{
	static const char *const classes[6] = { "other", "1xx", "2xx", "3xx",
						"4xx", "5xx" };

	for (int c = 0; x->src[0] && c < 6; c++) {
		if (!x->by_class[c])
			continue;
		apage_buf_printf(b, "meshforge_http_route_requests_total{%ssource=\"",
				 lbl);
		apage_label(b, x->src, "\",destination=\"");
		apage_label(b, x->dst, "\",route=\"");
		apage_label(b, x->route, "\",class=\"");
		apage_buf_printf(b, "%s\"} %llu\n", classes[c],
				 (unsigned long long)x->by_class[c]);
	}
}

/* The histogram of destination @d: buckets, sum and count at once, so
 * they agree. */
static void apage_metrics_dest(const struct l7stats_dest *d,
			       const char *lbl, struct apage_buf *b)
{
	uint64_t cum = 0;

	if (!d->dst[0])
		return;
	for (int k = 0; k < L7STATS_BUCKETS; k++) {
		cum += d->buckets[k];
		apage_buf_printf(b, "meshforge_http_request_duration_seconds_bucket{%sdestination=\"",
				 lbl);
		apage_label(b, d->dst, "\",le=\"");
		if (k < L7STATS_BUCKETS - 1)
			apage_buf_printf(b, "%g\"} %llu\n", l7stats_bounds[k],
					 (unsigned long long)cum);
		else
			apage_buf_printf(b, "+Inf\"} %llu\n",
					 (unsigned long long)cum);
	}
	apage_buf_printf(b, "meshforge_http_request_duration_seconds_sum{%sdestination=\"",
			 lbl);
	apage_label(b, d->dst, "\"} ");
	apage_buf_printf(b, "%.6f\n", d->sum);
	apage_buf_printf(b, "meshforge_http_request_duration_seconds_count{%sdestination=\"",
			 lbl);
	apage_label(b, d->dst, "\"} ");
	apage_buf_printf(b, "%llu\n", (unsigned long long)d->count);
}

/* The XDP firewall: where it runs, in which mode, and its drop events. */
static void apage_metrics_xdp(const struct apage_env *env,
			      struct apage_buf *b)
{
	const struct xdp *x = env->ctx->xdp;

	if (!x)
		return;
	apage_metric_head(b, "meshforge_xdp_attached", "gauge",
			  "Whether the node firewall's XDP program is on the uplink (only while the policy sets a firewall), by interface and mode (native, generic; none before it was first attached).");
	apage_buf_printf(b, "meshforge_xdp_attached{iface=\"%s\",mode=\"%s\"} %d\n",
			 xdp_iface(x), xdp_mode(x), xdp_attached(x) ? 1 : 0);
	apage_metric_head(b, "meshforge_xdp_drop_events_total", "counter",
			  "Drop reports read from the XDP program's ring buffer (at most one per source and second; the drops are in meshforge_pod_packets_total{reason=\"xdp_drop_*\"}).");
	apage_buf_printf(b, "meshforge_xdp_drop_events_total %llu\n",
			 (unsigned long long)xdp_events(x));
}

/* The same-node fast path: what --sockmap asked, what its self-test
 * said, and its counters by verdict. */
static void apage_metrics_sockmap(const struct apage_env *env,
				  struct apage_buf *b)
{
	const struct ctx *c = env->ctx;
	uint64_t v[MF_FAST_STAT_MAX];

	if (!c->sockmap_mode)
		return;
	apage_metric_head(b, "meshforge_sockmap_enabled", "gauge",
			  "The same-node fast path (sockops, sk_msg): 1 when on, by --sockmap mode and start-up self-test result.");
	apage_buf_printf(b, "meshforge_sockmap_enabled{mode=\"%s\",selftest=\"%s\"} %d\n",
			 c->sockmap_mode, c->sockmap_selftest ?
			 c->sockmap_selftest : "not_run", c->sockfast != NULL);
	if (!c->sockfast || sockfast_stats(c->sockfast, v))
		return;
	apage_metric_head(b, "meshforge_sockmap_total", "counter",
			  "The fast path's kernel counters: sockets taken or not, sends and bytes moved (allow) or left to TCP (deny, unknown, agent).");
	for (int k = 0; k < MF_FAST_STAT_MAX; k++)
		apage_buf_printf(b, "meshforge_sockmap_total{stat=\"%s\"} %llu\n",
				 sockfast_stat_name(k),
				 (unsigned long long)v[k]);
}

/* The kernel's per-CPU counters, summed.  Omitted when the map cannot be
 * read (no pinned maps: tests, or a map of another layout). */
static void apage_metrics_kernel(const struct apage_env *env,
				 struct apage_buf *b)
{
	const struct pmap *pm = env->ctx->pmap;
	unsigned long long sums[MF_STAT_MAX];
	__u64 *vals;

	if (!pm || pm->stats_fd < 0 || env->ncpu <= 0)
		return;
	vals = calloc((size_t)env->ncpu, sizeof(*vals));
	if (!vals) {
		b->oom = true;
		return;
	}
	for (__u32 k = 0; k < MF_STAT_MAX; k++) {
		sums[k] = 0;
		if (bpf_map_lookup_elem(pm->stats_fd, &k, vals)) {
			log_debug("event=admin_stats_unreadable err=%s",
				  strerror(errno));
			free(vals);
			return;
		}
		for (int c = 0; c < env->ncpu; c++)
			sums[k] += vals[c];
	}
	free(vals);
	apage_metric_head(b, "meshforge_pod_packets_total", "counter",
			  "Packets seen by the kernel programs (TC from and to pods, XDP on the uplink), by outcome (mf_stats).");
	for (int k = 0; k < MF_STAT_MAX; k++) {
		apage_buf_printf(b, "meshforge_pod_packets_total{reason=\"%s\"} %llu\n",
				 abi_name_or(&abi_stat, k), sums[k]);
	}
}

/* One certificate in use (certs_each()): when it ends. */
static void apage_metrics_cert(void *arg, const char *spiffe,
			       enum tls_role role, int64_t not_before,
			       int64_t not_after)
{
	struct apage_buf *b = arg;

	(void)not_before;
	apage_buf_printf(b, "meshforge_certificate_expiry_timestamp_seconds{"
			 "role=\"%s\",identity=\"",
			 role == TLS_ROLE_CLIENT ? "client" : "server");
	apage_label(b, spiffe, "\"} ");
	apage_buf_printf(b, "%lld\n", (long long)not_after);
}

/* The CA's revocation list in force (certs_crl_info()). */
static void apage_metrics_crl(const struct apage_env *env,
			      struct apage_buf *b)
{
	uint64_t refused = 0;
	int64_t next = 0;
	size_t n = 0;
	bool have = env->ctx->certs &&
		    certs_crl_info(env->ctx->certs, &n, &next, &refused);

	apage_metric_head(b, "meshforge_crl_entries", "gauge",
			  "Certificates on the CA's revocation list in force (ca.crl); absent without a list.");
	if (have)
		apage_buf_printf(b, "meshforge_crl_entries %zu\n", n);
	apage_metric_head(b, "meshforge_crl_next_update_timestamp_seconds",
			  "gauge",
			  "When the revocation list in force should be replaced (its nextUpdate); past it, the list is stale.");
	if (have)
		apage_buf_printf(b, "meshforge_crl_next_update_timestamp_seconds "
				 "%lld\n", (long long)next);
	apage_metric_head(b, "meshforge_crl_refused_total", "counter",
			  "Revocation lists not taken (no trusted CA signed them, or unreadable); the one before stays in force.");
	apage_buf_printf(b, "meshforge_crl_refused_total %llu\n",
			 (unsigned long long)refused);
}

/* The families after the L7 tables: of fixed size, but for one sample
 * per certificate in use (as many as the node's identities). */
static void apage_metrics_tail(const struct apage_env *env,
			       struct apage_buf *b)
{
	uint64_t dropped = 0;

	apage_metric_head(b, "meshforge_certificate_expiry_timestamp_seconds",
			  "gauge",
			  "When each certificate the agent uses ends (its notAfter), by identity and role.");
	if (env->ctx->certs)
		certs_each(env->ctx->certs, apage_metrics_cert, b);
	apage_metrics_crl(env, b);
	apage_metric_head(b, "meshforge_http_stats_dropped_total", "counter",
			  "Requests the labelled HTTP counters had no room for (their tables are bounded).");
	for (unsigned int i = 0; i < apage_nloops(env); i++)
		dropped += apage_load(&apage_ctx(env, i)->l7stats.dropped);
	apage_buf_printf(b, "meshforge_http_stats_dropped_total %llu\n",
			 (unsigned long long)dropped);
	apage_metric_head(b, "meshforge_workload_series_dropped_total",
			  "counter",
			  "Connections the per-workload counters had no room for (their tables are bounded).");
	dropped = 0;
	for (unsigned int i = 0; i < apage_nloops(env); i++)
		dropped += apage_load(&apage_ctx(env, i)->wmstats.dropped);
	apage_buf_printf(b, "meshforge_workload_series_dropped_total %llu\n",
			 (unsigned long long)dropped);
	if (env->apps) {
		uint64_t ok, failed;

		appscrape_counts(env->apps, &ok, &failed);
		apage_metric_head(b, "meshforge_app_scrapes_total", "counter",
				  "Fetches of MeshMetric applications' metrics, by result (ok: a new copy kept).");
		apage_buf_printf(b, "meshforge_app_scrapes_total{result=\"ok\"} %llu\n"
				 "meshforge_app_scrapes_total{result=\"failed\"} %llu\n",
				 (unsigned long long)ok,
				 (unsigned long long)failed);
	}
	apage_metrics_kernel(env, b);
	apage_metrics_xdp(env, b);
	apage_metrics_sockmap(env, b);
}

/* The L7 tables of the loop that slot @i (counted over every loop's
 * slots, @per a loop) belongs to, and the label that says which loop when
 * there are several (each loop counts its own requests: their series are
 * apart, and a sum over the label is the node's). */
static const struct l7stats *apage_l7(const struct apage_env *env, size_t i,
				      size_t per, char *lbl, size_t n)
{
	unsigned int k = (unsigned int)(i / per);

	if (apage_nloops(env) > 1)
		snprintf(lbl, n, "loop=\"%u\",", k);
	else
		lbl[0] = '\0';
	return &apage_ctx(env, k)->l7stats;
}

/* ---- per-workload families (wmstats.h) ----------------------------------- */

/* Counter @f of a series of another loop's, read once (ctx.h). */
#define APAGE_WM_ADD(sum, y, f) ((sum)->f += apage_load(&(y)->f))

/* Adds @y's counts to @sum. */
static void apage_wm_add(struct wmstats_series *sum,
			 const struct wmstats_series *y)
{
	double d;

	APAGE_WM_ADD(sum, y, conns);
	APAGE_WM_ADD(sum, y, tcp_conns);
	APAGE_WM_ADD(sum, y, sent);
	APAGE_WM_ADD(sum, y, received);
	APAGE_WM_ADD(sum, y, tcp_sent);
	APAGE_WM_ADD(sum, y, tcp_received);
	APAGE_WM_ADD(sum, y, requests);
	APAGE_WM_ADD(sum, y, dcount);
	for (int c = 0; c < 6; c++)
		APAGE_WM_ADD(sum, y, by_class[c]);
	for (int k = 0; k < L7STATS_BUCKETS; k++)
		APAGE_WM_ADD(sum, y, buckets[k]);
	/* A double: read once, whole (8 bytes, as the counters). */
	__atomic_load(&y->dsum, &d, __ATOMIC_RELAXED);
	sum->dsum += d;
}

/* The workload series of loop @k's table at @slot, summed over every
 * loop that has the same series, into @sum; false when the slot is unused
 * or the series was already shown from an earlier loop's table. */
static bool apage_wm_sum(const struct apage_env *env, unsigned int k,
			 size_t slot, struct wmstats_series *sum)
{
	const struct wmstats_series *t =
		__atomic_load_n(&apage_ctx(env, k)->wmstats.series,
				__ATOMIC_ACQUIRE);
	const struct wmstats_series *x, *y;

	if (!t)
		return false;
	x = &t[slot];
	if (!__atomic_load_n(&x->workload[0], __ATOMIC_ACQUIRE))
		return false;
	for (unsigned int j = 0; j < k; j++)
		if (wmstats_find(&apage_ctx(env, j)->wmstats, x))
			return false;
	memset(sum, 0, sizeof(*sum));
	memcpy(sum->mesh, x->mesh, sizeof(sum->mesh));
	memcpy(sum->workload, x->workload, sizeof(sum->workload));
	memcpy(sum->service, x->service, sizeof(sum->service));
	memcpy(sum->peer, x->peer, sizeof(sum->peer));
	sum->dir = x->dir;
	apage_wm_add(sum, x);
	for (unsigned int j = k + 1; j < apage_nloops(env); j++) {
		y = wmstats_find(&apage_ctx(env, j)->wmstats, x);
		if (y)
			apage_wm_add(sum, y);
	}
	return true;
}

size_t apage_wm_workload(const struct apage_env *env, const char *workload,
			 struct wmstats_series *out, size_t max)
{
	size_t n = 0;

	for (unsigned int k = 0; k < apage_nloops(env); k++)
		for (size_t i = 0; i < WMSTATS_SERIES_MAX && n < max; i++)
			if (apage_wm_sum(env, k, i, &out[n]) &&
			    !strcmp(out[n].workload, workload))
				n++;
	return n;
}

/* Series @x's labels, then @after. */
static void apage_wm_labels(struct apage_buf *b,
			    const struct wmstats_series *x, const char *after)
{
	apage_buf_put(b, "mesh=\"", 6);
	apage_label(b, x->mesh, "\",workload=\"");
	apage_label(b, x->workload, "\",kuma_io_service=\"");
	apage_label(b, x->service, "\",direction=\"");
	apage_buf_printf(b, "%s\",%s=\"",
			 wmstats_dir_str((enum wmstats_dir)x->dir),
			 x->dir == WMSTATS_INBOUND ? "source_service" :
						     "destination_service");
	apage_label(b, x->peer, "\"");
	apage_buf_put(b, after, strlen(after));
}

/* One sample of counter family @f of @x: @v. */
static void apage_wm_sample(struct apage_buf *b, enum wmstats_family f,
			    const struct wmstats_series *x, uint64_t v)
{
	apage_buf_printf(b, "%s{", wmstats_family_name(f));
	apage_wm_labels(b, x, "} ");
	apage_buf_printf(b, "%llu\n", (unsigned long long)v);
}

/* Family @f of series @x (summed over the loops): its samples. */
static void apage_wm_family(struct apage_buf *b, enum wmstats_family f,
			    const struct wmstats_series *x)
{
	const char *name = wmstats_family_name(f);
	uint64_t cum = 0;

	switch (f) {
	case WMF_RESPONSES:
		for (int c = 0; c < 6; c++) {
			if (!x->by_class[c])
				continue;
			apage_buf_printf(b, "%s{", name);
			apage_wm_labels(b, x, "");
			apage_buf_printf(b, ",class=\"%s\"} %llu\n",
					 wmstats_classes[c],
					 (unsigned long long)x->by_class[c]);
		}
		break;
	case WMF_DURATION:
		for (int k = 0; k < L7STATS_BUCKETS; k++) {
			cum += x->buckets[k];
			apage_buf_printf(b, "%s_bucket{", name);
			apage_wm_labels(b, x, "");
			if (k < L7STATS_BUCKETS - 1)
				apage_buf_printf(b, ",le=\"%g\"} %llu\n",
						 l7stats_bounds[k],
						 (unsigned long long)cum);
			else
				apage_buf_printf(b, ",le=\"+Inf\"} %llu\n",
						 (unsigned long long)cum);
		}
		apage_buf_printf(b, "%s_sum{", name);
		apage_wm_labels(b, x, "} ");
		apage_buf_printf(b, "%.6f\n", x->dsum);
		apage_buf_printf(b, "%s_count{", name);
		apage_wm_labels(b, x, "} ");
		apage_buf_printf(b, "%llu\n", (unsigned long long)x->dcount);
		break;
	default:
		apage_wm_sample(b, f, x, wmstats_value(x, f));
		break;
	}
}

/*
 * One unit of the workload families: family pg->j's head (at slot 0),
 * or slot pg->i (over every loop's table) of it, shown when the page
 * shows it: on /metrics every series that was updated; on a MeshMetric
 * page those of the workloads its plan serves there, the families each
 * one's MeshMetric picks, and with includeUnused the series never
 * updated too.  True once every family is out.
 */
static bool apage_wm_unit(struct apage *pg)
{
	size_t nslots = apage_nloops(pg->env) * (size_t)WMSTATS_SERIES_MAX;
	enum wmstats_family f = (enum wmstats_family)pg->j;
	const struct wmplan_wl *w = NULL;
	struct wmstats_series sum;

	if (pg->j >= WMF_COUNT)
		return true;
	/* A family no workload of a MeshMetric page shows: not even its
	 * head. */
	if (pg->plan && !(pg->families & (1u << f))) {
		pg->j++;
		pg->i = 0;
		return pg->j >= WMF_COUNT;
	}
	if (pg->i == 0)
		apage_metric_head(pg->out, wmstats_family_name(f),
				  wmstats_family_type(f),
				  wmstats_family_help(f));
	if (pg->i >= nslots) {
		pg->j++;
		pg->i = 0;
		return pg->j >= WMF_COUNT;
	}
	/* A loop whose table is not there yet: its slots are passed. */
	if (!__atomic_load_n(&apage_ctx(pg->env, (unsigned int)(pg->i /
				WMSTATS_SERIES_MAX))->wmstats.series,
			     __ATOMIC_ACQUIRE)) {
		pg->i = (pg->i / WMSTATS_SERIES_MAX + 1) * WMSTATS_SERIES_MAX;
		return false;
	}
	if (apage_wm_sum(pg->env, (unsigned int)(pg->i / WMSTATS_SERIES_MAX),
			 pg->i % WMSTATS_SERIES_MAX, &sum)) {
		if (pg->plan) {
			w = wmplan_find(pg->plan, sum.workload);
			if (w && (!wmplan_serves(w, pg->port, pg->path,
						 strlen(pg->path)) ||
				  !(w->families & (1u << f))))
				w = NULL;
		}
		if ((!pg->plan || w) &&
		    ((w && w->include_unused) || wmstats_used(&sum, f)))
			apage_wm_family(pg->out, f, &sum);
	}
	pg->i++;
	return false;
}

/* One unit of a MeshMetric page's applications: the last good text of
 * application pg->j of the plan's workload pg->i, when that workload is
 * served on the page's port and path.  True once all are out. */
static bool apage_apps_unit(struct apage *pg)
{
	const struct wmplan_wl *w;

	for (; pg->i < pg->plan->n; pg->i++, pg->j = 0) {
		w = &pg->plan->wl[pg->i];
		if (pg->j >= w->napps || !pg->env->apps ||
		    !wmplan_serves(w, pg->port, pg->path, strlen(pg->path)))
			continue;
		appscrape_copy(pg->env->apps, w->name, w->apps[pg->j].name,
			       apage_buf_write, pg->out);
		pg->j++;
		return false;
	}
	return true;
}

/* One unit of /metrics: the fixed families, an L7 series or destination
 * slot (empty ones write nothing), and the fixed families after them. */
static void apage_metrics_unit(struct apage *pg)
{
	struct apage_buf *b = pg->out;
	const struct l7stats *l7;
	size_t nloops = apage_nloops(pg->env);
	char lbl[32];

	switch (pg->state) {
	case APAGE_S_START:
		apage_metrics_head(pg->env, b);
		pg->state = APAGE_S_SERIES;
		pg->i = 0;
		break;
	case APAGE_S_SERIES:
		if (pg->i < nloops * L7STATS_SERIES_MAX) {
			l7 = apage_l7(pg->env, pg->i, L7STATS_SERIES_MAX, lbl,
				      sizeof(lbl));
			/* The tables come at the loop's first L7 request:
			 * re-read, and a loop that has none is passed. */
			const struct l7stats_series *x =
				__atomic_load_n(&l7->series, __ATOMIC_ACQUIRE);

			if (x)
				apage_metrics_series(&x[pg->i %
						     L7STATS_SERIES_MAX],
						     lbl, b);
			pg->i = x ? pg->i + 1 :
				(pg->i / L7STATS_SERIES_MAX + 1) *
				L7STATS_SERIES_MAX;
			break;
		}
		apage_metric_head(b, "meshforge_http_request_duration_seconds",
				  "histogram",
				  "Time from a request's first byte to the end of its answer, by destination service.");
		pg->state = APAGE_S_DEST;
		pg->i = 0;
		break;
	case APAGE_S_DEST:
		if (pg->i < nloops * L7STATS_DESTS_MAX) {
			l7 = apage_l7(pg->env, pg->i, L7STATS_DESTS_MAX, lbl,
				      sizeof(lbl));
			const struct l7stats_dest *d =
				__atomic_load_n(&l7->dests, __ATOMIC_ACQUIRE);

			if (d)
				apage_metrics_dest(&d[pg->i % L7STATS_DESTS_MAX],
						   lbl, b);
			pg->i = d ? pg->i + 1 :
				(pg->i / L7STATS_DESTS_MAX + 1) *
				L7STATS_DESTS_MAX;
			break;
		}
		pg->state = APAGE_S_WORKLOAD;
		pg->i = pg->j = 0;
		break;
	case APAGE_S_WORKLOAD:
		if (!apage_wm_unit(pg))
			break;
		if (pg->kind == APAGE_METRICS) {
			apage_metrics_tail(pg->env, b);
			pg->state = APAGE_S_DONE;
		} else {
			pg->state = APAGE_S_APPS;
			pg->i = pg->j = 0;
		}
		break;
	case APAGE_S_APPS:
		if (apage_apps_unit(pg))
			pg->state = APAGE_S_DONE;
		break;
	default:
		pg->state = APAGE_S_DONE;
		break;
	}
}

/* ---- /config_dump -------------------------------------------------------- */

static void apage_emit_ip(struct emit *e, const void *ip4)
{
	char buf[INET_ADDRSTRLEN];

	if (!inet_ntop(AF_INET, ip4, buf, sizeof(buf)))
		strcpy(buf, "0.0.0.0");
	emit_str(e, buf);
}

/* A string key/value pair of a dump object. */
static void apage_emit_kv(struct emit *e, const char *key, const char *val)
{
	emit_key(e, key);
	emit_str(e, val ? val : "");
}

/* Service @svc (key @k) up to the opening of its endpoint list. */
static void apage_dump_service(struct emit *e, const struct mf_service_key *k,
			       const struct mf_service *svc)
{
	emit_map_begin(e);
	apage_emit_kv(e, "name", svc->name);
	emit_key(e, "id");
	emit_uint(e, svc->id);
	emit_key(e, "vip");
	apage_emit_ip(e, k->vip);
	emit_key(e, "port");
	emit_uint(e, k->port);
	apage_emit_kv(e, "protocol", abi_name_or(&abi_proto, k->proto));
	emit_key(e, "endpoints");
	emit_list_begin(e);
}

static void apage_dump_endpoint(struct emit *e, const struct policy *p,
				const struct mf_endpoint *ep)
{
	uint32_t ip = policy_endpoint_ip(p, ep);

	emit_map_begin(e);
	apage_emit_kv(e, "name", ep->name);
	emit_key(e, "ip");
	apage_emit_ip(e, &ip);
	emit_key(e, "port");
	emit_uint(e, ep->port);
	/* The record names its node by address; the dump keeps showing the
	 * name ("" when no node has that address). */
	apage_emit_kv(e, "node", policy_node_name_by_ip(p, ep->node_ip));
	apage_emit_kv(e, "identity", policy_identity(p, ep->identity_id));
	emit_map_end(e);
}

static void apage_dump_rule(struct emit *e, const struct mf_authz_rule *r)
{
	emit_map_begin(e);
	apage_emit_kv(e, "policy", r->policy);
	apage_emit_kv(e, "action", abi_name_or(&abi_authz_action, r->action));
	apage_emit_kv(e, "match", abi_name_or(&abi_authz_match, r->match));
	apage_emit_kv(e, "spiffe", r->spiffe);
	if (r->sni_match)
		apage_emit_kv(e, "sni", r->sni);
	emit_map_end(e);
}

/* One unit of the dump: its head, a service's head, an endpoint, a rule
 * or a policy record (or the close of a list, and what follows it). */
static void apage_dump_unit(struct apage *pg)
{
	const struct mf_endpoint *ep;
	const struct mf_authz_rule *r;
	const struct mf_service *svc;
	struct policy *p = pg->pol;
	struct mf_service_key k;
	struct emit *e = &pg->e;

	switch (pg->state) {
	case APAGE_S_START:
		emit_map_begin(e);
		emit_key(e, "epoch");
		emit_uint(e, policy_epoch(p));
		apage_emit_kv(e, "mesh", policy_mesh(p));
		apage_emit_kv(e, "trust_domain", policy_trust_domain(p));
		apage_emit_kv(e, "node", pg->env->ctx->node);
		emit_key(e, "services");
		emit_list_begin(e);
		pg->state = APAGE_S_SERVICE;
		pg->i = 0;
		break;
	case APAGE_S_SERVICE:
		svc = policy_service_at(p, pg->i, &k);
		if (!svc) {
			emit_list_end(e);
			emit_key(e, "policies");
			pg->state = APAGE_S_POLICIES;
			break;
		}
		apage_dump_service(e, &k, svc);
		pg->state = APAGE_S_ENDPOINT;
		pg->j = 0;
		break;
	case APAGE_S_ENDPOINT:
		svc = policy_service_at(p, pg->i, NULL);
		ep = policy_service_endpoint_at(p, svc->id, pg->j);
		if (ep) {
			apage_dump_endpoint(e, p, ep);
			pg->j++;
			break;
		}
		emit_list_end(e);
		emit_key(e, "authz");
		emit_list_begin(e);
		pg->state = APAGE_S_RULE;
		pg->j = 0;
		break;
	case APAGE_S_RULE:
		svc = policy_service_at(p, pg->i, NULL);
		r = policy_authz_rule_at(p, svc->id, pg->j);
		if (r) {
			apage_dump_rule(e, r);
			pg->j++;
			break;
		}
		emit_list_end(e);
		emit_map_end(e);
		pg->state = APAGE_S_SERVICE;
		pg->i++;
		break;
	case APAGE_S_POLICIES:
		if (polkinds_emit_next(policy_kinds(p), e, &pg->kinds))
			break;
		emit_map_end(e);
		apage_buf_put(pg->out, "\n", 1);
		pg->state = APAGE_S_DONE;
		break;
	default:
		pg->state = APAGE_S_DONE;
		break;
	}
}

/* ---- pages --------------------------------------------------------------- */

int apage_open(struct apage *pg, enum apage_kind kind,
	       const struct apage_env *env, struct apage_buf *out)
{
	struct policy *p = NULL;

	if (kind == APAGE_CONFIG_DUMP) {
		p = reload_current(env->ctx->reload);
		if (!p)
			return -ENOENT;
		policy_get(p);
	}
	*pg = (struct apage){
		.kind = kind, .state = APAGE_S_START, .env = env, .out = out,
		.pol = p,
	};
	emit_init(&pg->e, EMIT_JSON, apage_buf_write, out);
	return 0;
}

int apage_open_workloads(struct apage *pg, const struct apage_env *env,
			 struct apage_buf *out, struct wmplan *plan,
			 uint16_t port, const char *path, size_t plen)
{
	uint32_t families = 0;
	bool any = false;

	for (size_t i = 0; i < plan->n; i++)
		if (wmplan_serves(&plan->wl[i], port, path, plen)) {
			any = true;
			families |= plan->wl[i].families;
		}
	if (!any || plen >= sizeof(pg->path))
		return -ENOENT;
	*pg = (struct apage){
		.kind = APAGE_WORKLOADS, .state = APAGE_S_WORKLOAD, .env = env,
		.out = out, .plan = wmplan_get(plan), .port = port,
		.families = families,
	};
	memcpy(pg->path, path, plen);
	pg->path[plen] = '\0';
	return 0;
}

int apage_step(struct apage *pg, size_t budget)
{
	size_t stop = pg->out->len + budget;

	while (pg->state != APAGE_S_DONE && pg->out->len < stop &&
	       !pg->out->oom) {
		if (pg->kind == APAGE_CONFIG_DUMP)
			apage_dump_unit(pg);
		else
			apage_metrics_unit(pg);
	}
	if (pg->out->oom)
		return -ENOMEM;
	return pg->state == APAGE_S_DONE;
}

void apage_close(struct apage *pg)
{
	if (pg->pol)
		reload_release(pg->env->ctx->reload, pg->pol);
	pg->pol = NULL;
	wmplan_put(pg->plan);
	pg->plan = NULL;
	pg->state = APAGE_S_DONE;
}
