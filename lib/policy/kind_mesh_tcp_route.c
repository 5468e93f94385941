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
 * A backendRef is the one MeshHTTPRoute has (weight defaults to 1).  As in
 * Kuma, a to[] entry has at most one rule (a connection has nothing to
 * match on), and the rule lists at least one backendRef.  An entry may
 * have no rule (Kuma takes `rules: []`; its schema wants the field): its
 * one record has hdr.rule MF_ROUTE_NO_RULES.
 */
#include <stddef.h>

#include "kinds.h"

static const struct sch_field tcp_default_fields[] = {
	SCH_F_LIST("backendRefs", mf_tcp_route_default, backend_refs,
		   &kind_route_backend_ref, SCH_REQUIRED),
};

static const char *tcp_default_check(const void *obj)
{
	const struct mf_tcp_route_default *d = obj;

	return d->nbackend_refs ?
		       kind_check_route_backends(d->backend_refs,
						 d->nbackend_refs) :
		       NULL;
}

/* Kuma: a rule without backends has nowhere to send the connection. */
static const char *tcp_default_backends_check(const void *obj,
					      unsigned *field)
{
	const struct mf_tcp_route_default *d = obj;

	*field = 0;
	return d->nbackend_refs ? NULL : "must have at least one entry";
}
SCH_OBJECT_DEF(tcp_default, "MeshTCPRoute default",
	       .check = tcp_default_check,
	       .check_field = tcp_default_backends_check);

static const struct sch_field tcp_rule_fields[] = {
	SCH_F_OBJECT("default", mf_tcp_route_rule, def, &tcp_default,
		     SCH_REQUIRED),
};

/* pdoc.c reads a rule in place, in its record, whose header says which
 * rule of its entry it is. */
static const char *tcp_rule_check(const void *obj)
{
	const struct mf_tcp_route *rec = (const void *)(
		(const char *)obj - offsetof(struct mf_tcp_route, rule));

	return rec->hdr.rule ? "is one rule too many: a MeshTCPRoute to[] "
			       "entry has one rule" : NULL;
}
SCH_OBJECT_DEF(tcp_rule, "MeshTCPRoute rule", .check = tcp_rule_check);

const struct kind_desc kind_mesh_tcp_route = {
	.name = "MeshTCPRoute", .plural = "meshtcproutes",
	.form = KIND_FORM_ROUTE,
	.sections = KIND_SEC_TO | KIND_SEC_ENTRY_NO_RULES,
	.target_kinds = KIND_TARGETS_GATEWAY,
	/* A sidecar routes to one destination at a time; a MeshGateway
	 * routes everything (Mesh). */
	.to_kinds = KIND_DESTINATIONS,
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY),
	.to_kinds_gw = KIND_REF(MF_REF_MESH),
	KIND_RECORD(mf_tcp_route, rule, &tcp_rule),
};
