// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TC ingress on the node-side veth of each pod: packets coming FROM the pod.
 *
 * TCP to a registered service VIP:port is handed to the agent with
 * bpf_sk_assign(): to the socket that already owns the 4-tuple when there is
 * one, else to the agent's listener on mf_outbound_port.  The node routes the
 * VIP range `local` (ip route add local <range> dev lo), so the stack accepts
 * the packet for VIP:port and the accepted socket's local address is the
 * original destination: the agent reads it with getsockname(), no NAT.
 * Everything else passes untouched.
 */
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/stats.h"
#include "lib/verdict.h"

/* The agent's outbound listener port, set by the loader before load. */
const volatile __u16 mf_outbound_port = MF_PORT_OUTBOUND;

/* Enough linear bytes for Ethernet and the largest IPv4 and TCP headers:
 * parse_tcphdr() wants the whole TCP header, options included. */
#define POD_PULL_LEN	(ETH_HLEN + PARSE_IPV4_HLEN_MAX + PARSE_TCP_HLEN_MAX)

/*
 * Assigns @sk to @skb.  Takes a socket reference the caller still owns and
 * releases.  Returns TC_ACT_OK (counted under @ok_stat) or
 * VERDICT_DROP_ASSIGN.
 */
static __always_inline int pod_assign(struct __sk_buff *skb,
				      struct bpf_sock *sk, enum mf_stat ok_stat)
{
	if (bpf_sk_assign(skb, sk, 0) != 0)
		return VERDICT_DROP_ASSIGN;
	stats_inc(ok_stat);
	return TC_ACT_OK;
}

/*
 * Steers a TCP segment for a service: to the socket that owns its 4-tuple if
 * one exists, else to the agent's listener.  @tuple is the segment's own
 * 4-tuple and is modified.
 *
 * Any socket but a listener owns the tuple: normally the agent's accepted
 * socket or its request socket mid-handshake, and also a TIME_WAIT socket
 * facing a fresh SYN (the pod reused a port whose previous connection the
 * agent closed first).  That last case is left to the stack on purpose: the
 * listener would refuse the SYN while the TIME_WAIT socket is hashed (its
 * duplicate-tuple check), and only the stack can retire that socket.  It
 * ACKs the old connection, the client answers RST, which ends TIME_WAIT
 * (unless net.ipv4.tcp_rfc1337=1), and its next SYN reaches the listener.
 * A listener on VIP:port itself is not the agent's: fall through to it.
 */
static __always_inline int pod_steer(struct __sk_buff *skb,
				     struct bpf_sock_tuple *tuple)
{
	struct bpf_sock *sk;
	int v;

	/* Not an optimisation: a segment assigned to a socket skips the
	 * stack's own lookup, so the handshake's last ACK, were it given to
	 * the listener instead of its request socket, would be answered
	 * with an RST. */
	sk = bpf_skc_lookup_tcp(skb, tuple, sizeof(tuple->ipv4),
				BPF_F_CURRENT_NETNS, 0);
	if (sk) {
		if (sk->state != BPF_TCP_LISTEN) {
			v = pod_assign(skb, sk, MF_STAT_POD_ESTABLISHED);
			bpf_sk_release(sk);
			return v;
		}
		bpf_sk_release(sk);
	}

	/* The agent listens on 0.0.0.0:mf_outbound_port; the lookup keeps
	 * daddr = VIP, which the INADDR_ANY listener matches. */
	tuple->ipv4.dport = bpf_htons(mf_outbound_port);
	sk = bpf_skc_lookup_tcp(skb, tuple, sizeof(tuple->ipv4),
				BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return VERDICT_DROP_NO_LISTENER;
	if (sk->state != BPF_TCP_LISTEN) {
		/* An established socket that happens to use port
		 * mf_outbound_port towards this peer, not the agent. */
		bpf_sk_release(sk);
		return VERDICT_DROP_NO_LISTENER;
	}
	v = pod_assign(skb, sk, MF_STAT_POD_STEERED);
	bpf_sk_release(sk);
	return v;
}

/* Returns VERDICT_CONTINUE for anything that is not TCP/IPv4 to a registered
 * service, else the verdict of pod_steer(). */
static __always_inline int pod_classify(struct __sk_buff *skb)
{
	struct mf_service_key key = {};
	struct bpf_sock_tuple tuple = {};
	const struct mf_config *cfg;
	struct parse_cursor c;
	__u32 zero = 0;
	struct ethhdr *eth;
	struct iphdr *iph;
	struct tcphdr *th;
	__u32 linear;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return VERDICT_CONTINUE;

	/* Headers of locally generated TCP are linear, but nothing guarantees
	 * it for every skb; pulling never changes the packet's bytes. */
	linear = skb->data_end - skb->data;
	if (linear < POD_PULL_LEN && skb->len > linear)
		bpf_skb_pull_data(skb, skb->len < POD_PULL_LEN ?
				  skb->len : POD_PULL_LEN);
	/* Otherwise clang computes &skb->data / &skb->data_end once for both
	 * paths and loads through the sum, and the verifier refuses a
	 * dereference of a modified ctx pointer. */
	asm volatile("" : "+r"(skb));

	parse_cursor_init(&c, skb);
	if (parse_ethhdr(&c, &eth) != ETH_P_IP)
		return VERDICT_CONTINUE;
	if (parse_iphdr(&c, &iph) != IPPROTO_TCP)
		return VERDICT_CONTINUE;
	/* A pod's TCP sets DF and never fragments; a fragment has no TCP
	 * header to decide on (or only the first one has), so leave it to
	 * the stack. */
	if (parse_ipv4_is_fragment(iph))
		return VERDICT_CONTINUE;
	if (parse_tcphdr(&c, &th) < 0)
		return VERDICT_CONTINUE;

	/* The policy in force is the half mf_config names (abi.h, "Two
	 * halves"); mfctl keeps the other half's records out of sight
	 * until it flips this, and clears them only after every program
	 * that may have read the old value has finished. */
	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg)
		return VERDICT_CONTINUE;
	key.half = cfg->active;
	__builtin_memcpy(key.vip, &iph->daddr, sizeof(key.vip));
	key.port = bpf_ntohs(th->dest);
	key.proto = MF_PROTO_TCP;
	if (!bpf_map_lookup_elem(&mf_services, &key))
		return VERDICT_CONTINUE;

	tuple.ipv4.saddr = iph->saddr;
	tuple.ipv4.daddr = iph->daddr;
	tuple.ipv4.sport = th->source;
	tuple.ipv4.dport = th->dest;
	return pod_steer(skb, &tuple);
}

SEC("tc")
int mf_pod_ingress(struct __sk_buff *skb)
{
	int v;

	stats_inc(MF_STAT_POD_PACKETS);
	v = pod_classify(skb);
	if (v == VERDICT_CONTINUE) {
		/* Not ours: UNSPEC hands the packet on to any later filter on
		 * this hook, so it flows exactly as it would without us. */
		stats_inc(MF_STAT_POD_PASSED);
		v = TC_ACT_UNSPEC;
	}
	return verdict_exit(v);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
