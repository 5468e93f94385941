// SPDX-License-Identifier: Apache-2.0
/*
 * MeshCircuitBreaker: connection limits and passive health checking
 * (outlier detection) of the endpoints of a destination (to) or of the
 * local inbound (from).
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshCircuitBreaker
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: Mesh}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         default:
 *           connectionLimits:
 *             maxConnections: 1024
 *             maxConnectionPools: 64
 *             maxPendingRequests: 128
 *             maxRequests: 1024
 *             maxRetries: 3
 *           outlierDetection:
 *             disabled: false
 *             interval: 5s
 *             baseEjectionTime: 30s
 *             maxEjectionPercent: 20
 *             splitExternalAndLocalErrors: true
 *             detectors:
 *               totalFailures: {consecutive: 10}
 *               gatewayFailures: {consecutive: 10}
 *               localOriginFailures: {consecutive: 10}
 *               successRate:
 *                 minimumHosts: 5
 *                 requestVolume: 10
 *                 standardDeviationFactor: "1.9"
 *               failurePercentage:
 *                 requestVolume: 10
 *                 minimumHosts: 5
 *                 threshold: 85
 *     from:
 *       - targetRef: {kind: Mesh}
 *         default:
 *           connectionLimits: {maxConnections: 2048}
 *
 * Ranges follow Kuma's validator: every limit, count and duration is
 * greater than zero (Envoy takes uint32 thresholds, so up to UINT32_MAX);
 * maxEjectionPercent and threshold are whole percents 0..100; the standard
 * deviation factor is a decimal above zero (Envoy divides it by 1000, as we
 * store it), up to 1000.
 */
#include <stddef.h>

#include "kinds.h"

#define CB_COUNT(yaml, st, field)                                       \
	{ .name = yaml, .type = SCH_INT, .off = offsetof(st, field),   \
	  .size = sizeof(__u32), .min = 1, .max = UINT32_MAX }
#define CB_DUR(yaml, st, field)                                         \
	{ .name = yaml, .type = SCH_DURATION, .off = offsetof(st, field), \
	  .min = 1, .max = UINT32_MAX }
#define CB_PCT(yaml, st, field)                                         \
	{ .name = yaml, .type = SCH_INT, .off = offsetof(st, field),   \
	  .size = sizeof(__u32), .min = 0, .max = 100 }

/* ---- connectionLimits --------------------------------------------------- */
static const struct sch_field cb_limits_fields[] = {
	CB_COUNT("maxConnections", struct mf_cb_limits, max_connections),
	CB_COUNT("maxConnectionPools", struct mf_cb_limits,
		 max_connection_pools),
	CB_COUNT("maxPendingRequests", struct mf_cb_limits,
		 max_pending_requests),
	CB_COUNT("maxRequests", struct mf_cb_limits, max_requests),
	CB_COUNT("maxRetries", struct mf_cb_limits, max_retries),
};

static const struct sch_object cb_limits = {
	.name = "MeshCircuitBreaker connectionLimits",
	.fields = cb_limits_fields,
	.nfields = SCH_NFIELDS(cb_limits_fields),
};

/* ---- detectors ---------------------------------------------------------- */
static const struct sch_field cb_consecutive_fields[] = {
	CB_COUNT("consecutive", struct mf_cb_consecutive, consecutive),
};

/* One table for totalFailures, gatewayFailures and localOriginFailures:
 * they are the same struct. */
static const struct sch_object cb_consecutive = {
	.name = "MeshCircuitBreaker detector",
	.fields = cb_consecutive_fields,
	.nfields = SCH_NFIELDS(cb_consecutive_fields),
};

static const struct sch_field cb_success_rate_fields[] = {
	CB_COUNT("minimumHosts", struct mf_cb_success_rate, minimum_hosts),
	CB_COUNT("requestVolume", struct mf_cb_success_rate, request_volume),
	{ .name = "standardDeviationFactor", .type = SCH_DECIMAL,
	  .off = offsetof(struct mf_cb_success_rate,
			  standard_deviation_factor),
	  .min = 1, .max = 1000000 },
};

static const struct sch_object cb_success_rate = {
	.name = "MeshCircuitBreaker successRate",
	.fields = cb_success_rate_fields,
	.nfields = SCH_NFIELDS(cb_success_rate_fields),
};

static const struct sch_field cb_failure_pct_fields[] = {
	CB_COUNT("requestVolume", struct mf_cb_failure_percentage,
		 request_volume),
	CB_COUNT("minimumHosts", struct mf_cb_failure_percentage,
		 minimum_hosts),
	CB_PCT("threshold", struct mf_cb_failure_percentage, threshold),
};

static const struct sch_object cb_failure_pct = {
	.name = "MeshCircuitBreaker failurePercentage",
	.fields = cb_failure_pct_fields,
	.nfields = SCH_NFIELDS(cb_failure_pct_fields),
};

static const struct sch_field cb_detectors_fields[] = {
	{ .name = "totalFailures", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_detectors, total_failures),
	  .sub = &cb_consecutive },
	{ .name = "gatewayFailures", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_detectors, gateway_failures),
	  .sub = &cb_consecutive },
	{ .name = "localOriginFailures", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_detectors, local_origin_failures),
	  .sub = &cb_consecutive },
	{ .name = "successRate", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_detectors, success_rate),
	  .sub = &cb_success_rate },
	{ .name = "failurePercentage", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_detectors, failure_percentage),
	  .sub = &cb_failure_pct },
};

/* Kuma: outlier detection without a single detector ejects nothing, so it
 * is refused rather than silently doing nothing. */
static const char *cb_detectors_check(const void *obj)
{
	return sch_present(obj) ? NULL :
	       "needs at least one of totalFailures, gatewayFailures, "
	       "localOriginFailures, successRate, failurePercentage";
}

static const struct sch_object cb_detectors = {
	.name = "MeshCircuitBreaker detectors",
	.fields = cb_detectors_fields,
	.nfields = SCH_NFIELDS(cb_detectors_fields),
	.check = cb_detectors_check,
};

/* ---- outlierDetection --------------------------------------------------- */
static const struct sch_field cb_outlier_fields[] = {
	{ .name = "disabled", .type = SCH_BOOL,
	  .off = offsetof(struct mf_cb_outlier, disabled) },
	CB_DUR("interval", struct mf_cb_outlier, interval),
	CB_DUR("baseEjectionTime", struct mf_cb_outlier, base_ejection_time),
	CB_PCT("maxEjectionPercent", struct mf_cb_outlier,
	       max_ejection_percent),
	{ .name = "splitExternalAndLocalErrors", .type = SCH_BOOL,
	  .off = offsetof(struct mf_cb_outlier,
			  split_external_and_local_errors) },
	/* Kuma requires the detectors whenever outlierDetection is
	 * written. */
	{ .name = "detectors", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_outlier, detectors),
	  .sub = &cb_detectors, .required = true },
};

static const struct sch_object cb_outlier = {
	.name = "MeshCircuitBreaker outlierDetection",
	.fields = cb_outlier_fields,
	.nfields = SCH_NFIELDS(cb_outlier_fields),
};

/* ---- default ------------------------------------------------------------ */
static const struct sch_field cb_conf_fields[] = {
	{ .name = "connectionLimits", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_conf, connection_limits),
	  .sub = &cb_limits },
	{ .name = "outlierDetection", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_cb_conf, outlier_detection),
	  .sub = &cb_outlier },
};

static const char *cb_conf_check(const void *obj)
{
	return sch_present(obj) ? NULL :
	       "needs connectionLimits or outlierDetection";
}

static const struct sch_object cb_conf = {
	.name = "MeshCircuitBreaker default",
	.fields = cb_conf_fields,
	.nfields = SCH_NFIELDS(cb_conf_fields),
	.check = cb_conf_check,
};

const struct kind_desc kind_mesh_circuit_breaker = {
	.name = "MeshCircuitBreaker",
	.plural = "meshcircuitbreakers",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.to_kinds = KIND_TO_SERVICE,
	/* Inbound limits apply to every caller alike. */
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_breaker),
	.conf_off = offsetof(struct mf_breaker, conf),
	.conf = &cb_conf,
};
