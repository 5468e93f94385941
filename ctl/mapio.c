// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "mapio.h"

/* The kernel's ENOTSUPP (524), which batch operations return for map types
 * without them; not in the uapi errno list. */
#define ENOTSUPP_ 524

int mapio_map_fd(const struct pmap *pm, enum rec_map m)
{
	if (m >= REC_GEN_FIRST && m < REC_MAP_MAX)
		return pm->kind_fds[m - REC_GEN_FIRST];
	switch (m) {
	case REC_TAGSETS:
		return pm->tagsets_fd;
	case REC_IDENTITIES:
		return pm->identities_fd;
	case REC_NODES:
		return pm->nodes_fd;
	case REC_AUTHZ:
		return pm->authz_fd;
	case REC_SERVICES:
		return pm->services_fd;
	case REC_ENDPOINTS:
		return pm->endpoints_fd;
	default:
		break;
	}
	return -1;
}

/* Refuses a pinned map whose layout differs from this build's ABI: reading
 * it with our struct sizes would misparse every record. */
static int mapio_check(int fd, const char *name, size_t key_size,
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
	if (info.key_size != key_size || info.value_size != val_size) {
		diag_add(d, NULL, NULL, name,
			 "pinned map has key/value sizes %u/%u, this mfctl "
			 "expects %zu/%zu (built for another ABI)",
			 info.key_size, info.value_size, key_size, val_size);
		return -EPROTO;
	}
	return 0;
}

/* Room for the key and the value of any policy map. */
union mapio_key {
	__u32 id;
	struct mf_node_key node;
	struct mf_service_key service;
	struct mf_endpoint_key endpoint;
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

/* Records per batch syscall: large enough that the syscalls stop
 * mattering, small enough that the buffers stay under a few MiB. */
#define MAPIO_BATCH 4096

/* Walks map @fd one key at a time: the fallback for kernels without batch
 * operations on this map type.  Appends to @rs. */
static int mapio_read_each(int fd, enum rec_map m, struct rec_set *rs,
			   struct diag *d)
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
		err = rec_add(rs, m, &key, &val);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Reads map @fd with BPF_MAP_LOOKUP_BATCH, MAPIO_BATCH records per call:
 * two syscalls per record become one per batch, which is most of the cost
 * of reading 100k records.  Appends to @rs.  Returns 0, -EOPNOTSUPP when
 * the kernel has no batch lookup for this map (nothing appended then), or
 * -errno.
 */
static int mapio_read_batch(int fd, enum rec_map m, struct rec_set *rs,
			    struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	union mapio_key token_in, token_out;	/* opaque batch cursor */
	bool first = true, done = false;
	uint8_t *keys, *vals;
	int err = 0;

	keys = malloc(MAPIO_BATCH * mi->key_size);
	vals = malloc(MAPIO_BATCH * mi->val_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!done) {
		__u32 count = MAPIO_BATCH;

		if (bpf_map_lookup_batch(fd, first ? NULL : &token_in,
					 &token_out, keys, vals, &count,
					 NULL)) {
			err = -errno;
			if (err == -ENOENT) {
				/* The last batch, possibly with records. */
				done = true;
				err = 0;
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
			err = rec_add(rs, m, keys + i * mi->key_size,
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

static int mapio_read_map(int fd, enum rec_map m, struct rec_set *rs,
			  struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	int err;

	err = mapio_check(fd, mi->name, mi->key_size, mi->val_size, d);
	if (err)
		return err;
	err = mapio_read_batch(fd, m, rs, d);
	if (err == -EOPNOTSUPP)
		err = mapio_read_each(fd, m, rs, d);
	if (err)
		return err;
	rec_sort(rs, m);
	return 0;
}

int mapio_read(const struct pmap *pm, struct rec_set *rs, struct diag *d)
{
	__u32 zero = 0;
	int err;

	rec_set_init(rs);
	err = mapio_check(pm->config_fd, MF_MAP_CONFIG, sizeof(__u32),
			  sizeof(struct mf_config), d);
	if (err)
		return err;
	if (bpf_map_lookup_elem(pm->config_fd, &zero, &rs->config)) {
		err = -errno;
		diag_add(d, NULL, NULL, MF_MAP_CONFIG, "cannot read: %s",
			 strerror(-err));
		return err;
	}
	for (int m = 0; m < REC_MAP_MAX; m++) {
		err = mapio_read_map(mapio_map_fd(pm, m), m, rs, d);
		if (err)
			return err;
	}
	return 0;
}

/* Deletes the records of map @m that @have has and @want does not. */
static int mapio_delete_stale(int fd, enum rec_map m,
			      const struct rec_set *have,
			      const struct rec_set *want,
			      struct rec_diff *st, struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);

	for (size_t i = 0; i < rec_count(have, m); i++) {
		const void *key = rec_key(have, m, i);

		if (rec_find(want, m, key) >= 0)
			continue;
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
			int err = -errno;

			diag_add(d, NULL, NULL, mi->name, "cannot delete: %s",
				 strerror(-err));
			return err;
		}
		st->deleted++;
	}
	return 0;
}

/* Writes the records @idx[0..n) of @want's map @m one syscall each: the
 * fallback for kernels without batch updates.  Sets *@done to how many
 * were written; on failure the failing one is idx[*done]. */
static int mapio_update_each(int fd, enum rec_map m,
			     const struct rec_set *want, const size_t *idx,
			     size_t n, size_t *done)
{
	for (*done = 0; *done < n; (*done)++) {
		size_t i = idx[*done];

		if (bpf_map_update_elem(fd, rec_key(want, m, i),
					rec_val(want, m, i), BPF_ANY))
			return -errno;
	}
	return 0;
}

/*
 * Writes the records @idx[0..n) of @want's map @m with
 * BPF_MAP_UPDATE_BATCH, MAPIO_BATCH per call (keys and values gathered
 * into the separate arrays the call takes).  Sets *@done as above.
 * Returns 0, -EOPNOTSUPP when the kernel has no batch update for this map
 * and nothing was written, or -errno.
 */
static int mapio_update_batch(int fd, enum rec_map m,
			      const struct rec_set *want, const size_t *idx,
			      size_t n, size_t *done)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
	const struct rec_map_info *mi = rec_map_info(m);
	uint8_t *keys, *vals;
	int err = 0;

	*done = 0;
	keys = malloc(MAPIO_BATCH * mi->key_size);
	vals = malloc(MAPIO_BATCH * mi->val_size);
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (*done < n) {
		__u32 count = n - *done < MAPIO_BATCH ? (__u32)(n - *done) :
							 MAPIO_BATCH;

		for (__u32 j = 0; j < count; j++) {
			size_t i = idx[*done + j];

			memcpy(keys + j * mi->key_size, rec_key(want, m, i),
			       mi->key_size);
			memcpy(vals + j * mi->val_size, rec_val(want, m, i),
			       mi->val_size);
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
		if (*done == 0 && (err == -EINVAL || err == -EOPNOTSUPP ||
				   err == -ENOTSUPP_))
			err = -EOPNOTSUPP;
		break;
	}
out:
	free(vals);
	free(keys);
	return err;
}

static int mapio_upsert(int fd, enum rec_map m, const struct rec_set *have,
			const struct rec_set *want, bool *stale_done,
			struct rec_diff *st, struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	size_t n = 0, pos = 0, done, nw = rec_count(want, m);
	bool *is_new = NULL, batch = true;
	size_t *idx = NULL;
	int err = 0;

	/* The records that differ from what the map holds, in key order. */
	idx = malloc((nw ? nw : 1) * sizeof(*idx));
	is_new = malloc((nw ? nw : 1) * sizeof(*is_new));
	if (!idx || !is_new) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nw; i++) {
		long h = rec_find(have, m, rec_key(want, m, i));

		if (h >= 0 && !memcmp(rec_val(have, m, (size_t)h),
				      rec_val(want, m, i), mi->val_size)) {
			st->unchanged++;
			continue;
		}
		is_new[n] = h < 0;
		idx[n++] = i;
	}

	while (pos < n) {
		if (batch) {
			err = mapio_update_batch(fd, m, want, idx + pos,
						 n - pos, &done);
			if (err == -EOPNOTSUPP) {
				batch = false;
				continue;
			}
		} else {
			err = mapio_update_each(fd, m, want, idx + pos,
						n - pos, &done);
		}
		for (size_t j = pos; j < pos + done; j++)
			is_new[j] ? st->created++ : st->updated++;
		pos += done;
		if (!err)
			break;
		/* Full while stale records still hold slots: the new set
		 * fits (compile checked), so make room early and retry. */
		if (err == -E2BIG && !*stale_done) {
			err = mapio_delete_stale(fd, m, have, want, st, d);
			if (err)
				goto out;
			*stale_done = true;
			continue;
		}
		if (err == -E2BIG) {
			diag_add(d, NULL, NULL, mi->name,
				 "map is full (%zu entries)", mi->max_entries);
			err = -ENOSPC;
			goto out;
		}
		if (err != -ENOMEM)
			diag_add(d, NULL, NULL, mi->name, "cannot update: %s",
				 strerror(-err));
		goto out;
	}
	err = 0;
out:
	free(is_new);
	free(idx);
	return err;
}

int mapio_write(const struct pmap *pm, const struct rec_set *have,
		const struct rec_set *want, struct rec_diff *st,
		struct diag *d)
{
	bool stale_done[REC_MAP_MAX] = { false };
	__u32 zero = 0;
	int err;

	memset(st, 0, sizeof(*st));
	for (int m = 0; m < REC_MAP_MAX; m++) {
		err = mapio_upsert(mapio_map_fd(pm, m), m, have, want,
				   &stale_done[m], st, d);
		if (err)
			return err;
	}
	for (int m = REC_MAP_MAX; m-- > 0;) {
		if (stale_done[m])
			continue;
		err = mapio_delete_stale(mapio_map_fd(pm, m), m, have, want, st, d);
		if (err)
			return err;
	}
	if (bpf_map_update_elem(pm->config_fd, &zero, &want->config, BPF_ANY)) {
		err = -errno;
		diag_add(d, NULL, NULL, MF_MAP_CONFIG, "cannot update: %s",
			 strerror(-err));
		return err;
	}
	return 0;
}
