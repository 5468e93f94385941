// SPDX-License-Identifier: Apache-2.0
/*
 * Workload identities from MeshIdentity (identity.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "dataplane.h"
#include "identity.h"
#include "kinds.h"
#include "records.h"
#include "select.h"
#include "spiffe.h"
#include "spiffe_tmpl.h"

/* selector.dataplane's presence bit in struct mf_mid_selector (field 0
 * of its schema, kind_mesh_identity.c). */
#define MID_SEL_DATAPLANE	(1u << 0)

#define ID_ZONE_LABEL		"kuma.io/zone"
#define ID_NAMESPACE_LABEL	"k8s.kuma.io/namespace"
#define ID_SA_LABEL		"k8s.kuma.io/service-account"
#define ID_WORKLOAD_LABEL	"kuma.io/workload"
#define ID_ZONE_DEFAULT		"default"
#define ID_TD_DEFAULT		"{{ .Mesh }}.{{ .Zone }}.mesh.local"
#define ID_PATH_DEFAULT		"/workload/{{ .Workload }}"

enum model_kind identity_kind(void)
{
	return (enum model_kind)(MODEL_GEN_FIRST + REC_MESH_IDENTITIES -
				 REC_KIND_FIRST);
}

/* The value of label @key of @labels (NULL: none), or NULL. */
static const char *id_label(const struct mf_tagset *labels, const char *key,
			    size_t klen)
{
	for (uint32_t i = 0; labels && i < labels->n && i < MF_TAGS_MAX; i++)
		if (strlen(labels->tags[i].key) == klen &&
		    !strncmp(labels->tags[i].key, key, klen))
			return labels->tags[i].value;
	return NULL;
}

const struct model_obj *identity_select(const struct model_set *set,
					const struct model_obj *w)
{
	const struct mf_tagset *labels = model_tags_get(set, w->labels);
	const struct model_obj *best = NULL;
	uint32_t best_n = 0;

	if (!model_set_count(set, identity_kind()))
		return NULL;
	for (size_t i = 0; i < set->n; i++) {
		const struct model_obj *o = &set->objs[i];
		const struct mf_mesh_identity *mi;
		const struct mf_tagset *sel;
		uint32_t n;

		if (o->kind != identity_kind() || !o->pol.n)
			continue;
		mi = (const void *)o->pol.recs;
		/* Kuma: a MeshIdentity without selector.dataplane selects
		 * nothing; empty matchLabels select every Workload. */
		if (!(mi->selector.present & MID_SEL_DATAPLANE))
			continue;
		sel = mi->selector.dataplane.match_labels ?
		      model_tags_get(set, mi->selector.dataplane.match_labels) :
		      NULL;
		if (sel && !sel_labels_match(sel, w->name, labels))
			continue;
		n = sel ? sel->n : 0;
		if (!best || n > best_n ||
		    (n == best_n && strcmp(o->name, best->name) < 0)) {
			best = o;
			best_n = n;
		}
	}
	return best;
}

/* Rendering state: where the text goes and what the actions read. */
struct id_render {
	char *buf;
	size_t n, len;
	const struct mf_tagset *labels;
	const char *name;		/* the Workload's */
	const char *fields[4][2];	/* name, value */
	char *why;
	size_t whyn;
};

static int id_put(struct id_render *r, const char *s, size_t n)
{
	if (r->len + n >= r->n) {
		snprintf(r->why, r->whyn, "the SPIFFE ID is longer than %zu "
			 "characters", r->n - 1);
		return -EINVAL;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->buf[r->len] = '\0';
	return 0;
}

static int id_piece(void *arg, const struct tmpl_piece *p)
{
	struct id_render *r = arg;
	const char *v;

	if (p->type == TMPL_TEXT)
		return id_put(r, p->s, p->n);
	if (p->type == TMPL_LABEL) {
		v = id_label(r->labels, p->s, p->n);
		/* As in selection, the display name is the name unless the
		 * Workload carries one. */
		if (!v && p->n == strlen(SEL_DISPLAY_NAME_LABEL) &&
		    !strncmp(p->s, SEL_DISPLAY_NAME_LABEL, p->n))
			v = r->name;
		if (!v) {
			snprintf(r->why, r->whyn, "its template needs the "
				 "label %.*s, which the Workload does not "
				 "have", (int)p->n, p->s);
			return -EINVAL;
		}
		return id_put(r, v, strlen(v));
	}
	for (size_t i = 0; i < 4 && r->fields[i][0]; i++)
		if (tmpl_is_field(p, r->fields[i][0]))
			return id_put(r, r->fields[i][1],
				      strlen(r->fields[i][1]));
	/* The kind's check admits only the fields above. */
	snprintf(r->why, r->whyn, "its template has {{ .%.*s }}", (int)p->n,
		 p->s);
	return -EINVAL;
}

static const char *id_label_or(const struct mf_tagset *labels,
			       const char *key, const char *dflt)
{
	const char *v = id_label(labels, key, strlen(key));

	return v ? v : dflt;
}

int identity_render(const struct model_set *set, const struct model_obj *mid,
		    const struct model_obj *w, char *buf, size_t n,
		    char *why, size_t whyn)
{
	const struct mf_mesh_identity *mi = (const void *)mid->pol.recs;
	const struct mf_tagset *labels = model_tags_get(set, w->labels);
	const struct model_obj *mesh = NULL;
	char td[MF_SPIFFE_MAX];
	struct id_render r = { .buf = td, .n = sizeof(td), .labels = labels,
			       .name = w->name, .why = why, .whyn = whyn };
	const char *tmpl;
	struct spiffe_id id;
	int err;

	for (size_t i = 0; i < set->n && !mesh; i++)
		if (set->objs[i].kind == MODEL_MESH)
			mesh = &set->objs[i];
	td[0] = '\0';
	r.fields[0][0] = "Mesh";
	r.fields[0][1] = mesh ? mesh->name : "";
	r.fields[1][0] = "Zone";
	r.fields[1][1] = id_label_or(labels, ID_ZONE_LABEL, ID_ZONE_DEFAULT);
	tmpl = mi->spiffe_id.trust_domain[0] ? mi->spiffe_id.trust_domain :
					       ID_TD_DEFAULT;
	err = tmpl_walk(tmpl, id_piece, &r);
	if (err)
		return -EINVAL;

	r = (struct id_render){ .buf = buf, .n = n, .labels = labels,
				.name = w->name, .why = why, .whyn = whyn };
	buf[0] = '\0';
	if (id_put(&r, "spiffe://", 9) || id_put(&r, td, strlen(td)))
		return -EINVAL;
	r.fields[0][0] = "TrustDomain";
	r.fields[0][1] = td;
	r.fields[1][0] = "Namespace";
	r.fields[1][1] = id_label_or(labels, ID_NAMESPACE_LABEL, "");
	r.fields[2][0] = "ServiceAccount";
	r.fields[2][1] = id_label_or(labels, ID_SA_LABEL, "");
	r.fields[3][0] = "Workload";
	r.fields[3][1] = id_label_or(labels, ID_WORKLOAD_LABEL, w->name);
	tmpl = mi->spiffe_id.path[0] ? mi->spiffe_id.path : ID_PATH_DEFAULT;
	err = tmpl_walk(tmpl, id_piece, &r);
	if (err)
		return -EINVAL;
	if (spiffe_parse(buf, &id)) {
		snprintf(why, whyn, "it renders \"%s\", which is not a SPIFFE "
			 "ID (a label it reads is missing or empty?)", buf);
		return -EINVAL;
	}
	return 0;
}

const char *identity_of_workload(const struct model_set *set,
				 const struct model_obj *w, char *buf)
{
	const struct core_workload *cw = model_spec(w);
	const struct model_obj *mid;
	char why[8];

	if (cw->identity[0])
		return cw->identity;
	mid = identity_select(set, w);
	if (!mid || identity_render(set, mid, w, buf, MF_SPIFFE_MAX, why,
				    sizeof(why)))
		return NULL;
	return buf;
}

bool identity_creates_trust(const struct model_obj *mid)
{
	const struct mf_mid_provider *pv =
		&((const struct mf_mesh_identity *)mid->pol.recs)->provider;

	return mid->pol.n && (!pv->type || pv->type == MF_MID_BUNDLED) &&
	       pv->bundled.mesh_trust_creation != MF_MID_TRUST_DISABLED;
}

int identity_domains(const struct model_set *set, const char *td,
		     char (*out)[MF_NAME_MAX], size_t max, uint32_t *ca)
{
	const enum model_kind dp = dp_kind();
	char id[MF_SPIFFE_MAX], why[8];
	struct spiffe_id sid;
	size_t n = 0;
	bool more = false;

	*ca = 0;
	if (!model_set_count(set, identity_kind()))
		return 0;
	for (size_t i = 0; i < set->n; i++) {
		const struct model_obj *o = &set->objs[i], *mid;
		size_t k;

		if (o->kind != MODEL_WORKLOAD &&
		    !(o->kind == dp && dp_node(set, o)))
			continue;
		mid = identity_select(set, o);
		if (!mid || identity_render(set, mid, o, id, sizeof(id), why,
					    sizeof(why)) ||
		    spiffe_parse(id, &sid) ||
		    (td && !strcmp(sid.trust_domain, td)))
			continue;
		for (k = 0; k < n && strcmp(out[k], sid.trust_domain); k++)
			;
		if (k == n && n == max) {
			more = true;
			continue;
		}
		if (k == n)
			strcpy(out[n++], sid.trust_domain);
		if (identity_creates_trust(mid))
			*ca |= 1u << k;
	}
	return more ? -ENOSPC : (int)n;
}
