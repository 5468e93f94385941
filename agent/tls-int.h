/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside a TLS session: what tls.c (wolfSSL's handshake, the hand-over,
 * the API of tls.h) and tls_record.c (the record layer after the
 * hand-over) share, and what their tests look at.  Everyone else uses
 * tls.h.
 */
#ifndef MF_TLS_INT_H
#define MF_TLS_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>
#include <wolfssl/wolfcrypt/kdf.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "bufq.h"
#include "svid.h"
#include "tls.h"

/*
 * Queue bounds.  Output is bounded twice: tls_write() stops at
 * TLS_OUT_SOFT_MAX, sizing each record so it fits; control messages (the
 * handshake, alerts, close_notify) may go up to TLS_OUT_HARD_MAX.
 */
#define TLS_IN_MAX		(256u * 1024)
#define TLS_OUT_SOFT_MAX	(256u * 1024)
#define TLS_OUT_HARD_MAX	(TLS_OUT_SOFT_MAX + 64u * 1024)

/* TLS 1.3 records (RFC 8446 5.1, 5.2). */
#define TLS_HDR_LEN		5u
#define TLS_TAG_LEN		16u
#define TLS_NONCE_LEN		12u

/*
 * How long one traffic key lives (RFC 8446 5.5, 4.6.3).  A key is replaced
 * by a KeyUpdate, never by failing the session:
 *  - AES-GCM: by the AEAD limits analysis (draft-irtf-cfrg-aead-limits,
 *    "Confidentiality limit" of AES-GCM), an attacker's advantage grows
 *    with (q + s)^2 / 2^129, q the records and s the 16-byte blocks of
 *    plaintext a key protected; RFC 8446's 2^24.5 full-size records is
 *    q + s = 2^34.5 (2^-60).  Counting blocks rather than records, a
 *    writer updates its key before a record would take q + s past
 *    TLS_GCM_KEY_BLOCKS: 2^34 (2^-61), 256 GiB of full records or 2^33
 *    one-byte ones.  The KeyUpdate itself, 2 blocks, goes under the old
 *    key.
 *  - ChaCha20-Poly1305: no such limit before the sequence number's
 *    (RFC 8446 5.5), so no count.
 *  - Both: a sequence number never wraps (5.3).  A writer spends its
 *    last one, 2^64 - 1, on a KeyUpdate; a reader fails a key that has
 *    opened a record under it and is followed by anything but that
 *    KeyUpdate.
 * Limits are the writer's to keep: a reader follows the peer's updates.
 */
#define TLS_GCM_KEY_BLOCKS	(1ull << 34)

/* A traffic secret: the hash length of both suites (SHA-256). */
#define TLS_SECRET_LEN		32u

/* The verdict of tls_ctx_check_held() on a context's own chain, kept:
 * it depends on nothing but the chain (the context's for life), the
 * judge's trust (its CAs and revocation list, fixed once shared) and the
 * time, and only through the chain's dates, so it stands until the trust
 * changes or the clock crosses one of them.  Under @lock: loop threads
 * share contexts. */
#define TLS_HELD_WHY	512
struct tls_held {
	pthread_mutex_t lock;
	struct tls_trust *trust;	/* the judge's, a reference; NULL: no
					 * verdict yet */
	int64_t from, until;		/* it stands for from <= now < until */
	int rc;				/* 0, -EACCES or -EKEYREVOKED */
	unsigned char rule;		/* enum svid_rule broken; SVID_OK */
	char why[TLS_HELD_WHY];		/* when rc != 0 */
};

struct tls_ctx {
	WOLFSSL_CTX *wctx;
	enum tls_role role;
	/* A client to servers outside the mesh (tls_ctx_new_origin()):
	 * any version and suite the server and @wctx agree on, so wolfSSL
	 * keeps the record layer after the handshake. */
	bool origin;
	int refs;			/* atomic */
	struct tls_trust *trust;	/* a reference */
	/* Our own chain as loaded, DER, leaf first (mesh contexts): what
	 * tls_ctx_check_held() judges.  @own points into @own_der; both
	 * owned. */
	uint8_t *own_der;
	struct svid_cert *own;
	size_t n_own;
	struct tls_held held;		/* tls_ctx_check_held()'s verdict */
	/* A public server context that presents, by the server name its
	 * client asks for, one of these contexts' certificates
	 * (tls_ctx_sni_add()): the patterns owned, the contexts
	 * referenced; @sni_rank ranks a name against a pattern. */
	struct tls_sni *sni;
	size_t n_sni;
	tls_sni_rank_fn sni_rank;
	bool sni_alt;			/* a choice has a second certificate:
					 * sessions keep their ClientHello
					 * for tls_sni_pick() */
};

/* ---- tls_trust.c --------------------------------------------------------- */

/* Loads every CA of @t into @wctx.  Returns 0 or -EINVAL. */
int tls_trust_load(const struct tls_trust *t, WOLFSSL_CTX *wctx);

/* Checks that the peer chain @v (@nv certificates, leaf first), whose
 * leaf names @spiffe, leads to a CA of @spiffe's trust domain in @t.
 * Returns NULL or why not (static or in @buf, @n bytes). */
const char *tls_trust_verify(const struct tls_trust *t, const char *spiffe,
			     const struct svid_cert *v, size_t nv, char *buf,
			     size_t n);

/* Verifies chain @v (@n, leaf first) to any CA of @t, as wolfSSL's
 * handshake does with a context's store (every CA of its trust):
 * signatures and dates, the intermediates from the top.  Returns 0 or
 * wolfSSL's error (ASN_AFTER_DATE_E, ASN_NO_SIGNER_E, ...). */
int tls_trust_chain(const struct tls_trust *t, const struct svid_cert *v,
		    size_t n);

/* One direction of the record layer after the handshake. */
struct tls_dir {
	union {
		Aes aes;	/* AES-GCM: the expanded key */
		uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE];
	} k;
	uint8_t iv[TLS_NONCE_LEN];	/* per-direction static IV */
	/* application_traffic_secret_N of the key: the handshake's
	 * (tls_cb_expand_label()), then each KeyUpdate's */
	uint8_t secret[TLS_SECRET_LEN];
	uint64_t seq;			/* next record's sequence number */
	uint64_t blocks;		/* AES-GCM: q + s of the key (above) */
	bool spent;			/* sequence number 2^64 - 1 used */
};

struct tls_rec {
	int cipher;			/* wolfssl_aes_gcm or wolfssl_chacha */
	int klen;			/* bytes of a key */
	/* The writer updates its key before a record takes wr.blocks past
	 * this: TLS_GCM_KEY_BLOCKS with AES-GCM, UINT64_MAX (never) with
	 * ChaCha20-Poly1305.  A field, not the constant, so that tests can
	 * reach it in a few records. */
	uint64_t key_blocks;
	struct tls_dir rd, wr;
};

struct tls_sess {
	WOLFSSL *ssl;		/* until the handshake completes */
	struct tls_ctx *ctx;
	struct bufq_in in;	/* ciphertext received; after the handshake
				 * its first plain_left bytes may be plaintext
				 * decrypted in place, followed by plain_skip
				 * bytes of that record to drop (inner type,
				 * padding, tag) */
	struct bufq_out out;	/* ciphertext to send */
	size_t rec_left;	/* handshake: bytes of the current record not
				 * yet handed to wolfSSL */
	size_t plain_left;	/* see in */
	size_t plain_skip;
	bool hs_done;
	bool peer_closed;	/* peer's close_notify seen */
	bool sent_close;	/* our close_notify queued */
	bool failed;		/* fatal error: the session is unusable */
	bool revoked;		/* ... refused in the handshake as revoked
				 * (reason recorded) */
	bool keys;		/* rec holds set-up keys (free them) */
	bool update_owed;	/* the peer asked for a KeyUpdate: ours goes
				 * before our next record */
	int peer_rc;		/* result of the SPIFFE ID extraction */
	unsigned char svid_rule;	/* enum svid_rule the peer's chain
					 * broke; SVID_OK: none seen */
	/* For logs after the WOLFSSL is gone; wolfSSL's static strings. */
	const char *version_name, *cipher_name, *group_name;
	char *err;		/* why it failed; NULL until then.  Owned */
	/* Origin sessions (tls_sess_new_origin()): the names the server's
	 * certificate must have, each a type byte (enum tls_name_type)
	 * then the name and its NUL, one after the other; NULL: none.
	 * Owned */
	char *names;
	size_t names_len;
	char *sni;		/* the server name a client asked a public
				 * server for (tls_sni()); NULL: none.
				 * Owned */
	/* A public server session whose context has certificates of two
	 * key types for a name: the first record the client sent (its
	 * ClientHello), up to TLS_KEEP_HELLO bytes, until the name is
	 * picked.  Owned */
	uint8_t *hello;
	size_t hello_len;
	bool hello_whole;	/* the first record is all in (or cut) */
	struct tls_rec rec;	/* keys, valid once hs_done */
	char peer_id[MF_SPIFFE_MAX];	/* when peer_rc == 0 */
};

/* ---- tls.c --------------------------------------------------------------- */

/* Fails @s: records why (the first reason wins, later ones are fallout)
 * and marks it unusable. */
void tls_failf(struct tls_sess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* wolfSSL's callbacks: I/O over the session's queues, for the handshake,
 * and HKDF-Expand-Label, which keeps the application traffic secrets of
 * the session whose handshake runs.  tls_ctx_new() installs them, tests
 * on contexts of their own making. */
int tls_cb_recv(WOLFSSL *ssl, char *buf, int sz, void *arg);
int tls_cb_send(WOLFSSL *ssl, char *buf, int sz, void *arg);
int tls_cb_expand_label(byte *okm, word32 okm_len, const byte *prk,
			word32 prk_len, const byte *protocol,
			word32 protocol_len, const byte *label,
			word32 label_len, const byte *info, word32 info_len,
			int digest, int side);

/* ---- tls_record.c -------------------------------------------------------- */

/* HKDF-Expand-Label of TLS 1.3 (RFC 8446 7.1) over SHA-256: @n bytes
 * into @out from @secret (TLS_SECRET_LEN bytes), @label without its
 * "tls13 " and @ctx (@ctx_len bytes).  Returns 0 or -EIO. */
int tls_expand_label(uint8_t *out, size_t n, const uint8_t *secret,
		     const char *label, const uint8_t *ctx, size_t ctx_len);

/* Sets up @r for @cipher (wolfssl_aes_gcm or wolfssl_chacha) from the
 * traffic secrets the handshake left in r->rd.secret and r->wr.secret,
 * and the next sequence numbers of reading and writing.  The @klen-byte
 * keys and the IVs they give must be those wolfSSL derived (@rkey, @riv,
 * @wkey, @wiv): that is how we know the secrets are the right ones.
 * Returns 0, -EPROTO when they are not, -EIO; nothing to free on
 * failure. */
int tls_rec_keys(struct tls_rec *r, int cipher, int klen,
		 const uint8_t *rkey, const uint8_t *riv, uint64_t rseq,
		 const uint8_t *wkey, const uint8_t *wiv, uint64_t wseq);
/* Frees what tls_rec_keys() set up, when @keys, and wipes @r. */
void tls_rec_free(struct tls_rec *r, bool keys);

/* tls_read(), tls_write() and tls_close_notify() once the handshake is
 * done, on a session that has not failed (nor, for writes, closed). */
ssize_t tls_rec_read(struct tls_sess *s, void *buf, size_t n);
ssize_t tls_rec_write(struct tls_sess *s, const void *buf, size_t n);
int tls_rec_close(struct tls_sess *s);

/* certificate_revoked (RFC 8446 6.2), what tls_rec_alert() tells a
 * peer whose certificate is on the revocation list. */
#define TLS_AD_CERTIFICATE_REVOKED	44

/* Queues the fatal alert @desc, sealed with the traffic key the session
 * took over from the handshake (tls_handoff()), for a refusal found once
 * wolfSSL had finished: wolfSSL 5.5.4 sends certificate_revoked only for
 * a CRL of its own certificate manager (CRL_CERT_REVOKED), never for a
 * verify callback's refusal (that is bad_certificate).  Best effort: the
 * session is lost anyway.  Returns 0 or -errno. */
int tls_rec_alert(struct tls_sess *s, uint8_t desc);

/* Queues a KeyUpdate (RFC 8446 4.6.3) and moves writing to the next key;
 * with @request the peer is asked to update its own.  The record layer
 * does this by itself when a key reaches its limits (above) and when the
 * peer asks; tests do it at will.  Returns 0 or -errno (the session has
 * failed then). */
int tls_rec_update(struct tls_sess *s, bool request);

#endif /* MF_TLS_INT_H */
