// SPDX-License-Identifier: Apache-2.0
/*
 * The pooled value form (lib/policy/otlpval.h) as a free-form JSON value
 * holds it: a null is a JSON value's and never an OTLP body's (the agent
 * packs only what otlpv_check() takes); a JSON value's keys are what can
 * be written back as keys; and each value is written as the YAML and the
 * JSON the table says, a double always as a double.
 */
#include "harness/test.h"
#include "emit.h"
#include "policy/otlpval.h"

struct tb {
	char s[512];
	size_t n;
};

static void tb_write(void *arg, const char *buf, size_t n)
{
	struct tb *b = arg;

	if (n > sizeof(b->s) - 1 - b->n)
		n = sizeof(b->s) - 1 - b->n;
	memcpy(b->s + b->n, buf, n);
	b->n += n;
	b->s[b->n] = '\0';
}

/* A null, and keys: what each check takes. */
static bool test_null_and_keys(void)
{
	char key64[80], key63[80];

	snprintf(key64, sizeof(key64), "k1:64:%064ds0:", 0);
	snprintf(key63, sizeof(key63), "k1:63:%063ds0:", 0);
	return ASSERT_EQ(otlpv_check("n", 1, NULL), -EINVAL) &&
	       ASSERT_EQ(otlpv_check("a2:s0:n", 7, NULL), -EINVAL) &&
	       ASSERT_EQ(otlpv_check_json("n", 1), 0) &&
	       ASSERT_EQ(otlpv_check_json("a2:s0:n", 7), 0) &&
	       ASSERT_EQ(otlpv_check_json("nn", 2), -EINVAL) &&
	       /* A body's key may be longer than a key emit writes. */
	       ASSERT_EQ(otlpv_check(key64, strlen(key64), NULL), 0) &&
	       ASSERT_EQ(otlpv_check_json(key64, strlen(key64)), -EINVAL) &&
	       ASSERT_EQ(otlpv_check_json(key63, strlen(key63)), 0) &&
	       ASSERT_EQ(otlpv_check_json("k1:3:a\0bn", 9), -EINVAL) &&
	       ASSERT_EQ(otlpv_check("k1:3:a\0bs0:", 11, NULL), 0);
}

static bool test_emit_json(void)
{
	static const struct {
		const char *form, *yaml, *json;
	} rows[] = {
		{ "k3:1:ad2;1:bn1:ca1:s2:no",
		  "a: 2.0\nb: null\nc:\n  - \"no\"\n",
		  "{\"a\": 2.0, \"b\": null, \"c\": [\"no\"]}" },
		{ "d1e+300;", "1e+300\n", "1e+300" },
		{ "i-9223372036854775808;", "-9223372036854775808\n",
		  "-9223372036854775808" },
		{ "k0:", "{}\n", "{}" },
		/* Not well formed: written as its text. */
		{ "k1:", "\"k1:\"\n", "\"k1:\"" },
	};
	bool ok = true;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct tb y = { .n = 0 }, j = { .n = 0 };
		struct emit e;

		emit_init(&e, EMIT_YAML, tb_write, &y);
		otlpv_emit_json(&e, rows[i].form, strlen(rows[i].form));
		emit_init(&e, EMIT_JSON, tb_write, &j);
		otlpv_emit_json(&e, rows[i].form, strlen(rows[i].form));
		if (!ASSERT_STREQ(y.s, rows[i].yaml) ||
		    !ASSERT_STREQ(j.s, rows[i].json)) {
			fprintf(stderr, "  in case %zu\n", i);
			ok = false;
		}
	}
	return ok;
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_null_and_keys);
	TEST_RUN(test_emit_json);
	TEST_MAIN_END();
}
