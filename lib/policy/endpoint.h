/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The endpoints of a policy: every Workload and every Dataplane that is
 * one (dataplane.h), seen alike, for compile.c and validation.  What a
 * Workload leaves out comes from where it is implied: its service from
 * the MeshService that selects it (mesh_service.h), its identity from its
 * MeshIdentity (identity.h).
 */
#ifndef MF_POLICY_ENDPOINT_H
#define MF_POLICY_ENDPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "model.h"

struct ep_view {
	const struct model_obj *o;	/* a Workload or a Dataplane */
	bool dataplane;
	const char *node;		/* its Node's name */
	uint8_t ip[4];
	uint16_t port;
	const char *service;		/* its service's name, "": none */
	const char *written_id;		/* spec.identity, NULL: rendered or
					 * none (ep_identity()) */
	uint32_t tags;			/* tag set id, 0: none */
	char id_buf[MF_SPIFFE_MAX];	/* a rendered identity, "": none */
};

/* The SPIFFE ID of endpoint @v, NULL: none.  (Views may be moved: the
 * rendered one is read where it is now.) */
static inline const char *ep_identity(const struct ep_view *v)
{
	return v->written_id ? v->written_id : v->id_buf[0] ? v->id_buf : NULL;
}

/* Whether endpoint @v says it speaks HTTP/1.1: its tags' kuma.io/protocol
 * is http, in any case (Kuma lower-cases it). */
bool ep_http(const struct model_set *set, const struct ep_view *v);

/*
 * Whether @o, a Workload or a Dataplane, is an endpoint, and where: its
 * Node's name, and its address and port into @ip and *@port (zeros when
 * a Dataplane has none that is one, which validation reports).  NULL: not
 * an endpoint (a Dataplane without meshforge.io/node, or a gateway).  The
 * part of ep_view() that costs no lookup, for checks of every endpoint's
 * address alone.
 */
const char *ep_addr(const struct model_set *set, const struct model_obj *o,
		    uint8_t ip[4], uint16_t *port);

/*
 * The endpoint view of @o, a Workload or a Dataplane, into @v.  Returns
 * true when @o is an endpoint (a Dataplane without meshforge.io/node is
 * not, nor is a gateway); @v may then still lack a service or an
 * identity, or (a Dataplane) an address, which validation reports.
 */
bool ep_view(const struct model_set *set, const struct model_obj *o,
	     struct ep_view *v);

/* The views of every endpoint of @set, Workloads then Dataplanes, each
 * by name, into *out (caller frees) and *n.  Returns 0 or -ENOMEM. */
int ep_views(const struct model_set *set, struct ep_view **out, size_t *n);

#endif /* MF_POLICY_ENDPOINT_H */
