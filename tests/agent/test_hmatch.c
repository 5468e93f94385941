// SPDX-License-Identifier: Apache-2.0
/*
 * The request parts routes match and rewrite (agent/hmatch.c): paths by
 * whole segments, values, query parameters, path rewrites with the query
 * kept, redirect Locations, a route's method, and host names against listener and route
 * hostnames with wildcards, most specific first.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness/test.h"
#include "../../agent/hmatch.h"
#include "meshforge/abi.h"

static struct hmatch_want want(enum hmatch_type t, const char *s)
{
	struct hmatch_want w = { .type = t, .s = s, .len = strlen(s) };

	return w;
}

static bool path_is(enum hmatch_type t, const char *pat, const char *path)
{
	struct hmatch_want w = want(t, pat);

	return hmatch_path(&w, path, hmatch_path_len(path, strlen(path)));
}

static bool test_paths(void)
{
	return ASSERT_TRUE(path_is(HMATCH_PREFIX, "/myapi", "/myapi")) &&
	       ASSERT_TRUE(path_is(HMATCH_PREFIX, "/myapi", "/myapi/v1?x=1")) &&
	       ASSERT_FALSE(path_is(HMATCH_PREFIX, "/myapi", "/myapix")) &&
	       ASSERT_TRUE(path_is(HMATCH_PREFIX, "/myapi/", "/myapi/v1")) &&
	       ASSERT_TRUE(path_is(HMATCH_PREFIX, "/", "/anything")) &&
	       ASSERT_TRUE(path_is(HMATCH_EXACT, "/a", "/a?q")) &&
	       ASSERT_FALSE(path_is(HMATCH_EXACT, "/a", "/a/")) &&
	       /* A regex that did not compile matches nothing. */
	       ASSERT_FALSE(path_is(HMATCH_REGEX, "/a", "/a"));
}

static bool test_values_and_query(void)
{
	struct hmatch_want ex = want(HMATCH_EXACT, "on");
	struct hmatch_want pre = want(HMATCH_PREFIX, "o");
	struct hmatch_want abs = want(HMATCH_ABSENT, "");
	struct hmatch_want pres = want(HMATCH_PRESENT, "");
	const char *t = "/p?a=1&bb=2&c&a=3";
	const char *v;
	size_t n = 0;
	bool ok;

	ok = ASSERT_TRUE(hmatch_value(&ex, "on", 2)) &&
	     ASSERT_FALSE(hmatch_value(&ex, "onn", 3)) &&
	     ASSERT_FALSE(hmatch_value(&ex, NULL, 0)) &&
	     ASSERT_TRUE(hmatch_value(&pre, "off", 3)) &&
	     ASSERT_TRUE(hmatch_value(&abs, NULL, 0)) &&
	     ASSERT_FALSE(hmatch_value(&abs, "", 0)) &&
	     ASSERT_TRUE(hmatch_value(&pres, "", 0));
	v = hmatch_query(t, strlen(t), "a", &n);
	ok = ok && ASSERT_TRUE(v && n == 1 && v[0] == '1');
	v = hmatch_query(t, strlen(t), "bb", &n);
	ok = ok && ASSERT_TRUE(v && n == 1 && v[0] == '2');
	v = hmatch_query(t, strlen(t), "c", &n);
	ok = ok && ASSERT_TRUE(v && n == 0);
	ok = ok && ASSERT_TRUE(!hmatch_query(t, strlen(t), "b", &n)) &&
	     ASSERT_TRUE(!hmatch_query("/p", 2, "a", &n));
	return ok;
}

static bool rewrite_is(const char *t, size_t plen, const char *with,
		       const char *expect)
{
	char *out = hmatch_rewrite_target(t, strlen(t), plen, with,
					  strlen(with));
	bool ok = ASSERT_TRUE(out != NULL) && ASSERT_STREQ(out, expect);

	free(out);
	return ok;
}

static bool test_rewrite(void)
{
	return rewrite_is("/myapi/users?id=7", 6, "/v2", "/v2/users?id=7") &&
	       rewrite_is("/myapi/users", 6, "/", "/users") &&
	       rewrite_is("/myapi", 6, "", "/") &&
	       rewrite_is("/x/y?q", 1, "/pre", "/pre/x/y?q") &&
	       rewrite_is("/old?q=1", SIZE_MAX, "/new", "/new?q=1");
}

static bool test_location(void)
{
	struct http1_start sl = {
		.method = "GET", .method_len = 3,
		.target = "/a?b", .target_len = 4,
		.major = 1, .minor = 1,
	};
	struct hhead h;
	char *loc = NULL;
	bool ok;

	memset(&h, 0, sizeof(h));
	ok = ASSERT_EQ(hhead_start(&h, true, &sl), 0) &&
	     ASSERT_EQ(hhead_add(&h, "Host", 4, "example.com:8080", 16), 0);
	ok = ok && ASSERT_EQ(hmatch_location(&h, NULL, NULL, 0, 0, NULL, &loc),
			     0) &&
	     ASSERT_STREQ(loc, "http://example.com/a?b");
	free(loc);
	loc = NULL;
	ok = ok && ASSERT_EQ(hmatch_location(&h, "https", "x.org", 5, 8443,
					     "/n", &loc), 0) &&
	     ASSERT_STREQ(loc, "https://x.org:8443/n");
	free(loc);
	hhead_free(&h);
	return ok;
}

/* A route's method, the enum both route kinds store: none asked is every
 * method, one past the enum none. */
static bool test_method(void)
{
	struct http1_start sl = {
		.method = "POST", .method_len = 4,
		.target = "/", .target_len = 1,
		.major = 1, .minor = 1,
	};
	struct hhead h;
	bool ok;

	memset(&h, 0, sizeof(h));
	ok = ASSERT_EQ(hhead_start(&h, true, &sl), 0) &&
	     ASSERT_TRUE(hmatch_method(&h, 0)) &&
	     ASSERT_TRUE(hmatch_method(&h, MF_METHOD_POST)) &&
	     ASSERT_FALSE(hmatch_method(&h, MF_METHOD_PUT)) &&
	     ASSERT_FALSE(hmatch_method(&h, MF_METHOD_PATCH)) &&
	     ASSERT_FALSE(hmatch_method(&h, MF_METHOD_TRACE + 1));
	hhead_free(&h);
	return ok;
}

static unsigned int host(const char *pattern, const char *h)
{
	return hmatch_host(pattern, h, strlen(h));
}

static bool test_hosts(void)
{
	return ASSERT_TRUE(host("example.com", "example.com") > 0) &&
	       ASSERT_TRUE(host("example.com", "EXAMPLE.com:8080") > 0) &&
	       ASSERT_TRUE(host("example.com", "example.com.") > 0) &&
	       ASSERT_EQ(host("example.com", "www.example.com"), 0u) &&
	       ASSERT_EQ(host("example.com", "example.co"), 0u) &&
	       ASSERT_TRUE(host("*.example.com", "a.example.com") > 0) &&
	       ASSERT_TRUE(host("*.example.com", "a.b.example.com") > 0) &&
	       ASSERT_EQ(host("*.example.com", "example.com"), 0u) &&
	       ASSERT_EQ(host("*.example.com", "aexample.com"), 0u) &&
	       ASSERT_TRUE(host("", "anything") > 0) &&
	       ASSERT_TRUE(host("*", "anything") > 0) &&
	       /* Most specific first. */
	       ASSERT_TRUE(host("a.example.com", "a.example.com") >
			   host("*.example.com", "a.example.com")) &&
	       ASSERT_TRUE(host("*.a.example.com", "x.a.example.com") >
			   host("*.example.com", "x.a.example.com")) &&
	       ASSERT_TRUE(host("*.example.com", "a.example.com") >
			   host("*", "a.example.com"));
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_paths);
	TEST_RUN(test_values_and_query);
	TEST_RUN(test_rewrite);
	TEST_RUN(test_location);
	TEST_RUN(test_method);
	TEST_RUN(test_hosts);
	TEST_MAIN_END();
}
