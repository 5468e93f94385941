// SPDX-License-Identifier: Apache-2.0
/*
 * The ports of the builtin gateways this node runs (see gateway.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway.h"
#include "hmatch.h"
#include "log.h"
#include "reload.h"

/* The file the certificate @i (0 or 1) of listener @c of port @gp comes
 * from, into @buf; false (logged) when it names none the agent can
 * read. */
static bool gateway_cert_path(const struct gateway *g, const struct gw_port *gp,
			      const struct gw_cert *c, size_t i, char *buf,
			      size_t n)
{
	int len;

	if (c->file[i])
		len = snprintf(buf, n, "%s", c->file[i]);
	else if (c->secret[i] && g->secrets_dir[0])
		len = snprintf(buf, n, "%s/%s.pem", g->secrets_dir,
			       c->secret[i]);
	else
		len = -1;
	if (len < 0 || (size_t)len >= n) {
		log_error("event=gateway_port_failed port=%u gateway=%s "
			  "hostname=%s reason=\"no certificate file for the "
			  "listener\"", gp->port, gp->gateway,
			  c->hostname[0] ? c->hostname : "*");
		return false;
	}
	return true;
}

/* What port @gp's TLS is made of, its listeners' hostnames and
 * certificate files, as one string into @buf: a bound port whose string
 * is another is bound again.  False (logged) when a file is unknown or
 * it does not fit. */
static bool gateway_certs_sig(const struct gateway *g,
			      const struct gw_port *gp, char *buf, size_t n)
{
	char path[1024];
	size_t used = 0;
	int len;

	buf[0] = '\0';
	for (size_t i = 0; i < gp->ncerts; i++) {
		const struct gw_cert *c = &gp->certs[i];

		for (size_t k = 0; k < MF_GW_CERTS_MAX; k++) {
			if (k && !c->file[k] && !c->secret[k])
				break;
			if (!gateway_cert_path(g, gp, c, k, path,
					       sizeof(path)))
				return false;
			len = snprintf(buf + used, n - used, "%s=%s\n",
				       c->hostname, path);
			if (len < 0 || (size_t)len >= n - used) {
				log_error("event=gateway_port_failed port=%u "
					  "gateway=%s reason=\"certificate "
					  "paths too long\"", gp->port,
					  gp->gateway);
				return false;
			}
			used += (size_t)len;
		}
	}
	return true;
}

/* Whether port @gp terminates TLS. */
static bool gateway_is_tls(const struct gw_port *gp)
{
	return gp->protocol == MF_GW_HTTPS || gp->protocol == MF_GW_TLS;
}

/* The TLS server context of port @gp into *out (one reference): each of
 * its listeners' certificates, presented to the clients whose SNI picks
 * that listener (hmatch_host(), as requests pick listeners by host, so
 * the certificate a client gets is its listener's), a name no listener
 * takes refused in the handshake; a listener's second certificate to the
 * clients that take only its key type (tls_ctx_sni_add()).  The context
 * sessions start on is one more load of the first listener's file:
 * wolfSSL wants a certificate on it before it reads the ClientHello, and
 * it must not reference itself.  Returns 0 or -errno (logged). */
static int gateway_tls_ctx(const struct gateway *g, const struct gw_port *gp,
			   struct tls_ctx **out)
{
	struct tls_ctx *front = NULL, *one, *two;
	char path[1024];
	int err = -ENOENT;

	*out = NULL;
	/* Listeners that pass TLS through present no certificate. */
	if (gp->ncerts == 0 && gp->protocol == MF_GW_TLS)
		return 0;
	if (gp->ncerts == 0) {
		log_error("event=gateway_port_failed port=%u gateway=%s "
			  "reason=\"no listener of the port has a "
			  "certificate\"", gp->port, gp->gateway);
		return -ENOENT;
	}
	for (size_t i = 0; i < gp->ncerts; i++) {
		const struct gw_cert *c = &gp->certs[i];

		if (!gateway_cert_path(g, gp, c, 0, path, sizeof(path))) {
			err = -ENOENT;
			goto fail;
		}
		if (!front) {
			err = tls_ctx_new_public(&front, path);
			if (err)
				goto fail_file;
		}
		err = tls_ctx_new_public(&one, path);
		if (err)
			goto fail_file;
		two = NULL;
		if (c->file[1] || c->secret[1]) {
			if (!gateway_cert_path(g, gp, c, 1, path,
					       sizeof(path)))
				err = -ENOENT;
			else
				err = tls_ctx_new_public(&two, path);
			if (err) {
				tls_ctx_put(one);
				goto fail_file;
			}
		}
		err = tls_ctx_sni_add(front, hmatch_host, c->hostname, one,
				      two);
		/* @front holds its own references. */
		tls_ctx_put(one);
		if (two)
			tls_ctx_put(two);
		if (err)
			goto fail;
	}
	*out = front;
	return 0;

fail_file:
	log_error("event=gateway_port_failed port=%u gateway=%s cert=%s "
		  "reason=\"%s\"", gp->port, gp->gateway, path,
		  strerror(-err));
fail:
	tls_ctx_put(front);
	return err;
}

static const char *gateway_protocol_str(uint8_t protocol)
{
	switch (protocol) {
	case MF_GW_HTTP:
		return "HTTP";
	case MF_GW_HTTPS:
		return "HTTPS";
	case MF_GW_TCP:
		return "TCP";
	case MF_GW_TLS:
		return "TLS";
	default:
		return "?";
	}
}

static void gateway_close(struct gateway *g, struct gateway_port *bp)
{
	log_info("event=gateway_port_closed port=%u", bp->port);
	conn_unlisten(g->conns, bp->listener);
	tls_ctx_put(bp->tls);
	memset(bp, 0, sizeof(*bp));
}

/* The bound port @port, NULL when it is not bound. */
static struct gateway_port *gateway_bound(struct gateway *g, uint16_t port)
{
	for (unsigned int i = 0; i < GATEWAY_PORTS_MAX; i++)
		if (g->ports[i].used && g->ports[i].port == port)
			return &g->ports[i];
	return NULL;
}

/* Whether bound port @bp serves @gp as it is: same protocol, same
 * hostnames with the same certificate files. */
static bool gateway_same(const struct gateway *g,
			 const struct gateway_port *bp,
			 const struct gw_port *gp)
{
	char certs[sizeof(bp->certs)];

	if (bp->protocol != gp->protocol)
		return false;
	if (!gateway_is_tls(gp))
		return true;
	return gateway_certs_sig(g, gp, certs, sizeof(certs)) &&
	       !strcmp(certs, bp->certs);
}

/* The flow of port @gp's connections. */
static const struct conn_flow_ops *gateway_ops(const struct gateway *g,
					       const struct gw_port *gp)
{
	switch (gp->protocol) {
	case MF_GW_TCP:
		return g->tcp_ops;
	case MF_GW_TLS:
		return g->tls_ops;
	default:
		return g->ops;
	}
}

/* Binds @gp; false (logged) when it cannot be, for now. */
static bool gateway_bind(struct gateway *g, const struct gw_port *gp)
{
	struct gateway_port *bp = NULL;
	int id;

	for (unsigned int i = 0; !bp && i < GATEWAY_PORTS_MAX; i++)
		if (!g->ports[i].used)
			bp = &g->ports[i];
	if (!bp) {
		log_error("event=gateway_port_failed port=%u gateway=%s "
			  "reason=\"more than %d gateway ports\"", gp->port,
			  gp->gateway, GATEWAY_PORTS_MAX);
		return false;
	}
	memset(bp, 0, sizeof(*bp));
	snprintf(bp->name, sizeof(bp->name), "gateway:%u", gp->port);
	bp->port = gp->port;
	bp->protocol = gp->protocol;
	if (gateway_is_tls(gp)) {
		if (!gateway_certs_sig(g, gp, bp->certs, sizeof(bp->certs)) ||
		    gateway_tls_ctx(g, gp, &bp->tls))
			return false;	/* logged */
	}
	id = conn_listen(g->conns, bp->name, g->listen_addr, gp->port,
			 gateway_ops(g, gp), g->arg);
	if (id < 0) {
		tls_ctx_put(bp->tls);
		bp->tls = NULL;
		return false;	/* logged by the loop */
	}
	bp->listener = id;
	bp->used = true;
	log_info("event=gateway_port_bound port=%u protocol=%s gateway=%s "
		 "instance=%s certificates=%zu", gp->port,
		 gateway_protocol_str(gp->protocol), gp->gateway, gp->instance,
		 gateway_is_tls(gp) ? gp->ncerts : 0);
	return true;
}

/* The bound ports follow table @t. */
static void gateway_follow(struct gateway *g, const struct gw_table *t)
{
	bool retry = false;

	for (unsigned int i = 0; i < GATEWAY_PORTS_MAX; i++) {
		struct gateway_port *bp = &g->ports[i];
		const struct gw_port *gp;

		if (!bp->used)
			continue;
		gp = gwroute_port_find(t, bp->port);
		if (!gp || !gateway_same(g, bp, gp))
			gateway_close(g, bp);
	}
	for (size_t i = 0; i < gwroute_nports(t); i++) {
		const struct gw_port *gp = gwroute_port(t, i);

		if (!gateway_bound(g, gp->port) && !gateway_bind(g, gp))
			retry = true;
	}
	g->retry = retry;
}

void gateway_sync(struct gateway *g)
{
	struct policy *p = reload_current(g->ctx->reload);
	struct gw_table *t;
	int err;

	if (!p || !g->ctx->node[0])
		return;
	if (g->table && gwroute_policy(g->table) == p) {
		if (g->retry)
			gateway_follow(g, g->table);
		return;
	}
	err = gwroute_build(p, g->ctx->node, &t);
	if (err) {
		/* The ports stay as they are: the last table serves. */
		log_error("event=gateway_table_failed err=\"%s\"",
			  strerror(-err));
		return;
	}
	gateway_follow(g, t);
	gwroute_put(g->table);
	g->table = t;
}

int gateway_lookup(struct gateway *g, uint16_t port, struct gw_table **t,
		   struct tls_ctx **tls)
{
	struct gateway_port *bp;

	*t = NULL;
	*tls = NULL;
	/* A connection starts under the newest policy, as an outbound one
	 * does, not the one of the last tick: a pooled tunnel set up under
	 * the old one is then not its to reuse. */
	gateway_sync(g);
	bp = gateway_bound(g, port);
	if (!g->table || !bp)
		return -ENOENT;
	*t = gwroute_get(g->table);
	*tls = bp->tls ? tls_ctx_get(bp->tls) : NULL;
	return 0;
}

static void gateway_tick(void *arg)
{
	gateway_sync(arg);
}

/* The gateway submits no ops of its own: nothing to end or wait for. */
static void gateway_abort_all(void *arg)
{
	(void)arg;
}

static bool gateway_busy(void *arg)
{
	(void)arg;
	return false;
}

int gateway_init(struct gateway *g, struct conn_table *t, struct ctx *ctx,
		 uint32_t listen_addr, const char *config_dir,
		 const struct conn_flow_ops *ops,
		 const struct conn_flow_ops *tcp_ops,
		 const struct conn_flow_ops *tls_ops, void *arg)
{
	const struct loop_user u = {
		.arg = g,
		.abort_all = gateway_abort_all,
		.busy = gateway_busy,
		.tick = gateway_tick,
	};
	int len;

	memset(g, 0, sizeof(*g));
	g->conns = t;
	g->ctx = ctx;
	g->listen_addr = listen_addr;
	g->ops = ops;
	g->tcp_ops = tcp_ops;
	g->tls_ops = tls_ops;
	g->arg = arg;
	if (config_dir) {
		len = snprintf(g->secrets_dir, sizeof(g->secrets_dir),
			       "%s/secrets", config_dir);
		if (len < 0 || (size_t)len >= sizeof(g->secrets_dir))
			return -ENAMETOOLONG;
	}
	gateway_sync(g);
	return loop_user_add(t->loop, &u);
}

void gateway_fini(struct gateway *g)
{
	for (unsigned int i = 0; i < GATEWAY_PORTS_MAX; i++)
		tls_ctx_put(g->ports[i].tls);
	memset(g->ports, 0, sizeof(g->ports));
	gwroute_put(g->table);
	g->table = NULL;
}
