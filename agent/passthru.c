// SPDX-License-Identifier: Apache-2.0
/*
 * MeshPassthrough's Domain matches: the name a connection's first bytes
 * carry, and whether the policy admits it (passthru.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "http1.h"
#include "passthru.h"
#include "policy.h"
#include "policy/kinds.h"
#include "policy/records.h"
#include "policy/select.h"
#include "router.h"
#include "tls.h"

/* The TLS record type of a handshake: a ClientHello starts with it. */
#define PASSTHRU_TLS_HANDSHAKE	22

/* Lowercases the @n bytes at @s into @out, NUL-terminated.  Returns @n,
 * -ENAMETOOLONG, or -EPROTO for a byte no DNS name has (a NUL would cut
 * the name short of what the server gets, so it is never matched). */
static int passthru_lower(const char *s, size_t n,
			  char out[PASSTHRU_NAME_MAX])
{
	if (n >= PASSTHRU_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!isalnum(ch) && ch != '-' && ch != '.' && ch != '_')
			return -EPROTO;
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	return (int)n;
}

/* The SNI of the ClientHello that @p (@n) starts with, read by
 * tls_hello_sni(). */
static int passthru_sni(const uint8_t *p, size_t n,
			char name[PASSTHRU_NAME_MAX], const char **why)
{
	/* One byte more than a name may have: a longer SNI is refused
	 * rather than matched cut. */
	char sni[PASSTHRU_NAME_MAX + 1];
	int rc = tls_hello_sni(p, n, sni, sizeof(sni));

	if (rc == -EAGAIN)
		return 0;
	if (rc == 0) {
		*why = "ClientHello without SNI";
		return -ENOENT;
	}
	if (rc == -ENAMETOOLONG) {
		*why = "SNI too long";
		return rc;
	}
	if (rc == -EILSEQ) {
		*why = "SNI is no DNS name";
		return -EPROTO;
	}
	if (rc < 0) {
		*why = "not a TLS ClientHello";
		return -EPROTO;
	}
	rc = passthru_lower(sni, strlen(sni), name);
	if (rc < 0)
		*why = rc == -EPROTO ? "SNI is no DNS name" : "SNI too long";
	return rc;
}

/* What the head reader gathers of the first request. */
struct passthru_host {
	char *name;
	uint16_t *port;		/* the Host's port, 0: none */
	int len;		/* of the Host, -ENAMETOOLONG, 0: none */
	bool head;		/* the head ended */
};

/* The name of a Host or :authority value @value (@n), lowercased into
 * @name, and its port into *@port (0: none, or an empty one): host =
 * uri-host [ ":" port ]; an IPv6 literal keeps its colons inside
 * brackets, and is no name.  Returns passthru_lower()'s, or -EPROTO for a
 * port past 65535. */
static int passthru_authority(const char *value, size_t n,
			      char name[PASSTHRU_NAME_MAX], uint16_t *port)
{
	size_t len = n;
	uint32_t v = 0;

	for (size_t i = n; i-- > 0;) {
		if (value[i] == ':') {
			len = i;
			break;
		}
		if (value[i] < '0' || value[i] > '9')
			break;
	}
	for (size_t i = len + 1; i < n; i++) {
		v = v * 10 + (uint32_t)(value[i] - '0');
		if (v > 65535)
			return -EPROTO;
	}
	*port = (uint16_t)v;
	return passthru_lower(value, len, name);
}

static int passthru_on_header(void *arg, const char *name, size_t name_len,
			      const char *value, size_t value_len)
{
	struct passthru_host *h = arg;

	if (http1_token_eq(name, name_len, "host"))
		h->len = passthru_authority(value, value_len, h->name,
					    h->port);
	return 0;
}

static int passthru_on_head(void *arg, const struct http1_head *hd)
{
	struct passthru_host *h = arg;

	(void)hd;
	h->head = true;
	return HTTP1_STOP;
}

static const struct http1_cbs passthru_host_cbs = {
	.on_header = passthru_on_header,
	.on_head = passthru_on_head,
};

/* The Host of the HTTP/1.1 request head that @p (@n) starts with, read
 * afresh from the first byte (the bytes are few, and a head never grows
 * past the caller's buffer). */
static int passthru_http_host(const uint8_t *p, size_t n,
			      char name[PASSTHRU_NAME_MAX], uint16_t *port,
			      const char **why)
{
	struct passthru_host h = { .name = name, .port = port };
	struct http1 rd;
	int rc;

	http1_init(&rd, HTTP1_REQUEST, NULL, &passthru_host_cbs, &h);
	rc = http1_feed(&rd, (const char *)p, n);
	if (rc < 0 && http1_reason(&rd) == HTTP1_R_HOST_MISSING) {
		*why = "HTTP request without Host";
		rc = -ENOENT;
	} else if (rc < 0) {
		*why = "not an HTTP/1.1 request";
		rc = -EPROTO;
	} else if (!h.head) {
		rc = 0;
	} else if (h.len < 0) {
		*why = h.len == -EPROTO ? "Host is no DNS name" :
					  "Host too long";
		rc = h.len;
	} else if (h.len == 0) {
		*why = "HTTP request without Host";
		rc = -ENOENT;
	} else {
		rc = h.len;
	}
	http1_fini(&rd);
	return rc;
}

/* ---- HTTP/2 with prior knowledge (cleartext h2, gRPC) ------------------- */

/* What a server session of nghttp2 gathers of the first request. */
struct passthru_h2 {
	char *name;
	uint16_t *port;		/* its port, 0: none */
	int len;		/* of :authority (else Host), -errno, 0: none */
	bool authority;		/* len is :authority's, a Host does not
				 * override it */
	bool headers;		/* the first HEADERS frame (with its
				 * CONTINUATIONs) was received whole */
	bool bad;		/* nghttp2 found a frame or header invalid */
};

static int passthru_h2_on_header(nghttp2_session *s, const nghttp2_frame *f,
				 const uint8_t *name, size_t name_len,
				 const uint8_t *value, size_t value_len,
				 uint8_t flags, void *arg)
{
	struct passthru_h2 *h = arg;
	bool auth = name_len == 10 && !memcmp(name, ":authority", 10);

	(void)s;
	(void)flags;
	if (f->hd.type != NGHTTP2_HEADERS)
		return 0;
	if (auth || (!h->authority && name_len == 4 &&
		     !memcmp(name, "host", 4))) {
		h->len = passthru_authority((const char *)value, value_len,
					    h->name, h->port);
		h->authority = auth;
	}
	return 0;
}

/* The request's header block is whole (HEADERS and its CONTINUATIONs). */
static int passthru_h2_on_frame(nghttp2_session *s, const nghttp2_frame *f,
				void *arg)
{
	struct passthru_h2 *h = arg;

	(void)s;
	if (f->hd.type == NGHTTP2_HEADERS && !h->bad)
		h->headers = true;
	return 0;
}

/* Nothing after the request's header block is read: what follows is the
 * server's to judge.  (A callback failure ends nghttp2_session_mem_recv()
 * there.) */
static int passthru_h2_on_begin(nghttp2_session *s, const nghttp2_frame_hd *hd,
				void *arg)
{
	struct passthru_h2 *h = arg;

	(void)s;
	(void)hd;
	return h->headers ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
}

/* What the session would answer goes nowhere: only whether it is a
 * GOAWAY (a connection error) or RST_STREAM (the request refused)
 * counts. */
static ssize_t passthru_h2_send(nghttp2_session *s, const uint8_t *data,
				size_t len, int flags, void *arg)
{
	(void)s;
	(void)data;
	(void)flags;
	(void)arg;
	return (ssize_t)len;
}

static int passthru_h2_on_sent(nghttp2_session *s, const nghttp2_frame *f,
			       void *arg)
{
	struct passthru_h2 *h = arg;

	(void)s;
	if (f->hd.type == NGHTTP2_GOAWAY || f->hd.type == NGHTTP2_RST_STREAM)
		h->bad = true;
	return 0;
}

/* A connection error: nghttp2 would send GOAWAY. */
static int passthru_h2_on_error(nghttp2_session *s, int code, const char *msg,
				size_t len, void *arg)
{
	struct passthru_h2 *h = arg;

	(void)s;
	(void)code;
	(void)msg;
	(void)len;
	if (!h->headers)
		h->bad = true;
	return 0;
}

static int passthru_h2_on_invalid(nghttp2_session *s, const nghttp2_frame *f,
				  int error, void *arg)
{
	struct passthru_h2 *h = arg;

	(void)s;
	(void)f;
	(void)error;
	if (!h->headers)
		h->bad = true;
	return 0;
}

static int passthru_h2_on_bad_header(nghttp2_session *s,
				     const nghttp2_frame *f,
				     const uint8_t *name, size_t name_len,
				     const uint8_t *value, size_t value_len,
				     uint8_t flags, void *arg)
{
	struct passthru_h2 *h = arg;

	(void)s;
	(void)f;
	(void)name;
	(void)name_len;
	(void)value;
	(void)value_len;
	(void)flags;
	h->bad = true;
	return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
}

/* The :authority (or, without one, the Host) of the first request of the
 * HTTP/2 connection whose client preface @p (@n) starts with: a server
 * session of nghttp2 reads the preface, the frames before the request
 * (SETTINGS, WINDOW_UPDATE, PING, PRIORITY) and its HEADERS with any
 * CONTINUATION, and inflates the header block (HPACK).  Read afresh from
 * the first byte, as passthru_http_host(); what the session would answer
 * is never sent: the bytes are relayed untouched. */
static int passthru_h2_authority(const uint8_t *p, size_t n,
				 char name[PASSTHRU_NAME_MAX], uint16_t *port,
				 const char **why)
{
	struct passthru_h2 h = { .name = name, .port = port };
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_session *s = NULL;
	ssize_t r;
	int rc;

	if (nghttp2_session_callbacks_new(&cbs)) {
		*why = "out of memory";
		return -ENOMEM;
	}
	nghttp2_session_callbacks_set_on_header_callback(cbs,
							 passthru_h2_on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(
		cbs, passthru_h2_on_frame);
	nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(
		cbs, passthru_h2_on_invalid);
	nghttp2_session_callbacks_set_on_invalid_header_callback(
		cbs, passthru_h2_on_bad_header);
	nghttp2_session_callbacks_set_on_begin_frame_callback(
		cbs, passthru_h2_on_begin);
	nghttp2_session_callbacks_set_error_callback2(cbs,
						      passthru_h2_on_error);
	nghttp2_session_callbacks_set_send_callback(cbs, passthru_h2_send);
	nghttp2_session_callbacks_set_on_frame_send_callback(
		cbs, passthru_h2_on_sent);
	rc = nghttp2_session_server_new(&s, cbs, &h);
	nghttp2_session_callbacks_del(cbs);
	if (rc) {
		*why = "out of memory";
		return -ENOMEM;
	}
	r = nghttp2_session_mem_recv(s, p, n);
	/* An error nghttp2 found in the bytes before the request shows in
	 * what it would answer. */
	if (!h.headers && r >= 0)
		nghttp2_session_send(s);
	if (h.bad || (r < 0 && !h.headers)) {
		*why = "not an HTTP/2 request";
		rc = -EPROTO;
	} else if (!h.headers) {
		rc = 0;
	} else if (h.len < 0) {
		*why = h.len == -EPROTO ? ":authority is no DNS name" :
					  ":authority too long";
		rc = h.len;
	} else if (h.len == 0) {
		*why = "HTTP/2 request without :authority";
		rc = -ENOENT;
	} else {
		rc = h.len;
	}
	nghttp2_session_del(s);
	return rc;
}

int passthru_name(const uint8_t *p, size_t n, uint8_t *proto,
		  char name[PASSTHRU_NAME_MAX], uint16_t *port,
		  const char **why)
{
	uint16_t unused;

	if (!port)
		port = &unused;
	*port = 0;
	if (n == 0)
		return 0;
	if (p[0] == PASSTHRU_TLS_HANDSHAKE) {
		*proto = MF_PASSTHROUGH_TLS;
		return passthru_sni(p, n, name, why);
	}
	/* A client that speaks HTTP/2 first sends its preface; an
	 * HTTP/1.1 request never starts with "PR". */
	if (!memcmp(p, NGHTTP2_CLIENT_MAGIC, n < NGHTTP2_CLIENT_MAGIC_LEN ?
					     n : NGHTTP2_CLIENT_MAGIC_LEN) &&
	    (n >= 2 || p[0] != 'P')) {
		*proto = MF_PASSTHROUGH_HTTP2;
		return n < NGHTTP2_CLIENT_MAGIC_LEN ? 0 :
		       passthru_h2_authority(p, n, name, port, why);
	}
	*proto = MF_PASSTHROUGH_HTTP;
	return passthru_http_host(p, n, name, port, why);
}

int passthru_first(const uint8_t *p, size_t fill, size_t cap,
		   uint8_t *proto, char name[PASSTHRU_NAME_MAX],
		   uint16_t *port, size_t *grow, const char **why)
{
	int rc = passthru_name(p, fill, proto, name, port, why);

	*grow = 0;
	if (rc != 0 || fill < cap)
		return rc;
	if (*proto == MF_PASSTHROUGH_HTTP2 && cap < PASSTHRU_H2_ROOM) {
		*grow = PASSTHRU_H2_ROOM;
		return 0;
	}
	*why = cap < PASSTHRU_H2_ROOM ? "no name in the first 16 KiB" :
					"no name in the first 64 KiB";
	return -EMSGSIZE;
}

bool passthru_domain_match(const char *pattern, const char *name)
{
	size_t np = strlen(pattern), nn = strlen(name);

	if (np >= 2 && pattern[0] == '*' && pattern[1] == '.') {
		/* One label or more, then the suffix with its dot. */
		return nn > np - 1 &&
		       !strcasecmp(name + nn - (np - 1), pattern + 1);
	}
	return !strcasecmp(pattern, name);
}

/* Whether a Domain match of @protocol serves a connection whose name came
 * over @proto.  Kuma serves http, http2 and grpc matches alike, by an
 * HTTP listener that reads HTTP/1.1 and cleartext HTTP/2 (Envoy's codec
 * AUTO): its virtual hosts match the Host or :authority. */
static bool passthru_proto_serves(uint8_t protocol, uint8_t proto)
{
	if (proto == MF_PASSTHROUGH_TLS)
		return protocol == MF_PASSTHROUGH_TLS;
	return protocol == MF_PASSTHROUGH_HTTP ||
	       protocol == MF_PASSTHROUGH_HTTP2 ||
	       protocol == MF_PASSTHROUGH_GRPC;
}

/* The MeshPassthrough records of @p that select @src, in Kuma's merge
 * order (least precedent first): *c (the candidates) and *order (indexes
 * into them), both the caller's to free, and their count.  Returns the
 * count or -ENOMEM. */
static int passthru_select(const struct policy *p,
			   const struct mf_endpoint *src,
			   struct sel_cand **c, size_t **order)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_workload self;
	const struct sel_query q = { .self = &self,
				     .section = MF_SEC_DEFAULT };
	size_t n = 0;
	int got;

	*c = NULL;
	*order = NULL;
	if (router_cands(p, &kind_mesh_passthrough, c, &n))
		return -ENOMEM;
	*order = calloc(n ? n : 1, sizeof(**order));
	if (!*order)
		return -ENOMEM;
	router_view(p, src, &self);
	got = n ? sel_select(&kind_mesh_passthrough, *c, n, &q, &ctx,
			     *order) : 0;
	return got < 0 ? -ENOMEM : got;
}

/* The mode of the records @c of @order (@got), merged: the last one
 * written wins. */
static uint8_t passthru_merged_mode(const struct sel_cand *c,
				    const size_t *order, int got)
{
	uint8_t mode = 0;

	for (int i = 0; i < got; i++) {
		const struct mf_passthrough *pt = c[order[i]].val;

		if (pt->conf.passthrough_mode)
			mode = pt->conf.passthrough_mode;
	}
	return mode;
}

uint8_t passthru_mode(const struct policy *p, const struct mf_endpoint *src)
{
	struct sel_cand *c;
	size_t *order;
	int got = passthru_select(p, src, &c, &order);
	uint8_t mode = got > 0 ? passthru_merged_mode(c, order, got) : 0;

	free(order);
	free(c);
	return mode;
}

/* Whether Domain match @m admits a Host or :authority that named port
 * @host_port (0: none): Kuma's virtual host for a match with a port takes
 * the name alone and name:<port>; one without a port (an exact name: a
 * wildcard over HTTP must have one) takes name:<any>. */
static bool passthru_port_ok(const struct mf_passthrough_match *m,
			     uint16_t host_port)
{
	return !host_port || !m->port || host_port == m->port;
}

bool passthru_admit(const struct policy *p, const struct mf_endpoint *src,
		    uint16_t port, uint8_t proto, const char *name,
		    uint16_t host_port, const char **why)
{
	struct sel_cand *c;
	size_t *order;
	bool any = false, named = false, ok = false;
	int got = passthru_select(p, src, &c, &order);

	*why = "out of memory";
	if (got < 0)
		goto out;
	/* Kuma's merge, least precedent first: the last mode written
	 * wins; appendMatch lists add up (a field named append*). */
	*why = "passthroughMode is not Matched";
	if (passthru_merged_mode(c, order, got) != MF_PASSTHROUGH_MATCHED)
		goto out;
	for (int i = 0; i < got && !ok; i++) {
		const struct mf_passthrough_conf *cf =
			&((const struct mf_passthrough *)c[order[i]].val)->conf;

		/* The count is the map's: bounded, as anything read from
		 * it. */
		for (size_t j = 0; j < cf->nappend_match &&
				   j < MF_PASSTHROUGH_MATCHES_MAX && !ok; j++) {
			const struct mf_passthrough_match *m =
				&cf->append_match[j];
			char v[sizeof(m->value) + 1];

			if (m->type != MF_PASSTHROUGH_DOMAIN ||
			    !passthru_proto_serves(m->protocol, proto) ||
			    (m->port && m->port != port))
				continue;
			any = true;
			memcpy(v, m->value, sizeof(m->value));
			v[sizeof(m->value)] = '\0';
			if (!passthru_domain_match(v, name))
				continue;
			ok = passthru_port_ok(m, host_port);
			named = true;
		}
	}
	*why = ok ? "" : named ? "the port named with it is not the match's" :
	       any ? "no Domain match has the name" :
	       proto == MF_PASSTHROUGH_TLS ? "no tls Domain match on the port" :
	       "no http, http2 or grpc Domain match on the port";
out:
	free(order);
	free(c);
	return ok;
}
