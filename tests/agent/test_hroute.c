// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHTTPRoute in force (agent/hroute.c) on snapshots compiled from YAML as
 * mfctl compiles them: which rules apply to a connection (its source and
 * destination), in what order requests try them (Exact before a longer
 * PathPrefix before a shorter, then method, headers, query parameters),
 * header and query matches, a 90/10 split by MeshServiceSubset followed
 * exactly, header modifiers, URL rewrites, redirects, a rule without
 * backendRefs, requests no rule takes, RequestMirror's choice of which
 * requests are copied and where, backendRefs to a MeshMultiZoneService
 * balanced over the endpoints of the MeshServices it selects, its
 * Unavailable ones (spec.state) left out, and the rules of identical
 * matches of several routes merged field by field, as Kuma merges them.
 */
#include <arpa/inet.h>

#include "harness/test.h"
#include "harness/records_harness.h"
#include "../../agent/hhead.h"
#include "../../agent/hroute.h"
#include "../../agent/router.h"

#define WL(name, ip, svc, tags)                                               \
	RH_DOC("Workload", name)                                              \
	"spec: {node: n1, ip: " ip ", port: 8080, service: " svc ", "         \
	"identity: \"spiffe://mesh.local/ns/default/sa/" svc "\", "           \
	"tags: {" tags "}}\n"

#define MESH                                                                  \
	RH_MESH4_SERVICES                                                     \
	WL("v1", "10.1.0.1", "web", "version: v1")                            \
	WL("v2", "10.1.0.2", "web", "version: v2")                            \
	WL("api1", "10.1.0.5", "api", "version: v1")                          \
	WL("c1", "10.1.0.9", "client", "team: a")                             \
	WL("o1", "10.1.0.10", "other", "team: b")

#define ROUTE(name, self, body)                                               \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshHTTPRoute\n"             \
	"metadata: {name: " name "}\nspec:\n"                                  \
	"  targetRef: " self "\n"                                              \
	"  to:\n    - targetRef: {kind: MeshService, name: web}\n"             \
	"      rules:\n" body

#define SUBSET(v, w)                                                          \
	"{kind: MeshServiceSubset, name: web, tags: {version: " v "}, "       \
	"weight: " w "}"

struct hr {
	struct policy *p;
	const struct mf_service *web;
	struct hroute_list *l;
	int tr;			/* the TrafficRoute of the connection */
};

/* A snapshot of MESH + @routes, and the rules of c1 -> web. */
static bool hr_open(struct hr *h, const char *routes, const char *src)
{
	memset(h, 0, sizeof(*h));
	h->p = rh_yaml_snapshot(routes, 1);
	if (!ASSERT_TRUE(h->p))
		return false;
	h->web = policy_service_by_vip(h->p, rh_ip4("10.96.0.10"), 80);
	if (!ASSERT_TRUE(h->web != NULL))
		return false;
	h->tr = router_traffic_route(h->p, policy_endpoint_by_ip(h->p, rh_ip4(src)),
				     h->web);
	return
	       ASSERT_EQ(hroute_list_build(h->p,
					   policy_endpoint_by_ip(h->p, rh_ip4(src)),
					   h->web, &h->l), 0);
}

static void hr_close(struct hr *h)
{
	hroute_list_free(h->l);
	policy_put(h->p);
}

/* A request head; @hdrs "name: value" lines, NULL-terminated. */
static bool req(struct hhead *h, const char *method, const char *target,
		const char *const *hdrs)
{
	struct http1_start sl = {
		.method = method, .method_len = strlen(method),
		.target = target, .target_len = strlen(target),
		.major = 1, .minor = 1,
	};

	memset(h, 0, sizeof(*h));
	if (!ASSERT_EQ(hhead_start(h, true, &sl), 0) ||
	    !ASSERT_EQ(hhead_add(h, "Host", 4, "web:80", 6), 0))
		return false;
	for (size_t i = 0; hdrs && hdrs[i]; i++) {
		const char *colon = strchr(hdrs[i], ':');

		if (!ASSERT_EQ(hhead_add(h, hdrs[i], (size_t)(colon - hdrs[i]),
					 colon + 2, strlen(colon + 2)), 0))
			return false;
	}
	return true;
}

/* Where @method @target goes: the endpoint's name, or "<status>". */
static const char *go(struct hr *h, const char *method, const char *target,
		      const char *const *hdrs, struct hhead *out)
{
	static char buf[MF_NAME_MAX];
	struct hroute_decision d;
	struct hhead tmp;
	struct hhead *r = out ? out : &tmp;

	if (!req(r, method, target, hdrs) ||
	    hroute_decide(h->p, NULL, h->l, -1, h->tr, h->web, r, &d))
		return "error";
	if (d.ep)
		snprintf(buf, sizeof(buf), "%s", d.ep->name);
	else
		snprintf(buf, sizeof(buf), "%d", d.status);
	hroute_decision_free(&d);
	if (!out)
		hhead_free(&tmp);
	return buf;
}

static bool test_order_and_matches(void)
{
	static const char *const canary[] = { "x-canary: on", NULL };
	static const char *const other[] = { "x-canary: off", NULL };
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /a}}]\n"
		"          default: {backendRefs: [" SUBSET("v1", "1") "]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /a/b}}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"
		"        - matches: [{path: {type: Exact, value: /a/b/c}}]\n"
		"          default: {backendRefs: [" SUBSET("v1", "1") "]}\n"
		"        - matches:\n"
		"            - path: {type: PathPrefix, value: /h}\n"
		"              headers: [{type: Exact, name: x-canary, value: 'on'}]\n"
		"            - path: {type: PathPrefix, value: /q}\n"
		"              queryParams: [{type: Exact, name: v, value: '2'}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"
		"        - matches:\n"
		"            - path: {type: PathPrefix, value: /m}\n"
		"              method: POST\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default: {backendRefs: [" SUBSET("v1", "1") "]}\n"),
		"10.1.0.9");
	ok = ok && ASSERT_STREQ(go(&h, "GET", "/a/x", NULL, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "GET", "/a/b/x", NULL, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/a/b", NULL, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/a/b/c", NULL, NULL), "v1") &&
	     /* a prefix is whole segments */
	     ASSERT_STREQ(go(&h, "GET", "/a/bc", NULL, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "GET", "/h/1", canary, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/h/1", other, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "GET", "/q?a=1&v=2", NULL, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/q?v=3", NULL, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "POST", "/m", NULL, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/m", NULL, NULL), "v1");
	hr_close(&h);
	return ok;
}

/* Only the sources the route's targetRef selects get its rules. */
static bool test_selection(void)
{
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH ROUTE("r", "{kind: MeshSubset, tags: {team: a}}",
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"),
		"10.1.0.9");
	for (int i = 0; ok && i < 4; i++)
		ok = ASSERT_STREQ(go(&h, "GET", "/", NULL, NULL), "v2");
	hr_close(&h);
	ok = ok && hr_open(&h, MESH ROUTE("r",
		"{kind: MeshSubset, tags: {team: a}}",
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"),
		"10.1.0.10") && ASSERT_TRUE(h.l == NULL);
	/* o1 gets no rule: round robin over web, both endpoints */
	if (ok) {
		char a[16], b[16];

		snprintf(a, sizeof(a), "%s", go(&h, "GET", "/", NULL, NULL));
		snprintf(b, sizeof(b), "%s", go(&h, "GET", "/", NULL, NULL));
		ok = ASSERT_TRUE(strcmp(a, b) != 0);
	}
	hr_close(&h);
	return ok;
}

#define SET_HEADER(name)                                                      \
	"{type: RequestHeaderModifier, requestHeaderModifier: "               \
	"{set: [{name: " name ", value: '1'}]}}"

/* Two routes with rules of identical matches: the more precedent one
 * (a-over: at equal targetRef, the name first in byte order) gives what
 * it sets, the other what only it sets; a list set replaces the whole
 * list.  Rules whose matches differ by a method are not merged. */
static bool test_identical_matches_merged(void)
{
	const char *v;
	size_t vlen;
	struct hhead r;
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH
		ROUTE("b-base", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /x}}]\n"
		"          default: {filters: [" SET_HEADER("x-base") "], "
		"backendRefs: [" SUBSET("v1", "1") "]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /y}}]\n"
		"          default: {filters: [" SET_HEADER("x-base") "], "
		"backendRefs: [" SUBSET("v1", "1") "]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /z}}]\n"
		"          default: {filters: [" SET_HEADER("x-base") "], "
		"backendRefs: [" SUBSET("v1", "1") "]}\n")
		ROUTE("a-over", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /x}}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /y}}]\n"
		"          default: {filters: [" SET_HEADER("x-over") "]}\n"
		"        - matches: [{path: {type: PathPrefix, value: /z}, "
		"method: GET}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"),
		"10.1.0.9");
	/* /x: a-over's backendRefs, b-base's filters */
	ok = ok && ASSERT_STREQ(go(&h, "GET", "/x", NULL, &r), "v2") &&
	     ASSERT_TRUE(hhead_get(&r, "x-base", &v, &vlen));
	hhead_free(&r);
	/* /y: a-over's filters (b-base's list replaced), b-base's
	 * backendRefs */
	ok = ok && ASSERT_STREQ(go(&h, "GET", "/y", NULL, &r), "v1") &&
	     ASSERT_TRUE(hhead_get(&r, "x-over", &v, &vlen)) &&
	     ASSERT_TRUE(!hhead_get(&r, "x-base", &v, &vlen));
	hhead_free(&r);
	/* /z with GET: a-over's rule alone (another key), no filter */
	ok = ok && ASSERT_STREQ(go(&h, "GET", "/z", NULL, &r), "v2") &&
	     ASSERT_TRUE(!hhead_get(&r, "x-base", &v, &vlen));
	hhead_free(&r);
	ok = ok && ASSERT_STREQ(go(&h, "POST", "/z", NULL, &r), "v1") &&
	     ASSERT_TRUE(hhead_get(&r, "x-base", &v, &vlen));
	hhead_free(&r);
	hr_close(&h);
	return ok;
}

static bool test_split_90_10(void)
{
	unsigned int v1 = 0, v2 = 0;
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default:\n            backendRefs: [" SUBSET("v1", "90")
		", " SUBSET("v2", "10") "]\n"), "10.1.0.9");
	for (int i = 0; ok && i < 1000; i++) {
		const char *e = go(&h, "GET", "/", NULL, NULL);

		v1 += !strcmp(e, "v1");
		v2 += !strcmp(e, "v2");
	}
	hr_close(&h);
	return ok && ASSERT_EQ(v1 + v2, 1000) && ASSERT_GE(v2, 98) &&
	       ASSERT_GE(102, v2);
}

/* RequestMirror: 12.5% of 1,000 requests get a mirror, exactly (the
 * golden-ratio sequence of the weights), the mirror is an endpoint of its
 * backendRef, and the request itself still goes where the rule says; with
 * no percentage, every request is mirrored. */
static bool test_mirror(void)
{
	unsigned int mirrored = 0, to_v1 = 0, wrong = 0;
	struct hroute_decision d;
	struct hhead r;
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: RequestMirror\n"
		"                requestMirror:\n"
		"                  percentage: 12.5\n"
		"                  backendRef: {kind: MeshService, name: api}\n"
		"            backendRefs: [" SUBSET("v1", "1") "]\n"), "10.1.0.9");
	for (int i = 0; ok && i < 1000; i++) {
		if (!req(&r, "GET", "/", NULL) ||
		    !ASSERT_EQ(hroute_decide(h.p, NULL, h.l, -1, h.tr, h.web, &r,
					     &d), 0)) {
			ok = false;
			break;
		}
		to_v1 += d.ep && !strcmp(d.ep->name, "v1");
		if (d.mirror) {
			mirrored++;
			wrong += strcmp(d.mirror->name, "api1") != 0;
		}
		hroute_decision_free(&d);
		hhead_free(&r);
	}
	hr_close(&h);
	ok = ok && ASSERT_EQ(to_v1, 1000) && ASSERT_EQ(wrong, 0) &&
	     ASSERT_GE(mirrored, 124) && ASSERT_GE(126, mirrored);

	mirrored = 0;
	ok = ok && hr_open(&h, MESH ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: RequestMirror\n"
		"                requestMirror:\n"
		"                  backendRef: {kind: MeshService, name: api}\n"),
		"10.1.0.9");
	for (int i = 0; ok && i < 100; i++) {
		if (!req(&r, "GET", "/", NULL) ||
		    !ASSERT_EQ(hroute_decide(h.p, NULL, h.l, -1, h.tr, h.web, &r,
					     &d), 0)) {
			ok = false;
			break;
		}
		mirrored += d.mirror != NULL;
		hroute_decision_free(&d);
		hhead_free(&r);
	}
	if (h.p)
		hr_close(&h);
	return ok && ASSERT_EQ(mirrored, 100);
}

static bool test_filters(void)
{
	struct hhead r;
	const char *v;
	size_t vlen, tlen;
	struct hroute_decision d;
	bool ok;
	struct hr h;

	ok = hr_open(&h, MESH ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /api}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: RequestHeaderModifier\n"
		"                requestHeaderModifier:\n"
		"                  set: [{name: x-route, value: api}]\n"
		"                  add: [{name: x-via, value: mesh}]\n"
		"                  remove: [x-debug]\n"
		"              - type: URLRewrite\n"
		"                urlRewrite:\n"
		"                  hostname: api.internal\n"
		"                  path: {type: ReplacePrefixMatch, replacePrefixMatch: /v2}\n"
		"            backendRefs: [{kind: MeshService, name: api}]\n"
		"        - matches: [{path: {type: Exact, value: /old}}]\n"
		"          default:\n"
		"            filters:\n"
		"              - type: RequestRedirect\n"
		"                requestRedirect:\n"
		"                  scheme: https\n"
		"                  hostname: web.example.com\n"
		"                  path: {type: ReplaceFullPath, replaceFullPath: /new}\n"
		"                  statusCode: 301\n"
		"        - matches: [{path: {type: PathPrefix, value: /keep}}]\n"
		"          default: {}\n"), "10.1.0.9");
	if (!ok)
		goto out;
	{
		static const char *const hdrs[] = { "x-route: old",
			"x-debug: 1", "x-via: client", NULL };

		ok = ASSERT_STREQ(go(&h, "GET", "/api/users?id=1", hdrs, &r),
				  "api1");
	}
	ok = ok && ASSERT_TRUE(hhead_get(&r, "x-route", &v, &vlen)) &&
	     ASSERT_EQ(vlen, 3) && ASSERT_TRUE(!memcmp(v, "api", 3)) &&
	     ASSERT_FALSE(hhead_get(&r, "x-debug", &v, &vlen)) &&
	     ASSERT_TRUE(hhead_get(&r, "host", &v, &vlen)) &&
	     ASSERT_EQ(vlen, 12) && ASSERT_TRUE(!memcmp(v, "api.internal", 12));
	v = hhead_target(&r, &tlen);
	ok = ok && ASSERT_EQ(tlen, 14) && ASSERT_TRUE(!memcmp(v, "/v2/users?id=1", 14));
	/* two x-via now: the client's and the route's */
	{
		unsigned int n = 0;

		for (uint32_t i = 0; i < r.nf; i++)
			n += r.f[i].name.len == 5 &&
			     !strncasecmp(r.buf + r.f[i].name.off, "x-via", 5);
		ok = ok && ASSERT_EQ(n, 2);
	}
	hhead_free(&r);
	ok = ok && req(&r, "GET", "/old?x=1", NULL) &&
	     ASSERT_EQ(hroute_decide(h.p, NULL, h.l, -1, -1, h.web, &r, &d), 0) &&
	     ASSERT_EQ(d.status, 301) && ASSERT_TRUE(d.ep == NULL) &&
	     ASSERT_STREQ(d.location, "https://web.example.com/new?x=1") &&
	     ASSERT_STREQ(d.route, "r");
	hroute_decision_free(&d);
	hhead_free(&r);
	/* A rule without backendRefs keeps its destination. */
	ok = ok && ASSERT_TRUE(go(&h, "GET", "/keep", NULL, NULL)[0] == 'v');
out:
	hr_close(&h);
	return ok;
}

/* RegularExpression matches: whole values, compiled once with the
 * snapshot; a hostile input does not make one backtrack. */
static bool test_regex(void)
{
	static const char *const v7[] = { "x-ver: v7", NULL };
	static const char *const v77[] = { "x-ver: xv7", NULL };
	char evil[64];
	struct hr h;
	bool ok;

	/* What no rule takes goes to v1, by a TrafficRoute: a "/"
	 * PathPrefix would come before a RegularExpression. */
	ok = hr_open(&h, MESH ROUTE("r", "{kind: Mesh}",
		"        - matches:\n"
		"            - path: {type: RegularExpression, value: '/items/[0-9]+'}\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n"
		"        - matches:\n"
		"            - headers: [{type: RegularExpression, name: x-ver, value: 'v[0-9]'}]\n"
		"            - queryParams: [{type: RegularExpression, name: id, value: '(a+)+'}]\n"
		"          default: {backendRefs: [" SUBSET("v2", "1") "]}\n")
		"---\napiVersion: kuma.io/v1alpha1\nkind: TrafficRoute\n"
		"metadata: {name: rest}\nspec:\n"
		"  sources: [{match: {kuma.io/service: '*'}}]\n"
		"  destinations: [{match: {kuma.io/service: web}}]\n"
		"  conf: {destination: {kuma.io/service: web, version: v1}}\n",
		"10.1.0.9");
	/* (a+)+ against a's and a b: exponential for a backtracking
	 * engine, one pass for this one. */
	memset(evil, 0, sizeof(evil));
	strcpy(evil, "/q?id=");
	memset(evil + 6, 'a', 40);
	evil[46] = 'b';
	ok = ok && ASSERT_STREQ(go(&h, "GET", "/items/42", NULL, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/items/42/x", NULL, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "GET", "/items/", NULL, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "GET", "/", v7, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", "/", v77, NULL), "v1") &&
	     ASSERT_STREQ(go(&h, "GET", "/q?id=aaaa", NULL, NULL), "v2") &&
	     ASSERT_STREQ(go(&h, "GET", evil, NULL, NULL), "v1");
	hr_close(&h);
	return ok;
}

/* Two MeshServices labelled app: backend (one with two Workloads) and one
 * labelled otherwise, each on 8080; be-west on 9090 too. */
#define MZS_WL(name, ip, app)                                                 \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Workload\n"           \
	"metadata: {name: " name ", labels: {app: " app "}}\n"               \
	"spec: {node: n1, ip: " ip ", port: 8080, "                           \
	"identity: \"spiffe://mesh.local/ns/default/sa/" app "\"}\n"
#define MZS_MS(name, app, group, ports)                                       \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshService\n"             \
	"metadata: {name: " name ", labels: {group: " group "}}\n"           \
	"spec:\n  selector: {dataplaneLabels: {matchLabels: {app: " app "}}}\n" \
	"  ports: " ports "\n"
#define MZS_BACKENDS                                                          \
	MZS_MS("be-east", "east", "backend", "[{port: 8080, targetPort: 8080}]") \
	MZS_MS("be-west", "west", "backend",                                  \
	       "[{port: 8080, targetPort: 8080}, {port: 9090, targetPort: 8080}]") \
	MZS_MS("be-else", "else", "other", "[{port: 8080, targetPort: 8080}]") \
	MZS_WL("e1", "10.1.1.1", "east") MZS_WL("e2", "10.1.1.2", "east")     \
	MZS_WL("w1", "10.1.1.3", "west") MZS_WL("x1", "10.1.1.4", "else")     \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshMultiZoneService\n"    \
	"metadata: {name: backend}\nspec:\n"                                  \
	"  selector: {meshService: {matchLabels: {group: backend}}}\n"       \
	"  ports: [{port: 8080, appProtocol: http}, {port: 9090}]\n"

/* A backendRef to a MeshMultiZoneService goes round robin over the
 * endpoints of the MeshServices it selects that have the port it names:
 * both selected ones at 8080, be-west alone at 9090; never the
 * MeshService it does not select; a port it has none at, or a name no
 * MeshMultiZoneService has, is a 503. */
static bool test_multi_zone_backend(void)
{
	static const char *const names[] = { "e1", "e2", "w1", "x1" };
	unsigned int seen[4] = { 0 }, w1 = 0, other = 0;
	const char *r;
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH MZS_BACKENDS ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /all}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshMultiZoneService, "
		"name: backend, port: 8080}]\n"
		"        - matches: [{path: {type: PathPrefix, value: /west}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshMultiZoneService, "
		"name: backend, port: 9090}]\n"
		"        - matches: [{path: {type: PathPrefix, value: /none}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshMultiZoneService, "
		"name: backend, port: 7070}]\n"
		"        - matches: [{path: {type: PathPrefix, value: /gone}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshMultiZoneService, "
		"name: nobody, port: 8080}]\n"), "10.1.0.9");
	for (int i = 0; ok && i < 30; i++) {
		r = go(&h, "GET", "/all", NULL, NULL);
		for (size_t j = 0; j < 4; j++)
			seen[j] += !strcmp(r, names[j]);
	}
	for (int i = 0; ok && i < 10; i++) {
		r = go(&h, "GET", "/west", NULL, NULL);
		w1 += !strcmp(r, "w1");
		other += strcmp(r, "w1") != 0;
	}
	ok = ok && ASSERT_EQ(seen[0], 10u) && ASSERT_EQ(seen[1], 10u) &&
	     ASSERT_EQ(seen[2], 10u) && ASSERT_EQ(seen[3], 0u) &&
	     ASSERT_EQ(w1, 10u) && ASSERT_EQ(other, 0u) &&
	     ASSERT_STREQ(go(&h, "GET", "/none", NULL, NULL), "503") &&
	     ASSERT_STREQ(go(&h, "GET", "/gone", NULL, NULL), "503");
	if (h.p)
		hr_close(&h);
	return ok;
}

/* spec.state: be-west Unavailable, the traffic to 8080 goes to be-east's
 * endpoints alone, and 9090, which only be-west has, is a 503 as a
 * MeshMultiZoneService without members is. */
static bool test_multi_zone_unavailable(void)
{
	unsigned int east = 0, other = 0;
	const char *r;
	struct hr h;
	bool ok;

	ok = hr_open(&h, MESH
		MZS_MS("be-east", "east", "backend",
		       "[{port: 8080, targetPort: 8080}]")
		MZS_MS("be-west", "west", "backend",
		       "[{port: 8080, targetPort: 8080}, "
		       "{port: 9090, targetPort: 8080}]")
		"  state: Unavailable\n"
		MZS_WL("e1", "10.1.1.1", "east") MZS_WL("e2", "10.1.1.2", "east")
		MZS_WL("w1", "10.1.1.3", "west")
		"---\napiVersion: kuma.io/v1alpha1\nkind: MeshMultiZoneService\n"
		"metadata: {name: backend}\nspec:\n"
		"  selector: {meshService: {matchLabels: {group: backend}}}\n"
		"  ports: [{port: 8080, appProtocol: http}, {port: 9090}]\n"
		ROUTE("r", "{kind: Mesh}",
		"        - matches: [{path: {type: PathPrefix, value: /all}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshMultiZoneService, "
		"name: backend, port: 8080}]\n"
		"        - matches: [{path: {type: PathPrefix, value: /west}}]\n"
		"          default:\n"
		"            backendRefs: [{kind: MeshMultiZoneService, "
		"name: backend, port: 9090}]\n"), "10.1.0.9");
	for (int i = 0; ok && i < 20; i++) {
		r = go(&h, "GET", "/all", NULL, NULL);
		east += !strcmp(r, "e1") || !strcmp(r, "e2");
		other += strcmp(r, "e1") && strcmp(r, "e2");
	}
	ok = ok && ASSERT_EQ(east, 20u) && ASSERT_EQ(other, 0u) &&
	     ASSERT_STREQ(go(&h, "GET", "/west", NULL, NULL), "503");
	if (h.p)
		hr_close(&h);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_order_and_matches);
	TEST_RUN(test_selection);
	TEST_RUN(test_split_90_10);
	TEST_RUN(test_identical_matches_merged);
	TEST_RUN(test_filters);
	TEST_RUN(test_regex);
	TEST_RUN(test_mirror);
	TEST_RUN(test_multi_zone_backend);
	TEST_RUN(test_multi_zone_unavailable);
	TEST_MAIN_END();
}
