// SPDX-License-Identifier: Apache-2.0
/*
 * MeshRetry (lib/policy/kind_mesh_retry.c) through mfctl's reader and
 * writer: Kuma's example parses into the expected records and prints back
 * to the same bytes; ranges, flag names, unknown fields, the backOff rule
 * and the to-only section each give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char retry_yaml[] =
	KH_DOC("MeshRetry", "web-to-backend")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      default:\n"
	"        tcp:\n"
	"          maxConnectAttempt: 3\n"
	"        http:\n"
	"          numRetries: 5\n"
	"          perTryTimeout: 2s\n"
	"          backOff: {baseInterval: 25ms, maxInterval: 1m30s}\n"
	"          retryOn: [5XX, GatewayError, Reset, HttpMethodGet,\n"
	"                    HttpMethodTrace]\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        http: {numRetries: 0}\n";

static bool test_retry_parse(void)
{
	struct model_set set;
	const struct mf_retry *r = kh_policy(retry_yaml, &set,
					     &kind_mesh_retry, 2);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(r[0].conf.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.tcp.present, 0x1) &&
	     ASSERT_EQ(r[0].conf.tcp.max_connect_attempt, 3) &&
	     ASSERT_EQ(r[0].conf.http.present, 0xf) &&
	     ASSERT_EQ(r[0].conf.http.num_retries, 5) &&
	     ASSERT_EQ(r[0].conf.http.per_try_timeout, 2000) &&
	     ASSERT_EQ(r[0].conf.http.back_off.present, 0x3) &&
	     ASSERT_EQ(r[0].conf.http.back_off.base_interval, 25) &&
	     ASSERT_EQ(r[0].conf.http.back_off.max_interval, 90000) &&
	     ASSERT_EQ(r[0].conf.http.retry_on,
		       MF_RETRY_5XX | MF_RETRY_GATEWAY_ERROR | MF_RETRY_RESET |
			       MF_RETRY_METHOD_GET | MF_RETRY_METHOD_TRACE) &&
	     /* numRetries: 0 is written, so present, and zero */
	     ASSERT_EQ(r[1].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[1].conf.present, 0x2) &&
	     ASSERT_EQ(r[1].conf.http.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.http.num_retries, 0);
	return kh_finish(&set, ok);
}

/* RETRY_HEAD is 8 lines: the first line after it is line 9. */
#define RETRY_HEAD KH_DOC("MeshRetry", "r") KH_ENTRY("to")

KH_TEST_BAD(test_retry_invalid,
	{ RETRY_HEAD "        http: {numRetries: 1001}\n",
	  "t.yaml:9:28: spec.to[0].default.http.numRetries: must be 0..1000" },
	{ RETRY_HEAD "        http: {retryOn: [5XX, 5xx]}\n",
	  "t.yaml:9:31: spec.to[0].default.http.retryOn[1]: must be 5XX, "
	  "GatewayError, Reset, Retriable4xx, ConnectFailure, "
	  "EnvoyRatelimited, RefusedStream, Http3PostConnectFailure, "
	  "HttpMethodConnect, HttpMethodDelete, HttpMethodGet, "
	  "HttpMethodHead, HttpMethodOptions, HttpMethodPatch, "
	  "HttpMethodPost, HttpMethodPut or HttpMethodTrace" },
	{ RETRY_HEAD "        http: {numRetrys: 1}\n",
	  "t.yaml:9:16: spec.to[0].default.http.numRetrys: unknown field" },
	{ RETRY_HEAD "        http:\n"
		     "          backOff: {baseInterval: 1s, "
		     "maxInterval: 100ms}\n",
	  "t.yaml:10:20: spec.to[0].default.http.backOff: "
	  "baseInterval must not be greater than maxInterval" },
	{ RETRY_HEAD "        tcp: {}\n",
	  "t.yaml:9:14: spec.to[0].default.tcp.maxConnectAttempt: "
	  "is required" },
	{ RETRY_HEAD "        http: {}\n",
	  "t.yaml:9:15: spec.to[0].default.http: needs at least one "
	  "of numRetries, perTryTimeout, backOff, retryOn" },
	{ KH_DOC("MeshRetry", "r")
	  "  targetRef: {kind: Mesh}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      default: {http: {numRetries: 1}}\n"
	  "  from:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      default: {http: {numRetries: 1}}\n",
	  "t.yaml:10:5: spec.from: is not allowed in a MeshRetry (it "
	  "has only to)" },
)

static bool test_retry_layout(void)
{
	return kh_layout(&kind_mesh_retry, retry_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_retry_parse);
	TEST_RUN(test_retry_invalid);
	TEST_RUN(test_retry_layout);
	TEST_MAIN_END();
}
