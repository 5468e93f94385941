// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog: where the proxy writes a line per request or connection,
 * per destination (to) or per inbound source (from).
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshAccessLog
 *   metadata: {name: web-logs}
 *   spec:
 *     targetRef: {kind: MeshService, name: web}
 *     to:
 *       - targetRef: {kind: Mesh}
 *         default:
 *           backends:
 *             - type: File                 # optional, see below
 *               file:
 *                 path: /var/log/web.log
 *                 format:
 *                   type: Plain
 *                   plain: '[%START_TIME%] %RESPONSE_CODE%'
 *             - tcp:
 *                 address: 127.0.0.1:5000
 *                 format:
 *                   type: Json
 *                   json:
 *                     - {key: start_time, value: '%START_TIME%'}
 *                   omitEmptyValues: true
 *     from:
 *       - targetRef: {kind: Mesh}
 *         default:
 *           backends:
 *             - openTelemetry:
 *                 endpoint: otel-collector:4317
 *                 body: '%KUMA_MESH%'
 *                 attributes:
 *                   - {key: mesh.name, value: '%KUMA_MESH%'}
 *
 * A backend is exactly one of file, tcp and openTelemetry (they share the
 * record's storage).  Kuma 2.x also writes `type: File|Tcp|OpenTelemetry`
 * next to the object and earlier Kumas do not: both forms are read, and a
 * `type` that is given must name the object present.  The same goes for
 * format.type (Plain|Json) against format.plain / format.json.
 * openTelemetry has exactly one of `endpoint` (Kuma 2.x) and `backendRef:
 * {kind: MeshOpenTelemetryBackend, labels: {...}}` (the only form in Kuma
 * 3.0).
 * openTelemetry.body is a string or an OpenTelemetry AnyValue written
 * as a mapping (otlpval.h):
 *
 *   body:
 *     kvlistValue:
 *       values:
 *         - {key: mesh, value: {stringValue: '%KUMA_MESH%'}}
 *         - {key: status, value: {stringValue: '%RESPONSE_CODE%'}}
 * A tcp address is a host:port the proxy can dial.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

/* A host name as Kuma's URL check takes it: dot-separated labels of
 * letters, digits, '-' and '_', none starting or ending with '-'; or a
 * bracketed IPv6 address.  An IPv4 address is such a name too. */
static bool log_host_ok(const char *s, size_t len)
{
	size_t label = 0;

	if (s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return false;
		for (size_t i = 1; i < len - 1; i++)
			if (!strchr("0123456789abcdefABCDEF:.", s[i]))
				return false;
		return true;
	}
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '.') {
			if (!label || s[i - 1] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
			   (ch >= 'A' && ch <= 'Z') ||
			   (ch >= '0' && ch <= '9') || ch == '_' ||
			   (ch == '-' && label)) {
			label++;
		} else {
			return false;
		}
	}
	return label && s[len - 1] != '-';
}

/* A TCP collector, which the proxy dials: host:port with a port in
 * 1..65535. */
static const char *log_check_address(const char *s)
{
	const char *why = kind_check_host_port(s, "/", "must be host:port");

	if (why)
		return why;
	return log_host_ok(s, (size_t)(strrchr(s, ':') - s)) ? NULL :
	       "must be host:port";
}

/* An OpenTelemetry collector (gRPC): host, or host:port (4317 when left
 * out), never a URL. */
static const char *log_check_otel_endpoint(const char *s)
{
	const char *why;

	if (strpbrk(s, "/?#"))
		return "must be host:port, not a URL";
	why = kind_check_no_space(s);
	if (why || !strchr(s, ':'))
		return why;
	return kind_check_host_port(s, "", "must be host or host:port");
}

/*
 * An OpenTelemetry attribute name: fixed (placeholders go in values), not
 * in the namespace OpenTelemetry keeps for itself, and lowercase letters
 * and digits, a letter first, with single '.' or '_' between them.
 */
static const char *log_check_attr_key(const char *s)
{
	if (strchr(s, '%'))
		return "must be a fixed name: placeholders (%...%) go in "
		       "values";
	if (!strncmp(s, "otel.", 5))
		return "must not start with 'otel.', which OpenTelemetry "
		       "reserves";
	if (*s < 'a' || *s > 'z')
		goto bad;
	for (s++; *s; s++) {
		if (*s == '.' || *s == '_')
			s++;
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			goto bad;
	}
	return NULL;
bad:
	return "must be lowercase letters and digits, a letter first, with "
	       "single '.' or '_' between them";
}

/* A json format key or value ends up inside a JSON string literal, so
 * quotes, backslashes and control characters would break the line. */
static const char *log_check_json_text(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < ' ')
			return "must not contain '\"', '\\' or control "
			       "characters";
	return NULL;
}

static const char *const log_format_types[] = { "Plain", "Json", NULL };
static const char *const log_backend_types[] = { "File", "Tcp",
						 "OpenTelemetry", NULL };

static const struct sch_field log_json_fields[] = {
	SCH_F_STRING("key", mf_log_json_field, key, SCH_REQUIRED,
		     .check = log_check_json_text),
	SCH_F_STRING("value", mf_log_json_field, value, SCH_REQUIRED,
		     .check = log_check_json_text),
};
SCH_OBJECT_DEF(log_json, "MeshAccessLog format json entry");

enum { LOG_FMT_TYPE, LOG_FMT_PLAIN, LOG_FMT_JSON, LOG_FMT_OMIT };

/* Exactly one of plain and json; a given type names it. */
static const char *log_format_check(const void *obj)
{
	const struct mf_log_format *f = obj;
	bool plain = sch_has(obj, LOG_FMT_PLAIN);
	bool json = sch_has(obj, LOG_FMT_JSON);

	if (plain == json)
		return "must have exactly one of plain, json";
	if (sch_has(obj, LOG_FMT_TYPE) &&
	    f->type != (plain ? MF_LOG_PLAIN : MF_LOG_JSON))
		return plain ? "type must be Plain when plain is set" :
			       "type must be Json when json is set";
	if (json && !f->njson)
		return "json must not be empty";
	return NULL;
}

static const struct sch_field log_format_fields[] = {
	[LOG_FMT_TYPE] = SCH_F_ENUM("type", mf_log_format, type,
				    log_format_types),
	[LOG_FMT_PLAIN] = SCH_F_STRING("plain", mf_log_format, plain),
	[LOG_FMT_JSON] = SCH_F_LIST("json", mf_log_format, json, &log_json),
	[LOG_FMT_OMIT] = SCH_F_BOOL("omitEmptyValues", mf_log_format,
				    omit_empty_values),
};
SCH_OBJECT_DEF(log_format, "MeshAccessLog format",
	       .check = log_format_check);

static const struct sch_field log_file_fields[] = {
	SCH_F_STRING("path", mf_log_file, path, SCH_REQUIRED,
		     .check = kind_check_file_path),
	SCH_F_OBJECT("format", mf_log_file, format, &log_format),
};
SCH_OBJECT_DEF(log_file, "MeshAccessLog file backend");

static const struct sch_field log_tcp_fields[] = {
	SCH_F_STRING("address", mf_log_tcp, address, SCH_REQUIRED,
		     .check = log_check_address),
	SCH_F_OBJECT("format", mf_log_tcp, format, &log_format),
};
SCH_OBJECT_DEF(log_tcp, "MeshAccessLog tcp backend");

static const struct sch_field log_otel_attr_fields[] = {
	SCH_F_STRING("key", mf_log_otel_attr, key, SCH_REQUIRED,
		     .check = log_check_attr_key),
	SCH_F_STRING("value", mf_log_otel_attr, value, SCH_REQUIRED,
		     .check = kind_check_header_value),
};
SCH_OBJECT_DEF(log_otel_attr, "MeshAccessLog openTelemetry attribute");

enum { LOG_OTEL_ENDPOINT, LOG_OTEL_REF, LOG_OTEL_BODY, LOG_OTEL_ATTRS };

static const struct sch_field log_otel_fields[] = {
	[LOG_OTEL_ENDPOINT] = SCH_F_STRING("endpoint", mf_log_otel, endpoint,
					   .check = log_check_otel_endpoint),
	[LOG_OTEL_REF] = SCH_F_OBJECT("backendRef", mf_log_otel, backend_ref,
				      &kind_otel_backend_ref),
	[LOG_OTEL_BODY] = SCH_F_OTLPVAL("body", mf_log_otel, body),
	[LOG_OTEL_ATTRS] = SCH_F_LIST("attributes", mf_log_otel, attributes,
				      &log_otel_attr),
};
SCH_OBJECT_DEF(log_otel, "MeshAccessLog openTelemetry backend",
	       .check = kind_check_otel_endpoint_or_ref);

/* Field i (1..3) is the object enum mf_log_backend_type i names. */
enum { LOG_BE_TYPE, LOG_BE_FILE, LOG_BE_TCP, LOG_BE_OTEL };

/* The three objects share storage: exactly one may be present. */
static const char *log_backend_check(const void *obj)
{
	const struct mf_log_backend *b = obj;

	return kind_check_typed_one(b, b->type, LOG_BE_OTEL, "must have "
				    "exactly one of file, tcp, openTelemetry");
}

static const struct sch_field log_backend_fields[] = {
	[LOG_BE_TYPE] = SCH_F_ENUM("type", mf_log_backend, type,
				   log_backend_types),
	[LOG_BE_FILE] = SCH_F_OBJECT("file", mf_log_backend, file, &log_file),
	[LOG_BE_TCP] = SCH_F_OBJECT("tcp", mf_log_backend, tcp, &log_tcp),
	[LOG_BE_OTEL] = SCH_F_OBJECT("openTelemetry", mf_log_backend,
				     open_telemetry, &log_otel),
};
SCH_OBJECT_DEF(log_backend, "MeshAccessLog backend",
	       .check = log_backend_check);

static const struct sch_field log_conf_fields[] = {
	SCH_F_LIST("backends", mf_log_conf, backends, &log_backend,
		   SCH_REQUIRED),
};
SCH_OBJECT_DEF(log_conf, "MeshAccessLog default");

/* Kuma 3.0 sends OpenTelemetry through a backendRef only. */
static const char *const log_gone_v3[] = {
	"backends[].openTelemetry.endpoint", NULL };

const struct kind_desc kind_mesh_access_log = {
	.name = "MeshAccessLog", .plural = "meshaccesslogs",
	.form = KIND_FORM_TO_FROM, .gone_v3 = log_gone_v3,
	.sections = KIND_SEC_TO | KIND_SEC_FROM | KIND_SEC_RULES |
		    KIND_SEC_RULE_MATCHES,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.to_kinds = KIND_TO_OUTBOUND_ROUTE,
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY),
	.to_kinds_gw = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	KIND_RECORD(mf_accesslog, conf, &log_conf),
};
