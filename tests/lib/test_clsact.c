// SPDX-License-Identifier: Apache-2.0
/*
 * lib/clsact.c: the records of the clsact qdiscs the agent made, in a
 * temporary run dir.  Listing sees this namespace's records only, skips
 * what is not a record, and forgetting the last one removes the record
 * directory.
 */
#include <inttypes.h>
#include <limits.h>
#include <unistd.h>

#include "harness/test.h"
#include "clsact.h"
#include "fsio.h"

static char run_dir[64];

static bool test_netns_cookie(void)
{
	uint64_t a = 0, b = 0;

	return ASSERT_EQ(clsact_netns(&a), 0) &&
	       ASSERT_EQ(clsact_netns(&b), 0) &&
	       ASSERT_TRUE(a != 0) && ASSERT_TRUE(a == b);
}

/* Writes @name under the record directory with @text. */
static bool put_file(const char *name, const char *text)
{
	char path[PATH_MAX];

	return ASSERT_EQ(fsio_pathf(path, sizeof(path), "%s/" CLSACT_DIR "/%s",
				    run_dir, name), 0) &&
	       ASSERT_EQ(fsio_write_atomic(path, text, strlen(text), 0644), 0);
}

static bool test_remember_list_forget(void)
{
	char dir[PATH_MAX], other[64];
	struct clsact_rec *recs = NULL;
	uint64_t netns;
	size_t n = 0;
	bool ok;

	snprintf(dir, sizeof(dir), "%s/" CLSACT_DIR, run_dir);
	ok = ASSERT_EQ(clsact_netns(&netns), 0) &&
	     ASSERT_EQ(clsact_list(run_dir, netns, &recs, &n), 0) &&
	     ASSERT_EQ(n, 0) &&
	     ASSERT_EQ(clsact_remember(run_dir, 7, "mfveth7"), 0) &&
	     ASSERT_EQ(clsact_remember(run_dir, 12, "mfveth12"), 0);
	/* Another namespace's record, and files that are none. */
	snprintf(other, sizeof(other), "%016" PRIx64 "-7", netns + 1);
	ok = ok && put_file(other, "mfelse\n") &&
	     put_file("0000000000000001-x", "no\n") &&
	     put_file("notes", "no\n");
	ok = ok && ASSERT_EQ(clsact_list(run_dir, netns, &recs, &n), 0) &&
	     ASSERT_EQ(n, 2);
	for (size_t i = 0; ok && i < n; i++) {
		ok = ASSERT_TRUE(recs[i].netns == netns) &&
		     ASSERT_TRUE(recs[i].ifindex == 7 ||
				 recs[i].ifindex == 12);
		if (ok && recs[i].ifindex == 7)
			ok = ASSERT_STREQ(recs[i].ifname, "mfveth7");
	}
	for (size_t i = 0; ok && i < n; i++)
		ok = ASSERT_EQ(clsact_forget(run_dir, &recs[i]), 0);
	free(recs);
	recs = NULL;
	ok = ok && ASSERT_EQ(clsact_list(run_dir, netns, &recs, &n), 0) &&
	     ASSERT_EQ(n, 0) && ASSERT_TRUE(fsio_exists(dir));
	free(recs);
	return ok;
}

/* The last record gone, so is the directory; forgetting twice is no
 * error.  A run dir of its own, which remembering creates. */
static bool test_forget_removes_dir(void)
{
	char run2[128], dir[PATH_MAX];
	struct clsact_rec r = { .ifindex = 3 };

	snprintf(run2, sizeof(run2), "%s/second", run_dir);
	snprintf(dir, sizeof(dir), "%s/" CLSACT_DIR, run2);
	return ASSERT_EQ(clsact_netns(&r.netns), 0) &&
	       ASSERT_EQ(clsact_remember(run2, 3, "mfveth3"), 0) &&
	       ASSERT_TRUE(fsio_exists(dir)) &&
	       ASSERT_EQ(clsact_forget(run2, &r), 0) &&
	       ASSERT_FALSE(fsio_exists(dir)) &&
	       ASSERT_EQ(clsact_forget(run2, &r), 0);
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", run_dir);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	snprintf(run_dir, sizeof(run_dir), "/tmp/mf-test-clsact.XXXXXX");
	if (!mkdtemp(run_dir)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	TEST_RUN(test_netns_cookie);
	TEST_RUN(test_remember_list_forget);
	TEST_RUN(test_forget_removes_dir);
	TEST_MAIN_END();
}
