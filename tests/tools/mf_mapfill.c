// SPDX-License-Identifier: Apache-2.0
/*
 * mf_mapfill: looks into and fills a pinned BPF hash map, for the tests
 * that fill the kernel's maps (test_map_full.sh).  The bpf(2) syscall
 * alone, so it needs nothing but the kernel's headers.
 *   mf_mapfill info PIN         "type=T key=K value=V max=M count=C"
 *   mf_mapfill fill PIN N TAG   inserts N distinct keys (key bytes: TAG,
 *                               then the counter, the rest zero; values
 *                               zero); prints "inserted=I failed=F
 *                               err=E" (E: the last failure's errno)
 *   mf_mapfill has PIN HEX      exit 0 when the key (hex bytes) is there,
 *                               1 when not
 * Exit 2 on a usage or system error.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static long mf_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int map_open(const char *pin, struct bpf_map_info *info)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.pathname = (uint64_t)(uintptr_t)pin;
	fd = (int)mf_bpf(BPF_OBJ_GET, &a);
	if (fd < 0) {
		fprintf(stderr, "mf_mapfill: %s: %s\n", pin, strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof(a));
	memset(info, 0, sizeof(*info));
	a.info.bpf_fd = (uint32_t)fd;
	a.info.info_len = sizeof(*info);
	a.info.info = (uint64_t)(uintptr_t)info;
	if (mf_bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
		fprintf(stderr, "mf_mapfill: %s: info: %s\n", pin,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Entries of map @fd (key size @ks), by walking its keys. */
static long map_count(int fd, uint32_t ks)
{
	uint8_t *k = calloc(2, ks ? ks : 1), *next = k + ks;
	union bpf_attr a;
	long n = 0;

	if (!k)
		return -1;
	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)fd;
	a.key = 0;		/* the first key */
	a.next_key = (uint64_t)(uintptr_t)next;
	while (mf_bpf(BPF_MAP_GET_NEXT_KEY, &a) == 0) {
		n++;
		memcpy(k, next, ks);
		a.key = (uint64_t)(uintptr_t)k;
	}
	free(k);
	return errno == ENOENT ? n : -1;
}

static int per_cpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

int main(int argc, char **argv)
{
	struct bpf_map_info info;
	union bpf_attr a;
	int fd, rc = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: mf_mapfill info|fill|has PIN ...\n");
		return 2;
	}
	fd = map_open(argv[2], &info);
	if (fd < 0)
		return 2;
	if (!strcmp(argv[1], "info") && argc == 3) {
		printf("type=%u key=%u value=%u max=%u count=%ld\n", info.type,
		       info.key_size, info.value_size, info.max_entries,
		       map_count(fd, info.key_size));
		rc = 0;
	} else if (!strcmp(argv[1], "fill") && argc == 5) {
		long cpus = sysconf(_SC_NPROCESSORS_CONF);
		size_t vs = per_cpu(info.type) ?
			    ((info.value_size + 7) & ~7u) * (size_t)cpus :
			    info.value_size;
		unsigned long n = strtoul(argv[3], NULL, 0), ok = 0, bad = 0;
		uint8_t *k = calloc(1, info.key_size + 8), *v = calloc(1, vs);
		int last = 0;

		if (!k || !v || info.key_size < 5)
			return 2;
		k[0] = (uint8_t)strtoul(argv[4], NULL, 0);
		for (unsigned long i = 0; i < n; i++) {
			uint32_t c = (uint32_t)i;

			memcpy(k + 1, &c, 4);
			memset(&a, 0, sizeof(a));
			a.map_fd = (uint32_t)fd;
			a.key = (uint64_t)(uintptr_t)k;
			a.value = (uint64_t)(uintptr_t)v;
			a.flags = BPF_ANY;
			if (mf_bpf(BPF_MAP_UPDATE_ELEM, &a) == 0) {
				ok++;
			} else {
				bad++;
				last = errno;
			}
		}
		printf("inserted=%lu failed=%lu err=%s\n", ok, bad,
		       last ? strerror(last) : "-");
		free(k);
		free(v);
		rc = 0;
	} else if (!strcmp(argv[1], "has") && argc == 4) {
		size_t vs = per_cpu(info.type) ?
			    ((info.value_size + 7) & ~7u) *
			    (size_t)sysconf(_SC_NPROCESSORS_CONF) :
			    info.value_size;
		uint8_t *k = calloc(1, info.key_size), *v = calloc(1, vs);
		const char *h = argv[3];

		if (!k || !v || strlen(h) != 2 * info.key_size)
			return 2;
		for (uint32_t i = 0; i < info.key_size; i++) {
			unsigned int b;

			if (sscanf(h + 2 * i, "%2x", &b) != 1)
				return 2;
			k[i] = (uint8_t)b;
		}
		memset(&a, 0, sizeof(a));
		a.map_fd = (uint32_t)fd;
		a.key = (uint64_t)(uintptr_t)k;
		a.value = (uint64_t)(uintptr_t)v;
		rc = mf_bpf(BPF_MAP_LOOKUP_ELEM, &a) == 0 ? 0 : 1;
		free(k);
		free(v);
	} else {
		fprintf(stderr, "usage: mf_mapfill info|fill|has PIN ...\n");
	}
	close(fd);
	return rc;
}
