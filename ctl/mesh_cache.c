// SPDX-License-Identifier: Apache-2.0
/*
 * The writers' copy of the mesh: what `mfctl --store` last read of the
 * store's prefix, kept in <state-dir>/store.cache, so that the next
 * command reads only the keys written since (mstore's list_changed) and
 * takes the others from here.  At 111k objects etcd takes 1.5 s to send
 * the whole mesh as JSON and the writer 1.1 s more to read it; the keys
 * of one change come in a fraction of that.
 *
 * The copy is trusted only as far as it can be checked, and any doubt
 * reads the whole mesh instead (and writes the copy again):
 *   - it names the store and prefix it was read from, and the store's ID
 *     and raft term: another store, or one restored from a backup (its
 *     term starts again), is not a base;
 *   - its revision is at most the store's;
 *   - the store counts every key under the prefix along with the changed
 *     ones: the copy and the changes together must make exactly that
 *     many, or some key was deleted since (a range of changes does not
 *     show deletes) and the copy is set aside;
 *   - a checksum over the whole file: a torn or damaged copy is none.
 * It is a copy of the store's bytes, not of what they mean: every object
 * is parsed and checked again as if it had come from the store.
 *
 * The file, in this machine's byte order (a cache, not an exchange
 * format):
 *   header  struct mesh_cache_hdr
 *   ident   hdr.ident_len bytes: the store's endpoints and the prefix
 *   kvs     hdr.n times: struct mesh_cache_kv, the key, the value
 *   sum     XXH3-64 of everything before it
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "fsio.h"
#include "mesh.h"

#define MESH_CACHE_MAGIC	"mfcache1"

struct mesh_cache_hdr {
	char magic[8];
	uint64_t store_id;
	uint64_t store_term;
	int64_t rev;
	uint64_t n;
	uint32_t ident_len;
	uint32_t pad;
};

struct mesh_cache_kv {
	uint32_t key_len;
	uint32_t val_len;
	int64_t mod_rev;
};

/* "@where @prefix", malloc'ed into *@out. */
static int mesh_cache_ident(const struct mstore *ms, const char *prefix,
			    char **out)
{
	return asprintf(out, "%s %s", ms->where, prefix) < 0 ? -ENOMEM : 0;
}

/* A malloc'ed NUL-terminated copy of @len bytes at @p, or NULL. */
static char *mesh_cache_dup(const char *p, size_t len)
{
	char *s = malloc(len + 1);

	if (s) {
		memcpy(s, p, len);
		s[len] = '\0';
	}
	return s;
}

/* Parses the @size bytes of a cache file at @p, of store @ident, into
 * @out.  Returns 0, -EINVAL for a file that is not one (torn, damaged,
 * another store's or format's), or -ENOMEM. */
static int mesh_cache_parse(const char *p, size_t size, const char *ident,
			    struct mstore_list *out)
{
	struct mesh_cache_hdr h;
	struct mesh_cache_kv kv;
	size_t off, end;
	uint64_t sum;

	memset(out, 0, sizeof(*out));
	if (size < sizeof(h) + sizeof(sum))
		return -EINVAL;
	end = size - sizeof(sum);
	memcpy(&sum, p + end, sizeof(sum));
	if (XXH3_64bits(p, end) != sum)
		return -EINVAL;
	memcpy(&h, p, sizeof(h));
	off = sizeof(h);
	/* Each kv takes its fixed part at least: a count past that is a
	 * lie, not an allocation to try. */
	if (memcmp(h.magic, MESH_CACHE_MAGIC, sizeof(h.magic)) ||
	    h.ident_len != strlen(ident) || h.ident_len > end - off ||
	    memcmp(p + off, ident, h.ident_len) || h.rev <= 0 ||
	    h.n > (end - off) / sizeof(kv))
		return -EINVAL;
	off += h.ident_len;
	out->kvs = calloc(h.n ? h.n : 1, sizeof(*out->kvs));
	if (!out->kvs)
		return -ENOMEM;
	for (size_t i = 0; i < h.n; i++) {
		struct mstore_kv *o = &out->kvs[i];

		if (end - off < sizeof(kv))
			goto bad;
		memcpy(&kv, p + off, sizeof(kv));
		off += sizeof(kv);
		if (!kv.key_len || kv.key_len > end - off ||
		    kv.val_len > end - off - kv.key_len ||
		    memchr(p + off, '\0', kv.key_len))
			goto bad;
		o->key = mesh_cache_dup(p + off, kv.key_len);
		o->val = mesh_cache_dup(p + off + kv.key_len, kv.val_len);
		o->len = kv.val_len;
		o->mod_rev = kv.mod_rev;
		out->n++;
		if (!o->key || !o->val) {
			mstore_list_free(out);
			return -ENOMEM;
		}
		/* In key order, as the store lists them: the merge relies
		 * on it. */
		if (i && strcmp(out->kvs[i - 1].key, o->key) >= 0)
			goto bad;
		off += kv.key_len + kv.val_len;
	}
	if (off != end)
		goto bad;
	out->rev = h.rev;
	out->count = out->n;
	out->store_id = h.store_id;
	out->store_term = h.store_term;
	return 0;
bad:
	mstore_list_free(out);
	return -EINVAL;
}

int mesh_cache_read(const char *path, const char *ident,
		    struct mstore_list *out)
{
	struct stat st;
	void *p;
	int fd, err;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size) {
		close(fd);
		return -EINVAL;
	}
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return err;
	err = mesh_cache_parse(p, (size_t)st.st_size, ident, out);
	munmap(p, (size_t)st.st_size);
	return err;
}

int mesh_cache_write(const char *path, const char *ident,
		     const struct mstore_list *l)
{
	struct mesh_cache_hdr h = {
		.store_id = l->store_id, .store_term = l->store_term,
		.rev = l->rev, .n = l->n, .ident_len = (uint32_t)strlen(ident),
	};
	size_t size = sizeof(h) + h.ident_len + sizeof(uint64_t), off;
	uint64_t sum;
	char *buf;
	int err;

	for (size_t i = 0; i < l->n; i++) {
		if (strlen(l->kvs[i].key) > UINT32_MAX ||
		    l->kvs[i].len > UINT32_MAX)
			return -EFBIG;
		size += sizeof(struct mesh_cache_kv) +
			strlen(l->kvs[i].key) + l->kvs[i].len;
	}
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	memcpy(h.magic, MESH_CACHE_MAGIC, sizeof(h.magic));
	memcpy(buf, &h, sizeof(h));
	off = sizeof(h);
	memcpy(buf + off, ident, h.ident_len);
	off += h.ident_len;
	for (size_t i = 0; i < l->n; i++) {
		const struct mstore_kv *o = &l->kvs[i];
		struct mesh_cache_kv kv = {
			.key_len = (uint32_t)strlen(o->key),
			.val_len = (uint32_t)o->len, .mod_rev = o->mod_rev,
		};

		memcpy(buf + off, &kv, sizeof(kv));
		off += sizeof(kv);
		memcpy(buf + off, o->key, kv.key_len);
		off += kv.key_len;
		memcpy(buf + off, o->val, kv.val_len);
		off += kv.val_len;
	}
	sum = XXH3_64bits(buf, off);
	memcpy(buf + off, &sum, sizeof(sum));
	/* 0600: the mesh's policy is no secret, but neither is it every
	 * local user's to read. */
	err = fsio_write_atomic(path, buf, size, 0600);
	free(buf);
	return err;
}

int mesh_cache_merge(struct mstore_list *base, struct mstore_list *changed,
		     struct mstore_list *out)
{
	size_t i = 0, j = 0;

	memset(out, 0, sizeof(*out));
	if (!base->store_id || base->store_id != changed->store_id ||
	    changed->store_term < base->store_term ||
	    changed->rev < base->rev)
		return -ESTALE;
	out->kvs = calloc(base->n + changed->n + 1, sizeof(*out->kvs));
	if (!out->kvs)
		return -ENOMEM;
	/* Both in key order: one pass, every kv moved (a key in both is
	 * the changed one). */
	while (i < base->n || j < changed->n) {
		int c = i == base->n ? 1 : j == changed->n ? -1 :
			strcmp(base->kvs[i].key, changed->kvs[j].key);

		if (c < 0) {
			out->kvs[out->n++] = base->kvs[i++];
			continue;
		}
		if (!c) {
			free(base->kvs[i].key);
			free(base->kvs[i].val);
			i++;
		}
		out->kvs[out->n++] = changed->kvs[j++];
	}
	free(base->kvs);
	free(changed->kvs);
	base->kvs = changed->kvs = NULL;
	base->n = changed->n = 0;
	out->rev = changed->rev;
	out->count = changed->count;
	out->store_id = changed->store_id;
	out->store_term = changed->store_term;
	if (out->n != out->count) {
		/* A key was deleted since the base was read. */
		mstore_list_free(out);
		return -ESTALE;
	}
	return 0;
}

int mesh_list_cached(struct mstore *ms, const char *prefix, const char *path,
		     struct mstore_list *out, bool *changed_only)
{
	struct mstore_list base, changed;
	char *ident = NULL;
	size_t nchanged = 0, base_n = 0;
	int err;

	*changed_only = false;
	memset(out, 0, sizeof(*out));
	if (!path || !ms->ops->list_changed)
		return ms->ops->list(ms, prefix, out);
	err = mesh_cache_ident(ms, prefix, &ident);
	if (err)
		return err;
	if (!mesh_cache_read(path, ident, &base)) {
		err = ms->ops->list_changed(ms, prefix, base.rev, &changed);
		if (err) {
			mstore_list_free(&base);
			goto out;
		}
		nchanged = changed.n;
		base_n = base.n;
		err = mesh_cache_merge(&base, &changed, out);
		mstore_list_free(&base);
		mstore_list_free(&changed);
		if (err == -ENOMEM)
			goto out;
		*changed_only = !err;
	}
	if (!*changed_only) {
		err = ms->ops->list(ms, prefix, out);
		if (err)
			goto out;
	}
	/* For the next command; a state dir this user cannot write (or
	 * none yet: it is the node's to make) leaves it without.  A copy
	 * that few keys changed on stays as it is: the next command reads
	 * those keys again from its older revision, and more since, which
	 * costs less than writing the whole mesh again (28 MiB at 111k
	 * objects, a tenth of a one-Service apply). */
	if (!*changed_only || nchanged > MESH_CACHE_STALE_MAX(base_n))
		mesh_cache_write(path, ident, out);
	err = 0;
out:
	free(ident);
	return err;
}
