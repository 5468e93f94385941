// SPDX-License-Identifier: Apache-2.0
/*
 * Kuma's universal Dataplane as a Workload (dataplane.h).
 */
#include <arpa/inet.h>
#include <string.h>

#include "dataplane.h"
#include "kinds.h"
#include "records.h"

#define DP_SERVICE_TAG	"kuma.io/service"

/* networking.gateway's presence bit in struct mf_dp_networking
 * (kind_dataplane.c's field order: address, advertisedAddress, inbound,
 * outbound, gateway). */
#define DP_NET_GATEWAY	(1u << 4)

enum model_kind dp_kind(void)
{
	return (enum model_kind)(MODEL_GEN_FIRST + REC_DATAPLANES -
				 REC_KIND_FIRST);
}

const char *dp_node(const struct model_set *set, const struct model_obj *o)
{
	if (o->kind != dp_kind())
		return NULL;
	return kind_tag_value(model_tags_get(set, o->labels), DP_NODE_LABEL);
}

uint32_t dp_inbound_tags(const struct model_obj *o)
{
	const struct mf_dataplane *d = (const void *)o->pol.recs;

	return o->pol.n && d->networking.ninbound ?
	       d->networking.inbound[0].tags : 0;
}

const char *dp_inbound_service(const struct model_set *set,
			       const struct model_obj *o)
{
	return kind_tag_value(model_tags_get(set, dp_inbound_tags(o)),
			      DP_SERVICE_TAG);
}

unsigned int dp_gateway_type(const struct model_obj *o)
{
	const struct mf_dataplane *d = (const void *)o->pol.recs;

	if (o->kind != dp_kind() || !o->pol.n ||
	    !(d->networking.present & DP_NET_GATEWAY))
		return 0;
	return d->networking.gateway.type ? d->networking.gateway.type :
					    MF_DP_GATEWAY_DELEGATED;
}

uint32_t dp_gateway_tags(const struct model_obj *o)
{
	const struct mf_dataplane *d = (const void *)o->pol.recs;

	return dp_gateway_type(o) ? d->networking.gateway.tags : 0;
}

const char *dp_gateway_service(const struct model_set *set,
			       const struct model_obj *o)
{
	return kind_tag_value(model_tags_get(set, dp_gateway_tags(o)),
			      DP_SERVICE_TAG);
}

const char *dp_endpoint_addr(const struct model_obj *o, uint8_t ip[4],
			     uint16_t *port)
{
	const struct mf_dataplane *d = (const void *)o->pol.recs;
	const struct mf_dp_inbound *in;
	const char *addr;

	if (!o->pol.n || d->networking.ninbound != 1)
		return "a Dataplane that is a Workload has one inbound (its "
		       "address is one endpoint)";
	in = &d->networking.inbound[0];
	addr = in->service_address[0] ? in->service_address :
	       in->address[0] ? in->address : d->networking.address;
	if (inet_pton(AF_INET, addr, ip) != 1)
		return "a Dataplane that is a Workload needs an IPv4 address "
		       "(networking.address, or its inbound's address or "
		       "serviceAddress)";
	*port = in->service_port ? in->service_port : in->port;
	return NULL;
}
