// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP (otlp.h): where a collector takes a signal, and strings as OTLP
 * wants them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshforge/abi.h"
#include "otlp.h"

const struct otlp_signal otlp_logs_signal = {
	"/opentelemetry.proto.collector.logs.v1.LogsService/Export",
	"/v1/logs",
};

const struct otlp_signal otlp_traces_signal = {
	"/opentelemetry.proto.collector.trace.v1.TraceService/Export",
	"/v1/traces",
};

const struct otlp_signal otlp_metrics_signal = {
	"/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
	"/v1/metrics",
};

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

enum collector_proto otlp_backend_url(const struct mf_otel_backend *ob,
				      const struct otlp_signal *sig,
				      char *url, size_t cap)
{
	const char *addr = ob->endpoint.address;
	bool http = ob->protocol == MF_OTEL_HTTP;
	const char *fmt = strchr(addr, ':') ? "http://[%s]:%u%s%s" :
					      "http://%s:%u%s%s";
	const char *base = ob->endpoint.path;
	unsigned port = ob->endpoint.port ? ob->endpoint.port :
			http ? OTLP_HTTP_PORT : OTLP_GRPC_PORT;

	/* A base path of "/" adds nothing before the signal's. */
	if (!http || !strcmp(base, "/"))
		base = "";
	snprintf(url, cap, fmt, addr, port, base,
		 http ? sig->http_path : sig->grpc_path);
	return http ? COLLECTOR_PROTOBUF : COLLECTOR_GRPC;
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
