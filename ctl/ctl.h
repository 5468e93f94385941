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

/* What ctl_restore() restored. */
struct ctl_restore_info {
	uint64_t epoch;		/* the epoch the restore wrote */
	size_t objects;		/* objects in the saved state */
};

/*
 * Rebuilds the policy maps under @bpf_root (creating and pinning them when
 * missing) from the saved state <@state_dir>/policy.yaml, holding the
 * writers' lock under @run_dir (NULL: none), as a full
 * replacement: afterwards the maps hold exactly the saved objects, at the
 * epoch in force + 1.  Without @force it refuses when the maps already
 * hold a policy (mf_config epoch > 0): restore is for the empty maps of a
 * node after a reboot, not for undoing an apply.  Problems are written to
 * @log, one "mfctl: ..." line each (diagnostics of an invalid file as
 * "file:line:col: ..."); nothing goes to stdout.  Fills @info on success
 * (may be NULL).  Shared by `mfctl restore` and the agent at start, which
 * is why it returns -errno, not an exit code.  Returns 0, -ENOENT when
 * there is no saved state (and only then; nothing is written to @log, as
 * for the agent that is the normal case of a node never applied to),
 * -EEXIST when refused for the
 * reason above, -EINVAL when the saved state is not a valid policy, or
 * another -errno (system error; nothing written unless the message says
 * the write failed part way).
 */
int ctl_restore(const char *bpf_root, const char *state_dir,
		const char *run_dir, bool force, FILE *log,
		struct ctl_restore_info *info);

#endif /* CTL_CTL_H */
