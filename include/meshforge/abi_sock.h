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

/* ---- the same-node fast path (bpf/mf_fast.bpf.c, agent/sockfast.h) ---- */

/* Sockets on mesh paths the SOCKHASH holds at most (a load-time
 * setting: tests make it small to fill it). */
#define MF_FAST_MAX_SOCKETS	65536
/* Verdicts cached for (source, service) pairs. */
#define MF_FAST_MAX_VERDICTS	65536
/* A source that is no pod's identity id: the self-test's connections. */
#define MF_FAST_SRC_PROBE	0xffffffffu
/* The pair of the agent's own connection to a pod of its node, both ends:
 * only the pod's answers move (into the agent's socket), by no verdict,
 * as the agent authorized the connection before it opened it. */
#define MF_FAST_SRC_UPSTREAM	0xfffffffeu
/* The source of a front door connection: the identity of --workload-cgroup
 * number @i (< MF_SOCK_MAX_WORKLOADS), above every identity id. */
#define MF_FAST_SRC_FRONT(i)	(0xfffe0000u + (__u32)(i))

/* Which pair a connection's bytes are judged by. */
struct mf_fast_vkey {
	__u32 service_id;		/* mf_service.id; 0: the self-test */
	__u32 src;			/* the source pod's identity_id, or
					 * MF_FAST_SRC_PROBE */
};

/* The agent's decision for a pair, as its authorization gave it, valid
 * for one policy epoch. */
struct mf_fast_verdict {
	__u64 epoch;			/* mf_config.epoch it was made under */
	__u8 action;			/* enum mf_authz_action */
	__u8 _pad[7];
};

/* What a mesh-path socket is, in its socket storage. */
enum mf_fast_state {
	MF_FAST_UNDECIDED = 0,		/* nothing sent yet */
	MF_FAST_REDIRECT = 1,		/* every send goes to the peer socket */
	MF_FAST_TCP = 2,		/* every send takes the TCP path */
};

struct mf_fast_sock {
	struct mf_fast_vkey pair;
	__u8 state;			/* enum mf_fast_state */
	__u8 agent;			/* the agent's own end: never a
					 * redirect target's sender */
	__u8 _pad[6];
};

/* The fast path's counters (per-CPU array mf_fast_stats). */
enum mf_fast_stat {
	MF_FAST_STAT_INSERTED = 0,	/* sockets put in the SOCKHASH */
	MF_FAST_STAT_FULL,		/* not put: map full or busy */
	MF_FAST_STAT_ALLOW_MSGS,	/* sends redirected (verdict allow) */
	MF_FAST_STAT_ALLOW_BYTES,
	MF_FAST_STAT_DENY_MSGS,		/* sends of denied pairs: TCP path */
	MF_FAST_STAT_DENY_BYTES,
	MF_FAST_STAT_UNKNOWN_MSGS,	/* no verdict yet, or no peer: TCP */
	MF_FAST_STAT_UNKNOWN_BYTES,
	MF_FAST_STAT_AGENT_MSGS,	/* sends of the agent's own ends: TCP */
	MF_FAST_STAT_AGENT_BYTES,
	MF_FAST_STAT_UPSTREAM_MSGS,	/* a pod's sends moved into the agent's
					 * connection to it */
	MF_FAST_STAT_UPSTREAM_BYTES,
	MF_FAST_STAT_MAX,
};

#endif /* MESHFORGE_ABI_SOCK_H */
