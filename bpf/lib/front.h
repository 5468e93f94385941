/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The front door's records of rewritten connect()s by the client's
 * 4-tuple (mf_sock.bpf.c writes them): one definition for the front door's
 * programs and the fast path's, whose loader makes the latter's map the
 * former's (agent/sockfast.c, bpf_map__reuse_fd()).  Not pinned: it goes
 * with the agent.
 */
#ifndef MF_BPF_FRONT_H
#define MF_BPF_FRONT_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "meshforge/abi_sock.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MF_SOCK_MAX_PENDING);
	__type(key, struct mf_sock_tuple);
	__type(value, struct mf_sock_orig);
} mf_orig_dst SEC(".maps");

#endif /* MF_BPF_FRONT_H */
