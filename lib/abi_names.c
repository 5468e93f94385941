// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "abi_names.h"

/* The names, index = value, and a NULL after the last: from value 1 on,
 * a list the schemas' enums take as it is (abi_names.h). */
#define ABI_ENUM(var, desc, ...)                                              \
	const char *const var##_names[] = { __VA_ARGS__, NULL };             \
	const struct abi_enum var = {                                        \
		.what = desc,                                                \
		.names = var##_names,                                        \
		.count = sizeof(var##_names) / sizeof(var##_names[0]) - 1,   \
	}

ABI_ENUM(abi_authz_action, "authz action",
	 [MF_AUTHZ_ALLOW] = "Allow",
	 [MF_AUTHZ_DENY] = "Deny",
	 [MF_AUTHZ_ALLOW_SHADOW_DENY] = "AllowWithShadowDeny");

ABI_ENUM(abi_authz_match, "authz match",
	 [MF_AUTHZ_MATCH_EXACT] = "Exact",
	 [MF_AUTHZ_MATCH_PREFIX] = "Prefix");

ABI_ENUM(abi_mtls_type, "mTLS backend type",
	 [MF_MTLS_BUILTIN] = "builtin",
	 [MF_MTLS_PROVIDED] = "provided");

ABI_ENUM(abi_mtls_mode, "mTLS mode",
	 [MF_MTLS_STRICT] = "STRICT",
	 [MF_MTLS_PERMISSIVE] = "PERMISSIVE");

ABI_ENUM(abi_pt_mode, "MeshPassthrough mode",
	 [MF_PASSTHROUGH_ALL] = "All",
	 [MF_PASSTHROUGH_MATCHED] = "Matched",
	 [MF_PASSTHROUGH_NONE] = "None");

ABI_ENUM(abi_proto, "protocol",
	 [MF_PROTO_TCP] = "tcp");

ABI_ENUM(abi_ref_kind, "targetRef kind",
	 [MF_REF_MESH] = "Mesh",
	 [MF_REF_MESH_SUBSET] = "MeshSubset",
	 [MF_REF_MESH_SERVICE] = "MeshService",
	 [MF_REF_MESH_SERVICE_SUBSET] = "MeshServiceSubset",
	 [MF_REF_WORKLOAD] = "Dataplane",
	 [MF_REF_MESH_GATEWAY] = "MeshGateway",
	 [MF_REF_MESH_HTTP_ROUTE] = "MeshHTTPRoute",
	 [MF_REF_MESH_EXTERNAL_SERVICE] = "MeshExternalService",
	 [MF_REF_MESH_MULTI_ZONE_SERVICE] = "MeshMultiZoneService");

/* Bit i of mf_ref.proxy_types is name i. */
ABI_ENUM(abi_proxy_type, "targetRef proxyTypes",
	 [0] = "Sidecar",
	 [1] = "Gateway");

ABI_ENUM(abi_section, "policy section",
	 [MF_SEC_TO] = "to",
	 [MF_SEC_FROM] = "from",
	 [MF_SEC_DEFAULT] = "default",
	 [MF_SEC_CONF] = "conf",
	 [MF_SEC_RULE] = "rules");

ABI_ENUM(abi_stat, "kernel counter",
	 [MF_STAT_POD_PACKETS] = "pod_packets",
	 [MF_STAT_POD_STEERED] = "pod_steered",
	 [MF_STAT_POD_ESTABLISHED] = "pod_established",
	 [MF_STAT_POD_PASSED] = "pod_passed",
	 [MF_STAT_DROP_NO_LISTENER] = "drop_no_listener",
	 [MF_STAT_DROP_ASSIGN] = "drop_assign",
	 [MF_STAT_TO_POD_PACKETS] = "to_pod_packets",
	 [MF_STAT_TO_POD_AGENT] = "to_pod_agent",
	 [MF_STAT_TO_POD_RETURN] = "to_pod_return",
	 [MF_STAT_TO_POD_EXEMPT] = "to_pod_exempt",
	 [MF_STAT_TO_POD_PLAINTEXT] = "to_pod_plaintext",
	 [MF_STAT_TO_POD_OPEN] = "to_pod_open",
	 [MF_STAT_DROP_STRICT] = "drop_strict",
	 [MF_STAT_DROP_SPOOFED] = "drop_spoofed",
	 [MF_STAT_DROP_FRAGMENT] = "drop_fragment",
	 [MF_STAT_DROP_CONN_RATE] = "drop_conn_rate",
	 [MF_STAT_XDP_PACKETS] = "xdp_packets",
	 [MF_STAT_XDP_DROP_DENY] = "xdp_drop_deny",
	 [MF_STAT_XDP_DROP_PACKET_RATE] = "xdp_drop_packet_rate",
	 [MF_STAT_XDP_DROP_SYN_RATE] = "xdp_drop_syn_rate",
	 [MF_STAT_DROP_PASSTHROUGH] = "drop_passthrough");

const char *abi_name(const struct abi_enum *t, unsigned v)
{
	return v < t->count ? t->names[v] : NULL;
}

const char *abi_name_or(const struct abi_enum *t, unsigned v)
{
	const char *s = abi_name(t, v);

	return s ? s : "?";
}

int abi_value(const struct abi_enum *t, const char *name)
{
	for (unsigned v = 0; v < t->count; v++)
		if (t->names[v] && !strcmp(t->names[v], name))
			return (int)v;
	return -1;
}

/* Every value up to the enum's end has its name. */
_Static_assert(sizeof(abi_ref_kind_names) / sizeof(abi_ref_kind_names[0]) ==
	       MF_REF_KIND_MAX + 1, "abi_ref_kind");
_Static_assert(sizeof(abi_stat_names) / sizeof(abi_stat_names[0]) ==
	       MF_STAT_MAX + 1, "abi_stat");
