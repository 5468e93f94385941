// SPDX-License-Identifier: Apache-2.0
/*
 * lib/arena.c: pieces are aligned, never move and do not overlap; a
 * piece larger than a chunk gets one of its own; a reset keeps one chunk
 * and hands its memory out again; a take moves every chunk, the
 * receiver's head chunk still filled first.
 */
#include <stdint.h>
#include <string.h>

#include "harness/test.h"
#include "arena.h"

static size_t arena_chunks(const struct arena *a)
{
	size_t n = 0;

	/* The chunk's first member is its next pointer. */
	for (void *const *c = (void *const *)a->chunks; c; c = *c)
		n++;
	return n;
}

static bool test_pieces_stay(void)
{
	struct arena a = { .chunk_size = 1024 };
	char *p[200];
	bool ok = true;

	for (int i = 0; ok && i < 200; i++) {
		p[i] = arena_alloc(&a, 1 + i % 37);
		ok = ASSERT_TRUE(p[i]) &&
		     ASSERT_EQ((uintptr_t)p[i] % _Alignof(max_align_t), 0);
		if (ok)
			memset(p[i], i, 1 + i % 37);
	}
	/* Every piece still holds what was written in it: none moved,
	 * none overlaps another. */
	for (int i = 0; ok && i < 200; i++)
		for (int k = 0; ok && k < 1 + i % 37; k++)
			ok = ASSERT_EQ((unsigned char)p[i][k], (unsigned char)i);
	ok = ok && ASSERT_TRUE(arena_chunks(&a) > 1);
	arena_free(&a);
	return ok && ASSERT_TRUE(a.chunks == NULL);
}

static bool test_large_piece(void)
{
	struct arena a = { .chunk_size = 256 };
	char *small = arena_alloc(&a, 16), *big;
	bool ok;

	big = arena_alloc(&a, 4096);
	ok = ASSERT_TRUE(small) && ASSERT_TRUE(big);
	if (ok) {
		memset(big, 0xab, 4096);
		/* The small piece's chunk is still there behind the big one. */
		ok = ASSERT_EQ(arena_chunks(&a), 2) &&
		     ASSERT_TRUE(arena_alloc(&a, SIZE_MAX - 4) == NULL);
	}
	arena_free(&a);
	return ok;
}

static bool test_strdup_and_reset(void)
{
	struct arena a = { .chunk_size = 64 };
	char *s = arena_strdup(&a, "spiffe://mesh.local/ns/a/sa/b"), *t;
	bool ok = ASSERT_TRUE(s) &&
		  ASSERT_STREQ(s, "spiffe://mesh.local/ns/a/sa/b");

	for (int i = 0; ok && i < 10; i++)
		ok = ASSERT_TRUE(arena_strdup(&a, "0123456789012345678901234"));
	ok = ok && ASSERT_TRUE(arena_chunks(&a) > 1);
	arena_reset(&a);
	t = arena_alloc(&a, 8);
	/* One chunk kept, its memory handed out from the start again. */
	ok = ok && ASSERT_EQ(arena_chunks(&a), 1) && ASSERT_TRUE(t != NULL);
	arena_free(&a);
	return ok;
}

static bool test_take(void)
{
	struct arena to = { .chunk_size = 64 }, from = { .chunk_size = 64 };
	char *head, *moved, *next;
	bool ok;

	head = arena_strdup(&to, "to");
	arena_strdup(&to, "0123456789012345678901234567890123456789");
	head = arena_strdup(&to, "head");
	moved = arena_strdup(&from, "from");
	arena_strdup(&from, "0123456789012345678901234567890123456789");
	arena_strdup(&from, "0123456789012345678901234567890123456789");
	ok = ASSERT_EQ(arena_chunks(&to), 2) && ASSERT_EQ(arena_chunks(&from), 2);
	arena_take(&to, &from);
	next = arena_alloc(&to, 8);
	/* The receiver's head chunk is filled next: the new piece follows
	 * the last one put there. */
	ok = ok && ASSERT_TRUE(from.chunks == NULL) &&
	     ASSERT_EQ(arena_chunks(&to), 4) &&
	     ASSERT_STREQ(moved, "from") && ASSERT_STREQ(head, "head") &&
	     ASSERT_TRUE(next == head + _Alignof(max_align_t));
	arena_free(&to);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_pieces_stay);
	TEST_RUN(test_large_piece);
	TEST_RUN(test_strdup_and_reset);
	TEST_RUN(test_take);
	TEST_MAIN_END();
}
