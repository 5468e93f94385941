/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A server certificate and key that an operator gives the agent by path
 * (--metrics-tls-cert and --metrics-tls-key), read again when they
 * change: a certificate renewed on disk (cert-manager, certbot, a
 * Kubernetes Secret's symlink swap) reaches new handshakes with no
 * restart, and sessions already open keep the context they began with.
 *
 * A change is seen by stat()ing both files at each tick (tlsfile_
 * changed()): they may live anywhere, one directory or two, and a tick
 * per second costs two syscalls.  A pair that does not load (the key
 * written after the certificate, a file half copied) leaves the last good
 * context in force and is tried again at the files' next change or at
 * SIGHUP, so it is said once per change, never once per connection.
 *
 * One thread uses a tlsfile (the loop of the admin endpoint).
 */
#ifndef MF_TLSFILE_H
#define MF_TLSFILE_H

#include <stdbool.h>

struct tls_ctx;
struct tlsfile;

/* Reads @cert (the chain, PEM) and @key (its private key, PEM; may be the
 * same file) into a server context as tls_ctx_new_public_pair() does.
 * Both paths are copied.  Returns 0 and *out (the caller's,
 * tlsfile_close()), -ENOENT (a file missing, or no certificate or key in
 * it), -EINVAL (the key is not the certificate's), -ENOMEM. */
int tlsfile_open(struct tlsfile **out, const char *cert, const char *key);

/* The context in force (borrowed: a session takes its own reference). */
struct tls_ctx *tlsfile_ctx(const struct tlsfile *f);

/* Whether either file changed (another inode, size or modification
 * time) since it was last read or looked at. */
bool tlsfile_changed(struct tlsfile *f);

/* Reads both files again.  On success the new context is in force;
 * otherwise the old one stays, and the failure is logged.  Returns 0 or
 * the -errno of tlsfile_open(). */
int tlsfile_reload(struct tlsfile *f);

/* How many reloads put a new context in force, and how many failed. */
unsigned long tlsfile_reloads(const struct tlsfile *f);
unsigned long tlsfile_failures(const struct tlsfile *f);

void tlsfile_close(struct tlsfile *f);

#endif
