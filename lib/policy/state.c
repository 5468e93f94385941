// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "decompile.h"
#include "fsio.h"
#include "mapio.h"
#include "state.h"

/* Takes the writers' lock under @dir into st->lock_fd.  Returns 0 or
 * -errno (said in @d). */
static int state_lock(struct state *st, const char *dir, struct diag *d)
{
	char path[PATH_MAX];
	int err;

	err = fsio_pathf(path, sizeof(path), "%s/" STATE_LOCK_FILE, dir);
	if (err) {
		diag_add(d, NULL, NULL, dir, "path too long");
		return err;
	}
	err = fsio_mkdirs(dir, 0755);
	if (err) {
		diag_add(d, NULL, NULL, dir, "cannot create: %s",
			 strerror(-err));
		return err;
	}
	st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lock_fd < 0) {
		err = -errno;
		diag_add(d, NULL, NULL, path, "cannot open: %s",
			 strerror(-err));
		return err;
	}
	/* Blocks while another writer holds it; EINTR only if a signal
	 * handler interrupts, which mfctl has none of. */
	if (flock(st->lock_fd, LOCK_EX)) {
		err = -errno;
		diag_add(d, NULL, NULL, path, "cannot lock: %s",
			 strerror(-err));
		return err;
	}
	return 0;
}

int state_load(struct state *st, const char *root, bool create,
	       const char *lock_dir, struct diag *d)
{
	int err;

	memset(st, 0, sizeof(st[0]));
	st->lock_fd = -1;
	rec_set_init(&st->have);
	model_set_init(&st->objs);

	/* The lock first: creating the pins is a write too. */
	if (lock_dir) {
		err = state_lock(st, lock_dir, d);
		if (err)
			return err;
	}
	/* Pinned already (every apply but the first): open the pins as
	 * they are, without loading the maps' BPF object.  Their layout is
	 * checked by mapio_read(), their capacity by the kernel when a
	 * write needs it (mapio_write() names a map pinned too small). */
	err = pmap_open(&st->pm, root, false);
	if (err == -ENOENT && create)
		err = pmap_open(&st->pm, root, true);
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
