/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hhead: one HTTP/1.1 message head as the proxy received it (start line
 * and fields, in order), and the head it forwards in its place.
 *
 * A head is kept whole until its end because the Connection field, which
 * names the fields that must not be forwarded, may come after them (RFC
 * 9110 7.6.1).  http1 bounds what is kept: 8 KiB of line, 64 KiB and 100
 * fields of header section.
 *
 * The forwarded head is rendered, never patched: the start line in the
 * proxy's own version, every field that is not hop-by-hop, then what the
 * proxy adds (X-Forwarded-For, x-request-id, its own Connection).  Names
 * and values go out as received, since http1 has refused any that could
 * be read two ways.
 *
 * Memory: the head owns one buffer for its bytes and one array of fields,
 * both grown as it is read and freed by hhead_free(): a connection between
 * messages holds neither.  (The first ones go to a small stock of the
 * thread's for the next head: freelist.h.)
 */
#ifndef MF_AGENT_HHEAD_H
#define MF_AGENT_HHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bufq.h"
#include "http1.h"

/* Spans of the head's buffer. */
struct hhead_span {
	uint32_t off, len;
};

/*
 * The field names the proxy itself acts on, told apart once per field as
 * it is added (by length, then case-insensitively), so that rendering and
 * lookups compare a number, not the name, at every turn.
 */
enum hhead_known {
	HHEAD_K_OTHER = 0,	/* none of these */
	HHEAD_K_CONNECTION,
	HHEAD_K_KEEP_ALIVE,
	HHEAD_K_PROXY_CONNECTION,
	HHEAD_K_TE,
	HHEAD_K_TRAILER,
	HHEAD_K_UPGRADE,
	HHEAD_K_TRANSFER_ENCODING,
	HHEAD_K_CONTENT_LENGTH,
	HHEAD_K_HOST,
	HHEAD_K_X_FORWARDED_FOR,
	HHEAD_K_X_REQUEST_ID,
};
#define HHEAD_K_COUNT	(HHEAD_K_X_REQUEST_ID + 1)

struct hhead_field {
	struct hhead_span name, value;
	uint8_t known;		/* enum hhead_known of the name */
};

/* Which known name @name (@len bytes, any case) is, or HHEAD_K_OTHER. */
enum hhead_known hhead_known_of(const char *name, size_t len);

struct hhead {
	char *buf;			/* owned */
	size_t len, cap;
	struct hhead_field *f;		/* owned */
	uint32_t nf, fcap;
	/* By enum hhead_known: 1 + the index of the first field of that
	 * name; 0: none; HHEAD_FIRST_FAR: one past index 253, looked for.  A
	 * lookup of a known name then reads one field, not every one: the
	 * head of a request is cold by the time its response ends. */
	uint8_t first[HHEAD_K_COUNT];
	bool request;
	struct hhead_span method, target, reason;
	int status;
	uint8_t major, minor;
};

#define HHEAD_FIRST_FAR	UINT8_MAX

/* What the forwarded head gets besides the end-to-end fields. */
struct hhead_fwd {
	/* An upgrade (WebSocket) goes through: Upgrade and "Connection:
	 * upgrade" are kept rather than dropped as hop-by-hop. */
	bool upgrade;
	/* Requests: appended to X-Forwarded-For (one field, the earlier
	 * hops' values first); NULL: none. */
	const char *xff;
	/* Requests: the x-request-id to add when the head has none; NULL:
	 * none. */
	const char *request_id;
	/* A Connection field of the proxy's own ("close", "keep-alive"),
	 * NULL: none. */
	const char *connection;
	/* Responses to an HTTP/1.0 client: the body goes unchunked (the
	 * client cannot read chunks), so Transfer-Encoding is dropped. */
	bool drop_te;
};

/* Starts a head from @sl (http1's start line), dropping what was kept.
 * Returns 0 or -ENOMEM. */
int hhead_start(struct hhead *h, bool request, const struct http1_start *sl);

/* Appends a field.  Returns 0 or -ENOMEM. */
int hhead_add(struct hhead *h, const char *name, size_t name_len,
	      const char *value, size_t value_len);

/* Removes every field named @name (case-insensitive). */
void hhead_remove(struct hhead *h, const char *name);

/* Replaces every field named @name with one, @value.  Returns 0 or
 * -ENOMEM. */
int hhead_set(struct hhead *h, const char *name, const char *value);

/* Replaces the request-target.  Returns 0 or -ENOMEM. */
int hhead_set_target(struct hhead *h, const char *target, size_t len);

/* The request-target. */
static inline const char *hhead_target(const struct hhead *h, size_t *len)
{
	*len = h->target.len;
	return h->buf + h->target.off;
}

/* The value of the first field named @name (case-insensitive) into *v and
 * *len; false when there is none. */
bool hhead_get(const struct hhead *h, const char *name, const char **v,
	       size_t *len);

/* Renders the forwarded head per @fw, CRLF CRLF included, at the end of
 * @out.  Returns 0 or -ENOMEM (then part of it may be queued: the
 * connection is lost anyway). */
int hhead_render(const struct hhead *h, const struct hhead_fwd *fw,
		 struct bufq_out *out);

/* Makes @dst (freed first) a copy of @src that owns its own memory.
 * Returns 0 or -ENOMEM (@dst untouched). */
int hhead_copy(struct hhead *dst, const struct hhead *src);

/* Frees what the head holds; it may be started again. */
void hhead_free(struct hhead *h);

#endif /* MF_AGENT_HHEAD_H */
