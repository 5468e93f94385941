// SPDX-License-Identifier: Apache-2.0
/*
 * lib/der.c: the writer's length and integer encodings, and the reader on
 * a certificate the openssl CLI made (in a temporary directory removed at
 * the end), whole, truncated and corrupted byte by byte.
 */
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "der.h"
#include "meshforge/abi.h"


static char dir[64];
static bool have_cert;

static bool setup(void)
{
	return ph_make_pki(dir, sizeof(dir), "der") &&
	       ph_sh("cd %s && openssl x509 -in client.crt -outform der "
		     "-out client.der", dir) == 0;
}

static bool test_der_lengths(void)
{
	static const uint8_t z[300];
	struct der d;
	bool ok;

	der_init(&d);
	der_tlv(&d, DER_OCTET_STRING, z, 127);
	ok = ASSERT_EQ(d.len, 129) && ASSERT_EQ(d.p[1], 127);
	der_free(&d);
	der_tlv(&d, DER_OCTET_STRING, z, 200);
	ok = ok && ASSERT_EQ(d.len, 203) && ASSERT_EQ(d.p[1], 0x81) &&
	     ASSERT_EQ(d.p[2], 200);
	der_free(&d);
	/* Nested: the outer length grows after the inner one did. */
	size_t m = der_begin(&d, DER_SEQUENCE);

	der_tlv(&d, DER_OCTET_STRING, z, 300);
	der_end(&d, m);
	ok = ok && ASSERT_EQ(d.err, 0) && ASSERT_EQ(d.len, 4 + 4 + 300) &&
	     ASSERT_EQ(d.p[0], 0x30) && ASSERT_EQ(d.p[1], 0x82) &&
	     ASSERT_EQ(d.p[2], 0x01) && ASSERT_EQ(d.p[3], 0x30) &&
	     ASSERT_EQ(d.p[4], 0x04) && ASSERT_EQ(d.p[5], 0x82) &&
	     ASSERT_EQ(d.p[6], 0x01) && ASSERT_EQ(d.p[7], 0x2c);
	struct der_rd r = { d.p, d.len }, c, in;
	uint8_t tag;

	ok = ok && ASSERT_EQ(der_next(&r, &tag, &c, NULL), 0) &&
	     ASSERT_EQ(tag, DER_SEQUENCE) && ASSERT_EQ(c.len, 304) &&
	     ASSERT_EQ(der_next(&c, &tag, &in, NULL), 0) &&
	     ASSERT_EQ(in.len, 300) && ASSERT_EQ(r.len, 0) &&
	     ASSERT_EQ(der_next(&r, &tag, &c, NULL), -EBADMSG);
	der_free(&d);
	return ok;
}

static bool test_der_integers_and_times(void)
{
	static const uint8_t high[] = { 0x00, 0x00, 0x80, 0x01 };
	static const uint8_t want_high[] = { 0x02, 0x03, 0x00, 0x80, 0x01 };
	static const uint8_t want_zero[] = { 0x02, 0x01, 0x00 };
	static const uint8_t want_two[] = { 0x02, 0x01, 0x02 };
	struct der d;
	bool ok;

	der_init(&d);
	der_uint_bytes(&d, high, sizeof(high));
	ok = ASSERT_EQ(d.len, sizeof(want_high)) &&
	     ASSERT_MEMEQ(d.p, want_high, sizeof(want_high));
	der_free(&d);
	der_uint(&d, 0);
	ok = ok && ASSERT_EQ(d.len, 3) && ASSERT_MEMEQ(d.p, want_zero, 3);
	der_free(&d);
	der_uint(&d, 2);
	ok = ok && ASSERT_EQ(d.len, 3) && ASSERT_MEMEQ(d.p, want_two, 3);
	der_free(&d);
	/* 2049-12-31T23:59:59Z is the last UTCTime. */
	der_time(&d, (time_t)2524607999);
	ok = ok && ASSERT_EQ(d.p[0], DER_UTC_TIME) &&
	     ASSERT_EQ(d.len, 15) && ASSERT_MEMEQ(d.p + 2, "491231235959Z", 13);
	der_free(&d);
	der_time(&d, (time_t)2524608000);
	ok = ok && ASSERT_EQ(d.p[0], DER_GEN_TIME) &&
	     ASSERT_EQ(d.len, 17) &&
	     ASSERT_MEMEQ(d.p + 2, "20500101000000Z", 15);
	der_free(&d);
	return ok;
}

/*
 * The SPIFFE ID of every truncation of a real certificate, and of it with
 * each byte in turn flipped.  A truncation is refused.  A flip is refused
 * (-EBADMSG, -ENOENT) or yields the URI SAN as the flipped certificate
 * spells it, which is PH_ID_CLIENT unless the flip hit one of its bytes:
 * never another ID, never a read past the end (the truncations are
 * exact-size heap copies, so under ASan an overrun is caught too).
 */
static bool test_der_walker_robust(void)
{
	char id[MF_SPIFFE_MAX], want[sizeof(PH_ID_CLIENT)];
	uint8_t der[4096], *cp;
	const uint8_t *uri;
	size_t len, i, at;
	char file[96];
	FILE *f;
	bool ok;
	int ret;

	if (!have_cert)
		TEST_SKIP("no certificate (openssl CLI missing?)");
	snprintf(file, sizeof(file), "%s/client.der", dir);
	f = fopen(file, "rb");
	if (!ASSERT_TRUE(f))
		return false;
	len = fread(der, 1, sizeof(der), f);
	fclose(f);
	uri = memmem(der, len, PH_ID_CLIENT, strlen(PH_ID_CLIENT));
	if (!ASSERT_TRUE(uri) ||
	    !ASSERT_EQ(der_cert_spiffe(der, len, id, sizeof(id)), 0) ||
	    !ASSERT_STREQ(id, PH_ID_CLIENT))
		return false;
	for (i = 0; i < len; i++) {
		cp = malloc(i ? i : 1);
		if (!ASSERT_TRUE(cp))
			return false;
		memcpy(cp, der, i);
		ret = der_cert_spiffe(cp, i, id, sizeof(id));
		free(cp);
		if (!ASSERT_EQ(ret, -EBADMSG))
			return false;
	}
	for (i = 0; i < len; i++) {
		memcpy(want, PH_ID_CLIENT, sizeof(want));
		at = i - (size_t)(uri - der);	/* wraps when before it */
		if (at < strlen(PH_ID_CLIENT))
			want[at] ^= 0xff;
		der[i] ^= 0xff;
		ret = der_cert_spiffe(der, len, id, sizeof(id));
		der[i] ^= 0xff;
		/* A flip in "spiffe://" leaves no SPIFFE ID at all. */
		if (ret == 0)
			ok = ASSERT_TRUE(at >= 9) && ASSERT_STREQ(id, want);
		else
			ok = ASSERT_TRUE(ret == -EBADMSG || ret == -ENOENT);
		if (!ok) {
			fprintf(stderr, "byte %zu of %zu flipped: %d\n", i, len,
				ret);
			return false;
		}
	}
	return true;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	have_cert = setup();
	if (ph_have_openssl() && !have_cert) {
		/* openssl is there, so not making a certificate is a bug. */
		printf("FAIL: %s/setup\n", TEST_NAME);
		test_failed_count++;
	}
	TEST_RUN(test_der_lengths);
	TEST_RUN(test_der_integers_and_times);
	TEST_RUN(test_der_walker_robust);
	ph_remove(dir);
	TEST_MAIN_END();
}
