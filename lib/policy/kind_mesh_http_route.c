// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHTTPRoute: how HTTP requests to a destination are matched, changed
 * and split between backends.  One record per rule of every to[] entry;
 * hdr.entry and hdr.rule say which.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: MeshHTTPRoute
 *   metadata: {name: web-to-backend}
 *   spec:
 *     targetRef: {kind: MeshService, name: web}
 *     to:
 *       - targetRef: {kind: MeshService, name: backend}
 *         rules:
 *           - matches:
 *               - path: {type: PathPrefix, value: /api}
 *                 method: GET
 *                 headers:
 *                   - {type: Exact, name: x-canary, value: "on"}
 *                   - {type: Present, name: x-trace}
 *                 queryParams:
 *                   - {type: RegularExpression, name: v, value: "^[0-9]+$"}
 *             default:
 *               filters:
 *                 - type: RequestHeaderModifier
 *                   requestHeaderModifier:
 *                     set: [{name: x-route, value: api}]
 *                     add: [{name: x-via, value: mesh}]
 *                     remove: [x-debug]
 *                 - type: URLRewrite
 *                   urlRewrite:
 *                     hostname: backend.internal
 *                     path: {type: ReplacePrefixMatch,
 *                            replacePrefixMatch: /v2/api}
 *               backendRefs:
 *                 - {kind: MeshServiceSubset, name: backend,
 *                    tags: {version: v2}, weight: 90}
 *                 - {kind: MeshService, name: backend, port: 8080,
 *                    weight: 10}
 *           - matches: [{path: {type: Exact, value: /old}}]
 *             default:
 *               filters:
 *                 - type: RequestRedirect
 *                   requestRedirect:
 *                     scheme: https
 *                     hostname: web.example.com
 *                     path: {type: ReplaceFullPath, replaceFullPath: /new}
 *                     port: 443
 *                     statusCode: 301
 *                 - type: RequestMirror
 *                   requestMirror:
 *                     percentage: 12.5
 *                     backendRef: {kind: MeshService, name: shadow}
 *
 * Values follow Kuma (and the Gateway API it borrows from): paths start
 * with '/', a PathPrefix has no trailing '/' (a prefix matches whole path
 * segments), a rule has at least one match, a backendRef's weight defaults
 * to 1 and a MeshMultiZoneService backendRef names its port.  Regular
 * expressions are checked with POSIX extended syntax, the closest the C
 * library has to Envoy's RE2.  A rule may both redirect and rewrite (Kuma
 * takes it), each at most once.  Redirect and rewrite hostnames are DNS
 * names, never IP addresses; a header modifier names each header once
 * across set, add and remove.
 *
 * A policy may have no entry at all (to: []), to override others, and an
 * entry may have no rules (`rules: []`: Kuma's schema wants the field).
 *
 * Limits: a rule has up to 8 matches and 8 filters; a match up to 16
 * headers and 16 queryParams; a header modifier up to 16 set, 16 add and
 * 16 remove; every path, header or query name and value, and redirect or
 * rewrite hostname is up to 1024 bytes.  Those strings are kept out of
 * line (mf_strings), the record holding their ids, so the rule checks
 * that read them are check_strs() rules.
 *
 * Under a MeshGateway target (Kuma 2.14), an entry may name the hostnames
 * it serves, a URLRewrite may set the Host header to the backend's hostname
 * (hostToBackendHostname, not together with hostname), and a rule needs
 * backendRefs unless it redirects:
 *
 *   spec:
 *     targetRef: {kind: MeshGateway, name: edge}
 *     to:
 *       - targetRef: {kind: Mesh}
 *         hostnames: [shop.example.com, "*.shop.example.com"]
 *         rules:
 *           - matches: [{path: {type: PathPrefix, value: /}}]
 *             default:
 *               filters:
 *                 - type: URLRewrite
 *                   urlRewrite: {hostToBackendHostname: true}
 *               backendRefs: [{kind: MeshService, name: backend}]
 *
 * The backendRef schema is shared with MeshTCPRoute (kind_route_backend_ref
 * and kind_check_route_backends(), lib/kind_common.c).
 */
#include <stddef.h>
#include <string.h>

#include "kinds.h"

/* ---- string rules ------------------------------------------------------ */

/* An IPv4 address as Kuma's sloppy parser reads one: four dot-separated
 * decimals of 0..255, leading zeros allowed.  (An IPv6 address has a ':'
 * no DNS name has.) */
static bool route_ipv4_sloppy(const char *s)
{
	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		const char *d = s;

		for (; *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (unsigned)(*s - '0')) > 255)
				return false;
		if (s == d || *s != (part < 3 ? '.' : '\0'))
			return false;
		s++;
	}
	return true;
}

/* Kuma's PreciseHostname: a name, which an address is not. */
static const char *route_hostname_check(const char *s)
{
	if (route_ipv4_sloppy(s))
		return "cannot be an IP address";
	return kind_dns_name_ok(s) ? NULL :
	       "must be a DNS name: labels of a-z, 0-9 and '-' separated "
	       "by dots";
}

static const char *route_scheme_check(const char *s)
{
	return strcmp(s, "http") && strcmp(s, "https") ?
		       "must be http or https" : NULL;
}

/* ---- matches ----------------------------------------------------------- */

static const char *const route_path_types[] = {
	"Exact", "PathPrefix", "RegularExpression", NULL,
};

/* Index + 1 == enum mf_value_match. */
static const char *const route_value_types[] = {
	"Exact", "Present", "RegularExpression", "Absent", "Prefix", NULL,
};

static const struct sch_field route_path_fields[] = {
	SCH_F_ENUM("type", mf_route_path, type, route_path_types,
		   SCH_REQUIRED),
	SCH_F_STRREF("value", mf_route_path, value, SCH_REQUIRED),
};

/* The rules on value depend on type, so they are the object's. */
static const char *route_path_check(const void *obj,
				    const struct sch_ids *ids)
{
	const struct mf_route_path *p = obj;
	size_t n = 0;
	const char *v = sch_str(ids, p->value, &n);

	if (!v)		/* required: said already */
		return NULL;
	switch (p->type) {
	case MF_PATH_EXACT:
		if (v[0] != '/')
			return "value must start with '/'";
		break;
	case MF_PATH_PREFIX:
		if (v[0] != '/')
			return "value must start with '/'";
		if (n > 1 && v[n - 1] == '/')
			return "a PathPrefix value must not end with '/' "
			       "(except \"/\")";
		break;
	case MF_PATH_REGEX:
		if (!kind_regex_ok(v))
			return "value is not a valid regular expression";
		break;
	}
	return NULL;
}
SCH_OBJECT_DEF(route_path, "MeshHTTPRoute path match",
	       .check_strs = route_path_check);

enum { ROUTE_KV_TYPE, ROUTE_KV_NAME, ROUTE_KV_VALUE };

/* Headers and query parameters share the struct; query parameters need a
 * type and a value. */
#define ROUTE_KV_FIELDS(type_required)                                        \
	[ROUTE_KV_TYPE] = SCH_F_ENUM("type", mf_route_kv_match, type,         \
				     route_value_types,                       \
				     .required = type_required),              \
	[ROUTE_KV_NAME] = SCH_F_STRREF("name", mf_route_kv_match, name,       \
				       SCH_REQUIRED,                          \
				       .check = kind_check_header_name),      \
	[ROUTE_KV_VALUE] = SCH_F_STRREF("value", mf_route_kv_match, value,    \
					.required = type_required)

static const struct sch_field route_header_fields[] = {
	ROUTE_KV_FIELDS(false),
};

static const struct sch_field route_query_fields[] = {
	ROUTE_KV_FIELDS(true),
};

/* Whether the value of match @m, a regular expression, compiles. */
static bool route_kv_regex_ok(const struct mf_route_kv_match *m,
			      const struct sch_ids *ids)
{
	size_t n;
	const char *v = sch_str(ids, m->value, &n);

	return !v || kind_regex_ok(v);
}

/* Kuma's header match type defaults to Exact; Present and Absent test the
 * name only, every other type compares a value. */
static const char *route_header_check(const void *obj,
				      const struct sch_ids *ids)
{
	const struct mf_route_kv_match *m = obj;
	uint8_t type = sch_has(m, ROUTE_KV_TYPE) ? m->type : MF_MATCH_EXACT;
	bool has_value = sch_has(m, ROUTE_KV_VALUE);

	if (type == MF_MATCH_PRESENT || type == MF_MATCH_ABSENT) {
		if (has_value)
			return "type Present and Absent take no value";
		return NULL;
	}
	if (!has_value)
		return "value is required for type Exact, RegularExpression "
		       "and Prefix";
	if (type == MF_MATCH_REGEX && !route_kv_regex_ok(m, ids))
		return "value is not a valid regular expression";
	return NULL;
}

static const char *route_query_check(const void *obj,
				     const struct sch_ids *ids)
{
	const struct mf_route_kv_match *m = obj;

	if (!sch_has(m, ROUTE_KV_TYPE) || !sch_has(m, ROUTE_KV_VALUE))
		return NULL;	/* reported as missing */
	if (m->type != MF_MATCH_EXACT && m->type != MF_MATCH_REGEX)
		return "type must be Exact or RegularExpression";
	if (m->type == MF_MATCH_REGEX && !route_kv_regex_ok(m, ids))
		return "value is not a valid regular expression";
	return NULL;
}
SCH_OBJECT_DEF(route_header, "MeshHTTPRoute header match",
	       .check_strs = route_header_check);
SCH_OBJECT_DEF(route_query, "MeshHTTPRoute query match",
	       .check_strs = route_query_check);

enum { ROUTE_MATCH_PATH, ROUTE_MATCH_METHOD, ROUTE_MATCH_HEADERS,
       ROUTE_MATCH_QUERY };

static const struct sch_field route_match_fields[] = {
	[ROUTE_MATCH_PATH] = SCH_F_OBJECT("path", mf_route_match, path,
					  &route_path),
	[ROUTE_MATCH_METHOD] = SCH_F_ENUM("method", mf_route_match, method,
					  kind_http_methods),
	[ROUTE_MATCH_HEADERS] = SCH_F_LIST("headers", mf_route_match, headers,
					   &route_header),
	[ROUTE_MATCH_QUERY] = SCH_F_LIST("queryParams", mf_route_match,
					 query_params, &route_query),
};
/* Kuma: a match names a query parameter once (the same name is the
 * same mf_strings id). */
static const char *route_match_query_dup_check(const void *obj,
					       unsigned *field)
{
	const struct mf_route_match *m = obj;
	unsigned n = m->nquery_params < MF_ROUTE_KV_MAX ? m->nquery_params :
							  MF_ROUTE_KV_MAX;

	*field = ROUTE_MATCH_QUERY;
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = 0; j < i; j++)
			if (m->query_params[i].name == m->query_params[j].name)
				return "names a query parameter twice";
	return NULL;
}
SCH_OBJECT_DEF(route_match, "MeshHTTPRoute match",
	       .check_field = route_match_query_dup_check);

/* ---- filters ----------------------------------------------------------- */

static const struct sch_field route_header_value_fields[] = {
	SCH_F_STRREF("name", mf_header_value, name, SCH_REQUIRED,
		     .check = kind_check_header_name),
	SCH_F_STRREF("value", mf_header_value, value, SCH_REQUIRED),
};
SCH_OBJECT_DEF(route_header_value, "header");

static const struct sch_field route_header_names_fields[] = {
	SCH_ITEM(SCH_STRREF, 0, .check = kind_check_header_name),
};
SCH_OBJECT_DEF(route_header_names, "header name", .scalar = true);

enum { ROUTE_HM_SET, ROUTE_HM_ADD, ROUTE_HM_REMOVE };

static const struct sch_field route_header_mod_fields[] = {
	/* ROUTE_HM_SET and ROUTE_HM_ADD */
	KIND_HEADER_SET_ADD(&route_header_value),
	[ROUTE_HM_REMOVE] = SCH_F_LIST("remove", mf_header_mod, remove,
				       &route_header_names),
};
SCH_CHECK_NOT_EMPTY(route_header_mod_check, "needs set, add or remove")

/* The name of item @i of the header modifier's lists taken in the order
 * set, add, remove (its mf_strings id: the same name is the same id);
 * its list in *@list. */
static uint32_t route_header_mod_name(const struct mf_header_mod *m,
				      unsigned i, unsigned *list)
{
	unsigned nset = m->nset < MF_HEADERS_MAX ? m->nset : MF_HEADERS_MAX;
	unsigned nadd = m->nadd < MF_HEADERS_MAX ? m->nadd : MF_HEADERS_MAX;

	if (i < nset) {
		*list = ROUTE_HM_SET;
		return m->set[i].name;
	}
	i -= nset;
	if (i < nadd) {
		*list = ROUTE_HM_ADD;
		return m->add[i].name;
	}
	*list = ROUTE_HM_REMOVE;
	return m->remove[i - nadd];
}

/* Kuma: a header is set, added or removed, once, by one modifier: the
 * list holding its second mention is wrong. */
static const char *route_header_mod_dup_check(const void *obj,
					      unsigned *field)
{
	const struct mf_header_mod *m = obj;
	unsigned n = (m->nset < MF_HEADERS_MAX ? m->nset : MF_HEADERS_MAX) +
		     (m->nadd < MF_HEADERS_MAX ? m->nadd : MF_HEADERS_MAX) +
		     (m->nremove < MF_HEADERS_MAX ? m->nremove :
						    MF_HEADERS_MAX);
	unsigned list;

	for (unsigned i = 1; i < n; i++) {
		uint32_t name = route_header_mod_name(m, i, field);

		for (unsigned j = 0; j < i; j++)
			if (route_header_mod_name(m, j, &list) == name)
				return "names a header that set, add or "
				       "remove names already";
	}
	return NULL;
}
SCH_OBJECT_DEF(route_header_mod, "header modifier",
	       .check = route_header_mod_check,
	       .check_field = route_header_mod_dup_check);

static const char *const route_rewrite_types[] = {
	"ReplaceFullPath", "ReplacePrefixMatch", NULL,
};

enum { ROUTE_RW_TYPE, ROUTE_RW_FULL, ROUTE_RW_PREFIX };

static const struct sch_field route_path_rewrite_fields[] = {
	[ROUTE_RW_TYPE] = SCH_F_ENUM("type", mf_route_path_rewrite, type,
				     route_rewrite_types, SCH_REQUIRED),
	[ROUTE_RW_FULL] = SCH_F_STRREF("replaceFullPath",
				       mf_route_path_rewrite,
				       replace_full_path,
				       .check = kind_check_abs_path),
	[ROUTE_RW_PREFIX] = SCH_F_STRREF("replacePrefixMatch",
					 mf_route_path_rewrite,
					 replace_prefix_match,
					 .check = kind_check_abs_path),
};

/* The value field is the one `type` names, and only that one. */
static const char *route_path_rewrite_check(const void *obj)
{
	const struct mf_route_path_rewrite *p = obj;
	uint32_t want = p->type == MF_REWRITE_FULL_PATH ?
				1u << ROUTE_RW_FULL : 1u << ROUTE_RW_PREFIX;
	uint32_t got = sch_present(p) &
		       (1u << ROUTE_RW_FULL | 1u << ROUTE_RW_PREFIX);

	if (got == want)
		return NULL;
	return p->type == MF_REWRITE_FULL_PATH ?
		       "type ReplaceFullPath needs replaceFullPath and only "
		       "that" :
		       "type ReplacePrefixMatch needs replacePrefixMatch and "
		       "only that";
}
SCH_OBJECT_DEF(route_path_rewrite, "path rewrite",
	       .check = route_path_rewrite_check);

enum { ROUTE_RD_SCHEME, ROUTE_RD_HOSTNAME, ROUTE_RD_PATH, ROUTE_RD_PORT,
       ROUTE_RD_STATUS };

static const struct sch_field route_redirect_fields[] = {
	[ROUTE_RD_SCHEME] = SCH_F_STRING("scheme", mf_route_redirect, scheme,
					 .check = route_scheme_check),
	[ROUTE_RD_HOSTNAME] = SCH_F_STRREF("hostname", mf_route_redirect,
					   hostname,
					   .check = route_hostname_check),
	[ROUTE_RD_PATH] = SCH_F_OBJECT("path", mf_route_redirect, path,
				       &route_path_rewrite),
	[ROUTE_RD_PORT] = SCH_F_PORT("port", mf_route_redirect, port),
	[ROUTE_RD_STATUS] = SCH_F_INT("statusCode", mf_route_redirect,
				      status_code, 301, 308),
};

/* The redirect codes Envoy (and the Gateway API) can send. */
static const char *route_redirect_check(const void *obj)
{
	const struct mf_route_redirect *r = obj;

	if (sch_has(r, ROUTE_RD_STATUS) && r->status_code != 301 &&
	    r->status_code != 302 && r->status_code != 303 &&
	    r->status_code != 307 && r->status_code != 308)
		return "statusCode must be 301, 302, 303, 307 or 308";
	return NULL;
}
SCH_OBJECT_DEF(route_redirect, "requestRedirect",
	       .check = route_redirect_check);

enum { ROUTE_UR_HOSTNAME, ROUTE_UR_PATH, ROUTE_UR_HOST_TO_BACKEND };

static const struct sch_field route_rewrite_fields[] = {
	[ROUTE_UR_HOSTNAME] = SCH_F_STRREF("hostname", mf_route_rewrite,
					   hostname,
					   .check = route_hostname_check),
	[ROUTE_UR_PATH] = SCH_F_OBJECT("path", mf_route_rewrite, path,
				       &route_path_rewrite),
	[ROUTE_UR_HOST_TO_BACKEND] = SCH_F_BOOL("hostToBackendHostname",
						mf_route_rewrite,
						host_to_backend_hostname),
};

/* Both say what the Host header becomes. */
static const char *route_rewrite_check(const void *obj, unsigned *field)
{
	const struct mf_route_rewrite *r = obj;

	*field = ROUTE_UR_HOST_TO_BACKEND;
	if (r->host_to_backend_hostname && sch_has(r, ROUTE_UR_HOSTNAME))
		return "cannot be true together with hostname";
	return NULL;
}
SCH_OBJECT_DEF(route_rewrite, "urlRewrite",
	       .check_field = route_rewrite_check);

static const struct sch_field route_mirror_fields[] = {
	SCH_F_PERCENT("percentage", mf_route_mirror, percentage),
	SCH_F_OBJECT("backendRef", mf_route_mirror, backend_ref,
		     &kind_route_backend_ref, SCH_REQUIRED),
};
SCH_OBJECT_DEF(route_mirror, "requestMirror");

static const char *const route_filter_types[] = {
	"RequestHeaderModifier", "ResponseHeaderModifier", "RequestRedirect",
	"URLRewrite", "RequestMirror", NULL,
};

/* Field i (1..5) is the object of filter type i (enum mf_filter_type). */
static const struct sch_field route_filter_fields[] = {
	SCH_F_ENUM("type", mf_route_filter, type, route_filter_types,
		   SCH_REQUIRED),
	SCH_F_OBJECT("requestHeaderModifier", mf_route_filter,
		     request_header_modifier, &route_header_mod),
	SCH_F_OBJECT("responseHeaderModifier", mf_route_filter,
		     response_header_modifier, &route_header_mod),
	SCH_F_OBJECT("requestRedirect", mf_route_filter, request_redirect,
		     &route_redirect),
	SCH_F_OBJECT("urlRewrite", mf_route_filter, url_rewrite,
		     &route_rewrite),
	SCH_F_OBJECT("requestMirror", mf_route_filter, request_mirror,
		     &route_mirror),
};

/* The filter objects share one union, so exactly the one `type` names may
 * be written: a second would have overwritten the first. */
static const char *route_filter_check(const void *obj)
{
	static const char *const want[] = {
		[MF_FILTER_REQUEST_HEADER_MODIFIER] =
			"type RequestHeaderModifier needs "
			"requestHeaderModifier and no other filter object",
		[MF_FILTER_RESPONSE_HEADER_MODIFIER] =
			"type ResponseHeaderModifier needs "
			"responseHeaderModifier and no other filter object",
		[MF_FILTER_REQUEST_REDIRECT] =
			"type RequestRedirect needs requestRedirect and no "
			"other filter object",
		[MF_FILTER_URL_REWRITE] =
			"type URLRewrite needs urlRewrite and no other filter "
			"object",
		[MF_FILTER_REQUEST_MIRROR] =
			"type RequestMirror needs requestMirror and no other "
			"filter object",
	};
	const struct mf_route_filter *f = obj;

	/* A missing type is the required field's message already. */
	if (f->type < MF_FILTER_REQUEST_HEADER_MODIFIER ||
	    f->type > MF_FILTER_REQUEST_MIRROR)
		return NULL;
	if ((sch_present(f) & ~1u) != 1u << f->type)
		return want[f->type];
	return NULL;
}
SCH_OBJECT_DEF(route_filter, "filter", .check = route_filter_check);

/* ---- rule -------------------------------------------------------------- */

enum { ROUTE_DEF_FILTERS, ROUTE_DEF_BACKENDS };

static const struct sch_field route_default_fields[] = {
	[ROUTE_DEF_FILTERS] = SCH_F_LIST("filters", mf_route_default, filters,
					 &route_filter),
	[ROUTE_DEF_BACKENDS] = SCH_F_LIST("backendRefs", mf_route_default,
					  backend_refs,
					  &kind_route_backend_ref),
};

static const char *route_default_check(const void *obj)
{
	const struct mf_route_default *d = obj;
	unsigned redirect = 0, rewrite = 0;

	for (unsigned i = 0; i < d->nfilters; i++) {
		redirect += d->filters[i].type == MF_FILTER_REQUEST_REDIRECT;
		rewrite += d->filters[i].type == MF_FILTER_URL_REWRITE;
	}
	/* A second redirect or rewrite would contradict the first. */
	if (redirect > 1 || rewrite > 1)
		return "filters RequestRedirect and URLRewrite may appear "
		       "once each";
	if (sch_has(d, ROUTE_DEF_BACKENDS))
		return kind_check_route_backends(d->backend_refs,
						 d->nbackend_refs);
	return NULL;
}
SCH_OBJECT_DEF(route_default, "MeshHTTPRoute default",
	       .check = route_default_check);

enum { ROUTE_RULE_MATCHES, ROUTE_RULE_DEFAULT };

static const struct sch_field route_rule_fields[] = {
	[ROUTE_RULE_MATCHES] = SCH_F_LIST("matches", mf_route_rule, matches,
					  &route_match, SCH_REQUIRED),
	[ROUTE_RULE_DEFAULT] = SCH_F_OBJECT("default", mf_route_rule, def,
					    &route_default, SCH_REQUIRED),
};

/*
 * The record a rule belongs to.  pdoc.c reads a rule in place, in its
 * record, after it has written the header's targetRefs, so the rules Kuma
 * ties to the policy's targetRef can read it there.
 */
static const struct mf_http_route *route_rec_of_rule(const void *rule)
{
	return (const void *)((const char *)rule -
			      offsetof(struct mf_http_route, rule));
}

static bool route_filters_replace_prefix(const struct mf_route_default *d)
{
	for (unsigned i = 0; i < d->nfilters; i++) {
		const struct mf_route_filter *f = &d->filters[i];
		const struct mf_route_path_rewrite *p = NULL;

		if (f->type == MF_FILTER_REQUEST_REDIRECT &&
		    sch_has(&f->request_redirect, ROUTE_RD_PATH))
			p = &f->request_redirect.path;
		else if (f->type == MF_FILTER_URL_REWRITE &&
			 sch_has(&f->url_rewrite, ROUTE_UR_PATH))
			p = &f->url_rewrite.path;
		if (p && p->type == MF_REWRITE_PREFIX)
			return true;
	}
	return false;
}

/* ReplacePrefixMatch replaces the prefix a match matched, so every match
 * of the rule has to be a PathPrefix one (Kuma and the Gateway API). */
static const char *route_rule_check(const void *obj)
{
	const struct mf_route_rule *r = obj;

	if (!route_filters_replace_prefix(&r->def))
		return NULL;
	for (unsigned i = 0; i < r->nmatches; i++) {
		const struct mf_route_match *m = &r->matches[i];

		if (!sch_has(m, ROUTE_MATCH_PATH) ||
		    m->path.type != MF_PATH_PREFIX)
			return "ReplacePrefixMatch needs every match to have "
			       "a PathPrefix path";
	}
	return NULL;
}
static bool route_filters_have(const struct mf_route_default *d,
			       uint8_t type)
{
	for (unsigned i = 0; i < d->nfilters; i++)
		if (d->filters[i].type == type)
			return true;
	return false;
}

static bool route_filters_host_to_backend(const struct mf_route_default *d)
{
	for (unsigned i = 0; i < d->nfilters; i++)
		if (d->filters[i].type == MF_FILTER_URL_REWRITE &&
		    d->filters[i].url_rewrite.host_to_backend_hostname)
			return true;
	return false;
}

/* The rules that depend on the policy's targetRef: a builtin gateway
 * (Kuma 2.14) knows its backends' hostnames and answers every request it
 * routes, a sidecar does neither. */
static const char *route_rule_target_check(const void *obj, unsigned *field)
{
	const struct mf_route_rule *r = obj;
	bool gw = route_rec_of_rule(r)->hdr.target.kind == MF_REF_MESH_GATEWAY;

	*field = ROUTE_RULE_MATCHES;
	if (!r->nmatches)
		return "must have at least one entry";
	*field = ROUTE_RULE_DEFAULT;
	if (!gw && route_filters_host_to_backend(&r->def))
		return "a URLRewrite with hostToBackendHostname needs a "
		       "MeshGateway targetRef";
	if (gw && !r->def.nbackend_refs &&
	    !route_filters_have(&r->def, MF_FILTER_REQUEST_REDIRECT))
		return "needs backendRefs under a MeshGateway targetRef, "
		       "unless a RequestRedirect filter answers";
	return NULL;
}
SCH_OBJECT_DEF(route_rule, "MeshHTTPRoute rule", .check = route_rule_check,
	       .check_field = route_rule_target_check);

/* ---- to[] entry --------------------------------------------------------- */

static const struct sch_field route_hostnames_fields[] = {
	SCH_ITEM(SCH_STRING, MF_ROUTE_HOSTNAME_MAX,
		 .check = kind_check_no_space),
};
SCH_OBJECT_DEF(route_hostnames, "hostname", .scalar = true);

enum { ROUTE_ENTRY_HOSTNAMES };

static const struct sch_field route_entry_fields[] = {
	[ROUTE_ENTRY_HOSTNAMES] = SCH_F_LIST("hostnames", mf_route_entry,
					     hostnames, &route_hostnames),
};

/* A sidecar's route has one destination, whatever the Host header says;
 * a builtin gateway serves several hostnames on one listener. */
static const char *route_entry_check(const void *obj, unsigned *field)
{
	const struct mf_http_route *rec = (const void *)(
		(const char *)obj - offsetof(struct mf_http_route, entry));

	*field = ROUTE_ENTRY_HOSTNAMES;
	if (sch_has(obj, ROUTE_ENTRY_HOSTNAMES) &&
	    rec->hdr.target.kind != MF_REF_MESH_GATEWAY)
		return "needs a MeshGateway targetRef";
	return NULL;
}
SCH_OBJECT_DEF(route_entry, "MeshHTTPRoute to[] entry",
	       .check_field = route_entry_check);

const struct kind_desc kind_mesh_http_route = {
	.name = "MeshHTTPRoute", .plural = "meshhttproutes",
	.form = KIND_FORM_ROUTE,
	.sections = KIND_SEC_TO | KIND_SEC_EMPTY_OK | KIND_SEC_ENTRY_NO_RULES,
	.target_kinds = KIND_TARGETS_GATEWAY,
	/* A sidecar routes to one destination at a time; a MeshGateway
	 * routes everything (Mesh). */
	.to_kinds = KIND_DESTINATIONS,
	.gw_tops = KIND_REF(MF_REF_MESH_GATEWAY),
	.to_kinds_gw = KIND_REF(MF_REF_MESH),
	KIND_RECORD(mf_http_route, rule, &route_rule),
	.entry = &route_entry,
	.entry_off = offsetof(struct mf_http_route, entry),
};

/* The room abi_policy.h gives a rule: what the map's memory per record is
 * reckoned from. */
_Static_assert(sizeof(struct mf_http_route) <= 10 * 1024,
	       "a MeshHTTPRoute record stays within 10 KiB");
