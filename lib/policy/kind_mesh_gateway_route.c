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
 *                 query_parameters:
 *                   - {match: REGEX, name: v, value: "^[0-9]+$"}
 *             filters:
 *               - rewrite: {host_to_backend_hostname: true}
 *               - request_header:
 *                   set: [{name: x-route, value: api}]
 *                   remove: [x-debug]
 *             backends:
 *               - {destination: {kuma.io/service: api, version: v2},
 *                  weight: 90}
 *               - {destination: {kuma.io/service: api, version: v1},
 *                  weight: 10}
 *           - matches: [{path: {match: EXACT, value: /old}}]
 *             filters:
 *               - redirect: {scheme: https, hostname: foo.example.com,
 *                            status_code: 301,
 *                            path: {replace_full: /new}}
 *
 *   or, for a TCP listener:
 *       tcp:
 *         rules:
 *           - backends: [{destination: {kuma.io/service: db}, weight: 1}]
 *
 * As in Kuma: a rule has at least one match, and a match at least one of
 * path, method, headers and query parameters; path match defaults to
 * EXACT and, for EXACT and PREFIX, the value is a path starting with '/';
 * header match is EXACT (default), REGEX, ABSENT or PRESENT, the last two
 * without a value; query parameter match EXACT (default) or REGEX, with a
 * value.  Filters are request_header and response_header (set, add,
 * remove), mirror (a backend and the percentage of requests it gets),
 * redirect (a status code of 301, 302, 303, 307 or 308, the ones the
 * proxy sends) and rewrite (replace_full or replace_prefix_match, the
 * latter only with a PREFIX path match; host_to_backend_hostname, which
 * leaves the host header to the backend, so request_header may not set
 * it).  A redirect answers the request: it is the rule's only filter and
 * the rule has no backends; any other rule has backends.  A backend's
 * weight defaults to 1 and some backend of a rule must get traffic.
 * Regular expressions are checked with POSIX extended syntax.  Proto
 * field names and their JSON names are both accepted, as Kuma's proto
 * JSON takes them (query_parameters or queryParameters...).
 *
 * Also accepted as input, and printed back in the form above: the
 * shorthand the Kuma-API-Forge article writes, `http` as the list of
 * rules itself, each with `match` for matches and `destination` for
 * backends:
 *
 *     conf:
 *       http:
 *         - match: [{path: {match: PREFIX, value: /myapi}}]
 *           destination:
 *             - {weight: 100, destination: {kuma.io/service: api}}
 *
 * Its problems are reported at the canonical paths
 * (spec.conf.http.rules[0].matches[0]), at its own positions.
 *
 * One record holds the whole route (abi_policy.h): up to 16 rules of 8
 * matches (8 headers and 8 query parameters each) and 8 filters (a header
 * filter sets, adds and removes up to 8 headers each), 8 hostnames.
 * Paths, header and query names and values are mf_strings ids.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "kinds.h"
#include "ytree.h"

#define GWR_WEIGHT_MAX 1000000

/* The two bits of a field written in either spelling. */
#define GWR_BITS(a, b) (1u << (a) | 1u << (b))

/* NULL, or @msg when both spellings (bits @a and @b) of a field of @obj
 * are written: they share the member, so only one may be. */
static const char *gwr_one_spelling(const void *obj, unsigned a, unsigned b,
				    const char *msg)
{
	return (sch_present(obj) & GWR_BITS(a, b)) == GWR_BITS(a, b) ? msg :
								       NULL;
}

/* A DNS name whose first label may be "*". */
static const char *gwr_hostname_check(const char *s)
{
	if (!strncmp(s, "*.", 2))
		s += 2;
	return kind_dns_name_ok(s) ? NULL :
	       "must be a DNS name (labels of a-z, 0-9 and '-'), optionally "
	       "starting with \"*.\"";
}

/* ---- matches ----------------------------------------------------------- */

/* Index + 1 == enum mf_gwr_match. */
static const char *const gwr_path_matches[] = {
	"EXACT", "PREFIX", "REGEX", NULL,
};

static const char *const gwr_header_matches[] = {
	"EXACT", "PREFIX", "REGEX", "ABSENT", "PRESENT", NULL,
};

enum { GWR_P_MATCH, GWR_P_VALUE };

static const struct sch_field gwr_path_fields[] = {
	[GWR_P_MATCH] = SCH_F_ENUM("match", mf_gwr_path, match,
				   gwr_path_matches),
	[GWR_P_VALUE] = SCH_F_STRREF("value", mf_gwr_path, value,
				     SCH_REQUIRED),
};

static const char *gwr_path_check(const void *obj, const struct sch_ids *ids)
{
	const struct mf_gwr_path *p = obj;
	size_t n;
	const char *v = sch_str(ids, p->value, &n);

	if (!v)
		return NULL;	/* reported as missing */
	if (p->match == MF_GWR_REGEX)
		return kind_regex_ok(v) ?
			       NULL :
			       "value is not a valid regular expression";
	return v[0] == '/' ? NULL : "value must start with '/'";
}
SCH_OBJECT_DEF(gwr_path, "MeshGatewayRoute path match",
	       .check_strs = gwr_path_check);

enum { GWR_H_MATCH, GWR_H_NAME, GWR_H_VALUE };

static const struct sch_field gwr_header_fields[] = {
	[GWR_H_MATCH] = SCH_F_ENUM("match", mf_gwr_header, match,
				   gwr_header_matches),
	[GWR_H_NAME] = SCH_F_STRREF("name", mf_gwr_header, name, SCH_REQUIRED,
				    .check = kind_check_header_name),
	[GWR_H_VALUE] = SCH_F_STRREF("value", mf_gwr_header, value),
};

/* Whether the value of match @h, a regular expression, compiles (one
 * that does not resolve is reported as missing). */
static bool gwr_regex_ok(const struct mf_gwr_header *h,
			 const struct sch_ids *ids)
{
	size_t n;
	const char *v = sch_str(ids, h->value, &n);

	return !v || kind_regex_ok(v);
}

static const char *gwr_header_check(const void *obj,
				    const struct sch_ids *ids)
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
	if (match == MF_GWR_REGEX && !gwr_regex_ok(h, ids))
		return "value is not a valid regular expression";
	return NULL;
}
SCH_OBJECT_DEF(gwr_header, "MeshGatewayRoute header match",
	       .check_strs = gwr_header_check);

/* Query parameters share the header match struct; their names are not
 * header names (anything but control characters), and every match
 * compares a value. */
static const struct sch_field gwr_query_fields[] = {
	[GWR_H_MATCH] = SCH_F_ENUM("match", mf_gwr_header, match,
				   gwr_header_matches),
	[GWR_H_NAME] = SCH_F_STRREF("name", mf_gwr_header, name, SCH_REQUIRED,
				    .check = kind_check_header_value),
	[GWR_H_VALUE] = SCH_F_STRREF("value", mf_gwr_header, value,
				     SCH_REQUIRED),
};

static const char *gwr_query_check(const void *obj, const struct sch_ids *ids)
{
	const struct mf_gwr_header *q = obj;

	if (sch_has(q, GWR_H_MATCH) && q->match != MF_GWR_EXACT &&
	    q->match != MF_GWR_REGEX)
		return "match must be EXACT or REGEX";
	if (q->match == MF_GWR_REGEX && !gwr_regex_ok(q, ids))
		return "value is not a valid regular expression";
	return NULL;
}
SCH_OBJECT_DEF(gwr_query, "MeshGatewayRoute query parameter match",
	       .check_strs = gwr_query_check);

enum { GWR_M_PATH, GWR_M_METHOD, GWR_M_HEADERS, GWR_M_QUERY,
       GWR_M_QUERY_JSON };

static const struct sch_field gwr_match_fields[] = {
	[GWR_M_PATH] = SCH_F_OBJECT("path", mf_gwr_match_s, path, &gwr_path),
	[GWR_M_METHOD] = SCH_F_ENUM("method", mf_gwr_match_s, method,
				    kind_http_methods),
	[GWR_M_HEADERS] = SCH_F_LIST("headers", mf_gwr_match_s, headers,
				     &gwr_header),
	[GWR_M_QUERY] = SCH_F_LIST("query_parameters", mf_gwr_match_s,
				   query_parameters, &gwr_query),
	[GWR_M_QUERY_JSON] = SCH_F_LIST("queryParameters", mf_gwr_match_s,
					query_parameters, &gwr_query),
};

/* Empty lists match nothing more than absent ones. */
static const char *gwr_match_check(const void *obj)
{
	const struct mf_gwr_match_s *m = obj;

	if (!sch_has(m, GWR_M_PATH) && !sch_has(m, GWR_M_METHOD) &&
	    !m->nheaders && !m->nquery_parameters)
		return "needs path, method, headers or query_parameters";
	return gwr_one_spelling(m, GWR_M_QUERY, GWR_M_QUERY_JSON,
				"query_parameters and queryParameters are "
				"one field: write one");
}
SCH_OBJECT_DEF(gwr_match, "MeshGatewayRoute match", .check = gwr_match_check);

/* ---- backends ---------------------------------------------------------- */

enum { GWR_B_DESTINATION, GWR_B_WEIGHT };

static const struct sch_field gwr_backend_fields[] = {
	[GWR_B_DESTINATION] = SCH_F_TAGS("destination", mf_gwr_backend,
					 destination, SCH_REQUIRED,
					 .check_tags = kind_check_tags_service),
	[GWR_B_WEIGHT] = SCH_F_INT("weight", mf_gwr_backend, weight, 0,
				   GWR_WEIGHT_MAX),
};
SCH_OBJECT_DEF(gwr_backend, "MeshGatewayRoute backend");

uint32_t kind_gwr_backend_weight(const struct mf_gwr_backend *b)
{
	return sch_has(b, GWR_B_WEIGHT) ? b->weight : 1;
}

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

/* ---- filters ----------------------------------------------------------- */

static const struct sch_field gwr_header_value_fields[] = {
	SCH_F_STRREF("name", mf_header_value, name, SCH_REQUIRED,
		     .check = kind_check_header_name),
	SCH_F_STRREF("value", mf_header_value, value, SCH_REQUIRED,
		     .check = kind_check_header_value),
};
SCH_OBJECT_DEF(gwr_header_value, "MeshGatewayRoute header");

static const struct sch_field gwr_header_names_fields[] = {
	SCH_ITEM(SCH_STRREF, 0, .check = kind_check_header_name),
};
SCH_OBJECT_DEF(gwr_header_names, "header name", .scalar = true);

static const struct sch_field gwr_header_filter_fields[] = {
	SCH_F_LIST("set", mf_gwr_header_filter, set, &gwr_header_value),
	SCH_F_LIST("add", mf_gwr_header_filter, add, &gwr_header_value),
	SCH_F_LIST("remove", mf_gwr_header_filter, remove, &gwr_header_names),
};

/* Kuma wants a request_header filter to change something; it does not
 * look into response_header ones. */
static const char *gwr_request_header_check(const void *obj)
{
	const struct mf_gwr_header_filter *f = obj;

	return f->nset || f->nadd || f->nremove ? NULL :
						  "needs set, add or remove";
}
static const struct sch_object gwr_request_header =
	SCH_OBJECT_INIT("MeshGatewayRoute request_header",
			gwr_header_filter_fields,
			.check = gwr_request_header_check);
static const struct sch_object gwr_response_header =
	SCH_OBJECT_INIT("MeshGatewayRoute response_header",
			gwr_header_filter_fields);

enum { GWR_MI_BACKEND, GWR_MI_PERCENTAGE };

static const struct sch_field gwr_mirror_fields[] = {
	[GWR_MI_BACKEND] = SCH_F_OBJECT("backend", mf_gwr_mirror, backend,
					&gwr_backend, SCH_REQUIRED),
	[GWR_MI_PERCENTAGE] = SCH_F_PERCENT("percentage", mf_gwr_mirror,
					    percentage, SCH_REQUIRED),
};
SCH_OBJECT_DEF(gwr_mirror, "MeshGatewayRoute mirror");

enum { GWR_RW_FULL, GWR_RW_FULL_JSON, GWR_RW_PREFIX, GWR_RW_PREFIX_JSON,
       GWR_RW_HOST, GWR_RW_HOST_JSON };

static const struct sch_field gwr_rewrite_fields[] = {
	[GWR_RW_FULL] = SCH_F_STRING("replace_full", mf_gwr_rewrite, path,
				     .check = kind_check_abs_path),
	[GWR_RW_FULL_JSON] = SCH_F_STRING("replaceFull", mf_gwr_rewrite, path,
					  .check = kind_check_abs_path),
	[GWR_RW_PREFIX] = SCH_F_STRING("replace_prefix_match", mf_gwr_rewrite,
				       path, .check = kind_check_abs_path),
	[GWR_RW_PREFIX_JSON] = SCH_F_STRING("replacePrefixMatch",
					    mf_gwr_rewrite, path,
					    .check = kind_check_abs_path),
	[GWR_RW_HOST] = SCH_F_BOOL("host_to_backend_hostname", mf_gwr_rewrite,
				   host_to_backend_hostname),
	[GWR_RW_HOST_JSON] = SCH_F_BOOL("hostToBackendHostname",
					mf_gwr_rewrite,
					host_to_backend_hostname),
};

enum kind_gwr_path kind_gwr_rewrite_path(const struct mf_gwr_rewrite *rw)
{
	uint32_t p = sch_present(rw);

	if (p & GWR_BITS(GWR_RW_FULL, GWR_RW_FULL_JSON))
		return KIND_GWR_PATH_FULL;
	if (p & GWR_BITS(GWR_RW_PREFIX, GWR_RW_PREFIX_JSON))
		return KIND_GWR_PATH_PREFIX;
	return KIND_GWR_PATH_NONE;
}

/* The path fields are a oneof sharing one member. */
static const char *gwr_rewrite_check(const void *obj)
{
	uint32_t path = sch_present(obj) &
			(GWR_BITS(GWR_RW_FULL, GWR_RW_FULL_JSON) |
			 GWR_BITS(GWR_RW_PREFIX, GWR_RW_PREFIX_JSON));

	if (path & (path - 1))
		return "needs at most one of replace_full and "
		       "replace_prefix_match";
	return gwr_one_spelling(obj, GWR_RW_HOST, GWR_RW_HOST_JSON,
				"host_to_backend_hostname and "
				"hostToBackendHostname are one field: write "
				"one");
}
SCH_OBJECT_DEF(gwr_rewrite, "MeshGatewayRoute rewrite",
	       .check = gwr_rewrite_check);

static bool gwr_rewrites_prefix(const struct mf_gwr_rewrite *r)
{
	return sch_present(r) & GWR_BITS(GWR_RW_PREFIX, GWR_RW_PREFIX_JSON);
}

static bool gwr_rewrites_host(const struct mf_gwr_rewrite *r)
{
	return (sch_present(r) & GWR_BITS(GWR_RW_HOST, GWR_RW_HOST_JSON)) &&
	       r->host_to_backend_hostname;
}

/* A URI scheme (RFC 3986): a letter, then letters, digits, '+', '-' and
 * '.'. */
static const char *gwr_scheme_check(const char *s)
{
	const char *p = s;

	if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')
		for (p++; *p; p++)
			if (!((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') &&
			    !(*p >= '0' && *p <= '9') && !strchr("+-.", *p))
				break;
	return p > s && !*p ? NULL :
	       "must be a URI scheme such as http or https";
}

static const char *gwr_dns_name_check(const char *s)
{
	return kind_dns_name_ok(s) ? NULL :
	       "must be a DNS name (labels of a-z, 0-9 and '-')";
}

enum { GWR_RD_SCHEME, GWR_RD_HOSTNAME, GWR_RD_PORT, GWR_RD_STATUS,
       GWR_RD_STATUS_JSON, GWR_RD_PATH };

static const struct sch_field gwr_redirect_fields[] = {
	[GWR_RD_SCHEME] = SCH_F_STRING("scheme", mf_gwr_redirect, scheme,
				       .check = gwr_scheme_check),
	[GWR_RD_HOSTNAME] = SCH_F_STRING("hostname", mf_gwr_redirect,
					 hostname,
					 .check = gwr_dns_name_check),
	[GWR_RD_PORT] = SCH_F_INT("port", mf_gwr_redirect, port, 0, 65535),
	[GWR_RD_STATUS] = SCH_F_INT("status_code", mf_gwr_redirect,
				    status_code, 301, 308),
	[GWR_RD_STATUS_JSON] = SCH_F_INT("statusCode", mf_gwr_redirect,
					 status_code, 301, 308),
	[GWR_RD_PATH] = SCH_F_OBJECT("path", mf_gwr_redirect, path,
				     &gwr_rewrite),
};

/* Kuma takes 300..308, its proxy configuration the codes the proxy can
 * send. */
static const char *gwr_redirect_check(const void *obj)
{
	const struct mf_gwr_redirect *r = obj;

	if (r->status_code >= 304 && r->status_code <= 306)
		return "status_code must be 301, 302, 303, 307 or 308";
	return gwr_one_spelling(obj, GWR_RD_STATUS, GWR_RD_STATUS_JSON,
				"status_code and statusCode are one field: "
				"write one");
}

static const char *gwr_redirect_status_check(const void *obj,
					     unsigned *field)
{
	*field = GWR_RD_STATUS;
	return sch_present(obj) & GWR_BITS(GWR_RD_STATUS, GWR_RD_STATUS_JSON) ?
		       NULL :
		       "is required";
}
SCH_OBJECT_DEF(gwr_redirect, "MeshGatewayRoute redirect",
	       .check = gwr_redirect_check,
	       .check_field = gwr_redirect_status_check);

enum { GWR_F_REQ_HEADER, GWR_F_REQ_HEADER_JSON, GWR_F_RESP_HEADER,
       GWR_F_RESP_HEADER_JSON, GWR_F_MIRROR, GWR_F_REDIRECT, GWR_F_REWRITE };

enum kind_gwr_filter kind_gwr_filter_type(const struct mf_gwr_filter *f)
{
	uint32_t p = sch_present(f);

	if (p & GWR_BITS(GWR_F_REQ_HEADER, GWR_F_REQ_HEADER_JSON))
		return KIND_GWR_REQUEST_HEADER;
	if (p & GWR_BITS(GWR_F_RESP_HEADER, GWR_F_RESP_HEADER_JSON))
		return KIND_GWR_RESPONSE_HEADER;
	if (p & 1u << GWR_F_MIRROR)
		return KIND_GWR_MIRROR;
	if (p & 1u << GWR_F_REDIRECT)
		return KIND_GWR_REDIRECT;
	if (p & 1u << GWR_F_REWRITE)
		return KIND_GWR_REWRITE;
	return KIND_GWR_NONE;
}

/* A oneof: the objects share the storage. */
static const struct sch_field gwr_filter_fields[] = {
	[GWR_F_REQ_HEADER] = SCH_F_OBJECT("request_header", mf_gwr_filter,
					  request_header, &gwr_request_header),
	[GWR_F_REQ_HEADER_JSON] = SCH_F_OBJECT("requestHeader", mf_gwr_filter,
					       request_header,
					       &gwr_request_header),
	[GWR_F_RESP_HEADER] = SCH_F_OBJECT("response_header", mf_gwr_filter,
					   response_header,
					   &gwr_response_header),
	[GWR_F_RESP_HEADER_JSON] = SCH_F_OBJECT("responseHeader",
						mf_gwr_filter,
						response_header,
						&gwr_response_header),
	[GWR_F_MIRROR] = SCH_F_OBJECT("mirror", mf_gwr_filter, mirror,
				      &gwr_mirror),
	[GWR_F_REDIRECT] = SCH_F_OBJECT("redirect", mf_gwr_filter, redirect,
					&gwr_redirect),
	[GWR_F_REWRITE] = SCH_F_OBJECT("rewrite", mf_gwr_filter, rewrite,
				       &gwr_rewrite),
};

static const char *gwr_filter_check(const void *obj)
{
	uint32_t p = sch_present(obj);

	return p && !(p & (p - 1)) ? NULL :
	       "needs exactly one of request_header, response_header, mirror, "
	       "redirect and rewrite";
}
SCH_OBJECT_DEF(gwr_filter, "MeshGatewayRoute filter",
	       .check = gwr_filter_check);

static bool gwr_is(const struct mf_gwr_filter *f, unsigned field)
{
	return sch_has(f, field);
}

/* ---- rules ------------------------------------------------------------- */

enum { GWR_R_MATCHES, GWR_R_BACKENDS, GWR_R_FILTERS };

static const struct sch_field gwr_rule_fields[] = {
	[GWR_R_MATCHES] = SCH_F_LIST("matches", mf_gwr_rule, matches,
				     &gwr_match, SCH_REQUIRED),
	[GWR_R_BACKENDS] = SCH_F_LIST("backends", mf_gwr_rule, backends,
				      &gwr_backend),
	[GWR_R_FILTERS] = SCH_F_LIST("filters", mf_gwr_rule, filters,
				     &gwr_filter),
};
GWR_RULE_CHECK(gwr_rule_check, mf_gwr_rule)

/* Whether header filter @h (set and add) writes the host header, which
 * host_to_backend_hostname leaves to the proxy. */
static bool gwr_sets_host(const struct mf_gwr_header_filter *h,
			  const struct sch_ids *ids)
{
	const struct mf_header_value *v[] = { h->set, h->add };
	const unsigned n[] = { h->nset, h->nadd };

	for (unsigned k = 0; k < 2; k++)
		for (unsigned i = 0; i < n[k]; i++) {
			size_t len;
			const char *name = sch_str(ids, v[k][i].name, &len);

			if (name && (!strcasecmp(name, "host") ||
				     !strcmp(name, ":authority")))
				return true;
		}
	return false;
}

/* What the filters ask of the rest of the rule. */
static const char *gwr_rule_filters_check(const struct mf_gwr_rule *r)
{
	bool prefix_match = false;

	for (unsigned i = 0; i < r->nmatches; i++)
		if (sch_has(&r->matches[i], GWR_M_PATH) &&
		    r->matches[i].path.match == MF_GWR_PREFIX)
			prefix_match = true;
	for (unsigned i = 0; i < r->nfilters; i++) {
		const struct mf_gwr_filter *f = &r->filters[i];

		if (gwr_is(f, GWR_F_REDIRECT) && r->nfilters != 1)
			return "a redirect filter answers the request: it must "
			       "be the rule's only filter";
		if (gwr_is(f, GWR_F_REWRITE) &&
		    gwr_rewrites_prefix(&f->rewrite) && !prefix_match)
			return "rewrite.replace_prefix_match needs a match on "
			       "a path prefix (match PREFIX)";
	}
	return NULL;
}

/* A rewrite with host_to_backend_hostname leaves the host header to the
 * proxy: no request_header filter of the rule may write it.  The names
 * are ids, so this is the rule's check_strs rule (reported at the
 * rule). */
static const char *gwr_rule_host_check(const void *obj,
				       const struct sch_ids *ids)
{
	const struct mf_gwr_rule *r = obj;
	bool host_rewrite = false;

	for (unsigned i = 0; i < r->nfilters; i++)
		if (gwr_is(&r->filters[i], GWR_F_REWRITE) &&
		    gwr_rewrites_host(&r->filters[i].rewrite))
			host_rewrite = true;
	for (unsigned i = 0; i < r->nfilters && host_rewrite; i++) {
		const struct mf_gwr_filter *f = &r->filters[i];

		if ((gwr_is(f, GWR_F_REQ_HEADER) ||
		     gwr_is(f, GWR_F_REQ_HEADER_JSON)) &&
		    gwr_sets_host(&f->request_header, ids))
			return "a request_header filter cannot set the host "
			       "header (host, :authority) when a rewrite has "
			       "host_to_backend_hostname";
	}
	return NULL;
}

/* Kuma's rules across a rule's parts: it matches something, and it
 * either forwards to backends or answers with a redirect. */
static const char *gwr_rule_parts_check(const void *obj, unsigned *field)
{
	const struct mf_gwr_rule *r = obj;
	bool redirect = false;
	const char *why;

	*field = GWR_R_MATCHES;
	if (!r->nmatches)
		return "must have at least one entry";
	*field = GWR_R_FILTERS;
	if ((why = gwr_rule_filters_check(r)))
		return why;
	for (unsigned i = 0; i < r->nfilters; i++)
		redirect |= gwr_is(&r->filters[i], GWR_F_REDIRECT);
	*field = GWR_R_BACKENDS;
	if (redirect && r->nbackends)
		return "must be empty with a redirect filter, which answers "
		       "the request";
	if (!redirect && !r->nbackends)
		return sch_has(r, GWR_R_BACKENDS) ?
			       "must have at least one entry (or the rule a "
			       "redirect filter)" :
			       "is required (or the rule a redirect filter)";
	return NULL;
}
SCH_OBJECT_DEF(gwr_rule, "MeshGatewayRoute http rule",
	       .check = gwr_rule_check, .check_field = gwr_rule_parts_check,
	       .check_strs = gwr_rule_host_check);

static const struct sch_field gwr_hostnames_fields[] = {
	SCH_ITEM(SCH_STRING, MF_NAME_MAX, .check = gwr_hostname_check),
};
SCH_OBJECT_DEF(gwr_hostnames, "hostname", .scalar = true);

enum { GWR_HTTP_HOSTNAMES, GWR_HTTP_RULES };

static const struct sch_field gwr_http_fields[] = {
	[GWR_HTTP_HOSTNAMES] = SCH_F_LIST("hostnames", mf_gwr_http, hostnames,
					  &gwr_hostnames),
	[GWR_HTTP_RULES] = SCH_F_LIST("rules", mf_gwr_http, rules, &gwr_rule,
				      SCH_REQUIRED),
};

/* A list that is there but empty routes nothing either. */
static const char *gwr_http_check(const void *obj, unsigned *field)
{
	const struct mf_gwr_http *h = obj;

	*field = GWR_HTTP_RULES;
	return h->nrules ? NULL : "must have at least one entry";
}
SCH_OBJECT_DEF(gwr_http, "MeshGatewayRoute http",
	       .check_field = gwr_http_check);

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

/* The two share the storage. */
static const struct sch_field gwr_conf_fields[] = {
	[GWR_C_HTTP] = SCH_F_OBJECT("http", mf_gwr_conf, http, &gwr_http),
	[GWR_C_TCP] = SCH_F_OBJECT("tcp", mf_gwr_conf, tcp, &gwr_tcp),
};

bool kind_gwr_http(const struct mf_gateway_route *r)
{
	return sch_has(&r->conf, GWR_C_HTTP);
}

/* A route serves one listener protocol. */
static const char *gwr_conf_check(const void *obj)
{
	return sch_has(obj, GWR_C_HTTP) == sch_has(obj, GWR_C_TCP) ?
		       "needs exactly one of http and tcp" : NULL;
}
SCH_OBJECT_DEF(gwr_conf, "MeshGatewayRoute conf", .check = gwr_conf_check);

/* The record budget (abi_policy.h): some 66 KiB, which the kernel
 * allocates whole for each route applied (a 128 KiB page block, the map
 * being without preallocation); a list that grows past these bounds
 * needs records of their own, not a larger one. */
_Static_assert(sizeof(struct mf_gateway_route) <= 68 * 1024,
	       "a MeshGatewayRoute record stays under 68 KiB");

/* ---- the shorthand ------------------------------------------------------ */

/* A copy of key @k (owned by @own) spelled @name, at @k's position. */
static struct ynode *gwr_key(struct kind_own *own, const struct ynode *k,
			     const char *name)
{
	struct ynode *n = kind_own_alloc(own, sizeof(*n));

	if (!n)
		return NULL;
	*n = *k;
	n->str = (char *)name;	/* never written through */
	n->len = strlen(name);
	n->plain = true;
	n->kids = NULL;
	n->nkids = 0;
	return n;
}

/* Rule @r of the shorthand with its keys match and destination spelled
 * matches and backends; other nodes are @r's. */
static const struct ynode *gwr_rule_canon(struct kind_own *own,
					  const struct ynode *r)
{
	static const struct { const char *from, *to; } ren[] = {
		{ "match", "matches" }, { "destination", "backends" },
	};
	struct ynode *n;

	if (r->type != YNODE_MAP)
		return r;
	n = kind_own_alloc(own, sizeof(*n));
	if (!n)
		return NULL;
	*n = *r;
	n->kids = kind_own_alloc(own, (r->nkids ? r->nkids : 1) *
					      sizeof(*n->kids));
	if (!n->kids)
		return NULL;
	for (size_t i = 0; i < r->nkids; i++) {
		const struct ynode *k = r->kids[i];

		n->kids[i] = r->kids[i];
		if (i % 2 || k->type != YNODE_SCALAR)
			continue;
		for (size_t j = 0; j < 2; j++)
			if (!strcmp(k->str, ren[j].from)) {
				n->kids[i] = gwr_key(own, k, ren[j].to);
				if (!n->kids[i])
					return NULL;
			}
	}
	return n;
}

/* conf with `http: [rule...]` as `http: {rules: [rule...]}`. */
static const struct ynode *gwr_conf_canon(const struct ynode *conf,
					  struct kind_own *own)
{
	struct ynode *c, *http, *rules, *key;
	const struct ynode *list = NULL;
	size_t at = 0;

	for (size_t i = 0; conf->type == YNODE_MAP && i + 1 < conf->nkids;
	     i += 2)
		if (conf->kids[i]->type == YNODE_SCALAR &&
		    !strcmp(conf->kids[i]->str, "http")) {
			list = conf->kids[i + 1];
			at = i;
		}
	if (!list || list->type != YNODE_SEQ)
		return conf;
	c = kind_own_alloc(own, sizeof(*c));
	http = kind_own_alloc(own, sizeof(*http));
	rules = kind_own_alloc(own, sizeof(*rules));
	if (!c || !http || !rules)
		return NULL;
	*c = *conf;
	c->kids = kind_own_alloc(own, conf->nkids * sizeof(*c->kids));
	rules->type = YNODE_SEQ;
	rules->loc = list->loc;
	rules->nkids = list->nkids;
	rules->kids = kind_own_alloc(own, (list->nkids ? list->nkids : 1) *
						  sizeof(*rules->kids));
	http->type = YNODE_MAP;
	http->loc = list->loc;
	http->nkids = 2;
	http->kids = kind_own_alloc(own, 2 * sizeof(*http->kids));
	key = gwr_key(own, conf->kids[at], "rules");
	if (!c->kids || !rules->kids || !http->kids || !key)
		return NULL;
	for (size_t i = 0; i < list->nkids; i++) {
		rules->kids[i] = (struct ynode *)gwr_rule_canon(own,
							       list->kids[i]);
		if (!rules->kids[i])
			return NULL;
	}
	key->loc = list->loc;
	http->kids[0] = key;
	http->kids[1] = rules;
	memcpy(c->kids, conf->kids, conf->nkids * sizeof(*c->kids));
	c->kids[at + 1] = http;
	return c;
}

const struct kind_desc kind_mesh_gateway_route = {
	.name = "MeshGatewayRoute", .plural = "meshgatewayroutes",
	.kuma_inline = true,
	.conf_canon = gwr_conf_canon,
	.form = KIND_FORM_SELECTORS,
	KIND_RECORD(mf_gateway_route, conf, &gwr_conf),
};
