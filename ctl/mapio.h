/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Records <-> the pinned policy maps.  The only part of the apply path that
 * touches the kernel.
 */
#ifndef CTL_MAPIO_H
#define CTL_MAPIO_H

#include <stddef.h>

#include "diag.h"
#include "pmap.h"
#include "records.h"

/* The fd of map @m in @pm. */
int mapio_map_fd(const struct pmap *pm, enum rec_map m);

/*
 * Reads mf_config[0] and every record of the policy maps of @pm into @rs
 * (initialised here, sorted; the caller frees it whatever this returns).
 * First checks that each pinned map has the key and value sizes this mfctl
 * was built with.  Returns 0, -EPROTO on a size mismatch (said in @d), or
 * -errno.
 */
int mapio_read(const struct pmap *pm, struct rec_set *rs, struct diag *d);

/*
 * Makes the maps of @pm hold exactly @want, given that they hold @have (as
 * mapio_read() returned them; both sorted).  Records that are equal byte
 * for byte are left alone.  Order, so a reader never follows a reference to
 * a record that is not there yet: upserts go identities, nodes, authz,
 * services, endpoints; then stale records are deleted in the reverse order;
 * mf_config (with @want's epoch) is written last, as the signal that the
 * new policy is complete.  Returns 0, -ENOSPC when a map is full (said in
 * @d, naming it), or -errno.
 */
int mapio_write(const struct pmap *pm, const struct rec_set *have,
		const struct rec_set *want, struct rec_diff *st,
		struct diag *d);

#endif /* CTL_MAPIO_H */
