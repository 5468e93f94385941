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

/* ---- the collector of a MeshOpenTelemetryBackend, with its env ---------- */

/* The variables of one row: "NAME=value" strings, NULL-ended. */
static const char *const *env_vars;

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
	static const char *const v6[] = {
		"OTEL_EXPORTER_OTLP_ENDPOINT=[fd00::1]", NULL };
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
		{ "Required, https: not used", tls, "col", 0, false,
		  MF_OTEL_ENV_REQUIRED, 0, -1, &otlp_logs_signal, -ENODATA,
		  NULL },
		{ "Optional, https: the backend's", tls, "col", 0, false, 0,
		  0, -1, &otlp_logs_signal, 0, "http://col:4317" },
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
		{ "an IPv6 host: the protocol's port", v6, "", 0, false, 0, 0,
		  -1, &otlp_logs_signal, 0, "http://[fd00::1]:4317" },
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
		if (rows[i].url)
			snprintf(want, sizeof(want), "%s%s", rows[i].url,
				 strstr(rows[i].url + 7, "/") ? "" :
				 rows[i].sig->grpc_path);
		ok = ASSERT_EQ(err, rows[i].err) &&
		     (err || (ASSERT_STREQ(url, want) &&
			      ASSERT_EQ(proto, strstr(want, "/v1/") ||
					       strstr(want, "/in") ?
					       COLLECTOR_PROTOBUF :
					       COLLECTOR_GRPC)));
		if (!ok)
			fprintf(stderr, "  row: %s\n", rows[i].what);
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
	TEST_RUN(test_env_url);
	TEST_MAIN_END();
}
