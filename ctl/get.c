// SPDX-License-Identifier: Apache-2.0
/* `mfctl get [KIND [NAME]] [-o yaml|json|table]`: the applied policy. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "policy/render.h"
#include "policy/input.h"
#include "output.h"
#include "policy/state.h"

const char ctl_usage_get[] =
	"usage: mfctl [--bpf-root DIR] get [KIND [NAME]] [-o yaml|json|table]\n"
	"\n"
	"Prints the applied policy: kinds in the order Mesh, Node, Service,\n"
	"Workload, MeshTrafficPermission, then the policy kinds (MeshTimeout\n"
	"... MeshGatewayRoute), names sorted.  KIND (case-insensitive, plural\n"
	"accepted, \"svc\" for Service, \"mtp\" for MeshTrafficPermission)\n"
	"prints one kind only; NAME one object of it (exit 1 when there is\n"
	"none).\n"
	"\n"
	"  -o, --output F  yaml (default): documents in the format apply takes\n"
	"                  json: one JSON array of objects, same fields as YAML\n"
	"                  table: aligned columns, one table per kind\n"
	"\n"
	"Exit codes: 0 ok, 1 invalid input or no such object, 2 system error.\n";

int ctl_cmd_get(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned kinds = RENDER_ALL_KINDS;
	enum output_format fmt = OUTPUT_YAML;
	const char *name = NULL;
	struct state st;
	struct diag d;
	int c, k, err, rc = CTL_EXIT_SYSTEM;

	/* No "+": options may follow KIND NAME, as with kubectl. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			k = output_format_parse(optarg);
			if (k < 0) {
				ctl_err("unknown output format \"%s\" (want "
					"yaml, json or table)", optarg);
				return CTL_EXIT_INVALID;
			}
			fmt = (enum output_format)k;
			break;
		case 'h':
			fputs(ctl_usage_get, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_get, stderr);
			return CTL_EXIT_INVALID;
		}
	}
	if (argc - optind > 2) {
		ctl_err("get takes at most KIND and NAME");
		fputs(ctl_usage_get, stderr);
		return CTL_EXIT_INVALID;
	}
	if (optind < argc) {
		k = input_kind_arg(argv[optind]);
		if (k < 0) {
			ctl_err("unknown kind \"%s\" (%s)", argv[optind],
				MODEL_KINDS_WANT);
			return CTL_EXIT_INVALID;
		}
		kinds = 1u << k;
		if (optind + 1 < argc)
			name = argv[optind + 1];
	}

	diag_init(&d);
	err = state_load(&st, o->bpf_root, false, NULL, &d);
	if (err == -ENOENT) {
		/* Nothing applied yet on this node: an empty policy, in
		 * which a named object does not exist. */
		fprintf(stderr, "mfctl: no policy maps under %s (nothing "
			"applied yet)\n", o->bpf_root);
		if (name) {
			ctl_err("%s \"%s\" not found",
				model_kind_name(k), name);
			rc = CTL_EXIT_INVALID;
			goto out;
		}
		/* Still one valid JSON document for scripts. */
		rc = CTL_EXIT_OK;
		if (fmt == OUTPUT_JSON &&
		    output_write(stdout, &st.objs, kinds, NULL, fmt))
			rc = CTL_EXIT_SYSTEM;
		goto out;
	}
	if (err) {
		diag_print(&d, stderr);
		goto out;
	}
	if (name && !model_set_find(&st.objs, k, name)) {
		ctl_err("%s \"%s\" not found", model_kind_name(k), name);
		rc = CTL_EXIT_INVALID;
		goto out;
	}
	err = output_write(stdout, &st.objs, kinds, name, fmt);
	if (err) {
		ctl_err("cannot write the output: %s", strerror(-err));
		goto out;
	}
	rc = CTL_EXIT_OK;
out:
	state_close(&st);
	diag_free(&d);
	return rc;
}
