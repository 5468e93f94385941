// SPDX-License-Identifier: Apache-2.0
/*
 * The store in memory: each map an open-addressing hash of its records
 * with the kernel map's capacity, so a full map fails as the kernel's
 * would (-E2BIG).  For tests and tools that run without root or bpffs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

enum { SM_FREE = 0, SM_USED, SM_GONE };

struct sm_map {
	size_t ksz, vsz;
	uint32_t max;		/* capacity: records, both halves */
	size_t n;		/* records */
	size_t taken;		/* slots used or gone */
	size_t cap;		/* slots, a power of two (0: none yet) */
	uint8_t *slots;		/* owned: cap * (1 + ksz + vsz) */
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

static uint8_t *sm_slot(const struct sm_map *mp, size_t i)
{
	return mp->slots + i * (1 + mp->ksz + mp->vsz);
}

/* FNV-1a over the key bytes. */
static size_t sm_hash(const void *key, size_t n)
{
	const uint8_t *p = key;
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return (size_t)h;
}

/* The slot holding @key, or, with @insert, the one it would go in; NULL
 * when neither. */
static uint8_t *sm_find(const struct sm_map *mp, const void *key, bool insert)
{
	uint8_t *spare = NULL;

	if (!mp->cap)
		return NULL;
	for (size_t i = sm_hash(key, mp->ksz) & (mp->cap - 1), probe = 0;
	     probe < mp->cap; i = (i + 1) & (mp->cap - 1), probe++) {
		uint8_t *sl = sm_slot(mp, i);

		if (sl[0] == SM_FREE)
			return insert ? (spare ? spare : sl) : NULL;
		if (sl[0] == SM_GONE) {
			if (!spare)
				spare = sl;
			continue;
		}
		if (!memcmp(sl + 1, key, mp->ksz))
			return sl;
	}
	return insert ? spare : NULL;
}

/* Doubles the table (or makes the first), dropping deleted slots. */
static int sm_grow(struct sm_map *mp)
{
	struct sm_map old = *mp;
	size_t cap = mp->cap ? mp->cap * 2 : 64;

	mp->slots = calloc(cap, 1 + mp->ksz + mp->vsz);
	if (!mp->slots) {
		mp->slots = old.slots;
		return -ENOMEM;
	}
	mp->cap = cap;
	mp->n = mp->taken = 0;
	for (size_t i = 0; i < old.cap; i++) {
		const uint8_t *sl = sm_slot(&old, i);
		uint8_t *to;

		if (sl[0] != SM_USED)
			continue;
		to = sm_find(mp, sl + 1, true);
		memcpy(to, sl, 1 + mp->ksz + mp->vsz);
		mp->n++;
		mp->taken++;
	}
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

	for (size_t i = 0; i < mp->cap && !err; i++) {
		const uint8_t *sl = sm_slot(mp, i);

		if (sl[0] == SM_USED)
			err = fn(arg, sl + 1, sl + 1 + mp->ksz);
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
		uint8_t *sl = sm_find(mp, k, false);

		if (!sl) {
			if (mp->n >= mp->max)
				return -E2BIG;
			if ((mp->taken + 1) * 4 > mp->cap * 3 && sm_grow(mp))
				return -ENOMEM;
			sl = sm_find(mp, k, true);
			if (sl[0] == SM_FREE)
				mp->taken++;
			sl[0] = SM_USED;
			memcpy(sl + 1, k, mp->ksz);
			mp->n++;
		}
		memcpy(sl + 1 + mp->ksz, v, mp->vsz);
	}
	return 0;
}

static int sm_remove(struct store *s, enum rec_map m, const void *keys,
		     size_t n)
{
	struct sm_map *mp = &sm_of(s)->maps[m];

	for (size_t i = 0; i < n; i++) {
		uint8_t *sl = sm_find(mp, (const uint8_t *)keys + i * mp->ksz,
				      false);

		if (sl) {
			sl[0] = SM_GONE;
			mp->n--;
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
		free(sm->maps[m].slots);
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

