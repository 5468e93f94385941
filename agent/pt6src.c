// SPDX-License-Identifier: Apache-2.0
/*
 * The pod an IPv6 MeshPassthrough connection comes from, as the pods' TC
 * program noted it (pt6src.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "meshforge/abi.h"
#include "pt6src.h"

int pt6src_take(const char *root, const struct sockaddr_in6 *client,
		const struct sockaddr_in6 *dst, uint32_t *pod4)
{
	char path[PATH_MAX];
	struct mf_pt6_client v;
	struct mf_pt6_key k;
	int fd, err = 0;

	if (snprintf(path, sizeof(path), "%s/%s", root, PT6SRC_MAP) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&k, 0, sizeof(k));
	memcpy(k.client, &client->sin6_addr, sizeof(k.client));
	memcpy(k.dst, &dst->sin6_addr, sizeof(k.dst));
	k.client_port = ntohs(client->sin6_port);
	k.dst_port = ntohs(dst->sin6_port);
	/* Taken: a later connection of the same 4-tuple has its own note
	 * or none, never this one. */
	if (bpf_map_lookup_and_delete_elem(fd, &k, &v))
		err = -errno;
	else
		memcpy(pod4, v.pod, sizeof(*pod4));
	close(fd);
	return err;
}
