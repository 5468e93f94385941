/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One emitter for every structured output: a walker describes a document
 * as events (maps, lists, keys, scalars) and a back end writes them as
 * YAML (block style, what `mfctl apply` reads back) or JSON.  `mfctl get`
 * in both formats, the saved state, `mfctl diff` and the agent's
 * /config_dump all write through it, so a string is escaped by one rule
 * per format, here (the agent's /metrics labels too: emit_prom_escape()).
 *
 *   struct emit e;
 *   emit_init(&e, EMIT_YAML, emit_to_file, stdout);
 *   emit_map_begin(&e);
 *   emit_key(&e, "name"); emit_str(&e, "web");
 *   emit_key(&e, "ports"); emit_list_begin(&e); emit_uint(&e, 80);
 *   emit_list_end(&e);
 *   emit_map_end(&e);
 *
 * YAML:  "name: web\nports:\n  - 80\n"   (an empty map is "{}", an empty
 *        list "[]"; a map in a list starts on the item's "- " line)
 * JSON:  {"name": "web", "ports": [80]}
 *
 * Misuse (a scalar where a key is due, too deep a nesting) sets e->err to
 * -EINVAL and is otherwise ignored, so a walker never has to check each
 * call; a write error of the sink is the sink's to report.
 */
#ifndef MF_EMIT_H
#define MF_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum emit_fmt {
	EMIT_YAML = 1,
	EMIT_JSON,
};

#define EMIT_MAX_DEPTH	32
#define EMIT_KEY_MAX	64

/* Where the bytes go. */
typedef void emit_write_fn(void *arg, const char *buf, size_t n);

/* emit_write_fn for a FILE *. */
void emit_to_file(void *arg, const char *buf, size_t n);

struct emit_level {
	bool map;		/* a map (keys and values), else a list */
	bool open;		/* its header line is written (YAML) */
	bool dash;		/* YAML: a list item whose first line is due */
	unsigned n;		/* entries so far */
	unsigned col;		/* YAML: column of its keys or "- " items */
	char key[EMIT_KEY_MAX];	/* YAML: the key it is the value of */
	bool keyed;		/* ... there is one */
};

struct emit {
	enum emit_fmt fmt;
	emit_write_fn *write;
	void *arg;
	/* JSON: entries of the containers less deep than this go one per
	 * line, indented (1: the items of a top-level list); 0: one line. */
	unsigned json_break;
	int depth;		/* levels open; 0: none */
	struct emit_level lv[EMIT_MAX_DEPTH];
	char key[EMIT_KEY_MAX];	/* the key the next value belongs to */
	bool have_key;
	int err;		/* 0, or -EINVAL after a misuse */
};

void emit_init(struct emit *e, enum emit_fmt fmt, emit_write_fn *write,
	       void *arg);

/* YAML: "---", the start of a document (JSON: nothing). */
void emit_doc(struct emit *e);

void emit_map_begin(struct emit *e);
void emit_map_end(struct emit *e);
void emit_list_begin(struct emit *e);
void emit_list_end(struct emit *e);

/* The key of the next value, in a map (at most EMIT_KEY_MAX - 1 bytes;
 * keys are names from schemas, never input). */
void emit_key(struct emit *e, const char *key);

/* A string: YAML plain when emit_yaml_plain() allows it, else double
 * quoted; JSON escaped.  emit_strn() takes at most @max bytes of @s, for
 * fixed-size fields read back from maps that may lack their NUL. */
void emit_str(struct emit *e, const char *s);
void emit_strn(struct emit *e, const char *s, size_t max);
/* A number already formatted ("12.5", "18446744073709551615"): the same
 * bytes in both formats. */
void emit_num(struct emit *e, const char *digits);
void emit_uint(struct emit *e, uint64_t v);
void emit_bool(struct emit *e, bool v);

/*
 * The one YAML quoting rule: true when the @n bytes at @s read back, from
 * a plain (unquoted) scalar, as this very string in every YAML reader:
 * only A-Z a-z 0-9 . _ / -, not starting with '-' or '.', not a number
 * (123, 1.5, 1e3, 0x1f, 0o17, 0b1), and not one of YAML 1.1's booleans
 * and nulls (yes, No, ON, null, ~...).  So "web", "10s", "5Mbps",
 * "10.0.0.1" and "/api" go plain; "80", "true", "" and
 * "spiffe://td/x" are quoted.
 */
bool emit_yaml_plain(const char *s, size_t n);

/*
 * The escapers, the only ones in the tree, for @n bytes at @s (NUL
 * included, when within @n), to @write, in one pass (linear in @n; a run
 * of bytes that need no escape is one write):
 *   - the JSON string body (no quotes): '"' and '\\' escaped, every
 *     control byte and 0x7f as \u00XX, UTF-8 sequences as they are, and
 *     each byte of an invalid sequence as \ufffd, so the output is valid
 *     JSON whatever the input;
 *   - the YAML double-quoted body: '"' and '\\' escaped, controls and
 *     0x7f as \xXX, UTF-8 as it is, invalid bytes as \xXX;
 *   - a label value of the Prometheus text format (no quotes): '"', '\\'
 *     and newline escaped (\", \\, \n) as the format wants, other bytes
 *     as they are, but each byte of an invalid UTF-8 sequence as U+FFFD,
 *     so the exposition stays UTF-8.
 */
void emit_json_escape(emit_write_fn *write, void *arg, const char *s,
		      size_t n);
void emit_yaml_escape(emit_write_fn *write, void *arg, const char *s,
		      size_t n);
void emit_prom_escape(emit_write_fn *write, void *arg, const char *s,
		      size_t n);

#endif /* MF_EMIT_H */
