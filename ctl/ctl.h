/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mfctl's commands.  main.c parses the global options and calls one of
 * these with the command's own arguments (argv[0] is the command name);
 * each returns the process exit code.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "meshforge/version.h"

/* Exit codes. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_INVALID = 1,	/* bad input: usage, YAML, policy, identity */
	CTL_EXIT_SYSTEM = 2,	/* the system failed: files, maps, crypto */
	/* `diff` only: the input is valid and applying it would change
	 * something.  Not 1 as kubectl diff has it, because 1 already means
	 * invalid input here and a script must tell the two apart. */
	CTL_EXIT_CHANGES = 3,
};

/* mfctl's version.  A constant here rather than a Makefile define so the
 * ctl sources build on their own; bump it with releases. */
#define CTL_VERSION MF_VERSION

struct ctl_opts {
	const char *config_dir;	/* --config-dir, $MF_CONFIG_DIR, default */
	const char *bpf_root;	/* --bpf-root, $MF_BPF_ROOT, default */
	/* --state-dir, $MF_STATE_DIR, default: where apply and delete save
	 * the applied state and restore reads it.  main() always sets it;
	 * NULL (tests that do not exercise it) means apply and delete save
	 * nothing, so they never touch the real /var/lib/meshforge. */
	const char *state_dir;
	/* --run-dir, $MF_RUN_DIR, default: where apply, delete and restore
	 * take the writers' lock (<run-dir>/mfctl.lock).  main() always sets
	 * it; NULL (tests that do not exercise it) means no lock. */
	const char *run_dir;
};

int ctl_cmd_ca_init(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_cert_issue(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_apply(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_get(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_delete(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_diff(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_inspect(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_status(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_effective(const struct ctl_opts *o, int argc, char **argv);
int ctl_cmd_restore(const struct ctl_opts *o, int argc, char **argv);

/* Usage text of each command, for --help and for usage errors. */
extern const char ctl_usage_ca_init[];
extern const char ctl_usage_cert_issue[];
extern const char ctl_usage_apply[];
extern const char ctl_usage_get[];
extern const char ctl_usage_delete[];
extern const char ctl_usage_diff[];
extern const char ctl_usage_inspect[];
extern const char ctl_usage_status[];
extern const char ctl_usage_effective[];
extern const char ctl_usage_restore[];

/* Prints "mfctl: <msg>" to stderr: the one format for errors that are not
 * about a position in a policy file. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Maps an -errno from a lower layer to an exit code: input problems
 * (-EINVAL) are CTL_EXIT_INVALID, everything else CTL_EXIT_SYSTEM. */
int ctl_exit_for(int err);

struct model_set;
struct diag;

/*
 * The end of a command line that takes only -f arguments: true when every
 * argument was an option (optind == @argc) and there was at least one -f.
 * Else says what is wrong ("unexpected argument", "@cmd needs -f FILE"),
 * prints @usage to stderr and returns false.
 */
bool ctl_args_ok(int argc, char **argv, size_t nfiles, const char *cmd,
		 const char *usage);

/*
 * Parses all @n -f arguments into @set, as input_parse_arg() does each.
 * Returns 0, -EINVAL, or another -errno (a system error wins over input
 * problems).  On failure it has printed the sorted diagnostics to stderr
 * and, for input problems, "N problems found; @consequence".
 */
int ctl_parse_inputs(struct model_set *set, const char *const *files,
		     size_t n, struct diag *d, const char *consequence);

struct saved_job;

/* Waits for the save of an apply or delete (@what) at @epoch; on failure
 * says so, and that the maps were not rolled back.  Returns CTL_EXIT_OK
 * or CTL_EXIT_SYSTEM. */
int ctl_saved_finish(struct saved_job *j, const struct ctl_opts *o,
		     const char *what, unsigned long long epoch);

#endif /* CTL_CTL_H */
