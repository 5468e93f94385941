// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrace (lib/policy/kind_mesh_trace.c) through mfctl's reader and
 * printer: zipkin, datadog and openTelemetry backends (by endpoint or by
 * backendRef), tags and sampling parse into the expected record and print
 * back to the same bytes; the one-backend bound, the exactly-one rules,
 * URLs, collector endpoints, backendRefs, percentages and a MeshGateway's
 * listener tags each give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define MT_HEAD KH_API "kind: MeshTrace\nmetadata:\n  name: traces\nspec:\n"

static const char mt_full[] =
	MT_HEAD
	"  targetRef:\n"
	"    kind: MeshSubset\n"
	"    tags: {team: core}\n"
	"  default:\n"
	"    backends:\n"
	"      - type: Zipkin\n"
	"        zipkin:\n"
	"          url: http://jaeger-collector:9411/api/v2/spans\n"
	"          traceId128bit: true\n"
	"          apiVersion: httpProto\n"
	"          sharedSpanContext: false\n"
	"    tags:\n"
	"      - {name: team, literal: core}\n"
	"      - name: env\n"
	"        header: {name: x-env, default: prod}\n"
	"    sampling:\n"
	"      overall: 80\n"
	"      client: 50\n"
	"      random: '12.5'\n";

static bool test_trace_full(void)
{
	static const char *const team[] = { "team", "core" };
	struct model_set s;
	const struct mf_trace *r = kh_policy(mt_full, &s, &kind_mesh_trace, 1);
	const struct mf_trace_conf *c = r ? &r->conf : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_DEFAULT) &&
	     ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     kh_tags_are(&s, r->hdr.target.tags, team, 1) &&
	     ASSERT_EQ(c->nbackends, 1) &&
	     ASSERT_EQ(c->backends[0].type, MF_TRACE_ZIPKIN) &&
	     ASSERT_STREQ(c->backends[0].zipkin.url,
			  "http://jaeger-collector:9411/api/v2/spans") &&
	     ASSERT_EQ(c->backends[0].zipkin.trace_id_128bit, 1) &&
	     ASSERT_EQ(c->backends[0].zipkin.api_version, 2) &&
	     ASSERT_EQ(c->backends[0].zipkin.shared_span, 0) &&
	     ASSERT_TRUE(c->backends[0].zipkin.present & (1u << 3)) &&
	     ASSERT_EQ(c->ntags, 2) &&
	     ASSERT_STREQ(c->tags[0].literal, "core") &&
	     ASSERT_STREQ(c->tags[1].name, "env") &&
	     ASSERT_STREQ(c->tags[1].header.name, "x-env") &&
	     ASSERT_STREQ(c->tags[1].header.default_value, "prod") &&
	     ASSERT_EQ(c->sampling.overall, 80000) &&
	     ASSERT_EQ(c->sampling.client, 50000) &&
	     ASSERT_EQ(c->sampling.random, 12500);
	return kh_finish(&s, ok);
}

/* The form without `type`, and the other two backends. */
static bool test_trace_other_backends(void)
{
	struct model_set s;
	const struct mf_trace *r;
	bool ok;

	r = kh_policy(MT_HEAD "  default:\n    backends:\n"
		      "      - datadog: {url: 'http://127.0.0.1:8126', "
		      "splitService: true}\n", &s, &kind_mesh_trace, 1);
	ok = r && ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r->conf.backends[0].type, 0) &&
	     ASSERT_STREQ(r->conf.backends[0].datadog.url,
			  "http://127.0.0.1:8126") &&
	     ASSERT_EQ(r->conf.backends[0].datadog.split_service, 1);
	if (!kh_finish(&s, ok))
		return false;
	r = kh_policy(MT_HEAD "  default:\n    backends:\n"
		      "      - type: OpenTelemetry\n"
		      "        openTelemetry: {endpoint: otel:4317}\n",
		      &s, &kind_mesh_trace, 1);
	ok = r && ASSERT_EQ(r->conf.backends[0].type, MF_TRACE_OTEL) &&
	     ASSERT_STREQ(r->conf.backends[0].open_telemetry.endpoint,
			  "otel:4317") &&
	     ASSERT_EQ(r->conf.backends[0].open_telemetry.present, 1);
	if (!kh_finish(&s, ok))
		return false;
	/* Without a port the collector's is 4317. */
	r = kh_policy(MT_HEAD "  default:\n    backends:\n"
		      "      - openTelemetry: {endpoint: otel-collector}\n",
		      &s, &kind_mesh_trace, 1);
	ok = r && ASSERT_STREQ(r->conf.backends[0].open_telemetry.endpoint,
			       "otel-collector");
	return kh_finish(&s, ok);
}

/* Kuma 3.0's only form: a MeshOpenTelemetryBackend by labels. */
static bool test_trace_otel_backend_ref(void)
{
	static const char *const labels[] = { "app", "otel",
					      "kuma.io/display-name", "my" };
	struct model_set s;
	const struct mf_trace *r;
	const struct mf_trace_otel *o;
	bool ok;

	r = kh_policy(MT_HEAD "  default:\n    backends:\n"
		      "      - type: OpenTelemetry\n"
		      "        openTelemetry:\n"
		      "          backendRef:\n"
		      "            kind: MeshOpenTelemetryBackend\n"
		      "            labels: {kuma.io/display-name: my, "
		      "app: otel}\n",
		      &s, &kind_mesh_trace, 1);
	o = r ? &r->conf.backends[0].open_telemetry : NULL;
	ok = r && ASSERT_EQ(o->present, 2) && ASSERT_STREQ(o->endpoint, "") &&
	     ASSERT_EQ(o->backend_ref.kind, MF_OTEL_REF_BACKEND) &&
	     kh_tags_are(&s, o->backend_ref.labels, labels, 2);
	return kh_finish(&s, ok);
}

#define MT_DEF(body) MT_HEAD "  default:\n" body

KH_TEST_BAD(test_trace_invalid,
	{ MT_DEF("    backends:\n"
	         "      - zipkin: {url: 'http://z:9411'}\n"
	         "      - zipkin: {url: 'http://y:9411'}\n"),
	  "t.yaml:8:7: spec.default.backends: "
	  "must have at most 1 entries" },
	{ MT_DEF("    backends:\n"
	         "      - zipkin: {url: 'http://z:9411'}\n"
	         "        datadog: {url: 'http://d:8126'}\n"),
	  "t.yaml:8:9: spec.default.backends[0]: "
	  "must have exactly one of zipkin, datadog, openTelemetry" },
	{ MT_DEF("    backends:\n"
	         "      - type: Datadog\n"
	         "        zipkin: {url: 'http://z:9411'}\n"),
	  "t.yaml:8:9: spec.default.backends[0]: "
	  "type must name the backend that is set" },
	{ MT_DEF("    backends:\n"
	         "      - datadog: {url: 'http://d:8126/v1'}\n"),
	  "t.yaml:8:24: spec.default.backends[0].datadog.url: "
	  "must be http://host:port" },
	{ MT_DEF("    backends: []\n"
	         "    tags:\n"
	         "      - {name: a, literal: b, header: {name: c}}\n"),
	  "t.yaml:9:9: spec.default.tags[0]: "
	  "must have exactly one of literal, header" },
	{ MT_DEF("    backends: []\n"
	         "    tags:\n"
	         "      - {name: a}\n"),
	  "t.yaml:9:9: spec.default.tags[0]: "
	  "must have exactly one of literal, header" },
	{ MT_DEF("    backends: []\n"
	         "    sampling: {overall: 100.5}\n"),
	  "t.yaml:8:25: spec.default.sampling.overall: "
	  "must be a percentage 0..100 with at most 3 decimals" },
	{ MT_DEF("    sampling: {overall: 10}\n"),
	  "t.yaml:7:5: spec.default.backends: "
	  "is required" },
	{ MT_HEAD "  targetRef: {kind: MeshGateway, name: edge, "
	  "tags: {port: '8080'}}\n"
	  "  default:\n"
	  "    backends: []\n",
	  "t.yaml:6:52: spec.targetRef.tags: must not be set with kind "
	  "MeshGateway for a MeshTrace: it applies to a gateway as a whole" },
)

/* A MeshGateway as a whole is a target like any other. */
static bool test_trace_gateway(void)
{
	struct model_set s;
	const struct mf_trace *r;
	bool ok;

	r = kh_policy(MT_HEAD "  targetRef: {kind: MeshGateway, name: edge}\n"
		      "  default:\n    backends: []\n",
		      &s, &kind_mesh_trace, 1);
	ok = r && ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH_GATEWAY) &&
	     ASSERT_STREQ(r->hdr.target.name, "edge") &&
	     ASSERT_EQ(r->conf.nbackends, 0);
	return kh_finish(&s, ok);
}

#define MT_OTEL(otel)                                                         \
	MT_DEF("    backends:\n"                                              \
	       "      - openTelemetry: " otel "\n")

KH_TEST_BAD(test_trace_otel_invalid,
	{ MT_OTEL("{endpoint: 'otel:4317', backendRef: "
		  "{kind: MeshOpenTelemetryBackend, labels: {app: otel}}}"),
	  "t.yaml:8:24: spec.default.backends[0].openTelemetry: "
	  "must have exactly one of endpoint, backendRef" },
	{ MT_OTEL("{}"),
	  "t.yaml:8:24: spec.default.backends[0].openTelemetry: "
	  "must have exactly one of endpoint, backendRef" },
	{ MT_OTEL("{endpoint: 'http://otel:4317'}"),
	  "t.yaml:8:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "must be host:port, not a URL" },
	{ MT_OTEL("{endpoint: 'otel:4317/v1/traces'}"),
	  "t.yaml:8:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "must be host:port, not a URL" },
	{ MT_OTEL("{endpoint: 'otel:'}"),
	  "t.yaml:8:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "must be host or host:port" },
	{ MT_OTEL("{endpoint: 'otel:70000'}"),
	  "t.yaml:8:35: spec.default.backends[0].openTelemetry.endpoint: "
	  "port must be 1..65535" },
	{ MT_OTEL("{backendRef: {kind: MeshService, labels: {app: otel}}}"),
	  "t.yaml:8:44: "
	  "spec.default.backends[0].openTelemetry.backendRef.kind: "
	  "must be MeshOpenTelemetryBackend" },
	{ MT_OTEL("{backendRef: {kind: MeshOpenTelemetryBackend}}"),
	  "t.yaml:8:37: "
	  "spec.default.backends[0].openTelemetry.backendRef.labels: "
	  "is required" },
	{ MT_OTEL("{backendRef: {kind: MeshOpenTelemetryBackend, "
		  "labels: {}}}"),
	  "t.yaml:8:78: "
	  "spec.default.backends[0].openTelemetry.backendRef.labels: "
	  "must have 1..8 tags" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_trace_full);
	TEST_RUN(test_trace_other_backends);
	TEST_RUN(test_trace_otel_backend_ref);
	TEST_RUN(test_trace_gateway);
	TEST_RUN(test_trace_invalid);
	TEST_RUN(test_trace_otel_invalid);
	TEST_MAIN_END();
}
