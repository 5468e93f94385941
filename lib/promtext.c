// SPDX-License-Identifier: Apache-2.0
/*
 * The exposition format's line parser (promtext.h): a cursor over the
 * line, one helper per part, each returning where it stopped or NULL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

static bool promtext_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool promtext_name_char(char c)
{
	return promtext_name_start(c) || (c >= '0' && c <= '9');
}

/* A metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) from @p; where it ends, or
 * NULL when there is none. */
static const char *promtext_metric_name(const char *p, const char *end)
{
	if (p >= end || !(promtext_name_start(*p) || *p == ':'))
		return NULL;
	while (p < end && (promtext_name_char(*p) || *p == ':'))
		p++;
	return p;
}

/* A label name ([a-zA-Z_][a-zA-Z0-9_]*). */
static const char *promtext_label_name(const char *p, const char *end)
{
	if (p >= end || !promtext_name_start(*p))
		return NULL;
	while (p < end && promtext_name_char(*p))
		p++;
	return p;
}

/* A quoted label value from @p (at its opening quote): escapes \\, \"
 * and \n only; where it ends (after the closing quote), or NULL. */
static const char *promtext_label_value(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (++p >= end || (*p != '\\' && *p != '"' && *p != 'n'))
				return NULL;
		}
	}
	return NULL;
}

/* The labels from @p (after '{'): where the closing brace is, or NULL. */
static const char *promtext_labels(const char *p, const char *end)
{
	while (p < end && *p != '}') {
		p = promtext_label_name(p, end);
		if (!p || p >= end || *p != '=')
			return NULL;
		p = promtext_label_value(p + 1, end);
		if (!p || p >= end)
			return NULL;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return NULL;
	}
	return p < end ? p : NULL;
}

/* The value and optional timestamp, @n bytes at @p. */
static bool promtext_rest(const char *p, size_t n)
{
	char buf[64], *e;
	const char *v, *sp;
	size_t vn;

	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, p, n);
	buf[n] = '\0';
	vn = strcspn(buf, " \t");
	sp = vn < n ? buf + vn : NULL;
	v = buf;
	if (!vn)
		return false;
	buf[vn] = '\0';
	if (strcmp(v, "NaN") && strcmp(v, "+Inf") && strcmp(v, "-Inf") &&
	    strcmp(v, "Inf")) {
		/* strtod() also takes "inf", "nan" and hex: refused here
		 * unless the form is the format's (digits, sign, '.', e). */
		if (strspn(v, "0123456789+-.eE") != vn)
			return false;
		(void)strtod(v, &e);
		if (*e)
			return false;
	}
	if (!sp)
		return true;
	/* Blanks, then an integer (milliseconds). */
	p = buf + vn + strspn(buf + vn + 1, " \t") + 1;
	if (*p == '-')
		p++;
	return *p && strspn(p, "0123456789") == strlen(p);
}

int promtext_line(const char *s, size_t n, struct promtext_sample *out)
{
	const char *p = s, *end = s + n, *q;

	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			return -EPROTO;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	if (p == end)
		return PROMTEXT_BLANK;
	if (*p == '#')
		return PROMTEXT_COMMENT;
	memset(out, 0, sizeof(*out));
	q = promtext_metric_name(p, end);
	if (!q)
		return -EPROTO;
	out->name = p;
	out->name_len = (size_t)(q - p);
	p = q;
	if (p < end && *p == '{') {
		q = promtext_labels(p + 1, end);
		if (!q)
			return -EPROTO;
		out->labels = p + 1;
		out->labels_len = (size_t)(q - (p + 1));
		/* A trailing comma is allowed, and left out. */
		if (out->labels_len && out->labels[out->labels_len - 1] == ',')
			out->labels_len--;
		p = q + 1;
	}
	if (p >= end || (*p != ' ' && *p != '\t'))
		return -EPROTO;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* Trailing blanks are no part of the value. */
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	out->rest = p;
	out->rest_len = (size_t)(end - p);
	if (!promtext_rest(out->rest, out->rest_len))
		return -EPROTO;
	return PROMTEXT_SAMPLE;
}

bool promtext_label(const struct promtext_sample *x, const char *name,
		    const char **value, size_t *len)
{
	const char *p = x->labels, *end = x->labels + x->labels_len, *q;
	size_t n = strlen(name);

	while (p && p < end) {
		const char *start = p;

		q = promtext_label_name(p, end);
		if (!q || q + 1 >= end)
			return false;
		/* q: the '='; q + 1: the value's opening quote. */
		p = promtext_label_value(q + 1, end);
		if (!p)
			return false;
		if ((size_t)(q - start) == n && !memcmp(start, name, n)) {
			*value = q + 2;
			*len = (size_t)(p - 1 - (q + 2));
			return true;
		}
		if (p < end && *p == ',')
			p++;
	}
	return false;
}

bool promtext_has_label(const struct promtext_sample *x, const char *name)
{
	const char *v;
	size_t n;

	return promtext_label(x, name, &v, &n);
}
