/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent context: what the modules that decide about connections
 * (tunnel) and report on them (admin) share, and the loop knows nothing
 * of.  Owned by the agent (agent.h), which fills it before the modules
 * start and tears it down after they stopped; the modules borrow it.
 */
#ifndef MF_CTX_H
#define MF_CTX_H

#include "l7stats.h"
#include "meshforge/abi.h"
#include "stats.h"
#include "wmstats.h"

struct telw;
struct certs;
struct frontdoor;
struct sockfast;
struct ctx;
struct loop;
struct pmap;
struct reload;
struct xdp;

/* Loops an agent may run (--threads). */
#define CTX_LOOPS_MAX	64

/*
 * Every loop of a multi-loop agent (workers.h), for what reports on all of
 * them from one (admin): loop i's ring and context.  The counters in them
 * are written by loop i's thread only and read by the reporting one a word
 * at a time (a sum may be a few events behind; never torn on the 64-bit
 * targets the agent runs on).  Owned by the workers.
 */
struct ctx_loops {
	unsigned int n;
	const struct loop *loop[CTX_LOOPS_MAX];
	struct ctx *ctx[CTX_LOOPS_MAX];
};

struct ctx {
	char node[MF_NAME_MAX];		/* this node's name (tunnel identity);
					 * "" when there is none (tests) */
	struct certs *certs;		/* NULL without a tunnel.  Borrowed */
	const struct pmap *pmap;	/* the pinned maps; NULL in tests.
					 * Borrowed */
	struct reload *reload;		/* the policy snapshots
					 * (reload_current()) */
	struct stats stats;		/* the connections' counters */
	struct l7stats l7stats;		/* the L7 engine's labelled ones */
	struct wmstats wmstats;		/* per local workload (MeshMetric) */
	struct xdp *xdp;		/* the uplink's firewall, NULL: none.
					 * Borrowed */
	struct frontdoor *frontdoor;	/* the workload cgroups' connect
					 * rewrite, NULL: none.  Borrowed */
	struct sockfast *sockfast;	/* the same-node fast path, NULL:
					 * off.  Borrowed */
	struct telw *telw;		/* the telemetry writer
					 * (MeshAccessLog, MeshTrace), NULL:
					 * lines and spans are dropped
					 * (counted).  Borrowed */
	/* What --sockmap asked and its self-test said ("on", "pass"...),
	 * for /metrics; NULL: not asked.  Static strings. */
	const char *sockmap_mode;
	const char *sockmap_selftest;
	/* This context's loop among the agent's, and all of them; NULL:
	 * one loop, this one.  Borrowed */
	unsigned int loop_index;
	const struct ctx_loops *loops;
};

#endif /* MF_CTX_H */
