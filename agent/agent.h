/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's modules wired together, as meshforge-agent runs them and the
 * loop tests do: the context (ctx.h: node, certificates, the policy
 * reloader, the counters), the event loop, the connection table, the
 * tunnel's flows and the admin endpoint.
 *
 * Only agent.c knows every module.  The others depend one way:
 * loop <- conn <- tunnel <- health, loop <- admin, loop <- podwatch, with
 * ctx.h, stats.h and reload.h as leaves they share.
 */
#ifndef MF_AGENT_H
#define MF_AGENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "handover.h"
#include "ctx.h"
#include "health.h"
#include "loop.h"
#include "pinwatch.h"
#include "podwatch.h"
#include "tunnel.h"

struct admin;
struct certs;
struct kern;
struct tlsfile;
struct pmap;
struct policy;

/* What the agent is asked to do.  Zero ports mean "no such listener". */
struct agent_config {
	const char *node;		/* this node's name (tunnel identity) */
	/* The outbound and tunnel listeners need a node name, certificates,
	 * and policy: the pinned maps, followed by epoch, or else a fixed
	 * snapshot (tests; the agent takes its own reference). */
	const struct pmap *pmap;
	struct policy *policy;
	struct certs *certs;
	uint32_t listen_addr;		/* network order; INADDR_ANY normally */
	uint16_t outbound_port;
	uint16_t tunnel_port;
	/* The forward listener is on when forward_to.sin_family is AF_INET;
	 * forward_port 0 then picks an ephemeral port. */
	uint16_t forward_port;
	struct sockaddr_in forward_to;
	bool forward_http;		/* the forward listener proxies HTTP/1.1
					 * (hproxy) rather than bytes */
	uint32_t http_header_timeout_ms;	/* 0: HPROXY_HEADER_TIMEOUT_MS */
	uint32_t http_idle_timeout_ms;		/* 0: HPROXY_IDLE_TIMEOUT_MS */
	bool http_access_log;		/* a JSON line per request (accesslog.h) */
	/* The retry budget (rbudget.h); both 0: the defaults. */
	uint32_t retry_budget_ratio_milli;
	uint32_t retry_budget_min_per_s;
	/* The builtin gateways of this node listen (gateway.h); their
	 * secrets are read under config_dir/secrets (NULL: none). */
	bool gateway;
	const char *config_dir;
	/* The XDP firewall on the uplink (xdp.h), kept each second from
	 * @pmap; NULL: none.  Borrowed. */
	struct xdp *xdp;
	/* The bare-metal front door (frontdoor.h): connections it sent
	 * to the outbound listener; NULL: none.  Borrowed. */
	struct frontdoor *frontdoor;
	/* The same-node fast path (sockfast.h), whose verdicts the
	 * outbound flow gives; NULL: off.  Borrowed. */
	struct sockfast *sockfast;
	/* The telemetry writer (telw.h); NULL: none, MeshAccessLog's
	 * lines and MeshTrace's spans are dropped.  Borrowed. */
	struct telw *telw;
	const char *sockmap_mode;	/* see struct ctx */
	const char *sockmap_selftest;
	bool handle_signals;		/* SIGINT/SIGTERM stop the loop */
	uint32_t max_conns;		/* 0: default */
	uint32_t nbufs;			/* recv buffers, power of 2; 0: default */
	uint32_t buf_size;		/* bytes each; 0: default */
	uint32_t setup_timeout_ms;	/* connect + handshake + header; 0: default */
	uint32_t max_conns_per_listener;	/* 0: half of max_conns */
	uint32_t max_conns_per_source;	/* 0: half of the listener's */
	uint32_t max_handshakes;	/* 0: CONN_DEFAULT_MAX_HANDSHAKES */
	uint32_t first_byte_timeout_ms;	/* 0: TUNNEL_FIRST_BYTE_MS */
	uint32_t tcp_idle_timeout_ms;	/* 0: TUNNEL_TCP_IDLE_MS, UINT32_MAX:
					 * none */
	bool self_tunnel;		/* tests of the tunnel path: this
					 * node's endpoints are dialled
					 * through a tunnel to itself too */
	/* The admin endpoint (admin.h) listens on 127.0.0.1:admin_port
	 * when admin_on (admin_port 0 then picks an ephemeral port). */
	bool admin_on;
	uint16_t admin_port;
	/* The request's deadline, and a page's between sends that take
	 * bytes (admin.h); 0: default. */
	uint32_t admin_timeout_ms;
	/* Where the admin endpoint listens for MeshMetric's Prometheus
	 * backends (admin.h), network order. */
	uint32_t metrics_addr;
	/* ProvidedTLS MeshMetric ports' certificate (tlsfile.h), NULL:
	 * none.  Borrowed: it must outlive the agent. */
	struct tlsfile *metrics_tls;
	bool watch_certs;		/* a change in the config dir reloads
					 * the certificates (certs_watch()) */
	/* The pod interfaces (podwatch.h): those named in @pod_ifaces and
	 * those matching @pod_pattern (NULL: none), never @uplink, get
	 * the TC programs of @kern as they come and lose them as they go.
	 * NULL @kern: none are.  All borrowed. */
	struct kern *kern;
	const char *pod_pattern;
	const char *const *pod_ifaces;
	unsigned int n_pod_ifaces;
	const char *uplink;
	/* The listeners are taken from the agent serving this path, and
	 * handed to the next one (handover.h), by workers_init() (for every
	 * loop); NULL: neither.  Once handed over, connections drain for at
	 * most @drain_timeout_ms (0: AGENT_DRAIN_TIMEOUT_MS) before the loop
	 * stops. */
	const char *handover_path;
	/* The sockets handed over, which loop_listen() adopts (this loop's
	 * share: handover_adopt_loop()), and holds until workers_init()
	 * starts the loop's accepts.  NULL: none.  Borrowed. */
	struct handover_in *handover_in;
	uint32_t drain_timeout_ms;
	/* One loop of several (workers.h): @reload is this loop's end of
	 * the shared reloader (borrowed; NULL: the agent opens its own),
	 * @reuseport puts its listeners in SO_REUSEPORT groups with the
	 * other loops', and @loops lists them all for admin.  Loop 0 does
	 * the node's one-off work, pinwatch among it. */
	struct reload *reload;
	bool reuseport;
	unsigned int loop_index;
	const struct ctx_loops *loops;
};

#define AGENT_DRAIN_TIMEOUT_MS	30000
/* How often a draining agent looks whether its connections are done. */
#define AGENT_DRAIN_CHECK_MS	100

struct agent {
	struct ctx ctx;
	struct loop loop;
	struct conn_table conns;
	struct tunnel tunnel;
	struct health health;		/* MeshHealthCheck's probes, with the
					 * outbound listener */
	bool health_up;
	unsigned int certs_ticks;	/* the certificates' tick, counted */
	struct admin *admin;		/* NULL when off.  Owned */
	bool loop_up;
	struct podwatch podwatch;	/* the pod interfaces, with a kern */
	bool podwatch_up;
	/* The pins made again, with maps: loop 0's.  With a borrowed
	 * reloader the maps outlive agent_fini(): agent_take_pinwatch(). */
	struct pinwatch pinwatch;
	struct kern *kern;		/* NULL: none.  Borrowed */
	/* The listeners handed over (cfg's), and (loop 0) served to a
	 * successor for every loop (handover.h, by workers_init()); then
	 * the drain. */
	struct handover_in *hin;
	struct handover_srv hsrv;
	bool draining;
	uint32_t drain_timeout_ms;
	uint64_t drain_deadline;	/* CLOCK_MONOTONIC ns */
	struct timer drain_timer;
	bool reload_borrowed;		/* ctx.reload is the workers' */
};

/*
 * Loads the first policy snapshot and starts the reloader, sets up the
 * loop and registers every module per @cfg (copied; cfg->pmap and
 * cfg->certs stay the caller's and must outlive the agent).  Run it with
 * loop_run(&a->loop).  Returns 0, or -errno with everything released.
 */
int agent_init(struct agent *a, const struct agent_config *cfg);

/* A successor has the listeners (handover.h), which this loop has
 * released: its connections drain (see agent_config.handover_path), and
 * the loop stops once none is left, every loop's with loop 0's (and
 * once the hand-over's release is over), or at the deadline.  On the
 * loop's thread. */
void agent_drain(struct agent *a);

/* Reads the certificates and the CA again for new handshakes
 * (certs_reload()); SIGHUP and a change in the config dir call it. */
void agent_reload_certs(struct agent *a);

/* Ends every connection, stops the loop and the reloader, frees
 * everything, in the order the kernel needs: the modules' memory only
 * once the ring is gone. */
void agent_fini(struct agent *a);

/* With a borrowed reloader (workers.h), which reads the maps pinwatch
 * opened until its owner closes it: moves the pinwatch into @out, for
 * pinwatch_fini() after reload_close().  Before agent_fini(). */
void agent_take_pinwatch(struct agent *a, struct pinwatch *out);

#endif /* MF_AGENT_H */
