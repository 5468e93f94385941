// SPDX-License-Identifier: Apache-2.0
/*
 * MeshGateway (lib/policy/kind_mesh_gateway.c) through mfctl's reader and
 * printer: HTTP, HTTPS, TLS and TCP listeners, crossMesh ones and
 * connection limits parse into the expected record and print back to the
 * same bytes; the shapes Kuma accepts beyond those are accepted; the tls
 * rules of each protocol, crossMesh, ports, hostnames and listeners that
 * clash each give exactly the expected "file:line:col: path: message".
 * spec.tags, the gateway's own, parse next to the selectors and print
 * back; neither they nor a listener's may name a tag the proxy sets
 * itself.
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
	"        protocol: TCP\n"
	"        resources: {connectionLimit: 100}\n"
	"      - port: 5432\n"
	"        protocol: TCP\n"
	"        hostname: db.example.com\n"
	"        resources: {connection_limit: 100}\n"
	"      - port: 8443\n"
	"        protocol: HTTPS\n"
	"        hostname: file.example.com\n"
	"        tls:\n"
	"          mode: TERMINATE\n"
	"          certificates: [{file: /etc/certs/file.pem}]\n"
	"          options: {}\n";

/* crossMesh allows one selector. */
static const char gw_cross_yaml[] =
	KH_DOC("MeshGateway", "cross")
	"  selectors: [{match: {kuma.io/service: cross-gateway}}]\n"
	"  conf:\n"
	"    listeners:\n"
	"      - {port: 80, protocol: HTTP, crossMesh: true}\n"
	"      - {port: 81, protocol: TCP, crossMesh: true, tls: {}}\n"
	"      - {port: 82, protocol: TLS, crossMesh: true}\n"
	"      - {port: 83, protocol: HTTP, crossMesh: false}\n";

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
	     ASSERT_EQ(c->nlisteners, 6) &&
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
	     ASSERT_STREQ(c->listeners[3].hostname, "") &&
	     ASSERT_EQ(c->listeners[3].resources.present, 1u << 0) &&
	     ASSERT_EQ(c->listeners[3].resources.connection_limit, 100) &&
	     ASSERT_EQ(c->listeners[4].resources.present, 1u << 1) &&
	     ASSERT_EQ(c->listeners[4].resources.connection_limit, 100) &&
	     ASSERT_EQ(c->listeners[4].cross_mesh, 0) &&
	     ASSERT_EQ(c->listeners[5].tls.certificates[0].present, 1u << 1) &&
	     ASSERT_STREQ(c->listeners[5].tls.certificates[0].file,
			  "/etc/certs/file.pem") &&
	     ASSERT_EQ(c->listeners[5].tls.options.present, 0) &&
	     ASSERT_EQ(c->listeners[5].tls.present, 7);
	if (!kh_finish(&s, ok))
		return false;
	g = kh_policy(gw_cross_yaml, &s, &kind_mesh_gateway, 1);
	c = g ? &g->conf : NULL;
	ok = g && ASSERT_EQ(c->nlisteners, 4) &&
	     ASSERT_EQ(c->listeners[0].cross_mesh, 1) &&
	     ASSERT_EQ(c->listeners[1].cross_mesh, 1) &&
	     ASSERT_EQ(c->listeners[1].tls.present, 0) &&
	     ASSERT_EQ(c->listeners[2].protocol, MF_GW_TLS) &&
	     ASSERT_EQ(c->listeners[3].cross_mesh, 0) &&
	     ASSERT_TRUE(c->listeners[3].present & (1u << 5));
	return kh_finish(&s, ok);
}

#define GW_HEAD                                                               \
	KH_DOC("MeshGateway", "g")                                            \
	"  selectors: [{match: {kuma.io/service: gw}}]\n"                     \
	"  conf:\n"                                                           \
	"    listeners:\n"

/* Kuma checks tls wherever it is written but uses it only where the
 * protocol needs it, and ignores a passthrough listener's certificates:
 * each of these is a gateway Kuma accepts. */
static bool test_gateway_kuma_shapes(void)
{
	static const char *const listeners[] = {
		"      - {port: 443, protocol: TLS, tls: {mode: PASSTHROUGH, "
		"certificates: [{secret: c}]}}\n",
		"      - {port: 80, protocol: HTTP, tls: {mode: TERMINATE, "
		"certificates: [{secret: c}]}}\n",
		"      - {port: 80, protocol: TCP, tls: {mode: PASSTHROUGH}}\n",
		"      - {port: 80, protocol: HTTP, crossMesh: true, "
		"tls: {options: {}}}\n",
		"      - {port: 80, protocol: HTTP, hostname: \"*\"}\n"
		"      - {port: 80, protocol: HTTP, hostname: a.example, "
		"resources: {connectionLimit: 5}}\n"
		"      - {port: 80, protocol: HTTP, hostname: b.example, "
		"resources: {connectionLimit: 0}}\n",
	};
	bool ok = true;

	for (size_t i = 0; i < KH_NCASES(listeners); i++) {
		char yaml[1024];
		struct model_set s;
		const struct mf_gateway *g;

		snprintf(yaml, sizeof(yaml), "%s%s", GW_HEAD, listeners[i]);
		g = kh_policy(yaml, &s, &kind_mesh_gateway, 1);
		if (!kh_finish(&s, g != NULL)) {
			fprintf(stderr, "  in case %zu\n", i);
			ok = false;
		}
	}
	return ok;
}

/* A listener on port 80 with a hostname of @n characters (labels of 63
 * and the rest), as a gateway document, into @buf. */
static const char *gw_hostname_doc(char *buf, size_t size, size_t n)
{
	char host[300];

	for (size_t i = 0; i < n; i++)
		host[i] = (i + 1) % 64 ? 'a' : '.';
	host[n] = 0;
	snprintf(buf, size, "%s      - {port: 80, protocol: HTTP, hostname: "
		 "%s}\n", GW_HEAD, host);
	return buf;
}

/* Kuma's hostname limit is the DNS one, 253 characters, and so is the
 * record's. */
static bool test_gateway_hostname_length(void)
{
	char doc[512];
	struct model_set s;
	const struct mf_gateway *g;
	bool ok;

	g = kh_policy(gw_hostname_doc(doc, sizeof(doc), 253), &s,
		      &kind_mesh_gateway, 1);
	ok = g && ASSERT_EQ(strlen(g->conf.listeners[0].hostname), 253);
	if (!kh_finish(&s, ok))
		return false;
	return kh_expect1(gw_hostname_doc(doc, sizeof(doc), 254),
			  "r.yaml:8:46: spec.conf.listeners[0].hostname: "
			  "must be at most 253 characters");
}

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
	  "      - {port: 443, protocol: TLS}\n",
	  "r.yaml:8:9: spec.conf.listeners[0]: protocol TLS needs tls" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, tls: {certificates: [{secret: c}]}}\n",
	  "r.yaml:8:41: spec.conf.listeners[0].tls: needs mode TERMINATE or "
	  "PASSTHROUGH" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, tls: {options: {}}}\n",
	  "r.yaml:8:43: spec.conf.listeners[0].tls: needs mode TERMINATE or "
	  "PASSTHROUGH" },
	{ GW_HEAD
	  "      - port: 443\n"
	  "        protocol: HTTPS\n"
	  "        tls:\n"
	  "          mode: TERMINATE\n"
	  "          certificates: [{secret: a}, {secret: b}, {secret: c}]\n",
	  "r.yaml:12:25: spec.conf.listeners[0].tls.certificates: must have "
	  "at most 2 entries" },
	{ GW_HEAD
	  "      - {port: 443, protocol: TLS, tls: {mode: TERMINATE, "
	  "certificates: [{secret: a, file: /b}]}}\n",
	  "r.yaml:8:74: spec.conf.listeners[0].tls.certificates[0]: needs "
	  "exactly one of secret and file" },
	{ GW_HEAD
	  "      - {port: 443, protocol: TLS, tls: {mode: TERMINATE, "
	  "certificates: [{file: b.pem}]}}\n",
	  "r.yaml:8:81: spec.conf.listeners[0].tls.certificates[0].file: must "
	  "be an absolute path" },
	{ GW_HEAD
	  "      - {port: 443, protocol: TLS, tls: {mode: TERMINATE, "
	  "certificates: [{inline: YWJj}]}}\n",
	  "r.yaml:8:75: spec.conf.listeners[0].tls.certificates[0].inline: "
	  "unknown field" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, crossMesh: true, "
	  "tls: {mode: TERMINATE, certificates: [{secret: c}]}}\n",
	  "r.yaml:8:31: spec.conf.listeners[0].protocol: protocol HTTPS is not "
	  "supported with crossMesh" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, crossMesh: true, "
	  "tls: {mode: PASSTHROUGH}}\n",
	  "r.yaml:8:58: spec.conf.listeners[0].tls: must be empty with "
	  "crossMesh: the mesh's mTLS secures the listener" },
	{ KH_DOC("MeshGateway", "g")
	  "  selectors:\n"
	  "    - match: {kuma.io/service: gw}\n"
	  "    - match: {kuma.io/service: gw2}\n"
	  "  conf:\n"
	  "    listeners:\n"
	  "      - {port: 80, protocol: HTTP}\n"
	  "      - {port: 81, protocol: HTTP, crossMesh: true}\n",
	  "r.yaml:10:7: spec.conf.listeners: with a crossMesh listener, the "
	  "gateway must have at most one selector" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, crossMesh: yes}\n",
	  "r.yaml:8:47: spec.conf.listeners[0].crossMesh: must be true or "
	  "false" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: a.example, "
	  "resources: {connectionLimit: 2}}\n"
	  "      - {port: 80, protocol: HTTP, hostname: b.example, "
	  "resources: {connectionLimit: 1}}\n",
	  "r.yaml:7:5: spec.conf: listeners on one port must have the same "
	  "connectionLimit" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, "
	  "resources: {connectionLimit: 2, connection_limit: 2}}\n",
	  "r.yaml:8:47: spec.conf.listeners[0].resources: connectionLimit and "
	  "connection_limit are one field: write one" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, "
	  "resources: {connectionLimit: -1}}\n",
	  "r.yaml:8:65: spec.conf.listeners[0].resources.connectionLimit: must "
	  "be an integer 0..4294967295" },
	{ GW_HEAD
	  "      - {port: 1, protocol: HTTP}\n"
	  "      - {port: 2, protocol: HTTP}\n"
	  "      - {port: 3, protocol: HTTP}\n"
	  "      - {port: 4, protocol: HTTP}\n"
	  "      - {port: 5, protocol: HTTP}\n"
	  "      - {port: 6, protocol: HTTP}\n"
	  "      - {port: 7, protocol: HTTP}\n",
	  "r.yaml:8:7: spec.conf.listeners: must have at most 6 entries" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: a.example}\n"
	  "      - {port: 80, protocol: HTTP, hostname: a.example}\n",
	  "r.yaml:7:5: spec.conf: two listeners have the same port and hostname" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP}\n"
	  "      - {port: 80, protocol: TCP, hostname: b.example}\n",
	  "r.yaml:7:5: spec.conf: listeners on one port must have the same protocol" },
	/* SNI picks among a port's HTTPS (or TLS) listeners by hostname: no
	 * two for one name ("*" is the one without), no TLS beside HTTPS. */
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, hostname: '*', "
	  "tls: {mode: TERMINATE, certificates: [{secret: a}]}}\n"
	  "      - {port: 443, protocol: HTTPS, "
	  "tls: {mode: TERMINATE, certificates: [{secret: b}]}}\n",
	  "r.yaml:7:5: spec.conf: two listeners have the same port and hostname" },
	{ GW_HEAD
	  "      - {port: 443, protocol: HTTPS, hostname: a.example, "
	  "tls: {mode: TERMINATE, certificates: [{secret: a}]}}\n"
	  "      - {port: 443, protocol: TLS, hostname: b.example, "
	  "tls: {mode: TERMINATE, certificates: [{secret: b}]}}\n",
	  "r.yaml:7:5: spec.conf: listeners on one port must have the same protocol" },
	{ GW_HEAD
	  "      - {port: 443, protocol: TLS, tls: {mode: TERMINATE}}\n",
	  "r.yaml:8:41: spec.conf.listeners[0].tls: mode TERMINATE needs certificates" },
	{ GW_HEAD
	  "      - {port: 0, protocol: HTTP}\n",
	  "r.yaml:8:16: spec.conf.listeners[0].port: must be 1..65535" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, hostname: \"a..b\"}\n",
	  "r.yaml:8:46: spec.conf.listeners[0].hostname: must be \"*\" or a "
	  "DNS name (labels of a-z, 0-9 and '-'), optionally starting with "
	  "\"*.\"" },
)

/* Tags of the gateway and of a listener, as Kuma's route selectors match
 * them. */
static const char gw_tags_yaml[] =
	KH_DOC("MeshGateway", "tagged")
	"  selectors: [{match: {kuma.io/service: gw}}]\n"
	"  tags: {zone-class: edge, version: v1}\n"
	"  conf:\n"
	"    listeners:\n"
	"      - {port: 80, protocol: HTTP, tags: {vhost: a.example}}\n";

static const char gw_empty_tags_yaml[] =
	KH_DOC("MeshGateway", "untagged")
	"  selectors: [{match: {kuma.io/service: gw}}]\n"
	"  tags: {}\n"
	"  conf:\n"
	"    listeners:\n"
	"      - {port: 80, protocol: HTTP, tags: {}}\n";

static bool test_gateway_spec_tags(void)
{
	static const char *const own[] = { "version", "v1",
					   "zone-class", "edge" };
	static const char *const vhost[] = { "vhost", "a.example" };
	struct model_set s;
	const struct mf_gateway *g = kh_policy(gw_tags_yaml, &s,
					       &kind_mesh_gateway, 1);
	bool ok;

	ok = g && kh_tags_are(&s, g->tags, own, 2) &&
	     kh_tags_are(&s, g->conf.listeners[0].tags, vhost, 1) &&
	     ASSERT_EQ(g->hdr.nsources, 1);
	if (!kh_finish(&s, ok))
		return false;
	/* Without spec.tags the record says none. */
	g = kh_policy(gw_cross_yaml, &s, &kind_mesh_gateway, 1);
	if (!kh_finish(&s, g && ASSERT_EQ(g->tags, 0)))
		return false;
	/* Kuma asks for no tag in either: empty ones read as left out,
	 * as an empty proto map is. */
	g = kh_policy(gw_empty_tags_yaml, &s, &kind_mesh_gateway, 1);
	return kh_finish(&s, g && ASSERT_EQ(g->tags, 0) &&
			     ASSERT_EQ(g->conf.listeners[0].tags, 0) &&
			     /* tags, the listener's fourth field */
			     ASSERT_FALSE(g->conf.listeners[0].present &
					  (1u << 3)));
}

#define GW_TAGS(tags)                                                         \
	KH_DOC("MeshGateway", "g")                                            \
	"  selectors: [{match: {kuma.io/service: gw}}]\n"                     \
	"  tags: " tags "\n"                                                  \
	"  conf:\n"                                                           \
	"    listeners:\n"                                                    \
	"      - {port: 80, protocol: HTTP}\n"

/* Kuma keeps the tags its proxies carry of their own out of the gateway's
 * and the listeners' tags: the message names the tag. */
KH_TEST_BAD(test_gateway_tags_invalid,
	{ GW_TAGS("{vhost: a, kuma.io/service: gw}"),
	  "r.yaml:6:37: spec.tags.kuma.io/service: is a tag the proxy sets "
	  "itself" },
	{ GW_TAGS("{kuma.io/zone: east}"),
	  "r.yaml:6:24: spec.tags.kuma.io/zone: is a tag the proxy sets "
	  "itself" },
	{ GW_TAGS("{kuma.io/protocol: http}"),
	  "r.yaml:6:28: spec.tags.kuma.io/protocol: is a tag the proxy sets "
	  "itself" },
	{ GW_TAGS("{kuma.io/external-service-name: x}"),
	  "r.yaml:6:41: spec.tags.kuma.io/external-service-name: is a tag "
	  "the proxy sets itself" },
	{ GW_TAGS("[vhost]"),
	  "r.yaml:6:9: spec.tags: must be a mapping of tags, not a list" },
	{ GW_HEAD
	  "      - {port: 80, protocol: HTTP, tags: {kuma.io/zone: east}}\n",
	  "r.yaml:8:57: spec.conf.listeners[0].tags.kuma.io/zone: is a tag "
	  "the proxy sets itself" },
	/* Only MeshGateway has spec.tags among the selector kinds. */
	{ KH_DOC("MeshGatewayRoute", "gr")
	  "  selectors: [{match: {kuma.io/service: gw}}]\n"
	  "  tags: {vhost: a}\n"
	  "  conf:\n"
	  "    tcp:\n"
	  "      rules: [{backends: [{destination: {kuma.io/service: a}}]}]\n",
	  "r.yaml:6:3: spec.tags: unknown field" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_gateway_full);
	TEST_RUN(test_gateway_kuma_shapes);
	TEST_RUN(test_gateway_hostname_length);
	TEST_RUN(test_gateway_invalid);
	TEST_RUN(test_gateway_spec_tags);
	TEST_RUN(test_gateway_tags_invalid);
	TEST_MAIN_END();
}
