/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal test harness for C tests.  A test program runs cases with
 * TEST_RUN(fn); each case returns true on success.  Assertions print the
 * failing expression and values and return false from the case, so a case
 * stops at its first failure:
 *
 *	static bool test_thing(void)
 *	{
 *		if (!ASSERT_EQ(f(1), 2))
 *			return false;
 *		return true;
 *	}
 *
 * Output, one line per case, read by tests/run.sh:
 *	PASS: <program>/<case>
 *	FAIL: <program>/<case>
 *	SKIP: <program>/<case>: <reason>
 * A case skips with TEST_SKIP("reason") when the machine lacks a feature.
 * TEST_MAIN_END returns 1 when any case failed.
 */
#ifndef MF_TEST_H
#define MF_TEST_H

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *test_prog_name = "test";
static int test_failed_count;
static const char *test_skip_reason;

/* 1 in a build with AddressSanitizer (GCC says so with
 * __SANITIZE_ADDRESS__, clang with __has_feature()), whose allocator pads
 * every block and keeps freed ones in quarantine: a case that measures the
 * heap or resident size skips under it. */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

#define TEST_SKIP(reason)                                                     \
	do {                                                                  \
		test_skip_reason = (reason);                                  \
		return true;                                                  \
	} while (0)

#define TEST_RUN(fn)                                                          \
	do {                                                                  \
		test_skip_reason = NULL;                                      \
		bool ok_ = fn();                                              \
		if (!ok_) {                                                   \
			test_failed_count++;                                  \
			printf("FAIL: %s/%s\n", test_prog_name, #fn);         \
		} else if (test_skip_reason) {                                \
			printf("SKIP: %s/%s: %s\n", test_prog_name, #fn,      \
			       test_skip_reason);                             \
		} else {                                                      \
			printf("PASS: %s/%s\n", test_prog_name, #fn);         \
		}                                                             \
		fflush(stdout);                                               \
	} while (0)

/* TEST_NAME is the program's path under tests/ ("agent/test_conn"), which
 * the Makefile passes, so a case's name says which file to open. */
#ifndef TEST_NAME
#define TEST_NAME "test"
#endif
#define TEST_MAIN_BEGIN() test_prog_name = TEST_NAME
#define TEST_MAIN_END() return test_failed_count ? 1 : 0

#define ASSERT_TRUE(cond)                                                     \
	({                                                                    \
		bool c_ = (cond);                                             \
		if (!c_)                                                      \
			fprintf(stderr, "%s:%d: ASSERT_TRUE(%s) failed\n",    \
				__FILE__, __LINE__, #cond);                   \
		c_;                                                           \
	})

#define ASSERT_FALSE(cond) ASSERT_TRUE(!(cond))

#define ASSERT_EQ(a, b)                                                       \
	({                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		bool c_ = a_ == b_;                                           \
		if (!c_)                                                      \
			fprintf(stderr,                                       \
				"%s:%d: ASSERT_EQ(%s, %s) failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);          \
		c_;                                                           \
	})

#define ASSERT_NE(a, b)                                                       \
	({                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		bool c_ = a_ != b_;                                           \
		if (!c_)                                                      \
			fprintf(stderr,                                       \
				"%s:%d: ASSERT_NE(%s, %s) failed: both %lld\n", \
				__FILE__, __LINE__, #a, #b, a_);              \
		c_;                                                           \
	})

#define ASSERT_GE(a, b)                                                       \
	({                                                                    \
		long long a_ = (long long)(a), b_ = (long long)(b);           \
		bool c_ = a_ >= b_;                                           \
		if (!c_)                                                      \
			fprintf(stderr,                                       \
				"%s:%d: ASSERT_GE(%s, %s) failed: %lld < %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);          \
		c_;                                                           \
	})

#define ASSERT_STREQ(a, b)                                                    \
	({                                                                    \
		const char *a_ = (a), *b_ = (b);                              \
		bool c_ = a_ && b_ && strcmp(a_, b_) == 0;                    \
		if (!c_)                                                      \
			fprintf(stderr,                                       \
				"%s:%d: ASSERT_STREQ(%s, %s) failed: \"%s\" != \"%s\"\n", \
				__FILE__, __LINE__, #a, #b,                   \
				a_ ? a_ : "(null)", b_ ? b_ : "(null)");      \
		c_;                                                           \
	})

/* Empty ranges compare equal whatever their pointers (memcmp() wants
 * valid ones even for 0 bytes). */
#define ASSERT_MEMEQ(a, b, n)                                                 \
	({                                                                    \
		size_t n_ = (n);                                              \
		bool c_ = !n_ || memcmp((a), (b), n_) == 0;                   \
		if (!c_)                                                      \
			fprintf(stderr, "%s:%d: ASSERT_MEMEQ(%s, %s, %s) failed\n", \
				__FILE__, __LINE__, #a, #b, #n);              \
		c_;                                                           \
	})

/* The @n bytes at @p are all zero: memory that was to be wiped. */
#define ASSERT_ZEROED(p, n)                                                   \
	({                                                                    \
		const uint8_t *p_ = (const uint8_t *)(p);                     \
		size_t n_ = (n), i_ = 0;                                      \
		while (i_ < n_ && p_[i_] == 0)                                \
			i_++;                                                 \
		if (i_ < n_)                                                  \
			fprintf(stderr,                                       \
				"%s:%d: ASSERT_ZEROED(%s, %s) failed: byte %zu is %u\n", \
				__FILE__, __LINE__, #p, #n, i_, p_[i_]);      \
		i_ == n_;                                                     \
	})

#endif /* MF_TEST_H */
