// SPDX-License-Identifier: Apache-2.0
/*
 * The emitter's two back ends.  JSON is written as events arrive.  YAML
 * block style needs to know whether a container is empty ("key: {}") or
 * not ("key:" and its entries on the next lines), so the header line of a
 * container is held back until its first entry, or its end.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "emit.h"

void emit_to_file(void *arg, const char *buf, size_t n)
{
	fwrite(buf, 1, n, arg);
}

void emit_init(struct emit *e, enum emit_fmt fmt, emit_write_fn *write,
	       void *arg)
{
	memset(e, 0, sizeof(*e));
	e->fmt = fmt;
	e->write = write;
	e->arg = arg;
}

static void emit_put(const struct emit *e, const char *s)
{
	e->write(e->arg, s, strlen(s));
}

static void emit_spaces(const struct emit *e, unsigned n)
{
	static const char sp[] = "                                ";

	while (n) {
		unsigned k = n < sizeof(sp) - 1 ? n : sizeof(sp) - 1;

		e->write(e->arg, sp, k);
		n -= k;
	}
}

/* ---- the escapers ------------------------------------------------------ */

/* Length of the valid UTF-8 sequence starting at @s (at most @n bytes):
 * 2..4, or 0 when it is not one (overlong forms and surrogates count as
 * invalid, as RFC 3629 says). */
static size_t emit_utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* The formats a string body is escaped for. */
enum emit_esc {
	EMIT_ESC_JSON = 1,	/* a JSON string */
	EMIT_ESC_YAML,		/* a YAML double-quoted scalar */
	EMIT_ESC_PROM,		/* a Prometheus label value */
};

/* True when byte @ch, not part of a valid multi-byte UTF-8 sequence,
 * goes as it is in format @fmt. */
static bool emit_esc_plain(enum emit_esc fmt, unsigned char ch)
{
	if (ch == '"' || ch == '\\')
		return false;
	if (fmt == EMIT_ESC_PROM)
		return ch != '\n' && ch < 0x80;
	return ch >= 0x20 && ch < 0x7f;
}

/*
 * One pass over @s: runs of bytes that go as they are are written with one
 * call each, and each byte that does not is written as its escape, built
 * here without a format call.  So the work is linear in @n, and a string
 * with nothing to escape is one write.
 */
static void emit_escape(emit_write_fn *write, void *arg, const char *s,
			size_t n, enum emit_esc fmt)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0;		/* bytes before @i that go as they are */
	char esc[6];
	size_t len;

	for (size_t i = 0; i < n;) {
		unsigned char ch = p[i];
		size_t u = ch >= 0x80 ? emit_utf8_len(p + i, n - i) : 1;

		if (u > 1 || emit_esc_plain(fmt, ch)) {
			run += u;
			i += u;
			continue;
		}
		if (run)
			write(arg, (const char *)p + i - run, run);
		run = 0;
		esc[0] = '\\';
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			len = 2;
		} else if (fmt == EMIT_ESC_PROM && ch == '\n') {
			esc[1] = 'n';
			len = 2;
		} else if (fmt == EMIT_ESC_PROM) {
			/* Invalid UTF-8: U+FFFD itself, so the exposition
			 * stays UTF-8. */
			memcpy(esc, "\xef\xbf\xbd", 3);
			len = 3;
		} else if (fmt == EMIT_ESC_JSON && ch >= 0x80) {
			memcpy(esc, "\\ufffd", 6);
			len = 6;
		} else if (fmt == EMIT_ESC_JSON) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 0xf];
			len = 6;
		} else {
			esc[1] = 'x';
			esc[2] = hex[ch >> 4];
			esc[3] = hex[ch & 0xf];
			len = 4;
		}
		write(arg, esc, len);
		i++;
	}
	if (run)
		write(arg, (const char *)p + n - run, run);
}

void emit_json_escape(emit_write_fn *write, void *arg, const char *s,
		      size_t n)
{
	emit_escape(write, arg, s, n, EMIT_ESC_JSON);
}

void emit_yaml_escape(emit_write_fn *write, void *arg, const char *s,
		      size_t n)
{
	emit_escape(write, arg, s, n, EMIT_ESC_YAML);
}

void emit_prom_escape(emit_write_fn *write, void *arg, const char *s,
		      size_t n)
{
	emit_escape(write, arg, s, n, EMIT_ESC_PROM);
}

/* ---- the YAML quoting rule --------------------------------------------- */

/* True when @s (@n bytes of [A-Za-z0-9._/-]) is a number to some YAML
 * reader: decimal, float (with exponent), 0x/0o/0b, with a sign. */
static bool emit_yaml_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (n - i > 2 && s[i] == '0' && strchr("xXoObB", s[i + 1]))
		return true;	/* any 0x.. reads as a number or an error */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			digits++;
	if (!digits)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i == n || s[i] < '0' || s[i] > '9')
			return false;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

bool emit_yaml_plain(const char *s, size_t n)
{
	static const char *const words[] = {
		"null", "true", "false", "yes", "no", "on", "off", "y", "n",
		NULL,
	};

	if (!n || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		      ch == '_' || ch == '/'))
			return false;
	}
	for (const char *const *w = words; *w; w++)
		if (strlen(*w) == n && !strncasecmp(s, *w, n))
			return false;
	return !emit_yaml_number(s, n);
}

/* ---- events ------------------------------------------------------------ */

static struct emit_level *emit_top(struct emit *e)
{
	return e->depth ? &e->lv[e->depth - 1] : NULL;
}

/* YAML: starts a line of an entry of level @l: its indent, or the "- " of
 * the list item it is the first line of. */
static void emit_yaml_line(struct emit *e, struct emit_level *l)
{
	if (l && l->dash) {
		struct emit_level *first = l;

		/* An item of a list that is itself the first item of a list
		 * shares its line: "- - x", one dash per level. */
		while (first > e->lv && first[-1].dash)
			first--;
		emit_spaces(e, first->col - 2);
		for (; first <= l; first++) {
			emit_put(e, "- ");
			first->dash = false;
		}
		return;
	}
	emit_spaces(e, l ? l->col : 0);
}

/* YAML: key @key, plain when it reads back as itself, else quoted as a
 * string value would be (keys from a schema are always plain; a free-form
 * value's need not be). */
static void emit_yaml_key(struct emit *e, const char *key)
{
	size_t n = strlen(key);

	if (emit_yaml_plain(key, n)) {
		e->write(e->arg, key, n);
		return;
	}
	emit_put(e, "\"");
	emit_yaml_escape(e->write, e->arg, key, n);
	emit_put(e, "\"");
}

/* YAML: writes the held-back header lines of the open levels, outermost
 * first ("key:" for a keyed container; a list item's map has none: its
 * first entry carries the dash). */
static void emit_yaml_open(struct emit *e)
{
	for (int i = 0; i < e->depth; i++) {
		struct emit_level *l = &e->lv[i];

		if (l->open)
			continue;
		l->open = true;
		if (l->keyed) {
			emit_yaml_line(e, i ? &e->lv[i - 1] : NULL);
			emit_yaml_key(e, l->key);
			emit_put(e, ":\n");
		}
	}
}

/* JSON: the separator and line break before an entry of the top level. */
static void emit_json_sep(struct emit *e)
{
	struct emit_level *l = emit_top(e);

	if (!l)
		return;
	if (l->n)
		emit_put(e, ",");
	if ((unsigned)e->depth <= e->json_break) {
		emit_put(e, "\n");
		emit_spaces(e, 2 * (unsigned)e->depth);
	} else if (l->n) {
		emit_put(e, " ");
	}
}

/* Checks that a value may come now (a key is due in a map, none in a
 * list) and writes what goes before it.  Returns false on misuse. */
static bool emit_value(struct emit *e)
{
	struct emit_level *l = emit_top(e);

	if (l ? l->map != e->have_key : e->have_key) {
		e->err = -EINVAL;
		return false;
	}
	if (e->fmt == EMIT_JSON) {
		emit_json_sep(e);
		if (e->have_key) {
			emit_put(e, "\"");
			emit_json_escape(e->write, e->arg, e->key,
					 strlen(e->key));
			emit_put(e, "\": ");
		}
	}
	if (l)
		l->n++;
	return true;
}

/* A scalar: a string (@str: quoted or escaped as the format wants) or a
 * number-like token written as it is. */
static void emit_scalar(struct emit *e, const char *s, size_t n, bool str)
{
	struct emit_level *l = emit_top(e);

	if (!emit_value(e))
		return;
	if (e->fmt == EMIT_JSON) {
		if (str)
			emit_put(e, "\"");
		if (str)
			emit_json_escape(e->write, e->arg, s, n);
		else
			e->write(e->arg, s, n);
		if (str)
			emit_put(e, "\"");
	} else {
		emit_yaml_open(e);
		emit_yaml_line(e, l);
		if (l && !l->map)
			emit_put(e, "- ");
		else if (l)
			emit_yaml_key(e, e->key), emit_put(e, ": ");
		if (!str || emit_yaml_plain(s, n)) {
			e->write(e->arg, s, n);
		} else {
			emit_put(e, "\"");
			emit_yaml_escape(e->write, e->arg, s, n);
			emit_put(e, "\"");
		}
		emit_put(e, "\n");
	}
	e->have_key = false;
}

void emit_str(struct emit *e, const char *s)
{
	emit_scalar(e, s, strlen(s), true);
}

void emit_strn(struct emit *e, const char *s, size_t max)
{
	emit_scalar(e, s, strnlen(s, max), true);
}

void emit_num(struct emit *e, const char *digits)
{
	emit_scalar(e, digits, strlen(digits), false);
}

void emit_uint(struct emit *e, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	emit_num(e, buf);
}

void emit_bool(struct emit *e, bool v)
{
	emit_num(e, v ? "true" : "false");
}

void emit_doc(struct emit *e)
{
	if (e->fmt == EMIT_YAML && !e->depth)
		emit_put(e, "---\n");
}

void emit_key(struct emit *e, const char *key)
{
	struct emit_level *l = emit_top(e);
	size_t n = strlen(key);

	if (!l || !l->map || e->have_key || n >= EMIT_KEY_MAX) {
		e->err = -EINVAL;
		return;
	}
	memcpy(e->key, key, n + 1);
	e->have_key = true;
}

static void emit_begin(struct emit *e, bool map)
{
	struct emit_level *parent = emit_top(e), *l;

	if (e->depth == EMIT_MAX_DEPTH) {
		e->err = -EINVAL;
		return;
	}
	if (!emit_value(e))
		return;
	l = &e->lv[e->depth++];
	memset(l, 0, sizeof(*l));
	l->map = map;
	if (parent && parent->map)
		memcpy(l->key, e->key, sizeof(l->key));
	e->have_key = false;
	if (e->fmt == EMIT_JSON) {
		emit_put(e, map ? "{" : "[");
		return;
	}
	/* YAML: a root map has no header; a keyed container's is "key:";
	 * an item of a list is announced by its first line's dash. */
	if (!parent) {
		l->open = true;
		return;
	}
	l->col = parent->col + 2;
	l->keyed = parent->map;
	l->dash = !parent->map;
	l->open = !parent->map && !map;
}

static void emit_end(struct emit *e, bool map)
{
	struct emit_level *l = emit_top(e);

	if (!l || l->map != map || e->have_key) {
		e->err = -EINVAL;
		return;
	}
	if (e->fmt == EMIT_JSON) {
		if (l->n && (unsigned)e->depth <= e->json_break) {
			emit_put(e, "\n");
			emit_spaces(e, 2 * (unsigned)(e->depth - 1));
		}
		emit_put(e, map ? "}" : "]");
		e->depth--;
		if (!e->depth && e->json_break)
			emit_put(e, "\n");
		return;
	}
	if (!l->n && e->depth > 1) {
		/* Empty: "key: {}" or "- {}" on one line. */
		struct emit_level *parent = &e->lv[e->depth - 2];

		e->depth--;	/* its header is this line */
		emit_yaml_open(e);
		emit_yaml_line(e, parent);
		if (parent->map)
			emit_yaml_key(e, l->key), emit_put(e, ": ");
		else
			emit_put(e, "- ");
		emit_put(e, map ? "{}\n" : "[]\n");
		return;
	}
	if (!l->n)
		emit_put(e, map ? "{}\n" : "[]\n");
	e->depth--;
}

void emit_map_begin(struct emit *e)
{
	emit_begin(e, true);
}

void emit_map_end(struct emit *e)
{
	emit_end(e, true);
}

void emit_list_begin(struct emit *e)
{
	emit_begin(e, false);
}

void emit_list_end(struct emit *e)
{
	emit_end(e, false);
}
