/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lb: the load-balancing algorithms of Kuma's MeshLoadBalancingStrategy,
 * as a pure library the endpoint picker calls: no I/O, no clock, no policy
 * structs and no global state.  The picker turns a policy and a set of
 * endpoints into an array of struct lb_cand, builds the table of a
 * consistent-hash balancer once per snapshot (lb_ring_build(),
 * lb_maglev_build(), off the loop thread), and picks per request.
 *
 * Randomness comes from a struct lb_rng the caller owns (one per loop
 * thread, seeded from getrandom()), so a pick takes no lock and a test can
 * replay one.
 *
 * A pick returns an index into the array it was given, or into the array
 * a table was built from (which the caller keeps, in that order, as long
 * as the table), or LB_NONE when that array is empty; a build refuses an
 * empty one (-EINVAL).
 */
#ifndef MF_AGENT_LB_H
#define MF_AGENT_LB_H

#include <stddef.h>
#include <stdint.h>

#define LB_NONE			SIZE_MAX	/* a pick from no candidate */

/* Kuma's defaults (Envoy's), for settings a policy leaves out, and
 * Envoy's largest Maglev table. */
#define LB_RING_MIN_DEFAULT	1024u		/* minRingSize */
#define LB_RING_MAX_DEFAULT	8388608u	/* maxRingSize: Envoy's 8M */
#define LB_MAGLEV_SIZE_DEFAULT	65537u		/* maglev.tableSize */
#define LB_MAGLEV_SIZE_MAX	5000011u	/* the largest Envoy takes */
#define LB_LR_CHOICES_DEFAULT	2u		/* leastRequest.choiceCount */
#define LB_LR_BIAS_DEFAULT	1000u		/* activeRequestBias 1.0, in
						 * thousandths */

/* The peak EWMA's decay time, Linkerd's 10 s. */
#define LB_EWMA_TAU_NS		10000000000ull

/* Kuma's hashFunction, numbered as enum mf_lb_hash_function. */
enum lb_hash_fn {
	LB_HASH_XX = 1,		/* XXHash: XXH64, seed 0 (the default) */
	LB_HASH_MURMUR2,	/* MurmurHash2: MurmurHash64A */
};

/* Envoy's seed for MurmurHash2 (its STD_HASH_SEED, libstdc++'s), so the
 * hash of a byte string is the one Envoy computes. */
#define LB_MURMUR2_SEED		0xc70f6907ull

/* The @n bytes at @p hashed by @fn (LB_HASH_XX for any other value). */
uint64_t lb_hash(enum lb_hash_fn fn, const void *p, size_t n);

/* The random source of the picks: xorshift128+, whose state must not be
 * all zero (lb_rng_seed() sees to it).  Not thread-safe: one per thread. */
struct lb_rng {
	uint64_t s[2];
};

/* Seeds @r from @seed (a test's constant). */
void lb_rng_seed(struct lb_rng *r, uint64_t seed);
/* Seeds @r from the kernel's random bytes (the clock and pid when there
 * are none yet): unique, not secret. */
void lb_rng_seed_kernel(struct lb_rng *r);
/* The next 64 random bits of @r. */
uint64_t lb_rng_next(struct lb_rng *r);
/* A uniform number in [0, @bound), without modulo bias; 0 when @bound
 * is 0. */
uint64_t lb_rng_below(struct lb_rng *r, uint64_t bound);

/* One endpoint as the algorithms see it.  Each algorithm reads the fields
 * it needs and ignores the others. */
struct lb_cand {
	uint64_t key;		/* a hash of its identity, the same across
				 * snapshots: it places the endpoint on a ring
				 * or in a Maglev table */
	uint32_t weight;	/* >= 1; 0 counts as 1 */
	uint32_t active;	/* requests in flight to it now */
	uint64_t ewma_ns;	/* its peak-EWMA latency, 0: none measured */
	uint64_t ewma_at_ns;	/* when ewma_ns was last updated (the
				 * caller's clock, as lb_p2c_ewma()'s now) */
};

/*
 * RingHash, Envoy's ketama-style ring.  Each candidate gets points in
 * proportion to its weight: the ring is the smallest of at least
 * @min_size points that gives the lightest candidate one point or more,
 * every candidate ceil(its weight / the lightest's * that candidate's
 * points); above @max_size the ring has exactly @max_size points, shared
 * out by weight, and a candidate whose share is below one point gets none
 * (as in Envoy).  Point r of a candidate is at lb_hash(@fn) of its key and
 * r (16 bytes, little-endian), so a candidate keeps its points from one
 * snapshot to the next whatever its index: a set that loses a candidate
 * moves only that candidate's keys, unless the ring's size changes with
 * it (a small set under @min_size).  A hash belongs to the first point at
 * or after it, wrapping.
 *
 * Into *@out, a new ring of the @n candidates at @c (the caller frees it
 * with lb_ring_free()); 0, -EINVAL when @n is 0 or above UINT32_MAX,
 * @min_size is 0 or @max_size below it, -ENOMEM.  Run it off the loop
 * thread: it sorts up to @max_size points (1026 points take 0.1 ms
 * here, 8M 2.6 s), 12 bytes each once built.
 */
struct lb_ring;

int lb_ring_build(struct lb_ring **out, const struct lb_cand *c, size_t n,
		  uint32_t min_size, uint32_t max_size, enum lb_hash_fn fn);
/* The index in the build's @c of the candidate that @hash belongs to. */
size_t lb_ring_pick(const struct lb_ring *r, uint64_t hash);
/* How many points @r has. */
size_t lb_ring_size(const struct lb_ring *r);
/* Frees @r; NULL is none. */
void lb_ring_free(struct lb_ring *r);

/*
 * Maglev (Eisenbud et al., NSDI 2016): a lookup table of @table_size
 * entries, a prime, each naming a candidate.  A candidate's preference
 * list is a permutation of the entries, from offset = h0 % size and
 * skip = h1 % (size - 1) + 1, where h0 and h1 are lb_hash(@fn) of its key
 * and 0 or 1 (as a ring's points 0 and 1).  The candidates take turns
 * claiming the next free entry of their lists, a turn for every weight's
 * worth of the heaviest, so entries go in proportion to weight, until the
 * table is full.  Turns go
 * in the order of the keys, not of @c, so a table depends on the set
 * alone.  A removal moves the removed candidate's entries and a few
 * percent of the others' (the paper's "minimal disruption").  A candidate
 * whose share is below one entry may get none.  A hash belongs to entry
 * hash % size.
 *
 * Into *@out, a new table of the @n candidates at @c (the caller frees it
 * with lb_maglev_free()); 0, -EINVAL when @n is 0 or @table_size is not a
 * prime, is below @n or above LB_MAGLEV_SIZE_MAX, -ENOMEM.  Run it off
 * the loop thread: a table of 65537 takes 2 to 10 ms for 3 to 10,000
 * candidates here, more when the weights are very unequal (the rounds of
 * turns are as many as the heaviest's entries).
 */
struct lb_maglev;

int lb_maglev_build(struct lb_maglev **out, const struct lb_cand *c,
		    size_t n, uint32_t table_size, enum lb_hash_fn fn);
/* The index in the build's @c of the candidate that @hash belongs to. */
size_t lb_maglev_pick(const struct lb_maglev *m, uint64_t hash);
/* Frees @m; NULL is none. */
void lb_maglev_free(struct lb_maglev *m);

/*
 * LeastRequest, as Envoy's.  When the weights are equal: of @choices
 * candidates drawn at random (Kuma's choiceCount; below 2 counts as
 * LB_LR_CHOICES_DEFAULT), the one with the fewest active requests, the
 * first drawn on a tie.  They are drawn distinct (Envoy draws with
 * replacement), so @choices >= @n compares them all, from a random one.
 * When they are not: a random candidate by its weight / (active + 1) ^
 * bias, where bias is @bias_milli / 1000 (Kuma's activeRequestBias;
 * LB_LR_BIAS_DEFAULT, 1.0, when the policy says none): Envoy's weights for
 * this case, drawn at random rather than by its stateful schedule, and
 * O(@n) (a pow() each unless the bias is 0 or 1).  Either way the weights
 * are compared first, O(@n).  LB_NONE when @n is 0.
 */
size_t lb_least_request(const struct lb_cand *c, size_t n,
			unsigned int choices, uint32_t bias_milli,
			struct lb_rng *rng);

/* Random: a candidate at random by weight, O(@n); LB_NONE when @n is 0. */
size_t lb_random(const struct lb_cand *c, size_t n, struct lb_rng *rng);

/*
 * Peak-EWMA power of two choices, Linkerd's (and Finagle's) balancer: of
 * two distinct candidates drawn at random, the one of lower cost,
 * latency * (active + 1), the first drawn on a tie.  Its latency is
 * ewma_ns decayed toward 0 over the time since ewma_at_ns, as Linkerd
 * reads its estimate at @now_ns, so an endpoint that once answered slowly
 * and lost every draw since is tried again, and at least 1 ns, so the
 * active requests still count.  One not measured yet costs what its rival
 * does (its rival's latency, 1 ns when neither is measured), so a new
 * endpoint is neither starved nor flooded: its active requests decide.
 * Weights play no part.  LB_NONE when @n is 0.
 */
size_t lb_p2c_ewma(const struct lb_cand *c, size_t n, uint64_t now_ns,
		   struct lb_rng *rng);

/*
 * The peak EWMA of a candidate, @ewma_ns as of @last_ns, after a response
 * at @now_ns that took @rtt_ns (the caller then sets its ewma_at_ns to
 * @now_ns).  A sample above the average replaces it at once (the peak);
 * one below pulls it toward the sample by 1 - exp(-dt / LB_EWMA_TAU_NS),
 * dt = @now_ns - @last_ns, so after 10 s the gap is 1/e of what it was,
 * and one at the instant of the last update leaves it as it was.
 * A sample of 0 counts as 1 ns, so a measured candidate never reads as
 * unmeasured.
 */
uint64_t lb_ewma_update(uint64_t ewma_ns, uint64_t last_ns, uint64_t now_ns,
			uint64_t rtt_ns);

#endif /* MF_AGENT_LB_H */
