/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one way an array appended to one element at a time gets room for
 * the next: doubled when full, from a first capacity its owner picks, the
 * multiplications checked before any allocation (a sanitizer's allocator
 * aborts on an overflowing reallocarray() where glibc's returns NULL).
 * Header-only: every binary and test uses it without a link dependency.
 */
#ifndef MF_GROW_H
#define MF_GROW_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * Array @arr holds @n elements of @size bytes in room for *@cap.  Returns
 * @arr while there is room for one more; else the array grown to twice
 * *@cap (@first when *@cap is 0), *@cap updated; or NULL when out of
 * memory, @arr and *@cap as they were (the caller still owns @arr).  The
 * caller stores a non-NULL result over @arr.
 */
static inline void *grow_room(void *arr, size_t n, size_t *cap, size_t size,
			      size_t first)
{
	size_t c;
	void *p;

	if (n < *cap)
		return arr;
	if (*cap > SIZE_MAX / 2)
		return NULL;
	c = *cap ? *cap * 2 : first;
	if (size && c > SIZE_MAX / size)
		return NULL;
	p = realloc(arr, c * size);
	if (p)
		*cap = c;
	return p;
}

#endif /* MF_GROW_H */
