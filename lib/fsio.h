/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small file helpers for mfctl: whole-file reads and atomic writes with an
 * exact mode (a private key must never exist, even briefly, with a mode
 * wider than 0600).
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

/*
 * Writes @len bytes to @path through a temporary file in the same directory
 * that is created with @mode, fsynced and renamed over @path, so readers see
 * the old file or the new one, never a torn one.  Returns 0 or -errno.
 */
int fsio_write_atomic(const char *path, const void *buf, size_t len,
		      mode_t mode);

/* fsync()s the directory @dir, so a rename into it survives a crash.
 * Returns 0 or -errno. */
int fsio_fsync_dir(const char *dir);

/* mkdir -p with @mode for the directories it creates.  Returns 0 or
 * -errno. */
int fsio_mkdirs(const char *path, mode_t mode);

/* snprintf() into a path buffer.  Returns 0, or -ENAMETOOLONG when the
 * result did not fit (a truncated path must never be used). */
int fsio_pathf(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* True when @path exists (any type). */
bool fsio_exists(const char *path);

/* True when @a and @b name the same existing directory. */
bool fsio_same_dir(const char *a, const char *b);

#endif /* CTL_FSIO_H */
