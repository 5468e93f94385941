// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target: mfctl's YAML-to-records compiler (parse, validate, compile),
 * the path every `mfctl apply` input takes before anything is written.
 * Any input must end in records or in diagnostics, never in a crash, and
 * an input with no diagnostics must compile.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "../ctl/compile.h"
#include "../ctl/diag.h"
#include "../ctl/doc.h"
#include "../ctl/model.h"
#include "../ctl/records.h"
#include "../ctl/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_set set;
	struct rec_set recs;
	struct diag d;
	int err;

	model_set_init(&set);
	diag_init(&d);
	rec_set_init(&recs);
	err = doc_parse_buffer(&set, "fuzz.yaml", (const char *)data, size, &d);
	if (err && err != -EINVAL && err != -ENOMEM)
		abort();
	/* An input problem must come with a message that says where. */
	if (err == -EINVAL && diag_count(&d) == 0)
		abort();
	if (!err && validate_set(&set, &d) == 0) {
		rec_set_free(&recs);
		err = compile_set(&set, NULL, &recs, &d);
		if (err && err != -ENOSPC && err != -ENOMEM)
			abort();
	}
	rec_set_free(&recs);
	diag_free(&d);
	model_set_free(&set);
	return 0;
}
