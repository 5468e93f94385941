// SPDX-License-Identifier: Apache-2.0
/* Placeholder until the schema-driven parser lands. */
#include <errno.h>

#include "pdoc.h"

int pdoc_parse(struct doc_ctx *c, struct model_set *set, struct model_obj *o,
	       const struct ynode *spec)
{
	(void)set;
	(void)o;
	doc_err(c, spec, "spec", "kind %s is not supported yet",
		model_kind_name(o->kind));
	return 0;
}

int pdoc_tags(struct doc_ctx *c, struct model_set *set, const struct ynode *v,
	      const char *path, uint32_t *id)
{
	(void)set;
	*id = 0;
	doc_err(c, v, path, "tags are not supported yet");
	return 0;
}
