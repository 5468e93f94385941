// SPDX-License-Identifier: Apache-2.0
/*
 * Tests of the benchmark load generator (tests/bench/mf_httpload.c): the
 * latency histogram against exact percentiles of known distributions, the
 * HTTP/1.x response parser at every split of its input, the command line,
 * and short runs of every mode over loopback against a server in this
 * process, including one that stalls 200 ms once: the stall must show in
 * the corrected latency's p99 and max, not only in one request's service
 * time (coordinated omission accounted for).
 */
#include <pthread.h>

#include "harness/test.h"

/* The tool's main() becomes an ordinary function; all its statics are ours. */
#define main hl_tool_main
#include "../bench/mf_httpload.c"
#undef main

/* ---- histogram ---------------------------------------------------------- */

static uint64_t t_rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t t_rand(void)
{
	/* xorshift64*: deterministic, so a failure reproduces. */
	t_rng_state ^= t_rng_state >> 12;
	t_rng_state ^= t_rng_state << 25;
	t_rng_state ^= t_rng_state >> 27;
	return t_rng_state * 0x2545f4914f6cdd1dull;
}

static int t_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool test_hist_bucket_bounds(void)
{
	/* Every value lies in its bucket, and no bucket is wider than 1/128
	 * of its lower bound: the base of the accuracy claim. */
	for (uint64_t i = 0; i < 2000000; i++) {
		uint64_t v = i < 70000 ? i : t_rand() >> (64 - 37), lo, width;
		unsigned int idx = hl_hist_index(v);

		hl_hist_bounds(idx, &lo, &width);
		if (!ASSERT_TRUE(idx < HL_HIST_BUCKETS) || !ASSERT_TRUE(v >= lo) ||
		    !ASSERT_TRUE(v < lo + width) || !ASSERT_TRUE(width == 1 || width * 128 <= lo))
			return false;
	}
	return true;
}

static bool test_hist_exact_small_values(void)
{
	static struct hl_hist h;

	hl_hist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		hl_hist_record(&h, v);
	return ASSERT_EQ(hl_hist_quantile(&h, 0.5), 50) &&
	       ASSERT_EQ(hl_hist_quantile(&h, 0.9), 90) &&
	       ASSERT_EQ(hl_hist_quantile(&h, 0.99), 99) &&
	       ASSERT_EQ(hl_hist_quantile(&h, 1.0), 100) &&
	       ASSERT_EQ(h.min, 1) && ASSERT_EQ((uint64_t)(hl_hist_mean(&h) * 2), 101);
}

enum t_dist { T_LOG_UNIFORM, T_PARETO, T_BIMODAL, T_CONSTANT };

static uint64_t t_sample(enum t_dist d)
{
	switch (d) {
	case T_LOG_UNIFORM: {
		/* 1 us .. 60 s: a random octave, uniform inside it. */
		unsigned int m = 10 + (unsigned int)(t_rand() % 26);
		uint64_t v = (1ull << m) + (t_rand() >> (64 - m));

		return v > 60 * HL_NS ? 60 * HL_NS : v;
	}
	case T_PARETO:
		/* 50 us / u: heavy tail. */
		return (uint64_t)(50000.0 / ((double)((t_rand() >> 11) + 1) / 9007199254740992.0));
	case T_BIMODAL:
		/* 99 %: 80-120 us; 1 %: 150-250 ms. */
		if (t_rand() % 100)
			return 80000 + t_rand() % 40000;
		return 150000000 + t_rand() % 100000000;
	case T_CONSTANT:
	default:
		return 123456;
	}
}

static bool t_check_dist(enum t_dist d, size_t n)
{
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999, 1.0 };
	static struct hl_hist h;
	uint64_t *v = malloc(n * sizeof(*v));
	bool ok = true;
	double sum = 0;

	if (!ASSERT_TRUE(v))
		return false;
	hl_hist_init(&h);
	for (size_t i = 0; i < n; i++) {
		v[i] = t_sample(d);
		sum += (double)v[i];
		hl_hist_record(&h, v[i]);
	}
	qsort(v, n, sizeof(*v), t_cmp_u64);
	for (size_t k = 0; ok && k < sizeof(qs) / sizeof(qs[0]); k++) {
		size_t rank = (size_t)(qs[k] * (double)n);
		uint64_t exact, got = hl_hist_quantile(&h, qs[k]);
		double err;

		if ((double)rank < qs[k] * (double)n)
			rank++;
		exact = v[rank - 1];
		err = got > exact ? (double)(got - exact) : (double)(exact - got);
		/* The brief asks for <= 1 %; the bucketing promises 0.4 %. */
		if (err > 0.004 * (double)exact + 1) {
			fprintf(stderr, "dist %d q=%g: exact %" PRIu64 " got %" PRIu64 "\n",
				(int)d, qs[k], exact, got);
			ok = false;
		}
	}
	ok = ok && ASSERT_EQ(h.max, v[n - 1]) && ASSERT_EQ(h.min, v[0]) &&
	     ASSERT_TRUE(hl_hist_mean(&h) > sum / (double)n * 0.999999 &&
			 hl_hist_mean(&h) < sum / (double)n * 1.000001);
	free(v);
	return ok;
}

/* test_hist_percentiles_<name>: @n samples of @dist, a case of its own. */
#define T_DIST_CASE(name, dist, n)					\
	static bool test_hist_percentiles_##name(void)			\
	{								\
		return t_check_dist(dist, n);				\
	}

T_DIST_CASE(log_uniform, T_LOG_UNIFORM, 300000)
T_DIST_CASE(pareto, T_PARETO, 300000)
T_DIST_CASE(bimodal, T_BIMODAL, 300000)
T_DIST_CASE(constant, T_CONSTANT, 1000)

static bool test_hist_over_range_clamps(void)
{
	static struct hl_hist h;

	hl_hist_init(&h);
	hl_hist_record(&h, 500 * HL_NS);	/* beyond 2^37 ns */
	hl_hist_record(&h, 1000);
	return ASSERT_EQ(hl_hist_quantile(&h, 1.0), 500 * HL_NS) &&
	       /* 1000 ns shares a 4 ns bucket: its midpoint is reported. */
	       ASSERT_TRUE(hl_hist_quantile(&h, 0.5) >= 996 &&
			   hl_hist_quantile(&h, 0.5) <= 1004) &&
	       ASSERT_TRUE(hl_hist_quantile(&h, 0.99) <= 500 * HL_NS);
}

/* ---- response parser ---------------------------------------------------- */

/* Feeds @s in pieces of @step bytes (0: split once at @split).  Returns the
 * parser's final result: total bytes consumed when complete, 0, or <0. */
static long t_feed(struct hl_resp *r, const char *s, size_t n, size_t split, size_t step)
{
	size_t off = 0;

	hl_resp_reset(r);
	while (off < n) {
		size_t len = step ? (n - off < step ? n - off : step) :
			     off < split ? split - off : n - off;
		long got = hl_resp_feed(r, s + off, len);

		if (got < 0)
			return got;
		if (got > 0)
			return (long)off + got;
		off += len;
	}
	return 0;
}

static const char t_cl_resp[] =
	"HTTP/1.1 200 OK\r\nServer: t\r\ncontent-length:  10 \r\nX-Long: "
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	"\r\n\r\n0123456789";

static const char t_chunked_resp[] =
	"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
	"5;name=value\r\nhello\r\nA\r\n0123456789\r\n0\r\nTrailer: t\r\n\r\n";

static bool test_resp_content_length_every_split(void)
{
	struct hl_resp r;
	size_t n = sizeof(t_cl_resp) - 1;

	for (size_t split = 0; split <= n; split++) {
		if (!ASSERT_EQ(t_feed(&r, t_cl_resp, n, split, 0), n) ||
		    !ASSERT_EQ(r.status, 200) || !ASSERT_EQ(r.body_bytes, 10) ||
		    !ASSERT_FALSE(r.close))
			return false;
	}
	return ASSERT_EQ(t_feed(&r, t_cl_resp, n, 0, 1), n);
}

static bool test_resp_chunked_every_split(void)
{
	struct hl_resp r;
	size_t n = sizeof(t_chunked_resp) - 1;

	for (size_t split = 0; split <= n; split++) {
		if (!ASSERT_EQ(t_feed(&r, t_chunked_resp, n, split, 0), n) ||
		    !ASSERT_EQ(r.status, 201) || !ASSERT_EQ(r.body_bytes, 15))
			return false;
	}
	return ASSERT_EQ(t_feed(&r, t_chunked_resp, n, 0, 1), n) &&
	       ASSERT_EQ(t_feed(&r, t_chunked_resp, n, 0, 3), n);
}

static bool test_resp_bytes_beyond_end(void)
{
	char buf[512];
	struct hl_resp r;
	size_t n = sizeof(t_cl_resp) - 1;

	/* A body longer than its Content-Length: the parser stops at the
	 * announced end, so the caller sees the excess. */
	memcpy(buf, t_cl_resp, n);
	memcpy(buf + n, "XY", 2);
	hl_resp_reset(&r);
	return ASSERT_EQ(hl_resp_feed(&r, buf, n + 2), n);
}

static bool t_rejects(const char *s)
{
	struct hl_resp r;

	hl_resp_reset(&r);
	if (hl_resp_feed(&r, s, strlen(s)) < 0)
		return true;
	fprintf(stderr, "accepted: %s\n", s);
	return false;
}

static bool test_resp_rejects_malformed(void)
{
	return t_rejects("HTTP/2 200 OK\r\n\r\n") &&
	       t_rejects("FOO\r\n\r\n") &&
	       t_rejects("HTTP/1.1 20 OK\r\n\r\n") &&
	       t_rejects("HTTP/1.1 200OK\r\n\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n") &&
	       t_rejects("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1234567890abcdef0\r\n") &&
	       t_rejects("HTTP/1.1 101 Switching Protocols\r\n\r\n");
}

static bool test_resp_header_limit(void)
{
	struct hl_resp r;
	char line[1024];
	long got = 0;

	memset(line, 'a', sizeof(line));
	memcpy(line, "X-Pad: ", 7);
	line[sizeof(line) - 2] = '\r';
	line[sizeof(line) - 1] = '\n';
	hl_resp_reset(&r);
	got = hl_resp_feed(&r, "HTTP/1.1 200 OK\r\n", 17);
	/* 64 KiB of headers pass; the next line crosses the limit. */
	for (int i = 0; got == 0 && i < 100; i++)
		got = hl_resp_feed(&r, line, sizeof(line));
	return ASSERT_EQ(got, -E2BIG) && ASSERT_TRUE(r.head_bytes > 60000);
}

static bool test_resp_connection_semantics(void)
{
	static const char h10[] = "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const char h10ka[] =
		"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n";
	static const char h11c[] = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
	static const char noframe[] = "HTTP/1.1 200 OK\r\n\r\nbody until close";
	static const char cut[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234";
	struct hl_resp r;

	if (!ASSERT_EQ(t_feed(&r, h10, sizeof(h10) - 1, 0, 0), sizeof(h10) - 1) ||
	    !ASSERT_TRUE(r.close))
		return false;
	if (!ASSERT_EQ(t_feed(&r, h10ka, sizeof(h10ka) - 1, 0, 0), sizeof(h10ka) - 1) ||
	    !ASSERT_FALSE(r.close))
		return false;
	if (!ASSERT_EQ(t_feed(&r, h11c, sizeof(h11c) - 1, 0, 0), sizeof(h11c) - 1) ||
	    !ASSERT_TRUE(r.close))
		return false;
	/* No framing: the body runs to the close, which completes it. */
	if (!ASSERT_EQ(t_feed(&r, noframe, sizeof(noframe) - 1, 0, 0), 0) ||
	    !ASSERT_EQ(hl_resp_eof(&r), 1) || !ASSERT_EQ(r.body_bytes, 16) ||
	    !ASSERT_TRUE(r.close))
		return false;
	/* A close inside a Content-Length body cuts the response short. */
	return ASSERT_EQ(t_feed(&r, cut, sizeof(cut) - 1, 0, 0), 0) &&
	       ASSERT_EQ(hl_resp_eof(&r), -EPIPE);
}

static bool test_resp_interim_and_bodiless(void)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	static const char nc[] = "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n";
	struct hl_resp r;

	return ASSERT_EQ(t_feed(&r, cont, sizeof(cont) - 1, 0, 0), sizeof(cont) - 1) &&
	       ASSERT_EQ(r.status, 200) && ASSERT_EQ(r.body_bytes, 2) &&
	       ASSERT_EQ(t_feed(&r, nc, sizeof(nc) - 1, 0, 0), sizeof(nc) - 1) &&
	       ASSERT_EQ(r.status, 204) && ASSERT_EQ(r.body_bytes, 0);
}

/* ---- command line ------------------------------------------------------- */

static bool test_parse_url(void)
{
	struct hl_cfg cfg;

	hl_cfg_defaults(&cfg);
	if (!ASSERT_EQ(hl_parse_url(&cfg, "http://10.96.0.10:8080/a/b?c=d"), 0) ||
	    !ASSERT_EQ(ntohs(cfg.addr.sin_port), 8080) ||
	    !ASSERT_STREQ(cfg.path, "/a/b?c=d") || !ASSERT_STREQ(cfg.host, "10.96.0.10:8080"))
		return false;
	hl_cfg_defaults(&cfg);
	if (!ASSERT_EQ(hl_parse_url(&cfg, "http://127.0.0.1"), 0) ||
	    !ASSERT_EQ(ntohs(cfg.addr.sin_port), 80) || !ASSERT_STREQ(cfg.path, "/"))
		return false;
	return ASSERT_EQ(hl_parse_url(&cfg, "https://1.2.3.4/"), -EINVAL) &&
	       ASSERT_EQ(hl_parse_url(&cfg, "http://example.com/"), -EINVAL) &&
	       ASSERT_EQ(hl_parse_url(&cfg, "http://1.2.3.4:0/"), -EINVAL) &&
	       ASSERT_EQ(hl_parse_url(&cfg, "http://1.2.3.4:99999/"), -EINVAL) &&
	       ASSERT_EQ(hl_parse_url(&cfg, "http://:80/"), -EINVAL);
}

static bool test_parse_args(void)
{
	char *good[] = { "x", "--url", "http://1.2.3.4:81/p", "--rate", "2500.5", "--conns",
			 "32", "--duration", "3", "--warmup", "0.5", "--host", "web", NULL };
	char *two_modes[] = { "x", "--url", "http://1.2.3.4/", "--max", "--new-conn", NULL };
	char *no_mode[] = { "x", "--url", "http://1.2.3.4/", NULL };
	char *bad_rate[] = { "x", "--url", "http://1.2.3.4/", "--rate", "fast", NULL };
	char *idle[] = { "x", "--url", "http://1.2.3.4/", "--idle", "1000", "--hold", "5", NULL };
	struct hl_cfg cfg;

	if (!ASSERT_EQ(hl_parse_args(13, good, &cfg), 0) ||
	    !ASSERT_EQ(cfg.mode, HL_MODE_RATE) || !ASSERT_TRUE(cfg.rate == 2500.5) ||
	    !ASSERT_EQ(cfg.conns, 32) || !ASSERT_STREQ(cfg.host, "web") ||
	    !ASSERT_TRUE(cfg.warmup_s == 0.5) || !ASSERT_STREQ(cfg.path, "/p"))
		return false;
	if (!ASSERT_EQ(hl_parse_args(7, idle, &cfg), 0) || !ASSERT_EQ(cfg.mode, HL_MODE_IDLE) ||
	    !ASSERT_EQ(cfg.idle_conns, 1000) || !ASSERT_TRUE(cfg.hold_s == 5))
		return false;
	return ASSERT_EQ(hl_parse_args(5, two_modes, &cfg), -EINVAL) &&
	       ASSERT_EQ(hl_parse_args(3, no_mode, &cfg), -EINVAL) &&
	       ASSERT_EQ(hl_parse_args(5, bad_rate, &cfg), -EINVAL);
}

static bool test_json_output(void)
{
	static struct hl_result res;
	struct hl_cfg cfg;
	char *out = NULL;
	size_t len = 0;
	int depth = 0;
	FILE *f;
	bool ok;

	hl_cfg_defaults(&cfg);
	cfg.mode = HL_MODE_RATE;
	cfg.rate = 100;
	hl_parse_url(&cfg, "http://1.2.3.4/\"q");
	memset(&res, 0, sizeof(res));
	hl_hist_init(&res.lat);
	hl_hist_init(&res.svc);
	hl_hist_init(&res.queue);
	hl_hist_record(&res.lat, 1500);
	res.window_s = 2;
	res.sent_in_window = 199;
	res.done_in_window = 200;
	res.requests = 200;
	res.ok_2xx = 199;
	res.err[HL_ERR_TIMEOUT] = 1;
	f = open_memstream(&out, &len);
	if (!ASSERT_TRUE(f))
		return false;
	hl_print_json(f, &cfg, &res);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		depth += out[i] == '{' ? 1 : out[i] == '}' ? -1 : 0;
	ok = ASSERT_EQ(depth, 0) && ASSERT_EQ(out[len - 1], '\n') &&
	     ASSERT_TRUE(strstr(out, "\"url\":\"http://1.2.3.4/\\\"q\"")) &&
	     ASSERT_TRUE(strstr(out, "\"achieved_rate\":99.500,\"rps\":100.000")) &&
	     ASSERT_TRUE(strstr(out, "\"errors\":1,")) &&
	     ASSERT_TRUE(strstr(out, "\"latency_us\":{\"count\":1,\"p50\":1.5,"));
	if (!ok)
		fprintf(stderr, "%s", out);
	free(out);
	return ok;
}

/* ---- loopback runs ------------------------------------------------------ */

/*
 * A plain HTTP/1.1 server, one blocking thread per connection.  A global
 * lock around every answer lets one request stall the whole server, the
 * way a GC pause or a blocked event loop does.
 */
struct t_srv {
	int lfd;
	uint16_t port;
	pthread_t acceptor;
	long stall_at;		/* 1-based request number that stalls; 0: none */
	int stall_ms;
	bool close_at_accept;
	bool silent;		/* read requests, never answer */
	pthread_mutex_t mu;
	long served;
	char resp[2][256];	/* [1]: the answer to "Connection: close" */
};

#define T_BODY_LEN 100

struct t_conn_arg {
	struct t_srv *s;
	int fd;
};

static bool t_send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *t_srv_conn(void *arg)
{
	struct t_conn_arg a = *(struct t_conn_arg *)arg;
	char buf[8192];
	size_t len = 0;

	free(arg);
	for (;;) {
		ssize_t n = recv(a.fd, buf + len, sizeof(buf) - len, 0);
		char *end;

		if (n <= 0)
			break;
		len += (size_t)n;
		while ((end = memmem(buf, len, "\r\n\r\n", 4))) {
			size_t used = (size_t)(end + 4 - buf);
			bool close_it = memmem(buf, used, "Connection: close", 17) != NULL;
			const char *reply = a.s->resp[close_it];

			memmove(buf, buf + used, len - used);
			len -= used;
			if (a.s->silent)
				continue;
			pthread_mutex_lock(&a.s->mu);
			if (++a.s->served == a.s->stall_at)
				usleep((useconds_t)a.s->stall_ms * 1000);
			pthread_mutex_unlock(&a.s->mu);
			if (!t_send_all(a.fd, reply, strlen(reply)))
				goto out;
			if (close_it)
				shutdown(a.fd, SHUT_WR);	/* then wait for the client's close */
		}
		if (len == sizeof(buf))
			break;
	}
out:
	close(a.fd);
	return NULL;
}

static void *t_srv_accept(void *arg)
{
	struct t_srv *s = arg;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct t_conn_arg *a;
		pthread_t t;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			break;	/* the listener was shut down */
		}
		if (s->close_at_accept) {
			close(fd);
			continue;
		}
		a = malloc(sizeof(*a));
		if (!a) {
			close(fd);
			continue;
		}
		a->s = s;
		a->fd = fd;
		if (pthread_create(&t, &attr, t_srv_conn, a)) {
			free(a);
			close(fd);
		}
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

static bool t_srv_start(struct t_srv *s)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	char body[T_BODY_LEN + 1];

	memset(body, 'b', T_BODY_LEN);
	body[T_BODY_LEN] = '\0';
	snprintf(s->resp[0], sizeof(s->resp[0]),
		 "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", T_BODY_LEN, body);
	snprintf(s->resp[1], sizeof(s->resp[1]),
		 "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		 T_BODY_LEN, body);
	pthread_mutex_init(&s->mu, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(s->lfd, 4096) || getsockname(s->lfd, (struct sockaddr *)&sa, &sl)) {
		perror("test server");
		return false;
	}
	s->port = ntohs(sa.sin_port);
	return pthread_create(&s->acceptor, NULL, t_srv_accept, s) == 0;
}

static void t_srv_stop(struct t_srv *s)
{
	/* Wakes the acceptor; connection threads end when their clients
	 * (closed by hl_run on return) go away. */
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->acceptor, NULL);
	close(s->lfd);
}

/* Sets @cfg to the defaults in @mode.  False when the kernel has no
 * io_uring, which every loopback run needs. */
static bool t_cfg(struct hl_cfg *cfg, enum hl_mode mode)
{
	struct io_uring ring;

	hl_cfg_defaults(cfg);
	cfg->mode = mode;
	if (io_uring_queue_init(2, &ring, 0))
		return false;
	io_uring_queue_exit(&ring);
	return true;
}

static struct hl_result t_res;

/*
 * Starts @s, points @cfg at it and runs @cfg into t_res, then stops @s.
 * With @ready, the line idle mode prints once its connections settle must
 * be exactly that.  The figures go to stderr: run.sh shows them when a
 * case fails.
 */
static bool t_run(struct t_srv *s, struct hl_cfg *cfg, const char *ready)
{
	char url[64], *out = NULL;
	size_t len = 0;
	bool ok;

	if (!ASSERT_TRUE(t_srv_start(s)))
		return false;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/bench", s->port);
	hl_parse_url(cfg, url);
	cfg->ready_out = open_memstream(&out, &len);
	ok = ASSERT_TRUE(cfg->ready_out) && ASSERT_EQ(hl_run(cfg, &t_res), 0);
	if (cfg->ready_out)
		fclose(cfg->ready_out);
	t_srv_stop(s);
	hl_print_json(stderr, cfg, &t_res);
	ok = ok && (!ready || ASSERT_STREQ(out, ready));
	free(out);
	return ok;
}

static bool test_loop_max(void)
{
	struct t_srv s = { 0 };
	struct hl_cfg cfg;

	if (!t_cfg(&cfg, HL_MODE_MAX))
		TEST_SKIP("io_uring unavailable");
	cfg.conns = 4;
	cfg.warmup_s = 0.1;
	cfg.duration_s = 0.5;
	return t_run(&s, &cfg, NULL) && ASSERT_TRUE(t_res.requests > 100) &&
	       ASSERT_EQ(t_res.ok_2xx, t_res.requests) && ASSERT_EQ(hl_errors(&t_res), 0) &&
	       ASSERT_EQ(t_res.lat.count, t_res.ok_2xx) &&
	       ASSERT_EQ(t_res.body_bytes, t_res.ok_2xx * T_BODY_LEN) &&
	       ASSERT_EQ(t_res.conns_open, 4) && ASSERT_TRUE(t_res.done_in_window > 100);
}

static bool test_loop_rate_hits_target(void)
{
	struct t_srv s = { 0 };
	struct hl_cfg cfg;
	double achieved, rps;

	if (!t_cfg(&cfg, HL_MODE_RATE))
		TEST_SKIP("io_uring unavailable");
	cfg.rate = 2000;
	cfg.conns = 8;
	cfg.warmup_s = 0.3;
	cfg.duration_s = 1.5;
	if (!t_run(&s, &cfg, NULL))
		return false;
	achieved = (double)t_res.sent_in_window / t_res.window_s;
	rps = (double)t_res.done_in_window / t_res.window_s;
	/* Due times are i/rate exactly: the window holds 3000 of them. */
	return ASSERT_EQ(t_res.requests, 3000) &&
	       ASSERT_EQ(t_res.ok_2xx, 3000) &&
	       ASSERT_EQ(hl_errors(&t_res), 0) &&
	       ASSERT_TRUE(achieved > 1980 && achieved < 2020) &&
	       ASSERT_TRUE(rps > 1980 && rps < 2020);
}

static bool test_loop_stall_charged_to_tail(void)
{
	struct t_srv s = { .stall_at = 800, .stall_ms = 200 };
	struct hl_cfg cfg;

	/* 1000/s: request 800 is due at 0.8 s, inside the window.  During the
	 * 200 ms stall ~200 requests fall due: their latency from the due time
	 * spans 0..200 ms, ~13 % of the window, so p99 must be far above
	 * 100 ms.  Only the 8 on the wire see it as service time (< 1 %). */
	if (!t_cfg(&cfg, HL_MODE_RATE))
		TEST_SKIP("io_uring unavailable");
	cfg.rate = 1000;
	cfg.conns = 8;
	cfg.warmup_s = 0.3;
	cfg.duration_s = 1.2;
	return t_run(&s, &cfg, NULL) && ASSERT_EQ(hl_errors(&t_res), 0) &&
	       ASSERT_EQ(t_res.ok_2xx, 1200) &&
	       ASSERT_TRUE(hl_hist_quantile(&t_res.lat, 1.0) >= 190 * 1000000ull) &&
	       ASSERT_TRUE(hl_hist_quantile(&t_res.lat, 0.99) >= 100 * 1000000ull) &&
	       ASSERT_TRUE(hl_hist_quantile(&t_res.svc, 0.99) < 50 * 1000000ull) &&
	       ASSERT_TRUE(hl_hist_quantile(&t_res.svc, 1.0) >= 190 * 1000000ull);
}

static bool test_loop_new_conn(void)
{
	struct t_srv s = { 0 };
	struct hl_cfg cfg;

	if (!t_cfg(&cfg, HL_MODE_NEWCONN))
		TEST_SKIP("io_uring unavailable");
	cfg.conns = 4;
	cfg.warmup_s = 0.1;
	cfg.duration_s = 0.5;
	return t_run(&s, &cfg, NULL) && ASSERT_TRUE(t_res.requests > 50) &&
	       ASSERT_EQ(t_res.ok_2xx, t_res.requests) && ASSERT_EQ(hl_errors(&t_res), 0) &&
	       ASSERT_EQ(t_res.conn_errors, 0);
}

static bool test_loop_timeout_counted(void)
{
	struct t_srv s = { .silent = true };
	struct hl_cfg cfg;

	if (!t_cfg(&cfg, HL_MODE_RATE))
		TEST_SKIP("io_uring unavailable");
	cfg.rate = 100;
	cfg.conns = 2;
	cfg.warmup_s = 0;
	cfg.duration_s = 0.3;
	cfg.timeout_s = 0.2;
	/* Every request fails: timed out on the wire, or never sent. */
	return t_run(&s, &cfg, NULL) && ASSERT_EQ(t_res.requests, 30) &&
	       ASSERT_EQ(t_res.ok_2xx, 0) && ASSERT_EQ(hl_errors(&t_res), 30) &&
	       ASSERT_TRUE(t_res.err[HL_ERR_TIMEOUT] >= 2) &&
	       ASSERT_EQ(t_res.lat.count, 0);
}

static bool test_loop_idle_holds(void)
{
	struct t_srv s = { .silent = true };
	struct hl_cfg cfg;

	if (!t_cfg(&cfg, HL_MODE_IDLE))
		TEST_SKIP("io_uring unavailable");
	cfg.idle_conns = 300;
	cfg.connect_batch = 50;
	cfg.settle_s = 0.2;
	cfg.hold_s = 0.2;
	return t_run(&s, &cfg, "idle_open=300 idle_failed=0\n") &&
	       ASSERT_EQ(t_res.idle_established, 300) &&
	       ASSERT_EQ(t_res.idle_open_end, 300) &&
	       ASSERT_EQ(t_res.idle_dropped_settle +
			 t_res.idle_dropped_hold, 0);
}

static bool test_loop_idle_sees_server_close(void)
{
	struct t_srv s = { .close_at_accept = true };
	struct hl_cfg cfg;

	if (!t_cfg(&cfg, HL_MODE_IDLE))
		TEST_SKIP("io_uring unavailable");
	cfg.idle_conns = 100;
	cfg.settle_s = 0.2;
	cfg.hold_s = 0.01;
	/* Accepted, then closed: none may be reported open. */
	return t_run(&s, &cfg, "idle_open=0 idle_failed=100\n") &&
	       ASSERT_EQ(t_res.idle_open_ready, 0) &&
	       ASSERT_EQ(t_res.idle_failed + t_res.idle_dropped_settle, 100);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	signal(SIGPIPE, SIG_IGN);
	TEST_RUN(test_hist_bucket_bounds);
	TEST_RUN(test_hist_exact_small_values);
	TEST_RUN(test_hist_percentiles_log_uniform);
	TEST_RUN(test_hist_percentiles_pareto);
	TEST_RUN(test_hist_percentiles_bimodal);
	TEST_RUN(test_hist_percentiles_constant);
	TEST_RUN(test_hist_over_range_clamps);
	TEST_RUN(test_resp_content_length_every_split);
	TEST_RUN(test_resp_chunked_every_split);
	TEST_RUN(test_resp_bytes_beyond_end);
	TEST_RUN(test_resp_rejects_malformed);
	TEST_RUN(test_resp_header_limit);
	TEST_RUN(test_resp_connection_semantics);
	TEST_RUN(test_resp_interim_and_bodiless);
	TEST_RUN(test_parse_url);
	TEST_RUN(test_parse_args);
	TEST_RUN(test_json_output);
	TEST_RUN(test_loop_max);
	TEST_RUN(test_loop_rate_hits_target);
	TEST_RUN(test_loop_stall_charged_to_tail);
	TEST_RUN(test_loop_new_conn);
	TEST_RUN(test_loop_timeout_counted);
	TEST_RUN(test_loop_idle_holds);
	TEST_RUN(test_loop_idle_sees_server_close);
	TEST_MAIN_END();
}
