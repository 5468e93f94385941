// SPDX-License-Identifier: Apache-2.0
/*
 * The store in memory (lib/policy/store_mem.c): records of the two
 * halves kept apart and both dumped, a full map refused as the kernel
 * refuses it (-E2BIG, capacity counted over both halves), and a half
 * cleared after a flip giving its table back to the heap.
 */
#include <malloc.h>

#include "harness/test.h"

#include "policy/store.h"

#ifndef __has_feature
#define __has_feature(x) 0
#endif

/* The keys of REC_NODES: a half, then a node's name. */
static void node_key(uint8_t *key, size_t ksz, uint32_t half, unsigned i)
{
	memset(key, 0, ksz);
	memcpy(key, &half, sizeof(half));
	snprintf((char *)key + sizeof(half), ksz - sizeof(half), "n%u", i);
}

/* Bytes the heap has handed out, mmap'ed blocks included. */
static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

struct count {
	size_t n[2];
};

static int count_rec(void *arg, const void *key, const void *val)
{
	struct count *c = arg;
	uint32_t half;

	(void)val;
	memcpy(&half, key, sizeof(half));
	c->n[half & 1]++;
	return 0;
}

/* Writes @n records of @half into REC_NODES; returns update's result. */
static int put_nodes(struct store *s, const struct store_map_info *mi,
		     uint32_t half, unsigned from, unsigned n)
{
	uint8_t *keys = calloc(n ? n : 1, mi->key_size);
	uint8_t *vals = calloc(n ? n : 1, mi->val_size);
	size_t done = 0;
	int err = -ENOMEM;

	if (keys && vals) {
		for (unsigned i = 0; i < n; i++)
			node_key(keys + i * mi->key_size, mi->key_size, half,
				 from + i);
		err = s->ops->update(s, REC_NODES, keys, vals, n, &done);
	}
	free(keys);
	free(vals);
	return err;
}

static int remove_nodes(struct store *s, const struct store_map_info *mi,
			uint32_t half, unsigned n)
{
	uint8_t *keys = calloc(n ? n : 1, mi->key_size);
	int err = -ENOMEM;

	if (keys) {
		for (unsigned i = 0; i < n; i++)
			node_key(keys + i * mi->key_size, mi->key_size, half, i);
		err = s->ops->remove(s, REC_NODES, keys, n);
	}
	free(keys);
	return err;
}

static bool test_halves_and_capacity(void)
{
	struct store_map_info mi;
	struct count c = { 0 };
	struct store *s = NULL;
	unsigned per_half;
	bool ok;

	if (!ASSERT_EQ(store_mem_new(&s), 0))
		return false;
	ok = ASSERT_EQ(s->ops->info(s, REC_NODES, &mi), 0) &&
	     ASSERT_TRUE(mi.max_entries >= 2);
	per_half = mi.max_entries / 2;
	/* The same names in both halves are different records. */
	ok = ok && ASSERT_EQ(put_nodes(s, &mi, 0, 0, per_half), 0) &&
	     ASSERT_EQ(put_nodes(s, &mi, 1, 0, per_half), 0) &&
	     ASSERT_EQ(s->ops->dump(s, REC_NODES, count_rec, &c), 0) &&
	     ASSERT_EQ(c.n[0], per_half) && ASSERT_EQ(c.n[1], per_half);
	/* Full over both halves: one more is refused, in either half. */
	ok = ok && ASSERT_EQ(put_nodes(s, &mi, 1, per_half, 1), -E2BIG) &&
	     ASSERT_EQ(put_nodes(s, &mi, 0, per_half, 1), -E2BIG);
	/* Half 0 cleared, as after a flip: half 1 is all that is left,
	 * and there is room again, in the cleared half too. */
	ok = ok && ASSERT_EQ(remove_nodes(s, &mi, 0, per_half), 0);
	memset(&c, 0, sizeof(c));
	ok = ok && ASSERT_EQ(s->ops->dump(s, REC_NODES, count_rec, &c), 0) &&
	     ASSERT_EQ(c.n[0], 0) && ASSERT_EQ(c.n[1], per_half) &&
	     ASSERT_EQ(put_nodes(s, &mi, 0, 0, 3), 0);
	memset(&c, 0, sizeof(c));
	ok = ok && ASSERT_EQ(s->ops->dump(s, REC_NODES, count_rec, &c), 0) &&
	     ASSERT_EQ(c.n[0], 3) && ASSERT_EQ(c.n[1], per_half);
	s->ops->close(s);
	return ok;
}

/* A half cleared after a flip gives its table back to the heap. */
static bool test_cleared_half_freed(void)
{
	struct store_map_info mi;
	struct store *s = NULL;
	size_t held, cleared;
	unsigned per_half;
	bool ok;

#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
	TEST_SKIP("built with AddressSanitizer, whose allocator makes the "
		  "heap's figures meaningless");
#endif
	if (!ASSERT_EQ(store_mem_new(&s), 0))
		return false;
	ok = ASSERT_EQ(s->ops->info(s, REC_NODES, &mi), 0);
	per_half = mi.max_entries / 2;
	ok = ok && ASSERT_EQ(put_nodes(s, &mi, 0, 0, per_half), 0) &&
	     ASSERT_EQ(put_nodes(s, &mi, 1, 0, per_half), 0);
	malloc_trim(0);
	held = heap_in_use();
	ok = ok && ASSERT_EQ(remove_nodes(s, &mi, 0, per_half), 0);
	cleared = heap_in_use();
	ok = ok && ASSERT_TRUE(held - cleared >= per_half * (mi.key_size +
							     mi.val_size));
	s->ops->close(s);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_halves_and_capacity);
	TEST_RUN(test_cleared_half_freed);
	TEST_MAIN_END();
}
