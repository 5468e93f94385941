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
 *             healthyPanicThreshold: 50
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
 * maxEjectionPercent and threshold are whole percents 0..100,
 * healthyPanicThreshold a percentage 0..100 with decimals; the standard
 * deviation factor is any decimal above zero: Envoy takes it in thousandths
 * as a uint32, as we store it, so up to 4294967.295.
 */
#include <stddef.h>

#include "kinds.h"

/* Every limit, count and duration is above zero; percents are whole. */
#define CB_COUNT(yaml, st, m)	SCH_F_INT(yaml, st, m, 1, UINT32_MAX)
#define CB_DUR(yaml, st, m)	SCH_F_DURATION(yaml, st, m, SCH_AT_LEAST(1))
#define CB_PCT(yaml, st, m)	SCH_F_INT(yaml, st, m, 0, 100)

/* ---- connectionLimits --------------------------------------------------- */
static const struct sch_field cb_limits_fields[] = {
	CB_COUNT("maxConnections", mf_cb_limits, max_connections),
	CB_COUNT("maxConnectionPools", mf_cb_limits, max_connection_pools),
	CB_COUNT("maxPendingRequests", mf_cb_limits, max_pending_requests),
	CB_COUNT("maxRequests", mf_cb_limits, max_requests),
	CB_COUNT("maxRetries", mf_cb_limits, max_retries),
};
SCH_OBJECT_DEF(cb_limits, "MeshCircuitBreaker connectionLimits");

/* ---- detectors ---------------------------------------------------------- */
static const struct sch_field cb_consecutive_fields[] = {
	CB_COUNT("consecutive", mf_cb_consecutive, consecutive),
};
/* One table for totalFailures, gatewayFailures and localOriginFailures:
 * they are the same struct. */
SCH_OBJECT_DEF(cb_consecutive, "MeshCircuitBreaker detector");

static const struct sch_field cb_success_rate_fields[] = {
	CB_COUNT("minimumHosts", mf_cb_success_rate, minimum_hosts),
	CB_COUNT("requestVolume", mf_cb_success_rate, request_volume),
	SCH_F_DECIMAL("standardDeviationFactor", mf_cb_success_rate,
		      standard_deviation_factor, 1, UINT32_MAX),
};
SCH_OBJECT_DEF(cb_success_rate, "MeshCircuitBreaker successRate");

static const struct sch_field cb_failure_pct_fields[] = {
	CB_COUNT("requestVolume", mf_cb_failure_percentage, request_volume),
	CB_COUNT("minimumHosts", mf_cb_failure_percentage, minimum_hosts),
	CB_PCT("threshold", mf_cb_failure_percentage, threshold),
};
SCH_OBJECT_DEF(cb_failure_pct, "MeshCircuitBreaker failurePercentage");

static const struct sch_field cb_detectors_fields[] = {
	SCH_F_OBJECT("totalFailures", mf_cb_detectors, total_failures,
		     &cb_consecutive),
	SCH_F_OBJECT("gatewayFailures", mf_cb_detectors, gateway_failures,
		     &cb_consecutive),
	SCH_F_OBJECT("localOriginFailures", mf_cb_detectors,
		     local_origin_failures, &cb_consecutive),
	SCH_F_OBJECT("successRate", mf_cb_detectors, success_rate,
		     &cb_success_rate),
	SCH_F_OBJECT("failurePercentage", mf_cb_detectors, failure_percentage,
		     &cb_failure_pct),
};
/* Kuma: outlier detection without a single detector ejects nothing, so it
 * is refused rather than silently doing nothing. */
SCH_CHECK_NOT_EMPTY(cb_detectors_check,
		    "needs at least one of totalFailures, gatewayFailures, "
		    "localOriginFailures, successRate, failurePercentage")
SCH_OBJECT_DEF(cb_detectors, "MeshCircuitBreaker detectors",
	       .check = cb_detectors_check);

/* ---- outlierDetection --------------------------------------------------- */
static const struct sch_field cb_outlier_fields[] = {
	SCH_F_BOOL("disabled", mf_cb_outlier, disabled),
	CB_DUR("interval", mf_cb_outlier, interval),
	CB_DUR("baseEjectionTime", mf_cb_outlier, base_ejection_time),
	CB_PCT("maxEjectionPercent", mf_cb_outlier, max_ejection_percent),
	SCH_F_BOOL("splitExternalAndLocalErrors", mf_cb_outlier,
		   split_external_and_local_errors),
	/* Kuma requires the detectors whenever outlierDetection is
	 * written. */
	SCH_F_OBJECT("detectors", mf_cb_outlier, detectors, &cb_detectors,
		     SCH_REQUIRED),
	/* Below this share of healthy endpoints Envoy balances over all of
	 * them (panic mode); 0 turns panic mode off. */
	SCH_F_PERCENT("healthyPanicThreshold", mf_cb_outlier,
		      healthy_panic_threshold),
};
SCH_OBJECT_DEF(cb_outlier, "MeshCircuitBreaker outlierDetection");

/* ---- default ------------------------------------------------------------ */
static const struct sch_field cb_conf_fields[] = {
	SCH_F_OBJECT("connectionLimits", mf_cb_conf, connection_limits,
		     &cb_limits),
	SCH_F_OBJECT("outlierDetection", mf_cb_conf, outlier_detection,
		     &cb_outlier),
};
SCH_CHECK_NOT_EMPTY(cb_conf_check,
		    "needs connectionLimits or outlierDetection")
SCH_OBJECT_DEF(cb_conf, "MeshCircuitBreaker default", .check = cb_conf_check);

const struct kind_desc kind_mesh_circuit_breaker = {
	.name = "MeshCircuitBreaker", .plural = "meshcircuitbreakers",
	.form = KIND_FORM_TO_FROM,
	/* Kuma 3.0 lets its rules (no matches) stand next to `to`. */
	.sections = KIND_SEC_TO | KIND_SEC_FROM | KIND_SEC_RULES |
		    KIND_SEC_RULES_WITH_TO,
	.target_kinds = KIND_TARGETS_GATEWAY, .to_kinds = KIND_TO_OUTBOUND,
	/* Inbound limits apply to every caller alike. */
	.from_kinds = KIND_REF(MF_REF_MESH),
	KIND_RECORD(mf_breaker, conf, &cb_conf),
};
