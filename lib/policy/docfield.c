// SPDX-License-Identifier: Apache-2.0
/*
 * Field readers shared by the policy document parsers (doc.c for the core
 * kinds, pdoc.c for the schema-driven ones): each checks one YAML value and
 * reports a problem at its line:column with the field's path.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "docfield.h"

const char *doc_user_path(const struct doc_ctx *c, const char *path)
{
	size_t n = c->strip ? strlen(c->strip) : 0;

	if (path && n && !strncmp(path, c->strip, n))
		return path + n;
	return path;
}

void doc_err(struct doc_ctx *c, const struct ynode *at,
		    const char *path, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(c->d, &at->loc, NULL, doc_user_path(c, path), "%s", msg);
	c->errors++;
}

/* "@prefix.@key", or "@key" at the root. */
const char *doc_path(char *buf, const char *prefix, const char *key)
{
	int n;

	if (!prefix || !*prefix)
		n = snprintf(buf, DOC_PATH_MAX, "%s", key);
	else
		n = snprintf(buf, DOC_PATH_MAX, "%s.%s", prefix, key);
	/* Only a hostile key gets this long; show that it was cut. */
	if (n >= DOC_PATH_MAX)
		strcpy(buf + DOC_PATH_MAX - 4, "...");
	return buf;
}

const char *doc_kind_str(enum ynode_type t)
{
	switch (t) {
	case YNODE_SCALAR:
		return "a scalar";
	case YNODE_MAP:
		return "a mapping";
	case YNODE_SEQ:
		return "a list";
	}
	return "?";
}

/*
 * Checks the keys of mapping @map (at @path): each must be a scalar, appear
 * once and be one of @known (NULL-terminated).  Returns true when @map is a
 * mapping at all (so its fields can be read), after reporting its problems.
 */
bool doc_check_map(struct doc_ctx *c, const struct ynode *map,
			  const char *path, const char *const *known)
{
	char p[DOC_PATH_MAX];

	if (map->type != YNODE_MAP) {
		doc_err(c, map, path, "must be a mapping, not %s",
			doc_kind_str(map->type));
		return false;
	}
	for (size_t i = 0; i < ynode_map_len(map); i++) {
		const struct ynode *k = map->kids[2 * i];
		bool ok = false;

		if (k->type != YNODE_SCALAR) {
			doc_err(c, k, path, "keys must be scalars, not %s",
				doc_kind_str(k->type));
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct ynode *prev = map->kids[2 * j];

			if (prev->type == YNODE_SCALAR &&
			    !strcmp(prev->str, k->str)) {
				doc_err(c, k, doc_path(p, path, k->str),
					"duplicate key (first at line %u)",
					prev->loc.line);
				ok = true;	/* reported once is enough */
				break;
			}
		}
		if (ok)
			continue;
		for (const char *const *kn = known; *kn; kn++)
			if (!strcmp(*kn, k->str))
				ok = true;
		if (ok)
			continue;
		/* Every reader takes its fields by name (doc_get), so a
		 * field left unreported here is never read: dropped. */
		if (c->validate == MODEL_VALIDATE_STRICT)
			doc_err(c, k, doc_path(p, path, k->str),
				"unknown field");
		else if (c->validate == MODEL_VALIDATE_WARN && c->warn)
			diag_add(c->warn, &k->loc, NULL,
				 doc_user_path(c, doc_path(p, path, k->str)),
				 "unknown field, dropped (--validate warn)");
	}
	return true;
}

/* The index of @key in mapping @map, or -1. */
static ssize_t doc_key_at(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i < ynode_map_len(map); i++) {
		const struct ynode *k = map->kids[2 * i];

		if (k->type == YNODE_SCALAR && !strcmp(k->str, key))
			return (ssize_t)i;
	}
	return -1;
}

const struct ynode *doc_key(const struct ynode *map, const char *key)
{
	ssize_t i = doc_key_at(map, key);

	return i < 0 ? NULL : map->kids[2 * i];
}

const struct ynode *doc_get_raw(const struct ynode *map, const char *key)
{
	ssize_t i = doc_key_at(map, key);

	return i < 0 ? NULL : map->kids[2 * i + 1];
}

/* The value of @key in mapping @map, or NULL (also for a YAML null). */
const struct ynode *doc_get(const struct ynode *map, const char *key)
{
	const struct ynode *v = doc_get_raw(map, key);

	return v && !ynode_is_null(v) ? v : NULL;
}

/* The value of required field @key, or NULL after reporting it missing. */
const struct ynode *doc_need(struct doc_ctx *c, const struct ynode *map,
				    const char *path, const char *key)
{
	const struct ynode *v = doc_get(map, key);
	char p[DOC_PATH_MAX];

	if (!v)
		doc_err(c, map, doc_path(p, path, key), "is required");
	return v;
}

static bool doc_digits(const char *s, const char *set, bool under)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr(set, *s) && !(under && *s == '_'))
			return false;
	return true;
}

/* A YAML float: [-+](digits[.digits] | .digits)[e[-+]digits], .inf,
 * .nan. */
static bool doc_float(const char *s)
{
	static const char *const special[] = {
		".inf", ".Inf", ".INF", ".nan", ".NaN", ".NAN", NULL,
	};
	bool mant = false;

	if (*s == '-' || *s == '+')
		s++;
	for (size_t i = 0; special[i]; i++)
		if (!strcmp(s, special[i]))
			return true;
	for (; (*s >= '0' && *s <= '9') || *s == '_'; s++)
		mant = true;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			mant = true;
	if (!mant)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!doc_digits(s, "0123456789", false))
			return false;
		return true;
	}
	return !*s;
}

const char *doc_plain_type(const struct ynode *v)
{
	static const char *const bools[] = {
		"true", "True", "TRUE", "false", "False", "FALSE",
		"yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON",
		"off", "Off", "OFF", "y", "Y", "n", "N", NULL,
	};
	const char *s = v->str;

	if (v->type != YNODE_SCALAR || !v->plain)
		return NULL;
	if (ynode_is_null(v))
		return "null";
	for (size_t i = 0; bools[i]; i++)
		if (!strcmp(s, bools[i]))
			return "a boolean";
	if (!strncmp(s, "0x", 2) && doc_digits(s + 2, "0123456789abcdefABCDEF",
					       true))
		return "a number";
	if (!strncmp(s, "0o", 2) && doc_digits(s + 2, "01234567", true))
		return "a number";
	if (!strncmp(s, "0b", 2) && doc_digits(s + 2, "01", true))
		return "a number";
	if ((*s == '-' || *s == '+') ? doc_digits(s + 1, "0123456789", true) :
				       doc_digits(s, "0123456789", true))
		return "a number";
	return doc_float(s) ? "a number" : NULL;
}

bool doc_is_text(struct doc_ctx *c, const struct ynode *v, const char *path)
{
	const char *t = doc_plain_type(v);

	/* null is what the readers call empty or missing, and say so. */
	if (t && strcmp(t, "null"))
		doc_err(c, v, path, "must be a string, not %s (quote it: "
			"\"%s\")", t, v->str);
	return !t || !strcmp(t, "null");
}

/*
 * Copies string value @v into @out (@outsz bytes, NUL-padded).  Returns
 * true, or false after reporting a non-scalar, a NUL byte or an overlong
 * value.
 */
bool doc_str(struct doc_ctx *c, const struct ynode *v, const char *path,
		    char *out, size_t outsz)
{
	if (v->type != YNODE_SCALAR) {
		doc_err(c, v, path, "must be a string, not %s",
			doc_kind_str(v->type));
		return false;
	}
	if (strlen(v->str) != v->len) {
		doc_err(c, v, path, "must not contain a NUL character");
		return false;
	}
	if (v->len >= outsz) {
		doc_err(c, v, path, "must be at most %zu characters", outsz - 1);
		return false;
	}
	memset(out, 0, outsz);
	memcpy(out, v->str, v->len);
	return true;
}

/* Object names: what Kubernetes calls a DNS subdomain, capped to fit the
 * map's name fields. */
bool doc_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= MF_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');

		if (!alnum && ((i == 0 || i == n - 1) ||
			       (ch != '-' && ch != '.')))
			return false;
	}
	return true;
}


/* A name field (metadata.name, or a reference to a named object). */
bool doc_name(struct doc_ctx *c, const struct ynode *v,
		     const char *path, char out[MF_NAME_MAX])
{
	char tmp[DOC_PATH_MAX];

	/* Read into a roomy buffer first so an overlong name gets the
	 * name rule, not a bare length complaint. */
	if (!doc_str(c, v, path, tmp, sizeof(tmp)))
		return false;
	if (!doc_name_ok(tmp)) {
		doc_err(c, v, path, DOC_NAME_RULE);
		return false;
	}
	memset(out, 0, MF_NAME_MAX);
	strcpy(out, tmp);
	return true;
}

/* An unsigned decimal integer in [@min, @max], written plain (80, not
 * "80": a quoted number is a string in YAML). */
bool doc_uint(struct doc_ctx *c, const struct ynode *v,
		     const char *path, unsigned long min, unsigned long max,
		     unsigned long *out)
{
	unsigned long val = 0;
	bool digits = v->type == YNODE_SCALAR && v->plain && v->len > 0 &&
		      v->len == strlen(v->str);

	for (size_t i = 0; digits && i < v->len; i++) {
		if (v->str[i] < '0' || v->str[i] > '9')
			digits = false;
		else if (val <= max)	/* stops growing once out of range */
			val = val * 10 + (unsigned long)(v->str[i] - '0');
	}
	/* "08" is octal to some YAML readers and decimal to others. */
	if (digits && v->len > 1 && v->str[0] == '0')
		digits = false;
	if (!digits) {
		doc_err(c, v, path, "must be an integer %lu..%lu", min, max);
		return false;
	}
	if (val < min || val > max) {
		doc_err(c, v, path, "must be %lu..%lu", min, max);
		return false;
	}
	*out = val;
	return true;
}

bool doc_port(struct doc_ctx *c, const struct ynode *v,
		     const char *path, uint16_t *out)
{
	unsigned long val;

	if (!doc_uint(c, v, path, 1, 65535, &val))
		return false;
	*out = (uint16_t)val;
	return true;
}

/* A dotted-quad unicast IPv4 address, into network order. */
bool doc_ipv4(struct doc_ctx *c, const struct ynode *v,
		     const char *path, uint8_t out[4])
{
	char tmp[32];
	struct in_addr a;

	if (v->type != YNODE_SCALAR || v->len >= sizeof(tmp) ||
	    strlen(v->str) != v->len) {
		doc_err(c, v, path, "must be an IPv4 address (a.b.c.d)");
		return false;
	}
	strcpy(tmp, v->str);
	/* inet_pton() takes only the strict dotted quad: no octal, no
	 * shorthand like "10.1". */
	if (inet_pton(AF_INET, tmp, &a) != 1) {
		doc_err(c, v, path, "must be an IPv4 address (a.b.c.d)");
		return false;
	}
	memcpy(out, &a, 4);
	if (out[0] == 0 || out[0] >= 224 || out[0] == 127) {
		doc_err(c, v, path,
			"must be a unicast address outside 0/8 and 127/8");
		return false;
	}
	return true;
}
