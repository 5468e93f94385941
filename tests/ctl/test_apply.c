// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl apply` and `mfctl get` against the memory store (no root, no
 * bpffs): records land byte for byte as compiled, the epoch goes up by one per
 * apply, stale records are deleted, invalid input writes nothing, and
 * `get | apply -f -` changes nothing but the epoch.
 */
#include "harness/test.h"
#include "harness/ctl_harness.h"
#include "harness/policy_harness.h"

static const char policy[] =
	PH_MESH
	PH_NODE("mf-node-a", "10.77.0.1")
	PH_NODE("mf-node-b", "10.77.0.2")
	PH_SVC("web", "10.96.0.10", "80")
	PH_WL("b1", "mf-node-b", "10.78.2.11", "8080", "web", "web")
	PH_WL("b2", "mf-node-b", "10.78.2.12", "8080", "web", "web2")
	PH_WEB_ALLOW;

/* Writes @yaml to the temp dir as @name and applies it (--dry-run when
 * @dry_run); it must exit with @rc. */
static bool apply(const char *name, const char *yaml, bool dry_run, int rc)
{
	char path[128];

	return ch_write_file(name, yaml, path, sizeof(path)) &&
	       PH_CMD(rc, "apply", "-f", path, dry_run ? "--dry-run" : NULL);
}

/* `get [@kind] | apply -f -` over the applied state @before (read by the
 * caller): the records stay as they were, the epoch moves by one, and
 * `get` prints the same text again, which is left in ph_out.out. */
static bool get_apply_again(const char *kind, const struct rec_set *before)
{
	struct rec_set after;
	char *y1 = NULL;
	bool ok;

	rec_set_init(&after);
	ok = PH_CMD(CTL_EXIT_OK, "get", kind) &&
	     ASSERT_TRUE((y1 = strdup(ph_out.out)) != NULL) &&
	     apply("get1.yaml", y1, false, CTL_EXIT_OK) &&
	     ch_read(true, &after) &&
	     ASSERT_EQ(after.config.epoch, before->config.epoch + 1) &&
	     ASSERT_TRUE(rec_set_equal(before, &after)) &&
	     PH_CMD(CTL_EXIT_OK, "get", kind) &&
	     ASSERT_EQ(strlen(ph_out.out), strlen(y1)) &&
	     ASSERT_STREQ(ph_out.out, y1);
	free(y1);
	rec_set_free(&after);
	return ok;
}

static bool test_apply_writes_compiled_records(void)
{
	struct rec_set got, want;
	bool ok;

	rec_set_init(&got);
	rec_set_init(&want);
	ok = apply("policy.yaml", policy, false, CTL_EXIT_OK) &&
	     ch_read(true, &got) && rh_compile(policy, NULL, &want) &&
	     ASSERT_EQ(got.config.epoch, 1) &&
	     ASSERT_EQ(rec_count(&got, REC_ENDPOINTS), 2) &&
	     ASSERT_EQ(rec_count(&got, REC_AUTHZ), 2) &&
	     ASSERT_TRUE(rec_set_equal(&got, &want));
	rec_set_free(&want);
	rec_set_free(&got);
	return ok;
}

/* Upsert by name: a moved workload leaves no stale endpoint, its old
 * identity goes, ids of what stays do not change, the epoch goes up. */
static bool test_apply_upserts_and_deletes_stale(void)
{
	static const char update[] =
		PH_WL("b2", "mf-node-a", "10.78.1.12", "8080", "web", "web");
	struct mf_endpoint_key k = { .ip = { 10, 78, 2, 12 } };
	struct mf_endpoint_key moved = { .ip = { 10, 78, 1, 12 } };
	struct rec_set before, after;
	bool ok;

	rec_set_init(&after);
	ok = ch_read(true, &before) &&
	     apply("update.yaml", update, false, CTL_EXIT_OK) &&
	     ch_read(true, &after) &&
	     ASSERT_EQ(after.config.epoch, before.config.epoch + 1) &&
	     ASSERT_EQ(rec_find(&after, REC_ENDPOINTS, &k), -1) &&
	     ASSERT_EQ(rec_count(&after, REC_ENDPOINTS), 2) &&
	     ASSERT_EQ(rec_count(&after, REC_IDENTITIES), 1) &&
	     /* Service, nodes and rules are as they were. */
	     ASSERT_EQ(rec_count(&after, REC_SERVICES), 1) &&
	     ASSERT_MEMEQ(rec_val(&after, REC_SERVICES, 0),
			  rec_val(&before, REC_SERVICES, 0),
			  sizeof(struct mf_service)) &&
	     ASSERT_EQ(rec_count(&after, REC_AUTHZ), 2) &&
	     ASSERT_GE(rec_find(&after, REC_ENDPOINTS, &moved), 0);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* Invalid input and a dry run write nothing, the epoch included. */
static bool test_invalid_and_dry_run_write_nothing(void)
{
	static const char bad[] = PH_SVC("web", "10.96.0.10", "0");
	static const char bad_ref[] =
		PH_WL("b9", "nowhere", "10.78.2.19", "8080", "web", "web");
	static const char good[] = PH_SVC("api", "10.96.0.11", "80");
	struct rec_set before, after;
	bool ok;

	rec_set_init(&after);
	ok = ch_read(true, &before) &&
	     apply("bad.yaml", bad, false, CTL_EXIT_INVALID) &&
	     apply("badref.yaml", bad_ref, false, CTL_EXIT_INVALID) &&
	     apply("good.yaml", good, true, CTL_EXIT_OK) &&
	     PH_CMD(CTL_EXIT_SYSTEM, "apply", "-f", "/nonexistent/x.yaml") &&
	     ch_read(true, &after) &&
	     ASSERT_EQ(after.config.epoch, before.config.epoch) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after));
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* The flags of the mf_services record at @vip:80 in @rs, or ~0u. */
static uint32_t svc_flags(const struct rec_set *rs, const char *vip)
{
	const struct mf_service *s = ph_service_at(rs, vip, 80);

	return s ? s->flags : ~0u;
}

/* A Service's protocol: written http, or left out where its endpoints all
 * say http, the record says HTTP; get prints spec.protocol only where it
 * was written (the get | apply round trip below keeps both).  An unknown
 * protocol is refused and writes nothing. */
static bool test_service_protocol(void)
{
	static const char doc[] =
		RH_DOC("Service", "shop")
		"spec: {vip: 10.96.0.20, port: 80, protocol: http}\n"
		PH_SVC("cart", "10.96.0.30", "80")
		RH_DOC("Workload", "c1")
		"spec: {node: mf-node-b, ip: 10.78.2.31, port: 8080, "
		"service: cart, identity: \"" PH_SA("cart") "\", "
		"tags: {kuma.io/protocol: http}}\n"
		RH_DOC("Workload", "c2")
		"spec: {node: mf-node-b, ip: 10.78.2.32, port: 8080, "
		"service: cart, identity: \"" PH_SA("cart") "\", "
		"tags: {kuma.io/protocol: http}}\n";
	static const char bad[] =
		RH_DOC("Service", "shop")
		"spec: {vip: 10.96.0.20, port: 80, protocol: grpc}\n";
	struct rec_set before, after;
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = apply("protocol.yaml", doc, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) &&
	     ASSERT_EQ(svc_flags(&before, "10.96.0.20"),
		       MF_SERVICE_F_HTTP | MF_SERVICE_F_PROTOCOL_SPEC) &&
	     ASSERT_EQ(svc_flags(&before, "10.96.0.30"), MF_SERVICE_F_HTTP) &&
	     ASSERT_EQ(svc_flags(&before, "10.96.0.10"), 0) &&
	     PH_CMD(CTL_EXIT_OK, "get", "Service", "shop") &&
	     ph_out_has("  port: 80\n  protocol: http\n") &&
	     PH_CMD(CTL_EXIT_OK, "get", "Service", "cart") &&
	     ASSERT_FALSE(strstr(ph_out.out, "protocol")) &&
	     apply("grpc.yaml", bad, false, CTL_EXIT_INVALID) &&
	     ph_err_has(":5:45: spec.protocol: must be tcp or http") &&
	     ch_read(true, &after) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after));
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* `get | apply -f -`: same records, epoch + 1, and get prints the same
 * text again. */
static bool test_get_apply_round_trip(void)
{
	struct rec_set before;
	bool ok;

	ok = ch_read(true, &before) && get_apply_again(NULL, &before) &&
	     ph_out_has("kind: MeshTrafficPermission\n") &&
	     /* One kind only. */
	     PH_CMD(CTL_EXIT_OK, "get", "nodes") &&
	     ph_out_has("kind: Node\n") &&
	     ASSERT_FALSE(strstr(ph_out.out, "kind: Service\n")) &&
	     PH_CMD(CTL_EXIT_INVALID, "get", "Gadget");
	rec_set_free(&before);
	return ok;
}

/* Kuma manifests as users write them (a namespace and annotations, the
 * universal form, the gateway route shorthand) apply, get prints them in
 * the Kubernetes form, and `get | apply -f -` changes nothing. */
static bool test_kuma_manifests_round_trip(void)
{
	static const char kuma[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshTimeout\n"
		"metadata:\n  name: t\n  namespace: kuma-system\n"
		"  annotations: {kuma.io/description: slow}\n"
		"spec:\n  to: [{targetRef: {kind: Mesh}, "
		"default: {idleTimeout: 5s}}]\n"
		"---\ntype: TrafficRoute\nname: route-all\nmesh: default\n"
		"sources: [{match: {kuma.io/service: '*'}}]\n"
		"destinations: [{match: {kuma.io/service: '*'}}]\n"
		"conf: {destination: {kuma.io/service: '*'}}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGatewayRoute\n"
		"metadata: {name: edge}\nspec:\n"
		"  selectors: [{match: {kuma.io/service: edge}}]\n"
		"  conf:\n    http:\n"
		"      - match: [{path: {match: PREFIX, value: /myapi}}]\n"
		"        destination: [{weight: 100, "
		"destination: {kuma.io/service: web}}]\n";
	struct rec_set before, after;
	char *y1 = NULL;
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = apply("kuma.yaml", kuma, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) && PH_CMD(CTL_EXIT_OK, "get") &&
	     ASSERT_TRUE((y1 = strdup(ph_out.out)) != NULL) &&
	     ph_out_has("  name: t\n  namespace: kuma-system\n") &&
	     ph_out_has("  annotations:\n    kuma.io/description: slow\n") &&
	     ph_out_has("  name: route-all\n  labels:\n"
			"    kuma.io/mesh: default\n") &&
	     ph_out_has("    http:\n      rules:\n") &&
	     apply("get2.yaml", y1, false, CTL_EXIT_OK) &&
	     ch_read(true, &after) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after)) &&
	     PH_CMD(CTL_EXIT_OK, "get") && ASSERT_STREQ(ph_out.out, y1);
	free(y1);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* @n bytes of @c, the first one '/' when @slash, to @f. */
static void run_of(FILE *f, bool slash, char c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fputc(i == 0 && slash ? '/' : c, f);
}

/* A header modifier's @key list of MF_HEADERS_MAX headers, as get prints
 * it. */
static void header_list(FILE *f, const char *key)
{
	fprintf(f, "                  %s:\n", key);
	for (int i = 0; i < MF_HEADERS_MAX; i++)
		fprintf(f, "                    - name: x-%s%d\n"
			"                      value: %s%d\n", key, i, key, i);
}

/*
 * A MeshHTTPRoute to web that fills a rule, as `get meshhttproutes`
 * prints it: 8 matches, the first with a 1 KiB path, 16 headers (the
 * first one's value 1 KiB) and 16 query parameters; a request header
 * modifier of 16 set, add and remove.  @matches and @path (bytes) change
 * the first two.  Malloc'd; the caller frees it.
 */
static char *big_route(int matches, size_t path)
{
	char *doc = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&doc, &len);

	if (!f)
		abort();
	fputs("---\napiVersion: meshforge.io/v1alpha1\nkind: MeshHTTPRoute\n"
	      "metadata:\n  name: big\nspec:\n  targetRef:\n    kind: Mesh\n"
	      "  to:\n    - targetRef:\n        kind: MeshService\n"
	      "        name: web\n      rules:\n        - matches:\n", f);
	for (int m = 0; m < matches; m++) {
		fputs("            - path:\n                type: PathPrefix\n"
		      "                value: ", f);
		if (m)
			fprintf(f, "/m%d\n", m);
		else
			run_of(f, true, 'p', path);
		if (m)
			continue;
		fputs("\n              headers:\n", f);
		for (int h = 0; h < MF_ROUTE_KV_MAX; h++) {
			fprintf(f, "                - type: Exact\n"
				"                  name: x-h%d\n"
				"                  value: ", h);
			if (h)
				fprintf(f, "v%d", h);
			else
				run_of(f, false, 'v', MF_STRING_MAX);
			fputc('\n', f);
		}
		fputs("              queryParams:\n", f);
		for (int q = 0; q < MF_ROUTE_KV_MAX; q++)
			fprintf(f, "                - type: Exact\n"
				"                  name: q%d\n"
				"                  value: v%d\n", q, q);
	}
	fputs("          default:\n            filters:\n"
	      "              - type: RequestHeaderModifier\n"
	      "                requestHeaderModifier:\n", f);
	header_list(f, "set");
	header_list(f, "add");
	fputs("                  remove:\n", f);
	for (int i = 0; i < MF_HEADERS_MAX; i++)
		fprintf(f, "                    - x-remove%d\n", i);
	fputs("            backendRefs:\n              - kind: MeshService\n"
	      "                name: web\n", f);
	fclose(f);
	return doc;
}

/* A MeshHTTPRoute that fills a rule applies, its strings go to
 * mf_strings, and get prints it back exactly as written; one more match,
 * or a path of one byte more, is refused with where and why, and writes
 * nothing. */
static bool test_big_route_round_trip(void)
{
	char *doc = big_route(MF_ROUTE_MATCHES_MAX, MF_STRING_MAX);
	char *more = big_route(MF_ROUTE_MATCHES_MAX + 1, MF_STRING_MAX);
	char *longer = big_route(MF_ROUTE_MATCHES_MAX, MF_STRING_MAX + 1);
	struct rec_set before, after;
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = apply("big.yaml", doc, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) &&
	     ASSERT_EQ(rec_count(&before, REC_HTTP_ROUTES), 1) &&
	     /* Each string once: 8 paths, 16 header names, 16 header
	      * values (v1..v15 shared with the query values), 16 query
	      * names, v0, 16 set and 16 add names and values, 16 remove
	      * names; and the path /myapi of the MeshGatewayRoute
	      * test_kuma_manifests_round_trip() applied. */
	     ASSERT_EQ(rec_count(&before, REC_STRINGS), 138) &&
	     PH_CMD(CTL_EXIT_OK, "get", "meshhttproutes") &&
	     ASSERT_STREQ(ph_out.out, doc) &&
	     apply("more.yaml", more, false, CTL_EXIT_INVALID) &&
	     ph_err_has("more.yaml:15:13: spec.to[0].rules[0].matches: must "
			"have at most 8 entries") &&
	     apply("longer.yaml", longer, false, CTL_EXIT_INVALID) &&
	     ph_err_has("longer.yaml:17:24: spec.to[0].rules[0].matches[0]."
			"path.value: must be at most 1024 characters") &&
	     ch_read(true, &after) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after));
	free(longer);
	free(more);
	free(doc);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* A MeshAccessLog whose openTelemetry body is an OTLP AnyValue: it
 * applies, its body goes to mf_strings, get prints it back as the mapping
 * it was (YAML and JSON), and `get | apply -f -` changes nothing; a body
 * that is not an AnyValue is refused with where and why, and writes
 * nothing. */
static bool test_otel_body_round_trip(void)
{
	static const char mal[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\n"
		"metadata: {name: web-otel}\n"
		"spec:\n"
		"  targetRef: {kind: Mesh}\n"
		"  from:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default:\n"
		"        backends:\n"
		"          - openTelemetry:\n"
		"              endpoint: otel:4317\n"
		"              body:\n"
		"                kvlistValue:\n"
		"                  values:\n"
		"                    - key: mesh\n"
		"                      value: {stringValue: '%KUMA_MESH%'}\n"
		"                    - key: codes\n"
		"                      value:\n"
		"                        arrayValue:\n"
		"                          values:\n"
		"                            - {intValue: 7}\n"
		"                            - {doubleValue: 2.5}\n"
		"                            - {boolValue: false}\n"
		"                            - {bytesValue: aGk=}\n";
	static const char bad[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\n"
		"metadata: {name: web-otel}\n"
		"spec:\n"
		"  targetRef: {kind: Mesh}\n"
		"  from:\n"
		"    - targetRef: {kind: Mesh}\n"
		"      default:\n"
		"        backends:\n"
		"          - openTelemetry:\n"
		"              endpoint: otel:4317\n"
		"              body: {kvlistValue: {values: [{key: a, "
		"value: {stringValue: x, intValue: 1}}]}}\n";
	struct rec_set before, last;
	bool ok;

	rec_set_init(&before);
	rec_set_init(&last);
	ok = apply("mal.yaml", mal, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) &&
	     get_apply_again("meshaccesslogs", &before) &&
	     ph_out_has("              body:\n"
			"                kvlistValue:\n"
			"                  values:\n"
			"                    - key: mesh\n"
			"                      value:\n"
			"                        stringValue: "
			"\"%KUMA_MESH%\"\n") &&
	     ph_out_has("                            - intValue: 7\n"
			"                            - doubleValue: 2.5\n"
			"                            - boolValue: false\n"
			"                            - bytesValue: \"aGk=\"\n") &&
	     PH_CMD(CTL_EXIT_OK, "get", "meshaccesslogs", "-o", "json") &&
	     ph_out_has("\"body\": {\"kvlistValue\": {\"values\": "
			"[{\"key\": \"mesh\", \"value\": {\"stringValue\": "
			"\"%KUMA_MESH%\"}}, {\"key\": \"codes\", \"value\": "
			"{\"arrayValue\": {\"values\": [{\"intValue\": 7}, "
			"{\"doubleValue\": 2.5}, {\"boolValue\": false}, "
			"{\"bytesValue\": \"aGk=\"}]}}}]}}") &&
	     apply("bad.yaml", bad, false, CTL_EXIT_INVALID) &&
	     ph_err_has("bad.yaml:12:61: spec.from[0].default.backends[0]."
			"openTelemetry.body.kvlistValue.values[0].value: must "
			"have exactly one of stringValue, boolValue, intValue, "
			"doubleValue, bytesValue, arrayValue, kvlistValue") &&
	     ch_read(true, &last) &&
	     ASSERT_EQ(last.config.epoch, before.config.epoch + 1);
	rec_set_free(&last);
	rec_set_free(&before);
	return ok;
}

/* A MeshIdentity of type Extension with Kuma's config (any JSON value):
 * it applies, the value goes to mf_strings, get prints it back as the YAML
 * it was (and as JSON), and `get | apply -f -` changes nothing; a config
 * with a YAML tag is refused with where, and writes nothing. */
static bool test_mesh_identity_config_round_trip(void)
{
	static const char mid[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: ext-id}\n"
		"spec:\n"
		"  provider:\n"
		"    type: Extension\n"
		"    extension:\n"
		"      name: my-custom-provider\n"
		"      config:\n"
		"        key: value\n"
		"        nested: {setting: true, ttl: 1.5, n: null}\n"
		"        \"list of\": [1, \"2\", [], {}]\n";
	static const char bad[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"
		"metadata: {name: ext-id}\n"
		"spec:\n"
		"  provider:\n"
		"    type: Extension\n"
		"    extension: {name: x, config: {a: !!binary aGk=}}\n";
	struct rec_set before, last;
	bool ok;

	rec_set_init(&before);
	rec_set_init(&last);
	ok = apply("mid.yaml", mid, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) &&
	     get_apply_again("meshidentities", &before) &&
	     ph_out_has("      name: my-custom-provider\n"
			"      config:\n"
			"        key: value\n"
			"        nested:\n"
			"          setting: true\n"
			"          ttl: 1.5\n"
			/* YAML 1.1's "n" is a bool: quoted. */
			"          \"n\": null\n"
			"        \"list of\":\n"
			"          - 1\n"
			"          - \"2\"\n"
			"          - []\n"
			"          - {}\n") &&
	     PH_CMD(CTL_EXIT_OK, "get", "meshidentities", "-o", "json") &&
	     ph_out_has("\"config\": {\"key\": \"value\", \"nested\": "
			"{\"setting\": true, \"ttl\": 1.5, \"n\": null}, "
			"\"list of\": [1, \"2\", [], {}]}") &&
	     apply("bad.yaml", bad, false, CTL_EXIT_INVALID) &&
	     ph_err_has("bad.yaml:7:38: spec.provider.extension.config.a: "
			"must not have a YAML tag: a JSON value has none") &&
	     /* Refused: the state of the round trip stays. */
	     ch_read(true, &last) &&
	     ASSERT_EQ(last.config.epoch, before.config.epoch + 1) &&
	     ASSERT_TRUE(rec_set_equal(&before, &last));
	rec_set_free(&last);
	rec_set_free(&before);
	return ok;
}

/* Bodies one at a time, as `apply` takes them: each valid one applies and
 * `get` prints it as the table says (a stringValue alone as the string
 * it is, proto names as JSON ones, an int quoted or not as a number);
 * each invalid one exits with its diagnostic and writes nothing. */
static bool test_otel_body_table(void)
{
	static const struct {
		const char *body;	/* written after "body: " */
		int rc;
		const char *out;	/* get prints "body:<out>"; or the
					 * error, after "b.yaml:" */
	} rows[] = {
		{ "'%KUMA_MESH% %RESPONSE_CODE%'", CTL_EXIT_OK,
		  " \"%KUMA_MESH% %RESPONSE_CODE%\"\n" },
		{ "{stringValue: '%KUMA_MESH%'}", CTL_EXIT_OK,
		  " \"%KUMA_MESH%\"\n" },
		{ "{int_value: '-12'}", CTL_EXIT_OK,
		  "\n                intValue: -12\n" },
		{ "{arrayValue: {values: [{doubleValue: 1e3}]}}", CTL_EXIT_OK,
		  "\n                arrayValue:\n"
		  "                  values:\n"
		  "                    - doubleValue: 1000\n" },
		{ "{kvlistValue: {}}", CTL_EXIT_OK,
		  "\n                kvlistValue:\n"
		  "                  values: []\n" },
		{ "{boolValue: yes}", CTL_EXIT_INVALID,
		  "12:33: spec.from[0].default.backends[0].openTelemetry.body."
		  "boolValue: must be true or false" },
		{ "{kvlistValue: {values: [{key: a, value: x}]}}",
		  CTL_EXIT_INVALID,
		  "12:61: spec.from[0].default.backends[0].openTelemetry.body."
		  "kvlistValue.values[0].value: must be a mapping with one of "
		  "stringValue, boolValue, intValue, doubleValue, bytesValue, "
		  "arrayValue, kvlistValue, not a scalar" },
		{ "[a, b]", CTL_EXIT_INVALID,
		  "12:21: spec.from[0].default.backends[0].openTelemetry.body: "
		  "must be a mapping with one of stringValue, boolValue, "
		  "intValue, doubleValue, bytesValue, arrayValue, kvlistValue, "
		  "not a list" },
	};
	struct rec_set before, after;
	char yaml[1024], want[512];
	bool ok = true;

	rec_set_init(&before);
	rec_set_init(&after);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) && ok; i++) {
		snprintf(yaml, sizeof(yaml),
			 "apiVersion: kuma.io/v1alpha1\nkind: MeshAccessLog\n"
			 "metadata: {name: web-otel-%zu}\n"
			 "spec:\n"
			 "  targetRef: {kind: Mesh}\n"
			 "  from:\n"
			 "    - targetRef: {kind: Mesh}\n"
			 "      default:\n"
			 "        backends:\n"
			 "          - openTelemetry:\n"
			 "              endpoint: otel:4317\n"
			 "              body: %s\n", i, rows[i].body);
		rec_set_free(&before);
		rec_set_init(&before);
		ok = ch_read(true, &before) &&
		     apply("b.yaml", yaml, false, rows[i].rc);
		if (ok && rows[i].rc == CTL_EXIT_OK) {
			snprintf(want, sizeof(want), "name: web-otel-%zu\n", i);
			ok = PH_CMD(CTL_EXIT_OK, "get", "meshaccesslogs") &&
			     ph_out_has(want);
			snprintf(want, sizeof(want), "              body:%s",
				 rows[i].out);
			ok = ok && ph_out_has(want);
		} else if (ok) {
			snprintf(want, sizeof(want), "b.yaml:%s", rows[i].out);
			rec_set_free(&after);
			rec_set_init(&after);
			ok = ph_err_has(want) && ch_read(true, &after) &&
			     ASSERT_TRUE(rec_set_equal(&before, &after));
		}
		if (!ok)
			fprintf(stderr, "  row %zu: body: %s\n", i, rows[i].body);
	}
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* Nothing pinned: get prints an empty policy and succeeds. */
/*
 * --kuma: a MeshService named as Kuma 2.14 took it (`api.v1`) is applied
 * by default and with --kuma 2.14; with --kuma 3.0 apply, diff and delete
 * refuse it as Kuma 3.0 does (its names are RFC 1035 labels), saying so at
 * its position, and write nothing; any other version is refused.
 */
static bool test_apply_kuma_version(void)
{
	static const char msvc[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshService\n"
		"metadata: {name: api.v1}\nspec:\n"
		"  selector: {dataplaneTags: {app: api}}\n"
		"  ports: [{port: 80, targetPort: 8080, appProtocol: http}]\n";
	char path[128];
	__u64 epoch = ph_epoch();

	return ch_write_file("msvc.yaml", msvc, path, sizeof(path)) &&
	       PH_CMD(CTL_EXIT_OK, "apply", "-f", path, "--dry-run") &&
	       PH_CMD(CTL_EXIT_OK, "apply", "-f", path, "--dry-run", "--kuma",
		      "2.14") &&
	       PH_CMD(CTL_EXIT_INVALID, "apply", "-f", path, "--kuma", "3.0") &&
	       ph_err_has("msvc.yaml:3:18: metadata.name: must be an RFC 1035 "
			  "label for a MeshService (a-z, 0-9 and '-', "
			  "starting with a letter, no dots) (Kuma 3.0; mfctl "
			  "takes it without --kuma 3.0)") &&
	       ph_err_has("1 problem found; nothing applied") &&
	       PH_CMD(CTL_EXIT_INVALID, "diff", "-f", path, "--kuma", "3.0") &&
	       ph_err_has("metadata.name: must be an RFC 1035 label") &&
	       PH_CMD(CTL_EXIT_INVALID, "delete", "-f", path, "--kuma", "3.0") &&
	       ph_err_has("metadata.name: must be an RFC 1035 label") &&
	       PH_CMD(CTL_EXIT_INVALID, "apply", "-f", path, "--kuma", "3") &&
	       ph_err_has("mfctl: --kuma must be 2.14 or 3.0, not \"3\"; "
			  "nothing applied") &&
	       ASSERT_EQ(ph_epoch(), epoch);
}

/*
 * --validate: a MeshCircuitBreaker with a field its kind lacks (Kuma's
 * `detectors.healthyPanicThreshold`, which belongs one level up) is refused
 * by default and with strict, nothing written; warn applies it, says where
 * the field was dropped, and `get` prints the policy without it; ignore
 * applies it without a word; any other value is refused.  A null written
 * where a mapping goes is refused in every mode.
 */
static bool test_apply_validate(void)
{
	static const char mcb[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshCircuitBreaker\n"
		"metadata: {name: cb}\nspec:\n"
		"  targetRef: {kind: Mesh}\n"
		"  to:\n"
		"  - targetRef: {kind: Mesh}\n"
		"    default:\n"
		"      outlierDetection:\n"
		"        detectors:\n"
		"          healthyPanicThreshold: 50\n"
		"          totalFailures: {consecutive: 5}\n";
	static const char nul[] =
		"apiVersion: kuma.io/v1alpha1\nkind: MeshCircuitBreaker\n"
		"metadata: {name: cb2}\nspec:\n"
		"  targetRef: {kind: Mesh}\n"
		"  to:\n"
		"  - targetRef: {kind: Mesh}\n"
		"    default:\n"
		"      outlierDetection:\n"
		"      detectors: {totalFailures: {consecutive: 5}}\n";
	static const char dropped[] =
		"mcb.yaml:11:11: spec.to[0].default.outlierDetection.detectors."
		"healthyPanicThreshold: unknown field, dropped (--validate warn)";
	char path[128], npath[128];
	__u64 epoch = ph_epoch();
	bool ok;

	ok = ch_write_file("mcb.yaml", mcb, path, sizeof(path)) &&
	     ch_write_file("null.yaml", nul, npath, sizeof(npath)) &&
	     PH_CMD(CTL_EXIT_INVALID, "apply", "-f", path) &&
	     ph_err_has("mcb.yaml:11:11: spec.to[0].default.outlierDetection."
			"detectors.healthyPanicThreshold: unknown field\n") &&
	     PH_CMD(CTL_EXIT_INVALID, "apply", "-f", path, "--validate",
		    "strict") &&
	     ph_err_has("healthyPanicThreshold: unknown field\n") &&
	     ASSERT_EQ(ph_epoch(), epoch) &&
	     PH_CMD(CTL_EXIT_INVALID, "apply", "-f", path, "--validate",
		    "loose") &&
	     ph_err_has("mfctl: --validate must be strict, warn or ignore, "
			"not \"loose\"; nothing applied") &&
	     /* diff exits 3 (changes), and warns as apply does. */
	     PH_CMD(CTL_EXIT_CHANGES, "diff", "-f", path, "--validate",
			  "warn") &&
	     ph_err_has(dropped) &&
	     PH_CMD(CTL_EXIT_OK, "apply", "-f", path, "--validate", "warn") &&
	     ph_err_has(dropped) &&
	     ASSERT_EQ(ph_epoch(), epoch + 1) &&
	     PH_CMD(CTL_EXIT_OK, "get", "meshcircuitbreakers", "cb") &&
	     ph_out_has("totalFailures:") &&
	     ASSERT_TRUE(!strstr(ph_out.out, "healthyPanicThreshold")) &&
	     PH_CMD(CTL_EXIT_OK, "apply", "-f", path, "--validate",
		    "ignore") &&
	     ASSERT_EQ(strlen(ph_out.err), 0);
	for (int i = 0; ok && i < 3; i++) {
		static const char *const modes[] = { "strict", "warn",
						     "ignore" };

		ok = PH_CMD(CTL_EXIT_INVALID, "apply", "-f", npath,
			    "--validate", modes[i]) &&
		     ph_err_has("null.yaml:9:7: spec.to[0].default."
				"outlierDetection: is null: leave it out, or "
				"write {} for none");
	}
	return ok;
}

static bool test_get_nothing_applied(void)
{
	struct ctl_opts o = ch_opts(false);
	char missing[96];

	snprintf(missing, sizeof(missing), "%s-missing", ch_root);
	o.bpf_root = missing;
	return ph_cmd(o, CTL_EXIT_OK, "get", (char *)NULL) &&
	       ASSERT_EQ(strlen(ph_out.out), 0) &&
	       ASSERT_FALSE(fsio_exists(missing));
}

/* The Mesh's egress fields and a MeshExternalService print back, and
 * `get | apply -f -` keeps their records, the allocated VIP included. */
static bool test_egress_round_trip(void)
{
	static const char doc[] =
		RH_DOC("Mesh", "default")
		"spec:\n  trustDomain: mesh.local\n"
		"  meshExternalServices: {vipRange: 10.201.0.0/24}\n"
		"  routing: {defaultForbidMeshExternalServiceAccess: true}\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshExternalService\n"
		"metadata: {name: ext}\nspec:\n"
		"  match: {type: HostnameGenerator, port: 443, protocol: http}\n"
		"  endpoints: [{address: api.example.test, port: 443}]\n"
		"  tls: {enabled: true, verification: {mode: SkipSAN}}\n";
	struct rec_set before, after;
	char *y1 = NULL;
	bool ok;

	rec_set_init(&before);
	rec_set_init(&after);
	ok = apply("egress.yaml", doc, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) &&
	     ASSERT_TRUE(before.config.flags & MF_CONFIG_F_FORBID_MES) &&
	     PH_CMD(CTL_EXIT_OK, "get") &&
	     ph_out_has("defaultForbidMeshExternalServiceAccess: true") &&
	     ph_out_has("vipRange: 10.201.0.0/24") &&
	     ph_out_has("kind: MeshExternalService\n") &&
	     ASSERT_TRUE((y1 = strdup(ph_out.out)) != NULL) &&
	     apply("egress2.yaml", y1, false, CTL_EXIT_OK) &&
	     ch_read(true, &after) &&
	     ASSERT_TRUE(rec_set_equal(&before, &after));
	free(y1);
	rec_set_free(&after);
	rec_set_free(&before);
	return ok;
}

/* Kuma's Mesh fields beyond mTLS go through mf_config: `get` prints
 * them as applied (block for block), and `get | apply -f - ; get` prints
 * the same bytes again over the same records. */
static bool test_kuma_mesh_round_trip(void)
{
	static const char doc[] =
		"apiVersion: kuma.io/v1alpha1\nkind: Mesh\n"
		"metadata: {name: default}\nspec:\n  trustDomain: mesh.local\n"
		"  mtls:\n    enabledBackend: ca-1\n    skipValidation: false\n"
		"    backends:\n      - {name: ca-1, type: builtin,\n"
		"         dpCert: {requestTimeout: 2s}, rootChain: {}}\n"
		"  tracing:\n    backends:\n"
		"      - {name: dd, type: datadog, sampling: 12.5,\n"
		"         conf: {address: dd.local, port: 8126}}\n"
		"  logging:\n    defaultBackend: tcp-1\n"
		"    backends: [{name: tcp-1, type: tcp, "
		"conf: {address: 'logs:5000'}}]\n"
		"  metrics:\n    enabledBackend: prom-1\n"
		"    backends: [{name: prom-1, type: prometheus,\n"
		"                conf: {port: 5670, path: /metrics, "
		"tags: {team: a}}}]\n"
		"  networking: {outbound: {passthrough: true}}\n"
		"  routing: {zoneEgress: false}\n"
		"  constraints:\n    dataplaneProxy:\n"
		"      restrictions: [{tags: {team: '*'}}]\n"
		"  skipCreatingInitialPolicies: [MeshTimeout, MeshRetry]\n"
		"  meshServices: {mode: Everywhere}\n";
	static const char *const want[] = {
		"    skipValidation: false\n",
		"        dpCert:\n          requestTimeout: 2s\n"
		"        rootChain: {}\n",
		"  meshServices:\n    mode: Everywhere\n",
		"  routing:\n    zoneEgress: false\n",
		"  tracing:\n    backends:\n      - name: dd\n"
		"        sampling: 12.5\n        type: datadog\n"
		"        conf:\n          address: dd.local\n"
		"          port: 8126\n",
		"  logging:\n    defaultBackend: tcp-1\n    backends:\n"
		"      - name: tcp-1\n        type: tcp\n        conf:\n"
		"          address: \"logs:5000\"\n",
		"  metrics:\n    enabledBackend: prom-1\n    backends:\n"
		"      - name: prom-1\n        type: prometheus\n"
		"        conf:\n          port: 5670\n          path: /metrics\n"
		"          tags:\n            team: a\n",
		"  networking:\n    outbound:\n      passthrough: true\n",
		"  constraints:\n    dataplaneProxy:\n      restrictions:\n"
		"        - tags:\n            team: \"*\"\n",
		"  skipCreatingInitialPolicies:\n    - MeshTimeout\n"
		"    - MeshRetry\n",
	};
	struct rec_set before;
	bool ok;

	rec_set_init(&before);
	ok = apply("kmesh.yaml", doc, false, CTL_EXIT_OK) &&
	     ch_read(true, &before) &&
	     ASSERT_STREQ(before.config.kuma.metrics.backends[0].name,
			  "prom-1") &&
	     PH_CMD(CTL_EXIT_OK, "get");
	for (size_t i = 0; ok && i < sizeof(want) / sizeof(want[0]); i++)
		ok = ph_out_has(want[i]);
	ok = ok && get_apply_again(NULL, &before);
	rec_set_free(&before);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (ch_setup("/sys/fs/bpf/mf-test-ctl", "/tmp/mf-test-ctl-apply.XXXXXX"))
		return 1;
	TEST_RUN(test_apply_writes_compiled_records);
	TEST_RUN(test_apply_upserts_and_deletes_stale);
	TEST_RUN(test_invalid_and_dry_run_write_nothing);
	TEST_RUN(test_service_protocol);
	TEST_RUN(test_get_apply_round_trip);
	TEST_RUN(test_kuma_manifests_round_trip);
	TEST_RUN(test_big_route_round_trip);
	TEST_RUN(test_egress_round_trip);
	TEST_RUN(test_kuma_mesh_round_trip);
	TEST_RUN(test_otel_body_round_trip);
	TEST_RUN(test_otel_body_table);
	TEST_RUN(test_mesh_identity_config_round_trip);
	TEST_RUN(test_apply_kuma_version);
	TEST_RUN(test_apply_validate);
	TEST_RUN(test_get_nothing_applied);
	ch_cleanup();
	TEST_MAIN_END();
}
