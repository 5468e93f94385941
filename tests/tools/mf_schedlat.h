/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What tests/tools/mf_schedlat.bpf.c and its loader share: the per-process
 * record and the histogram's buckets.
 */
#ifndef MF_SCHEDLAT_H
#define MF_SCHEDLAT_H

#define MF_SL_GROUPS	8	/* named groups of processes */
#define MF_SL_TARGETS	64	/* processes over all groups */
#define MF_SL_BUCKETS	136

/* Per group of processes: run-queue waits (count, sum, histogram, longest) and the
 * time its threads spent on a CPU, with how they left it. */
struct mf_sl_stats {
	__u64 waits;
	__u64 wait_ns;
	__u64 wait_max_ns;
	__u64 oncpu_ns;
	__u64 preempted;	/* switched out still runnable */
	__u64 slept;		/* switched out to wait for something */
	__u64 hist[MF_SL_BUCKETS];
};

/* Buckets of 256 ns units: exact below 8, then four per power of two,
 * so that a bucket's width is at most a quarter of its value. */
#define MF_SL_UNIT_SHIFT 8

static inline __u32 mf_sl_log2(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) { v >>= 32; r += 32; }
	if (v >> 16) { v >>= 16; r += 16; }
	if (v >> 8) { v >>= 8; r += 8; }
	if (v >> 4) { v >>= 4; r += 4; }
	if (v >> 2) { v >>= 2; r += 2; }
	if (v >> 1) r += 1;
	return r;
}

static inline __u32 mf_sl_bucket(__u64 ns)
{
	__u64 v = ns >> MF_SL_UNIT_SHIFT;
	__u32 msb;

	if (v < 8)
		return (__u32)v;
	msb = mf_sl_log2(v);
	return 8 + (msb - 3) * 4 + (__u32)((v >> (msb - 2)) & 3);
}

/* The smallest value of bucket @b, in ns. */
static inline __u64 mf_sl_bucket_low(__u32 b)
{
	__u32 msb, sub;

	if (b < 8)
		return (__u64)b << MF_SL_UNIT_SHIFT;
	msb = 3 + (b - 8) / 4;
	sub = (b - 8) % 4;
	return ((__u64)(4 + sub) << (msb - 2)) << MF_SL_UNIT_SHIFT;
}

#endif
