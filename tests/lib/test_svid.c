// SPDX-License-Identifier: Apache-2.0
/*
 * The X.509-SVID rules (lib/svid.c) on certificates the openssl CLI makes
 * at test time: a leaf per rule (pki_harness.h's ph_svid_cases), each
 * judged as a client's and as a server's; the validity period at either
 * side of it; chains through intermediate CAs, proper and broken (not a
 * CA, no keyCertSign, keyUsage not critical, a pathLenConstraint the
 * chain exceeds, a SPIFFE ID of its own); and every truncation of a good
 * certificate refused as malformed, never read past.  What the agent does
 * with a refusal is tests/agent/test_tunnel.c's; `mfctl cert verify`,
 * tests/ctl/test_pki.c's.
 */
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "fsio.h"
#include "svid.h"

#define ID	"spiffe://mesh.local/ns/default/sa/web"

/* Intermediate CAs' extension lines. */
#define INT_BC	"basicConstraints=critical,CA:TRUE\n"
#define INT_KU	"keyUsage=critical,keyCertSign,cRLSign\n"

static char dir[64];
static bool have_certs;

/* The DER of the first certificate of PEM file @stem.crt in dir. */
struct cert {
	uint8_t der[4096];
	size_t len;
};

static bool load(const char *stem, struct cert *c)
{
	char path[160];
	char *pem = NULL;
	size_t len = 0;
	int n = -1;

	snprintf(path, sizeof(path), "%s/%s.crt", dir, stem);
	if (fsio_read_all(path, &pem, &len) == 0)
		n = wc_CertPemToDer((const unsigned char *)pem, (int)len,
				    c->der, sizeof(c->der), CERT_TYPE);
	free(pem);
	if (!ASSERT_TRUE(n > 0)) {
		fprintf(stderr, "  cannot load %s\n", path);
		return false;
	}
	c->len = (size_t)n;
	return true;
}

/* The chain of the stems in @stems (NULL-terminated), leaf first. */
static enum svid_rule check(const char *const *stems, unsigned int roles,
			    time_t now, size_t *at)
{
	static struct cert certs[6];
	struct svid_cert v[6];
	size_t n = 0;

	for (; stems[n] && n < 6; n++) {
		if (!load(stems[n], &certs[n]))
			return SVID_RULE_MAX;
		v[n] = (struct svid_cert){ certs[n].der, certs[n].len };
	}
	return svid_check(v, n, roles, now, at);
}

static bool setup(void)
{
	if (!ph_have_openssl())
		return false;
	snprintf(dir, sizeof(dir), "/tmp/mf-test-svid-XXXXXX");
	if (!mkdtemp(dir) || ph_make_ca(dir, "ca", "mf-test-ca"))
		return false;
	for (size_t i = 0; i < PH_SVID_NCASES; i++)
		if (ph_make_svid(dir, "ca", "", &ph_svid_cases[i], ID))
			return false;
	/* int (pathlen 0) and what it signs; int-b below it (a second
	 * level, which its pathlen forbids); intermediates each breaking a
	 * signing rule, each with a leaf. */
	return ph_make_signed(dir, "ca", "int", "/CN=int",
			      "basicConstraints=critical,CA:TRUE,pathlen:0\n"
			      INT_KU, ID, 2) == 0 &&
	       ph_make_signed(dir, "int", "via-int", "/CN=svid",
			      PH_BC PH_KU PH_EKU PH_URI, ID, 2) == 0 &&
	       ph_make_signed(dir, "int", "int-b", "/CN=int-b",
			      INT_BC INT_KU, ID, 2) == 0 &&
	       ph_make_signed(dir, "int-b", "via-int-b", "/CN=svid",
			      PH_BC PH_KU PH_EKU PH_URI, ID, 2) == 0 &&
	       ph_make_signed(dir, "ca", "int-id", "/CN=int-id",
			      INT_BC INT_KU
			      "subjectAltName=URI:spiffe://mesh.local\n", ID,
			      2) == 0 &&
	       ph_make_signed(dir, "ca", "int-not-ca", "/CN=int-not-ca",
			      "basicConstraints=critical,CA:FALSE\n" INT_KU,
			      ID, 2) == 0 &&
	       ph_make_signed(dir, "ca", "int-no-bc", "/CN=int-no-bc",
			      INT_KU, ID, 2) == 0 &&
	       ph_make_signed(dir, "ca", "int-no-sign", "/CN=int-no-sign",
			      INT_BC "keyUsage=critical,cRLSign\n", ID,
			      2) == 0 &&
	       ph_make_signed(dir, "ca", "int-ku-soft", "/CN=int-ku-soft",
			      INT_BC "keyUsage=keyCertSign\n", ID, 2) == 0;
}

/* Each leaf of ph_svid_cases as a client's and as a server's, alone and
 * with the CA above it: the rule the case names, at the leaf. */
static bool test_leaf_rules(void)
{
	time_t now = time(NULL);
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	for (size_t i = 0; i < PH_SVID_NCASES; i++) {
		const struct ph_svid_case *c = &ph_svid_cases[i];
		const char *alone[] = { c->name, NULL };
		const char *chain[] = { c->name, "ca", NULL };
		size_t at = 99;
		bool case_ok;

		case_ok = ASSERT_EQ(check(alone, SVID_CLIENT, now, &at),
				    c->client) &&
			  ASSERT_EQ(at, 0) &&
			  ASSERT_EQ(check(chain, SVID_SERVER, now, &at),
				    c->server) &&
			  ASSERT_EQ(at, 0) &&
			  ASSERT_EQ(check(chain, SVID_CLIENT | SVID_SERVER,
					  now, &at),
				    c->client ? c->client : c->server);
		if (!case_ok) {
			fprintf(stderr, "  case %s\n", c->name);
			ok = false;
		}
	}
	return ok;
}

/* The validity period holds on both sides: before notBefore and after
 * notAfter, of the leaf and of a signing certificate. */
static bool test_validity(void)
{
	static const char *const leaf[] = { "good", NULL };
	static const char *const chain[] = { "via-int", "int", NULL };
	time_t now = time(NULL);
	size_t at;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	return ASSERT_EQ(check(leaf, SVID_CLIENT, now, &at), SVID_OK) &&
	       ASSERT_EQ(check(leaf, SVID_CLIENT, now - 86400, &at),
			 SVID_NOT_YET_VALID) &&
	       ASSERT_EQ(check(leaf, SVID_CLIENT, now + 3 * 86400, &at),
			 SVID_EXPIRED) &&
	       ASSERT_EQ(check(chain, SVID_CLIENT, now + 3 * 86400, &at),
			 SVID_EXPIRED) && ASSERT_EQ(at, 0);
}

/* Chains through intermediates: the proper ones pass (a SPIFFE ID on an
 * intermediate included), each broken signing rule is named at the
 * certificate that breaks it. */
static bool test_chain_rules(void)
{
	static const struct {
		const char *stems[5];
		enum svid_rule rule;
		size_t at;
	} cases[] = {
		{ { "via-int", "int", NULL }, SVID_OK, 0 },
		{ { "via-int", "int", "ca", NULL }, SVID_OK, 0 },
		{ { "via-int-b", "int-b", NULL }, SVID_OK, 0 },
		/* int's pathlen 0 allows no intermediate below it. */
		{ { "via-int-b", "int-b", "int", NULL }, SVID_CA_PATH_LEN, 2 },
		{ { "via-int-b", "int-b", "int", "ca", NULL },
		  SVID_CA_PATH_LEN, 2 },
		{ { "good", "int-id", "ca", NULL }, SVID_OK, 0 },
		{ { "good", "int-not-ca", NULL }, SVID_CA_NOT_CA, 1 },
		{ { "good", "int-no-bc", NULL }, SVID_CA_NOT_CA, 1 },
		{ { "good", "int-no-sign", NULL }, SVID_CA_NO_CERT_SIGN, 1 },
		{ { "good", "int-ku-soft", NULL },
		  SVID_KEY_USAGE_NOT_CRITICAL, 1 },
		/* A leaf where a signing certificate should be. */
		{ { "good", "good", NULL }, SVID_CA_NOT_CA, 1 },
		/* The leaf's rules come first. */
		{ { "leaf-ca", "int-not-ca", NULL }, SVID_LEAF_CA, 0 },
	};
	time_t now = time(NULL);
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t at = 99;

		if (!ASSERT_EQ(check(cases[i].stems, SVID_CLIENT, now, &at),
			       cases[i].rule) ||
		    !ASSERT_EQ(at, cases[i].at)) {
			fprintf(stderr, "  chain %zu\n", i);
			ok = false;
		}
	}
	return ok;
}

/* Every prefix of a good certificate, and of a good chain's second
 * certificate, is malformed: nothing is read past the bytes given. */
static bool test_truncations(void)
{
	struct cert good, ca;
	struct svid_cert v[2];
	time_t now = time(NULL);
	bool ok = true;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!load("good", &good) || !load("ca", &ca))
		return false;
	for (size_t n = 0; ok && n < good.len; n++) {
		uint8_t *cp = malloc(n ? n : 1);

		memcpy(cp, good.der, n);
		v[0] = (struct svid_cert){ cp, n };
		ok = ASSERT_EQ(svid_check(v, 1, SVID_CLIENT, now, NULL),
			       SVID_MALFORMED);
		v[0] = (struct svid_cert){ good.der, good.len };
		v[1] = (struct svid_cert){ cp, n };
		ok = ok && ASSERT_EQ(svid_check(v, 2, SVID_CLIENT, now, NULL),
				     SVID_MALFORMED);
		free(cp);
	}
	v[0] = (struct svid_cert){ good.der, good.len };
	return ok && ASSERT_EQ(svid_check(v, 0, SVID_CLIENT, now, NULL),
			       SVID_MALFORMED);
}

/* Each rule has its own name (a metric label) and a text. */
static bool test_rule_names(void)
{
	for (int i = 0; i < SVID_RULE_MAX; i++) {
		if (!ASSERT_TRUE(strlen(svid_rule_text(i)) > 10))
			return false;
		for (int j = 0; j < i; j++)
			if (!ASSERT_TRUE(strcmp(svid_rule_name(i),
						svid_rule_name(j)) != 0))
				return false;
	}
	return ASSERT_STREQ(svid_rule_name(SVID_RULE_MAX), "?");
}

int main(void)
{
	TEST_MAIN_BEGIN();
	time_t t0 = time(NULL);

	have_certs = setup();
	/* The "expired" case's notAfter is its making: past once the clock
	 * has moved a whole second beyond it. */
	while (have_certs && time(NULL) < t0 + 2)
		usleep(50 * 1000);
	if (ph_have_openssl() && !have_certs) {
		printf("FAIL: test_svid/setup\n");
		test_failed_count++;
	}
	TEST_RUN(test_leaf_rules);
	TEST_RUN(test_validity);
	TEST_RUN(test_chain_rules);
	TEST_RUN(test_truncations);
	TEST_RUN(test_rule_names);
	if (dir[0])
		ph_sh("rm -rf %s", dir);
	TEST_MAIN_END();
}
