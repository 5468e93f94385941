// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "decompile.h"
#include "doc.h"
#include "render.h"
#include "fsio.h"
#include "mapio.h"
#include "saved.h"
#include "state.h"
#include "validate.h"

int saved_path(char *buf, size_t n, const char *state_dir)
{
	return fsio_pathf(buf, n, "%s/" SAVED_FILE, state_dir);
}

/* The YAML `get` prints for records @rs, into *@text (malloc'ed, the
 * caller frees it) and *@len.  Returns 0 or -errno (said in @d). */
static int saved_render(const struct rec_set *rs, char **text, size_t *len,
			struct diag *d)
{
	struct model_set objs;
	FILE *f;
	int err;

	*text = NULL;
	*len = 0;
	model_set_init(&objs);
	err = decompile_records(rs, &objs, d);
	if (err)
		goto out;
	f = open_memstream(text, len);
	if (!f) {
		err = -errno;
		diag_add(d, NULL, NULL, NULL, "cannot render the state: %s",
			 strerror(-err));
		goto out;
	}
	err = render_set(f, EMIT_YAML, &objs, RENDER_ALL_KINDS, NULL);
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
	model_set_free(&objs);
	return err;
}

/* Writes @text to <@state_dir>/policy.yaml, atomically and durably. */
static int saved_store(const char *state_dir, const char *text, size_t len,
		       struct diag *d)
{
	char path[PATH_MAX];
	int err;

	err = saved_path(path, sizeof(path), state_dir);
	if (err) {
		diag_add(d, NULL, NULL, state_dir, "path too long");
		return err;
	}
	err = fsio_mkdirs(state_dir, 0700);
	if (err) {
		diag_add(d, NULL, NULL, state_dir, "cannot create: %s",
			 strerror(-err));
		return err;
	}
	err = fsio_write_atomic(path, text, len, 0600);
	if (err) {
		diag_add(d, NULL, NULL, path, "cannot write: %s",
			 strerror(-err));
		return err;
	}
	/* The rename is only durable once the directory is. */
	err = fsio_fsync_dir(state_dir);
	if (err)
		diag_add(d, NULL, NULL, state_dir, "cannot fsync: %s",
			 strerror(-err));
	return err;
}

int saved_write(const char *state_dir, const struct pmap *pm, struct diag *d)
{
	struct rec_set rs;
	char *text = NULL;
	size_t len;
	int err;

	err = mapio_read(pm, &rs, d);
	if (!err)
		err = saved_render(&rs, &text, &len, d);
	if (!err)
		err = saved_store(state_dir, text, len, d);
	free(text);
	rec_set_free(&rs);
	return err;
}

/* The job's thread: render, then wait for the write's outcome, and
 * store only once the new policy is in force. */
static void *saved_job_run(void *arg)
{
	struct saved_job *j = arg;
	int go;

	j->err = saved_render(j->rs, &j->text, &j->len, &j->d);
	pthread_mutex_lock(&j->mu);
	while (!j->go)
		pthread_cond_wait(&j->cv, &j->mu);
	go = j->go;
	pthread_mutex_unlock(&j->mu);
	if (go > 0 && !j->err)
		j->err = saved_store(j->state_dir, j->text, j->len, &j->d);
	return NULL;
}

/* Tells the thread what became of the write: @go 1 store, -1 drop. */
static void saved_job_signal(struct saved_job *j, int go)
{
	pthread_mutex_lock(&j->mu);
	if (!j->go)
		j->go = go;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

void saved_job_start(struct saved_job *j, const char *state_dir,
		     const struct rec_set *want)
{
	memset(j, 0, sizeof(*j));
	diag_init(&j->d);
	j->rs = want;
	if (!state_dir)
		return;
	j->active = true;
	j->state_dir = state_dir;
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->cv, NULL);
	/* On a thread: rendering overlaps the map writes, and the store
	 * the old half's deletion; neither touches what the other does
	 * (@want is only read). */
	j->threaded = !pthread_create(&j->thread, NULL, saved_job_run, j);
}

void saved_job_stored(struct saved_job *j)
{
	if (!j->active)
		return;
	if (j->threaded) {
		saved_job_signal(j, 1);
		return;
	}
	/* No thread: do it all here. */
	j->err = saved_render(j->rs, &j->text, &j->len, &j->d);
	if (!j->err)
		j->err = saved_store(j->state_dir, j->text, j->len, &j->d);
	j->go = 1;
}

void saved_job_cancel(struct saved_job *j)
{
	if (j->threaded) {
		saved_job_signal(j, -1);
		pthread_join(j->thread, NULL);
	}
	if (j->active) {
		pthread_cond_destroy(&j->cv);
		pthread_mutex_destroy(&j->mu);
	}
	free(j->text);
	diag_free(&j->d);
	memset(j, 0, sizeof(*j));
}

int saved_job_finish(struct saved_job *j, struct diag *d)
{
	int err;

	if (!j->active) {
		saved_job_cancel(j);
		return 0;
	}
	if (!j->go)
		saved_job_stored(j);
	if (j->threaded)
		pthread_join(j->thread, NULL);
	j->threaded = false;
	err = j->err;
	for (size_t i = 0; err && i < j->d.n; i++)
		diag_add(d, NULL, NULL, NULL, "%s", j->d.msgs[i]);
	saved_job_cancel(j);
	return err;
}

/* Parses and validates the saved state @path into @objs.  Returns 0,
 * -ENOENT (no file), -EINVAL (said in @d) or -errno. */
static int restore_parse(const char *path, struct model_set *objs,
			 struct diag *d)
{
	char *buf;
	size_t len;
	int err;

	err = fsio_read_all(path, &buf, &len);
	if (err) {
		if (err != -ENOENT)
			diag_add(d, NULL, NULL, path, "cannot read: %s",
				 strerror(-err));
		return err;
	}
	err = doc_parse_buffer(objs, path, buf, len, d);
	/* The objects keep copies of what they need, and their locations
	 * point at the set's copy of @path, not into @buf. */
	free(buf);
	if (err)
		return err;
	return validate_set(objs, d);
}

int saved_restore(const char *bpf_root, const char *state_dir,
		  const char *run_dir, bool force, FILE *log,
		  struct saved_restore_info *info)
{
	char path[PATH_MAX];
	struct model_set objs;
	struct rec_set want;
	struct rec_diff diff;
	struct state st;
	struct diag d;
	int err;

	diag_init(&d);
	model_set_init(&objs);
	rec_set_init(&want);
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;

	err = saved_path(path, sizeof(path), state_dir);
	if (err) {
		fprintf(log, "mfctl: state dir %s: path too long\n", state_dir);
		goto out;
	}
	/* 1. The saved state, checked whole before the maps are touched. */
	err = restore_parse(path, &objs, &d);
	if (err == -ENOENT)
		goto out;	/* the caller says whether that is a problem */
	if (err) {
		diag_sort(&d);
		diag_print(&d, log);
		if (err == -EINVAL)
			fprintf(log, "mfctl: the saved state %s is not a valid "
				"policy; nothing restored\n", path);
		goto out;
	}

	/* 2. The maps, created when missing, locked against an apply. */
	err = state_load(&st, bpf_root, true, run_dir, &d);
	/* Records that contradict each other are read whole all the same:
	 * with --force, replacing them all is the way out. */
	if (err == -EBADMSG && force && st.open) {
		diag_free(&d);
		diag_init(&d);
		err = 0;
	}
	if (err) {
		diag_print(&d, log);
		if (err == -EBADMSG)
			fprintf(log, "mfctl: the maps under %s are "
				"inconsistent; remove the pins there and "
				"restore again\n", bpf_root);
		/* -ENOENT means "no saved state" to the caller. */
		if (err == -ENOENT)
			err = -EIO;
		goto out;
	}
	if (st.have.config.epoch > 0 && !force) {
		fprintf(log, "mfctl: the maps under %s already hold a policy "
			"(epoch %llu); restore is for the empty maps of a node "
			"after a reboot: use --force to replace that policy "
			"with the saved state; nothing restored\n", bpf_root,
			(unsigned long long)st.have.config.epoch);
		err = -EEXIST;
		goto out;
	}

	/* 3. Full replacement: the saved objects alone, not merged. */
	err = compile_set(&objs, &st.have, &want, &d);
	if (err) {
		diag_print(&d, log);
		fprintf(log, "mfctl: cannot compile the saved state: %s; "
			"nothing restored\n", err == -ENOSPC ?
			"a policy map would be over capacity" : strerror(-err));
		if (err == -ENOENT)
			err = -EIO;
		goto out;
	}
	want.config.epoch = st.have.config.epoch + 1;
	err = mapio_write(&st.pm, &st.have, &want, &diff, &d);
	if (err) {
		diag_print(&d, log);
		fprintf(log, "mfctl: restore failed: the policy in force under "
			"%s is unchanged (epoch %llu); nothing restored\n",
			bpf_root, (unsigned long long)st.have.config.epoch);
		if (err == -ENOENT)
			err = -EIO;
		goto out;
	}
	/* Left behind in the old half: said, not an error (mapio.h). */
	if (diag_count(&d))
		diag_print(&d, log);
	if (info) {
		info->epoch = want.config.epoch;
		info->objects = objs.n;
	}
out:
	state_close(&st);
	rec_set_free(&want);
	model_set_free(&objs);
	diag_free(&d);
	return err;
}

