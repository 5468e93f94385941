/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy documents: YAML text -> model objects, checking every field on its
 * own (types, ranges, formats, unknown fields).  Checks that need more than
 * one object (references, duplicates, trust domain) are validate.c's.
 */
#ifndef CTL_DOC_H
#define CTL_DOC_H

#include <stddef.h>

#include "diag.h"
#include "model.h"

/*
 * Parses every document of @buf and appends one object per non-empty
 * document to @set.  @file names the input in diagnostics (the set keeps a
 * copy).  A (kind, name) that @set already holds is an error, so several
 * inputs parsed into one set may not define an object twice.  Returns 0,
 * -EINVAL when the input has problems (each one added to @d; objects of
 * the documents without problems are still appended), or -ENOMEM.
 */
int doc_parse_buffer(struct model_set *set, const char *file,
		     const char *buf, size_t len, struct diag *d);

/*
 * The same for a caller that parses many inputs of one object each into
 * @set (a store's values, @file the key, new to @set): neither the name
 * nor the (kind, name) is looked up in @set, which at one search per
 * input would make n inputs cost O(n^2).  The caller then checks the
 * whole set once with doc_check_unique().
 */
int doc_parse_one_of_many(struct model_set *set, const char *file,
			  const char *buf, size_t len, struct diag *d);

/* Reports in @d every object from objs[@first] on whose (kind, name) an
 * earlier object of @set has, in O(n log n).  Returns 0, -EINVAL (some
 * were, each said) or -ENOMEM. */
int doc_check_unique(const struct model_set *set, size_t first,
		     struct diag *d);

/*
 * Reads @path ("-": standard input, named "<stdin>") and parses it as
 * above.  Returns 0, -EINVAL (input problems, in @d), or another -errno
 * when the file cannot be read (also described in @d).
 */
int doc_parse_file(struct model_set *set, const char *path, struct diag *d);

#endif /* CTL_DOC_H */
