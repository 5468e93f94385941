/* SPDX-License-Identifier: Apache-2.0 */
/*
 * resil: what MeshTimeout, MeshRetry, MeshFaultInjection,
 * MeshLoadBalancingStrategy and MeshCircuitBreaker ask of one outbound
 * connection and its requests, found once when it is accepted (its source
 * and destination are fixed), in the shape hproxy, the balancer and the
 * flow use.
 *
 *  - MeshTimeout, MeshRetry, MeshLoadBalancingStrategy (balance_find())
 *    and MeshCircuitBreaker: Kuma's `to` entries, the source workload as
 *    the proxy and the destination service as the peer, merged in Kuma's
 *    precedence (sel_effective()).
 *  - MeshFaultInjection: Kuma selects it on the destination, by source:
 *    its `from` entries with the destination service as the proxy and the
 *    source workload as the peer, else its `to` entries as above.
 *
 * Timeouts are in ms; 0 is "none".  MeshRetry's retryOn is reduced to what
 * the proxy tests per attempt: conditions as RESIL_ON_* bits, status codes
 * as a list, and the methods that may be retried (HttpMethod* items; none
 * listed: the idempotent ones, RFC 9110 9.2.2, so a POST is never retried
 * unless the policy names it).
 */
#ifndef MF_AGENT_RESIL_H
#define MF_AGENT_RESIL_H

#include <stdbool.h>
#include <stdint.h>

#include "balance.h"
#include "hosts.h"
#include "meshforge/abi.h"
#include "policy.h"

/* retryOn conditions. */
enum resil_on {
	RESIL_ON_5XX = 1u << 0,		/* any 5xx, a reset, a connect failure,
					 * a try's timeout */
	RESIL_ON_GATEWAY = 1u << 1,	/* 502, 503, 504, a connect failure, a
					 * try's timeout */
	RESIL_ON_RESET = 1u << 2,	/* no response: reset, closed, a try's
					 * timeout */
	RESIL_ON_CONNECT = 1u << 3,	/* the up end could not be had */
	RESIL_ON_4XX = 1u << 4,		/* Retriable4xx: 409 */
	RESIL_ON_LIMITED = 1u << 5,	/* EnvoyRatelimited: a 429 of a
					 * proxy's own (x-envoy-ratelimited),
					 * never an upstream's */
};

/* Methods, as bits (enum resil_method order). */
enum resil_method {
	RESIL_M_GET = 0, RESIL_M_HEAD, RESIL_M_POST, RESIL_M_PUT,
	RESIL_M_DELETE, RESIL_M_CONNECT, RESIL_M_OPTIONS, RESIL_M_TRACE,
	RESIL_M_PATCH, RESIL_M_OTHER,
};

#define RESIL_M_IDEMPOTENT						\
	(1u << RESIL_M_GET | 1u << RESIL_M_HEAD | 1u << RESIL_M_PUT |	\
	 1u << RESIL_M_DELETE | 1u << RESIL_M_OPTIONS | 1u << RESIL_M_TRACE)

#define RESIL_STATUSES_MAX	MF_RETRY_ON_MAX

/* Kuma's defaults for a MeshRetry http section that leaves them out. */
#define RESIL_DEFAULT_RETRIES		1
#define RESIL_DEFAULT_BACKOFF_MS	25
#define RESIL_RETRY_AFTER_MAX_MS	300000	/* rateLimitedBackOff */

struct resil {
	/* MeshTimeout */
	const char *timeout_policy;	/* the last merged (the destination's
					 * inbound one when any), NULL: none */
	uint32_t connect_ms;		/* connectionTimeout: the up end */
	uint32_t idle_ms;		/* idleTimeout: between requests,
					 * and a TCP connection's */
	uint32_t request_ms;		/* requestTimeout: request whole to
					 * response whole */
	uint32_t stream_idle_ms;	/* streamIdleTimeout: no byte either
					 * way while a request is on */
	uint32_t max_stream_ms;		/* maxStreamDuration: first byte to
					 * response whole */
	uint32_t max_conn_ms;		/* maxConnectionDuration (not applied
					 * yet) */
	uint32_t headers_ms;		/* requestHeadersTimeout: a request
					 * head, from its first byte (408) */

	/* MeshRetry */
	const char *retry_policy;
	uint32_t retries;		/* http.numRetries, 0: none */
	uint32_t per_try_ms;
	uint32_t backoff_base_ms, backoff_max_ms;
	uint32_t retry_after_max_ms;	/* rateLimitedBackOff.maxInterval */
	uint32_t on;			/* enum resil_on bits */
	uint16_t statuses[RESIL_STATUSES_MAX];
	uint8_t nstatuses;
	uint16_t methods;		/* enum resil_method bits */
	uint32_t tcp_connect_attempts;	/* tcp.maxConnectAttempt, 0: 1 */

	/* MeshFaultInjection */
	const char *fault_policy;
	uint8_t nfaults;
	struct mf_fault_http faults[MF_FAULTS_MAX];

	/* MeshLoadBalancingStrategy */
	struct balance_conf lb;

	/* MeshCircuitBreaker */
	const char *breaker_policy;
	struct hosts_outlier outlier;
	struct mf_cb_limits limits;

	/* MeshHealthCheck: its probes run in health.c; what the picks need
	 * to know is that they count, and the panic rule. */
	const char *health_policy;
	uint32_t panic_milli;		/* healthyPanicThreshold, thousandths
					 * of a percent; 0: the balancer's,
					 * BALANCE_PANIC_OFF: none */
	bool fail_on_panic;		/* failTrafficOnPanic */
};

/* What applies from endpoint @src (speaking as @src_id, NULL: unknown) to
 * service @dst, into @r (zeroed first): the source's `to` entries and the
 * destination's `from` and `rules` ones (the latter matched on @src_id and
 * the SNI the tunnel asks for, @dst's name); of the timeouts that both
 * set, the shorter.  Returns 0 or -ENOMEM (then @r says nothing
 * applies). */
int resil_find(const struct policy *p, const struct mf_endpoint *src,
	       const char *src_id, const struct mf_service *dst,
	       struct resil *r);

/* Whether @r asks for anything. */
static inline bool resil_any(const struct resil *r)
{
	return r->timeout_policy || r->retry_policy || r->fault_policy ||
	       r->lb.policy || r->breaker_policy || r->health_policy;
}

/* The MeshHealthCheck conf from endpoint @src to service @dst into @conf
 * (zeroed first): its last merged policy's name, NULL when none applies
 * (or out of memory). */
const char *resil_health(const struct policy *p, const struct mf_endpoint *src,
			 const struct mf_service *dst, struct mf_hc_conf *conf);

/* The bit of method @m (@n bytes). */
enum resil_method resil_method(const char *m, size_t n);

/* Whether a response with @status calls for another try under @r. */
bool resil_status_retriable(const struct resil *r, int status);

/* The back off before retry @n (1: the first): fully jittered exponential,
 * a uniform draw from [0, base * 2^(n-1)] capped at the max, @rnd a
 * uniform random 64-bit number.  In ms. */
uint32_t resil_backoff_ms(const struct resil *r, unsigned int n,
			  uint64_t rnd);

#endif /* MF_AGENT_RESIL_H */
