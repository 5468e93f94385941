// SPDX-License-Identifier: Apache-2.0
/*
 * The exposition line parser (lib/promtext.c): samples with and without
 * labels and timestamps, their parts exactly; comments and blank lines;
 * each malformation refused; labels and their values found by name.
 */
#include <errno.h>
#include <string.h>

#include "harness/test.h"
#include "promtext.h"

static bool part(const char *p, size_t n, const char *want)
{
	return ASSERT_EQ(n, strlen(want)) && ASSERT_MEMEQ(p, want, n);
}

static bool sample(const char *line, const char *name, const char *labels,
		   const char *rest)
{
	struct promtext_sample x;

	return ASSERT_EQ(promtext_line(line, strlen(line), &x),
			 PROMTEXT_SAMPLE) &&
	       part(x.name, x.name_len, name) &&
	       part(x.labels, x.labels_len, labels) &&
	       part(x.rest, x.rest_len, rest);
}

static bool test_samples(void)
{
	return sample("go_goroutines 12", "go_goroutines", "", "12") &&
	       sample("http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000",
		      "http_requests_total", "method=\"post\",code=\"200\"",
		      "1027 1395066363000") &&
	       sample("x{a=\"b\\\"c\\\\d\\ne\",} +Inf", "x",
		      "a=\"b\\\"c\\\\d\\ne\"", "+Inf") &&
	       sample("x{} NaN", "x", "", "NaN") &&
	       sample("ns:x_y 1e-3 -5", "ns:x_y", "", "1e-3 -5") &&
	       sample("x{a=\"}\"}\t-Inf  ", "x", "a=\"}\"", "-Inf") &&
	       sample("x 1.5\t 7", "x", "", "1.5\t 7");
}

static bool test_other_lines(void)
{
	struct promtext_sample x;

	return ASSERT_EQ(promtext_line("", 0, &x), PROMTEXT_BLANK) &&
	       ASSERT_EQ(promtext_line("  \t", 3, &x), PROMTEXT_BLANK) &&
	       ASSERT_EQ(promtext_line("# TYPE x counter", 16, &x),
			 PROMTEXT_COMMENT) &&
	       ASSERT_EQ(promtext_line("#anything", 9, &x), PROMTEXT_COMMENT);
}

static bool refused(const char *line)
{
	struct promtext_sample x;

	return ASSERT_EQ(promtext_line(line, strlen(line), &x), -EPROTO);
}

static bool test_malformed(void)
{
	struct promtext_sample x;

	return refused("1x 1") && refused("x") && refused("x ") &&
	       refused("x{a=b} 1") && refused("x{a=\"b} 1") &&
	       refused("x{a=\"b\\t\"} 1") && refused("x{=\"b\"} 1") &&
	       refused("x{a=\"b\" c=\"d\"} 1") && refused("x{a=\"b\"}1") &&
	       refused("x nan") && refused("x inf") && refused("x 0x10") &&
	       refused("x 1 2 3") && refused("x 1 1.5") && refused("x 1\r") &&
	       refused("x one") &&
	       ASSERT_EQ(promtext_line("x 1\0002", 5, &x), -EPROTO);
}

static bool test_has_label(void)
{
	static const char line[] = "x{mesh=\"a,b\",workload=\"w\\\"1\"} 1";
	struct promtext_sample x;

	return ASSERT_EQ(promtext_line(line, strlen(line), &x),
			 PROMTEXT_SAMPLE) &&
	       ASSERT_TRUE(promtext_has_label(&x, "mesh")) &&
	       ASSERT_TRUE(promtext_has_label(&x, "workload")) &&
	       ASSERT_FALSE(promtext_has_label(&x, "work")) &&
	       ASSERT_FALSE(promtext_has_label(&x, "b"));
}

static bool test_label_value(void)
{
	static const char line[] =
		"x{mesh=\"a,b\",workload=\"w\\\"1\",empty=\"\"} 1";
	struct promtext_sample x;
	const char *v = NULL;
	size_t n = 0;

	return ASSERT_EQ(promtext_line(line, strlen(line), &x),
			 PROMTEXT_SAMPLE) &&
	       ASSERT_TRUE(promtext_label(&x, "mesh", &v, &n)) &&
	       part(v, n, "a,b") &&
	       ASSERT_TRUE(promtext_label(&x, "workload", &v, &n)) &&
	       part(v, n, "w\\\"1") &&
	       ASSERT_TRUE(promtext_label(&x, "empty", &v, &n)) &&
	       ASSERT_EQ(n, 0) &&
	       ASSERT_FALSE(promtext_label(&x, "a", &v, &n));
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_samples);
	TEST_RUN(test_other_lines);
	TEST_RUN(test_malformed);
	TEST_RUN(test_has_label);
	TEST_RUN(test_label_value);
	TEST_MAIN_END();
}
