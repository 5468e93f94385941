/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bare-metal front door: workloads that are processes in cgroups of
 * the node (a systemd slice or unit), not pods in network namespaces.
 *
 *   meshforge-agent --workload-cgroup /sys/fs/cgroup/shop.slice=spiffe://...
 *
 * loads bpf/mf_sock.bpf.c and attaches its cgroup/connect4, connect6 and
 * sockops programs to each workload cgroup (cgroup v2).  A process there
 * that connects to a service VIP:port reaches the agent's outbound
 * listener on 127.0.0.1 instead; the kernel keeps what it asked for under
 * the connection's 4-tuple, and the agent takes it on accept with
 * frontdoor_take(): the original destination, and the identity given to
 * the cgroup, which the connection speaks with in the mesh.
 *
 * The links belong to the struct frontdoor and go with it (or with the
 * agent's process): nothing is pinned, nothing is left for `mfctl
 * uninstall`.  The agent's other listeners and flows are unchanged.
 */
#ifndef MF_FRONTDOOR_H
#define MF_FRONTDOOR_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define FRONTDOOR_MAX_WORKLOADS	64

/* One --workload-cgroup PATH=IDENTITY. */
struct frontdoor_workload {
	const char *cgroup;	/* a cgroup v2 directory.  Borrowed */
	const char *identity;	/* its SPIFFE ID.  Borrowed */
};

struct frontdoor;

/*
 * Splits "PATH=IDENTITY" (@arg, modified: the '=' becomes a NUL) into @w.
 * The identity must be a SPIFFE ID; the path is checked by
 * frontdoor_open().  Returns 0 or -EINVAL.
 */
int frontdoor_parse(char *arg, struct frontdoor_workload *w);

/*
 * Loads mf_sock against the policy maps pinned under @pin_root, the
 * rewrite aimed at 127.0.0.1:@outbound_port, and attaches it to the @n
 * cgroups of @wl (which must outlive the struct frontdoor: identities are
 * handed out by pointer).  Each must be a directory on a cgroup2 mount.
 * Returns 0 and *out (the caller ends it with frontdoor_close()), or
 * -errno, logged: -ENOTSUP when the kernel lacks what it needs.
 */
int frontdoor_open(struct frontdoor **out, const char *pin_root,
		   uint16_t outbound_port, const struct frontdoor_workload *wl,
		   size_t n);

/*
 * The connection the agent accepted from @peer on @local, when a
 * workload's connect() was sent there: its original destination into
 * *@orig, the workload's identity into *@identity (valid while @f is)
 * and its number (--workload-cgroup order) into *@workload.  The record
 * is consumed.  Returns 0, or -ENOENT when the connection came through no
 * front door.
 */
int frontdoor_take(struct frontdoor *f, const struct sockaddr_in *peer,
		   const struct sockaddr_in *local, struct sockaddr_in *orig,
		   const char **identity, uint32_t *workload);

/* The map of the records by 4-tuple (mf_orig_dst), for the fast path's
 * programs to share (sockfast.h); -EBADF without one. */
int frontdoor_orig_fd(const struct frontdoor *f);

/* The counters of the socket programs, summed over the CPUs, into @out
 * (MF_SOCK_STAT_MAX of them); 0 or -errno. */
int frontdoor_stats(const struct frontdoor *f, uint64_t *out);

/* Detaches, unloads and frees.  NULL is a no-op. */
void frontdoor_close(struct frontdoor *f);

#endif /* MF_FRONTDOOR_H */
