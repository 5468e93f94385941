/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One line of the Prometheus text exposition format 0.0.4, as
 * applications expose their metrics (read by the agent for MeshMetric's
 * `applications`, agent/appscrape.h) and the agent its own (read by
 * mfctl, ctl/agentq.c):
 *
 *   metric_name [ "{" label_name "=" `"` label_value `"` { "," ... } [","] "}" ]
 *               value [ timestamp ]
 *   # HELP ... | # TYPE ... | # any comment | an empty line
 *
 * A pure parser: it points into the line, never copies it.  The agent
 * reads applications' metrics with it; mfctl reads the agent's own.  The contract:
 * promtext_line() returns the kind of the line (>= 0) or -EPROTO for one
 * that is none of these (a bad name, an unterminated or badly escaped
 * label value, a value that is not a float, "NaN" or "[+-]Inf", a
 * timestamp that is not an integer, trailing bytes, a NUL or a control
 * character).
 */
#ifndef MF_PROMTEXT_H
#define MF_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

enum promtext_kind {
	PROMTEXT_BLANK = 0,	/* empty, or blanks only */
	PROMTEXT_COMMENT,	/* '#' first: HELP, TYPE or any other */
	PROMTEXT_SAMPLE,
};

/* A sample line's parts, pointing into the line. */
struct promtext_sample {
	const char *name;
	size_t name_len;
	const char *labels;	/* between the braces, a trailing comma
				 * left out; labels_len 0: none */
	size_t labels_len;
	const char *rest;	/* the value and the timestamp, if any */
	size_t rest_len;
};

/* Parses line @s of @n bytes (no newline; a trailing '\r' is an error).
 * Fills @out for a sample.  Returns enum promtext_kind or -EPROTO. */
int promtext_line(const char *s, size_t n, struct promtext_sample *out);

/* Whether sample @x has a label named @name. */
bool promtext_has_label(const struct promtext_sample *x, const char *name);

/* The value of @x's label @name as written between its quotes (escapes
 * kept) in *@value and *@len; false when @x has no such label. */
bool promtext_label(const struct promtext_sample *x, const char *name,
		    const char **value, size_t *len);

#endif /* MF_PROMTEXT_H */
