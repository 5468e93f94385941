// SPDX-License-Identifier: Apache-2.0
/*
 * MeshPassthrough's Domain matches in the agent (agent/passthru.c).
 * The name: the SNI of a real ClientHello (a wolfSSL client's first
 * flight, captured), read whole, 0 for each shorter prefix, -ENOENT
 * without SNI, -EPROTO for bytes that only start like TLS; the Host of an
 * HTTP/1.1 request head, lowercased and without its port, 0 until the
 * head ends, -ENOENT without Host (1.0), -EPROTO for what is no HTTP; a
 * name with a byte no DNS name has (a NUL inside an SNI) is refused.
 * Kuma's matching: exact and case-insensitive; *.example.com for one
 * label or more, not example.com itself nor a name that only ends like
 * it.  The policy: a snapshot compiled from YAML admits a name by the
 * protocol, port and value of the Mesh-wide Domain matches, refuses it
 * otherwise with a reason, and refuses everything unless the mode is
 * Matched.
 */
#include <errno.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "harness/test.h"
#include "harness/records_harness.h"

#include "../../agent/passthru.h"

/* What a wolfSSL client sends first. */
struct hello {
	uint8_t buf[4096];
	size_t len;
};

static int hello_send(WOLFSSL *ssl, char *p, int n, void *arg)
{
	struct hello *h = arg;

	(void)ssl;
	if ((size_t)n > sizeof(h->buf) - h->len)
		return WOLFSSL_CBIO_ERR_GENERAL;
	memcpy(h->buf + h->len, p, (size_t)n);
	h->len += (size_t)n;
	return n;
}

static int hello_recv(WOLFSSL *ssl, char *p, int n, void *arg)
{
	(void)ssl;
	(void)p;
	(void)n;
	(void)arg;
	return WOLFSSL_CBIO_ERR_WANT_READ;	/* no server: one flight */
}

/* The ClientHello of a wolfSSL client asking for @sni (NULL: none) into
 * @h.  Returns false after a failed assertion. */
static bool client_hello(const char *sni, struct hello *h)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	WOLFSSL *ssl = NULL;
	bool ok = ASSERT_TRUE(ctx);

	h->len = 0;
	if (ok) {
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
		wolfSSL_CTX_SetIOSend(ctx, hello_send);
		wolfSSL_CTX_SetIORecv(ctx, hello_recv);
		ssl = wolfSSL_new(ctx);
		ok = ASSERT_TRUE(ssl);
	}
	if (ok && sni)
		ok = ASSERT_EQ(wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, sni,
					      (unsigned short)strlen(sni)),
			       WOLFSSL_SUCCESS);
	if (ok) {
		wolfSSL_SetIOReadCtx(ssl, h);
		wolfSSL_SetIOWriteCtx(ssl, h);
		ok = ASSERT_NE(wolfSSL_connect(ssl), WOLFSSL_SUCCESS) &&
		     ASSERT_EQ(wolfSSL_get_error(ssl, 0), WOLFSSL_ERROR_WANT_READ) &&
		     ASSERT_GE(h->len, 100);
	}
	wolfSSL_free(ssl);
	wolfSSL_CTX_free(ctx);
	return ok;
}

/* The SNI of a real ClientHello, lowercased; no name from any shorter
 * prefix of it (more bytes needed). */
static bool test_sni(void)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct hello h;
	uint8_t proto = 0;
	bool ok = client_hello("API.Example.test", &h);

	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, &why),
			     (int)strlen("api.example.test")) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_TLS) &&
	     ASSERT_STREQ(name, "api.example.test");
	for (size_t n = 0; ok && n < h.len; n++)
		ok = ASSERT_EQ(passthru_name(h.buf, n, &proto, name, &why), 0);
	return ok;
}

/* A ClientHello without SNI has no name; bytes that open a handshake
 * record but are no ClientHello are refused. */
static bool test_sni_none(void)
{
	static const uint8_t junk[64] = { 22, 3, 1, 0, 40, 99 };
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct hello h;
	uint8_t proto = 0;
	bool ok = client_hello(NULL, &h);

	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, &why),
			     -ENOENT) &&
	     ASSERT_STREQ(why, "ClientHello without SNI");
	ok = ok && ASSERT_EQ(passthru_name(junk, sizeof(junk), &proto, name,
					   &why), -EPROTO) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_TLS);
	return ok;
}

/* The Host of the first request: lowercased, its port left out; 0 until
 * the head is whole; an HTTP/1.0 request without Host has no name; what
 * is no HTTP is refused. */
static bool test_host(void)
{
	static const char req[] =
		"GET /x HTTP/1.1\r\nUser-Agent: t\r\n"
		"Host: WWW.Example.ORG:8080\r\nAccept: */*\r\n\r\nbody";
	static const char req10[] = "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n";
	static const char junk[] = "\x01\x02\x03 hello\r\n\r\n";
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	const size_t head = strlen(req) - strlen("body");
	uint8_t proto = 0;
	bool ok = true;

	ok = ASSERT_EQ(passthru_name((const uint8_t *)req, strlen(req), &proto,
				     name, &why), 15) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_HTTP) &&
	     ASSERT_STREQ(name, "www.example.org");
	for (size_t n = 0; ok && n < head; n++)
		ok = ASSERT_EQ(passthru_name((const uint8_t *)req, n, &proto,
					     name, &why), 0);
	ok = ok && ASSERT_EQ(passthru_name((const uint8_t *)req10,
					   strlen(req10), &proto, name, &why),
			     -ENOENT) &&
	     ASSERT_EQ(passthru_name((const uint8_t *)junk, strlen(junk),
				     &proto, name, &why), -EPROTO);
	return ok;
}

/* A name with a byte no DNS name has is refused, never matched: an SNI
 * "allowed.test", NUL, "evil" (the server gets all of it, a C string
 * would stop at the NUL: the ClientHello of "allowed.testXevil" with its
 * X made a NUL, lengths unchanged), a Host that is an IPv6 literal. */
static bool test_name_bytes(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n";
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	uint8_t *x = NULL;
	struct hello h;
	uint8_t proto = 0;
	bool ok = client_hello("allowed.testXevil", &h);

	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, &why),
			     17);
	if (ok)
		x = memmem(h.buf, h.len, "allowed.testX", 13);
	ok = ok && ASSERT_TRUE(x != NULL);
	if (ok)
		x[12] = 0;
	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, &why),
			     -EPROTO) &&
	     ASSERT_STREQ(why, "SNI is no DNS name") &&
	     ASSERT_EQ(passthru_name((const uint8_t *)req, strlen(req), &proto,
				     name, &why), -EPROTO) &&
	     ASSERT_STREQ(why, "Host is no DNS name");
	return ok;
}

/* Kuma's domain matching. */
static bool test_domain_match(void)
{
	return ASSERT_TRUE(passthru_domain_match("api.example.com",
						 "api.example.com")) &&
	       ASSERT_TRUE(passthru_domain_match("API.example.com",
						 "api.example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("api.example.com",
						  "x.api.example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("api.example.com",
						  "api.example.co")) &&
	       ASSERT_TRUE(passthru_domain_match("*.example.com",
						 "a.example.com")) &&
	       ASSERT_TRUE(passthru_domain_match("*.example.com",
						 "a.b.example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  "example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  ".example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  "aexample.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  "a.example.com.evil"));
}

#define PT_DOC(mode, matches)                                                 \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"         \
	RH_DOC("MeshPassthrough", "pt")                                       \
	"spec:\n  targetRef: {kind: Mesh}\n"                                  \
	"  default:\n    passthroughMode: " mode "\n    appendMatch:\n" matches

#define PT_MATCHES                                                            \
	"      - {type: Domain, value: api.example.test, port: 8443, "       \
	"protocol: tls}\n"                                                    \
	"      - {type: Domain, value: \"*.wild.test\", protocol: tls}\n"    \
	"      - {type: Domain, value: www.example.test, port: 80, "         \
	"protocol: http}\n"                                                   \
	"      - {type: CIDR, value: 10.0.0.0/8}\n"

/* The policy's verdict by protocol, port and name; nothing but Matched
 * admits by name. */
static bool test_admit(void)
{
	struct policy *p = rh_yaml_snapshot(PT_DOC("Matched", PT_MATCHES), 1);
	const char *why = NULL;
	bool ok;

	ok = ASSERT_TRUE(p) &&
	     ASSERT_TRUE(passthru_admit(p, 8443, MF_PASSTHROUGH_TLS,
					"api.example.test", &why)) &&
	     ASSERT_TRUE(passthru_admit(p, 9999, MF_PASSTHROUGH_TLS,
					"x.wild.test", &why)) &&
	     ASSERT_TRUE(passthru_admit(p, 80, MF_PASSTHROUGH_HTTP,
					"www.example.test", &why));
	ok = ok && ASSERT_FALSE(passthru_admit(p, 8443, MF_PASSTHROUGH_TLS,
					       "evil.example.test", &why)) &&
	     ASSERT_STREQ(why, "no Domain match has the name");
	/* The right name on another port, or over another protocol. */
	ok = ok && ASSERT_FALSE(passthru_admit(p, 8444, MF_PASSTHROUGH_TLS,
					       "api.example.test", &why)) &&
	     ASSERT_FALSE(passthru_admit(p, 8443, MF_PASSTHROUGH_HTTP,
					 "api.example.test", &why)) &&
	     ASSERT_STREQ(why, "no http Domain match on the port") &&
	     ASSERT_FALSE(passthru_admit(p, 80, MF_PASSTHROUGH_TLS,
					 "www.example.test", &why));
	if (p)
		policy_put(p);

	p = ok ? rh_yaml_snapshot(PT_DOC("All", PT_MATCHES), 1) : NULL;
	ok = ok && ASSERT_TRUE(p) &&
	     ASSERT_FALSE(passthru_admit(p, 8443, MF_PASSTHROUGH_TLS,
					 "api.example.test", &why)) &&
	     ASSERT_STREQ(why, "passthroughMode is not Matched");
	if (p)
		policy_put(p);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	wolfSSL_Init();
	TEST_RUN(test_sni);
	TEST_RUN(test_sni_none);
	TEST_RUN(test_host);
	TEST_RUN(test_name_bytes);
	TEST_RUN(test_domain_match);
	TEST_RUN(test_admit);
	wolfSSL_Cleanup();
	TEST_MAIN_END();
}
