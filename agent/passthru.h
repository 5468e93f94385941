/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passthru: MeshPassthrough's Domain matches, which the agent enforces.
 *
 * Under passthroughMode Matched, the pods' TC program hands the agent a
 * connection to a destination outside the mesh that no IP or CIDR match
 * admits but whose port a Domain match has (mf_config pt_dom_*).  Only a
 * name tells whether it may pass, and only the client's first bytes carry
 * one:
 *   tls   the SNI of its ClientHello (wolfSSL_SNI_GetFromBuffer());
 *   http  the Host of its first HTTP/1.1 request (http1, on llhttp), its
 *         port left out.
 * The first byte says which: a TLS handshake record (22), else HTTP.
 * Grpc and http2 Domain matches are not read (the kernel does not steer
 * their ports): their connections are dropped as unmatched.
 *
 * The name is then matched as Kuma does against the Domain matches of the
 * policies that target the whole Mesh (mfctl's merge: every match, in
 * name order) with that protocol and the connection's port (or none):
 * a value matches itself, case-insensitively, and "*.example.com" any name
 * of one or more labels before ".example.com" (not example.com itself).
 *
 * Everything here is pure: the flow (tunnel.c) reads the bytes, keeps
 * them for the relay, and connects or resets.
 */
#ifndef MF_AGENT_PASSTHRU_H
#define MF_AGENT_PASSTHRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct policy;

/* A name's room, NUL included: a DNS name has at most 253 characters. */
#define PASSTHRU_NAME_MAX	256

/*
 * The name the client asks for in the first @n bytes it sent, @p: into
 * @name (PASSTHRU_NAME_MAX bytes, lowercased, NUL-terminated), and which
 * protocol carried it into *@proto (MF_PASSTHROUGH_TLS or _HTTP).
 * Returns the name's length (>0); 0 when more bytes are needed; -EPROTO
 * when the bytes are neither a ClientHello nor an HTTP/1.1 request head
 * (or break it), or the name has a byte no DNS name has (letters, digits,
 * '-', '.', '_': an IP literal in brackets is none); -ENOENT when they
 * carry no name (a ClientHello without SNI); -ENAMETOOLONG.  On an error, *@why says what in a few words.
 */
int passthru_name(const uint8_t *p, size_t n, uint8_t *proto,
		  char name[PASSTHRU_NAME_MAX], const char **why);

/* Whether Domain match value @pattern admits @name (lowercase), Kuma's
 * way (see the top of this file). */
bool passthru_domain_match(const char *pattern, const char *name);

/*
 * Whether the MeshPassthrough of snapshot @p admits a connection to port
 * @port whose client asked for @name over @proto: the mode is Matched and
 * a Domain match with that protocol, that port (or none) and a value that
 * matches @name is there.  When it does not, *@why says why (static).
 */
bool passthru_admit(const struct policy *p, uint16_t port, uint8_t proto,
		    const char *name, const char **why);

#endif /* MF_AGENT_PASSTHRU_H */
