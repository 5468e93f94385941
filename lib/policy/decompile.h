/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Map records -> objects: the inverse of compile_set(), so `mfctl get` can
 * print the applied state as the YAML `apply` takes, and `apply` can merge
 * new objects over what is applied.
 *
 * Information compile_set() does not keep is not invented: a rule that is
 * the prefix "spiffe://<trust-domain>/" comes back as a `Mesh` entry (the
 * same rule), ids and node addresses of endpoints are left to compile.
 */
#ifndef CTL_DECOMPILE_H
#define CTL_DECOMPILE_H

#include "diag.h"
#include "model.h"
#include "records.h"

/*
 * Appends the objects @rs (sorted: rec_sort() on every map) describes to
 * @set; their locations have no file
 * (they are "applied").  Returns 0, -EBADMSG when the records contradict
 * each other (a dangling id, an unterminated string, one policy on two
 * services; each said in @d), or -ENOMEM.
 */
int decompile_records(const struct rec_set *rs, struct model_set *set,
		      struct diag *d);

#endif /* CTL_DECOMPILE_H */
