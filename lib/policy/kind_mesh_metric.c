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
 *       applications:
 *         - {name: app, path: /metrics, port: 8888, address: 127.0.0.1}
 *       backends:
 *         - type: Prometheus
 *           prometheus: {clientId: main, port: 5670, path: /metrics}
 *         - type: OpenTelemetry
 *           openTelemetry:
 *             endpoint: otel-collector.observability:4317
 *             refreshInterval: 60s
 *
 * A backend's `type` is required and the object it names must be given, as
 * in Kuma; the other object must not be (Kuma ignores it; here it would be
 * stored and printed for nothing, so it is refused).  Profiles' include /
 * exclude selectors are not in the record and are not read.
 */
#include <stddef.h>

#include "kinds.h"

/* Scrape paths are HTTP paths. */
static const char *metric_check_path(const char *s)
{
	const char *err = kind_check_abs_path(s);

	return err ? err : kind_check_no_space(s);
}

static const char *const metric_profile_names[] = { "All", "Basic", "None",
						    NULL };
static const char *const metric_backend_types[] = { "Prometheus",
						    "OpenTelemetry", NULL };

static const struct sch_field metric_profile_fields[] = {
	{ .name = "name", .type = SCH_ENUM, .required = true,
	  .off = offsetof(struct mf_metric_profile, name),
	  .names = metric_profile_names },
};

static const struct sch_object metric_profile = {
	.name = "MeshMetric profile",
	.fields = metric_profile_fields,
	.nfields = SCH_NFIELDS(metric_profile_fields),
};

static const struct sch_field metric_profiles_fields[] = {
	{ .name = "appendProfiles", .type = SCH_LIST,
	  .off = offsetof(struct mf_metric_profiles, append_profiles),
	  .count_off = offsetof(struct mf_metric_profiles, nappend_profiles),
	  .item_size = sizeof(struct mf_metric_profile),
	  .max_items = 3, .sub = &metric_profile },
};

static const struct sch_object metric_profiles = {
	.name = "MeshMetric profiles",
	.fields = metric_profiles_fields,
	.nfields = SCH_NFIELDS(metric_profiles_fields),
};

static const struct sch_field metric_sidecar_fields[] = {
	{ .name = "includeUnused", .type = SCH_BOOL,
	  .off = offsetof(struct mf_metric_sidecar, include_unused) },
	{ .name = "profiles", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_metric_sidecar, profiles),
	  .sub = &metric_profiles },
};

static const struct sch_object metric_sidecar = {
	.name = "MeshMetric sidecar",
	.fields = metric_sidecar_fields,
	.nfields = SCH_NFIELDS(metric_sidecar_fields),
};

static const struct sch_field metric_app_fields[] = {
	{ .name = "name", .type = SCH_STRING,
	  .off = offsetof(struct mf_metric_app, name), .size = MF_NAME_MAX },
	{ .name = "path", .type = SCH_STRING,
	  .off = offsetof(struct mf_metric_app, path), .size = MF_PATH_MAX,
	  .check = metric_check_path },
	{ .name = "port", .type = SCH_INT, .required = true,
	  .off = offsetof(struct mf_metric_app, port), .size = 2,
	  .min = 1, .max = 65535 },
	{ .name = "address", .type = SCH_STRING,
	  .off = offsetof(struct mf_metric_app, address),
	  .size = MF_NAME_MAX, .check = kind_check_no_space },
};

static const struct sch_object metric_app = {
	.name = "MeshMetric application",
	.fields = metric_app_fields,
	.nfields = SCH_NFIELDS(metric_app_fields),
};

static const struct sch_field metric_prom_fields[] = {
	{ .name = "clientId", .type = SCH_STRING,
	  .off = offsetof(struct mf_metric_prometheus, client_id),
	  .size = MF_NAME_MAX },
	{ .name = "port", .type = SCH_INT,
	  .off = offsetof(struct mf_metric_prometheus, port), .size = 2,
	  .min = 1, .max = 65535 },
	{ .name = "path", .type = SCH_STRING,
	  .off = offsetof(struct mf_metric_prometheus, path),
	  .size = MF_PATH_MAX, .check = metric_check_path },
};

static const struct sch_object metric_prom = {
	.name = "MeshMetric prometheus backend",
	.fields = metric_prom_fields,
	.nfields = SCH_NFIELDS(metric_prom_fields),
};

static const struct sch_field metric_otel_fields[] = {
	{ .name = "endpoint", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_metric_otel, endpoint),
	  .size = MF_PATH_MAX, .check = kind_check_no_space },
	{ .name = "refreshInterval", .type = SCH_DURATION,
	  .off = offsetof(struct mf_metric_otel, refresh_interval),
	  .min = 1, .max = UINT32_MAX },
};

static const struct sch_object metric_otel = {
	.name = "MeshMetric openTelemetry backend",
	.fields = metric_otel_fields,
	.nfields = SCH_NFIELDS(metric_otel_fields),
};

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
	[METRIC_BE_TYPE] = { .name = "type", .type = SCH_ENUM,
			     .required = true,
			     .off = offsetof(struct mf_metric_backend, type),
			     .names = metric_backend_types },
	[METRIC_BE_PROM] = { .name = "prometheus", .type = SCH_OBJECT,
			     .off = offsetof(struct mf_metric_backend,
					     prometheus),
			     .sub = &metric_prom },
	[METRIC_BE_OTEL] = { .name = "openTelemetry", .type = SCH_OBJECT,
			     .off = offsetof(struct mf_metric_backend,
					     open_telemetry),
			     .sub = &metric_otel },
};

static const struct sch_object metric_backend = {
	.name = "MeshMetric backend",
	.fields = metric_backend_fields,
	.nfields = SCH_NFIELDS(metric_backend_fields),
	.check = metric_backend_check,
};

static const struct sch_field metric_conf_fields[] = {
	{ .name = "sidecar", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_metric_conf, sidecar),
	  .sub = &metric_sidecar },
	{ .name = "applications", .type = SCH_LIST,
	  .off = offsetof(struct mf_metric_conf, applications),
	  .count_off = offsetof(struct mf_metric_conf, napplications),
	  .item_size = sizeof(struct mf_metric_app),
	  .max_items = MF_METRIC_APPS_MAX, .sub = &metric_app },
	{ .name = "backends", .type = SCH_LIST,
	  .off = offsetof(struct mf_metric_conf, backends),
	  .count_off = offsetof(struct mf_metric_conf, nbackends),
	  .item_size = sizeof(struct mf_metric_backend),
	  .max_items = MF_METRIC_BACKENDS_MAX, .sub = &metric_backend },
};

static const struct sch_object metric_conf = {
	.name = "MeshMetric default",
	.fields = metric_conf_fields,
	.nfields = SCH_NFIELDS(metric_conf_fields),
};

/* KIND_FORM_DEFAULT: no to/from entries, so no sections or entry kinds. */
const struct kind_desc kind_mesh_metric = {
	.name = "MeshMetric",
	.plural = "meshmetrics",
	.form = KIND_FORM_DEFAULT,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.val_size = sizeof(struct mf_metric),
	.conf_off = offsetof(struct mf_metric, conf),
	.conf = &metric_conf,
};
