/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the policy commands (apply, delete, diff, get) share about their
 * input: reading -f arguments, naming a kind on the command line, and
 * merging new objects over the applied ones.
 */
#ifndef CTL_INPUT_H
#define CTL_INPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "model.h"

/*
 * Parses one -f argument (a YAML file, a directory of *.yaml / *.yml files
 * read in name order, or "-" for standard input) into @set.  Returns 0,
 * -EINVAL (input problems, all in @d) or another -errno (system error, also
 * in @d).
 */
int input_parse_arg(struct model_set *set, const char *arg, struct diag *d);

/*
 * The set an apply of @input makes: every object of @input, plus every
 * object of @applied that @input does not replace (same kind and name).
 * Objects are copied into @out (initialised here; the caller frees it
 * whatever this returns); locations keep pointing at @input's and
 * @applied's file names.  Returns 0 or -ENOMEM.
 */
int input_merge(const struct model_set *input, const struct model_set *applied,
		struct model_set *out);

/*
 * input_merge() for a caller done with @input: its objects and tag sets
 * move into @out instead of being copied (at 100k objects the copies
 * show), and @input is left empty but for its file names, which @out's
 * locations still point at (so @input must outlive @out).  Returns 0 or
 * -ENOMEM.
 */
int input_merge_take(struct model_set *input, const struct model_set *applied,
		     struct model_set *out);

/*
 * A KIND word from the command line: an exact or case-insensitive kind
 * name, its plural, "svc" for Service, or "mtp" for
 * MeshTrafficPermission.  Returns the
 * enum model_kind, or -1.
 */
int input_kind_arg(const char *arg);

#endif /* CTL_INPUT_H */
