// SPDX-License-Identifier: Apache-2.0
/*
 * The admin endpoint, in process: a loop runs in its own thread with the
 * admin listener (ephemeral port, short deadline), the forward listener (a
 * data path to check it is never disturbed) and a fixed policy snapshot.
 * The test speaks raw HTTP/1.1 over ordinary sockets.
 */
#include <ctype.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/loop_harness.h"
#include "harness/records_harness.h"
#include "../../agent/admin.h"
#include "../../agent/loop.h"
#include "log.h"

#define TD		"mesh.local"
#define ID_WEB		"spiffe://" TD "/ns/default/sa/web"
#define ID_CLIENT	"spiffe://" TD "/ns/default/sa/client"
#define EPOCH		7
#define TIMEOUT_MS	300
/* At least one byte of answer. */
#define ASSERT_GT0(x)	ASSERT_GE((x), 1)

/* Services web (10.96.0.10:80, two endpoints, one rule) and api
 * (10.96.0.11:8080, no endpoints, no rule), ids in name order as mfctl
 * gives them (api 1, web 2), and one MeshTimeout entry.  Endpoints name
 * their node by address; the dump shows the name of the node record with
 * that address. */
static const char policy_yaml[] =
	RH_DOC("Mesh", "default") "spec: {trustDomain: " TD "}\n"
	RH_DOC("Node", "mf-node-a") "spec: {address: 10.77.0.1}\n"
	RH_DOC("Node", "mf-node-b") "spec: {address: 10.77.0.2}\n"
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.11, port: 8080}\n"
	RH_DOC("Workload", "web1") "spec: {node: mf-node-a, ip: 10.78.1.11, "
	"port: 8080, service: web, identity: \"" ID_WEB "\"}\n"
	RH_DOC("Workload", "web2") "spec: {node: mf-node-b, ip: 10.78.2.11, "
	"port: 8080, service: web, identity: \"" ID_WEB "\"}\n"
	RH_DOC("MeshTrafficPermission", "web-allow")
	"spec:\n  targetRef: {kind: MeshService, name: web}\n  from:\n"
	"    - targetRef: {kind: SpiffeID, name: \"" ID_CLIENT "\"}\n"
	"      default: {action: Allow}\n"
	RH_DOC("MeshTimeout", "mt")
	"spec:\n  targetRef: {kind: Mesh}\n  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default: {connectionTimeout: 2s}\n";

static struct policy *make_policy(void)
{
	return rh_yaml_snapshot(policy_yaml, EPOCH);
}

/* Starts a loop with the admin endpoint, forwarding data connections to
 * 127.0.0.1:@to_port, serving @pol (may be NULL: no snapshot). */
static bool start(struct lh_loop *h, uint16_t to_port, struct policy *pol)
{
	memset(h, 0, sizeof(*h));
	h->cfg.node = "node-t";
	h->cfg.policy = pol;
	h->cfg.listen_addr = htonl(INADDR_LOOPBACK);
	h->cfg.forward_to.sin_family = AF_INET;
	h->cfg.forward_to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->cfg.forward_to.sin_port = htons(to_port);
	h->cfg.handle_signals = true;
	h->cfg.max_conns = 64;
	h->cfg.admin_on = true;
	h->cfg.admin_timeout_ms = TIMEOUT_MS;
	if (!lh_loop_start(h))
		return false;
	if (!ASSERT_TRUE(h->admin_port != 0)) {
		pthread_join(h->thread, NULL);
		return false;
	}
	return true;
}

/* A client of 127.0.0.1:@port with 5 s I/O timeouts, or -1. */
static int client(uint16_t port)
{
	int fd = lh_client(port);

	if (fd >= 0)
		lh_set_timeout(fd, 5000);
	return fd;
}

/* Reads @fd to EOF into @buf (NUL-terminated).  Returns the byte count,
 * or -errno (-ECONNRESET for a reset) when the read failed. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t r = read(fd, buf + got, cap - 1 - got);

		if (r < 0) {
			buf[got] = '\0';
			return -errno;
		}
		if (r == 0)
			break;
		got += (size_t)r;
		if (got == cap - 1)
			break;
	}
	buf[got] = '\0';
	return (ssize_t)got;
}

/* Sends @req on a new admin connection and reads the answer into @resp.
 * Returns what read_all() returned (-1 when it could not connect). */
static ssize_t http(const struct lh_loop *h, const char *req, size_t len,
		    char *resp, size_t cap)
{
	int fd = client(h->admin_port);
	ssize_t r;

	resp[0] = '\0';
	if (fd < 0)
		return -1;
	if (write(fd, req, len) != (ssize_t)len) {
		r = -errno;
		close(fd);
		return r;
	}
	r = read_all(fd, resp, cap);
	close(fd);
	return r;
}

static ssize_t get(const struct lh_loop *h, const char *path, char *resp,
		   size_t cap)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: "
			 "127.0.0.1\r\nUser-Agent: test\r\n\r\n", path);

	return http(h, req, (size_t)n, resp, cap);
}

/* The body of response @resp, after its head. */
static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	return p ? p + 4 : "";
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char resp[1 << 16];

static bool test_ready(void)
{
	struct policy *pol = make_policy();
	struct lh_loop h;
	bool ok;

	if (!ASSERT_TRUE(pol != NULL) || !start(&h, 9, pol))
		return false;
	ok = ASSERT_GT0(get(&h, "/ready", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 200 OK\r\n")) &&
	     ASSERT_TRUE(strstr(resp, "\r\nConnection: close\r\n") != NULL) &&
	     ASSERT_TRUE(strstr(resp, "\r\nContent-Length: 6\r\n") != NULL) &&
	     ASSERT_STREQ(body_of(resp), "ready\n");
	lh_loop_stop(&h);
	policy_put(pol);
	if (!ok)
		return false;

	/* No snapshot: not ready. */
	if (!start(&h, 9, NULL))
		return false;
	ok = ASSERT_GT0(get(&h, "/ready", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 503 ")) &&
	     ASSERT_GT0(get(&h, "/config_dump", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 503 "));
	lh_loop_stop(&h);
	return ok;
}

/* A metric or label name per the exposition format. */
static const char *metric_name_end(const char *p)
{
	if (!(isalpha((unsigned char)*p) || *p == '_' || *p == ':'))
		return NULL;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
		p++;
	return p;
}

/*
 * Checks every line of exposition @text: "# HELP name text", "# TYPE name
 * counter|gauge" (HELP then TYPE once per family, before its samples), or
 * a sample "name{label="value",...} number" of the family last typed.
 */
static bool check_exposition(char *text)
{
	char family[128] = "", helped[128] = "";
	char *line, *save = NULL;
	int samples = 0;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *p = line, *e;
		char name[128], *end;

		if (starts_with(line, "# HELP ")) {
			e = metric_name_end(line + 7);
			if (!ASSERT_TRUE(e && *e == ' ' && e[1]))
				return false;
			snprintf(helped, sizeof(helped), "%.*s",
				 (int)(e - (line + 7)), line + 7);
			continue;
		}
		if (starts_with(line, "# TYPE ")) {
			e = metric_name_end(line + 7);
			if (!ASSERT_TRUE(e && *e == ' ') ||
			    !ASSERT_TRUE(!strcmp(e + 1, "counter") ||
					 !strcmp(e + 1, "gauge")))
				return false;
			snprintf(family, sizeof(family), "%.*s",
				 (int)(e - (line + 7)), line + 7);
			if (!ASSERT_STREQ(family, helped) ||
			    !ASSERT_TRUE(starts_with(family, "meshforge_")))
				return false;
			continue;
		}
		if (!ASSERT_TRUE(line[0] != '#'))
			return false;
		e = metric_name_end(p);
		if (!ASSERT_TRUE(e != NULL))
			return false;
		snprintf(name, sizeof(name), "%.*s", (int)(e - p), p);
		if (!ASSERT_STREQ(name, family))
			return false;
		p = e;
		if (*p == '{') {
			p++;
			for (;;) {
				e = metric_name_end(p);
				if (!ASSERT_TRUE(e && e[0] == '=' && e[1] == '"'))
					return false;
				p = e + 2;
				while (*p && *p != '"' && *p != '\\' && *p != '\n')
					p++;
				if (!ASSERT_EQ(*p, '"'))
					return false;
				p++;
				if (*p == '}')
					break;
				if (!ASSERT_EQ(*p, ','))
					return false;
				p++;
			}
			p++;
		}
		if (!ASSERT_EQ(*p, ' '))
			return false;
		(void)strtod(p + 1, &end);
		if (!ASSERT_TRUE(end != p + 1 && *end == '\0'))
			return false;
		samples++;
	}
	return ASSERT_GE(samples, 10);
}

/* `promtool check metrics` (format and lint) on @text, when promtool is
 * installed; true without it (check_exposition() still runs). */
static bool promtool_ok(const char *text)
{
	FILE *f;
	int st;

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		return true;
	f = popen("promtool check metrics", "w");
	if (!ASSERT_TRUE(f != NULL))
		return false;
	fputs(text, f);
	st = pclose(f);
	return ASSERT_EQ(st, 0);
}

static bool test_metrics(void)
{
	struct policy *pol = make_policy();
	struct lh_loop h;
	uint16_t up_port;
	int lfd, c = -1, s = -1;
	bool ok = false;

	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_TRUE(pol != NULL) || !ASSERT_GE(lfd, 0) ||
	    !start(&h, up_port, pol))
		return false;
	/* One data connection, so the forward counter moves. */
	c = client(h.fwd_port);
	s = accept(lfd, NULL, NULL);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0) ||
	    !ASSERT_EQ(write(c, "hello", 5), 5) ||
	    !ASSERT_EQ(read(s, resp, 5), 5))
		goto out;
	if (!ASSERT_GT0(get(&h, "/metrics", resp, sizeof(resp))) ||
	    !ASSERT_TRUE(starts_with(resp, "HTTP/1.1 200 OK\r\n")) ||
	    !ASSERT_TRUE(strstr(resp, "\r\nContent-Type: text/plain; "
				"version=0.0.4") != NULL))
		goto out;
	if (!ASSERT_TRUE(strstr(resp, "\n# HELP meshforge_policy_epoch ") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "\n# TYPE meshforge_policy_epoch gauge\n") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "\nmeshforge_policy_epoch 7\n") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "\nmeshforge_connections_accepted_total"
				"{listener=\"forward\"} 1\n") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "\nmeshforge_connections_active 1\n") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "\nmeshforge_relayed_bytes_total"
				"{direction=\"client_to_server\"} 5\n") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "{reason=\"no_policy\"} 0\n") != NULL) ||
	    !ASSERT_TRUE(strstr(resp, "\n# TYPE meshforge_loop_stall_seconds_max gauge\n"
				"meshforge_loop_stall_seconds_max ") != NULL))
		goto out;
	/* No pinned maps here: no kernel counters rather than zeros. */
	if (!ASSERT_TRUE(strstr(resp, "meshforge_pod_packets_total") == NULL))
		goto out;
	if (!promtool_ok(body_of(resp)) ||
	    !check_exposition((char *)body_of(resp)))
		goto out;
	ok = true;
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	policy_put(pol);
	return ok;
}

static bool test_config_dump(void)
{
	struct policy *pol = make_policy();
	struct lh_loop h;
	const char *b;
	bool ok;

	if (!ASSERT_TRUE(pol != NULL) || !start(&h, 9, pol))
		return false;
	ok = ASSERT_GT0(get(&h, "/config_dump", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 200 OK\r\n")) &&
	     ASSERT_TRUE(strstr(resp, "\r\nContent-Type: application/json\r\n") != NULL);
	b = body_of(resp);
	ok = ok &&
	     ASSERT_TRUE(starts_with(b, "{\"epoch\": 7, \"mesh\": \"default\", "
				 "\"trust_domain\": \"mesh.local\", "
				 "\"node\": \"node-t\", \"services\": [")) &&
	     ASSERT_TRUE(strstr(b, "{\"name\": \"web\", \"id\": 2, "
				"\"vip\": \"10.96.0.10\", \"port\": 80, "
				"\"protocol\": \"tcp\", \"endpoints\": [") != NULL) &&
	     ASSERT_TRUE(strstr(b, "{\"name\": \"web1\", \"ip\": \"10.78.1.11\", "
				"\"port\": 8080, \"node\": \"mf-node-a\", "
				"\"identity\": \"" ID_WEB "\"}") != NULL) &&
	     ASSERT_TRUE(strstr(b, "{\"name\": \"web2\", \"ip\": \"10.78.2.11\", "
				"\"port\": 8080, \"node\": \"mf-node-b\"") != NULL) &&
	     ASSERT_TRUE(strstr(b, "\"authz\": [{\"policy\": \"web-allow\", "
				"\"action\": \"Allow\", \"match\": \"Exact\", "
				"\"spiffe\": \"" ID_CLIENT "\"}]") != NULL) &&
	     ASSERT_TRUE(strstr(b, "{\"name\": \"api\", \"id\": 1, "
				"\"vip\": \"10.96.0.11\", \"port\": 8080, "
				"\"protocol\": \"tcp\", "
				"\"endpoints\": [], \"authz\": []}") != NULL) &&
	     ASSERT_TRUE(strstr(b, "], \"policies\": {\"MeshTimeout\": [{"
				"\"policy\": \"mt\", \"index\": 0, "
				"\"section\": \"to\", "
				"\"targetRef\": {\"kind\": \"Mesh\"}, "
				"\"entryRef\": {\"kind\": \"MeshService\", "
				"\"name\": \"web\"}, "
				"\"conf\": {\"connectionTimeout\": \"2s\"}}]}}\n")
			 != NULL);
	if (!ok)
		fprintf(stderr, "config_dump: %s\n", b);
	lh_loop_stop(&h);
	policy_put(pol);
	return ok;
}

static bool test_not_found_and_method(void)
{
	static const char post[] = "POST /ready HTTP/1.1\r\nHost: x\r\n"
				   "Content-Length: 0\r\n\r\n";
	static const char head10[] = "HEAD /metrics HTTP/1.0\r\n\r\n";
	struct lh_loop h;
	bool ok;

	if (!start(&h, 9, NULL))
		return false;
	ok = ASSERT_GT0(get(&h, "/nope", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 404 ")) &&
	     ASSERT_GT0(get(&h, "/readyz", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 404 ")) &&
	     /* A query string does not change the page. */
	     ASSERT_GT0(get(&h, "/metrics?x=1", resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 200 ")) &&
	     ASSERT_GT0(http(&h, post, sizeof(post) - 1, resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 405 ")) &&
	     ASSERT_TRUE(strstr(resp, "\r\nAllow: GET\r\n") != NULL) &&
	     ASSERT_GT0(http(&h, head10, sizeof(head10) - 1, resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 405 "));
	lh_loop_stop(&h);
	return ok;
}

/* Requests the server must reset without an answer. */
static bool test_malformed_reset(void)
{
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /ready HTTP/1.1\r\n\r\n",			/* no Host */
		"GET /ready HTTP/2.0\r\nHost: x\r\n\r\n",
		"get /ready HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET ready HTTP/1.1\r\nHost: x\r\n\r\n",
		"GET /ready HTTP/1.1\nHost: x\n\n\r\n\r\n",	/* bare LF */
		"GET /ready HTTP/1.1\r\nHost : x\r\n\r\n",
		"GET /ready HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
		"GET /ready HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
		"GET /ready HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET  /ready HTTP/1.1\r\nHost: x\r\n\r\n",
	};
	struct lh_loop h;
	bool ok = true;

	if (!start(&h, 9, NULL))
		return false;
	for (size_t i = 0; ok && i < sizeof(bad) / sizeof(bad[0]); i++) {
		ssize_t r = http(&h, bad[i], strlen(bad[i]), resp, sizeof(resp));

		ok = ASSERT_EQ(r, -ECONNRESET) && ASSERT_STREQ(resp, "");
		if (!ok)
			fprintf(stderr, "  request %zu\n", i);
	}
	lh_loop_stop(&h);
	return ok;
}

/* A head up to ADMIN_HEAD_MAX bytes is served; one more is reset. */
static bool test_head_limit(void)
{
	static char req[ADMIN_HEAD_MAX + 64];
	static const char start_line[] = "GET /ready HTTP/1.1\r\nHost: x\r\nX-Pad: ";
	struct lh_loop h;
	size_t pad;
	bool ok;

	if (!start(&h, 9, make_policy()))
		return false;
	/* Exactly ADMIN_HEAD_MAX bytes, CRLFCRLF included. */
	pad = ADMIN_HEAD_MAX - (sizeof(start_line) - 1) - 4;
	memcpy(req, start_line, sizeof(start_line) - 1);
	memset(req + sizeof(start_line) - 1, 'a', pad);
	memcpy(req + sizeof(start_line) - 1 + pad, "\r\n\r\n", 4);
	ok = ASSERT_GT0(http(&h, req, ADMIN_HEAD_MAX, resp, sizeof(resp))) &&
	     ASSERT_TRUE(starts_with(resp, "HTTP/1.1 200 OK\r\n"));
	/* One byte more. */
	memset(req + sizeof(start_line) - 1, 'a', pad + 1);
	memcpy(req + sizeof(start_line) + pad, "\r\n\r\n", 4);
	ok = ok &&
	     ASSERT_EQ(http(&h, req, ADMIN_HEAD_MAX + 1, resp, sizeof(resp)),
		       -ECONNRESET) &&
	     ASSERT_STREQ(resp, "");
	lh_loop_stop(&h);
	policy_put(h.cfg.policy);
	return ok;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	       (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Half a request: reset at the deadline, while a data connection relays
 * through the same loop undisturbed; so do more stalled admin connections
 * than the admin table holds.
 */
static bool test_timeout_and_data_path(void)
{
	enum { N = ADMIN_MAX_CONNS + 4 };
	struct policy *pol = make_policy();
	struct timespec t0;
	struct lh_loop h;
	uint16_t up_port;
	bool reset_seen[N] = { false };
	int lfd, a[N], c = -1, s = -1;
	char buf[8];
	bool ok = false;
	long ms;

	for (int i = 0; i < N; i++)
		a[i] = -1;
	lfd = lh_listener(&up_port, 16);
	if (!ASSERT_TRUE(pol != NULL) || !ASSERT_GE(lfd, 0) ||
	    !start(&h, up_port, pol))
		return false;
	c = client(h.fwd_port);
	s = accept(lfd, NULL, NULL);
	if (!ASSERT_GE(c, 0) || !ASSERT_GE(s, 0))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < N; i++) {
		ssize_t w;

		a[i] = client(h.admin_port);
		if (!ASSERT_GE(a[i], 0))
			goto out;
		w = send(a[i], "GET /rea", 8, MSG_NOSIGNAL);
		/* The connections the full table cannot take are reset at
		 * once, which may land before this write does: then the
		 * write is what sees the reset. */
		if (w < 0 && i >= ADMIN_MAX_CONNS &&
		    (errno == ECONNRESET || errno == EPIPE)) {
			reset_seen[i] = true;
			continue;
		}
		if (!ASSERT_EQ(w, 8))
			goto out;
	}
	/* The data path answers at once, stalled admin clients or not. */
	if (!ASSERT_EQ(write(c, "ping", 4), 4) ||
	    !ASSERT_EQ(read(s, buf, 4), 4) ||
	    !ASSERT_EQ(write(s, "pong", 4), 4) ||
	    !ASSERT_EQ(read(c, buf, 4), 4) || !ASSERT_MEMEQ(buf, "pong", 4) ||
	    !ASSERT_GE(TIMEOUT_MS / 2, ms_since(&t0)))
		goto out;
	/* Every stalled admin connection is reset: at the deadline, or at
	 * once for those the full table could not take. */
	for (int i = 0; i < N; i++)
		if (!reset_seen[i] &&
		    !ASSERT_EQ(read_all(a[i], resp, sizeof(resp)), -ECONNRESET))
			goto out;
	ms = ms_since(&t0);
	if (!ASSERT_GE(ms, TIMEOUT_MS - 50) || !ASSERT_GE(3000, ms))
		goto out;
	/* Still relaying, and the endpoint still answers. */
	if (!ASSERT_EQ(write(c, "again", 5), 5) ||
	    !ASSERT_EQ(read(s, buf, 5), 5) || !ASSERT_MEMEQ(buf, "again", 5) ||
	    !ASSERT_GT0(get(&h, "/ready", resp, sizeof(resp))) ||
	    !ASSERT_TRUE(starts_with(resp, "HTTP/1.1 200 OK\r\n")))
		goto out;
	ok = true;
out:
	for (int i = 0; i < N; i++)
		if (a[i] >= 0)
			close(a[i]);
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	lh_loop_stop(&h);
	close(lfd);
	policy_put(pol);
	return ok && ASSERT_EQ(h.loop_stats.stale_cqes, 0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	lh_signals_setup();
	log_level_max = LOG_LVL_ERROR;

	TEST_RUN(test_ready);
	TEST_RUN(test_metrics);
	TEST_RUN(test_config_dump);
	TEST_RUN(test_not_found_and_method);
	TEST_RUN(test_malformed_reset);
	TEST_RUN(test_head_limit);
	TEST_RUN(test_timeout_and_data_path);
	TEST_MAIN_END();
}
