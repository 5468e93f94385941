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
 *    the map memory has to stay in tens of MiB.
 */
#ifndef MESHFORGE_ABI_POLICY_H
#define MESHFORGE_ABI_POLICY_H

/* Records per kind map and half; routes get more (10k routes, several
 * rules each). */
#define MF_MAX_POLICY_RECORDS	4096
#define MF_MAX_ROUTE_RECORDS	32768

#define MF_SELECTORS_MAX	4	/* legacy sources/destinations/selectors */
#define MF_HDR_NAME_MAX		40	/* HTTP header and query names */
#define MF_HDR_VALUE_MAX	64	/* HTTP header and query values */
#define MF_ROUTE_PATH_MAX	100	/* route match paths */

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
/* http.retryOn, as bits in this order. */
enum mf_retry_on {
	MF_RETRY_5XX = 1u << 0,
	MF_RETRY_GATEWAY_ERROR = 1u << 1,
	MF_RETRY_RESET = 1u << 2,
	MF_RETRY_RETRIABLE_4XX = 1u << 3,
	MF_RETRY_CONNECT_FAILURE = 1u << 4,
	MF_RETRY_ENVOY_RATELIMITED = 1u << 5,
	MF_RETRY_REFUSED_STREAM = 1u << 6,
	MF_RETRY_HTTP3_POST_CONNECT_FAILURE = 1u << 7,
	MF_RETRY_METHOD_CONNECT = 1u << 8,
	MF_RETRY_METHOD_DELETE = 1u << 9,
	MF_RETRY_METHOD_GET = 1u << 10,
	MF_RETRY_METHOD_HEAD = 1u << 11,
	MF_RETRY_METHOD_OPTIONS = 1u << 12,
	MF_RETRY_METHOD_PATCH = 1u << 13,
	MF_RETRY_METHOD_POST = 1u << 14,
	MF_RETRY_METHOD_PUT = 1u << 15,
	MF_RETRY_METHOD_TRACE = 1u << 16,
};

struct mf_retry_backoff {
	__u32 present;
	__u32 base_interval;
	__u32 max_interval;
};

struct mf_retry_http {
	__u32 present;
	__u32 num_retries;
	__u32 per_try_timeout;
	__u32 retry_on;			/* enum mf_retry_on bits */
	struct mf_retry_backoff back_off;
};

struct mf_retry_tcp {
	__u32 present;
	__u32 max_connect_attempt;
};

struct mf_retry_conf {
	__u32 present;
	struct mf_retry_tcp tcp;
	struct mf_retry_http http;
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

struct mf_hc_http {
	__u32 present;
	__u8 disabled;
	__u8 nexpected_statuses;
	__u16 _pad;
	char path[MF_PATH_MAX];
	__u16 expected_statuses[MF_STATUSES_MAX];
};

struct mf_hc_tcp {
	__u32 present;
	__u8 disabled;
	__u8 nreceive;
	__u16 _pad;
	char send[MF_NAME_MAX];		/* base64, as Kuma writes it */
	char receive[2][MF_NAME_MAX];
};

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

/* ---- MeshAccessLog ----------------------------------------------------- */
#define MF_LOG_BACKENDS_MAX	2
#define MF_LOG_JSON_MAX		4
#define MF_LOG_PLAIN_MAX	192

enum mf_log_format_type {
	MF_LOG_PLAIN = 1,
	MF_LOG_JSON,
};

struct mf_log_json_field {
	__u32 present;
	char key[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

struct mf_log_format {
	__u32 present;
	__u8 type;			/* enum mf_log_format_type */
	__u8 omit_empty_values;
	__u8 njson;
	__u8 _pad;
	char plain[MF_LOG_PLAIN_MAX];
	struct mf_log_json_field json[MF_LOG_JSON_MAX];
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

struct mf_log_otel {
	__u32 present;
	char endpoint[MF_PATH_MAX];
	char body[MF_LOG_PLAIN_MAX];
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

struct mf_trace_otel {
	__u32 present;
	char endpoint[MF_PATH_MAX];
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

struct mf_metric_profiles {
	__u32 present;
	__u8 nappend_profiles;
	__u8 _pad[3];
	struct mf_metric_profile append_profiles[3];
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

struct mf_metric_prometheus {
	__u32 present;
	__u16 port;
	__u16 _pad;
	char client_id[MF_NAME_MAX];
	char path[MF_PATH_MAX];
};

struct mf_metric_otel {
	__u32 present;
	__u32 refresh_interval;
	char endpoint[MF_PATH_MAX];
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
#define MF_HEADERS_MAX		2

struct mf_header_value {
	__u32 present;
	char name[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
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
	char remove[MF_HEADERS_MAX][MF_HDR_NAME_MAX];
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
#define MF_ROUTE_MATCHES_MAX	2
#define MF_ROUTE_BACKENDS_MAX	4
#define MF_ROUTE_FILTERS_MAX	2

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
	char value[MF_ROUTE_PATH_MAX];
};

struct mf_route_kv_match {
	__u32 present;
	__u8 type;			/* enum mf_value_match */
	__u8 _pad[3];
	char name[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

struct mf_route_match {
	__u32 present;
	__u8 method;			/* enum mf_http_method, 0: any */
	__u8 nheaders;
	__u8 nquery_params;
	__u8 _pad;
	struct mf_route_path path;
	struct mf_route_kv_match headers[MF_HEADERS_MAX];
	struct mf_route_kv_match query_params[1];
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
	char replace_full_path[MF_ROUTE_PATH_MAX];
	char replace_prefix_match[MF_ROUTE_PATH_MAX];
};

struct mf_route_redirect {
	__u32 present;
	__u16 port;
	__u16 status_code;
	char scheme[8];
	char hostname[MF_NAME_MAX];
	struct mf_route_path_rewrite path;
};

struct mf_route_rewrite {
	__u32 present;
	__u8 host_to_backend_hostname;	/* MeshGateway: the backend's */
	__u8 _pad[3];
	char hostname[MF_NAME_MAX];
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

struct mf_tr_conf {
	__u32 present;
	__u8 nsplit;
	__u8 _pad[3];
	struct mf_tr_split split[MF_SPLIT_MAX];
	__u32 destination;		/* tagset id */
	struct mf_tr_balancer load_balancer;
};

struct mf_traffic_route {
	struct mf_pol_hdr hdr;
	struct mf_tr_conf conf;
};

/* ---- RateLimit (legacy) ------------------------------------------------ */
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
	struct mf_rl_header headers[MF_HEADERS_MAX];
};

struct mf_rl_http {
	__u32 present;
	__u32 requests;
	__u32 interval;			/* ms */
	struct mf_rl_on_limit on_rate_limit;
};

struct mf_rl_conf {
	__u32 present;
	struct mf_rl_http http;
};

struct mf_legacy_ratelimit {
	struct mf_pol_hdr hdr;
	struct mf_rl_conf conf;
};

/* ---- MeshGateway ------------------------------------------------------- */
#define MF_GW_LISTENERS_MAX	4

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

struct mf_gw_cert {
	__u32 present;
	char secret[MF_NAME_MAX];
};

struct mf_gw_tls {
	__u32 present;
	__u8 mode;			/* enum mf_gw_tls_mode */
	__u8 ncertificates;
	__u8 _pad[2];
	struct mf_gw_cert certificates[2];
};

struct mf_gw_listener {
	__u32 present;
	__u16 port;
	__u8 protocol;			/* enum mf_gw_protocol */
	__u8 _pad;
	char hostname[MF_NAME_MAX];
	__u32 tags;			/* tagset id */
	struct mf_gw_tls tls;
};

struct mf_gw_conf {
	__u32 present;
	__u8 nlisteners;
	__u8 _pad[3];
	struct mf_gw_listener listeners[MF_GW_LISTENERS_MAX];
};

struct mf_gateway {
	struct mf_pol_hdr hdr;
	struct mf_gw_conf conf;
};

/* ---- MeshGatewayRoute (legacy) ----------------------------------------- */
#define MF_GWR_RULES_MAX	2

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
	char value[MF_ROUTE_PATH_MAX];
};

struct mf_gwr_header {
	__u32 present;
	__u8 match;			/* enum mf_gwr_match */
	__u8 _pad[3];
	char name[MF_HDR_NAME_MAX];
	char value[MF_HDR_VALUE_MAX];
};

struct mf_gwr_match_s {
	__u32 present;
	__u8 method;			/* enum mf_http_method */
	__u8 nheaders;
	__u8 _pad[2];
	struct mf_gwr_path path;
	struct mf_gwr_header headers[MF_HEADERS_MAX];
};

struct mf_gwr_backend {
	__u32 present;
	__u32 weight;
	__u32 destination;		/* tagset id */
};

struct mf_gwr_rule {
	__u32 present;
	__u8 nmatches;
	__u8 nbackends;
	__u8 _pad[2];
	struct mf_gwr_match_s matches[MF_ROUTE_MATCHES_MAX];
	struct mf_gwr_backend backends[MF_ROUTE_BACKENDS_MAX];
};

struct mf_gwr_http {
	__u32 present;
	__u8 nhostnames;
	__u8 nrules;
	__u8 _pad[2];
	char hostnames[2][MF_NAME_MAX];
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

/* Exactly one of http and tcp. */
struct mf_gwr_conf {
	__u32 present;
	struct mf_gwr_http http;
	struct mf_gwr_tcp tcp;
};

struct mf_gateway_route {
	struct mf_pol_hdr hdr;
	struct mf_gwr_conf conf;
};

#endif /* MESHFORGE_ABI_POLICY_H */
