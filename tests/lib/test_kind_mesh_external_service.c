// SPDX-License-Identifier: Apache-2.0
/*
 * MeshExternalService (lib/policy/kind_mesh_external_service.c): a spec
 * written as Kuma 2.14 writes its certificates and one written as Kuma 3.0
 * does parse into the expected records and print back to the same bytes;
 * an inline CA is kept up to its bound and the record stays under 4 KiB;
 * host names are Kuma's (upper case, underscores, a final dot); matches,
 * endpoints, TLS versions, verification and each form of certificate
 * source give exactly the expected diagnostic.
 */
#include "harness/test.h"
#include "harness/kinds_harness.h"

#define ES KH_DOC("MeshExternalService", "es")
/* The one field Kuma requires, for cases about the others. */
#define ES_MATCH ES "  match: {port: 443}\n"

static bool test_mes_kuma2_sources(void)
{
	struct model_set set;
	const struct mf_mesh_external_service *s = kh_policy(
		ES
		"  match: {type: HostnameGenerator, port: 8080,\n"
		"          protocol: http}\n"
		"  endpoints:\n"
		"    - {address: 1.1.1.1, port: 12345}\n"
		"    - {address: example.com, port: 80, priority: 128}\n"
		"  tls:\n"
		"    enabled: true\n"
		"    allowRenegotiation: false\n"
		"    version: {min: TLS12, max: TLS13}\n"
		"    verification:\n"
		"      mode: SkipCA\n"
		"      serverName: example.com\n"
		"      subjectAltNames:\n"
		"        - {type: Exact, value: example.com}\n"
		"        - {value: \"spiffe://example.local/ns/local\"}\n"
		"      caCert: {inline: \"dGVz\\ndA==\"}\n"
		"      clientCert: {secret: client-cert}\n"
		"      clientKey: {secret: client-key}\n",
		&set, &kind_mesh_external_service, 1);
	const struct mf_mes_verification *v = s ? &s->tls.verification : NULL;
	bool ok;

	ok = s && ASSERT_EQ(s->present, 0xd) &&
	     ASSERT_EQ(s->match.present, 0x7) && ASSERT_EQ(s->match.type, 1) &&
	     ASSERT_EQ(s->match.port, 8080) &&
	     ASSERT_EQ(s->match.protocol, MF_MES_HTTP) &&
	     ASSERT_EQ(s->nendpoints, 2) &&
	     ASSERT_STREQ(s->endpoints[0].address, "1.1.1.1") &&
	     ASSERT_EQ(s->endpoints[0].port, 12345) &&
	     ASSERT_EQ(s->endpoints[0].present, 0x3) &&
	     ASSERT_STREQ(s->endpoints[1].address, "example.com") &&
	     ASSERT_EQ(s->endpoints[1].priority, 128) &&
	     ASSERT_EQ(s->tls.present, 0xf) && ASSERT_EQ(s->tls.enabled, 1) &&
	     ASSERT_EQ(s->tls.allow_renegotiation, 0) &&
	     ASSERT_EQ(s->tls.version.min, MF_MES_TLS_12) &&
	     ASSERT_EQ(s->tls.version.max, MF_MES_TLS_13) &&
	     ASSERT_EQ(v->present, 0x3f) &&
	     ASSERT_EQ(v->mode, MF_MES_SKIP_CA) &&
	     ASSERT_STREQ(v->server_name, "example.com") &&
	     ASSERT_EQ(v->nsubject_alt_names, 2) &&
	     ASSERT_EQ(v->subject_alt_names[0].type, 1) &&
	     ASSERT_EQ(v->subject_alt_names[1].present, 0x2) &&
	     ASSERT_STREQ(v->subject_alt_names[1].value,
			  "spiffe://example.local/ns/local") &&
	     /* 2.14's sources have no type; each is one field. */
	     ASSERT_EQ(v->ca_cert.type, 0) &&
	     ASSERT_EQ(v->ca_cert.present, 1u << 5) &&
	     ASSERT_STREQ(v->ca_cert.inline_base64, "dGVz\ndA==") &&
	     ASSERT_EQ(v->client_cert.present, 1u << 1) &&
	     ASSERT_STREQ(v->client_cert.secret, "client-cert") &&
	     ASSERT_STREQ(v->client_key.secret, "client-key");
	return kh_finish(&set, ok);
}

static bool test_mes_kuma3_sources(void)
{
	struct model_set set;
	const struct mf_mesh_external_service *s = kh_policy(
		ES
		"  match: {port: 443}\n"
		"  extension: {type: lambda, config: {}}\n"
		"  tls:\n"
		"    verification:\n"
		"      caCert:\n"
		"        type: InsecureInline\n"
		"        insecureInline:\n"
		"          value: |\n"
		"            -----BEGIN CERTIFICATE-----\n"
		"            MIIB\n"
		"            -----END CERTIFICATE-----\n"
		"      clientCert:\n"
		"        type: Secret\n"
		"        secretRef: {kind: Secret, name: cert}\n"
		"      clientKey:\n"
		"        type: Secret\n"
		"        secretRef: {kind: Secret, name: key}\n",
		&set, &kind_mesh_external_service, 1);
	const struct mf_mes_verification *v = s ? &s->tls.verification : NULL;
	bool ok;

	ok = s && ASSERT_EQ(s->present, 0xb) &&
	     ASSERT_EQ(s->match.present, 0x2) &&
	     ASSERT_EQ(s->extension.present, 0x3) &&
	     ASSERT_STREQ(s->extension.type, "lambda") &&
	     ASSERT_EQ(s->extension.config.present, 0) &&
	     ASSERT_EQ(s->tls.present, 1u << 3) &&
	     ASSERT_EQ(v->present, 0x38) &&
	     ASSERT_EQ(v->ca_cert.type, MF_MES_SRC_INSECURE_INLINE) &&
	     ASSERT_EQ(v->ca_cert.present, 0x81) &&
	     ASSERT_STREQ(v->ca_cert.insecure_inline.value,
			  "-----BEGIN CERTIFICATE-----\nMIIB\n"
			  "-----END CERTIFICATE-----\n") &&
	     ASSERT_EQ(v->client_cert.type, MF_MES_SRC_SECRET) &&
	     ASSERT_EQ(v->client_cert.present, 0x5) &&
	     ASSERT_EQ(v->client_cert.secret_ref.kind, 1) &&
	     ASSERT_STREQ(v->client_cert.secret_ref.name, "cert") &&
	     ASSERT_STREQ(v->client_key.secret_ref.name, "key");
	return kh_finish(&set, ok);
}

/* Three sources and eight endpoints fit in a record of at most 4 KiB
 * because only the CA is inline, and only up to 2047 characters. */
static bool test_mes_inline_bound(void)
{
	static char yaml[4096], big[MF_MES_INLINE_MAX + 1];
	const struct mf_mesh_external_service *s;
	struct model_set set;
	bool ok;

	if (!ASSERT_TRUE(sizeof(struct mf_mesh_external_service) <= 4096))
		return false;
	memset(big, 'A', MF_MES_INLINE_MAX - 1);
	snprintf(yaml, sizeof(yaml),
		 ES_MATCH "  tls: {verification: {caCert: {inlineString: "
			  "%s}}}\n",
		 big);
	s = kh_policy(yaml, &set, &kind_mesh_external_service, 1);
	ok = s && ASSERT_EQ(strlen(s->tls.verification.ca_cert.inline_string),
			    MF_MES_INLINE_MAX - 1);
	if (!kh_finish(&set, ok))
		return false;
	big[MF_MES_INLINE_MAX - 1] = 'A';
	snprintf(yaml, sizeof(yaml),
		 ES_MATCH "  tls: {verification: {caCert: {inline: %s}}}\n",
		 big);
	return kh_expect1(yaml, "t.yaml:6:41: spec.tls.verification.caCert."
				"inline: must be at most 2047 characters");
}

/* What Kuma takes for a host name (govalidator's IsDNSName), and IPs. */
static bool test_mes_addresses(void)
{
	static const char *const good[] = {
		"Api.Example.COM", "_sip._tcp.example.com.", "a-",
		"2001:db8::1", "::ffff:10.0.0.1", "10.0.0.1", "999.1.1.1",
	};
	static const char *const bad[] = {
		"-a.example.com", "a..b", ".a", "1.1.1.1:80", "a b", "a/b",
		"http://a",
	};
	char yaml[512];
	bool ok = true;

	for (size_t i = 0; i < KH_NCASES(good); i++) {
		struct model_set set;

		snprintf(yaml, sizeof(yaml),
			 ES_MATCH "  endpoints: [{address: \"%s\", port: 1}]\n",
			 good[i]);
		if (!kh_finish(&set, kh_policy(yaml, &set,
					       &kind_mesh_external_service,
					       1) != NULL)) {
			fprintf(stderr, "  refused %s\n", good[i]);
			ok = false;
		}
	}
	for (size_t i = 0; i < KH_NCASES(bad); i++) {
		snprintf(yaml, sizeof(yaml),
			 ES_MATCH "  endpoints: [{address: \"%s\", port: 1}]\n",
			 bad[i]);
		ok = kh_expect1(yaml, "t.yaml:6:25: spec.endpoints[0].address: "
				      "must be an IP address or a host name") &&
		     ok;
	}
	return ok;
}

KH_TEST_BAD(test_mes_invalid,
	{ ES "  endpoints: []\n", "t.yaml:5:3: spec.match: is required" },
	{ ES "  match: {protocol: http}\n",
	  "t.yaml:5:10: spec.match.port: is required" },
	{ ES "  match: {type: UnknownMatchType, port: 80}\n",
	  "t.yaml:5:17: spec.match.type: must be HostnameGenerator" },
	{ ES "  match: {port: 0}\n",
	  "t.yaml:5:17: spec.match.port: must be 1..65535" },
	{ ES "  match: {port: 80, protocol: kafka}\n",
	  "t.yaml:5:31: spec.match.protocol: must be tcp, grpc, http or "
	  "http2" },
	{ ES_MATCH "  extension: {config: {}}\n",
	  "t.yaml:6:14: spec.extension.type: is required" },
	{ ES_MATCH "  extension: {type: x, config: {a: 1}}\n",
	  "t.yaml:6:33: spec.extension.config.a: unknown field" },
	{ ES_MATCH "  endpoints: [{address: a.example.com}]\n",
	  "t.yaml:6:15: spec.endpoints[0].port: is required" },
	{ ES_MATCH "  endpoints: [{port: 90}]\n",
	  "t.yaml:6:15: spec.endpoints[0].address: is required" },
	{ ES_MATCH "  endpoints: [{address: x, port: 1, priority: 129}]\n",
	  "t.yaml:6:47: spec.endpoints[0].priority: must be 0..128" },
	/* An extension does not excuse the endpoints: none runs here. */
	{ ES_MATCH "  extension: {type: x}\n"
	  "  endpoints: [{address: \"not valid\", port: 80}]\n",
	  "t.yaml:7:25: spec.endpoints[0].address: must be an IP address or "
	  "a host name" },
	{ ES_MATCH "  tls: {version: {min: TLS15}}\n",
	  "t.yaml:6:24: spec.tls.version.min: must be TLSAuto, TLS10, TLS11, "
	  "TLS12 or TLS13" },
	{ ES_MATCH "  tls: {version: {min: TLS13, max: TLS12}}\n",
	  "t.yaml:6:24: spec.tls.version.min: must not be above max" },
	{ ES_MATCH "  tls: {enabled: yes}\n",
	  "t.yaml:6:18: spec.tls.enabled: must be true or false" },
	{ ES_MATCH "  tls: {verification: {mode: Unknown}}\n",
	  "t.yaml:6:30: spec.tls.verification.mode: must be SkipSAN, SkipCA, "
	  "Secured or SkipAll" },
	{ ES_MATCH "  tls: {verification: {serverName: \"not[]valid\"}}\n",
	  "t.yaml:6:36: spec.tls.verification.serverName: must be a host "
	  "name" },
	/* Kuma's IsDNSName is not an IP address. */
	{ ES_MATCH "  tls: {verification: {serverName: 10.0.0.1}}\n",
	  "t.yaml:6:36: spec.tls.verification.serverName: must be a host "
	  "name" },
	{ ES_MATCH "  tls: {verification: {subjectAltNames: [{type: Regex, "
	  "value: x}]}}\n",
	  "t.yaml:6:49: spec.tls.verification.subjectAltNames[0].type: must "
	  "be Exact or Prefix" },
	{ ES_MATCH "  tls: {verification: {subjectAltNames: [{type: "
	  "Exact}]}}\n",
	  "t.yaml:6:42: spec.tls.verification.subjectAltNames[0].value: is "
	  "required" },
	{ ES_MATCH "  tls: {verification: {clientCert: {secret: a}}}\n",
	  "t.yaml:6:23: spec.tls.verification.clientKey: is required with "
	  "clientCert" },
	{ ES_MATCH "  tls: {verification: {clientKey: {secret: a}}}\n",
	  "t.yaml:6:23: spec.tls.verification.clientCert: is required with "
	  "clientKey" },
)

/* Each way a certificate source can be wrong. */
KH_TEST_BAD(test_mes_sources_invalid,
	{ ES_MATCH "  tls: {verification: {caCert: {}}}\n",
	  "t.yaml:6:32: spec.tls.verification.caCert: needs secret, inline or "
	  "inlineString, or type with secretRef or insecureInline" },
	{ ES_MATCH "  tls: {verification: {caCert: {secret: a, inlineString: "
	  "b}}}\n",
	  "t.yaml:6:32: spec.tls.verification.caCert: must have only one of "
	  "secret, inline and inlineString" },
	{ ES_MATCH "  tls: {verification: {caCert: {secret: a, type: "
	  "Secret}}}\n",
	  "t.yaml:6:32: spec.tls.verification.caCert: secret, inline and "
	  "inlineString (Kuma 2.14) do not go with type and its objects "
	  "(Kuma 3.0)" },
	{ ES_MATCH "  tls: {verification: {caCert: {inline: abc}}}\n",
	  "t.yaml:6:41: spec.tls.verification.caCert.inline: must be base64 "
	  "(inlineString takes the text itself)" },
	{ ES_MATCH "  tls: {verification: {caCert: {inline: \"ab=c\"}}}\n",
	  "t.yaml:6:41: spec.tls.verification.caCert.inline: must be base64 "
	  "(inlineString takes the text itself)" },
	{ ES_MATCH "  tls: {verification: {caCert: {secret: Bad_Name}}}\n",
	  "t.yaml:6:41: spec.tls.verification.caCert.secret: must be 1..63 "
	  "characters of a-z, 0-9, '-' and '.', starting and ending with a "
	  "letter or digit" },
	/* Kuma 3.0 refuses File and EnvVar: the host would read them. */
	{ ES_MATCH "  tls: {verification: {caCert: {type: File, file: {path: "
	  "/etc/ca.pem}}}}\n",
	  "t.yaml:6:39: spec.tls.verification.caCert.type: must be Secret or "
	  "InsecureInline" },
	{ ES_MATCH "  tls: {verification: {caCert: {insecureInline: {value: "
	  "x}}}}\n",
	  "t.yaml:6:32: spec.tls.verification.caCert.type: is required with "
	  "secretRef or insecureInline" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: Secret}}}\n",
	  "t.yaml:6:32: spec.tls.verification.caCert.secretRef: is required "
	  "for type Secret" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: InsecureInline}}}\n",
	  "t.yaml:6:32: spec.tls.verification.caCert.insecureInline: is "
	  "required for type InsecureInline" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: Secret, secretRef: "
	  "{kind: Secret, name: s}, file: {path: /x}}}}\n",
	  "t.yaml:6:89: spec.tls.verification.caCert.file: must not be set "
	  "when type is Secret" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: InsecureInline, "
	  "insecureInline: {value: x}, secretRef: {kind: Secret, name: s}}}}\n",
	  "t.yaml:6:94: spec.tls.verification.caCert.secretRef: must not be "
	  "set when type is InsecureInline" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: Secret, secretRef: "
	  "{name: s}}}}\n",
	  "t.yaml:6:58: spec.tls.verification.caCert.secretRef.kind: is "
	  "required" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: Secret, secretRef: "
	  "{kind: Other, name: s}}}}\n",
	  "t.yaml:6:65: spec.tls.verification.caCert.secretRef.kind: must be "
	  "Secret" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: Secret, secretRef: "
	  "{kind: Secret}}}}\n",
	  "t.yaml:6:58: spec.tls.verification.caCert.secretRef.name: is "
	  "required" },
	{ ES_MATCH "  tls: {verification: {caCert: {type: InsecureInline, "
	  "insecureInline: {value: \"\"}}}}\n",
	  "t.yaml:6:79: spec.tls.verification.caCert.insecureInline.value: "
	  "must not be empty" },
	/* A client certificate and key come from a Secret only. */
	{ ES_MATCH "  tls: {verification: {clientCert: {}, clientKey: {secret: "
	  "b}}}\n",
	  "t.yaml:6:36: spec.tls.verification.clientCert: needs secret, or "
	  "type Secret with secretRef" },
	{ ES_MATCH "  tls: {verification: {clientCert: {secret: a}, clientKey: "
	  "{inlineString: x}}}\n",
	  "t.yaml:6:61: spec.tls.verification.clientKey.inlineString: unknown "
	  "field" },
	{ ES_MATCH "  tls: {verification: {clientCert: {secret: a}, clientKey: "
	  "{type: InsecureInline}}}\n",
	  "t.yaml:6:67: spec.tls.verification.clientKey.type: must be Secret" },
)

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_mes_kuma2_sources);
	TEST_RUN(test_mes_kuma3_sources);
	TEST_RUN(test_mes_inline_bound);
	TEST_RUN(test_mes_addresses);
	TEST_RUN(test_mes_invalid);
	TEST_RUN(test_mes_sources_invalid);
	TEST_MAIN_END();
}
