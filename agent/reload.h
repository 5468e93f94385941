/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy snapshots for the loop, built off the loop thread.
 *
 * With pinned maps, a reloader thread reads mf_config.epoch every
 * RELOAD_POLL_MS (from the mmap'ed map, without a syscall), and when it
 * moved builds a snapshot with policy_load() (185 ms at 10k services) and
 * publishes it with one atomic exchange.  The loop thread takes the newest
 * snapshot with reload_current() at accept and for the admin pages: a
 * pointer swap, never a wait, so no connection or admin request stalls on
 * a reload.  The snapshot a connection starts with stays its own (a
 * reference), as before.
 *
 * Ownership: the loop thread holds one reference to the current snapshot;
 * one that is published but not taken yet belongs to the reloader, which
 * drops it when it publishes a newer one.  References the loop drops to
 * older snapshots (its own at a switch, its connections' when they end)
 * go back to the reloader thread (reload_release()), so the last one, and
 * the free of a snapshot that can take milliseconds at 10k services,
 * happens there too, off the loop.
 *
 * Without maps the snapshot is fixed (tests): the one given, or none.
 */
#ifndef MF_RELOAD_H
#define MF_RELOAD_H

#include "pmap.h"

struct policy;
struct reload;

/* How often the reloader looks at the epoch.  mfctl gives no notice of a
 * flip (a map update wakes nobody), so it is polled: an mmap'ed load every
 * 5 ms costs nothing, and a connection made after `mfctl apply` returns
 * (which follows the flip by the old half's retirement, milliseconds at
 * least) finds the new snapshot. */
#define RELOAD_POLL_MS	5

/*
 * With @pm (which must outlive the reloader): loads the first snapshot in
 * the caller's thread, then starts the reloader thread; fails (-errno,
 * logged) when either cannot be done.  Without @pm: the fixed snapshot
 * @fixed (may be NULL: none), of which the reloader takes a reference of
 * its own.  Returns 0 and *out, which the caller owns (reload_close()).
 */
int reload_open(struct reload **out, const struct pmap *pm,
		struct policy *fixed);

/*
 * The same for @n loops (1 to 64), each with its own end out[i] (its
 * current snapshot, hand-over slot and retire ring, as for one loop): one
 * reloader thread builds each snapshot once and publishes it to every
 * end, each holding its own reference, so a snapshot is shared read-only
 * and freed, on the reloader, once the last loop and connection let go
 * of it.  Each end is used by one loop thread only.  reload_close() of
 * any end closes them all, once every loop has stopped.
 */
int reload_open_group(struct reload **out, unsigned int n,
		      const struct pmap *pm, struct policy *fixed);

/*
 * The newest published snapshot (borrowed: a connection that keeps it
 * takes a reference with policy_get()), or NULL when none could be loaded.
 * Never blocks.  Only one thread, the loop's, may call it.
 */
struct policy *reload_current(struct reload *r);

/* The epoch of the snapshot @r's loop took last (0: none): what its new
 * connections get.  Any thread may ask (admin, for every loop). */
uint64_t reload_epoch_taken(const struct reload *r);

/* Drops a reference to @p (NULL: none) that the loop thread held (a
 * connection's): at once when @p is current (never the last reference
 * then), else by the reloader thread.  Loop thread only. */
void reload_release(struct reload *r, struct policy *p);

/*
 * The maps were made again under the agent (pinwatch.h): the reloader
 * reads @pm (which must outlive it, or the next switch) from its next
 * poll on, and publishes a snapshot of it to every loop of @r's group at
 * once, whatever its epoch.  Any member of a group may call it: the
 * switch is the group's.  Without maps (a fixed snapshot) it does
 * nothing.  Loop thread.
 */
void reload_switch(struct reload *r, const struct pmap *pm);

/* The maps the group's reloader reads: once reload_switch()'s are, the
 * old ones may be closed. */
const struct pmap *reload_maps(const struct reload *r);

/* Stops and joins the reloader thread and drops every snapshot it holds,
 * of every end of the group @r belongs to.  Call from the thread that
 * called reload_current() (with a group: once every loop stopped).
 * NULL-safe. */
void reload_close(struct reload *r);

#endif /* MF_RELOAD_H */
