// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP's transport (otlp.h): a request posted with libcurl, over gRPC or
 * HTTP; and strings as OTLP wants them.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
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

/* ---- where ------------------------------------------------------------- */

enum otlp_transport otlp_endpoint_url(const char *ep,
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
	return OTLP_GRPC;
}

enum otlp_transport otlp_backend_url(const struct mf_otel_backend *ob,
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
	return http ? OTLP_HTTP : OTLP_GRPC;
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

/* ---- the export -------------------------------------------------------- */

struct otlp_client {
	enum otlp_transport t;
	CURL *curl;
	struct curl_slist *hdrs;
	int grpc_status;		/* -1: none seen */
};

/* The answer's body: a collector's ExportLogsServiceResponse, of no use
 * to us (partial success is counted by the collector). */
static size_t otlp_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* A header or a trailer of the answer: gRPC's status comes in one or the
 * other. */
static size_t otlp_header(char *p, size_t size, size_t n, void *arg)
{
	struct otlp_client *c = arg;
	size_t len = size * n;
	static const char name[] = "grpc-status:";

	if (len > sizeof(name) - 1 &&
	    !strncasecmp(p, name, sizeof(name) - 1)) {
		char v[16] = { 0 };

		memcpy(v, p + sizeof(name) - 1,
		       len - (sizeof(name) - 1) < sizeof(v) - 1 ?
		       len - (sizeof(name) - 1) : sizeof(v) - 1);
		c->grpc_status = atoi(v);
	}
	return len;
}

int otlp_client_new(struct otlp_client **out, enum otlp_transport t,
		    const char *url)
{
	struct otlp_client *c;
	struct curl_slist *h;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->t = t;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto fail;
	/* "Expect:" off: no 100-continue round trip before each export. */
	const char *lines[] = {
		"Expect:",
		t == OTLP_GRPC ? "Content-Type: application/grpc" :
				 "Content-Type: application/x-protobuf",
		t == OTLP_GRPC ? "TE: trailers" : NULL,
	};
	for (size_t i = 0; i < 3 && lines[i]; i++) {
		h = curl_slist_append(c->hdrs, lines[i]);
		if (!h)
			goto fail;
		c->hdrs = h;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	/* A connection per export: Debian 12's libcurl (7.88) fails the
	 * second request on a kept h2c connection ("Error in the HTTP2
	 * framing layer").  An export carries up to a batch of records, so
	 * the handshake is paid per batch, not per record. */
	curl_easy_setopt(c->curl, CURLOPT_FORBID_REUSE, 1L);
	/* The collector is dialled directly, whatever proxy the node's
	 * environment names. */
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS,
			 (long)OTLP_EXPORT_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)OTLP_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, otlp_discard);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, otlp_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	/* gRPC without TLS: HTTP/2 from the first byte (h2c with prior
	 * knowledge), as collectors on :4317 take it. */
	if (t == OTLP_GRPC)
		curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
				 (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
	*out = c;
	return 0;
fail:
	otlp_client_free(c);
	return -ENOMEM;
}

void otlp_client_free(struct otlp_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->hdrs);
	free(c);
}

int otlp_send(struct otlp_client *c, uint8_t *buf, size_t len)
{
	const uint8_t *body = buf + OTLP_HEAD;
	size_t n = len - OTLP_HEAD;
	long status = 0;
	CURLcode rc;

	if (c->t == OTLP_GRPC) {
		uint32_t m = (uint32_t)n;

		/* gRPC's framing of one message: not compressed, its length
		 * (big endian). */
		buf[0] = 0;
		buf[1] = (uint8_t)(m >> 24);
		buf[2] = (uint8_t)(m >> 16);
		buf[3] = (uint8_t)(m >> 8);
		buf[4] = (uint8_t)m;
		body = buf;
		n = len;
	}
	c->grpc_status = -1;
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		log_debug("event=otlp_export_failed err=\"%s\"",
			  curl_easy_strerror(rc));
		switch (rc) {
		case CURLE_COULDNT_CONNECT:
			return -ECONNREFUSED;
		case CURLE_COULDNT_RESOLVE_HOST:
			return -EHOSTUNREACH;
		case CURLE_OPERATION_TIMEDOUT:
			return -ETIMEDOUT;
		default:
			return -EIO;
		}
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299)
		return -EPROTO;
	if (c->t == OTLP_GRPC && c->grpc_status != 0)
		return -EPROTO;
	return 0;
}
