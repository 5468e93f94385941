// SPDX-License-Identifier: Apache-2.0
/*
 * The two halves, from mfctl's side.  A record's half is the first __u32 of
 * its key in every policy map (abi.h); in memory it is 0, and this file
 * sets it on the way to the kernel and clears it on the way back.
 *
 * Reads and writes go through the batch syscalls where the kernel has them
 * for the map type, one record at a time where it does not.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/membarrier.h>

#include <bpf/bpf.h>

#include "mapio.h"

/* The kernel's ENOTSUPP (524), which batch operations return for map types
 * without them; not in the uapi errno list. */
#define ENOTSUPP_ 524

/* Records per batch syscall: large enough that the syscalls stop
 * mattering, small enough that the buffers stay under a few MiB. */
#define MAPIO_BATCH 4096

/* How many times mapio_read() starts over when mf_config moves under it. */
#define MAPIO_READ_TRIES 5

int mapio_map_fd(const struct pmap *pm, enum rec_map m)
{
	/* enum rec_map and enum pmap_map come from one list. */
	return (unsigned)m < REC_MAP_MAX ? pm->fds[m] : -1;
}

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

/* Refuses a pinned map whose layout differs from this build's ABI: reading
 * it with our struct sizes would misparse every record.  @type 0: any. */
static int mapio_check(int fd, const char *name, __u32 type, size_t key_size,
		       size_t val_size, struct diag *d)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		int err = -errno;

		diag_add(d, NULL, NULL, name, "cannot query the map: %s",
			 strerror(-err));
		return err;
	}
	if (info.key_size != key_size || info.value_size != val_size ||
	    (type && info.type != type)) {
		diag_add(d, NULL, NULL, name,
			 "pinned map has type %u and key/value sizes %u/%u, "
			 "this mfctl expects type %u and %zu/%zu (built for "
			 "another ABI)", info.type, info.key_size,
			 info.value_size, type ? type : info.type, key_size,
			 val_size);
		return -EPROTO;
	}
	return 0;
}

/* Room for the key and the value of any policy map. */
union mapio_key {
	__u32 half;
	struct mf_node_key node;
	struct mf_service_key service;
	struct mf_endpoint_key endpoint;
	struct mf_identity_key identity;
	struct mf_authz_key authz;
	struct mf_tagset_key tagset;
	struct mf_pol_key pol;
};

union mapio_val {
	struct mf_identity identity;
	struct mf_node node;
	struct mf_service service;
	struct mf_endpoint endpoint;
	struct mf_authz_rule authz;
	/* every other value: the kinds' records are below 4 KiB (records.c
	 * sizes, checked by test_ctl_kinds) */
	uint8_t any[4096];
};

/* ---- reading ------------------------------------------------------------ */

/* Files one record read from map @m: into rs->t[m], half zeroed, when it is
 * in half @active, else into rs->other[m] as it is. */
static int mapio_keep(struct rec_set *rs, enum rec_map m, __u32 active,
		      const void *key, const void *val)
{
	const struct rec_map_info *mi = rec_map_info(m);
	union mapio_key k;

	if (mapio_half(key) != active)
		return rec_add_other(rs, m, key, val);
	memcpy(&k, key, mi->key_size);
	mapio_set_half(&k, 0);
	return rec_add(rs, m, &k, val);
}

/* Walks map @fd one key at a time: the fallback for kernels without batch
 * operations on this map type.  Files every record with mapio_keep(). */
static int mapio_read_each(int fd, enum rec_map m, __u32 active,
			   struct rec_set *rs, struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	union mapio_key key, next;
	union mapio_val val;
	bool first = true;
	int err;

	for (;;) {
		if (bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
			if (errno == ENOENT)
				break;
			err = -errno;
			diag_add(d, NULL, NULL, mi->name, "cannot list: %s",
				 strerror(-err));
			return err;
		}
		first = false;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &val)) {
			/* Deleted since get_next_key: not there. */
			if (errno == ENOENT)
				continue;
			err = -errno;
			diag_add(d, NULL, NULL, mi->name, "cannot read: %s",
				 strerror(-err));
			return err;
		}
		err = mapio_keep(rs, m, active, &key, &val);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Reads map @fd with BPF_MAP_LOOKUP_BATCH, MAPIO_BATCH records per call:
 * two syscalls per record become one per batch, which is most of the cost
 * of reading 100k records.  Files every record with mapio_keep().  Returns
 * 0, -EOPNOTSUPP when the kernel has no batch lookup for this map (nothing
 * filed then), or -errno.
 */
static int mapio_read_batch(int fd, enum rec_map m, __u32 active,
			    struct rec_set *rs, struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	union mapio_key token_in, token_out;	/* opaque batch cursor */
	bool first = true, done = false;
	uint8_t *keys = NULL, *vals = NULL;
	size_t chunk = MAPIO_BATCH / 2;
	bool grow = true;
	int err = 0;

	while (!done) {
		__u32 count;

		if (grow) {
			chunk *= 2;
			free(keys);
			free(vals);
			keys = malloc(chunk * mi->key_size);
			vals = malloc(chunk * mi->val_size);
			if (!keys || !vals) {
				err = -ENOMEM;
				goto out;
			}
			grow = false;
		}
		count = (__u32)chunk;
		if (bpf_map_lookup_batch(fd, first ? NULL : &token_in,
					 &token_out, keys, vals, &count,
					 NULL)) {
			err = -errno;
			if (err == -ENOENT) {
				/* The last batch, possibly with records. */
				done = true;
				err = 0;
			} else if (err == -ENOSPC && chunk < 2 * mi->max_entries) {
				/* The next bucket alone holds more records than
				 * fit and none were copied: the same cursor
				 * again, with room for more. */
				grow = true;
				err = 0;
				continue;
			} else if (first && (err == -EINVAL ||
					     err == -EOPNOTSUPP ||
					     err == -ENOTSUPP_)) {
				err = -EOPNOTSUPP;
				goto out;
			} else {
				diag_add(d, NULL, NULL, mi->name,
					 "cannot read: %s", strerror(-err));
				goto out;
			}
		}
		first = false;
		token_in = token_out;
		for (__u32 i = 0; i < count; i++) {
			err = mapio_keep(rs, m, active, keys + i * mi->key_size,
					 vals + i * mi->val_size);
			if (err)
				goto out;
		}
	}
out:
	free(vals);
	free(keys);
	return err;
}

static int mapio_read_map(int fd, enum rec_map m, __u32 active,
			  struct rec_set *rs, struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	int err;

	err = mapio_check(fd, mi->name, BPF_MAP_TYPE_HASH, mi->key_size,
			  mi->val_size, d);
	if (err)
		return err;
	err = mapio_read_batch(fd, m, active, rs, d);
	if (err == -EOPNOTSUPP)
		err = mapio_read_each(fd, m, active, rs, d);
	if (err)
		return err;
	rec_sort(rs, m);
	return 0;
}

static int mapio_read_config(const struct pmap *pm, struct mf_config *cfg,
			     struct diag *d)
{
	__u32 zero = 0;
	int err;

	if (bpf_map_lookup_elem(pm->config_fd, &zero, cfg)) {
		err = -errno;
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

int mapio_read(const struct pmap *pm, struct rec_set *rs, struct diag *d)
{
	struct mf_config after;
	int err, m;

	rec_set_init(rs);
	err = mapio_check(pm->config_fd, MF_MAP_CONFIG, BPF_MAP_TYPE_ARRAY,
			  sizeof(__u32), sizeof(struct mf_config), d);
	if (err)
		return err;
	for (int tries = 0; tries < MAPIO_READ_TRIES; tries++) {
		err = mapio_read_config(pm, &rs->config, d);
		for (m = 0; !err && m < REC_MAP_MAX; m++)
			err = mapio_read_map(mapio_map_fd(pm, m), m,
					     rs->config.active, rs, d);
		if (!err)
			err = mapio_read_config(pm, &after, d);
		if (err)
			return err;
		/* Writers hold the lock and never touch the half in force
		 * (mapio_write()), so an unchanged mf_config means the half
		 * read was whole.  Every flip bumps the epoch. */
		if (after.epoch == rs->config.epoch &&
		    after.active == rs->config.active)
			return 0;
		rec_set_free(rs);
		rec_set_init(rs);
	}
	diag_add(d, NULL, NULL, MF_MAP_CONFIG,
		 "the policy changed %d times while it was read",
		 MAPIO_READ_TRIES);
	return -EAGAIN;
}

/* ---- deleting ----------------------------------------------------------- */

/*
 * Deletes from map @fd (map @m) the keys of records [0, @n) of table @t,
 * each with its half set to @half, or as it is with @half < 0.  A key
 * already gone is no error.  Batches while the kernel has them (*@batch,
 * cleared for good when it has not).  Returns 0 or -errno (said in @d).
 */
static int mapio_delete(int fd, enum rec_map m, const struct rec_table *t,
			size_t n, long half, bool *batch, struct diag *d)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const struct rec_map_info *mi = rec_map_info(m);
	size_t pos = 0;
	uint8_t *keys;
	int err = 0;

	if (n == 0)
		return 0;
	keys = malloc(MAPIO_BATCH * mi->key_size);
	if (!keys) {
		diag_add(d, NULL, NULL, mi->name, "cannot delete: %s",
			 strerror(ENOMEM));
		return -ENOMEM;
	}
	while (pos < n) {
		__u32 count = n - pos < MAPIO_BATCH ? (__u32)(n - pos) :
						       MAPIO_BATCH;

		for (__u32 j = 0; j < count; j++) {
			uint8_t *k = keys + j * mi->key_size;

			memcpy(k, mapio_rec(t, m, pos + j), mi->key_size);
			if (half >= 0)
				mapio_set_half(k, (__u32)half);
		}
		if (!*batch) {
			for (__u32 j = 0; j < count; j++)
				if (bpf_map_delete_elem(fd, keys +
							j * mi->key_size) &&
				    errno != ENOENT) {
					err = -errno;
					goto fail;
				}
			pos += count;
			continue;
		}
		if (!bpf_map_delete_batch(fd, keys, &count, &opts)) {
			pos += count;
			continue;
		}
		err = -errno;
		/* On failure count says how many went before it. */
		if (count > MAPIO_BATCH)
			count = 0;
		if (err == -ENOENT) {
			/* The batch stops at a key that is not there: skip
			 * it and go on after it. */
			pos += count + 1;
			err = 0;
			continue;
		}
		if (count == 0 && (err == -EINVAL || err == -EOPNOTSUPP ||
				   err == -ENOTSUPP_)) {
			*batch = false;
			err = 0;
			continue;
		}
		goto fail;
	}
	free(keys);
	return 0;
fail:
	diag_add(d, NULL, NULL, mi->name, "cannot delete: %s", strerror(-err));
	free(keys);
	return err;
}

/* ---- writing ------------------------------------------------------------ */

/*
 * Writes every record of @want's map @m into map @fd with its key in half
 * @half, BPF_MAP_UPDATE_BATCH MAPIO_BATCH at a time while the kernel has
 * it (*@batch as for mapio_delete()).  *@done gets how many records went
 * in, so a failure can be undone.  Returns 0, -ENOSPC when the map is
 * full, or -errno (both said in @d).
 */
static int mapio_put(int fd, enum rec_map m, const struct rec_set *want,
		     __u32 half, bool *batch, size_t *done, struct diag *d)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	const struct rec_map_info *mi = rec_map_info(m);
	const struct rec_table *t = &want->t[m];
	uint8_t *keys = NULL, *vals = NULL;
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int err = 0;

	*done = 0;
	if (t->n == 0)
		return 0;
	keys = malloc(MAPIO_BATCH * mi->key_size);
	vals = malloc(MAPIO_BATCH * mi->val_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto fail;
	}
	while (*done < t->n) {
		__u32 count = t->n - *done < MAPIO_BATCH ?
				      (__u32)(t->n - *done) : MAPIO_BATCH;

		for (__u32 j = 0; j < count; j++) {
			const uint8_t *r = mapio_rec(t, m, *done + j);

			memcpy(keys + j * mi->key_size, r, mi->key_size);
			mapio_set_half(keys + j * mi->key_size, half);
			memcpy(vals + j * mi->val_size, r + mi->key_size,
			       mi->val_size);
		}
		if (!*batch) {
			for (__u32 j = 0; j < count; j++, (*done)++)
				if (bpf_map_update_elem(fd,
							keys + j * mi->key_size,
							vals + j * mi->val_size,
							BPF_ANY)) {
					err = -errno;
					goto fail;
				}
			continue;
		}
		if (!bpf_map_update_batch(fd, keys, vals, &count, &opts)) {
			*done += count;
			continue;
		}
		err = -errno;
		/* On failure count says how many went in before it. */
		if (count > MAPIO_BATCH)
			count = 0;
		*done += count;
		if (count == 0 && (err == -EINVAL || err == -EOPNOTSUPP ||
				   err == -ENOTSUPP_)) {
			*batch = false;
			err = 0;
			continue;
		}
		goto fail;
	}
	free(vals);
	free(keys);
	return 0;
fail:
	if (err == -E2BIG) {
		/* The kernel's capacity, not this build's: a map pinned by
		 * another build may be smaller than both halves need. */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			info.max_entries = 0;
		diag_add(d, NULL, NULL, mi->name, "map is full (%u entries)%s",
			 info.max_entries,
			 info.max_entries < 2 * mi->max_entries ?
			 "; it was pinned smaller than this mfctl's two "
			 "halves need: remove the pins and apply again" : "");
		err = -ENOSPC;
	} else {
		diag_add(d, NULL, NULL, mi->name, "cannot update: %s",
			 strerror(-err));
	}
	free(vals);
	free(keys);
	return err;
}

/*
 * Waits until no BPF program can still be running with what it read from
 * mf_config before the flip.  The programs run under rcu_read_lock(), and
 * MEMBARRIER_CMD_GLOBAL is synchronize_rcu() (kernel/sched/membarrier.c;
 * with a single online CPU it returns at once, and then no program can be
 * in flight on another CPU).  It fails (-EINVAL) on nohz_full kernels and
 * is absent from kernels built without CONFIG_MEMBARRIER: then sleep
 * 50 ms, far longer than any TC program runs, as the best there is.
 */
static void mapio_wait_readers(void)
{
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int mapio_flip(const struct pmap *pm, const struct rec_set *have,
	       const struct rec_set *want, struct rec_diff *st,
	       struct diag *d)
{
	const __u32 old = have->config.active, stage = old ? 0 : 1;
	bool batch[REC_MAP_MAX];
	size_t staged[REC_MAP_MAX] = { 0 };
	struct mf_config cfg;
	__u32 zero = 0;
	int err = 0, m;

	rec_diff(have, want, st);
	for (m = 0; m < REC_MAP_MAX; m++)
		batch[m] = true;

	/* 1. The stage half starts empty: leftovers of a write that died
	 * after staging or before clearing.  Not part of any policy in
	 * force, so deleting them needs no care for readers. */
	for (m = 0; m < REC_MAP_MAX; m++) {
		err = mapio_delete(mapio_map_fd(pm, m), m, &have->other[m],
				   have->other[m].n, -1, &batch[m], d);
		if (err)
			return err;
	}

	/* 2. Stage.  No reader looks at this half until the flip. */
	for (m = 0; m < REC_MAP_MAX; m++) {
		err = mapio_put(mapio_map_fd(pm, m), m, want, stage, &batch[m],
				&staged[m], d);
		if (err)
			goto unstage;
	}

	/* 3. Flip: the one write readers see. */
	cfg = want->config;
	cfg.active = stage;
	if (bpf_map_update_elem(pm->config_fd, &zero, &cfg, BPF_ANY)) {
		err = -errno;
		diag_add(d, NULL, NULL, MF_MAP_CONFIG, "cannot update: %s",
			 strerror(-err));
		goto unstage;
	}

	/* 4. A program that read the old mf_config may still be looking at
	 * the old half. */
	mapio_wait_readers();
	return 0;

unstage:
	/* Back to the maps as they were: nothing of the stage half was in
	 * force, so this too needs no care for readers.  A failure here is
	 * said in @d after the error that caused the undo. */
	for (m = 0; m < REC_MAP_MAX; m++)
		mapio_delete(mapio_map_fd(pm, m), m, &want->t[m], staged[m],
			     stage, &batch[m], d);
	return err;
}

void mapio_retire(const struct pmap *pm, const struct rec_set *have,
		  struct diag *d)
{
	const __u32 old = have->config.active;
	bool batch = true, failed = false;

	/* 5. Clear the old half.  The new policy is in force whatever
	 * happens here; what is left is the next write's leftovers. */
	for (int m = REC_MAP_MAX; m-- > 0;) {
		batch = true;
		if (mapio_delete(mapio_map_fd(pm, m), m, &have->t[m],
				 have->t[m].n, old, &batch, d))
			failed = true;
	}
	if (failed)
		diag_add(d, NULL, NULL, NULL,
			 "the new policy is in force, but records of the "
			 "previous one are left in the other half; the next "
			 "apply deletes them");
}

int mapio_write(const struct pmap *pm, const struct rec_set *have,
		const struct rec_set *want, struct rec_diff *st,
		struct diag *d)
{
	int err = mapio_flip(pm, have, want, st, d);

	if (!err)
		mapio_retire(pm, have, d);
	return err;
}
