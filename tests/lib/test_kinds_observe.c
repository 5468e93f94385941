// SPDX-License-Identifier: Apache-2.0
/*
 * The schemas of MeshAccessLog, MeshTrace, MeshMetric, MeshRateLimit,
 * RateLimit and TrafficRoute (lib/kind_*.c) through mfctl's reader and
 * printer: Kuma-style documents give the expected records, printed specs
 * read back to the same bytes, and each rule of a kind (ranges, exactly
 * one of, at least one of) gives exactly the expected diagnostic.
 */
#include <stdio.h>

#include "harness/test.h"
#include "harness/kinds_harness.h"

/* True when tag set @id of @set is exactly the @n pairs of @kv (in key
 * order). */
static bool tags_are(const struct model_set *set, uint32_t id,
		     const char *const *kv, uint32_t n)
{
	const struct mf_tagset *ts = model_tags_get(set, id);

	if (!ASSERT_TRUE(ts != NULL) || !ASSERT_EQ(ts->n, n))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!ASSERT_STREQ(ts->tags[i].key, kv[2 * i]) ||
		    !ASSERT_STREQ(ts->tags[i].value, kv[2 * i + 1]))
			return false;
	return true;
}

/* ---- MeshAccessLog ------------------------------------------------------ */

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
	const struct mf_accesslog *r;
	const struct mf_log_backend *b;
	bool ok;

	if (!kh_parse_one(mal_full, &s))
		return false;
	r = (const struct mf_accesslog *)s.objs[0].pol.recs;
	b = r[0].conf.backends;
	ok = ASSERT_TRUE(s.objs[0].pol.kd == &kind_mesh_access_log) &&
	     ASSERT_EQ(s.objs[0].pol.n, 2) &&
	     ASSERT_EQ(r[0].hdr.section, MF_SEC_TO) &&
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
			  "%KUMA_MESH%") &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

#define MAL_TO(backend)                                                       \
	MAL_HEAD "  targetRef: {kind: Mesh}\n"                                \
		 "  to:\n"                                                    \
		 "    - targetRef: {kind: Mesh}\n"                            \
		 "      default:\n"                                           \
		 "        backends:\n"                                        \
		 "          - " backend "\n"

static const struct kh_bad access_log_bad[] = {
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
};

static bool test_access_log_invalid(void)
{
	return KH_EXPECT_ALL(access_log_bad);
}

/* ---- MeshTrace ---------------------------------------------------------- */

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
	"          sharedSpan: false\n"
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
	struct model_set s;
	const struct mf_trace *r;
	const struct mf_trace_conf *c;
	static const char *const team[] = { "team", "core" };
	bool ok;

	if (!kh_parse_one(mt_full, &s))
		return false;
	r = (const struct mf_trace *)s.objs[0].pol.recs;
	c = &r->conf;
	ok = ASSERT_EQ(s.objs[0].pol.n, 1) &&
	     ASSERT_EQ(r->hdr.section, MF_SEC_DEFAULT) &&
	     ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH_SUBSET) &&
	     tags_are(&s, r->hdr.target.tags, team, 1) &&
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
	     ASSERT_EQ(c->sampling.random, 12500) &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

/* The form without `type`, and the other two backends. */
static bool test_trace_other_backends(void)
{
	struct model_set s;
	const struct mf_trace *r;
	bool ok;

	if (!kh_parse_one(MT_HEAD "  default:\n    backends:\n"
		      "      - datadog: {url: 'http://127.0.0.1:8126', "
		      "splitService: true}\n", &s))
		return false;
	r = (const struct mf_trace *)s.objs[0].pol.recs;
	ok = ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r->conf.backends[0].type, 0) &&
	     ASSERT_STREQ(r->conf.backends[0].datadog.url,
			  "http://127.0.0.1:8126") &&
	     ASSERT_EQ(r->conf.backends[0].datadog.split_service, 1) &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	if (!ok || !kh_parse_one(MT_HEAD "  default:\n    backends:\n"
			     "      - type: OpenTelemetry\n"
			     "        openTelemetry: {endpoint: otel:4317}\n",
			     &s))
		return false;
	r = (const struct mf_trace *)s.objs[0].pol.recs;
	ok = ASSERT_EQ(r->conf.backends[0].type, MF_TRACE_OTEL) &&
	     ASSERT_STREQ(r->conf.backends[0].open_telemetry.endpoint,
			  "otel:4317") &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

#define MT_DEF(body) MT_HEAD "  default:\n" body

static const struct kh_bad trace_bad[] = {
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
};

static bool test_trace_invalid(void)
{
	return KH_EXPECT_ALL(trace_bad);
}

/* ---- MeshMetric --------------------------------------------------------- */

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
	const struct mf_metric *r;
	const struct mf_metric_conf *c;
	bool ok;

	if (!kh_parse_one(mm_full, &s))
		return false;
	r = (const struct mf_metric *)s.objs[0].pol.recs;
	c = &r->conf;
	ok = ASSERT_EQ(s.objs[0].pol.n, 1) &&
	     ASSERT_EQ(r->hdr.section, MF_SEC_DEFAULT) &&
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
	     ASSERT_EQ(c->backends[1].open_telemetry.refresh_interval, 90000) &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

#define MM_DEF(body) MM_HEAD "  default:\n" body

static const struct kh_bad metric_bad[] = {
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
	         "      - {path: metrics, port: 80}\n"),
	  "t.yaml:8:16: spec.default.applications[0].path: "
	  "must start with '/'" },
};

static bool test_metric_invalid(void)
{
	return KH_EXPECT_ALL(metric_bad);
}

/* ---- MeshRateLimit ------------------------------------------------------ */

#define MRL_HEAD KH_API "kind: MeshRateLimit\nmetadata:\n  name: limit\nspec:\n"

static const char mrl_full[] =
	MRL_HEAD
	"  targetRef: {kind: MeshService, name: backend}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        local:\n"
	"          http:\n"
	"            requestRate: {num: 100, interval: 10s}\n"
	"            onRateLimit:\n"
	"              status: 429\n"
	"              headers:\n"
	"                set:\n"
	"                  - {name: x-kuma-rate-limited, value: 'true'}\n"
	"                add:\n"
	"                  - {name: x-limit, value: 100/10s}\n"
	"          tcp:\n"
	"            connectionRate: {num: 50, interval: 250ms}\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        local:\n"
	"          tcp: {disabled: true}\n";

static bool test_mesh_rate_limit_full(void)
{
	struct model_set s;
	const struct mf_ratelimit *r;
	const struct mf_mrl_local *l;
	bool ok;

	if (!kh_parse_one(mrl_full, &s))
		return false;
	r = (const struct mf_ratelimit *)s.objs[0].pol.recs;
	l = &r[0].conf.local;
	ok = ASSERT_EQ(s.objs[0].pol.n, 2) &&
	     ASSERT_EQ(r[0].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[0].hdr.target.kind, MF_REF_MESH_SERVICE) &&
	     ASSERT_EQ(l->http.request_rate.num, 100) &&
	     ASSERT_EQ(l->http.request_rate.interval, 10000) &&
	     ASSERT_EQ(l->http.on_rate_limit.status, 429) &&
	     ASSERT_EQ(l->http.on_rate_limit.headers.nset, 1) &&
	     ASSERT_STREQ(l->http.on_rate_limit.headers.set[0].name,
			  "x-kuma-rate-limited") &&
	     ASSERT_STREQ(l->http.on_rate_limit.headers.set[0].value, "true") &&
	     ASSERT_EQ(l->http.on_rate_limit.headers.nadd, 1) &&
	     ASSERT_STREQ(l->http.on_rate_limit.headers.add[0].value,
			  "100/10s") &&
	     ASSERT_EQ(l->tcp.connection_rate.num, 50) &&
	     ASSERT_EQ(l->tcp.connection_rate.interval, 250) &&
	     ASSERT_EQ(r[1].hdr.section, MF_SEC_FROM) &&
	     ASSERT_EQ(r[1].conf.local.present, 1u << 1) &&
	     ASSERT_EQ(r[1].conf.local.tcp.disabled, 1) &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

#define MRL_FROM(local)                                                       \
	MRL_HEAD "  from:\n"                                                  \
		 "    - targetRef: {kind: Mesh}\n"                            \
		 "      default:\n" local

static const struct kh_bad mesh_rate_limit_bad[] = {
	{ MRL_FROM("        local:\n"
	           "          http:\n"
	           "            requestRate: {num: 5, interval: 10ms}\n"),
	  "t.yaml:11:45: spec.from[0].default.local.http.requestRate.interval: "
	  "must be 50ms..4294967295ms" },
	{ MRL_FROM("        local:\n"
	           "          tcp:\n"
	           "            connectionRate: {num: 0, interval: 1s}\n"),
	  "t.yaml:11:35: spec.from[0].default.local.tcp.connectionRate.num: "
	  "must be 1..4294967295" },
	{ MRL_FROM("        local:\n"
	           "          http:\n"
	           "            requestRate: {num: 5}\n"),
	  "t.yaml:11:26: spec.from[0].default.local.http.requestRate.interval: "
	  "is required" },
	{ MRL_FROM("        local: {}\n"),
	  "t.yaml:9:16: spec.from[0].default.local: "
	  "must have at least one of http, tcp" },
	{ MRL_FROM("        local:\n"
	           "          http: {}\n"),
	  "t.yaml:10:17: spec.from[0].default.local.http: "
	  "must have at least one of disabled, requestRate, onRateLimit" },
	{ MRL_FROM("        local:\n"
	           "          http:\n"
	           "            onRateLimit: {status: 600}\n"),
	  "t.yaml:11:35: spec.from[0].default.local.http.onRateLimit.status: "
	  "must be 100..599" },
	{ MRL_FROM("        {}\n"),
	  "t.yaml:9:9: spec.from[0].default.local: "
	  "is required" },
};

static bool test_mesh_rate_limit_invalid(void)
{
	return KH_EXPECT_ALL(mesh_rate_limit_bad);
}

/* ---- RateLimit (legacy) ------------------------------------------------- */

#define RL_HEAD KH_API "kind: RateLimit\nmetadata:\n  name: rl\nspec:\n"

static const char rl_full[] =
	RL_HEAD
	"  sources:\n"
	"    - match:\n"
	"        kuma.io/service: '*'\n"
	"  destinations:\n"
	"    - match:\n"
	"        kuma.io/service: backend\n"
	"        version: v2\n"
	"  conf:\n"
	"    http:\n"
	"      requests: 5\n"
	"      interval: 10s\n"
	"      onRateLimit:\n"
	"        status: 423\n"
	"        headers:\n"
	"          - key: x-kuma-rate-limited\n"
	"            value: 'true'\n"
	"            append: true\n"
	"          - {key: retry-after, value: '10'}\n";

static bool test_rate_limit_full(void)
{
	struct model_set s;
	const struct mf_legacy_ratelimit *r;
	const struct mf_rl_http *h;
	static const char *const any[] = { "kuma.io/service", "*" };
	static const char *const dst[] = { "kuma.io/service", "backend",
					   "version", "v2" };
	bool ok;

	if (!kh_parse_one(rl_full, &s))
		return false;
	r = (const struct mf_legacy_ratelimit *)s.objs[0].pol.recs;
	h = &r->conf.http;
	ok = ASSERT_EQ(s.objs[0].pol.n, 1) &&
	     ASSERT_EQ(r->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(r->hdr.nsources, 1) &&
	     ASSERT_EQ(r->hdr.ndestinations, 1) &&
	     tags_are(&s, r->hdr.sources[0], any, 1) &&
	     tags_are(&s, r->hdr.destinations[0], dst, 2) &&
	     ASSERT_EQ(h->requests, 5) && ASSERT_EQ(h->interval, 10000) &&
	     ASSERT_EQ(h->on_rate_limit.status, 423) &&
	     ASSERT_EQ(h->on_rate_limit.nheaders, 2) &&
	     ASSERT_STREQ(h->on_rate_limit.headers[0].key,
			  "x-kuma-rate-limited") &&
	     ASSERT_EQ(h->on_rate_limit.headers[0].append, 1) &&
	     ASSERT_STREQ(h->on_rate_limit.headers[1].value, "10") &&
	     ASSERT_EQ(h->on_rate_limit.headers[1].present, 3) &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

#define RL_CONF(conf)                                                         \
	RL_HEAD "  sources:\n    - match: {kuma.io/service: '*'}\n"           \
		"  destinations:\n    - match: {kuma.io/service: b}\n"        \
		"  conf:\n" conf

static const struct kh_bad rate_limit_bad[] = {
	{ RL_CONF("    http: {requests: 0, interval: 1s}\n"),
	  "t.yaml:11:22: spec.conf.http.requests: "
	  "must be 1..4294967295" },
	{ RL_CONF("    http: {requests: 5, interval: 20ms}\n"),
	  "t.yaml:11:35: spec.conf.http.interval: "
	  "must be 50ms..4294967295ms" },
	{ RL_CONF("    http: {interval: 1s}\n"),
	  "t.yaml:11:11: spec.conf.http.requests: "
	  "is required" },
	{ RL_CONF("    {}\n"),
	  "t.yaml:11:5: spec.conf.http: "
	  "is required" },
	{ RL_CONF("    http:\n"
	          "      requests: 5\n"
	          "      interval: 1s\n"
	          "      onRateLimit:\n"
	          "        status: 99\n"),
	  "t.yaml:15:17: spec.conf.http.onRateLimit.status: "
	  "must be 100..599" },
	{ RL_CONF("    http:\n"
	          "      requests: 5\n"
	          "      interval: 1s\n"
	          "      onRateLimit:\n"
	          "        headers: [{key: 'x y', value: v}]\n"),
	  "t.yaml:15:25: spec.conf.http.onRateLimit.headers[0].key: "
	  "must be an HTTP header name (token characters)" },
};

static bool test_rate_limit_invalid(void)
{
	return KH_EXPECT_ALL(rate_limit_bad);
}

/* ---- TrafficRoute (legacy) ---------------------------------------------- */

#define TR_HEAD KH_API "kind: TrafficRoute\nmetadata:\n  name: route\nspec:\n"

static const char tr_full[] =
	TR_HEAD
	"  sources:\n"
	"    - match:\n"
	"        kuma.io/service: '*'\n"
	"    - match:\n"
	"        kuma.io/service: frontend\n"
	"        kuma.io/zone: east\n"
	"  destinations:\n"
	"    - match:\n"
	"        kuma.io/service: web\n"
	"  conf:\n"
	"    split:\n"
	"      - weight: 90\n"
	"        destination:\n"
	"          kuma.io/service: web\n"
	"          version: v1\n"
	"      - weight: 0\n"
	"        destination: {kuma.io/service: web, version: v2}\n"
	"    loadBalancer:\n"
	"      ringHash:\n"
	"        hashFunction: MURMUR_HASH_2\n"
	"        minRingSize: 64\n"
	"        maxRingSize: 1024\n";

static bool test_traffic_route_full(void)
{
	struct model_set s;
	const struct mf_traffic_route *r;
	const struct mf_tr_conf *c;
	static const char *const any[] = { "kuma.io/service", "*" };
	static const char *const front[] = { "kuma.io/service", "frontend",
					     "kuma.io/zone", "east" };
	static const char *const web[] = { "kuma.io/service", "web" };
	static const char *const v1[] = { "kuma.io/service", "web",
					  "version", "v1" };
	static const char *const v2[] = { "kuma.io/service", "web",
					  "version", "v2" };
	bool ok;

	if (!kh_parse_one(tr_full, &s))
		return false;
	r = (const struct mf_traffic_route *)s.objs[0].pol.recs;
	c = &r->conf;
	ok = ASSERT_EQ(s.objs[0].pol.n, 1) &&
	     ASSERT_EQ(r->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(r->hdr.nsources, 2) &&
	     ASSERT_EQ(r->hdr.ndestinations, 1) &&
	     tags_are(&s, r->hdr.sources[0], any, 1) &&
	     tags_are(&s, r->hdr.sources[1], front, 2) &&
	     tags_are(&s, r->hdr.destinations[0], web, 1) &&
	     ASSERT_EQ(c->nsplit, 2) &&
	     ASSERT_EQ(c->split[0].weight, 90) &&
	     tags_are(&s, c->split[0].destination, v1, 2) &&
	     ASSERT_EQ(c->split[1].weight, 0) &&
	     ASSERT_EQ(c->split[1].present, 3) &&
	     tags_are(&s, c->split[1].destination, v2, 2) &&
	     ASSERT_EQ(c->destination, 0) &&
	     ASSERT_EQ(c->load_balancer.present, 1u << 2) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.hash_function,
		       MF_LB_HASH_MURMUR2) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.min_ring_size, 64) &&
	     ASSERT_EQ(c->load_balancer.ring_hash.max_ring_size, 1024) &&
	     kh_round_trip(&s, &s.objs[0]);
	model_set_free(&s);
	return ok;
}

/* destination instead of split, and the balancers without settings. */
static bool test_traffic_route_destination(void)
{
	static const char *const web[] = { "kuma.io/service", "web" };
	static const char *const lbs[] = { "roundRobin: {}", "random: {}",
					   "leastRequest: {choiceCount: 3}",
					   "maglev: {tableSize: 65537}" };

	for (size_t i = 0; i < sizeof(lbs) / sizeof(lbs[0]); i++) {
		struct model_set s;
		const struct mf_traffic_route *r;
		char *doc;
		bool ok;

		if (!ASSERT_TRUE(asprintf(&doc, TR_HEAD
				"  sources: [{match: {kuma.io/service: '*'}}]\n"
				"  destinations:\n"
				"    - match: {kuma.io/service: web}\n"
				"  conf:\n"
				"    destination: {kuma.io/service: web}\n"
				"    loadBalancer: {%s}\n", lbs[i]) > 0))
			return false;
		ok = kh_parse_one(doc, &s);
		free(doc);
		if (!ok)
			return false;
		r = (const struct mf_traffic_route *)s.objs[0].pol.recs;
		ok = tags_are(&s, r->conf.destination, web, 1) &&
		     ASSERT_EQ(r->conf.nsplit, 0) &&
		     ASSERT_EQ(__builtin_popcount(
				       r->conf.load_balancer.present), 1) &&
		     kh_round_trip(&s, &s.objs[0]);
		model_set_free(&s);
		if (!ok)
			return false;
	}
	return true;
}

#define TR_CONF(conf)                                                         \
	TR_HEAD "  sources:\n    - match: {kuma.io/service: '*'}\n"           \
		"  destinations:\n    - match: {kuma.io/service: web}\n"      \
		"  conf:\n" conf

static const struct kh_bad traffic_route_bad[] = {
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    split:\n"
	          "      - {weight: 1, destination: {kuma.io/service: web}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "must have exactly one of split, destination" },
	{ TR_CONF("    loadBalancer: {random: {}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "must have exactly one of split, destination" },
	{ TR_CONF("    split:\n"
	          "      - {weight: 0, destination: {kuma.io/service: a}}\n"
	          "      - {weight: 0, destination: {kuma.io/service: b}}\n"),
	  "t.yaml:11:5: spec.conf: "
	  "split must have at least one weight above 0" },
	{ TR_CONF("    split: []\n"),
	  "t.yaml:11:5: spec.conf: "
	  "split must have at least one entry" },
	{ TR_CONF("    split:\n"
	          "      - {destination: {kuma.io/service: a}}\n"),
	  "t.yaml:12:9: spec.conf.split[0].weight: "
	  "is required" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    loadBalancer: {random: {}, roundRobin: {}}\n"),
	  "t.yaml:12:19: spec.conf.loadBalancer: "
	  "must have exactly one of roundRobin, leastRequest, ringHash, "
	  "random, maglev" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    loadBalancer: {}\n"),
	  "t.yaml:12:19: spec.conf.loadBalancer: "
	  "must have exactly one of roundRobin, leastRequest, ringHash, "
	  "random, maglev" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    loadBalancer:\n"
	          "      ringHash: {hashFunction: XX_HASH, "
	          "minRingSize: 2048, maxRingSize: 1024}\n"),
	  "t.yaml:13:17: spec.conf.loadBalancer.ringHash: "
	  "minRingSize must not be above maxRingSize" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    loadBalancer: {ringHash: {minRingSize: 8}}\n"),
	  "t.yaml:12:30: spec.conf.loadBalancer.ringHash.hashFunction: "
	  "is required" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    loadBalancer: {maglev: {tableSize: 1000}}\n"),
	  "t.yaml:12:28: spec.conf.loadBalancer.maglev: "
	  "tableSize must be a prime number" },
	{ TR_CONF("    destination: {kuma.io/service: web}\n"
	          "    loadBalancer: {leastRequest: {choiceCount: 1}}\n"),
	  "t.yaml:12:48: spec.conf.loadBalancer.leastRequest.choiceCount: "
	  "must be 2..4294967295" },
};

static bool test_traffic_route_invalid(void)
{
	return KH_EXPECT_ALL(traffic_route_bad);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_access_log_full);
	TEST_RUN(test_access_log_invalid);
	TEST_RUN(test_trace_full);
	TEST_RUN(test_trace_other_backends);
	TEST_RUN(test_trace_invalid);
	TEST_RUN(test_metric_full);
	TEST_RUN(test_metric_invalid);
	TEST_RUN(test_mesh_rate_limit_full);
	TEST_RUN(test_mesh_rate_limit_invalid);
	TEST_RUN(test_rate_limit_full);
	TEST_RUN(test_rate_limit_invalid);
	TEST_RUN(test_traffic_route_full);
	TEST_RUN(test_traffic_route_destination);
	TEST_RUN(test_traffic_route_invalid);
	TEST_MAIN_END();
}
