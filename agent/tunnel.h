/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flows that set a connection up before it relays.
 *
 * Outbound (listener 15001, pods steered by mf_pod): the accepted socket's
 * local address is the service VIP:port the pod dialled and its peer is the
 * pod.  Both must be known to the policy; an endpoint is picked round robin
 * and its node's agent dialled on the tunnel port.  TLS client with the
 * pod's workload identity; the server must prove the identity of the node
 * we dialled (spiffe://<td>/ns/meshforge-system/sa/<node>).  Then the PROXY
 * v2 header (pod -> endpoint, orig dst VIP:port, request id) goes first
 * inside TLS, and the connection relays.
 *
 * An endpoint of this node is not reached through a tunnel to ourselves:
 * the source's identity is judged as the inbound side judges a peer's
 * (the same function), and on Allow the agent connects to the pod as the
 * inbound side does, with no TLS; a denial is logged and counted as the
 * inbound side's.
 *
 * Inbound (listener 15008, other agents): TLS server with this node's
 * identity, client certificate required.  The peer's SPIFFE ID must be in
 * the trust domain; the PROXY v2 header (bounded, under the setup deadline)
 * names the destination, which must be a workload of this node on its own
 * port; the peer must be authorized for that workload's service.  Then the
 * agent connects to the pod and relays, header leftovers first.
 *
 * An outbound connection to a service whose protocol is HTTP
 * (MF_SERVICE_F_HTTP) relays through hproxy: the agent speaks HTTP/1.1
 * with the client, and the tunnel carries the requests as hproxy forwards
 * them.
 *
 * Gateway (the ports of the builtin gateways this node runs, gateway.h):
 * HTTP/1.1 from outside the mesh, over TLS on HTTPS ports; each request
 * is routed by the gateway's listeners and routes (gwroute.h) and goes,
 * as an outbound request does, over an mTLS tunnel to the endpoint's
 * node, with the gateway instance's identity, which the destination
 * agent authorizes like any workload's.
 *
 * An outbound connection to a MeshExternalService (egress.h) goes from
 * this agent straight to one of its endpoints, with the TLS it asks for,
 * L4 or (protocol http) through hproxy, once the source is allowed.
 *
 * Forward (tests, benchmarks): connect to a fixed address, relay plaintext,
 * or with forward_http proxy HTTP/1.1 to it through hproxy.
 *
 * Every refusal closes the client connection with RST and logs its reason.
 *
 * Each flow is a struct conn_flow_ops that tunnel_init() registers with the
 * connection table along with its listener; conn.c drives the connections
 * and calls back the flow's steps.
 */
#ifndef MF_TUNNEL_H
#define MF_TUNNEL_H

#include <netinet/in.h>
#include <stdint.h>

#include "conn.h"
#include "ctx.h"
#include "egress.h"
#include "gateway.h"
#include "hmirror.h"
#include "hproxy.h"
#include "ratelimit.h"
#include "balance.h"
#include "breaker.h"
#include "rbudget.h"

#define TUNNEL_SWEEPS	64
/* A TLS client's first byte (its ClientHello's) comes with its first
 * flight, but a busy peer (a burst of handshakes on a loaded node) or a
 * lossy link may take seconds to send it: after a lost SYN or SYN-ACK,
 * TCP resends a lost first segment only 3 s after it sent it (RFC 6298
 * 5.7, Linux's fallback RTO).  4.5 s lets that one through, stays within
 * the setup deadline (5 s), and still frees a squatter's slot early. */
#define TUNNEL_FIRST_BYTE_MS	4500
/* A relayed TCP connection with no byte either way for this long ends,
 * unless a MeshTimeout says otherwise (Envoy's TCP proxy default). */
#define TUNNEL_TCP_IDLE_MS	(3600u * 1000)

struct tunnel_config {
	uint32_t listen_addr;		/* network order; INADDR_ANY normally */
	uint16_t outbound_port;		/* 0: no outbound listener */
	uint16_t tunnel_port;		/* 0: no tunnel listener */
	/* The forward listener is on when forward_to.sin_family is AF_INET;
	 * forward_port 0 then picks an ephemeral port. */
	uint16_t forward_port;
	struct sockaddr_in forward_to;
	bool forward_http;		/* forward through hproxy */
	uint32_t http_header_timeout_ms;	/* 0: the default */
	uint32_t http_idle_timeout_ms;		/* 0: the default */
	bool http_access_log;		/* a JSON line per request */
	/* The retry budget (rbudget.h): retries per 1000 requests, and per
	 * second on top. */
	uint32_t retry_budget_ratio_milli;
	uint32_t retry_budget_min_per_s;
	/* The builtin gateways of this node (gateway.h) listen; secrets
	 * are read under @config_dir (NULL: none). */
	bool gateway;
	const char *config_dir;
	uint32_t first_byte_timeout_ms;	/* TLS listeners; 0: the default */
	uint32_t tcp_idle_timeout_ms;	/* relays without a MeshTimeout; 0:
					 * the default, UINT32_MAX: none */
	bool self_tunnel;		/* tests of the tunnel path: this
					 * node's endpoints too are dialled
					 * through the tunnel (to itself) */
};

/* Whom a probe speaks for.  A workload: @ip (network order) is its pod's
 * address, which the current snapshot names, @id NULL.  A gateway
 * instance, which has no address to be looked up by: @id is its SPIFFE
 * ID, a string of snapshot @p, whose endpoints the probe then goes by;
 * @ip the address of the client whose request it copies (the PROXY
 * header's source). */
struct tunnel_src {
	uint32_t ip;
	struct policy *p;		/* borrowed; the probe takes its own
					 * reference */
	const char *id;
};

struct tunnel {
	struct conn_table *conns;	/* borrowed */
	struct ctx *ctx;		/* node, certificates, policy, counters.
					 * Borrowed */
	struct sockaddr_in forward_to;
	struct hproxy_shared http;	/* the L7 connections' settings */
	bool access_log;		/* a JSON line per request */
	struct gateway gw;		/* its ports, when tunnel_config.gateway */
	struct rl_table *rl;		/* HTTP rate limit buckets.  Owned,
					 * freed by tunnel_fini() */
	struct rbudget *budget;		/* retries' budget.  As @rl */
	struct balancer bal;		/* the endpoint picks (balance.h) */
	struct breaker *breaker;	/* connection limits.  As @rl */
	uint64_t swept[TUNNEL_SWEEPS];	/* outlier detection intervals, by
					 * service */
	uint32_t probe_ms;		/* the timeout of the probe being
					 * made (tunnel_probe()) */
	const struct tunnel_src *probe_src;	/* ... and whom it speaks
					 * for; only within tunnel_probe() */
	uint32_t first_byte_ms;		/* TLS listeners' first byte */
	uint32_t tcp_idle_ms;		/* tunnel_config's */
	bool self_tunnel;		/* tunnel_config's */
	struct hmirror mirror;		/* RequestMirror's copies */
	struct egress egress;		/* MeshExternalServices' TLS */
};

/*
 * Registers the flows @cfg asks for, with their listeners ("outbound",
 * "tunnel", "forward"), on table @t.  The outbound and tunnel flows need
 * ctx->node, ctx->certs and ctx->reload.  @t and @ctx must outlive the
 * table's listeners.  Returns 0 or -errno.
 */
int tunnel_init(struct tunnel *tu, struct conn_table *t, struct ctx *ctx,
		const struct tunnel_config *cfg);

/*
 * A health check's probe: a connection from the checker's socket @fd
 * (which this takes) to the endpoint at @ep_ip:@ep_port (network order,
 * host order) over the tunnel to its node, with the identity of @src,
 * whose agent sends PP2_ACK once the endpoint took the connection, then
 * what it sends.  The checker writes the probe's bytes to its end of @fd
 * and reads the answer; setup and then silence are bounded by
 * @timeout_ms.  Returns 0 or -ENOSPC (@fd closed).
 */
int tunnel_probe(struct tunnel *tu, int fd, const struct tunnel_src *src,
		 uint32_t ep_ip, uint16_t ep_port, uint32_t timeout_ms);

/* After loop_fini(): frees what tunnel_init() made (the gateway's state
 * included). */
void tunnel_fini(struct tunnel *tu);

#endif /* MF_TUNNEL_H */
