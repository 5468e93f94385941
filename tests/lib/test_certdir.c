// SPDX-License-Identifier: Apache-2.0
/*
 * lib/certdir.c: a certificate and its key become visible together.  The
 * cases put pairs into a temporary config dir and show that certs/ always
 * holds the old pair or the new one: after a put, after a put that fails
 * (an fsync made to fail), after what a crash leaves behind (an
 * unfinished .certs.next), to a reader that was in the old certs/ while a
 * put replaced it, and to a reader racing a writer process.  Every fsync()
 * goes through a wrapper, so a case can see that the config dir is synced
 * after the swap, and can make one fail.  And the trust domain the
 * config dir names beside certs/.
 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/test.h"

static bool fail_file_sync;
/* Whether <dir> was fsynced while certs/a.crt held watch_crt. */
static const char *watch_crt;
static bool synced_after_swap;

static int certdir_test_fsync(int fd);
#define fsync certdir_test_fsync
#include "../../lib/fsio.c"
#include "../../lib/certdir.c"
#undef fsync

static char dir[PATH_MAX];	/* the config dir, resolved */
static char certs[PATH_MAX + 8];

static int certdir_test_fsync(int fd)
{
	struct stat st, top;
	char path[PATH_MAX + 16], *text = NULL;
	size_t len;

	if (fstat(fd, &st))
		return -1;
	if (S_ISREG(st.st_mode) && fail_file_sync) {
		errno = EIO;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/a.crt", certs);
	if (watch_crt && S_ISDIR(st.st_mode) && !stat(dir, &top) &&
	    top.st_ino == st.st_ino && top.st_dev == st.st_dev &&
	    !fsio_read_all(path, &text, &len) && !strcmp(text, watch_crt))
		synced_after_swap = true;
	free(text);
	return fsync(fd);
}

static int put(const char *stem, const char *crt, const char *key)
{
	return certdir_put(dir, stem, crt, strlen(crt), key, strlen(key));
}

/* certdir_read() of @stem gives exactly @crt and @key. */
static bool reads(const char *stem, const char *crt, const char *key)
{
	char *c = NULL, *k = NULL;
	size_t cl, kl;
	bool ok;

	ok = ASSERT_EQ(certdir_read(dir, stem, &c, &cl, &k, &kl), 0) &&
	     ASSERT_STREQ(c, crt) && ASSERT_STREQ(k, key) &&
	     ASSERT_EQ(cl, strlen(crt)) && ASSERT_EQ(kl, strlen(key));
	free(c);
	free(k);
	return ok;
}

static int mode_of(const char *name)
{
	char path[PATH_MAX + 32];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return lstat(path, &st) ? -1 : (int)(st.st_mode & 07777);
}

static bool no_leftover(void)
{
	return ASSERT_EQ(mode_of(CERTDIR_NEXT), -1);
}

static bool test_first_put_creates_certs(void)
{
	return ASSERT_EQ(mode_of("certs"), -1) &&
	       ASSERT_EQ(put("a", "crt-a1", "key-a1"), 0) &&
	       reads("a", "crt-a1", "key-a1") &&
	       ASSERT_EQ(mode_of("certs"), 0755) &&
	       ASSERT_EQ(mode_of("certs/a.crt"), 0644) &&
	       ASSERT_EQ(mode_of("certs/a.key"), 0600) &&
	       no_leftover();
}

/* Another identity's put keeps a's pair (the very files) and anything
 * else in certs/, and certs/'s mode. */
static bool test_put_keeps_the_rest(void)
{
	char path[PATH_MAX + 32];
	struct stat before, after;

	snprintf(path, sizeof(path), "%s/a.key", certs);
	if (!ASSERT_EQ(stat(path, &before), 0) ||
	    !ASSERT_EQ(chmod(certs, 0750), 0) ||
	    !ASSERT_EQ(fsio_write_atomic(strcat(strcpy(path, certs),
						"/README"), "x", 1, 0644), 0))
		return false;
	snprintf(path, sizeof(path), "%s/a.key", certs);
	return ASSERT_EQ(put("b", "crt-b1", "key-b1"), 0) &&
	       reads("a", "crt-a1", "key-a1") &&
	       reads("b", "crt-b1", "key-b1") &&
	       ASSERT_EQ(stat(path, &after), 0) &&
	       ASSERT_EQ(after.st_ino, before.st_ino) &&
	       ASSERT_EQ(mode_of("certs/README"), 0644) &&
	       ASSERT_EQ(mode_of("certs"), 0750) &&
	       no_leftover();
}

/* Replacing a pair swaps certs/ and syncs the config dir after the swap
 * (certs/ already the new version when it is synced). */
static bool test_replace_syncs_config_dir(void)
{
	bool ok;

	watch_crt = "crt-a2";
	synced_after_swap = false;
	ok = ASSERT_EQ(put("a", "crt-a2", "key-a2"), 0) &&
	     ASSERT_TRUE(synced_after_swap) &&
	     reads("a", "crt-a2", "key-a2") &&
	     reads("b", "crt-b1", "key-b1") &&
	     no_leftover();
	watch_crt = NULL;
	return ok;
}

/* A reader that opened certs/ before a put and reads after it finds the
 * old version gone (never half of it beside half of the new), knows
 * certs/ is another directory now, and certdir_read() starts over. */
static bool test_reader_in_old_version(void)
{
	char *c = NULL, *k = NULL;
	size_t cl, kl;
	bool ok;
	int old;

	old = open(certs, O_RDONLY | O_DIRECTORY);
	if (!ASSERT_TRUE(old >= 0))
		return false;
	ok = ASSERT_TRUE(certdir_current(certs, old)) &&
	     ASSERT_EQ(put("a", "crt-a3", "key-a3"), 0) &&
	     ASSERT_EQ(certdir_read_in(old, "a.crt", "a.key", &c, &cl, &k,
				       &kl), -ENOENT) &&
	     ASSERT_TRUE(c == NULL && k == NULL) &&
	     ASSERT_FALSE(certdir_current(certs, old)) &&
	     reads("a", "crt-a3", "key-a3");
	close(old);
	return ok;
}

/* A put whose write fails (the key's fsync) leaves certs/ as it was and
 * nothing at .certs.next. */
static bool test_failed_put_keeps_old(void)
{
	int ret;

	fail_file_sync = true;
	ret = put("a", "crt-a4", "key-a4");
	fail_file_sync = false;
	return ASSERT_EQ(ret, -EIO) &&
	       reads("a", "crt-a3", "key-a3") &&
	       reads("b", "crt-b1", "key-b1") &&
	       no_leftover();
}

/* What a crash leaves, an unfinished next version with the new key and
 * no certificate, is not read, and the next put clears it. */
static bool test_crash_leftover(void)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" CERTDIR_NEXT, dir);
	if (!ASSERT_EQ(mkdir(path, 0700), 0) ||
	    !ASSERT_EQ(fsio_write_atomic(strcat(path, "/a.key"), "key-a5", 6,
					 0600), 0))
		return false;
	return reads("a", "crt-a3", "key-a3") &&
	       ASSERT_EQ(put("c", "crt-c1", "key-c1"), 0) &&
	       no_leftover() &&
	       reads("a", "crt-a3", "key-a3") &&
	       reads("c", "crt-c1", "key-c1");
}

/* What a swap cannot carry is refused before anything changes. */
static bool test_refusals(void)
{
	char sub[PATH_MAX + 16], link_dir[PATH_MAX + 16];
	bool ok;

	snprintf(sub, sizeof(sub), "%s/sub", certs);
	ok = ASSERT_EQ(put("x/y", "c", "k"), -EINVAL) &&
	     ASSERT_EQ(put("", "c", "k"), -EINVAL) &&
	     ASSERT_EQ(mkdir(sub, 0755), 0) &&
	     ASSERT_EQ(put("a", "crt-a6", "key-a6"), -EISDIR) &&
	     reads("a", "crt-a3", "key-a3") && no_leftover();
	rmdir(sub);
	if (!ok)
		return false;
	/* A symbolic link as certs/: the swap would move the link, and the
	 * removal must never empty its target. */
	snprintf(link_dir, sizeof(link_dir), "%s/real", dir);
	ok = ASSERT_EQ(rename(certs, link_dir), 0) &&
	     ASSERT_EQ(symlink("real", certs), 0) &&
	     ASSERT_EQ(put("a", "crt-a6", "key-a6"), -ENOTDIR) &&
	     reads("a", "crt-a3", "key-a3") && no_leftover();
	unlink(certs);
	return ASSERT_EQ(rename(link_dir, certs), 0) && ok;
}

#define RACE_PUTS 100

/* A writer process replaces a's pair RACE_PUTS times while this one reads
 * it without pause: every read is one pair, "crt-<n>" with "key-<n>". */
static bool test_racing_reader_sees_whole_pairs(void)
{
	char *c = NULL, *k = NULL, last[32] = "";
	int status, reads_done = 0, versions = 0, bad = 0, err = 0;
	size_t cl, kl;
	pid_t pid;

	pid = fork();
	if (pid == 0) {
		for (int i = 0; i < RACE_PUTS; i++) {
			char crt[32], key[32];

			snprintf(crt, sizeof(crt), "crt-%d", i);
			snprintf(key, sizeof(key), "key-%d", i);
			if (put("a", crt, key))
				_exit(1);
		}
		_exit(0);
	}
	if (!ASSERT_TRUE(pid > 0))
		return false;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		err = certdir_read(dir, "a", &c, &cl, &k, &kl);
		if (err)
			break;
		reads_done++;
		if (strncmp(c, "crt-", 4) || strncmp(k, "key-", 4) ||
		    strcmp(c + 4, k + 4)) {
			if (!bad++)
				fprintf(stderr, "mixed pair: %s with %s\n",
					c, k);
		}
		if (strcmp(c, last)) {
			snprintf(last, sizeof(last), "%s", c);
			versions++;
		}
		free(c);
		free(k);
		c = k = NULL;
	}
	if (err)
		waitpid(pid, &status, 0);
	/* versions > 1: the reads did overlap the puts. */
	return ASSERT_EQ(err, 0) && ASSERT_EQ(bad, 0) &&
	       ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	       ASSERT_GE(reads_done, 1) && ASSERT_GE(versions, 2) &&
	       reads("a", "crt-99", "key-99") &&
	       reads("b", "crt-b1", "key-b1") && no_leftover();
}

/* The trust-domain file holds @text: certdir_trust_domain() with room
 * for @n bytes returns @err and, on 0, @want. */
static bool td_is(const char *text, size_t n, int err, const char *want)
{
	char path[PATH_MAX + 16], td[MF_NAME_MAX] = "";

	snprintf(path, sizeof(path), "%s/" CERTDIR_TRUST_DOMAIN, dir);
	if (!ASSERT_EQ(fsio_write_atomic(path, text, strlen(text), 0644), 0) ||
	    !ASSERT_EQ(certdir_trust_domain(dir, td, n), err))
		return false;
	return err || ASSERT_STREQ(td, want);
}

/* The config dir's trust domain: its first line, blanks at its end left
 * out; a name that is not a trust domain, or that does not fit, refused;
 * no file is -ENOENT. */
static bool test_trust_domain_file(void)
{
	char td[MF_NAME_MAX], path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/" CERTDIR_TRUST_DOMAIN, dir);
	unlink(path);
	return ASSERT_EQ(certdir_trust_domain(dir, td, sizeof(td)), -ENOENT) &&
	       td_is("mesh.local\n", MF_NAME_MAX, 0, "mesh.local") &&
	       td_is("mesh.local  \r\nother\n", MF_NAME_MAX, 0, "mesh.local") &&
	       td_is("mesh.local", MF_NAME_MAX, 0, "mesh.local") &&
	       td_is("Mesh Local\n", MF_NAME_MAX, -EINVAL, NULL) &&
	       td_is("\n", MF_NAME_MAX, -EINVAL, NULL) &&
	       td_is("mesh.local\n", 10, -EINVAL, NULL) &&
	       td_is("mesh.local\n", 11, 0, "mesh.local") &&
	       ASSERT_EQ(unlink(path), 0);
}

int main(void)
{
	char tmpl[] = "/tmp/mf-test-certdir-XXXXXX", cmd[PATH_MAX + 16];

	TEST_MAIN_BEGIN();
	if (!mkdtemp(tmpl) || !realpath(tmpl, dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(certs, sizeof(certs), "%s/certs", dir);
	TEST_RUN(test_first_put_creates_certs);
	TEST_RUN(test_put_keeps_the_rest);
	TEST_RUN(test_replace_syncs_config_dir);
	TEST_RUN(test_reader_in_old_version);
	TEST_RUN(test_failed_put_keeps_old);
	TEST_RUN(test_crash_leftover);
	TEST_RUN(test_refusals);
	TEST_RUN(test_racing_reader_sees_whole_pairs);
	TEST_RUN(test_trust_domain_file);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
	TEST_MAIN_END();
}
