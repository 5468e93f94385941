// SPDX-License-Identifier: Apache-2.0
/*
 * The SPIFFE ID template reader (spiffe_tmpl.h).
 */
#include <string.h>

#include "meshforge/abi.h"
#include "spiffe_tmpl.h"

static bool tmpl_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool tmpl_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* A label key as metadata.labels has it. */
static bool tmpl_label_char(char c)
{
	return tmpl_ident_char(c) || c == '.' || c == '/' || c == '-';
}

/* The action between "{{" and "}}", @p to @end, into *a: ".Field" or
 * label "<key>", with spaces around.  False: neither. */
static bool tmpl_action(const char *p, const char *end, struct tmpl_piece *a)
{
	while (p < end && tmpl_space(*p))
		p++;
	while (end > p && tmpl_space(end[-1]))
		end--;
	if (p < end && *p == '.') {
		*a = (struct tmpl_piece){ TMPL_FIELD, p + 1,
					  (size_t)(end - p - 1) };
		for (const char *w = p + 1; w < end; w++)
			if (!tmpl_ident_char(*w))
				return false;
		return a->n > 0;
	}
	if (end - p < 8 || strncmp(p, "label", 5) || !tmpl_space(p[5]))
		return false;
	p += 6;
	while (p < end && tmpl_space(*p))
		p++;
	if (*p != '"' || end[-1] != '"' || end - p < 3)
		return false;
	*a = (struct tmpl_piece){ TMPL_LABEL, p + 1, (size_t)(end - p - 2) };
	for (const char *w = a->s; w < end - 1; w++)
		if (!tmpl_label_char(*w))
			return false;
	return a->n < MF_TAG_KEY_MAX;
}

int tmpl_walk(const char *s, tmpl_fn *fn, void *arg)
{
	const char *p = s;

	while (*p) {
		const char *open = strstr(p, "{{"), *close;
		struct tmpl_piece piece;
		int r;

		if (open != p) {
			piece = (struct tmpl_piece){
				TMPL_TEXT, p,
				open ? (size_t)(open - p) : strlen(p) };
			r = fn(arg, &piece);
			if (r)
				return r;
			if (!open)
				break;
			p = open;
		}
		close = strstr(p + 2, "}}");
		if (!close)
			return TMPL_ERR_UNCLOSED;
		if (!tmpl_action(p + 2, close, &piece))
			return TMPL_ERR_ACTION;
		r = fn(arg, &piece);
		if (r)
			return r;
		p = close + 2;
	}
	return 0;
}

bool tmpl_is_field(const struct tmpl_piece *p, const char *name)
{
	return p->type == TMPL_FIELD && strlen(name) == p->n &&
	       !strncmp(p->s, name, p->n);
}
