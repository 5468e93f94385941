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
 *
 * A backend is exactly one of file, tcp and openTelemetry (they share the
 * record's storage).  Kuma 2.x also writes `type: File|Tcp|OpenTelemetry`
 * next to the object and earlier Kumas do not: both forms are read, and a
 * `type` that is given must name the object present.  The same goes for
 * format.type (Plain|Json) against format.plain / format.json.
 * openTelemetry.body is kept as a string (Kuma also takes an OTLP value).
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

/* A file path: absolute, as Kuma's IsFilePath wants on Linux. */
static const char *log_check_path(const char *s)
{
	return s[0] == '/' ? NULL : "must be an absolute path";
}

/* A TCP collector: "host:port" with a port in 1..65535. */
static const char *log_check_address(const char *s)
{
	const char *colon = strrchr(s, ':');
	long port;

	if (!colon || colon == s || !colon[1])
		return "must be host:port";
	port = kind_parse_port(colon + 1);
	if (port < 0)
		return "must be host:port";
	if (port < 1 || port > 65535)
		return "port must be 1..65535";
	for (const char *p = s; p < colon; p++)
		if (*p <= ' ' || *p == '/')
			return "must be host:port";
	return NULL;
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
	{ .name = "key", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_log_json_field, key),
	  .size = MF_HDR_NAME_MAX, .check = log_check_json_text },
	{ .name = "value", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_log_json_field, value),
	  .size = MF_HDR_VALUE_MAX, .check = log_check_json_text },
};

static const struct sch_object log_json = {
	.name = "MeshAccessLog format json entry",
	.fields = log_json_fields,
	.nfields = SCH_NFIELDS(log_json_fields),
};

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
	[LOG_FMT_TYPE] = { .name = "type", .type = SCH_ENUM,
			   .off = offsetof(struct mf_log_format, type),
			   .names = log_format_types },
	[LOG_FMT_PLAIN] = { .name = "plain", .type = SCH_STRING,
			    .off = offsetof(struct mf_log_format, plain),
			    .size = MF_LOG_PLAIN_MAX },
	[LOG_FMT_JSON] = { .name = "json", .type = SCH_LIST,
			   .off = offsetof(struct mf_log_format, json),
			   .count_off = offsetof(struct mf_log_format, njson),
			   .item_size = sizeof(struct mf_log_json_field),
			   .max_items = MF_LOG_JSON_MAX, .sub = &log_json },
	[LOG_FMT_OMIT] = { .name = "omitEmptyValues", .type = SCH_BOOL,
			   .off = offsetof(struct mf_log_format,
					   omit_empty_values) },
};

static const struct sch_object log_format = {
	.name = "MeshAccessLog format",
	.fields = log_format_fields,
	.nfields = SCH_NFIELDS(log_format_fields),
	.check = log_format_check,
};

static const struct sch_field log_file_fields[] = {
	{ .name = "path", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_log_file, path), .size = MF_PATH_MAX,
	  .check = log_check_path },
	{ .name = "format", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_log_file, format), .sub = &log_format },
};

static const struct sch_object log_file = {
	.name = "MeshAccessLog file backend",
	.fields = log_file_fields,
	.nfields = SCH_NFIELDS(log_file_fields),
};

static const struct sch_field log_tcp_fields[] = {
	{ .name = "address", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_log_tcp, address), .size = MF_PATH_MAX,
	  .check = log_check_address },
	{ .name = "format", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_log_tcp, format), .sub = &log_format },
};

static const struct sch_object log_tcp = {
	.name = "MeshAccessLog tcp backend",
	.fields = log_tcp_fields,
	.nfields = SCH_NFIELDS(log_tcp_fields),
};

static const struct sch_field log_otel_fields[] = {
	{ .name = "endpoint", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_log_otel, endpoint), .size = MF_PATH_MAX,
	  .check = kind_check_no_space },
	{ .name = "body", .type = SCH_STRING,
	  .off = offsetof(struct mf_log_otel, body),
	  .size = MF_LOG_PLAIN_MAX },
};

static const struct sch_object log_otel = {
	.name = "MeshAccessLog openTelemetry backend",
	.fields = log_otel_fields,
	.nfields = SCH_NFIELDS(log_otel_fields),
};

/* Field i (1..3) is the object enum mf_log_backend_type i names. */
enum { LOG_BE_TYPE, LOG_BE_FILE, LOG_BE_TCP, LOG_BE_OTEL };

/* The three objects share storage: exactly one may be present. */
static const char *log_backend_check(const void *obj)
{
	const struct mf_log_backend *b = obj;

	return kind_check_typed_one(obj, (1u << LOG_BE_FILE) |
					 (1u << LOG_BE_TCP) |
					 (1u << LOG_BE_OTEL),
				    LOG_BE_TYPE, b->type,
				    "must have exactly one of file, tcp, "
				    "openTelemetry");
}

static const struct sch_field log_backend_fields[] = {
	[LOG_BE_TYPE] = { .name = "type", .type = SCH_ENUM,
			  .off = offsetof(struct mf_log_backend, type),
			  .names = log_backend_types },
	[LOG_BE_FILE] = { .name = "file", .type = SCH_OBJECT,
			  .off = offsetof(struct mf_log_backend, file),
			  .sub = &log_file },
	[LOG_BE_TCP] = { .name = "tcp", .type = SCH_OBJECT,
			 .off = offsetof(struct mf_log_backend, tcp),
			 .sub = &log_tcp },
	[LOG_BE_OTEL] = { .name = "openTelemetry", .type = SCH_OBJECT,
			  .off = offsetof(struct mf_log_backend,
					  open_telemetry),
			  .sub = &log_otel },
};

static const struct sch_object log_backend = {
	.name = "MeshAccessLog backend",
	.fields = log_backend_fields,
	.nfields = SCH_NFIELDS(log_backend_fields),
	.check = log_backend_check,
};

static const struct sch_field log_conf_fields[] = {
	{ .name = "backends", .type = SCH_LIST, .required = true,
	  .off = offsetof(struct mf_log_conf, backends),
	  .count_off = offsetof(struct mf_log_conf, nbackends),
	  .item_size = sizeof(struct mf_log_backend),
	  .max_items = MF_LOG_BACKENDS_MAX, .sub = &log_backend },
};

static const struct sch_object log_conf = {
	.name = "MeshAccessLog default",
	.fields = log_conf_fields,
	.nfields = SCH_NFIELDS(log_conf_fields),
};

const struct kind_desc kind_mesh_access_log = {
	.name = "MeshAccessLog",
	.plural = "meshaccesslogs",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.to_kinds = KIND_TO_SERVICE | KIND_REF(MF_REF_MESH_HTTP_ROUTE),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_accesslog),
	.conf_off = offsetof(struct mf_accesslog, conf),
	.conf = &log_conf,
};
