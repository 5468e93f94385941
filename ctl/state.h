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

struct state {
	struct pmap pm;
	bool open;		/* pm holds fds */
	int lock_fd;		/* flock()ed pin root, or -1 */
	struct rec_set have;	/* the records, sorted */
	struct model_set objs;	/* decompiled from have */
};

/*
 * Opens the maps under @root (creating and pinning them with @create),
 * with @lock takes an exclusive lock on the root so two applies never
 * interleave, and reads and decompiles every record.  Without @create and
 * nothing pinned, returns -ENOENT with an empty state.  Returns 0 or
 * -errno (-EBADMSG: the records contradict each other, -EPROTO: the pins
 * have another layout), with the problem said in @d.  The caller calls
 * state_close() whatever this returns.
 */
int state_load(struct state *st, const char *root, bool create, bool lock,
	       struct diag *d);

void state_close(struct state *st);

#endif /* CTL_STATE_H */
