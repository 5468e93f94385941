// SPDX-License-Identifier: Apache-2.0
/*
 * One walk per shape, whatever the format: the document head, the spec of
 * each core kind, and the five forms of the schema-driven kinds (pdoc.h),
 * whose entries sch_emit() renders field by field.  Records may come from
 * the maps, so counts are clamped to their arrays here as in schema.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "abi_names.h"
#include "docfield.h"
#include "render.h"
#include "select.h"

/* ---- the forms of the schema-driven kinds ------------------------------ */

static const struct mf_pol_hdr *render_hdr(const struct model_policy *p,
					   size_t i)
{
	return (const struct mf_pol_hdr *)(p->recs + i * p->kd->val_size);
}

/* spec.<key>: the tag sets of selectors @ids as [{match: TAGS}]. */
static void render_selectors(struct emit *e, const char *key,
			     const uint32_t *ids, unsigned n,
			     const struct sch_ids *t)
{
	if (n > MF_SELECTORS_MAX)
		n = MF_SELECTORS_MAX;
	emit_key(e, key);
	emit_list_begin(e);
	for (unsigned i = 0; i < n; i++) {
		emit_map_begin(e);
		emit_key(e, "match");
		sch_emit_tags(e, ids[i], t);
		emit_map_end(e);
	}
	emit_list_end(e);
}

/* "key": the conf of record @rec. */
static void render_conf(struct emit *e, const char *key,
			const struct kind_desc *kd, const uint8_t *rec,
			const struct sch_ids *t)
{
	emit_key(e, key);
	sch_emit(e, kd->conf, rec + kd->conf_off, t);
}

/* spec.to / spec.from: an entry per record of section @sec, or per run
 * of records of one entry for a route (its rules, in order). */
static void render_section(struct emit *e, const struct model_policy *p,
			   uint8_t sec, const struct sch_ids *t)
{
	const struct kind_desc *kd = p->kd;
	bool any = false;
	long entry = -1;

	for (size_t i = 0; i < p->n; i++) {
		const struct mf_pol_hdr *h = render_hdr(p, i);
		const uint8_t *rec = p->recs + i * kd->val_size;

		if (h->section != sec)
			continue;
		if (!any) {
			emit_key(e, sec == MF_SEC_TO ? "to" : "from");
			emit_list_begin(e);
		}
		any = true;
		if (kd->form != KIND_FORM_ROUTE) {
			emit_map_begin(e);
			emit_key(e, "targetRef");
			sch_emit_ref(e, &h->ref, t);
			render_conf(e, "default", kd, rec, t);
			emit_map_end(e);
			continue;
		}
		if (h->entry != entry) {
			if (entry >= 0) {
				emit_list_end(e);
				emit_map_end(e);
			}
			entry = h->entry;
			emit_map_begin(e);
			emit_key(e, "targetRef");
			sch_emit_ref(e, &h->ref, t);
			if (kd->entry)
				sch_emit_fields(e, kd->entry,
						rec + kd->entry_off, t);
			emit_key(e, "rules");
			emit_list_begin(e);
		}
		/* An entry without rules prints as `rules: []`. */
		if (h->rule != MF_ROUTE_NO_RULES)
			sch_emit(e, kd->conf, rec + kd->conf_off, t);
	}
	if (entry >= 0) {
		emit_list_end(e);
		emit_map_end(e);
	}
	if (any)
		emit_list_end(e);
}

/* One rules[].matches[] item. */
static void render_match(struct emit *e, const struct mf_rule_match *m)
{
	emit_map_begin(e);
	if (m->spiffe_type) {
		emit_key(e, "spiffeID");
		emit_map_begin(e);
		emit_key(e, "type");
		emit_str(e, abi_name_or(&abi_authz_match, m->spiffe_type));
		emit_key(e, "value");
		emit_strn(e, m->spiffe, sizeof(m->spiffe));
		emit_map_end(e);
	}
	if (m->sni_type) {
		emit_key(e, "sni");
		emit_map_begin(e);
		emit_key(e, "type");
		emit_str(e, abi_name_or(&abi_authz_match, m->sni_type));
		emit_key(e, "value");
		emit_strn(e, m->sni, sizeof(m->sni));
		emit_map_end(e);
	}
	emit_map_end(e);
}

/* spec.rules: a rule per run of records of one entry, its matches from
 * each record (none when the rule has none), its default from the first. */
static void render_rules(struct emit *e, const struct model_policy *p,
			 const struct sch_ids *t)
{
	const struct kind_desc *kd = p->kd;
	bool any = false;

	for (size_t i = 0; i < p->n; i++) {
		const struct mf_pol_hdr *h = render_hdr(p, i);
		size_t end = i + 1;

		if (h->section != MF_SEC_RULE)
			continue;
		if (!any) {
			emit_key(e, "rules");
			emit_list_begin(e);
		}
		any = true;
		while (end < p->n && render_hdr(p, end)->section == MF_SEC_RULE &&
		       render_hdr(p, end)->entry == h->entry)
			end++;
		emit_map_begin(e);
		if (h->match.spiffe_type || h->match.sni_type) {
			emit_key(e, "matches");
			emit_list_begin(e);
			for (size_t j = i; j < end; j++)
				render_match(e, &render_hdr(p, j)->match);
			emit_list_end(e);
		}
		render_conf(e, "default", kd, p->recs + i * kd->val_size, t);
		emit_map_end(e);
		i = end - 1;
	}
	if (any)
		emit_list_end(e);
}

/* KIND_FORM_PERMISSION: `from` entries, or the `rules` form as one rule
 * whose lists hold its records in order (pdoc.c groups them so). */
static void render_permission(struct emit *e, const struct model_policy *p,
			      const struct sch_ids *t)
{
	const struct kind_desc *kd = p->kd;
	const struct mf_mtp *r = (const void *)p->recs;
	bool rules = p->n && r->hdr.section == MF_MTP_SEC_RULES;

	if (!rules) {
		emit_key(e, "from");
		emit_list_begin(e);
		for (size_t i = 0; i < p->n; i++)
			sch_emit(e, kd->conf, &r[i].conf, t);
		emit_list_end(e);
		return;
	}
	emit_key(e, "rules");
	emit_list_begin(e);
	emit_map_begin(e);
	emit_key(e, "default");
	emit_map_begin(e);
	for (size_t l = 0; l < MODEL_RULE_LISTS; l++) {
		bool head = false;

		for (size_t i = 0; i < p->n; i++) {
			if (r[i].conf.def.action != model_rule_lists[l].action)
				continue;
			if (!head) {
				emit_key(e, model_rule_lists[l].key);
				emit_list_begin(e);
			}
			head = true;
			sch_emit(e, kd->alt, &r[i].conf, t);
		}
		if (head)
			emit_list_end(e);
	}
	emit_map_end(e);
	emit_map_end(e);
	emit_list_end(e);
}

static void render_policy(struct emit *e, const struct model_set *set,
			  const struct model_obj *o)
{
	static const struct mf_ref mesh = { .kind = MF_REF_MESH };
	static const struct mf_pol_hdr none;
	const struct model_policy *p = &o->pol;
	const struct kind_desc *kd = p->kd;
	const struct sch_ids t = model_ids(set);
	const struct mf_pol_hdr *h0 = p->n ? render_hdr(p, 0) : &none;

	if (!kd)
		return;
	if (kd->form == KIND_FORM_SPEC) {
		/* The spec is the record: its fields are the map's keys, and
		 * the caller has opened the map. */
		if (p->n)
			sch_emit_fields(e, kd->conf, p->recs, &t);
		return;
	}
	if (kd->form == KIND_FORM_SOURCES) {
		render_selectors(e, "sources", h0->sources, h0->nsources, &t);
		render_selectors(e, "destinations", h0->destinations,
				 h0->ndestinations, &t);
	} else if (kd->form == KIND_FORM_SELECTORS) {
		render_selectors(e, "selectors", h0->sources, h0->nsources,
				 &t);
		if (kd->spec_tags && p->n &&
		    *(const uint32_t *)(p->recs + kd->spec_tags->off)) {
			emit_key(e, "tags");
			sch_emit_tags(e, *(const uint32_t *)(p->recs +
							     kd->spec_tags->off),
				      &t);
		}
	} else {
		emit_key(e, "targetRef");
		sch_emit_ref(e, p->n ? &h0->target : &mesh, &t);
	}
	switch (kd->form) {
	case KIND_FORM_SOURCES:
	case KIND_FORM_SELECTORS:
		if (p->n)
			render_conf(e, "conf", kd, p->recs, &t);
		break;
	case KIND_FORM_DEFAULT:
		if (p->n)
			render_conf(e, "default", kd, p->recs, &t);
		break;
	case KIND_FORM_TO_FROM:
	case KIND_FORM_ROUTE:
		/* A policy with no entry keeps one record of no section:
		 * an empty list of a section the kind has (MeshTLS has
		 * no `to`). */
		if (p->n == 1 && !h0->section) {
			const unsigned sec = kind_sections(kd, KUMA_2_14);

			emit_key(e, (sec & KIND_SEC_TO) ? "to" :
				    (sec & KIND_SEC_FROM) ? "from" : "rules");
			emit_list_begin(e);
			emit_list_end(e);
			break;
		}
		render_section(e, p, MF_SEC_TO, &t);
		render_section(e, p, MF_SEC_FROM, &t);
		render_rules(e, p, &t);
		break;
	case KIND_FORM_PERMISSION:
		render_permission(e, p, &t);
		break;
	default:
		break;
	}
}

/* Selectors as a list of tag sets, when there are any. */
static void render_tag_list(struct emit *e, const char *key,
			    const uint32_t *ids, unsigned n,
			    const struct sch_ids *t)
{
	if (!n)
		return;
	emit_key(e, key);
	emit_list_begin(e);
	for (unsigned i = 0; i < n && i < MF_SELECTORS_MAX; i++)
		sch_emit_tags(e, ids[i], t);
	emit_list_end(e);
}

void render_record(struct emit *e, const struct kind_desc *kd,
		   const struct mf_pol_key *k, const void *val,
		   const struct sch_ids *t)
{
	const struct mf_pol_hdr *h = val;
	const char *sec = abi_name(&abi_section, h->section);

	emit_map_begin(e);
	emit_key(e, "policy");
	emit_strn(e, k->name, sizeof(k->name));
	emit_key(e, "index");
	emit_uint(e, k->index);
	/* A spec-form record is all spec, without a header. */
	if (!kind_has_hdr(kd)) {
		emit_key(e, "spec");
		sch_emit(e, kd->conf, val, t);
		emit_map_end(e);
		return;
	}
	if (sec) {
		emit_key(e, "section");
		emit_str(e, sec);
	}
	if (h->target.kind) {
		emit_key(e, "targetRef");
		sch_emit_ref(e, &h->target, t);
	}
	if (h->ref.kind) {
		emit_key(e, "entryRef");
		sch_emit_ref(e, &h->ref, t);
	}
	if (kd->form == KIND_FORM_ROUTE) {
		emit_key(e, "entry");
		emit_uint(e, h->entry);
		emit_key(e, "rule");
		emit_uint(e, h->rule);
	}
	render_tag_list(e, kd->form == KIND_FORM_SELECTORS ? "selectors" :
							    "sources",
			h->sources, h->nsources, t);
	render_tag_list(e, "destinations", h->destinations, h->ndestinations,
			t);
	if (kd->spec_tags &&
	    *(const uint32_t *)((const uint8_t *)val + kd->spec_tags->off)) {
		emit_key(e, "tags");
		sch_emit_tags(e, *(const uint32_t *)((const uint8_t *)val +
						     kd->spec_tags->off), t);
	}
	if (kd->entry)
		sch_emit_fields(e, kd->entry,
				(const uint8_t *)val + kd->entry_off, t);
	emit_key(e, "conf");
	sch_emit(e, kd->conf, (const uint8_t *)val + kd->conf_off, t);
	emit_map_end(e);
}

/* ---- objects ----------------------------------------------------------- */

void render_spec(struct emit *e, const struct model_set *set,
		 const struct model_obj *o)
{
	emit_map_begin(e);
	render_policy(e, set, o);
	emit_map_end(e);
}

/*
 * metadata.namespace: the object's label SEL_NAMESPACE_LABEL, which is
 * where doc.c keeps it.  A label whose value is no name (labels take more
 * characters) is printed as a label only, so that what is printed applies.
 */
static void render_namespace(struct emit *e, const struct model_set *set,
			     const struct model_obj *o)
{
	const struct mf_tagset *ts = o->labels ?
					     model_tags_get(set, o->labels) :
					     NULL;

	for (uint32_t i = 0; ts && i < ts->n && i < MF_TAGS_MAX; i++) {
		const struct mf_tag *tag = &ts->tags[i];

		if (strcmp(tag->key, SEL_NAMESPACE_LABEL) ||
		    !memchr(tag->value, 0, sizeof(tag->value)) ||
		    !doc_name_ok(tag->value))
			continue;
		emit_key(e, "namespace");
		emit_str(e, tag->value);
		return;
	}
}

void render_obj(struct emit *e, const struct model_set *set,
		const struct model_obj *o)
{
	const struct sch_ids t = model_ids(set);

	emit_map_begin(e);
	emit_key(e, "apiVersion");
	emit_str(e, MODEL_API_MESHFORGE);
	emit_key(e, "kind");
	emit_str(e, model_kind_name(o->kind));
	emit_key(e, "metadata");
	emit_map_begin(e);
	emit_key(e, "name");
	emit_str(e, o->name);
	render_namespace(e, set, o);
	if (o->labels) {
		emit_key(e, "labels");
		sch_emit_tags(e, o->labels, &t);
	}
	if (o->annotations) {
		emit_key(e, "annotations");
		sch_emit_tags(e, o->annotations, &t);
	}
	emit_map_end(e);
	emit_key(e, "spec");
	render_spec(e, set, o);
	emit_map_end(e);
}

int render_set(FILE *f, enum emit_fmt fmt, const struct model_set *set,
	       unsigned kinds, const char *name)
{
	const struct model_obj **sorted;
	struct emit e;

	sorted = calloc(set->n ? set->n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	model_set_sorted(set, sorted);
	emit_init(&e, fmt, emit_to_file, f);
	e.json_break = 1;
	if (fmt == EMIT_JSON)
		emit_list_begin(&e);
	for (size_t i = 0; i < set->n; i++) {
		const struct model_obj *o = sorted[i];

		if (!(kinds & (1u << o->kind)) ||
		    (name && strcmp(o->name, name)))
			continue;
		emit_doc(&e);
		render_obj(&e, set, o);
	}
	if (fmt == EMIT_JSON)
		emit_list_end(&e);
	free(sorted);
	if (e.err)
		return e.err;
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
