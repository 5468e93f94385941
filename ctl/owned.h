/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What meshforge made on this node, for one pin root, found precisely
 * enough to remove it and nothing else (`mfctl uninstall`).
 *
 * The pins are the root's entries that carry the name of a pinned map of
 * meshforge's BPF objects (mf_maps, mf_pod, mf_xdp: the names come from
 * the objects themselves) and are maps of that name.  Our programs are
 * the loaded programs that carry the name of one of those objects'
 * programs and use one of those pinned maps: so a program of another pin
 * root, or a foreign one under a borrowed name, is never ours.  From
 * there, in this network namespace:
 *
 *   filter  a TC filter of ours at MF_TC_HANDLE, MF_TC_PRIORITY of a
 *           clsact hook (the agent attaches nothing anywhere else);
 *   xdp     one of our programs attached to an interface, in any mode;
 *   link    a BPF link of one of our programs (the agent makes none; a
 *           link is system-wide, not per namespace);
 *   qdisc   a clsact qdisc the agent recorded as made by it
 *           (lib/clsact.h), removed only once no filter is left on it;
 *   pin     a map pinned under the root;
 *   dir     the root itself, once empty, unless it is a mount point.
 *
 * meshforge makes no routes, rules, addresses or sysctls: the testbed's
 * routes are the testbed's.
 *
 * Objects are listed in the order they are removed: attachments before
 * qdiscs, and pins last, so that an uninstall cut short can be run again
 * and still recognise what is left.
 */
#ifndef CTL_OWNED_H
#define CTL_OWNED_H

#include <limits.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clsact.h"

enum own_kind {
	OWN_FILTER = 0,		/* a TC filter (above) */
	OWN_XDP,		/* an XDP attachment */
	OWN_LINK,		/* a BPF link */
	OWN_QDISC,		/* a clsact qdisc, or its stale record */
	OWN_PIN,		/* a pinned map */
	OWN_DIR,		/* the pin root */
	OWN_KIND_MAX,
};

const char *own_kind_str(enum own_kind k);

/* The program name length the kernel keeps (BPF_OBJ_NAME_LEN). */
#define OWN_NAME_LEN 16

struct own_obj {
	enum own_kind kind;
	int ifindex;			/* filter, xdp, qdisc */
	char ifname[IF_NAMESIZE];
	uint32_t point;			/* filter: BPF_TC_INGRESS or _EGRESS;
					 * xdp: XDP_FLAGS_{SKB,DRV,HW}_MODE */
	uint32_t prog_id;		/* filter, xdp, link */
	char prog[OWN_NAME_LEN];
	uint32_t link_id;		/* link */
	uint32_t map_id;		/* pin */
	char path[PATH_MAX];		/* pin, dir */
	struct clsact_rec rec;		/* qdisc */
	bool stale;			/* qdisc: a record whose qdisc is gone */
	/* NULL: meshforge's, to remove; else why it stays (a qdisc with
	 * other filters on it; a meshforge-named program of another root). */
	const char *kept;
};

/* One of our programs, and whether an attachment here was found for it. */
struct own_prog {
	uint32_t id;
	char name[OWN_NAME_LEN];
	bool here;
};

#define OWN_MAX_AGENTS 16

struct own_survey {
	const char *bpf_root;
	const char *run_dir;
	uint64_t netns;			/* this network namespace's cookie */
	struct own_obj *objs;		/* owned, in removal order */
	size_t n, cap;
	uint32_t *map_ids;		/* owned: of the pins */
	size_t nmaps;
	struct own_prog *progs;		/* owned: our loaded programs */
	size_t nprogs;
	long agents[OWN_MAX_AGENTS];	/* meshforge-agent processes holding
					 * our maps */
	int nagents;			/* may exceed OWN_MAX_AGENTS */
};

/*
 * Finds what meshforge made for pin root @bpf_root (the clsact records
 * under @run_dir) in this network namespace, into @s (own_survey_free()
 * it, whatever this returns).  Needs CAP_SYS_ADMIN and CAP_NET_ADMIN to
 * see programs and attachments.  Returns 0, -ENOTDIR (the root is not a
 * directory on bpffs), or -errno.
 */
int own_survey(struct own_survey *s, const char *bpf_root,
	       const char *run_dir);

/* Our programs that nothing found here accounts for: attached in another
 * network namespace, or held by a process.  How many. */
size_t own_elsewhere(const struct own_survey *s);

/*
 * Removes @o (not kept), checking first that it is still what the survey
 * found (a filter or program replaced since is left alone: -ESTALE).  A
 * qdisc is removed only if no filter is left on it now (else o->kept is
 * set and 0 returned); its record goes with it.  Returns 0 or -errno.
 */
int own_remove(struct own_survey *s, struct own_obj *o);

/* "filter mfun0 ingress (handle 0x6d66 prio 1, mf_pod_ingress, prog 41)",
 * into @buf (@n bytes). */
void own_describe(const struct own_obj *o, char *buf, size_t n);

void own_survey_free(struct own_survey *s);

#endif /* CTL_OWNED_H */
