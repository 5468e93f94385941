// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl restore [--force]`: rebuild the policy maps from the saved state
 * (<state-dir>/policy.yaml, written by every apply and delete).  Pinned
 * maps survive mfctl and the agent, not a reboot; this brings them back.
 * The agent calls saved_restore() at start when nothing is pinned.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "policy/saved.h"

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

int ctl_cmd_restore(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct saved_restore_info info;
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
	err = saved_restore(o->bpf_root, o->state_dir, o->run_dir, force, stderr,
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
