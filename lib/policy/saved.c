// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decompile.h"
#include "render.h"
#include "fsio.h"
#include "saved.h"

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
	/* Fsyncs the file and the state dir: durable when it returns 0. */
	err = fsio_write_atomic(path, text, len, 0600);
	if (err)
		diag_add(d, NULL, NULL, path, "cannot write: %s",
			 strerror(-err));
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
