/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The admin endpoint's pages that grow with the node, rendered in steps:
 * /metrics (its labelled L7 series: up to L7STATS_SERIES_MAX of them) and
 * /config_dump (the policy snapshot: tens of MB of JSON at 10,000
 * services and 100,000 workloads).
 *
 * The admin endpoint runs on the loop thread, which also relays every
 * connection of the node, so no page is ever rendered whole.  A step
 * (apage_step()) appends @budget bytes, or a little more (it stops after
 * the unit that crosses it: one endpoint, one authorization rule, one
 * policy record, one series), and keeps where it stopped in struct apage
 * (a state and cursors); the endpoint sends that and asks for the next
 * step when it has gone out.  So a step's work and a page's buffer are
 * bounded by @budget and the largest unit, whatever the size of the
 * page, and the loop renders no faster than the client reads.
 *
 * The dump takes a reference to the snapshot in force when it starts and
 * shows that one to its end, whatever reloads happen meanwhile; the
 * reference goes back through reload_release() (the last one, and the
 * free of a large snapshot, happen on the reloader thread).  /metrics
 * reads the live counters as it goes: each sample is read once, and a
 * histogram's buckets, sum and count in one step, so it is as consistent
 * as a scrape of counters that keep moving can be.
 */
#ifndef MF_ADMIN_PAGE_H
#define MF_ADMIN_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "emit.h"
#include "wmstats.h"
#include "meshforge/abi.h"
#include "polkinds.h"

struct appscrape;
struct ctx;
struct loop;
struct policy;
struct wmplan;

/* ---- a growing buffer ---------------------------------------------------- */

/* Appends never fail visibly: an allocation failure sets @oom and later
 * appends are dropped, so a writer checks once at the end.  A zeroed
 * buffer is empty; apage_buf_free() releases its memory. */
struct apage_buf {
	char *p;		/* Owned */
	size_t len;
	size_t cap;
	bool oom;
};

void apage_buf_put(struct apage_buf *b, const char *s, size_t n);
/* One vsnprintf() into the room there is, a second only when the buffer
 * had to grow for it. */
void apage_buf_printf(struct apage_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* emit_write_fn over a struct apage_buf. */
void apage_buf_write(void *arg, const char *s, size_t n);
void apage_buf_free(struct apage_buf *b);

/* ---- pages --------------------------------------------------------------- */

enum apage_kind {
	APAGE_METRICS = 1,	/* Prometheus text format 0.0.4 */
	APAGE_CONFIG_DUMP,	/* the snapshot as JSON */
	APAGE_WORKLOADS,	/* a MeshMetric Prometheus backend's page:
				 * the workload families of the workloads
				 * its plan serves at one port and path
				 * (wmplan.h), text format 0.0.4 */
};

/* Where a page stopped: what its next step writes first. */
enum apage_state {
	APAGE_S_START = 1,	/* nothing written yet */
	APAGE_S_SERVICE,	/* dump: the head of service i */
	APAGE_S_ENDPOINT,	/* dump: endpoint j of service i */
	APAGE_S_RULE,		/* dump: authorization rule j of service i */
	APAGE_S_POLICIES,	/* dump: the next policy record (kinds) */
	APAGE_S_SERIES,		/* metrics: L7 series slot i */
	APAGE_S_DEST,		/* metrics: L7 destination slot i */
	APAGE_S_WORKLOAD,	/* metrics, workloads: family j, workload
				 * series slot i (over the loops) */
	APAGE_S_APPS,		/* workloads: the plan's workload i's
				 * application j (appscrape.h) */
	APAGE_S_DONE,		/* all written */
};

const char *apage_state_str(enum apage_state s);

/* What the pages read.  Borrowed; outlives every page. */
struct apage_env {
	const struct loop *loop;
	struct ctx *ctx;
	int ncpu;		/* possible CPUs (per-CPU map values) */
	struct appscrape *apps;	/* MeshMetric applications' texts; NULL:
				 * none */
};

struct apage {
	enum apage_kind kind;
	enum apage_state state;
	const struct apage_env *env;	/* borrowed */
	struct apage_buf *out;		/* where steps write.  Borrowed */
	struct policy *pol;	/* dump: the snapshot it shows, a
				 * reference.  Owned */
	size_t i, j;		/* cursors, as the state says */
	struct polkinds_cursor kinds;
	struct emit e;		/* dump: writes to @out */
	/* workloads: the plan that picks the series, a reference (Owned),
	 * and the port and path asked. */
	struct wmplan *plan;
	uint32_t families;	/* those a workload served there shows */
	uint16_t port;
	char path[MF_PATH_MAX];
};

/*
 * Starts page @kind in @pg, to be written to @out (which must stay the
 * same buffer for every step).  Returns 0, or -ENOENT for a dump when no
 * snapshot is loaded (nothing to show; @pg then holds nothing).
 */
int apage_open(struct apage *pg, enum apage_kind kind,
	       const struct apage_env *env, struct apage_buf *out);

/*
 * Starts an APAGE_WORKLOADS page in @pg: the series of the workloads
 * @plan serves on @port at @path (@plen bytes), each with the families
 * its MeshMetric shows.  Takes a reference to @plan.  Returns 0, or
 * -ENOENT when no workload of @plan is served there (nothing to show).
 */
int apage_open_workloads(struct apage *pg, const struct apage_env *env,
			 struct apage_buf *out, struct wmplan *plan,
			 uint16_t port, const char *path, size_t plen);

/*
 * Appends the next part of the page to its buffer: @budget bytes, or the
 * unit that crosses that more, or the rest of the page when it is less.
 * Returns 1 when the page is complete (a later call appends nothing), 0
 * when there is more, or -ENOMEM when the buffer could not grow.
 */
int apage_step(struct apage *pg, size_t budget);

/* The series of workload @workload (wmstats.h), each summed over every
 * loop's table as a page shows it, into @out (@max at most).  Returns how
 * many. */
size_t apage_wm_workload(const struct apage_env *env, const char *workload,
			 struct wmstats_series *out, size_t max);

/* Drops what @pg holds (its snapshot reference).  Idempotent. */
void apage_close(struct apage *pg);

#endif /* MF_ADMIN_PAGE_H */
