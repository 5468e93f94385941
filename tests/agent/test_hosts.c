// SPDX-License-Identifier: Apache-2.0
/*
 * The upstream endpoints as a loop has seen them (agent/hosts.c).  Keys:
 * distinct addresses and ports give distinct keys, none 0; a host is
 * found again; a full probe window evicts its least recently used host,
 * never an ejected one while others remain.  Load: tries in flight count
 * up and down (never below 0), and the peak EWMA takes a slow response
 * at once.  Consecutive failures: 5 5xx in a row eject under
 * totalFailures 5, 4 then a success then 4 do not; gatewayFailures counts
 * 502/503/504 and not 500; localOriginFailures counts local failures
 * alone under split.  Ejection time: the base, then twice it, the host
 * back after each.  maxEjectionPercent: 20% of 10 hosts is 2 however
 * many fail, and one host is always ejectable.  The sweep: successRate
 * ejects the one host of 6 at 50% when the others are at 100%, not
 * when it is below the request volume or fewer than minimumHosts
 * qualify, and leaves ejected hosts out; failurePercentage ejects at the
 * threshold and not below it, within maxEjectionPercent; the ejection
 * multiplier decays by one a clean interval, after the ejection ends.
 * The configuration: Kuma's defaults, a detector on only when written,
 * disabled.
 *
 * The clock is the caller's, so every time here is exact.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "harness/test.h"
#include "../../agent/hosts.h"

#define MS	1000000ull
#define SEC	1000000000ull
#define T0	(1000 * SEC)
#define SVC	42

static uint32_t ip4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* 64 x 256 addresses on 4 ports: all keys distinct and non-zero. */
static bool test_keys_distinct(void)
{
	const size_t n = 64 * 256 * 4;
	uint64_t *k = calloc(n, sizeof(*k));
	size_t i = 0;
	bool ok = ASSERT_TRUE(k != NULL);

	for (uint32_t a = 0; ok && a < 64 * 256; a++)
		for (uint16_t p = 8080; p < 8084; p++)
			k[i++] = hosts_key(htonl(0x0a010000 + a), htons(p));
	for (i = 0; ok && i < n; i++)
		ok = ASSERT_NE(k[i], 0);
	if (ok)
		qsort(k, n, sizeof(*k), cmp_u64);
	for (i = 1; ok && i < n; i++)
		ok = ASSERT_NE(k[i], k[i - 1]);
	ok = ok && ASSERT_NE(hosts_key(ip4("10.1.0.1"), htons(8080)),
			     hosts_key(ip4("10.1.0.1"), htons(8081))) &&
	     ASSERT_EQ(hosts_key(ip4("10.1.0.1"), htons(8080)),
		       hosts_key(ip4("10.1.0.1"), htons(8080)));
	free(k);
	return ok;
}

/* A host is made zeroed once and found again, by get and by find. */
static bool test_get_finds_again(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	uint64_t a = hosts_key(ip4("10.1.0.1"), htons(8080));
	uint64_t b = hosts_key(ip4("10.1.0.2"), htons(8080));
	struct host *h;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	ok = ASSERT_TRUE(hosts_find(t, a) == NULL);
	h = hosts_get(t, a, T0);
	ok = ok && ASSERT_EQ(h->key, a) && ASSERT_EQ(h->used_ns, T0) &&
	     ASSERT_EQ(h->active, 0) && ASSERT_EQ(h->ewma_ns, 0) &&
	     ASSERT_EQ(h->ejected_until_ns, 0);
	if (ok)
		h->active = 3;
	ok = ok && ASSERT_TRUE(hosts_get(t, a, T0 + 1) == h) &&
	     ASSERT_EQ(h->active, 3) && ASSERT_EQ(h->used_ns, T0 + 1) &&
	     ASSERT_TRUE(hosts_find(t, a) == h) &&
	     ASSERT_TRUE(hosts_get(t, b, T0) != h) &&
	     ASSERT_TRUE(hosts_find(t, b) != NULL) &&
	     ASSERT_EQ(hosts_find(t, b)->key, b);
	free(t);
	return ok;
}

/* Keys HOSTS_SLOTS apart start probing at one slot: HOSTS_PROBE of them
 * fill a window, and the next takes the place of the least recently used
 * (the fourth here, not the first), zeroed.  An ejected host counts as
 * used until its ejection ends. */
static bool test_lru_eviction(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	const uint64_t base = 77;
	struct host *h[HOSTS_PROBE], *n;
	bool ok = true;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	for (unsigned int i = 0; i < HOSTS_PROBE; i++)
		h[i] = hosts_get(t, base + i * HOSTS_SLOTS, T0 + 10 + i);
	h[3]->used_ns = T0;
	h[3]->active = 7;
	h[3]->ejections = 2;
	n = hosts_get(t, base + HOSTS_PROBE * HOSTS_SLOTS, T0 + 100);
	ok = ASSERT_TRUE(n == h[3]) &&
	     ASSERT_EQ(n->key, base + HOSTS_PROBE * HOSTS_SLOTS) &&
	     ASSERT_EQ(n->active, 0) && ASSERT_EQ(n->ejections, 0) &&
	     ASSERT_TRUE(hosts_find(t, base + 3 * HOSTS_SLOTS) == NULL);
	for (unsigned int i = 0; ok && i < HOSTS_PROBE; i++)
		if (i != 3)
			ok = ASSERT_TRUE(hosts_find(t, base + i * HOSTS_SLOTS) ==
					 h[i]);
	/* h[0] is now the least recently used, but ejected until after
	 * everyone's last use: h[1] goes instead. */
	if (ok)
		h[0]->ejected_until_ns = T0 + 30 * SEC;
	n = hosts_get(t, base + (HOSTS_PROBE + 1) * HOSTS_SLOTS, T0 + 200);
	ok = ok && ASSERT_TRUE(n == h[1]) &&
	     ASSERT_TRUE(hosts_find(t, base) == h[0]) &&
	     ASSERT_TRUE(hosts_find(t, base + HOSTS_SLOTS) == NULL);
	free(t);
	return ok;
}

/* Tries in flight count up and down, never below 0; the EWMA learns from
 * a response with a latency (a slower one raises it at once) and ignores
 * one without. */
static bool test_begin_end_load(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	uint64_t k = hosts_key(ip4("10.1.0.1"), htons(8080)), svc = SVC;
	const struct host *h;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	for (int i = 0; i < 3; i++)
		hosts_begin(t, k, svc, T0);
	h = hosts_find(t, k);
	ok = ASSERT_TRUE(h != NULL) && ASSERT_EQ(h->active, 3) &&
	     ASSERT_EQ(h->service, svc);
	ok = ok && ASSERT_FALSE(hosts_end(t, k, HOSTS_OK, 2 * MS, T0 + SEC,
					  NULL, 1)) &&
	     ASSERT_EQ(h->active, 2) && ASSERT_EQ(h->ewma_ns, 2 * MS) &&
	     ASSERT_EQ(h->ewma_at_ns, T0 + SEC) &&
	     ASSERT_EQ(h->used_ns, T0 + SEC);
	/* 50 ms, 1 ms later: the peak at once. */
	ok = ok && ASSERT_FALSE(hosts_end(t, k, HOSTS_OK, 50 * MS,
					  T0 + SEC + MS, NULL, 1)) &&
	     ASSERT_EQ(h->active, 1) && ASSERT_EQ(h->ewma_ns, 50 * MS) &&
	     ASSERT_EQ(h->ewma_at_ns, T0 + SEC + MS);
	/* No latency (a try that failed before any answer): nothing
	 * learnt. */
	ok = ok && ASSERT_FALSE(hosts_end(t, k, HOSTS_LOCAL, 0, T0 + 2 * SEC,
					  NULL, 1)) &&
	     ASSERT_EQ(h->active, 0) && ASSERT_EQ(h->ewma_ns, 50 * MS) &&
	     ASSERT_EQ(h->ewma_at_ns, T0 + SEC + MS) &&
	     ASSERT_EQ(h->win_requests, 3) && ASSERT_EQ(h->win_failures, 1);
	/* One end too many does not wrap. */
	ok = ok && ASSERT_FALSE(hosts_end(t, k, HOSTS_OK, 0, T0 + 3 * SEC,
					  NULL, 1)) &&
	     ASSERT_EQ(h->active, 0);
	free(t);
	return ok;
}

/* Outlier detection with the consecutive detectors given (0: off), a
 * base ejection time of 1 s and no limit on how many are ejected. */
static struct hosts_outlier consecutive(uint32_t total, uint32_t gateway,
					uint32_t local, bool split)
{
	return (struct hosts_outlier){
		.on = true,
		.split_local = split,
		.interval_ms = 10000,
		.base_ejection_ms = 1000,
		.max_ejection_pct = 100,
		.consecutive_total = total,
		.consecutive_gateway = gateway,
		.consecutive_local = local,
	};
}

/* @n tries to the host of @key ending with @outcome at @now: how many
 * ejected it (each try's begin and end at @now). */
static unsigned int tries(struct hosts *t, uint64_t key, unsigned int n,
			  enum hosts_outcome outcome, uint64_t now,
			  const struct hosts_outlier *o, uint32_t nhosts)
{
	unsigned int ejected = 0;

	for (unsigned int i = 0; i < n; i++) {
		hosts_begin(t, key, SVC, now);
		ejected += hosts_end(t, key, outcome, MS, now, o, nhosts);
	}
	return ejected;
}

static uint64_t host_n(unsigned int i)
{
	return hosts_key(htonl(0x0a010000 + i), htons(8080));
}

static bool test_consecutive_total(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct hosts_outlier o = consecutive(5, 0, 0, false);
	uint64_t a = host_n(1), b = host_n(2);
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* 4 then a success then 4: no run of 5. */
	ok = ASSERT_EQ(tries(t, a, 4, HOSTS_5XX, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, a, 1, HOSTS_OK, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, a, 4, HOSTS_5XX, T0, &o, 10), 0) &&
	     ASSERT_TRUE(hosts_available(hosts_find(t, a), T0)) &&
	     ASSERT_EQ(t->ejections, 0);
	/* 5 in a row: the fifth ejects. */
	ok = ok && ASSERT_EQ(tries(t, b, 4, HOSTS_5XX, T0, &o, 10), 0) &&
	     ASSERT_TRUE(hosts_available(hosts_find(t, b), T0)) &&
	     ASSERT_EQ(tries(t, b, 1, HOSTS_5XX, T0, &o, 10), 1) &&
	     ASSERT_FALSE(hosts_available(hosts_find(t, b), T0)) &&
	     ASSERT_EQ(hosts_find(t, b)->ejected_total, 1) &&
	     ASSERT_EQ(hosts_find(t, b)->run_total, 0) &&
	     ASSERT_EQ(t->ejections, 1);
	/* Gateway and local failures count as well (not split). */
	ok = ok && ASSERT_EQ(tries(t, a, 1, HOSTS_OK, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, a, 2, HOSTS_GATEWAY, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, a, 2, HOSTS_LOCAL, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, a, 1, HOSTS_5XX, T0, &o, 10), 1);
	/* Without outlier detection, nothing is ejected. */
	ok = ok && ASSERT_EQ(tries(t, host_n(3), 20, HOSTS_5XX, T0, NULL, 10),
			     0);
	o.on = false;
	ok = ok && ASSERT_EQ(tries(t, host_n(4), 20, HOSTS_5XX, T0, &o, 10),
			     0) &&
	     ASSERT_EQ(t->ejections, 2);
	free(t);
	return ok;
}

static bool test_consecutive_gateway(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct hosts_outlier o = consecutive(0, 3, 0, false);
	uint64_t a = host_n(1), b = host_n(2), c = host_n(3);
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* 500s are not gateway failures: no run, and one ends a run. */
	ok = ASSERT_EQ(tries(t, a, 10, HOSTS_5XX, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, b, 2, HOSTS_GATEWAY, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, b, 1, HOSTS_5XX, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, b, 2, HOSTS_GATEWAY, T0, &o, 10), 0) &&
	     ASSERT_TRUE(hosts_available(hosts_find(t, b), T0)) &&
	     ASSERT_EQ(tries(t, b, 1, HOSTS_GATEWAY, T0, &o, 10), 1) &&
	     ASSERT_FALSE(hosts_available(hosts_find(t, b), T0));
	/* Local failures are gateway failures when not split. */
	ok = ok && ASSERT_EQ(tries(t, c, 2, HOSTS_LOCAL, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, c, 1, HOSTS_GATEWAY, T0, &o, 10), 1);
	free(t);
	return ok;
}

static bool test_consecutive_split_local(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct hosts_outlier o = consecutive(2, 2, 3, true);
	uint64_t a = host_n(1), b = host_n(2);
	const struct host *h;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* Two local failures: only localOriginFailures' run counts them. */
	ok = ASSERT_EQ(tries(t, a, 2, HOSTS_LOCAL, T0, &o, 10), 0);
	h = hosts_find(t, a);
	ok = ok && ASSERT_EQ(h->run_local, 2) && ASSERT_EQ(h->run_total, 0) &&
	     ASSERT_EQ(h->run_gateway, 0) &&
	     ASSERT_EQ(tries(t, a, 1, HOSTS_LOCAL, T0, &o, 10), 1) &&
	     ASSERT_FALSE(hosts_available(h, T0));
	/* A response, even a 5xx, ends a run of local failures. */
	ok = ok && ASSERT_EQ(tries(t, b, 2, HOSTS_LOCAL, T0, &o, 10), 0) &&
	     ASSERT_EQ(tries(t, b, 1, HOSTS_5XX, T0, &o, 10), 0) &&
	     ASSERT_EQ(hosts_find(t, b)->run_local, 0) &&
	     ASSERT_EQ(tries(t, b, 2, HOSTS_LOCAL, T0, &o, 10), 0) &&
	     ASSERT_TRUE(hosts_available(hosts_find(t, b), T0));
	/* Not split, localOriginFailures is not a detector of its own: 3
	 * local failures are 3 of totalFailures' 5. */
	o = consecutive(5, 0, 3, false);
	ok = ok && ASSERT_EQ(tries(t, host_n(3), 4, HOSTS_LOCAL, T0, &o, 10),
			     0) &&
	     ASSERT_EQ(hosts_find(t, host_n(3))->run_total, 4) &&
	     ASSERT_EQ(tries(t, host_n(3), 1, HOSTS_LOCAL, T0, &o, 10), 1);
	free(t);
	return ok;
}

/* The first ejection lasts the base time, the second twice it. */
static bool test_ejection_time(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct hosts_outlier o = consecutive(5, 0, 0, false);
	const uint64_t base = 1000 * MS, t1 = T0 + base + 10 * MS;
	uint64_t a = host_n(1);
	const struct host *h;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	ok = ASSERT_EQ(tries(t, a, 5, HOSTS_5XX, T0, &o, 10), 1);
	h = hosts_find(t, a);
	ok = ok && ASSERT_EQ(h->ejections, 1) &&
	     ASSERT_EQ(h->ejected_until_ns, T0 + base) &&
	     ASSERT_FALSE(hosts_available(h, T0 + base - 1)) &&
	     ASSERT_TRUE(hosts_available(h, T0 + base));
	/* Failing again once back: ejected for twice as long. */
	ok = ok && ASSERT_EQ(tries(t, a, 5, HOSTS_5XX, t1, &o, 10), 1) &&
	     ASSERT_EQ(h->ejections, 2) && ASSERT_EQ(h->ejected_total, 2) &&
	     ASSERT_FALSE(hosts_available(h, t1 + 2 * base - 1)) &&
	     ASSERT_TRUE(hosts_available(h, t1 + 2 * base));
	/* Failures while ejected (tries already in flight) do not eject it
	 * again, nor stretch its ejection. */
	ok = ok && ASSERT_EQ(tries(t, a, 5, HOSTS_5XX, t1 + MS, &o, 10), 0) &&
	     ASSERT_EQ(h->ejections, 2) &&
	     ASSERT_EQ(h->ejected_until_ns, t1 + 2 * base);
	free(t);
	return ok;
}

/* Envoy's rule: an ejection may not take the ejected past
 * maxEjectionPercent of the service's hosts, unless none is ejected. */
static bool test_max_ejection_percent(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct hosts_outlier o = consecutive(5, 0, 0, false);
	unsigned int ejected = 0, out = 0;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* 10 hosts, 20%: 5 fail, 2 are ejected. */
	o.max_ejection_pct = 20;
	for (unsigned int i = 0; i < 5; i++)
		ejected += tries(t, host_n(i), 5, HOSTS_5XX, T0, &o, 10);
	for (unsigned int i = 0; i < 10; i++) {
		tries(t, host_n(i), 1, HOSTS_OK, T0, &o, 10);
		out += !hosts_available(hosts_find(t, host_n(i)), T0);
	}
	ok = ASSERT_EQ(ejected, 2) && ASSERT_EQ(out, 2);
	/* Once their ejections run out, the others may go. */
	ejected = 0;
	for (unsigned int i = 2; i < 5; i++)
		ejected += tries(t, host_n(i), 5, HOSTS_5XX, T0 + 2 * SEC, &o,
				 10);
	ok = ok && ASSERT_EQ(ejected, 2);
	/* Another service's ejections are its own: 1 host at 10% may
	 * still be ejected. */
	o.max_ejection_pct = 10;
	for (unsigned int i = 0; i < 5; i++) {
		hosts_begin(t, host_n(100), SVC + 1, T0 + 2 * SEC);
		ejected += hosts_end(t, host_n(100), HOSTS_5XX, MS,
				     T0 + 2 * SEC, &o, 1);
	}
	ok = ok && ASSERT_EQ(ejected, 3) &&
	     ASSERT_FALSE(hosts_available(hosts_find(t, host_n(100)),
					  T0 + 2 * SEC));
	free(t);
	return ok;
}

/* @ok successes then @fail failures (5xx) to host @i of SVC at @now. */
static void window(struct hosts *t, unsigned int i, unsigned int ok,
		   unsigned int fail, uint64_t now,
		   const struct hosts_outlier *o)
{
	tries(t, host_n(i), ok, HOSTS_OK, now, o, 10);
	tries(t, host_n(i), fail, HOSTS_5XX, now, o, 10);
}

static bool test_sweep_success_rate(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct mf_cb_outlier c = {
		.present = 1,
		.max_ejection_percent = 50,
		.detectors = { .present = 1, .success_rate = { .present = 1 } },
	};
	struct hosts_outlier o;
	uint64_t now = T0 + 10 * SEC;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* Kuma's defaults: 5 hosts with 100 requests, 1.9 deviations (and
	 * up to 3 of the 6 hosts ejected). */
	hosts_outlier_conf(&c, &o);
	/* Host 0 at 50%, 1 to 5 at 100%: mean 91.7, deviation 18.6, the bar
	 * at 56.3.  Another service's host is not counted or touched. */
	window(t, 0, 50, 50, T0, &o);
	for (unsigned int i = 1; i < 6; i++)
		window(t, i, 100, 0, T0, &o);
	hosts_begin(t, host_n(50), SVC + 1, T0);
	hosts_end(t, host_n(50), HOSTS_5XX, MS, T0, &o, 1);
	ok = ASSERT_TRUE(hosts_available(hosts_find(t, host_n(0)), T0)) &&
	     ASSERT_EQ(hosts_sweep(t, SVC, now, &o, 6), 1) &&
	     ASSERT_FALSE(hosts_available(hosts_find(t, host_n(0)), now)) &&
	     ASSERT_EQ(hosts_find(t, host_n(0))->ejected_until_ns,
		       now + 30 * SEC) &&
	     ASSERT_EQ(t->swept_ns, now) &&
	     ASSERT_EQ(hosts_find(t, host_n(50))->win_requests, 1);
	for (unsigned int i = 0; ok && i < 6; i++)
		ok = ASSERT_EQ(hosts_find(t, host_n(i))->win_requests, 0) &&
		     ASSERT_EQ(hosts_find(t, host_n(i))->win_failures, 0) &&
		     ASSERT_TRUE(i == 0 || hosts_available(
						   hosts_find(t, host_n(i)),
						   now));
	/* Next interval: host 1 at 50%, the ejected host 0 at 0% is left
	 * out of the statistics (else the bar would fall below 50). */
	window(t, 0, 0, 100, now + SEC, &o);
	window(t, 1, 50, 50, now + SEC, &o);
	for (unsigned int i = 2; i < 6; i++)
		window(t, i, 100, 0, now + SEC, &o);
	ok = ok && ASSERT_EQ(hosts_sweep(t, SVC, now + 10 * SEC, &o, 6), 1) &&
	     ASSERT_FALSE(hosts_available(hosts_find(t, host_n(1)),
					  now + 10 * SEC)) &&
	     ASSERT_EQ(hosts_find(t, host_n(0))->ejections, 1) &&
	     ASSERT_EQ(hosts_find(t, host_n(0))->ejected_until_ns,
		       now + 30 * SEC);
	free(t);
	return ok;
}

/* A host below the request volume is not judged, nor is anyone when
 * fewer than minimumHosts have the volume. */
static bool test_sweep_success_rate_volume(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct mf_cb_outlier c = {
		.present = 1,
		.detectors = { .present = 1, .success_rate = { .present = 1 } },
	};
	struct hosts_outlier o;
	uint64_t now = T0 + 10 * SEC;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	hosts_outlier_conf(&c, &o);
	window(t, 0, 49, 50, T0, &o);
	for (unsigned int i = 1; i < 6; i++)
		window(t, i, 100, 0, T0, &o);
	ok = ASSERT_EQ(hosts_sweep(t, SVC, now, &o, 6), 0) &&
	     ASSERT_TRUE(hosts_available(hosts_find(t, host_n(0)), now));
	/* Host 0 at 50% and 4 hosts at 100% have the volume, host 5 not:
	 * under a minimumHosts of 6 nobody is judged; under 5, host 0 is
	 * ejected (the bar at 52). */
	for (unsigned int k = 0; ok && k < 2; k++) {
		uint64_t at = now + k * 10 * SEC;

		o.sr_min_hosts = 6 - k;
		window(t, 0, 50, 50, at, &o);
		for (unsigned int i = 1; i < 5; i++)
			window(t, i, 100, 0, at, &o);
		window(t, 5, 99, 0, at, &o);
		ok = ASSERT_EQ(hosts_sweep(t, SVC, at + 10 * SEC, &o, 6), k) &&
		     ASSERT_EQ(hosts_available(hosts_find(t, host_n(0)),
					       at + 10 * SEC), !k);
	}
	/* Off, nothing is judged (host 1 would be), yet the windows start
	 * over. */
	window(t, 1, 50, 50, now, &o);
	for (unsigned int i = 2; i < 6; i++)
		window(t, i, 100, 0, now, &o);
	o.max_ejection_pct = 100;
	o.on = false;
	ok = ok && ASSERT_EQ(hosts_sweep(t, SVC, now + 30 * SEC, &o, 6), 0) &&
	     ASSERT_EQ(hosts_find(t, host_n(1))->win_requests, 0) &&
	     ASSERT_EQ(hosts_sweep(t, SVC, now + 40 * SEC, NULL, 6), 0);
	free(t);
	return ok;
}

static bool test_sweep_failure_percentage(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct mf_cb_outlier c = {
		.present = 1,
		.max_ejection_percent = 100,
		.detectors = { .present = 1,
			       .failure_percentage = { .present = 1 } },
	};
	struct hosts_outlier o;
	uint64_t now = T0 + 10 * SEC;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* Kuma's defaults: 5 hosts with 50 requests, 85%.  Hosts 0 to 4
	 * have the volume: under a minimumHosts of 6 nobody is judged. */
	hosts_outlier_conf(&c, &o);
	ok = true;
	for (unsigned int k = 0; ok && k < 2; k++) {
		uint64_t at = T0 + k * 10 * SEC;

		o.fp_min_hosts = 6 - k;
		window(t, 0, 15, 85, at, &o);	/* at the threshold */
		window(t, 1, 16, 84, at, &o);	/* below it */
		for (unsigned int i = 2; i < 5; i++)
			window(t, i, 100, 0, at, &o);
		window(t, 5, 0, 49, at, &o);	/* all failed, below the
						 * volume */
		ok = ASSERT_EQ(hosts_sweep(t, SVC, now + at, &o, 6), k) &&
		     ASSERT_EQ(hosts_available(hosts_find(t, host_n(0)),
					       now + at), !k) &&
		     ASSERT_TRUE(hosts_available(hosts_find(t, host_n(1)),
						 now + at)) &&
		     ASSERT_TRUE(hosts_available(hosts_find(t, host_n(5)),
						 now + at));
	}
	free(t);
	/* Two hosts failing everything, maxEjectionPercent 20 of 5: one. */
	t = calloc(1, sizeof(*t));
	if (!ok || !ASSERT_TRUE(t != NULL)) {
		free(t);
		return false;
	}
	o.max_ejection_pct = 20;
	window(t, 0, 0, 100, T0, &o);
	window(t, 1, 0, 100, T0, &o);
	for (unsigned int i = 2; i < 5; i++)
		window(t, i, 100, 0, T0, &o);
	ok = ASSERT_EQ(hosts_sweep(t, SVC, now, &o, 5), 1) &&
	     ASSERT_TRUE(hosts_available(hosts_find(t, host_n(0)), now) !=
			 hosts_available(hosts_find(t, host_n(1)), now));
	free(t);
	return ok;
}

/* The multiplier goes down by one for each interval the host is not
 * ejected and has no failure, from the one after its ejection ends. */
static bool test_sweep_decay(void)
{
	struct hosts *t = calloc(1, sizeof(*t));
	struct hosts_outlier o = consecutive(5, 0, 0, false);
	uint64_t a = host_n(1);
	const struct host *h;
	bool ok;

	if (!ASSERT_TRUE(t != NULL))
		return false;
	/* Ejected twice: until T0 + 1 s, then until T0 + 3.5 s. */
	ok = ASSERT_EQ(tries(t, a, 5, HOSTS_5XX, T0, &o, 10), 1) &&
	     ASSERT_EQ(tries(t, a, 5, HOSTS_5XX, T0 + 1500 * MS, &o, 10), 1);
	h = hosts_find(t, a);
	ok = ok && ASSERT_EQ(h->ejections, 2) &&
	     ASSERT_EQ(h->ejected_until_ns, T0 + 3500 * MS) &&
	     /* still ejected */
	     ASSERT_EQ(hosts_sweep(t, SVC, T0 + 2 * SEC, &o, 10), 0) &&
	     ASSERT_EQ(h->ejections, 2) &&
	     /* its ejection ran out: cleared, not yet decayed */
	     ASSERT_EQ(hosts_sweep(t, SVC, T0 + 4 * SEC, &o, 10), 0) &&
	     ASSERT_EQ(h->ejected_until_ns, 0) && ASSERT_EQ(h->ejections, 2);
	/* An interval with a failure: no decay. */
	ok = ok && ASSERT_EQ(tries(t, a, 1, HOSTS_5XX, T0 + 5 * SEC, &o, 10),
			     0) &&
	     ASSERT_EQ(hosts_sweep(t, SVC, T0 + 6 * SEC, &o, 10), 0) &&
	     ASSERT_EQ(h->ejections, 2);
	/* Clean intervals: 1, then 0, and never below. */
	ok = ok && ASSERT_EQ(tries(t, a, 3, HOSTS_OK, T0 + 6 * SEC, &o, 10),
			     0) &&
	     ASSERT_EQ(hosts_sweep(t, SVC, T0 + 7 * SEC, &o, 10), 0) &&
	     ASSERT_EQ(h->ejections, 1) &&
	     ASSERT_EQ(hosts_sweep(t, SVC, T0 + 8 * SEC, &o, 10), 0) &&
	     ASSERT_EQ(h->ejections, 0) &&
	     ASSERT_EQ(hosts_sweep(t, SVC, T0 + 9 * SEC, &o, 10), 0) &&
	     ASSERT_EQ(h->ejections, 0);
	/* Back to the base time, and counted ever all the same. */
	ok = ok && ASSERT_EQ(tries(t, a, 5, HOSTS_5XX, T0 + 10 * SEC, &o, 10),
			     1) &&
	     ASSERT_EQ(h->ejected_until_ns, T0 + 11 * SEC) &&
	     ASSERT_EQ(h->ejected_total, 3) && ASSERT_EQ(t->ejections, 3);
	free(t);
	return ok;
}

static bool test_conf(void)
{
	struct mf_cb_outlier c;
	struct hosts_outlier o;
	bool ok;

	memset(&c, 0, sizeof(c));
	memset(&o, 0xff, sizeof(o));
	hosts_outlier_conf(NULL, &o);
	ok = ASSERT_FALSE(o.on) && ASSERT_EQ(o.consecutive_total, 0);
	hosts_outlier_conf(&c, &o);
	ok = ok && ASSERT_FALSE(o.on);
	c.present = 1;
	c.disabled = 1;
	c.detectors.present = 1;
	c.detectors.total_failures.present = 1;
	hosts_outlier_conf(&c, &o);
	ok = ok && ASSERT_FALSE(o.on);

	/* Written detectors with Kuma's defaults for all the rest. */
	c.disabled = 0;
	c.detectors.success_rate.present = 1;
	c.detectors.failure_percentage.present = 1;
	hosts_outlier_conf(&c, &o);
	ok = ok && ASSERT_TRUE(o.on) && ASSERT_FALSE(o.split_local) &&
	     ASSERT_EQ(o.interval_ms, 10000) &&
	     ASSERT_EQ(o.base_ejection_ms, 30000) &&
	     ASSERT_EQ(o.max_ejection_pct, 10) &&
	     ASSERT_EQ(o.consecutive_total, 5) &&
	     ASSERT_EQ(o.consecutive_gateway, 0) &&
	     ASSERT_EQ(o.consecutive_local, 0) &&
	     ASSERT_EQ(o.sr_min_hosts, 5) && ASSERT_EQ(o.sr_volume, 100) &&
	     ASSERT_EQ(o.sr_factor_milli, 1900) &&
	     ASSERT_EQ(o.fp_min_hosts, 5) && ASSERT_EQ(o.fp_volume, 50) &&
	     ASSERT_EQ(o.fp_threshold, 85);

	/* What is written is kept. */
	c.interval = 5000;
	c.base_ejection_time = 1000;
	c.max_ejection_percent = 20;
	c.split_external_and_local_errors = 1;
	c.detectors.total_failures.present = 0;
	c.detectors.gateway_failures =
		(struct mf_cb_consecutive){ .present = 1, .consecutive = 7 };
	c.detectors.local_origin_failures =
		(struct mf_cb_consecutive){ .present = 1, .consecutive = 2 };
	c.detectors.success_rate = (struct mf_cb_success_rate){
		.present = 1, .minimum_hosts = 3, .request_volume = 10,
		.standard_deviation_factor = 2500,
	};
	c.detectors.failure_percentage = (struct mf_cb_failure_percentage){
		.present = 1, .minimum_hosts = 4, .request_volume = 20,
		.threshold = 60,
	};
	hosts_outlier_conf(&c, &o);
	ok = ok && ASSERT_TRUE(o.on) && ASSERT_TRUE(o.split_local) &&
	     ASSERT_EQ(o.interval_ms, 5000) &&
	     ASSERT_EQ(o.base_ejection_ms, 1000) &&
	     ASSERT_EQ(o.max_ejection_pct, 20) &&
	     ASSERT_EQ(o.consecutive_total, 0) &&
	     ASSERT_EQ(o.consecutive_gateway, 7) &&
	     ASSERT_EQ(o.consecutive_local, 2) &&
	     ASSERT_EQ(o.sr_min_hosts, 3) && ASSERT_EQ(o.sr_volume, 10) &&
	     ASSERT_EQ(o.sr_factor_milli, 2500) &&
	     ASSERT_EQ(o.fp_min_hosts, 4) && ASSERT_EQ(o.fp_volume, 20) &&
	     ASSERT_EQ(o.fp_threshold, 60);

	/* No detectors at all: Envoy's consecutive_5xx of 5 alone. */
	memset(&c, 0, sizeof(c));
	c.present = 1;
	hosts_outlier_conf(&c, &o);
	ok = ok && ASSERT_TRUE(o.on) && ASSERT_EQ(o.consecutive_total, 5) &&
	     ASSERT_EQ(o.consecutive_gateway, 0) &&
	     ASSERT_EQ(o.consecutive_local, 0) && ASSERT_EQ(o.sr_volume, 0) &&
	     ASSERT_EQ(o.fp_volume, 0);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_keys_distinct);
	TEST_RUN(test_get_finds_again);
	TEST_RUN(test_lru_eviction);
	TEST_RUN(test_begin_end_load);
	TEST_RUN(test_consecutive_total);
	TEST_RUN(test_consecutive_gateway);
	TEST_RUN(test_consecutive_split_local);
	TEST_RUN(test_ejection_time);
	TEST_RUN(test_max_ejection_percent);
	TEST_RUN(test_sweep_success_rate);
	TEST_RUN(test_sweep_success_rate_volume);
	TEST_RUN(test_sweep_failure_percentage);
	TEST_RUN(test_sweep_decay);
	TEST_RUN(test_conf);
	TEST_MAIN_END();
}
