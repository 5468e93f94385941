/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bpffs for the tests that pin programs and maps: mounted at /sys/fs/bpf
 * when it is missing (a fresh machine may not have it), and a test's own
 * pin root removed with what it holds.
 */
#ifndef MF_BPFFS_HARNESS_H
#define MF_BPFFS_HARNESS_H

#include <dirent.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

/* Whether bpffs is at /sys/fs/bpf, mounting it there when it is not. */
static inline bool bh_bpffs_ready(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return true;
	return mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL) == 0;
}

/* Removes pin root @dir and the pins in it (the agent pins flat, one
 * level).  Idempotent, and safe from an atexit() or signal handler: only
 * system calls and a directory read. */
static inline void bh_pin_root_remove(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (!dir[0])
		return;
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

#endif /* MF_BPFFS_HARNESS_H */
