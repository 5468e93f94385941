// SPDX-License-Identifier: Apache-2.0
/*
 * MeshGatewayRoute (legacy): the routes of the MeshGateway listeners its
 * selectors match (hdr.sources), either HTTP or TCP.  One record.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshGatewayRoute
 *   metadata: {name: foo-routes}
 *   spec:
 *     selectors:
 *       - match: {kuma.io/service: edge-gateway, vhost: foo.example.com}
 *     conf:
 *       http:
 *         hostnames: [foo.example.com, "*.foo.example.com"]
 *         rules:
 *           - matches:
 *               - path: {match: PREFIX, value: /api}
 *                 method: GET
 *                 headers:
 *                   - {match: EXACT, name: x-canary, value: "on"}
 *                   - {match: ABSENT, name: x-debug}
 *             backends:
 *               - {destination: {kuma.io/service: api, version: v2},
 *                  weight: 90}
 *               - {destination: {kuma.io/service: api, version: v1},
 *                  weight: 10}
 *           - matches: [{path: {match: REGEX, value: "^/static/.*"}}]
 *             backends: [{destination: {kuma.io/service: cdn}}]
 *
 *   or, for a TCP listener:
 *       tcp:
 *         rules:
 *           - backends: [{destination: {kuma.io/service: db}, weight: 1}]
 *
 * As in Kuma: path match defaults to EXACT and, for EXACT and PREFIX, the
 * value is a path starting with '/'; header match is EXACT (default),
 * REGEX, ABSENT or PRESENT, the last two without a value; a backend's
 * weight defaults to 1 and some backend of a rule must get traffic.
 * Regular expressions are checked with POSIX extended syntax.
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

#define GWR_WEIGHT_MAX 1000000

/* A DNS name whose first label may be "*". */
static const char *gwr_hostname_check(const char *s)
{
	if (!strncmp(s, "*.", 2))
		s += 2;
	return kind_dns_name_ok(s) ? NULL :
	       "must be a DNS name (labels of a-z, 0-9 and '-'), optionally "
	       "starting with \"*.\"";
}

/* Index + 1 == enum mf_gwr_match. */
static const char *const gwr_path_matches[] = {
	"EXACT", "PREFIX", "REGEX", NULL,
};

static const char *const gwr_header_matches[] = {
	"EXACT", "PREFIX", "REGEX", "ABSENT", "PRESENT", NULL,
};

static const struct sch_field gwr_path_fields[] = {
	SCH_F_ENUM("match", mf_gwr_path, match, gwr_path_matches),
	SCH_F_STRING("value", mf_gwr_path, value, SCH_REQUIRED),
};

static const char *gwr_path_check(const void *obj)
{
	const struct mf_gwr_path *p = obj;

	if (!p->value[0])
		return NULL;	/* reported as missing */
	if (p->match == MF_GWR_REGEX)
		return kind_regex_ok(p->value) ?
			       NULL :
			       "value is not a valid regular expression";
	return p->value[0] == '/' ? NULL : "value must start with '/'";
}
SCH_OBJECT_DEF(gwr_path, "MeshGatewayRoute path match",
	       .check = gwr_path_check);

enum { GWR_H_MATCH, GWR_H_NAME, GWR_H_VALUE };

static const struct sch_field gwr_header_fields[] = {
	[GWR_H_MATCH] = SCH_F_ENUM("match", mf_gwr_header, match,
				   gwr_header_matches),
	[GWR_H_NAME] = SCH_F_STRING("name", mf_gwr_header, name, SCH_REQUIRED,
				    .check = kind_check_header_name),
	[GWR_H_VALUE] = SCH_F_STRING("value", mf_gwr_header, value),
};

static const char *gwr_header_check(const void *obj)
{
	const struct mf_gwr_header *h = obj;
	uint8_t match = sch_has(h, GWR_H_MATCH) ? h->match : MF_GWR_EXACT;
	bool has_value = sch_has(h, GWR_H_VALUE);

	switch (match) {
	case MF_GWR_PREFIX:
		return "match must be EXACT, REGEX, ABSENT or PRESENT";
	case MF_GWR_ABSENT:
	case MF_GWR_PRESENT:
		return has_value ? "match ABSENT and PRESENT take no value" :
				   NULL;
	}
	if (!has_value)
		return "value is required for match EXACT and REGEX";
	if (match == MF_GWR_REGEX && !kind_regex_ok(h->value))
		return "value is not a valid regular expression";
	return NULL;
}
SCH_OBJECT_DEF(gwr_header, "MeshGatewayRoute header match",
	       .check = gwr_header_check);

static const struct sch_field gwr_match_fields[] = {
	SCH_F_OBJECT("path", mf_gwr_match_s, path, &gwr_path),
	SCH_F_ENUM("method", mf_gwr_match_s, method, kind_http_methods),
	SCH_F_LIST("headers", mf_gwr_match_s, headers, &gwr_header),
};
SCH_OBJECT_DEF(gwr_match, "MeshGatewayRoute match");

enum { GWR_B_DESTINATION, GWR_B_WEIGHT };

static const struct sch_field gwr_backend_fields[] = {
	[GWR_B_DESTINATION] = SCH_F_TAGS("destination", mf_gwr_backend,
					 destination, SCH_REQUIRED),
	[GWR_B_WEIGHT] = SCH_F_INT("weight", mf_gwr_backend, weight, 0,
				   GWR_WEIGHT_MAX),
};
SCH_OBJECT_DEF(gwr_backend, "MeshGatewayRoute backend");

/* Kuma: "a weight of 0 means that the destination will be ignored", so a
 * rule whose weights are all 0 sends nowhere.  An absent weight is 1.  The
 * check of rule struct @st (the http and the tcp one) with backends[]. */
#define GWR_RULE_CHECK(fn, st)                                                \
	static const char *fn(const void *obj)                                \
	{                                                                     \
		const struct st *r = obj;                                     \
                                                                              \
		for (unsigned i = 0; i < r->nbackends; i++)                   \
			if (!sch_has(&r->backends[i], GWR_B_WEIGHT) ||        \
			    r->backends[i].weight)                            \
				return NULL;                                  \
		return r->nbackends ?                                         \
			       "backends need at least one weight above 0" :  \
			       NULL;                                          \
	}

static const struct sch_field gwr_rule_fields[] = {
	SCH_F_LIST("matches", mf_gwr_rule, matches, &gwr_match, SCH_REQUIRED),
	SCH_F_LIST("backends", mf_gwr_rule, backends, &gwr_backend,
		   SCH_REQUIRED),
};
GWR_RULE_CHECK(gwr_rule_check, mf_gwr_rule)
SCH_OBJECT_DEF(gwr_rule, "MeshGatewayRoute http rule",
	       .check = gwr_rule_check);

static const struct sch_field gwr_hostnames_fields[] = {
	SCH_ITEM(SCH_STRING, MF_NAME_MAX, .check = gwr_hostname_check),
};
SCH_OBJECT_DEF(gwr_hostnames, "hostname", .scalar = true);

static const struct sch_field gwr_http_fields[] = {
	SCH_F_LIST("hostnames", mf_gwr_http, hostnames, &gwr_hostnames),
	SCH_F_LIST("rules", mf_gwr_http, rules, &gwr_rule, SCH_REQUIRED),
};
SCH_OBJECT_DEF(gwr_http, "MeshGatewayRoute http");

static const struct sch_field gwr_tcp_rule_fields[] = {
	SCH_F_LIST("backends", mf_gwr_tcp_rule, backends, &gwr_backend,
		   SCH_REQUIRED),
};
GWR_RULE_CHECK(gwr_tcp_rule_check, mf_gwr_tcp_rule)
SCH_OBJECT_DEF(gwr_tcp_rule, "MeshGatewayRoute tcp rule",
	       .check = gwr_tcp_rule_check);

static const struct sch_field gwr_tcp_fields[] = {
	SCH_F_LIST("rules", mf_gwr_tcp, rules, &gwr_tcp_rule, SCH_REQUIRED),
};
SCH_OBJECT_DEF(gwr_tcp, "MeshGatewayRoute tcp");

enum { GWR_C_HTTP, GWR_C_TCP };

static const struct sch_field gwr_conf_fields[] = {
	[GWR_C_HTTP] = SCH_F_OBJECT("http", mf_gwr_conf, http, &gwr_http),
	[GWR_C_TCP] = SCH_F_OBJECT("tcp", mf_gwr_conf, tcp, &gwr_tcp),
};

/* A route serves one listener protocol. */
static const char *gwr_conf_check(const void *obj)
{
	return sch_has(obj, GWR_C_HTTP) == sch_has(obj, GWR_C_TCP) ?
		       "needs exactly one of http and tcp" : NULL;
}
SCH_OBJECT_DEF(gwr_conf, "MeshGatewayRoute conf", .check = gwr_conf_check);

const struct kind_desc kind_mesh_gateway_route = {
	.name = "MeshGatewayRoute", .plural = "meshgatewayroutes",
	.form = KIND_FORM_SELECTORS,
	KIND_RECORD(mf_gateway_route, conf, &gwr_conf),
};
