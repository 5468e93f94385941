// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog in force for a connection (agent/meshlog.c), on snapshots
 * compiled from YAML as mfctl compiles them: the source's `to` entries,
 * the destination's `from` and `rules` (by the peer's SPIFFE ID), their
 * union with a backend both list once, openTelemetry by endpoint and by a
 * backendRef that selects a MeshOpenTelemetryBackend, nothing without a
 * policy; a builtin gateway's requests by its MeshGateway.  And
 * the writer (agent/telw.c) with real backends: a file created 0640 and
 * appended to, a tcp collector on loopback that gets the lines, one that
 * is down and a file that cannot be opened costing their own lines only
 * (counted); a MeshOpenTelemetryBackend whose env requires variables the
 * agent lacks, its lines counted apart.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/meshlog.h"
#include "../../agent/otlp.h"
#include "policy/select.h"

#define ID(sa) "spiffe://mesh.local/ns/default/sa/" sa

static const char *const policy_yaml =
	RH_MESH4
	/* Outbound to web: a file, plain. */
	RH_KUMA("MeshAccessLog", "web-out")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n        backends:\n"
	"          - file:\n              path: /var/log/web.log\n"
	"              format: {plain: '%KUMA_TRAFFIC_DIRECTION%'}\n"
	/* web's inbound: the same file and format (once), and a tcp
	 * collector. */
	RH_KUMA("MeshAccessLog", "web-in")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  from:\n    - targetRef: {kind: Mesh}\n"
	"      default:\n        backends:\n"
	"          - file:\n              path: /var/log/web.log\n"
	"              format: {plain: '%KUMA_TRAFFIC_DIRECTION%'}\n"
	"          - type: Tcp\n            tcp: {address: '127.0.0.1:5000'}\n"
	RH_KUMA("MeshAccessLog", "other-otel")
	"  targetRef: {kind: MeshService, name: other}\n"
	"  from:\n    - targetRef: {kind: Mesh}\n"
	"      default:\n        backends:\n"
	"          - openTelemetry:\n"
	"              endpoint: 'otel:4317'\n"
	"              body: {kvlistValue: {values: [{key: code, value: "
	"{stringValue: '%RESPONSE_CODE%'}}]}}\n"
	"          - openTelemetry:\n"
	"              backendRef:\n"
	"                kind: MeshOpenTelemetryBackend\n"
	"                labels: {app: otel}\n"
	/* The collector other's backendRef selects; api's selects none. */
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshOpenTelemetryBackend\n"
	"metadata: {name: collector, labels: {app: otel, tier: infra}}\n"
	"spec:\n"
	"  endpoint: {address: 10.0.0.5, port: 4318, path: /otlp}\n"
	"  protocol: http\n"
	RH_KUMA("MeshAccessLog", "api-otel")
	"  targetRef: {kind: MeshService, name: api}\n"
	"  from:\n    - targetRef: {kind: Mesh}\n"
	"      default:\n        backends:\n"
	"          - openTelemetry:\n"
	"              backendRef:\n"
	"                kind: MeshOpenTelemetryBackend\n"
	"                labels: {app: nothing}\n"
	/* api's inbound: client's requests by SPIFFE ID only. */
	RH_KUMA("MeshAccessLog", "api-rules")
	"  targetRef: {kind: MeshService, name: api}\n"
	"  rules:\n"
	"    - matches:\n"
	"        - spiffeID: {type: Exact, value: \"" ID("client") "\"}\n"
	"      default:\n        backends:\n"
	"          - file: {path: /var/log/api-client.log}\n";

static bool find(struct policy *p, const char *src, const char *vip,
		 struct meshlog *m)
{
	const struct mf_endpoint *ep = policy_endpoint_by_ip(p, rh_ip4(src));
	const struct mf_service *s = policy_service_by_vip(p, rh_ip4(vip), 80);

	return ASSERT_TRUE(ep && s) &&
	       ASSERT_EQ(meshlog_find(p, ep, policy_identity(p,
						ep->identity_id), s, m), 0);
}

static bool test_select(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	struct meshlog *m = malloc(sizeof(*m));
	bool ok;

	if (!ASSERT_TRUE(p && m))
		return false;
	/* client -> web: the outbound file, once, and web's tcp. */
	ok = find(p, "10.1.0.9", "10.96.0.10", m) && ASSERT_EQ(m->n, 2) &&
	     ASSERT_EQ(m->b[0].side, MESHLOG_OUTBOUND) &&
	     ASSERT_STREQ(m->b[0].be.file.path, "/var/log/web.log") &&
	     ASSERT_EQ(m->b[1].side, MESHLOG_INBOUND) &&
	     ASSERT_STREQ(m->b[1].be.tcp.address, "127.0.0.1:5000") &&
	     ASSERT_STREQ(m->src_service, "client") &&
	     ASSERT_STREQ(m->dst_service, "web") &&
	     ASSERT_STREQ(m->mesh, "default");
	/* client -> api: its rule by SPIFFE ID, inbound. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.13", m) &&
	     ASSERT_EQ(m->n, 1) && ASSERT_EQ(m->b[0].side, MESHLOG_INBOUND) &&
	     ASSERT_STREQ(m->b[0].be.file.path, "/var/log/api-client.log");
	/* other -> api: the rule's match is not other's ID, and the
	 * backendRef of `from` selects no backend. */
	ok = ok && find(p, "10.1.0.10", "10.96.0.13", m) &&
	     ASSERT_EQ(m->n, 0);
	/* client -> other: its collector by endpoint, inbound, and the
	 * MeshOpenTelemetryBackend its backendRef selects by labels. */
	ok = ok && find(p, "10.1.0.9", "10.96.0.12", m) && ASSERT_EQ(m->n, 2) &&
	     ASSERT_EQ(m->b[0].side, MESHLOG_INBOUND) &&
	     ASSERT_STREQ(m->b[0].be.open_telemetry.endpoint, "otel:4317") &&
	     /* Its body as the snapshot pools it (lib/policy/otlpval.h);
	      * the other has none (the default format). */
	     ASSERT_EQ(m->b[0].body_len, 28) &&
	     ASSERT_MEMEQ(m->b[0].body, "k1:4:codes15:%RESPONSE_CODE%", 28) &&
	     ASSERT_TRUE(!m->b[1].body) &&
	     ASSERT_TRUE(!m->b[0].otel) && ASSERT_TRUE(m->b[1].otel) &&
	     ASSERT_EQ(m->b[0].sink, TELW_OTLP_LOGS_GRPC) &&
	     ASSERT_EQ(m->b[1].sink, TELW_OTLP_LOGS_HTTP) &&
	     ASSERT_STREQ(m->b[1].target,
			  "http://10.0.0.5:4318/otlp/v1/logs") &&
	     ASSERT_STREQ(m->b[1].otel->endpoint.address, "10.0.0.5") &&
	     ASSERT_EQ(m->b[1].otel->endpoint.port, 4318) &&
	     ASSERT_EQ(m->b[1].otel->protocol, MF_OTEL_HTTP);
	policy_put(p);

	/* No MeshAccessLog at all: none. */
	p = rh_yaml_snapshot(RH_MESH4, 1);
	ok = ok && ASSERT_TRUE(p) && find(p, "10.1.0.9", "10.96.0.10", m) &&
	     ASSERT_EQ(m->n, 0);
	policy_put(p);
	free(m);
	return ok;
}

static char tdir[] = "/tmp/mf_meshlog_XXXXXX";

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* A builtin gateway's listener: a MeshAccessLog targeting its
 * MeshGateway, `to` the Mesh, takes its requests whatever their
 * destination (none, for an answer of its own), as the outbound side;
 * one for another gateway does not. */
static bool test_select_gateway(void)
{
	static const char yaml[] =
		RH_MESH4 RH_GW2
		RH_KUMA("MeshAccessLog", "edge-log")
		"  targetRef: {kind: MeshGateway, name: edge}\n"
		"  to:\n    - targetRef: {kind: Mesh}\n"
		"      default:\n        backends:\n"
		"          - file: {path: /var/log/edge.log}\n"
		RH_KUMA("MeshAccessLog", "other-gw-log")
		"  targetRef: {kind: MeshGateway, name: other}\n"
		"  to:\n    - targetRef: {kind: Mesh}\n"
		"      default:\n        backends:\n"
		"          - file: {path: /var/log/other.log}\n";
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	const struct sel_workload edge = { .name = "edge-1", .gateway = "edge",
					   .service = "edge-gateway",
					   .port = 8080 },
				  nogw = { .name = "x-1", .gateway = "x",
					   .service = "x-gateway",
					   .port = 8080 };
	const struct mf_service *web;
	struct meshlog m;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	web = policy_service_by_vip(p, rh_ip4("10.96.0.10"), 80);
	ok = ASSERT_TRUE(web) &&
	     ASSERT_EQ(meshlog_find_gateway(p, &edge, web, &m), 0) &&
	     ASSERT_EQ(m.n, 1) &&
	     ASSERT_STREQ(m.b[0].be.file.path, "/var/log/edge.log") &&
	     ASSERT_EQ(m.b[0].side, MESHLOG_OUTBOUND) &&
	     ASSERT_STREQ(m.src_service, "edge-gateway") &&
	     ASSERT_STREQ(m.dst_service, "web");
	ok = ok && ASSERT_EQ(meshlog_find_gateway(p, &edge, NULL, &m), 0) &&
	     ASSERT_EQ(m.n, 1) && ASSERT_TRUE(m.dst_service == NULL);
	ok = ok && ASSERT_EQ(meshlog_find_gateway(p, &nogw, web, &m), 0) &&
	     ASSERT_EQ(m.n, 0);
	policy_put(p);
	return ok;
}

/* A line per backend through the writer: the file is created 0640 and
 * gets both sides' lines in order; the tcp collector on loopback reads
 * its lines; a collector that is down costs its own lines, counted, and
 * nothing else. */
static bool test_write(void)
{
	struct meshlog *m = calloc(1, sizeof(*m));
	struct alogfmt_vals v = { .http = true, .status = 200 };
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	char path[64], addr[32], down[32], got[256];
	struct telw *w = NULL;
	uint64_t dropped = 0;
	struct stat st;
	size_t have = 0;
	int ls, cs;
	bool ok;

	ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ok = ASSERT_TRUE(m) && ASSERT_TRUE(mkdtemp(tdir)) &&
	     ASSERT_TRUE(ls >= 0) &&
	     ASSERT_EQ(bind(ls, (struct sockaddr *)&a, sizeof(a)), 0) &&
	     ASSERT_EQ(listen(ls, 1), 0) &&
	     ASSERT_EQ(getsockname(ls, (struct sockaddr *)&a, &alen), 0) &&
	     ASSERT_EQ(telw_start(&w), 0);
	if (!ok)
		goto out;
	snprintf(path, sizeof(path), "%s/access.log", tdir);
	snprintf(addr, sizeof(addr), "127.0.0.1:%u", ntohs(a.sin_port));
	/* Port 1 on loopback: nothing listens, the dial is refused. */
	snprintf(down, sizeof(down), "127.0.0.1:1");
	m->n = 4;
	m->mesh = "default";
	m->src_service = "client";
	m->dst_service = "web";
	for (int i = 0; i < 4; i++) {
		struct mf_log_backend *be = &m->b[i].be;
		struct mf_log_format *f = i == 2 ? &be->tcp.format :
						   &be->file.format;

		m->b[i].side = i == 1 ? MESHLOG_INBOUND : MESHLOG_OUTBOUND;
		be->present = 1u << (i < 2 ? MF_LOG_FILE : MF_LOG_TCP);
		f->present = 1u << 1;
		snprintf(f->plain, sizeof(f->plain), "%s",
			 "%KUMA_TRAFFIC_DIRECTION% %RESPONSE_CODE% "
			 "%KUMA_SOURCE_SERVICE%");
		if (i < 2)
			snprintf(be->file.path, sizeof(be->file.path), "%s",
				 path);
		else
			snprintf(be->tcp.address, sizeof(be->tcp.address),
				 "%s", i == 2 ? addr : down);
		meshlog_sink(&m->b[i]);
	}
	meshlog_write(m, &v, w, &dropped, &dropped);
	v.status = 503;
	meshlog_write(m, &v, w, &dropped, &dropped);
	ok = ASSERT_EQ(dropped, 0);
	cs = accept(ls, NULL, NULL);
	ok = ok && ASSERT_TRUE(cs >= 0);
	/* The collector's lines, in order. */
	while (ok && have < strlen("OUTBOUND 200 client\nOUTBOUND 503 "
				   "client\n")) {
		ssize_t k = read(cs, got + have, sizeof(got) - 1 - have);

		if (!ASSERT_TRUE(k > 0))
			break;
		have += (size_t)k;
	}
	got[have] = '\0';
	ok = ok && ASSERT_STREQ(got, "OUTBOUND 200 client\n"
				     "OUTBOUND 503 client\n");
	/* The collector that is down: its two lines failed (the dial
	 * refused, then its back off), the others' went. */
	for (int i = 0; i < 500 && telw_failed(w, TELW_LOGS) < 2; i++)
		usleep(10000);
	ok = ok && ASSERT_EQ(telw_failed(w, TELW_LOGS), 2);
	/* telw_stop(): what was queued is written first. */
	telw_stop(w);
	w = NULL;
	ok = ok && ASSERT_STREQ(slurp(path), "OUTBOUND 200 client\n"
					     "INBOUND 200 client\n"
					     "OUTBOUND 503 client\n"
					     "INBOUND 503 client\n") &&
	     ASSERT_EQ(stat(path, &st), 0) &&
	     ASSERT_EQ(st.st_mode & 0777, 0640);
	if (cs >= 0)
		close(cs);
out:
	telw_stop(w);
	if (ls >= 0)
		close(ls);
	unlink(path);
	rmdir(tdir);
	free(m);
	return ok;
}

/* A file that cannot be opened (its directory is missing): its lines
 * counted failed, nothing created, the writer goes on. */
static bool test_file_unwritable(void)
{
	static const char path[] = "/tmp/mf_meshlog_no_such_dir/a.log";
	struct meshlog *m = calloc(1, sizeof(*m));
	struct alogfmt_vals v = { .http = true, .status = 200 };
	struct telw *w = NULL;
	uint64_t dropped = 0;
	bool ok;

	ok = ASSERT_TRUE(m) && ASSERT_EQ(telw_start(&w), 0);
	if (ok) {
		m->n = 1;
		m->b[0].be.present = 1u << MF_LOG_FILE;
		snprintf(m->b[0].be.file.path, sizeof(m->b[0].be.file.path),
			 "%s", path);
		meshlog_sink(&m->b[0]);
		for (int i = 0; i < 3; i++)
			meshlog_write(m, &v, w, &dropped, &dropped);
		for (int i = 0; i < 500 && telw_failed(w, TELW_LOGS) < 3; i++)
			usleep(10000);
		ok = ASSERT_EQ(dropped, 0) && ASSERT_EQ(telw_failed(w, TELW_LOGS), 3) &&
		     ASSERT_TRUE(access(path, F_OK) != 0);
	}
	telw_stop(w);
	free(m);
	return ok;
}

/* A backendRef whose MeshOpenTelemetryBackend has env mode Required, on
 * an agent without OTEL_EXPORTER_OTLP_*: the backend is in force but
 * writes nothing, each of its lines counted as such (not as a full
 * queue); with the variable set, it writes to the collector it names. */
static bool test_env_required(void)
{
	static const char yaml[] =
		RH_MESH4
		"---\napiVersion: kuma.io/v1alpha1\n"
		"kind: MeshOpenTelemetryBackend\n"
		"metadata: {name: collector, labels: {app: otel}}\n"
		"spec:\n"
		"  endpoint: {address: 10.0.0.5}\n"
		"  env: {mode: Required}\n"
		RH_KUMA("MeshAccessLog", "web-otel")
		"  targetRef: {kind: MeshService, name: web}\n"
		"  from:\n    - targetRef: {kind: Mesh}\n"
		"      default:\n        backends:\n"
		"          - openTelemetry:\n"
		"              backendRef:\n"
		"                kind: MeshOpenTelemetryBackend\n"
		"                labels: {app: otel}\n";
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	struct meshlog *m = calloc(1, sizeof(*m));
	struct alogfmt_vals v = { .http = true, .status = 200 };
	uint64_t dropped = 0, missing = 0;
	struct otlp_env saved = otlp_agent_env;
	bool ok;

	if (!ASSERT_TRUE(p && m))
		return false;
	memset(&otlp_agent_env, 0, sizeof(otlp_agent_env));
	ok = find(p, "10.1.0.9", "10.96.0.10", m) && ASSERT_EQ(m->n, 1) &&
	     ASSERT_TRUE(m->b[0].env_missing);
	if (ok) {
		meshlog_write(m, &v, NULL, &dropped, &missing);
		meshlog_write(m, &v, NULL, &dropped, &missing);
	}
	ok = ok && ASSERT_EQ(missing, 2) && ASSERT_EQ(dropped, 0);
	strcpy(otlp_agent_env.shared.endpoint, "http://10.0.0.9:14317");
	ok = ok && find(p, "10.1.0.9", "10.96.0.10", m) &&
	     ASSERT_EQ(m->n, 1) && ASSERT_FALSE(m->b[0].env_missing) &&
	     ASSERT_EQ(m->b[0].sink, TELW_OTLP_LOGS_GRPC) &&
	     ASSERT_STREQ(m->b[0].target, "http://10.0.0.9:14317/"
			  "opentelemetry.proto.collector.logs.v1.LogsService/"
			  "Export");
	otlp_agent_env = saved;
	policy_put(p);
	free(m);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_select);
	TEST_RUN(test_select_gateway);
	TEST_RUN(test_write);
	TEST_RUN(test_file_unwritable);
	TEST_RUN(test_env_required);
	TEST_MAIN_END();
}
