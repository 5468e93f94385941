/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The setup the mfctl command tests share: a memory store (store.h) for
 * the tests that need no kernel, a pin root of the test's own under
 * /sys/fs/bpf for those that do, and a temporary config directory (with
 * the run dir, for the writers' lock, inside it: parallel test programs
 * never wait for each other), all made by ch_setup() and removed by
 * ch_cleanup() at exit even when a test fails; the reason every bpffs case
 * skips when the machine cannot pin (not root, no bpffs); files written
 * into the temp dir; and running an mfctl command line in process with
 * its stdout and stderr captured.
 *
 * Include after "harness/test.h".  One test program per include: the pin root
 * and temp dir are this file's statics.
 */
#ifndef MF_CTL_HARNESS_H
#define MF_CTL_HARNESS_H

#include <fcntl.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "harness/test.h"
#include "../../ctl/ctl.h"
#include "fsio.h"
#include "pmap.h"
#include "policy/mapio.h"
#include "policy/store.h"

#define CH_BPF_FS_MAGIC 0xcafe4a11

static char ch_root[64];		/* the pin root */
static char ch_tmpdir[64];		/* config dir; "" once removed */
static char ch_run_dir[80];		/* <ch_tmpdir>/run: --run-dir */
static const char *ch_skip_reason;	/* set when bpffs cases must skip */
static struct store *ch_mem;		/* the memory store */

/* Unpins everything under the pin root and removes the temp dir.  Safe to
 * call twice (main calls it, then atexit). */
static inline void ch_cleanup(void)
{
	char cmd[128];

	pmap_unpin_all(ch_root);
	store_close(ch_mem);
	ch_mem = NULL;
	if (ch_tmpdir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", ch_tmpdir);
		if (system(cmd))
			fprintf(stderr, "cannot remove %s\n", ch_tmpdir);
		ch_tmpdir[0] = '\0';
	}
}

/* Names the pin root @root_prefix-<pid>, makes the temp dir from mkdtemp
 * template @tmp_template, registers ch_cleanup() at exit, sets
 * ch_skip_reason when this machine cannot pin maps, and clears anything
 * left pinned under the root.  Returns 0, or -1 when the temp dir could
 * not be made (reported on stderr). */
static inline int ch_setup(const char *root_prefix, const char *tmp_template)
{
	struct statfs sfs;

	snprintf(ch_root, sizeof(ch_root), "%s-%d", root_prefix, (int)getpid());
	snprintf(ch_tmpdir, sizeof(ch_tmpdir), "%s", tmp_template);
	if (!mkdtemp(ch_tmpdir)) {
		perror("mkdtemp");
		return -1;
	}
	snprintf(ch_run_dir, sizeof(ch_run_dir), "%s/run", ch_tmpdir);
	atexit(ch_cleanup);
	if (store_mem_new(&ch_mem))
		return -1;
	if (geteuid() != 0)
		ch_skip_reason = "needs root for bpffs";
	else if (statfs("/sys/fs/bpf", &sfs) || sfs.f_type != CH_BPF_FS_MAGIC)
		ch_skip_reason = "bpffs not mounted at /sys/fs/bpf";
	pmap_unpin_all(ch_root);
	return 0;
}

/* Writes @text to the temp dir as @name; its path goes to @path (@n
 * bytes).  True when written (an assertion). */
static inline bool ch_write_file(const char *name, const char *text,
				 char *path, size_t n)
{
	snprintf(path, n, "%s/%s", ch_tmpdir, name);
	return ASSERT_EQ(fsio_write_atomic(path, text, strlen(text), 0644), 0);
}

/* What a command printed: its standard output and standard error. */
struct ch_run {
	int rc;
	char *out, *err;	/* owned, NUL-terminated */
};

static inline void ch_run_free(struct ch_run *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/* Points fd @target at file @path; the old target is saved in *@saved
 * for ch_put_back(). */
static inline bool ch_redirect(int target, const char *path, int *saved)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	*saved = dup(target);
	if (fd < 0 || *saved < 0)
		return false;
	dup2(fd, target);
	close(fd);
	return true;
}

static inline void ch_put_back(int target, int saved)
{
	dup2(saved, target);
	close(saved);
}

/* The global options of a command run against the memory store (@mem)
 * or the pin root, with the temp dir as config dir. */
static inline struct ctl_opts ch_opts(bool mem)
{
	return (struct ctl_opts){ .config_dir = ch_tmpdir,
				  .bpf_root = ch_root,
				  .run_dir = ch_run_dir,
				  .store = mem ? ch_mem : NULL };
}

/* Replaces the memory store with an empty one (a node after a reboot). */
static inline bool ch_mem_reset(void)
{
	store_close(ch_mem);
	ch_mem = NULL;
	return ASSERT_EQ(store_mem_new(&ch_mem), 0);
}

/* The policy in force in the memory store (@mem) or under the pin root,
 * through the one reader, into @rs (the caller frees it). */
static inline bool ch_read(bool mem, struct rec_set *rs)
{
	struct store *s = ch_mem;
	struct diag d;
	bool ok = true;

	diag_init(&d);
	rec_set_init(rs);
	if (!mem)
		ok = ASSERT_EQ(store_bpf_open(&s, ch_root, false), 0);
	ok = ok && ASSERT_EQ(mapio_read(s, rs, &d), 0);
	if (!mem && ok)
		store_close(s);
	diag_free(&d);
	return ok;
}

/* Runs the mfctl command line @args (NULL-terminated, the command's name
 * first, as after the global options) with options @o, capturing its
 * output through files in the temp dir into @r (the caller frees it with
 * ch_run_free()).  True when the output was captured (the exit code is in
 * r->rc); each way it can fail is an assertion. */
static inline bool ch_capture(const struct ctl_opts *o, char **args,
			      struct ch_run *r)
{
	char out[128], err[128];
	int argc = 0, so, se;
	size_t n;

	memset(r, 0, sizeof(*r));
	while (args[argc])
		argc++;
	snprintf(out, sizeof(out), "%s/stdout", ch_tmpdir);
	snprintf(err, sizeof(err), "%s/stderr", ch_tmpdir);
	fflush(stdout);
	fflush(stderr);
	if (!ch_redirect(STDOUT_FILENO, out, &so))
		return ASSERT_TRUE(false);
	if (!ch_redirect(STDERR_FILENO, err, &se)) {
		ch_put_back(STDOUT_FILENO, so);
		return ASSERT_TRUE(false);
	}
	r->rc = ctl_run(o, argc, args);
	fflush(stdout);
	fflush(stderr);
	ch_put_back(STDERR_FILENO, se);
	ch_put_back(STDOUT_FILENO, so);
	return ASSERT_EQ(fsio_read_all(out, &r->out, &n), 0) &&
	       ASSERT_EQ(fsio_read_all(err, &r->err, &n), 0);
}

#endif /* MF_CTL_HARNESS_H */
