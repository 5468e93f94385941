// SPDX-License-Identifier: Apache-2.0
/*
 * MeshTrace of one connection (trace.h): both sides' confs by the
 * selection every other kind uses (router.h), the trace context of each
 * request, and its spans (tspan.h) handed to the writer (telw.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "otlp.h"
#include "policy/kinds.h"
#include "polkinds.h"
#include "policy/select.h"
#include "router.h"
#include "trace.h"
#include "telw.h"
#include "tspan.h"

/* Presence bits of the records' fields (kind_mesh_trace.c's order). */
#define TRACE_ZIPKIN_F_SHARED	(1u << 3)	/* sharedSpanContext */
#define TRACE_SAMPLING_F_OVERALL (1u << 0)
#define TRACE_SAMPLING_F_CLIENT	(1u << 1)
#define TRACE_SAMPLING_F_RANDOM	(1u << 2)
#define TRACE_TAG_F_LITERAL	(1u << 1)
#define TRACE_TAG_F_HEADER	(1u << 2)
/* mf_trace_zipkin.api_version */
#define TRACE_ZIPKIN_HTTP_PROTO	2
/* Thread-local: each loop encodes its own spans (a Datadog chunk holds
 * two). */
static __thread char trace_buf[2 * TSPAN_JSON_MAX];

/* ---- selection ------------------------------------------------------------ */

/* Side @s reports to OpenTelemetry backend @ot over OTLP (otlp.h): its
 * endpoint over gRPC, else the MeshOpenTelemetryBackend its backendRef
 * selects in @p, when a collector is named for it (its address, or the
 * agent's OTEL_EXPORTER_OTLP_* by its `env`, otlp.h).  False: neither. */
static bool trace_side_otel(const struct policy *p,
			    const struct mf_trace_otel *ot,
			    struct trace_side *s)
{
	const struct mf_otel_backend *ob = NULL;
	enum collector_proto t;

	if (!ot->endpoint[0] && ot->backend_ref.present) {
		ob = polkinds_otel_backend(policy_kinds(p), &ot->backend_ref);
		if (!ob || otlp_backend_url(ob, &otlp_traces_signal, s->url,
					    sizeof(s->url), &t))
			return false;
	} else if (!ot->endpoint[0]) {
		return false;
	} else {
		t = otlp_endpoint_url(ot->endpoint, &otlp_traces_signal,
				      s->url, sizeof(s->url));
	}
	s->on = true;
	s->fmt = t == COLLECTOR_PROTOBUF ? TELW_OTLP_TRACES_HTTP :
		 TELW_OTLP_TRACES_GRPC;
	s->id128 = true;
	s->shared = false;
	return true;
}

/* Side @s reports to Datadog agent @dd at its trace intake, in JSON;
 * 64-bit trace ids, and the SERVER span a child of the CLIENT span (a
 * Datadog trace has no shared span: two spans of one id are refused). */
static void trace_side_datadog(const struct mf_trace_datadog *dd,
			       struct trace_side *s)
{
	int n = (int)strnlen(dd->url, sizeof(dd->url));

	s->on = true;
	s->fmt = TELW_DATADOG;
	s->split = dd->split_service;
	snprintf(s->url, sizeof(s->url), "%.*s/v0.4/traces", n, dd->url);
}

void trace_side_of(const struct policy *p, const struct mf_trace_conf *conf,
		   struct trace_side *s)
{
	const struct mf_trace_backend *be = &conf->backends[0];
	const struct mf_trace_zipkin *z = &be->zipkin;
	const struct mf_trace_otel *ot = &be->open_telemetry;

	memset(s, 0, sizeof(*s));
	if (!conf->nbackends)
		return;
	/* The objects share storage: bit k says object k is the one set
	 * (enum mf_trace_backend_type). */
	if (be->present & (1u << MF_TRACE_OTEL)) {
		if (!trace_side_otel(p, ot, s))
			return;
	} else if (be->present & (1u << MF_TRACE_DATADOG)) {
		trace_side_datadog(&be->datadog, s);
	} else if (!(be->present & (1u << MF_TRACE_ZIPKIN))) {
		return;
	} else {
		s->on = true;
		s->fmt = z->api_version == TRACE_ZIPKIN_HTTP_PROTO ?
			 TELW_ZIPKIN_PROTO : TELW_ZIPKIN;
		s->id128 = z->trace_id_128bit;
		s->shared = !(z->present & TRACE_ZIPKIN_F_SHARED) ||
			    z->shared_span;
		snprintf(s->url, sizeof(s->url), "%.*s",
			 (int)sizeof(z->url) - 1, z->url);
	}
	s->sampling = conf->sampling;
	s->ntags = conf->ntags < MF_TRACE_TAGS_MAX ? conf->ntags :
						     MF_TRACE_TAGS_MAX;
	memcpy(s->tags, conf->tags, sizeof(s->tags));
}

int trace_find(const struct policy *p, const struct mf_endpoint *src,
	       uint32_t src_ip, const struct mf_service *dst,
	       struct trace_conn *t)
{
	struct sel_workload ws, wd;
	const struct sel_query out = { .self = &ws,
				       .section = MF_SEC_DEFAULT };
	const struct sel_query in = { .self = &wd,
				      .section = MF_SEC_DEFAULT };
	const struct mf_service *ss;
	struct mf_trace_conf *conf;

	memset(t, 0, sizeof(*t));
	/* The common case: no MeshTrace, no selection. */
	if (!router_count(p, &kind_mesh_trace))
		return 0;
	conf = calloc(1, sizeof(*conf));
	if (!conf)
		return -ENOMEM;
	/* The source workload is the outbound proxy; the destination
	 * service's, the inbound one (as meshlog's inbound side). */
	router_view(p, src, &ws);
	router_dest_view(p, dst, &wd);
	if (router_effective(p, &kind_mesh_trace, &out, conf))
		trace_side_of(p, conf, &t->out);
	memset(conf, 0, sizeof(*conf));
	if (router_effective(p, &kind_mesh_trace, &in, conf))
		trace_side_of(p, conf, &t->in);
	free(conf);
	t->mesh = policy_mesh(p);
	ss = src ? policy_service_by_id(p, src->service_id) : NULL;
	t->src_service = ss ? ss->name : NULL;
	t->src_name = src ? src->name : NULL;
	t->src_ip = src_ip;
	t->dst_service = dst->name;
	return 0;
}

int trace_find_gateway(const struct policy *p, const struct sel_workload *gw,
		       uint32_t src_ip, const struct mf_service *dst,
		       struct trace_conn *t)
{
	const struct sel_query q = { .self = gw, .section = MF_SEC_DEFAULT };
	struct mf_trace_conf *conf;

	memset(t, 0, sizeof(*t));
	if (!router_count(p, &kind_mesh_trace))
		return 0;
	conf = calloc(1, sizeof(*conf));
	if (!conf)
		return -ENOMEM;
	if (router_effective(p, &kind_mesh_trace, &q, conf))
		trace_side_of(p, conf, &t->out);
	free(conf);
	t->mesh = policy_mesh(p);
	t->src_service = gw->service;
	t->src_name = gw->name;
	t->src_ip = src_ip;
	t->dst_service = dst ? dst->name : NULL;
	return 0;
}

/* ---- propagation ---------------------------------------------------------- */

/* Exactly @n (1..16) hex digits at @s into *@v. */
static bool trace_hex(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		x = x << 4 | d;
	}
	*v = x;
	return true;
}

/* A trace id of 16 or 32 hex digits at @s (@n bytes), not zero. */
static bool trace_id(const char *s, size_t n, struct trace_in *in)
{
	uint64_t hi = 0, lo;

	if (n == 32) {
		if (!trace_hex(s, 16, &hi) || !trace_hex(s + 16, 16, &lo))
			return false;
	} else if (n != 16 || !trace_hex(s, 16, &lo)) {
		return false;
	}
	if (!hi && !lo)
		return false;
	in->hi = hi;
	in->lo = lo;
	in->id128 = n == 32;
	return true;
}

/* A span id: 16 hex digits, not zero. */
static bool trace_span_id(const char *s, size_t n, uint64_t *v)
{
	return n == 16 && trace_hex(s, n, v) && *v;
}

static bool trace_is(const char *v, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp(v, word, n);
}

/* x-b3-sampled's value: 1, 0, or -1 when it is neither. */
static int trace_sampled_word(const char *v, size_t n)
{
	if (trace_is(v, n, "1") || trace_is(v, n, "true") || trace_is(v, n, "d"))
		return 1;
	if (trace_is(v, n, "0") || trace_is(v, n, "false"))
		return 0;
	return -1;
}

/* The multi-header B3 context: true when there was one. */
static bool trace_read_b3_multi(const struct hhead *h, struct trace_in *in)
{
	const char *t, *s, *p;
	size_t tn, sn, pn;
	uint64_t parent = 0;

	if (!hhead_get(h, "x-b3-traceid", &t, &tn) ||
	    !hhead_get(h, "x-b3-spanid", &s, &sn))
		return false;
	if (hhead_get(h, "x-b3-parentspanid", &p, &pn) &&
	    !trace_span_id(p, pn, &parent))
		return false;
	if (!trace_id(t, tn, in) || !trace_span_id(s, sn, &in->span))
		return false;
	in->parent = parent;
	in->ctx = true;
	return true;
}

/* The single `b3` header: T-S[-s[-P]], or a decision alone. */
static void trace_read_b3_single(const char *v, size_t n, struct trace_in *in)
{
	const char *d1 = memchr(v, '-', n), *d2, *d3;
	struct trace_in c = *in;
	uint64_t parent = 0;
	size_t rest;

	if (!d1) {
		in->sampled = trace_sampled_word(v, n);
		return;
	}
	rest = n - (size_t)(d1 + 1 - v);
	d2 = memchr(d1 + 1, '-', rest);
	d3 = d2 ? memchr(d2 + 1, '-', n - (size_t)(d2 + 1 - v)) : NULL;
	if (!trace_id(v, (size_t)(d1 - v), &c) ||
	    !trace_span_id(d1 + 1, (size_t)((d2 ? d2 : v + n) - d1 - 1),
			   &c.span))
		return;
	if (d2) {
		int smp = trace_sampled_word(d2 + 1, (size_t)((d3 ? d3 : v + n) -
							      d2 - 1));

		if (smp < 0)
			return;
		c.sampled = smp;
	}
	if (d3 && !trace_span_id(d3 + 1, (size_t)(v + n - d3 - 1), &parent))
		return;
	c.parent = parent;
	c.ctx = true;
	*in = c;
}

/* W3C traceparent: 00-<32 hex>-<16 hex>-<2 hex>. */
static void trace_read_w3c(const char *v, size_t n, struct trace_in *in)
{
	struct trace_in c = *in;
	uint64_t ver, flags;

	/* A later version may add fields after these: "-..." */
	if (n < 55 || (n > 55 && v[55] != '-') || v[2] != '-' ||
	    v[35] != '-' || v[52] != '-' || !trace_hex(v, 2, &ver) ||
	    ver == 0xff || (ver == 0 && n != 55) ||
	    !trace_id(v + 3, 32, &c) || !trace_span_id(v + 36, 16, &c.span) ||
	    !trace_hex(v + 53, 2, &flags))
		return;
	c.parent = 0;
	c.sampled = (int)(flags & 1);
	c.ctx = true;
	*in = c;
}

/* A decimal uint64 of exactly @n bytes (1..20 digits, no sign, no
 * overflow) at @s into *@v. */
static bool trace_dec(const char *s, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* The `_dd.p.tid` member of x-datadog-tags (k=v,k=v): a 128-bit trace
 * id's high half, 16 hex digits.  False when there is none that reads. */
static bool trace_dd_tid(const char *v, size_t n, uint64_t *hi)
{
	static const char key[] = "_dd.p.tid=";
	const char *end = v + n;

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *m = comma ? comma : end;

		if ((size_t)(m - v) >= sizeof(key) - 1 &&
		    !memcmp(v, key, sizeof(key) - 1))
			return (size_t)(m - v) - (sizeof(key) - 1) == 16 &&
			       trace_hex(v + sizeof(key) - 1, 16, hi) && *hi;
		v = m + 1;
	}
	return false;
}

/* Datadog's context: x-datadog-trace-id (the low 64 bits, decimal) and
 * x-datadog-parent-id (decimal), both not zero; the high 64 bits in
 * x-datadog-tags' _dd.p.tid; x-datadog-sampling-priority, above 0 kept,
 * else dropped, when no B3 decision was said.  True when there was one. */
static bool trace_read_datadog(const struct hhead *h, struct trace_in *in)
{
	const char *t, *p, *v;
	size_t tn, pn, n;
	struct trace_in c = *in;
	uint64_t prio;

	if (!hhead_get(h, "x-datadog-trace-id", &t, &tn) ||
	    !hhead_get(h, "x-datadog-parent-id", &p, &pn) ||
	    !trace_dec(t, tn, &c.lo) || !c.lo ||
	    !trace_dec(p, pn, &c.span) || !c.span)
		return false;
	c.hi = 0;
	c.id128 = hhead_get(h, "x-datadog-tags", &v, &n) &&
		  trace_dd_tid(v, n, &c.hi);
	if (!c.id128)
		c.hi = 0;
	c.parent = 0;
	if (c.sampled < 0 &&
	    hhead_get(h, "x-datadog-sampling-priority", &v, &n)) {
		/* -1 and 0 drop, 1 and 2 keep; anything else says nothing. */
		if (n == 2 && v[0] == '-' && v[1] == '1')
			c.sampled = 0;
		else if (trace_dec(v, n, &prio))
			c.sampled = prio > 0;
	}
	c.ctx = true;
	*in = c;
	return true;
}

void trace_read(const struct hhead *h, struct trace_in *in)
{
	const char *v;
	size_t n;

	memset(in, 0, sizeof(*in));
	in->sampled = -1;
	if (hhead_get(h, "x-b3-sampled", &v, &n))
		in->sampled = trace_sampled_word(v, n);
	/* Debug implies sampled. */
	if (hhead_get(h, "x-b3-flags", &v, &n) && trace_is(v, n, "1"))
		in->sampled = 1;
	if (trace_read_b3_multi(h, in))
		return;
	if (hhead_get(h, "b3", &v, &n)) {
		trace_read_b3_single(v, n, in);
		if (in->ctx)
			return;
	}
	if (trace_read_datadog(h, in))
		return;
	if (hhead_get(h, "traceparent", &v, &n))
		trace_read_w3c(v, n, in);
}

/* ---- sampling and ids ----------------------------------------------------- */

/* Field @bit of @s, or 100% when it is not set. */
static uint32_t trace_pct(const struct mf_trace_sampling *s, uint32_t bit,
			  uint32_t v)
{
	return (s->present & bit) ? v : TRACE_PCT_ALL;
}

bool trace_sample(const struct mf_trace_sampling *s, bool client, bool forced,
		  uint32_t r)
{
	bool traced;

	traced = (client && r < trace_pct(s, TRACE_SAMPLING_F_CLIENT,
					  s->client)) ||
		 forced ||
		 r < trace_pct(s, TRACE_SAMPLING_F_RANDOM, s->random);
	return traced && r < trace_pct(s, TRACE_SAMPLING_F_OVERALL,
				       s->overall);
}

/* A new id, never 0 (0 says "none" in Zipkin and B3). */
static uint64_t trace_new_id(struct lb_rng *rng)
{
	uint64_t v;

	do
		v = lb_rng_next(rng);
	while (!v);
	return v;
}

void trace_decide(const struct trace_conn *t, const struct trace_in *in,
		  bool client, bool forced, struct lb_rng *rng,
		  struct trace_req *r)
{
	const struct trace_side *decider = t->out.on ? &t->out : &t->in;
	/* The context the inbound proxy would receive. */
	uint64_t arr_span, arr_parent;
	bool arr;

	memset(r, 0, sizeof(*r));
	r->on = true;
	r->dd = (t->out.on && t->out.fmt == TELW_DATADOG) ||
		(t->in.on && t->in.fmt == TELW_DATADOG);
	if (in->sampled >= 0)
		r->sampled = in->sampled;
	else
		r->sampled = trace_sample(&decider->sampling, client, forced,
					  (uint32_t)lb_rng_below(rng,
							TRACE_PCT_ALL));
	if (in->ctx) {
		r->hi = in->hi;
		r->lo = in->lo;
		r->id128 = in->id128;
	} else {
		r->id128 = decider->id128;
		r->hi = r->id128 ? trace_new_id(rng) : 0;
		r->lo = trace_new_id(rng);
	}
	arr = in->ctx;
	arr_span = in->span;
	arr_parent = in->parent;
	if (t->out.on) {
		r->client_id = trace_new_id(rng);
		r->client_parent = in->ctx ? in->span : 0;
		arr = true;
		arr_span = r->client_id;
		arr_parent = r->client_parent;
	}
	r->up_id = arr_span;
	r->up_parent = arr_parent;
	if (t->in.on) {
		r->shared = t->in.shared && arr;
		r->server_id = r->shared ? arr_span : trace_new_id(rng);
		r->server_parent = r->shared ? arr_parent :
				   arr ? arr_span : 0;
		r->up_id = r->server_id;
		r->up_parent = r->server_parent;
	}
}

/* The trace id as written: 16 or 32 digits, into @out (33 bytes). */
static void trace_id_hex(const struct trace_req *r, char *out)
{
	if (r->id128) {
		tspan_hex64(r->hi, out);
		tspan_hex64(r->lo, out + 16);
	} else {
		tspan_hex64(r->lo, out);
	}
}

/* Datadog's headers for @r, as its tracer writes them: the ids in
 * decimal (the trace id's low half), the decision as a sampling
 * priority (1 kept, 0 dropped: the automatic ones), and a 128-bit
 * trace's high half in x-datadog-tags when the request brought none
 * (one it brought goes on as it came: it carries the trace's other
 * propagated tags). */
static int trace_headers_datadog(const struct trace_req *r, struct hhead *h)
{
	char tid[21], sid[21], tags[32];
	const char *v;
	size_t n;
	int err;

	snprintf(tid, sizeof(tid), "%llu", (unsigned long long)r->lo);
	snprintf(sid, sizeof(sid), "%llu", (unsigned long long)r->up_id);
	err = hhead_set(h, "x-datadog-trace-id", tid);
	if (!err)
		err = hhead_set(h, "x-datadog-parent-id", sid);
	if (!err)
		err = hhead_set(h, "x-datadog-sampling-priority",
				r->sampled ? "1" : "0");
	if (!err && r->hi && !hhead_get(h, "x-datadog-tags", &v, &n)) {
		snprintf(tags, sizeof(tags), "_dd.p.tid=%016llx",
			 (unsigned long long)r->hi);
		err = hhead_set(h, "x-datadog-tags", tags);
	}
	return err;
}

int trace_headers(const struct trace_req *r, struct hhead *h)
{
	char tid[33], sid[17], pid[17], tp[56];
	int err;

	trace_id_hex(r, tid);
	tspan_hex64(r->up_id, sid);
	/* W3C has 128-bit ids only: a 64-bit one is its low half. */
	snprintf(tp, sizeof(tp), "00-%016llx%016llx-%s-%s",
		 (unsigned long long)r->hi, (unsigned long long)r->lo, sid,
		 r->sampled ? "01" : "00");
	hhead_remove(h, "b3");
	err = hhead_set(h, "x-b3-traceid", tid);
	if (!err)
		err = hhead_set(h, "x-b3-spanid", sid);
	if (!err && r->up_parent) {
		tspan_hex64(r->up_parent, pid);
		err = hhead_set(h, "x-b3-parentspanid", pid);
	} else if (!err) {
		hhead_remove(h, "x-b3-parentspanid");
	}
	if (!err)
		err = hhead_set(h, "x-b3-sampled", r->sampled ? "1" : "0");
	if (!err)
		err = hhead_set(h, "traceparent", tp);
	if (!err && r->dd)
		err = trace_headers_datadog(r, h);
	return err;
}

int trace_request(struct trace_conn *t, struct hhead *h, unsigned int attempt,
		  struct lb_rng *rng)
{
	const char *v;
	size_t n;

	/* Another try goes with the ids of the first (its head is the
	 * client's again, without them). */
	if (attempt == 0 || !t->req.on) {
		struct trace_in in;

		trace_read(h, &in);
		trace_decide(t, &in, hhead_get(h, "x-client-trace-id", &v, &n),
			     hhead_get(h, "x-envoy-force-trace", &v, &n), rng,
			     &t->req);
	}
	return trace_headers(&t->req, h);
}

/* ---- spans ---------------------------------------------------------------- */

/* What both spans of a request say, built once. */
struct trace_common {
	char name[MF_PATH_MAX];		/* the span's */
	char url[2 * MF_PATH_MAX];
	char status[8];
	const char *method, *host;
	size_t method_len, host_len;
	uint64_t start_us, duration_us;
};

/* Side @s's tags of the request (@req, NULL: none): a literal, or a
 * header's value, else its default, else none. */
static void trace_user_tags(const struct trace_side *s,
			    const struct hhead *req, struct tspan *sp)
{
	for (size_t i = 0; i < s->ntags; i++) {
		const struct mf_trace_tag *tg = &s->tags[i];
		const char *v;
		size_t n;

		if (tg->present & TRACE_TAG_F_LITERAL) {
			tspan_tag(sp, tg->name, tg->literal,
				  strnlen(tg->literal, sizeof(tg->literal)));
		} else if (tg->present & TRACE_TAG_F_HEADER) {
			if (req && hhead_get(req, tg->header.name, &v, &n))
				tspan_tag(sp, tg->name, v, n);
			else if (tg->header.default_value[0])
				tspan_tag(sp, tg->name,
					  tg->header.default_value,
					  strnlen(tg->header.default_value,
						  sizeof(tg->header.default_value)));
		}
	}
}

/* Envoy's standard tags (@cluster NULL: none), then the side's own. */
static void trace_tags(const struct trace_side *s, const struct trace_vals *v,
		       const struct trace_common *cm, const char *node,
		       const char *cluster, struct tspan *sp)
{
	tspan_tag(sp, "component", "proxy", 5);
	tspan_tag(sp, "node_id", node, strlen(node));
	if (cm->method)
		tspan_tag(sp, "http.method", cm->method, cm->method_len);
	tspan_tag(sp, "http.url", cm->url, strlen(cm->url));
	tspan_tag(sp, "http.protocol", "HTTP/1.1", 8);
	tspan_tag(sp, "http.status_code", cm->status, strlen(cm->status));
	if (cluster)
		tspan_tag(sp, "upstream_cluster", cluster, strlen(cluster));
	if (v->request_id)
		tspan_tag(sp, "guid:x-request-id", v->request_id,
			  v->request_id_len);
	if (v->status >= 500)
		tspan_tag(sp, "error", "true", 4);
	trace_user_tags(s, v->req, sp);
}

static void trace_common_of(const struct trace_conn *t,
			    const struct trace_vals *v, struct trace_common *cm)
{
	struct timespec now;
	const char *target = "";
	size_t tlen = 0;
	uint64_t now_us;

	memset(cm, 0, sizeof(*cm));
	if (v->req) {
		cm->method = v->req->buf + v->req->method.off;
		cm->method_len = v->req->method.len;
		target = hhead_target(v->req, &tlen);
		if (!hhead_get(v->req, "host", &cm->host, &cm->host_len))
			cm->host = NULL;
	}
	/* Envoy's span name is the destination host: the request's
	 * authority, else the service's name. */
	if (cm->host)
		snprintf(cm->name, sizeof(cm->name), "%.*s",
			 (int)cm->host_len, cm->host);
	else
		snprintf(cm->name, sizeof(cm->name), "%s",
			 t->dst_service ? t->dst_service : "-");
	snprintf(cm->url, sizeof(cm->url), "http://%s%.*s", cm->name,
		 (int)tlen, target);
	snprintf(cm->status, sizeof(cm->status), "%d", v->status);
	clock_gettime(CLOCK_REALTIME, &now);
	now_us = (uint64_t)now.tv_sec * 1000000u +
		 (uint64_t)now.tv_nsec / 1000u;
	cm->duration_us = (uint64_t)(v->seconds * 1e6);
	cm->start_us = now_us - cm->duration_us;
}

/* Spans @sp[0..@n) of one request, each for side @s[i]'s backend,
 * pushed to @w: one item per span, but the spans of Datadog sides that
 * name one agent in one chunk (a trace's spans go together); those that
 * cannot be (too big, queue full, @w NULL) counted in *@dropped. */
static void trace_push(const struct tspan *const *sp,
		       const struct trace_side *const *s, size_t n,
		       struct telw *w, uint64_t *dropped)
{
	for (size_t i = 0; i < n; i++) {
		const struct tspan *chunk[2] = { sp[i] };
		size_t k = 1;
		int len;

		switch (s[i]->fmt) {
		case TELW_ZIPKIN:
			len = tspan_json(sp[i], trace_buf, sizeof(trace_buf));
			break;
		case TELW_ZIPKIN_PROTO:
			len = tspan_zipkin_proto(sp[i], (uint8_t *)trace_buf,
						 sizeof(trace_buf));
			break;
		case TELW_DATADOG:
			if (i + 1 < n && s[i + 1]->fmt == TELW_DATADOG &&
			    !strcmp(s[i]->url, s[i + 1]->url))
				chunk[k++] = sp[++i];
			len = tspan_datadog(chunk, k, trace_buf,
					    sizeof(trace_buf));
			break;
		default:
			len = tspan_otlp(sp[i], (uint8_t *)trace_buf,
					 sizeof(trace_buf));
			break;
		}
		if (len < 0 || !w ||
		    telw_push_n(w, s[i]->fmt, s[i]->url, trace_buf,
				(size_t)len, (uint32_t)k))
			*dropped += k;
	}
}

/* The service a Datadog span of side @s names in @out (@cap bytes):
 * @svc, and with splitService (as Kuma names it) @svc_INBOUND for the
 * inbound side, @svc_OUTBOUND_@dst for the outbound one (@dst NULL: an
 * answer of a gateway's own, @svc_OUTBOUND). */
static const char *trace_dd_service(const struct trace_side *s, bool inbound,
				    const char *svc, const char *dst,
				    char *out, size_t cap)
{
	if (!svc)
		svc = "unknown";
	if (!s->split)
		return svc;
	if (inbound)
		snprintf(out, cap, "%s_INBOUND", svc);
	else if (dst)
		snprintf(out, cap, "%s_OUTBOUND_%s", svc, dst);
	else
		snprintf(out, cap, "%s_OUTBOUND", svc);
	return out;
}

void trace_done(struct trace_conn *t, const struct trace_vals *v,
		struct telw *w, uint64_t *dropped)
{
	const struct trace_req *r = &t->req;
	struct trace_common cm;
	char node_out[2 * MF_NAME_MAX + 2], node_in[2 * MF_NAME_MAX + 2];
	char cluster[MF_NAME_MAX + 16];
	char dd_out[3 * MF_NAME_MAX + 16], dd_in[MF_NAME_MAX + 16];
	struct tspan out, in;
	const struct tspan *sp[2];
	const struct trace_side *side[2];
	size_t n = 0;

	if (!r->on)
		return;
	t->req.on = false;
	if (!r->sampled)
		return;
	trace_common_of(t, v, &cm);
	memset(&out, 0, sizeof(out));
	out.trace_hi = r->hi;
	out.trace_lo = r->lo;
	out.trace_128 = r->id128;
	out.name = cm.name;
	out.timestamp_us = cm.start_us;
	out.duration_us = cm.duration_us;
	in = out;
	if (t->out.on) {
		out.kind = TSPAN_CLIENT;
		out.id = r->client_id;
		out.parent = r->client_parent;
		out.local = (struct tspan_endpoint){ t->src_service, t->src_ip,
						     0 };
		out.remote = (struct tspan_endpoint){ t->dst_service, v->up_ip,
						      v->up_port };
		if (t->out.fmt == TELW_DATADOG)
			out.local.service = trace_dd_service(&t->out, false,
					t->src_service, t->dst_service,
					dd_out, sizeof(dd_out));
		/* Kuma's node id: <mesh>.<dataplane>. */
		snprintf(node_out, sizeof(node_out), "%s.%s",
			 t->mesh ? t->mesh : "",
			 t->src_name ? t->src_name : "");
		trace_tags(&t->out, v, &cm, node_out, t->dst_service, &out);
		sp[n] = &out;
		side[n++] = &t->out;
	}
	if (t->in.on) {
		in.kind = TSPAN_SERVER;
		in.id = r->server_id;
		in.parent = r->server_parent;
		in.shared = r->shared;
		in.local = (struct tspan_endpoint){ t->dst_service, v->up_ip,
						    v->up_port };
		in.remote = (struct tspan_endpoint){ t->src_service, t->src_ip,
						     0 };
		if (t->in.fmt == TELW_DATADOG)
			in.local.service = trace_dd_service(&t->in, true,
					t->dst_service, NULL, dd_in,
					sizeof(dd_in));
		/* A reply of the proxy's own reached no workload: the
		 * destination service stands for it. */
		snprintf(node_in, sizeof(node_in), "%s.%s",
			 t->mesh ? t->mesh : "",
			 v->up_name ? v->up_name : t->dst_service);
		/* Kuma's inbound cluster: the workload's own port. */
		snprintf(cluster, sizeof(cluster), "localhost:%u",
			 (unsigned)v->up_port);
		trace_tags(&t->in, v, &cm, node_in, v->up_port ? cluster : NULL,
			   &in);
		sp[n] = &in;
		side[n++] = &t->in;
	}
	trace_push(sp, side, n, w, dropped);
}
