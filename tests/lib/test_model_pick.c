// SPDX-License-Identifier: Apache-2.0
/*
 * model_set_pick() (lib/policy/model.c): the set holds exactly the picked
 * objects in the picked order, whatever cycles, fixed points and drops
 * the pick makes of the array; the counts per kind follow; an array far
 * larger than what is left gives the rest back, one with room keeps it.
 */
#include <stdio.h>

#include "harness/test.h"
#include "policy/model.h"

/* A set of @n objects named o-000, o-001, ..., Workloads and Services in
 * turn. */
static bool pick_set(struct model_set *s, size_t n)
{
	model_set_init(s);
	for (size_t i = 0; i < n; i++) {
		struct model_obj *o = model_set_add(s, i % 2 ? MODEL_SERVICE :
						       MODEL_WORKLOAD);

		if (!ASSERT_TRUE(o))
			return false;
		snprintf(o->name, sizeof(o->name), "o-%03zu", i);
	}
	return true;
}

static bool pick_holds(const struct model_set *s, const size_t *pick,
		       size_t n)
{
	size_t kinds[2] = { 0 };
	char want[16];
	bool ok = ASSERT_EQ(s->n, n);

	for (size_t i = 0; ok && i < n; i++) {
		snprintf(want, sizeof(want), "o-%03zu", pick[i]);
		ok = ASSERT_STREQ(s->objs[i].name, want) &&
		     ASSERT_EQ(s->objs[i].kind, pick[i] % 2 ? MODEL_SERVICE :
							    MODEL_WORKLOAD);
		kinds[pick[i] % 2]++;
	}
	return ok && ASSERT_EQ(s->nkind[MODEL_WORKLOAD], kinds[0]) &&
	       ASSERT_EQ(s->nkind[MODEL_SERVICE], kinds[1]);
}

/* Every order a few steps of a generator give, with a fifth dropped. */
static bool test_pick_shuffled(void)
{
	bool ok = true;

	for (unsigned seed = 1; ok && seed <= 20; seed++) {
		size_t pick[100], n = 0, all = 100;
		unsigned x = seed;
		struct model_set s;

		for (size_t i = 0; i < all; i++)
			if ((i + seed) % 5)
				pick[n++] = i;
		for (size_t i = n - 1; i > 0; i--) {
			size_t j, t;

			x = x * 1103515245u + 12345u;
			j = (x >> 8) % (i + 1);
			t = pick[i];
			pick[i] = pick[j];
			pick[j] = t;
		}
		ok = pick_set(&s, all) &&
		     ASSERT_EQ(model_set_pick(&s, pick, n), 0) &&
		     pick_holds(&s, pick, n);
		model_set_free(&s);
	}
	return ok;
}

/* A one-key change as a sync's parse makes it: the key's new object was
 * added last and takes the old one's place, which is dropped; the others
 * stay where they are. */
static bool test_pick_one_changed(void)
{
	size_t pick[10] = { 0, 1, 2, 10, 4, 5, 6, 7, 8, 9 };
	struct model_set s;
	bool ok = pick_set(&s, 11) &&
		  ASSERT_EQ(model_set_pick(&s, pick, 10), 0) &&
		  pick_holds(&s, pick, 10);

	model_set_free(&s);
	return ok;
}

static bool test_pick_room(void)
{
	size_t pick[10] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 };
	struct model_set s;
	bool ok = pick_set(&s, 10) && ASSERT_EQ(model_set_reserve(&s, 990), 0) &&
		  ASSERT_GE(s.cap, 1000) &&
		  ASSERT_EQ(model_set_pick(&s, pick, 10), 0) &&
		  pick_holds(&s, pick, 10) && ASSERT_EQ(s.cap, 10 + 16);

	model_set_free(&s);
	/* Room for a few more is left. */
	ok = ok && pick_set(&s, 40) && ASSERT_EQ(s.cap, 64) &&
	     ASSERT_EQ(model_set_pick(&s, pick, 10), 0) &&
	     pick_holds(&s, pick, 10) && ASSERT_EQ(s.cap, 10 + 16);
	model_set_free(&s);
	/* An array with no more room than a pick leaves keeps its size. */
	ok = ok && pick_set(&s, 12) && ASSERT_EQ(s.cap, 16) &&
	     ASSERT_EQ(model_set_pick(&s, pick, 10), 0) &&
	     pick_holds(&s, pick, 10) && ASSERT_EQ(s.cap, 16);
	model_set_free(&s);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_pick_shuffled);
	TEST_RUN(test_pick_one_changed);
	TEST_RUN(test_pick_room);
	TEST_MAIN_END();
}
