/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Objects -> map records (records.h), in memory.
 *
 * Ids: a Service or identity that @prev (the applied records) already has
 * keeps its id, so the agent's view of unchanged objects stays the same
 * across an apply; new ones get ids above every id in @prev, in name order.
 * Ids are never 0.
 *
 * Authz: each MeshTrafficPermission's `from` entries become the rules of
 * its target service, policies in name order and entries in the order
 * written, indexed 0..n-1 per service; mf_service.authz_rules is n.  A
 * `Mesh` entry is the prefix rule "spiffe://<trust-domain>/".
 */
#ifndef CTL_COMPILE_H
#define CTL_COMPILE_H

#include "diag.h"
#include "model.h"
#include "records.h"

/*
 * Compiles @set, which validate_set() accepted, into @out (initialised
 * here; the caller frees it with rec_set_free() whatever this returns).
 * @prev may be NULL.  The epoch is left 0 for the caller to set.  Returns
 * 0, -ENOSPC when a map's capacity would be exceeded (said in @d), or
 * -ENOMEM.
 */
int compile_set(const struct model_set *set, const struct rec_set *prev,
		struct rec_set *out, struct diag *d);

#endif /* CTL_COMPILE_H */
