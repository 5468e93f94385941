/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The policy object model: what a YAML document means once parsed, and what
 * the applied state decompiles back to.  Values here are already checked
 * field by field (doc.c); cross-object rules live in validate.c.
 *
 * Ownership: a model_set owns its objects, each object owns its records
 * and notes, and the set owns the file names its objects' locations point
 * at.
 */
#ifndef CTL_MODEL_H
#define CTL_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "core.h"
#include "kinds.h"
#include "meshforge/abi.h"

#define MODEL_API_MESHFORGE	"meshforge.io/v1alpha1"
#define MODEL_API_KUMA		"kuma.io/v1alpha1"

/* How many kinds have a schema and a map (policy_maps.h). */
#define MODEL_GEN_COUNT MF_KIND_MAP_COUNT

/* In the order `mfctl get` prints them. */
enum model_kind {
	MODEL_MESH = 0,
	MODEL_NODE,
	MODEL_SERVICE,
	MODEL_WORKLOAD,
	MODEL_MTP,		/* MeshTrafficPermission */
	/* kinds_all[k - MODEL_GEN_FIRST]: the schema-driven kinds */
	MODEL_GEN_FIRST,
	MODEL_KIND_MAX = MODEL_GEN_FIRST + MODEL_GEN_COUNT,
};

/* Where a value that validation may point at was written: a reference
 * (SCH_REF, SCH_NAME with refers) or a noted field (sch_field.note) at
 * byte @off of record @rec. */
struct model_ref_loc {
	uint32_t rec;
	uint32_t off;
	struct diag_loc loc;
	const char *path;		/* "spec.to[0].targetRef", from
					 * model_note_path() */
};

/* Longest note path kept; a longer one is cut (its position says the
 * rest). */
#define MODEL_NOTE_PATH_MAX 63

/*
 * @path (cut at MODEL_NOTE_PATH_MAX) as kept for the process, the same
 * pointer for the same path, or NULL on ENOMEM.  A note's path is one of
 * few: the schemas' fields, with list indexes the schemas bound, so each
 * is kept once and notes point at it (inline, they were 64 of a note's 88
 * bytes: 23 MiB of a 111k-object mesh's 37 MiB of notes).  Thread-safe.
 */
const char *model_note_path(const char *path);

/* An object's spec: its records, as the kind's schema describes them
 * (for kinds with a map, as the map holds them, struct mf_pol_key apart:
 * index i is record i, the name is the object's). */
struct model_policy {
	const struct kind_desc *kd;
	uint8_t *recs;			/* owned: n * kd->val_size bytes */
	size_t n;
	struct model_ref_loc *refs;	/* owned; none for applied state */
	size_t nrefs;
};

struct model_obj {
	enum model_kind kind;
	char name[MF_NAME_MAX];
	struct diag_loc loc;		/* the document; file NULL: applied state */
	struct diag_loc name_loc;	/* metadata.name */
	uint32_t labels;		/* metadata.labels: tag set id, 0:
					 * none (metadata.namespace is the
					 * label k8s.kuma.io/namespace) */
	uint32_t annotations;		/* metadata.annotations: the same */
	struct model_policy pol;
};

/* The record of an object of a core kind of the spec form (one record):
 * struct core_mesh, core_node, ... (core.h). */
static inline void *model_spec(const struct model_obj *o)
{
	return o->pol.recs;
}

/* Where field @field (bytes @off into record @rec) of @o was written, if
 * the input said so: a note of the parser, or NULL. */
const struct model_ref_loc *model_note(const struct model_obj *o,
				       size_t rec, size_t off);

/*
 * Values objects of a set refer to by id: tag sets, and strings kept out of
 * line (mf_strings).  Ids are a hash of the content (model_pool_*() in
 * model.c), so the same value has the same id in every set and every
 * apply, and objects compare equal across sets by id.  Values are kept
 * densely in the order they came; @slots finds one by id.
 */
struct model_pool {
	uint8_t *vals;			/* owned: n values of one size */
	uint32_t *ids;			/* owned: the id of each value */
	size_t n, cap;			/* values held, room for */
	uint32_t *slots;		/* owned; open addressing by id:
					 * 1 + index into vals, 0: free */
	size_t nslots;			/* a power of two, or 0 */
};

/* mfctl --validate: what an unknown field is. */
enum model_validate {
	MODEL_VALIDATE_STRICT = 0,	/* an error */
	MODEL_VALIDATE_WARN,		/* dropped, with a warning */
	MODEL_VALIDATE_IGNORE,		/* dropped */
};

/* "strict", "warn" or "ignore" into *@v; -EINVAL for anything else. */
int model_validate_parse(const char *s, enum model_validate *v);

struct model_set {
	struct model_obj *objs;		/* owned */
	size_t n, cap;
	char **files;			/* owned: names objects' locs point at */
	size_t nfiles, files_cap;
	struct model_pool tags;		/* struct mf_tagset */
	struct model_pool strs;		/* struct mf_string */
	/* model_set_sorted()'s last answer, as indexes (owned): valid
	 * while norder == n.  apply sorts one set several times (validate,
	 * compile), and at 100k objects each sort shows. */
	size_t *order;
	size_t norder;
	/* How many objects of each kind: what scans for one kind per
	 * object (a Workload's MeshIdentity, its MeshService) skip when
	 * there are none, which at 100k Workloads is an n^2 avoided. */
	size_t nkind[MODEL_KIND_MAX];
	/* Whose validation the documents read into the set get (kinds.h):
	 * KUMA_2_14, the default, takes Kuma 2.14's shapes and 3.0's. */
	enum kuma_version kuma;
	/* What a field the kind does not have is (docfield.c): an error
	 * (STRICT, the default), or dropped with a warning in @warnings
	 * (WARN) or silently (IGNORE), as kubectl's --validate and Kuma's
	 * universal apply (which drops what its types lack) have it. */
	enum model_validate validate;
	struct diag *warnings;		/* borrowed; NULL: not collected */
};

/* How many objects of @kind @s holds. */
static inline size_t model_set_count(const struct model_set *s,
				     enum model_kind kind)
{
	return s->nkind[kind];
}

void model_set_init(struct model_set *s);
void model_set_free(struct model_set *s);

/* Keeps a copy of @name for the set's lifetime and returns it, or NULL on
 * ENOMEM. */
const char *model_set_file(struct model_set *s, const char *name);

/* The same for a @name the caller knows the set does not hold yet (a
 * store key): no search through the names kept, which for one name per
 * object would make a set of n objects cost n^2 / 2 comparisons. */
const char *model_set_file_new(struct model_set *s, const char *name);

/* Makes room for @n more objects, so a caller that knows the count
 * appends without regrowing.  Returns 0 or -ENOMEM. */
int model_set_reserve(struct model_set *s, size_t n);

/* Appends a zeroed object of @kind and returns it (owned by the set, valid
 * until the next append), or NULL on ENOMEM. */
struct model_obj *model_set_add(struct model_set *s, enum model_kind kind);

/* Appends a deep copy of @o, an object of @from, with the tag sets and
 * strings it refers to (locations keep pointing at @o's file names, so
 * @from must outlive @s, unless they are NULL); a string whose id @s
 * holds for another string takes the id @s gives it, in the copy.
 * Returns 0 or -ENOMEM. */
int model_set_add_copy(struct model_set *s, const struct model_set *from,
		       const struct model_obj *o);

/* Appends @o, an object of @from that is the one object of its input (a
 * store key's value), taking its arrays rather than copying them: @o is
 * left with none, for @from to be freed.  Its tag sets and strings are
 * copied as by model_set_add_copy(), and @s keeps its own copy of the
 * input's name, at which every location of the object points, so that
 * @from may go first.  Returns 0 or -ENOMEM (then @o may be in @s
 * already, pointing at @from's name, or left in @from with its string
 * ids changed: either way both sets are only fit to be freed). */
int model_set_add_move_own(struct model_set *s, const struct model_set *from,
			   struct model_obj *o);

/*
 * Interns tag set @ts (its tags sorted by key, every byte past the content
 * zero) into @s.  Returns its id (> 0), or 0 on ENOMEM.  Two sets with the
 * same content get the same id; on the (rare) collision of two contents'
 * hashes the later one takes the next free id.
 */
uint32_t model_tags_intern(struct model_set *s, const struct mf_tagset *ts);

/* Puts tag set @ts into @s under @id as the maps hold it (decompiling:
 * the id was made by model_tags_intern() at apply time and must stay).
 * Returns 0, -EEXIST when @id holds other content, or -ENOMEM. */
int model_tags_insert(struct model_set *s, uint32_t id,
		      const struct mf_tagset *ts);

/* The tag set @id of @s, or NULL. */
const struct mf_tagset *model_tags_get(const struct model_set *s,
				       uint32_t id);

/*
 * Interns string @str (canonical: sch_str_make()) into @s, as
 * model_tags_intern() does tag sets.  Returns its id (> 0), or 0 on
 * ENOMEM.
 */
uint32_t model_str_intern(struct model_set *s, const struct mf_string *str);

/* Puts string @str into @s under @id, which records refer to it by and
 * which must stay (decompiling, copying between sets).  Returns 0,
 * -EEXIST when @id holds another string, or -ENOMEM. */
int model_str_insert(struct model_set *s, uint32_t id,
		     const struct mf_string *str);

/* The string @id of @s, or NULL. */
const struct mf_string *model_str_get(const struct model_set *s,
				      uint32_t id);

/* What resolves the ids of @s's records for sch_emit() and the rules
 * that read them: its tag sets and strings. */
struct sch_ids model_ids(const struct model_set *s);

/*
 * Makes @s hold the objects at the indexes @pick (@n of them, each index
 * below s->n and at most once), in that order; the others are released.
 * Their names, tags and strings stay in @s's pools (a set rebuilt this
 * way again and again holds more of them than its objects need).
 * Returns 0 or -ENOMEM (@s as it was).
 */
int model_set_pick(struct model_set *s, const size_t *pick, size_t n);

/*
 * Moves every object of @from into @s (room for them reserved by the
 * caller), with the tag sets and strings they refer to; @from keeps no
 * object.  A string whose id @s holds for another string (the two sets
 * hashed different strings to one id) takes the id @s gives it, in the
 * moved records too.  Returns 0 or -ENOMEM.
 */
int model_set_take(struct model_set *s, struct model_set *from);

/* Sorts the tags of @ts by key and zeroes every unused byte, so equal
 * content is equal bytes.  Returns -EINVAL when a key repeats. */
int model_tags_canon(struct mf_tagset *ts);

/* The kind descriptor of @k (NULL out of range). */
const struct kind_desc *model_kind_desc(enum model_kind k);

/* The object of @kind named @name, or NULL. */
struct model_obj *model_set_find(const struct model_set *s,
				 enum model_kind kind, const char *name);

/*
 * Fills @out with pointers to the objects of @s, ordered by kind (enum
 * order) then name, which is the order `get` prints and compile() emits in.
 * @out has room for s->n entries.  The order is remembered until the next
 * append (objects must not be renamed in between).
 */
void model_set_sorted(const struct model_set *s,
		      const struct model_obj **out);

/* The object of @kind named @name among @n objects ordered as
 * model_set_sorted() orders them, or NULL.  O(log n). */
const struct model_obj *model_sorted_find(const struct model_obj **sorted,
					  size_t n, enum model_kind kind,
					  const char *name);

/* For "unknown kind" messages: "want Mesh, Node, ... or <last kind>",
 * from the list of kinds. */
const char *model_kinds_want(void);

/* The kind's name ("Mesh", ... "MeshGatewayRoute"). */
const char *model_kind_name(enum model_kind kind);
/* Exact kind name -> kind, or -1. */
int model_kind_parse(const char *name);

/* The action lists of a MeshTrafficPermission `rules` entry, in the order
 * its rules are compiled and printed (allow, deny, allowWithShadowDeny). */
struct model_rule_list {
	const char *key;
	uint8_t action;			/* enum mf_authz_action */
};
#define MODEL_RULE_LISTS 3
extern const struct model_rule_list model_rule_lists[MODEL_RULE_LISTS];

/* True when both objects say the same thing (locations are ignored). */
bool model_obj_equal(const struct model_obj *a, const struct model_obj *b);

#endif /* CTL_MODEL_H */
