/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mesh's policy in the mesh store (mstore.h), as docs/store.md lays it
 * out under the store's prefix P:
 *
 *   P/policy/<Kind>/<name>   one object, as YAML (what `mfctl get` prints)
 *   P/policy                 the guard: rewritten by every change, so a
 *                            writer's compare on its revision fails when
 *                            any other change (a delete too) came between
 *                            its read and its write
 *   P/nodes/<node>/<Kind>/<name>
 *                            a node's registration (its Node, the
 *                            Workloads it serves), under its lease
 *
 * The commands (apply, delete, diff, get, status with --store) read it
 * into a transaction over an in-memory store, so that the input is parsed,
 * merged, validated and compiled by the same code as on a node
 * (ctl_mesh_open(), txn_plan()), and write only what changed
 * (ctl_mesh_commit()).  `mfctl sync` reads it with mesh_parse().
 */
#ifndef CTL_MESH_H
#define CTL_MESH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mstore.h"
#include "policy/diag.h"
#include "policy/model.h"

struct ctl_opts;
struct txn;

#define MESH_POLICY	"/policy"
#define MESH_NODES	"/nodes"

/* In the state dir: the revision a sync's saved policy is of (sync.c),
 * and the writers' copy of the mesh (mesh_cache.c). */
#define MESH_REV_FILE	"store.rev"
#define MESH_CACHE_FILE	"store.cache"

/* Keys changed since a writers' copy of @n keys that a command reads on
 * top of it, at most, before it writes the copy again (mesh_cache.c). */
#define MESH_CACHE_STALE_MAX(n)	(16 + (n) / 64)

/* Writers that lose a race read again and retry this many times before
 * they report the conflict. */
#define MESH_RETRIES	5

/*
 * The policy objects of @l (a list of "@prefix/"), parsed into @set (the
 * caller's, initialised), each checked against its key; *@guard_rev: the
 * guard's revision (0: none).  With @regd, the nodes' registrations too
 * (P/nodes/<node>/<Kind>/<name>): a node's Node and the Workloads on it
 * whose Service the policy defines; any other (a Workload that claims
 * another node: the identity check, docs/store.md) is left out and said
 * in @regd, since one node's bad registration must not stop the mesh's
 * policy.  Many values are parsed on up to one thread per CPU, with the
 * same objects, order and problems as on one.  Returns 0, -EINVAL
 * (problems of the policy in @d), or -ENOMEM.
 */
int mesh_parse(const char *prefix, const struct mstore_list *l,
	       struct model_set *set, struct diag *d, int64_t *guard_rev,
	       struct diag *regd);

/*
 * What a sync parsed of the policy keys at its last compile: the objects,
 * in key order, each's loc.file its key (owned by @set), and the revision
 * that last wrote each key.  The next parse copies an object whose key is
 * at the same revision instead of parsing its value again: at 100k
 * objects, parsing was most of a one-object change's compile.
 */
struct mesh_memo {
	struct model_set set;		/* owned */
	int64_t *rev;			/* owned: set.objs[i]'s key's */
	size_t n;			/* policy objects, first in set */
};

void mesh_memo_free(struct mesh_memo *m);

/* mesh_parse() with what @memo (NULL: nothing) holds taken from it
 * rather than parsed again: its objects are moved into @set, and @memo
 * is only fit to be freed after.  With a memo, on this thread only (a
 * sync's heap lives on: mesh.c). */
int mesh_parse_memo(const char *prefix, const struct mstore_list *l,
		    struct model_set *set, struct diag *d, int64_t *guard_rev,
		    struct diag *regd, struct mesh_memo *memo);

/*
 * Makes @m the memo of @set, a mesh_parse*() of @l (of @prefix) that the
 * caller gives up: its policy objects, each matched with its key's
 * revision.  An object that does not line up with its key leaves @m
 * empty (the next parse parses everything).  @set is left empty.
 */
void mesh_memo_take(struct mesh_memo *m, const char *prefix,
		    const struct mstore_list *l, struct model_set *set);

/*
 * The writers' copy of the mesh (mesh_cache.c): @l, read from the store
 * named @ident (its endpoints and prefix), written to or read from the
 * file @path.  Read: 0, -ENOENT, -EINVAL for a file that is not one (torn,
 * damaged, another store's), or -errno.  Write: 0 or -errno.
 */
int mesh_cache_read(const char *path, const char *ident,
		    struct mstore_list *out);
int mesh_cache_write(const char *path, const char *ident,
		     const struct mstore_list *l);

/* Moves the keys of @base (a list) and @changed (a list_changed after
 * @base's revision) into @out, the changed ones over the old: the list
 * at @changed's revision.  -ESTALE, @out empty: @base is no base for it
 * (another store, a history started again, a key deleted since: list
 * again); else 0 or -ENOMEM.  @base and @changed are left to be freed. */
int mesh_cache_merge(struct mstore_list *base, struct mstore_list *changed,
		     struct mstore_list *out);

/* ms->ops->list(@prefix) through the copy at @path (NULL: none): the
 * keys changed since the copy, merged into it, when it is a base for
 * them (*@changed_only), else the whole list; the copy written again
 * after a whole list, or once more than MESH_CACHE_STALE_MAX() keys
 * changed on it, as far as it can be.  Returns what the store's reads
 * return. */
int mesh_list_cached(struct mstore *ms, const char *prefix, const char *path,
		     struct mstore_list *out, bool *changed_only);

/* The key of object @kind/@name under @prefix, malloc'ed into *@key.
 * Returns 0 or -ENOMEM. */
int mesh_key(char **key, const char *prefix, enum model_kind kind,
	     const char *name);

/* The value of object @o of @set: its YAML document, as `mfctl get`
 * prints it, malloc'ed into *@out.  Returns 0 or -ENOMEM. */
int mesh_yaml(const struct model_set *set, const struct model_obj *o,
	      char **out, size_t *len);

/* A command's view of the mesh in the store. */
struct ctl_mesh {
	struct mstore *ms;		/* owned */
	struct store *mem;		/* owned: the transaction's maps */
	int64_t rev;			/* the revision read */
	int64_t guard_rev;		/* the guard's, 0: no policy yet */
	int64_t wrote;			/* the revision of the commit */
	/* The change from t->applied to t->next (ctl_mesh_plan()). */
	struct mstore_op *ops;		/* owned, keys and values too */
	size_t nops;
	size_t created, updated, deleted, unchanged;
};

/*
 * Opens transaction @t over memory and reads the mesh of --store into
 * t->applied.  Returns 0 or -errno, the problem in t->d (then
 * ctl_mesh_fail()).  The caller calls ctl_mesh_close() whatever this
 * returns.
 */
int ctl_mesh_open(struct ctl_mesh *m, struct txn *t, const struct ctl_opts *o);

/* After txn_plan(): the objects to write and delete, and the counts.
 * Returns 0 or -ENOMEM. */
int ctl_mesh_plan(struct ctl_mesh *m, struct txn *t);

/* Writes the plan as one transaction guarded by what was read.  Returns
 * 0 (nothing to write is 0 too), -ESTALE when another writer came
 * first (read again: ctl_mesh_close(), ctl_mesh_open()), or -errno, the
 * problem in t->d. */
int ctl_mesh_commit(struct ctl_mesh *m, struct txn *t);

void ctl_mesh_close(struct ctl_mesh *m, struct txn *t);

/*
 * A command's change to the mesh, for ctl_mesh_write(): puts into t->next
 * what t->applied (the mesh just read) becomes, and checks it
 * (txn_plan()).  It is called again after every fresh read, so it starts
 * from nothing each time.  Returns 0, -errno (the problem in t->d), or
 * MESH_STOP: the command has said why it writes nothing, and ends.
 */
typedef int ctl_mesh_change_fn(struct txn *t, void *arg);

#define MESH_STOP	1

/*
 * Reads the mesh of --store into @t (ctl_mesh_open()), lets @change make
 * its change, and writes it (unless @dry) guarded by what was read; when
 * another writer came first, says so and does it all again over a fresh
 * read, MESH_RETRIES times at most.  Returns 0 (@m and @t hold what was
 * read, planned and written), MESH_STOP from @change, or -errno (then
 * ctl_mesh_fail(); -ESTALE: every try lost the race).  The caller calls
 * ctl_mesh_close() whatever this returns.
 */
int ctl_mesh_write(struct ctl_mesh *m, struct txn *t, const struct ctl_opts *o,
		   bool dry, ctl_mesh_change_fn *change, void *arg);

/* ctl_txn_fail() for a command on the store: what the store said, and
 * that the mesh there is unchanged.  Returns the exit code. */
int ctl_mesh_fail(const struct ctl_mesh *m, const struct txn *t, int err,
		  const char *what, const char *consequence);

#endif /* CTL_MESH_H */
