// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTimeout: connection and HTTP timeouts, per destination (to) or per
 * inbound source (from).
 *
 *   spec:
 *     targetRef: {kind: Mesh}
 *     to:
 *       - targetRef: {kind: MeshService, name: web}
 *         default:
 *           connectionTimeout: 2s
 *           idleTimeout: 1h
 *           http: {requestTimeout: 15s, streamIdleTimeout: 30m}
 */
#include <stddef.h>

#include "kinds.h"

#define DUR(yaml, st, field)                                            \
	{ .name = yaml, .type = SCH_DURATION, .off = offsetof(st, field) }

static const struct sch_field timeout_http_fields[] = {
	DUR("requestTimeout", struct mf_timeout_http, request_timeout),
	DUR("streamIdleTimeout", struct mf_timeout_http, stream_idle_timeout),
	DUR("maxStreamDuration", struct mf_timeout_http, max_stream_duration),
	DUR("maxConnectionDuration", struct mf_timeout_http,
	    max_connection_duration),
	DUR("requestHeadersTimeout", struct mf_timeout_http,
	    request_headers_timeout),
};

static const struct sch_object timeout_http = {
	.name = "MeshTimeout http",
	.fields = timeout_http_fields,
	.nfields = SCH_NFIELDS(timeout_http_fields),
};

static const struct sch_field timeout_conf_fields[] = {
	DUR("connectionTimeout", struct mf_timeout_conf, connection_timeout),
	DUR("idleTimeout", struct mf_timeout_conf, idle_timeout),
	{ .name = "http", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_timeout_conf, http), .sub = &timeout_http },
};

static const struct sch_object timeout_conf = {
	.name = "MeshTimeout default",
	.fields = timeout_conf_fields,
	.nfields = SCH_NFIELDS(timeout_conf_fields),
};

const struct kind_desc kind_mesh_timeout = {
	.name = "MeshTimeout",
	.plural = "meshtimeouts",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_TARGETS_ROUTE,
	.to_kinds = KIND_TO_SERVICE,
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_timeout),
	.conf_off = offsetof(struct mf_timeout, conf),
	.conf = &timeout_conf,
};
