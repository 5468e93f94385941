// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl apply -f FILE|DIR|-`: upsert objects by (kind, name) into the
 * applied policy.  The whole input is parsed and checked before the maps
 * are touched, merged over the policy in force, and written by one
 * transaction (lib/policy/txn.h): staged into the other half, then put in
 * force by one flip of mf_config, under the writers' lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "ctl.h"
#include "mesh.h"
#include "policy/input.h"
#include "policy/txn.h"

/* The transaction opens (lock, store, the policy in force) on a thread
 * while the input parses: both take a good part of an apply at scale, and
 * neither needs the other. */
struct apply_open {
	struct txn t;
	const struct ctl_opts *o;
	bool write;
	int err;
};

static void *apply_open_run(void *arg)
{
	struct apply_open *ao = arg;

	ao->err = ctl_txn_open(&ao->t, ao->o, ao->write);
	return NULL;
}

/* The change apply makes to the mesh read into @t: @arg, the input,
 * merged over it. */
static int apply_change(struct txn *t, void *arg)
{
	const struct model_set *input = arg;
	int err;

	err = input_merge(input, &t->applied, &t->next);
	if (!err)
		err = txn_plan(t);
	return err;
}

/* apply of the parsed @input to the mesh in the store.  Returns the exit
 * code. */
static int apply_mesh(const struct ctl_opts *o, const struct ctl_args *a,
		      struct model_set *input)
{
	const bool dry = a->set[CTL_OPT_DRY_RUN];
	struct ctl_mesh m;
	struct txn t;
	int err, rc;

	if (a->set[CTL_OPT_WAIT]) {
		ctl_err("--wait is for this node's maps; with --store, each "
			"node's sync reports what it serves (mfctl status)");
		return CTL_EXIT_INVALID;
	}
	err = ctl_mesh_write(&m, &t, o, dry, apply_change, input);
	if (err) {
		rc = ctl_mesh_fail(&m, &t, err, "apply", "nothing applied");
		goto out;
	}
	printf("%s %s revision %lld: %zu created, %zu updated, %zu deleted, "
	       "%zu unchanged\n", dry ? "dry run: would apply to" :
	       "applied to", m.ms->where,
	       (long long)(m.nops && !dry ? m.wrote : m.rev), m.created,
	       m.updated, m.deleted, m.unchanged);
	rc = CTL_EXIT_OK;
out:
	ctl_mesh_close(&m, &t);
	return rc;
}

int ctl_apply(const struct ctl_opts *o, const struct ctl_args *a)
{
	const bool dry = a->set[CTL_OPT_DRY_RUN];
	struct apply_open ao = { .o = o, .write = !dry };
	struct model_set input;
	struct diag d;
	pthread_t th;
	bool threaded;
	int err, rc;

	if (!a->nfiles) {
		ctl_err("apply needs -f FILE");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	diag_init(&d);
	model_set_init(&input);
	if (o->store_url) {
		err = ctl_parse_inputs(&input, a, &d, "nothing applied");
		rc = err ? ctl_exit_for(err) : apply_mesh(o, a, &input);
		model_set_free(&input);
		diag_free(&d);
		return rc;
	}
	threaded = !pthread_create(&th, NULL, apply_open_run, &ao);
	err = ctl_parse_inputs(&input, a, &d, "nothing applied");
	if (threaded)
		pthread_join(th, NULL);
	else
		apply_open_run(&ao);
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}
	/* Nothing pinned: an empty policy in force; the maps are made at
	 * commit, once the input is known to be good. */
	err = ao.err == -ENOENT ? 0 : ao.err;
	if (!err)
		err = input_merge_take(&input, &ao.t.applied, &ao.t.next);
	if (!err)
		err = txn_plan(&ao.t);
	if (!err && !dry)
		err = txn_commit(&ao.t);
	if (err) {
		rc = ctl_txn_fail(&ao.t, err, "apply", "nothing applied");
		goto out;
	}
	/* Old-half records left behind: said, not an error (mapio.h). */
	diag_print(&ao.t.d, stderr);
	printf("%s epoch %llu: %zu created, %zu updated, %zu deleted, "
	       "%zu unchanged\n", dry ? "dry run: would apply" : "applied",
	       (unsigned long long)ao.t.want.config.epoch, ao.t.diff.created,
	       ao.t.diff.updated, ao.t.diff.deleted, ao.t.diff.unchanged);
	rc = ctl_wait_agent(a, dry, ao.t.want.config.epoch);
out:
	/* The merged set points at the input's file names: it goes first. */
	txn_close(&ao.t);
	model_set_free(&input);
	diag_free(&d);
	return rc;
}
