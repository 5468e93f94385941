/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timer: the deadlines of one loop (a request's timeout, a retry's back
 * off, a health check's next probe), as a binary min-heap of timers that
 * their owners embed.
 *
 * A timer knows its place in the heap, so arming it again, or cancelling
 * it, is O(log n) with no search and no allocation; an owner that goes
 * cancels its timers first (timer_cancel() of a timer that is not armed
 * does nothing).  The loop sleeps no longer than until the earliest
 * deadline (timer_next()) and then runs what is due (timer_run()): a
 * deadline needs no io_uring op of its own, so none is ever in flight for
 * one and nothing has to be cancelled in the kernel when it goes.
 *
 * Times are CLOCK_MONOTONIC nanoseconds.  One thread uses a heap.
 */
#ifndef MF_AGENT_TIMER_H
#define MF_AGENT_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer;

/* What runs when @t is due, at @now; @t is no longer armed then, and the
 * callback may arm it again. */
typedef void timer_fn(struct timer *t, uint64_t now);

struct timer {
	uint64_t when;		/* its deadline, while armed */
	uint32_t pos;		/* 1 + its index in the heap, 0: not armed */
	timer_fn *fn;
};

struct timer_heap {
	struct timer **v;	/* v[0] is the earliest.  Owned (not the
				 * timers) */
	uint32_t n, cap;
};

/* A timer that runs @fn, not armed. */
static inline void timer_init(struct timer *t, timer_fn *fn)
{
	t->when = 0;
	t->pos = 0;
	t->fn = fn;
}

static inline bool timer_armed(const struct timer *t)
{
	return t->pos != 0;
}

/* Arms @t (again, if it is) for @when.  Returns 0 or -ENOMEM (the heap
 * could not grow; @t is then not armed). */
int timer_arm(struct timer_heap *h, struct timer *t, uint64_t when);

/* Disarms @t if it is armed. */
void timer_cancel(struct timer_heap *h, struct timer *t);

/* The earliest deadline, UINT64_MAX when nothing is armed. */
static inline uint64_t timer_next(const struct timer_heap *h)
{
	return h->n ? h->v[0]->when : UINT64_MAX;
}

/* Runs every timer due at @now, earliest first.  A callback that arms
 * its timer again for @now or before would run again in this call: it
 * arms it for later.  Returns how many ran. */
unsigned int timer_run(struct timer_heap *h, uint64_t now);

/* Frees the heap's array; the timers still armed are forgotten (their
 * owners are going too). */
void timer_heap_fini(struct timer_heap *h);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t timer_now(void);

/* The turn's clock: the time this thread's loop woke at, for the stamps
 * a request takes many of (its start and end, its input deadline), so
 * that a turn reads the clock once however many requests it moves.  A
 * turn lasts microseconds, so a stamp is early by at most that.  Outside
 * a turn (timer_turn_begin() .. timer_turn_end()) it is timer_now(). */
uint64_t timer_turn_now(void);

/* The calling thread's loop woke at @now, and ... is done with the turn. */
void timer_turn_begin(uint64_t now);
void timer_turn_end(void);

#endif /* MF_AGENT_TIMER_H */
