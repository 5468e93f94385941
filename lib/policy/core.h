/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The records of the core kinds (Mesh, Node, Service, Workload,
 * MeshTrafficPermission) as the model holds them: described field by
 * field by the schemas of lib/policy/kind_<name>.c like every other kind,
 * so one engine parses, prints and compares them.  They are not map
 * records: compile.c turns them into the core maps (mf_config, mf_nodes,
 * mf_services, mf_endpoints, mf_identities, mf_authz), giving services
 * and identities their ids and expanding permissions into rules, and
 * decompile.c turns the maps back into them.
 *
 * Every struct that stands for a YAML mapping starts with `__u32 present`
 * (lib/policy/schema.h).
 */
#ifndef MF_POLICY_CORE_H
#define MF_POLICY_CORE_H

#include "meshforge/abi.h"
#include "meshforge/abi_policy.h"

/* ---- Mesh --------------------------------------------------------------- */

struct core_file {			/* {file: PATH} */
	__u32 present;
	char file[MF_PATH_MAX];
};

struct core_backend_conf {		/* provided: {cert, key} */
	__u32 present;
	struct core_file cert;
	struct core_file key;
};

struct core_rotation {
	__u32 present;
	__u32 expiration;		/* seconds */
};

struct core_dp_cert {
	__u32 present;
	struct core_rotation rotation;
	__u32 request_timeout;		/* ms, kept only */
};

struct core_root_chain {		/* Kuma's, kept only */
	__u32 present;
	__u32 request_timeout;		/* ms */
};

struct core_backend {			/* spec.mtls.backends[] */
	__u32 present;
	char name[MF_NAME_MAX];
	__u8 type;			/* enum mf_mtls_backend_type */
	__u8 mode;			/* enum mf_mtls_mode */
	struct core_dp_cert dp_cert;
	struct core_backend_conf conf;
	struct core_root_chain root_chain;
};

struct core_mtls {
	__u32 present;
	char enabled_backend[MF_NAME_MAX];
	__u8 nbackends;
	struct core_backend backends[MF_MTLS_BACKENDS_MAX];
	__u8 nexempt_sources;
	char exempt_sources[MF_EXEMPT_MAX][MF_CIDR_MAX];
	__u8 skip_validation;		/* Kuma's, kept only */
};

struct core_mesh_services {
	__u32 present;
	char vip_range[MF_CIDR_MAX];
	__u8 mode;			/* meshServices.mode, kept only */
};

/* The index of spec.trustDomain in the Mesh's fields (kind_mesh.c). */
#define CORE_MESH_TRUST_DOMAIN 0

struct core_per_source {
	__u32 present;
	struct mf_rate packet_rate;
	struct mf_rate syn_rate;
};

struct core_firewall {
	__u32 present;
	__u8 ndeny_sources;
	char deny_sources[MF_FW_DENY_MAX][MF_CIDR_MAX];
	struct core_per_source per_source;
};

/* spec.routing: Kuma's, of which meshforge takes the one field that
 * decides who may reach a MeshExternalService. */
struct core_mesh_routing {
	__u32 present;
	__u8 forbid_mes;	/* defaultForbidMeshExternalServiceAccess */
	__u8 locality_lb;	/* localityAwareLoadBalancing, kept only */
	__u8 zone_egress;	/* zoneEgress, kept only */
	__u8 _pad;
};

struct core_mesh {
	__u32 present;
	char trust_domain[MF_NAME_MAX];
	struct core_mtls mtls;
	struct core_mesh_services mesh_services;
	struct core_firewall firewall;
	/* spec.meshExternalServices: where their VIPs come from */
	struct core_mesh_services mesh_ext_services;
	struct core_mesh_routing routing;
	/* spec.meshMultiZoneServices: where their VIPs come from */
	struct core_mesh_services mesh_mz_services;
	/* Kuma's fields beyond mTLS, as mf_config keeps them. */
	struct mf_mesh_tracing tracing;
	struct mf_mesh_logging logging;
	struct mf_mesh_metrics metrics;
	struct mf_mesh_networking networking;
	struct mf_mesh_constraints constraints;
	__u8 nskip_initial;
	char skip_initial[MF_MESH_SKIP_MAX][MF_NAME_MAX];
};

/* ---- Node, Service, Workload -------------------------------------------- */

struct core_node {
	__u32 present;
	__u8 address[4];		/* network order */
	__u16 tunnel_port;
};

/* The fields of a Service's spec, in its schema's order. */
enum core_service_field {
	CS_VIP, CS_PORT, CS_PROTOCOL,
};

/* spec.protocol, 1 + its index in the schema's names (kind_service.c). */
enum core_service_protocol {
	CS_PROTOCOL_TCP = 1,
	CS_PROTOCOL_HTTP,
};

struct core_service {
	__u32 present;
	__u8 vip[4];			/* network order */
	__u16 port;
	/* enum core_service_protocol; absent (not present): its endpoints
	 * decide (mesh_service.h, msvc_port_flags()) */
	__u8 protocol;
};

/* The fields of a Workload's spec, in its schema's order: bit i of
 * present is field i. */
enum core_workload_field {
	CW_NODE, CW_IP, CW_PORT, CW_SERVICE, CW_IDENTITY, CW_TAGS,
};

struct core_workload {
	__u32 present;
	char node[MF_NAME_MAX];
	__u8 ip[4];			/* network order */
	__u16 port;
	char service[MF_NAME_MAX];
	char identity[MF_SPIFFE_MAX];
	__u32 tags;			/* tag set id, 0: none */
};

#endif /* MF_POLICY_CORE_H */
