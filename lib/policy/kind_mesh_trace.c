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
 *             sharedSpanContext: false
 *       tags:
 *         - {name: team, literal: core}
 *         - name: env
 *           header: {name: x-env, default: prod}
 *       sampling: {overall: 80, client: 50, random: 12.5}
 *
 * Other backends: `datadog: {url: http://127.0.0.1:8126, splitService:
 * true}` and `openTelemetry: {endpoint: otel-collector:4317}`, or Kuma
 * 3.0's only form, `openTelemetry: {backendRef: {kind:
 * MeshOpenTelemetryBackend, labels: {app: otel}}}` (exactly one of the
 * two).  Kuma allows at most one backend.  A backend is exactly one of
 * zipkin, datadog and openTelemetry (they share the record's storage).
 * Kuma 2.x writes `type: Zipkin|Datadog|OpenTelemetry` next to the
 * object and earlier Kumas do not: both forms are read, and a `type` that
 * is given must name the object present.  A tag is exactly one of literal
 * and header.  Sampling values are percentages, 0..100 with up to 3
 * decimals.  A targetRef MeshGateway has no tags: Kuma traces whole
 * gateways, not listeners.
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
	if (strncmp(s, "http://", 7) || kind_check_no_space(s))
		return "must be http://host:port";
	return kind_check_host_port(s + 7, "/?#@", "must be http://host:port");
}

/* An OpenTelemetry collector (gRPC): host, or host:port (4317 when left
 * out), never a URL. */
static const char *trace_check_otel_endpoint(const char *s)
{
	const char *why;

	if (strpbrk(s, "/?#"))
		return "must be host:port, not a URL";
	why = kind_check_no_space(s);
	if (why || !strchr(s, ':'))
		return why;
	return kind_check_host_port(s, "", "must be host or host:port");
}

static const char *const trace_backend_types[] = { "Zipkin", "Datadog",
						   "OpenTelemetry", NULL };
static const char *const trace_zipkin_versions[] = { "httpJson",
						     "httpProto", NULL };

static const struct sch_field trace_zipkin_fields[] = {
	SCH_F_STRING("url", mf_trace_zipkin, url, SCH_REQUIRED,
		     .check = trace_check_url),
	SCH_F_BOOL("traceId128bit", mf_trace_zipkin, trace_id_128bit),
	SCH_F_ENUM("apiVersion", mf_trace_zipkin, api_version,
		   trace_zipkin_versions),
	SCH_F_BOOL("sharedSpanContext", mf_trace_zipkin, shared_span),
};
SCH_OBJECT_DEF(trace_zipkin, "MeshTrace zipkin backend");

static const struct sch_field trace_datadog_fields[] = {
	SCH_F_STRING("url", mf_trace_datadog, url, SCH_REQUIRED,
		     .check = trace_check_datadog_url),
	SCH_F_BOOL("splitService", mf_trace_datadog, split_service),
};
SCH_OBJECT_DEF(trace_datadog, "MeshTrace datadog backend");

enum { TRACE_OTEL_ENDPOINT, TRACE_OTEL_REF };

static const struct sch_field trace_otel_fields[] = {
	[TRACE_OTEL_ENDPOINT] = SCH_F_STRING(
		"endpoint", mf_trace_otel, endpoint,
		.check = trace_check_otel_endpoint),
	[TRACE_OTEL_REF] = SCH_F_OBJECT("backendRef", mf_trace_otel,
					backend_ref, &kind_otel_backend_ref),
};
SCH_OBJECT_DEF(trace_otel, "MeshTrace openTelemetry backend",
	       .check = kind_check_otel_endpoint_or_ref);

/* Field i (1..3) is the object enum mf_trace_backend_type i names. */
enum { TRACE_BE_TYPE, TRACE_BE_ZIPKIN, TRACE_BE_DATADOG, TRACE_BE_OTEL };

/* The three objects share storage: exactly one may be present. */
static const char *trace_backend_check(const void *obj)
{
	const struct mf_trace_backend *b = obj;

	return kind_check_typed_one(b, b->type, TRACE_BE_OTEL, "must have "
				    "exactly one of zipkin, datadog, "
				    "openTelemetry");
}

static const struct sch_field trace_backend_fields[] = {
	[TRACE_BE_TYPE] = SCH_F_ENUM("type", mf_trace_backend, type,
				     trace_backend_types),
	[TRACE_BE_ZIPKIN] = SCH_F_OBJECT("zipkin", mf_trace_backend, zipkin,
					 &trace_zipkin),
	[TRACE_BE_DATADOG] = SCH_F_OBJECT("datadog", mf_trace_backend,
					  datadog, &trace_datadog),
	[TRACE_BE_OTEL] = SCH_F_OBJECT("openTelemetry", mf_trace_backend,
				       open_telemetry, &trace_otel),
};
SCH_OBJECT_DEF(trace_backend, "MeshTrace backend",
	       .check = trace_backend_check);

static const struct sch_field trace_header_fields[] = {
	SCH_F_STRING("name", mf_trace_tag_header, name, SCH_REQUIRED),
	SCH_F_STRING("default", mf_trace_tag_header, default_value),
};
SCH_OBJECT_DEF(trace_header, "MeshTrace tag header");

enum { TRACE_TAG_NAME, TRACE_TAG_LITERAL, TRACE_TAG_HEADER };

static const char *trace_tag_check(const void *obj)
{
	if (sch_has(obj, TRACE_TAG_LITERAL) == sch_has(obj, TRACE_TAG_HEADER))
		return "must have exactly one of literal, header";
	return NULL;
}

static const struct sch_field trace_tag_fields[] = {
	[TRACE_TAG_NAME] = SCH_F_STRING("name", mf_trace_tag, name,
					SCH_REQUIRED),
	[TRACE_TAG_LITERAL] = SCH_F_STRING("literal", mf_trace_tag, literal),
	[TRACE_TAG_HEADER] = SCH_F_OBJECT("header", mf_trace_tag, header,
					  &trace_header),
};
SCH_OBJECT_DEF(trace_tag, "MeshTrace tag", .check = trace_tag_check);

static const struct sch_field trace_sampling_fields[] = {
	SCH_F_PERCENT("overall", mf_trace_sampling, overall),
	SCH_F_PERCENT("client", mf_trace_sampling, client),
	SCH_F_PERCENT("random", mf_trace_sampling, random),
};
SCH_OBJECT_DEF(trace_sampling, "MeshTrace sampling");

static const struct sch_field trace_conf_fields[] = {
	/* Kuma: required, zero or one entry. */
	SCH_F_LIST("backends", mf_trace_conf, backends, &trace_backend,
		   SCH_REQUIRED),
	SCH_F_LIST("tags", mf_trace_conf, tags, &trace_tag),
	SCH_F_OBJECT("sampling", mf_trace_conf, sampling, &trace_sampling),
};
SCH_OBJECT_DEF(trace_conf, "MeshTrace default");

/* KIND_FORM_DEFAULT: no to/from entries, so no sections or entry kinds. */
/* Kuma 3.0 sends OpenTelemetry through a backendRef only. */
static const char *const trace_gone_v3[] = {
	"backends[].openTelemetry.endpoint", NULL };

const struct kind_desc kind_mesh_trace = {
	.name = "MeshTrace", .plural = "meshtraces",
	.form = KIND_FORM_DEFAULT, .gone_v3 = trace_gone_v3,
	/* A gateway is traced as a whole: no listener tags. */
	.sections = KIND_SEC_GATEWAY_NO_TAGS,
	.target_kinds = KIND_TARGETS_GATEWAY,
	KIND_RECORD(mf_trace, conf, &trace_conf),
};
