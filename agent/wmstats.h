/* SPDX-License-Identifier: Apache-2.0 */
/*
 * wmstats: the per-workload counters of a loop, what MeshMetric exposes
 * (docs/policy.md, "Metrics (MeshMetric)") and admin's /metrics shows
 * whole.
 *
 * A series is one local workload (a pod of this node, by its Workload or
 * Dataplane name), one direction (outbound: the workload as the client;
 * inbound: as the destination) and one peer service (the destination's,
 * outbound; the source's, inbound).  A connection finds its series once,
 * when its source and destination are known (wmstats_series(): a hash of
 * its labels, O(1)), and keeps the pointer: a request then costs one
 * array index into it (wmstats_request()), with no atomic and no lock,
 * since each loop counts into its own table and only that loop's thread
 * writes it.  The page that shows them (admin_page.c) sums a series over
 * every loop's table, reading each counter once, a word at a time.
 *
 * Labels come from the policy snapshot (workload, service and mesh
 * names), so they are bounded by it; the table still has a fixed room
 * (WMSTATS_SERIES_MAX), and a connection that finds no slot is counted in
 * @dropped, uncounted otherwise, rather than growing memory without bound.
 */
#ifndef MF_AGENT_WMSTATS_H
#define MF_AGENT_WMSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "l7stats.h"
#include "meshforge/abi.h"

#define WMSTATS_SERIES_MAX	1024

enum wmstats_dir {
	WMSTATS_OUTBOUND = 0,
	WMSTATS_INBOUND,
};

/* "outbound" or "inbound": the direction label. */
const char *wmstats_dir_str(enum wmstats_dir d);

/* The families, in the order a page shows them.  A MeshMetric's
 * profiles, include and exclude pick among them by name (wmplan.h). */
enum wmstats_family {
	WMF_REQUESTS = 0,	/* meshforge_workload_requests_total */
	WMF_RESPONSES,		/* ..._responses_total{class} */
	WMF_DURATION,		/* ..._request_duration_seconds (histogram) */
	WMF_CONNECTIONS,	/* ..._connections_total */
	WMF_SENT,		/* ..._sent_bytes_total */
	WMF_RECEIVED,		/* ..._received_bytes_total */
	WMF_TCP_CONNECTIONS,	/* ..._tcp_connections_total */
	WMF_TCP_SENT,		/* ..._tcp_sent_bytes_total */
	WMF_TCP_RECEIVED,	/* ..._tcp_received_bytes_total */
	WMF_COUNT,
};

/* Family @f's name (as `# TYPE` gives it), type and help. */
const char *wmstats_family_name(enum wmstats_family f);
const char *wmstats_family_type(enum wmstats_family f);
const char *wmstats_family_help(enum wmstats_family f);

struct wmstats_series {
	/* Its labels; workload "": an unused slot. */
	char mesh[MF_NAME_MAX];
	char workload[MF_NAME_MAX];
	char service[MF_NAME_MAX];	/* kuma_io_service */
	char peer[MF_NAME_MAX];		/* destination_service (outbound),
					 * source_service (inbound) */
	uint8_t dir;			/* enum wmstats_dir */
	/* Counts.  Bytes as the workload sees them: sent by it, received
	 * by it. */
	uint64_t conns, tcp_conns;
	uint64_t sent, received, tcp_sent, tcp_received;
	uint64_t requests;
	uint64_t by_class[6];		/* 1xx..5xx by first digit, 0: other */
	uint64_t buckets[L7STATS_BUCKETS];	/* not cumulative */
	uint64_t dcount;
	double dsum;			/* seconds */
};

struct wmstats {
	struct wmstats_series *series;	/* WMSTATS_SERIES_MAX slots, calloc'ed
					 * at the first connection.  Owned */
	size_t nseries;			/* slots in use */
	uint64_t dropped;		/* connections that found no slot */
};

/*
 * The series of workload @workload (of service @service in mesh @mesh),
 * direction @dir, peer service @peer (NULL or "": "-"), made when it is
 * new; NULL (counted in s->dropped) when the table is full or a label too
 * long.  The pointer stays valid until wmstats_free().
 */
struct wmstats_series *wmstats_series(struct wmstats *s, const char *mesh,
				      const char *workload,
				      const char *service,
				      enum wmstats_dir dir, const char *peer);

/* The same series in @s as @x (of another loop's table), NULL: none.
 * Reads @s as another thread fills it: slots are published whole. */
const struct wmstats_series *wmstats_find(const struct wmstats *s,
					  const struct wmstats_series *x);

/* A connection of series @x opened; @tcp: an L4 one (its service is not
 * HTTP). */
static inline void wmstats_conn(struct wmstats_series *x, bool tcp)
{
	x->conns++;
	if (tcp)
		x->tcp_conns++;
}

/* Bytes of a connection of @x: @sent by the workload, @received by it. */
static inline void wmstats_bytes(struct wmstats_series *x, bool tcp,
				 uint64_t sent, uint64_t received)
{
	x->sent += sent;
	x->received += received;
	if (tcp) {
		x->tcp_sent += sent;
		x->tcp_received += received;
	}
}

/* One request of @x answered @status after @seconds. */
void wmstats_request(struct wmstats_series *x, int status, double seconds);

/* The `class` label of by_class[c]: "other", "1xx" .. "5xx". */
extern const char *const wmstats_classes[6];

/* The one counter of family @f of @x; 0 for the families of several
 * values (WMF_RESPONSES, by class; WMF_DURATION, a histogram). */
uint64_t wmstats_value(const struct wmstats_series *x, enum wmstats_family f);

/* Whether family @f of @x was ever updated (includeUnused: false hides
 * the others). */
bool wmstats_used(const struct wmstats_series *x, enum wmstats_family f);

void wmstats_free(struct wmstats *s);

#endif /* MF_AGENT_WMSTATS_H */
