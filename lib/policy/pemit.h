/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A schema-driven policy's records -> its spec, as YAML that pdoc_parse()
 * reads back to the same records, and as JSON.
 */
#ifndef CTL_PEMIT_H
#define CTL_PEMIT_H

#include <stdio.h>

#include "model.h"

/* Writes the body of `spec:` for @o (an object of @set, kind >=
 * MODEL_GEN_FIRST), every line indented by two spaces or more. */
void pemit_yaml(FILE *f, const struct model_set *set,
		const struct model_obj *o);

/* Writes the spec of @o as one JSON object (same fields as the YAML). */
void pemit_json(FILE *f, const struct model_set *set,
		const struct model_obj *o);

/* Writes tag set @id of @set as YAML mapping lines ("key: value"), each
 * indented by @indent spaces, keys in order. */
void pemit_tags_yaml(FILE *f, const struct model_set *set, uint32_t id,
		     int indent);

/* Writes tag set @id of @set as a JSON object. */
void pemit_tags_json(FILE *f, const struct model_set *set, uint32_t id);

#endif /* CTL_PEMIT_H */
