/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy records built by hand, for the tests that need an agent snapshot
 * (test_policy, test_admin, test_tunnel, test_loop, test_polkinds).  Two
 * ways to get a struct rec_set:
 *
 *   - the rh_<map>() builders append one record of raw values each, so a
 *     test can also build what mfctl never writes (an unknown match kind,
 *     a service whose rules are missing, indexes out of order, a key
 *     twice).  They return false after a failed assertion.
 *   - rh_compile() makes the records of a YAML policy as `mfctl apply`
 *     does on an empty state (parse, validate, compile), for a test that
 *     only needs a normal, valid mesh.  Ids come out in name order.
 *
 * rh_snapshot() turns the records into a snapshot; rh_yaml_snapshot() does
 * both steps at once.  IPs are dotted quads, ports are in host order.
 * Records are zeroed before they are filled, as records.h wants: the
 * initializers zero every member, and the ABI structs have no implicit
 * padding.
 *
 * Include after "harness/test.h".  Everything is static inline so a test that
 * uses only part of it still builds with -Werror.
 */
#ifndef MF_RECORDS_HARNESS_H
#define MF_RECORDS_HARNESS_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "harness/test.h"
#include "policy/compile.h"
#include "policy/doc.h"
#include "policy/kinds.h"
#include "policy/records.h"
#include "policy/validate.h"
#include "../../agent/policy.h"

/* The head of a YAML document for rh_compile(), up to its spec:
 *   RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
 * ("---" starts every document, the first one too). */
#define RH_DOC(kind, name)                                                    \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: " kind "\n"           \
	"metadata: {name: " name "}\n"

/* The head of a Kuma document of @kind named @name, up to its spec:
 * (the lines after it are the spec's, indented). */
#define RH_KUMA(kind, name)                                                   \
	"---\napiVersion: kuma.io/v1alpha1\nkind: " kind "\n"                 \
	"metadata: {name: " name "}\nspec:\n"

/* A mesh of four services on node n1, each with one Workload that speaks
 * as spiffe://mesh.local/ns/default/sa/<service>: web (VIP 10.96.0.10,
 * w1 10.1.0.1), api (10.96.0.13, a1 10.1.0.5), client (10.96.0.11, c1
 * 10.1.0.9), other (10.96.0.12, o1 10.1.0.10), every port 80 and 8080:
 * what the agent's selection tests put their policies over. */
#define RH_WL4(name, ip, svc)                                                 \
	RH_DOC("Workload", name)                                              \
	"spec: {node: n1, ip: " ip ", port: 8080, service: " svc ", "         \
	"identity: \"spiffe://mesh.local/ns/default/sa/" svc "\"}\n"
/* Two MeshGateways over RH_MESH4: edge (the kuma.io/service
 * edge-gateway's) and other (x-gateway's), each an HTTP listener on
 * 8080: a policy under one gateway's targetRef, and not the other's. */
#define RH_GW2                                                                \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGateway\n"              \
	"metadata: {name: edge}\nspec:\n"                                      \
	"  selectors: [{match: {kuma.io/service: edge-gateway}}]\n"            \
	"  conf:\n    listeners: [{port: 8080, protocol: HTTP}]\n"             \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGateway\n"              \
	"metadata: {name: other}\nspec:\n"                                     \
	"  selectors: [{match: {kuma.io/service: x-gateway}}]\n"               \
	"  conf:\n    listeners: [{port: 8080, protocol: HTTP}]\n"
/* RH_MESH4 without its Workloads: the Mesh, node n1 and the four
 * Services, for a test that gives them workloads of its own. */
#define RH_MESH4_SERVICES                                                     \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"          \
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"                    \
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"        \
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.13, port: 80}\n"        \
	RH_DOC("Service", "client") "spec: {vip: 10.96.0.11, port: 80}\n"     \
	RH_DOC("Service", "other") "spec: {vip: 10.96.0.12, port: 80}\n"
#define RH_MESH4                                                              \
	RH_MESH4_SERVICES                                                     \
	RH_WL4("w1", "10.1.0.1", "web") RH_WL4("a1", "10.1.0.5", "api")       \
	RH_WL4("c1", "10.1.0.9", "client") RH_WL4("o1", "10.1.0.10", "other")

/* Dotted quad @s as a network-order address (0 when it is none). */
static inline uint32_t rh_ip4(const char *s)
{
	struct in_addr a = { 0 };

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* Copies @src into the field @dst of @size bytes; it must fit, NUL
 * included, since a cut name would test something else. */
static inline bool rh_str(char *dst, size_t size, const char *src)
{
	if (!ASSERT_TRUE(strlen(src) < size))
		return false;
	strcpy(dst, src);
	return true;
}

/* Dotted quad @s into @out (4 bytes, network order). */
static inline bool rh_ip(uint8_t out[4], const char *s)
{
	return ASSERT_EQ(inet_pton(AF_INET, s, out), 1);
}

static inline bool rh_add(struct rec_set *rs, enum rec_map m,
			  const void *key, const void *val)
{
	return ASSERT_EQ(rec_add(rs, m, key, val), 0);
}

/* mf_config as a Mesh object sets it, at @epoch. */
static inline bool rh_mesh(struct rec_set *rs, uint64_t epoch,
			   const char *mesh, const char *trust_domain)
{
	rs->config.epoch = epoch;
	rs->config.flags = MF_CONFIG_F_MESH;
	return rh_str(rs->config.mesh, sizeof(rs->config.mesh), mesh) &&
	       rh_str(rs->config.trust_domain,
		      sizeof(rs->config.trust_domain), trust_domain);
}

/* Service @id at @vip:@port (TCP), saying it has @authz_rules rules,
 * with MF_SERVICE_F_* @flags. */
static inline bool rh_service_flags(struct rec_set *rs, uint32_t id,
				    const char *name, const char *vip,
				    uint16_t port, uint32_t authz_rules,
				    uint32_t flags)
{
	struct mf_service_key k = { .port = port, .proto = MF_PROTO_TCP };
	struct mf_service v = { .id = id, .authz_rules = authz_rules,
				.flags = flags };

	return rh_ip(k.vip, vip) && rh_str(v.name, sizeof(v.name), name) &&
	       rh_add(rs, REC_SERVICES, &k, &v);
}

/* The same, without flags: a Service whose protocol its spec leaves to
 * its endpoints, and they do not say http. */
static inline bool rh_service(struct rec_set *rs, uint32_t id,
			      const char *name, const char *vip,
			      uint16_t port, uint32_t authz_rules)
{
	return rh_service_flags(rs, id, name, vip, port, authz_rules, 0);
}

/* Workload @name at @ip:@port, of service @service_id with identity
 * @identity_id, on the node at @node_ip whose tunnel port is
 * @tunnel_port. */
static inline bool rh_endpoint(struct rec_set *rs, const char *ip,
			       uint16_t port, const char *name,
			       uint32_t service_id, uint32_t identity_id,
			       const char *node_ip, uint16_t tunnel_port)
{
	struct mf_endpoint_key k = { .half = 0 };
	struct mf_endpoint v = {
		.service_id = service_id,
		.identity_id = identity_id,
		.port = port,
		.tunnel_port = tunnel_port,
	};

	return rh_ip(k.ip, ip) && rh_ip(v.node_ip, node_ip) &&
	       rh_str(v.name, sizeof(v.name), name) &&
	       rh_add(rs, REC_ENDPOINTS, &k, &v);
}

static inline bool rh_node(struct rec_set *rs, const char *name,
			   const char *ip, uint16_t tunnel_port)
{
	struct mf_node_key k = { .half = 0 };
	struct mf_node v = { .tunnel_port = tunnel_port };

	return rh_str(k.name, sizeof(k.name), name) && rh_ip(v.ip, ip) &&
	       rh_add(rs, REC_NODES, &k, &v);
}

/* Builtin gateway instance @name on node @node, of identity
 * @identity_id and tag set @tags. */
static inline bool rh_gw_instance(struct rec_set *rs, const char *name,
				  const char *node, uint32_t identity_id,
				  uint32_t tags)
{
	struct mf_gw_instance_key k = { .half = 0 };
	struct mf_gw_instance v = { .identity_id = identity_id,
				    .tags = tags };

	return rh_str(k.name, sizeof(k.name), name) &&
	       rh_str(v.name, sizeof(v.name), name) &&
	       rh_str(v.node, sizeof(v.node), node) &&
	       rh_add(rs, REC_GW_INSTANCES, &k, &v);
}

static inline bool rh_identity(struct rec_set *rs, uint32_t id,
			       const char *spiffe)
{
	struct mf_identity_key k = { .id = id };
	struct mf_identity v;

	memset(&v, 0, sizeof(v));
	return rh_str(v.spiffe, sizeof(v.spiffe), spiffe) &&
	       rh_add(rs, REC_IDENTITIES, &k, &v);
}

/* Rule @index of service @service_id; @action and @match are taken as
 * given, known values or not. */
static inline bool rh_rule(struct rec_set *rs, uint32_t service_id,
			   uint32_t index, uint8_t action, uint8_t match,
			   const char *policy, const char *spiffe)
{
	struct mf_authz_key k = { .service_id = service_id, .index = index };
	struct mf_authz_rule v = { .action = action, .match = match };

	return rh_str(v.policy, sizeof(v.policy), policy) &&
	       rh_str(v.spiffe, sizeof(v.spiffe), spiffe) &&
	       rh_add(rs, REC_AUTHZ, &k, &v);
}

/* Tag set @id of @n tags, @kv holding key and value of each in turn. */
static inline bool rh_tagset(struct rec_set *rs, uint32_t id, size_t n,
			     const char *const *kv)
{
	struct mf_tagset_key k = { .id = id };
	struct mf_tagset v;
	bool ok = ASSERT_TRUE(n <= MF_TAGS_MAX);

	memset(&v, 0, sizeof(v));
	v.n = (uint32_t)n;
	for (size_t i = 0; ok && i < n; i++)
		ok = rh_str(v.tags[i].key, sizeof(v.tags[i].key), kv[2 * i]) &&
		     rh_str(v.tags[i].value, sizeof(v.tags[i].value),
			    kv[2 * i + 1]);
	return ok && rh_add(rs, REC_TAGSETS, &k, &v);
}

/* Index of @kd in kinds_all (its map is REC_KIND_FIRST + that), or
 * SIZE_MAX. */
static inline size_t rh_kind_index(const struct kind_desc *kd)
{
	for (size_t i = 0; i < kinds_count; i++)
		if (kinds_all[i] == kd)
			return i;
	return SIZE_MAX;
}

/* Record @index of policy @name of kind @kd; @val is kd->val_size bytes,
 * copied as they are. */
static inline bool rh_kind(struct rec_set *rs, const struct kind_desc *kd,
			   const char *name, uint32_t index, const void *val)
{
	struct mf_pol_key k = { .index = index };
	size_t i = rh_kind_index(kd);

	return ASSERT_TRUE(i != SIZE_MAX) &&
	       rh_str(k.name, sizeof(k.name), name) &&
	       rh_add(rs, REC_KIND_FIRST + i, &k, val);
}

/* The records of policy @yaml, which must be valid, compiled over the
 * applied @have (NULL: an empty state) into @rs (initialised here; the
 * caller frees it whatever this returns).  The epoch is 0. */
static inline bool rh_compile(const char *yaml, const struct rec_set *have,
			      struct rec_set *rs)
{
	struct model_set set;
	struct diag d;
	bool ok;

	rec_set_init(rs);
	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_TRUE(yaml) &&
	     ASSERT_EQ(doc_parse_buffer(&set, "rh.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0) &&
	     ASSERT_EQ(compile_set(&set, have, rs, &d), 0);
	if (!ok)
		diag_print(&d, stderr);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* A snapshot of @rs when @ok (its records all went in), NULL otherwise;
 * @rs is freed either way, the snapshot keeps a copy of its own.  The
 * caller puts the snapshot (refcount 1). */
static inline struct policy *rh_snapshot(struct rec_set *rs, bool ok)
{
	struct policy *p = NULL;

	ok = ok && ASSERT_EQ(policy_from_rec_set(&p, rs), 0);
	rec_set_free(rs);
	return ok ? p : NULL;
}

/* rh_compile() of @yaml at @epoch, then rh_snapshot(). */
static inline struct policy *rh_yaml_snapshot(const char *yaml,
					      uint64_t epoch)
{
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	rs.config.epoch = epoch;
	return rh_snapshot(&rs, ok);
}

#endif /* MF_RECORDS_HARNESS_H */
