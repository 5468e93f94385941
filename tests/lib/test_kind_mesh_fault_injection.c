// SPDX-License-Identifier: Apache-2.0
/*
 * MeshFaultInjection (lib/policy/kind_mesh_fault_injection.c) through
 * mfctl's reader and writer: aborts, delays and bandwidth limits parse into
 * the expected records and print back to the same bytes; status codes,
 * percentages, bandwidths, empty faults, the list bound, the from-only
 * section and the targetRef kinds each give exactly the expected
 * diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char fault_yaml[] =
	KH_DOC("MeshFaultInjection", "backend-chaos")
	"  targetRef: {kind: MeshService, name: backend}\n"
	"  from:\n"
	"    - targetRef: {kind: MeshServiceSubset, name: web,\n"
	"                  tags: {version: v2}}\n"
	"      default:\n"
	"        http:\n"
	"          - abort: {httpStatus: 503, percentage: \"2.5\"}\n"
	"            delay: {value: 5s, percentage: 5}\n"
	"            responseBandwidth: {limit: 50Mbps, percentage: 50}\n"
	"          - abort: {httpStatus: 500, percentage: 0.125}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        http:\n"
	"          - delay: {value: 250ms, percentage: 100}\n"
	"          - responseBandwidth: {limit: 800kbps, percentage: 1}\n";

static bool test_fault_parse(void)
{
	static const char *const v2[] = { "version", "v2" };
	struct model_set set;
	const struct mf_fault *r = kh_policy(fault_yaml, &set,
					     &kind_mesh_fault_injection, 2);
	const struct mf_fault_http *h = r ? r[0].conf.http : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE_SUBSET) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "web") &&
	     kh_tags_are(&set, r[0].hdr.ref.tags, v2, 1) &&
	     ASSERT_EQ(r[0].conf.present, 0x1) &&
	     ASSERT_EQ(r[0].conf.nhttp, 2) &&
	     ASSERT_EQ(h[0].present, 0x7) &&
	     ASSERT_EQ(h[0].abort.present, 0x3) &&
	     ASSERT_EQ(h[0].abort.http_status, 503) &&
	     ASSERT_EQ(h[0].abort.percentage, 2500) &&
	     ASSERT_EQ(h[0].delay.value, 5000) &&
	     ASSERT_EQ(h[0].delay.percentage, 5000) &&
	     ASSERT_EQ(h[0].response_bandwidth.present, 0x3) &&
	     ASSERT_EQ(h[0].response_bandwidth.limit, 50000000) &&
	     ASSERT_EQ(h[0].response_bandwidth.percentage, 50000) &&
	     ASSERT_EQ(h[1].present, 0x1) &&
	     ASSERT_EQ(h[1].abort.http_status, 500) &&
	     ASSERT_EQ(h[1].abort.percentage, 125) &&
	     ASSERT_EQ(r[1].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[1].conf.nhttp, 2) &&
	     ASSERT_EQ(r[1].conf.http[0].present, 0x2) &&
	     ASSERT_EQ(r[1].conf.http[0].delay.value, 250) &&
	     ASSERT_EQ(r[1].conf.http[0].delay.percentage, 100000) &&
	     ASSERT_EQ(r[1].conf.http[1].present, 0x4) &&
	     ASSERT_EQ(r[1].conf.http[1].response_bandwidth.limit, 800000);
	return kh_finish(&set, ok);
}

/* FAULT_HEAD is 9 lines: the first line after it is line 10.  Sidecars
 * only: Kuma takes `from` for no target with gateways. */
#define FAULT_HEAD                                                            \
	KH_DOC("MeshFaultInjection", "f")                                     \
	"  targetRef: {kind: Mesh, proxyTypes: [Sidecar]}\n"                  \
	"  from:\n    - targetRef: {kind: Mesh}\n      default:\n"            \
	"        http:\n"
#define FAULT_DELAY                                                           \
	"      default: {http: [{delay: {value: 1s, percentage: 1}}]}\n"

KH_TEST_BAD(test_fault_invalid,
	{ FAULT_HEAD "          - abort: {httpStatus: 600, "
		     "percentage: 1}\n",
	  "t.yaml:10:33: spec.from[0].default.http[0].abort."
	  "httpStatus: must be 100..599" },
	{ FAULT_HEAD "          - abort: {httpStatus: 500, "
		     "percentage: 100.5}\n",
	  "t.yaml:10:50: spec.from[0].default.http[0].abort."
	  "percentage: must be a percentage 0..100 with at most 3 "
	  "decimals" },
	{ FAULT_HEAD "          - abort: {httpStatus: 500}\n",
	  "t.yaml:10:20: spec.from[0].default.http[0].abort."
	  "percentage: is required" },
	{ FAULT_HEAD "          - responseBandwidth: {limit: 5MBps, "
		     "percentage: 1}\n",
	  "t.yaml:10:40: spec.from[0].default.http[0]."
	  "responseBandwidth.limit: must be a bandwidth such as 800bps, "
	  "10kbps, 5Mbps or 1Gbps" },
	{ FAULT_HEAD "          - {}\n",
	  "t.yaml:10:13: spec.from[0].default.http[0]: needs at least "
	  "one of abort, delay, responseBandwidth" },
	{ FAULT_HEAD "          - delay: {value: 1s, percentage: 1}\n"
		     "          - delay: {value: 1s, percentage: 1}\n"
		     "          - delay: {value: 1s, percentage: 1}\n"
		     "          - delay: {value: 1s, percentage: 1}\n"
		     "          - delay: {value: 1s, percentage: 1}\n",
	  "t.yaml:10:11: spec.from[0].default.http: must have at most 4 "
	  "entries" },
	{ KH_DOC("MeshFaultInjection", "f")
	  "  targetRef: {kind: Mesh}\n"
	  "  from:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  FAULT_DELAY,
	  "t.yaml:7:5: spec.from: must not be used when the target includes "
	  "gateways: select proxyTypes [Sidecar], or use spec.to" },
	{ KH_DOC("MeshFaultInjection", "f")
	  "  targetRef: {kind: MeshService, name: backend}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  FAULT_DELAY,
	  "t.yaml:7:5: spec.to: must only be used when the target includes "
	  "gateways" },
	{ KH_DOC("MeshFaultInjection", "f")
	  "  targetRef: {kind: MeshHTTPRoute, name: r}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  FAULT_DELAY,
	  "t.yaml:5:21: spec.targetRef.kind: must be Mesh, MeshSubset, "
	  "MeshService, MeshServiceSubset, Dataplane or MeshGateway" },
)

static bool test_fault_layout(void)
{
	return kh_layout(&kind_mesh_fault_injection, fault_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_fault_parse);
	TEST_RUN(test_fault_invalid);
	TEST_RUN(test_fault_layout);
	TEST_MAIN_END();
}
