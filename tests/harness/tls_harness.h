/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pairs of TLS sessions in one process, for the tests that look inside
 * them (test_tls, test_tls_record, test_tls_trust), over the test PKI of pki_harness.h in
 * th_dir (test_tls_mem takes the contexts alone; test_certs and test_crl
 * file their PKI there as a config dir):
 *   th_pair_open()  a client and a server session on contexts made from
 *                   leaf stems of th_dir; th_pair_close() frees all.
 *   th_pair_certs() the same on contexts of an identity store
 *                   (agent/certs.h, included first).
 *   th_pump()       moves ciphertext from one session to the other.
 *   th_handshake()  runs the handshake to its end; an end marked raw is
 *                   driven through its WOLFSSL directly, so it never hands
 *                   over to the record layer.
 *   th_run()        one case: a pair opened, maybe past its handshake, the
 *                   case's body run on it, the pair closed; the case
 *                   skips when setup could not make the PKI.  TH_CASE()
 *                   defines the test function of such a case.
 *   th_pattern()    the bytes tests send and check.
 * Include after harness/test.h, harness/pki_harness.h and agent/tls-int.h.
 */
#ifndef MF_TLS_HARNESS_H
#define MF_TLS_HARNESS_H

static char th_dir[64];
static bool th_have_certs;	/* setup made the PKI in th_dir */

struct th_pair {
	struct tls_ctx *cctx, *sctx;
	struct tls_sess *c, *s;
	const char *ciphers;	/* the client's; NULL: the profile's */
	bool raw_c, raw_s;	/* driven through wolfSSL directly */
	int client_flights;	/* of the last th_handshake(): 2 in a full
				 * TLS 1.3 handshake, 3 after a retry */
};

/* A context for @role with leaf @leaf (a stem in th_dir), trusting CA
 * "ca", offering @ciphers (NULL: the profile's).  Returns 0 or -errno. */
static inline int th_ctx(struct tls_ctx **out, enum tls_role role,
			 const char *leaf, const char *ciphers)
{
	char ca[128], crt[128], key[128];
	int ret;

	snprintf(ca, sizeof(ca), "%s/ca.crt", th_dir);
	snprintf(crt, sizeof(crt), "%s/%s.crt", th_dir, leaf);
	snprintf(key, sizeof(key), "%s/%s.key", th_dir, leaf);
	ret = tls_ctx_new(out, role, ca, crt, key);
	if (ret == 0 && ciphers &&
	    wolfSSL_CTX_set_cipher_list((*out)->wctx, ciphers) !=
	    WOLFSSL_SUCCESS)
		ret = -EINVAL;
	return ret;
}

/* The client with leaf @cleaf, offering @ciphers (NULL: the profile's),
 * and the server with leaf @sleaf. */
static inline bool th_pair_open(struct th_pair *p, const char *cleaf,
				const char *sleaf, const char *ciphers)
{
	memset(p, 0, sizeof(*p));
	p->ciphers = ciphers;
	return ASSERT_EQ(th_ctx(&p->cctx, TLS_ROLE_CLIENT, cleaf, ciphers),
			 0) &&
	       ASSERT_EQ(th_ctx(&p->sctx, TLS_ROLE_SERVER, sleaf, NULL), 0) &&
	       ASSERT_EQ(tls_sess_new(&p->c, p->cctx), 0) &&
	       ASSERT_EQ(tls_sess_new(&p->s, p->sctx), 0);
}

#ifdef MF_CERTS_H
/* The client of identity @cid and the server of identity @sid, on the
 * contexts identity store @c gives them (the pair holds a reference to
 * each). */
static inline bool th_pair_certs(struct th_pair *p, struct certs *c,
				 const char *cid, const char *sid)
{
	memset(p, 0, sizeof(*p));
	return ASSERT_EQ(certs_client_ctx(c, cid, NULL, &p->cctx), 0) &&
	       ASSERT_EQ(certs_server_ctx(c, sid, NULL, &p->sctx), 0) &&
	       ASSERT_EQ(tls_sess_new(&p->c, p->cctx), 0) &&
	       ASSERT_EQ(tls_sess_new(&p->s, p->sctx), 0);
}
#endif

static inline void th_pair_close(struct th_pair *p)
{
	tls_sess_free(p->c);
	tls_sess_free(p->s);
	tls_ctx_put(p->cctx);
	tls_ctx_put(p->sctx);
	memset(p, 0, sizeof(*p));
}

/* Moves ciphertext from @a to @b, at most @step bytes per feed (0: as much
 * as is contiguous), as long as @b takes it.  Returns bytes moved. */
static inline size_t th_pump(struct tls_sess *a, struct tls_sess *b,
			     size_t step)
{
	size_t moved = 0, n, room;
	const void *p;

	while ((n = tls_out_pending(a, &p)) > 0) {
		room = tls_in_space(b);
		if (step && n > step)
			n = step;
		if (n > room)
			n = room;
		if (n == 0 || tls_feed(b, p, n) != 0)
			break;
		tls_out_consume(a, n);
		moved += n;
	}
	return moved;
}

/* One handshake step of @s: ours, or wolfSSL's for a raw end. */
static inline int th_hs_step(struct tls_sess *s, bool raw)
{
	int ret;

	if (!raw)
		return tls_handshake(s);
	ret = s->ctx->role == TLS_ROLE_CLIENT ? wolfSSL_connect(s->ssl) :
						wolfSSL_accept(s->ssl);
	if (ret == WOLFSSL_SUCCESS)
		return 0;
	ret = wolfSSL_get_error(s->ssl, ret);
	return ret == WOLFSSL_ERROR_WANT_READ ? -EAGAIN : -EPROTO;
}

/* Runs the handshake to its end: the client's and the server's last
 * results in *rc, *rs. */
static inline void th_handshake(struct th_pair *p, int *rc, int *rs)
{
	int i;

	*rc = *rs = -EAGAIN;
	p->client_flights = 0;
	for (i = 0; i < 20; i++) {
		size_t moved;

		if (*rc == -EAGAIN)
			*rc = th_hs_step(p->c, p->raw_c);
		moved = th_pump(p->c, p->s, 0);
		if (moved)
			p->client_flights++;
		if (*rs == -EAGAIN)
			*rs = th_hs_step(p->s, p->raw_s);
		moved += th_pump(p->s, p->c, 0);
		if (*rc != -EAGAIN && *rs != -EAGAIN && moved == 0)
			break;
	}
}

/* th_run() flags: the client or the server is raw (th_handshake()); the
 * body starts after a handshake both ends completed. */
#define TH_RAW_C	(1u << 0)
#define TH_RAW_S	(1u << 1)
#define TH_SHAKEN	(1u << 2)

/* Runs @body on a pair of @cleaf and @sleaf (th_pair_open()), as @flags
 * say, then closes the pair.  Returns the verdict of all of it. */
static inline bool th_run(const char *cleaf, const char *sleaf,
			  const char *ciphers, unsigned int flags,
			  bool (*body)(struct th_pair *p))
{
	struct th_pair p;
	int rc, rs;
	bool ok;

	if (!th_have_certs)
		TEST_SKIP("no certificates (openssl CLI missing?)");
	ok = th_pair_open(&p, cleaf, sleaf, ciphers);
	p.raw_c = flags & TH_RAW_C;
	p.raw_s = flags & TH_RAW_S;
	if (ok && (flags & TH_SHAKEN)) {
		th_handshake(&p, &rc, &rs);
		ok = ASSERT_EQ(rc, 0) && ASSERT_EQ(rs, 0);
	}
	ok = ok && body(&p);
	th_pair_close(&p);
	return ok;
}

/* Defines test_@name(), which runs @body through th_run() on a pair of
 * the leaves "client" and "server"; TH_CASE() names it after @body. */
#define TH_CASE_AS(name, body, ciphers, flags)				\
	static bool test_##name(void)					\
	{								\
		return th_run("client", "server", ciphers, flags, body); \
	}
#define TH_CASE(body, ciphers, flags) TH_CASE_AS(body, body, ciphers, flags)

static inline uint8_t th_pattern(size_t i, unsigned seed)
{
	return (uint8_t)((i * 2654435761u) >> 13) ^ (uint8_t)seed;
}

#endif /* MF_TLS_HARNESS_H */
