/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside a TLS session: what tls.c (wolfSSL's handshake, the hand-over,
 * the API of tls.h) and tls_record.c (the record layer after the
 * hand-over) share, and what their tests look at.  Everyone else uses
 * tls.h.
 */
#ifndef MF_TLS_INT_H
#define MF_TLS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/wolfcrypt/aes.h>
#include <wolfssl/wolfcrypt/chacha20_poly1305.h>

#include "bufq.h"
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
 * Records one traffic key may protect.  RFC 8446 5.5 lets AES-GCM protect
 * 2^24.5 full-size records per key and expects a KeyUpdate before that.
 * This record layer cannot rekey, so a session fails, in either direction,
 * once its key has protected 2^24 records (256 GiB of full records): the
 * connection ends with an error rather than wearing the key out.
 */
#define TLS_KEY_RECORDS_MAX	(1ull << 24)

struct tls_ctx {
	WOLFSSL_CTX *wctx;
	enum tls_role role;
	int refs;			/* atomic */
	struct tls_trust *trust;	/* a reference */
};

/* ---- tls_trust.c --------------------------------------------------------- */

/* Loads every CA of @t into @wctx.  Returns 0 or -EINVAL. */
int tls_trust_load(const struct tls_trust *t, WOLFSSL_CTX *wctx);

/* Checks that the peer chain @chain, whose leaf names @spiffe, leads to a
 * CA of @spiffe's trust domain in @t.  Returns NULL or why not (static or
 * in @buf, @n bytes). */
const char *tls_trust_verify(const struct tls_trust *t, const char *spiffe,
			     WOLFSSL_X509_CHAIN *chain, char *buf, size_t n);

/* One direction of the record layer after the handshake. */
struct tls_dir {
	union {
		Aes aes;	/* AES-GCM: the expanded key */
		uint8_t key[CHACHA20_POLY1305_AEAD_KEYSIZE];
	} k;
	uint8_t iv[TLS_NONCE_LEN];	/* per-direction static IV */
	uint64_t seq;			/* next record's sequence number */
};

struct tls_rec {
	int cipher;			/* wolfssl_aes_gcm or wolfssl_chacha */
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
	bool keys;		/* rec holds set-up keys (free them) */
	int peer_rc;		/* result of the SPIFFE ID extraction */
	/* For logs after the WOLFSSL is gone; wolfSSL's static strings. */
	const char *version_name, *cipher_name, *group_name;
	char *err;		/* why it failed; NULL until then.  Owned */
	char *sni;		/* the server name a client asked a public
				 * server for (tls_sni()); NULL: none.
				 * Owned */
	struct tls_rec rec;	/* keys, valid once hs_done */
	char peer_id[MF_SPIFFE_MAX];	/* when peer_rc == 0 */
};

/* ---- tls.c --------------------------------------------------------------- */

/* Fails @s: records why (the first reason wins, later ones are fallout)
 * and marks it unusable. */
void tls_failf(struct tls_sess *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* wolfSSL's I/O callbacks over the session's queues, for the handshake:
 * tls_ctx_new() installs them, tests on contexts of their own making. */
int tls_cb_recv(WOLFSSL *ssl, char *buf, int sz, void *arg);
int tls_cb_send(WOLFSSL *ssl, char *buf, int sz, void *arg);

/* ---- tls_record.c -------------------------------------------------------- */

/* Sets up @r for @cipher (wolfssl_aes_gcm or wolfssl_chacha): the @klen
 * byte keys, TLS_NONCE_LEN byte IVs and next sequence numbers of reading
 * and writing.  Returns 0, or -EIO with nothing to free. */
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

#endif /* MF_TLS_INT_H */
