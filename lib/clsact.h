/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The clsact qdiscs meshforge made, remembered under the run dir.
 *
 * The agent attaches its TC programs under a clsact qdisc, and creates
 * the qdisc when the pod's interface has none.  A qdisc carries no mark
 * of who made it, so the agent writes down each one it made, and
 * `mfctl uninstall` removes only those (and only once no filter is left
 * on them): a clsact that was there before the agent is someone else's.
 *
 * One file per qdisc, <run dir>/clsact/<netns>-<ifindex>, holding the
 * interface's name: netns is the kernel's cookie of the network namespace
 * (never reused while the machine runs), ifindex the interface's index in
 * it (not reused in a namespace either).  The run dir is a tmpfs, like
 * the qdiscs it describes: both go at a reboot.
 */
#ifndef MF_CLSACT_H
#define MF_CLSACT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

/* The directory of the records under the run dir. */
#define CLSACT_DIR "clsact"

struct clsact_rec {
	uint64_t netns;			/* the namespace's cookie */
	int ifindex;
	char ifname[IF_NAMESIZE];	/* when it was made */
};

/* The cookie of this process's network namespace into *@cookie.
 * Returns 0 or -errno. */
int clsact_netns(uint64_t *cookie);

/*
 * Writes down that this process made the clsact qdisc of @ifindex (named
 * @ifname) in its network namespace: <@run_dir>/clsact/<netns>-<ifindex>,
 * created with its directories, durably.  Returns 0 or -errno.
 */
int clsact_remember(const char *run_dir, int ifindex, const char *ifname);

/*
 * The records of network namespace @netns under @run_dir, into *@out (an
 * array of *@n the caller frees; NULL when there are none).  A file that
 * is not a record is skipped.  Returns 0 (also when there is no record
 * directory) or -errno.
 */
int clsact_list(const char *run_dir, uint64_t netns, struct clsact_rec **out,
		size_t *n);

/* Removes record @r, then the record directory if that left it empty.
 * Returns 0 (also when it was gone) or -errno. */
int clsact_forget(const char *run_dir, const struct clsact_rec *r);

#endif /* MF_CLSACT_H */
