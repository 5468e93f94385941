// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "records.h"

#define REC_CORE_INFO(ID, map, key, val, max, flags)                          \
	[REC_##ID] = { #map, sizeof(key), sizeof(val), max },
#define REC_KIND_INFO(ID, map, val, max, desc)                                \
	[REC_##ID] = { #map, sizeof(struct mf_pol_key), sizeof(val), max },

static const struct rec_map_info rec_maps[REC_MAP_MAX] = {
	MF_POLICY_MAPS(REC_CORE_INFO, REC_KIND_INFO)
};

const struct rec_map_info *rec_map_info(enum rec_map m)
{
	return &rec_maps[m];
}

static size_t rec_size(enum rec_map m)
{
	return rec_maps[m].key_size + rec_maps[m].val_size;
}

void rec_set_init(struct rec_set *rs)
{
	memset(rs, 0, sizeof(*rs));
}

void rec_set_free(struct rec_set *rs)
{
	for (int m = 0; m < REC_MAP_MAX; m++) {
		free(rs->t[m].data);
		free(rs->other[m].data);
	}
	memset(rs, 0, sizeof(*rs));
}

/* Appends a copy of (@key, @val), records of map @m, to @t. */
static int rec_table_add(struct rec_table *t, enum rec_map m, const void *key,
			 const void *val)
{
	size_t sz = rec_size(m);
	uint8_t *p;

	p = grow_room(t->data, t->n, &t->cap, sz, 64);
	if (!p)
		return -ENOMEM;
	t->data = p;
	p = t->data + t->n * sz;
	memcpy(p, key, rec_maps[m].key_size);
	memcpy(p + rec_maps[m].key_size, val, rec_maps[m].val_size);
	t->n++;
	return 0;
}

void rec_set_reserve(struct rec_set *rs, const struct rec_set *like)
{
	for (int m = 0; m < REC_MAP_MAX; m++) {
		struct rec_table *t = &rs->t[m];
		size_t want = like->t[m].n + like->t[m].n / 16;
		uint8_t *p;

		if (!like->t[m].n || t->cap >= want)
			continue;
		p = realloc(t->data, want * rec_size(m));
		if (p) {
			t->data = p;
			t->cap = want;
		}
	}
}

void rec_set_shrink(struct rec_set *rs)
{
	for (int m = 0; m < REC_MAP_MAX; m++) {
		struct rec_table *t = &rs->t[m];
		uint8_t *p;

		if (!t->n || t->n == t->cap)
			continue;
		p = realloc(t->data, t->n * rec_size(m));
		if (p) {
			t->data = p;
			t->cap = t->n;
		}
	}
}

int rec_add(struct rec_set *rs, enum rec_map m, const void *key,
	    const void *val)
{
	return rec_table_add(&rs->t[m], m, key, val);
}

int rec_add_other(struct rec_set *rs, enum rec_map m, const void *key,
		  const void *val)
{
	return rec_table_add(&rs->other[m], m, key, val);
}

size_t rec_other_count(const struct rec_set *rs)
{
	size_t n = 0;

	for (int m = 0; m < REC_MAP_MAX; m++)
		n += rs->other[m].n;
	return n;
}

void *rec_key(const struct rec_set *rs, enum rec_map m, size_t i)
{
	return rs->t[m].data + i * rec_size(m);
}

void *rec_val(const struct rec_set *rs, enum rec_map m, size_t i)
{
	return (uint8_t *)rec_key(rs, m, i) + rec_maps[m].key_size;
}

/* Records start with their key, so comparing records compares keys. */
static int rec_cmp(const void *a, const void *b, void *key_size)
{
	return memcmp(a, b, *(const size_t *)key_size);
}

void rec_sort(struct rec_set *rs, enum rec_map m)
{
	size_t key_size = rec_maps[m].key_size;

	if (rs->t[m].n < 2)
		return;
	qsort_r(rs->t[m].data, rs->t[m].n, rec_size(m), rec_cmp, &key_size);
}

long rec_find(const struct rec_set *rs, enum rec_map m, const void *key)
{
	size_t lo = 0, hi = rs->t[m].n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = memcmp(rec_key(rs, m, mid), key, rec_maps[m].key_size);

		if (r == 0)
			return (long)mid;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

bool rec_set_equal(const struct rec_set *a, const struct rec_set *b)
{
	struct mf_config ca = a->config, cb = b->config;

	/* Neither the epoch nor the half it sits in is content. */
	ca.epoch = 0;
	cb.epoch = 0;
	ca.active = 0;
	cb.active = 0;
	if (memcmp(&ca, &cb, sizeof(ca)))
		return false;
	for (int m = 0; m < REC_MAP_MAX; m++) {
		if (a->t[m].n != b->t[m].n)
			return false;
		if (a->t[m].n &&
		    memcmp(a->t[m].data, b->t[m].data, a->t[m].n * rec_size(m)))
			return false;
	}
	return true;
}

void rec_diff(const struct rec_set *have, const struct rec_set *want,
	      struct rec_diff *out)
{
	memset(out, 0, sizeof(*out));
	/* Both sorted by key: one pass over the two tables side by side. */
	for (int m = 0; m < REC_MAP_MAX; m++) {
		size_t nh = rec_count(have, m), nw = rec_count(want, m);
		size_t h = 0, w = 0;

		while (h < nh || w < nw) {
			int r = h == nh ? 1 : w == nw ? -1 :
				memcmp(rec_key(have, m, h), rec_key(want, m, w),
				       rec_maps[m].key_size);

			if (r < 0) {
				out->deleted++;
				h++;
			} else if (r > 0) {
				out->created++;
				w++;
			} else {
				if (memcmp(rec_val(have, m, h),
					   rec_val(want, m, w),
					   rec_maps[m].val_size))
					out->updated++;
				else
					out->unchanged++;
				h++;
				w++;
			}
		}
	}
}
