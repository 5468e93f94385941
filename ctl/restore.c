// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl restore [--force]`: rebuild the policy maps from the saved state
 * (<state-dir>/policy.yaml, written by every apply and delete).  Pinned
 * maps survive mfctl and the agent, not a reboot; this brings them back.
 * The agent calls ctl_restore() at start when nothing is pinned.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "ctl.h"
#include "doc.h"
#include "fsio.h"
#include "mapio.h"
#include "saved.h"
#include "state.h"
#include "validate.h"

const char ctl_usage_restore[] =
	"usage: mfctl [--bpf-root DIR] [--state-dir DIR] [--run-dir DIR]\n"
	"             restore [--force]\n"
	"\n"
	"Rebuilds the node-local policy maps from the saved state,\n"
	"<state-dir>/policy.yaml (written by every apply and delete), as a\n"
	"full replacement: afterwards the maps hold exactly the saved objects.\n"
	"Maps that are not pinned are created.  The agent does the same at\n"
	"start when nothing is pinned (after a reboot).\n"
	"\n"
	"  --force  replace a policy the maps already hold; without it, restore\n"
	"           refuses when the maps hold one (epoch > 0): it is meant for\n"
	"           the empty maps of a node after a reboot\n"
	"\n"
	"Exit codes: 0 ok, 1 no saved state, the maps already hold a policy\n"
	"(without --force), or the saved state is invalid; 2 system error.\n";

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

int ctl_restore(const char *bpf_root, const char *state_dir,
		const char *run_dir, bool force, FILE *log,
		struct ctl_restore_info *info)
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

int ctl_cmd_restore(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl_restore_info info;
	bool force = false;
	int c, err;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			fputs(ctl_usage_restore, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_restore, stderr);
			return CTL_EXIT_INVALID;
		}
	}
	if (optind != argc) {
		ctl_err("unexpected argument \"%s\"", argv[optind]);
		fputs(ctl_usage_restore, stderr);
		return CTL_EXIT_INVALID;
	}
	if (!o->state_dir) {
		ctl_err("restore needs a state dir (--state-dir)");
		return CTL_EXIT_INVALID;
	}
	err = ctl_restore(o->bpf_root, o->state_dir, o->run_dir, force, stderr,
			  &info);
	switch (err) {
	case 0:
		printf("restored epoch %llu: %zu object%s from %s/" SAVED_FILE
		       "\n", (unsigned long long)info.epoch, info.objects,
		       info.objects == 1 ? "" : "s", o->state_dir);
		return CTL_EXIT_OK;
	case -ENOENT:
		ctl_err("no saved state at %s/" SAVED_FILE " (nothing was "
			"applied with this state dir, or it was removed); "
			"nothing restored", o->state_dir);
		return CTL_EXIT_INVALID;
	case -EEXIST:
	case -EINVAL:
		return CTL_EXIT_INVALID;
	default:
		return CTL_EXIT_SYSTEM;
	}
}
