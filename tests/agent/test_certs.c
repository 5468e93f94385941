// SPDX-License-Identifier: Apache-2.0
/*
 * The identity store over a config dir made at test time with the openssl
 * CLI (removed at the end): lookups, caching, refusals (a certificate
 * beside another's key among them), thread safety, a pair replaced as
 * `mfctl cert issue` replaces it, and that its contexts complete a mutual
 * handshake.  Reloading: the watch sees a pair replaced, a reload gives new
 * handshakes the new pair while a context in use lives on; a failed load
 * is remembered (not read again per lookup) until a reload; a CA that
 * does not load leaves the store as it was.
 */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/certs.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"
#include "certdir.h"
#include "fsio.h"

#define ID_WEB	"spiffe://mesh.local/ns/default/sa/web"
#define ID_NODE	"spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b"
#define ID_GONE	"spiffe://mesh.local/ns/default/sa/nobody"
#define ID_LIAR	"spiffe://mesh.local/ns/default/sa/liar"
#define ID_MIX	"spiffe://mesh.local/ns/default/sa/mix"
#define STEM_WEB "mesh.local+ns+default+sa+web"

static bool have_openssl;

/* certs/<stem>.crt|.key (subject /CN=leaf) for a leaf signed by ca, whose
 * URI SAN is @san. */
static int make_leaf(const char *stem, const char *san)
{
	char out[192], uri[192];
	int n, m;

	n = snprintf(out, sizeof(out), "certs/%s", stem);
	m = snprintf(uri, sizeof(uri), "URI:%s", san);
	if (n < 0 || (size_t)n >= sizeof(out) || m < 0 ||
	    (size_t)m >= sizeof(uri))
		return -1;
	return ph_make_leaf(th_dir, "ca", out, "leaf", uri);
}

static bool setup(void)
{
	have_openssl = ph_have_openssl();
	if (!have_openssl)
		return false;
	if (!ph_make_dir(th_dir, sizeof(th_dir), "certs"))
		return false;
	return ph_sh("cd %s && mkdir certs", th_dir) == 0 &&
	       ph_make_ca(th_dir, "ca", "mf-test-ca") == 0 &&
	       make_leaf("mesh.local+ns+default+sa+web", ID_WEB) == 0 &&
	       make_leaf("mesh.local+ns+meshforge-system+sa+mf-node-b",
			 ID_NODE) == 0 &&
	       /* Filed as "liar" but carrying the web identity. */
	       make_leaf("mesh.local+ns+default+sa+liar", ID_WEB) == 0;
}

static bool test_open_needs_ca(void)
{
	struct certs *c = NULL;
	char empty[] = "/tmp/mf-test-certs-empty-XXXXXX";
	int ret;

	if (!mkdtemp(empty))
		return ASSERT_TRUE(false);
	ret = certs_open(&c, empty);
	rmdir(empty);
	return ASSERT_EQ(ret, -ENOENT) &&
	       ASSERT_EQ(certs_open(&c, "/nonexistent/mf"), -ENOENT);
}

static bool test_lookup_and_cache(void)
{
	struct tls_ctx *a = NULL, *b = NULL, *b2 = NULL, *s = NULL;
	struct certs *c = NULL;
	char id[MF_SPIFFE_MAX];
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0))
		return false;
	if (!ASSERT_EQ(certs_client_ctx(c, ID_WEB, NULL, &a), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_WEB, NULL, &b), 0) ||
	    !ASSERT_TRUE(a == b) ||
	    !ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &s), 0) ||
	    !ASSERT_TRUE(s != a))
		goto out;
	if (!ASSERT_EQ(tls_ctx_spiffe(a, id, sizeof(id)), 0) ||
	    !ASSERT_STREQ(id, ID_WEB))
		goto out;
	/* Cached: the files may go, the context stays. */
	if (!ASSERT_EQ(ph_sh("mv %s/certs/mesh.local+ns+default+sa+web.crt %s/web.bak",
			     th_dir, th_dir), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_WEB, NULL, &b2), 0) ||
	    !ASSERT_TRUE(a == b2) ||
	    !ASSERT_EQ(ph_sh("mv %s/web.bak %s/certs/mesh.local+ns+default+sa+web.crt",
			     th_dir, th_dir), 0))
		goto out;
	ok = true;
out:
	/* Each lookup gave a reference; the store keeps its own. */
	tls_ctx_put(a);
	tls_ctx_put(b);
	tls_ctx_put(b2);
	tls_ctx_put(s);
	certs_close(c);
	return ok;
}

static bool test_refusals(void)
{
	struct tls_ctx *x = NULL;
	struct certs *c = NULL;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0))
		return false;
	ok = ASSERT_EQ(certs_client_ctx(c, ID_GONE, NULL, &x), -ENOENT) &&
	     ASSERT_EQ(certs_server_ctx(c, ID_GONE, NULL, &x), -ENOENT) &&
	     ASSERT_EQ(certs_client_ctx(c, "not-a-spiffe-id", NULL, &x), -EINVAL) &&
	     ASSERT_EQ(certs_client_ctx(c, "spiffe://mesh.local/../etc", NULL, &x),
		       -EINVAL) &&
	     /* The certificate filed under "liar" names someone else. */
	     ASSERT_EQ(certs_client_ctx(c, ID_LIAR, NULL, &x), -EINVAL) &&
	     ASSERT_TRUE(x == NULL);
	certs_close(c);
	return ok;
}

struct race {
	struct certs *c;
	struct tls_ctx *got[50];
	int err;
};

static void *race_fn(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < 50; i++) {
		int ret = certs_server_ctx(r->c, i % 2 ? ID_WEB : ID_NODE,
					   NULL, &r->got[i]);

		if (ret)
			r->err = ret;
	}
	return NULL;
}

/* Threads asking at once each load once and all get the same contexts. */
static bool test_threads_share(void)
{
	struct race r[4];
	pthread_t t[4];
	struct certs *c = NULL;
	bool ok = true;
	int i, j;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0))
		return false;
	memset(r, 0, sizeof(r));
	for (i = 0; i < 4; i++) {
		r[i].c = c;
		pthread_create(&t[i], NULL, race_fn, &r[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 4 && ok; i++) {
		ok = ASSERT_EQ(r[i].err, 0);
		for (j = 0; j < 50 && ok; j++)
			ok = ASSERT_TRUE(r[i].got[j] == r[0].got[j % 2]);
	}
	ok = ok && ASSERT_TRUE(r[0].got[0] != r[0].got[1]);
	for (i = 0; i < 4; i++)
		for (j = 0; j < 50; j++)
			tls_ctx_put(r[i].got[j]);
	certs_close(c);
	return ok;
}

/* A workload client context and a node server context from the store talk
 * to each other, and each learns the other's identity. */
static bool test_contexts_handshake(void)
{
	struct certs *c = NULL;
	char id[MF_SPIFFE_MAX];
	struct th_pair p;
	int rc, rs;
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0))
		return false;
	if (!th_pair_certs(&p, c, ID_WEB, ID_NODE))
		goto out;
	th_handshake(&p, &rc, &rs);
	if (!ASSERT_EQ(rc, 0) || !ASSERT_EQ(rs, 0))
		goto out;
	ok = ASSERT_EQ(tls_peer_spiffe(p.s, id, sizeof(id)), 0) &&
	     ASSERT_STREQ(id, ID_WEB) &&
	     ASSERT_EQ(tls_peer_spiffe(p.c, id, sizeof(id)), 0) &&
	     ASSERT_STREQ(id, ID_NODE);
out:
	th_pair_close(&p);
	certs_close(c);
	return ok;
}

/* A certificate beside a key that is not its own, as writing the two one
 * after the other could leave them, is refused, never served. */
static bool test_mismatched_pair_refused(void)
{
	struct tls_ctx *x = NULL;
	struct certs *c = NULL;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(make_leaf("mesh.local+ns+default+sa+mix", ID_MIX), 0) ||
	    !ASSERT_EQ(ph_sh("cp %s/certs/" STEM_WEB ".key "
			     "%s/certs/mesh.local+ns+default+sa+mix.key",
			     th_dir, th_dir), 0) ||
	    !ASSERT_EQ(certs_open(&c, th_dir), 0))
		return false;
	ok = ASSERT_EQ(certs_client_ctx(c, ID_MIX, NULL, &x), -EINVAL) &&
	     ASSERT_TRUE(x == NULL);
	certs_close(c);
	return ok;
}

/* A pair replaced through certdir_put(), as `mfctl cert issue` replaces
 * it, is what a new store loads, and the pair beside it still loads. */
static bool test_loads_replaced_pair(void)
{
	struct tls_ctx *a = NULL, *b = NULL;
	char path[128], *crt = NULL, *key = NULL, *now = NULL, *ign = NULL;
	size_t crt_len, key_len, now_len, ign_len;
	struct certs *c = NULL;
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	snprintf(path, sizeof(path), "%s/web2.crt", th_dir);
	if (!ASSERT_EQ(ph_make_leaf(th_dir, "ca", "web2", "web2",
				    "URI:" ID_WEB), 0) ||
	    !ASSERT_EQ(fsio_read_all(path, &crt, &crt_len), 0))
		goto out;
	snprintf(path, sizeof(path), "%s/web2.key", th_dir);
	if (!ASSERT_EQ(fsio_read_all(path, &key, &key_len), 0) ||
	    !ASSERT_EQ(certdir_put(th_dir, STEM_WEB, crt, crt_len, key, key_len),
		       0) ||
	    !ASSERT_EQ(certdir_read(th_dir, STEM_WEB, &now, &now_len, &ign,
				    &ign_len), 0) ||
	    !ASSERT_EQ(now_len, crt_len) || !ASSERT_MEMEQ(now, crt, crt_len) ||
	    !ASSERT_EQ(certs_open(&c, th_dir), 0))
		goto out;
	ok = ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &a), 0) &&
	     ASSERT_EQ(certs_server_ctx(c, ID_NODE, NULL, &b), 0);
out:
	tls_ctx_put(a);
	tls_ctx_put(b);
	certs_close(c);
	free(crt);
	free(key);
	free(now);
	free(ign);
	return ok;
}

static bool test_reload(void)
{
	struct tls_ctx *a = NULL, *b = NULL, *b2 = NULL, *g = NULL;
	char path[128], *crt = NULL, *key = NULL;
	size_t crt_len, key_len;
	struct certs *c = NULL;
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0) ||
	    !ASSERT_EQ(certs_watch(c), 0) ||
	    !ASSERT_FALSE(certs_changed(c)) ||
	    !ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &a), 0))
		goto out;
	/* Re-issued, as mfctl does it. */
	snprintf(path, sizeof(path), "%s/web3.crt", th_dir);
	if (!ASSERT_EQ(ph_make_leaf(th_dir, "ca", "web3", "web3",
				    "URI:" ID_WEB), 0) ||
	    !ASSERT_EQ(fsio_read_all(path, &crt, &crt_len), 0))
		goto out;
	snprintf(path, sizeof(path), "%s/web3.key", th_dir);
	if (!ASSERT_EQ(fsio_read_all(path, &key, &key_len), 0) ||
	    !ASSERT_EQ(certdir_put(th_dir, STEM_WEB, crt, crt_len, key, key_len),
		       0) ||
	    !ASSERT_TRUE(certs_changed(c)) || !ASSERT_FALSE(certs_changed(c)))
		goto out;
	/* Until the reload the old one; then a new one, the old still
	 * usable by whoever holds it. */
	if (!ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &b), 0) ||
	    !ASSERT_TRUE(b == a) || !ASSERT_EQ(certs_reload(c, NULL), 0))
		goto out;
	tls_ctx_put(b);
	b = NULL;
	if (!ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &b), 0) ||
	    !ASSERT_TRUE(b != a))
		goto out;
	/* A missing pair fails, and stays failed without a reload even once
	 * its files are there... */
	if (!ASSERT_EQ(certs_client_ctx(c, ID_GONE, NULL, &g), -ENOENT) ||
	    !ASSERT_EQ(make_leaf("mesh.local+ns+default+sa+nobody", ID_GONE),
		       0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_GONE, NULL, &g), -ENOENT) ||
	    /* ... which tries it again. */
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_GONE, NULL, &g), 0))
		goto out;
	/* A CA that does not load: the store stays as it was (the last
	 * reload renewed every pair: the web one in use now first). */
	tls_ctx_put(b);
	b = NULL;
	if (!ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &b), 0) ||
	    !ASSERT_EQ(ph_sh("cp %s/ca.crt %s/ca.bak && echo junk >%s/ca.crt",
			     th_dir, th_dir, th_dir), 0))
		goto out;
	ok = ASSERT_TRUE(certs_reload(c, NULL) < 0) &&
	     ASSERT_EQ(certs_server_ctx(c, ID_WEB, NULL, &b2), 0) &&
	     ASSERT_TRUE(b2 == b);
	ok = ASSERT_EQ(ph_sh("mv %s/ca.bak %s/ca.crt", th_dir, th_dir), 0) && ok;
out:
	tls_ctx_put(a);
	tls_ctx_put(b);
	tls_ctx_put(b2);
	tls_ctx_put(g);
	certs_close(c);
	free(crt);
	free(key);
	return ok;
}

struct validity {
	int64_t nb, na;
	unsigned int n;
};

static void one_validity(void *arg, const char *spiffe, enum tls_role role,
			 int64_t not_before, int64_t not_after)
{
	struct validity *v = arg;

	(void)spiffe;
	(void)role;
	v->nb = not_before;
	v->na = not_after;
	v->n++;
}

/* The validity of a certificate in use is read, and its nearing end is
 * said once (a fifth of its life left), its end once. */
static bool test_expiry(void)
{
	struct tls_ctx *a = NULL;
	struct certs *c = NULL;
	struct validity v = { 0 };
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0))
		return false;
	ok = ASSERT_EQ(certs_server_ctx(c, ID_NODE, NULL, &a), 0);
	certs_each(c, one_validity, &v);
	ok = ok && ASSERT_EQ(v.n, 1) && ASSERT_TRUE(v.nb < v.na) &&
	     ASSERT_TRUE(v.nb <= (int64_t)time(NULL)) &&
	     /* Young: nothing to say. */
	     ASSERT_EQ(certs_check_expiry(c, v.nb + 1), 0) &&
	     ASSERT_EQ(certs_check_expiry(c, v.na - (v.na - v.nb) / 10), 1) &&
	     ASSERT_EQ(certs_check_expiry(c, v.na - (v.na - v.nb) / 10), 0) &&
	     ASSERT_EQ(certs_check_expiry(c, v.na), 1) &&
	     ASSERT_EQ(certs_check_expiry(c, v.na + 60), 0);
	tls_ctx_put(a);
	certs_close(c);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_certs/global_init\n");
		return 1;
	}
	th_have_certs = setup();
	if (have_openssl && !th_have_certs) {
		printf("FAIL: test_certs/setup\n");
		test_failed_count++;
	}
	TEST_RUN(test_open_needs_ca);
	TEST_RUN(test_lookup_and_cache);
	TEST_RUN(test_refusals);
	TEST_RUN(test_threads_share);
	TEST_RUN(test_contexts_handshake);
	TEST_RUN(test_mismatched_pair_refused);
	TEST_RUN(test_loads_replaced_pair);
	TEST_RUN(test_reload);
	TEST_RUN(test_expiry);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
