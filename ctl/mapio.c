// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "mapio.h"

static int mapio_fd(const struct pmap *pm, enum rec_map m)
{
	switch (m) {
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
	case REC_MAP_MAX:
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
};

union mapio_val {
	struct mf_identity identity;
	struct mf_node node;
	struct mf_service service;
	struct mf_endpoint endpoint;
	struct mf_authz_rule authz;
};

static int mapio_read_map(int fd, enum rec_map m, struct rec_set *rs,
			  struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	union mapio_key key, next;
	union mapio_val val;
	bool first = true;
	int err;

	err = mapio_check(fd, mi->name, mi->key_size, mi->val_size, d);
	if (err)
		return err;
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
		err = mapio_read_map(mapio_fd(pm, m), m, rs, d);
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

static int mapio_upsert(int fd, enum rec_map m, const struct rec_set *have,
			const struct rec_set *want, bool *stale_done,
			struct rec_diff *st, struct diag *d)
{
	const struct rec_map_info *mi = rec_map_info(m);
	int err;

	for (size_t i = 0; i < rec_count(want, m); i++) {
		const void *key = rec_key(want, m, i);
		const void *val = rec_val(want, m, i);
		long h = rec_find(have, m, key);

		if (h >= 0 && !memcmp(rec_val(have, m, (size_t)h), val,
				      mi->val_size)) {
			st->unchanged++;
			continue;
		}
		if (!bpf_map_update_elem(fd, key, val, BPF_ANY)) {
			h >= 0 ? st->updated++ : st->created++;
			continue;
		}
		err = -errno;
		/* Full while stale records still hold slots: the new set
		 * fits (compile checked), so make room early and retry. */
		if (err == -E2BIG && !*stale_done) {
			err = mapio_delete_stale(fd, m, have, want, st, d);
			if (err)
				return err;
			*stale_done = true;
			i--;
			continue;
		}
		if (err == -E2BIG) {
			diag_add(d, NULL, NULL, mi->name,
				 "map is full (%zu entries)", mi->max_entries);
			return -ENOSPC;
		}
		diag_add(d, NULL, NULL, mi->name, "cannot update: %s",
			 strerror(-err));
		return err;
	}
	return 0;
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
		err = mapio_upsert(mapio_fd(pm, m), m, have, want,
				   &stale_done[m], st, d);
		if (err)
			return err;
	}
	for (int m = REC_MAP_MAX; m-- > 0;) {
		if (stale_done[m])
			continue;
		err = mapio_delete_stale(mapio_fd(pm, m), m, have, want, st, d);
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
