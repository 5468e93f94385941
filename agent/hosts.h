/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hosts: the upstream endpoints as one loop has seen them, whatever
 * snapshot named them: requests in flight, latency, failures and whether
 * outlier detection has ejected them.  The load balancer reads it (least
 * request, peak EWMA, which endpoints may be picked at all); the L7 flow
 * writes it as each try starts and ends.
 *
 * A host is keyed by its endpoint's address and port (hosts_key()), so a
 * new snapshot that keeps an endpoint keeps its history.  The table is
 * bounded (HOSTS_SLOTS; a full probe window evicts the least recently
 * used, an ejected host counting as used until its ejection ends, so that
 * a crowded table does not end an ejection early) and per loop: no lock,
 * no atomics.
 *
 * Outlier detection (Kuma's MeshCircuitBreaker outlierDetection, as Envoy
 * runs it), per destination service:
 *   - consecutive failures: totalFailures counts 5xx responses and
 *     local-origin failures (connect failures, resets, timeouts) alike
 *     unless splitExternalAndLocalErrors, when localOriginFailures counts
 *     the latter apart; gatewayFailures counts 502, 503 and 504 (and local
 *     failures unless split).  A success resets each run, as Envoy does
 *     with two more: another 5xx resets gatewayFailures' (the failures
 *     are no longer consecutive gateway ones), and under split any
 *     response resets localOriginFailures' (the connection worked).  A run
 *     that reaches its `consecutive` starts over and ejects the host at
 *     once, unless it is ejected already or maxEjectionPercent forbids.
 *   - successRate and failurePercentage: judged every `interval` over the
 *     requests of that interval (hosts_sweep()): a host with at least
 *     requestVolume requests is ejected when its success rate is below
 *     mean - stdev * standardDeviationFactor / 1000 of the hosts that
 *     qualify (at least minimumHosts of them), or when its failure
 *     percentage is at least threshold (minimumHosts as well).
 *   - an ejection lasts baseEjectionTime times the number of times the
 *     host was ejected; the count goes down by one each interval the host
 *     is not ejected and has no failure, so a host that recovers is back
 *     to the base time.  No more than maxEjectionPercent of the service's
 *     hosts are ejected at once (at least one may be).
 *   - the panic threshold is the balancer's (balance.c): when fewer than
 *     healthyPanicThreshold of the candidates may be picked, all may.
 */
#ifndef MF_AGENT_HOSTS_H
#define MF_AGENT_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define HOSTS_SLOTS		4096	/* a power of 2 */
#define HOSTS_PROBE		8

/* Kuma's defaults (Envoy's) for an outlierDetection that leaves them
 * out.  The request volumes differ: successRate's is 100,
 * failurePercentage's 50. */
#define HOSTS_DEFAULT_INTERVAL_MS	10000
#define HOSTS_DEFAULT_EJECTION_MS	30000
#define HOSTS_DEFAULT_MAX_EJECT_PCT	10
#define HOSTS_DEFAULT_CONSECUTIVE	5	/* each consecutive detector */
#define HOSTS_DEFAULT_SR_FACTOR		1900
#define HOSTS_DEFAULT_MIN_HOSTS		5
#define HOSTS_DEFAULT_VOLUME		100	/* successRate */
#define HOSTS_DEFAULT_FP_VOLUME		50	/* failurePercentage */
#define HOSTS_DEFAULT_FP_THRESHOLD	85

/* How a try ended, for outlier detection. */
enum hosts_outcome {
	HOSTS_OK = 0,		/* a response below 500 */
	HOSTS_5XX,		/* a 5xx response other than the below */
	HOSTS_GATEWAY,		/* 502, 503 or 504 from the upstream */
	HOSTS_LOCAL,		/* no response: connect failure, reset,
				 * timeout */
};

/* The outlier detection in force for a destination service (from
 * struct mf_cb_outlier, defaults filled in), or none. */
struct hosts_outlier {
	bool on;
	bool split_local;		/* splitExternalAndLocalErrors */
	uint32_t interval_ms;
	uint32_t base_ejection_ms;
	uint32_t max_ejection_pct;	/* 0..100 */
	uint32_t consecutive_total;	/* 0: off */
	uint32_t consecutive_gateway;	/* 0: off */
	uint32_t consecutive_local;	/* 0: off */
	/* successRate: 0 request_volume means off */
	uint32_t sr_min_hosts, sr_volume, sr_factor_milli;
	/* failurePercentage: 0 request_volume means off */
	uint32_t fp_min_hosts, fp_volume, fp_threshold;
};

struct host {
	uint64_t key;			/* hosts_key(), 0: free */
	uint64_t service;		/* the service it was last used for */
	uint64_t used_ns;		/* last touch: eviction */
	/* load */
	uint32_t active;		/* tries in flight */
	uint64_t ewma_ns, ewma_at_ns;	/* peak EWMA latency (lb.h) */
	/* outlier detection */
	uint32_t run_total, run_gateway, run_local;
	uint32_t win_requests, win_failures;	/* this interval */
	uint32_t ejections;		/* the ejection time's multiplier */
	uint64_t ejected_until_ns;	/* 0: not ejected */
	uint64_t ejected_total;		/* times ejected, ever */
	/* a connect to it failed: priority failover (balance.h) passes
	 * over it until then, whatever outlier detection says; 0: never */
	uint64_t held_until_ns;
	/* active health checks (health.h) */
	uint16_t hc_down;		/* how many find it unhealthy: it is
					 * never evicted while any does */
};

struct hosts {
	struct host h[HOSTS_SLOTS];
	uint64_t swept_ns;		/* the last hosts_sweep() */
	uint64_t ejections;		/* counted for /metrics */
};

/* The key of the endpoint at @ip (network order) and @port. */
uint64_t hosts_key(uint32_t ip, uint16_t port);

/* The host of @key, made when there is none (evicting the least recently
 * used of its probe window), touched at @now.  Never NULL. */
struct host *hosts_get(struct hosts *t, uint64_t key, uint64_t now);

/* The host of @key, NULL when the table has none. */
const struct host *hosts_find(const struct hosts *t, uint64_t key);

/* Whether @h may be picked at @now: it is not ejected (an ejection that
 * ran out is over). */
bool hosts_available(const struct host *h, uint64_t now);

/* How long a host whose connect failed is passed over for the next
 * priority level (balance.h): long enough not to pay a failed connect per
 * connection, short enough that the preferred level is soon tried again. */
#define HOSTS_HOLD_MS		5000

/* The connect to the host of @key failed at @now: it is held (passed
 * over) for @ms. */
void hosts_hold(struct hosts *t, uint64_t key, uint64_t now, uint32_t ms);

/* Whether @h is held at @now (hosts_hold()). */
bool hosts_held(const struct host *h, uint64_t now);

/* A try to the host of @key for service @service starts at @now. */
void hosts_begin(struct hosts *t, uint64_t key, uint64_t service,
		 uint64_t now);

/*
 * The try to the host of @key, begun with hosts_begin(), ended at @now
 * with @outcome after @rtt_ns (0: no latency to learn from).  Under
 * outlier detection @o (NULL: none), a run of failures may eject the
 * host: @nhosts is how many hosts its service has (for
 * maxEjectionPercent; the table knows how many of them it ejected).
 * Returns true when this ejected it.
 */
bool hosts_end(struct hosts *t, uint64_t key, enum hosts_outcome outcome,
	       uint64_t rtt_ns, uint64_t now, const struct hosts_outlier *o,
	       uint32_t nhosts);

/*
 * The interval of service @service is over at @now: successRate and
 * failurePercentage are judged over its hosts' requests of the interval
 * (a host ejected at @now is neither judged nor counted among those that
 * qualify, as in Envoy), which then start over, and the ejection
 * multiplier of a host that had no failure and is not ejected goes down
 * by one (one whose ejection ran out is cleared and waits for the next
 * interval).  @o NULL or off: nothing is judged, the rest is done.
 * @nhosts: as above.  Returns how many hosts it ejected.
 */
unsigned int hosts_sweep(struct hosts *t, uint64_t service, uint64_t now,
			 const struct hosts_outlier *o, uint32_t nhosts);

/*
 * Fills @o from MeshCircuitBreaker's outlierDetection @c (NULL or
 * disabled: o->on false), Kuma's defaults for what it leaves out.  A 0
 * reads as left out, for the record cannot tell them apart: a count or
 * duration is never 0 when written (Kuma refuses it), a maxEjectionPercent
 * or threshold of 0 gets the default.  A detector is on when it is
 * written; with no detectors at all, totalFailures is, at 5 (Envoy's
 * consecutive_5xx).
 */
void hosts_outlier_conf(const struct mf_cb_outlier *c,
			struct hosts_outlier *o);

#endif /* MF_AGENT_HOSTS_H */
