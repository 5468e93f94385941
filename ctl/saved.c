// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decompile.h"
#include "emit.h"
#include "fsio.h"
#include "mapio.h"
#include "saved.h"

int saved_path(char *buf, size_t n, const char *state_dir)
{
	return fsio_pathf(buf, n, "%s/" SAVED_FILE, state_dir);
}

/* The YAML `get` prints for the maps of @pm, into *@text (malloc'ed, the
 * caller frees it) and *@len.  Returns 0 or -errno (said in @d). */
static int saved_render(const struct pmap *pm, char **text, size_t *len,
			struct diag *d)
{
	struct model_set objs;
	struct rec_set rs;
	FILE *f;
	int err;

	*text = NULL;
	*len = 0;
	model_set_init(&objs);
	/* Read back rather than reuse what the caller meant to write: the
	 * file must be what `get` prints now, whatever the write did. */
	err = mapio_read(pm, &rs, d);
	if (!err)
		err = decompile_records(&rs, &objs, d);
	if (err)
		goto out;
	f = open_memstream(text, len);
	if (!f) {
		err = -errno;
		diag_add(d, NULL, NULL, NULL, "cannot render the state: %s",
			 strerror(-err));
		goto out;
	}
	err = emit_set(f, &objs, EMIT_ALL_KINDS);
	/* fclose() finalises *text and *len. */
	if (fclose(f) && !err)
		err = -EIO;
	if (err) {
		diag_add(d, NULL, NULL, NULL, "cannot render the state: %s",
			 strerror(-err));
		free(*text);
		*text = NULL;
	}
out:
	rec_set_free(&rs);
	model_set_free(&objs);
	return err;
}

int saved_write(const char *state_dir, const struct pmap *pm, struct diag *d)
{
	char path[PATH_MAX];
	char *text = NULL;
	size_t len;
	int err;

	err = saved_path(path, sizeof(path), state_dir);
	if (err) {
		diag_add(d, NULL, NULL, state_dir, "path too long");
		return err;
	}
	err = saved_render(pm, &text, &len, d);
	if (err)
		return err;
	err = fsio_mkdirs(state_dir, 0700);
	if (err) {
		diag_add(d, NULL, NULL, state_dir, "cannot create: %s",
			 strerror(-err));
		goto out;
	}
	err = fsio_write_atomic(path, text, len, 0600);
	if (err) {
		diag_add(d, NULL, NULL, path, "cannot write: %s",
			 strerror(-err));
		goto out;
	}
	/* The rename is only durable once the directory is. */
	err = fsio_fsync_dir(state_dir);
	if (err)
		diag_add(d, NULL, NULL, state_dir, "cannot fsync: %s",
			 strerror(-err));
out:
	free(text);
	return err;
}

int saved_after_write(const struct ctl_opts *o, const struct pmap *pm,
		      const char *what, unsigned long long epoch)
{
	struct diag d;
	int err;

	if (!o->state_dir)
		return CTL_EXIT_OK;
	diag_init(&d);
	err = saved_write(o->state_dir, pm, &d);
	if (err) {
		diag_print(&d, stderr);
		ctl_err("the %s is in force (epoch %llu) but the state could "
			"not be saved under %s; the maps were not rolled back, "
			"and a restore (after a reboot) would bring back an "
			"older policy: fix the cause and apply again", what,
			epoch, o->state_dir);
	}
	diag_free(&d);
	return err ? CTL_EXIT_SYSTEM : CTL_EXIT_OK;
}
