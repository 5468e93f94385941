// SPDX-License-Identifier: Apache-2.0
/*
 * mfctl's policy pipeline without a kernel: parse -> validate -> compile
 * gives the expected map records for every kind; records -> decompile ->
 * YAML -> parse gives the same objects and the same records; apply's merge
 * keeps ids stable and drops stale records; cross-object problems give
 * exact messages.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

/* input_merge(): the merge `mfctl apply` (and `diff`) does. */
#include "policy/input.h"
#include "policy/decompile.h"

#define API "apiVersion: meshforge.io/v1alpha1\n"

static const char policy[] =
	PH_MESH
	PH_NODE("mf-node-a", "10.77.0.1")
	RH_DOC("Node", "mf-node-b")
	"spec: {address: 10.77.0.2, tunnelPort: 15009}\n"
	PH_SVC("web", "10.96.0.10", "80")
	RH_DOC("Service", "api")
	"spec: {vip: 10.96.0.11, port: 8080, protocol: tcp}\n"
	PH_WL("b1", "mf-node-b", "10.78.2.11", "8080", "web", "web")
	PH_WL("b2", "mf-node-b", "10.78.2.12", "8080", "web", "web")
	PH_WL("a1", "mf-node-a", "10.78.1.11", "9090", "api", "client")
	RH_DOC("MeshTrafficPermission", "web-allow") PH_WEB_ALLOW_SPEC;

/* Parses, validates and compiles @yaml over @prev (may be NULL). */
static bool build(const char *yaml, const struct rec_set *prev,
		  struct model_set *set, struct rec_set *rs)
{
	struct diag d;
	bool ok;

	model_set_init(set);
	rec_set_init(rs);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(set, "p.yaml", yaml, strlen(yaml), &d),
		       0) &&
	     ASSERT_EQ(validate_set(set, &d), 0) &&
	     ASSERT_EQ(compile_set(set, prev, rs, &d), 0);
	if (!ok)
		diag_print(&d, stderr);
	diag_free(&d);
	return ok;
}

/*
 * When @ok (@want was built), policy compiled on an empty state holds
 * every record of @want with its value byte for byte, @want's mf_config
 * when it sets flags, and @count[m] records in each map m with a count
 * above 0.  @want is freed either way.
 */
static bool compiled_has(struct rec_set *want, bool ok, const size_t *count)
{
	struct model_set set;
	struct rec_set rs;

	ok = build(policy, NULL, &set, &rs) && ok &&
	     (!want->config.flags ||
	      ASSERT_MEMEQ(&rs.config, &want->config, sizeof(rs.config)));
	for (int m = 0; ok && m < REC_MAP_MAX; m++) {
		ok = !count[m] || ASSERT_EQ(rec_count(&rs, m), count[m]);
		for (size_t j = 0; ok && j < rec_count(want, m); j++) {
			long i = rec_find(&rs, m, rec_key(want, m, j));

			ok = ASSERT_GE(i, 0) &&
			     ASSERT_MEMEQ(rec_val(&rs, m, (size_t)i),
					  rec_val(want, m, j),
					  rec_map_info(m)->val_size);
		}
	}
	rec_set_free(want);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

static bool test_compile_config_and_nodes(void)
{
	static const size_t count[REC_MAP_MAX] = { [REC_NODES] = 2 };
	struct rec_set want;
	bool ok;

	rec_set_init(&want);
	ok = rh_mesh(&want, 0, "default", "mesh.local") &&
	     rh_node(&want, "mf-node-b", "10.77.0.2", 15009) &&
	     /* No tunnelPort: the default one. */
	     rh_node(&want, "mf-node-a", "10.77.0.1", MF_PORT_TUNNEL);
	return compiled_has(&want, ok, count);
}

static bool test_compile_services_identities_endpoints(void)
{
	/* Two workloads share one identity: two identities in all. */
	static const size_t count[REC_MAP_MAX] = {
		[REC_SERVICES] = 2, [REC_IDENTITIES] = 2, [REC_ENDPOINTS] = 3,
	};
	struct rec_set want;
	bool ok;

	rec_set_init(&want);
	/* Ids in name order from 1: api = 1, web = 2; client = 1, web = 2. */
	ok = rh_service(&want, 2, "web", "10.96.0.10", 80, 3) &&
	     /* Its spec says tcp. */
	     rh_service_flags(&want, 1, "api", "10.96.0.11", 8080, 0,
			      MF_SERVICE_F_PROTOCOL_SPEC) &&
	     rh_identity(&want, 2, PH_SA("web")) &&
	     /* On mf-node-b: its address and its tunnelPort name it. */
	     rh_endpoint(&want, "10.78.2.12", 8080, "b2", 2, 2, "10.77.0.2",
			 15009);
	return compiled_has(&want, ok, count);
}

/* A compile over the records in force has room for as many records in
 * each table from the start (rec_set_reserve()), so that no table is
 * copied while it fills; a compile from nothing grows its tables. */
static bool test_compile_reserves_from_prev(void)
{
	struct rec_set first, again;
	bool ok = rh_compile(policy, NULL, &first) &&
		  rh_compile(policy, &first, &again);

	for (int m = 0; ok && m < REC_MAP_MAX; m++) {
		size_t n = rec_count(&first, m);

		ok = ASSERT_EQ(rec_count(&again, m), n) &&
		     ASSERT_EQ(again.t[m].cap, n ? n + n / 16 : 0);
	}
	/* From nothing, the endpoints' table doubled from its first room. */
	ok = ok && ASSERT_NE(first.t[REC_ENDPOINTS].cap,
			     rec_count(&first, REC_ENDPOINTS));
	rec_set_free(&first);
	rec_set_free(&again);
	return ok;
}

static bool test_compile_authz(void)
{
	static const size_t count[REC_MAP_MAX] = { [REC_AUTHZ] = 3 };
	struct rec_set want;
	bool ok;

	rec_set_init(&want);
	ok = rh_rule(&want, 2, 0, MF_AUTHZ_ALLOW, MF_AUTHZ_MATCH_EXACT,
		     "web-allow", PH_SA("client")) &&
	     rh_rule(&want, 2, 1, MF_AUTHZ_DENY, MF_AUTHZ_MATCH_PREFIX,
		     "web-allow", "spiffe://mesh.local/ns/batch/") &&
	     /* A `Mesh` entry is the trust domain's prefix. */
	     rh_rule(&want, 2, 2, MF_AUTHZ_ALLOW, MF_AUTHZ_MATCH_PREFIX,
		     "web-allow", "spiffe://mesh.local/");
	return compiled_has(&want, ok, count);
}

/* Two policies on one service: indexes continue across them, policies in
 * name order. */
static bool test_compile_two_policies_one_service(void)
{
	static const char extra[] =
		RH_DOC("MeshTrafficPermission", "a-first")
		"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
		"    - targetRef: {kind: SpiffeIDPrefix, name: \"spiffe://mesh.local/ns/x\"}\n"
		"      default: {action: Deny}\n";
	char yaml[sizeof(policy) + sizeof(extra)];
	struct mf_authz_key k = { .service_id = 2, .index = 0 };
	struct model_set set;
	struct rec_set rs;
	const struct mf_authz_rule *r;
	bool ok;
	long i;

	snprintf(yaml, sizeof(yaml), "%s%s", policy, extra);
	if (!build(yaml, NULL, &set, &rs))
		return false;
	i = rec_find(&rs, REC_AUTHZ, &k);
	r = i >= 0 ? rec_val(&rs, REC_AUTHZ, (size_t)i) : NULL;
	k.index = 3;
	ok = ASSERT_EQ(rec_count(&rs, REC_AUTHZ), 4) && ASSERT_TRUE(r) &&
	     ASSERT_STREQ(r->policy, "a-first") &&
	     ASSERT_STREQ(r->spiffe, "spiffe://mesh.local/ns/x") &&
	     ASSERT_GE(rec_find(&rs, REC_AUTHZ, &k), 0);
	for (size_t j = 0; ok && j < rec_count(&rs, REC_SERVICES); j++) {
		const struct mf_service *s = rec_val(&rs, REC_SERVICES, j);

		ok = ASSERT_EQ(s->authz_rules, s->id == 2 ? 4 : 0);
	}
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* Records -> objects -> the same objects; -> YAML -> the same records;
 * and the YAML is stable. */
static bool test_decompile_emit_round_trip(void)
{
	struct model_set set, back, again;
	struct rec_set rs, rs2;
	struct diag d;
	char *y1 = NULL, *y2 = NULL;
	size_t n1 = 0, n2 = 0;
	bool ok;

	model_set_init(&back);
	model_set_init(&again);
	rec_set_init(&rs2);
	diag_init(&d);
	ok = build(policy, NULL, &set, &rs) &&
	     ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back) &&
	     (y1 = ph_render(&back, RENDER_ALL_KINDS, &n1)) != NULL &&
	     build(y1, &rs, &again, &rs2) &&
	     ASSERT_TRUE(rec_set_equal(&rs, &rs2)) &&
	     (y2 = ph_render(&again, RENDER_ALL_KINDS, &n2)) != NULL &&
	     ASSERT_EQ(n1, n2) && ASSERT_STREQ(y1, y2) &&
	     /* Kind order, then name order. */
	     ASSERT_TRUE(strstr(y1, "kind: Mesh\n") < strstr(y1, "kind: Node\n")) &&
	     ASSERT_TRUE(strstr(y1, "name: api\n") < strstr(y1, "name: web\n")) &&
	     ASSERT_TRUE(strstr(y1, "kind: Workload\n") <
			 strstr(y1, "kind: MeshTrafficPermission\n"));
	if (!ok && y1)
		fprintf(stderr, "%s", y1);
	free(y1);
	free(y2);
	rec_set_free(&rs2);
	model_set_free(&again);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* metadata.labels, of any kind, go to mf_labels and come back: in the
 * decompiled objects, and in what get prints. */
static bool test_labels_round_trip(void)
{
	static const char labeled[] =
		PH_MESH
		PH_NODE("mf-node-b", "10.77.0.2")
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Service\n"
		"metadata: {name: web, labels: {app: web, team: a}}\n"
		"spec: {vip: 10.96.0.10, port: 80}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshTimeout\n"
		"metadata:\n  name: t\n"
		"  labels: {kuma.io/origin: zone}\n"
		"spec:\n  to: [{targetRef: {kind: Mesh}, "
		"default: {idleTimeout: 5s}}]\n";
	struct model_set set, back;
	struct rec_set rs;
	struct diag d;
	char *y = NULL;
	size_t n;
	bool ok;

	model_set_init(&back);
	diag_init(&d);
	ok = build(labeled, NULL, &set, &rs) &&
	     ASSERT_EQ(rec_count(&rs, REC_LABELS), 2) &&
	     ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back) &&
	     ASSERT_TRUE(model_set_find(&back, MODEL_SERVICE, "web")->labels) &&
	     (y = ph_render(&back, RENDER_ALL_KINDS, &n)) != NULL &&
	     ASSERT_TRUE(strstr(y, "  name: web\n  labels:\n    app: web\n"
			       "    team: a\n")) &&
	     ASSERT_TRUE(strstr(y, "  name: t\n  labels:\n"
			       "    kuma.io/origin: zone\n"));
	if (!ok && y)
		fprintf(stderr, "%s", y);
	free(y);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* metadata.namespace (kept as the label k8s.kuma.io/namespace) and
 * metadata.annotations go to mf_labels and come back, and get prints
 * them as they were written. */
static bool test_namespace_annotations_round_trip(void)
{
	static const char doc[] =
		PH_MESH
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshTimeout\n"
		"metadata:\n  name: t\n  namespace: kuma-system\n"
		"  annotations: {kuma.io/description: slow}\n"
		"spec:\n  to: [{targetRef: {kind: Mesh}, "
		"default: {idleTimeout: 5s}}]\n"
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Service\n"
		"metadata: {name: web, annotations: {a: b}}\n"
		"spec: {vip: 10.96.0.10, port: 80}\n";
	struct model_set set, back;
	struct rec_set rs;
	struct diag d;
	char *y = NULL;
	size_t n;
	bool ok;

	model_set_init(&back);
	diag_init(&d);
	ok = build(doc, NULL, &set, &rs) &&
	     ASSERT_EQ(rec_count(&rs, REC_LABELS), 3) &&
	     ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back) &&
	     (y = ph_render(&back, RENDER_ALL_KINDS, &n)) != NULL &&
	     ASSERT_TRUE(strstr(y, "  name: t\n  namespace: kuma-system\n"
			       "  labels:\n"
			       "    k8s.kuma.io/namespace: kuma-system\n"
			       "  annotations:\n"
			       "    kuma.io/description: slow\n")) &&
	     ASSERT_TRUE(strstr(y, "  name: web\n  annotations:\n"
			       "    a: b\n"));
	if (!ok && y)
		fprintf(stderr, "%s", y);
	free(y);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* The authz rules of each service of @rs by name, into @web and @api. */
static bool authz_rules(const struct rec_set *rs, unsigned *web, unsigned *api)
{
	*web = *api = ~0u;
	for (size_t i = 0; i < rec_count(rs, REC_SERVICES); i++) {
		const struct mf_service *v = rec_val(rs, REC_SERVICES, i);

		if (!strcmp(v->name, "web"))
			*web = v->authz_rules;
		else if (!strcmp(v->name, "api"))
			*api = v->authz_rules;
	}
	return ASSERT_NE(*web, ~0u) && ASSERT_NE(*api, ~0u);
}

/* A MeshTrafficPermission whose targetRef selects Services by labels
 * guards each Service they select, and no other. */
static bool test_compile_authz_by_labels(void)
{
#define LABELED_MESH(target)                                                  \
	PH_MESH PH_NODE("mf-node-b", "10.77.0.2")                             \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Service\n"            \
	"metadata: {name: web, labels: {app: web}}\n"                         \
	"spec: {vip: 10.96.0.10, port: 80}\n"                                 \
	PH_SVC("api", "10.96.0.11", "8080")                                   \
	RH_DOC("MeshTrafficPermission", "p")                                  \
	"spec:\n  targetRef: {kind: MeshService, labels: " target "}\n"       \
	"  from: [{targetRef: {kind: Mesh}, default: {action: Allow}}]\n"
	struct model_set set;
	struct rec_set rs;
	unsigned web, api;
	bool ok;

	ok = build(LABELED_MESH("{app: web}"), NULL, &set, &rs) &&
	     authz_rules(&rs, &web, &api) && ASSERT_EQ(web, 1) &&
	     ASSERT_EQ(api, 0);
	rec_set_free(&rs);
	model_set_free(&set);
	ok = ok && build(LABELED_MESH("{kuma.io/display-name: api}"), NULL,
			 &set, &rs) &&
	     authz_rules(&rs, &web, &api) && ASSERT_EQ(web, 0) &&
	     ASSERT_EQ(api, 1);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
#undef LABELED_MESH
}

/* Kuma's rules items: a bare trust domain as a prefix matches that
 * domain only (its rule ends in '/'); an item that matches by SNI
 * compiles to a rule with that SNI: alone, for any identity (an empty
 * prefix), or with its spiffeID; all of them print back as written. */
static bool test_compile_mtp_rules_items(void)
{
	static const char yaml[] =
		PH_MESH PH_NODE("mf-node-b", "10.77.0.2")
		PH_SVC("web", "10.96.0.10", "80")
		RH_DOC("MeshTrafficPermission", "p")
		"spec:\n  targetRef: {kind: MeshService, name: web}\n"
		"  rules:\n  - default:\n      allow:\n"
		"      - spiffeID: {type: Prefix, value: \"spiffe://mesh.local\"}\n"
		"      - sni: {type: Exact, value: db.example.com}\n"
		"      - spiffeID: {type: Exact, value: \"" PH_SA("a") "\"}\n"
		"        sni: {type: Exact, value: db.example.com}\n";
	struct model_set set, back;
	struct rec_set rs;
	struct diag d;
	const struct mf_authz_rule *r;
	bool ok = build(yaml, NULL, &set, &rs);

	ok = ok && ASSERT_EQ(rec_count(&rs, REC_AUTHZ), 3);
	r = ok ? rec_val(&rs, REC_AUTHZ, 0) : NULL;
	ok = ok && ASSERT_EQ(r->match, MF_AUTHZ_MATCH_PREFIX) &&
	     ASSERT_STREQ(r->spiffe, "spiffe://mesh.local/") &&
	     ASSERT_EQ(r->sni_match, MF_AUTHZ_SNI_NONE) &&
	     ASSERT_EQ(rec_count(&rs, REC_PERMISSIONS), 3);
	r = ok ? rec_val(&rs, REC_AUTHZ, 1) : NULL;
	ok = ok && ASSERT_EQ(r->match, MF_AUTHZ_MATCH_PREFIX) &&
	     ASSERT_STREQ(r->spiffe, "") &&
	     ASSERT_EQ(r->sni_match, MF_AUTHZ_SNI_EXACT) &&
	     ASSERT_STREQ(r->sni, "db.example.com");
	r = ok ? rec_val(&rs, REC_AUTHZ, 2) : NULL;
	ok = ok && ASSERT_EQ(r->match, MF_AUTHZ_MATCH_EXACT) &&
	     ASSERT_STREQ(r->spiffe, PH_SA("a")) &&
	     ASSERT_EQ(r->sni_match, MF_AUTHZ_SNI_EXACT) &&
	     ASSERT_STREQ(r->sni, "db.example.com");
	model_set_init(&back);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* Sources by workload compile to the identities of the Workloads they
 * select (none: no rule), and the permission comes back as written. */
/* Services web (w1) and api (a1, and a2 tagged v: 2). */
#define THREE_WORKLOADS                                                       \
	PH_MESH                                                               \
	PH_NODE("mf-node-a", "10.77.0.1")                                     \
	PH_SVC("web", "10.96.0.10", "80")                                     \
	PH_SVC("api", "10.96.0.11", "8080")                                   \
	PH_WL("w1", "mf-node-a", "10.78.1.1", "8080", "web", "web")           \
	PH_WL("a1", "mf-node-a", "10.78.1.2", "8080", "api", "api")           \
	RH_DOC("Workload", "a2")                                              \
	"spec: {node: mf-node-a, ip: 10.78.1.3, port: 8080, service: api,\n"  \
	"       identity: \"" PH_SA("api-v2") "\", tags: {v: \"2\"}}\n"

static bool test_compile_authz_sources_by_workload(void)
{
	static const char yaml[] =
		THREE_WORKLOADS
		RH_DOC("MeshTrafficPermission", "p")
		"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
		"    - targetRef: {kind: MeshService, name: api}\n"
		"      default: {action: Allow}\n"
		"    - targetRef: {kind: MeshSubset, tags: {v: \"2\"}}\n"
		"      default: {action: Deny}\n"
		"    - targetRef: {kind: MeshServiceSubset, name: api, "
		"tags: {v: \"9\"}}\n"
		"      default: {action: Allow}\n";
	struct model_set set, back;
	struct rec_set rs;
	struct diag d;
	size_t n;
	bool ok;

	model_set_init(&back);
	diag_init(&d);
	ok = build(yaml, NULL, &set, &rs) &&
	     /* api's two identities, then api-v2's deny; v9 selects none */
	     ASSERT_EQ((n = rec_count(&rs, REC_AUTHZ)), 3);
	for (size_t i = 0; ok && i < n; i++) {
		const struct mf_authz_rule *v = rec_val(&rs, REC_AUTHZ, i);
		static const char *const want[3] = {
			PH_SA("api"), PH_SA("api-v2"), PH_SA("api-v2"),
		};
		static const uint8_t action[3] = {
			MF_AUTHZ_ALLOW, MF_AUTHZ_ALLOW, MF_AUTHZ_DENY,
		};

		ok = ASSERT_EQ(v->match, MF_AUTHZ_MATCH_EXACT) &&
		     ASSERT_STREQ(v->spiffe, want[i]) &&
		     ASSERT_EQ(v->action, action[i]);
	}
	ok = ok && ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* A permission for some Workloads: their rules carry the endpoint, under
 * each one's service; the others' traffic is unaffected. */
static bool test_compile_authz_workload_targets(void)
{
	static const char yaml[] =
		THREE_WORKLOADS
		RH_DOC("MeshTrafficPermission", "v2-only")
		"spec:\n  targetRef: {kind: MeshSubset, tags: {v: \"2\"}}\n"
		"  from: [{targetRef: {kind: Mesh}, default: {action: Deny}}]\n"
		RH_DOC("MeshTrafficPermission", "w1")
		"spec:\n  targetRef: {kind: Dataplane, name: w1}\n"
		"  rules: [{default: {allow: [{spiffeID: {type: Exact, value: \""
		PH_SA("api") "\"}}]}}]\n";
	static const uint8_t a2[4] = { 10, 78, 1, 3 }, w1[4] = { 10, 78, 1, 1 };
	struct model_set set, back;
	struct rec_set rs;
	struct diag d;
	unsigned web, api;
	bool ok;

	model_set_init(&back);
	diag_init(&d);
	ok = build(yaml, NULL, &set, &rs) && authz_rules(&rs, &web, &api) &&
	     ASSERT_EQ(web, 1) && ASSERT_EQ(api, 1) &&
	     ASSERT_EQ(rec_count(&rs, REC_AUTHZ), 2);
	for (size_t i = 0; ok && i < 2; i++) {
		const struct mf_authz_rule *v = rec_val(&rs, REC_AUTHZ, i);
		bool deny = v->action == MF_AUTHZ_DENY;

		ok = ASSERT_MEMEQ(v->endpoint, deny ? a2 : w1, 4) &&
		     ASSERT_STREQ(v->policy, deny ? "v2-only" : "w1");
	}
	ok = ok && ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* get -> YAML: exactly this text for one object of each kind. */
static bool test_emit_format(void)
{
#define MESH_DOC                                                              \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Mesh\n"                \
	"metadata:\n  name: default\nspec:\n  trustDomain: mesh.local\n"
	static const char want[] =
		MESH_DOC
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Node\n"
		"metadata:\n  name: mf-node-a\nspec:\n  address: 10.77.0.1\n"
		"  tunnelPort: 15008\n";
	struct model_set set;
	struct rec_set rs;
	char *y = NULL, *y2 = NULL;
	size_t n = 0, n2 = 0;
	bool ok;

	ok = build(policy, NULL, &set, &rs) &&
	     (y = ph_render(&set, 1u << MODEL_MESH, &n)) != NULL &&
	     ASSERT_TRUE(!strncmp(y, want, strlen(MESH_DOC))) &&
	     ASSERT_EQ(n, strlen(MESH_DOC)) &&
	     (y2 = ph_render(&set, (1u << MODEL_MESH) | (1u << MODEL_NODE),
			     &n2)) != NULL &&
	     ASSERT_TRUE(!strncmp(y2, want, strlen(want)));
#undef MESH_DOC
	free(y);
	free(y2);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* What `apply` does over an applied state, without maps: ids of existing
 * names stay, new ones go above the maximum, replaced and unreferenced
 * records go. */
static bool test_merge_keeps_ids_and_drops_stale(void)
{
	static const char update[] =
		PH_WL("b2", "mf-node-a", "10.78.1.12", "8080", "web", "b2")
		PH_SVC("aaa", "10.96.0.9", "80")
		PH_WL("a1", "mf-node-a", "10.78.1.11", "9090", "aaa", "web");
	struct model_set set, applied, input, merged;
	struct rec_set have, want;
	struct rec_diff diff;
	struct diag d;
	struct mf_endpoint_key ek = { .ip = { 10, 78, 2, 12 } };
	const struct mf_endpoint *ev;
	bool ok;
	long i;

	if (!build(policy, NULL, &set, &have))
		return false;
	model_set_init(&applied);
	model_set_init(&input);
	rec_set_init(&want);
	diag_init(&d);
	ok = ASSERT_EQ(decompile_records(&have, &applied, &d), 0) &&
	     ASSERT_EQ(doc_parse_buffer(&input, "u.yaml", update,
					strlen(update), &d), 0) &&
	     ASSERT_EQ(input_merge(&input, &applied, &merged), 0) &&
	     ASSERT_EQ(merged.n, set.n + 1) &&
	     ASSERT_EQ(validate_set(&merged, &d), 0) &&
	     ASSERT_EQ(compile_set(&merged, &have, &want, &d), 0);
	if (!ok) {
		diag_print(&d, stderr);
		goto out;
	}
	/* web keeps 2, api keeps 1, the new aaa gets 3 (not 1: name
	 * order only orders new ids). */
	for (size_t j = 0; ok && j < rec_count(&want, REC_SERVICES); j++) {
		const struct mf_service *s = rec_val(&want, REC_SERVICES, j);

		ok = ASSERT_EQ(s->id, !strcmp(s->name, "web") ? 2 :
			       !strcmp(s->name, "api") ? 1 : 3);
	}
	/* b2 moved: its old IP is gone, the new one has the new identity,
	 * which gets id 3; "client" lost its last workload and is gone. */
	ok = ok && ASSERT_EQ(rec_find(&want, REC_ENDPOINTS, &ek), -1);
	ek.ip[2] = 1;
	i = rec_find(&want, REC_ENDPOINTS, &ek);
	ev = i >= 0 ? rec_val(&want, REC_ENDPOINTS, (size_t)i) : NULL;
	/* On mf-node-a: 10.77.0.1, default tunnel port. */
	ok = ok && ASSERT_TRUE(ev) && ASSERT_EQ(ev->identity_id, 3) &&
	     ASSERT_MEMEQ(ev->node_ip, ((const uint8_t[4]){ 10, 77, 0, 1 }),
			  4) &&
	     ASSERT_EQ(ev->tunnel_port, MF_PORT_TUNNEL) &&
	     ASSERT_EQ(rec_count(&want, REC_IDENTITIES), 2);
	rec_diff(&have, &want, &diff);
	/* created: endpoint 10.78.1.12, identity 3, service aaa;
	 * updated: endpoint a1 (service and identity);
	 * deleted: endpoint 10.78.2.12, identity 1 (client). */
	ok = ok && ASSERT_EQ(diff.created, 3) && ASSERT_EQ(diff.updated, 1) &&
	     ASSERT_EQ(diff.deleted, 2);
	model_set_free(&merged);
out:
	diag_free(&d);
	rec_set_free(&want);
	model_set_free(&input);
	model_set_free(&applied);
	rec_set_free(&have);
	model_set_free(&set);
	return ok;
}

/* Validates @yaml merged over the applied @state_yaml (may be NULL) and
 * expects exactly the messages @want (NULL-terminated), sorted. */
static bool expect_invalid(const char *state_yaml, const char *yaml,
			   const char *const *want)
{
	struct model_set state, applied, input, merged;
	struct rec_set have;
	struct diag d;
	bool ok = true;

	model_set_init(&applied);
	model_set_init(&input);
	model_set_init(&merged);
	rec_set_init(&have);
	if (state_yaml) {
		ok = build(state_yaml, NULL, &state, &have);
		model_set_free(&state);
	}
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&have, &applied, &d), 0) &&
	     ASSERT_EQ(doc_parse_buffer(&input, "v.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(input_merge(&input, &applied, &merged), 0) &&
	     ASSERT_EQ(validate_set(&merged, &d), -EINVAL);
	diag_sort(&d);
	ok = ok && ph_diag_is(&d, want);
	diag_free(&d);
	model_set_free(&merged);
	model_set_free(&input);
	model_set_free(&applied);
	rec_set_free(&have);
	return ok;
}

static const char base[] =
	PH_MESH
	PH_NODE("n1", "10.77.0.1")
	PH_SVC("web", "10.96.0.10", "80")
	RH_DOC("Workload", "w1")
	"spec: {node: n1, ip: 10.78.1.11, port: 80, service: web, "
	"identity: \"spiffe://mesh.local/ns/a/sa/b\"}\n";

static bool test_invalid_references(void)
{
	static const char *const want[] = {
		"v.yaml:4:27: spec.service: no Service \"nope\" is defined or applied",
		"v.yaml:10:9: spec.node: no Node \"n9\" is defined or applied",
		"v.yaml:20:14: spec.targetRef.name: no Service \"gone\" is defined or applied",
		NULL,
	};
	return expect_invalid(base,
		API "kind: Workload\nmetadata: {name: w2}\n"
		"spec: {node: n1, service: nope, ip: 10.78.1.12, port: 80, "
		"identity: \"spiffe://mesh.local/ns/a/sa/b\"}\n"
		"---\n" API "kind: Workload\nmetadata: {name: w3}\nspec:\n"
		"  node: n9\n  service: web\n  ip: 10.78.1.13\n  port: 80\n"
		"  identity: \"spiffe://mesh.local/ns/a/sa/b\"\n"
		"---\n" API "kind: MeshTrafficPermission\nmetadata: {name: p}\n"
		"spec:\n  targetRef: {kind: MeshService, name: gone}\n"
		"  from: [{targetRef: {kind: Mesh}, default: {action: Allow}}]\n",
		want);
}

static bool test_invalid_duplicates(void)
{
	/* s3's VIP:port is free here. */
	static const char *const want[] = {
		"v.yaml:4:13: spec.vip: 10.96.0.10:80 is already used by Service \"web\" (applied)",
		"v.yaml:9:36: spec.ip: 10.78.1.11 is already used by Workload \"w1\" (applied)",
		NULL,
	};
	return expect_invalid(base,
		API "kind: Service\nmetadata: {name: s2}\n"
		"spec: {vip: 10.96.0.10, port: 80}\n"
		"---\n" API "kind: Workload\nmetadata: {name: w2}\n"
		"spec: {node: n1, service: web, ip: 10.78.1.11, port: 80, "
		"identity: \"spiffe://mesh.local/ns/a/sa/b\"}\n"
		"---\n" API "kind: Service\nmetadata: {name: s3}\n"
		"spec: {vip: 10.96.0.20, port: 443}\n",
		want) &&
	       /* s2 and s3 in one input, and the same VIP at another
		* port is fine. */
	       expect_invalid(NULL,
		API "kind: Service\nmetadata: {name: s2}\n"
		"spec: {vip: 10.96.0.20, port: 443}\n"
		"---\n" API "kind: Service\nmetadata: {name: s4}\n"
		"spec: {vip: 10.96.0.20, port: 80}\n"
		"---\n" API "kind: Service\nmetadata: {name: s3}\n"
		"spec: {vip: 10.96.0.20, port: 443}\n",
		(const char *const[]){
			"v.yaml:14:13: spec.vip: 10.96.0.20:443 is already used by Service \"s2\" (at v.yaml:1:1)",
			NULL }) &&
	       /* A Node's address names it in endpoint records: no two
		* Nodes share one, whatever their tunnel ports. */
	       expect_invalid(base,
		API "kind: Node\nmetadata: {name: n2}\n"
		"spec: {address: 10.77.0.1}\n"
		"---\n" API "kind: Node\nmetadata: {name: n3}\n"
		"spec: {address: 10.77.0.3}\n"
		"---\n" API "kind: Node\nmetadata: {name: n4}\n"
		"spec: {address: 10.77.0.3, tunnelPort: 15009}\n",
		(const char *const[]){
			"v.yaml:4:17: spec.address: 10.77.0.1 is already used by Node \"n1\" (applied)",
			"v.yaml:14:17: spec.address: 10.77.0.3 is already used by Node \"n3\" (at v.yaml:6:1)",
			NULL });
}

static bool test_invalid_trust_domain(void)
{
	static const char *const want[] = {
		"v.yaml:4:68: spec.identity: must be in the Mesh's trust domain \"mesh.local\"",
		"v.yaml:12:39: spec.from[0].targetRef.name: must be in the Mesh's trust domain \"mesh.local\"",
		"v.yaml:14:45: spec.from[1].targetRef.name: must start with \"spiffe://mesh.local/\" (the Mesh's trust domain)",
		NULL,
	};
	return expect_invalid(base,
		API "kind: Workload\nmetadata: {name: w2}\n"
		"spec: {node: n1, service: web, ip: 10.78.1.12, port: 80, "
		"identity: \"spiffe://other/ns/a/sa/b\"}\n"
		"---\n" API "kind: MeshTrafficPermission\nmetadata: {name: p}\n"
		"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
		"  - targetRef: {kind: SpiffeID, name: \"spiffe://other/x\"}\n"
		"    default: {action: Allow}\n"
		"  - targetRef: {kind: SpiffeIDPrefix, name: \"spiffe://mesh.localx/\"}\n"
		"    default: {action: Deny}\n",
		want);
}

/* A new Mesh with another trust domain invalidates the applied
 * workloads: they have no file position, so they are named. */
static bool test_invalid_applied_objects_named(void)
{
	static const char *const want[] = {
		"v.yaml:3:18: metadata.name: only one Mesh is supported, and Mesh \"default\" is also defined (applied)",
		NULL,
	};
	static const char *const want2[] = {
		"applied Workload w1: spec.identity: must be in the Mesh's trust domain \"other\"",
		NULL,
	};
	return expect_invalid(base,
		API "kind: Mesh\nmetadata: {name: two}\nspec: {trustDomain: other}\n",
		want) &&
	       expect_invalid(base,
		API "kind: Mesh\nmetadata: {name: default}\nspec: {trustDomain: other}\n",
		want2);
}

static bool test_invalid_no_mesh(void)
{
	static const char *const want[] = {
		"v.yaml:19:13: spec.identity: needs the trust domain of a Mesh, and no Mesh is defined or applied",
		NULL,
	};
	return expect_invalid(NULL,
		API "kind: Node\nmetadata: {name: n1}\nspec: {address: 10.77.0.1}\n"
		"---\n" API "kind: Service\nmetadata: {name: web}\n"
		"spec: {vip: 10.96.0.10, port: 80}\n"
		"---\n" API "kind: Workload\nmetadata: {name: w1}\nspec:\n"
		"  node: n1\n  service: web\n  ip: 10.78.1.12\n  port: 80\n"
		"  identity: spiffe://x/y\n"
		"---\n" API "kind: Workload\nmetadata: {name: w2}\nspec:\n"
		"  node: n1\n  service: web\n  ip: 10.78.1.13\n  port: 80\n"
		"  identity: spiffe://x/y\n",
		want);
}

/* More records than a map holds: a clear error, not a silent cut. */
static bool test_capacity(void)
{
	struct model_set set;
	struct rec_set rs;
	struct diag d;
	bool ok = true;

	model_set_init(&set);
	diag_init(&d);
	for (unsigned i = 0; ok && i <= MF_MAX_NODES; i++) {
		struct model_obj *o = model_set_add(&set, MODEL_NODE);
		struct core_node *n = calloc(1, sizeof(*n));

		ok = ASSERT_TRUE(o) && ASSERT_TRUE(n);
		if (!ok) {
			free(n);
			break;
		}
		snprintf(o->name, sizeof(o->name), "n%u", i);
		o->pol.recs = (uint8_t *)n;
		o->pol.n = 1;
		n->present = 3;
		n->address[0] = 10;
		n->address[2] = (uint8_t)(i >> 8);
		n->address[3] = (uint8_t)i;
		n->tunnel_port = 15008;
	}
	ok = ok && ASSERT_EQ(compile_set(&set, NULL, &rs, &d), -ENOSPC) &&
	     ASSERT_EQ(d.n, 1) &&
	     ASSERT_STREQ(d.msgs[0], "mf_nodes: 1025 records do not fit: "
			  "the map holds 1024");
	rec_set_free(&rs);
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* policy's endpoint records, each changed by @spoil, contradict the
 * rest: decompiling fails with exactly the messages @want (NULL-terminated),
 * sorted. */
static bool expect_bad_endpoints(void (*spoil)(struct mf_endpoint *e),
				 const char *const *want)
{
	struct model_set set, back;
	struct rec_set rs;
	struct diag d;
	bool ok;

	model_set_init(&back);
	diag_init(&d);
	ok = build(policy, NULL, &set, &rs);
	for (size_t i = 0; ok && i < rec_count(&rs, REC_ENDPOINTS); i++)
		spoil(rec_val(&rs, REC_ENDPOINTS, i));
	ok = ok && ASSERT_EQ(decompile_records(&rs, &back, &d), -EBADMSG);
	diag_sort(&d);
	ok = ok && ph_diag_is(&d, want);
	diag_free(&d);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

static void a1_in_service_9(struct mf_endpoint *e)
{
	if (!strcmp(e->name, "a1"))
		e->service_id = 9;
}

/* Records that contradict each other are reported, not guessed at. */
static bool test_decompile_inconsistent(void)
{
	return expect_bad_endpoints(a1_in_service_9, (const char *const[]){
		"applied state: mf_endpoints: workload \"a1\": no service "
		"has id 9",
		NULL });
}

static void a1_nowhere_b1_other_port(struct mf_endpoint *e)
{
	if (!strcmp(e->name, "a1"))
		e->node_ip[3] = 9;
	if (!strcmp(e->name, "b1"))
		e->tunnel_port = 15008;
}

/* An endpoint names its node by address and carries its tunnel port: no
 * node there, or another port than the node's, is a contradiction. */
static bool test_decompile_endpoint_node(void)
{
	return expect_bad_endpoints(a1_nowhere_b1_other_port,
				    (const char *const[]){
		"applied state: mf_endpoints: workload \"a1\": no node has "
		"address 10.77.0.9",
		"applied state: mf_endpoints: workload \"b1\": tunnel port "
		"15008, but its node \"mf-node-b\" has 15009",
		NULL });
}

/* A route whose path and header live in mf_strings: they come back from
 * it, each once, into objects equal to those applied; a malformed string
 * is reported, and so is the record that refers to it. */
static bool test_decompile_strings(void)
{
	static const char yaml[] =
		PH_MESH
		PH_SVC("web", "10.96.0.10", "80")
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"
		"metadata: {name: r}\nspec:\n"
		"  to:\n  - targetRef: {kind: MeshService, name: web}\n"
		"    rules: [{matches: [{path: {type: PathPrefix, value: /v},\n"
		"                        headers: [{name: x-q, value: /v}]}],\n"
		"             default: {backendRefs: [{kind: MeshService, "
		"name: web}]}}]\n";
	struct model_set set, back, bad;
	struct mf_string_key *k = NULL;
	struct mf_string *v;
	struct rec_set rs;
	char want[2][160];
	struct diag d;
	bool ok;

	model_set_init(&back);
	model_set_init(&bad);
	diag_init(&d);
	/* "/v" twice, x-q once. */
	ok = build(yaml, NULL, &set, &rs) &&
	     ASSERT_EQ(rec_count(&rs, REC_STRINGS), 2) &&
	     ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back) && ASSERT_EQ(back.strs.n, 2);
	for (size_t i = 0; ok && i < rec_count(&rs, REC_STRINGS); i++) {
		v = rec_val(&rs, REC_STRINGS, i);
		if (!strcmp(v->s, "/v"))
			k = rec_key(&rs, REC_STRINGS, i);
	}
	ok = ok && ASSERT_TRUE(k);
	if (ok) {
		v = rec_val(&rs, REC_STRINGS, (size_t)rec_find(&rs, REC_STRINGS,
							       k));
		v->s[MF_STRING_MAX] = 'x';
		snprintf(want[0], sizeof(want[0]), "applied state: "
			 "mf_http_routes: policy \"r\" record 0: no string "
			 "has id %u", k->id);
		snprintf(want[1], sizeof(want[1]), "applied state: "
			 "mf_strings: string %u is malformed: bytes past its "
			 "NUL are not zero", k->id);
	}
	ok = ok && ASSERT_EQ(decompile_records(&rs, &bad, &d), -EBADMSG);
	diag_sort(&d);
	ok = ok && ph_diag_is(&d, (const char *const[]){ want[1], want[0],
							  NULL });
	diag_free(&d);
	model_set_free(&bad);
	model_set_free(&back);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_compile_config_and_nodes);
	TEST_RUN(test_compile_services_identities_endpoints);
	TEST_RUN(test_compile_reserves_from_prev);
	TEST_RUN(test_compile_authz);
	TEST_RUN(test_compile_two_policies_one_service);
	TEST_RUN(test_decompile_emit_round_trip);
	TEST_RUN(test_labels_round_trip);
	TEST_RUN(test_namespace_annotations_round_trip);
	TEST_RUN(test_compile_authz_by_labels);
	TEST_RUN(test_compile_mtp_rules_items);
	TEST_RUN(test_compile_authz_sources_by_workload);
	TEST_RUN(test_compile_authz_workload_targets);
	TEST_RUN(test_emit_format);
	TEST_RUN(test_merge_keeps_ids_and_drops_stale);
	TEST_RUN(test_invalid_references);
	TEST_RUN(test_invalid_duplicates);
	TEST_RUN(test_invalid_trust_domain);
	TEST_RUN(test_invalid_applied_objects_named);
	TEST_RUN(test_invalid_no_mesh);
	TEST_RUN(test_capacity);
	TEST_RUN(test_decompile_inconsistent);
	TEST_RUN(test_decompile_endpoint_node);
	TEST_RUN(test_decompile_strings);
	TEST_MAIN_END();
}
