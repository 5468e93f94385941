/* SPDX-License-Identifier: Apache-2.0 */
/*
 * FNV-1a, 64 bits: the one hash of user space for keys built from a few
 * strings and numbers (a bucket's, a label set's, a trust's), where a
 * collision costs at most a shared counter.  Chain calls from
 * HASH_FNV_INIT.
 */
#ifndef MF_HASH_H
#define MF_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HASH_FNV_INIT	0xcbf29ce484222325ull

/* @n bytes at @p hashed into @h. */
static inline uint64_t hash_fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* String @s and its NUL hashed into @h: "ab" then "c" is not "a" then
 * "bc". */
static inline uint64_t hash_fnv_str(uint64_t h, const char *s)
{
	return hash_fnv(h, s, strlen(s) + 1);
}

#endif /* MF_HASH_H */
