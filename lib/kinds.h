/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy kinds that live in their own maps (abi_policy.h): for each,
 * its YAML shape, its map and the schema of its conf.  mfctl parses,
 * validates, compiles, prints and deletes them through this table, and the
 * agent loads and dumps them through it, so adding a kind is a struct in
 * abi_policy.h, a map in bpf/lib/maps.h and a lib/kind_<name>.c.
 *
 * The core kinds (Mesh, Node, Service, Workload, MeshTrafficPermission)
 * have hand-written paths and are not in this table.
 */
#ifndef MF_KINDS_H
#define MF_KINDS_H

#include <stddef.h>
#include <stdint.h>

#include "schema.h"

/* The YAML shape of a kind's spec, and which record each part becomes. */
enum kind_form {
	/* spec.targetRef, spec.to[] and/or spec.from[], each entry
	 * {targetRef, default: <conf>}: one record per entry. */
	KIND_FORM_TO_FROM = 1,
	/* spec.targetRef, spec.default: <conf>: one record (MeshTrace,
	 * MeshMetric). */
	KIND_FORM_DEFAULT,
	/* spec.targetRef, spec.to[] {targetRef, rules: [<conf>]}: one record
	 * per rule, the rule (matches + default) being the conf
	 * (MeshHTTPRoute, MeshTCPRoute). */
	KIND_FORM_ROUTE,
	/* Legacy: spec.sources[].match, spec.destinations[].match (tags),
	 * spec.conf: <conf>: one record (TrafficRoute, RateLimit). */
	KIND_FORM_SOURCES,
	/* Legacy: spec.selectors[].match, spec.conf: <conf>: one record;
	 * selectors go in hdr.sources (MeshGateway, MeshGatewayRoute). */
	KIND_FORM_SELECTORS,
};

enum kind_section_bits {
	KIND_SEC_TO = 1u << 0,
	KIND_SEC_FROM = 1u << 1,
};

struct kind_desc {
	const char *name;		/* "MeshTimeout" */
	const char *plural;		/* "meshtimeouts", for the CLI */
	const char *short_name;		/* "mtimeout" or NULL, for the CLI */
	const char *map;		/* MF_MAP_TIMEOUTS */
	enum kind_form form;
	unsigned sections;		/* TO_FROM: KIND_SEC_* allowed */
	uint32_t target_kinds;		/* spec.targetRef kinds (1u << kind) */
	uint32_t to_kinds;		/* to[].targetRef kinds */
	uint32_t from_kinds;		/* from[].targetRef kinds */
	size_t val_size;		/* sizeof(struct mf_<kind>) */
	size_t conf_off;		/* offsetof(struct mf_<kind>, conf) */
	const struct sch_object *conf;	/* the default/rule/conf mapping */
	uint32_t max_records;		/* MF_MAX_*_RECORDS (one half) */
};

/* Bits for target_kinds and friends. */
#define KIND_REF(k) (1u << (k))

/* Every kind of this table, in the order `mfctl get` prints them. */
extern const struct kind_desc *const kinds_all[];
extern const size_t kinds_count;

/* The kind called @name exactly, or NULL. */
const struct kind_desc *kinds_find(const char *name);

/* One definition per kind, in lib/kind_<name>.c. */
extern const struct kind_desc kind_mesh_timeout;
extern const struct kind_desc kind_mesh_retry;
extern const struct kind_desc kind_mesh_circuit_breaker;
extern const struct kind_desc kind_mesh_health_check;
extern const struct kind_desc kind_mesh_lb_strategy;
extern const struct kind_desc kind_mesh_fault_injection;
extern const struct kind_desc kind_mesh_access_log;
extern const struct kind_desc kind_mesh_trace;
extern const struct kind_desc kind_mesh_metric;
extern const struct kind_desc kind_mesh_rate_limit;
extern const struct kind_desc kind_mesh_http_route;
extern const struct kind_desc kind_mesh_tcp_route;
extern const struct kind_desc kind_traffic_route;
extern const struct kind_desc kind_rate_limit;
extern const struct kind_desc kind_mesh_gateway;
extern const struct kind_desc kind_mesh_gateway_route;

#endif /* MF_KINDS_H */
