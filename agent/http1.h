/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http1: the agent's streaming HTTP/1.1 message parser, on llhttp in strict
 * mode (no lenient flag), with the proxy's framing rules on top.
 *
 * One parser reads one direction of one connection: requests from a client
 * or responses from an upstream.  Bytes are fed in pieces of any size; the
 * parser reports, through a callback table, the start line, each header
 * (name and value whole, OWS trimmed), the end of the head with the framing
 * decision, body pieces as they arrive (never buffered), trailers and the
 * end of each message.  Pipelined messages follow one another.
 *
 * Contract of http1_feed(): >0 bytes consumed (all of them, except after an
 * Upgrade or CONNECT, where the rest belongs to the tunnelled protocol), 0
 * when len is 0, <0 an error:
 *   -EPROTO    the bytes break HTTP/1.1 or a framing rule of the proxy;
 *   -EMSGSIZE  a limit of struct http1_limits was passed;
 *   -EPIPE     bytes after a message that closes the connection;
 *   other      what a callback returned.
 * After an error the parser stays failed; http1_status() says what to
 * answer (400, 414 or 431 for a request, 502 for a response) and the
 * connection must be closed.  http1_reason() names the rule that fired.
 *
 * Memory: the parser owns one buffer holding the start line or the header
 * being read, never more than the larger of the line and header limits.
 * http1_fini() frees it.  Pointers passed to callbacks are valid during the
 * call only.
 */
#ifndef MF_AGENT_HTTP1_H
#define MF_AGENT_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llhttp.h>
#include <strings.h>

enum http1_kind {
	HTTP1_REQUEST = 1,
	HTTP1_RESPONSE = 2,
};

/* How the body of a message is delimited, decided at the end of its head. */
enum http1_body {
	HTTP1_BODY_NONE = 0,	/* no body (GET without length, 204, HEAD) */
	HTTP1_BODY_LENGTH,	/* Content-Length: head.content_length bytes */
	HTTP1_BODY_CHUNKED,	/* Transfer-Encoding: chunked */
	HTTP1_BODY_UNTIL_CLOSE,	/* response read until the upstream closes */
};

/* Which rule stopped the parser; see http1_reason_str(). */
enum http1_reason {
	HTTP1_R_NONE = 0,
	HTTP1_R_SYNTAX,		/* llhttp refused the bytes */
	HTTP1_R_TE_AND_CL,	/* both Transfer-Encoding and Content-Length */
	HTTP1_R_CL_DUP,		/* more than one Content-Length */
	HTTP1_R_CL_INVALID,	/* Content-Length is not 1*DIGIT, or too big */
	HTTP1_R_TE_NOT_CHUNKED,	/* last transfer coding is not chunked */
	HTTP1_R_TE_HTTP10,	/* Transfer-Encoding in an HTTP/1.0 message */
	HTTP1_R_TE_INVALID,	/* empty or malformed transfer coding */
	HTTP1_R_OBS_FOLD,	/* a header value continued on the next line */
	HTTP1_R_BAD_NAME,	/* a name byte that is not a tchar */
	HTTP1_R_BAD_VALUE,	/* CR, LF, NUL or a control byte in a value */
	HTTP1_R_HOST_MISSING,	/* HTTP/1.1 request without Host */
	HTTP1_R_HOST_DUP,	/* more than one Host */
	HTTP1_R_CHUNK_SIZE,	/* chunk size overflows or is malformed */
	HTTP1_R_LINE_TOO_LONG,	/* request or status line over line_max */
	HTTP1_R_HEAD_TOO_BIG,	/* header section over headers_max bytes */
	HTTP1_R_TOO_MANY,	/* more than header_count_max fields */
	HTTP1_R_AFTER_CLOSE,	/* data after a message that closes */
	HTTP1_R_H2_PREFACE,	/* an HTTP/2 preface on an HTTP/1 parser */
	HTTP1_R_CALLBACK,	/* a callback refused the message */
	HTTP1_R_TRUNCATED,	/* the peer closed inside a message */
	HTTP1_R_BARE_CR,	/* a CR not followed by LF in a head */
	HTTP1_R_BAD_TARGET,	/* a request-target byte that is no VCHAR */
	HTTP1_R_BAD_STATUS,	/* a status code that is not 3 digits */
};

/* Limits, enforced as bytes arrive: a head is never buffered whole. */
struct http1_limits {
	uint32_t line_max;	   /* request or status line, with CRLF */
	uint32_t headers_max;	   /* header section (or trailers), bytes */
	uint32_t header_count_max; /* fields in the section */
	/* Host is required in HTTP/1.1 requests (RFC 9112 3.2).  Only a
	 * parser that checks framing alone (the corpus runner) clears it. */
	bool require_host;
};

#define HTTP1_LINE_MAX		8192
#define HTTP1_HEADERS_MAX	65536
#define HTTP1_HEADER_COUNT_MAX	100

/* The start line.  A request fills method and target, a response status
 * and reason; both fill the version. */
struct http1_start {
	const char *method;	/* as sent, method_len bytes */
	size_t method_len;
	const char *target;	/* request-target, target_len bytes */
	size_t target_len;
	const char *reason;	/* reason phrase, reason_len bytes */
	size_t reason_len;
	int status;		/* response status code */
	uint8_t major, minor;
};

/* Connection header tokens the proxy acts on (it strips the header and
 * every header it names itself, from http1 the raw value via on_header). */
#define HTTP1_CONN_CLOSE	0x1
#define HTTP1_CONN_KEEP_ALIVE	0x2
#define HTTP1_CONN_UPGRADE	0x4

/* The head as a whole, at its end: the framing decision. */
struct http1_head {
	enum http1_body body;
	uint64_t content_length;	/* HTTP1_BODY_LENGTH only */
	uint8_t major, minor;
	int method;			/* llhttp_method_t (requests) */
	int status;			/* responses */
	unsigned int connection;	/* HTTP1_CONN_* tokens seen */
	bool keep_alive;		/* the connection may carry another */
	bool upgrade;			/* Upgrade or CONNECT: after this head
					 * the bytes are another protocol */
	bool expect_continue;		/* Expect: 100-continue */
};

/*
 * Callbacks, each may be NULL.  Each returns 0 to go on or -errno to stop
 * the parser with that error (HTTP1_R_CALLBACK).  arg is http1_init()'s.
 * on_end may also return HTTP1_STOP: http1_feed() then returns right after
 * the message, the bytes that follow unconsumed (a proxy that takes
 * pipelined requests one at a time).  So may on_head: the feed returns
 * right after the head (a proxy that holds a request back); the next
 * feed, even of no bytes, goes on from there.
 */
#define HTTP1_STOP	1

struct http1_cbs {
	int (*on_start)(void *arg, const struct http1_start *sl);
	int (*on_header)(void *arg, const char *name, size_t name_len,
			 const char *value, size_t value_len);
	int (*on_head)(void *arg, const struct http1_head *h);
	int (*on_body)(void *arg, const char *p, size_t len);
	int (*on_trailer)(void *arg, const char *name, size_t name_len,
			  const char *value, size_t value_len);
	int (*on_end)(void *arg);
};

/* Parser phase, stored so a feed resumes where the last one stopped. */
enum http1_phase {
	HTTP1_P_IDLE = 0,	/* between messages */
	HTTP1_P_HEAD,		/* in a start line or the headers */
	HTTP1_P_BODY,		/* in a body (or trailers) */
	HTTP1_P_UPGRADED,	/* the bytes now belong to another protocol */
	HTTP1_P_CLOSED,		/* a message ended the connection */
	HTTP1_P_FAILED,		/* an error; the connection must close */
};

struct http1 {
	llhttp_t ll;
	llhttp_settings_t settings;
	const struct http1_cbs *cbs;
	void *arg;
	struct http1_limits lim;
	enum http1_kind kind;
	enum http1_phase phase;
	enum http1_reason reason;
	int err;

	/* The span being gathered: the start line, or one header's name
	 * (buf[0..name_len)) then its value. */
	char *buf;
	size_t len, cap;
	size_t name_len;
	size_t start_parts[2];	/* ends of method and target (requests)
				 * or of version (responses) in buf */

	/* Accounting of the message's head, as bytes arrive. */
	size_t head_used;	/* bytes of this head fed to llhttp */
	size_t line_len;	/* start line bytes, 0 until known */
	bool line_done;
	bool start_sent;
	bool in_trailers;
	size_t trailer_used;
	const char *exec_base;	/* start of the piece llhttp is reading */
	size_t exec_before;	/* head bytes before that piece */
	uint32_t fields;
	uint64_t stream_base;	/* bytes consumed before this feed */
	uint64_t stream_off;	/* stream offset of exec_base */
	uint64_t val_end;	/* stream offset after the value's last span */
	bool val_spans;		/* the value being read has a span */

	/* Framing facts gathered from the headers. */
	uint32_t host_count, cl_count, te_count, te_chunked;
	bool te_last_chunked;
	uint64_t content_length;
	unsigned int connection;
	bool expect_continue;
	bool skip_body;		/* response to HEAD: no body whatever
				 * the headers say */
	bool head_pending;	/* paused at the end of a head */
	bool head_cr;		/* the last head byte fed was a CR */
	bool keep_alive;	/* of the message being read */
	bool stop;		/* on_end or on_head said HTTP1_STOP */
	bool owed;		/* stopped at a head: llhttp owes the
				 * steps after it to the next feed */
};

/* Limits of the issue: 8 KiB line, 64 KiB headers, 100 fields, Host. */
void http1_limits_default(struct http1_limits *lim);

/* Prepares p for kind; lim NULL means the defaults.  Returns 0. */
int http1_init(struct http1 *p, enum http1_kind kind,
	       const struct http1_limits *lim, const struct http1_cbs *cbs,
	       void *arg);
void http1_fini(struct http1 *p);

/* Feeds len bytes; see the contract at the top of this file. */
int http1_feed(struct http1 *p, const char *data, size_t len);

/* The peer closed: ends a body read until close (on_end) and returns 0,
 * or -EPROTO when the close cut a message short. */
int http1_finish(struct http1 *p);

/* Response parsers only: the next response answers a HEAD request, so it
 * has no body whatever its headers say. */
void http1_expect_head_response(struct http1 *p);

/* What to answer after an error: 400, 414, 431 (requests) or 502. */
int http1_status(const struct http1 *p);

enum http1_reason http1_reason(const struct http1 *p);
const char *http1_reason_str(enum http1_reason r);
const char *http1_phase_str(enum http1_phase ph);
const char *http1_body_str(enum http1_body b);

/*
 * Walks a comma-separated list value (RFC 9110 5.6.1): sets *tok and
 * *tok_len to the next element, OWS trimmed and empty elements skipped,
 * and advances *pos.  Returns false when there is none left.
 */
bool http1_list_next(const char *v, size_t len, size_t *pos,
		     const char **tok, size_t *tok_len);

/* Case-insensitive comparison of a span with a NUL-terminated token.
 * Inline: with a literal token the length test is a constant, and most
 * names fail it without a call. */
static inline bool http1_token_eq(const char *s, size_t len, const char *tok)
{
	return __builtin_strlen(tok) == len && strncasecmp(s, tok, len) == 0;
}

#endif /* MF_AGENT_HTTP1_H */
