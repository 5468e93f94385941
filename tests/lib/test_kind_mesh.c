// SPDX-License-Identifier: Apache-2.0
/*
 * Mesh (lib/policy/kind_mesh.c) through mfctl's reader: each rule of
 * spec.mtls (the enabled backend is one of the backends, a provided
 * backend names its files and a builtin one does not, mode names) gives
 * exactly the expected diagnostic; so does each rule of Kuma's validator
 * for the fields beyond mTLS (tracing, logging, metrics, constraints,
 * routing.zoneEgress), and a Kuma Mesh with every field prints back to
 * the same record.  The whole pipeline of a valid Mesh is in
 * test_kinds.c; its trip through mf_config in tests/ctl/test_apply.c.
 */
#define KH_FILE "m.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

/* A Mesh whose spec.mtls (line 7) is @mtls. */
#define MESH_MTLS(mtls)                                                       \
	"---\napiVersion: meshforge.io/v1alpha1\n"                            \
	"kind: Mesh\nmetadata: {name: default}\n"                             \
	"spec:\n  trustDomain: td\n  mtls:\n" mtls

KH_TEST_BAD(test_bad_mtls,
	{ MESH_MTLS("    enabledBackend: nope\n"
		    "    backends: [{name: b, type: builtin}]\n"),
	  "m.yaml:8:21: spec.mtls.enabledBackend: names no backend "
	  "of spec.mtls.backends" },
	{ MESH_MTLS("    backends: [{name: b, type: provided}]\n"),
	  "m.yaml:8:16: spec.mtls.backends[0].conf: is required "
	  "for a provided backend" },
	{ MESH_MTLS("    backends: [{name: b, type: builtin,\n"
		    "                conf: {cert: {file: /x}, "
		    "key: {file: /y}}}]\n"),
	  "m.yaml:9:23: spec.mtls.backends[0].conf: builtin "
	  "backends take no conf (the mesh CA is made by `mfctl "
	  "ca init`)" },
	{ MESH_MTLS("    backends: [{name: b, type: builtin, "
		    "mode: LAX}]\n"),
	  "m.yaml:8:47: spec.mtls.backends[0].mode: must be "
	  "STRICT or PERMISSIVE" },
)

/* dpCert.rotation.expiration of the only backend of the only object of
 * @yaml, a Mesh, is @secs; printed back, it parses to the same record. */
static bool mesh_expiration_is(const char *yaml, uint32_t secs)
{
	struct model_set s;
	bool ok = kh_parse_ok(yaml, &s);
	const struct core_mesh *m = ok && s.n == 1 ? model_spec(&s.objs[0]) :
						     NULL;

	ok = ok && ASSERT_TRUE(m) &&
	     ASSERT_EQ(m->mtls.backends[0].dp_cert.rotation.expiration, secs) &&
	     kh_round_trip(&s, &s.objs[0]);
	if (ok || s.n)
		model_set_free(&s);
	return ok;
}

#define MESH_EXPIRATION(v)                                                    \
	MESH_MTLS("    backends: [{name: b, type: builtin, "                  \
		  "dpCert: {rotation: {expiration: " v "}}}]\n")

/* Kuma's lifetimes: weeks and years of 365 days as well as days, hours,
 * minutes and seconds; 1s to 10 years, whole seconds. */
static bool test_rotation_expiration(void)
{
	return mesh_expiration_is(MESH_EXPIRATION("2y"), 2 * 365 * 86400) &&
	       mesh_expiration_is(MESH_EXPIRATION("3w"), 21 * 86400) &&
	       mesh_expiration_is(MESH_EXPIRATION("1d"), 86400) &&
	       mesh_expiration_is(MESH_EXPIRATION("90m"), 5400) &&
	       mesh_expiration_is(MESH_EXPIRATION("10y"), 3650 * 86400) &&
	       kh_expect1(MESH_EXPIRATION("11y"),
			  "m.yaml:8:73: spec.mtls.backends[0].dpCert.rotation."
			  "expiration: must be a lifetime such as 1y, 2w, 1d, "
			  "12h, 90m or 3600s (1s to 10 years)") &&
	       kh_expect1(MESH_EXPIRATION("500ms"),
			  "m.yaml:8:73: spec.mtls.backends[0].dpCert.rotation."
			  "expiration: must be a lifetime such as 1y, 2w, 1d, "
			  "12h, 90m or 3600s (1s to 10 years)") &&
	       kh_expect1(MESH_EXPIRATION("0y"),
			  "m.yaml:8:73: spec.mtls.backends[0].dpCert.rotation."
			  "expiration: must be a lifetime such as 1y, 2w, 1d, "
			  "12h, 90m or 3600s (1s to 10 years)");
}

/* The trust domain of the only object of @yaml, a Mesh, is @td; printed
 * back (meshforge's apiVersion, trustDomain spelled out), it parses to
 * the same record. */
static bool mesh_td_is(const char *yaml, const char *td)
{
	struct model_set s;
	bool ok = kh_parse_ok(yaml, &s);

	ok = ok && ASSERT_EQ(s.n, 1) &&
	     ASSERT_STREQ(((struct core_mesh *)model_spec(&s.objs[0]))
				  ->trust_domain, td) &&
	     kh_round_trip(&s, &s.objs[0]);
	if (ok || s.n)
		model_set_free(&s);
	return ok;
}

/* Kuma's Mesh has no trustDomain: it is the mesh's name, as Kuma's
 * builtin CA names identities spiffe://<mesh>/<service>.  Its spec may
 * be left out.  meshforge's Mesh must still say it. */
static bool test_kuma_mesh_trust_domain(void)
{
	return mesh_td_is("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\n", "default") &&
	       mesh_td_is("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: prod.mesh-1}\n"
			  "spec:\n  mtls:\n    enabledBackend: ca-1\n"
			  "    backends: [{name: ca-1, type: builtin}]\n",
			  "prod.mesh-1") &&
	       mesh_td_is("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\n"
			  "spec: {trustDomain: corp.example}\n",
			  "corp.example") &&
	       kh_expect1("apiVersion: meshforge.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\nspec:\n"
			  "  mtls: {backends: [{name: b, type: builtin}]}\n",
			  "m.yaml:5:3: spec.trustDomain: is required") &&
	       kh_expect1("apiVersion: meshforge.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\n",
			  "m.yaml:1:1: spec: is required") &&
	       kh_expect1("apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
			  "metadata: {name: default}\nspec: []\n",
			  "m.yaml:4:7: spec: must be a mapping, not a list");
}

/* A Kuma Mesh whose spec (line 5 on) is @spec. */
#define KMESH(spec)                                                           \
	"---\napiVersion: kuma.io/v1alpha1\n"                                 \
	"kind: Mesh\nmetadata: {name: default}\nspec:\n" spec

#define ZIPKIN_OK "conf: {url: 'http://zipkin:9411/api/v2/spans'}"

/* Kuma's validator, rule by rule: names once each, the default backend
 * one of them, known types with the conf of their type, sampling a
 * percentage, a zipkin url with its port, HOST:PORT of a tcp logger. */
KH_TEST_BAD(test_bad_tracing_logging,
	{ KMESH("  tracing:\n    defaultBackend: other\n"
		"    backends: [{name: z, type: zipkin, " ZIPKIN_OK "}]\n"),
	  "m.yaml:7:21: spec.tracing.defaultBackend: has to be set to one "
	  "of the tracing backends of the mesh" },
	{ KMESH("  tracing:\n    backends:\n"
		"      - {name: z, type: zipkin, " ZIPKIN_OK "}\n"
		"      - {name: z, type: datadog, conf: {address: d, "
		"port: 8126}}\n"),
	  "m.yaml:8:7: spec.tracing.backends: [1].name: \"z\" name is "
	  "already used for another backend" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: zipkin, "
		"sampling: 100.5, " ZIPKIN_OK "}]\n"),
	  "m.yaml:7:50: spec.tracing.backends[0].sampling: must be a "
	  "percentage 0..100 with at most 3 decimals" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: jaeger}]\n"),
	  "m.yaml:7:32: spec.tracing.backends[0].type: must be zipkin or "
	  "datadog" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: zipkin, "
		"conf: {url: 'http://zipkin/api'}}]\n"),
	  "m.yaml:7:52: spec.tracing.backends[0].conf.url: port has to be "
	  "explicitly specified" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: zipkin, "
		"conf: {url: 'zipkin:9411'}}]\n"),
	  "m.yaml:7:52: spec.tracing.backends[0].conf.url: must be an "
	  "absolute URL such as http://zipkin:9411/api/v2/spans" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: zipkin, "
		"conf: {url: 'http://z:9411', apiVersion: v3}}]\n"),
	  "m.yaml:7:81: spec.tracing.backends[0].conf.apiVersion: must be "
	  "httpJsonV1, httpJson or httpProto" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: zipkin, "
		"conf: {url: 'http://z:9411', port: 1}}]\n"),
	  "m.yaml:7:46: spec.tracing.backends[0].conf: a zipkin backend's "
	  "conf takes url, traceId128bit, apiVersion and sharedSpanContext" },
	{ KMESH("  tracing:\n    backends: [{name: z, type: zipkin}]\n"),
	  "m.yaml:7:16: spec.tracing.backends[0].conf: url is required for "
	  "a zipkin backend" },
	{ KMESH("  tracing:\n    backends: [{name: d, type: datadog, "
		"conf: {address: dd}}]\n"),
	  "m.yaml:7:47: spec.tracing.backends[0].conf: address and port are "
	  "required for a datadog backend" },
	{ KMESH("  tracing:\n    backends: [{name: d, type: datadog, "
		"conf: {address: dd, port: 70000}}]\n"),
	  "m.yaml:7:67: spec.tracing.backends[0].conf.port: must be "
	  "1..65535" },
	{ KMESH("  tracing:\n    backends: [{type: zipkin, " ZIPKIN_OK "}]\n"),
	  "m.yaml:7:16: spec.tracing.backends[0].name: is required" },
	{ KMESH("  logging:\n    backends: [{name: t, type: tcp, "
		"conf: {address: 'logs:1:2'}}]\n"),
	  "m.yaml:7:53: spec.logging.backends[0].conf.address: has to be in "
	  "format of HOST:PORT" },
	{ KMESH("  logging:\n    backends: [{name: t, type: tcp, "
		"conf: {address: logs}}]\n"),
	  "m.yaml:7:53: spec.logging.backends[0].conf.address: has to be in "
	  "format of HOST:PORT" },
	{ KMESH("  logging:\n    backends: [{name: f, type: file}]\n"),
	  "m.yaml:7:16: spec.logging.backends[0].conf: path cannot be empty "
	  "for a file backend" },
	{ KMESH("  logging:\n    backends: [{name: t, type: tcp, "
		"conf: {path: /x}}]\n"),
	  "m.yaml:7:43: spec.logging.backends[0].conf: a tcp backend's conf "
	  "takes only address" },
	{ KMESH("  logging:\n    backends: [{name: f, type: stdout}]\n"),
	  "m.yaml:7:32: spec.logging.backends[0].type: must be file or tcp" },
	{ KMESH("  logging:\n    defaultBackend: g\n"
		"    backends: [{name: f, type: file, conf: {path: /x}}]\n"),
	  "m.yaml:7:21: spec.logging.defaultBackend: has to be set to one "
	  "of the logging backends of the mesh" },
	{ KMESH("  logging:\n    backends:\n"
		"      - {name: f, type: file, conf: {path: /x}}\n"
		"      - {name: f, type: tcp, conf: {address: 'l:1'}}\n"),
	  "m.yaml:8:7: spec.logging.backends: [1].name: \"f\" name is "
	  "already used for another backend" },
)

/* Metrics: a prometheus backend, named once, the enabled one among them;
 * skipMTLS and tls agreeing; aggregate names once; a regex that
 * compiles.  Constraints: rules of at least one tag of Kuma's
 * characters.  zoneEgress needs mTLS; enums and booleans as Kuma's. */
KH_TEST_BAD(test_bad_metrics_constraints,
	{ KMESH("  metrics:\n    backends: [{name: m, type: statsd}]\n"),
	  "m.yaml:7:32: spec.metrics.backends[0].type: must be prometheus" },
	{ KMESH("  metrics:\n    enabledBackend: other\n"
		"    backends: [{name: m, type: prometheus}]\n"),
	  "m.yaml:7:21: spec.metrics.enabledBackend: has to be set to one "
	  "of the backends in the mesh" },
	{ KMESH("  metrics:\n    backends: [{name: m, type: prometheus},\n"
		"               {name: m, type: prometheus}]\n"),
	  "m.yaml:7:15: spec.metrics.backends: [1].name: \"m\" name is "
	  "already used for another backend" },
	{ KMESH("  metrics:\n    backends: [{name: m, type: prometheus, "
		"conf: {skipMTLS: true, tls: {mode: activeMTLSBackend}}}]\n"),
	  "m.yaml:7:72: spec.metrics.backends[0].conf.tls: skipMTLS and tls "
	  "configuration cannot be defined together" },
	{ KMESH("  metrics:\n    backends: [{name: m, type: prometheus, "
		"conf: {skipMTLS: false, tls: {mode: disabled}}}]\n"),
	  "m.yaml:7:73: spec.metrics.backends[0].conf.tls: skipMTLS and tls "
	  "configuration cannot be defined together" },
	{ KMESH("  metrics:\n    backends: [{name: m, type: prometheus, "
		"conf: {aggregate: [{name: a, port: 1}, {name: a, port: 2}]}}]"
		"\n"),
	  "m.yaml:7:62: spec.metrics.backends[0].conf.aggregate: [1].name: "
	  "duplicate entry: a, values have to be unique" },
	{ KMESH("  metrics:\n    backends: [{name: m, type: prometheus, "
		"conf: {envoy: {filterRegex: '('}}}]\n"),
	  "m.yaml:7:72: spec.metrics.backends[0].conf.envoy.filterRegex: "
	  "provided regexp isn't correct" },
	{ KMESH("  metrics:\n    backends: [{name: m, type: prometheus, "
		"conf: {tls: {mode: mutual}}}]\n"),
	  "m.yaml:7:63: spec.metrics.backends[0].conf.tls.mode: must be "
	  "activeMTLSBackend, providedTLS or disabled" },
	{ KMESH("  constraints:\n    dataplaneProxy:\n"
		"      requirements: [{tags: {}}]\n"),
	  "m.yaml:8:22: spec.constraints.dataplaneProxy.requirements[0]: "
	  "must have at least one tag" },
	{ KMESH("  constraints:\n    dataplaneProxy:\n"
		"      restrictions: [{}]\n"),
	  "m.yaml:8:22: spec.constraints.dataplaneProxy.restrictions[0]: "
	  "must have at least one tag" },
	{ KMESH("  constraints:\n    dataplaneProxy:\n"
		"      requirements: [{tags: {'a b': x}}]\n"),
	  "m.yaml:8:30: spec.constraints.dataplaneProxy.requirements[0]."
	  "tags.a b: tag name must consist of alphanumeric characters, dots, "
	  "dashes, slashes and underscores" },
	{ KMESH("  constraints:\n    dataplaneProxy:\n"
		"      restrictions: [{tags: {a: 'x y'}}]\n"),
	  "m.yaml:8:33: spec.constraints.dataplaneProxy.restrictions[0]."
	  "tags.a: tag value must consist of alphanumeric characters, dots, "
	  "dashes, slashes and underscores or be \"*\"" },
	{ KMESH("  routing: {zoneEgress: true}\n"),
	  "m.yaml:6:3: spec.mtls: has to be set, with an enabledBackend, "
	  "when routing.zoneEgress is enabled" },
	{ KMESH("  meshServices: {mode: Sometimes}\n"),
	  "m.yaml:6:24: spec.meshServices.mode: must be Disabled, "
	  "Everywhere, ReachableBackends or Exclusive" },
	{ KMESH("  networking: {outbound: {passthrough: 'no'}}\n"),
	  "m.yaml:6:40: spec.networking.outbound.passthrough: must be true "
	  "or false" },
	{ KMESH("  mtls:\n    backends: [{name: c, type: builtin, "
		"dpCert: {requestTimeout: soon}}]\n"),
	  "m.yaml:7:66: spec.mtls.backends[0].dpCert.requestTimeout: must be "
	  "a duration such as 10s, 1m30s or 250ms" },
	{ KMESH("  skipCreatingInitialPolicies: '*'\n"),
	  "m.yaml:6:32: spec.skipCreatingInitialPolicies: must be a list, "
	  "not a scalar" },
)

/* Every field of Kuma 2.14's Mesh at once: accepted, each where the
 * record says, and printed back (meshforge's apiVersion) to the same
 * record. */
static bool test_kuma_mesh_every_field(void)
{
	static const char doc[] = KMESH(
		"  mtls:\n"
		"    enabledBackend: ca-1\n"
		"    skipValidation: true\n"
		"    backends:\n"
		"      - name: ca-1\n"
		"        type: builtin\n"
		"        dpCert: {rotation: {expiration: 1d}, "
		"requestTimeout: 10s}\n"
		"        rootChain: {requestTimeout: 15s}\n"
		"  tracing:\n"
		"    defaultBackend: zipkin-1\n"
		"    backends:\n"
		"      - {name: zipkin-1, type: zipkin, sampling: 80.5,\n"
		"         conf: {url: 'http://zipkin:9411/api/v2/spans',\n"
		"                traceId128bit: true, apiVersion: httpJson,\n"
		"                sharedSpanContext: false}}\n"
		"      - {name: dd, type: datadog,\n"
		"         conf: {address: dd, port: 8126, splitService: true}}\n"
		"  logging:\n"
		"    defaultBackend: file-1\n"
		"    backends:\n"
		"      - {name: file-1, type: file, format: '%START_TIME%',\n"
		"         conf: {path: /var/log/access.log}}\n"
		"      - {name: tcp-1, type: tcp, conf: {address: 'logs:5000'}}\n"
		"  metrics:\n"
		"    enabledBackend: prom-1\n"
		"    backends:\n"
		"      - name: prom-1\n"
		"        type: prometheus\n"
		"        conf: {port: 5670, path: /metrics, tags: {team: a},\n"
		"               skipMTLS: true, tls: {mode: disabled},\n"
		"               aggregate: [{name: app, port: 8080, path: /m,\n"
		"                            enabled: true, "
		"address: 127.0.0.1}],\n"
		"               envoy: {filterRegex: 'http.*', usedOnly: true}}\n"
		"  networking: {outbound: {passthrough: false}}\n"
		"  routing: {localityAwareLoadBalancing: true, zoneEgress: true}\n"
		"  constraints:\n"
		"    dataplaneProxy:\n"
		"      requirements: [{tags: {kuma.io/zone: east}}]\n"
		"      restrictions: [{tags: {team: legacy, app: '*'}}]\n"
		"  skipCreatingInitialPolicies: ['*']\n"
		"  meshServices: {mode: Exclusive}\n");
	struct model_set s;
	const struct core_mesh *m;
	bool ok = kh_parse_ok(doc, &s);

	m = ok && s.n == 1 ? model_spec(&s.objs[0]) : NULL;
	ok = ok && ASSERT_TRUE(m) &&
	     ASSERT_TRUE(m->mtls.skip_validation) &&
	     ASSERT_EQ(m->mtls.backends[0].dp_cert.request_timeout, 10000) &&
	     ASSERT_EQ(m->mtls.backends[0].root_chain.request_timeout, 15000) &&
	     ASSERT_EQ(m->tracing.nbackends, 2) &&
	     ASSERT_EQ(m->tracing.backends[0].sampling, 80500) &&
	     ASSERT_EQ(m->tracing.backends[0].type, MF_MESH_TRACE_ZIPKIN) &&
	     ASSERT_EQ(m->tracing.backends[1].conf.port, 8126) &&
	     ASSERT_STREQ(m->logging.backends[0].format, "%START_TIME%") &&
	     ASSERT_EQ(m->logging.backends[1].type, MF_MESH_LOG_TCP) &&
	     ASSERT_STREQ(m->metrics.enabled_backend, "prom-1") &&
	     ASSERT_EQ(m->metrics.backends[0].conf.port, 5670) &&
	     ASSERT_EQ(m->metrics.backends[0].conf.tls.mode, 3) &&
	     ASSERT_STREQ(m->metrics.backends[0].conf.tags[0].value, "a") &&
	     ASSERT_TRUE(sch_has(&m->networking.outbound, 0)) &&
	     ASSERT_EQ(m->networking.outbound.passthrough, 0) &&
	     ASSERT_TRUE(m->routing.locality_lb && m->routing.zone_egress) &&
	     ASSERT_EQ(m->constraints.dataplane_proxy.nrestrictions, 1) &&
	     ASSERT_EQ(m->constraints.dataplane_proxy.restrictions[0].ntags,
		       2) &&
	     ASSERT_STREQ(m->skip_initial[0], "*") &&
	     ASSERT_EQ(m->mesh_services.mode, 4) &&
	     kh_round_trip(&s, &s.objs[0]);
	if (ok || s.n)
		model_set_free(&s);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_bad_mtls);
	TEST_RUN(test_kuma_mesh_trust_domain);
	TEST_RUN(test_rotation_expiration);
	TEST_RUN(test_bad_tracing_logging);
	TEST_RUN(test_bad_metrics_constraints);
	TEST_RUN(test_kuma_mesh_every_field);
	TEST_MAIN_END();
}
