// SPDX-License-Identifier: Apache-2.0
/*
 * The wiring of the agent's modules (agent.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin.h"
#include "agent.h"
#include "certs.h"
#include "kern.h"
#include "xdp.h"
#include "reload.h"

/* Each second: the pins made again under us (pinwatch.h), then the XDP
 * firewall follows the policy of the maps in force (xdp.h). */
static void agent_maps_tick(void *arg)
{
	struct agent *a = arg;

	/* A draining agent's programs are its successor's business; the
	 * pins are the node's, watched by loop 0 for every loop (the
	 * reloader they share switches for all).  So is the uplink: a
	 * draining agent that attached its firewall there would take the
	 * successor's place. */
	if (a->draining)
		return;
	if (a->ctx.loop_index == 0)
		pinwatch_tick(&a->pinwatch);
	if (a->ctx.xdp && a->ctx.pmap)
		xdp_tick(a->ctx.xdp, a->ctx.pmap);
}

static void agent_nothing_abort(void *arg)
{
	(void)arg;
}

static bool agent_nothing_busy(void *arg)
{
	(void)arg;
	return false;
}

void agent_reload_certs(struct agent *a)
{
	struct policy *p = reload_current(a->ctx.reload);

	if (a->ctx.certs)
		certs_reload(a->ctx.certs, p);
	admin_reload_tls(a->admin);
}

/* The config dir changed (a certificate issued, a CA rolled): read again
 * within a second.  And once a minute, whether a certificate in use nears
 * its end. */
static void agent_certs_tick(void *arg)
{
	struct agent *a = arg;

	if (certs_changed(a->ctx.certs))
		agent_reload_certs(a);
	if (a->certs_ticks++ % 60 == 0)
		certs_check_expiry(a->ctx.certs, (int64_t)time(NULL));
}

/* A pod interface came (podwatch.h): the TC programs on it. */
static int agent_pod_attach(void *arg, int ifindex, const char *ifname)
{
	return kern_attach_ifindex(arg, ifindex, ifname);
}

/* ... or went. */
static void agent_pod_detach(void *arg, int ifindex, const char *ifname,
			     bool gone)
{
	(void)ifname;
	kern_detach_pod(arg, ifindex, gone);
}

/* The connections of every loop (loop 0's drain ends them all), read
 * from their threads' counters as admin does: they only go down once the
 * hand-over's release is over. */
static uint32_t agent_conns_all(const struct agent *a)
{
	const struct ctx_loops *ls = a->ctx.loops;
	uint32_t n = 0;

	if (a->ctx.loop_index || !ls)
		return a->ctx.stats.conns;
	for (unsigned int i = 0; i < ls->n; i++)
		n += __atomic_load_n(&ls->ctx[i]->stats.conns,
				     __ATOMIC_RELAXED);
	return n;
}

/* Draining: done once no connection is left and none can come (no
 * accept of a released listener, of any loop for loop 0, may complete),
 * or at the deadline, when the loop stops and agent_fini() ends what is
 * left. */
static void agent_drain_check(struct timer *t, uint64_t now)
{
	struct agent *a = (struct agent *)((char *)t -
					   offsetof(struct agent, drain_timer));
	uint32_t conns = agent_conns_all(a);

	if ((conns || loop_releasing(&a->loop) ||
	     handover_releasing(&a->hsrv)) && now < a->drain_deadline) {
		loop_timer_arm(&a->loop, t,
			       now + AGENT_DRAIN_CHECK_MS * 1000000ull);
		return;
	}
	log_info("event=drained loop=%u conns_left=%u deadline_reached=%s",
		 a->ctx.loop_index, conns, conns ? "yes" : "no");
	loop_stop(&a->loop);
}

/* The pods' filters are the successor's own now (loop 0's business),
 * kept-alive HTTP/1.1 connections end now when they are between requests
 * and after their response otherwise, and the connections left are given
 * until the drain deadline. */
void agent_drain(struct agent *a)
{
	uint64_t now = timer_now();

	a->draining = true;
	kern_keep(a->kern);	/* loop 0's: the others have none */
	a->tunnel.http.draining = true;
	a->drain_deadline = now + (uint64_t)a->drain_timeout_ms * 1000000ull;
	log_info("event=draining loop=%u conns=%u timeout_ms=%u",
		 a->ctx.loop_index, a->ctx.stats.conns, a->drain_timeout_ms);
	/* Kept-alive HTTP connections between requests end now: they would
	 * otherwise hold the drain until their client sends again. */
	conn_table_drain(&a->conns);
	timer_init(&a->drain_timer, agent_drain_check);
	agent_drain_check(&a->drain_timer, now);
}

/* loop_on_adopt()'s function: this loop's share of the sockets handed
 * over. */
static int agent_adopt(void *arg, const char *name, uint32_t addr,
		       uint16_t port)
{
	struct agent *a = arg;

	return handover_adopt_loop(a->hin, a->ctx.loop_index,
				   a->ctx.loops ? a->ctx.loops->n : 1, name,
				   addr, port);
}

int agent_init(struct agent *a, const struct agent_config *cfg)
{
	const struct loop_config lc = {
		.handle_signals = cfg->handle_signals,
		.reuseport = cfg->reuseport,
		.nbufs = cfg->nbufs,
		.buf_size = cfg->buf_size,
	};
	const struct conn_table_config tc = {
		.max_conns = cfg->max_conns,
		.setup_timeout_ms = cfg->setup_timeout_ms,
		.max_conns_per_flow = cfg->max_conns_per_listener,
		.max_conns_per_source = cfg->max_conns_per_source,
		.max_handshakes = cfg->max_handshakes,
	};
	const struct tunnel_config tuc = {
		.listen_addr = cfg->listen_addr,
		.outbound_port = cfg->outbound_port,
		.tunnel_port = cfg->tunnel_port,
		.forward_port = cfg->forward_port,
		.forward_to = cfg->forward_to,
		.forward_http = cfg->forward_http,
		.http_header_timeout_ms = cfg->http_header_timeout_ms,
		.http_idle_timeout_ms = cfg->http_idle_timeout_ms,
		.http_access_log = cfg->http_access_log,
		.retry_budget_ratio_milli = cfg->retry_budget_ratio_milli ||
					    cfg->retry_budget_min_per_s ?
					    cfg->retry_budget_ratio_milli :
					    RBUDGET_DEFAULT_RATIO_MILLI,
		.retry_budget_min_per_s = cfg->retry_budget_ratio_milli ||
					  cfg->retry_budget_min_per_s ?
					  cfg->retry_budget_min_per_s :
					  RBUDGET_DEFAULT_MIN_PER_S,
		.gateway = cfg->gateway,
		.config_dir = cfg->config_dir,
		.first_byte_timeout_ms = cfg->first_byte_timeout_ms,
		.tcp_idle_timeout_ms = cfg->tcp_idle_timeout_ms,
		.self_tunnel = cfg->self_tunnel,
	};
	int err;

	memset(a, 0, sizeof(*a));
	if ((cfg->outbound_port || cfg->tunnel_port) &&
	    ((!cfg->pmap && !cfg->policy) || !cfg->certs || !cfg->node))
		return -EINVAL;
	if (cfg->node)
		snprintf(a->ctx.node, sizeof(a->ctx.node), "%s", cfg->node);
	a->ctx.certs = cfg->certs;
	a->ctx.pmap = cfg->pmap;
	a->kern = cfg->kern;
	a->hin = cfg->handover_in;
	a->hsrv.conn = -1;
	a->hsrv.lfd = -1;
	a->drain_timeout_ms = cfg->drain_timeout_ms ? cfg->drain_timeout_ms :
						      AGENT_DRAIN_TIMEOUT_MS;
	a->ctx.xdp = cfg->xdp;
	a->ctx.frontdoor = cfg->frontdoor;
	a->ctx.sockfast = cfg->sockfast;
	a->ctx.telw = cfg->telw;
	a->ctx.sockmap_mode = cfg->sockmap_mode;
	a->ctx.sockmap_selftest = cfg->sockmap_selftest;
	a->ctx.loop_index = cfg->loop_index;
	a->ctx.loops = cfg->loops;
	if (cfg->reload) {
		a->ctx.reload = cfg->reload;
		a->reload_borrowed = true;
	} else {
		err = reload_open(&a->ctx.reload, cfg->pmap, cfg->policy);
		if (err)
			return err;
	}
	err = loop_init(&a->loop, &lc);
	if (err)
		goto fail;
	a->loop_up = true;
	if (a->hin)
		loop_on_adopt(&a->loop, agent_adopt, a);
	err = conn_table_init(&a->conns, &a->loop, &a->ctx.stats, &tc);
	if (err)
		goto fail;
	pinwatch_init(&a->pinwatch, &a->ctx, cfg->kern);
	if (cfg->xdp || (cfg->pmap && cfg->loop_index == 0)) {
		const struct loop_user u = {
			.arg = a,
			.abort_all = agent_nothing_abort,
			.busy = agent_nothing_busy,
			.tick = agent_maps_tick,
		};

		agent_maps_tick(a);	/* the lists before the first packet */
		err = loop_user_add(&a->loop, &u);
		if (err)
			goto fail;
	}
	if (cfg->watch_certs && cfg->certs) {
		const struct loop_user u = {
			.arg = a,
			.abort_all = agent_nothing_abort,
			.busy = agent_nothing_busy,
			.tick = agent_certs_tick,
		};

		err = certs_watch(cfg->certs);
		if (err)
			log_warn("event=certs_watch_failed err=\"%s\" "
				 "effect=\"certificates are read again on "
				 "SIGHUP only\"", strerror(-err));
		err = loop_user_add(&a->loop, &u);
		if (err)
			goto fail;
	}
	if (cfg->kern) {
		const struct podwatch_config pc = {
			.pattern = cfg->pod_pattern,
			.names = cfg->pod_ifaces,
			.nnames = cfg->n_pod_ifaces,
			.uplink = cfg->uplink,
			.ops = {
				.attach = agent_pod_attach,
				.detach = agent_pod_detach,
				.arg = cfg->kern,
			},
		};

		err = podwatch_init(&a->podwatch, &a->loop, &a->ctx.stats, &pc);
		if (err)
			goto fail;
		a->podwatch_up = true;
	}
	/* The listeners last: a connection may come as soon as one is up. */
	err = tunnel_init(&a->tunnel, &a->conns, &a->ctx, &tuc);
	if (err)
		goto fail;
	/* The stack's listener lookups for a VIP find the outbound listener
	 * (loop 0's, the one that has the kernel programs). */
	if (cfg->kern && cfg->outbound_port) {
		int fd = loop_listener_fd(&a->loop, "outbound");

		if (fd >= 0)
			(void)kern_steer_listener(cfg->kern, fd);
	}
	/* Health checks probe what the outbound flow calls, as it does. */
	if (cfg->outbound_port) {
		a->health_up = true;
		err = health_init(&a->health, &a->loop, &a->tunnel, &a->ctx);
		if (err)
			goto fail;
	}
	if (cfg->admin_on) {
		err = admin_open(&a->admin, &a->loop, &a->ctx, cfg->admin_port,
				 cfg->admin_timeout_ms, cfg->metrics_addr,
				 cfg->metrics_tls);
		if (err)
			goto fail;
	}
	loop_on_adopt(&a->loop, NULL, NULL);
	return 0;

fail:
	agent_fini(a);
	return err;
}

void agent_fini(struct agent *a)
{
	if (a->loop_up) {
		loop_timer_cancel(&a->loop, &a->drain_timer);
		loop_fini(&a->loop);
		/* The ring is gone: no poll of the path is in flight. */
		handover_srv_close(&a->hsrv);
	}
	if (a->health_up)
		health_fini(&a->health);
	if (a->podwatch_up)
		podwatch_fini(&a->podwatch);
	tunnel_fini(&a->tunnel);
	admin_close(a->admin);
	conn_table_fini(&a->conns);
	/* Last: every connection has dropped its snapshot by now.  A
	 * shared reloader is closed by its owner once every loop is done. */
	if (!a->reload_borrowed)
		reload_close(a->ctx.reload);
	/* After the reloader: it may read the maps pinwatch opened (a
	 * shared one's owner took them first: agent_take_pinwatch()). */
	pinwatch_fini(&a->pinwatch);
	l7stats_free(&a->ctx.l7stats);
	wmstats_free(&a->ctx.wmstats);
	memset(a, 0, sizeof(*a));
}

void agent_take_pinwatch(struct agent *a, struct pinwatch *out)
{
	*out = a->pinwatch;
	memset(&a->pinwatch, 0, sizeof(a->pinwatch));
}
