// SPDX-License-Identifier: Apache-2.0
/*
 * The certificate directory, replaced as a whole so that a certificate
 * and its key become visible together (the why and the protocol are in
 * certdir.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certdir.h"
#include "fsio.h"
#include "spiffe.h"

#define CERTDIR_NAME	"certs"
/* The next certs/ while a put builds it, the previous one after the swap,
 * and whatever a put that crashed left. */
#define CERTDIR_NEXT	".certs.next"
#define CERTDIR_MODE	0755
/* A reader starts over only when a put completed under it: this many in
 * a row means something replaces certs/ without pause. */
#define CERTDIR_READ_TRIES 16

/* <@stem>.crt and <@stem>.key into @crt and @key (NAME_MAX + 1 bytes).
 * Returns 0, -EINVAL or -ENAMETOOLONG. */
static int certdir_names(const char *stem, char *crt, char *key)
{
	if (!stem[0] || strchr(stem, '/'))
		return -EINVAL;
	if (fsio_pathf(crt, NAME_MAX + 1, "%s.crt", stem) ||
	    fsio_pathf(key, NAME_MAX + 1, "%s.key", stem))
		return -ENAMETOOLONG;
	return 0;
}

static bool certdir_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/* An iterator over directory @fd that leaves @fd open for the caller.
 * Returns it, or NULL with errno set. */
static DIR *certdir_opendir(int fd)
{
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	DIR *d;

	if (dup < 0)
		return NULL;
	d = fdopendir(dup);
	if (!d) {
		int err = errno;

		close(dup);
		errno = err;
	}
	return d;
}

/* Removes directory @name of @dfd with the files in it (a version of
 * certs/ holds no directories), counting them in *@nfiles (NULL: not
 * counted).  Never follows a symbolic link: it would empty a directory
 * elsewhere.  Returns 0, also when there is nothing to remove, or
 * -errno. */
static int certdir_remove_n(int dfd, const char *name, size_t *nfiles)
{
	struct dirent *de;
	int fd, err = 0;
	DIR *d;

	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = certdir_opendir(fd);
	if (!d) {
		err = -errno;
		goto out;
	}
	while ((de = readdir(d))) {
		if (certdir_dot(de->d_name))
			continue;
		if (unlinkat(fd, de->d_name, 0)) {
			if (errno == ENOENT)
				continue;
			err = -errno;
			break;
		}
		if (nfiles)
			(*nfiles)++;
	}
	closedir(d);
	if (!err && unlinkat(dfd, name, AT_REMOVEDIR) && errno != ENOENT)
		err = -errno;
out:
	close(fd);
	return err;
}

static int certdir_remove(int dfd, const char *name)
{
	return certdir_remove_n(dfd, name, NULL);
}

int certdir_purge(int dfd, size_t *nfiles)
{
	int err;

	*nfiles = 0;
	err = certdir_remove_n(dfd, CERTDIR_NEXT, nfiles);
	return err ? err : certdir_remove_n(dfd, CERTDIR_NAME, nfiles);
}

/* Hard-links every entry of directory @from into @to, but the pair being
 * replaced (@crt, @key).  Returns 0, -EISDIR or -errno. */
static int certdir_carry(int from, int to, const char *crt, const char *key)
{
	struct dirent *de;
	struct stat st;
	int err = 0;
	DIR *d;

	d = certdir_opendir(from);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (certdir_dot(de->d_name) || !strcmp(de->d_name, crt) ||
		    !strcmp(de->d_name, key))
			continue;
		if (de->d_type == DT_DIR || (de->d_type == DT_UNKNOWN &&
		    !fstatat(from, de->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISDIR(st.st_mode))) {
			err = -EISDIR;
			break;
		}
		if (linkat(from, de->d_name, to, de->d_name, 0)) {
			err = -errno;
			break;
		}
	}
	closedir(d);
	return err;
}

/* Puts certs/ and .certs.next of @dfd in each other's place (@have_cur:
 * certs/ exists; else a rename).  Returns 0, -EOPNOTSUPP or -errno. */
static int certdir_swap(int dfd, bool have_cur)
{
	if (!have_cur)
		return renameat(dfd, CERTDIR_NEXT, dfd, CERTDIR_NAME) ?
		       -errno : 0;
	if (!renameat2(dfd, CERTDIR_NEXT, dfd, CERTDIR_NAME, RENAME_EXCHANGE))
		return 0;
	/* EINVAL: the names are right, so it is the file system that
	 * cannot exchange. */
	return errno == EINVAL ? -EOPNOTSUPP : -errno;
}

int certdir_put(const char *dir, const char *stem, const void *crt,
		size_t crt_len, const void *key, size_t key_len)
{
	char crt_name[NAME_MAX + 1], key_name[NAME_MAX + 1], path[PATH_MAX];
	int dfd, cur = -1, next = -1, err, rm;
	mode_t mode = CERTDIR_MODE;
	struct stat st;

	err = certdir_names(stem, crt_name, key_name);
	if (err)
		return err;
	/* The descriptor that holds the lock is <dir>'s, for the *at()s. */
	dfd = fsio_dir_lock(dir, true);
	if (dfd < 0)
		return dfd;
	err = certdir_remove(dfd, CERTDIR_NEXT);
	if (err)
		goto out;
	cur = openat(dfd, CERTDIR_NAME, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		     O_CLOEXEC);
	if (cur < 0 && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	if (cur >= 0) {
		if (fstat(cur, &st)) {
			err = -errno;
			goto out;
		}
		mode = st.st_mode & 07777;
	}
	/* 0700 until the mode is set: mkdir's is narrowed by the umask. */
	if (mkdirat(dfd, CERTDIR_NEXT, 0700)) {
		err = -errno;
		goto out;
	}
	next = openat(dfd, CERTDIR_NEXT, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		      O_CLOEXEC);
	if (next < 0 || fchmod(next, mode)) {
		err = -errno;
		goto out_next;
	}
	if (cur >= 0) {
		err = certdir_carry(cur, next, crt_name, key_name);
		if (err)
			goto out_next;
	}
	/* Each write fsyncs its file, then .certs.next, which makes the
	 * links above durable too. */
	err = fsio_pathf(path, sizeof(path), "%s/" CERTDIR_NEXT "/%s", dir,
			 key_name);
	if (!err)
		err = fsio_write_atomic(path, key, key_len, 0600);
	if (!err)
		err = fsio_pathf(path, sizeof(path), "%s/" CERTDIR_NEXT "/%s",
				 dir, crt_name);
	if (!err)
		err = fsio_write_atomic(path, crt, crt_len, 0644);
	if (err)
		goto out_next;
	err = certdir_swap(dfd, cur >= 0);
	if (err)
		goto out_next;
	/* The swap is the put; it survives a crash once <dir> is synced. */
	if (fsync(dfd))
		err = -errno;
	/* The old version holds the old key: it goes now, not at the next
	 * put, and its going is made durable too. */
	rm = certdir_remove(dfd, CERTDIR_NEXT);
	if (!rm && fsync(dfd))
		rm = -errno;
	if (!err)
		err = rm;
	goto out;
out_next:
	/* Before the swap .certs.next is the unfinished new version. */
	certdir_remove(dfd, CERTDIR_NEXT);
out:
	if (next >= 0)
		close(next);
	if (cur >= 0)
		close(cur);
	close(dfd);		/* releases the lock */
	return err;
}

/* True while @fd is the directory @path names. */
static bool certdir_current(const char *path, int fd)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Reads @crt_name and @key_name of the certs/ open as @cur.  Returns 0 or
 * -errno, and on error no buffer. */
static int certdir_read_in(int cur, const char *crt_name,
			   const char *key_name, char **crt, size_t *crt_len,
			   char **key, size_t *key_len)
{
	int err = fsio_read_at(cur, crt_name, crt, crt_len);

	if (err)
		return err;
	err = fsio_read_at(cur, key_name, key, key_len);
	if (err) {
		free(*crt);
		*crt = NULL;
	}
	return err;
}

int certdir_read(const char *dir, const char *stem, char **crt,
		 size_t *crt_len, char **key, size_t *key_len)
{
	char crt_name[NAME_MAX + 1], key_name[NAME_MAX + 1], path[PATH_MAX];
	int err, cur;

	*crt = *key = NULL;
	err = certdir_names(stem, crt_name, key_name);
	if (!err)
		err = fsio_pathf(path, sizeof(path), "%s/" CERTDIR_NAME, dir);
	if (err)
		return err;
	for (int i = 0; i < CERTDIR_READ_TRIES; i++) {
		bool replaced;

		cur = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (cur < 0)
			return -errno;
		err = certdir_read_in(cur, crt_name, key_name, crt, crt_len,
				      key, key_len);
		/* ENOENT from a version a put has removed under us: the
		 * pair is in the new one. */
		replaced = err == -ENOENT && !certdir_current(path, cur);
		close(cur);
		if (!replaced)
			return err;
	}
	return -EAGAIN;
}

int certdir_trust_domain(const char *dir, char *td, size_t n)
{
	char *buf = NULL;
	size_t len;
	int err;

	err = fsio_read_in(dir, CERTDIR_TRUST_DOMAIN, &buf, &len);
	if (err)
		return err;
	len = strcspn(buf, "\r\n");
	while (len && buf[len - 1] == ' ')
		len--;
	buf[len] = '\0';
	if (len >= n || spiffe_check_trust_domain(buf))
		err = -EINVAL;
	else
		memcpy(td, buf, len + 1);
	free(buf);
	return err;
}
