/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the policy-kind schema tests (test_kind_<name>.c, one per
 * lib/policy/kind_<name>.c) share: reading a Kuma-style document through
 * mfctl's reader, that must be valid or must fail with exactly one
 * diagnostic; a table of such failures, all run so that one failure does
 * not hide the next; the one policy a document holds, and its tag sets;
 * the round trip through render_obj(), which must give back the same
 * record bytes, records sch_check() accepts, and the same text again; and
 * the layout rules of a kind's tables.
 *
 * Diagnostics name the buffer KH_FILE ("t.yaml" unless the test defines it
 * before the include), as in "t.yaml:7:11: spec.to[0]...: message".
 * Include after "harness/test.h".
 */
#ifndef MF_KINDS_HARNESS_H
#define MF_KINDS_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/test.h"
#include "policy/diag.h"
#include "policy/doc.h"
#include "policy/model.h"
#include "policy/render.h"

#ifndef KH_FILE
#define KH_FILE "t.yaml"
#endif

#define KH_API "apiVersion: kuma.io/v1alpha1\n"
/* The first three lines of a policy @name of @kind, up to "spec:". */
#define KH_DOC(kind, name)                                                    \
	KH_API "kind: " kind "\nmetadata: {name: " name "}\nspec:\n"
/* A targetRef Mesh and one @section ("to" or "from") entry for Mesh, up
 * to its "default:" (four lines). */
#define KH_ENTRY(section)                                                     \
	"  targetRef: {kind: Mesh}\n"                                         \
	"  " section ":\n"                                                    \
	"    - targetRef: {kind: Mesh}\n"                                     \
	"      default:\n"

/* Cases in a static array @a. */
#define KH_NCASES(a) (sizeof(a) / sizeof((a)[0]))

static inline void kh_print_diag(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "  diag: %s\n", d->msgs[i]);
}

/* Parses @yaml, which must give no diagnostic at all, into @set
 * (initialised here).  On success the caller frees @set; on failure it is
 * freed (and empty) already. */
static inline bool kh_parse_ok_kuma(const char *yaml, enum kuma_version v,
				    struct model_set *set)
{
	struct diag d;
	bool ok;

	model_set_init(set);
	set->kuma = v;
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(set, KH_FILE, yaml, strlen(yaml), &d),
		       0) &&
	     ASSERT_EQ(diag_count(&d), 0);
	if (!ok) {
		kh_print_diag(&d);
		model_set_free(set);
	}
	diag_free(&d);
	return ok;
}

/* ... with the default validation (Kuma 2.14's shapes and 3.0's). */
static inline bool kh_parse_ok(const char *yaml, struct model_set *set)
{
	return kh_parse_ok_kuma(yaml, KUMA_2_14, set);
}

/* Parses @yaml with @v's validation: it must fail with exactly the one
 * message @want. */
static inline bool kh_expect1_kuma(const char *yaml, enum kuma_version v,
				   const char *want)
{
	struct model_set set;
	struct diag d;
	bool ok;

	model_set_init(&set);
	set.kuma = v;
	diag_init(&d);
	ok = ASSERT_EQ(doc_parse_buffer(&set, KH_FILE, yaml, strlen(yaml), &d),
		       -EINVAL) &&
	     ASSERT_EQ(diag_count(&d), 1) && ASSERT_STREQ(d.msgs[0], want);
	if (!ok) {
		fprintf(stderr, "  wanted: %s\n", want);
		kh_print_diag(&d);
	}
	diag_free(&d);
	model_set_free(&set);
	return ok;
}

/* ... with the default validation. */
static inline bool kh_expect1(const char *yaml, const char *want)
{
	return kh_expect1_kuma(yaml, KUMA_2_14, want);
}

struct kh_bad {
	const char *yaml;
	const char *want;	/* the one diagnostic it gives */
};

/* Every case of @cases fails with its one message.  All are run, so one
 * run shows every mismatch. */
static inline bool kh_expect_all(const struct kh_bad *cases, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++)
		if (!kh_expect1(cases[i].yaml, cases[i].want)) {
			fprintf(stderr, "  in case %zu\n", i);
			ok = false;
		}
	return ok;
}

#define KH_EXPECT_ALL(a) kh_expect_all((a), KH_NCASES(a))

/* Defines test @fn: each struct kh_bad of the arguments fails with its
 * one message. */
#define KH_TEST_BAD(fn, ...)                                                  \
	static bool fn(void)                                                  \
	{                                                                     \
		static const struct kh_bad cases_[] = { __VA_ARGS__ };        \
                                                                              \
		return KH_EXPECT_ALL(cases_);                                 \
	}

/*
 * Every case of @cases is valid by default (mfctl takes Kuma 2.14's
 * shapes) and fails with its one message under KUMA_3_0 (`--kuma 3.0`).
 * All are run.
 */
static inline bool kh_expect_kuma3(const struct kh_bad *cases, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		struct model_set set;
		bool one = kh_parse_ok(cases[i].yaml, &set);

		if (one)
			model_set_free(&set);
		one &= kh_expect1_kuma(cases[i].yaml, KUMA_3_0, cases[i].want);
		if (!one)
			fprintf(stderr, "  in case %zu\n", i);
		ok &= one;
	}
	return ok;
}

/* Defines test @fn: each struct kh_bad of the arguments is valid by
 * default and fails with its one message under KUMA_3_0. */
#define KH_TEST_KUMA3(fn, ...)                                                \
	static bool fn(void)                                                  \
	{                                                                     \
		static const struct kh_bad cases_[] = { __VA_ARGS__ };        \
                                                                              \
		return kh_expect_kuma3(cases_, KH_NCASES(cases_));            \
	}

/* The one object of @set, which must be a policy of kind @kd with @n
 * records; else NULL. */
static inline const struct model_obj *
kh_only_policy(const struct model_set *set, const struct kind_desc *kd,
	       size_t n)
{
	const struct model_obj *o = set->n == 1 ? &set->objs[0] : NULL;

	if (!ASSERT_EQ(set->n, 1) || !ASSERT_TRUE(o->pol.kd == kd) ||
	    !ASSERT_EQ(o->kind, model_kind_parse(kd->name)) ||
	    !ASSERT_EQ(o->pol.n, n))
		return NULL;
	return o;
}

/* Parses @yaml, which must hold exactly one policy, of kind @kd, with @n
 * records.  Returns its records, or NULL (@set then freed). */
static inline const void *kh_policy(const char *yaml, struct model_set *set,
				    const struct kind_desc *kd, size_t n)
{
	const struct model_obj *o;

	if (!kh_parse_ok(yaml, set))
		return NULL;
	o = kh_only_policy(set, kd, n);
	if (!o)
		model_set_free(set);
	return o ? o->pol.recs : NULL;
}

/* True when tag set @id of @set is exactly the @n pairs of @kv (in key
 * order). */
static inline bool kh_tags_are(const struct model_set *set, uint32_t id,
			       const char *const *kv, uint32_t n)
{
	const struct mf_tagset *ts = model_tags_get(set, id);

	if (!ASSERT_TRUE(ts != NULL) || !ASSERT_EQ(ts->n, n))
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (!ASSERT_STREQ(ts->tags[i].key, kv[2 * i]) ||
		    !ASSERT_STREQ(ts->tags[i].value, kv[2 * i + 1]))
			return false;
	return true;
}

/* Tag @key of tag set @id of @set, or NULL. */
static inline const char *kh_tag(const struct model_set *set, uint32_t id,
				 const char *key)
{
	const struct mf_tagset *ts = model_tags_get(set, id);

	for (uint32_t i = 0; ts && i < ts->n; i++)
		if (!strcmp(ts->tags[i].key, key))
			return ts->tags[i].value;
	return NULL;
}

/* The string @id of @set refers to: "" for 0 (not set), NULL when @set
 * has no such string. */
static inline const char *kh_str(const struct model_set *set, uint32_t id)
{
	const struct mf_string *str = id ? model_str_get(set, id) : NULL;

	return !id ? "" : str ? str->s : NULL;
}

/* @o of @set as a document of its own, as render_obj() writes it.
 * Returns a malloc'd string the caller frees, or NULL. */
static inline char *kh_emit_doc(const struct model_set *set,
				const struct model_obj *o)
{
	char *doc = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&doc, &n);
	struct emit e;

	if (!ASSERT_TRUE(f != NULL))
		return NULL;
	emit_init(&e, EMIT_YAML, emit_to_file, f);
	emit_doc(&e);
	render_obj(&e, set, o);
	fclose(f);
	return doc;
}

/*
 * The YAML render_obj() writes for policy @o of @set parses back to the
 * same record bytes (tag set ids are content hashes, so they are equal
 * across sets); what the maps would hold reads back as valid (sch_check);
 * and writing the parsed copy again gives the same text.
 */
static inline bool kh_round_trip(const struct model_set *set,
				 const struct model_obj *o)
{
	const struct kind_desc *kd = o->pol.kd;
	const struct model_obj *b = NULL;
	char *doc = kh_emit_doc(set, o), *again = NULL;
	struct model_set back;
	bool ok;

	if (!doc)
		return false;
	/* What the agent checks of each record (its conf in the schema the
	 * record says, a route entry's keys). */
	for (size_t i = 0; i < o->pol.n; i++)
		if (!ASSERT_TRUE(!kind_rec_check(kd, o->pol.recs +
						      i * kd->val_size)))
			goto fail;
	if (!kh_parse_ok(doc, &back))
		goto fail;
	b = model_set_find(&back, o->kind, o->name);
	ok = ASSERT_EQ(back.n, 1) && ASSERT_TRUE(b != NULL) &&
	     ASSERT_TRUE(b->pol.kd == kd) &&
	     ASSERT_EQ(b->pol.n, o->pol.n) &&
	     ASSERT_MEMEQ(b->pol.recs, o->pol.recs,
			  o->pol.n * kd->val_size);
	if (ok) {
		again = kh_emit_doc(&back, b);
		ok = ASSERT_TRUE(again != NULL) && ASSERT_STREQ(again, doc);
	}
	model_set_free(&back);
	if (!ok)
		goto fail;
	free(again);
	free(doc);
	return true;
fail:
	fprintf(stderr, "--- emitted:\n%s---\n", doc);
	free(again);
	free(doc);
	return false;
}

/* The end of a test of the one policy of @set: when @ok (its records were
 * as expected), the round trip too.  Frees @set, which may be one that
 * kh_policy() failed on (then @ok is false).  Returns whether all held. */
static inline bool kh_finish(struct model_set *set, bool ok)
{
	ok = ok && kh_round_trip(set, &set->objs[0]);
	model_set_free(set);
	return ok;
}

/*
 * Fields of one object of @s must not overlap each other or the `present`
 * word, list items must hold their object, and nested objects follow the
 * same rules: a wrong offsetof() in a table shows up here rather than as
 * corrupted records.  Only for kinds whose fields share no storage.
 */
static inline bool kh_layout_ok(const struct sch_object *s)
{
	size_t first = s->scalar ? 0 : sizeof(uint32_t);
	bool ok = ASSERT_TRUE(s->nfields >= 1 && s->nfields <= 32);

	for (size_t i = 0; ok && i < s->nfields; i++) {
		const struct sch_field *f = &s->fields[i];
		size_t a = f->off, ae = a + sch_field_size(f);

		ok = ASSERT_GE(a, first) && ASSERT_TRUE(ae > a);
		for (size_t j = i + 1; ok && j < s->nfields; j++) {
			size_t b = s->fields[j].off;
			size_t be = b + sch_field_size(&s->fields[j]);

			ok = ASSERT_TRUE(ae <= b || be <= a);
		}
		if (ok && f->type == SCH_OBJECT)
			ok = kh_layout_ok(f->sub);
		if (ok && f->type == SCH_LIST)
			ok = ASSERT_GE(f->item_size, sch_object_size(f->sub)) &&
			     ASSERT_TRUE(f->max_items > 0) &&
			     ASSERT_TRUE(f->count_off + 1u <= a ||
					 f->count_off >= ae) &&
			     kh_layout_ok(f->sub);
		if (!ok)
			fprintf(stderr, "  %s.%s\n", s->name,
				f->name ? f->name : "(item)");
	}
	return ok;
}

/* The tables of @kd keep kh_layout_ok()'s rules and fit its records, and
 * what the parser makes of @yaml passes the check records read back from
 * a map go through (sch_check). */
static inline bool kh_layout(const struct kind_desc *kd, const char *yaml)
{
	struct model_set set;
	bool ok = ASSERT_TRUE(kd->conf_off + sch_object_size(kd->conf) <=
			      kd->val_size) &&
		  kh_layout_ok(kd->conf) && kh_parse_ok(yaml, &set);

	if (!ok)
		goto out;
	for (size_t i = 0; ok && i < set.objs[0].pol.n; i++) {
		const uint8_t *rec = set.objs[0].pol.recs + i * kd->val_size;
		const char *why = kind_rec_check(kd, rec);

		ok = ASSERT_TRUE(!why);
		if (why)
			fprintf(stderr, "  %s: %s\n", kd->name, why);
	}
	model_set_free(&set);
out:
	if (!ok)
		fprintf(stderr, "  kind %s\n", kd->name);
	return ok;
}

#endif /* MF_KINDS_HARNESS_H */
