// SPDX-License-Identifier: Apache-2.0
/*
 * The writers' copy of the mesh (ctl/mesh_cache.c) over a store in this
 * file that counts its reads: a first read lists the whole prefix and
 * keeps the copy; the next reads only the keys written since, and what it
 * returns is the store's list as a whole list would give it; a delete
 * since the copy (one alone, or one that a create balances), another
 * store, a store restored from a backup (its raft term or its revision
 * lower), a damaged, truncated or other store's file each read the whole
 * prefix again, with the right answer; a copy is written again only once
 * the keys changed on it are many; and a copy that cannot be written
 * costs nothing but the speed.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/test.h"
#include "../../ctl/mesh.h"
#include "../../ctl/mstore.h"

#define FAKE_MAX 64

/* A store of a few keys, in key order, with revisions. */
struct fake {
	struct mstore s;
	struct mstore_kv kvs[FAKE_MAX];	/* keys and values: literals */
	size_t n;
	int64_t rev;
	uint64_t id, term;
	int lists, changed;		/* the reads of each kind */
	size_t changed_keys;		/* keys the last list_changed gave */
};

static int fake_read(struct fake *f, int64_t after, struct mstore_list *out)
{
	memset(out, 0, sizeof(*out));
	out->kvs = calloc(FAKE_MAX, sizeof(*out->kvs));
	if (!out->kvs)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++) {
		struct mstore_kv *o = &out->kvs[out->n];

		if (f->kvs[i].mod_rev <= after)
			continue;
		o->key = strdup(f->kvs[i].key);
		o->val = strdup(f->kvs[i].val);
		o->len = f->kvs[i].len;
		o->mod_rev = f->kvs[i].mod_rev;
		out->n++;
	}
	out->rev = f->rev;
	out->count = f->n;
	out->store_id = f->id;
	out->store_term = f->term;
	return 0;
}

static int fake_list(struct mstore *s, const char *prefix,
		     struct mstore_list *out)
{
	struct fake *f = (struct fake *)s;

	(void)prefix;
	f->lists++;
	return fake_read(f, 0, out);
}

static int fake_list_changed(struct mstore *s, const char *prefix,
			     int64_t after, struct mstore_list *out)
{
	struct fake *f = (struct fake *)s;
	int err;

	(void)prefix;
	f->changed++;
	err = fake_read(f, after, out);
	f->changed_keys = out->n;
	return err;
}

static const struct mstore_ops fake_ops = {
	.list = fake_list,
	.list_changed = fake_list_changed,
};

static void fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	f->s.ops = &fake_ops;
	f->s.where = "fake:1";
	f->s.prefix = "/m";
	f->id = 7;
	f->term = 2;
}

/* Puts @key = @val (literals) at the next revision. */
static void fake_put(struct fake *f, const char *key, const char *val)
{
	size_t i = 0;

	while (i < f->n && strcmp(f->kvs[i].key, key) < 0)
		i++;
	if (i == f->n || strcmp(f->kvs[i].key, key)) {
		memmove(&f->kvs[i + 1], &f->kvs[i],
			(f->n - i) * sizeof(f->kvs[0]));
		f->n++;
	}
	f->kvs[i] = (struct mstore_kv){ (char *)key, (char *)val, strlen(val),
					++f->rev };
}

static void fake_del(struct fake *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->kvs[i].key, key)) {
			memmove(&f->kvs[i], &f->kvs[i + 1],
				(f->n - i - 1) * sizeof(f->kvs[0]));
			f->n--;
			f->rev++;
			return;
		}
}

/* @l is the store's whole list at its revision. */
static bool same_as_store(const struct fake *f, const struct mstore_list *l)
{
	bool ok = ASSERT_EQ(l->n, f->n) && ASSERT_EQ(l->rev, f->rev) &&
		  ASSERT_EQ(l->count, f->n);

	for (size_t i = 0; ok && i < f->n; i++)
		ok = ASSERT_STREQ(l->kvs[i].key, f->kvs[i].key) &&
		     ASSERT_STREQ(l->kvs[i].val, f->kvs[i].val) &&
		     ASSERT_EQ(l->kvs[i].len, f->kvs[i].len) &&
		     ASSERT_EQ(l->kvs[i].mod_rev, f->kvs[i].mod_rev);
	return ok;
}

/* One read through the copy at @path: right, and by a whole list
 * (@whole) or by the changes only. */
static bool read_ok(struct fake *f, const char *path, bool whole)
{
	int lists = f->lists, changed = f->changed;
	struct mstore_list l;
	bool only = !whole;
	bool ok = ASSERT_EQ(mesh_list_cached(&f->s, "/m/", path, &l, &only),
			    0) &&
		  ASSERT_EQ(only, !whole) && same_as_store(f, &l) &&
		  ASSERT_EQ(f->lists, lists + whole);

	/* A whole list comes after a look at the changes when there was
	 * a copy; never the other way round. */
	if (ok && !whole)
		ok = ASSERT_EQ(f->changed, changed + 1);
	mstore_list_free(&l);
	return ok;
}

static char dir[] = "/tmp/mf-test-cache.XXXXXX";
static char path[256];

static void fill(struct fake *f)
{
	fake_init(f);
	fake_put(f, "/m/policy", "3 objects");
	fake_put(f, "/m/policy/Service/a", "a: 1\n");
	fake_put(f, "/m/policy/Service/b", "b: 1\n");
	fake_put(f, "/m/policy/Service/c", "c: 1\n");
	unlink(path);
}

static bool test_cache_reads_changes_only(void)
{
	struct fake f;
	bool ok;

	fill(&f);
	ok = read_ok(&f, path, true) && ASSERT_EQ(access(path, R_OK), 0) &&
	     /* nothing changed: none read, the copy as it is */
	     read_ok(&f, path, false);
	fake_put(&f, "/m/policy/Service/b", "b: 2\n");
	fake_put(&f, "/m/policy/Service/bb", "bb: 1\n");	/* new */
	fake_put(&f, "/m/policy", "4 objects");
	ok = ok && read_ok(&f, path, false);
	fake_put(&f, "/m/policy/Service/a", "a: 2\n");
	return ok && read_ok(&f, path, false);
}

/* The copy's inode and size: a copy written again (atomically, a file
 * of its own) has another inode. */
static bool copy_stat(struct stat *st)
{
	return ASSERT_EQ(stat(path, st), 0);
}

/* A copy that few keys changed on is not written again: the next read
 * gets those keys again, and its answer is still the store's; once they
 * are more than MESH_CACHE_STALE_MAX(), the copy is written at the
 * store's revision, and the next read gets nothing. */
static bool test_cache_rewritten_when_stale(void)
{
	static char keys[40][32];
	struct stat a, b;
	struct fake f;
	size_t base;
	unsigned i = 0;
	bool ok;

	fill(&f);
	base = f.n;
	ok = ASSERT_TRUE(MESH_CACHE_STALE_MAX(base) + 1 < 40) &&
	     read_ok(&f, path, true) && copy_stat(&a);
	/* Changes up to the bound: the same copy. */
	for (; ok && i < MESH_CACHE_STALE_MAX(base); i++) {
		snprintf(keys[i], sizeof(keys[i]), "/m/policy/Service/k%02u", i);
		fake_put(&f, keys[i], "k: 1\n");
		ok = read_ok(&f, path, false) &&
		     ASSERT_EQ(f.changed_keys, i + 1) && copy_stat(&b) &&
		     ASSERT_EQ(b.st_ino, a.st_ino) &&
		     ASSERT_EQ(b.st_size, a.st_size);
	}
	/* One more: written again, with every key. */
	if (ok) {
		snprintf(keys[i], sizeof(keys[i]), "/m/policy/Service/k%02u",
			 i);
		fake_put(&f, keys[i], "k: 1\n");
	}
	ok = ok && read_ok(&f, path, false) &&
	     copy_stat(&b) && ASSERT_TRUE(b.st_ino != a.st_ino) &&
	     ASSERT_TRUE(b.st_size > a.st_size);
	/* The new copy is at the store's revision: the next read gets no
	 * key. */
	ok = ok && read_ok(&f, path, false) && ASSERT_EQ(f.changed_keys, 0);
	return ok;
}

static bool test_cache_delete_lists_again(void)
{
	struct fake f;
	bool ok;

	fill(&f);
	ok = read_ok(&f, path, true);
	fake_del(&f, "/m/policy/Service/b");
	ok = ok && read_ok(&f, path, true) && read_ok(&f, path, false);
	/* A delete that a create balances: the count alone would not
	 * tell, the merge and the count together do. */
	fake_del(&f, "/m/policy/Service/a");
	fake_put(&f, "/m/policy/Service/z", "z: 1\n");
	return ok && read_ok(&f, path, true);
}

static bool test_cache_other_store(void)
{
	struct fake f;
	bool ok;

	fill(&f);
	ok = read_ok(&f, path, true);
	f.id = 8;			/* another cluster at that address */
	ok = ok && read_ok(&f, path, true) && read_ok(&f, path, false);
	f.term = 1;			/* restored from a backup */
	fake_put(&f, "/m/policy/Service/a", "a: 3\n");
	ok = ok && read_ok(&f, path, true);
	/* Restored to an older revision, its term as high. */
	f.term = 5;
	f.rev -= 2;
	ok = ok && read_ok(&f, path, true);
	/* Another prefix (or endpoints) at the same path. */
	f.s.where = "fake:2";
	return ok && read_ok(&f, path, true) && read_ok(&f, path, false);
}

/* The copy's bytes, changed by @fn, then read: the whole list. */
static bool damaged(void (*fn)(char *p, size_t *len))
{
	struct fake f;
	char *p = NULL;
	size_t len = 0;
	FILE *in;
	bool ok;

	fill(&f);
	ok = read_ok(&f, path, true);
	in = fopen(path, "r");
	ok = ok && ASSERT_TRUE(in != NULL);
	if (ok) {
		p = malloc(1 << 16);
		len = p ? fread(p, 1, 1 << 16, in) : 0;
		ok = ASSERT_TRUE(len > 64);
	}
	if (in)
		fclose(in);
	if (ok) {
		fn(p, &len);
		in = fopen(path, "w");
		ok = ASSERT_TRUE(in != NULL) &&
		     ASSERT_EQ(fwrite(p, 1, len, in), len);
		if (in)
			fclose(in);
	}
	free(p);
	return ok && read_ok(&f, path, true) && read_ok(&f, path, false);
}

static void flip_value(char *p, size_t *len)
{
	/* A value's byte, near the end, before the checksum. */
	p[*len - 10] ^= 1;
}

static void truncate_half(char *p, size_t *len)
{
	(void)p;
	*len /= 2;
}

static void empty(char *p, size_t *len)
{
	(void)p;
	*len = 0;
}

static bool test_cache_damaged(void)
{
	return damaged(flip_value) && damaged(truncate_half) &&
	       damaged(empty);
}

/* No state dir: every read a whole list, none fails for it. */
static bool test_cache_unwritable(void)
{
	char none[300];
	struct fake f;

	fill(&f);
	snprintf(none, sizeof(none), "%s/missing/%s", dir, MESH_CACHE_FILE);
	return read_ok(&f, none, true) && read_ok(&f, none, true) &&
	       read_ok(&f, NULL, true);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, MESH_CACHE_FILE);
	TEST_RUN(test_cache_reads_changes_only);
	TEST_RUN(test_cache_rewritten_when_stale);
	TEST_RUN(test_cache_delete_lists_again);
	TEST_RUN(test_cache_other_store);
	TEST_RUN(test_cache_damaged);
	TEST_RUN(test_cache_unwritable);
	unlink(path);
	rmdir(dir);
	TEST_MAIN_END();
}
