// SPDX-License-Identifier: Apache-2.0
/*
 * MeshPassthrough's Domain matches in the agent (agent/passthru.c).
 * The name: the SNI of a real ClientHello (a wolfSSL client's first
 * flight, captured), read whole, 0 for each shorter prefix, -ENOENT
 * without SNI, -EPROTO for bytes that only start like TLS; the Host of an
 * HTTP/1.1 request head, lowercased and without its port, 0 until the
 * head ends, -ENOENT without Host (1.0), -EPROTO for what is no HTTP; a
 * name with a byte no DNS name has (a NUL inside an SNI) is refused.
 * Kuma's matching: exact and case-insensitive; *.example.com for one
 * label or more, not example.com itself nor a name that only ends like
 * it.  The policy: a snapshot compiled from YAML admits a name by the
 * protocol, port and value of the Mesh-wide Domain matches, refuses it
 * otherwise with a reason, and refuses everything unless the mode is
 * Matched.  HTTP/2 with prior knowledge: the :authority of the first
 * request of what a real nghttp2 client session sends (its preface,
 * SETTINGS, a WINDOW_UPDATE, HEADERS), its port left out, 0 for each
 * shorter prefix, the same with its header block split into HEADERS and
 * CONTINUATION frames; Host when there is no :authority; -EPROTO for a
 * preface followed by garbage or by a DATA frame before any request.
 * Large HTTP/2 header blocks (~20 and ~40 KiB of first flight, read in
 * pieces) grow the buffer once and are read; past 64 KiB they are
 * refused, as is an HTTP/1.1 head past 16 KiB.
 * http, http2 and grpc Domain matches serve HTTP/1.1 and HTTP/2 alike.
 * Targets: a MeshSubset or Dataplane MeshPassthrough applies to the
 * workloads it selects only, its mode over the Mesh's, its appendMatch
 * added to the Mesh's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>

#include "harness/test.h"
#include "harness/records_harness.h"

#include "../../agent/passthru.h"

/* What a wolfSSL client sends first. */
struct hello {
	uint8_t buf[4096];
	size_t len;
};

static int hello_send(WOLFSSL *ssl, char *p, int n, void *arg)
{
	struct hello *h = arg;

	(void)ssl;
	if ((size_t)n > sizeof(h->buf) - h->len)
		return WOLFSSL_CBIO_ERR_GENERAL;
	memcpy(h->buf + h->len, p, (size_t)n);
	h->len += (size_t)n;
	return n;
}

static int hello_recv(WOLFSSL *ssl, char *p, int n, void *arg)
{
	(void)ssl;
	(void)p;
	(void)n;
	(void)arg;
	return WOLFSSL_CBIO_ERR_WANT_READ;	/* no server: one flight */
}

/* The ClientHello of a wolfSSL client asking for @sni (NULL: none) into
 * @h.  Returns false after a failed assertion. */
static bool client_hello(const char *sni, struct hello *h)
{
	WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_client_method());
	WOLFSSL *ssl = NULL;
	bool ok = ASSERT_TRUE(ctx);

	h->len = 0;
	if (ok) {
		wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_NONE, NULL);
		wolfSSL_CTX_SetIOSend(ctx, hello_send);
		wolfSSL_CTX_SetIORecv(ctx, hello_recv);
		ssl = wolfSSL_new(ctx);
		ok = ASSERT_TRUE(ssl);
	}
	if (ok && sni)
		ok = ASSERT_EQ(wolfSSL_UseSNI(ssl, WOLFSSL_SNI_HOST_NAME, sni,
					      (unsigned short)strlen(sni)),
			       WOLFSSL_SUCCESS);
	if (ok) {
		wolfSSL_SetIOReadCtx(ssl, h);
		wolfSSL_SetIOWriteCtx(ssl, h);
		ok = ASSERT_NE(wolfSSL_connect(ssl), WOLFSSL_SUCCESS) &&
		     ASSERT_EQ(wolfSSL_get_error(ssl, 0), WOLFSSL_ERROR_WANT_READ) &&
		     ASSERT_GE(h->len, 100);
	}
	wolfSSL_free(ssl);
	wolfSSL_CTX_free(ctx);
	return ok;
}

/* The SNI of a real ClientHello, lowercased; no name from any shorter
 * prefix of it (more bytes needed). */
static bool test_sni(void)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct hello h;
	uint8_t proto = 0;
	bool ok = client_hello("API.Example.test", &h);

	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, NULL, &why),
			     (int)strlen("api.example.test")) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_TLS) &&
	     ASSERT_STREQ(name, "api.example.test");
	for (size_t n = 0; ok && n < h.len; n++)
		ok = ASSERT_EQ(passthru_name(h.buf, n, &proto, name, NULL, &why), 0);
	return ok;
}

/* A ClientHello without SNI has no name; bytes that open a handshake
 * record but are no ClientHello are refused. */
static bool test_sni_none(void)
{
	static const uint8_t junk[64] = { 22, 3, 1, 0, 40, 99 };
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct hello h;
	uint8_t proto = 0;
	bool ok = client_hello(NULL, &h);

	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, NULL, &why),
			     -ENOENT) &&
	     ASSERT_STREQ(why, "ClientHello without SNI");
	ok = ok && ASSERT_EQ(passthru_name(junk, sizeof(junk), &proto, name, NULL,
					   &why), -EPROTO) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_TLS);
	return ok;
}

/* The Host of the first request: lowercased, its port left out; 0 until
 * the head is whole; an HTTP/1.0 request without Host has no name; what
 * is no HTTP is refused. */
static bool test_host(void)
{
	static const char req[] =
		"GET /x HTTP/1.1\r\nUser-Agent: t\r\n"
		"Host: WWW.Example.ORG:8080\r\nAccept: */*\r\n\r\nbody";
	static const char req10[] = "GET / HTTP/1.0\r\nAccept: */*\r\n\r\n";
	static const char junk[] = "\x01\x02\x03 hello\r\n\r\n";
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	const size_t head = strlen(req) - strlen("body");
	uint8_t proto = 0;
	bool ok = true;

	ok = ASSERT_EQ(passthru_name((const uint8_t *)req, strlen(req), &proto,
				     name, NULL, &why), 15) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_HTTP) &&
	     ASSERT_STREQ(name, "www.example.org");
	for (size_t n = 0; ok && n < head; n++)
		ok = ASSERT_EQ(passthru_name((const uint8_t *)req, n, &proto,
					     name, NULL, &why), 0);
	ok = ok && ASSERT_EQ(passthru_name((const uint8_t *)req10,
					   strlen(req10), &proto, name, NULL, &why),
			     -ENOENT) &&
	     ASSERT_EQ(passthru_name((const uint8_t *)junk, strlen(junk),
				     &proto, name, NULL, &why), -EPROTO);
	return ok;
}

/* A name with a byte no DNS name has is refused, never matched: an SNI
 * "allowed.test", NUL, "evil" (the server gets all of it, a C string
 * would stop at the NUL: the ClientHello of "allowed.testXevil" with its
 * X made a NUL, lengths unchanged), a Host that is an IPv6 literal. */
static bool test_name_bytes(void)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n";
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	uint8_t *x = NULL;
	struct hello h;
	uint8_t proto = 0;
	bool ok = client_hello("allowed.testXevil", &h);

	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, NULL, &why),
			     17);
	if (ok)
		x = memmem(h.buf, h.len, "allowed.testX", 13);
	ok = ok && ASSERT_TRUE(x != NULL);
	if (ok)
		x[12] = 0;
	ok = ok && ASSERT_EQ(passthru_name(h.buf, h.len, &proto, name, NULL, &why),
			     -EPROTO) &&
	     ASSERT_STREQ(why, "SNI is no DNS name") &&
	     ASSERT_EQ(passthru_name((const uint8_t *)req, strlen(req), &proto,
				     name, NULL, &why), -EPROTO) &&
	     ASSERT_STREQ(why, "Host is no DNS name");
	return ok;
}

/* What a client session of nghttp2 sends: room for a first flight past
 * PASSTHRU_H2_ROOM. */
struct h2out {
	uint8_t buf[96 * 1024];
	size_t len;
};

static ssize_t h2_send(nghttp2_session *s, const uint8_t *data, size_t n,
		       int flags, void *arg)
{
	struct h2out *o = arg;

	(void)s;
	(void)flags;
	if (n > sizeof(o->buf) - o->len)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	return (ssize_t)n;
}

#define H2_NV(n, v)                                                           \
	{ (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1,       \
	  NGHTTP2_NV_FLAG_NONE }

/* The first flight of an nghttp2 client (its preface, SETTINGS, with
 * @window a WINDOW_UPDATE, then the request of @nva) into @o. */
static bool h2_client(const nghttp2_nv *nva, size_t nnv, bool window,
		      struct h2out *o)
{
	nghttp2_session_callbacks *cbs = NULL;
	nghttp2_option *opt = NULL;
	nghttp2_session *s = NULL;
	bool ok;

	o->len = 0;
	ok = ASSERT_EQ(nghttp2_session_callbacks_new(&cbs), 0) &&
	     ASSERT_EQ(nghttp2_option_new(&opt), 0);
	if (ok) {
		nghttp2_session_callbacks_set_send_callback(cbs, h2_send);
		/* A client sends no header block past 64 KiB by default:
		 * the tests of the bound need one. */
		nghttp2_option_set_max_send_header_block_length(
			opt, sizeof(o->buf));
	}
	ok = ok && ASSERT_EQ(nghttp2_session_client_new2(&s, cbs, o, opt),
			     0) &&
	     ASSERT_EQ(nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, NULL, 0),
		       0) &&
	     (!window || ASSERT_EQ(nghttp2_submit_window_update(
					   s, NGHTTP2_FLAG_NONE, 0, 1 << 20),
				   0)) &&
	     ASSERT_EQ(nghttp2_submit_request(s, NULL, nva, nnv, NULL, NULL),
		       1) &&
	     ASSERT_EQ(nghttp2_session_send(s), 0) &&
	     ASSERT_GE(o->len, NGHTTP2_CLIENT_MAGIC_LEN + 10) &&
	     ASSERT_EQ(memcmp(o->buf, NGHTTP2_CLIENT_MAGIC,
			      NGHTTP2_CLIENT_MAGIC_LEN), 0);
	nghttp2_session_del(s);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cbs);
	return ok;
}

static const nghttp2_nv h2_req[] = {
	H2_NV(":method", "GET"), H2_NV(":scheme", "http"),
	H2_NV(":authority", "H2.Example.test:8080"), H2_NV(":path", "/x"),
	H2_NV("user-agent", "t"),
};

/* The :authority of a real client's first request, its port left out;
 * 0 from every shorter prefix (the flight split anywhere). */
static bool test_h2(void)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct h2out o;
	uint8_t proto = 0;
	uint16_t port = 0;
	bool ok = h2_client(h2_req, 5, true, &o);

	ok = ok && ASSERT_EQ(passthru_name(o.buf, o.len, &proto, name, &port,
					   &why),
			     (int)strlen("h2.example.test")) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_HTTP2) &&
	     ASSERT_STREQ(name, "h2.example.test") && ASSERT_EQ(port, 8080);
	for (size_t n = 0; ok && n < o.len; n++)
		ok = ASSERT_EQ(passthru_name(o.buf, n, &proto, name, NULL, &why), 0);
	return ok;
}

/* The offset of the first frame of type @type after the preface of @o,
 * or 0. */
static size_t h2_find(const struct h2out *o, uint8_t type)
{
	size_t off = NGHTTP2_CLIENT_MAGIC_LEN;

	while (off + 9 <= o->len) {
		size_t len = (size_t)o->buf[off] << 16 |
			     (size_t)o->buf[off + 1] << 8 | o->buf[off + 2];

		if (o->buf[off + 3] == type)
			return off;
		off += 9 + len;
	}
	return 0;
}

/* The same request, its header block (nghttp2's HPACK) cut into a
 * HEADERS frame without END_HEADERS and two CONTINUATION frames. */
static bool test_h2_continuation(void)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct h2out o, c = { .len = 0 };
	uint8_t proto = 0;
	size_t at, len, cut[3];
	bool ok = h2_client(h2_req, 5, false, &o);

	at = ok ? h2_find(&o, NGHTTP2_HEADERS) : 0;
	ok = ok && ASSERT_NE(at, 0) &&
	     ASSERT_EQ(o.buf[at + 4] & (NGHTTP2_FLAG_PADDED |
					NGHTTP2_FLAG_PRIORITY), 0);
	if (!ok)
		return false;
	len = (size_t)o.buf[at] << 16 | (size_t)o.buf[at + 1] << 8 |
	      o.buf[at + 2];
	ok = ASSERT_GE(len, 6) && ASSERT_EQ(at + 9 + len, o.len);
	cut[0] = len / 3;
	cut[1] = len / 3;
	cut[2] = len - 2 * (len / 3);
	memcpy(c.buf, o.buf, at);
	c.len = at;
	for (int i = 0, off = 0; ok && i < 3; off += (int)cut[i], i++) {
		uint8_t *f = c.buf + c.len;

		f[0] = 0;
		f[1] = (uint8_t)(cut[i] >> 8);
		f[2] = (uint8_t)cut[i];
		f[3] = i == 0 ? NGHTTP2_HEADERS : NGHTTP2_CONTINUATION;
		f[4] = i == 0 ? o.buf[at + 4] & ~NGHTTP2_FLAG_END_HEADERS :
		       i == 2 ? NGHTTP2_FLAG_END_HEADERS : 0;
		memcpy(f + 5, o.buf + at + 5, 4);	/* the stream */
		memcpy(f + 9, o.buf + at + 9 + off, cut[i]);
		c.len += 9 + cut[i];
	}
	ok = ok && ASSERT_EQ(passthru_name(c.buf, c.len, &proto, name, NULL, &why),
			     (int)strlen("h2.example.test")) &&
	     ASSERT_STREQ(name, "h2.example.test");
	/* Before the last CONTINUATION is whole: more bytes. */
	for (size_t n = at; ok && n < c.len; n++)
		ok = ASSERT_EQ(passthru_name(c.buf, n, &proto, name, NULL, &why), 0);
	return ok;
}

/* Host stands in for a missing :authority. */
static bool test_h2_host(void)
{
	static const nghttp2_nv req[] = {
		H2_NV(":method", "GET"), H2_NV(":scheme", "http"),
		H2_NV(":path", "/"), H2_NV("host", "Grpc.Example.test"),
	};
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct h2out o;
	uint8_t proto = 0;
	bool ok = h2_client(req, 4, false, &o);

	return ok &&
	       ASSERT_EQ(passthru_name(o.buf, o.len, &proto, name, NULL, &why),
			 (int)strlen("grpc.example.test")) &&
	       ASSERT_STREQ(name, "grpc.example.test");
}

/* Garbage after the preface, and a DATA frame before any request, are
 * no HTTP/2 request; a preface that goes wrong is no HTTP either. */
static bool test_h2_garbage(void)
{
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	struct h2out o, g;
	uint8_t proto = 0;
	size_t at;
	bool ok = h2_client(h2_req, 5, false, &o);

	memcpy(g.buf, NGHTTP2_CLIENT_MAGIC, NGHTTP2_CLIENT_MAGIC_LEN);
	memset(g.buf + NGHTTP2_CLIENT_MAGIC_LEN, 0xff, 64);
	g.len = NGHTTP2_CLIENT_MAGIC_LEN + 64;
	ok = ok && ASSERT_EQ(passthru_name(g.buf, g.len, &proto, name, NULL, &why),
			     -EPROTO) &&
	     ASSERT_EQ(proto, MF_PASSTHROUGH_HTTP2) &&
	     ASSERT_STREQ(why, "not an HTTP/2 request");
	/* The client's HEADERS made a DATA frame on stream 1. */
	at = ok ? h2_find(&o, NGHTTP2_HEADERS) : 0;
	ok = ok && ASSERT_NE(at, 0);
	if (ok) {
		o.buf[at + 3] = NGHTTP2_DATA;
		o.buf[at + 4] = 0;
	}
	ok = ok && ASSERT_EQ(passthru_name(o.buf, o.len, &proto, name, NULL, &why),
			     -EPROTO);
	memcpy(g.buf, "PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n", 24);
	ok = ok && ASSERT_EQ(passthru_name(g.buf, 24, &proto, name, NULL, &why),
			     -EPROTO);
	return ok;
}

/*
 * Reads @o's @len bytes the way the agent does (passthru_first()): in
 * reads of at most @chunk bytes, into a buffer of PASSTHRU_ROOM that grows
 * when it says so.  Returns its last answer (0: the client sent all and
 * waits), the bytes taken into *@fill, whether the buffer grew into
 * *@grown.
 */
static int first_reads(const uint8_t *p, size_t len, size_t chunk,
		       char name[PASSTHRU_NAME_MAX], const char **why,
		       size_t *fill, bool *grown)
{
	size_t cap = PASSTHRU_ROOM, n = 0, grow = 0, take;
	uint8_t proto = 0;
	int rc = 0;

	*grown = false;
	while (rc == 0) {
		take = cap - n < chunk ? cap - n : chunk;
		take = len - n < take ? len - n : take;
		if (take == 0)
			break;
		n += take;
		rc = passthru_first(p, n, cap, &proto, name, NULL, &grow, why);
		if (rc == 0 && grow) {
			if (!ASSERT_GE(grow, cap + 1))
				return -EINVAL;
			cap = grow;
			*grown = true;
		}
	}
	*fill = n;
	return rc;
}

/* A request to h2.example.test whose header block carries @nbig headers
 * x-big-N of @vlen bytes each, which HPACK's Huffman code does not
 * shorten much (no two alike, so none is indexed): the first flight of
 * an nghttp2 client into @o. */
static bool h2_big(size_t nbig, size_t vlen, struct h2out *o)
{
	static char val[4][40 * 1024];
	static char names[4][8];
	nghttp2_nv nva[4 + 4] = {
		H2_NV(":method", "GET"), H2_NV(":scheme", "http"),
		H2_NV(":authority", "h2.example.test"), H2_NV(":path", "/x"),
	};
	uint32_t x = 12345;

	if (!ASSERT_TRUE(nbig <= 4 && vlen <= sizeof(val[0])))
		return false;
	for (size_t k = 0; k < nbig; k++) {
		for (size_t i = 0; i < vlen; i++) {
			x = x * 1103515245u + 12345u;
			val[k][i] = "!#$&*+^|~`{}<>[]"[(x >> 16) & 15];
		}
		snprintf(names[k], sizeof(names[k]), "x-big-%zu", k);
		nva[4 + k] = (nghttp2_nv){ (uint8_t *)names[k],
					   (uint8_t *)val[k],
					   strlen(names[k]), vlen,
					   NGHTTP2_NV_FLAG_NONE };
	}
	return h2_client(nva, 4 + nbig, true, o);
}

/*
 * HTTP/2 requests with large header blocks (HEADERS and CONTINUATION
 * frames, a real client's), past the pooled buffer: ~20 KiB and ~40 KiB
 * of first flight, read in pieces of 1,000 and of 7,000 bytes, have the
 * buffer grown to PASSTHRU_H2_ROOM once and give their :authority; the
 * usual small request does not grow it.  Past PASSTHRU_H2_ROOM, a request
 * is refused (-EMSGSIZE) with the 64 KiB taken; an HTTP/1.1 head or a
 * ClientHello never gets more than PASSTHRU_ROOM.
 */
static bool test_h2_large(void)
{
	static struct h2out o;
	static const size_t chunks[] = { 1000, 7000 };
	static const size_t sizes[][2] = { { 1, 20 * 1024 },
					   { 2, 20 * 1024 } };
	static char head[20 * 1024];
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	size_t fill = 0;
	bool grown = true, ok = true;
	int rc;

	for (size_t s = 0; ok && s < 2; s++) {
		ok = h2_big(sizes[s][0], sizes[s][1], &o) &&
		     ASSERT_GE(o.len, s == 0 ? 19 * 1024 : 38 * 1024) &&
		     ASSERT_GE(s == 0 ? 22 * 1024 : 44 * 1024, o.len) &&
		     ASSERT_NE(h2_find(&o, NGHTTP2_CONTINUATION), 0);
		for (size_t k = 0; ok && k < 2; k++) {
			rc = first_reads(o.buf, o.len, chunks[k], name, &why,
					 &fill, &grown);
			ok = ASSERT_EQ(rc, (int)strlen("h2.example.test")) &&
			     ASSERT_STREQ(name, "h2.example.test") &&
			     ASSERT_TRUE(grown) && ASSERT_EQ(fill, o.len);
		}
	}
	ok = ok && h2_client(h2_req, 5, true, &o) &&
	     ASSERT_EQ(first_reads(o.buf, o.len, 7000, name, &why, &fill,
				   &grown), (int)strlen("h2.example.test")) &&
	     ASSERT_FALSE(grown);
	/* Three headers of 24 KiB: past the room. */
	ok = ok && h2_big(3, 24 * 1024, &o) &&
	     ASSERT_GE(o.len, PASSTHRU_H2_ROOM + 1);
	ok = ok && ASSERT_EQ(first_reads(o.buf, o.len, 7000, name, &why, &fill,
					 &grown), -EMSGSIZE) &&
	     ASSERT_TRUE(grown) && ASSERT_EQ(fill, PASSTHRU_H2_ROOM) &&
	     ASSERT_STREQ(why, "no name in the first 64 KiB");
	/* HTTP/1.1: a head longer than the pooled buffer. */
	memset(head, 'a', sizeof(head));
	memcpy(head, "GET / HTTP/1.1\r\nX-Long: ", 24);
	ok = ok && ASSERT_EQ(first_reads((const uint8_t *)head, sizeof(head),
					 7000, name, &why, &fill, &grown),
			     -EMSGSIZE) &&
	     ASSERT_FALSE(grown) && ASSERT_EQ(fill, PASSTHRU_ROOM) &&
	     ASSERT_STREQ(why, "no name in the first 16 KiB");
	return ok;
}

/* Kuma's domain matching. */
static bool test_domain_match(void)
{
	return ASSERT_TRUE(passthru_domain_match("api.example.com",
						 "api.example.com")) &&
	       ASSERT_TRUE(passthru_domain_match("API.example.com",
						 "api.example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("api.example.com",
						  "x.api.example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("api.example.com",
						  "api.example.co")) &&
	       ASSERT_TRUE(passthru_domain_match("*.example.com",
						 "a.example.com")) &&
	       ASSERT_TRUE(passthru_domain_match("*.example.com",
						 "a.b.example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  "example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  ".example.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  "aexample.com")) &&
	       ASSERT_FALSE(passthru_domain_match("*.example.com",
						  "a.example.com.evil"));
}

#define PT_DOC(mode, matches)                                                 \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"         \
	RH_DOC("MeshPassthrough", "pt")                                       \
	"spec:\n  targetRef: {kind: Mesh}\n"                                  \
	"  default:\n    passthroughMode: " mode "\n    appendMatch:\n" matches

#define PT_MATCHES                                                            \
	"      - {type: Domain, value: api.example.test, port: 8443, "       \
	"protocol: tls}\n"                                                    \
	"      - {type: Domain, value: \"*.wild.test\", protocol: tls}\n"    \
	"      - {type: Domain, value: www.example.test, port: 80, "         \
	"protocol: http}\n"                                                   \
	"      - {type: CIDR, value: 10.0.0.0/8}\n"

/* The port a Host names, as Kuma's virtual hosts take it: the match's
 * own port when it has one, any port when it has none.  A port past 65535
 * is no Host. */
static bool test_admit_host_port(void)
{
	struct policy *p = rh_yaml_snapshot(PT_DOC("Matched",
		"      - {type: Domain, value: www.example.test, port: 80, "
		"protocol: http}\n"
		"      - {type: Domain, value: any.example.test, protocol: http}\n"),
		1);
	static const char big[] = "GET / HTTP/1.1\r\nHost: a.wild.test:65536"
				  "\r\n\r\n";
	static const char host[] = "GET / HTTP/1.1\r\nHost: WWW.example.test:80"
				   "\r\n\r\n";
	char name[PASSTHRU_NAME_MAX];
	const char *why = NULL;
	uint8_t proto = 0;
	uint16_t port = 0;
	bool ok;

	ok = ASSERT_TRUE(p) &&
	     ASSERT_EQ(passthru_name((const uint8_t *)host, strlen(host), &proto,
				     name, &port, &why),
		       (int)strlen("www.example.test")) &&
	     ASSERT_STREQ(name, "www.example.test") && ASSERT_EQ(port, 80) &&
	     ASSERT_EQ(passthru_name((const uint8_t *)big, strlen(big), &proto,
				     name, &port, &why), -EPROTO);
	ok = ok &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					"www.example.test", 80, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					"www.example.test", 0, &why)) &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					 "www.example.test", 8080, &why)) &&
	     ASSERT_STREQ(why, "the port named with it is not the match's") &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 8080, MF_PASSTHROUGH_HTTP,
					"any.example.test", 9, &why));
	if (p)
		policy_put(p);
	return ok;
}

/* The policy's verdict by protocol, port and name; nothing but Matched
 * admits by name. */
static bool test_admit(void)
{
	struct policy *p = rh_yaml_snapshot(PT_DOC("Matched", PT_MATCHES), 1);
	const char *why = NULL;
	bool ok;

	ok = ASSERT_TRUE(p) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 8443, MF_PASSTHROUGH_TLS,
					"api.example.test", 0, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 9999, MF_PASSTHROUGH_TLS,
					"x.wild.test", 0, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					"www.example.test", 0, &why));
	ok = ok && ASSERT_FALSE(passthru_admit(p, NULL, 8443, MF_PASSTHROUGH_TLS,
					       "evil.example.test", 0, &why)) &&
	     ASSERT_STREQ(why, "no Domain match has the name");
	/* The right name on another port, or over another protocol. */
	ok = ok && ASSERT_FALSE(passthru_admit(p, NULL, 8444, MF_PASSTHROUGH_TLS,
					       "api.example.test", 0, &why)) &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 8443, MF_PASSTHROUGH_HTTP,
					 "api.example.test", 0, &why)) &&
	     ASSERT_STREQ(why, "no http, http2 or grpc Domain match on the port") &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_TLS,
					 "www.example.test", 0, &why));
	if (p)
		policy_put(p);

	p = ok ? rh_yaml_snapshot(PT_DOC("All", PT_MATCHES), 1) : NULL;
	ok = ok && ASSERT_TRUE(p) &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 8443, MF_PASSTHROUGH_TLS,
					 "api.example.test", 0, &why)) &&
	     ASSERT_STREQ(why, "passthroughMode is not Matched");
	if (p)
		policy_put(p);
	return ok;
}

#define PT_SUBSET_DOC(mesh_mode, kind_sel, sub_mode)                          \
	RH_DOC("Mesh", "default") "spec: {trustDomain: mesh.local}\n"         \
	RH_DOC("Node", "n1") "spec: {address: 10.0.0.1}\n"                    \
	RH_DOC("Service", "x") "spec: {vip: 10.96.0.10, port: 80}\n"          \
	RH_DOC("Service", "y") "spec: {vip: 10.96.0.11, port: 80}\n"          \
	PT_WL("x1", "10.1.0.1", "x", "team: a")                               \
	PT_WL("y1", "10.1.0.2", "y", "team: b")                               \
	RH_DOC("MeshPassthrough", "mesh-wide")                                \
	"spec:\n  targetRef: {kind: Mesh}\n"                                  \
	"  default:\n    passthroughMode: " mesh_mode "\n    appendMatch:\n"  \
	"      - {type: Domain, value: all.test, port: 80, protocol: http}\n" \
	RH_DOC("MeshPassthrough", "team-a")                                   \
	"spec:\n  targetRef: " kind_sel "\n"                                  \
	"  default:\n    passthroughMode: " sub_mode "\n    appendMatch:\n"   \
	"      - {type: Domain, value: h2.test, port: 80, protocol: http2}\n"

#define PT_WL(name, ip, svc, tags)                                            \
	RH_DOC("Workload", name)                                              \
	"spec: {node: n1, ip: " ip ", port: 8080, service: " svc ", "         \
	"identity: \"spiffe://mesh.local/ns/default/sa/" svc "\", "           \
	"tags: {" tags "}}\n"

static const struct mf_endpoint *pt_ep(struct policy *p, const char *ip)
{
	struct in_addr a;

	inet_pton(AF_INET, ip, &a);
	return policy_endpoint_by_ip(p, a.s_addr);
}

/* http, http2 and grpc matches serve HTTP/1.1 and HTTP/2 alike; tls only
 * a ClientHello. */
static bool test_admit_http2(void)
{
	struct policy *p = rh_yaml_snapshot(PT_DOC("Matched",
		"      - {type: Domain, value: h2.test, port: 80, "
		"protocol: http2}\n"
		"      - {type: Domain, value: grpc.test, port: 50051, "
		"protocol: grpc}\n"), 1);
	const char *why = NULL;
	bool ok;

	ok = ASSERT_TRUE(p) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP2,
					"h2.test", 0, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP,
					"h2.test", 0, &why)) &&
	     ASSERT_TRUE(passthru_admit(p, NULL, 50051, MF_PASSTHROUGH_HTTP2,
					"grpc.test", 0, &why)) &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_HTTP2,
					 "other.test", 0, &why)) &&
	     ASSERT_STREQ(why, "no Domain match has the name") &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 80, MF_PASSTHROUGH_TLS,
					 "h2.test", 0, &why)) &&
	     ASSERT_FALSE(passthru_admit(p, NULL, 50052, MF_PASSTHROUGH_HTTP2,
					 "grpc.test", 0, &why));
	if (p)
		policy_put(p);
	return ok;
}

/* A MeshSubset (and a Dataplane) MeshPassthrough: the workloads it
 * selects get its mode and its matches added to the Mesh's; the others
 * only the Mesh's. */
static bool test_admit_targets(void)
{
	static const char *const docs[] = {
		PT_SUBSET_DOC("None", "{kind: MeshSubset, tags: {team: a}}",
			      "Matched"),
		PT_SUBSET_DOC("None", "{kind: Dataplane, name: x1}", "Matched"),
		PT_SUBSET_DOC("Matched", "{kind: MeshSubset, tags: {team: a}}",
			      "Matched"),
		PT_SUBSET_DOC("Matched", "{kind: MeshSubset, tags: {team: a}}",
			      "All"),
	};
	const char *why = NULL;
	bool ok = true;

	for (size_t i = 0; ok && i < 4; i++) {
		struct policy *p = rh_yaml_snapshot(docs[i], 1);
		const struct mf_endpoint *x = p ? pt_ep(p, "10.1.0.1") : NULL,
					 *y = p ? pt_ep(p, "10.1.0.2") : NULL;

		ok = ASSERT_TRUE(p) && ASSERT_TRUE(x) && ASSERT_TRUE(y);
		if (ok && i < 2) {
			/* The Mesh says None: x is Matched by its own,
			 * and has the Mesh's matches too; y none. */
			ok = ASSERT_TRUE(passthru_admit(p, x, 80,
					 MF_PASSTHROUGH_HTTP2, "h2.test", 0,
					 &why)) &&
			     ASSERT_TRUE(passthru_admit(p, x, 80,
					 MF_PASSTHROUGH_HTTP, "all.test", 0,
					 &why)) &&
			     ASSERT_FALSE(passthru_admit(p, y, 80,
					  MF_PASSTHROUGH_HTTP2, "h2.test", 0,
					  &why)) &&
			     ASSERT_STREQ(why,
					  "passthroughMode is not Matched") &&
			     ASSERT_FALSE(passthru_admit(p, NULL, 80,
					  MF_PASSTHROUGH_HTTP, "all.test", 0,
					  &why));
		} else if (ok && i == 2) {
			/* Both Matched: y has the Mesh's match only. */
			ok = ASSERT_TRUE(passthru_admit(p, x, 80,
					 MF_PASSTHROUGH_HTTP2, "h2.test", 0,
					 &why)) &&
			     ASSERT_TRUE(passthru_admit(p, y, 80,
					 MF_PASSTHROUGH_HTTP, "all.test", 0,
					 &why)) &&
			     ASSERT_FALSE(passthru_admit(p, y, 80,
					  MF_PASSTHROUGH_HTTP2, "h2.test", 0,
					  &why)) &&
			     ASSERT_STREQ(why, "no Domain match has the name");
		} else if (ok) {
			/* x's own All wins over the Mesh's Matched: the
			 * kernel lets its connections through, the agent
			 * reads no name for it. */
			ok = ASSERT_FALSE(passthru_admit(p, x, 80,
					  MF_PASSTHROUGH_HTTP, "all.test", 0,
					  &why)) &&
			     ASSERT_STREQ(why,
					  "passthroughMode is not Matched") &&
			     ASSERT_TRUE(passthru_admit(p, y, 80,
					 MF_PASSTHROUGH_HTTP, "all.test", 0,
					 &why));
		}
		if (p)
			policy_put(p);
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	wolfSSL_Init();
	TEST_RUN(test_sni);
	TEST_RUN(test_sni_none);
	TEST_RUN(test_host);
	TEST_RUN(test_name_bytes);
	TEST_RUN(test_domain_match);
	TEST_RUN(test_h2);
	TEST_RUN(test_h2_continuation);
	TEST_RUN(test_h2_host);
	TEST_RUN(test_h2_garbage);
	TEST_RUN(test_h2_large);
	TEST_RUN(test_admit);
	TEST_RUN(test_admit_host_port);
	TEST_RUN(test_admit_http2);
	TEST_RUN(test_admit_targets);
	wolfSSL_Cleanup();
	TEST_MAIN_END();
}
