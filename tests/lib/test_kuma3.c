// SPDX-License-Identifier: Apache-2.0
/*
 * Validation as Kuma 3.0's (`mfctl apply --kuma 3.0`, enum kuma_version in
 * lib/policy/kinds.h) beside the default, which takes Kuma 2.14's shapes
 * too.  Each rule Kuma 3.0 added over 2.14 is a row: a document the
 * default takes and 3.0 refuses with exactly one message, at its position
 * and path, saying it is 3.0's rule.  The same policies written 3.0's way
 * are taken under both.
 *
 * The rules, from Kuma 3.0's API and validators:
 *  - a top-level targetRef is a TopLevelTargetRef: kind Mesh or Dataplane,
 *    with labels and sectionName only (no name, namespace, tags,
 *    proxyTypes); a to[] one an OutboundTargetRef (kind, labels,
 *    sectionName);
 *  - no kind has `from` any more; MeshTrafficPermission needs `rules`;
 *  - MeshRateLimit needs `to` or `rules`;
 *  - TrafficRoute, RateLimit, MeshGateway and MeshGatewayRoute are gone;
 *  - Mesh, MeshService, MeshExternalService and MeshMultiZoneService names
 *    are RFC 1035 labels (they become DNS labels);
 *  - fields and values gone from a kind's conf (kind_desc.gone_v3).
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define ONLY3 " (Kuma 3.0; mfctl takes it without --kuma 3.0)"
#define KIND_MUST "spec.targetRef.kind: must be Mesh or Dataplane" ONLY3

/* Top-level targetRef kinds: 2.14's subsets, services, gateways and
 * routes are gone; one row per kind and removed target. */
KH_TEST_KUMA3(test_kuma3_top_kinds,
	{ KH_DOC("MeshTrafficPermission", "p")
	  "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	  "  rules: [{default: {allow: [{spiffeID: {type: Prefix, "
	  "value: \"spiffe://td/\"}}]}}]\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshTrafficPermission", "p")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  rules: [{default: {allow: [{spiffeID: {type: Prefix, "
	  "value: \"spiffe://td/\"}}]}}]\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshTrafficPermission", "p")
	  "  targetRef: {kind: MeshServiceSubset, name: web, "
	  "tags: {version: v1}}\n"
	  "  rules: [{default: {allow: [{spiffeID: {type: Prefix, "
	  "value: \"spiffe://td/\"}}]}}]\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshTimeout", "t")
	  "  targetRef: {kind: MeshHTTPRoute, name: r}\n"
	  "  to:\n    - targetRef: {kind: Mesh}\n"
	  "      default: {http: {requestTimeout: 1s}}\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshRetry", "r")
	  "  targetRef: {kind: MeshGateway, name: gw}\n"
	  "  to:\n    - targetRef: {kind: Mesh}\n"
	  "      default: {tcp: {maxConnectAttempt: 3}}\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshAccessLog", "l")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  to:\n    - targetRef: {kind: Mesh}\n"
	  "      default: {backends: [{type: File, "
	  "file: {path: /tmp/a.log}}]}\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshTrace", "tr")
	  "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	  "  default: {backends: [{type: Zipkin, "
	  "zipkin: {url: \"http://z:9411/api/v2/spans\"}}]}\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshTLS", "tls")
	  "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	  "  rules: [{default: {mode: Strict}}]\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshPassthrough", "pt")
	  "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
	  "  default: {passthroughMode: All}\n",
	  "t.yaml:5:21: " KIND_MUST },
	{ KH_DOC("MeshTCPRoute", "tcp")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  to:\n    - targetRef: {kind: MeshService, labels: "
	  "{kuma.io/display-name: api}}\n"
	  "      rules: [{default: {backendRefs: [{kind: MeshService, "
	  "name: api, port: 80}]}}]\n",
	  "t.yaml:5:21: " KIND_MUST },
)

/* A targetRef of 3.0 has kind, labels and sectionName: a name,
 * namespace, tags or proxyTypes is 2.14's. */
KH_TEST_KUMA3(test_kuma3_ref_fields,
	{ KH_DOC("MeshTimeout", "t")
	  "  targetRef: {kind: Dataplane, name: web-1}\n"
	  "  rules: [{default: {idleTimeout: 10s}}]\n",
	  "t.yaml:5:38: spec.targetRef.name: is not a field of a targetRef, "
	  "which has kind, labels and sectionName" ONLY3 },
	{ KH_DOC("MeshTimeout", "t")
	  "  targetRef: {kind: Mesh, proxyTypes: [Sidecar]}\n"
	  "  rules: [{default: {idleTimeout: 10s}}]\n",
	  "t.yaml:5:39: spec.targetRef.proxyTypes: is not a field of a "
	  "targetRef, which has kind, labels and sectionName" ONLY3 },
	{ KH_DOC("MeshTimeout", "t")
	  "  to:\n    - targetRef: {kind: MeshService, name: api}\n"
	  "      default: {idleTimeout: 10s}\n",
	  "t.yaml:6:44: spec.to[0].targetRef.name: is not a field of a "
	  "targetRef, which has kind, labels and sectionName" ONLY3 },
	{ KH_DOC("MeshHTTPRoute", "r")
	  "  to:\n    - targetRef: {kind: MeshService, name: api}\n"
	  "      rules: [{matches: [{path: {type: PathPrefix, value: /}}], "
	  "default: {}}]\n",
	  "t.yaml:6:44: spec.to[0].targetRef.name: is not a field of a "
	  "targetRef, which has kind, labels and sectionName" ONLY3 },
)

/* `from` is gone from every kind; MeshTrafficPermission says everything
 * in `rules`, and MeshRateLimit needs `to` or `rules`. */
KH_TEST_KUMA3(test_kuma3_sections,
	{ KH_DOC("MeshTimeout", "t") KH_ENTRY("from")
	  "        idleTimeout: 10s\n",
	  "t.yaml:7:5: spec.from: was removed from MeshTimeout" ONLY3 },
	{ KH_DOC("MeshAccessLog", "l") KH_ENTRY("from")
	  "        backends: [{type: File, file: {path: /tmp/a.log}}]\n",
	  "t.yaml:7:5: spec.from: was removed from MeshAccessLog" ONLY3 },
	{ KH_DOC("MeshCircuitBreaker", "cb") KH_ENTRY("from")
	  "        connectionLimits: {maxConnections: 2}\n",
	  "t.yaml:7:5: spec.from: was removed from MeshCircuitBreaker" ONLY3 },
	{ KH_DOC("MeshTLS", "tls") KH_ENTRY("from")
	  "        mode: Strict\n",
	  "t.yaml:7:5: spec.from: was removed from MeshTLS" ONLY3 },
	{ KH_DOC("MeshTrafficPermission", "p") KH_ENTRY("from")
	  "        action: Allow\n",
	  "t.yaml:7:5: spec.from: was removed from MeshTrafficPermission"
	  ONLY3 },
	{ KH_DOC("MeshRateLimit", "rl")
	  "  targetRef: {kind: Dataplane, labels: {app: web}}\n",
	  "t.yaml:5:3: spec: must have at least one of to, rules" ONLY3 },
)

/* 3.0's MeshTrafficPermission has no `from`: with neither, the message
 * is about `rules` (by default, about `from`, the 2.14 form). */
static bool test_kuma3_mtp_needs_rules(void)
{
	static const char doc[] = KH_DOC("MeshTrafficPermission", "p")
		"  targetRef: {kind: Mesh}\n";

	return kh_expect1_kuma(doc, KUMA_2_14,
			       "t.yaml:5:3: spec.from: is required") &&
	       kh_expect1_kuma(doc, KUMA_3_0,
			       "t.yaml:5:3: spec.rules: is required" ONLY3);
}

/* The legacy kinds Kuma 3.0 removed. */
KH_TEST_KUMA3(test_kuma3_legacy_kinds,
	{ KH_DOC("TrafficRoute", "tr")
	  "  sources: [{match: {kuma.io/service: '*'}}]\n"
	  "  destinations: [{match: {kuma.io/service: '*'}}]\n"
	  "  conf: {destination: {kuma.io/service: '*'}}\n",
	  "t.yaml:5:3: spec: kind TrafficRoute was removed" ONLY3 },
	{ KH_DOC("RateLimit", "rl")
	  "  sources: [{match: {kuma.io/service: '*'}}]\n"
	  "  destinations: [{match: {kuma.io/service: web}}]\n"
	  "  conf: {http: {requests: 10, interval: 1s}}\n",
	  "t.yaml:5:3: spec: kind RateLimit was removed" ONLY3 },
	{ KH_DOC("MeshGateway", "gw")
	  "  selectors: [{match: {kuma.io/service: gw}}]\n"
	  "  conf: {listeners: [{port: 8080, protocol: HTTP}]}\n",
	  "t.yaml:5:3: spec: kind MeshGateway was removed" ONLY3 },
	{ KH_DOC("MeshGatewayRoute", "gwr")
	  "  selectors: [{match: {kuma.io/service: gw}}]\n"
	  "  conf: {tcp: {rules: [{backends: [{destination: "
	  "{kuma.io/service: web}}]}]}}\n",
	  "t.yaml:5:3: spec: kind MeshGatewayRoute was removed" ONLY3 },
)

#define RFC1035(kind)                                                         \
	"must be an RFC 1035 label for a " kind " (a-z, 0-9 and '-', "        \
	"starting with a letter, no dots)" ONLY3

/* Names that become DNS labels: RFC 1035 labels in 3.0 (2.14 took any
 * object name, with a deprecation warning). */
KH_TEST_KUMA3(test_kuma3_names,
	{ KH_API "kind: Mesh\nmetadata: {name: mesh.1}\n",
	  "t.yaml:3:18: metadata.name: " RFC1035("Mesh") },
	{ KH_API "kind: Mesh\nmetadata: {name: 1mesh}\n",
	  "t.yaml:3:18: metadata.name: " RFC1035("Mesh") },
	{ "type: Mesh\nname: default.eu\n",
	  "t.yaml:2:7: name: " RFC1035("Mesh") },
	{ KH_DOC("MeshService", "web.v1")
	  "  selector: {dataplaneTags: {app: web}}\n"
	  "  ports: [{port: 80, targetPort: 8080, appProtocol: http}]\n",
	  "t.yaml:3:18: metadata.name: " RFC1035("MeshService") },
	{ KH_DOC("MeshExternalService", "global.backend")
	  "  match: {type: HostnameGenerator, port: 443, protocol: tcp}\n"
	  "  endpoints: [{address: example.com, port: 443}]\n",
	  "t.yaml:3:18: metadata.name: " RFC1035("MeshExternalService") },
	{ KH_DOC("MeshMultiZoneService", "9api")
	  "  selector: {meshService: {matchLabels: {app: api}}}\n"
	  "  ports: [{port: 80, appProtocol: http}]\n",
	  "t.yaml:3:18: metadata.name: " RFC1035("MeshMultiZoneService") },
)

/* What Kuma 3.0 removed inside a kind's conf: MeshHealthCheck's panic
 * threshold (now MeshCircuitBreaker's), hash policies inside ringHash and
 * maglev and the SourceIP type, an OpenTelemetry backend's endpoint (a
 * backendRef names a MeshOpenTelemetryBackend instead). */
KH_TEST_KUMA3(test_kuma3_gone,
	{ KH_DOC("MeshHealthCheck", "hc") KH_ENTRY("to")
	  "        interval: 10s\n"
	  "        healthyPanicThreshold: 50\n"
	  "        tcp: {}\n",
	  "t.yaml:10:32: spec.to[0].default.healthyPanicThreshold: was removed "
	  "from MeshHealthCheck" ONLY3 },
	{ KH_DOC("MeshLoadBalancingStrategy", "lb") KH_ENTRY("to")
	  "        loadBalancer:\n"
	  "          type: RingHash\n"
	  "          ringHash: {hashPolicies: [{type: Header, "
	  "header: {name: x-user}}]}\n",
	  "t.yaml:11:36: spec.to[0].default.loadBalancer.ringHash.hashPolicies: "
	  "was removed from MeshLoadBalancingStrategy" ONLY3 },
	{ KH_DOC("MeshLoadBalancingStrategy", "lb") KH_ENTRY("to")
	  "        loadBalancer:\n"
	  "          type: Maglev\n"
	  "          maglev: {hashPolicies: [{type: Cookie, "
	  "cookie: {name: cart}}]}\n",
	  "t.yaml:11:34: spec.to[0].default.loadBalancer.maglev.hashPolicies: "
	  "was removed from MeshLoadBalancingStrategy" ONLY3 },
	{ KH_DOC("MeshLoadBalancingStrategy", "lb") KH_ENTRY("to")
	  "        hashPolicies:\n"
	  "          - type: SourceIP\n"
	  "            connection: {sourceIP: true}\n",
	  "t.yaml:10:19: spec.to[0].default.hashPolicies[0].type: SourceIP was "
	  "removed from MeshLoadBalancingStrategy" ONLY3 },
	{ KH_DOC("MeshAccessLog", "l")
	  "  rules:\n    - default:\n        backends:\n"
	  "          - type: OpenTelemetry\n"
	  "            openTelemetry: {endpoint: \"otel:4317\"}\n",
	  "t.yaml:9:39: spec.rules[0].default.backends[0].openTelemetry."
	  "endpoint: was removed from MeshAccessLog" ONLY3 },
	{ KH_DOC("MeshTrace", "tr")
	  "  default:\n    backends:\n      - type: OpenTelemetry\n"
	  "        openTelemetry: {endpoint: \"otel:4317\"}\n",
	  "t.yaml:8:35: spec.default.backends[0].openTelemetry.endpoint: was "
	  "removed from MeshTrace" ONLY3 },
	{ KH_DOC("MeshMetric", "m")
	  "  default:\n    backends:\n      - type: OpenTelemetry\n"
	  "        openTelemetry: {endpoint: \"otel:4317\"}\n",
	  "t.yaml:8:35: spec.default.backends[0].openTelemetry.endpoint: was "
	  "removed from MeshMetric" ONLY3 },
)

/* The same policies written 3.0's way: taken under both. */
static bool test_kuma3_taken(void)
{
	static const char *const docs[] = {
		KH_DOC("MeshTrafficPermission", "p")
		"  targetRef: {kind: Dataplane, labels: {app: web}}\n"
		"  rules: [{default: {allow: [{spiffeID: {type: Prefix, "
		"value: \"spiffe://td/\"}}]}}]\n",
		KH_DOC("MeshTimeout", "t")
		"  to:\n    - targetRef: {kind: MeshService, labels: "
		"{kuma.io/display-name: api}, sectionName: http}\n"
		"      default: {idleTimeout: 10s}\n",
		KH_DOC("MeshRateLimit", "rl")
		"  targetRef: {kind: Dataplane, labels: {app: web}}\n"
		"  rules: [{default: {local: {tcp: {connectionRate: "
		"{num: 5, interval: 1s}}}}}]\n",
		KH_DOC("MeshFaultInjection", "fi")
		"  targetRef: {kind: Dataplane}\n",
		KH_DOC("MeshService", "web-v1")
		"  selector: {dataplaneTags: {app: web}}\n"
		"  ports: [{port: 80, targetPort: 8080, appProtocol: http}]\n",
		KH_API "kind: Mesh\nmetadata: {name: mesh-1}\n",
		KH_DOC("MeshTrace", "tr")
		"  default:\n    backends:\n      - type: OpenTelemetry\n"
		"        openTelemetry: {backendRef: {kind: "
		"MeshOpenTelemetryBackend, labels: {app: otel}}}\n",
		KH_DOC("MeshLoadBalancingStrategy", "lb") KH_ENTRY("to")
		"        loadBalancer: {type: RingHash}\n"
		"        hashPolicies: [{type: Connection, "
		"connection: {sourceIP: true}}]\n",
	};
	bool ok = true;

	for (size_t i = 0; i < KH_NCASES(docs); i++) {
		for (int v = KUMA_2_14; v <= KUMA_3_0; v++) {
			struct model_set s;

			if (kh_parse_ok_kuma(docs[i], v, &s)) {
				model_set_free(&s);
			} else {
				fprintf(stderr, "  doc %zu, kuma %d\n", i, v);
				ok = false;
			}
		}
	}
	return ok;
}

static bool test_kuma3_version_parse(void)
{
	enum kuma_version v = KUMA_3_0;

	return ASSERT_EQ(kuma_version_parse("2.14", &v), 0) &&
	       ASSERT_EQ(v, KUMA_2_14) &&
	       ASSERT_EQ(kuma_version_parse("3.0", &v), 0) &&
	       ASSERT_EQ(v, KUMA_3_0) &&
	       ASSERT_EQ(kuma_version_parse("3", &v), -EINVAL) &&
	       ASSERT_EQ(kuma_version_parse("2.9", &v), -EINVAL) &&
	       ASSERT_EQ(v, KUMA_3_0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_kuma3_top_kinds);
	TEST_RUN(test_kuma3_ref_fields);
	TEST_RUN(test_kuma3_sections);
	TEST_RUN(test_kuma3_mtp_needs_rules);
	TEST_RUN(test_kuma3_legacy_kinds);
	TEST_RUN(test_kuma3_names);
	TEST_RUN(test_kuma3_gone);
	TEST_RUN(test_kuma3_taken);
	TEST_RUN(test_kuma3_version_parse);
	TEST_MAIN_END();
}
