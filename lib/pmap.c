// SPDX-License-Identifier: Apache-2.0
/*
 * Opening the pinned policy maps.  Creation goes through the maps-only BPF
 * object so the maps get exactly the definitions (type, sizes, flags, BTF)
 * the kernel programs were compiled with: a map created here and one created
 * by loading mf_pod are interchangeable.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "mf_maps.skel.h"
#include "pmap.h"

/* Every pinned map: its file name and its fd in struct pmap. */
struct pmap_slot {
	const char *name;
	size_t fd_off;
};

#define PMAP_SLOT(n, field) { n, offsetof(struct pmap, field) }
#define PMAP_LIST_SLOT(ID, map, ...) PMAP_SLOT(#map, fds[PMAP_##ID]),

static const struct pmap_slot pmap_slots[] = {
	PMAP_SLOT(MF_MAP_CONFIG, config_fd),
	PMAP_SLOT(MF_MAP_STATS, stats_fd),
	MF_POLICY_MAPS(PMAP_LIST_SLOT, PMAP_LIST_SLOT)
};

#define PMAP_NSLOTS (sizeof(pmap_slots) / sizeof(pmap_slots[0]))

static int *pmap_fd(struct pmap *pm, size_t i)
{
	return (int *)((char *)pm + pmap_slots[i].fd_off);
}

static void pmap_reset(struct pmap *pm)
{
	for (size_t i = 0; i < PMAP_NSLOTS; i++)
		*pmap_fd(pm, i) = -1;
}

/* mkdir -p for the pin root.  Returns 0 or -errno. */
static int pmap_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Creates the missing maps and pins them under @root.  libbpf reuses every
 * map already pinned there (LIBBPF_PIN_BY_NAME) and pins the rest. */
static int pmap_create(const char *root)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = root);
	struct mf_maps *skel;
	int err;

	err = pmap_mkdirs(root);
	if (err) {
		log_error("event=pmap_mkdir root=%s err=%s", root, strerror(-err));
		return err;
	}
	skel = mf_maps__open_opts(&opts);
	if (!skel)
		return errno ? -errno : -EINVAL;
	err = mf_maps__load(skel);
	if (err)
		log_error("event=pmap_create root=%s err=%s", root, strerror(-err));
	/* The pins keep the maps alive after the object goes. */
	mf_maps__destroy(skel);
	return err;
}

int pmap_open(struct pmap *pm, const char *root, bool create)
{
	char path[PATH_MAX + 64];
	int err = 0;

	pmap_reset(pm);
	if (strlen(root) >= sizeof(pm->root))
		return -ENAMETOOLONG;
	strcpy(pm->root, root);

	if (create) {
		err = pmap_create(root);
		if (err)
			return err;
	}
	for (size_t i = 0; i < PMAP_NSLOTS; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, pmap_slots[i].name);
		int fd = bpf_obj_get(path);

		if (fd < 0) {
			err = -errno;
			goto fail;
		}
		*pmap_fd(pm, i) = fd;
	}
	return 0;
fail:
	pmap_close(pm);
	return err;
}

void pmap_close(struct pmap *pm)
{
	for (size_t i = 0; i < PMAP_NSLOTS; i++) {
		int *fd = pmap_fd(pm, i);

		if (*fd >= 0)
			close(*fd);
		*fd = -1;
	}
}

int pmap_config_read(const struct pmap *pm, struct mf_config *cfg)
{
	__u32 key = 0;

	if (bpf_map_lookup_elem(pm->config_fd, &key, cfg))
		return -errno;
	return 0;
}

int pmap_unpin_all(const char *root)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;
	int err = 0;

	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		if (unlink(path) && errno != ENOENT && !err)
			err = -errno;
	}
	closedir(d);
	if (rmdir(root) && errno != ENOENT && !err)
		err = -errno;
	return err;
}
