// SPDX-License-Identifier: Apache-2.0
/*
 * MeshCircuitBreaker's connection limits (breaker.h).
 */
#include <stddef.h>

#include "breaker.h"
#include "loopshare.h"
#include "hash.h"

#define BREAKER_POOL_PROBE	16

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
	limit = loopshare(limit, b->loops);
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

uint64_t breaker_pool_tag(uint64_t service, uint64_t host, const char *src)
{
	uint64_t h = hash_fnv(HASH_FNV_INIT, &service, sizeof(service));

	h = hash_fnv(h, &host, sizeof(host));
	h = hash_fnv_str(h, src ? src : "");
	return h ? h : 1;
}

/* The pool of @tag; with @make, a free or empty slot becomes it.  NULL
 * when there is none. */
static struct breaker_pool *breaker_pool(struct breaker *b, uint64_t tag,
					 bool make)
{
	struct breaker_pool *e, *spare = NULL;

	for (unsigned int i = 0; i < BREAKER_POOL_PROBE; i++) {
		e = &b->pool[(tag + i) & (BREAKER_POOL_SLOTS - 1)];
		if (e->tag == tag && e->ends)
			return e;
		if (!spare && !e->ends)
			spare = e;
	}
	if (!make || !spare)
		return NULL;
	*spare = (struct breaker_pool){ .tag = tag };
	return spare;
}

bool breaker_pool_open(struct breaker *b, uint64_t tag, uint64_t service,
		       uint32_t limit)
{
	struct breaker_pool *e = breaker_pool(b, tag, false);

	if (e) {
		e->ends++;
		return true;
	}
	if (!breaker_take(b, service, BREAKER_POOLS, limit))
		return false;
	e = breaker_pool(b, tag, true);
	if (!e) {
		breaker_put(b, service, BREAKER_POOLS);
		return true;
	}
	e->service = service;
	e->ends = 1;
	return true;
}

void breaker_pool_close(struct breaker *b, uint64_t tag)
{
	struct breaker_pool *e = breaker_pool(b, tag, false);

	if (!e || --e->ends)
		return;
	breaker_put(b, e->service, BREAKER_POOLS);
}
