/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The saved state: <state-dir>/policy.yaml, the applied policy as `mfctl
 * get` prints it, written after every apply and delete that changed the
 * maps.  Pinned maps outlive mfctl and the agent but not a reboot; this
 * file is what `mfctl restore` (and the agent at start) rebuilds them from.
 */
#ifndef CTL_SAVED_H
#define CTL_SAVED_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "records.h"

#define SAVED_FILE "policy.yaml"

/* <@state_dir>/policy.yaml into @buf.  Returns 0 or -ENAMETOOLONG. */
int saved_path(char *buf, size_t n, const char *state_dir);

/*
 * Saving after apply and delete.  saved_job_start() renders @want (the
 * records about to be written; the maps hold exactly them once the write
 * succeeded, so this is what `get` will print) on a thread while the
 * caller writes the maps.  Once the new policy is in force (after
 * mapio_flip(), still under the writers' lock, so two saves land in the
 * order of their writes), saved_job_stored() lets the thread store it
 * while the caller finishes the write (mapio_retire());
 * saved_job_finish() waits for it and reports.  After a failed write,
 * saved_job_cancel() instead: nothing is stored.  Without a state
 * directory all do nothing.  saved_job_finish() returns 0 or the -errno
 * of the save, whose problems it adds to @d.
 * @want must outlive the job.
 */
struct saved_job {
	const struct rec_set *rs;
	const char *state_dir;
	pthread_t thread;
	pthread_mutex_t mu;	/* guards go */
	pthread_cond_t cv;
	int go;			/* 0 wait, 1 store, -1 drop */
	bool active;		/* there is a state directory */
	bool threaded;		/* thread is running or to be joined */
	char *text;		/* owned: the rendered YAML */
	size_t len;
	int err;
	struct diag d;
};

void saved_job_start(struct saved_job *j, const char *state_dir,
		     const struct rec_set *want);
void saved_job_stored(struct saved_job *j);
int saved_job_finish(struct saved_job *j, struct diag *d);
void saved_job_cancel(struct saved_job *j);

#endif /* CTL_SAVED_H */
