// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMetric in the agent: the families a MeshMetric's profiles, exclude,
 * include pick (agent/wmplan.c), the plan of a snapshot compiled from
 * YAML as mfctl compiles it (which workloads of the node, which ports
 * and paths), the per-workload counters (agent/wmstats.c), summed over
 * two loops' tables, and the page a Prometheus backend's port serves
 * (agent/admin_page.c): only the workloads its plan names there, only
 * their families, series never updated only under includeUnused; an
 * application's exposition text with the workload's labels put in, and
 * the scraper thread against a real HTTP server on loopback: its copy,
 * the last good one kept through a 500 and a body over the bound, and
 * applications that never answer costing the others nothing
 * (agent/appscrape.c).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/admin_page.h"
#include "../../agent/appscrape.h"
#include "../../agent/ctx.h"
#include "../../agent/wmplan.h"
#include "../../agent/wmstats.h"

#define F(x) (1u << (x))

/* A sidecar with appendProfiles @prof (0: none given), one exclude and
 * one include selector (type 0: none). */
static struct mf_metric_sidecar sidecar(uint8_t prof, uint8_t ex_type,
					const char *ex, uint8_t in_type,
					const char *in)
{
	struct mf_metric_sidecar sc = { .present = 1 };

	if (prof) {
		sc.profiles.nappend_profiles = 1;
		sc.profiles.append_profiles[0].name = prof;
	}
	if (ex_type) {
		sc.profiles.nexclude = 1;
		sc.profiles.exclude[0].type = ex_type;
		snprintf(sc.profiles.exclude[0].match,
			 sizeof(sc.profiles.exclude[0].match), "%s", ex);
	}
	if (in_type) {
		sc.profiles.ninclude = 1;
		sc.profiles.include[0].type = in_type;
		snprintf(sc.profiles.include[0].match,
			 sizeof(sc.profiles.include[0].match), "%s", in);
	}
	return sc;
}

/* Profiles × exclude × include. */
static bool test_families(void)
{
	struct mf_metric_sidecar sc;
	bool ok = true;

	/* No sidecar, or no profiles: All. */
	ok = ok && ASSERT_EQ(wmplan_families(NULL), WMPLAN_ALL);
	sc = sidecar(0, 0, NULL, 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc), WMPLAN_ALL);
	sc = sidecar(MF_METRIC_PROFILE_BASIC, 0, NULL, 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     F(WMF_REQUESTS) | F(WMF_RESPONSES) |
			     F(WMF_DURATION) | F(WMF_CONNECTIONS));
	sc = sidecar(MF_METRIC_PROFILE_NONE, 0, NULL, 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc), 0);
	/* Basic and All add up to All. */
	sc = sidecar(MF_METRIC_PROFILE_BASIC, 0, NULL, 0, NULL);
	sc.profiles.nappend_profiles = 2;
	sc.profiles.append_profiles[1].name = MF_METRIC_PROFILE_ALL;
	ok = ok && ASSERT_EQ(wmplan_families(&sc), WMPLAN_ALL);
	/* exclude Prefix: the three tcp families go. */
	sc = sidecar(MF_METRIC_PROFILE_ALL, MF_METRIC_SEL_PREFIX,
		     "meshforge_workload_tcp_", 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     WMPLAN_ALL & ~(F(WMF_TCP_CONNECTIONS) |
					    F(WMF_TCP_SENT) |
					    F(WMF_TCP_RECEIVED)));
	/* ... include Exact brings one back: include wins. */
	sc = sidecar(MF_METRIC_PROFILE_ALL, MF_METRIC_SEL_PREFIX,
		     "meshforge_workload_tcp_", MF_METRIC_SEL_EXACT,
		     "meshforge_workload_tcp_sent_bytes_total");
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     WMPLAN_ALL & ~(F(WMF_TCP_CONNECTIONS) |
					    F(WMF_TCP_RECEIVED)));
	/* exclude Regex: the whole name must match. */
	sc = sidecar(MF_METRIC_PROFILE_ALL, MF_METRIC_SEL_REGEX,
		     ".*_bytes_total", 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     WMPLAN_ALL & ~(F(WMF_SENT) | F(WMF_RECEIVED) |
					    F(WMF_TCP_SENT) |
					    F(WMF_TCP_RECEIVED)));
	sc = sidecar(MF_METRIC_PROFILE_ALL, MF_METRIC_SEL_REGEX, "bytes", 0,
		     NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc), WMPLAN_ALL);
	/* exclude Contains; include Regex over profile None. */
	sc = sidecar(MF_METRIC_PROFILE_BASIC, MF_METRIC_SEL_CONTAINS,
		     "request", 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     F(WMF_RESPONSES) | F(WMF_CONNECTIONS));
	sc = sidecar(MF_METRIC_PROFILE_NONE, 0, NULL, MF_METRIC_SEL_REGEX,
		     "meshforge_workload_(sent|received)_bytes_total");
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     F(WMF_SENT) | F(WMF_RECEIVED));
	/* exclude with no profile given: All, less what it matches. */
	sc = sidecar(0, MF_METRIC_SEL_EXACT,
		     "meshforge_workload_requests_total", 0, NULL);
	ok = ok && ASSERT_EQ(wmplan_families(&sc),
			     WMPLAN_ALL & ~F(WMF_REQUESTS));
	return ok;
}

static const char *const policy_yaml =
	RH_MESH4
	RH_DOC("Node", "n2") "spec: {address: 10.0.0.2}\n"
	RH_DOC("Workload", "w2")
	"spec: {node: n2, ip: 10.1.0.20, port: 8080, service: web, "
	"identity: \"spiffe://mesh.local/ns/default/sa/web\"}\n"
	/* web's workloads: Basic with the duration out, port 5670. */
	RH_KUMA("MeshMetric", "web-metrics")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  default:\n"
	"    sidecar:\n"
	"      profiles:\n"
	"        appendProfiles: [{name: Basic}]\n"
	"        exclude: [{type: Prefix, match: meshforge_workload_request_}]\n"
	"    backends:\n"
	"      - type: Prometheus\n"
	"        prometheus: {port: 5670, path: /metrics}\n"
	/* api's: everything, includeUnused, a port (of Kuma's default
	 * path, written without its '/'), and an OpenTelemetry backend
	 * pushed to over gRPC, at Kuma's default interval. */
	RH_KUMA("MeshMetric", "api-metrics")
	"  targetRef: {kind: MeshService, name: api}\n"
	"  default:\n"
	"    sidecar: {includeUnused: true}\n"
	"    applications:\n"
	"      - {name: app, port: 9000}\n"
	"      - {name: side, port: 9001, path: stats, address: 127.0.0.1}\n"
	"      - {name: far, port: 9002, address: 10.9.9.9}\n"
	"    backends:\n"
	"      - type: Prometheus\n"
	"        prometheus: {port: 9100, path: stats}\n"
	"      - type: OpenTelemetry\n"
	"        openTelemetry: {endpoint: 'otel:4317'}\n"
	/* o1's: ProvidedTLS on its port; a MeshOpenTelemetryBackend over
	 * OTLP/HTTP every 10 s. */
	RH_KUMA("MeshMetric", "other-metrics")
	"  targetRef: {kind: MeshService, name: other}\n"
	"  default:\n"
	"    backends:\n"
	"      - type: Prometheus\n"
	"        prometheus: {port: 9200, tls: {mode: ProvidedTLS}}\n"
	"      - type: OpenTelemetry\n"
	"        openTelemetry:\n"
	"          refreshInterval: 10s\n"
	"          backendRef:\n"
	"            kind: MeshOpenTelemetryBackend\n"
	"            labels: {app: otel}\n"
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshOpenTelemetryBackend\n"
	"metadata: {name: collector, labels: {app: otel}}\n"
	"spec:\n"
	"  endpoint: {address: 10.0.0.7, path: /otlp}\n"
	"  protocol: http\n";

/* The plan of the YAML snapshot on node n1: w1 (web), a1 (api) with its
 * applications, o1 (other) with no port; not w2 (web, but on n2), not c1
 * (no MeshMetric). */
static bool test_plan(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	const struct wmplan_wl *w;
	struct wmplan *pl = NULL;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	ok = ASSERT_EQ(wmplan_build(&pl, p, "n1"), 0) &&
	     ASSERT_EQ(pl->n, 3) && ASSERT_EQ(pl->nports, 3) &&
	     ASSERT_EQ(pl->ports[0].port, 5670) &&
	     ASSERT_EQ(pl->ports[1].port, 9100) &&
	     ASSERT_EQ(pl->ports[2].port, 9200) &&
	     ASSERT_TRUE(wmplan_has_port(pl, 9100)) &&
	     ASSERT_FALSE(wmplan_has_port(pl, 9101)) &&
	     /* No tls given: Disabled. */
	     ASSERT_EQ(wmplan_port_tls(pl, 5670), MF_METRIC_TLS_DISABLED) &&
	     ASSERT_EQ(wmplan_port_tls(pl, 9200), MF_METRIC_TLS_PROVIDED) &&
	     ASSERT_EQ(wmplan_port_tls(pl, 9101), 0) &&
	     ASSERT_EQ(pl->tls_conflicts, 0);
	w = ok ? wmplan_find(pl, "w1") : NULL;
	ok = ok && ASSERT_TRUE(w) &&
	     ASSERT_EQ(w->families, F(WMF_REQUESTS) | F(WMF_RESPONSES) |
				    F(WMF_CONNECTIONS)) &&
	     ASSERT_FALSE(w->include_unused) && ASSERT_EQ(w->nprom, 1) &&
	     ASSERT_TRUE(wmplan_serves(w, 5670, "/metrics", 8)) &&
	     ASSERT_FALSE(wmplan_serves(w, 5670, "/stats", 6)) &&
	     ASSERT_FALSE(wmplan_serves(w, 9100, "/metrics", 8));
	w = ok ? wmplan_find(pl, "a1") : NULL;
	ok = ok && ASSERT_TRUE(w) && ASSERT_EQ(w->families, WMPLAN_ALL) &&
	     ASSERT_TRUE(w->include_unused) && ASSERT_EQ(w->nprom, 1) &&
	     ASSERT_TRUE(wmplan_serves(w, 9100, "/stats", 6)) &&
	     ASSERT_STREQ(w->mesh, "default") &&
	     ASSERT_STREQ(w->service, "api") &&
	     /* Applications: at a1's address unless another is given (a
	      * loopback one is the pod's own: its address here). */
	     ASSERT_EQ(w->napps, 3) &&
	     ASSERT_STREQ(w->apps[0].name, "app") &&
	     ASSERT_STREQ(w->apps[0].url, "http://10.1.0.5:9000/metrics") &&
	     ASSERT_STREQ(w->apps[1].url, "http://10.1.0.5:9001/stats") &&
	     ASSERT_STREQ(w->apps[2].url, "http://10.9.9.9:9002/metrics") &&
	     ASSERT_EQ(w->notel, 1) &&
	     ASSERT_EQ(w->otel[0].kind, TELW_OTLP_METRICS_GRPC) &&
	     ASSERT_STREQ(w->otel[0].url, "http://otel:4317/opentelemetry."
			  "proto.collector.metrics.v1.MetricsService/Export") &&
	     ASSERT_EQ(w->otel[0].refresh_ms, 60000);
	/* o1: selected, its Prometheus backend of Kuma's default path on
	 * 9200 with TLS; its OpenTelemetry one by backendRef. */
	w = ok ? wmplan_find(pl, "o1") : NULL;
	ok = ok && ASSERT_TRUE(w) && ASSERT_EQ(w->nprom, 1) &&
	     ASSERT_EQ(w->prom[0].tls, MF_METRIC_TLS_PROVIDED) &&
	     ASSERT_TRUE(wmplan_serves(w, 9200, "/metrics", 8)) &&
	     ASSERT_EQ(w->notel, 1) &&
	     ASSERT_EQ(w->otel[0].kind, TELW_OTLP_METRICS_HTTP) &&
	     ASSERT_STREQ(w->otel[0].url, "http://10.0.0.7:4318/otlp/v1/metrics") &&
	     ASSERT_EQ(w->otel[0].refresh_ms, 10000);
	ok = ok && ASSERT_TRUE(!wmplan_find(pl, "c1")) &&
	     ASSERT_TRUE(!wmplan_find(pl, "w2"));
	wmplan_put(pl);
	pl = NULL;
	/* On n2: w2 alone. */
	ok = ok && ASSERT_EQ(wmplan_build(&pl, p, "n2"), 0) &&
	     ASSERT_EQ(pl->n, 1) && ASSERT_TRUE(wmplan_find(pl, "w2"));
	wmplan_put(pl);
	pl = NULL;
	/* A node the snapshot does not know: nothing. */
	ok = ok && ASSERT_EQ(wmplan_build(&pl, p, "n9"), 0) &&
	     ASSERT_EQ(pl->n, 0) && ASSERT_EQ(pl->nports, 0);
	wmplan_put(pl);
	policy_put(p);
	/* No MeshMetric at all: an empty plan. */
	p = rh_yaml_snapshot(RH_MESH4, 1);
	pl = NULL;
	ok = ok && ASSERT_TRUE(p) && ASSERT_EQ(wmplan_build(&pl, p, "n1"), 0) &&
	     ASSERT_EQ(pl->n, 0) && ASSERT_EQ(pl->nports, 0);
	wmplan_put(pl);
	policy_put(p);
	return ok;
}

/* Backends that ask one port for different TLS modes: the port speaks
 * the strictest (ActiveMTLSBackend over ProvidedTLS over Disabled), and
 * the others are left off it, never answered with less than they asked;
 * another port of theirs stays as it was. */
static bool test_plan_tls(void)
{
	static const char *const yaml =
		RH_MESH4
		RH_KUMA("MeshMetric", "web-metrics")
		"  targetRef: {kind: MeshService, name: web}\n"
		"  default:\n"
		"    backends:\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: 5670}\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: 5671, tls: {mode: Disabled}}\n"
		RH_KUMA("MeshMetric", "api-metrics")
		"  targetRef: {kind: MeshService, name: api}\n"
		"  default:\n"
		"    backends:\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: 5670, tls: {mode: ActiveMTLSBackend}}\n"
		RH_KUMA("MeshMetric", "other-metrics")
		"  targetRef: {kind: MeshService, name: other}\n"
		"  default:\n"
		"    backends:\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: 5670, tls: {mode: ProvidedTLS}}\n";
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	const struct wmplan_wl *w1, *a1, *o1;
	struct wmplan *pl = NULL;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	ok = ASSERT_EQ(wmplan_build(&pl, p, "n1"), 0) &&
	     ASSERT_EQ(pl->nports, 2) &&
	     ASSERT_EQ(wmplan_port_tls(pl, 5670), MF_METRIC_TLS_ACTIVE_MTLS) &&
	     ASSERT_EQ(wmplan_port_tls(pl, 5671), MF_METRIC_TLS_DISABLED) &&
	     ASSERT_EQ(pl->tls_conflicts, 2);
	w1 = ok ? wmplan_find(pl, "w1") : NULL;
	a1 = ok ? wmplan_find(pl, "a1") : NULL;
	o1 = ok ? wmplan_find(pl, "o1") : NULL;
	ok = ok && ASSERT_TRUE(w1 && a1 && o1) &&
	     ASSERT_TRUE(wmplan_serves(a1, 5670, "/metrics", 8)) &&
	     ASSERT_FALSE(wmplan_serves(w1, 5670, "/metrics", 8)) &&
	     ASSERT_FALSE(wmplan_serves(o1, 5670, "/metrics", 8)) &&
	     ASSERT_EQ(w1->nprom, 1) &&
	     ASSERT_TRUE(wmplan_serves(w1, 5671, "/metrics", 8)) &&
	     ASSERT_STREQ(wmplan_tls_str(MF_METRIC_TLS_ACTIVE_MTLS),
			  "ActiveMTLSBackend");
	wmplan_put(pl);
	policy_put(p);
	return ok;
}


/* A snapshot of YAML policy, its plan on node n1 and that plan's workload
 * w1. */
struct plan_fx {
	struct policy *p;
	struct wmplan *pl;
	const struct wmplan_wl *w1;
};

static bool plan_fx_open(struct plan_fx *f, const char *yaml)
{
	memset(f, 0, sizeof(*f));
	f->p = rh_yaml_snapshot(yaml, 1);
	return ASSERT_TRUE(f->p) &&
	       ASSERT_EQ(wmplan_build(&f->pl, f->p, "n1"), 0) &&
	       ASSERT_TRUE((f->w1 = wmplan_find(f->pl, "w1")) != NULL);
}

static void plan_fx_close(struct plan_fx *f)
{
	wmplan_put(f->pl);
	if (f->p)
		policy_put(f->p);
	memset(f, 0, sizeof(*f));
}
/* Kuma 2.x's Mesh.metrics with a prometheus backend enabled: every
 * workload of the node that no MeshMetric selects serves every family at
 * its port and path, over the mesh's mTLS unless skipMTLS (or tls.mode)
 * says otherwise; one a MeshMetric selects has the MeshMetric's plan; a
 * backend that is not the enabled one serves nothing. */
static bool test_plan_mesh_metrics(void)
{
#define MESH_METRICS(conf)                                                   \
	RH_DOC("Mesh", "default")                                            \
	"spec:\n"                                                            \
	"  trustDomain: mesh.local\n"                                        \
	"  metrics:\n"                                                       \
	"    enabledBackend: prom-1\n"                                       \
	"    backends:\n"                                                    \
	"      - {name: prom-0, type: prometheus, conf: {port: 7000}}\n"     \
	"      - name: prom-1\n"                                             \
	"        type: prometheus\n"                                         \
	"        conf: " conf "\n"
#define NODES_AND_WORKLOADS                                                  \
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"                   \
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"       \
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.13, port: 80}\n"       \
	RH_WL4("w1", "10.1.0.1", "web") RH_WL4("a1", "10.1.0.5", "api")
	static const char *const yaml =
		MESH_METRICS("{port: 5680, path: /stats, skipMTLS: true}")
		NODES_AND_WORKLOADS
		RH_KUMA("MeshMetric", "api-metrics")
		"  targetRef: {kind: MeshService, name: api}\n"
		"  default:\n"
		"    backends:\n"
		"      - type: Prometheus\n"
		"        prometheus: {port: 9100}\n";
	static const char *const yaml_tls =
		MESH_METRICS("{tls: {mode: providedTLS}}") NODES_AND_WORKLOADS;
	/* envoy's filterRegex picks families anywhere in the name, usedOnly
	 * leaves the unused ones out; aggregate's applications are scraped
	 * at the workload's address unless disabled. */
	static const char *const yaml_envoy =
		MESH_METRICS("{envoy: {filterRegex: 'requests_total|sent_by', "
			     "usedOnly: true}, aggregate: [{name: idle, port: "
			     "8080, path: /m, enabled: false}, {name: app, "
			     "port: 9091, address: 10.9.9.9, enabled: true}]}")
		NODES_AND_WORKLOADS;
	static const char *const yaml_app =
		MESH_METRICS("{aggregate: [{name: app, port: 8080, path: /m}]}")
		NODES_AND_WORKLOADS;
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	struct plan_fx fx = { 0 };
	const struct wmplan_wl *w;
	struct wmplan *pl = NULL;
	bool ok;

	if (!ASSERT_TRUE(p))
		return false;
	ok = ASSERT_EQ(wmplan_build(&pl, p, "n1"), 0) && ASSERT_EQ(pl->n, 2) &&
	     ASSERT_EQ(pl->nports, 2) &&
	     ASSERT_EQ(wmplan_port_tls(pl, 5680), MF_METRIC_TLS_DISABLED) &&
	     ASSERT_FALSE(wmplan_has_port(pl, 7000));
	w = ok ? wmplan_find(pl, "w1") : NULL;
	ok = ok && ASSERT_TRUE(w) && ASSERT_EQ(w->families, WMPLAN_ALL) &&
	     ASSERT_EQ(w->nprom, 1) &&
	     ASSERT_TRUE(wmplan_serves(w, 5680, "/stats", 6)) &&
	     ASSERT_STREQ(w->service, "web");
	w = ok ? wmplan_find(pl, "a1") : NULL;
	ok = ok && ASSERT_TRUE(w) &&
	     ASSERT_TRUE(wmplan_serves(w, 9100, "/metrics", 8)) &&
	     ASSERT_FALSE(wmplan_serves(w, 5680, "/stats", 6));
	wmplan_put(pl);
	policy_put(p);
	/* Kuma's defaults, TLS as tls.mode says; without envoy every
	 * family, the unused ones too (Kuma's usedOnly: false), and no
	 * applications. */
	ok = ok && plan_fx_open(&fx, yaml_tls) && ASSERT_EQ(fx.pl->n, 2) &&
	     ASSERT_EQ(wmplan_port_tls(fx.pl, 5670), MF_METRIC_TLS_PROVIDED) &&
	     ASSERT_TRUE(wmplan_serves(fx.w1, 5670, "/metrics", 8)) &&
	     ASSERT_TRUE(fx.w1->include_unused) &&
	     ASSERT_EQ(fx.w1->families, WMPLAN_ALL) &&
	     ASSERT_EQ(fx.w1->napps, 0);
	plan_fx_close(&fx);
	ok = ok && plan_fx_open(&fx, yaml_envoy) &&
	     ASSERT_EQ(fx.w1->families, (1u << WMF_REQUESTS) |
					(1u << WMF_SENT) |
					(1u << WMF_TCP_SENT)) &&
	     ASSERT_FALSE(fx.w1->include_unused) &&
	     ASSERT_EQ(fx.w1->napps, 1) &&
	     ASSERT_STREQ(fx.w1->apps[0].name, "app") &&
	     ASSERT_STREQ(fx.w1->apps[0].url, "http://10.9.9.9:9091/metrics");
	plan_fx_close(&fx);
	/* An application at the workload's own address, its path. */
	ok = ok && plan_fx_open(&fx, yaml_app) && ASSERT_EQ(fx.w1->napps, 1) &&
	     ASSERT_STREQ(fx.w1->apps[0].url, "http://10.1.0.1:8080/m");
	plan_fx_close(&fx);
	return ok;
#undef MESH_METRICS
#undef NODES_AND_WORKLOADS
}

/* Series are found again by their labels, counted, and found from
 * another table (a second loop's). */
static bool test_series(void)
{
	struct wmstats a = { 0 }, b = { 0 };
	struct wmstats_series *x, *y;
	bool ok;

	x = wmstats_series(&a, "default", "w1", "web", WMSTATS_OUTBOUND, "api");
	y = wmstats_series(&b, "default", "w1", "web", WMSTATS_OUTBOUND, "api");
	ok = ASSERT_TRUE(x && y) &&
	     ASSERT_TRUE(wmstats_series(&a, "default", "w1", "web",
					WMSTATS_OUTBOUND, "api") == x) &&
	     ASSERT_TRUE(wmstats_series(&a, "default", "w1", "web",
					WMSTATS_INBOUND, "api") != x) &&
	     ASSERT_TRUE(wmstats_find(&b, x) == y) && ASSERT_EQ(a.nseries, 2);
	/* No workload: nothing, counted. */
	ok = ok && ASSERT_TRUE(!wmstats_series(&a, "default", "", "web",
					       WMSTATS_OUTBOUND, NULL)) &&
	     ASSERT_EQ(a.dropped, 1);
	if (ok) {
		ok = ASSERT_FALSE(wmstats_used(x, WMF_REQUESTS));
		wmstats_conn(x, false);
		wmstats_request(x, 200, 0.003);
		wmstats_request(x, 503, 2.0);
		ok = ok && ASSERT_EQ(x->requests, 2) &&
		     ASSERT_EQ(x->by_class[2], 1) && ASSERT_EQ(x->by_class[5], 1) &&
		     ASSERT_EQ(x->buckets[3], 1) &&	/* <= 0.005 */
		     ASSERT_EQ(x->buckets[11], 1) &&	/* <= 5 */
		     ASSERT_EQ(x->dcount, 2) && ASSERT_TRUE(x->conns == 1) &&
		     ASSERT_EQ(x->tcp_conns, 0) &&
		     ASSERT_TRUE(wmstats_used(x, WMF_DURATION)) &&
		     ASSERT_FALSE(wmstats_used(x, WMF_TCP_CONNECTIONS));
	}
	wmstats_free(&a);
	wmstats_free(&b);
	return ok;
}

/* The whole page of @plan on @port at @path, from two loops' tables. */
static char *render(struct ctx *c0, struct wmplan *plan, uint16_t port,
		    const char *path)
{
	struct apage_env env = { .ctx = c0, .ncpu = 1 };
	struct apage_buf out = { 0 };
	struct apage pg;
	int r;

	if (apage_open_workloads(&pg, &env, &out, plan, port, path,
				 strlen(path)))
		return NULL;
	do
		r = apage_step(&pg, 512);
	while (r == 0);
	apage_close(&pg);
	if (r < 0) {
		apage_buf_free(&out);
		return NULL;
	}
	apage_buf_put(&out, "", 1);
	return out.p;
}

static bool test_page(void)
{
	struct policy *p = rh_yaml_snapshot(policy_yaml, 1);
	static struct ctx c0, c1;
	struct ctx_loops loops = { .n = 2 };
	struct wmstats_series *x;
	struct wmplan *pl = NULL;
	char *page = NULL;
	bool ok;

	if (!ASSERT_TRUE(p) || !ASSERT_EQ(wmplan_build(&pl, p, "n1"), 0))
		return false;
	loops.ctx[0] = &c0;
	loops.ctx[1] = &c1;
	c0.loops = c1.loops = &loops;
	/* w1 -> api: 2 requests on loop 0, 1 on loop 1; w1 inbound from
	 * client, a connection; c1 (no MeshMetric) -> web. */
	x = wmstats_series(&c0.wmstats, "default", "w1", "web",
			   WMSTATS_OUTBOUND, "api");
	wmstats_conn(x, false);
	wmstats_request(x, 200, 0.01);
	wmstats_request(x, 200, 0.01);
	x = wmstats_series(&c1.wmstats, "default", "w1", "web",
			   WMSTATS_OUTBOUND, "api");
	wmstats_conn(x, false);
	wmstats_request(x, 404, 0.01);
	x = wmstats_series(&c1.wmstats, "default", "w1", "web",
			   WMSTATS_INBOUND, "client");
	wmstats_conn(x, false);
	x = wmstats_series(&c0.wmstats, "default", "c1", "client",
			   WMSTATS_OUTBOUND, "web");
	wmstats_conn(x, false);
	wmstats_request(x, 200, 0.01);
	/* a1: one L4 connection that was counted but moved no byte. */
	x = wmstats_series(&c0.wmstats, "default", "a1", "api",
			   WMSTATS_OUTBOUND, "other");
	wmstats_conn(x, true);

	page = render(&c0, pl, 5670, "/metrics");
#define W1_OUT "mesh=\"default\",workload=\"w1\",kuma_io_service=\"web\"," \
	"direction=\"outbound\",destination_service=\"api\""
	ok = ASSERT_TRUE(page) &&
	     /* Summed over both loops. */
	     ASSERT_TRUE(strstr(page, "meshforge_workload_connections_total{"
				W1_OUT "} 2\n")) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_responses_total{"
				W1_OUT ",class=\"2xx\"} 2\n")) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_responses_total{"
				W1_OUT ",class=\"4xx\"} 1\n")) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_connections_total{"
				"mesh=\"default\",workload=\"w1\","
				"kuma_io_service=\"web\",direction=\"inbound\","
				"source_service=\"client\"} 1\n")) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_requests_total{"
				W1_OUT "} 3\n")) &&
	     /* Excluded by its MeshMetric: the duration. */
	     ASSERT_TRUE(!strstr(page, "_duration_seconds_bucket{")) &&
	     /* Not Basic. */
	     ASSERT_TRUE(!strstr(page, "meshforge_workload_sent_bytes_total{")) &&
	     /* Other workloads: not on this page. */
	     ASSERT_TRUE(!strstr(page, "workload=\"c1\"")) &&
	     ASSERT_TRUE(!strstr(page, "workload=\"a1\""));
	free(page);
	/* a1's page: includeUnused shows its zero series too. */
	page = ok ? render(&c0, pl, 9100, "/stats") : NULL;
	ok = ok && ASSERT_TRUE(page) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_tcp_connections_total{"
				"mesh=\"default\",workload=\"a1\","
				"kuma_io_service=\"api\",direction=\"outbound\","
				"destination_service=\"other\"} 1\n")) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_tcp_sent_bytes_total{"
				"mesh=\"default\",workload=\"a1\","
				"kuma_io_service=\"api\",direction=\"outbound\","
				"destination_service=\"other\"} 0\n")) &&
	     ASSERT_TRUE(strstr(page, "meshforge_workload_request_duration_seconds_count{"
				"mesh=\"default\",workload=\"a1\"")) &&
	     ASSERT_TRUE(!strstr(page, "workload=\"w1\""));
	free(page);
	/* A path or port no backend names: no page. */
	ok = ok && ASSERT_TRUE(!render(&c0, pl, 5670, "/stats")) &&
	     ASSERT_TRUE(!render(&c0, pl, 5671, "/metrics"));
	wmplan_put(pl);
	policy_put(p);
	wmstats_free(&c0.wmstats);
	wmstats_free(&c1.wmstats);
	return ok;
}

/* An application's text: samples get the labels first, comments,
 * malformed lines and samples that carry one of the added labels go. */
static bool test_label(void)
{
	static const char body[] =
		"# HELP app_requests_total Requests.\n"
		"# TYPE app_requests_total counter\n"
		"app_requests_total{code=\"200\"} 7\n"
		"\n"
		"app_up 1 1700000000000\n"
		"app_broken{code=200} 1\n"
		"app_mine{workload=\"x\"} 2\n"
		"app_last{} 3";	/* no final newline */
	static const char labels[] =
		"mesh=\"default\",workload=\"a1\",kuma_io_service=\"client\","
		"kuma_io_application=\"app\"";
	static const char want[] =
		"app_requests_total{mesh=\"default\",workload=\"a1\","
		"kuma_io_service=\"client\",kuma_io_application=\"app\","
		"code=\"200\"} 7\n"
		"app_up{mesh=\"default\",workload=\"a1\","
		"kuma_io_service=\"client\",kuma_io_application=\"app\"} "
		"1 1700000000000\n"
		"app_last{mesh=\"default\",workload=\"a1\","
		"kuma_io_service=\"client\",kuma_io_application=\"app\"} 3\n";
	char *out = NULL, *big;
	size_t len = 0, n = APPSCRAPE_TEXT_MAX;
	long dropped;
	bool ok;

	dropped = appscrape_label(body, strlen(body), labels, &out, &len);
	ok = ASSERT_EQ(dropped, 4) && ASSERT_TRUE(out) &&
	     ASSERT_EQ(len, strlen(want)) && ASSERT_MEMEQ(out, want, len);
	free(out);
	/* Past the bound of a labelled copy: refused whole. */
	big = malloc(n);
	if (!ASSERT_TRUE(big))
		return false;
	for (size_t i = 0; i + 4 <= n; i += 4)
		memcpy(big + i, "x 1\n", 4);
	out = NULL;
	ok = ok && ASSERT_EQ(appscrape_label(big, n, labels, &out, &len),
			     -EFBIG) && ASSERT_TRUE(!out);
	free(big);
	return ok;
}

/* An HTTP server on 127.0.0.1 for the scraper: each connection gets
 * srv.status and srv.body (set before a fetch is asked for), then the
 * close. */
static struct {
	int fd;
	uint16_t port;
	pthread_t th;
	char *body;
	size_t len;
	int status;
} srv;

static void *srv_main(void *arg)
{
	char req[4096], head[128];
	int c;

	(void)arg;
	while ((c = accept(srv.fd, NULL, NULL)) >= 0) {
		size_t got = 0, off = 0;
		ssize_t n;

		/* The request head, whole. */
		while (got < sizeof(req) - 1 &&
		       (n = recv(c, req + got, sizeof(req) - 1 - got, 0)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		n = snprintf(head, sizeof(head), "HTTP/1.1 %d X\r\n"
			     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
			     srv.status, srv.len);
		if (send(c, head, (size_t)n, MSG_NOSIGNAL) == n)
			while (off < srv.len &&
			       (n = send(c, srv.body + off, srv.len - off,
					 MSG_NOSIGNAL)) > 0)
				off += (size_t)n;
		close(c);
	}
	return NULL;
}

static bool srv_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);

	srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return ASSERT_TRUE(srv.fd >= 0) &&
	       ASSERT_EQ(bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)), 0) &&
	       ASSERT_EQ(listen(srv.fd, 8), 0) &&
	       ASSERT_EQ(getsockname(srv.fd, (struct sockaddr *)&sa, &sl), 0) &&
	       (srv.port = ntohs(sa.sin_port)) &&
	       ASSERT_EQ(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static void srv_stop(void)
{
	shutdown(srv.fd, SHUT_RDWR);
	pthread_join(srv.th, NULL);
	close(srv.fd);
}

/* Waits (5 s at most) until the scraper has done @ok good fetches and
 * @failed failed ones. */
static bool scrapes(struct appscrape *s, uint64_t ok, uint64_t failed)
{
	const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
	uint64_t o = 0, f = 0;

	for (int i = 0; i < 500; i++) {
		appscrape_counts(s, &o, &f);
		if (o >= ok && f >= failed)
			break;
		nanosleep(&tick, NULL);
	}
	return ASSERT_EQ(o, ok) && ASSERT_EQ(f, failed);
}

/* The copy of w1's application "app", compared with @want. */
static bool copy_is(struct appscrape *s, const char *want)
{
	struct apage_buf b = { 0 };
	size_t n = appscrape_copy(s, "w1", "app", apage_buf_write, &b);
	bool ok = ASSERT_EQ(n, strlen(want)) &&
		  (!n || ASSERT_MEMEQ(b.p, want, n));

	apage_buf_free(&b);
	return ok;
}

static bool test_scrape(void)
{
	static char one[] = "# TYPE a_total counter\na_total{x=\"1\"} 5\n";
	static char two[] = "a_total{x=\"1\"} 6\nb 1\n";
	struct appscrape_target t = {
		.workload = "w1", .app = "app",
		.labels = "workload=\"w1\",kuma_io_application=\"app\"",
	};
	struct appscrape *s = NULL;
	char *big = NULL;
	bool ok;

	if (!srv_start())
		return false;
	snprintf(t.url, sizeof(t.url), "http://127.0.0.1:%u/metrics",
		 srv.port);
	srv.status = 200;
	srv.body = one;
	srv.len = strlen(one);
	ok = ASSERT_EQ(appscrape_open(&s), 0) && copy_is(s, "") &&
	     ASSERT_EQ(appscrape_targets(s, &t, 1), 0) && scrapes(s, 1, 0) &&
	     copy_is(s, "a_total{workload=\"w1\",kuma_io_application=\"app\","
		     "x=\"1\"} 5\n");
	/* A 500: the last good copy stays.  Setting the same target asks
	 * for a fetch at once. */
	srv.status = 500;
	srv.body = two;
	srv.len = strlen(two);
	ok = ok && ASSERT_EQ(appscrape_targets(s, &t, 1), 0) &&
	     scrapes(s, 1, 1) &&
	     copy_is(s, "a_total{workload=\"w1\",kuma_io_application=\"app\","
		     "x=\"1\"} 5\n");
	/* A body over the bound: the same. */
	big = malloc(APPSCRAPE_BODY_MAX + 4);
	if (ok && ASSERT_TRUE(big)) {
		for (size_t i = 0; i + 4 <= APPSCRAPE_BODY_MAX + 4; i += 4)
			memcpy(big + i, "x 1\n", 4);
		srv.status = 200;
		srv.body = big;
		srv.len = APPSCRAPE_BODY_MAX + 4;
		ok = ASSERT_EQ(appscrape_targets(s, &t, 1), 0) &&
		     scrapes(s, 1, 2) &&
		     copy_is(s, "a_total{workload=\"w1\",kuma_io_application=\"app\","
			     "x=\"1\"} 5\n");
	}
	/* Good again: the new copy. */
	srv.body = two;
	srv.len = strlen(two);
	ok = ok && ASSERT_EQ(appscrape_targets(s, &t, 1), 0) &&
	     scrapes(s, 2, 2) &&
	     copy_is(s, "a_total{workload=\"w1\",kuma_io_application=\"app\","
		     "x=\"1\"} 6\n"
		     "b{workload=\"w1\",kuma_io_application=\"app\"} 1\n");
	/* Three applications that never answer (a listener that never
	 * accepts) beside it: fetched at once, the round takes one timeout,
	 * not three, and the good one's copy is new. */
	if (ok) {
		struct sockaddr_in sa = {
			.sin_family = AF_INET,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t sl = sizeof(sa);
		struct appscrape_target ts[4];
		struct timespec t0, t1;
		int mute = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

		ok = ASSERT_TRUE(mute >= 0) &&
		     ASSERT_EQ(bind(mute, (struct sockaddr *)&sa, sizeof(sa)), 0) &&
		     ASSERT_EQ(listen(mute, 8), 0) &&
		     ASSERT_EQ(getsockname(mute, (struct sockaddr *)&sa, &sl), 0);
		for (int i = 0; i < 3; i++) {
			ts[i] = t;
			snprintf(ts[i].app, sizeof(ts[i].app), "mute%d", i);
			snprintf(ts[i].url, sizeof(ts[i].url),
				 "http://127.0.0.1:%u/metrics",
				 ntohs(sa.sin_port));
		}
		ts[3] = t;
		srv.body = one;
		srv.len = strlen(one);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = ok && ASSERT_EQ(appscrape_targets(s, ts, 4), 0) &&
		     scrapes(s, 3, 5);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ok = ok && ASSERT_TRUE((t1.tv_sec - t0.tv_sec) * 1000 +
				       (t1.tv_nsec - t0.tv_nsec) / 1000000 <
				       2 * APPSCRAPE_TIMEOUT_MS) &&
		     copy_is(s, "a_total{workload=\"w1\",kuma_io_application=\"app\","
			     "x=\"1\"} 5\n");
		if (mute >= 0)
			close(mute);
	}
	/* No longer a target: no copy. */
	ok = ok && ASSERT_EQ(appscrape_targets(s, NULL, 0), 0) &&
	     copy_is(s, "");
	appscrape_close(s);
	srv_stop();
	free(big);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_families);
	TEST_RUN(test_plan);
	TEST_RUN(test_plan_tls);
	TEST_RUN(test_plan_mesh_metrics);
	TEST_RUN(test_series);
	TEST_RUN(test_page);
	TEST_RUN(test_label);
	TEST_RUN(test_scrape);
	TEST_MAIN_END();
}
