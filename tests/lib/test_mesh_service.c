// SPDX-License-Identifier: Apache-2.0
/*
 * MeshService as a service that carries traffic (lib/policy/
 * mesh_service.c): its VIP from the Mesh's range, kept across applies;
 * a record per port; the Workloads its selector picks as endpoints, those
 * its identities leave out flagged; what validation refuses; how it reads
 * back from the maps; and the members a MeshMultiZoneService compiles to,
 * its VIP and records.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/core.h"
#include "policy/decompile.h"
#include "policy/doc.h"
#include "policy/mesh_service.h"

/* A MeshService selecting the Workloads labelled app: @app, on @port. */
#define MS(name, app, port)                                                   \
	PH_KUMA_DOC("MeshService", name)                                      \
	"  selector: {dataplaneLabels: {matchLabels: {app: " app "}}}\n"     \
	"  ports: [{port: " port ", targetPort: " port "}]\n"

/* A Workload without spec.service, labelled app: @app. */
#define WL_APP(name, ip, port, app)                                           \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"           \
	"metadata: {name: " name ", labels: {app: " app "}}\n"               \
	"spec: {node: mf-node-b, ip: " ip ", port: " port ", "               \
	"identity: \"" PH_SA(app) "\"}\n"

#define REDIS                                                                 \
	PH_KUMA_DOC("MeshService", "redis")                                   \
	"  selector: {dataplaneLabels: {matchLabels: {app: redis}}}\n"       \
	"  ports:\n"                                                          \
	"    - {port: 6379, targetPort: 6379, appProtocol: tcp}\n"            \
	"    - {name: admin, port: 7000, targetPort: admin}\n"                \
	WL_APP("r1", "10.78.2.21", "6379", "redis")

/* One record per port at the first address of the default range, one
 * id, flagged; the selected Workload is its endpoint. */
static bool test_msvc_compiled(void)
{
	struct rec_set rs;
	struct mf_endpoint_key ek = { .ip = { 10, 78, 2, 21 } };
	const struct mf_service *a, *b;
	const struct mf_endpoint *e;
	long i;
	bool ok = rh_compile(PH_BASE REDIS, NULL, &rs);

	a = ok ? ph_service_at(&rs, "241.0.0.1", 6379) : NULL;
	b = ok ? ph_service_at(&rs, "241.0.0.1", 7000) : NULL;
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
		PH_BASE
		PH_KUMA_DOC("MeshService", "shop")
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
		const struct mf_service *s = ph_service_at(&rs, "241.0.0.1",
						    want[i].port);

		ok = ASSERT_TRUE(s) && ASSERT_EQ(s->flags, want[i].flags);
		if (!ok)
			fprintf(stderr, "port %u\n", want[i].port);
	}
	rec_set_free(&rs);
	return ok;
}

#define MESH_30 PH_MESH_WITH("meshServices: {vipRange: 10.200.0.0/30}")
#define MESH_24 PH_MESH_WITH("meshServices: {vipRange: 10.200.0.0/24}")

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

	redis = ok ? ph_service_at(&second, "10.200.0.1", 6379) : NULL;
	aaa = ok ? ph_service_at(&second, "10.200.0.3", 9000) : NULL;
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
	struct rec_set rs;
	bool ok = rh_compile(MESH_30 MS("a", "a", "80") WL_APP("a1", "10.78.2.1",
							       "80", "a"),
			     NULL, &rs) &&
		  ASSERT_TRUE(ph_service_at(&rs, "10.200.0.1", 80));

	rec_set_free(&rs);
	return ok && ph_compile_refuses(yaml, full);
}

static bool test_msvc_invalid(void)
{
	static const char *const no_service[] = {
		"t.yaml:12:1: spec.service: is required unless a MeshService "
		"with ports selects this Workload",
		NULL,
	};
	/* A MeshService without ports (Kuma takes one) has no endpoints:
	 * the Workload it selects still needs a service. */
	static const char *const portless[] = {
		"t.yaml:18:1: spec.service: is required unless a MeshService "
		"with ports selects this Workload",
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

	return ph_validate_refuses(PH_BASE WL_APP("r1", "10.78.2.21", "6379", "redis"),
			  no_service) &&
	       ph_validate_refuses(PH_BASE PH_KUMA_DOC("MeshService", "redis")
			  "  selector: {dataplaneLabels: {matchLabels: "
			  "{app: redis}}}\n"
			  WL_APP("r1", "10.78.2.21", "6379", "redis"),
			  portless) &&
	       ph_validate_refuses(PH_BASE REDIS MS("redis2", "redis", "6379"), two) &&
	       ph_validate_refuses(PH_BASE PH_SVC("web", "10.96.0.10", "80") REDIS
			  PH_WL("w1", "mf-node-b", "10.78.2.22", "6379",
				"web", "redis")
			  "---\napiVersion: meshforge.io/v1alpha1\n"
			  "kind: Workload\nmetadata: {name: w2, labels: "
			  "{app: redis}}\nspec: {node: mf-node-b, ip: "
			  "10.78.2.23, port: 6379, service: web, identity: "
			  "\"" PH_SA("w2") "\"}\n", both) &&
	       ph_validate_refuses(PH_BASE PH_SVC("web", "10.96.0.10", "80")
			  MS("web", "web", "80"), clash) &&
	       ph_validate_refuses(PH_BASE MS("redis", "redis", "6380")
			  WL_APP("r1", "10.78.2.21", "6379", "redis"), port);
}

/* Policies name a MeshService as they name a Service: a permission on
 * it compiles to rules under its id.  Read back from the maps, the
 * MeshService is not a Service and its Workload leaves spec.service
 * out. */
static bool test_msvc_policies_and_read_back(void)
{
	static const char yaml[] =
		PH_BASE REDIS
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

	s = ok ? ph_service_at(&rs, "241.0.0.1", 7000) : NULL;
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
		const char *const msgs[] = { want, NULL };

		snprintf(yaml, sizeof(yaml), RH_DOC("Mesh", "default")
			 "spec: {trustDomain: mesh.local, meshServices: "
			 "{vipRange: \"%s\"}}\n", bad[i]);
		snprintf(want, sizeof(want), "t.yaml:5:58: "
			 "spec.meshServices.vipRange: must be an IPv4 network "
			 "a.b.c.d/p, p 8..30, without host bits, outside 0/8, "
			 "127/8 and 224/4 (e.g. 241.0.0.0/8)");
		ok = ph_parse_refuses(yaml, msgs);
	}
	return ok;
}

/* A MeshService labelled group: @group, selecting Workloads app: @app,
 * on @ports. */
#define MS_G(name, app, group, ports)                                         \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"             \
	"metadata: {name: " name ", labels: {group: " group "}}\nspec:\n"    \
	"  selector: {dataplaneLabels: {matchLabels: {app: " app "}}}\n"     \
	"  ports: " ports "\n"

#define MZS_DOC(name, group, ports)                                           \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshMultiZoneService\n"    \
	"metadata: {name: " name "}\nspec:\n"                                 \
	"  selector: {meshService: {matchLabels: {group: " group "}}}\n"     \
	"  ports: " ports "\n"

/* The mf_mz_services record of @name in @rs, or NULL. */
static struct mf_mesh_multi_zone_service *mzs_at(const struct rec_set *rs,
						 const char *name)
{
	for (size_t i = 0; i < rec_count(rs, REC_MZ_SERVICES); i++) {
		const struct mf_pol_key *k = rec_key(rs, REC_MZ_SERVICES, i);

		if (!strcmp(k->name, name))
			return rec_val(rs, REC_MZ_SERVICES, i);
	}
	return NULL;
}

/* A MeshMultiZoneService's members: by its ports in order, then by
 * MeshService name, those whose labels it matches and that have the port
 * too, with their service ids; one its labels do not match is not one,
 * nor one without the port; one that selects none has none. */
static bool test_mzs_members(void)
{
	static const char yaml[] =
		PH_BASE
		MS_G("be-west", "west", "backend",
		     "[{port: 8080, targetPort: 8080}, "
		     "{port: 9090, targetPort: 8080}]")
		MS_G("be-east", "east", "backend",
		     "[{port: 8080, targetPort: 8080}]")
		MS_G("be-else", "else", "other",
		     "[{port: 8080, targetPort: 8080}]")
		WL_APP("e1", "10.78.2.31", "8080", "east")
		WL_APP("w1", "10.78.2.32", "8080", "west")
		WL_APP("x1", "10.78.2.33", "8080", "else")
		MZS_DOC("backend", "backend",
			"[{port: 9090}, {port: 8080, appProtocol: http}, "
			"{port: 7070}]")
		MZS_DOC("nobody", "none", "[{port: 8080}]");
	const struct mf_service *east, *west;
	const struct mf_mesh_multi_zone_service *z, *none;
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	/* VIPs in name order: be-east, be-else, be-west. */
	east = ok ? ph_service_at(&rs, "241.0.0.1", 8080) : NULL;
	west = ok ? ph_service_at(&rs, "241.0.0.3", 8080) : NULL;
	z = ok ? mzs_at(&rs, "backend") : NULL;
	none = ok ? mzs_at(&rs, "nobody") : NULL;
	ok = ok && ASSERT_TRUE(east) && ASSERT_STREQ(east->name, "be-east") &&
	     ASSERT_TRUE(west) && ASSERT_STREQ(west->name, "be-west") &&
	     ASSERT_TRUE(z) && ASSERT_TRUE(none) &&
	     ASSERT_EQ(z->nmembers, 3) &&
	     ASSERT_EQ(z->members[0].service_id, west->id) &&
	     ASSERT_EQ(z->members[0].port, 9090) &&
	     ASSERT_EQ(z->members[1].service_id, east->id) &&
	     ASSERT_EQ(z->members[1].port, 8080) &&
	     ASSERT_EQ(z->members[2].service_id, west->id) &&
	     ASSERT_EQ(z->members[2].port, 8080) &&
	     ASSERT_EQ(none->nmembers, 0);
	rec_set_free(&rs);
	return ok;
}

/* spec.state: an Unavailable MeshService is no member (Kuma sends a
 * MeshMultiZoneService's traffic to its Available ones), one Available or
 * without a state is; a MeshMultiZoneService whose MeshServices are all
 * Unavailable has none, as one that selects none. */
static bool test_mzs_members_state(void)
{
	static const char yaml[] =
		PH_BASE
		MS_G("be-west", "west", "backend",
		     "[{port: 8080, targetPort: 8080}]")
		"  state: Unavailable\n"
		MS_G("be-east", "east", "backend",
		     "[{port: 8080, targetPort: 8080}]")
		"  state: Available\n"
		MS_G("be-north", "north", "backend",
		     "[{port: 8080, targetPort: 8080}]")
		MS_G("db-a", "dba", "db", "[{port: 5432, targetPort: 5432}]")
		"  state: Unavailable\n"
		WL_APP("e1", "10.78.2.31", "8080", "east")
		WL_APP("w1", "10.78.2.32", "8080", "west")
		WL_APP("n1", "10.78.2.33", "8080", "north")
		WL_APP("d1", "10.78.2.34", "5432", "dba")
		MZS_DOC("backend", "backend", "[{port: 8080}]")
		MZS_DOC("db", "db", "[{port: 5432}]");
	const struct mf_service *east, *north;
	const struct mf_mesh_multi_zone_service *z, *db;
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	/* VIPs in name order: be-east, be-north, be-west, db-a. */
	east = ok ? ph_service_at(&rs, "241.0.0.1", 8080) : NULL;
	north = ok ? ph_service_at(&rs, "241.0.0.2", 8080) : NULL;
	z = ok ? mzs_at(&rs, "backend") : NULL;
	db = ok ? mzs_at(&rs, "db") : NULL;
	ok = ok && ASSERT_TRUE(east) && ASSERT_STREQ(east->name, "be-east") &&
	     ASSERT_TRUE(north) && ASSERT_STREQ(north->name, "be-north") &&
	     ASSERT_TRUE(z) && ASSERT_TRUE(db) &&
	     ASSERT_EQ(z->nmembers, 2) &&
	     ASSERT_EQ(z->members[0].service_id, east->id) &&
	     ASSERT_EQ(z->members[1].service_id, north->id) &&
	     ASSERT_EQ(db->nmembers, 0);
	rec_set_free(&rs);
	return ok;
}

/* More members than a record holds is an error of apply's, on the
 * MeshMultiZoneService: three MeshServices of 16 ports, all selected at
 * each, are 48. */
static bool test_mzs_members_too_many(void)
{
	static const char *const want[] = {
		"t.yaml:50:18: spec.selector: selects more than 32 "
		"MeshService ports",
		NULL,
	};
	char ports[1024], zports[512], yaml[16384];
	size_t n = 0, m = 0, zn = 0;

	n += (size_t)snprintf(ports + n, sizeof(ports) - n, "[");
	zn += (size_t)snprintf(zports + zn, sizeof(zports) - zn, "[");
	for (int i = 0; i < 16; i++) {
		n += (size_t)snprintf(ports + n, sizeof(ports) - n,
				      "%s{port: %d, targetPort: 8080}",
				      i ? ", " : "", 8000 + i);
		zn += (size_t)snprintf(zports + zn, sizeof(zports) - zn,
				       "%s{port: %d}", i ? ", " : "",
				       8000 + i);
	}
	snprintf(ports + n, sizeof(ports) - n, "]");
	snprintf(zports + zn, sizeof(zports) - zn, "]");
	m += (size_t)snprintf(yaml + m, sizeof(yaml) - m, "%s", PH_BASE);
	for (int i = 0; i < 3; i++)
		m += (size_t)snprintf(yaml + m, sizeof(yaml) - m,
			"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"
			"metadata: {name: s%d, labels: {group: g}}\nspec:\n"
			"  selector: {dataplaneLabels: {matchLabels: "
			"{app: a%d}}}\n  ports: %s\n"
			"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
			"metadata: {name: w%d, labels: {app: a%d}}\n"
			"spec: {node: mf-node-b, ip: 10.78.2.%d, port: 8080, "
			"identity: \"" PH_SA("a") "\"}\n", i, i, ports, i, i,
			40 + i);
	m += (size_t)snprintf(yaml + m, sizeof(yaml) - m,
		 "---\napiVersion: kuma.io/v1alpha1\n"
		 "kind: MeshMultiZoneService\nmetadata: {name: many}\nspec:\n"
		 "  selector: {meshService: {matchLabels: {group: g}}}\n"
		 "  ports: %s\n", zports);
	return ASSERT_TRUE(m < sizeof(yaml)) && ph_compile_refuses(yaml, want);
}

/* A MeshMultiZoneService's VIP: from Kuma's range of their own,
 * 243.0.0.0/8, apart from the MeshServices' (241.0.0.0/8), its first
 * address; a record per spec.ports entry, one id (not a MeshService's),
 * flagged multi-zone, HTTP where appProtocol is http; no endpoint of its
 * own.  Read back from the maps, it is no Service. */
static bool test_mzs_vip_records(void)
{
	static const char yaml[] =
		PH_BASE
		MS_G("be-west", "west", "backend",
		     "[{port: 8080, targetPort: 8080}]")
		WL_APP("w1", "10.78.2.32", "8080", "west")
		MZS_DOC("backend", "backend",
			"[{port: 8080, appProtocol: http}, {port: 9090}]");
	const struct mf_service *ms, *h, *t;
	struct model_set set;
	struct rec_set rs;
	struct diag d;
	bool ok = rh_compile(yaml, NULL, &rs);

	ms = ok ? ph_service_at(&rs, "241.0.0.1", 8080) : NULL;
	h = ok ? ph_service_at(&rs, "243.0.0.1", 8080) : NULL;
	t = ok ? ph_service_at(&rs, "243.0.0.1", 9090) : NULL;
	ok = ok && ASSERT_EQ(rec_count(&rs, REC_SERVICES), 3) &&
	     ASSERT_TRUE(ms) && ASSERT_TRUE(h) && ASSERT_TRUE(t) &&
	     ASSERT_STREQ(h->name, "backend") && ASSERT_EQ(h->id, t->id) &&
	     ASSERT_TRUE(h->id != ms->id) &&
	     ASSERT_EQ(h->flags, MF_SERVICE_F_MULTI_ZONE | MF_SERVICE_F_HTTP) &&
	     ASSERT_EQ(t->flags, MF_SERVICE_F_MULTI_ZONE) &&
	     ASSERT_EQ(h->authz_rules, 0) &&
	     ASSERT_EQ(rec_count(&rs, REC_ENDPOINTS), 1);
	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &set, &d), 0) &&
	     ASSERT_FALSE(model_set_find(&set, MODEL_SERVICE, "backend")) &&
	     ASSERT_TRUE(model_set_find(&set, mzs_kind(), "backend")) &&
	     ASSERT_EQ(validate_set(&set, &d), 0);
	if (!ok)
		diag_print(&d, stderr);
	diag_free(&d);
	model_set_free(&set);
	rec_set_free(&rs);
	return ok;
}

#define MESH_MZ_30 PH_MESH_WITH("meshMultiZoneServices: "                   \
				"{vipRange: 10.201.0.0/30}")
#define MESH_MZ_24 PH_MESH_WITH("meshMultiZoneServices: "                   \
				"{vipRange: 10.201.0.0/24}")
#define MZ_BE MS_G("be-west", "west", "backend",                              \
		   "[{port: 8080, targetPort: 8080}]")                       \
	WL_APP("w1", "10.78.2.32", "8080", "west")                            \
	MZS_DOC("backend", "backend", "[{port: 8080}]")

/* The Mesh's spec.meshMultiZoneServices.vipRange: a MeshMultiZoneService
 * keeps its VIP across applies when another comes first by name and the
 * range grows, the new one taking the next free address; the range reads
 * back from mf_config; used up, apply says which one found none. */
static bool test_mzs_vip_kept(void)
{
	static const char *const full[] = {
		"t.yaml:28:18: metadata.name: no address is left for it in "
		"the MeshMultiZoneService VIP range 10.201.0.0/30 (Mesh "
		"spec.meshMultiZoneServices.vipRange)",
		NULL,
	};
	static const char yaml3[] = MESH_MZ_30 MZS_DOC("a", "g", "[{port: 1}]")
		MZS_DOC("b", "g", "[{port: 1}]")
		MZS_DOC("c", "g", "[{port: 1}]");
	struct rec_set first, second;
	const struct mf_service *be, *aaa;
	const struct core_mesh *m;
	struct model_set set;
	struct diag d;
	bool ok = rh_compile(MESH_MZ_30 MZ_BE, NULL, &first) &&
		  ASSERT_TRUE(ph_service_at(&first, "10.201.0.1", 8080)) &&
		  rh_compile(MESH_MZ_24 MZ_BE
			     MZS_DOC("aaa", "backend", "[{port: 8080}]"),
			     &first, &second);

	be = ok ? ph_service_at(&second, "10.201.0.1", 8080) : NULL;
	aaa = ok ? ph_service_at(&second, "10.201.0.2", 8080) : NULL;
	ok = ok && ASSERT_TRUE(be) && ASSERT_STREQ(be->name, "backend") &&
	     ASSERT_TRUE(aaa) && ASSERT_STREQ(aaa->name, "aaa");
	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&second, &set, &d), 0);
	m = ok ? model_spec(model_set_find(&set, MODEL_MESH, "default")) : NULL;
	ok = ok && ASSERT_STREQ(m->mesh_mz_services.vip_range,
				"10.201.0.0/24");
	model_set_free(&set);
	diag_free(&d);
	rec_set_free(&first);
	rec_set_free(&second);
	return ok && ph_compile_refuses(yaml3, full);
}

/* A MeshMultiZoneService shares the services' name space: one named as a
 * MeshService is refused. */
static bool test_mzs_name_clash(void)
{
	static const char *const clash[] = {
		"t.yaml:26:18: metadata.name: a Service, MeshService or "
		"MeshExternalService is named \"be-west\" too: they and "
		"MeshMultiZoneServices share one name space",
		NULL,
	};

	return ph_validate_refuses(PH_BASE MS_G("be-west", "west", "backend",
					  "[{port: 8080, targetPort: 8080}]")
				   WL_APP("w1", "10.78.2.32", "8080", "west")
				   MZS_DOC("be-west", "backend",
					   "[{port: 8080}]"), clash);
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
		PH_BASE
		PH_KUMA_DOC("MeshService", "db")
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
		PH_KUMA_DOC("MeshService", "cache")
		"  selector: {dataplaneLabels: {matchLabels: {app: cache}}}\n"
		"  ports: [{port: 6379, targetPort: 5432}]\n"
		"  identities: [{type: ServiceTag, value: cache}]\n"
		WL_AS("c1", "10.78.2.71", "cache", "anyone", "")
		PH_KUMA_DOC("MeshService", "open")
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
	TEST_RUN(test_mzs_members);
	TEST_RUN(test_mzs_members_state);
	TEST_RUN(test_mzs_members_too_many);
	TEST_RUN(test_mzs_vip_records);
	TEST_RUN(test_mzs_vip_kept);
	TEST_RUN(test_mzs_name_clash);
	TEST_RUN(test_msvc_identities);
	TEST_MAIN_END();
}
