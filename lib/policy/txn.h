/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One transaction on the policy maps, the only path by which a policy is
 * read for a command or written: apply, delete, restore and diff, and the
 * readers (get, inspect, status, effective), all go through it.
 *
 *   txn_open()    with write, takes the writers' lock first; opens the
 *                 store and reads the policy in force: t->have (records)
 *                 and, unless records_only, t->applied (objects).
 *   (the caller fills t->next: the objects the policy is to hold)
 *   txn_plan()    validates t->next, compiles it against t->have (what is
 *                 unchanged keeps its ids), epoch + 1: t->want, t->diff.
 *   txn_commit()  stages t->want into the half not in force, flips once,
 *                 saves it as <state-dir>/policy.yaml and retires the old
 *                 half (mapio.h), still under the lock.
 *   txn_close()   releases it all, the lock last.
 *
 * Nothing is printed: each step returns 0 or -errno, adds what went wrong
 * to t->d, and t->stage says which step failed.
 */
#ifndef MF_POLICY_TXN_H
#define MF_POLICY_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "records.h"
#include "store.h"

/* The lock file under the run dir that serializes the writers. */
#define TXN_LOCK_FILE "mfctl.lock"

/*
 * Takes the writers' lock under @dir (made if missing), waiting while
 * another writer holds it: *@fd holds it until it is closed.  Every
 * taker adds one to the count the file holds, into *@count (NULL: not
 * wanted): a writer that keeps what it wrote (txn_open_kept()) learns
 * that another took the lock since, even one that died half way through
 * staging, which leaves mf_config as it was.  Returns 0, or -errno with
 * *@step saying what failed ("cannot open", ...).  For the commands that
 * change the node without a transaction (uninstall) and for txn_open().
 */
int txn_lock_dir(const char *dir, int *fd, uint64_t *count,
		 const char **step);

struct txn_opts {
	const char *bpf_root;	/* the pinned maps ... */
	struct store *store;	/* ... or this store instead (borrowed) */
	/* Where the committed policy is saved (saved.h); NULL: not saved. */
	const char *state_dir;
	/* Where writers take the lock (TXN_LOCK_FILE); NULL: no lock. */
	const char *run_dir;
	/* Takes the lock; the maps are created at commit when missing. */
	bool write;
	/* The policy in force is read as records only (t->applied stays
	 * empty): for a writer that replaces it whatever it was, with no
	 * report by object of what changed. */
	bool records_only;
};

enum txn_stage {
	TXN_OPENED = 0,		/* nothing failed yet */
	TXN_FAILED_OPEN,	/* the lock, the store, or the policy in force */
	TXN_FAILED_PLAN,	/* t->next is not a valid policy */
	TXN_FAILED_COMPILE,	/* ... or does not fit the maps */
	TXN_FAILED_WRITE,	/* nothing written: the old policy in force */
	TXN_FAILED_SAVE,	/* in force, but not saved */
};

struct txn {
	struct txn_opts o;
	struct store *store;		/* o.store, or owned */
	bool owned;			/* store opened here */
	bool pinned;			/* the maps exist */
	int lock_fd;			/* -1: no lock held */
	uint64_t lock_count;		/* the writers' count it took */
	enum txn_stage stage;
	struct rec_set have;		/* the policy in force, sorted */
	struct model_set applied;	/* ... as objects */
	struct model_set next;		/* the caller's: what to commit */
	struct rec_set want;		/* next, compiled (txn_plan) */
	struct rec_diff diff;		/* have -> want */
	/* txn_commit() put t->want in force and deleted the old half
	 * whole: the maps hold t->want and nothing else. */
	bool committed_clean;
	struct diag d;
};

/*
 * Returns 0; -ENOENT when nothing is pinned (then t->pinned is false and
 * the policy in force is empty: a writer goes on and creates the maps at
 * commit); -EBADMSG when the records contradict each other (t->have
 * holds them, t->applied what decompiled); -EPROTO when the pins have
 * another layout; or -errno.  The caller calls txn_close() whatever this
 * returns.
 */
int txn_open(struct txn *t, const struct txn_opts *o);

/* What a writer knows the maps hold between its transactions. */
struct txn_kept {
	struct rec_set recs;		/* empty: nothing known */
	uint64_t count;			/* the writers' count it took */
};

/*
 * txn_open() for the one writer that knows what the maps hold: @kept, as
 * txn_keep() left it after its last transaction, is taken for the policy
 * in force when mf_config is the one it wrote, to the byte (every other
 * writer changes its epoch, and `mfctl sync` writes the store's revision
 * there too), and no other writer took the lock since (its count; a
 * caller's own store, which no other process writes, has no lock): only
 * mf_config is read then, not every record.  Else, or when @kept is
 * empty or NULL, the maps are read as txn_open() reads them.  @kept's
 * records are emptied either way.
 */
int txn_open_kept(struct txn *t, const struct txn_opts *o,
		  struct txn_kept *kept);

/*
 * What the maps of @t hold now, moved into @kept (freed first) for the
 * next txn_open_kept(): t->want after a commit that put it in force and
 * deleted the old half whole, t->have when nothing was committed (the
 * caller found nothing to write), else nothing.  Before txn_close().
 */
void txn_keep(struct txn *t, struct txn_kept *kept);

/* @t with nothing open, for a caller that may end before txn_open():
 * txn_close() of it releases nothing. */
void txn_init(struct txn *t);

/* Returns 0, -EINVAL (t->next is invalid), -ENOSPC (it does not fit the
 * maps) or -ENOMEM. */
int txn_plan(struct txn *t);

/* Returns 0 once t->want is in force, or -errno: before the flip the
 * policy in force is unchanged (TXN_FAILED_WRITE); after it, only the
 * save failed (TXN_FAILED_SAVE).  Old-half records that could not be
 * deleted are said in t->d without an error. */
int txn_commit(struct txn *t);

void txn_close(struct txn *t);

/* What txn_restore() restored. */
struct txn_restore_info {
	uint64_t epoch;			/* the epoch it wrote */
	size_t objects;			/* objects of the saved state */
};

/*
 * Rebuilds the maps of @o (created when missing) from the saved state
 * <o->state_dir>/policy.yaml, as a full replacement: afterwards they hold
 * exactly the saved objects, at the epoch in force + 1.  Without @force
 * it refuses when the maps hold a policy already (epoch > 0): restore is
 * for the empty maps of a node after a reboot, not for undoing an apply.
 * Shared by `mfctl restore` and the agent at start.  Returns 0 (@info
 * filled), -ENOENT when there is no saved state (and only then; nothing
 * in t->d), -EEXIST when refused as above, -EINVAL when the saved state
 * is not a valid policy, or another -errno.  The caller closes @t.
 */
int txn_restore(struct txn *t, const struct txn_opts *o, bool force,
		struct txn_restore_info *info);

#endif /* MF_POLICY_TXN_H */
