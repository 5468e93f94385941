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
#include "pmap.h"
#include "records.h"

#define SAVED_FILE "policy.yaml"

/* <@state_dir>/policy.yaml into @buf.  Returns 0 or -ENAMETOOLONG. */
int saved_path(char *buf, size_t n, const char *state_dir);

/*
 * Reads the maps of @pm back, decompiles them and writes them, as `get`
 * prints them, to <@state_dir>/policy.yaml: through a temporary file in
 * the same directory, fsynced, renamed over the old file, then the
 * directory fsynced, so after a crash the file is the old state or the new
 * one, never a torn one.  The file is 0600 and @state_dir, when this
 * creates it, 0700: the policy names every workload of the node.  Returns
 * 0 or -errno (said in @d).
 */
int saved_write(const char *state_dir, const struct pmap *pm, struct diag *d);

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

/* What saved_restore() restored. */
struct saved_restore_info {
	uint64_t epoch;		/* the epoch the restore wrote */
	size_t objects;		/* objects in the saved state */
};

/*
 * Rebuilds the policy maps under @bpf_root (creating and pinning them when
 * missing) from the saved state <@state_dir>/policy.yaml, holding the
 * writers' lock under @run_dir (NULL: none), as a full
 * replacement: afterwards the maps hold exactly the saved objects, at the
 * epoch in force + 1.  Without @force it refuses when the maps already
 * hold a policy (mf_config epoch > 0): restore is for the empty maps of a
 * node after a reboot, not for undoing an apply.  Problems are written to
 * @log, one "mfctl: ..." line each (diagnostics of an invalid file as
 * "file:line:col: ..."); nothing goes to stdout.  Fills @info on success
 * (may be NULL).  Shared by `mfctl restore` and the agent at start, which
 * is why it returns -errno, not an exit code.  Returns 0, -ENOENT when
 * there is no saved state (and only then; nothing is written to @log, as
 * for the agent that is the normal case of a node never applied to),
 * -EEXIST when refused for the reason above, -EINVAL when the saved state
 * is not a valid policy, or another -errno (system error; nothing written
 * unless the message says the write failed part way).
 */
int saved_restore(const char *bpf_root, const char *state_dir,
		  const char *run_dir, bool force, FILE *log,
		  struct saved_restore_info *info);

#endif /* CTL_SAVED_H */
