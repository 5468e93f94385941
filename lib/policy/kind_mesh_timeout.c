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

static const struct sch_field timeout_http_fields[] = {
	SCH_F_DURATION("requestTimeout", mf_timeout_http, request_timeout),
	SCH_F_DURATION("streamIdleTimeout", mf_timeout_http,
		       stream_idle_timeout),
	SCH_F_DURATION("maxStreamDuration", mf_timeout_http,
		       max_stream_duration),
	SCH_F_DURATION("maxConnectionDuration", mf_timeout_http,
		       max_connection_duration),
	SCH_F_DURATION("requestHeadersTimeout", mf_timeout_http,
		       request_headers_timeout),
};
SCH_OBJECT_DEF(timeout_http, "MeshTimeout http");

static const struct sch_field timeout_conf_fields[] = {
	SCH_F_DURATION("connectionTimeout", mf_timeout_conf,
		       connection_timeout),
	SCH_F_DURATION("idleTimeout", mf_timeout_conf, idle_timeout),
	SCH_F_OBJECT("http", mf_timeout_conf, http, &timeout_http),
};
SCH_OBJECT_DEF(timeout_conf, "MeshTimeout default");

const struct kind_desc kind_mesh_timeout = {
	.name = "MeshTimeout", .plural = "meshtimeouts",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM | KIND_SEC_RULES |
		    KIND_SEC_RULE_MATCHES,
	.target_kinds = KIND_TARGETS_ROUTE, .to_kinds = KIND_TO_OUTBOUND_ROUTE,
	/* A gateway's or a route's outbound timeouts: the whole mesh, or an
	 * external service. */
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY) |
		   KIND_REF(MF_REF_MESH_HTTP_ROUTE),
	.to_kinds_gw = KIND_REF(MF_REF_MESH) |
		       KIND_REF(MF_REF_MESH_EXTERNAL_SERVICE),
	.from_kinds = KIND_REF(MF_REF_MESH),
	KIND_RECORD(mf_timeout, conf, &timeout_conf),
};
