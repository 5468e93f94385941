/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the records of the policy maps live: the pinned BPF maps
 * (store_bpf.c), or memory (store_mem.c), so that everything above the
 * maps (apply, get, diff, inspect, the agent's snapshots) runs and is
 * tested without root and without bpffs.  mapio.c, the one reader and
 * writer of the two halves, reaches maps only through these operations.
 *
 * Keys and values are those of the ABI, half field included; every
 * operation returns 0 or -errno and leaves the wording of messages to
 * its caller, which knows which map and why.
 */
#ifndef MF_POLICY_STORE_H
#define MF_POLICY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "records.h"

/* Maps besides the policy maps of enum rec_map, for info(). */
#define STORE_CONFIG	REC_MAP_MAX		/* mf_config */
#define STORE_STATS	(REC_MAP_MAX + 1)	/* mf_stats */
#define STORE_NMAPS	(REC_MAP_MAX + 2)

struct store_map_info {
	const char *type;		/* "hash", "array", "percpu_array" */
	uint32_t key_size, val_size;
	uint32_t max_entries;		/* both halves */
};

/* Called for every record of a dump; a non-zero return stops it and is
 * returned. */
typedef int store_dump_fn(void *arg, const void *key, const void *val);

struct store;

struct store_ops {
	/* What map @m (enum rec_map, STORE_CONFIG or STORE_STATS) is. */
	int (*info)(struct store *s, int m, struct store_map_info *out);
	int (*config_read)(struct store *s, struct mf_config *cfg);
	int (*config_write)(struct store *s, const struct mf_config *cfg);
	/* Every record of map @m, in no particular order. */
	int (*dump)(struct store *s, enum rec_map m, store_dump_fn *fn,
		    void *arg);
	/* Writes @n records (keys and values packed); *done says how many
	 * went in before a failure.  -E2BIG when the map is full. */
	int (*update)(struct store *s, enum rec_map m, const void *keys,
		      const void *vals, size_t n, size_t *done);
	/* Deletes the @n keys; a key that is not there is no error. */
	int (*remove)(struct store *s, enum rec_map m, const void *keys,
		      size_t n);
	/* mf_stats, summed over the CPUs: @n counters into @sums. */
	int (*stats)(struct store *s, uint64_t *sums, size_t n);
	/* Returns once no reader can still act on what it read of mf_config
	 * before the last config_write() (for BPF: an RCU grace period). */
	void (*sync)(struct store *s);
	void (*close)(struct store *s);
};

struct store {
	const struct store_ops *ops;
	const char *where;		/* for messages: the pin root, "memory" */
};

/*
 * The maps pinned under @root (created and pinned when missing, with
 * @create).  Returns 0 and *out (the caller closes it with store_close()),
 * -ENOENT when nothing is pinned and !@create, -EINVAL when a pinned map
 * has another definition than this build's, or -errno.
 */
int store_bpf_open(struct store **out, const char *root, bool create);

struct pmap;
/* A store over maps the caller opened (the agent's); @pm must outlive it
 * and stays the caller's.  Returns 0 or -ENOMEM. */
int store_bpf_wrap(struct store **out, const struct pmap *pm);

/* An empty store in memory, with the capacities of this build's maps.
 * Returns 0 or -ENOMEM. */
int store_mem_new(struct store **out);

static inline void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

#endif /* MF_POLICY_STORE_H */
