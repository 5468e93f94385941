// SPDX-License-Identifier: Apache-2.0
/*
 * TrafficRoute (legacy, source/destination selectors): where the selected
 * sources' traffic to the selected destinations goes, and how it is
 * balanced.
 *
 *   apiVersion: kuma.io/v1alpha1
 *   kind: TrafficRoute
 *   metadata: {name: web-split}
 *   spec:
 *     sources:
 *       - match: {kuma.io/service: '*'}
 *     destinations:
 *       - match: {kuma.io/service: web}
 *     conf:
 *       split:
 *         - weight: 90
 *           destination: {kuma.io/service: web, version: v1}
 *         - weight: 10
 *           destination: {kuma.io/service: web, version: v2}
 *       loadBalancer:
 *         ringHash:
 *           hashFunction: MURMUR_HASH_2
 *           minRingSize: 64
 *           maxRingSize: 1024
 *       http:
 *         - match:
 *             method: {exact: GET}
 *             path: {prefix: /offers}
 *             headers: {x-tenant: {exact: acme}}
 *           modify:
 *             path: {rewritePrefix: /v2/offers}
 *             host: {value: offers.internal}
 *             requestHeaders:
 *               add: [{name: x-route, value: offers, append: true}]
 *               remove: [{name: x-debug}]
 *           destination: {kuma.io/service: offers}
 *
 * Instead of split, `destination: {kuma.io/service: web}` sends everything
 * to one subset.  As in Kuma: exactly one of split and destination, in
 * the conf and in each http route (at most 2, tried before the conf's
 * own); every split entry needs weight and destination; weights are
 * relative (they need not sum to 100) and at least one must be above 0.
 * Kuma bounds no single weight; here their sum must fit in 32 bits, as
 * the proxy's total weight must.  loadBalancer, when given, is at most
 * one of roundRobin: {}, leastRequest: {choiceCount >= 2}, ringHash:
 * {hashFunction XX_HASH or MURMUR_HASH_2 (required, as Kuma checks it),
 * minRingSize <= maxRingSize, each 1..8388608}, random: {}, maglev:
 * {tableSize: a prime <= 5000011}; none is the default, round robin.
 * An http route's match needs a method, a path or headers (a mapping of
 * header names to matchers, one here, as the record has room for), each
 * matcher exactly one of prefix, exact and regex; rewritePrefix needs a
 * path prefix match; the host header and pseudo-headers (":path") are not
 * for header changes.  Proto field names are accepted as Kuma's proto
 * JSON takes them (load_balancer, ring_hash, hash_function...).  Every
 * destination, split or not, names a service by kuma.io/service.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "kinds.h"

#define TR_RING_MAX 8388608u	/* the proxy's limit on ring entries */
#define TR_MAGLEV_MAX 5000011u	/* the proxy's largest Maglev table */

/* Kuma reads proto JSON, which takes a field's proto name (ring_hash) as
 * well as its JSON one (ringHash): both are fields here, sharing the
 * member.  NULL, or @msg when both bits @a and @b of @obj are set. */
static const char *tr_one_spelling(const void *obj, unsigned a, unsigned b,
				   const char *msg)
{
	uint32_t both = 1u << a | 1u << b;

	return (sch_present(obj) & both) == both ? msg : NULL;
}

/* Either spelling of a field. */
static bool tr_has(const void *obj, unsigned a, unsigned b)
{
	return sch_has(obj, a) || sch_has(obj, b);
}

/* ---- loadBalancer ------------------------------------------------------ */

static const char *const tr_hash_functions[] = { "XX_HASH", "MURMUR_HASH_2",
						 NULL };

static const struct sch_object tr_empty = {
	.name = "TrafficRoute loadBalancer (no settings)",
};

enum { TR_LEAST_CHOICE, TR_LEAST_CHOICE_P };

static const struct sch_field tr_least_fields[] = {
	[TR_LEAST_CHOICE] = SCH_F_INT("choiceCount", mf_lb_least_request,
				      choice_count, 2, UINT32_MAX),
	[TR_LEAST_CHOICE_P] = SCH_F_INT("choice_count", mf_lb_least_request,
					choice_count, 2, UINT32_MAX),
};

static const char *tr_least_check(const void *obj)
{
	return tr_one_spelling(obj, TR_LEAST_CHOICE, TR_LEAST_CHOICE_P,
			       "choiceCount and choice_count are one field: "
			       "write one");
}
SCH_OBJECT_DEF(tr_least, "TrafficRoute leastRequest",
	       .check = tr_least_check);

enum { TR_RING_HASH, TR_RING_MIN, TR_RING_MAXSZ, TR_RING_HASH_P,
       TR_RING_MIN_P, TR_RING_MAXSZ_P };

static const char *tr_ring_check(const void *obj)
{
	const struct mf_lb_ring_hash *r = obj;
	const char *why;

	if ((why = tr_one_spelling(obj, TR_RING_HASH, TR_RING_HASH_P,
				   "hashFunction and hash_function are one "
				   "field: write one")) ||
	    (why = tr_one_spelling(obj, TR_RING_MIN, TR_RING_MIN_P,
				   "minRingSize and min_ring_size are one "
				   "field: write one")) ||
	    (why = tr_one_spelling(obj, TR_RING_MAXSZ, TR_RING_MAXSZ_P,
				   "maxRingSize and max_ring_size are one "
				   "field: write one")))
		return why;
	if (tr_has(obj, TR_RING_MIN, TR_RING_MIN_P) &&
	    tr_has(obj, TR_RING_MAXSZ, TR_RING_MAXSZ_P) &&
	    r->min_ring_size > r->max_ring_size)
		return "minRingSize must not be above maxRingSize";
	return NULL;
}

/* Kuma checks the hash function (whose empty default it refuses), in
 * either spelling. */
static const char *tr_ring_hash_check(const void *obj, unsigned *field)
{
	*field = TR_RING_HASH;
	return tr_has(obj, TR_RING_HASH, TR_RING_HASH_P) ? NULL :
							     "is required";
}

static const struct sch_field tr_ring_fields[] = {
	[TR_RING_HASH] = SCH_F_ENUM("hashFunction", mf_lb_ring_hash,
				    hash_function, tr_hash_functions),
	[TR_RING_MIN] = SCH_F_INT("minRingSize", mf_lb_ring_hash,
				  min_ring_size, 1, TR_RING_MAX),
	[TR_RING_MAXSZ] = SCH_F_INT("maxRingSize", mf_lb_ring_hash,
				    max_ring_size, 1, TR_RING_MAX),
	[TR_RING_HASH_P] = SCH_F_ENUM("hash_function", mf_lb_ring_hash,
				      hash_function, tr_hash_functions),
	[TR_RING_MIN_P] = SCH_F_INT("min_ring_size", mf_lb_ring_hash,
				    min_ring_size, 1, TR_RING_MAX),
	[TR_RING_MAXSZ_P] = SCH_F_INT("max_ring_size", mf_lb_ring_hash,
				      max_ring_size, 1, TR_RING_MAX),
};
SCH_OBJECT_DEF(tr_ring, "TrafficRoute ringHash", .check = tr_ring_check,
	       .check_field = tr_ring_hash_check);

/* Maglev needs a prime table size (the proxy refuses others). */
static const char *tr_maglev_check(const void *obj)
{
	const struct mf_lb_maglev *m = obj;

	if (!sch_has(obj, 0) || kind_is_prime(m->table_size))
		return NULL;
	return "tableSize must be a prime number";
}

static const struct sch_field tr_maglev_fields[] = {
	SCH_F_INT("tableSize", mf_lb_maglev, table_size, 2, TR_MAGLEV_MAX),
};
SCH_OBJECT_DEF(tr_maglev, "TrafficRoute maglev", .check = tr_maglev_check);

/* Kuma's balancer is a oneof, left out for the default (round robin);
 * the proto spellings are the same objects. */
static const char *tr_balancer_check(const void *obj)
{
	uint32_t p = sch_present(obj);

	if (p & (p - 1))
		return "must have at most one of roundRobin, leastRequest, "
		       "ringHash, random, maglev";
	return NULL;
}

static const struct sch_field tr_balancer_fields[] = {
	SCH_F_OBJECT("roundRobin", mf_tr_balancer, round_robin, &tr_empty),
	SCH_F_OBJECT("leastRequest", mf_tr_balancer, least_request,
		     &tr_least),
	SCH_F_OBJECT("ringHash", mf_tr_balancer, ring_hash, &tr_ring),
	SCH_F_OBJECT("random", mf_tr_balancer, random, &tr_empty),
	SCH_F_OBJECT("maglev", mf_tr_balancer, maglev, &tr_maglev),
	SCH_F_OBJECT("round_robin", mf_tr_balancer, round_robin, &tr_empty),
	SCH_F_OBJECT("least_request", mf_tr_balancer, least_request,
		     &tr_least),
	SCH_F_OBJECT("ring_hash", mf_tr_balancer, ring_hash, &tr_ring),
};
SCH_OBJECT_DEF(tr_balancer, "TrafficRoute loadBalancer",
	       .check = tr_balancer_check);

/* ---- split and destination --------------------------------------------- */

static const struct sch_field tr_split_fields[] = {
	SCH_F_INT("weight", mf_tr_split, weight, 0, UINT32_MAX, SCH_REQUIRED),
	SCH_F_TAGS("destination", mf_tr_split, destination, SCH_REQUIRED,
		   .check_tags = kind_check_tags_service),
};
SCH_OBJECT_DEF(tr_split, "TrafficRoute split entry");

/* The conf and each http route send to exactly one of a split (bit
 * @split of @obj, @n entries at @e) and a destination (bit @dest). */
static const char *tr_split_check(const void *obj, unsigned split,
				  unsigned dest, const struct mf_tr_split *e,
				  unsigned n)
{
	uint64_t total = 0;

	if (sch_has(obj, split) == sch_has(obj, dest))
		return "must have exactly one of split, destination";
	if (!sch_has(obj, split))
		return NULL;
	if (!n)
		return "split must have at least one entry";
	for (unsigned i = 0; i < n; i++)
		total += e[i].weight;
	if (!total)
		return "split must have at least one weight above 0";
	if (total > UINT32_MAX)
		return "split weights must sum to at most 4294967295";
	return NULL;
}

/* ---- http -------------------------------------------------------------- */

enum {
	TR_SM_PREFIX = MF_TR_SM_PREFIX, TR_SM_EXACT = MF_TR_SM_EXACT,
	TR_SM_REGEX = MF_TR_SM_REGEX,
};

/* One value, whichever way it matches. */
static const struct sch_field tr_matcher_fields[] = {
	[TR_SM_PREFIX] = SCH_F_STRING("prefix", mf_tr_matcher, value),
	[TR_SM_EXACT] = SCH_F_STRING("exact", mf_tr_matcher, value),
	[TR_SM_REGEX] = SCH_F_STRING("regex", mf_tr_matcher, value),
};

static const char *tr_matcher_check(const void *obj)
{
	const struct mf_tr_matcher *m = obj;
	uint32_t p = sch_present(m);

	if (!p || (p & (p - 1)))
		return "needs exactly one of prefix, exact and regex";
	if (p == 1u << TR_SM_REGEX && !kind_regex_ok(m->value))
		return "regex is not a valid regular expression";
	return NULL;
}
SCH_OBJECT_DEF(tr_matcher, "TrafficRoute string matcher",
	       .check = tr_matcher_check);

/* headers: {<name>: <matcher>}, a map in Kuma. */
static const struct sch_field tr_header_match_fields[] = {
	SCH_F_STRING("name", mf_tr_header_match, name,
		     .check = kind_check_header_name),
	SCH_F_OBJECT("matcher", mf_tr_header_match, matcher, &tr_matcher),
};
SCH_OBJECT_DEF(tr_header_match, "TrafficRoute header match",
	       .keyed = true);

enum {
	TR_M_METHOD = MF_TR_M_METHOD, TR_M_PATH = MF_TR_M_PATH,
	TR_M_HEADERS = MF_TR_M_HEADERS,
};

static const struct sch_field tr_match_fields[] = {
	[TR_M_METHOD] = SCH_F_OBJECT("method", mf_tr_match, method,
				     &tr_matcher),
	[TR_M_PATH] = SCH_F_OBJECT("path", mf_tr_match, path, &tr_matcher),
	[TR_M_HEADERS] = SCH_F_LIST("headers", mf_tr_match, headers,
				    &tr_header_match),
};

/* Kuma: a match has method, path or headers, and headers written are
 * not empty. */
SCH_CHECK_NOT_EMPTY(tr_match_check, "needs method, path or headers")

static const char *tr_match_headers_check(const void *obj, unsigned *field)
{
	const struct mf_tr_match *m = obj;

	*field = TR_M_HEADERS;
	return sch_has(m, TR_M_HEADERS) && !m->nheaders ?
		       "must have at least one entry" : NULL;
}
SCH_OBJECT_DEF(tr_match, "TrafficRoute http match",
	       .check = tr_match_check,
	       .check_field = tr_match_headers_check);

static const struct sch_field tr_regex_replace_fields[] = {
	SCH_F_STRING("pattern", mf_tr_regex_replace, pattern, SCH_REQUIRED),
	SCH_F_STRING("substitution", mf_tr_regex_replace, substitution,
		     SCH_REQUIRED),
};

static const char *tr_regex_replace_check(const void *obj)
{
	const struct mf_tr_regex_replace *r = obj;

	return kind_regex_ok(r->pattern) ?
		       NULL :
		       "pattern is not a valid regular expression";
}
SCH_OBJECT_DEF(tr_regex_replace, "TrafficRoute regex replacement",
	       .check = tr_regex_replace_check);

enum { TR_MP_REWRITE_PREFIX, TR_MP_REGEX };

static const struct sch_field tr_modify_path_fields[] = {
	[TR_MP_REWRITE_PREFIX] = SCH_F_STRING("rewritePrefix",
					      mf_tr_modify_path,
					      rewrite_prefix),
	[TR_MP_REGEX] = SCH_F_OBJECT("regex", mf_tr_modify_path, regex,
				     &tr_regex_replace),
};

/* A oneof: the two share storage. */
static const char *tr_modify_path_check(const void *obj)
{
	uint32_t p = sch_present(obj);

	return p == 1u << TR_MP_REWRITE_PREFIX || p == 1u << TR_MP_REGEX ?
		       NULL :
		       "needs exactly one of rewritePrefix and regex";
}
SCH_OBJECT_DEF(tr_modify_path, "TrafficRoute modify path",
	       .check = tr_modify_path_check);

enum { TR_MH_VALUE, TR_MH_FROM_PATH };

static const struct sch_field tr_modify_host_fields[] = {
	[TR_MH_VALUE] = SCH_F_STRING("value", mf_tr_modify_host, value,
				     .check = kind_check_no_space),
	[TR_MH_FROM_PATH] = SCH_F_OBJECT("fromPath", mf_tr_modify_host,
					 from_path, &tr_regex_replace),
};

static const char *tr_modify_host_check(const void *obj)
{
	uint32_t p = sch_present(obj);

	return p == 1u << TR_MH_VALUE || p == 1u << TR_MH_FROM_PATH ?
		       NULL :
		       "needs exactly one of value and fromPath";
}
SCH_OBJECT_DEF(tr_modify_host, "TrafficRoute modify host",
	       .check = tr_modify_host_check);

/* The proxy keeps the request's host and HTTP/2 pseudo-headers (":path")
 * to itself: Kuma refuses "host" and ":..." here, and the proxy any
 * spelling of host. */
static const char *tr_header_name_check(const char *s)
{
	if (s[0] == ':' || !strcasecmp(s, "host"))
		return "host header and HTTP/2 pseudo-headers are not allowed "
		       "to be modified";
	return kind_check_header_name(s);
}

static const struct sch_field tr_header_add_fields[] = {
	SCH_F_STRING("name", mf_tr_header_add, name, SCH_REQUIRED,
		     .check = tr_header_name_check),
	SCH_F_STRING("value", mf_tr_header_add, value, SCH_REQUIRED,
		     .check = kind_check_header_value),
	SCH_F_BOOL("append", mf_tr_header_add, append),
};
SCH_OBJECT_DEF(tr_header_add, "TrafficRoute header to add");

static const struct sch_field tr_header_remove_fields[] = {
	SCH_F_STRING("name", mf_tr_header_remove, name, SCH_REQUIRED,
		     .check = tr_header_name_check),
};
SCH_OBJECT_DEF(tr_header_remove, "TrafficRoute header to remove");

static const struct sch_field tr_headers_fields[] = {
	SCH_F_LIST("add", mf_tr_headers, add, &tr_header_add),
	SCH_F_LIST("remove", mf_tr_headers, remove, &tr_header_remove),
};
SCH_OBJECT_DEF(tr_headers, "TrafficRoute header changes");

enum { TR_MOD_PATH, TR_MOD_HOST, TR_MOD_REQ_HEADERS, TR_MOD_RESP_HEADERS };

static const struct sch_field tr_modify_fields[] = {
	[TR_MOD_PATH] = SCH_F_OBJECT("path", mf_tr_modify, path,
				     &tr_modify_path),
	[TR_MOD_HOST] = SCH_F_OBJECT("host", mf_tr_modify, host,
				     &tr_modify_host),
	[TR_MOD_REQ_HEADERS] = SCH_F_OBJECT("requestHeaders", mf_tr_modify,
					    request_headers, &tr_headers),
	[TR_MOD_RESP_HEADERS] = SCH_F_OBJECT("responseHeaders", mf_tr_modify,
					     response_headers, &tr_headers),
};
SCH_OBJECT_DEF(tr_modify, "TrafficRoute modify");

enum {
	TR_H_MATCH = MF_TR_H_MATCH, TR_H_MODIFY = MF_TR_H_MODIFY,
	TR_H_SPLIT = MF_TR_H_SPLIT, TR_H_DESTINATION = MF_TR_H_DESTINATION,
};

static const struct sch_field tr_http_fields[] = {
	[TR_H_MATCH] = SCH_F_OBJECT("match", mf_tr_http, match, &tr_match,
				    SCH_REQUIRED),
	[TR_H_MODIFY] = SCH_F_OBJECT("modify", mf_tr_http, modify,
				     &tr_modify),
	[TR_H_SPLIT] = SCH_F_LIST("split", mf_tr_http, split, &tr_split),
	[TR_H_DESTINATION] = SCH_F_TAGS("destination", mf_tr_http,
					destination,
					.check_tags = kind_check_tags_service),
};

static const char *tr_http_check(const void *obj)
{
	const struct mf_tr_http *h = obj;

	return tr_split_check(obj, TR_H_SPLIT, TR_H_DESTINATION, h->split,
			      h->nsplit);
}

/* rewritePrefix replaces the part of the path a prefix matched, so the
 * route must match a path prefix. */
static const char *tr_http_rewrite_check(const void *obj, unsigned *field)
{
	const struct mf_tr_http *h = obj;

	*field = TR_H_MODIFY;
	if (sch_has(&h->modify, TR_MOD_PATH) &&
	    sch_has(&h->modify.path, TR_MP_REWRITE_PREFIX) &&
	    !(sch_has(&h->match, TR_M_PATH) &&
	      sch_has(&h->match.path, TR_SM_PREFIX)))
		return "path.rewritePrefix needs a match on a path prefix "
		       "(match.path.prefix)";
	return NULL;
}
SCH_OBJECT_DEF(tr_http, "TrafficRoute http route", .check = tr_http_check,
	       .check_field = tr_http_rewrite_check);

/* ---- conf -------------------------------------------------------------- */

enum {
	TR_SPLIT = MF_TR_C_SPLIT, TR_DESTINATION = MF_TR_C_DESTINATION,
	TR_BALANCER = MF_TR_C_BALANCER, TR_HTTP = MF_TR_C_HTTP,
	TR_BALANCER_P = MF_TR_C_BALANCER_P,
};

static const char *tr_conf_check(const void *obj)
{
	const struct mf_tr_conf *c = obj;
	const char *why = tr_one_spelling(obj, TR_BALANCER, TR_BALANCER_P,
					  "loadBalancer and load_balancer are "
					  "one field: write one");

	return why ? why :
		     tr_split_check(obj, TR_SPLIT, TR_DESTINATION, c->split,
				    c->nsplit);
}

static const struct sch_field tr_conf_fields[] = {
	[TR_SPLIT] = SCH_F_LIST("split", mf_tr_conf, split, &tr_split),
	[TR_DESTINATION] = SCH_F_TAGS("destination", mf_tr_conf, destination,
				      .check_tags = kind_check_tags_service),
	[TR_BALANCER] = SCH_F_OBJECT("loadBalancer", mf_tr_conf, load_balancer,
				     &tr_balancer),
	[TR_HTTP] = SCH_F_LIST("http", mf_tr_conf, http, &tr_http),
	[TR_BALANCER_P] = SCH_F_OBJECT("load_balancer", mf_tr_conf,
				       load_balancer, &tr_balancer),
};
SCH_OBJECT_DEF(tr_conf, "TrafficRoute conf", .check = tr_conf_check);

/* The map's value buffer and the record budget (abi_policy.h). */
_Static_assert(sizeof(struct mf_traffic_route) <= 4096,
	       "a TrafficRoute record must fit in 4 KiB");

/* KIND_FORM_SOURCES: selectors instead of targetRefs, so no sections and
 * no ref kinds. */
const struct kind_desc kind_traffic_route = {
	.name = "TrafficRoute", .plural = "trafficroutes",
	.kuma_inline = true,
	.form = KIND_FORM_SOURCES,
	KIND_RECORD(mf_traffic_route, conf, &tr_conf),
};
