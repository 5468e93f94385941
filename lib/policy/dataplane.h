/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kuma's universal Dataplane as another way to declare a Workload.
 *
 * A Dataplane labelled meshforge.io/node (the Node whose agent serves it:
 * Kuma's Dataplane names none) is an endpoint like a Workload:
 *   - its address is its one inbound's serviceAddress, else the inbound's
 *     address, else networking.address: an IPv4 address;
 *   - its port is the inbound's servicePort, else its port;
 *   - its service is the inbound's kuma.io/service tag (a Service or a
 *     MeshService), else the MeshService that selects it;
 *   - its identity is the one the MeshIdentity that selects it renders;
 *   - its tags are the inbound's.
 * Labelled, a Dataplane whose networking.gateway.type is BUILTIN is no
 * endpoint but a gateway the Node's agent runs (gw_instance.h); a
 * DELEGATED gateway is a proxy of its own, which validation refuses to
 * give a Node.  A Dataplane without the label is stored and checked only.
 */
#ifndef MF_POLICY_DATAPLANE_H
#define MF_POLICY_DATAPLANE_H

#include <stdint.h>

#include "model.h"

#define DP_NODE_LABEL	"meshforge.io/node"

/* The model kind of Dataplane. */
enum model_kind dp_kind(void);

/* The Node that serves Dataplane @o (its meshforge.io/node label), or NULL
 * when it is neither an endpoint nor a gateway instance. */
const char *dp_node(const struct model_set *set, const struct model_obj *o);

/* The type of Dataplane @o's networking.gateway (enum mf_dp_gateway_type:
 * written without one, DELEGATED, Kuma's default), 0: it is no gateway. */
unsigned int dp_gateway_type(const struct model_obj *o);

/* The tags of Dataplane @o's networking.gateway (a tag set id, 0: none). */
uint32_t dp_gateway_tags(const struct model_obj *o);

/* The kuma.io/service of those tags, or NULL. */
const char *dp_gateway_service(const struct model_set *set,
			       const struct model_obj *o);

/* The tags of Dataplane @o's first inbound (a tag set id, 0: none). */
uint32_t dp_inbound_tags(const struct model_obj *o);

/* The service its first inbound's kuma.io/service tag names, or NULL. */
const char *dp_inbound_service(const struct model_set *set,
			       const struct model_obj *o);

/*
 * The address and port of Dataplane @o as an endpoint into @ip and
 * *port.  Returns NULL, or why it cannot be one (static): not one inbound,
 * or not an IPv4 address.
 */
const char *dp_endpoint_addr(const struct model_obj *o, uint8_t ip[4],
			     uint16_t *port);

#endif /* MF_POLICY_DATAPLANE_H */
