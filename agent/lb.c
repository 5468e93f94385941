// SPDX-License-Identifier: Apache-2.0
/*
 * Load-balancing algorithms (lb.h).
 */
#include <endian.h>
#include <string.h>

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
