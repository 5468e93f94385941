/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Selection (select.h) over a model set: what its sel_ctx callbacks read.
 */
#ifndef MF_POLICY_SELECT_MODEL_H
#define MF_POLICY_SELECT_MODEL_H

#include <stdint.h>

#include "model.h"

/* The metadata.labels of the object that a targetRef of kind @kind
 * (MF_REF_*) names @name in @set: a Service or MeshService, a Workload or
 * Dataplane, a MeshHTTPRoute; NULL when there is none or it has none. */
const struct mf_tagset *sel_model_labels(const struct model_set *set,
					 uint8_t kind, const char *name);

#endif /* MF_POLICY_SELECT_MODEL_H */
