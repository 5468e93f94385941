// SPDX-License-Identifier: Apache-2.0
/*
 * MeshGateway (lib/policy/kind_mesh_gateway.c) through mfctl's reader and
 * printer: HTTP, HTTPS, TLS and TCP listeners parse into the expected
 * record and print back to the same bytes; the tls rules of each protocol,
 * ports, hostnames and listeners that clash each give exactly the
 * expected "file:line:col: path: message".
 */
#define KH_FILE "r.yaml"
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char gw_yaml[] =
	KH_DOC("MeshGateway", "edge")
	"  selectors:\n"
	"    - match: {kuma.io/service: edge-gateway}\n"
	"    - match: {kuma.io/service: edge-gateway-2, zone: east}\n"
	"  conf:\n"
	"    listeners:\n"
	"      - port: 8080\n"
	"        protocol: HTTP\n"
	"        hostname: foo.example.com\n"
	"        tags: {vhost: foo.example.com}\n"
	"      - port: 8443\n"
	"        protocol: HTTPS\n"
	"        hostname: \"*.example.com\"\n"
	"        tls:\n"
	"          mode: TERMINATE\n"
	"          certificates: [{secret: example-cert}, {secret: example-cert-ec}]\n"
	"      - port: 9443\n"
	"        protocol: TLS\n"
	"        tls: {mode: PASSTHROUGH}\n"
	"      - port: 5432\n"
	"        protocol: TCP\n";

static bool test_gateway_full(void)
{
	struct model_set s;
	const struct mf_gateway *g = kh_policy(gw_yaml, &s,
					       &kind_mesh_gateway, 1);
	const struct mf_gw_conf *c = g ? &g->conf : NULL;
	bool ok;

	ok = g && ASSERT_EQ(g->hdr.section, MF_SEC_CONF) &&
	     ASSERT_EQ(g->hdr.nsources, 2) &&
	     ASSERT_STREQ(kh_tag(&s, g->hdr.sources[0], "kuma.io/service"),
			  "edge-gateway") &&
	     ASSERT_STREQ(kh_tag(&s, g->hdr.sources[1], "zone"), "east") &&
	     ASSERT_EQ(c->nlisteners, 4) &&
	     ASSERT_EQ(c->listeners[0].port, 8080) &&
	     ASSERT_EQ(c->listeners[0].protocol, MF_GW_HTTP) &&
	     ASSERT_STREQ(c->listeners[0].hostname, "foo.example.com") &&
	     ASSERT_STREQ(kh_tag(&s, c->listeners[0].tags, "vhost"),
			  "foo.example.com") &&
	     ASSERT_EQ(c->listeners[1].protocol, MF_GW_HTTPS) &&
	     ASSERT_STREQ(c->listeners[1].hostname, "*.example.com") &&
	     ASSERT_EQ(c->listeners[1].tls.mode, MF_GW_TLS_TERMINATE) &&
	     ASSERT_EQ(c->listeners[1].tls.ncertificates, 2) &&
	     ASSERT_STREQ(c->listeners[1].tls.certificates[1].secret,
			  "example-cert-ec") &&
	     ASSERT_EQ(c->listeners[2].protocol, MF_GW_TLS) &&
	     ASSERT_EQ(c->listeners[2].tls.mode, MF_GW_TLS_PASSTHROUGH) &&
	     ASSERT_EQ(c->listeners[2].tls.ncertificates, 0) &&
	     ASSERT_EQ(c->listeners[3].port, 5432) &&
	     ASSERT_EQ(c->listeners[3].protocol, MF_GW_TCP) &&
	     ASSERT_STREQ(c->listeners[3].hostname, "");
	return kh_finish(&s, ok);
}

#define GW_HEAD                                                               \
	KH_DOC("MeshGateway", "g")                                            \
	"  selectors: [{match: {kuma.io/service: gw}}]\n"                     \
	"  conf:\n"                                                           \
	"    listeners:\n"

KH_TEST_BAD(test_gateway_invalid,
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: protocol HTTPS needs tls" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, tls: {mode: TERMINATE}}\n",
	  "r.yaml:8:43: spec.conf.listeners[0].tls: mode TERMINATE needs certificates" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, tls: {mode: PASSTHROUGH}}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: protocol HTTPS terminates "
	  "TLS: tls.mode must be TERMINATE" },
	{ GW_HEAD
	  "      - {port: 443, protocol: TLS, tls: {mode: PASSTHROUGH, certificates: [{secret: c}]}}\n",
	  "r.yaml:8:41: spec.conf.listeners[0].tls: mode PASSTHROUGH takes no certificates" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, tls: {certificates: [{secret: c}]}}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: tls is only for protocols HTTPS and TLS" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: a.example}\n"
	  "      - {port: 80, protocol: HTTP, hostname: a.example}\n",
	  "r.yaml:7:5: spec.conf: two listeners have the same port and hostname" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP}\n"
	  "      - {port: 80, protocol: TCP, hostname: b.example}\n",
	  "r.yaml:7:5: spec.conf: listeners on one port must have the same protocol" },
	{ GW_HEAD
	  "      - {port: 0, protocol: HTTP}\n",
	  "r.yaml:8:16: spec.conf.listeners[0].port: must be 1..65535" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: \"a..b\"}\n",
	  "r.yaml:8:46: spec.conf.listeners[0].hostname: must be \"*\" or a "
	  "DNS name (labels of a-z, 0-9 and '-'), optionally starting with "
	  "\"*.\"" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_gateway_full);
	TEST_RUN(test_gateway_invalid);
	TEST_MAIN_END();
}
