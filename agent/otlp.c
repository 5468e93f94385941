// SPDX-License-Identifier: Apache-2.0
/*
 * OTLP logs (otlp.h): the queued form of a record, the request packed
 * with libprotobuf-c from the messages protoc-c made of proto/, and its
 * export with libcurl.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb-c.h"
#include "otlp.h"

/* ---- the queued form -------------------------------------------------- */
/*
 * time_ns (8 bytes, host order), nattrs (1 byte), then the strings, each
 * NUL-terminated: service, body, and each attribute's key and value.  A
 * string that is not given is "" (none of them means anything empty).
 */
#define OTLP_LOG_HEAD	9

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

/* @s (NULL: "") into @b at *@at, well-formed, NUL-terminated.  False when
 * it does not fit in @cap. */
static bool otlp_put_str(char *b, size_t cap, size_t *at, const char *s)
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

size_t otlp_log_encode(const struct otlp_log *r, char *buf, size_t cap)
{
	size_t at = OTLP_LOG_HEAD;

	if (cap < OTLP_LOG_HEAD || r->nattrs > OTLP_ATTRS_MAX)
		return 0;
	memcpy(buf, &r->time_ns, 8);
	buf[8] = (char)r->nattrs;
	if (!otlp_put_str(buf, cap, &at, r->service) ||
	    !otlp_put_str(buf, cap, &at, r->body))
		return 0;
	for (size_t i = 0; i < r->nattrs; i++)
		if (!otlp_put_str(buf, cap, &at, r->key[i]) ||
		    !otlp_put_str(buf, cap, &at, r->value[i]))
			return 0;
	return at;
}

/* The string at *@at of @b (@n bytes), past it.  NULL when no NUL ends
 * it. */
static const char *otlp_get_str(const char *b, size_t n, size_t *at)
{
	const char *s = b + *at;
	const char *nul = *at < n ? memchr(s, '\0', n - *at) : NULL;

	if (!nul)
		return NULL;
	*at += (size_t)(nul - s) + 1;
	return s;
}

int otlp_log_decode(const char *b, size_t n, struct otlp_log *r)
{
	size_t at = OTLP_LOG_HEAD;

	memset(r, 0, sizeof(*r));
	if (n < OTLP_LOG_HEAD || (unsigned char)b[8] > OTLP_ATTRS_MAX)
		return -EINVAL;
	memcpy(&r->time_ns, b, 8);
	r->nattrs = (unsigned char)b[8];
	r->service = otlp_get_str(b, n, &at);
	r->body = otlp_get_str(b, n, &at);
	if (!r->service || !r->body)
		return -EINVAL;
	for (size_t i = 0; i < r->nattrs; i++) {
		r->key[i] = otlp_get_str(b, n, &at);
		r->value[i] = otlp_get_str(b, n, &at);
		if (!r->key[i] || !r->value[i])
			return -EINVAL;
	}
	if (at != n)
		return -EINVAL;
	if (!r->service[0])
		r->service = NULL;
	if (!r->body[0])
		r->body = NULL;
	return 0;
}

/* ---- the request ------------------------------------------------------- */

typedef Opentelemetry__Proto__Common__V1__AnyValue otlp_any;
typedef Opentelemetry__Proto__Common__V1__KeyValue otlp_kv;
typedef Opentelemetry__Proto__Logs__V1__LogRecord otlp_rec;
typedef Opentelemetry__Proto__Logs__V1__ScopeLogs otlp_scope_logs;
typedef Opentelemetry__Proto__Logs__V1__ResourceLogs otlp_res_logs;
typedef Opentelemetry__Proto__Resource__V1__Resource otlp_res;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope otlp_scope;
typedef Opentelemetry__Proto__Collector__Logs__V1__ExportLogsServiceRequest
	otlp_req;

/* Everything one request's messages take, in one allocation: protobuf-c
 * packs from structs that point at each other. */
struct otlp_msgs {
	otlp_req req;
	otlp_scope scope;
	otlp_res_logs *rl;		/* [nres] */
	otlp_res_logs **rlp;
	otlp_scope_logs *sl;		/* [nres] */
	otlp_scope_logs **slp;
	otlp_res *res;			/* [nres] */
	otlp_kv *res_kv;		/* [nres]: service.name */
	otlp_kv **res_kvp;
	otlp_any *res_val;
	otlp_rec *rec;			/* [n] */
	otlp_rec **recp;		/* [n], grouped by resource */
	otlp_any *body;			/* [n] */
	otlp_kv *kv;			/* [n * OTLP_ATTRS_MAX] */
	otlp_kv **kvp;
	otlp_any *val;
};

static void otlp_str_any(otlp_any *a, const char *s)
{
	opentelemetry__proto__common__v1__any_value__init(a);
	a->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	a->string_value = (char *)s;
}

static void otlp_kv_set(otlp_kv *kv, otlp_any *val, const char *key,
			const char *s)
{
	opentelemetry__proto__common__v1__key_value__init(kv);
	otlp_str_any(val, s);
	kv->key = (char *)key;
	kv->value = val;
}

static bool otlp_same_service(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int otlp_logs_pack(const struct otlp_log *r, size_t n, size_t head,
		   uint8_t **out, size_t *len)
{
	size_t *res_of = calloc(n ? n : 1, sizeof(*res_of));
	struct otlp_msgs m = { 0 };
	size_t nres = 0, at = 0, size;
	int err = -ENOMEM;
	uint8_t *buf;

	*out = NULL;
	*len = 0;
	/* Resources: the services in the order they first come. */
	for (size_t i = 0; res_of && i < n; i++) {
		size_t k = 0;

		while (k < i && !otlp_same_service(r[k].service, r[i].service))
			k++;
		res_of[i] = k < i ? res_of[k] : nres++;
	}
	m.rl = calloc(nres, sizeof(*m.rl));
	m.rlp = calloc(nres, sizeof(*m.rlp));
	m.sl = calloc(nres, sizeof(*m.sl));
	m.slp = calloc(nres, sizeof(*m.slp));
	m.res = calloc(nres, sizeof(*m.res));
	m.res_kv = calloc(nres, sizeof(*m.res_kv));
	m.res_kvp = calloc(nres, sizeof(*m.res_kvp));
	m.res_val = calloc(nres, sizeof(*m.res_val));
	m.rec = calloc(n, sizeof(*m.rec));
	m.recp = calloc(n, sizeof(*m.recp));
	m.body = calloc(n, sizeof(*m.body));
	m.kv = calloc(n * OTLP_ATTRS_MAX, sizeof(*m.kv));
	m.kvp = calloc(n * OTLP_ATTRS_MAX, sizeof(*m.kvp));
	m.val = calloc(n * OTLP_ATTRS_MAX, sizeof(*m.val));
	if (!res_of || (n && (!m.rl || !m.rlp || !m.sl || !m.slp || !m.res ||
			      !m.res_kv || !m.res_kvp || !m.res_val ||
			      !m.rec || !m.recp || !m.body || !m.kv ||
			      !m.kvp || !m.val)))
		goto out;

	opentelemetry__proto__collector__logs__v1__export_logs_service_request__init(&m.req);
	opentelemetry__proto__common__v1__instrumentation_scope__init(&m.scope);
	m.scope.name = "meshforge";
	for (size_t i = 0; i < n; i++) {
		otlp_rec *rec = &m.rec[i];
		size_t k = i * OTLP_ATTRS_MAX;

		opentelemetry__proto__logs__v1__log_record__init(rec);
		rec->time_unix_nano = r[i].time_ns;
		rec->observed_time_unix_nano = r[i].time_ns;
		if (r[i].body) {
			otlp_str_any(&m.body[i], r[i].body);
			rec->body = &m.body[i];
		}
		rec->attributes = &m.kvp[k];
		for (size_t a = 0; a < r[i].nattrs && a < OTLP_ATTRS_MAX; a++) {
			otlp_kv_set(&m.kv[k + a], &m.val[k + a], r[i].key[a],
				    r[i].value[a]);
			m.kvp[k + a] = &m.kv[k + a];
			rec->n_attributes++;
		}
	}
	for (size_t j = 0; j < nres; j++) {
		size_t first = 0;

		while (res_of[first] != j)
			first++;
		opentelemetry__proto__resource__v1__resource__init(&m.res[j]);
		otlp_kv_set(&m.res_kv[j], &m.res_val[j], "service.name",
			    r[first].service ? r[first].service : "unknown");
		m.res_kvp[j] = &m.res_kv[j];
		m.res[j].attributes = &m.res_kvp[j];
		m.res[j].n_attributes = 1;

		opentelemetry__proto__logs__v1__scope_logs__init(&m.sl[j]);
		m.sl[j].scope = &m.scope;
		m.sl[j].log_records = &m.recp[at];
		for (size_t i = first; i < n; i++)
			if (res_of[i] == j)
				m.recp[at++] = &m.rec[i];
		m.sl[j].n_log_records = (size_t)(&m.recp[at] -
						 m.sl[j].log_records);
		m.slp[j] = &m.sl[j];

		opentelemetry__proto__logs__v1__resource_logs__init(&m.rl[j]);
		m.rl[j].resource = &m.res[j];
		m.rl[j].scope_logs = &m.slp[j];
		m.rl[j].n_scope_logs = 1;
		m.rlp[j] = &m.rl[j];
	}
	m.req.resource_logs = m.rlp;
	m.req.n_resource_logs = nres;

	size = opentelemetry__proto__collector__logs__v1__export_logs_service_request__get_packed_size(&m.req);
	buf = malloc(head + size + 1);
	if (!buf)
		goto out;
	opentelemetry__proto__collector__logs__v1__export_logs_service_request__pack(&m.req, buf + head);
	*out = buf;
	*len = head + size;
	err = 0;
out:
	free(res_of);
	free(m.rl);
	free(m.rlp);
	free(m.sl);
	free(m.slp);
	free(m.res);
	free(m.res_kv);
	free(m.res_kvp);
	free(m.res_val);
	free(m.rec);
	free(m.recp);
	free(m.body);
	free(m.kv);
	free(m.kvp);
	free(m.val);
	return err;
}

/* ---- the export -------------------------------------------------------- */

struct otlp_client {
	enum otlp_transport t;
	CURL *curl;
	struct curl_slist *hdrs;
	int grpc_status;		/* -1: none seen */
};

static pthread_once_t otlp_once = PTHREAD_ONCE_INIT;
static bool otlp_curl_ok;

static void otlp_global_init(void)
{
	otlp_curl_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

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
	pthread_once(&otlp_once, otlp_global_init);
	if (!otlp_curl_ok)
		return -ENOMEM;
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

/* gRPC's framing of one message: not compressed, its length (big
 * endian). */
#define OTLP_GRPC_HEAD	5

int otlp_export_logs(struct otlp_client *c, const struct otlp_log *r,
		     size_t n)
{
	size_t head = c->t == OTLP_GRPC ? OTLP_GRPC_HEAD : 0, len;
	long status = 0;
	uint8_t *body;
	CURLcode rc;
	int err;

	err = otlp_logs_pack(r, n, head, &body, &len);
	if (err)
		return err;
	if (head) {
		uint32_t m = (uint32_t)(len - head);

		body[0] = 0;
		body[1] = (uint8_t)(m >> 24);
		body[2] = (uint8_t)(m >> 16);
		body[3] = (uint8_t)(m >> 8);
		body[4] = (uint8_t)m;
	}
	c->grpc_status = -1;
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	rc = curl_easy_perform(c->curl);
	free(body);
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
