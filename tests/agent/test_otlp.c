// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP logs (agent/otlp_logs.c, agent/otlp.c, agent/collector.c): a
 * record's queued form both ways, strings made valid UTF-8, the
 * ExportLogsServiceRequest as a collector unpacks it (one
 * resource per service, records in order, body and attributes), and the
 * export over HTTP to a collector on loopback that records what it got:
 * its path and type, its records; a collector's error status and one that
 * is not there are errors.  gRPC is exercised against a real gRPC server
 * by tests/integration/test_access_log.sh.  And where a
 * MeshOpenTelemetryBackend's collector is, with the OTEL_EXPORTER_OTLP_*
 * variables by its `env` (mode, precedence, allowSignalOverrides), one
 * row per rule.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "harness/test.h"
#include "../../agent/meshlog.h"
#include "../../agent/otlp_logs.h"
#include "../../agent/telw.h"
#include "policy/otlpval.h"
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
		{ .time_ns = 1, .service = "a", .body = "s3:one",
		  .nattrs = 1, .key = { "k" }, .value = { "v1" } },
		{ .time_ns = 2, .service = "b", .body = "s3:two" },
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

typedef Opentelemetry__Proto__Common__V1__AnyValue any_t;

/* The body of the one record of request @b (@n bytes, after the head). */
static req_t *one_body(const uint8_t *b, size_t n, const any_t **body)
{
	req_t *q = unpack(b + COLLECTOR_HEAD, n - COLLECTOR_HEAD);

	*body = NULL;
	if (q && q->n_resource_logs == 1 &&
	    q->resource_logs[0]->n_scope_logs == 1 &&
	    q->resource_logs[0]->scope_logs[0]->n_log_records == 1)
		*body = q->resource_logs[0]->scope_logs[0]->log_records[0]
				->body;
	return q;
}

#define ANY(x) OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_##x

/* A body that is an AnyValue (lib/policy/otlpval.h's form) as the
 * collector unpacks it: a kvlist of each kind of value, nested; and one
 * not well formed is left out, the record sent without it. */
static bool test_pack_value(void)
{
	static const char body[] =
		"k6:4:meshs7:default2:okb11:ni-42;1:dd2.5;3:rawx4:aGk=4:list"
		"a2:s3:GETk1:1:xa0:";
	struct otlp_log r = { .time_ns = 1, .service = "a", .body = body };
	const any_t *a, *v, *l;
	uint8_t *b;
	size_t n;
	req_t *q;
	bool ok;

	if (!ASSERT_EQ(otlp_logs_pack(&r, 1, &b, &n), 0))
		return false;
	q = one_body(b, n, &a);
	free(b);
	ok = ASSERT_TRUE(q && a) &&
	     ASSERT_EQ(a->value_case, ANY(KVLIST_VALUE)) &&
	     ASSERT_EQ(a->kvlist_value->n_values, 6);
	if (ok) {
		Opentelemetry__Proto__Common__V1__KeyValue **kv =
			a->kvlist_value->values;

		v = kv[5]->value;
		ok = ASSERT_STREQ(kv[0]->key, "mesh") &&
		     ASSERT_EQ(kv[0]->value->value_case, ANY(STRING_VALUE)) &&
		     ASSERT_STREQ(kv[0]->value->string_value, "default") &&
		     ASSERT_STREQ(kv[1]->key, "ok") &&
		     ASSERT_EQ(kv[1]->value->value_case, ANY(BOOL_VALUE)) &&
		     ASSERT_EQ(kv[1]->value->bool_value, 1) &&
		     ASSERT_EQ(kv[2]->value->value_case, ANY(INT_VALUE)) &&
		     ASSERT_EQ(kv[2]->value->int_value, -42) &&
		     ASSERT_EQ(kv[3]->value->value_case, ANY(DOUBLE_VALUE)) &&
		     ASSERT_TRUE(kv[3]->value->double_value == 2.5) &&
		     ASSERT_STREQ(kv[4]->key, "raw") &&
		     ASSERT_EQ(kv[4]->value->value_case, ANY(BYTES_VALUE)) &&
		     ASSERT_EQ(kv[4]->value->bytes_value.len, 2) &&
		     ASSERT_MEMEQ(kv[4]->value->bytes_value.data, "hi", 2) &&
		     ASSERT_STREQ(kv[5]->key, "list") &&
		     ASSERT_EQ(v->value_case, ANY(ARRAY_VALUE)) &&
		     ASSERT_EQ(v->array_value->n_values, 2) &&
		     ASSERT_STREQ(v->array_value->values[0]->string_value,
				  "GET") &&
		     ASSERT_EQ(v->array_value->values[1]->value_case,
			       ANY(KVLIST_VALUE));
	}
	if (ok) {
		l = v->array_value->values[1];
		ok = ASSERT_EQ(l->kvlist_value->n_values, 1) &&
		     ASSERT_STREQ(l->kvlist_value->values[0]->key, "x") &&
		     ASSERT_EQ(l->kvlist_value->values[0]->value->value_case,
			       ANY(ARRAY_VALUE)) &&
		     ASSERT_EQ(l->kvlist_value->values[0]->value->array_value
				       ->n_values, 0);
	}
	if (q)
		unpack_free(q);
	if (!ok)
		return false;
	/* Cut short, a count past its items: no body. */
	r.body = "k2:4:meshs7:default";
	if (!ASSERT_EQ(otlp_logs_pack(&r, 1, &b, &n), 0))
		return false;
	q = one_body(b, n, &a);
	free(b);
	ok = ASSERT_TRUE(q != NULL) && ASSERT_TRUE(!a);
	if (q)
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

/* A collector on loopback answering @answer to the one request it takes
 * (into @c), on thread *@t (@t NULL: one that never accepts, nor
 * answers); its OTLP/HTTP logs URL into @url (64 bytes).  Returns 0 or
 * -errno. */
static int collector_up(struct collector *c, const char *answer,
			pthread_t *t, char *url)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);

	memset(c, 0, sizeof(*c));
	c->answer = answer;
	c->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(c->lfd, 1) ||
	    getsockname(c->lfd, (struct sockaddr *)&a, &alen))
		return -errno;
	snprintf(url, 64, "http://127.0.0.1:%u/v1/logs", ntohs(a.sin_port));
	return t ? -pthread_create(t, NULL, collector_run, c) : 0;
}

/* Exports @r to a collector answering @answer; its request into @c. */
static int export_to(struct collector *c, const char *answer,
		     const struct otlp_log *r, size_t n)
{
	struct collector *cl;
	char url[64];
	pthread_t t;
	int err;

	err = collector_up(c, answer, &t, url);
	if (err)
		return err;
	err = collector_new(&cl, COLLECTOR_PROTOBUF, url, NULL);
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
			      .body = "s9:GET / 200" };
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
		ok = ASSERT_EQ(collector_new(&cl, COLLECTOR_GRPC, url, NULL), 0) &&
		     ASSERT_EQ(otlp_export_logs(cl, &r, 1), -ECONNREFUSED);
		collector_free(cl);
	}
	return ok;
}

/* ---- a collector's options, as a collector sees them --------------------- */

/* @b (@n bytes of gzip) inflated into @out (@cap bytes).  Returns its
 * length, or 0 when it is not gzip. */
static size_t gunzip(const uint8_t *b, size_t n, uint8_t *out, size_t cap)
{
	z_stream zs = { .next_in = (Bytef *)b, .avail_in = (uInt)n,
			.next_out = out, .avail_out = (uInt)cap };
	size_t len = 0;

	/* 15 + 16: gzip's wrapper only, not zlib's. */
	if (inflateInit2(&zs, 15 + 16) != Z_OK)
		return 0;
	if (inflate(&zs, Z_FINISH) == Z_STREAM_END)
		len = zs.total_out;
	inflateEnd(&zs);
	return len;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The exporter variables a test has, "NAME=value" strings, NULL-ended
 * (env_get()). */
static const char *const *env_vars;
static char *env_get(const char *name);

/*
 * Through the writer, as the agent sends: a backend's records to a
 * collector on loopback with the exporter variables the agent has, its
 * URL by otlp_backend_url().  The collector sees the headers, a body it
 * inflates into the records, and the path without the URL's fragment; a
 * collector that never answers ends the export at the variables' timeout,
 * a failure.
 */
static bool test_env_export(void)
{
	static const char *const vars[] = {
		"OTEL_EXPORTER_OTLP_HEADERS=x-api-key=s3cret%20one,x-tenant=acme",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=x-api-key=other",
		"OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
		"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=300",
		NULL };
	struct otlp_env saved = otlp_agent_env;
	struct otlp_log r = { .time_ns = 42, .service = "web",
			      .body = "s9:GET / 200" };
	struct collector *c = calloc(1, sizeof(*c));
	uint8_t *plain = malloc(65536);
	struct mf_otel_backend ob;
	enum collector_proto proto;
	struct telw *w = NULL;
	char url[64], target[256], item[512];
	size_t n = otlp_log_encode(&r, item, sizeof(item)), np = 0;
	unsigned port;
	uint64_t t0, took;
	req_t *q = NULL;
	pthread_t t;
	bool ok;

	env_vars = vars;
	otlp_env_read(&otlp_agent_env, env_get);
	ok = ASSERT_TRUE(c && plain && n) &&
	     ASSERT_EQ(collector_up(c, "HTTP/1.1 200 OK", &t, url), 0);
	if (!ok)
		goto out;
	port = (unsigned)strtoul(url + strlen("http://127.0.0.1:"), NULL, 10);
	memset(&ob, 0, sizeof(ob));
	strcpy(ob.endpoint.address, "127.0.0.1");
	ob.endpoint.port = (uint16_t)port;
	ob.protocol = MF_OTEL_HTTP;
	ok = ASSERT_EQ(otlp_backend_url(&ob, &otlp_logs_signal, target,
					sizeof(target), &proto), 0) &&
	     ASSERT_TRUE(strstr(target, "/v1/logs#env=shared,logs")) &&
	     ASSERT_EQ(telw_start(&w), 0) &&
	     ASSERT_EQ(telw_push(w, TELW_OTLP_LOGS_HTTP, target, item, n), 0);
	if (!ok)
		shutdown(c->lfd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(c->lfd);
	telw_stop(w);
	w = NULL;
	if (ok)
		np = gunzip(c->body, c->nbody, plain, 65536);
	ok = ok && ASSERT_TRUE(!strncmp(c->head, "POST /v1/logs HTTP/1.1\r\n",
					24)) &&
	     ASSERT_TRUE(strcasestr(c->head, "\r\nx-api-key: s3cret one\r\n")) &&
	     ASSERT_TRUE(strcasestr(c->head, "\r\nx-tenant: acme\r\n")) &&
	     ASSERT_TRUE(strcasestr(c->head, "\r\ncontent-encoding: gzip\r\n")) &&
	     ASSERT_TRUE(np > 0) &&
	     ASSERT_TRUE((q = unpack(plain, np)) != NULL) &&
	     ASSERT_STREQ(q->resource_logs[0]->scope_logs[0]->log_records[0]
				  ->body->string_value, "GET / 200");
	if (!ok)
		goto out;
	/* A collector that takes the connection and never answers: a
	 * listener nobody accepts on. */
	memset(c, 0, sizeof(*c));
	ok = ASSERT_EQ(collector_up(c, NULL, NULL, url), 0);
	if (!ok)
		goto out;
	port = (unsigned)strtoul(url + strlen("http://127.0.0.1:"), NULL, 10);
	ob.endpoint.port = (uint16_t)port;
	ok = ASSERT_EQ(otlp_backend_url(&ob, &otlp_logs_signal, target,
					sizeof(target), &proto), 0) &&
	     ASSERT_EQ(telw_start(&w), 0) &&
	     ASSERT_EQ(telw_push(w, TELW_OTLP_LOGS_HTTP, target, item, n), 0);
	/* The writer waits TELW_FLUSH_MS for more, then exports: failed
	 * at 300 ms on, not at COLLECTOR_TIMEOUT_MS. */
	t0 = now_ms();
	while (ok && !telw_failed(w, TELW_LOGS) && now_ms() - t0 < 5000)
		usleep(5000);
	took = now_ms() - t0;
	ok = ok && ASSERT_EQ(telw_failed(w, TELW_LOGS), 1) &&
	     ASSERT_EQ(telw_delivered(w, TELW_LOGS), 0) &&
	     ASSERT_TRUE(took >= TELW_FLUSH_MS + 300) &&
	     ASSERT_TRUE(took < TELW_FLUSH_MS + 300 + 700);
	if (!ok)
		fprintf(stderr, "  failed after %llu ms\n",
			(unsigned long long)took);
	telw_stop(w);
	close(c->lfd);
out:
	if (q)
		unpack_free(q);
	otlp_agent_env = saved;
	free(plain);
	free(c);
	return ok;
}

/* ---- the collector of a MeshOpenTelemetryBackend, with its env ---------- */

/* The variables of one row: "NAME=value" strings, NULL-ended. */
static char *env_get(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *v = env_vars; v && *v; v++)
		if (!strncmp(*v, name, n) && (*v)[n] == '=')
			return (char *)*v + n + 1;
	return NULL;
}

/* A backend: address ("" none), port (0 none), protocol http, and env's
 * mode, precedence (0: left out) and allowSignalOverrides (-1: left
 * out). */
static void env_backend(struct mf_otel_backend *ob, const char *addr,
			unsigned port, bool http, unsigned mode,
			unsigned prec, int overrides)
{
	memset(ob, 0, sizeof(*ob));
	snprintf(ob->endpoint.address, sizeof(ob->endpoint.address), "%s",
		 addr);
	ob->endpoint.port = (uint16_t)port;
	ob->protocol = http ? MF_OTEL_HTTP : 0;
	ob->env.mode = (uint8_t)mode;
	ob->env.precedence = (uint8_t)prec;
	if (overrides >= 0) {
		ob->env.present |= 1u << MF_OTEL_ENV_F_OVERRIDES;
		ob->env.allow_signal_overrides = (uint8_t)overrides;
	}
}

static bool test_env_url(void)
{
	static const char *const none[] = { NULL };
	static const char *const shared[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT= http://envcol:4317 ", NULL };
	static const char *const shared_http[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://envcol:4318/base",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", NULL };
	static const char *const per_signal[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=envcol:4317",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=logscol:5317", NULL };
	static const char *const signal_http[] = {
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT=http://logscol:5318/in",
		"OTEL_EXPORTER_OTLP_LOGS_PROTOCOL=http/protobuf", NULL };
	static const char *const proto_only[] = {
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", NULL };
	static const char *const bad_proto[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=envcol",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/json", NULL };
	static const char *const tls[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=https://envcol:4317", NULL };
	static const char *const grpc_path[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://envcol:4317/x", NULL };
	static const char *const empty[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=  ", NULL };
	static const char *const no_host[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=:4317", NULL };
	static const char *const v6[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=[fd00::1]", NULL };
	static const char *const tls_http[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=HTTPS://envcol",
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf", NULL };
	static const char *const insecure_no[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=envcol:4317",
		"OTEL_EXPORTER_OTLP_INSECURE=false", NULL };
	static const char *const tls_insecure[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=https://envcol",
		"OTEL_EXPORTER_OTLP_INSECURE=true", NULL };
	static const char *const tls_sig_plain[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=https://envcol",
		"OTEL_EXPORTER_OTLP_LOGS_INSECURE=TRUE", NULL };
	static const char *const insecure_only[] = {
		"OTEL_EXPORTER_OTLP_INSECURE=false", NULL };
	static const char *const insecure_bad[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=envcol",
		"OTEL_EXPORTER_OTLP_INSECURE=yes", NULL };
	static const char *const unix_ep[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=unix:///run/otel.sock", NULL };
	static const char *const frag_ep[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=http://envcol#x", NULL };
	static const char *const hdrs[] = {
		"OTEL_EXPORTER_OTLP_HEADERS=api-key=s3cret", NULL };
	static const char *const tmo_gzip[] = {
		"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=250",
		"OTEL_EXPORTER_OTLP_COMPRESSION=GZIP", NULL };
	const struct {
		const char *what;
		const char *const *vars;
		const char *addr;
		unsigned port;
		bool http;
		unsigned mode, prec;
		int overrides;
		const struct otlp_signal *sig;
		int err;
		const char *url;		/* after the host */
	} rows[] = {
		{ "no env: the backend's", none, "col", 0, false, 0, 0, -1,
		  &otlp_logs_signal, 0, "http://col:4317" },
		{ "no env, no address: nowhere", none, "", 0, false, 0, 0, -1,
		  &otlp_logs_signal, -ENOENT, NULL },
		{ "default (Optional, EnvFirst): env wins", shared, "col",
		  9999, false, 0, 0, -1, &otlp_logs_signal, 0,
		  "http://envcol:4317" },
		{ "Disabled: the backend's", shared, "col", 9999, false,
		  MF_OTEL_ENV_DISABLED, 0, -1, &otlp_logs_signal, 0,
		  "http://col:9999" },
		{ "Disabled, no address: nowhere", shared, "", 0, false,
		  MF_OTEL_ENV_DISABLED, 0, -1, &otlp_logs_signal, -ENOENT,
		  NULL },
		{ "ExplicitFirst: the backend's", shared, "col", 9999, false,
		  MF_OTEL_ENV_OPTIONAL, MF_OTEL_ENV_EXPLICIT_FIRST, -1,
		  &otlp_logs_signal, 0, "http://col:9999" },
		{ "ExplicitFirst, no address: env fills it", shared, "", 0,
		  false, MF_OTEL_ENV_OPTIONAL, MF_OTEL_ENV_EXPLICIT_FIRST, -1,
		  &otlp_logs_signal, 0, "http://envcol:4317" },
		{ "Optional, no env: the backend's", none, "col", 0, true,
		  MF_OTEL_ENV_OPTIONAL, 0, -1, &otlp_logs_signal, 0,
		  "http://col:4318/v1/logs" },
		{ "Required, no env: not used", none, "col", 0, false,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal, -ENODATA,
		  NULL },
		{ "Required, env: env's", shared, "", 0, false,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal, 0,
		  "http://envcol:4317" },
		{ "Required, protocol only: env's protocol, backend's "
		  "address", proto_only, "col", 0, false,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_traces_signal, 0,
		  "http://col:4318/v1/traces" },
		{ "Required, a bad protocol: not used", bad_proto, "col", 0,
		  false, MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal,
		  -ENODATA, NULL },
		{ "Optional, a bad protocol: ignored", bad_proto, "col", 0,
		  false, MF_OTEL_ENV_OPTIONAL, 0, -1, &otlp_logs_signal, 0,
		  "http://envcol:4317" },
		{ "Required, https: TLS", tls, "col", 0, false,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal, 0,
		  "https://envcol:4317" },
		{ "ExplicitFirst, https: the backend's, without TLS", tls,
		  "col", 0, false, 0, MF_OTEL_ENV_EXPLICIT_FIRST, -1,
		  &otlp_logs_signal, 0, "http://col:4317" },
		{ "ExplicitFirst, https, no address: TLS", tls, "", 0, false,
		  0, MF_OTEL_ENV_EXPLICIT_FIRST, -1, &otlp_logs_signal, 0,
		  "https://envcol:4317" },
		{ "https OTLP/HTTP: TLS, the path", tls_http, "", 0, false, 0,
		  0, -1, &otlp_traces_signal, 0,
		  "https://envcol:4318/v1/traces" },
		{ "INSECURE false, host:port: TLS", insecure_no, "col", 0,
		  false, 0, 0, -1, &otlp_logs_signal, 0,
		  "https://envcol:4317" },
		{ "INSECURE true beside https: the scheme says", tls_insecure,
		  "col", 0, false, 0, 0, -1, &otlp_logs_signal, 0,
		  "https://envcol:4317" },
		{ "the signal's INSECURE over the shared https", tls_sig_plain,
		  "col", 0, false, 0, 0, -1, &otlp_logs_signal, 0,
		  "http://envcol:4317" },
		{ "... for that signal only", tls_sig_plain, "col", 0, false,
		  0, 0, -1, &otlp_traces_signal, 0, "https://envcol:4317" },
		{ "... nor with allowSignalOverrides false", tls_sig_plain,
		  "col", 0, false, 0, 0, 0, &otlp_logs_signal, 0,
		  "https://envcol:4317" },
		{ "INSECURE false, the backend's address: TLS", insecure_only,
		  "col", 0, false, 0, 0, -1, &otlp_logs_signal, 0,
		  "https://col:4317" },
		{ "Required, INSECURE bad: not used", insecure_bad, "col", 0,
		  false, MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal,
		  -ENODATA, NULL },
		{ "Optional, INSECURE bad: ignored", insecure_bad, "col", 0,
		  false, 0, 0, -1, &otlp_logs_signal, 0, "http://envcol:4317" },
		{ "unix: bad, under Required not used", unix_ep, "col", 0,
		  false, MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal,
		  -ENODATA, NULL },
		{ "a fragment: bad, under Required not used", frag_ep, "col",
		  0, false, MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal,
		  -ENODATA, NULL },
		{ "HEADERS: the layers in force named", hdrs, "col", 0, false,
		  0, 0, -1, &otlp_logs_signal, 0,
		  "http://col:4317#env=shared,logs" },
		{ "... the shared alone without overrides", hdrs, "col", 0,
		  false, 0, 0, 0, &otlp_logs_signal, 0,
		  "http://col:4317#env=shared" },
		{ "... none when Disabled", hdrs, "col", 0, false,
		  MF_OTEL_ENV_DISABLED, 0, -1, &otlp_logs_signal, 0,
		  "http://col:4317" },
		{ "Required, HEADERS alone: input enough", hdrs, "col", 0,
		  false, MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_metrics_signal, 0,
		  "http://col:4317#env=shared,metrics" },
		{ "Required, TIMEOUT and COMPRESSION", tmo_gzip, "col", 0, true,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal, 0,
		  "http://col:4318/v1/logs#env=shared,logs" },
		{ "gRPC and a URL path: dropped", grpc_path, "col", 0, false,
		  0, 0, -1, &otlp_logs_signal, 0, "http://col:4317" },
		{ "a blank value is not set", empty, "", 0, false,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal, -ENODATA,
		  NULL },
		{ "shared OTLP/HTTP: its path a base", shared_http, "col", 0,
		  false, 0, 0, -1, &otlp_metrics_signal, 0,
		  "http://envcol:4318/base/v1/metrics" },
		{ "the signal's own overrides the shared", per_signal, "col",
		  0, false, 0, 0, -1, &otlp_logs_signal, 0,
		  "http://logscol:5317" },
		{ "... for that signal only", per_signal, "col", 0, false, 0,
		  0, -1, &otlp_traces_signal, 0, "http://envcol:4317" },
		{ "allowSignalOverrides false: the shared", per_signal, "col",
		  0, false, 0, 0, 0, &otlp_logs_signal, 0,
		  "http://envcol:4317" },
		{ "the signal's URL: its path whole", signal_http, "col", 0,
		  false, 0, 0, 1, &otlp_logs_signal, 0,
		  "http://logscol:5318/in" },
		{ "Required, only the signal's, overrides off: backend's",
		  signal_http, "col", 0, false, MF_OTEL_ENV_REQUIRED, 0, 0,
		  &otlp_logs_signal, 0, "http://col:4317" },
		{ "no host: bad, under Required not used", no_host, "col", 0,
		  false, MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal,
		  -ENODATA, NULL },
		{ "no host: ignored under Optional", no_host, "col", 0, false,
		  0, 0, -1, &otlp_logs_signal, 0, "http://col:4317" },
		{ "an IPv6 host: the protocol's port", v6, "", 0, false, 0, 0,
		  -1, &otlp_logs_signal, 0, "http://[fd00::1]:4317" },
	};
	/* Each value refused by a Required backend, let be by an Optional
	 * one. */
	static const char *const bad_values[] = {
		"OTEL_EXPORTER_OTLP_HEADERS=novalue",
		"OTEL_EXPORTER_OTLP_HEADERS==v",
		"OTEL_EXPORTER_OTLP_HEADERS=a b=c",
		"OTEL_EXPORTER_OTLP_HEADERS=a=1,x=%0d%0aevil: 1",
		"OTEL_EXPORTER_OTLP_HEADERS=a=%00",
		"OTEL_EXPORTER_OTLP_HEADERS=Content-Type=text/plain",
		"OTEL_EXPORTER_OTLP_HEADERS=grpc-timeout=1S",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS=te=gzip",
		"OTEL_EXPORTER_OTLP_TIMEOUT=0",
		"OTEL_EXPORTER_OTLP_TIMEOUT=-5",
		"OTEL_EXPORTER_OTLP_TIMEOUT=10s",
		"OTEL_EXPORTER_OTLP_TIMEOUT=+10",
		"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=99999999999",
		"OTEL_EXPORTER_OTLP_COMPRESSION=zstd",
		"OTEL_EXPORTER_OTLP_LOGS_COMPRESSION=deflate",
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=/c.pem",
		"OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY=/k.pem",
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && ok; i++) {
		struct mf_otel_backend ob;
		struct otlp_env e;
		enum collector_proto proto = 0;
		char url[256] = "", want[256] = "";
		int err;

		env_vars = rows[i].vars;
		otlp_env_read(&e, env_get);
		env_backend(&ob, rows[i].addr, rows[i].port, rows[i].http,
			    rows[i].mode, rows[i].prec, rows[i].overrides);
		err = otlp_env_url(&ob, &e, rows[i].sig, url, sizeof(url),
				   &proto);
		/* The row's URL, the signal's gRPC path before its fragment
		 * when it names no path. */
		if (rows[i].url) {
			size_t at = strcspn(rows[i].url, "#");

			snprintf(want, sizeof(want), "%.*s%s%s", (int)at,
				 rows[i].url,
				 memchr(rows[i].url + 8, '/', at - 8) ? "" :
				 rows[i].sig->grpc_path, rows[i].url + at);
		}
		ok = ASSERT_EQ(err, rows[i].err) &&
		     (err || (ASSERT_STREQ(url, want) &&
			      ASSERT_EQ(proto, strstr(want, "/v1/") ||
					       strstr(want, "/in") ?
					       COLLECTOR_PROTOBUF :
					       COLLECTOR_GRPC)));
		if (!ok)
			fprintf(stderr, "  row: %s\n", rows[i].what);
	}
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]) &&
			   ok; i++) {
		const char *vars[] = {
			"OTEL_EXPORTER_OTLP_ENDPOINT=envcol", bad_values[i],
			NULL };
		struct mf_otel_backend ob;
		struct otlp_env e;
		enum collector_proto proto;
		char url[256];

		env_vars = vars;
		otlp_env_read(&e, env_get);
		env_backend(&ob, "col", 0, false, MF_OTEL_ENV_REQUIRED, 0, -1);
		ok = ASSERT_EQ(otlp_env_url(&ob, &e, &otlp_logs_signal, url,
					    sizeof(url), &proto), -ENODATA);
		env_backend(&ob, "col", 0, false, MF_OTEL_ENV_OPTIONAL, 0, -1);
		ok = ok && ASSERT_EQ(otlp_env_url(&ob, &e, &otlp_logs_signal,
						  url, sizeof(url), &proto),
				     0) &&
		     ASSERT_TRUE(!strncmp(url, "http://envcol:4317/", 19));
		if (!ok)
			fprintf(stderr, "  value: %s\n", bad_values[i]);
	}
	/* A URL cut short would lose its fragment: none at all. */
	if (ok) {
		struct mf_otel_backend ob;
		struct otlp_env e;
		enum collector_proto proto;
		char url[256];
		size_t whole;

		env_vars = hdrs;
		otlp_env_read(&e, env_get);
		env_backend(&ob, "col", 0, false, 0, 0, -1);
		ok = ASSERT_EQ(otlp_env_url(&ob, &e, &otlp_logs_signal, url,
					    sizeof(url), &proto), 0);
		whole = strlen(url);
		ok = ok && ASSERT_EQ(otlp_env_url(&ob, &e, &otlp_logs_signal,
						  url, whole, &proto),
				     -ENAMETOOLONG) &&
		     ASSERT_EQ(otlp_env_url(&ob, &e, &otlp_logs_signal, url,
					    whole + 1, &proto), 0);
	}
	return ok;
}

/* The settings other than where, as the collector gets them: the last
 * layer in force that sets one wins; bad values left out. */
static bool test_env_opts(void)
{
	static const char *const layered[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=envcol",
		"OTEL_EXPORTER_OTLP_HEADERS= api-key=s3cret%20one, x-tenant = "
		"acme ,,x-empty=,x-pct=100%25%zz",
		"OTEL_EXPORTER_OTLP_LOGS_HEADERS=x-logs=1",
		"OTEL_EXPORTER_OTLP_TRACES_HEADERS=bad",
		"OTEL_EXPORTER_OTLP_TIMEOUT=500",
		"OTEL_EXPORTER_OTLP_LOGS_TIMEOUT=250",
		"OTEL_EXPORTER_OTLP_COMPRESSION=gzip",
		"OTEL_EXPORTER_OTLP_METRICS_COMPRESSION=none",
		"OTEL_EXPORTER_OTLP_CERTIFICATE=/etc/ca.pem",
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE=/etc/c.pem",
		"OTEL_EXPORTER_OTLP_CLIENT_KEY=/etc/k.pem",
		"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE=/etc/t.pem",
		"OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY=/etc/tk.pem",
		"OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY=/etc/mk.pem",
		NULL };
	const char *all = "api-key: s3cret one\nx-tenant: acme\nx-empty;\n"
			  "x-pct: 100%%zz\n";
	const struct {
		const char *what;
		int overrides;
		unsigned mode;
		const struct otlp_signal *sig;
		const char *headers;
		unsigned timeout_ms;
		bool gzip;
		const char *cert, *key;
	} rows[] = {
		{ "logs: its own headers and timeout", -1, 0, &otlp_logs_signal,
		  "x-logs: 1\n", 250, true, "/etc/c.pem", "/etc/k.pem" },
		{ "traces: its bad headers left out, its client pair", -1, 0,
		  &otlp_traces_signal, all, 500, true, "/etc/t.pem",
		  "/etc/tk.pem" },
		{ "metrics: no compression, a key alone left out", -1, 0,
		  &otlp_metrics_signal, all, 500, false, "/etc/c.pem",
		  "/etc/k.pem" },
		{ "allowSignalOverrides false: the shared", 0, 0,
		  &otlp_logs_signal, all, 500, true, "/etc/c.pem",
		  "/etc/k.pem" },
		{ "Disabled: none", -1, MF_OTEL_ENV_DISABLED, &otlp_logs_signal,
		  "", 0, false, NULL, NULL },
	};
	bool ok = true;

	env_vars = layered;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && ok; i++) {
		const struct collector_opts *o;
		struct mf_otel_backend ob;
		struct otlp_export *x = malloc(sizeof(*x));
		struct otlp_env *e = malloc(sizeof(*e));
		enum collector_proto proto;
		char url[256];

		ok = ASSERT_TRUE(x && e);
		if (ok) {
			otlp_env_read(e, env_get);
			env_backend(&ob, "col", 0, false, rows[i].mode, 0,
				    rows[i].overrides);
			ok = ASSERT_EQ(otlp_env_url(&ob, e, rows[i].sig, url,
						    sizeof(url), &proto), 0);
		}
		if (ok) {
			o = otlp_env_opts(e, url, rows[i].sig, x);
			ok = ASSERT_STREQ(o->headers, rows[i].headers) &&
			     ASSERT_EQ(o->timeout_ms, rows[i].timeout_ms) &&
			     ASSERT_EQ(o->gzip, rows[i].gzip) &&
			     ASSERT_TRUE(rows[i].cert ?
					 !strcmp(o->ca_file, "/etc/ca.pem") :
					 !o->ca_file) &&
			     ASSERT_TRUE(rows[i].cert ?
					 !strcmp(o->cert_file, rows[i].cert) &&
					 !strcmp(o->key_file, rows[i].key) :
					 !o->cert_file && !o->key_file);
		}
		/* Another signal's fragment, or none: nothing of these. */
		if (ok) {
			o = otlp_env_opts(e, "http://col:4317/x#env=shared,x",
					  rows[i].sig, x);
			ok = ASSERT_STREQ(o->headers, "") &&
			     ASSERT_EQ(o->timeout_ms, 0) &&
			     ASSERT_TRUE(!o->gzip && !o->ca_file);
		}
		if (!ok)
			fprintf(stderr, "  row: %s (%s)\n", rows[i].what, url);
		free(x);
		free(e);
	}
	return ok;
}

/* MeshAccessLog's record with an AnyValue body, end to end in the agent:
 * meshlog renders each stringValue of the policy's body (in the form of
 * lib/policy/otlpval.h) for the request, the writer exports it, and the
 * collector unpacks the kvlist, its nested kvlist and array, and the
 * values that are not strings as they were. */
static bool test_meshlog_body(void)
{
	struct meshlog *m = calloc(1, sizeof(*m));
	struct alogfmt_vals v = { .http = true, .status = 503 };
	char tpl[256], url[64];
	struct otlpv_out o = { tpl, sizeof(tpl), 0, false };
	struct collector *c = calloc(1, sizeof(*c));
	struct telw *w = NULL;
	uint64_t dropped = 0;
	const any_t *a = NULL, *req, *arr;
	req_t *q = NULL;
	pthread_t t;
	bool ok;

	otlpv_put_list(&o, OTLPV_KVLIST, 3);
	otlpv_put_key(&o, "mesh", 4);
	otlpv_put_text(&o, OTLPV_STRING, "%KUMA_MESH%", 11);
	otlpv_put_key(&o, "req", 3);
	otlpv_put_list(&o, OTLPV_KVLIST, 1);
	otlpv_put_key(&o, "status", 6);
	otlpv_put_text(&o, OTLPV_STRING, "code %RESPONSE_CODE%", 20);
	otlpv_put_key(&o, "more", 4);
	otlpv_put_list(&o, OTLPV_ARRAY, 3);
	otlpv_put_text(&o, OTLPV_STRING, "%KUMA_SOURCE_SERVICE%", 21);
	otlpv_put_int(&o, 7);
	otlpv_put_bool(&o, true);
	ok = ASSERT_TRUE(m && c && !o.over) &&
	     ASSERT_EQ(otlpv_check(tpl, o.at, NULL), 0) &&
	     ASSERT_EQ(collector_up(c, "HTTP/1.1 200 OK", &t, url), 0);
	if (!ok)
		goto out;
	m->n = 1;
	m->mesh = "default";
	m->src_service = "client";
	m->dst_service = "web";
	m->b[0].side = MESHLOG_INBOUND;
	m->b[0].be.present = 1u << MF_LOG_OTEL;
	m->b[0].sink = TELW_OTLP_LOGS_HTTP;
	m->b[0].target = url;
	m->b[0].body = tpl;
	m->b[0].body_len = o.at;
	ok = ASSERT_EQ(telw_start(&w), 0);
	if (ok)
		meshlog_write(m, &v, w, &dropped, &dropped);
	/* The collector takes the one request the writer sends (none
	 * without a writer: then it stops waiting). */
	if (!ok)
		shutdown(c->lfd, SHUT_RDWR);
	pthread_join(t, NULL);
	close(c->lfd);
	telw_stop(w);
	ok = ok && ASSERT_EQ(dropped, 0) &&
	     ASSERT_TRUE((q = unpack(c->body, c->nbody)) != NULL) &&
	     ASSERT_EQ(q->n_resource_logs, 1) &&
	     ASSERT_EQ(q->resource_logs[0]->scope_logs[0]->n_log_records, 1);
	if (ok)
		a = q->resource_logs[0]->scope_logs[0]->log_records[0]->body;
	ok = ok && ASSERT_TRUE(a) &&
	     ASSERT_EQ(a->value_case, ANY(KVLIST_VALUE)) &&
	     ASSERT_EQ(a->kvlist_value->n_values, 3) &&
	     ASSERT_STREQ(a->kvlist_value->values[0]->key, "mesh") &&
	     ASSERT_STREQ(a->kvlist_value->values[0]->value->string_value,
			  "default");
	if (ok) {
		req = a->kvlist_value->values[1]->value;
		arr = a->kvlist_value->values[2]->value;
		ok = ASSERT_EQ(req->value_case, ANY(KVLIST_VALUE)) &&
		     ASSERT_EQ(req->kvlist_value->n_values, 1) &&
		     ASSERT_STREQ(req->kvlist_value->values[0]->key,
				  "status") &&
		     ASSERT_STREQ(req->kvlist_value->values[0]->value
					  ->string_value, "code 503") &&
		     ASSERT_EQ(arr->value_case, ANY(ARRAY_VALUE)) &&
		     ASSERT_EQ(arr->array_value->n_values, 3) &&
		     ASSERT_STREQ(arr->array_value->values[0]->string_value,
				  "client") &&
		     ASSERT_EQ(arr->array_value->values[1]->int_value, 7) &&
		     ASSERT_EQ(arr->array_value->values[2]->value_case,
			       ANY(BOOL_VALUE)) &&
		     ASSERT_EQ(arr->array_value->values[2]->bool_value, 1);
	}
out:
	if (q)
		unpack_free(q);
	free(c);
	free(m);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_log_roundtrip);
	TEST_RUN(test_utf8);
	TEST_RUN(test_pack);
	TEST_RUN(test_pack_value);
	TEST_RUN(test_export_http);
	TEST_RUN(test_meshlog_body);
	TEST_RUN(test_env_url);
	TEST_RUN(test_env_opts);
	TEST_RUN(test_env_export);
	TEST_MAIN_END();
}
