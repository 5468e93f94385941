// SPDX-License-Identifier: Apache-2.0
/*
 * Records read back from the maps are checked against their schema before
 * anything indexes arrays by their counts or prints their strings: a map
 * anyone with CAP_BPF can write must not be able to crash mfctl or the
 * agent.
 */
#include <string.h>

#include "schema.h"

static size_t sch_nnames(const char *const *names)
{
	size_t n = 0;

	while (names && names[n])
		n++;
	return n;
}

static uint64_t sch_int_at(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1:
		return *p;
	case 2: {
		uint16_t v;

		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, 4);
		return v;
	}
	default: {
		uint64_t v;

		memcpy(&v, p, 8);
		return v;
	}
	}
}

static const char *sch_check_field(const struct sch_field *f,
				   const uint8_t *base)
{
	const uint8_t *p = base + f->off;
	const char *why;

	switch (f->type) {
	case SCH_STRING:
		if (!memchr(p, '\0', f->size))
			return "a string is not terminated";
		break;
	case SCH_NAME:
		if (!memchr(p, '\0', MF_NAME_MAX))
			return "a name is not terminated";
		break;
	case SCH_STRREF:
	case SCH_OTLPVAL:
	case SCH_JSONVAL:
		/* Whether the pool holds it is the reader's to say: the
		 * record alone cannot. */
		if (!sch_int_at(p, 4))
			return "a string's id is 0";
		break;
	case SCH_ENUM:
		if (*p > sch_nnames(f->names))
			return "an enum value is unknown";
		break;
	case SCH_FLAGS: {
		size_t n = sch_nnames(f->names);
		uint32_t v = (uint32_t)sch_int_at(p, 4);

		if (n < 32 && (v >> n))
			return "a flag is unknown";
		break;
	}
	case SCH_BOOL:
		if (*p > 1)
			return "a boolean is neither 0 nor 1";
		break;
	case SCH_INT:
		if ((f->min || f->max) &&
		    (sch_int_at(p, f->size) < f->min ||
		     sch_int_at(p, f->size) > f->max))
			return "a number is out of range";
		break;
	case SCH_REF: {
		const struct mf_ref *r = (const struct mf_ref *)p;

		if (r->kind >= MF_REF_KIND_MAX ||
		    (r->kind && !(f->ref_kinds & (1u << r->kind))))
			return "a targetRef kind is not allowed";
		if (!memchr(r->name, '\0', sizeof(r->name)))
			return "a targetRef name is not terminated";
		break;
	}
	case SCH_OBJECT:
		return sch_check(f->sub, p);
	case SCH_LIST: {
		unsigned n = base[f->count_off];

		if (n > f->max_items)
			return "a list is longer than it may be";
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *item = p + (size_t)i * f->item_size;

			if (f->sub->scalar)
				why = sch_check_field(&f->sub->fields[0], item);
			else
				why = sch_check(f->sub, item);
			if (why)
				return why;
		}
		break;
	}
	default:
		break;
	}
	return NULL;
}

const char *sch_check(const struct sch_object *s, const void *obj)
{
	const uint8_t *base = obj;
	uint32_t present;
	const char *why;

	if (!s || !s->nfields)
		return NULL;
	if (s->scalar)
		return sch_check_field(&s->fields[0], base);
	present = sch_present(obj);
	if (s->nfields < 32 && (present >> s->nfields))
		return "a field is marked present that does not exist";
	for (size_t i = 0; i < s->nfields; i++) {
		if (!(present & (1u << i)))
			continue;
		why = sch_check_field(&s->fields[i], base);
		if (why)
			return why;
	}
	return NULL;
}
