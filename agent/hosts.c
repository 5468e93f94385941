// SPDX-License-Identifier: Apache-2.0
/*
 * The upstream endpoints as one loop has seen them (hosts.h).
 */
#include <math.h>
#include <string.h>

#include "hash.h"
#include "hosts.h"
#include "lb.h"

uint64_t hosts_key(uint32_t ip, uint16_t port)
{
	uint64_t h = HASH_FNV_INIT;

	h = hash_fnv(h, &ip, sizeof(ip));
	h = hash_fnv(h, &port, sizeof(port));
	/* 0 marks a free slot. */
	return h ? h : 1;
}

/* When @h was last of use: an ejected host until its ejection ends, for
 * the balancer only reads it (hosts_find()) and does not touch it; one a
 * health check finds unhealthy for as long as it does. */
static uint64_t hosts_age(const struct host *h)
{
	uint64_t age = h->used_ns;

	if (h->hc_down)
		return UINT64_MAX;
	if (h->ejected_until_ns > age)
		age = h->ejected_until_ns;
	/* A held host likewise, or a crowded table would end the hold
	 * early and send traffic back to a level that is down. */
	return h->held_until_ns > age ? h->held_until_ns : age;
}

struct host *hosts_get(struct hosts *t, uint64_t key, uint64_t now)
{
	struct host *h, *lru = NULL;

	key = key ? key : 1;
	for (unsigned int i = 0; i < HOSTS_PROBE; i++) {
		h = &t->h[(key + i) & (HOSTS_SLOTS - 1)];
		if (h->key == key)
			goto found;
		if (!h->key) {
			lru = h;
			break;
		}
		if (!lru || hosts_age(h) < hosts_age(lru))
			lru = h;
	}
	h = lru;
	memset(h, 0, sizeof(*h));
	h->key = key;
found:
	h->used_ns = now;
	return h;
}

const struct host *hosts_find(const struct hosts *t, uint64_t key)
{
	const struct host *h;

	key = key ? key : 1;
	for (unsigned int i = 0; i < HOSTS_PROBE; i++) {
		h = &t->h[(key + i) & (HOSTS_SLOTS - 1)];
		if (h->key == key)
			return h;
		if (!h->key)
			return NULL;
	}
	return NULL;
}

bool hosts_available(const struct host *h, uint64_t now)
{
	return !h->ejected_until_ns || now >= h->ejected_until_ns;
}

void hosts_hold(struct hosts *t, uint64_t key, uint64_t now, uint32_t ms)
{
	hosts_get(t, key, now)->held_until_ns = now + (uint64_t)ms * 1000000ull;
}

bool hosts_held(const struct host *h, uint64_t now)
{
	return h->held_until_ns && now < h->held_until_ns;
}

void hosts_begin(struct hosts *t, uint64_t key, uint64_t service,
		 uint64_t now)
{
	struct host *h = hosts_get(t, key, now);

	h->active++;
	h->service = service;
}

/* How many hosts of @service are ejected at @now. */
static unsigned int hosts_ejected(const struct hosts *t, uint64_t service,
				  uint64_t now)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < HOSTS_SLOTS; i++) {
		const struct host *h = &t->h[i];

		n += h->key && h->service == service && !hosts_available(h, now);
	}
	return n;
}

/* Whether one more of @nhosts hosts may be ejected when @ejected are:
 * not past maxEjectionPercent, but always one when none is (Envoy's
 * rule, so a service of few hosts still loses a bad one). */
static bool hosts_may_eject(const struct hosts_outlier *o,
			    unsigned int ejected, uint32_t nhosts)
{
	return !ejected || ((uint64_t)ejected + 1) * 100 <=
			   (uint64_t)o->max_ejection_pct * nhosts;
}

/* Ejects @h at @now, for the base time times the times it was ejected
 * (decayed by hosts_sweep()); its runs start over. */
static void hosts_eject(struct hosts *t, struct host *h,
			const struct hosts_outlier *o, uint64_t now)
{
	h->ejections++;
	h->ejected_until_ns = now + (uint64_t)o->base_ejection_ms * 1000000ull *
					    h->ejections;
	h->ejected_total++;
	t->ejections++;
	h->run_total = 0;
	h->run_gateway = 0;
	h->run_local = 0;
}

/* The consecutive runs of @h after @outcome: which each counts is in
 * hosts.h, as Envoy counts them. */
static void hosts_count_run(struct host *h, enum hosts_outcome outcome,
			    bool split_local)
{
	switch (outcome) {
	case HOSTS_OK:
		h->run_total = 0;
		h->run_gateway = 0;
		h->run_local = 0;
		break;
	case HOSTS_5XX:
		h->run_total++;
		h->run_gateway = 0;
		if (split_local)
			h->run_local = 0;
		break;
	case HOSTS_GATEWAY:
		h->run_total++;
		h->run_gateway++;
		if (split_local)
			h->run_local = 0;
		break;
	case HOSTS_LOCAL:
		if (split_local) {
			h->run_local++;
		} else {
			h->run_total++;
			h->run_gateway++;
		}
		break;
	}
}

/* Whether @run reached its @limit (0: the detector is off); if so it
 * starts over, whether or not the host is then ejected, as Envoy resets
 * it on every attempt: a host maxEjectionPercent spared needs a new run. */
static bool hosts_run_full(uint32_t *run, uint32_t limit)
{
	if (!limit || *run < limit)
		return false;
	*run = 0;
	return true;
}

bool hosts_end(struct hosts *t, uint64_t key, enum hosts_outcome outcome,
	       uint64_t rtt_ns, uint64_t now, const struct hosts_outlier *o,
	       uint32_t nhosts)
{
	/* Got again rather than found: a host evicted while the try was in
	 * flight starts over from this outcome. */
	struct host *h = hosts_get(t, key, now);
	bool full;

	if (h->active)
		h->active--;
	if (rtt_ns) {
		h->ewma_ns = lb_ewma_update(h->ewma_ns, h->ewma_at_ns, now,
					    rtt_ns);
		h->ewma_at_ns = now;
	}
	h->win_requests++;
	if (outcome != HOSTS_OK)
		h->win_failures++;
	hosts_count_run(h, outcome, o && o->split_local);
	if (!o || !o->on)
		return false;
	/* Each detector's run is checked (and restarted when full), not
	 * only the first that fills. */
	full = hosts_run_full(&h->run_total, o->consecutive_total);
	full |= hosts_run_full(&h->run_gateway, o->consecutive_gateway);
	if (o->split_local)
		full |= hosts_run_full(&h->run_local, o->consecutive_local);
	if (!full || !hosts_available(h, now) ||
	    !hosts_may_eject(o, hosts_ejected(t, h->service, now), nhosts))
		return false;
	hosts_eject(t, h, o, now);
	return true;
}

/* Whether @h is one of @service's hosts. */
static bool hosts_of(const struct host *h, uint64_t service)
{
	return h->key && h->service == service;
}

/* Whether successRate judges @h at @now: enough requests this interval,
 * and not ejected (Envoy leaves ejected hosts out of the statistics). */
static bool hosts_sr_judged(const struct host *h,
			    const struct hosts_outlier *o, uint64_t now)
{
	return o->sr_volume && h->win_requests >= o->sr_volume &&
	       hosts_available(h, now);
}

/* The same for failurePercentage. */
static bool hosts_fp_judged(const struct host *h,
			    const struct hosts_outlier *o, uint64_t now)
{
	return o->fp_volume && h->win_requests >= o->fp_volume &&
	       hosts_available(h, now);
}

/* @h's success rate this interval, in percent (it had requests). */
static double hosts_success_pct(const struct host *h)
{
	return 100.0 * (double)(h->win_requests - h->win_failures) /
	       (double)h->win_requests;
}

/* What the detectors of a sweep decided before any of them ejects, so
 * that an ejection does not move the bar for the hosts judged after. */
struct hosts_verdict {
	bool sr_on, fp_on;		/* enough hosts qualify */
	double sr_threshold;		/* a success rate below it ejects */
	unsigned int ejected;		/* the service's hosts ejected */
};

static void hosts_judge(const struct hosts *t, uint64_t service,
			uint64_t now, const struct hosts_outlier *o,
			struct hosts_verdict *v)
{
	unsigned int sr_n = 0, fp_n = 0;
	double sum = 0.0, dev = 0.0, mean;

	memset(v, 0, sizeof(*v));
	for (unsigned int i = 0; i < HOSTS_SLOTS; i++) {
		const struct host *h = &t->h[i];

		if (!hosts_of(h, service))
			continue;
		v->ejected += !hosts_available(h, now);
		if (!o)
			continue;
		if (hosts_sr_judged(h, o, now)) {
			sr_n++;
			sum += hosts_success_pct(h);
		}
		fp_n += hosts_fp_judged(h, o, now);
	}
	if (!o)
		return;
	v->fp_on = fp_n && fp_n >= o->fp_min_hosts;
	v->sr_on = sr_n && sr_n >= o->sr_min_hosts;
	if (!v->sr_on)
		return;
	/* The population's standard deviation, as Envoy computes it, in a
	 * second pass: the mean first keeps it exact when all are equal. */
	mean = sum / sr_n;
	for (unsigned int i = 0; i < HOSTS_SLOTS; i++) {
		const struct host *h = &t->h[i];
		double d;

		if (!hosts_of(h, service) || !hosts_sr_judged(h, o, now))
			continue;
		d = hosts_success_pct(h) - mean;
		dev += d * d;
	}
	v->sr_threshold = mean - sqrt(dev / sr_n) *
				 (double)o->sr_factor_milli / 1000.0;
}

/* Whether the detectors' verdict @v finds @h an outlier. */
static bool hosts_outlier(const struct host *h, const struct hosts_outlier *o,
			  const struct hosts_verdict *v, uint64_t now)
{
	if (v->sr_on && hosts_sr_judged(h, o, now) &&
	    hosts_success_pct(h) < v->sr_threshold)
		return true;
	/* Failures * 100 >= threshold * requests: whole numbers, exact. */
	return v->fp_on && hosts_fp_judged(h, o, now) &&
	       (uint64_t)h->win_failures * 100 >=
		       (uint64_t)o->fp_threshold * h->win_requests;
}

unsigned int hosts_sweep(struct hosts *t, uint64_t service, uint64_t now,
			 const struct hosts_outlier *o, uint32_t nhosts)
{
	struct hosts_verdict v;
	unsigned int n = 0;

	if (o && !o->on)
		o = NULL;
	hosts_judge(t, service, now, o, &v);
	for (unsigned int i = 0; i < HOSTS_SLOTS; i++) {
		struct host *h = &t->h[i];

		if (!hosts_of(h, service))
			continue;
		if (o && hosts_outlier(h, o, &v, now) &&
		    hosts_may_eject(o, v.ejected, nhosts)) {
			hosts_eject(t, h, o, now);
			v.ejected++;
			n++;
		}
		/* An ejection that ran out ends here, and the multiplier
		 * decays from the next interval on, as in Envoy. */
		if (h->ejected_until_ns) {
			if (now >= h->ejected_until_ns)
				h->ejected_until_ns = 0;
		} else if (!h->win_failures && h->ejections) {
			h->ejections--;
		}
		h->win_requests = 0;
		h->win_failures = 0;
	}
	t->swept_ns = now;
	return n;
}

/* @v, or @def when it is 0 (left out). */
static uint32_t hosts_or(uint32_t v, uint32_t def)
{
	return v ? v : def;
}

void hosts_outlier_conf(const struct mf_cb_outlier *c,
			struct hosts_outlier *o)
{
	const struct mf_cb_detectors *d;

	memset(o, 0, sizeof(*o));
	if (!c || !c->present || c->disabled)
		return;
	d = &c->detectors;
	o->on = true;
	o->split_local = c->split_external_and_local_errors != 0;
	o->interval_ms = hosts_or(c->interval, HOSTS_DEFAULT_INTERVAL_MS);
	o->base_ejection_ms = hosts_or(c->base_ejection_time,
				       HOSTS_DEFAULT_EJECTION_MS);
	o->max_ejection_pct = hosts_or(c->max_ejection_percent,
				       HOSTS_DEFAULT_MAX_EJECT_PCT);
	if (o->max_ejection_pct > 100)
		o->max_ejection_pct = 100;
	/* Envoy's consecutive_5xx, on by default, is what an outlier
	 * detection without detectors is left with. */
	if (!d->present) {
		o->consecutive_total = HOSTS_DEFAULT_CONSECUTIVE;
		return;
	}
	if (d->total_failures.present)
		o->consecutive_total = hosts_or(d->total_failures.consecutive,
						HOSTS_DEFAULT_CONSECUTIVE);
	if (d->gateway_failures.present)
		o->consecutive_gateway =
			hosts_or(d->gateway_failures.consecutive,
				 HOSTS_DEFAULT_CONSECUTIVE);
	if (d->local_origin_failures.present)
		o->consecutive_local =
			hosts_or(d->local_origin_failures.consecutive,
				 HOSTS_DEFAULT_CONSECUTIVE);
	if (d->success_rate.present) {
		o->sr_min_hosts = hosts_or(d->success_rate.minimum_hosts,
					   HOSTS_DEFAULT_MIN_HOSTS);
		o->sr_volume = hosts_or(d->success_rate.request_volume,
					HOSTS_DEFAULT_VOLUME);
		o->sr_factor_milli =
			hosts_or(d->success_rate.standard_deviation_factor,
				 HOSTS_DEFAULT_SR_FACTOR);
	}
	if (d->failure_percentage.present) {
		o->fp_min_hosts = hosts_or(d->failure_percentage.minimum_hosts,
					   HOSTS_DEFAULT_MIN_HOSTS);
		o->fp_volume = hosts_or(d->failure_percentage.request_volume,
					HOSTS_DEFAULT_FP_VOLUME);
		o->fp_threshold = hosts_or(d->failure_percentage.threshold,
					   HOSTS_DEFAULT_FP_THRESHOLD);
		if (o->fp_threshold > 100)
			o->fp_threshold = 100;
	}
}
