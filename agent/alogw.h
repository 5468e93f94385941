/* SPDX-License-Identifier: Apache-2.0 */
/*
 * alogw: the thread that writes MeshAccessLog lines to their backends, so
 * that the io_uring loops never wait on a disk or a collector.
 *
 * A loop formats a line (alogfmt.h) and pushes it with its backend's
 * target; the push copies it into a queue of at most ALOGW_QUEUE_MAX
 * lines and never blocks: when the queue is full the line is dropped and
 * the push says so (the caller counts it).  The writer takes the lines in
 * order, up to 64 at a time, writes each run of one target's lines with
 * one writev()/sendmsg(), and keeps one sink per target:
 *
 *  - file: the path opened for appending, created 0640 when missing; a
 *    failed write closes it and the lines are tried once more on the
 *    file opened again.
 *  - tcp: "host:port" resolved with getaddrinfo() and dialled (1 s at
 *    most), then one connection kept.
 *  - otlp over gRPC or HTTP: the collector's URL; each line is a record
 *    as otlp_log_encode() writes it, and a run of one collector's records
 *    goes in one export (otlp.h).
 *
 * A file that cannot be opened or written, a dial that fails, a broken
 * connection or an export that fails leave the sink down for a back off (100 ms doubling up to
 * 5 s, one warning each time) during which its lines are dropped; the
 * lines lost are counted in alogw_failed().
 *
 * Ownership: a pushed line is the queue's, then the writer's, which frees
 * it.  alogw_stop() lets the writer finish what is queued, joins it and
 * frees everything.  Loops may push concurrently.
 */
#ifndef MF_AGENT_ALOGW_H
#define MF_AGENT_ALOGW_H

#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"

#define ALOGW_QUEUE_MAX		4096
#define ALOGW_SINKS_MAX		32
#define ALOGW_BACKOFF_MIN_MS	100
#define ALOGW_BACKOFF_MAX_MS	5000
/* A target's room: a path, host:port, or a collector's URL (an address,
 * a port, a path and OTLP's own path). */
#define ALOGW_TARGET_MAX	(3 * MF_PATH_MAX)

enum alogw_kind {
	ALOGW_FILE = 1,
	ALOGW_TCP,
	ALOGW_OTLP_GRPC,
	ALOGW_OTLP_HTTP,
};

struct alogw;

/* Starts the writer into *@out.  Returns 0 or -errno. */
int alogw_start(struct alogw **out);

/* Writes what is queued, stops the writer and frees it.  NULL: nothing. */
void alogw_stop(struct alogw *w);

/* Queues line @line (@n bytes, '\n' included) for the sink of @kind at
 * @target (NUL-terminated).  Returns 0, -ENOBUFS when the queue is full,
 * -ENAMETOOLONG for a target longer than ALOGW_TARGET_MAX - 1 bytes or
 * -ENOMEM: the line is dropped. */
int alogw_push(struct alogw *w, enum alogw_kind kind, const char *target,
	       const char *line, size_t n);

/* Lines the writer took and could not write (a backend down). */
uint64_t alogw_failed(const struct alogw *w);

#endif /* MF_AGENT_ALOGW_H */
