// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Decoys for the uninstall test (tests/integration/test_uninstall.sh):
 * programs that carry the names of the agent's (mf_pod_ingress, mf_xdp)
 * and use none of its maps, attached where the agent's would be (TC
 * handle 0x6d66, priority 1; XDP).  They are not meshforge's, and
 * `mfctl uninstall` must leave them.  Both let every packet through.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* linux/pkt_cls.h's, which vmlinux.h does not carry. */
#define TC_ACT_OK	0

SEC("tc")
int mf_pod_ingress(struct __sk_buff *skb)
{
	(void)skb;
	return TC_ACT_OK;
}

SEC("xdp")
int mf_xdp(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
