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
 * an upsert, so nothing is ever "-".
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile.h"
#include "ctl.h"
#include "policy/render.h"
#include "policy/input.h"
#include "policy/state.h"
#include "policy/validate.h"

const char ctl_usage_diff[] =
	"usage: mfctl [--bpf-root DIR] diff -f FILE|DIR|- [-f ...]\n"
	"\n"
	"Shows what `apply -f` of the same input would change, writing\n"
	"nothing: one line per changed object, \"+ Kind/name\" (created) or\n"
	"\"~ Kind/name\" (changed, followed by a line diff of its YAML: \"-\"\n"
	"the applied line, \"+\" the new one).  Apply is an upsert: objects the\n"
	"input does not name stay, so nothing is ever shown as removed.\n"
	"\n"
	"  -f, --filename F  a YAML file, a directory (its *.yaml and *.yml\n"
	"                    files) or - for standard input\n"
	"\n"
	"Exit codes: 0 no change, 1 invalid input (apply would refuse it),\n"
	"2 system error, 3 changes exist.  (kubectl diff uses 1 for changes;\n"
	"here 1 already means invalid input, so changes are 3.)\n";

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

int ctl_cmd_diff(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct model_set input, merged;
	const struct model_obj **sorted = NULL;
	struct rec_set want;
	struct state st;
	struct diag d;
	const char **files = NULL;
	size_t nfiles = 0, changes = 0;
	int c, err, rc = CTL_EXIT_SYSTEM;

	files = calloc((size_t)argc, sizeof(*files));
	if (!files) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files[nfiles++] = optarg;
			break;
		case 'h':
			fputs(ctl_usage_diff, stdout);
			free(files);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_diff, stderr);
			free(files);
			return CTL_EXIT_INVALID;
		}
	}
	if (!ctl_args_ok(argc, argv, nfiles, "diff", ctl_usage_diff)) {
		free(files);
		return CTL_EXIT_INVALID;
	}

	diag_init(&d);
	model_set_init(&input);
	model_set_init(&merged);
	rec_set_init(&want);
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;

	err = ctl_parse_inputs(&input, files, nfiles, &d, "apply would refuse this");
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}

	/* Read only, no lock, nothing created: nothing pinned is an empty
	 * applied state, and everything is new. */
	err = state_load(&st, o->bpf_root, false, NULL, &d);
	if (err && err != -ENOENT) {
		diag_print(&d, stderr);
		goto out;
	}
	err = input_merge(&input, &st.objs, &merged);
	if (!err)
		err = validate_set(&merged, &d);
	if (err) {
		diag_sort(&d);
		diag_print(&d, stderr);
		if (err == -EINVAL)
			ctl_err("%zu problem%s found; apply would refuse this",
				diag_count(&d), diag_count(&d) == 1 ? "" : "s");
		rc = ctl_exit_for(err);
		goto out;
	}
	err = compile_set(&merged, &st.have, &want, &d);
	if (err) {
		diag_print(&d, stderr);
		ctl_err("cannot compile: %s", err == -ENOSPC ?
			"a policy map would be over capacity" : strerror(-err));
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
			model_set_find(&st.objs, sorted[i]->kind,
				       sorted[i]->name);

		if (old && model_obj_equal(old, sorted[i]))
			continue;
		changes++;
		if (diff_obj(stdout, &st.objs, old, &input, sorted[i])) {
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
	state_close(&st);
	rec_set_free(&want);
	model_set_free(&merged);
	model_set_free(&input);
	diag_free(&d);
	free(files);
	return rc;
}
