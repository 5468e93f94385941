// SPDX-License-Identifier: Apache-2.0
/*
 * The mesh's TLS profile (MeshTLS tlsVersion and tlsCiphers, mf_config.tls)
 * on the agents' mesh contexts, both ends over memory with wolfSSL:
 *  - from the identity store under a policy whose profile is TLS 1.2 with
 *    one suite, a pair agrees TLS 1.2 and that suite, checks identities,
 *    and carries data both ways on wolfSSL's record layer; a policy
 *    without one gives new contexts (TLS 1.3, handed over to our record
 *    layer) while the TLS 1.2 session goes on, and an old TLS 1.2-only
 *    client meets the new TLS 1.3-only server with a failed handshake;
 *  - the server's suite order wins over the client's; no common suite
 *    fails; a range that reaches TLS 1.3 agrees it; a peer of another CA
 *    is refused at TLS 1.2 as at 1.3.
 * Certificates are made with the openssl CLI in a temporary directory
 * removed at the end.
 */
#include "harness/test.h"
#include "harness/pki_harness.h"
#include "harness/policy_harness.h"
#include "../../agent/certs.h"
#include "../../agent/policy.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"
#include "fsio.h"
#include "policy/compile.h"

#define ID_WEB	"spiffe://mesh.local/ns/default/sa/web"
#define ID_NODE	"spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b"
#define STEM_WEB	"certs/mesh.local+ns+default+sa+web"
#define STEM_NODE	"certs/mesh.local+ns+meshforge-system+sa+mf-node-b"

#define AES128	"ECDHE-ECDSA-AES128-GCM-SHA256"
#define AES256	"ECDHE-ECDSA-AES256-GCM-SHA384"
#define CHACHA	"ECDHE-ECDSA-CHACHA20-POLY1305"

static bool setup(void)
{
	if (!ph_have_openssl() || !ph_make_dir(th_dir, sizeof(th_dir), "prof"))
		return false;
	return ph_sh("cd %s && mkdir certs", th_dir) == 0 &&
	       ph_make_ca(th_dir, "ca", "mf-test-ca") == 0 &&
	       ph_make_leaf(th_dir, "ca", STEM_WEB, "web", "URI:" ID_WEB) == 0 &&
	       ph_make_leaf(th_dir, "ca", STEM_NODE, "node",
			    "URI:" ID_NODE) == 0 &&
	       ph_make_ca(th_dir, "ca2", "mf-test-ca2") == 0 &&
	       ph_make_leaf(th_dir, "ca2", "rogue", "rogue", "URI:" ID_WEB) == 0;
}

/* A policy snapshot of epoch @epoch: a Mesh and @tls (MeshTLS documents,
 * "" none). */
static struct policy *snapshot(const char *tls, uint64_t epoch)
{
	char yaml[2048];
	struct rec_set rs;
	bool ok;

	snprintf(yaml, sizeof(yaml), "%s%s", PH_BASE, tls);
	ok = rh_compile(yaml, NULL, &rs);
	rs.config.epoch = epoch;
	return rh_snapshot(&rs, ok);
}

static const char tls12_aes256[] =
	PH_KUMA_DOC("MeshTLS", "tls12")
	"  targetRef: {kind: Mesh}\n"
	"  rules:\n"
	"    - default:\n"
	"        tlsVersion: {min: TLS12, max: TLS12}\n"
	"        tlsCiphers: [" AES256 "]\n";

/* Sends @n patterned bytes from @a to @b and checks them there. */
static bool carry(struct tls_sess *a, struct tls_sess *b, size_t n,
		  unsigned seed)
{
	static uint8_t out[200000], in[sizeof(out)];
	size_t sent = 0, got = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = th_pattern(i, seed);
	for (int rounds = 0; got < n && rounds < 1000; rounds++) {
		if (sent < n) {
			ssize_t w = tls_write(a, out + sent, n - sent);

			if (w > 0)
				sent += (size_t)w;
			else if (!ASSERT_EQ(w, -EAGAIN))
				return false;
		}
		th_pump(a, b, 0);
		for (;;) {
			ssize_t r = tls_read(b, in + got, n - got);

			if (r == -EAGAIN)
				break;
			if (!ASSERT_TRUE(r > 0))
				return false;
			got += (size_t)r;
		}
		th_pump(b, a, 0);
	}
	return ASSERT_EQ(got, n) && ASSERT_EQ(memcmp(in, out, n), 0);
}

/* @p's handshake completes at @version with @cipher on both ends. */
static bool agreed(struct th_pair *p, const char *version, const char *cipher)
{
	int rc, rs;

	th_handshake(p, &rc, &rs);
	if (!ASSERT_EQ(rc, 0) || !ASSERT_EQ(rs, 0))
		return false;
	return ASSERT_STREQ(tls_version_name(p->c), version) &&
	       ASSERT_STREQ(tls_version_name(p->s), version) &&
	       ASSERT_STREQ(tls_cipher_name(p->c), cipher) &&
	       ASSERT_STREQ(tls_cipher_name(p->s), cipher);
}

static bool test_store_profile_and_swap(void)
{
	struct policy *p12 = NULL, *p13 = NULL;
	struct certs *c = NULL;
	struct th_pair a, b, old_c;
	char id[MF_SPIFFE_MAX];
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&old_c, 0, sizeof(old_c));
	p12 = snapshot(tls12_aes256, 1);
	p13 = snapshot("", 2);
	ok = ASSERT_TRUE(p12) && ASSERT_TRUE(p13) &&
	     ASSERT_EQ(certs_open(&c, th_dir), 0) &&
	     ASSERT_EQ(certs_client_ctx(c, ID_WEB, p12, &a.cctx), 0) &&
	     ASSERT_EQ(certs_server_ctx(c, ID_NODE, p12, &a.sctx), 0) &&
	     ASSERT_EQ(tls_sess_new(&a.c, a.cctx), 0) &&
	     ASSERT_EQ(tls_sess_new(&a.s, a.sctx), 0) &&
	     agreed(&a, "TLSv1.2", AES256) &&
	     ASSERT_EQ(tls_suite_of(a.c), TLS_SUITE_12_ECDSA_AES256_GCM) &&
	     ASSERT_EQ(tls_suite_of(a.s), TLS_SUITE_12_ECDSA_AES256_GCM) &&
	     ASSERT_STREQ(tls_suite_cipher(tls_suite_of(a.s)), AES256) &&
	     ASSERT_STREQ(tls_suite_version(tls_suite_of(a.s)), "TLSv1.2") &&
	     /* wolfSSL's record layer stays: ours is TLS 1.3's */
	     ASSERT_TRUE(a.c->ssl != NULL) && ASSERT_TRUE(a.s->ssl != NULL) &&
	     ASSERT_EQ(tls_peer_spiffe(a.s, id, sizeof(id)), 0) &&
	     ASSERT_STREQ(id, ID_WEB) &&
	     ASSERT_EQ(tls_peer_spiffe(a.c, id, sizeof(id)), 0) &&
	     ASSERT_STREQ(id, ID_NODE) &&
	     carry(a.c, a.s, 150000, 1) && carry(a.s, a.c, 70000, 2);

	/* The policy drops the profile: new contexts, TLS 1.3 again. */
	ok = ok && ASSERT_EQ(certs_client_ctx(c, ID_WEB, p13, &b.cctx), 0) &&
	     ASSERT_EQ(certs_server_ctx(c, ID_NODE, p13, &b.sctx), 0) &&
	     ASSERT_TRUE(b.cctx != a.cctx) && ASSERT_TRUE(b.sctx != a.sctx) &&
	     ASSERT_EQ(tls_sess_new(&b.c, b.cctx), 0) &&
	     ASSERT_EQ(tls_sess_new(&b.s, b.sctx), 0) &&
	     agreed(&b, "TLSv1.3", "TLS13-AES128-GCM-SHA256") &&
	     ASSERT_EQ(tls_suite_of(b.s), TLS_SUITE_13_AES128_GCM) &&
	     ASSERT_TRUE(b.c->ssl == NULL) && ASSERT_TRUE(b.s->ssl == NULL);
	/* The TLS 1.2 session goes on, its close_notify reaches the peer. */
	ok = ok && carry(a.c, a.s, 30000, 3) &&
	     ASSERT_EQ(tls_close_notify(a.c), 0) && th_pump(a.c, a.s, 0) > 0 &&
	     ASSERT_EQ(tls_read(a.s, id, sizeof(id)), 0);
	/* An old TLS 1.2-only client and the new TLS 1.3-only server. */
	if (ok) {
		int rc, rs;

		old_c.cctx = tls_ctx_get(a.cctx);
		old_c.sctx = tls_ctx_get(b.sctx);
		ok = ASSERT_EQ(tls_sess_new(&old_c.c, old_c.cctx), 0) &&
		     ASSERT_EQ(tls_sess_new(&old_c.s, old_c.sctx), 0);
		if (ok) {
			th_handshake(&old_c, &rc, &rs);
			fprintf(stderr, "  server: %s\n",
				tls_last_error(old_c.s));
			ok = ASSERT_TRUE(rc < 0 && rc != -EAGAIN) &&
			     ASSERT_TRUE(rs < 0 && rs != -EAGAIN);
		}
	}
	th_pair_close(&old_c);
	th_pair_close(&a);
	th_pair_close(&b);
	certs_close(c);
	policy_put(p12);
	policy_put(p13);
	return ok;
}

/* A context of @role for leaf @stem (in th_dir), trusting "ca", speaking
 * @min..@max with TLS 1.2 suites @ciphers12. */
static int prof_ctx(struct tls_ctx **out, enum tls_role role,
		    const char *stem, int min, int max, const char *ciphers12)
{
	struct tls_profile prof = { .min_version = min, .max_version = max };
	char path[256], *crt = NULL, *key = NULL;
	size_t crt_len = 0, key_len = 0;
	struct tls_trust *t = NULL;
	int ret;

	snprintf(prof.ciphers12, sizeof(prof.ciphers12), "%s", ciphers12);
	snprintf(path, sizeof(path), "%s/ca.crt", th_dir);
	ret = tls_trust_new(&t);
	if (!ret)
		ret = tls_trust_add_file(t, "", path);
	snprintf(path, sizeof(path), "%s/%s.crt", th_dir, stem);
	if (!ret)
		ret = fsio_read_all(path, &crt, &crt_len);
	snprintf(path, sizeof(path), "%s/%s.key", th_dir, stem);
	if (!ret)
		ret = fsio_read_all(path, &key, &key_len);
	if (!ret)
		ret = tls_ctx_new_mesh(out, role, t, crt, crt_len, key, key_len,
				       &prof);
	free(crt);
	free(key);
	tls_trust_put(t);
	return ret;
}

/* A pair of client @cstem at @cmin..@cmax with @cciph and server
 * STEM_NODE at @smin..@smax with @sciph. */
static bool prof_pair(struct th_pair *p, const char *cstem, int cmin, int cmax,
		      const char *cciph, int smin, int smax, const char *sciph)
{
	memset(p, 0, sizeof(*p));
	return ASSERT_EQ(prof_ctx(&p->cctx, TLS_ROLE_CLIENT, cstem, cmin, cmax,
				  cciph), 0) &&
	       ASSERT_EQ(prof_ctx(&p->sctx, TLS_ROLE_SERVER, STEM_NODE, smin,
				  smax, sciph), 0) &&
	       ASSERT_EQ(tls_sess_new(&p->c, p->cctx), 0) &&
	       ASSERT_EQ(tls_sess_new(&p->s, p->sctx), 0);
}

/* The suites as the MeshTLS wrote them are the server's order of
 * preference, whatever the client's. */
static bool test_server_order_wins(void)
{
	struct th_pair p;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	ok = prof_pair(&p, STEM_WEB, 0x0303, 0x0303, AES128 ":" CHACHA,
		       0x0303, 0x0303, CHACHA ":" AES128) &&
	     agreed(&p, "TLSv1.2", CHACHA) &&
	     ASSERT_EQ(tls_suite_of(p.s), TLS_SUITE_12_ECDSA_CHACHA20) &&
	     carry(p.c, p.s, 5000, 4);
	th_pair_close(&p);
	ok = ok && prof_pair(&p, STEM_WEB, 0x0303, 0x0303, CHACHA ":" AES128,
			     0x0303, 0x0303, AES128 ":" CHACHA) &&
	     agreed(&p, "TLSv1.2", AES128);
	th_pair_close(&p);
	return ok;
}

/* Failures: no common suite; a peer of another CA, at TLS 1.2. */
static bool test_refusals(void)
{
	struct th_pair p;
	int rc, rs;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	ok = prof_pair(&p, STEM_WEB, 0x0303, 0x0303, AES128, 0x0303, 0x0303,
		       AES256);
	if (ok) {
		th_handshake(&p, &rc, &rs);
		fprintf(stderr, "  server: %s\n", tls_last_error(p.s));
		ok = ASSERT_TRUE(rc < 0 && rc != -EAGAIN) &&
		     ASSERT_TRUE(rs < 0 && rs != -EAGAIN);
	}
	th_pair_close(&p);
	/* The rogue's CA is not the server's: prof_ctx() trusts "ca" only,
	 * the client verifies the server and the server refuses it. */
	ok = ok && prof_pair(&p, "rogue", 0x0303, 0x0303, AES256, 0x0303,
			     0x0303, AES256);
	if (ok) {
		th_handshake(&p, &rc, &rs);
		fprintf(stderr, "  server: %s\n", tls_last_error(p.s));
		ok = ASSERT_EQ(rs, -EACCES) &&
		     ASSERT_TRUE(rc < 0 && rc != -EAGAIN);
	}
	th_pair_close(&p);
	return ok;
}

/* A range that reaches TLS 1.3 agrees it with a TLS 1.3-only end, and
 * with an end of the same range: the record layer is handed over. */
static bool test_range_agrees_tls13(void)
{
	struct th_pair p;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	ok = prof_pair(&p, STEM_WEB, 0x0303, 0x0304, "", 0x0304, 0x0304, "") &&
	     agreed(&p, "TLSv1.3", "TLS13-AES128-GCM-SHA256") &&
	     ASSERT_TRUE(p.c->ssl == NULL) && ASSERT_TRUE(p.s->ssl == NULL) &&
	     carry(p.c, p.s, 20000, 5);
	th_pair_close(&p);
	ok = ok && prof_pair(&p, STEM_WEB, 0x0303, 0x0304, "", 0x0303, 0x0304,
			     "") &&
	     agreed(&p, "TLSv1.3", "TLS13-AES128-GCM-SHA256") &&
	     carry(p.s, p.c, 20000, 6);
	th_pair_close(&p);
	/* A TLS 1.2-only end and the range: TLS 1.2, the default suites'
	 * first. */
	ok = ok && prof_pair(&p, STEM_WEB, 0x0303, 0x0303, "", 0x0303, 0x0304,
			     "") &&
	     agreed(&p, "TLSv1.2", AES128);
	th_pair_close(&p);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_tls_profile/global_init\n");
		return 1;
	}
	th_have_certs = setup();
	if (ph_have_openssl() && !th_have_certs) {
		printf("FAIL: test_tls_profile/setup\n");
		test_failed_count++;
	}
	TEST_RUN(test_store_profile_and_swap);
	TEST_RUN(test_server_order_wins);
	TEST_RUN(test_refusals);
	TEST_RUN(test_range_agrees_tls13);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
