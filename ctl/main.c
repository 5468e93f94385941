// SPDX-License-Identifier: Apache-2.0
/*
 * mfctl: the meshforge CLI.  Global options, then a command of the table
 * in commands.c (`mfctl --help` lists them).  Exit codes: 0 ok, 1 invalid
 * input, 2 system error; diff also 3 (changes exist).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/wc_port.h>

#include "ctl.h"
#include "paths.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config-dir", required_argument, NULL, 'c' },
		{ "bpf-root", required_argument, NULL, 'b' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "store", required_argument, NULL, 'S' },
		{ "store-ca", required_argument, NULL, 'A' },
		{ "store-cert", required_argument, NULL, 'C' },
		{ "store-key", required_argument, NULL, 'K' },
		{ "store-user", required_argument, NULL, 'U' },
		{ "store-password-file", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct mf_paths p;
	struct ctl_opts o;
	int c, rc;

	mf_paths_default(&p);
	o = (struct ctl_opts){ .config_dir = p.config_dir,
			       .bpf_root = p.bpf_root,
			       .state_dir = p.state_dir,
			       .state_dir_set = getenv("MF_STATE_DIR") &&
						*getenv("MF_STATE_DIR"),
			       .run_dir = p.run_dir,
			       .store_url = getenv("MF_STORE") };
	if (o.store_url && !*o.store_url)
		o.store_url = NULL;
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
			o.state_dir_set = true;
			break;
		case 'r':
			o.run_dir = optarg;
			break;
		case 'S':
			o.store_url = optarg;
			break;
		case 'A':
			o.store_access.ca = optarg;
			break;
		case 'C':
			o.store_access.cert = optarg;
			break;
		case 'K':
			o.store_access.key = optarg;
			break;
		case 'U':
			o.store_access.user = optarg;
			break;
		case 'W':
			o.store_access.password_file = optarg;
			break;
		case 'h':
			return ctl_run(&o, 1, (char *[]){ "help", NULL });
		default:
			ctl_run(&o, 0, argv);
			return CTL_EXIT_INVALID;
		}
	}
	if (wolfCrypt_Init()) {
		ctl_err("cannot initialise wolfCrypt");
		return CTL_EXIT_SYSTEM;
	}
	rc = ctl_run(&o, argc - optind, argv + optind);
	wolfCrypt_Cleanup();
	return rc;
}
