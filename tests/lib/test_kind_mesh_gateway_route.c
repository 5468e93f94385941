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
	     ASSERT_STREQ(kh_str(&s, h->rules[0].matches[0].headers[1].name),
			  "x-debug") &&
	     ASSERT_EQ(h->rules[0].matches[1].path.match, 0) &&
	     ASSERT_STREQ(kh_str(&s, h->rules[0].matches[1].path.value),
			  "/api-exact") &&
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
	     ASSERT_STREQ(kh_str(&s, r->matches[0].query_parameters[0].name),
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
	     ASSERT_STREQ(kh_str(&s, r->filters[1].request_header.set[0].value),
			  "foo") &&
	     ASSERT_STREQ(kh_str(&s, r->filters[1].request_header.add[0].name),
			  "x-added") &&
	     ASSERT_STREQ(kh_str(&s, r->filters[1].request_header.remove[0]),
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
	  "            - rewrite: {host_to_backend_hostname: true}\n"
	  "            - request_header: {set: [{name: Host, value: foo}]}\n"
	  GWR_BACKENDS,
	  "r.yaml:9:11: spec.conf.http.rules[0]: a request_header filter "
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
	/* A backend is a service, by its tag. */
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

/* ---- the bounds --------------------------------------------------------- */

/* How many of each list gwr_big() writes. */
struct gwr_size {
	unsigned hostnames, rules, matches, headers, query, filters;
	unsigned set0, add0, remove0;	/* the first filter's lists */
	unsigned mods;			/* the other filters' lists */
};

/* The bounds (abi_policy.h), each list full. */
static const struct gwr_size gwr_full = {
	MF_GWR_HOSTNAMES_MAX, MF_GWR_RULES_MAX, MF_GWR_MATCHES_MAX,
	MF_GWR_HEADERS_MAX, MF_GWR_QUERY_MAX, MF_GWR_FILTERS_MAX,
	MF_GWR_HEADER_MODS_MAX, MF_GWR_HEADER_MODS_MAX,
	MF_GWR_HEADER_MODS_MAX, MF_GWR_HEADER_MODS_MAX,
};

/* The member of struct gwr_size each case of
 * test_gateway_route_past_bounds() takes one past its bound. */
#define GWR_SIZE_FIELD(m)                                                      \
	static unsigned *gwr_size_##m(struct gwr_size *z)                      \
	{                                                                      \
		return &z->m;                                                  \
	}
GWR_SIZE_FIELD(hostnames)
GWR_SIZE_FIELD(rules)
GWR_SIZE_FIELD(matches)
GWR_SIZE_FIELD(headers)
GWR_SIZE_FIELD(query)
GWR_SIZE_FIELD(filters)
GWR_SIZE_FIELD(set0)
GWR_SIZE_FIELD(add0)
GWR_SIZE_FIELD(remove0)

/*
 * A route with @z's lists, block style, one item a line: @z->hostnames
 * hostnames (line 9 on); @z->rules rules, rule i matching /r<i>; rule 0
 * with @z->matches matches, its first with @z->headers headers and
 * @z->query query parameters, and @z->filters request_header filters,
 * the first setting, adding and removing @z->set0, @z->add0 and
 * @z->remove0 headers, the others @z->mods each.  Returns a malloc'd
 * document, or NULL.
 */
static char *gwr_big(const struct gwr_size *z)
{
	char *doc = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&doc, &n);

	if (!f)
		return NULL;
	fputs(KH_DOC("MeshGatewayRoute", "big")
	      "  selectors: [{match: {kuma.io/service: gw}}]\n"
	      "  conf:\n    http:\n      hostnames:\n", f);
	for (unsigned i = 0; i < z->hostnames; i++)
		fprintf(f, "        - h%u.example.com\n", i);
	fputs("      rules:\n        - matches:\n", f);
	for (unsigned m = 0; m < z->matches; m++) {
		fprintf(f, "            - path: {match: PREFIX, "
			   "value: /r0/m%u}\n", m);
		if (m)
			continue;
		fputs("              headers:\n", f);
		for (unsigned i = 0; i < z->headers; i++)
			fprintf(f, "                - {match: REGEX, "
				   "name: x-h%u, value: \"^v%u$\"}\n", i, i);
		fputs("              query_parameters:\n", f);
		for (unsigned i = 0; i < z->query; i++)
			fprintf(f, "                - {name: q%u, value: v%u}\n",
				i, i);
	}
	fputs("          filters:\n", f);
	for (unsigned k = 0; k < z->filters; k++) {
		static const char *const ops[] = { "set", "add" };
		const unsigned n[] = { k ? z->mods : z->set0,
				       k ? z->mods : z->add0,
				       k ? z->mods : z->remove0 };

		fputs("            - request_header:\n", f);
		for (unsigned o = 0; o < 2; o++) {
			fprintf(f, "                %s:\n", ops[o]);
			for (unsigned i = 0; i < n[o]; i++)
				fprintf(f, "                  - {name: x-%s%u-%u, "
					   "value: v%u}\n", ops[o], k, i, i);
		}
		fputs("                remove:\n", f);
		for (unsigned i = 0; i < n[2]; i++)
			fprintf(f, "                  - x-rm%u-%u\n", k, i);
	}
	fputs("          backends: [{destination: {kuma.io/service: b0}}]\n",
	      f);
	for (unsigned r = 1; r < z->rules; r++)
		fprintf(f, "        - matches: [{path: {value: /r%u}}]\n"
			   "          backends: [{destination: "
			   "{kuma.io/service: b%u}}]\n", r, r);
	if (fclose(f)) {
		free(doc);
		return NULL;
	}
	return doc;
}

/* A rule as Kuma's validator tests write one: four header matches, three
 * filters, two headers set and two added. */
static const char gwr_kuma_rule_yaml[] =
	KH_DOC("MeshGatewayRoute", "kuma-rule")
	"  selectors: [{match: {kuma.io/service: gateway}}]\n"
	"  conf:\n"
	"    http:\n"
	"      rules:\n"
	"        - matches:\n"
	"            - headers:\n"
	"                - {match: EXACT, name: x-a, value: a}\n"
	"                - {match: REGEX, name: x-b, value: \"b+\"}\n"
	"                - {match: ABSENT, name: x-c}\n"
	"                - {match: PRESENT, name: x-d}\n"
	"          filters:\n"
	"            - request_header:\n"
	"                set: [{name: x-s1, value: s1}, {name: x-s2, value: s2}]\n"
	"                add: [{name: x-a1, value: a1}, {name: x-a2, value: a2}]\n"
	"                remove: [x-r1, x-r2]\n"
	"            - response_header:\n"
	"                set: [{name: x-s3, value: s3}, {name: x-s4, value: s4}]\n"
	"            - mirror:\n"
	"                percentage: 50\n"
	"                backend: {destination: {kuma.io/service: shadow}}\n"
	"          backends: [{destination: {kuma.io/service: a}}]\n";

static bool test_gateway_route_kuma_rule(void)
{
	struct model_set s;
	const struct mf_gateway_route *g;
	const struct mf_gwr_rule *r;
	bool ok;

	g = kh_policy(gwr_kuma_rule_yaml, &s, &kind_mesh_gateway_route, 1);
	r = g ? &g->conf.http.rules[0] : NULL;
	ok = g && ASSERT_EQ(r->matches[0].nheaders, 4) &&
	     ASSERT_EQ(r->matches[0].headers[3].match, MF_GWR_PRESENT) &&
	     ASSERT_STREQ(kh_str(&s, r->matches[0].headers[1].value), "b+") &&
	     ASSERT_EQ(r->nfilters, 3) &&
	     ASSERT_EQ(r->filters[0].request_header.nset, 2) &&
	     ASSERT_EQ(r->filters[0].request_header.nadd, 2) &&
	     ASSERT_STREQ(kh_str(&s, r->filters[0].request_header.add[1].value),
			  "a2") &&
	     ASSERT_EQ(r->filters[1].response_header.nset, 2) &&
	     ASSERT_EQ(r->filters[2].mirror.percentage, 50000);
	return kh_finish(&s, ok);
}

/* Every list at its bound: 16 rules, 8 hostnames, 8 matches, 8 headers
 * and 8 query parameters a match, 8 filters of 8 set, add and remove
 * each, all in the record as written, and printed back to the same
 * bytes. */
static bool test_gateway_route_bounds(void)
{
	char *yaml = gwr_big(&gwr_full);
	struct model_set s;
	const struct mf_gateway_route *g;
	const struct mf_gwr_http *h;
	const struct mf_gwr_rule *r;
	bool ok;

	if (!ASSERT_TRUE(yaml != NULL))
		return false;
	g = kh_policy(yaml, &s, &kind_mesh_gateway_route, 1);
	free(yaml);
	h = g ? &g->conf.http : NULL;
	r = h ? &h->rules[0] : NULL;
	ok = g && ASSERT_EQ(h->nhostnames, 8) &&
	     ASSERT_STREQ(h->hostnames[7], "h7.example.com") &&
	     ASSERT_EQ(h->nrules, 16) &&
	     ASSERT_STREQ(kh_str(&s, h->rules[15].matches[0].path.value),
			  "/r15") &&
	     ASSERT_STREQ(kh_tag(&s, h->rules[15].backends[0].destination,
				 "kuma.io/service"), "b15") &&
	     ASSERT_EQ(r->nmatches, 8) &&
	     ASSERT_STREQ(kh_str(&s, r->matches[7].path.value), "/r0/m7") &&
	     ASSERT_EQ(r->matches[0].nheaders, 8) &&
	     ASSERT_STREQ(kh_str(&s, r->matches[0].headers[7].name), "x-h7") &&
	     ASSERT_STREQ(kh_str(&s, r->matches[0].headers[7].value),
			  "^v7$") &&
	     ASSERT_EQ(r->matches[0].nquery_parameters, 8) &&
	     ASSERT_STREQ(kh_str(&s, r->matches[0].query_parameters[7].name),
			  "q7") &&
	     ASSERT_EQ(r->nfilters, 8) &&
	     ASSERT_EQ(r->filters[7].request_header.nset, 8) &&
	     ASSERT_EQ(r->filters[7].request_header.nadd, 8) &&
	     ASSERT_EQ(r->filters[7].request_header.nremove, 8) &&
	     ASSERT_STREQ(kh_str(&s, r->filters[7].request_header.set[7].name),
			  "x-set7-7") &&
	     ASSERT_STREQ(kh_str(&s, r->filters[7].request_header.add[7].name),
			  "x-add7-7") &&
	     ASSERT_STREQ(kh_str(&s, r->filters[7].request_header.remove[7]),
			  "x-rm7-7");
	return kh_finish(&s, ok);
}

/* One past each bound is refused, with the bound, at the list. */
static bool test_gateway_route_past_bounds(void)
{
	static const struct {
		unsigned *(*field)(struct gwr_size *z);
		const char *want;
	} past[] = {
#define GWR_PAST(m, msg)                                                       \
	{ .field = gwr_size_##m, .want = msg }
		GWR_PAST(hostnames, "r.yaml:9:9: spec.conf.http.hostnames: "
			 "must have at most 8 entries"),
		GWR_PAST(rules, "r.yaml:18:9: spec.conf.http.rules: must have "
			 "at most 16 entries"),
		GWR_PAST(matches, "r.yaml:19:13: spec.conf.http.rules[0]."
			 "matches: must have at most 8 entries"),
		GWR_PAST(headers, "r.yaml:21:17: spec.conf.http.rules[0]."
			 "matches[0].headers: must have at most 8 entries"),
		GWR_PAST(query, "r.yaml:30:17: spec.conf.http.rules[0]."
			 "matches[0].query_parameters: must have at most 8 "
			 "entries"),
		GWR_PAST(filters, "r.yaml:46:13: spec.conf.http.rules[0]."
			 "filters: must have at most 8 entries"),
		GWR_PAST(set0, "r.yaml:48:19: spec.conf.http.rules[0]."
			 "filters[0].request_header.set: must have at most 8 "
			 "entries"),
		GWR_PAST(add0, "r.yaml:57:19: spec.conf.http.rules[0]."
			 "filters[0].request_header.add: must have at most 8 "
			 "entries"),
		GWR_PAST(remove0, "r.yaml:66:19: spec.conf.http.rules[0]."
			 "filters[0].request_header.remove: must have at most "
			 "8 entries"),
#undef GWR_PAST
	};
	bool ok = true;

	for (size_t i = 0; i < KH_NCASES(past); i++) {
		struct gwr_size z = gwr_full;
		char *yaml;

		(*past[i].field(&z))++;
		yaml = gwr_big(&z);
		if (!ASSERT_TRUE(yaml != NULL))
			return false;
		if (!kh_expect1(yaml, past[i].want)) {
			fprintf(stderr, "  in case %zu\n", i);
			ok = false;
		}
		free(yaml);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_gateway_route_full);
	TEST_RUN(test_gateway_route_filters);
	TEST_RUN(test_gateway_route_invalid);
	TEST_RUN(test_gateway_route_shorthand);
	TEST_RUN(test_gateway_route_shorthand_invalid);
	TEST_RUN(test_gateway_route_kuma_rule);
	TEST_RUN(test_gateway_route_bounds);
	TEST_RUN(test_gateway_route_past_bounds);
	TEST_MAIN_END();
}
