// SPDX-License-Identifier: Apache-2.0
/*
 * An OpenTelemetry AnyValue in a policy (otlpval.h): its encoded form
 * both ways, read from YAML with diagnostics, and written back.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "docfield.h"
#include "otlpval.h"

/* ---- the encoded form ---------------------------------------------------- */

/* Decimal digits at @c up to @end (':' or ';'), into *@v (at most
 * @max), @c past @end. */
static int otlpv_num(struct otlpv_cur *c, char end, size_t max, size_t *v)
{
	size_t x = 0, digits = 0;

	while (c->at < c->n && c->p[c->at] >= '0' && c->p[c->at] <= '9') {
		x = x * 10 + (size_t)(c->p[c->at++] - '0');
		if (++digits > 6 || x > max)
			return -EINVAL;
	}
	if (!digits || c->at >= c->n || c->p[c->at] != end)
		return -EINVAL;
	c->at++;
	*v = x;
	return 0;
}

/* The text up to ';' at @c, NUL-terminated into @buf (@cap bytes). */
static int otlpv_word(struct otlpv_cur *c, char *buf, size_t cap)
{
	const char *semi = memchr(c->p + c->at, ';', c->n - c->at);
	size_t len = semi ? (size_t)(semi - (c->p + c->at)) : 0;

	if (!semi || !len || len >= cap)
		return -EINVAL;
	memcpy(buf, c->p + c->at, len);
	buf[len] = '\0';
	c->at += len + 1;
	return 0;
}

/* Whether @s is a number as the form writes one: an optional '-',
 * digits, for a double a fraction and an exponent; nothing else (no
 * blanks, hex, inf or nan, which strto* would take). */
static bool otlpv_numeric(const char *s, bool dbl)
{
	for (const char *p = s; *p; p++)
		if (!strchr(dbl ? "0123456789-+.eE" : "0123456789-", *p))
			return false;
	return *s && *s != '+';
}

static int otlpv_parse_int(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!otlpv_numeric(s, false))
		return -EINVAL;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*v = x;
	return 0;
}

static int otlpv_parse_double(const char *s, double *v)
{
	char *end;
	double x;

	if (!otlpv_numeric(s, true))
		return -EINVAL;
	errno = 0;
	x = strtod(s, &end);
	if (*end || !isfinite(x) || errno == ERANGE)
		return -EINVAL;
	*v = x;
	return 0;
}

int otlpv_next(struct otlpv_cur *c, struct otlpv_val *v)
{
	char word[40];

	memset(v, 0, sizeof(*v));
	if (c->at >= c->n)
		return -EINVAL;
	v->type = (enum otlpv_type)c->p[c->at++];
	switch (v->type) {
	case OTLPV_STRING:
	case OTLPV_BYTES:
		if (otlpv_num(c, ':', c->n, &v->len) || v->len > c->n - c->at)
			return -EINVAL;
		v->s = c->p + c->at;
		c->at += v->len;
		return 0;
	case OTLPV_BOOL:
		if (c->at >= c->n || (c->p[c->at] != '0' &&
				      c->p[c->at] != '1'))
			return -EINVAL;
		v->b = c->p[c->at++] == '1';
		return 0;
	case OTLPV_INT:
		if (otlpv_word(c, word, sizeof(word)))
			return -EINVAL;
		return otlpv_parse_int(word, &v->i);
	case OTLPV_DOUBLE:
		if (otlpv_word(c, word, sizeof(word)))
			return -EINVAL;
		return otlpv_parse_double(word, &v->d);
	case OTLPV_ARRAY:
	case OTLPV_KVLIST:
		return otlpv_num(c, ':', OTLPV_NODES_MAX, &v->count);
	case OTLPV_NULL:
		return 0;
	}
	return -EINVAL;
}

int otlpv_next_key(struct otlpv_cur *c, const char **key, size_t *len)
{
	if (otlpv_num(c, ':', c->n, len) || !*len || *len > c->n - c->at)
		return -EINVAL;
	*key = c->p + c->at;
	c->at += *len;
	return 0;
}

/* One value at @c and all it holds, at @depth (1: the top).  In a JSON
 * value (@json), and only there, a null; its keys are what the reader
 * takes, so that they can be written back as keys (emit_key()): no NUL,
 * at most EMIT_KEY_MAX - 1 bytes. */
static int otlpv_check_at(struct otlpv_cur *c, unsigned depth, size_t *nodes,
			  bool json)
{
	struct otlpv_val v;
	const char *k;
	size_t klen;

	if (depth > OTLPV_DEPTH_MAX || ++*nodes > OTLPV_NODES_MAX ||
	    otlpv_next(c, &v) || (v.type == OTLPV_NULL && !json))
		return -EINVAL;
	for (size_t i = 0; i < v.count; i++) {
		if (v.type == OTLPV_KVLIST && otlpv_next_key(c, &k, &klen))
			return -EINVAL;
		if (v.type == OTLPV_KVLIST && json &&
		    (klen >= EMIT_KEY_MAX || memchr(k, '\0', klen)))
			return -EINVAL;
		if (otlpv_check_at(c, depth + 1, nodes, json))
			return -EINVAL;
	}
	return 0;
}

int otlpv_check(const char *p, size_t n, size_t *nodes)
{
	struct otlpv_cur c = { p, n, 0 };
	size_t count = 0;

	if (otlpv_check_at(&c, 1, &count, false) || c.at != n)
		return -EINVAL;
	if (nodes)
		*nodes = count;
	return 0;
}

int otlpv_check_json(const char *p, size_t n)
{
	struct otlpv_cur c = { p, n, 0 };
	size_t count = 0;

	return otlpv_check_at(&c, 1, &count, true) || c.at != n ? -EINVAL : 0;
}

void otlpv_put_raw(struct otlpv_out *o, const char *s, size_t len)
{
	if (o->over || o->cap - o->at < len) {
		o->over = true;
		return;
	}
	memcpy(o->p + o->at, s, len);
	o->at += len;
}

static void otlpv_putf(struct otlpv_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void otlpv_putf(struct otlpv_out *o, const char *fmt, ...)
{
	char buf[48];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	otlpv_put_raw(o, buf, n > 0 ? (size_t)n : 0);
}

void otlpv_put_text(struct otlpv_out *o, enum otlpv_type t, const char *s,
		    size_t len)
{
	otlpv_putf(o, "%c%zu:", (char)t, len);
	otlpv_put_raw(o, s, len);
}

void otlpv_put_key(struct otlpv_out *o, const char *s, size_t len)
{
	otlpv_putf(o, "%zu:", len);
	otlpv_put_raw(o, s, len);
}

void otlpv_put_bool(struct otlpv_out *o, bool b)
{
	otlpv_put_raw(o, b ? "b1" : "b0", 2);
}

void otlpv_put_null(struct otlpv_out *o)
{
	otlpv_put_raw(o, "n", 1);
}

void otlpv_put_int(struct otlpv_out *o, int64_t i)
{
	otlpv_putf(o, "i%" PRId64 ";", i);
}

/* The shortest of %.15g .. %.17g that reads back as @d, so 0.1 stays
 * "0.1". */
static void otlpv_fmt_double(char *buf, size_t cap, double d)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}

void otlpv_put_double(struct otlpv_out *o, double d)
{
	char buf[40];

	otlpv_fmt_double(buf, sizeof(buf), d);
	otlpv_putf(o, "d%s;", buf);
}

void otlpv_put_list(struct otlpv_out *o, enum otlpv_type t, size_t count)
{
	otlpv_putf(o, "%c%zu:", (char)t, count);
}

/* ---- the names --------------------------------------------------------- */

/* Each value's key, protobuf's JSON name first and its proto name
 * OTLPV_NTYPES later. */
#define OTLPV_NTYPES	7
static const char *const otlpv_keys[2 * OTLPV_NTYPES + 1] = {
	"stringValue", "boolValue", "intValue", "doubleValue", "bytesValue",
	"arrayValue", "kvlistValue",
	"string_value", "bool_value", "int_value", "double_value",
	"bytes_value", "array_value", "kvlist_value", NULL,
};
static const enum otlpv_type otlpv_types[OTLPV_NTYPES] = {
	OTLPV_STRING, OTLPV_BOOL, OTLPV_INT, OTLPV_DOUBLE, OTLPV_BYTES,
	OTLPV_ARRAY, OTLPV_KVLIST,
};

#define OTLPV_NAMES							\
	"stringValue, boolValue, intValue, doubleValue, bytesValue, "	\
	"arrayValue, kvlistValue"

static const char *otlpv_name(enum otlpv_type t)
{
	for (size_t i = 0; i < OTLPV_NTYPES; i++)
		if (otlpv_types[i] == t)
			return otlpv_keys[i];
	return "?";
}

/* Scalar @v (a string, bytes, a bool, an int or a double) through @e,
 * as both forms write it; false for any other type.  @json: a double
 * that prints as a whole number gets ".0", so that it reads back as a
 * double, not an int. */
static bool otlpv_emit_scalar(struct emit *e, const struct otlpv_val *v,
			      bool json)
{
	char buf[48];

	switch (v->type) {
	case OTLPV_STRING:
	case OTLPV_BYTES:
		emit_strn(e, v->s, v->len);
		return true;
	case OTLPV_BOOL:
		emit_bool(e, v->b);
		return true;
	case OTLPV_INT:
		snprintf(buf, sizeof(buf), "%" PRId64, v->i);
		emit_num(e, buf);
		return true;
	case OTLPV_DOUBLE:
		otlpv_fmt_double(buf, sizeof(buf) - 2, v->d);
		if (json && !strpbrk(buf, ".e"))
			strcat(buf, ".0");
		emit_num(e, buf);
		return true;
	default:
		return false;
	}
}

/* ---- written back ------------------------------------------------------ */

static void otlpv_emit_at(struct emit *e, struct otlpv_cur *c, bool top)
{
	struct otlpv_val v;
	const char *k;
	size_t klen;

	/* Checked whole before: this cannot fail. */
	if (otlpv_next(c, &v))
		return;
	if (top && v.type == OTLPV_STRING) {
		emit_strn(e, v.s, v.len);
		return;
	}
	emit_map_begin(e);
	emit_key(e, otlpv_name(v.type));
	if (otlpv_emit_scalar(e, &v, false)) {
		emit_map_end(e);
		return;
	}
	switch (v.type) {
	case OTLPV_ARRAY:
	case OTLPV_KVLIST:
		emit_map_begin(e);
		emit_key(e, "values");
		emit_list_begin(e);
		for (size_t i = 0; i < v.count; i++) {
			if (v.type == OTLPV_ARRAY) {
				otlpv_emit_at(e, c, false);
				continue;
			}
			otlpv_next_key(c, &k, &klen);
			emit_map_begin(e);
			emit_key(e, "key");
			emit_strn(e, k, klen);
			emit_key(e, "value");
			otlpv_emit_at(e, c, false);
			emit_map_end(e);
		}
		emit_list_end(e);
		emit_map_end(e);
		break;
	case OTLPV_NULL:	/* not in a body: otlpv_check() refused it */
	default:		/* a scalar: written above */
		break;
	}
	emit_map_end(e);
}

/* JSON value at @c (checked whole) through @e. */
static void otlpv_emit_json_at(struct emit *e, struct otlpv_cur *c)
{
	struct otlpv_val v;
	const char *k;
	size_t klen;

	if (otlpv_next(c, &v) || otlpv_emit_scalar(e, &v, true))
		return;
	switch (v.type) {
	case OTLPV_NULL:
		/* The same word in YAML and JSON, unquoted as a number is. */
		emit_num(e, "null");
		return;
	case OTLPV_ARRAY:
		emit_list_begin(e);
		for (size_t i = 0; i < v.count; i++)
			otlpv_emit_json_at(e, c);
		emit_list_end(e);
		return;
	case OTLPV_KVLIST:
		emit_map_begin(e);
		for (size_t i = 0; i < v.count; i++) {
			char key[EMIT_KEY_MAX];

			/* emit_key() takes a C string: otlpv_check_json()
			 * saw that a key holds no NUL and fits. */
			if (otlpv_next_key(c, &k, &klen) || klen >= sizeof(key))
				return;
			memcpy(key, k, klen);
			key[klen] = '\0';
			emit_key(e, key);
			otlpv_emit_json_at(e, c);
		}
		emit_map_end(e);
		return;
	default:		/* a scalar: written above */
		return;
	}
}

void otlpv_emit_json(struct emit *e, const char *p, size_t n)
{
	struct otlpv_cur c = { p, n, 0 };

	if (otlpv_check_json(p, n)) {
		emit_strn(e, p, n);
		return;
	}
	otlpv_emit_json_at(e, &c);
}

void otlpv_emit(struct emit *e, const char *p, size_t n)
{
	struct otlpv_cur c = { p, n, 0 };

	if (otlpv_check(p, n, NULL)) {
		emit_strn(e, p, n);
		return;
	}
	otlpv_emit_at(e, &c, true);
}

/* ---- read from YAML ------------------------------------------------------ */

struct otlpv_rd {
	struct doc_ctx *c;
	struct otlpv_out *o;
	size_t nodes;
	bool bad;
};

static void otlpv_err(struct otlpv_rd *r, const struct ynode *at,
		      const char *path, const char *why)
{
	doc_err(r->c, at, path, "%s", why);
	r->bad = true;
}

/* Whether value @v (at @path), @depth deep (1: the top), is within the
 * bounds of depth and count; false with the error said (the count's
 * once, where it is passed: "is one value too many: @many N@after"). */
static bool otlpv_rd_room(struct otlpv_rd *r, const struct ynode *v,
			  const char *path, unsigned depth, const char *many,
			  const char *after)
{
	if (depth > OTLPV_DEPTH_MAX) {
		doc_err(r->c, v, path, "must nest at most %d values deep",
			OTLPV_DEPTH_MAX);
		r->bad = true;
		return false;
	}
	if (++r->nodes > OTLPV_NODES_MAX) {
		if (r->nodes == OTLPV_NODES_MAX + 1)
			doc_err(r->c, v, path, "is one value too many: %s %d%s",
				many, OTLPV_NODES_MAX, after);
		r->bad = true;
		return false;
	}
	return true;
}

/* "@path[@i]" into @buf (DOC_PATH_MAX). */
static const char *otlpv_item_path(char *buf, const char *path, size_t i)
{
	int n = snprintf(buf, DOC_PATH_MAX, "%s[%zu]", path, i);

	if (n >= DOC_PATH_MAX)
		strcpy(buf + DOC_PATH_MAX - 4, "...");
	return buf;
}

/* A scalar's text: a string holds no NUL (a pooled string cannot). */
static bool otlpv_scalar(struct otlpv_rd *r, const struct ynode *v,
			 const char *path)
{
	if (v->type != YNODE_SCALAR) {
		doc_err(r->c, v, path, "must be a scalar, not %s",
			doc_kind_str(v->type));
		r->bad = true;
		return false;
	}
	if (memchr(v->str, '\0', v->len)) {
		otlpv_err(r, v, path, "must not contain a NUL byte");
		return false;
	}
	return true;
}

static void otlpv_rd_value(struct otlpv_rd *r, const struct ynode *v,
			   const char *path, unsigned depth);

/* arrayValue's or kvlistValue's {values: [...]} at @v. */
static void otlpv_rd_list(struct otlpv_rd *r, enum otlpv_type t,
			  const struct ynode *v, const char *path,
			  unsigned depth)
{
	static const char *const list_keys[] = { "values", NULL };
	static const char *const kv_keys[] = { "key", "value", NULL };
	const struct ynode *vals;
	char vp[DOC_PATH_MAX], ip[DOC_PATH_MAX], fp[DOC_PATH_MAX];
	size_t n;

	if (ynode_is_null(v)) {
		otlpv_put_list(r->o, t, 0);
		return;
	}
	if (!doc_check_map(r->c, v, path, list_keys)) {
		r->bad = true;
		return;
	}
	vals = doc_get(v, "values");
	doc_path(vp, path, "values");
	if (vals && vals->type != YNODE_SEQ) {
		doc_err(r->c, vals, vp, "must be a list, not %s",
			doc_kind_str(vals->type));
		r->bad = true;
		return;
	}
	n = vals ? vals->nkids : 0;
	if (n > OTLPV_NODES_MAX) {
		doc_err(r->c, vals, vp, "must have at most %d items",
			OTLPV_NODES_MAX);
		r->bad = true;
		return;
	}
	otlpv_put_list(r->o, t, n);
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = vals->kids[i], *k, *kv;

		otlpv_item_path(ip, vp, i);
		if (t == OTLPV_ARRAY) {
			otlpv_rd_value(r, it, ip, depth + 1);
			continue;
		}
		if (!doc_check_map(r->c, it, ip, kv_keys)) {
			r->bad = true;
			continue;
		}
		k = doc_need(r->c, it, ip, "key");
		kv = doc_need(r->c, it, ip, "value");
		if (!k || !kv) {
			r->bad = true;
			continue;
		}
		doc_path(fp, ip, "key");
		if (!otlpv_scalar(r, k, fp))
			continue;
		if (!k->len) {
			otlpv_err(r, k, fp, "must not be empty");
			continue;
		}
		if (memchr(k->str, '%', k->len)) {
			otlpv_err(r, k, fp, "must be a fixed name: "
			       "placeholders (%...%) go in values");
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct ynode *pk = vals->kids[j]->type ==
						 YNODE_MAP ?
						 doc_get(vals->kids[j], "key") :
						 NULL;

			if (pk && pk->type == YNODE_SCALAR &&
			    pk->len == k->len &&
			    !memcmp(pk->str, k->str, k->len)) {
				doc_err(r->c, k, fp, "duplicate key (first "
					"at %s[%zu])", vp, j);
				r->bad = true;
				break;
			}
		}
		otlpv_put_key(r->o, k->str, k->len);
		doc_path(fp, ip, "value");
		otlpv_rd_value(r, kv, fp, depth + 1);
	}
}

/* Whether the @n bytes at @s are base64 as protobuf's JSON writes bytes:
 * the standard alphabet, padded to a multiple of four.  (wolfSSL's
 * decoder passes over what is not, so it cannot say.) */
static bool otlpv_base64(const char *s, size_t n)
{
	size_t pad = 0;

	if (!n || n % 4 || n > UINT32_MAX)
		return false;
	while (pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' &&
		    s[i] != '/')
			return false;
	return true;
}

/* A value (a mapping of one key) at @v, @depth deep (1: the top). */
static void otlpv_rd_value(struct otlpv_rd *r, const struct ynode *v,
			   const char *path, unsigned depth)
{
	const struct ynode *k, *x;
	enum otlpv_type t = 0;
	char fp[DOC_PATH_MAX];
	unsigned before;
	int64_t i;
	double d;
	word32 blen;
	byte *bin;

	if (!otlpv_rd_room(r, v, path, depth, "a body holds at most",
			   ""))
		return;
	if (v->type != YNODE_MAP) {
		doc_err(r->c, v, path, "must be a mapping with one of "
			OTLPV_NAMES ", not %s", doc_kind_str(v->type));
		r->bad = true;
		return;
	}
	before = r->c->errors;
	doc_check_map(r->c, v, path, otlpv_keys);
	if (r->c->errors != before) {
		r->bad = true;
		return;
	}
	if (ynode_map_len(v) != 1) {
		otlpv_err(r, v, path, "must have exactly one of " OTLPV_NAMES);
		return;
	}
	k = v->kids[0];
	x = v->kids[1];
	for (size_t j = 0; j < 2 * OTLPV_NTYPES; j++)
		if (!strcmp(k->str, otlpv_keys[j]))
			t = otlpv_types[j % OTLPV_NTYPES];
	if (!t)
		return;	/* an unknown key: doc_check_map() said it */
	doc_path(fp, path, k->str);
	switch (t) {
	case OTLPV_STRING:
		/* `stringValue:` with nothing: protobuf's empty string. */
		if (ynode_is_null(x))
			otlpv_put_text(r->o, t, "", 0);
		else if (otlpv_scalar(r, x, fp))
			otlpv_put_text(r->o, t, x->str, x->len);
		return;
	case OTLPV_BOOL:
		if (x->type != YNODE_SCALAR || !x->plain ||
		    (strcmp(x->str, "true") && strcmp(x->str, "false")))
			otlpv_err(r, x, fp, "must be true or false");
		else
			otlpv_put_bool(r->o, !strcmp(x->str, "true"));
		return;
	case OTLPV_INT:
		/* Plain or quoted, as protobuf's JSON writes an int64. */
		if (!otlpv_scalar(r, x, fp))
			return;
		if (otlpv_parse_int(x->str, &i))
			otlpv_err(r, x, fp, "must be an integer in the int64 "
			       "range");
		else
			otlpv_put_int(r->o, i);
		return;
	case OTLPV_DOUBLE:
		if (!otlpv_scalar(r, x, fp))
			return;
		if (!x->plain || otlpv_parse_double(x->str, &d))
			otlpv_err(r, x, fp, "must be a finite number");
		else
			otlpv_put_double(r->o, d);
		return;
	case OTLPV_BYTES:
		if (!otlpv_scalar(r, x, fp))
			return;
		blen = (word32)x->len;
		bin = malloc(x->len + 1);
		if (!bin || !otlpv_base64(x->str, x->len) ||
		    Base64_Decode((const byte *)x->str, (word32)x->len, bin,
				  &blen))
			otlpv_err(r, x, fp, bin ? "must be base64" :
					       "out of memory");
		else
			otlpv_put_text(r->o, t, x->str, x->len);
		free(bin);
		return;
	case OTLPV_ARRAY:
	case OTLPV_KVLIST:
		otlpv_rd_list(r, t, x, fp, depth);
		return;
	case OTLPV_NULL:
		return;	/* no key names it */
	}
}

static bool otlpv_rd_top(struct otlpv_rd *r, const struct ynode *v,
			 const char *path);

bool otlpv_read_yaml(struct doc_ctx *c, const struct ynode *v,
		     const char *path, struct otlpv_out *o)
{
	struct otlpv_rd r = { .c = c, .o = o };
	/* Problems doc_check_map() says (an unknown key) count too. */
	unsigned before = c->errors;
	/* An AnyValue's keys are not a kind's fields but its value's type:
	 * an unknown one is a value of no type, refused under any
	 * --validate. */
	const enum model_validate validate = c->validate;
	bool ok;

	c->validate = MODEL_VALIDATE_STRICT;
	ok = otlpv_rd_top(&r, v, path);
	c->validate = validate;
	return ok && c->errors == before;
}

/* otlpv_read_yaml() without its bounds on the whole. */
static bool otlpv_rd_top(struct otlpv_rd *r, const struct ynode *v,
			 const char *path)
{
	struct doc_ctx *c = r->c;
	struct otlpv_out *o = r->o;

	if (v->type == YNODE_SCALAR) {
		/* Kuma's raw string. */
		if (!otlpv_scalar(r, v, path))
			return false;
		if (!v->len) {
			otlpv_err(r, v, path, "must not be empty");
			return false;
		}
		otlpv_put_text(o, OTLPV_STRING, v->str, v->len);
	} else {
		otlpv_rd_value(r, v, path, 1);
	}
	if (!r->bad && o->over) {
		doc_err(c, v, path, "takes more than %zu bytes in the "
			"record's form", o->cap);
		r->bad = true;
	}
	return !r->bad;
}

/* ---- a JSON value read from YAML ----------------------------------------- */

/* A JSON value's scalar @v, which otlpv_scalar() passed: plain words as
 * YAML 1.2's core schema reads them, the rest strings. */
static void otlpv_rd_json_scalar(struct otlpv_rd *r, const struct ynode *v)
{
	int64_t i;
	double d;

	if (v->plain && ynode_is_null(v))
		otlpv_put_null(r->o);
	else if (v->plain && (!strcmp(v->str, "true") ||
			      !strcmp(v->str, "false")))
		otlpv_put_bool(r->o, !strcmp(v->str, "true"));
	else if (v->plain && !otlpv_parse_int(v->str, &i))
		otlpv_put_int(r->o, i);
	else if (v->plain && !otlpv_parse_double(v->str, &d))
		otlpv_put_double(r->o, d);
	else
		otlpv_put_text(r->o, OTLPV_STRING, v->str, v->len);
}

/* JSON value @v (at @path), @depth deep (1: the top). */
static void otlpv_rd_json(struct otlpv_rd *r, const struct ynode *v,
			  const char *path, unsigned depth)
{
	char fp[DOC_PATH_MAX];
	size_t n;

	if (!otlpv_rd_room(r, v, path, depth, "at most", " in all"))
		return;
	if (v->tagged) {
		otlpv_err(r, v, path, "must not have a YAML tag: a JSON "
			  "value has none");
		return;
	}
	if (v->type == YNODE_SCALAR) {
		if (otlpv_scalar(r, v, path))
			otlpv_rd_json_scalar(r, v);
		return;
	}
	n = v->type == YNODE_MAP ? ynode_map_len(v) : v->nkids;
	if (n > OTLPV_NODES_MAX) {
		doc_err(r->c, v, path, "must have at most %d items",
			OTLPV_NODES_MAX);
		r->bad = true;
		return;
	}
	if (v->type == YNODE_SEQ) {
		otlpv_put_list(r->o, OTLPV_ARRAY, n);
		for (size_t i = 0; i < n; i++)
			otlpv_rd_json(r, v->kids[i],
				      otlpv_item_path(fp, path, i), depth + 1);
		return;
	}
	otlpv_put_list(r->o, OTLPV_KVLIST, n);
	for (size_t i = 0; i < n; i++) {
		const struct ynode *k = v->kids[2 * i];

		/* A key is JSON's string: a scalar, its text. */
		if (k->type != YNODE_SCALAR || k->tagged) {
			otlpv_err(r, k, path, "must have only strings as keys");
			continue;
		}
		doc_path(fp, path, k->str);
		if (!otlpv_scalar(r, k, fp))
			continue;
		/* Written back as a key, which takes EMIT_KEY_MAX - 1. */
		if (!k->len || k->len >= EMIT_KEY_MAX) {
			doc_err(r->c, k, fp, "must be a key of 1 to %d bytes",
				EMIT_KEY_MAX - 1);
			r->bad = true;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			const struct ynode *pk = v->kids[2 * j];

			if (pk->type == YNODE_SCALAR && pk->len == k->len &&
			    !memcmp(pk->str, k->str, k->len)) {
				doc_err(r->c, k, fp, "duplicate key (first at "
					"line %u)", pk->loc.line);
				r->bad = true;
				break;
			}
		}
		otlpv_put_key(r->o, k->str, k->len);
		otlpv_rd_json(r, v->kids[2 * i + 1], fp, depth + 1);
	}
}

bool otlpv_read_json(struct doc_ctx *c, const struct ynode *v,
		     const char *path, struct otlpv_out *o)
{
	struct otlpv_rd r = { .c = c, .o = o };
	unsigned before = c->errors;

	otlpv_rd_json(&r, v, path, 1);
	if (!r.bad && o->over) {
		doc_err(c, v, path, "takes more than %zu bytes in the "
			"record's form", o->cap);
		r.bad = true;
	}
	return !r.bad && c->errors == before;
}
