// SPDX-License-Identifier: Apache-2.0
/*
 * The loop's deadlines: timers run in deadline order and only when due,
 * re-arming moves a timer either way, a cancelled one never runs, and a
 * callback may arm its own timer again.
 */
#include <stdlib.h>

#include "harness/test.h"
#include "../../agent/timer.h"

#define N 1000

struct tt {
	struct timer t;
	unsigned int runs;
	uint64_t ran_at;
};

static struct tt tts[N];
static uint64_t last_when;
static bool in_order;
static unsigned int ran;

static void tt_fn(struct timer *t, uint64_t now)
{
	struct tt *x = (struct tt *)t;

	x->runs++;
	x->ran_at = now;
	in_order = in_order && t->when >= last_when;
	last_when = t->when;
	ran++;
}

static bool test_order_and_cancel(void)
{
	struct timer_heap h = { 0 };
	unsigned int cancelled = 0, first;
	bool ok = true;

	srandom(7);
	for (int i = 0; i < N; i++) {
		timer_init(&tts[i].t, tt_fn);
		tts[i].runs = 0;
		ok = ok && ASSERT_EQ(timer_arm(&h, &tts[i].t,
					       1000 + (uint64_t)(random() % 100000)),
				     0);
	}
	/* Every third moves, half of them earlier, half later; every
	 * seventh goes. */
	for (int i = 0; i < N; i += 3)
		ok = ok && ASSERT_EQ(timer_arm(&h, &tts[i].t, i % 2 ? 500 + i :
					       200000 + i), 0);
	for (int i = 0; i < N; i += 7) {
		timer_cancel(&h, &tts[i].t);
		cancelled++;
	}
	timer_cancel(&h, &tts[0].t);	/* not armed: nothing */
	ok = ok && ASSERT_EQ(h.n, N - cancelled) &&
	     ASSERT_EQ(timer_next(&h), 503);
	in_order = true;
	last_when = 0;
	ran = 0;
	/* Nothing before its time. */
	ok = ok && ASSERT_EQ(timer_run(&h, 502), 0);
	first = timer_run(&h, 100999);
	ok = ok && ASSERT_EQ(first, ran) && ASSERT_TRUE(first > 0);
	ok = ok && ASSERT_EQ(first + timer_run(&h, UINT64_MAX - 1),
			     N - cancelled);
	ok = ok && ASSERT_TRUE(in_order) && ASSERT_EQ(h.n, 0) &&
	     ASSERT_EQ(timer_next(&h), UINT64_MAX);
	for (int i = 0; ok && i < N; i++) {
		ok = ASSERT_EQ(tts[i].runs, i % 7 ? 1 : 0) &&
		     ASSERT_TRUE(!timer_armed(&tts[i].t));
		if (ok && tts[i].runs && i % 3 == 0 && i % 2)
			ok = ASSERT_EQ(tts[i].ran_at, 100999);
	}
	timer_heap_fini(&h);
	return ok;
}

static struct timer_heap *again_heap;

static void again_fn(struct timer *t, uint64_t now)
{
	struct tt *x = (struct tt *)t;

	if (++x->runs < 3)
		(void)timer_arm(again_heap, t, now + 10);
}

static bool test_rearm_from_callback(void)
{
	struct timer_heap h = { 0 };
	struct tt x = { 0 };
	bool ok;

	again_heap = &h;
	timer_init(&x.t, again_fn);
	ok = ASSERT_EQ(timer_arm(&h, &x.t, 5), 0) &&
	     ASSERT_EQ(timer_run(&h, 5), 1) && ASSERT_TRUE(timer_armed(&x.t)) &&
	     ASSERT_EQ(timer_next(&h), 15) &&
	     ASSERT_EQ(timer_run(&h, 14), 0) &&
	     ASSERT_EQ(timer_run(&h, 15), 1) &&
	     ASSERT_EQ(timer_run(&h, 25), 1) && ASSERT_EQ(x.runs, 3) &&
	     ASSERT_TRUE(!timer_armed(&x.t)) && ASSERT_EQ(h.n, 0);
	timer_heap_fini(&h);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_order_and_cancel);
	TEST_RUN(test_rearm_from_callback);
	TEST_MAIN_END();
}
