// SPDX-License-Identifier: Apache-2.0
/*
 * The parts of a request that routes match and rewrite (hmatch.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hmatch.h"
#include "policy/kinds.h"

uint64_t hmatch_rank(enum hmatch_type path, size_t path_len, bool method,
		     unsigned int nheaders, unsigned int nquery)
{
	uint64_t kind = path == HMATCH_EXACT ? 3 : path == HMATCH_PREFIX ? 2 :
			path == HMATCH_REGEX ? 1 : 0;

	if (!kind)
		path_len = 0;
	return kind << 56 | ((uint64_t)path_len & 0xffffff) << 32 |
	       (uint64_t)!!method << 24 | (uint64_t)(nheaders & 0xfff) << 12 |
	       (nquery & 0xfff);
}

size_t hmatch_path_len(const char *t, size_t n)
{
	const char *q = memchr(t, '?', n);

	return q ? (size_t)(q - t) : n;
}

/* A compiled regular expression against @n bytes at @v, which are not
 * NUL-terminated: copied into a string first (REG_STARTEND would spare the
 * copy, but not every reader of regexec()'s argument honours it). */
static bool hmatch_regex(const regex_t *re, const char *v, size_t n)
{
	char small[256], *s = small;
	bool ok;

	if (!re || memchr(v, '\0', n))
		return false;
	if (n >= sizeof(small)) {
		s = malloc(n + 1);
		if (!s)
			return false;
	}
	memcpy(s, v, n);
	s[n] = '\0';
	ok = regexec(re, s, 0, NULL, 0) == 0;
	if (s != small)
		free(s);
	return ok;
}

bool hmatch_path(const struct hmatch_want *w, const char *path, size_t n)
{
	switch (w->type) {
	case HMATCH_EXACT:
		return n == w->len && !memcmp(path, w->s, n);
	case HMATCH_PREFIX:
		/* Whole segments: /api is /api, /api/ and /api/x, never
		 * /apix.  "/" is every path. */
		if (w->len == 1 && w->s[0] == '/')
			return true;
		return n >= w->len && !memcmp(path, w->s, w->len) &&
		       (n == w->len || path[w->len] == '/' ||
			w->s[w->len - 1] == '/');
	case HMATCH_REGEX:
		return hmatch_regex(w->re, path, n);
	default:
		return false;
	}
}

bool hmatch_value(const struct hmatch_want *w, const char *v, size_t n)
{
	switch (w->type) {
	case HMATCH_EXACT:
		return v && n == w->len && !memcmp(v, w->s, n);
	case HMATCH_PREFIX:
		return v && n >= w->len && !memcmp(v, w->s, w->len);
	case HMATCH_REGEX:
		return v && hmatch_regex(w->re, v, n);
	case HMATCH_PRESENT:
		return v != NULL;
	case HMATCH_ABSENT:
		return v == NULL;
	default:
		return false;
	}
}

bool hmatch_method(const struct hhead *req, unsigned int method)
{
	const char *name;
	size_t len;

	if (!method)
		return true;
	if (method > MF_METHOD_TRACE)
		return false;
	name = kind_http_methods[method - 1];
	len = strlen(name);
	return req->method.len == len &&
	       !memcmp(req->buf + req->method.off, name, len);
}

const char *hmatch_query(const char *t, size_t n, const char *name,
			 size_t *vlen)
{
	size_t plen = hmatch_path_len(t, n), nlen = strlen(name);
	const char *q = t + plen;

	if (plen == n)
		return NULL;
	q++;		/* the '?' */
	n -= plen + 1;
	while (n > 0) {
		const char *amp = memchr(q, '&', n);
		size_t len = amp ? (size_t)(amp - q) : n;

		if (len >= nlen && !memcmp(q, name, nlen) &&
		    (len == nlen || q[nlen] == '=')) {
			*vlen = len > nlen ? len - nlen - 1 : 0;
			return len > nlen ? q + nlen + 1 : q + len;
		}
		if (!amp)
			break;
		n -= len + 1;
		q = amp + 1;
	}
	return NULL;
}

const char *hmatch_header(const struct hhead *req, const char *name,
			  size_t *vlen)
{
	const char *v;

	*vlen = 0;
	return hhead_get(req, name, &v, vlen) ? v : NULL;
}

char *hmatch_rewrite_target(const char *t, size_t n, size_t prefix_len,
			    const char *with, size_t wlen)
{
	size_t plen = hmatch_path_len(t, n), tlen = 0;
	const char *tail = "", *rest = t + plen;
	size_t rlen = n - plen;
	char *out;

	if (prefix_len != SIZE_MAX) {
		/* The matched prefix goes, what follows it stays; "/" for a
		 * prefix replaced by nothing.  A prefix of "/" is no
		 * prefix: the whole path follows the replacement. */
		if (prefix_len == 1 || prefix_len > plen)
			prefix_len = prefix_len == 1 ? 0 : plen;
		tail = t + prefix_len;
		tlen = plen - prefix_len;
		if (wlen > 0 && with[wlen - 1] == '/' && tlen > 0 &&
		    tail[0] == '/')
			wlen--;
		if (wlen == 0 && tlen == 0)
			with = "/", wlen = 1;
	}
	out = malloc(wlen + tlen + rlen + 1);
	if (!out)
		return NULL;
	memcpy(out, with, wlen);
	memcpy(out + wlen, tail, tlen);
	memcpy(out + wlen + tlen, rest, rlen);
	out[wlen + tlen + rlen] = '\0';
	return out;
}

int hmatch_retarget(struct hhead *req, char *target)
{
	int err;

	if (!target)
		return -ENOMEM;
	err = hhead_set_target(req, target, strlen(target));
	free(target);
	return err;
}

/* @n bytes of @host without a port after it. */
static size_t hmatch_host_len(const char *host, size_t n)
{
	const char *colon = memchr(host, ':', n);

	return colon ? (size_t)(colon - host) : n;
}

int hmatch_location(const struct hhead *req, const char *scheme,
		    const char *host, size_t hlen, unsigned int port,
		    const char *target, char **out)
{
	char portbuf[12] = "";
	size_t tlen, need;
	const char *t;

	if (!host) {
		/* The request's host, without its port. */
		if (!hhead_get(req, "host", &host, &hlen))
			host = "", hlen = 0;
		hlen = hmatch_host_len(host, hlen);
	}
	if (!scheme || !scheme[0])
		scheme = "http";
	if (port)
		snprintf(portbuf, sizeof(portbuf), ":%u", port);
	t = target ? target : hhead_target(req, &tlen);
	if (target)
		tlen = strlen(target);
	need = strlen(scheme) + 3 + hlen + strlen(portbuf) + tlen + 1;
	*out = malloc(need);
	if (!*out)
		return -ENOMEM;
	snprintf(*out, need, "%s://%.*s%s%.*s", scheme, (int)hlen, host,
		 portbuf, (int)tlen, t);
	return 0;
}

unsigned int hmatch_host(const char *pattern, const char *host, size_t n)
{
	size_t plen = strlen(pattern);

	n = hmatch_host_len(host, n);
	/* A fully qualified name's trailing dot names the same host. */
	if (n > 0 && host[n - 1] == '.')
		n--;
	if (plen == 0 || (plen == 1 && pattern[0] == '*'))
		return 1;
	if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* "*.example.com": some label(s), then ".example.com". */
		size_t slen = plen - 1;

		if (n <= slen ||
		    strncasecmp(host + n - slen, pattern + 1, slen))
			return 0;
		return 2 + (unsigned int)slen;
	}
	if (n != plen || strncasecmp(host, pattern, n))
		return 0;
	/* Above every wildcard: longer than any of them could be. */
	return 0x10000 + (unsigned int)plen;
}
