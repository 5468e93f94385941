// SPDX-License-Identifier: Apache-2.0
/*
 * The YAML reader on large inputs: over a MiB is parsed in pieces on
 * several threads (lib/policy/ytree.c), and objects and problems must
 * point at the same lines as a whole-input parse; an answer's long
 * sequence is read an item at a time (ytree_parse_items()).
 */
#include "harness/test.h"

#include "policy/doc.h"
#include "policy/ytree.h"

/* The value of key @key in map @n, or NULL. */
static const struct ynode *map_get(const struct ynode *n, const char *key)
{
	for (size_t i = 0; n && n->type == YNODE_MAP && i + 1 < n->nkids; i += 2)
		if (!strcmp(n->kids[i]->str, key))
			return n->kids[i + 1];
	return NULL;
}

/* What an item function saw: each item's "k" (or the scalar itself),
 * joined by commas; it fails with -EIO at item @fail_at (0: never). */
struct seen {
	char got[256];
	size_t n, fail_at;
};

static int seen_item(void *arg, const struct ynode *item)
{
	struct seen *s = arg;
	const struct ynode *k = item->type == YNODE_SCALAR ? item :
				map_get(item, "k");
	size_t len = strlen(s->got);

	if (++s->n == s->fail_at)
		return -EIO;
	snprintf(s->got + len, sizeof(s->got) - len, "%s%s", len ? "," : "",
		 k && k->type == YNODE_SCALAR ? k->str : "?");
	return 0;
}

/* The items of the sequence at the path come one at a time, in order,
 * each whole (nested maps included); the rest of the document, and a
 * sequence of the same name elsewhere, stays in the tree. */
static bool test_items_at_path(void)
{
	static const char *const path[] = { "result", "events", NULL };
	const char *in =
		"{\"other\": {\"events\": [{\"k\": \"no\"}]},"
		" \"result\": {\"header\": {\"revision\": \"7\"},"
		"  \"events\": [{\"k\": \"a\", \"kv\": {\"events\": [1, 2]}},"
		"   \"b\", {\"k\": \"c\"}],"
		"  \"canceled\": true}}";
	const struct ynode *res, *other;
	struct seen seen = { 0 };
	struct ytree t = { 0 };
	struct diag d;
	bool ok;

	diag_init(&d);
	ok = ASSERT_EQ(ytree_parse_items(&t, "answer", in, strlen(in), path,
					 seen_item, &seen, &d), 0) &&
	     ASSERT_STREQ(seen.got, "a,b,c") &&
	     ASSERT_EQ(t.ndocs, 1);
	if (ok) {
		res = map_get(t.docs[0].root, "result");
		other = map_get(map_get(t.docs[0].root, "other"), "events");
		ok = ASSERT_TRUE(map_get(res, "events")) &&
		     ASSERT_EQ(map_get(res, "events")->type, YNODE_SEQ) &&
		     ASSERT_EQ(map_get(res, "events")->nkids, 0) &&
		     ASSERT_STREQ(map_get(map_get(res, "header"), "revision")->str,
				  "7") &&
		     ASSERT_STREQ(map_get(res, "canceled")->str, "true") &&
		     ASSERT_TRUE(other) && ASSERT_EQ(other->nkids, 1);
	}
	ytree_free(&t);
	diag_free(&d);
	return ok;
}

/* The item function's error stops the parse and is returned, with no
 * tree; a syntax error among the items is the parser's, at its line. */
static bool test_items_errors(void)
{
	static const char *const path[] = { "kvs", NULL };
	const char *in = "{\"kvs\": [{\"k\": \"a\"}, {\"k\": \"b\"}, "
			 "{\"k\": \"c\"}]}";
	const char *bad = "{\"kvs\": [{\"k\": \"a\"},\n {\"k\": ]}";
	struct seen seen = { .fail_at = 2 };
	struct ytree t = { 0 };
	struct diag d;
	bool ok;

	diag_init(&d);
	ok = ASSERT_EQ(ytree_parse_items(&t, "answer", in, strlen(in), path,
					 seen_item, &seen, &d), -EIO) &&
	     ASSERT_EQ(seen.n, 2) && ASSERT_STREQ(seen.got, "a") &&
	     ASSERT_EQ(t.ndocs, 0) && ASSERT_EQ(diag_count(&d), 0);
	memset(&seen, 0, sizeof(seen));
	ok = ok &&
	     ASSERT_EQ(ytree_parse_items(&t, "answer", bad, strlen(bad), path,
					 seen_item, &seen, &d), -EINVAL) &&
	     ASSERT_STREQ(seen.got, "a") && ASSERT_EQ(t.ndocs, 0) &&
	     ASSERT_EQ(diag_count(&d), 1) && ASSERT_EQ(d.pos[0].loc.line, 2);
	ytree_free(&t);
	diag_free(&d);
	return ok;
}

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
	TEST_RUN(test_items_at_path);
	TEST_RUN(test_items_errors);
	TEST_MAIN_END();
}
