/* SPDX-License-Identifier: Apache-2.0 */
/*
 * passthru: MeshPassthrough's Domain matches, which the agent enforces.
 *
 * Under passthroughMode Matched, the pods' TC program hands the agent a
 * connection to a destination outside the mesh that no IP or CIDR match
 * admits but whose port a Domain match has (mf_config pt_dom_*).  Only a
 * name tells whether it may pass, and only the client's first bytes carry
 * one:
 *   tls    the SNI of its ClientHello (wolfSSL_SNI_GetFromBuffer());
 *   http   the Host of its first HTTP/1.1 request (http1, on llhttp), its
 *          port left out;
 *   http2  the :authority (else the Host) of the first request of a
 *          cleartext HTTP/2 connection with prior knowledge (h2c, gRPC),
 *          its port left out: a server session of libnghttp2 reads the
 *          client preface, SETTINGS and other frames before the request,
 *          its HEADERS and CONTINUATION frames, and inflates the header
 *          block (HPACK).
 * The first bytes say which: a TLS handshake record (22), the HTTP/2
 * client preface ("PRI * HTTP/2.0..."), else HTTP/1.1.  A TLS connection
 * is matched by its SNI alone, whatever it carries (h2 over TLS too), as
 * Kuma's tls filter chains do.
 *
 * The name is then matched as Kuma does against the Domain matches of the
 * MeshPassthrough policies that select the client's workload (targetRef
 * Mesh, MeshSubset by its tags, Dataplane by name or labels; select.h),
 * merged as Kuma merges them: least precedent first, the last
 * passthroughMode written wins, appendMatch lists add up.  A match counts
 * when its port is the connection's (or it has none) and its protocol
 * serves the connection's: tls for a ClientHello; http, http2 and grpc
 * alike for HTTP/1.1 and HTTP/2 (Kuma gives them one HTTP listener whose
 * codec reads both).  A value matches itself, case-insensitively, and
 * "*.example.com" any name of one or more labels before ".example.com"
 * (not example.com itself).
 *
 * The first bytes must carry the name within PASSTHRU_ROOM (16 KiB), or
 * PASSTHRU_H2_ROOM (64 KiB) for HTTP/2, whose header block may be large
 * (passthru_first()); past that the connection is refused.
 *
 * Everything here is pure: the flow (tunnel.c) reads the bytes, keeps
 * them for the relay, and connects or resets.
 */
#ifndef MF_AGENT_PASSTHRU_H
#define MF_AGENT_PASSTHRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mf_endpoint;
struct policy;

/* A name's room, NUL included: a DNS name has at most 253 characters. */
#define PASSTHRU_NAME_MAX	256

/*
 * The name the client asks for in the first @n bytes it sent, @p: into
 * @name (PASSTHRU_NAME_MAX bytes, lowercased, NUL-terminated), and which
 * protocol carried it into *@proto (MF_PASSTHROUGH_TLS, _HTTP or _HTTP2);
 * the port a Host or :authority named into *@port (0: none; @port may be
 * NULL).  Returns the name's length (>0); 0 when more bytes are needed; -EPROTO
 * when the bytes are neither a ClientHello, nor an HTTP/1.1 request head,
 * nor an HTTP/2 client preface and request (or break it), or the name has
 * a byte no DNS name has (letters, digits, '-', '.', '_': an IP literal
 * in brackets is none); -ENOENT when they carry no name (a ClientHello
 * without SNI, a request without Host or :authority); -ENAMETOOLONG;
 * -ENOMEM.  On an error, *@why says what in a few words.
 */
int passthru_name(const uint8_t *p, size_t n, uint8_t *proto,
		  char name[PASSTHRU_NAME_MAX], uint16_t *port,
		  const char **why);

/* The room a connection's first bytes have to carry a name: TLS and
 * HTTP/1.1 that of the buffer they are read into (the agent's pooled one);
 * HTTP/2 more, only for a connection that needs it: 64 KiB, room for a
 * request with the 60 KiB of headers Envoy takes by default
 * (max_request_headers_kb), its frames and the preface. */
#define PASSTHRU_ROOM		(16 * 1024)
#define PASSTHRU_H2_ROOM	(64 * 1024)

/*
 * passthru_name() of the @fill bytes a connection sent first, @p, read
 * into a buffer of @cap bytes (PASSTHRU_ROOM, or PASSTHRU_H2_ROOM once
 * grown).  Returns what it does, but when it needs more bytes and the
 * buffer is full: 0 with *@grow = PASSTHRU_H2_ROOM for HTTP/2 in a smaller
 * buffer (the caller moves the bytes into one that large and reads on),
 * else -EMSGSIZE (*@why: the room).  *@grow is 0 otherwise.
 */
int passthru_first(const uint8_t *p, size_t fill, size_t cap,
		   uint8_t *proto, char name[PASSTHRU_NAME_MAX],
		   uint16_t *port, size_t *grow, const char **why);

/* Whether Domain match value @pattern admits @name (lowercase), Kuma's
 * way (see the top of this file). */
bool passthru_domain_match(const char *pattern, const char *name);

/* The passthroughMode in force for workload @src (NULL: none) in snapshot
 * @p, merged as above; 0 when no MeshPassthrough sets one (or out of
 * memory). */
uint8_t passthru_mode(const struct policy *p, const struct mf_endpoint *src);

/*
 * Whether the MeshPassthrough of snapshot @p for the workload @src (NULL:
 * none, only the policies that target the whole Mesh select it) admits a
 * connection to port @port whose client asked for @name over @proto: the
 * mode is Matched and a Domain match serving that protocol, with that
 * port (or none) and a value that matches @name is there, and the port
 * the client's Host or :authority named, @host_port (0: none), is one
 * Kuma's virtual hosts take for that match (passthru_port_ok()).  When it
 * does not, *@why says why (static).
 */
bool passthru_admit(const struct policy *p, const struct mf_endpoint *src,
		    uint16_t port, uint8_t proto, const char *name,
		    uint16_t host_port, const char **why);

#endif /* MF_AGENT_PASSTHRU_H */
