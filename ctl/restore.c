// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl restore [--force]`: rebuild the policy maps from the saved state
 * (<state-dir>/policy.yaml, written by every apply and delete).  Pinned
 * maps survive mfctl and the agent, not a reboot; this brings them back.
 * The agent does the same at start (txn_restore()).
 */
#include <errno.h>
#include <stdio.h>

#include "ctl.h"
#include "policy/saved.h"
#include "policy/txn.h"

int ctl_restore(const struct ctl_opts *o, const struct ctl_args *a)
{
	const struct txn_opts to = {
		.bpf_root = o->bpf_root,
		.store = o->store,
		.state_dir = o->state_dir,
		.run_dir = o->run_dir,
	};
	struct txn_restore_info info;
	struct txn t;
	int err, rc;

	if (!o->state_dir) {
		ctl_err("restore needs a state dir (--state-dir)");
		return CTL_EXIT_INVALID;
	}
	err = txn_restore(&t, &to, a->set[CTL_OPT_FORCE], &info);
	switch (err) {
	case 0:
		/* Old-half records left behind: said, not an error. */
		diag_print(&t.d, stderr);
		printf("restored epoch %llu: %zu object%s from %s/" SAVED_FILE
		       "\n", (unsigned long long)info.epoch, info.objects,
		       info.objects == 1 ? "" : "s", o->state_dir);
		rc = CTL_EXIT_OK;
		break;
	case -ENOENT:
		ctl_err("no saved state at %s/" SAVED_FILE " (nothing was "
			"applied with this state dir, or it was removed); "
			"nothing restored", o->state_dir);
		rc = CTL_EXIT_INVALID;
		break;
	default:
		rc = ctl_txn_fail(&t, err, "restore",
				  t.stage == TXN_FAILED_PLAN ?
				  "the saved state is not a valid policy; "
				  "nothing restored" : "nothing restored");
		break;
	}
	txn_close(&t);
	return rc;
}
