/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asking the node's agent what it serves, through its admin endpoint
 * (GET /metrics on 127.0.0.1:15000 unless told otherwise).  For `mfctl
 * status`, which reports the epoch in force in the agent next to the one
 * in the kernel maps.
 */
#ifndef CTL_AGENTQ_H
#define CTL_AGENTQ_H

#include <stdbool.h>
#include <stdint.h>

struct agentq_info {
	bool has_epoch;
	uint64_t epoch;			/* meshforge_policy_epoch */
	char version[32];		/* meshforge_build_info{version=...}, "" */
};

/*
 * Fetches http://@addr/metrics (@addr "IPv4:port") with a @timeout_ms
 * bound on the whole exchange and reads the policy epoch and the agent's
 * version from it.  Returns 0, or -errno (-ECONNREFUSED: nothing listens,
 * -ETIMEDOUT, -EPROTO: not an answer we understand, -EINVAL: bad @addr).
 */
int agentq_fetch(const char *addr, int timeout_ms, struct agentq_info *out);

#endif /* CTL_AGENTQ_H */
