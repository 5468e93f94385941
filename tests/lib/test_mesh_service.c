// SPDX-License-Identifier: Apache-2.0
/*
 * MeshService as a service that carries traffic (lib/policy/
 * mesh_service.c): its VIP from the Mesh's range, kept across applies;
 * a record per port; the Workloads its selector picks as endpoints,
 * those its identities leave out flagged; what
 * validation refuses; and how it reads back from the maps.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/core.h"
#include "policy/decompile.h"
#include "policy/doc.h"
#include "policy/mesh_service.h"

#define MS_DOC(name)                                                          \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"             \
	"metadata: {name: " name "}\nspec:\n"

/* A MeshService selecting the Workloads labelled app: @app, on @port. */
#define MS(name, app, port)                                                   \
	MS_DOC(name)                                                          \
	"  selector: {dataplaneLabels: {matchLabels: {app: " app "}}}\n"     \
	"  ports: [{port: " port ", targetPort: " port "}]\n"

/* A Workload without spec.service, labelled app: @app. */
#define WL_APP(name, ip, port, app)                                           \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"           \
	"metadata: {name: " name ", labels: {app: " app "}}\n"               \
	"spec: {node: mf-node-b, ip: " ip ", port: " port ", "               \
	"identity: \"" PH_SA(app) "\"}\n"

#define BASE PH_MESH PH_NODE("mf-node-b", "10.77.0.2")

#define REDIS                                                                 \
	MS_DOC("redis")                                                       \
	"  selector: {dataplaneLabels: {matchLabels: {app: redis}}}\n"       \
	"  ports:\n"                                                          \
	"    - {port: 6379, targetPort: 6379, appProtocol: tcp}\n"            \
	"    - {name: admin, port: 7000, targetPort: admin}\n"                \
	WL_APP("r1", "10.78.2.21", "6379", "redis")

/* The mf_services record of @vip:@port in @rs, or NULL. */
static const struct mf_service *svc_at(const struct rec_set *rs,
				       const char *vip, uint16_t port)
{
	struct mf_service_key k = { .port = port, .proto = MF_PROTO_TCP };
	long i;

	if (!rh_ip(k.vip, vip))
		return NULL;
	i = rec_find(rs, REC_SERVICES, &k);
	return i < 0 ? NULL : rec_val(rs, REC_SERVICES, (size_t)i);
}

/* One record per port at the first address of the default range, one
 * id, flagged; the selected Workload is its endpoint. */
static bool test_msvc_compiled(void)
{
	struct rec_set rs;
	struct mf_endpoint_key ek = { .ip = { 10, 78, 2, 21 } };
	const struct mf_service *a, *b;
	const struct mf_endpoint *e;
	long i;
	bool ok = rh_compile(BASE REDIS, NULL, &rs);

	a = ok ? svc_at(&rs, "241.0.0.1", 6379) : NULL;
	b = ok ? svc_at(&rs, "241.0.0.1", 7000) : NULL;
	i = ok ? rec_find(&rs, REC_ENDPOINTS, &ek) : -1;
	ok = ok && ASSERT_EQ(rec_count(&rs, REC_SERVICES), 2) &&
	     ASSERT_TRUE(a) && ASSERT_TRUE(b) && ASSERT_EQ(a->id, b->id) &&
	     ASSERT_STREQ(a->name, "redis") &&
	     ASSERT_EQ(a->flags, MF_SERVICE_F_MESH_SERVICE) &&
	     ASSERT_TRUE(i >= 0);
	if (ok) {
		e = rec_val(&rs, REC_ENDPOINTS, (size_t)i);
		ok = ASSERT_EQ(e->service_id, a->id) &&
		     ASSERT_EQ(e->port, 6379);
	}
	rec_set_free(&rs);
	return ok;
}

/* Each port has its own protocol: appProtocol http, in any case, is
 * HTTP; tcp or none is not, and neither is http2 (not HTTP/1.1).  The
 * endpoints' kuma.io/protocol tags are not asked. */
static bool test_msvc_port_protocols(void)
{
	static const char yaml[] =
		BASE
		MS_DOC("shop")
		"  selector: {dataplaneLabels: {matchLabels: {app: shop}}}\n"
		"  ports:\n"
		"    - {port: 80, targetPort: 8080, appProtocol: HTTP}\n"
		"    - {port: 81, targetPort: 8080, appProtocol: tcp}\n"
		"    - {port: 82, targetPort: 8080}\n"
		"    - {port: 83, targetPort: 8080, appProtocol: http2}\n"
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
		"metadata: {name: s1, labels: {app: shop}}\n"
		"spec: {node: mf-node-b, ip: 10.78.2.51, port: 8080, "
		"identity: \"" PH_SA("shop") "\",\n"
		"       tags: {kuma.io/protocol: http}}\n";
	static const struct {
		uint16_t port;
		uint32_t flags;
	} want[] = {
		{ 80, MF_SERVICE_F_MESH_SERVICE | MF_SERVICE_F_HTTP },
		{ 81, MF_SERVICE_F_MESH_SERVICE },
		{ 82, MF_SERVICE_F_MESH_SERVICE },
		{ 83, MF_SERVICE_F_MESH_SERVICE },
	};
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs) &&
		  ASSERT_EQ(rec_count(&rs, REC_SERVICES), 4);

	for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++) {
		const struct mf_service *s = svc_at(&rs, "241.0.0.1",
						    want[i].port);

		ok = ASSERT_TRUE(s) && ASSERT_EQ(s->flags, want[i].flags);
		if (!ok)
			fprintf(stderr, "port %u\n", want[i].port);
	}
	rec_set_free(&rs);
	return ok;
}

#define MESH_30                                                               \
	RH_DOC("Mesh", "default")                                             \
	"spec: {trustDomain: mesh.local, "                                    \
	"meshServices: {vipRange: 10.200.0.0/30}}\n"                          \
	PH_NODE("mf-node-b", "10.77.0.2")

#define MESH_24                                                               \
	RH_DOC("Mesh", "default")                                             \
	"spec: {trustDomain: mesh.local, "                                    \
	"meshServices: {vipRange: 10.200.0.0/24}}\n"                          \
	PH_NODE("mf-node-b", "10.77.0.2")

/* A MeshService keeps its VIP when another one comes first by name and
 * the range grows, and the new one takes the next free address; a
 * Service's VIP in the range is skipped. */
static bool test_msvc_vip_kept(void)
{
	struct rec_set first, second;
	const struct mf_service *redis, *aaa;
	bool ok = rh_compile(MESH_30 REDIS, NULL, &first) &&
		  rh_compile(MESH_24 REDIS PH_SVC("web", "10.200.0.2", "80")
			     MS("aaa", "aaa", "9000")
			     WL_APP("a1", "10.78.2.31", "9000", "aaa"),
			     &first, &second);

	redis = ok ? svc_at(&second, "10.200.0.1", 6379) : NULL;
	aaa = ok ? svc_at(&second, "10.200.0.3", 9000) : NULL;
	ok = ok && ASSERT_TRUE(redis) && ASSERT_STREQ(redis->name, "redis") &&
	     ASSERT_TRUE(aaa) && ASSERT_STREQ(aaa->name, "aaa");
	rec_set_free(&first);
	rec_set_free(&second);
	return ok;
}

/* The Mesh's range: its first host address; when it is used up, apply
 * says which MeshService found none. */
static bool test_msvc_range(void)
{
	static const char *const full[] = {
		"t.yaml:28:18: metadata.name: no address is left for it in "
		"the MeshService VIP range 10.200.0.0/30 (Mesh "
		"spec.meshServices.vipRange)",
		NULL,
	};
	static const char yaml[] = MESH_30 MS("a", "a", "80")
		MS("b", "b", "80") MS("c", "c", "80");
	struct model_set set;
	struct rec_set rs;
	struct diag d;
	bool ok = rh_compile(MESH_30 MS("a", "a", "80") WL_APP("a1", "10.78.2.1",
							       "80", "a"),
			     NULL, &rs) &&
		  ASSERT_TRUE(svc_at(&rs, "10.200.0.1", 80));

	rec_set_free(&rs);
	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml,
					      strlen(yaml), &d), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0) &&
	     ASSERT_EQ(compile_set(&set, NULL, &rs, &d), -ENOSPC) &&
	     ph_diag_is(&d, full);
	rec_set_free(&rs);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

static bool test_msvc_invalid(void)
{
	static const char *const no_service[] = {
		"t.yaml:12:1: spec.service: is required unless a MeshService "
		"selects this Workload",
		NULL,
	};
	static const char *const two[] = {
		"t.yaml:21:1: spec.service: 2 MeshServices select this "
		"Workload (\"redis\" and more); a Workload is the endpoint of "
		"one service",
		NULL,
	};
	static const char *const both[] = {
		"t.yaml:36:1: spec.service: names \"web\", but MeshService "
		"\"redis\" selects this Workload; a Workload is the endpoint "
		"of one service",
		NULL,
	};
	static const char *const clash[] = {
		"t.yaml:19:18: metadata.name: a Service is named \"web\" too: "
		"Services and MeshServices share one name space",
		NULL,
	};
	static const char *const port[] = {
		"t.yaml:12:1: spec.ports[0].targetPort: 6380 is not the port of "
		"Workload \"r1\" (6379), which it selects",
		NULL,
	};

	return ph_validate_refuses(BASE WL_APP("r1", "10.78.2.21", "6379", "redis"),
			  no_service) &&
	       ph_validate_refuses(BASE REDIS MS("redis2", "redis", "6379"), two) &&
	       ph_validate_refuses(BASE PH_SVC("web", "10.96.0.10", "80") REDIS
			  PH_WL("w1", "mf-node-b", "10.78.2.22", "6379",
				"web", "redis")
			  "---\napiVersion: meshforge.io/v1alpha1\n"
			  "kind: Workload\nmetadata: {name: w2, labels: "
			  "{app: redis}}\nspec: {node: mf-node-b, ip: "
			  "10.78.2.23, port: 6379, service: web, identity: "
			  "\"" PH_SA("w2") "\"}\n", both) &&
	       ph_validate_refuses(BASE PH_SVC("web", "10.96.0.10", "80")
			  MS("web", "web", "80"), clash) &&
	       ph_validate_refuses(BASE MS("redis", "redis", "6380")
			  WL_APP("r1", "10.78.2.21", "6379", "redis"), port);
}

/* Policies name a MeshService as they name a Service: a permission on
 * it compiles to rules under its id.  Read back from the maps, the
 * MeshService is not a Service and its Workload leaves spec.service
 * out. */
static bool test_msvc_policies_and_read_back(void)
{
	static const char yaml[] =
		BASE REDIS
		RH_DOC("MeshTrafficPermission", "redis-allow")
		"spec:\n  targetRef: {kind: MeshService, name: redis}\n"
		"  from:\n  - targetRef: {kind: Mesh}\n"
		"    default: {action: Allow}\n";
	struct rec_set rs;
	struct model_set set;
	struct diag d;
	const struct mf_service *s;
	const struct core_workload *w;
	bool ok = rh_compile(yaml, NULL, &rs);

	s = ok ? svc_at(&rs, "241.0.0.1", 7000) : NULL;
	ok = ok && ASSERT_TRUE(s) && ASSERT_EQ(s->authz_rules, 1);
	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &set, &d), 0) &&
	     ASSERT_FALSE(model_set_find(&set, MODEL_SERVICE, "redis")) &&
	     ASSERT_TRUE(model_set_find(&set, msvc_kind(), "redis"));
	w = ok ? model_spec(model_set_find(&set, MODEL_WORKLOAD, "r1")) : NULL;
	ok = ok && ASSERT_STREQ(w->service, "") &&
	     ASSERT_EQ(w->present & (1u << CW_SERVICE), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0);
	if (!ok)
		diag_print(&d, stderr);
	diag_free(&d);
	model_set_free(&set);
	rec_set_free(&rs);
	return ok;
}

/* The range reads back from mf_config; a range with host bits, or
 * where no unicast VIP lives, is refused. */
static bool test_msvc_range_field(void)
{
	static const char *const bad[] = { "10.200.0.1/24", "127.0.0.0/8",
					   "224.0.0.0/8", "10.0.0.0/31",
					   "10.0.0.0", NULL };
	struct rec_set rs;
	struct model_set set;
	struct diag d;
	const struct core_mesh *m;
	bool ok = rh_compile(MESH_30, NULL, &rs);

	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &set, &d), 0);
	m = ok ? model_spec(model_set_find(&set, MODEL_MESH, "default")) : NULL;
	ok = ok && ASSERT_STREQ(m->mesh_services.vip_range, "10.200.0.0/30");
	diag_free(&d);
	model_set_free(&set);
	rec_set_free(&rs);
	for (size_t i = 0; ok && bad[i]; i++) {
		char yaml[256], want[256];

		snprintf(yaml, sizeof(yaml), RH_DOC("Mesh", "default")
			 "spec: {trustDomain: mesh.local, meshServices: "
			 "{vipRange: \"%s\"}}\n", bad[i]);
		snprintf(want, sizeof(want), "t.yaml:5:58: "
			 "spec.meshServices.vipRange: must be an IPv4 network "
			 "a.b.c.d/p, p 8..30, without host bits, outside 0/8, "
			 "127/8 and 224/4 (e.g. 241.0.0.0/8)");
		model_set_init(&set);
		diag_init(&d);
		ok = ASSERT_EQ(doc_parse_buffer(&set, "t.yaml", yaml,
						strlen(yaml), &d), -EINVAL) &&
		     ASSERT_EQ(d.n, 1) && ASSERT_STREQ(d.msgs[0], want);
		diag_free(&d);
		model_set_free(&set);
	}
	return ok;
}

/* A Workload labelled app: @app that speaks as service account @sa,
 * with @tags (", tags: {...}" or ""). */
#define WL_AS(name, ip, app, sa, tags)                                        \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"           \
	"metadata: {name: " name ", labels: {app: " app "}}\n"               \
	"spec: {node: mf-node-b, ip: " ip ", port: 5432, "                   \
	"identity: \"" PH_SA(sa) "\"" tags "}\n"

/* The flags of the endpoint at 10.78.2.@last of @rs, or ~0u. */
static uint32_t ep_flags(const struct rec_set *rs, uint8_t last)
{
	struct mf_endpoint_key ek = { .ip = { 10, 78, 2, last } };
	long i = rec_find(rs, REC_ENDPOINTS, &ek);

	return i < 0 ? ~0u :
	       ((const struct mf_endpoint *)rec_val(rs, REC_ENDPOINTS,
						     (size_t)i))->flags;
}

/* spec.identities: an endpoint whose SPIFFE ID is listed (SpiffeID), or
 * whose kuma.io/service is (ServiceTag: its tag, else its service's
 * name), is the service's to use; one that is neither is flagged
 * MF_ENDPOINT_F_UNLISTED, still a record of its own.  No identities:
 * none is flagged.  inspect says why. */
static bool test_msvc_identities(void)
{
	static const char yaml[] =
		BASE
		MS_DOC("db")
		"  selector: {dataplaneLabels: {matchLabels: {app: db}}}\n"
		"  ports: [{port: 5432, targetPort: 5432}]\n"
		"  identities:\n"
		"    - {type: SpiffeID, value: \"" PH_SA("db") "\"}\n"
		"    - {type: ServiceTag, value: db-primary}\n"
		WL_AS("d1", "10.78.2.61", "db", "db", "")
		WL_AS("d2", "10.78.2.62", "db", "rogue", "")
		WL_AS("d3", "10.78.2.63", "db", "other",
		      ", tags: {kuma.io/service: db-primary}")
		WL_AS("d4", "10.78.2.64", "db", "other",
		      ", tags: {kuma.io/service: db-replica}")
		MS_DOC("cache")
		"  selector: {dataplaneLabels: {matchLabels: {app: cache}}}\n"
		"  ports: [{port: 6379, targetPort: 5432}]\n"
		"  identities: [{type: ServiceTag, value: cache}]\n"
		WL_AS("c1", "10.78.2.71", "cache", "anyone", "")
		MS_DOC("open")
		"  selector: {dataplaneLabels: {matchLabels: {app: open}}}\n"
		"  ports: [{port: 7000, targetPort: 5432}]\n"
		WL_AS("o1", "10.78.2.81", "open", "whoever", "");
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	ok = ok && ASSERT_EQ(ep_flags(&rs, 61), 0) &&
	     ASSERT_EQ(ep_flags(&rs, 62), MF_ENDPOINT_F_UNLISTED) &&
	     ASSERT_EQ(ep_flags(&rs, 63), 0) &&
	     ASSERT_EQ(ep_flags(&rs, 64), MF_ENDPOINT_F_UNLISTED) &&
	     ASSERT_EQ(ep_flags(&rs, 71), 0) &&
	     ASSERT_EQ(ep_flags(&rs, 81), 0);
	rec_set_free(&rs);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_msvc_compiled);
	TEST_RUN(test_msvc_port_protocols);
	TEST_RUN(test_msvc_vip_kept);
	TEST_RUN(test_msvc_range);
	TEST_RUN(test_msvc_range_field);
	TEST_RUN(test_msvc_invalid);
	TEST_RUN(test_msvc_policies_and_read_back);
	TEST_RUN(test_msvc_identities);
	TEST_MAIN_END();
}
