// SPDX-License-Identifier: Apache-2.0
/*
 * MeshCircuitBreaker's connection limits (breaker.h).
 */
#include <stddef.h>

#include "breaker.h"

static bool breaker_idle(const struct breaker_load *e)
{
	for (int k = 0; k < BREAKER_KINDS; k++)
		if (e->n[k])
			return false;
	return true;
}

/* The entry of @key; with @make, a free or idle one becomes it.  NULL
 * when there is none. */
static struct breaker_load *breaker_entry(struct breaker *b, uint64_t key,
					  bool make)
{
	struct breaker_load *e, *idle = NULL;

	key = key ? key : 1;
	for (unsigned int i = 0; i < BREAKER_PROBE; i++) {
		e = &b->e[(key + i) & (BREAKER_SLOTS - 1)];
		if (e->key == key)
			return e;
		if (!idle && (!e->key || breaker_idle(e)))
			idle = e;
	}
	if (!make || !idle)
		return NULL;
	*idle = (struct breaker_load){ .key = key };
	return idle;
}

bool breaker_take(struct breaker *b, uint64_t key, enum breaker_kind kind,
		  uint32_t limit)
{
	struct breaker_load *e = breaker_entry(b, key, true);

	if (!e)
		return true;
	if (limit && e->n[kind] >= limit)
		return false;
	e->n[kind]++;
	return true;
}

void breaker_put(struct breaker *b, uint64_t key, enum breaker_kind kind)
{
	struct breaker_load *e = breaker_entry(b, key, false);

	if (e && e->n[kind])
		e->n[kind]--;
}
