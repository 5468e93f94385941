// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Where the time of some processes' threads goes, for `make bench`'s
 * latency rows (docs/benchmarks.md "Where the added latency goes"): for up
 * to MF_SL_TARGETS processes in MF_SL_GROUPS groups, the run-queue wait of
 * every interval in which a thread was runnable but not running (from
 * sched_wakeup, or from a switch-out that left it runnable, to the
 * sched_switch that runs it), as a log-linear histogram, and the time
 * spent on a CPU.  Loaded by tests/tools/mf_schedlat.c, which names the
 * processes.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "mf_schedlat.h"

/* BPF_PROG() hands every tracepoint argument (and its ctx) to the body,
 * used or not. */
#pragma clang diagnostic ignored "-Wunused-parameter"

/* tgid -> its group, written by the loader before attaching. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MF_SL_TARGETS);
	__type(key, __u32);
	__type(value, __u32);
} mf_sl_targets SEC(".maps");

/* tid -> when the thread became runnable / went on a CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} mf_sl_ready SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u64);
} mf_sl_oncpu SEC(".maps");

/* One record per group, read by the loader at the end. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MF_SL_GROUPS);
	__type(key, __u32);
	__type(value, struct mf_sl_stats);
} mf_sl_stats SEC(".maps");

static __always_inline struct mf_sl_stats *target_of(const struct task_struct *p)
{
	__u32 tgid = p->tgid;
	__u32 *idx = bpf_map_lookup_elem(&mf_sl_targets, &tgid);

	return idx ? bpf_map_lookup_elem(&mf_sl_stats, idx) : NULL;
}

static __always_inline void ready(const struct task_struct *p, __u64 now)
{
	__u32 tid = p->pid;

	if (!target_of(p))
		return;
	/* The first moment counts: a second wake-up of a thread already
	 * queued does not restart its wait. */
	bpf_map_update_elem(&mf_sl_ready, &tid, &now, BPF_NOEXIST);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(mf_sl_wakeup, struct task_struct *p)
{
	ready(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(mf_sl_wakeup_new, struct task_struct *p)
{
	ready(p, bpf_ktime_get_ns());
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(mf_sl_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next, unsigned int prev_state)
{
	__u64 now = bpf_ktime_get_ns();
	struct mf_sl_stats *s;
	__u32 tid;
	__u64 *t;

	s = target_of(prev);
	if (s) {
		tid = prev->pid;
		t = bpf_map_lookup_elem(&mf_sl_oncpu, &tid);
		if (t) {
			__sync_fetch_and_add(&s->oncpu_ns, now - *t);
			bpf_map_delete_elem(&mf_sl_oncpu, &tid);
		}
		/* Switched out still runnable (TASK_RUNNING is 0): preempted,
		 * it waits in the run queue from now. */
		if (prev_state == 0) {
			__sync_fetch_and_add(&s->preempted, 1);
			bpf_map_update_elem(&mf_sl_ready, &tid, &now, BPF_ANY);
		} else {
			__sync_fetch_and_add(&s->slept, 1);
		}
	}
	s = target_of(next);
	if (s) {
		__u64 d;
		__u32 b;

		tid = next->pid;
		bpf_map_update_elem(&mf_sl_oncpu, &tid, &now, BPF_ANY);
		t = bpf_map_lookup_elem(&mf_sl_ready, &tid);
		if (!t)
			return 0;
		d = now - *t;
		bpf_map_delete_elem(&mf_sl_ready, &tid);
		b = mf_sl_bucket(d);
		if (b < MF_SL_BUCKETS)
			__sync_fetch_and_add(&s->hist[b], 1);
		__sync_fetch_and_add(&s->waits, 1);
		__sync_fetch_and_add(&s->wait_ns, d);
		if (d > s->wait_max_ns)
			s->wait_max_ns = d;	/* racy across CPUs; a bound, not exact */
	}
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
