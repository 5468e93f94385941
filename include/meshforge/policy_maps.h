/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The list of the policy maps, the one place they are named: the BPF map
 * definitions (bpf/lib/maps.h), the map names, mfctl's record tables
 * (enum rec_map), the pin slots (struct pmap) and the schema-driven kinds
 * (enum model_kind, kinds_all[]) are all generated from it.  Order: the
 * order mfctl writes them, what records refer to first (tag sets,
 * strings).
 *
 *   CORE(ID, map, key, value, max, flags)
 *	a map of the core kinds (Mesh, Node, Service, Workload,
 *	MeshTrafficPermission), which compile into several of them, or one
 *	derived from a schema-driven kind (mf_gw_instances: Dataplane);
 *   KIND(ID, map, value, max, desc)
 *	the map of one schema-driven kind, key struct mf_pol_key, desc
 *	its struct kind_desc (lib/policy/kind_<name>.c).
 *
 * @max is the capacity of one half (the map holds two); @flags the BPF
 * map flags.  Adding a kind: its struct in abi_policy.h, a KIND() line
 * here, its lib/policy/kind_<name>.c and its test.
 */
#ifndef MESHFORGE_POLICY_MAPS_H
#define MESHFORGE_POLICY_MAPS_H

#define MF_POLICY_MAPS(CORE, KIND)                                            \
	CORE(TAGSETS, mf_tagsets, struct mf_tagset_key, struct mf_tagset,    \
	     MF_MAX_TAGSETS, BPF_F_NO_PREALLOC)                               \
	CORE(STRINGS, mf_strings, struct mf_string_key, struct mf_string,    \
	     MF_MAX_STRINGS, BPF_F_NO_PREALLOC)                               \
	CORE(IDENTITIES, mf_identities, struct mf_identity_key,              \
	     struct mf_identity, MF_MAX_IDENTITIES, BPF_F_NO_PREALLOC)        \
	CORE(NODES, mf_nodes, struct mf_node_key, struct mf_node,            \
	     MF_MAX_NODES, 0)                                                 \
	CORE(AUTHZ, mf_authz, struct mf_authz_key, struct mf_authz_rule,     \
	     MF_MAX_AUTHZ, BPF_F_NO_PREALLOC)                                 \
	CORE(SERVICES, mf_services, struct mf_service_key, struct mf_service, \
	     MF_MAX_SERVICES, BPF_F_NO_PREALLOC)                              \
	CORE(ENDPOINTS, mf_endpoints, struct mf_endpoint_key,                \
	     struct mf_endpoint, MF_MAX_ENDPOINTS, BPF_F_NO_PREALLOC)         \
	CORE(GW_INSTANCES, mf_gw_instances, struct mf_gw_instance_key,       \
	     struct mf_gw_instance, MF_MAX_GW_INSTANCES, BPF_F_NO_PREALLOC)   \
	CORE(LABELS, mf_labels, struct mf_labels_key, struct mf_labels,      \
	     MF_MAX_LABELED, BPF_F_NO_PREALLOC)                               \
	CORE(PERMISSIONS, mf_permissions, struct mf_pol_key, struct mf_mtp,  \
	     MF_MAX_AUTHZ, BPF_F_NO_PREALLOC)                                 \
	KIND(TIMEOUTS, mf_timeouts, struct mf_timeout,                       \
	     MF_MAX_POLICY_RECORDS, kind_mesh_timeout)                        \
	KIND(RETRIES, mf_retries, struct mf_retry, MF_MAX_POLICY_RECORDS,    \
	     kind_mesh_retry)                                                 \
	KIND(BREAKERS, mf_breakers, struct mf_breaker,                       \
	     MF_MAX_POLICY_RECORDS, kind_mesh_circuit_breaker)                \
	KIND(HEALTHCHECKS, mf_healthchecks, struct mf_healthcheck,           \
	     MF_MAX_POLICY_RECORDS, kind_mesh_health_check)                   \
	KIND(LBSTRATEGIES, mf_lbstrategies, struct mf_lbstrategy,            \
	     MF_MAX_POLICY_RECORDS, kind_mesh_lb_strategy)                    \
	KIND(FAULTS, mf_faults, struct mf_fault, MF_MAX_POLICY_RECORDS,      \
	     kind_mesh_fault_injection)                                       \
	KIND(ACCESSLOGS, mf_accesslogs, struct mf_accesslog,                 \
	     MF_MAX_POLICY_RECORDS, kind_mesh_access_log)                     \
	KIND(TRACES, mf_traces, struct mf_trace, MF_MAX_POLICY_RECORDS,      \
	     kind_mesh_trace)                                                 \
	KIND(METRICS, mf_metrics, struct mf_metric, MF_MAX_POLICY_RECORDS,   \
	     kind_mesh_metric)                                                \
	KIND(RATELIMITS, mf_ratelimits, struct mf_ratelimit,                 \
	     MF_MAX_POLICY_RECORDS, kind_mesh_rate_limit)                     \
	KIND(HTTP_ROUTES, mf_http_routes, struct mf_http_route,              \
	     MF_MAX_ROUTE_RECORDS, kind_mesh_http_route)                      \
	KIND(TCP_ROUTES, mf_tcp_routes, struct mf_tcp_route,                 \
	     MF_MAX_ROUTE_RECORDS, kind_mesh_tcp_route)                       \
	KIND(TRAFFIC_ROUTES, mf_traffic_routes, struct mf_traffic_route,     \
	     MF_MAX_POLICY_RECORDS, kind_traffic_route)                       \
	KIND(LEGACY_RLS, mf_legacy_ratelimits, struct mf_legacy_ratelimit,   \
	     MF_MAX_POLICY_RECORDS, kind_rate_limit)                          \
	KIND(GATEWAYS, mf_gateways, struct mf_gateway,                       \
	     MF_MAX_POLICY_RECORDS, kind_mesh_gateway)                        \
	KIND(GATEWAY_ROUTES, mf_gateway_routes, struct mf_gateway_route,     \
	     MF_MAX_POLICY_RECORDS, kind_mesh_gateway_route)                  \
	KIND(OTEL_BACKENDS, mf_otel_backends, struct mf_otel_backend,        \
	     MF_MAX_POLICY_RECORDS, kind_mesh_otel_backend)                   \
	KIND(TLS, mf_tls, struct mf_mesh_tls, MF_MAX_POLICY_RECORDS,         \
	     kind_mesh_tls)                                                   \
	KIND(PASSTHROUGHS, mf_passthroughs, struct mf_passthrough,           \
	     MF_MAX_POLICY_RECORDS, kind_mesh_passthrough)                    \
	KIND(MESH_SERVICES, mf_mesh_services, struct mf_mesh_service,        \
	     MF_MAX_POLICY_RECORDS, kind_mesh_service)                        \
	KIND(MESH_IDENTITIES, mf_mesh_identities, struct mf_mesh_identity,   \
	     MF_MAX_POLICY_RECORDS, kind_mesh_identity)                       \
	KIND(MESH_TRUSTS, mf_mesh_trusts, struct mf_mesh_trust,              \
	     MF_MAX_POLICY_RECORDS, kind_mesh_trust)                          \
	KIND(EXT_SERVICES, mf_ext_services, struct mf_mesh_external_service, \
	     MF_MAX_POLICY_RECORDS, kind_mesh_external_service)               \
	KIND(MZ_SERVICES, mf_mz_services, struct mf_mesh_multi_zone_service, \
	     MF_MAX_POLICY_RECORDS, kind_mesh_multi_zone_service)             \
	KIND(DATAPLANES, mf_dataplanes, struct mf_dataplane,                 \
	     MF_MAX_POLICY_RECORDS, kind_dataplane)

/* Helpers for the users of the list: ignore a row, or count it. */
#define MF_MAP_IGNORE(...)
#define MF_MAP_COUNT(...) +1

/* How many maps of each sort the list has. */
#define MF_CORE_MAP_COUNT (0 MF_POLICY_MAPS(MF_MAP_COUNT, MF_MAP_IGNORE))
#define MF_KIND_MAP_COUNT (0 MF_POLICY_MAPS(MF_MAP_IGNORE, MF_MAP_COUNT))

#endif /* MESHFORGE_POLICY_MAPS_H */
