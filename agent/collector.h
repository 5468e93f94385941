/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collector: a telemetry collector the agent sends to over HTTP, with
 * libcurl, from the writer thread (telw.h), never a loop.  One request at
 * a time, its body ready, within COLLECTOR_TIMEOUT_MS (COLLECTOR_CONNECT_MS
 * to connect):
 *
 *   COLLECTOR_GRPC      a unary gRPC call (OTLP's Export) on an HTTP/2
 *                       connection without TLS (h2c with prior knowledge,
 *                       as collectors on :4317 take it), the message
 *                       framed by gRPC; OK only with grpc-status 0;
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
 */
#ifndef MF_AGENT_COLLECTOR_H
#define MF_AGENT_COLLECTOR_H

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

/* A client for the collector at @url, speaking @p.  Returns 0 and *@out,
 * or -ENOMEM. */
int collector_new(struct collector **out, enum collector_proto p,
		  const char *url);
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
