// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP logs (agent/otlp_logs.c, agent/otlp.c, agent/collector.c): a
 * record's queued form both ways, strings made valid UTF-8, the
 * ExportLogsServiceRequest as a collector unpacks it (one
 * resource per service, records in order, body and attributes), and the
 * export over HTTP to a collector on loopback that records what it got:
 * its path and type, its records; a collector's error status and one that
 * is not there are errors.  gRPC is exercised against a real gRPC server
 * by tests/integration/test_access_log.sh.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness/test.h"
#include "../../agent/otlp_logs.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"

typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest
	req_t;

static req_t *unpack(const uint8_t *b, size_t n)
{
	return opentelemetry__proto__collector__logs__v1__export_logs_service_request__unpack(NULL, n, b);
}

static void unpack_free(req_t *r)
{
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__free_unpacked(r, NULL);
}

static bool test_log_roundtrip(void)
{
	struct otlp_log r = { .time_ns = 1700000000123456789ull,
			      .service = "client", .body = "GET /x 200",
			      .nattrs = 2, .key = { "mesh", "path" },
			      .value = { "default", "/x" } }, d;
	char buf[256];
	size_t n = otlp_log_encode(&r, buf, sizeof(buf));

	if (!ASSERT_TRUE(n > 0) || !ASSERT_EQ(otlp_log_decode(buf, n, &d), 0))
		return false;
	if (!ASSERT_EQ(d.time_ns, r.time_ns) ||
	    !ASSERT_STREQ(d.service, "client") ||
	    !ASSERT_STREQ(d.body, "GET /x 200") || !ASSERT_EQ(d.nattrs, 2) ||
	    !ASSERT_STREQ(d.key[1], "path") || !ASSERT_STREQ(d.value[1], "/x"))
		return false;
	/* No body, no service: none after the trip. */
	r.body = NULL;
	r.service = NULL;
	r.nattrs = 0;
	n = otlp_log_encode(&r, buf, sizeof(buf));
	if (!ASSERT_TRUE(n > 0) || !ASSERT_EQ(otlp_log_decode(buf, n, &d), 0) ||
	    !ASSERT_TRUE(!d.body && !d.service))
		return false;
	/* Too small a room; a cut or padded buffer is not a record. */
	r.body = "GET /x 200";
	return ASSERT_EQ(otlp_log_encode(&r, buf, 12), 0) &&
	       ASSERT_EQ(otlp_log_decode(buf, 5, &d), -EINVAL) &&
	       (n = otlp_log_encode(&r, buf, sizeof(buf))) > 0 &&
	       ASSERT_EQ(otlp_log_decode(buf, n - 1, &d), -EINVAL) &&
	       ASSERT_EQ(otlp_log_decode(buf, n + 1, &d), -EINVAL);
}

/* What a string becomes on its way out. */
static const char *fixed(const char *s)
{
	static char buf[128];
	struct otlp_log r = { .body = s }, d;
	size_t n = otlp_log_encode(&r, buf, sizeof(buf));

	return n && !otlp_log_decode(buf, n, &d) ? d.body : "(failed)";
}

static bool test_utf8(void)
{
	return ASSERT_STREQ(fixed("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
			    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") &&
	       /* Latin-1, a lone continuation, a cut sequence. */
	       ASSERT_STREQ(fixed("caf\xe9"), "caf?") &&
	       ASSERT_STREQ(fixed("a\x80z"), "a?z") &&
	       ASSERT_STREQ(fixed("a\xe2\x82"), "a??") &&
	       /* Overlong '/', a surrogate, past U+10FFFF. */
	       ASSERT_STREQ(fixed("\xc0\xaf"), "??") &&
	       ASSERT_STREQ(fixed("\xed\xa0\x80"), "???") &&
	       ASSERT_STREQ(fixed("\xf4\x90\x80\x80"), "????");
}

static bool test_pack(void)
{
	struct otlp_log r[3] = {
		{ .time_ns = 1, .service = "a", .body = "one", .nattrs = 1,
		  .key = { "k" }, .value = { "v1" } },
		{ .time_ns = 2, .service = "b", .body = "two" },
		{ .time_ns = 3, .service = "a", .body = NULL },
	};
	uint8_t *b;
	size_t n;
	req_t *q;
	bool ok;

	if (!ASSERT_EQ(otlp_logs_pack(r, 3, &b, &n), 0))
		return false;
	q = unpack(b + COLLECTOR_HEAD, n - COLLECTOR_HEAD);
	free(b);
	if (!ASSERT_TRUE(q))
		return false;
	ok = ASSERT_EQ(q->n_resource_logs, 2);
	for (size_t i = 0; ok && i < 2; i++) {
		const char *want = i ? "b" : "a";
		Opentelemetry__Proto__Logs__V1__ResourceLogs *rl =
			q->resource_logs[i];

		ok = ASSERT_TRUE(rl->resource) &&
		     ASSERT_EQ(rl->resource->n_attributes, 1) &&
		     ASSERT_STREQ(rl->resource->attributes[0]->key,
				  "service.name") &&
		     ASSERT_STREQ(rl->resource->attributes[0]->value->string_value,
				  want) &&
		     ASSERT_EQ(rl->n_scope_logs, 1) &&
		     ASSERT_STREQ(rl->scope_logs[0]->scope->name, "meshforge") &&
		     ASSERT_EQ(rl->scope_logs[0]->n_log_records, i ? 1 : 2);
	}
	if (ok) {
		Opentelemetry__Proto__Logs__V1__LogRecord **a =
			q->resource_logs[0]->scope_logs[0]->log_records;
		Opentelemetry__Proto__Logs__V1__LogRecord **bb =
			q->resource_logs[1]->scope_logs[0]->log_records;

		ok = ASSERT_EQ(a[0]->time_unix_nano, 1) &&
		     ASSERT_STREQ(a[0]->body->string_value, "one") &&
		     ASSERT_EQ(a[0]->n_attributes, 1) &&
		     ASSERT_STREQ(a[0]->attributes[0]->key, "k") &&
		     ASSERT_STREQ(a[0]->attributes[0]->value->string_value,
				  "v1") &&
		     ASSERT_EQ(a[1]->time_unix_nano, 3) &&
		     ASSERT_TRUE(!a[1]->body) &&
		     ASSERT_EQ(bb[0]->time_unix_nano, 2) &&
		     ASSERT_STREQ(bb[0]->body->string_value, "two");
	}
	unpack_free(q);
	return ok;
}

/* ---- a collector over HTTP ------------------------------------------------ */

struct collector {
	int lfd;
	const char *answer;		/* the status line it answers with */
	char head[2048];		/* the request's head */
	uint8_t body[8192];
	size_t nbody;
};

static void *collector_run(void *arg)
{
	struct collector *c = arg;
	char buf[sizeof(c->head) + sizeof(c->body)];
	size_t n = 0, hlen = 0, clen = 0;
	int fd = accept(c->lfd, NULL, NULL);
	char out[128];

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t k = read(fd, buf + n, sizeof(buf) - n);
		char *end;

		if (k <= 0)
			break;
		n += (size_t)k;
		end = memmem(buf, n, "\r\n\r\n", 4);
		if (end && !hlen) {
			char *cl;

			hlen = (size_t)(end - buf) + 4;
			memcpy(c->head, buf, hlen < sizeof(c->head) ?
			       hlen : sizeof(c->head) - 1);
			cl = strcasestr(c->head, "content-length:");
			clen = cl ? strtoul(cl + 15, NULL, 10) : 0;
		}
		if (hlen && n >= hlen + clen)
			break;
	}
	if (hlen && n >= hlen + clen && clen <= sizeof(c->body)) {
		memcpy(c->body, buf + hlen, clen);
		c->nbody = clen;
	}
	snprintf(out, sizeof(out), "%s\r\nContent-Length: 0\r\n\r\n",
		 c->answer);
	if (write(fd, out, strlen(out)) < 0)
		c->nbody = 0;
	close(fd);
	return NULL;
}

/* Exports @r to a collector answering @answer; its request into @c. */
static int export_to(struct collector *c, const char *answer,
		     const struct otlp_log *r, size_t n)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct collector *cl;
	char url[64];
	pthread_t t;
	int err;

	memset(c, 0, sizeof(*c));
	c->answer = answer;
	c->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(c->lfd, 1) ||
	    getsockname(c->lfd, (struct sockaddr *)&a, &alen))
		return -errno;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/logs",
		 ntohs(a.sin_port));
	pthread_create(&t, NULL, collector_run, c);
	err = collector_new(&cl, COLLECTOR_PROTOBUF, url);
	if (!err) {
		err = otlp_export_logs(cl, r, n);
		collector_free(cl);
	}
	shutdown(c->lfd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(c->lfd);
	return err;
}

static bool test_export_http(void)
{
	struct otlp_log r = { .time_ns = 42, .service = "web",
			      .body = "GET / 200" };
	struct collector *c = calloc(1, sizeof(*c));
	struct collector *cl;
	req_t *q = NULL;
	bool ok;

	ok = ASSERT_TRUE(c) &&
	     ASSERT_EQ(export_to(c, "HTTP/1.1 200 OK", &r, 1), 0) &&
	     ASSERT_TRUE(!strncmp(c->head, "POST /v1/logs HTTP/1.1\r\n", 24)) &&
	     ASSERT_TRUE(strcasestr(c->head,
				    "content-type: application/x-protobuf")) &&
	     ASSERT_TRUE((q = unpack(c->body, c->nbody)) != NULL) &&
	     ASSERT_EQ(q->n_resource_logs, 1) &&
	     ASSERT_STREQ(q->resource_logs[0]->scope_logs[0]->log_records[0]
				  ->body->string_value, "GET / 200");
	if (q)
		unpack_free(q);
	/* The collector says no: an error, not a success. */
	ok = ok && ASSERT_EQ(export_to(c, "HTTP/1.1 503 Busy", &r, 1),
			     -EPROTO);
	free(c);
	/* Nobody there (a port just closed). */
	if (ok) {
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_addr.s_addr =
						 htonl(INADDR_LOOPBACK) };
		socklen_t alen = sizeof(a);
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		char url[128];

		bind(fd, (struct sockaddr *)&a, sizeof(a));
		getsockname(fd, (struct sockaddr *)&a, &alen);
		close(fd);
		snprintf(url, sizeof(url), "http://127.0.0.1:%u%s",
			 ntohs(a.sin_port), otlp_logs_signal.grpc_path);
		ok = ASSERT_EQ(collector_new(&cl, COLLECTOR_GRPC, url), 0) &&
		     ASSERT_EQ(otlp_export_logs(cl, &r, 1), -ECONNREFUSED);
		collector_free(cl);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_log_roundtrip);
	TEST_RUN(test_utf8);
	TEST_RUN(test_pack);
	TEST_RUN(test_export_http);
	TEST_MAIN_END();
}
