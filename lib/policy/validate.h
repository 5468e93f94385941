/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cross-object checks over the whole set that is about to be applied (the
 * new objects merged over the applied state): references resolve, keys the
 * maps index by are unique, identities belong to the Mesh's trust domain.
 */
#ifndef CTL_VALIDATE_H
#define CTL_VALIDATE_H

#include "diag.h"
#include "model.h"

/*
 * Checks @set.  Objects with a file location get "file:line:col: path: msg"
 * diagnostics; objects from the applied state (no file) are named instead
 * ("applied Workload b1: ...").  Returns 0, -EINVAL when there are problems
 * (all of them in @d), or -ENOMEM.
 */
int validate_set(const struct model_set *set, struct diag *d);

#endif /* CTL_VALIDATE_H */
