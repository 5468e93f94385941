/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The spec of a schema-driven policy kind (lib/kinds.h) -> its records.
 *
 * Shapes (enum kind_form) and the records they make, index order:
 *   TO_FROM    every spec.to[] entry, then every spec.from[] entry; hdr
 *              .target = spec.targetRef, .ref = the entry's targetRef,
 *              .section TO/FROM; conf = the entry's `default`
 *   DEFAULT    one record; .section DEFAULT; conf = spec.default
 *   ROUTE      every rule of every spec.to[] entry; .entry/.rule say which;
 *              .ref = the entry's targetRef; conf = the rule (an entry
 *              without rules, KIND_SEC_ENTRY_NO_RULES: one record, .rule
 *              MF_ROUTE_NO_RULES, conf zero)
 *   SOURCES    one record; .sources/.destinations = tagset ids of
 *              spec.sources[].match / spec.destinations[].match; conf =
 *              spec.conf; .section CONF
 *   SELECTORS  one record; .sources = spec.selectors[].match; conf =
 *              spec.conf; .section CONF
 * spec.targetRef defaults to {kind: Mesh} where the form has one.
 */
#ifndef CTL_PDOC_H
#define CTL_PDOC_H

#include "docfield.h"
#include "model.h"

/*
 * Reads @spec (the value of the document's `spec`) of policy @o, whose
 * kind (>= MODEL_GEN_FIRST), name and locations are set (and o->u.pol.kd
 * NULL, or a kind_desc to use instead of the kind's), into o->u.pol:
 * the records (owned by @o; every byte not written by a field is zero)
 * and where each mf_ref was written (refs).  Tags are interned into @set.
 * Each problem is reported through @c at its position with its path.
 * Returns 0 (problems counted in c->errors) or -ENOMEM.
 */
int pdoc_parse(struct doc_ctx *c, struct model_set *set, struct model_obj *o,
	       const struct ynode *spec);

/*
 * Reads a tags mapping (`version: v2`, `kuma.io/service: web`) at @v
 * (@path) into a tag set interned in @set; *id gets its id.  Keys are
 * 1..63 of [A-Za-z0-9._/-], values 1..63 of [A-Za-z0-9._/:-] or "*", at
 * most MF_TAGS_MAX of them.  Problems go through @c (*id stays 0).
 * Returns 0 or -ENOMEM.
 */
int pdoc_tags(struct doc_ctx *c, struct model_set *set, const struct ynode *v,
	      const char *path, uint32_t *id);

#endif /* CTL_PDOC_H */
