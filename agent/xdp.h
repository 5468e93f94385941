/* SPDX-License-Identifier: Apache-2.0 */
/*
 * xdp: the node firewall on the uplink (bpf/mf_xdp.bpf.c).
 *
 * xdp_open() loads mf_xdp against the pinned maps.  Then, about once a
 * second (the loop's tick), xdp_tick() keeps the program's two lists as
 * the policy in force says, when its epoch moved (the deny networks of
 * mf_config into the LPM trie mf_xdp_deny, the nodes' addresses of
 * mf_nodes into mf_xdp_nodes: an apply reaches the uplink within a
 * second, without a reload), and reads the drop events of the ring
 * buffer: a warning line per source and second, and counts.
 *
 * The program is on the uplink only while the policy sets a firewall:
 * the tick that first finds one attaches it, in native mode where the
 * driver has it, else generic, and says which; the tick that finds none
 * takes it off.  An attached program that passes everything still costs
 * the device's receive path (see xdp_tick()).
 */
#ifndef MF_AGENT_XDP_H
#define MF_AGENT_XDP_H

#include <stdbool.h>
#include <stdint.h>

#include "pmap.h"

struct xdp;

/* Loads and attaches (see above).  Returns 0 and *out (the caller's:
 * xdp_close()), or -errno (logged). */
int xdp_open(struct xdp **out, const char *pin_root, const char *ifname);

/* Follows the policy of @pm and reads the events (see above). */
void xdp_tick(struct xdp *x, const struct pmap *pm);

/* The policy's maps were switched (pinwatch.h): the next xdp_tick() keeps
 * the lists again whatever the epoch.  NULL is a no-op. */
void xdp_forget_epoch(struct xdp *x);

/* The maps were made again under the agent (pinwatch.h): loads the
 * program against those pinned under @pin_root now and puts it in place
 * of ours on the uplink (a replace); its lists are kept at the next
 * xdp_tick().  Returns 0, or -errno (logged) with @x as it was. */
int xdp_reopen(struct xdp *x, const char *pin_root);

/* "native" or "generic": the mode of the last attach; "none" before
 * the first. */
const char *xdp_mode(const struct xdp *x);
/* Whether the program is on the uplink now. */
bool xdp_attached(const struct xdp *x);
const char *xdp_iface(const struct xdp *x);
/* Drop events read so far. */
uint64_t xdp_events(const struct xdp *x);

/* Detaches the program (when it is still ours) and frees @x.  NULL is a
 * no-op. */
void xdp_close(struct xdp *x);

#endif /* MF_AGENT_XDP_H */
