// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHealthCheck: active health checks a proxy sends to the endpoints of
 * a destination.  Only `to` entries: a proxy checks what it calls.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshHealthCheck
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: MeshService, name: web}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         default:
 *           interval: 10s
 *           timeout: 2s
 *           unhealthyThreshold: 3
 *           healthyThreshold: 1
 *           initialJitter: 5s
 *           intervalJitter: 6s
 *           intervalJitterPercent: 10
 *           healthyPanicThreshold: 60.5
 *           failTrafficOnPanic: true
 *           noTrafficInterval: 1m
 *           eventLogPath: /tmp/health-check.log
 *           alwaysLogHealthCheckFailures: true
 *           reuseConnection: false
 *           http:
 *             disabled: false
 *             path: /health
 *             expectedStatuses: [200, 201]
 *             requestHeadersToAdd:
 *               set: [{name: content-type, value: application/json}]
 *               add: [{name: accept, value: application/json}]
 *           tcp:
 *             disabled: true
 *             send: Zm9v
 *             receive: [YmFy, YmF6]
 *           grpc:
 *             serviceName: grpc.health.v1.Health
 *             authority: backend.mesh
 *
 * Ranges follow Kuma's validator: durations and thresholds above zero
 * (thresholds are Kuma's int32), intervalJitterPercent a whole percent,
 * healthyPanicThreshold a percent with up to 3 decimals (Kuma 3.0 moved
 * it to MeshCircuitBreaker; 2.x documents still carry it), expected
 * statuses HTTP codes 100..599, eventLogPath a file path, and at least one
 * of http, tcp and grpc.  tcp.send and receive are base64 payloads (Envoy
 * decodes them), so they are checked as base64 here rather than failing on
 * the proxy.  Header names are Kuma's HeaderName: lower-case token
 * characters.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

/* Standard base64 with '=' padding, whole quanta only. */
static const char *hc_base64_check(const char *s)
{
	size_t n = strlen(s), pad = 0;

	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad || !((ch >= 'A' && ch <= 'Z') ||
			     (ch >= 'a' && ch <= 'z') ||
			     (ch >= '0' && ch <= '9') || ch == '+' ||
			     ch == '/'))
			return "must be base64";
	}
	if (n % 4 || pad > 2)
		return "must be base64";
	return NULL;
}

/* ---- http --------------------------------------------------------------- */
static const struct sch_field hc_status_fields[] = {
	SCH_ITEM(SCH_INT, sizeof(__u16), SCH_RANGE(100, 599)),
};
SCH_OBJECT_DEF(hc_status, "MeshHealthCheck expected status", .scalar = true);

static const struct sch_field hc_header_fields[] = {
	SCH_F_STRING("name", mf_hc_header, name, SCH_REQUIRED,
		     .check = kind_check_header_name_lower),
	SCH_F_STRING("value", mf_hc_header, value, SCH_REQUIRED,
		     .check = kind_check_header_value),
};
SCH_OBJECT_DEF(hc_header, "MeshHealthCheck header");

static const struct sch_field hc_headers_fields[] = {
	SCH_F_LIST("set", mf_hc_headers, set, &hc_header),
	SCH_F_LIST("add", mf_hc_headers, add, &hc_header),
};
SCH_OBJECT_DEF(hc_headers, "MeshHealthCheck requestHeadersToAdd");

static const struct sch_field hc_http_fields[] = {
	SCH_F_BOOL("disabled", mf_hc_http, disabled),
	SCH_F_STRING("path", mf_hc_http, path, .check = kind_check_abs_path),
	SCH_F_LIST("expectedStatuses", mf_hc_http, expected_statuses,
		   &hc_status),
	SCH_F_OBJECT("requestHeadersToAdd", mf_hc_http,
		     request_headers_to_add, &hc_headers),
};
SCH_OBJECT_DEF(hc_http, "MeshHealthCheck http");

/* ---- tcp ---------------------------------------------------------------- */
static const struct sch_field hc_receive_fields[] = {
	SCH_ITEM(SCH_STRING, MF_NAME_MAX, .check = hc_base64_check),
};
SCH_OBJECT_DEF(hc_receive, "MeshHealthCheck receive", .scalar = true);

static const struct sch_field hc_tcp_fields[] = {
	SCH_F_BOOL("disabled", mf_hc_tcp, disabled),
	SCH_F_STRING("send", mf_hc_tcp, send, .check = hc_base64_check),
	SCH_F_LIST("receive", mf_hc_tcp, receive, &hc_receive),
};
SCH_OBJECT_DEF(hc_tcp, "MeshHealthCheck tcp");

/* ---- grpc --------------------------------------------------------------- */
/* Kuma: serviceName "" asks for the server's overall health and
 * authority "" is the cluster's name, their defaults. */
static const struct sch_field hc_grpc_fields[] = {
	SCH_F_BOOL("disabled", mf_hc_grpc, disabled),
	SCH_F_STRING("serviceName", mf_hc_grpc, service_name,
		     .check = kind_check_header_value, .empty_ok = true),
	SCH_F_STRING("authority", mf_hc_grpc, authority,
		     .check = kind_check_header_value, .empty_ok = true),
};
SCH_OBJECT_DEF(hc_grpc, "MeshHealthCheck grpc");

/* ---- default ------------------------------------------------------------ */
enum { HC_HTTP = 12, HC_TCP = 13, HC_GRPC = 14 };

static const struct sch_field hc_conf_fields[] = {
	SCH_F_DURATION("interval", mf_hc_conf, interval, SCH_AT_LEAST(1)),
	SCH_F_DURATION("timeout", mf_hc_conf, timeout, SCH_AT_LEAST(1)),
	SCH_F_INT("unhealthyThreshold", mf_hc_conf, unhealthy_threshold, 1,
		  INT32_MAX),
	SCH_F_INT("healthyThreshold", mf_hc_conf, healthy_threshold, 1,
		  INT32_MAX),
	SCH_F_DURATION("initialJitter", mf_hc_conf, initial_jitter,
		       SCH_AT_LEAST(1)),
	SCH_F_DURATION("intervalJitter", mf_hc_conf, interval_jitter,
		       SCH_AT_LEAST(1)),
	SCH_F_INT("intervalJitterPercent", mf_hc_conf, interval_jitter_percent,
		  0, 100),
	[MF_HC_F_HEALTHY_PANIC] = SCH_F_PERCENT("healthyPanicThreshold",
						mf_hc_conf,
						healthy_panic_threshold),
	SCH_F_BOOL("failTrafficOnPanic", mf_hc_conf, fail_traffic_on_panic),
	SCH_F_DURATION("noTrafficInterval", mf_hc_conf, no_traffic_interval,
		       SCH_AT_LEAST(1)),
	SCH_F_BOOL("alwaysLogHealthCheckFailures", mf_hc_conf,
		   always_log_health_check_failures),
	SCH_F_BOOL("reuseConnection", mf_hc_conf, reuse_connection),
	[HC_HTTP] = SCH_F_OBJECT("http", mf_hc_conf, http, &hc_http),
	[HC_TCP] = SCH_F_OBJECT("tcp", mf_hc_conf, tcp, &hc_tcp),
	[HC_GRPC] = SCH_F_OBJECT("grpc", mf_hc_conf, grpc, &hc_grpc),
	/* Kuma's IsFilePath; the proxy opens it on Linux. */
	SCH_F_STRING("eventLogPath", mf_hc_conf, event_log_path,
		     .check = kind_check_file_path),
};

/* Kuma: a health check must say how to probe. */
static const char *hc_conf_check(const void *obj)
{
	return sch_present(obj) & (1u << HC_HTTP | 1u << HC_TCP |
				   1u << HC_GRPC) ?
		       NULL : "needs http, tcp or grpc";
}
SCH_OBJECT_DEF(hc_conf, "MeshHealthCheck default", .check = hc_conf_check);

/* Kuma 3.0 moved it to MeshCircuitBreaker (failTrafficOnPanic). */
static const char *const hc_gone_v3[] = { "healthyPanicThreshold", NULL };

const struct kind_desc kind_mesh_health_check = {
	.name = "MeshHealthCheck", .plural = "meshhealthchecks",
	.form = KIND_FORM_TO_FROM, .sections = KIND_SEC_TO | KIND_SEC_EMPTY_OK,
	.target_kinds = KIND_TARGETS_GATEWAY, .to_kinds = KIND_TO_OUTBOUND,
	.gone_v3 = hc_gone_v3,
	KIND_RECORD(mf_healthcheck, conf, &hc_conf),
};
