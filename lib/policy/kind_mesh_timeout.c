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

enum { HTTP_REQUEST, HTTP_STREAM_IDLE, HTTP_MAX_STREAM, HTTP_MAX_CONN,
       HTTP_REQUEST_HEADERS };
enum { CONF_CONNECT, CONF_IDLE, CONF_HTTP };

/* Kuma: a request-headers timeout alone does not make an http section. */
static const char *timeout_http_check(const void *obj)
{
	return sch_present(obj) & ((1u << HTTP_REQUEST_HEADERS) - 1) ? NULL :
	       "needs at least one of requestTimeout, streamIdleTimeout, "
	       "maxStreamDuration, maxConnectionDuration";
}

SCH_CHECK_NOT_EMPTY(timeout_conf_check,
		    "needs at least one of connectionTimeout, idleTimeout, "
		    "http");

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
SCH_OBJECT_DEF(timeout_http, "MeshTimeout http",
	       .check = timeout_http_check);

static const struct sch_field timeout_conf_fields[] = {
	SCH_F_DURATION("connectionTimeout", mf_timeout_conf,
		       connection_timeout),
	SCH_F_DURATION("idleTimeout", mf_timeout_conf, idle_timeout),
	SCH_F_OBJECT("http", mf_timeout_conf, http, &timeout_http),
};
SCH_OBJECT_DEF(timeout_conf, "MeshTimeout default",
	       .check = timeout_conf_check);

/*
 * Kuma's rules across a record: a rule for some identities cannot set
 * what is fixed before the peer's identity is known (the connection's own
 * timeouts, the request headers' deadline), and a policy for one route
 * only what a route has (request and stream timeouts).
 */
static const char *timeout_rec_check(const struct mf_pol_hdr *h,
				     const void *conf, const char **field)
{
	static const struct {
		const char *name;
		unsigned conf_bit, http_bit;	/* one of them */
		bool spiffe, route;		/* ruled out by */
	} fixed[] = {
		{ "connectionTimeout", 1u << CONF_CONNECT, 0, true, true },
		{ "idleTimeout", 1u << CONF_IDLE, 0, true, true },
		{ "http.requestHeadersTimeout", 0, 1u << HTTP_REQUEST_HEADERS,
		  true, false },
		{ "http.maxStreamDuration", 0, 1u << HTTP_MAX_STREAM, true,
		  true },
		{ "http.maxConnectionDuration", 0, 1u << HTTP_MAX_CONN, true,
		  true },
	};
	const struct mf_timeout_conf *c = conf;
	bool spiffe = h->section == MF_SEC_RULE && h->match.spiffe_type;
	bool route = h->target.kind == MF_REF_MESH_HTTP_ROUTE;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		bool set = fixed[i].conf_bit ? sch_present(c) &
					       fixed[i].conf_bit :
			   sch_has(c, CONF_HTTP) &&
			   (sch_present(&c->http) & fixed[i].http_bit);

		if (!set)
			continue;
		*field = fixed[i].name;
		if (spiffe && fixed[i].spiffe)
			return "cannot be set in a rule that matches a "
			       "spiffeID: it is fixed before the peer's "
			       "identity is known";
		if (route && fixed[i].route)
			return "cannot be set for a MeshHTTPRoute target: a "
			       "route has request timeouts only";
	}
	return NULL;
}

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
	.rec_check = timeout_rec_check,
	KIND_RECORD(mf_timeout, conf, &timeout_conf),
};
