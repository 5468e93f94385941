// SPDX-License-Identifier: Apache-2.0
/*
 * The mutual TLS handshake over memory: two sessions in one process, their
 * ciphertext shuttled by hand (tls_harness.h).  The profile and both
 * identities, every refusal, and contexts with their own SPIFFE ID.
 * Certificates are made at test time with the openssl CLI in a temporary
 * directory that is removed at the end.
 *
 * Reaches inside (tls-int.h) to build contexts the public API refuses to
 * build (no client certificate, TLS 1.2 only).
 */
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"

static bool have_openssl;

static const char *path(const char *name)
{
	static char bufs[8][256];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, 256, "%s/%s", th_dir, name);
	return b;
}

/* A leaf @name (subject /CN=@name) signed by CA @ca, with subjectAltName
 * @san (openssl syntax, e.g. "URI:spiffe://..."), or none when @san is
 * NULL. */
static int make_leaf(const char *name, const char *ca, const char *san)
{
	return ph_make_leaf(th_dir, ca, name, name, san);
}

static bool setup(void)
{
	have_openssl = ph_have_openssl();
	return ph_make_pki(th_dir, sizeof(th_dir), "tls") &&
	       ph_make_ca(th_dir, "ca2", "ca2") == 0 &&
	       make_leaf("rogue-client", "ca2", "URI:" PH_ID_CLIENT) == 0 &&
	       make_leaf("rogue-server", "ca2", "URI:" PH_ID_SERVER) == 0 &&
	       make_leaf("two-uris", "ca",
			 "URI:" PH_ID_CLIENT ",URI:" PH_ID_SERVER) == 0 &&
	       make_leaf("dns-only", "ca", "DNS:client.mesh.local") == 0 &&
	       make_leaf("no-san", "ca", NULL) == 0 &&
	       make_leaf("https-uri", "ca",
			 "DNS:a.example,URI:https://mesh.local/x") == 0;
}

/* ---- tests ------------------------------------------------------------- */

static bool handshake_profile_and_identities(struct th_pair *p)
{
	char id[MF_SPIFFE_MAX];
	int rc, rs;

	/* Before the handshake there is no peer. */
	if (!ASSERT_EQ(tls_peer_spiffe(p->s, id, sizeof(id)), -ENOTCONN))
		return false;
	th_handshake(p, &rc, &rs);
	if (!ASSERT_EQ(rc, 0) || !ASSERT_EQ(rs, 0))
		return false;
	if (!ASSERT_STREQ(tls_version_name(p->c), "TLSv1.3") ||
	    !ASSERT_STREQ(tls_version_name(p->s), "TLSv1.3") ||
	    !ASSERT_STREQ(tls_group_name(p->c), "X25519") ||
	    !ASSERT_STREQ(tls_group_name(p->s), "X25519") ||
	    !ASSERT_STREQ(tls_cipher_name(p->c), "TLS13-AES128-GCM-SHA256") ||
	    !ASSERT_STREQ(tls_cipher_name(p->s), "TLS13-AES128-GCM-SHA256"))
		return false;
	if (!ASSERT_EQ(tls_peer_spiffe(p->s, id, sizeof(id)), 0) ||
	    !ASSERT_STREQ(id, PH_ID_CLIENT) ||
	    !ASSERT_EQ(tls_peer_spiffe(p->c, id, sizeof(id)), 0) ||
	    !ASSERT_STREQ(id, PH_ID_SERVER))
		return false;
	return ASSERT_EQ(tls_peer_spiffe(p->c, id, strlen(PH_ID_SERVER)),
			 -ENAMETOOLONG) &&
	       /* No HelloRetryRequest: the client's first share was X25519. */
	       ASSERT_EQ(p->client_flights, 2);
}

TH_CASE(handshake_profile_and_identities, NULL, 0)

/* The server refuses the client: the server's handshake fails, and the
 * client, whose TLS 1.3 handshake ends before the server has checked its
 * certificate, gets the server's alert on its first read. */
static bool refused_by_server(struct th_pair *p)
{
	uint8_t buf[64];
	int rc, rs;
	ssize_t r;

	th_handshake(p, &rc, &rs);
	if (!ASSERT_EQ(rs, -EACCES))
		return false;
	fprintf(stderr, "  server: %s\n", tls_last_error(p->s));
	if (rc == 0) {
		th_pump(p->s, p->c, 0);
		r = tls_read(p->c, buf, sizeof(buf));
		if (!ASSERT_TRUE(r < 0 && r != -EAGAIN))
			return false;
		fprintf(stderr, "  client: %s\n", tls_last_error(p->c));
	} else if (!ASSERT_TRUE(rc < 0 && rc != -EAGAIN)) {
		return false;
	}
	/* Nothing the server might write reaches an unauthenticated peer. */
	return ASSERT_EQ(tls_write(p->s, "secret", 6), -ENOTCONN) &&
	       ASSERT_EQ(tls_read(p->s, buf, sizeof(buf)), -ENOTCONN);
}

/* Replaces @p's client by one on a context the API refuses to make (the
 * pair frees it): @method's, trusting CA "ca", with the client's
 * certificate when @cert. */
static bool swap_client(struct th_pair *p, WOLFSSL_METHOD *method, bool cert)
{
	struct tls_ctx *x = calloc(1, sizeof(*x));

	if (!ASSERT_TRUE(x))
		return false;
	x->role = TLS_ROLE_CLIENT;
	x->refs = 1;		/* the pair's; no trust: wolfSSL's check only */
	x->wctx = wolfSSL_CTX_new(method);
	if (!ASSERT_TRUE(x->wctx) ||
	    !ASSERT_EQ(wolfSSL_CTX_load_verify_locations(x->wctx,
			path("ca.crt"), NULL), WOLFSSL_SUCCESS) ||
	    (cert && (!ASSERT_EQ(wolfSSL_CTX_use_certificate_file(x->wctx,
				path("client.crt"), WOLFSSL_FILETYPE_PEM),
				 WOLFSSL_SUCCESS) ||
		      !ASSERT_EQ(wolfSSL_CTX_use_PrivateKey_file(x->wctx,
				path("client.key"), WOLFSSL_FILETYPE_PEM),
				 WOLFSSL_SUCCESS)))) {
		tls_ctx_put(x);
		return false;
	}
	wolfSSL_CTX_SetIORecv(x->wctx, tls_cb_recv);
	wolfSSL_CTX_SetIOSend(x->wctx, tls_cb_send);
	wolfSSL_CTX_SetHKDFExpandLabelCb(x->wctx, tls_cb_expand_label);
	tls_sess_free(p->c);
	tls_ctx_put(p->cctx);
	p->c = NULL;
	p->cctx = x;
	return ASSERT_EQ(tls_sess_new(&p->c, x), 0);
}

static bool test_client_from_other_ca_refused(void)
{
	/* The rogue client trusts our server, our server does not trust it. */
	return th_run("rogue-client", "server", NULL, 0, refused_by_server);
}

static bool client_without_cert_refused(struct th_pair *p)
{
	/* A client context that trusts the CA but has no cert. */
	return swap_client(p, wolfTLSv1_3_client_method(), false) &&
	       refused_by_server(p);
}

TH_CASE(client_without_cert_refused, NULL, 0)

static bool server_from_other_ca_refused(struct th_pair *p)
{
	char id[MF_SPIFFE_MAX];
	int rc, rs;

	th_handshake(p, &rc, &rs);
	fprintf(stderr, "  client: %s\n", tls_last_error(p->c));
	return ASSERT_EQ(rc, -EACCES) && ASSERT_TRUE(rs < 0 && rs != -EAGAIN) &&
	       ASSERT_EQ(tls_peer_spiffe(p->c, id, sizeof(id)), -ENOTCONN);
}

static bool test_server_from_other_ca_refused(void)
{
	/* The rogue server trusts our client; our client does not trust it. */
	return th_run("client", "rogue-server", NULL, 0,
		      server_from_other_ca_refused);
}

static bool tls12_client_refused(struct th_pair *p)
{
	int rc, rs;

	if (!swap_client(p, wolfTLSv1_2_client_method(), true))
		return false;
	th_handshake(p, &rc, &rs);
	fprintf(stderr, "  server: %s\n", tls_last_error(p->s));
	return ASSERT_TRUE(rs < 0 && rs != -EAGAIN) &&
	       ASSERT_TRUE(rc < 0 && rc != -EAGAIN);
}

TH_CASE(tls12_client_refused, NULL, 0)

static bool test_ctx_errors(void)
{
	struct tls_ctx *ctx = NULL;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(tls_ctx_new(&ctx, TLS_ROLE_SERVER, path("nope.crt"),
				   path("server.crt"), path("server.key")),
		       -ENOENT) ||
	    !ASSERT_EQ(tls_ctx_new(&ctx, TLS_ROLE_SERVER, path("ca.crt"),
				   path("nope.crt"), path("server.key")),
		       -ENOENT) ||
	    /* The key of another certificate. */
	    !ASSERT_EQ(tls_ctx_new(&ctx, TLS_ROLE_SERVER, path("ca.crt"),
				   path("server.crt"), path("client.key")),
		       -EINVAL) ||
	    !ASSERT_EQ(tls_ctx_new(&ctx, 0, path("ca.crt"),
				   path("server.crt"), path("server.key")),
		       -EINVAL))
		return false;
	return true;
}

static int own_id(const char *leaf, char *buf, size_t n)
{
	struct tls_ctx *ctx;
	int ret = th_ctx(&ctx, TLS_ROLE_CLIENT, leaf, NULL);

	if (ret < 0)
		return -1000 + ret;
	ret = tls_ctx_spiffe(ctx, buf, n);
	tls_ctx_put(ctx);
	return ret;
}

static bool test_spiffe_from_san(void)
{
	char id[MF_SPIFFE_MAX];

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	return ASSERT_EQ(own_id("client", id, sizeof(id)), 0) &&
	       ASSERT_STREQ(id, PH_ID_CLIENT) &&
	       ASSERT_EQ(own_id("client", id, strlen(PH_ID_CLIENT) + 1), 0) &&
	       ASSERT_EQ(own_id("client", id, strlen(PH_ID_CLIENT)),
			 -ENAMETOOLONG) &&
	       ASSERT_EQ(own_id("two-uris", id, sizeof(id)), -EINVAL) &&
	       ASSERT_EQ(own_id("dns-only", id, sizeof(id)), -ENOENT) &&
	       ASSERT_EQ(own_id("no-san", id, sizeof(id)), -ENOENT) &&
	       ASSERT_EQ(own_id("https-uri", id, sizeof(id)), -ENOENT);
}

static int own_rule(const char *leaf, enum tls_role role)
{
	struct tls_ctx *ctx;
	int ret = th_ctx(&ctx, role, leaf, NULL);

	if (ret < 0)
		return -1000 + ret;
	ret = tls_ctx_svid_rule(ctx);
	tls_ctx_put(ctx);
	return ret;
}

/* What peers would refuse our own certificate for (lib/svid.h). */
static bool test_own_svid_rule(void)
{
	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	return ASSERT_EQ(own_rule("client", TLS_ROLE_CLIENT), SVID_OK) &&
	       ASSERT_EQ(own_rule("server", TLS_ROLE_SERVER), SVID_OK) &&
	       ASSERT_EQ(own_rule("two-uris", TLS_ROLE_CLIENT),
			 SVID_LEAF_URIS) &&
	       ASSERT_EQ(own_rule("dns-only", TLS_ROLE_SERVER),
			 SVID_LEAF_NO_URI) &&
	       ASSERT_EQ(own_rule("no-san", TLS_ROLE_CLIENT),
			 SVID_LEAF_NO_URI) &&
	       ASSERT_EQ(own_rule("https-uri", TLS_ROLE_CLIENT),
			 SVID_LEAF_BAD_ID);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls/global_init\n");
		return 1;
	}
	th_have_certs = setup();
	if (have_openssl && !th_have_certs) {
		/* openssl is there, so not making certificates is a bug. */
		printf("FAIL: test_tls/setup\n");
		test_failed_count++;
	}
	TEST_RUN(test_handshake_profile_and_identities);
	TEST_RUN(test_client_from_other_ca_refused);
	TEST_RUN(test_client_without_cert_refused);
	TEST_RUN(test_server_from_other_ca_refused);
	TEST_RUN(test_tls12_client_refused);
	TEST_RUN(test_ctx_errors);
	TEST_RUN(test_spiffe_from_san);
	TEST_RUN(test_own_svid_rule);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
