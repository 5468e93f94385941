// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl delete -f FILE|DIR|-` and `mfctl delete KIND NAME`: remove objects
 * by (kind, name) from the applied policy, through the same transaction as
 * apply: what is left is validated (so deleting a Service that a Workload
 * or a MeshTrafficPermission still names is refused, naming the referrer)
 * and compiled before anything is written.  With -f, only the kind and
 * name of each document count, but the documents must still be valid: a
 * file that apply would refuse is refused here too, so a typo never
 * deletes the wrong thing.  With --store, the same on the mesh in the
 * store (mesh.h), retried over a fresh read when another writer came
 * first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "mesh.h"
#include "policy/input.h"
#include "policy/txn.h"

/* One object to delete; @name points into the parsed input or argv. */
struct del_target {
	enum model_kind kind;
	const char *name;
	bool found;
};

/* @applied minus the objects of @targets, copied into @out.  Marks the
 * targets that were there.  Returns 0 or -ENOMEM. */
static int del_remove(const struct model_set *applied,
		      struct del_target *targets, size_t n,
		      struct model_set *out)
{
	int err = 0;

	for (size_t i = 0; i < applied->n && !err; i++) {
		const struct model_obj *o = &applied->objs[i];
		bool gone = false;

		for (size_t j = 0; j < n; j++)
			if (targets[j].kind == o->kind &&
			    !strcmp(targets[j].name, o->name))
				targets[j].found = gone = true;
		if (!gone)
			err = model_set_add_copy(out, applied, o);
	}
	return err;
}

/* Says each target not found (unless --ignore-not-found).  Returns true
 * when one was missing. */
static bool del_missing(const struct ctl_args *a,
			const struct del_target *targets, size_t n,
			const char *why, size_t *ndeleted)
{
	bool missing = false;

	*ndeleted = 0;
	for (size_t i = 0; i < n; i++) {
		if (targets[i].found || a->set[CTL_OPT_IGNORE]) {
			*ndeleted += targets[i].found;
			continue;
		}
		ctl_err("%s \"%s\" not found%s",
			model_kind_name(targets[i].kind), targets[i].name, why);
		missing = true;
	}
	if (missing)
		ctl_err("nothing deleted");
	return missing;
}

/* What delete makes of the policy read into a transaction. */
struct del_change {
	const struct ctl_args *a;
	struct del_target *targets;	/* the caller's */
	size_t ntargets;
	const char *why;		/* said after "not found" */
	size_t ndeleted;
	int rc;				/* the exit code at MESH_STOP */
};

/* After del_remove() into @t: stops (MESH_STOP, the exit code in dc->rc)
 * when a target is missing, when there is nothing to delete, or when what
 * is left would be invalid; else txn_plan()'s 0 or -errno. */
static int del_plan(struct txn *t, struct del_change *dc)
{
	int err;

	if (del_missing(dc->a, dc->targets, dc->ntargets, dc->why,
			&dc->ndeleted)) {
		dc->rc = CTL_EXIT_INVALID;
		return MESH_STOP;
	}
	if (!dc->ndeleted) {
		printf("nothing to delete\n");
		dc->rc = CTL_EXIT_OK;
		return MESH_STOP;
	}
	err = txn_plan(t);
	if (err == -EINVAL) {
		diag_print(&t->d, stderr);
		ctl_err("the objects left would be invalid (above: what still "
			"refers to what is deleted); nothing deleted");
		dc->rc = CTL_EXIT_INVALID;
		return MESH_STOP;
	}
	return err;
}

/* The change delete makes to the mesh read into @t (ctl_mesh_write()). */
static int del_change(struct txn *t, void *arg)
{
	struct del_change *dc = arg;
	int err;

	for (size_t i = 0; i < dc->ntargets; i++)
		dc->targets[i].found = false;
	err = del_remove(&t->applied, dc->targets, dc->ntargets, &t->next);
	return err ? err : del_plan(t, dc);
}

/* delete of @dc's targets from the mesh in the store.  Returns the exit
 * code. */
static int del_mesh(const struct ctl_opts *o, const struct ctl_args *a,
		    struct del_change *dc)
{
	const bool dry = a->set[CTL_OPT_DRY_RUN];
	struct ctl_mesh m;
	struct txn t;
	int err, rc;

	err = ctl_mesh_write(&m, &t, o, dry, del_change, dc);
	if (err == MESH_STOP) {
		rc = dc->rc;
		goto out;
	}
	if (err) {
		rc = ctl_mesh_fail(&m, &t, err, "delete", "nothing deleted");
		goto out;
	}
	printf("%s %s revision %lld: %zu object%s deleted\n",
	       dry ? "dry run: would delete from" : "deleted from",
	       m.ms->where, (long long)(dry ? m.rev : m.wrote), dc->ndeleted,
	       dc->ndeleted == 1 ? "" : "s");
	rc = CTL_EXIT_OK;
out:
	ctl_mesh_close(&m, &t);
	return rc;
}

int ctl_delete(const struct ctl_opts *o, const struct ctl_args *a)
{
	const bool dry = a->set[CTL_OPT_DRY_RUN];
	struct del_target *targets = NULL;
	struct del_change dc;
	size_t ntargets;
	struct model_set input;
	struct diag d;
	struct txn t;
	int k = 0, err, rc = CTL_EXIT_SYSTEM;

	if (a->nfiles ? a->nwords : a->nwords != 2) {
		ctl_err(a->nfiles ? "delete -f takes no KIND NAME" :
			"delete needs -f FILE or KIND NAME");
		ctl_usage(a->cmd, stderr);
		return CTL_EXIT_INVALID;
	}
	if (!a->nfiles && (k = input_kind_arg(a->words[0])) < 0) {
		ctl_err("unknown kind \"%s\" (%s)", a->words[0],
			model_kinds_want());
		return CTL_EXIT_INVALID;
	}
	diag_init(&d);
	model_set_init(&input);
	txn_init(&t);

	/* 1. What to delete. */
	err = ctl_parse_inputs(&input, a, &d, "nothing deleted");
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}
	ntargets = a->nfiles ? input.n : 1;
	targets = calloc(ntargets ? ntargets : 1, sizeof(*targets));
	if (!targets) {
		ctl_err("out of memory");
		goto out;
	}
	for (size_t i = 0; a->nfiles && i < input.n; i++)
		targets[i] = (struct del_target){ input.objs[i].kind,
						  input.objs[i].name, false };
	if (!a->nfiles)
		targets[0] = (struct del_target){ (enum model_kind)k,
						  a->words[1], false };

	dc = (struct del_change){ .a = a, .targets = targets,
				  .ntargets = ntargets, .why = "" };
	if (o->store_url) {
		rc = del_mesh(o, a, &dc);
		goto out;
	}
	/* 2. The policy in force, what is left of it, every target there.
	 * Nothing pinned: nothing to delete. */
	err = ctl_txn_open(&t, o, !dry);
	if (err && err != -ENOENT) {
		rc = ctl_txn_fail(&t, err, "delete", "nothing deleted");
		goto out;
	}
	if (del_remove(&t.applied, targets, ntargets, &t.next)) {
		ctl_err("out of memory");
		goto out;
	}
	if (err == -ENOENT)
		dc.why = " (nothing applied yet)";

	/* 3. Check what is left, write it. */
	err = del_plan(&t, &dc);
	if (err == MESH_STOP) {
		rc = dc.rc;
		goto out;
	}
	if (!err && !dry)
		err = txn_commit(&t);
	if (err) {
		rc = ctl_txn_fail(&t, err, "delete", "nothing deleted");
		goto out;
	}
	/* Old-half records left behind: said, not an error (mapio.h). */
	diag_print(&t.d, stderr);
	printf("%s epoch %llu: %zu object%s deleted (%zu records deleted, "
	       "%zu updated)\n", dry ? "dry run: would delete at" :
	       "deleted at", (unsigned long long)t.want.config.epoch,
	       dc.ndeleted, dc.ndeleted == 1 ? "" : "s", t.diff.deleted,
	       t.diff.updated);
	rc = ctl_wait_agent(a, dry, t.want.config.epoch);
out:
	txn_close(&t);
	model_set_free(&input);
	free(targets);
	diag_free(&d);
	return rc;
}
