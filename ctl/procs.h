/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The agent's processes on this machine, as /proc shows them: a process
 * whose executable is named meshforge-agent (there is no pid file: the
 * agent may run under any service manager, or none), and which BPF maps
 * it holds, which tells whose pin root it serves.  For `mfctl status`
 * and `mfctl uninstall`.  A process that may not be looked at (another
 * user's, without root) does not count.
 */
#ifndef CTL_PROCS_H
#define CTL_PROCS_H

#include <stddef.h>
#include <stdint.h>

#define PROCS_AGENT_EXE "meshforge-agent"

/* Fills @pids with up to @max agent pids, in ascending order; returns how
 * many there are (possibly more than @max), or -errno when /proc cannot
 * be read. */
int procs_agents(long *pids, int max);

/* Whether process @pid holds a descriptor of one of the @n BPF maps whose
 * ids are at @ids: 1 or 0, or -errno (the process is gone, or may not be
 * looked at). */
int procs_holds_map(long pid, const uint32_t *ids, size_t n);

/* The id of the BPF map that process @pid (0: this process) has open as
 * descriptor @fd, as its fdinfo says; 0 when the descriptor is no map or
 * cannot be read.  Asking fdinfo first tells a map from a program without
 * reading object info into the wrong struct. */
uint32_t procs_fd_map_id(long pid, int fd);

#endif /* CTL_PROCS_H */
