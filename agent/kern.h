/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's kernel side: loads the mf_pod TC programs against the pinned
 * node-local policy map and attaches them to pod veths: mf_pod_ingress at
 * TC ingress (from the pod), mf_pod_egress at TC egress (to the pod).
 *
 * The maps are pinned by name under the pin root and outlive the agent; the
 * TC filters belong to the struct kern that attached them and go with it.
 * Filters sit at handle KERN_TC_HANDLE, priority KERN_TC_PRIORITY of the
 * clsact ingress and egress hooks (`tc filter show dev <if> ingress`).
 * Pods come and go while the agent runs (podwatch.h): kern_attach_ifindex()
 * and kern_detach_pod() follow them.
 *
 * A clsact qdisc the agent had to create stays after it (other filters may
 * have joined it); it is written down under the run dir (lib/clsact.h) so
 * that `mfctl uninstall` can tell it from one that was there before.
 */
#ifndef MF_KERN_H
#define MF_KERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define KERN_TC_HANDLE		MF_TC_HANDLE
#define KERN_TC_PRIORITY	MF_TC_PRIORITY

struct kern;

/*
 * Opens and loads mf_pod with its maps under @pin_root (created if missing:
 * maps already pinned there are reused, the others are created and pinned),
 * the program steering to the agent's listener on @outbound_port.  bpffs must
 * be mounted at @pin_root or above.  The clsact qdiscs it creates are
 * written down under @run_dir (NULL: nowhere; tests).  Returns 0 and *out
 * (caller owns it, ends it with kern_close), or -errno.
 */
int kern_open(struct kern **out, const char *pin_root, const char *run_dir,
	      uint16_t outbound_port);

/*
 * Attaches the programs at TC ingress and egress of @ifname, creating its
 * clsact qdisc when missing.  A filter already at KERN_TC_HANDLE/KERN_TC_PRIORITY (a
 * previous agent's) is replaced.  Attaching an interface twice replaces the
 * filter once.  Returns 0 or -errno (-ENODEV: no such interface).
 */
int kern_attach_pod(struct kern *k, const char *ifname);

/*
 * kern_attach_pod() of interface @ifindex, named @ifname (for the logs and
 * kern_close()), as rtnetlink reported it: no lookup by name, which a
 * rename could race.  Returns 0 or -errno.
 */
int kern_attach_ifindex(struct kern *k, int ifindex, const char *ifname);

/*
 * Forgets pod interface @ifindex: kern_close() will no longer touch it.
 * When it still exists (@gone false: renamed out of the pods' names),
 * first takes off the filters that are still ours.  When it is @gone
 * (deleted with its pod, or moved to another namespace) the kernel has
 * removed them with it, and the index is not looked at again: it may
 * already name another interface.  Returns 0, or -ENOENT when @k had not
 * attached it.
 */
int kern_detach_pod(struct kern *k, int ifindex, bool gone);

/*
 * Checks the maps pinned under @pin_root against those the agent's
 * programs (mf_pod, mf_xdp) define (pmap_check_pins()): a pin root of
 * another layout (another meshforge, other sizes or names) is refused
 * before anything is loaded against it.  Returns 0, or -ESTALE with what
 * differs in @why, or -errno.
 */
int kern_check_pins(const char *pin_root, char *why, size_t n);

/*
 * Loads the programs again against the maps pinned under @pin_root now
 * (they were made again under the agent), and puts them in place of the
 * old ones on every pod interface, filter by filter (a replace: no pod is
 * ever without).  Returns 0, -EIO when some filter could not be replaced
 * (logged; those keep the old programs), or -errno with @k as it was.
 */
int kern_reopen(struct kern *k, const char *pin_root);

/*
 * Makes the stack's listener lookups for a service's VIP:port, in this
 * thread's network namespace, find the listener @fd (the agent's outbound
 * one; borrowed, kept open by the caller): a pod's SYN that meets a
 * TIME_WAIT socket of the agent is then taken at once, where it would
 * wait one RST round (mf_pod_sk_lookup in bpf/mf_pod.bpf.c).  Attached
 * again by kern_reopen(), gone with kern_close().  Returns 0 or -errno
 * (logged; the agent works without it).
 */
int kern_steer_listener(struct kern *k, int fd);

/*
 * A successor agent took the pods over (handover.h): from now on @k
 * attaches nothing, and neither kern_detach_pod() nor kern_close() takes
 * a filter off.  The kernel keeps steering with the successor's.
 */
void kern_keep(struct kern *k);

/* How many interfaces @k has attached and not forgotten. */
size_t kern_pods(const struct kern *k);

/*
 * Detaches every filter @k attached that is still its own (an interface that
 * has gone, or whose filter a newer agent replaced, is left alone), unloads
 * the program and frees @k.  The maps stay pinned, the clsact qdiscs stay
 * (other filters may use them).  NULL is a no-op.
 */
void kern_close(struct kern *k);

#endif /* MF_KERN_H */
