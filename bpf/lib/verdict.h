/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Named verdicts.  A step of a program returns an int that is one of:
 *   - a TC action (TC_ACT_*, -1..8): final, returned to the kernel as is;
 *   - VERDICT_CONTINUE: this step did not decide, go on;
 *   - a drop, VERDICT_DROP(reason), where reason is the enum mf_stat counter
 *     that names why.
 * CONTINUE and drops are below VERDICT_BASE, so they never collide with a
 * TC action (TC_ACT_UNSPEC is -1).  A program ends with verdict_exit(), the
 * one place where a drop is counted and turned into TC_ACT_SHOT.
 */
#ifndef MF_BPF_VERDICT_H
#define MF_BPF_VERDICT_H

#include "lib/stats.h"

/* uapi/linux/pkt_cls.h values; vmlinux.h carries no macros. */
#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC	(-1)
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#endif

#define VERDICT_BASE		(-1000)
#define VERDICT_CONTINUE	(VERDICT_BASE - 1)
#define VERDICT_DROP_BASE	(VERDICT_BASE - 100)
#define VERDICT_DROP(reason)	(VERDICT_DROP_BASE - (int)(reason))

#define VERDICT_DROP_NO_LISTENER VERDICT_DROP(MF_STAT_DROP_NO_LISTENER)
#define VERDICT_DROP_ASSIGN	 VERDICT_DROP(MF_STAT_DROP_ASSIGN)

static __always_inline bool verdict_is_drop(int v)
{
	return v <= VERDICT_DROP_BASE;
}

/* The counter that names drop @v. */
static __always_inline enum mf_stat verdict_drop_reason(int v)
{
	return (enum mf_stat)(VERDICT_DROP_BASE - v);
}

/*
 * Turns a step's verdict into the program's return value: a drop is counted
 * under its reason and becomes TC_ACT_SHOT; a TC action is returned as is.
 * CONTINUE must have been resolved by the caller (it decides what "nobody
 * decided" means); reaching here with it is a bug and fails safe to
 * TC_ACT_OK, never to a silent drop.
 */
static __always_inline int verdict_exit(int v)
{
	if (verdict_is_drop(v)) {
		stats_inc(verdict_drop_reason(v));
		return TC_ACT_SHOT;
	}
	if (v == VERDICT_CONTINUE)
		return TC_ACT_OK;
	return v;
}

#endif /* MF_BPF_VERDICT_H */
