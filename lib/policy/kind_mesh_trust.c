// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrust: the CA certificates that identities of a trust domain are
 * checked against, as PEM.  A MeshIdentity's bundled provider makes one of
 * its own CA (Kuma 2.14 wrote that in origin.kri).
 *
 *   spec:
 *     trustDomain: prod.zone-1.mesh.local   # required, up to 253
 *     caBundles:                             # required, 1 or 2
 *       - type: Pem
 *         pem:
 *           value: |
 *             -----BEGIN CERTIFICATE-----
 *             MIIB...
 *             -----END CERTIFICATE-----
 *     origin: {kri: kri_mid_default_zone-1_kuma-system_identity_}  # 2.14
 *
 * A bundle is one or more CERTIFICATE blocks of at most 1799 characters
 * in all (a CA certificate is 0.6 to 1.5 KiB), so two keep the record
 * under 4 KiB.  As in Kuma, only the PEM armour and its base64 are
 * checked: the certificates inside are the trust store's to parse.
 */
#include <string.h>

#include "kinds.h"

enum { BUNDLE_TYPE, BUNDLE_PEM };
enum { MT_ORIGIN, MT_TRUST_DOMAIN, MT_CA_BUNDLES };

static const char *const mtrust_bundle_types[] = { "Pem", NULL };

/* The SPIFFE trust domain characters, up to Kuma's 253 of them. */
static const char *mtrust_check_td(const char *s)
{
	return s[strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-_")] ?
	       "must be a trust domain: a-z, 0-9, '.', '-' and '_' only" :
	       NULL;
}

static bool pem_b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* The body of a block from @p up to its END line (@end): base64 of
 * whole quantums, split into lines as PEM has it, padding only last. */
static bool pem_body_ok(const char *p, const char *end)
{
	size_t n = 0, pad = 0;

	for (; p < end; p++) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			continue;
		if (*p == '=') {
			pad++;
		} else if (!pem_b64_char(*p) || pad) {
			return false;
		}
		n++;
	}
	return n && n % 4 == 0 && pad <= 2;
}

/* Where the line after @p starts (past "\n"), or the end of the string
 * when only spaces are left on it; NULL when anything else is. */
static const char *pem_line_end(const char *p)
{
	p += strspn(p, " \t\r");
	if (*p == '\n')
		return p + 1;
	return *p ? NULL : p;
}

/*
 * One or more PEM blocks, each "-----BEGIN CERTIFICATE-----", base64,
 * "-----END CERTIFICATE-----" on lines of their own; text around them is
 * ignored, as every PEM reader does.  Kuma refuses a value whose first
 * block does not decode or holds a private key; a trust bundle holds
 * certificates only, so meshforge wants every block to be one.
 */
static const char *mtrust_check_pem(const char *s)
{
	static const char begin[] = "-----BEGIN ", dashes[] = "-----";
	const char *p = s, *label, *body, *end;
	unsigned blocks = 0;

	for (;;) {
		size_t len;

		/* The next BEGIN at the start of a line. */
		while ((p = strstr(p, begin)) && p != s && p[-1] != '\n')
			p++;
		if (!p)
			break;
		label = p + sizeof(begin) - 1;
		end = strstr(label, dashes);
		if (!end || !(body = pem_line_end(end + 5)))
			return "has a BEGIN line that is not "
			       "-----BEGIN <label>-----";
		len = (size_t)(end - label);
		if (len >= 11 && !strncmp(end - 11, "PRIVATE KEY", 11))
			return "must be certificates, not a private key";
		if (len != 11 || strncmp(label, "CERTIFICATE", 11))
			return "must be CERTIFICATE blocks only";
		end = strstr(body, "-----END CERTIFICATE-----");
		if (!end || (end != body && end[-1] != '\n'))
			return "has a CERTIFICATE block without its "
			       "-----END CERTIFICATE----- line";
		if (!pem_body_ok(body, end))
			return "has a CERTIFICATE block that is not base64";
		p = pem_line_end(end + 25);
		if (!p)
			return "must have nothing after -----END "
			       "CERTIFICATE----- on its line";
		blocks++;
	}
	return blocks ? NULL :
	       "must be a PEM certificate: -----BEGIN CERTIFICATE-----, "
	       "base64, -----END CERTIFICATE-----";
}

static const struct sch_field mtrust_pem_fields[] = {
	SCH_F_STRING("value", mf_pem, value, SCH_REQUIRED,
		     .check = mtrust_check_pem),
};
SCH_OBJECT_DEF(mtrust_pem, "MeshTrust pem");

/* Pem is the one type there is, and it needs pem. */
static const char *mtrust_bundle_check(const void *obj, unsigned *field)
{
	const struct mf_ca_bundle *b = obj;

	*field = BUNDLE_PEM;
	return b->type == MF_CA_BUNDLE_PEM && !sch_has(b, BUNDLE_PEM) ?
	       "is required with type Pem" : NULL;
}

static const struct sch_field mtrust_bundle_fields[] = {
	[BUNDLE_TYPE] = SCH_F_ENUM("type", mf_ca_bundle, type,
				   mtrust_bundle_types, SCH_REQUIRED),
	[BUNDLE_PEM] = SCH_F_OBJECT("pem", mf_ca_bundle, pem, &mtrust_pem),
};
SCH_OBJECT_DEF(mtrust_bundle, "MeshTrust caBundle",
	       .check_field = mtrust_bundle_check);

static const struct sch_field mtrust_origin_fields[] = {
	SCH_F_STRING("kri", mf_mtrust_origin, kri),
};
SCH_OBJECT_DEF(mtrust_origin, "MeshTrust origin");

static const char *mtrust_spec_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_trust *t = obj;

	*field = MT_CA_BUNDLES;
	return sch_has(t, MT_CA_BUNDLES) && !t->nca_bundles ?
	       "must have at least one entry" : NULL;
}

static const struct sch_field mtrust_spec_fields[] = {
	[MT_ORIGIN] = SCH_F_OBJECT("origin", mf_mesh_trust, origin,
				   &mtrust_origin),
	[MT_TRUST_DOMAIN] = SCH_F_STRING("trustDomain", mf_mesh_trust,
					 trust_domain, SCH_REQUIRED,
					 .check = mtrust_check_td),
	[MT_CA_BUNDLES] = SCH_F_LIST("caBundles", mf_mesh_trust, ca_bundles,
				     &mtrust_bundle, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mtrust_spec, "MeshTrust spec",
	       .check_field = mtrust_spec_check);

const struct kind_desc kind_mesh_trust = {
	.name = "MeshTrust", .plural = "meshtrusts", .short_name = "mtrust",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct mf_mesh_trust), .conf = &mtrust_spec,
};
