/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned maps of the node-local policy map.  Every BPF object that
 * includes this file shares the same pinned instances: libbpf reuses a map
 * already pinned under the pin root, or creates and pins it.
 */
#ifndef MF_BPF_MAPS_H
#define MF_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "meshforge/abi.h"

/* Applied policy: epoch, mesh and trust domain.  Mmapable so the agent reads
 * the epoch without a syscall. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct mf_config);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_config SEC(".maps");

/*
 * The policy hashes below hold two halves (abi.h, "Two halves"): the one
 * in force and the one an apply stages, so each has room for twice the
 * per-half capacity MF_MAX_* that mfctl's compile enforces.
 */

/* Service VIP:port:proto -> service; the interception decision.  Not
 * preallocated either: lookups cost the same, and two preallocated halves
 * would hold ~5 MiB whatever the policy. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MF_MAX_SERVICES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mf_service_key);
	__type(value, struct mf_service);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_services SEC(".maps");

/* Workload IP -> workload (service, identity, node).  The three large
 * hashes are BPF_F_NO_PREALLOC: preallocated at their capacities they would
 * pin ~100 MiB whatever the policy; this way memory follows the entries.
 * Lookups stay lock-free; only updates (mfctl, rare) pay the allocation. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MF_MAX_ENDPOINTS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mf_endpoint_key);
	__type(value, struct mf_endpoint);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_endpoints SEC(".maps");

/* Node name -> agent tunnel address. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MF_MAX_NODES);
	__type(key, struct mf_node_key);
	__type(value, struct mf_node);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_nodes SEC(".maps");

/* Identity id -> SPIFFE ID. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MF_MAX_IDENTITIES);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mf_identity_key);
	__type(value, struct mf_identity);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_identities SEC(".maps");

/* (destination service, rule index) -> compiled permission rule. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MF_MAX_AUTHZ);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mf_authz_key);
	__type(value, struct mf_authz_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_authz SEC(".maps");

/* Per-CPU counters, enum mf_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MF_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_stats SEC(".maps");

/* Interned tag sets (struct mf_tagset_key: half, content-hash id). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * MF_MAX_TAGSETS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mf_tagset_key);
	__type(value, struct mf_tagset);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_tagsets SEC(".maps");

/* The policy kinds of abi_policy.h: one hash per kind, room for two
 * halves (the one in force and the one an apply stages). */
#define MF_POLICY_MAP(map, val, max)					\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 2 * (max));				\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, struct mf_pol_key);				\
		__type(value, val);					\
		__uint(pinning, LIBBPF_PIN_BY_NAME);			\
	} map SEC(".maps")

MF_POLICY_MAP(mf_timeouts, struct mf_timeout, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_retries, struct mf_retry, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_breakers, struct mf_breaker, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_healthchecks, struct mf_healthcheck, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_lbstrategies, struct mf_lbstrategy, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_faults, struct mf_fault, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_accesslogs, struct mf_accesslog, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_traces, struct mf_trace, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_metrics, struct mf_metric, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_ratelimits, struct mf_ratelimit, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_http_routes, struct mf_http_route, MF_MAX_ROUTE_RECORDS);
MF_POLICY_MAP(mf_tcp_routes, struct mf_tcp_route, MF_MAX_ROUTE_RECORDS);
MF_POLICY_MAP(mf_traffic_routes, struct mf_traffic_route, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_legacy_ratelimits, struct mf_legacy_ratelimit, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_gateways, struct mf_gateway, MF_MAX_POLICY_RECORDS);
MF_POLICY_MAP(mf_gateway_routes, struct mf_gateway_route, MF_MAX_POLICY_RECORDS);

#endif /* MF_BPF_MAPS_H */
