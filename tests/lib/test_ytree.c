// SPDX-License-Identifier: Apache-2.0
/*
 * The YAML reader on large inputs: over a MiB is parsed in pieces on
 * several threads (lib/policy/ytree.c), and objects and problems must
 * point at the same lines as a whole-input parse.
 */
#include "harness/test.h"

#include "policy/doc.h"

/*
 * @n Service documents of MANY_LINES lines each into a malloc'ed buffer
 * the caller frees; metadata.name of service i is on line MANY_LINES*i+4.
 */
static char *many_services(size_t n, size_t *len)
{
	char *buf = malloc(n * 160 + 1), *p = buf;

	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "---\napiVersion: meshforge.io/v1alpha1\n"
			     "kind: Service\nmetadata: {name: s%zu}\n"
			     "spec: {vip: 10.%zu.%zu.%zu, port: 80}\n"
			     "# padding so the input passes a MiB sooner\n",
			     i, 96 + i / 65536, i / 256 % 256, i % 256);
	*len = (size_t)(p - buf);
	return buf;
}

/* 6 lines per document in many_services(). */
#define MANY_LINES 6

static bool test_parse_in_pieces_keeps_locations(void)
{
	const size_t n = 20000;	/* ~2.4 MiB */
	struct model_set set;
	struct diag d;
	size_t len;
	char *buf = many_services(n, &len), *bad;
	bool ok;

	if (!ASSERT_TRUE(buf) || !ASSERT_TRUE(len > 2u << 20)) {
		free(buf);
		return false;
	}
	diag_init(&d);
	model_set_init(&set);
	ok = ASSERT_EQ(doc_parse_buffer(&set, "big.yaml", buf, len, &d), 0) &&
	     ASSERT_EQ(set.n, n);
	/* Every object where the text has it, pieces or not. */
	for (size_t i = 0; i < set.n && ok; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%zu", i);
		ok = ASSERT_STREQ(set.objs[i].name, name) &&
		     ASSERT_EQ(set.objs[i].name_loc.line,
			       MANY_LINES * i + 4);
	}
	model_set_free(&set);

	/* A syntax error late in the input: reported at its line, and no
	 * object added. */
	bad = strstr(buf + len - 400, "spec: {vip");
	if (ok && ASSERT_TRUE(bad)) {
		size_t line = 1;

		bad[5] = '[';	/* "spec: [vip: ..., port: 80}" */
		for (const char *q = buf; q < bad; q++)
			line += *q == '\n';
		model_set_init(&set);
		ok = ASSERT_EQ(doc_parse_buffer(&set, "big.yaml", buf, len, &d),
			       -EINVAL) &&
		     ASSERT_EQ(diag_count(&d), 1) &&
		     ASSERT_EQ(d.pos[0].loc.line, line + 0) &&
		     ASSERT_EQ(set.n, 0);
		if (!ok)
			diag_print(&d, stderr);
		model_set_free(&set);
	}
	diag_free(&d);
	free(buf);
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_parse_in_pieces_keeps_locations);
	TEST_MAIN_END();
}
