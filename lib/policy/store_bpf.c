// SPDX-License-Identifier: Apache-2.0
/*
 * The store over the pinned BPF maps.  Reads, writes and deletes go
 * through the batch syscalls where the kernel has them for the map type,
 * one record at a time where it does not (remembered per map).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/membarrier.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "pmap.h"
#include "store.h"

/* The kernel's ENOTSUPP (524), which batch operations return for map types
 * without them; not in the uapi errno list. */
#define SB_ENOTSUPP 524

/* Records per batch syscall: large enough that the syscalls stop
 * mattering, small enough that the buffers stay at a few MiB whatever a
 * map's record size (rec_map_chunk()). */
#define SB_BATCH 4096
#define SB_BATCH_BYTES (16u << 20)

/* Room for any key (the largest is struct mf_pol_key).  Values are as
 * large as a map's records, and are allocated for it. */
#define SB_KEY_MAX 128
#define SB_KEY_FITS(ID, map, key, ...)                                        \
	_Static_assert(sizeof(key) <= SB_KEY_MAX, #map " keys fit");
#define SB_POL_KEY_FITS(ID, map, ...)                                         \
	SB_KEY_FITS(ID, map, struct mf_pol_key)
MF_POLICY_MAPS(SB_KEY_FITS, SB_POL_KEY_FITS)

struct store_bpf {
	struct store s;
	struct pmap own;		/* the maps, when this store opened them */
	const struct pmap *pm;
	bool no_batch[REC_MAP_MAX];	/* the kernel has no batch ops here */
};

static struct store_bpf *sb_of(struct store *s)
{
	return (struct store_bpf *)s;
}

static int sb_fd(struct store *s, int m)
{
	const struct pmap *pm = sb_of(s)->pm;

	if (m == STORE_CONFIG)
		return pm->config_fd;
	if (m == STORE_STATS)
		return pm->stats_fd;
	return pm->fds[m];
}

/* Batch calls that fail this way before doing anything: no batch ops for
 * this map type. */
static bool sb_unsupported(int err)
{
	return err == -EINVAL || err == -EOPNOTSUPP || err == -SB_ENOTSUPP;
}

static int sb_info(struct store *s, int m, struct store_map_info *out)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(sb_fd(s, m), &info, &len))
		return -errno;
	out->type = info.type == BPF_MAP_TYPE_HASH ? "hash" :
		    info.type == BPF_MAP_TYPE_ARRAY ? "array" :
		    info.type == BPF_MAP_TYPE_PERCPU_ARRAY ? "percpu_array" :
							      "other";
	out->key_size = info.key_size;
	out->val_size = info.value_size;
	out->max_entries = info.max_entries;
	return 0;
}

static int sb_config_read(struct store *s, struct mf_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(sb_fd(s, STORE_CONFIG), &zero, cfg) ?
		       -errno : 0;
}

static int sb_config_write(struct store *s, const struct mf_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_update_elem(sb_fd(s, STORE_CONFIG), &zero, cfg,
				   BPF_ANY) ? -errno : 0;
}

/* Walks map @fd one key at a time: the fallback without batch lookup.  A
 * key deleted between the two calls is skipped. */
static int sb_dump_each(int fd, const struct rec_map_info *mi,
			store_dump_fn *fn, void *arg)
{
	uint8_t key[SB_KEY_MAX], next[SB_KEY_MAX];
	uint8_t *val = malloc(mi->val_size);
	bool first = true;
	size_t steps = 0;
	int err = val ? 0 : -ENOMEM;

	while (!err) {
		if (bpf_map_get_next_key(fd, first ? NULL : key, next)) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
		/* A walk that restarts because its key vanished could go
		 * on while the map changes; the epoch check of the reader
		 * sees such a change anyway. */
		if (++steps > 2 * (size_t)mi->max_entries + 1)
			break;
		first = false;
		memcpy(key, next, mi->key_size);
		if (bpf_map_lookup_elem(fd, key, val)) {
			if (errno != ENOENT)
				err = -errno;
			continue;
		}
		err = fn(arg, key, val);
	}
	free(val);
	return err;
}

/*
 * Reads map @fd with BPF_MAP_LOOKUP_BATCH: one syscall per batch instead
 * of two per record, which is most of the cost of reading 100k records.
 * The kernel walks a hash bucket by bucket; a bucket with more records
 * than the batch has room for fails with ENOSPC, and the same cursor is
 * tried again with more room.  Returns -EOPNOTSUPP when the kernel has no
 * batch lookup for this map (nothing passed to @fn then).
 */
static int sb_dump_batch(int fd, const struct rec_map_info *mi,
			 store_dump_fn *fn, void *arg)
{
	uint8_t tok_in[SB_KEY_MAX], tok_out[SB_KEY_MAX];
	uint8_t *keys = NULL, *vals = NULL;
	size_t chunk = rec_map_chunk(mi, SB_BATCH, SB_BATCH_BYTES);
	bool first = true, done = false, grow = true;
	int err = 0;

	while (!done && !err) {
		__u32 count;

		if (grow) {
			if (keys)	/* a bucket had more than room */
				chunk *= 2;
			free(keys);
			free(vals);
			keys = malloc(chunk * mi->key_size);
			vals = malloc(chunk * mi->val_size);
			if (!keys || !vals) {
				err = -ENOMEM;
				break;
			}
			grow = false;
		}
		count = (__u32)chunk;
		if (bpf_map_lookup_batch(fd, first ? NULL : tok_in, tok_out,
					 keys, vals, &count, NULL)) {
			err = -errno;
			if (err == -ENOENT) {
				/* The last batch, possibly with records. */
				done = true;
				err = 0;
			} else if (err == -ENOSPC &&
				   chunk < 2 * (size_t)mi->max_entries) {
				grow = true;
				err = 0;
				continue;
			} else {
				if (first && sb_unsupported(err))
					err = -EOPNOTSUPP;
				break;
			}
		}
		first = false;
		memcpy(tok_in, tok_out, sizeof(tok_in));
		for (__u32 i = 0; i < count && !err; i++)
			err = fn(arg, keys + i * mi->key_size,
				 vals + i * mi->val_size);
	}
	free(vals);
	free(keys);
	return err;
}

static int sb_dump(struct store *s, enum rec_map m, store_dump_fn *fn,
		   void *arg)
{
	const struct rec_map_info *mi = rec_map_info(m);
	int fd = sb_fd(s, m), err = -EOPNOTSUPP;

	if (mi->key_size > SB_KEY_MAX)
		return -EINVAL;
	if (!sb_of(s)->no_batch[m])
		err = sb_dump_batch(fd, mi, fn, arg);
	if (err == -EOPNOTSUPP) {
		sb_of(s)->no_batch[m] = true;
		err = sb_dump_each(fd, mi, fn, arg);
	}
	return err;
}

static int sb_update(struct store *s, enum rec_map m, const void *keys,
		     const void *vals, size_t n, size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	const struct rec_map_info *mi = rec_map_info(m);
	const uint8_t *k = keys, *v = vals;
	int fd = sb_fd(s, m);

	*done = 0;
	while (*done < n) {
		__u32 count = n - *done < SB_BATCH ? (__u32)(n - *done) :
						     SB_BATCH;
		int err;

		if (sb_of(s)->no_batch[m]) {
			if (bpf_map_update_elem(fd, k + *done * mi->key_size,
						v + *done * mi->val_size,
						BPF_ANY))
				return -errno;
			(*done)++;
			continue;
		}
		if (!bpf_map_update_batch(fd, k + *done * mi->key_size,
					  v + *done * mi->val_size, &count,
					  &opts)) {
			*done += count;
			continue;
		}
		err = -errno;
		/* On failure count says how many went in before it. */
		if (count > SB_BATCH)
			count = 0;
		*done += count;
		if (count == 0 && sb_unsupported(err)) {
			sb_of(s)->no_batch[m] = true;
			continue;
		}
		return err;
	}
	return 0;
}

static int sb_remove(struct store *s, enum rec_map m, const void *keys,
		     size_t n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	const struct rec_map_info *mi = rec_map_info(m);
	const uint8_t *k = keys;
	int fd = sb_fd(s, m);
	size_t pos = 0;

	while (pos < n) {
		__u32 count = n - pos < SB_BATCH ? (__u32)(n - pos) : SB_BATCH;
		int err;

		if (sb_of(s)->no_batch[m]) {
			if (bpf_map_delete_elem(fd, k + pos * mi->key_size) &&
			    errno != ENOENT)
				return -errno;
			pos++;
			continue;
		}
		if (!bpf_map_delete_batch(fd, k + pos * mi->key_size, &count,
					  &opts)) {
			pos += count;
			continue;
		}
		err = -errno;
		/* On failure count says how many went before it. */
		if (count > SB_BATCH)
			count = 0;
		if (err == -ENOENT) {
			/* The batch stops at a key that is not there: skip
			 * it and go on after it. */
			pos += count + 1;
			continue;
		}
		if (count == 0 && sb_unsupported(err)) {
			sb_of(s)->no_batch[m] = true;
			continue;
		}
		return err;
	}
	return 0;
}

static int sb_stats(struct store *s, uint64_t *sums, size_t n)
{
	int ncpu = libbpf_num_possible_cpus(), err = 0;
	__u64 *vals;

	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (__u32 k = 0; k < n && !err; k++) {
		sums[k] = 0;
		if (bpf_map_lookup_elem(sb_fd(s, STORE_STATS), &k, vals)) {
			err = -errno;
			break;
		}
		for (int c = 0; c < ncpu; c++)
			sums[k] += vals[c];
	}
	free(vals);
	return err;
}

/*
 * The BPF programs run under rcu_read_lock(), and MEMBARRIER_CMD_GLOBAL is
 * synchronize_rcu() (kernel/sched/membarrier.c; with a single online CPU
 * it returns at once, and then no program can be in flight on another
 * CPU).  It fails (-EINVAL) on nohz_full kernels and is absent from
 * kernels built without CONFIG_MEMBARRIER: then sleep 50 ms, far longer
 * than any TC program runs, as the best there is.
 */
static void sb_sync(struct store *s)
{
	struct timespec ts = { .tv_nsec = 50 * 1000 * 1000 };

	(void)s;
	if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) == 0)
		return;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void sb_close(struct store *s)
{
	struct store_bpf *sb = sb_of(s);

	if (sb->pm == &sb->own)
		pmap_close(&sb->own);
	free(sb);
}

static const struct store_ops sb_ops = {
	.info = sb_info,
	.config_read = sb_config_read,
	.config_write = sb_config_write,
	.dump = sb_dump,
	.update = sb_update,
	.remove = sb_remove,
	.stats = sb_stats,
	.sync = sb_sync,
	.close = sb_close,
};

int store_bpf_wrap(struct store **out, const struct pmap *pm)
{
	struct store_bpf *sb = calloc(1, sizeof(*sb));

	if (!sb)
		return -ENOMEM;
	sb->s.ops = &sb_ops;
	sb->s.where = pm->root;
	sb->pm = pm;
	*out = &sb->s;
	return 0;
}

int store_bpf_open(struct store **out, const char *root, bool create)
{
	struct store_bpf *sb = calloc(1, sizeof(*sb));
	int err;

	if (!sb)
		return -ENOMEM;
	/* Pinned already (every apply but the first): open the pins as
	 * they are, without loading the maps' BPF object. */
	err = pmap_open(&sb->own, root, false);
	if (err == -ENOENT && create)
		err = pmap_open(&sb->own, root, true);
	if (err) {
		free(sb);
		return err;
	}
	sb->s.ops = &sb_ops;
	sb->s.where = sb->own.root;
	sb->pm = &sb->own;
	*out = &sb->s;
	return 0;
}
