/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The saved state: <state-dir>/policy.yaml, the applied policy as `mfctl
 * get` prints it, written after every apply and delete that changed the
 * maps.  Pinned maps outlive mfctl and the agent but not a reboot; this
 * file is what `mfctl restore` (and the agent at start) rebuilds them from.
 */
#ifndef CTL_SAVED_H
#define CTL_SAVED_H

#include <stddef.h>

#include "ctl.h"
#include "diag.h"
#include "pmap.h"

#define SAVED_FILE "policy.yaml"

/* <@state_dir>/policy.yaml into @buf.  Returns 0 or -ENAMETOOLONG. */
int saved_path(char *buf, size_t n, const char *state_dir);

/*
 * Reads the maps of @pm back, decompiles them and writes them, as `get`
 * prints them, to <@state_dir>/policy.yaml: through a temporary file in
 * the same directory, fsynced, renamed over the old file, then the
 * directory fsynced, so after a crash the file is the old state or the new
 * one, never a torn one.  The file is 0600 and @state_dir, when this
 * creates it, 0700: the policy names every workload of the node.  Returns
 * 0 or -errno (said in @d).
 */
int saved_write(const char *state_dir, const struct pmap *pm, struct diag *d);

/*
 * For apply and delete, right after the maps were written (under the pin
 * root's lock, so two saves land in the order of their writes): saves the
 * state when @o has a state directory.  @what ("apply", "delete") and
 * @epoch go into the message on failure, which says that the maps were
 * not rolled back.  Returns CTL_EXIT_OK or CTL_EXIT_SYSTEM.
 */
int saved_after_write(const struct ctl_opts *o, const struct pmap *pm,
		      const char *what, unsigned long long epoch);

#endif /* CTL_SAVED_H */
