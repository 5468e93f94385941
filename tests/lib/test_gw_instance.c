// SPDX-License-Identifier: Apache-2.0
/*
 * Builtin gateway instances (lib/policy/gw_instance.c): a Dataplane
 * labelled meshforge.io/node whose gateway is BUILTIN compiles to an
 * mf_gw_instances record (its name, Node, identity and gateway tags), not
 * to an endpoint; its identity is its MeshIdentity's, else
 * spiffe://<trust domain>/<kuma.io/service>; validation says what one
 * lacks; read back, it is its Dataplane and compiles the same again; the
 * agent's snapshot lists it.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/dataplane.h"
#include "policy/decompile.h"
#include "policy/doc.h"
#include "policy/endpoint.h"
#include "policy/gw_instance.h"

#define DP_DOC(name, labels)                                                  \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"               \
	"metadata: {name: " name ", labels: " labels "}\nspec:\n"

/* Builtin gateway @name of @labels with networking.gateway @gw. */
#define GW(name, labels, gw)                                                  \
	DP_DOC(name, labels)                                                  \
	"  networking:\n"                                                     \
	"    address: 10.78.2.50\n"                                           \
	"    gateway: " gw "\n"

#define EDGE_TAGS "{kuma.io/service: edge-gateway, zone-tier: front}"
#define EDGE1                                                                 \
	GW("edge-1", "{meshforge.io/node: mf-node-b, app: edge}",            \
	   "{type: BUILTIN, tags: " EDGE_TAGS "}")

#define EDGE_ID                                                               \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"            \
	"metadata: {name: edge-id}\nspec:\n"                                  \
	"  selector: {dataplane: {matchLabels: {app: edge}}}\n"               \
	"  spiffeID: {trustDomain: mesh.local, path: \"/gw/{{ .Workload }}\"}\n"

#define BASE PH_MESH PH_NODE("mf-node-b", "10.77.0.2")

/* Instance @name of @rs, or NULL. */
static const struct mf_gw_instance *gw_at(const struct rec_set *rs,
					  const char *name)
{
	struct mf_gw_instance_key k;
	long i;

	memset(&k, 0, sizeof(k));
	if (!rh_str(k.name, sizeof(k.name), name))
		return NULL;
	i = rec_find(rs, REC_GW_INSTANCES, &k);
	return i < 0 ? NULL : rec_val(rs, REC_GW_INSTANCES, (size_t)i);
}

static const char *identity_of(const struct rec_set *rs, uint32_t id)
{
	struct mf_identity_key k;
	long i;

	memset(&k, 0, sizeof(k));
	k.id = id;
	i = rec_find(rs, REC_IDENTITIES, &k);
	return i < 0 ? NULL :
	       ((const struct mf_identity *)rec_val(rs, REC_IDENTITIES,
						    (size_t)i))->spiffe;
}

/* The value of tag @key in tag set @id of @rs, or NULL. */
static const char *tag_of(const struct rec_set *rs, uint32_t id,
			  const char *key)
{
	struct mf_tagset_key k;
	long i;

	memset(&k, 0, sizeof(k));
	k.id = id;
	i = rec_find(rs, REC_TAGSETS, &k);
	return i < 0 ? NULL :
	       kind_tag_value(rec_val(rs, REC_TAGSETS, (size_t)i), key);
}

/* Without a MeshIdentity: Kuma's identity of a proxy of its service; its
 * Node by name, its gateway tags; no endpoint, no Workload identity. */
static bool test_gw_instance_compiled(void)
{
	struct rec_set rs;
	const struct mf_gw_instance *g;
	bool ok = rh_compile(BASE EDGE1, NULL, &rs);

	g = ok ? gw_at(&rs, "edge-1") : NULL;
	ok = ok && ASSERT_TRUE(g) && ASSERT_STREQ(g->name, "edge-1") &&
	     ASSERT_STREQ(g->node, "mf-node-b") &&
	     ASSERT_STREQ(identity_of(&rs, g->identity_id),
			  "spiffe://mesh.local/edge-gateway") &&
	     ASSERT_STREQ(tag_of(&rs, g->tags, "kuma.io/service"),
			  "edge-gateway") &&
	     ASSERT_STREQ(tag_of(&rs, g->tags, "zone-tier"), "front") &&
	     ASSERT_EQ(rec_count(&rs, REC_GW_INSTANCES), 1) &&
	     ASSERT_EQ(rec_count(&rs, REC_ENDPOINTS), 0) &&
	     ASSERT_EQ(rec_count(&rs, REC_IDENTITIES), 1);
	rec_set_free(&rs);
	return ok;
}

/* The MeshIdentity that selects it gives its identity (.Workload: its
 * name); two instances of one service without one share theirs. */
static bool test_gw_instance_mesh_identity(void)
{
	struct rec_set rs;
	const struct mf_gw_instance *g, *g2, *g3;
	bool ok = rh_compile(BASE EDGE1 EDGE_ID
			     GW("edge-2", "{meshforge.io/node: mf-node-b}",
				"{type: BUILTIN, tags: " EDGE_TAGS "}")
			     GW("edge-3", "{meshforge.io/node: mf-node-b}",
				"{type: BUILTIN, tags: " EDGE_TAGS "}"),
			     NULL, &rs);

	g = ok ? gw_at(&rs, "edge-1") : NULL;
	g2 = ok ? gw_at(&rs, "edge-2") : NULL;
	g3 = ok ? gw_at(&rs, "edge-3") : NULL;
	ok = ok && ASSERT_TRUE(g) && ASSERT_TRUE(g2) && ASSERT_TRUE(g3) &&
	     ASSERT_STREQ(identity_of(&rs, g->identity_id),
			  "spiffe://mesh.local/gw/edge-1") &&
	     ASSERT_STREQ(identity_of(&rs, g2->identity_id),
			  "spiffe://mesh.local/edge-gateway") &&
	     ASSERT_EQ(g2->identity_id, g3->identity_id) &&
	     ASSERT_EQ(rec_count(&rs, REC_IDENTITIES), 2);
	rec_set_free(&rs);
	return ok;
}

/* Beside the endpoints, not among them: ep_view() and ep_views() skip a
 * gateway, a Workload and an endpoint Dataplane stay endpoints, and an
 * identity both have is one record. */
static bool test_gw_instance_not_an_endpoint(void)
{
	static const char yaml[] =
		BASE EDGE1 PH_SVC("web", "10.96.0.10", "80")
		PH_WL("b1", "mf-node-b", "10.78.2.11", "8080", "web", "web")
		DP_DOC("d1", "{meshforge.io/node: mf-node-b, app: shop}")
		"  networking:\n    address: 10.78.2.40\n"
		"    inbound: [{port: 80, tags: {kuma.io/service: web}}]\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: shop-id}\nspec:\n"
		"  selector: {dataplane: {matchLabels: {app: shop}}}\n"
		"  spiffeID: {trustDomain: mesh.local, path: /edge-gateway}\n";
	struct model_set set;
	struct ep_list eps = { 0 };
	struct ep_view v;
	struct gwi_view *gws = NULL;
	char id[MF_SPIFFE_MAX];
	size_t ngws = 0;
	struct diag d;
	struct rec_set rs;
	bool ok;

	model_set_init(&set);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0) &&
	     ASSERT_EQ(ep_views(&set, &eps), 0) &&
	     ASSERT_EQ(gwi_views(&set, &gws, &ngws), 0) &&
	     ASSERT_EQ(eps.n, 2) && ASSERT_STREQ(eps.v[0].o->name, "b1") &&
	     ASSERT_STREQ(eps.v[1].o->name, "d1") &&
	     ASSERT_STREQ(eps.v[1].id, "spiffe://mesh.local/edge-gateway") &&
	     ASSERT_FALSE(ep_view(&set, model_set_find(&set, dp_kind(),
						       "edge-1"), &v, id)) &&
	     ASSERT_EQ(ngws, 1) && ASSERT_STREQ(gws[0].o->name, "edge-1") &&
	     ASSERT_STREQ(gws[0].node, "mf-node-b") &&
	     ASSERT_STREQ(gws[0].id, "spiffe://mesh.local/edge-gateway") &&
	     ASSERT_FALSE(gwi_is(&set, model_set_find(&set, dp_kind(),
						      "d1")));
	if (!ok)
		diag_print(&d, stderr);
	ep_list_free(&eps);
	free(gws);
	diag_free(&d);
	model_set_free(&set);
	ok = ok && rh_compile(yaml, NULL, &rs) &&
	     ASSERT_EQ(rec_count(&rs, REC_ENDPOINTS), 2) &&
	     ASSERT_EQ(rec_count(&rs, REC_GW_INSTANCES), 1) &&
	     /* b1's, and one d1 and edge-1 share */
	     ASSERT_EQ(rec_count(&rs, REC_IDENTITIES), 2);
	rec_set_free(&rs);
	return ok;
}

/* Read back from the maps: a Dataplane, and it compiles to the same
 * records again, its identity keeping its id. */
static bool test_gw_instance_read_back(void)
{
	struct rec_set rs, again;
	struct model_set set;
	struct diag d;
	bool ok = rh_compile(BASE EDGE1 EDGE_ID, NULL, &rs);

	model_set_init(&set);
	diag_init(&d);
	rec_set_init(&again);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &set, &d), 0) &&
	     ASSERT_FALSE(model_set_find(&set, MODEL_WORKLOAD, "edge-1")) &&
	     ASSERT_TRUE(model_set_find(&set, dp_kind(), "edge-1")) &&
	     ASSERT_EQ(validate_set(&set, &d), 0) &&
	     ASSERT_EQ(compile_set(&set, &rs, &again, &d), 0) &&
	     ASSERT_TRUE(rec_set_equal(&rs, &again));
	if (!ok)
		diag_print(&d, stderr);
	diag_free(&d);
	model_set_free(&set);
	rec_set_free(&again);
	rec_set_free(&rs);
	return ok;
}

/* The agent's snapshot has the instances by name, whose identity and
 * tags it resolves; none of them is an endpoint. */
static bool test_gw_instance_snapshot(void)
{
	struct policy *p = rh_yaml_snapshot(
		BASE EDGE_ID
		GW("edge-2", "{meshforge.io/node: mf-node-b}",
		   "{type: BUILTIN, tags: " EDGE_TAGS "}") EDGE1, 1);
	const struct mf_gw_instance *g = p ? policy_gw_instance_at(p, 0) : NULL;
	const struct mf_gw_instance *g2 = p ? policy_gw_instance_at(p, 1) :
					      NULL;
	bool ok = ASSERT_TRUE(p) && ASSERT_EQ(policy_gw_instance_count(p), 2) &&
		  ASSERT_TRUE(g) && ASSERT_TRUE(g2) &&
		  ASSERT_FALSE(policy_gw_instance_at(p, 2)) &&
		  ASSERT_STREQ(g->name, "edge-1") &&
		  ASSERT_STREQ(g->node, "mf-node-b") &&
		  ASSERT_STREQ(policy_identity(p, g->identity_id),
			       "spiffe://mesh.local/gw/edge-1") &&
		  ASSERT_STREQ(kind_tag_value(polkinds_tags(policy_kinds(p),
							    g->tags),
					      "kuma.io/service"),
			       "edge-gateway") &&
		  ASSERT_STREQ(g2->name, "edge-2") &&
		  ASSERT_STREQ(policy_identity(p, g2->identity_id),
			       "spiffe://mesh.local/edge-gateway") &&
		  ASSERT_EQ(policy_endpoint_count(p), 0);

	if (p)
		policy_put(p);
	return ok;
}

static bool test_gw_instance_invalid(void)
{
	static const char *const no_node[] = {
		"t.yaml:12:1: metadata.labels.meshforge.io/node: no Node "
		"\"nowhere\" is defined or applied",
		NULL,
	};
	static const char *const no_service[] = {
		"t.yaml:12:1: spec.networking.gateway.tags: needs "
		"kuma.io/service: a builtin gateway that a Node runs is the "
		"service it names (its MeshGateway selects it by its tags)",
		NULL,
	};
	static const char *const no_spiffe[] = {
		"t.yaml:12:1: spec.networking.gateway.tags: kuma.io/service is "
		"its identity without a MeshIdentity, and \"edge:8080\" makes "
		"no SPIFFE ID (its path segment is letters, digits, '.', '-' "
		"and '_')",
		NULL,
	};
	static const char *const no_mesh[] = {
		"t.yaml:7:1: spec.networking.gateway.tags: needs the trust "
		"domain of a Mesh, and no Mesh is defined or applied",
		NULL,
	};
	static const char *const no_render[] = {
		"t.yaml:12:1: metadata.labels: MeshIdentity \"edge-id\" "
		"selects this Dataplane, but its template needs the label "
		"team, which the Workload does not have",
		NULL,
	};
	static const char *const delegated[] = {
		"t.yaml:12:1: metadata.labels.meshforge.io/node: a DELEGATED "
		"gateway is a proxy of its own, which no agent runs: a Node "
		"serves a Dataplane with an inbound, or runs a BUILTIN gateway",
		NULL,
	};
#define ON_B "{meshforge.io/node: mf-node-b, app: edge}"

	return ph_validate_refuses(BASE GW("edge-1", "{meshforge.io/node: "
					   "nowhere}", "{type: BUILTIN, tags: "
					   EDGE_TAGS "}"), no_node) &&
	       ph_validate_refuses(BASE GW("edge-1", ON_B, "{type: BUILTIN}"),
				   no_service) &&
	       ph_validate_refuses(BASE GW("edge-1", ON_B, "{type: BUILTIN, "
					   "tags: {}}"), no_service) &&
	       ph_validate_refuses(BASE GW("edge-1", ON_B, "{type: BUILTIN, "
					   "tags: {kuma.io/service: "
					   "\"edge:8080\"}}"), no_spiffe) &&
	       ph_validate_refuses(PH_NODE("mf-node-b", "10.77.0.2") EDGE1,
				   no_mesh) &&
	       ph_validate_refuses(BASE EDGE1
				   "---\napiVersion: kuma.io/v1alpha1\n"
				   "kind: MeshIdentity\n"
				   "metadata: {name: edge-id}\nspec:\n"
				   "  selector: {dataplane: {matchLabels: "
				   "{app: edge}}}\n"
				   "  spiffeID: {trustDomain: mesh.local, "
				   "path: \"/{{ label \\\"team\\\" }}\"}\n",
				   no_render) &&
	       ph_validate_refuses(BASE GW("kong", ON_B, "{type: DELEGATED, "
					   "tags: {kuma.io/service: kong}}"),
				   delegated);
#undef ON_B
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_gw_instance_compiled);
	TEST_RUN(test_gw_instance_mesh_identity);
	TEST_RUN(test_gw_instance_not_an_endpoint);
	TEST_RUN(test_gw_instance_read_back);
	TEST_RUN(test_gw_instance_snapshot);
	TEST_RUN(test_gw_instance_invalid);
	TEST_MAIN_END();
}
