/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics for mfctl: every problem found in the input is collected (not
 * just the first), each as one line "file:line:col: field.path: message", so
 * a user fixes a whole file in one go and a test can assert exact messages.
 */
#ifndef CTL_DIAG_H
#define CTL_DIAG_H

#include <stddef.h>
#include <stdio.h>

/*
 * Where something came from.  @file points at a string owned by whoever
 * loaded the input (a model_set) or at a static string; NULL means "the
 * state already applied to the maps", which has no file position.  @line
 * and @col are 1-based.
 */
struct diag_loc {
	const char *file;
	unsigned line;
	unsigned col;
};

/* Where one collected message points, for diag_sort(). */
struct diag_pos {
	struct diag_loc loc;	/* file NULL: no position */
	size_t seq;		/* order of arrival */
};

struct diag {
	char **msgs;		/* owned, each malloc'ed */
	struct diag_pos *pos;	/* owned, one per message */
	size_t n;
	size_t cap;
	size_t max;		/* stop collecting after this many (0: 100) */
	size_t dropped;		/* how many were not collected */
};

void diag_init(struct diag *d);
void diag_free(struct diag *d);

/*
 * Adds one message.  With a file position: "file:line:col: path: msg".
 * Without (applied state, @loc NULL or loc->file NULL): "@what: path: msg",
 * or "path: msg" when @what is NULL too.  @path may be NULL or "" to leave
 * it out.  Out of memory only loses the message (n stays correct via
 * dropped), because a diagnostic must never turn into a crash.
 */
void diag_add(struct diag *d, const struct diag_loc *loc, const char *what,
	      const char *path, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Number of problems seen, collected or not. */
size_t diag_count(const struct diag *d);

/*
 * Orders the messages by position: files in the order they first appear,
 * then line and column; messages without a position go last; ties keep
 * their order of arrival.  Checks run field by field, so without this a
 * file's problems would be listed in check order, not reading order.
 */
void diag_sort(struct diag *d);

/* Writes every message, one per line, to @f. */
void diag_print(const struct diag *d, FILE *f);

#endif /* CTL_DIAG_H */
