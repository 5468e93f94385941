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

#include "arena.h"
#include "meshforge/abi.h"
#include "model.h"

struct ep_view {
	const struct model_obj *o;	/* a Workload or a Dataplane */
	const char *node;		/* its Node's name */
	const char *service;		/* its service's name, "": none */
	const char *id;			/* its SPIFFE ID: spec.identity, or one
					 * rendered where its view's maker
					 * keeps it; NULL: none */
	uint32_t tags;			/* tag set id, 0: none */
	uint16_t port;
	uint8_t ip[4];
	bool dataplane;
};

/* The endpoints of a set (ep_views()).  A rendered identity lives in the
 * list's arena, not in its view: a view is a few pointers, and a
 * 100k-endpoint compile makes 5 MiB of them rather than 30. */
struct ep_list {
	struct ep_view *v;		/* owned */
	size_t n;
	struct arena ids;		/* the rendered identities */
};

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
 * The endpoint view of @o, a Workload or a Dataplane, into @v, an identity
 * it renders into @id_buf (which @v then points to).  Returns
 * true when @o is an endpoint (a Dataplane without meshforge.io/node is
 * not, nor is a gateway); @v may then still lack a service or an
 * identity, or (a Dataplane) an address, which validation reports.
 */
bool ep_view(const struct model_set *set, const struct model_obj *o,
	     struct ep_view *v, char id_buf[MF_SPIFFE_MAX]);

/* The views of every endpoint of @set, Workloads then Dataplanes, each
 * by name, into @out (freed with ep_list_free()).  Returns 0 or -ENOMEM
 * (@out then empty). */
int ep_views(const struct model_set *set, struct ep_list *out);

void ep_list_free(struct ep_list *l);

#endif /* MF_POLICY_ENDPOINT_H */
