// SPDX-License-Identifier: Apache-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "endpoint.h"
#include "gw_instance.h"
#include "hash.h"
#include "identity.h"
#include "mesh_service.h"
#include "select.h"
#include "select_model.h"
#include "svcname.h"
#include "tls_profile.h"

/* A name (service name or SPIFFE ID) and its id, for sorted lookups. */
struct cmp_id {
	const char *name;
	__u32 id;
	uint32_t at;		/* where it was added, before a sort */
};

static int cmp_id_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cmp_id *)a)->name,
		      ((const struct cmp_id *)b)->name);
}

/* (name, id) pairs and their names hashed (the services and identities
 * to compile are in name order, those in force as their map has them):
 * each endpoint's service and identity are looked up by name, and 100k
 * bisections of 10k names were 7% of a sync's one-object change. */
struct cmp_ids {
	struct cmp_id *v;	/* owned */
	size_t n;
	uint32_t *slots;	/* owned: 1 + index into v, 0: free */
	size_t mask;		/* slots - 1 */
};

static void cmp_ids_free(struct cmp_ids *t)
{
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Hashes pair @i of @t by its name. */
static void cmp_ids_slot(struct cmp_ids *t, size_t i)
{
	size_t h = (size_t)hash_fnv_str(HASH_FNV_INIT, t->v[i].name);

	while (t->slots[h & t->mask])
		h++;
	t->slots[h & t->mask] = (uint32_t)i + 1;
}

/* Hashes @t's names, with room for @room of them in all (at least the
 * ones there).  Returns 0 or -ENOMEM. */
static int cmp_ids_index(struct cmp_ids *t, size_t room)
{
	size_t cap = 16;

	while (cap < (room > t->n ? room : t->n) * 2)
		cap *= 2;
	free(t->slots);
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = cap - 1;
	for (size_t i = 0; i < t->n; i++)
		cmp_ids_slot(t, i);
	return 0;
}

static const struct cmp_id *cmp_id_find(const struct cmp_ids *t,
					const char *name)
{
	if (!t->slots)
		return NULL;
	for (size_t h = (size_t)hash_fnv_str(HASH_FNV_INIT, name);
	     t->slots[h & t->mask]; h++) {
		const struct cmp_id *c = &t->v[t->slots[h & t->mask] - 1];

		if (!strcmp(c->name, name))
			return c;
	}
	return NULL;
}

/*
 * The (name, id) pairs of @prev's map @m into @out (cmp_ids_free()), and
 * the highest id into *max.  Names point into @prev.
 */
static int cmp_prev_ids(const struct rec_set *prev, enum rec_map m,
			struct cmp_ids *out, __u32 *max)
{
	size_t cnt = prev ? rec_count(prev, m) : 0;
	struct cmp_id *v;

	*max = 0;
	if (!cnt)
		return 0;
	v = calloc(cnt, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cnt; i++) {
		if (m == REC_SERVICES) {
			const struct mf_service *s = rec_val(prev, m, i);

			v[i].name = s->name;
			v[i].id = s->id;
		} else {
			const struct mf_identity *id = rec_val(prev, m, i);

			v[i].name = id->spiffe;
			const struct mf_identity_key *k = rec_key(prev, m, i);

			v[i].id = k->id;
		}
		if (v[i].id > *max)
			*max = v[i].id;
	}
	out->v = v;
	out->n = cnt;
	return cmp_ids_index(out, 0);
}

/*
 * Gives each of @names (sorted, distinct) its id from @prev, or the
 * next one above @max.
 */
static void cmp_assign(struct cmp_ids *names, const struct cmp_ids *prev,
		       __u32 max)
{
	for (size_t i = 0; i < names->n; i++) {
		const struct cmp_id *p = cmp_id_find(prev, names->v[i].name);

		names->v[i].id = p ? p->id : ++max;
	}
}

static int cmp_capacity(const struct rec_set *out, struct diag *d)
{
	int err = 0;

	for (int m = 0; m < REC_MAP_MAX; m++) {
		const struct rec_map_info *mi = rec_map_info(m);

		if (rec_count(out, m) > mi->max_entries) {
			diag_add(d, NULL, NULL, mi->name,
				 "%zu records do not fit: the map holds %zu",
				 rec_count(out, m), mi->max_entries);
			err = -ENOSPC;
		}
	}
	return err;
}

/* The string a rule matches SPIFFE IDs against: @id as written, but a
 * prefix that is a whole trust domain ("spiffe://td") ends in '/', so it
 * does not also match "spiffe://td2/...". */
static void cmp_spiffe_match(char *buf, size_t n, const char *id,
			     uint8_t match)
{
	bool bare = match == MF_AUTHZ_MATCH_PREFIX &&
		    !strchr(id + strlen("spiffe://"), '/');

	snprintf(buf, n, "%s%s", id, bare ? "/" : "");
}

/* The rules of MeshTrafficPermission @o for service @id, indexes from
 * *next on: one per record, as written. */
/* What a permission's rules are compiled against: the set, its
 * Workloads (sorted by name) and the trust domain. */
struct cmp_mtp_ctx {
	const struct model_set *set;
	const struct ep_view *eps;	/* the endpoints: Workloads and
					 * Dataplanes (endpoint.h) */
	size_t neps;
	const char *td;
	const struct mf_config *cfg;	/* its mid_domains */
};

static int cmp_str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The identities of the Workloads peer @p (a MeshSubset, MeshService or
 * MeshServiceSubset) selects, sorted and distinct, into @ids (room for
 * every Workload).  Returns how many. */
static size_t cmp_mtp_identities(const struct cmp_mtp_ctx *m,
				 const struct mf_mtp_peer_ref *p,
				 const char **ids)
{
	const struct mf_tagset *tags = model_tags_get(m->set, p->tags);
	size_t n = 0, u = 0;

	for (size_t i = 0; i < m->neps; i++) {
		const struct ep_view *e = &m->eps[i];
		struct sel_workload sw = {
			.name = e->o->name, .service = e->service,
			.tags = model_tags_get(m->set, e->tags),
		};

		svcname_fill(m->set, &sw);
		if (p->kind != MF_MTP_MESH_SUBSET &&
		    strcmp(e->service, p->name))
			continue;
		if (p->tags && (!tags || !sel_tags_match(tags, &sw)))
			continue;
		ids[n++] = e->id;
	}
	qsort(ids, n, sizeof(*ids), cmp_str_cmp);
	for (size_t i = 0; i < n; i++)
		if (!u || strcmp(ids[u - 1], ids[i]))
			ids[u++] = ids[i];
	return u;
}

static int cmp_mtp_rules(struct rec_set *out, const struct model_obj *o,
			 const struct cmp_mtp_ctx *m, __u32 id, __u32 *next,
			 const uint8_t *endpoint, const char **ids);

/* Permission @o whose target selects Workloads: its rules for each one
 * selected, under the Workload's service (@svc, @rules as compile_set()
 * has them). */
static int cmp_mtp_workloads(struct rec_set *out, const struct model_obj *o,
			     const struct cmp_mtp_ctx *m,
			     const struct sel_ctx *sctx,
			     const struct cmp_ids *svc, __u32 *rules,
			     const char **ids)
{
	const struct mf_ref *target = &((const struct mf_mtp *)
					       o->pol.recs)->hdr.target;
	int err = 0;

	for (size_t i = 0; i < m->neps && !err; i++) {
		const struct ep_view *e = &m->eps[i];
		struct sel_workload sw = {
			.name = e->o->name, .service = e->service,
			.tags = model_tags_get(m->set, e->tags),
			.port = e->port,
		};
		const struct cmp_id *s = cmp_id_find(svc, e->service);

		svcname_fill(m->set, &sw);
		if (!s || !sel_ref_selects(target, &sw, NULL, sctx))
			continue;
		err = cmp_mtp_rules(out, o, m, s->id, &rules[s - svc->v],
				    e->ip, ids);
	}
	return err;
}

/* Appends authz rule @v for service @id as its next rule. */
static int cmp_authz_add(struct rec_set *out, __u32 id, __u32 *next,
			 const struct mf_authz_rule *v)
{
	struct mf_authz_key k;

	memset(&k, 0, sizeof(k));
	k.service_id = id;
	k.index = (*next)++;
	return rec_add(out, REC_AUTHZ, &k, v);
}

/* The mf_authz rules of permission @o for service @id (for its Workload
 * at @endpoint only, unless NULL), numbered from *@next on: one per entry
 * or item, or one per identity a source by workload selects (none when it
 * selects none). */
static int cmp_mtp_rules(struct rec_set *out, const struct model_obj *o,
			 const struct cmp_mtp_ctx *m, __u32 id, __u32 *next,
			 const uint8_t *endpoint, const char **ids)
{
	const struct mf_mtp *r = (const void *)o->pol.recs;
	int err = 0;

	for (size_t j = 0; j < o->pol.n && !err; j++) {
		const struct mf_mtp_conf *f = &r[j].conf;
		bool rules = r[j].hdr.section == MF_MTP_SEC_RULES;
		struct mf_authz_rule v;
		size_t n;

		memset(&v, 0, sizeof(v));
		if (endpoint)
			memcpy(v.endpoint, endpoint, 4);
		v.action = f->def.action;
		v.flags = (rules ? MF_AUTHZ_F_RULES : 0) |
			  (r[j].hdr.target.kind == MF_REF_MESH ?
			   MF_AUTHZ_F_MESH_TARGET : 0);
		strcpy(v.policy, o->name);
		if (rules) {
			/* An item by SNI matches connections whose tunnel
			 * ClientHello asked for that name (the destination
			 * service's, docs/policy.md); one by SNI alone,
			 * any identity (an empty prefix). */
			if (f->present & MF_MTP_ITEM_SNI) {
				v.sni_match = MF_AUTHZ_SNI_EXACT;
				snprintf(v.sni, sizeof(v.sni), "%s",
					 f->sni.value);
			}
			v.match = f->present & MF_MTP_ITEM_SPIFFE_ID ?
				  f->spiffe_id.type : MF_AUTHZ_MATCH_PREFIX;
			if (f->present & MF_MTP_ITEM_SPIFFE_ID)
				cmp_spiffe_match(v.spiffe, sizeof(v.spiffe),
						 f->spiffe_id.value, v.match);
		} else if (f->target_ref.kind == MF_MTP_MESH) {
			/* Every identity of the mesh: of its trust domain,
			 * and of those its MeshIdentities add. */
			v.match = MF_AUTHZ_MATCH_PREFIX;
			snprintf(v.spiffe, sizeof(v.spiffe), "spiffe://%s/",
				 m->td);
			for (size_t i = 0; i < m->cfg->nmid_domains &&
					   i < MF_MID_DOMAINS_MAX && !err; i++) {
				err = cmp_authz_add(out, id, next, &v);
				snprintf(v.spiffe, sizeof(v.spiffe),
					 "spiffe://%s/", m->cfg->mid_domains[i]);
			}
		} else if (f->target_ref.kind == MF_MTP_SPIFFE_ID ||
			   f->target_ref.kind == MF_MTP_SPIFFE_PREFIX) {
			v.match = f->target_ref.kind == MF_MTP_SPIFFE_ID ?
					  MF_AUTHZ_MATCH_EXACT :
					  MF_AUTHZ_MATCH_PREFIX;
			cmp_spiffe_match(v.spiffe, sizeof(v.spiffe),
					 f->target_ref.name, v.match);
		} else {
			n = cmp_mtp_identities(m, &f->target_ref, ids);
			v.match = MF_AUTHZ_MATCH_EXACT;
			for (size_t i = 0; i < n && !err; i++) {
				strcpy(v.spiffe, ids[i]);
				err = cmp_authz_add(out, id, next, &v);
			}
			continue;
		}
		if (!err)
			err = cmp_authz_add(out, id, next, &v);
	}
	return err;
}

/* mf_tagsets: one record per tag set an object refers to.  A set
 * referred to twice is written once: rec_sort() puts the copies side by
 * side and cmp_dedup() drops them. */
/* Selection over the set being compiled: its tag sets, and the labels of
 * its Services and Workloads (what an MTP targetRef by labels selects). */
static const struct mf_tagset *cmp_sel_tags(void *arg, uint32_t id)
{
	return model_tags_get(arg, id);
}

static const struct mf_tagset *cmp_sel_labels(void *arg, uint8_t kind,
					      const char *name)
{
	return sel_model_labels(arg, kind, name);
}

struct cmp_tag_walk {
	const struct model_set *set;
	struct rec_set *out;
	int err;
};

static void cmp_tag_add(struct cmp_tag_walk *w, uint32_t id)
{
	struct mf_tagset_key k = { .id = id };
	const struct mf_tagset *ts;
	int err;

	if (!id || w->err)
		return;
	ts = model_tags_get(w->set, id);
	if (!ts) {		/* validate_set() rules this out */
		w->err = -EINVAL;
		return;
	}
	err = rec_add(w->out, REC_TAGSETS, &k, ts);
	if (err)
		w->err = err;
}

static void cmp_tag_add_cb(void *arg, uint32_t id)
{
	cmp_tag_add(arg, id);
}

/* mf_strings: one record per string a record refers to, the same way. */
static void cmp_str_add_cb(void *arg, const void *at)
{
	struct cmp_tag_walk *w = arg;
	struct mf_string_key k = { .id = kind_str_id(at) };
	const struct mf_string *str;
	int err;

	if (w->err)
		return;
	str = model_str_get(w->set, k.id);
	if (!str) {		/* validate_set() rules this out */
		w->err = -EINVAL;
		return;
	}
	err = rec_add(w->out, REC_STRINGS, &k, str);
	if (err)
		w->err = err;
}

/* Drops the copies of records map @m holds more than once (a tag set or
 * string many records refer to): sorted, they sit side by side. */
static void cmp_dedup(struct rec_set *out, enum rec_map m)
{
	struct rec_table *t = &out->t[m];
	const struct rec_map_info *mi = rec_map_info(m);
	size_t sz = mi->key_size + mi->val_size, n = 0;

	rec_sort(out, m);
	for (size_t i = 0; i < t->n; i++) {
		if (n && !memcmp(t->data + (n - 1) * sz, t->data + i * sz,
				 mi->key_size))
			continue;
		if (n != i)
			memcpy(t->data + n * sz, t->data + i * sz, sz);
		n++;
	}
	t->n = n;
}

/* The mf_labels record of mapping @meta (tag set @id) of object @o. */
static void cmp_meta(struct cmp_tag_walk *w, const struct model_obj *o,
		     enum mf_meta meta, uint32_t id)
{
	struct mf_labels_key k;
	struct mf_labels v = { .tags = id };

	memset(&k, 0, sizeof(k));
	k.kind = (__u8)o->kind;
	k.meta = (__u8)meta;
	strcpy(k.name, o->name);
	w->err = rec_add(w->out, REC_LABELS, &k, &v);
	if (!w->err)
		cmp_tag_add(w, id);
}

/* The records of the schema-driven policies, every object's labels, and
 * the tag sets and strings they and the workloads refer to. */
static int cmp_policies(const struct model_set *set,
			const struct model_obj **sorted, size_t n,
			struct rec_set *out)
{
	struct cmp_tag_walk w = { .set = set, .out = out };

	for (size_t i = 0; i < n && !w.err; i++) {
		const struct model_obj *o = sorted[i];
		const struct model_policy *p = &o->pol;

		if (o->labels)
			cmp_meta(&w, o, MF_META_LABELS, o->labels);
		if (o->annotations && !w.err)
			cmp_meta(&w, o, MF_META_ANNOTATIONS, o->annotations);
		if (o->kind == MODEL_WORKLOAD) {
			cmp_tag_add(&w, ((const struct core_workload *)
						 model_spec(o))->tags);
			continue;
		}
		if (o->kind < MODEL_GEN_FIRST && o->kind != MODEL_MTP)
			continue;
		for (size_t r = 0; r < p->n && !w.err; r++) {
			const uint8_t *rec = p->recs + r * p->kd->val_size;
			struct mf_pol_key k;

			memset(&k, 0, sizeof(k));
			k.index = (__u32)r;
			strcpy(k.name, o->name);
			/* A permission is kept as written, next to the
			 * mf_authz rules it compiles to. */
			w.err = rec_add(out, o->kind == MODEL_MTP ?
						     REC_PERMISSIONS :
						     REC_KIND_FIRST +
						     (o->kind - MODEL_GEN_FIRST),
					&k, rec);
			kind_rec_tags(p->kd, rec, cmp_tag_add_cb, &w);
			kind_rec_strs(p->kd, rec, cmp_str_add_cb, &w);
		}
	}
	if (!w.err) {
		cmp_dedup(out, REC_TAGSETS);
		cmp_dedup(out, REC_STRINGS);
	}
	return w.err;
}

/* The MeshRateLimit local.tcp.connectionRate in force for connections to
 * service @name (port @port) from any source, into @v: Kuma's selection
 * with the service as a whole as the proxy (its workloads' own targets,
 * MeshSubset and Dataplane, are not seen here), `from` entries for any
 * source (Mesh), then a `rules` list's, which wins.  The kernel enforces
 * it per source pod (bpf/lib/bucket.h). */
static const enum model_kind cmp_mrl_kind =
	(enum model_kind)(MODEL_GEN_FIRST + REC_RATELIMITS - REC_KIND_FIRST);

/* @c (@n): the MeshRateLimit records (sel_model_cands() of cmp_mrl_kind),
 * gathered once by the caller: gathered per service, they cost a pass
 * over the whole set each, services x objects at 10k services. */
static int cmp_conn_rate(const struct model_set *set, const struct sel_cand *c,
			 size_t n, const char *name, uint16_t port,
			 struct mf_service *v)
{
	const struct sel_ctx ctx = sel_model_ctx(set);
	struct sel_workload self = { .service = name, .port = port };
	static const uint8_t sections[] = { MF_SEC_FROM, MF_SEC_RULE };
	struct mf_mrl_conf conf;
	int got = 0;

	if (!n)
		return 0;
	svcname_fill(set, &self);
	for (size_t i = 0; n && i < sizeof(sections); i++) {
		struct sel_query q = { .self = &self, .section = sections[i] };

		memset(&conf, 0, sizeof(conf));
		got = sel_effective(&kind_mesh_rate_limit, c, n, &q, &ctx,
				    &conf, NULL, 0);
		if (got < 0)
			break;
		if (got > 0 && !conf.local.tcp.disabled &&
		    conf.local.tcp.connection_rate.num &&
		    conf.local.tcp.connection_rate.interval) {
			v->conn_rate_num = conf.local.tcp.connection_rate.num;
			v->conn_rate_interval_ms =
				conf.local.tcp.connection_rate.interval;
		} else if (got > 0) {
			v->conn_rate_num = v->conn_rate_interval_ms = 0;
		}
	}
	return got < 0 ? got : 0;
}

/* The MeshTLS mode of endpoint @e (MF_ENDPOINT_F_TLS_*, 0: none):
 * Kuma's selection with the workload as the proxy, a Kuma 2.x `from`
 * entry for the whole mesh, then a 3.0 `rules` list's, which wins. */
static uint32_t cmp_tls_mode(const struct model_set *set,
			     const struct sel_cand *c, size_t n,
			     const struct ep_view *e)
{
	static const uint8_t sections[] = { MF_SEC_FROM, MF_SEC_RULE };
	const struct sel_ctx ctx = sel_model_ctx(set);
	struct sel_workload self = {
		.name = e->o->name, .service = e->service[0] ? e->service :
								 NULL,
		.tags = model_tags_get(set, e->tags), .port = e->port,
	};
	struct mf_tls_conf conf;
	uint32_t mode = 0;

	/* No MeshTLS, no mode: and no search for the service, which per
	 * endpoint would cost endpoints x objects. */
	if (!n)
		return 0;
	svcname_fill(set, &self);
	for (size_t i = 0; n && i < sizeof(sections); i++) {
		struct sel_query q = { .self = &self, .section = sections[i] };

		memset(&conf, 0, sizeof(conf));
		if (sel_effective(&kind_mesh_tls, c, n, &q, &ctx, &conf, NULL,
				  0) <= 0)
			continue;
		if (conf.mode == MF_TLS_STRICT)
			mode = MF_ENDPOINT_F_TLS_STRICT;
		else if (conf.mode == MF_TLS_PERMISSIVE)
			mode = MF_ENDPOINT_F_TLS_PERMISSIVE;
	}
	return mode;
}

/* mf_config's mid_domains: the mesh's trust domains besides the Mesh's,
 * from its MeshIdentities, and which of them the mesh CA vouches for. */
static int cmp_mid_domains(struct mf_config *cfg, const struct model_set *set,
			   const char *td, struct diag *d)
{
	int n = identity_domains(set, td, cfg->mid_domains,
				 MF_MID_DOMAINS_MAX, &cfg->mid_domain_ca);

	if (n == -ENOSPC) {
		diag_add(d, NULL, NULL, "MeshIdentity", "their identities are "
			 "in more than %d trust domains besides the Mesh's "
			 "\"%s\" (the first: %s, %s, %s, %s)",
			 MF_MID_DOMAINS_MAX, td, cfg->mid_domains[0],
			 cfg->mid_domains[1], cfg->mid_domains[2],
			 cfg->mid_domains[3]);
		return -EINVAL;
	}
	cfg->nmid_domains = n < 0 ? 0 : (uint32_t)n;
	return n < 0 ? n : 0;
}

/* Kuma's Mesh fields beyond mTLS of @cm into @k, and its backends'
 * timeouts into @mtls (the backends of mf_config). */
static void cmp_mesh_kuma(struct mf_mesh_kuma *k, struct mf_mtls_backend *mtls,
			  const struct core_mesh *cm)
{
	const struct core_mtls *t = &cm->mtls;

	k->tracing = cm->tracing;
	k->logging = cm->logging;
	k->metrics = cm->metrics;
	k->networking = cm->networking;
	k->constraints = cm->constraints;
	k->nskip_initial = cm->nskip_initial;
	memcpy(k->skip_initial, cm->skip_initial, sizeof(k->skip_initial));
	k->msvc_mode = cm->mesh_services.mode;
	if (sch_has(&cm->routing, 1))
		k->flags |= MF_MESH_F_LOCALITY_LB_SET |
			    (cm->routing.locality_lb ? MF_MESH_F_LOCALITY_LB : 0);
	if (sch_has(&cm->routing, 2))
		k->flags |= MF_MESH_F_ZONE_EGRESS_SET |
			    (cm->routing.zone_egress ? MF_MESH_F_ZONE_EGRESS : 0);
	if (sch_has(t, 3))
		k->flags |= MF_MESH_F_SKIP_VALIDATION_SET |
			    (t->skip_validation ? MF_MESH_F_SKIP_VALIDATION : 0);
	for (unsigned i = 0; i < t->nbackends && i < MF_MTLS_BACKENDS_MAX; i++) {
		const struct core_backend *b = &t->backends[i];

		if (sch_has(&b->dp_cert, 1)) {
			mtls[i].timeouts |= MF_MTLS_T_REQUEST;
			mtls[i].request_timeout_ms = b->dp_cert.request_timeout;
		}
		if (sch_has(b, 5))
			mtls[i].timeouts |= MF_MTLS_T_ROOT_CHAIN;
		if (sch_has(&b->root_chain, 0)) {
			mtls[i].timeouts |= MF_MTLS_T_ROOT_CHAIN_REQUEST;
			mtls[i].root_chain_timeout_ms =
				b->root_chain.request_timeout;
		}
	}
}

/* mf_config of Mesh @m. */
static void cmp_mesh(struct mf_config *cfg, const struct model_obj *m)
{
	const struct core_mesh *cm = model_spec(m);
	const struct core_mtls *t = &cm->mtls;

	cfg->flags = MF_CONFIG_F_MESH;
	strcpy(cfg->mesh, m->name);
	strcpy(cfg->trust_domain, cm->trust_domain);
	strcpy(cfg->mtls_enabled, t->enabled_backend);
	strcpy(cfg->msvc_vip_range, cm->mesh_services.vip_range);
	strcpy(cfg->mes_vip_range, cm->mesh_ext_services.vip_range);
	strcpy(cfg->mzs_vip_range, cm->mesh_mz_services.vip_range);
	if (cm->routing.forbid_mes)
		cfg->flags |= MF_CONFIG_F_FORBID_MES;
	cfg->mtls_nbackends = t->nbackends;
	for (unsigned i = 0; i < t->nbackends && i < MF_MTLS_BACKENDS_MAX; i++) {
		const struct core_backend *b = &t->backends[i];
		struct mf_mtls_backend *c = &cfg->mtls[i];

		strcpy(c->name, b->name);
		c->type = b->type;
		c->mode = b->mode;
		c->cert_validity_s = b->dp_cert.rotation.expiration;
		strcpy(c->cert_file, b->conf.cert.file);
		strcpy(c->key_file, b->conf.key.file);
		if (!strcmp(b->name, t->enabled_backend))
			cfg->mtls_mode = b->mode;
	}
	for (unsigned i = 0; i < t->nexempt_sources && i < MF_EXEMPT_MAX;
	     i++)
		if (!kind_parse_cidr4(t->exempt_sources[i],
				      cfg->exempt[cfg->nexempt].addr,
				      &cfg->exempt[cfg->nexempt].prefix))
			cfg->nexempt++;	/* validated before */
	for (unsigned i = 0; i < cm->firewall.ndeny_sources &&
			     i < MF_FW_DENY_MAX; i++)
		if (!kind_parse_cidr4(cm->firewall.deny_sources[i],
				      cfg->fw_deny[cfg->fw_ndeny].addr,
				      &cfg->fw_deny[cfg->fw_ndeny].prefix))
			cfg->fw_ndeny++;
	cfg->fw_pkt_num = cm->firewall.per_source.packet_rate.num;
	cfg->fw_pkt_interval_ms = cm->firewall.per_source.packet_rate.interval;
	cfg->fw_syn_num = cm->firewall.per_source.syn_rate.num;
	cfg->fw_syn_interval_ms = cm->firewall.per_source.syn_rate.interval;
	cmp_mesh_kuma(&cfg->kuma, cfg->mtls, cm);
}

/* Adds @port to the Domain matches' ports of @pf (0: every port).
 * Returns false when the list is full. */
static bool cmp_pt_dom_port(struct mf_pt_profile *pf, __u16 port)
{
	if (!port) {
		pf->dom_any = 1;
		return true;
	}
	for (unsigned i = 0; i < pf->dom_n; i++)
		if (pf->dom_port[i] == port)
			return true;
	if (pf->dom_n >= MF_PT_DOM_PORTS_MAX)
		return false;
	pf->dom_port[pf->dom_n++] = port;
	return true;
}

/* An IP or CIDR appendMatch value @v of MeshPassthrough into @a, its
 * network (host bits cleared, as Go's net.ParseCIDR gives it to Kuma),
 * and *@pfx: returns 4 (IPv4) or 16 (IPv6) bytes, or -EINVAL.  An IP is
 * its own network. */
static int cmp_pt_net(const char *v, uint8_t a[16], uint8_t *pfx)
{
	const char *slash = strchr(v, '/');
	char addr[MF_HOST_MAX + 1], *end;
	unsigned long bits;
	int bytes;

	snprintf(addr, sizeof(addr), "%.*s",
		 slash ? (int)(slash - v) : (int)strlen(v), v);
	if (inet_pton(AF_INET, addr, a) == 1)
		bytes = 4;
	else if (inet_pton(AF_INET6, addr, a) == 1)
		bytes = 16;
	else
		return -EINVAL;
	bits = (unsigned long)bytes * 8;
	if (slash) {
		bits = strtoul(slash + 1, &end, 10);
		if (*end || bits > (unsigned long)bytes * 8)
			return -EINVAL;
	}
	for (int i = 0; i < bytes; i++) {
		unsigned long keep = bits > (unsigned long)i * 8 ?
				     bits - (unsigned long)i * 8 : 0;

		if (keep < 8)
			a[i] &= (uint8_t)(0xff00u >> keep);
	}
	*pfx = (uint8_t)bits;
	return bytes;
}

/* A MeshPassthrough @o whose appendMatch[@j] does not fit in mf_config
 * for @whose ("the Mesh's", "Workload x's"): said in @d. */
static int cmp_pt_full(const struct model_obj *o, size_t j, const char *what,
		       unsigned int max, const char *whose, struct diag *d)
{
	char who[MF_NAME_MAX + 32], path[64];

	snprintf(who, sizeof(who), "MeshPassthrough %s", o->name);
	snprintf(path, sizeof(path), "spec.default.appendMatch[%zu]", j);
	diag_add(d, o->loc.file ? &o->name_loc : NULL, who, path,
		 "more than %u %s over %s MeshPassthroughs", max, what, whose);
	return -ENOSPC;
}

/* The MeshPassthrough records that apply to @self, of @c (@n), merged as
 * Kuma merges them into @pf: least precedent first (select.h), the last
 * mode written, every IPv4 IP and CIDR appendMatch (the lists of a field
 * named append* add up), each with its port, and the ports of the Domain
 * matches the agent reads a name for (tls: the SNI, http, http2, grpc:
 * the Host or :authority; the kernel steers those ports to it, and the
 * agent matches the names itself from the records), and every IPv6 IP and
 * CIDR (pt6[]).  *@narrow: a record that applies targets
 * less than the whole Mesh.  More networks or Domain ports than @pf holds
 * are refused, said in @d on the policy's match (found in @sorted, @nsorted)
 * as @whose: -ENOSPC.  Returns 0, -ENOSPC or -ENOMEM. */
static int cmp_pt_merge(const struct model_set *set, const struct sel_cand *c,
			size_t n, const struct sel_workload *self,
			const struct model_obj **sorted, size_t nsorted,
			const char *whose, struct mf_pt_profile *pf,
			bool *narrow, struct diag *d)
{
	const enum model_kind pt_kind = (enum model_kind)(MODEL_GEN_FIRST +
				REC_PASSTHROUGHS - REC_KIND_FIRST);
	const struct sel_ctx ctx = sel_model_ctx(set);
	const struct sel_query q = { .self = self, .section = MF_SEC_DEFAULT };
	size_t *order;
	int got, err = 0;

	memset(pf, 0, sizeof(*pf));
	*narrow = false;
	if (!n)
		return 0;
	order = calloc(n, sizeof(*order));
	if (!order)
		return -ENOMEM;
	got = sel_select(&kind_mesh_passthrough, c, n, &q, &ctx, order);
	for (int i = 0; i < got; i++) {
		const struct mf_passthrough *pt = c[order[i]].val;
		const struct mf_passthrough_conf *cf = &pt->conf;
		const struct model_obj *o = NULL;

		if (pt->hdr.target.kind != MF_REF_MESH)
			*narrow = true;
		if (cf->passthrough_mode)
			pf->mode = cf->passthrough_mode;
		for (size_t j = 0; j < cf->nappend_match &&
				   j < MF_PASSTHROUGH_MATCHES_MAX; j++) {
			const struct mf_passthrough_match *m =
				&cf->append_match[j];
			const char *what = "Domain ports";
			unsigned int max = MF_PT_DOM_PORTS_MAX;
			char v[MF_HOST_MAX + 1];
			uint8_t a[16];
			uint8_t pfx;
			int bytes;

			if (m->type == MF_PASSTHROUGH_DOMAIN) {
				if (cmp_pt_dom_port(pf, m->port))
					continue;
			} else {
				snprintf(v, sizeof(v), "%.*s",
					 (int)sizeof(m->value), m->value);
				bytes = cmp_pt_net(v, a, &pfx);
				if (bytes == 4 && pf->n < MF_PT_NETS_MAX) {
					memcpy(pf->pt[pf->n].addr, a, 4);
					pf->pt[pf->n].prefix = pfx;
					pf->pt[pf->n].port = m->port;
					pf->n++;
					continue;
				}
				if (bytes == 16 && pf->n6 < MF_PT_NETS6_MAX) {
					memcpy(pf->pt6[pf->n6].addr, a, 16);
					pf->pt6[pf->n6].prefix = pfx;
					pf->pt6[pf->n6].port = m->port;
					pf->n6++;
					continue;
				}
				if (bytes < 0)
					continue;	/* validated */
				what = bytes == 4 ? "IPv4 networks" :
						    "IPv6 networks";
				max = bytes == 4 ? MF_PT_NETS_MAX :
						   MF_PT_NETS6_MAX;
			}
			o = model_sorted_find(sorted, nsorted, pt_kind,
					      c[order[i]].name);
			if (o)
				err = cmp_pt_full(o, j, what, max, whose, d);
			else
				err = -ENOSPC;
		}
	}
	free(order);
	return got < 0 ? got : err;
}

/* MeshPassthrough into @cfg: the policies that target the whole Mesh
 * (of @c, @n), merged (cmp_pt_merge()), for every source that no
 * narrower one selects.  With none, the Mesh's
 * networking.outbound.passthrough (cmp_mesh() put it in @cfg) decides
 * for those sources, as in Kuma, where a MeshPassthrough that selects a
 * proxy overrides the Mesh's flag: false is mode None (nothing outside
 * the mesh); true or unset, everything passes. */
static int cmp_passthrough(struct mf_config *cfg, const struct model_set *set,
			   const struct sel_cand *c, size_t n,
			   const struct model_obj **sorted, size_t nsorted,
			   struct diag *d)
{
	struct sel_cand *mesh = calloc(n ? n : 1, sizeof(*mesh));
	const struct sel_workload none = { .name = NULL };
	size_t nm = 0;
	bool narrow;
	int err;

	if (!mesh)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (((const struct mf_passthrough *)c[i].val)->hdr.target.kind ==
		    MF_REF_MESH)
			mesh[nm++] = c[i];
	err = cmp_pt_merge(set, mesh, nm, &none, sorted, nsorted,
			   "the Mesh's", &cfg->pt_mesh, &narrow, d);
	if (!nm && sch_has(&cfg->kuma.networking.outbound, 0) &&
	    !cfg->kuma.networking.outbound.passthrough)
		cfg->pt_mesh.mode = MF_PASSTHROUGH_NONE;
	free(mesh);
	return err;
}

/* The MeshPassthrough of endpoint @e as a source: 0 when only policies
 * that target the whole Mesh select it (mf_config's), else the number of
 * its profile in @cfg (pt_prof[k - 1], added when no workload had the
 * same before; more than MF_PT_PROFILES_MAX are refused in @d,
 * -ENOSPC).  Returns the number or -errno. */
static int cmp_pt_profile(struct mf_config *cfg, const struct model_set *set,
			  const struct sel_cand *c, size_t n,
			  const struct ep_view *e,
			  const struct model_obj **sorted, size_t nsorted,
			  struct diag *d)
{
	struct sel_workload self = {
		.name = e->o->name, .service = e->service[0] ? e->service :
								 NULL,
		.tags = model_tags_get(set, e->tags), .port = e->port,
	};
	char whose[MF_NAME_MAX + 32];
	struct mf_pt_profile pf;
	bool narrow;
	int err;

	if (!n)
		return 0;
	svcname_fill(set, &self);
	snprintf(whose, sizeof(whose), "%s %s's",
		 e->dataplane ? "Dataplane" : "Workload", e->o->name);
	err = cmp_pt_merge(set, c, n, &self, sorted, nsorted, whose, &pf,
			   &narrow, d);
	if (err || !narrow)
		return err;
	for (unsigned i = 0; i < cfg->pt_nprof; i++)
		if (!memcmp(&cfg->pt_prof[i], &pf, sizeof(pf)))
			return (int)i + 1;
	if (cfg->pt_nprof >= MF_PT_PROFILES_MAX) {
		diag_add(d, e->o->loc.file ? &e->o->name_loc : NULL, whose,
			 "metadata.name", "more than %u distinct MeshPassthroughs "
			 "for some workloads only", MF_PT_PROFILES_MAX);
		return -ENOSPC;
	}
	cfg->pt_prof[cfg->pt_nprof++] = pf;
	if (pf.mode == MF_PASSTHROUGH_MATCHED && (pf.dom_n || pf.dom_any))
		cfg->pt_prof_dom = 1;
	return cfg->pt_nprof;
}

/* Merges @a (@na) and @b (@nb), each sorted by name, into @out. */
static void cmp_merge_by_name(const struct model_obj **out,
			      const struct model_obj *const *a, size_t na,
			      const struct model_obj *const *b, size_t nb)
{
	size_t i = 0, j = 0;

	while (i < na || j < nb)
		*out++ = j >= nb || (i < na && strcmp(a[i]->name,
						      b[j]->name) < 0) ?
			 a[i++] : b[j++];
}

/* The VIPs of the objects of kind @mk (MeshService, or with @flag
 * MF_SERVICE_F_EXTERNAL MeshExternalService, with MF_SERVICE_F_MULTI_ZONE
 * MeshMultiZoneService) of @sorted, in name order, from @range (the Mesh's
 * spec.@field.vipRange), into *out (caller frees), kept from @prev where
 * they can be; none of @taken (@ntaken: the VIPs given already). */
static int cmp_vips(enum model_kind mk, uint32_t flag, const char *range,
		    const char *field, const struct rec_set *prev,
		    const struct model_obj **sorted, const size_t *first,
		    const size_t *cnt, const uint8_t (*taken)[4],
		    size_t ntaken, uint8_t (**out)[4], struct diag *d)
{
	const char *kind = model_kind_name(mk);
	const char **names = calloc(cnt[mk] + 1, sizeof(*names));
	size_t failed = 0;
	int err;

	*out = calloc(cnt[mk] + 1, sizeof(**out));
	if (!names || !*out) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cnt[mk]; i++)
		names[i] = sorted[first[mk] + i]->name;
	err = msvc_alloc_vips(range, flag, prev, names, cnt[mk], taken,
			      ntaken, *out, &failed);
	if (err == -ENOSPC) {
		const struct model_obj *o = sorted[first[mk] + failed];
		char what[MF_NAME_MAX + 32];

		snprintf(what, sizeof(what), "%s %s", kind, o->name);
		diag_add(d, o->loc.file ? &o->name_loc : NULL, what,
			 "metadata.name", "no address is left for it in the "
			 "%s VIP range %s (Mesh spec.%s.vipRange)", kind,
			 range[0] ? range : msvc_default_range(flag), field);
	}
out:
	free(names);
	return err;
}

/* The VIPs of the MeshServices (*mvips), of the MeshExternalServices
 * (*evips) and of the MeshMultiZoneServices (*zvips) of @sorted, each in
 * name order: none takes a Service's VIP, nor one given before it (in
 * that order), should the Mesh's ranges overlap. */
static int cmp_all_vips(const struct mf_config *cfg,
			const struct rec_set *prev,
			const struct model_obj **sorted, const size_t *first,
			const size_t *cnt, uint8_t (**mvips)[4],
			uint8_t (**evips)[4], uint8_t (**zvips)[4],
			struct diag *d)
{
	const size_t ns = cnt[MODEL_SERVICE], nm = cnt[msvc_kind()];
	const size_t ne = cnt[mes_kind()];
	uint8_t (*taken)[4] = calloc(ns + nm + ne + 1, sizeof(*taken));
	int err;

	*evips = *zvips = NULL;
	if (!taken)
		return -ENOMEM;
	for (size_t i = 0; i < ns; i++)
		memcpy(taken[i], ((const struct core_service *)model_spec(
			sorted[first[MODEL_SERVICE] + i]))->vip, 4);
	err = cmp_vips(msvc_kind(), MF_SERVICE_F_MESH_SERVICE,
		       cfg->msvc_vip_range, "meshServices", prev, sorted,
		       first, cnt, (const uint8_t (*)[4])taken, ns, mvips, d);
	if (!err) {
		memcpy(taken + ns, *mvips, nm * sizeof(*taken));
		err = cmp_vips(mes_kind(), MF_SERVICE_F_EXTERNAL,
			       cfg->mes_vip_range, "meshExternalServices",
			       prev, sorted, first, cnt,
			       (const uint8_t (*)[4])taken, ns + nm, evips,
			       d);
	}
	if (!err) {
		memcpy(taken + ns + nm, *evips, ne * sizeof(*taken));
		err = cmp_vips(mzs_kind(), MF_SERVICE_F_MULTI_ZONE,
			       cfg->mzs_vip_range, "meshMultiZoneServices",
			       prev, sorted, first, cnt,
			       (const uint8_t (*)[4])taken, ns + nm + ne,
			       zvips, d);
	}
	free(taken);
	return err;
}

/* How many endpoints a service has, and how many of them say they speak
 * HTTP: what decides a Service's protocol when its spec does not
 * (msvc_port_flags()). */
struct cmp_eps {
	size_t n, http;
};

/* An endpoint's service and identity, as indexes into the compile's
 * tables (a service CMP_EP_NONE: none; the identity's index is the one
 * it had before the table was sorted): each is looked up by name once,
 * not again for the endpoint's record. */
struct cmp_ep_at {
	uint32_t svc, id;
};

#define CMP_EP_NONE UINT32_MAX

/* The endpoints of each service of @svc among @eps (@neps), counted
 * into *out, as svc->v[] (caller frees), and each endpoint's service
 * into @at.  Returns 0 or -ENOMEM. */
static int cmp_svc_eps(const struct model_set *set, const struct ep_view *eps,
		       size_t neps, const struct cmp_ids *svc,
		       struct cmp_eps **out, struct cmp_ep_at *at)
{
	struct cmp_eps *c = calloc(svc->n ? svc->n : 1, sizeof(*c));

	*out = c;
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < neps; i++) {
		const struct cmp_id *s = cmp_id_find(svc, eps[i].service);

		at[i].svc = s ? (uint32_t)(s - svc->v) : CMP_EP_NONE;
		if (!s)		/* mf_endpoints refuses it */
			continue;
		c[s - svc->v].n++;
		c[s - svc->v].http += ep_http(set, &eps[i]);
	}
	return 0;
}

/* The mf_services record of MeshExternalService @o, id and rules as @s
 * and @rules, at @vip: flagged external, HTTP when its match.protocol is
 * http. */
static int cmp_mes_record(struct rec_set *out, const struct model_obj *o,
			  const struct cmp_id *s, __u32 rules,
			  const uint8_t vip[4])
{
	const struct mf_mesh_external_service *e = (const void *)o->pol.recs;
	struct mf_service_key k;
	struct mf_service v;

	if (!o->pol.n)
		return -EINVAL;	/* parsed before */
	memset(&k, 0, sizeof(k));
	memset(&v, 0, sizeof(v));
	memcpy(k.vip, vip, 4);
	k.port = e->match.port;
	k.proto = MF_PROTO_TCP;
	v.id = s->id;
	v.authz_rules = rules;
	strcpy(v.name, o->name);
	v.flags = MF_SERVICE_F_EXTERNAL |
		  (e->match.protocol == MF_MES_HTTP ? MF_SERVICE_F_HTTP : 0);
	return rec_add(out, REC_SERVICES, &k, &v);
}

/* The mf_services records of MeshMultiZoneService @o, id as @s, at @vip:
 * one per port of its spec, flagged multi-zone, HTTP when the port's
 * appProtocol is http (only that is HTTP/1.1, as for a MeshService). */
static int cmp_mzs_records(struct rec_set *out, const struct model_obj *o,
			   const struct cmp_id *s, const uint8_t vip[4])
{
	const struct mf_mesh_multi_zone_service *z = (const void *)o->pol.recs;
	struct mf_service_key k;
	struct mf_service v;
	int err = 0;

	if (!o->pol.n)
		return -EINVAL;	/* parsed before */
	memset(&v, 0, sizeof(v));
	v.id = s->id;
	strcpy(v.name, o->name);
	for (size_t p = 0; !err && p < z->nports && p < MF_MZS_PORTS_MAX;
	     p++) {
		memset(&k, 0, sizeof(k));
		memcpy(k.vip, vip, 4);
		k.port = z->ports[p].port;
		k.proto = MF_PROTO_TCP;
		v.flags = MF_SERVICE_F_MULTI_ZONE |
			  (z->ports[p].app_protocol == MF_MZS_HTTP ?
			   MF_SERVICE_F_HTTP : 0);
		err = rec_add(out, REC_SERVICES, &k, &v);
	}
	return err;
}

/* The members of each MeshMultiZoneService record of @out (mesh_service.h):
 * for each of its ports, in order, the MeshServices of @sorted (by name)
 * that its selector picks, that are not Unavailable (spec.state: Kuma
 * sends its traffic to the Available ones) and that have that port too,
 * with their ids
 * from @svc.  One that selects more than MF_MZS_MEMBERS_MAX is an
 * error of @d's. */
static int cmp_mzs_members(const struct model_set *set, struct rec_set *out,
			   const struct model_obj **sorted, const size_t *first,
			   const size_t *cnt, const struct cmp_ids *svc,
			   struct diag *d)
{
	const struct model_obj **ms = sorted + first[msvc_kind()];
	int err = 0;

	for (size_t i = 0; i < rec_count(out, REC_MZ_SERVICES); i++) {
		const struct mf_pol_key *k = rec_key(out, REC_MZ_SERVICES, i);
		struct mf_mesh_multi_zone_service *z =
			rec_val(out, REC_MZ_SERVICES, i);
		const struct model_obj *mz =
			model_sorted_find(sorted, set->n, mzs_kind(), k->name);

		z->nmembers = 0;
		for (size_t p = 0; !err && mz && p < z->nports &&
				   p < MF_MZS_PORTS_MAX; p++)
			for (size_t j = 0; j < cnt[msvc_kind()]; j++) {
				const struct cmp_id *id;
				struct mf_mzs_member *m;

				if (!mzs_selects(set, mz, ms[j]) ||
				    !msvc_available(ms[j]) ||
				    !msvc_has_port(ms[j], z->ports[p].port))
					continue;
				id = cmp_id_find(svc, ms[j]->name);
				if (!id)
					return -EINVAL;	/* validated before */
				if (z->nmembers == MF_MZS_MEMBERS_MAX) {
					char what[MF_NAME_MAX + 32];

					snprintf(what, sizeof(what),
						 "MeshMultiZoneService %s",
						 mz->name);
					diag_add(d, mz->loc.file ?
						 &mz->name_loc : NULL, what,
						 "spec.selector", "selects more "
						 "than %d MeshService ports",
						 MF_MZS_MEMBERS_MAX);
					err = -ENOSPC;
					break;
				}
				m = &z->members[z->nmembers++];
				m->service_id = id->id;
				m->port = z->ports[p].port;
			}
	}
	return err;
}

int compile_set(const struct model_set *set, const struct rec_set *prev,
		struct rec_set *out, struct diag *d)
{
	const struct model_obj **sorted = NULL;
	struct cmp_ids svc = { 0 }, ids = { 0 };	/* services', identities' */
	struct cmp_ids prev_svc = { 0 }, prev_ids = { 0 };	/* in force */
	size_t nsvc = 0;
	size_t first[MODEL_KIND_MAX] = { 0 }, cnt[MODEL_KIND_MAX] = { 0 };
	__u32 *rules = NULL;	/* authz rules per service, as svc[] */
	struct cmp_mtp_ctx mtp;
	const char **mtp_ids = NULL;	/* scratch: a source's identities */
	struct ep_list epl = { 0 };	/* Workloads and Dataplanes */
	const struct ep_view *eps = NULL;
	size_t neps = 0;
	struct gwi_view *gws = NULL;	/* builtin gateway instances */
	size_t ngws = 0;
	struct cmp_eps *svc_eps = NULL;	/* each service's, as svc[] */
	struct cmp_ep_at *ep_at = NULL;	/* each endpoint's, as eps[] */
	uint32_t *id_now = NULL;	/* an identity's index, by its .at */
	/* Services and MeshServices by name, as svc[]; the MeshServices'
	 * VIPs, in their order; the MeshExternalServices' too. */
	const struct model_obj **svo = NULL, **svo2 = NULL;
	uint8_t (*mvips)[4] = NULL, (*evips)[4] = NULL, (*zvips)[4] = NULL;
	__u32 max_svc, max_id;
	const char *td = "";
	struct sel_cand *tls = NULL;	/* the MeshTLS records */
	struct sel_cand *mrl = NULL;	/* the MeshRateLimit records */
	struct sel_cand *ptc = NULL;	/* the MeshPassthrough records */
	size_t ntls = 0, nmrl = 0, nptc = 0;
	bool tls_modes = false;		/* an endpoint has a mode of its own */
	int err;

	rec_set_init(out);
	if (prev)
		rec_set_reserve(out, prev);
	sorted = calloc(set->n ? set->n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	model_set_sorted(set, sorted);
	for (size_t i = set->n; i-- > 0;) {
		first[sorted[i]->kind] = i;
		cnt[sorted[i]->kind]++;
	}

	/* mf_config */
	ptc = sel_model_cands(set, (enum model_kind)(MODEL_GEN_FIRST +
				REC_PASSTHROUGHS - REC_KIND_FIRST), &nptc);
	if (!ptc) {
		err = -ENOMEM;
		goto out;
	}
	tls = sel_model_cands(set, (enum model_kind)(MODEL_GEN_FIRST + REC_TLS -
						     REC_KIND_FIRST), &ntls);
	if (!tls) {
		err = -ENOMEM;
		goto out;
	}
	if (cnt[MODEL_MESH]) {
		const struct model_obj *m = sorted[first[MODEL_MESH]];

		cmp_mesh(&out->config, m);
		err = cmp_passthrough(&out->config, set, ptc, nptc, sorted,
				      set->n, d);
		if (err)
			goto out;
		err = tlsprof_compile(set, tls, ntls, sorted, set->n,
				      &out->config.tls, d);
		if (err)
			goto out;
		td = ((const struct core_mesh *)model_spec(m))->trust_domain;
		err = cmp_mid_domains(&out->config, set, td, d);
		if (err)
			goto out;
	}

	/* mf_nodes */
	for (size_t i = 0; i < cnt[MODEL_NODE]; i++) {
		const struct model_obj *o = sorted[first[MODEL_NODE] + i];
		struct mf_node_key k;
		struct mf_node v;

		const struct core_node *cn = model_spec(o);

		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		strcpy(k.name, o->name);
		memcpy(v.ip, cn->address, 4);
		v.tunnel_port = cn->tunnel_port;
		err = rec_add(out, REC_NODES, &k, &v);
		if (err)
			goto out;
	}

	/* Service ids, in name order (the order `sorted` has them in). */
	err = cmp_prev_ids(prev, REC_SERVICES, &prev_svc, &max_svc);
	if (err)
		goto out;
	/* Services, MeshServices, MeshExternalServices and
	 * MeshMultiZoneServices share names and ids: one list, by name
	 * (validation keeps the names apart). */
	nsvc = cnt[MODEL_SERVICE] + cnt[msvc_kind()] + cnt[mes_kind()] +
	       cnt[mzs_kind()];
	svc.v = calloc(nsvc ? nsvc : 1, sizeof(*svc.v));
	svc.n = nsvc;
	svo = calloc(nsvc ? nsvc : 1, sizeof(*svo));
	svo2 = calloc(nsvc ? nsvc : 1, sizeof(*svo2));
	rules = calloc(nsvc ? nsvc : 1, sizeof(*rules));
	if (!svc.v || !svo || !svo2 || !rules) {
		err = -ENOMEM;
		goto out;
	}
	cmp_merge_by_name(svo2, sorted + first[MODEL_SERVICE],
			  cnt[MODEL_SERVICE], sorted + first[msvc_kind()],
			  cnt[msvc_kind()]);
	cmp_merge_by_name(svo, svo2, cnt[MODEL_SERVICE] + cnt[msvc_kind()],
			  sorted + first[mes_kind()], cnt[mes_kind()]);
	memcpy(svo2, svo, (nsvc - cnt[mzs_kind()]) * sizeof(*svo2));
	cmp_merge_by_name(svo, svo2, nsvc - cnt[mzs_kind()],
			  sorted + first[mzs_kind()], cnt[mzs_kind()]);
	for (size_t i = 0; i < nsvc; i++)
		svc.v[i].name = svo[i]->name;
	err = cmp_ids_index(&svc, 0);
	if (err)
		goto out;
	cmp_assign(&svc, &prev_svc, max_svc);
	err = cmp_all_vips(&out->config, prev, sorted, first, cnt, &mvips,
			   &evips, &zvips, d);
	if (err)
		goto out;

	err = ep_views(set, &epl);
	if (err)
		goto out;
	eps = epl.v;
	neps = epl.n;
	for (size_t i = 0; i < neps; i++)
		if (!eps[i].id || !eps[i].service[0]) {
			err = -EINVAL;	/* validated before */
			goto out;
		}
	ep_at = calloc(neps ? neps : 1, sizeof(*ep_at));
	if (!ep_at) {
		err = -ENOMEM;
		goto out;
	}
	err = cmp_svc_eps(set, eps, neps, &svc, &svc_eps, ep_at);
	if (err)
		goto out;
	err = gwi_views(set, &gws, &ngws);
	if (err)
		goto out;
	for (size_t i = 0; i < ngws; i++)
		if (!gws[i].id[0]) {
			err = -EINVAL;	/* validated before */
			goto out;
		}

	/* Identity ids: the distinct identities of the workloads and the
	 * gateway instances (each kept once as it comes, 100k endpoints
	 * having some 10k), sorted. */
	err = cmp_prev_ids(prev, REC_IDENTITIES, &prev_ids, &max_id);
	if (err)
		goto out;
	ids.v = calloc(neps + ngws + 1, sizeof(*ids.v));
	if (!ids.v || cmp_ids_index(&ids, neps + ngws)) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < neps + ngws; i++) {
		const char *name = i < neps ? eps[i].id : gws[i - neps].id;
		const struct cmp_id *had = cmp_id_find(&ids, name);
		uint32_t at = had ? had->at : (uint32_t)ids.n;

		if (i < neps)
			ep_at[i].id = at;
		if (had)
			continue;
		ids.v[ids.n].name = name;
		ids.v[ids.n].at = at;
		cmp_ids_slot(&ids, ids.n++);
	}
	qsort(ids.v, ids.n, sizeof(*ids.v), cmp_id_cmp);
	id_now = malloc((ids.n ? ids.n : 1) * sizeof(*id_now));
	err = id_now ? cmp_ids_index(&ids, 0) : -ENOMEM;
	if (err)
		goto out;
	for (size_t i = 0; i < ids.n; i++)
		id_now[ids.v[i].at] = (uint32_t)i;
	cmp_assign(&ids, &prev_ids, max_id);

	/* mf_identities */
	for (size_t i = 0; i < ids.n; i++) {
		struct mf_identity_key k = { .id = ids.v[i].id };
		struct mf_identity v;

		memset(&v, 0, sizeof(v));
		strcpy(v.spiffe, ids.v[i].name);
		err = rec_add(out, REC_IDENTITIES, &k, &v);
		if (err)
			goto out;
	}

	/* mf_authz, policies in name order; a Mesh-wide policy's rules go
	 * to every service. */
	mtp.set = set;
	mtp.eps = eps;
	mtp.neps = neps;
	mtp.td = td;
	mtp.cfg = &out->config;
	mtp_ids = calloc(neps + 1, sizeof(*mtp_ids));
	if (!mtp_ids) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cnt[MODEL_MTP]; i++) {
		const struct model_obj *o = sorted[first[MODEL_MTP] + i];
		const struct mf_ref *target = &((const struct mf_mtp *)
						       o->pol.recs)->hdr.target;
		const struct sel_ctx sctx = { .tags = cmp_sel_tags,
					      .labels = cmp_sel_labels,
					      .arg = (void *)set };

		size_t s_first = 0, s_end = nsvc;

		/* Some of the Workloads of a service: rules for each of
		 * them, under its service. */
		if (target->kind == MF_REF_MESH_SUBSET ||
		    target->kind == MF_REF_MESH_SERVICE_SUBSET ||
		    target->kind == MF_REF_WORKLOAD) {
			err = cmp_mtp_workloads(out, o, &mtp, &sctx, &svc,
						rules, mtp_ids);
			if (err)
				goto out;
			continue;
		}
		/* Mesh: every service; MeshService: the one it names (found
		 * by a search: a mesh has a permission per service), or
		 * those its labels select; MeshExternalService: the one it
		 * names, which a Mesh-wide permission leaves out (Kuma's
		 * egress sees only the permissions that target it). */
		if ((target->kind == MF_REF_MESH_SERVICE ||
		     target->kind == MF_REF_MESH_EXTERNAL_SERVICE) &&
		    target->name[0]) {
			const struct cmp_id *s = cmp_id_find(&svc,
							     target->name);

			s_first = s ? (size_t)(s - svc.v) : nsvc;
			s_end = s ? s_first + 1 : nsvc;
		}
		for (size_t si = s_first; si < s_end; si++) {
			const struct sel_workload whole = {
				.service = svc.v[si].name,
				.service_ns = svcname_namespace(set, svo[si]),
				.service_port = msvc_service_port(svo[si]),
				.port = msvc_service_port(svo[si]),
			};

			/* A MeshMultiZoneService is authorized by the
			 * MeshService whose endpoint takes the connection. */
			if (svo[si]->kind == mzs_kind())
				continue;
			if (svo[si]->kind == mes_kind() ?
			    target->kind != MF_REF_MESH_EXTERNAL_SERVICE ||
			    strcmp(target->name, svc.v[si].name) :
			    target->kind == MF_REF_MESH_EXTERNAL_SERVICE ||
			    !sel_ref_selects(target, &whole, NULL, &sctx))
				continue;
			err = cmp_mtp_rules(out, o, &mtp, svc.v[si].id,
					    &rules[si], NULL, mtp_ids);
			if (err)
				goto out;
		}
	}

	/* mf_services, now that each one's rule count is known: a
	 * Service's VIP and port, a MeshService's VIP and each of its
	 * ports, each with its protocol; a MeshExternalService's VIP and
	 * match.port. */
	mrl = sel_model_cands(set, cmp_mrl_kind, &nmrl);
	if (!mrl) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0, mi = 0, ei = 0, zi = 0; i < nsvc; i++) {
		const struct model_obj *o = svo[i];
		const bool ms = o->kind == msvc_kind();
		const struct mf_mesh_service *m = (const void *)o->pol.recs;
		size_t nports = ms ? (o->pol.n ? m->nports : 0) : 1;

		if (o->kind == mes_kind()) {
			err = cmp_mes_record(out, o, &svc.v[i], rules[i],
					     evips[ei++]);
			if (err)
				goto out;
			continue;
		}
		if (o->kind == mzs_kind()) {
			err = cmp_mzs_records(out, o, &svc.v[i], zvips[zi++]);
			if (err)
				goto out;
			continue;
		}
		struct mf_service_key k;
		struct mf_service v;

		memset(&v, 0, sizeof(v));
		v.id = svc.v[i].id;
		v.authz_rules = rules[i];
		strcpy(v.name, o->name);
		for (size_t p = 0; p < nports; p++) {
			v.flags = msvc_port_flags(o, p, svc_eps[i].n,
						  svc_eps[i].http);
			memset(&k, 0, sizeof(k));
			if (ms) {
				memcpy(k.vip, mvips[mi], 4);
				k.port = m->ports[p].port;
			} else {
				const struct core_service *cs = model_spec(o);

				memcpy(k.vip, cs->vip, 4);
				k.port = cs->port;
			}
			k.proto = MF_PROTO_TCP;	/* the one protocol */
			err = cmp_conn_rate(set, mrl, nmrl, o->name, k.port,
					    &v);
			if (!err)
				err = rec_add(out, REC_SERVICES, &k, &v);
			if (err)
				goto out;
		}
		mi += ms;
	}

	/* mf_endpoints, each with its MeshTLS mode */
	for (size_t i = 0; i < neps; i++) {
		const struct ep_view *e = &eps[i];
		const struct model_obj *node = NULL;
		const struct core_node *cn;
		const struct cmp_id *s, *id;
		struct mf_endpoint_key k;
		struct mf_endpoint v;

		s = ep_at[i].svc != CMP_EP_NONE ? &svc.v[ep_at[i].svc] : NULL;
		id = &ids.v[id_now[ep_at[i].id]];
		node = model_sorted_find(sorted, set->n, MODEL_NODE, e->node);
		if (!s || !node) {	/* validated before */
			err = -EINVAL;
			goto out;
		}
		cn = model_spec(node);
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		memcpy(k.ip, e->ip, 4);
		v.service_id = s->id;
		v.identity_id = id->id;
		memcpy(v.node_ip, cn->address, 4);
		v.port = e->port;
		v.tunnel_port = cn->tunnel_port;
		strcpy(v.name, e->o->name);
		v.tags = e->tags;
		v.flags = e->dataplane ? MF_ENDPOINT_F_DATAPLANE : 0;
		v.flags |= cmp_tls_mode(set, tls, ntls, e);
		if (cnt[MODEL_MESH]) {
			int pf = cmp_pt_profile(&out->config, set, ptc, nptc,
						e, sorted, set->n, d);

			if (pf < 0) {
				err = pf;
				goto out;
			}
			v.pt_profile = (__u32)pf;
		}
		/* Still the workload's own record (its identity as a
		 * source, its inbound); only clients pass it over. */
		if (!msvc_identity_listed(set, svo[s - svc.v], e))
			v.flags |= MF_ENDPOINT_F_UNLISTED;
		if (v.flags & (MF_ENDPOINT_F_TLS_STRICT |
			       MF_ENDPOINT_F_TLS_PERMISSIVE))
			tls_modes = true;
		err = rec_add(out, REC_ENDPOINTS, &k, &v);
		if (err)
			goto out;
	}

	/* mf_gw_instances: the gateway tags are the Dataplane record's,
	 * which cmp_policies() puts in mf_tagsets. */
	for (size_t i = 0; i < ngws; i++) {
		const struct gwi_view *g = &gws[i];
		const struct cmp_id *id = cmp_id_find(&ids, g->id);
		struct mf_gw_instance_key k;
		struct mf_gw_instance v;

		if (!id || !model_sorted_find(sorted, set->n, MODEL_NODE,
					      g->node)) {
			err = -EINVAL;	/* validated before */
			goto out;
		}
		memset(&k, 0, sizeof(k));
		memset(&v, 0, sizeof(v));
		strcpy(k.name, g->o->name);
		strcpy(v.name, g->o->name);
		strcpy(v.node, g->node);
		v.identity_id = id->id;
		v.tags = g->tags;
		err = rec_add(out, REC_GW_INSTANCES, &k, &v);
		if (err)
			goto out;
	}

	if (tls_modes)
		out->config.flags |= MF_CONFIG_F_TLS_MODES;

	err = cmp_policies(set, sorted, set->n, out);
	if (!err)
		err = cmp_mzs_members(set, out, sorted, first, cnt, &svc, d);
	if (err)
		goto out;

	for (int m = 0; m < REC_MAP_MAX; m++)
		rec_sort(out, m);
	err = cmp_capacity(out, d);
out:
	free(mrl);
	free(tls);
	free(ptc);
	free(mtp_ids);
	free(svc_eps);
	free(ep_at);
	free(id_now);
	free(gws);
	ep_list_free(&epl);
	free(svo);
	free(svo2);
	free(mvips);
	free(evips);
	free(zvips);
	free(rules);
	cmp_ids_free(&ids);
	cmp_ids_free(&prev_ids);
	cmp_ids_free(&svc);
	cmp_ids_free(&prev_svc);
	free(sorted);
	return err;
}
