/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Mutual TLS 1.3 between agents, over memory: nothing here touches a socket.
 * The event loop feeds in received ciphertext and drains an output queue
 * with io_uring.  wolfSSL runs the handshake (tls.c); after it,
 * tls_record.c runs the record layer and the session keeps about 3 KB.
 * Keys are updated (KeyUpdate) as the peer asks and before they reach
 * their limits, so a session lasts as long as the connection.
 *
 * Profile: TLS 1.3 only, ECDSA P-256 certificates, X25519 key exchange,
 * TLS_AES_128_GCM_SHA256 or TLS_CHACHA20_POLY1305_SHA256, peer certificate
 * required on both sides and verified to the mesh CA, and held to the
 * X.509-SVID rules (lib/svid.h): the leaf as a client's or a server's,
 * the signing certificates the peer sent as CAs.  The mesh's MeshTLS may
 * let TLS 1.2 in (struct tls_profile): its sessions keep wolfSSL's record
 * layer and its memory (about 80 KB each), where a TLS 1.3 session hands
 * over to ours.
 */
#ifndef MF_TLS_H
#define MF_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "meshforge/abi.h"

struct tls_ctx;		/* one identity (cert + key) + the CA, client or server */
struct tls_sess;	/* one TLS connection */
struct tls_trust;	/* which CAs vouch for which trust domains */

enum tls_role {
	TLS_ROLE_CLIENT = 1,
	TLS_ROLE_SERVER = 2,
};

/* Once per process.  Returns 0 or -errno. */
int tls_global_init(void);
void tls_global_fini(void);

/*
 * Trust anchors by trust domain (tls_trust.c).  A peer's chain must lead
 * to a CA of its own SPIFFE ID's trust domain: a CA trusted for another
 * domain does not vouch for it.  The mesh CA is the mesh trust domain's;
 * MeshTrust adds CAs to a domain (the mesh's own: a CA rollover), which
 * is why one domain may have several.  Built once, then shared read-only
 * and reference-counted: contexts keep the trust they were made with.
 */
/* An empty trust.  Returns 0 or -ENOMEM. */
int tls_trust_new(struct tls_trust **out);
/* Adds the PEM CERTIFICATE blocks of @pem (@len bytes) as CAs of trust
 * domain @td ("": of every domain).  Only before the trust is shared.
 * Returns 0, -EINVAL (no certificate wolfSSL takes as a CA), -ENOMEM. */
int tls_trust_add_pem(struct tls_trust *t, const char *td, const char *pem,
		      size_t len);
/* The same from file @path: -ENOENT when it cannot be read. */
int tls_trust_add_file(struct tls_trust *t, const char *td, const char *path);
/* The mesh CA's revocation list (crl.h) that verifying under @t checks:
 * a peer certificate it lists is refused.  Takes a reference to @crl
 * (NULL: none), drops the one it had.  Only before the trust is shared. */
struct crl;
void tls_trust_set_crl(struct tls_trust *t, struct crl *crl);
/* The next CERTIFICATE block of the PEM text from *@p to @end, as DER
 * into @der (@cap bytes; the PEM's length is always enough): returns its
 * length and moves *@p past the block's BEGIN line; 0 when no block is
 * left; -EBADMSG for one that does not decode (go on with the next). */
int tls_pem_cert_next(const char **p, const char *end, uint8_t *der,
		      size_t cap);
const struct crl *tls_trust_crl(const struct tls_trust *t);
struct tls_trust *tls_trust_get(struct tls_trust *t);	/* +1 reference */
void tls_trust_put(struct tls_trust *t);		/* -1; frees at 0 */

/* Loads @ca_file, @cert_file and @key_file (PEM): @ca_file's CAs vouch
 * for every trust domain.  Returns 0 and *out (one reference, the
 * caller's: tls_ctx_put), or -errno. */
int tls_ctx_new(struct tls_ctx **out, enum tls_role role, const char *ca_file,
		const char *cert_file, const char *key_file);
/* The same with the CAs of @trust, which the context references. */
int tls_ctx_new_trust(struct tls_ctx **out, enum tls_role role,
		      struct tls_trust *trust, const char *cert_file,
		      const char *key_file);
/*
 * The versions and suites mesh contexts speak (mf_config.tls, from the
 * mesh's MeshTLS): versions @min_version..@max_version (0x0303 TLS 1.2,
 * 0x0304 TLS 1.3; 0: TLS 1.3); @ciphers12, TLS 1.2's suites by wolfSSL's
 * names, ':' between them, in order of preference ("": ECDHE-ECDSA with
 * AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM).  TLS 1.3's suites stay
 * the agents' own.
 */
struct tls_profile {
	int min_version, max_version;
	char ciphers12[256];
};

/* The same from memory: certificate chain @crt (@crt_len bytes of PEM) and
 * private key @key, which the context copies.  For a reader that must
 * take a certificate and its key from one place at one time (certdir.h).
 * Returns 0 and *out, -EINVAL (either does not parse, or the key is not
 * the certificate's, or no such role), -ENOENT (the trust does not load),
 * -ENOMEM. */
int tls_ctx_new_pem(struct tls_ctx **out, enum tls_role role,
		    struct tls_trust *trust, const char *crt, size_t crt_len,
		    const char *key, size_t key_len);
/* The same, speaking profile @prof (NULL: the default, TLS 1.3 only).
 * Also -EINVAL for a profile wolfSSL does not take (a version or suite
 * it lacks). */
int tls_ctx_new_mesh(struct tls_ctx **out, enum tls_role role,
		     struct tls_trust *trust, const char *crt, size_t crt_len,
		     const char *key, size_t key_len,
		     const struct tls_profile *prof);
/* A server context for clients from outside the mesh (an ingress
 * gateway's listener): the certificate chain and its private key from PEM
 * file @pem_file (both in one file, as Kuma's gateway secrets hold them),
 * RSA or ECDSA; TLS 1.3, no client certificate asked for, and the server
 * name the client sends kept (tls_sni()).  Returns 0 and *out (one
 * reference), -ENOENT (no such file, or no certificate or key in it),
 * -EINVAL (the key is not the certificate's), -ENOMEM. */
int tls_ctx_new_public(struct tls_ctx **out, const char *pem_file);
/* The same with the chain and the key in files of their own (the key
 * file may be the chain's). */
int tls_ctx_new_public_pair(struct tls_ctx **out, const char *cert_file,
			    const char *key_file);

/* The largest first record a client sends (a ClientHello): a TLS
 * record's header and its longest plaintext. */
#define TLS_HELLO_MAX	(5u + 16384u)

/*
 * The server name (SNI) in the ClientHello that starts @p (@n bytes of
 * what a client sent, its first record), into @buf (@size bytes, NUL
 * terminated), without a session: for a server that decides by it what to
 * do with the connection before any TLS.  Returns 1 (a name), 0 (none
 * sent), -EAGAIN (the record is not whole yet), -ENAMETOOLONG (a name
 * longer than @size - 2 bytes), -EILSEQ (an empty name, or one with a
 * NUL), -EPROTO (not a TLS ClientHello).
 */
int tls_hello_sni(const void *p, size_t n, char *buf, size_t size);

/* Key types a certificate may have, as bits. */
#define TLS_SIG_ECDSA	1u
#define TLS_SIG_RSA	2u

/*
 * The key types whose signatures the client that sent ClientHello @p (@n
 * bytes, its first record from the header on) takes, by its
 * signature_algorithms: TLS_SIG_* bits; 0 when the bytes say none (no
 * such extension, cut, or not a ClientHello).
 */
unsigned int tls_hello_sigalgs(const void *p, size_t n);

/*
 * Several certificates on one public server context, picked by the server
 * name (SNI) each client asks for: the handshake of a session of @front
 * presents the certificate of the context added with the pattern that
 * @rank ranks highest against that name ("" when the client sent none;
 * rank 0: no match).  A client whose name no pattern matches is refused
 * with an unrecognized_name alert.  Adds @ctx (a public context, which
 * @front references from now on) under @pattern (copied); the contexts
 * are picked among in the order added when ranks tie.  @alt (NULL: none)
 * is a second one for the same pattern, whose certificate has a key of
 * another type (RSA beside ECDSA): @ctx's is presented unless the
 * client's signature_algorithms take only @alt's key type (Envoy's rule:
 * the first certificate the client can verify).  Only before @front is
 * shared.  Returns 0 or -ENOMEM.
 */
typedef unsigned int (*tls_sni_rank_fn)(const char *pattern, const char *name,
					size_t n);
int tls_ctx_sni_add(struct tls_ctx *front, tls_sni_rank_fn rank,
		    const char *pattern, struct tls_ctx *ctx,
		    struct tls_ctx *alt);

/*
 * A client context for TLS to a server outside the mesh (a
 * MeshExternalService's endpoint): TLS 1.2 or 1.3 (or as @o bounds
 * them), any of wolfSSL's suites, wolfSSL's own record layer after the
 * handshake.  The chain is verified to @o->ca_pem's CAs (NULL: the
 * system's bundle) unless @o->skip_ca; a client certificate is sent when
 * @o->crt and @o->key are given.  Returns 0 and *out (one reference),
 * -EINVAL (a PEM that does not parse, a key not the certificate's, a
 * version wolfSSL lacks), -ENOENT (no system bundle), -ENOMEM.
 */
struct tls_origin {
	const char *ca_pem;		/* NULL: the system's CAs */
	size_t ca_len;
	bool skip_ca;			/* no chain verification at all */
	const char *crt, *key;		/* PEM; NULL: no client certificate */
	size_t crt_len, key_len;
	int min_version, max_version;	/* 0x0301..0x0304; 0: 1.2 and 1.3 */
};
int tls_ctx_new_origin(struct tls_ctx **out, const struct tls_origin *o);

/* A name the server's certificate must have (tls_sess_new_origin()). */
enum tls_name_type {
	TLS_NAME_EXACT = 1,		/* a DNS SAN (or CN) matching it,
					 * wildcards as RFC 6125 reads them */
	TLS_NAME_PREFIX,		/* a DNS SAN starting with it */
	TLS_NAME_IP,			/* an IP address SAN */
};

struct tls_name {
	enum tls_name_type type;
	const char *value;
};

/*
 * A session of origin context @ctx: it asks for server name @sni (NULL:
 * none, as for an address), and its handshake fails with -EACCES unless
 * the server's certificate has one of @names (@n; 0: any name).
 * Returns 0 or -ENOMEM.
 */
int tls_sess_new_origin(struct tls_sess **out, struct tls_ctx *ctx,
			const char *sni, const struct tls_name *names,
			size_t n);

/* Client session @s, before its handshake, asks for server name @sni
 * (NULL or "": none).  Returns 0, -EINVAL (not a client session, or
 * begun), -ENOMEM. */
int tls_sess_use_sni(struct tls_sess *s, const char *sni);

/* Whether the peer's TCP EOF ends its stream as a close_notify would:
 * true for an origin session (servers outside the mesh often close
 * without one, and what they send is framed by its own protocol, as HTTP
 * by its lengths); false between agents, where it is a truncation. */
bool tls_eof_is_end(const struct tls_sess *s);

/* References: a session holds one on its context (tls_sess_new), so a
 * context outlives the store that made it while sessions use it.  Thread
 * safe. */
struct tls_ctx *tls_ctx_get(struct tls_ctx *ctx);
void tls_ctx_put(struct tls_ctx *ctx);

/* The validity of @ctx's own certificate, in seconds since the epoch.
 * Returns 0, -ENOENT (none) or -EINVAL. */
int tls_ctx_validity(struct tls_ctx *ctx, int64_t *not_before,
		     int64_t *not_after);

/* The SPIFFE ID in @ctx's own certificate (our identity), same returns as
 * tls_peer_spiffe().  For logs and for checking a loaded certificate. */
int tls_ctx_spiffe(struct tls_ctx *ctx, char *buf, size_t n);

/* The X.509-SVID rule (enum svid_rule, lib/svid.h) @ctx's own leaf
 * certificate breaks as its role's (a client's or a server's): what
 * peers refuse it for; 0 (SVID_OK) when none. */
int tls_ctx_svid_rule(struct tls_ctx *ctx);

/*
 * Judges @held's own certificate chain (the leaf and what was loaded with
 * it) as the handshake of @judge, a mesh context, judges the chain a peer
 * sends, with the same code: wolfSSL's verification to a CA of @judge's
 * trust with the dates, the X.509-SVID rules as the peer's role's, a CA of
 * the leaf's own trust domain, and the trust's revocation list.  For a
 * certificate this agent holds and would present, where no handshake
 * happens (a pod of this node to another).  The verdict is kept in @held
 * until @judge's trust is another or the time crosses one of the chain's
 * dates, so a check costs a lock and a compare.  Returns 0, -EACCES or
 * -EKEYREVOKED (tls_handshake()'s refusals) with the reason into @why (@n
 * bytes) as tls_last_error() gives it after "handshake: ", and the rule
 * broken (SVID_OK: none) in *rule; -EINVAL when @judge has no trust.
 */
int tls_ctx_check_held(struct tls_ctx *judge, struct tls_ctx *held,
		       char *why, size_t n, int *rule);

/* A session on @ctx (which must outlive it).  Returns 0 or -errno. */
int tls_sess_new(struct tls_sess **out, struct tls_ctx *ctx);
void tls_sess_free(struct tls_sess *s);

/* Hands @n bytes of received ciphertext to the session (copied).
 * Returns 0 or -ENOBUFS when the session's input queue is full. */
int tls_feed(struct tls_sess *s, const void *cipher, size_t n);
/* How many bytes tls_feed() accepts right now (the input queue holds at most
 * 256 KiB; tls_read() and tls_handshake() drain it). */
size_t tls_in_space(const struct tls_sess *s);

/* Ciphertext waiting to go out: sets *p and returns its length (0: none).
 * The bytes at *p never move: the pointer stays valid, e.g. for an
 * io_uring send in flight, until tls_out_consume() covers them or the
 * session is freed, whatever else is called meanwhile.  There may be more
 * pending after these: call again after consuming. */
size_t tls_out_pending(struct tls_sess *s, const void **p);
/* Marks @n bytes of that ciphertext as sent. */
void tls_out_consume(struct tls_sess *s, size_t n);

/* Drives the handshake.  Returns 0 when complete, -EAGAIN when it needs more
 * input (send tls_out_pending() first), other -errno on failure (the reason
 * is in tls_last_error()): -EACCES when a certificate was refused,
 * -EKEYREVOKED when the peer's is on the trust's revocation list, -EPROTO
 * otherwise.  After a failure the output queue may hold an alert for the
 * peer: sending it before closing tells the peer why.  A TLS 1.3 client
 * completes before the server has checked the client's certificate; a
 * refusal then reaches the client as an error from its first tls_read().
 * tls_read(), tls_write() and tls_close_notify() return -ENOTCONN before
 * the handshake completed. */
int tls_handshake(struct tls_sess *s);

/* Decrypts into @buf.  Returns >0 bytes, 0 when the peer sent close_notify,
 * -EAGAIN when more ciphertext is needed, other -errno on failure (-EACCES
 * when the peer's alert says it refused our certificate).
 * Decrypted bytes may stay buffered inside: call until -EAGAIN (or 0).
 * Of @buf, only the bytes returned ever hold plaintext (past them, record
 * framing may be written): a caller that wipes @buf wipes those.
 * Reading may queue records of its own (alerts): send tls_out_pending().
 * Reading still works after our own tls_close_notify() (half-close). */
ssize_t tls_read(struct tls_sess *s, void *buf, size_t n);

/* Encrypts @n bytes into the output queue.  Returns bytes taken (all of them
 * unless the output queue is full: then possibly fewer, or -EAGAIN), or
 * -errno on failure (-EPIPE after tls_close_notify()).  The output queue
 * holds about 256 KiB; drain it and call again with the rest. */
ssize_t tls_write(struct tls_sess *s, const void *buf, size_t n);

/* Queues close_notify (our half-close).  Returns 0 or -errno. */
int tls_close_notify(struct tls_sess *s);

/* The peer's SPIFFE ID (URI SAN of its verified leaf certificate) into @buf.
 * Returns 0, -ENOENT when the certificate has no spiffe:// URI SAN,
 * -EINVAL when it has more than one URI SAN (an X.509-SVID has exactly
 * one), -ENAMETOOLONG when it does not fit, -EBADMSG when the certificate
 * cannot be walked, -ENOTCONN before the handshake completed. */
int tls_peer_spiffe(struct tls_sess *s, char *buf, size_t n);

/* The X.509-SVID rule (enum svid_rule, lib/svid.h) the peer's certificate
 * chain broke when the handshake refused it for that; 0 (SVID_OK) when
 * it broke none or was not looked at. */
int tls_peer_svid_rule(const struct tls_sess *s);

/* The server name (SNI) a client asked a server session for, after the
 * handshake; NULL when it sent none. */
const char *tls_sni(const struct tls_sess *s);

/* A short human-readable reason for the last failure of @s. */
const char *tls_last_error(struct tls_sess *s);

/* The version and suite a handshake agreed, as counted in /metrics. */
enum tls_suite {
	TLS_SUITE_OTHER = 0,		/* any other (origin sessions) */
	TLS_SUITE_13_AES128_GCM,
	TLS_SUITE_13_CHACHA20,
	TLS_SUITE_12_ECDSA_AES128_GCM,
	TLS_SUITE_12_ECDSA_AES256_GCM,
	TLS_SUITE_12_ECDSA_CHACHA20,
	TLS_SUITE_MAX,
};
/* Of session @s, after its handshake. */
enum tls_suite tls_suite_of(struct tls_sess *s);
/* Suite @k's version ("TLSv1.3") and cipher (wolfSSL's name, which for
 * TLS 1.2 is OpenSSL's and MeshTLS's); "other" for TLS_SUITE_OTHER. */
const char *tls_suite_version(enum tls_suite k);
const char *tls_suite_cipher(enum tls_suite k);

/* For logs, after the handshake: "TLSv1.3", the cipher suite name, the key
 * exchange group ("X25519").  Static strings. */
const char *tls_version_name(struct tls_sess *s);
const char *tls_cipher_name(struct tls_sess *s);
const char *tls_group_name(struct tls_sess *s);

#endif /* MF_TLS_H */
