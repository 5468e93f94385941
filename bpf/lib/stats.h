/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Counters: one per-CPU slot per enum mf_stat in the pinned mf_stats map.
 * Per-CPU, so a plain increment is exact without atomics; readers sum the
 * CPUs.
 */
#ifndef MF_BPF_STATS_H
#define MF_BPF_STATS_H

#include "lib/maps.h"

static __always_inline void stats_inc(enum mf_stat stat)
{
	__u32 key = stat;
	__u64 *val;

	val = bpf_map_lookup_elem(&mf_stats, &key);
	/* NULL only for an index outside the map, which a stat cannot be;
	 * the check is for the verifier. */
	if (val)
		*val += 1;
}

#endif /* MF_BPF_STATS_H */
