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
	SCH_F_INT("maxConnectAttempt", mf_retry_tcp, max_connect_attempt, 1,
		  RETRY_CONNECT_MAX, SCH_REQUIRED),
};
SCH_OBJECT_DEF(retry_tcp, "MeshRetry tcp");

/* ---- http.backOff ------------------------------------------------------- */
enum { BACKOFF_BASE, BACKOFF_MAX };

static const struct sch_field retry_backoff_fields[] = {
	[BACKOFF_BASE] = SCH_F_DURATION("baseInterval", mf_retry_backoff,
					base_interval, SCH_AT_LEAST(1)),
	[BACKOFF_MAX] = SCH_F_DURATION("maxInterval", mf_retry_backoff,
				       max_interval, SCH_AT_LEAST(1)),
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
SCH_OBJECT_DEF(retry_backoff, "MeshRetry backOff",
	       .check = retry_backoff_check);

/* ---- http --------------------------------------------------------------- */
static const struct sch_field retry_http_fields[] = {
	SCH_F_INT("numRetries", mf_retry_http, num_retries, 0, RETRY_NUM_MAX),
	SCH_F_DURATION("perTryTimeout", mf_retry_http, per_try_timeout),
	SCH_F_OBJECT("backOff", mf_retry_http, back_off, &retry_backoff),
	SCH_F_FLAGS("retryOn", mf_retry_http, retry_on, retry_on_names),
};
/* Kuma rejects an http section that says nothing. */
SCH_CHECK_NOT_EMPTY(retry_http_check, "needs at least one of numRetries, "
		    "perTryTimeout, backOff, retryOn")
SCH_OBJECT_DEF(retry_http, "MeshRetry http", .check = retry_http_check);

/* ---- default ------------------------------------------------------------ */
static const struct sch_field retry_conf_fields[] = {
	SCH_F_OBJECT("tcp", mf_retry_conf, tcp, &retry_tcp),
	SCH_F_OBJECT("http", mf_retry_conf, http, &retry_http),
};
SCH_CHECK_NOT_EMPTY(retry_conf_check, "needs tcp or http")
SCH_OBJECT_DEF(retry_conf, "MeshRetry default", .check = retry_conf_check);

const struct kind_desc kind_mesh_retry = {
	.name = "MeshRetry", .plural = "meshretries",
	.form = KIND_FORM_TO_FROM, .sections = KIND_SEC_TO | KIND_SEC_EMPTY_OK,
	/* Retries are route-level settings in Envoy, so Kuma also lets a
	 * MeshRetry target a gateway or a single MeshHTTPRoute. */
	.target_kinds = KIND_TARGETS_ROUTE, .to_kinds = KIND_TO_OUTBOUND_ROUTE,
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY) |
		   KIND_REF(MF_REF_MESH_HTTP_ROUTE),
	.to_kinds_gw = KIND_REF(MF_REF_MESH) |
		       KIND_REF(MF_REF_MESH_EXTERNAL_SERVICE),
	KIND_RECORD(mf_retry, conf, &retry_conf),
};
