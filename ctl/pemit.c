// SPDX-License-Identifier: Apache-2.0
/* Placeholder until the schema-driven printer lands. */
#include "pemit.h"

void pemit_yaml(FILE *f, const struct model_set *set,
		const struct model_obj *o)
{
	(void)set;
	(void)o;
	fputs("  {}\n", f);
}

void pemit_json(FILE *f, const struct model_set *set,
		const struct model_obj *o)
{
	(void)set;
	(void)o;
	fputs("{}", f);
}

void pemit_tags_yaml(FILE *f, const struct model_set *set, uint32_t id,
		     int indent)
{
	(void)set;
	fprintf(f, "%*s{}: %u\n", indent, "", id);
}

void pemit_tags_json(FILE *f, const struct model_set *set, uint32_t id)
{
	(void)set;
	fprintf(f, "%u", id);
}
