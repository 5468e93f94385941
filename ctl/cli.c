// SPDX-License-Identifier: Apache-2.0
/*
 * The command line: every option declared once, a command's options and
 * arguments parsed against its table entry, usage printed from it, and
 * what every command says about a policy transaction that failed.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentq.h"
#include "ctl.h"
#include "mesh.h"
#include "policy/input.h"
#include "policy/txn.h"

struct ctl_optdef {
	const char *name;	/* long name */
	char letter;		/* short name, or 0 */
	const char *arg;	/* its argument in usage, NULL: a flag */
	bool repeat;		/* may be given again: every value kept
				 * (ctl_args.list) */
};

static const struct ctl_optdef ctl_optdefs[CTL_OPT_MAX] = {
	[CTL_OPT_FILE] = { "filename", 'f', "F", true },
	[CTL_OPT_OUTPUT] = { "output", 'o', "F" },
	[CTL_OPT_DRY_RUN] = { "dry-run", 0, NULL },
	[CTL_OPT_FORCE] = { "force", 0, NULL },
	[CTL_OPT_IGNORE] = { "ignore-not-found", 0, NULL },
	[CTL_OPT_SUMMARY] = { "summary", 0, NULL },
	[CTL_OPT_ADMIN] = { "admin", 0, "ADDR:PORT" },
	[CTL_OPT_TRUST_DOMAIN] = { "trust-domain", 0, "TD" },
	[CTL_OPT_IDENTITY] = { "identity", 0, "ID" },
	[CTL_OPT_OUT] = { "out", 0, "DIR" },
	[CTL_OPT_DAYS] = { "days", 0, "N" },
	[CTL_OPT_FROM] = { "from", 0, "SERVICE" },
	[CTL_OPT_WAIT] = { "wait", 0, NULL },
	[CTL_OPT_WORKLOAD] = { "workload", 0, "NAME" },
	[CTL_OPT_PURGE] = { "purge", 0, NULL },
	[CTL_OPT_ONCE] = { "once", 0, NULL },
	[CTL_OPT_NODE] = { "node", 0, "NAME" },
	[CTL_OPT_TTL] = { "ttl", 0, "SECONDS" },
	[CTL_OPT_ROLE] = { "role", 0, "client|server" },
	[CTL_OPT_CERT] = { "cert", 0, "FILE" },
	[CTL_OPT_SERIAL] = { "serial", 0, "HEX" },
	[CTL_OPT_REASON] = { "reason", 0, "REASON" },
	[CTL_OPT_MEMORY] = { "memory", 0, NULL },
	[CTL_OPT_STATUS] = { "status", 0, "FILE" },
	[CTL_OPT_CRL_URI] = { "crl-uri", 0, "URL" },
	[CTL_OPT_IP] = { "ip", 0, "ADDR", true },
	[CTL_OPT_DNS] = { "dns", 0, "NAME", true },
	[CTL_OPT_KUMA] = { "kuma", 0, "2.14|3.0" },
	[CTL_OPT_VALIDATE] = { "validate", 0, "strict|warn|ignore" },
};

/* getopt_long's value for --help. */
#define CTL_HELP CTL_OPT_MAX

void ctl_err(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mfctl: %s\n", msg);
}

int ctl_exit_for(int err)
{
	if (!err)
		return CTL_EXIT_OK;
	return err == -EINVAL ? CTL_EXIT_INVALID : CTL_EXIT_SYSTEM;
}

/* "  -f, --filename F  help", the help's own lines aligned under it. */
static void ctl_usage_opt(FILE *f, const struct ctl_cmd_opt *co)
{
	const struct ctl_optdef *od = &ctl_optdefs[co->opt];
	char head[48];
	const char *p = co->help;
	int n;

	if (od->letter)
		n = snprintf(head, sizeof(head), "  -%c, --%s%s%s",
			     od->letter, od->name, od->arg ? " " : "",
			     od->arg ? od->arg : "");
	else
		n = snprintf(head, sizeof(head), "  --%s%s%s", od->name,
			     od->arg ? " " : "", od->arg ? od->arg : "");
	/* At least two spaces between an option and its help. */
	if (n >= 19)
		fprintf(f, "%s\n%20s", head, "");
	else
		fprintf(f, "%-20s", head);
	while (p) {
		const char *nl = strchr(p, '\n');

		fprintf(f, "%.*s\n", nl ? (int)(nl - p) : (int)strlen(p), p);
		p = nl ? nl + 1 : NULL;
		if (p)
			fprintf(f, "%20s", "");
	}
}

void ctl_usage(const struct ctl_cmd *c, FILE *f)
{
	fprintf(f, "usage: %s\n\n%s\n", c->synopsis, c->about);
	if (c->opts[0].opt)
		fputc('\n', f);
	for (size_t i = 0; i < CTL_CMD_OPTS_MAX && c->opts[i].opt; i++)
		ctl_usage_opt(f, &c->opts[i]);
	if (c->footer)
		fprintf(f, "\n%s\n", c->footer);
}

static const char ctl_main_usage[] =
	"usage: mfctl [--config-dir DIR] [--bpf-root DIR] [--state-dir DIR]\n"
	"             [--run-dir DIR] [--store URL [--store-ca FILE\n"
	"             [--store-cert FILE --store-key FILE]]\n"
	"             [--store-user NAME --store-password-file FILE]]\n"
	"             COMMAND [ARGS]\n"
	"\n"
	"Commands:\n";

/* The first sentence of @about, which ends at a '.' before a space, a
 * line break or the end ("ca.key" and "..." do not end it), wrapped to 79
 * columns after the @col columns of the command's name. */
static void ctl_put_summary(FILE *f, const char *about, int col)
{
	const int indent = col;
	const char *c = about;

	while (*c) {
		size_t n = 0;

		while (c[n] && c[n] != ' ' && c[n] != '\n' &&
		       !(c[n] == '.' && (n == 0 || c[n - 1] != '.') &&
			 (!c[n + 1] || c[n + 1] == ' ' || c[n + 1] == '\n')))
			n++;
		if (col > indent && col + 1 + (int)n > 79) {
			fprintf(f, "\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			fputc(' ', f);
			col++;
		}
		fwrite(c, 1, n, f);
		col += (int)n;
		c += n;
		if (*c != ' ' && *c != '\n')
			break;		/* the sentence's end */
		c++;
	}
	fputc('\n', f);
}

static void ctl_main_help(FILE *f)
{
	fputs(ctl_main_usage, f);
	for (size_t i = 0; i < ctl_ncmds; i++) {
		fprintf(f, "  %-12s ", ctl_cmds[i].name);
		ctl_put_summary(f, ctl_cmds[i].about, 15);
	}
	fputs("  help [CMD]   this text, or the usage of CMD\n"
	      "\n"
	      "Global options (each also from $MF_CONFIG_DIR, $MF_BPF_ROOT,\n"
	      "$MF_STATE_DIR, $MF_RUN_DIR; defaults " MF_CONFIG_DIR_DEFAULT ",\n"
	      MF_PIN_ROOT_DEFAULT ", " MF_STATE_DIR_DEFAULT ",\n"
	      MF_RUN_DIR_DEFAULT "):\n"
	      "  --config-dir DIR  CA and certificates\n"
	      "  --bpf-root DIR    pin root of the policy maps\n"
	      "  --state-dir DIR   where apply and delete save the applied\n"
	      "                    policy and restore reads it; with --store,\n"
	      "                    where the commands keep their copy of the\n"
	      "                    mesh (" MESH_CACHE_FILE "), to read only what\n"
	      "                    changed since\n"
	      "  --run-dir DIR     where apply, delete and restore take the\n"
	      "                    lock that serializes them (DIR/mfctl.lock)\n"
	      "  --store URL       etcd://HOST:PORT[,HOST:PORT...][/PREFIX]\n"
	      "                    (etcds:// for TLS; also $MF_STORE): apply,\n"
	      "                    delete, diff and get work on the mesh in\n"
	      "                    that store, status shows its revision and\n"
	      "                    sync follows it (docs/store.md)\n"
	      "  --store-ca FILE   the CA of the store's certificates\n"
	      "  --store-cert FILE, --store-key FILE\n"
	      "                    our client certificate and key\n"
	      "  --store-user NAME, --store-password-file FILE\n"
	      "                    the store's user, and the file that holds\n"
	      "                    its password, when the store's auth is on\n"
	      "  -h, --help        this text\n"
	      "\n"
	      "Exit codes: 0 ok, 1 invalid input, 2 system error; diff: 3 when\n"
	      "applying would change something.\n"
	      "\n"
	      "mfctl version " CTL_VERSION "\n", f);
}

/* The command whose name @argv starts with (one or two words), or NULL;
 * *words gets how many words its name took. */
static const struct ctl_cmd *ctl_find(int argc, char **argv, int *words)
{
	for (size_t i = 0; i < ctl_ncmds; i++) {
		const char *name = ctl_cmds[i].name, *sp = strchr(name, ' ');

		if (!sp && !strcmp(argv[0], name)) {
			*words = 1;
			return &ctl_cmds[i];
		}
		if (sp && argc > 1 && !strncmp(argv[0], name, sp - name) &&
		    !argv[0][sp - name] && !strcmp(argv[1], sp + 1)) {
			*words = 2;
			return &ctl_cmds[i];
		}
	}
	return NULL;
}

/* The two-word command whose first word is @w, or NULL. */
static const struct ctl_cmd *ctl_find_group(const char *w)
{
	for (size_t i = 0; i < ctl_ncmds; i++) {
		const char *sp = strchr(ctl_cmds[i].name, ' ');

		if (sp && !strncmp(w, ctl_cmds[i].name, sp - ctl_cmds[i].name) &&
		    !w[sp - ctl_cmds[i].name])
			return &ctl_cmds[i];
	}
	return NULL;
}

/* `mfctl help [CMD...]` */
static int ctl_help(int argc, char **argv)
{
	const struct ctl_cmd *c;
	int words;

	if (argc < 2) {
		ctl_main_help(stdout);
		return CTL_EXIT_OK;
	}
	c = ctl_find(argc - 1, argv + 1, &words);
	if (!c)
		c = ctl_find_group(argv[1]);
	if (!c) {
		ctl_err("unknown command \"%s\"", argv[1]);
		return CTL_EXIT_INVALID;
	}
	ctl_usage(c, stdout);
	return CTL_EXIT_OK;
}

/* Parses the options and words of @c from @argv (its name at argv[0]). */
static int ctl_parse(const struct ctl_cmd *c, int argc, char **argv,
		     struct ctl_args *a)
{
	struct option lo[CTL_CMD_OPTS_MAX + 2];
	char so[2 * CTL_CMD_OPTS_MAX + 1];
	size_t nl = 0, ns = 0;
	int ch;

	memset(lo, 0, sizeof(lo));
	for (size_t i = 0; i < CTL_CMD_OPTS_MAX && c->opts[i].opt; i++) {
		const struct ctl_optdef *od = &ctl_optdefs[c->opts[i].opt];

		lo[nl++] = (struct option){ od->name,
					    od->arg ? required_argument :
						      no_argument,
					    NULL, c->opts[i].opt };
		if (od->letter) {
			so[ns++] = od->letter;
			if (od->arg)
				so[ns++] = ':';
		}
	}
	lo[nl] = (struct option){ "help", no_argument, NULL, CTL_HELP };
	so[ns] = 0;
	for (size_t i = 0; i < CTL_CMD_OPTS_MAX && c->opts[i].opt; i++) {
		enum ctl_opt k = c->opts[i].opt;

		if (!ctl_optdefs[k].repeat)
			continue;
		/* No more values than words. */
		a->list[k] = calloc((size_t)argc + 1, sizeof(*a->list[k]));
		if (!a->list[k]) {
			ctl_err("out of memory");
			return CTL_EXIT_SYSTEM;
		}
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		for (int k = 1; k < CTL_OPT_MAX; k++)
			if (ctl_optdefs[k].letter && ch == ctl_optdefs[k].letter)
				ch = k;
		if (ch == CTL_HELP) {
			ctl_usage(c, stdout);
			return -1;
		}
		if (ch <= 0 || ch >= CTL_OPT_MAX) {
			ctl_usage(c, stderr);
			return CTL_EXIT_INVALID;
		}
		a->set[ch] = true;
		a->val[ch] = optarg;
		if (a->list[ch])
			a->list[ch][a->nlist[ch]++] = optarg;
	}
	a->files = a->list[CTL_OPT_FILE];
	a->nfiles = a->nlist[CTL_OPT_FILE];
	a->words = argv + optind;
	a->nwords = argc - optind;
	if (a->nwords > c->max_words) {
		ctl_err("unexpected argument \"%s\"", a->words[c->max_words]);
		ctl_usage(c, stderr);
		return CTL_EXIT_INVALID;
	}
	if (a->nwords < c->min_words) {
		ctl_err("%s needs more arguments", c->name);
		ctl_usage(c, stderr);
		return CTL_EXIT_INVALID;
	}
	/* Checked before anything runs: a write must not land and then
	 * fail on its --wait's address. */
	if (a->val[CTL_OPT_ADMIN] && agentq_addr_check(a->val[CTL_OPT_ADMIN])) {
		ctl_err("--admin must be IPv4:PORT, not \"%s\"",
			a->val[CTL_OPT_ADMIN]);
		return CTL_EXIT_INVALID;
	}
	return CTL_EXIT_OK;
}

int ctl_run(const struct ctl_opts *o, int argc, char **argv)
{
	const struct ctl_cmd *c;
	struct ctl_args a;
	int words, rc;

	if (argc == 0) {
		ctl_main_help(stderr);
		return CTL_EXIT_INVALID;
	}
	if (!strcmp(argv[0], "help"))
		return ctl_help(argc, argv);
	c = ctl_find(argc, argv, &words);
	if (!c) {
		/* "mfctl ca" or "mfctl ca --help": the group's command. */
		c = ctl_find_group(argv[0]);
		if (c && argc > 1 && (!strcmp(argv[1], "--help") ||
				      !strcmp(argv[1], "-h"))) {
			ctl_usage(c, stdout);
			return CTL_EXIT_OK;
		}
		if (c) {
			ctl_err("\"%s\" needs a subcommand: %s", argv[0],
				c->name);
			ctl_usage(c, stderr);
		} else {
			ctl_err("unknown command \"%s\" (see mfctl --help)",
				argv[0]);
		}
		return CTL_EXIT_INVALID;
	}
	memset(&a, 0, sizeof(a));
	a.cmd = c;
	/* The command sees its own name as argv[0], as getopt expects. */
	rc = ctl_parse(c, argc - words + 1, argv + words - 1, &a);
	if (rc == CTL_EXIT_OK)
		rc = c->run(o, &a);
	else if (rc < 0)
		rc = CTL_EXIT_OK;	/* --help */
	for (int k = 0; k < CTL_OPT_MAX; k++)
		free(a.list[k]);
	return rc;
}

int ctl_parse_inputs(struct model_set *set, const struct ctl_args *a,
		     struct diag *d, const char *consequence)
{
	struct diag warnings;
	int err = 0;

	if (a->val[CTL_OPT_KUMA] &&
	    kuma_version_parse(a->val[CTL_OPT_KUMA], &set->kuma)) {
		ctl_err("--kuma must be 2.14 or 3.0, not \"%s\"; %s",
			a->val[CTL_OPT_KUMA], consequence);
		return -EINVAL;
	}
	if (a->val[CTL_OPT_VALIDATE] &&
	    model_validate_parse(a->val[CTL_OPT_VALIDATE], &set->validate)) {
		ctl_err("--validate must be strict, warn or ignore, not "
			"\"%s\"; %s", a->val[CTL_OPT_VALIDATE], consequence);
		return -EINVAL;
	}
	diag_init(&warnings);
	set->warnings = &warnings;
	for (size_t i = 0; i < a->nfiles; i++) {
		int e = input_parse_arg(set, a->files[i], d);

		/* Keep parsing after bad input, so every problem is reported
		 * at once; a system error is the one to return. */
		if (e && (!err || err == -EINVAL))
			err = e;
	}
	/* The warnings first, then what refused the input, if anything:
	 * each list in reading order. */
	set->warnings = NULL;
	diag_sort(&warnings);
	diag_print(&warnings, stderr);
	diag_free(&warnings);
	if (err) {
		diag_sort(d);
		diag_print(d, stderr);
		if (err == -EINVAL)
			ctl_err("%zu problem%s found; %s", diag_count(d),
				diag_count(d) == 1 ? "" : "s", consequence);
	}
	return err;
}

int ctl_txn_open(struct txn *t, const struct ctl_opts *o, bool write)
{
	const struct txn_opts to = {
		.bpf_root = o->bpf_root,
		.store = o->store,
		.state_dir = write ? o->state_dir : NULL,
		.run_dir = write ? o->run_dir : NULL,
		.write = write,
	};

	return txn_open(t, &to);
}

int ctl_txn_fail(const struct txn *t, int err, const char *what,
		 const char *consequence)
{
	const char *where = t->store ? t->store->where : t->o.bpf_root;
	unsigned long long epoch = t->have.config.epoch;

	diag_print(&t->d, stderr);
	switch (t->stage) {
	case TXN_OPENED:
	case TXN_FAILED_OPEN:
		if (err == -EBADMSG)
			ctl_err("the applied state under %s is inconsistent; "
				"remove the pins there to start over", where);
		break;
	case TXN_FAILED_PLAN:
		if (err == -EINVAL)
			ctl_err("%zu problem%s found; %s", diag_count(&t->d),
				diag_count(&t->d) == 1 ? "" : "s", consequence);
		break;
	case TXN_FAILED_COMPILE:
		ctl_err("cannot compile: %s; %s",
			err == -ENOSPC ? "a policy map would be over capacity" :
					 strerror(-err), consequence);
		break;
	case TXN_FAILED_WRITE:
		if (err != -EEXIST)
			ctl_err("%s failed: the policy in force under %s is "
				"unchanged (epoch %llu); %s", what, where, epoch,
				consequence);
		else
			ctl_err("%s", consequence);
		break;
	case TXN_FAILED_SAVE:
		ctl_err("the %s is in force (epoch %llu) but the state could "
			"not be saved under %s; the maps were not rolled back, "
			"and a restore (after a reboot) would bring back an "
			"older policy: fix the cause and apply again", what,
			(unsigned long long)t->want.config.epoch,
			t->o.state_dir);
		return CTL_EXIT_SYSTEM;
	}
	return err == -EINVAL || err == -EEXIST ? CTL_EXIT_INVALID :
						  CTL_EXIT_SYSTEM;
}

int ctl_wait_agent(const struct ctl_args *a, bool dry, uint64_t epoch)
{
	const char *admin = a->val[CTL_OPT_ADMIN] ? a->val[CTL_OPT_ADMIN] :
						    AGENTQ_ADMIN;
	uint64_t last;
	int err;

	if (!a->set[CTL_OPT_WAIT] || dry)
		return CTL_EXIT_OK;
	err = agentq_wait_epoch(admin, epoch, CTL_WAIT_MS, &last);
	if (err) {
		ctl_err("epoch %llu is in the maps, but the agent at %s %s "
			"after %d s", (unsigned long long)epoch, admin,
			last ? "still serves an older one" : "did not answer",
			CTL_WAIT_MS / 1000);
		return CTL_EXIT_SYSTEM;
	}
	printf("the agent at %s serves epoch %llu\n", admin,
	       (unsigned long long)epoch);
	return CTL_EXIT_OK;
}
