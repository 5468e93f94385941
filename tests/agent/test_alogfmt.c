// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog lines (agent/alogfmt.c): every operator the agent knows,
 * in plain and json formats, Kuma's default formats, omitEmptyValues, and
 * the line's integrity: a header with CR/LF or a quote cannot break it,
 * long values are cut, and the line always ends with exactly one '\n'.
 */
#include <string.h>

#include "harness/test.h"
#include "../../agent/alogfmt.h"

static struct hhead req, rsp;

/* A GET /api?x=1 with Host, User-Agent and X-Request-Id, and a 201 with
 * x-envoy-upstream-service-time. */
static bool heads(void)
{
	struct http1_start rl = {
		.method = "GET", .method_len = 3,
		.target = "/api?x=1", .target_len = 8, .major = 1, .minor = 1,
	};
	struct http1_start sl = { .status = 201, .reason = "Created",
				  .reason_len = 7, .major = 1, .minor = 1 };

	memset(&req, 0, sizeof(req));
	memset(&rsp, 0, sizeof(rsp));
	return !hhead_start(&req, true, &rl) &&
	       !hhead_add(&req, "Host", 4, "web", 3) &&
	       !hhead_add(&req, "User-Agent", 10, "curl/8", 6) &&
	       !hhead_add(&req, "X-Request-Id", 12, "rid-1", 5) &&
	       !hhead_start(&rsp, false, &sl) &&
	       !hhead_add(&rsp, "x-envoy-upstream-service-time", 29, "7", 1);
}

static struct alogfmt_vals vals(void)
{
	struct alogfmt_vals v = {
		/* 2026-12-05T16:20:01.123Z */
		.start = { .tv_sec = 1796487601, .tv_nsec = 123456789 },
		.http = true, .status = 201, .bytes_received = 5,
		.bytes_sent = 42, .duration_ms = 17, .req = &req, .rsp = &rsp,
		.protocol = "HTTP/1.1", .upstream_host = "10.78.2.11:8080",
		.downstream = "10.78.1.5:40000", .mesh = "default",
		.src_service = "client", .dst_service = "web",
		.src_address = "10.78.1.5:40000", .direction = "OUTBOUND",
		.cluster = "web",
	};

	return v;
}

static char line[ALOGFMT_LINE_MAX + 1];

static const char *plain_of(const char *fmt, bool omit,
			    const struct alogfmt_vals *v)
{
	struct mf_log_format f = { .present = 1u << 1, .type = MF_LOG_PLAIN,
				   .omit_empty_values = omit };
	size_t n;

	snprintf(f.plain, sizeof(f.plain), "%s", fmt);
	n = alogfmt_line(&f, v, line, sizeof(line) - 1);
	line[n] = '\0';
	return line;
}

#define PLAIN(fmt, want)                                                      \
	ASSERT_STREQ(plain_of(fmt, false, &v), want "\n")

static bool test_operators(void)
{
	struct alogfmt_vals v = vals();
	bool ok = ASSERT_TRUE(heads());

	ok = ok && PLAIN("%START_TIME%", "2026-12-05T16:20:01.123Z") &&
	     PLAIN("%START_TIME(%Y/%m/%d)%", "2026/12/05") &&
	     PLAIN("%RESPONSE_CODE%", "201") &&
	     PLAIN("%RESPONSE_FLAGS%", "-") &&
	     PLAIN("%BYTES_RECEIVED% %BYTES_SENT%", "5 42") &&
	     PLAIN("%DURATION%", "17") &&
	     PLAIN("%REQ(:METHOD)% %REQ(:PATH)% %REQ(:AUTHORITY)%",
		   "GET /api?x=1 web") &&
	     PLAIN("%REQ(user-agent)%", "curl/8") &&
	     PLAIN("%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%", "/api?x=1") &&
	     PLAIN("%REQ(X-MISSING?X-REQUEST-ID)%", "rid-1") &&
	     PLAIN("%REQ(X-MISSING)%", "-") &&
	     PLAIN("%REQ(X-REQUEST-ID):3%", "rid") &&
	     PLAIN("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %RESP(:STATUS)%",
		   "7 201") &&
	     PLAIN("%PROTOCOL%", "HTTP/1.1") &&
	     PLAIN("%UPSTREAM_HOST%", "10.78.2.11:8080") &&
	     PLAIN("%UPSTREAM_CLUSTER%", "web") &&
	     PLAIN("%DOWNSTREAM_REMOTE_ADDRESS%", "10.78.1.5:40000") &&
	     PLAIN("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%", "10.78.1.5") &&
	     PLAIN("%KUMA_MESH%", "default") &&
	     PLAIN("%KUMA_SOURCE_SERVICE%=>%KUMA_DESTINATION_SERVICE%",
		   "client=>web") &&
	     PLAIN("%KUMA_SOURCE_ADDRESS%", "10.78.1.5:40000") &&
	     PLAIN("%KUMA_SOURCE_ADDRESS_WITHOUT_PORT%", "10.78.1.5") &&
	     PLAIN("%KUMA_TRAFFIC_DIRECTION%", "OUTBOUND") &&
	     /* Unknown operators and lone '%' signs. */
	     PLAIN("%NOT_AN_OPERATOR% 100% %", "- 100% %") &&
	     PLAIN("%REQ(unclosed%", "%REQ(unclosed%") &&
	     /* A trailing line break in the format is the line's own. */
	     PLAIN("a\n", "a");
	v.flags = "UF";
	v.rsp = NULL;
	v.upstream_host = NULL;
	v.protocol = NULL;
	ok = ok && PLAIN("%RESPONSE_FLAGS%", "UF") &&
	     PLAIN("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%", "-") &&
	     PLAIN("%UPSTREAM_HOST% %PROTOCOL%", "- -") &&
	     ASSERT_STREQ(plain_of("[%UPSTREAM_HOST%]", true, &v), "[]\n");
	hhead_free(&req);
	hhead_free(&rsp);
	return ok;
}

/* Kuma's default formats: the HTTP one for a request, the TCP one for a
 * connection. */
static bool test_defaults(void)
{
	struct alogfmt_vals v = vals();
	bool ok = ASSERT_TRUE(heads());
	size_t n;

	n = alogfmt_line(NULL, &v, line, sizeof(line) - 1);
	line[n] = '\0';
	ok = ok && ASSERT_STREQ(line,
		"[2026-12-05T16:20:01.123Z] default \"GET /api?x=1 HTTP/1.1\" "
		"201 - 5 42 17 7 \"-\" \"curl/8\" \"rid-1\" \"web\" "
		"\"client\" \"web\" \"10.78.1.5\" \"10.78.2.11:8080\"\n");
	v.http = false;
	v.req = v.rsp = NULL;
	n = alogfmt_line(NULL, &v, line, sizeof(line) - 1);
	line[n] = '\0';
	ok = ok && ASSERT_STREQ(line,
		"[2026-12-05T16:20:01.123Z] - default 10.78.1.5(client)->"
		"10.78.2.11:8080(web) took 17ms, sent 42 bytes, received: 5 "
		"bytes\n");
	hhead_free(&req);
	hhead_free(&rsp);
	return ok;
}

static const char *json_of(const char *const (*kv)[2], size_t n, bool omit,
			   const struct alogfmt_vals *v)
{
	struct mf_log_format f = { .present = 1u << 2, .type = MF_LOG_JSON,
				   .omit_empty_values = omit,
				   .njson = (uint8_t)n };
	size_t len;

	for (size_t i = 0; i < n; i++) {
		f.json[i].present = 3;
		snprintf(f.json[i].key, sizeof(f.json[i].key), "%s", kv[i][0]);
		snprintf(f.json[i].value, sizeof(f.json[i].value), "%s",
			 kv[i][1]);
	}
	len = alogfmt_line(&f, v, line, sizeof(line) - 1);
	line[len] = '\0';
	return line;
}

/* Json: strings, as Kuma writes them; null for a lone operator without a
 * value (left out with omitEmptyValues). */
static bool test_json(void)
{
	static const char *const kv[][2] = {
		{ "status", "%RESPONSE_CODE%" },
		{ "path", "%REQ(:PATH)%" },
		{ "route", "%KUMA_SOURCE_SERVICE% -> %UPSTREAM_CLUSTER%" },
		{ "flags", "%RESPONSE_FLAGS%" },
		{ "bytes", "%BYTES_SENT%" },
		{ "fixed", "v1" },
	};
	struct alogfmt_vals v = vals();
	bool ok = ASSERT_TRUE(heads());

	ok = ok && ASSERT_STREQ(json_of(kv, 6, false, &v),
		"{\"status\": \"201\", \"path\": \"/api?x=1\", "
		"\"route\": \"client -> web\", \"flags\": null, "
		"\"bytes\": \"42\", \"fixed\": \"v1\"}\n");
	ok = ok && ASSERT_STREQ(json_of(kv, 6, true, &v),
		"{\"status\": \"201\", \"path\": \"/api?x=1\", "
		"\"route\": \"client -> web\", \"bytes\": \"42\", "
		"\"fixed\": \"v1\"}\n");
	hhead_free(&req);
	hhead_free(&rsp);
	return ok;
}

/* A header value with CR, LF, a quote and a backslash: escaped in both
 * formats, the line stays one line; values are cut at
 * ALOGFMT_VALUE_MAX. */
static bool test_hostile(void)
{
	static const char *const kv[][2] = { { "ua", "%REQ(user-agent)%" } };
	struct http1_start rl = {
		.method = "GET", .method_len = 3, .target = "/",
		.target_len = 1, .major = 1, .minor = 1,
	};
	static char big[4 * ALOGFMT_VALUE_MAX];
	struct alogfmt_vals v = vals();
	struct hhead h = { 0 };
	bool ok;

	ok = ASSERT_EQ(hhead_start(&h, true, &rl), 0) &&
	     ASSERT_EQ(hhead_add(&h, "User-Agent", 10, "a\r\nb\"c\\\x01", 8),
		       0);
	v.req = &h;
	ok = ok && ASSERT_STREQ(plain_of("%REQ(user-agent)%", false, &v),
				"a\\r\\nb\"c\\\\x01\n");
	ok = ok && ASSERT_STREQ(json_of(kv, 1, false, &v),
				"{\"ua\": \"a\\u000d\\u000ab\\\"c\\\\"
				"\\u0001\"}\n");
	memset(big, 'x', sizeof(big));
	ok = ok && ASSERT_EQ(hhead_add(&h, "X-Big", 5, big, sizeof(big)), 0);
	plain_of("%REQ(x-big)%", false, &v);
	ok = ok && ASSERT_EQ(strlen(line), ALOGFMT_VALUE_MAX + 1) &&
	     ASSERT_EQ(line[ALOGFMT_VALUE_MAX], '\n');
	/* A buffer too short for the line: cut, still one line. */
	{
		struct mf_log_format f = { .present = 2, .type = MF_LOG_PLAIN };
		char small[8];

		snprintf(f.plain, sizeof(f.plain), "%%REQ(x-big)%%");
		ok = ok && ASSERT_EQ(alogfmt_line(&f, &v, small, sizeof(small)),
				     sizeof(small)) &&
		     ASSERT_MEMEQ(small, "xxxxxxx\n", 8);
	}
	hhead_free(&h);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_operators);
	TEST_RUN(test_defaults);
	TEST_RUN(test_json);
	TEST_RUN(test_hostile);
	TEST_MAIN_END();
}
