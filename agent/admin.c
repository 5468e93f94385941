// SPDX-License-Identifier: Apache-2.0
/*
 * The admin endpoint (admin.h): connection handling on the loop's ring,
 * the strict request parser, and the three pages.
 *
 * An admin connection takes at most three ops at once: its deadline timer
 * (armed at accept), and a recv or a send.  It is released only when all
 * of them have completed, so no completion finds a reused slot; the
 * generation in user_data is the safety net, as for the conn table.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/time_types.h>

#include "abi_names.h"
#include "admin.h"
#include "xdp.h"
#include "ctx.h"
#include "emit.h"
#include "meshforge/version.h"
#include "log.h"
#include "loop.h"
#include "meshforge/abi.h"
#include "policy.h"
#include "reload.h"

struct admin_conn {
	int fd;			/* -1: the slot is free.  Owned */
	uint32_t gen;		/* bumped at release: stale completions */
	uint32_t inflight;	/* ops submitted and not completed */
	bool recv_busy;
	bool send_busy;
	bool timer_armed;
	bool closing;		/* waiting for inflight to drain */
	bool rst;		/* close with RST */
	struct __kernel_timespec deadline;	/* CLOCK_MONOTONIC, absolute */
	char *resp;		/* the whole response.  Owned */
	size_t resp_len;
	size_t resp_off;	/* bytes of it sent */
	size_t req_len;		/* bytes of req[] received */
	char req[ADMIN_HEAD_MAX];
};

struct admin {
	struct loop *loop;		/* borrowed */
	struct ctx *ctx;		/* borrowed */
	uint8_t op;			/* the loop operation of admin ops */
	uint32_t timeout_ms;
	uint32_t nconns;	/* slots in use */
	int ncpu;		/* possible CPUs (per-CPU map values) */
	struct admin_conn conns[ADMIN_MAX_CONNS];
};

/* ---- a growing string ---------------------------------------------------- */

/* Appends never fail visibly: an allocation failure sets @oom and later
 * appends are dropped, so builders check once at the end. */
struct admin_sb {
	char *p;		/* NUL-terminated while !oom.  Owned */
	size_t len;
	size_t cap;
	bool oom;
};

static void admin_sb_reserve(struct admin_sb *b, size_t more)
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

static void admin_sb_printf(struct admin_sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void admin_sb_printf(struct admin_sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	admin_sb_reserve(b, (size_t)n);
	if (b->oom)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* ---- the pages ----------------------------------------------------------- */

/* Listeners up (every one has its accept armed, or a retry of it
 * pending) and a policy snapshot loaded. */
static bool admin_is_ready(struct admin *a)
{
	return loop_listening(a->loop) && reload_current(a->ctx->reload);
}

static void admin_metric_head(struct admin_sb *b, const char *name,
			      const char *type, const char *help)
{
	admin_sb_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			type);
}

static void admin_sb_write(void *arg, const char *buf, size_t n);

/* A label value in Prometheus's text format (emit_prom_escape()). */
static void admin_sb_label(struct admin_sb *b, const char *s)
{
	emit_prom_escape(admin_sb_write, b, s, strlen(s));
}

/* The L7 engine's labelled counters (l7stats.h). */
static void admin_metrics_l7(struct admin *a, struct admin_sb *b)
{
	const struct l7stats *l = &a->ctx->l7stats;
	static const char *const classes[6] = { "other", "1xx", "2xx", "3xx",
						"4xx", "5xx" };

	admin_metric_head(b, "meshforge_http_route_requests_total", "counter",
			  "HTTP requests answered, by source identity, destination service, route (\"\": none) and status class.");
	for (size_t i = 0; l->series && i < L7STATS_SERIES_MAX; i++) {
		const struct l7stats_series *x = &l->series[i];

		for (int c = 0; x->src[0] && c < 6; c++) {
			if (!x->by_class[c])
				continue;
			admin_sb_printf(b, "meshforge_http_route_requests_total{source=\"");
			admin_sb_label(b, x->src);
			admin_sb_printf(b, "\",destination=\"");
			admin_sb_label(b, x->dst);
			admin_sb_printf(b, "\",route=\"");
			admin_sb_label(b, x->route);
			admin_sb_printf(b, "\",class=\"%s\"} %llu\n", classes[c],
					(unsigned long long)x->by_class[c]);
		}
	}
	admin_metric_head(b, "meshforge_http_request_duration_seconds",
			  "histogram",
			  "Time from a request's first byte to the end of its answer, by destination service.");
	for (size_t i = 0; l->dests && i < L7STATS_DESTS_MAX; i++) {
		const struct l7stats_dest *d = &l->dests[i];
		uint64_t cum = 0;

		if (!d->dst[0])
			continue;
		for (int k = 0; k < L7STATS_BUCKETS; k++) {
			cum += d->buckets[k];
			admin_sb_printf(b, "meshforge_http_request_duration_seconds_bucket{destination=\"");
			admin_sb_label(b, d->dst);
			if (k < L7STATS_BUCKETS - 1)
				admin_sb_printf(b, "\",le=\"%g\"} %llu\n",
						l7stats_bounds[k],
						(unsigned long long)cum);
			else
				admin_sb_printf(b, "\",le=\"+Inf\"} %llu\n",
						(unsigned long long)cum);
		}
		admin_sb_printf(b, "meshforge_http_request_duration_seconds_sum{destination=\"");
		admin_sb_label(b, d->dst);
		admin_sb_printf(b, "\"} %.6f\n", d->sum);
		admin_sb_printf(b, "meshforge_http_request_duration_seconds_count{destination=\"");
		admin_sb_label(b, d->dst);
		admin_sb_printf(b, "\"} %llu\n", (unsigned long long)d->count);
	}
	admin_metric_head(b, "meshforge_http_stats_dropped_total", "counter",
			  "Requests the labelled HTTP counters had no room for (their tables are bounded).");
	admin_sb_printf(b, "meshforge_http_stats_dropped_total %llu\n",
			(unsigned long long)l->dropped);
}

/* The XDP firewall: where it runs, in which mode, and its drop events. */
static void admin_metrics_xdp(struct admin *a, struct admin_sb *b)
{
	const struct xdp *x = a->ctx->xdp;

	if (!x)
		return;
	admin_metric_head(b, "meshforge_xdp_attached", "gauge",
			  "The node firewall's XDP program on the uplink, by interface and mode (native or generic).");
	admin_sb_printf(b, "meshforge_xdp_attached{iface=\"%s\",mode=\"%s\"} 1\n",
			xdp_iface(x), xdp_mode(x));
	admin_metric_head(b, "meshforge_xdp_drop_events_total", "counter",
			  "Drop reports read from the XDP program's ring buffer (at most one per source and second; the drops are in meshforge_pod_packets_total{reason=\"xdp_drop_*\"}).");
	admin_sb_printf(b, "meshforge_xdp_drop_events_total %llu\n",
			(unsigned long long)xdp_events(x));
}

/* The kernel's per-CPU counters, summed.  Omitted when the map cannot be
 * read (no pinned maps: tests, or a map of another layout). */
static void admin_metrics_kernel(struct admin *a, struct admin_sb *b)
{
	const struct pmap *pm = a->ctx->pmap;
	unsigned long long sums[MF_STAT_MAX];
	__u64 *vals;

	if (!pm || pm->stats_fd < 0 || a->ncpu <= 0)
		return;
	vals = calloc((size_t)a->ncpu, sizeof(*vals));
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
		for (int c = 0; c < a->ncpu; c++)
			sums[k] += vals[c];
	}
	free(vals);
	admin_metric_head(b, "meshforge_pod_packets_total", "counter",
			  "Packets seen by the kernel programs (TC from and to pods, XDP on the uplink), by outcome (mf_stats).");
	for (int k = 0; k < MF_STAT_MAX; k++) {
		admin_sb_printf(b, "meshforge_pod_packets_total{reason=\"%s\"} %llu\n",
				abi_name_or(&abi_stat, k), sums[k]);
	}
}

/* The counters of struct stats with one sample per label, in the order
 * /metrics lists them; a family's help goes with its first sample. */
static const struct admin_counter {
	const char *name, *label, *help;
	size_t off;
} admin_counters[] = {
#define ADMIN_COUNTER(name, label, member, help)                               \
	{ name, label, help, offsetof(struct stats, member) }
	ADMIN_COUNTER("meshforge_connections_setup_failed_total", "", refused,
		      "Connections reset before relaying, any cause (refusals, denials, connect and handshake failures)."),
	ADMIN_COUNTER("meshforge_connections_relayed_total", "", relayed,
		      "Connections that reached the relay state."),
	ADMIN_COUNTER("meshforge_connections_closed_total", "{how=\"clean\"}",
		      finished,
		      "Relayed connections ended, by how (clean: both halves closed; reset: aborted)."),
	ADMIN_COUNTER("meshforge_connections_closed_total", "{how=\"reset\"}",
		      aborted, NULL),
	ADMIN_COUNTER("meshforge_authz_decisions_total",
		      "{decision=\"allow\"}", authorized,
		      "Inbound tunnel connections authorized or denied."),
	ADMIN_COUNTER("meshforge_authz_decisions_total",
		      "{decision=\"deny\"}", denied, NULL),
	ADMIN_COUNTER("meshforge_authz_shadow_denied_total", "", shadow_denied,
		      "Inbound tunnels admitted by AllowWithShadowDeny: "
		      "they would be denied (counted in allow too)."),
	ADMIN_COUNTER("meshforge_relayed_bytes_total",
		      "{direction=\"client_to_server\"}", relay_bytes[0],
		      "Plaintext bytes relayed, by direction."),
	ADMIN_COUNTER("meshforge_relayed_bytes_total",
		      "{direction=\"server_to_client\"}", relay_bytes[1], NULL),
	ADMIN_COUNTER("meshforge_tls_handshakes_total", "{result=\"ok\"}",
		      tls_ok, "TLS handshakes of tunnel connections, by result."),
	ADMIN_COUNTER("meshforge_tls_handshakes_total", "{result=\"failed\"}",
		      tls_failed, NULL),
	ADMIN_COUNTER("meshforge_upstream_pool_total", "{event=\"reused\"}",
		      pool_reused,
		      "Keep-alive upstream connections of the L7 engine, by event: taken from the pool for a new client connection or request, parked in it, closed from it to make room or because idle or closed by the peer."),
	ADMIN_COUNTER("meshforge_upstream_pool_total", "{event=\"parked\"}",
		      pool_parked, NULL),
	ADMIN_COUNTER("meshforge_upstream_pool_total", "{event=\"evicted\"}",
		      pool_evicted, NULL),
	ADMIN_COUNTER("meshforge_upstream_pool_total", "{event=\"expired\"}",
		      pool_expired, NULL),
	ADMIN_COUNTER("meshforge_http_requests_total", "", http_requests,
		      "HTTP requests forwarded upstream by the L7 proxy."),
	ADMIN_COUNTER("meshforge_http_responses_total", "{class=\"1xx\"}",
		      http_status[1],
		      "Final HTTP responses forwarded to clients, by status class (1xx: 101)."),
	ADMIN_COUNTER("meshforge_http_responses_total", "{class=\"2xx\"}",
		      http_status[2], NULL),
	ADMIN_COUNTER("meshforge_http_responses_total", "{class=\"3xx\"}",
		      http_status[3], NULL),
	ADMIN_COUNTER("meshforge_http_responses_total", "{class=\"4xx\"}",
		      http_status[4], NULL),
	ADMIN_COUNTER("meshforge_http_responses_total", "{class=\"5xx\"}",
		      http_status[5], NULL),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"bad_request\"}",
		      http_local[STATS_HTTP_LOCAL_4XX],
		      "Requests answered or reset by the proxy itself, by reason (bad_request: 4xx; timeout: 408; bad_response: 502; unavailable: 503, no upstream to be had; rate_limited: over a rate limit; upstream_timeout: 504, a MeshTimeout ran out; fault: a MeshFaultInjection abort)."),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"timeout\"}", http_local[STATS_HTTP_LOCAL_408],
		      NULL),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"bad_response\"}",
		      http_local[STATS_HTTP_LOCAL_5XX], NULL),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"unavailable\"}",
		      http_local[STATS_HTTP_LOCAL_503], NULL),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"rate_limited\"}",
		      http_local[STATS_HTTP_LOCAL_LIMITED], NULL),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"upstream_timeout\"}",
		      http_local[STATS_HTTP_LOCAL_TIMEOUT], NULL),
	ADMIN_COUNTER("meshforge_http_local_replies_total",
		      "{reason=\"fault\"}",
		      http_local[STATS_HTTP_LOCAL_FAULT], NULL),
	ADMIN_COUNTER("meshforge_http_retries_total", "", http_retries,
		      "Tries of HTTP requests after their first (MeshRetry)."),
	ADMIN_COUNTER("meshforge_http_retry_budget_exhausted_total", "",
		      http_retry_budget,
		      "Retries the retry budget refused during a failure storm."),
	ADMIN_COUNTER("meshforge_tcp_connect_retries_total", "",
		      tcp_connect_retries,
		      "TCP connections whose connect failed and went to another endpoint (MeshRetry tcp.maxConnectAttempt)."),
	ADMIN_COUNTER("meshforge_outlier_ejections_total", "",
		      outlier_ejections,
		      "Endpoints ejected by outlier detection (MeshCircuitBreaker)."),
	ADMIN_COUNTER("meshforge_health_checks_total", "{result=\"success\"}",
		      health_checks[0],
		      "Active health check probes (MeshHealthCheck), by result."),
	ADMIN_COUNTER("meshforge_health_checks_total", "{result=\"failure\"}",
		      health_checks[1], NULL),
	ADMIN_COUNTER("meshforge_health_transitions_total",
		      "{health=\"healthy\"}", health_transitions[0],
		      "Endpoints a health check found healthy again, or unhealthy."),
	ADMIN_COUNTER("meshforge_health_transitions_total",
		      "{health=\"unhealthy\"}", health_transitions[1], NULL),
	ADMIN_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_connections\"}", breaker_overflows[0],
		      "Connections refused, requests answered 503 and retries not made past a MeshCircuitBreaker connection limit, by limit."),
	ADMIN_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_requests\"}", breaker_overflows[1], NULL),
	ADMIN_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_retries\"}", breaker_overflows[2], NULL),
	ADMIN_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_pending_requests\"}", breaker_overflows[3],
		      NULL),
	ADMIN_COUNTER("meshforge_circuit_breaker_overflows_total",
		      "{limit=\"max_connection_pools\"}", breaker_overflows[4],
		      NULL),
	ADMIN_COUNTER("meshforge_http_fault_delays_total", "",
		      http_fault_delays,
		      "Requests held back by a MeshFaultInjection delay."),
	ADMIN_COUNTER("meshforge_timeouts_total", "{timeout=\"request\"}",
		      timeouts[STATS_TIMEOUT_REQUEST],
		      "MeshTimeout and MeshRetry deadlines that ran out, by kind."),
	ADMIN_COUNTER("meshforge_timeouts_total", "{timeout=\"per_try\"}",
		      timeouts[STATS_TIMEOUT_TRY], NULL),
	ADMIN_COUNTER("meshforge_timeouts_total",
		      "{timeout=\"stream_idle\"}",
		      timeouts[STATS_TIMEOUT_STREAM_IDLE], NULL),
	ADMIN_COUNTER("meshforge_timeouts_total",
		      "{timeout=\"max_stream_duration\"}",
		      timeouts[STATS_TIMEOUT_MAX_STREAM], NULL),
	ADMIN_COUNTER("meshforge_timeouts_total", "{timeout=\"http_idle\"}",
		      timeouts[STATS_TIMEOUT_IDLE], NULL),
	ADMIN_COUNTER("meshforge_timeouts_total", "{timeout=\"tcp_idle\"}",
		      timeouts[STATS_TIMEOUT_TCP_IDLE], NULL),
#undef ADMIN_COUNTER
};
#define ADMIN_NCOUNTERS (sizeof(admin_counters) / sizeof(admin_counters[0]))

static void admin_metrics(struct admin *a, struct admin_sb *b)
{
	const struct stats *st = &a->ctx->stats;
	struct policy *p = reload_current(a->ctx->reload);
	const struct loop *l = a->loop;

	admin_metric_head(b, "meshforge_connections_accepted_total", "counter",
			  "Connections accepted, by listener.");
	for (unsigned int i = 0; i < l->nlisteners; i++)
		if (l->listeners[i].live)
			admin_sb_printf(b, "meshforge_connections_accepted_total{listener=\"%s\"} %llu\n",
					l->listeners[i].name,
					(unsigned long long)l->listeners[i].accepted);
	admin_metric_head(b, "meshforge_connections_active", "gauge",
			  "Proxied connections open now.");
	admin_sb_printf(b, "meshforge_connections_active %u\n", st->conns);
	admin_metric_head(b, "meshforge_health_unhealthy_endpoints", "gauge",
			  "Endpoints a health check of this node finds unhealthy now (once per check that does).");
	admin_sb_printf(b, "meshforge_health_unhealthy_endpoints %u\n",
			st->health_unhealthy);
	admin_metric_head(b, "meshforge_connections_refused_total", "counter",
			  "Connections refused by policy or capacity before any relaying, by reason.");
	for (int i = 0; i < STATS_REFUSE_MAX; i++)
		admin_sb_printf(b, "meshforge_connections_refused_total{reason=\"%s\"} %llu\n",
				stats_refuse_name(i),
				(unsigned long long)st->refused_by[i]);
	for (size_t i = 0; i < ADMIN_NCOUNTERS; i++) {
		const struct admin_counter *c = &admin_counters[i];
		uint64_t v = *(const uint64_t *)((const char *)st + c->off);

		if (!i || strcmp(c->name, admin_counters[i - 1].name))
			admin_metric_head(b, c->name, "counter", c->help);
		admin_sb_printf(b, "%s%s %llu\n", c->name, c->label,
				(unsigned long long)v);
	}
	admin_metric_head(b, "meshforge_loop_stall_seconds_max", "gauge",
			  "Longest time one loop iteration spent handling its completions since start: every connection waited that long.");
	admin_sb_printf(b, "meshforge_loop_stall_seconds_max %.6f\n",
			(double)l->stats.stall_max_ns / 1e9);
	admin_metric_head(b, "meshforge_build_info", "gauge",
			  "The agent's version, as a label (value 1).");
	admin_sb_printf(b, "meshforge_build_info{version=\"%s\"} 1\n",
			MF_VERSION);
	admin_metric_head(b, "meshforge_policy_epoch", "gauge",
			  "Epoch of the policy snapshot in force (0: none loaded).");
	admin_sb_printf(b, "meshforge_policy_epoch %llu\n",
			(unsigned long long)(p ? policy_epoch(p) : 0));
	admin_metrics_l7(a, b);
	admin_metrics_kernel(a, b);
	admin_metrics_xdp(a, b);
}

static void admin_sb_write(void *arg, const char *buf, size_t n)
{
	struct admin_sb *b = arg;

	admin_sb_reserve(b, n);
	if (b->oom)
		return;
	memcpy(b->p + b->len, buf, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void admin_emit_ip(struct emit *e, const void *ip4)
{
	char buf[INET_ADDRSTRLEN];

	if (!inet_ntop(AF_INET, ip4, buf, sizeof(buf)))
		strcpy(buf, "0.0.0.0");
	emit_str(e, buf);
}

/* A string key/value pair of a dump object. */
static void admin_emit_kv(struct emit *e, const char *key, const char *val)
{
	emit_key(e, key);
	emit_str(e, val ? val : "");
}

static void admin_dump_service(struct emit *e, const struct policy *p,
			       const struct mf_service_key *k,
			       const struct mf_service *svc)
{
	const struct mf_authz_rule *r;
	const struct mf_endpoint *ep;
	uint32_t epip;

	emit_map_begin(e);
	admin_emit_kv(e, "name", svc->name);
	emit_key(e, "id");
	emit_uint(e, svc->id);
	emit_key(e, "vip");
	admin_emit_ip(e, k->vip);
	emit_key(e, "port");
	emit_uint(e, k->port);
	admin_emit_kv(e, "protocol", abi_name_or(&abi_proto, k->proto));
	emit_key(e, "endpoints");
	emit_list_begin(e);
	for (size_t j = 0; (ep = policy_service_endpoint_at(p, svc->id, j)); j++) {
		epip = policy_endpoint_ip(p, ep);
		emit_map_begin(e);
		admin_emit_kv(e, "name", ep->name);
		emit_key(e, "ip");
		admin_emit_ip(e, &epip);
		emit_key(e, "port");
		emit_uint(e, ep->port);
		/* The record names its node by address; the dump keeps
		 * showing the name ("" when no node has that address). */
		admin_emit_kv(e, "node", policy_node_name_by_ip(p, ep->node_ip));
		admin_emit_kv(e, "identity", policy_identity(p, ep->identity_id));
		emit_map_end(e);
	}
	emit_list_end(e);
	emit_key(e, "authz");
	emit_list_begin(e);
	for (size_t j = 0; (r = policy_authz_rule_at(p, svc->id, j)); j++) {
		emit_map_begin(e);
		admin_emit_kv(e, "policy", r->policy);
		admin_emit_kv(e, "action",
			      abi_name_or(&abi_authz_action, r->action));
		admin_emit_kv(e, "match", abi_name_or(&abi_authz_match, r->match));
		admin_emit_kv(e, "spiffe", r->spiffe);
		emit_map_end(e);
	}
	emit_list_end(e);
	emit_map_end(e);
}

/* The snapshot as JSON into @b.  Returns false when there is none. */
static bool admin_config_dump(struct policy *p, const char *node,
			      struct admin_sb *b)
{
	const struct mf_service *svc;
	struct mf_service_key k;
	struct emit e;

	emit_init(&e, EMIT_JSON, admin_sb_write, b);
	emit_map_begin(&e);
	if (!p) {
		admin_emit_kv(&e, "error", "no policy loaded");
		emit_map_end(&e);
		admin_sb_write(b, "\n", 1);
		return false;
	}
	emit_key(&e, "epoch");
	emit_uint(&e, policy_epoch(p));
	admin_emit_kv(&e, "mesh", policy_mesh(p));
	admin_emit_kv(&e, "trust_domain", policy_trust_domain(p));
	admin_emit_kv(&e, "node", node);
	emit_key(&e, "services");
	emit_list_begin(&e);
	for (size_t i = 0; (svc = policy_service_at(p, i, &k)); i++)
		admin_dump_service(&e, p, &k, svc);
	emit_list_end(&e);
	emit_key(&e, "policies");
	polkinds_emit(policy_kinds(p), &e);
	emit_map_end(&e);
	admin_sb_write(b, "\n", 1);
	return true;
}

/* ---- the request --------------------------------------------------------- */

static bool admin_tchar(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static bool admin_name_is(const char *s, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

/*
 * Parses request head @h (@len bytes, ending in CRLFCRLF): method and path
 * (the target up to '?') point into @h.  Returns 0 or -EPROTO.
 */
static int admin_parse(const char *h, size_t len, const char **method,
		       size_t *mlen, const char **path, size_t *plen)
{
	const char *p = h, *end = h + len, *eol, *colon, *v;
	bool http11, host = false;
	size_t n;

	eol = p;
	while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
		eol++;
	if (eol + 1 >= end)
		return -EPROTO;
	/* method SP target SP HTTP/1.x */
	for (n = 0; p + n < eol && p[n] >= 'A' && p[n] <= 'Z'; n++)
		;
	if (n == 0 || n > 16 || p + n >= eol || p[n] != ' ')
		return -EPROTO;
	*method = p;
	*mlen = n;
	p += n + 1;
	if (p >= eol || *p != '/')
		return -EPROTO;
	for (n = 0; p + n < eol && p[n] > 0x20 && p[n] < 0x7f; n++)
		;
	if (p + n >= eol || p[n] != ' ')
		return -EPROTO;
	*path = p;
	*plen = n;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '?') {
			*plen = i;
			break;
		}
	p += n + 1;
	if ((size_t)(eol - p) != 8 || (memcmp(p, "HTTP/1.1", 8) != 0 &&
				       memcmp(p, "HTTP/1.0", 8) != 0))
		return -EPROTO;
	http11 = p[7] == '1';
	p = eol + 2;

	/* Header fields, up to the empty line. */
	for (;;) {
		eol = p;
		while (eol + 1 < end && !(eol[0] == '\r' && eol[1] == '\n'))
			eol++;
		if (eol + 1 >= end)
			return -EPROTO;
		if (eol == p)
			break;
		for (colon = p; colon < eol && admin_tchar((unsigned char)*colon);
		     colon++)
			;
		/* No name, or a space before the colon, or obs-fold. */
		if (colon == p || colon >= eol || *colon != ':')
			return -EPROTO;
		for (v = colon + 1; v < eol; v++)
			if ((unsigned char)*v < 0x20 && *v != '\t')
				return -EPROTO;
			else if ((unsigned char)*v == 0x7f)
				return -EPROTO;
		n = (size_t)(colon - p);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		if (admin_name_is(p, n, "host"))
			host = true;
		/* GET has no body here: one would be unread bytes of an
		 * unknown length, so refuse rather than guess. */
		if (admin_name_is(p, n, "transfer-encoding"))
			return -EPROTO;
		if (admin_name_is(p, n, "content-length") &&
		    !(eol - v >= 1 && *v == '0' &&
		      (eol - v == 1 || v[1] == ' ' || v[1] == '\t')))
			return -EPROTO;
		p = eol + 2;
	}
	/* RFC 9112 3.2: an HTTP/1.1 request without Host is bad. */
	if (http11 && !host)
		return -EPROTO;
	return 0;
}

/*
 * Builds the whole HTTP response to request head @head (@len bytes, ending
 * in CRLFCRLF) into *out (malloc'ed, the caller owns it) and its length
 * into *out_len.  Returns 0, -EPROTO for a malformed head (the caller
 * resets the connection instead of answering), or -ENOMEM.
 */
static int admin_respond(struct admin *a, const char *head, size_t len,
			 char **out, size_t *out_len)
{
	struct admin_sb body = { 0 }, resp = { 0 };
	const char *method, *path, *status = "200 OK",
		   *ctype = "text/plain; charset=utf-8", *extra = "";
	size_t mlen, plen;
	int err;

	err = admin_parse(head, len, &method, &mlen, &path, &plen);
	if (err)
		return err;
	if (mlen != 3 || memcmp(method, "GET", 3)) {
		status = "405 Method Not Allowed";
		extra = "Allow: GET\r\n";
		admin_sb_printf(&body, "method not allowed\n");
	} else if (plen == 6 && !memcmp(path, "/ready", 6)) {
		if (admin_is_ready(a)) {
			admin_sb_printf(&body, "ready\n");
		} else {
			status = "503 Service Unavailable";
			admin_sb_printf(&body, "not ready\n");
		}
	} else if (plen == 8 && !memcmp(path, "/metrics", 8)) {
		ctype = "text/plain; version=0.0.4; charset=utf-8";
		admin_metrics(a, &body);
	} else if (plen == 12 && !memcmp(path, "/config_dump", 12)) {
		ctype = "application/json";
		if (!admin_config_dump(reload_current(a->ctx->reload),
				       a->ctx->node, &body))
			status = "503 Service Unavailable";
	} else {
		status = "404 Not Found";
		admin_sb_printf(&body, "not found\n");
	}
	admin_sb_printf(&resp, "HTTP/1.1 %s\r\nContent-Type: %s\r\n"
			"Content-Length: %zu\r\n%sConnection: close\r\n"
			"Cache-Control: no-store\r\n\r\n", status, ctype,
			body.len, extra);
	if (!body.oom && body.len) {
		admin_sb_reserve(&resp, body.len);
		if (!resp.oom) {
			memcpy(resp.p + resp.len, body.p, body.len);
			resp.len += body.len;
		}
	}
	if (body.oom || resp.oom) {
		free(body.p);
		free(resp.p);
		return -ENOMEM;
	}
	free(body.p);
	*out = resp.p;
	*out_len = resp.len;
	return 0;
}

/* ---- connections --------------------------------------------------------- */

static uint64_t admin_ud(const struct admin *a, const struct admin_conn *ac,
			 enum admin_op op)
{
	return loop_ud(a->op, op, (uint32_t)(ac - a->conns), ac->gen);
}

static void admin_submit_recv(struct admin *a, struct admin_conn *ac)
{
	struct io_uring_sqe *sqe = loop_sqe(a->loop, 1);

	io_uring_prep_recv(sqe, ac->fd, ac->req + ac->req_len,
			   sizeof(ac->req) - ac->req_len, 0);
	io_uring_sqe_set_data64(sqe, admin_ud(a, ac, ADMIN_OP_RECV));
	ac->recv_busy = true;
	ac->inflight++;
}

static void admin_submit_send(struct admin *a, struct admin_conn *ac)
{
	struct io_uring_sqe *sqe = loop_sqe(a->loop, 1);

	io_uring_prep_send(sqe, ac->fd, ac->resp + ac->resp_off,
			   ac->resp_len - ac->resp_off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, admin_ud(a, ac, ADMIN_OP_SEND));
	ac->send_busy = true;
	ac->inflight++;
}

/* Ends @ac: cancels its ops; the slot goes once they have completed
 * (admin_reap()).  Idempotent. */
static void admin_conn_close(struct admin *a, struct admin_conn *ac,
			     bool rst)
{
	struct io_uring_sqe *sqe;

	if (ac->closing)
		return;
	ac->closing = true;
	ac->rst = rst;
	if (ac->recv_busy || ac->send_busy) {
		sqe = loop_sqe(a->loop, 1);
		io_uring_prep_cancel_fd(sqe, ac->fd, IORING_ASYNC_CANCEL_ALL);
		io_uring_sqe_set_data64(sqe, admin_ud(a, ac,
						      ADMIN_OP_CANCEL));
		ac->inflight++;
	}
	if (ac->timer_armed) {
		sqe = loop_sqe(a->loop, 1);
		io_uring_prep_timeout_remove(sqe, admin_ud(a, ac,
							   ADMIN_OP_TIMEOUT), 0);
		io_uring_sqe_set_data64(sqe, admin_ud(a, ac,
						      ADMIN_OP_CANCEL));
		ac->inflight++;
	}
}

static void admin_reap(struct admin *a, struct admin_conn *ac)
{
	if (!ac->closing || ac->inflight)
		return;
	loop_close_fd(a->loop, ac->fd, ac->rst);
	free(ac->resp);
	ac->resp = NULL;
	ac->fd = -1;
	ac->gen = (ac->gen + 1) & LOOP_UD_GEN_MASK;
	a->nconns--;
}

/* The listener's accept handler: serves @fd, or resets it when the table is
 * full. */
static void admin_accept(void *arg, int fd)
{
	struct admin *a = arg;
	struct admin_conn *ac = NULL;
	struct io_uring_sqe *sqe;
	struct timespec now;
	uint64_t ns;

	for (int i = 0; i < ADMIN_MAX_CONNS; i++)
		if (a->conns[i].fd < 0) {
			ac = &a->conns[i];
			break;
		}
	if (!ac) {
		log_warn("event=admin_refused reason=table_full");
		loop_close_fd(a->loop, fd, true);
		return;
	}
	ac->fd = fd;
	ac->inflight = 0;
	ac->recv_busy = ac->send_busy = ac->closing = ac->rst = false;
	ac->resp = NULL;
	ac->resp_len = ac->resp_off = ac->req_len = 0;
	a->nconns++;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_nsec + (uint64_t)a->timeout_ms * 1000000u;
	ac->deadline.tv_sec = now.tv_sec + (int64_t)(ns / 1000000000u);
	ac->deadline.tv_nsec = (long long)(ns % 1000000000u);
	sqe = loop_sqe(a->loop, 1);
	io_uring_prep_timeout(sqe, &ac->deadline, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, admin_ud(a, ac, ADMIN_OP_TIMEOUT));
	ac->timer_armed = true;
	ac->inflight++;
	admin_submit_recv(a, ac);
}

static void admin_on_recv(struct admin *a, struct admin_conn *ac, int res)
{
	size_t from, i, head = 0;
	int err;

	if (ac->closing)
		return;
	if (res <= 0) {
		/* Gone, or an error, before a whole head arrived. */
		admin_conn_close(a, ac, true);
		return;
	}
	from = ac->req_len >= 3 ? ac->req_len - 3 : 0;
	ac->req_len += (size_t)res;
	for (i = from; i + 4 <= ac->req_len; i++)
		if (!memcmp(ac->req + i, "\r\n\r\n", 4)) {
			head = i + 4;
			break;
		}
	if (!head) {
		if (ac->req_len == sizeof(ac->req)) {
			log_warn("event=admin_refused reason=head_too_large");
			admin_conn_close(a, ac, true);
			return;
		}
		admin_submit_recv(a, ac);
		return;
	}
	err = admin_respond(a, ac->req, head, &ac->resp, &ac->resp_len);
	if (err) {
		log_warn("event=admin_refused reason=%s",
			 err == -EPROTO ? "malformed_request" : "out_of_memory");
		admin_conn_close(a, ac, true);
		return;
	}
	ac->resp_off = 0;
	admin_submit_send(a, ac);
}

static void admin_on_send(struct admin *a, struct admin_conn *ac, int res)
{
	if (ac->closing)
		return;
	if (res <= 0) {
		admin_conn_close(a, ac, true);
		return;
	}
	ac->resp_off += (size_t)res;
	if (ac->resp_off < ac->resp_len) {
		admin_submit_send(a, ac);
		return;
	}
	/* All out: a plain close sends FIN after the response. */
	admin_conn_close(a, ac, false);
}

/* The handler of the admin operation: aux is the enum admin_op. */
static void admin_on_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct admin *a = arg;
	uint64_t ud = cqe->user_data;
	uint32_t slot = loop_ud_slot(ud);
	struct admin_conn *ac;
	int res = cqe->res;

	if (slot >= ADMIN_MAX_CONNS)
		return;
	ac = &a->conns[slot];
	if (ac->fd < 0 || ac->gen != loop_ud_gen(ud)) {
		a->loop->stats.stale_cqes++;
		return;
	}
	ac->inflight--;
	switch (loop_ud_aux(ud)) {
	case ADMIN_OP_RECV:
		ac->recv_busy = false;
		admin_on_recv(a, ac, res);
		break;
	case ADMIN_OP_SEND:
		ac->send_busy = false;
		admin_on_send(a, ac, res);
		break;
	case ADMIN_OP_TIMEOUT:
		ac->timer_armed = false;
		if (res == -ETIME && !ac->closing) {
			log_warn("event=admin_refused reason=timeout "
				 "bytes_received=%zu", ac->req_len);
			admin_conn_close(a, ac, true);
		}
		break;
	case ADMIN_OP_CANCEL:
		/* A kernel without cancel-by-fd: a shutdown completes the
		 * recv or send instead (the peer then sees FIN before the
		 * RST, which is still an end without an answer). */
		if (res == -EINVAL && (ac->recv_busy || ac->send_busy))
			shutdown(ac->fd, SHUT_RDWR);
		break;
	default:
		break;
	}
	admin_reap(a, ac);
}

/* loop_user: the loop is going away. */
static void admin_abort_all(void *arg)
{
	struct admin *a = arg;

	for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
		if (a->conns[i].fd < 0)
			continue;
		admin_conn_close(a, &a->conns[i], true);
		admin_reap(a, &a->conns[i]);
	}
}

static bool admin_busy(void *arg)
{
	const struct admin *a = arg;

	return a->nconns > 0;
}

int admin_open(struct admin **out, struct loop *l, struct ctx *ctx,
	       uint16_t port, uint32_t timeout_ms)
{
	struct loop_user u = {
		.abort_all = admin_abort_all, .busy = admin_busy,
	};
	struct admin *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->loop = l;
	a->ctx = ctx;
	a->timeout_ms = timeout_ms ? timeout_ms : ADMIN_DEFAULT_TIMEOUT_MS;
	a->ncpu = libbpf_num_possible_cpus();
	for (int i = 0; i < ADMIN_MAX_CONNS; i++)
		a->conns[i].fd = -1;
	u.arg = a;
	err = loop_op_add(l, "admin", admin_on_cqe, a);
	if (err < 0)
		goto fail;
	a->op = (uint8_t)err;
	err = loop_user_add(l, &u);
	if (err)
		goto fail;
	/* The admin endpoint answers the node only, whatever address the
	 * data path listens on. */
	err = loop_listen(l, "admin", htonl(INADDR_LOOPBACK), port,
			  admin_accept, a);
	if (err < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	/* What was registered stays in the loop until loop_fini(), which
	 * the caller runs next, and finds the admin table empty. */
	*out = a;
	return err;
}

void admin_close(struct admin *a)
{
	if (!a)
		return;
	/* Normally empty by now (loop_fini() waited); anything left has an
	 * op the kernel never completed, and its fd goes synchronously. */
	for (int i = 0; i < ADMIN_MAX_CONNS; i++) {
		struct admin_conn *ac = &a->conns[i];

		if (ac->fd < 0)
			continue;
		log_warn("event=admin_conn_leak slot=%d inflight=%u", i,
			 ac->inflight);
		loop_set_rst(ac->fd);
		close(ac->fd);
		free(ac->resp);
	}
	free(a);
}
