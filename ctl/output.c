// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "grow.h"
#include "output.h"
#include "policy/mesh_service.h"
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
	char **c;

	if (t->oom)
		goto drop;
	c = grow_room(t->cells, t->nrows, &t->cap, t->ncols * sizeof(*c), 16);
	if (!c)
		goto drop;
	t->cells = c;
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
		    !strcmp(msvc_workload_service(set, &set->objs[i]), svc))
			n++;
	return n;
}

/* The columns of a core kind's table: NAME, then every scalar field of its
 * spec, headed by its name ("tunnelPort": TUNNEL-PORT). */
static bool out_column(const struct sch_field *f)
{
	return f->type == SCH_IPV4 || f->type == SCH_INT ||
	       f->type == SCH_STRING || f->type == SCH_NAME ||
	       f->type == SCH_ENUM;
}

static void out_table_head(struct out_table *t, enum model_kind k)
{
	static char heads[MODEL_KIND_MAX][OUT_MAX_COLS][24];
	static const char *const mtp_head[] = { "NAME", "TARGET", "RULES",
						"FROM", NULL };
	static const char *const gen_head[] = { "NAME", "TARGET", "ENTRIES",
						NULL };
	const struct kind_desc *kd = model_kind_desc(k);
	const char *const *h = kd->form == KIND_FORM_PERMISSION ? mtp_head :
			       gen_head;

	memset(t, 0, sizeof(*t));
	if (kd->form != KIND_FORM_SPEC) {
		for (; t->ncols < OUT_MAX_COLS && h[t->ncols]; t->ncols++)
			t->head[t->ncols] = h[t->ncols];
		return;
	}
	t->head[t->ncols++] = "NAME";
	for (size_t i = 0; i < kd->conf->nfields && t->ncols < OUT_MAX_COLS;
	     i++) {
		const char *name = kd->conf->fields[i].name;
		char *p = heads[k][t->ncols];

		if (!out_column(&kd->conf->fields[i]))
			continue;
		for (size_t j = 0; name[j] && p - heads[k][t->ncols] < 22; j++) {
			if (name[j] >= 'A' && name[j] <= 'Z')
				*p++ = '-';
			*p++ = (char)(name[j] >= 'a' && name[j] <= 'z' ?
				      name[j] - 'a' + 'A' : name[j]);
		}
		*p = 0;
		t->head[t->ncols] = heads[k][t->ncols];
		t->ncols++;
	}
	if (k == MODEL_SERVICE && t->ncols < OUT_MAX_COLS)
		t->head[t->ncols++] = "ENDPOINTS";
}

/* A scalar field of a core kind's record as a cell. */
static char *out_cell(const struct sch_field *f, const uint8_t *rec)
{
	const uint8_t *p = rec + f->off;
	uint64_t v;

	switch (f->type) {
	case SCH_IPV4:
		return out_ip(p);
	case SCH_INT:
		return out_fmt("%llu",
			       (unsigned long long)sch_get_uint(p, f->size));
	case SCH_ENUM:
		v = sch_get_uint(p, sch_field_size(f));
		return strdup(v ? f->names[v - 1] : "-");
	default:
		return strndup((const char *)p, sch_field_size(f));
	}
}

/* "SpiffeID:spiffe://...=Allow,Mesh=Deny": the rules in one cell. */
static char *out_mtp_from(const struct model_obj *o)
{
	const struct mf_mtp *r = (const void *)o->pol.recs;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < o->pol.n; i++) {
		const struct mf_mtp_conf *c = &r[i].conf;
		bool rules = r[i].hdr.section == MF_MTP_SEC_RULES;

		fprintf(f, "%s%s%s%s=%s", i ? "," : "",
			rules ? abi_name_or(&abi_authz_match,
					    c->spiffe_id.type) :
			c->target_ref.kind == MF_MTP_SPIFFE_ID ? "SpiffeID" :
			c->target_ref.kind == MF_MTP_MESH ? "Mesh" :
			"SpiffeIDPrefix",
			!rules && c->target_ref.kind == MF_MTP_MESH ? "" : ":",
			rules ? c->spiffe_id.value : c->target_ref.name,
			abi_name_or(&abi_authz_action, c->def.action));
	}
	if (!o->pol.n)
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
	const struct model_policy *p = &o->pol;
	const struct mf_ref *r = p->n && kind_has_hdr(p->kd) ?
		&((const struct mf_pol_hdr *)p->recs)->target : NULL;
	char *row[OUT_MAX_COLS] = { 0 };
	size_t c = 1;

	row[0] = strdup(o->name);
	if (p->kd->form == KIND_FORM_SPEC) {
		for (size_t i = 0; i < p->kd->conf->nfields && c < t->ncols;
		     i++)
			if (out_column(&p->kd->conf->fields[i]))
				row[c++] = out_cell(&p->kd->conf->fields[i],
						    p->recs);
		if (o->kind == MODEL_SERVICE)
			row[c++] = out_fmt("%zu", out_endpoints(set, o->name));
	} else {
		if (r && abi_name(&abi_ref_kind, r->kind))
			row[c++] = out_fmt("%s%s%s",
					   abi_name(&abi_ref_kind, r->kind),
					   r->name[0] ? ":" : "", r->name);
		else
			row[c++] = strdup("-");
		row[c++] = out_fmt("%zu", p->n);
		if (p->kd->form == KIND_FORM_PERMISSION)
			row[c++] = out_mtp_from(o);
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
