// SPDX-License-Identifier: Apache-2.0
/*
 * What `mfctl sync` knows of the store, brought up to a watch's answer
 * (sync_kv_merge(), static: the file is included): new keys put in key
 * order, changed values replaced, deletes removed, a key put and deleted
 * in one answer gone, a delete of a key never seen ignored, the last of
 * several puts of one key kept, its key and value moved out of the
 * answer and the rest left there for the watch to free; and a whole
 * mesh's worth of events (20,000 keys in reverse order) merged in one
 * answer, which a search per event made quadratic.  The store itself is tests/integration/
 * test_store_etcd.sh's and test_store_scale.sh's.
 */
#include "../../ctl/sync.c"

#include "harness/test.h"

/* An event as a watch gives it: key and value its own. */
static struct mstore_kv ev(const char *key, const char *val, int64_t rev)
{
	return (struct mstore_kv){ .key = strdup(key),
				   .val = val ? strdup(val) : NULL,
				   .len = val ? strlen(val) : 0,
				   .mod_rev = rev };
}

/* What a watch frees of an answer's events after its callback. */
static void evs_free(struct mstore_kv *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(evs[i].key);
		free(evs[i].val);
	}
}

/* The known keys and values, "k=v k=v", into @buf. */
static const char *known(const struct sync *s, char *buf, size_t n)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < s->kv.n && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s=%s",
					i ? " " : "", s->kv.kvs[i].key,
					s->kv.kvs[i].val);
	return buf;
}

static bool test_merge_answers(void)
{
	struct sync s = { 0 };
	char buf[256];
	bool ok;
	struct mstore_kv a1[] = {
		ev("/m/policy/Service/b", "b1", 2),
		ev("/m/policy/Service/a", "a1", 2),
		ev("/m/policy/Service/c", "c1", 2),
	};
	struct mstore_kv a2[] = {
		ev("/m/policy/Service/b", NULL, 3),	/* deleted */
		ev("/m/policy/Service/d", "d1", 3),	/* new */
		ev("/m/policy/Service/a", "a2", 3),	/* changed */
		ev("/m/policy/Service/e", "e1", 4),	/* put, then */
		ev("/m/policy/Service/e", NULL, 5),	/* deleted */
		ev("/m/policy/Service/x", NULL, 5),	/* never seen */
		ev("/m/policy/Service/c", "c2", 5),	/* put twice: */
		ev("/m/policy/Service/c", "c3", 6),	/* the last wins */
	};

	ok = ASSERT_EQ(sync_kv_merge(&s, a1, 3), 0) &&
	     ASSERT_STREQ(known(&s, buf, sizeof(buf)),
			  "/m/policy/Service/a=a1 /m/policy/Service/b=b1 "
			  "/m/policy/Service/c=c1") &&
	     ASSERT_TRUE(!a1[0].key && !a1[0].val) &&
	     ASSERT_EQ(sync_kv_merge(&s, a2, 8), 0) &&
	     ASSERT_STREQ(known(&s, buf, sizeof(buf)),
			  "/m/policy/Service/a=a2 /m/policy/Service/c=c3 "
			  "/m/policy/Service/d=d1") &&
	     ASSERT_EQ(s.kv.kvs[1].mod_rev, 6) &&
	     ASSERT_EQ(s.kv.kvs[1].len, 2) &&
	     /* The put kept is moved; the one it overrode and the deletes
	      * stay in the answer. */
	     ASSERT_TRUE(!a2[7].key && !a2[7].val) &&
	     ASSERT_STREQ(a2[6].val, "c2") &&
	     ASSERT_STREQ(a2[0].key, "/m/policy/Service/b") &&
	     ASSERT_EQ(sync_kv_merge(&s, NULL, 0), 0) && ASSERT_EQ(s.kv.n, 3);
	evs_free(a1, 3);
	evs_free(a2, 8);
	mstore_list_free(&s.kv);
	return ok;
}

static bool test_merge_whole_mesh(void)
{
	enum { N = 20000 };
	struct mstore_kv *evs = calloc(N, sizeof(*evs));
	char (*keys)[48] = calloc(N, sizeof(*keys));
	struct sync s = { 0 };
	bool ok = ASSERT_TRUE(evs && keys);
	size_t sorted = 1;

	for (size_t i = 0; ok && i < N; i++) {
		snprintf(keys[i], sizeof(keys[i]), "/m/policy/Workload/w%05zu",
			 N - 1 - i);
		evs[i] = ev(keys[i], "v", 2);
	}
	ok = ok && ASSERT_EQ(sync_kv_merge(&s, evs, N), 0) &&
	     ASSERT_EQ(s.kv.n, N);
	for (size_t i = 1; ok && i < s.kv.n; i++)
		sorted += strcmp(s.kv.kvs[i - 1].key, s.kv.kvs[i].key) < 0;
	ok = ok && ASSERT_EQ(sorted, N) &&
	     ASSERT_STREQ(s.kv.kvs[0].key, "/m/policy/Workload/w00000");
	/* Every other one deleted in a second answer, the rest put again. */
	evs_free(evs, N);
	for (size_t i = 0; ok && i < N; i++)
		evs[i] = ev(keys[i], i % 2 ? NULL : "v2", 3);
	ok = ok && ASSERT_EQ(sync_kv_merge(&s, evs, N), 0) &&
	     ASSERT_EQ(s.kv.n, N / 2);
	evs_free(evs, N);
	mstore_list_free(&s.kv);
	free(keys);
	free(evs);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_merge_answers);
	TEST_RUN(test_merge_whole_mesh);
	TEST_MAIN_END();
}
