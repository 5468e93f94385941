/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appscrape: MeshMetric's `applications`, the metrics a workload's
 * application exposes itself, fetched off the loop and kept labelled for
 * the MeshMetric pages (admin.h).
 *
 * One thread, started with the first target, fetches every target's
 * http://address:port/path with libcurl every APPSCRAPE_INTERVAL_MS, all
 * at once (one curl multi handle), each within APPSCRAPE_TIMEOUT_MS, so
 * an application that does not answer delays no other; and keeps each
 * one's last good copy: every sample
 * line with the target's labels first (the workload's, and
 * kuma_io_application), so that the texts of several workloads and their
 * applications join into one valid page.  Lines are read with lib's
 * exposition parser (promtext.h); a malformed line, a sample that already
 * has one of the labels added, and the comments (HELP and TYPE, which a
 * family may carry once in a page that joins several applications') are
 * dropped.  A body over APPSCRAPE_BODY_MAX, or a labelled copy over
 * APPSCRAPE_TEXT_MAX, a failed fetch or one that is not 2xx, leaves the
 * last good copy in place.
 *
 * The loop never waits on a fetch: targets go in (appscrape_targets())
 * and copies come out (appscrape_copy()) under a mutex that the thread
 * holds for a pointer swap only.
 */
#ifndef MF_AGENT_APPSCRAPE_H
#define MF_AGENT_APPSCRAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "meshforge/abi.h"

#define APPSCRAPE_INTERVAL_MS	5000
#define APPSCRAPE_TIMEOUT_MS	1000
#define APPSCRAPE_BODY_MAX	(256 * 1024)
#define APPSCRAPE_TEXT_MAX	(1024 * 1024)
#define APPSCRAPE_TARGETS_MAX	256

struct appscrape;

struct appscrape_target {
	char workload[MF_NAME_MAX];
	char app[MF_NAME_MAX];		/* the application's name */
	char url[160];			/* http://address:port/path */
	char labels[640];		/* what every sample gets first:
					 * name="value",... (escaped) */
};

/* A scraper with no target and no thread yet.  Returns 0 or -ENOMEM. */
int appscrape_open(struct appscrape **out);

/* Stops the thread (a fetch in flight ends within its timeout) and frees
 * @s.  NULL-safe. */
void appscrape_close(struct appscrape *s);

/*
 * The targets from now on (@n at most APPSCRAPE_TARGETS_MAX; copied):
 * texts of targets no longer listed go, new ones are fetched at once.
 * Starts the thread at the first non-empty list.  Returns 0, or -errno
 * (the old list stays).
 */
int appscrape_targets(struct appscrape *s, const struct appscrape_target *t,
		      size_t n);

/* Writes the last good text of @workload's application @app through
 * @write (nothing when there is none).  Returns the bytes written. */
size_t appscrape_copy(struct appscrape *s, const char *workload,
		      const char *app, emit_write_fn *write, void *arg);

/* Fetches done since start: *ok those that gave a new copy, *failed the
 * others. */
void appscrape_counts(struct appscrape *s, uint64_t *ok, uint64_t *failed);

/*
 * The labelled copy of exposition text @body (@n bytes): each sample line
 * with @labels first, the rest dropped (see above); into *out (malloc'ed,
 * the caller's) and *out_len.  Returns the lines dropped, or -ENOMEM, or
 * -EFBIG past APPSCRAPE_TEXT_MAX.
 */
long appscrape_label(const char *body, size_t n, const char *labels,
		     char **out, size_t *out_len);

#endif /* MF_AGENT_APPSCRAPE_H */
