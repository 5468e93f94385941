/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: a telemetry collector the agent sends to over HTTP, with
 * libcurl, from the writer thread (telw.h), never a loop.  One request at
 * a time, its body ready, within COLLECTOR_TIMEOUT_MS or the client's own
 * timeout (COLLECTOR_CONNECT_MS at most to connect):
 *
 *   COLLECTOR_GRPC      a unary gRPC call (OTLP's Export) on an HTTP/2
 *                       connection: without TLS for an http URL (h2c with
 *                       prior knowledge, as collectors on :4317 take it),
 *                       over TLS (h2 by ALPN) for an https one; the
 *                       message framed by gRPC; OK only with grpc-status
 *                       0;
 *   COLLECTOR_PROTOBUF  a POST of application/x-protobuf (OTLP/HTTP,
 *                       Zipkin's httpProto), http or https;
 *   COLLECTOR_JSON      a POST of application/json (Zipkin's API, a
 *                       Datadog agent's trace intake), http or https.
 *
 * A proxy the node's environment names is not used: collectors are
 * dialled directly.  A gRPC request goes on a connection of its own:
 * Debian 12's libcurl (7.88) fails the second request on a kept h2c
 * connection ("Error in the HTTP2 framing layer"); a request carries a
 * batch, so the handshake is paid per batch.  The others keep their
 * connection for the next.
 *
 * A client's options (struct collector_opts) add headers to each request
 * (gRPC's metadata), compress the body with gzip (Content-Encoding: gzip;
 * over gRPC grpc-encoding: gzip and the message's compressed flag), and
 * say whom an https collector is checked against and who the agent is to
 * it (a client certificate: mutual TLS).
 */
#ifndef MF_AGENT_COLLECTOR_H
#define MF_AGENT_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLECTOR_TIMEOUT_MS	2000
#define COLLECTOR_CONNECT_MS	1000
/* Room a body leaves before itself, for gRPC's framing of one message (a
 * flag, its length). */
#define COLLECTOR_HEAD		5

enum collector_proto {
	COLLECTOR_GRPC = 1,
	COLLECTOR_PROTOBUF,
	COLLECTOR_JSON,
};

struct collector;

/* How a client sends, beyond its URL and protocol.  Strings are the
 * caller's, read by collector_new() only; NULL or "": not set. */
struct collector_opts {
	/* Header lines "Name: value", each ended by '\n', sent with every
	 * request (the caller has checked them: no CR, no NUL). */
	const char *headers;
	unsigned timeout_ms;		/* 0: COLLECTOR_TIMEOUT_MS */
	bool gzip;			/* the body compressed */
	const char *ca_file;		/* PEM CAs an https collector is
					 * checked against (else the
					 * system's) */
	const char *cert_file;		/* PEM client certificate and its */
	const char *key_file;		/* key, for mutual TLS */
};

/* A client for the collector at @url (a fragment, "#...", is not part of
 * it: left out), speaking @p, with options @o (NULL: none).  Returns 0
 * and *@out, or -ENOMEM. */
int collector_new(struct collector **out, enum collector_proto p,
		  const char *url, const struct collector_opts *o);
void collector_free(struct collector *c);

/*
 * Sends body @buf of @len bytes, its first COLLECTOR_HEAD bytes room for
 * the framing (written here; the body proper follows them).  Returns 0;
 * -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT or -EIO when the collector
 * could not be reached or the exchange failed; -EPROTO when it answered
 * with an error (an HTTP status not 2xx, a gRPC status not OK).
 */
int collector_send(struct collector *c, uint8_t *buf, size_t len);

#endif /* MF_AGENT_COLLECTOR_H */
