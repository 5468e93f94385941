// SPDX-License-Identifier: Apache-2.0
/*
 * The store in memory (lib/policy/store_mem.c): records of the two
 * halves kept apart and both dumped, a full map refused as the kernel
 * refuses it (-E2BIG, capacity counted over both halves), records
 * updated, removed and put again each found with its own value, a half
 * staged again held in about its records' bytes, and a half cleared
 * after a flip giving its table back to the heap.
 */
#include <malloc.h>

#include "harness/test.h"

#include "policy/store.h"

/* The keys of REC_NODES: a half, then a node's name. */
static void node_key(uint8_t *key, size_t ksz, uint32_t half, unsigned i)
{
	memset(key, 0, ksz);
	memcpy(key, &half, sizeof(half));
	snprintf((char *)key + sizeof(half), ksz - sizeof(half), "n%u", i);
}

/* A memory store, and REC_NODES' shape in it; false (said) when either
 * fails, the store closed. */
static bool nodes_store(struct store **s, struct store_map_info *mi)
{
	if (!ASSERT_EQ(store_mem_new(s), 0))
		return false;
	if (ASSERT_EQ((*s)->ops->info(*s, REC_NODES, mi), 0))
		return true;
	(*s)->ops->close(*s);
	return false;
}

/* What a case that reads the heap's figures does under ASan. */
#define SKIP_WITHOUT_HEAP_FIGURES()                                           \
	do {                                                                  \
		if (TEST_ASAN)                                                \
			TEST_SKIP("built with AddressSanitizer, whose "       \
				  "allocator makes the heap's figures "       \
				  "meaningless");                             \
	} while (0)

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

	if (!nodes_store(&s, &mi))
		return false;
	ok = ASSERT_TRUE(mi.max_entries >= 2);
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

/* Puts record @i of @half into REC_NODES with value bytes all (i & 0xff)
 * ^ @salt. */
static int put_node(struct store *s, const struct store_map_info *mi,
		    uint32_t half, unsigned i, uint8_t salt)
{
	uint8_t key[256], val[1024];
	size_t done = 0;

	if (mi->key_size > sizeof(key) || mi->val_size > sizeof(val))
		return -E2BIG;
	node_key(key, mi->key_size, half, i);
	memset(val, (int)((i & 0xff) ^ salt), mi->val_size);
	return s->ops->update(s, REC_NODES, key, val, 1, &done);
}

/* What a dump of half 0 must hold: want[i] is the salt of record i, or
 * -1 for none. */
struct expect {
	const struct store_map_info *mi;
	const int *want;
	unsigned n;
	unsigned seen, bad;
};

static int check_rec(void *arg, const void *key, const void *val)
{
	struct expect *e = arg;
	const uint8_t *v = val;
	unsigned i;

	if (sscanf((const char *)key + sizeof(uint32_t), "n%u", &i) != 1 ||
	    i >= e->n || e->want[i] < 0) {
		e->bad++;
		return 0;
	}
	e->seen++;
	for (size_t b = 0; b < e->mi->val_size; b++)
		if (v[b] != (uint8_t)((i & 0xff) ^ e->want[i])) {
			e->bad++;
			break;
		}
	return 0;
}

static bool dump_is(struct store *s, const struct store_map_info *mi,
		    const int *want, unsigned n)
{
	struct expect e = { mi, want, n, 0, 0 };
	unsigned live = 0;

	for (unsigned i = 0; i < n; i++)
		live += want[i] >= 0;
	return ASSERT_EQ(s->ops->dump(s, REC_NODES, check_rec, &e), 0) &&
	       ASSERT_EQ(e.bad, 0) && ASSERT_EQ(e.seen, live);
}

/* Records removed from the middle and the end, put again, and updated:
 * each record left is there once, with its own latest value, and a
 * removed one is gone (the store keeps its records end to end, moving
 * the last into a removed one's place). */
static bool test_remove_update_put_again(void)
{
	enum { N = 1000 };
	struct store_map_info mi;
	struct store *s = NULL;
	int want[N];
	bool ok;

	if (!nodes_store(&s, &mi))
		return false;
	ok = ASSERT_TRUE(mi.max_entries >= 2 * N);
	for (unsigned i = 0; ok && i < N; i++) {
		want[i] = 0;
		ok = ASSERT_EQ(put_node(s, &mi, 0, i, 0), 0);
	}
	ok = ok && dump_is(s, &mi, want, N);
	/* Every third, and the last ones, removed. */
	for (unsigned i = 0; ok && i < N; i++) {
		uint8_t key[256];

		if (i % 3 && i < N - 10)
			continue;
		node_key(key, mi.key_size, 0, i);
		want[i] = -1;
		ok = ASSERT_EQ(s->ops->remove(s, REC_NODES, key, 1), 0);
	}
	ok = ok && dump_is(s, &mi, want, N);
	/* Every sixth put again, every fifth updated in place. */
	for (unsigned i = 0; ok && i < N; i++) {
		if (i % 6 == 0) {
			want[i] = 0x55;
			ok = ASSERT_EQ(put_node(s, &mi, 0, i, 0x55), 0);
		} else if (i % 5 == 0 && want[i] >= 0) {
			want[i] = 0xaa;
			ok = ASSERT_EQ(put_node(s, &mi, 0, i, 0xaa), 0);
		}
	}
	ok = ok && dump_is(s, &mi, want, N);
	s->ops->close(s);
	return ok;
}

/* A half staged again, at the size it had, holds about its records'
 * bytes: its records end to end, and an index of 4 bytes a slot.  A
 * table of the records themselves, at most 3/4 full, would hold at
 * least a third more. */
static bool test_half_dense(void)
{
	struct store_map_info mi;
	struct store *s = NULL;
	size_t before, rec, n;
	bool ok;

	SKIP_WITHOUT_HEAP_FIGURES();
	if (!nodes_store(&s, &mi))
		return false;
	n = mi.max_entries / 2;
	rec = mi.key_size + mi.val_size;
	ok = ASSERT_EQ(put_nodes(s, &mi, 0, 0, (unsigned)n), 0) &&
	     ASSERT_EQ(remove_nodes(s, &mi, 0, (unsigned)n), 0);
	malloc_trim(0);
	before = heap_in_use();
	ok = ok && ASSERT_EQ(put_nodes(s, &mi, 0, 0, (unsigned)n), 0);
	/* The records and a sixteenth, and an index of at most 4 slots a
	 * record. */
	ok = ok && ASSERT_TRUE(heap_in_use() - before <=
			       n * rec + n * rec / 16 + 16 * (n + 64) + 4096);
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

	SKIP_WITHOUT_HEAP_FIGURES();
	if (!nodes_store(&s, &mi))
		return false;
	per_half = mi.max_entries / 2;
	ok = ASSERT_EQ(put_nodes(s, &mi, 0, 0, per_half), 0) &&
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
	TEST_RUN(test_remove_update_put_again);
	TEST_RUN(test_half_dense);
	TEST_RUN(test_cleared_half_freed);
	TEST_MAIN_END();
}
