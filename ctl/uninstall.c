// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl uninstall`: removes what meshforge made on this node for one pin
 * root (owned.h says what, and how each is told from what is not ours),
 * in this network namespace, printing each as it goes.  It refuses while
 * an agent serves those maps, or while our programs are in use where it
 * cannot see them (another network namespace), unless --force.
 *
 * The saved policy, the CA and the certificates are not the node's
 * datapath but an operator's data, and the CA cannot be made again: they
 * go only with --purge, and with them mfctl's lock.  A file or directory
 * someone else put there (secrets/, a file in the state dir) keeps its
 * directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certdir.h"
#include "clsact.h"
#include "ctl.h"
#include "fsio.h"
#include "mesh.h"
#include "owned.h"
#include "paths.h"
#include "policy/saved.h"
#include "policy/txn.h"

/* What the CA's commands write beside certs/ (ctl/ca.c, ctl/issued.h). */
static const char *const un_ca_files[] = { "ca.key", "ca.crt",
					   CERTDIR_TRUST_DOMAIN, CTL_CA_PREVIOUS,
					   CTL_CA_CRL, CTL_CA_CRL_URI,
					   "issued" };

struct un_run {
	bool dry;
	int removed[OWN_KIND_MAX];
	int kept;
	int files;		/* --purge: files and directories */
	int failed;
};

/* "removed ..." or "would remove ...". */
static void un_say(const struct un_run *r, const char *what)
{
	printf("%s %s\n", r->dry ? "would remove" : "removed", what);
}

/* One object of the survey: removed, or said why not. */
static void un_obj(struct un_run *r, struct own_survey *s, struct own_obj *o)
{
	char what[PATH_MAX + 128];
	int err = 0;

	own_describe(o, what, sizeof(what));
	if (!o->kept && !r->dry)
		err = own_remove(s, o);
	if (err == -ESTALE) {
		printf("kept %s: it changed since it was found\n", what);
		r->kept++;
	} else if (err) {
		ctl_err("cannot remove %s: %s", what, strerror(-err));
		r->failed++;
	} else if (o->kept) {
		/* A qdisc decides again once our filters are gone. */
		printf("kept %s: %s\n", what, o->kept);
		r->kept++;
	} else {
		un_say(r, what);
		r->removed[o->kind]++;
	}
}

/* Removes file @name of directory @dfd (@dir, for messages). */
static void un_file(struct un_run *r, int dfd, const char *dir,
		    const char *name)
{
	char what[PATH_MAX + 16];
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	snprintf(what, sizeof(what), "file %s/%s", dir, name);
	if (!r->dry && unlinkat(dfd, name, 0) && errno != ENOENT) {
		ctl_err("cannot remove %s: %s", what, strerror(errno));
		r->failed++;
		return;
	}
	un_say(r, what);
	r->files++;
}

/* Removes directory @dir if it is empty; a dry run cannot know, and says
 * so. */
static void un_dir(struct un_run *r, const char *dir)
{
	char what[PATH_MAX + 16];

	if (!fsio_exists(dir))
		return;
	snprintf(what, sizeof(what), "dir %s", dir);
	if (r->dry) {
		printf("would remove %s, if nothing else is in it\n", what);
		return;
	}
	if (rmdir(dir)) {
		if (errno == ENOTEMPTY || errno == EEXIST) {
			printf("kept %s: it holds what is not meshforge's\n",
			       what);
			r->kept++;
		} else if (errno != ENOENT) {
			ctl_err("cannot remove %s: %s", what, strerror(errno));
			r->failed++;
		}
		return;
	}
	un_say(r, what);
	r->files++;
}

/* The saved policy, what the store's commands keep beside it, and the
 * state dir. */
static void un_purge_state(struct un_run *r, const char *state_dir)
{
	int dfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return;
	un_file(r, dfd, state_dir, SAVED_FILE);
	un_file(r, dfd, state_dir, MESH_REV_FILE);
	un_file(r, dfd, state_dir, MESH_CACHE_FILE);
	close(dfd);
	un_dir(r, state_dir);
}

/* The CA, the certificates and the config dir, under the lock `ca init`
 * and `cert issue` take. */
static void un_purge_config(struct un_run *r, const char *config_dir)
{
	char what[PATH_MAX + 32];
	struct stat st;
	size_t n = 0;
	int dfd, err;

	if (!fsio_exists(config_dir))
		return;
	dfd = ctl_ca_lock(config_dir, true);
	if (dfd < 0) {
		r->failed++;
		return;
	}
	for (size_t i = 0; i < sizeof(un_ca_files) / sizeof(un_ca_files[0]);
	     i++)
		un_file(r, dfd, config_dir, un_ca_files[i]);
	snprintf(what, sizeof(what), "dir %s/certs", config_dir);
	if (r->dry) {
		if (!fstatat(dfd, "certs", &st, AT_SYMLINK_NOFOLLOW)) {
			un_say(r, what);
			r->files++;
		}
	} else {
		err = certdir_purge(dfd, &n);
		if (err) {
			ctl_err("cannot remove %s: %s", what, strerror(-err));
			r->failed++;
		} else if (n) {
			printf("removed %s (%zu files)\n", what, n);
			r->files += (int)n;
		}
	}
	close(dfd);
	un_dir(r, config_dir);
}

/* mfctl's lock (held: @lock_fd), the hand-over socket a killed agent of
 * pin root @bpf_root left (none runs: un_refused()), and the run dir. */
static void un_purge_run(struct un_run *r, const char *run_dir,
			 const char *bpf_root)
{
	char dir[PATH_MAX], sock[PATH_MAX];
	int dfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return;
	/* Unlinked while we hold it: a writer waiting on it goes on with a
	 * lock file nobody else will open. */
	un_file(r, dfd, run_dir, TXN_LOCK_FILE);
	if (!mf_handover_path(sock, sizeof(sock), run_dir, bpf_root))
		un_file(r, dfd, run_dir, strrchr(sock, '/') + 1);
	close(dfd);
	/* Other network namespaces' records keep it. */
	if (!fsio_pathf(dir, sizeof(dir), "%s/" CLSACT_DIR, run_dir))
		un_dir(r, dir);
	un_dir(r, run_dir);
}

/* Says what stops us, unless @force: then it is a warning.  True when
 * something does. */
static bool un_refused(const struct own_survey *s, const char *root,
		       bool force)
{
	const char *then = force ? "; going on (--force)" : "";
	bool refused = false;

	if (s->nagents) {
		fprintf(stderr, "mfctl: meshforge-agent is running on the maps "
			"under %s (pid", root);
		for (int i = 0; i < s->nagents && i < OWN_MAX_AGENTS; i++)
			fprintf(stderr, "%s%ld", i ? ", " : " ", s->agents[i]);
		fprintf(stderr, "%s)%s\n", s->nagents > OWN_MAX_AGENTS ?
			", ..." : "", force ? then : ": stop it first, or "
			"--force");
		refused = true;
	}
	for (size_t i = 0; i < s->nprogs; i++) {
		if (s->progs[i].here)
			continue;
		ctl_err("program %s (prog %u) uses the maps under %s and is "
			"attached nowhere in this network namespace: in use in "
			"another one, where mfctl uninstall should run (nsenter "
			"--net=...), or held by a process%s", s->progs[i].name,
			s->progs[i].id, root, force ? then : "; --force to go "
			"on without it");
		refused = true;
	}
	return refused;
}

static void un_summary(const struct un_run *r, const char *root)
{
	int total = r->files;

	for (int k = 0; k < OWN_KIND_MAX; k++)
		total += r->removed[k];
	if (!total && !r->kept && !r->failed) {
		printf("nothing of meshforge's here (pin root %s)\n", root);
		return;
	}
	printf("%s:", r->dry ? "would uninstall" : "uninstalled");
	for (int k = 0, first = 1; k < OWN_KIND_MAX; k++) {
		if (!r->removed[k])
			continue;
		printf("%s %d %s%s", first ? "" : ",", r->removed[k],
		       own_kind_str(k), r->removed[k] == 1 ? "" : "s");
		first = 0;
	}
	if (r->files)
		printf("%s %d files and directories", total > r->files ? "," :
			"", r->files);
	if (!total)
		printf(" nothing");
	printf("; %d kept%s\n", r->kept,
	       r->failed ? ", and some could not be removed" : "");
}

int ctl_uninstall(const struct ctl_opts *o, const struct ctl_args *a)
{
	struct un_run r = { .dry = a->set[CTL_OPT_DRY_RUN] };
	bool force = a->set[CTL_OPT_FORCE], purge = a->set[CTL_OPT_PURGE];
	const char *step = NULL;
	struct own_survey s;
	int lock = -1, err, rc = CTL_EXIT_SYSTEM;

	/* Writers wait for us and we for them: an apply half way through
	 * would pin maps again behind us.  A run dir that does not exist
	 * is not made for it. */
	if (!r.dry && o->run_dir && fsio_exists(o->run_dir)) {
		err = txn_lock_dir(o->run_dir, &lock, NULL, &step);
		if (err) {
			ctl_err("%s: %s " TXN_LOCK_FILE ": %s", o->run_dir,
				step, strerror(-err));
			return CTL_EXIT_SYSTEM;
		}
	}
	err = own_survey(&s, o->bpf_root, o->run_dir ? o->run_dir :
						       MF_RUN_DIR_DEFAULT);
	if (err == -ENOTDIR) {
		ctl_err("%s is not a directory on bpffs: no pin root of "
			"meshforge's", o->bpf_root);
		rc = CTL_EXIT_INVALID;
		goto out;
	}
	if (err) {
		ctl_err("cannot look at what is on this node: %s%s",
			strerror(-err), err == -EPERM ?
			" (uninstall needs root)" : "");
		goto out;
	}
	if (un_refused(&s, o->bpf_root, force) && !force) {
		rc = CTL_EXIT_INVALID;
		goto out;
	}
	for (size_t i = 0; i < s.n; i++)
		un_obj(&r, &s, &s.objs[i]);
	if (purge) {
		if (o->state_dir)
			un_purge_state(&r, o->state_dir);
		un_purge_config(&r, o->config_dir);
		if (o->run_dir)
			un_purge_run(&r, o->run_dir, o->bpf_root);
	}
	un_summary(&r, o->bpf_root);
	rc = r.failed ? CTL_EXIT_SYSTEM : CTL_EXIT_OK;
out:
	fflush(stdout);
	own_survey_free(&s);
	if (lock >= 0)
		close(lock);	/* releases the flock */
	return rc;
}
