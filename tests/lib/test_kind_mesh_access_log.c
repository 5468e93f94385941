// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog (lib/policy/kind_mesh_access_log.c) through mfctl's reader
 * and printer: file, tcp and openTelemetry backends (by endpoint or by
 * backendRef, with attributes), with and without Kuma 2.x's `type`, and
 * long plain and json formats parse into the expected records and print
 * back to the same bytes; the exactly-one rules, formats, paths,
 * addresses, collector endpoints, backendRefs and attribute names each
 * give exactly the expected diagnostic.  An openTelemetry body written as
 * an OTLP AnyValue (every kind of value, proto and JSON names, nested
 * lists) is kept in the pooled form of otlpval.h and printed back as the
 * mapping it was; each way a body is not one is refused where it is.
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
	"              body: '%KUMA_MESH%'\n"
	"              attributes:\n"
	"                - {key: mesh, value: '%KUMA_MESH%'}\n"
	"                - key: service.version_2\n"
	"                  value: '%REQ(X-VERSION)%'\n";

static bool test_access_log_full(void)
{
	struct model_set s;
	const struct mf_accesslog *r = kh_policy(mal_full, &s,
						 &kind_mesh_access_log, 2);
	const struct mf_log_backend *b = r ? r[0].conf.backends : NULL;
	const struct mf_log_otel *o =
		r ? &r[1].conf.backends[0].open_telemetry : NULL;
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
	     ASSERT_STREQ(o->endpoint, "otel-collector:4317") &&
	     ASSERT_STREQ(kh_str(&s, o->body), "s11:%KUMA_MESH%") &&
	     ASSERT_EQ(o->nattributes, 2) &&
	     ASSERT_STREQ(o->attributes[0].key, "mesh") &&
	     ASSERT_STREQ(o->attributes[0].value, "%KUMA_MESH%") &&
	     ASSERT_STREQ(o->attributes[1].key, "service.version_2") &&
	     ASSERT_STREQ(o->attributes[1].value, "%REQ(X-VERSION)%");
	return kh_finish(&s, ok);
}

/* A plain format of 336 characters, and six json entries: the two share
 * the record's storage. */
#define MAL_LONG_PLAIN                                                        \
	"%START_TIME% mesh=%KUMA_MESH% src=%KUMA_SOURCE_SERVICE% "            \
	"dst=%KUMA_DESTINATION_SERVICE% method=%REQ(:METHOD)% "               \
	"path=%REQ(:PATH)% proto=%PROTOCOL% code=%RESPONSE_CODE% "            \
	"flags=%RESPONSE_FLAGS% rx=%BYTES_RECEIVED% tx=%BYTES_SENT% "         \
	"ms=%DURATION% upstream=%UPSTREAM_HOST% id=%REQ(X-REQUEST-ID)% "      \
	"authority=%REQ(:AUTHORITY)% ua=\\\"%REQ(USER-AGENT)%\\\""

static bool test_access_log_formats(void)
{
	struct model_set s;
	const struct mf_accesslog *r;
	const struct mf_log_format *f;
	bool ok;

	r = kh_policy(MAL_HEAD KH_ENTRY("to") "        backends:\n"
		      "          - file:\n"
		      "              path: /var/log/a.log\n"
		      "              format:\n"
		      "                type: Plain\n"
		      "                plain: \"" MAL_LONG_PLAIN "\"\n"
		      "          - tcp:\n"
		      "              address: logs.example.com:5000\n"
		      "              format:\n"
		      "                json:\n"
		      "                  - {key: a, value: '%START_TIME%'}\n"
		      "                  - {key: b, value: '%KUMA_MESH%'}\n"
		      "                  - {key: c, value: '%PROTOCOL%'}\n"
		      "                  - {key: d, value: '%DURATION%'}\n"
		      "                  - {key: e, value: '%BYTES_SENT%'}\n"
		      "                  - {key: f, value: '%UPSTREAM_HOST%'}"
		      "\n",
		      &s, &kind_mesh_access_log, 1);
	f = r ? &r->conf.backends[0].file.format : NULL;
	ok = r && ASSERT_EQ(f->type, MF_LOG_PLAIN) &&
	     ASSERT_EQ(strlen(f->plain), 336) &&
	     ASSERT_STREQ(f->plain + 314, "ua=\"%REQ(USER-AGENT)%\"") &&
	     ASSERT_EQ(r->conf.backends[1].tcp.format.njson, 6) &&
	     ASSERT_STREQ(r->conf.backends[1].tcp.format.json[5].value,
			  "%UPSTREAM_HOST%");
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

/* The hosts a tcp address may name: DNS names (with '_', as Kuma takes
 * them), IPv4 and bracketed IPv6 addresses. */
static bool test_access_log_tcp_addresses(void)
{
	static const char *const addrs[] = {
		"logs.example.com:5000", "logs_1.local:1", "10.0.0.1:65535",
		"[::1]:5000", "[fd00::10]:514", "LOGS-A:5000",
	};
	char yaml[512];
	bool ok = true;

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		const struct mf_accesslog *r;
		struct model_set s;

		snprintf(yaml, sizeof(yaml), "%s%s        backends:\n"
			 "          - tcp: {address: '%s'}\n", MAL_HEAD,
			 KH_ENTRY("to"), addrs[i]);
		r = kh_policy(yaml, &s, &kind_mesh_access_log, 1);
		if (!r || !kh_finish(&s, ASSERT_STREQ(
				     r->conf.backends[0].tcp.address,
				     addrs[i]))) {
			fprintf(stderr, "  address %s\n", addrs[i]);
			ok = false;
		}
	}
	return ok;
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
	{ MAL_TO("{tcp: {address: 'tcp://collector:5000'}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].tcp.address: "
	  "must be host:port" },
	{ MAL_TO("{tcp: {address: '-collector:5000'}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].tcp.address: "
	  "must be host:port" },
	{ MAL_TO("{tcp: {address: 'logs..local:5000'}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].tcp.address: "
	  "must be host:port" },
	{ MAL_TO("{tcp: {address: '[::1:5000'}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].tcp.address: "
	  "must be host:port" },
	{ MAL_TO("{tcp: {address: 'logs:65536'}}"),
	  "t.yaml:11:29: spec.to[0].default.backends[0].tcp.address: "
	  "port must be 1..65535" },
	{ MAL_TO("{file: {path: /a.log, format: {plain: ''}}}"),
	  "t.yaml:11:51: spec.to[0].default.backends[0].file.format.plain: "
	  "must not be empty" },
	{ MAL_TO("{file: {path: /a.log, format: {type: Json, json: []}}}"),
	  "t.yaml:11:43: spec.to[0].default.backends[0].file.format: "
	  "json must not be empty" },
	{ MAL_TO("{file: {path: /a.log, format: {json: [{key: a, value: b}, "
	         "{key: b, value: b}, {key: c, value: b}, {key: d, value: b}, "
	         "{key: e, value: b}, {key: f, value: b}, "
	         "{key: g, value: b}]}}}"),
	  "t.yaml:11:50: spec.to[0].default.backends[0].file.format.json: "
	  "must have at most 6 entries" },
	{ MAL_TO("{file: {path: /a.log, format: {json: "
	         "[{key: 'a\"', value: b}]}}}"),
	  "t.yaml:11:57: "
	  "spec.to[0].default.backends[0].file.format.json[0].key: "
	  "must not contain '\"', '\\' or control characters" },
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

#define MAL_ATTR(key)                                                         \
	MAL_OTEL("{endpoint: otel, attributes: [{key: " key ", value: v}]}")
#define MAL_ATTR_PATH                                                         \
	"spec.to[0].default.backends[0].openTelemetry.attributes[0].key: "
#define MAL_ATTR_FORM                                                         \
	"must be lowercase letters and digits, a letter first, with single " \
	"'.' or '_' between them"

KH_TEST_BAD(test_access_log_attributes_invalid,
	{ MAL_ATTR("'%KUMA_ZONE%'"),
	  "t.yaml:11:65: " MAL_ATTR_PATH
	  "must be a fixed name: placeholders (%...%) go in values" },
	{ MAL_ATTR("otel.scope"),
	  "t.yaml:11:65: " MAL_ATTR_PATH
	  "must not start with 'otel.', which OpenTelemetry reserves" },
	{ MAL_ATTR("'my attribute'"),
	  "t.yaml:11:65: " MAL_ATTR_PATH MAL_ATTR_FORM },
	{ MAL_ATTR("Service"),
	  "t.yaml:11:65: " MAL_ATTR_PATH MAL_ATTR_FORM },
	{ MAL_ATTR("1st"),
	  "t.yaml:11:65: " MAL_ATTR_PATH MAL_ATTR_FORM },
	{ MAL_ATTR("a..b"),
	  "t.yaml:11:65: " MAL_ATTR_PATH MAL_ATTR_FORM },
	{ MAL_ATTR("a._b"),
	  "t.yaml:11:65: " MAL_ATTR_PATH MAL_ATTR_FORM },
	{ MAL_ATTR("service."),
	  "t.yaml:11:65: " MAL_ATTR_PATH MAL_ATTR_FORM },
	{ MAL_OTEL("{endpoint: otel, attributes: [{key: a}]}"),
	  "t.yaml:11:59: spec.to[0].default.backends[0].openTelemetry."
	  "attributes[0].value: is required" },
	{ MAL_OTEL("{endpoint: otel, attributes: [{key: a, value: x}, "
		   "{key: b, value: x}, {key: c, value: x}, "
		   "{key: d, value: x}, {key: e, value: x}]}"),
	  "t.yaml:11:58: spec.to[0].default.backends[0].openTelemetry."
	  "attributes: must have at most 4 entries" },
)

/* A body of every kind of value, with protobuf's JSON names. */
#define MAL_BODY_ALL                                                          \
	"              body:\n"                                               \
	"                kvlistValue:\n"                                      \
	"                  values:\n"                                         \
	"                    - key: mesh\n"                                   \
	"                      value: {stringValue: '%KUMA_MESH%'}\n"         \
	"                    - key: ok\n"                                     \
	"                      value: {boolValue: true}\n"                    \
	"                    - key: n\n"                                      \
	"                      value: {intValue: -9223372036854775808}\n"     \
	"                    - key: q\n"                                      \
	"                      value: {intValue: '42'}\n"                     \
	"                    - key: r\n"                                      \
	"                      value: {doubleValue: 0.1}\n"                   \
	"                    - key: raw\n"                                    \
	"                      value: {bytesValue: aGk=}\n"                   \
	"                    - key: list\n"                                   \
	"                      value:\n"                                      \
	"                        arrayValue:\n"                               \
	"                          values:\n"                                 \
	"                            - {stringValue: '%RESPONSE_CODE%'}\n"    \
	"                            - {arrayValue: {}}\n"                    \
	"                            - {kvlistValue: {values: []}}\n"

static bool test_access_log_otel_body_value(void)
{
	static const char want[] =
		"k7:4:meshs11:%KUMA_MESH%2:okb11:ni-9223372036854775808;"
		"1:qi42;1:rd0.1;3:rawx4:aGk=4:lista3:s15:%RESPONSE_CODE%"
		"a0:k0:";
	struct model_set s;
	const struct mf_accesslog *r;
	const struct mf_log_otel *o;
	bool ok;

	r = kh_policy(MAL_HEAD KH_ENTRY("from") "        backends:\n"
		      "          - openTelemetry:\n"
		      "              endpoint: otel\n" MAL_BODY_ALL,
		      &s, &kind_mesh_access_log, 1);
	o = r ? &r->conf.backends[0].open_telemetry : NULL;
	ok = r && ASSERT_STREQ(kh_str(&s, o->body), want);
	if (!kh_finish(&s, ok))
		return false;
	/* Proto names read as JSON ones; a stringValue at the top is the
	 * plain string it means. */
	r = kh_policy(MAL_HEAD KH_ENTRY("from") "        backends:\n"
		      "          - openTelemetry:\n"
		      "              endpoint: otel\n"
		      "              body: {array_value: {values: "
		      "[{string_value: a}, {bool_value: false}, "
		      "{double_value: 1e300}]}}\n",
		      &s, &kind_mesh_access_log, 1);
	o = r ? &r->conf.backends[0].open_telemetry : NULL;
	ok = r && ASSERT_STREQ(kh_str(&s, o->body), "a3:s1:ab0d1e+300;");
	if (!kh_finish(&s, ok))
		return false;
	r = kh_policy(MAL_HEAD KH_ENTRY("from") "        backends:\n"
		      "          - openTelemetry:\n"
		      "              endpoint: otel\n"
		      "              body: {stringValue: '%KUMA_MESH% x'}\n",
		      &s, &kind_mesh_access_log, 1);
	o = r ? &r->conf.backends[0].open_telemetry : NULL;
	ok = r && ASSERT_STREQ(kh_str(&s, o->body), "s13:%KUMA_MESH% x");
	return kh_finish(&s, ok);
}

/* A body past the record's room: 1,024 bytes in its pooled form. */
static bool test_access_log_otel_body_size(void)
{
	char yaml[2048], val[1100];
	bool ok;

	/* "s1012:" and 1,012 bytes: 1,018; in a kvlist of one key "k"
	 * ("k1:1:k"), 1,024: it just fits.  One byte more does not. */
	memset(val, 'x', sizeof(val));
	val[1012] = '\0';
	snprintf(yaml, sizeof(yaml), "%s%s        backends:\n"
		 "          - openTelemetry:\n"
		 "              endpoint: otel\n"
		 "              body: {kvlistValue: {values: [{key: k, value: "
		 "{stringValue: %s}}]}}\n", MAL_HEAD, KH_ENTRY("from"), val);
	{
		struct model_set s;
		const struct mf_accesslog *r = kh_policy(yaml, &s,
				&kind_mesh_access_log, 1);

		ok = r && ASSERT_EQ(strlen(kh_str(&s,
			r->conf.backends[0].open_telemetry.body)), 1024);
		if (!kh_finish(&s, ok))
			return false;
	}
	memset(val, 'x', sizeof(val));
	val[1013] = '\0';
	snprintf(yaml, sizeof(yaml), "%s%s        backends:\n"
		 "          - openTelemetry:\n"
		 "              endpoint: otel\n"
		 "              body: {kvlistValue: {values: [{key: k, value: "
		 "{stringValue: %s}}]}}\n", MAL_HEAD, KH_ENTRY("from"), val);
	return kh_expect1(yaml, "t.yaml:13:21: spec.from[0].default."
			  "backends[0].openTelemetry.body: takes more than "
			  "1024 bytes in the record's form");
}

#define MAL_BODY(body) MAL_OTEL("{endpoint: otel, body: " body "}")
#define MAL_BODY_PATH "spec.to[0].default.backends[0].openTelemetry.body"
#define MAL_BODY_NAMES                                                        \
	"stringValue, boolValue, intValue, doubleValue, bytesValue, "         \
	"arrayValue, kvlistValue"

KH_TEST_BAD(test_access_log_otel_body_invalid,
	{ MAL_BODY("''"),
	  "t.yaml:11:52: " MAL_BODY_PATH ": must not be empty" },
	{ MAL_BODY("{}"),
	  "t.yaml:11:52: " MAL_BODY_PATH ": must have exactly one of "
	  MAL_BODY_NAMES },
	{ MAL_BODY("{stringValue: a, boolValue: true}"),
	  "t.yaml:11:52: " MAL_BODY_PATH ": must have exactly one of "
	  MAL_BODY_NAMES },
	{ MAL_BODY("{stringvalue: a}"),
	  "t.yaml:11:53: " MAL_BODY_PATH ".stringvalue: unknown field" },
	{ MAL_BODY("{stringValue: [a]}"),
	  "t.yaml:11:66: " MAL_BODY_PATH ".stringValue: must be a scalar, "
	  "not a list" },
	{ MAL_BODY("{boolValue: 'true'}"),
	  "t.yaml:11:64: " MAL_BODY_PATH ".boolValue: must be true or false" },
	{ MAL_BODY("{intValue: 1.5}"),
	  "t.yaml:11:63: " MAL_BODY_PATH ".intValue: must be an integer in "
	  "the int64 range" },
	{ MAL_BODY("{intValue: 9223372036854775808}"),
	  "t.yaml:11:63: " MAL_BODY_PATH ".intValue: must be an integer in "
	  "the int64 range" },
	{ MAL_BODY("{doubleValue: .nan}"),
	  "t.yaml:11:66: " MAL_BODY_PATH ".doubleValue: must be a finite "
	  "number" },
	{ MAL_BODY("{doubleValue: '1.5'}"),
	  "t.yaml:11:66: " MAL_BODY_PATH ".doubleValue: must be a finite "
	  "number" },
	{ MAL_BODY("{bytesValue: 'not base64!'}"),
	  "t.yaml:11:65: " MAL_BODY_PATH ".bytesValue: must be base64" },
	{ MAL_BODY("{arrayValue: {values: [a]}}"),
	  "t.yaml:11:75: " MAL_BODY_PATH ".arrayValue.values[0]: must be a "
	  "mapping with one of " MAL_BODY_NAMES ", not a scalar" },
	{ MAL_BODY("{arrayValue: {values: {}}}"),
	  "t.yaml:11:74: " MAL_BODY_PATH ".arrayValue.values: must be a "
	  "list, not a mapping" },
	{ MAL_BODY("{arrayValue: {items: []}}"),
	  "t.yaml:11:66: " MAL_BODY_PATH ".arrayValue.items: unknown field" },
	{ MAL_BODY("{kvlistValue: {values: [{key: a}]}}"),
	  "t.yaml:11:76: " MAL_BODY_PATH ".kvlistValue.values[0].value: "
	  "is required" },
	{ MAL_BODY("{kvlistValue: {values: [{key: '', value: "
		   "{boolValue: true}}]}}"),
	  "t.yaml:11:82: " MAL_BODY_PATH ".kvlistValue.values[0].key: "
	  "must not be empty" },
	{ MAL_BODY("{kvlistValue: {values: [{key: '%KUMA_MESH%', value: "
		   "{boolValue: true}}]}}"),
	  "t.yaml:11:82: " MAL_BODY_PATH ".kvlistValue.values[0].key: "
	  "must be a fixed name: placeholders (%...%) go in values" },
	{ MAL_BODY("{kvlistValue: {values: [{key: a, value: {boolValue: "
		   "true}}, {key: a, value: {boolValue: false}}]}}"),
	  "t.yaml:11:118: " MAL_BODY_PATH ".kvlistValue.values[1].key: "
	  "duplicate key (first at " MAL_BODY_PATH ".kvlistValue.values[0])" },
	/* Nine values deep: one too many. */
	{ MAL_BODY("{arrayValue: {values: [{arrayValue: {values: "
		   "[{arrayValue: {values: [{arrayValue: {values: "
		   "[{arrayValue: {values: [{arrayValue: {values: "
		   "[{arrayValue: {values: [{arrayValue: {values: "
		   "[{boolValue: true}]}}]}}]}}]}}]}}]}}]}}]}}"),
	  "t.yaml:11:236: " MAL_BODY_PATH ".arrayValue.values[0].arrayValue."
	  "values[0].arrayValue.values[0].arrayValue.values[0].arrayValue."
	  "values[0].arrayValue.values[0].arrayValue.values[0].arrayValue."
	  "values[0]: must nest at most 8 values deep" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_access_log_full);
	TEST_RUN(test_access_log_otel_backend_ref);
	TEST_RUN(test_access_log_formats);
	TEST_RUN(test_access_log_tcp_addresses);
	TEST_RUN(test_access_log_invalid);
	TEST_RUN(test_access_log_otel_invalid);
	TEST_RUN(test_access_log_attributes_invalid);
	TEST_RUN(test_access_log_otel_body_value);
	TEST_RUN(test_access_log_otel_body_invalid);
	TEST_RUN(test_access_log_otel_body_size);
	TEST_MAIN_END();
}
