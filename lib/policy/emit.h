/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Objects -> YAML, in exactly the format `apply` reads: one document per
 * object, kinds in enum model_kind order, names sorted, every field written
 * (defaults too), so the output of `get` is stable and `get | apply -f -`
 * changes nothing but the epoch.
 */
#ifndef CTL_EMIT_H
#define CTL_EMIT_H

#include <stdio.h>

#include "model.h"

/* Writes the objects of @set whose kind bit (1u << kind) is in @kinds.
 * Returns 0 or -errno (a write error, or -ENOMEM). */
int emit_set(FILE *f, const struct model_set *set, unsigned kinds);

/* Writes one object of @set as one document.  Returns 0 or -EIO. */
int emit_one(FILE *f, const struct model_set *set, const struct model_obj *o);

#define EMIT_ALL_KINDS ((1u << MODEL_KIND_MAX) - 1)

#endif /* CTL_EMIT_H */
