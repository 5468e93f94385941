// SPDX-License-Identifier: Apache-2.0
/*
 * A message head kept whole, and the head forwarded in its place (see
 * hhead.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "freelist.h"
#include "hhead.h"

/* The sizes a head starts with: its buffer, its array of fields. */
#define HHEAD_BUF_FIRST		1024u
#define HHEAD_FIELDS_FIRST	16u

/*
 * A proxy takes two heads at every exchange (request and response) and
 * frees them at its end, so that an idle connection holds none: a loop
 * thread keeps a few first buffers and field arrays for the next
 * exchange rather than ask malloc for them each time, as many as a loop
 * turn's exchanges may free at once (bufq.c's stock says why).
 */
FREELIST_THREAD(hhead_bufs, HHEAD_BUF_FIRST, 64);
FREELIST_THREAD(hhead_fields, HHEAD_FIELDS_FIRST * sizeof(struct hhead_field),
		64);

/* A block of @n bytes: from @fl when it is of @fl's size. */
static void *hhead_alloc(struct freelist *fl, size_t n)
{
	return n == fl->size ? freelist_get(fl) : malloc(n);
}

/* Gives back block @p of @n bytes, which hhead_alloc() or malloc() gave. */
static void hhead_release(struct freelist *fl, void *p, size_t n)
{
	if (n == fl->size)
		freelist_put(fl, p);
	else
		free(p);
}

/* Grows block *@p of @n bytes to @cap, keeping its first @used.
 * Returns 0 or -ENOMEM (*@p untouched). */
static int hhead_grow(struct freelist *fl, void **p, size_t n, size_t used,
		      size_t cap)
{
	void *np = hhead_alloc(fl, cap);

	if (!np)
		return -ENOMEM;
	if (used)
		memcpy(np, *p, used);
	hhead_release(fl, *p, n);
	*p = np;
	return 0;
}

/* The names of enum hhead_known, at their values. */
static const struct {
	const char *name;
	size_t len;
} hhead_known_names[] = {
#define HHEAD_NAME(k, s) [k] = { s, sizeof(s) - 1 }
	HHEAD_NAME(HHEAD_K_CONNECTION, "connection"),
	HHEAD_NAME(HHEAD_K_KEEP_ALIVE, "keep-alive"),
	HHEAD_NAME(HHEAD_K_PROXY_CONNECTION, "proxy-connection"),
	HHEAD_NAME(HHEAD_K_TE, "te"),
	HHEAD_NAME(HHEAD_K_TRAILER, "trailer"),
	HHEAD_NAME(HHEAD_K_UPGRADE, "upgrade"),
	HHEAD_NAME(HHEAD_K_TRANSFER_ENCODING, "transfer-encoding"),
	HHEAD_NAME(HHEAD_K_CONTENT_LENGTH, "content-length"),
	HHEAD_NAME(HHEAD_K_HOST, "host"),
	HHEAD_NAME(HHEAD_K_X_FORWARDED_FOR, "x-forwarded-for"),
	HHEAD_NAME(HHEAD_K_X_REQUEST_ID, "x-request-id"),
#undef HHEAD_NAME
};

enum hhead_known hhead_known_of(const char *name, size_t len)
{
	/* The table's names are lower case and start with a letter: a
	 * first byte that differs but for case 0x20 rules one out without a
	 * call.  Common names share a length with a known one (User-Agent,
	 * Content-Type). */
	unsigned char c0 = len ? (unsigned char)(name[0] | 0x20) : 0;

	for (size_t k = 1; k < sizeof(hhead_known_names) /
			       sizeof(hhead_known_names[0]); k++)
		if (hhead_known_names[k].len == len &&
		    (unsigned char)hhead_known_names[k].name[0] == c0 &&
		    !strncasecmp(name, hhead_known_names[k].name, len))
			return (enum hhead_known)k;
	return HHEAD_K_OTHER;
}

static int hhead_reserve(struct hhead *h, size_t n)
{
	size_t cap;
	void *p;

	if (h->len + n <= h->cap)
		return 0;
	cap = h->cap ? h->cap : HHEAD_BUF_FIRST;
	while (cap < h->len + n)
		cap *= 2;
	p = h->buf;
	if (hhead_grow(&hhead_bufs, (void **)&p, h->cap, h->len, cap))
		return -ENOMEM;
	h->buf = p;
	h->cap = cap;
	return 0;
}

/* Copies @n bytes into the buffer as span *s. */
static int hhead_put(struct hhead *h, const char *p, size_t n,
		     struct hhead_span *s)
{
	int err = hhead_reserve(h, n);

	if (err)
		return err;
	memcpy(h->buf + h->len, p, n);
	s->off = (uint32_t)h->len;
	s->len = (uint32_t)n;
	h->len += n;
	return 0;
}

int hhead_start(struct hhead *h, bool request, const struct http1_start *sl)
{
	int err;

	h->len = 0;
	h->nf = 0;
	memset(h->first, 0, sizeof(h->first));
	h->request = request;
	h->major = sl->major;
	h->minor = sl->minor;
	h->status = sl->status;
	memset(&h->method, 0, sizeof(h->method));
	memset(&h->target, 0, sizeof(h->target));
	memset(&h->reason, 0, sizeof(h->reason));
	if (request) {
		err = hhead_put(h, sl->method, sl->method_len, &h->method);
		if (!err)
			err = hhead_put(h, sl->target, sl->target_len,
					&h->target);
	} else {
		err = hhead_put(h, sl->reason, sl->reason_len, &h->reason);
	}
	return err;
}

/* Notes field @i as the first of its known name if none came before. */
static void hhead_note_first(struct hhead *h, uint32_t i)
{
	uint8_t k = h->f[i].known;

	if (k != HHEAD_K_OTHER && !h->first[k])
		h->first[k] = i < HHEAD_FIRST_FAR - 1 ? (uint8_t)(i + 1) :
							HHEAD_FIRST_FAR;
}

int hhead_add(struct hhead *h, const char *name, size_t name_len,
	      const char *value, size_t value_len)
{
	struct hhead_field *f;
	uint32_t cap;
	int err;

	if (h->nf == h->fcap) {
		void *p = h->f;

		cap = h->fcap ? h->fcap * 2 : HHEAD_FIELDS_FIRST;
		if (hhead_grow(&hhead_fields, &p, h->fcap * sizeof(*f),
			       h->nf * sizeof(*f), cap * sizeof(*f)))
			return -ENOMEM;
		h->f = p;
		h->fcap = cap;
	}
	f = &h->f[h->nf];
	f->known = (uint8_t)hhead_known_of(name, name_len);
	err = hhead_put(h, name, name_len, &f->name);
	if (!err)
		err = hhead_put(h, value, value_len, &f->value);
	if (err)
		return err;
	hhead_note_first(h, h->nf++);
	return 0;
}

static const char *hhead_str(const struct hhead *h, struct hhead_span s)
{
	return h->buf + s.off;
}

/* Whether field @f is named @name, whose hhead_known_of() is @k: a known
 * name is its number, any other is compared with the names of no number
 * only. */
static bool hhead_is(const struct hhead *h, const struct hhead_field *f,
		     enum hhead_known k, const char *name, size_t len)
{
	if (k != HHEAD_K_OTHER || f->known != HHEAD_K_OTHER)
		return f->known == k;
	return f->name.len == len &&
	       !strncasecmp(hhead_str(h, f->name), name, len);
}

bool hhead_get(const struct hhead *h, const char *name, const char **v,
	       size_t *len)
{
	size_t nlen = strlen(name);
	enum hhead_known k = hhead_known_of(name, nlen);
	uint32_t i = 0;

	if (k != HHEAD_K_OTHER) {
		if (!h->first[k])
			return false;
		if (h->first[k] != HHEAD_FIRST_FAR)
			i = h->first[k] - 1u;
	}
	for (; i < h->nf; i++) {
		if (!hhead_is(h, &h->f[i], k, name, nlen))
			continue;
		*v = hhead_str(h, h->f[i].value);
		*len = h->f[i].value.len;
		return true;
	}
	return false;
}

void hhead_remove(struct hhead *h, const char *name)
{
	size_t nlen = strlen(name);
	enum hhead_known k = hhead_known_of(name, nlen);
	uint32_t n = 0;

	for (uint32_t i = 0; i < h->nf; i++)
		if (!hhead_is(h, &h->f[i], k, name, nlen))
			h->f[n++] = h->f[i];
	h->nf = n;
	/* The fields after moved up: their first indexes are found again
	 * (a route's header filter, not every request). */
	memset(h->first, 0, sizeof(h->first));
	for (uint32_t i = 0; i < h->nf; i++)
		hhead_note_first(h, i);
}

int hhead_set(struct hhead *h, const char *name, const char *value)
{
	hhead_remove(h, name);
	return hhead_add(h, name, strlen(name), value, strlen(value));
}

int hhead_set_target(struct hhead *h, const char *target, size_t len)
{
	/* The old bytes stay in the buffer, unused: a head is short-lived. */
	return hhead_put(h, target, len, &h->target);
}

/* True when a Connection field of the head names field @f. */
static bool hhead_conn_names(const struct hhead *h,
			     const struct hhead_field *f)
{
	for (uint32_t i = 0; i < h->nf; i++) {
		const char *tok;
		size_t pos = 0, tlen;

		if (h->f[i].known != HHEAD_K_CONNECTION)
			continue;
		while (http1_list_next(hhead_str(h, h->f[i].value),
				       h->f[i].value.len, &pos, &tok, &tlen))
			if (tlen == f->name.len &&
			    !strncasecmp(tok, hhead_str(h, f->name), tlen))
				return true;
	}
	return false;
}

/* Whether field @f goes on to the next hop; @conn: the head has a
 * Connection field, which may name it. */
static bool hhead_forwards(const struct hhead *h, const struct hhead_field *f,
			   const struct hhead_fwd *fw, bool conn)
{
	switch ((enum hhead_known)f->known) {
	case HHEAD_K_UPGRADE:
		return fw->upgrade;
	/* Fields no proxy forwards (RFC 9110 7.6.1), besides those
	 * Connection names.  Transfer-Encoding is not among them: the proxy
	 * re-frames a chunked body chunk by chunk and keeps the codings as
	 * they were. */
	case HHEAD_K_CONNECTION:
	case HHEAD_K_KEEP_ALIVE:
	case HHEAD_K_PROXY_CONNECTION:
	case HHEAD_K_TE:
	case HHEAD_K_TRAILER:
		return false;
	/* The fields that frame and address the message stay whatever
	 * Connection says: a request that named Content-Length there would
	 * otherwise reach the upstream without it, its body read as the
	 * next request. */
	case HHEAD_K_TRANSFER_ENCODING:
		return !fw->drop_te;
	case HHEAD_K_CONTENT_LENGTH:
	case HHEAD_K_HOST:
		return true;
	case HHEAD_K_X_FORWARDED_FOR:
		if (fw->xff)
			return false;	/* rendered as one field below */
		break;
	case HHEAD_K_X_REQUEST_ID:
	case HHEAD_K_OTHER:
		break;
	}
	return !conn || !hhead_conn_names(h, f);
}

static int hhead_out(struct bufq_out *out, const char *p, size_t n)
{
	return bufq_out_put(out, p, n);
}

static int hhead_out_str(struct bufq_out *out, const char *s)
{
	return bufq_out_put(out, s, strlen(s));
}

/* "name: value" CRLF */
static int hhead_out_field(struct bufq_out *out, const char *name,
			   size_t name_len, const char *value, size_t value_len)
{
	size_t n = name_len + value_len + 4;
	struct bufq_chunk *fresh;
	uint8_t *p;
	int err;

	/* A field that fits a chunk is written where it goes in one piece,
	 * not in four appends (the usual case: a field is a few dozen
	 * bytes, a head a few hundred, and heads are rendered at every
	 * exchange).  The bytes queued are the same either way. */
	if (n <= BUFQ_CHUNK) {
		p = bufq_out_reserve(out, n, &fresh);
		if (!p)
			return -ENOMEM;
		memcpy(p, name, name_len);
		p += name_len;
		*p++ = ':';
		*p++ = ' ';
		memcpy(p, value, value_len);
		p += value_len;
		*p++ = '\r';
		*p = '\n';
		bufq_out_commit(out, fresh, n);
		return 0;
	}
	err = hhead_out(out, name, name_len);
	if (!err)
		err = hhead_out(out, ": ", 2);
	if (!err)
		err = hhead_out(out, value, value_len);
	if (!err)
		err = hhead_out(out, "\r\n", 2);
	return err;
}

/* X-Forwarded-For: the values of every earlier field, in order, then
 * this hop's client. */
static int hhead_out_xff(const struct hhead *h, const char *client,
			 struct bufq_out *out)
{
	bool first = true;
	int err;

	err = hhead_out_str(out, "X-Forwarded-For: ");
	for (uint32_t i = 0; !err && i < h->nf; i++) {
		if (h->f[i].known != HHEAD_K_X_FORWARDED_FOR)
			continue;
		if (!first)
			err = hhead_out(out, ", ", 2);
		if (!err)
			err = hhead_out(out, hhead_str(h, h->f[i].value),
					h->f[i].value.len);
		first = false;
	}
	if (!err && !first)
		err = hhead_out(out, ", ", 2);
	if (!err)
		err = hhead_out_str(out, client);
	if (!err)
		err = hhead_out(out, "\r\n", 2);
	return err;
}

int hhead_render(const struct hhead *h, const struct hhead_fwd *fw,
		 struct bufq_out *out)
{
	/* The start line's numbers are bounded by http1: a one-digit
	 * version (1.0, 1.1) and a three-digit status. */
	char ver[] = " HTTP/1.1\r\n", status[] = "HTTP/1.1 200 ";
	const char *v;
	size_t vlen;
	bool conn;
	int err;

	if (h->request) {
		/* The client's version goes on: the upstream then frames its
		 * answer for what the client reads (no chunks for 1.0). */
		err = hhead_out(out, hhead_str(h, h->method), h->method.len);
		if (!err)
			err = hhead_out(out, " ", 1);
		if (!err)
			err = hhead_out(out, hhead_str(h, h->target),
					h->target.len);
		ver[6] = (char)('0' + h->major % 10);
		ver[8] = (char)('0' + h->minor % 10);
		if (!err)
			err = hhead_out(out, ver, sizeof(ver) - 1);
	} else {
		status[9] = (char)('0' + h->status / 100 % 10);
		status[10] = (char)('0' + h->status / 10 % 10);
		status[11] = (char)('0' + h->status % 10);
		err = hhead_out(out, status, sizeof(status) - 1);
		if (!err)
			err = hhead_out(out, hhead_str(h, h->reason),
					h->reason.len);
		if (!err)
			err = hhead_out(out, "\r\n", 2);
	}
	conn = hhead_get(h, "connection", &v, &vlen);
	for (uint32_t i = 0; !err && i < h->nf; i++) {
		const struct hhead_field *f = &h->f[i];

		if (hhead_forwards(h, f, fw, conn))
			err = hhead_out_field(out, hhead_str(h, f->name),
					      f->name.len,
					      hhead_str(h, f->value),
					      f->value.len);
	}
	if (!err && fw->xff)
		err = hhead_out_xff(h, fw->xff, out);
	if (!err && fw->request_id && !hhead_get(h, "x-request-id", &v, &vlen))
		err = hhead_out_field(out, "x-request-id", 12, fw->request_id,
				      strlen(fw->request_id));
	if (!err && fw->upgrade)
		err = hhead_out_str(out, "Connection: upgrade\r\n");
	else if (!err && fw->connection)
		err = hhead_out_field(out, "Connection", 10, fw->connection,
				      strlen(fw->connection));
	if (!err)
		err = hhead_out(out, "\r\n", 2);
	return err;
}

int hhead_copy(struct hhead *dst, const struct hhead *src)
{
	struct hhead c = *src;

	c.buf = src->cap ? hhead_alloc(&hhead_bufs, src->cap) : NULL;
	c.f = src->fcap ? hhead_alloc(&hhead_fields,
				      src->fcap * sizeof(*src->f)) : NULL;
	if ((src->cap && !c.buf) || (src->fcap && !c.f)) {
		hhead_release(&hhead_bufs, c.buf, src->cap);
		hhead_release(&hhead_fields, c.f, src->fcap * sizeof(*src->f));
		return -ENOMEM;
	}
	if (src->len)
		memcpy(c.buf, src->buf, src->len);
	if (src->nf)
		memcpy(c.f, src->f, src->nf * sizeof(*src->f));
	hhead_free(dst);
	*dst = c;
	return 0;
}

void hhead_free(struct hhead *h)
{
	hhead_release(&hhead_bufs, h->buf, h->cap);
	hhead_release(&hhead_fields, h->f, h->fcap * sizeof(*h->f));
	memset(h, 0, sizeof(*h));
}
