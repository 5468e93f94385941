/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy kinds that live in their own maps (abi_policy.h): for each,
 * its YAML shape, its map and the schema of its conf.  mfctl parses,
 * validates, compiles, prints and deletes them through this table, and the
 * agent loads and dumps them through it, so adding a kind is a struct in
 * abi_policy.h, a line in policy_maps.h and a lib/policy/kind_<name>.c.
 *
 * The core kinds (Mesh, Node, Service, Workload, MeshTrafficPermission)
 * have hand-written paths and are not in this table.
 */
#ifndef MF_KINDS_H
#define MF_KINDS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "meshforge/policy_maps.h"
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
	/* The core kinds Mesh, Node, Service and Workload: the whole spec is
	 * the conf of one record, which has no struct mf_pol_hdr (conf_off
	 * 0; lib/policy/core.h). */
	KIND_FORM_SPEC,
	/* MeshTrafficPermission: spec.targetRef, then spec.from[] entries
	 * {targetRef, default} (the conf), or Kuma's spec.rules[].default.
	 * {allow, deny, allowWithShadowDeny}[] items {spiffeID} (alt): one
	 * record per entry or item (struct mf_mtp). */
	KIND_FORM_PERMISSION,
};

enum kind_section_bits {
	KIND_SEC_TO = 1u << 0,
	KIND_SEC_FROM = 1u << 1,
	/* Kuma's inbound `rules` form: rules[] {matches?, default}. */
	KIND_SEC_RULES = 1u << 2,
	/* rules[] may have `matches` (spiffeID, sni). */
	KIND_SEC_RULE_MATCHES = 1u << 3,
	/* rules may stand next to `to` (not next to `from`). */
	KIND_SEC_RULES_WITH_TO = 1u << 4,
	/* A policy with no entry at all is valid (Kuma checks none). */
	KIND_SEC_EMPTY_OK = 1u << 5,
	/* `from` (and `rules`) only for a target without gateways, `to` only
	 * for one with them (Kuma's IncludesGateways): MeshFaultInjection,
	 * MeshRateLimit. */
	KIND_SEC_GATEWAY_SCOPED = 1u << 6,
	/* ... and `rules` not for a target with gateways (MeshRateLimit). */
	KIND_SEC_RULES_NO_GATEWAY = 1u << 7,
	/* A MeshGateway target takes no listener tags: the kind applies to
	 * the gateway as a whole (MeshTrace). */
	KIND_SEC_GATEWAY_NO_TAGS = 1u << 8,
	/* ROUTE: a to[] entry may have no rules (none written, or `rules:
	 * []`), which Kuma's route validators take: one record for the entry,
	 * its hdr.rule MF_ROUTE_NO_RULES and its conf zero, printed back as
	 * `rules: []`. */
	KIND_SEC_ENTRY_NO_RULES = 1u << 9,
};

struct ynode;

/*
 * Whose validation a document gets.  Kuma 3.0 (Kuma's main branch) refuses
 * shapes 2.14 took, deprecated then removed; users of either write them, so
 * by default mfctl takes both (KUMA_2_14: 2.14's shapes and 3.0's).  With
 * KUMA_3_0 (`--kuma 3.0`) it refuses what 3.0 refuses:
 *  - a top-level targetRef other than Mesh or Dataplane (3.0's
 *    TopLevelTargetRef), and in a targetRef `name`, `namespace`, `tags`
 *    or `proxyTypes` (3.0's refs have kind, labels and sectionName);
 *  - `from` sections, gone from every kind (MeshTrafficPermission then
 *    needs `rules`);
 *  - kind_desc.sections_v3 where a kind's requirement changed
 *    (MeshRateLimit needs `to` or `rules`);
 *  - the legacy kinds (TrafficRoute, RateLimit, MeshGateway,
 *    MeshGatewayRoute);
 *  - names that are not RFC 1035 labels for Mesh, MeshService,
 *    MeshExternalService and MeshMultiZoneService (kind_desc.name_rfc1035).
 */
enum kuma_version {
	KUMA_2_14 = 0,
	KUMA_3_0,
};

/* "2.14" or "3.0" into *@v: 0, or -EINVAL for any other. */
int kuma_version_parse(const char *s, enum kuma_version *v);

/* What a refusal under KUMA_3_0 alone adds to its message. */
#define KUMA_3_0_ONLY "(Kuma 3.0; mfctl takes it without --kuma 3.0)"

/* What the targetRef-less parts of a kind lose under KUMA_3_0 are in
 * kind_desc.gone_v3 (MeshHealthCheck's healthyPanicThreshold, ...). */

/* The top-level targetRef kinds of Kuma 3.0: its TopLevelTargetRef's. */
#define KIND_TARGETS_V3 (KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_WORKLOAD))

/* Nodes a kind_desc.conf_canon made, owned until kind_own_free(). */
struct kind_own {
	void **p;
	size_t n, cap;
};

/* @size zeroed bytes owned by @o, or NULL on ENOMEM. */
void *kind_own_alloc(struct kind_own *o, size_t size);
void kind_own_free(struct kind_own *o);

struct kind_desc {
	const char *name;		/* "MeshTimeout" */
	const char *plural;		/* "meshtimeouts", for the CLI */
	const char *short_name;		/* "mtimeout" or NULL, for the CLI */
	enum kind_form form;
	unsigned sections;		/* TO_FROM: KIND_SEC_* allowed */
	uint32_t target_kinds;		/* spec.targetRef kinds (1u << kind) */
	uint32_t to_kinds;		/* to[].targetRef kinds */
	/* ... when spec.targetRef is of one of the kinds gw_tops (a gateway
	 * or a route, whose destinations are the mesh's own). */
	uint32_t gw_tops, to_kinds_gw;
	/* When set, the to[].targetRef kinds under a spec.targetRef @top
	 * (it replaces the two rules above). */
	uint32_t (*to_kinds_of)(const struct kind_desc *kd,
				const struct mf_ref *top);
	uint32_t from_kinds;		/* from[].targetRef kinds */
	/* KIND_SEC_* under KUMA_3_0 when they differ from `sections` less
	 * KIND_SEC_FROM (kind_sections()); 0: they do not. */
	unsigned sections_v3;
	/* Kuma 3.0 wants the object's name to be an RFC 1035 label (a
	 * letter first, no dots), as it becomes a DNS name's label. */
	bool name_rfc1035;
	/* What Kuma 3.0 removed from the conf (a `default`), refused under
	 * KUMA_3_0: NULL-terminated paths below it of dot-separated keys,
	 * "key[]" for every item of a list, and a last "key=value" for one
	 * value of a scalar ("hashPolicies[].type=SourceIP"); NULL: none. */
	const char *const *gone_v3;
	size_t val_size;		/* sizeof(struct mf_<kind>) */
	size_t conf_off;		/* offsetof(struct mf_<kind>, conf) */
	const struct sch_object *conf;	/* the default/rule/conf mapping */
	/* ROUTE: the keys of a to[] entry besides targetRef and rules
	 * (MeshHTTPRoute's hostnames), read once per entry into every record
	 * of the entry at entry_off and printed once per entry; NULL: none.
	 * Named fields without refs or names of objects (those are noted
	 * for validation with the entry's first record only). */
	const struct sch_object *entry;
	size_t entry_off;
	const struct sch_object *alt;	/* PERMISSION: a `rules` item */
	/* SELECTORS: spec.tags, a SCH_TAGS field whose off is the tag set
	 * id's offset in the record (MeshGateway); NULL: none. */
	const struct sch_field *spec_tags;
	/* TO_FROM: rules across a record's header and conf (a field a
	 * spiffeID match or the target kind rules out): NULL or a message
	 * about conf field *@field (a path below `default`). */
	const char *(*rec_check)(const struct mf_pol_hdr *h, const void *conf,
				 const char **field);
	/* SPEC: fields whose values together no two objects of the kind
	 * may share (a Service's VIP and port), by index; nunique 0: none. */
	uint8_t unique[2];
	uint8_t nunique;
	/* Kuma's resource is a protobuf message, whose universal form
	 * (`kumactl apply`) writes the spec's fields at the top level next
	 * to type, name and mesh; false: under `spec`, as Kuma's newer
	 * resources (and meshforge's own kinds) have it. */
	bool kuma_inline;
	/* SOURCES/SELECTORS: when set, the conf as written (@conf) in the
	 * kind's canonical shape, for a kind that takes a shorthand too:
	 * @conf itself, or a tree sharing @conf's nodes whose own nodes are
	 * in @own.  NULL on ENOMEM. */
	const struct ynode *(*conf_canon)(const struct ynode *conf,
					  struct kind_own *own);
};

/* Bits for target_kinds and friends. */
#define KIND_REF(k) (1u << (k))

/* The spec.targetRef kinds of @kd under @v. */
static inline uint32_t kind_target_kinds(const struct kind_desc *kd,
					 enum kuma_version v)
{
	return v == KUMA_3_0 ? kd->target_kinds & KIND_TARGETS_V3 :
			       kd->target_kinds;
}

/* The KIND_SEC_* of @kd under @v. */
static inline unsigned kind_sections(const struct kind_desc *kd,
				     enum kuma_version v)
{
	if (v != KUMA_3_0)
		return kd->sections;
	return kd->sections_v3 ? kd->sections_v3 :
				 kd->sections & ~KIND_SEC_FROM;
}

/* The targetRef kind sets most kinds share, named so that a kind says
 * which proxies it may select rather than spelling out the bits. */
/* Any sidecar: the mesh, a subset, a service, a service subset, one
 * Dataplane. */
#define KIND_TARGETS_PROXY                                                   \
	(KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SUBSET) |              \
	 KIND_REF(MF_REF_MESH_SERVICE) |                                     \
	 KIND_REF(MF_REF_MESH_SERVICE_SUBSET) | KIND_REF(MF_REF_WORKLOAD))
/* ... and builtin gateways too. */
#define KIND_TARGETS_GATEWAY                                                 \
	(KIND_TARGETS_PROXY | KIND_REF(MF_REF_MESH_GATEWAY))
/* ... and single MeshHTTPRoutes (route-level settings in Envoy). */
#define KIND_TARGETS_ROUTE                                                   \
	(KIND_TARGETS_GATEWAY | KIND_REF(MF_REF_MESH_HTTP_ROUTE))
/* to[].targetRef of most outbound kinds: every destination or one. */
#define KIND_TO_SERVICE (KIND_REF(MF_REF_MESH) | KIND_REF(MF_REF_MESH_SERVICE))
/* The destinations of Kuma 2.9 on: a service of the mesh, an external
 * one, a multi-zone one. */
#define KIND_DESTINATIONS                                                    \
	(KIND_REF(MF_REF_MESH_SERVICE) |                                     \
	 KIND_REF(MF_REF_MESH_EXTERNAL_SERVICE) |                            \
	 KIND_REF(MF_REF_MESH_MULTI_ZONE_SERVICE))
/* to[].targetRef of the outbound kinds: every destination or one. */
#define KIND_TO_OUTBOUND (KIND_REF(MF_REF_MESH) | KIND_DESTINATIONS)
/* ... or the requests of one MeshHTTPRoute. */
#define KIND_TO_OUTBOUND_ROUTE                                               \
	(KIND_TO_OUTBOUND | KIND_REF(MF_REF_MESH_HTTP_ROUTE))

/*
 * Schema pieces and string rules several kinds share (lib/kind_common.c).
 * The check functions return NULL or a static message, as sch_field.check
 * wants; the predicates are for kinds whose messages differ.
 */
/* "must start with '/'" unless @s is an absolute path. */
const char *kind_check_abs_path(const char *s);
/* "must not contain spaces or control characters": values handed to the
 * proxy verbatim (endpoints, addresses). */
const char *kind_check_no_space(const char *s);
/* "must not contain control characters": HTTP header values. */
const char *kind_check_header_value(const char *s);
/* Unless @s is an RFC 9110 token (an HTTP header name): the routes'
 * message ("must be an HTTP header name (letters, digits and
 * !#$%&'*+-.^_`|~)") and the rate limits' one ("... (token
 * characters)").  One rule, worded two ways: tests pin both. */
const char *kind_check_header_name(const char *s);
const char *kind_check_header_token(const char *s);
/* "must be an absolute path": files the agent opens. */
const char *kind_check_file_path(const char *s);
/* Unless @s is a SPIFFE ID ("must be a SPIFFE ID (spiffe://<trust-domain>/
 * <path>)"), or the start of some ("must be a SPIFFE ID prefix ..."). */
const char *kind_check_spiffe_id(const char *s);
const char *kind_check_spiffe_prefix(const char *s);
/* "host:port" at @host (up to the end of the string): @bad unless a
 * non-empty host free of spaces, control characters and the characters of
 * @reject comes before the last ':' and digits after it; "port must be
 * 1..65535" for a port out of range. */
const char *kind_check_host_port(const char *host, const char *reject,
				 const char *bad);
/* True when @s compiles as a POSIX extended regular expression, the
 * closest the C library has to Envoy's RE2. */
/*
 * Regular expressions of routes (RegularExpression matches): POSIX
 * extended syntax, glibc's engine, which runs an expression without
 * back-references as an automaton over the input, never backtracking, so
 * no input makes it take exponential time.  Back-references, the one
 * feature that needs backtracking, are refused (RE2, Envoy's engine, has
 * none either).  A match is of the whole value (anchored).
 * kind_regex_compile() compiles @s so into @re (regfree() it): 0, or
 * -EINVAL (not valid, or a back-reference), -ENOMEM.
 */
int kind_regex_compile(regex_t *re, const char *s);
bool kind_regex_ok(const char *s);
/* True when @s is a DNS name: dot-separated labels of a-z, 0-9 and '-',
 * each starting and ending with a letter or digit. */
bool kind_dns_name_ok(const char *s);
/* Kuma's HeaderName: an HTTP header name written in lower case. */
const char *kind_check_header_name_lower(const char *s);
/* An OpenTelemetry backendRef, {kind: MeshOpenTelemetryBackend, labels}
 * (struct mf_otel_ref), in MeshTrace, MeshMetric and MeshAccessLog. */
extern const struct sch_object kind_otel_backend_ref;
/* An openTelemetry object whose fields 0 and 1 are its endpoint and its
 * backendRef: Kuma 2.14 takes either, 3.0 the backendRef, none both. */
const char *kind_check_otel_endpoint_or_ref(const void *obj);
/* HTTP method names, index + 1 == enum mf_http_method. */
extern const char *const kind_http_methods[];
/* True when @n is a prime number (Maglev table sizes). */
bool kind_is_prime(uint32_t n);
/* The decimal port at @digits (after a host's ':'): -1 when a non-digit
 * comes first, else the value, stopping once it is over 65535 (so the
 * caller reports a range error). */
long kind_parse_port(const char *digits);
/* For a backend whose field 0 is an optional enum `type` (value @type)
 * and whose fields 1..@nobjs are objects sharing storage, enum value i
 * naming field i: @one_msg unless exactly one object is present, "type
 * must name the backend that is set" when the type names another, else
 * NULL. */
const char *kind_check_typed_one(const void *obj, unsigned type,
				 unsigned nobjs, const char *one_msg);

/* A header set/add pair (struct mf_header_mod's first two fields, in
 * that order, bits 0 and 1), each a list of @item (struct
 * mf_header_value). */
#define KIND_HEADER_SET_ADD(item)                                            \
	SCH_F_LIST("set", mf_header_mod, set, item),                         \
	SCH_F_LIST("add", mf_header_mod, add, item)

/* The record of a kind: struct @st whose member @m is the conf that
 * @conf_ describes (kind_desc.val_size, conf_off, conf). */
#define KIND_RECORD(st, m, conf_)                                            \
	.val_size = sizeof(struct st), .conf_off = offsetof(struct st, m),   \
	.conf = (conf_)

/* A route backendRef, Kuma's flat {kind, name, tags, port, weight}
 * (MeshHTTPRoute and MeshTCPRoute, and MeshHTTPRoute's requestMirror). */
extern const struct sch_object kind_route_backend_ref;
/* "backendRefs need at least one weight above 0" unless one of the @n
 * backendRefs at @b gets traffic: one without weight has Kuma's default
 * weight, 1. */
const char *kind_check_route_backends(const struct mf_route_backend *b,
				      unsigned n);
/* A backendRef's weight: as written, 1 when not (Kuma's default). */
uint32_t kind_route_backend_weight(const struct mf_route_backend *b);

/* A rate, {num, interval} (struct mf_rate): num >= 1 per interval >= 50ms
 * (MeshRateLimit's, and the node firewall's of Mesh). */
extern const struct sch_object kind_rate;

/* An IPv4 network "a.b.c.d/p" (p 0..32) without host bits into @net
 * (network order) and *prefix.  Returns 0 or -EINVAL. */
int kind_parse_cidr4(const char *s, uint8_t net[4], uint8_t *prefix);

/* MeshGatewayRoute, read back from its records (which field of a oneof
 * is written is in the presence bits, kind_mesh_gateway_route.c): a
 * backend's weight (1 when not written); which filter a filter is; which
 * path a rewrite (or a redirect's path) replaces. */
uint32_t kind_gwr_backend_weight(const struct mf_gwr_backend *b);
enum kind_gwr_filter {
	KIND_GWR_NONE = 0,
	KIND_GWR_REQUEST_HEADER,
	KIND_GWR_RESPONSE_HEADER,
	KIND_GWR_MIRROR,
	KIND_GWR_REDIRECT,
	KIND_GWR_REWRITE,
};
enum kind_gwr_filter kind_gwr_filter_type(const struct mf_gwr_filter *f);
enum kind_gwr_path {
	KIND_GWR_PATH_NONE = 0,
	KIND_GWR_PATH_FULL,		/* replace_full */
	KIND_GWR_PATH_PREFIX,		/* replace_prefix_match */
};
enum kind_gwr_path kind_gwr_rewrite_path(const struct mf_gwr_rewrite *rw);
/* Whether route @r is an HTTP one (conf.http), not a TCP one. */
bool kind_gwr_http(const struct mf_gateway_route *r);
/* MeshGateway: a listener certificate's file path, or its secret's name;
 * NULL when it is the other. */
const char *kind_gw_cert_file(const struct mf_gw_cert *c);
const char *kind_gw_cert_secret(const struct mf_gw_cert *c);

/* The tag a proxy's inbound says its application protocol with (Kuma's
 * ProtocolTag: tcp, http, http2, grpc...). */
#define KIND_PROTOCOL_TAG	"kuma.io/protocol"

/* The value of tag @key in tag set @ts (NULL: none), or NULL. */
const char *kind_tag_value(const struct mf_tagset *ts, const char *key);

/* "must have the tag kuma.io/service" unless tag set @ts has it: where
 * Kuma sends traffic to a service by tags (check_tags of SCH_TAGS). */
const char *kind_check_tags_service(const struct mf_tagset *ts,
				    const char **key);

/* The record at @rec of @kd as sch_check() sees it: its conf (in the schema
 * kind_rec_schema() gives) and its entry's keys.  NULL, or a static
 * description of the first problem. */
const char *kind_rec_check(const struct kind_desc *kd, const void *rec);

/* True when records of @kd start with a struct mf_pol_hdr. */
static inline bool kind_has_hdr(const struct kind_desc *kd)
{
	return kd->form != KIND_FORM_SPEC;
}

/* The schema of the conf of record @rec of @kd: a permission's `rules`
 * records hold their other one. */
static inline const struct sch_object *
kind_rec_schema(const struct kind_desc *kd, const void *rec)
{
	const struct mf_pol_hdr *h = rec;

	return kd->form == KIND_FORM_PERMISSION &&
	       h->section == MF_MTP_SEC_RULES ? kd->alt : kd->conf;
}

/*
 * Calls @fn with every tag set id record @rec of @kd refers to (0s
 * included): its targetRefs' tags and labels, legacy selectors, and the
 * tags and refs of its conf.
 */
typedef void kind_tag_fn(void *arg, uint32_t id);
void kind_rec_tags(const struct kind_desc *kd, const void *rec,
		   kind_tag_fn *fn, void *arg);

/*
 * Calls @fn with every pooled string record @rec of @kd refers to (the
 * present SCH_STRREF values of its conf and entry): @at points at the
 * __u32 id in @rec, so a caller that owns a copy of @rec can rewrite it
 * at the same offset.
 */
typedef void kind_str_fn(void *arg, const void *at);
void kind_rec_strs(const struct kind_desc *kd, const void *rec,
		   kind_str_fn *fn, void *arg);

/* The string @at (a place kind_rec_strs() gave) refers to. */
static inline uint32_t kind_str_id(const void *at)
{
	uint32_t id;

	memcpy(&id, at, sizeof(id));
	return id;
}

/* The core kinds, in the order `mfctl get` prints them (before the
 * others): what enum model_kind counts first. */
#define KINDS_CORE(X)                                                         \
	X(MESH, kind_mesh)                                                    \
	X(NODE, kind_node)                                                    \
	X(SERVICE, kind_service)                                              \
	X(WORKLOAD, kind_workload)                                            \
	X(MTP, kind_mtp)

#define KINDS_CORE_EXTERN(ID, desc) extern const struct kind_desc desc;
KINDS_CORE(KINDS_CORE_EXTERN)
#undef KINDS_CORE_EXTERN

/* Every kind of this table, in the order of policy_maps.h (the order
 * `mfctl get` prints them); kind i's map is REC_KIND_FIRST + i. */
extern const struct kind_desc *const kinds_all[];
extern const size_t kinds_count;

/* The kind called @name exactly, or NULL. */
const struct kind_desc *kinds_find(const char *name);

/* One definition per kind, in lib/policy/kind_<name>.c. */
#define KINDS_EXTERN(ID, map, val, max, desc) extern const struct kind_desc desc;
MF_POLICY_MAPS(MF_MAP_IGNORE, KINDS_EXTERN)
#undef KINDS_EXTERN

#endif /* MF_KINDS_H */
