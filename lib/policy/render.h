/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy objects -> the emitter (lib/emit.h): the YAML documents `mfctl
 * apply` reads back (what `get` prints and the saved state holds) and the
 * JSON of `get -o json`, from one walk per shape.
 */
#ifndef MF_POLICY_RENDER_H
#define MF_POLICY_RENDER_H

#include <stdio.h>

#include "emit.h"
#include "model.h"

#define RENDER_ALL_KINDS ((1u << MODEL_KIND_MAX) - 1)

/* The spec of @o, as one map. */
void render_spec(struct emit *e, const struct model_set *set,
		 const struct model_obj *o);

/* @o as one map {apiVersion, kind, metadata: {name}, spec}.  YAML
 * callers start the document (emit_doc()) first. */
void render_obj(struct emit *e, const struct model_set *set,
		const struct model_obj *o);

/*
 * One record of a schema-driven kind, as the agent's /config_dump shows
 * it: {policy, index, section, targetRef, entryRef, entry and rule
 * (routes), sources or selectors, destinations, conf}, each where it
 * applies; a spec-form kind's {policy, index, spec}.  @t resolves its
 * tag sets and strings.
 */
void render_record(struct emit *e, const struct kind_desc *kd,
		   const struct mf_pol_key *k, const void *val,
		   const struct sch_ids *t);

/*
 * Writes the objects of @set whose kind bit (1u << kind) is in @kinds and,
 * when @name is not NULL, whose name is @name, in model_set_sorted()
 * order: YAML documents, or one JSON list with an object per line.
 * Returns 0, -ENOMEM or -EIO.
 */
int render_set(FILE *f, enum emit_fmt fmt, const struct model_set *set,
	       unsigned kinds, const char *name);

#endif /* MF_POLICY_RENDER_H */
