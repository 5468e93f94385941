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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Whether the mesh CA vouches for the trust domain MeshIdentity @mid
 * renders: Kuma's meshTrustCreation, which makes a MeshTrust of the
 * identity's CA unless it is Disabled, for the Bundled provider (the one
 * whose certificates the mesh CA issues; none written is Bundled).
 */
bool identity_creates_trust(const struct model_obj *mid);

/*
 * The trust domains of the mesh besides the Mesh's own @td: those of the
 * identities MeshIdentities render for the set's Workloads and
 * Dataplanes, each once, in the order first met, into @out (@max of
 * them), and in *@ca bit i when one that creates trust
 * (identity_creates_trust()) renders @out[i].  Returns how many, or
 * -ENOSPC when there are more (the first @max are in @out).
 */
int identity_domains(const struct model_set *set, const char *td,
		     char (*out)[MF_NAME_MAX], size_t max, uint32_t *ca);

#endif /* MF_POLICY_IDENTITY_H */
