/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiled form of a policy: exactly the key/value records of each
 * policy map, held in memory.  compile.c produces them from objects,
 * mapio.c reads them from and writes them to the pinned maps, and
 * decompile.c turns them back into objects, so everything but mapio.c works
 * (and is tested) without a kernel.
 *
 * Every key and value is zeroed before it is filled (strings NUL-padded),
 * so two records with the same content compare equal byte for byte.
 */
#ifndef CTL_RECORDS_H
#define CTL_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshforge/abi.h"
#include "pmap.h"

/* The hash maps, in the order they are written (policy_maps.h): the
 * core maps, then one per schema-driven kind, in kinds_all order. */
enum rec_map {
#define REC_ENUM(ID, ...) REC_##ID = PMAP_##ID,
	MF_POLICY_MAPS(REC_ENUM, REC_ENUM)
#undef REC_ENUM
	REC_MAP_MAX,
	REC_KIND_FIRST = MF_CORE_MAP_COUNT,
};

/* One map's records: n entries of key_size + val_size bytes each. */
struct rec_table {
	uint8_t *data;			/* owned */
	size_t n, cap;
};

/*
 * The records of one policy.  Keys in @t are half-agnostic: their leading
 * `__u32 half` (abi.h, "Two halves") is always 0 in memory; mapio.c sets
 * it to the half it reads from or writes to.
 */
struct rec_set {
	struct mf_config config;	/* mf_config[0] */
	struct rec_table t[REC_MAP_MAX];
	/* Set by mapio_read() only (empty elsewhere): the records it found
	 * in the half not in force, keys as in the map (half field kept).
	 * Normally none; some are the leftovers of an apply that died
	 * between staging and clearing, and the next write deletes
	 * them before it stages.  Not compared, diffed or decompiled. */
	struct rec_table other[REC_MAP_MAX];
};

/* What each map holds. */
struct rec_map_info {
	const char *name;		/* MF_MAP_* */
	size_t key_size;
	size_t val_size;
	size_t max_entries;		/* MF_MAX_* */
};

const struct rec_map_info *rec_map_info(enum rec_map m);

/* How many records of @mi (key and value) @bytes hold: at least 1, at
 * most @max.  For buffers of records in bulk, whose size has to follow
 * the map's record size (a route record is some 10 KiB, a tag set
 * key half a KiB). */
static inline size_t rec_map_chunk(const struct rec_map_info *mi, size_t max,
				   size_t bytes)
{
	size_t n = bytes / (mi->key_size + mi->val_size);

	return n < 1 ? 1 : n > max ? max : n;
}

void rec_set_init(struct rec_set *rs);
void rec_set_free(struct rec_set *rs);

/* Room in each of @rs's tables for the records of @like's and a
 * sixteenth more, for a compile that makes about the records in force:
 * a table doubled on its way there is copied into fresh memory each time.
 * Room it cannot get is left to the tables' growth. */
void rec_set_reserve(struct rec_set *rs, const struct rec_set *like);

/* Gives back the room @rs's tables grew beyond their records, for a set
 * kept a long time (a failed realloc() keeps a table as it is). */
void rec_set_shrink(struct rec_set *rs);

/* Appends a record (copied).  Returns 0 or -ENOMEM.  Callers check keys
 * for uniqueness; rec_sort() orders the table. */
int rec_add(struct rec_set *rs, enum rec_map m, const void *key,
	    const void *val);

static inline size_t rec_count(const struct rec_set *rs, enum rec_map m)
{
	return rs->t[m].n;
}

/* Appends a record of the half not in force to rs->other[m] (copied).
 * Returns 0 or -ENOMEM. */
int rec_add_other(struct rec_set *rs, enum rec_map m, const void *key,
		  const void *val);


/* How many records rs->other holds, over every map. */
size_t rec_other_count(const struct rec_set *rs);

/* Key and value of record @i of map @m. */
void *rec_key(const struct rec_set *rs, enum rec_map m, size_t i);
void *rec_val(const struct rec_set *rs, enum rec_map m, size_t i);

/* Sorts map @m's records by key bytes, so equal sets of records are equal
 * tables and lookups can bsearch.  */
void rec_sort(struct rec_set *rs, enum rec_map m);

/* Index of the record with @key in sorted map @m, or -1. */
long rec_find(const struct rec_set *rs, enum rec_map m, const void *key);

/* How two record sets differ, counted in records (mf_config apart). */
struct rec_diff {
	size_t created, updated, deleted, unchanged;
};

/* Counts what turning @have into @want changes; both sorted. */
void rec_diff(const struct rec_set *have, const struct rec_set *want,
	      struct rec_diff *out);

/* True when both sets hold the same records in every map and the same
 * config apart from the epoch and the active half.  Both must be sorted. */
bool rec_set_equal(const struct rec_set *a, const struct rec_set *b);

#endif /* CTL_RECORDS_H */
