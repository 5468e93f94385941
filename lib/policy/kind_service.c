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

static const struct sch_field service_fields[] = {
	{ .name = "vip", .type = SCH_IPV4, .required = true,
	  .off = offsetof(struct core_service, vip), .note = true },
	{ .name = "port", .type = SCH_INT, .size = 2, .min = 1, .max = 65535,
	  .required = true, .off = offsetof(struct core_service, port) },
	{ .name = "protocol", .type = SCH_ENUM, .names = service_protocols,
	  .def = 1, .off = offsetof(struct core_service, protocol) },
};

static const struct sch_object service_spec = {
	.name = "Service spec",
	.fields = service_fields,
	.nfields = SCH_NFIELDS(service_fields),
};

const struct kind_desc kind_service = {
	.name = "Service",
	.plural = "services",
	.short_name = "svc",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_service),
	.conf = &service_spec,
	.unique = { 0, 1 },
	.nunique = 2,
};
