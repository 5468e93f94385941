/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Workload identities from MeshIdentity (Kuma 2.12 on).  A Workload's
 * SPIFFE ID is its spec.identity, or else what the MeshIdentity that
 * selects it renders from its templates:
 *
 *   - selection, as Kuma's BestMatched: every MeshIdentity whose
 *     selector.dataplane.matchLabels are all among the Workload's
 *     metadata.labels (kuma.io/display-name is its name) selects it; the
 *     one with the most matchLabels wins, then the first by name;
 *   - the trust domain template (default "{{ .Mesh }}.{{ .Zone }}.mesh.local")
 *     has .Mesh, the Mesh's name, and .Zone, the Workload's kuma.io/zone
 *     label or "default" (meshforge runs one zone);
 *   - the path template (default "/workload/{{ .Workload }}", Kuma's for
 *     universal zones) has .TrustDomain, the rendered trust domain, and
 *     .Namespace and .ServiceAccount, the Workload's labels
 *     k8s.kuma.io/namespace and k8s.kuma.io/service-account (an absent
 *     one renders empty, as in Go), and .Workload, its label
 *     kuma.io/workload or else its name (a meshforge Workload is one);
 *     {{ label "<key>" }} needs the label, kuma.io/display-name being the
 *     Workload's name unless it carries one, as in selection.
 */
#ifndef MF_POLICY_IDENTITY_H
#define MF_POLICY_IDENTITY_H

#include <stddef.h>

#include "model.h"

/* The model kind of MeshIdentity. */
enum model_kind identity_kind(void);

/* The MeshIdentity that selects Workload @w in @set, or NULL. */
const struct model_obj *identity_select(const struct model_set *set,
					const struct model_obj *w);

/*
 * Renders the SPIFFE ID MeshIdentity @mid gives Workload @w into @buf (@n
 * bytes).  Returns 0, or -EINVAL with why in @why (@whyn bytes): a label
 * the template needs is missing, or the result is not a SPIFFE ID.
 */
int identity_render(const struct model_set *set, const struct model_obj *mid,
		    const struct model_obj *w, char *buf, size_t n,
		    char *why, size_t whyn);

/*
 * Workload @w's SPIFFE ID: its spec.identity, or rendered into @buf
 * (MF_SPIFFE_MAX bytes) by the MeshIdentity that selects it.  Returns
 * the ID, or NULL when it has none (validation says why).
 */
const char *identity_of_workload(const struct model_set *set,
				 const struct model_obj *w, char *buf);

#endif /* MF_POLICY_IDENTITY_H */
