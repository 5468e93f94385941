// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The TC programs of the node-side veth of each pod.
 *
 * mf_pod_ingress, packets coming FROM the pod:
 *
 * TCP to a registered service VIP:port is handed to the agent with
 * bpf_sk_assign(): to the socket that already owns the 4-tuple when there is
 * one, else to the agent's listener on mf_outbound_port.  The node routes the
 * VIP range `local` (ip route add local <range> dev lo), so the stack accepts
 * the packet for VIP:port and the accepted socket's local address is the
 * original destination: the agent reads it with getsockname(), no NAT.
 * It also remembers the flows the pod opens (a TCP SYN, a UDP datagram) in
 * mf_pod_flows, for their return traffic.  It drops a packet whose source
 * address the node would not route back through this veth (a spoof: the
 * check rp_filter makes, counted), and a TCP fragment for the node itself
 * (a VIP:port is local), which the stack would reassemble for a host
 * listener (a pod's TCP never fragments).  A SYN to a service that a
 * MeshRateLimit gives a connection rate (mf_service.conn_rate_*) goes
 * through the bucket of its source pod and service (mf_conn_buckets), and
 * is dropped over the rate: the client's SYN retransmit then waits, and
 * another pod's connections are untouched.  A connection to a destination
 * outside the mesh is held to MeshPassthrough (pod_passthrough()): its SYN
 * dropped, or, for a port of a Domain match, each segment marked and
 * handed to the agent as a service's are.  Everything else passes
 * untouched.
 *
 * mf_pod_egress, packets going TO the pod, enforces the Mesh's mTLS mode
 * (mf_config.mtls_mode, read per packet, so an apply takes effect on the
 * next one), or the pod's own when a MeshTLS selects it (its endpoint's
 * MF_ENDPOINT_F_TLS_*).  Admitted whatever the mode: what the node's agent sends (its
 * sockets carry MF_SKB_MARK_AGENT: relayed mTLS, same-node traffic that
 * went through it), return traffic of the pod's own flows, and sources
 * the policy exempts (Mesh spec.mtls.exemptSources: the kubelet's probes,
 * say).  Anything else is plaintext that bypassed the mesh: STRICT drops
 * it, PERMISSIVE lets it through; both count it per source, destination
 * and port in mf_plaintext.  Without an enabled mTLS backend nothing is
 * enforced.  Non-IPv4 frames (ARP) pass.
 */
#include "lib/bucket.h"
#include "lib/flows.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/stats.h"
#include "lib/verdict.h"

/* The agent's outbound listener port, set by the loader before load. */
const volatile __u16 mf_outbound_port = MF_PORT_OUTBOUND;

/* Enough linear bytes for Ethernet and the largest IPv4 and TCP headers:
 * parse_tcphdr() wants the whole TCP header, options included. */
#define POD_PULL_LEN	(ETH_HLEN + PARSE_IPV4_HLEN_MAX + PARSE_TCP_HLEN_MAX)
/* IPv6: its header, room for the extension headers a pod sends in
 * practice, TCP's. */
#define POD_PULL6_LEN	(ETH_HLEN + PARSE_IPV6_HLEN + 64 + PARSE_TCP_HLEN_MAX)

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
 * Notes which pod the IPv6 connection of @t (a SYN on its way to the
 * agent's listener; @dport its destination port, network order) comes
 * from, for the agent (abi.h mf_pt6_clients): @pod, the IPv4 address of
 * the veth it came by.  Only such a SYN pays for the update.
 */
static __always_inline void pod_pt6_note(const struct bpf_sock_tuple *t,
					 __be16 dport,
					 const struct pod_src *pod)
{
	struct mf_pt6_client v = {};
	struct mf_pt6_key k = {};

	__builtin_memcpy(k.client, t->ipv6.saddr, 16);
	__builtin_memcpy(k.dst, t->ipv6.daddr, 16);
	k.client_port = bpf_ntohs(t->ipv6.sport);
	k.dst_port = bpf_ntohs(dport);
	__builtin_memcpy(v.pod, &pod->addr, 4);
	/* Written afresh: a port the pod reuses gets its new record. */
	bpf_map_update_elem(&mf_pt6_clients, &k, &v, BPF_ANY);
}

/*
 * Steers a TCP segment for a service: to the socket that owns its 4-tuple if
 * one exists, else to the agent's listener.  @tuple is the segment's own
 * 4-tuple, @len sizeof(tuple->ipv4) or sizeof(tuple->ipv6) (a constant once
 * inlined), and is modified.  @pt6_pod (NULL for IPv4, and for an IPv6
 * segment that is no SYN or whose pod is unknown): the pod of an IPv6 SYN
 * for a MeshPassthrough Domain match, noted (pod_pt6_note()) when the SYN
 * goes to the listener, before the assignment (a retransmitted SYN that
 * meets the agent's request socket notes nothing: the first one did).
 *
 * Any socket but a listener owns the tuple: normally the agent's accepted
 * socket or its request socket mid-handshake, and also a TIME_WAIT socket
 * facing a fresh SYN (the pod reused a port whose previous connection the
 * agent closed first).  That last case is left to the stack on purpose: the
 * listener would refuse the SYN while the TIME_WAIT socket is hashed (its
 * duplicate-tuple check), and only the stack can retire that socket.  It
 * does when its listener lookup for VIP:port finds one, which
 * mf_pod_sk_lookup makes the agent's; the listener then takes the SYN.
 * A listener on VIP:port itself is not the agent's: fall through to it.
 */
static __always_inline int pod_steer(struct __sk_buff *skb,
				     struct bpf_sock_tuple *tuple, __u32 len,
				     const struct pod_src *pt6_pod)
{
	__be16 dport = 0;
	struct bpf_sock *sk;
	int v;

	/* Not an optimisation: a segment assigned to a socket skips the
	 * stack's own lookup, so the handshake's last ACK, were it given to
	 * the listener instead of its request socket, would be answered
	 * with an RST. */
	sk = bpf_skc_lookup_tcp(skb, tuple, len, BPF_F_CURRENT_NETNS, 0);
	if (sk) {
		if (sk->state != BPF_TCP_LISTEN) {
			v = pod_assign(skb, sk, MF_STAT_POD_ESTABLISHED);
			bpf_sk_release(sk);
			return v;
		}
		bpf_sk_release(sk);
	}

	/* The agent listens on 0.0.0.0:mf_outbound_port (and [::] for
	 * IPv6); the lookup keeps daddr = VIP, which the wildcard listener
	 * matches. */
	if (len == sizeof(tuple->ipv6)) {
		dport = tuple->ipv6.dport;
		tuple->ipv6.dport = bpf_htons(mf_outbound_port);
	} else {
		tuple->ipv4.dport = bpf_htons(mf_outbound_port);
	}
	sk = bpf_skc_lookup_tcp(skb, tuple, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return VERDICT_DROP_NO_LISTENER;
	if (sk->state != BPF_TCP_LISTEN) {
		/* An established socket that happens to use port
		 * mf_outbound_port towards this peer, not the agent. */
		bpf_sk_release(sk);
		return VERDICT_DROP_NO_LISTENER;
	}
	if (len == sizeof(tuple->ipv6) && pt6_pod)
		pod_pt6_note(tuple, dport, pt6_pod);
	v = pod_assign(skb, sk, MF_STAT_POD_STEERED);
	bpf_sk_release(sk);
	return v;
}

/* The agent's outbound listener (one entry, written by the agent:
 * kern_steer_listener()), for mf_pod_sk_lookup.  Not pinned: each agent's
 * programs have their own, with its own listener in it. */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} mf_outbound_listener SEC(".maps");

/*
 * The stack's own listener lookup for a service's VIP:port (in the node's
 * namespace) finds the agent's outbound listener.  pod_steer() gives
 * segments to sockets directly, so the stack looks a listener up only in
 * one case: a SYN that met a TIME_WAIT socket of its 4-tuple (the agent
 * closed a pod's previous connection first, and the pod reused its port).
 * With a listener found, the stack retires the TIME_WAIT socket and the
 * listener takes the SYN at once; without, the TIME_WAIT socket answers
 * with the old connection's ACK, the client resets it and sends its SYN
 * again some 10 ms later.  Only for a source that is a workload of the
 * mesh; anything else is left to the stack (SK_PASS without a socket).  The listener's SO_REUSEPORT group, if any, still
 * picks which of its sockets (the stack's reuseport step comes after).
 */
SEC("sk_lookup")
int mf_pod_sk_lookup(struct bpf_sk_lookup *ctx)
{
	struct mf_endpoint_key ep = {};
	struct mf_service_key key = {};
	const struct mf_config *cfg;
	struct bpf_sock *sk;
	__u32 zero = 0;

	if (ctx->family != 2 /* AF_INET */ || ctx->protocol != IPPROTO_TCP)
		return SK_PASS;
	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg)
		return SK_PASS;
	key.half = cfg->active;
	__builtin_memcpy(key.vip, &ctx->local_ip4, sizeof(key.vip));
	key.port = (__u16)ctx->local_port;
	key.proto = MF_PROTO_TCP;
	if (!bpf_map_lookup_elem(&mf_services, &key))
		return SK_PASS;
	/* From a workload of the mesh only: where a VIP is also a local
	 * address of the node (the front door), the node's own processes
	 * reach it as before, never the agent. */
	ep.half = cfg->active;
	__builtin_memcpy(ep.ip, &ctx->remote_ip4, sizeof(ep.ip));
	if (!bpf_map_lookup_elem(&mf_endpoints, &ep))
		return SK_PASS;
	sk = bpf_map_lookup_elem(&mf_outbound_listener, &zero);
	if (!sk)
		return SK_PASS;
	bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	return SK_PASS;
}

/* The packet's IPv4 header, after the Ethernet one, into *iph with the
 * cursor after it.  Returns its protocol, POD_NOT_IPV4 for another
 * ethertype, or PARSE_ERR for an IPv4 frame whose header is cut short. */
#define POD_NOT_IPV4	(-2)

static __always_inline int pod_ipv4(struct __sk_buff *skb,
				    struct parse_cursor *c, struct iphdr **iph)
{
	struct ethhdr *eth;
	__u32 linear;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return POD_NOT_IPV4;
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

	parse_cursor_init(c, skb);
	if (parse_ethhdr(c, &eth) != ETH_P_IP)
		return POD_NOT_IPV4;
	return parse_iphdr(c, iph);
}

/* ---- flows the pod opens ---------------------------------------------------- */

static __always_inline void pod_flow_put(const struct iphdr *iph, __u16 sport,
					 __u16 dport, __u8 proto)
{
	struct mf_flow_key k = {};
	__u64 now = bpf_jiffies64();

	__builtin_memcpy(k.pod, &iph->saddr, 4);
	__builtin_memcpy(k.peer, &iph->daddr, 4);
	k.pod_port = sport;
	k.peer_port = dport;
	k.proto = proto;
	bpf_map_update_elem(&mf_pod_flows, &k, &now, BPF_ANY);
}

/* How often a datagram flow's record is refreshed, in jiffies (0.25 to
 * 2.5 s by CONFIG_HZ): a lookup costs a fraction of an update, so most
 * datagrams only look, and the jiffies counter is one load. */
#define POD_FLOW_REFRESH_JIFFIES	256

/* A datagram from the pod: its flow, from its first packet on, refreshed
 * once a second while it lasts (so a long-lived flow is not the LRU's
 * oldest). */
static __always_inline void pod_flow_note(const struct parse_cursor *c,
					  const struct iphdr *iph, __u8 proto)
{
	struct mf_flow_key k = {};
	__u16 sport, dport;
	__u64 *seen;

	if (parse_ports(c, &sport, &dport))
		return;
	__builtin_memcpy(k.pod, &iph->saddr, 4);
	__builtin_memcpy(k.peer, &iph->daddr, 4);
	k.pod_port = sport;
	k.peer_port = dport;
	k.proto = proto;
	seen = bpf_map_lookup_elem(&mf_pod_flows, &k);
	if (seen && bpf_jiffies64() - *seen < POD_FLOW_REFRESH_JIFFIES)
		return;
	pod_flow_put(iph, sport, dport, proto);
}

/* A connection the pod opens: its SYN. */
static __always_inline void pod_flow_note_tcp(const struct iphdr *iph,
					      const struct tcphdr *th)
{
	pod_flow_put(iph, th->source, th->dest, IPPROTO_TCP);
}

/* ---- what a pod may send --------------------------------------------------- */

/* Rechecked after 256 jiffies (0.25 to 2.5 s by CONFIG_HZ): the jiffies
 * counter is one load, a clock read is not. */
#define POD_SRC_RECHECK_JIFFIES	256
#define POD_LOOPBACK_IFINDEX	1	/* lo: never a pod (tests attach there) */

/* The FIB's verdict for @dst (network order) as forwarded from the
 * packet's device: BPF_FIB_LKUP_RET_*, *oif the device it leaves by. */
static __always_inline int pod_fib(struct __sk_buff *skb, __u32 dst,
				   __u32 *oif)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib.family = 2;		/* AF_INET */
	fib.ipv4_dst = dst;
	fib.ifindex = skb->ifindex;
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib),
			    BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_SKIP_NEIGH);
	*oif = fib.ifindex;
	return rc;
}

/* Drops a source address the node would not route back through the veth
 * the packet came in by (the pod's own is routed to it there). */
static __always_inline int pod_source_check(struct __sk_buff *skb,
					    const struct iphdr *iph)
{
	__u32 ifindex = skb->ifindex, oif = 0;
	__u64 now = bpf_jiffies64();
	struct pod_src *c, fresh;
	int rc;

	if (ifindex == POD_LOOPBACK_IFINDEX)
		return VERDICT_CONTINUE;
	c = bpf_map_lookup_elem(&mf_pod_src, &ifindex);
	if (c && c->addr == iph->saddr &&
	    now - c->checked < POD_SRC_RECHECK_JIFFIES)
		return VERDICT_CONTINUE;
	rc = pod_fib(skb, iph->saddr, &oif);
	/* A node that does not forward cannot say: as rp_filter, no
	 * verdict then. */
	if (rc == BPF_FIB_LKUP_RET_FWD_DISABLED)
		return VERDICT_CONTINUE;
	if (rc != BPF_FIB_LKUP_RET_SUCCESS || oif != ifindex)
		return VERDICT_DROP(MF_STAT_DROP_SPOOFED);
	fresh.addr = iph->saddr;
	fresh.checked = now;
	bpf_map_update_elem(&mf_pod_src, &ifindex, &fresh, BPF_ANY);
	return VERDICT_CONTINUE;
}

/* A TCP fragment passes only when the node forwards it: one for the node
 * itself (a VIP, the node's address) is dropped.  (The FIB answers "not
 * forwarded" alike for a local address and for no route; the stack would
 * drop the latter anyway.) */
static __always_inline int pod_fragment_check(struct __sk_buff *skb,
					      const struct iphdr *iph)
{
	__u32 oif;
	int rc;

	if (iph->protocol != IPPROTO_TCP)
		return VERDICT_CONTINUE;
	rc = pod_fib(skb, iph->daddr, &oif);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS &&
	    rc != BPF_FIB_LKUP_RET_FWD_DISABLED)
		return VERDICT_DROP(MF_STAT_DROP_FRAGMENT);
	return VERDICT_CONTINUE;
}

/* A SYN from the pod to service @svc at @key's VIP:port: through its
 * bucket when the service has a connection rate. */
static __always_inline int pod_conn_rate(const struct mf_service *svc,
					 const struct mf_service_key *key,
					 const struct iphdr *iph)
{
	struct mf_conn_bucket_key bk = {};
	__u64 t_ns, tau_ns, now, *tat, first;

	if (!svc->conn_rate_num || !svc->conn_rate_interval_ms)
		return VERDICT_CONTINUE;
	/* num per interval: a connection every T, and a burst of num. */
	t_ns = (__u64)svc->conn_rate_interval_ms * 1000000ull /
	       svc->conn_rate_num;
	tau_ns = t_ns * (svc->conn_rate_num - 1);
	__builtin_memcpy(bk.vip, key->vip, 4);
	__builtin_memcpy(bk.src, &iph->saddr, 4);
	bk.port = key->port;
	now = bpf_ktime_get_ns();
	tat = bpf_map_lookup_elem(&mf_conn_buckets, &bk);
	if (!tat) {
		/* A new bucket, full: this cell is its first. */
		first = now + t_ns;
		if (!bpf_map_update_elem(&mf_conn_buckets, &bk, &first,
					 BPF_NOEXIST))
			return VERDICT_CONTINUE;
		tat = bpf_map_lookup_elem(&mf_conn_buckets, &bk);
		if (!tat)
			return VERDICT_CONTINUE;
	}
	return bucket_take(tat, t_ns, tau_ns, now) ?
	       VERDICT_CONTINUE : VERDICT_DROP(MF_STAT_DROP_CONN_RATE);
}

/* pod_passthrough()'s verdict for a connection a Domain match may admit:
 * the agent reads its name.  Between CONTINUE and the drops, so neither a
 * TC action nor a drop reason. */
#define POD_PT_STEER	(VERDICT_BASE - 2)

/* Whether Matched has Domain matches at all, the Mesh's or a workload's
 * own: only then is a segment other than a SYN to a destination outside
 * the mesh looked at. */
static __always_inline bool pod_pt_domains(const struct mf_config *cfg)
{
	return (cfg->pt_mesh.mode == MF_PASSTHROUGH_MATCHED &&
		(cfg->pt_mesh.dom_n || cfg->pt_mesh.dom_any)) ||
	       cfg->pt_prof_dom;
}

/* pod_pt_of() masks the profile's index with it (the verifier wants a
 * bound it can see). */
_Static_assert((MF_PT_PROFILES_MAX & (MF_PT_PROFILES_MAX - 1)) == 0,
	       "MF_PT_PROFILES_MAX is a power of two");

/* The MeshPassthrough the pod at @saddr (network order) is held to: its
 * profile when a MeshSubset or Dataplane one selects it (its endpoint's
 * pt_profile; one lookup, made only when the policy has profiles), else
 * the Mesh's. */
static __always_inline const struct mf_pt_profile *
pod_pt_of(const struct mf_config *cfg, __u32 saddr)
{
	struct mf_endpoint_key k = { .half = cfg->active };
	const struct mf_endpoint *src;

	if (!cfg->pt_nprof)
		return &cfg->pt_mesh;
	__builtin_memcpy(k.ip, &saddr, 4);
	src = bpf_map_lookup_elem(&mf_endpoints, &k);
	if (src && src->pt_profile && src->pt_profile <= MF_PT_PROFILES_MAX)
		return &cfg->pt_prof[(src->pt_profile - 1) &
				     (MF_PT_PROFILES_MAX - 1)];
	return &cfg->pt_mesh;
}

/* Whether a Domain match of @pt has port @dport (or every port). */
static __always_inline bool pod_pt_dom_port(const struct mf_pt_profile *pt,
					    __u16 dport)
{
	if (pt->dom_any)
		return true;
	for (__u32 i = 0; i < MF_PT_DOM_PORTS_MAX; i++) {
		if (i >= pt->dom_n)
			break;
		if (pt->dom_port[i] == dport)
			return true;
	}
	return false;
}

/* MeshPassthrough (abi.h, mf_config.pt_mesh, and pt_prof[] for the pods a
 * narrower one selects): a pod's connection to @iph->daddr:@dport, which
 * is no service, passes when the mode lets everything through, when the
 * destination is a workload of the mesh, or when one of the admitted
 * networks (and port) has it; under Matched, one to a port of a Domain
 * match goes to the agent (POD_PT_STEER), which reads the name the client
 * asks for; anything else is dropped, so the connection never opens.  The
 * lists flip with the policy, as mf_config does.  The caller drops only
 * SYNs; it steers every segment of a steered connection (the verdict is
 * the same for each). */
static __always_inline int pod_passthrough(const struct mf_config *cfg,
					   const struct iphdr *iph,
					   __u16 dport)
{
	struct mf_endpoint_key k = { .half = cfg->active };
	__u32 h = bpf_ntohl(iph->daddr);
	const struct mf_pt_profile *pt = pod_pt_of(cfg, iph->saddr);

	if (pt->mode != MF_PASSTHROUGH_MATCHED &&
	    pt->mode != MF_PASSTHROUGH_NONE)
		return VERDICT_CONTINUE;
	__builtin_memcpy(k.ip, &iph->daddr, 4);
	if (bpf_map_lookup_elem(&mf_endpoints, &k))
		return VERDICT_CONTINUE;
	for (__u32 i = 0; i < MF_PT_NETS_MAX; i++) {
		const struct mf_pt_net *x = &pt->pt[i];
		__u32 net, mask;

		if (pt->mode != MF_PASSTHROUGH_MATCHED || i >= pt->n)
			break;
		mask = x->prefix == 0 ? 0 :
		       x->prefix >= 32 ? ~0u : ~0u << (32 - x->prefix);
		__builtin_memcpy(&net, x->addr, 4);
		if ((h & mask) == bpf_ntohl(net) &&
		    (!x->port || x->port == dport))
			return VERDICT_CONTINUE;
	}
	if (pt->mode == MF_PASSTHROUGH_MATCHED &&
	    (pt->dom_n || pt->dom_any) && pod_pt_dom_port(pt, dport))
		return POD_PT_STEER;
	return VERDICT_DROP(MF_STAT_DROP_PASSTHROUGH);
}

/* Whether IPv6 address @a is in network @x (its port aside). */
static __always_inline bool pod_in_net6(const struct mf_pt_net6 *x,
					const struct in6_addr *a)
{
	for (__u32 w = 0; w < 4; w++) {
		__u32 bits = x->prefix > w * 32 ? x->prefix - w * 32 : 0;
		__u32 mask = bits == 0 ? 0 : bits >= 32 ? ~0u :
			     ~0u << (32 - bits);
		__u32 net;

		__builtin_memcpy(&net, &x->addr[w * 4], 4);
		if ((bpf_ntohl(a->in6_u.u6_addr32[w]) & mask) !=
		    bpf_ntohl(net))
			return false;
	}
	return true;
}

/* A pod's TCP over IPv6, held to MeshPassthrough (abi.h mf_pt_profile):
 * no destination over IPv6 is the mesh's, so under Matched and None a
 * SYN passes only when a network of pt6[] admits it; under Matched, one
 * to a port of a Domain match goes to the agent, every segment of it
 * marked and steered as over IPv4 (to the agent's IPv6 outbound
 * listener), its SYN with a note of which pod it is (pod_pt6_note(): the
 * agent judges the name by that pod's policy); anything else passes
 * (later segments of other connections, other protocols, neighbour
 * discovery).  Later segments are looked at only when the pod's policy
 * has Domain matches.  The pod's profile is found by the IPv4 address its
 * veth was last seen with (mf_pod_src), else the Mesh's.  A TCP segment behind a fragment header, or behind
 * more extension headers than are walked, cannot be told from a SYN: it
 * is dropped as one. */
static __always_inline int pod_ipv6(struct __sk_buff *skb)
{
	struct bpf_sock_tuple tuple = {};
	const struct mf_pt_profile *pt;
	const struct mf_config *cfg;
	const struct pod_src *ps;
	struct parse_cursor c;
	struct ipv6hdr *ip6;
	struct ethhdr *eth;
	struct tcphdr *th;
	__u32 ifindex = skb->ifindex, zero = 0, linear;
	bool syn, dom;
	__u16 dport;
	int next;

	if (skb->protocol != bpf_htons(ETH_P_IPV6))
		return VERDICT_CONTINUE;
	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg)
		return VERDICT_CONTINUE;
	ps = cfg->pt_nprof ? bpf_map_lookup_elem(&mf_pod_src, &ifindex) : NULL;
	pt = pod_pt_of(cfg, ps ? ps->addr : 0);
	if (pt->mode != MF_PASSTHROUGH_MATCHED &&
	    pt->mode != MF_PASSTHROUGH_NONE)
		return VERDICT_CONTINUE;
	linear = skb->data_end - skb->data;
	if (linear < POD_PULL6_LEN && skb->len > linear)
		bpf_skb_pull_data(skb, skb->len < POD_PULL6_LEN ?
				  skb->len : POD_PULL6_LEN);
	asm volatile("" : "+r"(skb));
	parse_cursor_init(&c, skb);
	if (parse_ethhdr(&c, &eth) != ETH_P_IPV6)
		return VERDICT_CONTINUE;
	next = parse_ipv6hdr(&c, &ip6);
	if (next == PARSE_IPV6_FRAGMENT)
		return VERDICT_DROP(MF_STAT_DROP_PASSTHROUGH);
	if (next != IPPROTO_TCP || parse_tcphdr(&c, &th) < 0)
		return VERDICT_CONTINUE;
	syn = th->syn && !th->ack;
	dom = pt->mode == MF_PASSTHROUGH_MATCHED && (pt->dom_n || pt->dom_any);
	if (!syn && !dom)
		return VERDICT_CONTINUE;
	dport = bpf_ntohs(th->dest);
	for (__u32 i = 0; i < MF_PT_NETS6_MAX; i++) {
		const struct mf_pt_net6 *x = &pt->pt6[i];

		if (pt->mode != MF_PASSTHROUGH_MATCHED || i >= pt->n6)
			break;
		if (pod_in_net6(x, &ip6->daddr) &&
		    (!x->port || x->port == dport))
			return VERDICT_CONTINUE;
	}
	if (!dom || !pod_pt_dom_port(pt, dport))
		return syn ? VERDICT_DROP(MF_STAT_DROP_PASSTHROUGH) :
			     VERDICT_CONTINUE;
	/* The node's IPv6 rule for this mark makes the destination local
	 * (abi.h MF_SKB_MARK_PASSTHROUGH). */
	skb->mark = MF_SKB_MARK_PASSTHROUGH;
	__builtin_memcpy(tuple.ipv6.saddr, &ip6->saddr, 16);
	__builtin_memcpy(tuple.ipv6.daddr, &ip6->daddr, 16);
	tuple.ipv6.sport = th->source;
	tuple.ipv6.dport = th->dest;
	/* The agent judges the name by the pod's own policy: which pod it
	 * is goes with the SYN (pod_pt6_note()).  Its address was looked up
	 * above when the policy has profiles; only this SYN pays for it
	 * otherwise. */
	if (syn && !ps)
		ps = bpf_map_lookup_elem(&mf_pod_src, &ifindex);
	return pod_steer(skb, &tuple, sizeof(tuple.ipv6), syn ? ps : NULL);
}

/* Returns VERDICT_CONTINUE for anything that is not TCP/IPv4 to a registered
 * service, else the verdict of pod_steer(); TCP over IPv6 is
 * pod_ipv6()'s. */
static __always_inline int pod_classify(struct __sk_buff *skb)
{
	struct mf_service_key key = {};
	struct bpf_sock_tuple tuple = {};
	const struct mf_service *svc;
	const struct mf_config *cfg;
	struct parse_cursor c;
	__u32 zero = 0;
	struct iphdr *iph;
	struct tcphdr *th;
	int proto, v;

	proto = pod_ipv4(skb, &c, &iph);
	if (proto == POD_NOT_IPV4)
		return pod_ipv6(skb);
	if (proto < 0)
		return VERDICT_CONTINUE;
	v = pod_source_check(skb, iph);
	if (v != VERDICT_CONTINUE)
		return v;
	/* A pod's TCP sets DF and never fragments; a fragment has no TCP
	 * header to decide on (or only the first one has): the stack gets
	 * it, unless it is for the node itself. */
	if (parse_ipv4_is_fragment(iph))
		return pod_fragment_check(skb, iph);
	if (proto == IPPROTO_UDP) {
		pod_flow_note(&c, iph, IPPROTO_UDP);
		return VERDICT_CONTINUE;
	}
	if (proto != IPPROTO_TCP || parse_tcphdr(&c, &th) < 0)
		return VERDICT_CONTINUE;
	if (th->syn && !th->ack)
		pod_flow_note_tcp(iph, th);

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
	svc = bpf_map_lookup_elem(&mf_services, &key);
	if (!svc) {
		if (!(th->syn && !th->ack) && !pod_pt_domains(cfg))
			return VERDICT_CONTINUE;
		v = pod_passthrough(cfg, iph, key.port);
		if (v != POD_PT_STEER)
			return th->syn && !th->ack ? v : VERDICT_CONTINUE;
		/* No route makes the destination local: the node's rule
		 * for this mark does (abi.h MF_SKB_MARK_PASSTHROUGH). */
		skb->mark = MF_SKB_MARK_PASSTHROUGH;
	} else if (th->syn && !th->ack) {
		v = pod_conn_rate(svc, &key, iph);
		if (v != VERDICT_CONTINUE)
			return v;
	}

	tuple.ipv4.saddr = iph->saddr;
	tuple.ipv4.daddr = iph->daddr;
	tuple.ipv4.sport = th->source;
	tuple.ipv4.dport = th->dest;
	return pod_steer(skb, &tuple, sizeof(tuple.ipv4), NULL);
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

/* ---- towards the pod ------------------------------------------------------- */

/* Whether @addr (network order) is in one of the exempt networks of @cfg. */
static __always_inline bool to_pod_exempt(const struct mf_config *cfg,
					  __u32 addr)
{
	__u32 h = bpf_ntohl(addr);

	for (__u32 i = 0; i < MF_EXEMPT_MAX; i++) {
		const struct mf_cidr4 *x = &cfg->exempt[i];
		__u32 net, mask;

		if (i >= cfg->nexempt)
			break;
		mask = x->prefix == 0 ? 0 :
		       x->prefix >= 32 ? ~0u : ~0u << (32 - x->prefix);
		__builtin_memcpy(&net, x->addr, 4);
		if ((h & mask) == bpf_ntohl(net))
			return true;
	}
	return false;
}

/* Counts plaintext no rule admitted, per source, destination and port. */
static __always_inline void to_pod_count(const struct iphdr *iph, __u16 dport,
					 __u8 proto, bool dropped)
{
	struct mf_plain_key k = {};
	__u64 one = 1, *n;

	__builtin_memcpy(k.src, &iph->saddr, 4);
	__builtin_memcpy(k.dst, &iph->daddr, 4);
	k.dport = dport;
	k.proto = proto;
	k.dropped = dropped;
	n = bpf_map_lookup_elem(&mf_plaintext, &k);
	if (n)
		*n += 1;	/* per-CPU: exact without atomics */
	else
		bpf_map_update_elem(&mf_plaintext, &k, &one, BPF_NOEXIST);
}

/* Whether a packet towards the pod belongs to a flow the pod opened. */
static __always_inline bool to_pod_return(const struct iphdr *iph,
					  __u16 sport, __u16 dport,
					  __u8 proto)
{
	struct mf_flow_key k = {};

	__builtin_memcpy(k.pod, &iph->daddr, 4);
	__builtin_memcpy(k.peer, &iph->saddr, 4);
	k.pod_port = dport;
	k.peer_port = sport;
	k.proto = proto;
	return bpf_map_lookup_elem(&mf_pod_flows, &k) != NULL;
}

/* The mode for pod @daddr: its endpoint's MeshTLS one, else @mode. */
static __always_inline __u8 to_pod_mode(const struct mf_config *cfg,
					__u32 daddr, __u8 mode)
{
	struct mf_endpoint_key k = { .half = cfg->active };
	const struct mf_endpoint *ep;

	__builtin_memcpy(k.ip, &daddr, 4);
	ep = bpf_map_lookup_elem(&mf_endpoints, &k);
	if (!ep)
		return mode;
	if (ep->flags & MF_ENDPOINT_F_TLS_STRICT)
		return MF_MTLS_STRICT;
	if (ep->flags & MF_ENDPOINT_F_TLS_PERMISSIVE)
		return MF_MTLS_PERMISSIVE;
	return mode;
}

static __always_inline int to_pod_classify(struct __sk_buff *skb)
{
	const struct mf_config *cfg;
	struct parse_cursor c;
	__u16 sport = 0, dport = 0;
	struct iphdr *iph;
	__u32 zero = 0;
	int proto, type;
	__u8 mode;

	cfg = bpf_map_lookup_elem(&mf_config, &zero);
	if (!cfg || (cfg->mtls_mode != MF_MTLS_STRICT &&
		     cfg->mtls_mode != MF_MTLS_PERMISSIVE)) {
		stats_inc(MF_STAT_TO_POD_OPEN);
		return VERDICT_CONTINUE;
	}
	mode = cfg->mtls_mode;
	if (skb->protocol != bpf_htons(ETH_P_IP))
		return VERDICT_CONTINUE;	/* ARP, and no IPv6 pods */
	if (skb->mark == MF_SKB_MARK_AGENT) {
		stats_inc(MF_STAT_TO_POD_AGENT);
		return VERDICT_CONTINUE;
	}
	proto = pod_ipv4(skb, &c, &iph);
	if (proto == POD_NOT_IPV4)
		return VERDICT_CONTINUE;
	if (proto < 0) {
		/* An IPv4 frame too short for its header reaches no
		 * socket; under STRICT it is no one's to let through. */
		return mode == MF_MTLS_STRICT ?
		       VERDICT_DROP(MF_STAT_DROP_STRICT) : VERDICT_CONTINUE;
	}
	/* A MeshTLS that selects the pod sets its own mode. */
	if (cfg->flags & MF_CONFIG_F_TLS_MODES)
		mode = to_pod_mode(cfg, iph->daddr, mode);
	if (to_pod_exempt(cfg, iph->saddr)) {
		stats_inc(MF_STAT_TO_POD_EXEMPT);
		return VERDICT_CONTINUE;
	}
	/* A fragment has no ports (but its first): it is never a flow's. */
	if (!parse_ipv4_is_fragment(iph)) {
		if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) &&
		    parse_ports(&c, &sport, &dport) == 0 &&
		    to_pod_return(iph, sport, dport, (__u8)proto)) {
			stats_inc(MF_STAT_TO_POD_RETURN);
			return VERDICT_CONTINUE;
		}
		/* Replies and errors answer what the pod sent. */
		type = proto == IPPROTO_ICMP ? parse_icmp_type(&c) : -1;
		if (type == 0 || type == 3 || type == 11) {
			stats_inc(MF_STAT_TO_POD_RETURN);
			return VERDICT_CONTINUE;
		}
	}
	to_pod_count(iph, bpf_ntohs(dport), (__u8)proto,
		     mode == MF_MTLS_STRICT);
	if (mode == MF_MTLS_STRICT)
		return VERDICT_DROP(MF_STAT_DROP_STRICT);
	stats_inc(MF_STAT_TO_POD_PLAINTEXT);
	return VERDICT_CONTINUE;
}

SEC("tc")
int mf_pod_egress(struct __sk_buff *skb)
{
	int v;

	stats_inc(MF_STAT_TO_POD_PACKETS);
	v = to_pod_classify(skb);
	return verdict_exit(v == VERDICT_CONTINUE ? TC_ACT_UNSPEC : v);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
