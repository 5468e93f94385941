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

static const struct sch_field workload_spec_fields[] = {
	SCH_F_NAME("node", core_workload, node, SCH_REQUIRED, .refers = "Node"),
	SCH_F_IPV4("ip", core_workload, ip, SCH_REQUIRED, .note = true),
	SCH_F_PORT("port", core_workload, port, SCH_REQUIRED),
	SCH_F_NAME("service", core_workload, service, SCH_REQUIRED,
		   .refers = "Service"),
	SCH_F_STRING("identity", core_workload, identity, SCH_REQUIRED,
		     .check = kind_check_spiffe_id, .note = true),
	SCH_F_TAGS("tags", core_workload, tags),
};
SCH_OBJECT_DEF(workload_spec, "Workload spec");

const struct kind_desc kind_workload = {
	.name = "Workload", .plural = "workloads",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_workload), .conf = &workload_spec,
	.unique = { 1 }, .nunique = 1,
};
