// SPDX-License-Identifier: Apache-2.0
/* MeshRetry: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshRetry" };

const struct kind_desc kind_mesh_retry = {
	.name = "MeshRetry",
	.plural = "meshretries",
	.map = MF_MAP_RETRIES,
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_retry),
	.conf_off = offsetof(struct mf_retry, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
