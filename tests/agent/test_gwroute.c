// SPDX-License-Identifier: Apache-2.0
/*
 * The builtin gateways of a node (agent/gwroute.c) on snapshots compiled
 * from YAML as mfctl compiles them: which MeshGateway an instance runs
 * (the best selector match), its ports, and on them which listener takes a
 * request (its hostname against Host or SNI, the most specific first),
 * which MeshGatewayRoute rule (selectors against the listener's tags, the
 * route's hostnames, the Gateway API's precedence), its filters, its
 * backends by weight, exactly, its mirror's copies, 404s for hosts and
 * paths nobody takes, and TCP listeners' connections by their route;
 * several HTTPS listeners of one port, each with its certificate and its
 * routes, picked by SNI (421 for another Host), and TLS listeners
 * (TERMINATE and PASSTHROUGH) picked the same way.  Kuma's newer form:
 * MeshHTTPRoutes attached to the gateway (by name, listeners by tags),
 * their hostnames against the Host and the listener's, their rules and
 * filters, precedence between them and over MeshGatewayRoutes; a
 * MeshTCPRoute on the TCP listener by weight; hostToBackendHostname and
 * host_to_backend_hostname (the backend's name, where it has one); a
 * route of MF_GWR_RULES_MAX rules, each with counters of its own.
 */
#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/gwroute.h"

#define WL(name, ip, svc, tags)                                               \
	RH_DOC("Workload", name)                                              \
	"spec: {node: n2, ip: " ip ", port: 8080, service: " svc ", "         \
	"identity: \"spiffe://mesh.local/ns/default/sa/" svc "\", "           \
	"tags: {" tags "}}\n"

#define MESH                                                                  \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"          \
	OBJECTS

/* Everything of the mesh but the Mesh itself. */
#define OBJECTS                                                               \
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"                    \
	RH_DOC("Node", "n2") "spec: {address: 10.0.0.2}\n"                    \
	RH_DOC("Service", "api") "spec: {vip: 10.96.0.13, port: 8080}\n"      \
	RH_DOC("Service", "web") "spec: {vip: 10.96.0.10, port: 80}\n"        \
	WL("api1", "10.1.0.5", "api", "version: v1")                          \
	WL("api2", "10.1.0.6", "api", "version: v2")                          \
	WL("web1", "10.1.0.7", "web", "version: v1")                          \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"                 \
	"metadata: {name: edge-1, labels: {meshforge.io/node: n1}}\n"          \
	"spec:\n  networking:\n    address: 10.0.0.1\n"                        \
	"    gateway: {type: BUILTIN, tags: {kuma.io/service: edge}}\n"        \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"                 \
	"metadata: {name: other-1, labels: {meshforge.io/node: n2}}\n"         \
	"spec:\n  networking:\n    address: 10.0.0.2\n"                        \
	"    gateway: {type: BUILTIN, tags: {kuma.io/service: other}}\n"

#define GATEWAY(name, svc, listeners)                                         \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGateway\n"               \
	"metadata: {name: " name "}\nspec:\n"                                  \
	"  selectors: [{match: {kuma.io/service: " svc "}}]\n"                \
	"  conf:\n    listeners:\n" listeners

#define ROUTE(name, selector, http)                                           \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGatewayRoute\n"          \
	"metadata: {name: " name "}\nspec:\n"                                  \
	"  selectors: [{match: {" selector "}}]\n"                            \
	"  conf:\n    http:\n" http

static const char *const policy_yaml =
	MESH
	GATEWAY("edge", "edge",
		"      - {port: 8080, protocol: HTTP, hostname: example.com}\n"
		"      - {port: 8080, protocol: HTTP, hostname: '*.example.com',"
		" tags: {vhost: wild}}\n"
		"      - {port: 8443, protocol: HTTPS, hostname: '*.example.com',"
		" tls: {mode: TERMINATE, certificates: [{file: /etc/gw.pem},"
		" {secret: gw-rsa}]}}\n"
		"      - {port: 9000, protocol: TCP}\n")
	GATEWAY("other", "other",
		"      - {port: 7000, protocol: HTTP}\n")
	ROUTE("api-route", "kuma.io/service: edge",
	      "      rules:\n"
	      "        - matches: [{path: {match: PREFIX, value: /myapi}}]\n"
	      "          backends:\n"
	      "            - {destination: {kuma.io/service: "
	      "api_default_svc_8080, version: v1}, weight: 90}\n"
	      "            - {destination: {kuma.io/service: api, version: v2},"
	      " weight: 10}\n"
	      "        - matches: [{path: {match: EXACT, value: /myapi/admin}}]\n"
	      "          filters:\n"
	      "            - request_header: {set: [{name: x-admin, value: '1'}]}\n"
	      "            - rewrite: {replace_full: /admin}\n"
	      "          backends: [{destination: {kuma.io/service: web}}]\n")
	ROUTE("old-route", "kuma.io/service: edge",
	      "      hostnames: [example.com]\n"
	      "      rules:\n"
	      "        - matches: [{path: {match: EXACT, value: /old}}]\n"
	      "          filters:\n"
	      "            - redirect: {scheme: https, status_code: 308,"
	      " path: {replace_full: /new}}\n"
	      "        - matches: [{path: {match: PREFIX, value: /v2},"
	      " headers: [{name: x-canary, value: 'on'}]}]\n"
	      "          filters:\n"
	      "            - rewrite: {replace_prefix_match: /}\n"
	      "            - response_header: {add: [{name: x-gw, value: v2}]}\n"
	      "          backends: [{destination: {kuma.io/service: api, "
	      "version: v2}}]\n")
	ROUTE("wild-route", "vhost: wild",
	      "      rules:\n"
	      "        - matches: [{path: {match: PREFIX, value: /}}]\n"
	      "          backends: [{destination: {kuma.io/service: web}}]\n");

/* A request head with Host @host; @hdrs "name: value" lines,
 * NULL-terminated. */
static bool req(struct hhead *h, const char *target, const char *host,
		const char *const *hdrs)
{
	struct http1_start sl = {
		.method = "GET", .method_len = 3,
		.target = target, .target_len = strlen(target),
		.major = 1, .minor = 1,
	};

	memset(h, 0, sizeof(*h));
	if (!ASSERT_EQ(hhead_start(h, true, &sl), 0) ||
	    !ASSERT_EQ(hhead_add(h, "Host", 4, host, strlen(host)), 0))
		return false;
	for (size_t i = 0; hdrs && hdrs[i]; i++) {
		const char *colon = strchr(hdrs[i], ':');

		if (!ASSERT_EQ(hhead_add(h, hdrs[i], (size_t)(colon - hdrs[i]),
					 colon + 2, strlen(colon + 2)), 0))
			return false;
	}
	return true;
}

/* Where a request goes: the endpoint's name, or "<status>"; the head as
 * the decision left it in @out when not NULL. */
static const char *go(struct gw_table *t, uint16_t port, const char *sni,
		      const char *target, const char *host,
		      const char *const *hdrs, struct hhead *out,
		      struct gw_decision *dout)
{
	static char buf[MF_NAME_MAX];
	struct gw_decision d;
	struct hhead tmp;
	struct hhead *r = out ? out : &tmp;

	if (!req(r, target, host, hdrs) ||
	    gwroute_decide(t, NULL, port, sni, r, &d))
		return "error";
	if (d.ep)
		snprintf(buf, sizeof(buf), "%s", d.ep->name);
	else
		snprintf(buf, sizeof(buf), "%d", d.status);
	if (dout)
		*dout = d;
	else
		gwroute_decision_free(&d);
	if (!out)
		hhead_free(&tmp);
	return buf;
}

/* Whether the request-target of @h is @want. */
static bool target_is(const struct hhead *h, const char *want)
{
	char buf[256];
	size_t n;
	const char *t = hhead_target(h, &n);

	snprintf(buf, sizeof(buf), "%.*s", (int)n, t);
	return ASSERT_STREQ(buf, want);
}

static struct gw_table *open_yaml(const char *yaml, const char *node)
{
	struct policy *p = rh_yaml_snapshot(yaml, 1);
	struct gw_table *t = NULL;

	if (!ASSERT_TRUE(p))
		return NULL;
	if (!ASSERT_EQ(gwroute_build(p, node, &t), 0))
		t = NULL;
	policy_put(p);	/* the table holds its own reference */
	return t;
}

static struct gw_table *open_table(const char *node)
{
	return open_yaml(policy_yaml, node);
}

static bool test_ports(void)
{
	struct gw_table *t = open_table("n1"), *t2;
	const struct gw_port *p;
	bool ok;

	if (!t)
		return false;
	/* 8080 (two listeners, one port), 8443, TCP 9000; the other
	 * node's gateway is not this node's. */
	ok = ASSERT_EQ(gwroute_nports(t), 3u);
	p = gwroute_port(t, 0);
	ok = ok && ASSERT_EQ(p->port, 8080) && ASSERT_EQ(p->protocol, MF_GW_HTTP);
	p = gwroute_port(t, 1);
	ok = ok && ASSERT_EQ(p->port, 8443) &&
	     ASSERT_EQ(p->protocol, MF_GW_HTTPS) &&
	     ASSERT_EQ(p->ncerts, 1u) &&
	     ASSERT_STREQ(p->certs[0].file[0], "/etc/gw.pem") &&
	     ASSERT_TRUE(p->certs[0].secret[0] == NULL) &&
	     /* Its second certificate, which clients of RSA alone get. */
	     ASSERT_STREQ(p->certs[0].secret[1], "gw-rsa") &&
	     ASSERT_TRUE(p->certs[0].file[1] == NULL) &&
	     ASSERT_STREQ(p->certs[0].hostname, "*.example.com") &&
	     ASSERT_STREQ(p->gateway, "edge") &&
	     ASSERT_STREQ(p->instance, "edge-1");
	p = gwroute_port(t, 2);
	ok = ok && ASSERT_EQ(p->port, 9000) && ASSERT_EQ(p->protocol, MF_GW_TCP);
	gwroute_put(t);
	t2 = open_table("n2");
	ok = ok && ASSERT_TRUE(t2 != NULL) &&
	     ASSERT_EQ(gwroute_nports(t2), 1u) &&
	     ASSERT_EQ(gwroute_port(t2, 0)->port, 7000);
	gwroute_put(t2);
	return ok;
}

static bool test_hosts_and_routes(void)
{
	static const char *const canary[] = { "x-canary: on", NULL };
	struct gw_table *t = open_table("n1");
	struct gw_decision d;
	struct hhead h;
	size_t n;
	bool ok;

	if (!t)
		return false;
	/* The seed's example: /myapi of example.com goes to api, with
	 * the gateway's identity. */
	ok = ASSERT_STREQ(go(t, 8080, NULL, "/myapi/x", "example.com:8080",
			     NULL, NULL, &d), "api1") &&
	     ASSERT_STREQ(d.src_id, "spiffe://mesh.local/edge") &&
	     ASSERT_STREQ(d.route, "api-route");
	gwroute_decision_free(&d);
	/* Other hosts, other paths: 404. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/myapi", "example.org",
				   NULL, NULL, NULL), "404") &&
	     ASSERT_STREQ(go(t, 8080, NULL, "/myapix", "example.com", NULL,
			     NULL, NULL), "404") &&
	     ASSERT_STREQ(go(t, 7000, NULL, "/myapi", "example.com", NULL,
			     NULL, NULL), "404");
	/* The wildcard listener has tags of its own, which wild-route
	 * selects: its catch-all, and api-route's rules too. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/any", "a.example.com",
				   NULL, NULL, NULL), "web1") &&
	     ASSERT_STREQ(go(t, 8080, NULL, "/any", "example.com", NULL, NULL,
			     NULL), "404");
	/* The exact path before the prefix, with its filters. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/myapi/admin?q=1",
				   "example.com", NULL, &h, NULL), "web1") &&
	     target_is(&h, "/admin?q=1") &&
	     ASSERT_TRUE(hhead_get(&h, "x-admin", &(const char *){ 0 }, &n));
	hhead_free(&h);
	/* A route with hostnames serves only them; a header match and a
	 * prefix rewrite; a response header filter. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/v2/users", "example.com",
				   canary, &h, &d), "api2") &&
	     target_is(&h, "/users") &&
	     ASSERT_TRUE(d.rsp_mod != NULL);
	hhead_free(&h);
	gwroute_decision_free(&d);
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/v2/users",
				   "b.example.com", canary, NULL, NULL),
				"web1");
	/* A redirect. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/old?x", "example.com",
				   NULL, NULL, &d), "308") &&
	     ASSERT_STREQ(d.location, "https://example.com/new?x");
	gwroute_decision_free(&d);
	/* HTTPS: the SNI picks the listener (a name none takes, none: the
	 * handshake refuses it first); the Host must be its, else 421. */
	ok = ok && ASSERT_STREQ(go(t, 8443, "api.example.com", "/myapi",
				   "api.example.com", NULL, NULL, NULL),
				"api1") &&
	     ASSERT_STREQ(go(t, 8443, "other.org", "/myapi", "other.org",
			     NULL, NULL, NULL), "404") &&
	     ASSERT_STREQ(go(t, 8443, NULL, "/myapi", "api.example.com",
			     NULL, NULL, NULL), "404") &&
	     ASSERT_STREQ(go(t, 8443, "api.example.com", "/myapi",
			     "other.org", NULL, NULL, NULL), "421");
	gwroute_put(t);
	return ok;
}

static bool test_split_90_10(void)
{
	struct gw_table *t = open_table("n1");
	unsigned int v1 = 0, v2 = 0;
	const char *r;

	if (!t)
		return false;
	for (int i = 0; i < 1000; i++) {
		r = go(t, 8080, NULL, "/myapi", "example.com", NULL, NULL,
		       NULL);
		v1 += !strcmp(r, "api1");
		v2 += !strcmp(r, "api2");
	}
	gwroute_put(t);
	/* The golden-ratio sequence follows weights exactly. */
	return ASSERT_TRUE(v1 >= 895 && v1 <= 905) &&
	       ASSERT_EQ(v1 + v2, 1000u);
}

/* Requests of rule @target to port 8080 of @t: how many went to api1
 * (all should), how many got a copy, and how many copies went elsewhere
 * than web1. */
static bool mirrored(struct gw_table *t, const char *target, int n,
		     unsigned int *to_api1, unsigned int *copies,
		     unsigned int *wrong)
{
	struct gw_decision d;
	struct hhead h;
	const char *r;

	*to_api1 = *copies = *wrong = 0;
	for (int i = 0; i < n; i++) {
		r = go(t, 8080, NULL, target, "example.com", NULL, &h, &d);
		/* The request itself is not changed by its copy. */
		if (!target_is(&h, target)) {
			hhead_free(&h);
			gwroute_decision_free(&d);
			return false;
		}
		*to_api1 += !strcmp(r, "api1");
		if (d.mirror) {
			(*copies)++;
			*wrong += strcmp(d.mirror->name, "web1") != 0;
		}
		hhead_free(&h);
		gwroute_decision_free(&d);
	}
	return true;
}

/* A mirror filter: 12.5% of 1,000 requests get a copy, exactly (the
 * golden-ratio sequence), to an endpoint of the mirror's backend, while
 * each request still goes to the rule's backend; at 100% every request
 * does; a rule without a mirror filter sends no copy. */
static bool test_mirror(void)
{
	static const char *const yaml =
		MESH
		GATEWAY("edge", "edge",
			"      - {port: 8080, protocol: HTTP}\n")
		ROUTE("mirror-route", "kuma.io/service: edge",
		      "      rules:\n"
		      "        - matches: [{path: {match: PREFIX, value: /some}}]\n"
		      "          filters:\n"
		      "            - mirror: {percentage: 12.5, backend: "
		      "{destination: {kuma.io/service: web}}}\n"
		      "          backends: [{destination: {kuma.io/service: api,"
		      " version: v1}}]\n"
		      "        - matches: [{path: {match: PREFIX, value: /none}}]\n"
		      "          backends: [{destination: {kuma.io/service: api,"
		      " version: v1}}]\n");
	struct gw_table *t = open_yaml(yaml, "n1");
	unsigned int to_api1, copies, wrong;
	bool ok;

	if (!t)
		return false;
	ok = mirrored(t, "/some/x", 1000, &to_api1, &copies, &wrong) &&
	     ASSERT_EQ(to_api1, 1000u) && ASSERT_EQ(wrong, 0u) &&
	     ASSERT_GE(copies, 124u) && ASSERT_GE(126u, copies);
	/* Another rule of the route, without a mirror: no copy. */
	ok = ok && mirrored(t, "/none", 10, &to_api1, &copies, &wrong) &&
	     ASSERT_EQ(to_api1, 10u) && ASSERT_EQ(copies, 0u);
	gwroute_put(t);

	/* 100%: every request, when the rule sends it to a backend. */
	t = open_yaml(MESH
		      GATEWAY("edge", "edge",
			      "      - {port: 8080, protocol: HTTP}\n")
		      ROUTE("mirror-route", "kuma.io/service: edge",
			    "      rules:\n"
			    "        - matches: [{path: {match: PREFIX, "
			    "value: /}}]\n"
			    "          filters:\n"
			    "            - mirror: {percentage: 100, backend: "
			    "{destination: {kuma.io/service: web}}}\n"
			    "          backends: [{destination: {kuma.io/service:"
			    " api, version: v1}}]\n"), "n1");
	ok = ok && ASSERT_TRUE(t != NULL) &&
	     mirrored(t, "/a", 100, &to_api1, &copies, &wrong) &&
	     ASSERT_EQ(to_api1, 100u) && ASSERT_EQ(copies, 100u) &&
	     ASSERT_EQ(wrong, 0u);
	gwroute_put(t);
	return ok;
}

/* A TCP listener: its connections go by the first rule of the route
 * that selects it, by weight, exactly; without such a route, or on a
 * port that is no TCP listener's, none goes anywhere. */
static bool test_tcp(void)
{
	static const char *const yaml =
		MESH
		GATEWAY("edge", "edge",
			"      - {port: 8080, protocol: HTTP}\n"
			"      - {port: 9000, protocol: TCP, tags: {l: db}}\n"
			"      - {port: 9001, protocol: TCP}\n")
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGatewayRoute\n"
		"metadata: {name: db-route}\nspec:\n"
		"  selectors: [{match: {l: db}}]\n"
		"  conf:\n    tcp:\n      rules:\n"
		"        - backends:\n"
		"            - {destination: {kuma.io/service: api, version: v1},"
		" weight: 3}\n"
		"            - {destination: {kuma.io/service: web}, weight: 1}\n";
	struct gw_table *t = open_yaml(yaml, "n1");
	unsigned int api1 = 0, web1 = 0;
	struct gw_decision d;
	bool ok;

	if (!t)
		return false;
	ok = ASSERT_TRUE(gwroute_port_find(t, 9000) != NULL) &&
	     ASSERT_EQ(gwroute_port_find(t, 9000)->protocol, MF_GW_TCP);
	for (int i = 0; ok && i < 400; i++) {
		gwroute_tcp_decide(t, NULL, 9000, NULL, &d);
		ok = ASSERT_EQ(d.status, 0) && ASSERT_TRUE(d.ep != NULL) &&
		     ASSERT_STREQ(d.route, "db-route") &&
		     ASSERT_STREQ(d.src_id, "spiffe://mesh.local/edge");
		api1 += ok && !strcmp(d.ep->name, "api1");
		web1 += ok && !strcmp(d.ep->name, "web1");
	}
	/* The golden-ratio sequence follows weights to within one. */
	ok = ok && ASSERT_GE(api1, 299u) && ASSERT_GE(301u, api1) &&
	     ASSERT_EQ(api1 + web1, 400u);
	gwroute_tcp_decide(t, NULL, 9001, NULL, &d);
	ok = ok && ASSERT_EQ(d.status, 404) && ASSERT_TRUE(d.ep == NULL) &&
	     ASSERT_STREQ(d.listener, "edge");
	gwroute_tcp_decide(t, NULL, 8080, NULL, &d);
	ok = ok && ASSERT_EQ(d.status, 404) && ASSERT_TRUE(d.ep == NULL);
	gwroute_put(t);
	return ok;
}

/* Several HTTPS listeners on one port, each with its hostname, its
 * certificate and its own routes (selected by its tags): the port lists
 * each listener's certificate with its hostname, in order; a client's
 * SNI picks the listener (exact over wildcard over none), whose routes
 * alone serve its requests, and a request for a host that listener does
 * not take gets 421. */
static bool test_sni_listeners(void)
{
	static const char *const yaml =
		MESH
		GATEWAY("edge", "edge",
			"      - {port: 8443, protocol: HTTPS, hostname: "
			"api.example.com, tags: {vhost: api}, tls: {mode: "
			"TERMINATE, certificates: [{secret: api-cert}]}}\n"
			"      - {port: 8443, protocol: HTTPS, hostname: "
			"'*.example.com', tags: {vhost: wild}, tls: {mode: "
			"TERMINATE, certificates: [{file: /etc/wild.pem}]}}\n"
			"      - {port: 8443, protocol: HTTPS, tags: {vhost: "
			"any}, tls: {mode: TERMINATE, certificates: "
			"[{file: /etc/any.pem}]}}\n")
		ROUTE("api-only", "vhost: api",
		      "      rules:\n"
		      "        - matches: [{path: {match: PREFIX, value: /api}}]\n"
		      "          backends: [{destination: {kuma.io/service: api,"
		      " version: v1}}]\n")
		ROUTE("wild-only", "vhost: wild",
		      "      rules:\n"
		      "        - matches: [{path: {match: PREFIX, value: /wild}}]\n"
		      "          backends: [{destination: {kuma.io/service: api,"
		      " version: v2}}]\n")
		ROUTE("any-only", "vhost: any",
		      "      rules:\n"
		      "        - matches: [{path: {match: PREFIX, value: /any}}]\n"
		      "          backends: [{destination: {kuma.io/service: web}}]\n");
	struct gw_table *t = open_yaml(yaml, "n1");
	const struct gw_port *p;
	bool ok;

	if (!t)
		return false;
	p = gwroute_port_find(t, 8443);
	ok = ASSERT_EQ(gwroute_nports(t), 1u) && ASSERT_TRUE(p != NULL) &&
	     ASSERT_EQ(p->protocol, MF_GW_HTTPS) && ASSERT_EQ(p->ncerts, 3u) &&
	     ASSERT_STREQ(p->certs[0].hostname, "api.example.com") &&
	     ASSERT_STREQ(p->certs[0].secret[0], "api-cert") &&
	     ASSERT_TRUE(p->certs[0].file[0] == NULL) &&
	     ASSERT_STREQ(p->certs[1].hostname, "*.example.com") &&
	     ASSERT_STREQ(p->certs[1].file[0], "/etc/wild.pem") &&
	     ASSERT_TRUE(!strcmp(p->certs[2].hostname, "") ||
			 !strcmp(p->certs[2].hostname, "*")) &&
	     ASSERT_STREQ(p->certs[2].file[0], "/etc/any.pem");
	/* Each name its listener, and its routes alone. */
	ok = ok &&
	     ASSERT_STREQ(go(t, 8443, "api.example.com", "/api",
			     "api.example.com", NULL, NULL, NULL), "api1") &&
	     ASSERT_STREQ(go(t, 8443, "api.example.com", "/wild",
			     "api.example.com", NULL, NULL, NULL), "404") &&
	     ASSERT_STREQ(go(t, 8443, "a.example.com", "/wild",
			     "a.example.com", NULL, NULL, NULL), "api2") &&
	     ASSERT_STREQ(go(t, 8443, "a.example.com", "/api",
			     "a.example.com", NULL, NULL, NULL), "404") &&
	     ASSERT_STREQ(go(t, 8443, "other.org", "/any", "other.org", NULL,
			     NULL, NULL), "web1") &&
	     ASSERT_STREQ(go(t, 8443, NULL, "/any", "other.org", NULL, NULL,
			     NULL), "web1") &&
	     ASSERT_STREQ(go(t, 8443, "other.org", "/api", "other.org", NULL,
			     NULL, NULL), "404");
	/* A host the SNI's listener does not take: 421, even where another
	 * listener of the port would take that host; the listener without
	 * hostname takes any. */
	ok = ok &&
	     ASSERT_STREQ(go(t, 8443, "api.example.com", "/wild",
			     "a.example.com", NULL, NULL, NULL), "421") &&
	     ASSERT_STREQ(go(t, 8443, "a.example.com", "/any",
			     "other.org:8443", NULL, NULL, NULL), "421") &&
	     /* The wildcard's connection takes api.example.com as a host
	      * of its own, by its own routes. */
	     ASSERT_STREQ(go(t, 8443, "a.example.com", "/wild",
			     "api.example.com:8443", NULL, NULL, NULL), "api2") &&
	     ASSERT_STREQ(go(t, 8443, "other.org", "/any", "a.example.com",
			     NULL, NULL, NULL), "web1");
	gwroute_put(t);
	return ok;
}

/* TLS listeners: a TLS port lists the certificates of its TERMINATE
 * listeners as an HTTPS port does (a PASSTHROUGH one presents none), the
 * SNI picks the listener and so its mode, and a connection goes by the
 * tcp route of that listener. */
static bool test_tls_listeners(void)
{
	static const char *const yaml =
		MESH
		GATEWAY("edge", "edge",
			"      - {port: 9443, protocol: TLS, hostname: "
			"db.example.com, tags: {l: db}, tls: {mode: TERMINATE,"
			" certificates: [{file: /etc/db.pem}]}}\n"
			"      - {port: 9443, protocol: TLS, tags: {l: rest}, "
			"tls: {mode: TERMINATE, certificates: "
			"[{file: /etc/rest.pem}]}}\n"
			"      - {port: 9443, protocol: TLS, hostname: "
			"pt.example.com, tags: {l: db}, tls: {mode: "
			"PASSTHROUGH}}\n"
			"      - {port: 9444, protocol: TLS, tags: {l: db}, "
			"tls: {mode: PASSTHROUGH}}\n")
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGatewayRoute\n"
		"metadata: {name: db-route}\nspec:\n"
		"  selectors: [{match: {l: db}}]\n"
		"  conf:\n    tcp:\n      rules:\n"
		"        - backends: [{destination: {kuma.io/service: api, "
		"version: v1}}]\n"
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGatewayRoute\n"
		"metadata: {name: rest-route}\nspec:\n"
		"  selectors: [{match: {l: rest}}]\n"
		"  conf:\n    tcp:\n      rules:\n"
		"        - backends: [{destination: {kuma.io/service: web}}]\n";
	struct gw_table *t = open_yaml(yaml, "n1");
	const struct gw_port *p;
	struct gw_decision d;
	bool ok;

	if (!t)
		return false;
	p = gwroute_port_find(t, 9443);
	ok = ASSERT_TRUE(p != NULL) && ASSERT_EQ(p->protocol, MF_GW_TLS) &&
	     ASSERT_EQ(p->ncerts, 2u) &&
	     ASSERT_STREQ(p->certs[0].hostname, "db.example.com") &&
	     ASSERT_STREQ(p->certs[0].file[0], "/etc/db.pem") &&
	     ASSERT_STREQ(p->certs[1].file[0], "/etc/rest.pem");
	p = gwroute_port_find(t, 9444);
	ok = ok && ASSERT_TRUE(p != NULL) && ASSERT_EQ(p->protocol, MF_GW_TLS) &&
	     ASSERT_EQ(p->ncerts, 0u);
	/* The name picks the mode. */
	ok = ok &&
	     ASSERT_EQ(gwroute_tls_mode(t, 9443, "db.example.com"),
		       MF_GW_TLS_TERMINATE) &&
	     ASSERT_EQ(gwroute_tls_mode(t, 9443, "pt.example.com"),
		       MF_GW_TLS_PASSTHROUGH) &&
	     ASSERT_EQ(gwroute_tls_mode(t, 9443, "x.org"),
		       MF_GW_TLS_TERMINATE) &&
	     ASSERT_EQ(gwroute_tls_mode(t, 9443, NULL), MF_GW_TLS_TERMINATE) &&
	     ASSERT_EQ(gwroute_tls_mode(t, 9444, NULL),
		       MF_GW_TLS_PASSTHROUGH) &&
	     ASSERT_EQ(gwroute_tls_mode(t, 9445, "pt.example.com"), 0);
	gwroute_tcp_decide(t, NULL, 9443, "pt.example.com", &d);
	ok = ok && ASSERT_EQ(d.status, 0) && ASSERT_TRUE(d.ep != NULL) &&
	     ASSERT_STREQ(d.route, "db-route");
	gwroute_tcp_decide(t, NULL, 9444, "anything.test", &d);
	ok = ok && ASSERT_EQ(d.status, 0) && ASSERT_TRUE(d.ep != NULL) &&
	     ASSERT_STREQ(d.ep->name, "api1") &&
	     ASSERT_STREQ(d.route, "db-route");
	gwroute_tcp_decide(t, NULL, 9443, "db.example.com", &d);
	ok = ok && ASSERT_EQ(d.status, 0) && ASSERT_TRUE(d.ep != NULL) &&
	     ASSERT_STREQ(d.ep->name, "api1") &&
	     ASSERT_STREQ(d.route, "db-route") &&
	     ASSERT_STREQ(d.src_id, "spiffe://mesh.local/edge");
	gwroute_tcp_decide(t, NULL, 9443, "other.org", &d);
	ok = ok && ASSERT_EQ(d.status, 0) && ASSERT_TRUE(d.ep != NULL) &&
	     ASSERT_STREQ(d.ep->name, "web1") &&
	     ASSERT_STREQ(d.route, "rest-route");
	gwroute_tcp_decide(t, NULL, 9443, NULL, &d);
	ok = ok && ASSERT_TRUE(d.ep != NULL) &&
	     ASSERT_STREQ(d.route, "rest-route");
	gwroute_put(t);
	return ok;
}

/* ---- Kuma's newer form: MeshHTTPRoute and MeshTCPRoute on a MeshGateway -- */

/* The mesh above with MeshExternalServices: one known by a host name
 * (localhost, which resolves wherever the test runs), one by an IP. */
#define MES                                                                   \
	RH_DOC("Mesh", "default")                                             \
	"spec: {trustDomain: mesh.local, meshExternalServices: "              \
	"{vipRange: 10.201.0.0/29}}\n"                                        \
	RH_KUMA("MeshExternalService", "named-ext")                              \
	"  match: {type: HostnameGenerator, port: 80, protocol: http}\n"      \
	"  endpoints: [{address: localhost, port: 18080}]\n"                  \
	RH_KUMA("MeshExternalService", "ip-ext")                                 \
	"  match: {type: HostnameGenerator, port: 80, protocol: http}\n"      \
	"  endpoints: [{address: 192.0.2.1, port: 80}]\n"

/* A MeshHTTPRoute on gateway edge (@target: its targetRef's other keys),
 * one to[] entry with @hostnames (a flow list, "" for none) and @rules. */
#define HROUTE(name, target, hostnames, rules)                                \
	RH_KUMA("MeshHTTPRoute", name)                                           \
	"  targetRef: {kind: MeshGateway, name: edge" target "}\n"            \
	"  to:\n    - targetRef: {kind: Mesh}\n"                              \
	hostnames "      rules:\n" rules

static const char *const hr_yaml =
	MES OBJECTS
	GATEWAY("edge", "edge",
		"      - {port: 8080, protocol: HTTP, hostname: '*.example.com'}\n"
		"      - {port: 8080, protocol: HTTP, hostname: api.example.com,"
		" tags: {vhost: api}}\n"
		"      - {port: 8081, protocol: HTTP, tags: {port: alt}}\n"
		"      - {port: 9000, protocol: TCP}\n")
	GATEWAY("other", "other",
		"      - {port: 7000, protocol: HTTP}\n")
	/* MeshGatewayRoutes: edge's are left out once MeshHTTPRoutes and
	 * a MeshTCPRoute are attached to it; other's still route. */
	ROUTE("legacy", "kuma.io/service: edge",
	      "      rules:\n"
	      "        - matches: [{path: {match: PREFIX, value: /legacy}}]\n"
	      "          backends: [{destination: {kuma.io/service: web}}]\n")
	ROUTE("other-route", "kuma.io/service: other",
	      "      rules:\n"
	      "        - matches: [{path: {match: PREFIX, value: /ext}}]\n"
	      "          filters: [{rewrite: {host_to_backend_hostname: true}}]\n"
	      "          backends: [{destination: {kuma.io/service: "
	      "named-ext}}]\n"
	      "        - matches: [{path: {match: PREFIX, value: /api}}]\n"
	      "          filters: [{rewrite: {host_to_backend_hostname: true}}]\n"
	      "          backends: [{destination: {kuma.io/service: api, "
	      "version: v1}}]\n")
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshGatewayRoute\n"
	"metadata: {name: edge-tcp}\nspec:\n"
	"  selectors: [{match: {kuma.io/service: edge}}]\n"
	"  conf:\n    tcp:\n      rules:\n"
	"        - backends: [{destination: {kuma.io/service: web}}]\n"
	HROUTE("shop", "", "      hostnames: ['*.example.com']\n",
	       "        - matches: [{path: {type: PathPrefix, value: /v2},"
	       " headers: [{type: Exact, name: x-version, value: v2}]}]\n"
	       "          default:\n"
	       "            filters:\n"
	       "              - type: URLRewrite\n"
	       "                urlRewrite: {path: {type: ReplacePrefixMatch,"
	       " replacePrefixMatch: /}}\n"
	       "              - type: ResponseHeaderModifier\n"
	       "                responseHeaderModifier:"
	       " {add: [{name: x-gw, value: shop}]}\n"
	       "            backendRefs: [{kind: MeshServiceSubset, name: api,"
	       " tags: {version: v2}}]\n"
	       "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	       "          default:\n"
	       "            filters:\n"
	       "              - type: RequestHeaderModifier\n"
	       "                requestHeaderModifier:"
	       " {set: [{name: x-route, value: shop}]}\n"
	       "            backendRefs: [{kind: MeshServiceSubset, name: api,"
	       " tags: {version: v1}}]\n"
	       "        - matches: [{path: {type: Exact, value: /x}}]\n"
	       "          default:\n"
	       "            backendRefs: [{kind: MeshServiceSubset, name: api,"
	       " tags: {version: v1}}]\n"
	       "        - matches: [{path: {type: Exact, value: /old}}]\n"
	       "          default:\n"
	       "            filters:\n"
	       "              - type: RequestRedirect\n"
	       "                requestRedirect: {scheme: https,"
	       " statusCode: 301}\n")
	/* Same match and hostnames as shop's /x: the name that sorts first
	 * wins. */
	HROUTE("a-override", "", "      hostnames: ['*.example.com']\n",
	       "        - matches: [{path: {type: Exact, value: /x}}]\n"
	       "          default:\n"
	       "            backendRefs: [{kind: MeshService, name: web}]\n")
	/* Equal matches: the route that names the host best first. */
	HROUTE("a-wild", "", "      hostnames: ['*.example.com']\n",
	       "        - matches: [{path: {type: Exact, value: /h}}]\n"
	       "          default:\n"
	       "            backendRefs: [{kind: MeshServiceSubset, name: api,"
	       " tags: {version: v2}}]\n")
	HROUTE("z-exact", "", "      hostnames: [shop.example.com]\n",
	       "        - matches: [{path: {type: Exact, value: /h}}]\n"
	       "          default:\n"
	       "            backendRefs: [{kind: MeshService, name: web}]\n")
	HROUTE("only-b", "", "      hostnames: [b.example.com]\n",
	       "        - matches: [{path: {type: PathPrefix, value: /b}}]\n"
	       "          default:\n"
	       "            backendRefs: [{kind: MeshService, name: web}]\n")
	HROUTE("ext", "", "      hostnames: [ext.example.com]\n",
	       "        - matches: [{path: {type: PathPrefix, value: /named}}]\n"
	       "          default:\n"
	       "            filters: [{type: URLRewrite, urlRewrite:"
	       " {hostToBackendHostname: true}}]\n"
	       "            backendRefs: [{kind: MeshExternalService,"
	       " name: named-ext}]\n"
	       "        - matches: [{path: {type: PathPrefix, value: /ip}}]\n"
	       "          default:\n"
	       "            filters: [{type: URLRewrite, urlRewrite:"
	       " {hostToBackendHostname: true}}]\n"
	       "            backendRefs: [{kind: MeshExternalService,"
	       " name: ip-ext}]\n"
	       "        - matches: [{path: {type: PathPrefix, value: /mesh}}]\n"
	       "          default:\n"
	       "            filters: [{type: URLRewrite, urlRewrite:"
	       " {hostToBackendHostname: true}}]\n"
	       "            backendRefs: [{kind: MeshService, name: web}]\n")
	/* Attached by the listener's tags: 8081 alone. */
	HROUTE("alt", ", tags: {port: alt}", "      hostnames: [alt.test]\n",
	       "        - matches: [{path: {type: PathPrefix, value: /}}]\n"
	       "          default:\n"
	       "            backendRefs: [{kind: MeshService, name: web}]\n")
	RH_KUMA("MeshTCPRoute", "edge-tcp-new")
	"  targetRef: {kind: MeshGateway, name: edge}\n"
	"  to:\n    - targetRef: {kind: Mesh}\n"
	"      rules:\n"
	"        - default:\n"
	"            backendRefs:\n"
	"              - {kind: MeshServiceSubset, name: api,"
	" tags: {version: v1}, weight: 3}\n"
	"              - {kind: MeshService, name: web, weight: 1}\n";

/* The value of header @name of @h, "" when it has none. */
static const char *hval(const struct hhead *h, const char *name)
{
	static char buf[256];
	const char *v;
	size_t n;

	if (!hhead_get(h, name, &v, &n))
		return "";
	snprintf(buf, sizeof(buf), "%.*s", (int)n, v);
	return buf;
}

/* Which MeshHTTPRoute rule a request of an edge listener goes by: the
 * rule's match, filters and backendRefs, the route's hostnames against
 * the Host and the listener's, the precedence between routes, and the
 * MeshGatewayRoutes left out. */
static bool test_http_route_on_gateway(void)
{
	static const char *const v2[] = { "x-version: v2", NULL };
	struct gw_table *t = open_yaml(hr_yaml, "n1");
	struct gw_decision d;
	struct hhead h;
	bool ok;

	if (!t)
		return false;
	/* A header match and a prefix rewrite to the v2 subset, with the
	 * rule's response header filter. */
	ok = ASSERT_STREQ(go(t, 8080, NULL, "/v2/users?a=1", "shop.example.com",
			     v2, &h, &d), "api2") &&
	     target_is(&h, "/users?a=1") &&
	     ASSERT_STREQ(d.route, "shop") &&
	     ASSERT_STREQ(d.listener, "edge") &&
	     ASSERT_TRUE(d.rsp_http != NULL) && ASSERT_TRUE(d.rsp_mod == NULL);
	hhead_free(&h);
	gwroute_decision_free(&d);
	/* Without the header, the catch-all rule, its request header. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/v2/users",
				   "shop.example.com", NULL, &h, NULL), "api1") &&
	     target_is(&h, "/v2/users") &&
	     ASSERT_STREQ(hval(&h, "x-route"), "shop");
	hhead_free(&h);
	/* The more specific listener (api.example.com) takes its host; the
	 * route's *.example.com covers it, b.example.com's route does not. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/v2/x", "api.example.com",
				   v2, NULL, NULL), "api2") &&
	     ASSERT_STREQ(go(t, 8080, NULL, "/b/1", "api.example.com", NULL,
			     NULL, &d), "api1") &&
	     ASSERT_STREQ(d.route, "shop");
	gwroute_decision_free(&d);
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/b/1", "b.example.com", NULL,
				   NULL, &d), "web1") &&
	     ASSERT_STREQ(d.route, "only-b");
	gwroute_decision_free(&d);
	/* Equal matches and hostnames: the route whose name sorts first
	 * wins. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/x", "shop.example.com",
				   NULL, NULL, &d), "web1") &&
	     ASSERT_STREQ(d.route, "a-override");
	gwroute_decision_free(&d);
	/* Equal matches of routes with hostnames: the exact name before
	 * the wildcard, whatever their names' order. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/h", "shop.example.com",
				   NULL, NULL, &d), "web1") &&
	     ASSERT_STREQ(d.route, "z-exact");
	gwroute_decision_free(&d);
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/h", "c.example.com", NULL,
				   NULL, &d), "api2") &&
	     ASSERT_STREQ(d.route, "a-wild");
	gwroute_decision_free(&d);
	/* A redirect. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/old?q", "shop.example.com",
				   NULL, NULL, &d), "301") &&
	     ASSERT_STREQ(d.location, "https://shop.example.com/old?q");
	gwroute_decision_free(&d);
	/* The MeshGatewayRoute's /legacy is left out: the shop catch-all
	 * takes it. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/legacy", "shop.example.com",
				   NULL, NULL, &d), "api1") &&
	     ASSERT_STREQ(d.route, "shop");
	gwroute_decision_free(&d);
	/* A listener selected by its tags: alt.test only, other hosts 404,
	 * and no route of the other listeners. */
	ok = ok && ASSERT_STREQ(go(t, 8081, NULL, "/v2/a", "alt.test", v2, NULL,
				   &d), "web1") &&
	     ASSERT_STREQ(d.route, "alt");
	gwroute_decision_free(&d);
	ok = ok && ASSERT_STREQ(go(t, 8081, NULL, "/v2/a", "other.test", v2,
				   NULL, &d), "404") &&
	     ASSERT_STREQ(d.why, "no gateway route for this request");
	gwroute_decision_free(&d);
	/* alt is 8081's alone; a route without tags is every listener's. */
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/a", "alt.test", NULL, NULL,
				   NULL), "404") &&
	     ASSERT_STREQ(go(t, 8081, NULL, "/b", "b.example.com", NULL, NULL,
			     &d), "web1") &&
	     ASSERT_STREQ(d.route, "only-b");
	gwroute_decision_free(&d);
	gwroute_put(t);
	return ok;
}

/* hostToBackendHostname: the Host becomes the picked backend's hostname
 * where it has one (a MeshExternalService known by name), else stays. */
static bool test_host_to_backend_hostname(void)
{
	struct gw_table *t = open_yaml(hr_yaml, "n1"), *o;
	struct hhead h;
	bool ok;

	if (!t)
		return false;
	ok = ASSERT_STREQ(go(t, 8080, NULL, "/named/a", "ext.example.com", NULL,
			     &h, NULL), "named-ext") &&
	     ASSERT_STREQ(hval(&h, "host"), "localhost") &&
	     target_is(&h, "/named/a");
	hhead_free(&h);
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/ip/a", "ext.example.com",
				   NULL, &h, NULL), "ip-ext") &&
	     ASSERT_STREQ(hval(&h, "host"), "ext.example.com");
	hhead_free(&h);
	ok = ok && ASSERT_STREQ(go(t, 8080, NULL, "/mesh/a", "ext.example.com",
				   NULL, &h, NULL), "web1") &&
	     ASSERT_STREQ(hval(&h, "host"), "ext.example.com");
	hhead_free(&h);
	gwroute_put(t);
	/* MeshGatewayRoute's rewrite.host_to_backend_hostname, on the
	 * other gateway (no MeshHTTPRoute there). */
	o = open_yaml(hr_yaml, "n2");
	if (!ASSERT_TRUE(o))
		return false;
	ok = ok && ASSERT_STREQ(go(o, 7000, NULL, "/ext/1", "gw.test", NULL, &h,
				   NULL), "named-ext") &&
	     ASSERT_STREQ(hval(&h, "host"), "localhost");
	hhead_free(&h);
	ok = ok && ASSERT_STREQ(go(o, 7000, NULL, "/api/1", "gw.test", NULL, &h,
				   NULL), "api1") &&
	     ASSERT_STREQ(hval(&h, "host"), "gw.test");
	hhead_free(&h);
	gwroute_put(o);
	return ok;
}

/* A MeshTCPRoute on the TCP listener, in place of the MeshGatewayRoute's
 * tcp rule: its backendRefs by weight, per connection. */
static bool test_tcp_route_on_gateway(void)
{
	struct gw_table *t = open_yaml(hr_yaml, "n1");
	struct gw_decision d;
	unsigned int api = 0, web = 0, other = 0;
	bool ok = true;

	if (!t)
		return false;
	for (int i = 0; i < 400; i++) {
		gwroute_tcp_decide(t, NULL, 9000, NULL, &d);
		ok = ok && ASSERT_EQ(d.status, 0) &&
		     ASSERT_STREQ(d.route, "edge-tcp-new");
		if (!ok)
			break;
		if (!strcmp(d.ep->name, "api1"))
			api++;
		else if (!strcmp(d.ep->name, "web1"))
			web++;
		else
			other++;
	}
	/* The golden-ratio sequence: within a few of 300 and 100. */
	ok = ok && ASSERT_TRUE(api >= 297 && api <= 303) &&
	     ASSERT_EQ(api + web, 400u) && ASSERT_EQ(other, 0u);
	gwroute_put(t);
	return ok;
}

/* A route of MF_GWR_RULES_MAX rules, rule i for /r<i>: the last two split
 * 90/10 over api's v1 and v2 pods and copy 12.5% of their requests to
 * web, the others go to web.  Malloc'd, or NULL. */
static char *many_rules_yaml(void)
{
	char *doc = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&doc, &n);

	if (!f)
		return NULL;
	fputs(MESH
	      GATEWAY("edge", "edge", "      - {port: 8080, protocol: HTTP}\n")
	      ROUTE("many", "kuma.io/service: edge", "      rules:\n"), f);
	for (int i = 0; i < MF_GWR_RULES_MAX; i++) {
		fprintf(f, "        - matches: [{path: {match: PREFIX, "
			   "value: /r%d}}]\n", i);
		if (i < MF_GWR_RULES_MAX - 2) {
			fputs("          backends: [{destination: "
			      "{kuma.io/service: web}}]\n", f);
			continue;
		}
		fputs("          filters:\n"
		      "            - mirror: {percentage: 12.5, backend: "
		      "{destination: {kuma.io/service: web}}}\n"
		      "          backends:\n"
		      "            - {destination: {kuma.io/service: api, "
		      "version: v1}, weight: 90}\n"
		      "            - {destination: {kuma.io/service: api, "
		      "version: v2}, weight: 10}\n", f);
	}
	if (fclose(f)) {
		free(doc);
		return NULL;
	}
	return doc;
}

/* Each rule of a route at MF_GWR_RULES_MAX rules has counters of its own
 * (POLICY_TICKETS_GW_ROUTE): the last rule, whose counters are the
 * record's last, splits 1,000 requests 90/10 and copies 12.5% of them,
 * exactly, and the rule before it, interleaved, does the same with its
 * own; every other rule still reaches its backend. */
static bool test_rules_at_bound(void)
{
	char *yaml = many_rules_yaml();
	struct gw_table *t = yaml ? open_yaml(yaml, "n1") : NULL;
	unsigned int v1[2] = { 0, 0 }, copies[2] = { 0, 0 }, n[2] = { 0, 0 };
	struct gw_decision d;
	char target[16];
	bool ok = true;

	free(yaml);
	if (!ASSERT_TRUE(t != NULL))
		return false;
	for (int i = 0; ok && i < 2000; i++) {
		int k = i % 2;
		const char *r;

		snprintf(target, sizeof(target), "/r%d/x",
			 MF_GWR_RULES_MAX - 2 + k);
		r = go(t, 8080, NULL, target, "example.com", NULL, NULL, &d);
		v1[k] += !strcmp(r, "api1");
		n[k] += !strcmp(r, "api1") || !strcmp(r, "api2");
		copies[k] += d.mirror && !strcmp(d.mirror->name, "web1");
		ok = ASSERT_TRUE(strcmp(r, "error") != 0);
		gwroute_decision_free(&d);
	}
	for (int k = 0; ok && k < 2; k++)
		ok = ASSERT_EQ(n[k], 1000u) &&
		     ASSERT_TRUE(v1[k] >= 895 && v1[k] <= 905) &&
		     ASSERT_GE(copies[k], 124u) && ASSERT_GE(126u, copies[k]);
	for (int i = 0; ok && i < MF_GWR_RULES_MAX - 2; i++) {
		snprintf(target, sizeof(target), "/r%d/x", i);
		ok = ASSERT_STREQ(go(t, 8080, NULL, target, "example.com", NULL,
				     NULL, NULL), "web1");
	}
	gwroute_put(t);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_ports);
	TEST_RUN(test_hosts_and_routes);
	TEST_RUN(test_split_90_10);
	TEST_RUN(test_mirror);
	TEST_RUN(test_tcp);
	TEST_RUN(test_sni_listeners);
	TEST_RUN(test_tls_listeners);
	TEST_RUN(test_http_route_on_gateway);
	TEST_RUN(test_host_to_backend_hostname);
	TEST_RUN(test_tcp_route_on_gateway);
	TEST_RUN(test_rules_at_bound);
	TEST_MAIN_END();
}
