// SPDX-License-Identifier: Apache-2.0
/*
 * lib/fsio.c's writes, with every fsync() it makes seen through a wrapper
 * that records what was synced and what the target file held at that
 * moment, and that can fail on demand.  So the cases show the order a
 * crash cares about (the file's data before its rename, the directory
 * after it), and that a write failing at any step before the rename
 * leaves the old file and no temporary one.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/test.h"

/* One fsync() fsio.c made. */
struct sync_ev {
	bool dir;			/* of a directory */
	char path[PATH_MAX];		/* what the descriptor names */
	char target[16];		/* what sync_target held then */
};

static struct sync_ev evs[8];
static int nevs;
static const char *sync_target;		/* the file the case writes */
static bool fail_file_sync, fail_dir_sync;

static int fsio_test_fsync(int fd);
#define fsync fsio_test_fsync
#include "../../lib/fsio.c"
#undef fsync

static int fsio_test_fsync(int fd)
{
	struct sync_ev *e = &evs[nevs < 8 ? nevs : 7];
	char link[64], *text = NULL;
	struct stat st;
	size_t len;
	ssize_t n;

	if (fstat(fd, &st))
		return -1;
	nevs++;
	e->dir = S_ISDIR(st.st_mode);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, e->path, sizeof(e->path) - 1);
	e->path[n > 0 ? n : 0] = '\0';
	e->target[0] = '\0';
	if (sync_target && !fsio_read_all(sync_target, &text, &len))
		snprintf(e->target, sizeof(e->target), "%s", text);
	free(text);
	if (e->dir ? fail_dir_sync : fail_file_sync) {
		errno = EIO;
		return -1;
	}
	return fsync(fd);
}

static char dir[PATH_MAX];	/* this run's directory, resolved */
static char target[PATH_MAX + 16];

static void reset(void)
{
	nevs = 0;
	fail_file_sync = fail_dir_sync = false;
	sync_target = target;
}

/* The names in @d other than "." and "..", into @names (comma-joined). */
static int list_dir(const char *d, char *names, size_t n)
{
	struct dirent *de;
	DIR *dp = opendir(d);
	int count = 0;

	names[0] = '\0';
	if (!dp)
		return -1;
	while ((de = readdir(dp))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (count++)
			strncat(names, ",", n - strlen(names) - 1);
		strncat(names, de->d_name, n - strlen(names) - 1);
	}
	closedir(dp);
	return count;
}

/* @path holds exactly @want. */
static bool holds(const char *path, const char *want)
{
	char *text = NULL;
	size_t len;
	bool ok;

	ok = ASSERT_EQ(fsio_read_all(path, &text, &len), 0) &&
	     ASSERT_STREQ(text, want);
	free(text);
	return ok;
}

/* The file's data is synced under its temporary name while the target
 * still holds the old content; the directory after the rename. */
static bool test_write_syncs_file_then_dir(void)
{
	struct stat st;

	reset();
	if (!ASSERT_EQ(fsio_write_atomic(target, "old", 3, 0644), 0))
		return false;
	reset();
	return ASSERT_EQ(fsio_write_atomic(target, "new", 3, 0600), 0) &&
	       ASSERT_EQ(nevs, 2) &&
	       ASSERT_FALSE(evs[0].dir) &&
	       ASSERT_TRUE(strncmp(evs[0].path, target, strlen(target)) == 0) &&
	       ASSERT_TRUE(strstr(evs[0].path, ".tmp.")) &&
	       ASSERT_STREQ(evs[0].target, "old") &&
	       ASSERT_TRUE(evs[1].dir) &&
	       ASSERT_STREQ(evs[1].path, dir) &&
	       ASSERT_STREQ(evs[1].target, "new") &&
	       holds(target, "new") &&
	       ASSERT_EQ(stat(target, &st), 0) &&
	       ASSERT_EQ(st.st_mode & 07777, 0600);
}

/* The file's fsync fails: the old file stays, the temporary one goes,
 * and the directory is not touched. */
static bool test_failed_file_sync_keeps_old(void)
{
	char names[256];

	reset();
	if (!ASSERT_EQ(fsio_write_atomic(target, "old", 3, 0644), 0))
		return false;
	reset();
	fail_file_sync = true;
	return ASSERT_EQ(fsio_write_atomic(target, "new", 3, 0644), -EIO) &&
	       ASSERT_EQ(nevs, 1) &&
	       holds(target, "old") &&
	       ASSERT_EQ(list_dir(dir, names, sizeof(names)), 1) &&
	       ASSERT_STREQ(names, "target");
}

/* A write that fails half-way (the file size limit, EFBIG) leaves the
 * old file whole and no temporary file. */
static bool test_failed_write_keeps_old(void)
{
	static char big[65536];
	struct rlimit old_lim, lim;
	char names[256];
	bool ok;
	int ret;

	reset();
	if (!ASSERT_EQ(fsio_write_atomic(target, "old", 3, 0644), 0) ||
	    !ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_lim), 0))
		return false;
	memset(big, 'x', sizeof(big));
	lim = old_lim;
	lim.rlim_cur = 4096;
	/* Past the limit write() fails with EFBIG once SIGXFSZ is ignored. */
	signal(SIGXFSZ, SIG_IGN);
	if (!ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lim), 0))
		return false;
	reset();
	ret = fsio_write_atomic(target, big, sizeof(big), 0644);
	setrlimit(RLIMIT_FSIZE, &old_lim);
	signal(SIGXFSZ, SIG_DFL);
	ok = ASSERT_EQ(ret, -EFBIG) &&
	     ASSERT_EQ(nevs, 0) &&
	     holds(target, "old") &&
	     ASSERT_EQ(list_dir(dir, names, sizeof(names)), 1) &&
	     ASSERT_STREQ(names, "target");
	return ok;
}

/* The directory's fsync failing is an error the caller hears of, though
 * the new content is in place. */
static bool test_failed_dir_sync_reported(void)
{
	reset();
	fail_dir_sync = true;
	return ASSERT_EQ(fsio_write_atomic(target, "new", 3, 0644), -EIO) &&
	       ASSERT_EQ(nevs, 2) &&
	       ASSERT_TRUE(evs[1].dir) &&
	       holds(target, "new");
}

/* Each directory mkdirs creates is synced into its parent, in order;
 * directories that exist cost nothing. */
static bool test_mkdirs_syncs_parents(void)
{
	char path[PATH_MAX + 32], a[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/a/b", dir);
	snprintf(a, sizeof(a), "%s/a", dir);
	reset();
	sync_target = NULL;
	if (!ASSERT_EQ(fsio_mkdirs(path, 0755), 0) ||
	    !ASSERT_EQ(nevs, 2) ||
	    !ASSERT_TRUE(evs[0].dir && evs[1].dir) ||
	    !ASSERT_STREQ(evs[0].path, dir) ||
	    !ASSERT_STREQ(evs[1].path, a))
		return false;
	reset();
	sync_target = NULL;
	return ASSERT_EQ(fsio_mkdirs(path, 0755), 0) && ASSERT_EQ(nevs, 0);
}

static bool test_read_at(void)
{
	char *text = NULL;
	size_t len;
	int fd;
	bool ok;

	reset();
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (!ASSERT_TRUE(fd >= 0))
		return false;
	ok = ASSERT_EQ(fsio_write_atomic(target, "at", 2, 0644), 0) &&
	     ASSERT_EQ(fsio_read_at(fd, "target", &text, &len), 0) &&
	     ASSERT_EQ(len, 2) && ASSERT_STREQ(text, "at");
	free(text);
	ok = ok && ASSERT_EQ(fsio_read_at(fd, "nope", &text, &len), -ENOENT) &&
	     ASSERT_TRUE(text == NULL);
	close(fd);
	return ok;
}

/* Shared holders exclude an exclusive one, and the lock goes with its
 * descriptor. */
static bool test_dir_lock(void)
{
	int a, b, probe;
	bool ok;

	a = fsio_dir_lock(dir, false);
	b = fsio_dir_lock(dir, false);
	probe = open(dir, O_RDONLY | O_DIRECTORY);
	ok = ASSERT_TRUE(a >= 0) && ASSERT_TRUE(b >= 0) &&
	     ASSERT_TRUE(probe >= 0) &&
	     ASSERT_EQ(flock(probe, LOCK_EX | LOCK_NB), -1) &&
	     ASSERT_EQ(errno, EWOULDBLOCK);
	close(a);
	close(b);
	ok = ok && ASSERT_EQ(flock(probe, LOCK_EX | LOCK_NB), 0) &&
	     ASSERT_EQ(fsio_dir_lock("/nonexistent/mf", true), -ENOENT);
	if (probe >= 0)
		close(probe);
	return ok;
}

int main(void)
{
	char tmpl[] = "/tmp/mf-test-fsio-XXXXXX", cmd[PATH_MAX + 16];

	TEST_MAIN_BEGIN();
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(target, sizeof(target), "%s/target", dir);
	TEST_RUN(test_write_syncs_file_then_dir);
	TEST_RUN(test_failed_file_sync_keeps_old);
	TEST_RUN(test_failed_write_keeps_old);
	TEST_RUN(test_failed_dir_sync_reported);
	TEST_RUN(test_mkdirs_syncs_parents);
	TEST_RUN(test_read_at);
	TEST_RUN(test_dir_lock);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	TEST_MAIN_END();
}
