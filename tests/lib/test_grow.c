// SPDX-License-Identifier: Apache-2.0
/*
 * lib/grow.h: an array appended to one element at a time keeps its
 * storage while it has room, doubles from the first capacity its owner
 * picked when full, and, when the room it would need does not fit a
 * size_t, fails with the array and its capacity as they were.
 */
#include <stdint.h>

#include "harness/test.h"
#include "grow.h"

static bool test_doubles_from_first(void)
{
	uint32_t *a = NULL, *p;
	size_t n = 0, cap = 0, grew = 0;
	bool ok = true;

	for (uint32_t i = 0; ok && i < 100; i++) {
		size_t before = cap;

		p = grow_room(a, n, &cap, sizeof(*a), 4);
		ok = ASSERT_TRUE(p) &&
		     ASSERT_EQ(cap, n < before ? before :
				    before ? before * 2 : 4);
		if (!ok)
			break;
		grew += cap != before;
		ok = n < before ? ASSERT_TRUE(p == a) : true;
		a = p;
		a[n++] = i;
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = ASSERT_EQ(a[i], i);
	/* 4, 8, 16, 32, 64, 128. */
	ok = ok && ASSERT_EQ(grew, 6) && ASSERT_EQ(cap, 128);
	free(a);
	return ok;
}

static bool test_overflow_keeps_array(void)
{
	/* Volatile: the compiler is not to see the overflow coming, nor
	 * take the array for freed once grow_room() had it. */
	volatile size_t huge = SIZE_MAX / 3;
	size_t n = 2, cap = 2;
	char *volatile a = malloc(2);
	char *p;
	bool ok;

	if (!ASSERT_TRUE(a))
		return false;
	a[0] = 'x';
	a[1] = 'y';
	p = grow_room(a, n, &cap, huge, 2);
	ok = ASSERT_TRUE(p == NULL) && ASSERT_EQ(cap, 2) &&
	     ASSERT_EQ(a[0], 'x') && ASSERT_EQ(a[1], 'y');
	free(a);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_doubles_from_first);
	TEST_RUN(test_overflow_keeps_array);
	TEST_MAIN_END();
}
