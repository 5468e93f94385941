// SPDX-License-Identifier: Apache-2.0
/*
 * The agent's kernel check (agent/kreq.h): releases as distributions spell
 * them; a missing need refuses the kernel with a message that names it, the
 * release it came in and the lowest kernel meshforge supports; a kernel
 * older than that which has every need is used, with a warning; a probe
 * that cannot tell refuses nothing.  Then the real probes on the running
 * kernel: at or above the stated minimum, as root, every one must pass
 * (`make kernel-matrix` runs this on Debian 12's 6.1).
 */
#include <errno.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness/test.h"
#include "../../agent/kreq.h"

static int probe_yes(void)
{
	return 1;
}

static int probe_no(void)
{
	return 0;
}

static int probe_eperm(void)
{
	return -EPERM;
}

/* kreq_run() of @needs on @release, its stderr into @err (NUL-ended, cut
 * to @size), its result into *@ret.  False when stderr cannot be caught
 * (an assertion). */
static bool run_caught(const struct kreq_need *needs, size_t n,
		       const char *release, struct kreq_report *r, int *ret,
		       char *err, size_t size)
{
	FILE *f = tmpfile();
	size_t got;
	int saved;

	if (!ASSERT_TRUE(f != NULL))
		return false;
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	if (!ASSERT_GE(saved, 0) ||
	    !ASSERT_GE(dup2(fileno(f), STDERR_FILENO), 0)) {
		fclose(f);
		return false;
	}
	*ret = kreq_run(needs, n, release, r);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(f);
	got = fread(err, 1, size - 1, f);
	err[got] = '\0';
	fclose(f);
	/* Shown in the test's own log too. */
	fputs(err, stderr);
	return true;
}

static bool test_release_parse(void)
{
	static const struct {
		const char *release;
		int ret;
		unsigned int major, minor;
	} c[] = {
		{ "6.1.0-57-amd64", 0, 6, 1 },		/* Debian 12 */
		{ "5.15.0-91-generic", 0, 5, 15 },	/* Ubuntu 22.04 */
		{ "5.14.0-362.8.1.el9_3.x86_64", 0, 5, 14 },	/* RHEL 9 */
		{ "6.18.44-fc-v1272", 0, 6, 18 },
		{ "6.10", 0, 6, 10 },
		{ "6", -EINVAL, 0, 0 },
		{ "linux", -EINVAL, 0, 0 },
		{ "", -EINVAL, 0, 0 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		unsigned int major = 0, minor = 0;

		if (!ASSERT_EQ(kreq_release_parse(c[i].release, &major,
						  &minor), c[i].ret)) {
			fprintf(stderr, "  (%s)\n", c[i].release);
			return false;
		}
		if (c[i].ret)
			continue;
		if (!ASSERT_EQ(major, c[i].major) ||
		    !ASSERT_EQ(minor, c[i].minor))
			return false;
	}
	return true;
}

/* Ubuntu 22.04's first kernel has the BPF the agent needs, not its
 * io_uring. */
static bool test_missing_need_refuses(void)
{
	const struct kreq_need needs[] = {
		{ "BPF ring buffer maps", "5.8", probe_yes },
		{ "io_uring provided buffer rings and multishot accept", "5.19",
		  probe_no },
	};
	struct kreq_report r;
	char err[2048];
	int ret;

	return run_caught(needs, 2, "5.15.0-91-generic", &r, &ret, err,
			  sizeof(err)) &&
	       ASSERT_EQ(ret, -ENOTSUP) && ASSERT_EQ(r.missing, 1) &&
	       ASSERT_EQ(r.unknown, 0) && ASSERT_TRUE(r.old) &&
	       ASSERT_TRUE(strstr(err, "level=error event=kernel_lacks "
				  "release=5.15.0-91-generic since=5.19 "
				  "msg=\"this kernel lacks io_uring provided "
				  "buffer rings and multishot accept (Linux "
				  "5.19)\"") != NULL) &&
	       ASSERT_TRUE(strstr(err, "level=error event=kernel_unsupported "
				  "release=5.15.0-91-generic missing=1 "
				  "msg=\"meshforge needs Linux 6.1 or newer\"")
			   != NULL) &&
	       ASSERT_TRUE(strstr(err, "ring buffer") == NULL);
}

/* A distribution kernel that carries what a later release added (RHEL 9
 * backports BPF) passes, and is told it was never tried. */
static bool test_old_kernel_with_every_need(void)
{
	const struct kreq_need needs[] = {
		{ "BPF ring buffer maps", "5.8", probe_yes },
		{ "io_uring provided buffer rings and multishot accept", "5.19",
		  probe_yes },
	};
	struct kreq_report r;
	char err[1024];
	int ret;

	return run_caught(needs, 2, "5.14.0-362.8.1.el9_3.x86_64", &r, &ret,
			  err, sizeof(err)) &&
	       ASSERT_EQ(ret, 0) && ASSERT_EQ(r.missing, 0) &&
	       ASSERT_TRUE(r.old) &&
	       ASSERT_TRUE(strstr(err, "level=warn event=kernel_untested "
				  "release=5.14.0-362.8.1.el9_3.x86_64") != NULL);
}

/* A probe that cannot tell (no privilege) is a warning, not a refusal;
 * a release that does not parse counts as old. */
static bool test_unknown_refuses_nothing(void)
{
	const struct kreq_need needs[] = {
		{ "BPF XDP programs", "4.8", probe_eperm },
		{ "io_uring", "5.1", probe_yes },
	};
	struct kreq_report r;
	char err[1024];
	int ret;

	return run_caught(needs, 2, "6.1.0-57-amd64", &r, &ret, err,
			  sizeof(err)) &&
	       ASSERT_EQ(ret, 0) && ASSERT_EQ(r.unknown, 1) &&
	       ASSERT_FALSE(r.old) &&
	       ASSERT_TRUE(strstr(err, "level=warn event=kernel_probe_failed "
				  "release=6.1.0-57-amd64 feature=\"BPF XDP "
				  "programs\" err=\"Operation not permitted\"")
			   != NULL) &&
	       ASSERT_TRUE(strstr(err, "event=kernel_ok") != NULL) &&
	       run_caught(needs, 2, "custom", &r, &ret, err, sizeof(err)) &&
	       ASSERT_EQ(ret, 0) && ASSERT_TRUE(r.old);
}

/* The real probes: nothing missing nor unknown on a kernel at or above
 * the stated minimum. */
static bool test_this_kernel(void)
{
	unsigned int major, minor;
	struct kreq_report r;
	struct utsname u;

	if (geteuid() != 0)
		TEST_SKIP("needs root for bpf()");
	if (!ASSERT_EQ(uname(&u), 0))
		return false;
	if (kreq_release_parse(u.release, &major, &minor) ||
	    major < KREQ_MIN_MAJOR ||
	    (major == KREQ_MIN_MAJOR && minor < KREQ_MIN_MINOR))
		TEST_SKIP("the kernel is older than meshforge's minimum");
	return ASSERT_EQ(kreq_check(&r), 0) && ASSERT_EQ(r.missing, 0) &&
	       ASSERT_EQ(r.unknown, 0) && ASSERT_FALSE(r.old) &&
	       ASSERT_STREQ(r.release, u.release);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_release_parse);
	TEST_RUN(test_missing_need_refuses);
	TEST_RUN(test_old_kernel_with_every_need);
	TEST_RUN(test_unknown_refuses_nothing);
	TEST_RUN(test_this_kernel);
	TEST_MAIN_END();
}
