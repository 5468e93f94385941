// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsio.h"

/* Reads @fd to its end into a malloc'ed, NUL-terminated *out.  The
 * caller closes @fd.  Returns 0, -EFBIG or -errno. */
static int fsio_read_fd(int fd, char **out, size_t *len)
{
	size_t n = 0, cap = 0;
	char *buf = NULL;
	int err = 0;

	*out = NULL;
	*len = 0;
	for (;;) {
		ssize_t r;

		if (cap - n < 2) {
			size_t ncap = cap ? cap * 2 : 8192;
			char *nb;

			if (ncap > FSIO_MAX_READ + 2) {
				if (n > FSIO_MAX_READ) {
					err = -EFBIG;
					break;
				}
				ncap = FSIO_MAX_READ + 2;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (err) {
		free(buf);
		return err;
	}
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int fsio_read_at(int dirfd, const char *name, char **out, size_t *len)
{
	int fd, err;

	*out = NULL;
	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fsio_read_fd(fd, out, len);
	close(fd);
	return err;
}

int fsio_read_all(const char *path, char **out, size_t *len)
{
	if (!strcmp(path, "-"))
		return fsio_read_fd(STDIN_FILENO, out, len);
	return fsio_read_at(AT_FDCWD, path, out, len);
}

int fsio_read_in(const char *dir, const char *name, char **buf, size_t *len)
{
	char path[PATH_MAX];
	int err = fsio_pathf(path, sizeof(path), "%s/%s", dir, name);

	return err ? err : fsio_read_all(path, buf, len);
}

/* The directory @path is in, into @buf: "." for a bare name, "/" for a
 * name in the root.  Returns 0 or -ENAMETOOLONG. */
static int fsio_parent(const char *path, char *buf, size_t n)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return fsio_pathf(buf, n, ".");
	if (slash == path)
		return fsio_pathf(buf, n, "/");
	return fsio_pathf(buf, n, "%.*s", (int)(slash - path), path);
}

int fsio_write_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *p = buf;
	size_t off = 0;
	int fd, err = 0;

	if (fsio_pathf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) ||
	    fsio_parent(path, dir, sizeof(dir)))
		return -ENAMETOOLONG;
	unlink(tmp);
	/* O_EXCL: never write through a file (or link) someone else placed
	 * at the temporary name. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	/* The umask may have narrowed @mode; the caller asked for exactly
	 * this mode (0644 for a certificate others must read). */
	if (fchmod(fd, mode)) {
		err = -errno;
		goto out_unlink;
	}
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto out_unlink;
		}
		off += (size_t)w;
	}
	if (fsync(fd)) {
		err = -errno;
		goto out_unlink;
	}
	if (close(fd)) {
		fd = -1;
		err = -errno;
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, path)) {
		err = -errno;
		goto out_unlink;
	}
	/* The new name is only on disk once its directory is: without this
	 * a crash after we report success may bring back the old file, or
	 * none. */
	return fsio_fsync_dir(dir);
out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return err;
}

int fsio_fsync_dir(const char *dir)
{
	int fd, err = 0;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd))
		err = -errno;
	close(fd);
	return err;
}

/* mkdir(@path, @mode) that is durable: the new entry is fsynced into its
 * parent.  Returns 0 (also when @path exists) or -errno. */
static int fsio_mkdir_durable(const char *path, mode_t mode)
{
	char parent[PATH_MAX];
	int err;

	err = fsio_parent(path, parent, sizeof(parent));
	if (err)
		return err;
	if (mkdir(path, mode))
		return errno == EEXIST ? 0 : -errno;
	return fsio_fsync_dir(parent);
}

int fsio_mkdirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	int err;

	if (len == 0)
		return -EINVAL;
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		err = fsio_mkdir_durable(buf, mode);
		if (err)
			return err;
		*p = '/';
	}
	return fsio_mkdir_durable(buf, mode);
}

int fsio_dir_lock(const char *dir, bool exclusive)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* Blocks while another holds it; EINTR only if a signal handler
	 * interrupts, and no user of this has one. */
	if (flock(fd, exclusive ? LOCK_EX : LOCK_SH)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int fsio_pathf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r < 0 || (size_t)r >= n ? -ENAMETOOLONG : 0;
}

bool fsio_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

bool fsio_same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	if (stat(a, &sa) || stat(b, &sb))
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}
