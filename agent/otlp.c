// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP (otlp.h): where a collector takes a signal, and strings as OTLP
 * wants them.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "meshforge/abi.h"
#include "otlp.h"
#include "policy/schema.h"

const struct otlp_signal otlp_logs_signal = {
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
	"/v1/logs", "logs", 0,
};

const struct otlp_signal otlp_traces_signal = {
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"/v1/traces", "traces", 1,
};

const struct otlp_signal otlp_metrics_signal = {
	"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	"/v1/metrics", "metrics", 2,
};

struct otlp_env otlp_agent_env;

/* ---- where ------------------------------------------------------------- */

enum collector_proto otlp_endpoint_url(const char *ep,
				       const struct otlp_signal *sig,
				       char *url, size_t cap)
{
	const char *close = ep[0] == '[' ? strchr(ep, ']') : NULL;
	bool port = close ? close[1] == ':' : strchr(ep, ':') != NULL;

	if (port)
		snprintf(url, cap, "http://%s%s", ep, sig->grpc_path);
	else
		snprintf(url, cap, "http://%s:%u%s", ep, OTLP_GRPC_PORT,
			 sig->grpc_path);
	return COLLECTOR_GRPC;
}

/* ---- where, with the exporter variables ---------------------------------- */

/* A value too long for its room: set, and bad. */
#define OTLP_ENV_BAD		"\x01"

static void otlp_env_get(char *out, char *(*get)(const char *name),
			 const char *name)
{
	const char *v = get(name);
	size_t n;

	out[0] = '\0';
	if (!v)
		return;
	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n'))
		n--;
	if (n >= OTLP_ENV_MAX) {
		strcpy(out, OTLP_ENV_BAD);
		return;
	}
	memcpy(out, v, n);
	out[n] = '\0';
}

void otlp_env_read(struct otlp_env *e, char *(*get)(const char *name))
{
	static const char *const sigs[OTLP_SIGNALS] = { "LOGS", "TRACES",
							"METRICS" };
	char name[64];

	otlp_env_get(e->shared.endpoint, get, "OTEL_EXPORTER_OTLP_ENDPOINT");
	otlp_env_get(e->shared.protocol, get, "OTEL_EXPORTER_OTLP_PROTOCOL");
	for (size_t i = 0; i < OTLP_SIGNALS; i++) {
		snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_ENDPOINT",
			 sigs[i]);
		otlp_env_get(e->signal[i].endpoint, get, name);
		snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_PROTOCOL",
			 sigs[i]);
		otlp_env_get(e->signal[i].protocol, get, name);
	}
}

/* Protocol variable @v: 1 grpc, 2 http/protobuf (OTLP/HTTP), 0 not set,
 * -1 anything else (http/json is OTLP/HTTP in JSON, which is not
 * sent). */
static int otlp_env_proto(const char *v)
{
	if (!v[0])
		return 0;
	if (!strcmp(v, "grpc"))
		return 1;
	return !strcmp(v, "http/protobuf") ? 2 : -1;
}

/* Where a collector is, as one source says it: its host[:port] ("": the
 * source does not say) and, for OTLP/HTTP, the whole path ("": not said
 * here). */
struct otlp_where {
	char host[OTLP_ENV_MAX];
	char path[OTLP_ENV_MAX];
};

/* Endpoint variable @v of a signal's layer (@own) or the shared one, for
 * protocol @http, into @w.  Returns 1 when it says where, 0 when it is
 * not set or does not apply (a URL path under gRPC: Kuma drops it), -1
 * for a bad value. */
static int otlp_env_where(const char *v, bool own, bool http,
			  const struct otlp_signal *sig, struct otlp_where *w)
{
	const char *host = v, *slash, *sep = strstr(v, "://");
	size_t n;

	if (!v[0])
		return 0;
	if (sep) {
		if ((size_t)(sep - v) != 4 || strncasecmp(v, "http", 4))
			return -1;	/* https, unix: not spoken here */
		host = sep + 3;
	}
	slash = strchr(host, '/');
	n = slash ? (size_t)(slash - host) : strlen(host);
	/* No host (":4317"), or more than one (user@host): not a
	 * collector this agent can name. */
	if (!n || host[0] == ':' || n >= sizeof(w->host) ||
	    memchr(host, ' ', n) ||
	    memchr(host, '?', n) || memchr(host, '#', n) ||
	    memchr(host, '@', n))
		return -1;
	if (slash && !sep)
		return -1;	/* a path needs a URL */
	if (slash && slash[1] && !http)
		return 0;
	memcpy(w->host, host, n);
	w->host[n] = '\0';
	w->path[0] = '\0';
	if (http && sep) {
		const char *p = slash && slash[1] ? slash : "";

		if (own)
			snprintf(w->path, sizeof(w->path), "%s",
				 p[0] ? p : "/");
		else
			snprintf(w->path, sizeof(w->path), "%s%s",
				 strcmp(p, "/") ? p : "", sig->http_path);
	}
	return 1;
}

/* Whether host[:port] @h names its port. */
static bool otlp_has_port(const char *h)
{
	const char *close = h[0] == '[' ? strchr(h, ']') : NULL;

	return close ? close[1] == ':' : strchr(h, ':') != NULL;
}

/* The backend's own address @ob, with its port when it names one, into
 * @w. */
static void otlp_explicit_where(const struct mf_otel_backend *ob,
				struct otlp_where *w)
{
	const char *addr = ob->endpoint.address;
	bool v6 = strchr(addr, ':') != NULL;

	if (ob->endpoint.port)
		snprintf(w->host, sizeof(w->host), v6 ? "[%s]:%u" : "%s:%u",
			 addr, ob->endpoint.port);
	else
		snprintf(w->host, sizeof(w->host), v6 ? "[%s]" : "%s", addr);
	w->path[0] = '\0';
}

int otlp_env_url(const struct mf_otel_backend *ob, const struct otlp_env *e,
		 const struct otlp_signal *sig, char *url, size_t cap,
		 enum collector_proto *proto)
{
	/* Left out, `env` is all zero: Optional, EnvFirst, overrides. */
	const struct mf_otel_env *pol = &ob->env;
	bool required = pol->mode == MF_OTEL_ENV_REQUIRED;
	bool env_first = pol->precedence != MF_OTEL_ENV_EXPLICIT_FIRST;
	bool overrides = !sch_has(pol, MF_OTEL_ENV_F_OVERRIDES) ||
			 pol->allow_signal_overrides;
	const struct otlp_env_layer *layers[2] = { &e->shared,
						   &e->signal[sig->env] };
	size_t nl = pol->mode == MF_OTEL_ENV_DISABLED ? 0 : overrides ? 2 : 1;
	bool has_addr = ob->endpoint.address[0] != '\0';
	bool http = ob->protocol == MF_OTEL_HTTP, input = false, bad = false;
	struct otlp_where w = { "", "" }, one;
	size_t n;

	/* Required: the signal's variables, its own counted even when they
	 * are ignored (as Kuma counts them), must be there and sound. */
	for (size_t i = 0; i < 2 && required; i++) {
		input |= layers[i]->endpoint[0] || layers[i]->protocol[0];
		bad |= otlp_env_proto(layers[i]->protocol) < 0 ||
		       !strcmp(layers[i]->endpoint, OTLP_ENV_BAD);
	}
	if (required && (!input || bad))
		return -ENODATA;
	/* The protocol first: where an endpoint's path goes depends on it.
	 * The backend always says one (grpc when left out), so under
	 * ExplicitFirst it wins. */
	for (size_t i = 0; i < nl && env_first; i++)
		if (otlp_env_proto(layers[i]->protocol) > 0)
			http = otlp_env_proto(layers[i]->protocol) == 2;
	/* Then the endpoint, from the sources lowest first: the last that
	 * says one wins. */
	if (has_addr && env_first)
		otlp_explicit_where(ob, &w);
	for (size_t i = 0; i < nl; i++) {
		int r = otlp_env_where(layers[i]->endpoint, i == 1, http, sig,
				       &one);

		if (r < 0 && required)
			return -ENODATA;
		if (r > 0)
			w = one;
	}
	if (has_addr && !env_first)
		otlp_explicit_where(ob, &w);
	if (!w.host[0])
		return -ENOENT;
	n = strlen(w.host);
	if (!otlp_has_port(w.host))
		snprintf(w.host + n, sizeof(w.host) - n, ":%u",
			 http ? OTLP_HTTP_PORT : OTLP_GRPC_PORT);
	if (http && !w.path[0]) {
		const char *base = ob->protocol == MF_OTEL_HTTP ?
				   ob->endpoint.path : "";

		/* A base path of "/" adds nothing before the signal's. */
		snprintf(w.path, sizeof(w.path), "%s%s",
			 strcmp(base, "/") ? base : "", sig->http_path);
	}
	snprintf(url, cap, "http://%s%s", w.host,
		 http ? w.path : sig->grpc_path);
	*proto = http ? COLLECTOR_PROTOBUF : COLLECTOR_GRPC;
	return 0;
}

int otlp_backend_url(const struct mf_otel_backend *ob,
		     const struct otlp_signal *sig, char *url, size_t cap,
		     enum collector_proto *proto)
{
	static atomic_bool said[OTLP_SIGNALS];
	int err = otlp_env_url(ob, &otlp_agent_env, sig, url, cap, proto);

	if (err == -ENODATA && !atomic_exchange(&said[sig->env], true))
		log_warn("event=otel_env_required_missing signal=%s "
			 "effect=\"a MeshOpenTelemetryBackend with env mode "
			 "Required sends no %s: OTEL_EXPORTER_OTLP_* not set "
			 "for it, or set badly\"", sig->name, sig->name);
	return err;
}

/* ---- strings ------------------------------------------------------------ */

/* Length of the well-formed UTF-8 sequence at @s (@n bytes left), 0 when
 * it is not one (RFC 3629: no overlong forms, no surrogates, nothing past
 * U+10FFFF). */
static size_t otlp_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range narrows for these leads. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

bool otlp_put_str(char *b, size_t cap, size_t *at, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t n = strlen((const char *)p);

	if (cap - *at < n + 1)
		return false;
	while (n) {
		size_t k = otlp_utf8_len(p, n);

		if (!k) {
			b[(*at)++] = '?';
			p++;
			n--;
			continue;
		}
		memcpy(b + *at, p, k);
		*at += k;
		p += k;
		n -= k;
	}
	b[(*at)++] = '\0';
	return true;
}
