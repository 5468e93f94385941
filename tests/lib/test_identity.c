// SPDX-License-Identifier: Apache-2.0
/*
 * Workload identities from MeshIdentity (lib/policy/identity.c): which
 * MeshIdentity selects a Workload, what its templates render, how
 * validation holds spec.identity and the MeshIdentity to each other, and
 * that the compiled endpoint carries the rendered identity.
 */
#include "harness/test.h"
#include "harness/pem_harness.h"
#include "harness/policy_harness.h"

#include "policy/core.h"
#include "policy/decompile.h"
#include "policy/doc.h"
#include "policy/identity.h"

#define MI_DOC(name)                                                          \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"            \
	"metadata: {name: " name "}\nspec:\n"

/* A Workload without spec.identity, with metadata.labels @labels. */
#define WL_LABELED(name, ip, labels)                                          \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"           \
	"metadata: {name: " name ", labels: " labels "}\n"                   \
	"spec: {node: mf-node-b, ip: " ip ", port: 8080, service: web}\n"

#define BASE                                                                  \
	PH_MESH PH_NODE("mf-node-b", "10.77.0.2")                             \
	PH_SVC("web", "10.96.0.10", "80")

/* A MeshIdentity of the mesh's trust domain, path from two labels. */
#define MI_NS_SA(name, match)                                                 \
	MI_DOC(name)                                                          \
	"  selector: {dataplane: {matchLabels: " match "}}\n"                 \
	"  spiffeID: {trustDomain: mesh.local,\n"                             \
	"             path: \"/ns/{{ .Namespace }}/sa/{{ .ServiceAccount }}\"}\n" \
	"  provider: {type: Bundled, bundled: {autogenerate: "               \
	"{enabled: true}}}\n"

#define WEB_LABELS                                                            \
	"{app: web, k8s.kuma.io/namespace: shop, "                            \
	"k8s.kuma.io/service-account: web-sa}"

static bool id_parse(const char *yaml, struct model_set *set, struct diag *d)
{
	model_set_init(set);
	diag_init(d);
	if (ASSERT_EQ(doc_parse_buffer(set, "t.yaml", yaml, strlen(yaml), d),
		      0))
		return true;
	diag_print(d, stderr);
	return false;
}

/* The most specific selector wins, then the first name. */
static bool test_identity_best_match(void)
{
	static const char yaml[] =
		BASE
		MI_DOC("z-all")
		"  selector: {dataplane: {}}\n"
		"  spiffeID: {trustDomain: mesh.local}\n"
		MI_NS_SA("b-web", "{app: web}")
		MI_NS_SA("a-web", "{k8s.kuma.io/namespace: shop}")
		MI_NS_SA("c-web-v1", "{app: web, version: v1}")
		WL_LABELED("b1", "10.78.2.11", WEB_LABELS)
		WL_LABELED("b2", "10.78.2.12", "{app: api}")
		"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"
		"metadata: {name: b3}\n"
		"spec: {node: mf-node-b, ip: 10.78.2.13, port: 8080, "
		"service: web, identity: \"spiffe://mesh.local/x\"}\n";
	struct model_set set;
	struct diag d;
	const struct model_obj *m;
	bool ok = id_parse(yaml, &set, &d);

	/* b1: a-web and b-web have one label each; a-web is first. */
	m = ok ? identity_select(&set, model_set_find(&set, MODEL_WORKLOAD,
						      "b1")) : NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_STREQ(m->name, "a-web");
	/* b2: only the selector without matchLabels. */
	m = ok ? identity_select(&set, model_set_find(&set, MODEL_WORKLOAD,
						      "b2")) : NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_STREQ(m->name, "z-all");
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* Empty matchLabels select every Workload, as a dataplane selector
 * without matchLabels does (Kuma writes both); a labeled selector still
 * wins where it matches. */
static bool test_identity_empty_match_labels(void)
{
	static const char yaml[] =
		BASE
		MI_NS_SA("all", "{}")
		MI_NS_SA("web", "{app: web}")
		WL_LABELED("b1", "10.78.2.11", WEB_LABELS)
		WL_LABELED("b2", "10.78.2.12", "{app: api}");
	struct model_set set;
	struct diag d;
	const struct model_obj *m;
	bool ok = id_parse(yaml, &set, &d);

	m = ok ? identity_select(&set, model_set_find(&set, MODEL_WORKLOAD,
						      "b2")) : NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_STREQ(m->name, "all");
	m = ok ? identity_select(&set, model_set_find(&set, MODEL_WORKLOAD,
						      "b1")) : NULL;
	ok = ok && ASSERT_TRUE(m) && ASSERT_STREQ(m->name, "web");
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* A MeshIdentity without selector.dataplane selects nothing (Kuma's
 * rule), so the Workload needs its own identity. */
static bool test_identity_no_selector_selects_nothing(void)
{
	static const char *const want[] = {
		"t.yaml:24:1: spec.identity: is required "
		"unless a MeshIdentity selects this Workload (by its "
		"metadata.labels)",
		NULL,
	};

	return ph_validate_refuses(BASE MI_DOC("none")
			  "  spiffeID: {trustDomain: mesh.local}\n"
			  "  provider: {type: Bundled, bundled: {autogenerate: "
			  "{enabled: true}}}\n"
			  WL_LABELED("b1", "10.78.2.11", WEB_LABELS), want);
}

/* The templates, rendered from the Mesh and the Workload's labels. */
static bool test_identity_render(void)
{
	static const char yaml[] =
		BASE
		MI_DOC("custom")
		"  selector: {dataplane: {matchLabels: {app: web}}}\n"
		"  spiffeID: {trustDomain: \"{{ .Mesh }}.{{ .Zone }}.example\",\n"
		"             path: \"/t/{{ label \\\"team\\\" }}/{{.Workload}}"
		"/{{ .TrustDomain }}\"}\n"
		MI_DOC("defaults")
		"  selector: {dataplane: {matchLabels: {app: api}}}\n"
		WL_LABELED("b1", "10.78.2.11",
			   "{app: web, team: pay, kuma.io/zone: east, "
			   "kuma.io/workload: w1}")
		WL_LABELED("b2", "10.78.2.12",
			   "{app: api, kuma.io/workload: api-w}")
		WL_LABELED("b3", "10.78.2.13", "{app: web}");
	struct model_set set;
	struct diag d;
	char id[MF_SPIFFE_MAX], why[160];
	const struct model_obj *w;
	bool ok = id_parse(yaml, &set, &d);

	w = model_set_find(&set, MODEL_WORKLOAD, "b1");
	ok = ok && ASSERT_EQ(identity_render(&set, identity_select(&set, w), w,
					     id, sizeof(id), why,
					     sizeof(why)), 0) &&
	     ASSERT_STREQ(id, "spiffe://default.east.example/t/pay/w1/"
			      "default.east.example");
	/* Kuma's defaults for a universal zone; the zone is "default". */
	w = model_set_find(&set, MODEL_WORKLOAD, "b2");
	ok = ok && ASSERT_EQ(identity_render(&set, identity_select(&set, w), w,
					     id, sizeof(id), why,
					     sizeof(why)), 0) &&
	     ASSERT_STREQ(id, "spiffe://default.default.mesh.local/workload/"
			      "api-w");
	/* label "team" is missing on b3. */
	w = model_set_find(&set, MODEL_WORKLOAD, "b3");
	ok = ok && ASSERT_EQ(identity_render(&set, identity_select(&set, w), w,
					     id, sizeof(id), why,
					     sizeof(why)), -EINVAL) &&
	     ASSERT_STREQ(why, "its template needs the label team, which the "
			       "Workload does not have");
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* What validation refuses: a missing label, a rendered ID outside the
 * mesh's trust domain, a spec.identity that disagrees. */
static bool test_identity_invalid(void)
{
	static const char *const missing[] = {
		"t.yaml:24:1: spec.identity: MeshIdentity "
		"\"m\" selects this Workload, but its template needs the label "
		"team, which the Workload does not have",
		NULL,
	};
	static const char *const other_td[] = {
		"t.yaml:25:1: spec.identity: "
		"\"spiffe://default.default.mesh.local/workload/w1\", which "
		"MeshIdentity \"m\" gives this Workload, is in trust domain "
		"\"default.default.mesh.local\", which no CA of the mesh "
		"vouches for (its meshTrustCreation is Disabled): apply a "
		"MeshTrust for it",
		NULL,
	};
	static const char *const disagree[] = {
		"t.yaml:30:32: spec.identity: must be "
		"\"spiffe://mesh.local/ns/shop/sa/web-sa\", the identity "
		"MeshIdentity \"m\" gives this Workload, or be left out",
		NULL,
	};
	static const char *const empty_path[] = {
		"t.yaml:26:1: spec.identity: MeshIdentity "
		"\"m\" selects this Workload, but it renders "
		"\"spiffe://mesh.local/ns//sa/\", which is not a SPIFFE ID (a "
		"label it reads is missing or empty?)",
		NULL,
	};

	return ph_validate_refuses(BASE MI_DOC("m")
			  "  selector: {dataplane: {matchLabels: {app: web}}}\n"
			  "  spiffeID: {trustDomain: mesh.local, path: "
			  "\"/t/{{ label \\\"team\\\" }}\"}\n"
			  WL_LABELED("b1", "10.78.2.11", "{app: web}"),
			  missing) &&
	       ph_validate_refuses(BASE MI_DOC("m")
			  "  selector: {dataplane: {matchLabels: {app: web}}}\n"
			  "  provider: {type: Bundled, bundled: "
			  "{meshTrustCreation: Disabled,\n"
			  "             autogenerate: {enabled: true}}}\n"
			  WL_LABELED("b1", "10.78.2.11",
				     "{app: web, kuma.io/workload: w1}"),
			  other_td) &&
	       ph_validate_refuses(BASE MI_NS_SA("m", "{app: web}")
			  "---\napiVersion: meshforge.io/v1alpha1\n"
			  "kind: Workload\n"
			  "metadata: {name: b1, labels: " WEB_LABELS "}\n"
			  "spec: {node: mf-node-b, ip: 10.78.2.11, port: 8080,\n"
			  "       service: web, identity: "
			  "\"spiffe://mesh.local/ns/shop/sa/other\"}\n",
			  disagree) &&
	       ph_validate_refuses(BASE MI_NS_SA("m", "{app: web}")
			  WL_LABELED("b1", "10.78.2.11", "{app: web}"),
			  empty_path);
}

/* Kuma's default trust domain template renders another domain than the
 * Mesh's: with meshTrustCreation (Kuma's default), the mesh CA vouches
 * for it (mf_config.mid_domains), a Mesh-wide permission admits its
 * identities, and a permission may name them; Disabled, a MeshTrust for
 * it must be there, and the mesh CA does not vouch for it. */
#define TC_MTP                                                                \
	"---\napiVersion: kuma.io/v1alpha1\n"                                 \
	"kind: MeshTrafficPermission\nmetadata: {name: p}\nspec:\n"           \
	"  targetRef: {kind: MeshService, name: web}\n"                       \
	"  from:\n"                                                           \
	"  - targetRef: {kind: Mesh}\n"                                       \
	"    default: {action: Allow}\n"                                      \
	"  - targetRef: {kind: SpiffeID, name: "                              \
	"\"spiffe://default.default.mesh.local/workload/w1\"}\n"              \
	"    default: {action: Deny}\n"
#define TC_TRUST                                                              \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshTrust\n"               \
	"metadata: {name: t}\nspec:\n"                                        \
	"  trustDomain: default.default.mesh.local\n"                         \
	"  caBundles:\n    - type: Pem\n      pem:\n        value: |\n"      \
	CA_PEM("          ")
#define TC_WL                                                                 \
	WL_LABELED("b1", "10.78.2.11", "{app: web, kuma.io/workload: w1}")

static bool test_identity_trust_creation(void)
{
	struct rec_set rs;
	const struct mf_authz_rule *r;
	bool mesh_td = false, other_td = false;
	bool ok = rh_compile(BASE MI_DOC("m")
			     "  selector: {dataplane: {matchLabels: {app: web}}}\n"
			     TC_WL TC_MTP, NULL, &rs);

	ok = ok && ASSERT_EQ(rs.config.nmid_domains, 1) &&
	     ASSERT_EQ(rs.config.mid_domain_ca, 1) &&
	     ASSERT_STREQ(rs.config.mid_domains[0],
			  "default.default.mesh.local");
	for (size_t i = 0; ok && i < rec_count(&rs, REC_AUTHZ); i++) {
		r = rec_val(&rs, REC_AUTHZ, i);
		if (r->match != MF_AUTHZ_MATCH_PREFIX)
			continue;
		mesh_td |= !strcmp(r->spiffe, "spiffe://mesh.local/");
		other_td |= !strcmp(r->spiffe,
				    "spiffe://default.default.mesh.local/");
	}
	ok = ok && ASSERT_EQ(rec_count(&rs, REC_AUTHZ), 3) &&
	     ASSERT_TRUE(mesh_td) && ASSERT_TRUE(other_td);
	rec_set_free(&rs);
	/* Disabled, with a MeshTrust for the domain: valid, the domain the
	 * mesh's, and the mesh CA not the one that vouches. */
	ok = ok && rh_compile(BASE MI_DOC("m")
			      "  selector: {dataplane: {matchLabels: "
			      "{app: web}}}\n"
			      "  provider: {type: Bundled, bundled: "
			      "{meshTrustCreation: Disabled,\n"
			      "             autogenerate: {enabled: true}}}\n"
			      TC_WL TC_TRUST TC_MTP, NULL, &rs) &&
	     ASSERT_EQ(rs.config.nmid_domains, 1) &&
	     ASSERT_EQ(rs.config.mid_domain_ca, 0);
	rec_set_free(&rs);
	return ok;
}

/* The endpoint's identity is the rendered one; a Workload that also
 * writes it (the same) compiles the same. */
static bool test_identity_compiled(void)
{
	struct rec_set rs;
	struct mf_endpoint_key k = { .ip = { 10, 78, 2, 11 } };
	const struct mf_endpoint *e;
	const struct mf_identity *id;
	struct mf_identity_key ik;
	long i, j;
	bool ok = rh_compile(BASE MI_NS_SA("m", "{app: web}")
			     WL_LABELED("b1", "10.78.2.11", WEB_LABELS), NULL,
			     &rs);

	i = ok ? rec_find(&rs, REC_ENDPOINTS, &k) : -1;
	ok = ok && ASSERT_TRUE(i >= 0) &&
	     ASSERT_EQ(rec_count(&rs, REC_IDENTITIES), 1);
	if (ok) {
		e = rec_val(&rs, REC_ENDPOINTS, (size_t)i);
		memset(&ik, 0, sizeof(ik));
		ik.id = e->identity_id;
		j = rec_find(&rs, REC_IDENTITIES, &ik);
		ok = ASSERT_TRUE(j >= 0);
		id = ok ? rec_val(&rs, REC_IDENTITIES, (size_t)j) : NULL;
		ok = ok && ASSERT_STREQ(id->spiffe,
					"spiffe://mesh.local/ns/shop/sa/web-sa");
	}
	rec_set_free(&rs);
	return ok;
}

/* Read back from the maps, a Workload whose identity its MeshIdentity
 * gives leaves it out again (so it follows the MeshIdentity when that
 * changes); one that names its own keeps it. */
static bool test_identity_decompiled(void)
{
	struct rec_set rs;
	struct model_set set;
	struct diag d;
	const struct core_workload *w;
	bool ok = rh_compile(BASE MI_NS_SA("m", "{app: web}")
			     WL_LABELED("b1", "10.78.2.11", WEB_LABELS)
			     PH_WL("b2", "mf-node-b", "10.78.2.12", "8080",
				   "web", "api"), NULL, &rs);

	model_set_init(&set);
	diag_init(&d);
	ok = ok && ASSERT_EQ(decompile_records(&rs, &set, &d), 0);
	w = ok ? model_spec(model_set_find(&set, MODEL_WORKLOAD, "b1")) : NULL;
	ok = ok && ASSERT_STREQ(w->identity, "") &&
	     ASSERT_EQ(w->present & (1u << CW_IDENTITY), 0);
	w = ok ? model_spec(model_set_find(&set, MODEL_WORKLOAD, "b2")) : NULL;
	ok = ok && ASSERT_STREQ(w->identity, PH_SA("api")) &&
	     ASSERT_TRUE(w->present & (1u << CW_IDENTITY)) &&
	     ASSERT_EQ(validate_set(&set, &d), 0);
	diag_free(&d);
	model_set_free(&set);
	rec_set_free(&rs);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_identity_best_match);
	TEST_RUN(test_identity_empty_match_labels);
	TEST_RUN(test_identity_no_selector_selects_nothing);
	TEST_RUN(test_identity_render);
	TEST_RUN(test_identity_invalid);
	TEST_RUN(test_identity_compiled);
	TEST_RUN(test_identity_trust_creation);
	TEST_RUN(test_identity_decompiled);
	TEST_MAIN_END();
}
