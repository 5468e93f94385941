// SPDX-License-Identifier: Apache-2.0
/*
 * Trust anchors by trust domain (agent/tls_trust.c), through real mutual
 * TLS handshakes between contexts made at test time with the openssl CLI:
 * a CA vouches only for the trust domain it is trusted for, a second CA of
 * the mesh's domain is a rollover, and a bad PEM is refused.
 */
#include <unistd.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"

#define TD	"mesh.local"
#define ID_NODE	"spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b"
#define ID_WEB	"spiffe://mesh.local/ns/default/sa/web"
#define ID_OTHER "spiffe://other.td/ns/default/sa/web"

#define have_certs th_have_certs

static const char *path(const char *name)
{
	static char buf[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", th_dir, name);
	return buf[i];
}

/* ca (the mesh CA) and ca2 (another); the node's leaf from ca; a web
 * leaf of the mesh's domain from ca2; one of other.td from ca2. */
static bool setup(void)
{
	if (!ph_have_openssl())
		return false;
	snprintf(th_dir, sizeof(th_dir), "/tmp/mf-test-trust-XXXXXX");
	if (!mkdtemp(th_dir))
		return false;
	return ph_make_ca(th_dir, "ca", "mf-test-ca") == 0 &&
	       ph_make_ca(th_dir, "ca2", "mf-test-ca2") == 0 &&
	       ph_make_leaf(th_dir, "ca", "node", "node", "URI:" ID_NODE) == 0 &&
	       ph_make_leaf(th_dir, "ca2", "web2", "web2", "URI:" ID_WEB) == 0 &&
	       ph_make_leaf(th_dir, "ca2", "other2", "other2",
			    "URI:" ID_OTHER) == 0;
}

/* A trust of the mesh CA for TD and, when @ca2_td, ca2 for @ca2_td. */
static struct tls_trust *trust(const char *ca2_td)
{
	struct tls_trust *t = NULL;

	if (!ASSERT_EQ(tls_trust_new(&t), 0) ||
	    !ASSERT_EQ(tls_trust_add_file(t, TD, path("ca.crt")), 0) ||
	    (ca2_td && !ASSERT_EQ(tls_trust_add_file(t, ca2_td,
						     path("ca2.crt")), 0))) {
		tls_trust_put(t);
		return NULL;
	}
	return t;
}

/* A handshake of client @leaf against the node's server, both on @t.
 * Returns the server's result; the server's reason goes to @why. */
static int handshake(struct tls_trust *t, const char *leaf, char *why,
		     size_t n)
{
	char crt[96], key[96];
	struct th_pair p = { 0 };
	int rc, rs = -ENOMEM;

	snprintf(crt, sizeof(crt), "%s.crt", leaf);
	snprintf(key, sizeof(key), "%s.key", leaf);
	if (!tls_ctx_new_trust(&p.cctx, TLS_ROLE_CLIENT, t, path(crt),
			       path(key)) &&
	    !tls_ctx_new_trust(&p.sctx, TLS_ROLE_SERVER, t, path("node.crt"),
			       path("node.key")) &&
	    !tls_sess_new(&p.c, p.cctx) && !tls_sess_new(&p.s, p.sctx)) {
		th_handshake(&p, &rc, &rs);
		snprintf(why, n, "%s", tls_last_error(p.s));
	}
	th_pair_close(&p);
	return rs;
}

/* Only the mesh CA: a certificate from ca2 does not verify. */
static bool test_unknown_ca_refused(void)
{
	struct tls_trust *t;
	char why[256];
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	t = trust(NULL);
	ok = t && ASSERT_TRUE(handshake(t, "web2", why, sizeof(why)) < 0);
	tls_trust_put(t);
	return ok;
}

/* ca2 trusted for other.td: it vouches for other.td's identities, not
 * for the mesh's, although wolfSSL's chain check alone passes. */
static bool test_ca_vouches_for_its_domain_only(void)
{
	struct tls_trust *t;
	char why[256];
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	t = trust("other.td");
	ok = t && ASSERT_EQ(handshake(t, "other2", why, sizeof(why)), 0) &&
	     ASSERT_EQ(handshake(t, "web2", why, sizeof(why)), -EACCES) &&
	     ASSERT_STREQ(why, "handshake: the peer's certificate (" ID_WEB
			       ") is not from a CA of trust domain "
			       "mesh.local");
	tls_trust_put(t);
	return ok;
}

/* ca2 trusted for the mesh's own domain too (a rollover): both CAs'
 * certificates are accepted; other.td has no CA. */
static bool test_rollover(void)
{
	struct tls_trust *t;
	char why[256];
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	t = trust(TD);
	ok = t && ASSERT_EQ(handshake(t, "web2", why, sizeof(why)), 0) &&
	     ASSERT_EQ(handshake(t, "other2", why, sizeof(why)), -EACCES) &&
	     ASSERT_STREQ(why, "handshake: no CA is trusted for trust domain "
			       "other.td (the peer's " ID_OTHER ")");
	tls_trust_put(t);
	return ok;
}

/* What is not a PEM CA certificate is refused, and the trust is
 * unchanged. */
static bool test_bad_pem_refused(void)
{
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n"
				   "-----END CERTIFICATE-----\n";
	struct tls_trust *t;
	char why[256];
	bool ok;

	if (!have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	t = trust(NULL);
	ok = t && ASSERT_EQ(tls_trust_add_pem(t, TD, junk, sizeof(junk) - 1),
			    -EINVAL) &&
	     ASSERT_EQ(tls_trust_add_pem(t, TD, "hello", 5), -EINVAL) &&
	     ASSERT_EQ(tls_trust_add_file(t, TD, path("nope.crt")), -ENOENT) &&
	     ASSERT_TRUE(handshake(t, "web2", why, sizeof(why)) < 0);
	tls_trust_put(t);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls_trust/global_init\n");
		return 1;
	}
	th_have_certs = setup();
	if (ph_have_openssl() && !have_certs) {
		printf("FAIL: test_tls_trust/setup\n");
		test_failed_count++;
	}
	TEST_RUN(test_unknown_ca_refused);
	TEST_RUN(test_ca_vouches_for_its_domain_only);
	TEST_RUN(test_rollover);
	TEST_RUN(test_bad_pem_refused);
	if (th_dir[0])
		ph_sh("rm -rf %s", th_dir);
	tls_global_fini();
	TEST_MAIN_END();
}
