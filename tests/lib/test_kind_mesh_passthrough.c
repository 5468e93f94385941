// SPDX-License-Identifier: Apache-2.0
/*
 * MeshPassthrough (lib/policy/kind_mesh_passthrough.c) through mfctl's
 * reader and writer: a default with every type of match parses into the
 * expected record (protocol tcp when left out) and prints back to the
 * same bytes; the values Kuma takes (wildcards, IPv6, Kuma's domain
 * characters, shared ports) are taken; each of Kuma's rules on a match
 * and across matches gives exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

static const char pt_yaml[] =
	KH_DOC("MeshPassthrough", "egress")
	"  targetRef: {kind: Mesh}\n"
	"  default:\n"
	"    passthroughMode: Matched\n"
	"    appendMatch:\n"
	"      - {type: Domain, value: \"*.example.com\", port: 443,\n"
	"         protocol: tls}\n"
	"      - {type: IP, value: 10.1.2.3, port: 3306, protocol: mysql}\n"
	"      - {type: CIDR, value: \"fd00::/8\"}\n"
	"      - {type: Domain, value: api.example.com, port: 8080,\n"
	"         protocol: http}\n"
	"      - {type: Domain, value: web.example.com, port: 8080,\n"
	"         protocol: http}\n";

static bool test_pt_parse(void)
{
	struct model_set set;
	const struct mf_passthrough *r = kh_policy(pt_yaml, &set,
						   &kind_mesh_passthrough, 1);
	const struct mf_passthrough_match *m = r ? r->conf.append_match : NULL;
	bool ok;

	ok = r && ASSERT_EQ(r->hdr.section, MF_SEC_DEFAULT) &&
	     ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH) &&
	     ASSERT_EQ(r->conf.present, 0x3) &&
	     ASSERT_EQ(r->conf.passthrough_mode, MF_PASSTHROUGH_MATCHED) &&
	     ASSERT_EQ(r->conf.nappend_match, 5) &&
	     ASSERT_EQ(m[0].present, 0xf) &&
	     ASSERT_EQ(m[0].type, MF_PASSTHROUGH_DOMAIN) &&
	     ASSERT_STREQ(m[0].value, "*.example.com") &&
	     ASSERT_EQ(m[0].port, 443) &&
	     ASSERT_EQ(m[0].protocol, MF_PASSTHROUGH_TLS) &&
	     ASSERT_EQ(m[1].type, MF_PASSTHROUGH_IP) &&
	     ASSERT_EQ(m[1].port, 3306) &&
	     ASSERT_EQ(m[1].protocol, MF_PASSTHROUGH_MYSQL) &&
	     /* every port, and Kuma's default protocol */
	     ASSERT_EQ(m[2].type, MF_PASSTHROUGH_CIDR) &&
	     ASSERT_EQ(m[2].present, 0xb) && ASSERT_EQ(m[2].port, 0) &&
	     ASSERT_EQ(m[2].protocol, MF_PASSTHROUGH_TCP) &&
	     ASSERT_EQ(m[4].port, 8080) &&
	     ASSERT_EQ(m[4].protocol, MF_PASSTHROUGH_HTTP);
	return kh_finish(&set, ok);
}

/* PT_HEAD is 6 lines: the first match is on line 7. */
#define PT_HEAD                                                               \
	KH_DOC("MeshPassthrough", "p") "  default:\n    appendMatch:\n"

/* What Kuma takes besides the usual. */
static bool test_pt_accepted(void)
{
	struct model_set set;
	const struct mf_passthrough *r = kh_policy(
		PT_HEAD
		/* a bare wildcard, for protocols that need no port */
		"      - {type: Domain, value: \"*\", protocol: tls}\n"
		/* Kuma checks what follows the first "*." only when it
		 * does not start with '*' */
		"      - {type: Domain, value: \"*.*.internal\", "
		"protocol: tls}\n"
		/* govalidator's IsDNSName: upper case, '_', a final dot */
		"      - {type: Domain, value: Svc_1.Example.COM., "
		"protocol: grpc}\n"
		"      - {type: IP, value: \"::ffff:10.0.0.1\"}\n"
		"      - {type: CIDR, value: 10.1.2.3/08}\n"
		/* an http match's port may have tcp and tls ones after it */
		"      - {type: IP, value: 10.0.0.2, port: 80, "
		"protocol: http}\n"
		"      - {type: IP, value: 10.0.0.3, port: 80, protocol: tcp}\n"
		/* repeats count per port and protocol, and only with a
		 * port */
		"      - {type: IP, value: 10.0.0.3, port: 81, protocol: tcp}\n"
		"      - {type: IP, value: 10.0.0.3, port: 80, protocol: tls}\n"
		"      - {type: IP, value: 10.0.0.4}\n"
		"      - {type: IP, value: 10.0.0.4}\n",
		&set, &kind_mesh_passthrough, 1);
	bool ok;

	ok = r && ASSERT_EQ(r->conf.nappend_match, 11) &&
	     ASSERT_STREQ(r->conf.append_match[2].value,
			  "Svc_1.Example.COM.") &&
	     ASSERT_EQ(r->conf.append_match[6].protocol, MF_PASSTHROUGH_TCP);
	if (!kh_finish(&set, ok))
		return false;
	/* No appendMatch: the mode alone; Kuma 2.x's subset target. */
	r = kh_policy(KH_DOC("MeshPassthrough", "all")
		      "  targetRef: {kind: MeshSubset, tags: {app: web}}\n"
		      "  default: {passthroughMode: All}\n",
		      &set, &kind_mesh_passthrough, 1);
	return kh_finish(&set, r &&
			 ASSERT_EQ(r->hdr.target.kind, MF_REF_MESH_SUBSET) &&
			 ASSERT_EQ(r->conf.present, 0x1) &&
			 ASSERT_EQ(r->conf.passthrough_mode,
				   MF_PASSTHROUGH_ALL));
}

#define PT_DOMAIN_TCP                                                         \
	"must be tls, grpc, http or http2 for type Domain (tcp is the "       \
	"default): a domain is matched by its name"
#define PT_NOT_DOMAIN "must be a domain name, or *. and one"
#define PT_NOT_CIDR "must be a CIDR (an IP address, '/' and a prefix length)"
/* One match as a list item, and four of them. */
#define PT_ITEM "      - {type: IP, value: 10.0.0.1}\n"
#define PT_ITEMS_4 PT_ITEM PT_ITEM PT_ITEM PT_ITEM
/* 16 characters of a domain, and 128 (one more than a value holds). */
#define PT_16 "a23456789.bcdefg"
#define PT_128 PT_16 PT_16 PT_16 PT_16 PT_16 PT_16 PT_16 PT_16

/* Kuma's rules on one match. */
KH_TEST_BAD(test_pt_match_invalid,
	{ PT_HEAD "      - {type: Host, value: a.com}\n",
	  "t.yaml:7:16: spec.default.appendMatch[0].type: must be Domain, IP "
	  "or CIDR" },
	{ PT_HEAD "      - {value: a.com, protocol: tls}\n",
	  "t.yaml:7:9: spec.default.appendMatch[0].type: is required" },
	{ PT_HEAD "      - {type: IP, value: \"\"}\n",
	  "t.yaml:7:27: spec.default.appendMatch[0].value: must not be "
	  "empty" },
	{ PT_HEAD "      - {type: IP, value: 10.0.0.1, protocol: udp}\n",
	  "t.yaml:7:47: spec.default.appendMatch[0].protocol: must be tcp, "
	  "tls, grpc, http, http2 or mysql" },
	{ PT_HEAD "      - {type: IP, value: 10.0.0.1, port: 0}\n",
	  "t.yaml:7:43: spec.default.appendMatch[0].port: must be 1..65535" },
	{ PT_HEAD "      - {type: IP, value: 10.0.0.1, port: 65536}\n",
	  "t.yaml:7:43: spec.default.appendMatch[0].port: must be 1..65535" },
	{ PT_HEAD "      - {type: IP, value: 10.0.0.1, protocol: mysql}\n",
	  "t.yaml:7:9: spec.default.appendMatch[0].port: is required with "
	  "protocol mysql" },
	/* IPs and CIDRs as Go parses them */
	{ PT_HEAD "      - {type: IP, value: example.com}\n",
	  "t.yaml:7:27: spec.default.appendMatch[0].value: must be an IP "
	  "address" },
	{ PT_HEAD "      - {type: IP, value: 10.0.0.01}\n",
	  "t.yaml:7:27: spec.default.appendMatch[0].value: must be an IP "
	  "address" },
	{ PT_HEAD "      - {type: IP, value: \"fe80::1%eth0\"}\n",
	  "t.yaml:7:27: spec.default.appendMatch[0].value: must be an IP "
	  "address" },
	{ PT_HEAD "      - {type: CIDR, value: 10.0.0.0}\n",
	  "t.yaml:7:29: spec.default.appendMatch[0].value: " PT_NOT_CIDR },
	{ PT_HEAD "      - {type: CIDR, value: 10.0.0.0/33}\n",
	  "t.yaml:7:29: spec.default.appendMatch[0].value: " PT_NOT_CIDR },
	{ PT_HEAD "      - {type: CIDR, value: \"::/129\"}\n",
	  "t.yaml:7:29: spec.default.appendMatch[0].value: " PT_NOT_CIDR },
	{ PT_HEAD "      - {type: CIDR, value: 10.0.0.0/}\n",
	  "t.yaml:7:29: spec.default.appendMatch[0].value: " PT_NOT_CIDR },
	{ PT_HEAD "      - {type: CIDR, value: 10.0.0.0/8/8}\n",
	  "t.yaml:7:29: spec.default.appendMatch[0].value: " PT_NOT_CIDR },
	/* domains */
	{ PT_HEAD "      - {type: Domain, value: a.com}\n",
	  "t.yaml:7:9: spec.default.appendMatch[0].protocol: "
	  PT_DOMAIN_TCP },
	{ PT_HEAD "      - {type: Domain, value: db.com, port: 3306, "
		  "protocol: mysql}\n",
	  "t.yaml:7:61: spec.default.appendMatch[0].protocol: "
	  PT_DOMAIN_TCP },
	{ PT_HEAD "      - {type: Domain, value: \"*w.example.com\", "
		  "protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: must not be a "
	  "partial wildcard: '*' stands for whole labels, as in "
	  "*.example.com" },
	{ PT_HEAD "      - {type: Domain, value: \"*.example.com\", "
		  "protocol: http2}\n",
	  "t.yaml:7:9: spec.default.appendMatch[0].port: is required for a "
	  "wildcard domain with protocol grpc, http or http2" },
	{ PT_HEAD "      - {type: Domain, value: \"*\", protocol: grpc}\n",
	  "t.yaml:7:9: spec.default.appendMatch[0].port: is required for a "
	  "wildcard domain with protocol grpc, http or http2" },
	{ PT_HEAD "      - {type: Domain, value: \"*.\", protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: " PT_NOT_DOMAIN },
	{ PT_HEAD "      - {type: Domain, value: \"*.a@b\", protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: " PT_NOT_DOMAIN },
	{ PT_HEAD "      - {type: Domain, value: a..b, protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: " PT_NOT_DOMAIN },
	{ PT_HEAD "      - {type: Domain, value: -a.b, protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: " PT_NOT_DOMAIN },
	{ PT_HEAD "      - {type: Domain, value: 10.0.0.1, protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: " PT_NOT_DOMAIN },
	{ PT_HEAD "      - {type: Domain, value: "
		  "a234567890123456789012345678901234567890123456789012345678"
		  "901234.b, protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: " PT_NOT_DOMAIN },
	/* the record's bounds */
	{ PT_HEAD "      - {type: Domain, value: " PT_128 ", protocol: tls}\n",
	  "t.yaml:7:31: spec.default.appendMatch[0].value: must be at most "
	  "127 characters" },
	{ PT_HEAD PT_ITEMS_4 PT_ITEMS_4 PT_ITEMS_4 PT_ITEMS_4 PT_ITEM,
	  "t.yaml:7:7: spec.default.appendMatch: must have at most 16 "
	  "entries" },
	{ KH_DOC("MeshPassthrough", "p")
	  "  default: {passthroughMode: Some}\n",
	  "t.yaml:5:30: spec.default.passthroughMode: must be All, Matched "
	  "or None" },
	{ KH_DOC("MeshPassthrough", "p")
	  "  targetRef: {kind: MeshService, name: web}\n"
	  "  default: {passthroughMode: All}\n",
	  "t.yaml:5:21: spec.targetRef.kind: must be Mesh, MeshSubset or "
	  "Dataplane" },
)

/* Kuma's rules across the matches that have a port. */
KH_TEST_BAD(test_pt_ports_invalid,
	{ PT_HEAD
	  "      - {type: Domain, value: a.com, port: 80, protocol: http}\n"
	  "      - {type: Domain, value: a.com, port: 80, protocol: http2}\n",
	  "t.yaml:7:7: spec.default.appendMatch: [1] has protocol http2 on "
	  "port 80, where [0] has http: a grpc, http or http2 match shares "
	  "its port with its own protocol only" },
	{ PT_HEAD
	  "      - {type: IP, value: 10.0.0.1, port: 80}\n"
	  "      - {type: IP, value: 10.0.0.2, port: 80, protocol: grpc}\n",
	  "t.yaml:7:7: spec.default.appendMatch: [1] has protocol grpc on "
	  "port 80, where [0] has tcp: a grpc, http or http2 match shares "
	  "its port with its own protocol only" },
	/* a tcp match after an http one makes the port tcp's */
	{ PT_HEAD
	  "      - {type: Domain, value: a.com, port: 80, protocol: http}\n"
	  "      - {type: IP, value: 10.0.0.2, port: 80, protocol: tcp}\n"
	  "      - {type: Domain, value: b.com, port: 80, protocol: http}\n",
	  "t.yaml:7:7: spec.default.appendMatch: [2] has protocol http on "
	  "port 80, where [1] has tcp: a grpc, http or http2 match shares "
	  "its port with its own protocol only" },
	{ PT_HEAD
	  "      - {type: Domain, value: a.com, port: 80, protocol: http}\n"
	  "      - {type: Domain, value: b.com, port: 80, protocol: http}\n"
	  "      - {type: Domain, value: a.com, port: 80, protocol: http}\n",
	  "t.yaml:7:7: spec.default.appendMatch: [2] repeats [0]: a.com on "
	  "port 80 with protocol http" },
	{ PT_HEAD
	  "      - {type: IP, value: 10.0.0.1, port: 5432, protocol: tcp}\n"
	  "      - {type: IP, value: 10.0.0.1, port: 5432}\n",
	  "t.yaml:7:7: spec.default.appendMatch: [1] repeats [0]: 10.0.0.1 on "
	  "port 5432 with protocol tcp" },
)

static bool test_pt_layout(void)
{
	return kh_layout(&kind_mesh_passthrough, pt_yaml);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_pt_parse);
	TEST_RUN(test_pt_accepted);
	TEST_RUN(test_pt_match_invalid);
	TEST_RUN(test_pt_ports_invalid);
	TEST_RUN(test_pt_layout);
	TEST_MAIN_END();
}
