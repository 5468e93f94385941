/* SPDX-License-Identifier: Apache-2.0 */
/*
 * podwatch: the node's pod interfaces, followed over rtnetlink while the
 * agent runs, so a pod that comes or goes needs no restart.
 *
 * A pod interface is one whose name is in the explicit list
 * (--pod-iface) or matches the glob (--pod-iface-pattern, fnmatch(3));
 * lo, any loopback and the uplink never are.  One NETLINK_ROUTE socket,
 * subscribed to RTMGRP_LINK and RTMGRP_IPV4_IFADDR, parsed with libmnl:
 *   - at start, a dump of the links (RTM_GETLINK) finds those already
 *     there;
 *   - a pod interface is attached (ops.attach: the TC programs) once it
 *     is up: at once when it is, else at the RTM_NEWLINK that brings it
 *     up (a CNI that makes a veth under a temporary name and renames it
 *     before it sets it up gets one attach, under the final name);
 *   - RTM_DELLINK (the pod deleted, or its veth moved to another
 *     namespace) forgets it (ops.detach, gone: the kernel took the
 *     filters with it); a rename out of the pods' names detaches it;
 *   - an attach that failed is tried again after 1 s, then 2, 4, ... up
 *     to 32 s, and at once when an address is added to the interface
 *     (RTM_NEWADDR: someone is setting it up now);
 *   - a socket that overflowed (ENOBUFS: events were lost) or a message
 *     cut short gets a fresh dump: interfaces it shows are followed as
 *     for events, attached ones it no longer shows are forgotten (not
 *     after a dump the kernel marked inconsistent, NLM_F_DUMP_INTR: that
 *     one is asked again); a dump whose end does not come within
 *     PODWATCH_DUMP_MS is asked again too.
 * Only the agent's network namespace is seen: a pod's own side of its
 * veth is in the pod's, and none of its events come here.
 *
 * The socket is nonblocking; the loop polls it (one op) and each
 * completion reads at most PODWATCH_BURST datagrams before it polls
 * again, so a burst of events cannot hold the loop.  The first dump is
 * read before podwatch_init() returns, bounded by PODWATCH_START_MS: the
 * agent says it is ready with the pods that were there attached.
 * Errors are logged at most PODWATCH_LOG_BURST lines a second.  One loop
 * runs it: no locks.
 */
#ifndef MF_AGENT_PODWATCH_H
#define MF_AGENT_PODWATCH_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "loop.h"
#include "log.h"
#include "stats.h"

struct mnl_socket;

#define PODWATCH_IFACES_MAX	1024	/* pod interfaces followed at once */
#define PODWATCH_NAMES_MAX	256	/* explicit names */
#define PODWATCH_PATTERN_MAX	64	/* bytes of the glob, NUL included */
#define PODWATCH_BURST		64	/* datagrams read per completion */
#define PODWATCH_BUF		(64 * 1024)	/* one datagram: a dump's are
					 * up to 32 KiB */
#define PODWATCH_START_MS	5000	/* the first dump's bound */
#define PODWATCH_DUMP_MS	5000	/* a later dump's */
#define PODWATCH_RETRY_MS	1000	/* the first retry of an attach */
#define PODWATCH_RETRY_MAX_MS	32000	/* ... doubling up to this */
#define PODWATCH_RCVBUF		(4 << 20)	/* socket receive buffer */
#define PODWATCH_LOG_BURST	10	/* error lines a second */

/* Where a followed interface stands.  Stored in its slot. */
enum podwatch_state {
	PODWATCH_FREE = 0,	/* no interface: a free slot */
	PODWATCH_DOWN,		/* a pod interface that is not up yet */
	PODWATCH_ATTACHED,	/* ops.attach succeeded: programs on it */
	PODWATCH_FAILED,	/* ops.attach failed: tried again at
				 * retry_at */
};

/* "free", "down", ...: for logs. */
const char *podwatch_state_str(enum podwatch_state s);

/* What is done to a pod interface.  Called on the loop's thread. */
struct podwatch_ops {
	/* Attaches to interface @ifindex, named @ifname.  Returns 0 or
	 * -errno. */
	int (*attach)(void *arg, int ifindex, const char *ifname);
	/* Forgets @ifindex, which attach() succeeded on.  @gone: the
	 * interface no longer exists here (deleted, moved away), so
	 * nothing is left on it to take off and its index may be reused;
	 * otherwise (renamed out of the pods' names) detach from it. */
	void (*detach)(void *arg, int ifindex, const char *ifname, bool gone);
	void *arg;
};

struct podwatch_config {
	const char *pattern;		/* fnmatch(3) glob; NULL: none */
	const char *const *names;	/* explicit names, @nnames of them */
	unsigned int nnames;
	const char *uplink;		/* never a pod's; NULL: none */
	struct podwatch_ops ops;
};

/* One pod interface, by index. */
struct podwatch_iface {
	enum podwatch_state state;
	int ifindex;
	char name[IF_NAMESIZE];
	bool seen;			/* in the dump under way */
	unsigned int failures;		/* attaches failed in a row */
	uint64_t retry_at;		/* CLOCK_MONOTONIC ns; FAILED only */
};

struct podwatch {
	struct loop *loop;		/* borrowed */
	struct stats *stats;		/* borrowed: the pod_* counters */
	struct podwatch_ops ops;
	struct mnl_socket *nl;		/* owned */
	int fd;				/* @nl's */
	uint32_t portid;
	uint32_t seq;			/* of the last request sent */
	unsigned int op_poll;		/* its loop operation */
	bool poll_armed;		/* the poll is in flight */
	bool poll_paused;		/* a read failed: the tick polls again */
	bool stopping;			/* the loop is going: no new poll */
	bool starting;			/* inside podwatch_init() */
	int start_err;			/* an explicit name's failed attach
					 * during the first dump */

	bool dumping;			/* a dump of the links is under way */
	uint32_t dump_seq;		/* ... its replies' sequence */
	uint64_t dump_deadline;		/* ... its end due by then
					 * (CLOCK_MONOTONIC ns) */
	bool dump_intr;			/* ... the kernel marked it
					 * inconsistent: no sweep, dump again */
	bool resync;			/* a dump is due (events were lost
					 * while one ran, or its request could
					 * not be sent) */

	char pattern[PODWATCH_PATTERN_MAX];	/* "": none */
	char (*names)[IF_NAMESIZE];	/* owned, @nnames */
	unsigned int nnames;
	char uplink[IF_NAMESIZE];	/* "": none */

	struct podwatch_iface *ifaces;	/* owned, PODWATCH_IFACES_MAX */
	unsigned int attached;		/* of them ATTACHED */
	struct log_limit log;
	uint8_t *buf;			/* owned: one datagram */
};

/*
 * Opens the socket, reads the first dump and attaches the pod interfaces
 * it shows that are up (see above), then registers its op and its loop
 * user on @l and polls.  Names and the pattern are copied; the pod_*
 * counters of @st are kept.  Returns 0, or -errno with everything
 * released: a name or pattern too long (-ENAMETOOLONG), too many names
 * (-E2BIG), no dump within PODWATCH_START_MS (-ETIMEDOUT), or the first
 * failed attach of an explicitly named interface (ops.attach's error: as
 * when the list was attached once at start; one that matched the pattern
 * only is logged and tried again later).
 */
int podwatch_init(struct podwatch *pw, struct loop *l, struct stats *st,
		  const struct podwatch_config *cfg);

/* Whether @name is a pod interface's name (not minding lo's flags). */
bool podwatch_match(const struct podwatch *pw, const char *name);

/* The state of the interface named @name; PODWATCH_FREE when it is not
 * followed. */
enum podwatch_state podwatch_state_of(const struct podwatch *pw,
				      const char *name);

/* How many pod interfaces are attached now. */
static inline unsigned int podwatch_attached(const struct podwatch *pw)
{
	return pw->attached;
}

/* After loop_fini(): closes the socket and frees @pw's memory.  Detaches
 * nothing (what attached decides what stays).  A zeroed @pw is a
 * no-op. */
void podwatch_fini(struct podwatch *pw);

#endif /* MF_AGENT_PODWATCH_H */
