/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the pods' TC programs remember of traffic, beside the policy: the
 * flows pods opened (mf_pod_flows), the plaintext towards pods that
 * nothing admitted (mf_plaintext) and the connection-rate buckets
 * (mf_conn_buckets), and the pods of IPv6 connections handed to the agent
 * for a MeshPassthrough Domain match (mf_pt6_clients);
 * include/meshforge/abi.h says what each holds.  mf_pod_src, a cache of
 * the program's own, is not pinned.  The others are pinned by name beside
 * the policy maps, so `bpftool map dump` and mfctl read them, and an
 * agent's restart keeps them.  All are LRU: a flood of distinct flows
 * evicts the oldest, it never fills them.
 */
#ifndef MF_BPF_FLOWS_H
#define MF_BPF_FLOWS_H

#include "lib/maps.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MF_POD_FLOWS_MAX);
	__type(key, struct mf_flow_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_pod_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, MF_PLAINTEXT_MAX);
	__type(key, struct mf_plain_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_plaintext SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MF_CONN_BUCKETS_MAX);
	__type(key, struct mf_conn_bucket_key);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_conn_buckets SEC(".maps");

/* abi.h mf_pt6_clients: the pod of each IPv6 connection steered to the
 * agent for a MeshPassthrough Domain match, until the agent takes it.
 * Pinned, so an agent that takes over the listeners finds what its
 * predecessor's programs wrote. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MF_PT6_CLIENTS_MAX);
	__type(key, struct mf_pt6_key);
	__type(value, struct mf_pt6_client);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_pt6_clients SEC(".maps");

/* The source address each pod veth (by ifindex) was last found to route
 * back through, and when (jiffies): the FIB is asked again after
 * POD_SRC_RECHECK_JIFFIES, not for every packet. */
struct pod_src {
	__u32 addr;
	__u64 checked;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct pod_src);
} mf_pod_src SEC(".maps");

#endif /* MF_BPF_FLOWS_H */
