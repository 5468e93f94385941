/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The service manager's end of the readiness protocol (agent/notify.h) for
 * the tests that check what the agent tells it: a datagram socket bound
 * where $NOTIFY_SOCKET will name it.
 *
 * Include after "harness/test.h".
 */
#ifndef MF_NOTIFY_HARNESS_H
#define MF_NOTIFY_HARNESS_H

#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A datagram socket bound at @name (a path, or '@' for an abstract
 * name).  Returns its fd or -1. */
static inline int nh_listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				       n + (name[0] == '/')))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

#endif /* MF_NOTIFY_HARNESS_H */
