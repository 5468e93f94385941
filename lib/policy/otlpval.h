/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlpval: an OpenTelemetry AnyValue (OTLP's common.proto) as a policy
 * holds it: MeshAccessLog's openTelemetry `body`, which Kuma takes as a
 * string or as an AnyValue written in YAML, as protobuf's JSON writes
 * one:
 *
 *   body:
 *     kvlistValue:
 *       values:
 *         - key: mesh
 *           value: {stringValue: "%KUMA_MESH%"}
 *         - key: codes
 *           value: {arrayValue: {values: [{intValue: 1}, {boolValue: true}]}}
 *
 * A value is a mapping with exactly one of stringValue, boolValue,
 * intValue (an int64, plain or quoted), doubleValue (a finite number),
 * bytesValue (base64), arrayValue {values: [value...]} and kvlistValue
 * {values: [{key, value}...]} (protobuf's JSON names; its proto names,
 * string_value and so on, are read too).  A body written as a plain
 * string is a stringValue.  Strings may hold format operators, rendered
 * per record by the agent; keys are fixed names, unique in their list.
 *
 * Kuma reads a body it cannot parse as an AnyValue (an unknown key, a
 * second value, a wrong type) as the raw text of its JSON; here it is
 * refused, with where and why, since such a body is a mistake.
 *
 * The record keeps the value as one pooled string (mf_strings, so at most
 * MF_STRING_MAX bytes), in a length-prefixed form that needs no escaping:
 *
 *   value := 's' len ':' bytes        string
 *          | 'b' ('0' | '1')          bool
 *          | 'i' [-]digits ';'        int64
 *          | 'd' number ';'           double (the shortest exact text)
 *          | 'x' len ':' base64       bytes, as written
 *          | 'a' count ':' value*     array
 *          | 'k' count ':' (len ':' key value)*   kvlist
 *
 * and at most OTLPV_DEPTH_MAX values deep and OTLPV_NODES_MAX values in
 * all, so that the agent's records (otlp_logs.h) have room for a body
 * once its strings are rendered.
 *
 * The same form holds a free-form JSON value (a MeshIdentity extension's
 * config: Go's apiextensionsv1.JSON), with one more type:
 *
 *   value := 'n'                      null (JSON values only)
 *
 * an object being a kvlist, a list an array, a number an int or a double.
 * It is read from any YAML the JSON data model holds: no tags (aliases the
 * YAML reader refuses already), keys scalars taken as their text, unique
 * and non-empty; plain true/false are bools, plain numbers ints (int64)
 * or doubles, null and ~ null, anything else a string.  It is written
 * back as that YAML or JSON, a double always with a '.' or an exponent so
 * that it reads back as a double.
 */
#ifndef MF_OTLPVAL_H
#define MF_OTLPVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"

#define OTLPV_DEPTH_MAX		8
#define OTLPV_NODES_MAX		64

enum otlpv_type {
	OTLPV_STRING = 's',
	OTLPV_BOOL = 'b',
	OTLPV_INT = 'i',
	OTLPV_DOUBLE = 'd',
	OTLPV_BYTES = 'x',
	OTLPV_ARRAY = 'a',
	OTLPV_KVLIST = 'k',
	OTLPV_NULL = 'n',	/* JSON values only: otlpv_check() refuses it */
};

/* A cursor over an encoded value. */
struct otlpv_cur {
	const char *p;
	size_t n, at;
};

/* One value's head: a string's or bytes' text (not NUL-terminated), a
 * scalar's value, a list's count (its items follow). */
struct otlpv_val {
	enum otlpv_type type;
	const char *s;			/* STRING, BYTES (base64) */
	size_t len;
	bool b;
	int64_t i;
	double d;
	size_t count;			/* ARRAY, KVLIST */
};

/* The value at @c into @v, @c past its head.  Returns 0, or -EINVAL for
 * one that is not well formed. */
int otlpv_next(struct otlpv_cur *c, struct otlpv_val *v);
/* A kvlist item's key at @c (the value follows).  Returns 0 or -EINVAL. */
int otlpv_next_key(struct otlpv_cur *c, const char **key, size_t *len);

/* Whether @p (@n bytes) is exactly one well-formed value within the
 * bounds; its values' count into *@nodes (may be NULL).  Returns 0 or
 * -EINVAL. */
int otlpv_check(const char *p, size_t n, size_t *nodes);
/* The same for a JSON value, which may hold nulls. */
int otlpv_check_json(const char *p, size_t n);

/* Writing one: each call appends at o->at; o->over once @cap ran out
 * (what was written is then not a value). */
struct otlpv_out {
	char *p;
	size_t cap, at;
	bool over;
};

void otlpv_put_text(struct otlpv_out *o, enum otlpv_type t, const char *s,
		    size_t len);
void otlpv_put_key(struct otlpv_out *o, const char *s, size_t len);
void otlpv_put_bool(struct otlpv_out *o, bool b);
void otlpv_put_null(struct otlpv_out *o);
void otlpv_put_int(struct otlpv_out *o, int64_t i);
void otlpv_put_double(struct otlpv_out *o, double d);
void otlpv_put_list(struct otlpv_out *o, enum otlpv_type t, size_t count);
/* @len bytes of a value's form as they are (a scalar copied whole). */
void otlpv_put_raw(struct otlpv_out *o, const char *s, size_t len);

/* @p (@n bytes) as its YAML or JSON through @e: a string at the top as a
 * string, else the mapping it was written as (protobuf's JSON names).
 * One that is not well formed is written as its text. */
void otlpv_emit(struct emit *e, const char *p, size_t n);
/* JSON value @p (@n bytes) as its YAML or JSON through @e, as above; one
 * not well formed as its text. */
void otlpv_emit_json(struct emit *e, const char *p, size_t n);

struct doc_ctx;
struct ynode;

/* Value @v of a document (at @path) into @o, each problem said through
 * @c with its place.  Returns false when there was one (@o is then not a
 * value). */
bool otlpv_read_yaml(struct doc_ctx *c, const struct ynode *v,
		     const char *path, struct otlpv_out *o);
/* The same for a JSON value. */
bool otlpv_read_json(struct doc_ctx *c, const struct ynode *v,
		     const char *path, struct otlpv_out *o);

#endif /* MF_OTLPVAL_H */
