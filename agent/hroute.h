/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hroute: MeshHTTPRoute in force.  For one connection (a source workload
 * and the destination service it dialled) the rules that apply are found
 * once, when it is accepted, by Kuma's selection (sel_select(): the
 * route's targetRef selects the source, its to[] entry the destination),
 * and kept as a list of (rule, match) pairs in the order requests try
 * them, so a request costs one pass over the rules that can apply to it,
 * never over the mesh's routes:
 *   1. the more specific match first (the Gateway API's precedence, which
 *      Kuma follows): an Exact path before a PathPrefix, a longer prefix
 *      before a shorter, a RegularExpression after both, any path last;
 *      then a match with a method before one without, then more header
 *      matches, then more query parameter matches;
 *   2. at equal specificity, the rule of the more precedent policy
 *      (merged later) first.
 * The first pair whose match accepts the request decides, as a whole:
 * its rule's filters (request and response header modifiers, URL rewrite
 * of the host and of the path, a redirect) and its backendRefs, picked by
 * weight (the golden-ratio sequence of router.h) then round robin among
 * the backend's endpoints (a MeshServiceSubset's with its tags).  A
 * request no rule accepts goes by TrafficRoute, or round robin.
 *
 * RegularExpression matches run the expressions the snapshot compiled
 * (polkinds_regex(): whole-value, POSIX extended, no back-references, so
 * glibc matches them without backtracking).
 *
 * RequestMirror: a copy of the request goes to an endpoint of the filter's
 * backendRef too (hmirror.h), for `percentage` of the requests the rule
 * takes (all when it is not set), picked by the same golden-ratio sequence
 * as the weights, so the share is exact.  One mirror per request: the
 * rule's first RequestMirror filter.
 *
 * URLRewrite's hostToBackendHostname (a MeshGateway's routes only) sets
 * the Host to the picked endpoint's hostname (hroute_backend_hostname()).
 *
 * A backendRef to a MeshMultiZoneService goes to one of the endpoints of
 * the MeshServices it selects, at the port the backendRef names
 * (router_backend()).
 */
#ifndef MF_AGENT_HROUTE_H
#define MF_AGENT_HROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "balance.h"
#include "hhead.h"
#include "meshforge/abi.h"
#include "policy.h"
#include "policy/select.h"

struct hroute_list;

/* The MeshHTTPRoute rules that apply from endpoint @src to service @dst:
 * *out (NULL when none does; free with hroute_list_free()).  Returns 0 or
 * -ENOMEM. */
int hroute_list_build(struct policy *p, const struct mf_endpoint *src,
		      const struct mf_service *dst, struct hroute_list **out);
/* The same of the @m records @c[@order[i]] that a selection found apply
 * (sel_select(): merge order, least precedent first), whatever selected
 * them (a gateway listener: gwroute.h). */
int hroute_list_of(const struct policy *p, const struct sel_cand *c,
		   const size_t *order, size_t m, struct hroute_list **out);
void hroute_list_free(struct hroute_list *l);

/* What a request gets. */
struct hroute_decision {
	const struct mf_endpoint *ep;	/* where it goes; NULL with status */
	int status;			/* a reply of the proxy's own instead:
					 * a redirect (3xx) or 503 */
	const char *why;		/* ... its reason */
	char *location;			/* a redirect's Location.  Owned:
					 * hroute_decision_free() */
	/* The ResponseHeaderModifier of the rule, for the response head
	 * (hroute_response()); NULL: none.  Points into the snapshot. */
	const struct mf_header_mod *rsp_mod;
	const char *route;		/* the policy whose rule decided, NULL:
					 * none did */
	const struct mf_endpoint *mirror;	/* where a copy of the
					 * request goes too, NULL: nowhere */
};

/*
 * Decides where request @req of a connection to @dst goes: the first rule
 * of @l (may be NULL) that accepts it, with its request filters applied to
 * @req; else MeshTCPRoute record @tcp (router_tcp_pick(), -1: none); else
 * TrafficRoute @tr (router_pick(), -1: none).  The endpoint of the
 * destination is @bp's balancer's pick (NULL: round robin).  Returns 0 or
 * -ENOMEM.
 */
int hroute_decide(struct policy *p, const struct balance_pick *bp,
		  const struct hroute_list *l, int tcp, int tr,
		  const struct mf_service *dst, struct hhead *req,
		  struct hroute_decision *d);
void hroute_decision_free(struct hroute_decision *d);

/*
 * A request of a gateway listener (gwroute.h) whose host is @host (@hlen
 * bytes): of the rules of @l whose to[] entry serves that host (its
 * hostnames by hmatch_host(); none: every host) and whose match accepts
 * @req, the first in @l's order decides, as in hroute_decide(); between
 * matches of equal rank, the rule whose hostname names the host best
 * (exact, longer wildcard, none) goes first, as Kuma orders a virtual
 * host's routes by their hostnames.  A rule without backendRefs that does
 * not redirect gets 503 (there is no destination to keep).  Returns 1
 * (the decision in @d), 0 when no rule took the request, or -ENOMEM.
 */
int hroute_decide_host(struct policy *p, const struct balance_pick *bp,
		       const struct hroute_list *l, const char *host,
		       size_t hlen, struct hhead *req,
		       struct hroute_decision *d);

/*
 * hostToBackendHostname (Kuma's auto host rewrite): the hostname of
 * endpoint @ep, which a rewrite puts in the Host header once @ep is
 * picked.  Only an endpoint known by a DNS name has one: a
 * MeshExternalService's whose spec.endpoints address is a host name
 * (that name, without port, as Envoy's strict DNS cluster names its
 * hosts); NULL for an IP address and for any mesh workload (a MeshService,
 * kuma.io/service, MeshMultiZoneService endpoint), whose request keeps its
 * Host.  hroute_backend_host() sets it in @req (0 or -ENOMEM).
 */
/* A string of a record, held in the snapshot's pool (mf_strings) by @id,
 * its length in *@len: "" for none (the snapshot dropped every record
 * that names a string it does not have).  MeshHTTPRoute's and
 * MeshGatewayRoute's paths, header names and values are such ids. */
const char *hroute_str(const struct policy *p, uint32_t id, size_t *len);

const char *hroute_backend_hostname(const struct policy *p,
				    const struct mf_endpoint *ep);
int hroute_backend_host(const struct policy *p, const struct mf_endpoint *ep,
			struct hhead *req);

/* Applies a ResponseHeaderModifier to response head @rsp.  Returns 0 or
 * -ENOMEM. */
int hroute_response(const struct policy *p, const struct mf_header_mod *m,
		    struct hhead *rsp);

#endif /* MF_AGENT_HROUTE_H */
