/* SPDX-License-Identifier: Apache-2.0 */
/*
 * MeshService as a service that carries traffic, beside the core Service.
 *
 * Both are services of the mesh: one name space (a MeshService may not
 * take a Service's name), one id space, the same mf_services and
 * mf_endpoints records, so everything that names a service (targetRefs
 * and backendRefs of kind MeshService, permissions, routes) names either.
 * They differ in how they get their address and their endpoints:
 *
 *   - a Service has the VIP and port its spec writes, and its endpoints
 *     are the Workloads whose spec.service names it;
 *   - a MeshService gets a VIP that mfctl allocates from the Mesh's
 *     spec.meshServices.vipRange (default 241.0.0.0/8, Kuma's), kept
 *     across applies, with one mf_services record per port; its endpoints
 *     are the Workloads its selector picks (dataplaneLabels against their
 *     metadata.labels, dataplaneRef by name, dataplaneTags against their
 *     spec.tags), which then leave spec.service out.
 *
 * A MeshExternalService is a destination as well, in the same id space
 * (so backendRefs and permissions name it by name), with one mf_services
 * record at the VIP mfctl allocates from the Mesh's
 * spec.meshExternalServices.vipRange (default 242.0.0.0/8, Kuma's) and its
 * match.port, flagged MF_SERVICE_F_EXTERNAL; it has no Workloads: the
 * agents reach its spec.endpoints themselves.
 *
 * A Workload is the endpoint of one service: its spec.service or the one
 * MeshService that selects it.
 *
 * A MeshMultiZoneService spans the MeshServices of every zone whose
 * metadata.labels its selector.meshService.matchLabels match.  meshforge
 * runs one zone, so its endpoints are those of the MeshServices of that
 * zone it selects, at each of its ports that they have too (by number).
 * It is a destination of its own, in the services' name space and id
 * space: a VIP that mfctl allocates from the Mesh's
 * spec.meshMultiZoneServices.vipRange (default 243.0.0.0/8, Kuma's), kept
 * across applies, with one mf_services record per spec.ports entry,
 * flagged MF_SERVICE_F_MULTI_ZONE (and MF_SERVICE_F_HTTP for appProtocol
 * http), and no mf_endpoints.  mfctl compiles the selection, less the
 * MeshServices whose spec.state is Unavailable, into its record's members
 * (service id and port), which the agents, who know no labels, balance
 * over: a connection to its VIP:port, or a backendRef to it.
 */
#ifndef MF_POLICY_MESH_SERVICE_H
#define MF_POLICY_MESH_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "records.h"

#define MSVC_VIP_RANGE_DEFAULT	"241.0.0.0/8"
/* Kuma's default range of MeshExternalService VIPs. */
#define MES_VIP_RANGE_DEFAULT	"242.0.0.0/8"
/* Kuma's default range of MeshMultiZoneService VIPs (its control plane's
 * ipam.meshMultiZoneService.cidr), a range of their own. */
#define MZS_VIP_RANGE_DEFAULT	"243.0.0.0/8"

/* The model kind of MeshService. */
enum model_kind msvc_kind(void);

/* Whether MeshService @ms selects Workload @w. */
bool msvc_selects(const struct model_set *set, const struct model_obj *ms,
		  const struct model_obj *w);

/* The first MeshService by name that selects Workload @w (NULL: none),
 * and in *n (may be NULL) how many do.  A MeshService without ports
 * (Kuma takes one) carries no traffic, so it has no endpoints: it is not
 * counted. */
const struct model_obj *msvc_of_workload(const struct model_set *set,
					 const struct model_obj *w,
					 unsigned *n);

/* The name of Workload @w's service: its spec.service, or the MeshService
 * that selects it, or "" (validation says why). */
const char *msvc_workload_service(const struct model_set *set,
				  const struct model_obj *w);

/* The model kind of MeshExternalService. */
enum model_kind mes_kind(void);

/* The model kind of MeshMultiZoneService. */
enum model_kind mzs_kind(void);

/* Whether MeshMultiZoneService @mz selects MeshService @ms: its
 * matchLabels are all among @ms's metadata.labels (kuma.io/display-name
 * standing for its name). */
bool mzs_selects(const struct model_set *set, const struct model_obj *mz,
		 const struct model_obj *ms);

/* Whether MeshService @ms has a port numbered @port. */
bool msvc_has_port(const struct model_obj *ms, uint16_t port);

/* Whether MeshService @ms may take a MeshMultiZoneService's traffic:
 * its spec.state is Available or unset (Kuma's default).  Kuma sends a
 * MeshMultiZoneService's traffic to its Available MeshServices only. */
bool msvc_available(const struct model_obj *ms);

/*
 * Gives each of the @n MeshServices @names a VIP in @range ("": the
 * default of @flag: MSVC_VIP_RANGE_DEFAULT, MES_VIP_RANGE_DEFAULT with
 * MF_SERVICE_F_EXTERNAL, MZS_VIP_RANGE_DEFAULT with
 * MF_SERVICE_F_MULTI_ZONE) into @vips: the one @prev's records whose flags
 * have @flag (MF_SERVICE_F_MESH_SERVICE: a MeshService's,
 * MF_SERVICE_F_EXTERNAL: a MeshExternalService's, MF_SERVICE_F_MULTI_ZONE:
 * a MeshMultiZoneService's) gave it (NULL: none) when
 * that is still in the range and free, else the lowest free address (the
 * network's first and last excluded).  @taken (@ntaken) are addresses in
 * use otherwise (the Services' VIPs).  Returns 0, -EINVAL (a bad range),
 * -ENOMEM, or -ENOSPC with *failed the index of the first left without.
 */
int msvc_alloc_vips(const char *range, uint32_t flag,
		    const struct rec_set *prev, const char *const *names, size_t n,
		    const uint8_t (*taken)[4], size_t ntaken,
		    uint8_t (*vips)[4], size_t *failed);

/* The default VIP range of the objects whose mf_services records carry
 * @flag (MF_SERVICE_F_MESH_SERVICE, _EXTERNAL or _MULTI_ZONE). */
const char *msvc_default_range(uint32_t flag);

/* Whether @o is a service: a Service or a MeshService. */
bool msvc_is_service(const struct model_obj *o);

/* The port service @o as a whole is selected by (a sectionName): a
 * Service's port, a MeshService's first (0: none). */
uint16_t msvc_service_port(const struct model_obj *o);

/*
 * The protocol flags of port @port (an index into a MeshService's ports;
 * 0 for a Service) of service @o, as Kuma decides a service's protocol:
 *   - a Service whose spec.protocol is written: that protocol
 *     (MF_SERVICE_F_PROTOCOL_SPEC, and MF_SERVICE_F_HTTP for http);
 *   - any other Service: HTTP when it has endpoints (@neps) and every one
 *     of them says kuma.io/protocol: http (@nhttp of them do, ep_http());
 *     when they disagree or it has none, Kuma falls back to tcp;
 *   - a MeshService port: HTTP when its appProtocol is http, in any case
 *     (tcp when left out); with MF_SERVICE_F_MESH_SERVICE.
 * Only http is HTTP: http2 and grpc are not HTTP/1.1, so they are relayed
 * as bytes.  Returns the MF_SERVICE_F_* flags of its mf_services record.
 */
uint32_t msvc_port_flags(const struct model_obj *o, size_t port, size_t neps,
			 size_t nhttp);

/*
 * Whether endpoint @e, of service @o, presents one of @o's identities:
 * true unless @o is a MeshService whose spec.identities lists some and
 * none is @e's.  A SpiffeID is compared with @e's SPIFFE ID exactly; a
 * ServiceTag with its kuma.io/service, which is its tags' kuma.io/service
 * (a Dataplane's inbound has one, a Workload's tags may) or else the name
 * of the service it serves.  Clients use such a service's endpoints only
 * when they do (MF_ENDPOINT_F_UNLISTED).
 */
struct ep_view;
bool msvc_identity_listed(const struct model_set *set,
			  const struct model_obj *o, const struct ep_view *e);

/* Parses range @s ("a.b.c.d/p", p 8..30, no host bits, not in 0/8,
 * 127/8 or 224/4) into @net and *prefix.  Returns 0 or -EINVAL. */
int msvc_parse_range(const char *s, uint8_t net[4], uint8_t *prefix);

#endif /* MF_POLICY_MESH_SERVICE_H */
