// SPDX-License-Identifier: Apache-2.0
/*
 * MeshGatewayRoute, the legacy kind of selectors
 * (lib/policy/kind_mesh_gateway_route.c), through mfctl's reader and
 * printer: an HTTP and a TCP route parse into the expected records and
 * print back to the same bytes; the http-or-tcp rule, header and path
 * matches and weights each give exactly the expected
 * "file:line:col: path: message".
 */
#define KH_FILE "r.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char gwr_yaml[] =
	KH_DOC("MeshGatewayRoute", "foo-routes")
	"  selectors:\n"
	"    - match: {kuma.io/service: edge-gateway, vhost: foo.example.com}\n"
	"  conf:\n"
	"    http:\n"
	"      hostnames: [foo.example.com, \"*.foo.example.com\"]\n"
	"      rules:\n"
	"        - matches:\n"
	"            - path: {match: PREFIX, value: /api}\n"
	"              method: GET\n"
	"              headers:\n"
	"                - {match: EXACT, name: x-canary, value: \"on\"}\n"
	"                - {match: ABSENT, name: x-debug}\n"
	"            - path: {value: /api-exact}\n"
	"          backends:\n"
	"            - {destination: {kuma.io/service: api, version: v2}, weight: 90}\n"
	"            - {destination: {kuma.io/service: api, version: v1}, weight: 10}\n"
	"        - matches: [{path: {match: REGEX, value: \"^/static/.*\"}}]\n"
	"          backends: [{destination: {kuma.io/service: cdn}}]\n";

static const char gwr_tcp_yaml[] =
	KH_DOC("MeshGatewayRoute", "db-route")
	"  selectors: [{match: {kuma.io/service: edge-gateway}}]\n"
	"  conf:\n"
	"    tcp:\n"
	"      rules:\n"
	"        - backends: [{destination: {kuma.io/service: db}, weight: 1}]\n"
	"        - backends:\n"
	"            - {destination: {kuma.io/service: db2}, weight: 0}\n"
	"            - {destination: {kuma.io/service: db3}, weight: 3}\n";

static bool test_gateway_route_full(void)
{
	struct model_set s;
	const struct mf_gateway_route *g, *gt;
	const struct mf_gwr_http *h;
	bool ok;

	g = kh_policy(gwr_yaml, &s, &kind_mesh_gateway_route, 1);
	h = g ? &g->conf.http : NULL;
	ok = g && ASSERT_EQ(g->hdr.nsources, 1) &&
	     ASSERT_STREQ(kh_tag(&s, g->hdr.sources[0], "vhost"),
			  "foo.example.com") &&
	     ASSERT_EQ(g->conf.tcp.present, 0) &&
	     ASSERT_EQ(h->nhostnames, 2) &&
	     ASSERT_STREQ(h->hostnames[1], "*.foo.example.com") &&
	     ASSERT_EQ(h->nrules, 2) &&
	     ASSERT_EQ(h->rules[0].nmatches, 2) &&
	     ASSERT_EQ(h->rules[0].matches[0].path.match, MF_GWR_PREFIX) &&
	     ASSERT_EQ(h->rules[0].matches[0].method, MF_METHOD_GET) &&
	     ASSERT_EQ(h->rules[0].matches[0].nheaders, 2) &&
	     ASSERT_EQ(h->rules[0].matches[0].headers[1].match, MF_GWR_ABSENT) &&
	     ASSERT_STREQ(h->rules[0].matches[0].headers[1].name, "x-debug") &&
	     ASSERT_EQ(h->rules[0].matches[1].path.match, 0) &&
	     ASSERT_STREQ(h->rules[0].matches[1].path.value, "/api-exact") &&
	     ASSERT_EQ(h->rules[0].nbackends, 2) &&
	     ASSERT_STREQ(kh_tag(&s, h->rules[0].backends[0].destination,
				 "version"), "v2") &&
	     ASSERT_EQ(h->rules[0].backends[0].weight, 90) &&
	     ASSERT_EQ(h->rules[1].matches[0].path.match, MF_GWR_REGEX) &&
	     ASSERT_STREQ(kh_tag(&s, h->rules[1].backends[0].destination,
				 "kuma.io/service"), "cdn");
	if (!kh_finish(&s, ok))
		return false;
	gt = kh_policy(gwr_tcp_yaml, &s, &kind_mesh_gateway_route, 1);
	ok = gt && ASSERT_EQ(gt->conf.http.present, 0) &&
	     ASSERT_EQ(gt->conf.tcp.nrules, 2) &&
	     ASSERT_EQ(gt->conf.tcp.rules[1].nbackends, 2) &&
	     ASSERT_EQ(gt->conf.tcp.rules[1].backends[1].weight, 3) &&
	     ASSERT_STREQ(kh_tag(&s,
				 gt->conf.tcp.rules[0].backends[0].destination,
				 "kuma.io/service"), "db");
	return kh_finish(&s, ok);
}

#define GWR_HEAD                                                              \
	KH_DOC("MeshGatewayRoute", "gr")                                      \
	"  selectors: [{match: {kuma.io/service: gw}}]\n"                     \
	"  conf:\n"

#define GWR_BACKENDS "          backends: [{destination: {kuma.io/service: a}}]\n"

KH_TEST_BAD(test_gateway_route_invalid,
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {match: PREFIX, value: /}}]\n"
	  GWR_BACKENDS
	  "    tcp:\n"
	  "      rules: [{backends: [{destination: {kuma.io/service: a}}]}]\n",
	  "r.yaml:7:5: spec.conf: needs exactly one of http and tcp" },
	{ GWR_HEAD "    {}\n",
	  "r.yaml:7:5: spec.conf: needs exactly one of http and tcp" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{headers: [{match: PREFIX, name: x-a, value: b}]}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:32: spec.conf.http.rules[0].matches[0].headers[0]: match "
	  "must be EXACT, REGEX, ABSENT or PRESENT" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{headers: [{match: PRESENT, name: x-a, value: b}]}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:32: spec.conf.http.rules[0].matches[0].headers[0]: match "
	  "ABSENT and PRESENT take no value" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{headers: [{name: x-a}]}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:32: spec.conf.http.rules[0].matches[0].headers[0]: value "
	  "is required for match EXACT and REGEX" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {match: REGEX, value: \"a(\"}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:28: spec.conf.http.rules[0].matches[0].path: value is "
	  "not a valid regular expression" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {match: PREFIX, value: api}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:28: spec.conf.http.rules[0].matches[0].path: value must start with '/'" },
	{ GWR_HEAD
	  "    tcp:\n"
	  "      rules:\n"
	  "        - backends: [{destination: {kuma.io/service: a}, weight: 0}]\n",
	  "r.yaml:9:11: spec.conf.tcp.rules[0]: backends need at least one weight above 0" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_gateway_route_full);
	TEST_RUN(test_gateway_route_invalid);
	TEST_MAIN_END();
}
