/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between bpf/, agent/ and ctl/: the node-local policy map.
 *
 * Every map is pinned by name under the pin root (MF_PIN_ROOT_DEFAULT unless
 * overridden) and carries BTF, so `bpftool map dump pinned <root>/<map>`
 * shows decoded keys and values.  Only fixed-width types appear here.
 *
 * Conventions:
 *  - IPv4 addresses are stored as 4 bytes in network order (__u8[4]) so the
 *    kernel can memcpy them straight from the header and bpftool prints them
 *    as four readable octets.
 *  - Ports are stored in host order.
 *  - Strings are NUL-terminated and NUL-padded to their full size, so a record
 *    compares equal byte for byte when its content is equal.
 */
#ifndef MESHFORGE_ABI_H
#define MESHFORGE_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define MF_PIN_ROOT_DEFAULT	"/sys/fs/bpf/meshforge"
#define MF_CONFIG_DIR_DEFAULT	"/etc/meshforge"
#define MF_RUN_DIR_DEFAULT	"/run/meshforge"
#define MF_STATE_DIR_DEFAULT	"/var/lib/meshforge"

/* Where the agent's TC filters sit on a pod interface's clsact ingress and
 * egress hooks: `mfctl uninstall` finds them there. */
#define MF_TC_HANDLE		0x6d66	/* "mf" */
#define MF_TC_PRIORITY		1

#define MF_PORT_ADMIN		15000
#define MF_PORT_OUTBOUND	15001
#define MF_PORT_TUNNEL		15008

#define MF_NAME_MAX		64	/* object names, node names, trust domain */
#define MF_SPIFFE_MAX		256	/* a SPIFFE ID, "spiffe://" included */

/* Map names: the pinned file name is the map name.  The policy maps are
 * named in policy_maps.h. */
#define MF_MAP_CONFIG		"mf_config"
#define MF_MAP_STATS		"mf_stats"

/*
 * Capacities.  A full map is an error mfctl reports, never an eviction.
 * Sized for 10k services and 100k workloads with room to spare; the large
 * hashes are not preallocated (bpf/lib/maps.h), so their memory follows the
 * entries, and these are ceilings, not costs.
 */
#define MF_MAX_SERVICES		16384
#define MF_MAX_ENDPOINTS	131072
#define MF_MAX_NODES		1024
#define MF_MAX_IDENTITIES	131072
#define MF_MAX_AUTHZ		65536
#define MF_MAX_GW_INSTANCES	256

/* mf_config: a single-entry array (key 0) describing the applied policy. */
#define MF_MTLS_BACKENDS_MAX	4
#define MF_PATH_MAX		128	/* file paths, URLs, HTTP paths */

enum mf_mtls_backend_type {
	MF_MTLS_BUILTIN = 1,		/* the mesh CA `mfctl ca init` made */
	MF_MTLS_PROVIDED = 2,		/* a CA certificate and key from files */
};

enum mf_mtls_mode {
	MF_MTLS_STRICT = 1,		/* only mTLS from mesh identities */
	MF_MTLS_PERMISSIVE = 2,		/* mTLS and plaintext both accepted */
};

/*
 * The socket mark of the agent's own connections to pods (SO_MARK): what
 * the pods' TC egress program knows "from the node's agent" by.  Setting a
 * mark takes CAP_NET_ADMIN, which pods do not have.
 */
#define MF_SKB_MARK_AGENT	0x6d660001u

/*
 * The mark the pods' TC ingress program puts on a pod's packet that it
 * hands to the agent for a MeshPassthrough Domain match (mf_config
 * pt_dom_*): the destination is outside the mesh, so no route makes it
 * local.  The node routes packets with this mark locally, as TPROXY
 * setups do:
 *   ip rule add fwmark 0x6d660002 lookup 0x6d66
 *   ip route add local 0.0.0.0/0 dev lo table 0x6d66
 *   ip -6 rule add fwmark 0x6d660002 lookup 0x6d66
 *   ip -6 route add local ::/0 dev lo table 0x6d66
 * (scripts/testbed.sh; docs/policy.md).  Without them the stack forwards
 * the packet and drops it for the socket it was assigned.
 */
#define MF_SKB_MARK_PASSTHROUGH	0x6d660002u
#define MF_PT_ROUTE_TABLE	0x6d66

/*
 * mf_pt6_clients (LRU hash, MF_PT6_CLIENTS_MAX): which pod an IPv6
 * connection comes from that the pods' TC ingress program hands to the
 * agent for a MeshPassthrough Domain match.  The mesh knows its workloads
 * by their IPv4 addresses, the program knows the pod by its veth: on the
 * SYN it steers to the agent's listener it writes the IPv4 address that
 * veth was last seen with (the pod's own, checked against the routes),
 * keyed by the connection's 4-tuple as the agent sees it once accepted
 * (its peer, its local address: the original destination).  The agent
 * takes (looks up and deletes) it on accept and judges the name by that
 * workload's MeshPassthroughs; without one, by the Mesh-wide ones.
 */
#define MF_PT6_CLIENTS_MAX	16384

struct mf_pt6_key {
	__u8 client[16];		/* the pod's IPv6 address */
	__u8 dst[16];			/* the original destination */
	__u16 client_port;		/* host order */
	__u16 dst_port;
};

struct mf_pt6_client {
	__u8 pod[4];			/* its IPv4 address, network order */
};


/*
 * mf_pod_flows (LRU hash, MF_POD_FLOWS_MAX): the TCP connections and UDP
 * flows pods opened, recorded by the pods' TC ingress program from their
 * first packet (a SYN, a datagram), keyed from the pod's side; the TC
 * egress program (traffic towards a pod) lets their return traffic in
 * whatever the mTLS mode.  Value: the jiffies of the last record.
 */
#define MF_POD_FLOWS_MAX	65536

struct mf_flow_key {
	__u8 pod[4];			/* network order */
	__u8 peer[4];
	__u16 pod_port;			/* network order */
	__u16 peer_port;
	__u8 proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 _pad[3];
};

/*
 * mf_plaintext (LRU per-CPU hash, MF_PLAINTEXT_MAX): plaintext towards
 * pods that nothing admitted (not the agent's, no return traffic, no
 * exempt source), per source, destination, port and what was done with
 * it: what PERMISSIVE let through, which STRICT would drop, and what
 * STRICT dropped.  Value: packets.
 */
#define MF_PLAINTEXT_MAX	16384

/*
 * mf_conn_buckets (LRU hash, MF_CONN_BUCKETS_MAX): the connection-rate
 * bucket of each source pod and service (VIP:port) that a MeshRateLimit
 * limits; value: the bucket's theoretical arrival time (GCRA, ns of
 * CLOCK_MONOTONIC).  A flood of distinct sources evicts the oldest.
 */
#define MF_CONN_BUCKETS_MAX	65536

/*
 * mf_xdp_deny (LPM trie, MF_FW_DENY_MAX): Mesh spec.firewall.denySources,
 * kept by the agent from mf_config; value unused (1).  mf_xdp_nodes (hash,
 * MF_MAX_NODES): the mesh's node addresses, kept by the agent from
 * mf_nodes, whose traffic (the agents' tunnels) no rate drops.
 * mf_xdp_buckets (LRU hash, MF_XDP_BUCKETS_MAX): per source address, its
 * packet and SYN buckets (GCRA times, bpf/lib/bucket.h) and when its last
 * drop was reported.  mf_xdp_events (ring buffer): at most one struct
 * mf_xdp_event per source and second, for the agent to log and count.
 */
#define MF_XDP_BUCKETS_MAX	65536

struct mf_xdp_deny_key {
	__u32 prefixlen;
	__u8 addr[4];			/* network order */
};

struct mf_xdp_bucket {
	__u64 pkt_tat;
	__u64 syn_tat;
	__u64 reported_ns;		/* its last event */
	__u64 unreported;		/* drops since */
};

struct mf_xdp_event {
	__u8 src[4];			/* network order */
	__u32 reason;			/* enum mf_stat: MF_STAT_XDP_DROP_* */
	__u64 dropped;			/* this source's drops since its last
					 * event */
};

struct mf_conn_bucket_key {
	__u8 vip[4];			/* network order */
	__u8 src[4];
	__u16 port;			/* host order */
	__u16 _pad;
};

struct mf_plain_key {
	__u8 src[4];			/* network order */
	__u8 dst[4];
	__u16 dport;			/* host order, 0 for ICMP */
	__u8 proto;
	__u8 dropped;			/* 1: STRICT dropped it */
};

/* One entry of Mesh spec.mtls.backends. */
struct mf_mtls_backend {
	char name[MF_NAME_MAX];
	__u8 type;			/* enum mf_mtls_backend_type */
	__u8 mode;			/* enum mf_mtls_mode */
	__u8 timeouts;			/* MF_MTLS_T_*: which of the two below
					 * were written */
	__u8 _pad;
	__u32 cert_validity_s;		/* dpCert.rotation.expiration, 0: default */
	char cert_file[MF_PATH_MAX];	/* provided: conf.cert.file */
	char key_file[MF_PATH_MAX];	/* provided: conf.key.file */
	/* Kuma's timeouts towards its CA, kept only: the agents sign their
	 * certificates locally (docs/policy.md, Mesh). */
	__u32 request_timeout_ms;	/* dpCert.requestTimeout */
	__u32 root_chain_timeout_ms;	/* rootChain.requestTimeout */
};

enum mf_mtls_backend_timeouts {
	MF_MTLS_T_REQUEST = 1u << 0,	/* dpCert.requestTimeout */
	MF_MTLS_T_ROOT_CHAIN = 1u << 1,	/* rootChain: {} */
	MF_MTLS_T_ROOT_CHAIN_REQUEST = 1u << 2,	/* rootChain.requestTimeout */
};

#define MF_CIDR_MAX		24	/* "255.255.255.255/32" and NUL */

/* An IPv4 network. */
struct mf_cidr4 {
	__u8 addr[4];			/* network order, no host bits */
	__u8 prefix;			/* 0..32 */
	__u8 _pad[3];
};

/* Sources whose plaintext may reach pods under STRICT (Mesh
 * spec.mtls.exemptSources): the kubelet's probes, a passthrough range. */
#define MF_EXEMPT_MAX		8

/* Networks the nodes' XDP program drops (Mesh spec.firewall.denySources). */
#define MF_FW_DENY_MAX		32

/* A destination MeshPassthrough admits (an IP or CIDR appendMatch). */
#define MF_PT_NETS_MAX		16
/* Distinct ports of MeshPassthrough Domain matches the kernel steers. */
#define MF_PT_DOM_PORTS_MAX	16
struct mf_pt_net {
	__u8 addr[4];			/* network order, no host bits */
	__u8 prefix;			/* 0..32 */
	__u8 _pad;
	__u16 port;			/* host order, 0: every port */
};
/* An IPv6 destination MeshPassthrough admits. */
#define MF_PT_NETS6_MAX		8
struct mf_pt_net6 {
	__u8 addr[16];			/* network order, no host bits */
	__u8 prefix;			/* 0..128 */
	__u8 _pad;
	__u16 port;			/* host order, 0: every port */
};

/* Trust domains of MeshIdentities besides the Mesh's (mf_config). */
#define MF_MID_DOMAINS_MAX	4

/* Distinct MeshPassthroughs in force for some workloads only. */
#define MF_PT_PROFILES_MAX	8
/* A MeshPassthrough in force (mf_config.pt_mesh, pt_prof[]): which
 * destinations outside the mesh (no service VIP, no workload) pods may
 * open TCP connections to.  The pods' TC ingress program drops the SYN of
 * any other under Matched and None; 0 (none applied) and All let
 * everything pass.  Under Matched, the ports of the Domain matches (tls,
 * http, http2, grpc): a SYN to such a port that no network of pt[] admits
 * goes to the agent (marked MF_SKB_MARK_PASSTHROUGH), which reads the name
 * (SNI, Host, :authority) and admits or resets it.  dom_any: a Domain
 * match has no port, every port goes there.  IPv6: no destination is the
 * mesh's (its workloads and VIPs are IPv4), so under Matched and None a
 * pod's TCP SYN over IPv6 is dropped unless a network of pt6[] admits
 * it or, under Matched, it is to a Domain match's port: the agent's IPv6
 * outbound listener gets it, as over IPv4. */
struct mf_pt_profile {
	__u8 mode;			/* enum mf_passthrough_mode, 0: none */
	__u8 n;
	__u8 dom_n;
	__u8 dom_any;
	struct mf_pt_net pt[MF_PT_NETS_MAX];
	__u16 dom_port[MF_PT_DOM_PORTS_MAX];	/* host order */
	__u8 n6;
	__u8 _pad6[3];
	struct mf_pt_net6 pt6[MF_PT_NETS6_MAX];
};

/* The mesh's TLS between agents (mf_config.tls): the tlsVersion and
 * tlsCiphers of the MeshTLS policies that target the Mesh, merged and
 * checked by mfctl (lib/policy/tls_profile.h).  Versions are enum
 * mf_tls_version, resolved (never TLSAuto); 0: no MeshTLS set them, the
 * agents' default, TLS 1.3 only.  ciphers[]: the suites of TLS 1.2 in
 * order of preference (enum mf_tls_cipher), only those the mesh's ECDSA
 * certificates can agree; none: the agents' default. */
#define MF_TLS_PROFILE_CIPHERS	8
struct mf_tls_profile {
	__u8 min;			/* enum mf_tls_version, 0: default */
	__u8 max;
	__u8 nciphers;
	__u8 _pad;
	__u8 ciphers[MF_TLS_PROFILE_CIPHERS];
};

/*
 * Tags (Workload tags, MeshSubset tags, legacy selectors, the Mesh's
 * constraints): at most MF_TAGS_MAX per set, keys and values shorter than
 * these (mf_tagsets below).
 */
#define MF_TAGS_MAX		8
#define MF_TAG_KEY_MAX		64
#define MF_TAG_VALUE_MAX	64

/*
 * Kuma's Mesh fields beyond mTLS (mf_config.kuma), as lib/policy/
 * kind_mesh.c's tables describe them: each struct that stands for a YAML
 * mapping starts with its presence mask, bit i for its field i, so
 * `mfctl get` prints back exactly what was applied.  What meshforge does
 * with each is in docs/policy.md (Mesh): networking.outbound.passthrough
 * and constraints are in force, the rest is kept.
 */
#define MF_MESH_BACKENDS_MAX	4	/* tracing and logging backends */
#define MF_MESH_METRICS_MAX	2	/* metrics backends */
#define MF_MESH_RULES_MAX	4	/* constraints requirements, restrictions */
#define MF_MESH_TAGS_MAX	4	/* tags of a constraint rule, of a
					 * prometheus backend */
#define MF_MESH_SKIP_MAX	8	/* skipCreatingInitialPolicies */
#define MF_PROM_AGGREGATE_MAX	2
#define MF_LOG_FORMAT_MAX	256

struct mf_mesh_tag {			/* one key: value of a tags map */
	__u32 present;
	char key[MF_TAG_KEY_MAX];
	char value[MF_TAG_VALUE_MAX];
};

enum mf_mesh_trace_type { MF_MESH_TRACE_ZIPKIN = 1, MF_MESH_TRACE_DATADOG = 2 };
enum mf_mesh_log_type { MF_MESH_LOG_FILE = 1, MF_MESH_LOG_TCP = 2 };
enum mf_mesh_metrics_type { MF_MESH_METRICS_PROMETHEUS = 1 };

/* tracing.backends[].conf: zipkin's fields, then datadog's (the backend's
 * type says which it may hold). */
struct mf_mesh_trace_conf {
	__u32 present;
	char url[MF_PATH_MAX];
	__u8 trace_id_128bit;
	__u8 api_version;		/* httpJsonV1, httpJson, httpProto */
	__u8 shared_span_context;
	__u8 split_service;		/* datadog */
	char address[MF_PATH_MAX];	/* datadog */
	__u32 port;
};

struct mf_mesh_trace_backend {
	__u32 present;
	char name[MF_NAME_MAX];
	__u32 sampling;			/* thousandths of a percent */
	__u8 type;			/* enum mf_mesh_trace_type */
	__u8 _pad[3];
	struct mf_mesh_trace_conf conf;
};

struct mf_mesh_tracing {
	__u32 present;
	char default_backend[MF_NAME_MAX];
	__u8 nbackends;
	__u8 _pad[3];
	struct mf_mesh_trace_backend backends[MF_MESH_BACKENDS_MAX];
};

struct mf_mesh_log_conf {			/* file: path; tcp: address */
	__u32 present;
	char path[MF_PATH_MAX];
	char address[MF_PATH_MAX];
};

struct mf_mesh_log_backend {
	__u32 present;
	char name[MF_NAME_MAX];
	char format[MF_LOG_FORMAT_MAX];
	__u8 type;			/* enum mf_mesh_log_type */
	__u8 _pad[3];
	struct mf_mesh_log_conf conf;
};

struct mf_mesh_logging {
	__u32 present;
	char default_backend[MF_NAME_MAX];
	__u8 nbackends;
	__u8 _pad[3];
	struct mf_mesh_log_backend backends[MF_MESH_BACKENDS_MAX];
};

struct mf_prom_aggregate {
	__u32 present;
	char name[MF_NAME_MAX];
	__u32 port;
	char path[MF_PATH_MAX];
	__u8 enabled;
	__u8 _pad[3];
	char address[MF_PATH_MAX];
};

struct mf_prom_envoy {
	__u32 present;
	char filter_regex[MF_PATH_MAX];
	__u8 used_only;
	__u8 _pad[3];
};

struct mf_prom_tls {
	__u32 present;
	__u8 mode;			/* activeMTLSBackend, providedTLS,
					 * disabled */
	__u8 _pad[3];
};

struct mf_prom_conf {
	__u32 present;
	__u32 port;
	char path[MF_PATH_MAX];
	__u8 ntags;
	__u8 skip_mtls;
	__u8 naggregate;
	__u8 _pad;
	struct mf_mesh_tag tags[MF_MESH_TAGS_MAX];
	struct mf_prom_aggregate aggregate[MF_PROM_AGGREGATE_MAX];
	struct mf_prom_envoy envoy;
	struct mf_prom_tls tls;
};

struct mf_metrics_backend {
	__u32 present;
	char name[MF_NAME_MAX];
	__u8 type;			/* enum mf_mesh_metrics_type */
	__u8 _pad[3];
	struct mf_prom_conf conf;
};

struct mf_mesh_metrics {
	__u32 present;
	char enabled_backend[MF_NAME_MAX];
	__u8 nbackends;
	__u8 _pad[3];
	struct mf_metrics_backend backends[MF_MESH_METRICS_MAX];
};

struct mf_mesh_outbound {
	__u32 present;
	__u8 passthrough;
	__u8 _pad[3];
};

struct mf_mesh_networking {
	__u32 present;
	struct mf_mesh_outbound outbound;
};

struct mf_mesh_rule {			/* a constraint: tags a proxy has */
	__u32 present;
	__u8 ntags;
	__u8 _pad[3];
	struct mf_mesh_tag tags[MF_MESH_TAGS_MAX];
};

struct mf_mesh_dp_constraints {
	__u32 present;
	__u8 nrequirements;
	__u8 nrestrictions;
	__u8 _pad[2];
	struct mf_mesh_rule requirements[MF_MESH_RULES_MAX];
	struct mf_mesh_rule restrictions[MF_MESH_RULES_MAX];
};

struct mf_mesh_constraints {
	__u32 present;
	struct mf_mesh_dp_constraints dataplane_proxy;
};

enum mf_mesh_kuma_flags {
	MF_MESH_F_LOCALITY_LB = 1u << 0,	/* routing.localityAware... */
	MF_MESH_F_ZONE_EGRESS = 1u << 1,	/* routing.zoneEgress */
	MF_MESH_F_SKIP_VALIDATION = 1u << 2,	/* mtls.skipValidation */
	/* The booleans above were written (false included). */
	MF_MESH_F_LOCALITY_LB_SET = 1u << 3,
	MF_MESH_F_ZONE_EGRESS_SET = 1u << 4,
	MF_MESH_F_SKIP_VALIDATION_SET = 1u << 5,
};

struct mf_mesh_kuma {
	struct mf_mesh_tracing tracing;
	struct mf_mesh_logging logging;
	struct mf_mesh_metrics metrics;
	struct mf_mesh_networking networking;
	struct mf_mesh_constraints constraints;
	__u32 flags;			/* MF_MESH_F_* */
	__u8 msvc_mode;			/* meshServices.mode, 1 + Disabled,
					 * Everywhere, ReachableBackends,
					 * Exclusive; 0: not written */
	__u8 nskip_initial;
	__u8 _pad[2];
	char skip_initial[MF_MESH_SKIP_MAX][MF_NAME_MAX];
};

struct mf_config {
	__u64 epoch;			/* bumped once by every successful apply */
	__u32 flags;			/* MF_CONFIG_F_* */
	__u32 active;			/* the half of every policy map in force */
	char mesh[MF_NAME_MAX];		/* Mesh object name, "" before any apply */
	char trust_domain[MF_NAME_MAX];	/* e.g. "mesh.local" */
	char mtls_enabled[MF_NAME_MAX];	/* spec.mtls.enabledBackend, "": off */
	__u32 mtls_nbackends;
	__u32 _pad2;
	struct mf_mtls_backend mtls[MF_MTLS_BACKENDS_MAX];
	/* spec.meshServices.vipRange as written, "": the default (mfctl
	 * allocates MeshService VIPs from it; the data path reads the VIPs
	 * from mf_services). */
	char msvc_vip_range[MF_CIDR_MAX];
	/* spec.meshExternalServices.vipRange as written, "": the default;
	 * MeshExternalService VIPs come from it as MeshService VIPs do
	 * from msvc_vip_range. */
	char mes_vip_range[MF_CIDR_MAX];
	/* What the pods' TC egress program (traffic towards a pod) enforces:
	 * the mode of the enabled mTLS backend, 0 when none is enabled (no
	 * mTLS: nothing enforced).  Derived by mfctl; it flips with the
	 * policy, so a switch takes effect on the next packet. */
	__u8 mtls_mode;			/* enum mf_mtls_mode, 0: none */
	__u8 nexempt;
	__u8 _pad3[2];
	struct mf_cidr4 exempt[MF_EXEMPT_MAX];
	/* The node firewall (Mesh spec.firewall): what the XDP program on
	 * each node's uplink drops.  The agent keeps the deny list in the
	 * LPM map mf_xdp_deny; the rates are read per packet: at most
	 * num per interval_ms packets (SYNs) from each source, 0: none. */
	__u8 fw_ndeny;
	__u8 _pad4[3];
	struct mf_cidr4 fw_deny[MF_FW_DENY_MAX];
	__u32 fw_pkt_num, fw_pkt_interval_ms;
	__u32 fw_syn_num, fw_syn_interval_ms;
	/* The mesh store's revision this policy was compiled from, written
	 * by `mfctl sync` (docs/store.md); 0: applied on this node by hand. */
	__u64 store_rev;
	/* MeshPassthrough, of the policies that target the whole Mesh. */
	struct mf_pt_profile pt_mesh;
	/* The MeshPassthroughs of some workloads only: a source pod whose
	 * mf_endpoint.pt_profile is k > 0 is held to pt_prof[k - 1]
	 * instead of pt_mesh.  pt_prof_dom: one of them has Domain
	 * matches under Matched (later segments are then looked at). */
	__u8 pt_nprof;
	__u8 pt_prof_dom;
	__u8 _pad5[2];
	struct mf_pt_profile pt_prof[MF_PT_PROFILES_MAX];
	/* spec.meshMultiZoneServices.vipRange as written, "": the default;
	 * MeshMultiZoneService VIPs come from it as MeshService VIPs do
	 * from msvc_vip_range. */
	char mzs_vip_range[MF_CIDR_MAX];
	/* The mesh's trust domains besides trust_domain: those of the
	 * identities MeshIdentities render.  Their peers are the mesh's, as
	 * trust_domain's are.  Bit i of mid_domain_ca: the mesh CA vouches
	 * for mid_domains[i] (a Bundled MeshIdentity's meshTrustCreation,
	 * for which Kuma makes a MeshTrust of its CA); else a MeshTrust's
	 * CAs do. */
	__u32 nmid_domains;
	__u32 mid_domain_ca;
	char mid_domains[MF_MID_DOMAINS_MAX][MF_NAME_MAX];
	/* The TLS the agents speak to each other (above). */
	struct mf_tls_profile tls;
	/* Kuma's Mesh fields beyond mTLS (above).  The Mesh's
	 * networking.outbound.passthrough false is compiled into pt_mesh
	 * too, the constraints are checked by mfctl; the rest is kept for
	 * `mfctl get`. */
	struct mf_mesh_kuma kuma;
};

enum mf_config_flags {
	MF_CONFIG_F_MESH = 1u << 0,	/* a Mesh object has been applied */
	/* Some endpoint has a MeshTLS mode of its own (MF_ENDPOINT_F_TLS_*):
	 * the TC program towards pods looks each destination up. */
	MF_CONFIG_F_TLS_MODES = 1u << 1,
	/* Mesh spec.routing.defaultForbidMeshExternalServiceAccess: a
	 * MeshExternalService is reached only by the sources a
	 * MeshTrafficPermission targeting it allows. */
	MF_CONFIG_F_FORBID_MES = 1u << 2,
};

enum mf_proto {
	MF_PROTO_TCP = 6,		/* IPPROTO_TCP */
};

/*
 * Two halves.  Every policy map's key starts with `__u32 half`: the
 * records of the policy in force are those whose half equals
 * mf_config.active.  `mfctl apply` writes the new policy into the other
 * half, then flips mf_config (epoch and active) in one update, waits until
 * no BPF program can still be reading the old half, and clears it.  So a
 * reader (kernel or agent) sees one whole policy or the next, never a mix.
 */

/* mf_services: VIP:port:proto -> service. */
struct mf_service_key {
	__u32 half;
	__u8 vip[4];
	__u16 port;
	__u8 proto;			/* enum mf_proto */
	__u8 _pad;
};

struct mf_service {
	__u32 id;			/* stable within one epoch, > 0 */
	__u32 authz_rules;		/* how many mf_authz rules name it */
	char name[MF_NAME_MAX];
	__u32 flags;			/* MF_SERVICE_F_* */
	/* MeshRateLimit local.tcp.connectionRate in force for connections
	 * to it: at most conn_rate_num per conn_rate_interval_ms from each
	 * source pod, which the pods' TC ingress program enforces on the
	 * SYN (bpf/lib/bucket.h); 0: no limit. */
	__u32 conn_rate_num;
	__u32 conn_rate_interval_ms;
};

enum mf_service_flags {
	/* A port of a MeshService: its VIP was allocated, its spec is in
	 * mf_mesh_services, and it has one record per port (same id). */
	MF_SERVICE_F_MESH_SERVICE = 1u << 0,
	/* The agent speaks HTTP/1.1 (L7) to this VIP:port; without it, it
	 * relays bytes (L4).  mfctl decides it as Kuma decides a service's
	 * protocol: a Service's spec.protocol, else the kuma.io/protocol
	 * tag all of its endpoints carry; a MeshService port's
	 * appProtocol. */
	MF_SERVICE_F_HTTP = 1u << 1,
	/* A Service's spec.protocol was written, and decided on its own
	 * (MF_SERVICE_F_HTTP says which); without it, its endpoints' tags
	 * did.  Only so that `mfctl get` prints the spec as written. */
	MF_SERVICE_F_PROTOCOL_SPEC = 1u << 2,
	/* A MeshExternalService: its VIP was allocated from the Mesh's
	 * spec.meshExternalServices.vipRange, its spec (the endpoints
	 * outside the mesh, the TLS to originate) is in mf_ext_services,
	 * and it has no mf_endpoints: the source's agent connects to one
	 * of its endpoints itself. */
	MF_SERVICE_F_EXTERNAL = 1u << 3,
	/* A port of a MeshMultiZoneService: its VIP was allocated from the
	 * Mesh's spec.meshMultiZoneServices.vipRange, it has one record per
	 * spec.ports entry (same id) and no mf_endpoints of its own: the
	 * source's agent picks an endpoint of one of the MeshServices its
	 * mf_mz_services record lists as members at that port. */
	MF_SERVICE_F_MULTI_ZONE = 1u << 4,
};

/*
 * mf_endpoints: workload IP -> the workload behind it.  Its node is named
 * by address, not by name: Node addresses are unique (mfctl validates
 * it), and a name would cost MF_NAME_MAX bytes in each of up to
 * MF_MAX_ENDPOINTS records.  mf_nodes maps a name to that address.
 */
struct mf_endpoint_key {
	__u32 half;
	__u8 ip[4];
};

struct mf_endpoint {
	__u32 service_id;		/* mf_service.id it serves */
	__u32 identity_id;		/* key into mf_identities */
	__u8 node_ip[4];		/* its Node's address (its agent's) */
	__u16 port;			/* the port the workload listens on */
	__u16 tunnel_port;		/* its node's agent tunnel port,
					 * 0: MF_PORT_TUNNEL */
	char name[MF_NAME_MAX];		/* Workload object name */
	__u32 tags;			/* mf_tagsets id of its tags, 0: none */
	__u32 flags;			/* MF_ENDPOINT_F_* */
	/* Its MeshPassthrough as a source: 0 the Mesh's (mf_config.pt_mesh),
	 * k > 0 mf_config.pt_prof[k - 1] (a MeshSubset or Dataplane one
	 * selects it). */
	__u32 pt_profile;
};

enum mf_endpoint_flags {
	/* A Kuma Dataplane's (its object is in mf_dataplanes), not a
	 * Workload's. */
	MF_ENDPOINT_F_DATAPLANE = 1u << 0,
	/* A MeshTLS that selects it sets its inbound's mode, which the TC
	 * program towards the pod enforces in place of the Mesh's (when
	 * the Mesh has mTLS enabled at all). */
	MF_ENDPOINT_F_TLS_STRICT = 1u << 1,
	MF_ENDPOINT_F_TLS_PERMISSIVE = 1u << 2,
	/* Never in mf_endpoints: the agent's own endpoints of a
	 * MeshExternalService (its spec.endpoints, resolved), which it
	 * dials itself, node_ip:port, without a tunnel. */
	MF_ENDPOINT_F_EXTERNAL = 1u << 3,
	/* Its service is a MeshService that lists identities
	 * (spec.identities), and this workload's is not among them:
	 * clients never pick it (it is still a source, and its own
	 * inbound). */
	MF_ENDPOINT_F_UNLISTED = 1u << 4,
};

/*
 * mf_gw_instances: the builtin gateways the agents run: a Kuma Dataplane
 * whose networking.gateway.type is BUILTIN, labelled meshforge.io/node.
 * It has no inbound and no address of its own to be an endpoint at: the
 * record says which Node's agent runs it (by name: there are few, and
 * the agent looks its own up), the identity it presents and the tags a
 * MeshGateway's selectors match.  Derived from the Dataplane, whose
 * object is in mf_dataplanes.
 */
struct mf_gw_instance_key {
	__u32 half;
	char name[MF_NAME_MAX];		/* the Dataplane's name */
};

struct mf_gw_instance {
	char name[MF_NAME_MAX];		/* the Dataplane's name */
	char node[MF_NAME_MAX];		/* the Node whose agent runs it */
	__u32 identity_id;		/* key into mf_identities */
	__u32 tags;			/* mf_tagsets id of its gateway tags */
};

/* mf_nodes: node name -> address of that node's agent. */
struct mf_node_key {
	__u32 half;
	char name[MF_NAME_MAX];
};

struct mf_node {
	__u8 ip[4];
	__u16 tunnel_port;
	__u16 _pad;
};

/* mf_identities: identity id -> SPIFFE ID. */
struct mf_identity_key {
	__u32 half;
	__u32 id;
};

struct mf_identity {
	char spiffe[MF_SPIFFE_MAX];
};

/*
 * mf_authz: the compiled MeshTrafficPermission rules, keyed by destination
 * service and a dense index 0..mf_service.authz_rules-1.  Semantics (also in
 * docs/policy.md): a service no rule names admits every mesh identity; once a
 * rule names it, the most specific matching rule decides (exact beats prefix,
 * a longer prefix beats a shorter one, then a rule that also matches the
 * SNI the client asked for beats one that does not look at it, Deny beats
 * Allow at equal specificity), and no matching rule means deny.  A rule
 * with an SNI matches only connections that asked for that name.
 */
struct mf_authz_key {
	__u32 half;
	__u32 service_id;
	__u32 index;
};

enum mf_authz_action {
	MF_AUTHZ_ALLOW = 1,
	MF_AUTHZ_DENY = 2,
	/* Admitted like Allow, and logged as the denial it would be: for
	 * trying a deny before enforcing it.  Ranks as Allow. */
	MF_AUTHZ_ALLOW_SHADOW_DENY = 3,
};

enum mf_authz_flags {
	/* The policy was written as Kuma's `rules` (allow/deny lists), not
	 * `from`: kept so `mfctl get` prints it back the same way. */
	MF_AUTHZ_F_RULES = 1u << 0,
	/* The policy's targetRef is the whole Mesh: the rule is repeated
	 * for every service. */
	MF_AUTHZ_F_MESH_TARGET = 1u << 1,
};

enum mf_authz_match {
	MF_AUTHZ_MATCH_EXACT = 1,	/* the SPIFFE ID equals spiffe */
	MF_AUTHZ_MATCH_PREFIX = 2,	/* the SPIFFE ID starts with spiffe */
};

/* A server name as a rule matches it (the SNI of the tunnel's
 * ClientHello); the same bound as a MeshTrafficPermission's sni.value. */
#define MF_SNI_MAX	256

enum mf_authz_sni_match {
	MF_AUTHZ_SNI_NONE = 0,		/* any SNI, or none */
	MF_AUTHZ_SNI_EXACT = 1,		/* the SNI equals sni */
};

struct mf_authz_rule {
	__u8 action;			/* enum mf_authz_action */
	__u8 match;			/* enum mf_authz_match */
	__u8 flags;			/* enum mf_authz_flags */
	__u8 sni_match;			/* enum mf_authz_sni_match */
	/* The Workload the rule is for, when its permission targets some of
	 * a service's Workloads (a MeshSubset, MeshServiceSubset or
	 * Dataplane): traffic to other endpoints ignores it.  0.0.0.0:
	 * every endpoint of the service. */
	__u8 endpoint[4];
	char policy[MF_NAME_MAX];	/* MeshTrafficPermission name */
	char spiffe[MF_SPIFFE_MAX];	/* "" with MF_AUTHZ_MATCH_PREFIX:
					 * any identity (a rule by SNI
					 * only) */
	char sni[MF_SNI_MAX];		/* with MF_AUTHZ_SNI_EXACT */
};

/*
 * mf_tagsets: interned tag sets (Workload tags, MeshSubset tags, legacy
 * selectors).  The id is a hash of the content (struct mf_tagset bytes), so
 * the same tags get the same id in every apply and on every node; records
 * refer to tags by id to stay small.  Tags are sorted by key; a value of
 * "*" matches any value.
 */
#define MF_MAX_TAGSETS		16384

struct mf_tagset_key {
	__u32 half;
	__u32 id;			/* > 0 */
};

struct mf_tag {
	char key[MF_TAG_KEY_MAX];
	char value[MF_TAG_VALUE_MAX];
};

struct mf_tagset {
	__u32 n;
	__u32 _pad;
	struct mf_tag tags[MF_TAGS_MAX];
};

/*
 * mf_strings: interned strings, the long values of L7 policy (route match
 * paths, header and query names and values, redirect and rewrite
 * hostnames and paths).  A record is a fixed-size map value, so a field
 * with room for 1 KiB would cost 1 KiB in every record of its map
 * whether used or not; records hold a string's id instead (__u32, 0:
 * none), and a string many records use is stored once.  As for tag sets,
 * the id is a hash of the content (struct mf_string bytes), so the same
 * string gets the same id in every apply and on every node.
 *
 * A string is 1..MF_STRING_MAX bytes, none of them NUL: @len says how
 * many, and @s has them NUL-terminated and NUL-padded, so it reads as a
 * C string and equal strings are equal bytes.  The map is not
 * preallocated: each string costs one kernel allocation of about 1 KiB
 * (a 2 KiB slab) while it is in use, whatever its length, so the
 * ceiling of 2 * MF_MAX_STRINGS is never a cost.
 */
#define MF_STRING_MAX		1024
#define MF_MAX_STRINGS		65536

struct mf_string_key {
	__u32 half;
	__u32 id;			/* > 0 */
};

struct mf_string {
	__u16 len;			/* bytes of s before its NUL, > 0 */
	char s[MF_STRING_MAX + 1];
	__u8 _pad;			/* 0 */
};

/*
 * metadata.labels and metadata.annotations: one record per object and
 * mapping that it has, of any kind, naming the tag set that holds them.
 * @kind is the object's kind as mfctl numbers them: the five core kinds
 * (Mesh, Node, Service, Workload, MeshTrafficPermission), then the KIND()
 * rows of policy_maps.h in order.  Nothing in the datapath reads them:
 * they are kept so that `mfctl get` prints what was applied.
 */
#define MF_MAX_LABELED		MF_MAX_ENDPOINTS

/* Which mapping of metadata a mf_labels record holds. */
enum mf_meta {
	MF_META_LABELS = 0,
	MF_META_ANNOTATIONS,
};

struct mf_labels_key {
	__u32 half;
	__u8 kind;
	__u8 meta;			/* enum mf_meta */
	__u8 _pad[2];
	char name[MF_NAME_MAX];
};

struct mf_labels {
	__u32 tags;			/* mf_tagsets id, > 0 */
};

#include "meshforge/abi_policy.h"

/* mf_stats: per-CPU counters indexed by enum mf_stat. */
enum mf_stat {
	MF_STAT_POD_PACKETS = 0,	/* packets seen from pods */
	MF_STAT_POD_STEERED,		/* assigned to the agent listener */
	MF_STAT_POD_ESTABLISHED,	/* assigned to an established agent socket */
	MF_STAT_POD_PASSED,		/* not a mesh destination, untouched */
	MF_STAT_DROP_NO_LISTENER,	/* mesh destination, but no agent listening */
	MF_STAT_DROP_ASSIGN,		/* bpf_sk_assign() refused */
	/* Towards pods (TC egress of the node-side veth). */
	MF_STAT_TO_POD_PACKETS,		/* packets seen towards pods */
	MF_STAT_TO_POD_AGENT,		/* from the node's agent (its mark) */
	MF_STAT_TO_POD_RETURN,		/* of a connection the pod opened */
	MF_STAT_TO_POD_EXEMPT,		/* from a source the policy exempts */
	MF_STAT_TO_POD_PLAINTEXT,	/* PERMISSIVE: plaintext let through */
	MF_STAT_TO_POD_OPEN,		/* no mTLS mode: nothing enforced */
	MF_STAT_DROP_STRICT,		/* STRICT: plaintext dropped */
	/* From pods, again. */
	MF_STAT_DROP_SPOOFED,		/* a source that does not route back
					 * through the pod's veth */
	MF_STAT_DROP_FRAGMENT,		/* a TCP fragment for the node itself
					 * (a VIP): no host listener gets it */
	MF_STAT_DROP_CONN_RATE,		/* a SYN over the connection rate of
					 * its service (MeshRateLimit) */
	/* The node's uplink (XDP). */
	MF_STAT_XDP_PACKETS,		/* packets seen */
	MF_STAT_XDP_DROP_DENY,		/* from a denied network */
	MF_STAT_XDP_DROP_PACKET_RATE,	/* over its source's packet rate */
	MF_STAT_XDP_DROP_SYN_RATE,	/* a SYN over its source's SYN rate */
	/* From pods, once more. */
	MF_STAT_DROP_PASSTHROUGH,	/* a SYN to a destination outside the
					 * mesh MeshPassthrough does not admit */
	MF_STAT_MAX,
};

#endif /* MESHFORGE_ABI_H */
