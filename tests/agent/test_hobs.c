// SPDX-License-Identifier: Apache-2.0
/*
 * The HTTP/1.1 observer (agent/hobs.c) that counts a relayed connection's
 * exchanges into a workload's inbound series: keep-alive exchanges fed a
 * byte at a time (a chunked POST, a HEAD whose response announces a body
 * it does not carry, then a request after it), pipelined requests, an
 * interim 100 before the final status, an Upgrade after which nothing is
 * counted, bytes that are not HTTP, more requests in flight than it
 * keeps, and a request the connection's end cuts short.
 */
#include <string.h>

#include "harness/test.h"
#include "../../agent/hobs.h"
#include "../../agent/wmstats.h"

static struct wmstats tab;

static struct wmstats_series *series(const char *workload)
{
	return wmstats_series(&tab, "default", workload, "web",
			      WMSTATS_INBOUND, "client");
}

/* Feeds @s in pieces of @step bytes (0: whole). */
static void feed(struct hobs *o, bool to_dest, const char *s, size_t step)
{
	size_t n = strlen(s);

	if (!step)
		step = n;
	for (size_t i = 0; i < n; i += step)
		hobs_feed(o, to_dest, (const uint8_t *)s + i,
			  n - i < step ? n - i : step);
}

static bool test_keep_alive(void)
{
	struct wmstats_series *x = series("w1");
	struct hobs *o = hobs_new(x);
	static const char *const ex[][2] = {
		{ "GET /a HTTP/1.1\r\nHost: web\r\n\r\n",
		  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc" },
		{ "POST /b HTTP/1.1\r\nHost: web\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n"
		  "5\r\nhello\r\n0\r\n\r\n",
		  "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "2\r\nok\r\n0\r\n\r\n" },
		/* A HEAD's response: a length, and no body. */
		{ "HEAD /c HTTP/1.1\r\nHost: web\r\n\r\n",
		  "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" },
		{ "GET /d HTTP/1.1\r\nHost: web\r\n\r\n",
		  "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" },
	};

	if (!ASSERT_TRUE(o != NULL))
		return false;
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		feed(o, true, ex[i][0], 1);
		feed(o, false, ex[i][1], 1);
	}
	if (!ASSERT_STREQ(hobs_stopped(o), "") ||
	    !ASSERT_EQ(x->requests, 4) || !ASSERT_EQ(x->by_class[2], 3) ||
	    !ASSERT_EQ(x->by_class[4], 1) || !ASSERT_EQ(x->dcount, 4))
		return false;
	hobs_free(o);
	return true;
}

static bool test_pipelined(void)
{
	struct wmstats_series *x = series("w2");
	struct hobs *o = hobs_new(x);
	const char *req = "GET /1 HTTP/1.1\r\nHost: web\r\n\r\n"
			  "HEAD /2 HTTP/1.1\r\nHost: web\r\n\r\n"
			  "GET /3 HTTP/1.1\r\nHost: web\r\n\r\n";
	const char *rsp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
			  "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
			  "HTTP/1.1 503 Unavailable\r\nContent-Length: 1\r\n\r\nx";

	feed(o, true, req, 0);
	if (!ASSERT_EQ(x->requests, 0))
		return false;
	feed(o, false, rsp, 7);
	if (!ASSERT_STREQ(hobs_stopped(o), "") ||
	    !ASSERT_EQ(x->requests, 3) || !ASSERT_EQ(x->by_class[2], 2) ||
	    !ASSERT_EQ(x->by_class[5], 1))
		return false;
	hobs_free(o);
	return true;
}

/* 100 Continue is not the final response: one request, a 2xx. */
static bool test_interim(void)
{
	struct wmstats_series *x = series("w3");
	struct hobs *o = hobs_new(x);

	feed(o, true, "PUT /u HTTP/1.1\r\nHost: web\r\nContent-Length: 2\r\n"
		      "Expect: 100-continue\r\n\r\n", 0);
	feed(o, false, "HTTP/1.1 100 Continue\r\n\r\n", 0);
	if (!ASSERT_EQ(x->requests, 0))
		return false;
	feed(o, true, "hi", 0);
	feed(o, false, "HTTP/1.1 204 No Content\r\n\r\n", 0);
	if (!ASSERT_EQ(x->requests, 1) || !ASSERT_EQ(x->by_class[2], 1) ||
	    !ASSERT_EQ(x->by_class[1], 0))
		return false;
	hobs_free(o);
	return true;
}

/* After 101 the bytes are WebSocket frames: nothing more is counted. */
static bool test_upgrade(void)
{
	struct wmstats_series *x = series("w4");
	struct hobs *o = hobs_new(x);

	feed(o, true, "GET /ws HTTP/1.1\r\nHost: web\r\nConnection: Upgrade\r\n"
		      "Upgrade: websocket\r\n\r\n\x81\x02hi", 0);
	feed(o, false, "HTTP/1.1 101 Switching Protocols\r\n"
		       "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
		       "\x81\x02hi", 0);
	feed(o, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	if (!ASSERT_STREQ(hobs_stopped(o), "upgraded") ||
	    !ASSERT_EQ(x->requests, 1) || !ASSERT_EQ(x->by_class[1], 1))
		return false;
	hobs_free(o);
	return true;
}

/* Bytes that are not HTTP stop it; what follows is not counted, and the
 * caller's bytes are never refused (hobs_feed() returns nothing). */
static bool test_not_http(void)
{
	struct wmstats_series *x = series("w5");
	struct hobs *o = hobs_new(x);
	struct hobs *p = hobs_new(x);

	feed(o, true, "\x16\x03\x01\x02\x00garbage\r\n\r\n", 0);
	feed(o, true, "GET / HTTP/1.1\r\nHost: web\r\n\r\n", 0);
	feed(o, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	/* A response nobody asked for. */
	feed(p, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	if (!ASSERT_TRUE(strcmp(hobs_stopped(o), "") != 0) ||
	    !ASSERT_STREQ(hobs_stopped(p), "a response without a request") ||
	    !ASSERT_EQ(x->requests, 0))
		return false;
	hobs_free(o);
	hobs_free(p);
	return true;
}

/* More requests in flight than the ring keeps: it stops, counting none
 * of their responses rather than pairing them wrongly. */
static bool test_pipeline_bound(void)
{
	struct wmstats_series *x = series("w6");
	struct hobs *o = hobs_new(x);

	for (int i = 0; i <= HOBS_PIPELINE; i++)
		feed(o, true, "GET / HTTP/1.1\r\nHost: web\r\n\r\n", 0);
	feed(o, false, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 0);
	if (!ASSERT_STREQ(hobs_stopped(o), "too many requests in flight") ||
	    !ASSERT_EQ(x->requests, 0))
		return false;
	hobs_free(o);
	return true;
}

/* The connection ends inside a response: that request is not counted. */
static bool test_cut_short(void)
{
	struct wmstats_series *x = series("w7");
	struct hobs *o = hobs_new(x);

	feed(o, true, "GET /a HTTP/1.1\r\nHost: web\r\n\r\n"
		      "GET /b HTTP/1.1\r\nHost: web\r\n\r\n", 0);
	feed(o, false, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
		       "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0);
	hobs_free(o);
	return ASSERT_EQ(x->requests, 1) && ASSERT_EQ(x->dcount, 1);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_keep_alive);
	TEST_RUN(test_pipelined);
	TEST_RUN(test_interim);
	TEST_RUN(test_upgrade);
	TEST_RUN(test_not_http);
	TEST_RUN(test_pipeline_bound);
	TEST_RUN(test_cut_short);
	wmstats_free(&tab);
	TEST_MAIN_END();
}
