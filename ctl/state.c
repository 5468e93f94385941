// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "decompile.h"
#include "mapio.h"
#include "state.h"

int state_load(struct state *st, const char *root, bool create, bool lock,
	       struct diag *d)
{
	int err;

	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	rec_set_init(&st->have);
	model_set_init(&st->objs);

	err = pmap_open(&st->pm, root, create);
	if (err) {
		/* libbpf refuses to reuse a pinned map whose definition
		 * (capacity, flags) differs from this build's, e.g. pins made
		 * before the capacities grew: say what to do about it. */
		if (err == -EINVAL && create)
			diag_add(d, NULL, NULL, root,
				 "cannot open the policy maps: a map pinned "
				 "there has another definition (capacity or "
				 "flags) than this build's; remove the pins "
				 "(rm -r %s) and apply again", root);
		else if (err != -ENOENT || create)
			diag_add(d, NULL, NULL, root,
				 "cannot open the policy maps: %s",
				 strerror(-err));
		return err;
	}
	st->open = true;
	if (lock) {
		/* flock() on a directory works on bpffs like anywhere: the
		 * lock lives in the VFS, not in the filesystem. */
		st->lock_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (st->lock_fd < 0 || flock(st->lock_fd, LOCK_EX)) {
			err = -errno;
			diag_add(d, NULL, NULL, root, "cannot lock: %s",
				 strerror(-err));
			return err;
		}
	}
	err = mapio_read(&st->pm, &st->have, d);
	if (err)
		return err;
	return decompile_records(&st->have, &st->objs, d);
}

void state_close(struct state *st)
{
	model_set_free(&st->objs);
	rec_set_free(&st->have);
	if (st->lock_fd >= 0)
		close(st->lock_fd);	/* releases the flock */
	st->lock_fd = -1;
	if (st->open)
		pmap_close(&st->pm);
	st->open = false;
}
