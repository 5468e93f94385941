// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMetric: which metrics the proxies of the targeted workloads collect
 * (their own and their applications') and where they expose or push them.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshMetric
 *   metadata: {name: default}
 *   spec:
 *     targetRef: {kind: Mesh}
 *     default:
 *       sidecar:
 *         includeUnused: false
 *         profiles:
 *           appendProfiles: [{name: Basic}]
 *           exclude: [{type: Regex, match: "envoy_cluster_.*"}]
 *           include: [{type: Prefix, match: envoy_cluster_upstream_rq}]
 *       applications:
 *         - {name: app, path: /metrics, port: 8888, address: 127.0.0.1}
 *       backends:
 *         - type: Prometheus
 *           prometheus:
 *             clientId: main
 *             port: 5670
 *             path: /metrics
 *             tls: {mode: ProvidedTLS}
 *         - type: OpenTelemetry
 *           openTelemetry:
 *             endpoint: otel-collector.observability:4317
 *             refreshInterval: 60s
 *
 * An openTelemetry backend has exactly one of `endpoint` (Kuma 2.x) and
 * `backendRef: {kind: MeshOpenTelemetryBackend, labels: {...}}` (the only
 * form in Kuma 3.0).
 *
 * A backend's `type` is required and the object it names must be given, as
 * in Kuma; the other object must not be (Kuma ignores it; here it would be
 * stored and printed for nothing, so it is refused).  Selectors match
 * metric names by type Prefix, Regex, Exact or Contains; a Regex must
 * compile.  Paths may leave out the leading '/', as in Kuma.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"


/* An OpenTelemetry collector: host:port, never a URL (unlike MeshTrace's
 * and MeshAccessLog's, Kuma wants the port here). */
static const char *metric_check_endpoint(const char *s)
{
	if (strpbrk(s, "/?#"))
		return "must be host:port, not a URL";
	return kind_check_host_port(s, "", "must be host:port");
}

static const char *const metric_profile_names[] = { "All", "Basic", "None",
						    NULL };
static const char *const metric_backend_types[] = { "Prometheus",
						    "OpenTelemetry", NULL };

static const struct sch_field metric_profile_fields[] = {
	SCH_F_ENUM("name", mf_metric_profile, name, metric_profile_names,
		   SCH_REQUIRED),
};
SCH_OBJECT_DEF(metric_profile, "MeshMetric profile");

static const char *const metric_selector_types[] = { "Prefix", "Regex",
						     "Exact", "Contains",
						     NULL };

enum { METRIC_SEL_TYPE, METRIC_SEL_MATCH };

static const char *metric_selector_check(const void *obj, unsigned *field)
{
	const struct mf_metric_selector *sel = obj;

	*field = METRIC_SEL_MATCH;
	if (sel->type == MF_METRIC_SEL_REGEX && !kind_regex_ok(sel->match))
		return "is not a valid regular expression";
	return NULL;
}

static const struct sch_field metric_selector_fields[] = {
	[METRIC_SEL_TYPE] = SCH_F_ENUM("type", mf_metric_selector, type,
				       metric_selector_types, SCH_REQUIRED),
	[METRIC_SEL_MATCH] = SCH_F_STRING("match", mf_metric_selector, match,
					  SCH_REQUIRED),
};
SCH_OBJECT_DEF(metric_selector, "MeshMetric profiles selector",
	       .check_field = metric_selector_check);

static const struct sch_field metric_profiles_fields[] = {
	SCH_F_LIST("appendProfiles", mf_metric_profiles, append_profiles,
		   &metric_profile),
	SCH_F_LIST("exclude", mf_metric_profiles, exclude, &metric_selector),
	SCH_F_LIST("include", mf_metric_profiles, include, &metric_selector),
};
SCH_OBJECT_DEF(metric_profiles, "MeshMetric profiles");

static const struct sch_field metric_sidecar_fields[] = {
	SCH_F_BOOL("includeUnused", mf_metric_sidecar, include_unused),
	SCH_F_OBJECT("profiles", mf_metric_sidecar, profiles,
		     &metric_profiles),
};
SCH_OBJECT_DEF(metric_sidecar, "MeshMetric sidecar");

static const struct sch_field metric_app_fields[] = {
	SCH_F_STRING("name", mf_metric_app, name),
	/* Kuma takes "metrics" for "/metrics". */
	SCH_F_STRING("path", mf_metric_app, path,
		     .check = kind_check_no_space),
	SCH_F_PORT("port", mf_metric_app, port, SCH_REQUIRED),
	SCH_F_STRING("address", mf_metric_app, address,
		     .check = kind_check_no_space),
};
SCH_OBJECT_DEF(metric_app, "MeshMetric application");

static const char *const metric_tls_modes[] = { "Disabled", "ProvidedTLS",
						"ActiveMTLSBackend", NULL };

static const struct sch_field metric_tls_fields[] = {
	SCH_F_ENUM("mode", mf_metric_prom_tls, mode, metric_tls_modes),
};
SCH_OBJECT_DEF(metric_tls, "MeshMetric prometheus tls");

static const struct sch_field metric_prom_fields[] = {
	SCH_F_STRING("clientId", mf_metric_prometheus, client_id),
	SCH_F_PORT("port", mf_metric_prometheus, port),
	/* As an application's: Kuma takes "metrics" for "/metrics". */
	SCH_F_STRING("path", mf_metric_prometheus, path,
		     .check = kind_check_no_space),
	SCH_F_OBJECT("tls", mf_metric_prometheus, tls, &metric_tls),
};
SCH_OBJECT_DEF(metric_prom, "MeshMetric prometheus backend");

enum { METRIC_OTEL_ENDPOINT, METRIC_OTEL_REF, METRIC_OTEL_REFRESH };

static const struct sch_field metric_otel_fields[] = {
	[METRIC_OTEL_ENDPOINT] = SCH_F_STRING("endpoint", mf_metric_otel,
					      endpoint,
					      .check = metric_check_endpoint),
	[METRIC_OTEL_REF] = SCH_F_OBJECT("backendRef", mf_metric_otel,
					 backend_ref, &kind_otel_backend_ref),
	[METRIC_OTEL_REFRESH] = SCH_F_DURATION("refreshInterval",
					       mf_metric_otel,
					       refresh_interval,
					       SCH_AT_LEAST(1)),
};
SCH_OBJECT_DEF(metric_otel, "MeshMetric openTelemetry backend",
	       .check = kind_check_otel_endpoint_or_ref);

/* Field i (1..2) is the object enum mf_metric_backend_type i names. */
enum { METRIC_BE_TYPE, METRIC_BE_PROM, METRIC_BE_OTEL };

static const char *metric_backend_check(const void *obj)
{
	const struct mf_metric_backend *b = obj;

	if (b->type == MF_METRIC_PROMETHEUS) {
		if (!sch_has(obj, METRIC_BE_PROM))
			return "type Prometheus needs prometheus";
		if (sch_has(obj, METRIC_BE_OTEL))
			return "openTelemetry is not allowed with type "
			       "Prometheus";
	} else if (b->type == MF_METRIC_OPENTELEMETRY) {
		if (!sch_has(obj, METRIC_BE_OTEL))
			return "type OpenTelemetry needs openTelemetry";
		if (sch_has(obj, METRIC_BE_PROM))
			return "prometheus is not allowed with type "
			       "OpenTelemetry";
	}
	/* type 0: missing, already reported as a required field. */
	return NULL;
}

static const struct sch_field metric_backend_fields[] = {
	[METRIC_BE_TYPE] = SCH_F_ENUM("type", mf_metric_backend, type,
				      metric_backend_types, SCH_REQUIRED),
	[METRIC_BE_PROM] = SCH_F_OBJECT("prometheus", mf_metric_backend,
					prometheus, &metric_prom),
	[METRIC_BE_OTEL] = SCH_F_OBJECT("openTelemetry", mf_metric_backend,
					open_telemetry, &metric_otel),
};
SCH_OBJECT_DEF(metric_backend, "MeshMetric backend",
	       .check = metric_backend_check);

static const struct sch_field metric_conf_fields[] = {
	SCH_F_OBJECT("sidecar", mf_metric_conf, sidecar, &metric_sidecar),
	SCH_F_LIST("applications", mf_metric_conf, applications, &metric_app),
	SCH_F_LIST("backends", mf_metric_conf, backends, &metric_backend),
};
SCH_OBJECT_DEF(metric_conf, "MeshMetric default");

/* KIND_FORM_DEFAULT: no to/from entries, so no sections or entry kinds. */
/* Kuma 3.0 sends OpenTelemetry through a backendRef only. */
static const char *const metric_gone_v3[] = {
	"backends[].openTelemetry.endpoint", NULL };

const struct kind_desc kind_mesh_metric = {
	.name = "MeshMetric", .plural = "meshmetrics",
	.form = KIND_FORM_DEFAULT, .gone_v3 = metric_gone_v3,
	.target_kinds = KIND_TARGETS_GATEWAY,
	KIND_RECORD(mf_metric, conf, &metric_conf),
};
