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
 *
 * These four are also all that a new agent started by the upgrade in
 * place (upgrade.h) gets: under no_new_privs (the unit's
 * NoNewPrivileges=yes) execve(2) gives no capability the parent's
 * permitted set lacks, whatever the bounding set.  They are all its start
 * needs, as it adopts its listeners rather than binding them: loading the
 * programs (CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN for TC programs), opening
 * the pins (CAP_BPF), attaching TC and XDP (CAP_NET_ADMIN).  Its file
 * limit is the one it inherits (the unit's LimitNOFILE=, above what it
 * wants, or the one its parent raised): the raise that would need
 * CAP_SYS_RESOURCE is not tried, or fails with a warning.  So nothing more
 * is kept for it (tests/integration/test_upgrade.sh starts the agent with
 * the unit's bounding set and no_new_privs and upgrades it twice).
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
