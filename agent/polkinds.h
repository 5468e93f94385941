/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema-driven policy kinds (lib/kinds.h) in an agent snapshot: every
 * record of the half in force, per kind, sorted by (policy name, index),
 * and the tag sets and strings (mf_strings: route paths, header names and
 * values...) they refer to, sorted by id.  Immutable once built; a struct
 * policy owns one.
 *
 * HTTP routes are also indexed by the destination they apply to (the
 * to[].targetRef name; "" for a Mesh-wide entry), so finding the routes of
 * a service is a binary search, O(log n) in the number of route records.
 */
#ifndef MF_POLKINDS_H
#define MF_POLKINDS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emit.h"
#include "policy/kinds.h"
#include "policy/records.h"
#include "meshforge/abi.h"
#include "pmap.h"

struct polkinds;

/*
 * Builds the store from the kinds' maps, the tag sets and the strings of
 * @rs (one policy, as mapio_read() gives it).  Records that fail their
 * schema check (sch_check), strings not in the form apply writes
 * (sch_str_check) and records that refer to a string not there are
 * dropped with a log line, never trusted.  Returns 0 and *out (caller
 * frees with polkinds_free), or -ENOMEM.
 */
int polkinds_build(struct polkinds **out, const struct rec_set *rs);

void polkinds_free(struct polkinds *k);

/* Records of kind @kind (index into kinds_all). */
size_t polkinds_count(const struct polkinds *k, size_t kind);
/* Record @i of kind @kind, in (name, index) order; its key into *key. */
const void *polkinds_record(const struct polkinds *k, size_t kind, size_t i,
			    const struct mf_pol_key **key);

/* The tag set @id, or NULL. */
const struct mf_tagset *polkinds_tags(const struct polkinds *k, uint32_t id);

/*
 * The string @id (a SCH_STRREF value of a record: a route's path, a
 * header's name or value...), NUL-terminated, its length in *@len: ""
 * for 0 (the field is not set), NULL for an id the snapshot lacks (no
 * record it kept refers to one).  Owned by the snapshot.
 */
const char *polkinds_str(const struct polkinds *k, uint32_t id, size_t *len);

/* The compiled form of string @id, a regular expression an HTTP route
 * matches with (kind_regex_compile(): anchored, POSIX extended, no
 * back-references), compiled once when the snapshot was built; NULL when
 * it is not one or did not compile. */
const regex_t *polkinds_regex(const struct polkinds *k, uint32_t id);

/*
 * The HTTP route records whose to[].targetRef names @service (exactly),
 * as a run of record indexes into MeshHTTPRoute's records: *first and the
 * return value (the count).  O(log n).
 */
size_t polkinds_http_routes(const struct polkinds *k, const char *service,
			    const uint32_t **idx);

/*
 * The MeshOpenTelemetryBackend a backendRef @ref selects: the first, in
 * name order, whose metadata.labels hold every label of @ref's (by
 * sel_labels_match()).  NULL: none does.  Owned by the snapshot.
 */
const struct mf_otel_backend *
polkinds_otel_backend(const struct polkinds *k, const struct mf_otel_ref *ref);

/*
 * Renders every record through @e: a map with one member per kind that
 * has records, each a list of records as render_record() shows them, tags
 * and strings resolved.
 */
void polkinds_emit(const struct polkinds *k, struct emit *e);

/* Where a rendering of the records stopped.  Zeroed: at the start. */
struct polkinds_cursor {
	size_t kind;		/* index into kinds_all */
	size_t i;		/* the next record of that kind */
	bool begun;		/* the map is open */
	bool done;		/* ... and closed */
};

/*
 * The same document a record at a time, for a caller that bounds the work
 * of each call (the admin endpoint renders between its sends): writes the
 * next record from @c through @e (opening the map, and a kind's list, as
 * needed) and returns true; once every record is out, closes the map and
 * returns false.  @k and @e must be the same at every call of one cursor.
 */
bool polkinds_emit_next(const struct polkinds *k, struct emit *e,
			struct polkinds_cursor *c);

#endif /* MF_POLKINDS_H */
