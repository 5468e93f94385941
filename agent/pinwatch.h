/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pinwatch: the pinned maps made again under a running agent.
 *
 * The agent holds its maps by fd, so when their pins are removed (rm of
 * the pin root, `mfctl uninstall --force`) and made again (the next
 * `mfctl apply`), the agent and its TC programs would go on with the old
 * maps, and every later apply would land where nobody reads.  Once a
 * second (the loop's tick) pinwatch_tick() compares the id of each map
 * the agent holds with the id of the map pinned under that name
 * (pmap_pins_moved()).  When one moved:
 *   - pins gone and not made again yet: the agent keeps what it has (the
 *     kernel programs go on with the old maps too), says so once, and
 *     looks again at the next tick;
 *   - pins of another layout (kern_check_pins()): the same, with what to
 *     do in the log;
 *   - else it opens the new maps, loads the TC programs again against
 *     them and replaces them on every pod interface (kern_reopen()),
 *     points the reloader at them (reload_switch(): the next snapshot is
 *     theirs, whatever the epoch) and the XDP firewall (its lists are kept
 *     again at its next tick).  The old maps are closed once the reloader
 *     has let go of them.
 * Connections that started on a snapshot of the old maps finish on it, as
 * at any policy change.  Loop thread only.
 */
#ifndef MF_AGENT_PINWATCH_H
#define MF_AGENT_PINWATCH_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "pmap.h"

struct ctx;
struct kern;

struct pinwatch {
	struct ctx *ctx;		/* ctx->pmap is switched.  Borrowed */
	struct kern *kern;		/* NULL: no TC programs.  Borrowed */
	struct pmap *own;		/* ctx->pmap once switched: ours */
	/* The maps before the last switch, until the reloader lets go of
	 * them; @retired_own when ours to free (not the first maps, the
	 * caller's). */
	const struct pmap *retired;
	bool retired_own;
	char said[PATH_MAX + 512];	/* the last state logged, once */
	uint64_t reopens;		/* switches done */
};

/* Watches ctx->pmap (the caller's; must outlive the watch unless
 * switched) with @kern's programs.  Nothing to release when ctx->pmap is
 * NULL: the ticks do nothing. */
void pinwatch_init(struct pinwatch *pw, struct ctx *ctx, struct kern *kern);

/* The check and the switch described above.  Returns true when it
 * switched to new maps on this call. */
bool pinwatch_tick(struct pinwatch *pw);

/* Closes the maps it opened.  Call once the reloader is closed. */
void pinwatch_fini(struct pinwatch *pw);

#endif /* MF_AGENT_PINWATCH_H */
