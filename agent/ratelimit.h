/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratelimit: HTTP request rates, checked by the source agent for each
 * request before anything goes upstream.
 *
 * The limit of a connection is found once, when it is accepted (its source
 * and destination are fixed): Kuma's RateLimit (conf.http: requests per
 * interval, onRateLimit status and headers), the one whose sources and
 * destinations match best (sel_legacy_best()); else MeshRateLimit's
 * local.http (requestRate, onRateLimit) in force for the destination
 * service as the proxy, from `from` entries for any source, then a
 * `rules` list's, which wins.  A RateLimit whose sources name more than
 * `kuma.io/service: '*'` counts each source identity apart; otherwise a
 * limit counts the destination service's requests from this node.
 *
 * A limit is a token bucket as Envoy's local rate limit keeps it for Kuma:
 * `requests` tokens, all of them back every `interval` (so the seed's 100
 * per 10 s refuses the 101st request of a burst until the 10 s are up).
 * The buckets live in a bounded table per agent loop (RL_TABLE_SIZE; a
 * full probe window evicts its least recently used), keyed by a hash of
 * the policy, the service, the source when counted apart, and the rate,
 * so a changed rate starts a new bucket.  One loop thread uses a table:
 * no lock, no atomics.  A request over its limit is answered with the configured
 * status (429 by default), `retry-after`, `x-ratelimit-limit`,
 * `x-ratelimit-remaining: 0`, `x-ratelimit-reset` and the configured
 * headers.
 */
#ifndef MF_AGENT_RATELIMIT_H
#define MF_AGENT_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "policy.h"

#define RL_TABLE_SIZE	4096	/* a power of 2 */
#define RL_PROBE	8

struct rl_bucket {
	uint64_t key;		/* 0: free */
	uint64_t tokens;	/* left until the next fill */
	uint64_t fill;		/* when they are all back (CLOCK_MONOTONIC
				 * ns) */
	uint64_t used;		/* last use, for eviction */
};

struct rl_table {
	struct rl_bucket b[RL_TABLE_SIZE];
	uint32_t loops;		/* the agent's loops: each takes its share
				 * of a limit (loopshare.h); 0: all */
};

/* The limit of a connection (ratelimit_find()): it points into the
 * snapshot, which the connection holds. */
struct rl_limit {
	const char *policy;		/* its name */
	uint32_t requests;
	uint32_t interval_ms;
	uint32_t status;		/* 429 when the policy says none */
	bool per_source;
	/* The policy's onRateLimit headers: one of these, NULL: none. */
	const struct mf_rl_on_limit *legacy;	/* RateLimit */
	const struct mf_header_mod *mod;	/* MeshRateLimit */
	uint64_t key;			/* the bucket's, source included */
};

/* The limit of traffic from endpoint @src (with identity @src_id) to
 * service @dst into @l: true when there is one. */
bool ratelimit_find(const struct policy *p, const struct mf_endpoint *src,
		    const char *src_id, const struct mf_service *dst,
		    struct rl_limit *l);

/* One request against limit @l at @now (CLOCK_MONOTONIC ns): true when it
 * may go; else false and, into *retry_ms, when the next one may. */
bool ratelimit_take(struct rl_table *t, const struct rl_limit *l,
		    uint64_t now, uint64_t *retry_ms);

/* The header lines (CRLF after each) of the answer to a request over @l,
 * into a new string (the caller frees it), NULL on ENOMEM. */
char *ratelimit_headers(const struct policy *p, const struct rl_limit *l,
			uint64_t retry_ms);

#endif /* MF_AGENT_RATELIMIT_H */
