// SPDX-License-Identifier: Apache-2.0
/* `mfctl get [KIND [NAME]] [-o yaml|json|table]`: the applied policy of
 * this node, or with --store the mesh's in the store. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "mesh.h"
#include "output.h"
#include "policy/input.h"
#include "policy/render.h"
#include "policy/txn.h"

int ctl_get(const struct ctl_opts *o, const struct ctl_args *a)
{
	unsigned kinds = RENDER_ALL_KINDS;
	enum output_format fmt = OUTPUT_YAML;
	const char *name = a->nwords > 1 ? a->words[1] : NULL;
	struct ctl_mesh m = { 0 };
	struct txn t;
	int k = -1, err, rc = CTL_EXIT_SYSTEM;

	if (a->val[CTL_OPT_OUTPUT]) {
		k = output_format_parse(a->val[CTL_OPT_OUTPUT]);
		if (k < 0) {
			ctl_err("unknown output format \"%s\" (want yaml, json "
				"or table)", a->val[CTL_OPT_OUTPUT]);
			return CTL_EXIT_INVALID;
		}
		fmt = (enum output_format)k;
	}
	if (a->nwords) {
		k = input_kind_arg(a->words[0]);
		if (k < 0) {
			ctl_err("unknown kind \"%s\" (%s)", a->words[0],
				model_kinds_want());
			return CTL_EXIT_INVALID;
		}
		kinds = 1u << k;
	}
	if (o->store_url) {
		err = ctl_mesh_open(&m, &t, o);
		if (err) {
			rc = ctl_mesh_fail(&m, &t, err, "get", "nothing shown");
			goto out;
		}
	} else {
		err = ctl_txn_open(&t, o, false);
	}
	if (err == -ENOENT)
		/* Nothing applied yet on this node: an empty policy, in
		 * which a named object does not exist; still one valid JSON
		 * document for scripts. */
		fprintf(stderr, "mfctl: no policy maps under %s (nothing "
			"applied yet)\n", o->bpf_root);
	else if (err) {
		rc = ctl_txn_fail(&t, err, "get", "nothing shown");
		goto out;
	}
	if (name && !model_set_find(&t.applied, k, name)) {
		ctl_err("%s \"%s\" not found", model_kind_name(k), name);
		rc = CTL_EXIT_INVALID;
		goto out;
	}
	rc = CTL_EXIT_OK;
	if (err == -ENOENT && fmt != OUTPUT_JSON)
		goto out;
	err = output_write(stdout, &t.applied, kinds, name, fmt);
	if (err) {
		ctl_err("cannot write the output: %s", strerror(-err));
		rc = CTL_EXIT_SYSTEM;
	}
out:
	ctl_mesh_close(&m, &t);	/* without --store, only closes @t */
	return rc;
}
