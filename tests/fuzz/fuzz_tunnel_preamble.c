// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the tunnel's preamble after TLS, read as the inbound agent
 * reads it: the PROXY v2 header out of the plaintext of the tunnel's TLS
 * session, arriving in pieces (agent/tunhdr.c, what agent/tunnel.c calls
 * on each receive), then the bytes after it as the relay reads them.
 *
 * Each input runs a handshake between two sessions of the agent's, on the
 * agent's contexts: the outbound agent's client and the inbound agent's
 * server.  The client writes the input's stream in writes of the size
 * the input picks (so in records of that size), then maybe close_notify;
 * the ciphertext reaches the server in pieces of another size, and after
 * each the server reads.  Checked against pp2_decode() of the stream as
 * sent:
 *  - a header is taken only when whole and valid, at the first read that
 *    has all of it in, and it is the stream's;
 *  - the bytes after it are passed on intact: those the buffer holds past
 *    the header, then what the relay reads, are the rest of the stream;
 *  - a stream that begins with no header we take is refused as soon as
 *    the bytes in show it; one that ends before its header does is not
 *    taken (closed before it, or still waiting for it);
 *  - PP2_MAX_HEADER holds: no header past it is taken, and no read waits
 *    with that many bytes in;
 *  - the buffer holds the stream as it came, never past its size.
 *
 * Input:
 *   byte 0  bits 0-3: the size of the client's writes (fz_writes[]);
 *           bit 4: close_notify after the stream.
 *   byte 1  bits 0-3: the size of the ciphertext pieces (fz_feeds[]);
 *           bits 4-5: the size of the reader's buffer (fz_caps[]: the
 *           agent's, or just past PP2_MAX_HEADER).
 *   then the stream, at most FZ_STREAM_MAX bytes.
 *
 * FZ_VERBOSE=1 in the environment says how each input ended.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/tls-int.h"
#include "../../agent/tunhdr.h"
#include "fz_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* As in fuzz_tls_record.c: an input's few hundred KB of allocations. */
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

#define FZ_STREAM_MAX	4096u
/* The agent's buffer (CONN_PBUF_SIZE). */
#define FZ_PBUF		(16u * 1024)
#define FZ_FEEDS_MAX	4096u

static const size_t fz_writes[16] = {
	0, 1, 2, 3, 5, 12, 15, 16, 17, 28, 100, 511, 512, 513, 1000, 4096,
};

static const size_t fz_feeds[16] = {
	0, 1, 2, 3, 5, 21, 22, 23, 28, 50, 100, 533, 534, 1000, 4096, 5000,
};

static const size_t fz_caps[4] = {
	FZ_PBUF, PP2_MAX_HEADER + 1, PP2_MAX_HEADER + 16, 1024,
};

/* Where the reader is. */
enum fz_state {
	FZ_WAITING = 0,		/* no header yet */
	FZ_TAKEN,		/* the header is in: the relay reads on */
	FZ_ENDED,		/* refused, or closed before a header */
};

struct fz_rd {
	enum fz_state st;
	ssize_t ret;		/* tunhdr_read()'s last */
	uint8_t *buf;
	size_t cap;
	uint32_t fill;
	struct pp2_info info;
	size_t hdr;		/* FZ_TAKEN: the header's length */
	uint8_t after[FZ_STREAM_MAX];	/* what came after the header */
	size_t after_len;
	bool closed;		/* the relay read close_notify */
};

static struct tls_ctx *fz_cctx, *fz_sctx;

static void fz_fail(const char *what, const struct fz_rd *rd)
{
	fprintf(stderr, "tunnel_preamble: %s (result %zd, %u bytes in, "
		"header %zu)\n", what, rd->ret, rd->fill, rd->hdr);
	abort();
}

static bool fz_same_info(const struct pp2_info *a, const struct pp2_info *b)
{
	return memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	       memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0 &&
	       a->has_orig_dst == b->has_orig_dst &&
	       (!a->has_orig_dst ||
		memcmp(&a->orig_dst, &b->orig_dst, sizeof(a->orig_dst)) ==
		0) &&
	       a->has_req_id == b->has_req_id &&
	       (!a->has_req_id || a->req_id == b->req_id) &&
	       a->ack == b->ack;
}

/* One read of the header, as the agent does on a receive, checked against
 * the @len bytes of @stream the client sent, @closed when close_notify
 * followed them. */
static void fz_read_header(struct tls_sess *s, struct fz_rd *rd,
			   const uint8_t *stream, size_t len, bool closed)
{
	struct pp2_info want;
	uint32_t before = rd->fill;
	ssize_t expect;

	rd->ret = tunhdr_read(s, rd->buf, rd->cap, &rd->fill, &rd->info);
	fz_discard(s);
	if (rd->fill < before || rd->fill > rd->cap || rd->fill > len)
		fz_fail("the buffer's count is wrong", rd);
	if (memcmp(rd->buf, stream, rd->fill) != 0)
		fz_fail("the buffer is not the stream as it came", rd);
	memset(&want, 0, sizeof(want));
	expect = pp2_decode(stream, rd->fill, &want);
	if (rd->ret > 0) {
		if (rd->ret != expect || rd->ret > PP2_MAX_HEADER ||
		    !fz_same_info(&rd->info, &want))
			fz_fail("a header taken that is not the stream's", rd);
		/* At the first read that had it whole. */
		if (pp2_decode(stream, before, &want) != 0)
			fz_fail("a header taken late", rd);
		rd->st = FZ_TAKEN;
		rd->hdr = (size_t)rd->ret;
		rd->after_len = rd->fill - rd->hdr;
		memcpy(rd->after, rd->buf + rd->hdr, rd->after_len);
		return;
	}
	switch (rd->ret) {
	case 0:
		if (expect != 0 || rd->fill >= PP2_MAX_HEADER)
			fz_fail("waiting on what is no header prefix", rd);
		return;
	case -EBADMSG:
		if (expect >= 0)
			fz_fail("a header prefix refused", rd);
		break;
	case -EMSGSIZE:
		if (expect != 0 || rd->fill < PP2_MAX_HEADER)
			fz_fail("a header refused as too long", rd);
		break;
	case -ECONNRESET:
		if (expect != 0 || !closed || rd->fill != len)
			fz_fail("a close seen where there is none", rd);
		break;
	default:
		fz_fail("TLS failed", rd);
	}
	rd->st = FZ_ENDED;
}

/* The relay's reads after the header. */
static void fz_read_after(struct tls_sess *s, struct fz_rd *rd)
{
	static uint8_t buf[FZ_PBUF];
	ssize_t n;

	while (!rd->closed && (n = tls_read(s, buf, sizeof(buf))) != -EAGAIN) {
		if (n < 0)
			fz_fail("TLS failed after the header", rd);
		if (n == 0) {
			rd->closed = true;
			break;
		}
		if (rd->after_len + (size_t)n > sizeof(rd->after))
			fz_fail("more after the header than was sent", rd);
		memcpy(rd->after + rd->after_len, buf, (size_t)n);
		rd->after_len += (size_t)n;
	}
	fz_discard(s);
}

/* Once all of it has arrived, the end the stream calls for. */
static void fz_check_end(const struct fz_rd *rd, const uint8_t *stream,
			 size_t len, bool closed)
{
	struct pp2_info want;
	ssize_t whole = pp2_decode(stream, len, &want);

	if (whole > 0) {
		if (rd->st != FZ_TAKEN || rd->hdr != (size_t)whole)
			fz_fail("a whole header not taken", rd);
		if (rd->after_len != len - rd->hdr ||
		    memcmp(rd->after, stream + rd->hdr, rd->after_len) != 0)
			fz_fail("the bytes after the header are not the rest "
				"of the stream", rd);
		if (rd->closed != closed)
			fz_fail("close_notify lost or made up", rd);
	} else if (whole < 0) {
		if (rd->st != FZ_ENDED || rd->ret != -EBADMSG)
			fz_fail("no header, and not refused", rd);
	} else if (closed) {
		if (rd->st != FZ_ENDED || rd->ret != -ECONNRESET)
			fz_fail("closed before a header, and not said so", rd);
	} else if (rd->st != FZ_WAITING || rd->fill != len) {
		fz_fail("part of a header, and not waiting for the rest", rd);
	}
}

/* One piece of @a's ciphertext, at most @step bytes (0: as much as lies
 * together), to @b.  Returns its size; 0 when all went. */
static size_t fz_feed(struct tls_sess *a, struct tls_sess *b, size_t step)
{
	const void *p;
	size_t n = tls_out_pending(a, &p);

	if (step && n > step)
		n = step;
	if (n == 0)
		return 0;
	if (tls_feed(b, p, n))
		fz_die("the server's input queue is full");
	tls_out_consume(a, n);
	return n;
}

/* Our client and server through their handshake. */
static void fz_handshake(struct tls_sess *c, struct tls_sess *s)
{
	int rc = -EAGAIN, rs = -EAGAIN, i;

	for (i = 0; i < 20 && (rc == -EAGAIN || rs == -EAGAIN); i++) {
		if (rc == -EAGAIN)
			rc = tls_handshake(c);
		fz_pump(c, s, 0);
		if (rs == -EAGAIN)
			rs = tls_handshake(s);
		fz_pump(s, c, 0);
	}
	if (rc != 0 || rs != 0)
		fz_die("the handshake did not complete");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pbuf[FZ_PBUF];
	const uint8_t *stream = data + 2;
	size_t len, wsize, step, off;
	struct tls_sess *c, *s;
	struct fz_rd *rd;
	bool closed;

	if (size < 2)
		return 0;
	fz_tls_init();
	if (!fz_sctx) {
		fz_sctx = fz_tls_ctx(TLS_ROLE_SERVER, NULL);
		fz_cctx = fz_tls_ctx(TLS_ROLE_CLIENT, NULL);
	}
	len = size - 2 < FZ_STREAM_MAX ? size - 2 : FZ_STREAM_MAX;
	wsize = fz_writes[data[0] & 15];
	closed = data[0] & 0x10;
	step = fz_feeds[data[1] & 15];

	if (tls_sess_new(&c, fz_cctx) || tls_sess_new(&s, fz_sctx))
		fz_die("cannot make a session");
	fz_handshake(c, s);
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		fz_die("out of memory");
	rd->buf = pbuf;
	rd->cap = fz_caps[(data[1] >> 4) & 3];

	/* The outbound agent's writes: all of them fit its queue. */
	for (off = 0; off < len;) {
		size_t n = wsize && len - off > wsize ? wsize : len - off;

		if (tls_write(c, stream + off, n) != (ssize_t)n)
			fz_die("the client's write was cut");
		off += n;
	}
	if (closed && tls_close_notify(c))
		fz_die("the client cannot close");

	/* The inbound agent's receives. */
	if (step && c->out.len / step > FZ_FEEDS_MAX)
		step = c->out.len / FZ_FEEDS_MAX + 1;
	while (fz_feed(c, s, step) > 0) {
		if (rd->st == FZ_WAITING)
			fz_read_header(s, rd, stream, len, closed);
		if (rd->st == FZ_TAKEN)
			fz_read_after(s, rd);
	}
	fz_check_end(rd, stream, len, closed);
	if (getenv("FZ_VERBOSE"))
		fprintf(stderr, "tunnel_preamble: %s, result %zd, %u bytes in, "
			"header %zu, %zu after%s\n",
			rd->st == FZ_TAKEN ? "taken" :
			rd->st == FZ_ENDED ? "ended" : "waiting", rd->ret,
			rd->fill, rd->hdr, rd->after_len,
			rd->closed ? ", closed" : "");

	free(rd);
	tls_sess_free(s);
	tls_sess_free(c);
	return 0;
}
