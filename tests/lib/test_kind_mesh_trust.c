// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrust (lib/policy/kind_mesh_trust.c): one and two CA bundles parse
 * into the expected records and print back to the same bytes; the PEM of
 * a bundle must be CERTIFICATE blocks, its size and the trust domain
 * bounded; each mistake gives exactly the expected diagnostic; the
 * tables keep the layout rules.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"
#include "harness/pem_harness.h"

#define MT KH_DOC("MeshTrust", "trust")
#define TRUST(td) MT "  trustDomain: " td "\n"
/* A bundle of value @pem: a block scalar, its lines indented by 10. */
#define BUNDLE(pem) "    - type: Pem\n      pem:\n        value: |\n" pem

static bool test_mesh_trust_parse(void)
{
	struct model_set set;
	const struct mf_mesh_trust *t = kh_policy(
		TRUST("prod.zone-1.mesh.local")
		"  caBundles:\n" BUNDLE(CA_PEM("          "))
		"  origin: {kri: kri_mid_default_zone-1_kuma-system_prod_}\n",
		&set, &kind_mesh_trust, 1);
	bool ok;

	ok = t && ASSERT_EQ(t->present, 0x7) &&
	     ASSERT_STREQ(t->trust_domain, "prod.zone-1.mesh.local") &&
	     ASSERT_STREQ(t->origin.kri,
			  "kri_mid_default_zone-1_kuma-system_prod_") &&
	     ASSERT_EQ(t->nca_bundles, 1) &&
	     ASSERT_EQ(t->ca_bundles[0].type, MF_CA_BUNDLE_PEM) &&
	     ASSERT_STREQ(t->ca_bundles[0].pem.value, CA_PEM(""));
	return kh_finish(&set, ok);
}

/* Two bundles, the second of two certificates with text around them, as
 * CA bundle files have it. */
static bool test_mesh_trust_two_bundles(void)
{
	struct model_set set;
	const struct mf_mesh_trust *t = kh_policy(
		TRUST("mesh.local")
		"  caBundles:\n" BUNDLE(CA_PEM("          "))
		BUNDLE("          # the old root\n" CA_PEM("          ")
		       "          # the new one\n" CA_PEM("          ")),
		&set, &kind_mesh_trust, 1);

	return kh_finish(&set, t && ASSERT_EQ(t->nca_bundles, 2) &&
				    ASSERT_STREQ(t->ca_bundles[1].pem.value,
						 "# the old root\n" CA_PEM("")
						 "# the new one\n"
						 CA_PEM("")));
}

/* No two fields share storage: the tables keep the layout rules. */
static bool test_mesh_trust_layout(void)
{
	return kh_layout(&kind_mesh_trust, TRUST("mesh.local")
			 "  caBundles:\n" BUNDLE(CA_PEM("          ")));
}

#define ONE(pem) TRUST("mesh.local") "  caBundles:\n" BUNDLE(pem)
#define VALUE_AT "t.yaml:9:16: spec.caBundles[0].pem.value: "

KH_TEST_BAD(test_mesh_trust_invalid,
	{ MT "  caBundles:\n" BUNDLE(CA_PEM("          ")),
	  "t.yaml:5:3: spec.trustDomain: is required" },
	{ TRUST("mesh.local"),
	  "t.yaml:5:3: spec.caBundles: is required" },
	{ TRUST("mesh.local") "  caBundles: []\n",
	  "t.yaml:6:14: spec.caBundles: must have at least one entry" },
	{ TRUST("Mesh.Local") "  caBundles:\n" BUNDLE(CA_PEM("          ")),
	  "t.yaml:5:16: spec.trustDomain: must be a trust domain: a-z, 0-9, "
	  "'.', '-' and '_' only" },
	{ TRUST("mesh.local") "  caBundles:\n    - type: Der\n",
	  "t.yaml:7:13: spec.caBundles[0].type: must be Pem" },
	{ TRUST("mesh.local") "  caBundles:\n    - type: Pem\n",
	  "t.yaml:7:7: spec.caBundles[0].pem: is required with type Pem" },
	{ TRUST("mesh.local") "  caBundles:\n    - {type: Pem, pem: {}}\n",
	  "t.yaml:7:24: spec.caBundles[0].pem.value: is required" },
	{ ONE("          adfadfafadf\n"),
	  VALUE_AT "must be a PEM certificate: -----BEGIN CERTIFICATE-----, "
	  "base64, -----END CERTIFICATE-----" },
	{ ONE("          -----BEGIN PRIVATE KEY-----\n"
	      "          MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n"
	      "          -----END PRIVATE KEY-----\n"),
	  VALUE_AT "must be certificates, not a private key" },
	{ ONE(CA_PEM("          ")
	      "          -----BEGIN EC PRIVATE KEY-----\n"
	      "          MHcCAQEEIA==\n"
	      "          -----END EC PRIVATE KEY-----\n"),
	  VALUE_AT "must be certificates, not a private key" },
	{ ONE("          -----BEGIN PUBLIC KEY-----\n"
	      "          MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n"
	      "          -----END PUBLIC KEY-----\n"),
	  VALUE_AT "must be CERTIFICATE blocks only" },
	{ ONE("          -----BEGIN CERTIFICATE-----\n"
	      "          MIIBsTCCAVegAwIBAgIUN\n"),
	  VALUE_AT "has a CERTIFICATE block without its -----END "
	  "CERTIFICATE----- line" },
	{ ONE("          -----BEGIN CERTIFICATE-----\n"
	      "          MIIBsTCC*VegAwIB\n"
	      "          -----END CERTIFICATE-----\n"),
	  VALUE_AT "has a CERTIFICATE block that is not base64" },
	{ ONE("          -----BEGIN CERTIFICATE-----\n"
	      "          MIIBsTCCAVeg\n"
	      "          -----END CERTIFICATE----- trailing\n"),
	  VALUE_AT "must have nothing after -----END CERTIFICATE----- on its "
	  "line" },
	{ ONE("          -----BEGIN CERTIFICATE----\n"),
	  VALUE_AT "has a BEGIN line that is not -----BEGIN <label>-----" },
)

/* A trust domain of Kuma's 253 characters at most, and bundles bounded so
 * two keep the record under 4 KiB. */
static bool test_mesh_trust_bounds(void)
{
	char td[256], pem[2 * MF_PEM_MAX], doc[8192], want[256];
	struct model_set set;
	const struct mf_mesh_trust *t;
	size_t n, len;

	memset(td, 'a', sizeof(td));
	td[253] = 0;
	snprintf(doc, sizeof(doc), TRUST("%s") "  caBundles:\n"
		 BUNDLE(CA_PEM("          ")), td);
	t = kh_policy(doc, &set, &kind_mesh_trust, 1);
	if (!kh_finish(&set, t && ASSERT_EQ(strlen(t->trust_domain), 253)))
		return false;
	td[253] = 'a';
	td[254] = 0;
	snprintf(doc, sizeof(doc), TRUST("%s") "  caBundles:\n"
		 BUNDLE(CA_PEM("          ")), td);
	if (!kh_expect1(doc, "t.yaml:5:16: spec.trustDomain: must be at most "
			     "253 characters"))
		return false;
	/* Lines of base64 up to one past the bound; @len counts the value,
	 * without the block scalar's indentation. */
	n = (size_t)snprintf(pem, sizeof(pem),
			     "          -----BEGIN CERTIFICATE-----\n");
	len = n - 10;
	while (len + 26 < MF_PEM_MAX) {
		n += (size_t)snprintf(pem + n, sizeof(pem) - n,
				      "          QUFBQUFBQUFBQUFBQUFBQUFB\n");
		len += 25;
	}
	snprintf(pem + n, sizeof(pem) - n,
		 "          -----END CERTIFICATE-----\n");
	len += 26;
	snprintf(doc, sizeof(doc), TRUST("mesh.local") "  caBundles:\n"
		 BUNDLE("%s"), pem);
	snprintf(want, sizeof(want), "t.yaml:9:16: spec.caBundles[0].pem."
		 "value: must be at most %d characters", MF_PEM_MAX - 1);
	return ASSERT_TRUE(len >= MF_PEM_MAX && len < MF_PEM_MAX + 26) &&
	       ASSERT_TRUE(sizeof(struct mf_mesh_trust) < 4096) &&
	       kh_expect1(doc, want);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mesh_trust_parse);
	TEST_RUN(test_mesh_trust_two_bundles);
	TEST_RUN(test_mesh_trust_layout);
	TEST_RUN(test_mesh_trust_invalid);
	TEST_RUN(test_mesh_trust_bounds);
	TEST_MAIN_END();
}
