// SPDX-License-Identifier: Apache-2.0
/*
 * The two halves: the only code that knows the flip protocol (abi.h,
 * "Two halves").  A record's half is the first __u32 of its key in every
 * policy map; in memory it is 0, and this file sets it on the way to the
 * store and clears it on the way back.  mfctl writes through it and both
 * mfctl and the agent read through it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mapio.h"

/* How many times mapio_read() starts over when mf_config moves under it. */
#define MAPIO_READ_TRIES 5

/* Records per store call when writing: the packed key and value buffers
 * stay at a few MiB whatever the map's record size. */
#define MAPIO_CHUNK 4096
#define MAPIO_CHUNK_BYTES (16u << 20)

static __u32 mapio_half(const void *key)
{
	__u32 h;

	memcpy(&h, key, sizeof(h));
	return h;
}

static void mapio_set_half(void *key, __u32 half)
{
	memcpy(key, &half, sizeof(half));
}

/* Record @i of table @t of map @m (key, then value; records.h). */
static const uint8_t *mapio_rec(const struct rec_table *t, enum rec_map m,
				size_t i)
{
	const struct rec_map_info *mi = rec_map_info(m);

	return t->data + i * (mi->key_size + mi->val_size);
}

/* Refuses a map whose layout differs from this build's ABI: reading it
 * with our struct sizes would misparse every record. */
static int mapio_check(struct store *s, int m, const char *name,
		       const char *type, size_t key_size, size_t val_size,
		       struct diag *d)
{
	struct store_map_info info;
	int err = s->ops->info(s, m, &info);

	if (err) {
		diag_add(d, NULL, NULL, name, "cannot query the map: %s",
			 strerror(-err));
		return err;
	}
	if (info.key_size != key_size || info.val_size != val_size ||
	    strcmp(info.type, type)) {
		diag_add(d, NULL, NULL, name,
			 "pinned map is a %s with key/value sizes %u/%u, this "
			 "mfctl expects a %s with %zu/%zu (built for another "
			 "ABI)", info.type, info.key_size, info.val_size, type,
			 key_size, val_size);
		return -EPROTO;
	}
	return 0;
}

/* ---- reading ------------------------------------------------------------ */

struct mapio_keep {
	struct rec_set *rs;
	enum rec_map m;
	__u32 active;
};

/* Files one record read from map @m: into rs->t[m], half zeroed, when it
 * is in the half in force, else into rs->other[m] as it is. */
static int mapio_keep(void *arg, const void *key, const void *val)
{
	const struct mapio_keep *k = arg;
	uint8_t buf[256];

	if (mapio_half(key) != k->active)
		return rec_add_other(k->rs, k->m, key, val);
	memcpy(buf, key, rec_map_info(k->m)->key_size);
	mapio_set_half(buf, 0);
	return rec_add(k->rs, k->m, buf, val);
}

int mapio_read_config(struct store *s, struct mf_config *cfg,
		      struct diag *d)
{
	int err = s->ops->config_read(s, cfg);

	if (err) {
		diag_add(d, NULL, NULL, MF_MAP_CONFIG, "cannot read: %s",
			 strerror(-err));
		return err;
	}
	if (cfg->active > 1) {
		diag_add(d, NULL, NULL, MF_MAP_CONFIG,
			 "active half is %u, not 0 or 1", cfg->active);
		return -EPROTO;
	}
	return 0;
}

/* Every map once, in the half @rs->config.active says. */
static int mapio_read_once(struct store *s, struct rec_set *rs,
			   struct diag *d)
{
	int err = mapio_read_config(s, &rs->config, d);

	for (int m = 0; !err && m < REC_MAP_MAX; m++) {
		struct mapio_keep k = { rs, m, rs->config.active };

		err = s->ops->dump(s, m, mapio_keep, &k);
		if (err) {
			diag_add(d, NULL, NULL, rec_map_info(m)->name,
				 "cannot read: %s", strerror(-err));
			break;
		}
		rec_sort(rs, m);
	}
	return err;
}

int mapio_read(struct store *s, struct rec_set *rs, struct diag *d)
{
	struct mf_config after;
	int err;

	rec_set_init(rs);
	err = mapio_check(s, STORE_CONFIG, MF_MAP_CONFIG, "array",
			  sizeof(__u32), sizeof(struct mf_config), d);
	for (int m = 0; !err && m < REC_MAP_MAX; m++) {
		const struct rec_map_info *mi = rec_map_info(m);

		err = mapio_check(s, m, mi->name, "hash", mi->key_size,
				  mi->val_size, d);
	}
	for (int tries = 0; !err && tries < MAPIO_READ_TRIES; tries++) {
		err = mapio_read_once(s, rs, d);
		if (!err)
			err = mapio_read_config(s, &after, d);
		if (err)
			return err;
		/* Writers hold the lock and never touch the half in force
		 * (mapio_flip()), so an unchanged mf_config means the half
		 * read was whole.  Every flip bumps the epoch. */
		if (after.epoch == rs->config.epoch &&
		    after.active == rs->config.active)
			return 0;
		rec_set_free(rs);
		rec_set_init(rs);
	}
	if (err)
		return err;
	diag_add(d, NULL, NULL, MF_MAP_CONFIG,
		 "the policy changed %d times while it was read",
		 MAPIO_READ_TRIES);
	return -EAGAIN;
}

/* ---- writing ------------------------------------------------------------ */

/*
 * Deletes from map @m the keys of records [0, @n) of table @t, each with
 * its half set to @half, or as it is with @half < 0.  Returns 0 or -errno
 * (said in @d).
 */
static int mapio_delete(struct store *s, enum rec_map m,
			const struct rec_table *t, size_t n, long half,
			struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	size_t pos = 0;
	uint8_t *keys;
	int err = 0;

	if (n == 0)
		return 0;
	keys = malloc(MAPIO_CHUNK * mi->key_size);
	if (!keys)
		err = -ENOMEM;
	while (!err && pos < n) {
		size_t count = n - pos < MAPIO_CHUNK ? n - pos : MAPIO_CHUNK;

		for (size_t j = 0; j < count; j++) {
			uint8_t *k = keys + j * mi->key_size;

			memcpy(k, mapio_rec(t, m, pos + j), mi->key_size);
			if (half >= 0)
				mapio_set_half(k, (__u32)half);
		}
		err = s->ops->remove(s, m, keys, count);
		pos += count;
	}
	if (err)
		diag_add(d, NULL, NULL, mi->name, "cannot delete: %s",
			 strerror(-err));
	free(keys);
	return err;
}

/*
 * Writes every record of @want's map @m into half @half.  *@done gets
 * how many records went in, so a failure can be undone.  Returns 0,
 * -ENOSPC when the map is full, or -errno (both said in @d).
 */
static int mapio_put(struct store *s, enum rec_map m,
		     const struct rec_set *want, __u32 half, size_t *done,
		     struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	const size_t chunk = rec_map_chunk(mi, MAPIO_CHUNK, MAPIO_CHUNK_BYTES);
	const struct rec_table *t = &want->t[m];
	struct store_map_info info;
	uint8_t *keys, *vals;
	int err = 0;

	*done = 0;
	if (t->n == 0)
		return 0;
	keys = malloc(chunk * mi->key_size);
	vals = malloc(chunk * mi->val_size);
	if (!keys || !vals)
		err = -ENOMEM;
	while (!err && *done < t->n) {
		size_t count = t->n - *done < chunk ? t->n - *done : chunk;
		size_t went = 0;

		for (size_t j = 0; j < count; j++) {
			const uint8_t *r = mapio_rec(t, m, *done + j);

			memcpy(keys + j * mi->key_size, r, mi->key_size);
			mapio_set_half(keys + j * mi->key_size, half);
			memcpy(vals + j * mi->val_size, r + mi->key_size,
			       mi->val_size);
		}
		err = s->ops->update(s, m, keys, vals, count, &went);
		*done += went;
	}
	if (err == -E2BIG) {
		/* The store's capacity, not this build's: a map pinned by
		 * another build may be smaller than both halves need. */
		if (s->ops->info(s, m, &info))
			info.max_entries = 0;
		diag_add(d, NULL, NULL, mi->name, "map is full (%u entries)%s",
			 info.max_entries,
			 info.max_entries < 2 * mi->max_entries ?
			 "; it was pinned smaller than this mfctl's two "
			 "halves need: remove the pins and apply again" : "");
		err = -ENOSPC;
	} else if (err) {
		diag_add(d, NULL, NULL, mi->name, "cannot update: %s",
			 strerror(-err));
	}
	free(vals);
	free(keys);
	return err;
}

int mapio_flip(struct store *s, const struct rec_set *have,
	       const struct rec_set *want, struct rec_diff *st,
	       struct diag *d)
{
	const __u32 old = have->config.active, stage = old ? 0 : 1;
	size_t staged[REC_MAP_MAX] = { 0 };
	struct mf_config cfg;
	int err = 0, m;

	rec_diff(have, want, st);

	/* 1. The stage half starts empty: leftovers of a write that died
	 * after staging or before clearing.  Not part of any policy in
	 * force, so deleting them needs no care for readers. */
	for (m = 0; m < REC_MAP_MAX; m++) {
		err = mapio_delete(s, m, &have->other[m], have->other[m].n,
				   -1, d);
		if (err)
			return err;
	}

	/* 2. Stage.  No reader looks at this half until the flip. */
	for (m = 0; m < REC_MAP_MAX; m++) {
		err = mapio_put(s, m, want, stage, &staged[m], d);
		if (err)
			goto unstage;
	}

	/* 3. Flip: the one write readers see. */
	cfg = want->config;
	cfg.active = stage;
	err = s->ops->config_write(s, &cfg);
	if (err) {
		diag_add(d, NULL, NULL, MF_MAP_CONFIG, "cannot update: %s",
			 strerror(-err));
		goto unstage;
	}

	/* 4. A reader that read the old mf_config may still be looking at
	 * the old half. */
	s->ops->sync(s);
	return 0;

unstage:
	/* Back to the maps as they were: nothing of the stage half was in
	 * force, so this too needs no care for readers.  A failure here is
	 * said in @d after the error that caused the undo. */
	for (m = 0; m < REC_MAP_MAX; m++)
		mapio_delete(s, m, &want->t[m], staged[m], stage, d);
	return err;
}

bool mapio_retire(struct store *s, const struct rec_set *have,
		  struct diag *d)
{
	bool failed = false;

	/* 5. Clear the old half.  The new policy is in force whatever
	 * happens here; what is left is the next write's leftovers. */
	for (int m = REC_MAP_MAX; m-- > 0;)
		if (mapio_delete(s, m, &have->t[m], have->t[m].n,
				 have->config.active, d))
			failed = true;
	if (failed)
		diag_add(d, NULL, NULL, NULL,
			 "the new policy is in force, but records of the "
			 "previous one are left in the other half; the next "
			 "apply deletes them");
	return !failed;
}
