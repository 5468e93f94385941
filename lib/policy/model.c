// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static const struct kind_desc *const model_core_kinds[] = {
#define MODEL_CORE_DESC(ID, desc) &desc,
	KINDS_CORE(MODEL_CORE_DESC)
#undef MODEL_CORE_DESC
};

_Static_assert(sizeof(model_core_kinds) / sizeof(model_core_kinds[0]) ==
	       MODEL_GEN_FIRST, "enum model_kind counts the core kinds");

const struct kind_desc *model_kind_desc(enum model_kind k)
{
	if ((unsigned)k < MODEL_GEN_FIRST)
		return model_core_kinds[k];
	if (k < MODEL_KIND_MAX)
		return kinds_all[k - MODEL_GEN_FIRST];
	return NULL;
}

const char *model_kind_name(enum model_kind kind)
{
	const struct kind_desc *kd = model_kind_desc(kind);

	return kd ? kd->name : "?";
}

/* Room for every kind's name and its separator. */
static char model_want[64 * MODEL_KIND_MAX];
static pthread_once_t model_want_once = PTHREAD_ONCE_INIT;

static void model_want_build(void)
{
	size_t len = (size_t)snprintf(model_want, sizeof(model_want), "want");

	for (int k = 0; k < MODEL_KIND_MAX && len < sizeof(model_want); k++)
		len += (size_t)snprintf(model_want + len,
					sizeof(model_want) - len, "%s%s",
					!k ? " " : k + 1 == MODEL_KIND_MAX ?
					" or " : ", ", model_kind_name(k));
}

const char *model_kinds_want(void)
{
	pthread_once(&model_want_once, model_want_build);
	return model_want;
}

int model_kind_parse(const char *name)
{
	for (int k = 0; k < MODEL_KIND_MAX; k++)
		if (!strcmp(name, model_kind_name(k)))
			return k;
	return -1;
}

const struct model_rule_list model_rule_lists[MODEL_RULE_LISTS] = {
	{ "allow", MF_AUTHZ_ALLOW },
	{ "deny", MF_AUTHZ_DENY },
	{ "allowWithShadowDeny", MF_AUTHZ_ALLOW_SHADOW_DENY },
};

void model_set_init(struct model_set *s)
{
	memset(s, 0, sizeof(*s));
}

static void model_obj_release(struct model_obj *o)
{
	free(o->pol.recs);
	free(o->pol.refs);
	o->pol.recs = NULL;
	o->pol.refs = NULL;
	o->pol.n = o->pol.nrefs = 0;
}

void model_set_free(struct model_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		model_obj_release(&s->objs[i]);
	free(s->objs);
	for (size_t i = 0; i < s->nfiles; i++)
		free(s->files[i]);
	free(s->files);
	free(s->tags.sets);
	free(s->tags.ids);
	free(s->order);
	memset(s, 0, sizeof(*s));
}

const char *model_set_file(struct model_set *s, const char *name)
{
	char **files, *copy;

	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i], name))
			return s->files[i];
	copy = strdup(name);
	if (!copy)
		return NULL;
	files = realloc(s->files, (s->nfiles + 1) * sizeof(*files));
	if (!files) {
		free(copy);
		return NULL;
	}
	files[s->nfiles++] = copy;
	s->files = files;
	return copy;
}

int model_set_reserve(struct model_set *s, size_t n)
{
	struct model_obj *o;

	if (s->cap - s->n >= n)
		return 0;
	o = realloc(s->objs, (s->n + n) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	s->objs = o;
	s->cap = s->n + n;
	return 0;
}

struct model_obj *model_set_add(struct model_set *s, enum model_kind kind)
{
	struct model_obj *o;

	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;

		o = realloc(s->objs, cap * sizeof(*o));
		if (!o)
			return NULL;
		s->objs = o;
		s->cap = cap;
	}
	o = &s->objs[s->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->pol.kd = model_kind_desc(kind);
	s->norder = 0;		/* the remembered order is stale */
	return o;
}

/* Copies tag set @id of @from into @s (same id: the content is the
 * same).  Returns 0 or -ENOMEM; an id @from lacks is left to validation. */
static int model_tags_copy(struct model_set *s, const struct model_set *from,
			   uint32_t id)
{
	const struct mf_tagset *ts;

	if (!id || !(ts = model_tags_get(from, id)))
		return 0;
	return model_tags_intern(s, ts) ? 0 : -ENOMEM;
}

struct model_copy_walk {
	struct model_set *s;
	const struct model_set *from;
	int err;
};

static void model_copy_tag(struct model_copy_walk *w, uint32_t id)
{
	int err = model_tags_copy(w->s, w->from, id);

	if (err)
		w->err = err;
}

static void model_copy_tag_cb(void *arg, uint32_t id)
{
	model_copy_tag(arg, id);
}

/* The tag sets an object refers to, into @s. */
static int model_pol_copy_tags(struct model_set *s,
			       const struct model_set *from,
			       const struct model_policy *p)
{
	struct model_copy_walk w = { s, from, 0 };

	for (size_t i = 0; i < p->n; i++)
		kind_rec_tags(p->kd, p->recs + i * p->kd->val_size,
			      model_copy_tag_cb, &w);
	return w.err;
}

int model_set_add_copy(struct model_set *s, const struct model_set *from,
		       const struct model_obj *src)
{
	const struct model_policy *p = &src->pol;
	struct model_ref_loc *refs;
	struct model_obj *o;
	uint8_t *recs;
	int err;

	recs = malloc(p->n ? p->n * p->kd->val_size : 1);
	refs = malloc(p->nrefs ? p->nrefs * sizeof(*refs) : 1);
	if (!recs || !refs) {
		err = -ENOMEM;
		goto fail;
	}
	/* The arrays may be NULL when empty (decompiled objects have no
	 * notes), and memcpy() wants pointers even for 0 bytes. */
	if (p->n)
		memcpy(recs, p->recs, p->n * p->kd->val_size);
	if (p->nrefs)
		memcpy(refs, p->refs, p->nrefs * sizeof(*refs));
	err = model_pol_copy_tags(s, from, p);
	if (!err)
		err = model_tags_copy(s, from, src->labels);
	if (!err)
		err = model_tags_copy(s, from, src->annotations);
	if (err)
		goto fail;
	o = model_set_add(s, src->kind);
	if (!o) {
		err = -ENOMEM;
		goto fail;
	}
	*o = *src;
	/* ownership of the copies moves to the set */
	o->pol.recs = recs;
	o->pol.refs = refs;
	return 0;
fail:
	free(refs);
	free(recs);
	return err;
}

const struct model_ref_loc *model_note(const struct model_obj *o,
				       size_t rec, size_t off)
{
	for (size_t i = 0; i < o->pol.nrefs; i++)
		if (o->pol.refs[i].rec == rec && o->pol.refs[i].off == off)
			return &o->pol.refs[i];
	return NULL;
}

/* FNV-1a over the canonical bytes: cheap, and ids only need to be stable
 * and rarely collide (a collision costs a probe, not correctness). */
static uint32_t model_tags_hash(const struct mf_tagset *ts)
{
	const uint8_t *p = (const uint8_t *)ts;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof(*ts); i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h ? h : 1;
}

static int model_tag_cmp(const void *a, const void *b)
{
	return strcmp(((const struct mf_tag *)a)->key,
		      ((const struct mf_tag *)b)->key);
}

int model_tags_canon(struct mf_tagset *ts)
{
	struct mf_tagset c;

	if (ts->n > MF_TAGS_MAX)
		return -EINVAL;
	memset(&c, 0, sizeof(c));
	c.n = ts->n;
	for (uint32_t i = 0; i < ts->n; i++) {
		/* strncpy on purpose: it NUL-pads the rest of the field */
		strncpy(c.tags[i].key, ts->tags[i].key, MF_TAG_KEY_MAX - 1);
		strncpy(c.tags[i].value, ts->tags[i].value,
			MF_TAG_VALUE_MAX - 1);
	}
	qsort(c.tags, c.n, sizeof(c.tags[0]), model_tag_cmp);
	for (uint32_t i = 1; i < c.n; i++)
		if (!strcmp(c.tags[i - 1].key, c.tags[i].key))
			return -EINVAL;
	*ts = c;
	return 0;
}

static int model_tags_grow(struct model_tags *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64;
	struct mf_tagset *sets = calloc(cap, sizeof(*sets));
	uint32_t *ids = calloc(cap, sizeof(*ids));

	if (!sets || !ids) {
		free(sets);
		free(ids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++) {
		size_t j;

		if (!t->ids[i])
			continue;
		for (j = t->ids[i] & (cap - 1); ids[j]; j = (j + 1) & (cap - 1))
			;
		ids[j] = t->ids[i];
		sets[j] = t->sets[i];
	}
	free(t->sets);
	free(t->ids);
	t->sets = sets;
	t->ids = ids;
	t->cap = cap;
	return 0;
}

/* The slot holding @id, or the free slot where it would go. */
static size_t model_tags_slot(const struct model_tags *t, uint32_t id)
{
	size_t j;

	for (j = id & (t->cap - 1); t->ids[j] && t->ids[j] != id;
	     j = (j + 1) & (t->cap - 1))
		;
	return j;
}

uint32_t model_tags_intern(struct model_set *s, const struct mf_tagset *ts)
{
	struct model_tags *t = &s->tags;
	uint32_t id = model_tags_hash(ts);

	if ((t->n + 1) * 2 > t->cap && model_tags_grow(t))
		return 0;
	for (;;) {
		size_t j = model_tags_slot(t, id);

		if (!t->ids[j]) {
			t->ids[j] = id;
			t->sets[j] = *ts;
			t->n++;
			return id;
		}
		if (!memcmp(&t->sets[j], ts, sizeof(*ts)))
			return id;
		id = id + 1 ? id + 1 : 1;	/* collision: next id */
	}
}

int model_tags_insert(struct model_set *s, uint32_t id,
		      const struct mf_tagset *ts)
{
	struct model_tags *t = &s->tags;
	size_t j;

	if (!id)
		return -EINVAL;
	if ((t->n + 1) * 2 > t->cap && model_tags_grow(t))
		return -ENOMEM;
	j = model_tags_slot(t, id);
	if (t->ids[j])
		return memcmp(&t->sets[j], ts, sizeof(*ts)) ? -EEXIST : 0;
	t->ids[j] = id;
	t->sets[j] = *ts;
	t->n++;
	return 0;
}

const struct mf_tagset *model_tags_get(const struct model_set *s,
				       uint32_t id)
{
	size_t j;

	if (!id || !s->tags.cap)
		return NULL;
	j = model_tags_slot(&s->tags, id);
	return s->tags.ids[j] ? &s->tags.sets[j] : NULL;
}

struct model_obj *model_set_find(const struct model_set *s,
				 enum model_kind kind, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->objs[i].kind == kind && !strcmp(s->objs[i].name, name))
			return &s->objs[i];
	return NULL;
}

static int model_cmp(const void *a, const void *b)
{
	const struct model_obj *x = *(const struct model_obj *const *)a;
	const struct model_obj *y = *(const struct model_obj *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

void model_set_sorted(const struct model_set *s,
		      const struct model_obj **out)
{
	/* The cache is not part of the set's value: a const set may fill
	 * it. */
	struct model_set *w = (struct model_set *)s;
	size_t *order;

	if (s->n && s->norder == s->n) {
		for (size_t i = 0; i < s->n; i++)
			out[i] = &s->objs[s->order[i]];
		return;
	}
	for (size_t i = 0; i < s->n; i++)
		out[i] = &s->objs[i];
	if (!s->n)
		return;
	qsort(out, s->n, sizeof(*out), model_cmp);
	order = realloc(w->order, s->n * sizeof(*order));
	if (!order)
		return;		/* no cache: the next call sorts again */
	for (size_t i = 0; i < s->n; i++)
		order[i] = (size_t)(out[i] - s->objs);
	w->order = order;
	w->norder = s->n;
}

const struct model_obj *model_sorted_find(const struct model_obj **sorted,
					  size_t n, enum model_kind kind,
					  const char *name)
{
	struct model_obj key = { .kind = kind };
	const struct model_obj *kp = &key, **r;

	/* Names that do not fit cannot be in the set. */
	if (strlen(name) >= sizeof(key.name))
		return NULL;
	strcpy(key.name, name);
	r = n ? bsearch(&kp, sorted, n, sizeof(*sorted), model_cmp) : NULL;
	return r ? *r : NULL;
}

bool model_obj_equal(const struct model_obj *a, const struct model_obj *b)
{
	const struct model_policy *x = &a->pol, *y = &b->pol;

	/* Records are zeroed before they are filled (pdoc.h): equal content
	 * is equal bytes. */
	return a->kind == b->kind && !strcmp(a->name, b->name) &&
	       a->labels == b->labels && a->annotations == b->annotations &&
	       x->kd == y->kd && x->n == y->n &&
	       !memcmp(x->recs, y->recs, x->n * x->kd->val_size);
}
