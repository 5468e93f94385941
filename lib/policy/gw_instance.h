/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builtin gateway instances: Kuma's universal builtin gateway is a
 * Dataplane with networking.gateway {type: BUILTIN, tags: {kuma.io/service:
 * edge-gateway}}.  Labelled meshforge.io/node (dataplane.h), it is no
 * endpoint (it has no inbound) but a gateway that Node's agent runs: the
 * MeshGateway whose selectors match its tags.  Each one compiles to an
 * mf_gw_instances record:
 *   - its node is its meshforge.io/node label;
 *   - its tags are networking.gateway.tags, whose kuma.io/service it
 *     needs;
 *   - its identity is what the MeshIdentity that selects it renders
 *     (identity.h), else Kuma's for a proxy of its service:
 *     spiffe://<the Mesh's trust domain>/<kuma.io/service>.
 */
#ifndef MF_POLICY_GW_INSTANCE_H
#define MF_POLICY_GW_INSTANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "model.h"

struct gwi_view {
	const struct model_obj *o;	/* the Dataplane */
	const char *node;		/* its Node's name */
	uint32_t tags;			/* networking.gateway.tags, 0: none */
	char id[MF_SPIFFE_MAX];		/* its identity, "": none (validation
					 * says why: gwi_identity()) */
};

/* Whether @o is a builtin gateway instance: a Dataplane labelled
 * meshforge.io/node whose gateway is BUILTIN. */
bool gwi_is(const struct model_set *set, const struct model_obj *o);

/*
 * The identity of instance @o into @buf (MF_SPIFFE_MAX bytes), and into
 * *@mid the MeshIdentity it comes from (NULL: Kuma's default).  Returns 0;
 * -EINVAL with why in @why (@whyn bytes): the MeshIdentity's templates do
 * not render, or there is no kuma.io/service to take the default from, or
 * it makes no SPIFFE ID; -ENOENT: the default needs a Mesh's trust domain
 * and there is no Mesh.
 */
int gwi_identity(const struct model_set *set, const struct model_obj *o,
		 char *buf, const struct model_obj **mid, char *why,
		 size_t whyn);

/* The view of @o into @v.  Returns false when @o is not an instance; @v's
 * identity may then still be missing, which validation reports. */
bool gwi_view(const struct model_set *set, const struct model_obj *o,
	      struct gwi_view *v);

/* The views of every instance of @set, by name, into *out (caller frees)
 * and *n.  Returns 0 or -ENOMEM. */
int gwi_views(const struct model_set *set, struct gwi_view **out, size_t *n);

#endif /* MF_POLICY_GW_INSTANCE_H */
