// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrace: where the proxies of the targeted workloads send spans, which
 * tags they add and how much they sample.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshTrace
 *   metadata: {name: default}
 *   spec:
 *     targetRef: {kind: Mesh}
 *     default:
 *       backends:
 *         - type: Zipkin                   # optional, see below
 *           zipkin:
 *             url: http://jaeger-collector:9411/api/v2/spans
 *             traceId128bit: true
 *             apiVersion: httpJson
 *             sharedSpan: false
 *       tags:
 *         - {name: team, literal: core}
 *         - name: env
 *           header: {name: x-env, default: prod}
 *       sampling: {overall: 80, client: 50, random: 12.5}
 *
 * Other backends: `datadog: {url: http://127.0.0.1:8126, splitService:
 * true}` and `openTelemetry: {endpoint: otel-collector:4317}`.  Kuma
 * allows at most one backend.  A backend is exactly one of zipkin, datadog
 * and openTelemetry (they share the record's storage).  Kuma 2.x writes
 * `type: Zipkin|Datadog|OpenTelemetry` next to the object and earlier
 * Kumas do not: both forms are read, and a `type` that is given must name
 * the object present.  A tag is exactly one of literal and header.
 * Sampling values are percentages, 0..100 with up to 3 decimals.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

/* Zipkin collector: an http(s) URL with a host. */
static const char *trace_check_url(const char *s)
{
	const char *host;

	if (!strncmp(s, "http://", 7))
		host = s + 7;
	else if (!strncmp(s, "https://", 8))
		host = s + 8;
	else
		return "must be an http:// or https:// URL";
	if (!*host || *host == '/' || kind_check_no_space(s))
		return "must be an http:// or https:// URL";
	return NULL;
}

/* Datadog agent: as Kuma checks it, http://host:port and nothing more. */
static const char *trace_check_datadog_url(const char *s)
{
	const char *host = s + 7, *colon;
	long port;

	if (strncmp(s, "http://", 7) || kind_check_no_space(s))
		return "must be http://host:port";
	colon = strrchr(host, ':');
	if (!colon || colon == host || !colon[1])
		return "must be http://host:port";
	port = kind_parse_port(colon + 1);
	if (port < 0)
		return "must be http://host:port";
	if (port < 1 || port > 65535)
		return "port must be 1..65535";
	for (const char *p = host; p < colon; p++)
		if (*p == '/' || *p == '?' || *p == '#' || *p == '@')
			return "must be http://host:port";
	return NULL;
}

static const char *const trace_backend_types[] = { "Zipkin", "Datadog",
						   "OpenTelemetry", NULL };
static const char *const trace_zipkin_versions[] = { "httpJson",
						     "httpProto", NULL };

static const struct sch_field trace_zipkin_fields[] = {
	{ .name = "url", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_trace_zipkin, url), .size = MF_PATH_MAX,
	  .check = trace_check_url },
	{ .name = "traceId128bit", .type = SCH_BOOL,
	  .off = offsetof(struct mf_trace_zipkin, trace_id_128bit) },
	{ .name = "apiVersion", .type = SCH_ENUM,
	  .off = offsetof(struct mf_trace_zipkin, api_version),
	  .names = trace_zipkin_versions },
	{ .name = "sharedSpan", .type = SCH_BOOL,
	  .off = offsetof(struct mf_trace_zipkin, shared_span) },
};

static const struct sch_object trace_zipkin = {
	.name = "MeshTrace zipkin backend",
	.fields = trace_zipkin_fields,
	.nfields = SCH_NFIELDS(trace_zipkin_fields),
};

static const struct sch_field trace_datadog_fields[] = {
	{ .name = "url", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_trace_datadog, url), .size = MF_PATH_MAX,
	  .check = trace_check_datadog_url },
	{ .name = "splitService", .type = SCH_BOOL,
	  .off = offsetof(struct mf_trace_datadog, split_service) },
};

static const struct sch_object trace_datadog = {
	.name = "MeshTrace datadog backend",
	.fields = trace_datadog_fields,
	.nfields = SCH_NFIELDS(trace_datadog_fields),
};

static const struct sch_field trace_otel_fields[] = {
	/* host:port (gRPC) or a URL, given verbatim. */
	{ .name = "endpoint", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_trace_otel, endpoint),
	  .size = MF_PATH_MAX, .check = kind_check_no_space },
};

static const struct sch_object trace_otel = {
	.name = "MeshTrace openTelemetry backend",
	.fields = trace_otel_fields,
	.nfields = SCH_NFIELDS(trace_otel_fields),
};

/* Field i (1..3) is the object enum mf_trace_backend_type i names. */
enum { TRACE_BE_TYPE, TRACE_BE_ZIPKIN, TRACE_BE_DATADOG, TRACE_BE_OTEL };

/* The three objects share storage: exactly one may be present. */
static const char *trace_backend_check(const void *obj)
{
	const struct mf_trace_backend *b = obj;

	return kind_check_typed_one(obj, (1u << TRACE_BE_ZIPKIN) |
					 (1u << TRACE_BE_DATADOG) |
					 (1u << TRACE_BE_OTEL),
				    TRACE_BE_TYPE, b->type,
				    "must have exactly one of zipkin, datadog, "
				    "openTelemetry");
}

static const struct sch_field trace_backend_fields[] = {
	[TRACE_BE_TYPE] = { .name = "type", .type = SCH_ENUM,
			    .off = offsetof(struct mf_trace_backend, type),
			    .names = trace_backend_types },
	[TRACE_BE_ZIPKIN] = { .name = "zipkin", .type = SCH_OBJECT,
			      .off = offsetof(struct mf_trace_backend, zipkin),
			      .sub = &trace_zipkin },
	[TRACE_BE_DATADOG] = { .name = "datadog", .type = SCH_OBJECT,
			       .off = offsetof(struct mf_trace_backend,
					       datadog),
			       .sub = &trace_datadog },
	[TRACE_BE_OTEL] = { .name = "openTelemetry", .type = SCH_OBJECT,
			    .off = offsetof(struct mf_trace_backend,
					    open_telemetry),
			    .sub = &trace_otel },
};

static const struct sch_object trace_backend = {
	.name = "MeshTrace backend",
	.fields = trace_backend_fields,
	.nfields = SCH_NFIELDS(trace_backend_fields),
	.check = trace_backend_check,
};

static const struct sch_field trace_header_fields[] = {
	{ .name = "name", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_trace_tag_header, name),
	  .size = MF_HDR_NAME_MAX },
	{ .name = "default", .type = SCH_STRING,
	  .off = offsetof(struct mf_trace_tag_header, default_value),
	  .size = MF_HDR_VALUE_MAX },
};

static const struct sch_object trace_header = {
	.name = "MeshTrace tag header",
	.fields = trace_header_fields,
	.nfields = SCH_NFIELDS(trace_header_fields),
};

enum { TRACE_TAG_NAME, TRACE_TAG_LITERAL, TRACE_TAG_HEADER };

static const char *trace_tag_check(const void *obj)
{
	if (sch_has(obj, TRACE_TAG_LITERAL) == sch_has(obj, TRACE_TAG_HEADER))
		return "must have exactly one of literal, header";
	return NULL;
}

static const struct sch_field trace_tag_fields[] = {
	[TRACE_TAG_NAME] = { .name = "name", .type = SCH_STRING,
			     .required = true,
			     .off = offsetof(struct mf_trace_tag, name),
			     .size = MF_HDR_NAME_MAX },
	[TRACE_TAG_LITERAL] = { .name = "literal", .type = SCH_STRING,
				.off = offsetof(struct mf_trace_tag, literal),
				.size = MF_HDR_VALUE_MAX },
	[TRACE_TAG_HEADER] = { .name = "header", .type = SCH_OBJECT,
			       .off = offsetof(struct mf_trace_tag, header),
			       .sub = &trace_header },
};

static const struct sch_object trace_tag = {
	.name = "MeshTrace tag",
	.fields = trace_tag_fields,
	.nfields = SCH_NFIELDS(trace_tag_fields),
	.check = trace_tag_check,
};

static const struct sch_field trace_sampling_fields[] = {
	{ .name = "overall", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_trace_sampling, overall) },
	{ .name = "client", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_trace_sampling, client) },
	{ .name = "random", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_trace_sampling, random) },
};

static const struct sch_object trace_sampling = {
	.name = "MeshTrace sampling",
	.fields = trace_sampling_fields,
	.nfields = SCH_NFIELDS(trace_sampling_fields),
};

static const struct sch_field trace_conf_fields[] = {
	/* Kuma: required, zero or one entry. */
	{ .name = "backends", .type = SCH_LIST, .required = true,
	  .off = offsetof(struct mf_trace_conf, backends),
	  .count_off = offsetof(struct mf_trace_conf, nbackends),
	  .item_size = sizeof(struct mf_trace_backend), .max_items = 1,
	  .sub = &trace_backend },
	{ .name = "tags", .type = SCH_LIST,
	  .off = offsetof(struct mf_trace_conf, tags),
	  .count_off = offsetof(struct mf_trace_conf, ntags),
	  .item_size = sizeof(struct mf_trace_tag),
	  .max_items = MF_TRACE_TAGS_MAX, .sub = &trace_tag },
	{ .name = "sampling", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_trace_conf, sampling),
	  .sub = &trace_sampling },
};

static const struct sch_object trace_conf = {
	.name = "MeshTrace default",
	.fields = trace_conf_fields,
	.nfields = SCH_NFIELDS(trace_conf_fields),
};

/* KIND_FORM_DEFAULT: no to/from entries, so no sections or entry kinds. */
const struct kind_desc kind_mesh_trace = {
	.name = "MeshTrace",
	.plural = "meshtraces",
	.form = KIND_FORM_DEFAULT,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.val_size = sizeof(struct mf_trace),
	.conf_off = offsetof(struct mf_trace, conf),
	.conf = &trace_conf,
};
