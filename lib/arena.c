// SPDX-License-Identifier: Apache-2.0
/*
 * The arena (arena.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->chunks;
	size_t al = _Alignof(max_align_t);

	if (n > SIZE_MAX - al)
		return NULL;
	n = (n + al - 1) / al * al;
	if (!c || c->cap - c->used < n) {
		size_t size = a->chunk_size ? a->chunk_size : ARENA_CHUNK_SIZE;
		size_t cap = n > size ? n : size;

		if (cap > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = a->chunks;
		a->chunks = c;
	}
	c->used += n;
	return (char *)c->data + c->used - n;
}

char *arena_strdup(struct arena *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = arena_alloc(a, n);

	if (p)
		memcpy(p, s, n);
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *keep = a->chunks;

	if (!keep)
		return;
	while (keep->next) {
		struct arena_chunk *next = keep->next->next;

		free(keep->next);
		keep->next = next;
	}
	keep->used = 0;
}

void arena_take(struct arena *to, struct arena *from)
{
	struct arena_chunk **tail = &from->chunks;

	while (*tail)
		tail = &(*tail)->next;
	if (to->chunks) {
		*tail = to->chunks->next;
		to->chunks->next = from->chunks;
	} else {
		to->chunks = from->chunks;
	}
	from->chunks = NULL;
}

void arena_free(struct arena *a)
{
	while (a->chunks) {
		struct arena_chunk *next = a->chunks->next;

		free(a->chunks);
		a->chunks = next;
	}
}
