// SPDX-License-Identifier: Apache-2.0
/*
 * Kuma's universal Dataplane as a Workload (lib/policy/dataplane.c,
 * endpoint.c): one labelled meshforge.io/node compiles to an endpoint with
 * its inbound's address, port, service and tags and its MeshIdentity's
 * identity; one without the label is stored only; validation says what an
 * endpoint Dataplane lacks; read back, it is a Dataplane, not a Workload.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/decompile.h"
#include "policy/doc.h"
#include "policy/dataplane.h"
#include "policy/mesh_service.h"

#define DP_DOC(name, labels)                                                  \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"               \
	"metadata: {name: " name ", labels: " labels "}\nspec:\n"

/* Dataplane d1 on node b, for web, at 10.78.2.40: port 15006, app 9090. */
#define D1                                                                    \
	DP_DOC("d1", "{meshforge.io/node: mf-node-b, app: shop}")             \
	"  networking:\n"                                                     \
	"    address: 10.78.2.40\n"                                           \
	"    inbound:\n"                                                      \
	"      - {port: 15006, servicePort: 9090,\n"                          \
	"         tags: {kuma.io/service: web, version: v2}}\n"

#define SHOP_ID                                                               \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"            \
	"metadata: {name: shop-id}\nspec:\n"                                  \
	"  selector: {dataplane: {matchLabels: {app: shop}}}\n"               \
	"  spiffeID: {trustDomain: mesh.local, path: \"/dp/{{ .Workload }}\"}\n"

#define BASE                                                                  \
	PH_MESH PH_NODE("mf-node-b", "10.77.0.2")                             \
	PH_SVC("web", "10.96.0.10", "80")

/* Endpoint @ip of @rs, or NULL. */
static const struct mf_endpoint *ep_at(const struct rec_set *rs,
				       const char *ip)
{
	struct mf_endpoint_key k;
	long i;

	memset(&k, 0, sizeof(k));
	if (!rh_ip(k.ip, ip))
		return NULL;
	i = rec_find(rs, REC_ENDPOINTS, &k);
	return i < 0 ? NULL : rec_val(rs, REC_ENDPOINTS, (size_t)i);
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

/* The endpoint: the inbound's servicePort, web's id, the rendered
 * identity (its .Workload is the Dataplane's name), the inbound's tags,
 * flagged; a Dataplane without the label is none. */
static bool test_dp_endpoint_compiled(void)
{
	struct rec_set rs;
	const struct mf_endpoint *e;
	bool ok = rh_compile(BASE D1 SHOP_ID
			     DP_DOC("d2", "{app: shop}")
			     "  networking:\n    address: 10.78.2.41\n"
			     "    inbound: [{port: 80, tags: "
			     "{kuma.io/service: web}}]\n", NULL, &rs);

	e = ok ? ep_at(&rs, "10.78.2.40") : NULL;
	ok = ok && ASSERT_TRUE(e) && ASSERT_EQ(e->port, 9090) &&
	     ASSERT_STREQ(e->name, "d1") &&
	     ASSERT_EQ(e->flags, MF_ENDPOINT_F_DATAPLANE) &&
	     ASSERT_TRUE(e->tags != 0) &&
	     ASSERT_STREQ(identity_of(&rs, e->identity_id),
			  "spiffe://mesh.local/dp/d1") &&
	     ASSERT_EQ(rec_count(&rs, REC_ENDPOINTS), 1);
	rec_set_free(&rs);
	return ok;
}

/* Without kuma.io/service, the MeshService that selects it is its
 * service. */
static bool test_dp_service_from_mesh_service(void)
{
	struct rec_set rs;
	const struct mf_endpoint *e;
	long i;
	struct mf_service_key k = { .port = 80, .proto = MF_PROTO_TCP };
	bool ok = rh_compile(BASE SHOP_ID
			     DP_DOC("d1", "{meshforge.io/node: mf-node-b, "
				    "app: shop}")
			     "  networking:\n    address: 10.78.2.40\n"
			     "    inbound: [{port: 8080}]\n"
			     "---\napiVersion: kuma.io/v1alpha1\n"
			     "kind: MeshService\nmetadata: {name: shop}\n"
			     "spec:\n  selector: {dataplaneLabels: "
			     "{matchLabels: {app: shop}}}\n"
			     "  ports: [{port: 80, targetPort: 8080}]\n",
			     NULL, &rs);

	e = ok ? ep_at(&rs, "10.78.2.40") : NULL;
	ok = ok && ASSERT_TRUE(e) && rh_ip(k.vip, "241.0.0.1");
	i = ok ? rec_find(&rs, REC_SERVICES, &k) : -1;
	ok = ok && ASSERT_TRUE(i >= 0) &&
	     ASSERT_EQ(e->service_id, ((const struct mf_service *)rec_val(
				 &rs, REC_SERVICES, (size_t)i))->id);
	rec_set_free(&rs);
	return ok;
}

/* A permission for some Workloads selects a Dataplane endpoint by its
 * labels: its rule is marked with the Dataplane's address. */
static bool test_dp_permission_target(void)
{
	struct rec_set rs;
	const struct mf_authz_rule *r;
	bool ok = rh_compile(BASE D1 SHOP_ID
			     RH_DOC("MeshTrafficPermission", "shop-deny")
			     "spec:\n  targetRef: {kind: Dataplane, labels: "
			     "{app: shop}}\n"
			     "  from: [{targetRef: {kind: Mesh}, default: "
			     "{action: Deny}}]\n", NULL, &rs);
	uint8_t ip[4];

	ok = ok && ASSERT_EQ(rec_count(&rs, REC_AUTHZ), 1) &&
	     rh_ip(ip, "10.78.2.40");
	r = ok ? rec_val(&rs, REC_AUTHZ, 0) : NULL;
	ok = ok && ASSERT_EQ(r->action, MF_AUTHZ_DENY) &&
	     ASSERT_MEMEQ(r->endpoint, ip, 4);
	rec_set_free(&rs);
	return ok;
}

/* Read back from the maps: a Dataplane and no Workload of its name. */
static bool test_dp_read_back(void)
{
	struct rec_set rs;
	struct model_set set;
	struct diag d;
	bool ok = rh_compile(BASE D1 SHOP_ID, NULL, &rs);

	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &set, &d), 0) &&
	     ASSERT_FALSE(model_set_find(&set, MODEL_WORKLOAD, "d1")) &&
	     ASSERT_TRUE(model_set_find(&set, dp_kind(), "d1")) &&
	     ASSERT_EQ(validate_set(&set, &d), 0);
	if (!ok)
		diag_print(&d, stderr);
	diag_free(&d);
	model_set_free(&set);
	rec_set_free(&rs);
	return ok;
}

#define DP1(labels, networking) \
	DP_DOC("d1", labels) "  networking:\n" networking

static bool test_dp_invalid(void)
{
	static const char *const no_node[] = {
		"t.yaml:17:1: metadata.labels.meshforge.io/node: no Node "
		"\"nowhere\" is defined or applied",
		NULL,
	};
	static const char *const two_inbounds[] = {
		"t.yaml:17:1: spec.networking: a Dataplane that is a Workload "
		"has one inbound (its address is one endpoint)",
		NULL,
	};
	static const char *const host_name[] = {
		"t.yaml:17:1: spec.networking: a Dataplane that is a Workload "
		"needs an IPv4 address (networking.address, or its inbound's "
		"address or serviceAddress)",
		NULL,
	};
	static const char *const no_service[] = {
		"t.yaml:17:1: spec.networking.inbound[0].tags: needs "
		"kuma.io/service (a Service or MeshService), unless a "
		"MeshService selects this Dataplane",
		NULL,
	};
	static const char *const unknown_service[] = {
		"t.yaml:17:1: spec.networking.inbound[0].tags: kuma.io/service: "
		"no Service or MeshService \"db\" is defined or applied",
		NULL,
	};
	static const char *const no_identity[] = {
		"t.yaml:17:1: metadata.labels: a Dataplane's identity comes "
		"from a MeshIdentity, and none selects this one",
		NULL,
	};
	static const char *const same_ip[] = {
		"t.yaml:17:1: spec.networking: its address 10.78.2.11 is "
		"Workload b1's too",
		NULL,
	};
#define ON_B "{meshforge.io/node: mf-node-b, app: shop}"
#define WEB_IN "    inbound: [{port: 80, tags: {kuma.io/service: web}}]\n"

	return ph_validate_refuses(BASE DP1("{meshforge.io/node: nowhere, app: shop}",
				   "    address: 10.78.2.40\n" WEB_IN) SHOP_ID,
			  no_node) &&
	       ph_validate_refuses(BASE DP1(ON_B, "    address: 10.78.2.40\n"
				   "    inbound: [{port: 80, tags: "
				   "{kuma.io/service: web}}, {port: 81, tags: "
				   "{kuma.io/service: web}}]\n") SHOP_ID,
			  two_inbounds) &&
	       ph_validate_refuses(BASE DP1(ON_B, "    address: web.example\n" WEB_IN)
			  SHOP_ID, host_name) &&
	       ph_validate_refuses(BASE DP1(ON_B, "    address: 10.78.2.40\n"
				   "    inbound: [{port: 80}]\n") SHOP_ID,
			  no_service) &&
	       ph_validate_refuses(BASE DP1(ON_B, "    address: 10.78.2.40\n"
				   "    inbound: [{port: 80, tags: "
				   "{kuma.io/service: db}}]\n") SHOP_ID,
			  unknown_service) &&
	       ph_validate_refuses(BASE DP1(ON_B, "    address: 10.78.2.40\n" WEB_IN),
			  no_identity) &&
	       ph_validate_refuses(BASE DP1(ON_B, "    address: 10.78.2.11\n" WEB_IN)
			  SHOP_ID PH_WL("b1", "mf-node-b", "10.78.2.11", "8080",
					"web", "web"), same_ip);
#undef ON_B
#undef WEB_IN
}

/* Addresses are checked across every endpoint and only endpoints: two
 * Dataplanes at one address are refused, the later by name; a Dataplane
 * that is not a Node's endpoint (no meshforge.io/node) may share a
 * Workload's; a Workload beside a Dataplane of its own name and address
 * is the one named first. */
static bool test_dp_same_address(void)
{
	static const char *const two_dps[] = {
		"t.yaml:24:1: spec.networking: its address 10.78.2.40 is "
		"Dataplane d1's too",
		NULL,
	};
	static const char *const wl_and_dp[] = {
		"t.yaml:29:1: spec.networking: its address 10.78.2.40 is "
		"Workload d1's too",
		NULL,
	};
#define NET "  networking:\n    address: 10.78.2.40\n" \
	    "    inbound: [{port: 80, tags: {kuma.io/service: web}}]\n"

	return ph_validate_refuses(BASE SHOP_ID
				   DP_DOC("d2", "{meshforge.io/node: mf-node-b, "
					  "app: shop}") NET
				   DP_DOC("d1", "{meshforge.io/node: mf-node-b, "
					  "app: shop}") NET, two_dps) &&
	       ph_validates(BASE SHOP_ID
			    PH_WL("w1", "mf-node-b", "10.78.2.40", "8080",
				  "web", "web")
			    DP_DOC("d1", "{app: shop}") NET) &&
	       ph_validate_refuses(BASE SHOP_ID
				   PH_WL("d1", "mf-node-b", "10.78.2.40",
					 "8080", "web", "web")
				   DP_DOC("d1", "{meshforge.io/node: mf-node-b, "
					  "app: shop}") NET, wl_and_dp);
#undef NET
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_dp_endpoint_compiled);
	TEST_RUN(test_dp_service_from_mesh_service);
	TEST_RUN(test_dp_permission_target);
	TEST_RUN(test_dp_read_back);
	TEST_RUN(test_dp_invalid);
	TEST_RUN(test_dp_same_address);
	TEST_MAIN_END();
}
