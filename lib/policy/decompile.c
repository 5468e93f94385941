// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "decompile.h"
#include "identity.h"
#include "mesh_kuma.h"
#include "mesh_service.h"

struct dc_ctx {
	const struct rec_set *rs;
	struct diag *d;
	unsigned errors;
};

static void dc_err(struct dc_ctx *c, const char *map, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void dc_err(struct dc_ctx *c, const char *map, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(c->d, NULL, "applied state", map, "%s", msg);
	c->errors++;
}

/* A new object of @kind named @name with one zeroed record (the spec of
 * a core kind), or NULL on ENOMEM. */
static struct model_obj *dc_obj(struct model_set *set, enum model_kind kind,
				const char *name)
{
	struct model_obj *o;
	uint8_t *rec = calloc(1, model_kind_desc(kind)->val_size);

	if (!rec || !(o = model_set_add(set, kind))) {
		free(rec);
		return NULL;
	}
	strcpy(o->name, name);
	o->pol.recs = rec;	/* the set owns it now */
	o->pol.n = 1;
	return o;
}

/* True when the fixed-size string field @s (of @n bytes) ends in a NUL. */
static bool dc_terminated(const char *s, size_t n)
{
	return memchr(s, '\0', n) != NULL;
}

/* Service records sorted by id, for lookups from endpoints and rules. */
struct dc_svc {
	__u32 id;
	const struct mf_service *s;
};

static int dc_svc_cmp(const void *a, const void *b)
{
	__u32 x = ((const struct dc_svc *)a)->id;
	__u32 y = ((const struct dc_svc *)b)->id;

	return x < y ? -1 : x > y;
}

static const struct mf_service *dc_svc_find(const struct dc_svc *v, size_t n,
					    __u32 id)
{
	struct dc_svc k = { .id = id }, *r;

	r = n ? bsearch(&k, v, n, sizeof(*v), dc_svc_cmp) : NULL;
	return r ? r->s : NULL;
}

static const struct mf_identity *dc_identity(const struct rec_set *rs,
					     __u32 id)
{
	/* rec_find() compares key bytes, which finds equal keys whatever
	 * order the sort left them in. */
	struct mf_identity_key k = { .id = id };
	long i = rec_find(rs, REC_IDENTITIES, &k);

	return i < 0 ? NULL : rec_val(rs, REC_IDENTITIES, (size_t)i);
}

/* Decompiled Nodes sorted by address: an endpoint names its node by
 * node_ip, and there are up to MF_MAX_ENDPOINTS endpoints to resolve.
 * @obj indexes the set's objects (a pointer would not survive its growth). */
struct dc_node {
	__u8 ip[4];
	size_t obj;
};

static int dc_node_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dc_node *)a)->ip,
		      ((const struct dc_node *)b)->ip, 4);
}

/*
 * The one Node in @v (@n entries, sorted) whose address is @ip.  Returns
 * it (an object of @set), or NULL with *@count set to how many have that
 * address (0, or 2 when more than one does).
 */
static const struct model_obj *dc_node_find(const struct model_set *set,
					    const struct dc_node *v, size_t n,
					    const __u8 ip[4], unsigned *count)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(v[mid].ip, ip, 4) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*count = 0;
	if (lo == n || memcmp(v[lo].ip, ip, 4))
		return NULL;
	if (lo + 1 < n && !memcmp(v[lo + 1].ip, ip, 4)) {
		*count = 2;
		return NULL;
	}
	*count = 1;
	return &set->objs[v[lo].obj];
}

/* The map of a kind kept as written, a policy record per entry. */
static enum rec_map dc_kind_map(enum model_kind k)
{
	return k == MODEL_MTP ? REC_PERMISSIONS :
	       REC_KIND_FIRST + (k - MODEL_GEN_FIRST);
}

/* Schema-driven policy records of map @m in (name, index) order. */
struct dc_pol {
	const struct mf_pol_key *k;
	const uint8_t *v;
};

static int dc_pol_cmp(const void *a, const void *b)
{
	const struct dc_pol *x = a, *y = b;
	int r = strncmp(x->k->name, y->k->name, sizeof(x->k->name));

	if (r)
		return r;
	return x->k->index < y->k->index ? -1 : x->k->index > y->k->index;
}

/* A record's strings must be in the pool read with it. */
struct dc_str_walk {
	const struct model_set *set;
	uint32_t missing;		/* the first id not there, 0: none */
};

static void dc_str_cb(void *arg, const void *at)
{
	struct dc_str_walk *w = arg;
	uint32_t id = kind_str_id(at);

	if (!w->missing && !model_str_get(w->set, id))
		w->missing = id;
}

/* One policy from its records r[0..n) (same name, sorted by index). */
static int dc_pol_obj(struct dc_ctx *c, struct model_set *set,
		      enum model_kind kind, const struct dc_pol *r, size_t n)
{
	const struct kind_desc *kd = model_kind_desc(kind);
	const char *map = rec_map_info(dc_kind_map(kind))->name;
	struct model_obj *o;
	uint8_t *recs;

	for (size_t i = 0; i < n; i++) {
		const struct mf_pol_hdr *h = (const void *)r[i].v;
		struct dc_str_walk sw = { .set = set };
		const char *why;

		if (r[i].k->index != i) {
			dc_err(c, map, "policy \"%s\": record %zu is "
			       "missing", r[0].k->name, i);
			return 0;
		}
		why = kind_rec_check(kd, r[i].v);
		/* A spec-form record is all spec, without a header. */
		if (!why && kind_has_hdr(kd) &&
		    (h->target.kind >= MF_REF_KIND_MAX ||
		     h->ref.kind >= MF_REF_KIND_MAX ||
		     !memchr(h->target.name, 0, MF_NAME_MAX) ||
		     !memchr(h->ref.name, 0, MF_NAME_MAX) ||
		     h->nsources > MF_SELECTORS_MAX ||
		     h->ndestinations > MF_SELECTORS_MAX))
			why = "its header is malformed";
		if (why) {
			dc_err(c, map, "policy \"%s\" record %zu: %s",
			       r[0].k->name, i, why);
			return 0;
		}
		kind_rec_strs(kd, r[i].v, dc_str_cb, &sw);
		if (sw.missing) {
			dc_err(c, map, "policy \"%s\" record %zu: no string "
			       "has id %u", r[0].k->name, i, sw.missing);
			return 0;
		}
	}
	recs = malloc(n * kd->val_size);
	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		memcpy(recs + i * kd->val_size, r[i].v, kd->val_size);
	o = model_set_add(set, kind);
	if (!o) {
		free(recs);
		return -ENOMEM;
	}
	strcpy(o->name, r[0].k->name);
	o->pol.kd = kd;
	o->pol.recs = recs;	/* the set owns it now */
	o->pol.n = n;
	return 0;
}

/* The policies of every schema-driven kind, and the permissions. */
static int dc_gen_policies(struct dc_ctx *c, struct model_set *set)
{
	const struct rec_set *rs = c->rs;
	int err = 0;

	for (int k = MODEL_MTP; k < MODEL_KIND_MAX && !err; k++) {
		enum rec_map m = dc_kind_map((enum model_kind)k);
		size_t n = rec_count(rs, m), used = 0;
		struct dc_pol *r;

		if (!n)
			continue;
		r = calloc(n, sizeof(*r));
		if (!r)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			r[i].k = rec_key(rs, m, i);
			r[i].v = rec_val(rs, m, i);
			if (!dc_terminated(r[i].k->name, sizeof(r[i].k->name)))
				dc_err(c, rec_map_info(m)->name,
				       "unterminated policy name");
			else
				r[used++] = r[i];
		}
		qsort(r, used, sizeof(*r), dc_pol_cmp);
		for (size_t i = 0, j; i < used && !err; i = j) {
			for (j = i + 1; j < used && !strcmp(r[j].k->name,
							    r[i].k->name); j++)
				;
			err = dc_pol_obj(c, set, (enum model_kind)k, r + i,
					 j - i);
		}
		free(r);
	}
	return err;
}

/* Mesh spec.firewall from mf_config: bit 3 of the spec, its fields' bits
 * in schema order (kind_mesh.c). */
static void dc_firewall(struct core_mesh *m, const struct mf_config *cfg)
{
	struct core_firewall *f = &m->firewall;

	if (cfg->fw_ndeny) {
		f->present |= 1;
		f->ndeny_sources = cfg->fw_ndeny;
		for (unsigned i = 0; i < cfg->fw_ndeny && i < MF_FW_DENY_MAX;
		     i++) {
			const struct mf_cidr4 *x = &cfg->fw_deny[i];

			snprintf(f->deny_sources[i],
				 sizeof(f->deny_sources[i]), "%u.%u.%u.%u/%u",
				 x->addr[0], x->addr[1], x->addr[2], x->addr[3],
				 x->prefix);
		}
	}
	if (cfg->fw_pkt_num) {
		f->per_source.present |= 1;
		f->per_source.packet_rate.present = 3;
		f->per_source.packet_rate.num = cfg->fw_pkt_num;
		f->per_source.packet_rate.interval = cfg->fw_pkt_interval_ms;
	}
	if (cfg->fw_syn_num) {
		f->per_source.present |= 2;
		f->per_source.syn_rate.present = 3;
		f->per_source.syn_rate.num = cfg->fw_syn_num;
		f->per_source.syn_rate.interval = cfg->fw_syn_interval_ms;
	}
	if (f->per_source.present)
		f->present |= 2;
	if (f->present)
		m->present |= 1u << 3;
}

/* NULL when mf_config.kuma @k is what an apply can have written, else
 * what is wrong with it: it is printed, so it is checked as records are. */
static const char *dc_mesh_kuma_check(const struct mf_mesh_kuma *k)
{
	const char *why = sch_check(&mesh_kuma_tracing, &k->tracing);

	why = why ? why : sch_check(&mesh_kuma_logging, &k->logging);
	why = why ? why : sch_check(&mesh_kuma_metrics, &k->metrics);
	why = why ? why : sch_check(&mesh_kuma_networking, &k->networking);
	why = why ? why : sch_check(&mesh_kuma_constraints, &k->constraints);
	if (!why && k->nskip_initial > MF_MESH_SKIP_MAX)
		why = "too many skipCreatingInitialPolicies";
	for (unsigned i = 0; !why && i < k->nskip_initial; i++)
		if (!dc_terminated(k->skip_initial[i], MF_NAME_MAX))
			why = "unterminated skipCreatingInitialPolicies";
	if (!why && k->msvc_mode > 4)
		why = "unknown meshServices.mode";
	return why;
}

/* Kuma's Mesh fields beyond mTLS from mf_config.kuma (kind_mesh.c's
 * field indexes); the mTLS backends' timeouts are dc_mesh()'s. */
static void dc_mesh_kuma(struct core_mesh *m, const struct mf_mesh_kuma *k)
{
	static const struct {
		uint32_t set, on;
		unsigned field;
	} rt[] = {
		{ MF_MESH_F_LOCALITY_LB_SET, MF_MESH_F_LOCALITY_LB, 1 },
		{ MF_MESH_F_ZONE_EGRESS_SET, MF_MESH_F_ZONE_EGRESS, 2 },
	};

	m->tracing = k->tracing;
	m->logging = k->logging;
	m->metrics = k->metrics;
	m->networking = k->networking;
	m->constraints = k->constraints;
	m->nskip_initial = k->nskip_initial;
	memcpy(m->skip_initial, k->skip_initial, sizeof(m->skip_initial));
	m->present |= (k->tracing.present ? 1u << 7 : 0) |
		      (k->logging.present ? 1u << 8 : 0) |
		      (k->metrics.present ? 1u << 9 : 0) |
		      (k->networking.present ? 1u << 10 : 0) |
		      (k->constraints.present ? 1u << 11 : 0) |
		      (k->nskip_initial ? 1u << 12 : 0);
	if (k->msvc_mode) {
		m->present |= 1u << 2;
		m->mesh_services.present |= 2;
		m->mesh_services.mode = k->msvc_mode;
	}
	for (unsigned i = 0; i < sizeof(rt) / sizeof(rt[0]); i++)
		if (k->flags & rt[i].set) {
			m->present |= 1u << 5;
			m->routing.present |= 1u << rt[i].field;
			if (rt[i].field == 1)
				m->routing.locality_lb = !!(k->flags & rt[i].on);
			else
				m->routing.zone_egress = !!(k->flags & rt[i].on);
		}
	if (k->flags & MF_MESH_F_SKIP_VALIDATION_SET) {
		m->present |= 2;
		m->mtls.present |= 1u << 3;
		m->mtls.skip_validation =
			!!(k->flags & MF_MESH_F_SKIP_VALIDATION);
	}
}

/* The Mesh record mf_config @cfg stands for: the bytes parsing it would
 * have made (the presence bits of what `get` prints). */
static void dc_mesh(struct core_mesh *m, const struct mf_config *cfg)
{
	struct core_mtls *t = &m->mtls;

	m->present = 1;
	strcpy(m->trust_domain, cfg->trust_domain);
	if (dc_terminated(cfg->msvc_vip_range, sizeof(cfg->msvc_vip_range)) &&
	    cfg->msvc_vip_range[0]) {
		m->present |= 1u << 2;
		m->mesh_services.present = 1;
		strcpy(m->mesh_services.vip_range, cfg->msvc_vip_range);
	}
	dc_firewall(m, cfg);
	if (dc_terminated(cfg->mes_vip_range, sizeof(cfg->mes_vip_range)) &&
	    cfg->mes_vip_range[0]) {
		m->present |= 1u << 4;
		m->mesh_ext_services.present = 1;
		strcpy(m->mesh_ext_services.vip_range, cfg->mes_vip_range);
	}
	if (dc_terminated(cfg->mzs_vip_range, sizeof(cfg->mzs_vip_range)) &&
	    cfg->mzs_vip_range[0]) {
		m->present |= 1u << 6;
		m->mesh_mz_services.present = 1;
		strcpy(m->mesh_mz_services.vip_range, cfg->mzs_vip_range);
	}
	if (cfg->flags & MF_CONFIG_F_FORBID_MES) {
		m->present |= 1u << 5;
		m->routing.present = 1;
		m->routing.forbid_mes = 1;
	}
	dc_mesh_kuma(m, &cfg->kuma);
	if (!cfg->mtls_enabled[0] && !cfg->mtls_nbackends && !cfg->nexempt)
		return;
	m->present |= 2;
	if (cfg->nexempt) {
		t->present |= 4;
		t->nexempt_sources = cfg->nexempt;
		for (unsigned i = 0; i < cfg->nexempt; i++) {
			const struct mf_cidr4 *x = &cfg->exempt[i];

			snprintf(t->exempt_sources[i],
				 sizeof(t->exempt_sources[i]), "%u.%u.%u.%u/%u",
				 x->addr[0], x->addr[1], x->addr[2], x->addr[3],
				 x->prefix);
		}
	}
	if (cfg->mtls_enabled[0]) {
		t->present |= 1;
		strcpy(t->enabled_backend, cfg->mtls_enabled);
	}
	if (cfg->mtls_nbackends)
		t->present |= 2;
	t->nbackends = (uint8_t)cfg->mtls_nbackends;
	for (unsigned i = 0; i < t->nbackends; i++) {
		const struct mf_mtls_backend *c = &cfg->mtls[i];
		struct core_backend *b = &t->backends[i];

		b->present = 7;		/* name, type, mode */
		memcpy(b->name, c->name, sizeof(b->name));
		b->name[sizeof(b->name) - 1] = 0;
		b->type = c->type;
		b->mode = c->mode;
		if (c->cert_validity_s) {
			b->present |= 1u << 3;
			b->dp_cert.present = 1;
			b->dp_cert.rotation.present = 1;
			b->dp_cert.rotation.expiration = c->cert_validity_s;
		}
		if (c->type == MF_MTLS_PROVIDED) {
			b->present |= 1u << 4;
			b->conf.present = 3;
			b->conf.cert.present = b->conf.key.present = 1;
			memcpy(b->conf.cert.file, c->cert_file,
			       sizeof(b->conf.cert.file));
			memcpy(b->conf.key.file, c->key_file,
			       sizeof(b->conf.key.file));
			b->conf.cert.file[MF_PATH_MAX - 1] = 0;
			b->conf.key.file[MF_PATH_MAX - 1] = 0;
		}
		if (c->timeouts & MF_MTLS_T_REQUEST) {
			b->present |= 1u << 3;
			b->dp_cert.present |= 2;
			b->dp_cert.request_timeout = c->request_timeout_ms;
		}
		if (c->timeouts & (MF_MTLS_T_ROOT_CHAIN |
				   MF_MTLS_T_ROOT_CHAIN_REQUEST))
			b->present |= 1u << 5;
		if (c->timeouts & MF_MTLS_T_ROOT_CHAIN_REQUEST) {
			b->root_chain.present = 1;
			b->root_chain.request_timeout =
				c->root_chain_timeout_ms;
		}
	}
}

/* Every object's metadata.labels and annotations, once the objects
 * exist. */
static void dc_labels(struct dc_ctx *c, struct model_set *set)
{
	const char *map = rec_map_info(REC_LABELS)->name;

	for (size_t i = 0; i < rec_count(c->rs, REC_LABELS); i++) {
		const struct mf_labels_key *k = rec_key(c->rs, REC_LABELS, i);
		const struct mf_labels *v = rec_val(c->rs, REC_LABELS, i);
		struct model_obj *o = NULL;

		if (!dc_terminated(k->name, sizeof(k->name))) {
			dc_err(c, map, "unterminated object name");
			continue;
		}
		if (k->kind < MODEL_KIND_MAX)
			o = model_set_find(set, k->kind, k->name);
		if (k->meta > MF_META_ANNOTATIONS)
			dc_err(c, map, "%s \"%s\": unknown metadata %u",
			       k->kind < MODEL_KIND_MAX ?
			       model_kind_name(k->kind) : "an unknown kind",
			       k->name, k->meta);
		else if (!o)
			dc_err(c, map, "labels of %s \"%s\", which is not there",
			       k->kind < MODEL_KIND_MAX ?
			       model_kind_name(k->kind) : "an unknown kind",
			       k->name);
		else if (!v->tags || !model_tags_get(set, v->tags))
			dc_err(c, map, "%s \"%s\": no tag set has id %u",
			       model_kind_name(k->kind), k->name, v->tags);
		else if (k->meta == MF_META_ANNOTATIONS)
			o->annotations = v->tags;
		else
			o->labels = v->tags;
	}
}

/* The maps hold every Workload's identity and service; the identity a
 * MeshIdentity gives and the service a MeshService that selects it is
 * were not written in the Workload, so they are left out again, and
 * follow the MeshIdentity or MeshService when that changes. */
static void dc_implied(struct model_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		struct model_obj *o = &set->objs[i];
		struct core_workload *w = model_spec(o);
		const struct model_obj *mid, *ms;
		char id[MF_SPIFFE_MAX], why[8];

		if (o->kind != MODEL_WORKLOAD)
			continue;
		mid = identity_select(set, o);
		if (mid && !identity_render(set, mid, o, id, sizeof(id), why,
					    sizeof(why)) &&
		    !strcmp(id, w->identity)) {
			memset(w->identity, 0, sizeof(w->identity));
			w->present &= ~(1u << CW_IDENTITY);
		}
		ms = msvc_of_workload(set, o, NULL);
		if (ms && !strcmp(ms->name, w->service)) {
			memset(w->service, 0, sizeof(w->service));
			w->present &= ~(1u << CW_SERVICE);
		}
	}
}

int decompile_records(const struct rec_set *rs, struct model_set *set,
		      struct diag *d)
{
	struct dc_ctx c = { .rs = rs, .d = d };
	const struct mf_config *cfg = &rs->config;
	size_t nsvc = rec_count(rs, REC_SERVICES);
	size_t nnodes = 0;
	struct dc_svc *svcs;
	struct dc_node *nodes;
	struct core_service *cs;
	struct core_workload *w;
	struct core_node *cn;
	struct model_obj *o;
	int err = 0;

	svcs = calloc(nsvc ? nsvc : 1, sizeof(*svcs));
	if (!svcs)
		return -ENOMEM;
	nodes = calloc(rec_count(rs, REC_NODES) + 1, sizeof(*nodes));
	if (!nodes) {
		free(svcs);
		return -ENOMEM;
	}
	/* At most one object per record (and the Mesh): one allocation. */
	{
		size_t total = 1;

		for (int m = 0; m < REC_MAP_MAX; m++)
			if (m != REC_TAGSETS && m != REC_STRINGS &&
			    m != REC_IDENTITIES && m != REC_AUTHZ &&
			    m != REC_LABELS && m != REC_GW_INSTANCES)
				total += rec_count(rs, m);
		err = model_set_reserve(set, total);
		if (err)
			goto out;
	}

	if (cfg->flags & MF_CONFIG_F_MESH) {
		if (!dc_terminated(cfg->mesh, sizeof(cfg->mesh)) ||
		    !dc_terminated(cfg->trust_domain,
				   sizeof(cfg->trust_domain)) ||
		    !dc_terminated(cfg->mtls_enabled,
				   sizeof(cfg->mtls_enabled)) ||
		    cfg->mtls_nbackends > MF_MTLS_BACKENDS_MAX ||
		    cfg->nexempt > MF_EXEMPT_MAX ||
		    cfg->fw_ndeny > MF_FW_DENY_MAX ||
		    dc_mesh_kuma_check(&cfg->kuma)) {
			dc_err(&c, MF_MAP_CONFIG, "malformed");
		} else {
			o = dc_obj(set, MODEL_MESH, cfg->mesh);
			if (!o) {
				err = -ENOMEM;
				goto out;
			}
			dc_mesh(model_spec(o), cfg);
		}
	}

	for (size_t i = 0; i < rec_count(rs, REC_TAGSETS); i++) {
		const struct mf_tagset_key *k = rec_key(rs, REC_TAGSETS, i);
		struct mf_tagset ts = *(const struct mf_tagset *)
					       rec_val(rs, REC_TAGSETS, i);
		struct mf_tagset canon = ts;

		/* Only canonical sets can be what apply wrote. */
		if (model_tags_canon(&canon) ||
		    memcmp(&canon, &ts, sizeof(ts))) {
			dc_err(&c, rec_map_info(REC_TAGSETS)->name, "tag set %u is malformed",
			       k->id);
			continue;
		}
		err = model_tags_insert(set, k->id, &ts);
		if (err == -ENOMEM)
			goto out;
		if (err)
			dc_err(&c, rec_map_info(REC_TAGSETS)->name, "tag set %u: %s", k->id,
			       strerror(-err));
		err = 0;
	}

	for (size_t i = 0; i < rec_count(rs, REC_STRINGS); i++) {
		const struct mf_string_key *k = rec_key(rs, REC_STRINGS, i);
		const struct mf_string *v = rec_val(rs, REC_STRINGS, i);
		const char *why = sch_str_check(v);

		/* Only what sch_str_make() gives can be what apply wrote. */
		if (why) {
			dc_err(&c, rec_map_info(REC_STRINGS)->name,
			       "string %u is malformed: %s", k->id, why);
			continue;
		}
		err = model_str_insert(set, k->id, v);
		if (err == -ENOMEM)
			goto out;
		if (err)
			dc_err(&c, rec_map_info(REC_STRINGS)->name,
			       "string %u: %s", k->id, strerror(-err));
		err = 0;
	}

	for (size_t i = 0; i < rec_count(rs, REC_NODES); i++) {
		const struct mf_node_key *k = rec_key(rs, REC_NODES, i);
		const struct mf_node *v = rec_val(rs, REC_NODES, i);

		if (!dc_terminated(k->name, sizeof(k->name))) {
			dc_err(&c, rec_map_info(REC_NODES)->name, "unterminated node name");
			continue;
		}
		o = dc_obj(set, MODEL_NODE, k->name);
		if (!o) {
			err = -ENOMEM;
			goto out;
		}
		cn = model_spec(o);
		cn->present = 3;
		memcpy(cn->address, v->ip, 4);
		cn->tunnel_port = v->tunnel_port;
		memcpy(nodes[nnodes].ip, v->ip, 4);
		nodes[nnodes++].obj = (size_t)(o - set->objs);
	}
	qsort(nodes, nnodes, sizeof(*nodes), dc_node_cmp);

	for (size_t i = 0; i < nsvc; i++) {
		const struct mf_service_key *k = rec_key(rs, REC_SERVICES, i);
		const struct mf_service *v = rec_val(rs, REC_SERVICES, i);

		svcs[i].id = v->id;
		svcs[i].s = v;
		if (!dc_terminated(v->name, sizeof(v->name))) {
			dc_err(&c, rec_map_info(REC_SERVICES)->name, "unterminated service name");
			continue;
		}
		if (k->proto != MF_PROTO_TCP) {
			dc_err(&c, rec_map_info(REC_SERVICES)->name,
			       "service \"%s\": protocol %u is not tcp",
			       v->name, k->proto);
			continue;
		}
		/* A MeshService's ports: the object is its spec's
		 * (mf_mesh_services), the address is allocated; a
		 * MeshExternalService's and a MeshMultiZoneService's
		 * likewise (mf_ext_services, mf_mz_services). */
		if (v->flags & (MF_SERVICE_F_MESH_SERVICE |
				MF_SERVICE_F_EXTERNAL |
				MF_SERVICE_F_MULTI_ZONE))
			continue;
		o = dc_obj(set, MODEL_SERVICE, v->name);
		if (!o) {
			err = -ENOMEM;
			goto out;
		}
		cs = model_spec(o);
		cs->present = (1u << CS_VIP) | (1u << CS_PORT);
		memcpy(cs->vip, k->vip, 4);
		cs->port = k->port;
		/* Written or left out as applied: left out, the endpoints
		 * decide again, from the tags they come back with. */
		if (v->flags & MF_SERVICE_F_PROTOCOL_SPEC) {
			cs->present |= 1u << CS_PROTOCOL;
			cs->protocol = v->flags & MF_SERVICE_F_HTTP ?
				       CS_PROTOCOL_HTTP : CS_PROTOCOL_TCP;
		}
	}
	qsort(svcs, nsvc, sizeof(*svcs), dc_svc_cmp);
	for (size_t i = 1; i < nsvc; i++)
		if (svcs[i].id == svcs[i - 1].id &&
		    !((svcs[i].s->flags & (MF_SERVICE_F_MESH_SERVICE |
					    MF_SERVICE_F_MULTI_ZONE)) &&
		      !strncmp(svcs[i].s->name, svcs[i - 1].s->name,
			       sizeof(svcs[i].s->name))))
			dc_err(&c, rec_map_info(REC_SERVICES)->name,
			       "services \"%s\" and \"%s\" share id %u",
			       svcs[i - 1].s->name, svcs[i].s->name,
			       svcs[i].id);

	for (size_t i = 0; i < rec_count(rs, REC_IDENTITIES); i++) {
		const struct mf_identity *v = rec_val(rs, REC_IDENTITIES, i);

		if (!dc_terminated(v->spiffe, sizeof(v->spiffe)))
			dc_err(&c, rec_map_info(REC_IDENTITIES)->name,
			       "identity %u: unterminated string",
			       ((const struct mf_identity_key *)
					rec_key(rs, REC_IDENTITIES, i))->id);
	}

	for (size_t i = 0; i < rec_count(rs, REC_ENDPOINTS); i++) {
		const struct mf_endpoint_key *k = rec_key(rs, REC_ENDPOINTS, i);
		const struct mf_endpoint *v = rec_val(rs, REC_ENDPOINTS, i);
		const struct mf_service *s;
		const struct mf_identity *id;
		const struct model_obj *node;
		char node_name[MF_NAME_MAX];
		unsigned nmatch;

		if (!dc_terminated(v->name, sizeof(v->name))) {
			dc_err(&c, rec_map_info(REC_ENDPOINTS)->name, "unterminated string");
			continue;
		}
		/* A Dataplane's: the object is its spec's
		 * (mf_dataplanes). */
		if (v->flags & MF_ENDPOINT_F_DATAPLANE)
			continue;
		node = dc_node_find(set, nodes, nnodes, v->node_ip, &nmatch);
		if (!node) {
			dc_err(&c, rec_map_info(REC_ENDPOINTS)->name,
			       "workload \"%s\": %s node has address "
			       "%u.%u.%u.%u", v->name, nmatch ? "more than one"
			       : "no", v->node_ip[0], v->node_ip[1],
			       v->node_ip[2], v->node_ip[3]);
			continue;
		}
		cn = model_spec(node);
		if (v->tunnel_port != cn->tunnel_port) {
			dc_err(&c, rec_map_info(REC_ENDPOINTS)->name,
			       "workload \"%s\": tunnel port %u, but its "
			       "node \"%s\" has %u", v->name, v->tunnel_port,
			       node->name, cn->tunnel_port);
			continue;
		}
		/* Copied: adding the Workload may move the set's objects. */
		strcpy(node_name, node->name);
		s = dc_svc_find(svcs, nsvc, v->service_id);
		id = dc_identity(rs, v->identity_id);
		if (!s || !id) {
			dc_err(&c, rec_map_info(REC_ENDPOINTS)->name,
			       "workload \"%s\": no %s has id %u", v->name,
			       !s ? "service" : "identity",
			       !s ? v->service_id : v->identity_id);
			continue;
		}
		o = dc_obj(set, MODEL_WORKLOAD, v->name);
		if (!o) {
			err = -ENOMEM;
			goto out;
		}
		w = model_spec(o);
		w->present = (1u << CW_NODE) | (1u << CW_IP) |
			     (1u << CW_PORT) | (1u << CW_SERVICE) |
			     (1u << CW_IDENTITY) |
			     (v->tags ? 1u << CW_TAGS : 0);
		strcpy(w->node, node_name);
		memcpy(w->ip, k->ip, 4);
		w->port = v->port;
		strcpy(w->service, s->name);
		strcpy(w->identity, id->spiffe);
		w->tags = v->tags;
		if (v->tags && !model_tags_get(set, v->tags))
			dc_err(&c, rec_map_info(REC_ENDPOINTS)->name,
			       "workload \"%s\": no tag set has id %u",
			       v->name, v->tags);
	}

	/* Builtin gateway instances are their Dataplanes' (mf_dataplanes),
	 * which come back as written: nothing to make of them, only what
	 * would keep the agent from reading one to report. */
	for (size_t i = 0; i < rec_count(rs, REC_GW_INSTANCES); i++) {
		const struct mf_gw_instance_key *k =
			rec_key(rs, REC_GW_INSTANCES, i);
		const struct mf_gw_instance *v =
			rec_val(rs, REC_GW_INSTANCES, i);
		const char *map = rec_map_info(REC_GW_INSTANCES)->name;

		if (!dc_terminated(k->name, sizeof(k->name)) ||
		    !dc_terminated(v->name, sizeof(v->name)) ||
		    !dc_terminated(v->node, sizeof(v->node)))
			dc_err(&c, map, "unterminated string");
		else if (!dc_identity(rs, v->identity_id))
			dc_err(&c, map, "gateway instance \"%s\": no identity "
			       "has id %u", v->name, v->identity_id);
	}

	err = dc_gen_policies(&c, set);
	if (!err) {
		dc_labels(&c, set);
		dc_implied(set);
	}
out:
	free(nodes);
	free(svcs);
	if (err)
		return err;
	return c.errors ? -EBADMSG : 0;
}
