// SPDX-License-Identifier: Apache-2.0
/* MeshHTTPRoute: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshHTTPRoute" };

const struct kind_desc kind_mesh_http_route = {
	.name = "MeshHTTPRoute",
	.plural = "meshhttproutes",
	.map = MF_MAP_HTTP_ROUTES,
	.form = KIND_FORM_ROUTE,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_http_route),
	.conf_off = offsetof(struct mf_http_route, rule),
	.conf = &stub_conf,
	.max_records = MF_MAX_ROUTE_RECORDS,
};
