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
 * A Dataplane without the label is stored and checked only.
 */
#ifndef MF_POLICY_DATAPLANE_H
#define MF_POLICY_DATAPLANE_H

#include <stdint.h>

#include "model.h"

#define DP_NODE_LABEL	"meshforge.io/node"

/* The model kind of Dataplane. */
enum model_kind dp_kind(void);

/* The Node that serves Dataplane @o (its meshforge.io/node label), or NULL
 * when it is not an endpoint. */
const char *dp_node(const struct model_set *set, const struct model_obj *o);

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
