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
	BREAKER_KINDS,
};

struct breaker_load {
	uint64_t key;			/* the service's, 0: free */
	uint32_t n[BREAKER_KINDS];
};

struct breaker {
	struct breaker_load e[BREAKER_SLOTS];
};

/* One more of @kind to service @key, when under @limit (0: none): true,
 * counted; false when it is not.  (A table too full to count it holds no
 * limit: true.) */
bool breaker_take(struct breaker *b, uint64_t key, enum breaker_kind kind,
		  uint32_t limit);

/* One fewer of @kind to service @key. */
void breaker_put(struct breaker *b, uint64_t key, enum breaker_kind kind);

#endif /* MF_AGENT_BREAKER_H */
