// SPDX-License-Identifier: Apache-2.0
/*
 * The pods' TC programs' own maps, read from their pins (kstate.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kstate.h"

/* The pin of map @name under @root, opened read-only.  Returns the fd or
 * -errno. */
static int kstate_open(const char *root, const char *name)
{
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", root, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = bpf_obj_get_opts(path, &opts);
	return fd < 0 ? -errno : fd;
}

/*
 * Every key of the map at @fd (@ksize bytes each) into *keys (the caller
 * frees it) and *n.  An LRU map may drop a key between two steps: the
 * walk then ends early, which an inspection can live with.
 */
static int kstate_keys(int fd, size_t ksize, void **keys, size_t *n)
{
	size_t cap = 64;
	uint8_t *k = malloc(cap * ksize), *nk;
	const void *prev = NULL;

	*keys = NULL;
	*n = 0;
	if (!k)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, k + *n * ksize) == 0) {
		prev = k + *n * ksize;
		if (++*n == cap) {
			nk = realloc(k, 2 * cap * ksize);
			if (!nk) {
				free(k);
				return -ENOMEM;
			}
			k = nk;
			cap *= 2;
			prev = k + (*n - 1) * ksize;
		}
	}
	*keys = k;
	return 0;
}

static int kstate_plain_cmp(const void *a, const void *b)
{
	const struct kstate_plain *x = a, *y = b;

	return (x->packets < y->packets) - (x->packets > y->packets);
}

int kstate_plaintext(const char *root, struct kstate_plain **out, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus(), fd, err;
	struct mf_plain_key *keys;
	struct kstate_plain *p;
	uint64_t *vals;
	size_t m = 0;

	*out = NULL;
	*n = 0;
	if (ncpu <= 0)
		return ncpu < 0 ? ncpu : -EINVAL;
	fd = kstate_open(root, MF_MAP_PLAINTEXT);
	if (fd < 0)
		return fd;
	err = kstate_keys(fd, sizeof(*keys), (void **)&keys, n);
	vals = calloc((size_t)ncpu, sizeof(*vals));
	p = calloc(*n ? *n : 1, sizeof(*p));
	if (err || !vals || !p) {
		err = err ? err : -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < *n; i++) {
		/* Evicted since the walk: not shown. */
		if (bpf_map_lookup_elem(fd, &keys[i], vals))
			continue;
		p[m].key = keys[i];
		for (int c = 0; c < ncpu; c++)
			p[m].packets += vals[c];
		m++;
	}
	qsort(p, m, sizeof(*p), kstate_plain_cmp);
	*out = p;
	p = NULL;
out:
	*n = err ? 0 : m;
	free(p);
	free(vals);
	free(keys);
	close(fd);
	return err;
}

int kstate_conn_buckets(const char *root, struct mf_conn_bucket_key **out,
			size_t *n)
{
	int fd = kstate_open(root, MF_MAP_CONN_BUCKETS), err;

	*out = NULL;
	*n = 0;
	if (fd < 0)
		return fd;
	err = kstate_keys(fd, sizeof(**out), (void **)out, n);
	close(fd);
	return err;
}

int kstate_count(const char *root, const char *name, size_t *n)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	void *keys = NULL;
	int fd = kstate_open(root, name), err;

	*n = 0;
	if (fd < 0)
		return fd;
	memset(&info, 0, sizeof(info));
	err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (!err)
		err = kstate_keys(fd, info.key_size, &keys, n);
	free(keys);
	close(fd);
	return err;
}

int kstate_percpu_sums(int fd, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;
	int err = 0;

	memset(out, 0, n * sizeof(*out));
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint32_t k = 0; k < n && !err; k++) {
		err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
		for (int c = 0; !err && c < ncpu; c++)
			out[k] += v[c];
	}
	free(v);
	return err;
}
