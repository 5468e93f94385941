/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Schemas of the policy kinds' records: which YAML field is which bytes of
 * which ABI struct (include/meshforge/abi_policy.h).  One table per struct
 * drives everything that reads or writes those records, so a field is
 * described once:
 *   - pdoc.c        YAML -> record bytes, with file:line:col diagnostics
 *   - sch_emit()    record bytes -> YAML or JSON (mfctl get, the saved
 *                   state, the agent's /config_dump)
 *   - sch_merge()   Kuma's merge of confs: later policies override the
 *                   fields they set
 *
 * Layout rules the tables rely on (checked by tests/unit/test_schema.c for
 * every kind):
 *   - Every struct a sch_object describes (not scalar list items) starts
 *     with `__u32 present`; field i of the object sets bit i (so at most 32
 *     fields per object).
 *   - A list's count is a __u8 in the enclosing object (count_off).
 *   - Fields of one object may share storage (a C union) when the object's
 *     check() allows only one of them to be present.
 */
#ifndef MF_SCHEMA_H
#define MF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "meshforge/abi.h"

enum sch_type {
	SCH_BOOL = 1,	/* __u8 0/1; YAML true/false */
	SCH_INT,	/* unsigned, size 1, 2, 4 or 8; in [min, max] */
	SCH_DURATION,	/* __u32 ms; YAML "10s", "1m30s", "250ms", "1h" */
	SCH_PERCENT,	/* __u32 thousandths of a percent, 0..100000;
			 * YAML 50, 12.5 or "12.5" */
	SCH_DECIMAL,	/* __u32 thousandths; YAML 1.9 or "1.9"; [min, max]
			 * in thousandths */
	SCH_BANDWIDTH,	/* __u64 bits/s; YAML "10kbps", "5Mbps", "1Gbps",
			 * "800bps" */
	SCH_STRING,	/* char[size], NUL-padded; non-empty; check() */
	SCH_ENUM,	/* __u8: 1 + index of the name in names, 0: unset */
	SCH_FLAGS,	/* __u32: YAML list of names, bit i = names[i] */
	SCH_OBJECT,	/* nested mapping described by sub, at off */
	SCH_LIST,	/* YAML list; items of item_size at off, up to
			 * max_items, count at count_off; each item is a
			 * mapping described by sub, or a scalar when
			 * sub->scalar */
	SCH_TAGS,	/* YAML mapping of tag -> value; __u32 tagset id */
	SCH_REF,	/* a targetRef {kind, name, tags}; struct mf_ref;
			 * kinds allowed in ref_kinds.  With name NULL the
			 * ref is inline: kind, name and tags are keys of the
			 * enclosing mapping (Kuma's backendRefs items) */
	SCH_IPV4,	/* __u8[4], network order; YAML a unicast dotted
			 * quad */
	SCH_NAME,	/* char[MF_NAME_MAX]: an object name (1..63 of
			 * a-z, 0-9, '-', '.'); with refers, the name of an
			 * object of that kind, which must exist */
	SCH_LIFETIME,	/* __u32 seconds; YAML "1d", "12h", "90m", "3600s" */
	SCH_STRREF,	/* __u32 mf_strings id; YAML a string of 1..
			 * MF_STRING_MAX bytes, non-empty; check() */
	SCH_OTLPVAL,	/* __u32 mf_strings id; YAML a string or an
			 * OpenTelemetry AnyValue mapping, pooled in the
			 * form otlpval.h describes */
	SCH_JSONVAL,	/* __u32 mf_strings id; YAML any value JSON holds
			 * (Go's apiextensionsv1.JSON), pooled in the same
			 * form (otlpval.h) */
};

struct sch_object;
struct sch_ids;

struct sch_field {
	const char *name;		/* YAML key (Kuma's spelling) */
	enum sch_type type;
	uint16_t off;			/* from the start of the object */
	uint16_t size;			/* SCH_INT: 1/2/4/8; SCH_STRING: the
					 * array; others: implied */
	bool required;
	uint64_t min, max;		/* SCH_INT, SCH_DURATION (ms),
					 * SCH_DECIMAL; 0/0: no bound */
	const char *const *names;	/* SCH_ENUM, SCH_FLAGS: NULL-ended */
	const struct sch_object *sub;	/* SCH_OBJECT, SCH_LIST */
	uint16_t count_off;		/* SCH_LIST */
	uint16_t item_size;		/* SCH_LIST */
	uint16_t max_items;		/* SCH_LIST */
	uint32_t ref_kinds;		/* SCH_REF: 1u << enum mf_ref_kind */
	/* SCH_STRING, SCH_STRREF: extra rule.  Returns NULL, or why @s is
	 * wrong. */
	const char *(*check)(const char *s);
	/* SCH_TAGS: extra rule over the tags given (a key they need, a
	 * value one key may take).  Returns NULL, or why they are wrong and
	 * in *@key the key whose value is, or NULL for the mapping. */
	const char *(*check_tags)(const struct mf_tagset *ts,
				  const char **key);
	/* SCH_TAGS: an empty mapping reads as the field left out, as an
	 * empty proto map is (Kuma's Dataplane).  SCH_STRING: so does an
	 * empty string, where Kuma takes "" as the field's default. */
	bool empty_ok;
	/* SCH_STRING: a plain number is taken as its text (Kuma's
	 * int-or-string, a port's number or name); else a plain number or
	 * boolean is refused where a string is due, as Kuma's schema does. */
	bool number_ok;
	/* SCH_INT, SCH_ENUM (1 + index), SCH_BOOL: the value an absent
	 * field takes (then present); 0: none. */
	uint64_t def;
	/* SCH_NAME: the kind of the object it names ("Node"). */
	const char *refers;
	/* The parser notes where the value was written (model_ref_loc), for
	 * checks across objects that point at it; SCH_REF and SCH_NAME with
	 * refers always are. */
	bool note;
};

struct sch_object {
	const char *name;		/* for messages: "MeshTimeout default" */
	const struct sch_field *fields;
	size_t nfields;			/* <= 32 */
	/* A list of scalars: one field (name NULL, off 0) is the item. */
	bool scalar;
	/* A map written as a mapping (Kuma's map<string, T>) and kept as a
	 * list of these: field 0, a SCH_STRING, is the key, field 1 the
	 * value; both present in each item. */
	bool keyed;
	/* Rules across fields (exactly one of, min <= max...).  Returns NULL,
	 * or why the object is wrong; called after its fields parsed. */
	const char *(*check)(const void *obj);
	/* The same, for a rule that blames one field: *field gets its index,
	 * and the message points at its value (at the mapping, when the
	 * field is absent). */
	const char *(*check_field)(const void *obj, unsigned *field);
	/* A rule that reads strings the object holds as ids (SCH_STRREF):
	 * as check, with @ids to resolve them. */
	const char *(*check_strs)(const void *obj, const struct sch_ids *ids);
};

#define SCH_NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Writing the tables.  A field is one line that reads as its YAML key: the
 * key, then member @m of struct @st (the tag, without `struct`) that holds
 * the value, then what its type needs.  Sizes, list counts and list bounds
 * come from the member itself (a list @m counts in n<m> and holds as many
 * items as its array), so a table cannot disagree with the ABI struct.
 * Anything else goes in the trailing arguments as designated initializers:
 * SCH_REQUIRED, .check = fn, .def = v, .note = true.
 */
#define SCH_OFF(st, m)		offsetof(struct st, m)
#define SCH_SIZEOF(st, m)	sizeof(((struct st *)0)->m)
#define SCH_COUNTOF(st, m)	(SCH_SIZEOF(st, m) / SCH_SIZEOF(st, m[0]))

#define SCH_REQUIRED		.required = true
#define SCH_RANGE(lo, hi)	.min = (lo), .max = (hi)
/* For a __u32 or a duration: no bound above but the type's. */
#define SCH_AT_LEAST(lo)	SCH_RANGE(lo, UINT32_MAX)

#define SCH_F(yaml, t, st, m, ...)                                            \
	{ .name = (yaml), .type = (t), .off = SCH_OFF(st, m), __VA_ARGS__ }
#define SCH_F_BOOL(yaml, st, m, ...)                                          \
	SCH_F(yaml, SCH_BOOL, st, m, __VA_ARGS__)
#define SCH_F_INT(yaml, st, m, lo, hi, ...)                                   \
	SCH_F(yaml, SCH_INT, st, m, .size = SCH_SIZEOF(st, m),                \
	      SCH_RANGE(lo, hi), __VA_ARGS__)
#define SCH_F_PORT(yaml, st, m, ...)                                          \
	SCH_F_INT(yaml, st, m, 1, 65535, __VA_ARGS__)
#define SCH_F_DURATION(yaml, st, m, ...)                                      \
	SCH_F(yaml, SCH_DURATION, st, m, __VA_ARGS__)
#define SCH_F_PERCENT(yaml, st, m, ...)                                       \
	SCH_F(yaml, SCH_PERCENT, st, m, __VA_ARGS__)
#define SCH_F_DECIMAL(yaml, st, m, lo, hi, ...)                               \
	SCH_F(yaml, SCH_DECIMAL, st, m, SCH_RANGE(lo, hi), __VA_ARGS__)
#define SCH_F_BANDWIDTH(yaml, st, m, ...)                                     \
	SCH_F(yaml, SCH_BANDWIDTH, st, m, __VA_ARGS__)
#define SCH_F_STRING(yaml, st, m, ...)                                        \
	SCH_F(yaml, SCH_STRING, st, m, .size = SCH_SIZEOF(st, m), __VA_ARGS__)
#define SCH_F_ENUM(yaml, st, m, names_, ...)                                  \
	SCH_F(yaml, SCH_ENUM, st, m, .names = (names_), __VA_ARGS__)
#define SCH_F_FLAGS(yaml, st, m, names_, ...)                                 \
	SCH_F(yaml, SCH_FLAGS, st, m, .names = (names_), __VA_ARGS__)
#define SCH_F_OBJECT(yaml, st, m, sub_, ...)                                  \
	SCH_F(yaml, SCH_OBJECT, st, m, .sub = (sub_), __VA_ARGS__)
#define SCH_F_LIST(yaml, st, m, sub_, ...)                                    \
	SCH_F(yaml, SCH_LIST, st, m, .sub = (sub_),                           \
	      .count_off = SCH_OFF(st, n##m),                                 \
	      .item_size = SCH_SIZEOF(st, m[0]),                              \
	      .max_items = SCH_COUNTOF(st, m), __VA_ARGS__)
#define SCH_F_TAGS(yaml, st, m, ...)                                          \
	SCH_F(yaml, SCH_TAGS, st, m, __VA_ARGS__)
#define SCH_F_IPV4(yaml, st, m, ...)                                          \
	SCH_F(yaml, SCH_IPV4, st, m, __VA_ARGS__)
#define SCH_F_NAME(yaml, st, m, ...)                                          \
	SCH_F(yaml, SCH_NAME, st, m, __VA_ARGS__)
#define SCH_F_STRREF(yaml, st, m, ...)                                        \
	SCH_F(yaml, SCH_STRREF, st, m, __VA_ARGS__)
#define SCH_F_OTLPVAL(yaml, st, m, ...)                                       \
	SCH_F(yaml, SCH_OTLPVAL, st, m, __VA_ARGS__)
#define SCH_F_JSONVAL(yaml, st, m, ...)                                       \
	SCH_F(yaml, SCH_JSONVAL, st, m, __VA_ARGS__)
/* The one field of a list of scalars (sch_object.scalar): an item of
 * @size bytes. */
#define SCH_ITEM(t, sz, ...)	{ .type = (t), .size = (sz), __VA_ARGS__ }

/* The object @var described by the array @var##_fields, named @yaml_name
 * in messages; the trailing arguments set .check, .scalar and the like. */
#define SCH_OBJECT_INIT(yaml_name, fields_, ...)                              \
	{ .name = (yaml_name), .fields = (fields_),                          \
	  .nfields = SCH_NFIELDS(fields_), __VA_ARGS__ }
#define SCH_OBJECT_DEF(var, yaml_name, ...)                                   \
	static const struct sch_object var =                                  \
		SCH_OBJECT_INIT(yaml_name, var##_fields, __VA_ARGS__)

/* Defines check @fn for an object that must not be empty ("needs at least
 * one of ..."): @msg when no field is present. */
#define SCH_CHECK_NOT_EMPTY(fn, msg)                                          \
	static const char *fn(const void *obj)                                \
	{                                                                     \
		return sch_present(obj) ? NULL : (msg);                       \
	}

/* The presence mask of an object (not of a scalar item). */
static inline uint32_t sch_present(const void *obj)
{
	return *(const uint32_t *)obj;
}

static inline bool sch_has(const void *obj, size_t field)
{
	return sch_present(obj) & (1u << field);
}

/* Bytes field @f takes at f->off: SCH_OBJECT up to the end of its last
 * field, SCH_LIST the whole array (its count is elsewhere), SCH_BOOL and
 * SCH_ENUM f->size or 1. */
size_t sch_field_size(const struct sch_field *f);
/* Bytes an object of @s takes up to the end of its last field (at least
 * the presence mask). */
size_t sch_object_size(const struct sch_object *s);
/* An unsigned integer of @size bytes (1, 2, 4 or 8) at @p, unaligned. */
uint64_t sch_get_uint(const void *p, size_t size);
void sch_put_uint(void *p, size_t size, uint64_t v);

/*
 * Resolves the ids records hold: tag sets (SCH_TAGS, refs' tags and
 * labels) and strings (SCH_STRREF), for rendering and for the rules that
 * read them (sch_object.check_strs).  A NULL member, or a NULL result,
 * renders the id as a number.
 */
struct sch_ids {
	const struct mf_tagset *(*tags)(void *arg, uint32_t id);
	/* String @id, NUL-terminated, its length in *@len; or NULL. */
	const char *(*str)(void *arg, uint32_t id, size_t *len);
	void *arg;
};

/* String @id through @ids (*@len its length), or NULL when there is none
 * or it does not resolve. */
static inline const char *sch_str(const struct sch_ids *ids, uint32_t id,
				  size_t *len)
{
	return id && ids && ids->str ? ids->str(ids->arg, id, len) : NULL;
}

/* The pooled form of the @len bytes at @s into @out: every byte past them
 * zero, so equal strings are equal bytes.  Returns 0, or -EINVAL when @s
 * is empty, longer than MF_STRING_MAX or holds a NUL. */
int sch_str_make(struct mf_string *out, const char *s, size_t len);
/* NULL when @v is in the form sch_str_make() gives (a string read back
 * from a map must be before anything prints it), else why not. */
const char *sch_str_check(const struct mf_string *v);

/*
 * Renders @obj (described by @s) as one map through @e: only the fields
 * that are present, in schema order, durations and bandwidths as strings
 * ("10s", "5Mbps"), percentages and decimals as numbers, tags as maps,
 * refs as {kind, name, tags}, pooled strings as strings.  The same walk
 * makes the YAML `apply` reads back and the JSON of `get -o json` and the
 * agent's /config_dump.
 */
void sch_emit(struct emit *e, const struct sch_object *s, const void *obj,
	      const struct sch_ids *t);
/* The same fields, into the map the caller has open. */
void sch_emit_fields(struct emit *e, const struct sch_object *s,
		     const void *obj, const struct sch_ids *t);
/* A targetRef as a map {kind, name, tags}, and a tag set as a map. */
void sch_emit_ref(struct emit *e, const struct mf_ref *r,
		  const struct sch_ids *t);
void sch_emit_tags(struct emit *e, uint32_t id, const struct sch_ids *t);

/*
 * Merges @src over @dst (both described by @s): every field present in
 * @src replaces @dst's, except nested objects, which merge field by field;
 * lists are replaced whole.  This is how Kuma combines the confs of the
 * policies that select the same proxy.
 */
void sch_merge(const struct sch_object *s, void *dst, const void *src);

/* Calls @fn for every SCH_TAGS, SCH_STRREF, SCH_OTLPVAL, SCH_JSONVAL,
 * SCH_REF and SCH_NAME value of
 * @obj (present ones only), for reference checks and for collecting the
 * tag sets and strings to write; @p points at the value (__u32 tag set or
 * string id, struct mf_ref, char[] name). */
typedef void sch_walk_fn(void *arg, const struct sch_field *f, const void *p);
void sch_walk(const struct sch_object *s, const void *obj, sch_walk_fn *fn,
	      void *arg);

/*
 * Checks that @obj's bytes are something the parser could have produced:
 * list counts within max_items, enum values named, flags known, strings
 * NUL-terminated, pooled strings' ids not 0 (whether the pool holds them
 * is for the reader, which has the pool, to check), ref kinds allowed,
 * recursively.  For records read back from the maps, before anything
 * walks or prints them.  Returns NULL, or a static description of the
 * first problem.
 */
const char *sch_check(const struct sch_object *s, const void *obj);

/* Formats @ms as the shortest Go-style duration that says it exactly
 * ("1h", "90s", "1500ms", "0s").  Returns @buf. */
const char *sch_fmt_duration(char *buf, size_t n, uint32_t ms);
/* Parses a Go-style duration ("1m30s", "250ms", "2h"; units h, m, s, ms)
 * into milliseconds.  Returns 0, or -EINVAL (malformed, or a part below a
 * millisecond), -ERANGE (over UINT32_MAX ms). */
int sch_parse_duration(const char *s, uint32_t *ms);

/* Thousandths -> "12.5", "100", "0.001".  Returns @buf. */
const char *sch_fmt_milli(char *buf, size_t n, uint32_t v);
/* "12.5" / "12" -> 12500 / 12000, at most 3 decimals.  Returns 0, -EINVAL
 * or -ERANGE. */
int sch_parse_milli(const char *s, uint32_t *v);

/* Bits/s -> "10kbps", "5Mbps", "1Gbps", "800bps" (largest exact unit,
 * units of 1000).  Returns @buf. */
const char *sch_fmt_bandwidth(char *buf, size_t n, uint64_t bps);
int sch_parse_bandwidth(const char *s, uint64_t *bps);

#endif /* MF_SCHEMA_H */
