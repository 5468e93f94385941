// SPDX-License-Identifier: Apache-2.0
/*
 * Message heads (agent/hhead.c): the field names the proxy acts on are
 * told apart once, in any case, and only those (a name of the same length
 * is another); lookups and removals by name find a field whatever its
 * case, known or not; and the forwarded head drops the hop-by-hop fields
 * and those Connection names, in any case, keeps the ones that frame and
 * address the message, and merges X-Forwarded-For; in a queue whose chunk
 * is nearly full, or with a field bigger than a chunk, it is the same
 * bytes.
 */
#include "harness/test.h"
#include "../../agent/hhead.h"

static bool known_is(const char *name, enum hhead_known k)
{
	return hhead_known_of(name, strlen(name)) == k;
}

static bool test_known_names(void)
{
	return ASSERT_TRUE(known_is("connection", HHEAD_K_CONNECTION)) &&
	       ASSERT_TRUE(known_is("CONNECTION", HHEAD_K_CONNECTION)) &&
	       ASSERT_TRUE(known_is("Keep-Alive", HHEAD_K_KEEP_ALIVE)) &&
	       ASSERT_TRUE(known_is("Proxy-Connection",
				    HHEAD_K_PROXY_CONNECTION)) &&
	       ASSERT_TRUE(known_is("TE", HHEAD_K_TE)) &&
	       ASSERT_TRUE(known_is("Trailer", HHEAD_K_TRAILER)) &&
	       ASSERT_TRUE(known_is("uPgRaDe", HHEAD_K_UPGRADE)) &&
	       ASSERT_TRUE(known_is("Transfer-Encoding",
				    HHEAD_K_TRANSFER_ENCODING)) &&
	       ASSERT_TRUE(known_is("Content-Length",
				    HHEAD_K_CONTENT_LENGTH)) &&
	       ASSERT_TRUE(known_is("Host", HHEAD_K_HOST)) &&
	       ASSERT_TRUE(known_is("X-Forwarded-For",
				    HHEAD_K_X_FORWARDED_FOR)) &&
	       ASSERT_TRUE(known_is("X-Request-Id", HHEAD_K_X_REQUEST_ID)) &&
	       /* Same length, another name; a prefix; a longer name. */
	       ASSERT_TRUE(known_is("connectiox", HHEAD_K_OTHER)) &&
	       ASSERT_TRUE(known_is("Donnection", HHEAD_K_OTHER)) &&
	       ASSERT_TRUE(known_is("hosts", HHEAD_K_OTHER)) &&
	       ASSERT_TRUE(known_is("hos", HHEAD_K_OTHER)) &&
	       ASSERT_TRUE(known_is("te2", HHEAD_K_OTHER)) &&
	       ASSERT_TRUE(known_is("", HHEAD_K_OTHER));
}

static bool add(struct hhead *h, const char *name, const char *value)
{
	return ASSERT_EQ(hhead_add(h, name, strlen(name), value,
				   strlen(value)), 0);
}

static bool get_is(const struct hhead *h, const char *name, const char *want)
{
	const char *v;
	size_t n;

	if (!want)
		return ASSERT_FALSE(hhead_get(h, name, &v, &n));
	return ASSERT_TRUE(hhead_get(h, name, &v, &n)) &&
	       ASSERT_EQ(n, strlen(want)) && ASSERT_MEMEQ(v, want, n);
}

static bool test_get_and_remove(void)
{
	struct http1_start sl = { .method = "GET", .method_len = 3,
				  .target = "/", .target_len = 1,
				  .major = 1, .minor = 1 };
	struct hhead h = { 0 };
	bool ok;

	ok = ASSERT_EQ(hhead_start(&h, true, &sl), 0) &&
	     add(&h, "HOST", "a.example") && add(&h, "X-Thing", "1") &&
	     add(&h, "x-request-ID", "r1") && add(&h, "Connectiox", "no");
	ok = ok && get_is(&h, "host", "a.example") &&
	     get_is(&h, "Host", "a.example") &&
	     get_is(&h, "x-thing", "1") && get_is(&h, "X-THING", "1") &&
	     get_is(&h, "X-Request-Id", "r1") &&
	     get_is(&h, "connectiox", "no") &&
	     get_is(&h, "connection", NULL) && get_is(&h, "x-thin", NULL);
	hhead_remove(&h, "X-REQUEST-ID");
	hhead_remove(&h, "x-THING");
	ok = ok && get_is(&h, "x-request-id", NULL) &&
	     get_is(&h, "x-thing", NULL) && get_is(&h, "host", "a.example") &&
	     ASSERT_EQ(h.nf, 2);
	/* Set replaces, in the case given; the name is known again. */
	ok = ok && ASSERT_EQ(hhead_set(&h, "Host", "b.example"), 0) &&
	     get_is(&h, "HOST", "b.example") && ASSERT_EQ(h.nf, 2);
	hhead_free(&h);
	return ok;
}

static bool test_render(void)
{
	struct http1_start sl = { .method = "GET", .method_len = 3,
				  .target = "/x", .target_len = 2,
				  .major = 1, .minor = 1 };
	struct hhead_fwd fw = { .xff = "10.0.0.9" };
	static const char want[] =
		"GET /x HTTP/1.1\r\n"
		"HOST: h\r\n"
		"content-length: 0\r\n"
		"X-Keep: 1\r\n"
		"X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.9\r\n"
		"\r\n";
	struct hhead h = { 0 };
	struct bufq_out out = { 0 };
	char got[sizeof(want)];
	const void *p;
	size_t n;
	bool ok;

	/* Connection names X-Drop and, to no effect, Content-Length and
	 * Host; every hop-by-hop field goes, whatever its case. */
	ok = ASSERT_EQ(hhead_start(&h, true, &sl), 0) &&
	     add(&h, "HOST", "h") &&
	     add(&h, "CONNECTION", "X-DROP, content-LENGTH, host") &&
	     add(&h, "content-length", "0") && add(&h, "x-drop", "1") &&
	     add(&h, "X-Keep", "1") && add(&h, "KEEP-ALIVE", "t=1") &&
	     add(&h, "te", "trailers") && add(&h, "Trailer", "x") &&
	     add(&h, "UPGRADE", "ws") && add(&h, "proxy-CONNECTION", "k") &&
	     add(&h, "x-forwarded-FOR", "10.0.0.1") &&
	     add(&h, "X-Forwarded-For", "10.0.0.2") &&
	     ASSERT_EQ(hhead_render(&h, &fw, &out), 0);
	n = bufq_out_peek(&out, &p);
	ok = ok && ASSERT_EQ(n, sizeof(want) - 1);
	if (ok) {
		memcpy(got, p, n);
		got[n] = '\0';
		ok = ASSERT_STREQ(got, want);
	}
	bufq_out_free(&out);
	hhead_free(&h);
	return ok;
}

/* Everything @out holds, consumed, into @buf (@cap bytes).  Returns how
 * many, or cap + 1 when it held more. */
static size_t drain(struct bufq_out *out, char *buf, size_t cap)
{
	const void *p;
	size_t n, got = 0;

	while ((n = bufq_out_peek(out, &p)) > 0) {
		if (got + n > cap)
			return cap + 1;
		memcpy(buf + got, p, n);
		got += n;
		bufq_out_consume(out, n);
	}
	return got;
}

/* A field is written whole where the queue's last chunk has room for it,
 * else at the start of the next; one bigger than a chunk spans chunks.
 * The queue holds the same bytes either way. */
static bool test_render_across_chunks(void)
{
	enum { BIG = BUFQ_CHUNK + 5000 };
	struct http1_start sl = { .method = "GET", .method_len = 3,
				  .target = "/", .target_len = 1,
				  .major = 1, .minor = 1 };
	static char big[BIG], want[3 * BUFQ_CHUNK], got[3 * BUFQ_CHUNK];
	static const char lead[] = "GET / HTTP/1.1\r\n";
	struct hhead_fwd fw = { 0 };
	struct bufq_out out = { 0 };
	struct hhead h = { 0 };
	size_t fill = BUFQ_CHUNK - 20, n = 0;
	bool ok;

	memset(big, 'v', sizeof(big));
	memset(want, 'f', fill);
	n = fill;
	memcpy(want + n, lead, sizeof(lead) - 1);
	n += sizeof(lead) - 1;
	/* 20 bytes were left in the first chunk: the request line takes
	 * 16, this field does not fit the 4 left. */
	n += (size_t)sprintf(want + n, "X-Twelve: 123456789012\r\n");
	n += (size_t)sprintf(want + n, "X-Big: ");
	memcpy(want + n, big, sizeof(big));
	n += sizeof(big);
	n += (size_t)sprintf(want + n, "\r\n\r\n");

	ok = ASSERT_EQ(bufq_out_put(&out, want, fill), 0) &&
	     ASSERT_EQ(hhead_start(&h, true, &sl), 0) &&
	     add(&h, "X-Twelve", "123456789012") &&
	     ASSERT_EQ(hhead_add(&h, "X-Big", 5, big, sizeof(big)), 0) &&
	     ASSERT_EQ(hhead_render(&h, &fw, &out), 0) &&
	     ASSERT_EQ(out.len, n) &&
	     ASSERT_EQ(drain(&out, got, sizeof(got)), n) &&
	     ASSERT_MEMEQ(got, want, n);
	bufq_out_free(&out);
	hhead_free(&h);
	return ok;
}

/* Lookups by a known name find the first such field wherever it is: after
 * fields were removed before it, and past the 254th field. */
static bool test_get_known_anywhere(void)
{
	struct hhead h = { 0 };
	char name[16];
	bool ok = true;

	ok = add(&h, "X-A", "1") && add(&h, "Host", "h1") &&
	     add(&h, "X-Request-Id", "r1") && add(&h, "host", "h2");
	ok = ok && get_is(&h, "HOST", "h1") && get_is(&h, "x-request-id", "r1");
	hhead_remove(&h, "x-a");
	ok = ok && get_is(&h, "host", "h1") && get_is(&h, "x-request-id", "r1");
	hhead_remove(&h, "Host");
	ok = ok && get_is(&h, "host", NULL) && get_is(&h, "x-request-id", "r1") &&
	     ASSERT_EQ(h.nf, 1);
	hhead_free(&h);
	/* 300 fields, a Host at 260 and a Connection last. */
	for (int i = 0; ok && i < 300; i++) {
		snprintf(name, sizeof(name), "x-f%d", i);
		ok = i == 260 ? add(&h, "Host", "far") : add(&h, name, "v");
	}
	ok = ok && add(&h, "Connection", "x-f3") &&
	     get_is(&h, "host", "far") && get_is(&h, "connection", "x-f3") &&
	     get_is(&h, "te", NULL);
	hhead_remove(&h, "x-f0");
	ok = ok && get_is(&h, "host", "far") &&
	     get_is(&h, "connection", "x-f3");
	hhead_free(&h);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_known_names);
	TEST_RUN(test_get_and_remove);
	TEST_RUN(test_get_known_anywhere);
	TEST_RUN(test_render);
	TEST_RUN(test_render_across_chunks);
	TEST_MAIN_END();
}
