/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `mfctl get` output formats: YAML (emit.c, what apply takes), JSON (one
 * document: an array of objects with the same fields as the YAML) and
 * aligned text tables, one per kind.
 */
#ifndef CTL_OUTPUT_H
#define CTL_OUTPUT_H

#include <stdio.h>

#include "policy/model.h"

enum output_format {
	OUTPUT_YAML = 0,
	OUTPUT_JSON,
	OUTPUT_TABLE,
};

/* "yaml", "json", "table" (also "wide" for table) -> format, or -1. */
int output_format_parse(const char *arg);

/*
 * Writes the objects of @set whose kind bit (1u << kind) is in @kinds and,
 * when @name is not NULL, whose name is @name; kinds in enum order, names
 * sorted.  The whole of @set is still used for derived columns (a
 * Service's endpoint count).  Returns 0, -ENOMEM or -EIO.
 */
int output_write(FILE *f, const struct model_set *set, unsigned kinds,
		 const char *name, enum output_format fmt);

#endif /* CTL_OUTPUT_H */
