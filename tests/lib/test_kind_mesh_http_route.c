// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHTTPRoute (lib/policy/kind_mesh_http_route.c) through mfctl's reader
 * and printer: Kuma's example, every match and filter, parses into the
 * expected records (one per rule) and prints back to the same bytes; each
 * rule the tables add across fields (paths, regular expressions, header
 * and query matches, filter objects, weights, a MeshMultiZoneService's
 * port, the rules Kuma ties to a MeshGateway target) refuses its input with
 * exactly the expected "file:line:col: path: message"; a rule may redirect
 * and rewrite; validation finds a backendRef to a missing Service; and a
 * rule holds all the room it has (8 matches of 16 headers and 16 query
 * parameters, 8 filters, header modifiers of 16 set, add and remove,
 * strings of 1 KiB, kept in mf_strings) and refuses one more of each
 * where it was written.
 */
#define KH_FILE "r.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

#include "policy/validate.h"

static const char http_yaml[] =
	KH_DOC("MeshHTTPRoute", "web-to-backend")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: backend}\n"
	"      rules:\n"
	"        - matches:\n"
	"            - path: {type: PathPrefix, value: /api}\n"
	"              method: GET\n"
	"              headers:\n"
	"                - {type: Exact, name: x-canary, value: \"on\"}\n"
	"                - {type: Present, name: x-trace}\n"
	"              queryParams:\n"
	"                - {type: RegularExpression, name: v, value: \"^[0-9]+$\"}\n"
	"            - path: {type: PathPrefix, value: /}\n"
	"          default:\n"
	"            filters:\n"
	"              - type: RequestHeaderModifier\n"
	"                requestHeaderModifier:\n"
	"                  set: [{name: x-route, value: api}]\n"
	"                  add: [{name: x-via, value: mesh}]\n"
	"                  remove: [x-debug]\n"
	"              - type: URLRewrite\n"
	"                urlRewrite:\n"
	"                  hostname: backend.internal\n"
	"                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2/api}\n"
	"            backendRefs:\n"
	"              - {kind: MeshServiceSubset, name: backend, tags: {version: v2}, weight: 90}\n"
	"              - {kind: MeshService, name: backend, port: 8080, weight: 10}\n"
	"        - matches: [{path: {type: Exact, value: /old}}]\n"
	"          default:\n"
	"            filters:\n"
	"              - type: RequestRedirect\n"
	"                requestRedirect:\n"
	"                  scheme: https\n"
	"                  hostname: web.example.com\n"
	"                  path: {type: ReplaceFullPath, replaceFullPath: /new}\n"
	"                  port: 443\n"
	"                  statusCode: 301\n"
	"              - type: RequestMirror\n"
	"                requestMirror:\n"
	"                  percentage: 12.5\n"
	"                  backendRef: {kind: MeshService, name: shadow}\n"
	"    - targetRef: {kind: MeshService, name: static}\n"
	"      rules:\n"
	"        - matches: [{path: {type: RegularExpression, value: \"^/img/.*[.]png$\"}}]\n"
	"          default:\n"
	"            filters:\n"
	"              - type: ResponseHeaderModifier\n"
	"                responseHeaderModifier: {remove: [server, x-powered-by]}\n"
	"            backendRefs: [{kind: MeshService, name: cdn}]\n";

static bool test_http_full(void)
{
	struct model_set s;
	const struct mf_http_route *r = kh_policy(http_yaml, &s,
						  &kind_mesh_http_route, 3);
	const struct mf_route_rule *x;
	const struct mf_route_match *m0;
	const struct mf_header_mod *hm;
	const struct mf_route_rewrite *rw;
	bool ok;

	/* to[0].rules[0] */
	x = r ? &r[0].rule : NULL;
	m0 = r ? &x->matches[0] : NULL;
	hm = r ? &x->def.filters[0].request_header_modifier : NULL;
	rw = r ? &x->def.filters[1].url_rewrite : NULL;
	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.entry, 0) && ASSERT_EQ(r[0].hdr.rule, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(x->nmatches, 2) &&
	     ASSERT_EQ(x->matches[0].path.type, MF_PATH_PREFIX) &&
	     ASSERT_STREQ(kh_str(&s, m0->path.value), "/api") &&
	     ASSERT_EQ(m0->method, MF_METHOD_GET) &&
	     ASSERT_EQ(m0->nheaders, 2) &&
	     ASSERT_EQ(m0->headers[0].type, MF_MATCH_EXACT) &&
	     ASSERT_STREQ(kh_str(&s, m0->headers[0].name), "x-canary") &&
	     ASSERT_STREQ(kh_str(&s, m0->headers[0].value), "on") &&
	     ASSERT_EQ(m0->headers[1].type, MF_MATCH_PRESENT) &&
	     ASSERT_EQ(m0->headers[1].value, 0) &&
	     ASSERT_EQ(m0->nquery_params, 1) &&
	     ASSERT_EQ(m0->query_params[0].type, MF_MATCH_REGEX) &&
	     ASSERT_STREQ(kh_str(&s, m0->query_params[0].value), "^[0-9]+$") &&
	     ASSERT_STREQ(kh_str(&s, x->matches[1].path.value), "/") &&
	     ASSERT_EQ(x->def.nfilters, 2) &&
	     ASSERT_EQ(x->def.filters[0].type,
		       MF_FILTER_REQUEST_HEADER_MODIFIER) &&
	     ASSERT_EQ(hm->nset, 1) &&
	     ASSERT_STREQ(kh_str(&s, hm->set[0].name), "x-route") &&
	     ASSERT_EQ(hm->nremove, 1) &&
	     ASSERT_STREQ(kh_str(&s, hm->remove[0]), "x-debug") &&
	     ASSERT_EQ(x->def.filters[1].type, MF_FILTER_URL_REWRITE) &&
	     ASSERT_STREQ(kh_str(&s, rw->hostname), "backend.internal") &&
	     ASSERT_EQ(rw->path.type, MF_REWRITE_PREFIX) &&
	     ASSERT_STREQ(kh_str(&s, rw->path.replace_prefix_match),
			  "/v2/api") &&
	     ASSERT_EQ(x->def.nbackend_refs, 2) &&
	     ASSERT_EQ(x->def.backend_refs[0].ref.kind,
		       MF_REF_MESH_SERVICE_SUBSET) &&
	     ASSERT_STREQ(x->def.backend_refs[0].ref.name, "backend") &&
	     ASSERT_STREQ(kh_tag(&s, x->def.backend_refs[0].ref.tags,
				 "version"), "v2") &&
	     ASSERT_EQ(x->def.backend_refs[0].weight, 90) &&
	     ASSERT_EQ(x->def.backend_refs[1].ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_EQ(x->def.backend_refs[1].port, 8080) &&
	     ASSERT_EQ(x->def.backend_refs[1].weight, 10);
	if (!ok)
		goto out;

	/* to[0].rules[1] */
	x = &r[1].rule;
	ok = ASSERT_EQ(r[1].hdr.entry, 0) && ASSERT_EQ(r[1].hdr.rule, 1) &&
	     ASSERT_STREQ(r[1].hdr.ref.name, "backend") &&
	     ASSERT_EQ(x->matches[0].path.type, MF_PATH_EXACT) &&
	     ASSERT_EQ(x->def.filters[0].type, MF_FILTER_REQUEST_REDIRECT) &&
	     ASSERT_STREQ(x->def.filters[0].request_redirect.scheme, "https") &&
	     ASSERT_EQ(x->def.filters[0].request_redirect.port, 443) &&
	     ASSERT_EQ(x->def.filters[0].request_redirect.status_code, 301) &&
	     ASSERT_STREQ(kh_str(&s, x->def.filters[0].request_redirect.path
				  .replace_full_path), "/new") &&
	     ASSERT_EQ(x->def.filters[1].type, MF_FILTER_REQUEST_MIRROR) &&
	     ASSERT_EQ(x->def.filters[1].request_mirror.percentage, 12500) &&
	     ASSERT_STREQ(x->def.filters[1].request_mirror.backend_ref.ref.name,
			  "shadow") &&
	     ASSERT_EQ(x->def.nbackend_refs, 0);
	if (!ok)
		goto out;

	/* to[1].rules[0] */
	x = &r[2].rule;
	ok = ASSERT_EQ(r[2].hdr.entry, 1) && ASSERT_EQ(r[2].hdr.rule, 0) &&
	     ASSERT_STREQ(r[2].hdr.ref.name, "static") &&
	     ASSERT_EQ(x->matches[0].path.type, MF_PATH_REGEX) &&
	     ASSERT_EQ(x->def.filters[0].type,
		       MF_FILTER_RESPONSE_HEADER_MODIFIER) &&
	     ASSERT_EQ(x->def.filters[0].response_header_modifier.nremove, 2) &&
	     ASSERT_STREQ(kh_str(&s, x->def.filters[0]
					     .response_header_modifier.remove[1]),
			  "x-powered-by") &&
	     ASSERT_EQ(x->def.backend_refs[0].weight, 0);
out:
	return kh_finish(&s, ok);
}

#define HTTP_HEAD                                                             \
	KH_DOC("MeshHTTPRoute", "r")                                          \
	"  to:\n"                                                             \
	"    - targetRef: {kind: MeshService, name: backend}\n"               \
	"      rules:\n"

KH_TEST_BAD(test_http_invalid,
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /api/}}]\n"
	  "          default: {}\n",
	  "r.yaml:8:28: spec.to[0].rules[0].matches[0].path: a PathPrefix "
	  "value must not end with '/' (except \"/\")" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: Exact, value: api}}]\n"
	  "          default: {}\n",
	  "r.yaml:8:28: spec.to[0].rules[0].matches[0].path: value must start with '/'" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: RegularExpression, value: \"([a-z\"}}]\n"
	  "          default: {}\n",
	  "r.yaml:8:28: spec.to[0].rules[0].matches[0].path: value is not a valid regular expression" },
	/* A back-reference needs a backtracking matcher: refused. */
	{ HTTP_HEAD
	  "        - matches: [{path: {type: RegularExpression, value: \"/(a+)\\\\1\"}}]\n"
	  "          default: {}\n",
	  "r.yaml:8:28: spec.to[0].rules[0].matches[0].path: value is not a valid regular expression" },
	{ HTTP_HEAD
	  "        - matches: [{headers: [{type: Present, name: x-a, value: b}]}]\n"
	  "          default: {}\n",
	  "r.yaml:8:32: spec.to[0].rules[0].matches[0].headers[0]: type "
	  "Present and Absent take no value" },
	{ HTTP_HEAD
	  "        - matches: [{headers: [{name: x-a}]}]\n"
	  "          default: {}\n",
	  "r.yaml:8:32: spec.to[0].rules[0].matches[0].headers[0]: value is "
	  "required for type Exact, RegularExpression and Prefix" },
	{ HTTP_HEAD
	  "        - matches: [{headers: [{type: RegularExpression, name: x-a, value: \"*\"}]}]\n"
	  "          default: {}\n",
	  "r.yaml:8:32: spec.to[0].rules[0].matches[0].headers[0]: value is "
	  "not a valid regular expression" },
	{ HTTP_HEAD
	  "        - matches: [{queryParams: [{type: Present, name: q, value: x}]}]\n"
	  "          default: {}\n",
	  "r.yaml:8:36: spec.to[0].rules[0].matches[0].queryParams[0]: type "
	  "must be Exact or RegularExpression" },
	/* Kuma: a match names a query parameter once; two matches may each
	 * name it (below, in the valid rules). */
	{ HTTP_HEAD
	  "        - matches: [{queryParams: [{type: Exact, name: q, value: a},\n"
	  "                                   {type: Exact, name: p, value: b},\n"
	  "                                   {type: RegularExpression, name: q,"
	  " value: c}]}]\n"
	  "          default: {}\n",
	  "r.yaml:8:35: spec.to[0].rules[0].matches[0].queryParams: names a "
	  "query parameter twice" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: Exact, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: RequestHeaderModifier\n"
	  "                responseHeaderModifier: {remove: [x-a]}\n",
	  "r.yaml:11:17: spec.to[0].rules[0].default.filters[0]: type "
	  "RequestHeaderModifier needs requestHeaderModifier and no other "
	  "filter object" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: Exact, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite: {hostname: a.example}\n"
	  "                requestRedirect: {scheme: https}\n",
	  "r.yaml:11:17: spec.to[0].rules[0].default.filters[0]: type "
	  "URLRewrite needs urlRewrite and no other filter object" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: Exact, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite:\n"
	  "                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}\n",
	  "r.yaml:8:11: spec.to[0].rules[0]: ReplacePrefixMatch needs every "
	  "match to have a PathPrefix path" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            backendRefs:\n"
	  "              - {kind: MeshService, name: a, weight: 0}\n"
	  "              - {kind: MeshService, name: b, weight: 0}\n",
	  "r.yaml:10:13: spec.to[0].rules[0].default: backendRefs need at least one weight above 0" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            backendRefs: [{kind: MeshServiceSubset, name: a}]\n",
	  "r.yaml:10:27: spec.to[0].rules[0].default.backendRefs[0]: kind MeshServiceSubset needs tags" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, weight: 4294967296}]\n",
	  "r.yaml:10:64: spec.to[0].rules[0].default.backendRefs[0].weight: must be 0..4294967295" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            backendRefs: [{kind: MeshMultiZoneService, name: a}]\n",
	  "r.yaml:10:27: spec.to[0].rules[0].default.backendRefs[0].port: "
	  "is required for kind MeshMultiZoneService" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: RequestMirror\n"
	  "                requestMirror:\n"
	  "                  backendRef: {kind: MeshMultiZoneService, name: a}\n",
	  "r.yaml:13:31: spec.to[0].rules[0].default.filters[0].requestMirror."
	  "backendRef.port: is required for kind MeshMultiZoneService" },
	{ HTTP_HEAD
	  "        - matches: []\n"
	  "          default: {}\n",
	  "r.yaml:8:20: spec.to[0].rules[0].matches: must have at least one "
	  "entry" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite: {hostname: a.example, hostToBackendHostname: true}\n",
	  "r.yaml:12:74: spec.to[0].rules[0].default.filters[0].urlRewrite."
	  "hostToBackendHostname: cannot be true together with hostname" },
	/* Only a builtin gateway knows its backends' hostnames. */
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite: {hostToBackendHostname: true}\n",
	  "r.yaml:10:13: spec.to[0].rules[0].default: a URLRewrite with "
	  "hostToBackendHostname needs a MeshGateway targetRef" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite: {hostname: a.example}\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite: {hostname: b.example}\n",
	  "r.yaml:10:13: spec.to[0].rules[0].default: filters RequestRedirect "
	  "and URLRewrite may appear once each" },
	/* A builtin gateway answers every request it routes itself. */
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  targetRef: {kind: MeshGateway, name: edge}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      rules:\n"
	  "        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite:\n"
	  "                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}\n",
	  "r.yaml:11:13: spec.to[0].rules[0].default: needs backendRefs under "
	  "a MeshGateway targetRef, unless a RequestRedirect filter answers" },
)

/* Kuma lets a rule both redirect and rewrite, and (2.14) a MeshGateway
 * route rewrite the Host header to the backend's hostname and redirect
 * without backends. */
static bool test_http_redirect_and_rewrite(void)
{
	static const char yaml[] =
		KH_DOC("MeshHTTPRoute", "r")
		"  targetRef: {kind: MeshGateway, name: edge}\n"
		"  to:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      rules:\n"
		"        - matches: [{path: {type: PathPrefix, value: /prefix}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: URLRewrite\n"
		"                urlRewrite:\n"
		"                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /other}\n"
		"              - type: RequestRedirect\n"
		"                requestRedirect:\n"
		"                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /other}\n"
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: URLRewrite\n"
		"                urlRewrite: {hostToBackendHostname: true}\n"
		"            backendRefs: [{kind: MeshService, name: backend}]\n";
	struct model_set s;
	const struct mf_http_route *r = kh_policy(yaml, &s,
						  &kind_mesh_http_route, 2);
	bool ok;

	ok = r && ASSERT_EQ(r[0].rule.def.nfilters, 2) &&
	     ASSERT_EQ(r[0].rule.def.filters[0].type, MF_FILTER_URL_REWRITE) &&
	     ASSERT_EQ(r[0].rule.def.filters[1].type,
		       MF_FILTER_REQUEST_REDIRECT) &&
	     ASSERT_EQ(r[0].rule.def.nbackend_refs, 0) &&
	     ASSERT_EQ(r[1].rule.def.filters[0].url_rewrite.present, 0x4) &&
	     ASSERT_EQ(r[1].rule.def.filters[0].url_rewrite
			       .host_to_backend_hostname, 1);
	return kh_finish(&s, ok);
}

/* Kuma's redirect and rewrite hostnames are names: an IPv4 address (as its
 * sloppy parser reads one, leading zeros too) is refused as such. */
KH_TEST_BAD(test_http_hostname_not_ip,
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: RequestRedirect\n"
	  "                requestRedirect: {hostname: 10.0.0.1}\n",
	  "r.yaml:12:45: spec.to[0].rules[0].default.filters[0].requestRedirect.hostname: "
	  "cannot be an IP address" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: URLRewrite\n"
	  "                urlRewrite: {hostname: 010.0.0.255}\n",
	  "r.yaml:12:40: spec.to[0].rules[0].default.filters[0].urlRewrite.hostname: "
	  "cannot be an IP address" },
)

/* A name a header modifier's set, add or remove lists already named is
 * refused at the list that names it again, wherever the first was. */
KH_TEST_BAD(test_http_header_mod_duplicates,
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: RequestHeaderModifier\n"
	  "                requestHeaderModifier:\n"
	  "                  set: [{name: x-a, value: \"1\"}, {name: x-a, value: \"2\"}]\n",
	  "r.yaml:13:24: spec.to[0].rules[0].default.filters[0].requestHeaderModifier.set: "
	  "names a header that set, add or remove names already" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: ResponseHeaderModifier\n"
	  "                responseHeaderModifier:\n"
	  "                  set: [{name: x-a, value: \"1\"}]\n"
	  "                  add: [{name: x-b, value: \"1\"}]\n"
	  "                  remove: [x-c, x-a]\n",
	  "r.yaml:15:27: spec.to[0].rules[0].default.filters[0].responseHeaderModifier.remove: "
	  "names a header that set, add or remove names already" },
	{ HTTP_HEAD
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default:\n"
	  "            filters:\n"
	  "              - type: RequestHeaderModifier\n"
	  "                requestHeaderModifier:\n"
	  "                  add: [{name: x-b, value: \"1\"}]\n"
	  "                  remove: [x-b]\n",
	  "r.yaml:14:27: spec.to[0].rules[0].default.filters[0].requestHeaderModifier.remove: "
	  "names a header that set, add or remove names already" },
)

/* Distinct names across the lists, and hostnames that only look like
 * addresses, are what Kuma takes. */
static bool test_http_header_mod_and_hostname_ok(void)
{
	static const char yaml[] =
		HTTP_HEAD
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: RequestHeaderModifier\n"
		"                requestHeaderModifier:\n"
		"                  set: [{name: x-a, value: \"1\"}]\n"
		"                  add: [{name: x-b, value: \"1\"}]\n"
		"                  remove: [x-c]\n"
		"              - type: RequestRedirect\n"
		"                requestRedirect: {hostname: 1.2.3}\n";
	struct model_set s;
	const struct mf_http_route *r = kh_policy(yaml, &s,
						  &kind_mesh_http_route, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].rule.def.nfilters, 2) &&
	     ASSERT_EQ(r[0].rule.def.filters[0].request_header_modifier.nremove,
		       1) &&
	     ASSERT_STREQ(kh_str(&s, r[0].rule.def.filters[1]
					     .request_redirect.hostname),
			  "1.2.3");
	return kh_finish(&s, ok);
}

/* A MeshGateway route's entry names the hostnames it serves (Kuma 2.14):
 * every rule's record holds them, get prints them once, with the entry. */
static bool test_http_hostnames(void)
{
	static const char yaml[] =
		KH_DOC("MeshHTTPRoute", "r")
		"  targetRef: {kind: MeshGateway, name: edge}\n"
		"  to:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      hostnames: [shop.example.com, \"*.shop.example.com\"]\n"
		"      rules:\n"
		"        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
		"          default: {backendRefs: [{kind: MeshService, name: a}]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /b}}]\n"
		"          default: {backendRefs: [{kind: MeshService, name: b}]}\n"
		"    - targetRef: {kind: Mesh}\n"
		"      rules:\n"
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default: {backendRefs: [{kind: MeshService, name: c}]}\n";
	struct model_set s;
	const struct mf_http_route *r = kh_policy(yaml, &s,
						  &kind_mesh_http_route, 3);
	bool ok;

	ok = r && ASSERT_EQ(r[0].entry.present, 0x1) &&
	     ASSERT_EQ(r[0].entry.nhostnames, 2) &&
	     ASSERT_STREQ(r[0].entry.hostnames[0], "shop.example.com") &&
	     ASSERT_STREQ(r[0].entry.hostnames[1], "*.shop.example.com") &&
	     ASSERT_MEMEQ(&r[1].entry, &r[0].entry, sizeof(r[0].entry)) &&
	     ASSERT_EQ(r[1].hdr.rule, 1) &&
	     ASSERT_EQ(r[2].hdr.entry, 1) &&
	     ASSERT_EQ(r[2].entry.present, 0) &&
	     ASSERT_EQ(r[2].entry.nhostnames, 0);
	return kh_finish(&s, ok);
}

/* Kuma takes a route without entries, which overrides others with
 * nothing; get prints it back as written. */
static bool test_http_empty_to(void)
{
	static const char yaml[] =
		KH_DOC("MeshHTTPRoute", "r")
		"  targetRef: {kind: MeshService, name: web}\n"
		"  to: []\n";
	struct model_set s;
	const struct mf_http_route *r = kh_policy(yaml, &s,
						  &kind_mesh_http_route, 1);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_EQ(r[0].rule.present, 0);
	return kh_finish(&s, ok);
}

/* An entry without rules (Kuma takes it) still holds its own keys: its
 * one record has them, and get prints `rules: []` after them. */
static bool test_http_entry_without_rules(void)
{
	static const char yaml[] =
		KH_DOC("MeshHTTPRoute", "r")
		"  targetRef: {kind: MeshGateway, name: edge}\n"
		"  to:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      hostnames: [shop.example.com]\n"
		"      rules: []\n"
		"    - targetRef: {kind: Mesh}\n"
		"      rules: []\n";
	struct model_set s;
	const struct mf_http_route *r = kh_policy(yaml, &s,
						  &kind_mesh_http_route, 2);
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.rule, MF_ROUTE_NO_RULES) &&
	     ASSERT_EQ(r[0].rule.present, 0) &&
	     ASSERT_EQ(r[0].entry.nhostnames, 1) &&
	     ASSERT_STREQ(r[0].entry.hostnames[0], "shop.example.com") &&
	     ASSERT_EQ(r[1].hdr.entry, 1) &&
	     ASSERT_EQ(r[1].hdr.rule, MF_ROUTE_NO_RULES) &&
	     ASSERT_EQ(r[1].entry.present, 0) &&
	     ASSERT_TRUE(!kind_rec_check(&kind_mesh_http_route, &r[0]));
	return kh_finish(&s, ok);
}

/* A query parameter is named once per match: two matches of a rule may
 * each name it. */
static bool test_http_query_name_per_match(void)
{
	static const char yaml[] =
		KH_DOC("MeshHTTPRoute", "r")
		"  targetRef: {kind: Mesh}\n"
		"  to:\n"
		"    - targetRef: {kind: MeshService, name: backend}\n"
		"      rules:\n"
		"        - matches:\n"
		"            - queryParams: [{type: Exact, name: q, value: a}]\n"
		"            - queryParams: [{type: Exact, name: q, value: b}]\n"
		"          default: {}\n";
	struct model_set s;
	const struct mf_http_route *r = kh_policy(yaml, &s,
						  &kind_mesh_http_route, 1);

	return kh_finish(&s, r && ASSERT_EQ(r[0].rule.nmatches, 2) &&
				 ASSERT_EQ(r[0].rule.matches[0].query_params[0]
						   .name,
					   r[0].rule.matches[1].query_params[0]
						   .name));
}

/* Kuma's schema wants rules in every to[] entry, `rules: []` at least. */
KH_TEST_BAD(test_http_rules_required,
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  targetRef: {kind: MeshGateway, name: edge}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      hostnames: [shop.example.com]\n",
	  "r.yaml:7:7: spec.to[0].rules: is required" },
)

KH_TEST_BAD(test_http_hostnames_invalid,
	/* A sidecar's route has one destination, whatever the Host. */
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  to:\n"
	  "    - targetRef: {kind: MeshService, name: backend}\n"
	  "      hostnames: [backend.com]\n"
	  "      rules:\n"
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default: {}\n",
	  "r.yaml:8:18: spec.to[0].hostnames: needs a MeshGateway targetRef" },
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  targetRef: {kind: MeshGateway, name: edge}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      hostnames: [a, b, c, d, e]\n"
	  "      rules:\n"
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default: {backendRefs: [{kind: MeshService, name: a}]}\n",
	  "r.yaml:8:18: spec.to[0].hostnames: must have at most 4 entries" },
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  targetRef: {kind: MeshGateway, name: edge}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      hostnames: [\"a b\"]\n"
	  "      rules:\n"
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default: {backendRefs: [{kind: MeshService, name: a}]}\n",
	  "r.yaml:8:19: spec.to[0].hostnames[0]: must not contain spaces or "
	  "control characters" },
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  targetRef: {kind: MeshGateway, name: edge}\n"
	  "  to:\n"
	  "    - targetRef: {kind: Mesh}\n"
	  "      hostname: [a]\n"
	  "      rules:\n"
	  "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	  "          default: {backendRefs: [{kind: MeshService, name: a}]}\n",
	  "r.yaml:8:7: spec.to[0].hostname: unknown field" },
)

/* backendRefs are references: validation finds a missing Service and
 * points at the backendRef's name. */
static bool test_http_backend_ref_checked(void)
{
	static const char yaml[] =
		KH_API "kind: Service\nmetadata: {name: backend}\n"
		"spec: {vip: 10.96.0.10, port: 80}\n"
		"---\n"
		HTTP_HEAD
		"        - matches: [{path: {type: Exact, value: /}}]\n"
		"          default:\n"
		"            backendRefs:\n"
		"              - {kind: MeshService, name: backend, weight: 1}\n"
		"              - {kind: MeshService, name: nope}\n";
	struct model_set s;
	struct diag d;
	bool ok;

	if (!kh_parse_ok(yaml, &s))
		return false;
	diag_init(&d);
	ok = ASSERT_EQ(validate_set(&s, &d), -EINVAL) &&
	     ASSERT_EQ(diag_count(&d), 1) &&
	     ASSERT_STREQ(d.msgs[0],
			  "r.yaml:17:17: spec.to[0].rules[0].default."
			  "backendRefs[1].name: no Service \"nope\" is "
			  "defined or applied");
	if (!ok)
		kh_print_diag(&d);
	diag_free(&d);
	model_set_free(&s);
	return ok;
}

/* ---- the room a rule has ------------------------------------------------ */

/* How big a rule big_rule() writes is. */
struct big {
	unsigned matches;	/* the first one has the headers and params */
	unsigned headers, params;
	unsigned set, add, remove;	/* the request header modifier's */
	unsigned resp;		/* set, add and remove, each, of the
				 * response header modifier */
	unsigned mirrors;	/* RequestMirror filters after the four
				 * others */
	size_t path;		/* bytes of the first match's path */
	size_t value;		/* of its first header's value */
	size_t prefix;		/* of the rewritten prefixes */
	size_t host;		/* of the rewrite hostname */
	size_t redirect_host;	/* of the redirect hostname */
};

/* @n bytes of @c, the first one @first (0: @c too), to @f. */
static void big_run(FILE *f, char first, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(i == 0 && first ? first : c, f);
}

/* A hostname of @n bytes: labels of 63 'h's and dots. */
static void big_host(FILE *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(i % 64 == 63 && i + 1 < n ? '.' : 'h', f);
}

/* A header modifier of @set, @add and @remove headers, names prefixed
 * @p. */
static void big_mod(FILE *f, const char *key, const char *p, unsigned set,
		    unsigned add, unsigned remove)
{
	fprintf(f, "                %s:\n", key);
	fprintf(f, "                  set:\n");
	for (unsigned i = 0; i < set; i++)
		fprintf(f, "%20s- {name: %s-s%u, value: \"%u\"}\n", "", p, i,
			i);
	fprintf(f, "                  add:\n");
	for (unsigned i = 0; i < add; i++)
		fprintf(f, "%20s- {name: %s-a%u, value: \"%u\"}\n", "", p, i,
			i);
	fprintf(f, "                  remove:\n");
	for (unsigned i = 0; i < remove; i++)
		fprintf(f, "                    - %s-r%u\n", p, i);
}

/*
 * One MeshHTTPRoute rule as big as @b says (HTTP_HEAD, then the rule from
 * line 8): its matches (PathPrefix), the first with its headers and query
 * parameters; filters RequestHeaderModifier, ResponseHeaderModifier,
 * URLRewrite and RequestRedirect (hostnames and prefixes rewritten as long
 * as @b says), then the mirrors.  Malloc'd; the caller frees it.
 */
static char *big_rule(const struct big *b)
{
	char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);

	if (!f)
		abort();
	fputs(HTTP_HEAD "        - matches:\n", f);
	for (unsigned i = 0; i < b->matches; i++) {
		fprintf(f, "            - path: {type: PathPrefix, value: ");
		if (i == 0)
			big_run(f, '/', 'p', b->path);
		else
			fprintf(f, "/m%u", i);
		fputs("}\n", f);
		if (i)
			continue;
		if (b->headers)
			fputs("              headers:\n", f);
		for (unsigned h = 0; h < b->headers; h++) {
			fprintf(f, "%16s- {type: Exact, name: x-h%u, value: ",
				"", h);
			big_run(f, 0, 'v', h ? 1 : b->value);
			fputs("}\n", f);
		}
		if (b->params)
			fputs("              queryParams:\n", f);
		for (unsigned q = 0; q < b->params; q++)
			fprintf(f, "                - {type: Exact, name: q%u, "
				"value: v%u}\n", q, q);
	}
	fputs("          default:\n            filters:\n"
	      "              - type: RequestHeaderModifier\n", f);
	big_mod(f, "requestHeaderModifier", "x-req", b->set, b->add,
		b->remove);
	fputs("              - type: ResponseHeaderModifier\n", f);
	big_mod(f, "responseHeaderModifier", "x-resp", b->resp, b->resp,
		b->resp);
	fputs("              - type: URLRewrite\n"
	      "                urlRewrite:\n"
	      "                  hostname: ", f);
	big_host(f, b->host);
	fputs("\n                  path: {type: ReplacePrefixMatch, "
	      "replacePrefixMatch: ", f);
	big_run(f, '/', 'w', b->prefix);
	fputs("}\n              - type: RequestRedirect\n"
	      "                requestRedirect:\n"
	      "                  hostname: ", f);
	big_host(f, b->redirect_host);
	fputs("\n                  path: {type: ReplacePrefixMatch, "
	      "replacePrefixMatch: ", f);
	big_run(f, '/', 'd', b->prefix);
	fputs("}\n", f);
	for (unsigned i = 0; i < b->mirrors; i++)
		fprintf(f, "              - type: RequestMirror\n"
			"                requestMirror: {backendRef: "
			"{kind: MeshService, name: shadow-%u}}\n", i);
	fputs("            backendRefs: [{kind: MeshService, name: backend}]\n",
	      f);
	fclose(f);
	return doc;
}

/* The most a rule holds: 8 matches, the first with 16 headers and 16
 * query parameters, a path and a header value of 1024 bytes; 8 filters,
 * header modifiers of 16 set, add and remove, hostnames and rewritten
 * prefixes of 1024 bytes.  All of it in one record, and back. */
static bool test_http_room(void)
{
	static const struct big b = {
		.matches = MF_ROUTE_MATCHES_MAX, .headers = MF_ROUTE_KV_MAX,
		.params = MF_ROUTE_KV_MAX, .set = MF_HEADERS_MAX,
		.add = MF_HEADERS_MAX, .remove = MF_HEADERS_MAX,
		.resp = MF_HEADERS_MAX, .mirrors = MF_ROUTE_FILTERS_MAX - 4,
		.path = MF_STRING_MAX, .value = MF_STRING_MAX,
		.prefix = MF_STRING_MAX, .host = MF_STRING_MAX,
		.redirect_host = MF_STRING_MAX,
	};
	char *doc = big_rule(&b);
	struct model_set s;
	const struct mf_http_route *r = kh_policy(doc, &s,
						  &kind_mesh_http_route, 1);
	const struct mf_route_rule *x = r ? &r[0].rule : NULL;
	const struct mf_header_mod *resp;
	const char *path, *value, *host, *last;
	bool ok;

	free(doc);
	if (!r)
		return false;
	resp = &x->def.filters[1].response_header_modifier;
	path = kh_str(&s, x->matches[0].path.value);
	value = kh_str(&s, x->matches[0].headers[0].value);
	host = kh_str(&s, x->def.filters[2].url_rewrite.hostname);
	last = kh_str(&s, resp->remove[MF_HEADERS_MAX - 1]);
	ok = ASSERT_EQ(x->nmatches, MF_ROUTE_MATCHES_MAX) &&
	     ASSERT_EQ(x->matches[0].nheaders, MF_ROUTE_KV_MAX) &&
	     ASSERT_EQ(x->matches[0].nquery_params, MF_ROUTE_KV_MAX) &&
	     ASSERT_TRUE(path) && ASSERT_EQ(strlen(path), MF_STRING_MAX) &&
	     ASSERT_TRUE(value) && ASSERT_EQ(strlen(value), MF_STRING_MAX) &&
	     ASSERT_TRUE(host) && ASSERT_EQ(strlen(host), MF_STRING_MAX) &&
	     ASSERT_STREQ(kh_str(&s, x->matches[0].query_params[15].value),
			  "v15") &&
	     ASSERT_STREQ(kh_str(&s, x->matches[7].path.value), "/m7") &&
	     ASSERT_EQ(x->def.nfilters, MF_ROUTE_FILTERS_MAX) &&
	     ASSERT_EQ(resp->nset, MF_HEADERS_MAX) &&
	     ASSERT_EQ(resp->nadd, MF_HEADERS_MAX) &&
	     ASSERT_EQ(resp->nremove, MF_HEADERS_MAX) &&
	     ASSERT_STREQ(last, "x-resp-r15") &&
	     /* A string many fields hold is pooled once: both hostnames. */
	     ASSERT_EQ(x->def.filters[3].request_redirect.hostname,
		       x->def.filters[2].url_rewrite.hostname) &&
	     ASSERT_STREQ(x->def.filters[7].request_mirror.backend_ref.ref.name,
			  "shadow-3");
	return kh_finish(&s, ok);
}

/* One more of anything is refused where it was written, with its
 * bound. */
static bool test_http_room_limits(void)
{
	static const struct big ok_b = {
		.matches = 1, .headers = 1, .params = 1, .set = 1, .add = 1,
		.remove = 1, .resp = 1, .path = 8, .value = 8, .prefix = 8,
		.host = 8, .redirect_host = 8,
	};
	struct {
		struct big b;
		const char *want;
	} cases[] = {
		{ ok_b, "r.yaml:9:13: spec.to[0].rules[0].matches: must have "
			"at most 8 entries" },
		{ ok_b, "r.yaml:11:17: spec.to[0].rules[0].matches[0].headers: "
			"must have at most 16 entries" },
		{ ok_b, "r.yaml:13:17: spec.to[0].rules[0].matches[0]."
			"queryParams: must have at most 16 entries" },
		{ ok_b, "r.yaml:16:15: spec.to[0].rules[0].default.filters: "
			"must have at most 8 entries" },
		{ ok_b, "r.yaml:19:21: spec.to[0].rules[0].default.filters[0]."
			"requestHeaderModifier.set: must have at most 16 "
			"entries" },
		{ ok_b, "r.yaml:23:21: spec.to[0].rules[0].default.filters[0]."
			"requestHeaderModifier.remove: must have at most 16 "
			"entries" },
		{ ok_b, "r.yaml:9:47: spec.to[0].rules[0].matches[0].path."
			"value: must be at most 1024 characters" },
		{ ok_b, "r.yaml:11:52: spec.to[0].rules[0].matches[0]."
			"headers[0].value: must be at most 1024 characters" },
		{ ok_b, "r.yaml:34:29: spec.to[0].rules[0].default.filters[2]."
			"urlRewrite.hostname: must be at most 1024 "
			"characters" },
	};
	bool ok = true;

	cases[0].b.matches = MF_ROUTE_MATCHES_MAX + 1;
	cases[1].b.headers = MF_ROUTE_KV_MAX + 1;
	cases[2].b.params = MF_ROUTE_KV_MAX + 1;
	cases[3].b.mirrors = MF_ROUTE_FILTERS_MAX - 3;
	cases[4].b.set = MF_HEADERS_MAX + 1;
	cases[5].b.remove = MF_HEADERS_MAX + 1;
	cases[6].b.path = MF_STRING_MAX + 1;
	cases[7].b.value = MF_STRING_MAX + 1;
	cases[8].b.host = MF_STRING_MAX + 1;
	for (size_t i = 0; i < KH_NCASES(cases); i++) {
		char *doc = big_rule(&cases[i].b);

		if (!kh_expect1(doc, cases[i].want)) {
			fprintf(stderr, "  in case %zu\n", i);
			ok = false;
		}
		free(doc);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_http_full);
	TEST_RUN(test_http_invalid);
	TEST_RUN(test_http_redirect_and_rewrite);
	TEST_RUN(test_http_hostname_not_ip);
	TEST_RUN(test_http_header_mod_duplicates);
	TEST_RUN(test_http_header_mod_and_hostname_ok);
	TEST_RUN(test_http_hostnames);
	TEST_RUN(test_http_empty_to);
	TEST_RUN(test_http_entry_without_rules);
	TEST_RUN(test_http_rules_required);
	TEST_RUN(test_http_query_name_per_match);
	TEST_RUN(test_http_hostnames_invalid);
	TEST_RUN(test_http_backend_ref_checked);
	TEST_RUN(test_http_room);
	TEST_RUN(test_http_room_limits);
	TEST_MAIN_END();
}
