/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The policy kinds beyond the core maps: one pinned hash per kind (named
 * in policy_maps.h), one record per entry of a policy (a `to` or `from`
 * entry, a route rule, or the whole `default`/`conf`).  Included by abi.h.
 *
 * Every record is
 *   key   struct mf_pol_key   (half, index of the entry, policy name)
 *   value struct mf_<kind>    (struct mf_pol_hdr, then the kind's conf)
 *
 * Conventions of the conf structs, which lib/kind_*.c describe field by
 * field (lib/schema.h), so one engine parses, prints, merges and dumps them:
 *  - Every struct that stands for a YAML mapping starts with `__u32
 *    present`: bit i is set when field i of its schema was written.  Lists
 *    replace, they do not merge, so list items need no merging but still
 *    carry `present` so every mapping looks the same to the engine.
 *  - A list is an array with a __u8 count (n<name>) next to it.
 *  - Durations are __u32 milliseconds; percentages are __u32 thousandths of
 *    a percent (0..100000); bandwidths are __u64 bits per second; tags are
 *    an mf_tagsets id (__u32).
 *  - Sizes are chosen so a record stays under 4 KiB: at 10k route records
 *    the map memory has to stay in tens of MiB.  Long strings live in
 *    mf_strings (abi.h) and records hold their ids (__u32).  A
 *    MeshHTTPRoute rule is an exception, at some 10 KiB for the room its
 *    lists need, and a MeshGatewayRoute, one record for up to 16 rules,
 *    at some 66 KiB (below).
 */
#ifndef MESHFORGE_ABI_POLICY_H
#define MESHFORGE_ABI_POLICY_H

/* Records per kind map and half; routes get more (10k routes, several
 * rules each). */
#define MF_MAX_POLICY_RECORDS	4096
#define MF_MAX_ROUTE_RECORDS	32768

#define MF_SELECTORS_MAX	4	/* legacy sources/destinations/selectors */
#define MF_HDR_NAME_MAX		40	/* HTTP header and query names, inline */
#define MF_HDR_VALUE_MAX	64	/* HTTP header and query values, inline */
#define MF_ROUTE_PATH_MAX	100	/* paths the legacy kinds keep inline */

/* targetRef kinds (Kuma's, Workload standing for Dataplane).  Their
 * specificity is Kuma's, not this order: lib/policy/select.h. */
enum mf_ref_kind {
	MF_REF_MESH = 1,
	MF_REF_MESH_SUBSET,		/* workloads with these tags */
	MF_REF_MESH_SERVICE,		/* a Service by name or labels */
	MF_REF_MESH_SERVICE_SUBSET,	/* a Service's workloads with tags */
	MF_REF_WORKLOAD,		/* Workloads (Kuma: Dataplane) */
	MF_REF_MESH_GATEWAY,		/* a MeshGateway by name */
	MF_REF_MESH_HTTP_ROUTE,		/* a MeshHTTPRoute by name or labels */
	MF_REF_MESH_EXTERNAL_SERVICE,	/* a MeshExternalService */
	MF_REF_MESH_MULTI_ZONE_SERVICE,	/* a MeshMultiZoneService */
	MF_REF_KIND_MAX,
};

/* targetRef.proxyTypes, as bits. */
enum mf_proxy_type {
	MF_PROXY_SIDECAR = 1u << 0,
	MF_PROXY_GATEWAY = 1u << 1,
};

#define MF_SECTION_MAX	32		/* targetRef.sectionName */

/*
 * A targetRef.  It names its objects by name (and namespace), or selects
 * them by labels; tags narrow a subset.  Kuma 2.9 and later select by
 * labels (kuma.io/display-name stands for the name) and a port by
 * sectionName.
 */
struct mf_ref {
	__u8 kind;			/* enum mf_ref_kind, 0: absent */
	__u8 proxy_types;		/* enum mf_proxy_type bits, 0: not
					 * given (every type) */
	__u8 _pad[2];
	__u32 tags;			/* mf_tagsets id, 0: none */
	__u32 labels;			/* mf_tagsets id of the label
					 * selector, 0: none */
	__u32 _pad2;
	char name[MF_NAME_MAX];		/* "": not by name */
	char namespace[MF_NAME_MAX];	/* with name: Kubernetes namespace */
	char section[MF_SECTION_MAX];	/* sectionName: a port's name or
					 * number, "": every port */
};

/* Which part of the policy a record is. */
enum mf_pol_section {
	MF_SEC_TO = 1,			/* spec.to[i] (routes: a rule of it) */
	MF_SEC_FROM,			/* spec.from[i] */
	MF_SEC_DEFAULT,			/* spec.default (MeshTrace, MeshMetric) */
	MF_SEC_CONF,			/* spec.conf (legacy kinds) */
	MF_SEC_RULE,			/* spec.rules[entry], one record per
					 * match (rule: its index), one for a
					 * rule without matches */
};

/* Which peers an inbound rule (spec.rules[].matches[]) is for: by the
 * SPIFFE ID they present and the SNI they ask for.  Types are enum
 * mf_authz_match values (Exact, Prefix), 0 where the match has none. */
#define MF_SNI_MAX	256

struct mf_rule_match {
	__u8 spiffe_type;		/* Exact or Prefix, 0: no spiffeID */
	__u8 sni_type;			/* Exact, 0: no sni */
	__u8 _pad[2];
	char spiffe[MF_SPIFFE_MAX];
	char sni[MF_SNI_MAX];
};

struct mf_pol_key {
	__u32 half;
	__u32 index;			/* 0..n-1 within the policy */
	char name[MF_NAME_MAX];		/* the policy's name */
};

struct mf_pol_hdr {
	struct mf_ref target;		/* spec.targetRef */
	struct mf_ref ref;		/* the to/from entry's targetRef */
	__u8 section;			/* enum mf_pol_section */
	__u8 nsources;			/* legacy: sources or selectors */
	__u8 ndestinations;
	__u8 _pad;
	__u16 entry;			/* routes: index of the to[] entry */
	__u16 rule;			/* routes: index of the rule in it */
	__u32 sources[MF_SELECTORS_MAX];	/* tagset ids of .match */
	__u32 destinations[MF_SELECTORS_MAX];
	struct mf_rule_match match;	/* MF_SEC_RULE: the rule's match */
};

/* ---- MeshTimeout ------------------------------------------------------ */
struct mf_timeout_http {
	__u32 present;
	__u32 request_timeout;
	__u32 stream_idle_timeout;
	__u32 max_stream_duration;
	__u32 max_connection_duration;
	__u32 request_headers_timeout;
};

struct mf_timeout_conf {
	__u32 present;
	__u32 connection_timeout;
	__u32 idle_timeout;
	struct mf_timeout_http http;
};

struct mf_timeout {
	struct mf_pol_hdr hdr;
	struct mf_timeout_conf conf;
};

/* ---- MeshRetry --------------------------------------------------------- */
#define MF_RETRY_ON_MAX		24	/* http.retryOn items */
#define MF_RETRY_ON_LEN		24	/* "Http3PostConnectFailure" + NUL */
/* retriable{Request,Response}Headers, resetHeaders and hostSelection:
 * each item takes up to a header name and value, so few of them. */
#define MF_RETRY_LIST_MAX	4

/* grpc.retryOn, as bits in this order. */
enum mf_retry_grpc_on {
	MF_RETRY_GRPC_CANCELED = 1u << 0,
	MF_RETRY_GRPC_DEADLINE_EXCEEDED = 1u << 1,
	MF_RETRY_GRPC_INTERNAL = 1u << 2,
	MF_RETRY_GRPC_RESOURCE_EXHAUSTED = 1u << 3,
	MF_RETRY_GRPC_UNAVAILABLE = 1u << 4,
};

/* rateLimitedBackOff.resetHeaders[].format */
enum mf_retry_reset_format {
	MF_RETRY_RESET_SECONDS = 1,
	MF_RETRY_RESET_UNIX_TIMESTAMP,
};

/* http.hostSelection[].predicate */
enum mf_retry_predicate {
	MF_RETRY_OMIT_PREVIOUS_HOSTS = 1,
	MF_RETRY_OMIT_HOSTS_WITH_TAGS,
	MF_RETRY_OMIT_PREVIOUS_PRIORITIES,
};

struct mf_retry_backoff {
	__u32 present;
	__u32 base_interval;
	__u32 max_interval;
};

struct mf_retry_reset_header {
	__u32 present;
	__u8 format;			/* enum mf_retry_reset_format */
	__u8 _pad[3];
	char name[MF_HDR_NAME_MAX];
};

struct mf_retry_rate_limited {
	__u32 present;
	__u32 max_interval;
	__u8 nreset_headers;
	__u8 _pad[3];
	struct mf_retry_reset_header reset_headers[MF_RETRY_LIST_MAX];
};

/* A retriable{Request,Response}Headers item: Kuma's HeaderMatch. */
struct mf_retry_header_match {
	__u32 present;
	__u8 type;			/* enum mf_value_match, 0: Exact */
	__u8 _pad[3];
	char name[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

struct mf_retry_host_predicate {
	__u32 present;
	__u8 predicate;			/* enum mf_retry_predicate */
	__u8 _pad[3];
	__u32 tags;			/* mf_tagsets id, OmitHostsWithTags */
	__u32 update_frequency;		/* OmitPreviousPriorities; absent: 2 */
};

struct mf_retry_http {
	__u32 present;
	__u32 num_retries;
	__u32 per_try_timeout;
	__u8 nretry_on;
	__u8 nretriable_response_headers;
	__u8 nretriable_request_headers;
	__u8 nhost_selection;
	struct mf_retry_backoff back_off;
	struct mf_retry_rate_limited rate_limited_back_off;
	__u64 host_selection_max_attempts;
	/* Condition names and HTTP status codes, as written. */
	char retry_on[MF_RETRY_ON_MAX][MF_RETRY_ON_LEN];
	struct mf_retry_header_match
		retriable_response_headers[MF_RETRY_LIST_MAX];
	struct mf_retry_header_match
		retriable_request_headers[MF_RETRY_LIST_MAX];
	struct mf_retry_host_predicate host_selection[MF_RETRY_LIST_MAX];
};

struct mf_retry_grpc {
	__u32 present;
	__u32 num_retries;
	__u32 per_try_timeout;
	__u32 retry_on;			/* enum mf_retry_grpc_on bits */
	struct mf_retry_backoff back_off;
	struct mf_retry_rate_limited rate_limited_back_off;
};

struct mf_retry_tcp {
	__u32 present;
	__u32 max_connect_attempt;
};

struct mf_retry_conf {
	__u32 present;
	struct mf_retry_tcp tcp;
	struct mf_retry_http http;
	struct mf_retry_grpc grpc;
};

struct mf_retry {
	struct mf_pol_hdr hdr;
	struct mf_retry_conf conf;
};

/* ---- MeshCircuitBreaker ------------------------------------------------ */
struct mf_cb_limits {
	__u32 present;
	__u32 max_connections;
	__u32 max_connection_pools;
	__u32 max_pending_requests;
	__u32 max_requests;
	__u32 max_retries;
};

struct mf_cb_consecutive {
	__u32 present;
	__u32 consecutive;
};

struct mf_cb_success_rate {
	__u32 present;
	__u32 minimum_hosts;
	__u32 request_volume;
	__u32 standard_deviation_factor;	/* thousandths: "1.9" is 1900,
						 * as Envoy takes it */
};

struct mf_cb_failure_percentage {
	__u32 present;
	__u32 minimum_hosts;
	__u32 request_volume;
	__u32 threshold;		/* percent, 0..100 */
};

struct mf_cb_detectors {
	__u32 present;
	struct mf_cb_consecutive total_failures;
	struct mf_cb_consecutive gateway_failures;
	struct mf_cb_consecutive local_origin_failures;
	struct mf_cb_success_rate success_rate;
	struct mf_cb_failure_percentage failure_percentage;
};

struct mf_cb_outlier {
	__u32 present;
	__u8 disabled;
	__u8 split_external_and_local_errors;
	__u16 _pad;
	__u32 interval;
	__u32 base_ejection_time;
	__u32 max_ejection_percent;	/* percent, 0..100 */
	struct mf_cb_detectors detectors;
	__u32 healthy_panic_threshold;	/* thousandths of a percent */
};

struct mf_cb_conf {
	__u32 present;
	struct mf_cb_limits connection_limits;
	struct mf_cb_outlier outlier_detection;
};

struct mf_breaker {
	struct mf_pol_hdr hdr;
	struct mf_cb_conf conf;
};

/* ---- MeshHealthCheck --------------------------------------------------- */
#define MF_STATUSES_MAX		8
#define MF_HC_HEADERS_MAX	4	/* requestHeadersToAdd set and add */

struct mf_hc_header {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

/* http.requestHeadersToAdd */
struct mf_hc_headers {
	__u32 present;
	__u8 nset;
	__u8 nadd;
	__u16 _pad;
	struct mf_hc_header set[MF_HC_HEADERS_MAX];
	struct mf_hc_header add[MF_HC_HEADERS_MAX];
};

struct mf_hc_http {
	__u32 present;
	__u8 disabled;
	__u8 nexpected_statuses;
	__u16 _pad;
	char path[MF_PATH_MAX];
	__u16 expected_statuses[MF_STATUSES_MAX];
	struct mf_hc_headers request_headers_to_add;
};

struct mf_hc_tcp {
	__u32 present;
	__u8 disabled;
	__u8 nreceive;
	__u16 _pad;
	char send[MF_NAME_MAX];		/* base64, as Kuma writes it */
	char receive[2][MF_NAME_MAX];
};

struct mf_hc_grpc {
	__u32 present;
	__u8 disabled;
	__u8 _pad[3];
	char service_name[MF_PATH_MAX];	/* sent in the gRPC check */
	char authority[MF_PATH_MAX];	/* :authority, "": the cluster's */
};

/* The bit of healthyPanicThreshold in mf_hc_conf.present: a 0 written
 * (panic mode off) is told from one left out (50%) by it. */
#define MF_HC_F_HEALTHY_PANIC	7

struct mf_hc_conf {
	__u32 present;
	__u32 interval;
	__u32 timeout;
	__u32 unhealthy_threshold;
	__u32 healthy_threshold;
	__u32 initial_jitter;
	__u32 interval_jitter;
	__u32 interval_jitter_percent;	/* percent, 0..100 */
	__u32 healthy_panic_threshold;	/* thousandths of a percent */
	__u32 no_traffic_interval;
	__u8 fail_traffic_on_panic;
	__u8 reuse_connection;
	__u8 always_log_health_check_failures;
	__u8 _pad;
	struct mf_hc_http http;
	struct mf_hc_tcp tcp;
	struct mf_hc_grpc grpc;
	char event_log_path[MF_PATH_MAX];
};

struct mf_healthcheck {
	struct mf_pol_hdr hdr;
	struct mf_hc_conf conf;
};

/* ---- MeshLoadBalancingStrategy ---------------------------------------- */
enum mf_lb_type {
	MF_LB_ROUND_ROBIN = 1,
	MF_LB_LEAST_REQUEST,
	MF_LB_RING_HASH,
	MF_LB_RANDOM,
	MF_LB_MAGLEV,
};

enum mf_lb_hash_function {
	MF_LB_HASH_XX = 1,		/* XXHash */
	MF_LB_HASH_MURMUR2,		/* MurmurHash2 */
};

/* TrafficRoute's loadBalancer settings (its legacy shape); the
 * MeshLoadBalancingStrategy ones are the mf_lb_strategy_* below. */
struct mf_lb_least_request {
	__u32 present;
	__u32 choice_count;
};

struct mf_lb_ring_hash {
	__u32 present;
	__u8 hash_function;		/* enum mf_lb_hash_function */
	__u8 _pad[3];
	__u32 min_ring_size;
	__u32 max_ring_size;
};

struct mf_lb_maglev {
	__u32 present;
	__u32 table_size;
};

/* hashPolicies: at the root of default, and (Kuma 2.14) in ringHash and
 * maglev. */
#define MF_LB_HASH_POLICIES_MAX		4
#define MF_LB_INNER_HASH_POLICIES_MAX	2
#define MF_LB_COOKIE_PATH_MAX		64

enum mf_lb_hash_type {
	MF_LB_HASH_HEADER = 1,
	MF_LB_HASH_COOKIE,
	MF_LB_HASH_CONNECTION,
	MF_LB_HASH_SOURCE_IP,		/* Kuma 2.14; hashes as Connection */
	MF_LB_HASH_QUERY_PARAMETER,
	MF_LB_HASH_FILTER_STATE,
};

/* header and queryParameter: {name}. */
struct mf_lb_hash_name {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
};

struct mf_lb_hash_cookie {
	__u32 present;
	__u32 ttl;			/* ms */
	char name[MF_HDR_NAME_MAX];
	char path[MF_LB_COOKIE_PATH_MAX];
};

struct mf_lb_hash_connection {
	__u32 present;
	__u8 source_ip;
	__u8 _pad[3];
};

struct mf_lb_hash_filter_state {
	__u32 present;
	char key[MF_NAME_MAX];
};

/* `type` names the one source present; they share the storage. */
struct mf_lb_hash_policy {
	__u32 present;
	__u8 type;			/* enum mf_lb_hash_type */
	__u8 terminal;
	__u8 _pad[2];
	union {
		struct mf_lb_hash_name header;
		struct mf_lb_hash_cookie cookie;
		struct mf_lb_hash_connection connection;
		struct mf_lb_hash_name query_parameter;
		struct mf_lb_hash_filter_state filter_state;
	};
};

struct mf_lb_strategy_least_request {
	__u32 present;
	__u32 choice_count;
	__u32 active_request_bias;	/* thousandths: "1.3" is 1300 */
};

struct mf_lb_strategy_ring_hash {
	__u32 present;
	__u8 hash_function;		/* enum mf_lb_hash_function */
	__u8 nhash_policies;
	__u8 _pad[2];
	__u32 min_ring_size;
	__u32 max_ring_size;
	struct mf_lb_hash_policy hash_policies[MF_LB_INNER_HASH_POLICIES_MAX];
};

struct mf_lb_strategy_maglev {
	__u32 present;
	__u32 table_size;
	__u8 nhash_policies;
	__u8 _pad[3];
	struct mf_lb_hash_policy hash_policies[MF_LB_INNER_HASH_POLICIES_MAX];
};

/* roundRobin: {} and random: {}, which have no settings. */
struct mf_lb_empty {
	__u32 present;
};

struct mf_lb_balancer {
	__u32 present;
	__u8 type;			/* enum mf_lb_type */
	__u8 _pad[3];
	struct mf_lb_strategy_least_request least_request;
	struct mf_lb_strategy_ring_hash ring_hash;
	struct mf_lb_strategy_maglev maglev;
	struct mf_lb_empty round_robin;
	struct mf_lb_empty random;
};

/* localityAwareness: which endpoints of the local zone come first
 * (localZone), and where traffic goes when the zone fails (crossZone). */
#define MF_LB_AFFINITY_TAGS_MAX	4
#define MF_LB_FAILOVERS_MAX	4
#define MF_LB_ZONES_MAX		3

struct mf_lb_affinity_tag {
	__u32 present;
	__u32 weight;
	char key[MF_NAME_MAX];
};

struct mf_lb_local_zone {
	__u32 present;
	__u8 naffinity_tags;
	__u8 _pad[3];
	struct mf_lb_affinity_tag affinity_tags[MF_LB_AFFINITY_TAGS_MAX];
};

enum mf_lb_failover_type {
	MF_LB_FAILOVER_NONE = 1,
	MF_LB_FAILOVER_ONLY,
	MF_LB_FAILOVER_ANY,
	MF_LB_FAILOVER_ANY_EXCEPT,
};

/* failover[].from and failover[].to: zone names, and for `to` which of
 * them traffic may go to. */
struct mf_lb_zones {
	__u32 present;
	__u8 type;			/* to: enum mf_lb_failover_type */
	__u8 nzones;
	__u8 _pad[2];
	char zones[MF_LB_ZONES_MAX][MF_NAME_MAX];
};

struct mf_lb_failover {
	__u32 present;
	struct mf_lb_zones from;
	struct mf_lb_zones to;
};

struct mf_lb_failover_threshold {
	__u32 present;
	__u32 percentage;		/* thousandths of a percent */
};

struct mf_lb_cross_zone {
	__u32 present;
	__u8 nfailover;
	__u8 _pad[3];
	struct mf_lb_failover failover[MF_LB_FAILOVERS_MAX];
	struct mf_lb_failover_threshold failover_threshold;
};

struct mf_lb_locality {
	__u32 present;
	__u8 disabled;
	__u8 _pad[3];
	struct mf_lb_local_zone local_zone;
	struct mf_lb_cross_zone cross_zone;
};

struct mf_lb_conf {
	__u32 present;
	struct mf_lb_locality locality_awareness;
	struct mf_lb_balancer load_balancer;
	__u8 nhash_policies;
	__u8 _pad[3];
	struct mf_lb_hash_policy hash_policies[MF_LB_HASH_POLICIES_MAX];
};

struct mf_lbstrategy {
	struct mf_pol_hdr hdr;
	struct mf_lb_conf conf;
};

/* ---- MeshFaultInjection ------------------------------------------------ */
#define MF_FAULTS_MAX		4

struct mf_fault_abort {
	__u32 present;
	__u32 http_status;
	__u32 percentage;
};

struct mf_fault_delay {
	__u32 present;
	__u32 value;			/* ms */
	__u32 percentage;
};

struct mf_fault_bandwidth {
	__u32 present;
	__u32 percentage;
	__u64 limit;			/* bits per second */
};

struct mf_fault_http {
	__u32 present;
	__u32 _pad;
	struct mf_fault_abort abort;
	struct mf_fault_delay delay;
	struct mf_fault_bandwidth response_bandwidth;
};

struct mf_fault_conf {
	__u32 present;
	__u8 nhttp;
	__u8 _pad[3];
	struct mf_fault_http http[MF_FAULTS_MAX];
};

struct mf_fault {
	struct mf_pol_hdr hdr;
	struct mf_fault_conf conf;
};

/* ---- OpenTelemetry backends (MeshAccessLog, MeshTrace, MeshMetric) ----- */

/* The kinds a backendRef names: Kuma has one. */
enum mf_otel_ref_kind {
	MF_OTEL_REF_BACKEND = 1,	/* MeshOpenTelemetryBackend */
};

/*
 * An OpenTelemetry backend's backendRef (Kuma 2.14 on, the only form in
 * 3.0): the MeshOpenTelemetryBackend objects whose labels match, the
 * oldest winning.  Its alternative is a collector `endpoint`.
 */
struct mf_otel_ref {
	__u32 present;
	__u8 kind;			/* enum mf_otel_ref_kind */
	__u8 _pad[3];
	__u32 labels;			/* mf_tagsets id */
};

/* ---- MeshAccessLog ----------------------------------------------------- */
#define MF_LOG_BACKENDS_MAX	2
#define MF_LOG_JSON_MAX		6
#define MF_LOG_PLAIN_MAX	640	/* fits in the json entries' bytes */
#define MF_LOG_ATTRS_MAX	4

enum mf_log_format_type {
	MF_LOG_PLAIN = 1,
	MF_LOG_JSON,
};

struct mf_log_json_field {
	__u32 present;
	char key[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

/* Exactly one of plain and json: they share the storage. */
struct mf_log_format {
	__u32 present;
	__u8 type;			/* enum mf_log_format_type */
	__u8 omit_empty_values;
	__u8 njson;
	__u8 _pad;
	union {
		char plain[MF_LOG_PLAIN_MAX];
		struct mf_log_json_field json[MF_LOG_JSON_MAX];
	};
};

struct mf_log_file {
	__u32 present;
	char path[MF_PATH_MAX];
	struct mf_log_format format;
};

struct mf_log_tcp {
	__u32 present;
	char address[MF_PATH_MAX];
	struct mf_log_format format;
};

/* An attribute of the OpenTelemetry log records: a fixed name, a value
 * that may hold placeholders. */
struct mf_log_otel_attr {
	__u32 present;
	char key[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

/* Exactly one of endpoint and backend_ref. */
struct mf_log_otel {
	__u32 present;
	__u8 nattributes;
	__u8 _pad[3];
	char endpoint[MF_PATH_MAX];
	/* mf_strings id (0: none) of an OTLP value, a string or one
	 * written as protobuf's JSON writes an AnyValue, in the form
	 * lib/policy/otlpval.h describes. */
	__u32 body;
	struct mf_otel_ref backend_ref;
	struct mf_log_otel_attr attributes[MF_LOG_ATTRS_MAX];
};

/* Exactly one of file, tcp and openTelemetry: they share the storage.
 * `type` is optional (Kuma 2.x writes it, earlier Kumas do not); when set
 * it names the object that is present. */
enum mf_log_backend_type {
	MF_LOG_FILE = 1,
	MF_LOG_TCP,
	MF_LOG_OTEL,
};

struct mf_log_backend {
	__u32 present;
	__u8 type;			/* enum mf_log_backend_type, 0: unset */
	__u8 _pad[3];
	union {
		struct mf_log_file file;
		struct mf_log_tcp tcp;
		struct mf_log_otel open_telemetry;
	};
};

struct mf_log_conf {
	__u32 present;
	__u8 nbackends;
	__u8 _pad[3];
	struct mf_log_backend backends[MF_LOG_BACKENDS_MAX];
};

struct mf_accesslog {
	struct mf_pol_hdr hdr;
	struct mf_log_conf conf;
};

/* ---- MeshTrace --------------------------------------------------------- */
#define MF_TRACE_TAGS_MAX	4

struct mf_trace_zipkin {
	__u32 present;
	__u8 trace_id_128bit;
	__u8 shared_span;
	__u8 api_version;		/* 1 httpJson, 2 httpProto */
	__u8 _pad;
	char url[MF_PATH_MAX];
};

struct mf_trace_datadog {
	__u32 present;
	__u8 split_service;
	__u8 _pad[3];
	char url[MF_PATH_MAX];
};

/* Exactly one of endpoint and backend_ref. */
struct mf_trace_otel {
	__u32 present;
	char endpoint[MF_PATH_MAX];
	struct mf_otel_ref backend_ref;
};

/* Exactly one of zipkin, datadog and openTelemetry; `type` as in
 * mf_log_backend. */
enum mf_trace_backend_type {
	MF_TRACE_ZIPKIN = 1,
	MF_TRACE_DATADOG,
	MF_TRACE_OTEL,
};

struct mf_trace_backend {
	__u32 present;
	__u8 type;			/* enum mf_trace_backend_type, 0: unset */
	__u8 _pad[3];
	union {
		struct mf_trace_zipkin zipkin;
		struct mf_trace_datadog datadog;
		struct mf_trace_otel open_telemetry;
	};
};

struct mf_trace_sampling {
	__u32 present;
	__u32 overall;			/* thousandths of a percent */
	__u32 client;
	__u32 random;
};

struct mf_trace_tag_header {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
	char default_value[MF_HDR_VALUE_MAX];
};

/* Exactly one of literal and header. */
struct mf_trace_tag {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
	char literal[MF_HDR_VALUE_MAX];
	struct mf_trace_tag_header header;
};

struct mf_trace_conf {
	__u32 present;
	__u8 nbackends;			/* Kuma allows at most one */
	__u8 ntags;
	__u8 _pad[2];
	struct mf_trace_backend backends[1];
	struct mf_trace_sampling sampling;
	struct mf_trace_tag tags[MF_TRACE_TAGS_MAX];
};

struct mf_trace {
	struct mf_pol_hdr hdr;
	struct mf_trace_conf conf;
};

/* ---- MeshMetric -------------------------------------------------------- */
#define MF_METRIC_APPS_MAX	4
#define MF_METRIC_BACKENDS_MAX	2
#define MF_METRIC_SELECTORS_MAX	4	/* profiles.include, .exclude */

enum mf_metric_profile_name {
	MF_METRIC_PROFILE_ALL = 1,
	MF_METRIC_PROFILE_BASIC,
	MF_METRIC_PROFILE_NONE,
};

enum mf_metric_backend_type {
	MF_METRIC_PROMETHEUS = 1,
	MF_METRIC_OPENTELEMETRY,
};

struct mf_metric_profile {
	__u32 present;
	__u8 name;			/* enum mf_metric_profile_name */
	__u8 _pad[3];
};

enum mf_metric_selector_type {
	MF_METRIC_SEL_PREFIX = 1,
	MF_METRIC_SEL_REGEX,
	MF_METRIC_SEL_EXACT,
	MF_METRIC_SEL_CONTAINS,
};

/* The metrics whose names match, added to or taken from the profiles. */
struct mf_metric_selector {
	__u32 present;
	__u8 type;			/* enum mf_metric_selector_type */
	__u8 _pad[3];
	char match[MF_HDR_VALUE_MAX];
};

struct mf_metric_profiles {
	__u32 present;
	__u8 nappend_profiles;
	__u8 nexclude;
	__u8 ninclude;
	__u8 _pad;
	struct mf_metric_profile append_profiles[3];
	struct mf_metric_selector exclude[MF_METRIC_SELECTORS_MAX];
	struct mf_metric_selector include[MF_METRIC_SELECTORS_MAX];
};

struct mf_metric_sidecar {
	__u32 present;
	__u8 include_unused;
	__u8 _pad[3];
	struct mf_metric_profiles profiles;
};

struct mf_metric_app {
	__u32 present;
	__u16 port;
	__u16 _pad;
	char name[MF_NAME_MAX];
	char path[MF_PATH_MAX];
	char address[MF_NAME_MAX];
};

enum mf_metric_tls_mode {
	MF_METRIC_TLS_DISABLED = 1,
	MF_METRIC_TLS_PROVIDED,		/* the proxy's own certificate */
	MF_METRIC_TLS_ACTIVE_MTLS,	/* the mesh's mTLS certificate */
};

struct mf_metric_prom_tls {
	__u32 present;
	__u8 mode;			/* enum mf_metric_tls_mode, 0: not
					 * given (Disabled) */
	__u8 _pad[3];
};

struct mf_metric_prometheus {
	__u32 present;
	__u16 port;
	__u16 _pad;
	char client_id[MF_NAME_MAX];
	char path[MF_PATH_MAX];
	struct mf_metric_prom_tls tls;
};

/* Exactly one of endpoint and backend_ref. */
struct mf_metric_otel {
	__u32 present;
	__u32 refresh_interval;
	char endpoint[MF_PATH_MAX];
	struct mf_otel_ref backend_ref;
};

struct mf_metric_backend {
	__u32 present;
	__u8 type;			/* enum mf_metric_backend_type */
	__u8 _pad[3];
	struct mf_metric_prometheus prometheus;
	struct mf_metric_otel open_telemetry;
};

struct mf_metric_conf {
	__u32 present;
	__u8 napplications;
	__u8 nbackends;
	__u8 _pad[2];
	struct mf_metric_sidecar sidecar;
	struct mf_metric_app applications[MF_METRIC_APPS_MAX];
	struct mf_metric_backend backends[MF_METRIC_BACKENDS_MAX];
};

struct mf_metric {
	struct mf_pol_hdr hdr;
	struct mf_metric_conf conf;
};

/* ---- shared HTTP pieces ------------------------------------------------ */
/* A header modifier's set, add and remove lists, each. */
#define MF_HEADERS_MAX		16

/* Names and values are mf_strings ids (abi.h): up to MF_STRING_MAX bytes
 * each, and 12 bytes here. */
struct mf_header_value {
	__u32 present;
	__u32 name;			/* mf_strings id */
	__u32 value;			/* mf_strings id */
};

/* requestHeaderModifier / responseHeaderModifier, and onRateLimit
 * headers. */
struct mf_header_mod {
	__u32 present;
	__u8 nset;
	__u8 nadd;
	__u8 nremove;
	__u8 _pad;
	struct mf_header_value set[MF_HEADERS_MAX];
	struct mf_header_value add[MF_HEADERS_MAX];
	__u32 remove[MF_HEADERS_MAX];	/* mf_strings ids of names */
};

/* A rate: num per interval. */
struct mf_rate {
	__u32 present;
	__u32 num;
	__u32 interval;			/* ms */
};

/* ---- MeshRateLimit ----------------------------------------------------- */
struct mf_mrl_on_limit {
	__u32 present;
	__u32 status;
	struct mf_header_mod headers;
};

struct mf_mrl_http {
	__u32 present;
	__u8 disabled;
	__u8 _pad[3];
	struct mf_rate request_rate;
	struct mf_mrl_on_limit on_rate_limit;
};

struct mf_mrl_tcp {
	__u32 present;
	__u8 disabled;
	__u8 _pad[3];
	struct mf_rate connection_rate;
};

struct mf_mrl_local {
	__u32 present;
	struct mf_mrl_http http;
	struct mf_mrl_tcp tcp;
};

struct mf_mrl_conf {
	__u32 present;
	struct mf_mrl_local local;
};

struct mf_ratelimit {
	struct mf_pol_hdr hdr;
	struct mf_mrl_conf conf;
};

/* ---- MeshHTTPRoute / MeshTCPRoute -------------------------------------- */
/*
 * Every string of a route (match paths, header and query names and
 * values, redirect and rewrite hostnames and paths) is an mf_strings id,
 * up to MF_STRING_MAX bytes: 4 bytes here, so a rule has room for 8
 * matches of 16 headers and 16 query parameters each and 8 filters of 16
 * set, add and remove headers each.  That room makes a record of some 10
 * KiB, more than the 4 KiB of the other kinds; the map is not
 * preallocated, so each record costs what one kernel allocation of that
 * size does (16 KiB) while it exists, and the ceiling is never a cost.
 */
#define MF_ROUTE_MATCHES_MAX	8
#define MF_ROUTE_BACKENDS_MAX	4
#define MF_ROUTE_FILTERS_MAX	8
#define MF_ROUTE_KV_MAX		16	/* a match's headers, query params */

enum mf_path_match {
	MF_PATH_EXACT = 1,
	MF_PATH_PREFIX,			/* PathPrefix */
	MF_PATH_REGEX,			/* RegularExpression */
};

enum mf_value_match {
	MF_MATCH_EXACT = 1,
	MF_MATCH_PRESENT,
	MF_MATCH_REGEX,			/* RegularExpression */
	MF_MATCH_ABSENT,
	MF_MATCH_PREFIX,
};

enum mf_http_method {
	MF_METHOD_CONNECT = 1, MF_METHOD_DELETE, MF_METHOD_GET,
	MF_METHOD_HEAD, MF_METHOD_OPTIONS, MF_METHOD_PATCH, MF_METHOD_POST,
	MF_METHOD_PUT, MF_METHOD_TRACE,
};

struct mf_route_path {
	__u32 present;
	__u8 type;			/* enum mf_path_match */
	__u8 _pad[3];
	__u32 value;			/* mf_strings id */
};

struct mf_route_kv_match {
	__u32 present;
	__u8 type;			/* enum mf_value_match */
	__u8 _pad[3];
	__u32 name;			/* mf_strings id */
	__u32 value;			/* mf_strings id, 0: none (Present,
					 * Absent) */
};

struct mf_route_match {
	__u32 present;
	__u8 method;			/* enum mf_http_method, 0: any */
	__u8 nheaders;
	__u8 nquery_params;
	__u8 _pad;
	struct mf_route_path path;
	struct mf_route_kv_match headers[MF_ROUTE_KV_MAX];
	struct mf_route_kv_match query_params[MF_ROUTE_KV_MAX];
};

/* A backendRefs entry (and requestMirror's backendRef): ref.kind is a
 * destination kind or MeshServiceSubset; a MeshMultiZoneService has a
 * port. */
struct mf_route_backend {
	__u32 present;
	__u32 weight;
	__u16 port;
	__u16 _pad;
	struct mf_ref ref;
};

enum mf_filter_type {
	MF_FILTER_REQUEST_HEADER_MODIFIER = 1,
	MF_FILTER_RESPONSE_HEADER_MODIFIER,
	MF_FILTER_REQUEST_REDIRECT,
	MF_FILTER_URL_REWRITE,
	MF_FILTER_REQUEST_MIRROR,
};

enum mf_path_rewrite {
	MF_REWRITE_FULL_PATH = 1,	/* ReplaceFullPath */
	MF_REWRITE_PREFIX,		/* ReplacePrefixMatch */
};

struct mf_route_path_rewrite {
	__u32 present;
	__u8 type;			/* enum mf_path_rewrite */
	__u8 _pad[3];
	__u32 replace_full_path;	/* mf_strings id */
	__u32 replace_prefix_match;	/* mf_strings id */
};

struct mf_route_redirect {
	__u32 present;
	__u16 port;
	__u16 status_code;
	char scheme[8];
	__u32 hostname;			/* mf_strings id */
	struct mf_route_path_rewrite path;
};

struct mf_route_rewrite {
	__u32 present;
	__u8 host_to_backend_hostname;	/* MeshGateway: the backend's */
	__u8 _pad[3];
	__u32 hostname;			/* mf_strings id */
	struct mf_route_path_rewrite path;
};

struct mf_route_mirror {
	__u32 present;
	__u32 percentage;
	struct mf_route_backend backend_ref;
};

/* `type` names the one filter object present; they share the storage. */
struct mf_route_filter {
	__u32 present;
	__u8 type;			/* enum mf_filter_type */
	__u8 _pad[3];
	union {
		struct mf_header_mod request_header_modifier;
		struct mf_header_mod response_header_modifier;
		struct mf_route_redirect request_redirect;
		struct mf_route_rewrite url_rewrite;
		struct mf_route_mirror request_mirror;
	};
};

struct mf_route_default {
	__u32 present;
	__u8 nfilters;
	__u8 nbackend_refs;
	__u8 _pad[2];
	struct mf_route_filter filters[MF_ROUTE_FILTERS_MAX];
	struct mf_route_backend backend_refs[MF_ROUTE_BACKENDS_MAX];
};

/* One rule of spec.to[hdr.entry].rules (index hdr.rule). */
struct mf_route_rule {
	__u32 present;
	__u8 nmatches;
	__u8 _pad[3];
	struct mf_route_match matches[MF_ROUTE_MATCHES_MAX];
	struct mf_route_default def;	/* YAML: default */
};

/* hdr.rule of the one record of a route's to[] entry that has no rules
 * (its conf is zero). */
#define MF_ROUTE_NO_RULES	0xffff

/* A to[] entry's own keys, the same in every record of the entry: the
 * hostnames a MeshGateway route serves (Kuma 2.14), a short list so the
 * record stays under 4 KiB. */
#define MF_ROUTE_HOSTNAMES_MAX	4
#define MF_ROUTE_HOSTNAME_MAX	96

struct mf_route_entry {
	__u32 present;
	__u8 nhostnames;
	__u8 _pad[3];
	char hostnames[MF_ROUTE_HOSTNAMES_MAX][MF_ROUTE_HOSTNAME_MAX];
};

struct mf_http_route {
	struct mf_pol_hdr hdr;
	struct mf_route_rule rule;
	struct mf_route_entry entry;
};

struct mf_tcp_route_default {
	__u32 present;
	__u8 nbackend_refs;
	__u8 _pad[3];
	struct mf_route_backend backend_refs[MF_ROUTE_BACKENDS_MAX];
};

struct mf_tcp_route_rule {
	__u32 present;
	struct mf_tcp_route_default def;	/* YAML: default */
};

struct mf_tcp_route {
	struct mf_pol_hdr hdr;
	struct mf_tcp_route_rule rule;
};

/* ---- TrafficRoute (legacy) --------------------------------------------- */
#define MF_SPLIT_MAX		8

struct mf_tr_split {
	__u32 present;
	__u32 weight;
	__u32 destination;		/* tagset id */
};

struct mf_tr_empty {
	__u32 present;
};

/* Exactly one of the five. */
struct mf_tr_balancer {
	__u32 present;
	struct mf_tr_empty round_robin;
	struct mf_lb_least_request least_request;
	struct mf_lb_ring_hash ring_hash;
	struct mf_tr_empty random;
	struct mf_lb_maglev maglev;
};

/* ---- conf.http: routes by request, each to its own split or
 * destination. */
#define MF_TR_HTTP_MAX		2	/* routes */
#define MF_TR_HTTP_SPLIT_MAX	4	/* a route's split */
#define MF_TR_HEADERS_MAX	2	/* modify.*Headers add and remove */

/* Present bits of the TrafficRoute objects the data path reads: bit i is
 * field i of the kind's schema (lib/policy/kind_traffic_route.c). */
enum mf_tr_matcher_field { MF_TR_SM_PREFIX, MF_TR_SM_EXACT, MF_TR_SM_REGEX };
enum mf_tr_match_field { MF_TR_M_METHOD, MF_TR_M_PATH, MF_TR_M_HEADERS };
enum mf_tr_http_field {
	MF_TR_H_MATCH, MF_TR_H_MODIFY, MF_TR_H_SPLIT, MF_TR_H_DESTINATION,
};
enum mf_tr_conf_field {
	MF_TR_C_SPLIT, MF_TR_C_DESTINATION, MF_TR_C_BALANCER, MF_TR_C_HTTP,
	MF_TR_C_BALANCER_P,
};

/* Kuma's StringMatcher: exactly one of prefix, exact and regex (present
 * bits 0..2), which share the value. */
struct mf_tr_matcher {
	__u32 present;
	char value[MF_ROUTE_PATH_MAX];
};

/* One entry of match.headers, a map of header names to matchers. */
struct mf_tr_header_match {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
	struct mf_tr_matcher matcher;
};

#define MF_TR_MATCH_HEADERS_MAX	1	/* what the record has room for */

struct mf_tr_match {
	__u32 present;
	__u8 nheaders;
	__u8 _pad[3];
	struct mf_tr_matcher method;
	struct mf_tr_matcher path;
	struct mf_tr_header_match headers[MF_TR_MATCH_HEADERS_MAX];
};

struct mf_tr_regex_replace {
	__u32 present;
	char pattern[MF_ROUTE_PATH_MAX];
	char substitution[MF_ROUTE_PATH_MAX];
};

/* Exactly one of rewritePrefix and regex. */
struct mf_tr_modify_path {
	__u32 present;
	union {
		char rewrite_prefix[MF_ROUTE_PATH_MAX];
		struct mf_tr_regex_replace regex;
	};
};

/* Exactly one of value and fromPath. */
struct mf_tr_modify_host {
	__u32 present;
	union {
		char value[MF_NAME_MAX];
		struct mf_tr_regex_replace from_path;
	};
};

struct mf_tr_header_add {
	__u32 present;
	__u8 append;
	__u8 _pad[3];
	char name[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

struct mf_tr_header_remove {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
};

struct mf_tr_headers {
	__u32 present;
	__u8 nadd;
	__u8 nremove;
	__u8 _pad[2];
	struct mf_tr_header_add add[MF_TR_HEADERS_MAX];
	struct mf_tr_header_remove remove[MF_TR_HEADERS_MAX];
};

struct mf_tr_modify {
	__u32 present;
	struct mf_tr_modify_path path;
	struct mf_tr_modify_host host;
	struct mf_tr_headers request_headers;
	struct mf_tr_headers response_headers;
};

/* Exactly one of split and destination, as in the conf. */
struct mf_tr_http {
	__u32 present;
	__u8 nsplit;
	__u8 _pad[3];
	struct mf_tr_match match;
	struct mf_tr_modify modify;
	struct mf_tr_split split[MF_TR_HTTP_SPLIT_MAX];
	__u32 destination;		/* tagset id */
};

/* loadBalancer and load_balancer (Kuma's proto JSON takes both) share
 * the member; so do the two spellings of the balancers' fields. */
struct mf_tr_conf {
	__u32 present;
	__u8 nsplit;
	__u8 nhttp;
	__u8 _pad[2];
	struct mf_tr_split split[MF_SPLIT_MAX];
	__u32 destination;		/* tagset id */
	struct mf_tr_balancer load_balancer;
	struct mf_tr_http http[MF_TR_HTTP_MAX];
};

struct mf_traffic_route {
	struct mf_pol_hdr hdr;
	struct mf_tr_conf conf;
};

/* ---- RateLimit (legacy) ------------------------------------------------ */
#define MF_RL_HEADERS_MAX	8	/* onRateLimit.headers */

struct mf_rl_header {
	__u32 present;
	__u8 append;
	__u8 _pad[3];
	char key[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

struct mf_rl_on_limit {
	__u32 present;
	__u32 status;
	__u8 nheaders;
	__u8 _pad[3];
	struct mf_rl_header headers[MF_RL_HEADERS_MAX];
};

struct mf_rl_http {
	__u32 present;
	__u32 requests;
	__u32 interval;			/* ms */
	struct mf_rl_on_limit on_rate_limit;
};

/* Without http, Kuma's RateLimit limits nothing. */
struct mf_rl_conf {
	__u32 present;
	struct mf_rl_http http;
};

struct mf_legacy_ratelimit {
	struct mf_pol_hdr hdr;
	struct mf_rl_conf conf;
};

/* ---- MeshGateway ------------------------------------------------------- */
#define MF_GW_LISTENERS_MAX	6
#define MF_GW_CERTS_MAX		2	/* Kuma: an RSA and an ECDSA one */
#define MF_GW_HOSTNAME_MAX	254	/* Kuma's limit: 253 characters */

enum mf_gw_protocol {
	MF_GW_HTTP = 1,
	MF_GW_HTTPS,
	MF_GW_TCP,
	MF_GW_TLS,
};

enum mf_gw_tls_mode {
	MF_GW_TLS_TERMINATE = 1,
	MF_GW_TLS_PASSTHROUGH,
};

/* Kuma's DataSource: exactly one of a secret's name or a file's path
 * (its inline forms hold whole PEM files, more than a record has room
 * for). */
struct mf_gw_cert {
	__u32 present;
	union {
		char secret[MF_NAME_MAX];
		char file[MF_NAME_MAX];
	};
};

struct mf_gw_empty {
	__u32 present;
};

struct mf_gw_tls {
	__u32 present;
	__u8 mode;			/* enum mf_gw_tls_mode, 0: unset */
	__u8 ncertificates;
	__u8 _pad[2];
	struct mf_gw_cert certificates[MF_GW_CERTS_MAX];
	struct mf_gw_empty options;	/* Kuma's has no fields yet */
};

/* connectionLimit, written in either spelling (present bit 0 or 1);
 * 0: no limit. */
struct mf_gw_resources {
	__u32 present;
	__u32 connection_limit;
};

struct mf_gw_listener {
	__u32 present;
	__u16 port;
	__u8 protocol;			/* enum mf_gw_protocol */
	__u8 cross_mesh;		/* served to other meshes, over mTLS */
	__u32 tags;			/* tagset id */
	struct mf_gw_resources resources;
	struct mf_gw_tls tls;
	char hostname[MF_GW_HOSTNAME_MAX];	/* "": any ("*") */
	__u8 _pad2[2];
};

struct mf_gw_conf {
	__u32 present;
	__u8 nlisteners;
	__u8 _pad[3];
	struct mf_gw_listener listeners[MF_GW_LISTENERS_MAX];
};

struct mf_gateway {
	struct mf_pol_hdr hdr;
	__u32 tags;			/* spec.tags: tagset id, 0: none */
	struct mf_gw_conf conf;
};

/* ---- MeshGatewayRoute (legacy) ----------------------------------------- */
/*
 * One record holds the whole route.  The lists have the room real routes
 * need, so the strings that multiply with them (paths, header and query
 * names and values, a header filter's names and values) are mf_strings
 * ids, as MeshHTTPRoute's are: inline, 16 rules of 8 matches of 8 headers
 * and 8 query parameters would be some 500 KiB a record; by id the record
 * is some 66 KiB (kind_mesh_gateway_route.c asserts the bound).
 */
#define MF_GWR_RULES_MAX	16
#define MF_GWR_HOSTNAMES_MAX	8
#define MF_GWR_MATCHES_MAX	8	/* a rule's matches */
#define MF_GWR_HEADERS_MAX	8	/* a match's headers */
#define MF_GWR_QUERY_MAX	8	/* a match's query_parameters */
#define MF_GWR_FILTERS_MAX	8	/* a rule's filters */
#define MF_GWR_HEADER_MODS_MAX	8	/* a header filter's set, add,
					 * remove */
#define MF_GWR_SCHEME_MAX	16

enum mf_gwr_match {
	MF_GWR_EXACT = 1,
	MF_GWR_PREFIX,			/* paths only */
	MF_GWR_REGEX,
	MF_GWR_ABSENT,			/* headers only: no value */
	MF_GWR_PRESENT,			/* headers only: no value */
};

struct mf_gwr_path {
	__u32 present;
	__u8 match;			/* enum mf_gwr_match */
	__u8 _pad[3];
	__u32 value;			/* mf_strings id */
};

/* A header or query parameter match. */
struct mf_gwr_header {
	__u32 present;
	__u8 match;			/* enum mf_gwr_match */
	__u8 _pad[3];
	__u32 name;			/* mf_strings id */
	__u32 value;			/* mf_strings id, 0: none */
};

/* query_parameters and queryParameters (Kuma's proto JSON takes both)
 * share the list. */
struct mf_gwr_match_s {
	__u32 present;
	__u8 method;			/* enum mf_http_method */
	__u8 nheaders;
	__u8 nquery_parameters;
	__u8 _pad;
	struct mf_gwr_path path;
	struct mf_gwr_header headers[MF_GWR_HEADERS_MAX];
	struct mf_gwr_header query_parameters[MF_GWR_QUERY_MAX];
};

struct mf_gwr_backend {
	__u32 present;
	__u32 weight;
	__u32 destination;		/* tagset id */
};

/* request_header and response_header filters: set and add items are
 * MeshHTTPRoute's struct mf_header_value (ids of name and value). */
struct mf_gwr_header_filter {
	__u32 present;
	__u8 nset;
	__u8 nadd;
	__u8 nremove;
	__u8 _pad;
	struct mf_header_value set[MF_GWR_HEADER_MODS_MAX];
	struct mf_header_value add[MF_GWR_HEADER_MODS_MAX];
	__u32 remove[MF_GWR_HEADER_MODS_MAX];	/* mf_strings ids */
};

struct mf_gwr_mirror {
	__u32 present;
	__u32 percentage;		/* thousandths of a percent */
	struct mf_gwr_backend backend;
};

/* A rewrite filter and a redirect's path: replace_full and
 * replace_prefix_match (a oneof, in either spelling) share the path. */
struct mf_gwr_rewrite {
	__u32 present;
	__u8 host_to_backend_hostname;
	__u8 _pad[3];
	char path[MF_ROUTE_PATH_MAX];
};

struct mf_gwr_redirect {
	__u32 present;
	__u32 port;			/* 0: the request's */
	__u32 status_code;		/* 301, 302, 303, 307 or 308 */
	char scheme[MF_GWR_SCHEME_MAX];
	char hostname[MF_NAME_MAX];
	struct mf_gwr_rewrite path;
};

/* Exactly one filter, whose objects share the storage (present bits:
 * schema order, both spellings of the header filters). */
struct mf_gwr_filter {
	__u32 present;
	union {
		struct mf_gwr_header_filter request_header;
		struct mf_gwr_header_filter response_header;
		struct mf_gwr_mirror mirror;
		struct mf_gwr_redirect redirect;
		struct mf_gwr_rewrite rewrite;
	};
};

struct mf_gwr_rule {
	__u32 present;
	__u8 nmatches;
	__u8 nbackends;
	__u8 nfilters;
	__u8 _pad;
	struct mf_gwr_match_s matches[MF_GWR_MATCHES_MAX];
	struct mf_gwr_filter filters[MF_GWR_FILTERS_MAX];
	struct mf_gwr_backend backends[MF_ROUTE_BACKENDS_MAX];
};

struct mf_gwr_http {
	__u32 present;
	__u8 nhostnames;
	__u8 nrules;
	__u8 _pad[2];
	char hostnames[MF_GWR_HOSTNAMES_MAX][MF_NAME_MAX];
	struct mf_gwr_rule rules[MF_GWR_RULES_MAX];
};

struct mf_gwr_tcp_rule {
	__u32 present;
	__u8 nbackends;
	__u8 _pad[3];
	struct mf_gwr_backend backends[MF_ROUTE_BACKENDS_MAX];
};

struct mf_gwr_tcp {
	__u32 present;
	__u8 nrules;
	__u8 _pad[3];
	struct mf_gwr_tcp_rule rules[MF_GWR_RULES_MAX];
};

/* Exactly one of http and tcp, sharing the storage. */
struct mf_gwr_conf {
	__u32 present;
	union {
		struct mf_gwr_http http;
		struct mf_gwr_tcp tcp;
	};
};

struct mf_gateway_route {
	struct mf_pol_hdr hdr;
	struct mf_gwr_conf conf;
};

/* ---- MeshTrafficPermission -------------------------------------------- */
/* The policy as written, one record per `from` entry or per item of a
 * `rules` list (mf_permissions); mf_authz holds what it compiles to. */

/* What a `from` entry's targetRef names. */
enum mf_mtp_peer {
	MF_MTP_SPIFFE_ID = 1,		/* exactly this identity */
	MF_MTP_SPIFFE_PREFIX,		/* identities under this prefix */
	MF_MTP_MESH,			/* every identity of the trust domain */
	/* Kuma 2.14's sources by workload: the identities of the Workloads
	 * they select, as they are when the policy is compiled. */
	MF_MTP_MESH_SUBSET,		/* Workloads with these tags */
	MF_MTP_MESH_SERVICE,		/* the Workloads of a Service */
	MF_MTP_MESH_SERVICE_SUBSET,	/* ... with these tags */
};

struct mf_mtp_peer_ref {		/* from[].targetRef */
	__u32 present;
	__u8 kind;			/* enum mf_mtp_peer */
	char name[MF_SPIFFE_MAX];	/* a SPIFFE ID or prefix, or a
					 * Service's name */
	__u32 tags;			/* mf_tagsets id, 0: none */
};

struct mf_mtp_action {		/* from[].default */
	__u32 present;
	__u8 action;			/* enum mf_authz_action */
};

struct mf_mtp_spiffe {		/* rules[]...[].spiffeID */
	__u32 present;
	__u8 type;			/* enum mf_authz_match */
	char value[MF_SPIFFE_MAX];
};

#define MF_SNI_MAX		256

enum mf_mtp_sni_type {
	MF_MTP_SNI_EXACT = 1,
};

struct mf_mtp_sni {			/* rules[]...[].sni */
	__u32 present;
	__u8 type;			/* enum mf_mtp_sni_type */
	__u8 _pad[3];
	char value[MF_SNI_MAX];
};

/*
 * One rule: a `from` entry {targetRef, default}, or an item {spiffeID} of
 * one of the lists of Kuma's `rules` form, whose action is the list's (in
 * def, which that schema does not show).  The two schemas share the
 * presence bits: a record is of one form (hdr.section says which).
 */
struct mf_mtp_conf {
	__u32 present;
	struct mf_mtp_peer_ref target_ref;	/* from: field 0 */
	struct mf_mtp_action def;		/* from: field 1 */
	struct mf_mtp_spiffe spiffe_id;	/* rules: field 0 */
	struct mf_mtp_sni sni;			/* rules: field 1 */
};

/* conf.present of a `rules` record: which matchers it has. */
#define MF_MTP_ITEM_SPIFFE_ID	(1u << 0)
#define MF_MTP_ITEM_SNI		(1u << 1)

/* hdr.section of a `rules` record; hdr.target is spec.targetRef. */
#define MF_MTP_SEC_RULES MF_SEC_CONF

struct mf_mtp {
	struct mf_pol_hdr hdr;
	struct mf_mtp_conf conf;
};

/* ---- MeshOpenTelemetryBackend ------------------------------------------ */
/* Where the observability kinds' OpenTelemetry backends send (Kuma 2.12
 * on): one record, the spec, without a policy header. */
#define MF_HOST_MAX	128		/* a host name or an IP address */

enum mf_otel_protocol {
	MF_OTEL_GRPC = 1,
	MF_OTEL_HTTP,
};

struct mf_otel_endpoint {
	__u32 present;
	__u16 port;
	__u16 _pad;
	char address[MF_HOST_MAX];
	char path[MF_ROUTE_PATH_MAX];
};

/* 1 + index of the names, as every enum field; 0: left out (Optional,
 * EnvFirst, as Kuma's defaults). */
enum mf_otel_env_mode {
	MF_OTEL_ENV_DISABLED = 1,
	MF_OTEL_ENV_OPTIONAL,
	MF_OTEL_ENV_REQUIRED,
};

enum mf_otel_env_precedence {
	MF_OTEL_ENV_EXPLICIT_FIRST = 1,
	MF_OTEL_ENV_ENV_FIRST,
};

/* allowSignalOverrides' bit in present (false when left out is true). */
#define MF_OTEL_ENV_F_OVERRIDES	2

struct mf_otel_env {
	__u32 present;
	__u8 mode;			/* enum mf_otel_env_mode */
	__u8 precedence;		/* enum mf_otel_env_precedence */
	__u8 allow_signal_overrides;
	__u8 _pad;
};

struct mf_otel_backend {
	__u32 present;
	struct mf_otel_endpoint endpoint;
	__u8 protocol;			/* enum mf_otel_protocol */
	__u8 _pad[3];
	struct mf_otel_env env;
};

/* ---- MeshTLS ----------------------------------------------------------- */
/* The inbound TLS of the targeted proxies: the mTLS mode and, for the whole
 * mesh only, the protocol versions and ciphers.  One record per from[]
 * entry or rules[] item. */
#define MF_TLS_CIPHERS_MAX	16	/* Kuma has six; a list may repeat */

enum mf_tls_version {
	MF_TLS_AUTO = 1,		/* Envoy's default */
	MF_TLS_10,
	MF_TLS_11,
	MF_TLS_12,
	MF_TLS_13,
};

enum mf_tls_cipher {
	MF_TLS_ECDHE_ECDSA_AES128_GCM_SHA256 = 1,
	MF_TLS_ECDHE_ECDSA_AES256_GCM_SHA384,
	MF_TLS_ECDHE_ECDSA_CHACHA20_POLY1305,
	MF_TLS_ECDHE_RSA_AES128_GCM_SHA256,
	MF_TLS_ECDHE_RSA_AES256_GCM_SHA384,
	MF_TLS_ECDHE_RSA_CHACHA20_POLY1305,
};

enum mf_tls_mode {
	MF_TLS_PERMISSIVE = 1,		/* mTLS and plaintext */
	MF_TLS_STRICT,			/* mTLS only */
};

struct mf_tls_versions {
	__u32 present;
	__u8 min;			/* enum mf_tls_version */
	__u8 max;
	__u8 _pad[2];
};

struct mf_tls_conf {
	__u32 present;
	struct mf_tls_versions tls_version;
	__u8 ntls_ciphers;
	__u8 tls_ciphers[MF_TLS_CIPHERS_MAX];	/* enum mf_tls_cipher, in
						 * order of preference */
	__u8 mode;			/* enum mf_tls_mode */
	__u8 _pad[2];
};

struct mf_mesh_tls {
	struct mf_pol_hdr hdr;
	struct mf_tls_conf conf;
};

/* ---- MeshPassthrough --------------------------------------------------- */
/* Which destinations outside the mesh the targeted proxies may reach
 * directly: one record, the default. */
#define MF_PASSTHROUGH_MATCHES_MAX	16

enum mf_passthrough_mode {
	MF_PASSTHROUGH_ALL = 1,		/* every destination */
	MF_PASSTHROUGH_MATCHED,		/* those of appendMatch (Kuma's
					 * default) */
	MF_PASSTHROUGH_NONE,
};

enum mf_passthrough_type {
	MF_PASSTHROUGH_DOMAIN = 1,
	MF_PASSTHROUGH_IP,
	MF_PASSTHROUGH_CIDR,
};

enum mf_passthrough_protocol {
	MF_PASSTHROUGH_TCP = 1,		/* the default */
	MF_PASSTHROUGH_TLS,
	MF_PASSTHROUGH_GRPC,
	MF_PASSTHROUGH_HTTP,
	MF_PASSTHROUGH_HTTP2,
	MF_PASSTHROUGH_MYSQL,
};

struct mf_passthrough_match {
	__u32 present;
	__u8 type;			/* enum mf_passthrough_type */
	__u8 protocol;			/* enum mf_passthrough_protocol */
	__u16 port;			/* 0: every port */
	char value[MF_HOST_MAX];	/* a domain (maybe *.), an IP, a CIDR */
};

struct mf_passthrough_conf {
	__u32 present;
	__u8 passthrough_mode;		/* enum mf_passthrough_mode */
	__u8 nappend_match;
	__u8 _pad[2];
	struct mf_passthrough_match append_match[MF_PASSTHROUGH_MATCHES_MAX];
};

struct mf_passthrough {
	struct mf_pol_hdr hdr;
	struct mf_passthrough_conf conf;
};

/* ---- MeshService ------------------------------------------------------- */
/* A service of the mesh as Kuma 2.9 on has it, the destination targetRefs
 * and backendRefs name: which workloads are its endpoints, its ports and
 * the identities they present.  One record, the spec.  Not the core
 * Service (a VIP and a port, abi.h): MeshService gets its addresses from
 * the control plane. */
#define MF_MSVC_PORTS_MAX	16
#define MF_MSVC_IDENTITIES_MAX	4
#define MF_APP_PROTOCOL_MAX	16	/* grpc, http, http2, tcp as written */

enum mf_msvc_state {
	MF_MSVC_AVAILABLE = 1,
	MF_MSVC_UNAVAILABLE,
};

enum mf_msvc_identity_type {
	MF_MSVC_ID_SERVICE_TAG = 1,	/* a kuma.io/service value (2.14) */
	MF_MSVC_ID_SPIFFE_ID,
};

/* Kuma's LabelSelector. */
struct mf_label_selector {
	__u32 present;
	__u32 match_labels;		/* mf_tagsets id */
};

struct mf_msvc_dp_ref {
	__u32 present;
	char name[MF_NAME_MAX];		/* a Workload (Kuma: Dataplane) */
};

/* Which workloads are the endpoints: at most one of the three. */
struct mf_msvc_selector {
	__u32 present;
	__u32 dataplane_tags;		/* mf_tagsets id (Kuma 2.14) */
	struct mf_msvc_dp_ref dataplane_ref;
	struct mf_label_selector dataplane_labels;
};

struct mf_msvc_port {
	__u32 present;
	__u16 port;
	__u16 _pad;
	char name[MF_SECTION_MAX];	/* what a sectionName names */
	char target_port[MF_SECTION_MAX];	/* a number or a port name */
	/* grpc, http, http2 or tcp in any case, as written (Kuma compares
	 * them lower-cased); "": tcp */
	char app_protocol[MF_APP_PROTOCOL_MAX];
};

struct mf_msvc_identity {
	__u32 present;
	__u8 type;			/* enum mf_msvc_identity_type */
	__u8 _pad[3];
	char value[MF_SPIFFE_MAX];
};

struct mf_mesh_service {
	__u32 present;
	__u8 state;			/* enum mf_msvc_state */
	__u8 nports;
	__u8 nidentities;
	__u8 _pad;
	struct mf_msvc_selector selector;
	struct mf_msvc_port ports[MF_MSVC_PORTS_MAX];
	struct mf_msvc_identity identities[MF_MSVC_IDENTITIES_MAX];
};

/* ---- MeshIdentity ------------------------------------------------------ */
/* How the workloads a selector picks get their identity (Kuma 2.12 on):
 * the SPIFFE ID templates and the provider of their certificates.  One
 * record, the spec. */
#define MF_TEMPLATE_MAX		256	/* a SPIFFE ID part's template */
#define MF_FILE_PATH_MAX	256
#define MF_ENV_NAME_MAX		128
/* An inline secret: a PEM CA certificate or EC key fits, and so do both in
 * one record; larger ones (RSA keys) come from a file, a Secret or an
 * environment variable. */
#define MF_INLINE_MAX		1536

/* Kuma's SecureDataSource types, in its order. */
enum mf_sds_type {
	MF_SDS_FILE = 1,
	MF_SDS_SECRET,
	MF_SDS_ENV_VAR,
	MF_SDS_INSECURE_INLINE,
};

struct mf_sds_file {
	__u32 present;
	char path[MF_FILE_PATH_MAX];
};

struct mf_sds_env_var {
	__u32 present;
	char name[MF_ENV_NAME_MAX];
};

struct mf_sds_inline {
	__u32 present;
	char value[MF_INLINE_MAX];
};

struct mf_sds_secret_ref {
	__u32 present;
	__u8 kind;			/* 1: Secret, the one kind */
	__u8 _pad[3];
	char name[MF_NAME_MAX];
};

/* Where a secret comes from: the object its type names. */
struct mf_secure_data_source {
	__u32 present;
	__u8 type;			/* enum mf_sds_type */
	__u8 _pad[3];
	union {
		struct mf_sds_file file;
		struct mf_sds_env_var env_var;
		struct mf_sds_inline insecure_inline;
		struct mf_sds_secret_ref secret_ref;
	};
};

enum mf_mid_provider_type {
	MF_MID_BUNDLED = 1,
	MF_MID_SPIRE,
	MF_MID_EXTENSION,
};

enum mf_mid_trust_creation {
	MF_MID_TRUST_ENABLED = 1,
	MF_MID_TRUST_DISABLED,
};

struct mf_mid_selector {
	__u32 present;
	struct mf_label_selector dataplane;
};

/* Templates of the trust domain and of the path of the SPIFFE ID. */
struct mf_mid_spiffe_id {
	__u32 present;
	char trust_domain[MF_TEMPLATE_MAX];
	char path[MF_TEMPLATE_MAX];
};

struct mf_mid_autogenerate {
	__u32 present;
	__u8 enabled;
	__u8 _pad[3];
};

struct mf_mid_ca {
	__u32 present;
	struct mf_secure_data_source certificate;
	struct mf_secure_data_source private_key;
};

struct mf_mid_cert_params {
	__u32 present;
	__u32 expiry;			/* ms */
};

/* Certificates the control plane issues: from its own CA (autogenerate)
 * or from the one ca names. */
struct mf_mid_bundled {
	__u32 present;
	__u8 mesh_trust_creation;	/* enum mf_mid_trust_creation */
	__u8 insecure_allow_self_signed;
	__u8 _pad[2];
	struct mf_mid_autogenerate autogenerate;
	struct mf_mid_ca ca;
	struct mf_mid_cert_params certificate_parameters;
};

struct mf_mid_spire_agent {
	__u32 present;
	__u32 timeout;			/* ms */
};

struct mf_mid_spire {
	__u32 present;
	struct mf_mid_spire_agent agent;
};

struct mf_mid_extension {
	__u32 present;
	char name[MF_NAME_MAX];
	__u32 config;			/* mf_strings id: the extension's own
					 * configuration, a JSON value
					 * (otlpval.h's form); kept, never
					 * read */
};

struct mf_mid_provider {
	__u32 present;
	__u8 type;			/* enum mf_mid_provider_type */
	__u8 _pad[3];
	union {				/* the one the type names */
		struct mf_mid_bundled bundled;
		struct mf_mid_spire spire;
		struct mf_mid_extension extension;
	};
};

struct mf_mesh_identity {
	__u32 present;
	struct mf_mid_selector selector;
	struct mf_mid_spiffe_id spiffe_id;
	struct mf_mid_provider provider;
};

/* ---- MeshTrust --------------------------------------------------------- */
/* The CA certificates a trust domain's identities are checked against
 * (Kuma 2.12 on).  One record, the spec.  Two bundles of a PEM
 * certificate each (0.6 to 1.5 KiB) keep it under 4 KiB. */
#define MF_TRUST_DOMAIN_MAX	254	/* Kuma's 253 characters */
#define MF_KRI_MAX		128
#define MF_CA_BUNDLES_MAX	2
#define MF_PEM_MAX		1800

enum mf_ca_bundle_type {
	MF_CA_BUNDLE_PEM = 1,
};

struct mf_mtrust_origin {
	__u32 present;
	char kri[MF_KRI_MAX];		/* the MeshIdentity that made it */
};

struct mf_pem {
	__u32 present;
	char value[MF_PEM_MAX];
};

struct mf_ca_bundle {
	__u32 present;
	__u8 type;			/* enum mf_ca_bundle_type */
	__u8 _pad[3];
	struct mf_pem pem;
};

struct mf_mesh_trust {
	__u32 present;
	__u8 nca_bundles;
	__u8 _pad[3];
	struct mf_mtrust_origin origin;	/* Kuma 2.14, deprecated there */
	char trust_domain[MF_TRUST_DOMAIN_MAX];
	__u8 _pad2[2];
	struct mf_ca_bundle ca_bundles[MF_CA_BUNDLES_MAX];
};

/* ---- MeshExternalService ----------------------------------------------- */
/* A destination outside the mesh (Kuma 2.9 on): the port and protocol its
 * callers use, the endpoints behind it and the TLS the proxy originates to
 * them.  One record, the spec, without a policy header. */
#define MF_MES_ENDPOINTS_MAX	8
#define MF_MES_SANS_MAX		4
#define MF_MES_SAN_MAX		128	/* a subjectAltName to match */
#define MF_MES_EXT_TYPE_MAX	64	/* extension.type */
/* caCert written inline (PEM, or its base64 with Kuma 2.14's `inline`):
 * up to 2047 characters, so that the record stays under 4 KiB; a longer
 * one comes from a Secret. */
#define MF_MES_INLINE_MAX	2048

enum mf_mes_protocol {
	MF_MES_TCP = 1,
	MF_MES_GRPC,
	MF_MES_HTTP,
	MF_MES_HTTP2,
};

struct mf_mes_match {
	__u32 present;
	__u8 type;			/* HostnameGenerator */
	__u8 protocol;			/* enum mf_mes_protocol, 0: tcp */
	__u16 port;
};

/* Extensions are Kuma control-plane plugins; meshforge keeps their type
 * and an empty config, as it runs none. */
struct mf_mes_ext_config {
	__u32 present;
};

struct mf_mes_extension {
	__u32 present;
	struct mf_mes_ext_config config;
	char type[MF_MES_EXT_TYPE_MAX];
};

struct mf_mes_endpoint {
	__u32 present;
	__u16 port;
	__u8 priority;			/* 0..128, 0 first */
	__u8 _pad;
	char address[MF_HOST_MAX];	/* an IP address or a host name */
};

enum mf_mes_tls_ver {
	MF_MES_TLS_AUTO = 1,
	MF_MES_TLS_10,
	MF_MES_TLS_11,
	MF_MES_TLS_12,
	MF_MES_TLS_13,
};

struct mf_mes_tls_version {
	__u32 present;
	__u8 min;			/* enum mf_mes_tls_ver */
	__u8 max;
	__u8 _pad[2];
};

struct mf_mes_san {
	__u32 present;
	__u8 type;			/* Exact, Prefix; 0: Exact */
	__u8 _pad[3];
	char value[MF_MES_SAN_MAX];
};

/* Kuma 3.0's SecureDataSource parts.  File and EnvVar are refused (a
 * MeshExternalService may not make the host read its files or its
 * environment, as in Kuma); their objects are read only so that the type
 * is what gets reported. */
struct mf_mes_secret_ref {
	__u32 present;
	__u8 kind;			/* Secret */
	__u8 _pad[3];
	char name[MF_NAME_MAX];
};

struct mf_mes_insecure_inline {
	__u32 present;
	char value[MF_MES_INLINE_MAX];
};

struct mf_mes_file {
	__u32 present;
	char path[MF_NAME_MAX];
};

struct mf_mes_env_var {
	__u32 present;
	char name[MF_NAME_MAX];
};

/*
 * Where a certificate comes from: Kuma 2.14's {secret | inline (base64) |
 * inlineString} or Kuma 3.0's {type: Secret, secretRef} / {type:
 * InsecureInline, insecureInline}; exactly one of them, so they share the
 * storage.  The CA may be inline; the client certificate and key come
 * from a Secret (struct mf_mes_key_source), which keeps the record under
 * 4 KiB and private keys out of the maps.
 */
enum mf_mes_source_type {
	MF_MES_SRC_SECRET = 1,
	MF_MES_SRC_INSECURE_INLINE,
};

struct mf_mes_ca_source {
	__u32 present;
	__u8 type;			/* enum mf_mes_source_type, 0: 2.14 */
	__u8 _pad[3];
	union {
		char secret[MF_NAME_MAX];
		struct mf_mes_secret_ref secret_ref;
		struct mf_mes_file file;
		struct mf_mes_env_var env_var;
		char inline_base64[MF_MES_INLINE_MAX];
		char inline_string[MF_MES_INLINE_MAX];
		struct mf_mes_insecure_inline insecure_inline;
	};
};

struct mf_mes_key_source {
	__u32 present;
	__u8 type;			/* MF_MES_SRC_SECRET, 0: 2.14 */
	__u8 _pad[3];
	union {
		char secret[MF_NAME_MAX];
		struct mf_mes_secret_ref secret_ref;
		struct mf_mes_file file;
		struct mf_mes_env_var env_var;
	};
};

enum mf_mes_verification_mode {
	MF_MES_SKIP_SAN = 1,
	MF_MES_SKIP_CA,
	MF_MES_SECURED,
	MF_MES_SKIP_ALL,
};

struct mf_mes_verification {
	__u32 present;
	__u8 mode;			/* enum mf_mes_verification_mode, 0:
					 * Secured */
	__u8 nsubject_alt_names;
	__u8 _pad[2];
	char server_name[MF_HOST_MAX];
	struct mf_mes_san subject_alt_names[MF_MES_SANS_MAX];
	struct mf_mes_ca_source ca_cert;
	struct mf_mes_key_source client_cert;
	struct mf_mes_key_source client_key;
};

struct mf_mes_tls {
	__u32 present;
	__u8 enabled;
	__u8 allow_renegotiation;
	__u8 _pad[2];
	struct mf_mes_tls_version version;
	struct mf_mes_verification verification;
};

struct mf_mesh_external_service {
	__u32 present;
	struct mf_mes_match match;
	struct mf_mes_extension extension;
	__u8 nendpoints;
	__u8 _pad[3];
	struct mf_mes_endpoint endpoints[MF_MES_ENDPOINTS_MAX];
	struct mf_mes_tls tls;
};

/* ---- MeshMultiZoneService ---------------------------------------------- */
/* One service over the MeshServices of several zones (Kuma 2.9 on),
 * selected by their labels.  One record, the spec. */
#define MF_MZS_PORTS_MAX	16

enum mf_mzs_protocol {
	MF_MZS_GRPC = 1,
	MF_MZS_HTTP,
	MF_MZS_HTTP2,
	MF_MZS_KAFKA,			/* Kuma 2.14; 3.0 dropped it */
	MF_MZS_TCP,
};

struct mf_mzs_mesh_service {
	__u32 present;
	__u32 match_labels;		/* mf_tagsets id */
};

struct mf_mzs_selector {
	__u32 present;
	struct mf_mzs_mesh_service mesh_service;
};

struct mf_mzs_port {
	__u32 present;
	__u16 port;
	__u8 app_protocol;		/* enum mf_mzs_protocol, 0: tcp */
	__u8 _pad;
	char name[MF_SECTION_MAX];	/* what a sectionName names */
};

/* A MeshService the selector picks, at one port of the multi-zone
 * service that it has too. */
#define MF_MZS_MEMBERS_MAX	32

struct mf_mzs_member {
	__u32 service_id;		/* its mf_services id */
	__u16 port;			/* the port, of both */
	__u16 _pad;
};

struct mf_mesh_multi_zone_service {
	__u32 present;
	struct mf_mzs_selector selector;
	__u8 nports;
	__u8 _pad[3];
	struct mf_mzs_port ports[MF_MZS_PORTS_MAX];
	/* Not written but compiled, by mfctl (mesh_service.h), for the
	 * agents, which know no labels: in a single zone its endpoints are
	 * those of these MeshServices.  By port in the order of @ports, then
	 * by MeshService name.  No schema field: `mfctl get` does not print
	 * them, apply compiles them again. */
	__u8 nmembers;
	__u8 _pad2[3];
	struct mf_mzs_member members[MF_MZS_MEMBERS_MAX];
};

/* ---- Dataplane --------------------------------------------------------- */
/* Kuma's universal Dataplane: a proxy, the workload next to it and what it
 * reaches (Kuma 2.14 and 3.0's shape).  One record, the spec, without a
 * policy header.  Lists are bounded to keep it under 4 KiB. */
#define MF_DP_IP_MAX		46	/* an IP address (v6: 45) */
#define MF_DP_HOST_MAX		64	/* an IP address or DNS name */
#define MF_DP_INBOUNDS_MAX	4
#define MF_DP_OUTBOUNDS_MAX	8
#define MF_DP_SERVICES_MAX	4	/* *Services lists of tproxy */
#define MF_DP_REFS_MAX		4	/* reachableBackends.refs */
#define MF_DP_LISTENERS_MAX	2
#define MF_DP_PROBES_MAX	2	/* probes.endpoints */
#define MF_DP_AGGREGATES_MAX	2	/* metrics.conf.aggregate */
#define MF_DP_PATH_MAX		64	/* probe and metrics paths */
#define MF_DP_PROTOCOL_MAX	8	/* "http2" */

/* backendRef and reachableBackends kinds. */
enum mf_dp_ref_kind {
	MF_DP_REF_MESH_SERVICE = 1,
	MF_DP_REF_MESH_EXTERNAL_SERVICE,
	MF_DP_REF_MESH_MULTI_ZONE_SERVICE,
};

enum mf_dp_gateway_type {
	MF_DP_GATEWAY_DELEGATED = 1,
	MF_DP_GATEWAY_BUILTIN,		/* Kuma 2.x only */
};

enum mf_dp_listener_type {
	MF_DP_LISTENER_ZONE_INGRESS = 1,
	MF_DP_LISTENER_ZONE_EGRESS,
};

struct mf_dp_health {
	__u32 present;
	__u8 ready;
	__u8 _pad[3];
};

struct mf_dp_empty {
	__u32 present;
};

struct mf_dp_service_probe {
	__u32 present;
	__u32 interval;			/* ms */
	__u32 timeout;			/* ms */
	__u32 unhealthy_threshold;
	__u32 healthy_threshold;
	struct mf_dp_empty tcp;
};

struct mf_dp_inbound {
	__u32 present;
	__u16 port;			/* the proxy's */
	__u16 service_port;		/* the workload's; 0: port */
	char service_address[MF_DP_IP_MAX];	/* "": the proxy's address */
	char address[MF_DP_IP_MAX];	/* "": networking.address */
	__u32 tags;			/* mf_tagsets id (Kuma 2.x) */
	char name[MF_SECTION_MAX];	/* what a sectionName selects */
	char protocol[MF_DP_PROTOCOL_MAX];
	struct mf_dp_health health;
	struct mf_dp_service_probe service_probe;
	__u8 state;			/* Ready, NotReady, Ignored */
	__u8 _pad[3];
};

struct mf_dp_backend_ref {
	__u32 present;
	__u8 kind;			/* enum mf_dp_ref_kind */
	__u8 _pad;
	__u16 port;
	char name[MF_NAME_MAX];
	__u32 labels;			/* mf_tagsets id, 0: none */
};

struct mf_dp_outbound {
	__u32 present;
	__u16 port;
	char address[MF_DP_IP_MAX];	/* "": 127.0.0.1 */
	__u32 tags;			/* Kuma 2.x: kuma.io/service... */
	struct mf_dp_backend_ref backend_ref;
};

struct mf_dp_gateway {
	__u32 present;
	__u32 tags;			/* mf_tagsets id */
	__u8 type;			/* enum mf_dp_gateway_type */
	__u8 _pad[3];
};

struct mf_dp_reachable_ref {
	__u32 present;
	__u8 kind;			/* enum mf_dp_ref_kind */
	__u8 _pad;
	__u16 port;
	char name[MF_NAME_MAX];
	char namespace[MF_NAME_MAX];
	__u32 labels;			/* mf_tagsets id, 0: none */
};

struct mf_dp_reachable_backends {
	__u32 present;
	__u8 nrefs;
	__u8 _pad[3];
	struct mf_dp_reachable_ref refs[MF_DP_REFS_MAX];
};

struct mf_dp_tproxy {
	__u32 present;
	__u16 redirect_port_inbound;
	__u16 redirect_port_outbound;
	__u8 ip_family_mode;		/* UnSpecified, DualStack... */
	__u8 ndirect_access_services;
	__u8 nreachable_services;
	__u8 _pad;
	char direct_access_services[MF_DP_SERVICES_MAX][MF_TAG_VALUE_MAX];
	char reachable_services[MF_DP_SERVICES_MAX][MF_TAG_VALUE_MAX];
	struct mf_dp_reachable_backends reachable_backends;
};

struct mf_dp_admin {
	__u32 present;
	__u16 port;
	__u16 _pad;
};

struct mf_dp_listener {
	__u32 present;
	__u8 type;			/* enum mf_dp_listener_type */
	__u8 state;			/* Ready, NotReady */
	__u16 port;
	char address[MF_DP_HOST_MAX];
	char name[MF_SECTION_MAX];
};

struct mf_dp_networking {
	__u32 present;
	char address[MF_DP_HOST_MAX];
	char advertised_address[MF_DP_HOST_MAX];	/* Kuma 2.x */
	__u8 ninbound;
	__u8 noutbound;
	__u8 nlisteners;
	__u8 _pad;
	struct mf_dp_inbound inbound[MF_DP_INBOUNDS_MAX];
	struct mf_dp_outbound outbound[MF_DP_OUTBOUNDS_MAX];
	struct mf_dp_gateway gateway;
	struct mf_dp_tproxy transparent_proxying;
	struct mf_dp_admin admin;
	struct mf_dp_listener listeners[MF_DP_LISTENERS_MAX];
};

/* Kuma 2.x: application endpoints served without mTLS. */
struct mf_dp_probe_endpoint {
	__u32 present;
	__u16 inbound_port;
	__u16 _pad;
	char inbound_path[MF_DP_PATH_MAX];
	char path[MF_DP_PATH_MAX];
};

struct mf_dp_probes {
	__u32 present;
	__u16 port;
	__u8 nendpoints;
	__u8 _pad;
	struct mf_dp_probe_endpoint endpoints[MF_DP_PROBES_MAX];
};

/* Kuma 2.x: the proxy's Prometheus settings over the Mesh's. */
struct mf_dp_aggregate {
	__u32 present;
	__u16 port;
	__u8 enabled;
	__u8 _pad;
	char name[MF_SECTION_MAX];
	char path[MF_DP_PATH_MAX];
	char address[MF_DP_IP_MAX];
	__u8 _pad2[2];
};

struct mf_dp_prom_envoy {
	__u32 present;
	__u8 used_only;
	__u8 _pad[3];
	char filter_regex[MF_DP_PATH_MAX];
};

struct mf_dp_prom_tls {
	__u32 present;
	__u8 mode;		/* activeMTLSBackend, providedTLS, disabled */
	__u8 _pad[3];
};

struct mf_dp_prom_conf {
	__u32 present;
	__u16 port;
	__u8 skip_mtls;
	__u8 naggregate;
	char path[MF_DP_PATH_MAX];
	__u32 tags;			/* mf_tagsets id */
	struct mf_dp_aggregate aggregate[MF_DP_AGGREGATES_MAX];
	struct mf_dp_prom_envoy envoy;
	struct mf_dp_prom_tls tls;
};

struct mf_dp_metrics {
	__u32 present;
	char name[MF_SECTION_MAX];
	__u8 type;			/* prometheus */
	__u8 _pad[3];
	struct mf_dp_prom_conf conf;
};

struct mf_dataplane {
	__u32 present;
	struct mf_dp_networking networking;
	struct mf_dp_metrics metrics;
	struct mf_dp_probes probes;
};

#endif /* MESHFORGE_ABI_POLICY_H */
