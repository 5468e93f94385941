/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An arena: memory handed out in pieces from large chunks and given back
 * all at once.  For the many small objects that share one owner and one
 * lifetime (a YAML tree's nodes, the identities rendered for a compile's
 * endpoints): one malloc() and free() each was a good part of what they
 * cost, and pieces never move, so pointers into them stay valid.
 */
#ifndef MF_ARENA_H
#define MF_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *chunks;	/* owned; the head one is filled */
	size_t chunk_size;		/* 0: ARENA_CHUNK_SIZE */
};

#define ARENA_CHUNK_SIZE (256u * 1024)

/* @n bytes (aligned for any type, not zeroed) owned by @a, or NULL on
 * ENOMEM.  A piece larger than a chunk gets a chunk of its own. */
void *arena_alloc(struct arena *a, size_t n);

/* A copy of the string @s in @a, or NULL on ENOMEM. */
char *arena_strdup(struct arena *a, const char *s);

/* Gives back every piece but keeps the head chunk, for memory used again
 * and again (one item at a time read into the same place). */
void arena_reset(struct arena *a);

/* Moves every chunk of @from into @to (nothing is copied), @from left
 * empty.  @to's head chunk stays its head. */
void arena_take(struct arena *to, struct arena *from);

/* Frees every chunk; @a is empty and may be used again. */
void arena_free(struct arena *a);

#endif /* MF_ARENA_H */
