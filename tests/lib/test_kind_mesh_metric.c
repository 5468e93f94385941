// SPDX-License-Identifier: Apache-2.0
/*
 * MeshMetric (lib/policy/kind_mesh_metric.c) through mfctl's reader and
 * printer: sidecar profiles and their selectors, applications and both
 * backends (Prometheus with TLS, OpenTelemetry by endpoint or by
 * backendRef) parse into the expected record and print back to the same
 * bytes; backend types, profile names, selectors, TLS modes, ports, paths,
 * collector endpoints and backendRefs each give exactly the expected
 * diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define MM_HEAD KH_API "kind: MeshMetric\nmetadata:\n  name: metrics\nspec:\n"

static const char mm_full[] =
	MM_HEAD
	"  targetRef: {kind: Mesh}\n"
	"  default:\n"
	"    sidecar:\n"
	"      includeUnused: false\n"
	"      profiles:\n"
	"        appendProfiles:\n"
	"          - name: Basic\n"
	"          - name: None\n"
	"    applications:\n"
	"      - name: app\n"
	"        path: /metrics\n"
	"        port: 8888\n"
	"        address: 127.0.0.1\n"
	"      - port: 9090\n"
	"    backends:\n"
	"      - type: Prometheus\n"
	"        prometheus: {clientId: main, port: 5670, path: /metrics}\n"
	"      - type: OpenTelemetry\n"
	"        openTelemetry:\n"
	"          endpoint: otel-collector.observability:4317\n"
	"          refreshInterval: 1m30s\n";

static bool test_metric_full(void)
{
	struct model_set s;
	const struct mf_metric *r = kh_policy(mm_full, &s, &kind_mesh_metric,
					      1);
	const struct mf_metric_conf *c = r ? &r->conf : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_DEFAULT) &&
	     ASSERT_EQ(c->sidecar.include_unused, 0) &&
	     ASSERT_EQ(c->sidecar.present, 3) &&
	     ASSERT_EQ(c->sidecar.profiles.nappend_profiles, 2) &&
	     ASSERT_EQ(c->sidecar.profiles.append_profiles[0].name,
		       MF_METRIC_PROFILE_BASIC) &&
	     ASSERT_EQ(c->sidecar.profiles.append_profiles[1].name,
		       MF_METRIC_PROFILE_NONE) &&
	     ASSERT_EQ(c->napplications, 2) &&
	     ASSERT_STREQ(c->applications[0].name, "app") &&
	     ASSERT_STREQ(c->applications[0].path, "/metrics") &&
	     ASSERT_EQ(c->applications[0].port, 8888) &&
	     ASSERT_STREQ(c->applications[0].address, "127.0.0.1") &&
	     ASSERT_EQ(c->applications[1].port, 9090) &&
	     ASSERT_EQ(c->applications[1].present, 1u << 2) &&
	     ASSERT_EQ(c->nbackends, 2) &&
	     ASSERT_EQ(c->backends[0].type, MF_METRIC_PROMETHEUS) &&
	     ASSERT_STREQ(c->backends[0].prometheus.client_id, "main") &&
	     ASSERT_EQ(c->backends[0].prometheus.port, 5670) &&
	     ASSERT_EQ(c->backends[1].type, MF_METRIC_OPENTELEMETRY) &&
	     ASSERT_STREQ(c->backends[1].open_telemetry.endpoint,
			  "otel-collector.observability:4317") &&
	     ASSERT_EQ(c->backends[1].open_telemetry.refresh_interval, 90000);
	return kh_finish(&s, ok);
}

/* Selectors on the profiles, TLS on the Prometheus listener, and paths
 * without their leading '/', which Kuma takes. */
static bool test_metric_selectors_tls(void)
{
	struct model_set s;
	const struct mf_metric *r;
	const struct mf_metric_profiles *p;
	bool ok;

	r = kh_policy(MM_HEAD "  default:\n"
		      "    sidecar:\n"
		      "      includeUnused: true\n"
		      "      profiles:\n"
		      "        appendProfiles: [{name: All}]\n"
		      "        exclude:\n"
		      "          - {type: Regex, match: 'envoy_cluster_.*'}\n"
		      "          - {type: Contains, match: _bucket}\n"
		      "        include:\n"
		      "          - {type: Prefix, match: envoy_cluster_rq}\n"
		      "    applications:\n"
		      "      - {path: stats/prometheus, port: 9901}\n"
		      "    backends:\n"
		      "      - type: Prometheus\n"
		      "        prometheus:\n"
		      "          path: metrics\n"
		      "          tls: {mode: ActiveMTLSBackend}\n"
		      "      - type: Prometheus\n"
		      "        prometheus: {port: 5671, tls: {}}\n",
		      &s, &kind_mesh_metric, 1);
	p = r ? &r->conf.sidecar.profiles : NULL;
	ok = r && ASSERT_EQ(r->conf.sidecar.include_unused, 1) &&
	     ASSERT_EQ(p->present, 7) && ASSERT_EQ(p->nappend_profiles, 1) &&
	     ASSERT_EQ(p->nexclude, 2) &&
	     ASSERT_EQ(p->exclude[0].type, MF_METRIC_SEL_REGEX) &&
	     ASSERT_STREQ(p->exclude[0].match, "envoy_cluster_.*") &&
	     ASSERT_EQ(p->exclude[1].type, MF_METRIC_SEL_CONTAINS) &&
	     ASSERT_STREQ(p->exclude[1].match, "_bucket") &&
	     ASSERT_EQ(p->ninclude, 1) &&
	     ASSERT_EQ(p->include[0].type, MF_METRIC_SEL_PREFIX) &&
	     ASSERT_STREQ(p->include[0].match, "envoy_cluster_rq") &&
	     ASSERT_STREQ(r->conf.applications[0].path, "stats/prometheus") &&
	     ASSERT_STREQ(r->conf.backends[0].prometheus.path, "metrics") &&
	     ASSERT_EQ(r->conf.backends[0].prometheus.tls.mode,
		       MF_METRIC_TLS_ACTIVE_MTLS) &&
	     /* tls: {} is there, its mode not given (Disabled) */
	     ASSERT_EQ(r->conf.backends[1].prometheus.present, 2 | 8) &&
	     ASSERT_EQ(r->conf.backends[1].prometheus.tls.present, 0) &&
	     ASSERT_EQ(r->conf.backends[1].prometheus.tls.mode, 0);
	return kh_finish(&s, ok);
}

/* Kuma 3.0's only form: a MeshOpenTelemetryBackend by labels. */
static bool test_metric_otel_backend_ref(void)
{
	static const char *const labels[] = { "app", "otel" };
	struct model_set s;
	const struct mf_metric *r;
	const struct mf_metric_otel *o;
	bool ok;

	r = kh_policy(MM_HEAD "  default:\n    backends:\n"
		      "      - type: OpenTelemetry\n"
		      "        openTelemetry:\n"
		      "          backendRef:\n"
		      "            kind: MeshOpenTelemetryBackend\n"
		      "            labels: {app: otel}\n"
		      "          refreshInterval: 10s\n",
		      &s, &kind_mesh_metric, 1);
	o = r ? &r->conf.backends[0].open_telemetry : NULL;
	ok = r && ASSERT_EQ(o->present, 6) && ASSERT_STREQ(o->endpoint, "") &&
	     ASSERT_EQ(o->backend_ref.kind, MF_OTEL_REF_BACKEND) &&
	     kh_tags_are(&s, o->backend_ref.labels, labels, 1) &&
	     ASSERT_EQ(o->refresh_interval, 10000);
	return kh_finish(&s, ok);
}

#define MM_DEF(body) MM_HEAD "  default:\n" body

KH_TEST_BAD(test_metric_invalid,
	{ MM_DEF("    backends:\n"
	         "      - type: Prometheus\n"),
	  "t.yaml:8:9: spec.default.backends[0]: "
	  "type Prometheus needs prometheus" },
	{ MM_DEF("    backends:\n"
	         "      - type: OpenTelemetry\n"
	         "        openTelemetry: {endpoint: 'o:4317'}\n"
	         "        prometheus: {port: 5670}\n"),
	  "t.yaml:8:9: spec.default.backends[0]: "
	  "prometheus is not allowed with type OpenTelemetry" },
	{ MM_DEF("    backends:\n"
	         "      - prometheus: {port: 5670}\n"),
	  "t.yaml:8:9: spec.default.backends[0].type: "
	  "is required" },
	{ MM_DEF("    sidecar:\n"
	         "      profiles:\n"
	         "        appendProfiles: [{name: Extra}]\n"),
	  "t.yaml:9:33: spec.default.sidecar.profiles.appendProfiles[0].name: "
	  "must be All, Basic or None" },
	{ MM_DEF("    applications:\n"
	         "      - {path: /m, port: 0}\n"),
	  "t.yaml:8:26: spec.default.applications[0].port: "
	  "must be 1..65535" },
	{ MM_DEF("    applications:\n"
	         "      - {path: /a b, port: 80}\n"),
	  "t.yaml:8:16: spec.default.applications[0].path: "
	  "must not contain spaces or control characters" },
	{ MM_DEF("    sidecar:\n"
	         "      profiles:\n"
	         "        exclude: [{type: Suffix, match: _total}]\n"),
	  "t.yaml:9:26: spec.default.sidecar.profiles.exclude[0].type: "
	  "must be Prefix, Regex, Exact or Contains" },
	{ MM_DEF("    sidecar:\n"
	         "      profiles:\n"
	         "        include: [{type: Regex, match: 'envoy_(cluster'}]\n"),
	  "t.yaml:9:40: spec.default.sidecar.profiles.include[0].match: "
	  "is not a valid regular expression" },
	{ MM_DEF("    sidecar:\n"
	         "      profiles:\n"
	         "        include: [{type: Exact}]\n"),
	  "t.yaml:9:19: spec.default.sidecar.profiles.include[0].match: "
	  "is required" },
	{ MM_DEF("    sidecar:\n"
	         "      profiles:\n"
	         "        exclude: [{type: Exact, match: a}, "
	         "{type: Exact, match: b},\n"
	         "                  {type: Exact, match: c}, "
	         "{type: Exact, match: d},\n"
	         "                  {type: Exact, match: e}]\n"),
	  "t.yaml:9:18: spec.default.sidecar.profiles.exclude: "
	  "must have at most 4 entries" },
	{ MM_DEF("    backends:\n"
	         "      - type: Prometheus\n"
	         "        prometheus: {tls: {mode: Strict}}\n"),
	  "t.yaml:9:34: spec.default.backends[0].prometheus.tls.mode: "
	  "must be Disabled, ProvidedTLS or ActiveMTLSBackend" },
)

#define MM_OTEL(otel)                                                         \
	MM_DEF("    backends:\n"                                              \
	       "      - type: OpenTelemetry\n"                                \
	       "        openTelemetry: " otel "\n")

KH_TEST_BAD(test_metric_otel_invalid,
	{ MM_OTEL("{endpoint: 'otel:4317', backendRef: "
		  "{kind: MeshOpenTelemetryBackend, labels: {app: otel}}}"),
	  "t.yaml:9:24: spec.default.backends[0].openTelemetry: "
	  "must have exactly one of endpoint, backendRef" },
	{ MM_OTEL("{refreshInterval: 10s}"),
	  "t.yaml:9:24: spec.default.backends[0].openTelemetry: "
	  "must have exactly one of endpoint, backendRef" },
	{ MM_OTEL("{endpoint: 'http://otel:4317'}"),
	  "t.yaml:9:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "must be host:port, not a URL" },
	{ MM_OTEL("{endpoint: otel-collector}"),
	  "t.yaml:9:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "must be host:port" },
	{ MM_OTEL("{endpoint: 'otel:0'}"),
	  "t.yaml:9:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "port must be 1..65535" },
	{ MM_OTEL("{backendRef: {kind: Mesh, labels: {app: otel}}}"),
	  "t.yaml:9:44: "
	  "spec.default.backends[0].openTelemetry.backendRef.kind: "
	  "must be MeshOpenTelemetryBackend" },
	{ MM_OTEL("{backendRef: {kind: MeshOpenTelemetryBackend}}"),
	  "t.yaml:9:37: "
	  "spec.default.backends[0].openTelemetry.backendRef.labels: "
	  "is required" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_metric_full);
	TEST_RUN(test_metric_selectors_tls);
	TEST_RUN(test_metric_otel_backend_ref);
	TEST_RUN(test_metric_invalid);
	TEST_RUN(test_metric_otel_invalid);
	TEST_MAIN_END();
}
