// SPDX-License-Identifier: Apache-2.0
/*
 * Workload: one pod (Kuma: a Dataplane) of a Service, on a Node, with the
 * identity its certificate carries.
 *
 *   apiVersion: meshforge.io/v1alpha1
 *   kind: Workload
 *   metadata: {name: b1}
 *   spec:
 *     node: node-b
 *     ip: 10.78.2.11
 *     port: 8080
 *     service: web
 *     identity: spiffe://mesh.local/ns/default/sa/web
 *     tags: {version: v1}                            # optional
 *
 * The Node and the Service must exist, the identity be in the Mesh's trust
 * domain, and no two Workloads share an IP.
 */
#include <stddef.h>

#include "core.h"
#include "kinds.h"
#include "spiffe.h"

static const char *workload_check_identity(const char *s)
{
	return spiffe_parse(s, NULL) ?
		       "must be a SPIFFE ID (spiffe://<trust-domain>/<path>)" :
		       NULL;
}

static const struct sch_field workload_fields[] = {
	{ .name = "node", .type = SCH_NAME, .required = true,
	  .refers = "Node", .off = offsetof(struct core_workload, node) },
	{ .name = "ip", .type = SCH_IPV4, .required = true, .note = true,
	  .off = offsetof(struct core_workload, ip) },
	{ .name = "port", .type = SCH_INT, .size = 2, .min = 1, .max = 65535,
	  .required = true, .off = offsetof(struct core_workload, port) },
	{ .name = "service", .type = SCH_NAME, .required = true,
	  .refers = "Service",
	  .off = offsetof(struct core_workload, service) },
	{ .name = "identity", .type = SCH_STRING, .required = true,
	  .size = MF_SPIFFE_MAX, .check = workload_check_identity,
	  .note = true, .off = offsetof(struct core_workload, identity) },
	{ .name = "tags", .type = SCH_TAGS,
	  .off = offsetof(struct core_workload, tags) },
};

static const struct sch_object workload_spec = {
	.name = "Workload spec",
	.fields = workload_fields,
	.nfields = SCH_NFIELDS(workload_fields),
};

const struct kind_desc kind_workload = {
	.name = "Workload",
	.plural = "workloads",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_workload),
	.conf = &workload_spec,
	.unique = { 1 },
	.nunique = 1,
};
