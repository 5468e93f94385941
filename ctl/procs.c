// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's processes (procs.h).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procs.h"

/* True when /proc/@pid/exe is a file named PROCS_AGENT_EXE. */
static bool procs_is_agent(const char *pid)
{
	char path[300], exe[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%s/exe", pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return false;
	exe[n] = '\0';
	/* A binary replaced while running reads "... (deleted)": still it. */
	if (n > 10 && !strcmp(exe + n - 10, " (deleted)"))
		exe[n - 10] = '\0';
	base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return !strcmp(base, PROCS_AGENT_EXE);
}

static int procs_pid_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

int procs_agents(long *pids, int max)
{
	struct dirent *de;
	DIR *dir = opendir("/proc");
	int n = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (!procs_is_agent(de->d_name))
			continue;
		if (n < max)
			pids[n] = strtol(de->d_name, NULL, 10);
		n++;
	}
	closedir(dir);
	qsort(pids, (size_t)(n < max ? n : max), sizeof(*pids),
	      procs_pid_cmp);
	return n;
}

uint32_t procs_fd_map_id(long pid, int fd)
{
	char path[64], line[128];
	unsigned int id = 0;
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%ld/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "map_id: %u", &id) == 1)
			break;
	fclose(f);
	return id;
}

int procs_holds_map(long pid, const uint32_t *ids, size_t n)
{
	char path[64];
	struct dirent *de;
	int found = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!found && (de = readdir(dir))) {
		uint32_t id;

		char link[64];
		ssize_t len;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		/* An agent holds thousands of sockets: read fdinfo of its
		 * BPF maps only. */
		len = readlinkat(dirfd(dir), de->d_name, link,
				 sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		if (strcmp(link, "anon_inode:bpf-map"))
			continue;
		id = procs_fd_map_id(pid, atoi(de->d_name));
		for (size_t i = 0; id && i < n && !found; i++)
			found = ids[i] == id;
	}
	closedir(dir);
	return found;
}
