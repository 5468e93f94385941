/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading one YAML value of a policy document: each reader checks the
 * value, and on a problem adds "file:line:col: path: message" to the
 * document's diagnostics and counts it.  Paths name the field from the
 * document root ("spec.from[1].targetRef.name").
 */
#ifndef CTL_DOCFIELD_H
#define CTL_DOCFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "kinds.h"
#include "meshforge/abi.h"
#include "model.h"
#include "ytree.h"

#define DOC_PATH_MAX 256

#define DOC_NAME_RULE                                                         \
	"must be 1..63 characters of a-z, 0-9, '-' and '.', starting and "    \
	"ending with a letter or digit"

/* One document being read: where problems go and how many it had. */
struct doc_ctx {
	struct diag *d;
	unsigned errors;
	/* A prefix ("spec.") that paths lose when reported: Kuma's
	 * universal form writes those fields at the top level. */
	const char *strip;
	/* Whose validation the document gets (kinds.h). */
	enum kuma_version kuma;
	/* What an unknown field is (model.h), and where WARN's warnings
	 * go (NULL: nowhere). */
	enum model_validate validate;
	struct diag *warn;
};

/* @path as the document writes it (without c->strip). */
const char *doc_user_path(const struct doc_ctx *c, const char *path);

void doc_err(struct doc_ctx *c, const struct ynode *at, const char *path,
	     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "@prefix.@key", or "@key" at the root, into @buf (DOC_PATH_MAX). */
const char *doc_path(char *buf, const char *prefix, const char *key);

/* "a scalar", "a mapping", "a list". */
const char *doc_kind_str(enum ynode_type t);

/*
 * Checks the keys of mapping @map (at @path): each must be a scalar, appear
 * once and be one of @known (NULL-terminated).  Returns true when @map is a
 * mapping at all (so its fields can be read), after reporting its problems.
 */
bool doc_check_map(struct doc_ctx *c, const struct ynode *map,
		   const char *path, const char *const *known);

/* The value of @key in mapping @map, or NULL (also for a YAML null). */
const struct ynode *doc_get(const struct ynode *map, const char *key);

/* The value of @key in mapping @map as written (a YAML null too), or
 * NULL when @map has no such key. */
const struct ynode *doc_get_raw(const struct ynode *map, const char *key);

/* The key node @key of mapping @map (where it is written), or NULL. */
const struct ynode *doc_key(const struct ynode *map, const char *key);

/* The value of required field @key, or NULL after reporting it missing. */
const struct ynode *doc_need(struct doc_ctx *c, const struct ynode *map,
			     const char *path, const char *key);

/*
 * What a plain (unquoted) scalar @v is when YAML does not read it as a
 * string: "a number", "a boolean" or "null" (Go's YAML reader's rules,
 * which Kuma and kubectl read with, YAML 1.1's yes/no/on/off and y/n
 * included); NULL when it is a string.  Kuma's schema refuses such a
 * value where a string is due: `retryOn: [500]`, `tags: {port: 6000}`.
 */
const char *doc_plain_type(const struct ynode *v);
/* Reports @v at @path when doc_plain_type() says it is a number or a
 * boolean; returns whether it is not (null is left to the caller, which
 * says what an empty value means). */
bool doc_is_text(struct doc_ctx *c, const struct ynode *v, const char *path);
/* A string into @out (@outsz bytes, NUL-padded); false after reporting a
 * non-scalar, a NUL byte or an overlong value. */
bool doc_str(struct doc_ctx *c, const struct ynode *v, const char *path,
	     char *out, size_t outsz);

/* Object names: DNS-subdomain-like, 1..63 characters (DOC_NAME_RULE). */
bool doc_name_ok(const char *s);
bool doc_name(struct doc_ctx *c, const struct ynode *v, const char *path,
	      char out[MF_NAME_MAX]);

/* An unsigned decimal integer in [@min, @max], written plain (80, not
 * "80": a quoted number is a string in YAML). */
bool doc_uint(struct doc_ctx *c, const struct ynode *v, const char *path,
	      unsigned long min, unsigned long max, unsigned long *out);
bool doc_port(struct doc_ctx *c, const struct ynode *v, const char *path,
	      uint16_t *out);
/* A dotted-quad unicast IPv4 address, into network order. */
bool doc_ipv4(struct doc_ctx *c, const struct ynode *v, const char *path,
	      uint8_t out[4]);

#endif /* CTL_DOCFIELD_H */
