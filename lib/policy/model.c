// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"
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

/* ---- pools ------------------------------------------------------------ */

/* FNV-1a over the canonical bytes: cheap, and ids only need to be stable
 * and rarely collide (a collision costs a probe, not correctness). */
static uint32_t model_pool_hash(const void *v, size_t size)
{
	const uint8_t *p = v;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < size; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h ? h : 1;
}

/* The slot of @id in @p's table, or the free slot where it would go;
 * the value's index into *@at (SIZE_MAX: free).  @p has slots. */
static size_t model_pool_slot(const struct model_pool *p, uint32_t id,
			      size_t *at)
{
	size_t j = id & (p->nslots - 1);

	for (; p->slots[j]; j = (j + 1) & (p->nslots - 1))
		if (p->ids[p->slots[j] - 1] == id) {
			*at = p->slots[j] - 1;
			return j;
		}
	*at = SIZE_MAX;
	return j;
}

/* Room for one more value (of @size bytes) and its slot: values grow by
 * doubling, slots stay at most half full.  Returns 0 or -ENOMEM. */
static int model_pool_reserve(struct model_pool *p, size_t size)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		uint8_t *vals = realloc(p->vals, cap * size);
		uint32_t *ids;

		if (!vals)
			return -ENOMEM;
		p->vals = vals;
		ids = realloc(p->ids, cap * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		p->ids = ids;
		p->cap = cap;
	}
	if ((p->n + 1) * 2 > p->nslots) {
		size_t nslots = p->nslots ? p->nslots * 2 : 64;
		uint32_t *slots = calloc(nslots, sizeof(*slots));

		if (!slots)
			return -ENOMEM;
		free(p->slots);
		p->slots = slots;
		p->nslots = nslots;
		for (size_t i = 0; i < p->n; i++) {
			size_t j, at;

			j = model_pool_slot(p, p->ids[i], &at);
			p->slots[j] = (uint32_t)(i + 1);
		}
	}
	return 0;
}

/* Appends value @v under @id into free slot @j (model_pool_reserve()
 * made the room). */
static void model_pool_put(struct model_pool *p, size_t j, uint32_t id,
			   const void *v, size_t size)
{
	memcpy(p->vals + p->n * size, v, size);
	p->ids[p->n] = id;
	p->slots[j] = (uint32_t)++p->n;
}

/* Interns @v: its id, the next free one after its hash's on a
 * collision, or 0 on ENOMEM. */
static uint32_t model_pool_intern(struct model_pool *p, const void *v,
				  size_t size)
{
	uint32_t id = model_pool_hash(v, size);

	if (model_pool_reserve(p, size))
		return 0;
	for (;;) {
		size_t at, j = model_pool_slot(p, id, &at);

		if (at == SIZE_MAX) {
			model_pool_put(p, j, id, v, size);
			return id;
		}
		if (!memcmp(p->vals + at * size, v, size))
			return id;
		id = id + 1 ? id + 1 : 1;	/* collision: next id */
	}
}

/* Puts @v under @id.  Returns 0, -EINVAL for id 0, -EEXIST when @id
 * holds another value, or -ENOMEM. */
static int model_pool_insert(struct model_pool *p, uint32_t id,
			     const void *v, size_t size)
{
	size_t at, j;

	if (!id)
		return -EINVAL;
	if (model_pool_reserve(p, size))
		return -ENOMEM;
	j = model_pool_slot(p, id, &at);
	if (at != SIZE_MAX)
		return memcmp(p->vals + at * size, v, size) ? -EEXIST : 0;
	model_pool_put(p, j, id, v, size);
	return 0;
}

static const void *model_pool_get(const struct model_pool *p, uint32_t id,
				  size_t size)
{
	size_t at;

	if (!id || !p->nslots)
		return NULL;
	model_pool_slot(p, id, &at);
	return at == SIZE_MAX ? NULL : p->vals + at * size;
}

static void model_pool_free(struct model_pool *p)
{
	free(p->vals);
	free(p->ids);
	free(p->slots);
	memset(p, 0, sizeof(*p));
}

int model_validate_parse(const char *s, enum model_validate *v)
{
	static const char *const names[] = {
		[MODEL_VALIDATE_STRICT] = "strict",
		[MODEL_VALIDATE_WARN] = "warn",
		[MODEL_VALIDATE_IGNORE] = "ignore",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i])) {
			*v = (enum model_validate)i;
			return 0;
		}
	return -EINVAL;
}

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
	model_pool_free(&s->tags);
	model_pool_free(&s->strs);
	free(s->order);
	memset(s, 0, sizeof(*s));
}

const char *model_set_file(struct model_set *s, const char *name)
{
	for (size_t i = 0; i < s->nfiles; i++)
		if (!strcmp(s->files[i], name))
			return s->files[i];
	return model_set_file_new(s, name);
}

const char *model_set_file_new(struct model_set *s, const char *name)
{
	char **files, *copy;

	copy = strdup(name);
	if (!copy)
		return NULL;
	/* Doubled: a mesh read from the store has a file (its key) per
	 * object, 100k and more. */
	files = grow_room(s->files, s->nfiles, &s->files_cap, sizeof(*files),
			  16);
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

	o = grow_room(s->objs, s->n, &s->cap, sizeof(*o), 16);
	if (!o)
		return NULL;
	s->objs = o;
	o = &s->objs[s->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->pol.kd = model_kind_desc(kind);
	s->nkind[kind]++;
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

/* Copying the strings records refer to from @from into @s: @rec is the
 * record walked, @out its copy, where an id changes when @s gives the
 * string another one (@s holds a different string under its id). */
struct model_str_walk {
	struct model_set *s;
	const struct model_set *from;
	const uint8_t *rec;
	uint8_t *out;
	int err;
};

static void model_copy_str_cb(void *arg, const void *at)
{
	struct model_str_walk *w = arg;
	uint32_t id = kind_str_id(at), got;
	const struct mf_string *str = model_str_get(w->from, id);

	/* An id @from lacks is left to validation. */
	if (w->err || !str)
		return;
	got = model_str_intern(w->s, str);
	if (!got)
		w->err = -ENOMEM;
	else if (got != id)
		memcpy(w->out + ((const uint8_t *)at - w->rec), &got,
		       sizeof(got));
}

/* The strings of the @n records at @src (of kind @kd) into @s, from
 * @from; @dst is their copy (or @src itself), whose ids follow @s's. */
static int model_pol_copy_strs(struct model_set *s,
			       const struct model_set *from,
			       const struct kind_desc *kd, const uint8_t *src,
			       uint8_t *dst, size_t n)
{
	struct model_str_walk w = { .s = s, .from = from };

	for (size_t i = 0; i < n && !w.err; i++) {
		w.rec = src + i * kd->val_size;
		w.out = dst + i * kd->val_size;
		kind_rec_strs(kd, w.rec, model_copy_str_cb, &w);
	}
	return w.err;
}

/* Appends @src, an object of @from, to @s with @recs and @refs, its
 * arrays or copies of them, which @s then owns: the tag sets and strings
 * it refers to are interned in @s, and the string ids in @recs follow
 * @s's.  Returns 0 or -ENOMEM (nothing appended: the arrays are still the
 * caller's, and ids in @recs may have been changed). */
static int model_set_add_arrays(struct model_set *s,
				const struct model_set *from,
				const struct model_obj *src, uint8_t *recs,
				struct model_ref_loc *refs)
{
	const struct model_policy *p = &src->pol;
	struct model_obj *o;
	int err;

	err = model_pol_copy_tags(s, from, p);
	if (!err)
		err = model_pol_copy_strs(s, from, p->kd, p->recs, recs, p->n);
	if (!err)
		err = model_tags_copy(s, from, src->labels);
	if (!err)
		err = model_tags_copy(s, from, src->annotations);
	if (err)
		return err;
	o = model_set_add(s, src->kind);
	if (!o)
		return -ENOMEM;
	*o = *src;
	o->pol.recs = recs;
	o->pol.refs = refs;
	return 0;
}

int model_set_add_copy(struct model_set *s, const struct model_set *from,
		       const struct model_obj *src)
{
	const struct model_policy *p = &src->pol;
	struct model_ref_loc *refs;
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
	err = model_set_add_arrays(s, from, src, recs, refs);
	if (!err)
		return 0;
fail:
	free(refs);
	free(recs);
	return err;
}

int model_set_add_move_own(struct model_set *s, const struct model_set *from,
			   struct model_obj *src)
{
	const char *file;
	struct model_obj *o;
	int err;

	err = model_set_add_arrays(s, from, src, src->pol.recs,
				   src->pol.refs);
	if (err)
		return err;
	/* Its arrays are @s's object's now. */
	src->pol.recs = NULL;
	src->pol.refs = NULL;
	src->pol.n = src->pol.nrefs = 0;
	o = &s->objs[s->n - 1];
	if (!o->loc.file)
		return 0;
	file = model_set_file_new(s, o->loc.file);
	if (!file)
		return -ENOMEM;
	/* One input, one object: all its locations are in that input. */
	o->loc.file = file;
	if (o->name_loc.file)
		o->name_loc.file = file;
	for (size_t i = 0; i < o->pol.nrefs; i++)
		if (o->pol.refs[i].loc.file)
			o->pol.refs[i].loc.file = file;
	return 0;
}

int model_set_pick(struct model_set *s, const size_t *pick, size_t n)
{
	/* Room for a few more: a set picked from is added to again (a
	 * sync's next change), and a full array would be copied whole for
	 * its first new object. */
	const size_t room = n + n / 16 + 16;
	const size_t all = s->n ? s->n : 1;
	size_t *from = malloc(all * sizeof(*from));
	bool *seen = calloc(all, sizeof(*seen));
	struct model_obj tmp, *objs;
	size_t k = n;

	if (!from || !seen) {
		free(from);
		free(seen);
		return -ENOMEM;
	}
	/* Position i gets the object at from[i]: the picked ones first,
	 * then, released, the others, which makes from[] a permutation of
	 * the array, done in place one cycle at a time.  A set picked in
	 * nearly the order it has (a sync's one-key change) moves a few
	 * objects rather than the whole array into fresh memory. */
	for (size_t i = 0; i < n; i++) {
		from[i] = pick[i];
		seen[pick[i]] = true;
	}
	for (size_t i = 0; i < s->n; i++)
		if (!seen[i]) {
			s->nkind[s->objs[i].kind]--;
			model_obj_release(&s->objs[i]);
			from[k++] = i;
		}
	memset(seen, 0, all * sizeof(*seen));	/* now: placed */
	for (size_t i = 0; i < s->n; i++) {
		size_t j = i;

		if (seen[i] || from[i] == i)
			continue;
		tmp = s->objs[i];
		while (from[j] != i) {
			s->objs[j] = s->objs[from[j]];
			seen[j] = true;
			j = from[j];
		}
		s->objs[j] = tmp;
		seen[j] = true;
	}
	free(from);
	free(seen);
	s->n = n;
	s->norder = 0;		/* the remembered order is stale */
	/* An array grown far past its objects (a set that lost many, or
	 * doubled for one more) gives the rest back. */
	if (s->cap > room + room / 16 &&
	    (objs = realloc(s->objs, room * sizeof(*objs)))) {
		s->objs = objs;
		s->cap = room;
	}
	return 0;
}

int model_set_take(struct model_set *s, struct model_set *from)
{
	const size_t first = s->n;
	int err = model_set_reserve(s, from->n);

	if (err)
		return err;
	/* Each object owns its arrays, which now belong to @s. */
	memcpy(s->objs + s->n, from->objs, from->n * sizeof(*s->objs));
	s->n += from->n;
	s->norder = 0;
	for (int k = 0; k < MODEL_KIND_MAX; k++)
		s->nkind[k] += from->nkind[k];
	from->n = 0;
	from->norder = 0;
	memset(from->nkind, 0, sizeof(from->nkind));
	for (size_t i = 0; i < from->tags.n && !err; i++)
		if (!model_tags_intern(s, (const struct mf_tagset *)(
			from->tags.vals + i * sizeof(struct mf_tagset))))
			err = -ENOMEM;
	for (size_t i = first; i < s->n && !err; i++) {
		struct model_policy *p = &s->objs[i].pol;

		err = model_pol_copy_strs(s, from, p->kd, p->recs, p->recs,
					  p->n);
	}
	return err;
}

/* The note paths kept (model_note_path()): open addressing, NULL free,
 * never freed. */
static struct {
	pthread_mutex_t lock;
	char **slots;
	size_t n, cap;			/* cap: a power of two, or 0 */
} model_paths = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* The slot of @path in @slots (@cap), or the free one it would take. */
static char **model_path_slot(char **slots, size_t cap, const char *path)
{
	size_t i = (size_t)hash_fnv_str(HASH_FNV_INIT, path) & (cap - 1);

	while (slots[i] && strcmp(slots[i], path))
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static const char *model_note_path_locked(const char *path)
{
	char **sl;

	if (model_paths.cap) {
		sl = model_path_slot(model_paths.slots, model_paths.cap, path);
		if (*sl)
			return *sl;
	}
	/* Half full at most, so a probe ends soon. */
	if ((model_paths.n + 1) * 2 > model_paths.cap) {
		size_t cap = model_paths.cap ? model_paths.cap * 2 : 256;
		char **slots = calloc(cap, sizeof(*slots));

		if (!slots)
			return NULL;
		for (size_t i = 0; i < model_paths.cap; i++)
			if (model_paths.slots[i])
				*model_path_slot(slots, cap,
						 model_paths.slots[i]) =
					model_paths.slots[i];
		free(model_paths.slots);
		model_paths.slots = slots;
		model_paths.cap = cap;
	}
	sl = model_path_slot(model_paths.slots, model_paths.cap, path);
	*sl = strdup(path);
	if (*sl)
		model_paths.n++;
	return *sl;
}

const char *model_note_path(const char *path)
{
	char cut[MODEL_NOTE_PATH_MAX + 1];
	const char *kept;

	snprintf(cut, sizeof(cut), "%s", path);
	pthread_mutex_lock(&model_paths.lock);
	kept = model_note_path_locked(cut);
	pthread_mutex_unlock(&model_paths.lock);
	return kept;
}

const struct model_ref_loc *model_note(const struct model_obj *o,
				       size_t rec, size_t off)
{
	for (size_t i = 0; i < o->pol.nrefs; i++)
		if (o->pol.refs[i].rec == rec && o->pol.refs[i].off == off)
			return &o->pol.refs[i];
	return NULL;
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

uint32_t model_tags_intern(struct model_set *s, const struct mf_tagset *ts)
{
	return model_pool_intern(&s->tags, ts, sizeof(*ts));
}

int model_tags_insert(struct model_set *s, uint32_t id,
		      const struct mf_tagset *ts)
{
	return model_pool_insert(&s->tags, id, ts, sizeof(*ts));
}

const struct mf_tagset *model_tags_get(const struct model_set *s,
				       uint32_t id)
{
	return model_pool_get(&s->tags, id, sizeof(struct mf_tagset));
}

uint32_t model_str_intern(struct model_set *s, const struct mf_string *str)
{
	return model_pool_intern(&s->strs, str, sizeof(*str));
}

int model_str_insert(struct model_set *s, uint32_t id,
		     const struct mf_string *str)
{
	return model_pool_insert(&s->strs, id, str, sizeof(*str));
}

const struct mf_string *model_str_get(const struct model_set *s, uint32_t id)
{
	return model_pool_get(&s->strs, id, sizeof(struct mf_string));
}

static const struct mf_tagset *model_ids_tags(void *arg, uint32_t id)
{
	return model_tags_get(arg, id);
}

static const char *model_ids_str(void *arg, uint32_t id, size_t *len)
{
	const struct mf_string *str = model_str_get(arg, id);

	if (!str)
		return NULL;
	*len = str->len;
	return str->s;
}

struct sch_ids model_ids(const struct model_set *s)
{
	return (struct sch_ids){ .tags = model_ids_tags, .str = model_ids_str,
				 .arg = (void *)s };
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
