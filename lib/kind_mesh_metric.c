// SPDX-License-Identifier: Apache-2.0
/* MeshMetric: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshMetric" };

const struct kind_desc kind_mesh_metric = {
	.name = "MeshMetric",
	.plural = "meshmetrics",
	.map = MF_MAP_METRICS,
	.form = KIND_FORM_DEFAULT,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_metric),
	.conf_off = offsetof(struct mf_metric, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
