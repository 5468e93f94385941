// SPDX-License-Identifier: Apache-2.0
/*
 * The deadlines of one loop (timer.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "timer.h"

uint64_t timer_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* This thread's turn clock; 0 outside a turn. */
static __thread uint64_t timer_turn_ns;

uint64_t timer_turn_now(void)
{
	return timer_turn_ns ? timer_turn_ns : timer_now();
}

void timer_turn_begin(uint64_t now)
{
	timer_turn_ns = now;
}

void timer_turn_end(void)
{
	timer_turn_ns = 0;
}

static void timer_put(struct timer_heap *h, uint32_t i, struct timer *t)
{
	h->v[i] = t;
	t->pos = i + 1;
}

/* Moves the timer at @i toward the root while it is due before its
 * parent. */
static void timer_up(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (h->v[parent]->when <= t->when)
			break;
		timer_put(h, i, h->v[parent]);
		i = parent;
	}
	timer_put(h, i, t);
}

/* Moves the timer at @i toward the leaves while a child is due before
 * it. */
static void timer_down(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->when < h->v[c]->when)
			c++;
		if (t->when <= h->v[c]->when)
			break;
		timer_put(h, i, h->v[c]);
		i = c;
	}
	timer_put(h, i, t);
}

int timer_arm(struct timer_heap *h, struct timer *t, uint64_t when)
{
	struct timer **v;
	uint32_t i;

	if (t->pos) {
		i = t->pos - 1;
		t->when = when;
		timer_up(h, i);
		timer_down(h, t->pos - 1);
		return 0;
	}
	if (h->n == h->cap) {
		uint32_t cap = h->cap ? h->cap * 2 : 64;

		v = realloc(h->v, (size_t)cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	t->when = when;
	timer_put(h, h->n++, t);
	timer_up(h, h->n - 1);
	return 0;
}

void timer_cancel(struct timer_heap *h, struct timer *t)
{
	uint32_t i;
	struct timer *last;

	if (!t->pos)
		return;
	i = t->pos - 1;
	t->pos = 0;
	last = h->v[--h->n];
	if (i == h->n)
		return;
	/* The last timer fills the hole, then finds its place either
	 * way. */
	timer_put(h, i, last);
	timer_up(h, i);
	timer_down(h, last->pos - 1);
}

unsigned int timer_run(struct timer_heap *h, uint64_t now)
{
	unsigned int ran = 0;

	while (h->n && h->v[0]->when <= now) {
		struct timer *t = h->v[0];

		timer_cancel(h, t);
		t->fn(t, now);
		ran++;
	}
	return ran;
}

void timer_heap_fini(struct timer_heap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->v[i]->pos = 0;
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
