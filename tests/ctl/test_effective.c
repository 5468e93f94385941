// SPDX-License-Identifier: Apache-2.0
/*
 * `mfctl effective`: the selection and merge rules of lib/select.c applied
 * to a parsed policy, as a user reads them: which policies select a
 * workload, in which order, and the merged conf per destination; for a
 * builtin gateway instance, the routes each of its listeners takes.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "../../ctl/effective.h"

/* The head of a Kuma-style document of @kind named @name. */
#define KUMA_DOC(kind, name)                                                  \
	"---\napiVersion: kuma.io/v1alpha1\nkind: " kind "\n"               \
	"metadata: {name: " name "}\n"
/* MeshRetry @name: the proxies @target selects try @n times to connect
 * to every destination. */
#define RETRY(name, target, n)                                                \
	KUMA_DOC("MeshRetry", name)                                           \
	"spec:\n  targetRef: " target "\n  to:\n"                             \
	"    - targetRef: {kind: Mesh}\n"                                     \
	"      default: {tcp: {maxConnectAttempt: " n "}}\n"

/* A builtin gateway instance @name on n1, of service @svc. */
#define GW_INSTANCE(name, svc)                                                \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"                \
	"metadata: {name: " name ", labels: {meshforge.io/node: n1}}\n"       \
	"spec:\n  networking:\n    address: 10.77.0.1\n"                      \
	"    gateway: {type: BUILTIN, tags: {kuma.io/service: " svc "}}\n"

static const char policy[] =
	PH_MESH
	PH_NODE("n1", "10.77.0.1")
	PH_SVC("web", "10.96.0.10", "80")
	PH_SVC("api", "10.96.0.11", "80")
	/* c1 says it speaks http, d1 (below) does not: api is tcp. */
	RH_DOC("Workload", "c1")
	"spec: {node: n1, ip: 10.78.1.11, port: 8080, service: api,\n"
	"       identity: \"" PH_SA("api") "\",\n"
	"       tags: {version: v2, kuma.io/protocol: http}}\n"
	RH_DOC("Workload", "c2")
	"spec: {node: n1, ip: 10.78.1.12, port: 8080, service: api,\n"
	"       identity: \"" PH_SA("api") "\",\n"
	"       tags: {kuma.io/protocol: http}}\n"
	/* The protocol of the other services of their workloads: shop's by
	 * its spec, pay's by its one endpoint's tag, cart's per port. */
	RH_DOC("Service", "shop")
	"spec: {vip: 10.96.0.12, port: 80, protocol: http}\n"
	PH_SVC("pay", "10.96.0.13", "80")
	PH_WL("s1", "n1", "10.78.1.21", "8080", "shop", "shop")
	RH_DOC("Workload", "p1")
	"spec: {node: n1, ip: 10.78.1.22, port: 8080, service: pay,\n"
	"       identity: \"" PH_SA("pay") "\",\n"
	"       tags: {kuma.io/protocol: http}}\n"
	KUMA_DOC("MeshService", "cart")
	"spec:\n  selector: {dataplaneRef: {name: k1}}\n"
	"  ports: [{port: 80, appProtocol: http}, {port: 81}]\n"
	"  identities: [{type: SpiffeID, value: \"" PH_SA("cart-v2") "\"}]\n"
	RH_DOC("Workload", "k1")
	"spec: {node: n1, ip: 10.78.1.23, port: 8080,\n"
	"       identity: \"" PH_SA("cart") "\"}\n"
	/* Mesh-wide: 5s connect, 1h idle, to every destination. */
	KUMA_DOC("MeshTimeout", "mesh-defaults")
	"spec:\n  targetRef: {kind: Mesh}\n  to:\n"
	"    - targetRef: {kind: Mesh}\n"
	"      default: {connectionTimeout: 5s, idleTimeout: 1h}\n"
	/* api's proxies, to web only: 2s connect (overrides), idle kept. */
	KUMA_DOC("MeshTimeout", "api-to-web")
	"spec:\n  targetRef: {kind: MeshService, name: api}\n  to:\n"
	"    - targetRef: {kind: MeshService, name: web}\n"
	"      default: {connectionTimeout: 2s}\n"
	/* v2 workloads (MeshSubset) retry; c2 has no version tag. */
	RETRY("v2-retry", "{kind: MeshSubset, tags: {version: v2}}", "3")
	/* Equal specificity: the name that sorts first is merged last. */
	RETRY("a-retry", "{kind: Dataplane, name: c2}", "7")
	RETRY("b-retry", "{kind: Dataplane, name: c2}", "9")
	/* Inbound rules of the api workloads labelled by display name: one
	 * for every peer, one for a single identity. */
	KUMA_DOC("MeshTimeout", "api-inbound")
	"spec:\n  targetRef: {kind: Dataplane, "
	"labels: {kuma.io/display-name: c1}}\n  rules:\n"
	"    - default: {idleTimeout: 30s}\n"
	"    - matches: [{spiffeID: {type: Exact, value: \"" PH_SA("web")
	"\"}}]\n      default: {http: {requestTimeout: 1s}}\n"
	/* A Kuma Dataplane that is an endpoint of api, its identity from a
	 * MeshIdentity. */
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"
	"metadata: {name: d1, labels: {meshforge.io/node: n1}}\nspec:\n"
	"  networking:\n    address: 10.78.1.13\n"
	"    inbound: [{port: 8080, tags: {kuma.io/service: api}}]\n"
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"
	"metadata: {name: d2}\nspec:\n"
	"  networking:\n    address: 10.78.1.14\n"
	"    inbound: [{port: 8080, tags: {kuma.io/service: api}}]\n"
	KUMA_DOC("MeshIdentity", "dp-id") "spec:\n"
	"  selector: {dataplane: {matchLabels: {kuma.io/display-name: d1}}}\n"
	"  spiffeID: {trustDomain: mesh.local, path: \"/dp/{{ .Workload }}\"}\n"
	/* Two builtin gateway instances: gw1 runs edge, whose alt listener
	 * a MeshHTTPRoute is attached to (so MeshHTTPRoutes route all its
	 * HTTP listeners) and whose TCP listener MeshGatewayRoutes route;
	 * gw2 runs plain, the other way round. */
	GW_INSTANCE("gw1", "edge") GW_INSTANCE("gw2", "plain")
	KUMA_DOC("MeshGateway", "edge") "spec:\n"
	"  selectors: [{match: {kuma.io/service: edge}}]\n"
	"  conf:\n    listeners:\n"
	"      - {port: 8080, protocol: HTTP, hostname: '*.example.com'}\n"
	"      - {port: 8081, protocol: HTTP, tags: {port: alt}}\n"
	"      - {port: 9000, protocol: TCP}\n"
	KUMA_DOC("MeshGateway", "plain") "spec:\n"
	"  selectors: [{match: {kuma.io/service: plain}}]\n"
	"  conf:\n    listeners:\n"
	"      - {port: 7000, protocol: HTTP}\n"
	"      - {port: 7001, protocol: TCP}\n"
	KUMA_DOC("MeshGatewayRoute", "legacy-http") "spec:\n"
	"  selectors: [{match: {kuma.io/service: edge}},"
	" {match: {kuma.io/service: plain}}]\n"
	"  conf:\n    http:\n      rules:\n"
	"        - matches: [{path: {match: PREFIX, value: /}}]\n"
	"          backends: [{destination: {kuma.io/service: web}}]\n"
	KUMA_DOC("MeshGatewayRoute", "legacy-tcp") "spec:\n"
	"  selectors: [{match: {kuma.io/service: edge}},"
	" {match: {kuma.io/service: plain}}]\n"
	"  conf:\n    tcp:\n      rules:\n"
	"        - backends: [{destination: {kuma.io/service: web}}]\n"
	KUMA_DOC("MeshHTTPRoute", "alt-http") "spec:\n"
	"  targetRef: {kind: MeshGateway, name: edge, tags: {port: alt}}\n"
	"  to:\n    - targetRef: {kind: Mesh}\n      rules:\n"
	"        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
	"          default: {backendRefs: [{kind: MeshService, name: web}]}\n"
	"        - matches: [{path: {type: PathPrefix, value: /b}}]\n"
	"          default: {backendRefs: [{kind: MeshService, name: api}]}\n"
	KUMA_DOC("MeshTCPRoute", "plain-tcp") "spec:\n"
	"  targetRef: {kind: MeshGateway, name: plain}\n"
	"  to:\n    - targetRef: {kind: Mesh}\n      rules:\n"
	"        - default: {backendRefs: [{kind: MeshService, name: api}]}\n";

/* What `mfctl effective @workload` (--from @from unless NULL) prints for
 * policy, its error in *@err; a malloc'd string, or NULL. */
static char *effective(const char *workload, const char *from, int *err)
{
	struct model_set set;
	struct diag d;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	model_set_init(&set);
	diag_init(&d);
	*err = doc_parse_buffer(&set, "p.yaml", policy, strlen(policy), &d);
	if (!*err)
		*err = validate_set(&set, &d);
	diag_print(&d, stderr);
	if (!*err && f)
		*err = effective_print(f, &set, workload, from);
	if (f)
		fclose(f);
	diag_free(&d);
	model_set_free(&set);
	return out;
}

/* What `mfctl effective @workload` prints holds every line of @want
 * (NULL-terminated) and nothing naming @absent (unless NULL). */
static bool prints(const char *workload, const char *absent,
		   const char *const *want)
{
	int err;
	char *out = effective(workload, NULL, &err);
	bool ok = ASSERT_EQ(err, 0) && ASSERT_TRUE(out) &&
		  (!absent || ASSERT_TRUE(!strstr(out, absent)));

	for (size_t i = 0; ok && want[i]; i++)
		ok = ASSERT_TRUE(strstr(out, want[i]));
	if (!ok && out)
		fprintf(stderr, "%s", out);
	free(out);
	return ok;
}

static bool test_merge_by_specificity(void)
{
	return prints("c1", NULL, (const char *const[]){
		/* to web: the Mesh-wide one, then api's, which wins 2s */
		"MeshTimeout to web: mesh-defaults, api-to-web "
		"{\"connectionTimeout\": \"2s\", \"idleTimeout\": \"1h\"}\n",
		/* to api: only the Mesh-wide one */
		"MeshTimeout to api: mesh-defaults {\"connectionTimeout\": "
		"\"5s\", \"idleTimeout\": \"1h\"}\n",
		/* c1 carries version: v2 */
		"MeshRetry to web: v2-retry "
		"{\"tcp\": {\"maxConnectAttempt\": 3}}\n",
		/* the rule for every peer; the one for web's identity waits
		 * for a peer */
		"MeshTimeout rules: api-inbound {\"idleTimeout\": \"30s\"}\n",
		NULL });
}

/* c2: not in the v2 subset, nor named by api-inbound's labels; both
 * Dataplane policies select it, and at equal specificity a-retry is
 * merged last: 7. */
static bool test_name_order_and_dataplane(void)
{
	return prints("c2", "v2-retry", (const char *const[]){
		"MeshRetry to web: b-retry, a-retry "
		"{\"tcp\": {\"maxConnectAttempt\": 7}}\n",
		NULL }) &&
	       prints("c2", "api-inbound", (const char *const[]){ NULL });
}

/* A Dataplane that is an endpoint is looked up like a Workload, with its
 * service, node and rendered identity. */
static bool test_dataplane_endpoint(void)
{
	return prints("d1", NULL, (const char *const[]){
		"Dataplane d1 (service api, node n1)\n"
		"  identity spiffe://mesh.local/dp/d1 (MeshIdentity dp-id)\n",
		"MeshTimeout to web: mesh-defaults, api-to-web ",
		NULL });
}

/* The protocol of the endpoint's service: as its spec writes it, as all
 * of its endpoints tag it, tcp when they do not all say http, and per
 * port for a MeshService. */
static bool test_protocol(void)
{
	return prints("s1", NULL, (const char *const[]){
		"Workload s1 (service shop, node n1)\n"
		"  identity " PH_SA("shop") "\n"
		"  protocol http (spec.protocol)\n", NULL }) &&
	       prints("p1", NULL, (const char *const[]){
		"  protocol http (kuma.io/protocol of every endpoint)\n",
		NULL }) &&
	       prints("c1", NULL, (const char *const[]){
		"  protocol tcp\n", NULL }) &&
	       prints("k1", NULL, (const char *const[]){
		"Workload k1 (service cart, node n1)\n",
		"  protocol port 80 http, port 81 tcp (appProtocol)\n",
		NULL });
}

/* An endpoint whose identity its MeshService's identities do not list
 * says so: no client uses it. */
static bool test_identity_unlisted(void)
{
	return prints("k1", NULL, (const char *const[]){
		"  identity " PH_SA("cart") " (not in MeshService cart's "
		"identities: no client uses this endpoint)\n", NULL });
}

/* A gateway instance: its MeshGateway and each listener's routes, by the
 * agent's rule between MeshGatewayRoute and the newer kinds. */
static bool test_gateway_instance(void)
{
	return prints("gw1", "legacy-http", (const char *const[]){
		"Dataplane gw1 (gateway instance, node n1)\n"
		"  identity spiffe://mesh.local/edge\n"
		"MeshGateway edge\n"
		"listener 8080 HTTP *.example.com: no route (404)\n"
		"listener 8081 HTTP: MeshHTTPRoute alt-http[0] alt-http[1] "
		"(2 rules)\n"
		"listener 9000 TCP: MeshGatewayRoute legacy-tcp\n", NULL }) &&
	       prints("gw2", "alt-http", (const char *const[]){
		"MeshGateway plain\n"
		"listener 7000 HTTP: MeshGatewayRoute legacy-http\n"
		"listener 7001 TCP: MeshTCPRoute plain-tcp[0] (1 rule), "
		"plain-tcp[0] decides\n", NULL });
}

static bool test_unknown(void)
{
	int err;
	char *out = effective("nope", NULL, &err);
	bool ok = ASSERT_EQ(err, -ENOENT);

	free(out);
	out = effective("c1", "nope", &err);
	ok = ok && ASSERT_EQ(err, -ENOENT);
	free(out);
	/* A Dataplane without meshforge.io/node is no endpoint. */
	out = effective("d2", NULL, &err);
	ok = ok && ASSERT_EQ(err, -ENOENT);
	free(out);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_merge_by_specificity);
	TEST_RUN(test_name_order_and_dataplane);
	TEST_RUN(test_dataplane_endpoint);
	TEST_RUN(test_protocol);
	TEST_RUN(test_identity_unlisted);
	TEST_RUN(test_gateway_instance);
	TEST_RUN(test_unknown);
	TEST_MAIN_END();
}
