// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl apply -f FILE|DIR|-`: upsert objects by (kind, name) into the
 * applied policy.
 *
 * The whole input is parsed and checked before the maps are touched, then
 * merged over the applied state (read back from the maps), the merged set
 * is validated and compiled, and only then is anything written: the whole
 * policy into the maps' other half, then mf_config (epoch + 1, active
 * half) flipped in one update (ctl/mapio.h), all under the writers' lock.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/compile.h"
#include "ctl.h"
#include "policy/input.h"
#include "policy/mapio.h"
#include "policy/saved.h"
#include "policy/state.h"
#include "policy/validate.h"

const char ctl_usage_apply[] =
	"usage: mfctl [--bpf-root DIR] [--run-dir DIR] apply -f FILE|DIR|- [-f ...]\n"
	"                                               [--dry-run]\n"
	"\n"
	"Applies policy objects (YAML, several documents per file) to the\n"
	"node-local policy map: each object replaces the applied object of the\n"
	"same kind and name, or is added.  Everything is validated first;\n"
	"nothing is written when anything is wrong.  The new policy takes\n"
	"effect at once, whole: readers see the old one or the new one.\n"
	"Concurrent applies, deletes and restores wait for each other\n"
	"(<run-dir>/mfctl.lock).  After the write, the\n"
	"applied state (what `get` prints) is saved to <state-dir>/policy.yaml\n"
	"for `mfctl restore`.\n"
	"\n"
	"  -f, --filename F  a YAML file, a directory (its *.yaml and *.yml\n"
	"                    files, in name order) or - for standard input\n"
	"  --dry-run         validate and compile against the applied state,\n"
	"                    report what would change, write nothing\n"
	"\n"
	"Kinds (apiVersion meshforge.io/v1alpha1 or kuma.io/v1alpha1): Mesh,\n"
	"Node, Service, Workload, MeshTrafficPermission, and Kuma's policy\n"
	"kinds from MeshTimeout to MeshGatewayRoute (docs/policy.md).\n"
	"\n"
	"Exit codes: 0 ok, 1 invalid input, 2 system error (the policy in\n"
	"force unchanged, but also when the maps were written and the state\n"
	"could not be saved; the maps are not rolled back then).\n";

static void apply_report(const char *what, __u64 epoch,
			 const struct rec_diff *st)
{
	printf("%s epoch %llu: %zu created, %zu updated, %zu deleted, "
	       "%zu unchanged\n", what, (unsigned long long)epoch, st->created,
	       st->updated, st->deleted, st->unchanged);
}

/* The applied state, read on a thread while the input parses: both take
 * a good part of an apply at scale, and neither needs the other. */
struct apply_load {
	struct state st;
	struct diag d;
	const char *root;
	const char *lock_dir;
	int err;
	pthread_t thread;
	bool threaded;
};

static void *apply_load_run(void *arg)
{
	struct apply_load *l = arg;

	/* Nothing is created here: an input that turns out invalid must
	 * leave a fresh pin root as empty as it found it. */
	l->err = state_load(&l->st, l->root, false, l->lock_dir, &l->d);
	return NULL;
}

int ctl_cmd_apply(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct model_set input, merged;
	struct rec_set want;
	struct saved_job job;
	struct rec_diff diff;
	struct apply_load ld;
	struct state st;
	struct diag d;
	const char **files = NULL;
	size_t nfiles = 0;
	bool dry_run = false;
	int c, err, rc = CTL_EXIT_SYSTEM;

	files = calloc((size_t)argc, sizeof(*files));
	if (!files) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files[nfiles++] = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'h':
			fputs(ctl_usage_apply, stdout);
			free(files);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_apply, stderr);
			free(files);
			return CTL_EXIT_INVALID;
		}
	}
	if (!ctl_args_ok(argc, argv, nfiles, "apply", ctl_usage_apply)) {
		free(files);
		return CTL_EXIT_INVALID;
	}

	diag_init(&d);
	model_set_init(&input);
	model_set_init(&merged);
	rec_set_init(&want);
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;
	memset(&ld, 0, sizeof(ld));
	diag_init(&ld.d);
	ld.root = o->bpf_root;
	ld.lock_dir = !dry_run ? o->run_dir : NULL;
	ld.threaded = !pthread_create(&ld.thread, NULL, apply_load_run, &ld);

	/* 1. The input, alone (and 2., the applied state, meanwhile). */
	err = ctl_parse_inputs(&input, files, nfiles, &d, "nothing applied");
	if (ld.threaded)
		pthread_join(ld.thread, NULL);
	else
		apply_load_run(&ld);
	st = ld.st;
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}

	/* 2. Nothing pinned yet: now that the input is valid, make the
	 * maps.  A dry run creates nothing. */
	err = ld.err;
	if (err == -ENOENT && !dry_run) {
		state_close(&st);
		diag_free(&ld.d);
		diag_init(&ld.d);
		err = state_load(&st, o->bpf_root, true, o->run_dir, &ld.d);
	}
	if (err && !(dry_run && err == -ENOENT)) {
		diag_print(&ld.d, stderr);
		if (err == -EBADMSG)
			ctl_err("the applied state under %s is inconsistent; "
				"remove the pins there to start over",
				o->bpf_root);
		goto out;
	}

	/* 3. Merge, validate, compile. */
	err = input_merge_take(&input, &st.objs, &merged);
	if (!err)
		err = validate_set(&merged, &d);
	if (err) {
		diag_sort(&d);
		diag_print(&d, stderr);
		if (err == -EINVAL)
			ctl_err("%zu problem%s found; nothing applied",
				diag_count(&d), diag_count(&d) == 1 ? "" : "s");
		rc = ctl_exit_for(err);
		goto out;
	}
	err = compile_set(&merged, &st.have, &want, &d);
	if (err) {
		diag_print(&d, stderr);
		ctl_err("cannot compile: %s; nothing applied",
			err == -ENOSPC ? "a policy map would be over capacity" :
			strerror(-err));
		goto out;
	}
	want.config.epoch = st.have.config.epoch + 1;

	/* 4. Write. */
	if (dry_run) {
		rec_diff(&st.have, &want, &diff);
		apply_report("dry run: would apply", want.config.epoch, &diff);
		rc = CTL_EXIT_OK;
		goto out;
	}
	saved_job_start(&job, o->state_dir, &want);
	err = mapio_flip(&st.pm, &st.have, &want, &diff, &d);
	if (!err) {
		/* In force: store the saved state while the old half goes. */
		saved_job_stored(&job);
		mapio_retire(&st.pm, &st.have, &d);
	}
	if (err) {
		saved_job_cancel(&job);
		diag_print(&d, stderr);
		ctl_err("apply failed: the policy in force under %s is "
			"unchanged (epoch %llu); nothing applied", o->bpf_root,
			(unsigned long long)st.have.config.epoch);
		goto out;
	}
	/* Old-half records left behind: said, not an error (mapio.h). */
	if (diag_count(&d))
		diag_print(&d, stderr);
	apply_report("applied", want.config.epoch, &diff);
	/* Still under the writers' lock. */
	rc = ctl_saved_finish(&job, o, "apply", want.config.epoch);
out:
	diag_free(&ld.d);
	state_close(&st);
	rec_set_free(&want);
	model_set_free(&merged);
	model_set_free(&input);
	diag_free(&d);
	free(files);
	return rc;
}
