// SPDX-License-Identifier: Apache-2.0
/*
 * The mesh's TLS between agents (lib/policy/tls_profile.c) as `mfctl
 * apply` compiles it into mf_config: none without a MeshTLS that sets a
 * version or a cipher; the bounds as written, TLSAuto at the agents'
 * default (TLS 1.3); TLS 1.2's suites in the order written, each once,
 * only those of the mesh's ECDSA certificates; several policies merged
 * as Kuma merges them (the name that sorts first last, rules after
 * from); what Kuma accepts and the agents speak only in part narrowed
 * to that part (TLS 1.0 and 1.1 raised to 1.2, a min left to the proxy
 * following a max below 1.3, TLS 1.3 alone when no suite runs at 1.2);
 * and the profiles of which nothing can be agreed refused by validation,
 * before anything is written, with exact messages naming the field and
 * its policy.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#define TLS_DOC(name) PH_KUMA_DOC("MeshTLS", name) "  targetRef: {kind: Mesh}\n"

/* The profile of @yaml (PH_BASE and MeshTLS documents) into @out. */
static bool profile_of(const char *yaml, struct mf_tls_profile *out)
{
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	if (ok)
		*out = rs.config.tls;
	rec_set_free(&rs);
	return ok;
}

/* @p is @min..@max with the @n ciphers of @want. */
static bool profile_is(const struct mf_tls_profile *p, unsigned min,
		       unsigned max, const uint8_t *want, unsigned n)
{
	bool ok = ASSERT_EQ(p->min, min) && ASSERT_EQ(p->max, max) &&
		  ASSERT_EQ(p->nciphers, n);

	for (unsigned i = 0; ok && i < n; i++)
		ok = ASSERT_EQ(p->ciphers[i], want[i]);
	return ok;
}

static bool test_profile_none(void)
{
	struct mf_tls_profile p;

	/* No MeshTLS; a mode alone; a narrower target's mode. */
	return profile_of(PH_BASE, &p) && profile_is(&p, 0, 0, NULL, 0) &&
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules: [{default: {mode: Strict}}]\n", &p) &&
	       profile_is(&p, 0, 0, NULL, 0);
}

static bool test_profile_as_written(void)
{
	static const uint8_t want[] = { MF_TLS_ECDHE_ECDSA_AES256_GCM_SHA384,
					MF_TLS_ECDHE_ECDSA_CHACHA20_POLY1305 };
	struct mf_tls_profile p;

	/* RSA suites cannot be agreed with the mesh's certificates: left
	 * out; a repeat kept once, where first written. */
	return profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12, max: TLS12}\n"
			  "        tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256,\n"
			  "                     ECDHE-ECDSA-AES256-GCM-SHA384,\n"
			  "                     ECDHE-ECDSA-CHACHA20-POLY1305,\n"
			  "                     ECDHE-ECDSA-AES256-GCM-SHA384]\n",
			  &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_12, want, 2);
}

/* TLSAuto, or no bound, is the agents' default: TLS 1.3. */
static bool test_profile_auto(void)
{
	static const uint8_t want[] = { MF_TLS_ECDHE_ECDSA_AES128_GCM_SHA256 };
	struct mf_tls_profile p;

	return profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12, max: TLSAuto}\n",
			  &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_13, NULL, 0) &&
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12}\n", &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_13, NULL, 0) &&
	       /* ciphers alone: TLS 1.3 only, they do nothing (kept) */
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLSAuto, max: TLSAuto}\n"
			  "        tlsCiphers: [ECDHE-ECDSA-AES128-GCM-SHA256]\n",
			  &p) &&
	       profile_is(&p, MF_TLS_13, MF_TLS_13, want, 1);
}

/* Two policies on the Mesh: b is merged first, a (its name sorts first)
 * last, overriding each field it sets: min and max each, the cipher list
 * whole. */
static bool test_profile_merge(void)
{
	static const uint8_t b_ciphers[] = {
		MF_TLS_ECDHE_ECDSA_CHACHA20_POLY1305,
		MF_TLS_ECDHE_ECDSA_AES128_GCM_SHA256 };
	static const uint8_t a_ciphers[] = {
		MF_TLS_ECDHE_ECDSA_AES256_GCM_SHA384 };
	struct mf_tls_profile p;

	return profile_of(PH_BASE TLS_DOC("a")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12}\n"
			  TLS_DOC("b")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS13, max: TLS13}\n"
			  "        tlsCiphers: [ECDHE-ECDSA-CHACHA20-POLY1305,\n"
			  "                     ECDHE-ECDSA-AES128-GCM-SHA256]\n",
			  &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_13, b_ciphers, 2) &&
	       profile_of(PH_BASE TLS_DOC("a")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsCiphers: [ECDHE-ECDSA-AES256-GCM-SHA384]\n"
			  TLS_DOC("b")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12, max: TLS12}\n"
			  "        tlsCiphers: [ECDHE-ECDSA-CHACHA20-POLY1305,\n"
			  "                     ECDHE-ECDSA-AES128-GCM-SHA256]\n",
			  &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_12, a_ciphers, 1);
}

/* Kuma 2.x `from` entries, then 3.0 `rules`, which win whatever the
 * names. */
static bool test_profile_rules_win(void)
{
	struct mf_tls_profile p;

	return profile_of(PH_BASE PH_KUMA_DOC("MeshTLS", "z")
			  "  targetRef: {kind: Mesh}\n"
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {max: TLS13}\n"
			  PH_KUMA_DOC("MeshTLS", "a")
			  "  targetRef: {kind: Mesh}\n"
			  "  from:\n"
			  "    - targetRef: {kind: Mesh}\n"
			  "      default:\n"
			  "        tlsVersion: {min: TLS12, max: TLS12}\n",
			  &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_13, NULL, 0);
}

/* Kuma accepts what the agents speak only in part: they speak what can
 * be agreed of it. */
static bool test_profile_narrowed(void)
{
	static const uint8_t want[] = { MF_TLS_ECDHE_ECDSA_AES256_GCM_SHA384 };
	struct mf_tls_profile p;

	return /* a min left to the proxy follows a max below 1.3 down */
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {max: TLS12}\n", &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_12, NULL, 0) &&
	       /* TLS 1.0 and 1.1: no MeshTLS cipher runs there */
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS10, max: TLS12}\n", &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_12, NULL, 0) &&
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS11}\n", &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_13, NULL, 0) &&
	       /* RSA suites left out; none left: TLS 1.3 alone */
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12, max: TLS13}\n"
			  "        tlsCiphers: [ECDHE-RSA-CHACHA20-POLY1305]\n",
			  &p) &&
	       profile_is(&p, MF_TLS_13, MF_TLS_13, NULL, 0) &&
	       profile_of(PH_BASE TLS_DOC("m")
			  "  rules:\n"
			  "    - default:\n"
			  "        tlsVersion: {min: TLS12, max: TLS13}\n"
			  "        tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256,\n"
			  "                     ECDHE-ECDSA-AES256-GCM-SHA384]\n",
			  &p) &&
	       profile_is(&p, MF_TLS_12, MF_TLS_13, want, 1);
}

/* Refused only when nothing can be agreed. */
static bool test_profile_refused(void)
{
	static const struct {
		const char *yaml;
		const char *want;
	} cases[] = {
		{ PH_BASE TLS_DOC("m")
		  "  rules:\n"
		  "    - default:\n"
		  "        tlsVersion: {min: TLS10, max: TLS11}\n",
		  "t.yaml:14:18: spec.rules[0].default.tlsVersion.max: TLS11: "
		  "the agents speak TLS 1.2 and 1.3, and no MeshTLS cipher "
		  "runs below TLS 1.2 (all six are TLS 1.2 AEAD suites)" },
		{ PH_BASE TLS_DOC("m")
		  "  rules:\n"
		  "    - default:\n"
		  "        tlsVersion: {max: TLS10}\n",
		  "t.yaml:14:18: spec.rules[0].default.tlsVersion.max: TLS10: "
		  "the agents speak TLS 1.2 and 1.3, and no MeshTLS cipher "
		  "runs below TLS 1.2 (all six are TLS 1.2 AEAD suites)" },
		{ PH_BASE TLS_DOC("m")
		  "  rules:\n"
		  "    - default:\n"
		  "        tlsVersion: {min: TLS12, max: TLS12}\n"
		  "        tlsCiphers: [ECDHE-RSA-AES128-GCM-SHA256]\n",
		  "t.yaml:14:18: spec.rules[0].default.tlsCiphers: none of "
		  "these suites can be agreed at TLS 1.2, the only version "
		  "tlsVersion allows (TLS12 to TLS12): the mesh's certificates "
		  "are ECDSA P-256, so only ECDHE-ECDSA-* suites can" },
		/* Each bound right in its own policy, not merged: the one
		 * whose max won is named (b's entry 1). */
		{ PH_BASE TLS_DOC("a")
		  "  rules:\n"
		  "    - default:\n"
		  "        tlsVersion: {min: TLS13}\n"
		  TLS_DOC("b")
		  "  rules:\n"
		  "    - default: {mode: Strict}\n"
		  "    - default:\n"
		  "        tlsVersion: {min: TLS12, max: TLS12}\n",
		  "t.yaml:23:18: spec.rules[1].default.tlsVersion.max: TLS12 "
		  "is below tlsVersion.min, TLS13, as the MeshTLS policies "
		  "merge" },
	};
	bool ok = true;

	for (size_t i = 0; ok && i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want[] = { cases[i].want, NULL };

		ok = ph_validate_refuses(cases[i].yaml, want);
		if (!ok)
			fprintf(stderr, "  case %zu\n", i);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_profile_none);
	TEST_RUN(test_profile_as_written);
	TEST_RUN(test_profile_auto);
	TEST_RUN(test_profile_merge);
	TEST_RUN(test_profile_rules_win);
	TEST_RUN(test_profile_narrowed);
	TEST_RUN(test_profile_refused);
	TEST_MAIN_END();
}
