// SPDX-License-Identifier: Apache-2.0
/*
 * The store in memory: each map a hash of its records with the kernel
 * map's capacity, so a full map fails as the kernel's would (-E2BIG).
 * For tests and tools that run without root or bpffs.
 *
 * A map's two halves (a key's leading `__u32 half`, abi.h) are two
 * tables: a change stages a whole half beside the one in force, then
 * clears the old one, which gives its table back.  One table for both
 * would stay sized for two policies, its old half's slots tombstones:
 * 50 MiB per `mfctl sync --memory` at 100k Workloads, for nothing.
 *
 * A table's records lie end to end in one array, and its hash holds only
 * their indexes (4 bytes a slot, at most 3/4 full).  Records in the hash's
 * own slots would leave a half to a quarter of a record's bytes unused
 * per slot: 42 MiB for a half of the 126k records of a 10k-Service
 * mesh, where the records are 21 MiB, written anew at every change.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "store.h"

/* An index slot: free, a deleted record's, or a record's index + 1. */
#define SM_FREE	0u
#define SM_GONE	UINT32_MAX

/* One half's records. */
struct sm_table {
	size_t n;		/* records, recs[0..n) */
	size_t room;		/* records recs holds */
	uint8_t *recs;		/* owned: room * (ksz + vsz), key then value */
	uint32_t *idx;		/* owned: cap slots, SM_FREE, SM_GONE or a
				 * record's index + 1 */
	size_t cap;		/* index slots, a power of two (0: none yet) */
	size_t taken;		/* index slots not SM_FREE */
	/* The records this half had when it was last cleared: the next
	 * policy staged here is about that size, and a table grown from
	 * 64 would be copied a dozen times on the way (9% of a sync's
	 * change at 100k Workloads). */
	size_t last_n;
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

static size_t sm_rec_size(const struct sm_map *mp)
{
	return mp->ksz + mp->vsz;
}

static uint8_t *sm_rec(const struct sm_map *mp, const struct sm_table *t,
		       size_t r)
{
	return t->recs + r * sm_rec_size(mp);
}

/* The table of @key's half. */
static struct sm_table *sm_table_of(struct sm_map *mp, const void *key)
{
	uint32_t half;

	memcpy(&half, key, sizeof(half));
	return &mp->half[half & 1];
}

#define SM_NONE SIZE_MAX

static size_t sm_home(const struct sm_map *mp, const struct sm_table *t,
		      const void *key)
{
	return (size_t)hash_fnv(HASH_FNV_INIT, key, mp->ksz) & (t->cap - 1);
}

/* The index slot of @t holding @key, or, with @insert, the one it would
 * go in; SM_NONE when neither.  The index is never full (sm_room()). */
static size_t sm_find(const struct sm_map *mp, const struct sm_table *t,
		      const void *key, bool insert)
{
	size_t spare = SM_NONE;

	if (!t->cap)
		return SM_NONE;
	for (size_t i = sm_home(mp, t, key);; i = (i + 1) & (t->cap - 1)) {
		uint32_t x = t->idx[i];

		if (x == SM_FREE)
			return !insert ? SM_NONE : spare != SM_NONE ? spare : i;
		if (x == SM_GONE) {
			if (spare == SM_NONE)
				spare = i;
			continue;
		}
		if (!memcmp(sm_rec(mp, t, x - 1), key, mp->ksz))
			return i;
	}
}

/* The first index slot holding @x on record @r's probe path in @t:
 * record @r's own slot for @x = @r + 1, where it goes for SM_FREE. */
static size_t sm_probe(const struct sm_map *mp, const struct sm_table *t,
		       size_t r, uint32_t x)
{
	size_t i = sm_home(mp, t, sm_rec(mp, t, r));

	while (t->idx[i] != x)
		i = (i + 1) & (t->cap - 1);
	return i;
}

/*
 * Room in @t for one more record: the array grown (to the records the
 * half had when last cleared and a sixteenth, else doubled from 64), and
 * the index rebuilt from the records without its deleted slots once one
 * more would fill it past 3/4.  A rebuilt index is at most half full of
 * the records, or, when the half is new, of those it had when last
 * cleared.  Returns 0 or -ENOMEM, @t's records as they were.
 */
static int sm_room(const struct sm_map *mp, struct sm_table *t)
{
	if (t->n == t->room) {
		size_t room = t->room ? 2 * t->room :
			      t->last_n > 64 ? t->last_n + t->last_n / 16 : 64;
		uint8_t *recs = realloc(t->recs, room * sm_rec_size(mp));

		if (!recs)
			return -ENOMEM;
		t->recs = recs;
		t->room = room;
	}
	if ((t->taken + 1) * 4 > t->cap * 3) {
		struct sm_table old = *t;
		size_t cap = 64, want = !t->cap && t->last_n > t->n ?
					  t->last_n : t->n;

		while ((want + 1) * 2 > cap)
			cap *= 2;
		t->idx = calloc(cap, sizeof(*t->idx));
		if (!t->idx) {
			*t = old;
			return -ENOMEM;
		}
		t->cap = cap;
		t->taken = t->n;
		for (size_t r = 0; r < t->n; r++)
			t->idx[sm_probe(mp, t, r, SM_FREE)] = (uint32_t)r + 1;
		free(old.idx);
	}
	return 0;
}

/* Frees @t's memory, keeping what sizes the next policy staged in it. */
static void sm_table_clear(struct sm_table *t, size_t last_n)
{
	free(t->recs);
	free(t->idx);
	*t = (struct sm_table){ .last_n = last_n };
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

		for (size_t r = 0; r < t->n && !err; r++) {
			const uint8_t *rec = sm_rec(mp, t, r);

			err = fn(arg, rec, rec + mp->ksz);
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
		size_t at = sm_find(mp, t, k, false), r;

		if (at != SM_NONE) {
			r = t->idx[at] - 1;
		} else {
			if (mp->half[0].n + mp->half[1].n >= mp->max)
				return -E2BIG;
			if (sm_room(mp, t))
				return -ENOMEM;
			at = sm_find(mp, t, k, true);
			if (t->idx[at] == SM_FREE)
				t->taken++;
			r = t->n++;
			t->idx[at] = (uint32_t)r + 1;
			memcpy(sm_rec(mp, t, r), k, mp->ksz);
		}
		memcpy(sm_rec(mp, t, r) + mp->ksz, v, mp->vsz);
	}
	return 0;
}

/* Removes the record at index slot @at of @t: the last record moves
 * into its place, the records staying end to end. */
static void sm_table_remove(const struct sm_map *mp, struct sm_table *t,
			    size_t at)
{
	size_t r = t->idx[at] - 1, last = t->n - 1;

	t->idx[at] = SM_GONE;
	if (r != last) {
		t->idx[sm_probe(mp, t, last, (uint32_t)last + 1)] =
			(uint32_t)r + 1;
		memcpy(sm_rec(mp, t, r), sm_rec(mp, t, last), sm_rec_size(mp));
	}
	t->n--;
}

static int sm_remove(struct store *s, enum rec_map m, const void *keys,
		     size_t n)
{
	struct sm_map *mp = &sm_of(s)->maps[m];

	for (size_t i = 0; i < n; i++) {
		const uint8_t *k = (const uint8_t *)keys + i * mp->ksz;
		struct sm_table *t = sm_table_of(mp, k);
		size_t at = sm_find(mp, t, k, false), had = t->n;

		if (at == SM_NONE)
			continue;
		sm_table_remove(mp, t, at);
		/* A half cleared after a flip: its table goes. */
		if (!t->n)
			sm_table_clear(t, had);
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
		for (int h = 0; h < 2; h++)
			sm_table_clear(&sm->maps[m].half[h], 0);
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

