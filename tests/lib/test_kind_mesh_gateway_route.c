// SPDX-License-Identifier: Apache-2.0
/*
 * MeshGatewayRoute, the legacy kind of selectors
 * (lib/policy/kind_mesh_gateway_route.c), through mfctl's reader and
 * printer: an HTTP and a TCP route, and HTTP rules with query parameters
 * and every filter, parse into the expected records and print back to
 * the same bytes, proto and JSON spellings alike; the http-or-tcp rule,
 * rules, matches, filters, redirects and backends each give exactly the
 * expected "file:line:col: path: message".
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
	     /* http and tcp share the storage: the mask says which */
	     ASSERT_EQ(g->conf.present, 1u << 0) &&
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
	ok = gt && ASSERT_EQ(gt->conf.present, 1u << 1) &&
	     ASSERT_EQ(gt->conf.tcp.nrules, 2) &&
	     ASSERT_EQ(gt->conf.tcp.rules[1].nbackends, 2) &&
	     ASSERT_EQ(gt->conf.tcp.rules[1].backends[1].weight, 3) &&
	     ASSERT_STREQ(kh_tag(&s,
				 gt->conf.tcp.rules[0].backends[0].destination,
				 "kuma.io/service"), "db");
	return kh_finish(&s, ok);
}

/* A rule with every kind of match and the filters that go together, in
 * the proto spelling, then a redirect rule in the JSON one. */
static const char gwr_filters_yaml[] =
	KH_DOC("MeshGatewayRoute", "filters")
	"  selectors: [{match: {kuma.io/service: gateway}}]\n"
	"  conf:\n"
	"    http:\n"
	"      hostnames: [foo.example.com]\n"
	"      rules:\n"
	"        - matches:\n"
	"            - method: GET\n"
	"              path: {match: PREFIX, value: /api}\n"
	"              headers:\n"
	"                - {match: PRESENT, name: x-bar}\n"
	"                - {match: REGEX, name: x-count, value: \"[0-9]+\"}\n"
	"              query_parameters:\n"
	"                - {match: EXACT, name: customer, value: kong}\n"
	"            - queryParameters: [{match: REGEX, name: v, value: \"^2\"}]\n"
	"          filters:\n"
	"            - rewrite: {host_to_backend_hostname: true, "
	"replace_prefix_match: /v2}\n"
	"            - request_header:\n"
	"                set: [{name: x-foo, value: foo}]\n"
	"                add: [{name: x-added, value: added}]\n"
	"                remove: [x-deleted]\n"
	"          backends:\n"
	"            - {weight: 5, destination: {kuma.io/service: target-1}}\n"
	"            - {weight: 5, destination: {kuma.io/service: target-2}}\n"
	"        - matches: [{path: {value: /old}}]\n"
	"          filters:\n"
	"            - redirect:\n"
	"                scheme: https\n"
	"                hostname: foo.example.com\n"
	"                port: 8443\n"
	"                statusCode: 308\n"
	"                path: {replaceFull: /new}\n";

/* The other filters: mirror and the response headers, which Kuma leaves
 * unchecked (an empty one changes nothing). */
static const char gwr_mirror_yaml[] =
	KH_DOC("MeshGatewayRoute", "mirror")
	"  selectors: [{match: {kuma.io/service: gateway}}]\n"
	"  conf:\n"
	"    http:\n"
	"      rules:\n"
	"        - matches: [{headers: [{name: x-a, value: b}]}]\n"
	"          filters:\n"
	"            - mirror:\n"
	"                percentage: 1.12\n"
	"                backend: {destination: {kuma.io/service: shadow}}\n"
	"            - responseHeader: {}\n"
	"          backends: [{destination: {kuma.io/service: a}}]\n";

static bool test_gateway_route_filters(void)
{
	struct model_set s;
	const struct mf_gateway_route *g;
	const struct mf_gwr_rule *r, *r1;
	bool ok;

	g = kh_policy(gwr_filters_yaml, &s, &kind_mesh_gateway_route, 1);
	r = g ? &g->conf.http.rules[0] : NULL;
	r1 = g ? &g->conf.http.rules[1] : NULL;
	ok = g && ASSERT_EQ(g->conf.http.nrules, 2) &&
	     ASSERT_EQ(r->nmatches, 2) &&
	     ASSERT_EQ(r->matches[0].nheaders, 2) &&
	     ASSERT_EQ(r->matches[0].headers[0].match, MF_GWR_PRESENT) &&
	     ASSERT_EQ(r->matches[0].nquery_parameters, 1) &&
	     ASSERT_EQ(r->matches[0].present, 0xf) &&
	     ASSERT_STREQ(r->matches[0].query_parameters[0].name,
			  "customer") &&
	     ASSERT_EQ(r->matches[1].present, 1u << 4) &&
	     ASSERT_EQ(r->matches[1].query_parameters[0].match,
		       MF_GWR_REGEX) &&
	     ASSERT_EQ(r->nfilters, 2) &&
	     ASSERT_EQ(r->filters[0].present, 1u << 6) &&
	     ASSERT_EQ(r->filters[0].rewrite.host_to_backend_hostname, 1) &&
	     ASSERT_STREQ(r->filters[0].rewrite.path, "/v2") &&
	     ASSERT_EQ(r->filters[0].rewrite.present, 1u << 2 | 1u << 4) &&
	     ASSERT_EQ(r->filters[1].present, 1u << 0) &&
	     ASSERT_STREQ(r->filters[1].request_header.set[0].value, "foo") &&
	     ASSERT_STREQ(r->filters[1].request_header.add[0].name,
			  "x-added") &&
	     ASSERT_STREQ(r->filters[1].request_header.remove[0],
			  "x-deleted") &&
	     ASSERT_EQ(r->nbackends, 2) &&
	     ASSERT_EQ(r1->nbackends, 0) && ASSERT_EQ(r1->nfilters, 1) &&
	     ASSERT_EQ(r1->filters[0].present, 1u << 5) &&
	     ASSERT_STREQ(r1->filters[0].redirect.scheme, "https") &&
	     ASSERT_STREQ(r1->filters[0].redirect.hostname,
			  "foo.example.com") &&
	     ASSERT_EQ(r1->filters[0].redirect.port, 8443) &&
	     ASSERT_EQ(r1->filters[0].redirect.status_code, 308) &&
	     ASSERT_EQ(r1->filters[0].redirect.present, 0x37) &&
	     ASSERT_STREQ(r1->filters[0].redirect.path.path, "/new") &&
	     ASSERT_EQ(r1->filters[0].redirect.path.present, 1u << 1);
	if (!kh_finish(&s, ok))
		return false;
	g = kh_policy(gwr_mirror_yaml, &s, &kind_mesh_gateway_route, 1);
	r = g ? &g->conf.http.rules[0] : NULL;
	ok = g && ASSERT_EQ(r->nfilters, 2) &&
	     ASSERT_EQ(r->filters[0].present, 1u << 4) &&
	     ASSERT_EQ(r->filters[0].mirror.percentage, 1120) &&
	     ASSERT_STREQ(kh_tag(&s, r->filters[0].mirror.backend.destination,
				 "kuma.io/service"), "shadow") &&
	     ASSERT_EQ(r->filters[1].present, 1u << 3) &&
	     ASSERT_EQ(r->filters[1].response_header.present, 0);
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

	{ GWR_HEAD
	  "    http:\n"
	  "      rules: []\n",
	  "r.yaml:8:14: spec.conf.http.rules: must have at least one entry" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: []\n"
	  GWR_BACKENDS,
	  "r.yaml:9:20: spec.conf.http.rules[0].matches: must have at least "
	  "one entry" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:21: spec.conf.http.rules[0].matches[0]: needs path, "
	  "method, headers or query_parameters" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{headers: []}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:21: spec.conf.http.rules[0].matches[0]: needs path, "
	  "method, headers or query_parameters" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n",
	  "r.yaml:9:11: spec.conf.http.rules[0].backends: is required (or "
	  "the rule a redirect filter)" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          backends: []\n",
	  "r.yaml:10:21: spec.conf.http.rules[0].backends: must have at least "
	  "one entry (or the rule a redirect filter)" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{query_parameters: [{name: a}]}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:41: spec.conf.http.rules[0].matches[0].query_parameters[0]."
	  "value: is required" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{queryParameters: [{match: ABSENT, name: a, "
	  "value: b}]}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:40: spec.conf.http.rules[0].matches[0].queryParameters[0]: "
	  "match must be EXACT or REGEX" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{query_parameters: [{name: a, value: b}], "
	  "queryParameters: [{name: a, value: b}]}]\n"
	  GWR_BACKENDS,
	  "r.yaml:9:21: spec.conf.http.rules[0].matches[0]: query_parameters "
	  "and queryParameters are one field: write one" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches:\n"
	  "            - headers:\n"
	  "                - {name: a, value: b}\n"
	  "                - {name: c, value: d}\n"
	  "                - {name: e, value: f}\n"
	  GWR_BACKENDS,
	  "r.yaml:11:17: spec.conf.http.rules[0].matches[0].headers: must "
	  "have at most 2 entries" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{request_header: {}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:38: spec.conf.http.rules[0].filters[0].request_header: "
	  "needs set, add or remove" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{request_header: {set: [{name: x-a}]}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:45: spec.conf.http.rules[0].filters[0].request_header."
	  "set[0].value: is required" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{request_header: {remove: [\"\"]}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:48: spec.conf.http.rules[0].filters[0].request_header."
	  "remove[0]: must not be empty" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters:\n"
	  "            - request_header: {set: [{name: a, value: b}, "
	  "{name: c, value: d}]}\n"
	  GWR_BACKENDS,
	  "r.yaml:11:37: spec.conf.http.rules[0].filters[0].request_header."
	  "set: must have at most 1 entries" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters:\n"
	  "            - rewrite: {host_to_backend_hostname: true}\n"
	  "            - request_header: {set: [{name: Host, value: foo}]}\n"
	  GWR_BACKENDS,
	  "r.yaml:11:13: spec.conf.http.rules[0].filters: request_header "
	  "cannot set the host header (host, :authority) when a rewrite has "
	  "host_to_backend_hostname" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{mirror: {percentage: 0}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:30: spec.conf.http.rules[0].filters[0].mirror.backend: "
	  "is required" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{mirror: {backend: "
	  "{destination: {kuma.io/service: a}}}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:30: spec.conf.http.rules[0].filters[0].mirror.percentage: "
	  "is required" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{mirror: {percentage: -1.0, backend: "
	  "{destination: {kuma.io/service: a}}}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:43: spec.conf.http.rules[0].filters[0].mirror.percentage: "
	  "must be a percentage 0..100 with at most 3 decimals" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {port: 128555, status_code: 301}}]\n",
	  "r.yaml:10:39: spec.conf.http.rules[0].filters[0].redirect.port: "
	  "must be 0..65535" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {status_code: 500}}]\n",
	  "r.yaml:10:46: spec.conf.http.rules[0].filters[0].redirect."
	  "status_code: must be 301..308" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {statusCode: 305}}]\n",
	  "r.yaml:10:32: spec.conf.http.rules[0].filters[0].redirect: "
	  "status_code must be 301, 302, 303, 307 or 308" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {hostname: example.com}}]\n",
	  "r.yaml:10:32: spec.conf.http.rules[0].filters[0].redirect."
	  "status_code: is required" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {status_code: 301, statusCode: 301}}]\n",
	  "r.yaml:10:32: spec.conf.http.rules[0].filters[0].redirect: "
	  "status_code and statusCode are one field: write one" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {scheme: \"1x\", status_code: 301}}]\n",
	  "r.yaml:10:41: spec.conf.http.rules[0].filters[0].redirect.scheme: "
	  "must be a URI scheme such as http or https" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{redirect: {status_code: 301}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:11:21: spec.conf.http.rules[0].backends: must be empty with "
	  "a redirect filter, which answers the request" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters:\n"
	  "            - redirect: {status_code: 301}\n"
	  "            - rewrite: {host_to_backend_hostname: true}\n",
	  "r.yaml:11:13: spec.conf.http.rules[0].filters: a redirect filter "
	  "answers the request: it must be the rule's only filter" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /exact}}]\n"
	  "          filters: [{rewrite: {replacePrefixMatch: /}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:20: spec.conf.http.rules[0].filters: "
	  "rewrite.replace_prefix_match needs a match on a path prefix "
	  "(match PREFIX)" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {match: PREFIX, value: /a}}]\n"
	  "          filters: [{rewrite: {replace_full: /b, "
	  "replace_prefix_match: /c}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:31: spec.conf.http.rules[0].filters[0].rewrite: needs at "
	  "most one of replace_full and replace_prefix_match" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{rewrite: {replace_full: b}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:46: spec.conf.http.rules[0].filters[0].rewrite."
	  "replace_full: must start with '/'" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{mirror: {percentage: 1, backend: {destination: "
	  "{kuma.io/service: a}}}, rewrite: {replace_full: /b}}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:21: spec.conf.http.rules[0].filters[0]: needs exactly "
	  "one of request_header, response_header, mirror, redirect and "
	  "rewrite" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters: [{}]\n"
	  GWR_BACKENDS,
	  "r.yaml:10:21: spec.conf.http.rules[0].filters[0]: needs exactly "
	  "one of request_header, response_header, mirror, redirect and "
	  "rewrite" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters:\n"
	  "            - rewrite: {host_to_backend_hostname: true}\n"
	  "            - rewrite: {replace_full: /a}\n"
	  "            - request_header: {remove: [x-a]}\n"
	  GWR_BACKENDS,
	  "r.yaml:11:13: spec.conf.http.rules[0].filters: must have at most "
	  "2 entries" },	/* A backend is a service, by its tag. */
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          backends: [{destination: {version: v1}}]\n",
	  "r.yaml:10:36: spec.conf.http.rules[0].backends[0].destination: "
	  "must have the tag kuma.io/service" },
	{ GWR_HEAD
	  "    http:\n"
	  "      rules:\n"
	  "        - matches: [{path: {value: /}}]\n"
	  "          filters:\n"
	  "            - mirror: {percentage: 1, backend: "
	  "{destination: {version: v1}}}\n"
	  GWR_BACKENDS,
	  "r.yaml:11:62: spec.conf.http.rules[0].filters[0].mirror.backend."
	  "destination: must have the tag kuma.io/service" },
	{ GWR_HEAD
	  "    tcp:\n"
	  "      rules: [{backends: [{destination: {version: v1}}]}]\n",
	  "r.yaml:8:41: spec.conf.tcp.rules[0].backends[0].destination: "
	  "must have the tag kuma.io/service" },
)

/* The article's shorthand: `http` as the list of rules, `match` and
 * `destination` for matches and backends. */
#define GWR_SHORT(rule)                                                       \
	KH_DOC("MeshGatewayRoute", "edge-route")                              \
	"  selectors: [{match: {kuma.io/service: edge-gateway}}]\n"           \
	"  conf:\n    http:\n" rule

/* ... reads as the canonical form does, and prints back in it. */
static bool test_gateway_route_shorthand(void)
{
	static const char short_yaml[] = GWR_SHORT(
		"      - match:\n"
		"          - path: {match: PREFIX, value: /myapi}\n"
		"        destination:\n"
		"          - weight: 100\n"
		"            destination: {kuma.io/service: my-api-service}\n");
	static const char canon_yaml[] = GWR_SHORT(
		"      rules:\n"
		"        - matches: [{path: {match: PREFIX, value: /myapi}}]\n"
		"          backends:\n"
		"            - weight: 100\n"
		"              destination: {kuma.io/service: my-api-service}\n");
	struct model_set s, c;
	const struct mf_gateway_route *g, *gc = NULL;
	char *doc = NULL;
	bool ok;

	g = kh_policy(short_yaml, &s, &kind_mesh_gateway_route, 1);
	if (!g)
		return false;
	ok = (gc = kh_policy(canon_yaml, &c, &kind_mesh_gateway_route, 1)) &&
	     ASSERT_MEMEQ(g, gc, sizeof(*g)) &&
	     ASSERT_EQ(g->conf.http.nrules, 1) &&
	     ASSERT_EQ(g->conf.http.rules[0].backends[0].weight, 100) &&
	     (doc = kh_emit_doc(&s, &s.objs[0])) != NULL &&
	     ASSERT_TRUE(strstr(doc, "    http:\n      rules:\n") != NULL) &&
	     ASSERT_TRUE(strstr(doc, "match:") != NULL) &&
	     ASSERT_TRUE(strstr(doc, "backends:") != NULL);
	free(doc);
	if (gc)
		model_set_free(&c);
	return kh_finish(&s, ok);
}

/* Its problems are at its own positions, under the canonical paths. */
KH_TEST_BAD(test_gateway_route_shorthand_invalid,
	{ GWR_SHORT("      - match: [{path: {match: PREFIX, value: myapi}}]\n"
		    "        destination:\n"
		    "          - {weight: 1, destination: {kuma.io/service: a}}\n"),
	  "r.yaml:8:24: spec.conf.http.rules[0].matches[0].path: value must "
	  "start with '/'" },
	{ GWR_SHORT("      - match: [{path: {value: /a}}]\n"
		    "        destinations: []\n"),
	  "r.yaml:9:9: spec.conf.http.rules[0].destinations: unknown field" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_gateway_route_full);
	TEST_RUN(test_gateway_route_filters);
	TEST_RUN(test_gateway_route_invalid);
	TEST_RUN(test_gateway_route_shorthand);
	TEST_RUN(test_gateway_route_shorthand_invalid);
	TEST_MAIN_END();
}
