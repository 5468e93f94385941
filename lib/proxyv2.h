/* SPDX-License-Identifier: Apache-2.0 */
/*
 * PROXY protocol v2 header (haproxy's proxy-protocol.txt, section 2.2),
 * TCP over IPv4 only, as the first bytes inside the agent-to-agent tunnel.
 *
 * Addresses: src = the client pod, dst = the chosen endpoint (pod IP and
 * port).  Custom TLVs (type range 0xE0-0xEF, reserved for applications):
 *   PP2_TLV_MF_ORIG_DST  0xE0: 4-byte IPv4 + 2-byte port, network order: the
 *                        destination the client dialled (service VIP:port)
 *   PP2_TLV_MF_REQ_ID    0xE1: 8-byte request id, network order
 *   PP2_TLV_MF_ACK       0xE2: no value: the sender asks for one byte,
 *                        PP2_ACK, before any of the endpoint's once the
 *                        receiver has connected to it (a health check
 *                        tells "the endpoint took the connection" from
 *                        "the tunnel is up")
 * Unknown TLVs are skipped on decode.
 */
#ifndef MF_PROXYV2_H
#define MF_PROXYV2_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PP2_TLV_MF_ORIG_DST	0xE0
#define PP2_TLV_MF_REQ_ID	0xE1
#define PP2_TLV_MF_ACK		0xE2

/* The byte PP2_TLV_MF_ACK asks for. */
#define PP2_ACK			0x06

/* Longest header we accept: 16 fixed bytes + 12 address bytes + TLVs. */
#define PP2_MAX_HEADER		512

struct pp2_info {
	struct sockaddr_in src;
	struct sockaddr_in dst;
	struct sockaddr_in orig_dst;	/* valid when has_orig_dst */
	bool has_orig_dst;
	bool has_req_id;
	uint64_t req_id;		/* valid when has_req_id */
	bool ack;			/* PP2_TLV_MF_ACK */
};

/* Writes the header for @info into @buf.  Returns its length, or -ENOSPC. */
ssize_t pp2_encode(const struct pp2_info *info, uint8_t *buf, size_t n);

/*
 * Parses a header at the start of @buf (@n bytes available).
 * Returns >0: bytes consumed; 0: need more bytes; <0: -EPROTO for a
 * malformed or unsupported header (wrong signature, version, command,
 * family, length over PP2_MAX_HEADER, bad TLV framing).
 */
ssize_t pp2_decode(const uint8_t *buf, size_t n, struct pp2_info *out);

#endif /* MF_PROXYV2_H */
