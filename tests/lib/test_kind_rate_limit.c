// SPDX-License-Identifier: Apache-2.0
/*
 * RateLimit, the legacy kind of source/destination selectors
 * (lib/policy/kind_rate_limit.c), through mfctl's reader and printer: the
 * selectors and conf.http parse into the expected record and print back
 * to the same bytes, and so do the other shapes Kuma takes; requests,
 * intervals, statuses and headers each give exactly the expected
 * diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define RL_HEAD KH_API "kind: RateLimit\nmetadata:\n  name: rl\nspec:\n"

static const char rl_full[] =
	RL_HEAD
	"  sources:\n"
	"    - match:\n"
	"        kuma.io/service: '*'\n"
	"  destinations:\n"
	"    - match:\n"
	"        kuma.io/service: backend\n"
	"        version: v2\n"
	"  conf:\n"
	"    http:\n"
	"      requests: 5\n"
	"      interval: 10s\n"
	"      onRateLimit:\n"
	"        status: 423\n"
	"        headers:\n"
	"          - key: x-kuma-rate-limited\n"
	"            value: 'true'\n"
	"            append: true\n"
	"          - {key: retry-after, value: '10'}\n";

static bool test_rate_limit_full(void)
{
	static const char *const any[] = { "kuma.io/service", "*" };
	static const char *const dst[] = { "kuma.io/service", "backend",
					   "version", "v2" };
	struct model_set s;
	const struct mf_legacy_ratelimit *r = kh_policy(rl_full, &s,
							&kind_rate_limit, 1);
	const struct mf_rl_http *h = r ? &r->conf.http : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(r->hdr.nsources, 1) &&
	     ASSERT_EQ(r->hdr.ndestinations, 1) &&
	     kh_tags_are(&s, r->hdr.sources[0], any, 1) &&
	     kh_tags_are(&s, r->hdr.destinations[0], dst, 2) &&
	     ASSERT_EQ(h->requests, 5) && ASSERT_EQ(h->interval, 10000) &&
	     ASSERT_EQ(h->on_rate_limit.status, 423) &&
	     ASSERT_EQ(h->on_rate_limit.nheaders, 2) &&
	     ASSERT_STREQ(h->on_rate_limit.headers[0].key,
			  "x-kuma-rate-limited") &&
	     ASSERT_EQ(h->on_rate_limit.headers[0].append, 1) &&
	     ASSERT_STREQ(h->on_rate_limit.headers[1].value, "10") &&
	     ASSERT_EQ(h->on_rate_limit.headers[1].present, 3);
	return kh_finish(&s, ok);
}

#define RL_CONF(conf)                                                         \
	RL_HEAD "  sources:\n    - match: {kuma.io/service: '*'}\n"           \
		"  destinations:\n    - match: {kuma.io/service: b}\n"        \
		"  conf:\n" conf
#define RL_HTTP(on_limit)                                                     \
	RL_CONF("    http:\n"                                                 \
		"      requests: 5\n"                                         \
		"      interval: 1s\n"                                        \
		"      onRateLimit:\n" on_limit)

/* Kuma takes a conf without http (a limit on nothing), intervals in its
 * proto JSON form ("0.5s") and more than two response headers. */
static bool test_rate_limit_kuma_shapes(void)
{
	struct model_set s;
	const struct mf_legacy_ratelimit *r;
	bool ok;

	r = kh_policy(RL_CONF("    {}\n"), &s, &kind_rate_limit, 1);
	ok = r && ASSERT_EQ(r->conf.present, 0);
	if (!kh_finish(&s, ok))
		return false;
	r = kh_policy(RL_HTTP("        headers:\n"
			      "          - {key: a1, value: v}\n"
			      "          - {key: a2, value: v}\n"
			      "          - {key: a3, value: v}\n"),
		      &s, &kind_rate_limit, 1);
	ok = r && ASSERT_EQ(r->conf.http.on_rate_limit.nheaders, 3) &&
	     ASSERT_STREQ(r->conf.http.on_rate_limit.headers[2].key, "a3");
	if (!kh_finish(&s, ok))
		return false;
	r = kh_policy(RL_CONF("    http: {requests: 5, interval: 0.5s}\n"),
		      &s, &kind_rate_limit, 1);
	ok = r && ASSERT_EQ(r->conf.http.interval, 500);
	return kh_finish(&s, ok);
}

KH_TEST_BAD(test_rate_limit_invalid,
	{ RL_CONF("    http: {requests: 0, interval: 1s}\n"),
	  "t.yaml:11:22: spec.conf.http.requests: "
	  "must be 1..4294967295" },
	{ RL_CONF("    http: {requests: 5, interval: 20ms}\n"),
	  "t.yaml:11:35: spec.conf.http.interval: "
	  "must be 50ms..4294967295ms" },
	{ RL_CONF("    http: {interval: 1s}\n"),
	  "t.yaml:11:11: spec.conf.http.requests: "
	  "is required" },
	{ RL_HTTP("        headers:\n"
		  "          - {key: a1, value: v}\n"
		  "          - {key: a2, value: v}\n"
		  "          - {key: a3, value: v}\n"
		  "          - {key: a4, value: v}\n"
		  "          - {key: a5, value: v}\n"
		  "          - {key: a6, value: v}\n"
		  "          - {key: a7, value: v}\n"
		  "          - {key: a8, value: v}\n"
		  "          - {key: a9, value: v}\n"),
	  "t.yaml:16:11: spec.conf.http.onRateLimit.headers: "
	  "must have at most 8 entries" },
	{ RL_CONF("    http: {requests: 5, interval: 1s, onRateLimit: "
		  "{headers: [{key: a}]}}\n"),
	  "t.yaml:11:63: spec.conf.http.onRateLimit.headers[0].value: "
	  "is required" },
	{ RL_HTTP("        status: 99\n"),
	  "t.yaml:15:17: spec.conf.http.onRateLimit.status: "
	  "must be 100..599" },
	{ RL_HTTP("        headers: [{key: 'x y', value: v}]\n"),
	  "t.yaml:15:25: spec.conf.http.onRateLimit.headers[0].key: "
	  "must be an HTTP header name (token characters)" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_rate_limit_full);
	TEST_RUN(test_rate_limit_kuma_shapes);
	TEST_RUN(test_rate_limit_invalid);
	TEST_MAIN_END();
}
