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
 *           alwaysLogHealthCheckFailures: true
 *           reuseConnection: false
 *           http:
 *             disabled: false
 *             path: /health
 *             expectedStatuses: [200, 201]
 *           tcp:
 *             disabled: true
 *             send: Zm9v
 *             receive: [YmFy, YmF6]
 *
 * Ranges follow Kuma's validator: durations and thresholds above zero,
 * intervalJitterPercent a whole percent, healthyPanicThreshold a percent
 * with up to 3 decimals, expected statuses HTTP codes 100..599.  tcp.send
 * and receive are base64 payloads (Envoy decodes them), so they are checked
 * as base64 here rather than failing on the proxy.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

#define HC_DUR(yaml, field)                                             \
	{ .name = yaml, .type = SCH_DURATION,                          \
	  .off = offsetof(struct mf_hc_conf, field),                   \
	  .min = 1, .max = UINT32_MAX }
#define HC_BOOL(yaml, st, field)                                        \
	{ .name = yaml, .type = SCH_BOOL, .off = offsetof(st, field) }

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
	{ .type = SCH_INT, .size = sizeof(__u16), .min = 100, .max = 599 },
};

static const struct sch_object hc_status = {
	.name = "MeshHealthCheck expected status",
	.fields = hc_status_fields,
	.nfields = SCH_NFIELDS(hc_status_fields),
	.scalar = true,
};

static const struct sch_field hc_http_fields[] = {
	HC_BOOL("disabled", struct mf_hc_http, disabled),
	{ .name = "path", .type = SCH_STRING,
	  .off = offsetof(struct mf_hc_http, path),
	  .size = sizeof(((struct mf_hc_http *)0)->path),
	  .check = kind_check_abs_path },
	{ .name = "expectedStatuses", .type = SCH_LIST,
	  .off = offsetof(struct mf_hc_http, expected_statuses),
	  .sub = &hc_status,
	  .count_off = offsetof(struct mf_hc_http, nexpected_statuses),
	  .item_size = sizeof(__u16), .max_items = MF_STATUSES_MAX },
};

static const struct sch_object hc_http = {
	.name = "MeshHealthCheck http",
	.fields = hc_http_fields,
	.nfields = SCH_NFIELDS(hc_http_fields),
};

/* ---- tcp ---------------------------------------------------------------- */
static const struct sch_field hc_receive_fields[] = {
	{ .type = SCH_STRING, .size = MF_NAME_MAX,
	  .check = hc_base64_check },
};

static const struct sch_object hc_receive = {
	.name = "MeshHealthCheck receive",
	.fields = hc_receive_fields,
	.nfields = SCH_NFIELDS(hc_receive_fields),
	.scalar = true,
};

static const struct sch_field hc_tcp_fields[] = {
	HC_BOOL("disabled", struct mf_hc_tcp, disabled),
	{ .name = "send", .type = SCH_STRING,
	  .off = offsetof(struct mf_hc_tcp, send),
	  .size = sizeof(((struct mf_hc_tcp *)0)->send),
	  .check = hc_base64_check },
	{ .name = "receive", .type = SCH_LIST,
	  .off = offsetof(struct mf_hc_tcp, receive),
	  .sub = &hc_receive,
	  .count_off = offsetof(struct mf_hc_tcp, nreceive),
	  .item_size = MF_NAME_MAX,
	  .max_items = sizeof(((struct mf_hc_tcp *)0)->receive) /
		       MF_NAME_MAX },
};

static const struct sch_object hc_tcp = {
	.name = "MeshHealthCheck tcp",
	.fields = hc_tcp_fields,
	.nfields = SCH_NFIELDS(hc_tcp_fields),
};

/* ---- default ------------------------------------------------------------ */
enum { HC_HTTP = 12, HC_TCP = 13 };

static const struct sch_field hc_conf_fields[] = {
	HC_DUR("interval", interval),
	HC_DUR("timeout", timeout),
	{ .name = "unhealthyThreshold", .type = SCH_INT,
	  .off = offsetof(struct mf_hc_conf, unhealthy_threshold),
	  .size = sizeof(__u32), .min = 1, .max = UINT32_MAX },
	{ .name = "healthyThreshold", .type = SCH_INT,
	  .off = offsetof(struct mf_hc_conf, healthy_threshold),
	  .size = sizeof(__u32), .min = 1, .max = UINT32_MAX },
	HC_DUR("initialJitter", initial_jitter),
	HC_DUR("intervalJitter", interval_jitter),
	{ .name = "intervalJitterPercent", .type = SCH_INT,
	  .off = offsetof(struct mf_hc_conf, interval_jitter_percent),
	  .size = sizeof(__u32), .min = 0, .max = 100 },
	{ .name = "healthyPanicThreshold", .type = SCH_PERCENT,
	  .off = offsetof(struct mf_hc_conf, healthy_panic_threshold) },
	HC_BOOL("failTrafficOnPanic", struct mf_hc_conf,
		fail_traffic_on_panic),
	HC_DUR("noTrafficInterval", no_traffic_interval),
	HC_BOOL("alwaysLogHealthCheckFailures", struct mf_hc_conf,
		always_log_health_check_failures),
	HC_BOOL("reuseConnection", struct mf_hc_conf, reuse_connection),
	[HC_HTTP] = { .name = "http", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_hc_conf, http), .sub = &hc_http },
	[HC_TCP] = { .name = "tcp", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_hc_conf, tcp), .sub = &hc_tcp },
};

/* Kuma: a health check must say how to probe. */
static const char *hc_conf_check(const void *obj)
{
	return sch_has(obj, HC_HTTP) || sch_has(obj, HC_TCP) ? NULL :
	       "needs http or tcp";
}

static const struct sch_object hc_conf = {
	.name = "MeshHealthCheck default",
	.fields = hc_conf_fields,
	.nfields = SCH_NFIELDS(hc_conf_fields),
	.check = hc_conf_check,
};

const struct kind_desc kind_mesh_health_check = {
	.name = "MeshHealthCheck",
	.plural = "meshhealthchecks",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO,
	.target_kinds = KIND_TARGETS_GATEWAY,
	.to_kinds = KIND_TO_SERVICE,
	.val_size = sizeof(struct mf_healthcheck),
	.conf_off = offsetof(struct mf_healthcheck, conf),
	.conf = &hc_conf,
};
