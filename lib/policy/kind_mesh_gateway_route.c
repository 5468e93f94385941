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

static const char *const gwr_methods[] = {
	"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST",
	"PUT", "TRACE", NULL,
};

static const struct sch_field gwr_path_fields[] = {
	{ .name = "match", .type = SCH_ENUM,
	  .off = offsetof(struct mf_gwr_path, match),
	  .names = gwr_path_matches },
	{ .name = "value", .type = SCH_STRING, .required = true,
	  .off = offsetof(struct mf_gwr_path, value),
	  .size = MF_ROUTE_PATH_MAX },
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

static const struct sch_object gwr_path = {
	.name = "MeshGatewayRoute path match",
	.fields = gwr_path_fields,
	.nfields = SCH_NFIELDS(gwr_path_fields),
	.check = gwr_path_check,
};

enum { GWR_H_MATCH, GWR_H_NAME, GWR_H_VALUE };

static const struct sch_field gwr_header_fields[] = {
	[GWR_H_MATCH] = {
		.name = "match", .type = SCH_ENUM,
		.off = offsetof(struct mf_gwr_header, match),
		.names = gwr_header_matches },
	[GWR_H_NAME] = {
		.name = "name", .type = SCH_STRING, .required = true,
		.off = offsetof(struct mf_gwr_header, name),
		.size = MF_HDR_NAME_MAX, .check = kind_check_header_name },
	[GWR_H_VALUE] = {
		.name = "value", .type = SCH_STRING,
		.off = offsetof(struct mf_gwr_header, value),
		.size = MF_HDR_VALUE_MAX },
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

static const struct sch_object gwr_header = {
	.name = "MeshGatewayRoute header match",
	.fields = gwr_header_fields,
	.nfields = SCH_NFIELDS(gwr_header_fields),
	.check = gwr_header_check,
};

static const struct sch_field gwr_match_fields[] = {
	{ .name = "path", .type = SCH_OBJECT,
	  .off = offsetof(struct mf_gwr_match_s, path), .sub = &gwr_path },
	{ .name = "method", .type = SCH_ENUM,
	  .off = offsetof(struct mf_gwr_match_s, method),
	  .names = gwr_methods },
	{ .name = "headers", .type = SCH_LIST,
	  .off = offsetof(struct mf_gwr_match_s, headers),
	  .sub = &gwr_header,
	  .count_off = offsetof(struct mf_gwr_match_s, nheaders),
	  .item_size = sizeof(struct mf_gwr_header),
	  .max_items = MF_HEADERS_MAX },
};

static const struct sch_object gwr_match = {
	.name = "MeshGatewayRoute match",
	.fields = gwr_match_fields,
	.nfields = SCH_NFIELDS(gwr_match_fields),
};

enum { GWR_B_DESTINATION, GWR_B_WEIGHT };

static const struct sch_field gwr_backend_fields[] = {
	[GWR_B_DESTINATION] = {
		.name = "destination", .type = SCH_TAGS, .required = true,
		.off = offsetof(struct mf_gwr_backend, destination) },
	[GWR_B_WEIGHT] = {
		.name = "weight", .type = SCH_INT, .size = 4,
		.off = offsetof(struct mf_gwr_backend, weight),
		.min = 0, .max = GWR_WEIGHT_MAX },
};

static const struct sch_object gwr_backend = {
	.name = "MeshGatewayRoute backend",
	.fields = gwr_backend_fields,
	.nfields = SCH_NFIELDS(gwr_backend_fields),
};

/* Kuma: "a weight of 0 means that the destination will be ignored", so a
 * rule whose weights are all 0 sends nowhere.  An absent weight is 1. */
static const char *gwr_backends_check(const struct mf_gwr_backend *b,
				      unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (!sch_has(&b[i], GWR_B_WEIGHT) || b[i].weight)
			return NULL;
	return n ? "backends need at least one weight above 0" : NULL;
}

#define GWR_BACKENDS(st)                                                      \
	{ .name = "backends", .type = SCH_LIST, .required = true,             \
	  .off = offsetof(st, backends), .sub = &gwr_backend,                 \
	  .count_off = offsetof(st, nbackends),                               \
	  .item_size = sizeof(struct mf_gwr_backend),                         \
	  .max_items = MF_ROUTE_BACKENDS_MAX }

static const struct sch_field gwr_rule_fields[] = {
	{ .name = "matches", .type = SCH_LIST, .required = true,
	  .off = offsetof(struct mf_gwr_rule, matches), .sub = &gwr_match,
	  .count_off = offsetof(struct mf_gwr_rule, nmatches),
	  .item_size = sizeof(struct mf_gwr_match_s),
	  .max_items = MF_ROUTE_MATCHES_MAX },
	GWR_BACKENDS(struct mf_gwr_rule),
};

static const char *gwr_rule_check(const void *obj)
{
	const struct mf_gwr_rule *r = obj;

	return gwr_backends_check(r->backends, r->nbackends);
}

static const struct sch_object gwr_rule = {
	.name = "MeshGatewayRoute http rule",
	.fields = gwr_rule_fields,
	.nfields = SCH_NFIELDS(gwr_rule_fields),
	.check = gwr_rule_check,
};

static const struct sch_field gwr_hostname_item[] = {
	{ .type = SCH_STRING, .size = MF_NAME_MAX,
	  .check = gwr_hostname_check },
};

static const struct sch_object gwr_hostnames = {
	.name = "hostname",
	.fields = gwr_hostname_item,
	.nfields = 1,
	.scalar = true,
};

static const struct sch_field gwr_http_fields[] = {
	{ .name = "hostnames", .type = SCH_LIST,
	  .off = offsetof(struct mf_gwr_http, hostnames),
	  .sub = &gwr_hostnames,
	  .count_off = offsetof(struct mf_gwr_http, nhostnames),
	  .item_size = MF_NAME_MAX, .max_items = 2 },
	{ .name = "rules", .type = SCH_LIST, .required = true,
	  .off = offsetof(struct mf_gwr_http, rules), .sub = &gwr_rule,
	  .count_off = offsetof(struct mf_gwr_http, nrules),
	  .item_size = sizeof(struct mf_gwr_rule),
	  .max_items = MF_GWR_RULES_MAX },
};

static const struct sch_object gwr_http = {
	.name = "MeshGatewayRoute http",
	.fields = gwr_http_fields,
	.nfields = SCH_NFIELDS(gwr_http_fields),
};

static const struct sch_field gwr_tcp_rule_fields[] = {
	GWR_BACKENDS(struct mf_gwr_tcp_rule),
};

static const char *gwr_tcp_rule_check(const void *obj)
{
	const struct mf_gwr_tcp_rule *r = obj;

	return gwr_backends_check(r->backends, r->nbackends);
}

static const struct sch_object gwr_tcp_rule = {
	.name = "MeshGatewayRoute tcp rule",
	.fields = gwr_tcp_rule_fields,
	.nfields = SCH_NFIELDS(gwr_tcp_rule_fields),
	.check = gwr_tcp_rule_check,
};

static const struct sch_field gwr_tcp_fields[] = {
	{ .name = "rules", .type = SCH_LIST, .required = true,
	  .off = offsetof(struct mf_gwr_tcp, rules), .sub = &gwr_tcp_rule,
	  .count_off = offsetof(struct mf_gwr_tcp, nrules),
	  .item_size = sizeof(struct mf_gwr_tcp_rule),
	  .max_items = MF_GWR_RULES_MAX },
};

static const struct sch_object gwr_tcp = {
	.name = "MeshGatewayRoute tcp",
	.fields = gwr_tcp_fields,
	.nfields = SCH_NFIELDS(gwr_tcp_fields),
};

enum { GWR_C_HTTP, GWR_C_TCP };

static const struct sch_field gwr_conf_fields[] = {
	[GWR_C_HTTP] = {
		.name = "http", .type = SCH_OBJECT,
		.off = offsetof(struct mf_gwr_conf, http), .sub = &gwr_http },
	[GWR_C_TCP] = {
		.name = "tcp", .type = SCH_OBJECT,
		.off = offsetof(struct mf_gwr_conf, tcp), .sub = &gwr_tcp },
};

/* A route serves one listener protocol. */
static const char *gwr_conf_check(const void *obj)
{
	return sch_has(obj, GWR_C_HTTP) == sch_has(obj, GWR_C_TCP) ?
		       "needs exactly one of http and tcp" : NULL;
}

static const struct sch_object gwr_conf = {
	.name = "MeshGatewayRoute conf",
	.fields = gwr_conf_fields,
	.nfields = SCH_NFIELDS(gwr_conf_fields),
	.check = gwr_conf_check,
};

const struct kind_desc kind_mesh_gateway_route = {
	.name = "MeshGatewayRoute",
	.plural = "meshgatewayroutes",
	.form = KIND_FORM_SELECTORS,
	.val_size = sizeof(struct mf_gateway_route),
	.conf_off = offsetof(struct mf_gateway_route, conf),
	.conf = &gwr_conf,
};
