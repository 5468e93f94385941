/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small file helpers: whole-file reads, and the one way meshforge writes a
 * file: atomic, durable, and with an exact mode (a private key must never
 * exist, even briefly, with a mode wider than 0600).  Durable means that
 * once a call returned 0 the new content survives a crash: the file and
 * then its directory are fsynced (docs/files.md).
 */
#ifndef CTL_FSIO_H
#define CTL_FSIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Largest input file mfctl reads. */
#define FSIO_MAX_READ (64u << 20)

/*
 * Reads all of @path ("-": standard input) into a malloc'ed buffer that the
 * caller owns and frees; it is NUL-terminated one byte past *len.  Returns
 * 0, -EFBIG past FSIO_MAX_READ, or -errno.
 */
int fsio_read_all(const char *path, char **buf, size_t *len);

/* The same for the file @name in directory @dir (-ENAMETOOLONG when the
 * path does not fit PATH_MAX). */
int fsio_read_in(const char *dir, const char *name, char **buf, size_t *len);

/* The same for @name relative to the directory open as @dirfd (AT_FDCWD:
 * the working directory); "-" is a file name here. */
int fsio_read_at(int dirfd, const char *name, char **buf, size_t *len);

/*
 * Writes @len bytes to @path through a temporary file in the same directory
 * that is created with @mode, fsynced and renamed over @path, so readers see
 * the old file or the new one, never a torn one; then fsyncs the directory,
 * so the rename outlives a crash.  Returns 0 or -errno.  An error before
 * the rename leaves the old file as it was and no temporary file; an error
 * from the directory's fsync means the new file is in place but may not
 * survive a crash.
 */
int fsio_write_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode);

/* fsync()s the directory @dir, so a rename into it survives a crash.
 * Returns 0 or -errno. */
int fsio_fsync_dir(const char *dir);

/* mkdir -p with @mode for the directories it creates, each fsynced into
 * its parent.  Returns 0 or -errno. */
int fsio_mkdirs(const char *path, mode_t mode);

/* Takes an flock() on directory @dir, @exclusive or shared, waiting while
 * another holds it.  Returns the descriptor that holds it (close() it to
 * release the lock) or -errno.  Two descriptors of one process conflict
 * like two processes: never take it twice. */
int fsio_dir_lock(const char *dir, bool exclusive);

/* snprintf() into a path buffer.  Returns 0, or -ENAMETOOLONG when the
 * result did not fit (a truncated path must never be used). */
int fsio_pathf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when @path exists (any type). */
bool fsio_exists(const char *path);

/* True when @a and @b name the same existing directory. */
bool fsio_same_dir(const char *a, const char *b);

#endif /* CTL_FSIO_H */
