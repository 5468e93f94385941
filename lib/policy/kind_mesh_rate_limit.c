// SPDX-License-Identifier: Apache-2.0
/*
 * MeshRateLimit: local (per proxy) token-bucket limits on inbound HTTP
 * requests and TCP connections.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshRateLimit
 *   metadata: {name: backend-limit}
 *   spec:
 *     targetRef: {kind: MeshService, name: backend}
 *     from:
 *       - targetRef: {kind: Mesh}
 *         default:
 *           local:
 *             http:
 *               requestRate: {num: 100, interval: 10s}
 *               onRateLimit:
 *                 status: 429
 *                 headers:
 *                   set: [{name: x-kuma-rate-limited, value: "true"}]
 *                   add: [{name: x-limit, value: "100/10s"}]
 *             tcp:
 *               connectionRate: {num: 50, interval: 1s}
 *
 * As in Kuma: `local` is required and has http and/or tcp; http has at
 * least one of disabled, requestRate, onRateLimit; tcp at least one of
 * disabled, connectionRate; num >= 1 and interval >= 50ms (the proxy's
 * token bucket refills no faster).  Kuma takes `from` for sidecars and
 * `to` only when spec.targetRef selects a MeshGateway; both sections are
 * read here with a Mesh targetRef, and that cross rule belongs to
 * validation, which sees spec.targetRef.  onRateLimit.status is 100..599;
 * headers have set and add (no remove: the proxy can only add headers to
 * a local reply).
 */
#include <stddef.h>

#include "kinds.h"

static const struct sch_field mrl_header_fields[] = {
	{ .name = "name", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_header_value, name),
	  .size = MF_HDR_NAME_MAX, .check = kind_check_header_token },
	{ .name = "value", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_header_value, value),
	  .size = MF_HDR_VALUE_MAX, .check = kind_check_header_value },
};

static const struct sch_object mrl_header = {
	.name = "MeshRateLimit header",
	.fields = mrl_header_fields,
	.nfields = SCH_NFIELDS(mrl_header_fields),
};

/* Same bit order as the route filters' header modifiers (set, add). */
static const struct sch_field mrl_headers_fields[] = {
	KIND_HEADER_SET_ADD(&mrl_header),
};

static const struct sch_object mrl_headers = {
	.name = "MeshRateLimit onRateLimit headers",
	.fields = mrl_headers_fields,
	.nfields = SCH_NFIELDS(mrl_headers_fields),
};

static const struct sch_field mrl_on_limit_fields[] = {
	{ .name = "status", .type = SCH_INT,
	  .off = offsetof(struct mf_mrl_on_limit, status), .size = 4,
	  .min = 100, .max = 599 },
	{ .name = "headers", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_mrl_on_limit, headers),
	  .sub = &mrl_headers },
};

static const struct sch_object mrl_on_limit = {
	.name = "MeshRateLimit onRateLimit",
	.fields = mrl_on_limit_fields,
	.nfields = SCH_NFIELDS(mrl_on_limit_fields),
};

static const struct sch_field mrl_rate_fields[] = {
	{ .name = "num", .type = SCH_INT, .required = true,
	  .off = offsetof(struct mf_rate, num), .size = 4,
	  .min = 1, .max = UINT32_MAX },
	{ .name = "interval", .type = SCH_DURATION, .required = true,
	  .off = offsetof(struct mf_rate, interval),
	  .min = 50, .max = UINT32_MAX },
};

static const struct sch_object mrl_rate = {
	.name = "MeshRateLimit rate",
	.fields = mrl_rate_fields,
	.nfields = SCH_NFIELDS(mrl_rate_fields),
};

static const char *mrl_http_check(const void *obj)
{
	return sch_present(obj) ?
		       NULL :
		       "must have at least one of disabled, requestRate, "
		       "onRateLimit";
}

static const struct sch_field mrl_http_fields[] = {
	{ .name = "disabled", .type = SCH_BOOL,
	  .off = offsetof(struct mf_mrl_http, disabled) },
	{ .name = "requestRate", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_mrl_http, request_rate),
	  .sub = &mrl_rate },
	{ .name = "onRateLimit", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_mrl_http, on_rate_limit),
	  .sub = &mrl_on_limit },
};

static const struct sch_object mrl_http = {
	.name = "MeshRateLimit http",
	.fields = mrl_http_fields,
	.nfields = SCH_NFIELDS(mrl_http_fields),
	.check = mrl_http_check,
};

static const char *mrl_tcp_check(const void *obj)
{
	return sch_present(obj) ?
		       NULL :
		       "must have at least one of disabled, connectionRate";
}

static const struct sch_field mrl_tcp_fields[] = {
	{ .name = "disabled", .type = SCH_BOOL,
	  .off = offsetof(struct mf_mrl_tcp, disabled) },
	{ .name = "connectionRate", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_mrl_tcp, connection_rate),
	  .sub = &mrl_rate },
};

static const struct sch_object mrl_tcp = {
	.name = "MeshRateLimit tcp",
	.fields = mrl_tcp_fields,
	.nfields = SCH_NFIELDS(mrl_tcp_fields),
	.check = mrl_tcp_check,
};

static const char *mrl_local_check(const void *obj)
{
	return sch_present(obj) ? NULL : "must have at least one of http, tcp";
}

static const struct sch_field mrl_local_fields[] = {
	{ .name = "http", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_mrl_local, http), .sub = &mrl_http },
	{ .name = "tcp", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_mrl_local, tcp), .sub = &mrl_tcp },
};

static const struct sch_object mrl_local = {
	.name = "MeshRateLimit local",
	.fields = mrl_local_fields,
	.nfields = SCH_NFIELDS(mrl_local_fields),
	.check = mrl_local_check,
};

static const struct sch_field mrl_conf_fields[] = {
	{ .name = "local", .type = SCH_OBJECT, .required = true,
	  .off = offsetof(struct mf_mrl_conf, local), .sub = &mrl_local },
};

static const struct sch_object mrl_conf = {
	.name = "MeshRateLimit default",
	.fields = mrl_conf_fields,
	.nfields = SCH_NFIELDS(mrl_conf_fields),
};

const struct kind_desc kind_mesh_rate_limit = {
	.name = "MeshRateLimit",
	.plural = "meshratelimits",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_TARGETS_ROUTE,
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_ratelimit),
	.conf_off = offsetof(struct mf_ratelimit, conf),
	.conf = &mrl_conf,
};
