// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTimeout, MeshRetry and MeshFaultInjection of one connection
 * (resil.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/kinds.h"
#include "policy/select.h"
#include "resil.h"
#include "router.h"

/* Timeout *@have, lowered to @ms when that is set and fires first: the
 * destination's inbound timeouts run on the same request as the source's
 * outbound ones, and the user sees whichever ends it first. */
static void resil_min_ms(uint32_t *have, uint32_t ms)
{
	if (ms && (!*have || ms < *have))
		*have = ms;
}

static void resil_timeouts(const struct mf_timeout_conf *t, struct resil *r)
{
	resil_min_ms(&r->connect_ms, t->connection_timeout);
	resil_min_ms(&r->idle_ms, t->idle_timeout);
	resil_min_ms(&r->request_ms, t->http.request_timeout);
	resil_min_ms(&r->stream_idle_ms, t->http.stream_idle_timeout);
	resil_min_ms(&r->max_stream_ms, t->http.max_stream_duration);
	resil_min_ms(&r->max_conn_ms, t->http.max_connection_duration);
	resil_min_ms(&r->headers_ms, t->http.request_headers_timeout);
}

/* One retryOn item: a condition, a method or a status code. */
static void resil_retry_on(const char *s, struct resil *r, uint16_t *methods)
{
	static const struct {
		const char *name;
		uint32_t on;
	} conds[] = {
		{ "5xx", RESIL_ON_5XX },
		{ "GatewayError", RESIL_ON_GATEWAY },
		{ "Reset", RESIL_ON_RESET },
		{ "ConnectFailure", RESIL_ON_CONNECT },
		{ "Retriable4xx", RESIL_ON_4XX },
		{ "EnvoyRatelimited", RESIL_ON_LIMITED },
		/* HTTP/2 and HTTP/3 conditions: an HTTP/1.1 up end sees them
		 * as a reset. */
		{ "RefusedStream", RESIL_ON_RESET },
		{ "Http3PostConnectFailure", RESIL_ON_CONNECT },
	};
	const char *m = "HttpMethod";
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(conds) / sizeof(conds[0]); i++) {
		if (!strcasecmp(s, conds[i].name)) {
			r->on |= conds[i].on;
			return;
		}
	}
	if (!strncmp(s, m, strlen(m))) {
		const char *name = s + strlen(m);

		*methods |= (uint16_t)(1u << resil_method(name, strlen(name)));
		return;
	}
	v = strtol(s, &end, 10);
	if (!*end && v >= 100 && v <= 599 && r->nstatuses < RESIL_STATUSES_MAX)
		r->statuses[r->nstatuses++] = (uint16_t)v;
}

static void resil_retry(const struct mf_retry_conf *c, struct resil *r)
{
	const struct mf_retry_http *h = &c->http;
	uint16_t methods = 0;

	if (c->tcp.present)
		r->tcp_connect_attempts = c->tcp.max_connect_attempt;
	if (!h->present)
		return;
	r->retries = h->num_retries ? h->num_retries : RESIL_DEFAULT_RETRIES;
	r->per_try_ms = h->per_try_timeout;
	r->backoff_base_ms = h->back_off.base_interval ?
			     h->back_off.base_interval :
			     RESIL_DEFAULT_BACKOFF_MS;
	r->backoff_max_ms = h->back_off.max_interval ?
			    h->back_off.max_interval : 10 * r->backoff_base_ms;
	r->retry_after_max_ms = h->rate_limited_back_off.max_interval ?
				h->rate_limited_back_off.max_interval :
				RESIL_RETRY_AFTER_MAX_MS;
	for (size_t i = 0; i < h->nretry_on && i < MF_RETRY_ON_MAX; i++) {
		char s[MF_RETRY_ON_LEN + 1];

		memcpy(s, h->retry_on[i], MF_RETRY_ON_LEN);
		s[MF_RETRY_ON_LEN] = '\0';
		resil_retry_on(s, r, &methods);
	}
	/* No condition named: Kuma's default, failures of the gateway
	 * kind and of the connection. */
	if (!r->on && !r->nstatuses)
		r->on = RESIL_ON_GATEWAY | RESIL_ON_CONNECT | RESIL_ON_RESET;
	r->methods = methods ? methods : RESIL_M_IDEMPOTENT;
}

static void resil_faults(const struct mf_fault_conf *f, struct resil *r)
{
	r->nfaults = f->nhttp < MF_FAULTS_MAX ? f->nhttp : MF_FAULTS_MAX;
	memcpy(r->faults, f->http, sizeof(r->faults[0]) * r->nfaults);
}

const char *resil_health(const struct policy *p, const struct mf_endpoint *src,
			 const struct mf_service *dst, struct mf_hc_conf *conf)
{
	struct sel_workload ws, wd;
	struct sel_query to = { .self = &ws, .section = MF_SEC_TO,
				.peer = &wd };

	memset(conf, 0, sizeof(*conf));
	router_view(p, src, &ws);
	router_dest_view(p, dst, &wd);
	return router_effective(p, &kind_mesh_health_check, &to, conf);
}

int resil_find(const struct policy *p, const struct mf_endpoint *src,
	       const char *src_id, const struct mf_service *dst,
	       struct resil *r)
{
	struct router_conn_q q;
	const char *inbound;
	union {
		struct mf_timeout_conf t;
		struct mf_retry_conf rt;
		struct mf_fault_conf f;
		struct mf_cb_conf cb;
		struct mf_hc_conf hc;
	} *u = malloc(sizeof(*u));

	memset(r, 0, sizeof(*r));
	if (!u)
		return -ENOMEM;
	router_conn_queries(p, src, src_id, dst, &q);

	memset(u, 0, sizeof(*u));
	r->timeout_policy = router_effective(p, &kind_mesh_timeout, &q.to,
					     &u->t);
	if (r->timeout_policy)
		resil_timeouts(&u->t, r);
	inbound = router_inbound(p, &kind_mesh_timeout, &q.from, &q.rule, &u->t,
				 sizeof(u->t));
	if (inbound) {
		resil_timeouts(&u->t, r);
		r->timeout_policy = inbound;
	}

	memset(u, 0, sizeof(*u));
	r->retry_policy = router_effective(p, &kind_mesh_retry, &q.to, &u->rt);
	if (r->retry_policy)
		resil_retry(&u->rt, r);

	r->fault_policy = router_inbound(p, &kind_mesh_fault_injection, &q.from,
					 &q.rule, &u->f, sizeof(u->f));
	if (!r->fault_policy || !u->f.nhttp) {
		memset(u, 0, sizeof(*u));
		r->fault_policy = router_effective(p,
						   &kind_mesh_fault_injection,
						   &q.to, &u->f);
	}
	if (r->fault_policy)
		resil_faults(&u->f, r);
	if (!r->nfaults)
		r->fault_policy = NULL;

	memset(u, 0, sizeof(*u));
	r->breaker_policy = router_effective(p, &kind_mesh_circuit_breaker,
					     &q.to, &u->cb);
	if (r->breaker_policy) {
		hosts_outlier_conf(&u->cb.outlier_detection, &r->outlier);
		r->limits = u->cb.connection_limits;
	}

	r->health_policy = resil_health(p, src, dst, &u->hc);
	if (r->health_policy) {
		r->panic_milli = u->hc.present & 1u << MF_HC_F_HEALTHY_PANIC ?
				 u->hc.healthy_panic_threshold : 0;
		if (u->hc.present & 1u << MF_HC_F_HEALTHY_PANIC &&
		    !r->panic_milli)
			r->panic_milli = BALANCE_PANIC_OFF;
		r->fail_on_panic = u->hc.fail_traffic_on_panic;
	}
	free(u);
	return balance_find(p, src, dst, &r->lb);
}

enum resil_method resil_method(const char *m, size_t n)
{
	static const char *const names[] = {
		[RESIL_M_GET] = "GET", [RESIL_M_HEAD] = "HEAD",
		[RESIL_M_POST] = "POST", [RESIL_M_PUT] = "PUT",
		[RESIL_M_DELETE] = "DELETE", [RESIL_M_CONNECT] = "CONNECT",
		[RESIL_M_OPTIONS] = "OPTIONS", [RESIL_M_TRACE] = "TRACE",
		[RESIL_M_PATCH] = "PATCH",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == n && !strncasecmp(m, names[i], n))
			return (enum resil_method)i;
	return RESIL_M_OTHER;
}

bool resil_status_retriable(const struct resil *r, int status)
{
	for (size_t i = 0; i < r->nstatuses; i++)
		if (r->statuses[i] == status)
			return true;
	if ((r->on & RESIL_ON_5XX) && status >= 500 && status <= 599)
		return true;
	if ((r->on & RESIL_ON_GATEWAY) && status >= 502 && status <= 504)
		return true;
	return (r->on & RESIL_ON_4XX) && status == 409;
}

uint32_t resil_backoff_ms(const struct resil *r, unsigned int n,
			  uint64_t rnd)
{
	uint64_t top = r->backoff_base_ms;

	for (unsigned int i = 1; i < n && top < r->backoff_max_ms; i++)
		top *= 2;
	if (top > r->backoff_max_ms)
		top = r->backoff_max_ms;
	return (uint32_t)(rnd % (top + 1));
}
