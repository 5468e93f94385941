/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One name table per enum of the ABI (include/meshforge/abi*.h): what the
 * agent's /config_dump and /metrics, mfctl's parsing and output, and the
 * docs call each value.  Nothing else spells these names; a test holds
 * docs/policy.md to them.
 */
#ifndef MF_ABI_NAMES_H
#define MF_ABI_NAMES_H

#include "meshforge/abi.h"

struct abi_enum {
	const char *what;		/* "authz action", for messages */
	/* index = value; NULL: no name; a NULL after the last, so that for
	 * an enum whose values run from 1 without gaps, names + 1 is the
	 * NULL-ended list a schema enum (schema.h) takes */
	const char *const *names;
	unsigned count;			/* values 0..count-1 */
};

/* The name of value @v, or NULL when it has none (a corrupt record). */
const char *abi_name(const struct abi_enum *t, unsigned v);
/* Same, but "?" for a value without a name: for printing. */
const char *abi_name_or(const struct abi_enum *t, unsigned v);
/* The value named exactly @name, or -1. */
int abi_value(const struct abi_enum *t, const char *name);

/* enum mf_authz_action: Allow, Deny, AllowWithShadowDeny */
extern const struct abi_enum abi_authz_action;
/* enum mf_authz_match: Exact, Prefix */
extern const struct abi_enum abi_authz_match;
/* enum mf_mtls_backend_type: builtin, provided */
extern const struct abi_enum abi_mtls_type;
/* enum mf_mtls_mode: STRICT, PERMISSIVE */
extern const struct abi_enum abi_mtls_mode;
/* enum mf_passthrough_mode: All, Matched, None */
extern const struct abi_enum abi_pt_mode;
/* enum mf_proto: tcp */
extern const struct abi_enum abi_proto;
/* enum mf_ref_kind: Mesh, MeshSubset, ... (MF_REF_WORKLOAD is Kuma's
 * "Dataplane") */
extern const struct abi_enum abi_ref_kind;
/* enum mf_proxy_type, by bit number: Sidecar, Gateway */
extern const struct abi_enum abi_proxy_type;
/* enum mf_pol_section: to, from, default, conf, rules */
extern const struct abi_enum abi_section;
/* enum mf_stat: pod_packets, ... (Prometheus label values) */
extern const struct abi_enum abi_stat;

/* The tables' name lists, for schema enums (names + 1). */
#define ABI_NAMES_EXTERN(var) extern const char *const var##_names[]
ABI_NAMES_EXTERN(abi_authz_action);
ABI_NAMES_EXTERN(abi_authz_match);
ABI_NAMES_EXTERN(abi_mtls_type);
ABI_NAMES_EXTERN(abi_mtls_mode);
ABI_NAMES_EXTERN(abi_pt_mode);
#undef ABI_NAMES_EXTERN

#endif /* MF_ABI_NAMES_H */
