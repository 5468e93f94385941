// SPDX-License-Identifier: Apache-2.0
#include "harness/test.h"
#include "spiffe.h"

static bool test_parse_valid(void)
{
	struct spiffe_id id;

	if (!ASSERT_EQ(spiffe_parse("spiffe://mesh.local/ns/default/sa/web", &id), 0))
		return false;
	if (!ASSERT_STREQ(id.trust_domain, "mesh.local"))
		return false;
	if (!ASSERT_STREQ(id.path, "/ns/default/sa/web"))
		return false;
	return ASSERT_EQ(spiffe_parse("spiffe://a_b-c.9/X.y-z_1", NULL), 0);
}

static bool test_parse_invalid(void)
{
	static const char *const bad[] = {
		"",
		"spiffe://",
		"spiffe:///ns/a",		/* empty trust domain */
		"spiffe://mesh.local",		/* no path */
		"spiffe://mesh.local/",		/* empty path */
		"spiffe://mesh.local/ns//a",	/* empty segment */
		"spiffe://mesh.local/ns/a/",	/* trailing slash */
		"spiffe://mesh.local/./a",
		"spiffe://mesh.local/ns/../a",
		"spiffe://Mesh.local/ns/a",	/* upper-case trust domain */
		"spiffe://mesh.local:8443/ns/a",/* port */
		"spiffe://user@mesh.local/ns/a",/* userinfo */
		"spiffe://mesh.local/ns/a?q=1",	/* query */
		"spiffe://mesh.local/ns/a#f",	/* fragment */
		"spiffe://mesh.local/ns/a+b",	/* '+' is our file-stem separator */
		"SPIFFE://mesh.local/ns/a",
		"https://mesh.local/ns/a",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (spiffe_parse(bad[i], NULL) != -EINVAL) {
			fprintf(stderr, "accepted invalid ID \"%s\"\n", bad[i]);
			return false;
		}
	}
	return true;
}

static bool test_parse_too_long(void)
{
	char s[MF_SPIFFE_MAX + 8];

	memset(s, 'a', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	memcpy(s, "spiffe://td/", 12);
	return ASSERT_EQ(spiffe_parse(s, NULL), -ENAMETOOLONG);
}

static bool test_trust_domain(void)
{
	return ASSERT_EQ(spiffe_check_trust_domain("mesh.local"), 0) &&
	       ASSERT_EQ(spiffe_check_trust_domain(""), -EINVAL) &&
	       ASSERT_EQ(spiffe_check_trust_domain("mesh/local"), -EINVAL) &&
	       ASSERT_EQ(spiffe_check_trust_domain("MESH"), -EINVAL) &&
	       ASSERT_TRUE(spiffe_in_trust_domain("spiffe://mesh.local/a", "mesh.local")) &&
	       ASSERT_FALSE(spiffe_in_trust_domain("spiffe://mesh.localx/a", "mesh.local")) &&
	       ASSERT_FALSE(spiffe_in_trust_domain("spiffe://other/a", "mesh.local"));
}

static bool test_prefix(void)
{
	return ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local/"), 0) &&
	       ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local/ns/batch/"), 0) &&
	       ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local/ns/bat"), 0) &&
	       /* a bare trust domain: all of its IDs (Kuma takes it) */
	       ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local"), 0) &&
	       ASSERT_EQ(spiffe_check_prefix("spiffe://"), -EINVAL) &&
	       ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local:80"), -EINVAL) &&
	       ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local//"), -EINVAL) &&
	       ASSERT_EQ(spiffe_check_prefix("spiffe://mesh.local/ns/*"), -EINVAL);
}

static bool test_file_stem(void)
{
	char buf[MF_SPIFFE_MAX];
	char small[8];

	if (!ASSERT_EQ(spiffe_file_stem("spiffe://mesh.local/ns/default/sa/web",
					buf, sizeof(buf)), 0))
		return false;
	if (!ASSERT_STREQ(buf, "mesh.local+ns+default+sa+web"))
		return false;
	return ASSERT_EQ(spiffe_file_stem("spiffe://mesh.local/ns/a", small,
					  sizeof(small)), -ENAMETOOLONG) &&
	       ASSERT_EQ(spiffe_file_stem("spiffe://mesh.local/../a", buf,
					  sizeof(buf)), -EINVAL);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_parse_valid);
	TEST_RUN(test_parse_invalid);
	TEST_RUN(test_parse_too_long);
	TEST_RUN(test_trust_domain);
	TEST_RUN(test_prefix);
	TEST_RUN(test_file_stem);
	TEST_MAIN_END();
}
