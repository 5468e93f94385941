// SPDX-License-Identifier: Apache-2.0
/*
 * Mesh (lib/policy/kind_mesh.c) through mfctl's reader: each rule of
 * spec.mtls (the enabled backend is one of the backends, a provided
 * backend names its files and a builtin one does not, mode names) gives
 * exactly the expected diagnostic.  The whole pipeline of a valid Mesh is
 * in test_kinds.c.
 */
#define KH_FILE "m.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

/* A Mesh whose spec.mtls (line 7) is @mtls. */
#define MESH_MTLS(mtls)                                                       \
	"---\napiVersion: meshforge.io/v1alpha1\n"                            \
	"kind: Mesh\nmetadata: {name: default}\n"                             \
	"spec:\n  trustDomain: td\n  mtls:\n" mtls

KH_TEST_BAD(test_bad_mtls,
	{ MESH_MTLS("    enabledBackend: nope\n"
		    "    backends: [{name: b, type: builtin}]\n"),
	  "m.yaml:8:21: spec.mtls.enabledBackend: names no backend "
	  "of spec.mtls.backends" },
	{ MESH_MTLS("    backends: [{name: b, type: provided}]\n"),
	  "m.yaml:8:16: spec.mtls.backends[0].conf: is required "
	  "for a provided backend" },
	{ MESH_MTLS("    backends: [{name: b, type: builtin,\n"
		    "                conf: {cert: {file: /x}, "
		    "key: {file: /y}}}]\n"),
	  "m.yaml:9:23: spec.mtls.backends[0].conf: builtin "
	  "backends take no conf (the mesh CA is made by `mfctl "
	  "ca init`)" },
	{ MESH_MTLS("    backends: [{name: b, type: builtin, "
		    "mode: LAX}]\n"),
	  "m.yaml:8:47: spec.mtls.backends[0].mode: must be "
	  "STRICT or PERMISSIVE" },
)

/* dpCert.rotation.expiration of the only backend of the only object of
 * @yaml, a Mesh, is @secs; printed back, it parses to the same record. */
static bool mesh_expiration_is(const char *yaml, uint32_t secs)
{
	struct model_set s;
	bool ok = kh_parse_ok(yaml, &s);
	const struct core_mesh *m = ok && s.n == 1 ? model_spec(&s.objs[0]) :
						     NULL;

	ok = ok && ASSERT_TRUE(m) &&
	     ASSERT_EQ(m->mtls.backends[0].dp_cert.rotation.expiration, secs) &&
	     kh_round_trip(&s, &s.objs[0]);
	if (ok || s.n)
		model_set_free(&s);
	return ok;
}

#define MESH_EXPIRATION(v)                                                    \
	MESH_MTLS("    backends: [{name: b, type: builtin, "                  \
		  "dpCert: {rotation: {expiration: " v "}}}]\n")

/* Kuma's lifetimes: weeks and years of 365 days as well as days, hours,
 * minutes and seconds; 1s to 10 years, whole seconds. */
static bool test_rotation_expiration(void)
{
	return mesh_expiration_is(MESH_EXPIRATION("2y"), 2 * 365 * 86400) &&
	       mesh_expiration_is(MESH_EXPIRATION("3w"), 21 * 86400) &&
	       mesh_expiration_is(MESH_EXPIRATION("1d"), 86400) &&
	       mesh_expiration_is(MESH_EXPIRATION("90m"), 5400) &&
	       mesh_expiration_is(MESH_EXPIRATION("10y"), 3650 * 86400) &&
	       kh_expect1(MESH_EXPIRATION("11y"),
			  "m.yaml:8:73: spec.mtls.backends[0].dpCert.rotation."
			  "expiration: must be a lifetime such as 1y, 2w, 1d, "
			  "12h, 90m or 3600s (1s to 10 years)") &&
	       kh_expect1(MESH_EXPIRATION("500ms"),
			  "m.yaml:8:73: spec.mtls.backends[0].dpCert.rotation."
			  "expiration: must be a lifetime such as 1y, 2w, 1d, "
			  "12h, 90m or 3600s (1s to 10 years)") &&
	       kh_expect1(MESH_EXPIRATION("0y"),
			  "m.yaml:8:73: spec.mtls.backends[0].dpCert.rotation."
			  "expiration: must be a lifetime such as 1y, 2w, 1d, "
			  "12h, 90m or 3600s (1s to 10 years)");
}

/* The trust domain of the only object of @yaml, a Mesh, is @td; printed
 * back (meshforge's apiVersion, trustDomain spelled out), it parses to
 * the same record. */
static bool mesh_td_is(const char *yaml, const char *td)
{
	struct model_set s;
	bool ok = kh_parse_ok(yaml, &s);

	ok = ok && ASSERT_EQ(s.n, 1) &&
	     ASSERT_STREQ(((struct core_mesh *)model_spec(&s.objs[0]))
				  ->trust_domain, td) &&
	     kh_round_trip(&s, &s.objs[0]);
	if (ok || s.n)
		model_set_free(&s);
	return ok;
}

/* Kuma's Mesh has no trustDomain: it is the mesh's name, as Kuma's
 * builtin CA names identities spiffe://<mesh>/<service>.  Its spec may
 * be left out.  meshforge's Mesh must still say it. */
static bool test_kuma_mesh_trust_domain(void)
{
	return mesh_td_is("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\n", "default") &&
	       mesh_td_is("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: prod.mesh-1}\n"
			  "spec:\n  mtls:\n    enabledBackend: ca-1\n"
			  "    backends: [{name: ca-1, type: builtin}]\n",
			  "prod.mesh-1") &&
	       mesh_td_is("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\n"
			  "spec: {trustDomain: corp.example}\n",
			  "corp.example") &&
	       kh_expect1("apiVersion: meshforge.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\nspec:\n"
			  "  mtls: {backends: [{name: b, type: builtin}]}\n",
			  "m.yaml:5:3: spec.trustDomain: is required") &&
	       kh_expect1("apiVersion: meshforge.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\n",
			  "m.yaml:1:1: spec: is required") &&
	       kh_expect1("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\nspec: []\n",
			  "m.yaml:4:7: spec: must be a mapping, not a list");
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_bad_mtls);
	TEST_RUN(test_kuma_mesh_trust_domain);
	TEST_RUN(test_rotation_expiration);
	TEST_MAIN_END();
}
