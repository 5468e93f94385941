// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "doc.h"
#include "fsio.h"
#include "input.h"

static int input_is_yaml(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	if (de->d_name[0] == '.')
		return 0;
	return (n > 5 && !strcmp(de->d_name + n - 5, ".yaml")) ||
	       (n > 4 && !strcmp(de->d_name + n - 4, ".yml"));
}

int input_parse_arg(struct model_set *set, const char *arg, struct diag *d)
{
	struct dirent **ents;
	struct stat st;
	int n, err = 0;

	if (strcmp(arg, "-") && !stat(arg, &st) && S_ISDIR(st.st_mode)) {
		n = scandir(arg, &ents, input_is_yaml, alphasort);
		if (n < 0) {
			err = -errno;
			diag_add(d, NULL, NULL, arg, "cannot list: %s",
				 strerror(-err));
			return err;
		}
		for (int i = 0; i < n; i++) {
			char path[PATH_MAX];
			int e = fsio_pathf(path, sizeof(path), "%s/%s", arg,
					   ents[i]->d_name);

			if (e)
				diag_add(d, NULL, NULL, ents[i]->d_name,
					 "path too long");
			else
				e = doc_parse_file(set, path, d);
			/* Keep going on input problems, to report them
			 * all; a system error wins. */
			if (e && (!err || err == -EINVAL))
				err = e;
			free(ents[i]);
		}
		free(ents);
		return err;
	}
	return doc_parse_file(set, arg, d);
}

/* Adds to @out (reserved) a copy of each object of @applied that @input
 * does not replace (no object of its kind and name there).  Returns 0 or
 * -ENOMEM. */
static int input_keep_applied(const struct model_set *input,
			      const struct model_set *applied,
			      struct model_set *out)
{
	const struct model_obj **in_sorted;
	int err = 0;

	in_sorted = calloc(input->n ? input->n : 1, sizeof(*in_sorted));
	if (!in_sorted)
		return -ENOMEM;
	model_set_sorted(input, in_sorted);
	for (size_t i = 0; i < applied->n && !err; i++) {
		const struct model_obj *o = &applied->objs[i];

		if (!model_sorted_find(in_sorted, input->n, o->kind, o->name))
			err = model_set_add_copy(out, applied, o);
	}
	free(in_sorted);
	return err;
}

int input_merge(const struct model_set *input, const struct model_set *applied,
		struct model_set *out)
{
	int err;

	model_set_init(out);
	err = model_set_reserve(out, input->n + applied->n);
	for (size_t i = 0; i < input->n && !err; i++)
		err = model_set_add_copy(out, input, &input->objs[i]);
	return err ? err : input_keep_applied(input, applied, out);
}

int input_merge_take(struct model_set *input, const struct model_set *applied,
		     struct model_set *out)
{
	int err;

	model_set_init(out);
	/* Which applied objects stay, decided before @input moves. */
	err = model_set_reserve(out, input->n + applied->n);
	if (!err)
		err = input_keep_applied(input, applied, out);
	if (err)
		return err;
	/* The input's objects, moved (the room is reserved), with the
	 * tag sets and strings they refer to. */
	return model_set_take(out, input);
}

int input_kind_arg(const char *arg)
{
	char plural[64];

	if (!strcasecmp(arg, "mtp") || !strcasecmp(arg, "mtps"))
		return MODEL_MTP;
	if (!strcasecmp(arg, "svc") || !strcasecmp(arg, "svcs"))
		return MODEL_SERVICE;
	if (!strcasecmp(arg, "meshes"))
		return MODEL_MESH;
	for (int k = 0; k < MODEL_KIND_MAX; k++) {
		const struct kind_desc *kd = model_kind_desc(k);

		snprintf(plural, sizeof(plural), "%ss", model_kind_name(k));
		if (!strcasecmp(arg, model_kind_name(k)) ||
		    !strcasecmp(arg, plural))
			return k;
		if (kd && ((kd->plural && !strcasecmp(arg, kd->plural)) ||
			   (kd->short_name && !strcasecmp(arg, kd->short_name))))
			return k;
	}
	return -1;
}
