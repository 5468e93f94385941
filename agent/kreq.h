/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kreq: what the agent needs from the kernel, probed before it changes
 * anything on the node, so an old kernel is refused with the feature it
 * lacks and the version it takes, not with a verifier dump or an io_uring
 * EINVAL half way through startup.
 *
 * The lowest kernel meshforge supports is KREQ_MIN_STR (docs/kernels.md).
 * What sets it is the agent's event loop: provided buffer rings and
 * multishot accept came in 5.19, and 6.1 is the first long-term kernel
 * with them.  The BPF programs alone need 5.12: the token buckets'
 * compare-and-exchange (5.10's verifier refuses mf_pod for it), besides
 * bpf_fib_lookup()'s BPF_FIB_LOOKUP_SKIP_NEIGH (5.10), ring buffers (5.8)
 * and bpf_sk_assign() (5.7).
 *
 * Each need is probed, not read off the version: a distribution kernel
 * may carry a feature its version number predates.  A kernel older than
 * KREQ_MIN_STR that passes every probe is used, with a warning that it
 * was never tried.
 */
#ifndef MF_KREQ_H
#define MF_KREQ_H

#include <stdbool.h>
#include <stddef.h>

#define KREQ_MIN_MAJOR	6
#define KREQ_MIN_MINOR	1
#define KREQ_MIN_STR	"6.1"

/* One thing the agent needs from the kernel. */
struct kreq_need {
	const char *what;	/* "BPF ring buffer maps" */
	const char *since;	/* the upstream release that added it: "5.8" */
	/* 1: present, 0: absent, -errno: cannot tell (no privilege...). */
	int (*probe)(void);
};

/* What kreq_run() found. */
struct kreq_report {
	const char *release;	/* uname's, as given */
	size_t missing;		/* needs whose probe said absent */
	size_t unknown;		/* needs whose probe could not tell */
	bool old;		/* release below KREQ_MIN_STR (or unparsed) */
};

/*
 * "6.1.0-57-amd64" -> 6, 1.  Returns 0, or -EINVAL when @release does not
 * start with MAJOR.MINOR.
 */
int kreq_release_parse(const char *release, unsigned int *major,
		       unsigned int *minor);

/*
 * Probes each of the @n needs of @needs on a kernel whose uname release is
 * @release, logs each that is missing (error) or cannot be told (warning)
 * with its version, then one line for the verdict, into *@r.  Returns 0
 * when none is missing, -ENOTSUP when one is.
 */
int kreq_run(const struct kreq_need *needs, size_t n, const char *release,
	     struct kreq_report *r);

/* kreq_run() over the agent's own needs and the running kernel. */
int kreq_check(struct kreq_report *r);

/*
 * Optional features, which the agent runs without when the kernel lacks
 * them: each probe returns 1 when the kernel has all it takes, 0 when it
 * lacks one (logged, with the release that added it), -errno when a
 * probe cannot tell.
 *
 * kreq_front_door(): the bare-metal front door (frontdoor.h): cgroup
 * connect hooks and sockops.
 */
int kreq_front_door(void);
/* kreq_fast_path(): the same-node fast path (sockfast.h): sockops,
 * SOCKHASH, sk_msg, socket storage. */
int kreq_fast_path(void);

#endif /* MF_KREQ_H */
