// SPDX-License-Identifier: Apache-2.0
/*
 * HTTP request rates (ratelimit.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "policy/kinds.h"
#include "policy/select.h"
#include "polkinds.h"
#include "loopshare.h"
#include "ratelimit.h"
#include "router.h"

/* Whether a RateLimit's sources select by more than "every service". */
static bool rl_by_source(const struct policy *p,
			 const struct mf_legacy_ratelimit *r)
{
	for (size_t i = 0; i < r->hdr.nsources && i < MF_SELECTORS_MAX; i++) {
		const struct mf_tagset *ts =
			polkinds_tags(policy_kinds(p), r->hdr.sources[i]);

		if (!ts || ts->n != 1 ||
		    strncmp(ts->tags[0].key, SEL_SERVICE_TAG,
			    sizeof(ts->tags[0].key)) ||
		    strncmp(ts->tags[0].value, "*", sizeof(ts->tags[0].value)))
			return true;
	}
	return false;
}

/* Kuma's RateLimit: the best match for @src to @dst. */
static bool rl_legacy(const struct policy *p, const struct mf_endpoint *src,
		      const struct mf_service *dst, struct rl_limit *l)
{
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_workload ws, wd = { .service = dst->name };
	const struct mf_legacy_ratelimit *r;
	struct sel_cand *c;
	size_t n;
	int best = -1;

	if (router_cands(p, &kind_rate_limit, &c, &n))
		return false;
	if (n > 0) {
		router_view(p, src, &ws);
		wd.service_port = policy_service_port(p, dst);
		best = sel_legacy_best(c, n, &ws, &wd, &ctx, NULL);
	}
	if (best < 0) {
		free(c);
		return false;
	}
	r = c[best].val;
	l->policy = c[best].name;
	free(c);
	if (!r->conf.http.requests || !r->conf.http.interval)
		return false;
	l->requests = r->conf.http.requests;
	l->interval_ms = r->conf.http.interval;
	l->status = r->conf.http.on_rate_limit.status;
	l->legacy = &r->conf.http.on_rate_limit;
	l->per_source = rl_by_source(p, r);
	return true;
}

/* MeshRateLimit local.http for @dst as the proxy, for a peer of identity
 * @src_id (NULL: unknown): the `from` entries, then a `rules` entry that
 * applies to the peer (its SPIFFE ID, and the SNI that the tunnel asks
 * for, @dst's name), which wins. */
static bool rl_mesh(const struct policy *p, const char *src_id,
		    const struct mf_service *dst, struct rl_limit *l)
{
	static const uint8_t sections[] = { MF_SEC_FROM, MF_SEC_RULE };
	const struct sel_ctx ctx = router_sel_ctx(p);
	struct sel_workload self = {
		.service = dst->name,
		.service_port = policy_service_port(p, dst),
	};
	const char *names[16];
	struct mf_mrl_conf conf;
	struct sel_cand *c;
	size_t n;
	bool found = false, headers = false;

	if (router_cands(p, &kind_mesh_rate_limit, &c, &n))
		return false;
	for (size_t i = 0; n && i < sizeof(sections); i++) {
		struct sel_query q = { .self = &self, .section = sections[i],
				       .peer_id = src_id, .sni = dst->name };
		int got;

		memset(&conf, 0, sizeof(conf));
		got = sel_effective(&kind_mesh_rate_limit, c, n, &q, &ctx, &conf,
				    names, 16);
		if (got <= 0)
			continue;
		if (conf.local.http.disabled ||
		    !conf.local.http.request_rate.num ||
		    !conf.local.http.request_rate.interval)
			continue;
		found = true;
		l->policy = names[got < 16 ? got - 1 : 15];
		l->requests = conf.local.http.request_rate.num;
		l->interval_ms = conf.local.http.request_rate.interval;
		l->status = conf.local.http.on_rate_limit.status;
		l->per_source = false;
		headers = conf.local.http.on_rate_limit.headers.present != 0;
	}
	/* The headers: those of the record that won them, found again as
	 * a pointer into the snapshot (the merged copy is a local). */
	if (found && headers) {
		for (size_t i = 0; i < n; i++) {
			const struct mf_ratelimit *r = c[i].val;

			if (!strcmp(c[i].name, l->policy) &&
			    r->conf.local.http.on_rate_limit.headers.present)
				l->mod = &r->conf.local.http.on_rate_limit
						  .headers;
		}
	}
	free(c);
	return found;
}

bool ratelimit_find(const struct policy *p, const struct mf_endpoint *src,
		    const char *src_id, const struct mf_service *dst,
		    struct rl_limit *l)
{
	uint64_t h = HASH_FNV_INIT;

	memset(l, 0, sizeof(*l));
	if (!(src && rl_legacy(p, src, dst, l)) && !rl_mesh(p, src_id, dst, l))
		return false;
	if (!l->status)
		l->status = 429;
	h = hash_fnv_str(h, l->policy);
	h = hash_fnv_str(h, dst->name);
	if (l->per_source)
		h = hash_fnv_str(h, src_id ? src_id : "");
	h = hash_fnv(h, &l->requests, sizeof(l->requests));
	h = hash_fnv(h, &l->interval_ms, sizeof(l->interval_ms));
	l->key = h ? h : 1;
	return true;
}

/* The bucket of @key, made (full) when there is none, evicting the least
 * recently used of its probe window when that is full. */
static struct rl_bucket *rl_bucket(struct rl_table *t, const struct rl_limit *l,
				   uint64_t now)
{
	struct rl_bucket *lru = NULL, *b;

	for (unsigned i = 0; i < RL_PROBE; i++) {
		b = &t->b[(l->key + i) & (RL_TABLE_SIZE - 1)];
		if (b->key == l->key)
			return b;
		if (!b->key) {
			lru = b;
			break;
		}
		if (!lru || b->used < lru->used)
			lru = b;
	}
	lru->key = l->key;
	lru->tokens = loopshare(l->requests, t->loops);
	lru->fill = now + (uint64_t)l->interval_ms * 1000000ull;
	return lru;
}

bool ratelimit_take(struct rl_table *t, const struct rl_limit *l,
		    uint64_t now, uint64_t *retry_ms)
{
	struct rl_bucket *b = rl_bucket(t, l, now);

	b->used = now;
	if (now >= b->fill) {
		b->tokens = loopshare(l->requests, t->loops);
		b->fill = now + (uint64_t)l->interval_ms * 1000000ull;
	}
	if (!b->tokens) {
		*retry_ms = (b->fill - now + 999999) / 1000000;
		return false;
	}
	b->tokens--;
	return true;
}

/* Appends "name: value\r\n" to @s (of *len bytes, *cap allocated). */
static int rl_add(char **s, size_t *len, size_t *cap, const char *name,
		  size_t nlen, const char *value, size_t vlen)
{
	size_t need = *len + nlen + vlen + 5;
	char *n;

	if (need > *cap) {
		n = realloc(*s, need * 2);
		if (!n)
			return -ENOMEM;
		*s = n;
		*cap = need * 2;
	}
	memcpy(*s + *len, name, nlen);
	memcpy(*s + *len + nlen, ": ", 2);
	memcpy(*s + *len + nlen + 2, value, vlen);
	memcpy(*s + *len + nlen + 2 + vlen, "\r\n", 3);
	*len += nlen + vlen + 4;
	return 0;
}

char *ratelimit_headers(const struct policy *p, const struct rl_limit *l,
			uint64_t retry_ms)
{
	const struct polkinds *k = policy_kinds(p);
	char *s = NULL, num[32], reset[32];
	size_t len = 0, cap = 0, nl, vl;
	const char *nm, *v;
	int err;

	snprintf(num, sizeof(num), "%u", l->requests);
	snprintf(reset, sizeof(reset), "%llu",
		 (unsigned long long)((retry_ms + 999) / 1000));
	err = rl_add(&s, &len, &cap, "retry-after", 11, reset, strlen(reset));
	if (!err)
		err = rl_add(&s, &len, &cap, "x-ratelimit-limit", 17, num,
			     strlen(num));
	if (!err)
		err = rl_add(&s, &len, &cap, "x-ratelimit-remaining", 21, "0", 1);
	if (!err)
		err = rl_add(&s, &len, &cap, "x-ratelimit-reset", 17, reset,
			     strlen(reset));
	for (size_t i = 0; !err && l->legacy && i < l->legacy->nheaders &&
			   i < MF_RL_HEADERS_MAX; i++) {
		const struct mf_rl_header *h = &l->legacy->headers[i];

		err = rl_add(&s, &len, &cap, h->key,
			     strnlen(h->key, sizeof(h->key)), h->value,
			     strnlen(h->value, sizeof(h->value)));
	}
	for (size_t i = 0; !err && l->mod && i < l->mod->nset &&
			   i < MF_HEADERS_MAX; i++) {
		nm = polkinds_str(k, l->mod->set[i].name, &nl);
		v = polkinds_str(k, l->mod->set[i].value, &vl);
		if (nm && v)
			err = rl_add(&s, &len, &cap, nm, nl, v, vl);
	}
	for (size_t i = 0; !err && l->mod && i < l->mod->nadd &&
			   i < MF_HEADERS_MAX; i++) {
		nm = polkinds_str(k, l->mod->add[i].name, &nl);
		v = polkinds_str(k, l->mod->add[i].value, &vl);
		if (nm && v)
			err = rl_add(&s, &len, &cap, nm, nl, v, vl);
	}
	if (err) {
		free(s);
		return NULL;
	}
	return s;
}
