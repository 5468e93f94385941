// SPDX-License-Identifier: Apache-2.0
/*
 * Revocation: the CA's list as mfctl's PKI code makes it (ctl/pki.c) and
 * the agent reads it (agent/crl.c), and the identity store's handshakes
 * over a config dir made at test time (removed at the end):
 *  - a CRL round-trips through lib/der.c, serials in hex as mfctl takes
 *    them;
 *  - clients of two identities are accepted by a node; once the list
 *    revokes one of them and the store reloads (no new store), that one
 *    is refused with its serial, identity and reason, the other is still
 *    accepted, and a node whose own certificate is revoked is refused by
 *    its client (both ends of a tunnel);
 *  - a list no trusted CA signed (another key under the same name) is not
 *    taken: the one before stays in force, and it is counted;
 *  - a list past its nextUpdate is taken: what it lists stays refused,
 *    the rest is accepted;
 *  - a list of another issuer refuses nothing of this CA's;
 *  - without ca.crl again, nothing is refused as revoked;
 *  - at TLS 1.2 (a MeshTLS lets only it in) a revoked client is refused
 *    in the handshake with a certificate_revoked alert, another served;
 *    with the list past its nextUpdate, still refused after the
 *    handshake;
 *  - a certificate the store holds is judged as a handshake judges a
 *    peer's (tls_ctx_check_held()), under the trust in force;
 *  - a list with any one bit flipped, or cut short anywhere, is not
 *    taken;
 *  - the list served at /ca.crl (certs_crl()) is the one in force, byte
 *    for byte as read, before any handshake too.
 */
#include <time.h>
#include <unistd.h>

#include "harness/test.h"
#include "harness/pki_harness.h"
#include "../../agent/certs.h"
#include "../../agent/crl.h"
#include "../../agent/tls-int.h"
#include "harness/tls_harness.h"
#include "harness/policy_harness.h"
#include "../../agent/policy.h"
#include "../../ctl/pki.h"
#include "certdir.h"
#include "der.h"
#include "fsio.h"
#include "spiffe.h"
#include "svid.h"

#define ID_WEB	"spiffe://mesh.local/ns/default/sa/web"
#define ID_API	"spiffe://mesh.local/ns/default/sa/api"
#define ID_NODE	"spiffe://mesh.local/ns/meshforge-system/sa/mf-node-b"
#define CA_CN	"meshforge root CA mesh.local"

static WC_RNG rng;
static struct pki_key ca_key, evil_key, other_key;
static uint8_t *ca_der;
static size_t ca_len;
static struct pki_cert_info ca_info;
static uint8_t web_serial[PKI_SERIAL_MAX], node_serial[PKI_SERIAL_MAX];
static size_t web_serial_len, node_serial_len;

/* A self-signed CA called @cn with key @k, its PEM into @path (NULL:
 * none) and its DER into *der (caller frees).  Returns 0 or -errno. */
static int make_ca(struct pki_key *k, const char *cn, const char *path,
		   uint8_t **der, size_t *len)
{
	time_t now = time(NULL);
	struct pki_cert_req req = {
		.is_ca = true, .common_name = cn,
		.not_before = now - 300, .not_after = now + 86400,
	};
	char *pem = NULL;
	size_t pem_len;
	int err;

	err = pki_key_generate(k, &rng);
	if (!err)
		err = pki_cert_make(&req, k, k, &rng, der, len);
	if (!err && path)
		err = pki_cert_pem(*der, *len, &pem, &pem_len);
	if (!err && path)
		err = fsio_write_atomic(path, pem, pem_len, 0644);
	free(pem);
	return err;
}

/* A leaf of the mesh CA for @id valid until @not_after, filed in certs/
 * as mfctl files it; its serial (INTEGER content) into @serial.  Returns
 * 0 or -errno. */
static int make_leaf_until(const char *id, time_t not_after, uint8_t *serial,
			   size_t *serial_len)
{
	char stem[MF_SPIFFE_MAX], *crt = NULL, *key_pem = NULL;
	size_t crt_len, key_len, len;
	time_t now = time(NULL);
	struct pki_cert_req req = {
		.common_name = "leaf", .uri_san = id,
		.not_before = now - 300, .not_after = not_after,
		.issuer_name = ca_info.subject,
		.issuer_name_len = ca_info.subject_len,
		.issuer_key_id = ca_info.key_id,
	};
	struct pki_key k;
	struct der_cert c;
	uint8_t *der = NULL;
	int err;

	memset(&k, 0, sizeof(k));
	err = pki_key_generate(&k, &rng);
	if (!err)
		err = pki_cert_make(&req, &k, &ca_key, &rng, &der, &len);
	if (!err)
		err = pki_cert_pem(der, len, &crt, &crt_len);
	if (!err)
		err = pki_key_pem(&k, &key_pem, &key_len);
	if (!err)
		err = spiffe_file_stem(id, stem, sizeof(stem));
	if (!err)
		err = certdir_put(th_dir, stem, crt, crt_len, key_pem, key_len);
	if (!err && (der_cert_parse(der, len, &c) ||
		     c.serial.len > PKI_SERIAL_MAX))
		err = -EBADMSG;
	if (!err) {
		memcpy(serial, c.serial.p, c.serial.len);
		*serial_len = c.serial.len;
	}
	free(der);
	free(crt);
	free(key_pem);
	pki_key_free(&k);
	return err;
}

/* The same valid for a day. */
static int make_leaf(const char *id, uint8_t *serial, size_t *serial_len)
{
	return make_leaf_until(id, time(NULL) + 86400, serial, serial_len);
}

/* Writes dir/ca.crl: signed by @signer under the mesh CA's name, current
 * from @this_u to @next_u, revoking the @n serials of @serials (lengths
 * @lens) for @reason.  Returns 0 or -errno. */
static int write_crl(struct pki_key *signer, time_t this_u, time_t next_u,
		     const uint8_t *const *serials, const size_t *lens,
		     size_t n, int reason)
{
	struct pki_crl_entry e[4];
	struct pki_crl_req req = {
		.issuer_name = ca_info.subject,
		.issuer_name_len = ca_info.subject_len,
		.issuer_key_id = ca_info.key_id,
		.this_update = this_u, .next_update = next_u,
		.number = (uint64_t)this_u, .entries = e, .n = n,
	};
	char path[128];
	uint8_t *der = NULL;
	size_t len;
	int err;

	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < n && i < 4; i++) {
		memcpy(e[i].serial, serials[i], lens[i]);
		e[i].serial_len = lens[i];
		e[i].when = this_u;
		e[i].reason = reason;
	}
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	err = pki_crl_make(&req, signer, &rng, &der, &len);
	if (!err)
		err = fsio_write_atomic(path, der, len, 0644);
	free(der);
	return err;
}

static bool setup(void)
{
	uint8_t api_serial[PKI_SERIAL_MAX], *evil_der = NULL;
	size_t api_len, evil_len;
	char path[128];
	bool ok;

	if (!ph_make_dir(th_dir, sizeof(th_dir), "crl") || wc_InitRng(&rng))
		return false;
	snprintf(path, sizeof(path), "%s/ca.crt", th_dir);
	ok = make_ca(&ca_key, CA_CN, path, &ca_der, &ca_len) == 0 &&
	     pki_cert_parse(ca_der, ca_len, &ca_info) == 0 &&
	     make_leaf(ID_WEB, web_serial, &web_serial_len) == 0 &&
	     make_leaf(ID_API, api_serial, &api_len) == 0 &&
	     make_leaf(ID_NODE, node_serial, &node_serial_len) == 0 &&
	     /* A key that signs under the mesh CA's name without being
	      * it. */
	     make_ca(&evil_key, CA_CN, NULL, &evil_der, &evil_len) == 0;
	free(evil_der);
	return ok;
}

/* What the end @s that completed its handshake reads next: "<tls_read()
 * result> <tls_last_error()>" into @saw (@n bytes). */
static void peer_reads(struct tls_sess *s, char *saw, size_t n)
{
	char b[64];
	ssize_t r = tls_read(s, b, sizeof(b));

	snprintf(saw, n, "%zd %s", r, r < 0 ? tls_last_error(s) : "");
}

/* A handshake of client @cid with server @sid, both from store @c: each
 * end's result into *rc / *rs, the reason of the end that failed (the
 * server's first) into @why, and what the other end then reads into
 * @saw (peer_reads(); "" when both failed or none did).  Returns false
 * when a context or session could not be made. */
static bool shake_saw(struct certs *c, const char *cid, const char *sid,
		      int *rc, int *rs, char *why, size_t n, char *saw,
		      size_t sn)
{
	struct th_pair p;
	bool ok;

	*rc = *rs = -EAGAIN;
	why[0] = saw[0] = '\0';
	ok = th_pair_certs(&p, c, cid, sid);
	if (ok)
		th_handshake(&p, rc, rs);
	if (ok && *rs < 0)
		snprintf(why, n, "%s", tls_last_error(p.s));
	else if (ok && *rc < 0)
		snprintf(why, n, "%s", tls_last_error(p.c));
	/* The failing end's output was pumped to the other by
	 * th_handshake(): what it says, the other reads. */
	if (ok && *rs < 0 && *rc == 0)
		peer_reads(p.c, saw, sn);
	else if (ok && *rc < 0 && *rs == 0)
		peer_reads(p.s, saw, sn);
	th_pair_close(&p);
	return ok;
}

static bool shake(struct certs *c, const char *cid, const char *sid, int *rc,
		  int *rs, char *why, size_t n)
{
	char saw[8];

	return shake_saw(c, cid, sid, rc, rs, why, n, saw, sizeof(saw));
}

static bool accepted(struct certs *c, const char *cid, const char *sid)
{
	char why[512];
	int rc, rs;

	return shake(c, cid, sid, &rc, &rs, why, sizeof(why)) &&
	       ASSERT_EQ(rc, 0) && ASSERT_EQ(rs, 0);
}

/* Refused as revoked by the server (@by_server) or the client, with the
 * serial @hex and the reason @reason in what it says, and the other end
 * told so by a certificate_revoked alert (44): a certificate refusal
 * (-EACCES) when it reads. */
static bool refused(struct certs *c, const char *cid, const char *sid,
		    bool by_server, const char *hex, const char *reason)
{
	char why[512], saw[512], want[64];
	int rc, rs;

	if (!shake_saw(c, cid, sid, &rc, &rs, why, sizeof(why), saw,
		       sizeof(saw)))
		return false;
	snprintf(want, sizeof(want), "%d read: peer alert: ", -EACCES);
	if (!ASSERT_EQ(by_server ? rs : rc, -EKEYREVOKED) ||
	    !ASSERT_EQ(by_server ? rc : rs, 0) ||
	    !ASSERT_TRUE(strstr(why, "revoked") != NULL) ||
	    !ASSERT_TRUE(strstr(why, hex) != NULL) ||
	    !ASSERT_TRUE(strstr(why, reason) != NULL) ||
	    !ASSERT_TRUE(strncmp(saw, want, strlen(want)) == 0) ||
	    !ASSERT_TRUE(strstr(saw, "(44)") != NULL)) {
		printf("  why: %s\n  the other end read: %s\n", why, saw);
		return false;
	}
	return true;
}

/* A policy snapshot of epoch 1 whose MeshTLS has the agents speak TLS
 * 1.2 only. */
static struct policy *tls12_policy(void)
{
	static const char yaml[] =
		PH_BASE PH_KUMA_DOC("MeshTLS", "tls12")
		"  targetRef: {kind: Mesh}\n"
		"  rules:\n"
		"    - default:\n"
		"        tlsVersion: {min: TLS12, max: TLS12}\n";
	struct rec_set rs;
	bool ok = rh_compile(yaml, NULL, &rs);

	rs.config.epoch = 1;
	return rh_snapshot(&rs, ok);
}

/* At TLS 1.2 (a MeshTLS lets only it in) a revoked client is refused in
 * the handshake, and told so by a certificate_revoked alert (44) as at
 * TLS 1.3; the server says the serial and the reason.  A client of the
 * same CA that is not listed is served at TLS 1.2.  With the list past
 * its nextUpdate (which wolfSSL will not judge by), the revoked client is
 * still refused, after its handshake, and the other still served. */
static bool test_revoked_at_tls12(void)
{
	const uint8_t *s[1] = { web_serial };
	size_t lens[1] = { web_serial_len };
	char hex[2 * PKI_SERIAL_MAX + 1], path[128];
	struct policy *p = NULL;
	struct certs *c = NULL;
	struct th_pair pair;
	time_t now = time(NULL);
	int rc, rs;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	memset(&pair, 0, sizeof(pair));
	der_serial_hex(web_serial, web_serial_len, hex, sizeof(hex));
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	p = tls12_policy();
	ok = ASSERT_TRUE(p) &&
	     ASSERT_EQ(write_crl(&ca_key, now, now + 3600, s, lens, 1,
				 DER_CRL_KEY_COMPROMISE), 0) &&
	     ASSERT_EQ(certs_open(&c, th_dir), 0) &&
	     ASSERT_EQ(certs_reload(c, p), 0) &&
	     th_pair_certs(&pair, c, ID_WEB, ID_NODE);
	if (ok) {
		th_handshake(&pair, &rc, &rs);
		printf("  server: %s\n  client: %s\n", tls_last_error(pair.s),
		       tls_last_error(pair.c));
		ok = ASSERT_EQ(rs, -EKEYREVOKED) && ASSERT_TRUE(rc < 0) &&
		     ASSERT_TRUE(strstr(tls_last_error(pair.s), hex) != NULL) &&
		     ASSERT_TRUE(strstr(tls_last_error(pair.s),
					"keyCompromise") != NULL) &&
		     ASSERT_TRUE(strstr(tls_last_error(pair.c),
					"peer alert: certificate_revoked (44)") !=
				 NULL);
	}
	th_pair_close(&pair);
	ok = ok && ASSERT_TRUE(th_pair_certs(&pair, c, ID_API, ID_NODE));
	if (ok) {
		th_handshake(&pair, &rc, &rs);
		ok = ASSERT_EQ(rc, 0) && ASSERT_EQ(rs, 0) &&
		     ASSERT_STREQ(tls_version_name(pair.s), "TLSv1.2");
	}
	th_pair_close(&pair);
	/* Past its nextUpdate: refused after the handshake, no alert. */
	ok = ok && ASSERT_EQ(write_crl(&ca_key, now - 7200, now - 3600, s, lens,
				       1, DER_CRL_KEY_COMPROMISE), 0) &&
	     ASSERT_EQ(certs_reload(c, p), 0) &&
	     ASSERT_TRUE(th_pair_certs(&pair, c, ID_WEB, ID_NODE));
	if (ok) {
		th_handshake(&pair, &rc, &rs);
		ok = ASSERT_EQ(rs, -EKEYREVOKED) && ASSERT_EQ(rc, 0) &&
		     ASSERT_STREQ(tls_version_name(pair.c), "TLSv1.2") &&
		     ASSERT_TRUE(strstr(tls_last_error(pair.s), hex) != NULL);
	}
	th_pair_close(&pair);
	ok = ok && ASSERT_TRUE(th_pair_certs(&pair, c, ID_API, ID_NODE));
	if (ok) {
		th_handshake(&pair, &rc, &rs);
		ok = ASSERT_EQ(rc, 0) && ASSERT_EQ(rs, 0);
	}
	th_pair_close(&pair);
	unlink(path);
	certs_close(c);
	policy_put(p);
	return ok;
}

static bool test_crl_round_trip(void)
{
	const uint8_t *s[2] = { web_serial, node_serial };
	size_t lens[2] = { web_serial_len, node_serial_len };
	struct der_crl_entry e;
	struct der_crl crl;
	char path[128], *buf = NULL;
	uint8_t ser[PKI_SERIAL_MAX];
	size_t len, n = 0;
	time_t now = time(NULL);
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	if (!ASSERT_EQ(write_crl(&ca_key, now, now + 3600, s, lens, 2,
				 DER_CRL_KEY_COMPROMISE), 0) ||
	    !ASSERT_EQ(fsio_read_all(path, &buf, &len), 0) ||
	    !ASSERT_EQ(der_crl_parse((uint8_t *)buf, len, &crl), 0) ||
	    !ASSERT_EQ((long long)crl.this_update, (long long)now) ||
	    !ASSERT_EQ((long long)crl.next_update, (long long)now + 3600) ||
	    !ASSERT_EQ(crl.number, (uint64_t)now) ||
	    !ASSERT_TRUE(crl.issuer.len == ca_info.subject_len &&
			 !memcmp(crl.issuer.p, ca_info.subject,
				 ca_info.subject_len)))
		goto out;
	while (der_crl_next(&crl.revoked, &e) > 0) {
		if (!ASSERT_TRUE(n < 2) ||
		    !ASSERT_TRUE(e.serial.len == lens[n] &&
				 !memcmp(e.serial.p, s[n], lens[n])) ||
		    !ASSERT_EQ(e.reason, DER_CRL_KEY_COMPROMISE))
			goto out;
		n++;
	}
	/* Serials as people type them: a sign byte where the top bit is
	 * set, none where it is not, leading zeros dropped. */
	ok = ASSERT_EQ(n, 2u) &&
	     ASSERT_EQ(pki_serial_parse("0x00ff", ser, &len), 0) &&
	     ASSERT_EQ(len, 2u) && ASSERT_EQ(ser[0], 0) &&
	     ASSERT_EQ(ser[1], 0xff) &&
	     ASSERT_EQ(pki_serial_parse("1ff", ser, &len), 0) &&
	     ASSERT_EQ(len, 2u) && ASSERT_EQ(ser[0], 1) &&
	     ASSERT_EQ(pki_serial_parse("xyz", ser, &len), -EINVAL) &&
	     ASSERT_EQ(pki_serial_parse("", ser, &len), -EINVAL) &&
	     ASSERT_EQ(der_crl_reason_parse("keyCompromise"),
		       DER_CRL_KEY_COMPROMISE) &&
	     ASSERT_EQ(der_crl_reason_parse("nope"), -EINVAL);
out:
	free(buf);
	unlink(path);
	return ok;
}

static bool test_revoke_reload(void)
{
	const uint8_t *s[1] = { web_serial };
	size_t lens[1] = { web_serial_len }, entries = 0;
	const uint8_t *sn[1] = { node_serial };
	size_t nlens[1] = { node_serial_len };
	char hex[2 * PKI_SERIAL_MAX + 1], nhex[2 * PKI_SERIAL_MAX + 1];
	char path[128];
	struct certs *c = NULL;
	time_t now = time(NULL);
	int64_t next = 0;
	uint64_t bad = 0;
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	der_serial_hex(web_serial, web_serial_len, hex, sizeof(hex));
	der_serial_hex(node_serial, node_serial_len, nhex, sizeof(nhex));
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0) ||
	    !ASSERT_EQ(certs_watch(c), 0) ||
	    !ASSERT_TRUE(accepted(c, ID_WEB, ID_NODE)) ||
	    !ASSERT_TRUE(accepted(c, ID_API, ID_NODE)) ||
	    !ASSERT_FALSE(certs_crl_info(c, &entries, &next, &bad)))
		goto out;

	/* Revoked: refused once the store read the list again. */
	if (!ASSERT_EQ(write_crl(&ca_key, now, now + 3600, s, lens, 1,
				 DER_CRL_KEY_COMPROMISE), 0) ||
	    !ASSERT_TRUE(certs_changed(c)) ||
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_TRUE(refused(c, ID_WEB, ID_NODE, true, hex,
				 "keyCompromise")) ||
	    !ASSERT_TRUE(accepted(c, ID_API, ID_NODE)) ||
	    !ASSERT_TRUE(certs_crl_info(c, &entries, &next, &bad)) ||
	    !ASSERT_EQ(entries, 1u) ||
	    !ASSERT_EQ((long long)next, (long long)now + 3600) ||
	    !ASSERT_EQ(bad, 0u))
		goto out;

	/* A revoked node is refused by its client. */
	if (!ASSERT_EQ(write_crl(&ca_key, now + 1, now + 3600, sn, nlens, 1,
				 DER_CRL_SUPERSEDED), 0) ||
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_TRUE(refused(c, ID_API, ID_NODE, false, nhex,
				 "superseded")) ||
	    !ASSERT_TRUE(accepted(c, ID_WEB, ID_API)))
		goto out;

	/* Back to the web list; then one another key signed under the
	 * CA's name, which lifts nothing. */
	if (!ASSERT_EQ(write_crl(&ca_key, now + 2, now + 3600, s, lens, 1,
				 DER_CRL_KEY_COMPROMISE), 0) ||
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_EQ(write_crl(&evil_key, now + 3, now + 3600, NULL, NULL,
				 0, 0), 0) ||
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_TRUE(refused(c, ID_WEB, ID_NODE, true, hex,
				 "keyCompromise")) ||
	    !ASSERT_TRUE(certs_crl_info(c, &entries, &next, &bad)) ||
	    !ASSERT_EQ(entries, 1u) || !ASSERT_EQ(bad, 1u))
		goto out;

	/* Past its nextUpdate: still in force for what it lists only. */
	if (!ASSERT_EQ(write_crl(&ca_key, now - 7200, now - 3600, s, lens, 1,
				 DER_CRL_AFFILIATION_CHANGED), 0) ||
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_TRUE(refused(c, ID_WEB, ID_NODE, true, hex,
				 "affiliationChanged")) ||
	    !ASSERT_TRUE(accepted(c, ID_API, ID_NODE)) ||
	    !ASSERT_TRUE(certs_crl_info(c, &entries, &next, &bad)) ||
	    !ASSERT_EQ((long long)next, (long long)now - 3600))
		goto out;

	/* No list: nothing refused as revoked. */
	ok = ASSERT_EQ(unlink(path), 0) &&
	     ASSERT_EQ(certs_reload(c, NULL), 0) &&
	     ASSERT_TRUE(accepted(c, ID_WEB, ID_NODE)) &&
	     ASSERT_FALSE(certs_crl_info(c, &entries, &next, &bad));
out:
	unlink(path);
	certs_close(c);
	return ok;
}

static double held_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/*
 * A certificate the store holds, judged as a handshake judges a peer's
 * (tls_ctx_check_held(), what the same-node path asks of a source's):
 * accepted under the trust it was loaded with; once a list revokes it
 * and the store read it (a new trust), refused by the node's new context
 * with the reason a handshake gives (serial, identity, the list's
 * reason), the context held from before included, whose verdict under
 * the old trust was kept; the old trust still accepts it (it has no
 * list), the other identity stays accepted.  Prints what a check costs,
 * kept and judged afresh.
 */
static bool test_held_check(void)
{
	enum { N_KEPT = 20000, N_FRESH = 200 };
	const uint8_t *s[1] = { web_serial };
	size_t lens[1] = { web_serial_len };
	struct tls_ctx *node0 = NULL, *web0 = NULL, *node1 = NULL,
		       *web1 = NULL, *api1 = NULL;
	char hex[2 * PKI_SERIAL_MAX + 1], why[512], path[128];
	struct certs *c = NULL;
	double t0, kept, fresh;
	int rule = -1, rc = 0, right = 0;
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	der_serial_hex(web_serial, web_serial_len, hex, sizeof(hex));
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	if (!ASSERT_EQ(certs_open(&c, th_dir), 0) ||
	    !ASSERT_EQ(certs_server_ctx(c, ID_NODE, NULL, &node0), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_WEB, NULL, &web0), 0) ||
	    !ASSERT_EQ(tls_ctx_check_held(node0, web0, why, sizeof(why),
					  &rule), 0) ||
	    !ASSERT_EQ(rule, 0))
		goto out;
	t0 = held_now_us();
	for (int i = 0; i < N_KEPT; i++)
		rc |= tls_ctx_check_held(node0, web0, why, sizeof(why), &rule);
	kept = (held_now_us() - t0) / N_KEPT;
	if (!ASSERT_EQ(rc, 0) ||
	    !ASSERT_EQ(write_crl(&ca_key, time(NULL), time(NULL) + 3600, s,
				 lens, 1, DER_CRL_KEY_COMPROMISE), 0) ||
	    !ASSERT_EQ(certs_reload(c, NULL), 0) ||
	    !ASSERT_EQ(certs_server_ctx(c, ID_NODE, NULL, &node1), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_WEB, NULL, &web1), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, ID_API, NULL, &api1), 0) ||
	    !ASSERT_TRUE(node1 != node0 && web1 != web0))
		goto out;
	for (int i = 0; i < 2; i++) {
		why[0] = '\0';
		if (!ASSERT_EQ(tls_ctx_check_held(node1, i ? web1 : web0, why,
						  sizeof(why), &rule),
			       -EKEYREVOKED) ||
		    !ASSERT_TRUE(strstr(why, hex) != NULL) ||
		    !ASSERT_TRUE(strstr(why, ", " ID_WEB ") is revoked: "
					"keyCompromise since ") != NULL))
			goto out;
	}
	if (!ASSERT_EQ(tls_ctx_check_held(node0, web0, why, sizeof(why),
					  &rule), 0) ||
	    !ASSERT_EQ(tls_ctx_check_held(node1, api1, why, sizeof(why),
					  &rule), 0))
		goto out;
	/* Judges of two trusts in turn: judged afresh each time, and
	 * right each time (revoked under the new one only). */
	t0 = held_now_us();
	for (int i = 0; i < N_FRESH; i++)
		right += (tls_ctx_check_held(i % 2 ? node1 : node0, web0, why,
					     sizeof(why), &rule) ==
			  -EKEYREVOKED) == (i % 2 == 1);
	fresh = (held_now_us() - t0) / N_FRESH;
	ok = ASSERT_EQ(right, N_FRESH);
	printf("  held certificate check: %.3f us kept, %.1f us judged "
	       "afresh\n", kept, fresh);
out:
	unlink(path);
	tls_ctx_put(api1);
	tls_ctx_put(web1);
	tls_ctx_put(node1);
	tls_ctx_put(web0);
	tls_ctx_put(node0);
	certs_close(c);
	return ok;
}

/*
 * A held certificate's kept verdict lasts no longer than its dates: one
 * valid for another second is accepted, again from what was kept, and
 * once the clock is past its notAfter refused as expired, the handshake's
 * reason, with no new trust or context in between.
 */
static bool test_held_expires(void)
{
	const char *id = "spiffe://mesh.local/ns/default/sa/brief";
	struct tls_ctx *node = NULL, *held = NULL;
	uint8_t serial[PKI_SERIAL_MAX];
	size_t serial_len;
	struct certs *c = NULL;
	time_t until = time(NULL) + 1;
	char why[512];
	int rule = -1;
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	if (!ASSERT_EQ(make_leaf_until(id, until, serial, &serial_len), 0) ||
	    !ASSERT_EQ(certs_open(&c, th_dir), 0) ||
	    !ASSERT_EQ(certs_server_ctx(c, ID_NODE, NULL, &node), 0) ||
	    !ASSERT_EQ(certs_client_ctx(c, id, NULL, &held), 0) ||
	    !ASSERT_EQ(tls_ctx_check_held(node, held, why, sizeof(why),
					  &rule), 0) ||
	    !ASSERT_EQ(tls_ctx_check_held(node, held, why, sizeof(why),
					  &rule), 0))
		goto out;
	/* The clock is what changes: waited for, 3 s at most. */
	for (int i = 0; i < 60 && time(NULL) <= until; i++)
		usleep(50 * 1000);
	ok = ASSERT_TRUE(time(NULL) > until) &&
	     ASSERT_EQ(tls_ctx_check_held(node, held, why, sizeof(why),
					  &rule), -EACCES) &&
	     ASSERT_EQ(rule, SVID_EXPIRED) &&
	     ASSERT_TRUE(strstr(why, "X.509-SVID rule expired") != NULL);
out:
	tls_ctx_put(held);
	tls_ctx_put(node);
	certs_close(c);
	return ok;
}

/* A list is the issuer's: another CA's, listing this CA's serial, is
 * not about this CA's certificate. */
static bool test_other_issuer(void)
{
	char other_crt[128], mesh_crt[128], path[128], leaf_path[160];
	const char *by_other[1] = { other_crt }, *by_mesh[1] = { mesh_crt };
	uint8_t *oder = NULL, *der = NULL, *leaf = NULL;
	size_t olen, len, leaf_len;
	struct pki_cert_info oinfo;
	struct pki_crl_entry e;
	struct crl *l = NULL;
	time_t now = time(NULL);
	bool ok = false;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	snprintf(other_crt, sizeof(other_crt), "%s/other.crt", th_dir);
	snprintf(mesh_crt, sizeof(mesh_crt), "%s/ca.crt", th_dir);
	snprintf(path, sizeof(path), "%s/other.crl", th_dir);
	snprintf(leaf_path, sizeof(leaf_path),
		 "%s/certs/mesh.local+ns+default+sa+web.crt", th_dir);
	memset(&e, 0, sizeof(e));
	memcpy(e.serial, web_serial, web_serial_len);
	e.serial_len = web_serial_len;
	e.when = now;
	if (!ASSERT_EQ(make_ca(&other_key, "another CA", other_crt, &oder,
			       &olen), 0) ||
	    !ASSERT_EQ(pki_cert_parse(oder, olen, &oinfo), 0))
		goto out;
	{
		struct pki_crl_req req = {
			.issuer_name = oinfo.subject,
			.issuer_name_len = oinfo.subject_len,
			.issuer_key_id = oinfo.key_id,
			.this_update = now, .next_update = now + 60,
			.number = 1, .entries = &e, .n = 1,
		};

		if (!ASSERT_EQ(pki_crl_make(&req, &other_key, &rng, &der,
					    &len), 0) ||
		    !ASSERT_EQ(fsio_write_atomic(path, der, len, 0644), 0) ||
		    !ASSERT_EQ(pki_cert_load(leaf_path, &leaf, &leaf_len), 0))
			goto out;
	}
	ok = ASSERT_EQ(crl_load(&l, path, by_other, 1), 0) &&
	     ASSERT_EQ(crl_count(l), 1u) &&
	     ASSERT_TRUE(crl_find(l, leaf, leaf_len) == NULL);
	crl_put(l);
	l = NULL;
	/* ... and the mesh CA did not sign it. */
	ok = ok && ASSERT_EQ(crl_load(&l, path, by_mesh, 1), -EKEYREJECTED);
out:
	crl_put(l);
	free(oder);
	free(der);
	free(leaf);
	return ok;
}

/* @n bytes of @buf into @path, plainly: thousands of variants need no
 * fsync each. */
static bool put_file(const char *path, const char *buf, size_t n)
{
	FILE *f = fopen(path, "w");
	bool ok = f && fwrite(buf, 1, n, f) == n;

	if (f && fclose(f))
		ok = false;
	return ok;
}

static bool test_tampered_refused(void)
{
	const uint8_t *s[2] = { web_serial, node_serial };
	size_t lens[2] = { web_serial_len, node_serial_len }, len;
	char path[128], *buf = NULL;
	const char *cas[1];
	char ca[128];
	struct crl *l = NULL;
	time_t now = time(NULL);
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	snprintf(ca, sizeof(ca), "%s/ca.crt", th_dir);
	cas[0] = ca;
	ok = ASSERT_EQ(write_crl(&ca_key, now, now + 60, s, lens, 2,
				 DER_CRL_KEY_COMPROMISE), 0) &&
	     ASSERT_EQ(fsio_read_all(path, &buf, &len), 0) &&
	     ASSERT_EQ(crl_load(&l, path, cas, 1), 0);
	crl_put(l);
	l = NULL;
	for (size_t i = 0; ok && i < len * 8; i++) {
		int ret;

		buf[i / 8] ^= (char)(1 << (i % 8));
		ok = ASSERT_TRUE(put_file(path, buf, len));
		ret = crl_load(&l, path, cas, 1);
		buf[i / 8] ^= (char)(1 << (i % 8));
		if (!ASSERT_TRUE(ret == -EBADMSG || ret == -EKEYREJECTED)) {
			printf("  bit %zu flipped: %d\n", i, ret);
			ok = false;
		}
		crl_put(l);
		l = NULL;
	}
	for (size_t n = 0; ok && n < len; n++) {
		int ret;

		ok = ASSERT_TRUE(put_file(path, buf, n));
		ret = crl_load(&l, path, cas, 1);
		if (!ASSERT_EQ(ret, -EBADMSG)) {
			printf("  cut at %zu: %d\n", n, ret);
			ok = false;
		}
		crl_put(l);
		l = NULL;
	}
	unlink(path);
	free(buf);
	return ok;
}

/*
 * What the admin listener serves at /ca.crl (certs_crl()): the list in
 * force, its bytes those of ca.crl, from a store that has made no
 * handshake yet; a list no trusted CA signed is not served, the one
 * before stays; without ca.crl, none.
 */
static bool test_served_list(void)
{
	const uint8_t *s[1] = { web_serial }, *der;
	size_t lens[1] = { web_serial_len }, len, n;
	char path[128], *buf = NULL, *evil = NULL;
	struct certs *c = NULL;
	struct crl *l = NULL;
	time_t now = time(NULL);
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no PKI");
	snprintf(path, sizeof(path), "%s/ca.crl", th_dir);
	ok = ASSERT_EQ(write_crl(&ca_key, now, now + 60, s, lens, 1,
				 DER_CRL_KEY_COMPROMISE), 0) &&
	     ASSERT_EQ(fsio_read_all(path, &buf, &len), 0) &&
	     ASSERT_EQ(certs_open(&c, th_dir), 0);
	/* No handshake yet: read for the asking. */
	l = ok ? certs_crl(c) : NULL;
	ok = ok && ASSERT_TRUE(l != NULL) && ASSERT_EQ(crl_count(l), 1);
	der = l ? crl_der(l, &n) : NULL;
	ok = ok && ASSERT_EQ(n, len) && ASSERT_MEMEQ(der, buf, len);
	crl_put(l);
	/* A forged list: the one in force is still what is served. */
	ok = ok && ASSERT_EQ(write_crl(&evil_key, now + 1, now + 60, s, lens,
				       0, -1), 0) &&
	     ASSERT_EQ(fsio_read_all(path, &evil, &n), 0) &&
	     ASSERT_EQ(certs_reload(c, NULL), 0);
	l = ok ? certs_crl(c) : NULL;
	der = l ? crl_der(l, &n) : NULL;
	ok = ok && ASSERT_TRUE(l != NULL) && ASSERT_EQ(n, len) &&
	     ASSERT_MEMEQ(der, buf, len);
	crl_put(l);
	/* None. */
	ok = ok && ASSERT_EQ(unlink(path), 0) &&
	     ASSERT_EQ(certs_reload(c, NULL), 0) &&
	     ASSERT_TRUE(certs_crl(c) == NULL);
	certs_close(c);
	unlink(path);
	free(evil);
	free(buf);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	if (tls_global_init() != 0) {
		printf("FAIL: test_crl/global_init\n");
		return 1;
	}
	th_have_certs = setup();
	if (!th_have_certs) {
		printf("FAIL: test_crl/setup\n");
		test_failed_count++;
	}
	TEST_RUN(test_crl_round_trip);
	TEST_RUN(test_revoke_reload);
	TEST_RUN(test_revoked_at_tls12);
	TEST_RUN(test_held_check);
	TEST_RUN(test_held_expires);
	TEST_RUN(test_other_issuer);
	TEST_RUN(test_tampered_refused);
	TEST_RUN(test_served_list);
	pki_key_free(&ca_key);
	pki_key_free(&evil_key);
	pki_key_free(&other_key);
	free(ca_der);
	wc_FreeRng(&rng);
	tls_global_fini();
	ph_remove(th_dir);
	TEST_MAIN_END();
}
