// SPDX-License-Identifier: Apache-2.0
/*
 * Service: a virtual IP and port that pods reach their workloads at.
 *
 *   apiVersion: meshforge.io/v1alpha1
 *   kind: Service
 *   metadata: {name: web}
 *   spec: {vip: 10.96.0.10, port: 80, protocol: tcp}   # protocol optional
 *
 * No two Services share a VIP and port.
 */
#include <stddef.h>

#include "core.h"
#include "kinds.h"

static const char *const service_protocols[] = { "tcp", NULL };

static const struct sch_field service_spec_fields[] = {
	SCH_F_IPV4("vip", core_service, vip, SCH_REQUIRED, .note = true),
	SCH_F_PORT("port", core_service, port, SCH_REQUIRED),
	SCH_F_ENUM("protocol", core_service, protocol, service_protocols,
		   .def = 1),
};
SCH_OBJECT_DEF(service_spec, "Service spec");

const struct kind_desc kind_service = {
	.name = "Service", .plural = "services", .short_name = "svc",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_service), .conf = &service_spec,
	.unique = { 0, 1 }, .nunique = 2,
};
