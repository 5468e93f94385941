// SPDX-License-Identifier: Apache-2.0
/*
 * PROXY protocol v2 (haproxy doc/proxy-protocol.txt, section 2.2), the
 * subset the tunnel speaks: command PROXY, family AF_INET, transport STREAM.
 *
 * Wire layout:
 *   0..11  signature  0D 0A 0D 0A 00 0D 0A 51 55 49 54 0A
 *   12     version (high nibble, 2) | command (low nibble, 1 = PROXY)
 *   13     family (high nibble, 1 = AF_INET) | transport (low, 1 = STREAM)
 *   14..15 length of what follows, network order
 *   16..   src addr (4), dst addr (4), src port (2), dst port (2), then TLVs
 *          (type 1 byte, length 2 bytes network order, value).
 *
 * Decoding follows the incremental parser contract (>0 consumed, 0 need
 * more, <0 error) and rejects as early as the bytes allow: a wrong signature
 * byte fails on the byte that differs, so a plaintext peer that is not
 * speaking PROXY v2 is refused without waiting for 16 bytes.
 *
 * We refuse LOCAL (health checks of a load balancer): the tunnel has no use
 * for a connection without addresses, and accepting one would let a peer
 * skip telling us where it is going.
 */
#include <errno.h>
#include <string.h>

#include "proxyv2.h"

static const uint8_t pp2_sig[12] = {
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
};

#define PP2_HDR_LEN		16	/* signature, ver/cmd, fam, length */
#define PP2_VER_CMD_PROXY	0x21	/* version 2, command PROXY */
#define PP2_FAM_TCP4		0x11	/* AF_INET, STREAM */
#define PP2_ADDR_LEN_TCP4	12
#define PP2_TLV_HDR_LEN		3
#define PP2_ORIG_DST_LEN	6	/* IPv4 + port */
#define PP2_REQ_ID_LEN		8

static size_t pp2_tlv_put(uint8_t *p, uint8_t type, const void *val,
			  uint16_t len)
{
	p[0] = type;
	p[1] = len >> 8;
	p[2] = len & 0xff;
	if (len)
		memcpy(p + PP2_TLV_HDR_LEN, val, len);
	return PP2_TLV_HDR_LEN + len;
}

ssize_t pp2_encode(const struct pp2_info *info, uint8_t *buf, size_t n)
{
	size_t body = PP2_ADDR_LEN_TCP4, off;

	if (info->has_orig_dst)
		body += PP2_TLV_HDR_LEN + PP2_ORIG_DST_LEN;
	if (info->has_req_id)
		body += PP2_TLV_HDR_LEN + PP2_REQ_ID_LEN;
	if (info->ack)
		body += PP2_TLV_HDR_LEN;
	if (PP2_HDR_LEN + body > n)
		return -ENOSPC;

	memcpy(buf, pp2_sig, sizeof(pp2_sig));
	buf[12] = PP2_VER_CMD_PROXY;
	buf[13] = PP2_FAM_TCP4;
	buf[14] = body >> 8;
	buf[15] = body & 0xff;
	/* sockaddr_in already holds address and port in network order, which
	 * is the wire order: copy the bytes as they are. */
	memcpy(buf + 16, &info->src.sin_addr.s_addr, 4);
	memcpy(buf + 20, &info->dst.sin_addr.s_addr, 4);
	memcpy(buf + 24, &info->src.sin_port, 2);
	memcpy(buf + 26, &info->dst.sin_port, 2);
	off = PP2_HDR_LEN + PP2_ADDR_LEN_TCP4;

	if (info->has_orig_dst) {
		uint8_t v[PP2_ORIG_DST_LEN];

		memcpy(v, &info->orig_dst.sin_addr.s_addr, 4);
		memcpy(v + 4, &info->orig_dst.sin_port, 2);
		off += pp2_tlv_put(buf + off, PP2_TLV_MF_ORIG_DST, v, sizeof(v));
	}
	if (info->has_req_id) {
		uint8_t v[PP2_REQ_ID_LEN];
		int i;

		for (i = 0; i < PP2_REQ_ID_LEN; i++)
			v[i] = info->req_id >> (8 * (PP2_REQ_ID_LEN - 1 - i));
		off += pp2_tlv_put(buf + off, PP2_TLV_MF_REQ_ID, v, sizeof(v));
	}
	if (info->ack)
		off += pp2_tlv_put(buf + off, PP2_TLV_MF_ACK, NULL, 0);
	return off;
}

static void pp2_sin(struct sockaddr_in *sin, const uint8_t *addr,
		    const uint8_t *port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr.s_addr, addr, 4);
	memcpy(&sin->sin_port, port, 2);
}

/* Walks the TLVs in @p[0..len).  Returns 0 or -EPROTO. */
static int pp2_decode_tlvs(const uint8_t *p, size_t len, struct pp2_info *out)
{
	size_t off = 0;

	while (off < len) {
		uint8_t type;
		uint16_t vlen;
		const uint8_t *v;

		if (len - off < PP2_TLV_HDR_LEN)
			return -EPROTO;
		type = p[off];
		vlen = (uint16_t)p[off + 1] << 8 | p[off + 2];
		off += PP2_TLV_HDR_LEN;
		if (vlen > len - off)
			return -EPROTO;
		v = p + off;
		off += vlen;

		switch (type) {
		case PP2_TLV_MF_ORIG_DST:
			/* A repeated TLV would leave us guessing which one
			 * the sender meant: refuse it. */
			if (vlen != PP2_ORIG_DST_LEN || out->has_orig_dst)
				return -EPROTO;
			pp2_sin(&out->orig_dst, v, v + 4);
			out->has_orig_dst = true;
			break;
		case PP2_TLV_MF_REQ_ID: {
			uint64_t id = 0;
			int i;

			if (vlen != PP2_REQ_ID_LEN || out->has_req_id)
				return -EPROTO;
			for (i = 0; i < PP2_REQ_ID_LEN; i++)
				id = id << 8 | v[i];
			out->req_id = id;
			out->has_req_id = true;
			break;
		}
		case PP2_TLV_MF_ACK:
			if (vlen != 0 || out->ack)
				return -EPROTO;
			out->ack = true;
			break;
		default:
			/* The spec asks receivers to ignore TLVs they do
			 * not know (ALPN, authority, CRC32C, NOOP...). */
			break;
		}
	}
	return 0;
}

ssize_t pp2_decode(const uint8_t *buf, size_t n, struct pp2_info *out)
{
	size_t i, have, body;

	/* Compare the signature as far as we have it, so garbage fails fast. */
	have = n < sizeof(pp2_sig) ? n : sizeof(pp2_sig);
	for (i = 0; i < have; i++)
		if (buf[i] != pp2_sig[i])
			return -EPROTO;
	if (n > 12 && buf[12] != PP2_VER_CMD_PROXY)
		return -EPROTO;
	if (n > 13 && buf[13] != PP2_FAM_TCP4)
		return -EPROTO;
	if (n < PP2_HDR_LEN)
		return 0;

	body = (size_t)buf[14] << 8 | buf[15];
	if (body < PP2_ADDR_LEN_TCP4 || PP2_HDR_LEN + body > PP2_MAX_HEADER)
		return -EPROTO;
	if (n < PP2_HDR_LEN + body)
		return 0;

	memset(out, 0, sizeof(*out));
	pp2_sin(&out->src, buf + 16, buf + 24);
	pp2_sin(&out->dst, buf + 20, buf + 26);
	if (pp2_decode_tlvs(buf + PP2_HDR_LEN + PP2_ADDR_LEN_TCP4,
			    body - PP2_ADDR_LEN_TCP4, out) < 0)
		return -EPROTO;
	return PP2_HDR_LEN + body;
}
