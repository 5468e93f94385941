/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Rate limits in the kernel: one token bucket per key, lock-free.
 *
 * A bucket of rate r per second and burst b is kept as GCRA (the generic
 * cell rate algorithm), which is that token bucket written as one 64-bit
 * number, its theoretical arrival time (TAT): a cell every T = 1/r ns
 * keeps TAT where the clock is; a burst pushes it ahead, up to
 * tau = (b - 1) * T; a cell that would push it further is over the rate.
 * One number means one compare-and-swap per cell, from any CPU, on
 * bpf_ktime_get_ns(): no lock, no per-CPU split of the rate.
 */
#ifndef MF_BPF_BUCKET_H
#define MF_BPF_BUCKET_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* Attempts at the swap before a cell is let through anyway: a bucket that
 * many CPUs move at once is not one to starve. */
#define BUCKET_CAS_TRIES	4

/*
 * One cell through the bucket at *tat (a map value: shared), of @t_ns per
 * cell and @tau_ns of burst, at @now.  Returns true when it conforms (and
 * moves the bucket), false when it is over the rate.
 */
static __always_inline bool bucket_take(__u64 *tat, __u64 t_ns, __u64 tau_ns,
					__u64 now)
{
	for (int i = 0; i < BUCKET_CAS_TRIES; i++) {
		__u64 old = *(volatile __u64 *)tat;
		__u64 at = old > now ? old : now;

		if (at - now > tau_ns)
			return false;
		if (__sync_val_compare_and_swap(tat, old, at + t_ns) == old)
			return true;
	}
	return true;
}

#endif /* MF_BPF_BUCKET_H */
