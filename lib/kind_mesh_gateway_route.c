// SPDX-License-Identifier: Apache-2.0
/* MeshGatewayRoute: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshGatewayRoute" };

const struct kind_desc kind_mesh_gateway_route = {
	.name = "MeshGatewayRoute",
	.plural = "meshgatewayroutes",
	.map = MF_MAP_GATEWAY_ROUTES,
	.form = KIND_FORM_SELECTORS,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_gateway_route),
	.conf_off = offsetof(struct mf_gateway_route, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
