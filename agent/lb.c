// SPDX-License-Identifier: Apache-2.0
/*
 * Load-balancing algorithms (lb.h).
 */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>

#include "lb.h"

/* ---- hashes ------------------------------------------------------------ */

#define MM2_MUL		0xc6a4a7935bd1e995ull
#define MM2_SHIFT	47

/*
 * MurmurHash64A (Austin Appleby's MurmurHash2, 64-bit): each 8-byte block,
 * read little-endian, is mixed (multiply, xor-shift, multiply) and folded
 * into the state, which starts as seed ^ (length * m); the 1 to 7 bytes
 * left are folded in as one little-endian number; a final xor-shift,
 * multiply, xor-shift spreads the last bits.  The blocks are read
 * little-endian on any host, so a ring is the same on every node.
 */
static uint64_t lb_murmur2(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = seed ^ ((uint64_t)n * MM2_MUL), k;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&k, b + i, 8);
		k = le64toh(k) * MM2_MUL;
		k ^= k >> MM2_SHIFT;
		k *= MM2_MUL;
		h = (h ^ k) * MM2_MUL;
	}
	if (n - i) {
		k = 0;
		for (size_t j = n - i; j-- > 0;)
			k = k << 8 | b[i + j];
		h = (h ^ k) * MM2_MUL;
	}
	h ^= h >> MM2_SHIFT;
	h *= MM2_MUL;
	h ^= h >> MM2_SHIFT;
	return h;
}

uint64_t lb_hash(enum lb_hash_fn fn, const void *p, size_t n)
{
	if (fn == LB_HASH_MURMUR2)
		return lb_murmur2(p, n, LB_MURMUR2_SEED);
	return XXH64(p, n, 0);
}

/* ---- random numbers ---------------------------------------------------- */

/* splitmix64's step: consecutive outputs are distinct, so two of them
 * never make the all-zero state xorshift128+ cannot leave. */
static uint64_t lb_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void lb_rng_seed(struct lb_rng *r, uint64_t seed)
{
	r->s[0] = lb_splitmix(&seed);
	r->s[1] = lb_splitmix(&seed);
}

void lb_rng_seed_kernel(struct lb_rng *r)
{
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed)) {
		struct timespec now;

		clock_gettime(CLOCK_REALTIME, &now);
		seed = (uint64_t)now.tv_nsec ^ (uint64_t)now.tv_sec << 30 ^
		       (uint64_t)getpid() << 48;
	}
	lb_rng_seed(r, seed);
}

/* xorshift128+ (Vigna), shifts 23, 17 and 26. */
uint64_t lb_rng_next(struct lb_rng *r)
{
	uint64_t a = r->s[0], b = r->s[1];

	r->s[0] = b;
	a ^= a << 23;
	r->s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
	return r->s[1] + b;
}

/*
 * Lemire's multiply-and-shift: the high half of x * bound is uniform in
 * [0, bound) once the few x whose low half falls below 2^64 % bound are
 * drawn again.  It uses the high bits of x, the good ones of
 * xorshift128+ (its lowest bit is a plain LFSR).
 */
uint64_t lb_rng_below(struct lb_rng *r, uint64_t bound)
{
	unsigned __int128 m;
	uint64_t low, floor;

	if (!bound)
		return 0;
	m = (unsigned __int128)lb_rng_next(r) * bound;
	low = (uint64_t)m;
	if (low < bound) {
		floor = -bound % bound;
		while (low < floor) {
			m = (unsigned __int128)lb_rng_next(r) * bound;
			low = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* ---- candidates ------------------------------------------------------- */

/* A candidate's weight: 0 counts as 1, so none divides by it or starves. */
static inline uint64_t lb_weight(const struct lb_cand *c)
{
	return c->weight ? c->weight : 1;
}

/* The @i-th place of a candidate of key @key (a ring's point, a Maglev
 * permutation's offset or skip): both hashed as 16 bytes, little-endian
 * on any host. */
static uint64_t lb_hash_pair(enum lb_hash_fn fn, uint64_t key, uint64_t i)
{
	uint64_t b[2] = { htole64(key), htole64(i) };

	return lb_hash(fn, b, sizeof(b));
}

/* ---- RingHash ---------------------------------------------------------- */

struct lb_ring {
	size_t n;		/* points */
	uint32_t *idx;		/* their candidates, in ring order: after
				 * hash[n], in the same allocation */
	uint64_t hash[];	/* their places, ascending */
};

struct lb_point {
	uint64_t hash;
	uint32_t idx;
};

/* Ring order, for qsort_r() over the candidates @arg.  Two candidates'
 * points at one place are ordered by the candidates' keys, not by their
 * indices, which change between snapshots. */
static int lb_point_cmp(const void *a, const void *b, void *arg)
{
	const struct lb_point *x = a, *y = b;
	const struct lb_cand *c = arg;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	if (c[x->idx].key != c[y->idx].key)
		return c[x->idx].key < c[y->idx].key ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/*
 * How many points each candidate gets, into @pts (n of them), and their
 * sum.  Uncapped, as Envoy: k points for the lightest, where k is the
 * least that makes the ring reach @min at these ratios, and
 * ceil(k * weight / lightest) for each, which depends on the candidate
 * alone (not on its place in @c).  Capped, @max points shared out by
 * cumulative weight, so they add up to @max exactly.
 */
static uint64_t lb_ring_points(const struct lb_cand *c, size_t n,
			       uint32_t min, uint32_t max, uint64_t *pts)
{
	uint64_t total = 0, wsum = 0, wmin = UINT64_MAX, k, upto, done = 0;
	unsigned __int128 acc = 0;

	for (size_t i = 0; i < n; i++) {
		wsum += lb_weight(&c[i]);
		if (lb_weight(&c[i]) < wmin)
			wmin = lb_weight(&c[i]);
	}
	/* Both products stay below 2^64: each factor is below 2^32. */
	k = ((uint64_t)min * wmin + wsum - 1) / wsum;
	for (size_t i = 0; i < n && total <= max; i++) {
		pts[i] = (k * lb_weight(&c[i]) + wmin - 1) / wmin;
		total += pts[i];
	}
	if (total <= max)
		return total;
	for (size_t i = 0; i < n; i++) {
		acc += lb_weight(&c[i]);
		upto = (uint64_t)(acc * max / wsum);
		pts[i] = upto - done;
		done = upto;
	}
	return done;
}

int lb_ring_build(struct lb_ring **out, const struct lb_cand *c, size_t n,
		  uint32_t min_size, uint32_t max_size, enum lb_hash_fn fn)
{
	struct lb_point *p = NULL;
	struct lb_ring *r = NULL;
	uint64_t *pts = NULL, total;
	size_t at = 0;
	int err = 0;

	*out = NULL;
	if (!n || n > UINT32_MAX || !min_size || max_size < min_size)
		return -EINVAL;
	pts = calloc(n, sizeof(*pts));
	if (!pts) {
		err = -ENOMEM;
		goto out;
	}
	total = lb_ring_points(c, n, min_size, max_size, pts);
	p = malloc(total * sizeof(*p));
	r = malloc(sizeof(*r) + total * (sizeof(r->hash[0]) +
					 sizeof(r->idx[0])));
	if (!p || !r) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		for (uint64_t j = 0; j < pts[i]; j++) {
			p[at].hash = lb_hash_pair(fn, c[i].key, j);
			p[at++].idx = (uint32_t)i;
		}
	}
	qsort_r(p, total, sizeof(*p), lb_point_cmp, (void *)c);
	r->n = total;
	r->idx = (uint32_t *)&r->hash[total];
	for (size_t i = 0; i < total; i++) {
		r->hash[i] = p[i].hash;
		r->idx[i] = p[i].idx;
	}
	*out = r;
	r = NULL;	/* the caller's now */
out:
	free(r);
	free(p);
	free(pts);
	return err;
}

size_t lb_ring_pick(const struct lb_ring *r, uint64_t hash)
{
	size_t lo = 0, hi = r->n;

	/* The first point at or after @hash: lo ends on it, or on n when
	 * @hash is past the last one, which wraps to the first. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->hash[mid] < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return r->idx[lo == r->n ? 0 : lo];
}

size_t lb_ring_size(const struct lb_ring *r)
{
	return r->n;
}

void lb_ring_free(struct lb_ring *r)
{
	free(r);
}

/* ---- Maglev ------------------------------------------------------------ */

#define MG_FREE		UINT32_MAX	/* an entry no candidate has yet */

struct lb_maglev {
	uint32_t size;
	uint32_t table[];	/* candidate indices */
};

/* A candidate's walk through its preference list. */
struct lb_mg_turn {
	uint32_t idx;		/* in c[] */
	uint32_t pos;		/* the next entry it would like */
	uint32_t skip;
	uint64_t credit;	/* weight not yet spent on entries */
};

static bool lb_is_prime(uint32_t m)
{
	if (m < 2)
		return false;
	if (m % 2 == 0)
		return m == 2;
	for (uint64_t d = 3; d * d <= m; d += 2)
		if (m % d == 0)
			return false;
	return true;
}

/* Turn order, for qsort_r() over the candidates @arg: by key, then by
 * index when the caller gave two candidates one key. */
static int lb_turn_cmp(const void *a, const void *b, void *arg)
{
	const struct lb_mg_turn *x = a, *y = b;
	const struct lb_cand *c = arg;

	if (c[x->idx].key != c[y->idx].key)
		return c[x->idx].key < c[y->idx].key ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

/* Fills @m's table from the turns @t of @n candidates: in each round a
 * candidate earns its weight and claims an entry for each @wmax earned,
 * so the heaviest claim one a round, and the table fills. */
static void lb_maglev_fill(struct lb_maglev *m, const struct lb_cand *c,
			   struct lb_mg_turn *t, size_t n, uint64_t wmax)
{
	uint32_t filled = 0;

	memset(m->table, 0xff, (size_t)m->size * sizeof(m->table[0]));
	for (;;) {
		for (size_t i = 0; i < n; i++) {
			t[i].credit += lb_weight(&c[t[i].idx]);
			if (t[i].credit < wmax)
				continue;
			t[i].credit -= wmax;
			/* Its list is a permutation (skip and the prime
			 * size are coprime): a free entry is ahead. */
			while (m->table[t[i].pos] != MG_FREE) {
				t[i].pos += t[i].skip;
				if (t[i].pos >= m->size)
					t[i].pos -= m->size;
			}
			m->table[t[i].pos] = t[i].idx;
			if (++filled == m->size)
				return;
		}
	}
}

int lb_maglev_build(struct lb_maglev **out, const struct lb_cand *c,
		    size_t n, uint32_t table_size, enum lb_hash_fn fn)
{
	struct lb_maglev *m = NULL;
	struct lb_mg_turn *t = NULL;
	uint64_t wmax = 0;
	int err = 0;

	*out = NULL;
	if (!n || table_size < n || table_size > LB_MAGLEV_SIZE_MAX ||
	    !lb_is_prime(table_size))
		return -EINVAL;
	t = calloc(n, sizeof(*t));
	m = malloc(sizeof(*m) + (size_t)table_size * sizeof(m->table[0]));
	if (!t || !m) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t offset = lb_hash_pair(fn, c[i].key, 0);
		uint64_t skip = lb_hash_pair(fn, c[i].key, 1);

		t[i].idx = (uint32_t)i;
		t[i].pos = offset % table_size;
		t[i].skip = skip % (table_size - 1) + 1;
		if (lb_weight(&c[i]) > wmax)
			wmax = lb_weight(&c[i]);
	}
	qsort_r(t, n, sizeof(*t), lb_turn_cmp, (void *)c);
	m->size = table_size;
	lb_maglev_fill(m, c, t, n, wmax);
	*out = m;
	m = NULL;	/* the caller's now */
out:
	free(m);
	free(t);
	return err;
}

size_t lb_maglev_pick(const struct lb_maglev *m, uint64_t hash)
{
	return m->table[hash % m->size];
}

void lb_maglev_free(struct lb_maglev *m)
{
	free(m);
}

/* ---- Random and LeastRequest -------------------------------------------- */

size_t lb_random(const struct lb_cand *c, size_t n, struct lb_rng *rng)
{
	uint64_t sum = 0, r;
	size_t i;

	if (n <= 1)
		return n ? 0 : LB_NONE;
	for (i = 0; i < n; i++)
		sum += lb_weight(&c[i]);
	r = lb_rng_below(rng, sum);
	for (i = 0; r >= lb_weight(&c[i]); i++)
		r -= lb_weight(&c[i]);
	return i;
}

/* Whether the @n candidates at @c weigh the same. */
static bool lb_weights_equal(const struct lb_cand *c, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (lb_weight(&c[i]) != lb_weight(&c[0]))
			return false;
	return true;
}

/* Of @best and @i, the one with fewer active requests; @best on a tie
 * (it was drawn first), @i when there is no @best yet. */
static size_t lb_fewer(const struct lb_cand *c, size_t best, size_t i)
{
	return best == LB_NONE || c[i].active < c[best].active ? i : best;
}

#define LR_DRAWS_MAX	16	/* choices drawn by rejection, on the stack */

/* LeastRequest at equal weights: the fewest active of @k < @n distinct
 * candidates drawn at random, or of all of them from a random one. */
static size_t lb_lr_equal(const struct lb_cand *c, size_t n, size_t k,
			  struct lb_rng *rng)
{
	size_t start = lb_rng_below(rng, n), best = LB_NONE, i;

	if (k >= n) {
		for (size_t j = 0; j < n; j++) {
			i = start + j < n ? start + j : start + j - n;
			best = lb_fewer(c, best, i);
		}
		return best;
	}
	if (k <= LR_DRAWS_MAX) {
		/* Draw again on a repeat: k < n, so it ends, and fast for
		 * the usual 2 or 3 of many. */
		size_t drawn[LR_DRAWS_MAX];

		for (size_t m = 0; m < k; m++) {
			size_t seen;

			do {
				i = m ? lb_rng_below(rng, n) : start;
				for (seen = 0; seen < m && drawn[seen] != i;)
					seen++;
			} while (seen < m);
			drawn[m] = i;
			best = lb_fewer(c, best, i);
		}
		return best;
	}
	/* Many choices: selection sampling (Knuth's algorithm S) in one pass
	 * from a random start, each candidate taken with the odds of the
	 * choices left over the candidates left. */
	for (size_t j = 0; k && j < n; j++) {
		if (lb_rng_below(rng, n - j) >= k)
			continue;
		k--;
		i = start + j < n ? start + j : start + j - n;
		best = lb_fewer(c, best, i);
	}
	return best;
}

/* A candidate's weight in LeastRequest at unequal weights. */
static double lb_lr_weight(const struct lb_cand *c, uint32_t bias_milli)
{
	double w = (double)lb_weight(c), a = (double)c->active + 1.0;

	if (bias_milli == 0)
		return w;
	if (bias_milli == 1000)
		return w / a;
	return w / pow(a, bias_milli / 1000.0);
}

size_t lb_least_request(const struct lb_cand *c, size_t n,
			unsigned int choices, uint32_t bias_milli,
			struct lb_rng *rng)
{
	double sum = 0.0, r;
	size_t i;

	if (n <= 1)
		return n ? 0 : LB_NONE;
	if (lb_weights_equal(c, n))
		return lb_lr_equal(c, n, choices < 2 ? LB_LR_CHOICES_DEFAULT :
				   choices, rng);
	for (i = 0; i < n; i++)
		sum += lb_lr_weight(&c[i], bias_milli);
	/* 53 random bits scaled to [0, sum) */
	r = (double)(lb_rng_next(rng) >> 11) * 0x1.0p-53 * sum;
	for (i = 0; i < n - 1; i++) {
		r -= lb_lr_weight(&c[i], bias_milli);
		if (r < 0.0)
			break;
	}
	return i;
}

/* ---- peak EWMA ---------------------------------------------------------- */

/* exp(-@dt_ns / tau): what is left of an estimate @dt_ns old. */
static double lb_ewma_left(uint64_t dt_ns)
{
	return exp(-(double)dt_ns / (double)LB_EWMA_TAU_NS);
}

uint64_t lb_ewma_update(uint64_t ewma_ns, uint64_t last_ns, uint64_t now_ns,
			uint64_t rtt_ns)
{
	double left, v;

	if (!rtt_ns)
		rtt_ns = 1;
	if (rtt_ns >= ewma_ns)
		return rtt_ns;
	/* A clock that went back is no time at all. */
	left = lb_ewma_left(now_ns > last_ns ? now_ns - last_ns : 0);
	v = (double)ewma_ns * left + (double)rtt_ns * (1.0 - left) + 0.5;
	/* Between the sample and the old average, whatever the rounding. */
	if (v >= (double)ewma_ns)
		return ewma_ns;
	return v > (double)rtt_ns ? (uint64_t)v : rtt_ns;
}

/* @c's latency as it reads at @now, 0 when not measured. */
static double lb_ewma_now(const struct lb_cand *c, uint64_t now)
{
	double e;

	if (!c->ewma_ns)
		return 0.0;
	e = (double)c->ewma_ns;
	if (now > c->ewma_at_ns)
		e *= lb_ewma_left(now - c->ewma_at_ns);
	return e > 1.0 ? e : 1.0;
}

size_t lb_p2c_ewma(const struct lb_cand *c, size_t n, uint64_t now_ns,
		   struct lb_rng *rng)
{
	size_t a, b;
	double ea, eb;

	if (n <= 1)
		return n ? 0 : LB_NONE;
	a = lb_rng_below(rng, n);
	b = lb_rng_below(rng, n - 1);
	b += b >= a;	/* distinct: the n - 1 others, a left out */
	ea = lb_ewma_now(&c[a], now_ns);
	eb = lb_ewma_now(&c[b], now_ns);
	if (ea == 0.0)
		ea = eb == 0.0 ? 1.0 : eb;
	if (eb == 0.0)
		eb = ea;
	return eb * ((double)c[b].active + 1.0) <
	       ea * ((double)c[a].active + 1.0) ? b : a;
}
