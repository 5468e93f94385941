/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stallhist: a histogram of how long a loop held its thread, in fixed
 * buckets from 10 us to 100 ms.  A leaf header: the loop fills two per
 * ring (loop_stats), admin prints them.
 *
 * The bounds are for the loop, not for requests (l7stats has those, from
 * 0.5 ms to 5 s): a turn normally takes microseconds, and what matters is
 * how often one takes the milliseconds that show up in every other
 * connection's tail.  Counts only, no sum of squares: one add and one
 * compare chain per sample, written by the loop's thread alone and read,
 * a word at a time, by the one that renders /metrics.
 */
#ifndef MF_STALLHIST_H
#define MF_STALLHIST_H

#include <stdint.h>

#define STALLHIST_BUCKETS	13	/* the last one is +Inf */

/* Upper bounds in ns of every bucket but the last (+Inf).  A
 * function-local table, so the header defines no object of its own. */
static inline const uint64_t *stallhist_bounds(void)
{
	static const uint64_t b[STALLHIST_BUCKETS - 1] = {
		10000, 25000, 50000, 100000, 250000, 500000, 1000000,
		2500000, 5000000, 10000000, 25000000, 100000000,
	};

	return b;
}

struct stallhist {
	uint64_t buckets[STALLHIST_BUCKETS];	/* not cumulative */
	uint64_t count;
	uint64_t sum_ns;
};

static inline void stallhist_add(struct stallhist *h, uint64_t ns)
{
	const uint64_t *b = stallhist_bounds();
	unsigned int i = 0;

	while (i < STALLHIST_BUCKETS - 1 && ns > b[i])
		i++;
	h->buckets[i]++;
	h->count++;
	h->sum_ns += ns;
}

#endif /* MF_STALLHIST_H */
