// SPDX-License-Identifier: Apache-2.0
/*
 * Policy selection and precedence (lib/select.c): every rule of
 * docs/policy.md "Selecting and merging policies" with a case, and the
 * worked examples of that section, on hand-built MeshTimeout and
 * TrafficRoute records.
 */
#include <stdarg.h>

#include "harness/test.h"

#include "policy/kinds.h"
#include "policy/select.h"

/* ---- a tiny tagset store: ids 1.. ------------------------------------- */
#define TSTORE_MAX 64

static struct mf_tagset tstore[TSTORE_MAX];
static uint32_t ntstore;

/* Interns the tags given as key, value, ..., NULL; returns the id. */
static uint32_t intern(const char *key, ...)
{
	struct mf_tagset *ts;
	va_list ap;

	if (ntstore >= TSTORE_MAX) {
		fprintf(stderr, "test_select: tagset store full\n");
		exit(2);
	}
	ts = &tstore[ntstore];	/* zero: each slot is filled once */
	va_start(ap, key);
	for (const char *k = key; k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);

		snprintf(ts->tags[ts->n].key, MF_TAG_KEY_MAX, "%s", k);
		snprintf(ts->tags[ts->n].value, MF_TAG_VALUE_MAX, "%s", v);
		ts->n++;
	}
	va_end(ap);
	return ++ntstore;
}

/* The tag set of key, value, ... */
#define T(...)	intern(__VA_ARGS__, NULL)
/* ... of service @svc (the implicit tag), then key, value, ... */
#define ST(...)	T(SEL_SERVICE_TAG, __VA_ARGS__)

static const struct mf_tagset *tags_cb(void *arg, uint32_t id)
{
	(void)arg;
	return id >= 1 && id <= ntstore ? &tstore[id - 1] : NULL;
}

static const struct mf_tagset *TS(uint32_t id)
{
	return tags_cb(NULL, id);
}

/* The MeshHTTPRoute "web-api" targets the proxies of service web. */
static const struct mf_ref route_web_api = {
	.kind = MF_REF_MESH_SERVICE, .name = "web",
};

static const struct mf_ref *route_cb(void *arg, const char *name)
{
	(void)arg;
	return strcmp(name, "web-api") == 0 ? &route_web_api : NULL;
}

/* Object labels: Service web has {app: web, k8s.kuma.io/namespace: shop},
 * Workload web-1 {track: stable}, route web-api {tier: edge}. */
static uint32_t labels_web, labels_web1, labels_route;

static const struct mf_tagset *labels_cb(void *arg, uint8_t kind,
					 const char *name)
{
	(void)arg;
	if (kind == MF_REF_MESH_SERVICE && !strcmp(name, "web"))
		return tags_cb(NULL, labels_web);
	if (kind == MF_REF_WORKLOAD && !strcmp(name, "web-1"))
		return tags_cb(NULL, labels_web1);
	if (kind == MF_REF_MESH_HTTP_ROUTE && !strcmp(name, "web-api"))
		return tags_cb(NULL, labels_route);
	return NULL;
}

static const struct sel_ctx ctx = { .tags = tags_cb, .labels = labels_cb };
static const struct sel_ctx ctx_routes = {
	.tags = tags_cb, .route_target = route_cb, .labels = labels_cb,
};

static struct mf_ref ref(uint8_t kind, const char *name, uint32_t tags)
{
	struct mf_ref r = { .kind = kind, .tags = tags };

	if (name)
		snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

/* ---- MeshTimeout records ---------------------------------------------- */
#define CT	(1u << 0)	/* connectionTimeout */
#define IDLE	(1u << 1)	/* idleTimeout */
#define HTTP	(1u << 2)	/* http */
#define REQ	(1u << 0)	/* http.requestTimeout */

static struct mf_timeout mt(struct mf_ref target, uint8_t section,
			    struct mf_ref entry)
{
	struct mf_timeout r;

	memset(&r, 0, sizeof(r));
	r.hdr.target = target;
	r.hdr.ref = entry;
	r.hdr.section = section;
	return r;
}

/* @r with connectionTimeout, idleTimeout or http.requestTimeout set. */
static struct mf_timeout ct(struct mf_timeout r, uint32_t ms)
{
	r.conf.present |= CT;
	r.conf.connection_timeout = ms;
	return r;
}

static struct mf_timeout idle(struct mf_timeout r, uint32_t ms)
{
	r.conf.present |= IDLE;
	r.conf.idle_timeout = ms;
	return r;
}

static struct mf_timeout req(struct mf_timeout r, uint32_t ms)
{
	r.conf.present |= HTTP;
	r.conf.http.present |= REQ;
	r.conf.http.request_timeout = ms;
	return r;
}

/* What the last eff() merged, and the policies it merged (eff_named()),
 * in merge order. */
static struct mf_timeout_conf out;
static const char *names[5];

/* The MeshTimeout conf @self gets for @section with @peer from the @n
 * candidates @c, into out; the names of up to @max_names of the policies
 * go to names (a NULL array when 0).  What sel_effective() returns. */
static int eff_named(const struct sel_cand *c, size_t n,
		     const struct sel_workload *self, uint8_t section,
		     const struct sel_workload *peer, size_t max_names)
{
	struct sel_query q = { .self = self, .section = section, .peer = peer };

	/* Garbage first: the result must not depend on what was there. */
	memset(&out, 0xa5, sizeof(out));
	return sel_effective(&kind_mesh_timeout, c, n, &q, &ctx, &out,
			     max_names ? names : NULL, max_names);
}

#define eff(c, n, self, section, peer) eff_named(c, n, self, section, peer, 0)

/* A candidate: record @v of policy @n, entry @i, without labels. */
#define C(v, n, i)	{ (v), (n), (i), NULL }

#define MESH		ref(MF_REF_MESH, NULL, 0)
#define SVC(n)		ref(MF_REF_MESH_SERVICE, n, 0)
/* A MeshSubset of the tags key, value, ... */
#define SUBSET(...)	ref(MF_REF_MESH_SUBSET, NULL, T(__VA_ARGS__))

/* Services web, api, backend; workloads web-1 (version v1, team a),
 * web-2 (version v2), api-1 (no tags). */
static uint32_t tags_web1, tags_web2;
static struct sel_workload web1, web2, api1;
static const struct sel_workload dest_web = { .service = "web" };
static const struct sel_workload dest_api = { .service = "api" };
static const struct sel_workload dest_backend = { .service = "backend" };

static void setup(void)
{
	labels_web = T("app", "web", SEL_NAMESPACE_LABEL, "shop");
	labels_web1 = T("track", "stable");
	labels_route = T("tier", "edge");
	tags_web1 = T("team", "a", "version", "v1");
	tags_web2 = T("version", "v2");
	web1 = (struct sel_workload){ "web-1", "web", TS(tags_web1), NULL,
				      8080, NULL, 0, NULL };
	web2 = (struct sel_workload){ "web-2", "web", TS(tags_web2), NULL,
				      8081, NULL, 0, NULL };
	api1 = (struct sel_workload){ "api-1", "api", NULL, NULL, 9090,
			NULL, 0, NULL };
}

/* ---- targetRef kinds: selecting and not selecting --------------------- */
static bool test_kind_rank_order(void)
{
	/* Kuma's order (its targetRef "order" map). */
	static const uint8_t order[] = {
		MF_REF_MESH, MF_REF_WORKLOAD, MF_REF_MESH_SUBSET,
		MF_REF_MESH_GATEWAY, MF_REF_MESH_SERVICE,
		MF_REF_MESH_EXTERNAL_SERVICE, MF_REF_MESH_MULTI_ZONE_SERVICE,
		MF_REF_MESH_SERVICE_SUBSET, MF_REF_MESH_HTTP_ROUTE,
	};

	for (size_t i = 0; i < sizeof(order); i++)
		if (!ASSERT_EQ(sel_kind_rank(order[i]), (int)i + 1))
			return false;
	return ASSERT_EQ(sel_kind_rank(0), 0) &&
	       ASSERT_EQ(sel_kind_rank(MF_REF_KIND_MAX), 0);
}

/* Ends the workloads of YES() and NO() (end of list), where NULL is one:
 * no workload at all. */
static const struct sel_workload eol;

/* @r (on no route) selects every workload after it when @want, none of
 * them when not. */
static bool selects(bool want, struct mf_ref r, ...)
{
	const struct sel_workload *w;
	bool ok = true;
	va_list ap;

	va_start(ap, r);
	while (ok && (w = va_arg(ap, const struct sel_workload *)) != &eol) {
		ok = ASSERT_EQ(sel_ref_selects(&r, w, NULL, &ctx), want);
		if (!ok)
			fprintf(stderr, "  ref %u %s, workload %s of %s\n",
				r.kind, r.name, w && w->name ? w->name : "-",
				w && w->service ? w->service : "-");
	}
	va_end(ap);
	return ok;
}

#define YES(r, ...) selects(true, r, __VA_ARGS__, &eol)
#define NO(r, ...) selects(false, r, __VA_ARGS__, &eol)

static bool test_ref_mesh(void)
{
	return YES(MESH, &web1, &api1, &dest_backend, NULL);
}

static bool test_ref_absent_kind(void)
{
	return NO(ref(0, NULL, 0), &web1);
}

static bool test_ref_mesh_subset(void)
{
	struct mf_ref team_a = SUBSET("team", "a");
	struct mf_ref both = SUBSET("team", "a", "version", "v1");
	struct mf_ref v2 = SUBSET("version", "v2");
	struct mf_ref none = ref(MF_REF_MESH_SUBSET, NULL, 0);
	struct mf_ref unknown = ref(MF_REF_MESH_SUBSET, NULL, 999);

	return YES(team_a, &web1) && NO(team_a, &web2, &api1) &&
	       YES(both, &web1) &&
	       NO(v2, &web1) && YES(v2, &web2) &&
	       /* no tags: every workload; unresolvable tags: none */
	       YES(none, &api1) && NO(unknown, &web1);
}

static bool test_ref_star_value(void)
{
	struct mf_ref any_version = SUBSET("version", "*");

	/* "*" matches any value of the key, but the key must be there. */
	return YES(any_version, &web1, &web2) && NO(any_version, &api1);
}

static bool test_implicit_service_tag(void)
{
	struct mf_ref svc_web = SUBSET(SEL_SERVICE_TAG, "web");
	struct mf_ref svc_any = SUBSET(SEL_SERVICE_TAG, "*");
	/* A workload whose own tags claim another service: the Service it
	 * belongs to is what counts. */
	struct sel_workload liar = {
		"web-3", "web", TS(ST("api")), NULL, 8080, NULL, 0, NULL,
	};
	struct sel_workload serviceless = { "lone", NULL, NULL, NULL, 80,
			NULL, 0, NULL };

	return YES(svc_web, &web2) && NO(svc_web, &api1) &&
	       /* api-1 has no tags at all, only the implicit one */
	       YES(svc_any, &api1) && YES(svc_web, &liar) &&
	       NO(svc_any, &serviceless) &&
	       /* a service-level destination carries the tag too */
	       YES(svc_web, &dest_web);
}

static bool test_ref_mesh_service(void)
{
	return YES(SVC("web"), &web1, &dest_web) &&
	       NO(SVC("web"), &api1, &dest_api, NULL);
}

static bool test_ref_mesh_service_subset(void)
{
	struct mf_ref web_v1 = ref(MF_REF_MESH_SERVICE_SUBSET, "web",
				   T("version", "v1"));
	struct mf_ref api_v1 = ref(MF_REF_MESH_SERVICE_SUBSET, "api",
				   T("version", "v1"));

	return YES(web_v1, &web1) && NO(web_v1, &web2) && NO(api_v1, &web1);
}

static bool test_ref_workload(void)
{
	struct mf_ref r = ref(MF_REF_WORKLOAD, "web-1", 0);
	struct mf_ref tagged = ref(MF_REF_WORKLOAD, "web-1",
				   T("version", "v2"));

	return YES(r, &web1) && NO(r, &web2, &dest_web) && NO(tagged, &web1);
}

static bool test_ref_mesh_gateway(void)
{
	struct mf_ref r = ref(MF_REF_MESH_GATEWAY, "edge", 0);
	struct sel_workload gw = { "edge-1", "edge-gw", NULL, "edge", 8080,
			NULL, 0, NULL };
	struct sel_workload other = { "int-1", "int-gw", NULL, "internal",
				      8080, NULL, 0, NULL };

	return YES(r, &gw) && NO(r, &other, &web1);
}

static bool test_ref_mesh_http_route(void)
{
	struct mf_ref r = ref(MF_REF_MESH_HTTP_ROUTE, "web-api", 0);

	/* Only on that route's traffic, and (resolved) only on the proxies
	 * the route itself targets. */
	return ASSERT_TRUE(sel_ref_selects(&r, &web1, "web-api", &ctx_routes)) &&
	       ASSERT_FALSE(sel_ref_selects(&r, &web1, NULL, &ctx_routes)) &&
	       ASSERT_FALSE(sel_ref_selects(&r, &web1, "other", &ctx_routes)) &&
	       ASSERT_FALSE(sel_ref_selects(&r, &api1, "web-api", &ctx_routes)) &&
	       /* without a resolver the route name alone decides */
	       ASSERT_TRUE(sel_ref_selects(&r, &api1, "web-api", &ctx));
}

/* A ref with @labels (key, value, ...) instead of a name. */
static struct mf_ref by_labels(uint8_t kind, uint32_t labels)
{
	struct mf_ref r = ref(kind, NULL, 0);

	r.labels = labels;
	return r;
}

static bool test_ref_labels(void)
{
	struct mf_ref app_web = by_labels(MF_REF_MESH_SERVICE, T("app", "web"));
	struct mf_ref shown = by_labels(MF_REF_MESH_SERVICE,
					T(SEL_DISPLAY_NAME_LABEL, "api"));
	struct mf_ref both = by_labels(MF_REF_MESH_SERVICE,
				       T("app", "web", "tier", "x"));
	struct mf_ref stable = by_labels(MF_REF_WORKLOAD,
					 T("track", "stable"));
	struct mf_ref shown_w2 = by_labels(MF_REF_WORKLOAD,
					   T(SEL_DISPLAY_NAME_LABEL, "web-2"));
	struct mf_ref unknown = by_labels(MF_REF_MESH_SERVICE, 999);
	struct mf_ref route = by_labels(MF_REF_MESH_HTTP_ROUTE,
					T("tier", "edge"));

	/* Labels of the object; kuma.io/display-name is its name; every
	 * label must match; an unresolvable selector selects nothing. */
	return YES(app_web, &web1, &web2, &dest_web) &&
	       NO(app_web, &api1, &dest_api) &&
	       YES(shown, &api1, &dest_api) && NO(shown, &web1) &&
	       NO(both, &web1) && NO(unknown, &web1) &&
	       YES(stable, &web1) && NO(stable, &web2, &dest_web) &&
	       YES(shown_w2, &web2) && NO(shown_w2, &web1) &&
	       ASSERT_TRUE(sel_ref_selects(&route, &web1, "web-api",
					   &ctx_routes)) &&
	       ASSERT_FALSE(sel_ref_selects(&route, &web1, "other",
					    &ctx_routes));
}

static bool test_ref_namespace_section_proxy_types(void)
{
	struct mf_ref shop = SVC("web"), other = SVC("web");
	struct mf_ref port = SVC("web"), name_port = SVC("web");
	struct mf_ref all = ref(MF_REF_WORKLOAD, NULL, 0);
	struct mf_ref dp_port = ref(MF_REF_WORKLOAD, "web-1", 0);
	struct mf_ref gw_only = MESH, sidecars = SUBSET("team", "a");
	struct sel_workload gw = { "edge-1", "edge-gw", NULL, "edge", 8080,
			NULL, 0, NULL };

	snprintf(shop.namespace, sizeof(shop.namespace), "shop");
	snprintf(other.namespace, sizeof(other.namespace), "other");
	snprintf(port.section, sizeof(port.section), "8081");
	snprintf(name_port.section, sizeof(name_port.section), "http");
	snprintf(dp_port.section, sizeof(dp_port.section), "8080");
	gw_only.proxy_types = MF_PROXY_GATEWAY;
	sidecars.proxy_types = MF_PROXY_SIDECAR;
	/* namespace: the object's k8s.kuma.io/namespace label; sectionName:
	 * the port (no named ports here); a Dataplane ref without a name
	 * or labels: every workload; proxyTypes: gateways or the rest. */
	return YES(shop, &web1) && NO(other, &web1) &&
	       YES(port, &web2) && NO(port, &web1) && NO(name_port, &web1) &&
	       YES(all, &web1, &api1, &gw) && NO(all, &dest_web) &&
	       YES(dp_port, &web1) &&
	       YES(gw_only, &gw) && NO(gw_only, &web1) &&
	       YES(sidecars, &web1) && NO(sidecars, &gw);
}

/* kuma.io/effect: shadow takes a policy out; kuma.io/origin and
 * kuma.io/policy-role order the rest before their names do. */
static bool test_policy_labels(void)
{
	struct mf_timeout a = ct(mt(MESH, MF_SEC_TO, MESH), 1000);
	struct mf_timeout b = ct(mt(MESH, MF_SEC_TO, MESH), 2000);
	struct mf_timeout z = ct(mt(MESH, MF_SEC_TO, MESH), 3000);
	struct sel_cand c[] = { C(&a, "a", 0), C(&b, "b", 0), C(&z, "z", 0) };

	/* Plain: "a" sorts first, so it wins. */
	if (!ASSERT_EQ(eff(c, 3, &web1, MF_SEC_TO, &dest_api), 3) ||
	    !ASSERT_EQ(out.connection_timeout, 1000))
		return false;
	/* From a zone, "z" beats the others; a producer beats system. */
	c[2].labels = TS(T("kuma.io/origin", "zone"));
	c[1].labels = TS(T("kuma.io/policy-role", "producer"));
	if (!ASSERT_EQ(eff_named(c, 3, &web1, MF_SEC_TO, &dest_api, 3), 3) ||
	    !ASSERT_EQ(out.connection_timeout, 3000) ||
	    !ASSERT_STREQ(names[0], "a") || !ASSERT_STREQ(names[1], "b"))
		return false;
	c[1].labels = TS(T("kuma.io/origin", "global"));
	if (!ASSERT_EQ(eff_named(c, 3, &web1, MF_SEC_TO, &dest_api, 3), 3) ||
	    !ASSERT_STREQ(names[0], "b"))
		return false;
	c[2].labels = TS(T("kuma.io/effect", "shadow"));
	return ASSERT_EQ(eff(c, 3, &web1, MF_SEC_TO, &dest_api), 2) &&
	       ASSERT_EQ(out.connection_timeout, 1000);
}

/* A rule record of MeshTimeout: @spiffe (Exact or Prefix, 0: none) and
 * @sni (NULL: none). */
static struct mf_timeout rule(uint8_t type, const char *spiffe,
			      const char *sni)
{
	struct mf_timeout r = mt(MESH, MF_SEC_RULE, ref(0, NULL, 0));

	r.hdr.match.spiffe_type = type;
	if (spiffe)
		snprintf(r.hdr.match.spiffe, MF_SPIFFE_MAX, "%s", spiffe);
	if (sni) {
		r.hdr.match.sni_type = MF_AUTHZ_MATCH_EXACT;
		snprintf(r.hdr.match.sni, MF_SNI_MAX, "%s", sni);
	}
	return r;
}

/* The idle timeout the inbound rules of @c give web-1 for a peer with
 * @id and @sni (either NULL); 0 when none applies. */
static uint32_t rule_idle(const struct sel_cand *c, size_t n, const char *id,
			  const char *sni)
{
	struct sel_query q = { .self = &web1, .section = MF_SEC_RULE,
			       .peer_id = id, .sni = sni };
	int got = sel_effective(&kind_mesh_timeout, c, n, &q, &ctx, &out,
				NULL, 0);

	return got > 0 && (out.present & IDLE) ? out.idle_timeout : 0;
}

/* Inbound rules: a match must hold for the peer; the more specific match
 * wins (Exact over Prefix over none; an sni over none). */
static bool test_rules_section(void)
{
	struct mf_timeout r[4] = {
		idle(rule(0, NULL, NULL), 1000),
		idle(rule(MF_AUTHZ_MATCH_PREFIX, "spiffe://mesh.local/ns/",
			  NULL), 2000),
		idle(rule(MF_AUTHZ_MATCH_EXACT, "spiffe://mesh.local/ns/a/sa/b",
			  NULL), 3000),
		idle(rule(0, NULL, "web.mesh"), 4000),
	};
	/* Listed most specific first: the order is the match's, not the
	 * input's. */
	struct sel_cand c[] = { C(&r[2], "p", 2), C(&r[1], "p", 1),
				C(&r[3], "p", 3), C(&r[0], "p", 0) };

	return ASSERT_EQ(rule_idle(c, 4, "spiffe://mesh.local/ns/a/sa/b", NULL),
			 3000) &&
	       ASSERT_EQ(rule_idle(c, 4, "spiffe://mesh.local/ns/x/sa/y", NULL),
			 2000) &&
	       ASSERT_EQ(rule_idle(c, 4, "spiffe://other/ns/a/sa/b", NULL),
			 1000) &&
	       ASSERT_EQ(rule_idle(c, 4, NULL, NULL), 1000) &&
	       ASSERT_EQ(rule_idle(c, 4, NULL, "web.mesh"), 4000) &&
	       /* an Exact spiffeID outranks an sni */
	       ASSERT_EQ(rule_idle(c, 4, "spiffe://mesh.local/ns/a/sa/b",
				   "web.mesh"), 3000) &&
	       /* an exact ID is not a prefix of a longer one */
	       ASSERT_EQ(rule_idle(c + 0, 1, "spiffe://mesh.local/ns/a/sa/bc",
				   NULL), 0);
}

/* ---- precedence ------------------------------------------------------- */
static bool test_cmp_keys(void)
{
#define RANK(t, e, n, i)                                                      \
	{ .target = (t), .origin = 2, .role = 1, .entry = (e), .name = (n),   \
	  .index = (i) }
	struct sel_rank mesh_b = RANK(1, 1, "b", 0);
	struct sel_rank mesh_a = RANK(1, 1, "a", 0);
	struct sel_rank svc_z = RANK(5, 1, "z", 0);
	struct sel_rank mesh_a_svc = RANK(1, 5, "z", 0);
	struct sel_rank a1 = RANK(1, 1, "a", 1);
	struct sel_rank zone = mesh_b, owner = mesh_b, dp = mesh_b;
	struct sel_rank dp_named = mesh_b, sect = mesh_b;
#undef RANK

	zone.origin = 3;	/* kuma.io/origin: zone */
	owner.role = 4;		/* kuma.io/policy-role: workload-owner */
	dp.target = 2;
	dp_named = dp;
	dp_named.target_sub = 2;
	sect.entry_sub = 1;
	return ASSERT_TRUE(sel_cmp(&mesh_b, &mesh_a) < 0) &&	/* a wins */
	       ASSERT_TRUE(sel_cmp(&mesh_a, &svc_z) < 0) &&	/* target */
	       ASSERT_TRUE(sel_cmp(&mesh_a, &mesh_a_svc) < 0) &&	/* entry */
	       ASSERT_TRUE(sel_cmp(&mesh_a_svc, &svc_z) < 0) &&	/* target 1st */
	       ASSERT_TRUE(sel_cmp(&mesh_a, &a1) < 0) &&	/* index */
	       ASSERT_EQ(sel_cmp(&a1, &a1), 0) &&
	       /* the target's sub-rank, origin and role come before the
		* entry, the entry's section before the name */
	       ASSERT_TRUE(sel_cmp(&dp, &dp_named) < 0) &&
	       ASSERT_TRUE(sel_cmp(&mesh_a_svc, &zone) < 0) &&
	       ASSERT_TRUE(sel_cmp(&zone, &owner) > 0) &&
	       ASSERT_TRUE(sel_cmp(&mesh_a_svc, &owner) < 0) &&
	       ASSERT_TRUE(sel_cmp(&mesh_a, &sect) < 0);
}

static bool test_specificity_order(void)
{
	/* Names against the specificity order: a name never beats it. */
	static const char *const name[5] = {
		"z-dataplane", "y-subset", "x-service", "b-team", "a-mesh",
	};
	struct mf_timeout r[5];
	struct sel_cand c[5];

	/* Listed most specific first to show input order does not matter. */
	r[0] = mt(ref(MF_REF_WORKLOAD, "web-1", 0), MF_SEC_TO, MESH);
	r[1] = mt(ref(MF_REF_MESH_SERVICE_SUBSET, "web", T("version", "v1")),
		  MF_SEC_TO, MESH);
	r[2] = mt(SVC("web"), MF_SEC_TO, MESH);
	r[3] = mt(SUBSET("team", "a"), MF_SEC_TO, MESH);
	r[4] = mt(MESH, MF_SEC_TO, MESH);
	for (int i = 0; i < 5; i++) {
		r[i] = ct(r[i], 1000u * (uint32_t)(5 - i));	/* 5s .. 1s */
		c[i] = (struct sel_cand)C(&r[i], name[i], 0);
	}
	/* Kuma's order: Mesh, Dataplane, MeshSubset, MeshService,
	 * MeshServiceSubset. */
	return ASSERT_EQ(eff_named(c, 5, &web1, MF_SEC_TO, &dest_api, 5), 5) &&
	       ASSERT_EQ(out.connection_timeout, 4000) &&
	       ASSERT_STREQ(names[0], "a-mesh") &&
	       ASSERT_STREQ(names[1], "z-dataplane") &&
	       ASSERT_STREQ(names[2], "b-team") &&
	       ASSERT_STREQ(names[3], "x-service") &&
	       ASSERT_STREQ(names[4], "y-subset") &&
	       /* web-2: only Mesh and MeshService select it. */
	       ASSERT_EQ(eff_named(c, 5, &web2, MF_SEC_TO, &dest_api, 5), 2) &&
	       ASSERT_EQ(out.connection_timeout, 3000) &&
	       ASSERT_STREQ(names[1], "x-service") &&
	       /* api-1: only Mesh. */
	       ASSERT_EQ(eff_named(c, 5, &api1, MF_SEC_TO, &dest_web, 5), 1) &&
	       ASSERT_EQ(out.connection_timeout, 1000) &&
	       ASSERT_STREQ(names[0], "a-mesh");
}

static bool test_equal_specificity_by_name(void)
{
	/* a-timeouts: idle 10m; b-timeouts: idle 30m, and only b sets the
	 * connection timeout. */
	struct mf_timeout a = idle(mt(MESH, MF_SEC_TO, MESH), 600000);
	struct mf_timeout b = ct(idle(mt(MESH, MF_SEC_TO, MESH), 1800000),
				 3000);
	struct sel_cand fwd[] = {
		C(&a, "a-timeouts", 0), C(&b, "b-timeouts", 0),
	};
	struct sel_cand rev[] = {
		C(&b, "b-timeouts", 0), C(&a, "a-timeouts", 0),
	};

	return ASSERT_EQ(eff_named(fwd, 2, &web1, MF_SEC_TO, &dest_api, 2), 2) &&
	       ASSERT_EQ(out.idle_timeout, 600000) &&	/* a wins */
	       ASSERT_EQ(out.connection_timeout, 3000) &&
	       ASSERT_STREQ(names[0], "b-timeouts") &&
	       ASSERT_STREQ(names[1], "a-timeouts") &&
	       ASSERT_EQ(eff_named(rev, 2, &web1, MF_SEC_TO, &dest_api, 2), 2) &&
	       ASSERT_EQ(out.idle_timeout, 600000) &&
	       ASSERT_STREQ(names[1], "a-timeouts");
}

/* ---- to/from entries -------------------------------------------------- */
static bool test_to_entries_match_destination(void)
{
	struct mf_timeout r[2] = {
		ct(mt(MESH, MF_SEC_TO, SVC("web")), 1000),
		ct(mt(MESH, MF_SEC_TO, SVC("api")), 2000),
	};
	struct sel_cand c[] = { C(&r[0], "p", 0), C(&r[1], "p", 1) };

	return ASSERT_EQ(eff(c, 2, &api1, MF_SEC_TO, &dest_web), 1) &&
	       ASSERT_EQ(out.connection_timeout, 1000) &&
	       ASSERT_EQ(eff(c, 2, &web1, MF_SEC_TO, &dest_api), 1) &&
	       ASSERT_EQ(out.connection_timeout, 2000) &&
	       ASSERT_EQ(eff(c, 2, &web1, MF_SEC_TO, &dest_backend), 0) &&
	       ASSERT_EQ(out.present, 0) &&
	       /* unknown peer: only Mesh entries could match */
	       ASSERT_EQ(eff(c, 2, &web1, MF_SEC_TO, NULL), 0);
}

static bool test_to_entries_own_specificity(void)
{
	/* One policy: the MeshService entry comes first in to[], yet it
	 * wins for backend because it is more specific than Mesh. */
	struct mf_timeout r[2] = {
		req(mt(MESH, MF_SEC_TO, SVC("backend")), 60000),
		req(mt(MESH, MF_SEC_TO, MESH), 15000),
	};
	struct sel_cand c[] = {
		C(&r[0], "backend-slow", 0), C(&r[1], "backend-slow", 1),
	};
	/* Two policies, same top level: the entry's kind beats the name. */
	struct mf_timeout s[2] = {
		ct(mt(MESH, MF_SEC_TO, MESH), 5000),
		ct(mt(MESH, MF_SEC_TO, SVC("backend")), 1000),
	};
	struct sel_cand d[] = { C(&s[0], "aaa", 0), C(&s[1], "bbb", 0) };
	/* But the top-level kind comes before the entry's. */
	struct mf_timeout u[2] = {
		ct(mt(SVC("web"), MF_SEC_TO, MESH), 7000),
		ct(mt(MESH, MF_SEC_TO, SVC("backend")), 1000),
	};
	struct sel_cand e[] = { C(&u[0], "web-out", 0), C(&u[1], "to-be", 0) };

	return ASSERT_EQ(eff(c, 2, &web1, MF_SEC_TO, &dest_backend), 2) &&
	       ASSERT_EQ(out.http.request_timeout, 60000) &&
	       ASSERT_EQ(eff(c, 2, &web1, MF_SEC_TO, &dest_api), 1) &&
	       ASSERT_EQ(out.http.request_timeout, 15000) &&
	       ASSERT_EQ(eff(d, 2, &web1, MF_SEC_TO, &dest_backend), 2) &&
	       ASSERT_EQ(out.connection_timeout, 1000) &&
	       ASSERT_EQ(eff(e, 2, &web1, MF_SEC_TO, &dest_backend), 2) &&
	       ASSERT_EQ(out.connection_timeout, 7000) &&
	       ASSERT_EQ(eff(e, 2, &api1, MF_SEC_TO, &dest_backend), 1) &&
	       ASSERT_EQ(out.connection_timeout, 1000);
}

static bool test_later_entry_wins_in_policy(void)
{
	struct mf_timeout r[2] = {
		ct(mt(MESH, MF_SEC_TO, MESH), 1000),
		ct(mt(MESH, MF_SEC_TO, MESH), 2000),
	};
	struct sel_cand c[] = { C(&r[1], "p", 1), C(&r[0], "p", 0) };

	return ASSERT_EQ(eff(c, 2, &web1, MF_SEC_TO, &dest_api), 2) &&
	       ASSERT_EQ(out.connection_timeout, 2000);
}

static bool test_from_entries_match_source(void)
{
	struct mf_timeout r[3] = {
		idle(mt(SVC("api"), MF_SEC_FROM, MESH), 60000),
		idle(mt(SVC("api"), MF_SEC_FROM, SUBSET("team", "a")), 5000),
		idle(mt(SVC("api"), MF_SEC_TO, MESH), 1), /* outbound only */
	};
	struct sel_cand c[] = {
		C(&r[0], "api-in", 0), C(&r[1], "api-in", 1),
		C(&r[2], "api-in", 2),
	};

	return ASSERT_EQ(eff(c, 3, &api1, MF_SEC_FROM, &web1), 2) &&
	       ASSERT_EQ(out.idle_timeout, 5000) &&
	       ASSERT_EQ(eff(c, 3, &api1, MF_SEC_FROM, &web2), 1) &&
	       ASSERT_EQ(out.idle_timeout, 60000) &&
	       /* web-1 is not an api proxy: nothing selects it inbound */
	       ASSERT_EQ(eff(c, 3, &web1, MF_SEC_FROM, &web2), 0);
}

static bool test_absent_target_is_mesh(void)
{
	struct mf_timeout r = ct(mt(ref(0, NULL, 0), MF_SEC_TO, MESH), 1000);
	struct mf_timeout s = ct(mt(MESH, MF_SEC_TO, MESH), 2000);
	struct sel_cand c[] = { C(&r, "b", 0), C(&s, "a", 0) };

	/* Same rank as Mesh, so the name decides: "a" wins. */
	return ASSERT_EQ(eff(c, 2, &api1, MF_SEC_TO, &dest_web), 2) &&
	       ASSERT_EQ(out.connection_timeout, 2000);
}

static bool test_default_form(void)
{
	struct kind_desc kd = kind_mesh_timeout;
	struct mf_timeout r[2] = {
		idle(ct(mt(MESH, MF_SEC_DEFAULT, ref(0, NULL, 0)), 1000), 2000),
		ct(mt(SVC("web"), MF_SEC_DEFAULT, ref(0, NULL, 0)), 3000),
	};
	struct sel_cand c[] = { C(&r[1], "web", 0), C(&r[0], "all", 0) };
	struct sel_query q = { .self = &web1, .section = MF_SEC_DEFAULT };

	/* A kind whose whole spec is one `default` (MeshTrace, MeshMetric);
	 * MeshTimeout's schema stands in for theirs. */
	kd.form = KIND_FORM_DEFAULT;
	if (!ASSERT_EQ(sel_effective(&kd, c, 2, &q, &ctx, &out, NULL, 0), 2) ||
	    !ASSERT_EQ(out.connection_timeout, 3000) ||
	    !ASSERT_EQ(out.idle_timeout, 2000))
		return false;
	q.self = &api1;
	return ASSERT_EQ(sel_effective(&kd, c, 2, &q, &ctx, &out, NULL, 0), 1) &&
	       ASSERT_EQ(out.connection_timeout, 1000);
}

static bool test_bad_queries(void)
{
	struct mf_timeout r = mt(MESH, MF_SEC_TO, MESH);
	struct sel_cand c[] = { C(&r, "p", 0) };
	struct sel_query q = { .self = &web1, .section = MF_SEC_DEFAULT };
	size_t order[1];

	if (!ASSERT_EQ(sel_effective(&kind_mesh_timeout, c, 1, &q, &ctx, &out,
				     NULL, 0), -EINVAL))
		return false;
	q.section = MF_SEC_TO;
	if (!ASSERT_EQ(sel_select(&kind_traffic_route, c, 1, &q, &ctx, order),
		       -EINVAL))
		return false;
	q.self = NULL;
	return ASSERT_EQ(sel_select(&kind_mesh_timeout, c, 1, &q, &ctx, order),
			 -EINVAL);
}

/* ---- merging ---------------------------------------------------------- */
static bool test_merge_field_by_field(void)
{
	/* docs/policy.md, example 1. */
	struct mf_timeout mesh = req(idle(ct(mt(MESH, MF_SEC_TO, MESH), 5000),
					  3600000), 15000);
	struct mf_timeout web = ct(mt(SVC("web"), MF_SEC_TO, MESH), 2000);
	struct sel_cand c[] = {
		C(&web, "web-connect", 0), C(&mesh, "mesh-defaults", 0),
	};

	return ASSERT_EQ(eff_named(c, 2, &web1, MF_SEC_TO, &dest_api, 2), 2) &&
	       ASSERT_EQ(out.present, CT | IDLE | HTTP) &&
	       ASSERT_EQ(out.connection_timeout, 2000) &&	/* the service's */
	       ASSERT_EQ(out.idle_timeout, 3600000) &&	/* the mesh's */
	       ASSERT_EQ(out.http.request_timeout, 15000) &&
	       ASSERT_STREQ(names[0], "mesh-defaults") &&
	       ASSERT_STREQ(names[1], "web-connect") &&
	       ASSERT_EQ(eff_named(c, 2, &api1, MF_SEC_TO, &dest_web, 2), 1) &&
	       ASSERT_EQ(out.connection_timeout, 5000) &&
	       ASSERT_EQ(out.idle_timeout, 3600000);
}

static bool test_merge_nested_object(void)
{
	struct mf_timeout mesh = req(mt(MESH, MF_SEC_TO, MESH), 15000);
	struct mf_timeout web = mt(SVC("web"), MF_SEC_TO, MESH);
	struct sel_cand c[] = { C(&mesh, "m", 0), C(&web, "w", 0) };

	/* http.requestTimeout from the mesh, http.streamIdleTimeout from the
	 * service: the http object merges, it is not replaced. */
	web.conf.present |= HTTP;
	web.conf.http.present |= 1u << 1;
	web.conf.http.stream_idle_timeout = 1800000;
	return ASSERT_EQ(eff(c, 2, &web2, MF_SEC_TO, &dest_api), 2) &&
	       ASSERT_EQ(out.http.present, (1u << 0) | (1u << 1)) &&
	       ASSERT_EQ(out.http.request_timeout, 15000) &&
	       ASSERT_EQ(out.http.stream_idle_timeout, 1800000);
}

static bool test_names_bounded(void)
{
	struct mf_timeout r[3] = {
		mt(MESH, MF_SEC_TO, MESH), mt(MESH, MF_SEC_TO, MESH),
		mt(MESH, MF_SEC_TO, MESH),
	};
	struct sel_cand c[] = { C(&r[0], "c", 0), C(&r[1], "b", 0), C(&r[2], "a", 0) };

	/* Room for two names: the third must be left as it is. */
	names[0] = NULL;
	names[1] = NULL;
	names[2] = "sentinel";
	return ASSERT_EQ(eff_named(c, 3, &web1, MF_SEC_TO, &dest_api, 2), 3) &&
	       ASSERT_STREQ(names[0], "c") && ASSERT_STREQ(names[1], "b") &&
	       ASSERT_STREQ(names[2], "sentinel");
}

static bool test_no_policy(void)
{
	return ASSERT_EQ(eff(NULL, 0, &web1, MF_SEC_TO, &dest_api), 0) &&
	       ASSERT_EQ(out.present, 0) && ASSERT_EQ(out.connection_timeout, 0);
}

/* docs/policy.md, example 3: a MeshSubset with "*" and the implicit
 * service tag on inbound traffic, overridden for one workload. */
static bool test_doc_example_subset(void)
{
	struct mf_timeout r[2] = {
		req(idle(mt(SUBSET(SEL_SERVICE_TAG, "web", "version", "*"),
			    MF_SEC_FROM, MESH), 300000), 10000),
		req(mt(ref(MF_REF_MESH_SERVICE_SUBSET, "web",
			   T("version", "v2")), MF_SEC_FROM, MESH), 120000),
	};
	struct sel_cand c[] = { C(&r[0], "web-inbound", 0),
				C(&r[1], "web-2-debug", 0) };
	struct sel_workload web3 = { "web-3", "web", NULL, NULL, 8080,
			NULL, 0, NULL };

	return ASSERT_EQ(eff(c, 2, &web1, MF_SEC_FROM, &api1), 1) &&
	       ASSERT_EQ(out.idle_timeout, 300000) &&
	       ASSERT_EQ(out.http.request_timeout, 10000) &&
	       ASSERT_EQ(eff(c, 2, &web2, MF_SEC_FROM, &api1), 2) &&
	       ASSERT_EQ(out.idle_timeout, 300000) &&
	       ASSERT_EQ(out.http.request_timeout, 120000) &&
	       /* web-3 has no version tag: "*" needs the key */
	       ASSERT_EQ(eff(c, 2, &web3, MF_SEC_FROM, &api1), 0);
}

/* ---- legacy ranking --------------------------------------------------- */
/* The index of the best of the @n candidates @c for @self towards @dest,
 * or -ENOENT. */
#define BEST(c, n, self, dest) sel_legacy_best(c, n, self, dest, &ctx, NULL)

static struct mf_traffic_route tr(uint32_t src, uint32_t dst)
{
	struct mf_traffic_route r;

	memset(&r, 0, sizeof(r));
	r.hdr.section = MF_SEC_CONF;
	r.hdr.nsources = 1;
	r.hdr.sources[0] = src;
	r.hdr.ndestinations = 1;
	r.hdr.destinations[0] = dst;
	return r;
}

static bool test_legacy_more_tags_win(void)
{
	uint32_t to_backend = ST("backend");
	struct mf_traffic_route all = tr(ST("*"), to_backend);
	struct mf_traffic_route teamed =
		tr(ST("*", "team", "*", "version", "*"), to_backend);
	struct mf_traffic_route exact = tr(ST("web"), to_backend);
	struct sel_cand c[] = { C(&all, "all", 0), C(&exact, "exact", 0),
				C(&teamed, "teamed", 0) };
	struct sel_legacy_rank rk;

	/* 3 wildcard tags beat 1 exact tag: the count comes first. */
	return ASSERT_EQ(sel_legacy_best(c, 3, &web1, &dest_backend, &ctx, &rk), 2) &&
	       ASSERT_EQ(rk.tags, 4) && ASSERT_EQ(rk.exact, 1) &&
	       /* web-2 has no team tag: exact beats '*' */
	       ASSERT_EQ(BEST(c, 3, &web2, &dest_backend), 1) &&
	       /* api-1: only the catch-all */
	       ASSERT_EQ(BEST(c, 3, &api1, &dest_backend), 0);
}

static bool test_legacy_exact_beats_star(void)
{
	uint32_t to_backend = ST("backend");
	struct mf_traffic_route star = tr(ST("web", "version", "*"),
					  to_backend);
	struct mf_traffic_route v1 = tr(ST("web", "version", "v1"), to_backend);
	struct sel_cand c[] = { C(&v1, "v1", 0), C(&star, "any-version", 0) };

	return ASSERT_EQ(BEST(c, 2, &web1, &dest_backend), 0) &&
	       ASSERT_EQ(BEST(c, 2, &web2, &dest_backend), 1);
}

static bool test_legacy_tie_by_name(void)
{
	uint32_t any = ST("*");
	struct mf_traffic_route a = tr(any, any), b = tr(any, any);
	struct sel_cand fwd[] = { C(&a, "alpha", 0), C(&b, "zeta", 0) };
	struct sel_cand rev[] = { C(&b, "zeta", 0), C(&a, "alpha", 0) };

	return ASSERT_EQ(BEST(fwd, 2, &web1, &dest_api), 0) &&
	       ASSERT_EQ(BEST(rev, 2, &web1, &dest_api), 1);
}

static bool test_legacy_destination_and_sources(void)
{
	uint32_t any = ST("*");
	struct mf_traffic_route r = tr(ST("api"), ST("backend"));
	struct mf_traffic_route none = tr(any, any);
	struct sel_cand c[] = { C(&r, "r", 0) };
	struct sel_cand d[] = { C(&none, "no-dest", 0) };

	/* Second source selector matches web. */
	r.hdr.nsources = 2;
	r.hdr.sources[1] = ST("web");
	none.hdr.ndestinations = 0;
	return ASSERT_EQ(BEST(c, 1, &web1, &dest_backend), 0) &&
	       ASSERT_EQ(BEST(c, 1, &web1, &dest_api), -ENOENT) &&
	       ASSERT_EQ(BEST(c, 1, &web2, &dest_api), -ENOENT) &&
	       /* a checked side without selectors never matches */
	       ASSERT_EQ(BEST(d, 1, &web1, &dest_api), -ENOENT) &&
	       ASSERT_EQ(BEST(NULL, 0, &web1, &dest_api), -ENOENT);
}

static bool test_legacy_selectors_form(void)
{
	/* MeshGateway-style: selectors in hdr.sources, no destination. */
	uint32_t any = ST("edge"), east = ST("edge", "zone", "east");
	struct mf_gateway g1 = { .hdr.nsources = 1, .hdr.sources[0] = any };
	struct mf_gateway g2 = { .hdr.nsources = 1, .hdr.sources[0] = east };
	struct sel_workload gw = {
		"edge-1", "edge", TS(T("zone", "east")), NULL, 8080, NULL, 0,
		NULL,
	};
	struct sel_cand c[] = { C(&g1, "edge-any", 0), C(&g2, "edge-east", 0) };

	return ASSERT_EQ(BEST(c, 2, &gw, NULL), 1) &&
	       ASSERT_EQ(BEST(c, 2, &web1, NULL), -ENOENT);
}

static bool test_legacy_best_selector_of_record(void)
{
	uint32_t any = ST("*");
	uint32_t web = ST("web");
	struct mf_traffic_route multi = tr(any, any);
	struct mf_traffic_route single = tr(web, any);
	struct sel_cand c[] = { C(&single, "b-single", 0), C(&multi, "a-multi", 0) };

	/* multi's rank is that of its best source selector (exact "web"),
	 * not of the first that matches: equal to single's, so the name
	 * decides. */
	multi.hdr.nsources = 2;
	multi.hdr.sources[1] = web;
	return ASSERT_EQ(BEST(c, 2, &web1, &dest_api), 1);
}

/* docs/policy.md, legacy example. */
static bool test_doc_example_legacy(void)
{
	uint32_t any = ST("*");
	uint32_t backend = ST("backend");
	struct mf_traffic_route catch_all = tr(any, any);
	struct mf_traffic_route web_v1 = tr(ST("web", "version", "v1"),
					    backend);
	struct sel_cand c[] = { C(&catch_all, "route-all", 0),
				C(&web_v1, "web-v1-to-backend", 0) };

	return ASSERT_EQ(BEST(c, 2, &web1, &dest_backend), 1) &&
	       ASSERT_EQ(BEST(c, 2, &web2, &dest_backend), 0) &&
	       ASSERT_EQ(BEST(c, 2, &web1, &dest_api), 0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	setup();
	TEST_RUN(test_kind_rank_order);
	TEST_RUN(test_ref_mesh);
	TEST_RUN(test_ref_absent_kind);
	TEST_RUN(test_ref_mesh_subset);
	TEST_RUN(test_ref_star_value);
	TEST_RUN(test_implicit_service_tag);
	TEST_RUN(test_ref_mesh_service);
	TEST_RUN(test_ref_mesh_service_subset);
	TEST_RUN(test_ref_workload);
	TEST_RUN(test_ref_mesh_gateway);
	TEST_RUN(test_ref_mesh_http_route);
	TEST_RUN(test_ref_labels);
	TEST_RUN(test_ref_namespace_section_proxy_types);
	TEST_RUN(test_policy_labels);
	TEST_RUN(test_rules_section);
	TEST_RUN(test_cmp_keys);
	TEST_RUN(test_specificity_order);
	TEST_RUN(test_equal_specificity_by_name);
	TEST_RUN(test_to_entries_match_destination);
	TEST_RUN(test_to_entries_own_specificity);
	TEST_RUN(test_later_entry_wins_in_policy);
	TEST_RUN(test_from_entries_match_source);
	TEST_RUN(test_absent_target_is_mesh);
	TEST_RUN(test_default_form);
	TEST_RUN(test_bad_queries);
	TEST_RUN(test_merge_field_by_field);
	TEST_RUN(test_merge_nested_object);
	TEST_RUN(test_names_bounded);
	TEST_RUN(test_no_policy);
	TEST_RUN(test_doc_example_subset);
	TEST_RUN(test_legacy_more_tags_win);
	TEST_RUN(test_legacy_exact_beats_star);
	TEST_RUN(test_legacy_tie_by_name);
	TEST_RUN(test_legacy_destination_and_sources);
	TEST_RUN(test_legacy_selectors_form);
	TEST_RUN(test_legacy_best_selector_of_record);
	TEST_RUN(test_doc_example_legacy);
	TEST_MAIN_END();
}
