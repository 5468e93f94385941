// SPDX-License-Identifier: Apache-2.0
/*
 * Node: a node of the mesh, whose agent the others reach on its address.
 *
 *   apiVersion: meshforge.io/v1alpha1
 *   kind: Node
 *   metadata: {name: node-b}
 *   spec: {address: 10.77.0.2, tunnelPort: 15008}   # tunnelPort optional
 *
 * Endpoint records name their node by address, so no two Nodes share one.
 */
#include <stddef.h>

#include "core.h"
#include "kinds.h"

static const struct sch_field node_spec_fields[] = {
	SCH_F_IPV4("address", core_node, address, SCH_REQUIRED, .note = true),
	SCH_F_PORT("tunnelPort", core_node, tunnel_port,
		   .def = MF_PORT_TUNNEL),
};
SCH_OBJECT_DEF(node_spec, "Node spec");

const struct kind_desc kind_node = {
	.name = "Node", .plural = "nodes",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_node), .conf = &node_spec,
	.unique = { 0 }, .nunique = 1,
};
