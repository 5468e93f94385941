/* SPDX-License-Identifier: Apache-2.0 */
/*
 * loopshare: a node-wide limit split over the agent's loops (workers.h).
 *
 * Rate-limit buckets, circuit-breaker counts and admission caps are kept
 * by each loop for its own connections, with no lock or shared cache line
 * on the request path.  So that the node as a whole still holds to what
 * policy says, each loop enforces its share: the limit divided by the
 * number of loops, rounded up (at most loops - 1 more than the limit over
 * the node, never 0 where the limit is not).  The kernel spreads
 * connections over the loops by 4-tuple hash, so a loop's share is
 * reached when the node's traffic is spread evenly; a single connection,
 * which stays on one loop, meets its loop's share first (docs/agent.md).
 */
#ifndef MF_LOOPSHARE_H
#define MF_LOOPSHARE_H

#include <stdint.h>

/* Loop's share of @limit (0: none) over @loops loops (0 or 1: all). */
static inline uint32_t loopshare(uint32_t limit, uint32_t loops)
{
	if (loops <= 1 || !limit)
		return limit;
	return (uint32_t)(((uint64_t)limit + loops - 1) / loops);
}

#endif /* MF_LOOPSHARE_H */
