// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: the exposition line parser the agent runs on what a
 * MeshMetric application serves (lib/promtext.c).  On any input it must
 * keep its contract (a kind, or -EPROTO), its parts must lie inside the
 * line, and a sample written back as name{labels} rest must parse again
 * to the same parts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Whether @p (@n bytes) lies inside @s (@size bytes). */
static int inside(const char *s, size_t size, const char *p, size_t n)
{
	return !n || (p >= s && p + n <= s + size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct promtext_sample x, y;
	char *line;
	size_t n;
	int k;

	k = promtext_line(s, size, &x);
	if (k != -EPROTO && k != PROMTEXT_BLANK && k != PROMTEXT_COMMENT &&
	    k != PROMTEXT_SAMPLE)
		abort();
	if (k != PROMTEXT_SAMPLE)
		return 0;
	if (!x.name_len || !x.rest_len ||
	    !inside(s, size, x.name, x.name_len) ||
	    !inside(s, size, x.labels, x.labels_len) ||
	    !inside(s, size, x.rest, x.rest_len))
		abort();
	line = malloc(size + 4);
	if (!line)
		return 0;
	n = 0;
	memcpy(line + n, x.name, x.name_len);
	n += x.name_len;
	line[n++] = '{';
	/* A sample without labels has none: NULL, which memcpy() must not
	 * be given even for 0 bytes. */
	if (x.labels_len)
		memcpy(line + n, x.labels, x.labels_len);
	n += x.labels_len;
	line[n++] = '}';
	line[n++] = ' ';
	memcpy(line + n, x.rest, x.rest_len);
	n += x.rest_len;
	if (promtext_line(line, n, &y) != PROMTEXT_SAMPLE ||
	    y.name_len != x.name_len || y.labels_len != x.labels_len ||
	    y.rest_len != x.rest_len ||
	    memcmp(y.name, x.name, x.name_len) ||
	    (x.labels_len && memcmp(y.labels, x.labels, x.labels_len)) ||
	    memcmp(y.rest, x.rest, x.rest_len))
		abort();
	free(line);
	return 0;
}
