// SPDX-License-Identifier: Apache-2.0
/*
 * MeshAccessLog of one connection (meshlog.h): the two sides' confs by
 * the selection every other kind of the connection uses (router.h), and
 * its lines.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "meshlog.h"
#include "policy/kinds.h"
#include "policy/select.h"
#include "router.h"

/* Thread-local: each loop formats its own lines. */
static __thread char meshlog_buf[ALOGFMT_LINE_MAX];

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
	return !strcmp(a->tcp.address, b->tcp.address) &&
	       !memcmp(&a->tcp.format, &b->tcp.format, sizeof(a->tcp.format));
}

/* The file and tcp backends of @conf, as @side's, those not there yet. */
static void meshlog_add(struct meshlog *m, const struct mf_log_conf *conf,
			enum meshlog_side side)
{
	for (size_t i = 0; i < conf->nbackends && i < MF_LOG_BACKENDS_MAX;
	     i++) {
		const struct mf_log_backend *be = &conf->backends[i];
		bool dup = false;

		/* openTelemetry: stored, not written (meshlog.h). */
		if (meshlog_kind(be) != MF_LOG_FILE &&
		    meshlog_kind(be) != MF_LOG_TCP)
			continue;
		for (size_t k = 0; k < m->n && !dup; k++)
			dup = meshlog_same(&m->b[k].be, be);
		if (dup || m->n == MESHLOG_BACKENDS_MAX)
			continue;
		m->b[m->n].side = side;
		m->b[m->n].be = *be;
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
		meshlog_add(m, conf, MESHLOG_OUTBOUND);
	if (router_inbound(p, &kind_mesh_access_log, &q.from, &q.rule, conf,
			   sizeof(*conf)))
		meshlog_add(m, conf, MESHLOG_INBOUND);
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
		meshlog_add(m, conf, MESHLOG_OUTBOUND);
	free(conf);
	m->mesh = policy_mesh(p);
	m->src_service = gw->service;
	m->dst_service = dst ? dst->name : NULL;
	meshlog_start(m);
	return 0;
}

void meshlog_write(const struct meshlog *m, struct alogfmt_vals *v,
		   struct alogw *w, uint64_t *dropped)
{
	v->mesh = m->mesh;
	v->src_service = m->src_service;
	v->dst_service = m->dst_service;
	v->cluster = m->dst_service;
	for (size_t i = 0; i < m->n; i++) {
		const struct mf_log_backend *be = &m->b[i].be;
		bool tcp = meshlog_kind(be) == MF_LOG_TCP;
		const struct mf_log_format *f = tcp ? &be->tcp.format :
						      &be->file.format;
		size_t len;

		v->direction = meshlog_side_str(m->b[i].side);
		len = alogfmt_line(f, v, meshlog_buf, sizeof(meshlog_buf));
		if (!w || alogw_push(w, tcp ? ALOGW_TCP : ALOGW_FILE,
				     tcp ? be->tcp.address : be->file.path,
				     meshlog_buf, len))
			(*dropped)++;
	}
}
