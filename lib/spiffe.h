/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SPIFFE IDs: "spiffe://<trust-domain>/<path>".
 * The trust domain is lower-case letters, digits, '.', '-' and '_'.  Path
 * segments are letters, digits, '.', '-' and '_', separated by single '/',
 * never "." or "..", and the path is not empty and has no trailing '/'.
 * Meshforge workload IDs take the form spiffe://<td>/ns/<ns>/sa/<sa>.
 */
#ifndef MF_SPIFFE_H
#define MF_SPIFFE_H

#include <stdbool.h>
#include <stddef.h>

#include "meshforge/abi.h"

struct spiffe_id {
	char trust_domain[MF_NAME_MAX];
	char path[MF_SPIFFE_MAX];	/* starts with '/' */
};

/* Parses @s (NUL-terminated).  Returns 0, or -EINVAL when @s is not a valid
 * SPIFFE ID, -ENAMETOOLONG when it does not fit MF_SPIFFE_MAX. */
int spiffe_parse(const char *s, struct spiffe_id *out);

/* Checks a trust domain name on its own.  Returns 0 or -EINVAL. */
int spiffe_check_trust_domain(const char *td);

/* Like spiffe_parse() for a prefix used by policy: "spiffe://td/" followed
 * by zero or more complete or partial segments.  Returns 0 or -EINVAL. */
int spiffe_check_prefix(const char *s);

/* True when @id (a full SPIFFE ID) belongs to trust domain @td. */
bool spiffe_in_trust_domain(const char *id, const char *td);

/*
 * The file stem under which an identity's certificate and key are kept:
 * the ID without "spiffe://", with every '/' turned into '+'.  '+' cannot
 * appear in a SPIFFE ID, so the mapping is one to one.
 * "spiffe://mesh.local/ns/default/sa/web" -> "mesh.local+ns+default+sa+web".
 * Returns 0, -EINVAL for an invalid ID, -ENAMETOOLONG when @n is too small.
 */
int spiffe_file_stem(const char *id, char *buf, size_t n);

#endif /* MF_SPIFFE_H */
