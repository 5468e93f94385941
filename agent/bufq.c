// SPDX-License-Identifier: Apache-2.0
/* Byte queues for ciphertext: see bufq.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bufq.h"
#include "freelist.h"
#include "heap.h"

/* An input queue's first buffer, the size of a request or a handshake
 * flight. */
#define BUFQ_IN_FIRST	4096u

/*
 * Every keep-alive exchange fills queues that drain at its end: without a
 * stock, each one costs a malloc() and a free() of a chunk (too big for
 * malloc's per-thread cache) and of an input buffer.  A loop thread keeps
 * a few of each for the next exchange; an idle connection still holds
 * none.  What the queues hold is counted as transient heap as before; a
 * block in stock is not held by anyone.
 *
 * The stock is sized for a loop turn: its completions bring tens of
 * exchanges at once under load, each holding a chunk until its send
 * completes, and a stock smaller than that overflows to free() every turn.
 * 64 chunks are 2 MiB of address space, of which only the pages once
 * written (the first of each, for heads) are resident.
 */
FREELIST_THREAD(bufq_chunks, sizeof(struct bufq_chunk), 64);
FREELIST_THREAD(bufq_in_bufs, BUFQ_IN_FIRST, 64);

static void bufq_in_buf_free(uint8_t *buf, size_t cap)
{
	if (cap == BUFQ_IN_FIRST)
		freelist_put(&bufq_in_bufs, buf);
	else
		free(buf);
}

int bufq_in_put(struct bufq_in *q, const void *p, size_t n, size_t max)
{
	size_t len = bufq_in_len(q);

	if (n > max - len)
		return -ENOBUFS;
	if (n == 0)
		return 0;
	if (q->tail + n > q->cap && q->head > 0) {
		size_t stale = q->head > len ? q->head : len;

		memmove(q->buf, q->buf + q->head, len);
		/* Queued bytes may be plaintext decrypted in place (bufq.h):
		 * the copy the move leaves behind, past the new tail, is
		 * wiped. */
		explicit_bzero(q->buf + stale, q->tail - stale);
		q->head = 0;
		q->tail = len;
	}
	if (q->tail + n > q->cap) {
		/* Small first: a handshake flight or a request is a
		 * few hundred bytes. */
		size_t cap = q->cap ? q->cap : BUFQ_IN_FIRST;
		uint8_t *nb;

		while (cap < q->tail + n)
			cap *= 2;
		if (cap > max)
			cap = max;
		/* Not realloc(): it would free the old buffer unwiped. */
		nb = cap == BUFQ_IN_FIRST ? freelist_get(&bufq_in_bufs) :
					    malloc(cap);
		if (!nb)
			return -ENOMEM;
		if (q->buf) {
			memcpy(nb, q->buf, q->tail);
			explicit_bzero(q->buf, q->tail);
			bufq_in_buf_free(q->buf, q->cap);
		}
		heap_grow(cap - q->cap);
		q->buf = nb;
		q->cap = cap;
	}
	memcpy(q->buf + q->tail, p, n);
	q->tail += n;
	return 0;
}

void bufq_in_free(struct bufq_in *q)
{
	if (q->buf) {
		/* Its bytes were wiped as they were read out (bufq.h). */
		bufq_in_buf_free(q->buf, q->cap);
		heap_shrink(q->cap);
	}
	memset(q, 0, sizeof(*q));
}

void bufq_in_drop(struct bufq_in *q, size_t n)
{
	q->head += n;
	if (q->head == q->tail)
		bufq_in_free(q);
}

size_t bufq_in_take(struct bufq_in *q, void *p, size_t n)
{
	size_t len = bufq_in_len(q);

	if (n > len)
		n = len;
	if (n == 0)
		return 0;
	memcpy(p, bufq_in_data(q), n);
	bufq_in_drop(q, n);
	return n;
}

/* A fresh empty chunk: the spare if there is one.  NULL on ENOMEM. */
static struct bufq_chunk *bufq_chunk_get(struct bufq_out *q)
{
	struct bufq_chunk *c = q->spare;

	if (c) {
		q->spare = NULL;
	} else {
		c = freelist_get(&bufq_chunks);
		if (c)
			heap_grow(sizeof(*c));
	}
	if (c) {
		c->next = NULL;
		c->head = c->tail = 0;
	}
	return c;
}

static void bufq_chunk_free(struct bufq_chunk *c)
{
	if (!c)
		return;
	/* Queued plaintext (an HTTP head, a body on its way) ends here:
	 * whatever it held goes before the memory does. */
	explicit_bzero(c->data, c->tail);
	freelist_put(&bufq_chunks, c);
	heap_shrink(sizeof(*c));
}

void bufq_out_recycle(struct bufq_out *q, struct bufq_chunk *c)
{
	if (q->spare) {
		bufq_chunk_free(c);
		return;
	}
	/* Kept for reuse, empty: a later use writes less of it, maybe. */
	explicit_bzero(c->data, c->tail);
	c->head = c->tail = 0;
	q->spare = c;
}

int bufq_out_put(struct bufq_out *q, const void *p, size_t n)
{
	struct bufq_chunk *fresh = NULL, **tailp = &fresh, *c;
	size_t room = bufq_out_room(q), need = 0;
	const uint8_t *src = p;

	/* Every chunk needed first, so that nothing is queued on ENOMEM. */
	if (n > room)
		need = (n - room + BUFQ_CHUNK - 1) / BUFQ_CHUNK;
	while (need-- > 0) {
		c = bufq_chunk_get(q);
		if (!c) {
			while (fresh) {
				c = fresh->next;
				bufq_chunk_free(fresh);
				fresh = c;
			}
			return -ENOMEM;
		}
		*tailp = c;
		tailp = &c->next;
	}

	c = q->last;
	while (n > 0) {
		size_t k;

		if (!c || c->tail == BUFQ_CHUNK) {
			struct bufq_chunk *nc = fresh;

			fresh = nc->next;
			nc->next = NULL;
			if (c)
				c->next = nc;
			else
				q->first = nc;
			q->last = c = nc;
		}
		k = BUFQ_CHUNK - c->tail;
		if (k > n)
			k = n;
		memcpy(c->data + c->tail, src, k);
		c->tail += k;
		q->len += k;
		src += k;
		n -= k;
	}
	return 0;
}

uint8_t *bufq_out_reserve(struct bufq_out *q, size_t n,
			  struct bufq_chunk **fresh)
{
	*fresh = NULL;
	if (bufq_out_room(q) >= n)
		return q->last->data + q->last->tail;
	*fresh = bufq_chunk_get(q);
	return *fresh ? (*fresh)->data : NULL;
}

void bufq_out_commit(struct bufq_out *q, struct bufq_chunk *fresh, size_t n)
{
	if (fresh) {
		if (q->last)
			q->last->next = fresh;
		else
			q->first = fresh;
		q->last = fresh;
	}
	q->last->tail += n;
	q->len += n;
}

size_t bufq_out_peek(const struct bufq_out *q, const void **p)
{
	const struct bufq_chunk *c = q->first;

	if (!c || c->head == c->tail) {
		*p = NULL;
		return 0;
	}
	*p = c->data + c->head;
	return c->tail - c->head;
}

void bufq_out_consume(struct bufq_out *q, size_t n)
{
	while (n > 0 && q->first) {
		struct bufq_chunk *c = q->first;
		size_t k = c->tail - c->head;

		if (k > n)
			k = n;
		c->head += k;
		q->len -= k;
		n -= k;
		if (c->head < c->tail)
			break;
		/* Drained: keep one chunk as the spare while more is queued
		 * (streaming), free the rest. */
		q->first = c->next;
		if (!q->first)
			q->last = NULL;
		bufq_out_recycle(q, c);
	}
	if (q->len == 0)
		bufq_out_free(q);
}

void bufq_out_free(struct bufq_out *q)
{
	struct bufq_chunk *c = q->first, *next;

	while (c) {
		next = c->next;
		bufq_chunk_free(c);
		c = next;
	}
	bufq_chunk_free(q->spare);
	memset(q, 0, sizeof(*q));
}
