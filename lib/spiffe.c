// SPDX-License-Identifier: Apache-2.0
/*
 * SPIFFE ID checks (SPIFFE spec "SPIFFE-ID", sections 2.1 and 2.2), kept
 * strict: an ID we accept here is one every SPIFFE implementation accepts.
 */
#include <errno.h>
#include <string.h>

#include "spiffe.h"

#define SPIFFE_SCHEME "spiffe://"
#define SPIFFE_SCHEME_LEN (sizeof(SPIFFE_SCHEME) - 1)

static bool spiffe_td_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '-' || c == '_';
}

static bool spiffe_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/* Length of the trust domain at @s (up to '/' or NUL), or -EINVAL. */
static int spiffe_td_len(const char *s)
{
	int n = 0;

	while (s[n] && s[n] != '/') {
		if (!spiffe_td_char(s[n]))
			return -EINVAL;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	if (n >= MF_NAME_MAX)
		return -ENAMETOOLONG;
	return n;
}

int spiffe_check_trust_domain(const char *td)
{
	int n = spiffe_td_len(td);

	if (n < 0)
		return n == -ENAMETOOLONG ? -EINVAL : n;
	return td[n] ? -EINVAL : 0;
}

/*
 * Checks the segments of @path, which starts after a '/'.  With
 * @partial_last, the last segment may be empty or incomplete (a prefix);
 * otherwise every segment must be complete, non-empty, not "." or "..".
 */
static int spiffe_check_segments(const char *path, bool partial_last)
{
	const char *seg = path;

	for (;;) {
		size_t n = 0;

		while (seg[n] && seg[n] != '/') {
			if (!spiffe_path_char(seg[n]))
				return -EINVAL;
			n++;
		}
		bool last = seg[n] == '\0';

		if (last && partial_last)
			return 0;
		if (n == 0)
			return -EINVAL;
		if ((n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return -EINVAL;
		if (last)
			return 0;
		seg += n + 1;
	}
}

int spiffe_parse(const char *s, struct spiffe_id *out)
{
	size_t len = strlen(s);
	int tdn;

	if (len >= MF_SPIFFE_MAX)
		return -ENAMETOOLONG;
	if (strncmp(s, SPIFFE_SCHEME, SPIFFE_SCHEME_LEN) != 0)
		return -EINVAL;
	s += SPIFFE_SCHEME_LEN;
	tdn = spiffe_td_len(s);
	if (tdn < 0)
		return -EINVAL;
	/* The path is required: a bare trust domain names no workload. */
	if (s[tdn] != '/' || spiffe_check_segments(s + tdn + 1, false))
		return -EINVAL;
	if (out) {
		memset(out, 0, sizeof(*out));
		memcpy(out->trust_domain, s, tdn);
		strcpy(out->path, s + tdn);
	}
	return 0;
}

int spiffe_check_prefix(const char *s)
{
	int tdn;

	if (strlen(s) >= MF_SPIFFE_MAX)
		return -EINVAL;
	if (strncmp(s, SPIFFE_SCHEME, SPIFFE_SCHEME_LEN) != 0)
		return -EINVAL;
	s += SPIFFE_SCHEME_LEN;
	tdn = spiffe_td_len(s);
	/* A bare trust domain is a prefix too: all of its IDs. */
	if (tdn > 0 && !s[tdn])
		return 0;
	if (tdn < 0 || s[tdn] != '/')
		return -EINVAL;
	return spiffe_check_segments(s + tdn + 1, true);
}

bool spiffe_in_trust_domain(const char *id, const char *td)
{
	struct spiffe_id p;

	return spiffe_parse(id, &p) == 0 && strcmp(p.trust_domain, td) == 0;
}

int spiffe_file_stem(const char *id, char *buf, size_t n)
{
	const char *s;
	size_t i, len;
	int err;

	err = spiffe_parse(id, NULL);
	if (err)
		return err;
	s = id + SPIFFE_SCHEME_LEN;
	len = strlen(s);
	if (len >= n)
		return -ENAMETOOLONG;
	for (i = 0; i < len; i++)
		buf[i] = s[i] == '/' ? '+' : s[i];
	buf[len] = '\0';
	return 0;
}
