/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rbudget: the retry budget of one loop, per destination service.  Retries
 * help when failures are rare and make a storm worse when they are not:
 * during a burst of failures every request would turn into 1 + numRetries
 * upstream tries.  So, as Linkerd does, retries over the last
 * RBUDGET_WINDOW_S seconds may be at most @ratio of the requests over
 * those seconds, plus @min_per_s a second (so a quiet service still gets
 * its few retries).  A retry the budget refuses is not made: the failed
 * try's answer goes to the client.
 *
 * Counts are kept per second in a ring of RBUDGET_WINDOW_S buckets, in a
 * bounded table (RBUDGET_SLOTS, the least recently used of a probe window
 * evicted).  One loop thread uses a table: no lock.
 */
#ifndef MF_AGENT_RBUDGET_H
#define MF_AGENT_RBUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define RBUDGET_WINDOW_S	10
#define RBUDGET_SLOTS		1024	/* a power of 2 */
#define RBUDGET_PROBE		8
/* Linkerd's defaults. */
#define RBUDGET_DEFAULT_RATIO_MILLI	200	/* 0.2 */
#define RBUDGET_DEFAULT_MIN_PER_S	10

struct rbudget_ent {
	uint64_t key;			/* 0: free */
	uint64_t sec;			/* the newest second counted */
	uint32_t req[RBUDGET_WINDOW_S], retry[RBUDGET_WINDOW_S];
};

struct rbudget {
	uint32_t ratio_milli;		/* retries per 1000 requests */
	uint32_t min_per_s;
	struct rbudget_ent e[RBUDGET_SLOTS];
};

void rbudget_init(struct rbudget *b, uint32_t ratio_milli,
		  uint32_t min_per_s);

/* A request (its first try) to the service of @key at @now (ns). */
void rbudget_request(struct rbudget *b, uint64_t key, uint64_t now);

/* Whether a retry to the service of @key may go at @now: true, and it is
 * counted, when the budget has room. */
bool rbudget_retry(struct rbudget *b, uint64_t key, uint64_t now);

#endif /* MF_AGENT_RBUDGET_H */
