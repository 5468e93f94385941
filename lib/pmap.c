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

/* The id of the map behind @fd, 0 when it cannot be told. */
static uint32_t pmap_fd_id(int fd, struct bpf_map_info *info)
{
	__u32 len = sizeof(*info);

	memset(info, 0, sizeof(*info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, info, &len))
		return 0;
	return info->id;
}

bool pmap_pins_moved(const struct pmap *pm, char *why, size_t n)
{
	char path[PATH_MAX + 64];
	struct bpf_map_info info;
	uint32_t held, pinned;

	for (size_t i = 0; i < PMAP_NSLOTS; i++) {
		int fd = *pmap_fd((struct pmap *)pm, i), pfd;

		held = pmap_fd_id(fd, &info);
		snprintf(path, sizeof(path), "%s/%s", pm->root,
			 pmap_slots[i].name);
		pfd = bpf_obj_get(path);
		pinned = pfd >= 0 ? pmap_fd_id(pfd, &info) : 0;
		if (pfd >= 0)
			close(pfd);
		if (held && held == pinned)
			continue;
		if (pinned)
			snprintf(why, n, "%s: map id %u pinned, %u held",
				 pmap_slots[i].name, pinned, held);
		else
			snprintf(why, n, "%s: not pinned", pmap_slots[i].name);
		return true;
	}
	return false;
}

/* Whether one of @objs defines a map pinned by name as @name. */
static bool pmap_objs_have(const struct bpf_object *const *objs, size_t nobjs,
			   const char *name)
{
	const struct bpf_map *m;

	for (size_t i = 0; i < nobjs; i++)
		bpf_object__for_each_map(m, objs[i])
			if (bpf_map__pin_path(m) &&
			    !strcmp(bpf_map__name(m), name))
				return true;
	return false;
}

/* Compares pinned map @info with @m's definition: true when they differ,
 * with what differs in @why. */
static bool pmap_def_differs(const struct bpf_map *m,
			     const struct bpf_map_info *info, char *why,
			     size_t n)
{
	const char *name = bpf_map__name(m);

	if (info->type != bpf_map__type(m))
		snprintf(why, n, "%s: map type %u pinned, %u expected",
			 name, info->type, bpf_map__type(m));
	else if (info->key_size != bpf_map__key_size(m) ||
		 info->value_size != bpf_map__value_size(m))
		snprintf(why, n, "%s: key/value of %u/%u bytes pinned, %u/%u expected",
			 name, info->key_size, info->value_size,
			 bpf_map__key_size(m), bpf_map__value_size(m));
	else if (info->max_entries != bpf_map__max_entries(m))
		snprintf(why, n, "%s: %u entries pinned, %u expected",
			 name, info->max_entries, bpf_map__max_entries(m));
	else if (info->map_flags != bpf_map__map_flags(m))
		snprintf(why, n, "%s: flags 0x%x pinned, 0x%x expected",
			 name, info->map_flags, bpf_map__map_flags(m));
	else
		return false;
	return true;
}

/* Checks the pin of @m, when there is one, against its definition.
 * Returns 0 or -ESTALE (why in @why). */
static int pmap_pin_differs(const char *root, const struct bpf_map *m,
			    char *why, size_t n)
{
	char path[PATH_MAX + 300];
	struct bpf_map_info info;
	int fd, err = 0;

	if (!bpf_map__pin_path(m))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", root, bpf_map__name(m));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;	/* made at load */
	if (!pmap_fd_id(fd, &info)) {
		snprintf(why, n, "%s: pinned, but no map", bpf_map__name(m));
		err = -ESTALE;
	} else if (pmap_def_differs(m, &info, why, n)) {
		err = -ESTALE;
	}
	close(fd);
	return err;
}

int pmap_check_pins(const char *root, const struct bpf_object *const *objs,
		    size_t nobjs, char *why, size_t n)
{
	const struct bpf_map *m;
	struct dirent *de;
	int err = 0;
	DIR *d;

	for (size_t i = 0; i < nobjs; i++) {
		bpf_object__for_each_map(m, objs[i]) {
			err = pmap_pin_differs(root, m, why, n);
			if (err)
				return err;
		}
	}
	d = opendir(root);
	if (!d)
		return 0;	/* nothing pinned yet */
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "mf_", 3) || pmap_objs_have(objs, nobjs, de->d_name))
			continue;
		snprintf(why, n, "%s: pinned, but no map of this agent's has that name",
			 de->d_name);
		err = -ESTALE;
		break;
	}
	closedir(d);
	return err;
}
