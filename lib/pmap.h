/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pinned node-local policy map, from user space.
 *
 * pmap_open() opens every map pinned under the pin root.  With create, a map
 * that is not pinned yet is created from the maps-only BPF object
 * (bpf/mf_maps.bpf.c), with its BTF, and pinned; the root directory is made
 * and bpffs must already be mounted there or above.
 */
#ifndef MF_PMAP_H
#define MF_PMAP_H

#include <limits.h>
#include <stdbool.h>

#include "meshforge/abi.h"
#include "meshforge/policy_maps.h"

/* The policy maps, in the order of include/meshforge/policy_maps.h. */
enum pmap_map {
#define PMAP_ENUM(ID, ...) PMAP_##ID,
	MF_POLICY_MAPS(PMAP_ENUM, PMAP_ENUM)
#undef PMAP_ENUM
	PMAP_NMAPS,
};

struct pmap {
	char root[PATH_MAX];
	int config_fd;
	int stats_fd;
	int fds[PMAP_NMAPS];		/* enum pmap_map */
};

/* Returns 0, or -errno (-ENOENT: not pinned and !create).  On failure every
 * fd is -1 and nothing needs closing. */
int pmap_open(struct pmap *pm, const char *root, bool create);

/* Closes every fd; the pins stay.  Safe on a closed or failed pmap. */
void pmap_close(struct pmap *pm);

/* Reads mf_config[0].  Returns 0 or -errno. */
int pmap_config_read(const struct pmap *pm, struct mf_config *cfg);

/* Removes every pin under the root and the root itself.  Returns 0 or
 * -errno; a missing root is success. */
int pmap_unpin_all(const char *root);

#endif /* MF_PMAP_H */
