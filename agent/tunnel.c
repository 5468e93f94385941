// SPDX-License-Identifier: Apache-2.0
/*
 * Connection setup: the outbound, inbound and forward flows (tunnel.h),
 * each a set of steps conn.c calls.
 *
 * Policy decisions are taken against the snapshot the connection took a
 * reference on at accept, so pointers into it (endpoint, identity) stay
 * valid for the connection's life whatever mfctl applies meanwhile.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "certs.h"
#include "conn.h"
#include "frontdoor.h"
#include "sockfast.h"
#include "meshforge/abi_sock.h"
#include "log.h"
#include "policy.h"
#include "proxyv2.h"
#include "reload.h"
#include "resil.h"
#include "timer.h"
#include "accesslog.h"
#include "gateway.h"
#include "gwroute.h"
#include "hash.h"
#include "hobs.h"
#include "hroute.h"
#include "meshlog.h"
#include "trace.h"
#include "passthru.h"
#include "pt6src.h"
#include "policy/kinds.h"
#include "router.h"
#include "spiffe.h"
#include "tls.h"
#include "tunhdr.h"
#include "tunnel.h"
#include "wmstats.h"

/*
 * The server name the tunnel's ClientHello asks for when it carries a
 * connection to service @svc_id of @p, and the one the destination's agent
 * expects: the service's name (a Service's or MeshService's
 * metadata.name), which MeshTrafficPermission sni matches name.  NULL when
 * the name is not a lower-case DNS name (RFC 1123, what a TLS server name
 * may be): then none is sent, and no rule by SNI matches.
 */
static const char *tunnel_sni_of(const struct policy *p, uint32_t svc_id)
{
	const struct mf_service *svc = policy_service_by_id(p, svc_id);

	return svc && strlen(svc->name) < MF_SNI_MAX &&
	       kind_dns_name_ok(svc->name) ? svc->name : NULL;
}

/* Room for why a certificate was refused (tls_ctx_check_held()). */
#define TUNNEL_WHY_MAX	512

/* Logs a refusal of connection @c and counts it under @why; the caller
 * ends the connection. */
static void tunnel_refuse_note(struct tunnel *tu, const struct conn *c,
			       enum stats_refuse why, const char *reason)
{
	char src[CONN_ADDR_STRLEN], dst[CONN_ADDR_STRLEN];

	tu->ctx->stats.refused_by[why]++;
	log_warn("event=refused conn=%llu kind=%s src=%s dst=%s reason=\"%s\"",
		 (unsigned long long)c->id, conn_flow_name(c),
		 conn_addr_str(&c->down_peer, src),
		 conn_addr_str(&c->down_local, dst), reason);
}

/* Logs a refusal of connection @c, counts it under @why and resets it. */
static void tunnel_refuse(struct tunnel *tu, struct conn *c,
			  enum stats_refuse why, const char *reason)
{
	tunnel_refuse_note(tu, c, why, reason);
	conn_abort(tu->conns, c, NULL);
}

/* Logs and counts an authorization denial of connection @c from identity
 * @spiffe (request @req_id of the source's agent); the caller ends what
 * it must. */
static void tunnel_deny_note(struct tunnel *tu, const struct conn *c,
			     const char *spiffe, uint64_t req_id,
			     const char *service, const struct sockaddr_in *dst,
			     const char *reason)
{
	char d[CONN_ADDR_STRLEN];

	tu->ctx->stats.denied++;
	/* Any peer can be denied at will: the lines come at a bounded
	 * rate, the count is whole. */
	if (log_limit_ok(&tu->conns->refuse_log, LOG_LVL_WARN, "denied"))
		log_warn("event=denied conn=%llu src_spiffe=%s service=%s "
			 "dst=%s req_id=%llu reason=\"%s\"",
			 (unsigned long long)c->id,
			 spiffe[0] ? spiffe : "-", service,
			 dst ? conn_addr_str(dst, d) : "-",
			 (unsigned long long)req_id, reason);
}

/* Logs an authorization denial on the inbound side and resets. */
static void tunnel_deny(struct tunnel *tu, struct conn *c, const char *service,
			const struct sockaddr_in *dst, const char *reason)
{
	tunnel_deny_note(tu, c, c->peer_spiffe, c->peer_req_id, service, dst,
			 reason);
	conn_abort(tu->conns, c, NULL);
}

/*
 * The decision of this node's agent, as the destination's, on a
 * connection from identity @spiffe (request @req_id of the source's
 * agent, from @src) to endpoint @ep at @dst: @ep must be a workload of
 * this node on its own port, and @spiffe authorized for its service
 * (MeshTrafficPermission, shadow denies included).  The inbound tunnel
 * and the same-node path both decide here, so both log and count alike.
 * Returns true when admitted; false when denied (logged and counted; the
 * caller ends the connection).
 */
static bool tunnel_admit(struct tunnel *tu, struct conn *c, const char *spiffe,
			 uint64_t req_id, const struct mf_endpoint *ep,
			 const char *sni, const struct sockaddr_in *dst,
			 const struct sockaddr_in *src)
{
	const struct mf_node *self;
	const struct mf_service *svc;
	const char *why = NULL, *svc_name;
	enum mf_authz_action act;
	char d[CONN_ADDR_STRLEN], s[CONN_ADDR_STRLEN];

	svc = policy_service_by_id(c->policy, ep->service_id);
	svc_name = svc ? svc->name : "-";
	/* Endpoints name their node by address: compare with this node's
	 * own, which the policy gives by name.  A node the policy does not
	 * name has no workloads. */
	self = policy_node(c->policy, tu->ctx->node);
	if (!self || memcmp(self->ip, ep->node_ip, 4) != 0) {
		tunnel_deny_note(tu, c, spiffe, req_id, svc_name, dst,
				 "destination is not on this node");
		return false;
	}
	if (ep->port != ntohs(dst->sin_port)) {
		tunnel_deny_note(tu, c, spiffe, req_id, svc_name, dst,
				 "destination port is not the workload's");
		return false;
	}
	act = policy_authorize_sni(c->policy, ep->service_id,
				   (const uint8_t *)&dst->sin_addr.s_addr,
				   spiffe, sni, &why);
	if (act == MF_AUTHZ_ALLOW_SHADOW_DENY) {
		/* Admitted; the log says it would have been denied, which is
		 * what a shadow deny is for. */
		tu->ctx->stats.shadow_denied++;
		log_info("event=shadow_denied conn=%llu src_spiffe=%s "
			 "service=%s dst=%s rule=\"%s\"",
			 (unsigned long long)c->id, spiffe, svc_name,
			 conn_addr_str(dst, d), why ? why : "-");
	} else if (act != MF_AUTHZ_ALLOW) {
		tunnel_deny_note(tu, c, spiffe, req_id, svc_name, dst,
				 why ? why : "denied");
		return false;
	}
	tu->ctx->stats.authorized++;
	log_info("event=authorized conn=%llu src_spiffe=%s service=%s dst=%s "
		 "src=%s req_id=%llu rule=\"%s\"", (unsigned long long)c->id,
		 spiffe, svc_name, conn_addr_str(dst, d),
		 conn_addr_str(src, s), (unsigned long long)req_id,
		 why ? why : "-");
	return true;
}

/* The server context of this node's identity under snapshot @p, which
 * the inbound half shakes hands with: 0 and *ctx (the caller's
 * reference), or -errno with why in @reason (@n bytes). */
static int tunnel_node_ctx(struct tunnel *tu, const struct policy *p,
			   struct tls_ctx **ctx, char *reason, size_t n)
{
	char id[MF_SPIFFE_MAX];
	int err;

	err = certs_node_spiffe(id, sizeof(id), policy_trust_domain(p),
				 tu->ctx->node);
	if (!err)
		err = certs_server_ctx(tu->ctx->certs, id, p, ctx);
	if (err)
		snprintf(reason, n, "no certificate for node identity: %s",
			 strerror(-err));
	return err;
}

/* The down end of @c speaks TLS as server @ctx (the caller's reference,
 * which this takes): its handshake starts, or the connection is refused. */
static void tunnel_down_tls(struct tunnel *tu, struct conn *c,
			    struct tls_ctx *ctx)
{
	char reason[64];
	int err;

	err = tls_sess_new(&c->end[CONN_DOWN].tls, ctx);
	tls_ctx_put(ctx);	/* the session holds its own reference */
	if (err) {
		snprintf(reason, sizeof(reason), "tls session: %s",
			 strerror(-err));
		tunnel_refuse(tu, c, STATS_REFUSE_TLS_SESSION, reason);
		return;
	}
	conn_handshake_start(tu->conns, c, CONN_DOWN);
}

/* The current snapshot, which @c holds from now on; NULL when there is
 * none (@c is refused). */
static struct policy *tunnel_policy(struct tunnel *tu, struct conn *c)
{
	struct policy *p = reload_current(tu->ctx->reload);

	if (!p) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_POLICY,
			      "no policy loaded");
		return NULL;
	}
	c->policy = policy_get(p);
	return p;
}

/* The service record @c goes to: the one of the VIP:port it dialled, for
 * a MeshMultiZoneService's members differ by port; else (a front door's,
 * a gateway's connection) the record of its service id. */
static const struct mf_service *tunnel_dst_service(const struct conn *c)
{
	const struct mf_service *s;

	s = policy_service_by_vip(c->policy, c->down_local.sin_addr.s_addr,
				  ntohs(c->down_local.sin_port));
	return s && s->id == c->service_id ? s :
	       policy_service_by_id(c->policy, c->service_id);
}

/* How long the TCP relay of @c may go without a byte: its MeshTimeout's
 * idleTimeout, else the agent's; 0: for ever. */
static uint32_t tunnel_idle_ms(const struct tunnel *tu, const struct conn *c)
{
	const struct resil *rs = c->resil;

	if (rs && rs->idle_ms)
		return rs->idle_ms;
	if (tu->tcp_idle_ms == UINT32_MAX)
		return 0;
	return tu->tcp_idle_ms ? tu->tcp_idle_ms : TUNNEL_TCP_IDLE_MS;
}

/* @c's up end will speak as @src_id (its client TLS context): true, or
 * false with @c refused for want of its certificate. */
static bool tunnel_speak_as(struct tunnel *tu, struct conn *c,
			    const char *src_id)
{
	const struct mf_service *svc;
	char reason[128];
	int err;

	/* To a MeshExternalService the identity is only a name: its TLS is
	 * not ours (egress.h). */
	svc = tunnel_dst_service(c);
	if (svc && (svc->flags & MF_SERVICE_F_EXTERNAL)) {
		c->src_spiffe = src_id;
		return true;
	}
	err = certs_client_ctx(tu->ctx->certs, src_id, c->policy, &c->tls_ctx);
	if (err) {
		snprintf(reason, sizeof(reason),
			 "no certificate for source identity: %s",
			 strerror(-err));
		tunnel_refuse(tu, c, STATS_REFUSE_NO_CERTIFICATE, reason);
		return false;
	}
	c->src_spiffe = src_id;
	return true;
}

/* ---- outbound ------------------------------------------------------------ */

static const struct conn_flow_ops tunnel_probe_ops;

/* An L7 connection of flow @flow starts: hproxy (with the timeouts and
 * retries of c->resil), then the relay, with no up end until its first
 * request routes. */
static void tunnel_l7_begin(struct tunnel *tu, struct conn *c,
			    const struct hproxy_flow *flow)
{
	const struct resil *rs = c->resil;
	const struct mf_service *svc;

	if (hproxy_new((struct hproxy **)&c->l7, &tu->http, tu->conns, c, flow,
		       tu)) {
		conn_abort(tu->conns, c, "out of memory");
		return;
	}
	if (rs) {
		svc = tunnel_dst_service(c);
		hproxy_set_resil(c->l7, rs, hash_fnv_str(HASH_FNV_INIT,
						svc ? svc->name : ""));
		c->up_timeout_ms = rs->connect_ms;
	}
	hproxy_start(c->l7);
	conn_start_relay(tu->conns, c);
}

static bool tunnel_breaker_take(struct tunnel *tu, struct conn *c,
				enum breaker_kind kind);
static void tunnel_breaker_put(struct tunnel *tu, struct conn *c,
			       enum breaker_kind kind);
static bool tunnel_pool_open(struct tunnel *tu, struct conn *c,
			     const struct mf_endpoint *ep);
static void tunnel_pool_drop(struct tunnel *tu, struct conn *c);

/* Whether endpoint @ep, of snapshot @p, is a workload of this node, which
 * this agent dials itself rather than through a tunnel to itself. */
static bool tunnel_ep_local(const struct tunnel *tu, const struct policy *p,
			    const struct mf_endpoint *ep)
{
	const struct mf_node *self;

	if (tu->self_tunnel || (ep->flags & MF_ENDPOINT_F_EXTERNAL))
		return false;
	self = policy_node(p, tu->ctx->node);
	return self && !memcmp(self->ip, ep->node_ip, sizeof(self->ip));
}

/* Points the up end of @c at endpoint @ep: its node's agent, or the pod
 * itself when it is of this node. */
static void tunnel_aim(struct tunnel *tu, struct conn *c,
		       const struct mf_endpoint *ep)
{
	c->endpoint = ep;
	memset(&c->up_addr, 0, sizeof(c->up_addr));
	c->up_addr.sin_family = AF_INET;
	memcpy(&c->up_addr.sin_addr.s_addr, ep->node_ip, 4);
	/* An external endpoint is dialled itself (its address is in
	 * node_ip). */
	if (ep->flags & MF_ENDPOINT_F_EXTERNAL) {
		c->up_addr.sin_port = htons(ep->port);
		return;
	}
	/* One of ours is dialled as the inbound half dials it, after
	 * tunnel_local_admit(). */
	if (tunnel_ep_local(tu, c->policy, ep)) {
		c->up_addr.sin_addr.s_addr = policy_endpoint_ip(c->policy, ep);
		c->up_addr.sin_port = htons(ep->port);
		return;
	}
	/* The record carries its node's tunnel port: no lookup by node. */
	c->up_addr.sin_port = htons(ep->tunnel_port ? ep->tunnel_port :
				    MF_PORT_TUNNEL);
}

/*
 * The certificate the up end of @c would present as its source
 * (c->tls_ctx) judged as this node's inbound half judges a client's in
 * the handshake, with the trust of its server context
 * (tls_ctx_check_held()).  A refusal is logged and counted as that
 * handshake's: a denial with the reason, a failed handshake with the
 * X.509-SVID rule or the revocation.  Returns whether it passed.
 */
static bool tunnel_local_cert_ok(struct tunnel *tu, struct conn *c)
{
	struct stats *st = &tu->ctx->stats;
	char why[TUNNEL_WHY_MAX], reason[TUNNEL_WHY_MAX + 32];
	struct tls_ctx *node;
	int rc, rule;

	if (tunnel_node_ctx(tu, c->policy, &node, reason, sizeof(reason))) {
		tunnel_refuse_note(tu, c, STATS_REFUSE_NO_CERTIFICATE, reason);
		return false;
	}
	rc = tls_ctx_check_held(node, c->tls_ctx, why, sizeof(why), &rule);
	tls_ctx_put(node);
	if (!rc)
		return true;
	st->tls_failed++;
	st->svid_refused[rule % SVID_RULE_MAX]++;
	if (rc == -EKEYREVOKED)
		st->tls_revoked++;
	/* No identity was taken from a refused certificate: logged as the
	 * inbound half logs a refused handshake, with no source identity,
	 * the reason's words its own. */
	snprintf(reason, sizeof(reason), "source certificate: %s",
		 rc == -EINVAL ? "no trust to judge it by" : why);
	tunnel_deny_note(tu, c, "", c->id, "-", NULL, reason);
	return false;
}

/*
 * The up end of @c to @ep, a workload of this node (tunnel_ep_local()),
 * aimed at: the source's identity (c->src_spiffe, whose certificate
 * tunnel_speak_as() found) is judged as this node's inbound half would
 * judge it: its certificate as the handshake judges a client's
 * (tunnel_local_cert_ok()), its identity in the trust domain, then
 * tunnel_admit() with the request id the PROXY header would carry.
 * False when denied (logged and counted; the caller ends the connection
 * or the request).
 */
static bool tunnel_local_admit(struct tunnel *tu, struct conn *c,
			       const struct mf_endpoint *ep)
{
	/* None is denied as a peer without one would be. */
	const char *id = c->src_spiffe ? c->src_spiffe : "";

	if (c->tls_ctx && !tunnel_local_cert_ok(tu, c))
		return false;

	if (!policy_mesh_member(c->policy, id)) {
		tunnel_deny_note(tu, c, id, c->id, "-", NULL,
				 "peer outside the trust domain");
		return false;
	}
	/* The name the tunnel's ClientHello would ask for. */
	return tunnel_admit(tu, c, id, c->id, ep,
			    tunnel_sni_of(c->policy, ep->service_id),
			    &c->up_addr, &c->down_peer);
}

/* The up end for the next request of @c: the current one when the request
 * goes where it does and it is still good, else a new one to c->up_addr
 * once tunnel_aim() or the caller set it.  Returns 0 (the current one),
 * 1 (a new one is needed) or 503. */
static int tunnel_l7_up(struct tunnel *tu, struct conn *c, bool same,
			const char **why)
{
	if (same && conn_up_reusable(c)) {
		conn_resume_input(tu->conns, c, CONN_UP);
		return 0;
	}
	if (conn_up_retire(tu->conns, c)) {
		*why = "the previous upstream connection is still closing";
		return 503;
	}
	return 1;
}

/* The pool key of @c's up end to endpoint @ep, at c->up_addr. */
static void tunnel_pool_key(const struct conn *c, const struct mf_endpoint *ep,
			    struct conn_pool_key *k)
{
	memset(k, 0, sizeof(*k));
	k->addr = c->up_addr;
	k->dst_ip = policy_endpoint_ip(c->policy, ep);
	/* Two MeshExternalServices at one address may ask for different
	 * TLS: their connections are kept apart by service. */
	if (ep->flags & MF_ENDPOINT_F_EXTERNAL)
		k->dst_ip = ep->service_id;
	k->dst_port = ep->port;
	k->epoch = policy_epoch(c->policy);
	snprintf(k->src, sizeof(k->src), "%s", c->src_spiffe);
}

/* The current up end of @c, idle, goes to the pool for the next connection
 * with its source identity to its endpoint; false when it is not idle. */
static bool tunnel_l7_park(struct tunnel *tu, struct conn *c)
{
	struct conn_pool_key k;

	if (!c->endpoint || c->end[CONN_UP].fd < 0)
		return false;
	tunnel_pool_key(c, c->endpoint, &k);
	return conn_up_park(tu->conns, c, &k);
}

/* The request of @c goes to endpoint @ep: on the current up end when it
 * goes there and is still good, else on a parked one or a new one (the
 * current one goes to the pool when it can).  Returns 0 (r->status 503
 * when no up end can be had now). */
static int tunnel_l7_to(struct tunnel *tu, struct conn *c,
			const struct mf_endpoint *ep, struct hproxy_route *r)
{
	struct conn_pool_key k;
	int rc;

	if (c->endpoint != ep)
		tunnel_l7_park(tu, c);
	rc = tunnel_l7_up(tu, c, c->endpoint == ep, &r->why);
	if (rc == 503)
		r->status = 503;
	if (rc != 1)
		return 0;
	tunnel_aim(tu, c, ep);
	tunnel_pool_key(c, ep, &k);
	if (conn_up_unpark(tu->conns, c, &k, c->peer_spiffe))
		return 0;
	/* A new one to a pod of this node is admitted first, as a tunnel
	 * to it would be; a denial answers this request, as a refused
	 * tunnel does (no retry: the permission is the service's). */
	if (tunnel_ep_local(tu, c->policy, ep) &&
	    !tunnel_local_admit(tu, c, ep)) {
		r->status = 503;
		r->why = "upstream unavailable: the destination denied the "
			 "connection";
		return 0;
	}
	/* A new up end: in its pool, under maxConnectionPools; waiting for
	 * it, a pending request, under maxPendingRequests. */
	if (!tunnel_pool_open(tu, c, ep)) {
		r->status = 503;
		r->why = "circuit breaker: maxConnectionPools reached";
		return 0;
	}
	if (!tunnel_breaker_take(tu, c, BREAKER_PENDING)) {
		tunnel_pool_drop(tu, c);
		r->status = 503;
		r->why = "circuit breaker: maxPendingRequests reached";
		return 0;
	}
	conn_up_open(tu->conns, c);
	return 0;
}

/* The request of @c is over its rate limit: true, with the answer in @r.
 * Nothing of it has gone upstream. */
static bool tunnel_l7_limited(struct tunnel *tu, struct conn *c,
			      struct hproxy_route *r)
{
	const struct rl_limit *l = c->limit;
	struct timespec ts;
	uint64_t retry_ms;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (ratelimit_take(tu->rl, l, (uint64_t)ts.tv_sec * 1000000000ull +
				      (uint64_t)ts.tv_nsec, &retry_ms))
		return false;
	r->status = (int)l->status;
	r->why = "rate limited";
	r->kind = HPROXY_REPLY_LIMITED;
	r->name = l->policy;
	r->headers = ratelimit_headers(c->policy, l, retry_ms);
	return true;
}

/* A MeshFaultInjection's faults for the request of @c, into @r: each
 * entry's delay, response bandwidth and abort, each by its percentage.
 * True when one aborts it. */
static bool tunnel_l7_faults(struct tunnel *tu, struct conn *c,
			     struct hproxy_route *r)
{
	const struct resil *rs = c->resil;

	for (size_t i = 0; i < rs->nfaults; i++) {
		const struct mf_fault_http *f = &rs->faults[i];

		/* Percentages are thousandths of a percent. */
		if (f->delay.present && f->delay.value &&
		    hproxy_rand(&tu->http) % 100000 < f->delay.percentage)
			r->delay_ms += f->delay.value;
		if (f->response_bandwidth.present &&
		    f->response_bandwidth.limit &&
		    hproxy_rand(&tu->http) % 100000 <
		    f->response_bandwidth.percentage)
			r->bandwidth_bps = f->response_bandwidth.limit;
		if (f->abort.present && f->abort.http_status &&
		    hproxy_rand(&tu->http) % 100000 < f->abort.percentage) {
			r->status = (int)f->abort.http_status;
			r->why = "fault injected";
			r->kind = HPROXY_REPLY_FAULT;
			r->name = rs->fault_policy;
			r->delay_ms = 0;
			return true;
		}
	}
	return false;
}

/* The balancer's inputs for a pick of @c (@req: its request, NULL: the
 * connection itself). */
static void tunnel_pick_of(struct tunnel *tu, struct conn *c,
			   const struct hhead *req, struct balance_pick *bp)
{
	const struct resil *rs = c->resil;

	memset(bp, 0, sizeof(*bp));
	bp->b = &tu->bal;
	bp->p = c->policy;
	bp->conf = rs ? &rs->lb : NULL;
	bp->req = req;
	bp->src_ip = c->down_peer.sin_addr.s_addr;
	bp->src = policy_endpoint_by_ip(c->policy, bp->src_ip);
	bp->outlier = rs && rs->outlier.on;
	bp->health = rs && rs->health_policy;
	if (bp->health) {
		bp->panic_milli = rs->panic_milli;
		bp->fail_on_panic = rs->fail_on_panic;
	}
}

/* The outlier detection of @c's destination, NULL: none. */
static const struct hosts_outlier *tunnel_outlier(const struct conn *c)
{
	const struct resil *rs = c->resil;

	return rs && rs->outlier.on ? &rs->outlier : NULL;
}

/* How many endpoints the service of @c has. */
static uint32_t tunnel_nhosts(const struct conn *c)
{
	uint32_t n = 0;

	while (policy_service_endpoint_at(c->policy, c->service_id, n))
		n++;
	return n;
}

/* When the outlier detection interval of @c's service last ended: a
 * direct-mapped table by service (a collision sweeps a service early,
 * never late). */
static uint64_t *tunnel_sweep_slot(struct tunnel *tu, const struct conn *c)
{
	return &tu->swept[c->service_id % TUNNEL_SWEEPS];
}

static uint64_t tunnel_swept(struct tunnel *tu, const struct conn *c)
{
	return *tunnel_sweep_slot(tu, c);
}

static void tunnel_swept_set(struct tunnel *tu, const struct conn *c,
			     uint64_t now)
{
	*tunnel_sweep_slot(tu, c) = now;
}

/* The service key of @c (breaker.h), found once. */
static uint64_t tunnel_svc_key(struct conn *c)
{
	const struct mf_service *svc;

	if (!c->svc_key) {
		svc = tunnel_dst_service(c);
		c->svc_key = hash_fnv_str(HASH_FNV_INIT, svc ? svc->name : "");
	}
	return c->svc_key;
}

/* One more of @kind towards @c's service under its MeshCircuitBreaker
 * limit: true, held by @c until tunnel_breaker_put(); false (counted as
 * an overflow) past the limit. */
static bool tunnel_breaker_take(struct tunnel *tu, struct conn *c,
				enum breaker_kind kind)
{
	const struct resil *rs = c->resil;
	uint32_t limit;

	if (!rs || !rs->breaker_policy)
		return true;
	limit = kind == BREAKER_CONNS ? rs->limits.max_connections :
		kind == BREAKER_REQUESTS ? rs->limits.max_requests :
		kind == BREAKER_RETRIES ? rs->limits.max_retries :
		rs->limits.max_pending_requests;
	if (!limit)
		return true;
	if (!breaker_take(tu->breaker, tunnel_svc_key(c), kind, limit)) {
		tu->ctx->stats.breaker_overflows[kind]++;
		return false;
	}
	c->breaker_held |= (uint8_t)(1u << kind);
	return true;
}

static void tunnel_breaker_put(struct tunnel *tu, struct conn *c,
			       enum breaker_kind kind)
{
	if (!(c->breaker_held & (1u << kind)))
		return;
	c->breaker_held &= (uint8_t)~(1u << kind);
	breaker_put(tu->breaker, c->svc_key, kind);
}

/* The next up end of @c, to @ep, goes in its pool under
 * maxConnectionPools (c->up_tag says which, for conn.c to say when it
 * closes): false, counted as an overflow, when it would be a pool too
 * many. */
static bool tunnel_pool_open(struct tunnel *tu, struct conn *c,
			     const struct mf_endpoint *ep)
{
	const struct resil *rs = c->resil;
	uint32_t limit = rs && rs->breaker_policy ?
			 rs->limits.max_connection_pools : 0;
	uint64_t svc, tag;

	c->up_tag = 0;
	if (!limit)
		return true;
	svc = tunnel_svc_key(c);
	tag = breaker_pool_tag(svc, balance_key(c->policy, ep), c->src_spiffe);
	if (!breaker_pool_open(tu->breaker, tag, svc, limit)) {
		tu->ctx->stats.breaker_overflows[BREAKER_POOLS]++;
		return false;
	}
	c->up_tag = tag;
	return true;
}

/* The up end tunnel_pool_open() counted will not open after all. */
static void tunnel_pool_drop(struct tunnel *tu, struct conn *c)
{
	if (c->up_tag)
		breaker_pool_close(tu->breaker, c->up_tag);
	c->up_tag = 0;
}

/* conn.c: an up end of a pool closed. */
static void tunnel_up_closed(void *arg, uint64_t tag)
{
	struct tunnel *tu = arg;

	breaker_pool_close(tu->breaker, tag);
}

/* The retry step: a retry of @c's request may go, under maxRetries. */
static bool tunnel_l7_retry_ok(void *arg, struct conn *c)
{
	return tunnel_breaker_take(arg, c, BREAKER_RETRIES);
}

/* A try of @c's request to @ep starts, under maxRequests: the balancer
 * counts it in flight.  False when the limit says no. */
static bool tunnel_try_begin(struct tunnel *tu, struct conn *c,
			     const struct mf_endpoint *ep)
{
	const struct mf_service *svc;

	if (c->try_key)
		hosts_end(tu->bal.hosts, c->try_key, HOSTS_LOCAL, 0,
			  timer_now(), NULL, 0);
	c->try_key = 0;
	tunnel_breaker_put(tu, c, BREAKER_REQUESTS);
	if (!tunnel_breaker_take(tu, c, BREAKER_REQUESTS)) {
		tunnel_breaker_put(tu, c, BREAKER_RETRIES);
		return false;
	}
	svc = tunnel_dst_service(c);
	c->try_key = balance_key(c->policy, ep);
	c->try_ns = timer_now();
	hosts_begin(tu->bal.hosts, c->try_key,
		    hash_fnv_str(HASH_FNV_INIT, svc ? svc->name : ""),
		    c->try_ns);
	return true;
}

/* The try step: the try of @c's request ended with response @status (0:
 * none came): its latency and outcome go to the balancer and outlier
 * detection, which may eject the endpoint; an interval of the service's
 * that is over is judged. */
static void tunnel_l7_try_done(void *arg, struct conn *c, int status)
{
	const struct hosts_outlier *o = tunnel_outlier(c);
	struct tunnel *tu = arg;
	enum hosts_outcome out;
	uint64_t now = timer_now();
	uint32_t nhosts;

	tunnel_breaker_put(tu, c, BREAKER_REQUESTS);
	tunnel_breaker_put(tu, c, BREAKER_RETRIES);
	if (!c->try_key)
		return;
	out = !status ? HOSTS_LOCAL :
	      status >= 502 && status <= 504 ? HOSTS_GATEWAY :
	      status >= 500 ? HOSTS_5XX : HOSTS_OK;
	nhosts = o ? tunnel_nhosts(c) : 0;
	if (hosts_end(tu->bal.hosts, c->try_key, out,
		      status ? now - c->try_ns : 0, now, o, nhosts)) {
		tu->ctx->stats.outlier_ejections++;
		log_info("event=outlier_ejected conn=%llu endpoint=%s "
			 "status=%d", (unsigned long long)c->id,
			 c->endpoint ? c->endpoint->name : "-", status);
	}
	if (o && now >= tunnel_swept(tu, c) + (uint64_t)o->interval_ms *
					      1000000u) {
		const struct host *h = hosts_find(tu->bal.hosts, c->try_key);

		tu->ctx->stats.outlier_ejections +=
			hosts_sweep(tu->bal.hosts, h ? h->service : 0, now, o,
				    nhosts);
		tunnel_swept_set(tu, c, now);
	}
	c->try_key = 0;
}

/* Whether the source of @c, of identity @src_id, may reach endpoint @ep:
 * a MeshExternalService's that a route's backendRef chose is held to
 * that service's access as a connection to its VIP is (egress.h). */
static bool tunnel_egress_ok(const struct conn *c,
			     const struct mf_endpoint *ep, const char *src_id,
			     const char **why)
{
	const struct mf_service *svc;

	if (!(ep->flags & MF_ENDPOINT_F_EXTERNAL) ||
	    ep->service_id == c->service_id)
		return true;	/* not external, or checked on accept */
	svc = policy_service_by_id(c->policy, ep->service_id);
	return svc && egress_allowed(c->policy, svc, src_id, why);
}

/* Whether service @svc of @p has endpoints, but its MeshService's
 * spec.identities leave every one of them out (MF_ENDPOINT_F_UNLISTED):
 * the client must not reach a server that speaks for another identity. */
static bool tunnel_all_unlisted(const struct policy *p, uint32_t svc)
{
	return policy_service_unlisted(p, svc) &&
	       !policy_service_endpoint_at(p, svc, 0);
}

/* The route step of an outbound HTTP connection: the connection's
 * MeshHTTPRoute rules, else its TrafficRoute, decide each request; then an
 * up end to the endpoint's node.  A request's first try is held to its
 * rate limit and given its faults; another try is not, again. */
static int tunnel_l7_route(void *arg, struct conn *c, struct hhead *req,
			   struct hproxy_route *r)
{
	struct tunnel *tu = arg;
	const struct mf_service *svc;
	struct hroute_decision d;
	struct balance_pick bp;
	int err;

	/* Its trace context first: a reply of the proxy's own is a span
	 * too. */
	if (c->trace) {
		err = trace_request(c->trace, req, r->attempt, &tu->http.rng);
		if (err)
			return err;
	}
	svc = tunnel_dst_service(c);
	if (!svc) {
		r->status = 503;
		r->why = "the service is gone";
		return 0;
	}
	if (r->attempt == 0 && c->limit && tunnel_l7_limited(tu, c, r))
		return 0;
	if (r->attempt == 0 && c->resil &&
	    ((const struct resil *)c->resil)->nfaults &&
	    tunnel_l7_faults(tu, c, r))
		return 0;
	tunnel_pick_of(tu, c, req, &bp);
	err = hroute_decide(c->policy, &bp, c->routes, c->tcp_route,
			    c->traffic_route, svc, req, &d);
	if (err)
		return err;
	c->rsp_mod = d.rsp_mod;
	r->name = d.route;
	if (d.status == 503 && !d.ep && tunnel_all_unlisted(c->policy, svc->id)) {
		tu->ctx->stats.refused_by[STATS_REFUSE_IDENTITY_UNLISTED]++;
		d.why = "no endpoint presents an identity of the "
			"MeshService's spec.identities";
	}
	if (d.status) {
		r->status = d.status;
		r->why = d.why;
		r->location = d.location;	/* now hproxy's */
		return 0;
	}
	if (!tunnel_egress_ok(c, d.ep, c->src_spiffe, &r->why)) {
		r->status = 403;
		return 0;
	}
	if (!tunnel_try_begin(tu, c, d.ep)) {
		r->status = 503;
		r->why = "circuit breaker: maxRequests reached";
		return 0;
	}
	if (d.mirror) {
		r->mirror_ip = policy_endpoint_ip(c->policy, d.mirror);
		r->mirror_port = d.mirror->port;
	}
	return tunnel_l7_to(tu, c, d.ep, r);
}

/* The mirror step: a copy of the request, from the client's workload. */
static void tunnel_l7_mirror(void *arg, struct conn *c, uint32_t ip,
			     uint16_t port, const void *p, size_t n)
{
	const struct tunnel_src src = { .ip = c->down_peer.sin_addr.s_addr };
	struct tunnel *tu = arg;

	if (hmirror_send(&tu->mirror, &src, ip, port, p, n))
		tu->ctx->stats.http_mirror_skipped++;
}

/* The client went between requests: its up end may serve another. */
static void tunnel_l7_release_up(void *arg, struct conn *c)
{
	tunnel_l7_park(arg, c);
}

/* The response step: the deciding rule's response header modifiers. */
static int tunnel_l7_response(void *arg, struct conn *c, struct hhead *rsp)
{
	(void)arg;
	return hroute_response(c->policy, c->rsp_mod, rsp);
}

/* The upstream endpoint of @c as "ip:port" into @buf (CONN_ADDR_STRLEN);
 * NULL when it has none. */
static const char *tunnel_endpoint_str(const struct conn *c, char *buf)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	if (!c->endpoint)
		return NULL;
	a.sin_addr.s_addr = policy_endpoint_ip(c->policy, c->endpoint);
	a.sin_port = htons(c->endpoint->port);
	return conn_addr_str(&a, buf);
}

/* The MeshAccessLog lines of request @x of @c (meshlog.h). */
static void tunnel_meshlog_l7(struct tunnel *tu, struct conn *c,
			      const struct hproxy_exchange *x)
{
	char down[CONN_ADDR_STRLEN], up[CONN_ADDR_STRLEN];
	struct alogfmt_vals v = { .http = true };
	uint64_t ms = (uint64_t)(x->seconds * 1000.0);
	struct timespec now;
	int64_t start_ns;

	/* It started x->seconds ago. */
	clock_gettime(CLOCK_REALTIME, &now);
	start_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec -
		   (int64_t)(x->seconds * 1e9);
	v.start.tv_sec = start_ns / 1000000000;
	v.start.tv_nsec = start_ns % 1000000000;
	v.status = x->status;
	v.bytes_received = x->req_bytes;
	v.bytes_sent = x->rsp_bytes;
	v.duration_ms = ms;
	v.req = x->req;
	v.rsp = x->rsp;
	v.protocol = "HTTP/1.1";
	v.upstream_host = x->local ? NULL : tunnel_endpoint_str(c, up);
	v.downstream = conn_addr_str(&c->down_peer, down);
	v.src_address = v.downstream;
	meshlog_write(c->alog, &v, tu->ctx->telw,
		      &tu->ctx->stats.access_log_dropped,
		      &tu->ctx->stats.access_log_env_missing);
}

/* The MeshAccessLog lines of L4 connection @c, which ends. */
static void tunnel_meshlog_l4(struct tunnel *tu, struct conn *c)
{
	const struct meshlog *m = c->alog;
	char down[CONN_ADDR_STRLEN], up[CONN_ADDR_STRLEN];
	struct alogfmt_vals v = { .http = false, .start = m->start };
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	v.duration_ms = ((uint64_t)now.tv_sec * 1000000000u +
			 (uint64_t)now.tv_nsec - m->start_ns) / 1000000u;
	/* dir[CONN_DOWN] carries what the client sent. */
	v.bytes_received = c->dir[CONN_DOWN].bytes;
	v.bytes_sent = c->dir[CONN_UP].bytes;
	v.upstream_host = tunnel_endpoint_str(c, up);
	/* Envoy's flag for a connection no upstream took. */
	v.flags = v.upstream_host ? NULL : "UH";
	v.downstream = conn_addr_str(&c->down_peer, down);
	v.src_address = v.downstream;
	meshlog_write(m, &v, tu->ctx->telw,
		      &tu->ctx->stats.access_log_dropped,
		      &tu->ctx->stats.access_log_env_missing);
}

/* The MeshTrace spans of request @x of @c (trace.h). */
static void tunnel_trace_done(struct tunnel *tu, struct conn *c,
			      const struct hproxy_exchange *x)
{
	struct trace_vals v = {
		.req = x->req,
		.status = x->status,
		.request_id = x->request_id,
		.request_id_len = x->request_id_len,
		.seconds = x->seconds,
	};

	/* A reply of the proxy's own had no upstream (or not this one). */
	if (!x->local && c->endpoint) {
		v.up_ip = policy_endpoint_ip(c->policy, c->endpoint);
		v.up_port = c->endpoint->port;
		v.up_name = c->endpoint->name;
	}
	trace_done(c->trace, &v, tu->ctx->telw,
		   &tu->ctx->stats.trace_spans_dropped);
}

static struct wmstats_series *tunnel_wm_series(struct tunnel *tu,
					       const struct conn *c,
					       const struct mf_endpoint *wl,
					       enum wmstats_dir dir,
					       const char *peer, bool conn,
					       bool tcp);

/* A request answered by a pod of this node: that pod's inbound series
 * counts it too (this agent is its destination's agent), found again
 * only when the request's endpoint is not the last one's.  No connection
 * is counted: the connections to the pod are the L7 engine's. */
static void tunnel_wm_local_in(struct tunnel *tu, struct conn *c,
			       const struct hproxy_exchange *x)
{
	if (x->local || !c->endpoint)
		return;
	if (c->endpoint != c->wm_in_ep) {
		c->wm_in_ep = c->endpoint;
		c->wm_in = tunnel_ep_local(tu, c->policy, c->endpoint) ?
			   tunnel_wm_series(tu, c, c->endpoint,
					    WMSTATS_INBOUND, c->wm->service,
					    false, false) : NULL;
	}
	if (c->wm_in) {
		wmstats_request(c->wm_in, x->status, x->seconds);
		wmstats_bytes(c->wm_in, false, x->rsp_bytes, x->req_bytes);
	}
}

/* The done step: the request counted by source, destination, route and
 * status, its access log line and its spans. */
static void tunnel_l7_done(void *arg, struct conn *c,
			   const struct hproxy_exchange *x)
{
	struct tunnel *tu = arg;
	const struct mf_service *svc;
	struct alog_entry e = { 0 };
	char up[MF_NAME_MAX + CONN_ADDR_STRLEN + 2];
	struct sockaddr_in ep_addr;
	size_t n;

	svc = tunnel_dst_service(c);
	l7stats_count(&tu->ctx->l7stats, c->src_spiffe, svc ? svc->name : NULL,
		      x->route, x->status, x->seconds);
	if (c->wm) {
		/* Outbound: the workload sent the request's body. */
		wmstats_request(c->wm, x->status, x->seconds);
		wmstats_bytes(c->wm, false, x->req_bytes, x->rsp_bytes);
		tunnel_wm_local_in(tu, c, x);
	}
	if (c->alog)
		tunnel_meshlog_l7(tu, c, x);
	if (c->trace)
		tunnel_trace_done(tu, c, x);
	if (!tu->access_log || log_level_max < LOG_LVL_INFO)
		return;
	e.src_identity = alog_cstr(c->src_spiffe);
	e.route = alog_cstr(x->route);
	e.request_id = (struct alog_str){ x->request_id, x->request_id_len };
	if (x->req) {
		e.method = (struct alog_str){ x->req->buf + x->req->method.off,
					      x->req->method.len };
		e.path.p = hhead_target(x->req, &n);
		e.path.n = n;
		if (hhead_get(x->req, "host", &e.authority.p, &n))
			e.authority.n = n;
	}
	/* A reply of the agent's own had no upstream (or not this one). */
	if (!x->local && c->endpoint) {
		memset(&ep_addr, 0, sizeof(ep_addr));
		ep_addr.sin_family = AF_INET;
		ep_addr.sin_addr.s_addr = policy_endpoint_ip(c->policy,
							     c->endpoint);
		ep_addr.sin_port = htons(c->endpoint->port);
		snprintf(up, sizeof(up), "%s ", c->endpoint->name);
		conn_addr_str(&ep_addr, up + strlen(up));
		e.upstream = alog_cstr(up);
		e.dst_identity = alog_cstr(policy_identity(c->policy,
						c->endpoint->identity_id));
	}
	e.status = x->status;
	e.local = x->local;
	e.bytes_in = x->req_bytes;
	e.bytes_out = x->rsp_bytes;
	e.seconds = x->seconds;
	alog_write(&e);
}

static const struct hproxy_flow tunnel_l7_flow = {
	.route = tunnel_l7_route,
	.try_done = tunnel_l7_try_done,
	.retry_ok = tunnel_l7_retry_ok,
	.response = tunnel_l7_response,
	.done = tunnel_l7_done,
	.release_up = tunnel_l7_release_up,
	.mirror = tunnel_l7_mirror,
};

/* What MeshTimeout, MeshRetry, MeshFaultInjection,
 * MeshLoadBalancingStrategy and MeshCircuitBreaker ask of @c, from @src
 * (speaking as @src_id) to @svc, into c->resil when any applies; then its
 * place under maxConnections.  Returns 0, or -errno once @c is ended (out of memory,
 * refused past the limit). */
static int tunnel_resil(struct tunnel *tu, struct conn *c,
			const struct mf_endpoint *src, const char *src_id,
			const struct mf_service *svc)
{
	struct resil rs;

	if (resil_find(c->policy, src, src_id, svc, &rs) || !resil_any(&rs))
		return 0;	/* out of memory: without them, not down */
	c->resil = malloc(sizeof(rs));
	if (!c->resil) {
		conn_abort(tu->conns, c, "out of memory");
		return -ENOMEM;
	}
	memcpy(c->resil, &rs, sizeof(rs));
	if (!tunnel_breaker_take(tu, c, BREAKER_CONNS)) {
		tunnel_refuse(tu, c, STATS_REFUSE_CIRCUIT_BREAKER,
			      "circuit breaker: maxConnections reached");
		return -EBUSY;
	}
	return 0;
}

/* The MeshAccessLog backends of @c, from @src (speaking as @src_id) to
 * @svc, into c->alog when any applies.  Returns 0, or -ENOMEM once @c is
 * ended. */
static int tunnel_meshlog(struct tunnel *tu, struct conn *c,
			  const struct mf_endpoint *src, const char *src_id,
			  const struct mf_service *svc)
{
	struct meshlog *m;

	/* No MeshAccessLog: nothing to allocate per connection. */
	if (!router_count(c->policy, &kind_mesh_access_log))
		return 0;
	m = malloc(sizeof(*m));
	if (!m || meshlog_find(c->policy, src, src_id, svc, m)) {
		free(m);
		conn_abort(tu->conns, c, "out of memory");
		return -ENOMEM;
	}
	if (!m->n) {
		free(m);
		return 0;
	}
	c->alog = m;
	return 0;
}

/* The MeshTraces of L7 connection @c, from @src to @svc, into c->trace
 * when either side has one.  Returns 0, or -ENOMEM once @c is ended. */
static int tunnel_trace(struct tunnel *tu, struct conn *c,
			const struct mf_endpoint *src,
			const struct mf_service *svc)
{
	struct trace_conn *t;

	/* No MeshTrace: nothing to allocate per connection. */
	if (!router_count(c->policy, &kind_mesh_trace))
		return 0;
	t = malloc(sizeof(*t));
	if (!t || trace_find(c->policy, src, c->down_peer.sin_addr.s_addr,
			     svc, t)) {
		free(t);
		conn_abort(tu->conns, c, "out of memory");
		return -ENOMEM;
	}
	if (!trace_any(t)) {
		free(t);
		return 0;
	}
	c->trace = t;
	return 0;
}

/* The per-workload series (wmstats.h) of local workload @wl (of this
 * node) in direction @dir, its peer service @peer (NULL: unknown), for a
 * connection of @c's snapshot, with a connection counted when @conn (an
 * L4 one when @tcp); NULL when the snapshot holds no MeshMetric: the data
 * path then pays nothing for it, no lookup and no counting. */
static struct wmstats_series *tunnel_wm_series(struct tunnel *tu,
					       const struct conn *c,
					       const struct mf_endpoint *wl,
					       enum wmstats_dir dir,
					       const char *peer, bool conn,
					       bool tcp)
{
	const struct mf_service *ws;
	struct wmstats_series *x;

	if (!wl || !router_count(c->policy, &kind_mesh_metric))
		return NULL;
	ws = policy_service_by_id(c->policy, wl->service_id);
	x = wmstats_series(&tu->ctx->wmstats, policy_mesh(c->policy),
			   wl->name, ws ? ws->name : NULL, dir, peer);
	if (x && conn)
		wmstats_conn(x, tcp);
	return x;
}

/* An outbound connection's series: source @src_ep's, to service @svc. */
static void tunnel_wm_open(struct tunnel *tu, struct conn *c,
			   const struct mf_endpoint *src_ep,
			   const struct mf_service *svc)
{
	c->wm = tunnel_wm_series(tu, c, src_ep, WMSTATS_OUTBOUND, svc->name,
				 true, !(svc->flags & MF_SERVICE_F_HTTP));
}

/* The setup deadline of @c (its up end's connect and handshake) @ms from
 * now. */
static void tunnel_deadline(struct conn *c, uint32_t ms)
{
	struct timespec now;
	uint64_t ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (uint64_t)now.tv_nsec + (uint64_t)ms * 1000000u;
	c->end[CONN_UP].deadline.tv_sec = now.tv_sec +
					  (int64_t)(ns / 1000000000u);
	c->end[CONN_UP].deadline.tv_nsec = (long long)(ns % 1000000000u);
}

/* An outbound connection to an HTTP service: it relays at once, through
 * hproxy, and each request opens (or reuses) its own up end. */
static void tunnel_outbound_l7(struct tunnel *tu, struct conn *c,
			       const struct mf_endpoint *src_ep,
			       const struct mf_service *svc,
			       const char *src_id)
{
	struct rl_limit lim;

	/* The MeshHTTPRoute rules of the connection, once: its source and
	 * destination are fixed. */
	if (hroute_list_build(c->policy, src_ep, svc,
			      (struct hroute_list **)&c->routes)) {
		conn_abort(tu->conns, c, "out of memory");
		return;
	}
	if (!tunnel_speak_as(tu, c, src_id))
		return;
	/* Its timeouts, retries, faults and balancing, once. */
	if (tunnel_resil(tu, c, src_ep, src_id, svc))
		return;
	/* Its access log backends, once. */
	if (tunnel_meshlog(tu, c, src_ep, src_id, svc))
		return;
	/* Its MeshTraces, once. */
	if (tunnel_trace(tu, c, src_ep, svc))
		return;
	/* The connection's HTTP rate limit, once. */
	if (ratelimit_find(c->policy, src_ep, src_id, svc, &lim)) {
		c->limit = malloc(sizeof(lim));
		if (!c->limit) {
			conn_abort(tu->conns, c, "out of memory");
			return;
		}
		memcpy(c->limit, &lim, sizeof(lim));
	}
	tunnel_wm_open(tu, c, src_ep, svc);
	tunnel_l7_begin(tu, c, &tunnel_l7_flow);
}

/* The Workload of this node (@self) that speaks as @id, for the
 * policies that select their source by workload; NULL: none, and only
 * the policies that select every source apply. */
static const struct mf_endpoint *tunnel_endpoint_of_identity(
	const struct policy *p, const struct mf_node *self, const char *id)
{
	const struct mf_endpoint *ep;
	const char *s;

	for (size_t i = 0; (ep = policy_endpoint_at(p, i)); i++) {
		if (memcmp(self->ip, ep->node_ip, sizeof(self->ip)))
			continue;
		s = policy_identity(p, ep->identity_id);
		if (s && !strcmp(s, id))
			return ep;
	}
	return NULL;
}

/* Whether outbound connection @c came through the front door
 * (frontdoor.h): a process of a workload cgroup whose connect() was
 * rewritten to our loopback listener.  c->down_local then becomes the
 * VIP:port it asked for, *@src_id the cgroup's identity, *@workload its
 * number. */
static bool tunnel_front_door(struct tunnel *tu, struct conn *c,
			      const char **src_id, uint32_t *workload)
{
	struct sockaddr_in orig;

	if ((ntohl(c->down_peer.sin_addr.s_addr) >> 24) != 127 ||
	    frontdoor_take(tu->ctx->frontdoor, &c->down_peer, &c->down_local,
			   &orig, src_id, workload))
		return false;
	c->down_local = orig;
	return true;
}

/*
 * The source of outbound connection @c, into *@src_ep and *@src_id: for
 * one through the front door (@front, *@src_id set), the Workload of
 * this node with its identity when there is one (NULL: none); else the
 * pod of this node with the connection's source address (the TC program
 * steered it here).  Returns false once @c is refused.
 */
static bool tunnel_outbound_source(struct tunnel *tu, struct conn *c,
				   const struct policy *p, bool front,
				   const struct mf_endpoint **src_ep,
				   const char **src_id)
{
	const struct mf_node *self = policy_node(p, tu->ctx->node);

	if (front) {
		*src_ep = self ? tunnel_endpoint_of_identity(p, self, *src_id) :
				 NULL;
		return true;
	}
	*src_ep = policy_endpoint_by_ip(p, c->down_peer.sin_addr.s_addr);
	if (!*src_ep) {
		tunnel_refuse(tu, c, STATS_REFUSE_UNKNOWN_SOURCE,
			      "unknown source workload");
		return false;
	}
	/* Only a pod of this node can be behind a connection the TC program
	 * steered here; another node's workload's address is a spoof (or a
	 * pod the policy places elsewhere), and it would speak with that
	 * workload's identity. */
	if (!self || memcmp(self->ip, (*src_ep)->node_ip, sizeof(self->ip))) {
		tunnel_refuse(tu, c, STATS_REFUSE_FOREIGN_SOURCE,
			      "source workload is not on this node");
		return false;
	}
	*src_id = policy_identity(p, (*src_ep)->identity_id);
	if (!*src_id || !(*src_id)[0]) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_IDENTITY,
			      "source workload has no identity");
		return false;
	}
	return true;
}

/*
 * The workload a passthrough connection @c comes from, by its client's
 * IPv4 address, or over IPv6 by the one of the pod the kernel noted
 * (c->pt_src4, tunnel_pt6_source()); NULL: none, only the
 * MeshPassthroughs that target the whole Mesh select it.
 */
static const struct mf_endpoint *tunnel_pt_source(const struct policy *p,
						  const struct conn *c)
{
	if (c->down_peer.sin_family == AF_INET6)
		return c->pt_src4 ? policy_endpoint_by_ip(p, c->pt_src4) :
				    NULL;
	return policy_endpoint_by_ip(p, c->down_peer.sin_addr.s_addr);
}

/*
 * An IPv6 connection the pods' TC program steered here: the pod it comes
 * from, as the program noted it on its SYN (pt6src.h), into c->pt_src4.
 * The mesh knows its workloads by their IPv4 addresses only.  Without a
 * note (the map not pinned: an agent without pods' programs; a veth that
 * showed no IPv4 address; an evicted note) 0, and the Mesh-wide
 * MeshPassthroughs judge it.
 */
static void tunnel_pt6_source(struct tunnel *tu, struct conn *c)
{
	int err;

	c->pt_src4 = 0;
	if (!tu->ctx->pmap)
		return;
	err = pt6src_take(tu->ctx->pmap->root, &c->down_peer6,
			  &c->down_local6, &c->pt_src4);
	if (err && log_level_max >= LOG_LVL_DEBUG) {
		char src[CONN_ADDR_STRLEN], dst[CONN_ADDR_STRLEN];

		log_debug("event=passthrough_no_pod conn=%llu src=%s dst=%s "
			  "err=\"%s\" effect=\"the Mesh-wide MeshPassthroughs "
			  "judge it\"", (unsigned long long)c->id,
			  conn_addr_str(&c->down_peer, src),
			  conn_addr_str(&c->down_local, dst), strerror(-err));
	}
}

/* Accepted: decide where it goes. */
static void tunnel_outbound_accepted(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;
	const struct mf_endpoint *src_ep, *ep;
	struct balance_pick bp;
	const struct mf_service *svc;
	struct policy *p;
	const char *src_id = NULL, *why;
	char reason[256];
	uint32_t workload = 0;
	bool front;

	p = tunnel_policy(tu, c);
	if (!p)
		return;
	/* Over IPv6 (the IPv6 outbound listener), no service is there:
	 * only a MeshPassthrough Domain match brings one. */
	if (c->down_local.sin_family == AF_INET6) {
		front = false;
		svc = NULL;
		tunnel_pt6_source(tu, c);
	} else {
		/* First: a front door connection's destination is known
		 * only once its record is taken. */
		front = tunnel_front_door(tu, c, &src_id, &workload);
		svc = policy_service_by_vip(p, c->down_local.sin_addr.s_addr,
					    ntohs(c->down_local.sin_port));
	}
	if (!svc && !front &&
	    passthru_mode(p, tunnel_pt_source(p, c)) ==
	    MF_PASSTHROUGH_MATCHED) {
		/* No service: the TC program steered it for a
		 * MeshPassthrough Domain match (the Mesh's or the source
		 * workload's own).  Its name comes with its first bytes. */
		c->passthrough = true;
		conn_await_first_byte(tu->conns, c, tu->first_byte_ms);
		return;
	}
	if (!svc) {
		tunnel_refuse(tu, c, STATS_REFUSE_UNKNOWN_SERVICE,
			      "unknown service");
		return;
	}
	c->service_id = svc->id;
	if (!tunnel_outbound_source(tu, c, p, front, &src_ep, &src_id))
		return;
	/* The fast path's verdict for this pod (or front door workload)
	 * and service, as the destination's agent decides it; the pair's
	 * next connections are judged by it in the kernel (sockfast.h).  A
	 * MeshMultiZoneService has none: the verdict is its member's,
	 * which varies by connection. */
	if (tu->ctx->sockfast && !(svc->flags & MF_SERVICE_F_MULTI_ZONE))
		sockfast_verdict(tu->ctx->sockfast, svc->id,
				 front ? MF_FAST_SRC_FRONT(workload) :
					 (uint32_t)src_ep->identity_id,
				 (uint8_t)policy_authorize_sni(
					 p, svc->id, NULL, src_id,
					 tunnel_sni_of(p, svc->id), NULL),
				 policy_epoch(p));
	if (!policy_trust_domain(p)[0]) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_TRUST_DOMAIN,
			      "no mesh trust domain applied");
		return;
	}
	if ((svc->flags & MF_SERVICE_F_EXTERNAL) &&
	    !egress_allowed(p, svc, src_id, &why)) {
		snprintf(reason, sizeof(reason), "MeshExternalService %s: %s",
			 svc->name, why);
		tunnel_refuse(tu, c, STATS_REFUSE_EGRESS_DENIED, reason);
		return;
	}
	/* The TrafficRoute of the connection, once: its source and
	 * destination are fixed. */
	c->traffic_route = router_traffic_route(p, src_ep, svc);
	c->tcp_route = router_tcp_route(p, src_ep, svc);
	if (svc->flags & MF_SERVICE_F_HTTP) {
		tunnel_outbound_l7(tu, c, src_ep, svc, src_id);
		return;
	}
	/* Its timeouts and balancing, once. */
	if (tunnel_resil(tu, c, src_ep, src_id, svc))
		return;
	/* Its access log backends, once: a line when it ends. */
	if (tunnel_meshlog(tu, c, src_ep, src_id, svc))
		return;
	tunnel_pick_of(tu, c, NULL, &bp);
	if (c->tcp_route >= 0) {
		ep = router_tcp_pick(p, &bp, c->tcp_route, &why);
		if (!ep) {
			snprintf(reason, sizeof(reason),
				 "service %s by MeshTCPRoute: %s", svc->name,
				 why);
			tunnel_refuse(tu, c, STATS_REFUSE_NO_ENDPOINTS, reason);
			return;
		}
	} else {
		ep = router_pick(p, &bp, c->traffic_route, svc, NULL);
	}
	if (!ep && tunnel_all_unlisted(p, svc->id)) {
		snprintf(reason, sizeof(reason), "service %s: none of its %zu "
			 "endpoints presents an identity of its MeshService's "
			 "spec.identities", svc->name,
			 policy_service_unlisted(p, svc->id));
		tunnel_refuse(tu, c, STATS_REFUSE_IDENTITY_UNLISTED, reason);
		return;
	}
	if (!ep) {
		snprintf(reason, sizeof(reason), "service %s has no endpoints%s%s",
			 svc->name, c->traffic_route >= 0 ?
			 " for TrafficRoute " : "",
			 c->traffic_route >= 0 ?
			 router_traffic_route_name(p, c->traffic_route) : "");
		tunnel_refuse(tu, c, STATS_REFUSE_NO_ENDPOINTS, reason);
		return;
	}
	if (!tunnel_egress_ok(c, ep, src_id, &why)) {
		snprintf(reason, sizeof(reason), "MeshExternalService %s by "
			 "backendRef: %s", ep->name, why);
		tunnel_refuse(tu, c, STATS_REFUSE_EGRESS_DENIED, reason);
		return;
	}
	if (!tunnel_speak_as(tu, c, src_id))
		return;
	tunnel_aim(tu, c, ep);
	if (tunnel_ep_local(tu, p, ep) && !tunnel_local_admit(tu, c, ep)) {
		conn_abort(tu->conns, c, NULL);
		return;
	}
	tunnel_wm_open(tu, c, src_ep, svc);
	/* MeshTimeout: the connect (and handshake) to the node's agent,
	 * then the relay's idle timeout once it runs. */
	if (c->resil && ((const struct resil *)c->resil)->connect_ms)
		tunnel_deadline(c, ((const struct resil *)c->resil)->connect_ms);
	if (log_level_max >= LOG_LVL_DEBUG) {
		char src[CONN_ADDR_STRLEN], dst[CONN_ADDR_STRLEN],
		     up[CONN_ADDR_STRLEN];
		const char *node = policy_node_name_by_ip(p, ep->node_ip);

		log_debug("event=outbound conn=%llu src=%s dst=%s service=%s "
			  "src_spiffe=%s endpoint=%s node=%s %s=%s",
			  (unsigned long long)c->id,
			  conn_addr_str(&c->down_peer, src),
			  conn_addr_str(&c->down_local, dst), svc->name,
			  src_id, ep->name, node ? node : "-",
			  tunnel_ep_local(tu, p, ep) ? "local" : "tunnel",
			  conn_addr_str(&c->up_addr, up));
	}
	conn_connect(tu->conns, c);
}

_Static_assert(CONN_PBUF_SIZE >= PASSTHRU_ROOM,
	       "a passthrough's first bytes are read into a pooled buffer");

/*
 * A passthrough connection's bytes are there (conn_await_first_byte()):
 * read what came into the down end's own buffer, and once the name it
 * carries is whole (passthru.h), connect to the original destination if
 * the policy admits it, or reset.  The bytes read are relayed first.
 * More bytes to come: wait for them, under the first-byte deadline again
 * (within the setup deadline); an HTTP/2 request that outgrows the pooled
 * buffer moves into a larger one of the connection's own (c->pt_buf).
 */
static void tunnel_passthrough_read(struct tunnel *tu, struct conn *c)
{
	struct conn_end *e = &c->end[CONN_DOWN];
	struct conn_dir *d = &c->dir[CONN_DOWN];
	char name[PASSTHRU_NAME_MAX], reason[PASSTHRU_NAME_MAX + 128];
	/* sin6_port is where sin_port is: either family. */
	uint16_t port = ntohs(c->down_local.sin_port);
	uint16_t host_port = 0;
	const char *why = "";
	uint8_t proto = 0, *buf;
	size_t cap, grow;
	ssize_t r;
	int rc;

	/* The pooled buffer first; an HTTP/2 client whose request does not
	 * fit it gets one of its own (passthru_first()). */
	if (!c->pt_buf && !e->rbuf)
		e->rbuf = loop_pbuf_get(tu->conns->loop);
	buf = c->pt_buf ? c->pt_buf : e->rbuf;
	cap = c->pt_buf ? PASSTHRU_H2_ROOM : PASSTHRU_ROOM;
	if (!buf) {
		conn_abort(tu->conns, c, "out of memory");
		return;
	}
	/* The poll said there are bytes (or an end): a nonblocking read
	 * does not wait. */
	r = recv(e->fd, buf + c->pt_fill, cap - c->pt_fill, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		conn_await_first_byte(tu->conns, c, tu->first_byte_ms);
		return;
	}
	if (r <= 0) {
		snprintf(reason, sizeof(reason), "passthrough: %s before a name",
			 r == 0 ? "closed" : strerror(errno));
		conn_abort(tu->conns, c, reason);
		return;
	}
	c->pt_fill += (uint32_t)r;
	rc = passthru_first(buf, c->pt_fill, cap, &proto, name, &host_port,
			    &grow, &why);
	if (rc == 0 && grow) {
		c->pt_buf = malloc(grow);
		if (!c->pt_buf) {
			conn_abort(tu->conns, c, "out of memory");
			return;
		}
		memcpy(c->pt_buf, e->rbuf, c->pt_fill);
		loop_pbuf_put(tu->conns->loop, e->rbuf, c->pt_fill);
		e->rbuf = NULL;
	}
	if (rc == 0) {
		conn_await_first_byte(tu->conns, c, tu->first_byte_ms);
		return;
	}
	if (rc < 0) {
		snprintf(reason, sizeof(reason), "MeshPassthrough: %s", why);
		tunnel_refuse(tu, c, STATS_REFUSE_PASSTHROUGH_DENIED, reason);
		return;
	}
	if (!passthru_admit(c->policy, tunnel_pt_source(c->policy, c), port,
			    proto, name, host_port, &why)) {
		snprintf(reason, sizeof(reason), "MeshPassthrough: %s %s: %s",
			 proto == MF_PASSTHROUGH_TLS ? "SNI" :
			 proto == MF_PASSTHROUGH_HTTP2 ? ":authority" : "Host",
			 name, why);
		tunnel_refuse(tu, c, STATS_REFUSE_PASSTHROUGH_DENIED, reason);
		return;
	}
	conn_no_handshake(tu->conns, c);
	if (log_level_max >= LOG_LVL_DEBUG) {
		char src[CONN_ADDR_STRLEN], dst[CONN_ADDR_STRLEN];

		log_debug("event=passthrough conn=%llu src=%s dst=%s %s=%s",
			  (unsigned long long)c->id,
			  conn_addr_str(&c->down_peer, src),
			  conn_addr_str(&c->down_local, dst),
			  proto == MF_PASSTHROUGH_TLS ? "sni" :
			  proto == MF_PASSTHROUGH_HTTP2 ? "authority" : "host",
			  name);
	}
	/* What was read goes out first (conn_start_relay()); the buffer
	 * goes back (or, c->pt_buf, is freed) once it has. */
	d->bid = -1;
	d->data = buf;
	d->off = 0;
	d->len = c->pt_fill;
	/* The original destination, IPv4 or IPv6: the whole address. */
	c->up_addr6 = c->down_local6;
	conn_connect(tu->conns, c);
}

/* The outbound flow's "first_byte" step: only passthrough connections
 * wait for one. */
static void tunnel_outbound_first_byte(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;

	if (c->passthrough)
		tunnel_passthrough_read(tu, c);
	else
		conn_abort(tu->conns, c, "first byte awaited for no reason");
}

static void tunnel_up_go(struct tunnel *tu, struct conn *c);
static void tunnel_connected_relay(void *arg, struct conn *c);

/* Outbound handshake done: check the server is the node we dialled, send
 * the PROXY v2 header and relay. */
static void tunnel_outbound_handshake_done(void *arg, struct conn *c,
					   const char *failed)
{
	struct conn_end *e = &c->end[CONN_UP];
	char want[MF_SPIFFE_MAX], reason[MF_SPIFFE_MAX * 2 + 64];
	struct tunnel *tu = arg;
	const char *node;
	uint8_t hdr[PP2_MAX_HEADER];
	struct pp2_info info;
	ssize_t n, w;
	int err;

	if (failed && c->endpoint &&
	    (c->endpoint->flags & MF_ENDPOINT_F_EXTERNAL))
		log_warn("event=egress_failed conn=%llu service=%s "
			 "reason=\"%s\"", (unsigned long long)c->id,
			 c->endpoint->name, failed);
	if (failed) {
		conn_up_failed(tu->conns, c, failed);
		return;
	}
	/* An external server was checked by its TLS (egress.h); no header
	 * goes to it. */
	if (c->endpoint->flags & MF_ENDPOINT_F_EXTERNAL) {
		tunnel_up_go(tu, c);
		return;
	}
	err = tls_peer_spiffe(e->tls, c->peer_spiffe, sizeof(c->peer_spiffe));
	if (err) {
		snprintf(reason, sizeof(reason),
			 "tunnel server has no usable SPIFFE ID: %s",
			 strerror(-err));
		conn_up_failed(tu->conns, c, reason);
		return;
	}
	/* The endpoint names its node by address; the node's name is what
	 * its identity carries.  No node at that address: no identity to
	 * expect, so nothing the server presents can be accepted. */
	node = policy_node_name_by_ip(c->policy, c->endpoint->node_ip);
	if (!node) {
		snprintf(reason, sizeof(reason),
			 "tunnel server identity mismatch: got %s want the "
			 "node at %u.%u.%u.%u, which the policy does not name",
			 c->peer_spiffe, c->endpoint->node_ip[0],
			 c->endpoint->node_ip[1], c->endpoint->node_ip[2],
			 c->endpoint->node_ip[3]);
		conn_up_failed(tu->conns, c, reason);
		return;
	}
	err = certs_node_spiffe(want, sizeof(want),
				 policy_trust_domain(c->policy), node);
	if (err || strcmp(want, c->peer_spiffe) != 0) {
		snprintf(reason, sizeof(reason),
			 "tunnel server identity mismatch: got %s want %s",
			 c->peer_spiffe, want);
		conn_up_failed(tu->conns, c, reason);
		return;
	}

	memset(&info, 0, sizeof(info));
	info.src = c->down_peer;
	info.dst.sin_family = AF_INET;
	info.dst.sin_addr.s_addr = policy_endpoint_ip(c->policy, c->endpoint);
	info.dst.sin_port = htons(c->endpoint->port);
	info.orig_dst = c->down_local;
	info.has_orig_dst = true;
	info.req_id = c->id;
	info.has_req_id = true;
	/* A health check needs to know the endpoint took the connection. */
	info.ack = c->flow->ops == &tunnel_probe_ops;
	n = pp2_encode(&info, hdr, sizeof(hdr));
	if (n < 0) {
		conn_up_failed(tu->conns, c, "proxy header does not fit");
		return;
	}
	/* A fresh session's queue takes a few hundred bytes whole. */
	w = tls_write(e->tls, hdr, (size_t)n);
	if (w != n) {
		snprintf(reason, sizeof(reason), "tls write of proxy header: %s",
			 w < 0 ? tls_last_error(e->tls) : "short write");
		conn_up_failed(tu->conns, c, reason);
		return;
	}
	conn_tls_flush(tu->conns, c, CONN_UP);
	if (c->l7) {
		tunnel_breaker_put(tu, c, BREAKER_PENDING);
		conn_up_ready(tu->conns, c);
		return;
	}
	conn_start_relay(tu->conns, c);
	conn_idle_timeout(tu->conns, c, info.ack ? c->up_timeout_ms :
					tunnel_idle_ms(tu, c));
}

/* ---- inbound ------------------------------------------------------------- */

/* Accepted: decide where it goes. */
static void tunnel_inbound_accepted(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;

	/* Nothing is made for a peer until it speaks: a bare connect holds a
	 * slot, no session, and not for long. */
	conn_await_first_byte(tu->conns, c, tu->first_byte_ms);
}

/* The peer's first byte (its ClientHello's): the TLS server now. */
static void tunnel_inbound_first_byte(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;
	struct tls_ctx *ctx;
	struct policy *p;
	char reason[128];

	p = tunnel_policy(tu, c);
	if (!p)
		return;
	if (!policy_trust_domain(p)[0]) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_TRUST_DOMAIN,
			      "no mesh trust domain applied");
		return;
	}
	if (tunnel_node_ctx(tu, p, &ctx, reason, sizeof(reason))) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_CERTIFICATE, reason);
		return;
	}
	tunnel_down_tls(tu, c, ctx);
}

/*
 * The PROXY v2 header is complete (@hdr_len bytes of dir pbuf): check the
 * destination is a workload of this node on its own port, authorize the
 * peer for its service, and connect to it.
 */
static void tunnel_inbound_header(struct tunnel *tu, struct conn *c,
				  const struct pp2_info *info, size_t hdr_len)
{
	const struct mf_endpoint *ep;
	struct conn_dir *d = &c->dir[CONN_DOWN];
	const struct mf_service *svc;
	const char *sni, *want_sni;
	char reason[128];

	if (info->has_req_id)
		c->peer_req_id = info->req_id;
	ep = policy_endpoint_by_ip(c->policy, info->dst.sin_addr.s_addr);
	if (!ep) {
		tunnel_deny(tu, c, "-", &info->dst, "unknown destination");
		return;
	}
	/* The name the client asked for must be the one its agent gives
	 * the destination's service: a rule by SNI cannot be met, or a deny
	 * by SNI dodged, with another. */
	sni = tls_sni(c->end[CONN_DOWN].tls);
	want_sni = tunnel_sni_of(c->policy, ep->service_id);
	if (sni && (!want_sni || strcmp(sni, want_sni))) {
		svc = policy_service_by_id(c->policy, ep->service_id);
		snprintf(reason, sizeof(reason), "SNI %.64s does not name the "
			 "destination's service", sni);
		tunnel_deny(tu, c, svc ? svc->name : "-", &info->dst, reason);
		return;
	}
	if (!tunnel_admit(tu, c, c->peer_spiffe, c->peer_req_id, ep, sni,
			  &info->dst, &info->src)) {
		conn_abort(tu->conns, c, NULL);
		return;
	}
	c->service_id = ep->service_id;
	svc = policy_service_by_id(c->policy, ep->service_id);
	if (svc) {
		const struct mf_endpoint *src =
			policy_endpoint_by_ip(c->policy,
					      info->src.sin_addr.s_addr);
		const struct mf_service *ss =
			src ? policy_service_by_id(c->policy,
						   src->service_id) : NULL;

		c->wm = tunnel_wm_series(tu, c, ep, WMSTATS_INBOUND,
					 ss ? ss->name : NULL, true,
					 !(svc->flags & MF_SERVICE_F_HTTP));
		/* The source's L7 engine speaks HTTP on it: its requests
		 * are this workload's inbound ones (hobs.h). */
		if (c->wm && (svc->flags & MF_SERVICE_F_HTTP))
			c->tap = hobs_new(c->wm);
	}
	/* Whatever followed the header is the client's first bytes. */
	d->data = d->pbuf;
	d->off = (uint32_t)hdr_len;
	d->len = c->hdr_fill;
	c->up_addr = info->dst;
	c->ack_owed = info->ack;
	conn_connect(tu->conns, c);
}

/* PROXY_HDR: decrypts until a whole header is in (tunhdr.h), under the
 * setup deadline of the recvs. */
static void tunnel_inbound_read_header(struct tunnel *tu, struct conn *c)
{
	struct conn_end *e = &c->end[CONN_DOWN];
	struct conn_dir *d = &c->dir[CONN_DOWN];
	struct pp2_info info;
	char reason[256];
	ssize_t used;

	used = tunhdr_read(e->tls, d->pbuf, CONN_PBUF_SIZE, &c->hdr_fill,
			   &info);
	conn_tls_flush(tu->conns, c, CONN_DOWN);
	if (d->pbuf_used < c->hdr_fill)
		d->pbuf_used = c->hdr_fill;
	if (used > 0) {
		tunnel_inbound_header(tu, c, &info, (size_t)used);
		return;
	}
	switch (used) {
	case 0:
		if (!e->recv_busy)
			conn_submit_recv(tu->conns, c, CONN_DOWN, true);
		break;
	case -ECONNRESET:
		conn_abort(tu->conns, c, "peer closed before the proxy header");
		break;
	case -EBADMSG:
		tunnel_deny(tu, c, "-", NULL, "malformed proxy header");
		break;
	case -EMSGSIZE:
		tunnel_deny(tu, c, "-", NULL, "proxy header too long");
		break;
	default:
		snprintf(reason, sizeof(reason), "tls read: %s",
			 tls_last_error(e->tls));
		conn_abort(tu->conns, c, reason);
		break;
	}
}

/* The connect of @c to external endpoint @ep failed: the endpoint is held
 * (balance.h), so that this connection's next pick, and the next
 * connections', go to another endpoint of its priority level or to the
 * next level; once the hold is over it is tried again.  True when @ep is
 * external. */
static bool tunnel_egress_hold(struct tunnel *tu, struct conn *c,
			       const struct mf_endpoint *ep)
{
	if (!ep || !(ep->flags & MF_ENDPOINT_F_EXTERNAL))
		return false;
	hosts_hold(tu->bal.hosts, balance_key(c->policy, ep), timer_now(),
		   HOSTS_HOLD_MS);
	return true;
}

/* The connect to an endpoint's node failed: under MeshRetry's
 * tcp.maxConnectAttempt, another endpoint (the balancer's next pick), as
 * long as attempts are left.  To a MeshExternalService's endpoint, each of
 * the service's endpoints may be tried once (priority failover, which
 * needs no MeshRetry), or as many times as MeshRetry says if more. */
static bool tunnel_outbound_connect_failed(void *arg, struct conn *c,
					   const char *reason)
{
	const struct resil *rs = c->resil;
	const struct mf_service *svc;
	const struct mf_endpoint *ep;
	struct tunnel *tu = arg;
	struct balance_pick bp;
	const char *why;
	uint32_t attempts = rs ? rs->tcp_connect_attempts : 0;
	bool ext;

	if (c->passthrough)
		return false;	/* one destination, the original */
	ext = tunnel_egress_hold(tu, c, c->endpoint);
	if (ext && tunnel_nhosts(c) > attempts)
		attempts = tunnel_nhosts(c);
	if (c->l7 || ++c->connects >= attempts)
		return false;
	svc = tunnel_dst_service(c);
	if (!svc)
		return false;
	tunnel_pick_of(tu, c, NULL, &bp);
	ep = c->tcp_route >= 0 ?
	     router_tcp_pick(c->policy, &bp, c->tcp_route, &why) :
	     router_pick(c->policy, &bp, c->traffic_route, svc, NULL);
	if (!ep)
		return false;
	log_info("event=connect_retry conn=%llu attempt=%u endpoint=%s "
		 "reason=\"%s\"", (unsigned long long)c->id, c->connects + 1,
		 ep->name, reason);
	if (ext && log_level_max >= LOG_LVL_INFO) {
		char from[CONN_ADDR_STRLEN], to[CONN_ADDR_STRLEN];

		log_info("event=egress_failover conn=%llu service=%s from=%s "
			 "priority=%u to=%s:%u priority=%u",
			 (unsigned long long)c->id, ep->name,
			 conn_addr_str(&c->up_addr, from),
			 policy_endpoint_priority(c->policy, c->endpoint),
			 inet_ntop(AF_INET, ep->node_ip, to, sizeof(to)),
			 ep->port, policy_endpoint_priority(c->policy, ep));
	}
	if (ext)
		tu->ctx->stats.egress_failovers++;
	else
		tu->ctx->stats.tcp_connect_retries++;
	tunnel_aim(tu, c, ep);
	if (tunnel_ep_local(tu, c->policy, ep) &&
	    !tunnel_local_admit(tu, c, ep)) {
		conn_abort(tu->conns, c, NULL);
		return true;	/* ended here */
	}
	/* Each attempt has its connectionTimeout; without one they share
	 * the setup deadline. */
	if (rs && rs->connect_ms)
		tunnel_deadline(c, rs->connect_ms);
	conn_reconnect(tu->conns, c);
	return true;
}

/* The up end of @c to its endpoint is set up: relay, or for an L7
 * connection hand it to the request waiting for it. */
static void tunnel_up_go(struct tunnel *tu, struct conn *c)
{
	if (c->l7) {
		tunnel_breaker_put(tu, c, BREAKER_PENDING);
		conn_up_ready(tu->conns, c);
		return;
	}
	conn_start_relay(tu->conns, c);
	conn_idle_timeout(tu->conns, c, tunnel_idle_ms(tu, c));
}

/* Connected to an external endpoint: its TLS, or plaintext (egress.h). */
static void tunnel_egress_connected(struct tunnel *tu, struct conn *c)
{
	char reason[224];
	int err;

	err = egress_session(&tu->egress, c->policy, c->endpoint,
			     &c->end[CONN_UP].tls, reason, sizeof(reason));
	if (err) {
		log_warn("event=egress_failed conn=%llu service=%s "
			 "reason=\"%s\"", (unsigned long long)c->id,
			 c->endpoint->name, reason);
		conn_up_failed(tu->conns, c, reason);
		return;
	}
	if (c->end[CONN_UP].tls)
		conn_handshake_start(tu->conns, c, CONN_UP);
	else
		tunnel_up_go(tu, c);
}

/* Connected to a pod of this node, admitted before the dial: it relays
 * as the inbound half would once connected to it, with no tunnel and no
 * handshake.  A probe's checker gets the ack byte that agent would send;
 * on its fresh socket one byte is taken whole at once. */
static void tunnel_local_connected(struct tunnel *tu, struct conn *c)
{
	static const uint8_t ack = PP2_ACK;

	tu->ctx->stats.up_connects[STATS_PATH_LOCAL]++;
	if (c->flow->ops != &tunnel_probe_ops) {
		/* An L4 connection to a pod of this node: that pod's
		 * inbound series counts it, as its agent's inbound half
		 * would. */
		if (c->wm && !c->l7) {
			const struct mf_service *svc =
				policy_service_by_id(c->policy,
						     c->service_id);

			c->wm_in = tunnel_wm_series(tu, c, c->endpoint,
				WMSTATS_INBOUND, c->wm->service, true,
				svc && !(svc->flags & MF_SERVICE_F_HTTP));
		}
		tunnel_up_go(tu, c);
		return;
	}
	if (send(c->end[CONN_DOWN].fd, &ack, 1, MSG_DONTWAIT | MSG_NOSIGNAL)
	    != 1) {
		conn_abort(tu->conns, c, "write of the ack");
		return;
	}
	conn_start_relay(tu->conns, c);
	conn_idle_timeout(tu->conns, c, c->up_timeout_ms);
}

/* Connected to the node's agent: the TLS client with the pod's identity. */
static void tunnel_outbound_connected(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;
	char reason[96];
	int err;

	if (c->passthrough) {
		/* Plaintext to the original destination: the client's
		 * own bytes, TLS or not, go as they came. */
		tunnel_connected_relay(tu, c);
		return;
	}
	if (c->endpoint && (c->endpoint->flags & MF_ENDPOINT_F_EXTERNAL)) {
		tunnel_egress_connected(tu, c);
		return;
	}
	if (c->endpoint && tunnel_ep_local(tu, c->policy, c->endpoint)) {
		tunnel_local_connected(tu, c);
		return;
	}
	tu->ctx->stats.up_connects[STATS_PATH_TUNNEL]++;
	err = tls_sess_new(&c->end[CONN_UP].tls, c->tls_ctx);
	/* The destination's permissions may match on its service's name. */
	if (!err && c->endpoint)
		err = tls_sess_use_sni(c->end[CONN_UP].tls,
				       tunnel_sni_of(c->policy,
						     c->endpoint->service_id));
	if (err) {
		snprintf(reason, sizeof(reason), "tls session: %s",
			 strerror(-err));
		conn_up_failed(tu->conns, c, reason);
		return;
	}
	conn_handshake_start(tu->conns, c, CONN_UP);
}

/* Connected to the pod: relay, the bytes after the header first, and
 * before any of the pod's the ack byte when the header asked for it. */
static void tunnel_connected_relay(void *arg, struct conn *c)
{
	static const uint8_t ack = PP2_ACK;
	struct conn_end *e = &c->end[CONN_DOWN];
	struct tunnel *tu = arg;

	if (c->ack_owed && e->tls) {
		c->ack_owed = false;
		/* A session past its handshake takes one byte whole. */
		if (tls_write(e->tls, &ack, 1) != 1) {
			conn_abort(tu->conns, c, "tls write of the ack");
			return;
		}
		conn_tls_flush(tu->conns, c, CONN_DOWN);
	}
	conn_start_relay(tu->conns, c);
	conn_idle_timeout(tu->conns, c, tunnel_idle_ms(tu, c));
}

/* Inbound handshake done: the peer must be a mesh identity, then the
 * PROXY v2 header comes. */
static void tunnel_inbound_handshake_done(void *arg, struct conn *c,
					  const char *failed)
{
	struct conn_end *e = &c->end[CONN_DOWN];
	struct tunnel *tu = arg;
	char reason[64];
	int err;

	if (failed) {
		/* Any peer can fail a handshake at will: its lines come at
		 * a bounded rate (the count is whole in the metrics). */
		if (log_limit_ok(&tu->conns->refuse_log, LOG_LVL_WARN,
				 "denied")) {
			tunnel_deny(tu, c, "-", NULL, failed);
		} else {
			tu->ctx->stats.denied++;
			conn_abort(tu->conns, c, NULL);
		}
		return;
	}
	err = tls_peer_spiffe(e->tls, c->peer_spiffe, sizeof(c->peer_spiffe));
	if (err) {
		c->peer_spiffe[0] = '\0';
		snprintf(reason, sizeof(reason), "peer has no usable SPIFFE ID: %s",
			 strerror(-err));
		tunnel_deny(tu, c, "-", NULL, reason);
		return;
	}
	if (!policy_mesh_member(c->policy, c->peer_spiffe)) {
		tunnel_deny(tu, c, "-", NULL, "peer outside the trust domain");
		return;
	}
	c->dir[CONN_DOWN].pbuf = loop_pbuf_get(tu->conns->loop);
	if (!c->dir[CONN_DOWN].pbuf) {
		conn_abort(tu->conns, c, "out of memory");
		return;
	}
	c->hdr_fill = 0;
	c->state = CONN_STATE_PROXY_HDR;
	tunnel_inbound_read_header(tu, c);
}

static void tunnel_inbound_setup_recv(void *arg, struct conn *c)
{
	if (c->state == CONN_STATE_PROXY_HDR)
		tunnel_inbound_read_header(arg, c);
}

/* The connection goes: its snapshot goes back through the reloader, which
 * frees it off the loop if this was the last reference. */
static void tunnel_release_common(struct tunnel *tu, struct conn *c)
{
	reload_release(tu->ctx->reload, c->policy);
	c->policy = NULL;
	tls_ctx_put(c->tls_ctx);
	c->tls_ctx = NULL;
	hproxy_free(c->l7);
	c->l7 = NULL;
	c->rsp_mod = NULL;
	tunnel_breaker_put(tu, c, BREAKER_CONNS);
	tunnel_breaker_put(tu, c, BREAKER_REQUESTS);
	tunnel_breaker_put(tu, c, BREAKER_RETRIES);
	tunnel_breaker_put(tu, c, BREAKER_PENDING);
	c->svc_key = 0;
	/* A try the client left: no longer in flight, and no verdict on
	 * its endpoint. */
	if (c->try_key) {
		struct host *h = hosts_get(tu->bal.hosts, c->try_key,
					   timer_now());

		if (h->active)
			h->active--;
		c->try_key = 0;
	}
}

/* An L4 connection's bytes into its series (an L7 one's went per
 * request): dir[CONN_DOWN] carries what the client sent, which the
 * destination received. */
static void tunnel_wm_close(struct conn *c)
{
	uint64_t down = c->dir[CONN_DOWN].bytes, up = c->dir[CONN_UP].bytes;
	const struct mf_service *svc;
	bool tcp;

	if (c->wm && !c->l7) {
		svc = c->policy ? policy_service_by_id(c->policy,
						       c->service_id) : NULL;
		tcp = svc && !(svc->flags & MF_SERVICE_F_HTTP);
		if (c->wm->dir == WMSTATS_OUTBOUND)
			wmstats_bytes(c->wm, tcp, down, up);
		else
			wmstats_bytes(c->wm, tcp, up, down);
		if (c->wm_in)
			wmstats_bytes(c->wm_in, tcp, up, down);
	}
	c->wm = c->wm_in = NULL;
	c->wm_in_ep = NULL;
	hobs_free(c->tap);
	c->tap = NULL;
}

/* An inbound connection's bytes, to the pod (from the tunnel) or back. */
static void tunnel_inbound_tap(void *arg, struct conn *c, enum conn_side side,
			       const uint8_t *p, size_t n)
{
	(void)arg;
	hobs_feed(c->tap, side == CONN_DOWN, p, n);
}

static void tunnel_release(void *arg, struct conn *c)
{
	tunnel_wm_close(c);
	/* An L7 connection's lines went per request. */
	if (c->alog && !c->l7)
		tunnel_meshlog_l4(arg, c);
	free(c->alog);
	c->alog = NULL;
	free(c->trace);
	c->trace = NULL;
	tunnel_release_common(arg, c);
	hroute_list_free(c->routes);
	c->routes = NULL;
	free(c->limit);
	c->limit = NULL;
	free(c->resil);
	c->resil = NULL;
	c->up_timeout_ms = 0;
}

/* ---- L7: the steps conn.c calls for an HTTP connection -------------------- */

static ssize_t tunnel_l7_input(void *arg, struct conn *c, enum conn_side side,
			       const uint8_t *p, size_t n)
{
	(void)arg;
	return hproxy_input(c->l7, side, p, n);
}

static int tunnel_l7_input_eof(void *arg, struct conn *c, enum conn_side side)
{
	(void)arg;
	return hproxy_input_eof(c->l7, side);
}

static void tunnel_l7_input_timeout(void *arg, struct conn *c)
{
	(void)arg;
	hproxy_input_timeout(c->l7);
}

static void tunnel_l7_drain(void *arg, struct conn *c)
{
	(void)arg;
	hproxy_drain(c->l7);
}

static void tunnel_l7_upstream_failed(void *arg, struct conn *c,
				      const char *reason)
{
	/* A request's next try (MeshRetry), and the next requests, go
	 * elsewhere for a while. */
	tunnel_egress_hold(arg, c, c->endpoint);
	tunnel_breaker_put(arg, c, BREAKER_PENDING);
	hproxy_upstream_failed(c->l7, reason);
}

/* ---- forward ------------------------------------------------------------- */

static void tunnel_forward_accepted(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;

	c->up_addr = tu->forward_to;
	conn_connect(tu->conns, c);
}

/* The route step of the forward listener in HTTP mode: the one upstream,
 * on the up end of the last request while it is good. */
static int tunnel_forward_route(void *arg, struct conn *c, struct hhead *req,
				struct hproxy_route *r)
{
	struct tunnel *tu = arg;
	int rc;

	(void)req;
	rc = tunnel_l7_up(tu, c, true, &r->why);
	if (rc == 503)
		r->status = 503;
	if (rc != 1)
		return 0;
	c->up_addr = tu->forward_to;
	conn_up_open(tu->conns, c);
	return 0;
}

static const struct hproxy_flow tunnel_forward_flow = {
	.route = tunnel_forward_route,
};

static void tunnel_forward_http_accepted(void *arg, struct conn *c)
{
	tunnel_l7_begin(arg, c, &tunnel_forward_flow);
}

static void tunnel_forward_http_connected(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;

	conn_up_ready(tu->conns, c);
}

static void tunnel_forward_http_release(void *arg, struct conn *c)
{
	(void)arg;
	hproxy_free(c->l7);
	c->l7 = NULL;
}

/* ---- gateway --------------------------------------------------------------- */

/* What a gateway connection holds (c->routes). */
struct tunnel_gw {
	struct gw_table *table;		/* a reference */
	uint16_t port;			/* where it was accepted */
	/* The response header filter of the request's rule, NULL: none.
	 * Points into the table's snapshot. */
	const struct mf_gwr_header_filter *rsp_mod;
	const struct mf_header_mod *rsp_http;	/* a MeshHTTPRoute's */
	struct tls_ctx *tls;		/* HTTPS, TLS: until the client's
					 * first byte, a reference */
	bool tls_done;			/* TLS: the client's handshake is
					 * over (the next is the up end's) */
	bool lowat;			/* TLS: SO_RCVLOWAT raised for the
					 * rest of a ClientHello */
};

static const struct balance_conf tunnel_gw_lb = {
	.type = MF_LB_ROUND_ROBIN,
};

/* The MeshAccessLog backends of the request decision @d of gateway
 * connection @c is for, into c->alog (for its done step): per request,
 * as its listener and destination are; nothing when the snapshot has no
 * MeshAccessLog.  Out of memory, the request goes unlogged, not down. */
static void tunnel_gw_meshlog(struct conn *c, const struct gw_decision *d)
{
	const struct mf_service *dst;
	struct meshlog *m;

	free(c->alog);
	c->alog = NULL;
	if (!d->self || !router_count(c->policy, &kind_mesh_access_log))
		return;
	m = malloc(sizeof(*m));
	if (!m)
		return;
	dst = d->ep ? policy_service_by_id(c->policy, d->ep->service_id) :
		      NULL;
	if (meshlog_find_gateway(c->policy, d->self, dst, m) || !m->n) {
		free(m);
		return;
	}
	c->alog = m;
}

/* The MeshTrace of the request decision @d of gateway connection @c is
 * for, into c->trace (for its route and done steps): per request, as its
 * listener and destination are; nothing when the snapshot has no
 * MeshTrace.  Out of memory, the request goes untraced, not down. */
static void tunnel_gw_trace(struct conn *c, const struct gw_decision *d)
{
	const struct mf_service *dst;
	struct trace_conn *t;

	free(c->trace);
	c->trace = NULL;
	if (!d->self || !router_count(c->policy, &kind_mesh_trace))
		return;
	t = malloc(sizeof(*t));
	if (!t)
		return;
	dst = d->ep ? policy_service_by_id(c->policy, d->ep->service_id) :
		      NULL;
	if (trace_find_gateway(c->policy, d->self,
			       c->down_peer.sin_addr.s_addr, dst, t) ||
	    !trace_any(t)) {
		free(t);
		return;
	}
	c->trace = t;
}

/* The route step of a gateway connection: its listener and routes decide
 * each request (gwroute.h), which then goes to the endpoint's node with
 * the gateway instance's identity. */
static int tunnel_gw_route(void *arg, struct conn *c, struct hhead *req,
			   struct hproxy_route *r)
{
	struct tunnel *tu = arg;
	struct tunnel_gw *gc = c->routes;
	struct conn_end *down = &c->end[CONN_DOWN];
	struct balance_pick bp;
	struct gw_decision d;
	struct tls_ctx *ctx;
	int err;

	/* Round robin, as a Kuma gateway's backends go unless a policy
	 * says otherwise (none is read for a gateway yet). */
	tunnel_pick_of(tu, c, req, &bp);
	bp.conf = &tunnel_gw_lb;
	err = gwroute_decide(gc->table, &bp, gc->port,
			     down->tls ? tls_sni(down->tls) : NULL, req, &d);
	if (err)
		return err;
	tunnel_gw_meshlog(c, &d);
	/* Its MeshTrace at its first try; another try keeps its ids. */
	if (r->attempt == 0)
		tunnel_gw_trace(c, &d);
	if (c->trace) {
		err = trace_request(c->trace, req, r->attempt, &tu->http.rng);
		if (err)
			return err;
	}
	gc->rsp_mod = d.rsp_mod;
	gc->rsp_http = d.rsp_http;
	r->name = d.route;
	if (d.src_id)
		c->src_spiffe = d.src_id;	/* counted as the source */
	if (d.status) {
		r->status = d.status;
		r->why = d.why;
		r->location = d.location;	/* now hproxy's */
		return 0;
	}
	/* A MeshExternalService is held to its access, for the gateway's
	 * identity as for a pod's. */
	if (!tunnel_egress_ok(c, d.ep, d.src_id, &r->why)) {
		r->status = 403;
		return 0;
	}
	c->service_id = d.ep->service_id;
	/* The port's listeners are one instance's: one identity, so the
	 * context made for the first request serves the next ones. */
	if (!c->tls_ctx) {
		err = certs_client_ctx(tu->ctx->certs, d.src_id, c->policy,
				       &ctx);
		if (err) {
			log_warn("event=gateway_no_certificate conn=%llu "
				 "spiffe=%s err=\"%s\"",
				 (unsigned long long)c->id, d.src_id,
				 strerror(-err));
			r->status = 503;
			r->why = "no certificate for the gateway's identity";
			return 0;
		}
		c->tls_ctx = ctx;
	}
	tunnel_try_begin(tu, c, d.ep);
	if (d.mirror) {
		r->mirror_ip = policy_endpoint_ip(c->policy, d.mirror);
		r->mirror_port = d.mirror->port;
	}
	return tunnel_l7_to(tu, c, d.ep, r);
}

/* The mirror step of a gateway connection: a copy of the request with the
 * gateway instance's identity (c->src_spiffe, a string of c->policy, the
 * table's snapshot, by which the mirror's endpoint was picked too). */
static void tunnel_gw_mirror(void *arg, struct conn *c, uint32_t ip,
			     uint16_t port, const void *p, size_t n)
{
	const struct tunnel_src src = {
		.ip = c->down_peer.sin_addr.s_addr,
		.p = c->policy,
		.id = c->src_spiffe,
	};
	struct tunnel *tu = arg;

	if (!c->src_spiffe || hmirror_send(&tu->mirror, &src, ip, port, p, n))
		tu->ctx->stats.http_mirror_skipped++;
}

static int tunnel_gw_response(void *arg, struct conn *c, struct hhead *rsp)
{
	struct tunnel_gw *gc = c->routes;

	(void)arg;
	return gwroute_response(gc->table, gc->rsp_mod, gc->rsp_http, rsp);
}

static const struct hproxy_flow tunnel_gw_flow = {
	.route = tunnel_gw_route,
	.response = tunnel_gw_response,
	.done = tunnel_l7_done,
	.try_done = tunnel_l7_try_done,
	.release_up = tunnel_l7_release_up,
	.mirror = tunnel_gw_mirror,
};

/* Accepted on a gateway port: the port's table and, for HTTPS, the TLS
 * handshake first. */
/* A connection accepted on a gateway port: its state (c->routes), its
 * port's table and TLS context (*@tls, a reference; NULL: none) and the
 * policy of that table.  NULL once @c is ended. */
static struct tunnel_gw *tunnel_gw_take(struct tunnel *tu, struct conn *c,
					struct tls_ctx **tls)
{
	struct tunnel_gw *gc;
	struct gw_table *t;

	gc = calloc(1, sizeof(*gc));
	if (!gc) {
		conn_abort(tu->conns, c, "out of memory");
		return NULL;
	}
	c->routes = gc;
	gc->port = ntohs(c->down_local.sin_port);
	if (gateway_lookup(&tu->gw, gc->port, &t, tls)) {
		tunnel_refuse(tu, c, STATS_REFUSE_GATEWAY_PORT,
			      "gateway port no longer served");
		return NULL;
	}
	gc->table = t;
	c->policy = policy_get(gwroute_policy(t));
	return gc;
}

static void tunnel_gw_accepted(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;
	struct tunnel_gw *gc;
	struct tls_ctx *tls;

	gc = tunnel_gw_take(tu, c, &tls);
	if (!gc)
		return;
	if (!tls) {
		tunnel_l7_begin(tu, c, &tunnel_gw_flow);
		return;
	}
	gc->tls = tls;
	conn_await_first_byte(tu->conns, c, tu->first_byte_ms);
}

/* A connection of a gateway TCP port, or of a TLS port once the client's
 * handshake is over (@sni: the name it asked for, NULL: none): its
 * listener's route picks an endpoint (gwroute_tcp_decide()), reached as
 * an outbound connection's is, with the gateway instance's identity, and
 * the bytes (the plaintext, behind TLS) relayed as they come. */
static void tunnel_gw_tcp_go(struct tunnel *tu, struct conn *c,
			     struct tunnel_gw *gc, const char *sni)
{
	struct balance_pick bp;
	struct gw_decision d;
	char reason[256];

	tunnel_pick_of(tu, c, NULL, &bp);
	bp.conf = &tunnel_gw_lb;
	gwroute_tcp_decide(gc->table, &bp, gc->port, sni, &d);
	if (d.status) {
		snprintf(reason, sizeof(reason), "gateway %s port %u: %s",
			 d.listener ? d.listener : "-", gc->port, d.why);
		tunnel_refuse(tu, c, STATS_REFUSE_NO_ENDPOINTS, reason);
		return;
	}
	if (!tunnel_egress_ok(c, d.ep, d.src_id, &d.why)) {
		snprintf(reason, sizeof(reason), "gateway %s port %u: %s",
			 d.listener, gc->port, d.why);
		tunnel_refuse(tu, c, STATS_REFUSE_EGRESS_DENIED, reason);
		return;
	}
	c->service_id = d.ep->service_id;
	if (!tunnel_speak_as(tu, c, d.src_id))
		return;
	tunnel_aim(tu, c, d.ep);
	if (tunnel_ep_local(tu, c->policy, d.ep) &&
	    !tunnel_local_admit(tu, c, d.ep)) {
		conn_abort(tu->conns, c, NULL);
		return;
	}
	log_debug("event=gateway_tcp conn=%llu port=%u gateway=%s route=%s "
		  "endpoint=%s", (unsigned long long)c->id, gc->port,
		  d.listener, d.route, d.ep->name);
	conn_connect(tu->conns, c);
}

/* Accepted on a gateway TCP port: relayed by its listener's route. */
static void tunnel_gw_tcp_accepted(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;
	struct tunnel_gw *gc;
	struct tls_ctx *tls;

	gc = tunnel_gw_take(tu, c, &tls);
	if (!gc)
		return;
	tls_ctx_put(tls);	/* a TCP port has none */
	tunnel_gw_tcp_go(tu, c, gc, NULL);
}

/*
 * A client of a TLS port sent its first bytes: the server name in its
 * ClientHello, read where it lies in the socket (a peek, which neither
 * blocks nor takes the bytes), picks the listener of the port, as
 * Kuma's Envoy picks a filter chain by it.  A PASSTHROUGH listener's
 * connection is relayed, ClientHello and all, unread, by that listener's
 * tcp route; a TERMINATE one's gets its TLS session, whose context picks
 * that listener's certificate by the same name, and is relayed once the
 * handshake is over.  A name no listener takes goes to the TLS session
 * when the port has one (which refuses it with unrecognized_name), else
 * is refused.  A ClientHello that came in pieces is waited for whole,
 * within the same first-byte deadline: SO_RCVLOWAT set to its record's
 * length (from its header) makes the poll wake only once it is all there,
 * and is set back before anything else reads the socket.
 */
static void tunnel_gw_tls_hello(struct tunnel *tu, struct conn *c)
{
	struct tunnel_gw *gc = c->routes;
	const int fd = c->end[CONN_DOWN].fd;
	uint8_t hello[TLS_HELLO_MAX];
	/* The deadline conn_await_first_byte() set when it first waited. */
	const struct __kernel_timespec *d = &c->first_byte_deadline;
	struct tls_ctx *tls;
	char sni[256];
	uint64_t now, end;
	int rc, want, one = 1;
	ssize_t n;

	n = recv(fd, hello, sizeof(hello), MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		tunnel_refuse(tu, c, STATS_REFUSE_GATEWAY_TLS,
			      "closed before its ClientHello");
		return;
	}
	rc = n > 0 ? tls_hello_sni(hello, (size_t)n, sni, sizeof(sni)) :
		     -EAGAIN;
	if (rc == -EAGAIN) {
		/* The record's length is in its header (5 bytes); until
		 * they are there, they are what to wait for. */
		want = n >= 5 ? 5 + (hello[3] << 8 | hello[4]) : 5;
		now = timer_now();
		end = (uint64_t)d->tv_sec * 1000000000u + (uint64_t)d->tv_nsec;
		if (n >= want || (size_t)want > sizeof(hello) || now >= end ||
		    setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &want,
			       sizeof(want))) {
			tunnel_refuse(tu, c, STATS_REFUSE_FIRST_BYTE,
				      "no whole ClientHello in time");
			return;
		}
		gc->lowat = true;
		conn_await_first_byte(tu->conns, c, (uint32_t)
				      ((end - now + 999999u) / 1000000u));
		return;
	}
	if (gc->lowat) {
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &one,
				 sizeof(one));
		gc->lowat = false;
	}
	if (rc < 0) {
		tunnel_refuse(tu, c, STATS_REFUSE_GATEWAY_TLS,
			      "not a TLS ClientHello with a usable server "
			      "name");
		return;
	}
	if (gwroute_tls_mode(gc->table, gc->port, rc ? sni : NULL) ==
	    MF_GW_TLS_PASSTHROUGH) {
		conn_no_handshake(tu->conns, c);
		tunnel_gw_tcp_go(tu, c, gc, rc ? sni : NULL);
		return;
	}
	if (!gc->tls) {
		tunnel_refuse(tu, c, STATS_REFUSE_GATEWAY_TLS,
			      "no TLS listener for this server name");
		return;
	}
	tls = gc->tls;
	gc->tls = NULL;
	tunnel_down_tls(tu, c, tls);
}

/* Accepted on a gateway TLS port: its ClientHello first. */
static void tunnel_gw_tls_accepted(void *arg, struct conn *c)
{
	struct tunnel *tu = arg;
	struct tunnel_gw *gc;
	struct tls_ctx *tls;

	gc = tunnel_gw_take(tu, c, &tls);
	if (!gc)
		return;
	gc->tls = tls;	/* NULL: its listeners all pass TLS through */
	conn_await_first_byte(tu->conns, c, tu->first_byte_ms);
}

static void tunnel_gw_tls_first_byte(void *arg, struct conn *c)
{
	tunnel_gw_tls_hello(arg, c);
}

/* A handshake of a connection of a gateway TLS port ended: the client's
 * first (TERMINATE), after which the plaintext is relayed as a TCP port's
 * is, by the route of the listener its SNI picked; then the up end's, as
 * for outbound connections (and the only one, with PASSTHROUGH). */
static void tunnel_gw_tls_handshake_done(void *arg, struct conn *c,
					 const char *failed)
{
	struct tunnel *tu = arg;
	struct tunnel_gw *gc = c->routes;

	if (gc->tls_done || !c->end[CONN_DOWN].tls) {
		tunnel_outbound_handshake_done(arg, c, failed);
		return;
	}
	gc->tls_done = true;
	if (failed) {
		tunnel_refuse(tu, c, STATS_REFUSE_GATEWAY_TLS, failed);
		return;
	}
	tunnel_gw_tcp_go(tu, c, gc, tls_sni(c->end[CONN_DOWN].tls));
}

/* An HTTPS client sent its first byte: its TLS session now. */
static void tunnel_gw_first_byte(void *arg, struct conn *c)
{
	struct tunnel_gw *gc = c->routes;
	struct tls_ctx *tls = gc->tls;

	gc->tls = NULL;
	tunnel_down_tls(arg, c, tls);
}

/* A handshake ended: the client's (HTTPS), after which requests come, or
 * an up end's, as for outbound connections. */
static void tunnel_gw_handshake_done(void *arg, struct conn *c,
				     const char *failed)
{
	struct tunnel *tu = arg;

	if (c->l7) {
		tunnel_outbound_handshake_done(arg, c, failed);
		return;
	}
	if (failed) {
		tunnel_refuse(tu, c, STATS_REFUSE_GATEWAY_TLS, failed);
		return;
	}
	tunnel_l7_begin(tu, c, &tunnel_gw_flow);
}

static void tunnel_gw_release(void *arg, struct conn *c)
{
	struct tunnel_gw *gc = c->routes;

	/* Its last request's MeshAccessLog backends and MeshTrace (its
	 * lines and spans went). */
	free(c->alog);
	c->alog = NULL;
	free(c->trace);
	c->trace = NULL;
	tunnel_release_common(arg, c);
	if (gc) {
		gwroute_put(gc->table);
		tls_ctx_put(gc->tls);
	}
	free(gc);
	c->routes = NULL;
}

/* ---- registration -------------------------------------------------------- */

/*
 * IP_TRANSPARENT (@v6: IPV6_TRANSPARENT) on the outbound listener @fd
 * (its accepted sockets
 * inherit it).  A connection the TC program steered for a MeshPassthrough
 * Domain match has a local address outside the mesh (its original
 * destination), which only the node's rule for MF_SKB_MARK_PASSTHROUGH
 * makes local, not the local table: without the option the kernel will
 * not send from it (no SYN-ACK).  The VIPs, routed local, need none.
 * Without CAP_NET_ADMIN it cannot be set: said once, and such connections
 * never open.
 */
static void tunnel_outbound_transparent(int fd, bool v6)
{
	int one = 1;

	if ((v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_TRANSPARENT, &one,
			     sizeof(one)) :
		  setsockopt(fd, IPPROTO_IP, IP_TRANSPARENT, &one,
			     sizeof(one))) < 0)
		log_warn("event=transparent_failed listener=%s err=\"%s\" "
			 "effect=\"MeshPassthrough Domain matches cannot be "
			 "served\"", v6 ? "outbound6" : "outbound",
			 strerror(errno));
}

static const struct conn_flow_ops tunnel_outbound_ops = {
	.name = "outbound",
	.accepted = tunnel_outbound_accepted,
	.connected = tunnel_outbound_connected,
	.connect_failed = tunnel_outbound_connect_failed,
	.handshake_done = tunnel_outbound_handshake_done,
	.first_byte = tunnel_outbound_first_byte,
	.release = tunnel_release,
	.input = tunnel_l7_input,
	.input_eof = tunnel_l7_input_eof,
	.input_timeout = tunnel_l7_input_timeout,
	.drain = tunnel_l7_drain,
	.upstream_failed = tunnel_l7_upstream_failed,
	.release_up = tunnel_l7_release_up,
};

/* ---- health check probes ---------------------------------------------------- */

/*
 * A probe (health.h) is an outbound connection the agent makes itself, to
 * one endpoint: its down end is the checker's socket, its down_peer the
 * workload it speaks for and its down_local the endpoint.  It goes as any
 * outbound connection to a pod of that workload's does (its identity, the
 * tunnel to the endpoint's node, the node's identity checked, the PROXY
 * header), asks that agent for the ack byte and relays, bounded by
 * tu->probe_ms from the start and then idle.  No balancing, breaker or
 * policy of the client's applies: it tests the endpoint.
 */
static void tunnel_probe_accepted(void *arg, struct conn *c)
{
	const struct mf_endpoint *src_ep = NULL, *ep;
	const struct tunnel_src *src;
	struct tunnel *tu = arg;
	struct policy *p;
	const char *src_id;

	src = tu->probe_src;
	tu->probe_src = NULL;
	if (!src) {		/* only tunnel_probe() adopts a probe */
		conn_abort(tu->conns, c, "probe without a source");
		return;
	}
	if (src->id) {
		/* A gateway's: its identity is a string of the snapshot its
		 * request went by, which the probe holds on to. */
		p = src->p;
		c->policy = policy_get(p);
	} else {
		p = tunnel_policy(tu, c);
		if (!p)
			return;
		src_ep = policy_endpoint_by_ip(p, c->down_peer.sin_addr.s_addr);
	}
	ep = policy_endpoint_by_ip(p, c->down_local.sin_addr.s_addr);
	if ((!src->id && !src_ep) || !ep ||
	    ep->port != ntohs(c->down_local.sin_port)) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_ENDPOINTS,
			      "health check: endpoint or source not in policy");
		return;
	}
	src_id = src->id ? src->id : policy_identity(p, src_ep->identity_id);
	if (!src_id || !src_id[0] || !policy_trust_domain(p)[0]) {
		tunnel_refuse(tu, c, STATS_REFUSE_NO_IDENTITY,
			      "health check: source workload has no identity");
		return;
	}
	if (!tunnel_speak_as(tu, c, src_id))
		return;
	c->service_id = ep->service_id;
	c->up_timeout_ms = tu->probe_ms;
	tunnel_aim(tu, c, ep);
	if (tunnel_ep_local(tu, p, ep) && !tunnel_local_admit(tu, c, ep)) {
		conn_abort(tu->conns, c, NULL);
		return;
	}
	tunnel_deadline(c, tu->probe_ms);
	conn_connect(tu->conns, c);
}

int tunnel_probe(struct tunnel *tu, int fd, const struct tunnel_src *src,
		 uint32_t ep_ip, uint16_t ep_port, uint32_t timeout_ms)
{
	struct sockaddr_in peer = { .sin_family = AF_INET }, local = peer;
	int err;

	peer.sin_addr.s_addr = src->ip;
	local.sin_addr.s_addr = ep_ip;
	local.sin_port = htons(ep_port);
	/* The accepted step runs within conn_adopt(): the loop's thread,
	 * nothing in between. */
	tu->probe_ms = timeout_ms;
	tu->probe_src = src;
	err = conn_adopt(tu->conns, &tunnel_probe_ops, tu, fd, &peer, &local);
	tu->probe_src = NULL;
	return err;
}

static const struct conn_flow_ops tunnel_probe_ops = {
	.name = "probe",
	.accepted = tunnel_probe_accepted,
	.connected = tunnel_outbound_connected,
	.handshake_done = tunnel_outbound_handshake_done,
	.release = tunnel_release,
};

static const struct conn_flow_ops tunnel_inbound_ops = {
	.name = "inbound",
	.accepted = tunnel_inbound_accepted,
	.first_byte = tunnel_inbound_first_byte,
	.connected = tunnel_connected_relay,
	.handshake_done = tunnel_inbound_handshake_done,
	.setup_recv = tunnel_inbound_setup_recv,
	.release = tunnel_release,
	.tap = tunnel_inbound_tap,
};

static const struct conn_flow_ops tunnel_forward_ops = {
	.name = "forward",
	.accepted = tunnel_forward_accepted,
	.connected = tunnel_connected_relay,
};

static const struct conn_flow_ops tunnel_forward_http_ops = {
	.name = "forward",
	.accepted = tunnel_forward_http_accepted,
	.connected = tunnel_forward_http_connected,
	.release = tunnel_forward_http_release,
	.input = tunnel_l7_input,
	.input_eof = tunnel_l7_input_eof,
	.input_timeout = tunnel_l7_input_timeout,
	.drain = tunnel_l7_drain,
	.upstream_failed = tunnel_l7_upstream_failed,
};

static const struct conn_flow_ops tunnel_gateway_tcp_ops = {
	.name = "gateway",
	.accepted = tunnel_gw_tcp_accepted,
	.connected = tunnel_outbound_connected,
	.handshake_done = tunnel_outbound_handshake_done,
	.release = tunnel_gw_release,
};

/* A TLS port: the ClientHello's server name picks the listener; then
 * the handshake as on an HTTPS port and a TCP port's relay of the
 * plaintext (TERMINATE), or the relay of the TLS bytes (PASSTHROUGH). */
static const struct conn_flow_ops tunnel_gateway_tls_ops = {
	.name = "gateway",
	.accepted = tunnel_gw_tls_accepted,
	.first_byte = tunnel_gw_tls_first_byte,
	.connected = tunnel_outbound_connected,
	.handshake_done = tunnel_gw_tls_handshake_done,
	.release = tunnel_gw_release,
};

static const struct conn_flow_ops tunnel_gateway_ops = {
	.name = "gateway",
	.accepted = tunnel_gw_accepted,
	.first_byte = tunnel_gw_first_byte,
	.connected = tunnel_outbound_connected,
	.handshake_done = tunnel_gw_handshake_done,
	.release = tunnel_gw_release,
	.input = tunnel_l7_input,
	.input_eof = tunnel_l7_input_eof,
	.input_timeout = tunnel_l7_input_timeout,
	.drain = tunnel_l7_drain,
	.upstream_failed = tunnel_l7_upstream_failed,
	.release_up = tunnel_l7_release_up,
};

int tunnel_init(struct tunnel *tu, struct conn_table *t, struct ctx *ctx,
		const struct tunnel_config *cfg)
{
	int id = 0, err;

	tu->conns = t;
	tu->ctx = ctx;
	tu->first_byte_ms = cfg->first_byte_timeout_ms ?
			    cfg->first_byte_timeout_ms :
			    TUNNEL_FIRST_BYTE_MS;
	tu->tcp_idle_ms = cfg->tcp_idle_timeout_ms;
	tu->self_tunnel = cfg->self_tunnel;
	tu->forward_to = cfg->forward_to;
	egress_init(&tu->egress, cfg->config_dir);
	tu->rl = calloc(1, sizeof(*tu->rl));
	tu->budget = malloc(sizeof(*tu->budget));
	tu->breaker = calloc(1, sizeof(*tu->breaker));
	if (!tu->rl || !tu->budget || !tu->breaker)
		return -ENOMEM;
	/* One loop of several: each holds to its share of the node's
	 * limits (loopshare.h). */
	tu->rl->loops = ctx->loops ? ctx->loops->n : 1;
	tu->breaker->loops = tu->rl->loops;
	rbudget_init(tu->budget, cfg->retry_budget_ratio_milli,
		     cfg->retry_budget_min_per_s);
	tu->access_log = cfg->http_access_log;
	hproxy_shared_init(&tu->http, &ctx->stats);
	tu->http.budget = tu->budget;
	err = balance_init(&tu->bal);
	if (!err)
		err = hmirror_init(&tu->mirror, t->loop, tu, &ctx->stats);
	if (err)
		return err;
	t->up_closed = tunnel_up_closed;
	t->up_closed_arg = tu;
	if (cfg->http_header_timeout_ms)
		tu->http.header_timeout_ms = cfg->http_header_timeout_ms;
	if (cfg->http_idle_timeout_ms)
		tu->http.idle_timeout_ms = cfg->http_idle_timeout_ms;
	if (cfg->outbound_port)
		id = conn_listen(t, "outbound", cfg->listen_addr,
				 cfg->outbound_port, &tunnel_outbound_ops, tu);
	if (id >= 0 && cfg->outbound_port) {
		int id6;

		tunnel_outbound_transparent(t->loop->listeners[id].fd, false);
		/* Where the pods' TC program steers an IPv6 connection for
		 * a MeshPassthrough Domain match.  Without it (a node
		 * without IPv6) only those connections fail. */
		id6 = conn_listen6(t, "outbound6", cfg->outbound_port,
				   &tunnel_outbound_ops, tu);
		if (id6 >= 0)
			tunnel_outbound_transparent(
				t->loop->listeners[id6].fd, true);
		else
			log_warn("event=listen6_failed listener=outbound6 "
				 "err=\"%s\" effect=\"MeshPassthrough Domain "
				 "matches are not served over IPv6\"",
				 strerror(-id6));
	}
	if (id >= 0 && cfg->tunnel_port)
		id = conn_listen(t, "tunnel", cfg->listen_addr,
				 cfg->tunnel_port, &tunnel_inbound_ops, tu);
	if (id >= 0 && cfg->forward_to.sin_family == AF_INET)
		id = conn_listen(t, "forward", cfg->listen_addr,
				 cfg->forward_port, cfg->forward_http ?
				 &tunnel_forward_http_ops : &tunnel_forward_ops,
				 tu);
	if (id < 0)
		return id;
	if (cfg->gateway)
		return gateway_init(&tu->gw, t, ctx, cfg->listen_addr,
				    cfg->config_dir, &tunnel_gateway_ops,
				    &tunnel_gateway_tcp_ops,
				    &tunnel_gateway_tls_ops, tu);
	return 0;
}

void tunnel_fini(struct tunnel *tu)
{
	egress_fini(&tu->egress);
	gateway_fini(&tu->gw);
	free(tu->rl);
	tu->rl = NULL;
	free(tu->budget);
	tu->budget = NULL;
	free(tu->breaker);
	tu->breaker = NULL;
	balance_fini(&tu->bal);
}
