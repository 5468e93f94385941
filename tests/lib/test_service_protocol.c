// SPDX-License-Identifier: Apache-2.0
/*
 * The protocol of a Service's VIP:port, as mfctl decides it for the agent
 * (mesh_service.h, msvc_port_flags()): its spec.protocol when written;
 * else http when every one of its endpoints, Workload or Dataplane, says
 * kuma.io/protocol: http, as Kuma infers it; else tcp.  Read back from
 * the maps, the spec is what was written, and compiles to the same
 * records.
 */
#include "harness/test.h"
#include "harness/policy_harness.h"

#include "policy/decompile.h"
#include "policy/doc.h"

#define BASE PH_MESH PH_NODE("mf-node-b", "10.77.0.2")

/* Service @name at 10.96.0.@last:80, @proto its spec.protocol as written
 * (", protocol: http") or "" (left out). */
#define SVC(name, last, proto)                                                \
	RH_DOC("Service", name)                                               \
	"spec: {vip: 10.96.0." last ", port: 80" proto "}\n"

/* Workload @name of @service at 10.78.2.@last, with tags @tags. */
#define WL(name, last, service, tags)                                         \
	RH_DOC("Workload", name)                                              \
	"spec: {node: mf-node-b, ip: 10.78.2." last ", port: 8080, "          \
	"service: " service ",\n       identity: \"" PH_SA(service) "\", "    \
	"tags: " tags "}\n"

#define HTTP_TAG "{kuma.io/protocol: http}"

/* The flags of the mf_services record at 10.96.0.@last:80 in @rs, or
 * ~0u when there is none. */
static uint32_t flags_at(const struct rec_set *rs, const char *last)
{
	const struct mf_service *s;
	char vip[16];

	snprintf(vip, sizeof(vip), "10.96.0.%s", last);
	s = ph_service_at(rs, vip, 80);
	return s ? s->flags : ~0u;
}

/* @yaml compiles, and Service web (10.96.0.10:80) gets @want. */
static bool web_flags(const char *yaml, uint32_t want)
{
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs) &&
		  ASSERT_EQ(flags_at(&rs, "10"), want);

	if (!ok)
		fprintf(stderr, "in:\n%s", yaml);
	rec_set_free(&rs);
	return ok;
}

#define F_HTTP MF_SERVICE_F_HTTP
#define F_SPEC MF_SERVICE_F_PROTOCOL_SPEC

/* Written, spec.protocol decides alone, whatever the endpoints say. */
static bool test_spec_decides(void)
{
	return web_flags(BASE SVC("web", "10", ", protocol: http"),
			 F_HTTP | F_SPEC) &&
	       web_flags(BASE SVC("web", "10", ", protocol: http")
			 WL("w1", "11", "web", "{version: v1}"),
			 F_HTTP | F_SPEC) &&
	       web_flags(BASE SVC("web", "10", ", protocol: tcp"), F_SPEC) &&
	       web_flags(BASE SVC("web", "10", ", protocol: tcp")
			 WL("w1", "11", "web", HTTP_TAG)
			 WL("w2", "12", "web", HTTP_TAG), F_SPEC) &&
	       /* Left out, with no endpoint to ask: tcp. */
	       web_flags(BASE SVC("web", "10", ""), 0);
}

/* Left out, the endpoints decide: http when all of them say so, tcp as
 * soon as one does not (Kuma's fallback when they disagree).  Only http
 * is HTTP/1.1: http2 is relayed as bytes. */
static bool test_endpoints_decide(void)
{
	return web_flags(BASE SVC("web", "10", "")
			 WL("w1", "11", "web", HTTP_TAG)
			 WL("w2", "12", "web", HTTP_TAG), F_HTTP) &&
	       web_flags(BASE SVC("web", "10", "")
			 WL("w1", "11", "web", HTTP_TAG)
			 WL("w2", "12", "web", "{version: v1}"), 0) &&
	       web_flags(BASE SVC("web", "10", "")
			 WL("w1", "11", "web", HTTP_TAG)
			 WL("w2", "12", "web", "{kuma.io/protocol: tcp}"), 0) &&
	       web_flags(BASE SVC("web", "10", "")
			 WL("w1", "11", "web", "{kuma.io/protocol: http2}"),
			 0) &&
	       /* Another service's endpoints do not count. */
	       web_flags(BASE SVC("web", "10", "") SVC("api", "20", "")
			 WL("w1", "11", "web", HTTP_TAG)
			 WL("a1", "21", "api", "{version: v1}"), F_HTTP);
}

/* Dataplane d1, an endpoint of web whose inbound says kuma.io/protocol:
 * @proto, its identity from a MeshIdentity. */
#define DP_WEB(proto)                                                         \
	"---\napiVersion: kuma.io/v1alpha1\nkind: Dataplane\n"               \
	"metadata: {name: d1, labels: {meshforge.io/node: mf-node-b, "        \
	"app: shop}}\nspec:\n"                                                \
	"  networking:\n    address: 10.78.2.40\n"                             \
	"    inbound: [{port: 8080, tags: {kuma.io/service: web, "            \
	"kuma.io/protocol: " proto "}}]\n"                                    \
	"---\napiVersion: kuma.io/v1alpha1\nkind: MeshIdentity\n"            \
	"metadata: {name: shop-id}\nspec:\n"                                  \
	"  selector: {dataplane: {matchLabels: {app: shop}}}\n"               \
	"  spiffeID: {trustDomain: mesh.local, "                              \
	"path: \"/dp/{{ .Workload }}\"}\n"

/* An endpoint Dataplane says it by its inbound's tag, in any case (Kuma
 * lower-cases it), and counts beside a Workload that says it by its own
 * tags. */
static bool test_dataplane_endpoint(void)
{
	return web_flags(BASE SVC("web", "10", "")
			 WL("w1", "11", "web", HTTP_TAG) DP_WEB("HTTP"),
			 F_HTTP) &&
	       web_flags(BASE SVC("web", "10", "")
			 WL("w1", "11", "web", HTTP_TAG) DP_WEB("tcp"), 0);
}

/* An unknown protocol is refused where it is written. */
static bool test_unknown_refused(void)
{
	static const char *const want[] = {
		"t.yaml:5:45: spec.protocol: must be tcp or http", NULL
	};

	return ph_parse_refuses(SVC("web", "10", ", protocol: grpc"), want);
}

/* Records -> objects: each Service's spec.protocol as written (http,
 * tcp, or left out even where its endpoints made it http); -> YAML ->
 * the same records. */
static bool test_read_back(void)
{
	static const char yaml[] =
		BASE
		SVC("a", "10", ", protocol: http")
		SVC("b", "20", ", protocol: tcp")
		SVC("c", "30", "")
		SVC("d", "40", "")
		WL("a1", "11", "a", "{version: v1}")
		WL("b1", "21", "b", HTTP_TAG)
		WL("c1", "31", "c", HTTP_TAG)
		WL("c2", "32", "c", HTTP_TAG);
	struct model_set set, back, again;
	struct rec_set rs, rs2;
	struct diag d;
	char *y = NULL;
	size_t n = 0;
	bool ok;

	model_set_init(&set);
	model_set_init(&back);
	model_set_init(&again);
	rec_set_init(&rs);
	rec_set_init(&rs2);
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "p.yaml", yaml, strlen(yaml),
					&d), 0) &&
	     ASSERT_EQ(validate_set(&set, &d), 0) &&
	     ASSERT_EQ(compile_set(&set, NULL, &rs, &d), 0) &&
	     ASSERT_EQ(flags_at(&rs, "10"), F_HTTP | F_SPEC) &&
	     ASSERT_EQ(flags_at(&rs, "20"), F_SPEC) &&
	     ASSERT_EQ(flags_at(&rs, "30"), F_HTTP) &&
	     ASSERT_EQ(flags_at(&rs, "40"), 0) &&
	     ASSERT_EQ(decompile_records(&rs, &back, &d), 0) &&
	     ph_same_objects(&set, &back) &&
	     (y = ph_render(&back, RENDER_ALL_KINDS, &n)) != NULL &&
	     ASSERT_TRUE(strstr(y, "  name: a\nspec:\n  vip: 10.96.0.10\n"
			       "  port: 80\n  protocol: http\n")) &&
	     ASSERT_TRUE(strstr(y, "  name: b\nspec:\n  vip: 10.96.0.20\n"
			       "  port: 80\n  protocol: tcp\n")) &&
	     ASSERT_TRUE(strstr(y, "  name: c\nspec:\n  vip: 10.96.0.30\n"
			       "  port: 80\n---\n")) &&
	     ASSERT_EQ(doc_parse_buffer(&again, "again.yaml", y, n, &d), 0) &&
	     ASSERT_EQ(validate_set(&again, &d), 0) &&
	     ASSERT_EQ(compile_set(&again, &rs, &rs2, &d), 0) &&
	     ASSERT_TRUE(rec_set_equal(&rs, &rs2));
	if (!ok) {
		diag_print(&d, stderr);
		if (y)
			fprintf(stderr, "%s", y);
	}
	free(y);
	diag_free(&d);
	rec_set_free(&rs2);
	rec_set_free(&rs);
	model_set_free(&again);
	model_set_free(&back);
	model_set_free(&set);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_spec_decides);
	TEST_RUN(test_endpoints_decide);
	TEST_RUN(test_dataplane_endpoint);
	TEST_RUN(test_unknown_refused);
	TEST_RUN(test_read_back);
	TEST_MAIN_END();
}
