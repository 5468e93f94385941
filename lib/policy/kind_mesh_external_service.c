// SPDX-License-Identifier: Apache-2.0
/*
 * MeshExternalService: a destination outside the mesh, named by targetRefs
 * and backendRefs of kind MeshExternalService.
 *
 *   spec:
 *     match: {type: HostnameGenerator, port: 443,     # port required
 *             protocol: http}                         # tcp (default),
 *                                                     # grpc, http, http2
 *     endpoints:
 *       - {address: api.example.com, port: 443, priority: 0}   # 0..128
 *     tls:
 *       enabled: true
 *       allowRenegotiation: false
 *       version: {min: TLS12, max: TLS13}   # TLSAuto, TLS10 .. TLS13
 *       verification:
 *         mode: Secured                     # SkipSAN, SkipCA, SkipAll
 *         serverName: api.example.com
 *         subjectAltNames: [{type: Exact, value: api.example.com}]
 *         caCert: {inlineString: "-----BEGIN CERTIFICATE-----..."}
 *         clientCert: {type: Secret, secretRef: {kind: Secret, name: c}}
 *         clientKey: {secret: k}
 *     extension: {type: my-plugin, config: {}}
 *
 * A certificate comes as Kuma 2.14 writes it ({secret: <name>}, {inline:
 * <base64>} or {inlineString: <text>}) or as Kuma 3.0 does ({type: Secret,
 * secretRef: {kind: Secret, name}} or {type: InsecureInline,
 * insecureInline: {value}}); File and EnvVar, which would make the host
 * read its own files or environment, are refused as in Kuma 3.0.  Only the
 * CA may be inline (up to 2047 characters): the client certificate and
 * key come from a Secret.  Extensions are Kuma control-plane plugins;
 * meshforge runs none, so it keeps an extension's type and an empty
 * config only, and checks endpoints and tls whether or not there is one.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <string.h>

#include "kinds.h"

enum { MATCH_TYPE, MATCH_PORT, MATCH_PROTOCOL };
enum { EXT_TYPE, EXT_CONFIG };
enum { EP_ADDRESS, EP_PORT, EP_PRIORITY };
enum { VER_MIN, VER_MAX };
enum { SAN_TYPE, SAN_VALUE };
/* A source's fields: those a client certificate or key has too, then
 * the inline ones, which only the CA has. */
enum {
	SRC_TYPE, SRC_SECRET, SRC_SECRET_REF, SRC_FILE, SRC_ENV_VAR,
	SRC_INLINE, SRC_INLINE_STRING, SRC_INSECURE_INLINE,
};
enum {
	VERIF_MODE, VERIF_SERVER_NAME, VERIF_SANS, VERIF_CA_CERT,
	VERIF_CLIENT_CERT, VERIF_CLIENT_KEY,
};
enum { TLS_ENABLED, TLS_ALLOW_RENEGOTIATION, TLS_VERSION, TLS_VERIFICATION };
enum { MES_MATCH, MES_EXTENSION, MES_ENDPOINTS, MES_TLS };

#define SRC_BIT(f) (1u << (f))
/* Kuma 2.14's keys, and Kuma 3.0's. */
#define SRC_KUMA2                                                             \
	(SRC_BIT(SRC_SECRET) | SRC_BIT(SRC_INLINE) |                          \
	 SRC_BIT(SRC_INLINE_STRING))
#define SRC_KUMA3_OBJS                                                        \
	(SRC_BIT(SRC_SECRET_REF) | SRC_BIT(SRC_FILE) |                        \
	 SRC_BIT(SRC_ENV_VAR) | SRC_BIT(SRC_INSECURE_INLINE))

static const char *const mes_match_types[] = { "HostnameGenerator", NULL };
static const char *const mes_protocols[] = { "tcp", "grpc", "http", "http2",
					     NULL };
static const char *const mes_tls_versions[] = { "TLSAuto", "TLS10", "TLS11",
						"TLS12", "TLS13", NULL };
static const char *const mes_modes[] = { "SkipSAN", "SkipCA", "Secured",
					 "SkipAll", NULL };
static const char *const mes_san_types[] = { "Exact", "Prefix", NULL };
static const char *const mes_secret_kinds[] = { "Secret", NULL };
/* Index + 1 == enum mf_mes_source_type. */
static const char *const mes_ca_types[] = { "Secret", "InsecureInline",
					    NULL };
static const char *const mes_key_types[] = { "Secret", NULL };

static bool mes_is_ip(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET, s, &a) == 1 ||
	       inet_pton(AF_INET6, s, &a) == 1;
}

/*
 * A host name as Kuma takes it (govalidator's IsDNSName): dot-separated
 * labels of 1..63 letters, digits, '_' and '-', none starting with '-';
 * a final '.' or '_' may follow.  Wider than kind_dns_name_ok: upper case
 * and underscores (_sip._tcp.example.com) are names to Kuma.
 */
static bool mes_host_name_ok(const char *s)
{
	size_t label = 0, chars = 0;
	const char *p;

	for (p = s; *p; p++) {
		char ch = *p;
		bool word = (ch >= 'a' && ch <= 'z') ||
			    (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch == '_';

		if (ch == '.') {
			if (!label)
				return false;
			label = 0;
			continue;
		}
		if (!word && (ch != '-' || !label))
			return false;
		/* The final '_' may be one past a full label. */
		if (++label > 63 && (label > 64 || ch != '_' || p[1]))
			return false;
		chars++;
	}
	return chars && chars <= 255 && !mes_is_ip(s);
}

static const char *mes_check_address(const char *s)
{
	return mes_is_ip(s) || mes_host_name_ok(s) ? NULL :
	       "must be an IP address or a host name";
}

static const char *mes_check_server_name(const char *s)
{
	return mes_host_name_ok(s) ? NULL : "must be a host name";
}

/* Kuma 2.14 reads `inline` as JSON bytes: standard base64 with its '='
 * padding, line breaks ignored. */
static const char *mes_check_base64(const char *s)
{
	size_t n = 0, pad = 0;

	for (; *s; s++) {
		char ch = *s;

		if (ch == '\n' || ch == '\r')
			continue;
		if (ch == '=') {
			pad++;
		} else if (pad || !((ch >= 'A' && ch <= 'Z') ||
				    (ch >= 'a' && ch <= 'z') ||
				    (ch >= '0' && ch <= '9') || ch == '+' ||
				    ch == '/')) {
			return "must be base64 (inlineString takes the text "
			       "itself)";
		}
		n++;
	}
	return n % 4 || pad > 2 ? "must be base64 (inlineString takes the "
				  "text itself)" : NULL;
}

static const struct sch_field mes_match_fields[] = {
	[MATCH_TYPE] = SCH_F_ENUM("type", mf_mes_match, type, mes_match_types),
	[MATCH_PORT] = SCH_F_PORT("port", mf_mes_match, port, SCH_REQUIRED),
	[MATCH_PROTOCOL] = SCH_F_ENUM("protocol", mf_mes_match, protocol,
				      mes_protocols),
};
SCH_OBJECT_DEF(mes_match, "MeshExternalService match");

/* No field: an extension's config is kept only when empty. */
static const struct sch_object mes_ext_config = {
	.name = "MeshExternalService extension config",
};

static const struct sch_field mes_extension_fields[] = {
	[EXT_TYPE] = SCH_F_STRING("type", mf_mes_extension, type,
				  SCH_REQUIRED),
	[EXT_CONFIG] = SCH_F_OBJECT("config", mf_mes_extension, config,
				    &mes_ext_config),
};
SCH_OBJECT_DEF(mes_extension, "MeshExternalService extension");

static const struct sch_field mes_endpoint_fields[] = {
	[EP_ADDRESS] = SCH_F_STRING("address", mf_mes_endpoint, address,
				    SCH_REQUIRED,
				    .check = mes_check_address),
	[EP_PORT] = SCH_F_PORT("port", mf_mes_endpoint, port, SCH_REQUIRED),
	[EP_PRIORITY] = SCH_F_INT("priority", mf_mes_endpoint, priority, 0,
				  128),
};
SCH_OBJECT_DEF(mes_endpoint, "MeshExternalService endpoint");

/* TLSAuto leaves a bound to the proxy; two versions must be in order. */
static const char *mes_version_check(const void *obj, unsigned *field)
{
	const struct mf_mes_tls_version *v = obj;

	*field = VER_MIN;
	return sch_has(v, VER_MIN) && sch_has(v, VER_MAX) &&
	       v->min != MF_MES_TLS_AUTO && v->max != MF_MES_TLS_AUTO &&
	       v->min > v->max ? "must not be above max" : NULL;
}

static const struct sch_field mes_version_fields[] = {
	[VER_MIN] = SCH_F_ENUM("min", mf_mes_tls_version, min,
			       mes_tls_versions),
	[VER_MAX] = SCH_F_ENUM("max", mf_mes_tls_version, max,
			       mes_tls_versions),
};
SCH_OBJECT_DEF(mes_version, "MeshExternalService tls version",
	       .check_field = mes_version_check);

static const struct sch_field mes_san_fields[] = {
	[SAN_TYPE] = SCH_F_ENUM("type", mf_mes_san, type, mes_san_types),
	[SAN_VALUE] = SCH_F_STRING("value", mf_mes_san, value, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mes_san, "MeshExternalService subjectAltName");

static const struct sch_field mes_secret_ref_fields[] = {
	SCH_F_ENUM("kind", mf_mes_secret_ref, kind, mes_secret_kinds,
		   SCH_REQUIRED),
	SCH_F_NAME("name", mf_mes_secret_ref, name, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mes_secret_ref, "MeshExternalService secretRef");

static const struct sch_field mes_insecure_inline_fields[] = {
	SCH_F_STRING("value", mf_mes_insecure_inline, value, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mes_insecure_inline, "MeshExternalService insecureInline");

static const struct sch_field mes_file_fields[] = {
	SCH_F_STRING("path", mf_mes_file, path),
};
SCH_OBJECT_DEF(mes_file, "MeshExternalService file");

static const struct sch_field mes_env_var_fields[] = {
	SCH_F_STRING("name", mf_mes_env_var, name),
};
SCH_OBJECT_DEF(mes_env_var, "MeshExternalService envVar");

/* The source's type; both source structs start alike. */
_Static_assert(offsetof(struct mf_mes_ca_source, type) ==
	       offsetof(struct mf_mes_key_source, type),
	       "the sources' type is at one place");

static unsigned mes_source_type(const void *obj)
{
	return ((const struct mf_mes_key_source *)obj)->type;
}

/* One source, in one Kuma's words: @none is the message for none. */
static const char *mes_source_one(const void *obj, const char *none)
{
	uint32_t p = sch_present(obj), k2 = p & SRC_KUMA2;

	if (!p)
		return none;
	if (k2 && (p & ~SRC_KUMA2))
		return "secret, inline and inlineString (Kuma 2.14) do not "
		       "go with type and its objects (Kuma 3.0)";
	return k2 & (k2 - 1) ? "must have only one of secret, inline and "
			       "inlineString" : NULL;
}

static const char *mes_ca_one(const void *obj)
{
	return mes_source_one(obj, "needs secret, inline or inlineString, "
				   "or type with secretRef or "
				   "insecureInline");
}

static const char *mes_key_one(const void *obj)
{
	return mes_source_one(obj, "needs secret, or type Secret with "
				   "secretRef");
}

/* Kuma 3.0's form: the type and its own object, and no other. */
static const char *mes_source_typed(const void *obj, unsigned *field)
{
	uint32_t p = sch_present(obj), objs = p & SRC_KUMA3_OBJS, want;

	if (!(p & ~SRC_KUMA2))
		return NULL;
	*field = SRC_TYPE;
	if (!sch_has(obj, SRC_TYPE))
		return "is required with secretRef or insecureInline";
	if (mes_source_type(obj) == MF_MES_SRC_SECRET) {
		*field = SRC_SECRET_REF;
		if (!(objs & SRC_BIT(SRC_SECRET_REF)))
			return "is required for type Secret";
	} else {
		*field = SRC_INSECURE_INLINE;
		if (!(objs & SRC_BIT(SRC_INSECURE_INLINE)))
			return "is required for type InsecureInline";
	}
	want = SRC_BIT(*field);
	if (!(objs & ~want))
		return NULL;
	*field = (unsigned)__builtin_ctz(objs & ~want);
	return mes_source_type(obj) == MF_MES_SRC_SECRET ?
	       "must not be set when type is Secret" :
	       "must not be set when type is InsecureInline";
}

#define MES_SOURCE_FIELDS(st, types)                                          \
	[SRC_TYPE] = SCH_F_ENUM("type", st, type, types),                     \
	[SRC_SECRET] = SCH_F_NAME("secret", st, secret),                      \
	[SRC_SECRET_REF] = SCH_F_OBJECT("secretRef", st, secret_ref,          \
					&mes_secret_ref),                     \
	[SRC_FILE] = SCH_F_OBJECT("file", st, file, &mes_file),               \
	[SRC_ENV_VAR] = SCH_F_OBJECT("envVar", st, env_var, &mes_env_var)

static const struct sch_field mes_ca_source_fields[] = {
	MES_SOURCE_FIELDS(mf_mes_ca_source, mes_ca_types),
	[SRC_INLINE] = SCH_F_STRING("inline", mf_mes_ca_source, inline_base64,
				    .check = mes_check_base64),
	[SRC_INLINE_STRING] = SCH_F_STRING("inlineString", mf_mes_ca_source,
					   inline_string),
	[SRC_INSECURE_INLINE] = SCH_F_OBJECT("insecureInline",
					     mf_mes_ca_source,
					     insecure_inline,
					     &mes_insecure_inline),
};
SCH_OBJECT_DEF(mes_ca_source, "MeshExternalService caCert",
	       .check = mes_ca_one, .check_field = mes_source_typed);

static const struct sch_field mes_key_source_fields[] = {
	MES_SOURCE_FIELDS(mf_mes_key_source, mes_key_types),
};
SCH_OBJECT_DEF(mes_key_source, "MeshExternalService clientCert or clientKey",
	       .check = mes_key_one, .check_field = mes_source_typed);

/* A client certificate is nothing without its key, and the reverse. */
static const char *mes_verification_check(const void *obj, unsigned *field)
{
	bool cert = sch_has(obj, VERIF_CLIENT_CERT);
	bool key = sch_has(obj, VERIF_CLIENT_KEY);

	*field = cert ? VERIF_CLIENT_KEY : VERIF_CLIENT_CERT;
	if (cert == key)
		return NULL;
	return cert ? "is required with clientCert" :
		      "is required with clientKey";
}

static const struct sch_field mes_verification_fields[] = {
	[VERIF_MODE] = SCH_F_ENUM("mode", mf_mes_verification, mode,
				  mes_modes),
	[VERIF_SERVER_NAME] = SCH_F_STRING("serverName", mf_mes_verification,
					   server_name,
					   .check = mes_check_server_name),
	[VERIF_SANS] = SCH_F_LIST("subjectAltNames", mf_mes_verification,
				  subject_alt_names, &mes_san),
	[VERIF_CA_CERT] = SCH_F_OBJECT("caCert", mf_mes_verification,
				       ca_cert, &mes_ca_source),
	[VERIF_CLIENT_CERT] = SCH_F_OBJECT("clientCert", mf_mes_verification,
					   client_cert, &mes_key_source),
	[VERIF_CLIENT_KEY] = SCH_F_OBJECT("clientKey", mf_mes_verification,
					  client_key, &mes_key_source),
};
SCH_OBJECT_DEF(mes_verification, "MeshExternalService tls verification",
	       .check_field = mes_verification_check);

static const struct sch_field mes_tls_fields[] = {
	[TLS_ENABLED] = SCH_F_BOOL("enabled", mf_mes_tls, enabled),
	[TLS_ALLOW_RENEGOTIATION] = SCH_F_BOOL("allowRenegotiation",
					       mf_mes_tls,
					       allow_renegotiation),
	[TLS_VERSION] = SCH_F_OBJECT("version", mf_mes_tls, version,
				     &mes_version),
	[TLS_VERIFICATION] = SCH_F_OBJECT("verification", mf_mes_tls,
					  verification, &mes_verification),
};
SCH_OBJECT_DEF(mes_tls, "MeshExternalService tls");

static const struct sch_field mes_fields[] = {
	[MES_MATCH] = SCH_F_OBJECT("match", mf_mesh_external_service, match,
				   &mes_match, SCH_REQUIRED),
	[MES_EXTENSION] = SCH_F_OBJECT("extension", mf_mesh_external_service,
				       extension, &mes_extension),
	[MES_ENDPOINTS] = SCH_F_LIST("endpoints", mf_mesh_external_service,
				     endpoints, &mes_endpoint),
	[MES_TLS] = SCH_F_OBJECT("tls", mf_mesh_external_service, tls,
				 &mes_tls),
};
SCH_OBJECT_DEF(mes, "MeshExternalService spec");

const struct kind_desc kind_mesh_external_service = {
	.name = "MeshExternalService",
	.plural = "meshexternalservices",
	.short_name = "extsvc",
	.form = KIND_FORM_SPEC, .name_rfc1035 = true,
	.val_size = sizeof(struct mf_mesh_external_service), .conf = &mes,
};
