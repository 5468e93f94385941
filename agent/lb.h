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
 * A pick returns an index into the array it was given (or the array the
 * table was built from), or LB_NONE when that array is empty.
 */
#ifndef MF_AGENT_LB_H
#define MF_AGENT_LB_H

#include <stddef.h>
#include <stdint.h>

#define LB_NONE			SIZE_MAX	/* a pick from no candidate */

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

/* Seeds @r from @seed (the caller's, from getrandom(); a test's constant). */
void lb_rng_seed(struct lb_rng *r, uint64_t seed);
/* The next 64 random bits of @r. */
uint64_t lb_rng_next(struct lb_rng *r);
/* A uniform number in [0, @bound), without modulo bias; 0 when @bound
 * is 0. */
uint64_t lb_rng_below(struct lb_rng *r, uint64_t bound);

#endif /* MF_AGENT_LB_H */
