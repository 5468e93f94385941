// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl diff -f FILE|DIR|-`: what `apply -f` of the same input would
 * change, without writing anything.
 *
 * The input goes through the whole apply pipeline (parse, merge over the
 * applied state, validate, compile), so diff fails exactly when apply
 * would.  Then each input object is compared with the applied object of
 * the same kind and name: "+ Kind/name" when there is none, "~ Kind/name"
 * and a line diff of the two YAML renderings when they differ.  Apply is
 * an upsert, so nothing is ever "-".  With --store, against the mesh in
 * the store.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mesh.h"
#include "policy/render.h"
#include "policy/input.h"
#include "policy/txn.h"

/* Splits the malloc'ed text @buf in place into lines.  *lines is malloc'ed
 * (the caller frees it; the strings stay in @buf).  Returns the count, or
 * -1 on ENOMEM. */
static long diff_lines(char *buf, char ***lines)
{
	size_t n = 0, cap = 16;
	char **v = malloc(cap * sizeof(*v)), *p = buf;

	if (!v)
		return -1;
	while (p && *p) {
		char *nl = strchr(p, '\n');

		if (n == cap) {
			char **nv = realloc(v, (cap *= 2) * sizeof(*v));

			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
		}
		v[n++] = p;
		if (nl)
			*nl++ = '\0';
		p = nl;
	}
	*lines = v;
	return (long)n;
}

/*
 * Prints the lines of @a not in @b as "-", of @b not in @a as "+", in
 * order, from a longest common subsequence (objects are a few dozen lines,
 * so the quadratic table is small).  Returns 0 or -ENOMEM.
 */
static int diff_print_lines(FILE *f, char **a, size_t na, char **b, size_t nb)
{
	size_t w = nb + 1;
	unsigned *l = calloc((na + 1) * w, sizeof(*l));
	size_t i = 0, j = 0;

	if (!l)
		return -ENOMEM;
	/* l[i][j]: LCS length of a[i..] and b[j..]. */
	for (size_t x = na + 1; x-- > 0;)
		for (size_t y = nb + 1; y-- > 0;) {
			if (x == na || y == nb)
				l[x * w + y] = 0;
			else if (!strcmp(a[x], b[y]))
				l[x * w + y] = l[(x + 1) * w + y + 1] + 1;
			else
				l[x * w + y] = l[(x + 1) * w + y] >
					       l[x * w + y + 1] ?
					       l[(x + 1) * w + y] :
					       l[x * w + y + 1];
		}
	while (i < na || j < nb) {
		if (i < na && j < nb && !strcmp(a[i], b[j])) {
			i++;
			j++;
		} else if (i < na &&
			   (j == nb || l[(i + 1) * w + j] >= l[i * w + j + 1])) {
			/* Removals first at a tie, as diff -u does. */
			fprintf(f, "    -%s\n", a[i++]);
		} else {
			fprintf(f, "    +%s\n", b[j++]);
		}
	}
	free(l);
	return 0;
}

/* The YAML of @o (no "---" line), malloc'ed, or NULL. */
static char *diff_yaml(const struct model_set *set, const struct model_obj *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct emit e;

	if (!f)
		return NULL;
	emit_init(&e, EMIT_YAML, emit_to_file, f);
	render_obj(&e, set, o);
	if (fclose(f) || e.err) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Prints the change from @old (an object of @olds, NULL for a creation)
 * to @new (an object of @news).  Returns 0 or -ENOMEM. */
static int diff_obj(FILE *f, const struct model_set *olds,
		    const struct model_obj *old, const struct model_set *news,
		    const struct model_obj *new)
{
	char *ya, *yb, **la = NULL, **lb = NULL;
	long na, nb;
	int err = -ENOMEM;

	if (!old) {
		fprintf(f, "+ %s/%s\n", model_kind_name(new->kind), new->name);
		return 0;
	}
	fprintf(f, "~ %s/%s\n", model_kind_name(new->kind), new->name);
	ya = diff_yaml(olds, old);
	yb = diff_yaml(news, new);
	if (!ya || !yb)
		goto out;
	na = diff_lines(ya, &la);
	nb = diff_lines(yb, &lb);
	if (na < 0 || nb < 0)
		goto out;
	err = diff_print_lines(f, la, (size_t)na, lb, (size_t)nb);
out:
	free(lb);
	free(la);
	free(yb);
	free(ya);
	return err;
}

int ctl_diff(const struct ctl_opts *o, const struct ctl_args *a)
{
	static const char consequence[] = "apply would refuse this";
	const struct model_obj **sorted = NULL;
	struct model_set input;
	size_t changes = 0;
	struct ctl_mesh m = { 0 };
	struct diag d;
	struct txn t;
	int err, rc = CTL_EXIT_SYSTEM;

	if (!a->nfiles) {
		ctl_err("diff needs -f FILE");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	diag_init(&d);
	model_set_init(&input);
	txn_init(&t);
	err = ctl_parse_inputs(&input, a, &d, consequence);
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}
	/* The whole apply pipeline, read only: no lock, nothing created;
	 * nothing pinned is an empty policy in force, and all is new. */
	if (o->store_url) {
		err = ctl_mesh_open(&m, &t, o);
	} else {
		err = ctl_txn_open(&t, o, false);
		if (err == -ENOENT)
			err = 0;
	}
	if (!err)
		err = input_merge(&input, &t.applied, &t.next);
	if (!err)
		err = txn_plan(&t);
	if (err) {
		rc = o->store_url ? ctl_mesh_fail(&m, &t, err, "diff",
						  consequence) :
				    ctl_txn_fail(&t, err, "diff", consequence);
		goto out;
	}
	sorted = calloc(input.n ? input.n : 1, sizeof(*sorted));
	if (!sorted) {
		ctl_err("out of memory");
		goto out;
	}
	model_set_sorted(&input, sorted);
	for (size_t i = 0; i < input.n; i++) {
		const struct model_obj *old =
			model_set_find(&t.applied, sorted[i]->kind,
				       sorted[i]->name);

		if (old && model_obj_equal(old, sorted[i]))
			continue;
		changes++;
		if (diff_obj(stdout, &t.applied, old, &input, sorted[i])) {
			ctl_err("out of memory");
			goto out;
		}
	}
	if (fflush(stdout) || ferror(stdout)) {
		ctl_err("cannot write the output");
		goto out;
	}
	rc = changes ? CTL_EXIT_CHANGES : CTL_EXIT_OK;
out:
	free(sorted);
	ctl_mesh_close(&m, &t);	/* without --store, only closes @t */
	model_set_free(&input);
	diag_free(&d);
	return rc;
}
