/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gateway: the ports of the builtin gateways this node runs (gwroute.h),
 * bound and closed as the policy changes.
 *
 * At start and then about once a second (the loop's tick), when the newest
 * snapshot is not the one the current table was built from, a table is
 * built from it and the bound ports follow it: a port it has that is not
 * bound is bound, a bound port it no longer has (or now with another
 * protocol or certificates) is closed.  Connections already accepted on a
 * closed port go on to their end under the table they started with.  An
 * HTTPS or TLS port gets a public TLS server context (tls_ctx_new_public())
 * with each of its listeners' certificates (a file's path, or a secret's
 * name read from <config dir>/secrets/<name>.pem), of which the client's
 * SNI picks its listener's (tls_ctx_sni_add(): exact hostname, then the
 * longest wildcard, then the listener without hostname); a name no
 * listener of the port takes is refused in the handshake with an
 * unrecognized_name alert.  A TLS port whose listeners all pass TLS
 * through has no context.  A port that cannot be bound (in use) or one of
 * whose certificates cannot be loaded is logged and tried again at the
 * next tick; the other ports serve meanwhile.
 */
#ifndef MF_AGENT_GATEWAY_H
#define MF_AGENT_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "ctx.h"
#include "gwroute.h"
#include "tls.h"

#define GATEWAY_PORTS_MAX	16

/* A bound port.  Slots do not move: the loop keeps a pointer to @name. */
struct gateway_port {
	bool used;
	char name[16];			/* "gateway:<port>": logs, metrics */
	uint16_t port;
	uint8_t protocol;		/* MF_GW_HTTP, MF_GW_HTTPS, MF_GW_TCP or
					 * MF_GW_TLS */
	int listener;			/* conn_listen() id */
	struct tls_ctx *tls;		/* HTTPS, TLS: a reference.  NULL:
					 * HTTP, TCP, TLS passed through */
	char certs[4096];		/* HTTPS, TLS: "<hostname>=<file>\n"
					 * of each listener's certificate */
};

struct gateway {
	struct conn_table *conns;	/* borrowed */
	struct ctx *ctx;		/* borrowed */
	uint32_t listen_addr;		/* network order */
	const struct conn_flow_ops *ops;	/* the flow of its HTTP and
					 * HTTPS connections */
	const struct conn_flow_ops *tcp_ops;	/* ... of its TCP ones */
	const struct conn_flow_ops *tls_ops;	/* ... of its TLS ones */
	void *arg;
	char secrets_dir[1024];		/* "": secrets cannot be read */
	struct gw_table *table;		/* current, a reference; NULL: none */
	bool retry;			/* a port of @table is not bound */
	struct gateway_port ports[GATEWAY_PORTS_MAX];
};

/*
 * Sets the gateway up on table @t with context @ctx (both must outlive
 * it): ports on @listen_addr, their connections following @ops (HTTP and
 * HTTPS ports), @tcp_ops (TCP ports) or @tls_ops (TLS ports) with @arg;
 * secrets under
 * @config_dir/secrets (NULL: none).  Binds what the current snapshot asks
 * for.  Returns 0 or -errno.
 */
int gateway_init(struct gateway *g, struct conn_table *t, struct ctx *ctx,
		 uint32_t listen_addr, const char *config_dir,
		 const struct conn_flow_ops *ops,
		 const struct conn_flow_ops *tcp_ops,
		 const struct conn_flow_ops *tls_ops, void *arg);

/* Follows the newest snapshot (see above); the tick calls it. */
void gateway_sync(struct gateway *g);

/*
 * For a connection accepted on @port, after gateway_sync() (a connection
 * starts under the newest policy): the current table into *t (a new
 * reference) and, for HTTPS and TLS, the port's TLS context into *tls (a
 * new reference; NULL for HTTP and TCP).  -ENOENT when the port is no longer served.
 */
int gateway_lookup(struct gateway *g, uint16_t port, struct gw_table **t,
		   struct tls_ctx **tls);

/* After loop_fini() (the ports went with the loop's listeners): drops the
 * TLS contexts and the table. */
void gateway_fini(struct gateway *g);

#endif /* MF_AGENT_GATEWAY_H */
