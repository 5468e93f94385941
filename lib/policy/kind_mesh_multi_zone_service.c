// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMultiZoneService: one destination over the MeshServices of several
 * zones, those whose labels match, named by targetRefs and backendRefs of
 * kind MeshMultiZoneService.
 *
 *   spec:
 *     selector:
 *       meshService:
 *         matchLabels: {app: backend}   # required, at least one label
 *     ports:                            # required, at least one
 *       - {name: http, port: 8080, appProtocol: http}
 *
 * appProtocol is grpc, http, http2, kafka (Kuma 2.14 only) or tcp, the
 * default.  Kuma leaves a port's number unchecked; here it is a port,
 * 1..65535, as everywhere else.
 */
#include "kinds.h"

enum { MZS_SELECTOR, MZS_PORTS };

static const char *const mzs_protocols[] = { "grpc", "http", "http2",
					     "kafka", "tcp", NULL };

static const struct sch_field mzs_mesh_service_fields[] = {
	SCH_F_TAGS("matchLabels", mf_mzs_mesh_service, match_labels,
		   SCH_REQUIRED),
};
SCH_OBJECT_DEF(mzs_mesh_service, "MeshMultiZoneService meshService");

static const struct sch_field mzs_selector_fields[] = {
	SCH_F_OBJECT("meshService", mf_mzs_selector, mesh_service,
		     &mzs_mesh_service, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mzs_selector, "MeshMultiZoneService selector");

static const struct sch_field mzs_port_fields[] = {
	SCH_F_STRING("name", mf_mzs_port, name),
	SCH_F_PORT("port", mf_mzs_port, port, SCH_REQUIRED),
	SCH_F_ENUM("appProtocol", mf_mzs_port, app_protocol, mzs_protocols),
};
SCH_OBJECT_DEF(mzs_port, "MeshMultiZoneService port");

/* The ports are what callers reach: a service without one is nothing. */
static const char *mzs_check(const void *obj, unsigned *field)
{
	const struct mf_mesh_multi_zone_service *s = obj;

	*field = MZS_PORTS;
	return sch_has(s, MZS_PORTS) && !s->nports ?
	       "must have at least one port" : NULL;
}

static const struct sch_field mzs_fields[] = {
	[MZS_SELECTOR] = SCH_F_OBJECT("selector", mf_mesh_multi_zone_service,
				      selector, &mzs_selector, SCH_REQUIRED),
	[MZS_PORTS] = SCH_F_LIST("ports", mf_mesh_multi_zone_service, ports,
				 &mzs_port, SCH_REQUIRED),
};
SCH_OBJECT_DEF(mzs, "MeshMultiZoneService spec", .check_field = mzs_check);

const struct kind_desc kind_mesh_multi_zone_service = {
	.name = "MeshMultiZoneService",
	.plural = "meshmultizoneservices",
	.short_name = "mzsvc",
	.form = KIND_FORM_SPEC, .name_rfc1035 = true,
	.val_size = sizeof(struct mf_mesh_multi_zone_service), .conf = &mzs,
};
