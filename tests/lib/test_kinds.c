// SPDX-License-Identifier: Apache-2.0
/*
 * Every policy kind through the whole of mfctl's pipeline without a
 * kernel: YAML -> objects -> validate -> compile to records (in its own
 * map) -> decompile -> YAML -> the same records and the same text.  Also:
 * the kind registry agrees with the map tables, workload tags become
 * shared tag sets, Mesh mTLS compiles, MeshTrafficPermission rules expand
 * to every Service, and references to missing objects are refused with
 * their position.  Each kind's own rules are in test_kind_<name>.c.
 */
#include <arpa/inet.h>

#include "harness/test.h"
#include "harness/kinds_harness.h"
#include "harness/policy_harness.h"

#include "policy/compile.h"
#include "policy/decompile.h"
#include "policy/doc.h"
#include "policy/render.h"
#include "policy/input.h"
#include "policy/validate.h"
#include "pmap.h"

/* A workload of service web on n1, with identity web and tags @tags. */
#define WEB(name, ip, tags)                                                   \
	RH_DOC("Workload", name)                                              \
	"spec: {node: n1, ip: " ip ", port: 8080, service: web,\n"           \
	"       identity: \"spiffe://mesh.local/ns/default/sa/web\",\n"      \
	"       tags: {" tags "}}\n"

static const char base[] =
	RH_DOC("Mesh", "default")
	"spec:\n"
	"  trustDomain: mesh.local\n"
	"  mtls:\n"
	"    enabledBackend: ca-1\n"
	"    backends:\n"
	"      - name: ca-1\n"
	"        type: builtin\n"
	"        mode: PERMISSIVE\n"
	"        dpCert: {rotation: {expiration: 1d}}\n"
	"      - name: ca-2\n"
	"        type: provided\n"
	"        conf: {cert: {file: /etc/ca.crt}, key: {file: /etc/ca.key}}\n"
	RH_DOC("Node", "n1") "spec: {address: 10.77.0.1}\n"
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.11, port: 80}\n"
	WEB("web-1", "10.78.1.11", "version: v1, zone: a")
	WEB("web-2", "10.78.1.12", "zone: a, version: v1")
	WEB("web-3", "10.78.1.13", "version: v2");

/* One object of every schema-driven kind, in Kuma's own words. */
static const char kinds_yaml[] =
	"---\n" KH_DOC("MeshTimeout", "mt")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default: {connectionTimeout: 2s, http: {requestTimeout: 15s}}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {idleTimeout: 1h}\n"
	"---\n" KH_DOC("MeshRetry", "mr")
	"  targetRef: {kind: MeshService, name: api}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        http: {numRetries: 3, perTryTimeout: 500ms,\n"
	"               retryOn: [5XX, Reset]}\n"
	"---\n" KH_DOC("MeshCircuitBreaker", "mcb")
	KH_ENTRY("to")
	"        connectionLimits: {maxConnections: 1024}\n"
	"        outlierDetection:\n"
	"          interval: 5s\n"
	"          detectors: {totalFailures: {consecutive: 5}}\n"
	"---\n" KH_DOC("MeshHealthCheck", "mhc")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        interval: 10s\n"
	"        timeout: 2s\n"
	"        unhealthyThreshold: 3\n"
	"        healthyThreshold: 1\n"
	"        http: {path: /health, expectedStatuses: [200, 204]}\n"
	"---\n" KH_DOC("MeshLoadBalancingStrategy", "mlbs")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default:\n"
	"        loadBalancer: {type: LeastRequest, leastRequest: {choiceCount: 3}}\n"
	"---\n" KH_DOC("MeshFaultInjection", "mfi")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        http:\n"
	"          - abort: {httpStatus: 503, percentage: 12.5}\n"
	"          - delay: {value: 2s, percentage: 50}\n"
	"---\n" KH_DOC("MeshAccessLog", "mal")
	KH_ENTRY("from")
	"        backends:\n"
	"          - file: {path: /var/log/mesh.log}\n"
	"---\n" KH_DOC("MeshTrace", "mtr")
	"  targetRef: {kind: Mesh}\n"
	"  default:\n"
	"    backends:\n"
	"      - zipkin: {url: \"http://zipkin:9411/api/v2/spans\"}\n"
	"    sampling: {overall: 80}\n"
	"---\n" KH_DOC("MeshMetric", "mm")
	"  targetRef: {kind: Mesh}\n"
	"  default:\n"
	"    backends:\n"
	"      - type: Prometheus\n"
	"        prometheus: {port: 5670, path: /metrics}\n"
	"---\n" KH_DOC("MeshRateLimit", "mrl")
	"  targetRef: {kind: MeshService, name: web}\n"
	"  from:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default:\n"
	"        local:\n"
	"          http:\n"
	"            requestRate: {num: 100, interval: 1s}\n"
	"            onRateLimit: {status: 429}\n"
	"          tcp:\n"
	"            connectionRate: {num: 10, interval: 1s}\n"
	"---\n" KH_DOC("MeshHTTPRoute", "web-split")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      rules:\n"
	"        - matches: [{path: {type: PathPrefix, value: /api}}]\n"
	"          default:\n"
	"            backendRefs:\n"
	"              - {kind: MeshServiceSubset, name: web, tags: {version: v1}, weight: 90}\n"
	"              - {kind: MeshServiceSubset, name: web, tags: {version: v2}, weight: 10}\n"
	"        - matches: [{path: {type: Exact, value: /health}}]\n"
	"          default:\n"
	"            backendRefs: [{kind: MeshService, name: api, weight: 1}]\n"
	"---\n" KH_DOC("MeshTCPRoute", "tcp")
	"  targetRef: {kind: Mesh}\n"
	"  to:\n"
	"    - targetRef: {kind: MeshService, name: api}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs: [{kind: MeshService, name: web, weight: 1}]\n"
	"---\n" KH_DOC("TrafficRoute", "tr")
	"  sources: [{match: {kuma.io/service: '*'}}]\n"
	"  destinations: [{match: {kuma.io/service: web}}]\n"
	"  conf:\n"
	"    split:\n"
	"      - {weight: 90, destination: {kuma.io/service: web, version: v1}}\n"
	"      - {weight: 10, destination: {kuma.io/service: web, version: v2}}\n"
	"---\n" KH_DOC("RateLimit", "rl")
	"  sources: [{match: {kuma.io/service: '*'}}]\n"
	"  destinations: [{match: {kuma.io/service: api}}]\n"
	"  conf:\n"
	"    http:\n"
	"      requests: 5\n"
	"      interval: 10s\n"
	"      onRateLimit:\n"
	"        status: 423\n"
	"        headers: [{key: x-limited, value: \"true\", append: true}]\n"
	"---\n" KH_DOC("MeshGateway", "edge")
	"  selectors: [{match: {kuma.io/service: edge}}]\n"
	"  tags: {vhost-group: public}\n"
	"  conf:\n"
	"    listeners:\n"
	"      - {port: 8080, protocol: HTTP, hostname: foo.example.com}\n"
	"---\n" KH_DOC("MeshGatewayRoute", "edge-route")
	"  selectors: [{match: {kuma.io/service: edge}}]\n"
	"  conf:\n"
	"    http:\n"
	"      rules:\n"
	"        - matches: [{path: {match: PREFIX, value: /}}]\n"
	"          backends: [{destination: {kuma.io/service: web}, weight: 1}]\n"
	"---\n" KH_DOC("MeshOpenTelemetryBackend", "otel")
	"  endpoint: {address: otel-collector.observability, port: 4318,\n"
	"             path: /otlp}\n"
	"  protocol: http\n"
	"  env: {mode: Required, precedence: ExplicitFirst}\n"
	"---\n" KH_DOC("MeshTLS", "tls")
	"  targetRef: {kind: Mesh}\n"
	"  rules:\n"
	"    - default:\n"
	"        tlsVersion: {min: TLS12, max: TLSAuto}\n"
	"        tlsCiphers: [ECDHE-ECDSA-AES256-GCM-SHA384]\n"
	"        mode: Strict\n"
	"---\n" KH_DOC("MeshPassthrough", "egress")
	"  targetRef: {kind: Mesh}\n"
	"  default:\n"
	"    passthroughMode: Matched\n"
	"    appendMatch:\n"
	"      - {type: Domain, value: api.example.com, port: 443,\n"
	"         protocol: tls}\n"
	"      - {type: CIDR, value: 192.168.0.0/16}\n"
	"---\n" KH_DOC("MeshService", "redis")
	"  state: Available\n"
	"  selector: {dataplaneLabels: {matchLabels: {app: redis}}}\n"
	"  ports: [{name: main, port: 6379, targetPort: 6379, "
	"appProtocol: tcp}]\n"
	"  identities:\n"
	"    - {type: SpiffeID, value: \"spiffe://mesh.local/ns/db/sa/redis\"}\n"
	"---\n" KH_DOC("MeshIdentity", "identity")
	"  selector: {dataplane: {matchLabels: {app: web}}}\n"
	"  spiffeID: {trustDomain: \"{{ .Mesh }}.mesh.local\",\n"
	"             path: \"/ns/{{ .Namespace }}/sa/{{ .ServiceAccount }}\"}\n"
	"  provider:\n"
	"    type: Bundled\n"
	"    bundled:\n"
	"      meshTrustCreation: Enabled\n"
	"      ca:\n"
	"        certificate: {type: File, file: {path: /etc/ca/cert.pem}}\n"
	"        privateKey: {type: Secret, secretRef: {kind: Secret, "
	"name: ca-key}}\n"
	"      certificateParameters: {expiry: 24h}\n"
	"---\n" KH_DOC("MeshTrust", "trust")
	"  trustDomain: mesh.local\n"
	"  caBundles:\n"
	"    - type: Pem\n"
	"      pem:\n"
	"        value: |\n"
	"          -----BEGIN CERTIFICATE-----\n"
	"          MIIBsTCCAVegAwIBAgIUN/7eAFfaErzb412g7KCNfa8mFH4wCgYIKoZIzj0E\n"
	"          -----END CERTIFICATE-----\n"
	"---\n" KH_DOC("MeshExternalService", "httpbin")
	"  match: {port: 443, protocol: http}\n"
	"  endpoints: [{address: httpbin.org, port: 443, priority: 1}]\n"
	"  tls:\n"
	"    enabled: true\n"
	"    version: {min: TLS12}\n"
	"    verification:\n"
	"      serverName: httpbin.org\n"
	"      subjectAltNames: [{type: Prefix, value: httpbin}]\n"
	"      caCert: {type: Secret, secretRef: {kind: Secret, name: ca}}\n"
	"      clientCert: {secret: client-cert}\n"
	"      clientKey: {secret: client-key}\n"
	"---\n" KH_DOC("MeshMultiZoneService", "backend")
	"  selector: {meshService: {matchLabels: {app: backend}}}\n"
	"  ports: [{name: http, port: 8080, appProtocol: http}]\n"
	"---\n" KH_DOC("Dataplane", "backend-1")
	"  networking:\n"
	"    address: 10.78.0.10\n"
	"    inbound:\n"
	"      - {port: 8080, servicePort: 7777, name: http,\n"
	"         tags: {kuma.io/service: backend}}\n"
	"      - {port: 8081, name: admin,\n"
	"         serviceAddress: '2001:db8:85a3:0:0:8a2e:370:7334'}\n"
	"    outbound:\n"
	"      - port: 3333\n"
	"        backendRef: {kind: MeshService, name: redis, port: 6379}\n"
	"    transparentProxying: {redirectPortInbound: 15006,\n"
	"                          redirectPortOutbound: 15001}\n"
	"    listeners: [{type: ZoneIngress, address: 10.78.0.10,\n"
	"                 port: 10001}]\n";

/* Parses, validates and compiles @yaml; diagnostics go to @d. */
static int build_d(const char *yaml, struct model_set *set,
		   struct rec_set *rs, struct diag *d)
{
	int err;

	model_set_init(set);
	rec_set_init(rs);
	err = doc_parse_buffer(set, "p.yaml", yaml, strlen(yaml), d);
	if (!err)
		err = validate_set(set, d);
	if (!err)
		err = compile_set(set, NULL, rs, d);
	return err;
}

static bool build(const char *yaml, struct model_set *set, struct rec_set *rs)
{
	struct diag d;
	bool ok;

	diag_init(&d);
	ok = ASSERT_EQ(build_d(yaml, set, rs, &d), 0);
	if (!ok)
		kh_print_diag(&d);
	diag_free(&d);
	return ok;
}

/* @a then @b, malloc'd; out of memory ends the test. */
static char *concat(const char *a, const char *b)
{
	char *s = malloc(strlen(a) + strlen(b) + 1);

	if (!s)
		abort();
	strcpy(s, a);
	return strcat(s, b);
}

static bool test_registry_consistent(void)
{
	bool ok = ASSERT_EQ(kinds_count, MODEL_GEN_COUNT) &&
		  ASSERT_EQ(kinds_count, MF_KIND_MAP_COUNT) &&
		  ASSERT_EQ(REC_MAP_MAX - REC_KIND_FIRST, (int)kinds_count);

	for (size_t k = 0; ok && k < kinds_count; k++) {
		const struct kind_desc *kd = kinds_all[k];
		const struct rec_map_info *mi = rec_map_info(REC_KIND_FIRST + k);

		ok = ASSERT_TRUE(!strncmp(mi->name, "mf_", 3)) &&
		     ASSERT_EQ(mi->val_size, kd->val_size) &&
		     ASSERT_EQ(mi->key_size, sizeof(struct mf_pol_key)) &&
		     /* abi_policy.h: records stay under 4 KiB, but a
		      * MeshHTTPRoute rule's, whose lists need 10, and a
		      * MeshGatewayRoute's, whose 16 rules need 68 */
		     ASSERT_TRUE(kd->val_size <=
				 (kd == &kind_mesh_http_route ? 10 * 1024 :
				  kd == &kind_mesh_gateway_route ? 68 * 1024 :
								   4096)) &&
		     ASSERT_EQ(model_kind_parse(kd->name),
			       (int)(MODEL_GEN_FIRST + k)) &&
		     ASSERT_EQ(input_kind_arg(kd->plural),
			       (int)(MODEL_GEN_FIRST + k)) &&
		     ASSERT_TRUE(kinds_find(kd->name) == kd) &&
		     ASSERT_TRUE(strstr(model_kinds_want(), kd->name));
		if (!ok)
			fprintf(stderr, "  kind %zu %s\n", k, kd->name);
	}
	return ok;
}

/*
 * The whole pipeline there and back for base and @docs: built, decompiled,
 * the objects of the kinds @mask rendered to YAML that (after base, unless
 * @mask is every kind) builds the same records again and renders the same
 * text again.  @check then looks at what was built and decompiled.
 */
static bool round_trip(const char *docs, unsigned mask,
		       bool (*check)(const struct model_set *set,
				     const struct rec_set *rs,
				     const struct model_set *back,
				     const char *y))
{
	char *yaml = concat(base, docs), *again_in = NULL;
	char *y1 = NULL, *y2 = NULL;
	struct model_set set, back, again;
	struct rec_set rs, rs2;
	struct diag d;
	size_t n;
	bool ok;

	/* build() initialises set and rs; the chain may stop before the
	 * rest are filled. */
	model_set_init(&back);
	model_set_init(&again);
	rec_set_init(&rs2);
	diag_init(&d);
	ok = build(yaml, &set, &rs) &&
	     ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ASSERT_TRUE(y1 = ph_render(&back, mask, &n)) &&
	     build(again_in = concat(mask == RENDER_ALL_KINDS ? "" : base, y1),
		   &again, &rs2) &&
	     ASSERT_TRUE(rec_set_equal(&rs, &rs2)) &&
	     ASSERT_TRUE(y2 = ph_render(&again, mask, &n)) &&
	     ASSERT_STREQ(y1, y2) && check(&set, &rs, &back, y1);
	if (!ok) {
		kh_print_diag(&d);
		if (y1)
			fprintf(stderr, "%s", y1);
	}
	free(again_in);
	free(y2);
	free(y1);
	free(yaml);
	diag_free(&d);
	rec_set_free(&rs2);
	rec_set_free(&rs);
	model_set_free(&again);
	model_set_free(&back);
	model_set_free(&set);
	return ok;
}

/* Records of every kind, and the objects they decompile to. */
static bool every_kind_ok(const struct model_set *set, const struct rec_set *rs,
			  const struct model_set *back, const char *y)
{
	(void)y;
	for (size_t k = 0; k < kinds_count; k++) {
		enum rec_map m = REC_KIND_FIRST + k;
		const struct mf_pol_key *key;

		if (!ASSERT_GE(rec_count(rs, m), 1)) {
			fprintf(stderr, "  no records for %s\n",
				kinds_all[k]->name);
			return false;
		}
		key = rec_key(rs, m, 0);
		if (!ASSERT_EQ(key->half, 0) || !ASSERT_TRUE(key->name[0]))
			return false;
	}
	/* MeshHTTPRoute web-split: two rules of one to[] entry; MeshTimeout
	 * mt: one to and one from entry. */
	return ASSERT_EQ(rec_count(rs, REC_KIND_FIRST + 10), 2) &&
	       ASSERT_EQ(rec_count(rs, REC_KIND_FIRST + 0), 2) &&
	       ph_same_objects(set, back);
}

/* The whole pipeline for one object of every kind. */
static bool test_every_kind_round_trip(void)
{
	return round_trip(kinds_yaml, RENDER_ALL_KINDS, every_kind_ok);
}

/* The tag set id of Workload @o. */
#define TAGS(o) (((const struct core_workload *)model_spec(o))->tags)

/* web-1 and web-2 write the same tags in another order: one tag set,
 * whose id is the same in any set that interns it. */
static bool test_workload_tags_shared(void)
{
	struct model_set set, other;
	struct rec_set rs;
	const struct model_obj *w1, *w2, *w3;
	struct mf_tagset ts = {
		.n = 2, .tags = { { "zone", "a" }, { "version", "v1" } },
	};
	bool ok;

	model_set_init(&other);
	ok = build(base, &set, &rs);
	w1 = ok ? model_set_find(&set, MODEL_WORKLOAD, "web-1") : NULL;
	w2 = ok ? model_set_find(&set, MODEL_WORKLOAD, "web-2") : NULL;
	w3 = ok ? model_set_find(&set, MODEL_WORKLOAD, "web-3") : NULL;
	ok = ok && ASSERT_TRUE(w1 && w2 && w3) &&
	     ASSERT_NE(TAGS(w1), 0) && ASSERT_EQ(TAGS(w1), TAGS(w2)) &&
	     ASSERT_NE(TAGS(w1), TAGS(w3)) &&
	     ASSERT_EQ(rec_count(&rs, REC_TAGSETS), 2);
	ok = ok && ASSERT_EQ(model_tags_canon(&ts), 0) &&
	     ASSERT_STREQ(ts.tags[0].key, "version") &&
	     ASSERT_EQ(model_tags_intern(&other, &ts), TAGS(w1));
	rec_set_free(&rs);
	model_set_free(&other);
	model_set_free(&set);
	return ok;
}

static bool test_mesh_mtls(void)
{
	struct model_set set;
	struct rec_set rs;
	const struct mf_config *c = &rs.config;
	bool ok;

	ok = build(base, &set, &rs) &&
	     ASSERT_STREQ(c->mtls_enabled, "ca-1") &&
	     ASSERT_EQ(c->mtls_nbackends, 2) &&
	     ASSERT_EQ(c->mtls[0].type, MF_MTLS_BUILTIN) &&
	     ASSERT_EQ(c->mtls[0].mode, MF_MTLS_PERMISSIVE) &&
	     ASSERT_EQ(c->mtls[0].cert_validity_s, 86400) &&
	     ASSERT_EQ(c->mtls[1].type, MF_MTLS_PROVIDED) &&
	     ASSERT_EQ(c->mtls[1].mode, MF_MTLS_STRICT) &&
	     ASSERT_STREQ(c->mtls[1].cert_file, "/etc/ca.crt") &&
	     ASSERT_STREQ(c->mtls[1].key_file, "/etc/ca.key");
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

/* @yaml (after base) fails with exactly @want among its diagnostics. */
static bool expect_problem(const char *yaml, const char *want)
{
	char *all = concat(base, yaml);
	struct model_set set;
	struct rec_set rs;
	struct diag d;
	bool ok, found = false;

	diag_init(&d);
	ok = ASSERT_TRUE(all) && ASSERT_NE(build_d(all, &set, &rs, &d), 0);
	for (size_t i = 0; i < d.n; i++)
		if (!strcmp(d.msgs[i], want))
			found = true;
	ok = ok && ASSERT_TRUE(found);
	if (!found) {
		fprintf(stderr, "  wanted: %s\n", want);
		kh_print_diag(&d);
	}
	free(all);
	diag_free(&d);
	rec_set_free(&rs);
	model_set_free(&set);
	return ok;
}

static bool test_missing_references(void)
{
	/* base is 52 lines; the document starts at line 53. */
	return expect_problem(
		       "---\n" KH_DOC("MeshTimeout", "t")
		       "  to:\n"
		       "    - targetRef: {kind: MeshService, name: nope}\n"
		       "      default: {idleTimeout: 1s}\n",
		       "p.yaml:59:18: spec.to[0].targetRef.name: no Service "
		       "\"nope\" is defined or applied") &&
	       expect_problem(
		       "---\n" KH_DOC("MeshTimeout", "t")
		       "  targetRef: {kind: Dataplane, name: web-9}\n"
		       "  from:\n"
		       "    - targetRef: {kind: Mesh}\n"
		       "      default: {idleTimeout: 1s}\n",
		       "p.yaml:58:14: spec.targetRef.name: no Workload "
		       "\"web-9\" is defined or applied");
}

/* MeshTrafficPermission in Kuma's `rules` form, Mesh-wide, with a shadow
 * deny: one rule set per service, flagged so it reads back as written. */
static const char mtp_rules[] =
	"---\n" KH_DOC("MeshTrafficPermission", "all")
	"  targetRef: {kind: Mesh}\n"
	"  rules:\n"
	"    - default:\n"
	"        deny:\n"
	"          - spiffeID: {type: Prefix, value: \"spiffe://mesh.local/ns/batch/\"}\n"
	"        allowWithShadowDeny:\n"
	"          - spiffeID: {type: Exact, value: \"spiffe://mesh.local/ns/default/sa/web\"}\n"
	"        allow:\n"
	"          - spiffeID: {type: Prefix, value: \"spiffe://mesh.local/\"}\n";

static bool mtp_rules_ok(const struct model_set *set, const struct rec_set *rs,
			 const struct model_set *back, const char *y)
{
	const struct model_obj *o = model_set_find(back, MODEL_MTP, "all");
	const struct mf_mtp *r = o ? (const void *)o->pol.recs : NULL;

	/* three rules for each of the two services */
	if (!ASSERT_EQ(rec_count(rs, REC_AUTHZ), 6))
		return false;
	for (size_t i = 0; i < rec_count(rs, REC_AUTHZ); i++) {
		const struct mf_authz_key *k = rec_key(rs, REC_AUTHZ, i);
		const struct mf_authz_rule *a = rec_val(rs, REC_AUTHZ, i);
		/* compile order: allow, deny, then shadow */
		static const uint8_t want[] = { MF_AUTHZ_ALLOW, MF_AUTHZ_DENY,
						MF_AUTHZ_ALLOW_SHADOW_DENY };

		if (!ASSERT_EQ(a->flags,
			       MF_AUTHZ_F_RULES | MF_AUTHZ_F_MESH_TARGET) ||
		    !ASSERT_TRUE(k->index < 3) ||
		    !ASSERT_EQ(a->action, want[k->index]))
			return false;
	}
	return ASSERT_TRUE(o) &&
	       ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH) &&
	       ASSERT_EQ(r->hdr.section, MF_MTP_SEC_RULES) &&
	       ASSERT_EQ(o->pol.n, 3) &&
	       ASSERT_TRUE(model_obj_equal(
		       o, model_set_find(set, MODEL_MTP, "all"))) &&
	       ASSERT_TRUE(strstr(y, "  targetRef:\n    kind: Mesh\n"
				  "  rules:\n    - default:\n"
				  "        allow:\n")) &&
	       ASSERT_TRUE(strstr(y, "        allowWithShadowDeny:\n"));
}

static bool test_mtp_rules_mesh_wide(void)
{
	return round_trip(mtp_rules, 1u << MODEL_MTP, mtp_rules_ok);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_registry_consistent);
	TEST_RUN(test_workload_tags_shared);
	TEST_RUN(test_mesh_mtls);
	TEST_RUN(test_mtp_rules_mesh_wide);
	TEST_RUN(test_every_kind_round_trip);
	TEST_RUN(test_missing_references);
	TEST_MAIN_END();
}
