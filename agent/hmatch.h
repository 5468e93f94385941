/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hmatch: the parts of a request that routes match and rewrite, on plain
 * strings, for both route kinds that the agent puts in force: MeshHTTPRoute
 * (hroute.c, whose strings sit in the snapshot's pool) and MeshGatewayRoute
 * (gwroute.c, whose strings sit inline in its record).  Each kind maps its
 * own enums onto these.
 *
 * Semantics, the Gateway API's where Kuma follows it:
 *   - a path is the request-target up to '?';
 *   - a path prefix matches whole segments: /api is /api, /api/ and
 *     /api/x, never /apix; "/" is every path;
 *   - a value prefix (headers) is a plain byte prefix;
 *   - a regular expression matches the whole value (the snapshot compiled
 *     it anchored, kind_regex_compile());
 *   - a query parameter is the first one of that name.
 */
#ifndef MF_AGENT_HMATCH_H
#define MF_AGENT_HMATCH_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include "hhead.h"

enum hmatch_type {
	HMATCH_NONE = 0,	/* matches nothing */
	HMATCH_EXACT,
	HMATCH_PREFIX,
	HMATCH_REGEX,
	HMATCH_PRESENT,		/* values only */
	HMATCH_ABSENT,		/* values only */
};

/* What a match compares against: @s (@len bytes), or @re for
 * HMATCH_REGEX (NULL: an expression the snapshot could not compile, which
 * matches nothing). */
struct hmatch_want {
	enum hmatch_type type;
	const char *s;
	size_t len;
	const regex_t *re;
};

/* The specificity of a route match, higher for the more specific (the
 * Gateway API's precedence, which Kuma follows): by its path match, an
 * Exact path, then a prefix, then a regular expression, then none; then
 * the longer path; then one with a method; then more header matches; then
 * more query parameter matches. */
uint64_t hmatch_rank(enum hmatch_type path, size_t path_len, bool method,
		     unsigned int nheaders, unsigned int nquery);

/* The length of the path of request-target @t (@n bytes): up to '?'. */
size_t hmatch_path_len(const char *t, size_t n);

/* Whether path @path (@n bytes) matches @w (EXACT, PREFIX by segments or
 * REGEX). */
bool hmatch_path(const struct hmatch_want *w, const char *path, size_t n);

/* Whether value @v (@n bytes; NULL when the request has none) matches @w
 * (EXACT, PREFIX, REGEX, PRESENT or ABSENT). */
bool hmatch_value(const struct hmatch_want *w, const char *v, size_t n);

/* Whether the method of request @req is @method, an enum mf_http_method
 * as both route kinds store it: 0 (none asked) is every method, a value
 * past the enum none. */
bool hmatch_method(const struct hhead *req, unsigned int method);

/* The value of the first query parameter @name of request-target @t (@n
 * bytes) into *vlen, NULL when it has none. */
const char *hmatch_query(const char *t, size_t n, const char *name,
			 size_t *vlen);

/* The value of field @name of @req, NULL when it has none. */
const char *hmatch_header(const struct hhead *req, const char *name,
			  size_t *vlen);

/*
 * The request-target after a path rewrite, into a new string (the caller
 * frees it; NULL on ENOMEM), the query kept:
 *   - @prefix_len SIZE_MAX: the path is replaced whole by @with (@wlen);
 *   - else the first @prefix_len bytes of the path (a matched prefix) are
 *     replaced by @with, what follows stays ("/" for nothing at all).
 * @t (@n bytes) is the request-target.
 */
char *hmatch_rewrite_target(const char *t, size_t n, size_t prefix_len,
			    const char *with, size_t wlen);

/* Makes @target (from hmatch_rewrite_target(); NULL: it failed) the
 * request-target of @req, and frees it.  Returns 0 or -ENOMEM. */
int hmatch_retarget(struct hhead *req, char *target);

/*
 * The Location of a redirect of request @req into a new string (the
 * caller frees it) at *out: @scheme ("" or NULL: http), @host (@hlen bytes;
 * NULL: the request's Host without its port), @port (0: none), @target (a
 * new request-target; NULL: the request's).  Returns 0 or -ENOMEM.
 */
int hmatch_location(const struct hhead *req, const char *scheme,
		    const char *host, size_t hlen, unsigned int port,
		    const char *target, char **out);

/* Host name @host (@n bytes, a Host field or an SNI) against a listener's
 * or a route's @pattern: "" or "*" matches any, "*.example.com" any name
 * under example.com (one or more labels), else equal names, in any case.
 * A port after the host (":8080") is ignored.  Returns the specificity of
 * the match, higher for the more specific (exact > longer wildcard >
 * shorter > any), 0 when it does not match. */
unsigned int hmatch_host(const char *pattern, const char *host, size_t n);

#endif /* MF_AGENT_HMATCH_H */
