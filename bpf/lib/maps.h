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
#include "meshforge/policy_maps.h"

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

/* Per-CPU counters, enum mf_stat. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MF_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_stats SEC(".maps");

/*
 * The policy hashes (include/meshforge/policy_maps.h) hold two halves
 * (abi.h, "Two halves"): the one in force and the one an apply stages, so
 * each has room for twice the per-half capacity mfctl's compile enforces.
 * The large ones are BPF_F_NO_PREALLOC: preallocated at their capacities
 * they would pin ~100 MiB whatever the policy; this way memory follows the
 * entries.  Lookups stay lock-free; only updates (mfctl, rare) pay the
 * allocation.
 */
#define MF_CORE_MAP(ID, map, ktype, vtype, max, flags)			\
	struct {							\
		__uint(type, BPF_MAP_TYPE_HASH);			\
		__uint(max_entries, 2 * (max));				\
		__uint(map_flags, flags);				\
		__type(key, ktype);					\
		__type(value, vtype);					\
		__uint(pinning, LIBBPF_PIN_BY_NAME);			\
	} map SEC(".maps");
#define MF_KIND_MAP(ID, map, vtype, max, desc)				\
	MF_CORE_MAP(ID, map, struct mf_pol_key, vtype, max, BPF_F_NO_PREALLOC)

MF_POLICY_MAPS(MF_CORE_MAP, MF_KIND_MAP)

#endif /* MF_BPF_MAPS_H */
