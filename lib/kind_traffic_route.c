// SPDX-License-Identifier: Apache-2.0
/* TrafficRoute: placeholder until its schema lands. */
#include <stddef.h>

#include "kinds.h"

static const struct sch_object stub_conf = { .name = "TrafficRoute" };

const struct kind_desc kind_traffic_route = {
	.name = "TrafficRoute",
	.plural = "trafficroutes",
	.map = MF_MAP_TRAFFIC_ROUTES,
	.form = KIND_FORM_SOURCES,
	.sections = KIND_SEC_TO | KIND_SEC_FROM,
	.target_kinds = KIND_REF(MF_REF_MESH),
	.to_kinds = KIND_REF(MF_REF_MESH),
	.from_kinds = KIND_REF(MF_REF_MESH),
	.val_size = sizeof(struct mf_traffic_route),
	.conf_off = offsetof(struct mf_traffic_route, conf),
	.conf = &stub_conf,
	.max_records = MF_MAX_POLICY_RECORDS,
};
