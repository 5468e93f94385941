/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The same-node fast path (bpf/mf_fast.bpf.c): sockops puts the local ends
 * of mesh paths (a pod's socket to a service, the agent's socket that
 * accepted it) into a SOCKHASH, and sk_msg moves a pod's payloads straight
 * into the agent's socket when the agent's verdict for (service, source
 * identity) is Allow.  The agent reads them as it reads anything else.
 *
 *   meshforge-agent --sockmap on|off|auto [--sockmap-cgroup PATH]
 *
 * The programs go on a cgroup v2 that holds the pods and the agent (the
 * hierarchy's root by default: /sys/fs/cgroup when it is cgroup2, else
 * /run/meshforge/cgroup).  At start a self-test moves 256 KiB over a
 * loopback connection of the agent's own through the fast path and checks
 * what arrives and what the counters say; `auto` turns the fast path off
 * when it fails, `on` stops the agent.  Its result is logged
 * (event=sockmap_selftest) and in /metrics.
 *
 * The links and maps belong to the struct sockfast and go with it; a
 * connection whose socket is in the SOCKHASH keeps working when they go
 * (the kernel removes the programs from it).
 */
#ifndef MF_SOCKFAST_H
#define MF_SOCKFAST_H

#include <stdbool.h>
#include <stdint.h>

enum sockfast_mode {
	SOCKFAST_OFF = 0,
	SOCKFAST_ON = 1,	/* a failed self-test stops the start */
	SOCKFAST_AUTO = 2,	/* a failed self-test turns it off */
};

struct sockfast;

struct sockfast_config {
	const char *pin_root;	/* the policy maps (mf_services...) */
	const char *cgroup;	/* where sockops goes; NULL: the root */
	uint32_t node_ip;	/* this node's address, network order;
				 * 0: any node's pods (tests) */
	bool any_netns;		/* agent ends in any network namespace
				 * (tests); else the caller's only */
	uint32_t max_sockets;	/* 0: MF_FAST_MAX_SOCKETS */
	/* The front door's records (frontdoor_orig_fd()) and the port its
	 * connections reach the agent on: their first hop moves too.  0:
	 * no front door (fd 0 is never a map of ours). */
	int front_orig_fd;
	uint16_t front_port;
};

/* "on", "off", "auto" into *@m; -EINVAL for anything else. */
int sockfast_mode_parse(const char *s, enum sockfast_mode *m);
const char *sockfast_mode_str(enum sockfast_mode m);

/*
 * Loads and attaches the fast path as @cfg says.  Returns 0 and *out
 * (the caller ends it with sockfast_close()), or -errno, logged
 * (-ENOTSUP: the kernel lacks what it needs).
 */
int sockfast_open(struct sockfast **out, const struct sockfast_config *cfg);

/*
 * Moves @bytes over a loopback connection of the caller's through the
 * fast path: 0 when they arrived intact and the counters saw them moved,
 * -EPROTO when they arrived by TCP (the caller is not in the cgroup, or
 * the kernel moved nothing), another -errno when the test itself failed.
 */
int sockfast_selftest(struct sockfast *sf, size_t bytes);

/*
 * The agent's verdict @action (enum mf_authz_action) for connections of
 * source identity @src_identity_id to service @service_id, under policy
 * @epoch.  Returns 0 or -errno (a full cache: those take the TCP path).
 */
int sockfast_verdict(struct sockfast *sf, uint32_t service_id,
		     uint32_t src_identity_id, uint8_t action, uint64_t epoch);

/* The counters (enum mf_fast_stat, MF_FAST_STAT_MAX of them), summed
 * over the CPUs; 0 or -errno. */
int sockfast_stats(const struct sockfast *sf, uint64_t *out);
/* The counter's name for /metrics ("allow_bytes"). */
const char *sockfast_stat_name(int stat);
/* How many sockets the SOCKHASH holds now (walks it). */
long sockfast_sockets(const struct sockfast *sf);

/* What the self-test said: "pass", "fail", "not_run". */
const char *sockfast_selftest_str(const struct sockfast *sf);

/* Detaches, unloads and frees.  NULL is a no-op. */
void sockfast_close(struct sockfast *sf);

#endif /* MF_SOCKFAST_H */
