/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A bounds-checked packet cursor for Ethernet / IPv4 / IPv6 / TCP.
 *
 * Return contract of every parse_<hdr>():
 *   - on success it stores a pointer to the header in *hdr, moves the cursor
 *     past the whole header (IPv4 options and TCP options included) and
 *     returns a value >= 0: the next protocol for Ethernet (ethertype, host
 *     order) and IPv4 (IP protocol number), 0 for TCP;
 *   - when the header does not fit in [pos, end) or is malformed (bad IPv4
 *     version or IHL, bad TCP data offset) it returns PARSE_ERR (< 0) and
 *     leaves both the cursor and *hdr untouched.
 * The cursor only covers the linear part of the skb: call the helpers after
 * the headers have been pulled in (bpf_skb_pull_data).
 *
 * Header fields are read with byte loads on purpose: vmlinux.h marks every
 * struct preserve_access_index, and a CO-RE relocated bitfield read (iphdr's
 * ihl/version, tcphdr's doff) on packet memory is neither needed nor obviously
 * bounded for the verifier.
 */
#ifndef MF_BPF_PARSE_H
#define MF_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef ETH_HLEN
#define ETH_HLEN	14
#endif
#ifndef ETH_P_IP
#define ETH_P_IP	0x0800
#endif
#define PARSE_IPV4_HLEN_MIN	20
#define PARSE_IPV4_HLEN_MAX	60
#define PARSE_TCP_HLEN_MIN	20
#define PARSE_TCP_HLEN_MAX	60
#define PARSE_IP_MF		0x2000	/* more fragments */
#define PARSE_IP_OFFSET		0x1fff	/* fragment offset, 8-byte units */

#define PARSE_ERR	(-1)

struct parse_cursor {
	void *pos;
	void *end;
};

static __always_inline void parse_cursor_init(struct parse_cursor *c,
					      struct __sk_buff *skb)
{
	c->pos = (void *)(long)skb->data;
	c->end = (void *)(long)skb->data_end;
}

/* Ethernet without VLAN tags: pod veths carry none, and a tagged frame is
 * simply not IPv4 to the caller. */
static __always_inline int parse_ethhdr(struct parse_cursor *c,
					struct ethhdr **hdr)
{
	struct ethhdr *eth = c->pos;

	if ((void *)(eth + 1) > c->end)
		return PARSE_ERR;
	c->pos = eth + 1;
	*hdr = eth;
	return bpf_ntohs(eth->h_proto);
}

static __always_inline int parse_iphdr(struct parse_cursor *c,
				       struct iphdr **hdr)
{
	struct iphdr *iph = c->pos;
	__u8 vihl;
	__u32 hlen;

	if ((void *)iph + PARSE_IPV4_HLEN_MIN > c->end)
		return PARSE_ERR;
	vihl = *(__u8 *)iph;
	if ((vihl >> 4) != 4)
		return PARSE_ERR;
	hlen = (vihl & 0x0f) * 4;
	if (hlen < PARSE_IPV4_HLEN_MIN)
		return PARSE_ERR;
	/* hlen is at most 60 here, which keeps the variable offset bounded
	 * for the verifier's packet range check. */
	if ((void *)iph + hlen > c->end)
		return PARSE_ERR;
	c->pos = (void *)iph + hlen;
	*hdr = iph;
	return iph->protocol;
}

#ifndef ETH_P_IPV6
#define ETH_P_IPV6	0x86DD
#endif
#define PARSE_IPV6_HLEN		40
/* IPv6 extension headers walked to the upper-layer header: hop-by-hop
 * options, routing, destination options; a fragment header ends the
 * walk (what follows it may be no header at all). */
#define PARSE_IPV6_HOPOPTS	0
#define PARSE_IPV6_ROUTING	43
#define PARSE_IPV6_FRAGMENT	44
#define PARSE_IPV6_DSTOPTS	60
#define PARSE_IPV6_EXT_MAX	3

/* The IPv6 header and its extension headers (up to PARSE_IPV6_EXT_MAX of
 * hop-by-hop, routing and destination options): returns the next header
 * after them, the cursor past them.  PARSE_IPV6_FRAGMENT when a fragment
 * header comes (the cursor at it), or when more extension headers do. */
static __always_inline int parse_ipv6hdr(struct parse_cursor *c,
					 struct ipv6hdr **hdr)
{
	struct ipv6hdr *ip6 = c->pos;
	__u8 *ext;
	int next;

	if ((void *)ip6 + PARSE_IPV6_HLEN > c->end)
		return PARSE_ERR;
	if ((*(__u8 *)ip6 >> 4) != 6)
		return PARSE_ERR;
	next = ip6->nexthdr;
	ext = (void *)ip6 + PARSE_IPV6_HLEN;
	for (int i = 0; i < PARSE_IPV6_EXT_MAX; i++) {
		__u32 len;

		if (next != PARSE_IPV6_HOPOPTS && next != PARSE_IPV6_ROUTING &&
		    next != PARSE_IPV6_DSTOPTS)
			break;
		if ((void *)(ext + 2) > c->end)
			return PARSE_ERR;
		/* Its length in 8-byte units past the first 8. */
		len = ((__u32)ext[1] + 1) * 8;
		next = ext[0];
		if ((void *)ext + len > c->end)
			return PARSE_ERR;
		ext += len;
	}
	if (next == PARSE_IPV6_HOPOPTS || next == PARSE_IPV6_ROUTING ||
	    next == PARSE_IPV6_DSTOPTS)
		next = PARSE_IPV6_FRAGMENT;	/* too many to walk: unknown */
	c->pos = ext;
	*hdr = ip6;
	return next;
}

/* True for any fragment of a datagram (first, middle or last). */
static __always_inline bool parse_ipv4_is_fragment(const struct iphdr *iph)
{
	return (iph->frag_off & bpf_htons(PARSE_IP_MF | PARSE_IP_OFFSET)) != 0;
}

static __always_inline int parse_tcphdr(struct parse_cursor *c,
					struct tcphdr **hdr)
{
	struct tcphdr *th = c->pos;
	__u32 hlen;

	if ((void *)th + PARSE_TCP_HLEN_MIN > c->end)
		return PARSE_ERR;
	/* Byte 12: data offset in the high nibble, in 32-bit words. */
	hlen = (((__u8 *)th)[12] >> 4) * 4;
	if (hlen < PARSE_TCP_HLEN_MIN)
		return PARSE_ERR;
	if ((void *)th + hlen > c->end)
		return PARSE_ERR;
	c->pos = (void *)th + hlen;
	*hdr = th;
	return 0;
}

/* The ports of a TCP or UDP header at the cursor: its first four bytes,
 * in network order.  The cursor does not move. */
static __always_inline int parse_ports(const struct parse_cursor *c,
				       __u16 *sport, __u16 *dport)
{
	__u16 *p = c->pos;

	if ((void *)(p + 2) > c->end)
		return PARSE_ERR;
	*sport = p[0];
	*dport = p[1];
	return 0;
}

/* The type of an ICMP header at the cursor. */
static __always_inline int parse_icmp_type(const struct parse_cursor *c)
{
	__u8 *p = c->pos;

	if ((void *)(p + 1) > c->end)
		return PARSE_ERR;
	return p[0];
}

#endif /* MF_BPF_PARSE_H */
