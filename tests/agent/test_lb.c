// SPDX-License-Identifier: Apache-2.0
/*
 * The load-balancing algorithms (agent/lb.c): the two hash functions
 * against known answers, the random source's range, and RingHash: a hash
 * picks one candidate whatever the order or the build, equal weights
 * share 30,000 random hashes within 5 points of a third, 2:1 weights
 * about 2:1, a candidate's removal moves its keys alone (unless the ring
 * grows to stay above its minimum, when it bounds what else moves), and
 * the ring's size follows minRingSize and maxRingSize.  Maglev: the same
 * consistency and balance (entries within one of an equal share), a
 * removal of one of ten that moves fewer than 15% of the others' keys,
 * and a table size that must be a prime.  LeastRequest: a choice of all
 * finds the one idle candidate every time, a choice of two finds it far
 * more often than any other, and unequal weights follow Envoy's weight /
 * (active + 1) ^ bias.  Random: weights honoured within 5 points.  Peak
 * EWMA P2C: a candidate ten times slower is (almost) never picked, active
 * requests count, a new candidate gets its share, an old peak decays; the
 * EWMA takes a peak at once and closes 1 - 1/e of the gap to a lower
 * sample in 10 s.
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
/* The .c, for the points a ring gives each candidate. */
#include "../../agent/lb.c"

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
			fprintf(stderr, "  \"%s\": %#" PRIx64 "\n", kat[i].s,
				h);
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

/* Candidate @i of a test: a key hashed from an address, as the picker
 * hashes an endpoint's identity. */
static struct lb_cand cand(unsigned int i, uint32_t weight)
{
	char addr[32];
	int len = snprintf(addr, sizeof(addr), "10.1.0.%u:8080", i);

	return (struct lb_cand){ .key = lb_hash(LB_HASH_XX, addr, (size_t)len),
				 .weight = weight };
}

/* @n candidates of weight 1 into @c. */
static void cands(struct lb_cand *c, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		c[i] = cand(i, 1);
}

/* Builds of XXHash's, the default. */
static int ring_xx(struct lb_ring **r, const struct lb_cand *c, size_t n,
		   uint32_t min, uint32_t max)
{
	return lb_ring_build(r, c, n, min, max, LB_HASH_XX);
}

static int mg_xx(struct lb_maglev **m, const struct lb_cand *c, size_t n,
		 uint32_t size)
{
	return lb_maglev_build(m, c, n, size, LB_HASH_XX);
}

/* The points ring @r gives candidate @i. */
static size_t ring_points_of(const struct lb_ring *r, size_t i)
{
	size_t m = 0;

	for (size_t j = 0; j < r->n; j++)
		m += r->idx[j] == i;
	return m;
}

/* 1,000 hashes, each picked 1,000 times, pick one candidate: the same on
 * a second build, and the same (by key) on a build from the candidates in
 * the reverse order, with either hash function. */
static bool test_ring_consistent(void)
{
	struct lb_cand c[5], rev[5];
	struct lb_ring *a = NULL, *b = NULL, *r = NULL;
	struct lb_rng rng;
	bool ok = true;

	for (unsigned int i = 0; i < 5; i++) {
		c[i] = cand(i, 1 + i % 2);
		rev[4 - i] = c[i];
	}
	for (int fn = LB_HASH_XX; ok && fn <= LB_HASH_MURMUR2; fn++) {
		ok = ASSERT_EQ(lb_ring_build(&a, c, 5, 1024, 8192, fn), 0) &&
		     ASSERT_EQ(lb_ring_build(&b, c, 5, 1024, 8192, fn), 0) &&
		     ASSERT_EQ(lb_ring_build(&r, rev, 5, 1024, 8192, fn), 0);
		lb_rng_seed(&rng, 10);
		for (int i = 0; ok && i < 1000; i++) {
			uint64_t h = lb_rng_next(&rng);
			size_t first = lb_ring_pick(a, h);
			unsigned int same = 0;

			for (int j = 0; j < 1000; j++)
				same += lb_ring_pick(a, h) == first;
			ok = ASSERT_TRUE(first < 5) && ASSERT_EQ(same, 1000) &&
			     ASSERT_EQ(lb_ring_pick(b, h), first) &&
			     ASSERT_EQ(lb_ring_pick(r, h), 4 - first);
		}
		lb_ring_free(a);
		lb_ring_free(b);
		lb_ring_free(r);
		a = b = r = NULL;
	}
	return ok;
}

/* How many of @n random hashes ring @r gives each of its candidates. */
static void ring_count(const struct lb_ring *r, unsigned int n,
		       unsigned int *count)
{
	struct lb_rng rng;

	lb_rng_seed(&rng, 20);
	for (unsigned int i = 0; i < n; i++)
		count[lb_ring_pick(r, lb_rng_next(&rng))]++;
}

static bool test_ring_balance(void)
{
	struct lb_cand c[3] = { cand(1, 1), cand(2, 1), cand(3, 1) };
	struct lb_ring *r = NULL;
	bool ok = true;

	for (int fn = LB_HASH_XX; ok && fn <= LB_HASH_MURMUR2; fn++) {
		unsigned int count[3] = { 0 }, wc[2] = { 0 };

		/* Equal weights: a third each, within 5 points of 30,000. */
		ok = ASSERT_EQ(lb_ring_build(&r, c, 3, LB_RING_MIN_DEFAULT,
					     LB_RING_MAX_DEFAULT, fn), 0);
		if (ok)
			ring_count(r, 30000, count);
		lb_ring_free(r);
		r = NULL;
		for (int i = 0; ok && i < 3; i++)
			ok = ASSERT_TRUE(count[i] >= 8500 && count[i] <= 11500);
		/* 2:1: two thirds and a third, within 5 points. */
		c[0].weight = 2;
		ok = ok && ASSERT_EQ(lb_ring_build(&r, c, 2,
						   LB_RING_MIN_DEFAULT,
						   LB_RING_MAX_DEFAULT, fn), 0);
		if (ok)
			ring_count(r, 30000, wc);
		c[0].weight = 1;
		ok = ok && ASSERT_EQ(ring_points_of(r, 0),
				     2 * ring_points_of(r, 1)) &&
		     ASSERT_TRUE(wc[0] >= 18500 && wc[0] <= 21500) &&
		     ASSERT_EQ(wc[0] + wc[1], 30000);
		if (!ok)
			fprintf(stderr, "  fn %d: %u %u %u, 2:1 %u %u\n", fn,
				count[0], count[1], count[2], wc[0], wc[1]);
		lb_ring_free(r);
		r = NULL;
	}
	return ok;
}

/*
 * One of four equal candidates goes.  On a ring that keeps 256 points for
 * each of the others (minRingSize 768 for three as 1024 was for four),
 * the keys of the others stay, every one, and those of the one that went
 * spread over them.  With minRingSize 1024 the three need 342 points each
 * to stay above it, and a key of another moves only when one of the 86
 * new points of a third candidate lands between it and its old point:
 * fewer than a fifth of them do.
 */
static bool test_ring_remove_one(void)
{
	struct lb_ring *r4 = NULL, *same = NULL, *grown = NULL;
	unsigned int others = 0, stayed = 0, moved = 0, gone = 0;
	struct lb_cand c4[4], c3[3];
	struct lb_rng rng;
	bool ok;

	cands(c4, 4);
	/* c4 without its third, in order: index j of c3 is c4's j or j + 1 */
	c3[0] = c4[0];
	c3[1] = c4[1];
	c3[2] = c4[3];
	ok = ASSERT_EQ(ring_xx(&r4, c4, 4, 1024, 8192), 0) &&
	     ASSERT_EQ(ring_xx(&same, c3, 3, 768, 8192), 0) &&
	     ASSERT_EQ(ring_xx(&grown, c3, 3, 1024, 8192), 0) &&
	     ASSERT_EQ(lb_ring_size(r4), 1024) &&
	     ASSERT_EQ(lb_ring_size(same), 768) &&
	     ASSERT_EQ(lb_ring_size(grown), 1026);
	lb_rng_seed(&rng, 30);
	for (int i = 0; ok && i < 30000; i++) {
		uint64_t h = lb_rng_next(&rng);
		size_t was = lb_ring_pick(r4, h), now = lb_ring_pick(same, h);
		size_t then = lb_ring_pick(grown, h);

		if (was == 2) {
			gone++;
			continue;
		}
		others++;
		was -= was > 2;
		stayed += now == was;
		moved += then != was;
	}
	ok = ok && ASSERT_TRUE(gone > 6000 && gone < 9000) &&
	     ASSERT_EQ(stayed, others) &&
	     ASSERT_TRUE(moved * 5 < others);
	if (!ok)
		fprintf(stderr, "  gone %u, others %u, stayed %u, moved %u\n",
			gone, others, stayed, moved);
	lb_ring_free(r4);
	lb_ring_free(same);
	lb_ring_free(grown);
	return ok;
}

/* The smallest ring at or above minRingSize that gives the lightest a
 * point, each its share, and maxRingSize as a cap. */
static bool test_ring_size(void)
{
	struct lb_cand c[3] = { cand(1, 1), cand(2, 1), cand(3, 1) };
	struct lb_ring *r = NULL;
	bool ok;

	/* Three equal: 342 each, the first multiple of 3 from 1024. */
	ok = ASSERT_EQ(ring_xx(&r, c, 3, 1024, 8388608), 0) &&
	     ASSERT_EQ(lb_ring_size(r), 1026) &&
	     ASSERT_EQ(ring_points_of(r, 0), 342) &&
	     ASSERT_EQ(ring_points_of(r, 2), 342);
	lb_ring_free(r);
	r = NULL;
	/* Capped at 1000 where 1026 would be needed: 333, 333 and 334. */
	ok = ok && ASSERT_EQ(ring_xx(&r, c, 3, 1000, 1000), 0) &&
	     ASSERT_EQ(lb_ring_size(r), 1000) &&
	     ASSERT_EQ(ring_points_of(r, 0) + ring_points_of(r, 1), 666);
	lb_ring_free(r);
	r = NULL;
	/* 1:1000 gives 1001 points at least; the lightest gets the 2 that
	 * make 2002 >= 1024. */
	c[1].weight = 1000;
	ok = ok && ASSERT_EQ(ring_xx(&r, c, 2, 1024, 8192), 0) &&
	     ASSERT_EQ(lb_ring_size(r), 2002) &&
	     ASSERT_EQ(ring_points_of(r, 0), 2);
	lb_ring_free(r);
	r = NULL;
	/* ... but under a cap of 1000 its share, 0.999 of a point, is none. */
	ok = ok && ASSERT_EQ(ring_xx(&r, c, 2, 10, 1000), 0) &&
	     ASSERT_EQ(lb_ring_size(r), 1000) &&
	     ASSERT_EQ(ring_points_of(r, 0), 0) &&
	     ASSERT_EQ(lb_ring_pick(r, 12345), 1);
	lb_ring_free(r);
	r = NULL;
	return ok && ASSERT_EQ(ring_xx(&r, c, 0, 1024, 8192), -EINVAL) &&
	       ASSERT_EQ(ring_xx(&r, c, 3, 0, 8192), -EINVAL) &&
	       ASSERT_EQ(ring_xx(&r, c, 3, 2048, 1024), -EINVAL) &&
	       ASSERT_TRUE(r == NULL);
}

/* The entries of table @m that candidate @i has. */
static size_t mg_entries_of(const struct lb_maglev *m, size_t i)
{
	size_t k = 0;

	for (uint32_t j = 0; j < m->size; j++)
		k += m->table[j] == i;
	return k;
}

static bool test_maglev_consistent(void)
{
	struct lb_cand c[5], rev[5];
	struct lb_maglev *a = NULL, *b = NULL, *r = NULL;
	struct lb_rng rng;
	bool ok = true;

	for (unsigned int i = 0; i < 5; i++) {
		c[i] = cand(i, 1 + i % 2);
		rev[4 - i] = c[i];
	}
	for (int fn = LB_HASH_XX; ok && fn <= LB_HASH_MURMUR2; fn++) {
		ok = ASSERT_EQ(lb_maglev_build(&a, c, 5, 65537, fn), 0) &&
		     ASSERT_EQ(lb_maglev_build(&b, c, 5, 65537, fn), 0) &&
		     ASSERT_EQ(lb_maglev_build(&r, rev, 5, 65537, fn), 0);
		lb_rng_seed(&rng, 40);
		for (int i = 0; ok && i < 1000; i++) {
			uint64_t h = lb_rng_next(&rng);
			size_t first = lb_maglev_pick(a, h);
			unsigned int same = 0;

			for (int j = 0; j < 1000; j++)
				same += lb_maglev_pick(a, h) == first;
			ok = ASSERT_TRUE(first < 5) && ASSERT_EQ(same, 1000) &&
			     ASSERT_EQ(lb_maglev_pick(b, h), first) &&
			     ASSERT_EQ(lb_maglev_pick(r, h), 4 - first);
		}
		lb_maglev_free(a);
		lb_maglev_free(b);
		lb_maglev_free(r);
		a = b = r = NULL;
	}
	return ok;
}

/* Three equal candidates on the default 65537 entries: 21845 or 21846
 * each, and a third of 30,000 random hashes within 5 points; 2:1 weights
 * two thirds of the entries, within one. */
static bool test_maglev_balance(void)
{
	struct lb_cand c[3] = { cand(1, 1), cand(2, 1), cand(3, 1) };
	struct lb_maglev *m = NULL;
	bool ok = true;

	for (int fn = LB_HASH_XX; ok && fn <= LB_HASH_MURMUR2; fn++) {
		unsigned int count[3] = { 0 };
		struct lb_rng rng;

		ok = ASSERT_EQ(lb_maglev_build(&m, c, 3, LB_MAGLEV_SIZE_DEFAULT,
					       fn), 0);
		lb_rng_seed(&rng, 50);
		for (int i = 0; ok && i < 30000; i++)
			count[lb_maglev_pick(m, lb_rng_next(&rng))]++;
		for (size_t i = 0; ok && i < 3; i++)
			ok = ASSERT_TRUE(mg_entries_of(m, i) == 21845 ||
					 mg_entries_of(m, i) == 21846) &&
			     ASSERT_TRUE(count[i] >= 8500 && count[i] <= 11500);
		lb_maglev_free(m);
		m = NULL;
		c[1].weight = 2;
		ok = ok && ASSERT_EQ(lb_maglev_build(&m, c, 2, 65537, fn), 0) &&
		     ASSERT_TRUE(mg_entries_of(m, 1) >= 43691 &&
				 mg_entries_of(m, 1) <= 43692);
		c[1].weight = 1;
		lb_maglev_free(m);
		m = NULL;
	}
	return ok;
}

/* One of ten equal candidates goes: its entries go to the others, and of
 * the others' entries (and of 30,000 random hashes on them) fewer than
 * 15% move. */
static bool test_maglev_remove_one(void)
{
	struct lb_cand c10[10], c9[9];
	struct lb_maglev *a = NULL, *b = NULL;
	unsigned int others = 0, moved = 0, hothers = 0, hmoved = 0;
	struct lb_rng rng;
	bool ok;

	for (unsigned int i = 0; i < 10; i++) {
		c10[i] = cand(i, 1);
		if (i != 3)
			c9[i - (i > 3)] = c10[i];
	}
	ok = ASSERT_EQ(mg_xx(&a, c10, 10, 65537), 0) &&
	     ASSERT_EQ(mg_xx(&b, c9, 9, 65537), 0);
	for (uint32_t e = 0; ok && e < 65537; e++) {
		size_t was = a->table[e];

		if (was == 3)
			continue;
		others++;
		moved += b->table[e] != was - (was > 3);
	}
	lb_rng_seed(&rng, 60);
	for (int i = 0; ok && i < 30000; i++) {
		uint64_t h = lb_rng_next(&rng);
		size_t was = lb_maglev_pick(a, h);

		if (was == 3)
			continue;
		hothers++;
		hmoved += lb_maglev_pick(b, h) != was - (was > 3);
	}
	ok = ok && ASSERT_TRUE(others > 58000 && others < 60000) &&
	     ASSERT_TRUE(moved * 100 < others * 15) &&
	     ASSERT_TRUE(hmoved * 100 < hothers * 15);
	if (!ok)
		fprintf(stderr, "  %u of %u entries moved, %u of %u hashes\n",
		moved, others, hmoved, hothers);
	lb_maglev_free(a);
	lb_maglev_free(b);
	return ok;
}

static bool test_maglev_table_size(void)
{
	struct lb_cand c[7];
	struct lb_maglev *m = NULL;
	bool ok;

	cands(c, 7);
	/* Seven candidates fill a table of 7: one entry each. */
	ok = ASSERT_EQ(mg_xx(&m, c, 7, 7), 0);
	for (size_t i = 0; ok && i < 7; i++)
		ok = ASSERT_EQ(mg_entries_of(m, i), 1);
	lb_maglev_free(m);
	m = NULL;
	return ok && ASSERT_EQ(mg_xx(&m, c, 7, 65536), -EINVAL) &&
	       ASSERT_EQ(mg_xx(&m, c, 7, 65535), -EINVAL) &&
	       ASSERT_EQ(mg_xx(&m, c, 7, 1), -EINVAL) &&
	       ASSERT_EQ(mg_xx(&m, c, 7, 0), -EINVAL) &&
	       /* a prime, but fewer entries than candidates */
	       ASSERT_EQ(mg_xx(&m, c, 7, 5), -EINVAL) &&
	       /* a prime above Envoy's largest */
	       ASSERT_EQ(mg_xx(&m, c, 7, 5000101), -EINVAL) &&
	       ASSERT_EQ(mg_xx(&m, c, 0, 65537), -EINVAL) &&
	       ASSERT_TRUE(m == NULL);
}

/* How often of @picks each of @n candidates is picked by @pick, into
 * @count. */
#define COUNT_PICKS(count, n, picks, pick)                                   \
	do {                                                                  \
		memset(count, 0, sizeof(count[0]) * (n));                     \
		for (int i_ = 0; i_ < (picks); i_++) {                        \
			size_t p_ = (pick);                                   \
			if (p_ < (n))                                         \
				count[p_]++;                                  \
		}                                                             \
	} while (0)

/* Whether @count is within 5 points of @pct percent of @total. */
static bool near_pct(unsigned int count, double pct, unsigned int total)
{
	double got = 100.0 * count / total;

	if (got >= pct - 5.0 && got <= pct + 5.0)
		return true;
	fprintf(stderr, "  %.2f%% where %.2f%% was due\n", got, pct);
	return false;
}

static bool test_least_request_idle(void)
{
	unsigned int count[4];
	struct lb_cand c[4];
	struct lb_rng rng;
	bool ok;

	cands(c, 4);
	c[0].active = c[2].active = c[3].active = 10;
	lb_rng_seed(&rng, 70);
	/* All compared, as many times as there are candidates or more. */
	COUNT_PICKS(count, 4, 1000, lb_least_request(c, 4, 4, 1000, &rng));
	ok = ASSERT_EQ(count[1], 1000);
	COUNT_PICKS(count, 4, 1000, lb_least_request(c, 4, 9, 1000, &rng));
	ok = ok && ASSERT_EQ(count[1], 1000);
	/* Two of four: the idle one is in half the pairs, and wins them;
	 * each other one in a sixth. */
	COUNT_PICKS(count, 4, 30000, lb_least_request(c, 4, 2, 1000, &rng));
	ok = ok && near_pct(count[1], 50, 30000) &&
	     ASSERT_TRUE(count[1] > 2 * count[0] && count[1] > 2 * count[2] &&
			 count[1] > 2 * count[3]);
	/* 0 is the default, 2. */
	COUNT_PICKS(count, 4, 30000, lb_least_request(c, 4, 0, 1000, &rng));
	ok = ok && near_pct(count[1], 50, 30000);
	/* All idle: ties go to a random one, whatever the choice. */
	c[0].active = c[2].active = c[3].active = 0;
	for (unsigned int k = 2; ok && k <= 4; k++) {
		COUNT_PICKS(count, 4, 30000,
			    lb_least_request(c, 4, k, 1000, &rng));
		for (int i = 0; ok && i < 4; i++)
			ok = near_pct(count[i], 25, 30000);
	}
	return ok;
}

/* 40 candidates, 20 choices (drawn in one pass): the idle one is in half
 * of the draws. */
static bool test_least_request_many_choices(void)
{
	struct lb_cand c[40];
	unsigned int count[40];
	struct lb_rng rng;

	for (unsigned int i = 0; i < 40; i++) {
		c[i] = cand(i, 1);
		c[i].active = i == 17 ? 0 : 5;
	}
	lb_rng_seed(&rng, 80);
	COUNT_PICKS(count, 40, 30000, lb_least_request(c, 40, 20, 1000, &rng));
	return near_pct(count[17], 50, 30000);
}

/* Weights 1, 1 and 2 with 0, 0 and 3 active: effective 1, 1 and 0.5 at
 * bias 1.0, 1, 1 and 2 at bias 0, and 1, 1 and 0.125 at bias 2.0. */
static bool test_least_request_weighted(void)
{
	struct lb_cand c[3] = { cand(1, 1), cand(2, 1), cand(3, 2) };
	unsigned int count[3];
	struct lb_rng rng;
	bool ok;

	c[2].active = 3;
	lb_rng_seed(&rng, 90);
	COUNT_PICKS(count, 3, 30000, lb_least_request(c, 3, 2, 1000, &rng));
	ok = near_pct(count[0], 40, 30000) && near_pct(count[2], 20, 30000);
	COUNT_PICKS(count, 3, 30000, lb_least_request(c, 3, 2, 0, &rng));
	ok = ok && near_pct(count[0], 25, 30000) &&
	     near_pct(count[2], 50, 30000);
	COUNT_PICKS(count, 3, 30000, lb_least_request(c, 3, 2, 2000, &rng));
	return ok && near_pct(count[0], 100 / 2.125, 30000) &&
	       near_pct(count[2], 100 * 0.125 / 2.125, 30000) &&
	       ASSERT_EQ(lb_least_request(c, 0, 2, 1000, &rng), LB_NONE) &&
	       ASSERT_EQ(lb_least_request(c, 1, 2, 1000, &rng), 0);
}

static bool test_random_weights(void)
{
	unsigned int count[4];
	struct lb_cand c[4];
	struct lb_rng rng;
	bool ok = true;

	for (unsigned int i = 0; i < 4; i++)
		c[i] = cand(i, i + 1);
	lb_rng_seed(&rng, 100);
	COUNT_PICKS(count, 4, 30000, lb_random(c, 4, &rng));
	for (int i = 0; ok && i < 4; i++)
		ok = near_pct(count[i], 10.0 * (i + 1), 30000);
	return ok && ASSERT_EQ(lb_random(c, 0, &rng), LB_NONE) &&
	       ASSERT_EQ(lb_random(c, 1, &rng), 0);
}

#define MS	1000000ull
#define SEC	1000000000ull

static bool test_p2c_ewma(void)
{
	const uint64_t now = 1000 * SEC;
	unsigned int count[4];
	struct lb_cand c[4];
	struct lb_rng rng;
	bool ok;

	cands(c, 4);
	for (int i = 0; i < 4; i++) {
		c[i].ewma_ns = i ? 1 * MS : 10 * MS;
		c[i].ewma_at_ns = now;
	}
	lb_rng_seed(&rng, 110);
	/* Ten times slower than the others: picked under 10% of the time
	 * (never: it loses every pair it is in). */
	COUNT_PICKS(count, 4, 30000, lb_p2c_ewma(c, 4, now, &rng));
	ok = ASSERT_TRUE(count[0] < 3000) && near_pct(count[1], 33.3, 30000) &&
	     near_pct(count[3], 33.3, 30000);
	/* ... unless the others have work: 1 ms * 11 > 10 ms * 1. */
	c[1].active = c[2].active = c[3].active = 10;
	COUNT_PICKS(count, 4, 30000, lb_p2c_ewma(c, 4, now, &rng));
	ok = ok && near_pct(count[0], 50, 30000);
	/* A new one costs what its rival does: idle, it wins its pairs (half
	 * of them); with more in flight than the others, it loses them. */
	c[0].ewma_ns = 0;
	COUNT_PICKS(count, 4, 30000, lb_p2c_ewma(c, 4, now, &rng));
	ok = ok && near_pct(count[0], 50, 30000);
	c[0].active = 11;
	COUNT_PICKS(count, 4, 30000, lb_p2c_ewma(c, 4, now, &rng));
	ok = ok && ASSERT_EQ(count[0], 0);
	/* A 10 ms peak last updated a minute ago reads 25 us now: it wins
	 * against 1 ms measured now. */
	c[0].ewma_ns = 10 * MS;
	c[0].ewma_at_ns = now - 60 * SEC;
	c[0].active = c[1].active = 0;
	COUNT_PICKS(count, 2, 1000, lb_p2c_ewma(c, 2, now, &rng));
	return ok && ASSERT_EQ(count[0], 1000) &&
	       ASSERT_EQ(lb_p2c_ewma(c, 0, now, &rng), LB_NONE) &&
	       ASSERT_EQ(lb_p2c_ewma(c, 1, now, &rng), 0);
}

static bool test_ewma_update(void)
{
	const uint64_t t0 = 1000 * SEC;
	uint64_t e = lb_ewma_update(0, 0, t0, 5 * MS), gap;
	bool ok;

	/* The first sample, and a peak, replace it at once. */
	ok = ASSERT_EQ(e, 5 * MS) &&
	     ASSERT_EQ(lb_ewma_update(e, t0, t0 + 1 * MS, 100 * MS), 100 * MS);
	/* 10 ms after 100 ms, 10 s later: the 90 ms gap is 1/e of itself,
	 * 33.109 ms (within 0.1%). */
	gap = lb_ewma_update(100 * MS, t0, t0 + 10 * SEC, 10 * MS) - 10 * MS;
	ok = ok && ASSERT_TRUE(gap > 33076000 && gap < 33142000);
	/* 1 s: e^-0.1 of it, 81.435 ms. */
	gap = lb_ewma_update(100 * MS, t0, t0 + 1 * SEC, 10 * MS) - 10 * MS;
	ok = ok && ASSERT_TRUE(gap > 81353000 && gap < 81517000);
	/* Long after, the sample alone; at the same instant, or with a clock
	 * gone back, the old average. */
	return ok &&
	       ASSERT_EQ(lb_ewma_update(100 * MS, t0, t0 + 3600 * SEC, 10 * MS),
			 10 * MS) &&
	       ASSERT_EQ(lb_ewma_update(100 * MS, t0, t0, 10 * MS), 100 * MS) &&
	       ASSERT_EQ(lb_ewma_update(100 * MS, t0, t0 - SEC, 10 * MS),
			 100 * MS) &&
	       ASSERT_EQ(lb_ewma_update(0, 0, t0, 0), 1);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_xxhash_known_answers);
	TEST_RUN(test_murmur2_known_answers);
	TEST_RUN(test_rng_range);
	TEST_RUN(test_ring_consistent);
	TEST_RUN(test_ring_balance);
	TEST_RUN(test_ring_remove_one);
	TEST_RUN(test_ring_size);
	TEST_RUN(test_maglev_consistent);
	TEST_RUN(test_maglev_balance);
	TEST_RUN(test_maglev_remove_one);
	TEST_RUN(test_maglev_table_size);
	TEST_RUN(test_least_request_idle);
	TEST_RUN(test_least_request_many_choices);
	TEST_RUN(test_least_request_weighted);
	TEST_RUN(test_random_weights);
	TEST_RUN(test_p2c_ewma);
	TEST_RUN(test_ewma_update);
	TEST_MAIN_END();
}
