// SPDX-License-Identifier: Apache-2.0
/* `mfctl get [KIND]`: the applied policy as YAML that `apply` takes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "emit.h"
#include "state.h"

const char ctl_usage_get[] =
	"usage: mfctl [--bpf-root DIR] get [KIND]\n"
	"\n"
	"Prints the applied policy as YAML documents, in the format apply\n"
	"takes: kinds in the order Mesh, Node, Service, Workload,\n"
	"MeshTrafficPermission, names sorted.  KIND (case-insensitive, plural\n"
	"accepted, \"mtp\" for MeshTrafficPermission) prints one kind only.\n";

/* KIND argument -> kind bit, or 0. */
static unsigned get_kind_bits(const char *arg)
{
	char plural[64];

	if (!strcasecmp(arg, "mtp") || !strcasecmp(arg, "mtps"))
		return 1u << MODEL_MTP;
	if (!strcasecmp(arg, "meshes"))
		return 1u << MODEL_MESH;
	for (int k = 0; k < MODEL_KIND_MAX; k++) {
		snprintf(plural, sizeof(plural), "%ss", model_kind_name(k));
		if (!strcasecmp(arg, model_kind_name(k)) ||
		    !strcasecmp(arg, plural))
			return 1u << k;
	}
	return 0;
}

int ctl_cmd_get(const struct ctl_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	unsigned kinds = EMIT_ALL_KINDS;
	struct state st;
	struct diag d;
	int c, err, rc = CTL_EXIT_SYSTEM;

	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(ctl_usage_get, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(ctl_usage_get, stderr);
			return CTL_EXIT_INVALID;
		}
	}
	if (argc - optind > 1) {
		ctl_err("get takes at most one KIND");
		fputs(ctl_usage_get, stderr);
		return CTL_EXIT_INVALID;
	}
	if (optind < argc) {
		kinds = get_kind_bits(argv[optind]);
		if (!kinds) {
			ctl_err("unknown kind \"%s\" (want Mesh, Node, Service, "
				"Workload or MeshTrafficPermission)",
				argv[optind]);
			return CTL_EXIT_INVALID;
		}
	}

	diag_init(&d);
	err = state_load(&st, o->bpf_root, false, false, &d);
	if (err == -ENOENT) {
		/* Nothing applied yet on this node: an empty policy. */
		fprintf(stderr, "mfctl: no policy maps under %s (nothing "
			"applied yet)\n", o->bpf_root);
		rc = CTL_EXIT_OK;
		goto out;
	}
	if (err) {
		diag_print(&d, stderr);
		goto out;
	}
	err = emit_set(stdout, &st.objs, kinds);
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
