// SPDX-License-Identifier: Apache-2.0
/*
 * TLS origination to servers outside the mesh (tls_ctx_new_origin(),
 * tls_sess_new_origin()): a client session against a public server
 * session over memory (tls_harness.h).  What the server saw (SNI, bytes),
 * the verification modes (a CA of another chain refused unless skipped),
 * the names asked for (Exact, Prefix, none matching), the version bounds,
 * and the TCP EOF that ends an origin session's stream.  Certificates are
 * made with the openssl CLI in a temporary directory.
 */
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"

#include "fsio.h"
#include "../../agent/hmatch.h"

static char *ca_pem, *ca2_pem;
static size_t ca_len, ca2_len;

static bool setup(void)
{
	char p[128];

	if (!ph_make_pki(th_dir, sizeof(th_dir), "origin") ||
	    ph_make_ca(th_dir, "ca2", "ca2") != 0 ||
	    ph_make_leaf(th_dir, "ca", "api", "api.example.test",
			 "DNS:api.example.test") != 0 ||
	    ph_sh("cd %s && cat api.crt api.key > api.pem", th_dir) != 0 ||
	    ph_make_leaf(th_dir, "ca", "wild", "wild.example.test",
			 "DNS:*.example.test") != 0 ||
	    ph_make_leaf(th_dir, "ca", "www", "www.example.test",
			 "DNS:www.example.test") != 0 ||
	    ph_make_leaf(th_dir, "ca", "dflt", "default.test",
			 "DNS:default.test") != 0 ||
	    ph_make_leaf(th_dir, "ca", "wwwec", "wwwec",
			 "DNS:www.example.test,DNS:ec.www.example.test") != 0 ||
	    /* The same names under an RSA key: a listener's second
	     * certificate. */
	    ph_sh("cd %s && printf 'subjectAltName=DNS:www.example.test,"
		  "DNS:rsa.www.example.test\\nextendedKeyUsage=serverAuth\\n' "
		  "> wwwrsa.ext && openssl req -new -newkey rsa:2048 -nodes "
		  "-keyout wwwrsa.key -out wwwrsa.csr -subj /CN=wwwrsa "
		  ">/dev/null 2>&1 && openssl x509 -req -in wwwrsa.csr -CA "
		  "ca.crt -CAkey ca.key -CAcreateserial -days 2 -out wwwrsa.crt "
		  "-extfile wwwrsa.ext >/dev/null 2>&1", th_dir) != 0 ||
	    ph_sh("cd %s && for l in wild www dflt wwwec wwwrsa; do "
		  "cat $l.crt $l.key > $l.pem; done", th_dir) != 0)
		return false;
	snprintf(p, sizeof(p), "%s/ca.crt", th_dir);
	if (fsio_read_all(p, &ca_pem, &ca_len))
		return false;
	snprintf(p, sizeof(p), "%s/ca2.crt", th_dir);
	return fsio_read_all(p, &ca2_pem, &ca2_len) == 0;
}

/* A handshake of an origin client (@o, asking for @sni, checking @names)
 * against the public server of leaf "api": the client's result, the
 * pair left open in @p for more. */
static int origin(struct th_pair *p, const struct tls_origin *o,
		  const char *sni, const struct tls_name *names, size_t n)
{
	char pem[128];
	int rc, rs;

	memset(p, 0, sizeof(*p));
	snprintf(pem, sizeof(pem), "%s/api.pem", th_dir);
	if (!ASSERT_EQ(tls_ctx_new_origin(&p->cctx, o), 0) ||
	    !ASSERT_EQ(tls_ctx_new_public(&p->sctx, pem), 0) ||
	    !ASSERT_EQ(tls_sess_new_origin(&p->c, p->cctx, sni, names, n), 0) ||
	    !ASSERT_EQ(tls_sess_new(&p->s, p->sctx), 0))
		return -EINVAL;
	th_handshake(p, &rc, &rs);
	return rc;
}

/* Secured: the chain to the CA given, the name, SNI; then bytes both
 * ways through wolfSSL's record layer, and the server's TCP EOF taken as
 * the end of the stream. */
static bool test_secured(void)
{
	static const struct tls_name name = { TLS_NAME_EXACT,
					      "api.example.test" };
	struct tls_origin o = { .ca_pem = ca_pem, .ca_len = ca_len };
	struct th_pair p;
	char buf[64];
	ssize_t n;
	bool ok = ASSERT_EQ(origin(&p, &o, "api.example.test", &name, 1), 0) &&
		  ASSERT_TRUE(tls_sni(p.s) != NULL) &&
		  ASSERT_STREQ(tls_sni(p.s), "api.example.test") &&
		  ASSERT_EQ(tls_write(p.c, "GET / HTTP/1.1\r\n\r\n", 18), 18);

	th_pump(p.c, p.s, 0);
	n = ok ? tls_read(p.s, buf, sizeof(buf)) : -1;
	ok = ok && ASSERT_EQ(n, 18) && ASSERT_TRUE(!memcmp(buf, "GET /", 5)) &&
	     ASSERT_EQ(tls_write(p.s, "HTTP/1.1 200 OK\r\n", 17), 17);
	th_pump(p.s, p.c, 0);
	n = ok ? tls_read(p.c, buf, sizeof(buf)) : -1;
	ok = ok && ASSERT_EQ(n, 17) &&
	     ASSERT_TRUE(!memcmp(buf, "HTTP/1.1 200", 12)) &&
	     ASSERT_EQ(tls_read(p.c, buf, sizeof(buf)), -EAGAIN) &&
	     ASSERT_TRUE(tls_eof_is_end(p.c)) &&
	     ASSERT_TRUE(!tls_eof_is_end(p.s));
	th_pair_close(&p);
	return ok;
}

/* A chain of another CA is refused, and says so; SkipCA takes it (the
 * name still checked), SkipAll too. */
static bool test_other_ca(void)
{
	static const struct tls_name name = { TLS_NAME_EXACT,
					      "api.example.test" };
	struct tls_origin o = { .ca_pem = ca2_pem, .ca_len = ca2_len };
	struct tls_origin skip = { .skip_ca = true };
	struct th_pair p;
	bool ok = ASSERT_EQ(origin(&p, &o, "api.example.test", &name, 1),
			    -EACCES) &&
		  ASSERT_TRUE(strstr(tls_last_error(p.c), "handshake") != NULL);

	th_pair_close(&p);
	ok = ok && ASSERT_EQ(origin(&p, &skip, "api.example.test", &name, 1),
			     0);
	th_pair_close(&p);
	ok = ok && ASSERT_EQ(origin(&p, &skip, NULL, NULL, 0), 0);
	th_pair_close(&p);
	return ok;
}

/* The names: one of them must be the certificate's; Prefix matches a
 * DNS SAN's start; none matching is refused with the reason. */
static bool test_names(void)
{
	static const struct tls_name other[] = {
		{ TLS_NAME_EXACT, "other.example.test" },
		{ TLS_NAME_PREFIX, "www." },
	};
	static const struct tls_name prefix[] = {
		{ TLS_NAME_EXACT, "other.example.test" },
		{ TLS_NAME_PREFIX, "api.example." },
	};
	static const struct tls_name ip = { TLS_NAME_IP, "192.0.2.1" };
	struct tls_origin o = { .ca_pem = ca_pem, .ca_len = ca_len };
	struct th_pair p;
	bool ok = ASSERT_EQ(origin(&p, &o, "api.example.test", other, 2),
			    -EACCES) &&
		  ASSERT_TRUE(strstr(tls_last_error(p.c),
				     "none of the names") != NULL);

	th_pair_close(&p);
	ok = ok && ASSERT_EQ(origin(&p, &o, NULL, prefix, 2), 0);
	th_pair_close(&p);
	ok = ok && ASSERT_EQ(origin(&p, &o, NULL, &ip, 1), -EACCES);
	th_pair_close(&p);
	return ok;
}

/* A handshake of an origin client asking for @sni (NULL: none) against
 * one public server context with a certificate per name, as a gateway
 * port with several listeners has (tls_ctx_sni_add(), ranked by
 * hmatch_host() as the gateway ranks them): "*.example.test",
 * "www.example.test" and, when @with_any, "" (any name).  The client
 * accepts only a certificate with a DNS SAN starting with @want (NULL:
 * any), which tells which one it got.  The client's result. */
static int sni_pick(struct th_pair *p, bool with_any, const char *sni,
		    const char *want)
{
	static const char *const leaves[][2] = {
		{ "*.example.test", "wild" },
		{ "www.example.test", "www" },
		{ "", "dflt" },
	};
	const struct tls_name name = { TLS_NAME_PREFIX, want };
	struct tls_origin o = { .ca_pem = ca_pem, .ca_len = ca_len };
	struct tls_ctx *one;
	char pem[128];
	int rc, rs;

	memset(p, 0, sizeof(*p));
	/* Sessions start on a context of their own, with some certificate:
	 * the first leaf's, loaded once more. */
	snprintf(pem, sizeof(pem), "%s/wild.pem", th_dir);
	if (!ASSERT_EQ(tls_ctx_new_origin(&p->cctx, &o), 0) ||
	    !ASSERT_EQ(tls_ctx_new_public(&p->sctx, pem), 0))
		return -EINVAL;
	for (size_t i = 0; i < (with_any ? 3u : 2u); i++) {
		snprintf(pem, sizeof(pem), "%s/%s.pem", th_dir, leaves[i][1]);
		if (!ASSERT_EQ(tls_ctx_new_public(&one, pem), 0))
			return -EINVAL;
		rc = tls_ctx_sni_add(p->sctx, hmatch_host, leaves[i][0], one,
				     NULL);
		tls_ctx_put(one);
		if (!ASSERT_EQ(rc, 0))
			return -EINVAL;
	}
	if (!ASSERT_EQ(tls_sess_new_origin(&p->c, p->cctx, sni, want ? &name :
					   NULL, want ? 1 : 0), 0) ||
	    !ASSERT_EQ(tls_sess_new(&p->s, p->sctx), 0))
		return -EINVAL;
	th_handshake(p, &rc, &rs);
	return rc;
}

/* The certificate follows the client's SNI: the exact name's over the
 * wildcard's over the one for any name, which also takes a client that
 * sent none; without one for any name, a name no pattern matches (or
 * none) is refused in the handshake, and the client is told. */
static bool test_sni_pick(void)
{
	struct th_pair p;
	bool ok = ASSERT_EQ(sni_pick(&p, true, "www.example.test", "www."), 0) &&
		  ASSERT_STREQ(tls_sni(p.s), "www.example.test");

	th_pair_close(&p);
	ok = ok && ASSERT_EQ(sni_pick(&p, true, "a.example.test",
				      "*.example.test"), 0);
	th_pair_close(&p);
	ok = ok && ASSERT_EQ(sni_pick(&p, true, "other.org", "default."), 0);
	th_pair_close(&p);
	ok = ok && ASSERT_EQ(sni_pick(&p, true, NULL, "default."), 0) &&
	     ASSERT_TRUE(tls_sni(p.s) == NULL);
	th_pair_close(&p);
	/* A name no listener takes: refused, whatever the client accepts. */
	ok = ok && ASSERT_TRUE(sni_pick(&p, false, "other.org", NULL) < 0) &&
	     ASSERT_TRUE(p.s->failed);
	th_pair_close(&p);
	ok = ok && ASSERT_TRUE(sni_pick(&p, false, NULL, NULL) < 0);
	th_pair_close(&p);
	ok = ok && ASSERT_EQ(sni_pick(&p, false, "www.example.test", "www."),
			     0);
	th_pair_close(&p);
	return ok;
}

/* A handshake against a listener with two certificates (ECDSA first,
 * RSA second, tls_ctx_sni_add()'s @alt) of a client whose signature
 * algorithms are @sigalgs (wolfSSL's list syntax; NULL: its own, which
 * take both) and who accepts only a certificate with a DNS SAN starting
 * with @want: the client's result. */
static int alt_pick(struct th_pair *p, const char *sigalgs, const char *want)
{
	const struct tls_name name = { TLS_NAME_PREFIX, want };
	struct tls_origin o = { .ca_pem = ca_pem, .ca_len = ca_len };
	struct tls_ctx *ec, *rsa;
	char pem[128];
	int rc, rs;

	memset(p, 0, sizeof(*p));
	snprintf(pem, sizeof(pem), "%s/wwwec.pem", th_dir);
	if (!ASSERT_EQ(tls_ctx_new_origin(&p->cctx, &o), 0) ||
	    !ASSERT_EQ(tls_ctx_new_public(&p->sctx, pem), 0) ||
	    !ASSERT_EQ(tls_ctx_new_public(&ec, pem), 0))
		return -EINVAL;
	snprintf(pem, sizeof(pem), "%s/wwwrsa.pem", th_dir);
	if (!ASSERT_EQ(tls_ctx_new_public(&rsa, pem), 0))
		return -EINVAL;
	rc = tls_ctx_sni_add(p->sctx, hmatch_host, "www.example.test", ec, rsa);
	tls_ctx_put(ec);
	tls_ctx_put(rsa);
	if (!ASSERT_EQ(rc, 0) ||
	    (sigalgs && !ASSERT_EQ(wolfSSL_CTX_set1_sigalgs_list(p->cctx->wctx,
								 sigalgs),
				   WOLFSSL_SUCCESS)) ||
	    !ASSERT_EQ(tls_sess_new_origin(&p->c, p->cctx, "www.example.test",
					   &name, 1), 0) ||
	    !ASSERT_EQ(tls_sess_new(&p->s, p->sctx), 0))
		return -EINVAL;
	th_handshake(p, &rc, &rs);
	return rc;
}

/* A listener's second certificate (Kuma's RSA beside ECDSA): a client
 * that takes both gets the first; one whose signature algorithms take
 * only RSA keys gets the RSA one; one that takes only ECDSA the first. */
static bool test_sni_alt_cert(void)
{
	struct th_pair p;
	bool ok = ASSERT_EQ(alt_pick(&p, NULL, "ec."), 0);

	th_pair_close(&p);
	ok = ok && ASSERT_EQ(alt_pick(&p, "RSA-PSS+SHA256", "rsa."), 0);
	th_pair_close(&p);
	ok = ok && ASSERT_EQ(alt_pick(&p, "ECDSA+SHA256", "ec."), 0);
	th_pair_close(&p);
	return ok;
}

/* The first flight of a client session asking for @sni (NULL: none),
 * with signature algorithms @sigalgs (NULL: its own): its ClientHello,
 * into @buf (@cap bytes); its length. */
static size_t hello_of(const char *sni, const char *sigalgs, uint8_t *buf,
		       size_t cap)
{
	struct tls_origin o = { .skip_ca = true };
	struct tls_ctx *cctx = NULL;
	struct tls_sess *c = NULL;
	const void *p;
	size_t n = 0;

	if (ASSERT_EQ(tls_ctx_new_origin(&cctx, &o), 0) &&
	    (!sigalgs ||
	     ASSERT_EQ(wolfSSL_CTX_set1_sigalgs_list(cctx->wctx, sigalgs),
		       WOLFSSL_SUCCESS)) &&
	    ASSERT_EQ(tls_sess_new_origin(&c, cctx, sni, NULL, 0), 0) &&
	    ASSERT_EQ(tls_handshake(c), -EAGAIN)) {
		n = tls_out_pending(c, &p);
		if (n > cap)
			n = 0;
		memcpy(buf, p, n);
	}
	tls_sess_free(c);
	tls_ctx_put(cctx);
	return n;
}

/* The server name of a ClientHello read without a session
 * (tls_hello_sni()): the name a client asked for, none, a record not
 * whole yet (asked again with more), and bytes that are no ClientHello. */
static bool test_hello_sni(void)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: a.example.test\r\n"
				  "Accept: */*\r\n\r\n";
	uint8_t hello[TLS_HELLO_MAX];
	char name[256], small[8];
	size_t n = hello_of("pt.example.test", NULL, hello, sizeof(hello));
	bool ok = ASSERT_TRUE(n > 5) &&
		  ASSERT_EQ(tls_hello_sni(hello, n, name, sizeof(name)), 1) &&
		  ASSERT_STREQ(name, "pt.example.test") &&
		  ASSERT_EQ(tls_hello_sni(hello, n - 1, name, sizeof(name)),
			    -EAGAIN) &&
		  ASSERT_EQ(tls_hello_sni(hello, 3, name, sizeof(name)),
			    -EAGAIN) &&
		  /* A name longer than the room is not cut short. */
		  ASSERT_EQ(tls_hello_sni(hello, n, small, sizeof(small)),
			    -ENAMETOOLONG);

	n = hello_of(NULL, NULL, hello, sizeof(hello));
	ok = ok && ASSERT_TRUE(n > 5) &&
	     ASSERT_EQ(tls_hello_sni(hello, n, name, sizeof(name)), 0) &&
	     ASSERT_STREQ(name, "");
	/* As long as a ClientHello's start, so read as one. */
	ok = ok && ASSERT_EQ(tls_hello_sni(get, strlen(get), name,
					    sizeof(name)), -EPROTO);
	return ok;
}

/* The key types a ClientHello's signature_algorithms take: both from a
 * client of its own list, RSA or ECDSA alone as set; none from bytes that
 * are no ClientHello, or cut before the extensions. */
static bool test_hello_sigalgs(void)
{
	static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	uint8_t hello[TLS_HELLO_MAX];
	size_t n = hello_of("a.example.test", NULL, hello, sizeof(hello));
	bool ok = ASSERT_TRUE(n > 60) &&
		  ASSERT_EQ(tls_hello_sigalgs(hello, n),
			    TLS_SIG_ECDSA | TLS_SIG_RSA) &&
		  ASSERT_EQ(tls_hello_sigalgs(hello, 50), 0u) &&
		  ASSERT_EQ(tls_hello_sigalgs(get, sizeof(get) - 1), 0u);

	n = hello_of("a.example.test", "RSA-PSS+SHA256", hello, sizeof(hello));
	ok = ok && ASSERT_EQ(tls_hello_sigalgs(hello, n), TLS_SIG_RSA);
	n = hello_of("a.example.test", "ECDSA+SHA256", hello, sizeof(hello));
	return ok && ASSERT_EQ(tls_hello_sigalgs(hello, n), TLS_SIG_ECDSA);
}

/* Version bounds: a client held to TLS 1.2 does not meet the TLS 1.3
 * server; an inverted range makes no context. */
static bool test_versions(void)
{
	struct tls_origin o = { .ca_pem = ca_pem, .ca_len = ca_len,
				.min_version = 0x0303, .max_version = 0x0303 };
	struct tls_origin bad = { .min_version = 0x0304,
				  .max_version = 0x0303 };
	struct tls_ctx *ctx = NULL;
	struct th_pair p;
	int rc = origin(&p, &o, "api.example.test", NULL, 0);
	bool ok = ASSERT_TRUE(rc != 0 && rc != -EAGAIN);

	th_pair_close(&p);
	return ok && ASSERT_EQ(tls_ctx_new_origin(&ctx, &bad), -EINVAL);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (!ph_have_openssl()) {
		printf("SKIP: agent/test_tls_origin: no openssl CLI\n");
		return 0;
	}
	if (!ASSERT_TRUE(setup()) || ASSERT_EQ(tls_global_init(), 0) == false)
		return 1;
	TEST_RUN(test_secured);
	TEST_RUN(test_other_ca);
	TEST_RUN(test_names);
	TEST_RUN(test_sni_pick);
	TEST_RUN(test_sni_alt_cert);
	TEST_RUN(test_hello_sni);
	TEST_RUN(test_hello_sigalgs);
	TEST_RUN(test_versions);
	free(ca_pem);
	free(ca2_pem);
	ph_remove(th_dir);
	tls_global_fini();
	TEST_MAIN_END();
}
