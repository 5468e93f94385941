/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records <-> the policy maps of a store: the one reader and writer of
 * the two halves, for mfctl and the agent.
 *
 * Every policy map holds two halves (include/meshforge/abi.h, "Two
 * halves"); records in memory are half-agnostic (half 0), and this module
 * alone knows which half a key lands in.
 */
#ifndef CTL_MAPIO_H
#define CTL_MAPIO_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "records.h"
#include "store.h"

/*
 * Reads mf_config[0] and the records of the half in force
 * (mf_config.active) of every policy map of @s into @rs (initialised
 * here, sorted, half fields zeroed; the caller frees it whatever this
 * returns).  The records of the other half go, as they are, to
 * rs->other (rec_other_count() says how many: leftovers of an apply that
 * died part way).  One consistent policy: when mf_config moved while the
 * maps were read (an apply flipped without holding off this reader), the
 * read starts over, a few times at most.  First checks that each pinned
 * map has the type and key and value sizes this mfctl was built with.
 * Returns 0, -EPROTO on a layout mismatch or an mf_config.active other
 * than 0 or 1 (said in @d), -EAGAIN when the policy kept changing, or
 * -errno.
 */
int mapio_read(struct store *s, struct rec_set *rs, struct diag *d);

/*
 * Makes @want the policy in force in the maps of @s, given that they hold
 * @have (as mapio_read() returned it: the half in force and the leftovers
 * of the other).  Never writes the half in force; in order:
 *   1. deletes the leftovers (have->other) of the other half, the stage;
 *   2. writes every record of @want into the stage half;
 *   3. flips: one update of mf_config to @want's config (the caller's
 *      epoch) with active = the stage half;
 *   4. waits until no BPF program can still be running with the old
 *      mf_config (an RCU grace period, through membarrier);
 *   5. deletes every record of the old half.
 * A reader sees @have's policy up to step 3 and @want's after, never a
 * mix.  @st gets the records changed, counted as @have -> @want.
 *
 * mapio_flip() is steps 1-4; after it succeeded, mapio_retire() is step 5
 * (the caller has work to do in between: apply stores its saved state
 * while the old half is deleted).
 *
 * mapio_flip() returns 0 once @want is in force (step 3 done).  On a failure
 * before the flip, what was staged is deleted again, so every map holds
 * what it held before (leftovers apart), and it returns -ENOSPC when a map
 * is full (said in @d, naming it) or -errno (said in @d).
 * mapio_retire() says in @d the records of the old half it could not
 * delete, never an error: @want is in force (the caller shows it as a
 * warning; the next write deletes them as leftovers).  It returns true
 * when the old half is all gone.
 */
int mapio_flip(struct store *s, const struct rec_set *have,
	       const struct rec_set *want, struct rec_diff *st,
	       struct diag *d);
bool mapio_retire(struct store *s, const struct rec_set *have,
		  struct diag *d);

/* Reads mf_config[0] alone into @cfg.  Returns 0, -EPROTO for an
 * mf_config.active other than 0 or 1, or -errno (said in @d). */
int mapio_read_config(struct store *s, struct mf_config *cfg,
		      struct diag *d);

#endif /* CTL_MAPIO_H */
