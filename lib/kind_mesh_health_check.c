// SPDX-License-Identifier: Apache-2.0
/* MeshHealthCheck: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshHealthCheck" };

const struct kind_desc kind_mesh_health_check = {
	.name = "MeshHealthCheck",
	.plural = "meshhealthchecks",
	.map = MF_MAP_HEALTHCHECKS,
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_healthcheck),
	.conf_off = offsetof(struct mf_healthcheck, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
