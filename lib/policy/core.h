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
};

struct core_backend {			/* spec.mtls.backends[] */
	__u32 present;
	char name[MF_NAME_MAX];
	__u8 type;			/* enum mf_mtls_backend_type */
	__u8 mode;			/* enum mf_mtls_mode */
	struct core_dp_cert dp_cert;
	struct core_backend_conf conf;
};

struct core_mtls {
	__u32 present;
	char enabled_backend[MF_NAME_MAX];
	__u8 nbackends;
	struct core_backend backends[MF_MTLS_BACKENDS_MAX];
};

struct core_mesh {
	__u32 present;
	char trust_domain[MF_NAME_MAX];
	struct core_mtls mtls;
};

/* ---- Node, Service, Workload -------------------------------------------- */

struct core_node {
	__u32 present;
	__u8 address[4];		/* network order */
	__u16 tunnel_port;
};

struct core_service {
	__u32 present;
	__u8 vip[4];			/* network order */
	__u16 port;
	__u8 protocol;			/* enum mf_proto names, 1: tcp */
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

/* ---- MeshTrafficPermission ---------------------------------------------- */

/* What a `from` entry's targetRef names. */
enum core_mtp_peer {
	CORE_MTP_SPIFFE_ID = 1,		/* exactly this identity */
	CORE_MTP_SPIFFE_PREFIX,		/* identities under this prefix */
	CORE_MTP_MESH,			/* every identity of the trust domain */
};

struct core_mtp_peer_ref {		/* from[].targetRef */
	__u32 present;
	__u8 kind;			/* enum core_mtp_peer */
	char name[MF_SPIFFE_MAX];
};

struct core_mtp_action {		/* from[].default */
	__u32 present;
	__u8 action;			/* enum mf_authz_action */
};

struct core_mtp_spiffe {		/* rules[]...[].spiffeID */
	__u32 present;
	__u8 type;			/* enum mf_authz_match */
	char value[MF_SPIFFE_MAX];
};

/*
 * One rule: a `from` entry {targetRef, default}, or an item {spiffeID} of
 * one of the lists of Kuma's `rules` form, whose action is the list's (in
 * def, which that schema does not show).  The two schemas share the
 * presence bits: a record is of one form (hdr.section says which).
 */
struct core_mtp_conf {
	__u32 present;
	struct core_mtp_peer_ref target_ref;	/* from: field 0 */
	struct core_mtp_action def;		/* from: field 1 */
	struct core_mtp_spiffe spiffe_id;	/* rules: field 0 */
};

/* hdr.section of a `rules` record; hdr.target is spec.targetRef. */
#define CORE_MTP_SEC_RULES MF_SEC_CONF

struct core_mtp {
	struct mf_pol_hdr hdr;
	struct core_mtp_conf conf;
};

#endif /* MF_POLICY_CORE_H */
