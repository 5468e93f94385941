/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pt6src: which workload an IPv6 MeshPassthrough connection comes from.
 *
 * The mesh knows its workloads by their IPv4 addresses; a pod that dials
 * a Domain match's port over IPv6 comes from another address.  The pods'
 * TC program knows the pod by its veth: on the SYN it steers to the
 * agent's IPv6 outbound listener it notes the IPv4 address that veth was
 * last seen with, under the connection's 4-tuple, in the pinned map
 * mf_pt6_clients (include/meshforge/abi.h).  The agent takes the note
 * (reads and deletes it) when it accepts the connection, and judges the
 * name by that workload's MeshPassthroughs, as over IPv4.  No note (no
 * pods' programs under the pin root, a veth that showed no IPv4 address
 * yet, an entry a flood of SYNs evicted): the Mesh-wide ones alone.
 */
#ifndef MF_PT6SRC_H
#define MF_PT6SRC_H

#include <stdint.h>
#include <netinet/in.h>

#define PT6SRC_MAP	"mf_pt6_clients"

/*
 * Takes the note of the IPv6 connection from @client to @dst (the
 * accepted socket's peer and local address: the original destination)
 * out of mf_pt6_clients under pin root @root: the IPv4 address of the pod
 * it comes from into *@pod4 (network order).  The map is opened for each
 * call: only such connections pay for it (a few microseconds), and it is
 * always the one pinned now, also after the pins were made again under
 * the agent (pinwatch.h).  Returns 0, -ENOENT (no note, or no such map
 * pinned there), or -errno.
 */
int pt6src_take(const char *root, const struct sockaddr_in6 *client,
		const struct sockaddr_in6 *dst, uint32_t *pod4);

#endif /* MF_PT6SRC_H */
