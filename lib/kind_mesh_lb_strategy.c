// SPDX-License-Identifier: Apache-2.0
/* MeshLoadBalancingStrategy: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshLoadBalancingStrategy" };

const struct kind_desc kind_mesh_lb_strategy = {
	.name = "MeshLoadBalancingStrategy",
	.plural = "meshloadbalancingstrategies",
	.map = MF_MAP_LBSTRATEGIES,
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_lbstrategy),
	.conf_off = offsetof(struct mf_lbstrategy, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
