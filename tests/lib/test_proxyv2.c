// SPDX-License-Identifier: Apache-2.0
/* PROXY protocol v2 codec: wire bytes, round trip, truncation, rejection. */
#include <arpa/inet.h>

#include "harness/test.h"
#include "proxyv2.h"

static struct sockaddr_in sin4(const char *ip, uint16_t port)
{
	struct sockaddr_in s = { .sin_family = AF_INET };

	inet_pton(AF_INET, ip, &s.sin_addr);
	s.sin_port = htons(port);
	return s;
}

static struct pp2_info sample(void)
{
	struct pp2_info i = {
		.src = sin4("10.78.1.11", 40000),
		.dst = sin4("10.78.2.11", 8080),
		.orig_dst = sin4("10.96.0.10", 80),
		.has_orig_dst = true,
		.has_req_id = true,
		.req_id = 0x0102030405060708ull,
	};
	return i;
}

/* The header for sample(), written out by hand from the specification. */
static const uint8_t sample_wire[] = {
	/* signature */
	0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
	0x21,			/* version 2, command PROXY */
	0x11,			/* AF_INET, STREAM */
	0x00, 0x20,		/* 12 address bytes + 9 + 11 TLV bytes = 32 */
	10, 78, 1, 11,		/* src 10.78.1.11 */
	10, 78, 2, 11,		/* dst 10.78.2.11 */
	0x9C, 0x40,		/* src port 40000 */
	0x1F, 0x90,		/* dst port 8080 */
	0xE0, 0x00, 0x06, 10, 96, 0, 10, 0x00, 0x50,	/* orig dst :80 */
	0xE1, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8,	/* request id */
};

static bool same_sin(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_family == b->sin_family &&
	       a->sin_addr.s_addr == b->sin_addr.s_addr &&
	       a->sin_port == b->sin_port;
}

static bool test_encode_exact_bytes(void)
{
	struct pp2_info in = sample();
	uint8_t buf[PP2_MAX_HEADER];

	return ASSERT_EQ(pp2_encode(&in, buf, sizeof(buf)),
			 sizeof(sample_wire)) &&
	       ASSERT_MEMEQ(buf, sample_wire, sizeof(sample_wire));
}

static bool test_encode_nospace(void)
{
	struct pp2_info in = sample();
	uint8_t buf[PP2_MAX_HEADER];

	return ASSERT_EQ(pp2_encode(&in, buf, sizeof(sample_wire) - 1),
			 -ENOSPC) &&
	       ASSERT_EQ(pp2_encode(&in, buf, sizeof(sample_wire)),
			 sizeof(sample_wire));
}

static bool test_round_trip(void)
{
	struct pp2_info in = sample(), out;
	uint8_t buf[PP2_MAX_HEADER];
	ssize_t n;

	n = pp2_encode(&in, buf, sizeof(buf));
	if (!ASSERT_EQ(n, 48))
		return false;
	/* Trailing payload after the header must not be consumed. */
	memcpy(buf + n, "GET / HTTP/1.1\r\n", 16);
	memset(&out, 0xAA, sizeof(out));
	return ASSERT_EQ(pp2_decode(buf, n + 16, &out), n) &&
	       ASSERT_TRUE(same_sin(&out.src, &in.src)) &&
	       ASSERT_TRUE(same_sin(&out.dst, &in.dst)) &&
	       ASSERT_TRUE(out.has_orig_dst) &&
	       ASSERT_TRUE(same_sin(&out.orig_dst, &in.orig_dst)) &&
	       ASSERT_TRUE(out.has_req_id) &&
	       ASSERT_EQ(out.req_id, 0x0102030405060708ull);
}

static bool test_round_trip_no_tlvs(void)
{
	struct pp2_info in = sample(), out;
	uint8_t buf[PP2_MAX_HEADER];
	ssize_t n;

	in.has_orig_dst = false;
	in.has_req_id = false;
	n = pp2_encode(&in, buf, sizeof(buf));
	return ASSERT_EQ(n, 28) && ASSERT_EQ(buf[15], 12) &&
	       ASSERT_EQ(pp2_decode(buf, n, &out), 28) &&
	       ASSERT_TRUE(same_sin(&out.src, &in.src)) &&
	       ASSERT_TRUE(same_sin(&out.dst, &in.dst)) &&
	       ASSERT_FALSE(out.has_orig_dst) && ASSERT_FALSE(out.has_req_id);
}

/* The ack request: three bytes, round trip; a second one, or one with a
 * value, is refused. */
static bool test_ack_tlv(void)
{
	struct pp2_info in = sample(), out;
	uint8_t buf[PP2_MAX_HEADER];
	ssize_t n, plain;

	in.ack = false;
	plain = pp2_encode(&in, buf, sizeof(buf));
	in.ack = true;
	n = pp2_encode(&in, buf, sizeof(buf));
	if (!ASSERT_EQ(n, plain + 3) || !ASSERT_EQ(buf[n - 3], PP2_TLV_MF_ACK) ||
	    !ASSERT_EQ(pp2_decode(buf, n, &out), n) || !ASSERT_TRUE(out.ack) ||
	    !ASSERT_TRUE(out.has_req_id))
		return false;
	/* Twice. */
	buf[n] = PP2_TLV_MF_ACK;
	buf[n + 1] = buf[n + 2] = 0;
	buf[15] += 3;
	if (!ASSERT_EQ(pp2_decode(buf, n + 3, &out), -EPROTO))
		return false;
	/* With a value. */
	buf[15] -= 3;
	n = pp2_encode(&in, buf, sizeof(buf));
	buf[n - 1] = 1;
	buf[n] = 0;
	buf[15] += 1;
	return ASSERT_EQ(pp2_decode(buf, n + 1, &out), -EPROTO);
}

static bool test_every_truncation_needs_more(void)
{
	struct pp2_info out;
	size_t k;

	for (k = 0; k < sizeof(sample_wire); k++) {
		if (!ASSERT_EQ(pp2_decode(sample_wire, k, &out), 0)) {
			fprintf(stderr, "  at length %zu\n", k);
			return false;
		}
	}
	return ASSERT_EQ(pp2_decode(sample_wire, sizeof(sample_wire), &out),
			 sizeof(sample_wire));
}

/* Decodes @len bytes of @buf, discarding the result. */
static ssize_t decode_mutated(uint8_t *buf, size_t len)
{
	struct pp2_info out;

	return pp2_decode(buf, len, &out);
}

/* sample_wire with byte @at set to @val is rejected, and as soon as that
 * byte arrives. */
static bool rejected(size_t at, uint8_t val)
{
	uint8_t buf[sizeof(sample_wire)];

	memcpy(buf, sample_wire, sizeof(buf));
	buf[at] = val;
	if (ASSERT_EQ(decode_mutated(buf, sizeof(buf)), -EPROTO) &&
	    ASSERT_EQ(decode_mutated(buf, at + 1), -EPROTO))
		return true;
	fprintf(stderr, "  byte %zu set to 0x%02x\n", at, val);
	return false;
}

static bool test_bad_signature(void)
{
	for (size_t i = 0; i < 12; i++)
		if (!rejected(i, sample_wire[i] ^ 0x40))
			return false;
	/* A plaintext HTTP request is not a PROXY header. */
	return ASSERT_EQ(decode_mutated((uint8_t *)"GET / HTTP/1.1\r\n", 3),
			 -EPROTO);
}

static bool test_bad_version_command_family(void)
{
	static const struct {
		size_t at;
		uint8_t val;
	} bad[] = {
		{ 12, 0x11 },	/* version 1 */
		{ 12, 0x31 },	/* version 3 */
		{ 12, 0x20 },	/* LOCAL: refused, see proxyv2.c */
		{ 12, 0x22 },	/* undefined command */
		{ 13, 0x00 },	/* AF_UNSPEC */
		{ 13, 0x21 },	/* AF_INET6 */
		{ 13, 0x31 },	/* AF_UNIX */
		{ 13, 0x12 },	/* AF_INET, DGRAM */
		{ 13, 0x10 },	/* AF_INET, UNSPEC */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!rejected(bad[i].at, bad[i].val))
			return false;
	return true;
}

static bool test_bad_length(void)
{
	/* Lengths too short to hold the IPv4 addresses, one byte over the
	 * limit, and the largest: refused on the fixed 16 bytes alone. */
	static const size_t bad[] = { 11, PP2_MAX_HEADER - 16 + 1, 0xffff };
	uint8_t buf[PP2_MAX_HEADER + 64];

	memset(buf, 0, sizeof(buf));
	memcpy(buf, sample_wire, sizeof(sample_wire));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf[14] = bad[i] >> 8;
		buf[15] = bad[i] & 0xff;
		if (!ASSERT_EQ(decode_mutated(buf, 16), -EPROTO))
			return false;
	}
	/* Exactly the limit, padded with an unknown TLV, is accepted. */
	buf[14] = (PP2_MAX_HEADER - 16) >> 8;
	buf[15] = (PP2_MAX_HEADER - 16) & 0xff;
	buf[28] = 0x04;	/* PP2_TYPE_NOOP */
	buf[29] = (PP2_MAX_HEADER - 28 - 3) >> 8;
	buf[30] = (PP2_MAX_HEADER - 28 - 3) & 0xff;
	return ASSERT_EQ(decode_mutated(buf, PP2_MAX_HEADER - 1), 0) &&
	       ASSERT_EQ(decode_mutated(buf, sizeof(buf)), PP2_MAX_HEADER);
}

/* Builds a header with @tlvs appended after the addresses. */
static size_t with_tlvs(uint8_t *buf, const uint8_t *tlvs, size_t n)
{
	size_t body = 12 + n;

	memcpy(buf, sample_wire, 28);
	buf[14] = body >> 8;
	buf[15] = body & 0xff;
	memcpy(buf + 28, tlvs, n);
	return 28 + n;
}

static bool test_bad_tlv_framing(void)
{
	static const struct {
		uint8_t b[24];
		size_t n;
	} bad[] = {
		{ { 0xE0 }, 1 },			/* header cut after type */
		{ { 0xE0, 0x00 }, 2 },			/* cut inside length */
		{ { 0x05, 0x00, 0x04, 1, 2, 3 }, 6 },	/* value overruns */
		{ { 0xE0, 0x00, 0x05, 1, 2, 3, 4, 5 }, 8 },	/* orig dst 5 */
		{ { 0xE0, 0x00, 0x07, 1, 2, 3, 4, 5, 6, 7 }, 10 },
		{ { 0xE1, 0x00, 0x04, 1, 2, 3, 4 }, 7 },	/* req id 4 */
		/* orig dst twice */
		{ { 0xE0, 0, 6, 1, 2, 3, 4, 5, 6, 0xE0, 0, 6, 1, 2, 3, 4, 5, 6 },
		  18 },
		/* request id twice */
		{ { 0xE1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
		    0xE1, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8 }, 22 },
	};
	uint8_t buf[PP2_MAX_HEADER];
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		len = with_tlvs(buf, bad[i].b, bad[i].n);
		if (!ASSERT_EQ(decode_mutated(buf, len), -EPROTO)) {
			fprintf(stderr, "  case %zu\n", i);
			return false;
		}
	}
	return true;
}

static bool test_unknown_tlvs_skipped(void)
{
	static const uint8_t tlvs[] = {
		0x01, 0x00, 0x02, 'h', '2',		/* ALPN */
		0x04, 0x00, 0x00,			/* NOOP, empty */
		0xE0, 0x00, 0x06, 10, 96, 0, 10, 0x01, 0xBB,	/* :443 */
		0xEF, 0x00, 0x03, 9, 9, 9,		/* unknown custom */
	};
	uint8_t buf[PP2_MAX_HEADER];
	struct pp2_info out;
	size_t len = with_tlvs(buf, tlvs, sizeof(tlvs));
	struct sockaddr_in want = sin4("10.96.0.10", 443);

	return ASSERT_EQ(pp2_decode(buf, len, &out), len) &&
	       ASSERT_TRUE(out.has_orig_dst) &&
	       ASSERT_TRUE(same_sin(&out.orig_dst, &want)) &&
	       ASSERT_FALSE(out.has_req_id);
}

/* Deterministic random mutations of a valid header: whatever the bytes,
 * the decoder keeps its contract (run under ASan to check its reads). */
static bool test_random_mutations_keep_contract(void)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint8_t buf[PP2_MAX_HEADER + 16];
	struct pp2_info out;
	int i, accepted = 0;

	for (i = 0; i < 200000; i++) {
		size_t len = sizeof(sample_wire), k, flips;
		ssize_t r;

		memcpy(buf, sample_wire, len);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		flips = 1 + x % 3;
		for (k = 0; k < flips; k++) {
			/* Mostly past the signature, where parsing happens. */
			size_t at = 12 + (x >> (8 + 8 * k)) % (len - 12);

			buf[at] = (uint8_t)(x >> (32 + 8 * k));
		}
		len = (x >> 56) % (len + 1);
		r = pp2_decode(buf, len, &out);
		if (r > 0) {
			accepted++;
			if (!ASSERT_EQ(r, 16 + ((size_t)buf[14] << 8 | buf[15])) ||
			    !ASSERT_TRUE((size_t)r <= len))
				return false;
		} else if (!ASSERT_TRUE(r == 0 || r == -EPROTO)) {
			return false;
		}
	}
	/* Some mutations leave a valid header: the loop reached the end. */
	return ASSERT_TRUE(accepted > 0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_encode_exact_bytes);
	TEST_RUN(test_encode_nospace);
	TEST_RUN(test_round_trip);
	TEST_RUN(test_round_trip_no_tlvs);
	TEST_RUN(test_ack_tlv);
	TEST_RUN(test_every_truncation_needs_more);
	TEST_RUN(test_bad_signature);
	TEST_RUN(test_bad_version_command_family);
	TEST_RUN(test_bad_length);
	TEST_RUN(test_bad_tlv_framing);
	TEST_RUN(test_unknown_tlvs_skipped);
	TEST_RUN(test_random_mutations_keep_contract);
	TEST_MAIN_END();
}
