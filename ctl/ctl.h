/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mfctl's commands, declared in one table (commands.c): each its name,
 * synopsis, options with their help, and handler.  cli.c parses a command
 * line against that table (ctl_run()), prints usage from it, and calls the
 * handler with what it parsed; the handler returns the exit code.
 */
#ifndef CTL_CTL_H
#define CTL_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "meshforge/version.h"
#include "mstore.h"

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

struct store;

/* The global options: mf_paths_default(), then the command line. */
struct ctl_opts {
	const char *config_dir;	/* --config-dir */
	const char *bpf_root;	/* --bpf-root */
	/* --state-dir: where apply and delete save the applied state and
	 * restore reads it.  NULL (tests that do not exercise it): apply
	 * and delete save nothing. */
	const char *state_dir;
	/* The state dir was given (--state-dir, $MF_STATE_DIR), not the
	 * default: `sync --memory` saves there only then. */
	bool state_dir_set;
	/* --run-dir: where the writers take their lock.  NULL: no lock. */
	const char *run_dir;
	/* Tests: the policy maps in this store instead of under bpf_root. */
	struct store *store;
	/* --store URL: apply, delete, diff, get and status work on the
	 * mesh in that store (mesh.h) instead of this node's maps; sync
	 * follows it.  NULL: the node's maps. */
	const char *store_url;
	struct mstore_access store_access; /* --store-ca, -cert, -key, -user, -password-file */
};

/* The options a command may take (each declared once, in cli.c, with its
 * long name, short letter and argument). */
enum ctl_opt {
	CTL_OPT_FILE = 1,	/* -f, --filename F (repeatable) */
	CTL_OPT_OUTPUT,		/* -o, --output F */
	CTL_OPT_DRY_RUN,	/* --dry-run */
	CTL_OPT_FORCE,		/* --force */
	CTL_OPT_IGNORE,		/* --ignore-not-found */
	CTL_OPT_SUMMARY,	/* --summary */
	CTL_OPT_ADMIN,		/* --admin ADDR:PORT */
	CTL_OPT_TRUST_DOMAIN,	/* --trust-domain TD */
	CTL_OPT_IDENTITY,	/* --identity ID */
	CTL_OPT_OUT,		/* --out DIR */
	CTL_OPT_DAYS,		/* --days N */
	CTL_OPT_FROM,		/* --from SERVICE */
	CTL_OPT_WAIT,		/* --wait */
	CTL_OPT_WORKLOAD,	/* --workload NAME */
	CTL_OPT_PURGE,		/* --purge */
	CTL_OPT_ONCE,		/* --once */
	CTL_OPT_NODE,		/* --node NAME */
	CTL_OPT_TTL,		/* --ttl SECONDS */
	CTL_OPT_ROLE,		/* --role client|server */
	CTL_OPT_CERT,		/* --cert FILE */
	CTL_OPT_SERIAL,		/* --serial HEX */
	CTL_OPT_REASON,		/* --reason REASON */
	CTL_OPT_MEMORY,		/* --memory */
	CTL_OPT_STATUS,		/* --status FILE */
	CTL_OPT_CRL_URI,	/* --crl-uri URL */
	CTL_OPT_IP,		/* --ip ADDR (repeatable) */
	CTL_OPT_DNS,		/* --dns NAME (repeatable) */
	CTL_OPT_KUMA,		/* --kuma 2.14|3.0 */
	CTL_OPT_VALIDATE,	/* --validate strict|warn|ignore */
	CTL_OPT_MAX,
};

struct ctl_cmd;

/* What a command line gave a command. */
struct ctl_args {
	const struct ctl_cmd *cmd;	/* the command it names */
	/* Each value of a repeatable option, in order (the arrays owned by
	 * the parser); NULL and 0 for one not given. */
	const char **list[CTL_OPT_MAX];
	size_t nlist[CTL_OPT_MAX];
	const char **files;	/* list[CTL_OPT_FILE]: -f, in order */
	size_t nfiles;
	const char *val[CTL_OPT_MAX];	/* options with a value (the last
					 * one of a repeatable option) */
	bool set[CTL_OPT_MAX];		/* options given */
	char **words;		/* the arguments after the options */
	int nwords;
};

/* One option of a command, with its help there (wrapped lines may
 * follow "\n"). */
struct ctl_cmd_opt {
	enum ctl_opt opt;
	const char *help;
};

#define CTL_CMD_OPTS_MAX 7

struct ctl_cmd {
	const char *name;	/* "apply", "ca init" */
	const char *synopsis;	/* the usage line(s) */
	const char *about;	/* what it does */
	struct ctl_cmd_opt opts[CTL_CMD_OPTS_MAX];
	int min_words, max_words;	/* arguments after the options */
	const char *footer;	/* exit codes and notes */
	int (*run)(const struct ctl_opts *o, const struct ctl_args *a);
};

/* The table (commands.c), in the order `mfctl --help` lists them. */
extern const struct ctl_cmd ctl_cmds[];
extern const size_t ctl_ncmds;

/* The handlers. */
int ctl_ca_init(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_ca_rotate(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_ca_export(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_ca_prune(const struct ctl_opts *o, const struct ctl_args *a);

int ctl_ca_revoke(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_ca_set(const struct ctl_opts *o, const struct ctl_args *a);

/* The roots a rotation left trusted beside ca.crt, until `ca prune`. */
#define CTL_CA_PREVIOUS	"ca-previous.crt"
/* The CA's revocation list (DER), `ca revoke`'s. */
#define CTL_CA_CRL	"ca.crl"
/* Where the CA's list is published (one line, a URL), for the
 * cRLDistributionPoints of what `cert issue` makes; `ca init --crl-uri`
 * and `ca set --crl-uri` write it. */
#define CTL_CA_CRL_URI	"crl-uri"

/* The CRL URI of config dir @dir (the caller holds its lock) into @buf
 * (@n bytes).  Returns 0, -ENOENT (none set), -EINVAL (not one
 * pki_crl_uri_check() takes), or -errno. */
int ctl_ca_crl_uri(const char *dir, char *buf, size_t n);

struct pki_key;
struct pki_cert_info;
struct WC_RNG;

/* fsio_dir_lock() of config dir @dir (@excl: exclusively, to write the
 * CA; shared, to read it), saying why it failed.  Returns the lock (the
 * caller closes it) or -errno. */
int ctl_ca_lock(const char *dir, bool excl);

/* wc_InitRng() of @rng for the keys and signatures of a command, saying
 * why it failed.  Returns 0 (the caller frees it with wc_FreeRng()) or
 * -EIO. */
int ctl_rng_init(struct WC_RNG *rng);

/* The CA's key and certificate facts, loaded from config dir @dir (the
 * caller holds its lock); *der is the certificate (caller frees).
 * Returns 0 or a CTL_EXIT_* code after saying what is wrong. */
int ctl_ca_load(const char *dir, struct pki_key *key, uint8_t **der,
		size_t *der_len, struct pki_cert_info *info);

/* Copies what an agent trusts from config dir @from to @to: ca.crt,
 * trust-domain, CTL_CA_PREVIOUS and CTL_CA_CRL (each of the last two
 * removed from @to when @from has none), the older roots first, the
 * revocation list last.  Returns 0 or -errno. */
int ctl_ca_files_copy(const char *from, const char *to);
int ctl_cert_issue(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_cert_verify(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_apply(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_get(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_delete(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_diff(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_inspect(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_status(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_effective(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_restore(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_uninstall(const struct ctl_opts *o, const struct ctl_args *a);
int ctl_sync(const struct ctl_opts *o, const struct ctl_args *a);

/*
 * Runs the command that @argv (@argc words after the global options)
 * names: parses its options and arguments against the table, answers
 * --help and "help CMD", and calls the handler.  Returns the exit code.
 */
int ctl_run(const struct ctl_opts *o, int argc, char **argv);

/* Prints the usage of @c to @f. */
void ctl_usage(const struct ctl_cmd *c, FILE *f);

/* Prints "mfctl: <msg>" to stderr: the one format for errors that are not
 * about a position in a policy file. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Maps an -errno from a lower layer to an exit code: input problems
 * (-EINVAL) are CTL_EXIT_INVALID, everything else CTL_EXIT_SYSTEM. */
int ctl_exit_for(int err);

struct model_set;
struct diag;
struct txn;

/*
 * Parses all -f arguments of @a into @set, as input_parse_arg() does
 * each.  Returns 0, -EINVAL, or another -errno (a system error wins over
 * input problems).  On failure it has printed the sorted diagnostics to
 * stderr and, for input problems, "N problems found; @consequence".
 */
int ctl_parse_inputs(struct model_set *set, const struct ctl_args *a,
		     struct diag *d, const char *consequence);

/* Opens the transaction of a command from the global options (@write:
 * a writer, under the lock, saving to the state dir). */
int ctl_txn_open(struct txn *t, const struct ctl_opts *o, bool write);

/*
 * Says why transaction @t of command @what failed with @err, at the stage
 * it records: its problems, then one line that says what became of the
 * policy in force (@consequence, "nothing applied", or that it is in
 * force but not saved).  Returns the exit code.
 */
int ctl_txn_fail(const struct txn *t, int err, const char *what,
		 const char *consequence);

/*
 * --wait of a write that put policy @epoch in force: waits until the node's
 * agent (--admin) serves it, CTL_WAIT_MS at most.  Without --wait, or
 * after a dry run, returns at once.  Returns the exit code.
 */
#define CTL_WAIT_MS 10000
int ctl_wait_agent(const struct ctl_args *a, bool dry, uint64_t epoch);

#endif /* CTL_CTL_H */
