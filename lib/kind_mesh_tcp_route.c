// SPDX-License-Identifier: Apache-2.0
/* MeshTCPRoute: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshTCPRoute" };

const struct kind_desc kind_mesh_tcp_route = {
	.name = "MeshTCPRoute",
	.plural = "meshtcproutes",
	.map = MF_MAP_TCP_ROUTES,
	.form = KIND_FORM_ROUTE,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_tcp_route),
	.conf_off = offsetof(struct mf_tcp_route, rule),
	.conf = &stub_conf,
	.max_records = MF_MAX_ROUTE_RECORDS,
};
