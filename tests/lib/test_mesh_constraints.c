// SPDX-License-Identifier: Apache-2.0
/*
 * The Mesh's constraints.dataplaneProxy (lib/policy/mesh_kuma.c,
 * validate.c): Kuma refuses the connection of a proxy whose tags match
 * none of the requirements (when there are any) or match a restriction;
 * meshforge's admission is the apply, so such a Workload or Dataplane is
 * refused with the rule named, and the others pass.  A proxy's tags are
 * its own and its service as kuma.io/service; "*" matches any value.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/doc.h"
#include "policy/validate.h"

#define CONSTRAINTS(rules)                                                    \
	PH_MESH_WITH("constraints: {dataplaneProxy: {" rules "}}")

/* Workload @name at @ip with tags @tags, for service web. */
#define WL_TAGS(name, ip, tags)                                               \
	RH_DOC("Workload", name)                                              \
	"spec: {node: mf-node-b, ip: " ip ", port: 8080, service: web, "     \
	"identity: \"" PH_SA("web") "\", tags: " tags "}\n"

#define WEB PH_SVC("web", "10.96.0.10", "80")

/* A Dataplane for web (its identity from a MeshIdentity) with inbound
 * tags @tags. */
#define DP(tags)                                                              \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"               \
	"metadata: {name: d1, labels: {meshforge.io/node: mf-node-b, "        \
	"app: shop}}\nspec:\n  networking:\n    address: 10.78.2.40\n"       \
	"    inbound:\n      - {port: 15006, servicePort: 9090,\n"            \
	"         tags: " tags "}\n"                                          \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"            \
	"metadata: {name: shop-id}\nspec:\n"                                  \
	"  selector: {dataplane: {matchLabels: {app: shop}}}\n"               \
	"  spiffeID: {trustDomain: mesh.local, "                              \
	"path: \"/dp/{{ .Workload }}\"}\n"

/* A restriction refuses the proxies it matches, naming itself; the
 * others are admitted. */
static bool test_restrictions(void)
{
	static const char base[] =
		CONSTRAINTS("restrictions: [{tags: {team: a}}, "
			    "{tags: {team: legacy, version: '*'}}]")
		WEB;
	char yaml[4096];

	snprintf(yaml, sizeof(yaml), "%s%s%s", base,
		 WL_TAGS("w1", "10.1.0.1", "{team: legacy, version: v1}"),
		 WL_TAGS("w2", "10.1.0.2", "{team: legacy}"));
	{
		static const char *const want[] = {
			"t.yaml:17:1: spec.tags: its "
			"tags match the Mesh's constraints.dataplaneProxy."
			"restrictions[1] {team: legacy, version: *}",
			NULL,
		};
		if (!ph_validate_refuses(yaml, want))
			return false;
	}
	snprintf(yaml, sizeof(yaml), "%s%s", base,
		 WL_TAGS("w2", "10.1.0.2", "{team: legacy}"));
	return ph_validates(yaml);
}

/* With requirements, a proxy must match one of them; kuma.io/service is
 * its service's name. */
static bool test_requirements(void)
{
	static const char base[] =
		CONSTRAINTS("requirements: [{tags: {kuma.io/zone: east}}, "
			    "{tags: {kuma.io/service: web, canary: 'yes'}}]")
		WEB;
	static const char *const want[] = {
		"t.yaml:17:1: spec.tags: its tags match "
		"none of the Mesh's constraints.dataplaneProxy.requirements "
		"(the first: {kuma.io/zone: east})",
		NULL,
	};
	char yaml[4096];

	snprintf(yaml, sizeof(yaml), "%s%s%s%s", base,
		 WL_TAGS("w1", "10.1.0.1", "{kuma.io/zone: west}"),
		 WL_TAGS("w2", "10.1.0.2", "{kuma.io/zone: east}"),
		 WL_TAGS("w3", "10.1.0.3", "{canary: 'yes'}"));
	return ph_validate_refuses(yaml, want);
}

/* A Dataplane is held to them as well, by its inbound's tags. */
static bool test_dataplane(void)
{
	static const char *const want[] = {
		"t.yaml:17:1: spec.networking.inbound[0]."
		"tags: its tags match the Mesh's constraints.dataplaneProxy."
		"restrictions[0] {version: v2}",
		NULL,
	};

	return ph_validate_refuses(CONSTRAINTS("restrictions: [{tags: "
					       "{version: v2}}]")
				   WEB DP("{kuma.io/service: web, "
					  "version: v2}"), want) &&
	       ph_validates(CONSTRAINTS("restrictions: [{tags: {version: v2}}]")
			WEB DP("{kuma.io/service: web, version: v3}"));
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_restrictions);
	TEST_RUN(test_requirements);
	TEST_RUN(test_dataplane);
	TEST_MAIN_END();
}
