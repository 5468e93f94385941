// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTCPRoute: which backends the connections to a destination go to, and
 * in which proportions.  One record per rule of every to[] entry; hdr.entry
 * and hdr.rule say which.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshTCPRoute
 *   metadata: {name: web-to-db}
 *   spec:
 *     targetRef: {kind: MeshSubset, tags: {app: web}}
 *     to:
 *       - targetRef: {kind: MeshService, name: db}
 *         rules:
 *           - default:
 *               backendRefs:
 *                 - {kind: MeshServiceSubset, name: db,
 *                    tags: {version: v1}, weight: 90}
 *                 - {kind: MeshServiceSubset, name: db,
 *                    tags: {version: v2}, weight: 10}
 *       - targetRef: {kind: MeshService, name: cache}
 *         rules:
 *           - default:
 *               backendRefs: [{kind: MeshService, name: cache-v2,
 *                              port: 6379}]
 *
 * A backendRef is the one MeshHTTPRoute has (weight defaults to 1).
 */
#include <stddef.h>

#include "kinds.h"

static const char *tcp_default_check(const void *obj)
{
	const struct mf_tcp_route_default *d = obj;

	if (sch_has(d, 0) &&
	    !kind_route_backends_weighted(d->backend_refs, d->nbackend_refs))
		return "backendRefs need at least one weight above 0";
	return NULL;
}

static const struct sch_field tcp_default_fields[] = {
	{ .name = "backendRefs", .type = SCH_LIST,
	  .off = offsetof(struct mf_tcp_route_default, backend_refs),
	  .sub = &kind_route_backend_ref,
	  .count_off = offsetof(struct mf_tcp_route_default, nbackend_refs),
	  .item_size = sizeof(struct mf_route_backend),
	  .max_items = MF_ROUTE_BACKENDS_MAX },
};

static const struct sch_object tcp_default = {
	.name = "MeshTCPRoute default",
	.fields = tcp_default_fields,
	.nfields = SCH_NFIELDS(tcp_default_fields),
	.check = tcp_default_check,
};

static const struct sch_field tcp_rule_fields[] = {
	{ .name = "default", .type = SCH_OBJECT, .required = true,
	  .off = offsetof(struct mf_tcp_route_rule, def),
	  .sub = &tcp_default },
};

static const struct sch_object tcp_rule = {
	.name = "MeshTCPRoute rule",
	.fields = tcp_rule_fields,
	.nfields = SCH_NFIELDS(tcp_rule_fields),
};

const struct kind_desc kind_mesh_tcp_route = {
	.name = "MeshTCPRoute",
	.plural = "meshtcproutes",
	.form = KIND_FORM_ROUTE,
	.sections = KIND_SEC_TO,
	.target_kinds = KIND_TARGETS_GATEWAY,
	/* Mesh: every destination of a targeted MeshGateway. */
	.to_kinds = KIND_TO_SERVICE,
	.val_size = sizeof(struct mf_tcp_route),
	.conf_off = offsetof(struct mf_tcp_route, rule),
	.conf = &tcp_rule,
};
