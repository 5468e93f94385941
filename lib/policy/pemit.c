// SPDX-License-Identifier: Apache-2.0
/*
 * A schema-driven policy's records -> its spec: YAML in the block style
 * `apply` reads back to the same records, and JSON through sch_json().
 * The records may be decompiled from maps, so counts are clamped to the
 * schema and strings to their arrays, as in lib/schema.c.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "pemit.h"

/* ---- YAML -------------------------------------------------------------- */

struct pe {
	FILE *f;
	const struct model_set *set;
	bool dash;	/* the next line starts a list item ("- ") */
};

/* Starts a line at @indent; the first line of a list item gets its dash
 * in the last two columns of the indent. */
static void pe_line(struct pe *pe, int indent)
{
	if (pe->dash) {
		fprintf(pe->f, "%*s- ", indent - 2, "");
		pe->dash = false;
	} else {
		fprintf(pe->f, "%*s", indent, "");
	}
}

/*
 * True when @s (@n bytes) reads back as the same string unquoted, for this
 * reader and for others: a letter or '/' first (no number, no indicator),
 * then only [A-Za-z0-9._/-], and none of YAML 1.1's booleans and nulls.
 */
static bool pe_plain_ok(const char *s, size_t n)
{
	static const char *const words[] = { "null", "true", "false", "yes",
					     "no", "on", "off", "y", "n", NULL };

	if (!n || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    *s == '/'))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
		      ch == '_' || ch == '/'))
			return false;
	}
	for (const char *const *w = words; *w; w++)
		if (strlen(*w) == n && !strncasecmp(s, *w, n))
			return false;
	return true;
}

/* A string scalar of at most @max bytes of @s: plain when safe, else
 * double-quoted with YAML escapes (bytes >= 0x80 are UTF-8 the reader
 * accepted, so they pass as they are). */
static void pe_str(FILE *f, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (pe_plain_ok(s, n)) {
		fwrite(s, 1, n, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void pemit_tags_yaml(FILE *f, const struct model_set *set, uint32_t id,
		     int indent)
{
	const struct mf_tagset *ts = model_tags_get(set, id);

	if (!ts) {
		/* Applied state that lost its tag set: say so rather than
		 * invent tags. */
		fprintf(f, "%*s# tag set %u is missing\n", indent, "", id);
		return;
	}
	for (uint32_t i = 0; i < ts->n && i < MF_TAGS_MAX; i++) {
		fprintf(f, "%*s", indent, "");
		pe_str(f, ts->tags[i].key, MF_TAG_KEY_MAX);
		fputs(": ", f);
		pe_str(f, ts->tags[i].value, MF_TAG_VALUE_MAX);
		fputc('\n', f);
	}
}

/* "key:" then the tags one level deeper, or "key: {}" without any. */
static void pe_tags(struct pe *pe, const char *key, uint32_t id, int indent)
{
	const struct mf_tagset *ts = model_tags_get(pe->set, id);

	pe_line(pe, indent);
	fprintf(pe->f, "%s:%s\n", key, ts && ts->n ? "" : " {}");
	if (ts && ts->n)
		pemit_tags_yaml(pe->f, pe->set, id, indent + 2);
}

/* The keys of ref @r (kind, name, tags), each a line at @indent. */
static void pe_ref_lines(struct pe *pe, const struct mf_ref *r, int indent)
{
	pe_line(pe, indent);
	if (r->kind && r->kind < MF_REF_KIND_MAX)
		fprintf(pe->f, "kind: %s\n", sch_ref_kind_names[r->kind]);
	else
		fprintf(pe->f, "kind: \"%u\"\n", r->kind);
	if (r->name[0]) {
		pe_line(pe, indent);
		fputs("name: ", pe->f);
		pe_str(pe->f, r->name, sizeof(r->name));
		fputc('\n', pe->f);
	}
	if (r->tags)
		pe_tags(pe, "tags", r->tags, indent);
}

static size_t pe_names_count(const char *const *names)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	return n;
}

/* Scalar value of field @f at @p, after "key: " or "- " (no newline). */
static void pe_scalar(struct pe *pe, const struct sch_field *f,
		      const uint8_t *p)
{
	char buf[48];
	uint64_t v;

	switch (f->type) {
	case SCH_BOOL:
		fputs(sch_get_uint(p, sch_field_size(f)) ? "true" : "false",
		      pe->f);
		break;
	case SCH_INT:
		fprintf(pe->f, "%llu",
			(unsigned long long)sch_get_uint(p, f->size));
		break;
	case SCH_DURATION:
		/* [0-9hms]+ is a plain string to every YAML reader. */
		fputs(sch_fmt_duration(buf, sizeof(buf),
				       (uint32_t)sch_get_uint(p, 4)), pe->f);
		break;
	case SCH_PERCENT:
	case SCH_DECIMAL:
		fputs(sch_fmt_milli(buf, sizeof(buf),
				    (uint32_t)sch_get_uint(p, 4)), pe->f);
		break;
	case SCH_BANDWIDTH:
		fputs(sch_fmt_bandwidth(buf, sizeof(buf), sch_get_uint(p, 8)),
		      pe->f);
		break;
	case SCH_STRING:
		pe_str(pe->f, (const char *)p, f->size);
		break;
	case SCH_ENUM:
		v = sch_get_uint(p, sch_field_size(f));
		if (v >= 1 && v <= pe_names_count(f->names))
			pe_str(pe->f, f->names[v - 1], 256);
		else
			fprintf(pe->f, "\"%llu\"", (unsigned long long)v);
		break;
	default:
		fputs("{}", pe->f);	/* not a scalar type */
		break;
	}
}

static void pe_object(struct pe *pe, const struct sch_object *s,
		      const uint8_t *obj, int indent);

/* True when object @obj of @s has no field present. */
static bool pe_empty(const struct sch_object *s, const uint8_t *obj)
{
	uint32_t mask = s->nfields >= 32 ? ~0u : (1u << s->nfields) - 1;

	return !(sch_present(obj) & mask);
}

/* Scalar list item, object item or flag list entry @p at @indent. */
static void pe_item(struct pe *pe, const struct sch_field *f,
		    const uint8_t *item, int indent)
{
	if (f->sub->scalar) {
		pe_line(pe, indent);
		fputs("- ", pe->f);
		pe_scalar(pe, &f->sub->fields[0], item);
		fputc('\n', pe->f);
	} else if (pe_empty(f->sub, item)) {
		pe_line(pe, indent);
		fputs("- {}\n", pe->f);
	} else {
		pe->dash = true;
		pe_object(pe, f->sub, item, indent + 2);
	}
}

/* Present field @f of object @obj, as lines at @indent. */
static void pe_field(struct pe *pe, const struct sch_field *f,
		     const uint8_t *obj, int indent)
{
	const uint8_t *p = obj + f->off;

	if (f->type == SCH_REF && !f->name) {
		pe_ref_lines(pe, (const struct mf_ref *)p, indent);
		return;
	}
	if (!f->name)
		return;
	switch (f->type) {
	case SCH_OBJECT:
		pe_line(pe, indent);
		if (pe_empty(f->sub, p)) {
			fprintf(pe->f, "%s: {}\n", f->name);
			break;
		}
		fprintf(pe->f, "%s:\n", f->name);
		pe_object(pe, f->sub, p, indent + 2);
		break;
	case SCH_LIST: {
		size_t n = obj[f->count_off];

		if (n > f->max_items)
			n = f->max_items;
		pe_line(pe, indent);
		fprintf(pe->f, "%s:%s\n", f->name, n ? "" : " []");
		for (size_t i = 0; i < n; i++)
			pe_item(pe, f, p + i * f->item_size, indent + 2);
		break;
	}
	case SCH_FLAGS: {
		uint32_t v = (uint32_t)sch_get_uint(p, 4), shown = 0;
		size_t nn = pe_names_count(f->names);

		for (size_t i = 0; i < nn && i < 32; i++)
			if (v & (1u << i))
				shown |= 1u << i;
		pe_line(pe, indent);
		fprintf(pe->f, "%s:%s\n", f->name, shown ? "" : " []");
		for (size_t i = 0; i < nn && i < 32; i++) {
			if (!(shown & (1u << i)))
				continue;
			pe_line(pe, indent + 2);
			fputs("- ", pe->f);
			pe_str(pe->f, f->names[i], 256);
			fputc('\n', pe->f);
		}
		break;
	}
	case SCH_TAGS:
		pe_tags(pe, f->name, (uint32_t)sch_get_uint(p, 4), indent);
		break;
	case SCH_REF:
		pe_line(pe, indent);
		fprintf(pe->f, "%s:\n", f->name);
		pe_ref_lines(pe, (const struct mf_ref *)p, indent + 2);
		break;
	default:
		pe_line(pe, indent);
		fprintf(pe->f, "%s: ", f->name);
		pe_scalar(pe, f, p);
		fputc('\n', pe->f);
		break;
	}
}

/* The present fields of @obj, in schema order, at @indent; the caller
 * made sure at least one is present. */
static void pe_object(struct pe *pe, const struct sch_object *s,
		      const uint8_t *obj, int indent)
{
	for (size_t i = 0; i < s->nfields && i < 32; i++)
		if (sch_has(obj, i))
			pe_field(pe, &s->fields[i], obj, indent);
}

/* "key: {}" or "key:" and the conf one level deeper. */
static void pe_conf(struct pe *pe, const char *key, const struct kind_desc *kd,
		    const uint8_t *rec, int indent)
{
	const uint8_t *conf = rec + kd->conf_off;

	pe_line(pe, indent);
	if (pe_empty(kd->conf, conf)) {
		fprintf(pe->f, "%s: {}\n", key);
		return;
	}
	fprintf(pe->f, "%s:\n", key);
	pe_object(pe, kd->conf, conf, indent + 2);
}

static void pe_target(struct pe *pe, const struct mf_ref *r, int indent)
{
	pe_line(pe, indent);
	fputs("targetRef:\n", pe->f);
	pe_ref_lines(pe, r, indent + 2);
}

static const struct mf_pol_hdr *pe_hdr(const struct model_policy *p,
				       size_t i)
{
	return (const struct mf_pol_hdr *)(p->recs + i * p->kd->val_size);
}

/* spec.<key>: the tag sets of selectors @ids as [{match: TAGS}]. */
static void pe_selectors(struct pe *pe, const char *key, const uint32_t *ids,
			 unsigned n)
{
	if (n > MF_SELECTORS_MAX)
		n = MF_SELECTORS_MAX;
	fprintf(pe->f, "  %s:%s\n", key, n ? "" : " []");
	for (unsigned i = 0; i < n; i++) {
		pe->dash = true;
		pe_tags(pe, "match", ids[i], 6);
	}
}

void pemit_yaml(FILE *f, const struct model_set *set,
		const struct model_obj *o)
{
	const struct model_policy *p = &o->u.pol;
	const struct kind_desc *kd = p->kd;
	struct pe pe = { .f = f, .set = set };
	static const struct mf_ref mesh = { .kind = MF_REF_MESH };

	if (!kd)
		return;
	if (kd->form == KIND_FORM_SOURCES || kd->form == KIND_FORM_SELECTORS) {
		const struct mf_pol_hdr *h = p->n ? pe_hdr(p, 0) : NULL;
		static const struct mf_pol_hdr none;

		if (!h)
			h = &none;
		if (kd->form == KIND_FORM_SOURCES) {
			pe_selectors(&pe, "sources", h->sources, h->nsources);
			pe_selectors(&pe, "destinations", h->destinations,
				     h->ndestinations);
		} else {
			pe_selectors(&pe, "selectors", h->sources,
				     h->nsources);
		}
		if (p->n)
			pe_conf(&pe, "conf", kd, p->recs, 2);
		return;
	}
	pe_target(&pe, p->n ? &pe_hdr(p, 0)->target : &mesh, 2);
	if (kd->form == KIND_FORM_DEFAULT) {
		if (p->n)
			pe_conf(&pe, "default", kd, p->recs, 2);
		return;
	}
	for (uint8_t sec = MF_SEC_TO; sec <= MF_SEC_FROM; sec++) {
		bool any = false;
		long entry = -1;

		for (size_t i = 0; i < p->n; i++) {
			const struct mf_pol_hdr *h = pe_hdr(p, i);
			const uint8_t *rec = p->recs + i * kd->val_size;

			if (h->section != sec)
				continue;
			if (!any)
				fprintf(f, "  %s:\n",
					sec == MF_SEC_TO ? "to" : "from");
			any = true;
			if (kd->form != KIND_FORM_ROUTE) {
				pe.dash = true;
				pe_target(&pe, &h->ref, 6);
				pe_conf(&pe, "default", kd, rec, 6);
				continue;
			}
			/* A route's rules of one entry are consecutive
			 * records with the same hdr.entry. */
			if (h->entry != entry) {
				entry = h->entry;
				pe.dash = true;
				pe_target(&pe, &h->ref, 6);
				pe_line(&pe, 6);
				fputs("rules:\n", f);
			}
			if (pe_empty(kd->conf, rec + kd->conf_off)) {
				fputs("        - {}\n", f);
			} else {
				pe.dash = true;
				pe_object(&pe, kd->conf, rec + kd->conf_off,
					  10);
			}
		}
	}
}

/* ---- JSON -------------------------------------------------------------- */

static void pe_json_write(void *arg, const char *buf, size_t n)
{
	const struct pe *pe = arg;

	fwrite(buf, 1, n, pe->f);
}

static const struct mf_tagset *pe_json_tags(void *arg, uint32_t id)
{
	const struct pe *pe = arg;

	return model_tags_get(pe->set, id);
}

/* A ref or a tag set alone, as sch_json() prints them: wrapped in an
 * object whose one field is the ref (inline) or the tags. */
struct pe_box {
	uint32_t present;
	uint32_t tags;
	struct mf_ref ref;
};

static const struct sch_field pe_ref_field[] = {
	{ .type = SCH_REF, .off = offsetof(struct pe_box, ref) },
};

static const struct sch_object pe_ref_obj = {
	.name = "targetRef",
	.fields = pe_ref_field,
	.nfields = 1,
};

static const struct sch_field pe_match_field[] = {
	{ .name = "match", .type = SCH_TAGS,
	  .off = offsetof(struct pe_box, tags) },
};

static const struct sch_object pe_match_obj = {
	.name = "selector",
	.fields = pe_match_field,
	.nfields = 1,
};

static void pe_json_ref(const struct sch_sink *out, const struct mf_ref *r)
{
	struct pe_box b = { .present = 1, .ref = *r };

	sch_json(out, &pe_ref_obj, &b);
}

static void pe_json_selectors(FILE *f, const struct sch_sink *out,
			      const char *key, const uint32_t *ids, unsigned n)
{
	if (n > MF_SELECTORS_MAX)
		n = MF_SELECTORS_MAX;
	fprintf(f, "\"%s\": [", key);
	for (unsigned i = 0; i < n; i++) {
		struct pe_box b = { .present = 1, .tags = ids[i] };

		if (i)
			fputs(", ", f);
		sch_json(out, &pe_match_obj, &b);
	}
	fputc(']', f);
}

void pemit_json(FILE *f, const struct model_set *set,
		const struct model_obj *o)
{
	const struct model_policy *p = &o->u.pol;
	const struct kind_desc *kd = p->kd;
	struct pe pe = { .f = f, .set = set };
	const struct sch_sink out = { pe_json_write, &pe, pe_json_tags };
	static const struct mf_ref mesh = { .kind = MF_REF_MESH };
	static const struct mf_pol_hdr none;
	const struct mf_pol_hdr *h0 = p->n ? pe_hdr(p, 0) : &none;

	if (!kd) {
		fputs("{}", f);
		return;
	}
	fputc('{', f);
	if (kd->form == KIND_FORM_SOURCES || kd->form == KIND_FORM_SELECTORS) {
		if (kd->form == KIND_FORM_SOURCES) {
			pe_json_selectors(f, &out, "sources", h0->sources,
					  h0->nsources);
			fputs(", ", f);
			pe_json_selectors(f, &out, "destinations",
					  h0->destinations, h0->ndestinations);
		} else {
			pe_json_selectors(f, &out, "selectors", h0->sources,
					  h0->nsources);
		}
		if (p->n) {
			fputs(", \"conf\": ", f);
			sch_json(&out, kd->conf, p->recs + kd->conf_off);
		}
		fputc('}', f);
		return;
	}
	fputs("\"targetRef\": ", f);
	pe_json_ref(&out, p->n ? &h0->target : &mesh);
	if (kd->form == KIND_FORM_DEFAULT) {
		if (p->n) {
			fputs(", \"default\": ", f);
			sch_json(&out, kd->conf, p->recs + kd->conf_off);
		}
		fputc('}', f);
		return;
	}
	for (uint8_t sec = MF_SEC_TO; sec <= MF_SEC_FROM; sec++) {
		bool any = false, rules_open = false;
		long entry = -1;

		for (size_t i = 0; i < p->n; i++) {
			const struct mf_pol_hdr *h = pe_hdr(p, i);
			const uint8_t *rec = p->recs + i * kd->val_size;

			if (h->section != sec)
				continue;
			if (!any)
				fprintf(f, ", \"%s\": [",
					sec == MF_SEC_TO ? "to" : "from");
			if (kd->form != KIND_FORM_ROUTE) {
				fputs(any ? ", {\"targetRef\": " :
					    "{\"targetRef\": ", f);
				pe_json_ref(&out, &h->ref);
				fputs(", \"default\": ", f);
				sch_json(&out, kd->conf, rec + kd->conf_off);
				fputc('}', f);
				any = true;
				continue;
			}
			if (h->entry != entry) {
				if (rules_open)
					fputs("]}, ", f);
				entry = h->entry;
				fputs("{\"targetRef\": ", f);
				pe_json_ref(&out, &h->ref);
				fputs(", \"rules\": [", f);
				rules_open = true;
			} else {
				fputs(", ", f);
			}
			sch_json(&out, kd->conf, rec + kd->conf_off);
			any = true;
		}
		if (rules_open)
			fputs("]}", f);
		if (any)
			fputc(']', f);
	}
	fputc('}', f);
}

/* A JSON string of at most @max bytes of @s. */
static void pe_json_str(FILE *f, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void pemit_tags_json(FILE *f, const struct model_set *set, uint32_t id)
{
	const struct mf_tagset *ts = model_tags_get(set, id);

	if (!ts) {
		fprintf(f, "%u", id);
		return;
	}
	fputc('{', f);
	for (uint32_t i = 0; i < ts->n && i < MF_TAGS_MAX; i++) {
		if (i)
			fputs(", ", f);
		pe_json_str(f, ts->tags[i].key, MF_TAG_KEY_MAX);
		fputs(": ", f);
		pe_json_str(f, ts->tags[i].value, MF_TAG_VALUE_MAX);
	}
	fputc('}', f);
}
