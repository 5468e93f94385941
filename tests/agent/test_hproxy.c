// SPDX-License-Identifier: Apache-2.0
/*
 * The L7 proxy (hproxy) through the whole relay, on loopback: a loop runs
 * in its own thread with the forward listener in HTTP mode, and the test
 * plays client and upstream with plain sockets.  Each case asserts, byte
 * for byte, what the upstream received and what the client got: the
 * forwarded head (hop-by-hop fields gone, X-Forwarded-For and x-request-id
 * added), re-chunked bodies, responses kept in order for pipelined
 * requests, smuggling attempts that get 400 with nothing upstream, bad
 * responses that get 502, the header timeout's 408, HEAD, 100-continue,
 * an HTTP/1.0 client, and an Upgrade relayed as bytes.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "log.h"

struct px {
	struct lh_loop h;
	uint16_t up_port;
	int lfd;
	int c, s;	/* client end, upstream end (-1: not open) */
};

static struct px px;

/* Starts a loop proxying HTTP to a listener of the test's, with a header
 * timeout of @header_ms and a keep-alive idle timeout of @idle_ms (0: the
 * defaults). */
static bool px_start_with(uint32_t header_ms, uint32_t idle_ms)
{
	struct agent_config *cfg = &px.h.cfg;

	px.c = px.s = -1;
	px.lfd = lh_listener(&px.up_port, 16);
	if (!ASSERT_GE(px.lfd, 0))
		return false;
	memset(&px.h, 0, sizeof(px.h));
	cfg->listen_addr = htonl(INADDR_LOOPBACK);
	cfg->forward_to.sin_family = AF_INET;
	cfg->forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cfg->forward_to.sin_port = htons(px.up_port);
	cfg->forward_http = true;
	cfg->handle_signals = true;
	cfg->max_conns = 64;
	cfg->http_header_timeout_ms = header_ms;
	cfg->http_idle_timeout_ms = idle_ms;
	if (!lh_loop_start(&px.h)) {
		close(px.lfd);
		return false;
	}
	return true;
}

static bool px_start(uint32_t header_ms)
{
	return px_start_with(header_ms, 0);
}

/* A client connection through the proxy. */
static bool px_connect(void)
{
	px.c = lh_client(px.h.fwd_port);
	if (!ASSERT_GE(px.c, 0))
		return false;
	lh_set_timeout(px.c, 5000);
	return true;
}

/* The upstream connection the proxy opens for a request. */
static bool px_accept(void)
{
	px.s = lh_accept_timeout(px.lfd, 5000);
	return ASSERT_GE(px.s, 0);
}

static void px_stop(void)
{
	if (px.c >= 0)
		close(px.c);
	if (px.s >= 0)
		close(px.s);
	lh_loop_stop(&px.h);
	if (px.lfd >= 0)
		close(px.lfd);
}

static bool px_send(int fd, const char *s)
{
	size_t n = strlen(s);

	return ASSERT_EQ(write(fd, s, n), n);
}

/* Everything @fd has for us until it is quiet for @quiet_ms (or closes),
 * into @buf (NUL-terminated); returns the length. */
static size_t px_read_all(int fd, char *buf, size_t cap, int quiet_ms)
{
	size_t got = 0;

	while (got + 1 < cap) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, quiet_ms) != 1)
			break;
		r = read(fd, buf + got, cap - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	return got;
}

/* Reads exactly strlen(@want) bytes from @fd and compares them. */
static bool px_expect(int fd, const char *want)
{
	size_t n = strlen(want);
	char *buf = calloc(1, n + 1);
	bool ok;

	ok = ASSERT_TRUE(buf != NULL) && ASSERT_TRUE(lh_read_exact(fd, buf, n)) &&
	     ASSERT_STREQ(buf, want);
	free(buf);
	return ok;
}

/* True when @fd is at EOF (or reset) within 5 s. */
static bool px_closed(int fd)
{
	char b;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, 5000) != 1)
		return false;
	return read(fd, &b, 1) <= 0;
}

/* @got is @before, a version 4 UUID, then @after. */
static bool px_match_uuid(const char *got, const char *before,
			  const char *after)
{
	size_t nb = strlen(before);
	const char *u = got + nb;

	if (!ASSERT_TRUE(strncmp(got, before, nb) == 0) ||
	    !ASSERT_TRUE(strlen(u) >= 36))
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (!ASSERT_TRUE(dash ? u[i] == '-' : isxdigit((unsigned char)u[i])))
			return false;
	}
	return ASSERT_TRUE(u[14] == '4') && ASSERT_STREQ(u + 36, after);
}

/* ---- cases ------------------------------------------------------------- */

/* Hop-by-hop fields go, X-Forwarded-For gets the client, x-request-id is
 * generated; the response loses its own hop-by-hop fields. */
static bool test_forwarded_head(void)
{
	char got[2048];
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "GET /a?b=1 HTTP/1.1\r\nHost: web\r\n"
			   "Connection: keep-alive, X-Drop\r\nX-Drop: 1\r\n"
			   "Keep-Alive: timeout=5\r\nTE: trailers\r\n"
			   "X-Forwarded-For: 192.0.2.1\r\nX-Keep: yes\r\n\r\n") &&
	     px_accept() && ASSERT_GE(px_read_all(px.s, got, sizeof(got), 300), 1) &&
	     px_match_uuid(got, "GET /a?b=1 HTTP/1.1\r\nHost: web\r\n"
			   "X-Keep: yes\r\n"
			   "X-Forwarded-For: 192.0.2.1, 127.0.0.1\r\n"
			   "x-request-id: ", "\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			   "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n"
			   "X-Up: 1\r\n\r\nok") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			     "X-Up: 1\r\n\r\nok") &&
	     /* A request id the client sent is kept, not replaced. */
	     px_send(px.c, "GET /b HTTP/1.1\r\nHost: web\r\n"
			   "X-Request-Id: abc\r\n\r\n") &&
	     px_expect(px.s, "GET /b HTTP/1.1\r\nHost: web\r\n"
			     "X-Request-Id: abc\r\n"
			     "X-Forwarded-For: 127.0.0.1\r\n\r\n");
	px_stop();
	return ok && ASSERT_EQ(px.h.stats.http_requests, 2);
}

/* Ten pipelined requests: the upstream sees each only after the previous
 * response, and the client gets the responses in order. */
static bool test_pipelined_in_order(void)
{
	char req[4096] = "", want[64], got[512];
	bool ok;

	if (!px_start(0))
		return false;
	for (int i = 0; i < 10; i++)
		snprintf(req + strlen(req), sizeof(req) - strlen(req),
			 "GET /%d HTTP/1.1\r\nHost: w\r\nX-Request-Id: r%d\r\n\r\n",
			 i, i);
	ok = px_connect() && px_send(px.c, req) && px_accept();
	for (int i = 0; ok && i < 10; i++) {
		snprintf(want, sizeof(want), "GET /%d HTTP/1.1\r\n", i);
		ok = ASSERT_GE(px_read_all(px.s, got, sizeof(got), 200), 1) &&
		     ASSERT_TRUE(strncmp(got, want, strlen(want)) == 0) &&
		     /* one request at a time, never two */
		     ASSERT_TRUE(strstr(got + 1, "GET /") == NULL);
		snprintf(want, sizeof(want),
			 "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n%d", i);
		ok = ok && px_send(px.s, want) && px_expect(px.c, want);
	}
	px_stop();
	return ok;
}

/* A chunked body is re-chunked as it arrives: extensions gone, trailers
 * kept; the response's chunks likewise. */
static bool test_rechunked(void)
{
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "POST /up HTTP/1.1\r\nHost: w\r\nX-Request-Id: c\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n"
			   "5;ext=1\r\nhello\r\n") && px_accept() &&
	     px_expect(px.s, "POST /up HTTP/1.1\r\nHost: w\r\n"
			     "X-Request-Id: c\r\nTransfer-Encoding: chunked\r\n"
			     "X-Forwarded-For: 127.0.0.1\r\n\r\n5\r\nhello\r\n") &&
	     px_send(px.c, "6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n") &&
	     px_expect(px.s, "6\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "002\r\nok\r\n0\r\n\r\n") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			     "2\r\nok\r\n0\r\n\r\n");
	px_stop();
	return ok;
}

/* Each smuggling attempt gets 400 and a closed connection, and the
 * upstream gets not one byte of it. */
static bool test_smuggling_refused(void)
{
	static const char *const reqs[] = {
		"POST / HTTP/1.1\r\nHost: w\r\nContent-Length: 4\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: w\r\nContent-Length: 4\r\n"
		"Content-Length: 5\r\n\r\nabcde",
		"POST / HTTP/1.1\r\nHost: w\r\nContent-Length: +4\r\n\r\nabcd",
		"POST / HTTP/1.1\r\nHost: w\r\n"
		"Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n",
		"POST / HTTP/1.0\r\nHost: w\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: w\r\nX-A: 1\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: w\r\nX-A: a\rb\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : w\r\n\r\n",
		"GET / HTTP/1.1\r\nX-A: 1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: w\r\nHost: v\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: w\r\nTransfer-Encoding: chunked\r\n\r\n"
		"fffffffffffffffff1\r\nx\r\n0\r\n\r\n",
	};
	char got[1024];
	bool ok = true;

	if (!px_start(0))
		return false;
	for (size_t i = 0; ok && i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		ok = px_connect() && px_send(px.c, reqs[i]) &&
		     ASSERT_GE(px_read_all(px.c, got, sizeof(got), 2000), 1) &&
		     ASSERT_TRUE(strncmp(got, "HTTP/1.1 400 Bad Request\r\n",
					 26) == 0) &&
		     ASSERT_TRUE(strstr(got, "\r\nconnection: close\r\n") != NULL) &&
		     /* nothing upstream: not even a connection */
		     ASSERT_EQ(lh_accept_timeout(px.lfd, 300), -1);
		if (!ok)
			fprintf(stderr, "  case %zu: %s\n", i, reqs[i]);
		close(px.c);
		px.c = -1;
	}
	px_stop();
	return ok && ASSERT_EQ(px.h.stats.http_requests, 0);
}

/* A response with bad framing gets 502 before its head went out. */
static bool test_bad_response_502(void)
{
	char got[1024];
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n") &&
	     px_accept() &&
	     ASSERT_GE(px_read_all(px.s, got, sizeof(got), 200), 1) &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
			   "Content-Length: 2\r\n\r\nab") &&
	     ASSERT_GE(px_read_all(px.c, got, sizeof(got), 2000), 1) &&
	     ASSERT_TRUE(strncmp(got, "HTTP/1.1 502 Bad Gateway\r\n", 26) == 0) &&
	     ASSERT_TRUE(strstr(got, "200 OK") == NULL) &&
	     ASSERT_TRUE(px_closed(px.c));
	px_stop();
	return ok;
}

/* A head that trickles in past the header timeout gets 408, while
 * another connection is served meanwhile. */
static bool test_header_timeout_408(void)
{
	int c2 = -1, s2 = -1;
	char got[1024];
	bool ok;

	if (!px_start(300))
		return false;
	ok = px_connect() && px_send(px.c, "GET / HTTP/1.1\r\nHo");
	if (ok) {
		c2 = lh_client(px.h.fwd_port);
		lh_set_timeout(c2, 5000);
		ok = ASSERT_GE(c2, 0) &&
		     px_send(c2, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n") &&
		     ASSERT_GE(s2 = lh_accept_timeout(px.lfd, 5000), 0) &&
		     px_expect(s2, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
				   "X-Forwarded-For: 127.0.0.1\r\n\r\n") &&
		     px_send(s2, "HTTP/1.1 204 No Content\r\n\r\n") &&
		     px_expect(c2, "HTTP/1.1 204 No Content\r\n\r\n");
	}
	usleep(150 * 1000);
	ok = ok && px_send(px.c, "st: w\r\n") &&
	     ASSERT_GE(px_read_all(px.c, got, sizeof(got), 2000), 1) &&
	     ASSERT_TRUE(strncmp(got, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0) &&
	     ASSERT_EQ(lh_accept_timeout(px.lfd, 300), -1);
	if (c2 >= 0)
		close(c2);
	if (s2 >= 0)
		close(s2);
	px_stop();
	return ok && ASSERT_EQ(px.h.stats.http_local[STATS_HTTP_LOCAL_408], 1);
}

/* One request of the client's keep-alive connection, answered 204 by
 * the upstream end the proxy opens for the first. */
static bool px_exchange(void)
{
	return px_send(px.c, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n") &&
	       (px.s >= 0 || px_accept()) &&
	       px_expect(px.s, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			       "X-Forwarded-For: 127.0.0.1\r\n\r\n") &&
	       px_send(px.s, "HTTP/1.1 204 No Content\r\n\r\n") &&
	       px_expect(px.c, "HTTP/1.1 204 No Content\r\n\r\n");
}

/* The keep-alive idle timeout runs from the last response, not from the
 * first: requests 250 ms apart go on past it, and a connection then idle
 * longer than it is closed without a word. */
static bool test_idle_timeout_from_last_response(void)
{
	char got[256];
	bool ok;

	if (!px_start_with(0, 400))
		return false;
	ok = px_connect() && px_exchange();
	for (int i = 0; ok && i < 3; i++) {
		usleep(250 * 1000);
		ok = px_exchange();
	}
	/* 1 s: the timeout and the timer heap's turn, with room. */
	ok = ok && ASSERT_EQ(px_read_all(px.c, got, sizeof(got), 1000), 0) &&
	     ASSERT_TRUE(px_closed(px.c));
	px_stop();
	return ok && ASSERT_EQ(px.h.stats.http_requests, 4) &&
	       ASSERT_EQ(px.h.stats.http_local[STATS_HTTP_LOCAL_408], 0);
}

/* HEAD: the response's Content-Length announces a body that never
 * comes, and the next request goes on. */
static bool test_head_then_get(void)
{
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "HEAD / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n") &&
	     px_accept() &&
	     px_expect(px.s, "HEAD / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			     "X-Forwarded-For: 127.0.0.1\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n") &&
	     px_send(px.c, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: b\r\n\r\n") &&
	     px_expect(px.s, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: b\r\n"
			     "X-Forwarded-For: 127.0.0.1\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
	px_stop();
	return ok;
}

/* Expect: 100-continue: the head goes up at once (chunked or not), the
 * 100 comes down, then the body. */
static bool test_expect_continue(void)
{
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "PUT /f HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			   "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n") &&
	     px_accept() &&
	     px_expect(px.s, "PUT /f HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			     "Expect: 100-continue\r\nTransfer-Encoding: chunked\r\n"
			     "X-Forwarded-For: 127.0.0.1\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 100 Continue\r\n\r\n") &&
	     px_expect(px.c, "HTTP/1.1 100 Continue\r\n\r\n") &&
	     px_send(px.c, "3\r\nabc\r\n0\r\n\r\n") &&
	     px_expect(px.s, "3\r\nabc\r\n0\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n") &&
	     px_expect(px.c, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	px_stop();
	return ok;
}

/* An HTTP/1.0 client gets a chunked response unchunked, and the end of
 * the connection as its end. */
static bool test_http10_client(void)
{
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "GET / HTTP/1.0\r\nX-Request-Id: a\r\n\r\n") &&
	     px_accept() &&
	     /* the up end is the proxy's to keep: it asks */
	     px_expect(px.s, "GET / HTTP/1.0\r\nX-Request-Id: a\r\n"
			     "X-Forwarded-For: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
			   "3\r\nabc\r\n0\r\n\r\n") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc") &&
	     ASSERT_TRUE(px_closed(px.c));
	px_stop();
	return ok;
}

/* An Upgrade accepted with 101: then bytes, both ways, untouched. */
static bool test_upgrade_relayed(void)
{
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "GET /ws HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			   "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n") &&
	     px_accept() &&
	     px_expect(px.s, "GET /ws HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			     "Upgrade: websocket\r\nX-Forwarded-For: 127.0.0.1\r\n"
			     "Connection: upgrade\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 101 Switching Protocols\r\n"
			   "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x02hi") &&
	     px_expect(px.c, "HTTP/1.1 101 Switching Protocols\r\n"
			     "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x02hi") &&
	     px_send(px.c, "GET / HTTP/1.1\r\n\x01\x02") &&
	     px_expect(px.s, "GET / HTTP/1.1\r\n\x01\x02");
	px_stop();
	return ok;
}

/* The upstream's keep-alive connection carries the next request; one that
 * closes after its response leaves the client's open, and the next
 * request gets a new upstream connection. */
static bool test_upstream_reuse_and_reopen(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n";
	static const char fwd[] = "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
				  "X-Forwarded-For: 127.0.0.1\r\n\r\n";
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() && px_send(px.c, req) && px_accept() &&
	     px_expect(px.s, fwd) &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1") &&
	     /* kept: the same upstream connection, no new one */
	     px_send(px.c, req) && px_expect(px.s, fwd) &&
	     ASSERT_EQ(lh_accept_timeout(px.lfd, 100), -1) &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
			   "Connection: close\r\n\r\n2") &&
	     /* the client keeps its connection: no close for it */
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n2") &&
	     ASSERT_TRUE(px_closed(px.s));
	if (ok) {
		close(px.s);
		px.s = -1;
	}
	ok = ok && px_send(px.c, req) && px_accept() && px_expect(px.s, fwd) &&
	     px_send(px.s, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3") &&
	     px_expect(px.c, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n3");
	px_stop();
	return ok && ASSERT_EQ(px.h.stats.http_requests, 3);
}

/* IORING_REGISTER_SYNC_CANCEL, which the watch needs (conn_up_watch()). */
static bool kernel_cancels_now(void)
{
	struct io_uring_sync_cancel_reg reg = {
		.timeout = { .tv_sec = -1, .tv_nsec = -1 },
	};
	struct io_uring r;
	int rc;

	if (io_uring_queue_init(2, &r, 0))
		return false;
	rc = io_uring_register_sync_cancel(&r, &reg);
	io_uring_queue_exit(&r);
	return rc == -ENOENT;
}

/* The kept upstream connection is read between requests: one whose
 * server closes it while idle, or sends bytes nobody asked for, is let go
 * at once (the server sees it closed before any other request comes), and
 * the client's next request goes on a new one as if nothing happened. */
static bool test_upstream_watched_between_requests(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n";
	static const char fwd[] = "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
				  "X-Forwarded-For: 127.0.0.1\r\n\r\n";
	static const char rsp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
	bool ok;

	if (!kernel_cancels_now())
		TEST_SKIP("a kernel without IORING_REGISTER_SYNC_CANCEL (Linux "
			  "6.0): kept connections wait unread");
	if (!px_start(0))
		return false;
	ok = px_connect() && px_send(px.c, req) && px_accept() &&
	     px_expect(px.s, fwd) && px_send(px.s, rsp) && px_expect(px.c, rsp) &&
	     /* unasked bytes: the proxy closes that connection by itself */
	     px_send(px.s, "HTTP/1.1 200 OK\r\n") && ASSERT_TRUE(px_closed(px.s));
	if (ok) {
		close(px.s);
		px.s = -1;
	}
	ok = ok && px_send(px.c, req) && px_accept() && px_expect(px.s, fwd) &&
	     px_send(px.s, rsp) && px_expect(px.c, rsp);
	/* the server closes its idle connection: the next request does not
	 * meet it */
	if (ok) {
		close(px.s);
		px.s = -1;
		usleep(100 * 1000);
	}
	ok = ok && px_send(px.c, req) && px_accept() && px_expect(px.s, fwd) &&
	     px_send(px.s, rsp) && px_expect(px.c, rsp);
	px_stop();
	return ok && ASSERT_EQ(px.h.stats.http_requests, 3) &&
	       ASSERT_EQ(px.h.stats.http_local[STATS_HTTP_LOCAL_5XX], 0);
}

/* An upstream that cannot be reached: 503; one that closes or resets
 * before its response: 502. */
static bool test_upstream_failures(void)
{
	char got[1024];
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n\r\n") &&
	     px_accept() &&
	     ASSERT_GE(px_read_all(px.s, got, sizeof(got), 200), 1);
	if (ok) {
		close(px.s);
		px.s = -1;
	}
	ok = ok && ASSERT_GE(px_read_all(px.c, got, sizeof(got), 2000), 1) &&
	     ASSERT_TRUE(strncmp(got, "HTTP/1.1 502 Bad Gateway\r\n", 26) == 0);
	close(px.c);
	px.c = -1;
	/* One that resets (as a destination agent that refuses the
	 * request's identity does): 502 as well, not a reset client. */
	ok = ok && px_connect() &&
	     px_send(px.c, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: r\r\n\r\n") &&
	     px_accept() &&
	     ASSERT_GE(px_read_all(px.s, got, sizeof(got), 200), 1);
	if (ok) {
		struct linger lg = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(px.s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(px.s);
		px.s = -1;
	}
	ok = ok && ASSERT_GE(px_read_all(px.c, got, sizeof(got), 2000), 1) &&
	     ASSERT_TRUE(strncmp(got, "HTTP/1.1 502 Bad Gateway\r\n", 26) == 0);
	close(px.c);
	px.c = -1;
	/* Nobody listens there any more. */
	close(px.lfd);
	px.lfd = -1;
	ok = ok && px_connect() &&
	     px_send(px.c, "GET / HTTP/1.1\r\nHost: w\r\nX-Request-Id: b\r\n\r\n") &&
	     ASSERT_GE(px_read_all(px.c, got, sizeof(got), 2000), 1) &&
	     ASSERT_TRUE(strncmp(got, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
	px_stop();
	return ok;
}

static uint8_t px_pattern(size_t i)
{
	return (uint8_t)(i * 13 + (i >> 11));
}

/* A 10 MiB upload in chunks of odd sizes arrives whole, re-chunked. */
static bool test_chunked_upload_10mib(void)
{
	const size_t total = 10u << 20;
	static uint8_t buf[70000];
	size_t sent = 0, got = 0, want = 0;
	char hdr[32], line[64];
	bool ok;

	if (!px_start(0))
		return false;
	ok = px_connect() &&
	     px_send(px.c, "PUT /big HTTP/1.1\r\nHost: w\r\nX-Request-Id: a\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n");
	/* The upstream reads the re-chunked body as a plain HTTP/1.1
	 * reader would, each byte checked. */
	while (ok && sent < total) {
		size_t n = total - sent < 65521 ? total - sent : 65521;

		for (size_t i = 0; i < n; i++)
			buf[i] = px_pattern(sent + i);
		snprintf(hdr, sizeof(hdr), "%zx\r\n", n);
		ok = px_send(px.c, hdr) &&
		     ASSERT_EQ(write(px.c, buf, n), n) && px_send(px.c, "\r\n");
		sent += n;
		if (ok && px.s < 0)
			ok = px_accept() &&
			     px_expect(px.s, "PUT /big HTTP/1.1\r\nHost: w\r\n"
					     "X-Request-Id: a\r\n"
					     "Transfer-Encoding: chunked\r\n"
					     "X-Forwarded-For: 127.0.0.1\r\n\r\n");
		/* Drain what arrived so far, so neither side blocks. */
		while (ok && got < sent) {
			size_t k = 0;

			if (want == 0) {
				while (k < sizeof(line) - 1 &&
				       read(px.s, line + k, 1) == 1 &&
				       line[k] != '\n')
					k++;
				line[k] = '\0';
				want = strtoul(line, NULL, 16);
				if (!ASSERT_GE(want, 1))
					ok = false;
				continue;
			}
			k = want < sizeof(buf) ? want : sizeof(buf);
			ok = ASSERT_TRUE(lh_read_exact(px.s, buf, k));
			for (size_t i = 0; ok && i < k; i++)
				if (buf[i] != px_pattern(got + i))
					ok = ASSERT_TRUE(!"corrupted byte");
			got += k;
			want -= k;
			if (ok && want == 0)
				ok = ASSERT_TRUE(lh_read_exact(px.s, line, 2)) &&
				     ASSERT_TRUE(!memcmp(line, "\r\n", 2));
		}
	}
	ok = ok && px_send(px.c, "0\r\n\r\n") && px_expect(px.s, "0\r\n\r\n") &&
	     px_send(px.s, "HTTP/1.1 204 No Content\r\n\r\n") &&
	     px_expect(px.c, "HTTP/1.1 204 No Content\r\n\r\n");
	px_stop();
	return ok && ASSERT_EQ(got, total);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	lh_signals_setup();
	log_level_max = getenv("MF_TEST_LOG") ? LOG_LVL_DEBUG : LOG_LVL_ERROR;

	TEST_RUN(test_forwarded_head);
	TEST_RUN(test_pipelined_in_order);
	TEST_RUN(test_rechunked);
	TEST_RUN(test_smuggling_refused);
	TEST_RUN(test_bad_response_502);
	TEST_RUN(test_header_timeout_408);
	TEST_RUN(test_idle_timeout_from_last_response);
	TEST_RUN(test_head_then_get);
	TEST_RUN(test_expect_continue);
	TEST_RUN(test_http10_client);
	TEST_RUN(test_upgrade_relayed);
	TEST_RUN(test_upstream_reuse_and_reopen);
	TEST_RUN(test_upstream_watched_between_requests);
	TEST_RUN(test_upstream_failures);
	TEST_RUN(test_chunked_upload_10mib);
	TEST_MAIN_END();
}
