/* SPDX-License-Identifier: Apache-2.0 */
/*
 * otlp: what the agent sends an OpenTelemetry collector, in OpenTelemetry's
 * protocol (OTLP): requests packed by libprotobuf-c from the messages
 * protoc-c makes of proto/ (otlp_logs.h for MeshAccessLog's records,
 * tspan.h for MeshTrace's spans, otlp_metrics.h for MeshMetric's), sent
 * by the writer thread (telw.h) to a collector (collector.h) over gRPC
 * (the signal's service's Export) or OTLP/HTTP (a POST to the signal's
 * path).  Here: where a collector takes
 * a signal, and strings as OTLP wants them, valid UTF-8.
 */
#ifndef MF_AGENT_OTLP_H
#define MF_AGENT_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#include "collector.h"

/* An OTLP signal: where its Export is, over each protocol, and which of
 * the per-signal OTEL_EXPORTER_OTLP_<SIGNAL>_* variables are its. */
struct otlp_signal {
	const char *grpc_path;		/* its service's Export */
	const char *http_path;		/* OTLP/HTTP's, after a base path */
	const char *name;		/* "logs", "traces", "metrics" */
	unsigned env;			/* its otlp_env.signal[] */
};

extern const struct otlp_signal otlp_logs_signal, otlp_traces_signal,
	otlp_metrics_signal;

/* A collector's port when its address names none. */
#define OTLP_GRPC_PORT		4317
#define OTLP_HTTP_PORT		4318

struct mf_otel_backend;

/* The URL of signal @sig at collector endpoint @ep ("host[:port]", an
 * IPv6 address in brackets; OTLP_GRPC_PORT when it names none), which
 * speaks gRPC, into @url (@cap bytes).  Returns COLLECTOR_GRPC. */
enum collector_proto otlp_endpoint_url(const char *ep,
				       const struct otlp_signal *sig,
				       char *url, size_t cap);

/*
 * The OpenTelemetry exporter variables the agent was started with, as
 * the OpenTelemetry SDKs read them: the shared OTEL_EXPORTER_OTLP_<VAR>
 * and each signal's OTEL_EXPORTER_OTLP_<SIGNAL>_<VAR>, for each of
 * ENDPOINT, PROTOCOL, HEADERS, TIMEOUT, COMPRESSION, INSECURE,
 * CERTIFICATE, CLIENT_CERTIFICATE and CLIENT_KEY.  A value is trimmed of
 * blanks; "" is one not set (so is an empty one).  A
 * MeshOpenTelemetryBackend's `env` says whether and how they take part in
 * where its collector is and how it is sent to (otlp_backend_url()).
 */
#define OTLP_SIGNALS		3	/* logs, traces, metrics */
#define OTLP_ENV_MAX		256
#define OTLP_HEADERS_MAX	2048

struct otlp_env_layer {
	char endpoint[OTLP_ENV_MAX];	/* URL or host[:port] */
	char protocol[OTLP_ENV_MAX];	/* grpc, http/protobuf */
	char headers[OTLP_HEADERS_MAX];	/* name=value,...: values
					 * percent-encoded */
	char timeout[OTLP_ENV_MAX];	/* ms */
	char compression[OTLP_ENV_MAX];	/* gzip, none */
	char insecure[OTLP_ENV_MAX];	/* true: no TLS when the endpoint
					 * names no scheme */
	char certificate[OTLP_ENV_MAX];	/* PEM CA file */
	char client_certificate[OTLP_ENV_MAX];	/* PEM, with its */
	char client_key[OTLP_ENV_MAX];	/* key: mutual TLS */
};

struct otlp_env {
	struct otlp_env_layer shared;
	struct otlp_env_layer signal[OTLP_SIGNALS];
};

/* The agent's own, read once at start (otlp_env_read(), by main). */
extern struct otlp_env otlp_agent_env;

/* @e from the variables @get (getenv, or a test's) returns: NULL for
 * one not set.  A value too long for its room is kept as a bad one
 * ("\x01"), so that a Required backend refuses it. */
void otlp_env_read(struct otlp_env *e, char *(*get)(const char *name));

/*
 * The URL of signal @sig at MeshOpenTelemetryBackend @ob into @url (@cap
 * bytes) and how it speaks in *@proto: COLLECTOR_GRPC, or with protocol
 * http (OTLP/HTTP) COLLECTOR_PROTOBUF, as Kuma resolves a backend with
 * the exporter variables @e (its `env`; when left out mode Optional,
 * precedence EnvFirst, allowSignalOverrides true):
 *   - mode Disabled: the variables take no part;
 *   - Optional, Required: each of protocol, endpoint and TLS is taken
 *     from the last of the sources that gives it, lowest first: with
 *     EnvFirst the backend's, then the shared variables, then the
 *     signal's; with ExplicitFirst the shared, the signal's, then the
 *     backend's (whose protocol always wins, grpc when left out, and whose
 *     address, when it has one, comes without TLS); the other settings
 *     (headers, timeout, compression, certificates), which the backend
 *     does not give, from the last variable layer that sets them;
 *   - allowSignalOverrides false: the signal's variables are ignored;
 *   - Required: some variable for the signal must be set, and none of
 *     them badly, else the backend sends nothing of the signal.
 * An endpoint variable is a URL (http[s]://host[:port][/path]; a path only
 * for OTLP/HTTP, where a signal's own is the whole path and the shared
 * one's is a base for /v1/<signal>) or host[:port].  A source's TLS is its
 * URL's scheme (https: TLS), else its INSECURE (false: TLS); none says:
 * none.  A port left out is the protocol's (OTLP_GRPC_PORT,
 * OTLP_HTTP_PORT).  Bad values: HEADERS not name=value members (a name
 * an HTTP token, not one the exporter sets itself, the value without
 * control bytes once percent-decoded; blank members are let be), TIMEOUT
 * not a whole number of ms above 0, COMPRESSION not gzip or none
 * (either case), INSECURE not true or false, CLIENT_CERTIFICATE without
 * CLIENT_KEY or the other way round; under Optional each is ignored.
 * When the variable layers in force set any of the other settings, the
 * URL ends in a fragment that names them, "#env=shared" or
 * "#env=shared,<signal>", which otlp_target_opts() reads back (a
 * fragment is never sent).
 * Returns 0; -ENOENT when no source names an address; -ENODATA when mode
 * Required finds the variables missing or bad; -ENAMETOOLONG when the URL
 * does not fit in @cap bytes.
 */
int otlp_env_url(const struct mf_otel_backend *ob, const struct otlp_env *e,
		 const struct otlp_signal *sig, char *url, size_t cap,
		 enum collector_proto *proto);

/* otlp_env_url() with the agent's variables; the first -ENODATA of each
 * signal is said in the log (the variables do not change). */
int otlp_backend_url(const struct mf_otel_backend *ob,
		     const struct otlp_signal *sig, char *url, size_t cap,
		     enum collector_proto *proto);

/* A collector's options as the exporter variables set them. */
struct otlp_export {
	struct collector_opts opts;	/* its strings in here or the
					 * variables' */
	char headers[2 * OTLP_HEADERS_MAX];	/* "Name: value\n" lines */
};

/* The options of signal @sig's collector at @target (otlp_env_url()'s
 * URL) from the variables @e, into @x: those of the layers its fragment
 * names, the last that sets one winning, bad values left out; none
 * without a fragment.  Returns &x->opts. */
const struct collector_opts *otlp_env_opts(const struct otlp_env *e,
					   const char *target,
					   const struct otlp_signal *sig,
					   struct otlp_export *x);

/* otlp_env_opts() with the agent's variables. */
const struct collector_opts *otlp_target_opts(const char *target,
					      const struct otlp_signal *sig,
					      struct otlp_export *x);

/* @s (NULL: "") into @b at *@at (@cap bytes in all), NUL-terminated, *@at
 * past it, as valid UTF-8: a byte that does not start or continue a
 * well-formed sequence is written '?'.  False when it does not fit. */
bool otlp_put_str(char *b, size_t cap, size_t *at, const char *s);

#endif /* MF_AGENT_OTLP_H */
