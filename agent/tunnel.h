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
 * Inbound (listener 15008, other agents): TLS server with this node's
 * identity, client certificate required.  The peer's SPIFFE ID must be in
 * the trust domain; the PROXY v2 header (bounded, under the setup deadline)
 * names the destination, which must be a workload of this node on its own
 * port; the peer must be authorized for that workload's service.  Then the
 * agent connects to the pod and relays, header leftovers first.
 *
 * Forward (tests, benchmarks): connect to a fixed address, relay plaintext.
 *
 * Every refusal closes the client connection with RST and logs its reason.
 */
#ifndef MF_TUNNEL_H
#define MF_TUNNEL_H

#include "loop.h"

struct conn;

/* Takes socket @fd accepted on listener @which (ownership passes).
 * Returns the connection, for the dispatcher to reap, or NULL. */
struct conn *tunnel_accept(struct loop *l, enum loop_listener which, int fd);

/* The connect of the up end completed with @res. */
void tunnel_on_connect(struct loop *l, struct conn *c, int res);

/* Ciphertext was fed to the tunnel end during HANDSHAKE or PROXY_HDR:
 * continue the handshake or the header. */
void tunnel_setup_step(struct loop *l, struct conn *c);

#endif /* MF_TUNNEL_H */
