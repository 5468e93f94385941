// SPDX-License-Identifier: Apache-2.0
/* MeshFaultInjection: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "MeshFaultInjection" };

const struct kind_desc kind_mesh_fault_injection = {
	.name = "MeshFaultInjection",
	.plural = "meshfaultinjections",
	.map = MF_MAP_FAULTS,
	.form = KIND_FORM_TO_FROM,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_fault),
	.conf_off = offsetof(struct mf_fault, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
