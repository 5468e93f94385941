// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <string.h>

#include "kinds.h"

#define KINDS_IGNORE(...)
#define KINDS_ENTRY(ID, map, val, max, desc) &desc,

const struct kind_desc *const kinds_all[] = {
	MF_POLICY_MAPS(KINDS_IGNORE, KINDS_ENTRY)
};

const size_t kinds_count = sizeof(kinds_all) / sizeof(kinds_all[0]);

const struct kind_desc *kinds_find(const char *name)
{
	for (size_t i = 0; i < kinds_count; i++)
		if (!strcmp(kinds_all[i]->name, name))
			return kinds_all[i];
	return NULL;
}

struct kind_tag_walk {
	kind_tag_fn *fn;
	void *arg;
};

static void kind_ref_tags(const struct kind_tag_walk *w,
			  const struct mf_ref *r)
{
	w->fn(w->arg, r->tags);
	w->fn(w->arg, r->labels);
}

static void kind_tag_cb(void *arg, const struct sch_field *f, const void *p)
{
	const struct kind_tag_walk *w = arg;

	if (f->type == SCH_TAGS)
		w->fn(w->arg, *(const uint32_t *)p);
	else if (f->type == SCH_REF)
		kind_ref_tags(w, p);
}

void kind_rec_tags(const struct kind_desc *kd, const void *rec,
		   kind_tag_fn *fn, void *arg)
{
	struct kind_tag_walk w = { fn, arg };
	const struct mf_pol_hdr *h = rec;

	if (kind_has_hdr(kd)) {
		kind_ref_tags(&w, &h->target);
		kind_ref_tags(&w, &h->ref);
		for (unsigned j = 0; j < h->nsources && j < MF_SELECTORS_MAX;
		     j++)
			fn(arg, h->sources[j]);
		for (unsigned j = 0;
		     j < h->ndestinations && j < MF_SELECTORS_MAX; j++)
			fn(arg, h->destinations[j]);
	}
	if (kd->spec_tags)
		fn(arg, *(const uint32_t *)((const uint8_t *)rec +
					    kd->spec_tags->off));
	sch_walk(kd->conf, (const uint8_t *)rec + kd->conf_off, kind_tag_cb,
		 &w);
	if (kd->entry)
		sch_walk(kd->entry, (const uint8_t *)rec + kd->entry_off,
			 kind_tag_cb, &w);
}

struct kind_str_walk {
	kind_str_fn *fn;
	void *arg;
};

static void kind_str_cb(void *arg, const struct sch_field *f, const void *p)
{
	const struct kind_str_walk *w = arg;

	if (f->type == SCH_STRREF || f->type == SCH_OTLPVAL ||
	    f->type == SCH_JSONVAL)
		w->fn(w->arg, p);
}

void kind_rec_strs(const struct kind_desc *kd, const void *rec,
		   kind_str_fn *fn, void *arg)
{
	struct kind_str_walk w = { fn, arg };

	sch_walk(kind_rec_schema(kd, rec), (const uint8_t *)rec + kd->conf_off,
		 kind_str_cb, &w);
	if (kd->entry)
		sch_walk(kd->entry, (const uint8_t *)rec + kd->entry_off,
			 kind_str_cb, &w);
}

const char *kind_rec_check(const struct kind_desc *kd, const void *rec)
{
	const struct mf_pol_hdr *h = rec;
	const char *why = NULL;

	/* A route's entry without rules has no rule to check. */
	if (kd->form != KIND_FORM_ROUTE || h->rule != MF_ROUTE_NO_RULES)
		why = sch_check(kind_rec_schema(kd, rec),
				(const uint8_t *)rec + kd->conf_off);
	if (!why && kd->entry)
		why = sch_check(kd->entry,
				(const uint8_t *)rec + kd->entry_off);
	return why;
}

int kuma_version_parse(const char *s, enum kuma_version *v)
{
	if (!strcmp(s, "2.14"))
		*v = KUMA_2_14;
	else if (!strcmp(s, "3.0"))
		*v = KUMA_3_0;
	else
		return -EINVAL;
	return 0;
}
