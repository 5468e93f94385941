// SPDX-License-Identifier: Apache-2.0
/*
 * Dropping capabilities (caps.h).
 */
#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "caps.h"

/* CAP_LAST_CAP of the kernel running us: /proc says, else the headers. */
static int caps_last(void)
{
	int last = CAP_LAST_CAP;

	/* PR_CAPBSET_READ fails (EINVAL) past the kernel's last one. */
	while (prctl(PR_CAPBSET_READ, last + 1, 0, 0, 0) >= 0)
		last++;
	return last;
}

static bool caps_kept(int cap, const int *keep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (keep[i] == cap)
			return true;
	return false;
}

/* Whether CAP_SETPCAP is in our effective set: dropping from the
 * bounding set needs it. */
static bool caps_have_setpcap(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_SETPCAP / 32].effective & (1u << (CAP_SETPCAP % 32));
}

int caps_keep(const int *keep, size_t n)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	int last = caps_last();

	/* The bounding set first, while CAP_SETPCAP is still ours.  A
	 * manager that did not give us CAP_SETPCAP (systemd's
	 * CapabilityBoundingSet=, a container's capability list) bounded us
	 * itself: its set stays, and the effective and permitted ones below
	 * still narrow to @keep. */
	for (int cap = 0; cap <= last && caps_have_setpcap(); cap++) {
		if (caps_kept(cap, keep, n))
			continue;
		if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 &&
		    prctl(PR_CAPBSET_DROP, cap, 0, 0, 0))
			return -errno;
	}
	/* No ambient capability survives an exec either. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (size_t i = 0; i < n; i++) {
		uint32_t bit = 1u << (keep[i] % 32);

		data[keep[i] / 32].effective |= bit;
		data[keep[i] / 32].permitted |= bit;
	}
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

int caps_keep_agent(void)
{
	static const int keep[] = {
		CAP_NET_ADMIN, CAP_BPF, CAP_NET_BIND_SERVICE, CAP_PERFMON,
	};

	return caps_keep(keep, sizeof(keep) / sizeof(keep[0]));
}
