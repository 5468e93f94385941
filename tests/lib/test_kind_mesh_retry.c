// SPDX-License-Identifier: Apache-2.0
/*
 * MeshRetry (lib/policy/kind_mesh_retry.c) through mfctl's reader and
 * writer: Kuma's example with every field of tcp, http and grpc parses
 * into the expected records and prints back to the same bytes; ranges,
 * retryOn names and status codes, header names, list bounds, unknown
 * fields, Kuma's "not empty" rules, the backOff rule, the host selection
 * rules and the to-only section each give exactly the expected diagnostic.
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
	"          retryOn: [5xx, GatewayError, Reset, HttpMethodGet,\n"
	"                    HttpMethodTrace, 5XX, \"503\", \"409\"]\n"
	"          rateLimitedBackOff:\n"
	"            resetHeaders:\n"
	"              - {name: retry-after, format: Seconds}\n"
	"              - {name: x-ratelimit-reset, format: UnixTimestamp}\n"
	"            maxInterval: 5m\n"
	"          retriableResponseHeaders:\n"
	"            - {type: Prefix, name: x-upstream, value: retry-}\n"
	"            - {type: RegularExpression, name: x-code, value: \"^5\"}\n"
	"          retriableRequestHeaders:\n"
	"            - {type: Present, name: x-idempotent}\n"
	"            - {name: x-mode, value: safe}\n"
	"          hostSelection:\n"
	"            - {predicate: OmitPreviousHosts}\n"
	"            - {predicate: OmitHostsWithTags, tags: {zone: a}}\n"
	"            - {predicate: OmitPreviousPriorities,"
	" updateFrequency: 4}\n"
	"          hostSelectionMaxAttempts: 3\n"
	"        grpc:\n"
	"          numRetries: 2\n"
	"          perTryTimeout: 1s\n"
	"          backOff: {baseInterval: 10ms}\n"
	"          rateLimitedBackOff: {resetHeaders: []}\n"
	"          retryOn: [Unavailable, DeadlineExceeded]\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        http: {numRetries: 0}\n"
	"    - targetRef: {kind: MeshExternalService, name: ext}\n"
	"      default:\n"
	"        grpc: {retryOn: []}\n";

static bool test_retry_parse(void)
{
	static const char *const zone_a[] = { "zone", "a" };
	static const char *const retry_on[] = {
		"5xx", "GatewayError", "Reset", "HttpMethodGet",
		"HttpMethodTrace", "5XX", "503", "409",
	};
	struct model_set set;
	const struct mf_retry *r = kh_policy(retry_yaml, &set,
					     &kind_mesh_retry, 3);
	const struct mf_retry_http *h = r ? &r[0].conf.http : NULL;
	const struct mf_retry_grpc *g = r ? &r[0].conf.grpc : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(r[0].conf.present, 0x7) &&
	     ASSERT_EQ(r[0].conf.tcp.present, 0x1) &&
	     ASSERT_EQ(r[0].conf.tcp.max_connect_attempt, 3) &&
	     ASSERT_EQ(h->present, 0x1ff) &&
	     ASSERT_EQ(h->num_retries, 5) &&
	     ASSERT_EQ(h->per_try_timeout, 2000) &&
	     ASSERT_EQ(h->back_off.present, 0x3) &&
	     ASSERT_EQ(h->back_off.base_interval, 25) &&
	     ASSERT_EQ(h->back_off.max_interval, 90000) &&
	     ASSERT_EQ(h->nretry_on, 8);
	for (size_t i = 0; ok && i < 8; i++)
		ok = ASSERT_STREQ(h->retry_on[i], retry_on[i]);
	ok = ok &&
	     /* rateLimitedBackOff */
	     ASSERT_EQ(h->rate_limited_back_off.present, 0x3) &&
	     ASSERT_EQ(h->rate_limited_back_off.max_interval, 300000) &&
	     ASSERT_EQ(h->rate_limited_back_off.nreset_headers, 2) &&
	     ASSERT_STREQ(h->rate_limited_back_off.reset_headers[0].name,
			  "retry-after") &&
	     ASSERT_EQ(h->rate_limited_back_off.reset_headers[0].format,
		       MF_RETRY_RESET_SECONDS) &&
	     ASSERT_STREQ(h->rate_limited_back_off.reset_headers[1].name,
			  "x-ratelimit-reset") &&
	     ASSERT_EQ(h->rate_limited_back_off.reset_headers[1].format,
		       MF_RETRY_RESET_UNIX_TIMESTAMP) &&
	     /* header matches; an absent type is Kuma's Exact (0) */
	     ASSERT_EQ(h->nretriable_response_headers, 2) &&
	     ASSERT_EQ(h->retriable_response_headers[0].type,
		       MF_MATCH_PREFIX) &&
	     ASSERT_STREQ(h->retriable_response_headers[0].name,
			  "x-upstream") &&
	     ASSERT_STREQ(h->retriable_response_headers[0].value, "retry-") &&
	     ASSERT_EQ(h->retriable_response_headers[1].type,
		       MF_MATCH_REGEX) &&
	     ASSERT_STREQ(h->retriable_response_headers[1].value, "^5") &&
	     ASSERT_EQ(h->nretriable_request_headers, 2) &&
	     ASSERT_EQ(h->retriable_request_headers[0].present, 0x3) &&
	     ASSERT_EQ(h->retriable_request_headers[0].type,
		       MF_MATCH_PRESENT) &&
	     ASSERT_STREQ(h->retriable_request_headers[0].name,
			  "x-idempotent") &&
	     ASSERT_EQ(h->retriable_request_headers[1].present, 0x6) &&
	     ASSERT_EQ(h->retriable_request_headers[1].type, 0) &&
	     ASSERT_STREQ(h->retriable_request_headers[1].value, "safe") &&
	     /* hostSelection */
	     ASSERT_EQ(h->nhost_selection, 3) &&
	     ASSERT_EQ(h->host_selection[0].present, 0x1) &&
	     ASSERT_EQ(h->host_selection[0].predicate,
		       MF_RETRY_OMIT_PREVIOUS_HOSTS) &&
	     ASSERT_EQ(h->host_selection[1].predicate,
		       MF_RETRY_OMIT_HOSTS_WITH_TAGS) &&
	     kh_tags_are(&set, h->host_selection[1].tags, zone_a, 1) &&
	     ASSERT_EQ(h->host_selection[2].predicate,
		       MF_RETRY_OMIT_PREVIOUS_PRIORITIES) &&
	     ASSERT_EQ(h->host_selection[2].update_frequency, 4) &&
	     ASSERT_EQ(h->host_selection_max_attempts, 3) &&
	     /* grpc */
	     ASSERT_EQ(g->present, 0x1f) &&
	     ASSERT_EQ(g->num_retries, 2) &&
	     ASSERT_EQ(g->per_try_timeout, 1000) &&
	     ASSERT_EQ(g->back_off.present, 0x1) &&
	     ASSERT_EQ(g->back_off.base_interval, 10) &&
	     ASSERT_EQ(g->rate_limited_back_off.present, 0x1) &&
	     ASSERT_EQ(g->rate_limited_back_off.nreset_headers, 0) &&
	     ASSERT_EQ(g->retry_on, MF_RETRY_GRPC_UNAVAILABLE |
					    MF_RETRY_GRPC_DEADLINE_EXCEEDED) &&
	     /* numRetries: 0 is written, so present, and zero */
	     ASSERT_EQ(r[1].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[1].conf.present, 0x2) &&
	     ASSERT_EQ(r[1].conf.http.present, 0x1) &&
	     ASSERT_EQ(r[1].conf.http.num_retries, 0) &&
	     /* an empty retryOn is written: present, no condition */
	     ASSERT_EQ(r[2].hdr.ref.kind, MF_REF_MESH_EXTERNAL_SERVICE) &&
	     ASSERT_EQ(r[2].conf.present, 0x4) &&
	     ASSERT_EQ(r[2].conf.grpc.present, 0x10) &&
	     ASSERT_EQ(r[2].conf.grpc.retry_on, 0);
	return kh_finish(&set, ok);
}

/* RETRY_HEAD is 8 lines: the first line after it is line 9. */
#define RETRY_HEAD KH_DOC("MeshRetry", "r") KH_ENTRY("to")
#define RETRY_ON_WANT                                                         \
	"must be 5xx, GatewayError, Reset, Retriable4xx, ConnectFailure, "    \
	"EnvoyRatelimited, RefusedStream, Http3PostConnectFailure, "          \
	"HttpMethodConnect, HttpMethodDelete, HttpMethodGet, "                \
	"HttpMethodHead, HttpMethodOptions, HttpMethodPatch, "                \
	"HttpMethodPost, HttpMethodPut, HttpMethodTrace or an HTTP status "   \
	"code such as 503"

KH_TEST_BAD(test_retry_invalid,
	{ RETRY_HEAD "        http: {numRetries: 1001}\n",
	  "t.yaml:9:28: spec.to[0].default.http.numRetries: must be 0..1000" },
	{ RETRY_HEAD "        http: {retryOn: [5xx, reset]}\n",
	  "t.yaml:9:31: spec.to[0].default.http.retryOn[1]: " RETRY_ON_WANT },
	/* Statuses Go's http.StatusText does not name, as in Kuma. */
	{ RETRY_HEAD "        http: {retryOn: [\"503\", \"306\"]}\n",
	  "t.yaml:9:33: spec.to[0].default.http.retryOn[1]: " RETRY_ON_WANT },
	/* A code is a string in Kuma's schema: a plain 503 is a number. */
	{ RETRY_HEAD "        http: {retryOn: [5xx, 503]}\n",
	  "t.yaml:9:31: spec.to[0].default.http.retryOn[1]: must be a "
	  "string, not a number (quote it: \"503\")" },
	{ RETRY_HEAD "        http: {retryOn: [\"123\"]}\n",
	  "t.yaml:9:26: spec.to[0].default.http.retryOn[0]: " RETRY_ON_WANT },
	{ RETRY_HEAD "        http: {retryOn: [5xx, 5xx, 5xx, 5xx, 5xx, 5xx,"
		     " 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx,"
		     " 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx, 5xx]}\n",
	  "t.yaml:9:25: spec.to[0].default.http.retryOn: must have at most "
	  "24 entries" },
	{ RETRY_HEAD "        http: {numRetrys: 1}\n",
	  "t.yaml:9:16: spec.to[0].default.http.numRetrys: unknown field" },
	{ RETRY_HEAD "        http:\n"
		     "          backOff: {baseInterval: 1s, "
		     "maxInterval: 100ms}\n",
	  "t.yaml:10:20: spec.to[0].default.http.backOff: "
	  "baseInterval must not be greater than maxInterval" },
	{ RETRY_HEAD "        http: {backOff: {}}\n",
	  "t.yaml:9:25: spec.to[0].default.http.backOff: needs baseInterval "
	  "or maxInterval" },
	{ RETRY_HEAD "        grpc: {backOff: {}}\n",
	  "t.yaml:9:25: spec.to[0].default.grpc.backOff: needs baseInterval "
	  "or maxInterval" },
	{ RETRY_HEAD "        tcp: {}\n",
	  "t.yaml:9:14: spec.to[0].default.tcp.maxConnectAttempt: "
	  "is required" },
	{ RETRY_HEAD "        tcp: {maxConnectAttempt: 0}\n",
	  "t.yaml:9:34: spec.to[0].default.tcp.maxConnectAttempt: "
	  "must be 1..1000" },
	{ RETRY_HEAD "        {}\n",
	  "t.yaml:9:9: spec.to[0].default: needs tcp, http or grpc" },
	{ RETRY_HEAD "        http: {}\n",
	  "t.yaml:9:15: spec.to[0].default.http: needs at least one "
	  "of numRetries, perTryTimeout, backOff, retryOn, "
	  "rateLimitedBackOff, retriableResponseHeaders, "
	  "retriableRequestHeaders, hostSelection" },
	/* Kuma's list leaves it out: it bounds hostSelection only. */
	{ RETRY_HEAD "        http: {hostSelectionMaxAttempts: 2}\n",
	  "t.yaml:9:15: spec.to[0].default.http: needs at least one "
	  "of numRetries, perTryTimeout, backOff, retryOn, "
	  "rateLimitedBackOff, retriableResponseHeaders, "
	  "retriableRequestHeaders, hostSelection" },
	{ RETRY_HEAD "        grpc: {}\n",
	  "t.yaml:9:15: spec.to[0].default.grpc: needs at least one "
	  "of numRetries, perTryTimeout, backOff, rateLimitedBackOff, "
	  "retryOn" },
	{ RETRY_HEAD "        grpc: {retryOn: [Unavailable, reset]}\n",
	  "t.yaml:9:39: spec.to[0].default.grpc.retryOn[1]: must be "
	  "Canceled, DeadlineExceeded, Internal, ResourceExhausted or "
	  "Unavailable" },
	{ RETRY_HEAD "        grpc: {retryOn: [\"500\"]}\n",
	  "t.yaml:9:26: spec.to[0].default.grpc.retryOn[0]: must be "
	  "Canceled, DeadlineExceeded, Internal, ResourceExhausted or "
	  "Unavailable" },
	/* rateLimitedBackOff */
	{ RETRY_HEAD "        http: {rateLimitedBackOff: {}}\n",
	  "t.yaml:9:36: spec.to[0].default.http.rateLimitedBackOff."
	  "resetHeaders: is required" },
	{ RETRY_HEAD "        grpc: {rateLimitedBackOff: {maxInterval: 1s}}\n",
	  "t.yaml:9:36: spec.to[0].default.grpc.rateLimitedBackOff."
	  "resetHeaders: is required" },
	{ RETRY_HEAD "        http:\n"
		     "          rateLimitedBackOff:\n"
		     "            resetHeaders: []\n"
		     "            maxInterval: 0s\n",
	  "t.yaml:12:26: spec.to[0].default.http.rateLimitedBackOff."
	  "maxInterval: must be 1ms..4294967295ms" },
	{ RETRY_HEAD "        http:\n"
		     "          rateLimitedBackOff:\n"
		     "            resetHeaders: [{name: \"\", "
		     "format: UnixTimestamp}]\n",
	  "t.yaml:11:35: spec.to[0].default.http.rateLimitedBackOff."
	  "resetHeaders[0].name: must not be empty" },
	{ RETRY_HEAD "        http:\n"
		     "          rateLimitedBackOff:\n"
		     "            resetHeaders: [{name: a, format: Minutes}]\n",
	  "t.yaml:11:46: spec.to[0].default.http.rateLimitedBackOff."
	  "resetHeaders[0].format: must be Seconds or UnixTimestamp" },
	{ RETRY_HEAD "        http:\n"
		     "          rateLimitedBackOff:\n"
		     "            resetHeaders: [{name: a}]\n",
	  "t.yaml:11:28: spec.to[0].default.http.rateLimitedBackOff."
	  "resetHeaders[0].format: is required" },
	{ RETRY_HEAD "        http:\n"
		     "          rateLimitedBackOff:\n"
		     "            resetHeaders: [{name: Retry-After, "
		     "format: Seconds}]\n",
	  "t.yaml:11:35: spec.to[0].default.http.rateLimitedBackOff."
	  "resetHeaders[0].name: must be lower case" },
	/* retriable headers */
	{ RETRY_HEAD "        http:\n"
		     "          retriableRequestHeaders: [{type: PREFIX, "
		     "name: a, value: b}]\n",
	  "t.yaml:10:44: spec.to[0].default.http.retriableRequestHeaders[0]."
	  "type: must be Exact, Present, RegularExpression, Absent or "
	  "Prefix" },
	{ RETRY_HEAD "        http:\n"
		     "          retriableResponseHeaders: [{value: b}]\n",
	  "t.yaml:10:38: spec.to[0].default.http.retriableResponseHeaders[0]."
	  "name: is required" },
	{ RETRY_HEAD "        http:\n"
		     "          retriableResponseHeaders: [{name: \"x y\"}]\n",
	  "t.yaml:10:45: spec.to[0].default.http.retriableResponseHeaders[0]."
	  "name: must be an HTTP header name (letters, digits and "
	  "!#$%&'*+-.^_`|~)" },
	{ RETRY_HEAD "        http:\n"
		     "          retriableResponseHeaders:\n"
		     "            - {type: RegularExpression, name: a, "
		     "value: \"(\"}\n",
	  "t.yaml:11:57: spec.to[0].default.http.retriableResponseHeaders[0]."
	  "value: is not a valid regular expression" },
	{ RETRY_HEAD "        http:\n"
		     "          retriableRequestHeaders: [{name: a}, {name: b},"
		     " {name: c}, {name: d}, {name: e}]\n",
	  "t.yaml:10:36: spec.to[0].default.http.retriableRequestHeaders: "
	  "must have at most 4 entries" },
	/* hostSelection */
	{ RETRY_HEAD "        http:\n"
		     "          hostSelection: [{predicate: "
		     "OmitHostsWithTags}]\n",
	  "t.yaml:10:27: spec.to[0].default.http.hostSelection[0].tags: "
	  "is required with predicate OmitHostsWithTags" },
	{ RETRY_HEAD "        http:\n"
		     "          hostSelection:\n"
		     "            - {predicate: OmitPreviousPriorities, "
		     "updateFrequency: 0}\n",
	  "t.yaml:11:68: spec.to[0].default.http.hostSelection[0]."
	  "updateFrequency: must be greater than 0 with predicate "
	  "OmitPreviousPriorities" },
	{ RETRY_HEAD "        http:\n"
		     "          hostSelection:\n"
		     "            - {predicate: OmitPreviousHosts}\n"
		     "            - {predicate: IncorrectPredicateType}\n",
	  "t.yaml:12:27: spec.to[0].default.http.hostSelection[1].predicate: "
	  "must be OmitPreviousHosts, OmitHostsWithTags or "
	  "OmitPreviousPriorities" },
	{ RETRY_HEAD "        http:\n"
		     "          hostSelection:\n"
		     "            - {predicate: OmitPreviousPriorities}\n"
		     "            - {predicate: OmitPreviousHosts}\n"
		     "            - {predicate: OmitPreviousPriorities}\n",
	  "t.yaml:11:13: spec.to[0].default.http.hostSelection: may have "
	  "OmitPreviousPriorities only once" },
	{ RETRY_HEAD "        http:\n"
		     "          hostSelection: [{tags: {zone: a}}]\n",
	  "t.yaml:10:27: spec.to[0].default.http.hostSelection[0].predicate: "
	  "is required" },
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

/* Kuma's updateFrequency defaults to 2 (its schema): an absent one is
 * fine with OmitPreviousPriorities, and stays absent in the record. */
static bool test_retry_update_frequency_default(void)
{
	struct model_set set;
	const struct mf_retry *r = kh_policy(
		RETRY_HEAD
		"        http:\n"
		"          hostSelection: [{predicate: "
		"OmitPreviousPriorities}]\n",
		&set, &kind_mesh_retry, 1);
	bool ok;

	ok = r && ASSERT_EQ(r->conf.http.nhost_selection, 1) &&
	     ASSERT_EQ(r->conf.http.host_selection[0].present, 0x1) &&
	     ASSERT_EQ(r->conf.http.host_selection[0].update_frequency, 0);
	return kh_finish(&set, ok);
}

static bool test_retry_layout(void)
{
	return ASSERT_TRUE(sizeof(struct mf_retry) < 4096) &&
	       kh_layout(&kind_mesh_retry, retry_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_retry_parse);
	TEST_RUN(test_retry_invalid);
	TEST_RUN(test_retry_update_frequency_default);
	TEST_RUN(test_retry_layout);
	TEST_MAIN_END();
}
