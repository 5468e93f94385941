/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Selection (select.h) over a model set: what its sel_ctx callbacks read.
 */
#ifndef MF_POLICY_SELECT_MODEL_H
#define MF_POLICY_SELECT_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "select.h"

/* The metadata.labels of the object that a targetRef of kind @kind
 * (MF_REF_*) names @name in @set: a Service or MeshService, a Workload or
 * Dataplane, a MeshHTTPRoute; NULL when there is none or it has none. */
const struct mf_tagset *sel_model_labels(const struct model_set *set,
					 uint8_t kind, const char *name);

/* A selection context over @set: tag sets and labels from it. */
struct sel_ctx sel_model_ctx(const struct model_set *set);

/* Every record of every policy of model kind @k in @set as selection
 * candidates, into a new array (the caller frees it; NULL on ENOMEM) of
 * *n. */
struct sel_cand *sel_model_cands(const struct model_set *set,
				 enum model_kind k, size_t *n);

#endif /* MF_POLICY_SELECT_MODEL_H */
