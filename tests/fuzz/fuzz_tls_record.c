// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: our TLS 1.3 record layer (agent/tls_record.c) against
 * wolfSSL's, on the same records after the same handshake.
 *
 * Each input runs a real handshake on the agent's contexts between a
 * sender of ours (tls_handshake(), the agent's path) and a wolfSSL session
 * that does not hand over: the sender is the client and wolfSSL the
 * server, or the other way round.  wolfSSL's traffic secrets go, while it
 * shakes hands, to a second session of ours in its role, which takes the
 * keys over from that WOLFSSL as the agent does (tls_handoff_keys()).  So
 * two receivers hold the same read key at the same sequence number: ours,
 * and wolfSSL's own record layer.  The sender's record layer seals what
 * the input asks for, and both receivers get the same bytes, fed in the
 * same pieces; each is
 * read until it wants more, has seen close_notify, or fails.  They must
 * end alike: both open, both closed or both failed (on the same record),
 * with the same plaintext in the same order; where they do not, the
 * difference must be one of those listed under "Differences" below,
 * checked on the record it happens at, else the target aborts.
 *
 * Input:
 *   byte 0   bit 0: the suite (0: TLS_AES_128_GCM_SHA256, 1: ChaCha20);
 *            bits 1-4: our read buffer's size (fz_rbufs[]).
 *   byte 1   bits 0-3: how the stream is fed (fz_steps[]: 0 whole, else
 *            pieces of that many bytes); FZ_RX_CLIENT: the receivers are
 *            clients (else servers).
 *   then operations, one byte each (low 3 bits) and their arguments, each
 *   adding to the stream:
 *     0 RECORD     type, flags, pad, len (2 bytes), then the content
 *                  (len bytes of input, or FZ_FILL: a pattern); a record
 *                  of inner type @type sealed with the sender's key:
 *                  FZ_NEXT_KEY  the sender moves to its next key after it
 *                               (as after sending a KeyUpdate)
 *                  FZ_FILL      content from a pattern, up to FZ_INNER_MAX
 *                  FZ_VER_*     the header's legacy_record_version
 *                  FZ_OUTER     the header's type from the next byte
 *                  FZ_PAD64     padding counts 64 bytes a unit
 *     1 KEYUPDATE  request_update: a KeyUpdate, then the next key
 *     2 ALERT      level, description
 *     3 DATA       len, then len bytes: application data
 *     4 RAW        len, then len bytes put in the stream as they are
 *     5 FLIP       where (2 bytes), mask: flips bits of the last record
 *                  (or, top bit of where, of the whole stream)
 *     6 TRUNC      n: the stream loses its last n bytes
 *     7 SEQ        how: replay the last record, skip sequence numbers, or
 *                  use the last one again
 *
 * Differences (wolfSSL 5.5.4 as Debian builds it; RFC 8446 sections):
 * each is accepted only where fz_explain() finds its condition on the
 * record the two part at, the record as the input sealed it.
 *   D1 legacy_record_version: wolfSSL refuses a header whose version is
 *      not 0x0303 or 0x0304 (VERSION_ERROR); ours does not look at it,
 *      as 5.1 requires ("MUST be ignored for all purposes"): it only
 *      authenticates it as part of the additional data.  So ours takes
 *      such a record when it is authentic, and waits for the whole of
 *      it to tell.
 *   D2 A KeyUpdate followed by more of its record: ours refuses it with
 *      unexpected_message, as 5.1 requires of a message that precedes a
 *      key change and does not end its record; wolfSSL goes on with the
 *      rest of the record, read under the old key.
 *   D3 An alert other than close_notify and user_canceled at a level
 *      other than fatal: wolfSSL goes on (a warning, as in TLS 1.2);
 *      ours fails, as 6 and 6.2 require ("MUST be treated as error
 *      alerts when received regardless of the AlertLevel", unknown ones
 *      too).
 *   D4 close_notify or user_canceled at level fatal: wolfSSL fails on
 *      the level; ours reads the description, the level being one that
 *      "can safely be ignored" (6): close_notify closes, user_canceled
 *      is let through (6.1: a close_notify follows it).
 *   D5 Alerts in number: wolfSSL fails on the fifth alert a session gets
 *      whatever it is (WOLFSSL_ALERT_COUNT_MAX), a guard of its own that
 *      RFC 8446 does not have; the only alerts ours does not fail on
 *      are close_notify, after which it reads nothing, and user_canceled,
 *      which costs it what an empty record does.
 *   D6 A handshake message split over records: wolfSSL puts it together,
 *      as 5.1 allows; ours refuses it by design (tls_record.c): the only
 *      message it takes is a KeyUpdate of 5 bytes, which no peer splits.
 *   D7 When: each refuses some records on their header alone, and for
 *      others waits for the body; where the stream ends inside such a
 *      record, one has refused it and the other still waits.  Ours
 *      refuses on the header an outer type other than application_data
 *      and a length out of bounds (5.2: record_overflow "MUST"), wolfSSL
 *      its own set (a version, some types, lengths), then takes 5 bytes.
 *   D8 A NewSessionTicket (to a client) that does not parse: ours reads
 *      a ticket for its syntax only, and refuses (6: decode_error) an
 *      empty ticket (4.6.1: ticket<1..2^16-1>) and extensions that do not
 *      frame (4.2); wolfSSL takes an empty ticket, and with this build
 *      (no WOLFSSL_EARLY_DATA) only checks that the extensions fill the
 *      message.
 *   D9 A NewSessionTicket that parses with a ticket_lifetime over 7 days
 *      or a ticket_nonce over 8 bytes: wolfSSL refuses the first (4.6.1
 *      forbids it to servers, and tells clients to keep no ticket for
 *      longer "regardless of the ticket_lifetime") and cannot keep the
 *      second (TLS13_TICKET_NONCE_STATIC_SZ); ours, keeping no ticket,
 *      takes both.
 *
 * FZ_VERBOSE=1 in the environment says how each input ended, with the
 * records it sealed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/tls.c"
#include "../../agent/tls_record.c"
#include "fz_tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* Each input allocates a few hundred KB (three WOLFSSLs, queues): with
 * ASan's default quarantine of 256 MB every allocation is memory never
 * touched before, and page faults take most of the time.  16 MB still
 * holds an input's worth of freed memory. */
const char *__asan_default_options(void)
{
	return "quarantine_size_mb=16";
}

/* The stream both receivers get, and what each gives back. */
#define FZ_STREAM_MAX	(160u * 1024)
/* Stop adding records past this. */
#define FZ_STREAM_CAP	(96u * 1024)
/* Largest inner plaintext a RECORD makes: past both receivers' limits
 * (ours 2^14 + 1, wolfSSL's on the header some 17.5 KB). */
#define FZ_INNER_MAX	18000u
/* Feeds per input at most: a small step over a long stream is slow. */
#define FZ_FEEDS_MAX	4096u
#define FZ_OPS_MAX	256u

/* Configuration, byte 1. */
#define FZ_RX_CLIENT	0x10

/* RECORD flags. */
#define FZ_NEXT_KEY	0x01
#define FZ_FILL		0x02
#define FZ_VER_MASK	0x0c
#define FZ_VER_1_2	0x00	/* 0x0303, as TLS 1.3 sends */
#define FZ_VER_1_3	0x04	/* 0x0304 */
#define FZ_VER_1_0	0x08	/* 0x0301 */
#define FZ_VER_ANY	0x0c	/* two more input bytes */
#define FZ_OUTER	0x10
#define FZ_PAD64	0x20

enum fz_op {
	FZ_OP_RECORD = 0,
	FZ_OP_KEY_UPDATE,
	FZ_OP_ALERT,
	FZ_OP_DATA,
	FZ_OP_RAW,
	FZ_OP_FLIP,
	FZ_OP_TRUNC,
	FZ_OP_SEQ,
};

static const size_t fz_rbufs[16] = {
	1, 2, 5, 16, 17, 100, 1000, 4096, 16383, 16384, 16385, 16400, 20000,
	32768, 65536, 65536,
};

static const size_t fz_steps[16] = {
	0, 1, 2, 3, 5, 7, 16, 21, 100, 512, 1000, 4096, 5000, 16389, 16406,
	40000,
};

/* A record the input sealed, as it went out, for fz_explain(). */
struct fz_rec {
	size_t off, len;	/* in the stream, header included */
	uint8_t outer;		/* the header's type */
	uint16_t version;	/* and legacy_record_version */
	/* The inner content type and the content, n bytes, as a receiver
	 * finds them, zeros at the end taken as padding (0: none left) */
	uint8_t type;
	const uint8_t *p;	/* in the input or in copy; NULL: the
				 * pattern */
	size_t n, pad;
	uint8_t copy[8];	/* a short content of the target's own */
	uint64_t sum;		/* of its bytes as sealed (fz_sum()) */
};

struct fz_gen {
	const uint8_t *in;	/* the input, past the configuration */
	size_t n, off;
	uint8_t *s;		/* the stream */
	size_t len;
	struct tls_sess *snd;	/* the sender, ours */
	struct fz_rec recs[FZ_OPS_MAX];
	size_t nrecs;
};

enum fz_state {
	FZ_OPEN = 0,		/* read all it could, wants more */
	FZ_CLOSED,		/* saw close_notify */
	FZ_FAILED,		/* refused the stream */
};

static const char *fz_state_str(enum fz_state st)
{
	switch (st) {
	case FZ_OPEN:
		return "open";
	case FZ_CLOSED:
		return "closed";
	case FZ_FAILED:
		return "failed";
	}
	return "?";
}

/* What one receiver made of the stream. */
struct fz_rx {
	const char *name;
	enum fz_state st;
	uint8_t *pt;		/* plaintext read, in order */
	size_t len;
	int err;		/* FZ_FAILED: ours -errno, wolfSSL's code */
	size_t taken;		/* stream bytes it has taken in */
};

static struct tls_ctx *fz_sctx, *fz_cctx[2];

static uint8_t fz_byte(struct fz_gen *g)
{
	return g->off < g->n ? g->in[g->off++] : 0;
}

/* Byte @i of the content FZ_FILL makes. */
static uint8_t fz_pattern(size_t i)
{
	return (uint8_t)(i * 131 + 7);
}

/* FNV-1a of @n bytes at @p: tells a record as sealed from one that FLIP
 * or TRUNC changed (and not one changed back). */
static uint64_t fz_sum(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

/* Adds one record to the stream: a header of @outer and @version, inner
 * plaintext @n bytes of content (@p, or the pattern when NULL), @type,
 * @pad zeros, sealed with the sender's key as it is. */
static void fz_seal(struct fz_gen *g, uint8_t outer, uint16_t version,
		    uint8_t type, const uint8_t *p, size_t n, size_t pad)
{
	size_t inner = n + 1 + pad, blen = inner + TLS_TAG_LEN, i, k;
	struct fz_rec *r;
	uint8_t *h, *body;

	if (blen > 0xffff || g->len + TLS_HDR_LEN + blen > FZ_STREAM_MAX ||
	    g->nrecs == FZ_OPS_MAX)
		return;
	h = g->s + g->len;
	body = h + TLS_HDR_LEN;
	h[0] = outer;
	h[1] = (uint8_t)(version >> 8);
	h[2] = (uint8_t)version;
	h[3] = (uint8_t)(blen >> 8);
	h[4] = (uint8_t)blen;
	for (i = 0; i < n; i++)
		body[i] = p ? p[i] : fz_pattern(i);
	body[n] = type;
	memset(body + n + 1, 0, pad);
	r = &g->recs[g->nrecs];
	memset(r, 0, sizeof(*r));
	r->off = g->len;
	r->len = TLS_HDR_LEN + blen;
	r->outer = outer;
	r->version = version;
	/* A content type 0 makes the content's zeros at its end padding
	 * too, and its last other byte the type. */
	for (k = inner; k > 0 && body[k - 1] == 0; k--)
		;
	r->type = k ? body[k - 1] : 0;
	r->n = k ? k - 1 : 0;
	r->pad = inner - k;
	r->p = p;
	if (p && r->n <= sizeof(r->copy)) {
		memcpy(r->copy, p, r->n);
		r->p = r->copy;
	}
	/* A key past its last sequence number refuses: the record is not
	 * made (the receivers never get there in a few hundred records). */
	if (tls_crypt(&g->snd->rec, true, h, body, inner, body) < 0)
		return;
	r->sum = fz_sum(h, r->len);
	g->nrecs++;
	g->len += r->len;
}

/* The sender moves to its next key, as after its KeyUpdate. */
static void fz_next_key(struct fz_gen *g)
{
	if (tls_dir_next(&g->snd->rec, &g->snd->rec.wr) < 0)
		fz_die("cannot derive the next key");
}


static void fz_op_record(struct fz_gen *g)
{
	uint8_t type = fz_byte(g), flags = fz_byte(g), padb = fz_byte(g);
	size_t n = (size_t)fz_byte(g) << 8, pad;
	uint16_t version = 0x0303;
	uint8_t outer = TLS_CT_APPDATA;
	const uint8_t *p = NULL;

	n |= fz_byte(g);
	switch (flags & FZ_VER_MASK) {
	case FZ_VER_1_3:
		version = 0x0304;
		break;
	case FZ_VER_1_0:
		version = 0x0301;
		break;
	case FZ_VER_ANY:
		version = (uint16_t)(fz_byte(g) << 8);
		version |= fz_byte(g);
		break;
	}
	if (flags & FZ_OUTER)
		outer = fz_byte(g);
	pad = flags & FZ_PAD64 ? (size_t)padb * 64 : padb;
	if (flags & FZ_FILL) {
		n %= FZ_INNER_MAX;
	} else {
		if (n > g->n - g->off)
			n = g->n - g->off;
		if (n > FZ_INNER_MAX - 1)
			n = FZ_INNER_MAX - 1;
		p = g->in + g->off;
		g->off += n;
	}
	/* Content, type and padding within FZ_INNER_MAX. */
	if (pad > FZ_INNER_MAX - 1 - n)
		pad = FZ_INNER_MAX - 1 - n;
	fz_seal(g, outer, version, type, p, n, pad);
	if (flags & FZ_NEXT_KEY)
		fz_next_key(g);
}

static void fz_op_raw(struct fz_gen *g)
{
	size_t n = fz_byte(g);

	if (n > g->n - g->off)
		n = g->n - g->off;
	if (g->len + n > FZ_STREAM_MAX)
		return;
	memcpy(g->s + g->len, g->in + g->off, n);
	g->off += n;
	g->len += n;
}

static void fz_op_flip(struct fz_gen *g)
{
	size_t where = (size_t)fz_byte(g) << 8, pos, from, span;
	uint8_t mask;

	where |= fz_byte(g);
	mask = fz_byte(g);
	if (g->len == 0)
		return;
	if (where & 0x8000 || g->nrecs == 0) {
		from = 0;
		span = g->len;
	} else {
		from = g->recs[g->nrecs - 1].off;
		span = g->len - from;
	}
	if (span == 0)
		return;
	pos = from + (where & 0x7fff) % span;
	g->s[pos] ^= mask ? mask : 0x01;
}

static void fz_op_trunc(struct fz_gen *g)
{
	size_t n = fz_byte(g);

	if (n > g->len)
		n = g->len;
	g->len -= n;
}

static void fz_op_seq(struct fz_gen *g)
{
	uint8_t how = fz_byte(g);
	struct tls_dir *d = &g->snd->rec.wr;

	switch (how & 3) {
	case 0:		/* the last record again, as it was sent */
		if (g->nrecs > 0) {
			const struct fz_rec *r = &g->recs[g->nrecs - 1];

			if (r->off + r->len <= g->len &&
			    g->len + r->len <= FZ_STREAM_MAX) {
				memmove(g->s + g->len, g->s + r->off, r->len);
				g->len += r->len;
			}
		}
		break;
	case 1:		/* records lost on the way */
		d->seq += 1 + (how >> 2);
		break;
	case 2:		/* a sequence number used twice */
		if (d->seq > 0)
			d->seq--;
		break;
	default:	/* nothing */
		break;
	}
}

/* Builds the stream from the operations in @g's input. */
static void fz_build(struct fz_gen *g)
{
	uint8_t buf[TLS_HS_HDR_LEN + 1] = { TLS_HS_KEY_UPDATE, 0, 0, 1, 0 };
	size_t ops = 0;

	while (g->off < g->n && g->len < FZ_STREAM_CAP && ops++ < FZ_OPS_MAX) {
		switch ((enum fz_op)(fz_byte(g) & 7)) {
		case FZ_OP_RECORD:
			fz_op_record(g);
			break;
		case FZ_OP_KEY_UPDATE:
			buf[TLS_HS_HDR_LEN] = fz_byte(g);
			fz_seal(g, TLS_CT_APPDATA, 0x0303, TLS_CT_HANDSHAKE, buf,
				sizeof(buf), 0);
			fz_next_key(g);
			break;
		case FZ_OP_ALERT: {
			uint8_t alert[2];

			alert[0] = fz_byte(g);
			alert[1] = fz_byte(g);
			fz_seal(g, TLS_CT_APPDATA, 0x0303, TLS_CT_ALERT, alert,
				sizeof(alert), 0);
			break;
		}
		case FZ_OP_DATA: {
			size_t n = fz_byte(g);

			if (n > g->n - g->off)
				n = g->n - g->off;
			fz_seal(g, TLS_CT_APPDATA, 0x0303, TLS_CT_APPDATA,
				g->in + g->off, n, 0);
			g->off += n;
			break;
		}
		case FZ_OP_RAW:
			fz_op_raw(g);
			break;
		case FZ_OP_FLIP:
			fz_op_flip(g);
			break;
		case FZ_OP_TRUNC:
			fz_op_trunc(g);
			break;
		case FZ_OP_SEQ:
			fz_op_seq(g);
			break;
		}
	}
}

/* ---- the two receivers ---------------------------------------------------- */

static void fz_append(struct fz_rx *rx, const uint8_t *p, size_t n)
{
	if (rx->len + n > FZ_STREAM_MAX) {
		fprintf(stderr, "%s: more plaintext than stream\n", rx->name);
		abort();
	}
	memcpy(rx->pt + rx->len, p, n);
	rx->len += n;
}

/* Reads ours as the agent does, @rbuf bytes at a time. */
static void fz_read_ours(struct tls_sess *s, struct fz_rx *rx, size_t rbuf)
{
	static uint8_t buf[65536];
	ssize_t r;

	while (rx->st == FZ_OPEN) {
		r = tls_read(s, buf, rbuf);
		if (r > (ssize_t)rbuf) {
			fprintf(stderr, "ours: read %zd into %zu\n", r, rbuf);
			abort();
		}
		if (r > 0) {
			fz_append(rx, buf, (size_t)r);
			continue;
		}
		if (r == -EAGAIN)
			break;
		rx->st = r == 0 ? FZ_CLOSED : FZ_FAILED;
		rx->err = (int)r;
	}
	fz_discard(s);
}

/* Reads wolfSSL's own record layer. */
static void fz_read_theirs(struct tls_sess *s, struct fz_rx *rx)
{
	static uint8_t buf[20000];
	int r, err;

	while (rx->st == FZ_OPEN) {
		r = wolfSSL_read(s->ssl, buf, (int)sizeof(buf));
		if (r > 0) {
			fz_append(rx, buf, (size_t)r);
			continue;
		}
		err = wolfSSL_get_error(s->ssl, r);
		if (err == WOLFSSL_ERROR_WANT_READ)
			break;
		rx->st = err == WOLFSSL_ERROR_ZERO_RETURN ? FZ_CLOSED :
							    FZ_FAILED;
		rx->err = err;
	}
	fz_discard(s);
}

/* The offset of the record, as the headers frame the stream, that holds
 * byte @at (or starts there, @at at the end). */
static size_t fz_record_at(const uint8_t *s, size_t len, size_t at)
{
	size_t off = 0, n;

	while (off + TLS_HDR_LEN <= len) {
		n = TLS_HDR_LEN + ((size_t)s[off + 3] << 8 | s[off + 4]);
		if (at < off + n)
			break;
		off += n;
	}
	return off;
}

/* The record the input sealed last at @off (TRUNC may have cut one that
 * came before), as it was sealed; NULL if none. */
static const struct fz_rec *fz_sealed_at(const struct fz_gen *g, size_t off)
{
	const struct fz_rec *r;

	for (r = g->recs + g->nrecs; r-- > g->recs;)
		if (r->off == off)
			return r->off + r->len <= g->len &&
			       fz_sum(g->s + r->off, r->len) == r->sum ? r :
									 NULL;
	return NULL;
}

/* Byte @i of @r's content. */
static uint8_t fz_content(const struct fz_rec *r, size_t i)
{
	return r->p ? r->p[i] : fz_pattern(i);
}

/* @r carries handshake messages of which a KeyUpdate is followed by more
 * of the record (after KeyUpdates only, which a server takes). */
static bool fz_update_not_last(const struct fz_rec *r)
{
	size_t off = 0, len;

	if (r->type != TLS_CT_HANDSHAKE)
		return false;
	while (r->n - off >= TLS_HS_HDR_LEN) {
		len = (size_t)fz_content(r, off + 1) << 16 |
		      (size_t)fz_content(r, off + 2) << 8 |
		      fz_content(r, off + 3);
		if (fz_content(r, off) != TLS_HS_KEY_UPDATE || len != 1 ||
		    r->n - off - TLS_HS_HDR_LEN < len)
			return false;
		off += TLS_HS_HDR_LEN + len;
		if (off < r->n)
			return true;
	}
	return false;
}

/* @r carries handshake messages the last of which runs past the end of
 * the record (or whose header does). */
static bool fz_hs_split(const struct fz_rec *r)
{
	size_t off = 0, len;

	if (r->type != TLS_CT_HANDSHAKE)
		return false;
	while (off < r->n) {
		if (r->n - off < TLS_HS_HDR_LEN)
			return true;
		len = (size_t)fz_content(r, off + 1) << 16 |
		      (size_t)fz_content(r, off + 2) << 8 |
		      fz_content(r, off + 3);
		if (len > r->n - off - TLS_HS_HDR_LEN)
			return true;
		off += TLS_HS_HDR_LEN + len;
	}
	return false;
}

/* Bytes @off and @off + 1 of @r's content, a 16-bit length. */
static size_t fz_u16(const struct fz_rec *r, size_t off)
{
	return (size_t)fz_content(r, off) << 8 | fz_content(r, off + 1);
}

/* How a reader reads a NewSessionTicket. */
struct fz_nst_rules {
	size_t min_ticket;	/* bytes of ticket at least */
	bool extensions;	/* walks the extensions, or only their block */
	uint32_t max_lifetime;	/* seconds */
	size_t max_nonce;	/* bytes */
};

/* RFC 8446 4.6.1, as ours reads it: the syntax alone. */
static const struct fz_nst_rules fz_nst_rfc = { 1, true, UINT32_MAX, 255 };
/* wolfSSL 5.5.4 (DoTls13NewSessionTicket(), no WOLFSSL_EARLY_DATA): an
 * empty ticket, extensions unread, MAX_LIFETIME, a nonce in
 * TLS13_TICKET_NONCE_STATIC_SZ. */
static const struct fz_nst_rules fz_nst_wolfssl = { 0, false, 604800, 8 };

/* The NewSessionTicket body at @off of @r's content, @len bytes, passes
 * @rules. */
static bool fz_ticket_passes(const struct fz_rec *r, size_t off, size_t len,
			     const struct fz_nst_rules *rules)
{
	size_t end = off + len, n;
	uint32_t life;

	if (len < 9 || len - 9 < fz_content(r, off + 8) ||
	    fz_content(r, off + 8) > rules->max_nonce)
		return false;
	life = (uint32_t)fz_u16(r, off) << 16 | (uint32_t)fz_u16(r, off + 2);
	if (life > rules->max_lifetime)
		return false;
	off += 9 + fz_content(r, off + 8);
	if (end - off < 2 || (n = fz_u16(r, off)) < rules->min_ticket ||
	    end - off - 2 < n)
		return false;
	off += 2 + n;
	if (end - off < 2 || fz_u16(r, off) != end - off - 2)
		return false;
	for (off += 2; rules->extensions && off < end; off += 4 + n)
		if (end - off < 4 || (n = fz_u16(r, off + 2)) > end - off - 4)
			return false;
	return true;
}

/* Of the NewSessionTickets in @r, the first that ours or wolfSSL refuses:
 * refused by ours alone (-1), wolfSSL alone (1), both or none (0). */
static int fz_ticket_parts(const struct fz_rec *r)
{
	size_t off = 0, len;
	bool rfc, wolfssl;

	if (r->type != TLS_CT_HANDSHAKE)
		return 0;
	while (r->n - off >= TLS_HS_HDR_LEN) {
		len = (size_t)fz_content(r, off + 1) << 16 | fz_u16(r, off + 2);
		if (len > r->n - off - TLS_HS_HDR_LEN)
			return 0;
		if (fz_content(r, off) == TLS_HS_NEW_TICKET) {
			rfc = fz_ticket_passes(r, off + TLS_HS_HDR_LEN, len,
					       &fz_nst_rfc);
			wolfssl = fz_ticket_passes(r, off + TLS_HS_HDR_LEN,
						   len, &fz_nst_wolfssl);
			if (!rfc || !wolfssl)
				return rfc == wolfssl ? 0 : rfc ? 1 : -1;
		}
		off += TLS_HS_HDR_LEN + len;
	}
	return 0;
}

/* Where the two part: @ours (its reason @why) and @theirs, on the record
 * at @at, whose header is @hdr (NULL: the stream ends first) and which
 * the stream holds whole or not (@whole); @r as the input sealed it
 * (NULL: not a record it sealed, or changed since); @o_at and @t_at
 * where each stopped. */
struct fz_part {
	const struct fz_rx *ours, *theirs;
	const char *why;
	const uint8_t *hdr;
	bool whole;
	const struct fz_rec *r;
	size_t at, o_at, t_at;
};

/* Ours refused the record the two part at, for reason @why. */
static bool fz_ours_refused(const struct fz_part *p, const char *why)
{
	return p->ours->st == FZ_FAILED && p->o_at == p->at &&
	       strstr(p->why, why);
}

/* wolfSSL refused the record the two part at, with error @err. */
static bool fz_theirs_refused(const struct fz_part *p, int err)
{
	return p->theirs->st == FZ_FAILED && p->t_at == p->at &&
	       p->theirs->err == err;
}

/* One refused the record the two part at on its header alone, the other
 * waits for the rest of it. */
static bool fz_header_only(const struct fz_part *p)
{
	static const char *const ours_hdr[] = {
		"unprotected record after the handshake",
		"record too long",
		"record too short",
	};
	size_t i;

	if (!p->hdr || p->whole)
		return false;
	if (p->ours->st == FZ_OPEN && p->o_at == p->at)
		return p->theirs->st == FZ_FAILED && p->t_at == p->at &&
		       p->theirs->taken == p->at + TLS_HDR_LEN;
	if (p->theirs->st != FZ_OPEN || p->t_at != p->at)
		return false;
	for (i = 0; i < sizeof(ours_hdr) / sizeof(ours_hdr[0]); i++)
		if (fz_ours_refused(p, ours_hdr[i]))
			return true;
	return false;
}

/* wolfSSL went past the record the two part at. */
static bool fz_theirs_went_on(const struct fz_part *p)
{
	return p->theirs->st == FZ_OPEN || p->t_at > p->at;
}

/* @r is an alert: its level and description. */
static bool fz_alert(const struct fz_rec *r, uint8_t *level, uint8_t *desc)
{
	if (r->type != TLS_CT_ALERT || r->n != 2)
		return false;
	*level = fz_content(r, 0);
	*desc = fz_content(r, 1);
	return true;
}

/* The difference listed at the top of the file that explains @p; NULL
 * when none does. */
static const char *fz_explain(const struct fz_part *p)
{
	const struct fz_rec *r = p->r;
	uint8_t level, desc;
	bool closure;

	if (fz_theirs_refused(p, VERSION_ERROR) && p->hdr &&
	    !(p->hdr[1] == 3 && (p->hdr[2] == 3 || p->hdr[2] == 4)))
		return "D1 legacy_record_version";
	if (fz_header_only(p))
		return "D7 a record refused on its header alone";
	if (!r)
		return NULL;
	if (fz_alert(r, &level, &desc)) {
		closure = desc == TLS_AD_CLOSE_NOTIFY ||
			  desc == TLS_AD_USER_CANCELED;
		if (!closure && level != TLS_ALERT_FATAL &&
		    fz_ours_refused(p, "peer alert") && fz_theirs_went_on(p))
			return "D3 an error alert of another level";
		if (closure && level == TLS_ALERT_FATAL &&
		    fz_theirs_refused(p, FATAL_ERROR))
			return "D4 a closure alert of level fatal";
		if (closure && fz_theirs_refused(p, ALERT_COUNT_E))
			return "D5 wolfSSL's fifth alert";
	}
	if (fz_ours_refused(p, "key update not at the end of its record") &&
	    fz_update_not_last(r))
		return "D2 KeyUpdate not at the end of its record";
	if (fz_ours_refused(p, "handshake message split over records") &&
	    fz_hs_split(r))
		return "D6 a handshake message split over records";
	if (fz_ours_refused(p, "malformed new session ticket") &&
	    fz_ticket_parts(r) < 0)
		return "D8 a NewSessionTicket ours refuses";
	if ((fz_theirs_refused(p, SERVER_HINT_ERROR) ||
	     fz_theirs_refused(p, INVALID_PARAMETER)) && fz_ticket_parts(r) > 0)
		return "D9 a NewSessionTicket wolfSSL refuses";
	return NULL;
}

static void fz_report(const char *what, const struct fz_gen *g,
		      const struct fz_rx *ours, const struct fz_rx *theirs,
		      const struct tls_sess *o, size_t at)
{
	const struct fz_rec *r;

	fprintf(stderr, "tls_record: %s\n"
		"  ours:   %s, %zu bytes, err %d (%s), taken %zu\n"
		"  theirs: %s, %zu bytes, err %d, taken %zu\n"
		"  at record %zu\n", what, fz_state_str(ours->st), ours->len,
		ours->err, o->err ? o->err : "-", ours->taken,
		fz_state_str(theirs->st), theirs->len, theirs->err,
		theirs->taken, at);
	fprintf(stderr, "  stream %zu bytes; sealed:\n", g->len);
	for (r = g->recs; r < g->recs + g->nrecs; r++)
		fprintf(stderr, "    at %zu, %zu bytes: %u %04x type %u, "
			"%zu + %zu padding%s\n", r->off, r->len, r->outer,
			r->version, r->type, r->n, r->pad,
			fz_sealed_at(g, r->off) == r ? "" : ", changed");
}

/*
 * Compares what the two made of the stream @g built, after @fed bytes of
 * it.  Returns true when they agree, or part where a listed difference
 * says they may (the comparison ends there); aborts otherwise.
 */
static bool fz_compare(const struct fz_gen *g, struct tls_sess *o,
		       const struct fz_rx *ours, const struct fz_rx *theirs)
{
	size_t o_at, t_at, at, common;
	struct fz_part part;
	const char *why;

	/* The record each stopped at: ours leaves the one it failed on at
	 * the head of its queue; wolfSSL took it in, whole or its header. */
	o_at = fz_record_at(g->s, g->len, ours->taken);
	t_at = theirs->taken ? fz_record_at(g->s, g->len, theirs->taken - 1) :
			       0;
	if (ours->st == theirs->st && ours->len == theirs->len &&
	    memcmp(ours->pt, theirs->pt, ours->len) == 0 &&
	    (ours->st != FZ_FAILED || o_at == t_at))
		return true;
	/* They part on a record: the first one either stopped at. */
	at = ours->st == FZ_OPEN ? t_at : theirs->st == FZ_OPEN ? o_at :
	     o_at < t_at ? o_at : t_at;
	/* Up to there they read the same records: the one that stopped
	 * must have read a prefix of what the other did. */
	common = ours->len < theirs->len ? ours->len : theirs->len;
	if (memcmp(ours->pt, theirs->pt, common) != 0) {
		fz_report("different plaintext", g, ours, theirs, o, at);
		abort();
	}
	part.ours = ours;
	part.theirs = theirs;
	part.why = o->err ? o->err : "";
	part.hdr = at + TLS_HDR_LEN <= g->len ? g->s + at : NULL;
	part.whole = part.hdr && at + TLS_HDR_LEN +
		     ((size_t)part.hdr[3] << 8 | part.hdr[4]) <= g->len;
	part.r = fz_sealed_at(g, at);
	part.at = at;
	part.o_at = o_at;
	part.t_at = t_at;
	why = fz_explain(&part);
	if (!why) {
		fz_report("the record layers part", g, ours, theirs, o, at);
		abort();
	}
	if (getenv("FZ_VERBOSE"))
		fz_report(why, g, ours, theirs, o, at);
	return false;
}

/* ---- one input ------------------------------------------------------------- */

/* One step of wolfSSL's handshake on @theirs, whose secrets @ours keeps.
 * Returns 0 when done, -EAGAIN, -EPROTO. */
static int fz_hs_theirs(struct tls_sess *theirs, struct tls_sess *ours)
{
	int ret;

	tls_hs_cur = ours;
	ret = theirs->ctx->role == TLS_ROLE_CLIENT ?
	      wolfSSL_connect(theirs->ssl) : wolfSSL_accept(theirs->ssl);
	tls_hs_cur = NULL;
	if (ret == WOLFSSL_SUCCESS)
		return 0;
	return wolfSSL_get_error(theirs->ssl, ret) == WOLFSSL_ERROR_WANT_READ ?
	       -EAGAIN : -EPROTO;
}

/* The handshake of our sender @snd (the agent's path) with wolfSSL's
 * @theirs, whose secrets @ours keeps, the client going first; then @ours
 * takes the keys over. */
static void fz_handshake(struct tls_sess *snd, struct tls_sess *theirs,
			 struct tls_sess *ours)
{
	bool rx_client = theirs->ctx->role == TLS_ROLE_CLIENT;
	int rs = -EAGAIN, rt = -EAGAIN, i;

	for (i = 0; i < 20 && (rs == -EAGAIN || rt == -EAGAIN); i++) {
		if (rx_client && rt == -EAGAIN)
			rt = fz_hs_theirs(theirs, ours);
		fz_pump(theirs, snd, 0);
		if (rs == -EAGAIN)
			rs = tls_handshake(snd);
		fz_pump(snd, theirs, 0);
		if (!rx_client && rt == -EAGAIN)
			rt = fz_hs_theirs(theirs, ours);
		fz_pump(theirs, snd, 0);
	}
	if (rs != 0 || rt != 0 || theirs->rec_left != 0 ||
	    bufq_in_len(&theirs->in) != 0 || bufq_in_len(&snd->in) != 0)
		fz_die("the handshake did not complete cleanly");
	if (tls_handoff_keys(ours, theirs->ssl) != 0)
		fz_die(tls_last_error(ours));
	ours->hs_done = true;
}

static struct tls_sess *fz_sess(struct tls_ctx *ctx)
{
	struct tls_sess *s;

	if (tls_sess_new(&s, ctx))
		fz_die("cannot make a session");
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t stream[FZ_STREAM_MAX], pt_o[FZ_STREAM_MAX],
		       pt_t[FZ_STREAM_MAX];
	struct fz_rx ours = { .name = "ours", .pt = pt_o };
	struct fz_rx theirs = { .name = "theirs", .pt = pt_t };
	struct tls_ctx *sctx, *rctx;
	struct tls_sess *snd, *t, *o;
	struct fz_gen *g;
	size_t rbuf, step, fed = 0;

	if (size < 2)
		return 0;
	fz_tls_init();
	if (!fz_sctx) {
		fz_sctx = fz_tls_ctx(TLS_ROLE_SERVER, NULL);
		fz_cctx[0] = fz_tls_ctx(TLS_ROLE_CLIENT,
					"TLS13-AES128-GCM-SHA256");
		fz_cctx[1] = fz_tls_ctx(TLS_ROLE_CLIENT,
					"TLS13-CHACHA20-POLY1305-SHA256");
	}
	rbuf = fz_rbufs[(data[0] >> 1) & 15];
	step = fz_steps[data[1] & 15];

	/* The receivers are the server, or the client. */
	sctx = data[1] & FZ_RX_CLIENT ? fz_sctx : fz_cctx[data[0] & 1];
	rctx = data[1] & FZ_RX_CLIENT ? fz_cctx[data[0] & 1] : fz_sctx;
	snd = fz_sess(sctx);
	t = fz_sess(rctx);
	/* Ours never shakes hands: it keeps what wolfSSL's does. */
	o = fz_sess(rctx);
	wolfSSL_free(o->ssl);
	o->ssl = NULL;
	heap_shrink(TLS_HS_HEAP);
	fz_handshake(snd, t, o);

	g = calloc(1, sizeof(*g));
	if (!g)
		fz_die("out of memory");
	g->in = data + 2;
	g->n = size - 2;
	g->s = stream;
	g->snd = snd;
	fz_build(g);

	if (step && g->len / step > FZ_FEEDS_MAX)
		step = g->len / FZ_FEEDS_MAX + 1;
	while (fed < g->len) {
		size_t n = step && g->len - fed > step ? step : g->len - fed;

		if (tls_feed(o, g->s + fed, n) || tls_feed(t, g->s + fed, n))
			fz_die("the stream does not fit the input queues");
		fed += n;
		fz_read_ours(o, &ours, rbuf);
		fz_read_theirs(t, &theirs);
	}
	ours.taken = fed - bufq_in_len(&o->in);
	theirs.taken = fed - bufq_in_len(&t->in);
	if (fz_compare(g, o, &ours, &theirs) && getenv("FZ_VERBOSE"))
		fz_report("agree", g, &ours, &theirs, o, 0);

	free(g);
	tls_sess_free(o);
	tls_sess_free(t);
	tls_sess_free(snd);
	return 0;
}
