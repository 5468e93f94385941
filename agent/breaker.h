/* SPDX-License-Identifier: Apache-2.0 */
/*
 * breaker: MeshCircuitBreaker's connectionLimits, per destination service
 * and per loop: what is open towards a service now, against its limits.
 * Past a limit the request is answered 503 at once (or the connection
 * refused, or the retry not made) rather than queued: the service gets no
 * more load than it was given room for, and the client learns it at once.
 *
 *   maxConnections   connections open to the service (an outbound TCP
 *                    connection, or an HTTP client connection while it
 *                    lives)
 *   maxRequests      tries in flight to the service
 *   maxRetries       retries in flight to the service
 *   maxPendingRequests  requests waiting for an upstream connection (its
 *                    connect and handshake)
 *   maxConnectionPools  pools of upstream connections of the service: its
 *                    connections to one endpoint for one source identity
 *                    (the agent's pool key), open or parked.  A request
 *                    that would need one more gets 503; one that an
 *                    existing pool takes does not count
 *
 * Counts live in a bounded table keyed by the service (BREAKER_SLOTS;
 * an entry whose counts are all 0 may be reused).  One loop thread uses a
 * table: no lock.
 */
#ifndef MF_AGENT_BREAKER_H
#define MF_AGENT_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

#define BREAKER_SLOTS	1024	/* a power of 2 */
#define BREAKER_PROBE	16

enum breaker_kind {
	BREAKER_CONNS = 0,
	BREAKER_REQUESTS,
	BREAKER_RETRIES,
	BREAKER_PENDING,
	BREAKER_POOLS,
	BREAKER_KINDS,
};

#define BREAKER_POOL_SLOTS	4096	/* a power of 2 */

/* One pool: how many up ends it has now. */
struct breaker_pool {
	uint64_t tag;			/* breaker_pool_tag(), 0: free */
	uint64_t service;
	uint32_t ends;			/* 0: reusable */
};

struct breaker_load {
	uint64_t key;			/* the service's, 0: free */
	uint32_t n[BREAKER_KINDS];
};

struct breaker {
	struct breaker_load e[BREAKER_SLOTS];
	struct breaker_pool pool[BREAKER_POOL_SLOTS];
	uint32_t loops;		/* the agent's loops: each holds to its share
				 * of a limit (loopshare.h); 0: all */
};

/* One more of @kind to service @key, when under @limit (0: none): true,
 * counted; false when it is not.  (A table too full to count it holds no
 * limit: true.) */
bool breaker_take(struct breaker *b, uint64_t key, enum breaker_kind kind,
		  uint32_t limit);

/* One fewer of @kind to service @key. */
void breaker_put(struct breaker *b, uint64_t key, enum breaker_kind kind);

/* The tag of the pool of service @service's up ends to endpoint @host
 * (hosts_key()) for source identity @src; never 0. */
uint64_t breaker_pool_tag(uint64_t service, uint64_t host, const char *src);

/* An up end of pool @tag of service @service opens: true, counted; false
 * when the pool has none yet and one more pool of the service would pass
 * @limit (0: none).  (A table too full to count it holds no limit.) */
bool breaker_pool_open(struct breaker *b, uint64_t tag, uint64_t service,
		       uint32_t limit);

/* An up end of pool @tag closed: the pool goes with its last one. */
void breaker_pool_close(struct breaker *b, uint64_t tag);

#endif /* MF_AGENT_BREAKER_H */
