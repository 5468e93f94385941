// SPDX-License-Identifier: Apache-2.0
/*
 * A collector over HTTP (collector.h), with libcurl.
 */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "collector.h"
#include "log.h"

struct collector {
	enum collector_proto p;
	CURL *curl;
	struct curl_slist *hdrs;
	int grpc_status;		/* -1: none seen */
	bool gzip;
	uint8_t *z;			/* the compressed body, after
					 * COLLECTOR_HEAD bytes of room */
	size_t z_cap;
};

/* The answer's body: of no use to us (an OTLP collector counts a partial
 * success itself). */
static size_t collector_discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* A header or a trailer of the answer: gRPC's status comes in one or the
 * other. */
static size_t collector_header(char *p, size_t size, size_t n, void *arg)
{
	struct collector *c = arg;
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

/* Appends line @s (@n bytes) to c->hdrs.  False out of memory. */
static bool collector_add_header(struct collector *c, const char *s,
				 size_t n)
{
	char *line = strndup(s, n);
	struct curl_slist *h = line ? curl_slist_append(c->hdrs, line) : NULL;

	/* curl_slist_append() keeps a copy of its own. */
	free(line);
	if (!h)
		return false;
	c->hdrs = h;
	return true;
}

int collector_new(struct collector **out, enum collector_proto p,
		  const char *url, const struct collector_opts *o)
{
	static const struct collector_opts none;
	unsigned timeout_ms, connect_ms = COLLECTOR_CONNECT_MS;
	struct collector *c;
	const char *hp, *nl;
	char *u = NULL;
	bool tls = !strncasecmp(url, "https://", 8);

	*out = NULL;
	if (!o)
		o = &none;
	timeout_ms = o->timeout_ms ? o->timeout_ms : COLLECTOR_TIMEOUT_MS;
	if (connect_ms > timeout_ms)
		connect_ms = timeout_ms;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->p = p;
	c->gzip = o->gzip;
	/* A fragment is the sender's note (otlp.h), never the collector's. */
	u = strndup(url, strcspn(url, "#"));
	c->curl = curl_easy_init();
	if (!u || !c->curl)
		goto fail;
	/* "Expect:" off: no 100-continue round trip before each export. */
	const char *lines[] = {
		"Expect:",
		p == COLLECTOR_GRPC ? "Content-Type: application/grpc" :
		p == COLLECTOR_PROTOBUF ?
			"Content-Type: application/x-protobuf" :
			"Content-Type: application/json",
		!o->gzip ? NULL : p == COLLECTOR_GRPC ?
			"grpc-encoding: gzip" : "Content-Encoding: gzip",
		p == COLLECTOR_GRPC ? "TE: trailers" : NULL,
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (lines[i] &&
		    !collector_add_header(c, lines[i], strlen(lines[i])))
			goto fail;
	for (hp = o->headers; hp && *hp; hp = *nl ? nl + 1 : nl) {
		nl = hp + strcspn(hp, "\n");
		if (nl > hp && !collector_add_header(c, hp, (size_t)(nl - hp)))
			goto fail;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, u);
	/* The collector is dialled directly, whatever proxy the node's
	 * environment names. */
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR,
			 p != COLLECTOR_GRPC ? "http,https" :
			 tls ? "https" : "http");
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collector_discard);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, collector_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	if (o->ca_file && o->ca_file[0])
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, o->ca_file);
	if (o->cert_file && o->cert_file[0])
		curl_easy_setopt(c->curl, CURLOPT_SSLCERT, o->cert_file);
	if (o->key_file && o->key_file[0])
		curl_easy_setopt(c->curl, CURLOPT_SSLKEY, o->key_file);
	/* gRPC: HTTP/2 from the first byte without TLS, by ALPN with it; a
	 * connection per request (collector.h). */
	if (p == COLLECTOR_GRPC) {
		curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
				 (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(c->curl, CURLOPT_FORBID_REUSE, 1L);
	}
	free(u);
	*out = c;
	return 0;
fail:
	free(u);
	collector_free(c);
	return -ENOMEM;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	curl_slist_free_all(c->hdrs);
	free(c->z);
	free(c);
}

/* Body @b (@n bytes) gzip'd into c->z after COLLECTOR_HEAD bytes of
 * room.  Returns its compressed length, or 0 when zlib fails (out of
 * memory). */
static size_t collector_gzip(struct collector *c, const uint8_t *b, size_t n)
{
	z_stream zs = { 0 };
	size_t need, len = 0;

	/* windowBits 15 + 16: the gzip wrapper, as Content-Encoding and
	 * grpc-encoding gzip want it. */
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	need = COLLECTOR_HEAD + deflateBound(&zs, (uLong)n);
	if (need > c->z_cap) {
		uint8_t *z = realloc(c->z, need);

		if (!z)
			goto out;
		c->z = z;
		c->z_cap = need;
	}
	zs.next_in = (Bytef *)b;
	zs.avail_in = (uInt)n;
	zs.next_out = c->z + COLLECTOR_HEAD;
	zs.avail_out = (uInt)(c->z_cap - COLLECTOR_HEAD);
	/* deflateBound()'s room: one call finishes. */
	if (deflate(&zs, Z_FINISH) == Z_STREAM_END)
		len = zs.total_out;
out:
	deflateEnd(&zs);
	return len;
}

int collector_send(struct collector *c, uint8_t *buf, size_t len)
{
	const uint8_t *body = buf + COLLECTOR_HEAD;
	size_t n = len - COLLECTOR_HEAD;
	long status = 0;
	CURLcode rc;

	if (c->gzip) {
		n = collector_gzip(c, body, n);
		if (!n)
			return -ENOMEM;
		buf = c->z;
		body = buf + COLLECTOR_HEAD;
	}
	if (c->p == COLLECTOR_GRPC) {
		uint32_t m = (uint32_t)n;

		/* gRPC's framing of one message: compressed or not (by
		 * grpc-encoding), its length (big endian). */
		buf[0] = c->gzip;
		buf[1] = (uint8_t)(m >> 24);
		buf[2] = (uint8_t)(m >> 16);
		buf[3] = (uint8_t)(m >> 8);
		buf[4] = (uint8_t)m;
		body = buf;
		n += COLLECTOR_HEAD;
	}
	c->grpc_status = -1;
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)n);
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		log_debug("event=collector_send_failed err=\"%s\"",
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
	if (c->p == COLLECTOR_GRPC && c->grpc_status != 0)
		return -EPROTO;
	return 0;
}
