// SPDX-License-Identifier: Apache-2.0
/*
 * mf_httpload: HTTP/1.1 load generator for the benchmark suite.
 *
 * One thread, one io_uring, nonblocking sockets, plain-TCP HTTP/1.1 GET.
 *
 *   mf_httpload --url http://IP[:PORT][/PATH] [--host VALUE] MODE [options]
 *
 * Modes (exactly one):
 *   --rate R      open loop: request i is due at t0 + i/R.  It goes out on an
 *                 idle keep-alive connection, or waits in a queue until one
 *                 is idle; its latency runs from its due time, not from when
 *                 it went out, so a server that stalls is charged for the
 *                 queueing it causes (no coordinated omission).
 *   --max         closed loop: each connection sends its next request as
 *                 soon as the previous response is complete.
 *   --new-conn    closed loop, one request per connection (connect, send
 *                 with "Connection: close", read the whole response, wait
 *                 for the server's FIN, close); --conns of them at a time.
 *   --idle N      open N connections (at most --connect-batch connects in
 *                 flight), send nothing; once every connect has resolved and
 *                 --settle seconds passed without EOF/RST, print the line
 *                 "idle_open=<open> idle_failed=<failed>" on stdout, then
 *                 hold them --hold seconds (0: until SIGINT/SIGTERM).
 *
 * Options: --conns C (16), --duration D (10 s), --warmup W (2 s),
 * --timeout T (5 s: connect, and a request's response once it is on the
 * wire), --connect-batch K (256), --settle S (1 s), --hold S (0),
 * --spin-us N (0; poll instead of sleeping when the next request is due
 * within N us: less wake-up lateness, one busy CPU).
 *
 * Output: one JSON object on stdout (the last line in --idle mode);
 * diagnostics on stderr.  Exit 0 when the run happened, whatever its error
 * counts (the caller judges them); 1 when no keep-alive connection could be
 * opened at all (the JSON is still printed); 2 on bad arguments or when the
 * machine cannot run it.
 *
 * Load modes print: mode, url, conns, conns_open (keep-alive connections up
 * at the start), target_rate and achieved_rate (rate: measured requests put
 * on the wire before the window ended, per second), rps (responses completed
 * inside the window, per second; cps too in new-conn mode), duration_s (the
 * window actually run), warmup_s, requests (measured), ok_2xx, non_2xx,
 * errors = sum of error_kinds {connect, io, eof, timeout, protocol, unsent},
 * so requests = ok_2xx + non_2xx + errors; conn_errors (failures no request
 * is charged for: keep-alive connects, bytes nobody asked for), reconnects
 * (keep-alive connections the server ended), body_bytes (of 2xx), and three
 * histograms {count, p50, p90, p99, p999, max, mean} in microseconds over
 * the measured 2xx responses: latency_us from the due time (rate) or send
 * time (max) or connect start (new-conn); service_us from the moment the
 * request went on the wire; queue_us = due -> wire (rate: waiting for an
 * idle connection plus our own wake-up lateness; new-conn: connect time).
 * Idle mode prints target_conns, established, connect_failed,
 * dropped_before_ready, open_at_ready, dropped_during_hold, open_at_end,
 * connect_s, hold_s.
 *
 * Latency is recorded for 2xx responses of requests due (rate) or sent
 * (max, new-conn) inside the measured window [t0 + W, t0 + W + D), into a
 * log-linear histogram: exact below 128 ns, then 128 buckets per power of
 * two, so a reported percentile is within 0.4 % of the true one.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HL_NS		1000000000ull

/* ---- time ------------------------------------------------------------- */

static uint64_t hl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * HL_NS + (uint64_t)ts.tv_nsec;
}

/* ---- latency histogram -------------------------------------------------- */

/*
 * Values are nanoseconds.  Below 2^SUB_BITS a bucket holds one value; above,
 * each power of two [2^m, 2^(m+1)) is cut into 2^SUB_BITS equal buckets, so
 * a bucket is never wider than 1/128 of its lower bound and its midpoint is
 * within 1/256 of anything in it.  2^37 ns (137 s) bounds the range: larger
 * values land in the last bucket (max and mean stay exact).
 */
#define HL_HIST_SUB_BITS	7
#define HL_HIST_SUB		(1u << HL_HIST_SUB_BITS)
#define HL_HIST_MAX_BITS	37
#define HL_HIST_BUCKETS		((HL_HIST_MAX_BITS - HL_HIST_SUB_BITS + 1) * HL_HIST_SUB)

struct hl_hist {
	uint64_t count;
	uint64_t min;
	uint64_t max;
	double sum;
	uint64_t buckets[HL_HIST_BUCKETS];
};

static void hl_hist_init(struct hl_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

static unsigned int hl_hist_index(uint64_t v)
{
	unsigned int shift;

	if (v >= (1ull << HL_HIST_MAX_BITS))
		v = (1ull << HL_HIST_MAX_BITS) - 1;
	if (v < HL_HIST_SUB)
		return (unsigned int)v;
	shift = (unsigned int)(63 - __builtin_clzll(v)) - HL_HIST_SUB_BITS;
	/* v >> shift is in [SUB, 2 SUB): octave `shift` starts at (shift+1)*SUB. */
	return shift * HL_HIST_SUB + (unsigned int)(v >> shift);
}

/* The values bucket @idx holds: [*lo, *lo + *width). */
static void hl_hist_bounds(unsigned int idx, uint64_t *lo, uint64_t *width)
{
	unsigned int shift;

	if (idx < 2 * HL_HIST_SUB) {
		*lo = idx;
		*width = 1;
		return;
	}
	shift = idx / HL_HIST_SUB - 1;
	*lo = (uint64_t)(idx - shift * HL_HIST_SUB) << shift;
	*width = 1ull << shift;
}

static void hl_hist_record(struct hl_hist *h, uint64_t v)
{
	h->buckets[hl_hist_index(v)]++;
	h->count++;
	h->sum += (double)v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/*
 * The @q quantile (0 < q <= 1): the value of rank ceil(q * count) in sorted
 * order, reported as the midpoint of its bucket clamped to [min, max]; 0 for
 * an empty histogram.
 */
static uint64_t hl_hist_quantile(const struct hl_hist *h, double q)
{
	uint64_t rank, seen = 0, lo, width, v;
	double r;

	if (!h->count)
		return 0;
	if (q >= 1.0)
		return h->max;
	r = q * (double)h->count;
	rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < HL_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		hl_hist_bounds(i, &lo, &width);
		v = lo + (width - 1) / 2;
		if (v < h->min)
			v = h->min;
		if (v > h->max)
			v = h->max;
		return v;
	}
	return h->max;
}

static double hl_hist_mean(const struct hl_hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}

/* ---- HTTP/1.x response parser ------------------------------------------- */

#define HL_LINE_KEEP	128		/* bytes of a line kept for parsing */
#define HL_LINE_LIMIT	8192		/* longest line accepted */
#define HL_HEAD_LIMIT	65536		/* status line + headers (+ trailers) */

enum hl_resp_state {
	HL_RS_STATUS = 0,	/* reading the status line */
	HL_RS_HEADER,		/* reading header lines up to the empty one */
	HL_RS_BODY_LEN,		/* Content-Length body, body_left to go */
	HL_RS_CHUNK_SIZE,	/* a chunk-size line */
	HL_RS_CHUNK_DATA,	/* chunk data, body_left to go */
	HL_RS_CHUNK_END,	/* the CRLF closing a chunk's data */
	HL_RS_TRAILER,		/* trailer lines after the last chunk */
	HL_RS_BODY_EOF,		/* body delimited by the connection's end */
	HL_RS_DONE,		/* the response is complete */
};

struct hl_resp {
	enum hl_resp_state state;
	unsigned int status;
	bool http10;		/* HTTP/1.0 response: closes unless keep-alive */
	bool has_len;
	bool chunked;
	bool hdr_close;		/* Connection: close */
	bool hdr_keep_alive;	/* Connection: keep-alive */
	bool close;		/* valid once past the headers: server closes */
	uint32_t line_len;	/* bytes kept in line[] */
	uint32_t line_total;	/* bytes of the current line so far */
	uint32_t head_bytes;
	uint64_t content_length;
	uint64_t body_left;
	uint64_t body_bytes;
	char line[HL_LINE_KEEP];
};

static void hl_resp_reset(struct hl_resp *r)
{
	/* Zero is HL_RS_STATUS; line_len says how much of line[] is valid. */
	memset(r, 0, offsetof(struct hl_resp, line));
}

static int hl_resp_status_line(struct hl_resp *r, const char *s, size_t n)
{
	if (n == 0)
		return 0;	/* tolerate a stray empty line before a status line */
	if (n < 12 || memcmp(s, "HTTP/1.", 7) || s[7] < '0' || s[7] > '9' ||
	    s[8] != ' ' || s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9' || (n > 12 && s[12] != ' '))
		return -EPROTO;
	r->status = (unsigned int)((s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0'));
	r->http10 = s[7] == '0';
	r->has_len = r->chunked = r->hdr_close = r->hdr_keep_alive = false;
	r->content_length = 0;
	r->state = HL_RS_HEADER;
	return 0;
}

static bool hl_name_is(const char *name, size_t n, const char *want)
{
	return strlen(want) == n && strncasecmp(name, want, n) == 0;
}

static int hl_resp_header_line(struct hl_resp *r, char *s, size_t n)
{
	char *colon, *v, *end;
	uint64_t len = 0;
	size_t digits = 0;

	if (n == 0) {
		/* End of the header section: decide how the body is delimited. */
		if (r->status >= 100 && r->status < 200) {
			if (r->status == 101)
				return -EPROTO;	/* we never ask to switch */
			r->state = HL_RS_STATUS;	/* interim: the real one follows */
			return 0;
		}
		r->close = r->hdr_close || (r->http10 && !r->hdr_keep_alive);
		if (r->status == 204 || r->status == 304) {
			r->state = HL_RS_DONE;
		} else if (r->chunked) {
			r->state = HL_RS_CHUNK_SIZE;
		} else if (r->has_len) {
			r->body_left = r->content_length;
			r->state = r->body_left ? HL_RS_BODY_LEN : HL_RS_DONE;
		} else {
			r->close = true;
			r->state = HL_RS_BODY_EOF;
		}
		return 0;
	}
	if (s[0] == ' ' || s[0] == '\t')
		return 0;	/* obsolete folding: nothing we read continues */
	colon = memchr(s, ':', n);
	if (!colon)
		return -EPROTO;
	v = colon + 1;
	end = s + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	if (hl_name_is(s, (size_t)(colon - s), "content-length")) {
		for (const char *p = v; p < end; p++, digits++) {
			if (*p < '0' || *p > '9' || digits >= 18)
				return -EPROTO;
			len = len * 10 + (uint64_t)(*p - '0');
		}
		if (!digits || (r->has_len && len != r->content_length))
			return -EPROTO;
		r->has_len = true;
		r->content_length = len;
	} else if (hl_name_is(s, (size_t)(colon - s), "transfer-encoding")) {
		if (strcasestr(v, "chunked"))
			r->chunked = true;
	} else if (hl_name_is(s, (size_t)(colon - s), "connection")) {
		if (strcasestr(v, "close"))
			r->hdr_close = true;
		if (strcasestr(v, "keep-alive"))
			r->hdr_keep_alive = true;
	}
	return 0;
}

static int hl_resp_chunk_size_line(struct hl_resp *r, const char *s, size_t n)
{
	uint64_t size = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		int d;

		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			break;
		if (i >= 15)
			return -EPROTO;
		size = size * 16 + (uint64_t)d;
	}
	if (i == 0 || (i < n && s[i] != ';' && s[i] != ' ' && s[i] != '\t'))
		return -EPROTO;
	if (size == 0) {
		r->state = HL_RS_TRAILER;
	} else {
		r->body_left = size;
		r->state = HL_RS_CHUNK_DATA;
	}
	return 0;
}

/* A complete line (without its LF) is in line[]: act on it. */
static int hl_resp_line_end(struct hl_resp *r)
{
	size_t n = r->line_len;
	int err = -EPROTO;

	/* Strip the CR of CRLF (a bare LF is accepted too).  A truncated line
	 * keeps only its start, where its CR cannot be. */
	if (r->line_total == n && n && r->line[n - 1] == '\r')
		n--;
	r->line[n] = '\0';
	switch (r->state) {
	case HL_RS_STATUS:
		err = hl_resp_status_line(r, r->line, n);
		break;
	case HL_RS_HEADER:
		err = hl_resp_header_line(r, r->line, n);
		break;
	case HL_RS_CHUNK_SIZE:
		err = hl_resp_chunk_size_line(r, r->line, n);
		break;
	case HL_RS_CHUNK_END:
		if (n == 0) {
			r->state = HL_RS_CHUNK_SIZE;
			err = 0;
		}
		break;
	case HL_RS_TRAILER:
		if (n == 0)
			r->state = HL_RS_DONE;
		err = 0;
		break;
	default:
		break;
	}
	r->line_len = r->line_total = 0;
	return err;
}

/*
 * Feeds @n bytes at @p to the response parser.  Returns <0 (-errno) on a
 * protocol error, 0 when all @n bytes were consumed and the response is not
 * complete yet, >0 the number of bytes consumed up to and including the end
 * of the response.  Limits are checked as bytes arrive.
 */
static long hl_resp_feed(struct hl_resp *r, const char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		switch (r->state) {
		case HL_RS_BODY_LEN:
		case HL_RS_CHUNK_DATA: {
			size_t take = n - i;

			if (take > r->body_left)
				take = (size_t)r->body_left;
			r->body_left -= take;
			r->body_bytes += take;
			i += take;
			if (r->body_left)
				break;
			if (r->state == HL_RS_BODY_LEN) {
				r->state = HL_RS_DONE;
				return (long)i;
			}
			r->state = HL_RS_CHUNK_END;
			break;
		}
		case HL_RS_BODY_EOF:
			r->body_bytes += n - i;
			i = n;
			break;
		case HL_RS_DONE:
			return -EINVAL;
		default: {
			const char *lf = memchr(p + i, '\n', n - i);
			size_t take = lf ? (size_t)(lf - (p + i)) : n - i;
			size_t room = HL_LINE_KEEP - 1 - r->line_len;
			bool head = r->state == HL_RS_STATUS || r->state == HL_RS_HEADER ||
				    r->state == HL_RS_TRAILER;
			int err;

			if (take + 1 > HL_LINE_LIMIT - r->line_total ||
			    (head && take + 1 > HL_HEAD_LIMIT - r->head_bytes))
				return -E2BIG;
			memcpy(r->line + r->line_len, p + i, take < room ? take : room);
			r->line_len += (uint32_t)(take < room ? take : room);
			r->line_total += (uint32_t)take;
			if (head)
				r->head_bytes += (uint32_t)take + (lf ? 1 : 0);
			i += take;
			if (!lf)
				break;
			i++;
			err = hl_resp_line_end(r);
			if (err < 0)
				return err;
			if (r->state == HL_RS_DONE)
				return (long)i;
		}
		}
	}
	return 0;
}

/*
 * The connection ended while this response was being read.  Returns 1 when
 * that completes it (a body delimited by the close), -EPIPE when the
 * response is cut short.
 */
static int hl_resp_eof(struct hl_resp *r)
{
	if (r->state != HL_RS_BODY_EOF)
		return -EPIPE;
	r->state = HL_RS_DONE;
	return 1;
}

/* ---- configuration and results ------------------------------------------ */

enum hl_mode {
	HL_MODE_NONE = 0,
	HL_MODE_RATE,
	HL_MODE_MAX,
	HL_MODE_NEWCONN,
	HL_MODE_IDLE,
};

static const char *const hl_mode_names[] = {
	[HL_MODE_NONE] = "none", [HL_MODE_RATE] = "rate", [HL_MODE_MAX] = "max",
	[HL_MODE_NEWCONN] = "new-conn", [HL_MODE_IDLE] = "idle",
};

#define HL_URL_MAX	1024

struct hl_cfg {
	enum hl_mode mode;
	struct sockaddr_in addr;
	char url[HL_URL_MAX];
	char host[256];
	char path[HL_URL_MAX];
	double rate;		/* requests/s, rate mode */
	double duration_s;
	double warmup_s;
	double timeout_s;
	double hold_s;		/* idle mode; 0: until a signal */
	double settle_s;	/* idle mode */
	uint32_t conns;
	uint32_t idle_conns;
	uint32_t connect_batch;
	double spin_us;		/* poll, not sleep, when the next due time is this close */
	FILE *ready_out;	/* where idle mode prints its idle_open line */
};

/* Why a request failed; indexes hl_result.err[]. */
enum hl_err {
	HL_ERR_CONNECT = 0,	/* new-conn: its connection did not open */
	HL_ERR_IO,		/* send/recv error (reset, ...) */
	HL_ERR_EOF,		/* connection closed before the response ended */
	HL_ERR_TIMEOUT,		/* no complete response within --timeout */
	HL_ERR_PROTOCOL,	/* malformed response, or bytes beyond it */
	HL_ERR_UNSENT,		/* rate: still queued when the run ended */
	HL_ERR_COUNT,
};

static const char *const hl_err_names[HL_ERR_COUNT] = {
	"connect", "io", "eof", "timeout", "protocol", "unsent",
};

struct hl_result {
	/* load modes: measured requests and what became of each */
	uint64_t requests;
	uint64_t ok_2xx;
	uint64_t non_2xx;
	uint64_t err[HL_ERR_COUNT];
	uint64_t sent_in_window;	/* measured requests on the wire before its end */
	uint64_t done_in_window;	/* responses completed inside the window */
	uint64_t body_bytes;		/* of measured 2xx responses */
	uint64_t conn_errors;		/* failures no request is charged for */
	uint64_t reconnects;		/* keep-alive connections the server ended */
	uint32_t conns_open;		/* keep-alive connections open at the start */
	double window_s;
	struct hl_hist lat;		/* from the due time (CO-corrected) */
	struct hl_hist svc;		/* from the time it went on the wire */
	struct hl_hist queue;		/* due -> on the wire: queueing + our lateness */
	/* idle mode */
	uint64_t idle_established;
	uint64_t idle_failed;
	uint64_t idle_dropped_settle;	/* EOF/RST/data before the ready line */
	uint64_t idle_dropped_hold;	/* ... after it */
	uint64_t idle_open_ready;
	uint64_t idle_open_end;
	double idle_connect_s;
	double idle_hold_s;
};

static void hl_cfg_defaults(struct hl_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->conns = 16;
	cfg->duration_s = 10;
	cfg->warmup_s = 2;
	cfg->timeout_s = 5;
	cfg->settle_s = 1;
	cfg->connect_batch = 256;
	cfg->ready_out = stdout;
}

/* Parses http://A.B.C.D[:PORT][/PATH] into @cfg (addr, path, default host). */
static int hl_parse_url(struct hl_cfg *cfg, const char *url)
{
	char ip[INET_ADDRSTRLEN];
	const char *p, *hostend, *colon;
	unsigned long port = 80;

	if (strncmp(url, "http://", 7) || strlen(url) >= HL_URL_MAX)
		return -EINVAL;
	p = url + 7;
	hostend = p + strcspn(p, "/");
	colon = memchr(p, ':', (size_t)(hostend - p));
	if (colon) {
		char *end;

		port = strtoul(colon + 1, &end, 10);
		if (end != hostend || port == 0 || port > 65535)
			return -EINVAL;
	} else {
		colon = hostend;
	}
	if (colon - p <= 0 || (size_t)(colon - p) >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, p, (size_t)(colon - p));
	ip[colon - p] = '\0';
	memset(&cfg->addr, 0, sizeof(cfg->addr));
	cfg->addr.sin_family = AF_INET;
	cfg->addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &cfg->addr.sin_addr) != 1)
		return -EINVAL;
	snprintf(cfg->path, sizeof(cfg->path), "%s", *hostend ? hostend : "/");
	snprintf(cfg->url, sizeof(cfg->url), "%s", url);
	if (!cfg->host[0])
		snprintf(cfg->host, sizeof(cfg->host), "%.*s",
			 (int)(hostend - p), p);
	return 0;
}

/* ---- the event loop ----------------------------------------------------- */

#define HL_SQ_ENTRIES	4096
#define HL_CQ_ENTRIES	16384
#define HL_BGID		1
#define HL_BUF_SIZE	16384
#define HL_REQ_MAX	2048
#define HL_SCAN_NS	(50 * 1000 * 1000ull)	/* timeout/retry scan period */
#define HL_RETRY_NS	(50 * 1000 * 1000ull)	/* after a failed connect */
#define HL_IDLE_TICK_NS	(100 * 1000 * 1000ull)
#define HL_WARN_MAX	10

/* user_data: operation in the high 32 bits, connection slot in the low. */
enum hl_op {
	HL_OP_CONNECT = 1,
	HL_OP_CONNECT_TIMEOUT,
	HL_OP_SEND,
	HL_OP_RECV,
};

#define HL_UD(op, idx)	(((uint64_t)(op) << 32) | (uint32_t)(idx))

enum hl_conn_state {
	HL_C_FREE = 0,		/* no socket; new-conn: a slot waiting for work */
	HL_C_CONNECTING,	/* connect (and its linked timeout) in flight */
	HL_C_OPEN,		/* connected, a multishot recv armed */
	HL_C_LINGER,		/* new-conn: response read, awaiting the FIN */
	HL_C_CLOSING,		/* shut down; closed once its ops have drained */
	HL_C_RETRY,		/* closed after a failure, reopens at retry_at */
	HL_C_DEAD,		/* closed for good */
};

struct hl_conn {
	int fd;
	enum hl_conn_state state;
	uint32_t idx;
	uint32_t ops;		/* io_uring operations in flight on this slot */
	bool recv_armed;
	bool busy;		/* a request is outstanding on it */
	bool measured;		/* ... and it counts */
	bool in_fifo;
	bool backoff;		/* reopen after HL_RETRY_NS, not at once */
	uint32_t req_off;	/* bytes of the request sent */
	uint64_t t_due;		/* the request's intended time */
	uint64_t t_sent;
	uint64_t retry_at;
	struct hl_resp resp;
};

struct hl_loop {
	const struct hl_cfg *cfg;
	struct hl_result *res;
	struct io_uring ring;
	bool ring_up;
	struct io_uring_buf_ring *br;	/* owned; registered with the ring */
	uint8_t *bufs;			/* owned; nbufs * HL_BUF_SIZE */
	uint32_t nbufs;
	int buf_mask;
	struct hl_conn *conns;		/* owned; nconns slots */
	uint32_t nconns;
	uint32_t *fifo;			/* owned; idle (or free) slots, FIFO */
	uint32_t fifo_head;
	uint32_t fifo_len;
	char req[HL_REQ_MAX];
	uint32_t req_len;
	struct __kernel_timespec connect_ts;
	uint64_t timeout_ns;
	uint64_t spin_ns;
	uint64_t ws, we;		/* measured window */
	uint32_t connecting;		/* connects in flight */
	uint32_t busy;			/* requests outstanding */
	uint32_t next_open;		/* slots opened so far by the opener */
	bool stopping;			/* no more reopens */
	bool idle_hold;			/* idle mode: past the ready line */
	uint64_t enobufs;
	unsigned int warned;
};

static volatile sig_atomic_t hl_stop_requests;

static void hl_on_signal(int sig)
{
	(void)sig;
	hl_stop_requests++;
}

static void hl_warn(struct hl_loop *l, const char *what, int err)
{
	if (l->warned >= HL_WARN_MAX)
		return;
	if (++l->warned == HL_WARN_MAX)
		fprintf(stderr, "mf_httpload: %s: %s (further errors not shown)\n",
			what, strerror(err));
	else
		fprintf(stderr, "mf_httpload: %s: %s\n", what, strerror(err));
}

static bool hl_keepalive(const struct hl_loop *l)
{
	return l->cfg->mode == HL_MODE_RATE || l->cfg->mode == HL_MODE_MAX;
}

static bool hl_in_window(const struct hl_loop *l, uint64_t t)
{
	return t >= l->ws && t < l->we;
}

/* An SQE, submitting queued ones first when fewer than @need are free, so a
 * linked pair never straddles a submission.  NULL when the kernel refuses. */
static struct io_uring_sqe *hl_sqe(struct hl_loop *l, unsigned int need)
{
	if (io_uring_sq_space_left(&l->ring) < need)
		io_uring_submit(&l->ring);
	return io_uring_get_sqe(&l->ring);
}

static void hl_buf_return(struct hl_loop *l, uint16_t bid)
{
	io_uring_buf_ring_add(l->br, l->bufs + (size_t)bid * HL_BUF_SIZE,
			      HL_BUF_SIZE, bid, l->buf_mask, 0);
	io_uring_buf_ring_advance(l->br, 1);
}

static void hl_fifo_push(struct hl_loop *l, struct hl_conn *c)
{
	/* Each slot is queued at most once: a stale entry (the slot changed
	 * state after queueing) is skipped at pop, and is valid again if the
	 * slot returns to the queued state before that. */
	if (c->in_fifo)
		return;
	c->in_fifo = true;
	l->fifo[(l->fifo_head + l->fifo_len) % l->nconns] = c->idx;
	l->fifo_len++;
}

/* The next idle connection (keep-alive modes) or free slot (new-conn). */
static struct hl_conn *hl_fifo_pop(struct hl_loop *l)
{
	while (l->fifo_len) {
		struct hl_conn *c = &l->conns[l->fifo[l->fifo_head]];

		l->fifo_head = (l->fifo_head + 1) % l->nconns;
		l->fifo_len--;
		c->in_fifo = false;
		if (l->cfg->mode == HL_MODE_NEWCONN ? c->state == HL_C_FREE :
		    c->state == HL_C_OPEN && !c->busy)
			return c;
	}
	return NULL;
}

static int hl_conn_open(struct hl_loop *l, struct hl_conn *c);

/* The slot @c has no socket: it tries again HL_RETRY_NS after @now. */
static void hl_conn_retry(struct hl_conn *c, uint64_t now)
{
	c->state = HL_C_RETRY;
	c->retry_at = now + HL_RETRY_NS;
}

/* Puts the socketless slot @c back to work: new-conn queues it for the
 * next request, the keep-alive modes reconnect it. */
static void hl_conn_reuse(struct hl_loop *l, struct hl_conn *c, uint64_t now)
{
	if (l->cfg->mode == HL_MODE_NEWCONN) {
		c->state = HL_C_FREE;
		hl_fifo_push(l, c);
	} else if (hl_conn_open(l, c)) {
		hl_conn_retry(c, now);
	}
}

/* Closes the socket of a CLOSING slot once no operation refers to it, then
 * decides what the slot does next. */
static void hl_conn_reap(struct hl_loop *l, struct hl_conn *c)
{
	if (c->state != HL_C_CLOSING || c->ops)
		return;
	close(c->fd);
	c->fd = -1;
	if (l->cfg->mode == HL_MODE_IDLE || l->stopping)
		c->state = HL_C_DEAD;
	else if (c->backoff)	/* a failed connect: do not hammer a refuser */
		hl_conn_retry(c, hl_now());
	else
		hl_conn_reuse(l, c, hl_now());
}

/* Shuts the connection down; shutdown() wakes its armed recv, and the slot
 * is reaped when that completion (and any other) has come back. */
static void hl_conn_close(struct hl_loop *l, struct hl_conn *c, bool backoff)
{
	if (c->state == HL_C_CLOSING || c->fd < 0)
		return;
	c->state = HL_C_CLOSING;
	c->backoff = backoff;
	shutdown(c->fd, SHUT_RDWR);
	hl_conn_reap(l, c);
}

/* The outstanding request on @c (if any) failed for @why; the connection
 * goes too.  Failures outside a request are counted as conn_errors. */
static void hl_conn_fail(struct hl_loop *l, struct hl_conn *c, enum hl_err why,
			 bool backoff)
{
	if (c->busy) {
		c->busy = false;
		l->busy--;
		if (c->measured)
			l->res->err[why]++;
	} else {
		l->res->conn_errors++;
	}
	hl_conn_close(l, c, backoff);
}

static int hl_arm_recv(struct hl_loop *l, struct hl_conn *c)
{
	struct io_uring_sqe *sqe = hl_sqe(l, 1);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = HL_BGID;
	io_uring_sqe_set_data64(sqe, HL_UD(HL_OP_RECV, c->idx));
	c->ops++;
	c->recv_armed = true;
	return 0;
}

static int hl_send(struct hl_loop *l, struct hl_conn *c)
{
	struct io_uring_sqe *sqe = hl_sqe(l, 1);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_send(sqe, c->fd, l->req + c->req_off, l->req_len - c->req_off,
			   MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, HL_UD(HL_OP_SEND, c->idx));
	c->ops++;
	return 0;
}

/* Starts a nonblocking connect on slot @c with a linked timeout.  Returns 0,
 * or -errno with the slot left without a socket. */
static int hl_conn_open(struct hl_loop *l, struct hl_conn *c)
{
	struct io_uring_sqe *sqe;
	int one = 1, fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		hl_warn(l, "socket", -err);
		return err;
	}
	/* One small write per request: never let Nagle hold it back. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sqe = hl_sqe(l, 2);
	if (!sqe || io_uring_sq_space_left(&l->ring) < 1) {
		if (sqe) {	/* keep the ring consistent: a no-op, ignored */
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, HL_UD(0, UINT32_MAX));
		}
		close(fd);
		return -EBUSY;
	}
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&l->cfg->addr,
			      sizeof(l->cfg->addr));
	sqe->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(sqe, HL_UD(HL_OP_CONNECT, c->idx));
	sqe = io_uring_get_sqe(&l->ring);
	io_uring_prep_link_timeout(sqe, &l->connect_ts, 0);
	io_uring_sqe_set_data64(sqe, HL_UD(HL_OP_CONNECT_TIMEOUT, c->idx));
	c->fd = fd;
	c->state = HL_C_CONNECTING;
	c->ops += 2;
	c->recv_armed = false;
	l->connecting++;
	return 0;
}

/* Makes @c carry a request due at @t_due that starts out at @now. */
static void hl_req_begin(struct hl_loop *l, struct hl_conn *c, uint64_t t_due,
			 uint64_t now)
{
	c->busy = true;
	c->measured = hl_in_window(l, t_due);
	c->t_due = t_due;
	c->t_sent = now;
	l->busy++;
	if (c->measured && now < l->we)
		l->res->sent_in_window++;
}

/* Puts the request of the open connection @c on the wire at @now. */
static void hl_req_send(struct hl_loop *l, struct hl_conn *c, uint64_t now)
{
	c->t_sent = now;
	c->req_off = 0;
	hl_resp_reset(&c->resp);
	if (hl_send(l, c))
		hl_conn_fail(l, c, HL_ERR_IO, false);
}

/* The response on @c is complete (@clean: nothing followed it). */
static void hl_req_done(struct hl_loop *l, struct hl_conn *c, bool clean)
{
	struct hl_result *res = l->res;
	struct hl_resp *r = &c->resp;
	uint64_t now = hl_now();

	if (!clean) {
		/* Bytes beyond the end: the body was longer than announced. */
		hl_conn_fail(l, c, HL_ERR_PROTOCOL, false);
		return;
	}
	c->busy = false;
	l->busy--;
	if (hl_in_window(l, now))
		res->done_in_window++;
	if (c->measured) {
		if (r->status >= 200 && r->status < 300) {
			res->ok_2xx++;
			res->body_bytes += r->body_bytes;
			hl_hist_record(&res->lat, now - c->t_due);
			hl_hist_record(&res->svc, now - c->t_sent);
			hl_hist_record(&res->queue, c->t_sent - c->t_due);
		} else {
			res->non_2xx++;
		}
	}
	if (l->cfg->mode == HL_MODE_NEWCONN) {
		/* Let the server close first when it said it would, so the
		 * TIME_WAIT lands on its side, not on our ephemeral ports. */
		if (r->close && c->state == HL_C_OPEN)
			c->state = HL_C_LINGER;
		else
			hl_conn_close(l, c, false);
	} else if (r->close) {
		res->reconnects++;
		hl_conn_close(l, c, false);
	} else {
		hl_fifo_push(l, c);
	}
}

static void hl_on_connect(struct hl_loop *l, struct hl_conn *c, int res)
{
	c->ops--;
	l->connecting--;
	if (c->state != HL_C_CONNECTING) {
		hl_conn_reap(l, c);
		return;
	}
	if (res < 0)
		hl_warn(l, "connect", res == -ECANCELED ? ETIMEDOUT : -res);
	if (res < 0 || hl_arm_recv(l, c)) {
		if (l->cfg->mode == HL_MODE_IDLE)
			l->res->idle_failed++;
		hl_conn_fail(l, c, HL_ERR_CONNECT, true);
		return;
	}
	c->state = HL_C_OPEN;
	switch (l->cfg->mode) {
	case HL_MODE_IDLE:
		l->res->idle_established++;
		break;
	case HL_MODE_NEWCONN:
		/* The request began with the connect (t_due); now it goes out. */
		hl_req_send(l, c, hl_now());
		break;
	default:
		hl_fifo_push(l, c);
		break;
	}
}

static void hl_on_send(struct hl_loop *l, struct hl_conn *c, int res)
{
	c->ops--;
	if (c->state != HL_C_OPEN || !c->busy) {
		hl_conn_reap(l, c);
		return;
	}
	if (res < 0) {
		hl_warn(l, "send", -res);
		hl_conn_fail(l, c, HL_ERR_IO, false);
		return;
	}
	c->req_off += (uint32_t)res;
	if (c->req_off < l->req_len && hl_send(l, c))
		hl_conn_fail(l, c, HL_ERR_IO, false);
}

static void hl_idle_drop(struct hl_loop *l, struct hl_conn *c)
{
	if (l->idle_hold)
		l->res->idle_dropped_hold++;
	else
		l->res->idle_dropped_settle++;
	hl_conn_close(l, c, false);
}

static void hl_on_data(struct hl_loop *l, struct hl_conn *c, const char *p,
		       size_t n)
{
	long r;

	if (l->cfg->mode == HL_MODE_IDLE) {
		hl_idle_drop(l, c);
		return;
	}
	if (c->state == HL_C_LINGER || !c->busy) {
		/* Nothing was asked: the server sent bytes of its own. */
		l->res->conn_errors++;
		hl_conn_close(l, c, false);
		return;
	}
	r = hl_resp_feed(&c->resp, p, n);
	if (r < 0) {
		hl_conn_fail(l, c, HL_ERR_PROTOCOL, false);
		return;
	}
	if (r > 0)
		hl_req_done(l, c, (size_t)r == n);
}

static void hl_on_eof(struct hl_loop *l, struct hl_conn *c)
{
	if (l->cfg->mode == HL_MODE_IDLE) {
		hl_idle_drop(l, c);
		return;
	}
	if (c->busy) {
		if (hl_resp_eof(&c->resp) > 0)
			hl_req_done(l, c, true);
		else
			hl_conn_fail(l, c, HL_ERR_EOF, false);
	} else if (c->state == HL_C_OPEN) {
		l->res->reconnects++;	/* the server ended an idle keep-alive */
	}
	hl_conn_close(l, c, false);
}

static void hl_on_recv(struct hl_loop *l, struct hl_conn *c,
		       const struct io_uring_cqe *cqe)
{
	bool live = c->state == HL_C_OPEN || c->state == HL_C_LINGER;
	int res = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		c->ops--;
		c->recv_armed = false;
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		uint16_t bid = (uint16_t)(cqe->flags >> IORING_CQE_BUFFER_SHIFT);

		if (res > 0 && live)
			hl_on_data(l, c, (const char *)l->bufs + (size_t)bid * HL_BUF_SIZE,
				   (size_t)res);
		hl_buf_return(l, bid);
	} else if (res == 0 && live) {
		hl_on_eof(l, c);
	} else if (res == -ENOBUFS) {
		l->enobufs++;	/* ring ran dry; re-armed below */
	} else if (res < 0 && live) {
		if (l->cfg->mode == HL_MODE_IDLE) {
			hl_idle_drop(l, c);
		} else {
			hl_warn(l, "recv", -res);
			hl_conn_fail(l, c, HL_ERR_IO, false);
		}
	}
	live = c->state == HL_C_OPEN || c->state == HL_C_LINGER;
	if (live && !c->recv_armed && hl_arm_recv(l, c))
		hl_conn_fail(l, c, HL_ERR_IO, false);
	hl_conn_reap(l, c);
}

static void hl_dispatch_cqe(struct hl_loop *l, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	uint32_t idx = (uint32_t)ud;
	struct hl_conn *c;

	if (ud == LIBURING_UDATA_TIMEOUT || idx >= l->nconns)
		return;
	c = &l->conns[idx];
	switch (ud >> 32) {
	case HL_OP_CONNECT:
		hl_on_connect(l, c, cqe->res);
		break;
	case HL_OP_CONNECT_TIMEOUT:
		/* -ETIME: it fired and the connect comes back -ECANCELED. */
		c->ops--;
		hl_conn_reap(l, c);
		break;
	case HL_OP_SEND:
		hl_on_send(l, c, cqe->res);
		break;
	case HL_OP_RECV:
		hl_on_recv(l, c, cqe);
		break;
	default:
		break;
	}
}

/* Submits what is queued, waits until @until (absolute) or a completion,
 * then handles every completion there is. */
static void hl_wait(struct hl_loop *l, uint64_t until)
{
	struct __kernel_timespec ts = { 0 };
	struct io_uring_cqe *cqe;
	uint64_t now = hl_now(), left;
	unsigned int head, n = 0;

	/* A sleeping thread wakes tens of microseconds late (VM timers); with
	 * --spin-us the last stretch is polled instead, at the price of a CPU. */
	left = until > now ? until - now : 0;
	left = left > l->spin_ns ? left - l->spin_ns : 0;
	ts.tv_sec = (long long)(left / HL_NS);
	ts.tv_nsec = (long long)(left % HL_NS);
	io_uring_submit_and_wait_timeout(&l->ring, &cqe, 1, &ts, NULL);
	io_uring_for_each_cqe(&l->ring, head, cqe) {
		hl_dispatch_cqe(l, cqe);
		n++;
	}
	io_uring_cq_advance(&l->ring, n);
}

/* ---- setup and teardown ------------------------------------------------- */

static void hl_raise_nofile(uint64_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= need)
		return;
	if (rl.rlim_max < need) {
		struct rlimit want = { .rlim_cur = need, .rlim_max = need };

		/* Root may raise the hard limit (up to fs.nr_open). */
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < need)
		fprintf(stderr, "mf_httpload: RLIMIT_NOFILE is %llu, %llu wanted\n",
			(unsigned long long)rl.rlim_cur, (unsigned long long)need);
}

static void hl_loop_free(struct hl_loop *l)
{
	/* The ring first: it cancels whatever is in flight, so no completion
	 * can refer to a socket or buffer released below. */
	if (l->ring_up)
		io_uring_queue_exit(&l->ring);
	l->ring_up = false;
	for (uint32_t i = 0; l->conns && i < l->nconns; i++)
		if (l->conns[i].fd >= 0)
			close(l->conns[i].fd);
	free(l->conns);
	l->conns = NULL;
	free(l->fifo);
	l->fifo = NULL;
	free(l->br);
	l->br = NULL;
	free(l->bufs);
	l->bufs = NULL;
}

static uint32_t hl_pow2_at_least(uint32_t v)
{
	uint32_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

/* A ring for HL_SQ_ENTRIES submissions and HL_CQ_ENTRIES completions. */
static int hl_ring_init(struct io_uring *ring, unsigned int flags)
{
	struct io_uring_params p = {
		.flags = flags | IORING_SETUP_CQSIZE,
		.cq_entries = HL_CQ_ENTRIES,
	};

	return io_uring_queue_init_params(HL_SQ_ENTRIES, ring, &p);
}

/* Sets up @l for @cfg: ring, buffer ring, @nconns slots, the request.  On
 * failure returns -errno; hl_loop_free() releases what was made either way. */
static int hl_loop_init(struct hl_loop *l, const struct hl_cfg *cfg,
			struct hl_result *res, uint32_t nconns)
{
	struct io_uring_buf_reg reg = { 0 };
	void *mem = NULL;
	int err, n;

	memset(l, 0, sizeof(*l));
	l->cfg = cfg;
	l->res = res;
	l->nconns = nconns;
	l->timeout_ns = (uint64_t)(cfg->timeout_s * 1e9);
	l->spin_ns = (uint64_t)(cfg->spin_us * 1e3);
	l->connect_ts.tv_sec = (long long)(l->timeout_ns / HL_NS);
	l->connect_ts.tv_nsec = (long long)(l->timeout_ns % HL_NS);
	n = snprintf(l->req, sizeof(l->req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: mf_httpload\r\n"
		     "Accept: */*\r\n%s\r\n", cfg->path, cfg->host,
		     cfg->mode == HL_MODE_NEWCONN ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof(l->req))
		return -ENAMETOOLONG;
	l->req_len = (uint32_t)n;

	l->conns = calloc(nconns, sizeof(*l->conns));
	l->fifo = calloc(nconns, sizeof(*l->fifo));
	if (!l->conns || !l->fifo)
		return -ENOMEM;
	for (uint32_t i = 0; i < nconns; i++) {
		l->conns[i].fd = -1;
		l->conns[i].idx = i;
	}

	/* Few buffers for idle connections (no data is expected), two per
	 * busy connection otherwise, so one batch of completions seldom
	 * drains the ring; -ENOBUFS is survived either way. */
	l->nbufs = cfg->mode == HL_MODE_IDLE ? 256 :
		   hl_pow2_at_least(nconns * 2 < 256 ? 256 : nconns * 2 > 2048 ? 2048 : nconns * 2);
	l->buf_mask = io_uring_buf_ring_mask(l->nbufs);
	if (posix_memalign(&mem, 4096, l->nbufs * sizeof(struct io_uring_buf)))
		return -ENOMEM;
	memset(mem, 0, l->nbufs * sizeof(struct io_uring_buf));
	l->br = mem;
	l->bufs = malloc((size_t)l->nbufs * HL_BUF_SIZE);
	if (!l->bufs)
		return -ENOMEM;

	/* One issuer, and completions handled only when we wait: the kernel
	 * does not interrupt the thread for task work between waits.  A
	 * kernel without those flags gets a plain ring. */
	err = hl_ring_init(&l->ring, IORING_SETUP_SINGLE_ISSUER |
				     IORING_SETUP_DEFER_TASKRUN);
	if (err == -EINVAL)
		err = hl_ring_init(&l->ring, 0);
	if (err)
		return err;
	l->ring_up = true;

	reg.ring_addr = (uint64_t)(uintptr_t)l->br;
	reg.ring_entries = l->nbufs;
	reg.bgid = HL_BGID;
	err = io_uring_register_buf_ring(&l->ring, &reg, 0);
	if (err)
		return err;
	io_uring_buf_ring_init(l->br);
	for (uint32_t i = 0; i < l->nbufs; i++)
		io_uring_buf_ring_add(l->br, l->bufs + (size_t)i * HL_BUF_SIZE,
				      HL_BUF_SIZE, (uint16_t)i, l->buf_mask, (int)i);
	io_uring_buf_ring_advance(l->br, (int)l->nbufs);
	return 0;
}

/* Opens slots next_open.. while fewer than connect_batch connects are in
 * flight.  A slot whose socket cannot be made is failed at once. */
static void hl_open_more(struct hl_loop *l)
{
	while (l->next_open < l->nconns && l->connecting < l->cfg->connect_batch) {
		struct hl_conn *c = &l->conns[l->next_open++];

		if (hl_conn_open(l, c) == 0)
			continue;
		if (l->cfg->mode == HL_MODE_IDLE) {
			l->res->idle_failed++;
			c->state = HL_C_DEAD;
		} else {
			l->res->conn_errors++;
			hl_conn_retry(c, hl_now());
		}
	}
}

/* Opens slots until all have resolved, @give_up passes or a signal comes. */
static void hl_open_all(struct hl_loop *l, uint64_t give_up)
{
	while (!hl_stop_requests && hl_now() < give_up &&
	       (l->next_open < l->nconns || l->connecting)) {
		hl_open_more(l);
		hl_wait(l, hl_now() + HL_IDLE_TICK_NS);
	}
}

static uint32_t hl_count_state(const struct hl_loop *l, enum hl_conn_state s)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < l->nconns; i++)
		n += l->conns[i].state == s;
	return n;
}

/* Periodic work: request timeouts, lingering closes, reopen retries. */
static void hl_scan(struct hl_loop *l, uint64_t now)
{
	for (uint32_t i = 0; i < l->nconns; i++) {
		struct hl_conn *c = &l->conns[i];

		if (c->busy && c->state == HL_C_OPEN && now > c->t_sent + l->timeout_ns) {
			hl_conn_fail(l, c, HL_ERR_TIMEOUT, false);
		} else if (c->state == HL_C_LINGER && now > c->t_sent + l->timeout_ns) {
			hl_conn_close(l, c, false);
		} else if (c->state == HL_C_RETRY && now >= c->retry_at && !l->stopping) {
			hl_conn_reuse(l, c, now);
		}
	}
}

/* ---- the modes ---------------------------------------------------------- */

static int hl_run_idle(struct hl_loop *l)
{
	const struct hl_cfg *cfg = l->cfg;
	struct hl_result *res = l->res;
	uint64_t t_start = hl_now(), t_ready, t_end, now;

	hl_open_all(l, UINT64_MAX);
	now = hl_now();
	res->idle_connect_s = (double)(now - t_start) / 1e9;
	/* Settle: a proxy that accepts and then drops (policy, limits) does so
	 * within moments; only connections that stay up count as open. */
	t_ready = now + (uint64_t)(cfg->settle_s * 1e9);
	while (!hl_stop_requests && (now = hl_now()) < t_ready)
		hl_wait(l, now + HL_IDLE_TICK_NS < t_ready ? now + HL_IDLE_TICK_NS : t_ready);
	res->idle_open_ready = hl_count_state(l, HL_C_OPEN);
	if (hl_stop_requests)
		goto out;
	l->idle_hold = true;
	fprintf(cfg->ready_out, "idle_open=%" PRIu64 " idle_failed=%" PRIu64 "\n",
		res->idle_open_ready, (uint64_t)l->nconns - res->idle_open_ready);
	fflush(cfg->ready_out);
	t_ready = hl_now();
	t_end = cfg->hold_s > 0 ? t_ready + (uint64_t)(cfg->hold_s * 1e9) : UINT64_MAX;
	while (!hl_stop_requests && (now = hl_now()) < t_end)
		hl_wait(l, now + HL_IDLE_TICK_NS < t_end ? now + HL_IDLE_TICK_NS : t_end);
	res->idle_hold_s = (double)(hl_now() - t_ready) / 1e9;
out:
	res->idle_open_end = hl_count_state(l, HL_C_OPEN);
	l->stopping = true;
	return 0;
}

/* Rate mode: request @i falls due at @t0 + @i * @gap_ns. */
static uint64_t hl_due(uint64_t t0, double gap_ns, uint64_t i)
{
	return t0 + (uint64_t)((double)i * gap_ns);
}

/* Rate, max and new-conn.  Returns 0, or -ENOTCONN when no keep-alive
 * connection could be opened at all. */
static int hl_run_load(struct hl_loop *l)
{
	const struct hl_cfg *cfg = l->cfg;
	struct hl_result *res = l->res;
	enum hl_mode mode = cfg->mode;
	double gap_ns = mode == HL_MODE_RATE ? 1e9 / cfg->rate : 0;
	uint64_t t0, now, next_scan, deadline = UINT64_MAX;
	uint64_t next_gen = 0, next_send = 0;	/* rate: queue = [next_send, next_gen) */
	bool gen_done = false, draining = false;
	int stops_seen = 0;

	if (hl_keepalive(l)) {
		hl_open_all(l, hl_now() + l->timeout_ns + HL_NS);
		res->conns_open = hl_count_state(l, HL_C_OPEN);
		if (!res->conns_open) {
			fprintf(stderr, "mf_httpload: no connection to %s could be opened\n",
				cfg->url);
			l->stopping = true;
			return -ENOTCONN;
		}
	} else {
		for (uint32_t i = 0; i < l->nconns; i++)
			hl_fifo_push(l, &l->conns[i]);
	}

	t0 = hl_now();
	l->ws = t0 + (uint64_t)(cfg->warmup_s * 1e9);
	l->we = l->ws + (uint64_t)(cfg->duration_s * 1e9);
	next_scan = t0 + HL_SCAN_NS;
	for (;;) {
		uint64_t wake;
		struct hl_conn *c;

		now = hl_now();
		if (hl_stop_requests > stops_seen) {
			/* First signal: end the window now and drain; a second
			 * one: stop waiting for the stragglers too. */
			stops_seen = hl_stop_requests;
			/* +1: a request due exactly now stays measured. */
			if (now < l->we)
				l->we = now + 1 > l->ws ? now + 1 : l->ws;
			if (stops_seen > 1)
				deadline = now;
		}
		switch (mode) {
		case HL_MODE_RATE:
			while (!gen_done) {
				uint64_t t = hl_due(t0, gap_ns, next_gen);

				if (t > now)
					break;
				if (t >= l->we) {
					gen_done = true;
					break;
				}
				res->requests += t >= l->ws;
				next_gen++;
			}
			while (next_send < next_gen && (c = hl_fifo_pop(l))) {
				uint64_t t = hl_due(t0, gap_ns, next_send++);

				hl_req_begin(l, c, t, now);
				hl_req_send(l, c, now);
			}
			break;
		case HL_MODE_MAX:
			while (now < l->we && (c = hl_fifo_pop(l))) {
				res->requests += hl_in_window(l, now);
				hl_req_begin(l, c, now, now);
				hl_req_send(l, c, now);
			}
			gen_done = now >= l->we;
			break;
		case HL_MODE_NEWCONN:
			while (now < l->we && (c = hl_fifo_pop(l))) {
				/* The request starts with the connect. */
				hl_req_begin(l, c, now, now);
				res->requests += c->measured;
				if (hl_conn_open(l, c) == 0)
					continue;
				/* No socket: fail it, retry the slot later. */
				hl_conn_fail(l, c, HL_ERR_CONNECT, false);
				hl_conn_retry(c, now);
			}
			gen_done = now >= l->we;
			break;
		default:
			return -EINVAL;
		}
		if (gen_done && !draining) {
			draining = true;
			if (deadline == UINT64_MAX)
				deadline = now + l->timeout_ns;
		}
		if (draining && !l->busy && next_send == next_gen)
			break;
		if (now >= deadline) {
			/* Whatever is still out or queued has run out of time. */
			for (uint32_t i = 0; i < l->nconns; i++)
				if (l->conns[i].busy)
					hl_conn_fail(l, &l->conns[i], HL_ERR_TIMEOUT, false);
			for (; next_send < next_gen; next_send++)
				if (hl_due(t0, gap_ns, next_send) >= l->ws)
					res->err[HL_ERR_UNSENT]++;
			break;
		}
		if (now >= next_scan) {
			hl_scan(l, now);
			next_scan = now + HL_SCAN_NS;
		}
		wake = next_scan;
		if (mode == HL_MODE_RATE && !gen_done) {
			uint64_t t = hl_due(t0, gap_ns, next_gen);

			if (t < wake)
				wake = t;
		} else if (!gen_done && l->we < wake) {
			wake = l->we;
		}
		if (deadline < wake)
			wake = deadline;
		hl_wait(l, wake);
	}
	l->stopping = true;
	res->window_s = l->we > l->ws ? (double)(l->we - l->ws) / 1e9 : 0;
	return 0;
}

/*
 * Runs @cfg and fills @res (which the caller owns; it is cleared first).
 * Returns 0 when the run happened, -ENOTCONN when no keep-alive connection
 * could be opened (res still holds the counts), other -errno when the
 * machine could not run it (io_uring, memory).
 */
static int hl_run(const struct hl_cfg *cfg, struct hl_result *res)
{
	struct hl_loop *l;
	uint32_t n = cfg->mode == HL_MODE_IDLE ? cfg->idle_conns : cfg->conns;
	int err;

	memset(res, 0, sizeof(*res));
	hl_hist_init(&res->lat);
	hl_hist_init(&res->svc);
	hl_hist_init(&res->queue);
	if (cfg->mode == HL_MODE_NONE || n == 0 || cfg->connect_batch == 0)
		return -EINVAL;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	hl_raise_nofile((uint64_t)n + 64);
	/* Timers fire on time: the default 50 us slack would be charged to
	 * the server as latency in rate mode. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	err = hl_loop_init(l, cfg, res, n);
	if (err) {
		fprintf(stderr, "mf_httpload: setup: %s\n", strerror(-err));
		goto out;
	}
	hl_stop_requests = 0;
	err = cfg->mode == HL_MODE_IDLE ? hl_run_idle(l) : hl_run_load(l);
	if (l->enobufs)
		fprintf(stderr, "mf_httpload: receive buffers ran out %" PRIu64 " times\n",
			l->enobufs);
out:
	hl_loop_free(l);
	free(l);
	return err;
}

/* ---- output ------------------------------------------------------------- */

static void hl_json_hist(FILE *f, const char *name, const struct hl_hist *h)
{
	fprintf(f, "\"%s\":{\"count\":%" PRIu64 ",\"p50\":%.1f,\"p90\":%.1f,"
		"\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,\"mean\":%.1f}", name,
		h->count, hl_hist_quantile(h, 0.50) / 1e3, hl_hist_quantile(h, 0.90) / 1e3,
		hl_hist_quantile(h, 0.99) / 1e3, hl_hist_quantile(h, 0.999) / 1e3,
		(h->count ? h->max : 0) / 1e3, hl_hist_mean(h) / 1e3);
}

static void hl_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static uint64_t hl_errors(const struct hl_result *res)
{
	uint64_t n = 0;

	for (int i = 0; i < HL_ERR_COUNT; i++)
		n += res->err[i];
	return n;
}

static void hl_print_json(FILE *f, const struct hl_cfg *cfg, const struct hl_result *res)
{
	double rps = res->window_s > 0 ?
		     (double)res->done_in_window / res->window_s : 0;

	fprintf(f, "{\"mode\":\"%s\",\"url\":", hl_mode_names[cfg->mode]);
	hl_json_string(f, cfg->url);
	if (cfg->mode == HL_MODE_IDLE) {
		fprintf(f, ",\"target_conns\":%u,\"established\":%" PRIu64
			",\"connect_failed\":%" PRIu64 ",\"dropped_before_ready\":%" PRIu64
			",\"open_at_ready\":%" PRIu64 ",\"dropped_during_hold\":%" PRIu64
			",\"open_at_end\":%" PRIu64 ",\"connect_s\":%.3f,\"hold_s\":%.3f}\n",
			cfg->idle_conns, res->idle_established, res->idle_failed,
			res->idle_dropped_settle, res->idle_open_ready, res->idle_dropped_hold,
			res->idle_open_end, res->idle_connect_s, res->idle_hold_s);
		fflush(f);
		return;
	}
	fprintf(f, ",\"conns\":%u,\"conns_open\":%u", cfg->conns, res->conns_open);
	if (cfg->mode == HL_MODE_RATE)
		fprintf(f, ",\"target_rate\":%.3f,\"achieved_rate\":%.3f", cfg->rate,
			res->window_s > 0 ? (double)res->sent_in_window / res->window_s : 0);
	fprintf(f, ",\"rps\":%.3f", rps);
	if (cfg->mode == HL_MODE_NEWCONN)	/* one request per connection */
		fprintf(f, ",\"cps\":%.3f", rps);
	fprintf(f, ",\"duration_s\":%.3f,\"warmup_s\":%.3f,\"requests\":%" PRIu64
		",\"ok_2xx\":%" PRIu64 ",\"non_2xx\":%" PRIu64 ",\"errors\":%" PRIu64
		",\"error_kinds\":{", res->window_s, cfg->warmup_s, res->requests,
		res->ok_2xx, res->non_2xx, hl_errors(res));
	for (int i = 0; i < HL_ERR_COUNT; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", hl_err_names[i], res->err[i]);
	fprintf(f, "},\"conn_errors\":%" PRIu64 ",\"reconnects\":%" PRIu64
		",\"body_bytes\":%" PRIu64 ",", res->conn_errors, res->reconnects,
		res->body_bytes);
	hl_json_hist(f, "latency_us", &res->lat);
	fputc(',', f);
	hl_json_hist(f, "service_us", &res->svc);
	fputc(',', f);
	hl_json_hist(f, "queue_us", &res->queue);
	fprintf(f, "}\n");
	fflush(f);
}

/* ---- command line ------------------------------------------------------- */

static void hl_usage(FILE *f)
{
	fprintf(f,
		"usage: mf_httpload --url http://IP[:PORT][/PATH] [--host VALUE] MODE [options]\n"
		"modes:  --rate R | --max | --new-conn | --idle N\n"
		"options: --conns C (16)  --duration S (10)  --warmup S (2)  --timeout S (5)\n"
		"         --hold S (idle; 0 = until SIGINT/SIGTERM)  --settle S (idle; 1)\n"
		"         --connect-batch K (256)  --spin-us N (0: poll when due within N us)\n");
}

/* What an option does with its argument; those before HL_ARG_URL take none. */
enum hl_arg {
	HL_ARG_MODE,		/* picks its mode, nothing more */
	HL_ARG_HELP,
	HL_ARG_URL,
	HL_ARG_HOST,
	HL_ARG_NUM,		/* a double in [lo, hi] */
	HL_ARG_COUNT,		/* a number in [lo, hi], kept as a uint32_t */
};

#define HL_AT(field)	offsetof(struct hl_cfg, field)

/* getopt_long()'s options in this order, each with the range of its
 * number and where in struct hl_cfg that goes, and the mode it picks
 * (0: none). */
static const struct hl_opt {
	const char *name;
	enum hl_arg arg;
	double lo, hi;
	size_t off;
	enum hl_mode mode;
} hl_opts[] = {
	{ "url", HL_ARG_URL, 0, 0, 0, 0 },
	{ "host", HL_ARG_HOST, 0, 0, 0, 0 },
	{ "rate", HL_ARG_NUM, 0.001, 1e8, HL_AT(rate), HL_MODE_RATE },
	{ "max", HL_ARG_MODE, 0, 0, 0, HL_MODE_MAX },
	{ "new-conn", HL_ARG_MODE, 0, 0, 0, HL_MODE_NEWCONN },
	{ "idle", HL_ARG_COUNT, 1, 4e6, HL_AT(idle_conns), HL_MODE_IDLE },
	{ "hold", HL_ARG_NUM, 0, 1e7, HL_AT(hold_s), 0 },
	{ "conns", HL_ARG_COUNT, 1, 1e6, HL_AT(conns), 0 },
	{ "duration", HL_ARG_NUM, 0.001, 1e7, HL_AT(duration_s), 0 },
	{ "warmup", HL_ARG_NUM, 0, 1e7, HL_AT(warmup_s), 0 },
	{ "timeout", HL_ARG_NUM, 0.001, 3600, HL_AT(timeout_s), 0 },
	{ "connect-batch", HL_ARG_COUNT, 1, 1e6, HL_AT(connect_batch), 0 },
	{ "settle", HL_ARG_NUM, 0, 3600, HL_AT(settle_s), 0 },
	{ "spin-us", HL_ARG_NUM, 0, 1e6, HL_AT(spin_us), 0 },
	{ "help", HL_ARG_HELP, 0, 0, 0, 0 },
	{ 0 },
};

/* Stores @s, the argument of the numeric option @opt, in @cfg. */
static int hl_num(const struct hl_opt *opt, const char *s, struct hl_cfg *cfg)
{
	char *field = (char *)cfg + opt->off, *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= opt->lo && v <= opt->hi))
		return -EINVAL;
	if (opt->arg == HL_ARG_COUNT)
		*(uint32_t *)field = (uint32_t)v;
	else
		*(double *)field = v;
	return 0;
}

/* Parses argv into @cfg.  Returns 0, or -EINVAL after printing why. */
static int hl_parse_args(int argc, char **argv, struct hl_cfg *cfg)
{
	/* The all-zero entry after the last ends the table, as it must. */
	struct option lopts[sizeof(hl_opts) / sizeof(hl_opts[0])] = { { 0 } };
	const char *url = NULL;
	int modes = 0, o;

	for (int i = 0; hl_opts[i].name; i++) {
		lopts[i].name = hl_opts[i].name;
		lopts[i].has_arg = hl_opts[i].arg < HL_ARG_URL ? no_argument :
				   required_argument;
		lopts[i].val = 256 + i;		/* past every short option */
	}
	hl_cfg_defaults(cfg);
	optind = 0;	/* glibc: 0 re-initialises, so a second parse works */
	while ((o = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		const struct hl_opt *opt;
		int err = 0;

		if (o < 256) {
			hl_usage(stderr);
			return -EINVAL;
		}
		opt = &hl_opts[o - 256];
		if (opt->mode) {
			cfg->mode = opt->mode;
			modes++;
		}
		switch (opt->arg) {
		case HL_ARG_MODE:
			break;
		case HL_ARG_HELP:
			hl_usage(stdout);
			exit(0);
		case HL_ARG_URL:
			url = optarg;
			break;
		case HL_ARG_HOST:
			if (strlen(optarg) >= sizeof(cfg->host) || strpbrk(optarg, "\r\n"))
				err = -EINVAL;
			else
				snprintf(cfg->host, sizeof(cfg->host), "%s", optarg);
			break;
		default:
			err = hl_num(opt, optarg, cfg);
			break;
		}
		if (err) {
			fprintf(stderr, "mf_httpload: bad value for --%s: %s\n",
				opt->name, optarg);
			return -EINVAL;
		}
	}
	if (optind != argc || !url || modes != 1) {
		fprintf(stderr, "mf_httpload: need --url and exactly one mode\n");
		hl_usage(stderr);
		return -EINVAL;
	}
	if (hl_parse_url(cfg, url)) {
		fprintf(stderr, "mf_httpload: bad url %s (want http://IPv4[:port][/path])\n",
			url);
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct hl_result res;	/* big (histograms): not on the stack */
	struct sigaction sa;
	struct hl_cfg cfg;
	int err;

	if (hl_parse_args(argc, argv, &cfg))
		return 2;
	/* No SA_RESTART: a signal must cut the ring wait short. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hl_on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = hl_run(&cfg, &res);
	if (err && err != -ENOTCONN)
		return 2;
	hl_print_json(stdout, &cfg, &res);
	return err ? 1 : 0;
}
