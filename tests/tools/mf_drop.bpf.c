// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Packet loss for the chaos test (tests/integration/test_chaos.sh): a TC
 * program that drops a random 1% of what passes, since this kernel has no
 * netem.  Attached with tc to the testbed's wire, both ways.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

/* linux/pkt_cls.h's, which vmlinux.h does not carry; the agent's own
 * programs' header would bring their maps along. */
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2

SEC("tc")
int mf_drop_random(struct __sk_buff *skb)
{
	(void)skb;
	return bpf_get_prandom_u32() % 100 == 0 ? TC_ACT_SHOT : TC_ACT_OK;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
