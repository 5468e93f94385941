/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The applied state: the pinned maps under a pin root, read back as records
 * and as objects.  Shared by `apply` (which merges over it) and `get`.
 */
#ifndef CTL_STATE_H
#define CTL_STATE_H

#include <stdbool.h>

#include "diag.h"
#include "model.h"
#include "pmap.h"
#include "records.h"

/* The lock file under the run dir that serializes the writers. */
#define STATE_LOCK_FILE "mfctl.lock"

struct state {
	struct pmap pm;
	bool open;		/* pm holds fds */
	int lock_fd;		/* flock()ed <run dir>/mfctl.lock, or -1 */
	struct rec_set have;	/* the records, sorted */
	struct model_set objs;	/* decompiled from have */
};

/*
 * With @lock_dir (the run dir), first takes an exclusive flock() on
 * <@lock_dir>/mfctl.lock (the directory made 0755 and the file 0600 when
 * missing), waiting for the holder: writers (apply, delete, restore) take
 * it, so two of them never interleave, whatever pin root they name.  NULL:
 * no lock (readers).  Then opens the maps under @root (creating and
 * pinning the missing ones with @create) and reads and decompiles the
 * policy in force.  Without @create and nothing pinned, returns -ENOENT
 * with an empty state.  Returns 0 or -errno (-EBADMSG: the records
 * contradict each other, -EPROTO: the pins have another layout), with the
 * problem said in @d.  The caller calls state_close() whatever this
 * returns; the lock is held until then.
 */
int state_load(struct state *st, const char *root, bool create,
	       const char *lock_dir, struct diag *d);

void state_close(struct state *st);

#endif /* CTL_STATE_H */
