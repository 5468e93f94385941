// SPDX-License-Identifier: Apache-2.0
/*
 * The ABI name tables: every value of each enum has one name, names
 * look themselves up, and docs/policy.md lists each table as it is.
 */
#include "harness/test.h"

#include "abi_names.h"

static const struct abi_enum *const tables[] = {
	&abi_authz_action, &abi_authz_match, &abi_mtls_type, &abi_mtls_mode,
	&abi_proto, &abi_ref_kind, &abi_proxy_type, &abi_section, &abi_stat,
};

#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static bool test_names_round_trip(void)
{
	for (size_t t = 0; t < NTABLES; t++) {
		const struct abi_enum *e = tables[t];
		unsigned named = 0;

		for (unsigned v = 0; v < e->count; v++) {
			const char *n = abi_name(e, v);

			if (!n)
				continue;
			named++;
			if (!ASSERT_EQ(abi_value(e, n), (int)v))
				return printf("%s %s\n", e->what, n), false;
		}
		if (!ASSERT_TRUE(named > 0) ||
		    !ASSERT_TRUE(abi_name(e, e->count) == NULL) ||
		    !ASSERT_STREQ(abi_name_or(e, e->count), "?") ||
		    !ASSERT_EQ(abi_value(e, "nope"), -1))
			return false;
	}
	return true;
}

/* Values the code relies on: what a shadow deny and the last counter are
 * called (the bug that printed "unknown" for a shadow deny came from a
 * copy of this table that missed it). */
static bool test_known_values(void)
{
	return ASSERT_STREQ(abi_name(&abi_authz_action,
				     MF_AUTHZ_ALLOW_SHADOW_DENY),
			    "AllowWithShadowDeny") &&
	       ASSERT_STREQ(abi_name(&abi_ref_kind, MF_REF_WORKLOAD),
			    "Dataplane") &&
	       ASSERT_EQ(abi_stat.count, MF_STAT_MAX) &&
	       ASSERT_EQ(abi_ref_kind.count, MF_REF_KIND_MAX) &&
	       ASSERT_TRUE(abi_name(&abi_stat, 0) != NULL);
}

/* docs/policy.md's table row of each enum names its values, in order. */
static bool test_docs_in_step(void)
{
	char *doc = NULL, row[1024];
	size_t cap = 0;
	ssize_t n;
	FILE *f = fopen("docs/policy.md", "r");
	bool ok = true;

	if (!ASSERT_TRUE(f != NULL))
		return false;
	n = getdelim(&doc, &cap, '\0', f);
	fclose(f);
	for (size_t t = 0; ok && t < NTABLES && n > 0; t++) {
		const struct abi_enum *e = tables[t];
		size_t len = 0;

		len += (size_t)snprintf(row + len, sizeof(row) - len, "| %s",
					e->what);
		ok = ASSERT_TRUE(strstr(doc, row) != NULL);
		len = 0;
		row[0] = 0;
		for (unsigned v = 0; v < e->count; v++)
			if (e->names[v])
				len += (size_t)snprintf(row + len,
							sizeof(row) - len,
							"%s`%s`", len ? ", " : "",
							e->names[v]);
		ok = ok && ASSERT_TRUE(strstr(doc, row) != NULL);
		if (!ok)
			printf("docs/policy.md lacks: %s\n", row);
	}
	free(doc);
	return ok && ASSERT_TRUE(n > 0);
}

int main(void)
{
	TEST_MAIN_BEGIN();
	TEST_RUN(test_names_round_trip);
	TEST_RUN(test_known_values);
	TEST_RUN(test_docs_in_step);
	TEST_MAIN_END();
}
