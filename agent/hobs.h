/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hobs: an HTTP/1.1 observer.  It watches both directions of a connection
 * that another agent's L7 engine speaks over the tunnel, on its way from
 * this node's inbound half to a pod, and counts each exchange it sees in
 * the destination workload's MeshMetric series (wmstats.h): the request,
 * its final status and its duration.
 *
 * Why: the source agent plays both of Kuma's proxies for a request (it
 * routes, retries and counts it), so the destination's agent relays the
 * tunnel as bytes.  A MeshMetric of the destination workload still wants
 * that workload's inbound requests on its own node's endpoint, as Kuma's
 * destination proxy would show them: this observer reads them off the
 * bytes without taking part in the relay.
 *
 * It never changes, holds or refuses a byte.  Bytes that do not parse as
 * HTTP/1.1 (the parsers are http1's, strict), an Upgrade, or more requests
 * in flight than it keeps (HOBS_PIPELINE) stop it for the connection's
 * remaining life: what it had counted stays, the relay goes on untouched.
 *
 * Timing: a request starts when its request line is read and ends with the
 * last byte of its final response (1xx responses are not final), the span
 * the source's L7 engine counts too.  A request the connection's end cuts
 * short is not counted.
 *
 * Memory: hobs_new() allocates one block; each parser holds a buffer for
 * the line or header being read (http1.h), freed by hobs_free().
 */
#ifndef MF_AGENT_HOBS_H
#define MF_AGENT_HOBS_H

#include <stddef.h>
#include <stdint.h>

#include "wmstats.h"

#define HOBS_PIPELINE	32

struct hobs;

/* An observer counting into @x (borrowed: it lives as long as the loop's
 * table).  NULL when out of memory: the connection goes unobserved. */
struct hobs *hobs_new(struct wmstats_series *x);
void hobs_free(struct hobs *o);

/* Bytes on their way to the destination (@to_dest) or back from it. */
void hobs_feed(struct hobs *o, bool to_dest, const uint8_t *p, size_t n);

/* Whether it stopped observing, and why ("" while it observes). */
const char *hobs_stopped(const struct hobs *o);

#endif /* MF_AGENT_HOBS_H */
