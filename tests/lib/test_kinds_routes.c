// SPDX-License-Identifier: Apache-2.0
/*
 * The schemas of MeshHTTPRoute, MeshTCPRoute, MeshGateway and
 * MeshGatewayRoute (lib/kind_mesh_*.c): a full Kuma-style policy of each
 * kind parses into the expected records, prints (pemit_yaml) as a spec
 * that parses back to the same bytes, and each rule the tables add across
 * fields (paths, regular expressions, header matches, filter objects,
 * weights, listeners, http or tcp) refuses its input with exactly the
 * expected "file:line:col: path: message".
 */
#include <stdio.h>

#define KH_FILE "r.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

#include "policy/validate.h"

/* Tag @key of tag set @id of @set, or NULL. */
static const char *tag(const struct model_set *set, uint32_t id,
		       const char *key)
{
	const struct mf_tagset *ts = model_tags_get(set, id);

	for (uint32_t i = 0; ts && i < ts->n; i++)
		if (!strcmp(ts->tags[i].key, key))
			return ts->tags[i].value;
	return NULL;
}

/* ---- MeshHTTPRoute ----------------------------------------------------- */

static const char http_yaml[] =
	KH_API
	"kind: MeshHTTPRoute\n"
	"metadata: {name: web-to-backend}\n"
	"spec:\n"
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
	const struct model_obj *o;
	const struct mf_http_route *r;
	const struct mf_route_rule *x;
	bool ok;

	if (!kh_parse_ok(http_yaml, &s))
		return false;
	o = kh_find(&s, "MeshHTTPRoute", "web-to-backend");
	ok = ASSERT_TRUE(o) && ASSERT_EQ(o->pol.n, 3);
	if (!ok)
		goto out;
	r = (const struct mf_http_route *)o->pol.recs;

	/* to[0].rules[0] */
	x = &r[0].rule;
	ok = ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.entry, 0) && ASSERT_EQ(r[0].hdr.rule, 0) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "backend") &&
	     ASSERT_EQ(x->nmatches, 2) &&
	     ASSERT_EQ(x->matches[0].path.type, MF_PATH_PREFIX) &&
	     ASSERT_STREQ(x->matches[0].path.value, "/api") &&
	     ASSERT_EQ(x->matches[0].method, MF_METHOD_GET) &&
	     ASSERT_EQ(x->matches[0].nheaders, 2) &&
	     ASSERT_EQ(x->matches[0].headers[0].type, MF_MATCH_EXACT) &&
	     ASSERT_STREQ(x->matches[0].headers[0].name, "x-canary") &&
	     ASSERT_STREQ(x->matches[0].headers[0].value, "on") &&
	     ASSERT_EQ(x->matches[0].headers[1].type, MF_MATCH_PRESENT) &&
	     ASSERT_STREQ(x->matches[0].headers[1].value, "") &&
	     ASSERT_EQ(x->matches[0].nquery_params, 1) &&
	     ASSERT_EQ(x->matches[0].query_params[0].type, MF_MATCH_REGEX) &&
	     ASSERT_STREQ(x->matches[0].query_params[0].value, "^[0-9]+$") &&
	     ASSERT_STREQ(x->matches[1].path.value, "/") &&
	     ASSERT_EQ(x->def.nfilters, 2) &&
	     ASSERT_EQ(x->def.filters[0].type,
		       MF_FILTER_REQUEST_HEADER_MODIFIER) &&
	     ASSERT_EQ(x->def.filters[0].request_header_modifier.nset, 1) &&
	     ASSERT_STREQ(x->def.filters[0].request_header_modifier.set[0].name,
			  "x-route") &&
	     ASSERT_EQ(x->def.filters[0].request_header_modifier.nremove, 1) &&
	     ASSERT_STREQ(x->def.filters[0].request_header_modifier.remove[0],
			  "x-debug") &&
	     ASSERT_EQ(x->def.filters[1].type, MF_FILTER_URL_REWRITE) &&
	     ASSERT_STREQ(x->def.filters[1].url_rewrite.hostname,
			  "backend.internal") &&
	     ASSERT_EQ(x->def.filters[1].url_rewrite.path.type,
		       MF_REWRITE_PREFIX) &&
	     ASSERT_STREQ(x->def.filters[1].url_rewrite.path.replace_prefix_match,
			  "/v2/api") &&
	     ASSERT_EQ(x->def.nbackend_refs, 2) &&
	     ASSERT_EQ(x->def.backend_refs[0].ref.kind,
		       MF_REF_MESH_SERVICE_SUBSET) &&
	     ASSERT_STREQ(x->def.backend_refs[0].ref.name, "backend") &&
	     ASSERT_STREQ(tag(&s, x->def.backend_refs[0].ref.tags, "version"),
			  "v2") &&
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
	     ASSERT_STREQ(x->def.filters[0].request_redirect.path
				  .replace_full_path, "/new") &&
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
	     ASSERT_STREQ(x->def.filters[0].response_header_modifier.remove[1],
			  "x-powered-by") &&
	     ASSERT_EQ(x->def.backend_refs[0].weight, 0) &&
	     kh_round_trip(&s, o);
out:
	model_set_free(&s);
	return ok;
}

#define HTTP_HEAD                                                             \
	KH_API "kind: MeshHTTPRoute\nmetadata: {name: r}\n"                     \
	"spec:\n"                                                             \
	"  to:\n"                                                             \
	"    - targetRef: {kind: MeshService, name: backend}\n"               \
	"      rules:\n"

static const struct kh_bad http_invalid_cases[] = {
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
	  "            backendRefs: [{kind: MeshService, name: a, weight: 1000001}]\n",
	  "r.yaml:10:64: spec.to[0].rules[0].default.backendRefs[0].weight: must be 0..1000000" },
};

static bool test_http_invalid(void)
{
	return kh_expect_all(http_invalid_cases, KH_NCASES(http_invalid_cases));
}

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

/* ---- MeshTCPRoute ------------------------------------------------------ */

static const char tcp_yaml[] =
	KH_API
	"kind: MeshTCPRoute\n"
	"metadata: {name: web-to-db}\n"
	"spec:\n"
	"  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: db}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs:\n"
	"              - {kind: MeshServiceSubset, name: db, tags: {version: v1}, weight: 90}\n"
	"              - {kind: MeshServiceSubset, name: db, tags: {version: v2}, weight: 10}\n"
	"        - default:\n"
	"            backendRefs: [{kind: MeshService, name: db-ro}]\n"
	"    - targetRef: {kind: MeshService, name: cache}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs: [{kind: MeshService, name: cache-v2, port: 6379}]\n";

static bool test_tcp_full(void)
{
	struct model_set s;
	const struct model_obj *o;
	const struct mf_tcp_route *r;
	bool ok;

	if (!kh_parse_ok(tcp_yaml, &s))
		return false;
	o = kh_find(&s, "MeshTCPRoute", "web-to-db");
	ok = ASSERT_TRUE(o) && ASSERT_EQ(o->pol.n, 3);
	if (!ok)
		goto out;
	r = (const struct mf_tcp_route *)o->pol.recs;
	ok = ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     ASSERT_STREQ(tag(&s, r[0].hdr.target.tags, "app"), "web") &&
	     ASSERT_EQ(r[0].hdr.entry, 0) && ASSERT_EQ(r[0].hdr.rule, 0) &&
	     ASSERT_STREQ(r[0].hdr.ref.name, "db") &&
	     ASSERT_EQ(r[0].rule.def.nbackend_refs, 2) &&
	     ASSERT_STREQ(tag(&s, r[0].rule.def.backend_refs[1].ref.tags,
			      "version"), "v2") &&
	     ASSERT_EQ(r[0].rule.def.backend_refs[1].weight, 10) &&
	     ASSERT_EQ(r[1].hdr.entry, 0) && ASSERT_EQ(r[1].hdr.rule, 1) &&
	     ASSERT_STREQ(r[1].rule.def.backend_refs[0].ref.name, "db-ro") &&
	     ASSERT_EQ(r[2].hdr.entry, 1) && ASSERT_EQ(r[2].hdr.rule, 0) &&
	     ASSERT_STREQ(r[2].hdr.ref.name, "cache") &&
	     ASSERT_EQ(r[2].rule.def.backend_refs[0].port, 6379) &&
	     kh_round_trip(&s, o);
out:
	model_set_free(&s);
	return ok;
}

#define TCP_HEAD                                                              \
	KH_API "kind: MeshTCPRoute\nmetadata: {name: t}\n"                      \
	"spec:\n"                                                             \
	"  to:\n"                                                             \
	"    - targetRef: {kind: MeshService, name: db}\n"                    \
	"      rules:\n"

static const struct kh_bad tcp_invalid_cases[] = {
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, weight: 0}]\n",
	  "r.yaml:9:13: spec.to[0].rules[0].default: backendRefs need at least one weight above 0" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: Mesh}]\n",
	  "r.yaml:9:34: spec.to[0].rules[0].default.backendRefs[0].kind: "
	  "must be MeshService or MeshServiceSubset" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, tags: {v: x}}]\n",
	  "r.yaml:9:62: spec.to[0].rules[0].default.backendRefs[0].tags: "
	  "must not be set for kind MeshService" },
	{ TCP_HEAD
	  "        - {}\n",
	  "r.yaml:8:11: spec.to[0].rules[0].default: is required" },
	{ TCP_HEAD
	  "        - default:\n"
	  "            backendRefs: [{kind: MeshService, name: a, port: 0}]\n",
	  "r.yaml:9:62: spec.to[0].rules[0].default.backendRefs[0].port: must be 1..65535" },
};

static bool test_tcp_invalid(void)
{
	return kh_expect_all(tcp_invalid_cases, KH_NCASES(tcp_invalid_cases));
}

/* ---- MeshGateway ------------------------------------------------------- */

static const char gw_yaml[] =
	KH_API
	"kind: MeshGateway\n"
	"metadata: {name: edge}\n"
	"spec:\n"
	"  selectors:\n"
	"    - match: {kuma.io/service: edge-gateway}\n"
	"    - match: {kuma.io/service: edge-gateway-2, zone: east}\n"
	"  conf:\n"
	"    listeners:\n"
	"      - port: 8080\n"
	"        protocol: HTTP\n"
	"        hostname: foo.example.com\n"
	"        tags: {vhost: foo.example.com}\n"
	"      - port: 8443\n"
	"        protocol: HTTPS\n"
	"        hostname: \"*.example.com\"\n"
	"        tls:\n"
	"          mode: TERMINATE\n"
	"          certificates: [{secret: example-cert}, {secret: example-cert-ec}]\n"
	"      - port: 9443\n"
	"        protocol: TLS\n"
	"        tls: {mode: PASSTHROUGH}\n"
	"      - port: 5432\n"
	"        protocol: TCP\n";

static bool test_gateway_full(void)
{
	struct model_set s;
	const struct model_obj *o;
	const struct mf_gateway *g;
	const struct mf_gw_conf *c;
	bool ok;

	if (!kh_parse_ok(gw_yaml, &s))
		return false;
	o = kh_find(&s, "MeshGateway", "edge");
	ok = ASSERT_TRUE(o) && ASSERT_EQ(o->pol.n, 1);
	if (!ok)
		goto out;
	g = (const struct mf_gateway *)o->pol.recs;
	c = &g->conf;
	ok = ASSERT_EQ(g->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(g->hdr.nsources, 2) &&
	     ASSERT_STREQ(tag(&s, g->hdr.sources[0], "kuma.io/service"),
			  "edge-gateway") &&
	     ASSERT_STREQ(tag(&s, g->hdr.sources[1], "zone"), "east") &&
	     ASSERT_EQ(c->nlisteners, 4) &&
	     ASSERT_EQ(c->listeners[0].port, 8080) &&
	     ASSERT_EQ(c->listeners[0].protocol, MF_GW_HTTP) &&
	     ASSERT_STREQ(c->listeners[0].hostname, "foo.example.com") &&
	     ASSERT_STREQ(tag(&s, c->listeners[0].tags, "vhost"),
			  "foo.example.com") &&
	     ASSERT_EQ(c->listeners[1].protocol, MF_GW_HTTPS) &&
	     ASSERT_STREQ(c->listeners[1].hostname, "*.example.com") &&
	     ASSERT_EQ(c->listeners[1].tls.mode, MF_GW_TLS_TERMINATE) &&
	     ASSERT_EQ(c->listeners[1].tls.ncertificates, 2) &&
	     ASSERT_STREQ(c->listeners[1].tls.certificates[1].secret,
			  "example-cert-ec") &&
	     ASSERT_EQ(c->listeners[2].protocol, MF_GW_TLS) &&
	     ASSERT_EQ(c->listeners[2].tls.mode, MF_GW_TLS_PASSTHROUGH) &&
	     ASSERT_EQ(c->listeners[2].tls.ncertificates, 0) &&
	     ASSERT_EQ(c->listeners[3].port, 5432) &&
	     ASSERT_EQ(c->listeners[3].protocol, MF_GW_TCP) &&
	     ASSERT_STREQ(c->listeners[3].hostname, "") &&
	     kh_round_trip(&s, o);
out:
	model_set_free(&s);
	return ok;
}

#define GW_HEAD                                                               \
	KH_API "kind: MeshGateway\nmetadata: {name: g}\n"                       \
	"spec:\n"                                                             \
	"  selectors: [{match: {kuma.io/service: gw}}]\n"                     \
	"  conf:\n"                                                           \
	"    listeners:\n"

static const struct kh_bad gateway_invalid_cases[] = {
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: protocol HTTPS needs tls" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, tls: {mode: TERMINATE}}\n",
	  "r.yaml:8:43: spec.conf.listeners[0].tls: mode TERMINATE needs certificates" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, tls: {mode: PASSTHROUGH}}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: protocol HTTPS terminates "
	  "TLS: tls.mode must be TERMINATE" },
	{ GW_HEAD
	  "      - {port: 443, protocol: TLS, tls: {mode: PASSTHROUGH, certificates: [{secret: c}]}}\n",
	  "r.yaml:8:41: spec.conf.listeners[0].tls: mode PASSTHROUGH takes no certificates" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, tls: {certificates: [{secret: c}]}}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: tls is only for protocols HTTPS and TLS" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: a.example}\n"
	  "      - {port: 80, protocol: HTTP, hostname: a.example}\n",
	  "r.yaml:7:5: spec.conf: two listeners have the same port and hostname" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP}\n"
	  "      - {port: 80, protocol: TCP, hostname: b.example}\n",
	  "r.yaml:7:5: spec.conf: listeners on one port must have the same protocol" },
	{ GW_HEAD
	  "      - {port: 0, protocol: HTTP}\n",
	  "r.yaml:8:16: spec.conf.listeners[0].port: must be 1..65535" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: \"a..b\"}\n",
	  "r.yaml:8:46: spec.conf.listeners[0].hostname: must be \"*\" or a "
	  "DNS name (labels of a-z, 0-9 and '-'), optionally starting with "
	  "\"*.\"" },
};

static bool test_gateway_invalid(void)
{
	return kh_expect_all(gateway_invalid_cases, KH_NCASES(gateway_invalid_cases));
}

/* ---- MeshGatewayRoute -------------------------------------------------- */

static const char gwr_yaml[] =
	KH_API
	"kind: MeshGatewayRoute\n"
	"metadata: {name: foo-routes}\n"
	"spec:\n"
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
	KH_API
	"kind: MeshGatewayRoute\n"
	"metadata: {name: db-route}\n"
	"spec:\n"
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
	const struct model_obj *o, *t;
	const struct mf_gateway_route *g, *gt;
	const struct mf_gwr_http *h;
	bool ok;

	if (!kh_parse_ok(gwr_yaml, &s))
		return false;
	o = kh_find(&s, "MeshGatewayRoute", "foo-routes");
	ok = ASSERT_TRUE(o) && ASSERT_EQ(o->pol.n, 1);
	if (!ok)
		goto out;
	g = (const struct mf_gateway_route *)o->pol.recs;
	h = &g->conf.http;
	ok = ASSERT_EQ(g->hdr.nsources, 1) &&
	     ASSERT_STREQ(tag(&s, g->hdr.sources[0], "vhost"),
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
	     ASSERT_STREQ(tag(&s, h->rules[0].backends[0].destination,
			      "version"), "v2") &&
	     ASSERT_EQ(h->rules[0].backends[0].weight, 90) &&
	     ASSERT_EQ(h->rules[1].matches[0].path.match, MF_GWR_REGEX) &&
	     ASSERT_STREQ(tag(&s, h->rules[1].backends[0].destination,
			      "kuma.io/service"), "cdn") &&
	     kh_round_trip(&s, o);
	model_set_free(&s);
	if (!ok || !kh_parse_ok(gwr_tcp_yaml, &s))
		return false;
	t = kh_find(&s, "MeshGatewayRoute", "db-route");
	ok = ASSERT_TRUE(t) && ASSERT_EQ(t->pol.n, 1);
	if (!ok)
		goto out;
	gt = (const struct mf_gateway_route *)t->pol.recs;
	ok = ASSERT_EQ(gt->conf.http.present, 0) &&
	     ASSERT_EQ(gt->conf.tcp.nrules, 2) &&
	     ASSERT_EQ(gt->conf.tcp.rules[1].nbackends, 2) &&
	     ASSERT_EQ(gt->conf.tcp.rules[1].backends[1].weight, 3) &&
	     ASSERT_STREQ(tag(&s, gt->conf.tcp.rules[0].backends[0].destination,
			      "kuma.io/service"), "db") &&
	     kh_round_trip(&s, t);
out:
	model_set_free(&s);
	return ok;
}

#define GWR_HEAD                                                              \
	KH_API "kind: MeshGatewayRoute\nmetadata: {name: gr}\n"                 \
	"spec:\n"                                                             \
	"  selectors: [{match: {kuma.io/service: gw}}]\n"                     \
	"  conf:\n"

#define GWR_BACKENDS "          backends: [{destination: {kuma.io/service: a}}]\n"

static const struct kh_bad gateway_route_invalid_cases[] = {
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
};

static bool test_gateway_route_invalid(void)
{
	return kh_expect_all(gateway_route_invalid_cases, KH_NCASES(gateway_route_invalid_cases));
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_http_full);
	TEST_RUN(test_http_invalid);
	TEST_RUN(test_http_backend_ref_checked);
	TEST_RUN(test_tcp_full);
	TEST_RUN(test_tcp_invalid);
	TEST_RUN(test_gateway_full);
	TEST_RUN(test_gateway_invalid);
	TEST_RUN(test_gateway_route_full);
	TEST_RUN(test_gateway_route_invalid);
	TEST_MAIN_END();
}
