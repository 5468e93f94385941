/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between bpf/mf_sock.bpf.c and the agent (agent/frontdoor.c):
 * the socket-level programs' maps.  These maps are the agent's runtime
 * state, not policy: they are created by the agent that loads mf_sock,
 * never pinned, and go with it (with the cgroup links that use them).
 *
 * Conventions as abi.h: IPv4 addresses in network order, ports in host
 * order.
 */
#ifndef MESHFORGE_ABI_SOCK_H
#define MESHFORGE_ABI_SOCK_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Workload cgroups the agent may be given (--workload-cgroup). */
#define MF_SOCK_MAX_WORKLOADS	256
/* How deep under the cgroup2 root a workload cgroup (or a process in a
 * cgroup below it) may sit: the connect hook walks the caller's ancestors
 * up to this level to find the workload cgroup it belongs to. */
#define MF_SOCK_CG_LEVELS	16
/* Connections whose original destination waits: by cookie between
 * connect() and establishment, by 4-tuple until the agent accepts.  LRU:
 * an entry whose connection never completes (refused, the agent gone)
 * is aged out rather than filling the map. */
#define MF_SOCK_MAX_PENDING	65536

/* A TCP connection as its client sees it. */
struct mf_sock_tuple {
	__u8 local_ip[4];
	__u8 remote_ip[4];
	__u16 local_port;
	__u16 remote_port;
};

/* What connect(VIP:port) asked for, from a workload cgroup. */
struct mf_sock_orig {
	__u8 ip[4];			/* the service VIP */
	__u16 port;
	__u16 _pad;
	__u32 workload;			/* index of --workload-cgroup */
	__u32 _pad2;
	__u64 cgroup_id;		/* the caller's own cgroup */
};

/* Counters of the socket programs (per-CPU array mf_sock_stats). */
enum mf_sock_stat {
	MF_SOCK_STAT_REWRITTEN = 0,	/* connect() sent to the agent */
	MF_SOCK_STAT_NOT_SERVICE,	/* a workload's connect() elsewhere */
	MF_SOCK_STAT_COOKIE_FULL,	/* no room to record: not rewritten */
	MF_SOCK_STAT_TUPLE_MOVED,	/* recorded by 4-tuple at establish */
	MF_SOCK_STAT_TUPLE_FULL,	/* no room by 4-tuple */
	MF_SOCK_STAT_MAX,
};

#endif /* MESHFORGE_ABI_SOCK_H */
