// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "compile.h"
#include "decompile.h"
#include "doc.h"
#include "fsio.h"
#include "mapio.h"
#include "saved.h"
#include "txn.h"
#include "validate.h"

int txn_lock_dir(const char *dir, int *fd, uint64_t *count,
		 const char **step)
{
	char path[PATH_MAX];
	uint64_t n = 0;
	ssize_t got;
	int err;

	*fd = -1;
	*step = "bad path";
	err = fsio_pathf(path, sizeof(path), "%s/" TXN_LOCK_FILE, dir);
	if (err)
		return err;
	*step = "cannot create";
	err = fsio_mkdirs(dir, 0755);
	if (err)
		return err;
	*step = "cannot open";
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return -errno;
	/* Blocks while another writer holds it; EINTR only if a signal
	 * handler interrupts, and no user of this has one. */
	*step = "cannot lock";
	if (flock(*fd, LOCK_EX)) {
		err = -errno;
		goto fail;
	}
	/* The count, native-endian (the file never leaves the node); a
	 * file made before it held one is empty: 0. */
	*step = "cannot count in";
	got = pread(*fd, &n, sizeof(n), 0);
	if (got < 0) {
		err = -errno;
		goto fail;
	}
	if (got != sizeof(n))
		n = 0;
	n++;
	got = pwrite(*fd, &n, sizeof(n), 0);
	if (got != sizeof(n)) {
		err = got < 0 ? -errno : -EIO;
		goto fail;
	}
	if (count)
		*count = n;
	return 0;
fail:
	close(*fd);
	*fd = -1;
	return err;
}

/* Takes the writers' lock under @dir.  Returns 0 or -errno (said in t->d). */
static int txn_lock(struct txn *t, const char *dir)
{
	const char *step;
	int err;

	err = txn_lock_dir(dir, &t->lock_fd, &t->lock_count, &step);
	if (err)
		diag_add(&t->d, NULL, NULL, dir, "%s (" TXN_LOCK_FILE "): %s",
			 step, strerror(-err));
	return err;
}

/* The store of t->o: the caller's, or the maps under the pin root
 * (created with @create).  Returns 0, -ENOENT (nothing pinned and not
 * @create; not said), or -errno (said in t->d). */
static int txn_store(struct txn *t, bool create)
{
	int err;

	if (t->o.store) {
		t->store = t->o.store;
		return 0;
	}
	err = store_bpf_open(&t->store, t->o.bpf_root, create);
	if (!err) {
		t->owned = true;
		return 0;
	}
	/* libbpf refuses to reuse a pinned map whose definition (capacity,
	 * flags) differs from this build's, e.g. pins made before the
	 * capacities grew: say what to do about it. */
	if (err == -EINVAL && create)
		diag_add(&t->d, NULL, NULL, t->o.bpf_root,
			 "cannot open the policy maps: a map pinned there has "
			 "another definition (capacity or flags) than this "
			 "build's; remove the pins (rm -r %s) and apply again",
			 t->o.bpf_root);
	else if (err != -ENOENT || create)
		diag_add(&t->d, NULL, NULL, t->o.bpf_root,
			 "cannot open the policy maps: %s", strerror(-err));
	return err;
}

void txn_init(struct txn *t)
{
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	diag_init(&t->d);
	rec_set_init(&t->have);
	rec_set_init(&t->want);
	model_set_init(&t->applied);
	model_set_init(&t->next);
}

/* A transaction with nothing open yet, for @o. */
static void txn_open_none(struct txn *t, const struct txn_opts *o)
{
	txn_init(t);
	t->o = *o;
}

int txn_open_kept(struct txn *t, const struct txn_opts *o,
		  struct txn_kept *kept)
{
	struct mf_config now;
	int err = 0;

	txn_open_none(t, o);
	/* The lock first: reading what a writer is about to replace is
	 * what it serializes. */
	if (o->write && o->run_dir)
		err = txn_lock(t, o->run_dir);
	if (!err)
		err = txn_store(t, false);
	if (!err)
		t->pinned = true;
	if (!err && kept && kept->recs.config.epoch &&
	    (t->lock_fd >= 0 ? t->lock_count == kept->count + 1 :
			       o->store != NULL) &&
	    !(err = mapio_read_config(t->store, &now, &t->d)) &&
	    !memcmp(&now, &kept->recs.config, sizeof(now))) {
		t->have = kept->recs;
		rec_set_init(&kept->recs);
	} else if (!err) {
		err = mapio_read(t->store, &t->have, &t->d);
	}
	if (kept)
		rec_set_free(&kept->recs);
	if (!err && !o->records_only)
		err = decompile_records(&t->have, &t->applied, &t->d);
	if (err)
		t->stage = TXN_FAILED_OPEN;
	return err;
}

int txn_open(struct txn *t, const struct txn_opts *o)
{
	return txn_open_kept(t, o, NULL);
}

void txn_keep(struct txn *t, struct txn_kept *kept)
{
	rec_set_free(&kept->recs);
	kept->count = t->lock_count;
	if (t->committed_clean) {
		kept->recs = t->want;
		/* The half it was staged into, now in force. */
		kept->recs.config.active = t->have.config.active ? 0 : 1;
		rec_set_init(&t->want);
		rec_set_shrink(&kept->recs);
	} else if (t->stage == TXN_OPENED && t->pinned &&
		   !rec_other_count(&t->have)) {
		kept->recs = t->have;
		rec_set_init(&t->have);
	}
}

int txn_plan(struct txn *t)
{
	int err = validate_set(&t->next, &t->d);

	if (err) {
		diag_sort(&t->d);
		t->stage = TXN_FAILED_PLAN;
		return err;
	}
	rec_set_free(&t->want);
	err = compile_set(&t->next, &t->have, &t->want, &t->d);
	if (err) {
		t->stage = TXN_FAILED_COMPILE;
		return err;
	}
	t->want.config.epoch = t->have.config.epoch + 1;
	rec_diff(&t->have, &t->want, &t->diff);
	return 0;
}

int txn_commit(struct txn *t)
{
	struct saved_job job;
	int err = 0;

	/* Nothing pinned yet: now that the policy is known to be valid,
	 * make the maps (empty, so what was read stays true). */
	if (!t->pinned) {
		err = txn_store(t, true);
		if (err) {
			t->stage = TXN_FAILED_WRITE;
			return err;
		}
		t->pinned = true;
	}
	/* Rendering the saved state overlaps the map writes; storing it,
	 * the deletion of the old half (saved.h). */
	saved_job_start(&job, t->o.state_dir, &t->want);
	err = mapio_flip(t->store, &t->have, &t->want, &t->diff, &t->d);
	if (err) {
		saved_job_cancel(&job);
		t->stage = TXN_FAILED_WRITE;
		return err;
	}
	saved_job_stored(&job);
	t->committed_clean = mapio_retire(t->store, &t->have, &t->d);
	err = saved_job_finish(&job, &t->d);
	if (err)
		t->stage = TXN_FAILED_SAVE;
	return err;
}

void txn_close(struct txn *t)
{
	model_set_free(&t->next);
	model_set_free(&t->applied);
	rec_set_free(&t->want);
	rec_set_free(&t->have);
	diag_free(&t->d);
	if (t->owned)
		store_close(t->store);
	t->store = NULL;
	t->owned = false;
	if (t->lock_fd >= 0)
		close(t->lock_fd);	/* releases the flock */
	t->lock_fd = -1;
}

/* Parses the saved state @path into @set.  Returns 0, -ENOENT (no file;
 * not said), -EINVAL (said in @d) or -errno. */
static int txn_read_saved(const char *path, struct model_set *set,
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
	/* The objects keep copies of what they need, and their locations
	 * point at the set's copy of @path, not into @buf. */
	err = doc_parse_buffer(set, path, buf, len, d);
	free(buf);
	return err;
}

int txn_restore(struct txn *t, const struct txn_opts *o, bool force,
		struct txn_restore_info *info)
{
	struct txn_opts w = *o;
	struct model_set saved;
	struct diag d;
	char path[PATH_MAX];
	int err;

	/* 1. The saved state, read whole before the maps are touched. */
	model_set_init(&saved);
	diag_init(&d);
	err = saved_path(path, sizeof(path), o->state_dir);
	if (err)
		diag_add(&d, NULL, NULL, o->state_dir, "path too long");
	else
		err = txn_read_saved(path, &saved, &d);
	/* 2. The maps, under the lock.  Restore writes the saved state,
	 * and does not write it again. */
	w.write = true;
	w.state_dir = NULL;
	if (!err) {
		err = txn_open(t, &w);
		/* Records that contradict each other are read whole all
		 * the same: with --force, replacing them is the way out. */
		if (err == -ENOENT || (err == -EBADMSG && force)) {
			diag_free(&t->d);
			diag_init(&t->d);
			t->stage = TXN_OPENED;
			err = 0;
		}
	} else {
		/* Nothing opened: an empty transaction for the caller to
		 * read the problems from and close. */
		txn_open_none(t, &w);
		t->stage = TXN_FAILED_PLAN;
	}
	for (size_t i = 0; i < d.n; i++)
		diag_add(&t->d, NULL, NULL, NULL, "%s", d.msgs[i]);
	diag_free(&d);
	if (err) {
		model_set_free(&saved);
		return err;
	}
	/* The set moves into the transaction, which frees it. */
	model_set_free(&t->next);
	t->next = saved;
	if (t->have.config.epoch > 0 && !force) {
		diag_add(&t->d, NULL, NULL, NULL,
			 "the maps under %s already hold a policy (epoch "
			 "%llu); restore is for the empty maps of a node after "
			 "a reboot: use --force to replace that policy with "
			 "the saved state", t->store->where,
			 (unsigned long long)t->have.config.epoch);
		t->stage = TXN_FAILED_WRITE;
		return -EEXIST;
	}
	/* 3. A full replacement: the saved objects alone, not merged. */
	err = txn_plan(t);
	if (!err)
		err = txn_commit(t);
	/* -ENOENT means "no saved state" to the caller. */
	if (err == -ENOENT)
		err = -EIO;
	if (!err && info) {
		info->epoch = t->want.config.epoch;
		info->objects = t->next.n;
	}
	return err;
}
