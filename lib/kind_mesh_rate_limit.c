// SPDX-License-Identifier: Apache-2.0
/* MeshRateLimit: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshRateLimit" };

const struct kind_desc kind_mesh_rate_limit = {
	.name = "MeshRateLimit",
	.plural = "meshratelimits",
	.map = MF_MAP_RATELIMITS,
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_ratelimit),
	.conf_off = offsetof(struct mf_ratelimit, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
