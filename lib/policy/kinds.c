// SPDX-License-Identifier: Apache-2.0
#include <string.h>

#include "kinds.h"

#define KINDS_IGNORE(...)
#define KINDS_ENTRY(ID, map, val, max, desc) &desc,

const struct kind_desc *const kinds_all[] = {
	MF_POLICY_MAPS(KINDS_IGNORE, KINDS_ENTRY)
};

const size_t kinds_count = sizeof(kinds_all) / sizeof(kinds_all[0]);

const struct kind_desc *kinds_find(const char *name)
{
	for (size_t i = 0; i < kinds_count; i++)
		if (!strcmp(kinds_all[i]->name, name))
			return kinds_all[i];
	return NULL;
}
