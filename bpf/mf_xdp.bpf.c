// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP on the node's uplink: the node firewall of Mesh spec.firewall, before
 * a packet costs an skb.
 *
 *   1. a source in a denied network (mf_xdp_deny, an LPM trie the agent
 *      keeps from mf_config) is dropped;
 *   2. a source that is one of the mesh's nodes (mf_xdp_nodes: the agents'
 *      tunnels) passes, whatever the rates;
 *   3. every other source has a packet bucket and a SYN bucket
 *      (mf_xdp_buckets, LRU, so a flood of distinct sources evicts the
 *      oldest) at the rates mf_config gives, read per packet: a packet
 *      over its source's rate is dropped.
 * Each drop is counted by reason (mf_stats, per CPU) and reported on the
 * ring buffer mf_xdp_events at most once per source and second, with the
 * drops since its last report, for the agent to log.  Anything that is not
 * IPv4 (ARP, IPv6 neighbour discovery) passes, as does everything when the
 * policy sets no firewall.
 */
#include <bpf/bpf_endian.h>

#include "lib/bucket.h"
#include "lib/maps.h"
#include "lib/stats.h"

#ifndef ETH_P_IP
#define ETH_P_IP	0x0800
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, MF_FW_DENY_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct mf_xdp_deny_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_xdp_deny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MF_MAX_NODES);
	__type(key, __u32);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_xdp_nodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MF_XDP_BUCKETS_MAX);
	__type(key, __u32);
	__type(value, struct mf_xdp_bucket);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_xdp_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} mf_xdp_events SEC(".maps");

#define XDP_REPORT_NS	1000000000ull	/* one event per source and second */

/* A bucket's cell time and burst for num per interval_ms (burst num). */
static __always_inline void xdp_rate(__u32 num, __u32 interval_ms, __u64 *t,
				     __u64 *tau)
{
	*t = (__u64)interval_ms * 1000000ull / num;
	*tau = *t * (num - 1);
}

/* Drop @reason for source @b (@saddr): counted, and reported when its
 * last report is a second old. */
static __always_inline int xdp_drop(struct mf_xdp_bucket *b, __u32 saddr,
				    enum mf_stat reason, __u64 now)
{
	struct mf_xdp_event *e;

	__u64 n = 1;

	stats_inc(reason);
	if (b) {
		__sync_fetch_and_add(&b->unreported, 1);
		if (now - b->reported_ns < XDP_REPORT_NS)
			return XDP_DROP;
		b->reported_ns = now;
		/* Racing CPUs may count a drop in the next report instead:
		 * the counter of mf_stats is the exact one. */
		n = b->unreported;
		b->unreported = 0;
	}
	e = bpf_ringbuf_reserve(&mf_xdp_events, sizeof(*e), 0);
	if (e) {
		__builtin_memcpy(e->src, &saddr, 4);
		e->reason = reason;
		e->dropped = n;
		bpf_ringbuf_submit(e, 0);
	}
	return XDP_DROP;
}

/* The buckets of source @saddr, made full when it has none yet; NULL
 * only when the map refuses (then nothing is limited or reported). */
static __always_inline struct mf_xdp_bucket *xdp_bucket(__u32 saddr)
{
	struct mf_xdp_bucket *b, fresh = {};

	b = bpf_map_lookup_elem(&mf_xdp_buckets, &saddr);
	if (b)
		return b;
	bpf_map_update_elem(&mf_xdp_buckets, &saddr, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&mf_xdp_buckets, &saddr);
}

static __always_inline int xdp_classify(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct mf_xdp_deny_key dk = { .prefixlen = 32 };
	struct mf_xdp_bucket *b;
	const struct mf_config *cfg;
	struct iphdr *iph;
	__u64 now, t, tau;
	__u32 zero = 0, ihl;
	bool syn = false;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > end || iph->version != 4)
		return XDP_PASS;
	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg)
		return XDP_PASS;
	__builtin_memcpy(dk.addr, &iph->saddr, 4);
	if (cfg->fw_ndeny && bpf_map_lookup_elem(&mf_xdp_deny, &dk))
		return xdp_drop(xdp_bucket(iph->saddr), iph->saddr,
				MF_STAT_XDP_DROP_DENY, bpf_ktime_get_ns());
	if (!cfg->fw_pkt_num && !cfg->fw_syn_num)
		return XDP_PASS;
	if (bpf_map_lookup_elem(&mf_xdp_nodes, &iph->saddr))
		return XDP_PASS;
	ihl = iph->ihl * 4;
	if (iph->protocol == IPPROTO_TCP && ihl >= 20 &&
	    !(iph->frag_off & bpf_htons(0x1fff))) {
		struct tcphdr *th = (void *)iph + (ihl & 0x3c);

		if ((void *)(th + 1) <= end)
			syn = th->syn && !th->ack;
	}
	now = bpf_ktime_get_ns();
	b = xdp_bucket(iph->saddr);
	if (!b)
		return XDP_PASS;
	if (cfg->fw_pkt_num && cfg->fw_pkt_interval_ms) {
		xdp_rate(cfg->fw_pkt_num, cfg->fw_pkt_interval_ms, &t, &tau);
		if (!bucket_take(&b->pkt_tat, t, tau, now))
			return xdp_drop(b, iph->saddr,
					MF_STAT_XDP_DROP_PACKET_RATE, now);
	}
	if (syn && cfg->fw_syn_num && cfg->fw_syn_interval_ms) {
		xdp_rate(cfg->fw_syn_num, cfg->fw_syn_interval_ms, &t, &tau);
		if (!bucket_take(&b->syn_tat, t, tau, now))
			return xdp_drop(b, iph->saddr,
					MF_STAT_XDP_DROP_SYN_RATE, now);
	}
	return XDP_PASS;
}

SEC("xdp")
int mf_xdp(struct xdp_md *ctx)
{
	stats_inc(MF_STAT_XDP_PACKETS);
	return xdp_classify(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
