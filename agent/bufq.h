/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Byte queues for a connection's ciphertext, one of each per TLS session:
 *  - struct bufq_in, a contiguous FIFO for what the event loop received,
 *    so that a whole record can be read, and decrypted in place, where it
 *    lies;
 *  - struct bufq_out, a list of fixed-size chunks for what is to be sent,
 *    so that bytes never move once written: a pointer bufq_out_peek()
 *    handed out stays valid while an io_uring send of it is in flight,
 *    even if more is appended meanwhile.  A chunk is freed only when all
 *    of it has been consumed.
 * Both give their memory back when they drain, because thousands of idle
 * connections wait most of the time: an idle queue holds no buffer.  (A
 * few chunks and first input buffers go to a stock of the thread's, not to
 * malloc, for the next exchange to take: freelist.h.)  What
 * they hold is counted as transient heap (heap.h).  A zeroed queue is
 * empty; the queue owns its buffers, bufq_*_free() releases them.
 *
 * An input queue's bytes may become plaintext where they lie (a record
 * decrypted in place): whoever reads plaintext out wipes it (tls_record.c),
 * and the queue, when it moves its bytes to the front or to a bigger
 * buffer, wipes the copy it leaves behind.  Only bytes that held data are
 * wiped, not whole buffers: queues drain, and free, all the time.
 */
#ifndef MF_BUFQ_H
#define MF_BUFQ_H

#include <stddef.h>
#include <stdint.h>

#define BUFQ_CHUNK	(32u * 1024)

struct bufq_in {
	uint8_t *buf;
	size_t head, tail, cap;	/* queued bytes are buf[head..tail) */
};

struct bufq_chunk {
	struct bufq_chunk *next;
	size_t head, tail;	/* unconsumed bytes are data[head..tail) */
	uint8_t data[BUFQ_CHUNK];
};

struct bufq_out {
	struct bufq_chunk *first, *last;
	struct bufq_chunk *spare;	/* a free chunk kept while streaming */
	size_t len;			/* unconsumed bytes over all chunks */
};

static inline size_t bufq_in_len(const struct bufq_in *q)
{
	return q->tail - q->head;
}

/* The first queued byte; only while bufq_in_len() > 0. */
static inline uint8_t *bufq_in_data(const struct bufq_in *q)
{
	return q->buf + q->head;
}

/* Appends a copy of @n bytes, unless that makes more than @max queued.
 * Returns 0, -ENOBUFS or -ENOMEM (nothing queued then). */
int bufq_in_put(struct bufq_in *q, const void *p, size_t n, size_t max);
/* Drops @n (<= bufq_in_len()) bytes from the front. */
void bufq_in_drop(struct bufq_in *q, size_t n);
/* Moves up to @n bytes from the front into @p.  Returns how many. */
size_t bufq_in_take(struct bufq_in *q, void *p, size_t n);
void bufq_in_free(struct bufq_in *q);

/* Appends a copy of @n bytes, any number of chunks' worth, whole or not
 * at all (half a record would corrupt the stream).  Returns 0 or
 * -ENOMEM. */
int bufq_out_put(struct bufq_out *q, const void *p, size_t n);

/* Contiguous room at the end of the last chunk. */
static inline size_t bufq_out_room(const struct bufq_out *q)
{
	return q->last ? BUFQ_CHUNK - q->last->tail : 0;
}

/*
 * Room for @n (<= BUFQ_CHUNK) contiguous bytes at the end of the queue, to
 * write in place: in the last chunk when they fit there, else in a fresh
 * chunk returned in *fresh.  Returns where to write, or NULL on ENOMEM.
 * Then bufq_out_commit() queues what was written, or bufq_out_recycle()
 * gives *fresh back.
 */
uint8_t *bufq_out_reserve(struct bufq_out *q, size_t n,
			  struct bufq_chunk **fresh);
void bufq_out_commit(struct bufq_out *q, struct bufq_chunk *fresh, size_t n);
/* Keeps chunk @c (NULL: none), which holds nothing queued, as @q's spare,
 * or frees it when there is one. */
void bufq_out_recycle(struct bufq_out *q, struct bufq_chunk *c);

/* The first unconsumed bytes: sets *p and returns how many (0: none).
 * More may follow in later chunks. */
size_t bufq_out_peek(const struct bufq_out *q, const void **p);
/* Marks @n bytes as sent, freeing what that drains. */
void bufq_out_consume(struct bufq_out *q, size_t n);
void bufq_out_free(struct bufq_out *q);

#endif /* MF_BUFQ_H */
