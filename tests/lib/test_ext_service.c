// SPDX-License-Identifier: Apache-2.0
/*
 * MeshExternalService as a destination (lib/policy/mesh_service.h,
 * compile.c): a VIP from the Mesh's spec.meshExternalServices.vipRange,
 * kept across applies and apart from MeshService VIPs; one mf_services
 * record at its match.port, flagged external (and HTTP for protocol
 * http), with no endpoints; the permissions that target it, and only
 * those; the Mesh's defaultForbidMeshExternalServiceAccess; one name
 * space with the services.
 */
#include <arpa/inet.h>

#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/core.h"
#include "policy/mesh_service.h"

/* A MeshExternalService on @port (@proto) to 192.0.2.10:@ep_port. */
#define MES(name, port, proto, ep_port)                                       \
	PH_KUMA_DOC("MeshExternalService", name)                              \
	"  match: {type: HostnameGenerator, port: " port ", protocol: "      \
	proto "}\n"                                                           \
	"  endpoints: [{address: 192.0.2.10, port: " ep_port "}]\n"

#define MESH_RANGE(extra)                                                     \
	PH_MESH_WITH("meshExternalServices: {vipRange: 10.201.0.0/29}" extra)

/* Kuma's default range, one record each at match.port, flagged; http is
 * HTTP, tcp is not; ids of their own; no endpoints. */
static bool test_mes_compiled(void)
{
	struct rec_set rs;
	const struct mf_service *api, *db;
	bool ok = rh_compile(PH_BASE MES("api", "443", "http", "8443")
			     MES("db", "5432", "tcp", "5432"), NULL, &rs);

	api = ok ? ph_service_at(&rs, "242.0.0.1", 443) : NULL;
	db = ok ? ph_service_at(&rs, "242.0.0.2", 5432) : NULL;
	ok = ok && ASSERT_EQ(rec_count(&rs, REC_SERVICES), 2) &&
	     ASSERT_TRUE(api) && ASSERT_TRUE(db) &&
	     ASSERT_STREQ(api->name, "api") && ASSERT_STREQ(db->name, "db") &&
	     ASSERT_EQ(api->flags, MF_SERVICE_F_EXTERNAL | MF_SERVICE_F_HTTP) &&
	     ASSERT_EQ(db->flags, MF_SERVICE_F_EXTERNAL) &&
	     ASSERT_TRUE(api->id != db->id) &&
	     ASSERT_EQ(rec_count(&rs, REC_ENDPOINTS), 0) &&
	     ASSERT_EQ(rs.config.flags & MF_CONFIG_F_FORBID_MES, 0);
	rec_set_free(&rs);
	return ok;
}

/* The Mesh's range; a VIP kept when another comes first by name; none
 * that a MeshService took (where the two ranges overlap, MeshServices
 * take theirs first). */
#define MESH_BOTH                                                             \
	PH_MESH_WITH("meshExternalServices: {vipRange: 10.201.0.0/29}, "      \
		     "meshServices: {vipRange: 10.201.0.0/30}")               \
	PH_KUMA_DOC("MeshService", "ms")                                      \
	"  selector: {dataplaneLabels: {matchLabels: {app: none}}}\n"        \
	"  ports: [{port: 82}]\n"

static bool test_mes_vip_kept(void)
{
	struct rec_set first, second;
	const struct mf_service *zed, *aaa, *ms;
	bool ok = rh_compile(MESH_BOTH MES("zed", "80", "tcp", "80"), NULL,
			     &first) &&
		  rh_compile(MESH_BOTH MES("zed", "80", "tcp", "80")
			     MES("aaa", "81", "tcp", "81"), &first, &second);

	ms = ok ? ph_service_at(&first, "10.201.0.1", 82) : NULL;
	zed = ok ? ph_service_at(&first, "10.201.0.2", 80) : NULL;
	ok = ok && ASSERT_TRUE(ms) && ASSERT_STREQ(ms->name, "ms") &&
	     ASSERT_TRUE(zed) && ASSERT_STREQ(zed->name, "zed");
	zed = ok ? ph_service_at(&second, "10.201.0.2", 80) : NULL;
	aaa = ok ? ph_service_at(&second, "10.201.0.3", 81) : NULL;
	ok = ok && ASSERT_TRUE(zed) && ASSERT_STREQ(zed->name, "zed") &&
	     ASSERT_TRUE(aaa) && ASSERT_STREQ(aaa->name, "aaa");
	rec_set_free(&first);
	rec_set_free(&second);
	return ok;
}

/* A permission targeting the MeshExternalService gives it rules; a
 * Mesh-wide one gives it none (it still gives the Service its rules);
 * the Mesh's routing flag reaches mf_config. */
static bool test_mes_permissions(void)
{
	static const char yaml[] =
		MESH_RANGE(", routing: {defaultForbidMeshExternalServiceAccess:"
			   " true}")
		MES("api", "443", "http", "443")
		PH_SVC("web", "10.96.0.10", "80")
		RH_DOC("MeshTrafficPermission", "all")
		"spec:\n  targetRef: {kind: Mesh}\n  from:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default: {action: Allow}\n"
		RH_DOC("MeshTrafficPermission", "api-client")
		"spec:\n  targetRef: {kind: MeshExternalService, name: api}\n"
		"  from:\n"
		"    - targetRef: {kind: SpiffeID, name: \"" PH_SA("client")
		"\"}\n      default: {action: Allow}\n";
	struct rec_set rs;
	const struct mf_service *api, *web;
	bool ok = rh_compile(yaml, NULL, &rs);

	api = ok ? ph_service_at(&rs, "10.201.0.1", 443) : NULL;
	web = ok ? ph_service_at(&rs, "10.96.0.10", 80) : NULL;
	ok = ok && ASSERT_TRUE(api) && ASSERT_TRUE(web) &&
	     ASSERT_EQ(api->authz_rules, 1) && ASSERT_EQ(web->authz_rules, 1) &&
	     ASSERT_TRUE(rs.config.flags & MF_CONFIG_F_FORBID_MES) &&
	     ASSERT_STREQ(rs.config.mes_vip_range, "10.201.0.0/29");
	for (size_t i = 0; ok && i < rec_count(&rs, REC_AUTHZ); i++) {
		const struct mf_authz_key *k = rec_key(&rs, REC_AUTHZ, i);
		const struct mf_authz_rule *r = rec_val(&rs, REC_AUTHZ, i);

		if (k->service_id == api->id)
			ok = ASSERT_STREQ(r->spiffe, PH_SA("client"));
	}
	rec_set_free(&rs);
	return ok;
}

/* One name space with Services and MeshServices; the range checked. */
static bool test_mes_invalid(void)
{
	static const char *const clash[] = {
		"t.yaml:19:18: metadata.name: a Service or MeshService is "
		"named \"web\" too: they and MeshExternalServices share one "
		"name space",
		NULL,
	};
	static const char *const range[] = {
		"t.yaml:5:66: spec.meshExternalServices.vipRange: must be an "
		"IPv4 network a.b.c.d/p, p 8..30, without host bits, outside "
		"0/8, 127/8 and 224/4 (e.g. 241.0.0.0/8)",
		NULL,
	};

	return ph_validate_refuses(PH_BASE PH_SVC("web", "10.96.0.10", "80")
				   MES("web", "443", "tcp", "443"), clash) &&
	       ph_parse_refuses(RH_DOC("Mesh", "default")
				"spec: {trustDomain: mesh.local, "
				"meshExternalServices: {vipRange: "
				"127.0.0.0/8}}\n", range);
}

/* MeshPassthrough into mf_config: the Mesh-wide policies merged in
 * Kuma's order (select.h: at equal rank the name that sorts first is
 * merged last and its mode wins; the matches add up), an IP as its /32,
 * ports kept; a Domain match and a policy for some workloads only are not
 * in the Mesh's list. */
static bool test_passthrough_config(void)
{
	static const char yaml[] =
		PH_BASE
		RH_DOC("MeshPassthrough", "a")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default: {passthroughMode: Matched, appendMatch: [{type: IP, "
		"value: 192.0.2.7, port: 443, protocol: tls}]}\n"
		RH_DOC("MeshPassthrough", "b")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default:\n    passthroughMode: All\n    appendMatch:\n"
		"      - {type: CIDR, value: 198.51.100.0/24}\n"
		"      - {type: Domain, value: api.example.com, port: 443, "
		"protocol: tls}\n"
		RH_DOC("MeshPassthrough", "c")
		"spec:\n  targetRef: {kind: MeshSubset, tags: {app: x}}\n"
		"  default: {passthroughMode: None, appendMatch: [{type: CIDR, "
		"value: 203.0.113.0/24}]}\n";
	struct rec_set rs;
	const struct mf_config *c = &rs.config;
	bool ok = rh_compile(yaml, NULL, &rs);

	ok = ok && ASSERT_EQ(c->pt_mesh.mode, MF_PASSTHROUGH_MATCHED) &&
	     ASSERT_EQ(c->pt_mesh.n, 2) &&
	     ASSERT_EQ(c->pt_mesh.pt[1].addr[0], 192) && ASSERT_EQ(c->pt_mesh.pt[1].addr[3], 7) &&
	     ASSERT_EQ(c->pt_mesh.pt[1].prefix, 32) && ASSERT_EQ(c->pt_mesh.pt[1].port, 443) &&
	     ASSERT_EQ(c->pt_mesh.pt[0].addr[0], 198) && ASSERT_EQ(c->pt_mesh.pt[0].prefix, 24) &&
	     ASSERT_EQ(c->pt_mesh.pt[0].port, 0);
	rec_set_free(&rs);
	return ok;
}

/* IPv6 IP and CIDR matches into the IPv6 list, an IP as its /128; a
 * network with host bits (Go's net.ParseCIDR takes them, and so Kuma)
 * goes in as its network, IPv4 and IPv6 alike. */
static bool test_passthrough_config_ipv6(void)
{
	static const char yaml[] =
		PH_BASE
		RH_DOC("MeshPassthrough", "a")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default:\n    passthroughMode: Matched\n    appendMatch:\n"
		"      - {type: IP, value: \"2001:db8::7\", port: 443, "
		"protocol: tls}\n"
		"      - {type: CIDR, value: \"2001:db8:1:ff::1/48\"}\n"
		"      - {type: CIDR, value: 198.51.100.77/24}\n";
	struct rec_set rs;
	const struct mf_config *c = &rs.config;
	uint8_t want[16];
	bool ok = rh_compile(yaml, NULL, &rs);

	inet_pton(AF_INET6, "2001:db8::7", want);
	ok = ok && ASSERT_EQ(c->pt_mesh.n6, 2) && ASSERT_EQ(c->pt_mesh.n, 1) &&
	     ASSERT_EQ(memcmp(c->pt_mesh.pt6[0].addr, want, 16), 0) &&
	     ASSERT_EQ(c->pt_mesh.pt6[0].prefix, 128) &&
	     ASSERT_EQ(c->pt_mesh.pt6[0].port, 443);
	inet_pton(AF_INET6, "2001:db8:1::", want);
	ok = ok && ASSERT_EQ(memcmp(c->pt_mesh.pt6[1].addr, want, 16), 0) &&
	     ASSERT_EQ(c->pt_mesh.pt6[1].prefix, 48) &&
	     ASSERT_EQ(c->pt_mesh.pt[0].addr[3], 0) &&
	     ASSERT_EQ(c->pt_mesh.pt[0].addr[2], 100) &&
	     ASSERT_EQ(c->pt_mesh.pt[0].prefix, 24);
	rec_set_free(&rs);
	return ok;
}

/* The Domain matches' ports into mf_config, for the kernel to steer to
 * the agent: tls, http and grpc (and http2) ones, each port once, in the
 * order written; not one of a policy for some workloads only (that
 * workload's own passthrough has it); none written: none steered. */
static bool test_passthrough_domain_ports(void)
{
	static const char yaml[] =
		PH_BASE
		RH_DOC("MeshPassthrough", "a")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default:\n    passthroughMode: Matched\n    appendMatch:\n"
		"      - {type: Domain, value: api.example.com, port: 8443, "
		"protocol: tls}\n"
		"      - {type: Domain, value: \"*.example.com\", port: 8443, "
		"protocol: tls}\n"
		"      - {type: Domain, value: www.example.com, port: 80, "
		"protocol: http}\n"
		"      - {type: Domain, value: rpc.example.com, port: 9090, "
		"protocol: grpc}\n"
		"      - {type: IP, value: 192.0.2.7, port: 443}\n"
		RH_DOC("MeshPassthrough", "b")
		"spec:\n  targetRef: {kind: MeshSubset, tags: {app: x}}\n"
		"  default: {appendMatch: [{type: Domain, value: x.example.com, "
		"port: 7000, protocol: tls}]}\n";
	static const char any_yaml[] =
		PH_BASE
		RH_DOC("MeshPassthrough", "a")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default: {passthroughMode: Matched, appendMatch: [{type: "
		"Domain, value: api.example.com, protocol: tls}]}\n";
	struct rec_set rs;
	const struct mf_config *c = &rs.config;
	bool ok = rh_compile(yaml, NULL, &rs);

	ok = ok && ASSERT_EQ(c->pt_mesh.mode, MF_PASSTHROUGH_MATCHED) &&
	     ASSERT_EQ(c->pt_mesh.n, 1) && ASSERT_EQ(c->pt_mesh.dom_any, 0) &&
	     ASSERT_EQ(c->pt_mesh.dom_n, 3) &&
	     ASSERT_EQ(c->pt_mesh.dom_port[0], 8443) &&
	     ASSERT_EQ(c->pt_mesh.dom_port[1], 80) &&
	     ASSERT_EQ(c->pt_mesh.dom_port[2], 9090);
	rec_set_free(&rs);
	ok = ok && rh_compile(any_yaml, NULL, &rs);
	ok = ok && ASSERT_EQ(c->pt_mesh.dom_any, 1) && ASSERT_EQ(c->pt_mesh.dom_n, 0);
	rec_set_free(&rs);
	ok = ok && rh_compile(PH_BASE, NULL, &rs);
	ok = ok && ASSERT_EQ(c->pt_mesh.mode, 0) && ASSERT_EQ(c->pt_mesh.dom_any, 0) &&
	     ASSERT_EQ(c->pt_mesh.dom_n, 0);
	rec_set_free(&rs);
	return ok;
}

/* The Mesh's MeshPassthroughs compile into mf_config, which holds 16
 * Domain ports and 16 IPv4 networks: one more of either is refused by
 * apply, on the match that does not fit (b's one goes in first: a, whose
 * name sorts first, is merged last; its 16th is the 17th); 16 fit. */
static bool pt_compile(const char *type, int n_a, int n_b, int *rc,
		       struct diag *d)
{
	char yaml[8192];
	size_t m = 0;
	struct model_set set;
	struct rec_set rs;
	bool ok;

	m += (size_t)snprintf(yaml + m, sizeof(yaml) - m, "%s", PH_BASE);
	for (int p = 0; p < 2; p++) {
		int n = p ? n_b : n_a;

		m += (size_t)snprintf(yaml + m, sizeof(yaml) - m,
			"---\napiVersion: kuma.io/v1alpha1\nkind: MeshPassthrough\n"
			"metadata: {name: %s}\nspec:\n  targetRef: {kind: Mesh}\n"
			"  default:\n    passthroughMode: Matched\n"
			"    appendMatch:%s\n", p ? "b" : "a", n ? "" : " []");
		for (int i = 0; i < n; i++) {
			int k = p * 16 + i;

			if (!strcmp(type, "Domain"))
				m += (size_t)snprintf(yaml + m, sizeof(yaml) - m,
					"      - {type: Domain, value: h%d.example.com, "
					"port: %d, protocol: tls}\n", k, 9001 + k);
			else
				m += (size_t)snprintf(yaml + m, sizeof(yaml) - m,
					"      - {type: CIDR, value: 10.%d.0.0/16}\n",
					100 + k);
		}
	}
	model_set_init(&set);
	ok = ASSERT_TRUE(m < sizeof(yaml)) &&
	     ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml, strlen(yaml), d),
		       0) &&
	     ASSERT_EQ(validate_set(&set, d), 0);
	*rc = ok ? compile_set(&set, NULL, &rs, d) : -1;
	if (ok)
		rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

static bool test_passthrough_full(void)
{
	static const char *const what[] = { "Domain", "CIDR" };
	static const char *const said[] = {
		"spec.default.appendMatch[15]: more than 16 Domain ports over the "
		"Mesh's MeshPassthroughs",
		"spec.default.appendMatch[15]: more than 16 IPv4 networks over the "
		"Mesh's MeshPassthroughs",
	};
	bool ok = true;

	for (int t = 0; ok && t < 2; t++) {
		struct diag d;
		int rc;

		diag_init(&d);
		ok = pt_compile(what[t], 16, 0, &rc, &d) && ASSERT_EQ(rc, 0) &&
		     ASSERT_EQ(d.n, 0);
		diag_free(&d);
		diag_init(&d);
		ok = ok && pt_compile(what[t], 16, 1, &rc, &d) &&
		     ASSERT_EQ(rc, -ENOSPC) && ASSERT_EQ(d.n, 1) &&
		     /* At policy a's name, the one that did not fit. */
		     ASSERT_TRUE(!strncmp(d.msgs[0], "t.yaml:", 7)) &&
		     ASSERT_TRUE(strstr(d.msgs[0], said[t]) != NULL);
		if (!ok)
			for (size_t i = 0; i < d.n; i++)
				fprintf(stderr, "  diag: %s\n", d.msgs[i]);
		diag_free(&d);
	}
	return ok;
}

/* A MeshPassthrough for some workloads only: each workload it selects
 * gets a profile in mf_config, its mode over the Mesh's and its matches
 * added to the Mesh's (Mesh first), named by its mf_endpoints record;
 * workloads with the same effective policy share one; the others, and
 * every workload when only Mesh-wide policies exist, have none. */
static bool test_passthrough_profiles(void)
{
	static const char yaml[] =
		PH_BASE
		PH_SVC("x", "10.96.0.10", "80") PH_SVC("y", "10.96.0.11", "80")
		PH_WL("x1", "mf-node-b", "10.1.0.1", "8080", "x", "x")
		PH_WL("x2", "mf-node-b", "10.1.0.2", "8080", "x", "x")
		PH_WL("y1", "mf-node-b", "10.1.0.3", "8080", "y", "y")
		RH_DOC("MeshPassthrough", "mesh")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default: {passthroughMode: None, appendMatch: [{type: CIDR, "
		"value: 198.51.100.0/24}]}\n"
		RH_DOC("MeshPassthrough", "x")
		"spec:\n  targetRef: {kind: MeshSubset, tags: "
		"{kuma.io/service: x}}\n"
		"  default:\n    passthroughMode: Matched\n    appendMatch:\n"
		"      - {type: IP, value: 192.0.2.7, port: 443}\n"
		"      - {type: Domain, value: h2.example.com, port: 80, "
		"protocol: http2}\n"
		RH_DOC("MeshPassthrough", "y1")
		"spec:\n  targetRef: {kind: Dataplane, name: x2}\n"
		"  default: {appendMatch: [{type: Domain, value: g.example.com, "
		"port: 50051, protocol: grpc}]}\n";
	struct rec_set rs;
	const struct mf_config *c = &rs.config;
	const struct mf_pt_profile *p0 = &c->pt_prof[0], *p1 = &c->pt_prof[1];
	__u32 pf[3] = { 9, 9, 9 };
	bool ok = rh_compile(yaml, NULL, &rs);

	for (size_t i = 0; ok && i < rec_count(&rs, REC_ENDPOINTS); i++) {
		const struct mf_endpoint_key *k = rec_key(&rs, REC_ENDPOINTS, i);
		const struct mf_endpoint *v = rec_val(&rs, REC_ENDPOINTS, i);

		if (k->ip[0] == 10 && k->ip[3] >= 1 && k->ip[3] <= 3)
			pf[k->ip[3] - 1] = v->pt_profile;
	}
	ok = ok && ASSERT_EQ(c->pt_mesh.mode, MF_PASSTHROUGH_NONE) &&
	     ASSERT_EQ(c->pt_mesh.n, 1) && ASSERT_EQ(c->pt_mesh.dom_n, 0) &&
	     ASSERT_EQ(c->pt_nprof, 2) && ASSERT_EQ(c->pt_prof_dom, 1) &&
	     /* x1: the MeshSubset's; x2: the Dataplane one's on top. */
	     ASSERT_EQ(pf[0], 1) && ASSERT_EQ(pf[1], 2) && ASSERT_EQ(pf[2], 0) &&
	     ASSERT_EQ(p0->mode, MF_PASSTHROUGH_MATCHED) &&
	     ASSERT_EQ(p0->n, 2) && ASSERT_EQ(p0->pt[0].addr[0], 198) &&
	     ASSERT_EQ(p0->pt[1].addr[0], 192) &&
	     ASSERT_EQ(p0->pt[1].prefix, 32) &&
	     ASSERT_EQ(p0->pt[1].port, 443) &&
	     ASSERT_EQ(p0->dom_n, 1) && ASSERT_EQ(p0->dom_port[0], 80) &&
	     /* The Dataplane one (merged before the MeshSubset one:
	      * select.h's order of kinds) writes no mode. */
	     ASSERT_EQ(p1->mode, MF_PASSTHROUGH_MATCHED) &&
	     ASSERT_EQ(p1->n, 2) && ASSERT_EQ(p1->dom_n, 2) &&
	     ASSERT_EQ(p1->dom_port[0], 50051) &&
	     ASSERT_EQ(p1->dom_port[1], 80);
	if (ok)
		rec_set_free(&rs);
	return ok;
}

/* The Mesh's networking.outbound.passthrough: false holds every source
 * that no MeshPassthrough selects to mode None (mf_config.pt_mesh); a
 * MeshPassthrough overrides it, Mesh-wide for everyone, narrower for the
 * workloads it selects (their profile); true or unset changes nothing. */
static bool mesh_pt_mode_is(const char *yaml, __u8 mode, __u8 nprof,
			    __u8 prof_mode)
{
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	ok = ok && ASSERT_EQ(rs.config.pt_mesh.mode, mode) &&
	     ASSERT_EQ(rs.config.pt_nprof, nprof) &&
	     (!nprof || ASSERT_EQ(rs.config.pt_prof[0].mode, prof_mode));
	if (ok)
		rec_set_free(&rs);
	return ok;
}

static bool test_mesh_passthrough_flag(void)
{
#define PT_WLS PH_SVC("x", "10.96.0.10", "80")                               \
	PH_WL("x1", "mf-node-b", "10.1.0.1", "8080", "x", "x")
#define PT_OFF PH_MESH_WITH("networking: {outbound: {passthrough: false}}")
	static const char off[] = PT_OFF PT_WLS;
	static const char on[] =
		PH_MESH_WITH("networking: {outbound: {passthrough: true}}")
		PT_WLS;
	static const char off_mesh_all[] = PT_OFF PT_WLS
		RH_DOC("MeshPassthrough", "all")
		"spec:\n  targetRef: {kind: Mesh}\n"
		"  default: {passthroughMode: All}\n";
	static const char off_subset_all[] = PT_OFF PT_WLS
		RH_DOC("MeshPassthrough", "x")
		"spec:\n  targetRef: {kind: MeshSubset, tags: "
		"{kuma.io/service: x}}\n"
		"  default: {passthroughMode: All}\n";

	return mesh_pt_mode_is(off, MF_PASSTHROUGH_NONE, 0, 0) &&
	       mesh_pt_mode_is(on, 0, 0, 0) &&
	       mesh_pt_mode_is(PH_BASE PT_WLS, 0, 0, 0) &&
	       mesh_pt_mode_is(off_mesh_all, MF_PASSTHROUGH_ALL, 0, 0) &&
	       mesh_pt_mode_is(off_subset_all, MF_PASSTHROUGH_NONE, 1,
			       MF_PASSTHROUGH_ALL);
#undef PT_OFF
#undef PT_WLS
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mes_compiled);
	TEST_RUN(test_mes_vip_kept);
	TEST_RUN(test_mes_permissions);
	TEST_RUN(test_mes_invalid);
	TEST_RUN(test_passthrough_config);
	TEST_RUN(test_passthrough_config_ipv6);
	TEST_RUN(test_passthrough_domain_ports);
	TEST_RUN(test_passthrough_full);
	TEST_RUN(test_passthrough_profiles);
	TEST_RUN(test_mesh_passthrough_flag);
	TEST_MAIN_END();
}
