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

#include "collector.h"
#include "log.h"

struct collector {
	enum collector_proto p;
	CURL *curl;
	struct curl_slist *hdrs;
	int grpc_status;		/* -1: none seen */
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

int collector_new(struct collector **out, enum collector_proto p,
		  const char *url)
{
	struct collector *c;
	struct curl_slist *h;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->p = p;
	c->curl = curl_easy_init();
	if (!c->curl)
		goto fail;
	/* "Expect:" off: no 100-continue round trip before each export. */
	const char *lines[] = {
		"Expect:",
		p == COLLECTOR_GRPC ? "Content-Type: application/grpc" :
		p == COLLECTOR_PROTOBUF ?
			"Content-Type: application/x-protobuf" :
			"Content-Type: application/json",
		p == COLLECTOR_GRPC ? "TE: trailers" : NULL,
	};
	for (size_t i = 0; i < 3 && lines[i]; i++) {
		h = curl_slist_append(c->hdrs, lines[i]);
		if (!h)
			goto fail;
		c->hdrs = h;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	/* The collector is dialled directly, whatever proxy the node's
	 * environment names. */
	curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->hdrs);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS,
			 (long)COLLECTOR_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)COLLECTOR_CONNECT_MS);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR,
			 p == COLLECTOR_GRPC ? "http" : "http,https");
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collector_discard);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, collector_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, c);
	/* gRPC without TLS: HTTP/2 from the first byte, a connection per
	 * request (collector.h). */
	if (p == COLLECTOR_GRPC) {
		curl_easy_setopt(c->curl, CURLOPT_HTTP_VERSION,
				 (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
		curl_easy_setopt(c->curl, CURLOPT_FORBID_REUSE, 1L);
	}
	*out = c;
	return 0;
fail:
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
	free(c);
}

int collector_send(struct collector *c, uint8_t *buf, size_t len)
{
	const uint8_t *body = buf + COLLECTOR_HEAD;
	size_t n = len - COLLECTOR_HEAD;
	long status = 0;
	CURLcode rc;

	if (c->p == COLLECTOR_GRPC) {
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
