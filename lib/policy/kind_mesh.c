// SPDX-License-Identifier: Apache-2.0
/*
 * Mesh: the trust domain of every identity, and its mTLS backends.
 *
 *   apiVersion: meshforge.io/v1alpha1
 *   kind: Mesh
 *   metadata: {name: default}
 *   spec:
 *     trustDomain: mesh.local    # required; with apiVersion
 *                                # kuma.io/v1alpha1 it defaults to the
 *                                # mesh's name, and spec may be left out
 *     mtls:                                        # optional
 *       enabledBackend: ca-1
 *       backends:
 *         - name: ca-1
 *           type: builtin                          # the CA of `mfctl ca init`
 *           mode: STRICT                           # or PERMISSIVE (default STRICT)
 *           dpCert: {rotation: {expiration: 1d}}   # optional
 *         - name: ca-2
 *           type: provided
 *           conf: {cert: {file: /etc/ca.crt}, key: {file: /etc/ca.key}}
 *       exemptSources: [10.77.0.1/32]              # optional: plaintext
 *                                                  # from these reaches
 *                                                  # pods under STRICT
 *
 *     meshServices: {vipRange: 241.0.0.0/8}      # optional: where
 *                                                # MeshService VIPs come from
 *     meshExternalServices: {vipRange: 242.0.0.0/8}  # optional: where
 *                                                # MeshExternalService VIPs
 *                                                # come from
 *     routing:                                   # optional, Kuma's:
 *       defaultForbidMeshExternalServiceAccess: true   # only sources a
 *                                                # MeshTrafficPermission
 *                                                # allows reach them
 *     firewall:                                  # optional, meshforge's:
 *       denySources: [203.0.113.0/24]            # the XDP program on each
 *       perSource:                               # node's uplink
 *         packetRate: {num: 100000, interval: 1s}
 *         synRate: {num: 200, interval: 1s}
 *
 *     # and the rest of Kuma 2.x's Mesh: tracing, logging, metrics,
 *     # networking, constraints, skipCreatingInitialPolicies (their
 *     # YAML and rules in mesh_kuma.h), meshServices.mode,
 *     # routing.zoneEgress (needs mtls.enabledBackend) and
 *     # localityAwareLoadBalancing, mtls.skipValidation, a backend's
 *     # dpCert.requestTimeout and rootChain.requestTimeout
 *
 * Only one Mesh is supported.  Kuma's data sources other than files are
 * not: a provided backend reads its CA from files.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "abi_names.h"
#include "core.h"
#include "kinds.h"
#include "mesh_kuma.h"
#include "mesh_service.h"
#include "spiffe.h"

static const char *mesh_check_td(const char *s)
{
	return spiffe_check_trust_domain(s) ?
		       "must be a trust domain: a-z, 0-9, '.', '-' and '_' "
		       "only" : NULL;
}

static const struct sch_field file_source_fields[] = {
	SCH_F_STRING("file", core_file, file, SCH_REQUIRED,
		     .check = kind_check_file_path),
};
SCH_OBJECT_DEF(file_source, "data source");

static const struct sch_field backend_conf_fields[] = {
	SCH_F_OBJECT("cert", core_backend_conf, cert, &file_source,
		     SCH_REQUIRED),
	SCH_F_OBJECT("key", core_backend_conf, key, &file_source,
		     SCH_REQUIRED),
};
SCH_OBJECT_DEF(backend_conf, "provided backend conf");

static const struct sch_field rotation_fields[] = {
	SCH_F("expiration", SCH_LIFETIME, core_rotation, expiration),
};
SCH_OBJECT_DEF(rotation, "rotation");

static const struct sch_field dp_cert_fields[] = {
	SCH_F_OBJECT("rotation", core_dp_cert, rotation, &rotation),
	SCH_F_DURATION("requestTimeout", core_dp_cert, request_timeout),
};
SCH_OBJECT_DEF(dp_cert, "dpCert");

static const struct sch_field root_chain_fields[] = {
	SCH_F_DURATION("requestTimeout", core_root_chain, request_timeout),
};
SCH_OBJECT_DEF(root_chain, "rootChain");

enum { BACKEND_TYPE = 1, BACKEND_CONF = 4 };	/* field indexes */

/* A builtin backend's CA is the mesh CA; a provided one names files. */
static const char *backend_check(const void *obj, unsigned *field)
{
	const struct core_backend *b = obj;

	*field = BACKEND_CONF;
	if (b->type == MF_MTLS_BUILTIN && sch_has(b, BACKEND_CONF))
		return "builtin backends take no conf (the mesh CA is made by "
		       "`mfctl ca init`)";
	if (b->type == MF_MTLS_PROVIDED && !sch_has(b, BACKEND_CONF))
		return "is required for a provided backend";
	return NULL;
}

static const struct sch_field backend_fields[] = {
	SCH_F_NAME("name", core_backend, name, SCH_REQUIRED),
	[BACKEND_TYPE] = SCH_F_ENUM("type", core_backend, type,
				    abi_mtls_type_names + 1, SCH_REQUIRED),
	SCH_F_ENUM("mode", core_backend, mode, abi_mtls_mode_names + 1,
		   .def = MF_MTLS_STRICT),
	SCH_F_OBJECT("dpCert", core_backend, dp_cert, &dp_cert),
	[BACKEND_CONF] = SCH_F_OBJECT("conf", core_backend, conf,
				      &backend_conf),
	SCH_F_OBJECT("rootChain", core_backend, root_chain, &root_chain),
};
SCH_OBJECT_DEF(backend, "mTLS backend", .check_field = backend_check);

enum { MTLS_ENABLED = 0, MTLS_BACKENDS = 1 };	/* field indexes */

static const char *mesh_check_cidr(const char *s)
{
	uint8_t net[4], prefix;

	return kind_parse_cidr4(s, net, &prefix) ?
		       "must be an IPv4 network a.b.c.d/p (p 0..32, no host "
		       "bits)" : NULL;
}

static const struct sch_field exempt_fields[] = {
	SCH_ITEM(SCH_STRING, MF_CIDR_MAX, .check = mesh_check_cidr),
};
SCH_OBJECT_DEF(exempt, "CIDR", .scalar = true);

/* Backends are named once each, and enabledBackend names one of them. */
static const char *mtls_check(const void *obj, unsigned *field)
{
	static _Thread_local char why[MF_NAME_MAX + 32];
	const struct core_mtls *m = obj;
	bool found = false;

	for (unsigned i = 0; i < m->nbackends && i < MF_MTLS_BACKENDS_MAX;
	     i++) {
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(m->backends[i].name, m->backends[j].name)) {
				snprintf(why, sizeof(why),
					 "backend \"%s\" is defined twice",
					 m->backends[i].name);
				*field = MTLS_BACKENDS;
				return why;
			}
		found |= !strcmp(m->backends[i].name, m->enabled_backend);
	}
	*field = MTLS_ENABLED;
	return sch_has(m, MTLS_ENABLED) && !found ?
		       "names no backend of spec.mtls.backends" : NULL;
}

static const struct sch_field mtls_fields[] = {
	[MTLS_ENABLED] = SCH_F_NAME("enabledBackend", core_mtls,
				    enabled_backend),
	[MTLS_BACKENDS] = SCH_F_LIST("backends", core_mtls, backends,
				     &backend),
	SCH_F_LIST("exemptSources", core_mtls, exempt_sources, &exempt),
	SCH_F_BOOL("skipValidation", core_mtls, skip_validation),
};
SCH_OBJECT_DEF(mtls, "Mesh mtls", .check_field = mtls_check);

/* A range MeshService VIPs come from: an IPv4 network of /8 to /30. */
static const char *mesh_check_vip_range(const char *s)
{
	uint8_t net[4], prefix;

	return msvc_parse_range(s, net, &prefix) ?
		       "must be an IPv4 network a.b.c.d/p, p 8..30, without "
		       "host bits, outside 0/8, 127/8 and 224/4 (e.g. "
		       "241.0.0.0/8)" : NULL;
}

/* Kuma's meshServices.mode, 1 + index (mf_mesh_kuma.msvc_mode). */
static const char *const msvc_mode_names[] = {
	"Disabled", "Everywhere", "ReachableBackends", "Exclusive", NULL,
};

static const struct sch_field mesh_services_fields[] = {
	SCH_F_STRING("vipRange", core_mesh_services, vip_range,
		     .check = mesh_check_vip_range),
	SCH_F_ENUM("mode", core_mesh_services, mode, msvc_mode_names),
};
SCH_OBJECT_DEF(mesh_services, "Mesh meshServices");

static const struct sch_field mesh_ext_services_fields[] = {
	SCH_F_STRING("vipRange", core_mesh_services, vip_range,
		     .check = mesh_check_vip_range),
};
SCH_OBJECT_DEF(mesh_ext_services, "Mesh meshExternalServices");

static const struct sch_field mesh_mz_services_fields[] = {
	SCH_F_STRING("vipRange", core_mesh_services, vip_range,
		     .check = mesh_check_vip_range),
};
SCH_OBJECT_DEF(mesh_mz_services, "Mesh meshMultiZoneServices");

enum { MESH_ROUTING_ZONE_EGRESS = 2 };	/* field index */

static const struct sch_field routing_fields[] = {
	SCH_F_BOOL("defaultForbidMeshExternalServiceAccess",
		   core_mesh_routing, forbid_mes),
	SCH_F_BOOL("localityAwareLoadBalancing", core_mesh_routing,
		   locality_lb),
	[MESH_ROUTING_ZONE_EGRESS] = SCH_F_BOOL("zoneEgress",
						core_mesh_routing,
						zone_egress),
};
SCH_OBJECT_DEF(routing, "Mesh routing");

static const struct sch_field per_source_fields[] = {
	SCH_F_OBJECT("packetRate", core_per_source, packet_rate, &kind_rate),
	SCH_F_OBJECT("synRate", core_per_source, syn_rate, &kind_rate),
};
SCH_CHECK_NOT_EMPTY(per_source_check,
		    "needs at least one of packetRate and synRate");
SCH_OBJECT_DEF(per_source, "Mesh firewall perSource",
	       .check = per_source_check);

static const struct sch_field firewall_fields[] = {
	SCH_F_LIST("denySources", core_firewall, deny_sources, &exempt),
	SCH_F_OBJECT("perSource", core_firewall, per_source, &per_source),
};
SCH_OBJECT_DEF(firewall, "Mesh firewall");

enum { MESH_MTLS = 1, MESH_ROUTING = 5 };	/* field indexes */

/* Kuma: zoneEgress sends cross-zone and external traffic through the
 * zone's egress, which only mTLS identities may use. */
static const char *mesh_spec_check(const void *obj, unsigned *field)
{
	const struct core_mesh *m = obj;

	*field = MESH_MTLS;
	return m->routing.zone_egress && !m->mtls.enabled_backend[0] ?
		       "has to be set, with an enabledBackend, when "
		       "routing.zoneEgress is enabled" : NULL;
}

static const struct sch_field mesh_spec_fields[] = {
	/* Required of meshforge's Mesh; Kuma's defaults it (doc.c). */
	[CORE_MESH_TRUST_DOMAIN] = SCH_F_STRING("trustDomain", core_mesh,
						trust_domain,
						.check = mesh_check_td),
	[MESH_MTLS] = SCH_F_OBJECT("mtls", core_mesh, mtls, &mtls),
	SCH_F_OBJECT("meshServices", core_mesh, mesh_services,
		     &mesh_services),
	SCH_F_OBJECT("firewall", core_mesh, firewall, &firewall),
	SCH_F_OBJECT("meshExternalServices", core_mesh, mesh_ext_services,
		     &mesh_ext_services),
	[MESH_ROUTING] = SCH_F_OBJECT("routing", core_mesh, routing,
				      &routing),
	SCH_F_OBJECT("meshMultiZoneServices", core_mesh, mesh_mz_services,
		     &mesh_mz_services),
	SCH_F_OBJECT("tracing", core_mesh, tracing, &mesh_kuma_tracing),
	SCH_F_OBJECT("logging", core_mesh, logging, &mesh_kuma_logging),
	SCH_F_OBJECT("metrics", core_mesh, metrics, &mesh_kuma_metrics),
	SCH_F_OBJECT("networking", core_mesh, networking,
		     &mesh_kuma_networking),
	SCH_F_OBJECT("constraints", core_mesh, constraints,
		     &mesh_kuma_constraints),
	SCH_F_LIST("skipCreatingInitialPolicies", core_mesh, skip_initial,
		   &mesh_kuma_skip),
};
SCH_OBJECT_DEF(mesh_spec, "Mesh spec", .check_field = mesh_spec_check);

const struct kind_desc kind_mesh = {
	.name = "Mesh", .plural = "meshes",
	.kuma_inline = true,
	.form = KIND_FORM_SPEC, .name_rfc1035 = true,
	.val_size = sizeof(struct core_mesh), .conf = &mesh_spec,
};
