/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gwroute: the builtin gateways this node runs, with MeshGateway and
 * MeshGatewayRoute in force.
 *
 * A gateway instance (mf_gw_instances: a Kuma Dataplane with a BUILTIN
 * gateway, labelled with this node) runs the MeshGateway whose selectors
 * best match its tags (Kuma's rule for its legacy kinds, sel_legacy_best()).
 * Each HTTP, HTTPS and TCP listener of that gateway takes its port on the
 * node; its tags are the instance's, then the MeshGateway's spec.tags,
 * then its own (a later value of a tag overrides).  Of the listeners of one port,
 * a request goes to the one whose hostname matches its host best (exact,
 * then the longer wildcard, then any: hmatch_host()).  An HTTPS
 * connection picks it by the SNI the client sent (none: the listener
 * without hostname), and with it the certificate the client gets
 * (gateway.h); its requests go by that listener's routes alone, and one
 * whose Host that listener's hostname does not match gets 421
 * (Misdirected Request, RFC 9110 15.5.20): the client reused a
 * connection made for another name.
 *
 * A listener's routes are the HTTP rules of every MeshGatewayRoute one of
 * whose selectors matches the listener's tags; a route with hostnames
 * serves only requests whose host one of them matches.  Requests try the
 * rules' matches in the Gateway API's order of precedence, as
 * MeshHTTPRoute's (hroute.h): an Exact path before a longer prefix before
 * a shorter one before a regular expression before no path; then a method,
 * more headers, more query parameters; at equal rank the route whose name
 * sorts first, its rules in order.  The first match that accepts the
 * request decides: its rule's filters (request and response headers set,
 * added, removed; a rewrite of the path, whole or its matched prefix; a
 * redirect; a mirror) and its backends by weight (router_point()).  A backend is a
 * tag set naming a service (kuma.io/service, Kuma's generated name
 * included) and maybe a subset: one of those endpoints, round robin.  A
 * host no listener takes, or a request no rule takes, gets 404.
 *
 * A mirror filter sends a copy of `percentage` of the requests its rule
 * takes (picked by the golden-ratio sequence, so the share is exact) to
 * an endpoint of its backend, round robin, as MeshHTTPRoute's
 * RequestMirror does and through the same sender (hmirror.h), with the
 * gateway instance's identity; its answer is dropped and the request
 * itself goes on unchanged.  The rule's first mirror filter wins.
 *
 * The table of a snapshot is built once (gwroute_build(): selection,
 * precedence, regular expressions compiled) and shared, by reference, by
 * the connections that started under that snapshot.
 *
 * A TCP listener takes its port alone (the first listener of the port
 * does); its connections go by the first rule of the first MeshGatewayRoute
 * (by name) with tcp rules whose selectors match it: a backend by weight,
 * then an endpoint of it, as for HTTP; the bytes are relayed as they come
 * (gwroute_tcp_decide()).  On a port of TLS listeners, the SNI of the
 * client's ClientHello picks the listener: one with tls.mode TERMINATE
 * is a TCP listener behind TLS (its certificate presented as on an HTTPS
 * port, the plaintext relayed by its tcp route), one with PASSTHROUGH
 * relays the TLS bytes themselves, unread, by its tcp route.
 *
 * Which routes a listener takes is gw_attach.h's rule, which mfctl
 * effective shows too.  Kuma's newer form: a MeshHTTPRoute or MeshTCPRoute
 * whose spec.targetRef is {kind: MeshGateway, name: <the gateway>} (its
 * tags, when it has some, against the listener's tags; apply refuses a
 * sectionName there) and whose to[] entry is {kind: Mesh} is attached to
 * each listener it selects
 * (sel_select(), merge order).  Kuma's rule between the two forms: once a
 * MeshHTTPRoute is attached to one HTTP or HTTPS listener of an instance,
 * MeshHTTPRoutes alone route all of them, its MeshGatewayRoutes' http
 * rules left out (a listener no MeshHTTPRoute selects answers 404); the
 * same for MeshTCPRoute on TCP and TLS listeners.  A MeshHTTPRoute
 * listener's requests go by hroute_decide_host(): the rules whose to[]
 * entry's hostnames match the Host (none: any), in hroute.h's order (the
 * more specific match first; at equal rank the route whose hostname names
 * the Host best, then the more precedent policy: the name that sorts
 * first); a TCP listener's connections by the
 * most precedent MeshTCPRoute rule with backendRefs, by weight.
 *
 * A rewrite's host_to_backend_hostname (MeshGatewayRoute) or
 * hostToBackendHostname (MeshHTTPRoute) sets the Host to the picked
 * endpoint's hostname, when it has one (hroute_backend_hostname()).
 */
#ifndef MF_AGENT_GWROUTE_H
#define MF_AGENT_GWROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "balance.h"
#include "hhead.h"
#include "meshforge/abi.h"
#include "policy.h"

struct sel_workload;

struct gw_table;

/* The certificate of a listener that terminates TLS: the first of its
 * tls.certificates. */
struct gw_cert {
	const char *hostname;		/* the listener's; "" or "*": any */
	/* Its certificates, the first and a second (Kuma's RSA beside
	 * ECDSA; NULL both: none): each a file's path, or a secret's name
	 * (the other NULL). */
	const char *file[MF_GW_CERTS_MAX];
	const char *secret[MF_GW_CERTS_MAX];
};

/* A port the table listens on. */
struct gw_port {
	uint16_t port;
	uint8_t protocol;		/* MF_GW_HTTP, MF_GW_HTTPS, MF_GW_TCP or
					 * MF_GW_TLS */
	/* HTTPS and TLS: the certificates of the port's listeners, in
	 * their order, which a client's SNI picks among as it picks the
	 * listener. */
	size_t ncerts;
	struct gw_cert certs[MF_GW_LISTENERS_MAX];
	const char *gateway;		/* its MeshGateway's name */
	const char *instance;		/* its gateway instance's name */
};

/*
 * The table of the gateway instances of node @node in snapshot @p, which
 * it references, into *out (one reference, the caller's: gwroute_put()).
 * Listeners whose port another took first (instances by name, listeners
 * in order) are left out and logged.  Returns 0 or -ENOMEM.
 */
int gwroute_build(struct policy *p, const char *node, struct gw_table **out);
struct gw_table *gwroute_get(struct gw_table *t);	/* +1 reference */
void gwroute_put(struct gw_table *t);			/* -1; frees at 0 */

/* The snapshot the table was built from (the table's reference). */
struct policy *gwroute_policy(const struct gw_table *t);

/* The ports of the table, in ascending order. */
size_t gwroute_nports(const struct gw_table *t);
const struct gw_port *gwroute_port(const struct gw_table *t, size_t i);
/* The port @port, NULL when the table has none. */
const struct gw_port *gwroute_port_find(const struct gw_table *t,
					uint16_t port);

/* What a request gets. */
struct gw_decision {
	const struct mf_endpoint *ep;	/* where it goes; NULL with status */
	int status;			/* a reply of the gateway's own: a
					 * redirect, 404, 503 */
	const char *why;		/* ... its reason */
	char *location;			/* a redirect's Location.  Owned:
					 * gwroute_decision_free() */
	/* The response header filter of the rule (gwroute_response());
	 * NULL: none.  Points into the snapshot. */
	const struct mf_gwr_header_filter *rsp_mod;
	/* ... or of the MeshHTTPRoute rule (hroute_response()). */
	const struct mf_header_mod *rsp_http;
	const char *route;		/* the MeshGatewayRoute (or
					 * MeshHTTPRoute, MeshTCPRoute) that
					 * decided, NULL: none did */
	const char *listener;		/* the MeshGateway of the listener,
					 * NULL: no listener took the host */
	/* The listener as selectors see it (its instance, gateway, tags
	 * and port), NULL: none took the host.  Points into the table. */
	const struct sel_workload *self;
	const char *src_id;		/* the instance's SPIFFE ID, which the
					 * request goes out with */
	const struct mf_endpoint *mirror;	/* where a copy of the
					 * request goes too, NULL: nowhere */
};

/*
 * Decides where request @req that arrived on port @port goes (@sni: the
 * server name an HTTPS client asked for, NULL for none: on an HTTPS port
 * the listener without hostname takes it), with the
 * deciding rule's request filters applied to @req; the backend's endpoint
 * is @bp's balancer's pick (NULL: round robin).  Returns 0 (with a
 * decision in @d) or -ENOMEM.
 */
int gwroute_decide(struct gw_table *t, const struct balance_pick *bp,
		   uint16_t port, const char *sni, struct hhead *req,
		   struct gw_decision *d);
void gwroute_decision_free(struct gw_decision *d);

/*
 * Decides where a connection accepted on TCP or TLS port @port goes (@sni:
 * on a TLS port, the server name the client asked for, NULL for none):
 * the endpoint of a backend of its listener's route into d->ep, with the
 * listener, route and identity; else a status (404: no listener or route,
 * 503: no endpoint) and why.  The endpoint is @bp's balancer's pick
 * (NULL: round robin).  d->location is never set.
 */
void gwroute_tcp_decide(struct gw_table *t, const struct balance_pick *bp,
			uint16_t port, const char *sni,
			struct gw_decision *d);

/* The tls.mode (MF_GW_TLS_TERMINATE or MF_GW_TLS_PASSTHROUGH) of the
 * listener of TLS port @port that server name @sni (NULL: none sent)
 * picks, as gwroute_tcp_decide() picks it; 0 when none takes it, or
 * @port is no TLS port. */
int gwroute_tls_mode(struct gw_table *t, uint16_t port, const char *sni);

/* Applies the response header filter of a decision of @t to response head
 * @rsp: a MeshHTTPRoute's @m, else a MeshGatewayRoute's @f (both NULL:
 * none).  Returns 0 or -ENOMEM. */
int gwroute_response(const struct gw_table *t,
		     const struct mf_gwr_header_filter *f,
		     const struct mf_header_mod *m, struct hhead *rsp);

#endif /* MF_AGENT_GWROUTE_H */
