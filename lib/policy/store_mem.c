// SPDX-License-Identifier: Apache-2.0
/*
 * The store in memory: each map an open-addressing hash of its records
 * with the kernel map's capacity, so a full map fails as the kernel's
 * would (-E2BIG).  For tests and tools that run without root or bpffs.
 *
 * A map's two halves (a key's leading `__u32 half`, abi.h) are two
 * tables: a change stages a whole half beside the one in force, then
 * clears the old one, which gives its table back.  One table for both
 * would stay sized for two policies, its old half's slots tombstones:
 * 50 MiB per `mfctl sync --memory` at 100k Workloads, for nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store.h"

enum { SM_FREE = 0, SM_USED, SM_GONE };

/* One half's records. */
struct sm_table {
	size_t n;		/* records */
	size_t taken;		/* slots used or gone */
	size_t cap;		/* slots, a power of two (0: none yet) */
	uint8_t *state;		/* owned: each slot's SM_*, cap bytes */
	uint8_t *slots;		/* owned: cap * (ksz + vsz), a slot's bytes
				 * set only while it is SM_USED: a new
				 * table zeroes its states, not its 30 MiB
				 * of records */
	/* The slots this half had when it was last cleared: the next
	 * policy staged here is about that size, and a table grown from
	 * 64 slots would rehash a dozen times on the way (9% of a sync's
	 * change at 100k Workloads). */
	size_t last_cap;
};

struct sm_map {
	size_t ksz, vsz;
	uint32_t max;		/* capacity: records, both halves */
	struct sm_table half[2];
};

struct store_mem {
	struct store s;
	struct mf_config config;
	uint64_t stats[MF_STAT_MAX];
	struct sm_map maps[REC_MAP_MAX];
};

static struct store_mem *sm_of(struct store *s)
{
	return (struct store_mem *)s;
}

static size_t sm_slot_size(const struct sm_map *mp)
{
	return mp->ksz + mp->vsz;
}

static uint8_t *sm_slot(const struct sm_map *mp, const struct sm_table *t,
			size_t i)
{
	return t->slots + i * sm_slot_size(mp);
}

/* The table of @key's half. */
static struct sm_table *sm_table_of(struct sm_map *mp, const void *key)
{
	uint32_t half;

	memcpy(&half, key, sizeof(half));
	return &mp->half[half & 1];
}

#define SM_NONE SIZE_MAX

/* The slot of @t holding @key, or, with @insert, the one it would go
 * in; SM_NONE when neither. */
static size_t sm_find(const struct sm_map *mp, const struct sm_table *t,
		      const void *key, bool insert)
{
	size_t spare = SM_NONE;

	if (!t->cap)
		return SM_NONE;
	for (size_t i = (size_t)hash_fnv(HASH_FNV_INIT, key, mp->ksz) &
			(t->cap - 1), probe = 0;
	     probe < t->cap; i = (i + 1) & (t->cap - 1), probe++) {
		if (t->state[i] == SM_FREE && !insert)
			return SM_NONE;
		if (t->state[i] == SM_FREE)
			return spare != SM_NONE ? spare : i;
		if (t->state[i] == SM_GONE) {
			if (spare == SM_NONE)
				spare = i;
			continue;
		}
		if (!memcmp(sm_slot(mp, t, i), key, mp->ksz))
			return i;
	}
	return insert ? spare : SM_NONE;
}

/* Rehashes @t into the smallest table that holds its records and one
 * more under 3/4 full (doubling from the size it had when last cleared,
 * else from 64; or the same size when deleted slots were what filled
 * it), dropping deleted slots. */
static int sm_grow(const struct sm_map *mp, struct sm_table *t)
{
	struct sm_table old = *t;
	size_t cap = !t->cap && t->last_cap ? t->last_cap : 64;

	while ((t->n + 1) * 2 > cap)	/* half full at most, after */
		cap *= 2;
	t->state = calloc(cap, 1);
	t->slots = malloc(cap * sm_slot_size(mp));
	if (!t->state || !t->slots) {
		free(t->state);
		free(t->slots);
		*t = old;
		return -ENOMEM;
	}
	t->cap = cap;
	t->n = t->taken = 0;
	for (size_t i = 0; i < old.cap; i++) {
		const uint8_t *sl = sm_slot(mp, &old, i);
		size_t at;

		if (old.state[i] != SM_USED)
			continue;
		at = sm_find(mp, t, sl, true);
		t->state[at] = SM_USED;
		memcpy(sm_slot(mp, t, at), sl, sm_slot_size(mp));
		t->n++;
		t->taken++;
	}
	free(old.state);
	free(old.slots);
	return 0;
}

static int sm_info(struct store *s, int m, struct store_map_info *out)
{
	const struct sm_map *mp;

	if (m == STORE_CONFIG) {
		*out = (struct store_map_info){ "array", sizeof(__u32),
						sizeof(struct mf_config), 1 };
		return 0;
	}
	if (m == STORE_STATS) {
		*out = (struct store_map_info){ "percpu_array", sizeof(__u32),
						sizeof(__u64), MF_STAT_MAX };
		return 0;
	}
	mp = &sm_of(s)->maps[m];
	*out = (struct store_map_info){ "hash", (uint32_t)mp->ksz,
					(uint32_t)mp->vsz, mp->max };
	return 0;
}

static int sm_config_read(struct store *s, struct mf_config *cfg)
{
	*cfg = sm_of(s)->config;
	return 0;
}

static int sm_config_write(struct store *s, const struct mf_config *cfg)
{
	sm_of(s)->config = *cfg;
	return 0;
}

static int sm_dump(struct store *s, enum rec_map m, store_dump_fn *fn,
		   void *arg)
{
	const struct sm_map *mp = &sm_of(s)->maps[m];
	int err = 0;

	for (int h = 0; h < 2; h++) {
		const struct sm_table *t = &mp->half[h];

		for (size_t i = 0; i < t->cap && !err; i++) {
			const uint8_t *sl = sm_slot(mp, t, i);

			if (t->state[i] == SM_USED)
				err = fn(arg, sl, sl + mp->ksz);
		}
	}
	return err;
}

static int sm_update(struct store *s, enum rec_map m, const void *keys,
		     const void *vals, size_t n, size_t *done)
{
	struct sm_map *mp = &sm_of(s)->maps[m];

	for (*done = 0; *done < n; (*done)++) {
		const uint8_t *k = (const uint8_t *)keys + *done * mp->ksz;
		const uint8_t *v = (const uint8_t *)vals + *done * mp->vsz;
		struct sm_table *t = sm_table_of(mp, k);
		size_t at = sm_find(mp, t, k, false);

		if (at == SM_NONE) {
			if (mp->half[0].n + mp->half[1].n >= mp->max)
				return -E2BIG;
			if ((t->taken + 1) * 4 > t->cap * 3 && sm_grow(mp, t))
				return -ENOMEM;
			at = sm_find(mp, t, k, true);
			if (t->state[at] == SM_FREE)
				t->taken++;
			t->state[at] = SM_USED;
			memcpy(sm_slot(mp, t, at), k, mp->ksz);
			t->n++;
		}
		memcpy(sm_slot(mp, t, at) + mp->ksz, v, mp->vsz);
	}
	return 0;
}

static int sm_remove(struct store *s, enum rec_map m, const void *keys,
		     size_t n)
{
	struct sm_map *mp = &sm_of(s)->maps[m];

	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = (const uint8_t *)keys + i * mp->ksz;
		struct sm_table *t = sm_table_of(mp, k);
		size_t at = sm_find(mp, t, k, false);

		if (at == SM_NONE)
			continue;
		t->state[at] = SM_GONE;
		/* A half cleared after a flip: its table goes. */
		if (!--t->n) {
			free(t->state);
			free(t->slots);
			*t = (struct sm_table){ .last_cap = t->cap };
		}
	}
	return 0;
}

static int sm_stats(struct store *s, uint64_t *sums, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sums[i] = i < MF_STAT_MAX ? sm_of(s)->stats[i] : 0;
	return 0;
}

/* Readers of a memory store are in this process and read under no
 * lock of ours: nothing to wait for. */
static void sm_sync(struct store *s)
{
	(void)s;
}

static void sm_close(struct store *s)
{
	struct store_mem *sm = sm_of(s);

	for (int m = 0; m < REC_MAP_MAX; m++)
		for (int h = 0; h < 2; h++) {
			free(sm->maps[m].half[h].state);
			free(sm->maps[m].half[h].slots);
		}
	free(sm);
}

static const struct store_ops sm_ops = {
	.info = sm_info,
	.config_read = sm_config_read,
	.config_write = sm_config_write,
	.dump = sm_dump,
	.update = sm_update,
	.remove = sm_remove,
	.stats = sm_stats,
	.sync = sm_sync,
	.close = sm_close,
};

int store_mem_new(struct store **out)
{
	struct store_mem *sm = calloc(1, sizeof(*sm));

	if (!sm)
		return -ENOMEM;
	sm->s.ops = &sm_ops;
	sm->s.where = "memory";
	for (int m = 0; m < REC_MAP_MAX; m++) {
		const struct rec_map_info *mi = rec_map_info(m);

		sm->maps[m].ksz = mi->key_size;
		sm->maps[m].vsz = mi->val_size;
		sm->maps[m].max = 2 * (uint32_t)mi->max_entries;
	}
	*out = &sm->s;
	return 0;
}

