/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPIFFE ID templates as MeshIdentity writes them: literal text around
 * actions, {{ .Field }} or {{ label "<key>" }}, with spaces allowed inside
 * the braces.  That is the one form meshforge reads of Go's text/template:
 * kind_mesh_identity.c checks templates with it and identity.c renders
 * them, so what is accepted is exactly what renders.
 */
#ifndef MF_POLICY_SPIFFE_TMPL_H
#define MF_POLICY_SPIFFE_TMPL_H

#include <stdbool.h>
#include <stddef.h>

/* One piece of a template: literal text, or an action naming a field
 * (without its '.') or a label key (without its quotes). */
struct tmpl_piece {
	enum { TMPL_TEXT, TMPL_FIELD, TMPL_LABEL } type;
	const char *s;
	size_t n;
};

/* Called for each piece in order; nonzero stops the walk. */
typedef int tmpl_fn(void *arg, const struct tmpl_piece *p);

/* What is wrong with a template the walk stops at. */
#define TMPL_ERR_UNCLOSED	(-1)	/* "{{" without its "}}" */
#define TMPL_ERR_ACTION		(-2)	/* not .Field or label "<key>" */

/*
 * Walks template @s.  Returns 0, TMPL_ERR_UNCLOSED or TMPL_ERR_ACTION (no
 * piece of the bad action is passed), or what @fn returned.  A label key
 * is of metadata.labels' characters and shorter than MF_TAG_KEY_MAX.
 */
int tmpl_walk(const char *s, tmpl_fn *fn, void *arg);

/* Whether piece @p is field @name. */
bool tmpl_is_field(const struct tmpl_piece *p, const char *name);

#endif /* MF_POLICY_SPIFFE_TMPL_H */
