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
 * a local reply), up to 16 each, names and values up to 1024 bytes.
 */
#include <stddef.h>

#include "kinds.h"

/* Names and values are kept out of line, as MeshHTTPRoute's header
 * modifiers keep theirs (struct mf_header_value). */
static const struct sch_field mrl_header_fields[] = {
	SCH_F_STRREF("name", mf_header_value, name, SCH_REQUIRED,
		     .check = kind_check_header_token),
	SCH_F_STRREF("value", mf_header_value, value, SCH_REQUIRED,
		     .check = kind_check_header_value),
};
SCH_OBJECT_DEF(mrl_header, "MeshRateLimit header");

/* Same bit order as the route filters' header modifiers (set, add). */
static const struct sch_field mrl_headers_fields[] = {
	KIND_HEADER_SET_ADD(&mrl_header),
};
SCH_OBJECT_DEF(mrl_headers, "MeshRateLimit onRateLimit headers");

static const struct sch_field mrl_on_limit_fields[] = {
	SCH_F_INT("status", mf_mrl_on_limit, status, 100, 599),
	SCH_F_OBJECT("headers", mf_mrl_on_limit, headers, &mrl_headers),
};
SCH_OBJECT_DEF(mrl_on_limit, "MeshRateLimit onRateLimit");


static const struct sch_field mrl_http_fields[] = {
	SCH_F_BOOL("disabled", mf_mrl_http, disabled),
	SCH_F_OBJECT("requestRate", mf_mrl_http, request_rate, &kind_rate),
	SCH_F_OBJECT("onRateLimit", mf_mrl_http, on_rate_limit,
		     &mrl_on_limit),
};
SCH_CHECK_NOT_EMPTY(mrl_http_check, "must have at least one of disabled, "
		    "requestRate, onRateLimit")
SCH_OBJECT_DEF(mrl_http, "MeshRateLimit http", .check = mrl_http_check);

static const struct sch_field mrl_tcp_fields[] = {
	SCH_F_BOOL("disabled", mf_mrl_tcp, disabled),
	SCH_F_OBJECT("connectionRate", mf_mrl_tcp, connection_rate,
		     &kind_rate),
};
SCH_CHECK_NOT_EMPTY(mrl_tcp_check,
		    "must have at least one of disabled, connectionRate")
SCH_OBJECT_DEF(mrl_tcp, "MeshRateLimit tcp", .check = mrl_tcp_check);

static const struct sch_field mrl_local_fields[] = {
	SCH_F_OBJECT("http", mf_mrl_local, http, &mrl_http),
	SCH_F_OBJECT("tcp", mf_mrl_local, tcp, &mrl_tcp),
};
SCH_CHECK_NOT_EMPTY(mrl_local_check, "must have at least one of http, tcp")
SCH_OBJECT_DEF(mrl_local, "MeshRateLimit local", .check = mrl_local_check);

static const struct sch_field mrl_conf_fields[] = {
	SCH_F_OBJECT("local", mf_mrl_conf, local, &mrl_local, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mrl_conf, "MeshRateLimit default");

/* A connection is limited before its peer's identity is known: a rule
 * for some identities has no tcp limit (Kuma). */
static const char *mrl_rec_check(const struct mf_pol_hdr *h, const void *conf,
				 const char **field)
{
	const struct mf_mrl_conf *c = conf;

	*field = "local.tcp";
	return h->section == MF_SEC_RULE && h->match.spiffe_type &&
	       sch_has(&c->local, 1) ?
	       "cannot be set in a rule that matches a spiffeID: a connection "
	       "is limited before the peer's identity is known" : NULL;
}

const struct kind_desc kind_mesh_rate_limit = {
	.name = "MeshRateLimit", .plural = "meshratelimits",
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM | KIND_SEC_RULES |
		    KIND_SEC_RULE_MATCHES | KIND_SEC_EMPTY_OK |
		    KIND_SEC_GATEWAY_SCOPED | KIND_SEC_RULES_NO_GATEWAY,
	/* Kuma 3.0 wants `to` or `rules` (2.14 took a policy of neither). */
	.sections_v3 = KIND_SEC_TO | KIND_SEC_RULES | KIND_SEC_RULE_MATCHES |
		       KIND_SEC_GATEWAY_SCOPED | KIND_SEC_RULES_NO_GATEWAY,
	.rec_check = mrl_rec_check,
	.target_kinds = KIND_TARGETS_ROUTE, .to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	KIND_RECORD(mf_ratelimit, conf, &mrl_conf),
};

_Static_assert(sizeof(struct mf_ratelimit) <= 4096,
	       "a MeshRateLimit record must fit in 4 KiB");
