// SPDX-License-Identifier: Apache-2.0
/*
 * The retry budget (rbudget.h).
 */
#include <string.h>

#include "rbudget.h"

void rbudget_init(struct rbudget *b, uint32_t ratio_milli,
		  uint32_t min_per_s)
{
	memset(b, 0, sizeof(*b));
	b->ratio_milli = ratio_milli;
	b->min_per_s = min_per_s;
}

/* The entry of @key, its buckets moved on to second @sec (those older
 * than the window emptied); made when there is none. */
static struct rbudget_ent *rbudget_ent(struct rbudget *b, uint64_t key,
				       uint64_t sec)
{
	struct rbudget_ent *e, *lru = NULL;

	key = key ? key : 1;
	for (unsigned int i = 0; i < RBUDGET_PROBE; i++) {
		e = &b->e[(key + i) & (RBUDGET_SLOTS - 1)];
		if (e->key == key)
			goto found;
		if (!e->key) {
			lru = e;
			break;
		}
		if (!lru || e->sec < lru->sec)
			lru = e;
	}
	e = lru;
	memset(e, 0, sizeof(*e));
	e->key = key;
	e->sec = sec;
found:
	if (sec > e->sec) {
		uint64_t n = sec - e->sec;

		for (uint64_t s = 1; s <= n && s <= RBUDGET_WINDOW_S; s++) {
			e->req[(e->sec + s) % RBUDGET_WINDOW_S] = 0;
			e->retry[(e->sec + s) % RBUDGET_WINDOW_S] = 0;
		}
		e->sec = sec;
	}
	return e;
}

void rbudget_request(struct rbudget *b, uint64_t key, uint64_t now)
{
	uint64_t sec = now / 1000000000ull;

	rbudget_ent(b, key, sec)->req[sec % RBUDGET_WINDOW_S]++;
}

bool rbudget_retry(struct rbudget *b, uint64_t key, uint64_t now)
{
	uint64_t sec = now / 1000000000ull, req = 0, retry = 0;
	struct rbudget_ent *e = rbudget_ent(b, key, sec);

	for (unsigned int i = 0; i < RBUDGET_WINDOW_S; i++) {
		req += e->req[i];
		retry += e->retry[i];
	}
	if (retry * 1000 >= req * b->ratio_milli +
			    (uint64_t)b->min_per_s * RBUDGET_WINDOW_S * 1000)
		return false;
	e->retry[sec % RBUDGET_WINDOW_S]++;
	return true;
}
