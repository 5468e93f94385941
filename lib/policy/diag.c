// SPDX-License-Identifier: Apache-2.0
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"

#define DIAG_MAX_DEFAULT 100

void diag_init(struct diag *d)
{
	memset(d, 0, sizeof(*d));
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->msgs[i]);
	free(d->msgs);
	free(d->pos);
	memset(d, 0, sizeof(*d));
}

void diag_add(struct diag *d, const struct diag_loc *loc, const char *what,
	      const char *path, const char *fmt, ...)
{
	size_t max = d->max ? d->max : DIAG_MAX_DEFAULT;
	char body[1024], *msg = NULL;
	va_list ap;
	int r;

	if (d->n >= max)
		goto drop;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);

	const char *sep = path && *path ? ": " : "";

	if (!path)
		path = "";
	if (loc && loc->file)
		r = asprintf(&msg, "%s:%u:%u: %s%s%s", loc->file, loc->line,
			     loc->col, path, sep, body);
	else if (what)
		r = asprintf(&msg, "%s: %s%s%s", what, path, sep, body);
	else
		r = asprintf(&msg, "%s%s%s", path, sep, body);
	if (r < 0)
		goto drop;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **m = realloc(d->msgs, cap * sizeof(*m));
		struct diag_pos *p;

		if (!m) {
			free(msg);
			goto drop;
		}
		d->msgs = m;
		p = realloc(d->pos, cap * sizeof(*p));
		if (!p) {
			free(msg);
			goto drop;
		}
		d->pos = p;
		d->cap = cap;
	}
	memset(&d->pos[d->n], 0, sizeof(d->pos[d->n]));
	if (loc && loc->file)
		d->pos[d->n].loc = *loc;
	d->pos[d->n].seq = d->n;
	d->msgs[d->n++] = msg;
	return;
drop:
	d->dropped++;
}

/* Sorting key: the rank of the message's file among the files in order
 * of first appearance (SIZE_MAX: none), then line, column, arrival. */
struct diag_sortent {
	size_t file_rank;
	unsigned line, col;
	size_t seq;
	char *msg;
	struct diag_pos pos;
};

static int diag_sortent_cmp(const void *a, const void *b)
{
	const struct diag_sortent *x = a, *y = b;

	if (x->file_rank != y->file_rank)
		return x->file_rank < y->file_rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void diag_sort(struct diag *d)
{
	struct diag_sortent *e;

	if (d->n < 2)
		return;
	e = calloc(d->n, sizeof(*e));
	if (!e)
		return;		/* unsorted is still correct */
	for (size_t i = 0; i < d->n; i++) {
		const char *f = d->pos[i].loc.file;

		e[i].file_rank = SIZE_MAX;
		for (size_t j = 0; f && j <= i; j++) {
			/* Compare names, not pointers: two loads of one
			 * file may hold two copies of its name. */
			if (d->pos[j].loc.file &&
			    !strcmp(d->pos[j].loc.file, f)) {
				e[i].file_rank = j;
				break;
			}
		}
		e[i].line = d->pos[i].loc.line;
		e[i].col = d->pos[i].loc.col;
		e[i].seq = d->pos[i].seq;
		e[i].msg = d->msgs[i];
		e[i].pos = d->pos[i];
	}
	qsort(e, d->n, sizeof(*e), diag_sortent_cmp);
	for (size_t i = 0; i < d->n; i++) {
		d->msgs[i] = e[i].msg;
		d->pos[i] = e[i].pos;
	}
	free(e);
}

size_t diag_count(const struct diag *d)
{
	return d->n + d->dropped;
}

void diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->msgs[i]);
	if (d->dropped)
		fprintf(f, "(%zu more problems not shown)\n", d->dropped);
}
