// SPDX-License-Identifier: Apache-2.0
/*
 * The schema engine's record side: JSON output, Kuma's merge, the walk over
 * tags and refs, and the text forms of durations, decimals and bandwidths.
 * Records may come straight from a map (mfctl inspect, the agent), so
 * nothing here trusts a count, an enum value or a string terminator in
 * them: counts are clamped to the schema, strings to their arrays.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "abi_names.h"
#include "otlpval.h"
#include "schema.h"


/* ---- layout ------------------------------------------------------------ */

size_t sch_object_size(const struct sch_object *s)
{
	size_t end = s->scalar ? 0 : sizeof(uint32_t);

	for (size_t i = 0; i < s->nfields; i++) {
		size_t e = s->fields[i].off + sch_field_size(&s->fields[i]);

		if (e > end)
			end = e;
	}
	return end;
}

size_t sch_field_size(const struct sch_field *f)
{
	switch (f->type) {
	case SCH_BOOL:
	case SCH_ENUM:
		return f->size ? f->size : 1;
	case SCH_INT:
	case SCH_STRING:
		return f->size;
	case SCH_DURATION:
	case SCH_PERCENT:
	case SCH_DECIMAL:
	case SCH_FLAGS:
	case SCH_TAGS:
	case SCH_IPV4:
	case SCH_LIFETIME:
	case SCH_STRREF:
	case SCH_OTLPVAL:
	case SCH_JSONVAL:
		return sizeof(uint32_t);
	case SCH_NAME:
		return MF_NAME_MAX;
	case SCH_BANDWIDTH:
		return sizeof(uint64_t);
	case SCH_OBJECT:
		return f->sub ? sch_object_size(f->sub) : 0;
	case SCH_LIST:
		return (size_t)f->item_size * f->max_items;
	case SCH_REF:
		return sizeof(struct mf_ref);
	}
	return 0;
}

uint64_t sch_get_uint(const void *p, size_t size)
{
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	/* memcpy: fields of packed-looking structs need not be aligned for
	 * every size the schema allows. */
	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		return u8;
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	case 4:
		memcpy(&u32, p, 4);
		return u32;
	case 8:
		memcpy(&u64, p, 8);
		return u64;
	}
	return 0;
}

void sch_put_uint(void *p, size_t size, uint64_t v)
{
	uint8_t u8 = (uint8_t)v;
	uint16_t u16 = (uint16_t)v;
	uint32_t u32 = (uint32_t)v;

	switch (size) {
	case 1:
		memcpy(p, &u8, 1);
		break;
	case 2:
		memcpy(p, &u16, 2);
		break;
	case 4:
		memcpy(p, &u32, 4);
		break;
	case 8:
		memcpy(p, &v, 8);
		break;
	}
}

/* Items a list field holds, clamped to the schema. */
static size_t sch_list_count(const struct sch_field *f, const uint8_t *obj)
{
	size_t n;

	if (!obj)	/* a list cannot be a scalar list's item */
		return 0;
	n = obj[f->count_off];

	return n < f->max_items ? n : f->max_items;
}

/* ---- pooled strings ---------------------------------------------------- */

int sch_str_make(struct mf_string *out, const char *s, size_t len)
{
	if (!len || len > MF_STRING_MAX || memchr(s, '\0', len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out->s, s, len);
	out->len = (__u16)len;
	return 0;
}

const char *sch_str_check(const struct mf_string *v)
{
	const char *nul;

	if (!v->len || v->len > MF_STRING_MAX)
		return "its length is out of range";
	nul = memchr(v->s, '\0', sizeof(v->s));
	if (nul != v->s + v->len)
		return "its length is not where its NUL is";
	for (size_t i = v->len; i < sizeof(v->s); i++)
		if (v->s[i])
			return "bytes past its NUL are not zero";
	if (v->_pad)
		return "its padding is not zero";
	return NULL;
}

/* ---- text forms -------------------------------------------------------- */

const char *sch_fmt_duration(char *buf, size_t n, uint32_t ms)
{
	if (ms == 0)
		snprintf(buf, n, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, n, "%uh", ms / 3600000);
	else if (ms % 60000 == 0)
		snprintf(buf, n, "%um", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(buf, n, "%us", ms / 1000);
	else
		snprintf(buf, n, "%ums", ms);
	return buf;
}

/*
 * Go's time.ParseDuration, restricted to what a millisecond count can
 * hold: parts of [digits][.digits]unit, unit h, m, s or ms; "0" alone is
 * zero as in Go.  A fraction must come out in whole milliseconds.
 */
int sch_parse_duration(const char *s, uint32_t *ms)
{
	static const uint64_t pow10[] = { 1, 10, 100, 1000, 10000, 100000,
					   1000000, 10000000, 100000000,
					   1000000000 };
	uint64_t total = 0;
	bool range = false;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	while (*p) {
		uint64_t whole = 0, frac = 0, mult, part;
		unsigned nd = 0, nf = 0;

		for (; *p >= '0' && *p <= '9'; p++, nd++) {
			/* Saturate: anything this big is out of range. */
			if (whole < 10000000000000ull)
				whole = whole * 10 + (uint64_t)(*p - '0');
			else
				range = true;
		}
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9'; p++, nf++) {
				if (nf >= 9)
					return -EINVAL;
				frac = frac * 10 + (uint64_t)(*p - '0');
			}
		}
		if (nd + nf == 0)
			return -EINVAL;
		if (p[0] == 'm' && p[1] == 's') {
			mult = 1;
			p += 2;
		} else if (*p == 'h') {
			mult = 3600000;
			p++;
		} else if (*p == 'm') {
			mult = 60000;
			p++;
		} else if (*p == 's') {
			mult = 1000;
			p++;
		} else {
			return -EINVAL;
		}
		if ((frac * mult) % pow10[nf])
			return -EINVAL;	/* a part below a millisecond */
		part = whole * mult + frac * mult / pow10[nf];
		if (whole > UINT32_MAX || part > UINT32_MAX)
			range = true;
		else
			total += part;
		if (total > UINT32_MAX)
			range = true;
	}
	if (range)
		return -ERANGE;
	*ms = (uint32_t)total;
	return 0;
}

const char *sch_fmt_milli(char *buf, size_t n, uint32_t v)
{
	uint32_t frac = v % 1000;

	if (!frac) {
		snprintf(buf, n, "%u", v / 1000);
	} else {
		unsigned digits = 3;

		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		snprintf(buf, n, "%u.%0*u", v / 1000, (int)digits, frac);
	}
	return buf;
}

int sch_parse_milli(const char *s, uint32_t *v)
{
	uint64_t whole = 0, frac = 0;
	unsigned nd = 0, nf = 0;
	const char *p = s;

	if (!s)
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++, nd++)
		if (whole <= UINT32_MAX)
			whole = whole * 10 + (uint64_t)(*p - '0');
	if (!nd)
		return -EINVAL;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, nf++)
			frac = frac * 10 + (uint64_t)(*p - '0');
		if (nf == 0 || nf > 3)
			return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	while (nf++ < 3)
		frac *= 10;
	if (whole > UINT32_MAX / 1000 ||
	    whole * 1000 + frac > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)(whole * 1000 + frac);
	return 0;
}

static const struct {
	const char *unit;
	uint64_t mult;
} sch_bw_units[] = {
	{ "Gbps", 1000000000ull }, { "gbps", 1000000000ull },
	{ "Mbps", 1000000ull },	   { "mbps", 1000000ull },
	{ "kbps", 1000ull },	   { "Kbps", 1000ull },
	{ "bps", 1ull },
};

const char *sch_fmt_bandwidth(char *buf, size_t n, uint64_t bps)
{
	if (bps && bps % 1000000000ull == 0)
		snprintf(buf, n, "%lluGbps",
			 (unsigned long long)(bps / 1000000000ull));
	else if (bps && bps % 1000000ull == 0)
		snprintf(buf, n, "%lluMbps",
			 (unsigned long long)(bps / 1000000ull));
	else if (bps && bps % 1000ull == 0)
		snprintf(buf, n, "%llukbps", (unsigned long long)(bps / 1000));
	else
		snprintf(buf, n, "%llubps", (unsigned long long)bps);
	return buf;
}

int sch_parse_bandwidth(const char *s, uint64_t *bps)
{
	uint64_t v = 0;
	bool range = false;
	const char *p = s;

	if (!s || *p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			range = true;
		else
			v = v * 10 + d;
	}
	for (size_t i = 0; i < sizeof(sch_bw_units) / sizeof(sch_bw_units[0]);
	     i++) {
		if (strcmp(p, sch_bw_units[i].unit))
			continue;
		if (range || v > UINT64_MAX / sch_bw_units[i].mult)
			return -ERANGE;
		*bps = v * sch_bw_units[i].mult;
		return 0;
	}
	return -EINVAL;
}

/* ---- rendering --------------------------------------------------------- */

static size_t sch_names_count(const char *const *names)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	return n;
}

void sch_emit_tags(struct emit *e, uint32_t id, const struct sch_ids *t)
{
	const struct mf_tagset *ts = t && t->tags ? t->tags(t->arg, id) : NULL;

	/* A tag set the reader cannot resolve shows as its id. */
	if (!ts) {
		emit_uint(e, id);
		return;
	}
	emit_map_begin(e);
	for (uint32_t i = 0; i < ts->n && i < MF_TAGS_MAX; i++) {
		char key[MF_TAG_KEY_MAX];

		memcpy(key, ts->tags[i].key, sizeof(key));
		key[sizeof(key) - 1] = 0;
		emit_key(e, key);
		emit_strn(e, ts->tags[i].value, MF_TAG_VALUE_MAX);
	}
	emit_map_end(e);
}

/* Pooled string @id, or its id when the reader cannot resolve it (as
 * for tag sets). */
static void sch_emit_strref(struct emit *e, uint32_t id,
			    const struct sch_ids *t)
{
	size_t len = 0;
	const char *s = sch_str(t, id, &len);

	if (s)
		emit_strn(e, s, len);
	else
		emit_uint(e, id);
}

/* Pooled OTLP value @id (a JSON value with @json) as it was written
 * (otlpval.h), or its id. */
static void sch_emit_otlpval(struct emit *e, uint32_t id,
			     const struct sch_ids *t, bool json)
{
	size_t len = 0;
	const char *s = sch_str(t, id, &len);

	if (s && json)
		otlpv_emit_json(e, s, len);
	else if (s)
		otlpv_emit(e, s, len);
	else
		emit_uint(e, id);
}

/* The keys of ref @r in the map being written, those it has. */
static void sch_emit_ref_keys(struct emit *e, const struct mf_ref *r,
			      const struct sch_ids *t)
{
	emit_key(e, "kind");
	if (r->kind && r->kind < MF_REF_KIND_MAX)
		emit_str(e, abi_name(&abi_ref_kind, r->kind));
	else
		emit_uint(e, r->kind);
	if (r->name[0]) {
		emit_key(e, "name");
		emit_strn(e, r->name, sizeof(r->name));
	}
	if (r->namespace[0]) {
		emit_key(e, "namespace");
		emit_strn(e, r->namespace, sizeof(r->namespace));
	}
	if (r->labels) {
		emit_key(e, "labels");
		sch_emit_tags(e, r->labels, t);
	}
	if (r->tags) {
		emit_key(e, "tags");
		sch_emit_tags(e, r->tags, t);
	}
	if (r->section[0]) {
		emit_key(e, "sectionName");
		emit_strn(e, r->section, sizeof(r->section));
	}
	if (r->proxy_types) {
		emit_key(e, "proxyTypes");
		emit_list_begin(e);
		for (unsigned i = 0; i < abi_proxy_type.count; i++)
			if (r->proxy_types & (1u << i))
				emit_str(e, abi_name(&abi_proxy_type, i));
		emit_list_end(e);
	}
}

void sch_emit_ref(struct emit *e, const struct mf_ref *r,
		  const struct sch_ids *t)
{
	emit_map_begin(e);
	sch_emit_ref_keys(e, r, t);
	emit_map_end(e);
}

static void sch_emit_value(struct emit *e, const struct sch_field *f,
			   const uint8_t *p, const uint8_t *obj,
			   const struct sch_ids *t);

/* The @n items at @p of list @f, whose object is keyed, as the mapping
 * they were written as. */
static void sch_emit_keyed(struct emit *e, const struct sch_field *f,
			   const uint8_t *p, size_t n, const struct sch_ids *t)
{
	const struct sch_field *kf = &f->sub->fields[0];
	const struct sch_field *vf = &f->sub->fields[1];

	emit_map_begin(e);
	for (size_t i = 0; i < n; i++) {
		const uint8_t *item = p + i * f->item_size;
		char key[256];
		size_t len = strnlen((const char *)item + kf->off, kf->size);

		if (len >= sizeof(key))
			len = sizeof(key) - 1;
		memcpy(key, item + kf->off, len);
		key[len] = 0;
		emit_key(e, key);
		sch_emit_value(e, vf, item + vf->off, item, t);
	}
	emit_map_end(e);
}

/* The value of field @f stored at @p, in object @obj (not an inline
 * ref).  Durations and bandwidths are strings ("10s", "5Mbps"),
 * percentages and decimals numbers. */
static void sch_emit_value(struct emit *e, const struct sch_field *f,
			   const uint8_t *p, const uint8_t *obj,
			   const struct sch_ids *t)
{
	char buf[48];
	uint64_t v;

	switch (f->type) {
	case SCH_BOOL:
		emit_bool(e, sch_get_uint(p, sch_field_size(f)));
		break;
	case SCH_INT:
		emit_uint(e, sch_get_uint(p, f->size));
		break;
	case SCH_DURATION:
		emit_str(e, sch_fmt_duration(buf, sizeof(buf),
					     (uint32_t)sch_get_uint(p, 4)));
		break;
	case SCH_PERCENT:
	case SCH_DECIMAL:
		emit_num(e, sch_fmt_milli(buf, sizeof(buf),
					  (uint32_t)sch_get_uint(p, 4)));
		break;
	case SCH_BANDWIDTH:
		emit_str(e, sch_fmt_bandwidth(buf, sizeof(buf),
					      sch_get_uint(p, 8)));
		break;
	case SCH_STRING:
		emit_strn(e, (const char *)p, f->size);
		break;
	case SCH_ENUM:
		v = sch_get_uint(p, sch_field_size(f));
		if (v >= 1 && v <= sch_names_count(f->names))
			emit_str(e, f->names[v - 1]);
		else
			emit_uint(e, v);	/* not a name: corrupt */
		break;
	case SCH_FLAGS:
		v = sch_get_uint(p, 4);
		emit_list_begin(e);
		for (size_t i = 0; i < sch_names_count(f->names) && i < 32;
		     i++)
			if (v & (1ull << i))
				emit_str(e, f->names[i]);
		emit_list_end(e);
		break;
	case SCH_OBJECT:
		sch_emit(e, f->sub, p, t);
		break;
	case SCH_LIST: {
		size_t n = sch_list_count(f, obj);

		if (f->sub->keyed) {
			sch_emit_keyed(e, f, p, n, t);
			break;
		}
		emit_list_begin(e);
		for (size_t i = 0; i < n; i++) {
			const uint8_t *item = p + i * f->item_size;

			if (f->sub->scalar)
				sch_emit_value(e, &f->sub->fields[0], item,
					       NULL, t);
			else
				sch_emit(e, f->sub, item, t);
		}
		emit_list_end(e);
		break;
	}
	case SCH_TAGS:
		sch_emit_tags(e, (uint32_t)sch_get_uint(p, 4), t);
		break;
	case SCH_REF:
		sch_emit_ref(e, (const struct mf_ref *)p, t);
		break;
	case SCH_IPV4:
		snprintf(buf, sizeof(buf), "%u.%u.%u.%u", p[0], p[1], p[2],
			 p[3]);
		emit_str(e, buf);
		break;
	case SCH_NAME:
		emit_strn(e, (const char *)p, MF_NAME_MAX);
		break;
	case SCH_LIFETIME:
		snprintf(buf, sizeof(buf), "%us",
			 (uint32_t)sch_get_uint(p, 4));
		emit_str(e, buf);
		break;
	case SCH_STRREF:
		sch_emit_strref(e, (uint32_t)sch_get_uint(p, 4), t);
		break;
	case SCH_OTLPVAL:
		sch_emit_otlpval(e, (uint32_t)sch_get_uint(p, 4), t, false);
		break;
	case SCH_JSONVAL:
		sch_emit_otlpval(e, (uint32_t)sch_get_uint(p, 4), t, true);
		break;
	}
}

void sch_emit(struct emit *e, const struct sch_object *s, const void *obj,
	      const struct sch_ids *t)
{
	emit_map_begin(e);
	sch_emit_fields(e, s, obj, t);
	emit_map_end(e);
}

void sch_emit_fields(struct emit *e, const struct sch_object *s,
		     const void *objv, const struct sch_ids *t)
{
	const uint8_t *obj = objv;

	for (size_t i = 0; i < s->nfields && i < 32; i++) {
		const struct sch_field *f = &s->fields[i];

		if (!sch_has(obj, i))
			continue;
		if (f->type == SCH_REF && !f->name) {
			sch_emit_ref_keys(e, (const struct mf_ref *)(obj + f->off),
					  t);
			continue;
		}
		emit_key(e, f->name);
		sch_emit_value(e, f, obj + f->off, obj, t);
	}
}

/* ---- merge and walk ---------------------------------------------------- */

/* True when fields @a and @b of one object share bytes (a C union). */
static bool sch_overlap(const struct sch_field *a, const struct sch_field *b)
{
	size_t ae = a->off + sch_field_size(a), be = b->off + sch_field_size(b);

	return a->off < be && b->off < ae;
}

void sch_merge(const struct sch_object *s, void *dstv, const void *srcv)
{
	uint8_t *dst = dstv;
	const uint8_t *src = srcv;
	uint32_t dmask = sch_present(dst);

	for (size_t i = 0; i < s->nfields && i < 32; i++) {
		const struct sch_field *f = &s->fields[i];

		if (!sch_has(src, i))
			continue;
		/* A union member replaces whichever member dst had. */
		for (size_t j = 0; j < s->nfields && j < 32; j++)
			if (j != i && (dmask & (1u << j)) &&
			    sch_overlap(f, &s->fields[j]))
				dmask &= ~(1u << j);
		if (f->type == SCH_OBJECT && (dmask & (1u << i))) {
			sch_merge(f->sub, dst + f->off, src + f->off);
		} else {
			memcpy(dst + f->off, src + f->off, sch_field_size(f));
			if (f->type == SCH_LIST)
				dst[f->count_off] = src[f->count_off];
		}
		dmask |= 1u << i;
	}
	memcpy(dst, &dmask, sizeof(dmask));
}

static void sch_walk_value(const struct sch_field *f, const uint8_t *p,
			   const uint8_t *obj, sch_walk_fn *fn, void *arg)
{
	switch (f->type) {
	case SCH_TAGS:
	case SCH_STRREF:
	case SCH_OTLPVAL:
	case SCH_JSONVAL:
	case SCH_REF:
	case SCH_NAME:
		fn(arg, f, p);
		break;
	case SCH_OBJECT:
		sch_walk(f->sub, p, fn, arg);
		break;
	case SCH_LIST: {
		size_t n = sch_list_count(f, obj);

		for (size_t i = 0; i < n; i++) {
			const uint8_t *item = p + i * f->item_size;

			if (f->sub->scalar)
				sch_walk_value(&f->sub->fields[0], item, NULL,
					       fn, arg);
			else
				sch_walk(f->sub, item, fn, arg);
		}
		break;
	}
	default:
		break;
	}
}

void sch_walk(const struct sch_object *s, const void *objv, sch_walk_fn *fn,
	      void *arg)
{
	const uint8_t *obj = objv;

	for (size_t i = 0; i < s->nfields && i < 32; i++)
		if (sch_has(obj, i))
			sch_walk_value(&s->fields[i], obj + s->fields[i].off,
				       obj, fn, arg);
}
