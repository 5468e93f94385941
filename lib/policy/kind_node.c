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

static const struct sch_field node_fields[] = {
	{ .name = "address", .type = SCH_IPV4, .required = true,
	  .off = offsetof(struct core_node, address), .note = true },
	{ .name = "tunnelPort", .type = SCH_INT, .size = 2, .min = 1,
	  .max = 65535, .def = MF_PORT_TUNNEL,
	  .off = offsetof(struct core_node, tunnel_port) },
};

static const struct sch_object node_spec = {
	.name = "Node spec",
	.fields = node_fields,
	.nfields = SCH_NFIELDS(node_fields),
};

const struct kind_desc kind_node = {
	.name = "Node",
	.plural = "nodes",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_node),
	.conf = &node_spec,
	.unique = { 0 },
	.nunique = 1,
};
