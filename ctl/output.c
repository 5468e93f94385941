// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "output.h"
#include "policy/render.h"

int output_format_parse(const char *arg)
{
	if (!strcmp(arg, "yaml"))
		return OUTPUT_YAML;
	if (!strcmp(arg, "json"))
		return OUTPUT_JSON;
	if (!strcmp(arg, "table") || !strcmp(arg, "wide"))
		return OUTPUT_TABLE;
	return -1;
}

/* ---- tables ---------------------------------------------------------- */

#define OUT_MAX_COLS 8

/* One kind's table: a header and rows of cells, all owned here. */
struct out_table {
	const char *head[OUT_MAX_COLS];
	size_t ncols;
	char **cells;		/* nrows * ncols, each malloc'ed */
	size_t nrows, cap;
	bool oom;
};

static void out_table_free(struct out_table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
}

/* Appends a row of t->ncols malloc'ed cells and takes them over; a NULL
 * cell (ENOMEM while formatting it) marks the table failed and frees the
 * row. */
static void out_table_row(struct out_table *t, char **row)
{
	if (t->oom)
		goto drop;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **c = realloc(t->cells, cap * t->ncols * sizeof(*c));

		if (!c)
			goto drop;
		t->cells = c;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->ncols; i++) {
		if (!row[i])
			goto drop;
		t->cells[t->nrows * t->ncols + i] = row[i];
	}
	t->nrows++;
	return;
drop:
	t->oom = true;
	for (size_t i = 0; i < t->ncols; i++)
		free(row[i]);
}

static char *out_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A malloc'ed formatted cell, or NULL on ENOMEM. */
static char *out_fmt(const char *fmt, ...)
{
	char *s;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	return r < 0 ? NULL : s;
}

static char *out_ip(const uint8_t ip[4])
{
	return out_fmt("%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

static void out_table_print(FILE *f, const struct out_table *t)
{
	size_t w[OUT_MAX_COLS];

	for (size_t c = 0; c < t->ncols; c++) {
		w[c] = strlen(t->head[c]);
		for (size_t r = 0; r < t->nrows; r++) {
			size_t l = strlen(t->cells[r * t->ncols + c]);

			if (l > w[c])
				w[c] = l;
		}
	}
	/* The last column is not padded: no trailing blanks. */
	for (size_t c = 0; c < t->ncols; c++)
		fprintf(f, c + 1 < t->ncols ? "%-*s   " : "%.*s\n",
			c + 1 < t->ncols ? (int)w[c] : (int)strlen(t->head[c]),
			t->head[c]);
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 < t->ncols)
				fprintf(f, "%-*s   ", (int)w[c], s);
			else
				fprintf(f, "%s\n", s);
		}
}

static size_t out_endpoints(const struct model_set *set, const char *svc)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++)
		if (set->objs[i].kind == MODEL_WORKLOAD &&
		    !strcmp(set->objs[i].u.workload.service, svc))
			n++;
	return n;
}

static void out_table_head(struct out_table *t, enum model_kind k)
{
	static const char *const heads[MODEL_KIND_MAX][OUT_MAX_COLS] = {
		[MODEL_MESH] = { "NAME", "TRUST-DOMAIN" },
		[MODEL_NODE] = { "NAME", "ADDRESS", "TUNNEL-PORT" },
		[MODEL_SERVICE] = { "NAME", "VIP", "PORT", "PROTOCOL",
				    "ENDPOINTS" },
		[MODEL_WORKLOAD] = { "NAME", "NODE", "IP", "PORT", "SERVICE",
				     "IDENTITY" },
		[MODEL_MTP] = { "NAME", "TARGET", "RULES", "FROM" },
	};
	static const char *const gen_head[OUT_MAX_COLS] = { "NAME", "TARGET",
							    "ENTRIES" };

	memset(t, 0, sizeof(*t));
	const char *const *h = k >= MODEL_GEN_FIRST ? gen_head : heads[k];

	for (t->ncols = 0; t->ncols < OUT_MAX_COLS && h[t->ncols]; t->ncols++)
		t->head[t->ncols] = h[t->ncols];
}

/* "SpiffeID:spiffe://...=Allow,Mesh=Deny": the rules in one cell. */
static char *out_mtp_from(const struct model_mtp *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < m->nfrom; i++) {
		const struct model_from *fr = &m->from[i];

		fprintf(f, "%s%s%s%s=%s", i ? "," : "",
			model_from_kind_name(fr->kind),
			fr->kind == MODEL_FROM_MESH ? "" : ":", fr->name,
			abi_name_or(&abi_authz_action, fr->action));
	}
	if (!m->nfrom)
		fputs("-", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void out_table_add(struct out_table *t, const struct model_set *set,
			  const struct model_obj *o)
{
	char *row[OUT_MAX_COLS] = { 0 };

	row[0] = strdup(o->name);
	switch (o->kind) {
	case MODEL_MESH:
		row[1] = strdup(o->u.mesh.trust_domain);
		break;
	case MODEL_NODE:
		row[1] = out_ip(o->u.node.ip);
		row[2] = out_fmt("%u", o->u.node.tunnel_port);
		break;
	case MODEL_SERVICE:
		row[1] = out_ip(o->u.service.vip);
		row[2] = out_fmt("%u", o->u.service.port);
		row[3] = strdup("tcp");
		row[4] = out_fmt("%zu", out_endpoints(set, o->name));
		break;
	case MODEL_WORKLOAD:
		row[1] = strdup(o->u.workload.node);
		row[2] = out_ip(o->u.workload.ip);
		row[3] = out_fmt("%u", o->u.workload.port);
		row[4] = strdup(o->u.workload.service);
		row[5] = strdup(o->u.workload.identity);
		break;
	case MODEL_MTP:
		row[1] = strdup(o->u.mtp.mesh_target ? "Mesh" : o->u.mtp.target);
		row[2] = out_fmt("%zu", o->u.mtp.nfrom);
		row[3] = out_mtp_from(&o->u.mtp);
		break;
	default: {
		const struct model_policy *p = &o->u.pol;
		const struct mf_ref *r = p->n ?
			&((const struct mf_pol_hdr *)p->recs)->target : NULL;

		if (r && abi_name(&abi_ref_kind, r->kind))
			row[1] = out_fmt("%s%s%s",
					 abi_name(&abi_ref_kind, r->kind),
					 r->name[0] ? ":" : "", r->name);
		else
			row[1] = strdup("-");
		row[2] = out_fmt("%zu", p->n);
		break;
	}
	}
	out_table_row(t, row);
}

/* One table per kind that has objects; kinds separated by a blank line. */
static int out_tables(FILE *f, const struct model_set *set,
		      const struct model_obj **objs, size_t n)
{
	bool first = true;

	for (size_t i = 0; i < n;) {
		enum model_kind k = objs[i]->kind;
		struct out_table t;
		bool oom;

		out_table_head(&t, k);
		for (; i < n && objs[i]->kind == k; i++)
			out_table_add(&t, set, objs[i]);
		oom = t.oom;
		if (!oom) {
			if (!first)
				fputc('\n', f);
			out_table_print(f, &t);
		}
		first = false;
		out_table_free(&t);
		if (oom)
			return -ENOMEM;
	}
	return 0;
}

int output_write(FILE *f, const struct model_set *set, unsigned kinds,
		 const char *name, enum output_format fmt)
{
	const struct model_obj **sorted;
	size_t n = 0;
	int err;

	if (fmt != OUTPUT_TABLE)
		return render_set(f, fmt == OUTPUT_JSON ? EMIT_JSON : EMIT_YAML,
				  set, kinds, name);
	sorted = calloc(set->n ? set->n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	model_set_sorted(set, sorted);
	/* Keep the selected ones, in order, at the front. */
	for (size_t i = 0; i < set->n; i++)
		if ((kinds & (1u << sorted[i]->kind)) &&
		    (!name || !strcmp(sorted[i]->name, name)))
			sorted[n++] = sorted[i];
	err = out_tables(f, set, sorted, n);
	free(sorted);
	if (!err && (fflush(f) || ferror(f)))
		err = -EIO;
	return err;
}
