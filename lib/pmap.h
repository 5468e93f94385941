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
#include <stddef.h>

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

/*
 * True when a map @pm holds is no longer the one pinned under its root
 * under that name: the pin was removed (and maybe made again: another
 * map, another id).  What was pinned is then in *@why (the first map that
 * moved), for the log.  An fd of @pm that is closed counts as moved.
 */
bool pmap_pins_moved(const struct pmap *pm, char *why, size_t n);

/*
 * Checks the maps already pinned under @root against the definitions
 * (type, key and value sizes, entries, flags) in @objs, BPF objects
 * opened and not loaded yet whose maps are pinned by name: libbpf would
 * refuse such a pin at load with a bare EINVAL, and this names the map
 * and what differs.  Missing pins are no problem (they are made).  An
 * entry of the root named mf_* that none of @objs defines is one: another
 * layout's name (an older or newer meshforge).  Returns 0, or -ESTALE with
 * the first difference in @why.
 */
struct bpf_object;
int pmap_check_pins(const char *root, const struct bpf_object *const *objs,
		    size_t nobjs, char *why, size_t n);

/* Removes every pin under the root and the root itself.  Returns 0 or
 * -errno; a missing root is success. */
int pmap_unpin_all(const char *root);

#endif /* MF_PMAP_H */
