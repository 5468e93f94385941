// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog (lib/policy/kind_mesh_access_log.c) through mfctl's reader
 * and printer: file, tcp and openTelemetry backends (by endpoint or by
 * backendRef), with and without Kuma 2.x's `type`, parse into the expected
 * records and print back to the same bytes; the exactly-one rules, paths,
 * addresses, collector endpoints and backendRefs each give exactly the
 * expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define MAL_HEAD KH_API "kind: MeshAccessLog\nmetadata:\n  name: logs\nspec:\n"

static const char mal_full[] =
	MAL_HEAD
	"  targetRef:\n"
	"    kind: MeshService\n"
	"    name: web\n"
	"  to:\n"
	"    - targetRef:\n"
	"        kind: Mesh\n"
	"      default:\n"
	"        backends:\n"
	"          - type: File\n"
	"            file:\n"
	"              path: /var/log/web.log\n"
	"              format:\n"
	"                type: Plain\n"
	"                plain: '[%START_TIME%] %RESPONSE_CODE%'\n"
	"          - tcp:\n"
	"              address: 127.0.0.1:5000\n"
	"              format:\n"
	"                type: Json\n"
	"                json:\n"
	"                  - key: start_time\n"
	"                    value: '%START_TIME%'\n"
	"                  - {key: code, value: '%RESPONSE_CODE%'}\n"
	"                omitEmptyValues: true\n"
	"  from:\n"
	"    - targetRef:\n"
	"        kind: Mesh\n"
	"      default:\n"
	"        backends:\n"
	"          - openTelemetry:\n"
	"              endpoint: otel-collector:4317\n"
	"              body: '%KUMA_MESH%'\n";

static bool test_access_log_full(void)
{
	struct model_set s;
	const struct mf_accesslog *r = kh_policy(mal_full, &s,
						 &kind_mesh_access_log, 2);
	const struct mf_log_backend *b = r ? r[0].conf.backends : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_STREQ(r[0].hdr.target.name, "web") &&
	     ASSERT_EQ(r[0].hdr.ref.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r[0].conf.nbackends, 2) &&
	     ASSERT_EQ(b[0].type, MF_LOG_FILE) &&
	     ASSERT_STREQ(b[0].file.path, "/var/log/web.log") &&
	     ASSERT_EQ(b[0].file.format.type, MF_LOG_PLAIN) &&
	     ASSERT_STREQ(b[0].file.format.plain,
			  "[%START_TIME%] %RESPONSE_CODE%") &&
	     ASSERT_EQ(b[1].type, 0) &&
	     ASSERT_STREQ(b[1].tcp.address, "127.0.0.1:5000") &&
	     ASSERT_EQ(b[1].tcp.format.type, MF_LOG_JSON) &&
	     ASSERT_EQ(b[1].tcp.format.njson, 2) &&
	     ASSERT_STREQ(b[1].tcp.format.json[1].key, "code") &&
	     ASSERT_STREQ(b[1].tcp.format.json[1].value, "%RESPONSE_CODE%") &&
	     ASSERT_EQ(b[1].tcp.format.omit_empty_values, 1) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].conf.nbackends, 1) &&
	     ASSERT_STREQ(r[1].conf.backends[0].open_telemetry.endpoint,
			  "otel-collector:4317") &&
	     ASSERT_STREQ(r[1].conf.backends[0].open_telemetry.body,
			  "%KUMA_MESH%");
	return kh_finish(&s, ok);
}

/* Kuma 3.0's only form: a MeshOpenTelemetryBackend by labels, in an
 * inbound rule. */
static bool test_access_log_otel_backend_ref(void)
{
	static const char *const labels[] = { "kuma.io/display-name",
					      "my-otel" };
	struct model_set s;
	const struct mf_accesslog *r;
	const struct mf_log_otel *o;
	bool ok;

	r = kh_policy(MAL_HEAD "  targetRef: {kind: Mesh}\n"
		      "  rules:\n"
		      "    - default:\n"
		      "        backends:\n"
		      "          - type: OpenTelemetry\n"
		      "            openTelemetry:\n"
		      "              backendRef:\n"
		      "                kind: MeshOpenTelemetryBackend\n"
		      "                labels:\n"
		      "                  kuma.io/display-name: my-otel\n",
		      &s, &kind_mesh_access_log, 1);
	o = r ? &r->conf.backends[0].open_telemetry : NULL;
	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_RULE) &&
	     ASSERT_EQ(r->conf.backends[0].type, MF_LOG_OTEL) &&
	     ASSERT_EQ(o->present, 2) && ASSERT_STREQ(o->endpoint, "") &&
	     ASSERT_EQ(o->backend_ref.kind, MF_OTEL_REF_BACKEND) &&
	     kh_tags_are(&s, o->backend_ref.labels, labels, 1);
	if (!kh_finish(&s, ok))
		return false;
	/* An endpoint without a port: the collector's is 4317. */
	r = kh_policy(MAL_HEAD KH_ENTRY("from") "        backends:\n"
		      "          - openTelemetry: {endpoint: otel}\n",
		      &s, &kind_mesh_access_log, 1);
	ok = r && ASSERT_STREQ(r->conf.backends[0].open_telemetry.endpoint,
			       "otel");
	return kh_finish(&s, ok);
}

#define MAL_TO(backend)                                                       \
	MAL_HEAD KH_ENTRY("to") "        backends:\n"                         \
		 "          - " backend "\n"

KH_TEST_BAD(test_access_log_invalid,
	{ MAL_TO("{file: {path: /a.log}, tcp: {address: "
	         "'1.2.3.4:5'}}"),
	  "t.yaml:11:13: spec.to[0].default.backends[0]: "
	  "must have exactly one of file, tcp, openTelemetry" },
	{ MAL_TO("{type: Tcp, file: {path: /a.log}}"),
	  "t.yaml:11:13: spec.to[0].default.backends[0]: "
	  "type must name the backend that is set" },
	{ MAL_TO("{type: File}"),
	  "t.yaml:11:13: spec.to[0].default.backends[0]: "
	  "must have exactly one of file, tcp, openTelemetry" },
	{ MAL_TO("{file: {path: a.log}}"),
	  "t.yaml:11:27: spec.to[0].default.backends[0].file.path: "
	  "must be an absolute path" },
	{ MAL_TO("{tcp: {address: collector}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].tcp.address: "
	  "must be host:port" },
	{ MAL_TO("{file: {path: /a.log, format: {plain: x, "
	         "json: [{key: a, value: b}]}}}"),
	  "t.yaml:11:43: spec.to[0].default.backends[0].file.format: "
	  "must have exactly one of plain, json" },
	{ MAL_TO("{file: {path: /a.log, format: {type: Json, "
	         "plain: x}}}"),
	  "t.yaml:11:43: spec.to[0].default.backends[0].file.format: "
	  "type must be Plain when plain is set" },
)

#define MAL_OTEL(otel) MAL_TO("{openTelemetry: " otel "}")

KH_TEST_BAD(test_access_log_otel_invalid,
	{ MAL_OTEL("{endpoint: 'otel:4317', backendRef: "
		   "{kind: MeshOpenTelemetryBackend, labels: {app: otel}}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].openTelemetry: "
	  "must have exactly one of endpoint, backendRef" },
	{ MAL_OTEL("{body: '%KUMA_MESH%'}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].openTelemetry: "
	  "must have exactly one of endpoint, backendRef" },
	{ MAL_OTEL("{endpoint: 'grpc://otel:4317'}"),
	  "t.yaml:11:40: "
	  "spec.to[0].default.backends[0].openTelemetry.endpoint: "
	  "must be host:port, not a URL" },
	{ MAL_OTEL("{endpoint: 'otel?x=1'}"),
	  "t.yaml:11:40: "
	  "spec.to[0].default.backends[0].openTelemetry.endpoint: "
	  "must be host:port, not a URL" },
	{ MAL_OTEL("{backendRef: {kind: MeshTrace, labels: {app: otel}}}"),
	  "t.yaml:11:49: "
	  "spec.to[0].default.backends[0].openTelemetry.backendRef.kind: "
	  "must be MeshOpenTelemetryBackend" },
	{ MAL_OTEL("{backendRef: {labels: {app: otel}}}"),
	  "t.yaml:11:42: "
	  "spec.to[0].default.backends[0].openTelemetry.backendRef.kind: "
	  "is required" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_access_log_full);
	TEST_RUN(test_access_log_otel_backend_ref);
	TEST_RUN(test_access_log_invalid);
	TEST_RUN(test_access_log_otel_invalid);
	TEST_MAIN_END();
}
