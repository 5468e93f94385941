/* SPDX-License-Identifier: Apache-2.0 */
/*
 * health: the active health checks of MeshHealthCheck, run by the agent of
 * the node that calls a service, towards that service's endpoints.
 *
 * What is checked: for each workload of this node (the source: Kuma's
 * proxy) and each service, the MeshHealthCheck `to` conf that applies
 * (resil_health()).  Sources with the same conf and identity towards a
 * service share one check (they are authorized alike); a check (service,
 * conf, identity) has one target per endpoint of the service.  The set is
 * worked out again when the policy snapshot changes; a target that stays
 * keeps its state.
 *
 * How: each probe is a connection of its own (tunnel_probe()), made from
 * a socketpair whose other end the checker holds, over the mesh tunnel
 * with the source's identity: it goes where a client's connection goes
 * and is authorized as one.  The endpoint's agent sends PP2_ACK once the
 * endpoint took the connection, then relays.  The probe is:
 *   - HTTP, for a service of protocol http unless http.disabled: GET of
 *     http.path ("/") with Host the service's name, user-agent
 *     meshforge-health-check and http.requestHeadersToAdd (set ones
 *     replace those two); healthy when the status is one of
 *     expectedStatuses (200 when none is listed);
 *   - TCP otherwise (unless tcp.disabled): tcp.send, decoded, is sent;
 *     healthy once every tcp.receive block was found, in order, not
 *     necessarily contiguous (Envoy's fuzzy match), or at the ack when
 *     there is none ("connect only").  A check that has only grpc is a
 *     connect-only TCP check (no HTTP/2 here).
 * A probe with no verdict within `timeout` fails, and so does one whose
 * connection ends first.
 *
 * Verdicts: unhealthyThreshold failures in a row make a healthy endpoint
 * unhealthy, healthyThreshold successes in a row make an unhealthy one
 * healthy; a new endpoint is healthy until checked (Envoy's way when
 * endpoints come and go).  An unhealthy endpoint counts in its host's
 * hc_down (hosts.h), which the balancer reads for the picks of every
 * connection a MeshHealthCheck applies to, on the L4 and the L7 path.
 *
 * When: a target's first probe within initialJitter (100 ms when none),
 * then, from each verdict, interval plus up to intervalJitter plus up to
 * intervalJitterPercent of interval, drawn at random.
 *
 * Not applied: reuseConnection (each probe is a connection of its own,
 * which tests the connect path too), noTrafficInterval (checks run every
 * interval, traffic or not) and eventLogPath (the events go to the
 * agent's log: alwaysLogHealthCheckFailures logs every failure there, not
 * only a run's first).
 *
 * Kuma's defaults: interval 1m, timeout 15s, unhealthyThreshold 5,
 * healthyThreshold 1.  One loop runs the checks: no locks.
 */
#ifndef MF_AGENT_HEALTH_H
#define MF_AGENT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"
#include "http1.h"
#include "lb.h"
#include "loop.h"
#include "meshforge/abi.h"
#include "timer.h"

struct tunnel;
struct policy;

#define HEALTH_TARGETS_MAX	4096	/* endpoints checked, all checks */
#define HEALTH_CHECKS_MAX	256	/* (service, conf) pairs */
#define HEALTH_BUF		4096	/* a probe's receive buffer */
#define HEALTH_BLOCK_MAX	192	/* a decoded tcp.receive block */
#define HEALTH_FIRST_MS		100	/* the first probe's spread */
#define HEALTH_INDEX_SLOTS	(2 * HEALTH_TARGETS_MAX)	/* a power of
					 * two: the index stays half full */

#define HEALTH_DEFAULT_INTERVAL_MS	60000
#define HEALTH_DEFAULT_TIMEOUT_MS	15000
#define HEALTH_DEFAULT_UNHEALTHY	5
#define HEALTH_DEFAULT_HEALTHY		1

/* A run of verdicts: the thresholds at work (health_verdict()). */
struct health_run {
	bool down;			/* unhealthy now */
	uint32_t oks, fails;		/* consecutive */
};

/* One probe's result into @r under thresholds @unhealthy and @healthy:
 * +1 when it made the endpoint healthy, -1 unhealthy, 0 no change. */
int health_verdict(struct health_run *r, bool ok, uint32_t unhealthy,
		   uint32_t healthy);

/* The fuzzy match of a TCP check's answer: each block found in order.
 * Bytes come in pieces of any size; the matcher keeps what a block that
 * straddles two pieces needs. */
struct health_match {
	uint8_t nblocks;
	uint8_t found;			/* blocks found so far */
	uint8_t block[2][HEALTH_BLOCK_MAX];
	uint16_t len[2];
	uint8_t carry[HEALTH_BLOCK_MAX];	/* the tail of what came */
	uint16_t ncarry;
};

/* Feeds @n bytes at @p; true once every block was found. */
bool health_match_feed(struct health_match *m, const uint8_t *p, size_t n);

/* One (service, conf) check, as this node runs it. */
struct health_check {
	uint64_t key;			/* of the service, conf and identity */
	uint32_t src_ip;		/* the workload it speaks for */
	bool http;			/* an HTTP check, else TCP */
	uint32_t interval_ms, timeout_ms;
	uint32_t unhealthy, healthy;	/* thresholds */
	uint32_t initial_jitter_ms, interval_jitter_ms, jitter_pct;
	bool always_log;
	uint8_t nstatuses;
	uint16_t statuses[MF_STATUSES_MAX];
	char *send;			/* the HTTP request or the TCP
					 * payload.  Owned */
	size_t send_len;
	struct health_match match;	/* TCP: the receive blocks, as a
					 * template */
	char service[MF_NAME_MAX];
	char policy[MF_NAME_MAX];
};

/* The probe in flight of a target. */
struct health_probe {
	int fd;				/* the checker's end of the pair */
	bool recv_busy;
	bool over;			/* its verdict is in: it waits only
					 * for its recv to complete */
	bool acked;			/* PP2_ACK came */
	bool parsing;			/* HTTP: @parser is set up */
	int status;			/* HTTP: the response's */
	struct http1 parser;
	struct health_match match;
	uint8_t buf[HEALTH_BUF];
};

/* One endpoint under one check. */
struct health_target {
	bool used;
	bool gone;			/* removed; the slot is freed once its
					 * probe's recv completes */
	bool keep;			/* a sync's mark */
	uint32_t gen;			/* in its recvs' user_data */
	uint32_t check;			/* index in health.checks */
	uint64_t check_key;
	uint64_t hkey;			/* hosts_key() of the endpoint */
	uint32_t ip;			/* network order */
	uint16_t port;
	char name[MF_NAME_MAX];		/* the endpoint's, for logs */
	struct health_run run;
	struct timer timer;		/* the next probe, or its deadline */
	struct health_probe *probe;	/* NULL: none in flight.  Owned */
	struct health *h;
};

struct health {
	struct loop *loop;		/* borrowed */
	struct tunnel *tunnel;		/* borrowed */
	struct ctx *ctx;		/* borrowed */
	unsigned int op_recv;		/* its loop operation */
	uint64_t epoch;			/* of the snapshot last synced, 0:
					 * none */
	struct health_check *checks;	/* HEALTH_CHECKS_MAX.  Owned */
	unsigned int nchecks;
	struct health_target *targets;	/* HEALTH_TARGETS_MAX.  Owned */
	/* During health_sync(): the live targets by (check key, endpoint),
	 * as target index + 1 (0: empty), so that finding an endpoint's
	 * target costs O(1), not a walk of every slot; and where the walk
	 * for a free slot goes on from. */
	uint16_t index[HEALTH_INDEX_SLOTS];
	unsigned int free_from;
	struct lb_rng rng;
	bool full_warned;
};

/* Sets @h up on loop @l, probing through @tu: its op and its loop user,
 * whose tick follows the policy snapshots.  Returns 0 or -errno. */
int health_init(struct health *h, struct loop *l, struct tunnel *tu,
		struct ctx *ctx);

/* Follows @p now: the checks it asks for start, those it no longer does
 * stop.  The tick calls it when the snapshot changed. */
void health_sync(struct health *h, struct policy *p);

/* After loop_fini(): frees what is left. */
void health_fini(struct health *h);

#endif /* MF_AGENT_HEALTH_H */
