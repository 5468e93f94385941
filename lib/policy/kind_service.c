// SPDX-License-Identifier: Apache-2.0
/*
 * Service: a virtual IP and port that pods reach their workloads at.
 *
 *   apiVersion: meshforge.io/v1alpha1
 *   kind: Service
 *   metadata: {name: web}
 *   spec: {vip: 10.96.0.10, port: 80, protocol: http}   # protocol optional
 *
 * No two Services share a VIP and port.  protocol is tcp (the agent
 * relays bytes) or http (it speaks HTTP/1.1); left out, the Service's
 * endpoints decide it as Kuma does, by their kuma.io/protocol tag
 * (mesh_service.h, msvc_port_flags()).
 */
#include <stddef.h>

#include "core.h"
#include "kinds.h"

static const char *const service_protocols[] = {
	[CS_PROTOCOL_TCP - 1] = "tcp",
	[CS_PROTOCOL_HTTP - 1] = "http",
	NULL,
};

static const struct sch_field service_spec_fields[] = {
	[CS_VIP] = SCH_F_IPV4("vip", core_service, vip, SCH_REQUIRED,
			      .note = true),
	[CS_PORT] = SCH_F_PORT("port", core_service, port, SCH_REQUIRED),
	/* No default: absent is not tcp, the endpoints decide. */
	[CS_PROTOCOL] = SCH_F_ENUM("protocol", core_service, protocol,
				   service_protocols),
};
SCH_OBJECT_DEF(service_spec, "Service spec");

const struct kind_desc kind_service = {
	.name = "Service", .plural = "services", .short_name = "svc",
	.form = KIND_FORM_SPEC,
	.val_size = sizeof(struct core_service), .conf = &service_spec,
	.unique = { 0, 1 }, .nunique = 2,
};
