// SPDX-License-Identifier: Apache-2.0
/*
 * MeshHealthCheck's active health checks (health.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#include "hash.h"
#include "health.h"
#include "hosts.h"
#include "log.h"
#include "policy.h"
#include "policy/kinds.h"
#include "proxyv2.h"
#include "reload.h"
#include "resil.h"
#include "router.h"
#include "tunnel.h"

/* ---- verdicts and matching (no I/O) ---------------------------------------- */

int health_verdict(struct health_run *r, bool ok, uint32_t unhealthy,
		   uint32_t healthy)
{
	if (ok) {
		r->fails = 0;
		if (r->oks < UINT32_MAX)
			r->oks++;
		if (r->down && r->oks >= healthy) {
			r->down = false;
			return 1;
		}
		return 0;
	}
	r->oks = 0;
	if (r->fails < UINT32_MAX)
		r->fails++;
	if (!r->down && r->fails >= unhealthy) {
		r->down = true;
		return -1;
	}
	return 0;
}

bool health_match_feed(struct health_match *m, const uint8_t *p, size_t n)
{
	uint8_t win[2 * HEALTH_BLOCK_MAX];

	while (m->found < m->nblocks) {
		const uint8_t *b = m->block[m->found];
		size_t bl = m->len[m->found], keep, nw, take;
		const uint8_t *at;

		/* Search the carried tail and as much of the new bytes as
		 * fits beside it; the rest waits for the next round. */
		take = n < sizeof(win) - m->ncarry ? n : sizeof(win) - m->ncarry;
		memcpy(win, m->carry, m->ncarry);
		memcpy(win + m->ncarry, p, take);
		nw = m->ncarry + take;
		at = bl ? memmem(win, nw, b, bl) : win;
		if (at) {
			size_t used = (size_t)(at - win) + bl;

			/* What follows the block is the next one's to
			 * search: back to the caller's bytes from there. */
			m->found++;
			if (used <= m->ncarry) {
				memmove(m->carry, m->carry + used,
					m->ncarry - used);
				m->ncarry -= (uint16_t)used;
			} else {
				used -= m->ncarry;
				m->ncarry = 0;
				p += used;
				n -= used;
			}
			continue;
		}
		/* Not here: keep the last bl - 1 bytes, which a block
		 * straddling into the next piece starts in. */
		keep = bl > 1 ? bl - 1 : 0;
		if (keep > nw)
			keep = nw;
		memcpy(m->carry, win + nw - keep, keep);
		m->ncarry = (uint16_t)keep;
		p += take;
		n -= take;
		if (!n)
			break;
	}
	return m->found == m->nblocks;
}

/* ---- the checks a snapshot asks for ------------------------------------------ */

/* @s, base64, decoded into @out (@cap bytes): its length, or -EINVAL. */
static int health_b64(const char *s, uint8_t *out, size_t cap)
{
	word32 n = (word32)cap;

	if (!s[0])
		return 0;
	if (Base64_Decode((const byte *)s, (word32)strlen(s), out, &n))
		return -EINVAL;
	return (int)n;
}

/* Whether @name is set by @hs (case-insensitively). */
static bool health_header_set(const struct mf_hc_headers *hs,
			      const char *name)
{
	for (unsigned int i = 0; i < hs->nset && i < MF_HC_HEADERS_MAX; i++)
		if (!strncasecmp(hs->set[i].name, name,
				 sizeof(hs->set[i].name)))
			return true;
	return false;
}

/* The HTTP request of check @k under @c into k->send.  0 or -ENOMEM. */
static int health_http_request(struct health_check *k,
			       const struct mf_hc_http *c)
{
	const struct mf_hc_headers *hs = &c->request_headers_to_add;
	size_t cap = 512 + MF_PATH_MAX + 2 * MF_HC_HEADERS_MAX *
		     (MF_HDR_NAME_MAX + MF_HDR_VALUE_MAX + 4);
	char *b = malloc(cap);
	size_t n = 0;

	if (!b)
		return -ENOMEM;
#define HC_PUT(...)                                                            \
	n += (size_t)snprintf(b + n, cap - n, __VA_ARGS__)
	HC_PUT("GET %.*s HTTP/1.1\r\n", (int)sizeof(c->path),
	       c->path[0] ? c->path : "/");
	if (!health_header_set(hs, "host"))
		HC_PUT("host: %s\r\n", k->service);
	if (!health_header_set(hs, "user-agent"))
		HC_PUT("user-agent: meshforge-health-check\r\n");
	for (unsigned int i = 0; i < hs->nset && i < MF_HC_HEADERS_MAX; i++)
		HC_PUT("%.*s: %.*s\r\n", (int)sizeof(hs->set[i].name),
		       hs->set[i].name, (int)sizeof(hs->set[i].value),
		       hs->set[i].value);
	for (unsigned int i = 0; i < hs->nadd && i < MF_HC_HEADERS_MAX; i++)
		HC_PUT("%.*s: %.*s\r\n", (int)sizeof(hs->add[i].name),
		       hs->add[i].name, (int)sizeof(hs->add[i].value),
		       hs->add[i].value);
	HC_PUT("connection: close\r\n\r\n");
#undef HC_PUT
	k->send = b;
	k->send_len = n < cap ? n : cap - 1;
	return 0;
}

/* Check @k of service @svc under @c (an effective conf): its timing, and
 * how it probes.  0, -EINVAL (a payload that does not decode) or -ENOMEM;
 * 1 when it has nothing to probe with. */
static int health_check_make(struct health_check *k,
			     const struct mf_service *svc,
			     const struct mf_hc_conf *c)
{
	bool http_ok = c->http.present && !c->http.disabled;
	bool tcp_ok = !c->tcp.present || !c->tcp.disabled;
	int n;

	memset(k, 0, sizeof(*k));
	snprintf(k->service, sizeof(k->service), "%s", svc->name);
	k->interval_ms = c->interval ? c->interval : HEALTH_DEFAULT_INTERVAL_MS;
	k->timeout_ms = c->timeout ? c->timeout : HEALTH_DEFAULT_TIMEOUT_MS;
	k->unhealthy = c->unhealthy_threshold ? c->unhealthy_threshold :
		       HEALTH_DEFAULT_UNHEALTHY;
	k->healthy = c->healthy_threshold ? c->healthy_threshold :
		     HEALTH_DEFAULT_HEALTHY;
	k->initial_jitter_ms = c->initial_jitter;
	k->interval_jitter_ms = c->interval_jitter;
	k->jitter_pct = c->interval_jitter_percent;
	k->always_log = c->always_log_health_check_failures;
	if ((svc->flags & MF_SERVICE_F_HTTP) && http_ok) {
		k->http = true;
		k->nstatuses = c->http.nexpected_statuses < MF_STATUSES_MAX ?
			       c->http.nexpected_statuses : MF_STATUSES_MAX;
		memcpy(k->statuses, c->http.expected_statuses,
		       sizeof(k->statuses));
		return health_http_request(k, &c->http);
	}
	if (!tcp_ok)
		return 1;
	if (!c->tcp.present)
		return 0;	/* connect only */
	k->send = malloc(sizeof(c->tcp.send));
	if (!k->send)
		return -ENOMEM;
	n = health_b64(c->tcp.send, (uint8_t *)k->send, sizeof(c->tcp.send));
	if (n < 0)
		return n;
	k->send_len = (size_t)n;
	for (unsigned int i = 0; i < c->tcp.nreceive && i < 2; i++) {
		n = health_b64(c->tcp.receive[i], k->match.block[i],
			       HEALTH_BLOCK_MAX);
		if (n < 0)
			return n;
		k->match.len[i] = (uint16_t)n;
		k->match.nblocks++;
	}
	return 0;
}

/* The key of a check: its service, what it does and the identity it
 * speaks with (sources that MeshTrafficPermission tells apart must not
 * share a verdict). */
static uint64_t health_check_key(const struct mf_service *svc,
				 const struct mf_hc_conf *c, const char *id)
{
	uint64_t h = hash_fnv_str(HASH_FNV_INIT, svc->name);

	h = hash_fnv_str(h, id);
	return hash_fnv(h, c, sizeof(*c));
}

static void health_check_free(struct health_check *k)
{
	free(k->send);
	k->send = NULL;
}

/* ---- probes ------------------------------------------------------------------- */

static void health_fire(struct timer *tm, uint64_t now);

static uint64_t health_ms(uint64_t ms)
{
	return ms * 1000000u;
}

/* When the next probe of @t goes, from @now. */
static uint64_t health_next(struct health *h, const struct health_check *k,
			    uint64_t now)
{
	uint64_t ms = k->interval_ms;

	if (k->interval_jitter_ms)
		ms += lb_rng_below(&h->rng, (uint64_t)k->interval_jitter_ms + 1);
	if (k->jitter_pct)
		ms += lb_rng_below(&h->rng, (uint64_t)k->interval_ms *
						    k->jitter_pct / 100 + 1);
	return now + health_ms(ms);
}

static void health_arm(struct health_target *t, uint64_t when)
{
	if (loop_timer_arm(t->h->loop, &t->timer, when))
		log_warn("event=health_check endpoint=%s reason=\"no memory "
			 "for its timer: it is no longer checked\"", t->name);
}

/* The probe of @t is over: its socket closes (the connection behind it
 * then ends), and its memory goes once no recv is in flight. */
static void health_probe_end(struct health_target *t)
{
	struct health_probe *pr = t->probe;

	if (!pr)
		return;
	if (pr->recv_busy) {
		/* The recv completes at once, with nothing; the memory goes
		 * then. */
		if (!pr->over)
			shutdown(pr->fd, SHUT_RDWR);
		pr->over = true;
		return;
	}
	close(pr->fd);
	if (pr->parsing)
		http1_fini(&pr->parser);
	free(pr);
	t->probe = NULL;
}

/* The slot of @t is free again. */
static void health_target_free(struct health_target *t)
{
	struct health *h = t->h;
	uint32_t gen = t->gen + 1;

	loop_timer_cancel(h->loop, &t->timer);
	memset(t, 0, sizeof(*t));
	t->gen = gen & LOOP_UD_GEN_MASK;
	t->h = h;
}

/* The verdict of the probe of @t: @ok, else why it failed. */
static void health_result(struct health_target *t, bool ok, const char *why)
{
	struct health *h = t->h;
	const struct health_check *k = &h->checks[t->check];
	struct stats *st = &h->ctx->stats;
	struct host *host;
	uint64_t now = timer_now();
	bool first_fail = !ok && !t->run.fails;
	int moved;

	health_probe_end(t);
	st->health_checks[ok ? 0 : 1]++;
	moved = health_verdict(&t->run, ok, k->unhealthy, k->healthy);
	if (!ok && (k->always_log || first_fail || moved))
		log_info("event=health_check_failed service=%s endpoint=%s "
			 "policy=%s reason=\"%s\"", k->service, t->name,
			 k->policy, why);
	if (moved) {
		host = hosts_get(h->tunnel->bal.hosts, t->hkey, now);
		if (moved < 0) {
			host->hc_down++;
			st->health_unhealthy++;
		} else {
			if (host->hc_down)
				host->hc_down--;
			st->health_unhealthy--;
		}
		st->health_transitions[moved < 0 ? 1 : 0]++;
		log_info("event=health_changed service=%s endpoint=%s "
			 "policy=%s health=%s", k->service, t->name, k->policy,
			 moved < 0 ? "unhealthy" : "healthy");
	}
	if (!t->gone)
		health_arm(t, health_next(h, k, now));
}

/* A recv on the probe of @t, into what is left of its buffer. */
static void health_recv(struct health_target *t)
{
	struct health *h = t->h;
	struct health_probe *pr = t->probe;
	struct io_uring_sqe *sqe = loop_sqe(h->loop, 1);

	io_uring_prep_recv(sqe, pr->fd, pr->buf, sizeof(pr->buf), 0);
	io_uring_sqe_set_data64(sqe, loop_ud(h->op_recv, 0,
					     (uint32_t)(t - h->targets),
					     t->gen));
	pr->recv_busy = true;
}

static int health_on_head(void *arg, const struct http1_head *hd)
{
	struct health_probe *pr = arg;

	pr->status = hd->status;
	return HTTP1_STOP;
}

static const struct http1_cbs health_http_cbs = {
	.on_head = health_on_head,
};

/* What came from the endpoint (after the ack): a verdict, or nothing yet
 * (false). */
static bool health_answer(struct health_target *t, const uint8_t *p,
			  size_t n, bool *ok, const char **why)
{
	const struct health_check *k = &t->h->checks[t->check];
	struct health_probe *pr = t->probe;
	int rc;

	if (!k->http) {
		if (!health_match_feed(&pr->match, p, n))
			return false;
		*ok = true;
		return true;
	}
	if (!n)
		return false;
	rc = http1_feed(&pr->parser, (const char *)p, n);
	if (rc < 0) {
		*ok = false;
		*why = "malformed HTTP response";
		return true;
	}
	if (!pr->status)
		return false;
	*ok = false;
	*why = "unexpected status";
	if (!k->nstatuses)
		*ok = pr->status == 200;
	for (unsigned int i = 0; i < k->nstatuses; i++)
		*ok |= pr->status == k->statuses[i];
	return true;
}

static void health_cqe(void *arg, const struct io_uring_cqe *cqe)
{
	struct health *h = arg;
	uint32_t slot = loop_ud_slot(cqe->user_data);
	struct health_target *t;
	struct health_probe *pr;
	const char *why = NULL;
	const uint8_t *p;
	bool ok = false;
	size_t n;

	if (slot >= HEALTH_TARGETS_MAX)
		return;
	t = &h->targets[slot];
	pr = t->probe;
	if (!t->used || t->gen != loop_ud_gen(cqe->user_data) || !pr)
		return;
	pr->recv_busy = false;
	if (pr->over) {
		/* Ended while the recv was in flight (a timeout, a sync
		 * that dropped it): only the memory is left to free. */
		health_probe_end(t);
		if (t->gone)
			health_target_free(t);
		return;
	}
	if (cqe->res < 0)
		goto failed;
	if (cqe->res == 0) {
		why = pr->acked ? "the connection ended before an answer" :
				  "the endpoint could not be reached";
		goto failed;
	}
	p = pr->buf;
	n = (size_t)cqe->res;
	if (!pr->acked) {
		if (p[0] != PP2_ACK) {
			why = "no ack from the endpoint's agent";
			goto failed;
		}
		pr->acked = true;
		p++;
		n--;
	}
	if (health_answer(t, p, n, &ok, &why)) {
		loop_timer_cancel(h->loop, &t->timer);
		health_result(t, ok, why);
		return;
	}
	health_recv(t);
	return;
failed:
	loop_timer_cancel(h->loop, &t->timer);
	health_result(t, false, why ? why : "connection error");
}

/* The probe of @t starts: a socketpair, one end to the tunnel, the
 * request on the other. */
static void health_probe_start(struct health_target *t, uint64_t now)
{
	struct health *h = t->h;
	const struct health_check *k = &h->checks[t->check];
	struct health_probe *pr;
	int sv[2], err;

	pr = calloc(1, sizeof(*pr));
	if (!pr || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			      SOCK_NONBLOCK, 0, sv)) {
		free(pr);
		health_result(t, false, "out of memory or descriptors");
		return;
	}
	pr->fd = sv[0];
	t->probe = pr;
	if (k->http) {
		http1_init(&pr->parser, HTTP1_RESPONSE, NULL, &health_http_cbs,
			   pr);
		pr->parsing = true;
	} else {
		pr->match = k->match;
	}
	/* Into an empty socket buffer: a request of a few KiB goes whole. */
	if (k->send_len &&
	    send(pr->fd, k->send, k->send_len, MSG_NOSIGNAL | MSG_DONTWAIT) !=
	    (ssize_t)k->send_len) {
		close(sv[1]);
		health_result(t, false, "could not write the probe");
		return;
	}
	err = tunnel_probe(h->tunnel, sv[1],
			   &(struct tunnel_src){ .ip = k->src_ip }, t->ip,
			   t->port, k->timeout_ms);
	if (err) {
		health_result(t, false, "no room for the probe's connection");
		return;
	}
	health_recv(t);
	health_arm(t, now + health_ms(k->timeout_ms));
}

/* The timer of @t: the next probe, or the deadline of the one in
 * flight. */
static void health_fire(struct timer *tm, uint64_t now)
{
	struct health_target *t = (struct health_target *)
		((char *)tm - offsetof(struct health_target, timer));

	if (t->probe && !t->probe->over) {
		health_result(t, false, "timeout");
		return;
	}
	if (t->probe) {
		/* The last one's recv has yet to complete (it was told to
		 * at once): the next probe waits a little. */
		health_arm(t, now + health_ms(10));
		return;
	}
	health_probe_start(t, now);
}

/* ---- following the snapshots ---------------------------------------------------- */

/* Check @key's index, made from @svc and @c when new; -1 when there is
 * no room or it probes with nothing. */
static int health_check_of(struct health *h, struct health_check *next,
			   unsigned int *nnext, uint64_t key,
			   const struct mf_service *svc,
			   const struct mf_hc_conf *c, const char *policy,
			   uint32_t src_ip)
{
	struct health_check *k;
	int err;

	for (unsigned int i = 0; i < *nnext; i++)
		if (next[i].key == key)
			return (int)i;
	if (*nnext == HEALTH_CHECKS_MAX) {
		if (!h->full_warned)
			log_warn("event=health_check reason=\"more than %u "
				 "checks: the rest do not run\"",
				 HEALTH_CHECKS_MAX);
		h->full_warned = true;
		return -1;
	}
	k = &next[*nnext];
	err = health_check_make(k, svc, c);
	if (err) {
		if (err < 0)
			log_warn("event=health_check service=%s policy=%s "
				 "reason=\"%s\"", svc->name, policy,
				 err == -EINVAL ? "a tcp payload is not base64" :
						  "out of memory");
		health_check_free(k);
		return -1;
	}
	k->key = key;
	k->src_ip = src_ip;
	snprintf(k->policy, sizeof(k->policy), "%s", policy);
	return (int)(*nnext)++;
}

/* Where (check key @ck, endpoint @hkey) starts in the index: the keys are
 * hashes already, so mixing them is enough. */
static unsigned int health_index_home(uint64_t ck, uint64_t hkey)
{
	uint64_t x = (ck ^ (hkey * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;

	return (unsigned int)(x >> 32) & (HEALTH_INDEX_SLOTS - 1);
}

/* The index slot of (@ck, @hkey): the one holding that target, or the
 * empty slot where it goes.  Never full: at most HEALTH_TARGETS_MAX of
 * its HEALTH_INDEX_SLOTS slots are taken. */
static uint16_t *health_index_slot(struct health *h, uint64_t ck,
				   uint64_t hkey)
{
	unsigned int i = health_index_home(ck, hkey);

	for (;; i = (i + 1) & (HEALTH_INDEX_SLOTS - 1)) {
		uint16_t *s = &h->index[i];
		const struct health_target *t;

		if (!*s)
			return s;
		t = &h->targets[*s - 1];
		if (t->check_key == ck && t->hkey == hkey)
			return s;
	}
}

/* The index of the targets that run now, for health_want(). */
static void health_index_build(struct health *h)
{
	memset(h->index, 0, sizeof(h->index));
	h->free_from = 0;
	for (unsigned int i = 0; i < HEALTH_TARGETS_MAX; i++) {
		const struct health_target *t = &h->targets[i];

		if (t->used && !t->gone)
			*health_index_slot(h, t->check_key, t->hkey) =
				(uint16_t)(i + 1);
	}
}

/* The target of check @ci at endpoint @ep: kept when it runs already,
 * else started. */
static void health_want(struct health *h, struct health_check *next,
			unsigned int ci, struct policy *p,
			const struct mf_endpoint *ep, uint64_t now)
{
	uint32_t ip = policy_endpoint_ip(p, ep);
	uint64_t hkey = hosts_key(ip, ep->port);
	uint16_t *slot = health_index_slot(h, next[ci].key, hkey);
	struct health_target *t;
	uint64_t first;

	if (*slot) {
		t = &h->targets[*slot - 1];
		t->keep = true;
		t->check = ci;
		return;
	}
	/* Slots only fill during a sync, so the walk for a free one never
	 * goes back: all the syncs' walks together cost one pass. */
	while (h->free_from < HEALTH_TARGETS_MAX &&
	       h->targets[h->free_from].used)
		h->free_from++;
	if (h->free_from == HEALTH_TARGETS_MAX) {
		if (!h->full_warned)
			log_warn("event=health_check reason=\"more than %u "
				 "endpoints to check: the rest are not\"",
				 HEALTH_TARGETS_MAX);
		h->full_warned = true;
		return;
	}
	t = &h->targets[h->free_from];
	*slot = (uint16_t)(h->free_from + 1);
	t->used = true;
	t->keep = true;
	t->check = ci;
	t->check_key = next[ci].key;
	t->hkey = hkey;
	t->ip = ip;
	t->port = ep->port;
	snprintf(t->name, sizeof(t->name), "%s", ep->name);
	timer_init(&t->timer, health_fire);
	first = next[ci].initial_jitter_ms ? next[ci].initial_jitter_ms :
					     HEALTH_FIRST_MS;
	health_arm(t, now + health_ms(lb_rng_below(&h->rng, first + 1)));
}

/* Target @t is no longer wanted: its verdict goes, its probe ends. */
static void health_drop(struct health *h, struct health_target *t)
{
	struct host *host;

	if (t->run.down) {
		host = hosts_get(h->tunnel->bal.hosts, t->hkey, timer_now());
		if (host->hc_down)
			host->hc_down--;
		h->ctx->stats.health_unhealthy--;
	}
	loop_timer_cancel(h->loop, &t->timer);
	t->gone = true;
	health_probe_end(t);
	if (!t->probe)
		health_target_free(t);
}

/* The checks @p asks of this node's workloads into @next. */
static void health_plan(struct health *h, struct policy *p,
			struct health_check *next, unsigned int *nnext)
{
	const struct mf_node *self = policy_node(p, h->ctx->node);
	struct mf_hc_conf *conf;
	struct sel_cand *cands;
	uint64_t now = timer_now();
	size_t ncands;

	*nnext = 0;
	if (!self || router_cands(p, &kind_mesh_health_check, &cands, &ncands))
		return;
	free(cands);
	if (!ncands)
		return;		/* no MeshHealthCheck: nothing to work out */
	conf = malloc(sizeof(*conf));
	if (!conf)
		return;
	for (size_t e = 0; e < policy_endpoint_count(p); e++) {
		const struct mf_endpoint *src = policy_endpoint_at(p, e);
		const char *id = policy_identity(p, src->identity_id);
		const struct mf_service *svc;
		struct mf_service_key sk;

		if (memcmp(src->node_ip, self->ip, sizeof(self->ip)) ||
		    !id || !id[0])
			continue;
		for (size_t s = 0; (svc = policy_service_at(p, s, &sk)); s++) {
			const char *name = resil_health(p, src, svc, conf);
			const struct mf_endpoint *ep;
			int ci;

			if (!name)
				continue;
			ci = health_check_of(h, next, nnext,
					     health_check_key(svc, conf, id),
					     svc,
					     conf, name,
					     policy_endpoint_ip(p, src));
			if (ci < 0)
				continue;
			for (size_t k = 0;
			     (ep = policy_service_endpoint_at(p, svc->id, k));
			     k++)
				/* An external endpoint is not behind
				 * an agent a probe could go through. */
				if (!(ep->flags & MF_ENDPOINT_F_EXTERNAL))
					health_want(h, next, (unsigned int)ci,
						    p, ep, now);
		}
	}
	free(conf);
}

void health_sync(struct health *h, struct policy *p)
{
	struct health_check *next;
	unsigned int nnext;

	h->epoch = policy_epoch(p);
	next = calloc(HEALTH_CHECKS_MAX, sizeof(*next));
	if (!next) {
		h->epoch = 0;	/* again at the next tick */
		return;
	}
	for (unsigned int i = 0; i < HEALTH_TARGETS_MAX; i++)
		h->targets[i].keep = false;
	h->full_warned = false;
	health_index_build(h);
	health_plan(h, p, next, &nnext);
	for (unsigned int i = 0; i < HEALTH_TARGETS_MAX; i++) {
		struct health_target *t = &h->targets[i];

		if (t->used && !t->gone && !t->keep)
			health_drop(h, t);
	}
	for (unsigned int i = 0; i < h->nchecks; i++)
		health_check_free(&h->checks[i]);
	free(h->checks);
	h->checks = next;
	h->nchecks = nnext;
}

/* ---- the loop's user ------------------------------------------------------------- */

static void health_tick(void *arg)
{
	struct health *h = arg;
	struct policy *p = reload_current(h->ctx->reload);

	if (p && policy_epoch(p) != h->epoch)
		health_sync(h, p);
}

static void health_abort_all(void *arg)
{
	struct health *h = arg;

	for (unsigned int i = 0; i < HEALTH_TARGETS_MAX; i++) {
		struct health_target *t = &h->targets[i];

		if (!t->used)
			continue;
		loop_timer_cancel(h->loop, &t->timer);
		t->gone = true;
		health_probe_end(t);
	}
}

static bool health_busy(void *arg)
{
	struct health *h = arg;

	for (unsigned int i = 0; i < HEALTH_TARGETS_MAX; i++)
		if (h->targets[i].probe && h->targets[i].probe->recv_busy)
			return true;
	return false;
}

int health_init(struct health *h, struct loop *l, struct tunnel *tu,
		struct ctx *ctx)
{
	const struct loop_user u = {
		.arg = h,
		.abort_all = health_abort_all,
		.busy = health_busy,
		.tick = health_tick,
	};
	int op;

	memset(h, 0, sizeof(*h));
	h->loop = l;
	h->tunnel = tu;
	h->ctx = ctx;
	lb_rng_seed_kernel(&h->rng);
	h->targets = calloc(HEALTH_TARGETS_MAX, sizeof(*h->targets));
	if (!h->targets)
		return -ENOMEM;
	for (unsigned int i = 0; i < HEALTH_TARGETS_MAX; i++)
		h->targets[i].h = h;
	op = loop_op_add(l, "health_recv", health_cqe, h);
	if (op < 0)
		return op;
	h->op_recv = (unsigned int)op;
	return loop_user_add(l, &u);
}

void health_fini(struct health *h)
{
	for (unsigned int i = 0; h->targets && i < HEALTH_TARGETS_MAX; i++) {
		struct health_probe *pr = h->targets[i].probe;

		if (!pr)
			continue;
		close(pr->fd);
		if (pr->parsing)
			http1_fini(&pr->parser);
		free(pr);
	}
	free(h->targets);
	for (unsigned int i = 0; h->checks && i < h->nchecks; i++)
		health_check_free(&h->checks[i]);
	free(h->checks);
	memset(h, 0, sizeof(*h));
}
