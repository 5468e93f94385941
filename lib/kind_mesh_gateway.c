// SPDX-License-Identifier: Apache-2.0
/* MeshGateway: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshGateway" };

const struct kind_desc kind_mesh_gateway = {
	.name = "MeshGateway",
	.plural = "meshgateways",
	.map = MF_MAP_GATEWAYS,
	.form = KIND_FORM_SELECTORS,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_gateway),
	.conf_off = offsetof(struct mf_gateway, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
