// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog of one connection (meshlog.h): the two sides' confs by
 * the selection every other kind of the connection uses (router.h), and
 * its lines.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshlog.h"
#include "otlp_logs.h"
#include "policy/kinds.h"
#include "policy/otlpval.h"
#include "policy/select.h"
#include "router.h"

/* Thread-local: each loop formats its own lines.  An OTLP record takes
 * its first OTLP_LOG_MAX bytes, its rendered strings the rest. */
static __thread char meshlog_buf[ALOGFMT_LINE_MAX];
_Static_assert(ALOGFMT_LINE_MAX >= 2 * OTLP_LOG_MAX,
	       "room for an OTLP record and its strings");

const char *meshlog_side_str(enum meshlog_side s)
{
	return s == MESHLOG_INBOUND ? "INBOUND" : "OUTBOUND";
}

/* Which of file, tcp and openTelemetry @be is: they share the record's
 * storage, and bit k of its presence mask says object k (enum
 * mf_log_backend_type, kind_mesh_access_log.c) is the one set. */
static enum mf_log_backend_type meshlog_kind(const struct mf_log_backend *be)
{
	for (unsigned k = MF_LOG_FILE; k <= MF_LOG_OTEL; k++)
		if (be->present & (1u << k))
			return (enum mf_log_backend_type)k;
	return 0;
}

/* Whether @a and @b are one backend: same kind, target and format. */
static bool meshlog_same(const struct mf_log_backend *a,
			 const struct mf_log_backend *b)
{
	enum mf_log_backend_type k = meshlog_kind(a);

	if (k != meshlog_kind(b))
		return false;
	if (k == MF_LOG_FILE)
		return !strcmp(a->file.path, b->file.path) &&
		       !memcmp(&a->file.format, &b->file.format,
			       sizeof(a->file.format));
	if (k == MF_LOG_OTEL)
		return !memcmp(&a->open_telemetry, &b->open_telemetry,
			       sizeof(a->open_telemetry));
	return !strcmp(a->tcp.address, b->tcp.address) &&
	       !memcmp(&a->tcp.format, &b->tcp.format, sizeof(a->tcp.format));
}

/* The MeshOpenTelemetryBackend openTelemetry backend @o's backendRef
 * selects, when it has no endpoint; NULL when none. */
static const struct mf_otel_backend *meshlog_otel_ref(const struct policy *p,
						      const struct mf_log_otel *o)
{
	if (o->endpoint[0] || !o->backend_ref.present)
		return NULL;
	return polkinds_otel_backend(policy_kinds(p), &o->backend_ref);
}

int meshlog_sink(struct meshlog_backend *b)
{
	enum collector_proto proto = COLLECTOR_GRPC;
	int err = 0;

	switch (meshlog_kind(&b->be)) {
	case MF_LOG_TCP:
		b->sink = TELW_TCP;
		b->target = b->be.tcp.address;
		return 0;
	case MF_LOG_OTEL:
		if (b->otel)
			err = otlp_backend_url(b->otel, &otlp_logs_signal,
					       b->url, sizeof(b->url), &proto);
		else
			otlp_endpoint_url(b->be.open_telemetry.endpoint,
					  &otlp_logs_signal, b->url,
					  sizeof(b->url));
		b->sink = proto == COLLECTOR_PROTOBUF ? TELW_OTLP_LOGS_HTTP :
							TELW_OTLP_LOGS_GRPC;
		b->target = b->url;
		return err;
	default:
		b->sink = TELW_FILE;
		b->target = b->be.file.path;
		return 0;
	}
}

/* The body openTelemetry backend @o gives, its length in *@len: NULL
 * when it gives none, or one not well formed (only a map written by
 * hand holds such a one). */
static const char *meshlog_body(const struct policy *p,
				const struct mf_log_otel *o, size_t *len)
{
	const char *s;

	*len = 0;
	if (!o->body)
		return NULL;
	s = polkinds_str(policy_kinds(p), o->body, len);
	return s && !otlpv_check(s, *len, NULL) ? s : NULL;
}

/* The backends of @conf the agent writes to (file, tcp, openTelemetry
 * with a collector to send to), as @side's, those not there yet. */
static void meshlog_add(const struct policy *p, struct meshlog *m,
			const struct mf_log_conf *conf, enum meshlog_side side)
{
	for (size_t i = 0; i < conf->nbackends && i < MF_LOG_BACKENDS_MAX;
	     i++) {
		const struct mf_log_backend *be = &conf->backends[i];
		const struct mf_otel_backend *ob = NULL;
		enum mf_log_backend_type k = meshlog_kind(be);
		bool dup = false;
		int err;

		if (k == MF_LOG_OTEL) {
			ob = meshlog_otel_ref(p, &be->open_telemetry);
			if (!be->open_telemetry.endpoint[0] && !ob)
				continue;
		} else if (k != MF_LOG_FILE && k != MF_LOG_TCP) {
			continue;
		}
		for (size_t j = 0; j < m->n && !dup; j++)
			dup = meshlog_same(&m->b[j].be, be);
		if (dup || m->n == MESHLOG_BACKENDS_MAX)
			continue;
		m->b[m->n].side = side;
		m->b[m->n].be = *be;
		m->b[m->n].otel = ob;
		m->b[m->n].body = k == MF_LOG_OTEL ?
				  meshlog_body(p, &be->open_telemetry,
					       &m->b[m->n].body_len) : NULL;
		/* A collector no source names (otlp_backend_url()): not
		 * written to; one env requires: its lines counted. */
		err = meshlog_sink(&m->b[m->n]);
		m->b[m->n].env_missing = err == -ENODATA;
		if (!err || err == -ENODATA)
			m->n++;
	}
}

/* When @m's lines start: now. */
static void meshlog_start(struct meshlog *m)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &m->start);
	clock_gettime(CLOCK_MONOTONIC, &now);
	m->start_ns = (uint64_t)now.tv_sec * 1000000000u +
		      (uint64_t)now.tv_nsec;
}

int meshlog_find(const struct policy *p, const struct mf_endpoint *src,
		 const char *src_id, const struct mf_service *dst,
		 struct meshlog *m)
{
	struct router_conn_q q;
	const struct mf_service *ss;
	struct mf_log_conf *conf;

	memset(m, 0, sizeof(*m));
	/* The common case: no MeshAccessLog, no selection. */
	if (!router_count(p, &kind_mesh_access_log))
		return 0;
	conf = malloc(sizeof(*conf));
	if (!conf)
		return -ENOMEM;
	router_conn_queries(p, src, src_id, dst, &q);
	memset(conf, 0, sizeof(*conf));
	if (router_effective(p, &kind_mesh_access_log, &q.to, conf))
		meshlog_add(p, m, conf, MESHLOG_OUTBOUND);
	if (router_inbound(p, &kind_mesh_access_log, &q.from, &q.rule, conf,
			   sizeof(*conf)))
		meshlog_add(p, m, conf, MESHLOG_INBOUND);
	free(conf);
	m->mesh = policy_mesh(p);
	ss = src ? policy_service_by_id(p, src->service_id) : NULL;
	m->src_service = ss ? ss->name : NULL;
	m->dst_service = dst->name;
	meshlog_start(m);
	return 0;
}

int meshlog_find_gateway(const struct policy *p, const struct sel_workload *gw,
			 const struct mf_service *dst, struct meshlog *m)
{
	struct sel_workload wd;
	struct sel_query to = { .self = gw, .section = MF_SEC_TO,
				.peer = dst ? &wd : NULL };
	struct mf_log_conf *conf;

	memset(m, 0, sizeof(*m));
	if (!router_count(p, &kind_mesh_access_log))
		return 0;
	conf = calloc(1, sizeof(*conf));
	if (!conf)
		return -ENOMEM;
	if (dst)
		router_dest_view(p, dst, &wd);
	if (router_effective(p, &kind_mesh_access_log, &to, conf))
		meshlog_add(p, m, conf, MESHLOG_OUTBOUND);
	free(conf);
	m->mesh = policy_mesh(p);
	m->src_service = gw->service;
	m->dst_service = dst ? dst->name : NULL;
	meshlog_start(m);
	return 0;
}

/* Thread-local, as meshlog_buf: a body's string as a format, and as
 * rendered. */
static __thread char meshlog_fmt[MF_STRING_MAX + 1];
static __thread char meshlog_str[ALOGFMT_VALUE_MAX * 4];

/* Body @c (a value of the otlpval.h form, checked) into @o with each of
 * its strings rendered for @v as a plain format; the rest as it is. */
static void meshlog_body_render(struct otlpv_cur *c, struct otlpv_out *o,
				const struct alogfmt_vals *v)
{
	size_t start = c->at, klen, n;
	struct otlpv_val x;
	const char *k;

	if (otlpv_next(c, &x)) {
		o->over = true;
		return;
	}
	switch (x.type) {
	case OTLPV_STRING:
		memcpy(meshlog_fmt, x.s, x.len);
		meshlog_fmt[x.len] = '\0';
		n = alogfmt_text(meshlog_fmt, false, v, meshlog_str,
				 sizeof(meshlog_str));
		otlpv_put_text(o, OTLPV_STRING, meshlog_str, n);
		return;
	case OTLPV_ARRAY:
	case OTLPV_KVLIST:
		otlpv_put_list(o, x.type, x.count);
		for (size_t i = 0; i < x.count && !o->over; i++) {
			if (x.type == OTLPV_KVLIST) {
				otlpv_next_key(c, &k, &klen);
				otlpv_put_key(o, k, klen);
			}
			meshlog_body_render(c, o, v);
		}
		return;
	default:
		otlpv_put_raw(o, c->p + start, c->at - start);
		return;
	}
}

/* The OTLP record of @v for openTelemetry backend @b, written for @m,
 * into meshlog_buf: its body (Kuma's default plain format when it has
 * none) with its strings rendered, each attribute's value alike.
 * Returns its length, 0 when it does not fit. */
static size_t meshlog_otlp(const struct meshlog_backend *b,
			   const struct meshlog *m,
			   const struct alogfmt_vals *v)
{
	const struct mf_log_otel *ot = &b->be.open_telemetry;
	char *text = meshlog_buf + OTLP_LOG_MAX, *end = meshlog_buf +
		     sizeof(meshlog_buf);
	struct otlp_log r = {
		.time_ns = (uint64_t)v->start.tv_sec * 1000000000u +
			   (uint64_t)v->start.tv_nsec,
		/* The proxy's service, as Envoy's resource names its own. */
		.service = b->side == MESHLOG_INBOUND ? m->dst_service :
							m->src_service,
	};
	/* One byte left for the body's NUL. */
	struct otlpv_out o = { text, (size_t)(end - text) - 1, 0, false };
	struct otlpv_cur c = { b->body, b->body_len, 0 };
	size_t n;

	if (b->body) {
		meshlog_body_render(&c, &o, v);
	} else {
		n = alogfmt_text(v->http ? alogfmt_default_http :
					   alogfmt_default_tcp,
				 false, v, meshlog_str, sizeof(meshlog_str));
		otlpv_put_text(&o, OTLPV_STRING, meshlog_str, n);
	}
	if (o.over)
		return 0;
	text[o.at] = '\0';
	r.body = text;
	text += o.at + 1;
	for (size_t a = 0; a < ot->nattributes && a < OTLP_ATTRS_MAX &&
	     text < end; a++) {
		r.key[a] = ot->attributes[a].key;
		r.value[a] = text;
		text += alogfmt_text(ot->attributes[a].value, false, v, text,
				     (size_t)(end - text)) + 1;
		r.nattrs++;
	}
	return otlp_log_encode(&r, meshlog_buf, OTLP_LOG_MAX);
}

void meshlog_write(const struct meshlog *m, struct alogfmt_vals *v,
		   struct telw *w, uint64_t *dropped, uint64_t *env_missing)
{
	v->mesh = m->mesh;
	v->src_service = m->src_service;
	v->dst_service = m->dst_service;
	v->cluster = m->dst_service;
	for (size_t i = 0; i < m->n; i++) {
		const struct meshlog_backend *b = &m->b[i];
		size_t len;
		int err;

		if (b->env_missing) {
			(*env_missing)++;
			continue;
		}
		v->direction = meshlog_side_str(b->side);
		if (b->sink == TELW_FILE || b->sink == TELW_TCP)
			len = alogfmt_line(b->sink == TELW_TCP ?
					   &b->be.tcp.format :
					   &b->be.file.format,
					   v, meshlog_buf, sizeof(meshlog_buf));
		else
			len = meshlog_otlp(b, m, v);
		err = !len || !w ? -ENOBUFS :
		      telw_push(w, b->sink, b->target, meshlog_buf, len);
		if (err)
			(*dropped)++;
	}
}
