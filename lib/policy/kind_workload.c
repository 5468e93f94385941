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
 * domain, and no two Workloads share an IP.  identity may be left out
 * when a MeshIdentity selects the Workload (by its metadata.labels): the
 * identity is then the one it renders (identity.h), and when both are
 * there they must agree.
 */
#include <stddef.h>

#include "core.h"
#include "kinds.h"

static const struct sch_field workload_spec_fields[] = {
	[CW_NODE] = SCH_F_NAME("node", core_workload, node, SCH_REQUIRED,
			       .refers = "Node"),
	[CW_IP] = SCH_F_IPV4("ip", core_workload, ip, SCH_REQUIRED,
			     .note = true),
	[CW_PORT] = SCH_F_PORT("port", core_workload, port, SCH_REQUIRED),
	/* Unless a MeshService selects the Workload (mesh_service.h). */
	[CW_SERVICE] = SCH_F_NAME("service", core_workload, service,
				  .refers = "Service"),
	/* Unless a MeshIdentity gives it (validate.c, identity.h). */
	[CW_IDENTITY] = SCH_F_STRING("identity", core_workload, identity,
				     .check = kind_check_spiffe_id,
				     .note = true),
	[CW_TAGS] = SCH_F_TAGS("tags", core_workload, tags),
};
SCH_OBJECT_DEF(workload_spec, "Workload spec");

const struct kind_desc kind_workload = {
	.name = "Workload", .plural = "workloads",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_workload), .conf = &workload_spec,
	.unique = { 1 }, .nunique = 1,
};
