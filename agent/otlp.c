// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP (otlp.h): where a collector takes a signal, and strings as OTLP
 * wants them.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
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

static void otlp_env_get(char *out, size_t cap,
			 char *(*get)(const char *name), const char *name)
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
	if (n >= cap) {
		strcpy(out, OTLP_ENV_BAD);
		return;
	}
	memcpy(out, v, n);
	out[n] = '\0';
}

/* The variables of a layer: their names' last part, and where each
 * goes. */
#define OTLP_VAR(suffix, field)						\
	{ suffix, offsetof(struct otlp_env_layer, field),		\
	  sizeof(((struct otlp_env_layer *)0)->field) }

static const struct {
	const char *suffix;
	size_t off, size;
} otlp_vars[] = {
	OTLP_VAR("ENDPOINT", endpoint),
	OTLP_VAR("PROTOCOL", protocol),
	OTLP_VAR("HEADERS", headers),
	OTLP_VAR("TIMEOUT", timeout),
	OTLP_VAR("COMPRESSION", compression),
	OTLP_VAR("INSECURE", insecure),
	OTLP_VAR("CERTIFICATE", certificate),
	OTLP_VAR("CLIENT_CERTIFICATE", client_certificate),
	OTLP_VAR("CLIENT_KEY", client_key),
};

#define OTLP_NVARS	(sizeof(otlp_vars) / sizeof(otlp_vars[0]))

static const char *otlp_var(const struct otlp_env_layer *l, size_t i)
{
	return (const char *)l + otlp_vars[i].off;
}

void otlp_env_read(struct otlp_env *e, char *(*get)(const char *name))
{
	static const char *const sigs[OTLP_SIGNALS] = { "LOGS", "TRACES",
							"METRICS" };
	char name[64];

	for (size_t v = 0; v < OTLP_NVARS; v++) {
		snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s",
			 otlp_vars[v].suffix);
		otlp_env_get((char *)&e->shared + otlp_vars[v].off,
			     otlp_vars[v].size, get, name);
		for (size_t i = 0; i < OTLP_SIGNALS; i++) {
			snprintf(name, sizeof(name), "OTEL_EXPORTER_OTLP_%s_%s",
				 sigs[i], otlp_vars[v].suffix);
			otlp_env_get((char *)&e->signal[i] + otlp_vars[v].off,
				     otlp_vars[v].size, get, name);
		}
	}
}

/* Whether variable @v is set, and set well enough to be used. */
static bool otlp_set(const char *v)
{
	return v[0] && strcmp(v, OTLP_ENV_BAD);
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
 * source does not say), for OTLP/HTTP the whole path ("": not said here),
 * and whether with TLS (-1: its scheme does not say). */
struct otlp_where {
	char host[OTLP_ENV_MAX];
	char path[OTLP_ENV_MAX];
	int tls;
};

/* Endpoint variable @v of a signal's layer (@own) or the shared one, for
 * protocol @http, into @w.  Returns 1 when it says where, 0 when it is
 * not set or does not apply (a URL path under gRPC: Kuma drops it), -1
 * for a bad value. */
static int otlp_env_where(const char *v, bool own, bool http,
			  const struct otlp_signal *sig, struct otlp_where *w)
{
	const char *host = v, *slash, *sep = strstr(v, "://");
	int tls = -1;
	size_t n;

	if (!v[0])
		return 0;
	if (sep) {
		size_t scheme = (size_t)(sep - v);

		if (scheme == 4 && !strncasecmp(v, "http", 4))
			tls = 0;
		else if (scheme == 5 && !strncasecmp(v, "https", 5))
			tls = 1;
		else
			return -1;	/* unix: not spoken here */
		host = sep + 3;
	}
	/* A fragment would be taken for otlp_env_url()'s own. */
	if (strchr(v, '#'))
		return -1;
	slash = strchr(host, '/');
	n = slash ? (size_t)(slash - host) : strlen(host);
	/* No host (":4317"), or more than one (user@host): not a
	 * collector this agent can name. */
	if (!n || host[0] == ':' || n >= sizeof(w->host) ||
	    memchr(host, ' ', n) ||
	    memchr(host, '?', n) || memchr(host, '@', n))
		return -1;
	if (slash && !sep)
		return -1;	/* a path needs a URL */
	if (slash && slash[1] && !http)
		return 0;
	memcpy(w->host, host, n);
	w->host[n] = '\0';
	w->path[0] = '\0';
	w->tls = tls;
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

/* INSECURE variable @v: 1 true (no TLS), 0 false (TLS), -1 not set or
 * bad. */
static int otlp_env_insecure(const char *v)
{
	if (!strcasecmp(v, "true"))
		return 1;
	return !strcasecmp(v, "false") ? 0 : -1;
}

/* Whether @c may be in an HTTP field name (RFC 9110's tchar). */
static bool otlp_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A header the exporter sets itself, or HTTP's framing: not a user's. */
static bool otlp_reserved_header(const char *name, size_t n)
{
	static const char *const reserved[] = {
		"content-type", "content-encoding", "content-length", "te",
		"host", "expect", "transfer-encoding", "connection",
	};

	if (n >= 5 && !strncasecmp(name, "grpc-", 5))
		return true;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == n &&
		    !strncasecmp(name, reserved[i], n))
			return true;
	return false;
}

/* The blanks OpenTelemetry's list members may have around them. */
static const char *otlp_trim(const char *b, const char **e)
{
	while (b < *e && (*b == ' ' || *b == '\t'))
		b++;
	while (*e > b && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
		(*e)--;
	return b;
}

/* HEADERS variable @v (name=value,...; values percent-decoded, by
 * libcurl) as "Name: value\n" lines into @out (@cap bytes; two per byte
 * of @v are enough).  Returns 0, or -EINVAL for a bad value. */
static int otlp_env_headers(const char *v, char *out, size_t cap)
{
	size_t at = 0;

	out[0] = '\0';
	for (const char *m = v; *m; ) {
		const char *end = m + strcspn(m, ","), *eq, *name, *val;
		const char *name_end, *val_end = end;
		char *dec;
		int dn = 0, k;
		bool ok;

		name = otlp_trim(m, &val_end);
		m = *end ? end + 1 : end;
		if (name == val_end)
			continue;	/* a blank member */
		eq = memchr(name, '=', (size_t)(val_end - name));
		if (!eq)
			return -EINVAL;
		name_end = eq;
		val = eq + 1;
		name = otlp_trim(name, &name_end);
		val = otlp_trim(val, &val_end);
		ok = name < name_end &&
		     !otlp_reserved_header(name, (size_t)(name_end - name));
		for (const char *c = name; ok && c < name_end; c++)
			ok = otlp_tchar((unsigned char)*c);
		if (!ok)
			return -EINVAL;
		/* An empty value is not handed over: a length of 0 would be
		 * taken for strlen()'s. */
		dec = val < val_end ? curl_easy_unescape(NULL, val,
							 (int)(val_end - val),
							 &dn) : NULL;
		if (val < val_end && !dec)
			return -ENOMEM;
		/* No control byte (CR, LF, NUL: a header of its own) but a
		 * tab. */
		for (int i = 0; ok && i < dn; i++)
			ok = ((unsigned char)dec[i] >= 0x20 || dec[i] == '\t') &&
			     dec[i] != 0x7f;
		/* curl sends "Name;" as the header with an empty value;
		 * "Name:" would take one of its own away. */
		if (!ok)
			k = -1;
		else if (dn)
			k = snprintf(out + at, cap - at, "%.*s: %.*s\n",
				     (int)(name_end - name), name, dn, dec);
		else
			k = snprintf(out + at, cap - at, "%.*s;\n",
				     (int)(name_end - name), name);
		curl_free(dec);
		if (k < 0 || (size_t)k >= cap - at)
			return -EINVAL;
		at += (size_t)k;
	}
	return 0;
}

/* Layer @l's settings other than where (headers, timeout, compression,
 * certificates) over those in @x: those it sets replace them.  Returns
 * 0, or -EINVAL when one of them is bad (that one is left out) or its
 * INSECURE is. */
static int otlp_layer_opts(const struct otlp_env_layer *l,
			   struct otlp_export *x)
{
	struct collector_opts *o = &x->opts;
	int err = 0;

	for (size_t i = 0; i < OTLP_NVARS; i++)
		if (!strcmp(otlp_var(l, i), OTLP_ENV_BAD))
			err = -EINVAL;
	if (otlp_set(l->headers)) {
		char h[sizeof(x->headers)];

		if (otlp_env_headers(l->headers, h, sizeof(h)))
			err = -EINVAL;
		else
			memcpy(x->headers, h, sizeof(h));
	}
	if (otlp_set(l->timeout)) {
		char *end;
		unsigned long ms;

		errno = 0;
		ms = strtoul(l->timeout, &end, 10);
		/* Digits only: strtoul() would take a sign or blanks. */
		if (l->timeout[0] < '0' || l->timeout[0] > '9' || *end ||
		    errno || !ms || ms > INT32_MAX)
			err = -EINVAL;
		else
			o->timeout_ms = (unsigned)ms;
	}
	if (otlp_set(l->compression)) {
		if (!strcasecmp(l->compression, "gzip"))
			o->gzip = true;
		else if (!strcasecmp(l->compression, "none"))
			o->gzip = false;
		else
			err = -EINVAL;
	}
	if (l->insecure[0] && otlp_env_insecure(l->insecure) < 0)
		err = -EINVAL;
	if (otlp_set(l->certificate))
		o->ca_file = l->certificate;
	/* A certificate without its key, or a key alone: neither. */
	if (otlp_set(l->client_certificate) && otlp_set(l->client_key)) {
		o->cert_file = l->client_certificate;
		o->key_file = l->client_key;
	} else if (l->client_certificate[0] || l->client_key[0]) {
		err = -EINVAL;
	}
	return err;
}

/* Whether layer @l sets any of the settings otlp_layer_opts() takes. */
static bool otlp_layer_has_opts(const struct otlp_env_layer *l)
{
	return l->headers[0] || l->timeout[0] || l->compression[0] ||
	       l->certificate[0] || l->client_certificate[0] ||
	       l->client_key[0];
}

/* Whether host[:port] @h names its port. */
static bool otlp_has_port(const char *h)
{
	const char *close = h[0] == '[' ? strchr(h, ']') : NULL;

	return close ? close[1] == ':' : strchr(h, ':') != NULL;
}

/* The backend's own address @ob, with its port when it names one, into
 * @w: it has no TLS. */
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
	w->tls = 0;
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
	bool opts = false;
	struct otlp_where w = { "", "", 0 }, one;
	struct otlp_export scratch;
	size_t n;
	int k;

	/* Required: the signal's variables, its own counted even when they
	 * are ignored (as Kuma counts them), must be there and sound. */
	for (size_t i = 0; i < 2 && required; i++) {
		for (size_t v = 0; v < OTLP_NVARS; v++)
			input |= otlp_var(layers[i], v)[0] != '\0';
		memset(&scratch, 0, sizeof(scratch));
		bad |= otlp_env_proto(layers[i]->protocol) < 0 ||
		       !strcmp(layers[i]->endpoint, OTLP_ENV_BAD) ||
		       otlp_layer_opts(layers[i], &scratch) < 0;
	}
	if (required && (!input || bad))
		return -ENODATA;
	/* The protocol first: where an endpoint's path goes depends on it.
	 * The backend always says one (grpc when left out), so under
	 * ExplicitFirst it wins. */
	for (size_t i = 0; i < nl && env_first; i++)
		if (otlp_env_proto(layers[i]->protocol) > 0)
			http = otlp_env_proto(layers[i]->protocol) == 2;
	/* Then the endpoint and TLS, from the sources lowest first: the last
	 * that says one wins.  A layer's URL scheme says TLS; without one,
	 * its INSECURE does. */
	if (has_addr && env_first)
		otlp_explicit_where(ob, &w);
	for (size_t i = 0; i < nl; i++) {
		int r = otlp_env_where(layers[i]->endpoint, i == 1, http, sig,
				       &one);
		int insecure = otlp_env_insecure(layers[i]->insecure);

		if (r < 0 && required)
			return -ENODATA;
		if (r > 0) {
			int tls = one.tls >= 0 ? one.tls : w.tls;

			w = one;
			w.tls = tls;
		}
		if ((r <= 0 || one.tls < 0) && insecure >= 0)
			w.tls = !insecure;
		opts |= otlp_layer_has_opts(layers[i]);
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
	k = snprintf(url, cap, "%s://%s%s%s%s%s", w.tls ? "https" : "http",
		     w.host, http ? w.path : sig->grpc_path,
		     opts ? "#env=shared" : "", opts && nl == 2 ? "," : "",
		     opts && nl == 2 ? sig->name : "");
	/* Cut short, it would name another path, or lose its fragment and
	 * with it the settings. */
	if (k < 0 || (size_t)k >= cap)
		return -ENAMETOOLONG;
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

/* ---- how, with the exporter variables ------------------------------------ */

const struct collector_opts *otlp_env_opts(const struct otlp_env *e,
					   const char *target,
					   const struct otlp_signal *sig,
					   struct otlp_export *x)
{
	const char *frag = strchr(target, '#');
	const struct otlp_env_layer *layers[2] = { &e->shared,
						   &e->signal[sig->env] };
	size_t nl = 0;

	memset(x, 0, sizeof(*x));
	if (frag && !strcmp(frag, "#env=shared"))
		nl = 1;
	else if (frag && !strncmp(frag, "#env=shared,", 12) &&
		 !strcmp(frag + 12, sig->name))
		nl = 2;
	/* Bad values are left out: under Required otlp_env_url() has
	 * refused them already. */
	for (size_t i = 0; i < nl; i++)
		otlp_layer_opts(layers[i], x);
	x->opts.headers = x->headers;
	return &x->opts;
}

const struct collector_opts *otlp_target_opts(const char *target,
					      const struct otlp_signal *sig,
					      struct otlp_export *x)
{
	return otlp_env_opts(&otlp_agent_env, target, sig, x);
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
