/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asking the node's agent what it serves, through its admin endpoint
 * (GET /metrics on AGENTQ_ADMIN unless told otherwise).  For `mfctl
 * status`, which reports the epoch in force in the agent next to the one
 * in the kernel maps, and for the writers' --wait.
 */
#ifndef CTL_AGENTQ_H
#define CTL_AGENTQ_H

#include <stdbool.h>
#include <stdint.h>

/* The agent's admin endpoint when --admin does not name one. */
#define AGENTQ_ADMIN "127.0.0.1:15000"

struct agentq_info {
	bool has_epoch;
	uint64_t epoch;			/* meshforge_policy_epoch */
	char version[32];		/* meshforge_build_info{version=...}, "" */
};

/* 0 when @addr is "IPv4:port", else -EINVAL. */
int agentq_addr_check(const char *addr);

/*
 * Fetches http://@addr/metrics (@addr "IPv4:port") with a @timeout_ms
 * bound on the whole exchange and reads the policy epoch and the agent's
 * version from it.  Returns 0, or -errno (-ECONNREFUSED: nothing listens,
 * -ETIMEDOUT, -EPROTO: not an answer we understand, -EINVAL: bad @addr).
 */
int agentq_fetch(const char *addr, int timeout_ms, struct agentq_info *out);

/*
 * Asks the agent at @addr until it serves policy @epoch or a later one, for
 * at most @timeout_ms.  Returns 0, -EINVAL (bad @addr), or -ETIMEDOUT
 * (with *@last the last epoch it served, 0 when it never answered).
 */
int agentq_wait_epoch(const char *addr, uint64_t epoch, int timeout_ms,
		      uint64_t *last);

#endif /* CTL_AGENTQ_H */
