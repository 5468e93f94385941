// SPDX-License-Identifier: Apache-2.0
/*
 * kuma.io/service values as Kuma on Kubernetes generates them
 * (lib/policy/svcname.c): <name>_<namespace>_svc_<port> resolves to the
 * Service of that name, namespace and port; a TrafficRoute written with
 * it validates and its destination selects that Service's workloads, a
 * version tag a subset of them; a destination that names no service is
 * refused.
 */
#include <errno.h>

#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/doc.h"
#include "policy/select.h"
#include "policy/svcname.h"
#include "policy/validate.h"

#define KUMA(kind, name)                                                      \
	"---\napiVersion: kuma.io/v1alpha1\nkind: " kind "\n"               \
	"metadata: {name: " name ", namespace: kuma-demo}\n"

/* my-api-service in namespace default (no namespace written) on 8080,
 * its workloads v1 and v2; web in kuma-demo on 80. */
#define MESH                                                                  \
	PH_MESH PH_NODE("n1", "10.77.0.1")                                    \
	PH_SVC("my-api-service", "10.96.0.10", "8080")                        \
	"---\napiVersion: meshforge.io/v1alpha1\nkind: Service\n"            \
	"metadata: {name: web, namespace: kuma-demo}\n"                       \
	"spec: {vip: 10.96.0.11, port: 80}\n"                                 \
	RH_DOC("Workload", "api-1")                                           \
	"spec: {node: n1, ip: 10.78.1.11, port: 8080, "                       \
	"service: my-api-service, identity: \"" PH_SA("api") "\", "          \
	"tags: {version: v1}}\n"                                              \
	RH_DOC("Workload", "api-2")                                           \
	"spec: {node: n1, ip: 10.78.1.12, port: 8080, "                       \
	"service: my-api-service, identity: \"" PH_SA("api") "\", "          \
	"tags: {version: v2}}\n"                                              \
	RH_DOC("Workload", "web-1")                                           \
	"spec: {node: n1, ip: 10.78.1.13, port: 80, service: web, "           \
	"identity: \"" PH_SA("web") "\", tags: {version: v2}}\n"

/* A TrafficRoute from web to @dst, all of it to @dst. */
#define ROUTE(dst)                                                            \
	KUMA("TrafficRoute", "api-route")                                     \
	"spec:\n"                                                             \
	"  sources: [{match: {kuma.io/service: web_kuma-demo_svc_80}}]\n"     \
	"  destinations: [{match: {kuma.io/service: " dst "}}]\n"            \
	"  conf: {destination: {kuma.io/service: " dst ", version: v2}}\n"

static bool parse(struct model_set *set, const char *yaml)
{
	struct diag d;
	bool ok;

	model_set_init(set);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(set, "t.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(validate_set(set, &d), 0);
	diag_print(&d, stderr);
	diag_free(&d);
	return ok;
}

static bool resolves(const struct model_set *set, const char *v, int want,
		     const char *name)
{
	const struct model_obj *o = NULL;
	int err = svcname_resolve(set, v, &o, NULL);

	return ASSERT_EQ(err, want) &&
	       (!name || (ASSERT_TRUE(o) && ASSERT_STREQ(o->name, name)));
}

static bool test_resolve(void)
{
	struct model_set set;
	bool ok = parse(&set, MESH);

	ok = ok && resolves(&set, "my-api-service", 0, "my-api-service") &&
	     resolves(&set, "my-api-service_default_svc_8080", 0,
		      "my-api-service") &&
	     resolves(&set, "web_kuma-demo_svc_80", 0, "web") &&
	     /* the wrong namespace or port is another service */
	     resolves(&set, "web_default_svc_80", -ENOENT, NULL) &&
	     resolves(&set, "my-api-service_default_svc_8081", -ENOENT,
		      NULL) &&
	     resolves(&set, "my-api-service_default_svc_8080x", -ENOENT,
		      NULL) &&
	     resolves(&set, "_default_svc_8080", -ENOENT, NULL);
	model_set_free(&set);
	return ok;
}

/* The workload @name of @set, as selection sees it. */
static struct sel_workload wl(const struct model_set *set, const char *name)
{
	const struct model_obj *o = model_set_find(set, MODEL_WORKLOAD, name);
	const struct core_workload *w = model_spec(o);
	struct sel_workload s = { .name = o->name, .service = w->service,
				  .tags = model_tags_get(set, w->tags),
				  .port = w->port };

	svcname_fill(set, &s);
	return s;
}

/* The route's conf.destination and sources selector select by the
 * generated names: v2 of my-api-service only, and web's workloads. */
static bool test_route_selects(void)
{
	struct model_set set;
	const struct model_obj *r;
	const struct mf_traffic_route *tr;
	const struct mf_tagset *dst, *src;
	bool ok = parse(&set, MESH ROUTE("my-api-service_default_svc_8080"));
	struct sel_workload a1, a2, w1;

	r = ok ? model_set_find(&set, model_kind_parse("TrafficRoute"),
				"api-route") : NULL;
	ok = ok && ASSERT_TRUE(r);
	if (!ok)
		goto out;
	tr = (const void *)r->pol.recs;
	dst = model_tags_get(&set, tr->conf.destination);
	src = model_tags_get(&set, tr->hdr.sources[0]);
	a1 = wl(&set, "api-1");
	a2 = wl(&set, "api-2");
	w1 = wl(&set, "web-1");
	ok = ASSERT_TRUE(dst) && ASSERT_TRUE(src) &&
	     ASSERT_TRUE(!sel_tags_match(dst, &a1)) &&
	     ASSERT_TRUE(sel_tags_match(dst, &a2)) &&
	     /* v2 too, but of web */
	     ASSERT_TRUE(!sel_tags_match(dst, &w1)) &&
	     ASSERT_TRUE(sel_tags_match(src, &w1)) &&
	     ASSERT_TRUE(!sel_tags_match(src, &a2));
out:
	model_set_free(&set);
	return ok;
}

/* A destination that names no service yet applies and selects nothing,
 * as in Kuma (its Service may be applied later). */
static bool test_unknown_selects_nothing(void)
{
	struct model_set set;
	const struct model_obj *r;
	const struct mf_tagset *dst;
	bool ok = parse(&set, MESH ROUTE("my-api-service_default_svc_9"));
	struct sel_workload a1, a2;

	r = ok ? model_set_find(&set, model_kind_parse("TrafficRoute"),
				"api-route") : NULL;
	ok = ok && ASSERT_TRUE(r);
	if (ok) {
		dst = model_tags_get(&set, ((const struct mf_traffic_route *)
					    r->pol.recs)->conf.destination);
		a1 = wl(&set, "api-1");
		a2 = wl(&set, "api-2");
		ok = ASSERT_TRUE(dst) && ASSERT_TRUE(!sel_tags_match(dst, &a1)) &&
		     ASSERT_TRUE(!sel_tags_match(dst, &a2));
	}
	model_set_free(&set);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_resolve);
	TEST_RUN(test_route_selects);
	TEST_RUN(test_unknown_selects_nothing);
	TEST_MAIN_END();
}
