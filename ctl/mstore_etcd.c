// SPDX-License-Identifier: Apache-2.0
/*
 * The mesh store on etcd 3.4, through its v3 JSON gateway (the grpc-gateway
 * every etcd serves on its client URLs): POST /v3/kv/range, /v3/kv/txn and
 * /v3/watch, with libcurl.  Keys and values travel base64 (wolfCrypt's
 * coder), numbers as JSON strings.  Requests are written with the project's
 * JSON emitter; answers are read by the YAML tree reader (ytree.h), since
 * the JSON etcd writes (compact, double-quoted strings, no \u escapes of
 * its own) is YAML flow syntax that libyaml reads as it is.
 *
 * A watch's answers that come while its caller works on one are given
 * to it together (etcd_watch_progress()).
 *
 * Endpoints are tried in turn: a request that cannot reach one member, or
 * that a member answers with 503 (no leader), goes to the next, so losing
 * a member of three costs one failed connect, not an error.
 *
 * With etcd's auth on, a user and password (--store-user,
 * --store-password-file) get a token from /v3/auth/authenticate, sent with
 * every request as the gateway takes it (an Authorization header).  A
 * token etcd no longer knows (they expire: --auth-token-ttl) is replaced
 * once per request.  Client certificates alone do not name a user through
 * the gateway: it dials etcd's gRPC side with its own credentials.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "emit.h"
#include "fsio.h"
#include "monotime.h"
#include "mstore.h"
#include "policy/ytree.h"

#define ETCD_MAX_ENDPOINTS	8
#define ETCD_DEFAULT_PREFIX	"/meshforge"
#define ETCD_CONNECT_MS		500L
#define ETCD_REQUEST_MS		5000L
/* A transaction: a member busy sending the last large one to its
 * watchers applies the next one late, and etcd itself waits 5 s and two
 * election timeouts before it gives up on it. */
#define ETCD_TXN_MS		30000L
/* A list of a whole mesh: 110k objects are 35 MiB of JSON, which a
 * loaded member takes seconds to write. */
#define ETCD_LIST_MS		60000L
/* Biggest answer kept: a list of the whole mesh at scale. */
#define ETCD_MAX_BODY		(512u << 20)
/* A watch's line buffer kept between answers, at most. */
#define ETCD_LINE_KEEP		(1u << 20)
/* A watch's held answers are given this long after the first of them at
 * the latest, whatever still comes. */
#define ETCD_WATCH_HOLD_MS	500u
/* The largest transaction written, as etcd encodes it: etcd 3.4 writes a
 * request of any size its --max-request-bytes lets in to its log, but
 * reads back no entry over 10 MiB when it starts, so a member that took
 * a larger one cannot restart (docs/store.md). */
#define ETCD_TXN_MAX		(8u << 20)
/* What an operation adds to its key and value there, at most: the
 * request's and the put's tags and lengths, a lease. */
#define ETCD_OP_OVERHEAD	32u

struct etcd {
	struct mstore s;
	char *urls[ETCD_MAX_ENDPOINTS];	/* owned: "http://h:p" */
	size_t nurls;
	size_t cur;			/* the endpoint that answered last */
	char *where;			/* owned: the URL as given */
	char *prefix;			/* owned */
	char *ca, *cert, *key;		/* owned, or NULL */
	char *user, *password;		/* owned, or NULL: no auth */
	struct curl_slist *auth_hdr;	/* owned: "Authorization: <token>" */
	bool token_stale;		/* etcd refused the token in a watch */
	CURL *curl;			/* for range and txn */
};

/* A growing buffer of an answer. */
struct etcd_buf {
	char *p;
	size_t len, cap;
	int err;
};

static int etcd_buf_put(struct etcd_buf *b, const char *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > ETCD_MAX_BODY)
			return b->err = -EFBIG;
		p = realloc(b->p, cap);
		if (!p)
			return b->err = -ENOMEM;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

static void etcd_buf_emit(void *arg, const char *buf, size_t n)
{
	etcd_buf_put(arg, buf, n);
}

static size_t etcd_buf_write(char *data, size_t sz, size_t nm, void *arg)
{
	return etcd_buf_put(arg, data, sz * nm) ? 0 : sz * nm;
}

/* ---- JSON answers -------------------------------------------------------- */

/* The value of key @key in map @n, or NULL. */
static const struct ynode *js_get(const struct ynode *n, const char *key)
{
	if (!n || n->type != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i + 1 < n->nkids; i += 2)
		if (n->kids[i]->type == YNODE_SCALAR &&
		    !strcmp(n->kids[i]->str, key))
			return n->kids[i + 1];
	return NULL;
}

/* A number etcd writes as a string ("42") or bare; 0 when absent. */
static int64_t js_int(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR ? strtoll(n->str, NULL, 10) : 0;
}

/* The same for a uint64 (etcd's IDs use all 64 bits). */
static uint64_t js_uint(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR ? strtoull(n->str, NULL, 10) : 0;
}

static bool js_true(const struct ynode *n)
{
	return n && n->type == YNODE_SCALAR && !strcmp(n->str, "true");
}

/* Decodes base64 scalar @n into a malloc'ed NUL-terminated *out.  An
 * absent field is the empty string (etcd leaves empty values out).
 * Returns 0, -EPROTO or -ENOMEM. */
static int js_b64(const struct ynode *n, char **out, size_t *len)
{
	word32 cap;
	char *p;

	if (n && n->type != YNODE_SCALAR)
		return -EPROTO;
	cap = n ? (word32)n->len : 0;
	p = malloc(cap + 1);
	if (!p)
		return -ENOMEM;
	if (cap && Base64_Decode((const byte *)n->str, (word32)n->len,
				 (byte *)p, &cap)) {
		free(p);
		return -EPROTO;
	}
	p[cap] = '\0';
	*out = p;
	if (len)
		*len = cap;
	return 0;
}

/* A kv of an answer ({key, value, mod_revision, ...}) into @kv; @del:
 * a DELETE event, no value. */
static int js_kv(const struct ynode *n, bool del, struct mstore_kv *kv)
{
	int err;

	memset(kv, 0, sizeof(*kv));
	err = js_b64(js_get(n, "key"), &kv->key, NULL);
	if (!err && !del)
		err = js_b64(js_get(n, "value"), &kv->val, &kv->len);
	kv->mod_rev = js_int(js_get(n, "mod_revision"));
	if (err) {
		free(kv->key);
		kv->key = NULL;
	}
	return err;
}

/* An answer's sequence read an item at a time (ytree_parse_items()):
 * the kvs of a list, the events of a watch. */
struct etcd_items {
	const char *const *path;
	ytree_item_fn *fn;
	void *arg;
};

/* Parses answer @buf into @t, the sequence of @its (or NULL) handed to
 * its function instead.  Returns 0, -EPROTO (said in s->err), -ENOMEM,
 * or what that function returned (which never is -EINVAL). */
static int etcd_parse(struct etcd *e, const char *buf, size_t len,
		      const struct etcd_items *its, struct ytree *t)
{
	struct diag d;
	int err;

	diag_init(&d);
	err = its ? ytree_parse_items(t, "etcd", buf, len, its->path, its->fn,
				      its->arg, &d) :
		    ytree_parse(t, "etcd", buf, len, &d);
	/* -EINVAL is the parser's syntax error alone: no item function
	 * returns it. */
	if (err == -EINVAL ||
	    (!err && (!t->ndocs || t->docs[0].root->type != YNODE_MAP))) {
		ytree_free(t);
		snprintf(e->s.err, sizeof(e->s.err),
			 "%s: an answer that is not JSON: %.80s", e->s.where,
			 buf);
		err = -EPROTO;
	}
	diag_free(&d);
	return err;
}

/* ---- requests ------------------------------------------------------------ */

/* A request body: one JSON object, written with the emitter into a
 * growing buffer.  Every request goes through it: etcd_body_open(), its
 * fields (the emitter's calls, etcd_body_b64(), etcd_body_range()), then
 * etcd_body_close(). */
struct etcd_body {
	struct etcd_buf buf;
	struct emit em;
};

static void etcd_body_open(struct etcd_body *b)
{
	memset(&b->buf, 0, sizeof(b->buf));
	emit_init(&b->em, EMIT_JSON, etcd_buf_emit, &b->buf);
	emit_map_begin(&b->em);
}

/* Field @key: @n bytes of @p in base64, as etcd takes keys and values. */
static void etcd_body_b64(struct etcd_body *b, const char *key, const void *p,
			  size_t n)
{
	word32 cap = (word32)((n + 2) / 3 * 4 + 1);
	char *out = malloc(cap);

	emit_key(&b->em, key);
	if (!out || Base64_Encode_NoNl(p, (word32)n, (byte *)out, &cap)) {
		b->em.err = -ENOMEM;
		free(out);
		return;
	}
	out[cap] = '\0';
	emit_str(&b->em, out);
	free(out);
}

/* The fields of every key that starts with @prefix: the key and etcd's
 * range_end, the first key after them (the prefix with its last byte
 * plus one). */
static void etcd_body_range(struct etcd_body *b, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);

	if (!end || !n) {
		b->em.err = -ENOMEM;
		free(end);
		return;
	}
	etcd_body_b64(b, "key", prefix, n);
	end[n - 1]++;
	etcd_body_b64(b, "range_end", end, n);
	free(end);
}

/* Ends @b's object.  Returns 0, or -ENOMEM (@b freed). */
static int etcd_body_close(struct etcd_body *b)
{
	emit_map_end(&b->em);
	if (!b->em.err && !b->buf.err)
		return 0;
	free(b->buf.p);
	b->buf.p = NULL;
	return -ENOMEM;
}

static int etcd_curl_setup(struct etcd *e, CURL *c, const char *url,
			   const struct etcd_buf *body)
{
	if (curl_easy_setopt(c, CURLOPT_URL, url) ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->p) ||
	    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len) ||
	    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ETCD_CONNECT_MS) ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 2L) ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 1L) ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"))
		return -EINVAL;
	if (e->ca && (curl_easy_setopt(c, CURLOPT_CAINFO, e->ca) ||
		      curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) ||
		      curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L)))
		return -EINVAL;
	if (e->cert && (curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert) ||
			curl_easy_setopt(c, CURLOPT_SSLKEY, e->key)))
		return -EINVAL;
	if (e->auth_hdr && curl_easy_setopt(c, CURLOPT_HTTPHEADER, e->auth_hdr))
		return -EINVAL;
	return 0;
}

/* What a curl failure means for the caller. */
static int etcd_curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EACCES;
	default:
		return -ECONNRESET;
	}
}

/* Whether etcd refused a request for its size: -E2BIG, more operations
 * than its --max-txn-ops; -EMSGSIZE, more bytes than its
 * --max-request-bytes (gRPC's limit, 429, or etcd's own just under it);
 * else -EPROTO. */
static int etcd_too_big(long code, const char *msg)
{
	if (strstr(msg, "too many operations in txn request"))
		return -E2BIG;
	if ((code == 429 && strstr(msg, "larger than max")) ||
	    strstr(msg, "request is too large"))
		return -EMSGSIZE;
	return -EPROTO;
}

/* etcd's own words in an error answer (its "message"), else the answer. */
static void etcd_say_refusal(struct etcd *e, const char *url, long code,
			     const char *body)
{
	const struct ynode *m = NULL;
	struct ytree t = { 0 };
	struct diag d;

	diag_init(&d);
	if (!ytree_parse(&t, "etcd", body, strlen(body), &d) && t.ndocs &&
	    t.docs[0].root->type == YNODE_MAP)
		m = js_get(t.docs[0].root, "message");
	if (m && m->type == YNODE_SCALAR)
		snprintf(e->s.err, sizeof(e->s.err),
			 "%.80s: HTTP %ld: %.100s%s%.40s%s", url, code, m->str,
			 e->user ? " (user " : "", e->user ? e->user : "",
			 e->user ? ")" : "");
	else
		snprintf(e->s.err, sizeof(e->s.err), "%.80s: HTTP %ld: %.140s",
			 url, code, body);
	ytree_free(&t);
	diag_free(&d);
}

/* POSTs @body to @api on each endpoint in turn from the last that
 * answered, until one answers 200: its JSON in *@t, read through @its
 * (or NULL) as etcd_parse() does.  Returns 0, or the -errno of the last
 * failure (said in s->err): -EKEYEXPIRED when etcd does not know the
 * token, -EACCES when it refuses the user.  An answer is read once: a
 * failure to read it is returned, not taken to the next endpoint. */
static int etcd_post_raw(struct etcd *e, const char *api,
			 const struct etcd_buf *body,
			 const struct etcd_items *its, struct ytree *t)
{
	/* A large transaction takes the member time in proportion: a
	 * millisecond more per KiB (8 s more for 8 MiB). */
	const long timeout = !strcmp(api, "/v3/kv/range") ? ETCD_LIST_MS :
			     (!strcmp(api, "/v3/kv/txn") ? ETCD_TXN_MS :
			      ETCD_REQUEST_MS) + (long)(body->len >> 10);
	int err = -ENOTCONN;

	for (size_t i = 0; i < e->nurls; i++) {
		size_t u = (e->cur + i) % e->nurls;
		struct etcd_buf out = { 0 };
		char url[512];
		long code = 0;
		CURLcode rc;

		snprintf(url, sizeof(url), "%s%s", e->urls[u], api);
		curl_easy_reset(e->curl);
		err = etcd_curl_setup(e, e->curl, url, body);
		if (err ||
		    curl_easy_setopt(e->curl, CURLOPT_WRITEFUNCTION,
				     etcd_buf_write) ||
		    curl_easy_setopt(e->curl, CURLOPT_WRITEDATA, &out) ||
		    curl_easy_setopt(e->curl, CURLOPT_TIMEOUT_MS, timeout)) {
			snprintf(e->s.err, sizeof(e->s.err),
				 "cannot set up a request to %.160s", url);
			free(out.p);
			return -EINVAL;
		}
		rc = curl_easy_perform(e->curl);
		curl_easy_getinfo(e->curl, CURLINFO_RESPONSE_CODE, &code);
		if (rc != CURLE_OK) {
			err = out.err ? out.err : etcd_curl_errno(rc);
			snprintf(e->s.err, sizeof(e->s.err), "%s: %s",
				 e->urls[u], curl_easy_strerror(rc));
		} else if (code != 200) {
			const char *msg = out.p ? out.p : "";

			/* 401: gRPC's Unauthenticated (a token etcd does
			 * not know); 403: PermissionDenied; 400 for a bad
			 * password or no user where one is needed. */
			err = code == 503 ? -EAGAIN :
			      code == 401 && strstr(msg, "auth token") ?
			      -EKEYEXPIRED :
			      code == 401 || code == 403 ||
			      strstr(msg, "authentication failed") ||
			      strstr(msg, "user name is empty") ? -EACCES :
			      etcd_too_big(code, msg);
			etcd_say_refusal(e, url, code, msg);
		} else {
			err = etcd_parse(e, out.p ? out.p : "{}",
					 out.p ? out.len : 2, its, t);
			free(out.p);
			if (!err)
				e->cur = u;
			return err;
		}
		free(out.p);
		/* A member that answers but refuses the request itself
		 * would refuse it on every member. */
		if (err == -EPROTO || err == -EACCES || err == -EKEYEXPIRED ||
		    err == -E2BIG || err == -EMSGSIZE)
			return err;
	}
	return err;
}

static void etcd_token_drop(struct etcd *e)
{
	curl_slist_free_all(e->auth_hdr);
	e->auth_hdr = NULL;
	e->token_stale = false;
}

/* A token for e->user, from /v3/auth/authenticate, into e->auth_hdr. */
static int etcd_authenticate(struct etcd *e)
{
	const struct ynode *tok;
	struct ytree t = { 0 };
	struct etcd_body b;
	char *hdr = NULL;
	int err;

	etcd_token_drop(e);
	etcd_body_open(&b);
	emit_key(&b.em, "name");
	emit_str(&b.em, e->user);
	emit_key(&b.em, "password");
	emit_str(&b.em, e->password);
	err = etcd_body_close(&b);
	if (!err)
		err = etcd_post_raw(e, "/v3/auth/authenticate", &b.buf, NULL,
				    &t);
	if (b.buf.p)
		explicit_bzero(b.buf.p, b.buf.len);
	free(b.buf.p);
	if (err) {
		/* e->s.err has etcd's words, user included. */
		return err == -EPROTO ? -EACCES : err;
	}
	tok = js_get(t.docs[0].root, "token");
	if (!tok || tok->type != YNODE_SCALAR || !*tok->str ||
	    strpbrk(tok->str, "\r\n")) {
		snprintf(e->s.err, sizeof(e->s.err), "%s: authenticated as %s "
			 "but no token came back (is etcd's auth enabled?)",
			 e->s.where, e->user);
		err = -EPROTO;
	} else if (asprintf(&hdr, "Authorization: %s", tok->str) < 0) {
		hdr = NULL;
		err = -ENOMEM;
	} else if (!(e->auth_hdr = curl_slist_append(NULL, hdr))) {
		err = -ENOMEM;
	}
	if (hdr)
		explicit_bzero(hdr, strlen(hdr));
	free(hdr);
	ytree_free(&t);
	return err;
}

/* A token when the store has a user and none is held (or a watch found
 * it stale). */
static int etcd_token(struct etcd *e)
{
	if (!e->user || (e->auth_hdr && !e->token_stale))
		return 0;
	return etcd_authenticate(e);
}

/* etcd_post_raw() with a token: a new one, and the request once more,
 * when etcd no longer knows the one held. */
static int etcd_post(struct etcd *e, const char *api,
		     const struct etcd_buf *body, const struct etcd_items *its,
		     struct ytree *t)
{
	int err = etcd_token(e);

	if (err)
		return err;
	err = etcd_post_raw(e, api, body, its, t);
	if (err == -EKEYEXPIRED && e->user) {
		err = etcd_authenticate(e);
		if (!err)
			err = etcd_post_raw(e, api, body, its, t);
	}
	return err == -EKEYEXPIRED ? -EACCES : err;
}

/*
 * Closes @b and POSTs it to @api on each endpoint in turn from the last
 * that answered, until one answers 200: its JSON in *@t, read through
 * @its (or NULL).  @b is freed whatever happens.  Returns 0, or the
 * -errno of the last failure (said in s->err).
 */
static int etcd_call(struct etcd *e, const char *api, struct etcd_body *b,
		     const struct etcd_items *its, struct ytree *t)
{
	int err = etcd_body_close(b);

	if (!err)
		err = etcd_post(e, api, &b->buf, its, t);
	free(b->buf.p);
	return err;
}

/* ---- operations ---------------------------------------------------------- */

void mstore_list_free(struct mstore_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->kvs[i].key);
		free(l->kvs[i].val);
	}
	free(l->kvs);
	l->kvs = NULL;
	l->n = 0;
}

/* The kvs of an answer as its items come: a list's, or a watch's
 * events'. */
struct etcd_kvs {
	struct etcd *e;
	struct mstore_list l;	/* owned; its rev unused */
	size_t cap;		/* of l.kvs */
};

static void etcd_kvs_free(struct etcd_kvs *c)
{
	mstore_list_free(&c->l);
	c->cap = 0;
}

/* Adds kv @n (@del: of a DELETE event) to @c.  Returns 0, -ENOMEM, or
 * -EPROTO for a key or value that is not base64 (said in s->err). */
static int etcd_kvs_add(struct etcd_kvs *c, const struct ynode *n, bool del)
{
	int err;

	if (c->l.n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct mstore_kv *kvs = realloc(c->l.kvs, cap * sizeof(*kvs));

		if (!kvs)
			return -ENOMEM;
		c->l.kvs = kvs;
		c->cap = cap;
	}
	err = js_kv(n, del, &c->l.kvs[c->l.n]);
	if (err == -EPROTO)
		snprintf(c->e->s.err, sizeof(c->e->s.err), "%s: a key or value "
			 "that is not base64", c->e->s.where);
	if (!err)
		c->l.n++;
	return err;
}

/* An item of a list's "kvs". */
static int etcd_list_item(void *arg, const struct ynode *kv)
{
	return etcd_kvs_add(arg, kv, false);
}

/* The keys under @prefix last written after revision @after (0: all of
 * them), and what the answer's header says of the store. */
static int etcd_range(struct mstore *s, const char *prefix, int64_t after,
		      struct mstore_list *out)
{
	static const char *const path[] = { "kvs", NULL };
	struct etcd *e = (struct etcd *)s;
	struct etcd_kvs c = { .e = e };
	const struct etcd_items its = { path, etcd_list_item, &c };
	const struct ynode *root, *hdr;
	struct ytree t = { 0 };
	struct etcd_body b;
	int err;

	memset(out, 0, sizeof(*out));
	etcd_body_open(&b);
	etcd_body_range(&b, prefix);
	if (after > 0) {
		/* etcd still counts every key of the range, but sends
		 * only these. */
		emit_key(&b.em, "min_mod_revision");
		emit_uint(&b.em, (uint64_t)after + 1);
	}
	/* Read an item at a time: a whole mesh's list is tens of MiB of
	 * JSON, and a tree of it five times that. */
	err = etcd_call(e, "/v3/kv/range", &b, &its, &t);
	if (err) {
		etcd_kvs_free(&c);
		return err;
	}
	*out = c.l;
	root = t.docs[0].root;
	hdr = js_get(root, "header");
	out->rev = js_int(js_get(hdr, "revision"));
	/* etcd leaves a count of 0 out. */
	out->count = (size_t)js_int(js_get(root, "count"));
	out->store_id = js_uint(js_get(hdr, "cluster_id"));
	out->store_term = js_uint(js_get(hdr, "raft_term"));
	ytree_free(&t);
	return 0;
}

static int etcd_list(struct mstore *s, const char *prefix,
		     struct mstore_list *out)
{
	return etcd_range(s, prefix, 0, out);
}

static int etcd_list_changed(struct mstore *s, const char *prefix,
			     int64_t after, struct mstore_list *out)
{
	return etcd_range(s, prefix, after, out);
}

static int etcd_commit(struct mstore *s, const char *guard, int64_t guard_rev,
		       const struct mstore_op *ops, size_t n, int64_t *rev)
{
	struct etcd *e = (struct etcd *)s;
	struct ytree t = { 0 };
	struct etcd_body b;
	struct emit *em = &b.em;
	size_t bytes = guard ? strlen(guard) + ETCD_OP_OVERHEAD : 0;
	int err;

	for (size_t i = 0; i < n; i++)
		bytes += strlen(ops[i].key) + ops[i].len + ETCD_OP_OVERHEAD;
	if (bytes > ETCD_TXN_MAX) {
		snprintf(s->err, sizeof(s->err), "this change is %.1f MiB "
			 "(%zu writes), and one etcd transaction holds at most "
			 "%u MiB: etcd could not read a larger one back from "
			 "its log when it restarts. Apply it in parts",
			 (double)bytes / (1 << 20), n, ETCD_TXN_MAX >> 20);
		return -EFBIG;
	}
	etcd_body_open(&b);
	/* The guard: last written at the revision the writer read (a key
	 * that does not exist compares as revision 0). */
	if (guard) {
		emit_key(em, "compare");
		emit_list_begin(em);
		emit_map_begin(em);
		emit_key(em, "target");
		emit_str(em, "MOD");
		etcd_body_b64(&b, "key", guard, strlen(guard));
		emit_key(em, "mod_revision");
		emit_uint(em, (uint64_t)guard_rev);
		emit_map_end(em);
		emit_list_end(em);
	}
	emit_key(em, "success");
	emit_list_begin(em);
	for (size_t i = 0; i < n; i++) {
		emit_map_begin(em);
		emit_key(em, ops[i].val ? "request_put" : "request_delete_range");
		emit_map_begin(em);
		etcd_body_b64(&b, "key", ops[i].key, strlen(ops[i].key));
		if (ops[i].val)
			etcd_body_b64(&b, "value", ops[i].val, ops[i].len);
		if (ops[i].val && ops[i].lease) {
			emit_key(em, "lease");
			emit_uint(em, (uint64_t)ops[i].lease);
		}
		emit_map_end(em);
		emit_map_end(em);
	}
	emit_list_end(em);
	err = etcd_call(e, "/v3/kv/txn", &b, NULL, &t);
	if (err == -E2BIG)
		snprintf(s->err, sizeof(s->err), "etcd takes fewer writes in "
			 "one transaction than this change's %zu (its "
			 "--max-txn-ops, 128 unless raised): raise it on every "
			 "member, or apply the change in parts", n);
	else if (err == -EMSGSIZE)
		snprintf(s->err, sizeof(s->err), "this change is %.1f MiB, "
			 "more than etcd takes in one request (its "
			 "--max-request-bytes, 1.5 MiB unless raised): raise "
			 "it on every member, up to %u MiB, or apply the "
			 "change in parts", (double)bytes / (1 << 20),
			 ETCD_TXN_MAX >> 20);
	if (err)
		return err;
	*rev = js_int(js_get(js_get(t.docs[0].root, "header"), "revision"));
	if (guard && !js_true(js_get(t.docs[0].root, "succeeded"))) {
		snprintf(s->err, sizeof(s->err), "%s changed since it was "
			 "read (now at revision %lld)", guard,
			 (long long)*rev);
		err = -ESTALE;
	}
	ytree_free(&t);
	return err;
}

/* etcd_call() of @api with the body {"@key": @v}. */
static int etcd_call_one(struct etcd *e, const char *api, const char *key,
			 uint64_t v, struct ytree *t)
{
	struct etcd_body b;

	etcd_body_open(&b);
	emit_key(&b.em, key);
	emit_uint(&b.em, v);
	return etcd_call(e, api, &b, NULL, t);
}

static int etcd_lease_grant(struct mstore *s, int64_t ttl, int64_t *id)
{
	struct ytree t = { 0 };
	int err;

	err = etcd_call_one((struct etcd *)s, "/v3/lease/grant", "TTL",
			    (uint64_t)ttl, &t);
	if (err)
		return err;
	*id = js_int(js_get(t.docs[0].root, "ID"));
	if (*id <= 0) {
		snprintf(s->err, sizeof(s->err), "%s: a lease grant without "
			 "an ID", s->where);
		err = -EPROTO;
	}
	ytree_free(&t);
	return err;
}

/* The gateway's keepalive is a stream of requests and answers; one
 * request in a body is answered once, and the stream ends with it. */
static int etcd_lease_keepalive(struct mstore *s, int64_t id, int64_t *ttl)
{
	struct ytree t = { 0 };
	int err;

	err = etcd_call_one((struct etcd *)s, "/v3/lease/keepalive", "ID",
			    (uint64_t)id, &t);
	if (err)
		return err;
	/* An expired lease is answered without a TTL (0). */
	*ttl = js_int(js_get(js_get(t.docs[0].root, "result"), "TTL"));
	ytree_free(&t);
	return 0;
}

/* A watch in progress: the stream is cut into lines, one answer each. */
/*
 * A watch's answers that came while its caller worked on an earlier one
 * (a burst of registrations, a load written in parts) are given to it
 * together, in one call: it compiles the whole mesh once for them, not
 * once each.  Answers are held as they are read, and given from curl's
 * progress callback, which runs once curl has handed over all it read,
 * unless more is waiting on the connection then; a stream of answers
 * that does not stop is given every ETCD_WATCH_HOLD_MS.
 */
struct etcd_watch {
	struct etcd *e;
	curl_socket_t fd;	/* the transfer's connection */
	struct etcd_buf line;
	struct etcd_kvs held;	/* answers' events not given yet */
	int64_t held_rev;	/* the revision they bring the store to */
	uint64_t held_ns;	/* when the first of them was, on the
				 * monotonic clock */
	mstore_watch_fn *fn;
	void *arg;
	int stop;		/* what ends the watch, 0 while it goes on */
};

/* An item of a watch answer's "events": {type, kv}. */
static int etcd_watch_item(void *arg, const struct ynode *ev)
{
	const struct ynode *ty = js_get(ev, "type");

	return etcd_kvs_add(arg, js_get(ev, "kv"), ty &&
			    ty->type == YNODE_SCALAR &&
			    !strcmp(ty->str, "DELETE"));
}

/* Empties the watch's line for the next answer.  A first load's answer
 * is tens of MiB: its buffer is not kept for the small ones after it. */
static void etcd_watch_line_done(struct etcd_watch *w)
{
	w->line.len = 0;
	if (w->line.cap > ETCD_LINE_KEEP) {
		free(w->line.p);
		w->line = (struct etcd_buf){ 0 };
	}
}

/* Gives the held events to the watch's caller.  Returns its answer. */
static int etcd_watch_give(struct etcd_watch *w)
{
	int err = 0;

	if (w->held.l.n)
		err = w->fn(w->arg, w->held.l.kvs, w->held.l.n, w->held_rev);
	etcd_kvs_free(&w->held);
	return err;
}

/* Whether the next answer's bytes wait on the watch's connection. */
static bool etcd_watch_more(struct etcd_watch *w)
{
	struct pollfd p = { .fd = w->fd, .events = POLLIN };

	return w->fd != CURL_SOCKET_BAD && poll(&p, 1, 0) == 1 &&
	       (p.revents & POLLIN);
}

/* curl's socket callbacks: the watch's connection, for etcd_watch_more()
 * (curl says which socket a transfer uses only once it is over). */
static int etcd_watch_sockopt(void *arg, curl_socket_t fd,
			      curlsocktype purpose)
{
	struct etcd_watch *w = arg;

	if (purpose == CURLSOCKTYPE_IPCXN)
		w->fd = fd;
	return CURL_SOCKOPT_OK;
}

static int etcd_watch_close(void *arg, curl_socket_t fd)
{
	struct etcd_watch *w = arg;

	if (w->fd == fd)
		w->fd = CURL_SOCKET_BAD;
	return close(fd);
}

/* Moves the events of @c after the held ones (@c keeps its array only).
 * Returns 0 or -ENOMEM. */
static int etcd_watch_hold(struct etcd_watch *w, struct etcd_kvs *c)
{
	struct mstore_list *h = &w->held.l;

	if (!h->n) {
		w->held.l = c->l;
		w->held.cap = c->cap;
		c->l = (struct mstore_list){ 0 };
		c->cap = 0;
		return 0;
	}
	if (h->n + c->l.n > w->held.cap) {
		size_t cap = w->held.cap * 2 > h->n + c->l.n ?
				     w->held.cap * 2 : h->n + c->l.n;
		struct mstore_kv *kvs = realloc(h->kvs, cap * sizeof(*kvs));

		if (!kvs)
			return -ENOMEM;
		h->kvs = kvs;
		w->held.cap = cap;
	}
	memcpy(h->kvs + h->n, c->l.kvs, c->l.n * sizeof(*h->kvs));
	h->n += c->l.n;
	c->l.n = 0;
	return 0;
}

/* The answer in w->line, which it empties: its events held.  Returns 0
 * to go on, or why to stop. */
static int etcd_watch_answer(struct etcd_watch *w)
{
	static const char *const path[] = { "result", "events", NULL };
	struct etcd *e = w->e;
	struct etcd_kvs c = { .e = e };
	const struct etcd_items its = { path, etcd_watch_item, &c };
	const struct ynode *res;
	struct ytree t = { 0 };
	bool first;
	int err;

	/* Events an item at a time, as a list's kvs: a first load's
	 * answer holds the whole mesh.  Its text goes before the callback
	 * compiles it. */
	err = etcd_parse(e, w->line.p, w->line.len, &its, &t);
	etcd_watch_line_done(w);
	if (err)
		goto out;
	res = js_get(t.docs[0].root, "result");
	if (!res) {
		const struct ynode *m = js_get(js_get(t.docs[0].root, "error"),
					       "message");

		snprintf(e->s.err, sizeof(e->s.err), "%s: watch: %s",
			 e->s.where, m && m->type == YNODE_SCALAR ? m->str :
			 "an answer without a result");
		err = -ECONNRESET;
		/* The header list is in use by this transfer: dropped
		 * before the next request, which gets a new token. */
		if (m && m->type == YNODE_SCALAR && strstr(m->str, "auth token"))
			e->token_stale = true;
		goto out;
	}
	if (js_int(js_get(res, "compact_revision"))) {
		snprintf(e->s.err, sizeof(e->s.err), "%s: watch: revisions up "
			 "to %lld are compacted", e->s.where,
			 (long long)js_int(js_get(res, "compact_revision")));
		err = -ERANGE;
		goto out;
	}
	if (js_true(js_get(res, "canceled"))) {
		const struct ynode *why = js_get(res, "cancel_reason");
		bool denied = why && why->type == YNODE_SCALAR &&
			      strstr(why->str, "permission denied");

		snprintf(e->s.err, sizeof(e->s.err), "%s: watch canceled%s%s%s%s%s",
			 e->s.where, why && why->type == YNODE_SCALAR ? ": " : "",
			 why && why->type == YNODE_SCALAR ? why->str : "",
			 denied && e->user ? " (user " : "",
			 denied && e->user ? e->user : "", denied && e->user ? ")" : "");
		err = denied ? -EACCES : -ECONNRESET;
		goto out;
	}
	if (!c.l.n)
		goto out;	/* created, or a progress notice */
	first = !w->held.l.n;
	err = etcd_watch_hold(w, &c);
	if (err)
		goto out;
	w->held_rev = js_int(js_get(js_get(res, "header"), "revision"));
	if (first)
		w->held_ns = mono_ns();
out:
	etcd_kvs_free(&c);
	ytree_free(&t);
	return err;
}

static size_t etcd_watch_write(char *data, size_t sz, size_t nm, void *arg)
{
	struct etcd_watch *w = arg;
	size_t len = sz * nm, i = 0;

	/* Whole runs up to each line's end: an answer of a whole mesh is
	 * tens of MiB, too many to append a byte at a time. */
	while (i < len && !w->stop) {
		const char *nl = memchr(data + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (data + i)) : len - i;

		if (n && etcd_buf_put(&w->line, data + i, n)) {
			w->stop = w->line.err;
			break;
		}
		i += n;
		if (!nl)
			break;
		i++;
		if (w->line.len)
			w->stop = etcd_watch_answer(w);
	}
	/* Fewer bytes than given: curl ends the transfer. */
	return w->stop ? 0 : len;
}

/* curl's progress callback, after each read: the held answers are
 * given, unless more wait on the connection and the first of them is
 * recent. */
static int etcd_watch_progress(void *arg, curl_off_t dltotal,
			       curl_off_t dlnow, curl_off_t ultotal,
			       curl_off_t ulnow)
{
	struct etcd_watch *w = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (w->stop || !w->held.l.n ||
	    (etcd_watch_more(w) &&
	     mono_ns() - w->held_ns < ETCD_WATCH_HOLD_MS * 1000000ull))
		return w->stop ? 1 : 0;
	w->stop = etcd_watch_give(w);
	return w->stop ? 1 : 0;
}

static int etcd_watch(struct mstore *s, const char *prefix, int64_t from,
		      mstore_watch_fn *fn, void *arg)
{
	struct etcd *e = (struct etcd *)s;
	struct etcd_watch w = { .e = e, .fn = fn, .arg = arg };
	int err = -ENOTCONN;
	struct etcd_body b;

	etcd_body_open(&b);
	emit_key(&b.em, "create_request");
	emit_map_begin(&b.em);
	etcd_body_range(&b, prefix);
	emit_key(&b.em, "start_revision");
	emit_uint(&b.em, (uint64_t)from);
	emit_map_end(&b.em);
	if (etcd_body_close(&b))
		return -ENOMEM;
	err = etcd_token(e);
	if (err) {
		free(b.buf.p);
		return err;
	}
	/* One endpoint per call: the caller lists again, or resumes from
	 * what it has seen, before it watches anew. */
	for (size_t i = 0; i < e->nurls && !w.stop; i++) {
		size_t u = (e->cur + i) % e->nurls;
		CURL *c = curl_easy_init();
		char url[512];
		CURLcode rc;

		if (!c) {
			err = -ENOMEM;
			break;
		}
		snprintf(url, sizeof(url), "%s/v3/watch", e->urls[u]);
		w.fd = CURL_SOCKET_BAD;
		if (etcd_curl_setup(e, c, url, &b.buf) ||
		    curl_easy_setopt(c, CURLOPT_SOCKOPTFUNCTION,
				     etcd_watch_sockopt) ||
		    curl_easy_setopt(c, CURLOPT_SOCKOPTDATA, &w) ||
		    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION,
				     etcd_watch_close) ||
		    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, &w) ||
		    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION,
				     etcd_watch_write) ||
		    curl_easy_setopt(c, CURLOPT_WRITEDATA, &w) ||
		    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION,
				     etcd_watch_progress) ||
		    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &w) ||
		    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L)) {
			curl_easy_cleanup(c);
			err = -EINVAL;
			break;
		}
		rc = curl_easy_perform(c);
		curl_easy_cleanup(c);
		w.line.len = 0;
		/* What was held for an answer that never came whole. */
		if (!w.stop)
			w.stop = etcd_watch_give(&w);
		if (w.stop)
			break;
		err = rc == CURLE_OK ? -ECONNRESET : etcd_curl_errno(rc);
		snprintf(s->err, sizeof(s->err), "%s: watch: %s", e->urls[u],
			 rc == CURLE_OK ? "the stream ended" :
			 curl_easy_strerror(rc));
		/* It was watching: the caller resumes from what it saw. */
		if (err != -ECONNREFUSED)
			break;
		e->cur = (u + 1) % e->nurls;
	}
	if (w.stop)
		err = w.stop;
	etcd_kvs_free(&w.held);
	free(w.line.p);
	free(b.buf.p);
	return err;
}

static void etcd_close(struct mstore *s)
{
	struct etcd *e = (struct etcd *)s;

	for (size_t i = 0; i < e->nurls; i++)
		free(e->urls[i]);
	if (e->curl)
		curl_easy_cleanup(e->curl);
	free(e->where);
	free(e->prefix);
	free(e->ca);
	free(e->cert);
	free(e->key);
	free(e->user);
	if (e->password) {
		explicit_bzero(e->password, strlen(e->password));
		free(e->password);
	}
	etcd_token_drop(e);
	free(e);
}

static const struct mstore_ops etcd_ops = {
	.list = etcd_list,
	.list_changed = etcd_list_changed,
	.commit = etcd_commit,
	.watch = etcd_watch,
	.lease_grant = etcd_lease_grant,
	.lease_keepalive = etcd_lease_keepalive,
	.close = etcd_close,
};

/* Copies @s or leaves NULL; false on ENOMEM. */
static bool etcd_dup(char **to, const char *s)
{
	*to = s ? strdup(s) : NULL;
	return !s || *to;
}

/* The user and the password of @a's file (its first line), into @e. */
static int etcd_password(struct etcd *e, const struct mstore_access *a,
			 char *errbuf)
{
	size_t len = 0;
	char *buf = NULL;
	int err;

	if (!*a->user || strlen(a->user) > 255) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store-user: a name of 1 to "
			 "255 bytes");
		return -EINVAL;
	}
	err = fsio_read_all(a->password_file, &buf, &len);
	if (err) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store-password-file %s: %s",
			 a->password_file, strerror(-err));
		return err == -ENOMEM ? err : -EINVAL;
	}
	len = strcspn(buf, "\r\n");
	if (len == 0 || memchr(buf, '\0', len)) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store-password-file %s: no "
			 "password on its first line", a->password_file);
		err = -EINVAL;
	} else if (!(e->password = strndup(buf, len)) ||
		   !(e->user = strdup(a->user))) {
		err = -ENOMEM;
	}
	explicit_bzero(buf, strlen(buf));
	free(buf);
	return err;
}

int mstore_open(struct mstore **out, const char *url,
		const struct mstore_access *tls, char *errbuf)
{
	static const struct mstore_access none;
	const char *hosts, *slash, *scheme;
	struct etcd *e;
	int err = -EINVAL;

	if (!tls)
		tls = &none;
	*out = NULL;
	if (!strncmp(url, "etcd://", 7)) {
		scheme = "http";
		hosts = url + 7;
	} else if (!strncmp(url, "etcds://", 8)) {
		scheme = "https";
		hosts = url + 8;
	} else {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store %s: want "
			 "etcd://HOST:PORT[,HOST:PORT...][/PREFIX] (etcds:// "
			 "for TLS)", url);
		return -EINVAL;
	}
	if (!strcmp(scheme, "https") && !tls->ca) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store %s: TLS needs "
			 "--store-ca (and --store-cert, --store-key for a "
			 "client certificate)", url);
		return -EINVAL;
	}
	if (!tls->cert != !tls->key) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store-cert and "
			 "--store-key go together");
		return -EINVAL;
	}
	if (!tls->user != !tls->password_file) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store-user and "
			 "--store-password-file go together");
		return -EINVAL;
	}
	if (tls->ca && strcmp(scheme, "https")) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store %s: TLS options "
			 "need an etcds:// URL", url);
		return -EINVAL;
	}
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->s.ops = &etcd_ops;
	slash = strchr(hosts, '/');
	if (!etcd_dup(&e->where, url) ||
	    !etcd_dup(&e->prefix, slash && slash[1] ? slash :
			    ETCD_DEFAULT_PREFIX) ||
	    !etcd_dup(&e->ca, tls->ca) || !etcd_dup(&e->cert, tls->cert) ||
	    !etcd_dup(&e->key, tls->key)) {
		err = -ENOMEM;
		goto fail;
	}
	if (tls->user && (err = etcd_password(e, tls, errbuf)))
		goto fail;
	err = -EINVAL;
	/* A prefix ends without '/': its keys are PREFIX/... */
	for (size_t n = strlen(e->prefix); n > 1 && e->prefix[n - 1] == '/';)
		e->prefix[--n] = '\0';
	e->s.where = e->where;
	e->s.prefix = e->prefix;
	for (const char *h = hosts; *h && h != slash;) {
		size_t n = strcspn(h, ",/");

		if (!n || n > 255 || e->nurls == ETCD_MAX_ENDPOINTS ||
		    !memchr(h, ':', n)) {
			snprintf(errbuf, MSTORE_ERR_MAX, "--store %s: each "
				 "endpoint is HOST:PORT (at most %d)", url,
				 ETCD_MAX_ENDPOINTS);
			goto fail;
		}
		if (asprintf(&e->urls[e->nurls], "%s://%.*s", scheme, (int)n,
			     h) < 0) {
			err = -ENOMEM;
			goto fail;
		}
		e->nurls++;
		h += n + (h[n] == ',');
	}
	if (!e->nurls) {
		snprintf(errbuf, MSTORE_ERR_MAX, "--store %s: no endpoint",
			 url);
		goto fail;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) ||
	    !(e->curl = curl_easy_init())) {
		err = -ENOMEM;
		goto fail;
	}
	*out = &e->s;
	return 0;
fail:
	etcd_close(&e->s);
	return err;
}
