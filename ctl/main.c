// SPDX-License-Identifier: Apache-2.0
/*
 * mfctl: the meshforge CLI.  Global options, then a command:
 *
 *   mfctl [--config-dir DIR] ca init --trust-domain TD [--force]
 *   mfctl [--config-dir DIR] cert issue --identity spiffe://... [--out DIR] [--days N]
 *   mfctl [--bpf-root DIR] apply -f FILE|DIR|- [--dry-run]
 *   mfctl [--bpf-root DIR] get [KIND [NAME]] [-o yaml|json|table]
 *   mfctl [--bpf-root DIR] delete -f FILE|DIR|- | KIND NAME [--ignore-not-found]
 *   mfctl [--bpf-root DIR] diff -f FILE|DIR|-
 *   mfctl [--bpf-root DIR] inspect [--summary]
 *   mfctl [--bpf-root DIR] status
 *   mfctl [--bpf-root DIR] [--state-dir DIR] restore [--force]
 *
 * apply, delete and restore also take --run-dir DIR: the writers' lock.
 *
 * Exit codes: 0 ok, 1 invalid input, 2 system error; diff also 3 (changes
 * exist).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include "ctl.h"
#include "meshforge/abi.h"

static const char main_usage[] =
	"usage: mfctl [--config-dir DIR] [--bpf-root DIR] [--state-dir DIR]\n"
	"             [--run-dir DIR] COMMAND [ARGS]\n"
	"\n"
	"Commands:\n"
	"  ca init      create the mesh root CA\n"
	"  cert issue   issue a certificate for a SPIFFE identity\n"
	"  apply        apply policy YAML to the node-local policy map\n"
	"  get          print the applied policy (YAML, JSON or a table)\n"
	"  delete       delete policy objects by kind and name\n"
	"  diff         show what apply -f would change, writing nothing\n"
	"  inspect      decode every pinned map, with usage and counters\n"
	"  status       agent process, epoch in force, mesh, object counts\n"
	"  effective    what the applied policies add up to for one workload\n"
	"  restore      rebuild the policy maps from the saved state\n"
	"  help [CMD]   show help (also: mfctl CMD --help)\n"
	"\n"
	"Global options:\n"
	"  --config-dir DIR  CA and certificates (default $MF_CONFIG_DIR, else\n"
	"                    " MF_CONFIG_DIR_DEFAULT ")\n"
	"  --bpf-root DIR    pin root of the policy maps (default $MF_BPF_ROOT,\n"
	"                    else " MF_PIN_ROOT_DEFAULT ")\n"
	"  --state-dir DIR   where apply and delete save the applied policy\n"
	"                    and restore reads it (default $MF_STATE_DIR,\n"
	"                    else " MF_STATE_DIR_DEFAULT ")\n"
	"  --run-dir DIR     where apply, delete and restore take the lock that\n"
	"                    serializes them, DIR/mfctl.lock (default\n"
	"                    $MF_RUN_DIR, else " MF_RUN_DIR_DEFAULT ")\n"
	"  -h, --help        this text\n"
	"\n"
	"Exit codes: 0 ok, 1 invalid input, 2 system error; diff: 3 when\n"
	"applying would change something.\n"
	"\n"
	"mfctl version " CTL_VERSION "\n";

struct main_cmd {
	const char *word1, *word2;	/* "ca" "init"; word2 NULL: one word */
	int (*fn)(const struct ctl_opts *, int, char **);
	const char *usage;
};

static const struct main_cmd main_cmds[] = {
	{ "ca", "init", ctl_cmd_ca_init, ctl_usage_ca_init },
	{ "cert", "issue", ctl_cmd_cert_issue, ctl_usage_cert_issue },
	{ "apply", NULL, ctl_cmd_apply, ctl_usage_apply },
	{ "get", NULL, ctl_cmd_get, ctl_usage_get },
	{ "delete", NULL, ctl_cmd_delete, ctl_usage_delete },
	{ "diff", NULL, ctl_cmd_diff, ctl_usage_diff },
	{ "inspect", NULL, ctl_cmd_inspect, ctl_usage_inspect },
	{ "status", NULL, ctl_cmd_status, ctl_usage_status },
	{ "effective", NULL, ctl_cmd_effective, ctl_usage_effective },
	{ "restore", NULL, ctl_cmd_restore, ctl_usage_restore },
};

#define MAIN_NCMDS (sizeof(main_cmds) / sizeof(main_cmds[0]))

/* The command that argv[0] (and argv[1] for two-word commands) names, or
 * NULL.  *words gets how many words it took. */
static const struct main_cmd *main_find(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < MAIN_NCMDS; i++) {
		const struct main_cmd *c = &main_cmds[i];

		if (strcmp(argv[0], c->word1))
			continue;
		if (!c->word2) {
			*words = 1;
			return c;
		}
		if (argc > 1 && !strcmp(argv[1], c->word2)) {
			*words = 2;
			return c;
		}
	}
	return NULL;
}

/* `mfctl help [CMD...]` */
static int main_help(int argc, char **argv)
{
	const struct main_cmd *c;
	int words;

	if (argc < 2) {
		fputs(main_usage, stdout);
		return CTL_EXIT_OK;
	}
	c = main_find(argc - 1, argv + 1, &words);
	if (!c) {
		/* "help ca": list the two-word commands under it. */
		for (size_t i = 0; i < MAIN_NCMDS; i++)
			if (!strcmp(argv[1], main_cmds[i].word1) &&
			    main_cmds[i].word2) {
				fputs(main_cmds[i].usage, stdout);
				return CTL_EXIT_OK;
			}
		ctl_err("unknown command \"%s\"", argv[1]);
		return CTL_EXIT_INVALID;
	}
	fputs(c->usage, stdout);
	return CTL_EXIT_OK;
}

/* argv[0] is no command, or the first word of a two-word one without a
 * valid second word ("mfctl ca", "mfctl ca --help"). */
static int main_partial(int argc, char **argv)
{
	bool help = argc > 1 && (!strcmp(argv[1], "--help") ||
				 !strcmp(argv[1], "-h"));

	for (size_t i = 0; i < MAIN_NCMDS; i++) {
		const struct main_cmd *c = &main_cmds[i];

		if (strcmp(argv[0], c->word1))
			continue;
		if (help) {
			fputs(c->usage, stdout);
			return CTL_EXIT_OK;
		}
		ctl_err("\"%s\" needs a subcommand: %s %s", c->word1,
			c->word1, c->word2);
		fputs(c->usage, stderr);
		return CTL_EXIT_INVALID;
	}
	ctl_err("unknown command \"%s\" (see mfctl --help)", argv[0]);
	return CTL_EXIT_INVALID;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config-dir", required_argument, NULL, 'c' },
		{ "bpf-root", required_argument, NULL, 'b' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ctl_opts o = { 0 };
	const struct main_cmd *cmd;
	int c, words, rc;

	/* "+": stop at the command word; its options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.config_dir = optarg;
			break;
		case 'b':
			o.bpf_root = optarg;
			break;
		case 's':
			o.state_dir = optarg;
			break;
		case 'r':
			o.run_dir = optarg;
			break;
		case 'h':
			fputs(main_usage, stdout);
			return CTL_EXIT_OK;
		default:
			fputs(main_usage, stderr);
			return CTL_EXIT_INVALID;
		}
	}
	if (!o.config_dir)
		o.config_dir = getenv("MF_CONFIG_DIR");
	if (!o.config_dir || !*o.config_dir)
		o.config_dir = MF_CONFIG_DIR_DEFAULT;
	if (!o.bpf_root)
		o.bpf_root = getenv("MF_BPF_ROOT");
	if (!o.bpf_root || !*o.bpf_root)
		o.bpf_root = MF_PIN_ROOT_DEFAULT;
	if (!o.state_dir)
		o.state_dir = getenv("MF_STATE_DIR");
	if (!o.state_dir || !*o.state_dir)
		o.state_dir = MF_STATE_DIR_DEFAULT;
	if (!o.run_dir)
		o.run_dir = getenv("MF_RUN_DIR");
	if (!o.run_dir || !*o.run_dir)
		o.run_dir = MF_RUN_DIR_DEFAULT;

	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fputs(main_usage, stderr);
		return CTL_EXIT_INVALID;
	}
	if (!strcmp(argv[0], "help"))
		return main_help(argc, argv);
	cmd = main_find(argc, argv, &words);
	if (!cmd)
		return main_partial(argc, argv);
	/* The command sees its own name as argv[0], as getopt expects. */
	if (wolfCrypt_Init()) {
		ctl_err("cannot initialise wolfCrypt");
		return CTL_EXIT_SYSTEM;
	}
	rc = cmd->fn(&o, argc - words + 1, argv + words - 1);
	wolfCrypt_Cleanup();
	return rc;
}
