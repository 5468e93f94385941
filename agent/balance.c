// SPDX-License-Identifier: Apache-2.0
/*
 * Which endpoint of a destination (balance.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "balance.h"
#include "hash.h"
#include "policy/kinds.h"
#include "policy/select.h"
#include "polkinds.h"
#include "router.h"
#include "timer.h"

/* ---- the strategy of a connection -------------------------------------- */

int balance_find(const struct policy *p, const struct mf_endpoint *src,
		 const struct mf_service *dst, struct balance_conf *bc)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_workload ws, wd;
	const struct sel_query q = { .self = &ws, .section = MF_SEC_TO,
				     .peer = &wd };
	const struct mf_lb_balancer *lb;
	const struct mf_lb_hash_policy *hp = NULL;
	struct mf_lb_conf *conf;
	const char *names[16];
	struct sel_cand *c;
	size_t n, nh = 0;
	int got = 0;

	memset(bc, 0, sizeof(*bc));
	if (!src)
		return 0;
	conf = calloc(1, sizeof(*conf));
	if (!conf || router_cands(p, &kind_mesh_lb_strategy, &c, &n)) {
		free(conf);
		return -ENOMEM;
	}
	router_view(p, src, &ws);
	router_dest_view(p, dst, &wd);
	if (n)
		got = sel_effective(&kind_mesh_lb_strategy, c, n, &q, &ctx, conf,
				    names, 16);
	free(c);
	if (got <= 0) {
		free(conf);
		return got < 0 ? got : 0;
	}
	bc->policy = names[got < 16 ? got - 1 : 15];
	lb = &conf->load_balancer;
	bc->type = lb->present ? lb->type : 0;
	bc->locality = conf->locality_awareness.present &&
		       !conf->locality_awareness.disabled;
	bc->hash_fn = LB_HASH_XX;
	bc->ring_min = LB_RING_MIN_DEFAULT;
	bc->ring_max = LB_RING_MAX_DEFAULT;
	bc->maglev_size = LB_MAGLEV_SIZE_DEFAULT;
	bc->choices = LB_LR_CHOICES_DEFAULT;
	bc->bias_milli = LB_LR_BIAS_DEFAULT;
	switch (bc->type) {
	case MF_LB_RING_HASH:
		if (lb->ring_hash.hash_function)
			bc->hash_fn = lb->ring_hash.hash_function;
		if (lb->ring_hash.min_ring_size)
			bc->ring_min = lb->ring_hash.min_ring_size;
		if (lb->ring_hash.max_ring_size)
			bc->ring_max = lb->ring_hash.max_ring_size;
		hp = lb->ring_hash.hash_policies;
		nh = lb->ring_hash.nhash_policies;
		break;
	case MF_LB_MAGLEV:
		if (lb->maglev.table_size)
			bc->maglev_size = lb->maglev.table_size;
		hp = lb->maglev.hash_policies;
		nh = lb->maglev.nhash_policies;
		break;
	case MF_LB_LEAST_REQUEST:
		if (lb->least_request.choice_count)
			bc->choices = lb->least_request.choice_count;
		if (lb->least_request.present &&
		    lb->least_request.active_request_bias)
			bc->bias_milli = lb->least_request.active_request_bias;
		break;
	}
	/* The hash policies of the strategy, else those at the root (the
	 * older place for them). */
	if (!nh) {
		hp = conf->hash_policies;
		nh = conf->nhash_policies;
	}
	if (nh > MF_LB_HASH_POLICIES_MAX)
		nh = MF_LB_HASH_POLICIES_MAX;
	if (nh)
		memcpy(bc->hash, hp, nh * sizeof(*hp));
	bc->nhash = (uint8_t)nh;
	free(conf);
	return 0;
}

/* ---- the balancer -------------------------------------------------------- */

int balance_init(struct balancer *b)
{
	memset(b, 0, sizeof(*b));
	b->hosts = calloc(1, sizeof(*b->hosts));
	if (!b->hosts)
		return -ENOMEM;
	lb_rng_seed_kernel(&b->rng);
	return 0;
}

static void balance_table_free(struct balance_table *e)
{
	if (e->type == MF_LB_RING_HASH)
		lb_ring_free(e->t);
	else if (e->type == MF_LB_MAGLEV)
		lb_maglev_free(e->t);
	memset(e, 0, sizeof(*e));
}

void balance_fini(struct balancer *b)
{
	for (size_t i = 0; i < BALANCE_CACHE; i++)
		balance_table_free(&b->cache[i]);
	free(b->hosts);
	free(b->eps);
	free(b->cand);
	free(b->tier);
	memset(b, 0, sizeof(*b));
}

/* Room for @n of each scratch array: the caller's endpoints, and the
 * candidates and tiers of a pick. */
static int balance_room(struct balancer *b, size_t n)
{
	const struct mf_endpoint **e;
	struct lb_cand *c;
	uint8_t *t;
	size_t cap = b->cap ? b->cap : 64;

	if (n <= b->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	e = realloc(b->eps, cap * 2 * sizeof(*e));
	if (!e)
		return -ENOMEM;
	b->eps = e;
	c = realloc(b->cand, cap * sizeof(*c));
	if (!c)
		return -ENOMEM;
	b->cand = c;
	t = realloc(b->tier, cap);
	if (!t)
		return -ENOMEM;
	b->tier = t;
	b->cap = cap;
	return 0;
}

const struct mf_endpoint **balance_scratch(struct balancer *b, size_t n)
{
	return balance_room(b, n) ? NULL : b->eps;
}

uint64_t balance_key(const struct policy *p, const struct mf_endpoint *ep)
{
	return hosts_key(policy_endpoint_ip(p, ep), ep->port);
}

/* ---- locality ------------------------------------------------------------- */

/* The value of @ep's zone tag, "" when it has none. */
static const char *balance_zone(const struct policy *p,
				const struct mf_endpoint *ep, size_t *len)
{
	const struct mf_tagset *ts = polkinds_tags(policy_kinds(p), ep->tags);

	for (size_t i = 0; ts && i < ts->n && i < MF_TAGS_MAX; i++) {
		const struct mf_tag *t = &ts->tags[i];

		if (!strncmp(t->key, "kuma.io/zone", sizeof(t->key)) ||
		    !strncmp(t->key, "topology.kubernetes.io/zone",
			     sizeof(t->key))) {
			*len = strnlen(t->value, sizeof(t->value));
			return t->value;
		}
	}
	*len = 0;
	return "";
}

/* The locality tier of @ep for a source at @src: 0 its node, 1 its zone,
 * 2 elsewhere. */
static uint8_t balance_tier(const struct policy *p,
			    const struct mf_endpoint *src,
			    const struct mf_endpoint *ep)
{
	const char *za, *zb;
	size_t la, lb;

	if (!memcmp(src->node_ip, ep->node_ip, sizeof(ep->node_ip)))
		return 0;
	za = balance_zone(p, src, &la);
	zb = balance_zone(p, ep, &lb);
	return la && la == lb && !memcmp(za, zb, la) ? 1 : 2;
}

/* ---- hashing a request ------------------------------------------------------ */

/* The value of @name=... in a `;`-separated cookie header or an
 * `&`-separated query: true, with it in *v and *vlen. */
static bool balance_param(const char *s, size_t n, char sep, const char *name,
			  const char **v, size_t *vlen)
{
	size_t nl = strnlen(name, MF_HDR_NAME_MAX);
	size_t i = 0;

	while (i < n) {
		size_t end = i;

		while (end < n && s[end] != sep)
			end++;
		while (i < end && s[i] == ' ')
			i++;
		if (end - i > nl && !memcmp(s + i, name, nl) &&
		    s[i + nl] == '=') {
			*v = s + i + nl + 1;
			*vlen = end - i - nl - 1;
			return true;
		}
		i = end + 1;
	}
	return false;
}

/* One hash policy's value for the request: true with its hash in *h. */
static bool balance_hash_one(const struct balance_pick *bp,
			     const struct mf_lb_hash_policy *hp, uint64_t *h)
{
	enum lb_hash_fn fn = bp->conf->hash_fn ? bp->conf->hash_fn :
			     LB_HASH_XX;
	const char *v = NULL, *s;
	size_t n = 0, len;

	switch (hp->type) {
	case MF_LB_HASH_HEADER:
		if (!bp->req || !hhead_get(bp->req, hp->header.name, &v, &n))
			return false;
		break;
	case MF_LB_HASH_COOKIE:
		if (!bp->req || !hhead_get(bp->req, "cookie", &s, &len) ||
		    !balance_param(s, len, ';', hp->cookie.name, &v, &n))
			return false;
		break;
	case MF_LB_HASH_QUERY_PARAMETER:
		if (!bp->req)
			return false;
		s = hhead_target(bp->req, &len);
		v = memchr(s, '?', len);
		if (!v)
			return false;
		s = v + 1;
		len -= (size_t)(s - hhead_target(bp->req, &n));
		if (!balance_param(s, len, '&', hp->query_parameter.name, &v,
				   &n))
			return false;
		break;
	case MF_LB_HASH_CONNECTION:
	case MF_LB_HASH_SOURCE_IP:
		v = (const char *)&bp->src_ip;
		n = sizeof(bp->src_ip);
		break;
	default:
		return false;	/* filterState: none here */
	}
	*h = lb_hash(fn, v, n);
	return true;
}

/* The request's hash by the strategy's hash policies, Envoy's way: each
 * value found folds into the hash, a terminal one ends it.  False when no
 * policy found a value. */
static bool balance_hash(const struct balance_pick *bp, uint64_t *out)
{
	const struct balance_conf *bc = bp->conf;
	uint64_t h = 0, x;
	bool any = false;

	for (size_t i = 0; i < bc->nhash; i++) {
		if (!balance_hash_one(bp, &bc->hash[i], &x))
			continue;
		h = (h << 1 | h >> 63) ^ x;
		any = true;
		if (bc->hash[i].terminal)
			break;
	}
	*out = h;
	return any;
}

/* ---- tables ---------------------------------------------------------------- */

/* The ring or Maglev table of the @n candidates at @c, from the cache or
 * built (and cached); NULL when it cannot be had. */
static void *balance_table(struct balancer *b, const struct balance_conf *bc,
			   const struct lb_cand *c, size_t n)
{
	struct balance_table *e, *lru = NULL;
	uint64_t key = HASH_FNV_INIT;
	void *t = NULL;
	int err;

	key = hash_fnv(key, &bc->type, sizeof(bc->type));
	key = hash_fnv(key, &bc->hash_fn, sizeof(bc->hash_fn));
	key = hash_fnv(key, &bc->ring_min, sizeof(bc->ring_min));
	key = hash_fnv(key, &bc->ring_max, sizeof(bc->ring_max));
	key = hash_fnv(key, &bc->maglev_size, sizeof(bc->maglev_size));
	for (size_t i = 0; i < n; i++)
		key = hash_fnv(key, &c[i].key, sizeof(c[i].key));
	key = key ? key : 1;
	b->clock++;
	for (size_t i = 0; i < BALANCE_CACHE; i++) {
		e = &b->cache[i];
		if (e->key == key) {
			e->used = b->clock;
			return e->t;
		}
		if (!lru || e->used < lru->used)
			lru = e;
	}
	if (bc->type == MF_LB_RING_HASH)
		err = lb_ring_build((struct lb_ring **)&t, c, n, bc->ring_min,
				    bc->ring_max, bc->hash_fn);
	else
		err = lb_maglev_build((struct lb_maglev **)&t, c, n,
				      bc->maglev_size, bc->hash_fn);
	if (err)
		return NULL;
	balance_table_free(lru);
	lru->key = key;
	lru->type = bc->type;
	lru->t = t;
	lru->used = b->clock;
	return t;
}

/* ---- the pick ----------------------------------------------------------------- */

/* The strategy's pick among the @n candidates at b->cand. */
static size_t balance_strategy(const struct balance_pick *bp, size_t n,
			       uint64_t now, uint64_t set)
{
	const struct balance_conf *bc = bp->conf;
	struct balancer *b = bp->b;
	uint8_t type = bc ? bc->type : 0;
	uint64_t h;
	void *t;

	switch (type) {
	case MF_LB_RANDOM:
		return lb_random(b->cand, n, &b->rng);
	case MF_LB_LEAST_REQUEST:
		return lb_least_request(b->cand, n, bc->choices, bc->bias_milli,
					&b->rng);
	case MF_LB_RING_HASH:
	case MF_LB_MAGLEV:
		if (!balance_hash(bp, &h))
			return lb_random(b->cand, n, &b->rng);
		t = balance_table(b, bc, b->cand, n);
		if (!t)
			return lb_random(b->cand, n, &b->rng);
		return type == MF_LB_RING_HASH ? lb_ring_pick(t, h) :
						 lb_maglev_pick(t, h);
	case MF_LB_ROUND_ROBIN:
		break;
	default:
		if (bp->req)
			return lb_p2c_ewma(b->cand, n, now, &b->rng);
		break;
	}
	return b->cursor[set % BALANCE_CURSORS]++ % n;
}

/*
 * Priority levels (a MeshExternalService's endpoints have a priority, 0
 * first; any other endpoint is at 0): only the endpoints of the lowest
 * level that has one available (tier 0) go on, so traffic moves to the
 * next level only while none of the one before can be had, and returns as
 * soon as one can.  With none available on any level, the lowest level's
 * (panic decides among them).  The candidates of @eps that go on are
 * copied to @out (which may be @eps: m <= i), their cand and tier with
 * them.  Returns how many.
 */
static size_t balance_level(const struct balance_pick *bp,
			    const struct mf_endpoint *const *eps, size_t n,
			    const struct mf_endpoint **out)
{
	struct balancer *b = bp->b;
	unsigned int lo = UINT_MAX, hi = 0, lo_avail = UINT_MAX, want, pr;
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		pr = policy_endpoint_priority(bp->p, eps[i]);
		lo = pr < lo ? pr : lo;
		hi = pr > hi ? pr : hi;
		if (b->tier[i] == 0 && pr < lo_avail)
			lo_avail = pr;
	}
	want = lo_avail != UINT_MAX ? lo_avail : lo;
	for (i = 0; i < n; i++) {
		if (lo != hi && policy_endpoint_priority(bp->p, eps[i]) != want)
			continue;
		out[m] = eps[i];
		b->cand[m] = b->cand[i];
		b->tier[m] = b->tier[i];
		m++;
	}
	return m;
}

const struct mf_endpoint *balance_pick(const struct balance_pick *bp,
				       const struct mf_endpoint *const *eps,
				       size_t n)
{
	struct balancer *b = bp->b;
	const struct mf_endpoint **sel;
	uint64_t now = timer_now(), set = HASH_FNV_INIT;
	size_t m = 0, avail = 0, i, k;
	uint32_t panic = bp->panic_milli ? bp->panic_milli :
			 BALANCE_PANIC_PCT * 1000;
	uint8_t best = 2;

	if (n == 0)
		return NULL;
	if (n == 1 && !bp->fail_on_panic && !bp->health)
		return eps[0];
	/* The caller's array may be the scratch's first half: the picks go
	 * to the second. */
	if (balance_room(b, n))
		return eps[0];
	sel = b->eps + b->cap;
	/* Each candidate's key and load, looked up once. */
	for (i = 0; i < n; i++) {
		uint64_t key = balance_key(bp->p, eps[i]);
		const struct host *h = hosts_find(b->hosts, key);

		b->cand[i] = (struct lb_cand){
			.key = key, .weight = 1,
			.active = h ? h->active : 0,
			.ewma_ns = h ? h->ewma_ns : 0,
			.ewma_at_ns = h ? h->ewma_at_ns : 0,
		};
		b->tier[i] = !h || ((!bp->outlier || hosts_available(h, now)) &&
				    (!bp->health || !h->hc_down) &&
				    !hosts_held(h, now)) ? 0 : 0xff;
	}
	/* Only one priority level's endpoints go on (in place from here:
	 * the picks are made from sel). */
	n = balance_level(bp, eps, n, sel);
	eps = sel;
	for (i = 0; i < n; i++)
		avail += b->tier[i] == 0;
	/* Panic: too few left to carry the load; all of them then (or, as
	 * the health check may ask, none). */
	if (panic != BALANCE_PANIC_OFF &&
	    (uint64_t)avail * 100000 < (uint64_t)n * panic) {
		if (bp->fail_on_panic)
			return NULL;
		memset(b->tier, 0, n);
		avail = n;
	}
	if (!avail)
		return NULL;	/* no panic mode: nowhere to go */
	if (bp->conf && bp->conf->locality && bp->src) {
		for (i = 0; i < n; i++) {
			if (b->tier[i] == 0xff)
				continue;
			b->tier[i] = balance_tier(bp->p, bp->src, eps[i]);
			if (b->tier[i] < best)
				best = b->tier[i];
		}
	} else {
		best = 0;
	}
	/* The best tier's, moved to the front (m <= i: in place). */
	for (i = 0; i < n; i++) {
		if (b->tier[i] != best)
			continue;
		sel[m] = eps[i];
		b->cand[m] = b->cand[i];
		set = hash_fnv(set, &b->cand[m].key, sizeof(b->cand[m].key));
		m++;
	}
	k = balance_strategy(bp, m, now, set);
	return k < m ? sel[k] : sel[0];
}
