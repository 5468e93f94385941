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

struct certs;
struct frontdoor;
struct sockfast;
struct pmap;
struct reload;
struct xdp;

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
	struct xdp *xdp;		/* the uplink's firewall, NULL: none.
					 * Borrowed */
	struct frontdoor *frontdoor;	/* the workload cgroups' connect
					 * rewrite, NULL: none.  Borrowed */
	struct sockfast *sockfast;	/* the same-node fast path, NULL:
					 * off.  Borrowed */
	/* What --sockmap asked and its self-test said ("on", "pass"...),
	 * for /metrics; NULL: not asked.  Static strings. */
	const char *sockmap_mode;
	const char *sockmap_selftest;
};

#endif /* MF_CTX_H */
