// SPDX-License-Identifier: Apache-2.0
/*
 * The load-balancing algorithms (agent/lb.c): the two hash functions
 * against known answers, and the random source's range.
 *
 * Known answers: XXH64 (seed 0) of "" and "abc" as xxHash's authors
 * publish them, and what libxxhash says now; MurmurHash64A with Envoy's
 * seed as libstdc++'s std::_Hash_bytes computes it (Envoy's MurmurHash2
 * is that function), checked once against a separate reimplementation in
 * Python: lengths 0, 3 (a tail alone), 11 (a block and a tail), 16 (two
 * blocks) and 43.
 */
#include <xxhash.h>

#include "harness/test.h"
#include "meshforge/abi.h"
#include "../../agent/lb.h"

/* The library's numbering is the policy's, so the picker passes the
 * record's hash_function through. */
_Static_assert((int)LB_HASH_XX == (int)MF_LB_HASH_XX, "hash numbers");
_Static_assert((int)LB_HASH_MURMUR2 == (int)MF_LB_HASH_MURMUR2, "hash numbers");

#define STR_HASH(fn, s)	lb_hash(fn, s, sizeof(s) - 1)

static bool test_xxhash_known_answers(void)
{
	return ASSERT_TRUE(STR_HASH(LB_HASH_XX, "") == 0xef46db3751d8e999ull) &&
	       ASSERT_TRUE(STR_HASH(LB_HASH_XX, "abc") ==
			   0x44bc2cf5ad770999ull) &&
	       ASSERT_TRUE(STR_HASH(LB_HASH_XX, "abc") == XXH64("abc", 3, 0)) &&
	       ASSERT_TRUE(STR_HASH(LB_HASH_XX, "abc") ==
			   STR_HASH(LB_HASH_XX, "abc")) &&
	       ASSERT_TRUE(STR_HASH(LB_HASH_XX, "abd") !=
			   STR_HASH(LB_HASH_XX, "abc"));
}

static bool test_murmur2_known_answers(void)
{
	static const struct {
		const char *s;
		uint64_t h;
	} kat[] = {
		{ "", 0x553e93901e462a6eull },
		{ "abc", 0x32d82bf8ed3dba39ull },
		{ "hello world", 0x4d6686d362067ff9ull },
		{ "0123456789abcdef", 0x934b0d760642ed86ull },
		{ "The quick brown fox jumps over the lazy dog",
		  0xdccbf2541704bc75ull },
	};

	for (size_t i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		uint64_t h = lb_hash(LB_HASH_MURMUR2, kat[i].s,
				     strlen(kat[i].s));

		if (!ASSERT_TRUE(h == kat[i].h)) {
			fprintf(stderr, "  \"%s\": %#" PRIx64 "\n", kat[i].s, h);
			return false;
		}
	}
	return true;
}

/* lb_rng_below() stays below its bound and reaches every value of a small
 * one about equally; two seeds give two sequences, one seed the same. */
static bool test_rng_range(void)
{
	struct lb_rng a, b;
	unsigned int count[7] = { 0 };
	bool ok = true;

	lb_rng_seed(&a, 1);
	for (int i = 0; i < 70000 && ok; i++) {
		uint64_t v = lb_rng_below(&a, 7);

		ok = ASSERT_TRUE(v < 7);
		if (ok)
			count[v]++;
	}
	for (int i = 0; i < 7 && ok; i++)
		ok = ASSERT_TRUE(count[i] > 9500 && count[i] < 10500);
	lb_rng_seed(&a, 1);
	lb_rng_seed(&b, 2);
	ok = ok && ASSERT_TRUE(lb_rng_next(&a) != lb_rng_next(&b));
	lb_rng_seed(&a, 3);
	lb_rng_seed(&b, 3);
	return ok && ASSERT_TRUE(lb_rng_next(&a) == lb_rng_next(&b)) &&
	       ASSERT_EQ(lb_rng_below(&a, 0), 0) &&
	       ASSERT_EQ(lb_rng_below(&a, 1), 0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_xxhash_known_answers);
	TEST_RUN(test_murmur2_known_answers);
	TEST_RUN(test_rng_range);
	TEST_MAIN_END();
}
