// SPDX-License-Identifier: Apache-2.0
/*
 * MeshRetry: how a proxy retries TCP connects and HTTP requests towards a
 * destination.  Kuma allows only `to` entries: retries are an outbound
 * concern.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshRetry
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: MeshService, name: web}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         default:
 *           tcp:
 *             maxConnectAttempt: 3
 *           http:
 *             numRetries: 5
 *             perTryTimeout: 2s
 *             backOff: {baseInterval: 25ms, maxInterval: 250ms}
 *             retryOn: [5XX, GatewayError, Reset, HttpMethodGet]
 *
 * Ranges: Kuma sets no upper bound on the counts; ours are generous but
 * stop values that are surely typos (a million retries of one request).
 * Envoy rejects a zero back-off base interval, so backOff intervals are at
 * least 1ms, and the base may not exceed the maximum.
 */
#include <stddef.h>

#include "kinds.h"

#define RETRY_NUM_MAX		1000	/* http.numRetries */
#define RETRY_CONNECT_MAX	1000	/* tcp.maxConnectAttempt */

/* http.retryOn names, index i = bit i of enum mf_retry_on. */
static const char *const retry_on_names[] = {
	"5XX",
	"GatewayError",
	"Reset",
	"Retriable4xx",
	"ConnectFailure",
	"EnvoyRatelimited",
	"RefusedStream",
	"Http3PostConnectFailure",
	"HttpMethodConnect",
	"HttpMethodDelete",
	"HttpMethodGet",
	"HttpMethodHead",
	"HttpMethodOptions",
	"HttpMethodPatch",
	"HttpMethodPost",
	"HttpMethodPut",
	"HttpMethodTrace",
	NULL,
};

/* ---- tcp ---------------------------------------------------------------- */
static const struct sch_field retry_tcp_fields[] = {
	/* Kuma: a tcp section must say how many attempts. */
	{ .name = "maxConnectAttempt", .type = SCH_INT,
	  .off = offsetof(struct mf_retry_tcp, max_connect_attempt),
	  .size = sizeof(__u32), .required = true,
	  .min = 1, .max = RETRY_CONNECT_MAX },
};

static const struct sch_object retry_tcp = {
	.name = "MeshRetry tcp",
	.fields = retry_tcp_fields,
	.nfields = SCH_NFIELDS(retry_tcp_fields),
};

/* ---- http.backOff ------------------------------------------------------- */
enum { BACKOFF_BASE, BACKOFF_MAX };

static const struct sch_field retry_backoff_fields[] = {
	[BACKOFF_BASE] = { .name = "baseInterval", .type = SCH_DURATION,
	  .off = offsetof(struct mf_retry_backoff, base_interval),
	  .min = 1, .max = UINT32_MAX },
	[BACKOFF_MAX] = { .name = "maxInterval", .type = SCH_DURATION,
	  .off = offsetof(struct mf_retry_backoff, max_interval),
	  .min = 1, .max = UINT32_MAX },
};

/* Kuma rejects an empty backOff; Envoy rejects max < base. */
static const char *retry_backoff_check(const void *obj)
{
	const struct mf_retry_backoff *b = obj;

	if (!sch_present(b))
		return "needs baseInterval or maxInterval";
	if (sch_has(b, BACKOFF_BASE) && sch_has(b, BACKOFF_MAX) &&
	    b->base_interval > b->max_interval)
		return "baseInterval must not be greater than maxInterval";
	return NULL;
}

static const struct sch_object retry_backoff = {
	.name = "MeshRetry backOff",
	.fields = retry_backoff_fields,
	.nfields = SCH_NFIELDS(retry_backoff_fields),
	.check = retry_backoff_check,
};

/* ---- http --------------------------------------------------------------- */
static const struct sch_field retry_http_fields[] = {
	{ .name = "numRetries", .type = SCH_INT,
	  .off = offsetof(struct mf_retry_http, num_retries),
	  .size = sizeof(__u32), .min = 0, .max = RETRY_NUM_MAX },
	{ .name = "perTryTimeout", .type = SCH_DURATION,
	  .off = offsetof(struct mf_retry_http, per_try_timeout) },
	{ .name = "backOff", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_retry_http, back_off),
	  .sub = &retry_backoff },
	{ .name = "retryOn", .type = SCH_FLAGS,
	  .off = offsetof(struct mf_retry_http, retry_on),
	  .names = retry_on_names },
};

/* Kuma rejects an http section that says nothing. */
static const char *retry_http_check(const void *obj)
{
	return sch_present(obj) ? NULL :
	       "needs at least one of numRetries, perTryTimeout, backOff, retryOn";
}

static const struct sch_object retry_http = {
	.name = "MeshRetry http",
	.fields = retry_http_fields,
	.nfields = SCH_NFIELDS(retry_http_fields),
	.check = retry_http_check,
};

/* ---- default ------------------------------------------------------------ */
static const struct sch_field retry_conf_fields[] = {
	{ .name = "tcp", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_retry_conf, tcp), .sub = &retry_tcp },
	{ .name = "http", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_retry_conf, http), .sub = &retry_http },
};

static const char *retry_conf_check(const void *obj)
{
	return sch_present(obj) ? NULL : "needs tcp or http";
}

static const struct sch_object retry_conf = {
	.name = "MeshRetry default",
	.fields = retry_conf_fields,
	.nfields = SCH_NFIELDS(retry_conf_fields),
	.check = retry_conf_check,
};

const struct kind_desc kind_mesh_retry = {
	.name = "MeshRetry",
	.plural = "meshretries",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO,
	/* Retries are route-level settings in Envoy, so Kuma also lets a
	 * MeshRetry target a gateway or a single MeshHTTPRoute. */
	.target_kinds = KIND_TARGETS_ROUTE,
	.to_kinds = KIND_TO_SERVICE,
	.val_size = sizeof(struct mf_retry),
	.conf_off = offsetof(struct mf_retry, conf),
	.conf = &retry_conf,
};
