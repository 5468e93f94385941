// SPDX-License-Identifier: Apache-2.0
/*
 * MeshIdentity: how the workloads its selector picks get their identity,
 * a SPIFFE ID made from two templates and a certificate from a provider.
 *
 *   spec:
 *     selector: {dataplane: {matchLabels: {app: web}}}
 *     spiffeID:
 *       trustDomain: "{{ .Mesh }}.{{ .Zone }}.mesh.local"
 *       path: "/ns/{{ .Namespace }}/sa/{{ .ServiceAccount }}"
 *     provider:
 *       type: Bundled                   # Bundled, Spire or Extension
 *       bundled:
 *         meshTrustCreation: Enabled    # or Disabled
 *         insecureAllowSelfSigned: false
 *         autogenerate: {enabled: false}
 *         ca:                           # unless autogenerate is enabled
 *           certificate: {type: Secret, secretRef: {kind: Secret,
 *                                                   name: ca-cert}}
 *           privateKey: {type: File, file: {path: /etc/ca/key.pem}}
 *         certificateParameters: {expiry: 24h}
 *       # spire: {agent: {timeout: 1s}}
 *       # extension: {name: my-provider, config: {any: [json]}}
 *
 * The templates are what Kuma's renderer fills in, in the one form
 * meshforge renders: literal text and actions {{ .Field }} or
 * {{ label "<key>" }} (a label of the workload).  trustDomain has the
 * fields .Mesh and .Zone; path .TrustDomain, .Namespace, .ServiceAccount
 * and .Workload, and starts with '/'.  Anything else Go's text/template
 * would parse (pipelines, functions, if/range, trim markers, comments) is
 * refused, and so is what it would not: an action without its "}}".
 *
 * A SecureDataSource names its secret by its type: File {path}, Secret
 * {secretRef: {kind: Secret, name}}, EnvVar {name} or InsecureInline
 * {value}, the one object of that type and no other.  An inline value is
 * at most 1535 characters (a PEM certificate or EC key; RSA keys come from
 * elsewhere), so a record with two stays under 4 KiB.
 *
 * An extension's config is whatever JSON value its provider takes (an
 * object, a list, a string, a number, a bool, null).  meshforge runs no
 * extension provider, so the value is kept, pooled out of line, and
 * printed back, never read: its bounds are the pooled form's (otlpval.h:
 * at most MF_STRING_MAX bytes, 64 values, 8 deep).
 */
#include <string.h>

#include "kinds.h"
#include "spiffe_tmpl.h"

enum { SDS_TYPE, SDS_FILE, SDS_ENV_VAR, SDS_INLINE, SDS_SECRET_REF };
enum { BUN_TRUST, BUN_SELF_SIGNED, BUN_AUTOGEN, BUN_CA, BUN_PARAMS };
enum { CA_CERT, CA_KEY };
enum { PROV_TYPE, PROV_BUNDLED, PROV_SPIRE, PROV_EXTENSION };

/* Kuma's order of the types, which is not the order of their objects:
 * sds_type_field maps them. */
static const char *const sds_types[] = { "File", "Secret", "EnvVar",
					 "InsecureInline", NULL };
static const char *const sds_ref_kinds[] = { "Secret", NULL };
static const char *const mid_provider_types[] = { "Bundled", "Spire",
						  "Extension", NULL };
static const char *const mid_trust_creation[] = { "Enabled", "Disabled",
						  NULL };

/* ---- templates --------------------------------------------------------- */

struct mid_tmpl {
	const char *const *fields;	/* the .Fields there are */
	const char *chars;		/* literal characters besides a-z,
					 * 0-9 */
	const char *bad_action;
	const char *bad_char;
};

static const char *const mid_td_fields[] = { "Mesh", "Zone", NULL };
static const char *const mid_path_fields[] = { "TrustDomain", "Namespace",
					       "ServiceAccount", "Workload",
					       NULL };

static const struct mid_tmpl mid_td_tmpl = {
	.fields = mid_td_fields,
	.chars = ".-_",
	.bad_action = "must use only {{ .Mesh }}, {{ .Zone }} and "
		      "{{ label \"<key>\" }}",
	.bad_char = "must be a trust domain template: a-z, 0-9, '.', '-' and "
		    "'_' around {{ .Mesh }}, {{ .Zone }} or "
		    "{{ label \"<key>\" }}",
};

static const struct mid_tmpl mid_path_tmpl = {
	.fields = mid_path_fields,
	.chars = ".-_/ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	.bad_action = "must use only {{ .TrustDomain }}, {{ .Namespace }}, "
		      "{{ .ServiceAccount }}, {{ .Workload }} and "
		      "{{ label \"<key>\" }}",
	.bad_char = "must be a SPIFFE ID path template: letters, digits, "
		    "'.', '-', '_' and '/' around {{ .Namespace }} and the "
		    "like",
};

/* The check of one piece of a template of @arg's kind. */
struct mid_check {
	const struct mid_tmpl *t;
	const char *why;
};

static int mid_check_piece(void *arg, const struct tmpl_piece *p)
{
	struct mid_check *c = arg;

	if (p->type == TMPL_TEXT) {
		for (size_t i = 0; i < p->n; i++) {
			char ch = p->s[i];

			if (!((ch >= 'a' && ch <= 'z') ||
			      (ch >= '0' && ch <= '9') ||
			      strchr(c->t->chars, ch))) {
				c->why = c->t->bad_char;
				return 1;
			}
		}
		return 0;
	}
	if (p->type == TMPL_LABEL)
		return 0;
	for (size_t i = 0; c->t->fields[i]; i++)
		if (tmpl_is_field(p, c->t->fields[i]))
			return 0;
	c->why = c->t->bad_action;
	return 1;
}

static const char *mid_check_tmpl(const struct mid_tmpl *t, const char *s)
{
	struct mid_check c = { .t = t };
	int r = tmpl_walk(s, mid_check_piece, &c);

	if (r == TMPL_ERR_UNCLOSED)
		return "has a {{ without its }}";
	if (r == TMPL_ERR_ACTION)
		return t->bad_action;
	return c.why;
}

static const char *mid_check_td(const char *s)
{
	return mid_check_tmpl(&mid_td_tmpl, s);
}

static bool mid_ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* A path is what follows the trust domain in the SPIFFE ID: it starts
 * with '/', and no segment it writes is empty. */
static const char *mid_check_path(const char *s)
{
	const char *why = mid_check_tmpl(&mid_path_tmpl, s);

	if (why)
		return why;
	if (s[0] != '/')
		return "must start with /";
	if (strstr(s, "//") || s[strlen(s) - 1] == '/')
		return "must not have an empty segment (// or a / at the end)";
	if (strstr(s, "/./") || strstr(s, "/../") || mid_ends_with(s, "/.") ||
	    mid_ends_with(s, "/.."))
		return "must not have a segment . or ..";
	return NULL;
}

/* ---- SecureDataSource -------------------------------------------------- */

/* Kuma reads the file as the control plane; it refuses relative paths
 * and any "..", not only whole segments. */
static const char *sds_check_path(const char *s)
{
	if (s[0] != '/')
		return "must be an absolute path";
	return strstr(s, "..") ? "must not contain .." : NULL;
}

static const char *sds_check_env_name(const char *s)
{
	return strchr(s, '=') ? "must be an environment variable name "
				"(no '=')" : NULL;
}

static const struct sch_field sds_file_fields[] = {
	SCH_F_STRING("path", mf_sds_file, path, SCH_REQUIRED,
		     .check = sds_check_path),
};
SCH_OBJECT_DEF(sds_file, "SecureDataSource file");

static const struct sch_field sds_env_fields[] = {
	SCH_F_STRING("name", mf_sds_env_var, name, SCH_REQUIRED,
		     .check = sds_check_env_name),
};
SCH_OBJECT_DEF(sds_env, "SecureDataSource envVar");

static const struct sch_field sds_inline_fields[] = {
	SCH_F_STRING("value", mf_sds_inline, value, SCH_REQUIRED),
};
SCH_OBJECT_DEF(sds_inline, "SecureDataSource insecureInline");

static const struct sch_field sds_secret_ref_fields[] = {
	SCH_F_ENUM("kind", mf_sds_secret_ref, kind, sds_ref_kinds,
		   SCH_REQUIRED),
	SCH_F_NAME("name", mf_sds_secret_ref, name, SCH_REQUIRED),
};
SCH_OBJECT_DEF(sds_secret_ref, "SecureDataSource secretRef");

/* The field of the object each type (enum mf_sds_type) needs, and what
 * is said of the others. */
static const struct {
	unsigned field;
	const char *needed, *unwanted;
} sds_type_field[] = {
	[MF_SDS_FILE] = { SDS_FILE, "is required with type File",
			  "must not be set with type File" },
	[MF_SDS_SECRET] = { SDS_SECRET_REF, "is required with type Secret",
			    "must not be set with type Secret" },
	[MF_SDS_ENV_VAR] = { SDS_ENV_VAR, "is required with type EnvVar",
			     "must not be set with type EnvVar" },
	[MF_SDS_INSECURE_INLINE] = { SDS_INLINE,
				     "is required with type InsecureInline",
				     "must not be set with type "
				     "InsecureInline" },
};

/* The four objects share storage: the type's, and only it. */
static const char *sds_check(const void *obj, unsigned *field)
{
	const struct mf_secure_data_source *d = obj;

	if (!d->type)
		return NULL;	/* reported as required */
	for (unsigned f = SDS_FILE; f <= SDS_SECRET_REF; f++) {
		bool want = f == sds_type_field[d->type].field;

		*field = f;
		if (want && !sch_has(d, f))
			return sds_type_field[d->type].needed;
		if (!want && sch_has(d, f))
			return sds_type_field[d->type].unwanted;
	}
	return NULL;
}

static const struct sch_field sds_fields[] = {
	[SDS_TYPE] = SCH_F_ENUM("type", mf_secure_data_source, type,
				sds_types, SCH_REQUIRED),
	[SDS_FILE] = SCH_F_OBJECT("file", mf_secure_data_source, file,
				  &sds_file),
	[SDS_ENV_VAR] = SCH_F_OBJECT("envVar", mf_secure_data_source,
				     env_var, &sds_env),
	[SDS_INLINE] = SCH_F_OBJECT("insecureInline", mf_secure_data_source,
				    insecure_inline, &sds_inline),
	[SDS_SECRET_REF] = SCH_F_OBJECT("secretRef", mf_secure_data_source,
					secret_ref, &sds_secret_ref),
};
SCH_OBJECT_DEF(sds, "SecureDataSource", .check_field = sds_check);

/* ---- provider ---------------------------------------------------------- */

static const struct sch_field mid_ca_fields[] = {
	[CA_CERT] = SCH_F_OBJECT("certificate", mf_mid_ca, certificate, &sds,
				 SCH_REQUIRED),
	[CA_KEY] = SCH_F_OBJECT("privateKey", mf_mid_ca, private_key, &sds,
				SCH_REQUIRED),
};
SCH_OBJECT_DEF(mid_ca, "MeshIdentity ca");

static const struct sch_field mid_autogen_fields[] = {
	SCH_F_BOOL("enabled", mf_mid_autogenerate, enabled),
};
SCH_OBJECT_DEF(mid_autogen, "MeshIdentity autogenerate");

/* Certificates of up to 49 days, what milliseconds in 32 bits hold. */
static const struct sch_field mid_params_fields[] = {
	SCH_F_DURATION("expiry", mf_mid_cert_params, expiry,
		       SCH_RANGE(0, 1176ull * 3600 * 1000)),
};
SCH_OBJECT_DEF(mid_params, "MeshIdentity certificateParameters");

/* The control plane's own CA, or the one ca names: one of the two. */
static const char *mid_bundled_check(const void *obj, unsigned *field)
{
	const struct mf_mid_bundled *b = obj;
	bool autogen = sch_has(b, BUN_AUTOGEN) && b->autogenerate.enabled;

	*field = BUN_CA;
	if (autogen && sch_has(b, BUN_CA))
		return "must not be set when autogenerate is enabled";
	if (!autogen && !sch_has(b, BUN_CA))
		return "is required unless autogenerate is enabled";
	return NULL;
}

static const struct sch_field mid_bundled_fields[] = {
	[BUN_TRUST] = SCH_F_ENUM("meshTrustCreation", mf_mid_bundled,
				 mesh_trust_creation, mid_trust_creation),
	[BUN_SELF_SIGNED] = SCH_F_BOOL("insecureAllowSelfSigned",
				       mf_mid_bundled,
				       insecure_allow_self_signed),
	[BUN_AUTOGEN] = SCH_F_OBJECT("autogenerate", mf_mid_bundled,
				     autogenerate, &mid_autogen),
	[BUN_CA] = SCH_F_OBJECT("ca", mf_mid_bundled, ca, &mid_ca),
	[BUN_PARAMS] = SCH_F_OBJECT("certificateParameters", mf_mid_bundled,
				    certificate_parameters, &mid_params),
};
SCH_OBJECT_DEF(mid_bundled, "MeshIdentity bundled",
	       .check_field = mid_bundled_check);

static const struct sch_field mid_spire_agent_fields[] = {
	SCH_F_DURATION("timeout", mf_mid_spire_agent, timeout),
};
SCH_OBJECT_DEF(mid_spire_agent, "MeshIdentity spire agent");

static const struct sch_field mid_spire_fields[] = {
	SCH_F_OBJECT("agent", mf_mid_spire, agent, &mid_spire_agent),
};
SCH_OBJECT_DEF(mid_spire, "MeshIdentity spire");

static const struct sch_field mid_extension_fields[] = {
	SCH_F_STRING("name", mf_mid_extension, name, SCH_REQUIRED),
	SCH_F_JSONVAL("config", mf_mid_extension, config),
};
SCH_OBJECT_DEF(mid_extension, "MeshIdentity extension");

/* The three objects share storage: the type's, and only it (field i
 * belongs to type i). */
static const char *mid_provider_check(const void *obj, unsigned *field)
{
	static const char *const needed[] = {
		[MF_MID_BUNDLED] = "is required with type Bundled",
		[MF_MID_SPIRE] = "is required with type Spire",
		[MF_MID_EXTENSION] = "is required with type Extension",
	};
	static const char *const unwanted[] = {
		[MF_MID_BUNDLED] = "must not be set with type Bundled",
		[MF_MID_SPIRE] = "must not be set with type Spire",
		[MF_MID_EXTENSION] = "must not be set with type Extension",
	};
	const struct mf_mid_provider *p = obj;

	if (!p->type)
		return NULL;	/* reported as required */
	for (unsigned f = PROV_BUNDLED; f <= PROV_EXTENSION; f++) {
		*field = f;
		if (f == p->type && !sch_has(p, f))
			return needed[p->type];
		if (f != p->type && sch_has(p, f))
			return unwanted[p->type];
	}
	return NULL;
}

static const struct sch_field mid_provider_fields[] = {
	[PROV_TYPE] = SCH_F_ENUM("type", mf_mid_provider, type,
				 mid_provider_types, SCH_REQUIRED),
	[PROV_BUNDLED] = SCH_F_OBJECT("bundled", mf_mid_provider, bundled,
				      &mid_bundled),
	[PROV_SPIRE] = SCH_F_OBJECT("spire", mf_mid_provider, spire,
				    &mid_spire),
	[PROV_EXTENSION] = SCH_F_OBJECT("extension", mf_mid_provider,
					extension, &mid_extension),
};
SCH_OBJECT_DEF(mid_provider, "MeshIdentity provider",
	       .check_field = mid_provider_check);

/* ---- spec -------------------------------------------------------------- */

/* Kuma: empty matchLabels select every dataplane, as a selector with
 * none does; both read as no labels (identity.c). */
static const struct sch_field mid_labels_fields[] = {
	SCH_F_TAGS("matchLabels", mf_label_selector, match_labels,
		   .empty_ok = true),
};
SCH_OBJECT_DEF(mid_labels, "MeshIdentity dataplane selector");

static const struct sch_field mid_selector_fields[] = {
	SCH_F_OBJECT("dataplane", mf_mid_selector, dataplane, &mid_labels),
};
SCH_OBJECT_DEF(mid_selector, "MeshIdentity selector");

static const struct sch_field mid_spiffe_id_fields[] = {
	SCH_F_STRING("trustDomain", mf_mid_spiffe_id, trust_domain,
		     .check = mid_check_td),
	SCH_F_STRING("path", mf_mid_spiffe_id, path, .check = mid_check_path),
};
SCH_OBJECT_DEF(mid_spiffe_id, "MeshIdentity spiffeID");

static const struct sch_field mid_spec_fields[] = {
	SCH_F_OBJECT("selector", mf_mesh_identity, selector, &mid_selector),
	SCH_F_OBJECT("spiffeID", mf_mesh_identity, spiffe_id, &mid_spiffe_id),
	SCH_F_OBJECT("provider", mf_mesh_identity, provider, &mid_provider),
};
SCH_OBJECT_DEF(mid_spec, "MeshIdentity spec");

const struct kind_desc kind_mesh_identity = {
	.name = "MeshIdentity", .plural = "meshidentities", .short_name = "mid",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct mf_mesh_identity), .conf = &mid_spec,
};
