/* SPDX-License-Identifier: Apache-2.0 */
/*
 * caps: the agent gives up the capabilities it no longer needs once its
 * programs are loaded and attached and its listeners bound.  It keeps:
 *   CAP_NET_ADMIN         SO_MARK on its upstream sockets (the pods' TC
 *                         programs know its traffic by the mark), and TC
 *                         and XDP attachments of pods that come later
 *   CAP_BPF               maps and links it opens again (pins recreated,
 *                         programs of a new pod)
 *   CAP_NET_BIND_SERVICE  gateway listeners below 1024 that a policy
 *                         brings later
 *   CAP_PERFMON           the TC and XDP programs loaded again against
 *                         pins made again under the agent (pinwatch.h):
 *                         without it the verifier refuses the packet
 *                         pointer arithmetic they do (pkt_end - data)
 * Everything else (CAP_SYS_ADMIN, CAP_SYS_RESOURCE, CAP_DAC_*,
 * CAP_SETUID, ...) leaves the effective, permitted, inheritable and
 * bounding sets (the bounding set when the agent holds CAP_SETPCAP: a
 * manager that kept it back bounded the agent itself), so neither the
 * agent nor anything it could be made to run gets it back.  With raw
 * capset(2) and prctl(2): no library.
 */
#ifndef MF_AGENT_CAPS_H
#define MF_AGENT_CAPS_H

#include <stddef.h>

/* Keeps the @n capabilities at @keep (CAP_* numbers) and drops every
 * other one from every set.  Returns 0 or -errno (then the sets may be
 * part way: the caller stops). */
int caps_keep(const int *keep, size_t n);

/* The capabilities the agent keeps while it runs. */
int caps_keep_agent(void);

#endif /* MF_AGENT_CAPS_H */
