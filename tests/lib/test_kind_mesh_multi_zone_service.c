// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMultiZoneService (lib/policy/kind_mesh_multi_zone_service.c): a spec
 * parses into the expected record, its labels into a tag set, and prints
 * back to the same bytes; Kuma 2.14's kafka is taken; a missing selector,
 * labels or ports, an empty port name, an empty or unknown protocol, a
 * port out of range and more ports or a longer name than the record holds
 * each give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define MZ KH_DOC("MeshMultiZoneService", "mz")
#define MZ_SELECTOR MZ "  selector: {meshService: {matchLabels: {app: a}}}\n"

static bool test_mzs_parse(void)
{
	static const char *const labels[] = { "app", "backend", "tier", "api" };
	struct model_set set;
	const struct mf_mesh_multi_zone_service *s = kh_policy(
		MZ
		"  selector:\n"
		"    meshService:\n"
		"      matchLabels: {tier: api, app: backend}\n"
		"  ports:\n"
		"    - {name: http, port: 8080, appProtocol: http}\n"
		"    - {port: 9092, appProtocol: kafka}\n"
		"    - {port: 53}\n",
		&set, &kind_mesh_multi_zone_service, 1);
	bool ok;

	ok = s && ASSERT_EQ(s->present, 0x3) &&
	     ASSERT_EQ(s->selector.present, 0x1) &&
	     ASSERT_EQ(s->selector.mesh_service.present, 0x1) &&
	     kh_tags_are(&set, s->selector.mesh_service.match_labels, labels,
			 2) &&
	     ASSERT_EQ(s->nports, 3) &&
	     ASSERT_EQ(s->ports[0].present, 0x7) &&
	     ASSERT_STREQ(s->ports[0].name, "http") &&
	     ASSERT_EQ(s->ports[0].port, 8080) &&
	     ASSERT_EQ(s->ports[0].app_protocol, MF_MZS_HTTP) &&
	     ASSERT_EQ(s->ports[1].present, 0x6) &&
	     ASSERT_EQ(s->ports[1].app_protocol, MF_MZS_KAFKA) &&
	     /* No appProtocol: tcp, Kuma's default, unwritten. */
	     ASSERT_EQ(s->ports[2].present, 0x2) &&
	     ASSERT_EQ(s->ports[2].app_protocol, 0);
	return kh_finish(&set, ok);
}

KH_TEST_BAD(test_mzs_invalid,
	{ MZ "  ports: [{port: 80}]\n",
	  "t.yaml:5:3: spec.selector: is required" },
	{ MZ_SELECTOR, "t.yaml:5:3: spec.ports: is required" },
	{ MZ "  selector: {}\n  ports: [{port: 80}]\n",
	  "t.yaml:5:13: spec.selector.meshService: is required" },
	{ MZ "  selector: {meshService: {}}\n  ports: [{port: 80}]\n",
	  "t.yaml:5:27: spec.selector.meshService.matchLabels: is required" },
	{ MZ "  selector: {meshService: {matchLabels: {}}}\n"
	  "  ports: [{port: 80}]\n",
	  "t.yaml:5:41: spec.selector.meshService.matchLabels: must have 1..8 "
	  "tags" },
	{ MZ_SELECTOR "  ports: []\n",
	  "t.yaml:6:10: spec.ports: must have at least one port" },
	{ MZ_SELECTOR "  ports: [{name: x}]\n",
	  "t.yaml:6:11: spec.ports[0].port: is required" },
	{ MZ_SELECTOR "  ports: [{port: 0}]\n",
	  "t.yaml:6:18: spec.ports[0].port: must be 1..65535" },
	{ MZ_SELECTOR "  ports: [{port: 123, name: '', appProtocol: tcp}]\n",
	  "t.yaml:6:29: spec.ports[0].name: must not be empty" },
	{ MZ_SELECTOR "  ports: [{port: 123, appProtocol: not_supported}]\n",
	  "t.yaml:6:36: spec.ports[0].appProtocol: must be grpc, http, http2, "
	  "kafka or tcp" },
	/* Kuma's schema fills in tcp only where appProtocol is missing. */
	{ MZ_SELECTOR "  ports: [{port: 123, appProtocol: ''}]\n",
	  "t.yaml:6:36: spec.ports[0].appProtocol: must be grpc, http, http2, "
	  "kafka or tcp" },
	{ MZ_SELECTOR "  ports: [{port: 65536}]\n",
	  "t.yaml:6:18: spec.ports[0].port: must be 1..65535" },
	/* A port's name is what a sectionName names: MF_SECTION_MAX - 1. */
	{ MZ_SELECTOR "  ports: [{port: 1, name: "
	  "abcdefghijabcdefghijabcdefghijabc}]\n",
	  "t.yaml:6:27: spec.ports[0].name: must be at most 31 characters" },
	{ MZ_SELECTOR "  ports: [{port: 1}, {port: 2}, {port: 3}, {port: 4}, "
	  "{port: 5}, {port: 6}, {port: 7}, {port: 8}, {port: 9}, {port: 10}, "
	  "{port: 11}, {port: 12}, {port: 13}, {port: 14}, {port: 15}, "
	  "{port: 16}, {port: 17}]\n",
	  "t.yaml:6:10: spec.ports: must have at most 16 entries" },
	/* Kuma compares the protocol as written. */
	{ MZ_SELECTOR "  ports: [{port: 123, appProtocol: HTTP}]\n",
	  "t.yaml:6:36: spec.ports[0].appProtocol: must be grpc, http, http2, "
	  "kafka or tcp" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mzs_parse);
	TEST_RUN(test_mzs_invalid);
	TEST_MAIN_END();
}
