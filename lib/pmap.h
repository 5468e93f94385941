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

/* How many maps lib/kinds.c has; test_ctl_kinds checks. */
#define PMAP_KIND_MAPS 16

struct pmap {
	char root[PATH_MAX];
	int config_fd;
	int services_fd;
	int endpoints_fd;
	int nodes_fd;
	int identities_fd;
	int authz_fd;
	int stats_fd;
	int tagsets_fd;
	int kind_fds[PMAP_KIND_MAPS];	/* lib/kinds.c's maps, in order */
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
