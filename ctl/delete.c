// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl delete -f FILE|DIR|-` and `mfctl delete KIND NAME`: remove objects
 * by (kind, name) from the applied policy.
 *
 * The same pipeline as apply: the applied state is read back, the named
 * objects are taken out, what is left is validated (so deleting a Service
 * that a Workload or a MeshTrafficPermission still names is refused, naming
 * the referrer) and compiled, and only then are the maps written, as by
 * apply: the other half, then one flip of mf_config with epoch + 1.  With -f, only the kind and name of each
 * document count, but the documents must still be valid: a file that apply
 * would refuse is refused here too, so a typo never deletes the wrong thing.
 */
#include <errno.h>
#include <getopt.h>
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

const char ctl_usage_delete[] =
	"usage: mfctl [--bpf-root DIR] [--run-dir DIR] delete -f FILE|DIR|- [-f ...]\n"
	"                                     [--ignore-not-found] [--dry-run]\n"
	"       mfctl [--bpf-root DIR] delete KIND NAME [--ignore-not-found]\n"
	"                                     [--dry-run]\n"
	"\n"
	"Deletes policy objects, by kind and name, from the node-local policy\n"
	"map: those the documents of the files name, or KIND NAME.  What is\n"
	"left must still be valid: deleting a Service that a Workload or a\n"
	"MeshTrafficPermission names is refused, and says which.  Nothing is\n"
	"written when anything is wrong.  After the write, the applied state\n"
	"is saved to <state-dir>/policy.yaml for `mfctl restore`.\n"
	"\n"
	"  -f, --filename F    a YAML file, a directory (its *.yaml and *.yml\n"
	"                      files) or - for standard input\n"
	"  --ignore-not-found  an object that is not applied is not an error\n"
	"  --dry-run           check and report, write nothing\n"
	"\n"
	"Exit codes: 0 ok, 1 invalid input (an object not found included),\n"
	"2 system error (also when the maps were written but the state could\n"
	"not be saved; the maps are not rolled back then).\n";

/* One object to delete; @name points into the parsed input or argv. */
struct del_target {
	enum model_kind kind;
	const char *name;
};

/*
 * @applied minus the objects of @targets, copied into @out (initialised
 * here, the caller frees it).  Sets found[i] when targets[i] is applied.
 * Returns 0 or -ENOMEM.
 */
static int del_remove(const struct model_set *applied,
		      const struct del_target *targets, size_t n, bool *found,
		      struct model_set *out)
{
	int err = 0;

	model_set_init(out);
	for (size_t i = 0; i < applied->n && !err; i++) {
		const struct model_obj *o = &applied->objs[i];
		bool gone = false;

		for (size_t j = 0; j < n; j++)
			if (targets[j].kind == o->kind &&
			    !strcmp(targets[j].name, o->name)) {
				found[j] = true;
				gone = true;
			}
		if (!gone)
			err = model_set_add_copy(out, applied, o);
	}
	return err;
}

static void del_report(const char *what, __u64 epoch, size_t nobj,
		       const struct rec_diff *st)
{
	printf("%s epoch %llu: %zu object%s deleted (%zu records deleted, "
	       "%zu updated)\n", what, (unsigned long long)epoch, nobj,
	       nobj == 1 ? "" : "s", st->deleted, st->updated);
}

int ctl_cmd_delete(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filename", required_argument, NULL, 'f' },
		{ "ignore-not-found", no_argument, NULL, 'i' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct model_set input, left;
	struct del_target *targets = NULL;
	bool *found = NULL;
	size_t ntargets = 0, ndeleted = 0;
	struct rec_set want;
	struct saved_job job;
	struct rec_diff diff;
	struct state st;
	struct diag d;
	const char **files = NULL;
	size_t nfiles = 0;
	bool dry_run = false, ignore = false;
	int c, k, err, rc = CTL_EXIT_SYSTEM;

	files = calloc((size_t)argc, sizeof(*files));
	if (!files) {
		ctl_err("out of memory");
		return CTL_EXIT_SYSTEM;
	}
	optind = 0;
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			files[nfiles++] = optarg;
			break;
		case 'i':
			ignore = true;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'h':
			fputs(ctl_usage_delete, stdout);
			free(files);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_delete, stderr);
			free(files);
			return CTL_EXIT_INVALID;
		}
	}
	if (nfiles ? optind != argc : argc - optind != 2) {
		ctl_err(nfiles ? "delete -f takes no KIND NAME" :
			"delete needs -f FILE or KIND NAME");
		fputs(ctl_usage_delete, stderr);
		free(files);
		return CTL_EXIT_INVALID;
	}

	diag_init(&d);
	model_set_init(&input);
	model_set_init(&left);
	rec_set_init(&want);
	memset(&st, 0, sizeof(st));
	st.lock_fd = -1;

	/* 1. What to delete. */
	err = ctl_parse_inputs(&input, files, nfiles, &d, "nothing deleted");
	if (err) {
		rc = ctl_exit_for(err);
		goto out;
	}
	if (!nfiles) {
		k = input_kind_arg(argv[optind]);
		if (k < 0) {
			ctl_err("unknown kind \"%s\" (want Mesh, Node, Service, "
				"Workload or MeshTrafficPermission)",
				argv[optind]);
			rc = CTL_EXIT_INVALID;
			goto out;
		}
	}
	ntargets = nfiles ? input.n : 1;
	targets = calloc(ntargets ? ntargets : 1, sizeof(*targets));
	found = calloc(ntargets ? ntargets : 1, sizeof(*found));
	if (!targets || !found) {
		ctl_err("out of memory");
		goto out;
	}
	if (nfiles) {
		for (size_t i = 0; i < input.n; i++) {
			targets[i].kind = input.objs[i].kind;
			targets[i].name = input.objs[i].name;
		}
	} else {
		targets[0].kind = (enum model_kind)k;
		targets[0].name = argv[optind + 1];
	}

	/* 2. The applied state.  Nothing pinned: nothing to delete. */
	err = state_load(&st, o->bpf_root, false,
			 !dry_run ? o->run_dir : NULL, &d);
	if (err && err != -ENOENT) {
		diag_print(&d, stderr);
		if (err == -EBADMSG)
			ctl_err("the applied state under %s is inconsistent; "
				"remove the pins there to start over",
				o->bpf_root);
		goto out;
	}

	/* 3. Remove, check every target was there, validate, compile. */
	if (del_remove(&st.objs, targets, ntargets, found, &left)) {
		ctl_err("out of memory");
		goto out;
	}
	for (size_t i = 0; i < ntargets; i++) {
		if (found[i]) {
			ndeleted++;
			continue;
		}
		if (ignore)
			continue;
		ctl_err("%s \"%s\" not found%s", model_kind_name(targets[i].kind),
			targets[i].name, err == -ENOENT ?
			" (nothing applied yet)" : "");
		rc = CTL_EXIT_INVALID;
	}
	if (rc == CTL_EXIT_INVALID) {
		ctl_err("nothing deleted");
		goto out;
	}
	if (!ndeleted) {
		printf("nothing to delete\n");
		rc = CTL_EXIT_OK;
		goto out;
	}
	err = validate_set(&left, &d);
	if (err) {
		diag_sort(&d);
		diag_print(&d, stderr);
		if (err == -EINVAL)
			ctl_err("the objects left would be invalid (above: what "
				"still refers to what is deleted); nothing "
				"deleted");
		rc = ctl_exit_for(err);
		goto out;
	}
	err = compile_set(&left, &st.have, &want, &d);
	if (err) {
		diag_print(&d, stderr);
		ctl_err("cannot compile: %s; nothing deleted", strerror(-err));
		goto out;
	}
	want.config.epoch = st.have.config.epoch + 1;

	/* 4. Write. */
	if (dry_run) {
		rec_diff(&st.have, &want, &diff);
		del_report("dry run: would delete at", want.config.epoch,
			   ndeleted, &diff);
		rc = CTL_EXIT_OK;
		goto out;
	}
	saved_job_start(&job, o->state_dir, &want);
	err = mapio_write(&st.pm, &st.have, &want, &diff, &d);
	if (err) {
		saved_job_cancel(&job);
		diag_print(&d, stderr);
		ctl_err("delete failed: the policy in force under %s is "
			"unchanged (epoch %llu); nothing deleted", o->bpf_root,
			(unsigned long long)st.have.config.epoch);
		goto out;
	}
	/* Old-half records left behind: said, not an error (mapio.h). */
	if (diag_count(&d))
		diag_print(&d, stderr);
	del_report("deleted at", want.config.epoch, ndeleted, &diff);
	/* Still under the writers' lock. */
	rc = ctl_saved_finish(&job, o, "delete", want.config.epoch);
out:
	state_close(&st);
	rec_set_free(&want);
	model_set_free(&left);
	model_set_free(&input);
	free(found);
	free(targets);
	diag_free(&d);
	free(files);
	return rc;
}
